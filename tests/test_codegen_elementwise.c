/*
 * test_codegen_elementwise.c — every elementwise op on every element type
 * it is defined on, compiled and run through the JIT, against the
 * evaluator (test_codegen_util.h).
 *
 * One module per element type and shape holds every op of that type as a
 * result of the root tuple, so a failure names the op (result names are
 * result<i>, in the order of the ops listed here).  Shapes: [7,13], [13],
 * [1,1] and a scalar, so odd trip counts and rank 0 are covered.
 *
 * Tolerance: zero everywhere but the transcendentals.  Integer and pred
 * results must be exact by definition; float arithmetic is the same IEEE
 * operation in the same precision (f16/bf16 computed in f32 and rounded to
 * nearest even, as the evaluator does).  The f32 transcendentals are
 * codegen/math.c's own approximations while the evaluator calls libm, so
 * each is checked in a module of its own against its bound in
 * docs/math.md plus the ulp libm may be off itself; f16/bf16 results may
 * in addition round the other way (one ulp of their type).  f64 keeps
 * libm, so f64 stays exact.
 */
#include "test_codegen_util.h"

static const char *const shapes[] = {"[7,13]", "[13]", "[1,1]", "[]"};
#define NSHAPES 4

static const char *const float_unary[] = {
    "negate", "abs", "sign", "sqrt", "rsqrt", "floor", "ceil",
    "round-nearest-afz", "round-nearest-even", NULL};
static const char *const float_binary[] = {
    "add", "subtract", "multiply", "divide", "remainder", "maximum",
    "minimum", NULL};
/* The transcendentals and their f32 error bounds in ulps (docs/math.md). */
static const struct {
  const char *op;
  int arity;
  double ulps;
} transcendental[] = {
    {"exponential", 1, 1.5}, {"exponential-minus-one", 1, 2}, {"log", 1, 1.5},
    {"log-plus-one", 1, 2},  {"logistic", 1, 2.5},           {"cbrt", 1, 1},
    {"tanh", 1, 2},          {"sine", 1, 1},                 {"cosine", 1, 1},
    {"tan", 1, 1},           {"erf", 1, 2},                  {"power", 2, 1},
    {"atan2", 2, 2}};
#define NTRANSCENDENTAL ((int)(sizeof transcendental / sizeof *transcendental))
static const char *const int_unary[] = {
    "negate", "abs", "sign", "not", "popcnt", "count-leading-zeros", NULL};
static const char *const uint_unary[] = {"negate", "not", "popcnt",
                                        "count-leading-zeros", NULL};
static const char *const int_binary[] = {
    "add", "subtract", "multiply", "divide", "remainder", "maximum",
    "minimum", "power", "and", "or", "xor", "shift-left",
    "shift-right-arithmetic", "shift-right-logical", NULL};
static const char *const pred_unary[] = {"not", NULL};
static const char *const pred_binary[] = {"and", "or", "xor", "maximum",
                                          "minimum", NULL};
static const char *const directions[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};

static const char *const all_types[] = {"pred", "s8", "s16", "s32", "s64",
                                        "u8", "u16", "u32", "u64", "f16",
                                        "bf16", "f32", "f64"};
#define NTYPES 13

static bool is_float_name(const char *t) { return t[0] == 'f' || t[0] == 'b'; }

/* The module of every elementwise op of type t on shape s:
 * unary(x), binary(x, y), compare(x, y) in each direction (and total order
 * for floats), is-finite, select(p, x, y), clamp with array and scalar
 * bounds. */
static char *elementwise_module(const char *t, const char *s) {
  bool fl = is_float_name(t), pred = !strcmp(t, "pred");
  const char *const *un = fl     ? float_unary
                          : pred ? pred_unary
                          : t[0] == 'u' ? uint_unary
                                        : int_unary;
  const char *const *bin = fl ? float_binary : pred ? pred_binary : int_binary;
  HloStr m = {0}, root = {0}, tys = {0};
  hlo_str_printf(&m, "HloModule ew_%s\n\nENTRY main {\n", t);
  hlo_str_printf(&m, "  x = %s%s parameter(0)\n  y = %s%s parameter(1)\n", t,
                 s, t, s);
  hlo_str_printf(&m, "  p = pred%s parameter(2)\n  lo = %s[] parameter(3)\n", s, t);
  hlo_str_printf(&m, "  hi = %s[] parameter(4)\n", t);
  /* Each result: its element type (t or pred) and its line. */
  int n = 0;
  char line[256];
#define RESULT(ty, ...)                                                       \
  do {                                                                        \
    snprintf(line, sizeof line, __VA_ARGS__);                                 \
    hlo_str_printf(&m, "  r%d = %s%s %s\n", n, ty, s, line);                  \
    hlo_str_printf(&root, "%sr%d", n ? ", " : "", n);                          \
    hlo_str_printf(&tys, "%s%s%s", n ? ", " : "", ty, s);                      \
    n++;                                                                      \
  } while (0)
  for (int i = 0; un[i]; i++) RESULT(t, "%s(x)", un[i]);
  for (int i = 0; bin[i]; i++) RESULT(t, "%s(x, y)", bin[i]);
  for (int i = 0; i < 6; i++)
    RESULT("pred", "compare(x, y), direction=%s", directions[i]);
  if (fl) {
    for (int i = 0; i < 6; i++)
      RESULT("pred", "compare(x, y), direction=%s, type=TOTALORDER",
             directions[i]);
    RESULT("pred", "is-finite(x)");
  }
  RESULT(t, "select(p, x, y)");
  if (!pred) {
    RESULT(t, "clamp(y, x, y)");
    RESULT(t, "clamp(lo, x, hi)");
  }
#undef RESULT
  hlo_str_printf(&m, "  ROOT t = (%s) tuple(%s)\n}\n", tys.buf, root.buf);
  free(root.buf);
  free(tys.buf);
  return hlo_str_take(&m);
}

START_TEST(elementwise_all_ops) {
  const char *t = all_types[_i / NSHAPES], *s = shapes[_i % NSHAPES];
  char *text = elementwise_module(t, s);
  check_hlo(text, (uint64_t)_i, 0, 0);
  free(text);
}
END_TEST

/* The tolerance of a transcendental with an f32 bound of `ulps` on type t
 * (an ulp of f32 is at most 2^-23 of the value, 2^-149 below the normals;
 * libm's own error adds one). */
static void transcendental_tolerance(const char *t, double ulps, double *atol,
                                     double *rtol) {
  *atol = (ulps + 1) * 0x1p-149;
  *rtol = (ulps + 1) * 0x1p-23;
  if (!strcmp(t, "f16")) {
    *atol += 0x1p-24;
    *rtol += 0x1p-10;
  } else if (!strcmp(t, "bf16")) {
    *atol += 0x1p-133;
    *rtol += 0x1p-7;
  } else if (!strcmp(t, "f64")) {
    *atol = *rtol = 0;
  }
}

/* One transcendental on a float type, on every shape of `shapes` at once
 * (a result per shape). */
/* XLA defines multiply on pred as and (issue #15: neither the interpreter
 * nor codegen implemented it); the JIT agrees with the interpreter, whose
 * values test_hlo_eval checks. */
START_TEST(pred_multiply_is_and) {
  check_hlo_exact("HloModule m\nENTRY e {\n  a = pred[37] parameter(0)\n"
                  "  b = pred[37] parameter(1)\n  ROOT m = pred[37] multiply(a, b)\n}\n", 3);
}
END_TEST

START_TEST(elementwise_transcendental) {
  static const char *const float_types[] = {"f16", "bf16", "f32", "f64"};
  const char *t = float_types[_i / NTRANSCENDENTAL];
  int k = _i % NTRANSCENDENTAL;
  HloStr m = {0}, root = {0}, tys = {0};
  hlo_str_printf(&m, "HloModule tr\n\nENTRY main {\n");
  for (int i = 0; i < NSHAPES; i++) {
    hlo_str_printf(&m, "  x%d = %s%s parameter(%d)\n", i, t, shapes[i], 2 * i);
    hlo_str_printf(&m, "  y%d = %s%s parameter(%d)\n", i, t, shapes[i],
                   2 * i + 1);
    if (transcendental[k].arity == 2)
      hlo_str_printf(&m, "  r%d = %s%s %s(x%d, y%d)\n", i, t, shapes[i],
                     transcendental[k].op, i, i);
    else
      hlo_str_printf(&m, "  r%d = %s%s %s(x%d)\n", i, t, shapes[i],
                     transcendental[k].op, i);
    hlo_str_printf(&root, "%sr%d", i ? ", " : "", i);
    hlo_str_printf(&tys, "%s%s%s", i ? ", " : "", t, shapes[i]);
  }
  hlo_str_printf(&m, "  ROOT t = (%s) tuple(%s)\n}\n", tys.buf, root.buf);
  double atol, rtol;
  transcendental_tolerance(t, transcendental[k].ulps, &atol, &rtol);
  check_hlo(m.buf, (uint64_t)_i + 300, atol, rtol);
  free(m.buf);
  free(root.buf);
  free(tys.buf);
}
END_TEST

/* convert from one type to all 13 (saturation, NaN → 0, rounding, pred). */
START_TEST(convert_all_pairs) {
  const char *from = all_types[_i / 2], *s = _i % 2 ? "[7,13]" : "[]";
  HloStr m = {0};
  hlo_str_printf(&m, "HloModule cvt\n\nENTRY main {\n  x = %s%s parameter(0)\n",
                 from, s);
  for (int k = 0; k < NTYPES; k++)
    hlo_str_printf(&m, "  c%d = %s%s convert(x)\n", k, all_types[k], s);
  hlo_str_printf(&m, "  ROOT t = (");
  for (int k = 0; k < NTYPES; k++)
    hlo_str_printf(&m, "%s%s%s", k ? ", " : "", all_types[k], s);
  hlo_str_printf(&m, ") tuple(c0");
  for (int k = 1; k < NTYPES; k++) hlo_str_printf(&m, ", c%d", k);
  hlo_str_printf(&m, ")\n}\n");
  check_hlo(m.buf, (uint64_t)_i + 100, 0, 0);
  free(m.buf);
}
END_TEST

/* bitcast-convert between equal widths, and across widths (a minor dim of
 * the width ratio appears or disappears; bytes are little-endian). */
START_TEST(bitcast_convert) {
  check_hlo("HloModule bc\n\nENTRY main {\n"
            "  f = f32[7,13] parameter(0)\n  h = f16[13] parameter(1)\n"
            "  d = f64[7] parameter(2)\n  b = u8[5,4] parameter(3)\n"
            "  w = s16[3,4] parameter(4)\n"
            "  a0 = s32[7,13] bitcast-convert(f)\n"
            "  a1 = u32[7,13] bitcast-convert(f)\n"
            "  a2 = f32[7,13] bitcast-convert(a0)\n"
            "  a3 = s16[13] bitcast-convert(h)\n"
            "  a4 = bf16[13] bitcast-convert(h)\n"
            "  a5 = u64[7] bitcast-convert(d)\n"
            "  a6 = u8[7,13,4] bitcast-convert(f)\n"
            "  a7 = u16[7,4] bitcast-convert(d)\n"
            "  a8 = f32[5] bitcast-convert(b)\n"
            "  a9 = s64[3] bitcast-convert(w)\n"
            "  ROOT t = (s32[7,13], u32[7,13], f32[7,13], s16[13], bf16[13], "
            "u64[7], u8[7,13,4], u16[7,4], f32[5], s64[3]) "
            "tuple(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9)\n}\n",
            7, 0, 0);
}
END_TEST

/* A chain of ops on one value: operands that are themselves kernels.  The
 * tanh in it is within 2 ulps of exact (docs/math.md), libm's within 1: an
 * absolute 3 * 2^-23 since |tanh| <= 1, and c - x passes that on. */
START_TEST(elementwise_chain) {
  check_hlo("HloModule chain\n\nENTRY main {\n"
            "  x = f32[7,13] parameter(0)\n  y = f32[7,13] parameter(1)\n"
            "  a = f32[7,13] add(x, y)\n  b = f32[7,13] multiply(a, a)\n"
            "  c = f32[7,13] tanh(b)\n  d = f32[7,13] subtract(c, x)\n"
            "  k = f32[] constant(0.25)\n  kb = f32[7,13] broadcast(k), dimensions={}\n"
            "  ROOT e = f32[7,13] maximum(d, kb)\n}\n",
            3, 3 * 0x1p-23, 0);
}
END_TEST

/* A fused DAG with 2^40 paths: x' = maximum(x, y), y' = minimum(x, y),
 * forty times, over rows long enough for the sweep to prefetch the next
 * one (reduce.c, "Prefetching the next row").  The prefetch's walk to
 * the rows' memrefs went down every path (XLA's
 * large_loop_slow_compile_time did not compile in 300 s); it must visit
 * each instruction once, so this compiles in a moment. */
START_TEST(fused_dag_of_many_paths) {
  HloStr t = {0};
  hlo_str_printf(&t, "HloModule dag\n\nENTRY main {\n  x0 = f32[8,4096] parameter(0)\n"
                 "  y0 = f32[8,4096] parameter(1)\n");
  for (int i = 1; i <= 40; i++)
    hlo_str_printf(&t, "  x%d = f32[8,4096] maximum(x%d, y%d)\n  y%d = f32[8,4096] minimum(x%d, y%d)\n",
                   i, i - 1, i - 1, i, i - 1, i - 1);
  hlo_str_printf(&t, "  ROOT r = f32[8,4096] add(x40, y40)\n}\n");
  cgt_check_with(t.buf, 4, false, true, 0, 0);
  free(t.buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_elementwise");
  TCase *t = tcase_create("elementwise");
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(t, elementwise_all_ops, 0, NTYPES * NSHAPES);
  tcase_add_test(t, pred_multiply_is_and);
  tcase_add_loop_test(t, elementwise_transcendental, 0, 4 * NTRANSCENDENTAL);
  tcase_add_loop_test(t, convert_all_pairs, 0, 2 * NTYPES);
  tcase_add_test(t, bitcast_convert);
  tcase_add_test(t, elementwise_chain);
  tcase_add_test(t, fused_dag_of_many_paths);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
