/*
 * test_passes_fusion.c — fusion, multi-output fusion, inference folding
 * (batchnorm-expand, scale-fold) and dot canonicalization: expected kernels
 * and kinds out, values unchanged through the evaluator (which runs a
 * fusion by running its fused computation), and modules left alone.
 */
#include "passes_util.h"

static const HloInstr *root_fusion(const HloModule *m) {
  const HloInstr *r = m->entry->root;
  ck_assert_int_eq(r->op, HLO_OP_FUSION);
  ck_assert(r->called[0]->is_fusion);
  return r;
}

static bool fusion(HloModule *m) { return pass_fusion(m, &pu_capable); }

static int kernels(const HloModule *m) {
  int n = 0;
  for (const HloInstr *in = m->entry->first; in; in = in->next) n += pass_is_kernel(in);
  return n;
}

START_TEST(loop_fusion_of_an_elementwise_chain) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4,5] parameter(0)\n  b = f32[5] parameter(1)\n"
      "  bb = f32[4,5] broadcast(b), dimensions={1}\n  a = f32[4,5] add(x, bb)\n"
      "  t = f32[4,5] tanh(a)\n  c = f32[] constant(0)\n  z = f32[4,5] broadcast(c), dimensions={}\n"
      "  ROOT r = f32[4,5] maximum(t, z)\n}\n",
      fusion, true, 0, 0);
  const HloInstr *f = root_fusion(m);
  ck_assert_int_eq(f->fusion_kind, HLO_FUSION_LOOP);
  ck_assert_int_eq(f->noperands, 2); /* x and b; the scalar constant is inside */
  ck_assert_int_eq(kernels(m), 1);
  hlo_module_free(m);
}
END_TEST

START_TEST(expensive_producers_are_not_recomputed_per_broadcast_element) {
  /* Broadcast along dim 1: exp of a column would run once per row of the
   * consumer, so it stays outside. */
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[100] parameter(0)\n  y = f32[4,100] parameter(1)\n"
      "  e = f32[100] exponential(x)\n  b = f32[4,100] broadcast(e), dimensions={1}\n"
      "  ROOT r = f32[4,100] add(y, b)\n}\n",
      fusion, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "fusion(exponential(x), y)");
  hlo_module_free(m);
  /* Broadcast along the leading dim: codegen evaluates exp once per row,
   * before sweeping the row, so it fuses. */
  m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  y = f32[4,100] parameter(1)\n"
      "  e = f32[4] exponential(x)\n  b = f32[4,100] broadcast(e), dimensions={0}\n"
      "  ROOT r = f32[4,100] add(y, b)\n}\n",
      fusion, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "fusion(x, y)");
  hlo_module_free(m);
}
END_TEST

START_TEST(input_fusion_with_epilogue) {
  HloModule *m = pu_differential(
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[2,8,8,4] parameter(0)\n  c = f32[] constant(0)\n"
      "  sq = f32[2,8,8,4] multiply(x, x)\n"
      "  r = f32[2,4] reduce(sq, c), dimensions={1,2}, to_apply=sum\n"
      "  n = f32[] constant(64)\n  nb = f32[2,4] broadcast(n), dimensions={}\n"
      "  ROOT m = f32[2,4] divide(r, nb)\n}\n",
      fusion, true, 1e-6, 1e-6);
  ck_assert_int_eq(root_fusion(m)->fusion_kind, HLO_FUSION_INPUT);
  ck_assert_int_eq(kernels(m), 1); /* global average pooling: one kernel */
  hlo_module_free(m);
}
END_TEST

START_TEST(output_fusion_of_bias_activation_residual) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4,8] parameter(0)\n  w = f32[8,6] parameter(1)\n"
      "  b = f32[6] parameter(2)\n  res = f32[4,6] parameter(3)\n"
      "  d = f32[4,6] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  bb = f32[4,6] broadcast(b), dimensions={1}\n  a = f32[4,6] add(d, bb)\n"
      "  c = f32[] constant(0)\n  z = f32[4,6] broadcast(c), dimensions={}\n"
      "  relu = f32[4,6] maximum(a, z)\n  ROOT r = f32[4,6] add(relu, res)\n}\n",
      fusion, true, 1e-6, 1e-6);
  ck_assert_int_eq(root_fusion(m)->fusion_kind, HLO_FUSION_OUTPUT);
  ck_assert_int_eq(kernels(m), 1);
  hlo_module_free(m);
}
END_TEST

/* Instructions of every computation of m with opcode op (fused ones too). */
static int count_all(const HloModule *m, HloOpcode op) {
  int n = 0;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *in = c->first; in; in = in->next) n += in->op == op;
  return n;
}

START_TEST(residual_block_computes_each_convolution_once) {
  /* y = relu(conv(x) + b) feeds both the next convolution and the
   * residual add: y is one output fusion, read by the second one. */
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[1,6,6,4] parameter(0)\n"
      "  k1 = f32[3,3,4,4] parameter(1)\n  k2 = f32[3,3,4,4] parameter(2)\n"
      "  b = f32[4] parameter(3)\n"
      "  c1 = f32[1,6,6,4] convolution(x, k1), window={size=3x3 pad=1_1x1_1}, "
      "dim_labels=b01f_01io->b01f\n"
      "  bb = f32[1,6,6,4] broadcast(b), dimensions={3}\n  a1 = f32[1,6,6,4] add(c1, bb)\n"
      "  z = f32[] constant(0)\n  zb = f32[1,6,6,4] broadcast(z), dimensions={}\n"
      "  y = f32[1,6,6,4] maximum(a1, zb)\n"
      "  c2 = f32[1,6,6,4] convolution(y, k2), window={size=3x3 pad=1_1x1_1}, "
      "dim_labels=b01f_01io->b01f\n"
      "  a2 = f32[1,6,6,4] add(c2, y)\n  ROOT r = f32[1,6,6,4] maximum(a2, zb)\n}\n",
      fusion, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 2);
  ck_assert_int_eq(count_all(m, HLO_OP_CONVOLUTION), 2);
  ck_assert_int_eq(root_fusion(m)->fusion_kind, HLO_FUSION_OUTPUT);
  hlo_module_free(m);
}
END_TEST

START_TEST(convolution_keeps_its_epilogue_when_a_reduction_reads_it) {
  /* conv + bias + relu6 is one kernel; the mean reads its result. */
  HloModule *m = pu_differential(
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[1,4,4,3] parameter(0)\n  k = f32[1,1,3,8] parameter(1)\n"
      "  b = f32[8] parameter(2)\n"
      "  c = f32[1,4,4,8] convolution(x, k), window={size=1x1}, dim_labels=b01f_01io->b01f\n"
      "  bb = f32[1,4,4,8] broadcast(b), dimensions={3}\n  a = f32[1,4,4,8] add(c, bb)\n"
      "  z = f32[] constant(0)\n  six = f32[] constant(6)\n"
      "  r6 = f32[1,4,4,8] clamp(z, a, six)\n"
      "  ROOT m = f32[1,8] reduce(r6, z), dimensions={1,2}, to_apply=sum\n}\n",
      fusion, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 2);
  const HloInstr *conv = m->entry->root->operands[0];
  ck_assert_int_eq(conv->op, HLO_OP_FUSION);
  ck_assert_int_eq(conv->fusion_kind, HLO_FUSION_OUTPUT);
  ck_assert_int_eq(conv->called[0]->root->op, HLO_OP_CLAMP);
  hlo_module_free(m);
}
END_TEST

START_TEST(transcendental_epilogue_is_a_loop_kernel_of_its_own) {
  /* dot + bias is one kernel; the tanh GELU after it another, where it
   * vectorizes instead of running once per scalar dot result. */
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4,8] parameter(0)\n  w = f32[8,6] parameter(1)\n"
      "  b = f32[6] parameter(2)\n"
      "  d = f32[4,6] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  bb = f32[4,6] broadcast(b), dimensions={1}\n  a = f32[4,6] add(d, bb)\n"
      "  t = f32[4,6] tanh(a)\n  h = f32[] constant(0.5)\n"
      "  hb = f32[4,6] broadcast(h), dimensions={}\n  o = f32[] constant(1)\n"
      "  ob = f32[4,6] broadcast(o), dimensions={}\n  u = f32[4,6] add(t, ob)\n"
      "  v = f32[4,6] multiply(a, u)\n  ROOT g = f32[4,6] multiply(v, hb)\n}\n",
      fusion, true, 1e-6, 1e-6);
  ck_assert_int_eq(kernels(m), 2);
  ck_assert_int_eq(root_fusion(m)->fusion_kind, HLO_FUSION_LOOP);
  ck_assert_int_eq(m->entry->root->operands[0]->fusion_kind, HLO_FUSION_OUTPUT);
  hlo_module_free(m);
}
END_TEST

START_TEST(layer_norm_is_one_row_kernel) {
  /* mean, variance and the normalisation: each row is reduced twice, then
   * swept; the kernel's root has the input's shape. */
  HloModule *m = pu_differential(
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[3,7] parameter(0)\n  g = f32[7] parameter(1)\n"
      "  z = f32[] constant(0)\n  n = f32[3] constant({7, 7, 7})\n"
      "  s = f32[3] reduce(x, z), dimensions={1}, to_apply=sum\n  mean = f32[3] divide(s, n)\n"
      "  mb = f32[3,7] broadcast(mean), dimensions={0}\n  d = f32[3,7] subtract(x, mb)\n"
      "  sq = f32[3,7] multiply(d, d)\n  v = f32[3] reduce(sq, z), dimensions={1}, to_apply=sum\n"
      "  var = f32[3] divide(v, n)\n  eps = f32[] constant(1e-5)\n"
      "  eb = f32[3] broadcast(eps), dimensions={}\n  ve = f32[3] add(var, eb)\n"
      "  rs = f32[3] rsqrt(ve)\n  rb = f32[3,7] broadcast(rs), dimensions={0}\n"
      "  gb = f32[3,7] broadcast(g), dimensions={1}\n  y = f32[3,7] multiply(d, rb)\n"
      "  ROOT o = f32[3,7] multiply(y, gb)\n}\n",
      fusion, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 1);
  ck_assert_int_eq(root_fusion(m)->fusion_kind, HLO_FUSION_INPUT);
  hlo_module_free(m);
}
END_TEST

/* Fusion under the conservative policy: a backend that computes nothing
 * once per row. */
static bool fusion_conservative(HloModule *m) { return pass_fusion(m, NULL); }

START_TEST(the_backend_policy_decides) {
  /* Layer norm is one kernel only where the backend hoists row values;
   * else each row reduction read below a broadcast is a kernel of its own
   * (it would be recomputed for every element). */
  const char *ln =
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[3,7] parameter(0)\n  z = f32[] constant(0)\n"
      "  s = f32[3] reduce(x, z), dimensions={1}, to_apply=sum\n  r = f32[3] rsqrt(s)\n"
      "  rb = f32[3,7] broadcast(r), dimensions={0}\n  ROOT y = f32[3,7] multiply(x, rb)\n}\n";
  HloModule *m = pu_differential(ln, fusion, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 1);
  hlo_module_free(m);
  m = pu_differential(ln, fusion_conservative, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 2);
  hlo_module_free(m);
  /* The GELU epilogue joins its dense layer only where contraction
   * outputs come as vectors (not today's CPU backend). */
  const char *gelu =
      "HloModule m\nENTRY e {\n  x = f32[4,8] parameter(0)\n  w = f32[8,6] parameter(1)\n"
      "  d = f32[4,6] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  ROOT t = f32[4,6] tanh(d)\n}\n";
  m = pu_differential(gelu, fusion, false, 1e-6, 1e-6);
  ck_assert_int_eq(kernels(m), 2);
  hlo_module_free(m);
  m = pu_differential(gelu, fusion_conservative, true, 1e-6, 1e-6);
  ck_assert_int_eq(kernels(m), 1);
  hlo_module_free(m);
}
END_TEST

START_TEST(reductions_read_through_a_column_broadcast_stay_apart) {
  /* Centering columns: the column mean would be recomputed per element
   * below a broadcast along dim 0, so it is its own kernel. */
  HloModule *m = pu_differential(
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[5,3] parameter(0)\n  z = f32[] constant(0)\n"
      "  s = f32[3] reduce(x, z), dimensions={0}, to_apply=sum\n"
      "  sb = f32[5,3] broadcast(s), dimensions={1}\n  ROOT d = f32[5,3] subtract(x, sb)\n}\n",
      fusion, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 2);
  ck_assert_str_eq(pu_root(m), "fusion(reduce(x, constant), x)");
  hlo_module_free(m);
}
END_TEST

START_TEST(fusion_nothing_to_do) {
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4,8] parameter(0)\n  w = f32[8,6] parameter(1)\n"
      "  ROOT d = f32[4,6] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n",
      fusion, false, 0, 0));
}
END_TEST

static bool fuse_all(HloModule *m) {
  bool a = pass_fusion(m, &pu_capable);
  bool b = pass_multi_output_fusion(m, &pu_capable);
  pass_dce(m);
  return a || b;
}

START_TEST(multi_output_fusion_of_siblings_and_of_producer_into_reduce) {
  /* Mean and mean of squares of one input: one kernel, two results. */
  HloModule *m = pu_differential(
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[3,7] parameter(0)\n  c = f32[] constant(0)\n"
      "  n = f32[3,7] negate(x)\n  s1 = f32[3] reduce(n, c), dimensions={1}, to_apply=sum\n"
      "  sq = f32[3,7] multiply(x, x)\n  s2 = f32[3] reduce(sq, c), dimensions={1}, to_apply=sum\n"
      "  ROOT t = (f32[3], f32[3]) tuple(s1, s2)\n}\n",
      fuse_all, true, 1e-6, 1e-6);
  ck_assert_int_eq(kernels(m), 1);
  hlo_module_free(m);
  /* Softmax: one row kernel — max, then exp summed, then the sweep. */
  m = pu_differential(
      "HloModule m\nmx { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] maximum(a, b) }\n"
      "sum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[4,10] parameter(0)\n  ninf = f32[] constant(-inf)\n  z = f32[] constant(0)\n"
      "  m = f32[4] reduce(x, ninf), dimensions={1}, to_apply=mx\n"
      "  mb = f32[4,10] broadcast(m), dimensions={0}\n  d = f32[4,10] subtract(x, mb)\n"
      "  e = f32[4,10] exponential(d)\n  s = f32[4] reduce(e, z), dimensions={1}, to_apply=sum\n"
      "  sb = f32[4,10] broadcast(s), dimensions={0}\n  ROOT r = f32[4,10] divide(e, sb)\n}\n",
      fuse_all, true, 1e-6, 1e-6);
  ck_assert_int_eq(kernels(m), 1);
  ck_assert_int_eq(root_fusion(m)->fusion_kind, HLO_FUSION_INPUT);
  hlo_module_free(m);
  /* An exp that a dot also reads is materialized, and its row sums are
   * computed in the same kernel, which writes both. */
  m = pu_differential(
      "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
      "ENTRY e {\n  x = f32[4,10] parameter(0)\n  w = f32[10,3] parameter(1)\n"
      "  z = f32[] constant(0)\n  e = f32[4,10] exponential(x)\n"
      "  s = f32[4] reduce(e, z), dimensions={1}, to_apply=sum\n"
      "  d = f32[4,3] dot(e, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  ROOT t = (f32[4], f32[4,3]) tuple(s, d)\n}\n",
      fuse_all, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 2);
  hlo_module_free(m);
  /* Siblings that read different slices of one operand share no reads. */
  m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[2,8] parameter(0)\n  w = f32[4,4] parameter(1)\n"
      "  a = f32[2,4] slice(x), slice={[0:2], [0:4]}\n  b = f32[2,4] slice(x), slice={[0:2], [4:8]}\n"
      "  na = f32[2,4] negate(a)\n  nb = f32[2,4] negate(b)\n"
      "  da = f32[2,4] dot(na, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  db = f32[2,4] dot(nb, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  ROOT t = (f32[2,4], f32[2,4]) tuple(da, db)\n}\n",
      fuse_all, true, 1e-5, 1e-5);
  ck_assert_int_eq(kernels(m), 4);
  hlo_module_free(m);
}
END_TEST

/* Three shapes of module that grow with n: n siblings reading one
 * operand (all merge); n levels of two siblings, each level reading the
 * last one's dot (the pairs merge; a search for a path between the two of
 * a pair must not walk the levels below); n levels of a loop kernel that
 * a dot and a row reduction read (the reduction writes it), the dot being
 * the next level's input. */
static char *growing_module(int shape, int n) {
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule m\nsum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n"
                     " ROOT s = f32[] add(a, b) }\nENTRY e {\n  x0 = f32[8,8] parameter(0)\n"
                     "  w = f32[8,8] parameter(1)\n  z = f32[] constant(0)\n");
  for (int i = 0; i < n; i++) {
    if (shape == 0) {
      hlo_str_printf(&s, "  c%d = f32[] constant(%d)\n  b%d = f32[8,8] broadcast(c%d), dimensions={}\n"
                         "  m%d = f32[8,8] multiply(x0, b%d)\n  x%d = f32[8,8] exponential(m%d)\n",
                     i, i + 1, i, i, i, i, i + 1, i);
    } else if (shape == 1) {
      hlo_str_printf(&s, "  e%d = f32[8,8] exponential(x%d)\n  g%d = f32[8,8] negate(x%d)\n"
                         "  x%d = f32[8,8] dot(e%d, g%d), lhs_contracting_dims={1}, "
                         "rhs_contracting_dims={0}\n",
                     i, i, i, i, i + 1, i, i);
    } else {
      hlo_str_printf(&s, "  e%d = f32[8,8] exponential(x%d)\n"
                         "  s%d = f32[8] reduce(e%d, z), dimensions={1}, to_apply=sum\n"
                         "  x%d = f32[8,8] dot(e%d, w), lhs_contracting_dims={1}, "
                         "rhs_contracting_dims={0}\n",
                     i, i, i, i, i + 1, i);
    }
  }
  if (shape == 0) {
    hlo_str_printf(&s, "  ROOT t = (");
    for (int i = 1; i <= n; i++) hlo_str_printf(&s, "%sf32[8,8]", i > 1 ? ", " : "");
    hlo_str_printf(&s, ") tuple(");
    for (int i = 1; i <= n; i++) hlo_str_printf(&s, "%sx%d", i > 1 ? ", " : "", i);
    hlo_str_printf(&s, ")\n}\n");
  } else if (shape == 1) {
    hlo_str_printf(&s, "  ROOT r = f32[8,8] negate(x%d)\n}\n", n);
  } else {
    hlo_str_printf(&s, "  ROOT t = (f32[8,8]");
    for (int i = 0; i < n; i++) hlo_str_printf(&s, ", f32[8]");
    hlo_str_printf(&s, ") tuple(x%d", n);
    for (int i = 0; i < n; i++) hlo_str_printf(&s, ", s%d", i);
    hlo_str_printf(&s, ")\n}\n");
  }
  return s.buf;
}

static int64_t mof_work;

static bool fuse_all_counted(HloModule *m) {
  bool a = pass_fusion(m, &pu_capable);
  bool b = pass_multi_output_fusion_counted(m, &pu_capable, &mof_work);
  pass_dce(m);
  return a || b;
}

START_TEST(multi_output_fusion_work_grows_linearly) {
  for (int shape = 0; shape < 3; shape++) {
    char *text = growing_module(shape, 6);
    hlo_module_free(pu_differential(text, fuse_all_counted, true, 1e-4, 1e-4));
    free(text);
    int64_t last = 0;
    for (int n = 32; n <= 512; n *= 2) {
      text = growing_module(shape, n);
      HloModule *m = ck_parse_verified(text);
      free(text);
      mof_work = 0;
      ck_assert(pu_run(m, fuse_all_counted));
      /* One kernel in all, or a merged pair and a dot per level. */
      ck_assert_int_eq(kernels(m), shape == 0 ? 1 : 2 * n);
      /* Twice the module, at most a little over twice the work. */
      if (last) ck_assert_msg(mof_work <= last * 9 / 4, "shape %d: n=%d: work %lld after %lld",
                              shape, n, (long long)mof_work, (long long)last);
      last = mof_work;
      hlo_module_free(m);
    }
  }
}
END_TEST

START_TEST(batch_norm_folds_into_convolution_weights) {
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[1,5,5,2] parameter(0)\n"
      "  k = f32[3,3,2,3] constant({{{{1,2,3},{4,5,6}},{{1,0,1},{0,1,0}},{{2,1,2},{1,2,1}}},"
      "{{{1,1,1},{2,2,2}},{{3,1,3},{1,3,1}},{{0,0,1},{1,0,0}}},"
      "{{{1,2,1},{2,1,2}},{{1,1,0},{0,1,1}},{{2,2,2},{1,1,1}}}})\n"
      "  c = f32[1,3,3,3] convolution(x, k), window={size=3x3}, dim_labels=b01f_01io->b01f\n"
      "  scale = f32[3] constant({1.5, 0.5, 2})\n  offset = f32[3] constant({0.1, -0.2, 0.3})\n"
      "  mean = f32[3] constant({1, 2, 3})\n  var = f32[3] constant({4, 1, 0.25})\n"
      "  ROOT bn = f32[1,3,3,3] batch-norm-inference(c, scale, offset, mean, var), "
      "epsilon=0.001, feature_index=3\n}\n");
  char *text = hlo_module_to_string(m);
  hlo_module_free(m);
  HloModule *r = pu_differential(text, (PassFn)pass_batchnorm_expand, true, 1e-4, 1e-4);
  free(text);
  /* The simplify group then leaves conv(x, k') + broadcast(shift). */
  for (int i = 0; i < 8; i++) {
    bool any = pass_scale_fold(r) | pass_algsimp(r) | pass_constant_fold(r) | pass_cse(r) |
               pass_dce(r);
    ck_assert(!hlo_verify(r));
    if (!any) break;
  }
  ck_assert_str_eq(pu_root(r), "add(convolution(x, constant), broadcast(constant))");
  hlo_module_free(r);
}
END_TEST

START_TEST(scale_folds_into_dot_weights) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[2,3] parameter(0)\n"
      "  w = f32[3,2] constant({{1,2},{3,4},{5,6}})\n"
      "  d = f32[2,2] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  s = f32[2] constant({0.5, 3})\n  sb = f32[2,2] broadcast(s), dimensions={1}\n"
      "  ROOT r = f32[2,2] multiply(d, sb)\n}\n",
      pass_scale_fold, true, 1e-6, 1e-6);
  ck_assert_str_eq(pu_root(m), "dot(x, constant)");
  hlo_module_free(m);
}
END_TEST

/* The constant named `name` in m's entry. */
static HloInstr *named_constant(HloModule *m, const char *name) {
  for (HloInstr *x = m->entry->first; x; x = x->next)
    if (x->op == HLO_OP_CONSTANT && !strcmp(x->name, name)) return x;
  ck_abort_msg("no constant %s", name);
  return NULL;
}

/* The weights the folded convolution reads. */
static const HloInstr *conv_weights(const HloModule *m) {
  for (const HloInstr *x = m->entry->first; x; x = x->next)
    if (x->op == HLO_OP_CONVOLUTION && x->nusers) return x->operands[1];
  ck_abort_msg("no convolution");
  return NULL;
}

static const char scaled_conv[] =
    "HloModule m\nENTRY e {\n  x = f32[1,4,4,2] parameter(0)\n"
    "  w = f32[2,2,2,3] constant({{{{1,2,3},{4,5,6}},{{1,0,1},{0,1,0}}},"
    "{{{2,1,2},{1,2,1}},{{3,1,3},{1,3,1}}}})\n"
    "  c = f32[1,3,3,3] convolution(x, w), window={size=2x2}, dim_labels=b01f_01io->b01f\n"
    "  s = f32[3] constant({1.5, 0.5, 2})\n  sb = f32[1,3,3,3] broadcast(s), dimensions={3}\n"
    "  r = f32[1,3,3,3] multiply(c, sb)\n";

START_TEST(scale_fold_scales_sole_weights_in_place) {
  /* The weights have no other reader: their bytes are scaled where they
   * are (a model's weights are not held twice). */
  HloStr text = {0};
  hlo_str_printf(&text, "%s  ROOT t = (f32[1,3,3,3]) tuple(r)\n}\n", scaled_conv);
  HloModule *m = ck_parse_verified(text.buf);
  const void *bytes = named_constant(m, "w")->literal->data;
  pu_differential_on(m, pass_scale_fold, true, 1e-6, 1e-6);
  ck_assert_ptr_eq(conv_weights(m)->literal->data, bytes);
  hlo_module_free(m);
  free(text.buf);
}
END_TEST

START_TEST(scale_fold_copies_shared_weights) {
  /* Another constant holds the same bytes (as a clone's literal would):
   * it must keep reading the unscaled weights. */
  HloStr text = {0};
  hlo_str_printf(&text,
                 "%s  z = f32[2,2,2,3] constant({{{{0,0,0},{0,0,0}},{{0,0,0},{0,0,0}}},"
                 "{{{0,0,0},{0,0,0}},{{0,0,0},{0,0,0}}}})\n"
                 "  ROOT t = (f32[1,3,3,3], f32[2,2,2,3]) tuple(r, z)\n}\n",
                 scaled_conv);
  HloModule *m = ck_parse_verified(text.buf);
  HloInstr *w = named_constant(m, "w");
  named_constant(m, "z")->literal = w->literal;
  pu_differential_on(m, pass_scale_fold, true, 1e-6, 1e-6);
  ck_assert_ptr_ne(conv_weights(m)->literal->data, w->literal->data);
  hlo_module_free(m);
  free(text.buf);
}
END_TEST

START_TEST(scale_fold_copies_weights_read_twice) {
  /* Two dots read w, each scaled its own way: neither may scale w's bytes. */
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[2,3] parameter(0)\n"
      "  w = f32[3,2] constant({{1,2},{3,4},{5,6}})\n"
      "  d = f32[2,2] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  e = f32[2,2] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  s = f32[2] constant({0.5, 3})\n  sb = f32[2,2] broadcast(s), dimensions={1}\n"
      "  u = f32[2] constant({7, -2})\n  ub = f32[2,2] broadcast(u), dimensions={1}\n"
      "  p = f32[2,2] multiply(d, sb)\n  q = f32[2,2] multiply(e, ub)\n"
      "  ROOT r = (f32[2,2], f32[2,2]) tuple(p, q)\n}\n",
      pass_scale_fold, true, 1e-6, 1e-6));
}
END_TEST

START_TEST(scale_fold_nothing_to_do) {
  /* The weights are a parameter: nothing to fold into. */
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[2,3] parameter(0)\n  w = f32[3,2] parameter(1)\n"
      "  d = f32[2,2] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  s = f32[2] constant({0.5, 3})\n  sb = f32[2,2] broadcast(s), dimensions={1}\n"
      "  ROOT r = f32[2,2] multiply(d, sb)\n}\n",
      pass_scale_fold, false, 0, 0));
}
END_TEST

START_TEST(dots_become_batch_m_k_times_batch_k_n) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  a = f32[3,2,4,5] parameter(0)\n  b = f32[2,5,6,3] parameter(1)\n"
      "  ROOT d = f32[2,4,6] dot(a, b), lhs_batch_dims={1}, lhs_contracting_dims={0,3}, "
      "rhs_batch_dims={0}, rhs_contracting_dims={3,1}\n}\n",
      pass_dot_canonicalize, true, 1e-5, 1e-5);
  /* [B,M,N] is already the result's shape: no reshape back. */
  const HloInstr *dot = m->entry->root;
  ck_assert_int_eq(dot->op, HLO_OP_DOT);
  ck_assert_int_eq(dot->operands[0]->shape.rank, 3);
  ck_assert_int_eq(dot->operands[0]->shape.dims[1], 4);  /* M */
  ck_assert_int_eq(dot->operands[0]->shape.dims[2], 15); /* K = 3*5 */
  ck_assert_int_eq(dot->operands[1]->shape.dims[2], 6);  /* N */
  hlo_module_free(m);
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  a = f32[2,4,5] parameter(0)\n  b = f32[2,5,6] parameter(1)\n"
      "  ROOT d = f32[2,4,6] dot(a, b), lhs_batch_dims={0}, lhs_contracting_dims={2}, "
      "rhs_batch_dims={0}, rhs_contracting_dims={1}\n}\n",
      pass_dot_canonicalize, false, 0, 0));
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_fusion");
  TCase *t = tcase_create("fusion");
  tcase_add_test(t, loop_fusion_of_an_elementwise_chain);
  tcase_add_test(t, expensive_producers_are_not_recomputed_per_broadcast_element);
  tcase_add_test(t, input_fusion_with_epilogue);
  tcase_add_test(t, output_fusion_of_bias_activation_residual);
  tcase_add_test(t, residual_block_computes_each_convolution_once);
  tcase_add_test(t, convolution_keeps_its_epilogue_when_a_reduction_reads_it);
  tcase_add_test(t, transcendental_epilogue_is_a_loop_kernel_of_its_own);
  tcase_add_test(t, layer_norm_is_one_row_kernel);
  tcase_add_test(t, reductions_read_through_a_column_broadcast_stay_apart);
  tcase_add_test(t, the_backend_policy_decides);
  tcase_add_test(t, fusion_nothing_to_do);
  tcase_add_test(t, multi_output_fusion_of_siblings_and_of_producer_into_reduce);
  tcase_add_test(t, multi_output_fusion_work_grows_linearly);
  tcase_add_test(t, batch_norm_folds_into_convolution_weights);
  tcase_add_test(t, scale_folds_into_dot_weights);
  tcase_add_test(t, scale_fold_nothing_to_do);
  tcase_add_test(t, scale_fold_scales_sole_weights_in_place);
  tcase_add_test(t, scale_fold_copies_shared_weights);
  tcase_add_test(t, scale_fold_copies_weights_read_twice);
  tcase_add_test(t, dots_become_batch_m_k_times_batch_k_n);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
