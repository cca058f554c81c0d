/*
 * test_codegen_control.c — fusion (loop, input, output and multi-output
 * fusions, inlined elementally), while, conditional and call, compiled and
 * run through the JIT, against the evaluator (test_codegen_util.h).
 *
 * Tolerance: zero, but for the transcendentals.  Float results are
 * computed with the same operations in the same order as the evaluator;
 * the fused dot (whose f32 accumulation differs from the evaluator's
 * double) runs on small integer arguments, where every partial sum is
 * exact (check_hlo_exact).  tanh and exp are codegen/math.c's own, within
 * 2 and 1.5 ulps (docs/math.md) of exact where the evaluator's libm is
 * within 1: relative 3 * 2^-23 and 2.5 * 2^-23.
 */
#include "test_codegen_util.h"

/* The module `text` compiled as written (--O0: lowered to one device
 * only) and after the pipeline, each against the evaluator on the
 * original, on arguments drawn from the generator state `seed`. */
static void check_as_written_and_optimized(const char *text, uint64_t seed, double atol,
                                           double rtol) {
  for (int pipeline = 0; pipeline < 2; pipeline++) {
    HloModule *m = ck_parse_verified(text);
    int n = m->entry->nparams;
    ck_assert_int_le(n, 16);
    HloLiteral *args[16];
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
      args[i] = hlo_literal_new(&m->entry->params[i]->shape);
      cgt_fill(args[i], &s);
    }
    HloLiteral *want = ck_evaluate(m, args, n);
    HloError *e = pipeline ? cgt_optimize(m) : (pass_single_device(m), hlo_verify(m));
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    CgJit *j = cgt_jit(m, "t");
    cgt_compare(j, args, n, want, atol, rtol);
    cg_jit_free(j);
    hlo_literal_free(want);
    for (int i = 0; i < n; i++) hlo_literal_free(args[i]);
    hlo_module_free(m);
  }
}

/* fmt with every "%s" replaced by the element type ty (malloc'd). */
static char *typed(const char *fmt, const char *ty) {
  HloStr out = {0};
  for (const char *p = fmt; *p;) {
    const char *q = strstr(p, "%s");
    size_t n = q ? (size_t)(q - p) : strlen(p);
    hlo_str_append(&out, p, n);
    if (!q) break;
    hlo_str_append(&out, ty, strlen(ty));
    p = q + 2;
  }
  return hlo_str_take(&out);
}

START_TEST(loop_fusion) {
  check_hlo("HloModule f\n\n"
            "fc {\n  p0 = f32[7,13] parameter(0)\n  p1 = f32[13] parameter(1)\n"
            "  p2 = f32[13,7] parameter(2)\n"
            "  b = f32[7,13] broadcast(p1), dimensions={1}\n"
            "  t = f32[7,13] transpose(p2), dimensions={1,0}\n"
            "  a = f32[7,13] add(p0, b)\n  m = f32[7,13] multiply(a, t)\n"
            "  k = f32[] constant(0.5)\n  kb = f32[7,13] broadcast(k), dimensions={}\n"
            "  s = f32[7,13] subtract(m, kb)\n  e = f32[7,13] tanh(s)\n"
            "  r = f32[91] reshape(e)\n  ROOT n = f32[91] negate(r)\n}\n\n"
            "ENTRY main {\n  x = f32[7,13] parameter(0)\n  y = f32[13] parameter(1)\n"
            "  z = f32[13,7] parameter(2)\n"
            "  ROOT f = f32[91] fusion(x, y, z), kind=kLoop, calls=fc\n}\n",
            1, 0, 3 * 0x1p-23);
  /* A constant operand, a repeated operand, f16 arithmetic. */
  check_hlo("HloModule f\n\n"
            "fc {\n  p0 = f16[13] parameter(0)\n  p1 = f16[13] parameter(1)\n"
            "  p2 = f16[13] parameter(2)\n  a = f16[13] multiply(p0, p1)\n"
            "  ROOT s = f16[13] add(a, p2)\n}\n\n"
            "ENTRY main {\n  x = f16[13] parameter(0)\n"
            "  c = f16[13] constant({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})\n"
            "  ROOT f = f16[13] fusion(x, x, c), kind=kLoop, calls=fc\n}\n",
            2, 0, 0);
}
END_TEST

START_TEST(input_and_output_fusion) {
  /* Reduce of an elementwise expression (XLA's input fusion). */
  check_hlo("HloModule f\n\n"
            "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
            "  ROOT c = f32[] add(a, b)\n}\n\n"
            "fc {\n  p0 = f32[7,13] parameter(0)\n  p1 = f32[7,13] parameter(1)\n"
            "  m = f32[7,13] multiply(p0, p1)\n  z = f32[] constant(0)\n"
            "  ROOT r = f32[7] reduce(m, z), dimensions={1}, to_apply=add\n}\n\n"
            "ENTRY main {\n  x = f32[7,13] parameter(0)\n  y = f32[7,13] parameter(1)\n"
            "  ROOT f = f32[7] fusion(x, y), kind=kInput, calls=fc\n}\n",
            3, 0, 0);
  /* Dot with a bias and an activation (output fusion). */
  check_hlo_exact("HloModule f\n\n"
            "fc {\n  p0 = f32[7,13] parameter(0)\n  p1 = f32[13,5] parameter(1)\n"
            "  p2 = f32[5] parameter(2)\n"
            "  d = f32[7,5] dot(p0, p1), lhs_contracting_dims={1}, "
            "rhs_contracting_dims={0}\n"
            "  b = f32[7,5] broadcast(p2), dimensions={1}\n"
            "  a = f32[7,5] add(d, b)\n  z = f32[] constant(0)\n"
            "  zb = f32[7,5] broadcast(z), dimensions={}\n"
            "  ROOT r = f32[7,5] maximum(a, zb)\n}\n\n"
            "ENTRY main {\n  x = f32[7,13] parameter(0)\n  w = f32[13,5] parameter(1)\n"
            "  c = f32[5] parameter(2)\n"
            "  ROOT f = f32[7,5] fusion(x, w, c), kind=kOutput, calls=fc\n}\n",
            4);
}
END_TEST

START_TEST(multi_output_fusion) {
  /* Outputs of one shape share a loop nest (and the shared subexpression). */
  check_hlo("HloModule f\n\n"
            "fc {\n  p0 = f32[7,13] parameter(0)\n  p1 = f32[7,13] parameter(1)\n"
            "  a = f32[7,13] add(p0, p1)\n  e = f32[7,13] exponential(a)\n"
            "  c = pred[7,13] compare(a, p1), direction=GT\n"
            "  ROOT t = (f32[7,13], f32[7,13], pred[7,13]) tuple(a, e, c)\n}\n\n"
            "ENTRY main {\n  x = f32[7,13] parameter(0)\n  y = f32[7,13] parameter(1)\n"
            "  f = (f32[7,13], f32[7,13], pred[7,13]) fusion(x, y), kind=kLoop, "
            "calls=fc\n"
            "  g0 = f32[7,13] get-tuple-element(f), index=0\n"
            "  g2 = pred[7,13] get-tuple-element(f), index=2\n"
            "  s = f32[7,13] select(g2, g0, y)\n"
            "  g1 = f32[7,13] get-tuple-element(f), index=1\n"
            "  ROOT t = (f32[7,13], f32[7,13]) tuple(s, g1)\n}\n",
            5, 0, 2.5 * 0x1p-23);
  /* Outputs of different shapes: a reduction and its elementwise input. */
  check_hlo("HloModule f\n\n"
            "mx {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
            "  ROOT c = f32[] maximum(a, b)\n}\n\n"
            "fc {\n  p0 = f32[7,13] parameter(0)\n  n = f32[7,13] negate(p0)\n"
            "  z = f32[] constant(-inf)\n"
            "  r = f32[13] reduce(n, z), dimensions={0}, to_apply=mx\n"
            "  ROOT t = (f32[13], f32[7,13]) tuple(r, n)\n}\n\n"
            "ENTRY main {\n  x = f32[7,13] parameter(0)\n"
            "  ROOT f = (f32[13], f32[7,13]) fusion(x), kind=kInput, calls=fc\n}\n",
            6, 0, 0);
}
END_TEST

START_TEST(while_loop) {
  /* A counted loop carrying an array, and a body that swaps two elements
   * of its state (the copies back into the state must not clobber). */
  for (uint64_t seed = 0; seed < 2; seed++)
    check_hlo("HloModule w\n\n"
              "cond {\n  s = (s32[], f32[7,13], f32[7,13]) parameter(0)\n"
              "  i = s32[] get-tuple-element(s), index=0\n"
              "  n = s32[] constant(5)\n"
              "  ROOT c = pred[] compare(i, n), direction=LT\n}\n\n"
              "body {\n  s = (s32[], f32[7,13], f32[7,13]) parameter(0)\n"
              "  i = s32[] get-tuple-element(s), index=0\n"
              "  a = f32[7,13] get-tuple-element(s), index=1\n"
              "  b = f32[7,13] get-tuple-element(s), index=2\n"
              "  one = s32[] constant(1)\n  j = s32[] add(i, one)\n"
              "  h = f32[] constant(0.5)\n  hb = f32[7,13] broadcast(h), dimensions={}\n"
              "  m = f32[7,13] multiply(a, hb)\n  c = f32[7,13] add(m, b)\n"
              "  ROOT r = (s32[], f32[7,13], f32[7,13]) tuple(j, b, c)\n}\n\n"
              "ENTRY main {\n  x = f32[7,13] parameter(0)\n  y = f32[7,13] parameter(1)\n"
              "  z = s32[] constant(0)\n"
              "  t = (s32[], f32[7,13], f32[7,13]) tuple(z, x, y)\n"
              "  w = (s32[], f32[7,13], f32[7,13]) while(t), condition=cond, body=body\n"
              "  r1 = f32[7,13] get-tuple-element(w), index=1\n"
              "  r2 = f32[7,13] get-tuple-element(w), index=2\n"
              "  ROOT o = (f32[7,13], f32[7,13]) tuple(r1, r2)\n}\n",
              seed, 0, 0);
  /* A loop that never runs, and a state that is a plain array. */
  check_hlo("HloModule w\n\n"
            "cond {\n  s = f32[13] parameter(0)\n  ROOT f = pred[] constant(false)\n}\n\n"
            "body {\n  s = f32[13] parameter(0)\n  ROOT n = f32[13] negate(s)\n}\n\n"
            "ENTRY main {\n  x = f32[13] parameter(0)\n"
            "  ROOT w = f32[13] while(x), condition=cond, body=body\n}\n",
            7, 0, 0);
}
END_TEST

START_TEST(conditional) {
  /* A pred selector, then an index selector whose random value is often
   * out of range (it then runs the last branch). */
  for (uint64_t seed = 0; seed < 4; seed++) {
    check_hlo("HloModule c\n\n"
              "tb {\n  a = f32[7,13] parameter(0)\n  ROOT n = f32[7,13] negate(a)\n}\n\n"
              "fb {\n  a = (f32[7,13], f32[7,13]) parameter(0)\n"
              "  x = f32[7,13] get-tuple-element(a), index=0\n"
              "  y = f32[7,13] get-tuple-element(a), index=1\n"
              "  ROOT m = f32[7,13] multiply(x, y)\n}\n\n"
              "ENTRY main {\n  p = pred[] parameter(0)\n  x = f32[7,13] parameter(1)\n"
              "  y = f32[7,13] parameter(2)\n"
              "  t = (f32[7,13], f32[7,13]) tuple(x, y)\n"
              "  ROOT c = f32[7,13] conditional(p, x, t), true_computation=tb, "
              "false_computation=fb\n}\n",
              seed, 0, 0);
    check_hlo("HloModule c\n\n"
              "b0 {\n  a = s32[13] parameter(0)\n  ROOT n = s32[13] negate(a)\n}\n\n"
              "b1 {\n  a = s32[13] parameter(0)\n  ROOT n = s32[13] multiply(a, a)\n}\n\n"
              "b2 {\n  a = s32[13] parameter(0)\n  o = s32[] constant(7)\n"
              "  ob = s32[13] broadcast(o), dimensions={}\n"
              "  s = s32[13] add(a, ob)\n  ROOT t = (s32[13], s32[13]) tuple(s, a)\n}\n\n"
              "wrap {\n  a = s32[13] parameter(0)\n"
              "  ROOT t = (s32[13], s32[13]) tuple(a, a)\n}\n\n"
              "neg {\n  a = s32[13] parameter(0)\n  n = s32[13] negate(a)\n"
              "  ROOT t = (s32[13], s32[13]) tuple(n, a)\n}\n\n"
              "sq {\n  a = s32[13] parameter(0)\n  n = s32[13] multiply(a, a)\n"
              "  ROOT t = (s32[13], s32[13]) tuple(n, n)\n}\n\n"
              "ENTRY main {\n  i = s32[] parameter(0)\n  x = s32[13] parameter(1)\n"
              "  ROOT c = (s32[13], s32[13]) conditional(i, x, x, x), "
              "branch_computations={neg, sq, b2}\n}\n",
              seed + 10, 0, 0);
  }
}
END_TEST

START_TEST(call) {
  /* The same computation called twice, and a call inside a while body. */
  check_hlo("HloModule k\n\n"
            "axpy {\n  a = f32[] parameter(0)\n  x = f32[13] parameter(1)\n"
            "  y = f32[13] parameter(2)\n  ab = f32[13] broadcast(a), dimensions={}\n"
            "  m = f32[13] multiply(ab, x)\n  ROOT s = f32[13] add(m, y)\n}\n\n"
            "cond {\n  s = (s32[], f32[13]) parameter(0)\n"
            "  i = s32[] get-tuple-element(s), index=0\n  n = s32[] constant(3)\n"
            "  ROOT c = pred[] compare(i, n), direction=LT\n}\n\n"
            "body {\n  s = (s32[], f32[13]) parameter(0)\n"
            "  i = s32[] get-tuple-element(s), index=0\n"
            "  v = f32[13] get-tuple-element(s), index=1\n"
            "  h = f32[] constant(0.25)\n"
            "  w = f32[13] call(h, v, v), to_apply=axpy\n"
            "  one = s32[] constant(1)\n  j = s32[] add(i, one)\n"
            "  ROOT r = (s32[], f32[13]) tuple(j, w)\n}\n\n"
            "ENTRY main {\n  a = f32[] parameter(0)\n  x = f32[13] parameter(1)\n"
            "  y = f32[13] parameter(2)\n"
            "  c1 = f32[13] call(a, x, y), to_apply=axpy\n"
            "  c2 = f32[13] call(a, c1, x), to_apply=axpy\n"
            "  z = s32[] constant(0)\n  t = (s32[], f32[13]) tuple(z, c2)\n"
            "  wl = (s32[], f32[13]) while(t), condition=cond, body=body\n"
            "  g = f32[13] get-tuple-element(wl), index=1\n"
            "  ROOT o = (f32[13], f32[13], f32[13]) tuple(c1, c2, g)\n}\n",
            8, 0, 0);
}
END_TEST

/* Collectives and async pairs of one device, compiled after the pipeline
 * lowered them, against the evaluator on the original. */
START_TEST(single_device_collectives) {
  cgt_check_with(
      "HloModule m\n"
      "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
      "body {\n  a = f32[4,3] parameter(0)\n  ROOT n = f32[4,3] tanh(a)\n}\n"
      "ENTRY e {\n  p = f32[4,3] parameter(0)\n  q = s32[5] parameter(1)\n"
      "  ar = f32[4,3] all-reduce(p), channel_id=1, replica_groups={{0}}, to_apply=add\n"
      "  ag = f32[4,3] all-gather(ar), replica_groups={}, dimensions={1}\n"
      "  s = ((f32[4,3]), f32[4,3], s32[]) async-start(ag), calls=body\n"
      "  d = f32[4,3] async-done(s)\n"
      "  cp = s32[5] collective-permute(q), source_target_pairs={}\n"
      "  c2 = s32[5] collective-permute(q), source_target_pairs={{0,0}}\n"
      "  x = s32[5] add(cp, c2)\n"
      "  rid = u32[] partition-id()\n"
      "  ROOT r = (f32[4,3], s32[5], u32[]) tuple(d, x, rid)\n}\n",
      7, true, true, 1e-6, 1e-6);
}
END_TEST

/* Buffers (ck_buffers_hlo), compiled as their arrays, against the
 * evaluator on the original. */
START_TEST(single_device_buffers) {
  cgt_check_with(ck_buffers_hlo, 3, false, true, 1e-6, 1e-6);
}
END_TEST

/* The trigonometric functions XLA adds, map and reduce-precision,
 * compiled after the pipeline expanded them, against the evaluator's libm
 * on the original; inputs include infinities, NaN and denormals. */
START_TEST(expanded_ops) {
  cgt_check_with(ck_expanded_ops_hlo, 11, false, true, 1e-6, 1e-5);
}
END_TEST

/* Tokens (zero-byte values: no storage, no register) carried through a
 * while loop, returned by conditional branches, joined by after-all and
 * passed through opt-barrier; compiled as written (hloc run --O0) and
 * after the pipeline, against the evaluator.  XLA's copy_insertion_test,
 * hlo_schedule_test and token_hlo_test carry one through a loop: the
 * pipeline's plan gave it no buffer, and without the pipeline codegen
 * aborted asking for a token's register type. */
static const char tokens_hlo[] =
    "HloModule t\n"
    "cond {\n  s = (s32[], f32[5], token[]) parameter(0)\n"
    "  i = s32[] get-tuple-element(s), index=0\n  n = s32[] constant(3)\n"
    "  ROOT c = pred[] compare(i, n), direction=LT\n}\n"
    "body {\n  s = (s32[], f32[5], token[]) parameter(0)\n"
    "  i = s32[] get-tuple-element(s), index=0\n  a = f32[5] get-tuple-element(s), index=1\n"
    "  t = token[] get-tuple-element(s), index=2\n"
    "  one = s32[] constant(1)\n  j = s32[] add(i, one)\n  m = f32[5] multiply(a, a)\n"
    "  u = token[] after-all(t)\n"
    "  ROOT r = (s32[], f32[5], token[]) tuple(j, m, u)\n}\n"
    "yes {\n  p = (f32[5], token[]) parameter(0)\n  a = f32[5] get-tuple-element(p), index=0\n"
    "  t = token[] get-tuple-element(p), index=1\n  n = f32[5] negate(a)\n"
    "  ROOT r = (f32[5], token[]) tuple(n, t)\n}\n"
    "no {\n  p = f32[5] parameter(0)\n  t = token[] after-all()\n"
    "  ROOT r = (f32[5], token[]) tuple(p, t)\n}\n"
    "ENTRY main {\n  x = f32[5] parameter(0)\n  b = pred[] parameter(1)\n"
    "  z = s32[] constant(0)\n  t0 = token[] after-all()\n"
    "  w0 = (s32[], f32[5], token[]) tuple(z, x, t0)\n"
    "  w = (s32[], f32[5], token[]) while(w0), condition=cond, body=body\n"
    "  wa = f32[5] get-tuple-element(w), index=1\n  wt = token[] get-tuple-element(w), index=2\n"
    "  ct = (f32[5], token[]) tuple(wa, wt)\n"
    "  c = (f32[5], token[]) conditional(b, ct, x), true_computation=yes, false_computation=no\n"
    "  ca = f32[5] get-tuple-element(c), index=0\n  cu = token[] get-tuple-element(c), index=1\n"
    "  j = token[] after-all(wt, cu)\n"
    "  ob = (f32[5], token[]) opt-barrier((f32[5], token[]) tuple(ca, j))\n"
    "  oa = f32[5] get-tuple-element(ob), index=0\n"
    "  wi = s32[] get-tuple-element(w), index=0\n"
    "  ROOT r = (f32[5], s32[]) tuple(oa, wi)\n}\n";

START_TEST(tokens) {
  for (uint64_t seed = 0; seed < 4; seed++)
    check_as_written_and_optimized(tokens_hlo, seed * 0x9E3779B97F4A7C15ULL + 1, 0, 0);
}
END_TEST

/* Forms XLA's verifier accepts that canonical_forms.c rewrites for codegen
 * (a pred[] select, the rank-1 start index vector of dynamic-slice and
 * dynamic-update-slice, gather batching dims that start_index_map names
 * too, a tuple all-to-all of one operand, xla_builder.* custom-calls),
 * compiled as written (--O0) and after the pipeline, against the evaluator
 * on the original; the indices take any bit pattern, so clamping counts. */
static const char forms_hlo[] =
    "HloModule f\n"
    "plus {\n  a = f32[2,3] parameter(0)\n  b = f32[2,3] parameter(1)\n"
    "  ROOT s = f32[2,3] add(a, b)\n}\n"
    "ENTRY e {\n  x = f32[4,6] parameter(0)\n  y = f32[4,6] parameter(1)\n"
    "  b = pred[] parameter(2)\n  v = s32[2] parameter(3)\n  u = f32[2,3] parameter(4)\n"
    "  g = f32[3,4] parameter(5)\n  gi = s32[3,2] parameter(6)\n"
    "  sel = f32[4,6] select(b, x, y)\n"
    "  ds = f32[2,3] dynamic-slice(sel, v), dynamic_slice_sizes={2,3}\n"
    "  dus = f32[4,6] dynamic-update-slice(x, u, v)\n"
    "  gat = f32[3] gather(g, gi), offset_dims={}, collapsed_slice_dims={1}, "
    "start_index_map={0,1}, operand_batching_dims={0}, start_indices_batching_dims={0}, "
    "index_vector_dim=1, slice_sizes={1,1}\n"
    "  a2a = (f32[2,3]) all-to-all(u), replica_groups={{0}}\n"
    "  a = f32[2,3] get-tuple-element(a2a), index=0\n"
    "  t = f32[2,3] tanh(a)\n"
    "  ac = f32[2,3] custom-call(t), custom_call_target=\"xla_builder.math.Acos\"\n"
    "  bc = f32[2,3] custom-call(ds, ac), custom_call_target=\"xla_builder.test.Plus\", "
    "called_computations={plus}\n"
    "  ROOT r = (f32[4,6], f32[2,3], f32[4,6], f32[3]) tuple(sel, bc, dus, gat)\n}\n";

START_TEST(xla_forms) {
  for (uint64_t seed = 0; seed < 4; seed++)
    check_as_written_and_optimized(forms_hlo, seed * 0x9E3779B97F4A7C15ULL + 1, 1e-6, 1e-6);
}
END_TEST

/* xla_builder.math.NextAfter, which builder_math.c writes as bit
 * arithmetic, compiled as written (--O0) and after the pipeline against the
 * evaluator, bit for bit (the result is bitcast to unsigned, so -0 and the
 * NaN patterns count): every pair of bit patterns of the 8-bit types
 * (fnuz's 0x80 NaN and missing -0 included), and every pair of special
 * values (±0, ±1, the smallest subnormal, the largest finite, ±inf, NaN,
 * …) of the wider ones. */
START_TEST(builder_next_after) {
  static const char *const types[] = {"f8e5m2fnuz", "f8e4m3fn",  "f8e4m3b11fnuz", "f8e5m2",
                                      "f8e4m3fnuz", "bf16",      "f16",
                                      "f32",        "f64"};
  static const char *const utypes[] = {"u8", "u8", "u8", "u8", "u8", "u16", "u16", "u32", "u64"};
  static const double specials[] = {0,    -0.0,  1,      -1,        1.5,      -2,
                                    5e-324, -5e-324, 1e-45, -1e-45,  6e-8,   -6e-8,
                                    1e300, -1e300, 65504,  3.4e38,   INFINITY, -INFINITY,
                                    NAN};
  const int ns = (int)(sizeof specials / sizeof specials[0]);
  for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
    HloType t;
    ck_assert(hlo_type_from_name(types[k], strlen(types[k]), &t));
    bool bytes = hlo_type_size(t) == 1;
    int n = bytes ? 256 * 256 : ns * ns;
    char text[1024];
    snprintf(text, sizeof text,
             "HloModule na\nENTRY e {\n  x = %s[%d] parameter(0)\n  y = %s[%d] parameter(1)\n"
             "  r = %s[%d] custom-call(x, y), custom_call_target=\"xla_builder.math.NextAfter\"\n"
             "  ROOT b = %s[%d] bitcast-convert(r)\n}\n",
             types[k], n, types[k], n, types[k], n, utypes[k], n);
    for (int pipeline = 0; pipeline < 2; pipeline++) {
      HloModule *m = ck_parse_verified(text);
      HloLiteral *args[2] = {hlo_literal_new(&m->entry->params[0]->shape),
                             hlo_literal_new(&m->entry->params[1]->shape)};
      for (int i = 0; i < n; i++) {
        if (bytes) {
          ((uint8_t *)args[0]->data)[i] = (uint8_t)(i & 255);
          ((uint8_t *)args[1]->data)[i] = (uint8_t)(i >> 8);
        } else {
          hlo_literal_set_f64(args[0], i, specials[i % ns]);
          hlo_literal_set_f64(args[1], i, specials[i / ns]);
        }
      }
      HloLiteral *want = ck_evaluate(m, args, 2);
      HloError *e = pipeline ? cgt_optimize(m) : (pass_single_device(m), hlo_verify(m));
      ck_assert_msg(!e, "%s: %s", types[k], hlo_error_message(e));
      CgJit *j = cgt_jit(m, "t");
      cgt_compare(j, args, 2, want, 0, 0);
      cg_jit_free(j);
      hlo_literal_free(want);
      hlo_literal_free(args[0]);
      hlo_literal_free(args[1]);
      hlo_module_free(m);
    }
  }
}
END_TEST

/* The functions of XLA's builder library that builder_lib.c writes as HLO
 * (Einsum: diagonals of an operand and of the result, summed private
 * labels, batch and contracting labels, a transposed result;
 * GetMatrixDiagonalViaGather of a batch; ScramblePhiloxKey; Thomas'
 * TridiagonalSolver in both operand forms, its main diagonal made dominant
 * so that rounding stays small), compiled as written (--O0) and after the
 * pipeline against the evaluator on random inputs; the keys bit for bit. */
static const char builder_lib_hlo[] =
    "HloModule bl\n"
    "ENTRY e {\n  a = f32[3,3] parameter(0)\n  b = f32[3,3] parameter(1)\n"
    "  v = f32[3] parameter(2)\n  p = f32[2,3,4] parameter(3)\n  q = f32[2,5,4] parameter(4)\n"
    "  k = u64[7] parameter(5)\n  l = f32[2,1,5] parameter(6)\n  m = f32[2,1,5] parameter(7)\n"
    "  u = f32[2,1,5] parameter(8)\n  rhs = f32[2,3,5] parameter(9)\n"
    "  g = f64[3,6] parameter(10)\n  gb = f64[6,2] parameter(11)\n"
    "  e1 = f32[3] custom-call(a, b), custom_call_target=\"xla_builder.matrix.Einsum\", "
    "backend_config=\"ii,ii->i\"\n"
    "  e2 = f32[3,3] custom-call(v, a), custom_call_target=\"xla_builder.matrix.Einsum\", "
    "backend_config=\"i,ij->ii\"\n"
    "  e3 = f32[5,3,2] custom-call(p, q), custom_call_target=\"xla_builder.matrix.Einsum\", "
    "backend_config=\"bij,bkj->kib\"\n"
    "  e4 = f32[3] custom-call(a, v), custom_call_target=\"xla_builder.matrix.Einsum\", "
    "backend_config=\"ij,k->j\"\n"
    "  dg = f32[2,3] custom-call(p), "
    "custom_call_target=\"xla_builder.matrix.GetMatrixDiagonalViaGather\"\n"
    "  sk = u64[7] custom-call(k), custom_call_target=\"xla_builder.prng.ScramblePhiloxKey\"\n"
    "  ma = f32[2,1,5] abs(m)\n  four = f32[] constant(4)\n"
    "  f4 = f32[2,1,5] broadcast(four), dimensions={}\n  md = f32[2,1,5] add(ma, f4)\n"
    "  t4 = f32[2,3,5] custom-call(l, md, u, rhs), "
    "custom_call_target=\"xla_builder.tridiagonal.TridiagonalSolver\"\n"
    "  gm = f64[1,6] slice(g), slice={[1:2], [0:6]}\n  gma = f64[1,6] abs(gm)\n"
    "  four64 = f64[] constant(4)\n  f64b = f64[1,6] broadcast(four64), dimensions={}\n"
    "  gd = f64[1,6] add(gma, f64b)\n  gu = f64[1,6] slice(g), slice={[0:1], [0:6]}\n"
    "  gl = f64[1,6] slice(g), slice={[2:3], [0:6]}\n"
    "  gs = f64[3,6] concatenate(gu, gd, gl), dimensions={0}\n"
    "  t2 = f64[6,2] custom-call(gs, gb), "
    "custom_call_target=\"xla_builder.tridiagonal.TridiagonalSolver\"\n"
    "  ROOT r = (f32[3], f32[3,3], f32[5,3,2], f32[3], f32[2,3], u64[7], f32[2,3,5], f64[6,2]) "
    "tuple(e1, e2, e3, e4, dg, sk, t4, t2)\n}\n";

START_TEST(builder_lib) {
  for (uint64_t seed = 0; seed < 3; seed++)
    check_as_written_and_optimized(builder_lib_hlo, seed * 0x9E3779B97F4A7C15ULL + 3, 1e-4,
                                   1e-4);
}
END_TEST

/* xla_builder.math.Polygamma, which builder_math.c writes as XLA's HLO
 * (Lanczos lgamma and digamma, the Hurwitz zeta, the reflection for x < 0),
 * compiled (--O0 and the pipeline) against the evaluator, which computes
 * the same formulas in double: orders n in 0..5 (and any value, mostly
 * NaN), x in (-6, 6) and any value; f32 within the corpus tolerances. */
static const char polygamma_hlo[] =
    "HloModule pg\n"
    "ENTRY e {\n  p = %s[64] parameter(0)\n  q = %s[64] parameter(1)\n"
    "  r = %s[64] parameter(2)\n  s = %s[64] parameter(3)\n"
    "  six = %s[] constant(6)\n  six_b = %s[64] broadcast(six), dimensions={}\n"
    "  tp = %s[64] tanh(p)\n  ap = %s[64] abs(tp)\n  n6 = %s[64] multiply(ap, six_b)\n"
    "  n = %s[64] floor(n6)\n  tq = %s[64] tanh(q)\n  x = %s[64] multiply(tq, six_b)\n"
    "  a = %s[64] custom-call(n, x), custom_call_target=\"xla_builder.math.Polygamma\"\n"
    "  b = %s[64] custom-call(r, s), custom_call_target=\"xla_builder.math.Polygamma\"\n"
    "  ROOT t = (%s[64], %s[64]) tuple(a, b)\n}\n";

START_TEST(builder_polygamma) {
  for (int wide = 0; wide < 2; wide++) {
    char *text = typed(polygamma_hlo, wide ? "f64" : "f32");
    check_as_written_and_optimized(text, 11, wide ? 1e-9 : 1e-4, wide ? 1e-9 : 1e-3);
    free(text);
  }
}
END_TEST

/* xla_builder.math.RegularizedIncompleteBeta, XLA's continued fraction in
 * a while loop (builder_math.c), against the evaluator (double, each
 * element to its own convergence): a, b in (0, 8), x in (0, 1), and any
 * values (NaN outside the domain). */
static const char betainc_hlo[] =
    "HloModule bi\n"
    "ENTRY e {\n  p = %s[48] parameter(0)\n  q = %s[48] parameter(1)\n  r = %s[48] parameter(2)\n"
    "  eight = %s[] constant(8)\n  e8 = %s[48] broadcast(eight), dimensions={}\n"
    "  half = %s[] constant(0.5)\n  h = %s[48] broadcast(half), dimensions={}\n"
    "  tp = %s[48] tanh(p)\n  ap = %s[48] abs(tp)\n  a = %s[48] multiply(ap, e8)\n"
    "  tq = %s[48] tanh(q)\n  aq = %s[48] abs(tq)\n  b = %s[48] multiply(aq, e8)\n"
    "  tr = %s[48] tanh(r)\n  hr = %s[48] multiply(tr, h)\n  x = %s[48] add(hr, h)\n"
    "  i = %s[48] custom-call(a, b, x), "
    "custom_call_target=\"xla_builder.math.RegularizedIncompleteBeta\"\n"
    "  j = %s[48] custom-call(p, q, r), "
    "custom_call_target=\"xla_builder.math.RegularizedIncompleteBeta\"\n"
    "  ROOT t = (%s[48], %s[48]) tuple(i, j)\n}\n";

START_TEST(builder_betainc) {
  for (int wide = 0; wide < 2; wide++) {
    char *text = typed(betainc_hlo, wide ? "f64" : "f32");
    check_as_written_and_optimized(text, 5, wide ? 1e-9 : 1e-4, wide ? 1e-9 : 1e-3);
    free(text);
  }
}
END_TEST

/* xla_builder.math.IgammaGradA and RandomGammaGrad, XLA's series and
 * continued fraction in while loops with per-element masks
 * (builder_math.c), against the evaluator (double): a in (0, 8), x in
 * (0, 16), and the special values (0, negative, NaN, inf).  Arbitrary a
 * and x are not generated: for a huge a with x near it XLA's series (and
 * so hloc's) does not terminate. */
static const char igamma_grad_hlo[] =
    "HloModule ig\n"
    "ENTRY e {\n  p = %s[40] parameter(0)\n  q = %s[40] parameter(1)\n"
    "  eight = %s[] constant(8)\n  e8 = %s[40] broadcast(eight), dimensions={}\n"
    "  tp = %s[40] tanh(p)\n  ap = %s[40] abs(tp)\n  a = %s[40] multiply(ap, e8)\n"
    "  tq = %s[40] tanh(q)\n  aq = %s[40] abs(tq)\n  x8 = %s[40] multiply(aq, e8)\n"
    "  x = %s[40] add(x8, x8)\n"
    "  sa = %s[6] constant({2, -1, nan, 1, inf, 3})\n"
    "  sx = %s[6] constant({0, 1, 1, nan, 2, inf})\n"
    "  i = %s[40] custom-call(a, x), custom_call_target=\"xla_builder.math.IgammaGradA\"\n"
    "  r = %s[40] custom-call(a, x), custom_call_target=\"xla_builder.math.RandomGammaGrad\"\n"
    "  si = %s[6] custom-call(sa, sx), custom_call_target=\"xla_builder.math.IgammaGradA\"\n"
    "  sr = %s[6] custom-call(sa, sx), custom_call_target=\"xla_builder.math.RandomGammaGrad\"\n"
    "  ROOT t = (%s[40], %s[40], %s[6], %s[6]) tuple(i, r, si, sr)\n}\n";

START_TEST(builder_igamma_grad) {
  for (int wide = 0; wide < 2; wide++) {
    char *text = typed(igamma_grad_hlo, wide ? "f64" : "f32");
    check_as_written_and_optimized(text, 9, wide ? 1e-9 : 1e-4, wide ? 1e-9 : 1e-3);
    free(text);
  }
}
END_TEST

/* A map whose computation reduces an array a conditional makes (XLA's
 * conditional_to_select_test): no elementwise form, so map_loop.c runs it
 * as a loop over the elements; 4 where a >= b (a 2x2 array of ones
 * summed), 0 elsewhere, as the evaluator gives. */
static const char map_loop_hlo[] =
    "HloModule m\n"
    "yes {\n  p = () parameter(0)\n  z = f32[] constant(0)\n"
    "  ROOT b = f32[2,2] broadcast(z), dimensions={}\n}\n"
    "no {\n  p = () parameter(0)\n  o = f32[] constant(1)\n"
    "  ROOT b = f32[2,2] broadcast(o), dimensions={}\n}\n"
    "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
    "mapped {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
    "  lt = pred[] compare(a, b), direction=LT\n  t = () tuple()\n"
    "  c = f32[2,2] conditional(lt, t, t), true_computation=yes, false_computation=no\n"
    "  z = f32[] constant(0)\n  ROOT r = f32[] reduce(c, z), dimensions={0,1}, to_apply=add\n}\n"
    "ENTRY e {\n  p = f32[5,3] parameter(0)\n  q = f32[5,3] parameter(1)\n"
    "  ROOT m = f32[5,3] map(p, q), dimensions={0,1}, to_apply=mapped\n}\n";

START_TEST(map_loop) {
  for (int pipeline = 0; pipeline < 2; pipeline++) {
    HloModule *m = ck_parse_verified(map_loop_hlo);
    HloLiteral *args[2];
    uint64_t s = 7;
    for (int i = 0; i < 2; i++) {
      args[i] = hlo_literal_new(&m->entry->params[i]->shape);
      cgt_fill(args[i], &s);
    }
    HloLiteral *want = ck_evaluate(m, args, 2);
    for (int64_t i = 0; i < 15; i++) {
      double a = hlo_literal_get_f64(args[0], i), b = hlo_literal_get_f64(args[1], i);
      ck_assert_double_eq(hlo_literal_get_f64(want, i), a < b ? 0 : 4);
    }
    HloError *e = pipeline ? cgt_optimize(m) : (pass_single_device(m), hlo_verify(m));
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    CgJit *j = cgt_jit(m, "t");
    cgt_compare(j, args, 2, want, 0, 0);
    cg_jit_free(j);
    hlo_literal_free(want);
    for (int i = 0; i < 2; i++) hlo_literal_free(args[i]);
    hlo_module_free(m);
  }
}
END_TEST

/* scaled-dot (operands times their scales, then a dot: scaled_dot_expand.c)
 * against the evaluator: f32 with a batch dim and blocks along K and N,
 * XLA's verifier test's f8 operands with f8 scales (f8e8m0fnu too), and
 * a rank-7 operand whose scale dims are all 1. */
START_TEST(scaled_dot) {
  static const char *const texts[] = {
      "HloModule s\nENTRY e {\n  a = f32[2,3,8] parameter(0)\n  b = f32[2,8,5] parameter(1)\n"
      "  as = f32[2,3,2] parameter(2)\n  bs = f32[1,2,5] parameter(3)\n"
      "  ROOT d = f32[2,3,5] scaled-dot(a, b, as, bs), lhs_batch_dims={0}, "
      "lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}\n}\n",
      "HloModule s\nENTRY e {\n  a = f8e5m2[2,10] parameter(0)\n"
      "  b = f8e8m0fnu[10,2] parameter(1)\n"
      "  as = f8e5m2[2,2] parameter(2)\n  bs = f8e8m0fnu[2,2] parameter(3)\n"
      "  ROOT d = f32[2,2] scaled-dot(a, b, as, bs), lhs_contracting_dims={1}, "
      "rhs_contracting_dims={0}\n}\n",
      /* rank 7, every scale dim 1: no 14-dim broadcast */
      "HloModule s\nENTRY e {\n  a = f32[2,2,2,2,2,2,2] parameter(0)\n  b = f32[2,3] parameter(1)\n"
      "  as = f32[1,1,1,1,1,1,1] parameter(2)\n  bs = f32[1,3] parameter(3)\n"
      "  ROOT d = f32[2,2,2,2,2,2,3] scaled-dot(a, b, as, bs), lhs_contracting_dims={6}, "
      "rhs_contracting_dims={0}\n}\n",
  };
  for (int i = 0; i < 3; i++)
    for (int pipeline = 0; pipeline < 2; pipeline++) {
      HloModule *m = ck_parse_verified(texts[i]);
      HloLiteral *args[4];
      uint64_t s = 3 + (uint64_t)i;
      for (int k = 0; k < 4; k++) {
        args[k] = hlo_literal_new(&m->entry->params[k]->shape);
        cgt_fill_values(args[k], &s, true);
      }
      HloLiteral *want = ck_evaluate(m, args, 4);
      HloError *e = pipeline ? cgt_optimize(m) : (pass_single_device(m), hlo_verify(m));
      ck_assert_msg(!e, "%s", hlo_error_message(e));
      CgJit *j = cgt_jit(m, "t");
      cgt_compare(j, args, 4, want, 1e-5, 1e-5);
      cg_jit_free(j);
      hlo_literal_free(want);
      for (int k = 0; k < 4; k++) hlo_literal_free(args[k]);
      hlo_module_free(m);
    }
}
END_TEST

/* The compiled function passes arrays: a token at the entry's boundary is
 * refused with the instruction named, not aborted on. */
START_TEST(entry_tokens_refused) {
  static const char *const texts[] = {
      "HloModule t\nENTRY e {\n  z = s32[] constant(3)\n  t = token[] after-all()\n"
      "  ROOT r = (s32[], token[]) tuple(z, t)\n}\n",
      "HloModule t\nENTRY e {\n  p = f32[4] parameter(0)\n  t = token[] parameter(1)\n"
      "  a = token[] after-all(t)\n  ROOT n = f32[4] negate(p)\n}\n",
  };
  static const char *const want[] = {
      "%r = (s32[], token[]) tuple(%z, %t) has element type token: the compiled "
      "function returns arrays only",
      "%t = token[] parameter() has element type token: the compiled function takes "
      "arrays only",
  };
  for (int i = 0; i < 2; i++) {
    HloModule *m = ck_parse_verified(texts[i]);
    CgProgram *p = NULL;
    HloError *e = cg_compile(m, &(CgOptions){.name = "t"}, &p);
    ck_assert_msg(e && strstr(hlo_error_message(e), want[i]), "wanted: %s\ngot: %s", want[i],
                  e ? hlo_error_message(e) : "no error");
    hlo_error_free(e);
    hlo_module_free(m);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_control");
  TCase *t = tcase_create("control");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, loop_fusion);
  tcase_add_test(t, single_device_collectives);
  tcase_add_test(t, single_device_buffers);
  tcase_add_test(t, expanded_ops);
  tcase_add_test(t, input_and_output_fusion);
  tcase_add_test(t, multi_output_fusion);
  tcase_add_test(t, while_loop);
  tcase_add_test(t, conditional);
  tcase_add_test(t, call);
  tcase_add_test(t, tokens);
  tcase_add_test(t, xla_forms);
  tcase_add_test(t, builder_next_after);
  tcase_add_test(t, builder_lib);
  tcase_add_test(t, map_loop);
  tcase_add_test(t, scaled_dot);
  tcase_add_test(t, entry_tokens_refused);
  suite_add_tcase(s, t);
  /* XLA's special functions (large while loops to compile): their own case. */
  TCase *sp = tcase_create("special");
  tcase_set_timeout(sp, 600);
  tcase_add_test(sp, builder_polygamma);
  tcase_add_test(sp, builder_betainc);
  tcase_add_test(sp, builder_igamma_grad);
  suite_add_tcase(s, sp);
  return ck_run_suite(s);
}
