/*
 * test_codegen_data.c — data movement and indexing ops, compiled and run
 * through the JIT, against the evaluator (test_codegen_util.h): constants,
 * iota, broadcast, reshape, bitcast, transpose, slice, concatenate, pad,
 * reverse, dynamic-slice, dynamic-update-slice, copy, tuple and
 * get-tuple-element, gather, scatter and sort.
 *
 * Each op is checked on several shapes (odd sizes 7 and 13, unit dims,
 * scalars) and on element types of every storage width (pred, s8, f16,
 * f32, s64) where the op does not care about the type.  Random integer
 * arguments include negative and huge values, so index operands exercise
 * the clamping rules of dynamic-slice, gather and the window skipping of
 * scatter.
 *
 * Tolerance: zero.  These ops move values without arithmetic, and the
 * scatter combiner (add) and sort comparator are evaluated in the same
 * order and precision as in the evaluator.
 */
#include "test_codegen_util.h"

static const char *const types[] = {"f32", "s8", "pred", "f16", "s64"};
#define NTYPES 5

START_TEST(constants) {
  check_hlo("HloModule k\n\nENTRY main {\n"
            "  a = f32[2,3] constant({{1, -2.5, 3}, {4e10, -0, 1e-40}})\n"
            "  b = s8[3] constant({-128, 0, 127})\n"
            "  c = u64[2] constant({0, 18446744073709551615})\n"
            "  d = pred[4] constant({true, false, false, true})\n"
            "  e = f16[3] constant({1.5, -0.0009765625, 65504})\n"
            "  f = bf16[2] constant({3.140625, -2})\n"
            "  g = f64[] constant(0.1)\n"
            "  h = s32[] constant(-7)\n"
            "  x = f32[2,3] parameter(0)\n"
            "  s = f32[2,3] add(x, a)\n"
            "  ROOT t = (f32[2,3], s8[3], u64[2], pred[4], f16[3], bf16[2], f64[], "
            "s32[], f32[2,3]) tuple(a, b, c, d, e, f, g, h, s)\n}\n",
            1, 0, 0);
}
END_TEST

START_TEST(iota) {
  const char *t[] = {"s32", "f32", "u8", "f16", "s64", "bf16"};
  for (int i = 0; i < 6; i++)
    check_hlof((uint64_t)i, 0, 0,
               "HloModule io\n\nENTRY main {\n"
               "  a = %s[7,13] iota(), iota_dimension=0\n"
               "  b = %s[7,13] iota(), iota_dimension=1\n"
               "  c = %s[1] iota(), iota_dimension=0\n"
               "  ROOT t = (%s[7,13], %s[7,13], %s[1]) tuple(a, b, c)\n}\n",
               t[i], t[i], t[i], t[i], t[i], t[i]);
}
END_TEST

START_TEST(broadcast_reshape_transpose) {
  const char *t = types[_i];
  check_hlof((uint64_t)_i, 0, 0,
             "HloModule brt\n\nENTRY main {\n"
             "  x = %s[13] parameter(0)\n  y = %s[7,13] parameter(1)\n"
             "  s = %s[] parameter(2)\n  z = %s[3,1,5,2] parameter(3)\n"
             "  b0 = %s[7,13] broadcast(x), dimensions={1}\n"
             "  b1 = %s[13,7,2] broadcast(x), dimensions={0}\n"
             "  b2 = %s[7,1,3] broadcast(s), dimensions={}\n"
             "  b3 = %s[2,7,13] broadcast(y), dimensions={1,2}\n"
             "  r0 = %s[13,7] reshape(y)\n  r1 = %s[91] reshape(y)\n"
             "  r2 = %s[1,7,1,13] reshape(y)\n  r3 = %s[6,5] reshape(z)\n"
             "  x1 = %s[1] slice(x), slice={[4:5]}\n  r4 = %s[] reshape(x1)\n"
             "  c0 = %s[91] bitcast(y)\n"
             "  t0 = %s[13,7] transpose(y), dimensions={1,0}\n"
             "  t1 = %s[5,2,3,1] transpose(z), dimensions={2,3,0,1}\n"
             "  k = %s[7,13] copy(y)\n"
             "  ROOT t = (%s[7,13], %s[13,7,2], %s[7,1,3], %s[2,7,13], %s[13,7], "
             "%s[91], %s[1,7,1,13], %s[6,5], %s[], %s[91], %s[13,7], %s[5,2,3,1], "
             "%s[7,13]) tuple(b0, b1, b2, b3, r0, r1, r2, r3, r4, c0, t0, t1, k)\n}\n",
             t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t,
             t, t, t, t, t, t, t, t);
}
END_TEST

START_TEST(slice_concat_pad_reverse) {
  const char *t = types[_i];
  check_hlof((uint64_t)_i, 0, 0,
             "HloModule scpr\n\nENTRY main {\n"
             "  x = %s[7,13] parameter(0)\n  y = %s[7,1] parameter(1)\n"
             "  z = %s[7,4] parameter(2)\n  v = %s[] parameter(3)\n"
             "  s0 = %s[3,5] slice(x), slice={[1:7:2], [0:13:3]}\n"
             "  s1 = %s[1,13] slice(x), slice={[6:7], [0:13]}\n"
             "  c0 = %s[7,18] concatenate(x, y, z), dimensions={1}\n"
             "  c1 = %s[14,13] concatenate(x, x), dimensions={0}\n"
             "  p0 = %s[10,32] pad(x, v), padding=1_2x3_4_1\n"
             "  p1 = %s[5,8] pad(x, v), padding=-1_-1x-2_-3\n"
             "  p2 = %s[7,3] pad(y, v), padding=0_0x1_1\n"
             /* the last dim unpadded: vectors, one padding test per vector */
             "  p3 = %s[9,13] pad(x, v), padding=1_1x0_0\n"
             "  p4 = %s[16,13] pad(x, v), padding=1_2_1x0_0\n"
             "  p5 = %s[8,13] pad(x, v), padding=-1_2x0_0\n"
             "  r0 = %s[7,13] reverse(x), dimensions={0,1}\n"
             "  r1 = %s[7,13] reverse(x), dimensions={1}\n"
             "  ROOT t = (%s[3,5], %s[1,13], %s[7,18], %s[14,13], %s[10,32], %s[5,8], "
             "%s[7,3], %s[9,13], %s[16,13], %s[8,13], %s[7,13], %s[7,13]) "
             "tuple(s0, s1, c0, c1, p0, p1, p2, p3, p4, p5, r0, r1)\n}\n",
             t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t,
             t);
}
END_TEST

START_TEST(dynamic_slices) {
  const char *t = types[_i];
  /* Start indices are random s32/u8/s64 values: mostly small, sometimes
   * negative or huge, so clamping is exercised (u8 and s64 indices too);
   * several seeds. */
  for (uint64_t seed = 0; seed < 4; seed++)
    check_hlof(seed * 10 + (uint64_t)_i, 0, 0,
               "HloModule dyn\n\nENTRY main {\n"
               "  x = %s[7,13] parameter(0)\n  u = %s[3,5] parameter(1)\n"
               "  i = s32[] parameter(2)\n  j = s32[] parameter(3)\n"
               "  k = s64[] parameter(4)\n  w = %s[13] parameter(5)\n"
               "  b = u8[] parameter(6)\n"
               "  d0 = %s[3,5] dynamic-slice(x, i, j), dynamic_slice_sizes={3,5}\n"
               "  d1 = %s[7,1] dynamic-slice(x, k, k), dynamic_slice_sizes={7,1}\n"
               "  d2 = %s[4] dynamic-slice(w, b), dynamic_slice_sizes={4}\n"
               "  e0 = %s[7,13] dynamic-update-slice(x, u, i, j)\n"
               "  e1 = %s[7,13] dynamic-update-slice(x, u, k, k)\n"
               "  ROOT t = (%s[3,5], %s[7,1], %s[4], %s[7,13], %s[7,13]) "
               "tuple(d0, d1, d2, e0, e1)\n}\n",
               t, t, t, t, t, t, t, t, t, t, t, t, t);
}
END_TEST

START_TEST(tuples) {
  /* Tuples and get-tuple-element own no buffers; the same value returned
   * twice and a parameter returned as is need copies into results; a
   * tuple copy copies each leaf. */
  check_hlo("HloModule tup\n\nENTRY main {\n"
            "  x = f32[7,13] parameter(0)\n  y = s32[3] parameter(1)\n"
            "  t0 = (f32[7,13], s32[3]) tuple(x, y)\n"
            "  t1 = ((f32[7,13], s32[3]), s32[3]) tuple(t0, y)\n"
            "  g0 = (f32[7,13], s32[3]) get-tuple-element(t1), index=0\n"
            "  g1 = f32[7,13] get-tuple-element(g0), index=0\n"
            "  n = f32[7,13] negate(g1)\n"
            "  c = (f32[7,13], s32[3]) copy(g0)\n"
            "  ROOT r = (f32[7,13], f32[7,13], s32[3], f32[7,13], (f32[7,13], s32[3]), "
            "(f32[7,13], s32[3])) tuple(n, n, y, x, g0, c)\n}\n",
            5, 0, 0);
}
END_TEST

START_TEST(gather) {
  for (uint64_t seed = 0; seed < 3; seed++) {
    /* Rows of a matrix (embedding lookup), index vector in the last dim. */
    check_hlo("HloModule g1\n\nENTRY main {\n"
              "  x = f32[7,13] parameter(0)\n  i = s32[5,1] parameter(1)\n"
              "  ROOT g = f32[5,13] gather(x, i), offset_dims={1}, "
              "collapsed_slice_dims={0}, start_index_map={0}, "
              "index_vector_dim=1, slice_sizes={1,13}\n}\n",
              seed, 0, 0);
    /* 2-D windows at 2-D starts, implicit index vector dim, both maps. */
    check_hlo("HloModule g2\n\nENTRY main {\n"
              "  x = s8[7,13,3] parameter(0)\n  i = u32[4,2] parameter(1)\n"
              "  ROOT g = s8[4,2,3,3] gather(x, i), offset_dims={1,2,3}, "
              "collapsed_slice_dims={}, start_index_map={1,0}, "
              "index_vector_dim=1, slice_sizes={2,3,3}\n}\n",
              seed + 10, 0, 0);
    check_hlo("HloModule g3\n\nENTRY main {\n"
              "  x = f16[13] parameter(0)\n  i = s64[3,2] parameter(1)\n"
              "  ROOT g = f16[3,2] gather(x, i), offset_dims={}, "
              "collapsed_slice_dims={0}, start_index_map={0}, "
              "index_vector_dim=2, slice_sizes={1}\n}\n",
              seed + 20, 0, 0);
    /* Batching dims: operand dim 0 pairs with index dim 0. */
    check_hlo("HloModule g4\n\nENTRY main {\n"
              "  x = f32[3,7,5] parameter(0)\n  i = s32[3,4,1] parameter(1)\n"
              "  ROOT g = f32[3,4,5] gather(x, i), offset_dims={2}, "
              "collapsed_slice_dims={1}, start_index_map={1}, "
              "operand_batching_dims={0}, start_indices_batching_dims={0}, "
              "index_vector_dim=2, slice_sizes={1,1,5}\n}\n",
              seed + 30, 0, 0);
  }
}
END_TEST

START_TEST(scatter) {
  for (uint64_t seed = 0; seed < 3; seed++) {
    /* Row updates combined by add; repeated and out-of-range rows. */
    check_hlo("HloModule s1\n\nadd {\n  a = f32[] parameter(0)\n"
              "  b = f32[] parameter(1)\n  ROOT c = f32[] add(a, b)\n}\n\n"
              "ENTRY main {\n  x = f32[7,13] parameter(0)\n"
              "  i = s32[5,1] parameter(1)\n  u = f32[5,13] parameter(2)\n"
              "  ROOT s = f32[7,13] scatter(x, i, u), update_window_dims={1}, "
              "inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, "
              "index_vector_dim=1, to_apply=add\n}\n",
              seed, 0, 0);
    /* Replacement (the combiner returns the update), 2-D windows. */
    check_hlo("HloModule s2\n\nsecond {\n  a = s32[] parameter(0)\n"
              "  ROOT b = s32[] parameter(1)\n}\n\n"
              "ENTRY main {\n  x = s32[7,13] parameter(0)\n"
              "  i = u8[3,2] parameter(1)\n  u = s32[3,2,3] parameter(2)\n"
              "  ROOT s = s32[7,13] scatter(x, i, u), update_window_dims={1,2}, "
              "inserted_window_dims={}, scatter_dims_to_operand_dims={0,1}, "
              "index_vector_dim=1, to_apply=second\n}\n",
              seed + 10, 0, 0);
    /* Variadic: two operands updated together (max of a pair). */
    check_hlo("HloModule s3\n\nmx {\n  a = s32[] parameter(0)\n"
              "  b = f32[] parameter(1)\n  c = s32[] parameter(2)\n"
              "  d = f32[] parameter(3)\n  e = s32[] maximum(a, c)\n"
              "  f = f32[] minimum(b, d)\n  ROOT t = (s32[], f32[]) tuple(e, f)\n}\n\n"
              "ENTRY main {\n  x = s32[13] parameter(0)\n  y = f32[13] parameter(1)\n"
              "  i = s32[6] parameter(2)\n  u = s32[6] parameter(3)\n"
              "  v = f32[6] parameter(4)\n"
              "  ROOT s = (s32[13], f32[13]) scatter(x, y, i, u, v), "
              "update_window_dims={}, inserted_window_dims={0}, "
              "scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=mx\n}\n",
              seed + 20, 0, 0);
  }
}
END_TEST

START_TEST(sort) {
  for (uint64_t seed = 0; seed < 3; seed++) {
    /* Total order on floats (NaN and -0 included), along either dim. */
    check_hlo("HloModule so1\n\nlt {\n  a = f32[] parameter(0)\n"
              "  b = f32[] parameter(1)\n"
              "  ROOT c = pred[] compare(a, b), direction=LT, type=TOTALORDER\n}\n\n"
              "ENTRY main {\n  x = f32[7,13] parameter(0)\n"
              "  s0 = f32[7,13] sort(x), dimensions={1}, to_apply=lt\n"
              "  s1 = f32[7,13] sort(x), dimensions={0}, to_apply=lt\n"
              "  ROOT t = (f32[7,13], f32[7,13]) tuple(s0, s1)\n}\n",
              seed, 0, 0);
    /* Keys with many duplicates carrying values: stability matters. */
    check_hlo("HloModule so2\n\ngt {\n  a = s8[] parameter(0)\n"
              "  b = s8[] parameter(1)\n  c = f16[] parameter(2)\n"
              "  d = f16[] parameter(3)\n"
              "  ROOT e = pred[] compare(a, b), direction=GT\n}\n\n"
              "ENTRY main {\n  k = s8[3,13] parameter(0)\n  v = f16[3,13] parameter(1)\n"
              "  ROOT s = (s8[3,13], f16[3,13]) sort(k, v), dimensions={1}, "
              "is_stable=true, to_apply=gt\n}\n",
              seed + 10, 0, 0);
    check_hlo("HloModule so3\n\nlt {\n  a = u64[] parameter(0)\n"
              "  b = u64[] parameter(1)\n"
              "  ROOT c = pred[] compare(a, b), direction=LT\n}\n\n"
              "ENTRY main {\n  x = u64[1] parameter(0)\n  y = u64[29] parameter(1)\n"
              "  s0 = u64[1] sort(x), dimensions={0}, to_apply=lt\n"
              "  s1 = u64[29] sort(y), dimensions={0}, to_apply=lt\n"
              "  ROOT t = (u64[1], u64[29]) tuple(s0, s1)\n}\n",
              seed + 20, 0, 0);
  }
}
END_TEST

/* A comparator that calls another computation (XLA prints such modules;
 * issue #15, bug 5): the pipeline inlines the call, so the compiled sort
 * agrees with the interpreter; without the passes codegen refuses it with
 * a message, not an abort. */
START_TEST(sort_comparator_with_call) {
  static const char text[] =
      "HloModule sc\n\nlt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT c = pred[] compare(a, b), direction=LT\n}\n\n"
      "cmp {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT c = pred[] call(a, b), to_apply=lt\n}\n\n"
      "ENTRY main {\n  p = f32[37] parameter(0)\n"
      "  ROOT s = f32[37] sort(p), dimensions={0}, to_apply=cmp\n}\n";
  cgt_check_with(text, 5, false, true, 0, 0);
  HloModule *m = ck_parse_verified(text);
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &(CgOptions){.name = "t"}, &p);
  ck_assert_ptr_null(p);
  ck_assert_ptr_nonnull(e);
  ck_assert_msg(strstr(hlo_error_message(e), "call(%a.1, %b.2) has no elemental form"), "%s",
                hlo_error_message(e));
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

/* A fusion reading one element of a tuple parameter whose elements have
 * other ranks (issue #15, bug 2): only the selected element is read at
 * the consumer's index.  With and without the pipeline. */
START_TEST(fusion_of_mixed_rank_tuple) {
  static const char text[] =
      "HloModule b2\n\nfused {\n  p0 = (f32[4], f32[2,2,3]) parameter(0)\n"
      "  g = f32[4] get-tuple-element(p0), index=0\n  ROOT n = f32[4] negate(g)\n}\n\n"
      "ENTRY main {\n  a = f32[4] parameter(0)\n  b = f32[2,2,3] parameter(1)\n"
      "  t = (f32[4], f32[2,2,3]) tuple(a, b)\n"
      "  ROOT f = f32[4] fusion(t), kind=kLoop, calls=fused\n}\n";
  cgt_check_with(text, 2, false, false, 0, 0);
  cgt_check_with(text, 2, false, true, 0, 0);
}
END_TEST

/* A broadcast whose dimensions are not in order moves an operand
 * dimension other than the last to the result's last one (XLA's
 * algebraic_simplifier_test and broadcast_canonicalizer_test modules):
 * along a vector of the result the operand is read with a stride, not as
 * one scalar (which the vector path once did, repeating the first
 * element), nor as contiguous elements. */
START_TEST(transposing_broadcast) {
  static const char text[] =
      "HloModule tb\n\nENTRY main {\n  x = f32[6,4,3] parameter(0)\n"
      "  y = f32[5,6,7] parameter(1)\n"
      "  a = f32[4,3,6] broadcast(x), dimensions={2,0,1}\n"
      "  b = f32[8,7,9,5,6] broadcast(y), dimensions={3,4,1}\n"
      "  c = f32[8,7,45,1,6] reshape(b)\n"
      "  ROOT t = (f32[4,3,6], f32[8,7,45,1,6]) tuple(a, c)\n}\n";
  cgt_check_with(text, 3, false, false, 0, 0);
  cgt_check_with(text, 3, false, true, 0, 0);
}
END_TEST

/* Issue #15's first bug: arrays with no elements in a dimension after the
 * first (f32[3,0], f32[3000,0] reduced, a dot over K = 0, a concatenate
 * with an empty operand) compile, with and without the passes, and agree
 * with the evaluator. */
START_TEST(zero_sized_dimensions) {
  static const char text[] =
      "HloModule z\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT s = f32[] add(a, b)\n}\n\n"
      "ENTRY main {\n  p = f32[3000,0] parameter(0)\n  z = f32[] constant(0)\n"
      "  r = f32[3000] reduce(p, z), dimensions={1}, to_apply=add\n"
      "  q = f32[2,0,3] parameter(1)\n  t = f32[0,2,3] transpose(q), dimensions={1,0,2}\n"
      "  c = f32[3,0] parameter(2)\n  d = f32[0,5] parameter(3)\n"
      "  m = f32[3,5] dot(c, d), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  e = f32[3,4] parameter(4)\n  cat = f32[3,4] concatenate(c, e), dimensions={1}\n"
      "  n = f32[3,0] negate(c)\n"
      "  ROOT out = (f32[3000], f32[0,2,3], f32[3,5], f32[3,4], f32[3,0]) "
      "tuple(r, t, m, cat, n)\n}\n";
  cgt_check_with(text, 5, false, false, 0, 0);
  cgt_check_with(text, 5, false, true, 0, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_data");
  TCase *t = tcase_create("data");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, constants);
  tcase_add_test(t, iota);
  tcase_add_loop_test(t, broadcast_reshape_transpose, 0, NTYPES);
  tcase_add_loop_test(t, slice_concat_pad_reverse, 0, NTYPES);
  tcase_add_loop_test(t, dynamic_slices, 0, NTYPES);
  tcase_add_test(t, tuples);
  tcase_add_test(t, gather);
  tcase_add_test(t, scatter);
  tcase_add_test(t, sort);
  tcase_add_test(t, sort_comparator_with_call);
  tcase_add_test(t, fusion_of_mixed_rank_tuple);
  tcase_add_test(t, transposing_broadcast);
  tcase_add_test(t, zero_sized_dimensions);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
