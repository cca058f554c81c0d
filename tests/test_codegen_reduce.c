/*
 * test_codegen_reduce.c — reduce and reduce-window, compiled and run
 * through the JIT, against the evaluator (test_codegen_util.h): sums,
 * products, max/min, logical reductions, per-step f16 rounding, variadic
 * reductions (argmax), reductions over several and over no dimensions,
 * and windows with strides, padding, base and window dilation.
 *
 * Tolerance: zero.  Both sides start from the init value and combine
 * elements in row-major order of the reduced dimensions (of the window),
 * one to_apply at a time in the result type, so even float sums agree to
 * the bit; padding positions are skipped on both sides.  Rows of at least
 * two vectors reduced by add, multiply, maximum or minimum are the
 * exception (reduce.c runs them as vectors, reassociated): their float
 * sums are checked on small integers, exact in any order, and maximum and
 * minimum, exact in any order, on every kind of value, NaN included.
 */
#include <unistd.h>

#include "test_codegen_util.h"

/* The scalar computations the modules below call. */
#define COMPUTATIONS                                                          \
  "add_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"           \
  "  ROOT c = f32[] add(a, b)\n}\n\n"                                         \
  "add_f16 {\n  a = f16[] parameter(0)\n  b = f16[] parameter(1)\n"           \
  "  ROOT c = f16[] add(a, b)\n}\n\n"                                         \
  "max_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"           \
  "  ROOT c = f32[] maximum(a, b)\n}\n\n"                                     \
  "min_s8 {\n  a = s8[] parameter(0)\n  b = s8[] parameter(1)\n"              \
  "  ROOT c = s8[] minimum(a, b)\n}\n\n"                                      \
  "mul_s32 {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"           \
  "  ROOT c = s32[] multiply(a, b)\n}\n\n"                                    \
  "or_pred {\n  a = pred[] parameter(0)\n  b = pred[] parameter(1)\n"         \
  "  ROOT c = pred[] or(a, b)\n}\n\n"                                         \
  "add_u64 {\n  a = u64[] parameter(0)\n  b = u64[] parameter(1)\n"           \
  "  ROOT c = u64[] add(a, b)\n}\n\n"

START_TEST(reduce_basic) {
  for (uint64_t seed = 0; seed < 3; seed++)
    check_hlo("HloModule r\n\n" COMPUTATIONS
              "ENTRY main {\n  x = f32[7,13] parameter(0)\n"
              "  h = f16[7,13] parameter(1)\n  b = s8[3,7,13] parameter(2)\n"
              "  i = s32[13] parameter(3)\n  p = pred[7,13] parameter(4)\n"
              "  u = u64[1,13,1] parameter(5)\n"
              "  z = f32[] constant(0)\n  ninf = f32[] constant(-inf)\n"
              "  zh = f16[] constant(0)\n  big = s8[] constant(127)\n"
              "  one = s32[] constant(1)\n  f = pred[] constant(false)\n"
              "  zu = u64[] constant(0)\n"
              "  r0 = f32[7] reduce(x, z), dimensions={1}, to_apply=add_f32\n"
              "  r1 = f32[13] reduce(x, z), dimensions={0}, to_apply=add_f32\n"
              "  r2 = f32[] reduce(x, z), dimensions={0,1}, to_apply=add_f32\n"
              "  r3 = f32[7,13] reduce(x, z), dimensions={}, to_apply=add_f32\n"
              "  r4 = f32[7] reduce(x, ninf), dimensions={1}, to_apply=max_f32\n"
              "  r5 = f16[7] reduce(h, zh), dimensions={1}, to_apply=add_f16\n"
              "  r6 = s8[7] reduce(b, big), dimensions={0,2}, to_apply=min_s8\n"
              "  r7 = s32[] reduce(i, one), dimensions={0}, to_apply=mul_s32\n"
              "  r8 = pred[13] reduce(p, f), dimensions={0}, to_apply=or_pred\n"
              "  r9 = u64[13] reduce(u, zu), dimensions={0,2}, to_apply=add_u64\n"
              "  ROOT t = (f32[7], f32[13], f32[], f32[7,13], f32[7], f16[7], s8[7], "
              "s32[], pred[13], u64[13]) tuple(r0, r1, r2, r3, r4, r5, r6, r7, r8, r9)\n}\n",
              seed, 0, 0);
}
END_TEST

START_TEST(reduce_variadic_argmax) {
  /* (max value, first index of it): ties resolve to the smaller index. */
  for (uint64_t seed = 0; seed < 3; seed++)
    check_hlo("HloModule am\n\n"
              "argmax {\n  a = f32[] parameter(0)\n  i = s32[] parameter(1)\n"
              "  b = f32[] parameter(2)\n  j = s32[] parameter(3)\n"
              "  gt = pred[] compare(a, b), direction=GT\n"
              "  eq = pred[] compare(a, b), direction=EQ\n"
              "  lt = pred[] compare(i, j), direction=LT\n"
              "  tie = pred[] and(eq, lt)\n  keep = pred[] or(gt, tie)\n"
              "  v = f32[] select(keep, a, b)\n  k = s32[] select(keep, i, j)\n"
              "  ROOT r = (f32[], s32[]) tuple(v, k)\n}\n\n"
              "ENTRY main {\n  x = f32[7,13] parameter(0)\n"
              "  io = s32[7,13] iota(), iota_dimension=1\n"
              "  ninf = f32[] constant(-inf)\n  z = s32[] constant(0)\n"
              "  ROOT r = (f32[7], s32[7]) reduce(x, io, ninf, z), dimensions={1}, "
              "to_apply=argmax\n}\n",
              seed, 0, 0);
}
END_TEST

/* One input whose computation returns a 1-tuple: tuple results, compiled
 * as written (--O0) and through the pipeline; s32 sums are exact. */
START_TEST(reduce_one_input_tuple) {
  static const char *text =
      "HloModule t\n\nsum {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
      "  s = s32[] add(a, b)\n  ROOT t = (s32[]) tuple(s)\n}\n\n"
      "ENTRY main {\n  x = s32[7,13] parameter(0)\n  z = s32[] constant(1)\n"
      "  r = (s32[7]) reduce(x, z), dimensions={1}, to_apply=sum\n"
      "  w = (s32[7,12]) reduce-window(x, z), window={size=1x2}, to_apply=sum\n"
      "  ROOT t = ((s32[7]), (s32[7,12])) tuple(r, w)\n}\n";
  for (uint64_t seed = 0; seed < 2; seed++) {
    check_hlo(text, seed, 0, 0);
    cgt_check_with(text, seed, false, true, 0, 0);
  }
}
END_TEST

START_TEST(fused_variadic_reduce) {
  /* A loop fusion whose root is the variadic reduce itself (what XLA's
   * optimized argmax modules hold): its two leaves are the fusion's two
   * outputs.  kernel.c used to store the second leaf through a pointer
   * one past a single memref. */
  for (uint64_t seed = 0; seed < 3; seed++)
    check_hlo("HloModule fam\n\n"
              "argmax {\n  a = f32[] parameter(0)\n  i = s64[] parameter(1)\n"
              "  b = f32[] parameter(2)\n  j = s64[] parameter(3)\n"
              "  gt = pred[] compare(a, b), direction=GT\n"
              "  v = f32[] select(gt, a, b)\n  k = s64[] select(gt, i, j)\n"
              "  ROOT r = (f32[], s64[]) tuple(v, k)\n}\n\n"
              "fused {\n  p = f32[9,13] parameter(0)\n"
              "  io = s64[9,13] iota(), iota_dimension=1\n"
              "  ninf = f32[] constant(-inf)\n  z = s64[] constant(0)\n"
              "  ROOT r = (f32[9], s64[9]) reduce(p, io, ninf, z), dimensions={1}, "
              "to_apply=argmax\n}\n\n"
              "ENTRY main {\n  x = f32[9,13] parameter(0)\n"
              "  ROOT f = (f32[9], s64[9]) fusion(x), kind=kLoop, calls=fused\n}\n",
              seed, 0, 0);
}
END_TEST

/* select-and-scatter, compiled as the pipeline's first step expands it
 * (passes/select_and_scatter_expand.c: a reduce-window carrying indices,
 * then a scatter), against the evaluator's direct walk.  Arguments are
 * small integers, so windows hold ties (the first wins) and the sums are
 * exact: the comparison is exact. */
START_TEST(select_and_scatter) {
  static const char *comps =
      "ge {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT c = pred[] compare(a, b), direction=GE\n}\n"
      "pos {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  z = f32[] constant(0)\n"
      "  ROOT c = pred[] compare(a, z), direction=GE\n}\n"
      "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT c = f32[] add(a, b)\n}\n"
      "le_s32 {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
      "  ROOT c = pred[] compare(a, b), direction=LE\n}\n"
      "second_s32 {\n  a = s32[] parameter(0)\n  ROOT b = s32[] parameter(1)\n}\n";
  char text[4096];
  for (uint64_t seed = 1; seed <= 3; seed++) {
    /* Max pooling's gradient (NHWC, 2x2 stride 2, padded at the high
     * end); a select that is no order (the first non-negative, as in
     * XLA's corpus) over overlapping windows; a min select with a scatter
     * that keeps the last source (not commutative) over padded,
     * overlapping windows in s32, some of padding only; a scalar. */
    snprintf(text, sizeof text,
             "HloModule m\n%s"
             "ENTRY e {\n  x = f32[2,6,7,3] parameter(0)\n  g = f32[2,3,4,3] parameter(1)\n"
             "  z = f32[] constant(0)\n"
             "  a = f32[2,6,7,3] select-and-scatter(x, g, z), window={size=1x2x2x1 "
             "stride=1x2x2x1 pad=0_0x0_0x0_1x0_0}, select=ge, scatter=add\n"
             "  y = f32[5,6] parameter(2)\n  h = f32[4,5] parameter(3)\n"
             "  v = f32[] parameter(4)\n"
             "  b = f32[5,6] select-and-scatter(y, h, v), window={size=2x2}, select=pos, "
             "scatter=add\n"
             "  i = s32[9,5] parameter(5)\n  j = s32[6,5] parameter(6)\n"
             "  k = s32[] parameter(7)\n"
             "  c = s32[9,5] select-and-scatter(i, j, k), window={size=3x2 stride=2x1 "
             "pad=3_1x0_1}, select=le_s32, scatter=second_s32\n"
             "  p = f32[] parameter(8)\n  q = f32[] parameter(9)\n"
             "  d = f32[] select-and-scatter(p, q, v), select=ge, scatter=add\n"
             "  ROOT t = (f32[2,6,7,3], f32[5,6], s32[9,5], f32[]) tuple(a, b, c, d)\n}\n",
             comps);
    cgt_check_with(text, seed, true, true, 0, 0);
  }
}
END_TEST

START_TEST(reduce_window) {
  for (uint64_t seed = 0; seed < 3; seed++) {
    /* Max pooling 2x2 stride 2 over NHWC, padded at the high end. */
    check_hlo("HloModule mp\n\n" COMPUTATIONS
              "ENTRY main {\n  x = f32[2,7,13,3] parameter(0)\n"
              "  ninf = f32[] constant(-inf)\n"
              "  ROOT m = f32[2,4,7,3] reduce-window(x, ninf), "
              "window={size=1x2x2x1 stride=1x2x2x1 pad=0_0x0_1x0_1x0_0}, "
              "to_apply=max_f32\n}\n",
              seed, 0, 0);
    /* Sums with padding on both sides, base (lhs) and window (rhs)
     * dilation, and a non-zero init; windows of up to 16 elements are
     * unrolled (codegen/reduce.c), larger ones loop. */
    check_hlo("HloModule rw\n\n" COMPUTATIONS
              "ENTRY main {\n  x = f32[7,13] parameter(0)\n"
              "  h = f16[13] parameter(1)\n  i = s32[7,13] parameter(2)\n"
              "  v = f32[] parameter(3)\n  zh = f16[] constant(0)\n"
              "  one = s32[] constant(1)\n"
              "  a = f32[9,7] reduce-window(x, v), window={size=3x3 stride=1x2 "
              "pad=2_2x1_1}, to_apply=add_f32\n"
              "  b = f32[12,24] reduce-window(x, v), window={size=2x3 "
              "pad=0_0x1_0 lhs_dilate=2x2}, to_apply=add_f32\n"
              "  c = f32[2,4] reduce-window(x, v), window={size=3x2 stride=2x3 "
              "rhs_dilate=2x3}, to_apply=add_f32\n"
              "  d = f16[7] reduce-window(h, zh), window={size=4 stride=2 pad=1_2}, "
              "to_apply=add_f16\n"
              "  e = s32[7,13] reduce-window(i, one), window={size=1x1}, "
              "to_apply=mul_s32\n"
              /* more than 16 elements: a loop over the window, not unrolled */
              "  g = f32[7,13] reduce-window(x, v), window={size=5x5 pad=2_2x2_2}, "
              "to_apply=add_f32\n"
              "  ROOT t = (f32[9,7], f32[12,24], f32[2,4], f16[7], s32[7,13], f32[7,13]) "
              "tuple(a, b, c, d, e, g)\n}\n",
              seed + 10, 0, 0);
  }
}
END_TEST

/* Variadic reduce-window: several arrays of different element types
 * reduced together by a computation returning a tuple (argmax over a
 * window, the index riding along; a sum, a product and a maximum at
 * once), with padding, strides, base and window dilation, windows
 * unrolled and looped, at the root and as a fusion's root (its leaves the
 * fusion's outputs), as written and through the pipeline. */
START_TEST(reduce_window_variadic) {
  static const char *argmax =
      "argmax {\n  a = f32[] parameter(0)\n  i = s32[] parameter(1)\n"
      "  b = f32[] parameter(2)\n  j = s32[] parameter(3)\n"
      "  gt = pred[] compare(a, b), direction=GT\n  eq = pred[] compare(a, b), direction=EQ\n"
      "  lt = pred[] compare(i, j), direction=LT\n  tie = pred[] and(eq, lt)\n"
      "  first = pred[] or(gt, tie)\n"
      "  v = f32[] select(first, a, b)\n  k = s32[] select(first, i, j)\n"
      "  ROOT r = (f32[], s32[]) tuple(v, k)\n}\n"
      "three {\n  a = f32[] parameter(0)\n  b = s32[] parameter(1)\n"
      "  c = s64[] parameter(2)\n  x = f32[] parameter(3)\n  y = s32[] parameter(4)\n"
      "  z = s64[] parameter(5)\n  s = f32[] add(a, x)\n  m = s32[] multiply(b, y)\n"
      "  h = s64[] maximum(c, z)\n  ROOT r = (f32[], s32[], s64[]) tuple(s, m, h)\n}\n";
  char text[8192];
  snprintf(text, sizeof text,
           "HloModule rwv\n%s"
           "ENTRY main {\n  x = f32[7,13] parameter(0)\n  i = s32[7,13] parameter(1)\n"
           "  l = s64[7,13] parameter(2)\n  ninf = f32[] constant(-inf)\n"
           "  m1 = s32[] constant(-1)\n  z = f32[] constant(0)\n  one = s32[] constant(1)\n"
           "  lo = s64[] constant(-5)\n"
           "  a = (f32[9,7], s32[9,7]) reduce-window(x, i, ninf, m1), window={size=3x3 "
           "stride=1x2 pad=2_2x1_1}, to_apply=argmax\n"
           "  b = (f32[12,24], s32[12,24], s64[12,24]) reduce-window(x, i, l, z, one, lo), "
           "window={size=2x3 pad=0_0x1_0 lhs_dilate=2x2}, to_apply=three\n"
           "  c = (f32[2,4], s32[2,4], s64[2,4]) reduce-window(x, i, l, z, one, lo), "
           "window={size=3x2 stride=2x3 rhs_dilate=2x3}, to_apply=three\n"
           "  d = (f32[7,13], s32[7,13]) reduce-window(x, i, ninf, m1), window={size=5x5 "
           "pad=2_2x2_2}, to_apply=argmax\n"
           "  ROOT t = ((f32[9,7], s32[9,7]), (f32[12,24], s32[12,24], s64[12,24]), "
           "(f32[2,4], s32[2,4], s64[2,4]), (f32[7,13], s32[7,13])) tuple(a, b, c, d)\n}\n",
           argmax);
  for (uint64_t seed = 0; seed < 3; seed++) {
    check_hlo(text, seed, 0, 0);
    cgt_check_with(text, seed, true, true, 0, 0);
  }
  /* At the root, and as a loop fusion's root. */
  snprintf(text, sizeof text,
           "HloModule rwr\n%s"
           "ENTRY main {\n  x = f32[6,10] parameter(0)\n  i = s32[6,10] parameter(1)\n"
           "  ninf = f32[] constant(-inf)\n  m1 = s32[] constant(-1)\n"
           "  ROOT a = (f32[3,5], s32[3,5]) reduce-window(x, i, ninf, m1), window={size=2x3 "
           "stride=2x2 pad=0_0x0_1}, to_apply=argmax\n}\n", argmax);
  for (uint64_t seed = 0; seed < 3; seed++) {
    check_hlo(text, seed, 0, 0);
    cgt_check_with(text, seed, false, true, 0, 0);
  }
  snprintf(text, sizeof text,
           "HloModule rwf\n%s"
           "fused {\n  p = f32[6,10] parameter(0)\n  q = f32[6,10] negate(p)\n"
           "  io = s32[6,10] iota(), iota_dimension=1\n"
           "  ninf = f32[] constant(-inf)\n  m1 = s32[] constant(-1)\n"
           "  ROOT a = (f32[6,5], s32[6,5]) reduce-window(q, io, ninf, m1), window={size=1x2 "
           "stride=1x2}, to_apply=argmax\n}\n"
           "ENTRY main {\n  x = f32[6,10] parameter(0)\n"
           "  ROOT f = (f32[6,5], s32[6,5]) fusion(x), kind=kLoop, calls=fused\n}\n", argmax);
  for (uint64_t seed = 0; seed < 3; seed++) check_hlo(text, seed, 0, 0);
}
END_TEST

START_TEST(reduce_rows_as_vectors) {
  /* Rows shorter than two vectors (scalar), whole vectors, vectors and a
   * tail, long rows, rows long enough to prefetch the next (1040 f32, over
   * 4 KiB: reduce.c, "Prefetching the next row"); 4, 8 and 16 lanes. */
  static const char *const cpus[] = {"x86-64", "x86-64-v3", "znver4"};
  static const int ns[] = {7, 16, 37, 64, 1000, 1040};
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
      char text[4096];
      int n = ns[k];
      snprintf(text, sizeof text,
               "HloModule v\n\n" COMPUTATIONS
               "mul_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
               "  ROOT c = f32[] multiply(a, b)\n}\n\n"
               "min_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
               "  ROOT c = f32[] minimum(b, a)\n}\n\n"
               "ENTRY main {\n  x = f32[3,%d] parameter(0)\n  i = s32[2,%d] parameter(1)\n"
               "  v = f32[] parameter(2)\n  ninf = f32[] constant(-inf)\n"
               "  inf = f32[] constant(inf)\n  one = s32[] constant(1)\n"
               "  half = f32[] constant(0.5)\n"
               "  e = f32[3,%d] exponential(x)\n  g = f32[3,%d] sign(x)\n"
               "  a = f32[3] reduce(x, v), dimensions={1}, to_apply=add_f32\n"
               "  m = f32[3] reduce(e, ninf), dimensions={1}, to_apply=max_f32\n"
               "  l = f32[3] reduce(x, inf), dimensions={1}, to_apply=min_f32\n"
               "  p = s32[2] reduce(i, one), dimensions={1}, to_apply=mul_s32\n"
               "  q = f32[3] reduce(g, half), dimensions={1}, to_apply=mul_f32\n"
               "  ROOT t = (f32[3], f32[3], f32[3], s32[2], f32[3]) tuple(a, m, l, p, q)\n}\n",
               n, n, n, n);
      CgOptions o = {.name = "t", .cpu = cpus[c]};
      /* Small integers: every sum of them is exact in f32 in any order;
       * products of signs (-1, 0, 1) too. */
      cgt_check_opts(text, 40 + k, true, false, &o, 0, 0);
    }
  /* Maximum and minimum on every kind of value (NaN, infinities, -0):
   * exact whatever the order. */
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    for (uint64_t seed = 0; seed < 4; seed++)
      cgt_check_opts("HloModule w\n\n" COMPUTATIONS
                     "ENTRY main {\n  x = f32[9,41] parameter(0)\n"
                     "  ninf = f32[] constant(-inf)\n"
                     "  ROOT m = f32[9] reduce(x, ninf), dimensions={1}, to_apply=max_f32\n}\n",
                     seed, false, false, &(CgOptions){.name = "t", .cpu = cpus[c]}, 0, 0);
}
END_TEST

/* Prefetching the next row (reduce.c): a row kernel over rows of at least
 * an eighth of the L1 (4 KiB on the 32 KiB of every named CPU) prefetches
 * in its last pass over a row only: a layer norm's sweep, for its input
 * and its output (one line a vector of 16 f32 on znver4), not its two
 * reductions; a softmax's parked exp and its sweep (the parked buffer is
 * the output); a row sum's one pass (four lines an iteration of four
 * vectors).  Rows of 1 KiB prefetch nothing.  The results stay the
 * evaluator's to the bit where the order does not matter (a maximum and a
 * minimum, then elementwise), the last row prefetching itself. */
static int prefetches(const char *dir, const char *text, const char *cpu) {
  char path[256];
  ck_write_file(dir, "m.hlo", text, path, sizeof path);
  char *out = NULL;
  int rc = ck_sh(&out, "%s dump %s --stage kir --cpu %s", ck_env("HLOC_BIN"), path, cpu);
  ck_assert_msg(rc == 0, "%s", out);
  int n = 0;
  for (const char *p = out; (p = strstr(p, " prefetch ")); p++) n++;
  free(out);
  return n;
}

START_TEST(row_prefetch) {
  char dir[] = "/tmp/hloc-prefetch-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  static const int cols[] = {4096, 256};
  for (int k = 0; k < 2; k++) {
    int c = cols[k];
    char text[4096];
    snprintf(text, sizeof text,
             "HloModule ln\n\n" COMPUTATIONS
             "ENTRY main {\n  x = f32[64,%d] parameter(0)\n  z = f32[] constant(0)\n"
             "  nc = f32[] constant(%d)\n  eps = f32[] constant(1e-5)\n"
             "  s = f32[64] reduce(x, z), dimensions={1}, to_apply=add_f32\n"
             "  nb = f32[64] broadcast(nc), dimensions={}\n  mean = f32[64] divide(s, nb)\n"
             "  mb = f32[64,%d] broadcast(mean), dimensions={0}\n"
             "  d = f32[64,%d] subtract(x, mb)\n  sq = f32[64,%d] multiply(d, d)\n"
             "  v = f32[64] reduce(sq, z), dimensions={1}, to_apply=add_f32\n"
             "  var = f32[64] divide(v, nb)\n  eb = f32[64] broadcast(eps), dimensions={}\n"
             "  ve = f32[64] add(var, eb)\n  rs = f32[64] rsqrt(ve)\n"
             "  rb = f32[64,%d] broadcast(rs), dimensions={0}\n"
             "  ROOT r = f32[64,%d] multiply(d, rb)\n}\n",
             c, c, c, c, c, c, c);
    ck_assert_int_eq(prefetches(dir, text, "znver4"), k ? 0 : 2);
    snprintf(text, sizeof text,
             "HloModule sm\n\n" COMPUTATIONS
             "ENTRY main {\n  x = f32[64,%d] parameter(0)\n  ninf = f32[] constant(-inf)\n"
             "  z = f32[] constant(0)\n"
             "  mx = f32[64] reduce(x, ninf), dimensions={1}, to_apply=max_f32\n"
             "  mb = f32[64,%d] broadcast(mx), dimensions={0}\n"
             "  d = f32[64,%d] subtract(x, mb)\n  e = f32[64,%d] exponential(d)\n"
             "  sm = f32[64] reduce(e, z), dimensions={1}, to_apply=add_f32\n"
             "  sb = f32[64,%d] broadcast(sm), dimensions={0}\n"
             "  ROOT r = f32[64,%d] divide(e, sb)\n}\n",
             c, c, c, c, c, c);
    ck_assert_int_eq(prefetches(dir, text, "znver4"), k ? 0 : 2);
    snprintf(text, sizeof text,
             "HloModule rs\n\n" COMPUTATIONS
             "ENTRY main {\n  x = f32[64,%d] parameter(0)\n  z = f32[] constant(0)\n"
             "  ROOT r = f32[64] reduce(x, z), dimensions={1}, to_apply=add_f32\n}\n", c);
    ck_assert_int_eq(prefetches(dir, text, "znver4"), k ? 0 : 4);
  }
  char path[256];
  snprintf(path, sizeof path, "%s/m.hlo", dir);
  unlink(path);
  rmdir(dir);
  /* Exact: a row's maximum and minimum, then a sweep over it. */
  static const char *const cpus[] = {"x86-64", "x86-64-v3", "znver4"};
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    for (uint64_t seed = 0; seed < 2; seed++)
      cgt_check_opts("HloModule p\n\n" COMPUTATIONS
                     "min_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                     "  ROOT c = f32[] minimum(a, b)\n}\n\n"
                     "ENTRY main {\n  x = f32[3,1040] parameter(0)\n"
                     "  ninf = f32[] constant(-inf)\n  inf = f32[] constant(inf)\n"
                     "  mx = f32[3] reduce(x, ninf), dimensions={1}, to_apply=max_f32\n"
                     "  mn = f32[3] reduce(x, inf), dimensions={1}, to_apply=min_f32\n"
                     "  mb = f32[3,1040] broadcast(mx), dimensions={0}\n"
                     "  nb = f32[3,1040] broadcast(mn), dimensions={0}\n"
                     "  d = f32[3,1040] subtract(x, mb)\n"
                     "  ROOT r = f32[3,1040] multiply(d, nb)\n}\n",
                     seed, false, false, &(CgOptions){.name = "t", .cpu = cpus[c]}, 0, 0);
}
END_TEST

START_TEST(reduce_columns_as_vectors) {
  /* Reductions keeping the minor dim run one output a lane, in the
   * evaluator's order: random floats (NaN and infinities among them for
   * maximum and minimum) agree to the bit.  Columns of 5 (shorter than a
   * vector), 13 and 37 (a tail), 32 and 144 (whole vectors, several at
   * once); 4, 8 and 16 lanes; a fused producer (x * logistic(x)) and
   * epilogue (a mean) as in an SE block, fused by the pipeline; a combiner naming its
   * parameters the other way round. */
  static const char *const cpus[] = {"x86-64", "x86-64-v3", "znver4"};
  static const int ns[] = {5, 13, 32, 37, 144};
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
      char text[4096];
      int n = ns[k];
      snprintf(text, sizeof text,
               "HloModule c\n\n" COMPUTATIONS
               "min_f64 {\n  a = f64[] parameter(0)\n  b = f64[] parameter(1)\n"
               "  ROOT c = f64[] minimum(b, a)\n}\n\n"
               "ENTRY main {\n  x = f32[1,6,5,%d] parameter(0)\n  y = f64[9,%d] parameter(1)\n"
               "  i = s32[4,%d] parameter(2)\n  w = f32[3,%d] parameter(3)\n  cnt = f32[] parameter(4)\n"
               "  z = f32[] constant(0)\n  zd = f64[] constant(inf)\n"
               "  one = s32[] constant(1)\n  ninf = f32[] constant(-inf)\n"
               "  lg = f32[1,6,5,%d] logistic(x)\n  sw = f32[1,6,5,%d] multiply(x, lg)\n"
               "  s = f32[1,%d] reduce(sw, z), dimensions={1,2}, to_apply=add_f32\n"
               "  cb = f32[1,%d] broadcast(cnt), dimensions={}\n"
               "  mean = f32[1,%d] divide(s, cb)\n"
               "  md = f64[%d] reduce(y, zd), dimensions={0}, to_apply=min_f64\n"
               "  p = s32[%d] reduce(i, one), dimensions={0}, to_apply=mul_s32\n"
               "  m = f32[%d] reduce(w, ninf), dimensions={0}, to_apply=max_f32\n"
               "  ROOT t = (f32[1,%d], f64[%d], s32[%d], f32[%d]) tuple(mean, md, p, m)\n}\n",
               n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n);
      /* Through the pipeline, so that the producer and the mean fuse. */
      cgt_check_opts(text, 60 + k, false, true, &(CgOptions){.name = "t", .cpu = cpus[c]}, 0, 0);
    }
}
END_TEST

/* Whether the kernel IR of text (no pipeline) for cpu holds needle. */
static bool mlir_has(const char *text, const char *cpu, const char *needle) {
  HloModule *m = ck_parse_verified(text);
  char *mlir = NULL;
  HloError *e = cg_emit_mlir(m, &(CgOptions){.name = "t", .cpu = cpu}, &mlir);
  ck_assert_msg(!e, "emit: %s", hlo_error_message(e));
  bool has = strstr(mlir, needle) != NULL;
  free(mlir);
  hlo_module_free(m);
  return has;
}

/* Runs the compiled module (one result) on args with the result's buffer
 * `offset` bytes past a 64-byte boundary; a malloc'd copy of it. */
static void *run_at(CgJit *j, HloLiteral *const *args, int nargs, size_t bytes, size_t offset) {
  const hloc_program *p = cg_jit_program(j);
  ck_assert_int_eq(p->num_results, 1);
  uint8_t *buf = aligned_alloc(64, (bytes + offset + 63) / 64 * 64);
  ck_assert_ptr_nonnull(buf);
  memset(buf, 0xA5, bytes + offset);
  void *bufs[8];
  for (int i = 0; i < nargs; i++) bufs[i] = args[i]->data;
  bufs[nargs] = buf + offset;
  ck_assert_int_eq(hloc_program_run(p, bufs), 0);
  void *out = malloc(bytes);
  memcpy(out, buf + offset, bytes);
  free(buf);
  return out;
}

/* Streaming stores (kernel.c): an output larger than the last-level
 * cache (8 MiB for a named CPU) is stored past the caches, then fenced,
 * where its rows are whole vectors and its buffer is aligned to the
 * vector; else with plain stores.  A layer norm (a row kernel: its sweep
 * streams) and an add (an elementwise kernel sweeps its rows too) over
 * 1040 rows of 2048 f32 (8.1 MiB), on AVX2 (32-byte stores) and AVX-512:
 * the bits are the evaluator's (the add) or within the rounding of the
 * reassociated sums (the layer norm), and the same with the result's
 * buffer 4 bytes off the alignment (the plain path).  Rows of 2050 (not
 * whole vectors), 1000 rows (under the cache) and a fused softmax (its
 * parked exp is read back from the output) keep plain stores. */
START_TEST(streaming_stores) {
  static const char *const cpus[] = {"x86-64-v3", "znver4"};
  static const char *const aligns[] = {"alignment = 32 : i64, nontemporal = true",
                                       "alignment = 64 : i64, nontemporal = true"};
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    for (int kind = 0; kind < 2; kind++) {
      char *text = kind ? cgt_fmt("HloModule add\n\nENTRY main {\n"
                                  "  x = f32[1040,2048] parameter(0)\n"
                                  "  y = f32[1040,2048] parameter(1)\n"
                                  "  ROOT r = f32[1040,2048] add(x, y)\n}\n")
                        : cgt_fmt("HloModule ln\n\n" COMPUTATIONS
                                  "ENTRY main {\n  x = f32[1040,2048] parameter(0)\n"
                                  "  z = f32[] constant(0)\n  nc = f32[] constant(2048)\n"
                                  "  s = f32[1040] reduce(x, z), dimensions={1}, to_apply=add_f32\n"
                                  "  nb = f32[1040] broadcast(nc), dimensions={}\n"
                                  "  mean = f32[1040] divide(s, nb)\n"
                                  "  mb = f32[1040,2048] broadcast(mean), dimensions={0}\n"
                                  "  d = f32[1040,2048] subtract(x, mb)\n"
                                  "  sq = f32[1040,2048] multiply(d, d)\n"
                                  "  v = f32[1040] reduce(sq, z), dimensions={1}, to_apply=add_f32\n"
                                  "  var = f32[1040] divide(v, nb)\n"
                                  "  rs = f32[1040] rsqrt(var)\n"
                                  "  rb = f32[1040,2048] broadcast(rs), dimensions={0}\n"
                                  "  ROOT r = f32[1040,2048] multiply(d, rb)\n}\n");
      ck_assert_msg(mlir_has(text, cpus[c], aligns[c]), "%s: no streaming store", cpus[c]);
      ck_assert(mlir_has(text, cpus[c], "llvm.x86.sse.sfence"));
      HloModule *m = ck_parse_verified(text);
      HloLiteral *args[2];
      uint64_t s = 77 + c;
      for (int i = 0; i < m->entry->nparams; i++) {
        args[i] = hlo_literal_new(&m->entry->params[i]->shape);
        cgt_fill_values(args[i], &s, true);
      }
      HloLiteral *want = ck_evaluate(m, args, m->entry->nparams);
      CgJit *j = cgt_jit_with(m, &(CgOptions){.name = "t", .cpu = cpus[c]});
      if (cgt_host_runs(cg_jit_program(j))) {
        size_t bytes = hlo_shape_byte_size(&want->shape);
        void *aligned = run_at(j, args, m->entry->nparams, bytes, 0);
        void *off = run_at(j, args, m->entry->nparams, bytes, 4);
        ck_assert_msg(!memcmp(aligned, off, bytes), "%s: the plain path's bits differ", cpus[c]);
        HloLiteral *got = hlo_literal_new(&want->shape);
        memcpy(got->data, aligned, bytes);
        char msg[512];
        /* The layer norm's variance sums 2048 rounded squares in another
         * order than the evaluator. */
        ck_assert_msg(ck_allclose(got, want, 0, kind ? 0 : 1e-4, msg, sizeof msg), "%s: %s",
                      cpus[c], msg);
        hlo_literal_free(got);
        free(aligned);
        free(off);
      }
      cg_jit_free(j);
      hlo_literal_free(want);
      for (int i = 0; i < m->entry->nparams; i++) hlo_literal_free(args[i]);
      hlo_module_free(m);
      free(text);
    }
  /* Plain stores: rows that are not whole vectors, an output under the
   * cache, a parked value. */
  ck_assert(!mlir_has("HloModule a\n\nENTRY main {\n  x = f32[1040,2050] parameter(0)\n"
                      "  ROOT r = f32[1040,2050] add(x, x)\n}\n",
                      "znver4", "nontemporal"));
  ck_assert(!mlir_has("HloModule a\n\nENTRY main {\n  x = f32[1000,2048] parameter(0)\n"
                      "  ROOT r = f32[1000,2048] add(x, x)\n}\n",
                      "znver4", "nontemporal"));
  ck_assert(!mlir_has("HloModule sm\n\n" COMPUTATIONS
                      "softmax {\n  x = f32[1040,2048] parameter(0)\n"
                      "  ninf = f32[] constant(-inf)\n  z = f32[] constant(0)\n"
                      "  mx = f32[1040] reduce(x, ninf), dimensions={1}, to_apply=max_f32\n"
                      "  mb = f32[1040,2048] broadcast(mx), dimensions={0}\n"
                      "  d = f32[1040,2048] subtract(x, mb)\n"
                      "  e = f32[1040,2048] exponential(d)\n"
                      "  sm = f32[1040] reduce(e, z), dimensions={1}, to_apply=add_f32\n"
                      "  sb = f32[1040,2048] broadcast(sm), dimensions={0}\n"
                      "  ROOT r = f32[1040,2048] divide(e, sb)\n}\n\n"
                      "ENTRY main {\n  x = f32[1040,2048] parameter(0)\n"
                      "  ROOT f = f32[1040,2048] fusion(x), kind=kInput, calls=softmax\n}\n",
                      "znver4", "nontemporal"));
}
END_TEST

START_TEST(reduce_columns_by_rows) {
  /* Columns wider than the vectors a strip carries are reduced rows
   * outer, columns inner, into accumulators in a stack buffer of half the
   * target's L1 (a block of columns; several blocks here, the last
   * partial): each column combined in row order still, so the bits are
   * the evaluator's.  A fused producer (exact: x * x - x) and a mean's
   * divide; column counts
   * a multiple of the vectors (4160) or not (4103: a scalar tail); dims
   * kept around the reduced ones (a batch, NHWC's C); 4, 8 and 16 lanes. */
  static const char *const cpus[] = {"x86-64", "x86-64-v3", "znver4"};
  static const int ns[] = {4103, 4160};
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
      int n = ns[k];
      char *text = cgt_fmt(
          "HloModule c\n\n" COMPUTATIONS
          "ENTRY main {\n  x = f32[9,%d] parameter(0)\n  cnt = f32[] parameter(1)\n"
          "  y = f32[2,3,%d] parameter(2)\n  w = f32[3,2,5,%d] parameter(3)\n"
          "  z = f32[] constant(0)\n  ninf = f32[] constant(-inf)\n"
          "  sq = f32[9,%d] multiply(x, x)\n  sw = f32[9,%d] subtract(sq, x)\n"
          "  s = f32[%d] reduce(sw, z), dimensions={0}, to_apply=add_f32\n"
          "  cb = f32[%d] broadcast(cnt), dimensions={}\n  mean = f32[%d] divide(s, cb)\n"
          "  b = f32[2,%d] reduce(y, z), dimensions={1}, to_apply=add_f32\n"
          "  m = f32[2,%d] reduce(w, ninf), dimensions={0,2}, to_apply=max_f32\n"
          "  ROOT t = (f32[%d], f32[2,%d], f32[2,%d]) tuple(mean, b, m)\n}\n",
          n, n, n, n, n, n, n, n, n, n, n, n, n);
      cgt_check_opts(text, 80 + k, false, true, &(CgOptions){.name = "t", .cpu = cpus[c]}, 0, 0);
      free(text);
    }
  /* Several reductions of one fusion, one pass over the rows for those
   * that reduce the same elements (a sum and a sum of squares: moments),
   * another for the maximum over other rows; their accumulators share the
   * L1 budget (blocks of 2048 columns on a 32 KiB L1: 3 here). */
  const char *moments =
      "HloModule c\n\n" COMPUTATIONS
      "fused {\n  x = f32[7,5000] parameter(0)\n  w = f32[3,7,5000] parameter(1)\n"
      "  z = f32[] constant(0)\n  ninf = f32[] constant(-inf)\n"
      "  sq = f32[7,5000] multiply(x, x)\n"
      "  s = f32[5000] reduce(x, z), dimensions={0}, to_apply=add_f32\n"
      "  s2 = f32[5000] reduce(sq, z), dimensions={0}, to_apply=add_f32\n"
      "  m = f32[5000] reduce(w, ninf), dimensions={0,1}, to_apply=max_f32\n"
      "  n = f32[] constant(7)\n  nb = f32[5000] broadcast(n), dimensions={}\n"
      "  mean = f32[5000] divide(s, nb)\n  ms = f32[5000] divide(s2, nb)\n"
      "  ROOT t = (f32[5000], f32[5000], f32[5000]) tuple(mean, ms, m)\n}\n\n"
      "ENTRY main {\n  x = f32[7,5000] parameter(0)\n  w = f32[3,7,5000] parameter(1)\n"
      "  ROOT f = (f32[5000], f32[5000], f32[5000]) fusion(x, w), kind=kLoop, calls=fused\n}\n";
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
    cgt_check_opts(moments, 90 + c, false, false, &(CgOptions){.name = "t", .cpu = cpus[c]}, 0,
                   0);
  /* The buffer is there, sized from the L1 of the target description
   * (32 KiB for a named CPU): 2048 columns of three f32 sums would not fit
   * half of it, 1360 do (a multiple of 16 lanes: 85 vectors). */
  ck_assert(
      mlir_has(moments, "znver4", "memref.alloca() {alignment = 64 : i64} : memref<1360xf32>"));
  /* Columns that one strip of vectors carries keep their sums in
   * registers: no buffer. */
  ck_assert(!mlir_has("HloModule c\n\n" COMPUTATIONS
                      "ENTRY main {\n  x = f32[50,64] parameter(0)\n  z = f32[] constant(0)\n"
                      "  ROOT s = f32[64] reduce(x, z), dimensions={0}, to_apply=add_f32\n}\n",
                      "znver4", "memref.alloca() {alignment = 64 : i64}"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_reduce");
  TCase *t = tcase_create("reduce");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, reduce_basic);
  tcase_add_test(t, reduce_variadic_argmax);
  tcase_add_test(t, reduce_one_input_tuple);
  tcase_add_test(t, fused_variadic_reduce);
  tcase_add_test(t, reduce_window);
  tcase_add_test(t, reduce_window_variadic);
  tcase_add_test(t, select_and_scatter);
  tcase_add_test(t, reduce_rows_as_vectors);
  tcase_add_test(t, row_prefetch);
  tcase_add_test(t, reduce_columns_as_vectors);
  tcase_add_test(t, reduce_columns_by_rows);
  tcase_add_test(t, streaming_stores);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
