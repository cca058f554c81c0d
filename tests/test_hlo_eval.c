/*
 * test_hlo_eval.c — the reference evaluator (evaluator.c).  Each case is a
 * small HLO module in XLA's text format and the literal it must produce,
 * also written as HLO text ("s32[2] {1, 2}").  Results are compared bit for
 * bit (any NaN matches any NaN), except transcendental functions, which are
 * compared with libm within a stated tolerance.  Convolutions are checked
 * against a naive implementation written here from the StableHLO
 * definition, over many window/group/dim_labels configurations.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_util.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A literal written as "SHAPE VALUE" in HLO syntax, e.g. "f32[2] {1, nan}"
 * or "(s32[], pred[]) (3, true)": the text of a constant instruction. */
static HloLiteral *literal(const char *spec) {
  const char *p = spec;
  for (int depth = 0; *p && !(*p == ' ' && depth == 0); p++) {
    if (*p == '(' || *p == '[' || *p == '{') depth++;
    if (*p == ')' || *p == ']' || *p == '}') depth--;
  }
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule lit\nENTRY e {\n  ROOT c = %.*s constant(%s)\n}\n",
                 (int)(p - spec), spec, *p ? p + 1 : "");
  HloModule *m = ck_parse(s.buf);
  HloLiteral *l = hlo_literal_clone(m->entry->root->literal);
  hlo_module_free(m);
  free(s.buf);
  return l;
}

/* Element-exact equality where NaN matches NaN (payloads may differ). */
static bool same_values(const HloLiteral *a, const HloLiteral *b) {
  if (!hlo_shape_equal(&a->shape, &b->shape, false)) return false;
  if (a->shape.type == HLO_TUPLE) {
    for (int i = 0; i < a->shape.ntuple; i++)
      if (!same_values(a->elems[i], b->elems[i])) return false;
    return true;
  }
  size_t es = hlo_type_size(a->shape.type);
  for (int64_t i = 0; i < hlo_shape_elements(&a->shape); i++) {
    if (hlo_type_is_float(a->shape.type) && isnan(hlo_literal_get_f64(a, i)) &&
        isnan(hlo_literal_get_f64(b, i)))
      continue;
    if (memcmp((const char *)a->data + i * (int64_t)es, (const char *)b->data + i * (int64_t)es,
               es))
      return false;
  }
  return true;
}

static void print_values(HloStr *s, const HloLiteral *l) {
  if (l->shape.type == HLO_TUPLE) {
    hlo_str_append(s, "(", 1);
    for (int i = 0; i < l->shape.ntuple; i++) {
      if (i) hlo_str_append(s, ", ", 2);
      print_values(s, l->elems[i]);
    }
    hlo_str_append(s, ")", 1);
    return;
  }
  hlo_shape_print(s, &l->shape);
  hlo_str_append(s, " {", 2);
  for (int64_t i = 0; i < hlo_shape_elements(&l->shape); i++) {
    if (i) hlo_str_append(s, ", ", 2);
    if (hlo_type_is_float(l->shape.type)) hlo_str_printf(s, "%.9g", hlo_literal_get_f64(l, i));
    else if (l->shape.type == HLO_U64)
      hlo_str_printf(s, "%llu", (unsigned long long)hlo_literal_get_s64(l, i));
    else hlo_str_printf(s, "%lld", (long long)hlo_literal_get_s64(l, i));
  }
  hlo_str_append(s, "}", 1);
}

static void assert_same(const HloLiteral *got, const HloLiteral *want, int line) {
  if (same_values(got, want)) return;
  HloStr g = {0}, w = {0};
  print_values(&g, got);
  print_values(&w, want);
  ck_abort_msg("line %d: got %s\n  expected %s", line, g.buf, w.buf);
}

static HloLiteral *evaluate_text(const char *module, HloLiteral *const *args, int nargs) {
  HloModule *m = ck_parse_verified(module);
  HloLiteral *out = ck_evaluate(m, args, nargs);
  hlo_module_free(m);
  return out;
}

/* Evaluates module on args and compares with the literal `want`. */
static void check_at(int line, const char *module, HloLiteral *const *args, int nargs,
                     const char *want) {
  HloLiteral *out = evaluate_text(module, args, nargs);
  HloLiteral *w = literal(want);
  assert_same(out, w, line);
  hlo_literal_free(out);
  hlo_literal_free(w);
}
#define CHECK(module, want) check_at(__LINE__, module, NULL, 0, want)
#define CHECK_ARGS(module, args, n, want) check_at(__LINE__, module, args, n, want)

/* Evaluates module expecting an error whose message contains each of the
 * given fragments. */
static void check_error(const char *module, HloLiteral *const *args, int nargs,
                        const char *frag1, const char *frag2) {
  HloModule *m = ck_parse(module);
  HloLiteral *out = NULL;
  HloError *e = hlo_evaluate(m, args, nargs, &out);
  ck_assert_msg(e != NULL, "evaluation should fail");
  ck_assert_ptr_null(out);
  const char *msg = hlo_error_message(e);
  ck_assert_msg(strstr(msg, frag1) && (!frag2 || strstr(msg, frag2)), "message: %s", msg);
  hlo_error_free(e);
  hlo_module_free(m);
}

/* ------------------------------------------------------------------------ */
/* Elementwise arithmetic                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(arithmetic_every_type) {
  /* add, subtract, multiply, maximum, minimum on every numeric type;
   * integers wrap, f16/bf16 round each result. */
#define ARITH(T, A, B)                                                        \
  "HloModule m\nENTRY e {\n"                                                  \
  "  a = " T "[2] constant(" A ")\n  b = " T "[2] constant(" B ")\n"          \
  "  s = " T "[2] add(a, b)\n  d = " T "[2] subtract(a, b)\n"                 \
  "  p = " T "[2] multiply(a, b)\n  x = " T "[2] maximum(a, b)\n"             \
  "  n = " T "[2] minimum(a, b)\n"                                            \
  "  ROOT t = (" T "[2], " T "[2], " T "[2], " T "[2], " T "[2]) tuple(s, d, p, x, n)\n}\n"
  CHECK(ARITH("s8", "{127, -128}", "{1, 2}"),
        "(s8[2], s8[2], s8[2], s8[2], s8[2]) ({-128, -126}, {126, 126}, {127, 0}, {127, 2}, "
        "{1, -128})");
  CHECK(ARITH("s16", "{32767, -300}", "{1, 200}"),
        "(s16[2], s16[2], s16[2], s16[2], s16[2]) ({-32768, -100}, {32766, -500}, "
        "{32767, 5536}, {32767, 200}, {1, -300})");
  CHECK(ARITH("s32", "{2147483647, -7}", "{1, 65536}"),
        "(s32[2], s32[2], s32[2], s32[2], s32[2]) ({-2147483648, 65529}, "
        "{2147483646, -65543}, {2147483647, -458752}, {2147483647, 65536}, {1, -7})");
  CHECK(ARITH("s64", "{9223372036854775807, -3}", "{1, 4294967296}"),
        "(s64[2], s64[2], s64[2], s64[2], s64[2]) ({-9223372036854775808, 4294967293}, "
        "{9223372036854775806, -4294967299}, {9223372036854775807, -12884901888}, "
        "{9223372036854775807, 4294967296}, {1, -3})");
  CHECK(ARITH("u8", "{255, 3}", "{1, 5}"),
        "(u8[2], u8[2], u8[2], u8[2], u8[2]) ({0, 8}, {254, 254}, {255, 15}, {255, 5}, {1, 3})");
  CHECK(ARITH("u16", "{65535, 300}", "{2, 300}"),
        "(u16[2], u16[2], u16[2], u16[2], u16[2]) ({1, 600}, {65533, 0}, {65534, 24464}, "
        "{65535, 300}, {2, 300})");
  CHECK(ARITH("u32", "{4294967295, 0}", "{1, 1}"),
        "(u32[2], u32[2], u32[2], u32[2], u32[2]) ({0, 1}, {4294967294, 4294967295}, "
        "{4294967295, 0}, {4294967295, 1}, {1, 0})");
  CHECK(ARITH("u64", "{18446744073709551615, 2}", "{1, 3}"),
        "(u64[2], u64[2], u64[2], u64[2], u64[2]) ({0, 5}, {18446744073709551614, "
        "18446744073709551615}, {18446744073709551615, 6}, {18446744073709551615, 3}, {1, 2})");
  CHECK(ARITH("f32", "{1.5, -0.25}", "{2, nan}"),
        "(f32[2], f32[2], f32[2], f32[2], f32[2]) ({3.5, nan}, {-0.5, nan}, {3, nan}, "
        "{2, nan}, {1.5, nan})");
  CHECK(ARITH("f64", "{0.1, 1e300}", "{0.2, 1e10}"),
        "(f64[2], f64[2], f64[2], f64[2], f64[2]) ({0.30000000000000004, 1e300}, "
        "{-0.1, 1e300}, {0.020000000000000004, inf}, {0.2, 1e300}, {0.1, 1e10})");
  /* f16: 1 + 2^-11 is a tie and rounds to even (1); 1 + 3 * 2^-11 rounds
   * up to 1 + 2^-9; 300 * 300 overflows to inf. */
  CHECK(ARITH("f16", "{1, 300}", "{0.00048828125, 300}"),
        "(f16[2], f16[2], f16[2], f16[2], f16[2]) ({1, 600}, {0.99951171875, 0}, "
        "{0.00048828125, inf}, "
        "{1, 300}, {0.00048828125, 300})");
  CHECK("HloModule m\nENTRY e {\n  a = f16[1] constant({1})\n"
        "  b = f16[1] constant({0.00146484375})\n  ROOT s = f16[1] add(a, b)\n}\n",
        "f16[1] {1.001953125}");
  /* bf16 keeps 8 significant bits: 1 + 2^-8 and 256 + 1 are ties -> even,
   * while 1 - 2^-8 and 255 are exact. */
  CHECK(ARITH("bf16", "{1, 256}", "{0.00390625, 1}"),
        "(bf16[2], bf16[2], bf16[2], bf16[2], bf16[2]) ({1, 256}, {0.99609375, 255}, "
        "{0.00390625, 256}, {1, 256}, {0.00390625, 1})");
#undef ARITH
}
END_TEST

START_TEST(integer_division_edge_cases) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[7] constant({7, -7, 7, -7, 5, -2147483648, -2147483648})\n"
        "  b = s32[7] constant({2, 2, -2, -2, 0, -1, 1})\n"
        "  q = s32[7] divide(a, b)\n  r = s32[7] remainder(a, b)\n"
        "  ROOT t = (s32[7], s32[7]) tuple(q, r)\n}\n",
        "(s32[7], s32[7]) ({3, -3, -3, 3, -1, -2147483648, -2147483648}, "
        "{1, -1, 1, -1, 5, 0, 0})");
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s8[3] constant({-128, -128, 9})\n  b = s8[3] constant({-1, 0, 0})\n"
        "  q = s8[3] divide(a, b)\n  r = s8[3] remainder(a, b)\n"
        "  ROOT t = (s8[3], s8[3]) tuple(q, r)\n}\n",
        "(s8[3], s8[3]) ({-128, -1, -1}, {0, -128, 9})");
  CHECK("HloModule m\nENTRY e {\n"
        "  a = u32[3] constant({7, 4294967295, 9})\n  b = u32[3] constant({0, 2, 0})\n"
        "  q = u32[3] divide(a, b)\n  r = u32[3] remainder(a, b)\n"
        "  ROOT t = (u32[3], u32[3]) tuple(q, r)\n}\n",
        "(u32[3], u32[3]) ({4294967295, 2147483647, 4294967295}, {7, 1, 9})");
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s64[2] constant({-9223372036854775808, 1})\n  b = s64[2] constant({-1, 0})\n"
        "  ROOT q = s64[2] divide(a, b)\n}\n",
        "s64[2] {-9223372036854775808, -1}");
  /* Float remainder is fmod: the sign follows the dividend. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[3] constant({5.5, -5.5, 1})\n  b = f32[3] constant({2, 2, 0})\n"
        "  ROOT r = f32[3] remainder(a, b)\n}\n",
        "f32[3] {1.5, -1.5, nan}");
}
END_TEST

START_TEST(integer_power) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[9] constant({2, -2, 2, 1, -1, -1, 0, 2, 2})\n"
        "  b = s32[9] constant({10, 3, -1, -5, -3, -2, 0, 31, 32})\n"
        "  ROOT p = s32[9] power(a, b)\n}\n",
        "s32[9] {1024, -8, 0, 1, -1, 1, 1, -2147483648, 0}");
  CHECK("HloModule m\nENTRY e {\n  a = u8[2] constant({3, 2})\n  b = u8[2] constant({5, 9})\n"
        "  ROOT p = u8[2] power(a, b)\n}\n",
        "u8[2] {243, 0}");
  CHECK("HloModule m\nENTRY e {\n  a = f32[3] constant({2, 0, -8})\n"
        "  b = f32[3] constant({-1, 0, 0.5})\n  ROOT p = f32[3] power(a, b)\n}\n",
        "f32[3] {0.5, 1, nan}");
}
END_TEST

START_TEST(shifts) {
  /* Shift amounts are unsigned: -1 and 200 as s8 are out of range. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s8[4] constant({1, 1, 1, -128})\n  b = s8[4] constant({7, 8, -1, 7})\n"
        "  l = s8[4] shift-left(a, b)\n"
        "  c = s8[4] constant({-128, -128, 64, -128})\n  d = s8[4] constant({7, 8, -56, 1})\n"
        "  r = s8[4] shift-right-arithmetic(c, d)\n  u = s8[4] shift-right-logical(c, d)\n"
        "  ROOT t = (s8[4], s8[4], s8[4]) tuple(l, r, u)\n}\n",
        "(s8[4], s8[4], s8[4]) ({-128, 0, 0, 0}, {-1, -1, 0, -64}, {1, 0, 0, 64})");
  CHECK("HloModule m\nENTRY e {\n"
        "  a = u32[3] constant({1, 2147483648, 2147483648})\n  b = u32[3] constant({32, 31, 33})\n"
        "  l = u32[3] shift-left(a, b)\n  r = u32[3] shift-right-logical(a, b)\n"
        "  s = u32[3] shift-right-arithmetic(a, b)\n"
        "  ROOT t = (u32[3], u32[3], u32[3]) tuple(l, r, s)\n}\n",
        "(u32[3], u32[3], u32[3]) ({0, 0, 0}, {0, 1, 0}, {0, 4294967295, 4294967295})");
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s64[2] constant({-1, 3})\n  b = s64[2] constant({63, 64})\n"
        "  r = s64[2] shift-right-logical(a, b)\n  l = s64[2] shift-left(a, b)\n"
        "  ROOT t = (s64[2], s64[2]) tuple(r, l)\n}\n",
        "(s64[2], s64[2]) ({1, 0}, {-9223372036854775808, 0})");
}
END_TEST

START_TEST(bitwise_popcnt_clz) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = pred[4] constant({true, true, false, false})\n"
        "  b = pred[4] constant({true, false, true, false})\n"
        "  x = pred[4] and(a, b)\n  y = pred[4] or(a, b)\n  z = pred[4] xor(a, b)\n"
        "  n = pred[4] not(a)\n  m = pred[4] multiply(a, b)\n"
        "  ROOT t = (pred[4], pred[4], pred[4], pred[4], pred[4]) tuple(x, y, z, n, m)\n}\n",
        "(pred[4], pred[4], pred[4], pred[4], pred[4]) ({1, 0, 0, 0}, {1, 1, 1, 0}, "
        "{0, 1, 1, 0}, {0, 0, 1, 1}, {1, 0, 0, 0})");
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[4] constant({0, 1, -1, 255})\n"
        "  p = s32[4] popcnt(a)\n  c = s32[4] count-leading-zeros(a)\n  n = s32[4] not(a)\n"
        "  b = u8[3] constant({0, 1, 128})\n  d = u8[3] count-leading-zeros(b)\n"
        "  e = u8[3] popcnt(b)\n  f = u8[3] not(b)\n"
        "  g = s64[1] constant({1})\n  h = s64[1] count-leading-zeros(g)\n"
        "  i = s32[4] and(a, p)\n  j = s32[4] xor(a, c)\n"
        "  ROOT t = (s32[4], s32[4], s32[4], u8[3], u8[3], u8[3], s64[1], s32[4], s32[4]) "
        "tuple(p, c, n, d, e, f, h, i, j)\n}\n",
        "(s32[4], s32[4], s32[4], u8[3], u8[3], u8[3], s64[1], s32[4], s32[4]) "
        "({0, 1, 32, 8}, {32, 31, 0, 24}, {-1, -2, 0, -256}, {8, 7, 0}, {0, 1, 1}, "
        "{255, 254, 127}, {63}, {0, 1, 32, 8}, {32, 30, -1, 231})");
}
END_TEST

START_TEST(integer_unary) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s8[3] constant({-128, -5, 7})\n"
        "  n = s8[3] negate(a)\n  b = s8[3] abs(a)\n  s = s8[3] sign(a)\n"
        "  u = u16[2] constant({1, 0})\n  v = u16[2] negate(u)\n  w = u16[2] not(u)\n"
        "  ROOT t = (s8[3], s8[3], s8[3], u16[2], u16[2]) tuple(n, b, s, v, w)\n}\n",
        "(s8[3], s8[3], s8[3], u16[2], u16[2]) ({-128, 5, -7}, {-128, 5, 7}, {-1, -1, 1}, "
        "{65535, 0}, {65534, 65535})");
}
END_TEST

START_TEST(float_unary_exact) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[6] constant({-2, -0, 0, nan, 5, -2.5})\n"
        "  s = f32[6] sign(a)\n  b = f32[6] abs(a)\n  n = f32[6] negate(a)\n"
        "  r = f32[6] constant({2.5, -2.5, 0.5, 3.5, 1.6, -0.4})\n"
        "  z = f32[6] round-nearest-afz(r)\n  v = f32[6] round-nearest-even(r)\n"
        "  f = f32[6] floor(r)\n  c = f32[6] ceil(r)\n"
        "  i = f32[4] constant({inf, -inf, nan, 1})\n  k = pred[4] is-finite(i)\n"
        "  ROOT t = (f32[6], f32[6], f32[6], f32[6], f32[6], f32[6], f32[6], pred[4]) "
        "tuple(s, b, n, z, v, f, c, k)\n}\n",
        "(f32[6], f32[6], f32[6], f32[6], f32[6], f32[6], f32[6], pred[4]) "
        "({-1, -0, 0, nan, 1, -1}, {2, 0, 0, nan, 5, 2.5}, {2, 0, -0, nan, -5, 2.5}, "
        "{3, -3, 1, 4, 2, -0}, {2, -2, 0, 4, 2, -0}, {2, -3, 0, 3, 1, -1}, "
        "{3, -2, 1, 4, 2, -0}, {0, 0, 0, 1})");
  /* The same on f16 and bf16 (computed in f32, rounded back). */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f16[3] constant({-2.5, 0.5, -0})\n  r = f16[3] round-nearest-even(a)\n"
        "  s = f16[3] sign(a)\n  b = bf16[2] constant({-3, 1.5})\n  c = bf16[2] abs(b)\n"
        "  f = pred[2] is-finite(b)\n"
        "  ROOT t = (f16[3], f16[3], bf16[2], pred[2]) tuple(r, s, c, f)\n}\n",
        "(f16[3], f16[3], bf16[2], pred[2]) ({-2, 0, -0}, {-1, 1, -0}, {3, 1.5}, {1, 1})");
}
END_TEST

/* Transcendental ops against libm, per type, within a relative tolerance:
 * f32/f64 call libm directly, f16/bf16 compute in f32 and round. */
static void check_transcendentals(const char *type, double tol) {
  static const struct {
    const char *op;
    double (*fn)(double);
  } unary[] = {{"exponential", exp}, {"exponential-minus-one", expm1}, {"log", log},
               {"log-plus-one", log1p}, {"sqrt", sqrt}, {"cbrt", cbrt}, {"tanh", tanh},
               {"sine", sin}, {"cosine", cos}, {"tan", tan}, {"erf", erf}};
  static const double xs[4] = {0.5, 1.75, 3.0, 0.125};
  for (size_t k = 0; k < sizeof unary / sizeof unary[0]; k++) {
    HloStr m = {0};
    hlo_str_printf(&m,
                   "HloModule m\nENTRY e {\n  a = %s[4] constant({0.5, 1.75, 3, 0.125})\n"
                   "  ROOT r = %s[4] %s(a)\n}\n",
                   type, type, unary[k].op);
    HloLiteral *got = evaluate_text(m.buf, NULL, 0);
    HloLiteral *want = hlo_literal_new(&got->shape);
    for (int i = 0; i < 4; i++) hlo_literal_set_f64(want, i, unary[k].fn(xs[i]));
    char msg[256];
    ck_assert_msg(ck_allclose(got, want, tol, tol, msg, sizeof msg), "%s %s: %s", type,
                  unary[k].op, msg);
    hlo_literal_free(got);
    hlo_literal_free(want);
    free(m.buf);
  }
  HloStr m = {0};
  hlo_str_printf(&m,
                 "HloModule m\nENTRY e {\n  a = %s[3] constant({0.5, -1.75, 3})\n"
                 "  b = %s[3] constant({2, 0.5, -1.5})\n  l = %s[3] logistic(a)\n"
                 "  q = %s[3] rsqrt(b)\n  t = %s[3] atan2(a, b)\n  p = %s[3] power(b, a)\n"
                 "  ROOT r = (%s[3], %s[3], %s[3], %s[3]) tuple(l, q, t, p)\n}\n",
                 type, type, type, type, type, type, type, type, type, type);
  HloLiteral *got = evaluate_text(m.buf, NULL, 0);
  const double a[3] = {0.5, -1.75, 3}, b[3] = {2, 0.5, -1.5};
  for (int i = 0; i < 3; i++) {
    double want[4] = {1 / (1 + exp(-a[i])), 1 / sqrt(b[i]), atan2(a[i], b[i]), pow(b[i], a[i])};
    for (int k = 0; k < 4; k++) {
      double g = hlo_literal_get_f64(got->elems[k], i);
      ck_assert_msg(isnan(want[k]) ? isnan(g) : fabs(g - want[k]) <= tol * (1 + fabs(want[k])),
                    "%s op %d element %d: got %.17g, expected %.17g", type, k, i, g, want[k]);
    }
  }
  hlo_literal_free(got);
  free(m.buf);
}

START_TEST(float_transcendentals) {
  check_transcendentals("f32", 1e-6);
  check_transcendentals("f64", 1e-14);
  check_transcendentals("f16", 1e-3);
  check_transcendentals("bf16", 8e-3);
}
END_TEST

/* The inverse and hyperbolic functions are libm's, at points inside
 * their domains, at their edges and outside (NaN). */
START_TEST(inverse_and_hyperbolic) {
  static const struct {
    const char *op;
    double (*fn)(double);
    double xs[5];
  } cases[] = {
      {"acos", acos, {0.5, -1, 1, 0.125, 2}},     {"asin", asin, {0.5, -1, 1, -0.125, 2}},
      {"atan", atan, {0.5, -1.75, 1e30, 0, -3}},  {"acosh", acosh, {1, 1.5, 10, 1e30, 0.5}},
      {"asinh", asinh, {0.5, -1.75, 1e30, -0.0, 3}}, {"atanh", atanh, {0.5, -0.75, 1, -1, 2}},
      {"cosh", cosh, {0.5, -1.75, 80, 0, -3}},    {"sinh", sinh, {0.5, -1.75, 80, 1e-3, -3}},
  };
  const char *types[] = {"f32", "f64"};
  for (int t = 0; t < 2; t++)
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      const double *x = cases[k].xs;
      HloStr m = {0};
      hlo_str_printf(&m,
                     "HloModule m\nENTRY e {\n  a = %s[5] constant({%.17g, %.17g, %.17g, %.17g, "
                     "%.17g})\n  ROOT r = %s[5] %s(a)\n}\n",
                     types[t], x[0], x[1], x[2], x[3], x[4], types[t], cases[k].op);
      HloLiteral *got = evaluate_text(m.buf, NULL, 0);
      for (int i = 0; i < 5; i++) {
        double xi = t ? x[i] : (double)(float)x[i];
        double want = t ? cases[k].fn(xi) : (double)(float)cases[k].fn(xi);
        double g = hlo_literal_get_f64(got, i);
        double tol = t ? 1e-15 : 2e-7;
        ck_assert_msg(isnan(want) ? isnan(g)
                                  : g == want || fabs(g - want) <= tol * fabs(want),
                      "%s %s(%g): got %.17g, expected %.17g", types[t], cases[k].op, xi, g,
                      want);
      }
      hlo_literal_free(got);
      free(m.buf);
    }
}
END_TEST

/* XLA's reduce-precision: the mantissa rounds to nearest even, what
 * leaves the narrow exponent range becomes signed infinity or zero
 * (denormals included), NaN stays NaN unless no mantissa bit is left. */
START_TEST(reduce_precision_rounding) {
  /* To bf16's precision: ties to even, above a tie up. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[5] constant({1.00390625, 1.01171875, 1.0039064, -1.00390625, 3.1415927})\n"
        "  ROOT r = f32[5] reduce-precision(a), exponent_bits=8, mantissa_bits=7\n}\n",
        "f32[5] {1, 1.015625, 1.0078125, -1, 3.140625}");
  /* To f16's range: overflow to inf, underflow to signed zero. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[7] constant({65504, 65520, 1e-05, -1e-05, nan, -inf, 6.1035156e-05})\n"
        "  ROOT r = f32[7] reduce-precision(a), exponent_bits=5, mantissa_bits=10\n}\n",
        "f32[7] {65504, inf, 0, -0, nan, -inf, 6.1035156e-05}");
  /* No mantissa bit: ties go to the even exponent, so 1.5 becomes 2 and
   * -3 becomes -2. */
  CHECK("HloModule m\nENTRY e {\n  a = f64[3] constant({1.5, 1.25, -3})\n"
        "  ROOT r = f64[3] reduce-precision(a), exponent_bits=11, mantissa_bits=0\n}\n",
        "f64[3] {2, 1, -2}");
  /* Wider than the type: nothing changes. */
  CHECK("HloModule m\nENTRY e {\n  a = bf16[2] constant({1.5, -0.1})\n"
        "  ROOT r = bf16[2] reduce-precision(a), exponent_bits=8, mantissa_bits=23\n}\n",
        "bf16[2] {1.5, -0.1}");
  HloModule *m = ck_parse("HloModule m\nENTRY e {\n  a = s32[2] parameter(0)\n"
                          "  ROOT r = s32[2] reduce-precision(a), exponent_bits=8, "
                          "mantissa_bits=7\n}\n");
  HloError *e = hlo_verify(m);
  ck_assert_msg(e && strstr(hlo_error_message(e), "floating-point"), "%s",
                e ? hlo_error_message(e) : "verified");
  hlo_error_free(e);
  hlo_module_free(m);
  m = ck_parse("HloModule m\nENTRY e {\n  a = f32[2] parameter(0)\n"
               "  ROOT r = f32[2] reduce-precision(a), exponent_bits=0, mantissa_bits=7\n}\n");
  e = hlo_verify(m);
  ck_assert_msg(e && strstr(hlo_error_message(e), "exponent_bits is 0, must be at least 1"),
                "%s", e ? hlo_error_message(e) : "verified");
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

/* map applies its computation at every index, operands of different
 * types and all. */
START_TEST(map_applies_computation) {
  CHECK("HloModule m\n"
        "f {\n  a = f32[] parameter(0)\n  b = s32[] parameter(1)\n  c = f32[] convert(b)\n"
        "  one = f32[] constant(1)\n  m = f32[] multiply(a, c)\n  ROOT r = f32[] add(m, one)\n}\n"
        "ENTRY e {\n  x = f32[2,2] constant({{1, 2}, {3, 4}})\n"
        "  i = s32[2,2] constant({{5, 6}, {7, -1}})\n"
        "  ROOT r = f32[2,2] map(x, i), dimensions={0,1}, to_apply=f\n}\n",
        "f32[2,2] {{6, 13}, {22, -3}}");
  HloModule *m = ck_parse("HloModule m\n"
                          "f {\n  a = f32[] parameter(0)\n  ROOT r = f32[] negate(a)\n}\n"
                          "ENTRY e {\n  x = s32[2] parameter(0)\n"
                          "  ROOT r = f32[2] map(x), to_apply=f\n}\n");
  HloError *e = hlo_verify(m);
  ck_assert_msg(e && strstr(hlo_error_message(e), "to_apply must be (s32[]) -> a scalar"), "%s",
                e ? hlo_error_message(e) : "verified");
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

/* JAX's LAPACK custom-calls (hlo_lapack_call): potrf is cholesky with
 * the other triangle kept from a and LAPACK's info (0, or the 1-based
 * column of the first pivot that is not positive); trsm is
 * triangular-solve with its characters' attributes.  Values by hand. */
START_TEST(lapack_custom_calls) {
  CHECK("HloModule m\nENTRY e {\n  a = f32[2,2] constant({{4, 2}, {2, 5}})\n"
        "  ROOT c = (f32[2,2]{0,1}, s32[]) custom-call(a), custom_call_target=\"lapack_spotrf_ffi\", "
        "api_version=API_VERSION_TYPED_FFI, backend_config={uplo = 76 : ui8}\n}\n",
        "(f32[2,2], s32[]) ({{2, 2}, {1, 2}}, 0)");
  CHECK("HloModule m\nENTRY e {\n  a = f64[2,2] constant({{4, 2}, {7, 5}})\n"
        "  ROOT c = (f64[2,2], s32[]) custom-call(a), custom_call_target=\"lapack_dpotrf_ffi\", "
        "backend_config={uplo = 85 : ui8}\n}\n",
        "(f64[2,2], s32[]) ({{2, 1}, {7, 2}}, 0)");
  /* A batch: the second pivot of the first matrix fails (1 - 2^2 < 0),
   * the first of the second (NaN from there on in the factor). */
  CHECK("HloModule m\nENTRY e {\n  a = f32[2,2,2] constant({{{1, 2}, {2, 1}}, {{-1, 0}, {0, 1}}})\n"
        "  ROOT c = (f32[2,2,2], s32[2]) custom-call(a), custom_call_target=\"lapack_spotrf_ffi\", "
        "backend_config={uplo = 76 : ui8}\n}\n",
        "(f32[2,2,2], s32[2]) ({{{1, 2}, {2, nan}}, {{nan, 0}, {nan, nan}}}, {2, 1})");
  /* op(a) x = b, a lower */
  CHECK("HloModule m\nENTRY e {\n  a = f32[2,2] constant({{2, 9}, {1, 4}})\n"
        "  b = f32[2,2] constant({{2, 4}, {5, 6}})\n"
        "  ROOT x = f32[2,2]{0,1} custom-call(a, b), custom_call_target=\"lapack_strsm_ffi\", "
        "backend_config={diag = 78 : ui8, side = 76 : ui8, trans_x = 78 : ui8, uplo = 76 : ui8}\n}\n",
        "f32[2,2] {{1, 2}, {1, 1}}");
  /* x op(a) = b, a upper with a unit diagonal, transposed: x [[1,0],[3,1]] = b */
  CHECK("HloModule m\nENTRY e {\n  a = f64[2,2] constant({{9, 3}, {7, 9}})\n"
        "  b = f64[2,2] constant({{7, 2}, {1, 1}})\n"
        "  ROOT x = f64[2,2] custom-call(a, b), custom_call_target=\"lapack_dtrsm_ffi\", "
        "backend_config={diag = 85 : ui8, side = 82 : ui8, trans_x = 84 : ui8, uplo = 85 : ui8}\n}\n",
        "f64[2,2] {{1, 2}, {-2, 1}}");
  /* A type the letter does not name, or a character LAPACK has not, is
   * no LAPACK call. */
  check_error("HloModule m\nENTRY e {\n  a = f64[2,2] constant({{4, 2}, {2, 5}})\n"
              "  ROOT c = (f64[2,2], s32[]) custom-call(a), custom_call_target=\"lapack_spotrf_ffi\", "
              "backend_config={uplo = 76 : ui8}\n}\n",
              NULL, 0, "custom-call target \"lapack_spotrf_ffi\" is not supported", NULL);
  check_error("HloModule m\nENTRY e {\n  a = f32[2,2] constant({{4, 2}, {2, 5}})\n"
              "  ROOT c = (f32[2,2], s32[]) custom-call(a), custom_call_target=\"lapack_spotrf_ffi\", "
              "backend_config={uplo = 88 : ui8}\n}\n",
              NULL, 0, "custom-call target \"lapack_spotrf_ffi\" is not supported", NULL);
}
END_TEST

START_TEST(minmax_clamp_select_nan) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[3] constant({nan, 1, 2})\n  b = f32[3] constant({1, nan, 3})\n"
        "  x = f32[3] maximum(a, b)\n  n = f32[3] minimum(a, b)\n"
        "  lo = f32[] constant(0)\n  hi = f32[] constant(1)\n"
        "  v = f32[5] constant({-1, 0.5, 2, nan, -0})\n  c = f32[5] clamp(lo, v, hi)\n"
        "  l = s32[3] constant({0, 5, -1})\n  i = s32[3] constant({-3, 3, 7})\n"
        "  h = s32[3] constant({10, 4, 2})\n  d = s32[3] clamp(l, i, h)\n"
        "  p = pred[3] constant({true, false, true})\n  s = s32[3] select(p, i, h)\n"
        "  ROOT t = (f32[3], f32[3], f32[5], s32[3], s32[3]) tuple(x, n, c, d, s)\n}\n",
        "(f32[3], f32[3], f32[5], s32[3], s32[3]) ({nan, nan, 3}, {nan, nan, 2}, "
        "{0, 0.5, 1, nan, -0}, {0, 4, 2}, {-3, 4, 7})");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* compare, convert, bitcast-convert                                        */
/* ------------------------------------------------------------------------ */

START_TEST(compare_directions_and_types) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[4] constant({nan, 1, 2, -0})\n  b = f32[4] constant({nan, 1, 3, 0})\n"
        "  eq = pred[4] compare(a, b), direction=EQ\n  ne = pred[4] compare(a, b), direction=NE\n"
        "  lt = pred[4] compare(a, b), direction=LT\n  le = pred[4] compare(a, b), direction=LE\n"
        "  gt = pred[4] compare(a, b), direction=GT\n  ge = pred[4] compare(a, b), direction=GE\n"
        "  ROOT t = (pred[4], pred[4], pred[4], pred[4], pred[4], pred[4]) "
        "tuple(eq, ne, lt, le, gt, ge)\n}\n",
        "(pred[4], pred[4], pred[4], pred[4], pred[4], pred[4]) ({0, 1, 0, 1}, {1, 0, 1, 0}, "
        "{0, 0, 1, 0}, {0, 1, 1, 1}, {0, 0, 0, 0}, {0, 1, 0, 1})");
  /* Unsigned and signed integers; pred compares as unsigned. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = u8[2] constant({200, 7})\n  b = u8[2] constant({100, 7})\n"
        "  c = s8[2] constant({-56, 7})\n  d = s8[2] constant({100, 8})\n"
        "  x = pred[2] compare(a, b), direction=GT\n  y = pred[2] compare(c, d), direction=GT\n"
        "  p = pred[2] constant({true, false})\n  q = pred[2] constant({false, false})\n"
        "  z = pred[2] compare(p, q), direction=GT\n"
        "  u = u64[1] constant({18446744073709551615})\n  v = u64[1] constant({1})\n"
        "  w = pred[1] compare(u, v), direction=GT\n"
        "  ROOT t = (pred[2], pred[2], pred[2], pred[1]) tuple(x, y, z, w)\n}\n",
        "(pred[2], pred[2], pred[2], pred[1]) ({1, 0}, {0, 0}, {1, 0}, {1})");
}
END_TEST

START_TEST(compare_totalorder) {
  /* -NaN < -inf < -1 < -0 < +0 < 1 < inf < NaN; equal bit patterns are EQ,
   * and -0 differs from +0. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[7] constant({-nan, -inf, -1, -0, 0, 1, inf})\n"
        "  b = f32[7] constant({-inf, -1, -0, 0, 1, inf, nan})\n"
        "  lt = pred[7] compare(a, b), direction=LT, type=TOTALORDER\n"
        "  gt = pred[7] compare(a, b), direction=GT, type=TOTALORDER\n"
        "  c = f32[3] constant({nan, -0, 1})\n  d = f32[3] constant({nan, 0, 1})\n"
        "  eq = pred[3] compare(c, d), direction=EQ, type=TOTALORDER\n"
        "  fe = pred[3] compare(c, d), direction=EQ\n"
        "  h = f16[3] constant({-nan, -0, inf})\n  i = f16[3] constant({-inf, 0, nan})\n"
        "  hl = pred[3] compare(h, i), direction=LT, type=TOTALORDER\n"
        "  e = f64[2] constant({-0, nan})\n  f = f64[2] constant({0, inf})\n"
        "  el = pred[2] compare(e, f), direction=LT, type=TOTALORDER\n"
        "  ROOT t = (pred[7], pred[7], pred[3], pred[3], pred[3], pred[2]) "
        "tuple(lt, gt, eq, fe, hl, el)\n}\n",
        "(pred[7], pred[7], pred[3], pred[3], pred[3], pred[2]) "
        "({1, 1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}, "
        "{1, 0})");
}
END_TEST

START_TEST(convert_saturation_and_rounding) {
  /* float -> int saturates and NaN -> 0; truncation toward zero. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[6] constant({1e10, -1e10, nan, -1.7, 2.5, -0.5})\n"
        "  i = s32[6] convert(a)\n  u = u8[6] convert(a)\n  l = s64[6] convert(a)\n"
        "  b = f64[2] constant({1e19, -1e300})\n  m = s64[2] convert(b)\n"
        "  n = u64[2] convert(b)\n  h = f16[2] constant({65504, -inf})\n  k = s16[2] convert(h)\n"
        "  ROOT t = (s32[6], u8[6], s64[6], s64[2], u64[2], s16[2]) tuple(i, u, l, m, n, k)\n}\n",
        "(s32[6], u8[6], s64[6], s64[2], u64[2], s16[2]) "
        "({2147483647, -2147483648, 0, -1, 2, 0}, {255, 0, 0, 0, 2, 0}, "
        "{10000000000, -10000000000, 0, -1, 2, 0}, {9223372036854775807, "
        "-9223372036854775808}, {10000000000000000000, 0}, {32767, -32768})");
  /* int -> int wraps; int -> float rounds to nearest even. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[3] constant({300, -1, 2049})\n  b = s8[3] convert(a)\n  c = u32[3] convert(a)\n"
        "  d = f16[3] convert(a)\n  e = u32[1] constant({4294967295})\n  f = s64[1] convert(e)\n"
        "  g = s64[1] constant({16777217})\n  h = f32[1] convert(g)\n"
        "  i = u64[1] constant({18446744073709551615})\n  j = f32[1] convert(i)\n"
        "  k = bf16[3] convert(a)\n"
        "  ROOT t = (s8[3], u32[3], f16[3], s64[1], f32[1], f32[1], bf16[3]) "
        "tuple(b, c, d, f, h, j, k)\n}\n",
        "(s8[3], u32[3], f16[3], s64[1], f32[1], f32[1], bf16[3]) ({44, -1, 1}, "
        "{300, 4294967295, 2049}, {300, -1, 2048}, {4294967295}, {16777216}, "
        "{18446744073709551616}, {300, -1, 2048})");
  /* f32 -> f16/bf16 round to nearest even; overflow to inf; NaN stays NaN. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[5] constant({1.00048828125, 65520, 65519, nan, 1.01171875})\n"
        "  h = f16[5] convert(a)\n  b = bf16[5] convert(a)\n  c = f32[5] convert(h)\n"
        "  d = f64[1] constant({1.0000000000000002})\n  e = f32[1] convert(d)\n"
        "  ROOT t = (f16[5], bf16[5], f32[5], f32[1]) tuple(h, b, c, e)\n}\n",
        "(f16[5], bf16[5], f32[5], f32[1]) ({1, inf, 65504, nan, 1.01171875}, "
        "{1, 65536, 65536, nan, 1.015625}, {1, inf, 65504, nan, 1.01171875}, {1})");
  /* To pred: != 0 (NaN is true); from pred: 0/1. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[3] constant({0, 5, -3})\n  p = pred[3] convert(a)\n"
        "  f = f32[3] constant({nan, 0, -0})\n  q = pred[3] convert(f)\n"
        "  r = f32[3] convert(p)\n  s = u8[3] convert(q)\n"
        "  ROOT t = (pred[3], pred[3], f32[3], u8[3]) tuple(p, q, r, s)\n}\n",
        "(pred[3], pred[3], f32[3], u8[3]) ({0, 1, 1}, {1, 0, 0}, {0, 1, 1}, {1, 0, 0})");
}
END_TEST

START_TEST(bitcast_convert_sizes) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[2] constant({1, -2})\n  b = s32[2] bitcast-convert(a)\n"
        "  c = u8[2,4] bitcast-convert(a)\n  d = f32[2] bitcast-convert(c)\n"
        "  e = u16[2,2] constant({{0, 16256}, {0, 49152}})\n  f = f32[2] bitcast-convert(e)\n"
        "  g = f16[2] constant({1, -0})\n  h = u16[2] bitcast-convert(g)\n"
        "  ROOT t = (s32[2], u8[2,4], f32[2], f32[2], u16[2]) tuple(b, c, d, f, h)\n}\n",
        "(s32[2], u8[2,4], f32[2], f32[2], u16[2]) ({1065353216, -1073741824}, "
        "{{0, 0, 128, 63}, {0, 0, 0, 192}}, {1, -2}, {1, -2}, {15360, 32768})");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Shapes, layouts, data movement                                           */
/* ------------------------------------------------------------------------ */

START_TEST(iota_broadcast_reshape_transpose) {
  CHECK("HloModule m\nENTRY e {\n"
        "  i = s32[2,3] iota(), iota_dimension=1\n  f = f32[3] iota(), iota_dimension=0\n"
        "  b = f32[2,3] broadcast(f), dimensions={1}\n"
        "  c = s32[2] constant({7, 8})\n  d = s32[2,3] broadcast(c), dimensions={0}\n"
        "  s = s32[] constant(5)\n  e = s32[2] broadcast(s), dimensions={}\n"
        "  r = s32[3,2] reshape(d)\n  t = s32[3,2] transpose(d), dimensions={1,0}\n"
        "  x = s32[2,3,4] iota(), iota_dimension=2\n  y = s32[2,3,4] iota(), iota_dimension=0\n"
        "  z = s32[2,3,4] add(x, y)\n  p = s32[4,2,3] transpose(z), dimensions={2,0,1}\n"
        "  ROOT o = (s32[2,3], f32[2,3], s32[2,3], s32[2], s32[3,2], s32[3,2], s32[4,2,3]) "
        "tuple(i, b, d, e, r, t, p)\n}\n",
        "(s32[2,3], f32[2,3], s32[2,3], s32[2], s32[3,2], s32[3,2], s32[4,2,3]) "
        "({{0, 1, 2}, {0, 1, 2}}, {{0, 1, 2}, {0, 1, 2}}, {{7, 7, 7}, {8, 8, 8}}, {5, 5}, "
        "{{7, 7}, {7, 8}, {8, 8}}, {{7, 8}, {7, 8}, {7, 8}}, "
        "{{{0, 0, 0}, {1, 1, 1}}, {{1, 1, 1}, {2, 2, 2}}, {{2, 2, 2}, {3, 3, 3}}, "
        "{{3, 3, 3}, {4, 4, 4}}})");
}
END_TEST

START_TEST(slice_reverse_concatenate) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[2,6] iota(), iota_dimension=1\n  b = s32[2,6] iota(), iota_dimension=0\n"
        "  ten = s32[] constant(10)\n  tb = s32[2,6] broadcast(ten), dimensions={}\n"
        "  m = s32[2,6] multiply(b, tb)\n  x = s32[2,6] add(a, m)\n"
        "  s = s32[2,3] slice(x), slice={[0:2], [1:6:2]}\n"
        "  t = s32[1,2] slice(x), slice={[1:2], [4:6]}\n"
        "  r = s32[2,3] reverse(s), dimensions={1}\n  q = s32[2,3] reverse(s), dimensions={0,1}\n"
        "  c = s32[2,6] concatenate(s, r), dimensions={1}\n"
        "  t2 = s32[1,3] slice(x), slice={[1:2], [0:3]}\n"
        "  d = s32[3,3] concatenate(s, t2), dimensions={0}\n"
        "  ROOT o = (s32[2,3], s32[1,2], s32[2,3], s32[2,3], s32[2,6], s32[3,3]) "
        "tuple(s, t, r, q, c, d)\n}\n",
        "(s32[2,3], s32[1,2], s32[2,3], s32[2,3], s32[2,6], s32[3,3]) "
        "({{1, 3, 5}, {11, 13, 15}}, {{14, 15}}, {{5, 3, 1}, {15, 13, 11}}, "
        "{{15, 13, 11}, {5, 3, 1}}, {{1, 3, 5, 5, 3, 1}, {11, 13, 15, 15, 13, 11}}, "
        "{{1, 3, 5}, {11, 13, 15}, {10, 11, 12}})");
}
END_TEST

START_TEST(pad_negative_and_interior) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[2,3] constant({{1, 2, 3}, {4, 5, 6}})\n  v = s32[] constant(9)\n"
        "  p = s32[4,3] pad(a, v), padding=1_0_1x-1_1\n"
        "  b = f32[5] constant({1, 2, 3, 4, 5})\n  z = f32[] constant(0)\n"
        "  q = f32[2] pad(b, z), padding=-1_-2\n"
        "  c = f32[3] constant({1, 2, 3})\n  r = f32[2] pad(c, z), padding=-2_-1_1\n"
        "  s = f32[7] pad(c, z), padding=0_0_2\n"
        "  ROOT o = (s32[4,3], f32[2], f32[2], f32[7]) tuple(p, q, r, s)\n}\n",
        "(s32[4,3], f32[2], f32[2], f32[7]) ({{9, 9, 9}, {2, 3, 9}, {9, 9, 9}, {5, 6, 9}}, "
        "{2, 3}, {2, 0}, {1, 0, 0, 2, 0, 0, 3})");
}
END_TEST

START_TEST(dynamic_slice_clamps) {
  HloLiteral *args[2] = {literal("s32[] 3"), literal("s32[] -4")};
  CHECK_ARGS("HloModule m\nENTRY e {\n"
             "  i = s32[] parameter(0)\n  j = s32[] parameter(1)\n"
             "  a = s32[5] iota(), iota_dimension=0\n"
             "  x = s32[3] dynamic-slice(a, i), dynamic_slice_sizes={3}\n"
             "  y = s32[3] dynamic-slice(a, j), dynamic_slice_sizes={3}\n"
             "  m = s32[3,4] iota(), iota_dimension=1\n"
             "  z = s32[2,2] dynamic-slice(m, i, j), dynamic_slice_sizes={2,2}\n"
             "  u = s32[2] constant({7, 8})\n  w = s32[5] dynamic-update-slice(a, u, i)\n"
             "  v = s32[5] dynamic-update-slice(a, u, j)\n"
             "  uu = s32[1,2] constant({{-1, -2}})\n"
             "  mm = s32[3,4] dynamic-update-slice(m, uu, i, i)\n"
             "  ROOT o = (s32[3], s32[3], s32[2,2], s32[5], s32[5], s32[3,4]) "
             "tuple(x, y, z, w, v, mm)\n}\n",
             args, 2,
             "(s32[3], s32[3], s32[2,2], s32[5], s32[5], s32[3,4]) ({2, 3, 4}, {0, 1, 2}, "
             "{{0, 1}, {0, 1}}, {0, 1, 2, 7, 8}, {7, 8, 2, 3, 4}, "
             "{{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, -1, -2}})");
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
}
END_TEST

START_TEST(bitcast_follows_layouts) {
  /* f32[2,3]{0,1} is column-major: its buffer is 1 4 2 5 3 6. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[2,3]{0,1} constant({{1, 2, 3}, {4, 5, 6}})\n"
        "  b = f32[3,2]{1,0} bitcast(a)\n  c = f32[6]{0} bitcast(a)\n"
        "  d = f32[2,3]{1,0} constant({{1, 2, 3}, {4, 5, 6}})\n  e = f32[3,2]{0,1} bitcast(d)\n"
        "  f = f32[3,2]{1,0} bitcast(d)\n  g = f32[2,3]{0,1} copy(d)\n"
        "  h = f32[1,2,3]{0,2,1} bitcast(a)\n"
        "  ROOT t = (f32[3,2], f32[6], f32[3,2], f32[3,2], f32[2,3], f32[1,2,3]) "
        "tuple(b, c, e, f, g, h)\n}\n",
        "(f32[3,2], f32[6], f32[3,2], f32[3,2], f32[2,3], f32[1,2,3]) "
        "({{1, 4}, {2, 5}, {3, 6}}, {1, 4, 2, 5, 3, 6}, {{1, 4}, {2, 5}, {3, 6}}, "
        "{{1, 2}, {3, 4}, {5, 6}}, {{1, 2, 3}, {4, 5, 6}}, {{{1, 4, 2}, {5, 3, 6}}})");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Gather and scatter                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(gather_configurations) {
  /* Rows by index (take), with out-of-bounds starts clamped. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[3,2] constant({{1, 2}, {3, 4}, {5, 6}})\n"
        "  i = s32[4] constant({2, 0, 5, -1})\n"
        "  ROOT g = f32[4,2] gather(a, i), offset_dims={1}, collapsed_slice_dims={0}, "
        "start_index_map={0}, index_vector_dim=1, slice_sizes={1,2}\n}\n",
        "f32[4,2] {{5, 6}, {1, 2}, {5, 6}, {1, 2}}");
  /* Index vectors along dim 0, two operand dims collapsed. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[3,3] iota(), iota_dimension=1\n  b = s32[3,3] iota(), iota_dimension=0\n"
        "  th = s32[] constant(3)\n  tb = s32[3,3] broadcast(th), dimensions={}\n"
        "  c = s32[3,3] multiply(b, tb)\n  x = s32[3,3] add(a, c)\n"
        "  i = s32[2,2] constant({{0, 2}, {1, 0}})\n"
        "  ROOT g = s32[2] gather(x, i), offset_dims={}, collapsed_slice_dims={0,1}, "
        "start_index_map={0,1}, index_vector_dim=0, slice_sizes={1,1}\n}\n",
        "s32[2] {1, 6}");
  /* 2x2 windows, nothing collapsed; the second start is clamped to 2. */
  CHECK("HloModule m\nENTRY e {\n"
        "  x = s32[4,4] iota(), iota_dimension=1\n  y = s32[4,4] iota(), iota_dimension=0\n"
        "  f = s32[] constant(4)\n  fb = s32[4,4] broadcast(f), dimensions={}\n"
        "  z = s32[4,4] multiply(y, fb)\n  a = s32[4,4] add(x, z)\n"
        "  i = s32[2,2] constant({{0, 1}, {3, 2}})\n"
        "  ROOT g = s32[2,2,2] gather(a, i), offset_dims={1,2}, collapsed_slice_dims={}, "
        "start_index_map={0,1}, index_vector_dim=1, slice_sizes={2,2}\n}\n",
        "s32[2,2,2] {{{1, 2}, {5, 6}}, {{10, 11}, {14, 15}}}");
  /* Batching dims: row b gathers from operand row b. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[2,3] constant({{0, 1, 2}, {10, 11, 12}})\n"
        "  i = s32[2,2] constant({{2, 0}, {1, 1}})\n"
        "  ROOT g = s32[2,2] gather(a, i), offset_dims={}, collapsed_slice_dims={1}, "
        "start_index_map={1}, operand_batching_dims={0}, start_indices_batching_dims={0}, "
        "index_vector_dim=2, slice_sizes={1,1}\n}\n",
        "s32[2,2] {{2, 0}, {11, 11}}");
  /* Batching dim in the middle of the indices, offset dims before the
   * batch dims in the output. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[3,2,4] iota(), iota_dimension=2\n  b = s32[3,2,4] iota(), iota_dimension=1\n"
        "  h = s32[] constant(100)\n  hb = s32[3,2,4] broadcast(h), dimensions={}\n"
        "  c = s32[3,2,4] multiply(b, hb)\n  x = s32[3,2,4] add(a, c)\n"
        "  i = s32[1,2,1] constant({{{3}, {1}}})\n"
        "  ROOT g = s32[3,1,2] gather(x, i), offset_dims={0}, collapsed_slice_dims={2}, "
        "start_index_map={2}, operand_batching_dims={1}, start_indices_batching_dims={1}, "
        "index_vector_dim=2, slice_sizes={3,1,1}\n}\n",
        "s32[3,1,2] {{{3, 101}}, {{3, 101}}, {{3, 101}}}");
}
END_TEST

static const char add_f32[] = "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                              "  ROOT s = f32[] add(a, b)\n}\n";

START_TEST(scatter_configurations) {
  HloStr m = {0};
  /* Repeated indices accumulate; a window that does not fit is skipped. */
  hlo_str_printf(&m,
                 "HloModule m\n%s"
                 "ENTRY e {\n  a = f32[5] constant({1, 1, 1, 1, 1})\n"
                 "  i = s32[5,1] constant({{1}, {1}, {4}, {-1}, {5}})\n"
                 "  u = f32[5] constant({10, 20, 30, 40, 50})\n"
                 "  ROOT s = f32[5] scatter(a, i, u), update_window_dims={}, "
                 "inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, "
                 "index_vector_dim=1, to_apply=add\n}\n",
                 add_f32);
  CHECK(m.buf, "f32[5] {1, 31, 1, 1, 31}");
  free(m.buf);
  m = (HloStr){0};
  hlo_str_printf(&m,
                 "HloModule m\n%s"
                 "ENTRY e {\n  a = f32[5] constant({0, 0, 0, 0, 0})\n"
                 "  i = s32[3] constant({3, 4, 0})\n"
                 "  u = f32[3,2] constant({{1, 2}, {3, 4}, {5, 6}})\n"
                 "  ROOT s = f32[5] scatter(a, i, u), update_window_dims={1}, "
                 "inserted_window_dims={}, scatter_dims_to_operand_dims={0}, "
                 "index_vector_dim=1, to_apply=add\n}\n",
                 add_f32);
  CHECK(m.buf, "f32[5] {5, 6, 0, 1, 2}");
  free(m.buf);
  /* Overwrite: updates apply in index order, the last one wins. */
  CHECK("HloModule m\nset {\n  a = s32[] parameter(0)\n  ROOT b = s32[] parameter(1)\n}\n"
        "ENTRY e {\n  a = s32[3,2] constant({{0, 0}, {0, 0}, {0, 0}})\n"
        "  i = s32[3] constant({2, 0, 2})\n  u = s32[3,2] constant({{1, 2}, {3, 4}, {5, 6}})\n"
        "  ROOT s = s32[3,2] scatter(a, i, u), update_window_dims={1}, "
        "inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, "
        "to_apply=set\n}\n",
        "s32[3,2] {{3, 4}, {0, 0}, {5, 6}}");
  /* Batching dims. */
  CHECK("HloModule m\nadd {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  ROOT s = s32[] add(a, b)\n}\n"
        "ENTRY e {\n  a = s32[2,3] constant({{0, 0, 0}, {1, 1, 1}})\n"
        "  i = s32[2,2] constant({{2, 2}, {0, 1}})\n  u = s32[2,2] constant({{5, 6}, {7, 8}})\n"
        "  ROOT s = s32[2,3] scatter(a, i, u), update_window_dims={}, "
        "inserted_window_dims={1}, input_batching_dims={0}, scatter_indices_batching_dims={0}, "
        "scatter_dims_to_operand_dims={1}, index_vector_dim=2, to_apply=add\n}\n",
        "s32[2,3] {{0, 0, 11}, {8, 9, 1}}");
  /* Variadic: two operands, a to_apply of 4 scalars returning a tuple (sum
   * of values, max of tags), evaluated element by element. */
  CHECK("HloModule m\nsummax {\n  a = f32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  c = f32[] parameter(2)\n  d = s32[] parameter(3)\n  s = f32[] add(a, c)\n"
        "  m = s32[] maximum(b, d)\n  ROOT t = (f32[], s32[]) tuple(s, m)\n}\n"
        "ENTRY e {\n  a = f32[3] constant({1, 2, 3})\n  b = s32[3] constant({0, 5, 0})\n"
        "  i = s32[3,1] constant({{0}, {1}, {0}})\n  u = f32[3] constant({10, 20, 30})\n"
        "  v = s32[3] constant({4, 1, 2})\n"
        "  ROOT s = (f32[3], s32[3]) scatter(a, b, i, u, v), update_window_dims={}, "
        "inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, "
        "to_apply=summax\n}\n",
        "(f32[3], s32[3]) ({41, 22, 3}, {4, 5, 0})");
  /* A to_apply that is not a plain binary op: current * 2 + update. */
  CHECK("HloModule m\nf {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  two = s32[] constant(2)\n  m = s32[] multiply(a, two)\n  ROOT s = s32[] add(m, b)\n}\n"
        "ENTRY e {\n  a = s32[2] constant({1, 1})\n  i = s32[3] constant({0, 0, 1})\n"
        "  u = s32[3] constant({10, 100, 5})\n"
        "  ROOT s = s32[2] scatter(a, i, u), update_window_dims={}, inserted_window_dims={0}, "
        "scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=f\n}\n",
        "s32[2] {124, 7}");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reductions and sort                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(reduce_plain_and_general) {
  HloStr m = {0};
  hlo_str_printf(&m,
                 "HloModule m\n%s"
                 "mx {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                 "  ROOT s = f32[] maximum(a, b)\n}\n"
                 "sq {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                 "  c = f32[] multiply(b, b)\n  ROOT s = f32[] add(a, c)\n}\n"
                 "viareshape {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                 "  r = f32[1] reshape(b)\n  q = f32[] reshape(r)\n  ROOT s = f32[] add(a, q)\n}\n"
                 "ENTRY e {\n  x = f32[2,3,2] iota(), iota_dimension=1\n"
                 "  y = f32[2,3,2] iota(), iota_dimension=2\n  v = f32[2,3,2] add(x, y)\n"
                 "  z = f32[] constant(0)\n  ten = f32[] constant(10)\n"
                 "  ninf = f32[] constant(-inf)\n"
                 "  a = f32[3] reduce(v, z), dimensions={0,2}, to_apply=add\n"
                 "  b = f32[2,2] reduce(v, ten), dimensions={1}, to_apply=add\n"
                 "  c = f32[] reduce(v, ninf), dimensions={0,1,2}, to_apply=mx\n"
                 "  d = f32[2] reduce(v, z), dimensions={0,1}, to_apply=sq\n"
                 "  e = f32[3] reduce(v, z), dimensions={0,2}, to_apply=viareshape\n"
                 "  n = f32[3] constant({1, nan, 2})\n  f = f32[] reduce(n, ninf), dimensions={0}, "
                 "to_apply=mx\n"
                 "  ROOT t = (f32[3], f32[2,2], f32[], f32[2], f32[3], f32[]) "
                 "tuple(a, b, c, d, e, f)\n}\n",
                 add_f32);
  CHECK(m.buf, "(f32[3], f32[2,2], f32[], f32[2], f32[3], f32[]) ({2, 6, 10}, "
               "{{13, 16}, {13, 16}}, 3, {10, 28}, {2, 6, 10}, nan)");
  free(m.buf);
  /* f16 sums round after every step: 2048 + 1 is a tie that stays 2048. */
  CHECK("HloModule m\nadd {\n  a = f16[] parameter(0)\n  b = f16[] parameter(1)\n"
        "  ROOT s = f16[] add(a, b)\n}\n"
        "ENTRY e {\n  x = f16[3] constant({2048, 1, 1})\n  z = f16[] constant(0)\n"
        "  ROOT r = f16[] reduce(x, z), dimensions={0}, to_apply=add\n}\n",
        "f16[] 2048");
  /* Many outputs (vectorised path) agree with few outputs. */
  CHECK("HloModule m\nadd {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  ROOT s = s32[] add(a, b)\n}\n"
        "ENTRY e {\n  x = s32[3,20] iota(), iota_dimension=1\n  z = s32[] constant(0)\n"
        "  r = s32[20] reduce(x, z), dimensions={0}, to_apply=add\n"
        "  ROOT s = s32[] reduce(r, z), dimensions={0}, to_apply=add\n}\n",
        "s32[] 570");
}
END_TEST

/* One input reduced by a computation returning a 1-tuple (XLA's variadic
 * form with one input): a tuple of what the plain reduce gives. */
START_TEST(reduce_one_input_tuple) {
  CHECK("HloModule m\nsum {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  s = s32[] add(a, b)\n  ROOT t = (s32[]) tuple(s)\n}\n"
        "ENTRY e {\n  x = s32[2,3] constant({{1, 2, 3}, {4, 5, 6}})\n  z = s32[] constant(10)\n"
        "  r = (s32[2]) reduce(x, z), dimensions={1}, to_apply=sum\n"
        "  w = (s32[2,2]) reduce-window(x, z), window={size=1x2}, to_apply=sum\n"
        "  ROOT t = ((s32[2]), (s32[2,2])) tuple(r, w)\n}\n",
        "((s32[2]), (s32[2,2])) (({16, 25}), ({{13, 15}, {19, 21}}))");
}
END_TEST

START_TEST(reduce_variadic_argmax) {
  /* Ties resolve to the lower index, as jnp.argmax. */
  CHECK("HloModule m\nam {\n  a = f32[] parameter(0)\n  ai = s32[] parameter(1)\n"
        "  b = f32[] parameter(2)\n  bi = s32[] parameter(3)\n"
        "  gt = pred[] compare(a, b), direction=GT\n  eq = pred[] compare(a, b), direction=EQ\n"
        "  lt = pred[] compare(ai, bi), direction=LT\n  tie = pred[] and(eq, lt)\n"
        "  take = pred[] or(gt, tie)\n  v = f32[] select(take, a, b)\n"
        "  i = s32[] select(take, ai, bi)\n  ROOT t = (f32[], s32[]) tuple(v, i)\n}\n"
        "ENTRY e {\n  x = f32[2,4] constant({{1, 7, 3, 7}, {-1, -2, -1, -5}})\n"
        "  io = s32[2,4] iota(), iota_dimension=1\n  z = f32[] constant(-inf)\n"
        "  zi = s32[] constant(0)\n"
        "  ROOT r = (f32[2], s32[2]) reduce(x, io, z, zi), dimensions={1}, to_apply=am\n}\n",
        "(f32[2], s32[2]) ({7, -1}, {1, 0})");
}
END_TEST

/* select-and-scatter, expected values worked out by hand from XLA's
 * definition: each window's first maximum (GE select: the selected one is
 * kept while select(selected, e) holds) receives its source element,
 * accumulated by scatter(result, source) into init. */
#define SAS_COMPS                                                                     \
  "ge {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                         \
  "  ROOT c = pred[] compare(a, b), direction=GE\n}\n"                                  \
  "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                        \
  "  ROOT c = f32[] add(a, b)\n}\n"                                                    \
  "second {\n  a = f32[] parameter(0)\n  ROOT b = f32[] parameter(1)\n}\n"

START_TEST(select_and_scatter) {
  /* XLA's R4F32OverlapSmall (hlo_parser_test_050): windows 2x3, stride
   * 2x2, overlapping in dim 1; 9 is the maximum of the first two windows
   * (2 + 6), 7 and 10 of the others. */
  CHECK("HloModule m\n" SAS_COMPS "ENTRY e {\n"
        "  x = f32[4,5] constant({{7, 2, 5, 3, 8}, {3, 8, 9, 3, 4}, {1, 5, 7, 5, 6}, "
        "{0, 6, 2, 10, 2}})\n"
        "  s = f32[2,2] constant({{2, 6}, {3, 1}})\n  z = f32[] constant(0)\n"
        "  ROOT r = f32[4,5] select-and-scatter(x, s, z), window={size=2x3 stride=2x2}, "
        "select=ge, scatter=add\n}\n",
        "f32[4,5] {{0, 0, 0, 0, 0}, {0, 0, 8, 0, 0}, {0, 0, 3, 0, 0}, {0, 0, 0, 1, 0}}");
  /* A scalar: its one window is the element; scatter(init, source). */
  CHECK("HloModule m\n" SAS_COMPS "ENTRY e {\n"
        "  x = f32[] constant(42)\n  s = f32[] constant(1)\n  z = f32[] constant(2)\n"
        "  ROOT r = f32[] select-and-scatter(x, s, z), select=ge, scatter=add\n}\n",
        "f32[] 3");
  /* Ties go to the first element, padding is never selected, and scatter
   * takes (result, source): with `second`, the last source sent to an
   * element stays.  Windows [-1..1], [1..3], [3..5]: the 3 at 1 wins the
   * first two (10, then 20), the 3 at 4 the last (30). */
  CHECK("HloModule m\n" SAS_COMPS "ENTRY e {\n"
        "  x = f32[5] constant({1, 3, 3, 2, 3})\n  s = f32[3] constant({10, 20, 30})\n"
        "  z = f32[] constant(-1)\n"
        "  ROOT r = f32[5] select-and-scatter(x, s, z), window={size=3 stride=2 pad=1_1}, "
        "select=ge, scatter=second\n}\n",
        "f32[5] {-1, 20, -1, -1, 30}");
  /* Windows of padding only scatter nothing. */
  CHECK("HloModule m\n" SAS_COMPS "ENTRY e {\n"
        "  x = f32[2] constant({5, 6})\n  s = f32[4] constant({1, 2, 3, 4})\n"
        "  z = f32[] constant(0)\n"
        "  ROOT r = f32[2] select-and-scatter(x, s, z), window={size=1 pad=1_1}, "
        "select=ge, scatter=add\n}\n",
        "f32[2] {2, 3}");
}
END_TEST

START_TEST(reduce_window_padding_dilation) {
  HloStr m = {0};
  hlo_str_printf(&m,
                 "HloModule m\n%s"
                 "addmul {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                 "  one = f32[] constant(1)\n  s = f32[] add(a, b)\n"
                 "  ROOT m = f32[] multiply(s, one)\n}\n"
                 "ENTRY e {\n  x = f32[4] constant({1, 2, 3, 4})\n  z = f32[] constant(0)\n"
                 "  ten = f32[] constant(10)\n"
                 /* plain window */
                 "  a = f32[3] reduce-window(x, z), window={size=2}, to_apply=add\n"
                 /* padding is skipped: the init is applied once per output */
                 "  b = f32[5] reduce-window(x, ten), window={size=2 pad=1_1}, to_apply=add\n"
                 /* window (rhs) dilation */
                 "  c = f32[2] reduce-window(x, z), window={size=2 rhs_dilate=2}, to_apply=add\n"
                 /* base (lhs) dilation: holes are skipped too */
                 "  d = f32[6] reduce-window(x, z), window={size=2 lhs_dilate=2}, to_apply=add\n"
                 /* stride with padding, and the general path agrees */
                 "  e = f32[3] reduce-window(x, ten), window={size=3 stride=2 pad=2_1}, "
                 "to_apply=add\n"
                 "  f = f32[3] reduce-window(x, ten), window={size=3 stride=2 pad=2_1}, "
                 "to_apply=addmul\n"
                 "  g = f32[6] reduce-window(x, z), window={size=2 lhs_dilate=2}, to_apply=addmul\n"
                 "  ROOT t = (f32[3], f32[5], f32[2], f32[6], f32[3], f32[3], f32[6]) "
                 "tuple(a, b, c, d, e, f, g)\n}\n",
                 add_f32);
  CHECK(m.buf, "(f32[3], f32[5], f32[2], f32[6], f32[3], f32[3], f32[6]) "
               "({3, 5, 7}, {11, 13, 15, 17, 14}, {4, 6}, {1, 2, 2, 3, 3, 4}, {11, 16, 17}, "
               "{11, 16, 17}, {1, 2, 2, 3, 3, 4})");
  free(m.buf);
  /* 2-D max pool with SAME padding, and a variadic (max, argmax) window. */
  CHECK("HloModule m\nmx {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  ROOT s = s32[] maximum(a, b)\n}\n"
        "am {\n  a = s32[] parameter(0)\n  ai = s32[] parameter(1)\n  b = s32[] parameter(2)\n"
        "  bi = s32[] parameter(3)\n  gt = pred[] compare(b, a), direction=GT\n"
        "  v = s32[] select(gt, b, a)\n  i = s32[] select(gt, bi, ai)\n"
        "  ROOT t = (s32[], s32[]) tuple(v, i)\n}\n"
        "ENTRY e {\n  x = s32[3,3] constant({{1, 9, 2}, {4, 5, 6}, {8, 3, 7}})\n"
        "  lo = s32[] constant(-2147483648)\n"
        "  p = s32[2,2] reduce-window(x, lo), window={size=2x2 stride=2x2 pad=0_1x0_1}, "
        "to_apply=mx\n"
        "  io = s32[3] iota(), iota_dimension=0\n  v = s32[3] constant({5, 9, 9})\n"
        "  zi = s32[] constant(-1)\n"
        "  q = (s32[2], s32[2]) reduce-window(v, io, lo, zi), window={size=2}, to_apply=am\n"
        "  q0 = s32[2] get-tuple-element(q), index=0\n  q1 = s32[2] get-tuple-element(q), index=1\n"
        "  ROOT t = (s32[2,2], s32[2], s32[2]) tuple(p, q0, q1)\n}\n",
        "(s32[2,2], s32[2], s32[2]) ({{9, 6}, {8, 7}}, {9, 9}, {1, 1})");
}
END_TEST

/* Windows mixing stride, padding and both dilations, against the
 * definition: offset w of output o reads dilated position
 * o * stride - pad_lo + w * rhs_dilate, an input element when it is a
 * multiple of lhs_dilate inside the dilated input (padding and holes add
 * nothing).  A plain add (folded a row at a time for f32, combined element
 * by element for s32), a computation the evaluator does not recognise
 * (applied per element) and a variadic window of two plain reducers (split
 * per operand) must all give what the definition gives. */
START_TEST(reduce_window_against_definition) {
  /* size, stride, pad_lo, pad_hi, lhs_dilate, rhs_dilate per dimension */
  static const int64_t win[][2][6] = {
      {{2, 1, 0, 0, 1, 1}, {3, 2, 1, 1, 1, 1}},
      {{3, 2, 2, 1, 2, 1}, {2, 1, 0, 0, 1, 3}},
      {{4, 3, 3, 2, 3, 2}, {3, 2, 4, 0, 2, 2}},
      {{5, 1, 4, 0, 1, 1}, {7, 1, 6, 0, 1, 1}},
      {{2, 1, 9, 0, 1, 1}, {1, 1, 0, 0, 1, 1}}, /* first outputs all padding */
  };
  enum { R = 5, C = 7 };
  /* f16 and bf16 fold in f32, rounding every step: small integers keep
   * every partial sum exact (below 2^8 in bf16). */
  const char *types[] = {"f32", "s32", "f16", "bf16"};
  for (size_t ti = 0; ti < 4; ti++) {
    const char *ty = types[ti];
    HloStr xs = {0};
    int64_t x[R][C];
    hlo_str_printf(&xs, "%s[%d,%d] {", ty, R, C);
    for (int i = 0; i < R; i++) {
      hlo_str_printf(&xs, "%s{", i ? ", " : "");
      for (int j = 0; j < C; j++) {
        x[i][j] = ti == 3 ? (i * 37 + j * 11) % 7 - 3 : (i * 37 + j * 11) % 23 - 9;
        hlo_str_printf(&xs, "%s%lld", j ? ", " : "", (long long)x[i][j]);
      }
      hlo_str_printf(&xs, "}");
    }
    hlo_str_printf(&xs, "}");
    HloLiteral *arg = literal(xs.buf);
    for (size_t c = 0; c < sizeof win / sizeof win[0]; c++) {
      const int64_t(*w)[6] = win[c];
      int64_t od[2];
      for (int d = 0; d < 2; d++) {
        int64_t n = d ? C : R;
        int64_t padded = (n - 1) * w[d][4] + 1 + w[d][2] + w[d][3];
        int64_t span = (w[d][0] - 1) * w[d][5] + 1;
        od[d] = padded < span ? 0 : (padded - span) / w[d][1] + 1;
      }
      HloStr m = {0}, wd = {0};
      hlo_str_printf(&wd, "window={size=%lldx%lld stride=%lldx%lld pad=%lld_%lldx%lld_%lld "
                          "lhs_dilate=%lldx%lld rhs_dilate=%lldx%lld}",
                     (long long)w[0][0], (long long)w[1][0], (long long)w[0][1],
                     (long long)w[1][1], (long long)w[0][2], (long long)w[0][3],
                     (long long)w[1][2], (long long)w[1][3], (long long)w[0][4],
                     (long long)w[1][4], (long long)w[0][5], (long long)w[1][5]);
      char o[64];
      snprintf(o, sizeof o, "%s[%lld,%lld]", ty, (long long)od[0], (long long)od[1]);
      hlo_str_printf(&m,
                     "HloModule m\n"
                     "add {\n  a = %s[] parameter(0)\n  b = %s[] parameter(1)\n"
                     "  ROOT s = %s[] add(a, b)\n}\n"
                     "addmul {\n  a = %s[] parameter(0)\n  b = %s[] parameter(1)\n"
                     "  one = %s[] constant(1)\n  s = %s[] add(a, b)\n"
                     "  ROOT m = %s[] multiply(s, one)\n}\n"
                     "pair {\n  a = %s[] parameter(0)\n  b = %s[] parameter(1)\n"
                     "  c = %s[] parameter(2)\n  d = %s[] parameter(3)\n"
                     "  s = %s[] add(c, a)\n  x = %s[] maximum(b, d)\n"
                     "  ROOT t = (%s[], %s[]) tuple(s, x)\n}\n"
                     "ENTRY e {\n  x = %s[%d,%d] parameter(0)\n  z = %s[] constant(3)\n"
                     "  lo = %s[] constant(-1000)\n"
                     "  a = %s reduce-window(x, z), %s, to_apply=add\n"
                     "  b = %s reduce-window(x, z), %s, to_apply=addmul\n"
                     "  c = (%s, %s) reduce-window(x, x, z, lo), %s, to_apply=pair\n"
                     "  c0 = %s get-tuple-element(c), index=0\n"
                     "  c1 = %s get-tuple-element(c), index=1\n"
                     "  ROOT t = (%s, %s, %s, %s) tuple(a, b, c0, c1)\n}\n",
                     ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, ty, R, C,
                     ty, ty, o, wd.buf, o, wd.buf, o, o, wd.buf, o, o, o, o, o, o);
      HloLiteral *out = evaluate_text(m.buf, &arg, 1);
      for (int64_t i = 0; i < od[0]; i++)
        for (int64_t j = 0; j < od[1]; j++) {
          int64_t sum = 3, max = -1000;
          for (int64_t a = 0; a < w[0][0]; a++)
            for (int64_t b = 0; b < w[1][0]; b++) {
              int64_t p = i * w[0][1] - w[0][2] + a * w[0][5];
              int64_t q = j * w[1][1] - w[1][2] + b * w[1][5];
              if (p < 0 || q < 0 || p % w[0][4] || q % w[1][4] || p / w[0][4] >= R ||
                  q / w[1][4] >= C)
                continue;
              int64_t v = x[p / w[0][4]][q / w[1][4]];
              sum += v;
              max = v > max ? v : max;
            }
          int64_t want[4] = {sum, sum, sum, max};
          for (int k = 0; k < 4; k++)
            ck_assert_msg(hlo_literal_get_s64(out->elems[k], i * od[1] + j) == want[k],
                          "%s window %zu result %d at (%lld, %lld): %lld, want %lld", ty, c, k,
                          (long long)i, (long long)j,
                          (long long)hlo_literal_get_s64(out->elems[k], i * od[1] + j),
                          (long long)want[k]);
        }
      hlo_literal_free(out);
      free(m.buf);
      free(wd.buf);
    }
    hlo_literal_free(arg);
    free(xs.buf);
  }
}
END_TEST

START_TEST(sort_stable_multi_operand) {
  /* Keys with ties: values keep their order among equal keys. */
  CHECK("HloModule m\ncmp {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  c = f32[] parameter(2)\n  d = f32[] parameter(3)\n"
        "  ROOT lt = pred[] compare(a, b), direction=LT\n}\n"
        "ENTRY e {\n  k = s32[6] constant({3, 1, 2, 1, 3, 1})\n"
        "  v = f32[6] constant({0, 1, 2, 3, 4, 5})\n"
        "  ROOT s = (s32[6], f32[6]) sort(k, v), dimensions={0}, is_stable=true, to_apply=cmp\n}\n",
        "(s32[6], f32[6]) ({1, 1, 1, 2, 3, 3}, {1, 3, 5, 2, 0, 4})");
  /* Descending along dim 0 of a matrix, and along dim 1. */
  CHECK("HloModule m\ngt {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  ROOT g = pred[] compare(a, b), direction=GT\n}\n"
        "ENTRY e {\n  x = s32[3,2] constant({{1, 6}, {5, 2}, {3, 4}})\n"
        "  a = s32[3,2] sort(x), dimensions={0}, to_apply=gt\n"
        "  b = s32[3,2] sort(x), dimensions={1}, to_apply=gt\n"
        "  ROOT t = (s32[3,2], s32[3,2]) tuple(a, b)\n}\n",
        "(s32[3,2], s32[3,2]) ({{5, 6}, {3, 4}, {1, 2}}, {{6, 1}, {5, 2}, {4, 3}})");
  /* Total order: -NaN first, NaN last, -0 before 0 (NaN signs checked
   * explicitly, as NaNs otherwise match any NaN). */
  const char *total = "HloModule m\ncmp {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                      "  ROOT lt = pred[] compare(a, b), direction=LT, type=TOTALORDER\n}\n"
                      "ENTRY e {\n  x = f32[6] constant({nan, 0, -inf, -0, 1, -nan})\n"
                      "  ROOT s = f32[6] sort(x), dimensions={0}, to_apply=cmp\n}\n";
  CHECK(total, "f32[6] {-nan, -inf, -0, 0, 1, nan}");
  HloLiteral *sorted = evaluate_text(total, NULL, 0);
  ck_assert(signbit(hlo_literal_get_f64(sorted, 0)) && !signbit(hlo_literal_get_f64(sorted, 5)));
  hlo_literal_free(sorted);
}
END_TEST

/* topk as XLA decomposes it: a stable sort in total order along the last
 * dimension, greatest first (largest, the default) or least first; ties
 * keep the lower index first. */
START_TEST(topk_rows_in_total_order) {
  CHECK("HloModule m\nENTRY e {\n  x = f32[2,5] constant({{1, 5, -0, 0, 5}, "
        "{nan, -inf, 2, -nan, 3}})\n  ROOT t = topk(x), k=3\n}\n",
        "(f32[2,3], s32[2,3]) ({{5, 5, 1}, {nan, 3, 2}}, {{1, 4, 0}, {0, 4, 2}})");
  CHECK("HloModule m\nENTRY e {\n  x = f32[2,5] constant({{1, 5, -0, 0, 5}, "
        "{nan, -inf, 2, -nan, 3}})\n  ROOT t = topk(x), k=3, largest=false\n}\n",
        "(f32[2,3], s32[2,3]) ({{-0, 0, 1}, {-nan, -inf, 2}}, {{2, 3, 0}, {3, 1, 2}})");
  CHECK("HloModule m\nENTRY e {\n  x = u32[4] constant({7, 4294967295, 7, 0})\n"
        "  ROOT t = (u32[2], s32[2]) topk(x), k=2, largest=true\n}\n",
        "(u32[2], s32[2]) ({4294967295, 7}, {1, 0})");
  CHECK("HloModule m\nENTRY e {\n  x = s8[3] constant({-1, -128, 5})\n"
        "  ROOT t = (s8[0], s32[0]) topk(x), k=0\n}\n",
        "(s8[0], s32[0]) ({}, {})");
  /* XLA's TopK custom-call is that topk: largest first without a
   * comparator or with a GT one, least first with LT (or GT on swapped
   * parameters). */
  CHECK("HloModule m\nENTRY e {\n  x = f32[2,5] constant({{1, 5, -0, 0, 5}, "
        "{nan, -inf, 2, -nan, 3}})\n"
        "  ROOT t = (f32[2,3], s32[2,3]) custom-call(x), custom_call_target=\"TopK\"\n}\n",
        "(f32[2,3], s32[2,3]) ({{5, 5, 1}, {nan, 3, 2}}, {{1, 4, 0}, {0, 4, 2}})");
  CHECK("HloModule m\nlt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
        "  i = s32[] parameter(2)\n  j = s32[] parameter(3)\n"
        "  ROOT c = pred[] compare(b, a), direction=GT, type=TOTALORDER\n}\n"
        "ENTRY e {\n  x = f32[2,5] constant({{1, 5, -0, 0, 5}, {nan, -inf, 2, -nan, 3}})\n"
        "  ROOT t = (f32[2,3], s32[2,3]) custom-call(x), custom_call_target=\"TopK\", "
        "called_computations={lt}\n}\n",
        "(f32[2,3], s32[2,3]) ({{-0, 0, 1}, {-nan, -inf, 2}}, {{2, 3, 0}, {3, 1, 2}})");
  /* XLA's NaN-safe comparison as JAX prints it: the floats' bits as s32,
   * negative ones with their magnitude flipped, compared as integers; LT
   * on those keys is least first in total order. */
  const char *keys =
      "HloModule m\nlt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  i = s32[] parameter(2)\n  j = s32[] parameter(3)\n  z = s32[] constant(0)\n"
      "  m = s32[] constant(2147483647)\n  ba = s32[] bitcast-convert(a)\n"
      "  bb = s32[] bitcast(b)\n  na = pred[] compare(ba, z), direction=LT\n"
      "  nb = pred[] compare(bb, z), direction=LT\n  fa = s32[] xor(m, ba)\n"
      "  fb = s32[] xor(bb, m)\n  ka = s32[] select(na, fa, ba)\n"
      "  kb = s32[] select(nb, fb, bb)\n  ROOT c = pred[] compare(ka, kb), direction=%s\n}\n"
      "ENTRY e {\n  x = f32[2,5] constant({{1, 5, -0, 0, 5}, {nan, -inf, 2, -nan, 3}})\n"
      "  ROOT t = (f32[2,3], s32[2,3]) custom-call(x), custom_call_target=\"TopK\", "
      "called_computations={lt}\n}\n";
  char text[1024];
  snprintf(text, sizeof text, keys, "LT");
  CHECK(text, "(f32[2,3], s32[2,3]) ({{-0, 0, 1}, {-nan, -inf, 2}}, {{2, 3, 0}, {3, 1, 2}})");
  snprintf(text, sizeof text, keys, "GT");
  CHECK(text, "(f32[2,3], s32[2,3]) ({{5, 5, 1}, {nan, 3, 2}}, {{1, 4, 0}, {0, 4, 2}})");
  /* Keys of another constant than the maximum are no total order. */
  const char *off = strstr(keys, "2147483647");
  ck_assert_ptr_nonnull(off);
  snprintf(text, sizeof text, "%.*s2147483646%s", (int)(off - keys), keys, off + 10);
  char bad[1024];
  snprintf(bad, sizeof bad, text, "LT");
  HloModule *mod = ck_parse(bad);
  HloError *e = hlo_verify(mod);
  ck_assert_msg(e && strstr(hlo_error_message(e), "is not compare(lhs, rhs) GT or LT"), "%s",
                e ? hlo_error_message(e) : "verified");
  hlo_error_free(e);
  hlo_module_free(mod);
}
END_TEST

/* rng-bit-generator, bit for bit as XLA on CPU: every expected value below
 * was printed by scripts/gen_rng_bit_generator.py (TensorFlow's
 * xla.rng_bit_generator(alg, state, shape, dtype) under
 * tf.function(jit_compile=True)), converted to decimal.  Philox with a
 * 64-bit counter that wraps, a 128-bit counter that carries, element
 * counts that are not multiples of 4, u64 bits; ThreeFry on an odd and an
 * even split dimension and u64 bits. */
START_TEST(rng_bit_generator_matches_xla) {
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({1, 2})\n"
        "  ROOT r = (u64[2], u32[5]) rng-bit-generator(s), algorithm=rng_philox\n}\n",
        "(u64[2], u32[5]) ({1, 4}, {2100602697, 2847456232, 2074354647, 800269529, 1828267006})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({81985529216486895, 18446744073709551614})\n"
        "  ROOT r = (u64[2], u32[2,3]) rng-bit-generator(s), algorithm=rng_philox\n}\n",
        "(u64[2], u32[2,3]) ({81985529216486895, 0}, {{172511636, 1103493126, 3598856174}, {948282324, 1105943027, 812877280}})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[3] constant({7, 18446744073709551615, 5})\n"
        "  ROOT r = (u64[3], u32[6]) rng-bit-generator(s), algorithm=rng_philox\n}\n",
        "(u64[3], u32[6]) ({7, 1, 6}, {592388033, 4281800940, 662029415, 3118642158, 2900326916, 2923260437})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({3, 4})\n"
        "  ROOT r = (u64[2], u64[3]) rng-bit-generator(s), algorithm=rng_philox\n}\n",
        "(u64[2], u64[3]) ({3, 6}, {7273927384102244376, 13961825902842346770, 4779387745772766108})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({1, 2})\n"
        "  ROOT r = (u64[2], u32[5]) rng-bit-generator(s), algorithm=rng_three_fry\n}\n",
        "(u64[2], u32[5]) ({1, 5}, {43444564, 2150618427, 3979645651, 3745730563, 1672743891})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({81985529216486895, 42})\n"
        "  ROOT r = (u64[2], u32[3,2]) rng-bit-generator(s), algorithm=rng_three_fry\n}\n",
        "(u64[2], u32[3,2]) ({81985529216486895, 45}, {{2301371841, 2475193860}, {48415625, 1946396347}, {4146834173, 4184161795}})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({9, 10})\n"
        "  ROOT r = (u64[2], u64[3]) rng-bit-generator(s), algorithm=rng_three_fry\n}\n",
        "(u64[2], u64[3]) ({9, 13}, {6736286827098062567, 5558378847693685504, 1750433426452485809})");

  /* rng_default: XLA's CPU and GPU compilers add
   * RngBitGeneratorExpander(RNG_PHILOX), so it draws the Philox bits above. */
  CHECK("HloModule m\nENTRY e {\n  s = u64[2] constant({1, 2})\n"
        "  ROOT r = (u64[2], u32[5]) rng-bit-generator(s), algorithm=rng_default\n}\n",
        "(u64[2], u32[5]) ({1, 4}, {2100602697, 2847456232, 2074354647, 800269529, 1828267006})");
  /* A longer state: XLA's RngBitGeneratorExpander reads state[0..1]
   * (ThreeFry) or state[0..2] (Philox) only, so the bits are those of
   * the shorter states above, and the words after are kept. */
  CHECK("HloModule m\nENTRY e {\n  s = u64[4] constant({9, 10, 77, 88})\n"
        "  ROOT r = (u64[4], u64[3]) rng-bit-generator(s), algorithm=rng_three_fry\n}\n",
        "(u64[4], u64[3]) ({9, 13, 77, 88}, {6736286827098062567, 5558378847693685504, 1750433426452485809})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[3] constant({1, 2, 3})\n"
        "  ROOT r = (u64[3], u32[5]) rng-bit-generator(s), algorithm=rng_three_fry\n}\n",
        "(u64[3], u32[5]) ({1, 5, 3}, {43444564, 2150618427, 3979645651, 3745730563, 1672743891})");
  CHECK("HloModule m\nENTRY e {\n  s = u64[5] constant({7, 18446744073709551615, 5, 4, 3})\n"
        "  ROOT r = (u64[5], u32[6]) rng-bit-generator(s), algorithm=rng_philox\n}\n",
        "(u64[5], u32[6]) ({7, 1, 6, 4, 3}, {592388033, 4281800940, 662029415, 3118642158, 2900326916, 2923260437})");
}
END_TEST

/* rng: XLA leaves the numbers unspecified, so what is checked is what any
 * generator must give: values within the bounds, the same on every run,
 * different for two rng instructions, each integer of a small range
 * drawn, and sample means and deviations within four standard errors of
 * the distribution's (10,000 draws). */
START_TEST(rng_draws_within_bounds_deterministically) {
  const char *text =
      "HloModule m\nENTRY e {\n"
      "  a = f32[] constant(-2)\n  b = f32[] constant(3)\n"
      "  u = f32[100,100] rng(a, b), distribution=rng_uniform\n"
      "  v = f32[100,100] rng(a, b), distribution=rng_uniform\n"
      "  m = f32[] constant(1)\n  s = f32[] constant(2)\n"
      "  n = f32[10000] rng(m, s), distribution=rng_normal\n"
      "  dm = f64[] constant(-1)\n  ds = f64[] constant(0.5)\n"
      "  d = f64[10000] rng(dm, ds), distribution=rng_normal\n"
      "  hm = f16[] constant(-1)\n  hs = f16[] constant(0.25)\n"
      "  h = f16[100] rng(hm, hs), distribution=rng_uniform\n"
      "  i0 = s8[] constant(-3)\n  i1 = s8[] constant(5)\n"
      "  i = s8[1000] rng(i0, i1), distribution=rng_uniform\n"
      "  j0 = u64[] constant(18446744073709551000)\n  j1 = u64[] constant(18446744073709551615)\n"
      "  j = u64[1000] rng(j0, j1), distribution=rng_uniform\n"
      "  k = s32[] constant(7)\n"
      "  same = s32[10] rng(k, k), distribution=rng_uniform\n"
      "  ROOT t = (f32[100,100], f32[100,100], f32[10000], f64[10000], f16[100], s8[1000], "
      "u64[1000], s32[10]) tuple(u, v, n, d, h, i, j, same)\n}\n";
  HloLiteral *r = evaluate_text(text, NULL, 0), *again = evaluate_text(text, NULL, 0);
  ck_assert(hlo_literal_equal(r, again));
  HloLiteral **e = r->elems;
  double sum = 0;
  for (int64_t x = 0; x < 10000; x++) {
    double v = hlo_literal_get_f64(e[0], x);
    ck_assert_msg(v >= -2 && v <= 3, "uniform %g", v);
    sum += v;
  }
  /* Mean 0.5, standard error 5 / sqrt(12) / 100. */
  ck_assert_double_le(fabs(sum / 10000 - 0.5), 4 * 5 / sqrt(12) / 100);
  ck_assert(!hlo_literal_equal(e[0], e[1]));
  for (int k = 2; k < 4; k++) {
    double mu = k == 2 ? 1 : -1, sd = k == 2 ? 2 : 0.5, s1 = 0, s2 = 0;
    for (int64_t x = 0; x < 10000; x++) {
      double v = hlo_literal_get_f64(e[k], x);
      ck_assert(isfinite(v));
      s1 += v, s2 += v * v;
    }
    double mean = s1 / 10000, dev = sqrt(s2 / 10000 - mean * mean);
    /* The standard errors of the mean and of the deviation: sd / 100 and
     * about sd / sqrt(2 · 10000). */
    ck_assert_double_le(fabs(mean - mu), 4 * sd / 100);
    ck_assert_double_le(fabs(dev - sd), 4 * sd / sqrt(20000));
  }
  for (int64_t x = 0; x < 100; x++) {
    double v = hlo_literal_get_f64(e[4], x);
    ck_assert_msg(v >= -1 && v <= 0.25, "f16 uniform %g", v);
  }
  int seen[8] = {0};
  for (int64_t x = 0; x < 1000; x++) {
    int64_t v = hlo_literal_get_s64(e[5], x);
    ck_assert_msg(v >= -3 && v < 5, "s8 uniform %lld", (long long)v);
    seen[v + 3]++;
  }
  for (int v = 0; v < 8; v++) ck_assert_int_gt(seen[v], 0);
  for (int64_t x = 0; x < 1000; x++)
    ck_assert_uint_ge(((const uint64_t *)e[6]->data)[x], 18446744073709551000ull);
  for (int64_t x = 0; x < 10; x++) ck_assert_int_eq(hlo_literal_get_s64(e[7], x), 7);
  hlo_literal_free(r);
  hlo_literal_free(again);
}
END_TEST

/* stochastic-convert as XLA decomposes it: 2.25 rounds up when random is
 * below 0.25 · 2^32, negative values round their magnitude, and values
 * past the type's range give its bounds (not 127 + 1 wrapped). */
START_TEST(stochastic_convert_rounds_by_random_bits) {
  CHECK("HloModule m\nENTRY e {\n"
        "  x = f32[8] constant({2.25, 2.25, -2.25, -0.5, 300, -300, 127.5, 7})\n"
        "  r = u32[8] constant({1073741823, 1073741824, 0, 2147483648, 0, 0, 0, 0})\n"
        "  ROOT s = s8[8] stochastic-convert(x, r)\n}\n",
        "s8[8] {3, 2, -3, 0, 127, -128, 127, 7}");
  CHECK("HloModule m\nENTRY e {\n  x = bf16[3] constant({1.5, -1.5, 1.5})\n"
        "  r = u16[3] constant({32767, 32767, 32768})\n"
        "  ROOT s = s32[3] stochastic-convert(x, r)\n}\n",
        "s32[3] {2, -2, 1}");
}
END_TEST

/* ragged-dot in its three modes, every value exact.  Non-contracting:
 * rows 0-1 are group 0 (rhs picks column 0), group 1 is empty, rows 2-3
 * are group 2 (the sum of both columns), row 4 is in no group: zeros.
 * Contracting: group 0 sums k = 0, group 1 k = 1..2, k = 3 is in none;
 * with a batch dim, group_sizes has a row per batch.  Batch: the dot. */
START_TEST(ragged_dot_modes) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[5,2] constant({{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}})\n"
        "  b = f32[3,2,1] constant({{{1}, {0}}, {{0}, {1}}, {{1}, {1}}})\n"
        "  g = s32[3] constant({2, 0, 2})\n"
        "  ROOT r = f32[5,1] ragged-dot(a, b, g), lhs_contracting_dims={1}, "
        "rhs_contracting_dims={1}, lhs_ragged_dims={0}, rhs_group_dims={0}\n}\n",
        "f32[5,1] {{1}, {3}, {11}, {15}, {0}}");
  CHECK("HloModule m\nENTRY e {\n  a = f32[1,4] constant({{1, 2, 3, 4}})\n"
        "  b = f32[4,1] constant({{1}, {10}, {100}, {1000}})\n  g = s64[2] constant({1, 2})\n"
        "  ROOT r = f32[2,1,1] ragged-dot(a, b, g), lhs_contracting_dims={1}, "
        "rhs_contracting_dims={0}, lhs_ragged_dims={1}\n}\n",
        "f32[2,1,1] {{{1}}, {{320}}}");
  CHECK("HloModule m\nENTRY e {\n  a = f32[2,1,3] constant({{{1, 2, 3}}, {{4, 5, 6}}})\n"
        "  b = f32[2,3,1] constant({{{1}, {1}, {1}}, {{1}, {1}, {1}}})\n"
        "  g = s32[2,2] constant({{1, 2}, {3, 0}})\n"
        "  ROOT r = f32[2,2,1,1] ragged-dot(a, b, g), lhs_batch_dims={0}, "
        "lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}, "
        "lhs_ragged_dims={2}\n}\n",
        "f32[2,2,1,1] {{{{1}}, {{15}}}, {{{5}}, {{0}}}}");
  CHECK("HloModule m\nENTRY e {\n  a = f32[2,1,1] constant({{{2}}, {{3}}})\n"
        "  b = f32[2,1,1] constant({{{5}}, {{7}}})\n  g = s32[1] constant({1})\n"
        "  ROOT r = f32[2,1,1] ragged-dot(a, b, g), lhs_batch_dims={0}, "
        "lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}, "
        "lhs_ragged_dims={0}\n}\n",
        "f32[2,1,1] {{{10}}, {{21}}}");
}
END_TEST

/* Bounded dynamic dimensions: a value is as large as its dynamic dims
 * are at run time, so padding reaches no reduction, dot or elementwise
 * op (XLA's padder masks it with the reduction's init value, zeros for a
 * dot); get-dimension-size reads the size, static dims their own. */
#define DYN_ADD "HloModule m\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n" \
                "  ROOT s = f32[] add(a, b)\n}\n"
START_TEST(dynamic_dimensions) {
  CHECK(DYN_ADD "ENTRY e {\n  x = f32[2,5] constant({{1, 2, 3, 4, 5}, {10, 20, 30, 40, 50}})\n"
        "  n = s32[] constant(3)\n"
        "  d = f32[2,<=5] set-dimension-size(x, n), dimensions={1}\n  z = f32[] constant(0)\n"
        "  r = f32[2] reduce(d, z), dimensions={1}, to_apply=add\n"
        "  g = s32[] get-dimension-size(d), dimensions={1}\n"
        "  h = s32[] get-dimension-size(d), dimensions={0}\n"
        "  ROOT t = (f32[2], s32[], s32[]) tuple(r, g, h)\n}\n",
        "(f32[2], s32[], s32[]) ({6, 60}, 3, 2)");
  CHECK("HloModule m\nENTRY e {\n  x = s32[5] constant({1, 2, 3, 4, 5})\n  n = s32[] constant(3)\n"
        "  d = s32[<=5] set-dimension-size(x, n), dimensions={0}\n"
        "  m = s32[<=5] multiply(d, d)\n  rv = s32[<=5] reverse(m), dimensions={0}\n"
        "  c = s32[<=10] concatenate(rv, d), dimensions={0}\n"
        "  b = s32[2,<=5] broadcast(d), dimensions={1}\n"
        "  tr = s32[<=5,2] transpose(b), dimensions={1,0}\n  rs = s32[<=10] reshape(tr)\n"
        "  sl = s32[2] slice(c), slice={[1:3]}\n  fs = s32[<=5] slice(d), slice={[0:5]}\n"
        "  k = s32[5] constant({10, 20, 30, 40, 50})\n  ad = s32[<=5] add(k, d)\n"
        "  ROOT t = (s32[<=10], s32[<=5,2], s32[<=10], s32[2], s32[<=5], s32[<=5]) "
        "tuple(c, tr, rs, sl, fs, ad)\n}\n",
        "(s32[6], s32[3,2], s32[6], s32[2], s32[3], s32[3]) ({9, 4, 1, 1, 2, 3}, {{1, 1}, "
        "{2, 2}, {3, 3}}, {1, 1, 2, 2, 3, 3}, {4, 1}, {1, 2, 3}, {11, 22, 33})");
  CHECK("HloModule m\nENTRY e {\n  x = f32[2,4] constant({{1, 2, 3, 4}, {5, 6, 7, 8}})\n"
        "  y = f32[4] constant({1, 10, 100, 1000})\n  n = s32[] constant(2)\n"
        "  a = f32[2,<=4] set-dimension-size(x, n), dimensions={1}\n"
        "  b = f32[<=4] set-dimension-size(y, n), dimensions={0}\n"
        "  ROOT r = f32[2] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n",
        "f32[2] {21, 65}");
  /* Elementwise results whose shape is left out are as dynamic as their
   * operands (XLA's inference; dynamic_dimension_inference_test). */
  CHECK("HloModule m\nENTRY e {\n  x = s32[5] constant({1, 2, 3, 4, 5})\n  n = s32[] constant(3)\n"
        "  d = s32[<=5] set-dimension-size(x, n), dimensions={0}\n  ng = negate(d)\n"
        "  ROOT r = multiply(ng, d)\n}\n",
        "s32[3] {-1, -4, -9}");
  /* A dynamic parameter takes an argument of any size up to its bound. */
  HloLiteral *arg = literal("f32[3] {1, 2, 4}");
  CHECK_ARGS(DYN_ADD "ENTRY e {\n  p = f32[<=5] parameter(0)\n  z = f32[] constant(0)\n"
             "  r = f32[] reduce(p, z), dimensions={0}, to_apply=add\n"
             "  g = s32[] get-dimension-size(p), dimensions={0}\n"
             "  ROOT t = (f32[], s32[]) tuple(r, g)\n}\n",
             &arg, 1, "(f32[], s32[]) (7, 3)");
  hlo_literal_free(arg);
  const char *head = "HloModule m\nENTRY e {\n  x = s32[5] parameter(0)\n  n = s32[] parameter(1)\n"
                     "  d = s32[<=5] set-dimension-size(x, n), dimensions={0}\n";
  char text[512];
  HloLiteral *args[2] = {literal("s32[5] {1, 2, 3, 4, 5}"), literal("s32[] 6")};
  snprintf(text, sizeof text, "%s  ROOT r = s32[<=5] negate(d)\n}\n", head);
  check_error(text, args, 2, "size 6 of dimension 0 is outside [0, 5]", NULL);
  hlo_literal_free(args[1]);
  args[1] = literal("s32[] 3");
  snprintf(text, sizeof text, "%s  ROOT r = s32[2] slice(d), slice={[2:4]}\n}\n", head);
  check_error(text, args, 2, "slice reads [2:4] of dimension 0, whose size is 3 (at most 5)",
              NULL);
  snprintf(text, sizeof text,
           "%s  b = s32[1,<=5,1] reshape(d)\n  k = s32[2,1,1] constant({{{1}}, {{1}}})\n"
           "  ROOT r = s32[1,4,1] convolution(b, k), window={size=2}, "
           "dim_labels=b0f_0io->b0f\n}\n", head);
  check_error(text, args, 2, "operand 0 has dimension 1 dynamic (size 3 of at most 5)",
              "convolution");
  /* SliceToDynamic past the bound or the operand's dim. */
  snprintf(text, sizeof text,
           "%s  ROOT r = s32[<=8] custom-call(x, n), custom_call_target=\"SliceToDynamic\"\n}\n",
           head);
  hlo_literal_free(args[1]);
  args[1] = literal("s32[] 6");
  check_error(text, args, 2, "SliceToDynamic: size 6 of dimension 0 is outside [0, 5] (the bound "
              "8, operand 0's dimension 5)", NULL);
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
}
END_TEST

/* XLA's own expectations (dynamic_padder_test.cc): WhileLoopStack pushes
 * three rows onto a stack whose size set-dimension-size grows (the rows
 * it exposes are zero here, as in compiled code, where XLA exposes what
 * its buffer held); ReshapeSplitCombineSameTime reshapes [<=4,2,<=2]
 * (sizes 2, 2, 1) into [2,<=2,<=4]: the first dim splits into two, the
 * others combine, sizes (2, 1, 2), the present elements in row-major
 * order; ScatterUpdateWindowDim scatters a window of its run-time size. */
START_TEST(dynamic_xla_expectations) {
  CHECK("HloModule m\nadd {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  ROOT s = s32[] add(a, b)\n}\n"
        "body {\n  p = (s32[<=4,2]) parameter(0)\n"
        "  x = s32[<=4,2] get-tuple-element(p), index=0\n"
        "  n = s32[] get-dimension-size(x), dimensions={0}\n"
        "  zero = s32[] constant(0)\n  one = s32[] constant(1)\n"
        "  row = s32[1,2] broadcast(n), dimensions={}\n  n1 = s32[] add(n, one)\n"
        "  y = s32[<=4,2] set-dimension-size(x, n1), dimensions={0}\n"
        "  u = s32[<=4,2] dynamic-update-slice(y, row, n, zero)\n"
        "  ROOT t = (s32[<=4,2]) tuple(u)\n}\n"
        "cond {\n  p = (s32[<=4,2]) parameter(0)\n"
        "  x = s32[<=4,2] get-tuple-element(p), index=0\n"
        "  n = s32[] get-dimension-size(x), dimensions={0}\n  three = s32[] constant(3)\n"
        "  ROOT lt = pred[] compare(n, three), direction=LT\n}\n"
        "ENTRY e {\n  zero = s32[] constant(0)\n  m1 = s32[] constant(-1)\n"
        "  b = s32[4,2] broadcast(m1), dimensions={}\n"
        "  d = s32[<=4,2] set-dimension-size(b, zero), dimensions={0}\n"
        "  t = (s32[<=4,2]) tuple(d)\n"
        "  w = (s32[<=4,2]) while(t), body=body, condition=cond\n"
        "  s = s32[<=4,2] get-tuple-element(w), index=0\n"
        "  r = s32[2] reduce(s, zero), dimensions={0}, to_apply=add\n"
        "  ROOT o = (s32[2], s32[<=4,2]) tuple(r, s)\n}\n",
        "(s32[2], s32[3,2]) ({3, 3}, {{0, 0}, {1, 1}, {2, 2}})");
  CHECK("HloModule m\nadd {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
        "  ROOT s = s32[] add(a, b)\n}\n"
        "ENTRY e {\n  x = s32[4,2,2] constant({{{0, -1}, {1, -1}}, {{2, -1}, {3, -1}}, "
        "{{-1, -1}, {-1, -1}}, {{-1, -1}, {-1, -1}}})\n"
        "  two = s32[] constant(2)\n  one = s32[] constant(1)\n"
        "  a = s32[<=4,2,2] set-dimension-size(x, two), dimensions={0}\n"
        "  b = s32[<=4,2,<=2] set-dimension-size(a, one), dimensions={2}\n"
        "  r = s32[2,<=2,<=4] reshape(b), inferred_dimension=1\n  z = s32[] constant(0)\n"
        "  s = s32[] reduce(r, z), dimensions={0,1,2}, to_apply=add\n"
        "  ROOT t = (s32[], s32[2,<=2,<=4]) tuple(s, r)\n}\n",
        "(s32[], s32[2,1,2]) (6, {{{0, 1}}, {{2, 3}}})");
  /* ScatterUpdateWindowDim: a dynamic update window of size 1 (XLA
   * expects {{{10, 20, 30}, {70, 80, 90}}} padded, of which row 0 is
   * present). */
  CHECK("HloModule m\nupdate {\n  lhs = s32[] parameter(0)\n  ROOT rhs = s32[] parameter(1)\n}\n"
        "ENTRY e {\n  x = s32[1,2,3] constant({{{0, 0, 0}, {0, 0, 0}}})\n"
        "  i = s32[1] constant({0})\n"
        "  u = s32[2,3,1] constant({{{10}, {20}, {30}}, {{70}, {80}, {90}}})\n"
        "  one = s32[] constant(1)\n"
        "  xd = s32[1,<=2,3] set-dimension-size(x, one), dimensions={1}\n"
        "  ud = s32[<=2,3,1] set-dimension-size(u, one), dimensions={0}\n"
        "  ROOT s = s32[1,<=2,3] scatter(xd, i, ud), to_apply=update, "
        "update_window_dims={0,1}, inserted_window_dims={0}, "
        "scatter_dims_to_operand_dims={0}, index_vector_dim=1\n}\n",
        "s32[1,1,3] {{{10, 20, 30}}}");
  /* Grown past the elements set: zeros. */
  CHECK("HloModule m\nENTRY e {\n  x = s32[4] constant({1, 2, 3, 4})\n"
        "  one = s32[] constant(1)\n  three = s32[] constant(3)\n"
        "  a = s32[<=4] set-dimension-size(x, one), dimensions={0}\n"
        "  ROOT b = s32[<=4] set-dimension-size(a, three), dimensions={0}\n}\n",
        "s32[3] {1, 0, 0}");
  /* Implicit broadcasting of dynamic sizes (dynamic_padder_test.cc's
   * DynamicAddWithImplicitBroadcast, the corpus's dynamic_padder_test_032):
   * rows {1, 1} at size 1 added to rows {2, 2} at size 3 give three rows
   * {3, 3}, [9, 9] summed; both orders, and a ternary op (clamp). */
#define DYN_IMPLICIT(a, b)                                                                   \
  "HloModule m\nadd {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"                \
  "  ROOT s = s32[] add(a, b)\n}\nENTRY e {\n  zero = s32[] constant(0)\n"                  \
  "  one = s32[] constant(1)\n  two = s32[] constant(2)\n  three = s32[] constant(3)\n"     \
  "  i = s32[4,2] iota(), iota_dimension=0\n  ones = s32[4,2] broadcast(one), dimensions={}\n" \
  "  i1 = s32[4,2] add(i, ones)\n"                                                           \
  "  d1 = s32[<=4,2] set-dimension-size(i1, one), dimensions={0}\n"                          \
  "  b2 = s32[4,2] broadcast(two), dimensions={}\n"                                          \
  "  d2 = s32[<=4,2] set-dimension-size(b2, three), dimensions={0}\n"                        \
  "  s = s32[<=4,2] add(" a ", " b ")\n"                                                     \
  "  r = s32[2] reduce(s, zero), dimensions={0}, to_apply=add\n"                             \
  "  c = s32[<=4,2] clamp(d1, i1, d2)\n"                                                     \
  "  ROOT t = (s32[2], s32[<=4,2]) tuple(r, c)\n}\n"
  CHECK(DYN_IMPLICIT("d1", "d2"), "(s32[2], s32[3,2]) ({9, 9}, {{1, 1}, {2, 2}, {2, 2}})");
  CHECK(DYN_IMPLICIT("d2", "d1"), "(s32[2], s32[3,2]) ({9, 9}, {{1, 1}, {2, 2}, {2, 2}})");
  /* Sizes 3 and 2 (dynamic_padder_test_033, DynamicAddWithImplicitSlice):
   * XLA's padder takes the smaller, leaving out a's third row. */
  CHECK("HloModule m\nENTRY e {\n  one = s32[] constant(1)\n  two = s32[] constant(2)\n"
        "  three = s32[] constant(3)\n  i = s32[4,2] iota(), iota_dimension=0\n"
        "  a = s32[<=4,2] set-dimension-size(i, three), dimensions={0}\n"
        "  b = s32[<=4,2] set-dimension-size(i, two), dimensions={0}\n"
        "  ROOT s = s32[<=4,2] add(a, b)\n}\n",
        "s32[2,2] {{0, 0}, {2, 2}}");
}
END_TEST

/* dynamic-reshape puts the present elements, in row-major order, into the
 * sizes its operands give: XLA's DynamicReshapeTest.Complicated (the
 * corpus's dynamic_reshape_test_004: [<=3,<=4,<=4] at sizes 2, 3, 3 into
 * [<=6,<=8] at 3, 6), a static operand into a static shape, a size of
 * zero; sizes that do not fit are errors naming the dim. */
START_TEST(dynamic_reshape_op) {
  const char *head = "HloModule m\nENTRY e {\n  i = s32[3,4,4] iota(), iota_dimension=0\n"
                     "  j = s32[3,4,4] iota(), iota_dimension=1\n"
                     "  k = s32[3,4,4] iota(), iota_dimension=2\n"
                     "  sixteen = s32[] constant(16)\n  four = s32[] constant(4)\n"
                     "  b16 = s32[3,4,4] broadcast(sixteen), dimensions={}\n"
                     "  b4 = s32[3,4,4] broadcast(four), dimensions={}\n"
                     "  i16 = s32[3,4,4] multiply(i, b16)\n  j4 = s32[3,4,4] multiply(j, b4)\n"
                     "  ij = s32[3,4,4] add(i16, j4)\n  x = s32[3,4,4] add(ij, k)\n"
                     "  two = s32[] constant(2)\n  three = s32[] constant(3)\n"
                     "  six = s32[] constant(6)\n"
                     "  a = s32[<=3,4,4] set-dimension-size(x, two), dimensions={0}\n"
                     "  b = s32[<=3,<=4,4] set-dimension-size(a, three), dimensions={1}\n"
                     "  c = s32[<=3,<=4,<=4] set-dimension-size(b, three), dimensions={2}\n";
  char text[2048];
  snprintf(text, sizeof text, "%s  ROOT r = s32[<=6,<=8] dynamic-reshape(c, three, six)\n}\n",
           head);
  CHECK(text, "s32[3,6] {{0, 1, 2, 4, 5, 6}, {8, 9, 10, 16, 17, 18}, {20, 21, 22, 24, 25, 26}}");
  snprintf(text, sizeof text, "%s  ROOT r = s32[<=6,<=8] dynamic-reshape(c, three, two)\n}\n",
           head);
  check_error(text, NULL, 0, "dynamic-reshape: the sizes hold 6 elements but the operand has 18",
              NULL);
  snprintf(text, sizeof text, "%s  ROOT r = s32[6,<=8] dynamic-reshape(c, three, six)\n}\n",
           head);
  check_error(text, NULL, 0, "size 3 of static dimension 0 differs from its size 6", NULL);
  snprintf(text, sizeof text,
           "%s  nine = s32[] constant(9)\n"
           "  ROOT r = s32[<=6,<=8] dynamic-reshape(c, two, nine)\n}\n",
           head);
  check_error(text, NULL, 0, "size 9 of dimension 1 is outside [0, 8]", NULL);
  CHECK("HloModule m\nENTRY e {\n  x = f32[6] constant({1, 2, 3, 4, 5, 6})\n"
        "  two = s32[] constant(2)\n  three = s32[] constant(3)\n"
        "  ROOT r = f32[2,3] dynamic-reshape(x, two, three)\n}\n",
        "f32[2,3] {{1, 2, 3}, {4, 5, 6}}");
  CHECK("HloModule m\nENTRY e {\n  x = f32[6] constant({1, 2, 3, 4, 5, 6})\n"
        "  zero = s32[] constant(0)\n  three = s32[] constant(3)\n"
        "  d = f32[<=6] set-dimension-size(x, zero), dimensions={0}\n"
        "  ROOT r = f32[<=2,3] dynamic-reshape(d, zero, three)\n}\n",
        "f32[0,3] {}");
}
END_TEST

/* pad over a dynamic dim: lo + hi + s + (s - 1) * interior elements, the
 * padding after the run-time elements; gather clamps its starts against
 * the size; PadToStatic pads a dynamic value
 * to its bounds with zeros and gives its sizes, SliceToDynamic cuts a
 * static one to the sizes of the result's dynamic dims (a static dim's
 * size is ignored). */
START_TEST(dynamic_pad_and_custom_calls) {
  const char *head = "HloModule m\nENTRY e {\n  x = s32[5] constant({1, 2, 3, 4, 5})\n"
                     "  n = s32[] constant(3)\n  z = s32[] constant(-1)\n"
                     "  d = s32[<=5] set-dimension-size(x, n), dimensions={0}\n";
  char text[1024];
  snprintf(text, sizeof text,
           "%s  a = s32[<=12] pad(d, z), padding=1_2_1\n  b = s32[<=5] pad(d, z), padding=-1_1\n"
           "  c = s32[<=6] pad(d, z), padding=0_1_0\n"
           "  ROOT t = (s32[<=12], s32[<=5], s32[<=6]) tuple(a, b, c)\n}\n", head);
  CHECK(text, "(s32[8], s32[3], s32[4]) ({-1, 1, -1, 2, -1, 3, -1, -1}, {2, 3, -1}, "
              "{1, 2, 3, -1})");
  snprintf(text, sizeof text,
           "%s  p = (s32[5], s32[]) custom-call(d), custom_call_target=\"PadToStatic\"\n"
           "  v = s32[5] get-tuple-element(p), index=0\n"
           "  s = s32[] get-tuple-element(p), index=1\n"
           "  two = s32[] constant(2)\n"
           "  q = s32[<=5] custom-call(v, two), custom_call_target=\"SliceToDynamic\"\n"
           "  y = s32[2,3] constant({{1, 2, 3}, {4, 5, 6}})\n  nine = s32[] constant(9)\n"
           "  w = s32[2,<=4] custom-call(y, nine, two), custom_call_target=\"SliceToDynamic\"\n"
           "  pw = (s32[2,4], s32[], s32[]) custom-call(w), custom_call_target=\"PadToStatic\"\n"
           "  ROOT t = ((s32[5], s32[]), s32[<=5], (s32[2,4], s32[], s32[])) tuple(p, q, pw)\n}\n",
           head);
  CHECK(text, "((s32[5], s32[]), s32[2], (s32[2,4], s32[], s32[])) "
              "(({1, 2, 3, 0, 0}, 3), {1, 2}, ({{1, 2, 0, 0}, {4, 5, 0, 0}}, 2, 2))");
  /* gather: a dynamic dim taken whole keeps its size; start indices
   * along one clamp against its size (5 reads column 2, not 3). */
  CHECK("HloModule m\nENTRY e {\n"
        "  x = s32[3,4] constant({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}})\n"
        "  n = s32[] constant(3)\n  d = s32[3,<=4] set-dimension-size(x, n), dimensions={1}\n"
        "  i = s32[2] constant({2, 0})\n  j = s32[3] constant({0, 2, 5})\n"
        "  a = s32[2,<=4] gather(d, i), offset_dims={1}, collapsed_slice_dims={0}, "
        "start_index_map={0}, index_vector_dim=1, slice_sizes={1,4}\n"
        "  b = s32[3,3] gather(d, j), offset_dims={1}, collapsed_slice_dims={1}, "
        "start_index_map={1}, index_vector_dim=1, slice_sizes={3,1}\n"
        "  ROOT t = (s32[2,<=4], s32[3,3]) tuple(a, b)\n}\n",
        "(s32[2,3], s32[3,3]) ({{9, 10, 11}, {1, 2, 3}}, {{1, 5, 9}, {3, 7, 11}, {3, 7, 11}})");
}
END_TEST

/* cholesky reads only the triangle `lower` names (the 99s are not read)
 * and writes the factor there, zeros elsewhere; triangular-solve on each
 * side, transposed, with a unit diagonal, over a batch.  Every value here
 * is exact. */
START_TEST(cholesky_and_triangular_solve) {
  CHECK("HloModule m\nENTRY e {\n  a = f32[3,3] constant({{4, 99, 99}, {2, 10, 99}, {-2, 2, 6}})\n"
        "  ROOT c = f32[3,3] cholesky(a), lower=true\n}\n",
        "f32[3,3] {{2, 0, 0}, {1, 3, 0}, {-1, 1, 2}}");
  CHECK("HloModule m\nENTRY e {\n  a = f64[1,3,3] constant({{{4, 2, -2}, {99, 10, 2}, "
        "{99, 99, 6}}})\n  ROOT c = f64[1,3,3] cholesky(a)\n}\n",
        "f64[1,3,3] {{{2, 1, -1}, {0, 3, 1}, {0, 0, 2}}}");
  const char *solve = "HloModule m\nENTRY e {\n  a = f32[2,2,2] constant({{{2, 7}, {1, 3}}, "
                      "{{1, 7}, {1, 5}}})\n  b = f32[2,2,1] constant({{{4}, {11}}, {{4}, {11}}})\n"
                      "  bt = f32[2,2,1] constant({{{7}, {9}}, {{7}, {9}}})\n"
                      "  br = f32[2,1,2] constant({{{7, 9}}, {{7, 9}}})\n"
                      "  x = f32[2,2,1] triangular-solve(a, b), left_side=true, lower=true, "
                      "transpose_a=NO_TRANSPOSE\n"
                      "  y = f32[2,2,1] triangular-solve(a, bt), left_side=true, lower=true, "
                      "transpose_a=TRANSPOSE\n"
                      "  z = f32[2,1,2] triangular-solve(a, br), lower=true, "
                      "transpose_a=NO_TRANSPOSE\n"
                      "  u = f32[2,2,1] triangular-solve(a, b), left_side=true, lower=true, "
                      "unit_diagonal=true, transpose_a=NO_TRANSPOSE\n"
                      "  ROOT t = (f32[2,2,1], f32[2,2,1], f32[2,1,2], f32[2,2,1]) "
                      "tuple(x, y, z, u)\n}\n";
  CHECK(solve, "(f32[2,2,1], f32[2,2,1], f32[2,1,2], f32[2,2,1]) ("
               "{{{2}, {3}}, {{4}, {1.4}}}, {{{2}, {3}}, {{5.2}, {1.8}}}, "
               "{{{2, 3}}, {{5.2, 1.8}}}, {{{4}, {7}}, {{4}, {7}}})");
}
END_TEST

/* rng-bit-generator in a module nobody verified: bits of a type it does
 * not generate (u8 bits, before they were generated, were written as u32
 * words into the u8 buffer) or a short state are refused by name, not
 * read or written past their buffers. */
START_TEST(rng_bit_generator_unverified) {
  HloLiteral *key = literal("u64[2] {1, 2}"), *short_key = literal("u64[1] {1}");
  check_error("HloModule m\nENTRY e {\n  k = u64[2] parameter(0)\n"
              "  ROOT r = (u64[2], f32[3,5]) rng-bit-generator(k), algorithm=rng_three_fry\n}\n",
              &key, 1, "rng-bit-generator", "bits of type f32[3,5]");
  check_error("HloModule m\nENTRY e {\n  k = u64[1] parameter(0)\n"
              "  ROOT r = (u64[1], u32[64]) rng-bit-generator(k), algorithm=rng_philox\n}\n",
              &short_key, 1, "rng-bit-generator", "state u64[1]");
  hlo_literal_free(key);
  hlo_literal_free(short_key);
}
END_TEST

/* 8- and 16-bit bits are the low bits of the 32-bit words drawn for the
 * same shape (XLA's prng.cc, *RngBitNarrow), with the same new state. */
START_TEST(rng_bit_generator_narrow) {
  static const char *const algs[] = {"rng_three_fry", "rng_philox"};
  for (int a = 0; a < 2; a++) {
    char text[1024];
    snprintf(text, sizeof text,
             "HloModule m\nENTRY e {\n  k = u64[2] constant({12345, 678})\n"
             "  w = (u64[2], u32[3,5]) rng-bit-generator(k), algorithm=%1$s\n"
             "  b = (u64[2], u8[3,5]) rng-bit-generator(k), algorithm=%1$s\n"
             "  h = (u64[2], s16[3,5]) rng-bit-generator(k), algorithm=%1$s\n"
             "  ROOT t = ((u64[2], u32[3,5]), (u64[2], u8[3,5]), (u64[2], s16[3,5])) "
             "tuple(w, b, h)\n}\n",
             algs[a]);
    HloLiteral *r = evaluate_text(text, NULL, 0);
    const HloLiteral *w = r->elems[0], *b = r->elems[1], *h = r->elems[2];
    for (int i = 0; i < 2; i++) {
      ck_assert(hlo_literal_get_s64(b->elems[0], i) == hlo_literal_get_s64(w->elems[0], i));
      ck_assert(hlo_literal_get_s64(h->elems[0], i) == hlo_literal_get_s64(w->elems[0], i));
    }
    for (int64_t i = 0; i < 15; i++) {
      uint32_t word = (uint32_t)hlo_literal_get_s64(w->elems[1], i);
      ck_assert_int_eq(hlo_literal_get_s64(b->elems[1], i), word & 0xff);
      ck_assert_int_eq(hlo_literal_get_s64(h->elems[1], i), (int16_t)(word & 0xffff));
    }
    hlo_literal_free(r);
  }
}
END_TEST

/* fft of each type on values whose transforms are exact: FFT and IFFT of
 * 1..4, over the last dimension of a batch and over two dimensions; RFFT
 * keeps n/2+1 values; IRFFT ignores the imaginary parts at 0 and n/2 (the
 * 7 and 5 here), as XLA does. */
START_TEST(fft_every_type) {
  CHECK("HloModule m\nENTRY e {\n  x = c64[2,4] constant({{(1,0), (2,0), (3,0), (4,0)}, "
        "{(10,0), (-2,2), (-2,0), (-2,-2)}})\n"
        "  f = c64[2,4] fft(x), fft_type=FFT, fft_length={4}\n"
        "  i = c64[2,4] fft(x), fft_type=IFFT, fft_length={4}\n"
        "  ROOT t = (c64[2,4], c64[2,4]) tuple(f, i)\n}\n",
        "(c64[2,4], c64[2,4]) ({{(10,0), (-2,2), (-2,0), (-2,-2)}, {(4,0), (16,0), (12,0), "
        "(8,0)}}, {{(2.5,0), (-0.5,-0.5), (-0.5,0), (-0.5,0.5)}, {(1,0), (2,0), (3,0), "
        "(4,0)}})");
  CHECK("HloModule m\nENTRY e {\n  x = c128[1,2,2] constant({{{(1,0), (2,0)}, {(3,0), (4,1)}}})\n"
        "  ROOT f = c128[1,2,2] fft(x), fft_type=FFT, fft_length={2,2}\n}\n",
        "c128[1,2,2] {{{(10,1), (-2,-1)}, {(-4,-1), (0,1)}}}");
  CHECK("HloModule m\nENTRY e {\n  x = f32[4] constant({1, 2, 3, 4})\n"
        "  ROOT f = c64[3] fft(x), fft_type=RFFT, fft_length={4}\n}\n",
        "c64[3] {(10,0), (-2,2), (-2,0)}");
  CHECK("HloModule m\nENTRY e {\n  x = c64[3] constant({(10,7), (-2,2), (-2,5)})\n"
        "  ROOT f = f32[4] fft(x), fft_type=IRFFT, fft_length={4}\n}\n",
        "f32[4] {1, 2, 3, 4}");
  CHECK("HloModule m\nENTRY e {\n  x = f64[2,2] constant({{1, 2}, {3, 4}})\n"
        "  r = c128[2,2] fft(x), fft_type=RFFT, fft_length={2,2}\n"
        "  i = f64[2,2] fft(r), fft_type=IRFFT, fft_length={2,2}\n"
        "  ROOT t = (c128[2,2], f64[2,2]) tuple(r, i)\n}\n",
        "(c128[2,2], f64[2,2]) ({{(10,0), (-2,0)}, {(-4,0), (0,0)}}, {{1, 2}, {3, 4}})");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dot, convolution, batch norm                                             */
/* ------------------------------------------------------------------------ */

START_TEST(dot_general_dims) {
  CHECK("HloModule m\nENTRY e {\n"
        "  a = f32[2,3] constant({{1, 2, 3}, {4, 5, 6}})\n"
        "  b = f32[3,2] constant({{1, 0}, {0, 1}, {1, 1}})\n"
        "  mm = f32[2,2] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
        /* contract lhs dim 0 with rhs dim 1: a^T b^T */
        "  tt = f32[3,3] dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={1}\n"
        /* two contracting dims: a full inner product */
        "  c = f32[3,2] transpose(a), dimensions={1,0}\n"
        "  ip = f32[] dot(a, c), lhs_contracting_dims={0,1}, rhs_contracting_dims={1,0}\n"
        /* batch dims not leading */
        "  x = f32[3,2] constant({{1, 2}, {3, 4}, {5, 6}})\n"
        "  y = f32[2,3] constant({{1, 1, 1}, {2, 0, 0}})\n"
        "  bd = f32[2] dot(x, y), lhs_batch_dims={1}, lhs_contracting_dims={0}, "
        "rhs_batch_dims={0}, rhs_contracting_dims={1}\n"
        /* vector outer product (no contraction) */
        "  u = f32[2] constant({1, 2})\n  v = f32[3] constant({3, 4, 5})\n"
        "  op = f32[2,3] dot(u, v), lhs_contracting_dims={}, rhs_contracting_dims={}\n"
        "  ROOT t = (f32[2,2], f32[3,3], f32[], f32[2], f32[2,3]) tuple(mm, tt, ip, bd, op)\n}\n",
        "(f32[2,2], f32[3,3], f32[], f32[2], f32[2,3]) ({{4, 5}, {10, 11}}, "
        "{{1, 4, 5}, {2, 5, 7}, {3, 6, 9}}, 91, {9, 4}, {{3, 4, 5}, {6, 8, 10}})");
  /* Batched matmul with the batch dim in the middle of the result order. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s32[2,2,3] iota(), iota_dimension=2\n"
        "  b = s32[3,2] constant({{1, 0}, {0, 1}, {1, 1}})\n"
        "  c = s32[2,3,2] broadcast(b), dimensions={1,2}\n"
        "  ROOT d = s32[2,2,2] dot(a, c), lhs_batch_dims={0}, lhs_contracting_dims={2}, "
        "rhs_batch_dims={0}, rhs_contracting_dims={1}\n}\n",
        "s32[2,2,2] {{{2, 3}, {2, 3}}, {{2, 3}, {2, 3}}}");
  /* Operands convert to the result type first; integer sums wrap. */
  CHECK("HloModule m\nENTRY e {\n"
        "  a = s8[1,2] constant({{100, 100}})\n  b = s8[2,1] constant({{100}, {100}})\n"
        "  c = s32[1,1] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
        "  x = s32[2] constant({65536, 65536})\n"
        "  d = s32[] dot(x, x), lhs_contracting_dims={0}, rhs_contracting_dims={0}\n"
        "  h = f16[2] constant({300, 300})\n"
        "  e = f16[] dot(h, h), lhs_contracting_dims={0}, rhs_contracting_dims={0}\n"
        "  f = f32[] dot(h, h), lhs_contracting_dims={0}, rhs_contracting_dims={0}\n"
        "  ROOT t = (s32[1,1], s32[], f16[], f32[]) tuple(c, d, e, f)\n}\n",
        "(s32[1,1], s32[], f16[], f32[]) ({{20000}}, 0, inf, 180000)");
}
END_TEST

/* One convolution configuration, on canonical arrays: input [N][C][H][W],
 * kernel [O][C/fgc][KH][KW], output [N/bgc][O][OH][OW]. */
typedef struct ConvCase {
  const char *labels; /* dim_labels, e.g. "b01f_01io->b01f" */
  int64_t n, c, h, w, o, kh, kw;
  int64_t stride[2], lo[2], hi[2], lhs_dil[2], rhs_dil[2];
  int rev[2];
  int64_t fgc, bgc;
  const char *type;
} ConvCase;

/* Where each label letter lives among the canonical dims. */
static int canon_axis(char c, bool kernel) {
  switch (c) {
  case 'b': case 'o': return 0;
  case 'f': case 'i': return 1;
  case '0': return 2;
  case '1': return 3;
  default: ck_abort_msg("bad label %c (kernel %d)", c, kernel);
  }
  return -1;
}

/* The literal of an HLO tensor laid out per `labels` (4 letters) holding the
 * canonical array data[dims] (row-major). */
static HloLiteral *from_canonical(const char *labels, bool kernel, const int64_t *dims,
                                  const double *data, HloType t) {
  int64_t hd[4], cs[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
  int ax[4];
  for (int j = 0; j < 4; j++) {
    ax[j] = canon_axis(labels[j], kernel);
    hd[j] = dims[ax[j]];
  }
  HloShape s = hlo_shape_array(t, 4, hd);
  HloLiteral *l = hlo_literal_new(&s);
  int64_t i = 0;
  for (int64_t a = 0; a < hd[0]; a++)
    for (int64_t b = 0; b < hd[1]; b++)
      for (int64_t c = 0; c < hd[2]; c++)
        for (int64_t d = 0; d < hd[3]; d++) {
          int64_t idx[4] = {a, b, c, d}, off = 0;
          for (int j = 0; j < 4; j++) off += idx[j] * cs[ax[j]];
          hlo_literal_set_f64(l, i++, data[off]);
        }
  return l;
}

/* The canonical-order input element the padded, base-dilated input holds at
 * spatial coordinates (py, px), or 0 in padding and holes. */
static double padded_input(const ConvCase *k, const double *x, int64_t b, int64_t c, int64_t py,
                           int64_t px) {
  int64_t p[2] = {py - k->lo[0], px - k->lo[1]}, q[2];
  for (int d = 0; d < 2; d++) {
    if (p[d] < 0 || p[d] % k->lhs_dil[d]) return 0;
    q[d] = p[d] / k->lhs_dil[d];
  }
  if (q[0] >= k->h || q[1] >= k->w) return 0;
  return x[((b * k->c + c) * k->h + q[0]) * k->w + q[1]];
}

static void check_conv(const ConvCase *k) {
  int64_t ci = k->c / k->fgc, nout = k->n / k->bgc, os[2];
  int64_t ksz[2] = {k->kh, k->kw}, isz[2] = {k->h, k->w};
  for (int d = 0; d < 2; d++) {
    int64_t padded = (isz[d] - 1) * k->lhs_dil[d] + 1 + k->lo[d] + k->hi[d];
    int64_t window = (ksz[d] - 1) * k->rhs_dil[d] + 1;
    os[d] = padded < window ? 0 : (padded - window) / k->stride[d] + 1;
  }
  int64_t xd[4] = {k->n, k->c, k->h, k->w}, kd[4] = {k->o, ci, k->kh, k->kw};
  int64_t yd[4] = {nout, k->o, os[0], os[1]};
  double *x = malloc(sizeof(double) * (size_t)(k->n * k->c * k->h * k->w));
  double *w = malloc(sizeof(double) * (size_t)(k->o * ci * k->kh * k->kw));
  double *y = calloc((size_t)(nout * k->o * os[0] * os[1] + 1), sizeof(double));
  for (int64_t i = 0; i < xd[0] * xd[1] * xd[2] * xd[3]; i++) x[i] = (double)(i * 7 % 11) - 5;
  for (int64_t i = 0; i < kd[0] * kd[1] * kd[2] * kd[3]; i++) w[i] = (double)(i * 5 % 7) - 3;
  /* StableHLO: feature groups split the input features and the output
   * features; batch groups split the input batch and the output features. */
  for (int64_t b = 0; b < nout; b++)
    for (int64_t o = 0; o < k->o; o++) {
      int64_t fg = o / (k->o / k->fgc), bgi = o / (k->o / k->bgc);
      for (int64_t oy = 0; oy < os[0]; oy++)
        for (int64_t ox = 0; ox < os[1]; ox++) {
          double sum = 0;
          for (int64_t i = 0; i < ci; i++)
            for (int64_t ky = 0; ky < k->kh; ky++)
              for (int64_t kx = 0; kx < k->kw; kx++) {
                double v = padded_input(k, x, bgi * nout + b, fg * ci + i,
                                        oy * k->stride[0] + ky * k->rhs_dil[0],
                                        ox * k->stride[1] + kx * k->rhs_dil[1]);
                int64_t ry = k->rev[0] ? k->kh - 1 - ky : ky, rx = k->rev[1] ? k->kw - 1 - kx : kx;
                sum += v * w[((o * ci + i) * k->kh + ry) * k->kw + rx];
              }
          y[((b * k->o + o) * os[0] + oy) * os[1] + ox] = sum;
        }
    }
  HloType t;
  ck_assert(hlo_type_from_name(k->type, strlen(k->type), &t));
  HloLiteral *args[2] = {from_canonical(k->labels, false, xd, x, t),
                         from_canonical(k->labels + 5, true, kd, w, t)};
  HloLiteral *want = from_canonical(k->labels + 11, false, yd, y, t);
  char *xs = hlo_shape_to_string(&args[0]->shape), *ws = hlo_shape_to_string(&args[1]->shape);
  char *ys = hlo_shape_to_string(&want->shape);
  HloStr m = {0};
  hlo_str_printf(&m,
                 "HloModule conv\nENTRY e {\n  x = %s parameter(0)\n  w = %s parameter(1)\n"
                 "  ROOT y = %s convolution(x, w), window={size=%lldx%lld stride=%lldx%lld "
                 "pad=%lld_%lldx%lld_%lld lhs_dilate=%lldx%lld rhs_dilate=%lldx%lld "
                 "rhs_reversal=%dx%d}, dim_labels=%s, feature_group_count=%lld, "
                 "batch_group_count=%lld\n}\n",
                 xs, ws, ys, (long long)k->kh, (long long)k->kw, (long long)k->stride[0],
                 (long long)k->stride[1], (long long)k->lo[0], (long long)k->hi[0],
                 (long long)k->lo[1], (long long)k->hi[1], (long long)k->lhs_dil[0],
                 (long long)k->lhs_dil[1], (long long)k->rhs_dil[0], (long long)k->rhs_dil[1],
                 k->rev[0], k->rev[1], k->labels, (long long)k->fgc, (long long)k->bgc);
  HloLiteral *got = evaluate_text(m.buf, args, 2);
  if (!same_values(got, want)) {
    HloStr g = {0}, e = {0};
    print_values(&g, got);
    print_values(&e, want);
    ck_abort_msg("%s\ngot %s\nexpected %s", m.buf, g.buf, e.buf);
  }
  hlo_literal_free(got);
  hlo_literal_free(want);
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
  free(xs);
  free(ws);
  free(ys);
  free(m.buf);
  free(x);
  free(w);
  free(y);
}

START_TEST(convolution_against_reference) {
  static const ConvCase cases[] = {
      /* dim_labels        n,c,h,w  o,kh,kw  stride lo hi lhs_dilate rhs_dilate reversal  fgc,bgc */
      {"b01f_01io->b01f", 1,3,5,5, 4,3,3, {1,1}, {1,1}, {1,1}, {1,1}, {1,1}, {0,0}, 1,1, "f32"},
      {"bf01_oi01->bf01", 2,2,6,5, 3,3,2, {2,1}, {0,1}, {1,0}, {1,1}, {1,1}, {0,0}, 1,1, "f32"},
      {"b01f_01io->b01f", 1,2,6,6, 2,3,3, {1,2}, {-1,0}, {0,-2}, {1,1}, {1,1}, {0,0}, 1,1, "f32"},
      /* transposed convolution: base dilation, padding, reversed window */
      {"b01f_01io->b01f", 1,2,3,4, 3,3,3, {1,1}, {2,1}, {2,2}, {2,2}, {1,1}, {1,0}, 1,1, "f32"},
      {"bf01_oi01->bf01", 1,1,7,7, 2,2,3, {1,2}, {0,2}, {1,0}, {1,1}, {3,2}, {0,1}, 1,1, "f64"},
      /* feature groups: grouped, depthwise, depthwise with multiplier 2 */
      {"b01f_01io->b01f", 2,4,4,4, 6,2,2, {1,1}, {0,0}, {1,1}, {1,1}, {1,1}, {0,0}, 2,1, "f32"},
      {"b01f_01io->b01f", 1,3,5,4, 3,3,3, {2,1}, {1,1}, {1,1}, {1,1}, {1,1}, {0,0}, 3,1, "f32"},
      {"b01f_01io->b01f", 1,3,4,4, 6,3,3, {1,1}, {1,1}, {1,1}, {1,2}, {1,1}, {0,0}, 3,1, "bf16"},
      /* batch groups (weight gradients) */
      {"f01b_i01o->01bf", 4,3,5,5, 4,3,3, {1,1}, {1,1}, {1,1}, {1,1}, {1,1}, {0,0}, 1,2, "f32"},
      {"bf01_oi01->bf01", 6,2,4,3, 3,2,2, {1,1}, {0,0}, {0,0}, {1,1}, {2,1}, {0,0}, 1,3, "s32"},
      /* scrambled labels everywhere */
      {"0bf1_1io0->f01b", 2,3,4,5, 2,2,3, {2,1}, {1,0}, {0,1}, {1,2}, {1,1}, {1,1}, 1,1, "f32"},
      {"1f0b_o01i->b1f0", 1,4,3,6, 4,2,2, {1,3}, {1,1}, {1,1}, {1,1}, {2,1}, {0,0}, 2,1, "s64"},
      /* a window larger than the input: empty output */
      {"b01f_01io->b01f", 1,1,2,2, 1,3,3, {1,1}, {0,0}, {0,0}, {1,1}, {1,1}, {0,0}, 1,1, "f32"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_conv(&cases[i]);
}
END_TEST

START_TEST(convolution_1d_and_0d) {
  /* 1-D: windows at 0, 2, 4 of {1, 2, 3, 4, 5, 0} with kernel {1, 10}. */
  CHECK("HloModule m\nENTRY e {\n  x = f32[1,1,5] constant({{{1, 2, 3, 4, 5}}})\n"
        "  w = f32[1,1,2] constant({{{1, 10}}})\n"
        "  ROOT y = f32[1,1,3] convolution(x, w), window={size=2 stride=2 pad=0_1}, "
        "dim_labels=bf0_oi0->bf0\n}\n",
        "f32[1,1,3] {{{21, 43, 5}}}");
  /* No spatial dims: a matmul. */
  CHECK("HloModule m\nENTRY e {\n  x = f32[2,3] constant({{1, 2, 3}, {4, 5, 6}})\n"
        "  w = f32[3,1] constant({{1}, {0}, {2}})\n"
        "  ROOT y = f32[2,1] convolution(x, w), dim_labels=bf_io->bf\n}\n",
        "f32[2,1] {{7}, {16}}");
}
END_TEST

START_TEST(batch_norm_inference) {
  CHECK("HloModule m\nENTRY e {\n  x = f32[1,2,2] constant({{{1, 2}, {3, 4}}})\n"
        "  s = f32[2] constant({1, 2})\n  o = f32[2] constant({0, 1})\n"
        "  m = f32[2] constant({1, 0})\n  v = f32[2] constant({3, 0})\n"
        "  ROOT y = f32[1,2,2] batch-norm-inference(x, s, o, m, v), epsilon=1, "
        "feature_index=2\n}\n",
        "f32[1,2,2] {{{0, 5}, {1, 9}}}");
}
END_TEST

/* Values chosen so that every step is exact: feature 0 of training has
 * mean 2 and variance 1, feature 1 mean 12 and variance 4 (rsqrt 1/2);
 * grad's feature 0 has rsqrt(3 + 1) = 1/2, sum(dy) = 3 and
 * sum(dy (x - mean)) = 12, feature 1 rsqrt(0 + 1) = 1 and x at its mean. */
START_TEST(batch_norm_training_and_grad) {
  CHECK("HloModule m\nENTRY e {\n  x = f32[2,2] constant({{1, 10}, {3, 14}})\n"
        "  s = f32[2] constant({2, 3})\n  o = f32[2] constant({1, -1})\n"
        "  ROOT t = (f32[2,2], f32[2], f32[2]) batch-norm-training(x, s, o), epsilon=0, "
        "feature_index=1\n}\n",
        "(f32[2,2], f32[2], f32[2]) ({{-1, -4}, {3, 2}}, {2, 12}, {1, 4})");
  CHECK("HloModule m\nENTRY e {\n  x = f32[3,2] constant({{1, 5}, {2, 5}, {6, 5}})\n"
        "  s = f32[2] constant({2, 1})\n  m = f32[2] constant({2, 5})\n"
        "  v = f32[2] constant({3, 0})\n  dy = f32[3,2] constant({{0, 1}, {0, 2}, {3, 3}})\n"
        "  ROOT g = (f32[3,2], f32[2], f32[2]) batch-norm-grad(x, s, m, v, dy), epsilon=1, "
        "feature_index=1\n}\n",
        "(f32[3,2], f32[2], f32[2]) ({{0, -1}, {-1, 0}, {-2, 1}}, {6, 0}, {3, 6})");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Control flow and calls                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(while_loop_state) {
  /* sum of i for i < n, with a weight passed through the loop unchanged. */
  HloLiteral *args[2] = {literal("s32[] 10"), literal("f32[3] {1.5, 2.5, 3.5}")};
  CHECK_ARGS("HloModule m\n"
             "cond {\n  s = (s32[], s32[], s32[], f32[3]) parameter(0)\n"
             "  i = s32[] get-tuple-element(s), index=0\n"
             "  n = s32[] get-tuple-element(s), index=2\n"
             "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
             "body {\n  s = (s32[], s32[], s32[], f32[3]) parameter(0)\n"
             "  i = s32[] get-tuple-element(s), index=0\n"
             "  acc = s32[] get-tuple-element(s), index=1\n"
             "  n = s32[] get-tuple-element(s), index=2\n"
             "  w = f32[3] get-tuple-element(s), index=3\n"
             "  one = s32[] constant(1)\n  j = s32[] add(i, one)\n  a = s32[] add(acc, i)\n"
             "  ROOT t = (s32[], s32[], s32[], f32[3]) tuple(j, a, n, w)\n}\n"
             "ENTRY e {\n  n = s32[] parameter(0)\n  w = f32[3] parameter(1)\n"
             "  z = s32[] constant(0)\n"
             "  init = (s32[], s32[], s32[], f32[3]) tuple(z, z, n, w)\n"
             "  ROOT r = (s32[], s32[], s32[], f32[3]) while(init), condition=cond, body=body\n}\n",
             args, 2, "(s32[], s32[], s32[], f32[3]) (10, 45, 10, {1.5, 2.5, 3.5})");
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
  /* A loop that never runs returns its init; a non-tuple state works. */
  CHECK("HloModule m\n"
        "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n"
        "cond {\n  x = f32[2] parameter(0)\n  z = f32[] constant(0)\n"
        "  r = f32[] reduce(x, z), dimensions={0}, to_apply=add\n  c = f32[] constant(100)\n"
        "  ROOT lt = pred[] compare(r, c), direction=LT\n}\n"
        "body {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] add(x, x)\n}\n"
        "ENTRY e {\n  x = f32[2] constant({1, 2})\n"
        "  ROOT r = f32[2] while(x), condition=cond, body=body\n}\n",
        "f32[2] {64, 128}");
}
END_TEST

START_TEST(while_iteration_limit) {
  /* A loop that never ends stops at the limit, naming the loop; nested
   * loops share one budget; a loop within the limit runs as without one. */
  const char *forever =
      "HloModule m\n"
      "cond {\n  x = s32[] parameter(0)\n  ROOT t = pred[] constant(true)\n}\n"
      "body {\n  x = s32[] parameter(0)\n  one = s32[] constant(1)\n"
      "  ROOT y = s32[] add(x, one)\n}\n"
      "ENTRY e {\n  z = s32[] constant(0)\n"
      "  ROOT forever = s32[] while(z), condition=cond, body=body\n}\n";
  HloModule *m = ck_parse_verified(forever);
  HloEvalOptions limits = {.max_while_iterations = 1000};
  HloLiteral *out = NULL;
  HloError *e = hlo_evaluate_with(m, NULL, 0, &limits, &out);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_null(out);
  const char *msg = hlo_error_message(e);
  ck_assert_msg(strstr(msg, "%forever") && strstr(msg, "1000 iterations"), "message: %s", msg);
  hlo_error_free(e);
  hlo_module_free(m);
  /* 10 outer iterations of 10 inner ones: 110 body runs in all. */
  const char *nested =
      "HloModule m\n"
      "icond {\n  s = (s32[], s32[]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
      "  ten = s32[] constant(10)\n  ROOT lt = pred[] compare(i, ten), direction=LT\n}\n"
      "ibody {\n  s = (s32[], s32[]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
      "  a = s32[] get-tuple-element(s), index=1\n  one = s32[] constant(1)\n"
      "  j = s32[] add(i, one)\n  b = s32[] add(a, one)\n"
      "  ROOT t = (s32[], s32[]) tuple(j, b)\n}\n"
      "ocond {\n  s = (s32[], s32[]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
      "  ten = s32[] constant(10)\n  ROOT lt = pred[] compare(i, ten), direction=LT\n}\n"
      "obody {\n  s = (s32[], s32[]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
      "  a = s32[] get-tuple-element(s), index=1\n  z = s32[] constant(0)\n"
      "  it = (s32[], s32[]) tuple(z, a)\n"
      "  w = (s32[], s32[]) while(it), condition=icond, body=ibody\n"
      "  b = s32[] get-tuple-element(w), index=1\n  one = s32[] constant(1)\n"
      "  j = s32[] add(i, one)\n  ROOT t = (s32[], s32[]) tuple(j, b)\n}\n"
      "ENTRY e {\n  z = s32[] constant(0)\n  init = (s32[], s32[]) tuple(z, z)\n"
      "  ROOT outer = (s32[], s32[]) while(init), condition=ocond, body=obody\n}\n";
  m = ck_parse_verified(nested);
  limits.max_while_iterations = 110;
  ck_assert_ptr_null(hlo_evaluate_with(m, NULL, 0, &limits, &out));
  HloLiteral *want = literal("(s32[], s32[]) (10, 100)");
  assert_same(out, want, __LINE__);
  hlo_literal_free(want);
  hlo_literal_free(out);
  limits.max_while_iterations = 109;
  e = hlo_evaluate_with(m, NULL, 0, &limits, &out);
  ck_assert_ptr_nonnull(e);
  msg = hlo_error_message(e);
  ck_assert_msg(strstr(msg, "109 iterations"), "message: %s", msg);
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

START_TEST(conditional_branches) {
  const char *m = "HloModule m\n"
                  "b0 {\n  x = f32[] parameter(0)\n  ROOT y = f32[] negate(x)\n}\n"
                  "b1 {\n  x = s32[] parameter(0)\n  ROOT y = f32[] convert(x)\n}\n"
                  "b2 {\n  x = f32[] parameter(0)\n  ROOT y = f32[] add(x, x)\n}\n"
                  "ENTRY e {\n  i = s32[] parameter(0)\n  a = f32[] constant(1.5)\n"
                  "  b = s32[] constant(7)\n"
                  "  ROOT r = f32[] conditional(i, a, b, a), branch_computations={b0, b1, b2}\n}\n";
  const char *idx[] = {"s32[] 0", "s32[] 1", "s32[] 2", "s32[] -1", "s32[] 9"};
  const char *want[] = {"f32[] -1.5", "f32[] 7", "f32[] 3", "f32[] 3", "f32[] 3"};
  for (int k = 0; k < 5; k++) {
    HloLiteral *arg = literal(idx[k]);
    CHECK_ARGS(m, &arg, 1, want[k]);
    hlo_literal_free(arg);
  }
  const char *mp = "HloModule m\n"
                   "t {\n  x = f32[] parameter(0)\n  ROOT y = f32[] negate(x)\n}\n"
                   "f {\n  x = s32[] parameter(0)\n  ROOT y = f32[] convert(x)\n}\n"
                   "ENTRY e {\n  p = pred[] parameter(0)\n  a = f32[] constant(1.5)\n"
                   "  b = s32[] constant(7)\n"
                   "  ROOT r = f32[] conditional(p, a, b), true_computation=t, "
                   "false_computation=f\n}\n";
  HloLiteral *t = literal("pred[] true"), *f = literal("pred[] false");
  CHECK_ARGS(mp, &t, 1, "f32[] -1.5");
  CHECK_ARGS(mp, &f, 1, "f32[] 7");
  hlo_literal_free(t);
  hlo_literal_free(f);
}
END_TEST

START_TEST(call_fusion_tuples) {
  CHECK("HloModule m\n"
        "inner {\n  x = f32[2] parameter(0)\n  y = f32[2] parameter(1)\n"
        "  ROOT s = f32[2] multiply(x, y)\n}\n"
        "outer {\n  a = f32[2] parameter(0)\n  c = f32[2] call(a, a), to_apply=inner\n"
        "  nested = (f32[2], f32[2]) tuple(a, c)\n"
        "  ROOT t = (f32[2], (f32[2], f32[2])) tuple(c, nested)\n}\n"
        "fused {\n  p0 = f32[2] parameter(0)\n  p1 = f32[2] parameter(1)\n"
        "  ROOT d = f32[2] subtract(p0, p1)\n}\n"
        "ENTRY e {\n  x = f32[2] constant({2, 3})\n"
        "  t = (f32[2], (f32[2], f32[2])) call(x), to_apply=outer\n"
        "  n = (f32[2], f32[2]) get-tuple-element(t), index=1\n"
        "  u = f32[2] get-tuple-element(n), index=1\n  v = f32[2] get-tuple-element(t), index=0\n"
        "  f = f32[2] fusion(u, x), kind=kLoop, calls=fused\n"
        "  ROOT r = (f32[2], f32[2], (f32[2], f32[2])) tuple(f, v, n)\n}\n",
        "(f32[2], f32[2], (f32[2], f32[2])) ({2, 6}, {4, 9}, ({2, 3}, {4, 9}))");
}
END_TEST

START_TEST(arguments_are_not_consumed) {
  /* The root is a parameter, a tuple element of one, and a while state:
   * results must be copies, the arguments stay intact. */
  HloLiteral *args[2] = {literal("f32[2] {1, 2}"), literal("(s32[], f32[2]) (4, {5, 6})")};
  const char *m = "HloModule m\n"
                  "cond {\n  s = (s32[], f32[2]) parameter(0)\n"
                  "  ROOT f = pred[] constant(false)\n}\n"
                  "body {\n  ROOT s = (s32[], f32[2]) parameter(0)\n}\n"
                  "ENTRY e {\n  a = f32[2] parameter(0)\n  t = (s32[], f32[2]) parameter(1)\n"
                  "  g = f32[2] get-tuple-element(t), index=1\n"
                  "  w = (s32[], f32[2]) while(t), condition=cond, body=body\n"
                  "  ROOT r = (f32[2], f32[2], (s32[], f32[2])) tuple(a, g, w)\n}\n";
  for (int rep = 0; rep < 2; rep++)
    CHECK_ARGS(m, args, 2, "(f32[2], f32[2], (s32[], f32[2])) ({1, 2}, {5, 6}, (4, {5, 6}))");
  HloLiteral *a0 = literal("f32[2] {1, 2}"), *a1 = literal("(s32[], f32[2]) (4, {5, 6})");
  ck_assert(same_values(args[0], a0) && same_values(args[1], a1));
  hlo_literal_free(a0);
  hlo_literal_free(a1);
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(errors_name_the_instruction) {
  HloLiteral *arg = literal("f32[4] {1, 2, 3, 4}");
  check_error("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
              "  ROOT cc = f32[4] custom-call(p), custom_call_target=\"my_kernel\"\n}\n",
              &arg, 1, "%cc", "my_kernel");
  hlo_literal_free(arg);
  /* Inside a loop body: the message names both instructions. */
  check_error("HloModule m\ncond {\n  x = f32[] parameter(0)\n  ROOT t = pred[] constant(true)\n}\n"
              "body {\n  x = f32[] parameter(0)\n"
              "  ROOT y = f32[] custom-call(x), custom_call_target=\"inner\"\n}\n"
              "ENTRY e {\n  z = f32[] constant(0)\n"
              "  ROOT w = f32[] while(z), condition=cond, body=body\n}\n",
              NULL, 0, "%w", "%y");
  /* Ops on types they are not defined on (unverified module). */
  check_error("HloModule m\nENTRY e {\n  a = f32[2] constant({1, 2})\n"
              "  ROOT p = f32[2] popcnt(a)\n}\n",
              NULL, 0, "%p", "popcnt");
  /* Arguments that do not match the parameters. */
  check_error("HloModule m\nENTRY e {\n  ROOT p = f32[2] parameter(0)\n}\n", NULL, 0,
              "takes 1 argument", NULL);
  HloLiteral *bad = literal("f32[3] {1, 2, 3}");
  check_error("HloModule m\nENTRY e {\n  ROOT p = f32[2] parameter(0)\n}\n", &bad, 1,
              "f32[3]", "f32[2]");
  hlo_literal_free(bad);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bounded running                                                          */
/* ------------------------------------------------------------------------ */

/* A loop whose condition is always true, doubling x each iteration. */
static const char endless[] =
    "HloModule m\ncond {\n  p = (s32[], f32[4]) parameter(0)\n  ROOT t = pred[] constant(true)\n}\n"
    "body {\n  p = (s32[], f32[4]) parameter(0)\n  i = s32[] get-tuple-element(p), index=0\n"
    "  one = s32[] constant(1)\n  next = s32[] add(i, one)\n"
    "  x = f32[4] get-tuple-element(p), index=1\n  y = f32[4] add(x, x)\n"
    "  ROOT r = (s32[], f32[4]) tuple(next, y)\n}\n"
    "ENTRY e {\n  x = f32[4] parameter(0)\n  zero = s32[] constant(0)\n"
    "  init = (s32[], f32[4]) tuple(zero, x)\n"
    "  loop = (s32[], f32[4]) while(init), condition=cond, body=body\n"
    "  ROOT out = f32[4] get-tuple-element(loop), index=1\n}\n";

/* Sets the flag after a few milliseconds. */
static void *set_later(void *flag) {
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  atomic_store((atomic_int *)flag, 1);
  return NULL;
}

START_TEST(cancellation_stops_an_endless_loop) {
  HloModule *m = ck_parse_verified(endless);
  HloLiteral *arg = literal("f32[4] {1, 2, 3, 4}"), *out = NULL;
  atomic_int flag = 1;
  /* Set before the start: the first instruction computed stops it. */
  HloEvalOptions o = {.cancel = &flag};
  HloError *e = hlo_evaluate_with(m, &arg, 1, &o, &out);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_null(out);
  ck_assert_str_eq(hlo_error_message(e), "cancelled at %init");
  ck_assert_str_eq(o.stopped_at, "%init");
  hlo_error_free(e);
  free(o.stopped_at);
  /* Set by another thread while the loop runs: it stops inside it, and
   * the message is only where (no "in instruction" wrapping). */
  atomic_store(&flag, 0);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, set_later, &flag), 0);
  e = hlo_evaluate_with(m, &arg, 1, &o, &out);
  pthread_join(t, NULL);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_null(out);
  const char *msg = hlo_error_message(e);
  ck_assert_msg(!strcmp(msg, "cancelled at while %loop") ||
                    (!strncmp(msg, "cancelled at %", 14) && strstr(msg, " in %loop")),
                "%s", msg);
  ck_assert_str_eq(msg + strlen("cancelled at "), o.stopped_at);
  hlo_error_free(e);
  free(o.stopped_at);
  hlo_literal_free(arg);
  hlo_module_free(m);
}
END_TEST

START_TEST(while_iteration_limit_counted) {
  /* while_loop_state's loop runs its body 5 times: a limit of 5 lets it
   * finish, 4 stops it with an error naming the loop and the limit. */
  const char *counted =
      "HloModule m\ncond {\n  p = (s32[], f32[]) parameter(0)\n"
      "  i = s32[] get-tuple-element(p), index=0\n  n = s32[] constant(5)\n"
      "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
      "body {\n  p = (s32[], f32[]) parameter(0)\n  i = s32[] get-tuple-element(p), index=0\n"
      "  one = s32[] constant(1)\n  next = s32[] add(i, one)\n"
      "  x = f32[] get-tuple-element(p), index=1\n  y = f32[] add(x, x)\n"
      "  ROOT r = (s32[], f32[]) tuple(next, y)\n}\n"
      "ENTRY e {\n  zero = s32[] constant(0)\n  x = f32[] constant(1)\n"
      "  init = (s32[], f32[]) tuple(zero, x)\n"
      "  w = (s32[], f32[]) while(init), condition=cond, body=body\n"
      "  ROOT out = f32[] get-tuple-element(w), index=1\n}\n";
  HloModule *m = ck_parse_verified(counted);
  HloLiteral *out = NULL;
  HloEvalOptions o = {.max_while_iterations = 5};
  HloError *e = hlo_evaluate_with(m, NULL, 0, &o, &out);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  HloLiteral *want = literal("f32[] 32");
  assert_same(out, want, __LINE__);
  hlo_literal_free(want);
  hlo_literal_free(out);
  o.max_while_iterations = 4;
  e = hlo_evaluate_with(m, NULL, 0, &o, &out);
  ck_assert_ptr_nonnull(e);
  const char *msg = hlo_error_message(e);
  ck_assert_msg(strstr(msg, "%w = ") && strstr(msg, "still running after 4 iterations"), "%s",
                msg);
  ck_assert_ptr_null(o.stopped_at);
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Collectives on one participant                                           */
/* ------------------------------------------------------------------------ */

START_TEST(single_device_collectives) {
  static const char *head =
      "HloModule m\n"
      "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
      "neg {\n  a = f32[2] parameter(0)\n  ROOT n = f32[2] negate(a)\n}\n";
  char text[2048];
#define SD(body, want)                                                                  \
  do {                                                                                  \
    snprintf(text, sizeof text, "%sENTRY e {\n  c = f32[2] constant({1.5, -2})\n%s}\n", \
             head, body);                                                               \
    CHECK(text, want);                                                                  \
  } while (0)
  SD("  ROOT r = f32[2] all-reduce(c), replica_groups={{0}}, to_apply=add\n", "f32[2] {1.5, -2}");
  SD("  k = f32[] constant(7)\n"
     "  ROOT r = (f32[2], f32[]) all-reduce(c, k), replica_groups={}, to_apply=add\n",
     "(f32[2], f32[]) ({1.5, -2}, 7)");
  SD("  ROOT r = f32[2] all-gather(c), replica_groups={}, dimensions={0}\n", "f32[2] {1.5, -2}");
  SD("  ROOT r = f32[2] reduce-scatter(c), dimensions={0}, to_apply=add\n", "f32[2] {1.5, -2}");
  SD("  ROOT r = f32[2] all-to-all(c), replica_groups={{0}}, dimensions={0}\n",
     "f32[2] {1.5, -2}");
  SD("  ROOT r = f32[2] collective-permute(c), source_target_pairs={{0,0}}\n",
     "f32[2] {1.5, -2}");
  SD("  ROOT r = f32[2] collective-permute(c), source_target_pairs={}\n", "f32[2] {0, 0}");
  SD("  s = (f32[2], f32[2], u32[], u32[]) collective-permute-start(c), source_target_pairs={}\n"
     "  ROOT r = f32[2] collective-permute-done(s)\n", "f32[2] {0, 0}");
  SD("  ROOT r = f32[2] collective-broadcast(c), replica_groups={{0}}\n", "f32[2] {1.5, -2}");
  SD("  ROOT r = u32[] replica-id()\n", "u32[] 0");
  SD("  ROOT r = u32[] partition-id()\n", "u32[] 0");
  SD("  t = token[] after-all()\n  u = token[] after-all(t, t)\n"
     "  b = (f32[2], token[]) tuple(c, u)\n  o = (f32[2], token[]) opt-barrier(b)\n"
     "  ROOT r = f32[2] get-tuple-element(o), index=0\n", "f32[2] {1.5, -2}");
  SD("  s = f32[2] all-reduce-start(c), to_apply=add\n  ROOT r = f32[2] all-reduce-done(s)\n",
     "f32[2] {1.5, -2}");
  SD("  s = (f32[2], f32[2]) all-gather-start(c), dimensions={0}\n"
     "  ROOT r = f32[2] all-gather-done(s)\n", "f32[2] {1.5, -2}");
  SD("  s = ((f32[2]), f32[2], s32[]) async-start(c), calls=neg\n"
     "  u = ((f32[2]), f32[2], s32[]) async-update(s)\n"
     "  ROOT r = f32[2] async-done(u)\n", "f32[2] {-1.5, 2}");
  SD("  s = ((f32[2]), f32[2], s32[]) async-start(c), calls=neg\n"
     "  ROOT r = (f32[2]) get-tuple-element(s), index=0\n", "(f32[2]) ({1.5, -2})");
  SD("  s = (f32[2], f32[2], u32[]) copy-start(c)\n  ROOT r = f32[2] copy-done(s)\n",
     "f32[2] {1.5, -2}");
  SD("  ROOT r = f32[2] domain(c), domain={kind=\"sharding\", entry={}, exit={}}\n",
     "f32[2] {1.5, -2}");
  /* add-dependency(x, token) is x, of any shape (XLA's corpus adds one to
   * a tuple too); its shape may be left out. */
  SD("  t = token[] after-all()\n  ROOT r = add-dependency(c, t)\n", "f32[2] {1.5, -2}");
  SD("  t = token[] after-all()\n  k = f32[] constant(3)\n  b = (f32[2], f32[]) tuple(c, k)\n"
     "  ROOT r = (f32[2], f32[]) add-dependency(b, t)\n", "(f32[2], f32[]) ({1.5, -2}, 3)");
#undef SD
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Other forms XLA's verifier accepts                                       */
/* ------------------------------------------------------------------------ */

START_TEST(xla_forms) {
  /* A pred[] predicate picks a whole operand. */
  CHECK("HloModule m\nENTRY e {\n  p = pred[] constant(false)\n"
        "  a = s32[3] constant({1, 2, 3})\n  b = s32[3] constant({4, 5, 6})\n"
        "  ROOT r = s32[3] select(p, a, b)\n}\n",
        "s32[3] {4, 5, 6}");
  CHECK("HloModule m\nENTRY e {\n  p = pred[] constant(true)\n"
        "  a = s32[2,2] constant({{1, 2}, {3, 4}})\n  b = s32[2,2] constant({{5, 6}, {7, 8}})\n"
        "  ROOT r = s32[2,2] select(p, a, b)\n}\n",
        "s32[2,2] {{1, 2}, {3, 4}}");
  /* One rank-1 operand of start indices, clamped like scalar ones: (1, 3)
   * starts a 2x2 box at (1, 2), (1, -5) a 1x2 update at (1, 0). */
  CHECK("HloModule m\nENTRY e {\n"
        "  x = s32[3,4] constant({{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}})\n"
        "  v = s32[2] constant({1, 3})\n"
        "  ROOT r = s32[2,2] dynamic-slice(x, v), dynamic_slice_sizes={2,2}\n}\n",
        "s32[2,2] {{6, 7}, {10, 11}}");
  CHECK("HloModule m\nENTRY e {\n  x = s32[2,3] constant({{0, 0, 0}, {0, 0, 0}})\n"
        "  u = s32[1,2] constant({{7, 8}})\n  v = s64[2] constant({1, -5})\n"
        "  ROOT r = s32[2,3] dynamic-update-slice(x, u, v)\n}\n",
        "s32[2,3] {{0, 0, 0}, {7, 8, 0}}");
  /* A batching dim start_index_map names too takes the batch position:
   * row i reads g[i, gi[i,1]], gi[i,0] is not read. */
  CHECK("HloModule m\nENTRY e {\n  g = s32[2,3] constant({{0, 1, 2}, {10, 11, 12}})\n"
        "  gi = s32[2,2] constant({{1, 2}, {0, 1}})\n"
        "  ROOT r = s32[2] gather(g, gi), offset_dims={}, collapsed_slice_dims={1}, "
        "start_index_map={0,1}, operand_batching_dims={0}, start_indices_batching_dims={0}, "
        "index_vector_dim=1, slice_sizes={1,1}\n}\n",
        "s32[2] {2, 11}");
  CHECK("HloModule m\nadd {\n  x = s32[] parameter(0)\n  y = s32[] parameter(1)\n"
        "  ROOT s = s32[] add(x, y)\n}\n"
        "ENTRY e {\n  z = s32[2,3] constant({{0, 0, 0}, {0, 0, 0}})\n"
        "  si = s32[2,2] constant({{1, 2}, {0, 1}})\n  u = s32[2] constant({5, 6})\n"
        "  ROOT r = s32[2,3] scatter(z, si, u), update_window_dims={}, "
        "inserted_window_dims={1}, scatter_dims_to_operand_dims={0,1}, input_batching_dims={0}, "
        "scatter_indices_batching_dims={0}, index_vector_dim=1, to_apply=add\n}\n",
        "s32[2,3] {{0, 0, 5}, {0, 6, 0}}");
  /* Without a split dimension all-to-all gives the tuple of its operands. */
  CHECK("HloModule m\nENTRY e {\n  c = f32[2] constant({1.5, -2})\n"
        "  ROOT r = (f32[2]) all-to-all(c), replica_groups={{0}}\n}\n",
        "(f32[2]) ({1.5, -2})");
  /* xla_builder.* calls: the attached computation, or the math function. */
  CHECK("HloModule m\nsub {\n  a = s32[2] parameter(0)\n  b = s32[2] parameter(1)\n"
        "  ROOT d = s32[2] subtract(a, b)\n}\n"
        "ENTRY e {\n  x = s32[2] constant({10, 20})\n  y = s32[2] constant({1, 2})\n"
        "  ROOT r = s32[2] custom-call(x, y), custom_call_target=\"xla_builder.test.Sub\", "
        "called_computations={sub}\n}\n",
        "s32[2] {9, 18}");
  CHECK("HloModule m\nENTRY e {\n  x = f64[3] constant({1, -1, 0})\n"
        "  ROOT r = f64[3] custom-call(x), custom_call_target=\"xla_builder.math.Acos\"\n}\n",
        "f64[3] {0, 3.141592653589793, 1.5707963267948966}");
  CHECK("HloModule m\nENTRY e {\n  x = f32[2] constant({0, -0})\n"
        "  ROOT r = f32[2] custom-call(x), custom_call_target=\"xla_builder.math.Cosh\"\n}\n",
        "f32[2] {1, 1}");
  /* NextAfter, as C99's nextafter (glibc's nextafterf/nextafter printed
   * with %.17g give these; XLA's definition is the same on these inputs):
   * one step up and down from 1 (1 + 2^-23, 1 - 2^-24), from ±0 the
   * smallest subnormal with to's sign (2^-149), -0 toward +0 is +0 (to),
   * equal operands give to, NaN gives NaN, -1 toward 1 is -(1 - 2^-24),
   * the largest finite toward inf is inf. */
  CHECK("HloModule m\nENTRY e {\n"
        "  x = f32[9] constant({1, 1, 0, 0, -0, 2, nan, -1, 3.40282347e+38})\n"
        "  y = f32[9] constant({2, 0, 1, -1, 0, 2, 1, 1, inf})\n"
        "  ROOT r = f32[9] custom-call(x, y), custom_call_target=\"xla_builder.math.NextAfter\"\n"
        "}\n",
        "f32[9] {1.00000012, 0.99999994, 1.40129846e-45, -1.40129846e-45, 0, 2, nan, "
        "-0.99999994, inf}");
  /* f64: 1 + 2^-52, from -0 toward -1 the smallest subnormal -2^-1074. */
  CHECK("HloModule m\nENTRY e {\n  x = f64[2] constant({1, -0})\n  y = f64[2] constant({3, -1})\n"
        "  ROOT r = f64[2] custom-call(x, y), custom_call_target=\"xla_builder.math.NextAfter\"\n"
        "}\n",
        "f64[2] {1.0000000000000002, -4.9406564584124654e-324}");
  /* f8e5m2fnuz (bias 16, 2 mantissa bits, no -0, 0x80 the NaN): 1 is 0x40,
   * up 0x41 = 1.25, down 0x3f = 0.875; 0 toward -1 is 0x81 = -2^-17; 0x81
   * toward +1 is +0 (not 0x80, NaN), toward -1 0x82 = -2^-16. */
  CHECK("HloModule m\nENTRY e {\n"
        "  x = f8e5m2fnuz[5] constant({1, 1, 0, -7.62939453e-06, -7.62939453e-06})\n"
        "  y = f8e5m2fnuz[5] constant({2, 0, -1, 1, -1})\n"
        "  ROOT r = f8e5m2fnuz[5] custom-call(x, y), "
        "custom_call_target=\"xla_builder.math.NextAfter\"\n}\n",
        "f8e5m2fnuz[5] {1.25, 0.875, -7.62939453e-06, 0, -1.52587891e-05}");
  /* Complex Acos, Acosh, Cosh, Atan, Asin, Asinh by XLA's formulas,
   * against Python's cmath (C99's principal branches) at points off the
   * branch cuts, in c128 and c64.  Where Re z < 0 (-2+i, -0.25-2i), XLA's acosh takes one
   * sqrt of (z+1)(z-1) where cmath multiplies sqrt(z+1)·sqrt(z-1): the
   * other root s, and since (z+s)(z-s) = 1, log(z+s) = -cmath.acosh(z). */
  {
    static const struct {
      const char *f, *want;
    } cx[] = {
        {"Acos", "{(1.069187473519396, -0.28139605624529274), (2.6342363503726487, "
                 "-1.4693517443681852), (0.17464646508544929, 1.7789904938267687), "
                 "(1.6822742521633784, 1.4492081522551188)}"},
        {"Acosh", "{(0.28139605624529274, 1.069187473519396), (-1.4693517443681852, "
                  "-2.6342363503726487), (1.7789904938267687, -0.17464646508544929), "
                  "(-1.4492081522551188, 1.6822742521633784)}"},
        {"Cosh", "{(1.0925708047319176, 0.12892104172809826), (2.0327230070196656, "
                 "-3.0518977991518002), (8.8352046065009944, -4.8028250827430332), "
                 "(-0.42921929868816622, 0.22969972965814137)}"},
        {"Atan", "{(0.4842544903299662, 0.20058661813123432), (-1.1780972450961724, "
                 "0.17328679513998632), (1.2563981835871803, -0.048936144281523833), "
                 "(-1.4898776111756851, -0.53588009959108962)}"},
        {"Asin", "{(0.50160885327550075, 0.28139605624529274), (-1.0634400235777519, "
                 "1.4693517443681852), (1.3961498617094474, -1.7789904938267687), "
                 "(-0.11147792536848176, -1.4492081522551188)}"},
        {"Asinh", "{(0.49267568342077062, 0.2243284526346675), (-1.5285709194809982, "
                  "0.42707858639247609), (1.8301947623375088, -0.15700459478894233), "
                  "(-1.3287633703408077, -1.427924144520526)}"},
    };
    for (size_t k = 0; k < sizeof cx / sizeof cx[0]; k++)
      for (int wide = 0; wide < 2; wide++) {
        const char *ty = wide ? "c128" : "c64";
        HloStr m = {0}, w = {0};
        hlo_str_printf(&m,
                       "HloModule m\nENTRY e {\n"
                       "  x = %s[4] constant({(0.5, 0.25), (-2, 1), (3, -0.5), (-0.25, -2)})\n"
                       "  ROOT r = %s[4] custom-call(x), "
                       "custom_call_target=\"xla_builder.math.%s\"\n}\n",
                       ty, ty, cx[k].f);
        hlo_str_printf(&w, "%s[4] %s", ty, cx[k].want);
        HloLiteral *got = evaluate_text(m.buf, NULL, 0), *want = literal(w.buf);
        double tol = wide ? 1e-14 : 1e-6;
        char msg[256];
        ck_assert_msg(ck_allclose(got, want, tol, tol, msg, sizeof msg), "%s %s: %s", ty,
                      cx[k].f, msg);
        hlo_literal_free(got);
        hlo_literal_free(want);
        free(m.buf);
        free(w.buf);
      }
  }
  /* Asinh on its branch cut (the imaginary axis past ±i) and Asin on its
   * own (the real axis past ±1, both signs of zero), where XLA's algorithm
   * picks cmath's sides: cmath.asinh(2j) = (1.3169578969248166,
   * 1.5707963267948966), cmath.asinh(-3j) = (1.7627471740390861,
   * -1.5707963267948966), cmath.asin(complex(2, 0)) = (1.5707963267948966,
   * 1.3169578969248166); but XLA negates the imaginary part where y < 0,
   * so for y = -0 it is the same, where cmath gives the conjugate. */
  {
    HloLiteral *got = evaluate_text(
        "HloModule m\nENTRY e {\n  x = c128[2] constant({(0, 2), (0, -3)})\n"
        "  a = c128[2] custom-call(x), custom_call_target=\"xla_builder.math.Asinh\"\n"
        "  y = c128[2] constant({(2, 0), (2, -0)})\n"
        "  b = c128[2] custom-call(y), custom_call_target=\"xla_builder.math.Asin\"\n"
        "  ROOT t = (c128[2], c128[2]) tuple(a, b)\n}\n",
        NULL, 0);
    HloLiteral *want = literal(
        "(c128[2], c128[2]) ({(1.3169578969248166, 1.5707963267948966), (1.7627471740390861, "
        "-1.5707963267948966)}, {(1.5707963267948966, 1.3169578969248166), "
        "(1.5707963267948966, 1.3169578969248166)})");
    char msg[256];
    for (int k = 0; k < 2; k++)
      ck_assert_msg(ck_allclose(got->elems[k], want->elems[k], 1e-14, 1e-14, msg, sizeof msg),
                    "branch cut %d: %s", k, msg);
    hlo_literal_free(got);
    hlo_literal_free(want);
  }
  /* XLA's builder library.  Einsum, hand-worked: "ii,ii->i" multiplies
   * the diagonals (1·1, 5·2, 9·3); "i,ij->ii" puts a[i]·Σ_j B[i,j] on a
   * diagonal (1·3, 2·7, 3·11); a matrix product; an s32 outer product. */
  CHECK("HloModule m\nENTRY e {\n  x = f32[3,3] constant({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})\n"
        "  y = f32[3,3] constant({{1, 9, 9}, {9, 2, 9}, {9, 9, 3}})\n"
        "  ROOT r = f32[3] custom-call(x, y), custom_call_target=\"xla_builder.matrix.Einsum\", "
        "backend_config=\"ii,ii->i\"\n}\n",
        "f32[3] {1, 10, 27}");
  CHECK("HloModule m\nENTRY e {\n  a = f32[3] constant({1, 2, 3})\n"
        "  b = f32[3,2] constant({{1, 2}, {3, 4}, {5, 6}})\n"
        "  ROOT r = f32[3,3] custom-call(a, b), custom_call_target=\"xla_builder.matrix.Einsum\", "
        "backend_config=\"i,ij->ii\"\n}\n",
        "f32[3,3] {{3, 0, 0}, {0, 14, 0}, {0, 0, 33}}");
  CHECK("HloModule m\nENTRY e {\n  a = f64[2,2] constant({{1, 2}, {3, 4}})\n"
        "  b = f64[2,2] constant({{5, 6}, {7, 8}})\n"
        "  ROOT r = f64[2,2] custom-call(a, b), custom_call_target=\"xla_builder.matrix.Einsum\", "
        "backend_config=\"ij,jk->ik\"\n}\n",
        "f64[2,2] {{19, 22}, {43, 50}}");
  CHECK("HloModule m\nENTRY e {\n  a = s32[2] constant({1, 2})\n  b = s32[3] constant({3, 4, 5})\n"
        "  ROOT r = s32[3,2] custom-call(a, b), custom_call_target=\"xla_builder.matrix.Einsum\", "
        "backend_config=\"i,j->ji\"\n}\n",
        "s32[3,2] {{3, 6}, {4, 8}, {5, 10}}");
  /* GetMatrixDiagonalViaGather: x[..., i, i], min(M, N) of them. */
  CHECK("HloModule m\nENTRY e {\n"
        "  x = s32[2,2,3] constant({{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {10, 11, 12}}})\n"
        "  ROOT r = s32[2,2] custom-call(x), "
        "custom_call_target=\"xla_builder.matrix.GetMatrixDiagonalViaGather\"\n}\n",
        "s32[2,2] {{1, 5}, {7, 11}}");
  /* ScramblePhiloxKey against a Python transcription of XLA's prng.cc
   * (state (lo, 0, hi, 0), key (0x3ec8f720, 0x02461e29), 10 Philox4x32
   * rounds, the key words 0 | 1 << 32), whose constants the corpus
   * module's CHECK lines show. */
  CHECK("HloModule m\nENTRY e {\n"
        "  k = u64[5] constant({0, 1, 42, 18446744073709551615, 81985529216486895})\n"
        "  ROOT r = u64[5] custom-call(k), "
        "custom_call_target=\"xla_builder.prng.ScramblePhiloxKey\"\n}\n",
        "u64[5] {16103252647613272195, 5021939587448326713, 6022327574815263983, "
        "17579611896706391956, 18365403558354384361}");
  /* TridiagonalSolver: {{1, 1, 0}, {1, 3, 1}, {0, 2, 2}} times (1, 2, 3)
   * and (1, 0, -1) gives (3, 10, 10) and (1, 0, -2); its pivots (1, 2, 1)
   * keep every step exact; the entries the solver ignores (lower[0],
   * upper[n-1]) are 99.  Four operands, rhs [k, n];
   * two, diagonals stacked (upper, main, lower), rhs [n, k]. */
  CHECK("HloModule m\nENTRY e {\n  l = f32[1,3] constant({{99, 1, 2}})\n"
        "  d = f32[1,3] constant({{1, 3, 2}})\n  u = f32[1,3] constant({{1, 1, 99}})\n"
        "  b = f32[2,3] constant({{3, 10, 10}, {1, 0, -2}})\n"
        "  ROOT r = f32[2,3] custom-call(l, d, u, b), "
        "custom_call_target=\"xla_builder.tridiagonal.TridiagonalSolver\"\n}\n",
        "f32[2,3] {{1, 2, 3}, {1, 0, -1}}");
  CHECK("HloModule m\nENTRY e {\n"
        "  g = f64[3,3] constant({{1, 1, 99}, {1, 3, 2}, {99, 1, 2}})\n"
        "  b = f64[3,2] constant({{3, 1}, {10, 0}, {10, -2}})\n"
        "  ROOT r = f64[3,2] custom-call(g, b), "
        "custom_call_target=\"xla_builder.tridiagonal.TridiagonalSolver\"\n}\n",
        "f64[3,2] {{1, 1}, {2, 0}, {3, -1}}");
  /* Polygamma(n, x) against mpmath.polygamma (and the closed forms
   * psi1(1/2) = pi^2/2, psi(1) = -gamma, psi2(1) = -2 zeta(3), psi3(1) =
   * pi^4/15): the direct path, digamma, the reflection for x < 0 (n = 1,
   * 2, 4), NaN for n not natural, digamma's -inf at 0 and NaN at -1. */
  {
    HloLiteral *got = evaluate_text(
        "HloModule m\nENTRY e {\n"
        "  n = f64[12] constant({1, 0, 0, 2, 1, 3, 2, 4, 1.5, -1, 0, 0})\n"
        "  x = f64[12] constant({0.5, 1, 3.5, 1, -0.5, 1, -1.5, 0.3, 2, 2, 0, -1})\n"
        "  ROOT r = f64[12] custom-call(n, x), custom_call_target=\"xla_builder.math.Polygamma\"\n"
        "}\n",
        NULL, 0);
    HloLiteral *want = literal(
        "f64[12] {4.934802200544679, -0.5772156649015329, 1.103156640645243, "
        "-2.4041138063191885, 8.934802200544679, 6.493939402266829, -0.236204051641727, "
        "-9883.46855549699, nan, nan, -inf, nan}");
    char msg[256];
    ck_assert_msg(ck_allclose(got, want, 1e-12, 1e-12, msg, sizeof msg), "polygamma: %s", msg);
    hlo_literal_free(got);
    hlo_literal_free(want);
  }
  /* RegularizedIncompleteBeta(a, b, x) against mpmath.betainc(a, b, 0, x,
   * regularized=True) (I_x(1, 1) = x, I_x(1/2, 1/2) = 2 asin(sqrt x)/pi:
   * 1/3 at 1/4), the last through the symmetry swap; NaN for a <= 0 or x
   * outside [0, 1]. */
  {
    HloLiteral *got = evaluate_text(
        "HloModule m\nENTRY e {\n  a = f64[7] constant({1, 2, 0.5, 5, 3, -1, 2})\n"
        "  b = f64[7] constant({1, 3, 0.5, 2, 7, 1, 2})\n"
        "  x = f64[7] constant({0.3, 0.4, 0.25, 0.9, 0.01, 0.5, 1.5})\n"
        "  ROOT r = f64[7] custom-call(a, b, x), "
        "custom_call_target=\"xla_builder.math.RegularizedIncompleteBeta\"\n}\n",
        NULL, 0);
    HloLiteral *want = literal("f64[7] {0.3, 0.5248, 0.3333333333333333, 0.885735, "
                               "8.029476538112801e-05, nan, nan}");
    char msg[256];
    ck_assert_msg(ck_allclose(got, want, 1e-12, 1e-12, msg, sizeof msg), "betainc: %s", msg);
    hlo_literal_free(got);
    hlo_literal_free(want);
  }
  /* IgammaGradA(a, x) = dP(a, x)/da and RandomGammaGrad(a, x) = -(dP/da) /
   * (dP/dx) against mpmath (P = gammainc(a, 0, x, regularized=True), the
   * derivative by mpmath.diff at 30 digits), through the series (x <= 1 or
   * x <= a) and the continued fraction; 0 at x = 0, NaN for a <= 0, x < 0. */
  {
    HloLiteral *got = evaluate_text(
        "HloModule m\nENTRY e {\n  a = f64[8] constant({0.5, 2, 3, 1.5, 10, -1, 2, 2})\n"
        "  x = f64[8] constant({0.3, 1.5, 7, 20, 9.5, 1, 0, -1})\n"
        "  i = f64[8] custom-call(a, x), custom_call_target=\"xla_builder.math.IgammaGradA\"\n"
        "  r = f64[8] custom-call(a, x), custom_call_target=\"xla_builder.math.RandomGammaGrad\"\n"
        "  ROOT t = (f64[8], f64[8]) tuple(i, r)\n}\n",
        NULL, 0);
    HloLiteral *want = literal(
        "(f64[8], f64[8]) ({-0.7705703513753519, -0.3134886378250793, -0.034996415852200244, "
        "-3.205077885968658e-08, -0.1288276416793082, nan, 0, nan}, {1.0098019459488545, "
        "0.9366390678772174, 1.5664583693744545, 3.0814715938990163, 0.9909624995346952, nan, "
        "0, nan})");
    char msg[256];
    for (int k = 0; k < 2; k++)
      ck_assert_msg(ck_allclose(got->elems[k], want->elems[k], 1e-12, 1e-9, msg, sizeof msg),
                    "igamma grad %d: %s", k, msg);
    hlo_literal_free(got);
    hlo_literal_free(want);
  }
  /* scaled-dot: each scale element covers a block of operand elements
   * (lhs: pairs along K), a bf16[] scale of a bf16 operand counts as 1. */
  CHECK("HloModule m\nENTRY e {\n  a = f32[2,4] constant({{1, 2, 3, 4}, {5, 6, 7, 8}})\n"
        "  b = f32[4,1] constant({{1}, {1}, {1}, {1}})\n  as = f32[1,2] constant({{2, 10}})\n"
        "  bs = f32[1,1] constant({{0.5}})\n"
        "  ROOT r = f32[2,1] scaled-dot(a, b, as, bs), lhs_contracting_dims={1}, "
        "rhs_contracting_dims={0}\n}\n",
        "f32[2,1] {{38}, {86}}");
  CHECK("HloModule m\nENTRY e {\n  a = bf16[2,2] constant({{1, 2}, {3, 4}})\n"
        "  b = bf16[2,2] constant({{1, 0}, {0, 1}})\n  as = bf16[] constant(5)\n"
        "  bs = bf16[1,2] constant({{1, 2}})\n"
        "  ROOT r = f32[2,2] scaled-dot(a, b, as, bs), lhs_contracting_dims={1}, "
        "rhs_contracting_dims={0}\n}\n",
        "f32[2,2] {{1, 4}, {3, 8}}");
  /* The rest is refused by name, with the reason. */
  check_error("HloModule m\nENTRY e {\n  x = f32[2] constant({1, 2})\n"
              "  ROOT r = f32[2] custom-call(x, x), "
              "custom_call_target=\"xla_builder.math.Lgamma\"\n}\n",
              NULL, 0, "\"xla_builder.math.Lgamma\" is not supported",
              "no computation is attached");
  check_error("HloModule m\nENTRY e {\n  x = f32[2] constant({1, 2})\n"
              "  ROOT r = f32[2] custom-call(x), "
              "custom_call_target=\"xla_builder.math.NextAfter\"\n}\n",
              NULL, 0, "\"xla_builder.math.NextAfter\" is not supported",
              "two float arrays");
  check_error("HloModule m\nENTRY e {\n  x = f8e8m0fnu[2] constant({1, 2})\n"
              "  ROOT r = f8e8m0fnu[2] custom-call(x, x), "
              "custom_call_target=\"xla_builder.math.NextAfter\"\n}\n",
              NULL, 0, "\"xla_builder.math.NextAfter\" is not supported",
              "with a sign");
  {
    static const struct {
      const char *call, *why;
    } bad[] = {
        {"f32[2] custom-call(x, x), custom_call_target=\"xla_builder.matrix.Einsum\", "
         "backend_config=\"...i,...i->...i\"",
         "no ellipsis"},
        {"f32[2] custom-call(x, x), custom_call_target=\"xla_builder.matrix.Einsum\", "
         "backend_config=\"ij,ij->k\"",
         "result label names no operand dim"},
        {"f32[2] custom-call(x, x), custom_call_target=\"xla_builder.matrix.Einsum\"",
         "equation (backend_config=\"ab,bc->ac\") is missing"},
        {"f32[2] custom-call(x, x), custom_call_target=\"xla_builder.matrix.Einsum\", "
         "backend_config=\"ij,j->i\"",
         "a number of dims other than its array's rank"},
        {"f32[2,2] custom-call(x), "
         "custom_call_target=\"xla_builder.matrix.GetMatrixDiagonalViaGather\"",
         "main diagonal [..., min(M, N)]"},
        {"f32[2,2] custom-call(x), custom_call_target=\"xla_builder.prng.ScramblePhiloxKey\"",
         "one u64 array"},
        {"f32[2,2] custom-call(x, x), "
         "custom_call_target=\"xla_builder.math.RegularizedIncompleteBeta\"",
         "(a, b, x) of three f32 or f64"},
        {"f32[2,2] custom-call(x), custom_call_target=\"xla_builder.math.Polygamma\"",
         "Polygamma(n, x), IgammaGradA(a, x) and RandomGammaGrad(a, x) of two f32"},
        {"f32[2,2] custom-call(x, x), "
         "custom_call_target=\"xla_builder.tridiagonal.TridiagonalSolver\"",
         "(diagonals [..., 3, n], rhs [..., n, k])"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      char text[512];
      snprintf(text, sizeof text,
               "HloModule m\nENTRY e {\n  x = f32[2,2] constant({{1, 2}, {3, 4}})\n"
               "  ROOT r = %s\n}\n",
               bad[k].call);
      check_error(text, NULL, 0, "is not supported", bad[k].why);
    }
  }
  check_error("HloModule m\nneg {\n  a = f32[3] parameter(0)\n  ROOT n = f32[3] negate(a)\n}\n"
              "ENTRY e {\n  x = f32[2] constant({1, 2})\n"
              "  ROOT r = f32[2] custom-call(x), custom_call_target=\"xla_builder.test.Neg\", "
              "called_computations={neg}\n}\n",
              NULL, 0, "\"xla_builder.test.Neg\"", "does not take the operands' shapes");
  check_error("HloModule m\nENTRY e {\n  x = c64[2] constant({(1, 0), (0, 1)})\n"
              "  ROOT r = c64[2] custom-call(x), custom_call_target=\"xla_builder.math.Sinh\"\n"
              "}\n",
              NULL, 0, "\"xla_builder.math.Sinh\"",
              "Acos, Acosh, Asin, Asinh, Atan and Cosh of a c64");
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_eval");
  TCase *t = tcase_create("eval");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, arithmetic_every_type);
  tcase_add_test(t, single_device_collectives);
  tcase_add_test(t, select_and_scatter);
  tcase_add_test(t, xla_forms);
  tcase_add_test(t, integer_division_edge_cases);
  tcase_add_test(t, integer_power);
  tcase_add_test(t, shifts);
  tcase_add_test(t, bitwise_popcnt_clz);
  tcase_add_test(t, integer_unary);
  tcase_add_test(t, float_unary_exact);
  tcase_add_test(t, float_transcendentals);
  tcase_add_test(t, inverse_and_hyperbolic);
  tcase_add_test(t, reduce_precision_rounding);
  tcase_add_test(t, map_applies_computation);
  tcase_add_test(t, lapack_custom_calls);
  tcase_add_test(t, minmax_clamp_select_nan);
  tcase_add_test(t, compare_directions_and_types);
  tcase_add_test(t, compare_totalorder);
  tcase_add_test(t, convert_saturation_and_rounding);
  tcase_add_test(t, bitcast_convert_sizes);
  tcase_add_test(t, iota_broadcast_reshape_transpose);
  tcase_add_test(t, slice_reverse_concatenate);
  tcase_add_test(t, pad_negative_and_interior);
  tcase_add_test(t, dynamic_slice_clamps);
  tcase_add_test(t, bitcast_follows_layouts);
  tcase_add_test(t, gather_configurations);
  tcase_add_test(t, scatter_configurations);
  tcase_add_test(t, reduce_plain_and_general);
  tcase_add_test(t, reduce_variadic_argmax);
  tcase_add_test(t, reduce_one_input_tuple);
  tcase_add_test(t, reduce_window_padding_dilation);
  tcase_add_test(t, reduce_window_against_definition);
  tcase_add_test(t, sort_stable_multi_operand);
  tcase_add_test(t, topk_rows_in_total_order);
  tcase_add_test(t, cholesky_and_triangular_solve);
  tcase_add_test(t, fft_every_type);
  tcase_add_test(t, rng_bit_generator_unverified);
  tcase_add_test(t, rng_bit_generator_narrow);
  tcase_add_test(t, rng_bit_generator_matches_xla);
  tcase_add_test(t, rng_draws_within_bounds_deterministically);
  tcase_add_test(t, stochastic_convert_rounds_by_random_bits);
  tcase_add_test(t, ragged_dot_modes);
  tcase_add_test(t, dynamic_dimensions);
  tcase_add_test(t, dynamic_xla_expectations);
  tcase_add_test(t, dynamic_reshape_op);
  tcase_add_test(t, dynamic_pad_and_custom_calls);
  tcase_add_test(t, dot_general_dims);
  tcase_add_test(t, convolution_against_reference);
  tcase_add_test(t, convolution_1d_and_0d);
  tcase_add_test(t, batch_norm_inference);
  tcase_add_test(t, batch_norm_training_and_grad);
  tcase_add_test(t, while_loop_state);
  tcase_add_test(t, while_iteration_limit);
  tcase_add_test(t, conditional_branches);
  tcase_add_test(t, call_fusion_tuples);
  tcase_add_test(t, arguments_are_not_consumed);
  tcase_add_test(t, errors_name_the_instruction);
  tcase_add_test(t, cancellation_stops_an_endless_loop);
  tcase_add_test(t, while_iteration_limit_counted);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
