/*
 * test_codegen_fused.c — kernels as the pass pipeline shapes them: each
 * module runs through pass_run_pipeline, is compiled with the buffer plan
 * and run through the JIT, and its results are compared with the
 * evaluator's on the original module (random arguments, test_codegen_util.h).
 *
 * The cases are the kernel shapes codegen/kernel.c emits specially: row
 * kernels (a reduction hoisted out of the sweep of its row, two chained
 * reductions, a reduction nested in another's operand, several reduced
 * trailing dims), a value parked in the output between the passes over a
 * row (softmax's exp), a producer parked in its own output by the
 * reduction that consumes it (multi-output fusion), outputs of different
 * ranks in one nest, output fusions of a contraction, and kernels writing
 * over their operand's buffer.  Each also states how many kernels the
 * pipeline must leave, so a fusion regression shows here as well as in
 * speed.
 */
#include "passes.h"
#include "test_codegen_util.h"

#define SUM "sum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
#define MAX "mx { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] maximum(a, b) }\n"

/* Evaluates text, optimizes it, compiles it and compares; the optimized
 * module must have `kernels` kernels, and in-place reuses when asked. */
static void check_fused(const char *text, int kernels, bool in_place, double atol, double rtol) {
  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  HloLiteral *args[16];
  uint64_t s = 0x5EED;
  for (int i = 0; i < entry->nparams; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    cgt_fill(args[i], &s);
  }
  HloLiteral *want = ck_evaluate(m, args, entry->nparams);
  HloError *e = cgt_optimize(m);
  ck_assert_msg(!e, "pipeline: %s", hlo_error_message(e));
  PassPolicy policy = cgt_policy();
  PassStats st;
  ck_assert(!pass_stats(m, &policy, &st));
  ck_assert_msg(st.kernels == kernels, "%lld kernels, want %d:\n%s", (long long)st.kernels,
                kernels, hlo_module_to_string(m));
  PassBufferPlan plan;
  ck_assert(!pass_assign_buffers(m, &policy, &plan));
  ck_assert_msg((plan.inplace_reuses > 0) == in_place, "%lld in-place reuses",
                (long long)plan.inplace_reuses);
  pass_buffer_plan_free(&plan);
  CgJit *j = cgt_jit(m, "t");
  cgt_compare(j, args, entry->nparams, want, atol, rtol);
  cg_jit_free(j);
  hlo_literal_free(want);
  for (int i = 0; i < entry->nparams; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
}

START_TEST(softmax_is_one_row_kernel) {
  /* max, then exp summed (and parked in the output), then the sweep. */
  check_fused("HloModule m\n" MAX SUM
              "ENTRY e {\n  x = f32[5,33] parameter(0)\n  ninf = f32[] constant(-inf)\n"
              "  z = f32[] constant(0)\n"
              "  m = f32[5] reduce(x, ninf), dimensions={1}, to_apply=mx\n"
              "  mb = f32[5,33] broadcast(m), dimensions={0}\n  d = f32[5,33] subtract(x, mb)\n"
              "  e = f32[5,33] exponential(d)\n  s = f32[5] reduce(e, z), dimensions={1}, to_apply=sum\n"
              "  sb = f32[5,33] broadcast(s), dimensions={0}\n  ROOT r = f32[5,33] divide(e, sb)\n}\n",
              1, false, 1e-6, 1e-5);
}
END_TEST

START_TEST(layer_norm_reduces_each_row_twice_then_sweeps) {
  /* Rows of a rank-3 input, normalised over the two trailing dims. */
  check_fused("HloModule m\n" SUM
              "ENTRY e {\n  x = f32[3,4,6] parameter(0)\n  g = f32[6] parameter(1)\n"
              "  z = f32[] constant(0)\n  n = f32[] constant(24)\n  nb = f32[3] broadcast(n), dimensions={}\n"
              "  s = f32[3] reduce(x, z), dimensions={1,2}, to_apply=sum\n  mean = f32[3] divide(s, nb)\n"
              "  mb = f32[3,4,6] broadcast(mean), dimensions={0}\n  d = f32[3,4,6] subtract(x, mb)\n"
              "  sq = f32[3,4,6] multiply(d, d)\n  v = f32[3] reduce(sq, z), dimensions={1,2}, to_apply=sum\n"
              "  var = f32[3] divide(v, nb)\n  eps = f32[] constant(1e-5)\n"
              "  eb = f32[3] broadcast(eps), dimensions={}\n  ve = f32[3] add(var, eb)\n"
              "  rs = f32[3] rsqrt(ve)\n"
              "  rb = f32[3,4,6] broadcast(rs), dimensions={0}\n"
              "  gb = f32[3,4,6] broadcast(g), dimensions={2}\n"
              "  y = f32[3,4,6] multiply(d, rb)\n  ROOT o = f32[3,4,6] multiply(y, gb)\n}\n",
              1, false, 1e-5, 1e-4);
}
END_TEST

START_TEST(reduction_nested_in_a_reduction) {
  /* The variance alone: the mean is computed once per row, before the
   * variance's own loop, not in each of its iterations. */
  check_fused("HloModule m\n" SUM
              "ENTRY e {\n  x = f32[6,40] parameter(0)\n  z = f32[] constant(0)\n"
              "  s = f32[6] reduce(x, z), dimensions={1}, to_apply=sum\n"
              "  c = f32[] constant(0.025)\n  cb = f32[6] broadcast(c), dimensions={}\n"
              "  mean = f32[6] multiply(s, cb)\n"
              "  mb = f32[6,40] broadcast(mean), dimensions={0}\n  d = f32[6,40] subtract(x, mb)\n"
              "  sq = f32[6,40] multiply(d, d)\n"
              "  ROOT v = f32[6] reduce(sq, z), dimensions={1}, to_apply=sum\n}\n",
              1, false, 1e-4, 1e-5);
}
END_TEST

START_TEST(producer_parked_in_its_own_output) {
  /* exp is also read by a dot, so it is an output; the row sums are
   * computed in the kernel that writes it, as it writes it. */
  check_fused("HloModule m\n" SUM
              "ENTRY e {\n  x = f32[4,10] parameter(0)\n  w = f32[10,3] parameter(1)\n"
              "  z = f32[] constant(0)\n  e = f32[4,10] exponential(x)\n"
              "  s = f32[4] reduce(e, z), dimensions={1}, to_apply=sum\n"
              "  d = f32[4,3] dot(e, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
              "  ROOT t = (f32[4], f32[4,3]) tuple(s, d)\n}\n",
              2, false, 1e-5, 1e-4);
}
END_TEST

START_TEST(sibling_reductions_share_a_nest) {
  check_fused("HloModule m\n" SUM MAX
              "ENTRY e {\n  x = f32[3,7] parameter(0)\n  z = f32[] constant(0)\n"
              "  ninf = f32[] constant(-inf)\n"
              "  s1 = f32[3] reduce(x, z), dimensions={1}, to_apply=sum\n"
              "  s2 = f32[3] reduce(x, ninf), dimensions={1}, to_apply=mx\n"
              "  ROOT t = (f32[3], f32[3]) tuple(s1, s2)\n}\n",
              1, false, 1e-5, 1e-5);
}
END_TEST

START_TEST(column_reductions_are_kernels_of_their_own) {
  check_fused("HloModule m\n" SUM
              "ENTRY e {\n  x = f32[5,3] parameter(0)\n  z = f32[] constant(0)\n"
              "  s = f32[3] reduce(x, z), dimensions={0}, to_apply=sum\n"
              "  sb = f32[5,3] broadcast(s), dimensions={1}\n  ROOT d = f32[5,3] subtract(x, sb)\n}\n",
              2, false, 1e-5, 1e-5);
}
END_TEST

START_TEST(convolution_with_bias_relu6_and_residual) {
  check_fused("HloModule m\n"
              "ENTRY e {\n  x = f32[1,5,5,3] parameter(0)\n  k = f32[3,3,3,3] parameter(1)\n"
              "  b = f32[3] parameter(2)\n  res = f32[1,5,5,3] parameter(3)\n"
              "  c = f32[1,5,5,3] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
              "dim_labels=b01f_01io->b01f\n"
              "  bb = f32[1,5,5,3] broadcast(b), dimensions={3}\n  a = f32[1,5,5,3] add(c, bb)\n"
              "  z = f32[] constant(0)\n  six = f32[] constant(6)\n"
              "  r6 = f32[1,5,5,3] clamp(z, a, six)\n  ROOT o = f32[1,5,5,3] add(r6, res)\n}\n",
              1, false, 1e-4, 1e-5);
}
END_TEST

START_TEST(kernels_overwrite_dying_operands) {
  /* a is read by a dot and then, through the dot's column sums, by the
   * add, which therefore runs last and writes over a. */
  check_fused("HloModule m\n" SUM
              "ENTRY e {\n  x = f32[8,16] parameter(0)\n  w = f32[16,16] parameter(1)\n"
              "  z = f32[] constant(0)\n  a = f32[8,16] exponential(x)\n"
              "  d1 = f32[8,16] dot(a, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
              "  s = f32[16] reduce(d1, z), dimensions={0}, to_apply=sum\n"
              "  sb = f32[8,16] broadcast(s), dimensions={1}\n  f = f32[8,16] add(a, sb)\n"
              "  d2 = f32[8,16] dot(f, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
              "  ROOT r = f32[8,16] negate(d2)\n}\n",
              5, true, 1e-3, 1e-4);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_fused");
  TCase *t = tcase_create("fused");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, softmax_is_one_row_kernel);
  tcase_add_test(t, layer_norm_reduces_each_row_twice_then_sweeps);
  tcase_add_test(t, reduction_nested_in_a_reduction);
  tcase_add_test(t, producer_parked_in_its_own_output);
  tcase_add_test(t, sibling_reductions_share_a_nest);
  tcase_add_test(t, column_reductions_are_kernels_of_their_own);
  tcase_add_test(t, convolution_with_bias_relu6_and_residual);
  tcase_add_test(t, kernels_overwrite_dying_operands);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
