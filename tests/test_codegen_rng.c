/*
 * test_codegen_rng.c — rng-bit-generator compiled as the integer HLO the
 * pipeline's first step expands it into (passes/rng_bit_generator_expand.c),
 * against the evaluator bit for bit (the evaluator's bits are XLA's:
 * tests/test_hlo_eval.c checks them against values XLA printed).
 *
 * Every algorithm and state size, bits of each 32- and 64-bit integer
 * type (and 8- and 16-bit ones, the low bits of 32-bit words), in shapes that take each branch of ThreeFry's split (an even
 * first dimension, an even later one, none even, a scalar), word counts
 * that leave part of Philox's last counter unused, and empty results.
 * States are drawn by the harness, which favours extremes, so counters
 * that wrap (and Philox's carry into the high half) come up; a second
 * generator draws from the first one's new state, as programs do.
 *
 * rng, compiled as passes/rng_expand.c writes it, against the evaluator's
 * rng: integers and uniform floats bit for bit (the same operations in
 * the same order, bounds from the arguments), normal floats within the
 * error of codegen's log, cos and sqrt (codegen/math.c: a few ulp each,
 * so a few times 2^-23 relative, and an absolute error where cos(2 pi v)
 * is near 0: about 2^-23 · 2 pi · |sqrt(-2 log(1 - u))| ≤ 2e-5 (the
 * radius is below 6) times the deviation).  Every rng's bounds are
 * parameters, so that the pipeline cannot fold it into a constant.
 */
#include "test_codegen_util.h"

static void check_exact(const char *text, uint64_t seeds) {
  for (uint64_t seed = 1; seed <= seeds; seed++) cgt_check_with(text, seed, false, true, 0, 0);
}

START_TEST(philox) {
  check_exact("HloModule m\nENTRY e {\n  s = u64[3] parameter(0)\n"
              "  a = (u64[3], u32[5]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  s1 = u64[3] get-tuple-element(a), index=0\n"
              "  b = (u64[3], s64[3,3]) rng-bit-generator(s1), algorithm=rng_philox\n"
              "  c = (u64[3], s32[2,3,2]) rng-bit-generator(s), algorithm=rng_default\n"
              "  d = (u64[3], u64[]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  ROOT t = ((u64[3], u32[5]), (u64[3], s64[3,3]), (u64[3], s32[2,3,2]), "
              "(u64[3], u64[])) tuple(a, b, c, d)\n}\n",
              12);
  check_exact("HloModule m\nENTRY e {\n  s = u64[2] parameter(0)\n"
              "  a = (u64[2], u32[7]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  s1 = u64[2] get-tuple-element(a), index=0\n"
              "  b = (u64[2], u64[2,3]) rng-bit-generator(s1), algorithm=rng_default\n"
              "  c = (u64[2], s32[]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  ROOT t = ((u64[2], u32[7]), (u64[2], u64[2,3]), (u64[2], s32[])) "
              "tuple(a, b, c)\n}\n",
              12);
  /* The low half of the counter within 16 of wrapping: 18 counters carry
   * into the high half (state[2], or the key). */
  check_exact("HloModule m\nENTRY e {\n  s = u64[3] parameter(0)\n"
              "  k = u64[3] constant({0, 18446744073709551600, 0})\n"
              "  w = u64[3] or(s, k)\n"
              "  a = (u64[3], u32[70]) rng-bit-generator(w), algorithm=rng_philox\n"
              "  k2 = u64[2] constant({0, 18446744073709551600})\n"
              "  s2 = u64[2] slice(s), slice={[0:2]}\n"
              "  w2 = u64[2] or(s2, k2)\n"
              "  b = (u64[2], u64[35]) rng-bit-generator(w2), algorithm=rng_philox\n"
              "  ROOT t = ((u64[3], u32[70]), (u64[2], u64[35])) tuple(a, b)\n}\n",
              4);
}
END_TEST

START_TEST(three_fry) {
  check_exact("HloModule m\nENTRY e {\n  s = u64[2] parameter(0)\n"
              "  a = (u64[2], u32[5]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  b = (u64[2], s32[3,4,5]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  c = (u64[2], u32[3,5,7]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  d = (u64[2], u32[4,3]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  e = (u64[2], u32[]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  s1 = u64[2] get-tuple-element(c), index=0\n"
              "  f = (u64[2], s64[2,3]) rng-bit-generator(s1), algorithm=rng_three_fry\n"
              "  ROOT t = ((u64[2], u32[5]), (u64[2], s32[3,4,5]), (u64[2], u32[3,5,7]), "
              "(u64[2], u32[4,3]), (u64[2], u32[]), (u64[2], s64[2,3])) "
              "tuple(a, b, c, d, e, f)\n}\n",
              12);
}
END_TEST

/* 8- and 16-bit bits: each the low bits of the 32-bit word XLA draws for
 * the same shape, under either algorithm. */
START_TEST(narrow_bits) {
  check_exact("HloModule m\nENTRY e {\n  s = u64[2] parameter(0)\n  r = u64[3] parameter(1)\n"
              "  a = (u64[2], u8[3,5]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  b = (u64[2], s16[7]) rng-bit-generator(s), algorithm=rng_three_fry\n"
              "  c = (u64[3], s8[2,3]) rng-bit-generator(r), algorithm=rng_philox\n"
              "  d = (u64[2], u16[5]) rng-bit-generator(s), algorithm=rng_default\n"
              "  ROOT t = ((u64[2], u8[3,5]), (u64[2], s16[7]), (u64[3], s8[2,3]), "
              "(u64[2], u16[5])) tuple(a, b, c, d)\n}\n",
              8);
}
END_TEST

/* States longer than the algorithm reads (XLA takes any u64[n], n >= 2):
 * the words after the key and counter come back unchanged. */
START_TEST(long_state) {
  check_exact("HloModule m\nENTRY e {\n  s = u64[6] parameter(0)\n  r = u64[4] parameter(1)\n"
              "  a = (u64[6], u32[5]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  b = (u64[4], u64[3]) rng-bit-generator(r), algorithm=rng_three_fry\n"
              "  c = (u64[4], u8[2,3]) rng-bit-generator(r), algorithm=rng_default\n"
              "  d = (u64[6], u32[0]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  ROOT t = ((u64[6], u32[5]), (u64[4], u64[3]), (u64[4], u8[2,3]), "
              "(u64[6], u32[0])) tuple(a, b, c, d)\n}\n",
              6);
}
END_TEST

/* No bits: the state comes back unchanged. */
START_TEST(empty) {
  check_exact("HloModule m\nENTRY e {\n  s = u64[3] parameter(0)\n  r = u64[2] parameter(1)\n"
              "  a = (u64[3], u32[0]) rng-bit-generator(s), algorithm=rng_philox\n"
              "  b = (u64[2], u64[0]) rng-bit-generator(r), algorithm=rng_three_fry\n"
              "  ROOT t = ((u64[3], u32[0]), (u64[2], u64[0])) tuple(a, b)\n}\n",
              2);
}
END_TEST

START_TEST(rng_uniform) {
  check_exact("HloModule m\nENTRY e {\n"
              "  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
              "  sh = u64[2] constant({3, 50})\n"
              "  u = f32[3,50] rng(a, b, sh), distribution=rng_uniform\n"
              "  c = f64[] parameter(2)\n  d = f64[] parameter(3)\n"
              "  v = f64[7] rng(c, d), distribution=rng_uniform\n"
              "  h = bf16[] parameter(4)\n  h2 = bf16[] parameter(5)\n"
              "  w = bf16[9] rng(h, h2), distribution=rng_uniform\n"
              "  i = s8[] parameter(6)\n  j = s8[] parameter(7)\n"
              "  x = s8[40] rng(i, j), distribution=rng_uniform\n"
              "  k = u64[] parameter(8)\n  l = u64[] parameter(9)\n"
              "  y = u64[2,5] rng(k, l), distribution=rng_uniform\n"
              "  m = s32[] parameter(10)\n"
              "  z = s32[6] rng(m, m), distribution=rng_uniform\n"
              "  ROOT t = (f32[3,50], f64[7], bf16[9], s8[40], u64[2,5], s32[6]) "
              "tuple(u, v, w, x, y, z)\n}\n",
              8);
}
END_TEST

/* Means and deviations from the integers in [-8, 8] (parameters, so
 * that nothing is folded before codegen): atol 2e-5 · 8. */
START_TEST(rng_normal) {
  for (uint64_t seed = 1; seed <= 3; seed++)
    cgt_check_with("HloModule m\nENTRY e {\n"
                   "  k = f32[] parameter(0)\n  m = f32[] parameter(1)\n"
                   "  n = f32[500] rng(k, m), distribution=rng_normal\n"
                   "  c = f64[] parameter(2)\n  d = f64[] parameter(3)\n"
                   "  v = f64[5,5] rng(c, d), distribution=rng_normal\n"
                   "  ROOT t = (f32[500], f64[5,5]) tuple(n, v)\n}\n",
                   seed, true, true, 1.6e-4, 1e-6);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_rng");
  TCase *t = tcase_create("rng");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, philox);
  tcase_add_test(t, three_fry);
  tcase_add_test(t, narrow_bits);
  tcase_add_test(t, long_state);
  tcase_add_test(t, empty);
  tcase_add_test(t, rng_uniform);
  tcase_add_test(t, rng_normal);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
