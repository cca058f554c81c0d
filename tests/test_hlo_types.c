/*
 * test_hlo_types.c — the element types after f64 in the evaluator: the
 * sub-byte integers (s2, u2, s4, u4), the f8/f4 floats and c64/c128.
 *
 * The float formats are checked against a reference written here from
 * their definitions (sign, exponent, mantissa, bias, which specials exist)
 * and not from hlo/narrow.c: values are decoded by the formula, and a
 * conversion's expected result is found by searching all 256 encodings for
 * the nearest value (ties to the even encoding; e8m0's ties up, as
 * ml_dtypes), then applying the type's overflow rule.  Every bit pattern of
 * every type is converted to every other f8/f4 type and to the wider types,
 * and every integer of s8/u8 to each of them.
 */
#include <complex.h>
#ifndef CMPLXF /* glibc defines C11's CMPLX and CMPLXF for GCC only */
#define CMPLXF(re, im) __builtin_complex((float)(re), (float)(im))
#endif
#ifndef CMPLX
#define CMPLX(re, im) __builtin_complex((double)(re), (double)(im))
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

/* ------------------------------------------------------------------------ */
/* The reference                                                            */
/* ------------------------------------------------------------------------ */

typedef enum { IEEE, FN, FNUZ, E8M0, F4 } Kind;

typedef struct Fmt {
  HloType t;
  int E, M, bias; /* exponent bits, mantissa bits, bias */
  Kind kind;
} Fmt;

static const Fmt fmts[] = {
    {HLO_F8E4M3FN, 4, 3, 7, FN},       {HLO_F8E5M2, 5, 2, 15, IEEE},
    {HLO_F8E4M3FNUZ, 4, 3, 8, FNUZ},   {HLO_F8E5M2FNUZ, 5, 2, 16, FNUZ},
    {HLO_F8E4M3B11FNUZ, 4, 3, 11, FNUZ}, {HLO_F8E4M3, 4, 3, 7, IEEE},
    {HLO_F8E3M4, 3, 4, 3, IEEE},       {HLO_F8E8M0FNU, 8, 0, 127, E8M0},
    {HLO_F4E2M1FN, 2, 1, 1, F4},
};
enum { NFMTS = sizeof fmts / sizeof fmts[0] };

static int patterns(const Fmt *f) { return f->kind == F4 ? 16 : 256; }

/* The value of encoding b; a NaN encoding gives a NaN of its sign bit
 * (fnuz's one NaN is the -0 pattern, so -NaN). */
static double ref_value(const Fmt *f, unsigned b) {
  if (f->kind == E8M0) return b == 0xff ? NAN : ldexp(1, (int)b - 127);
  unsigned sign = b >> (f->E + f->M), e = (b >> f->M) & ((1u << f->E) - 1);
  unsigned m = b & ((1u << f->M) - 1), emax = (1u << f->E) - 1, mmax = (1u << f->M) - 1;
  double nan = sign ? -NAN : NAN;
  if (f->kind == FNUZ && b == 0x80) return nan;
  if (f->kind == FN && e == emax && m == mmax) return nan;
  if (f->kind == IEEE && e == emax) return m ? nan : sign ? -INFINITY : INFINITY;
  double v = e == 0 ? ldexp(m, 1 - f->bias - f->M) : ldexp((1 << f->M) + m, (int)e - f->bias - f->M);
  return sign ? -v : v;
}

static double max_finite(const Fmt *f) {
  double best = 0;
  for (int b = 0; b < patterns(f); b++) {
    double v = ref_value(f, (unsigned)b);
    if (isfinite(v) && v > best) best = v;
  }
  return best;
}

/* The encoding XLA's convert gives x, as a pattern; NaN results are any
 * NaN pattern (*nan set). */
static unsigned ref_encode(const Fmt *f, double x, bool *nan) {
  *nan = false;
  unsigned sbit = f->kind == E8M0 ? 0 : (x < 0 || (x == 0 && signbit(x))) << (f->E + f->M);
  if (isnan(x)) {
    if (f->kind == F4) return signbit(x) ? 0 : 8; /* ml_dtypes: -0 for +NaN */
    *nan = true;
    return 0;
  }
  if (f->kind == E8M0 && !(x > 0)) {
    *nan = true;
    return 0;
  }
  double max = max_finite(f);
  if (fabs(x) > max) {
    /* Past the largest value: does it round to it or beyond? */
    unsigned mb = 0;
    for (int b = 0; b < patterns(f); b++)
      if (ref_value(f, (unsigned)b) == max) mb = (unsigned)b;
    double ulp = f->kind == E8M0 ? max : ldexp(1, (int)floor(log2(max)) - f->M);
    double half = max + ulp / 2;
    bool beyond = isinf(x) || fabs(x) > half ||
                  (fabs(x) == half && (f->kind == E8M0 || (mb & 1)));
    if (beyond) {
      if (f->kind == IEEE) return sbit | ((1u << f->E) - 1) << f->M;
      if (f->kind == F4) return sbit | mb;
      *nan = true;
      return 0;
    }
    return sbit | mb;
  }
  /* The nearest finite encoding; ties to the even one (e8m0: the larger). */
  int best = -1;
  double bd = INFINITY;
  for (int b = 0; b < patterns(f); b++) {
    double v = ref_value(f, (unsigned)b);
    if (!isfinite(v)) continue;
    if (v == 0 && f->kind != FNUZ && (unsigned)(b & (1 << (f->E + f->M))) != sbit) continue;
    double d = fabs(v - x);
    bool tie = d == bd;
    if (d < bd || (tie && (f->kind == E8M0 ? v > ref_value(f, (unsigned)best) : !(b & 1)))) {
      bd = d;
      best = b;
    }
  }
  return (unsigned)best;
}

/* ------------------------------------------------------------------------ */
/* Running converts                                                         */
/* ------------------------------------------------------------------------ */

/* convert(p) from type `from` to `to` over n elements held in `in`. */
static HloLiteral *convert(HloType from, HloType to, const void *in, int64_t n) {
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule c\nENTRY e {\n  p = %s[%lld] parameter(0)\n"
                 "  ROOT c = %s[%lld] convert(p)\n}\n",
                 hlo_type_name(from), (long long)n, hlo_type_name(to), (long long)n);
  HloModule *m = ck_parse_verified(s.buf);
  free(s.buf);
  HloShape sh = hlo_shape_array(from, 1, &n);
  HloLiteral *arg = hlo_literal_new(&sh);
  memcpy(arg->data, in, (size_t)n * hlo_type_size(from));
  HloLiteral *out = ck_evaluate(m, &arg, 1);
  hlo_literal_free(arg);
  hlo_module_free(m);
  return out;
}

static void check_bits(const Fmt *f, const HloLiteral *got, int64_t i, double x, const char *what) {
  bool nan;
  unsigned want = ref_encode(f, x, &nan);
  unsigned g = ((const uint8_t *)got->data)[i];
  if (nan)
    ck_assert_msg(isnan(ref_value(f, g)), "%s: %s of %a is 0x%02x, expected NaN", what,
                  hlo_type_name(f->t), x, g);
  else
    ck_assert_msg(g == want, "%s: %s of %a is 0x%02x, expected 0x%02x", what,
                  hlo_type_name(f->t), x, g, want);
}

/* ------------------------------------------------------------------------ */
/* f8 and f4                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(small_floats_widen_exactly) {
  for (int k = 0; k < NFMTS; k++) {
    const Fmt *f = &fmts[k];
    uint8_t bits[256];
    for (int b = 0; b < 256; b++) bits[b] = (uint8_t)b;
    int n = patterns(f);
    HloLiteral *r32 = convert(f->t, HLO_F32, bits, n), *r64 = convert(f->t, HLO_F64, bits, n);
    for (int b = 0; b < n; b++) {
      double want = ref_value(f, (unsigned)b);
      float g = ((const float *)r32->data)[b];
      double g64 = ((const double *)r64->data)[b];
      if (isnan(want)) {
        ck_assert_msg(isnan(g) && isnan(g64), "%s 0x%02x: %g, expected NaN", hlo_type_name(f->t), b, g);
        continue;
      }
      ck_assert_msg(g == want && !signbit(g) == !signbit(want) && g64 == want,
                    "%s 0x%02x: %a, expected %a", hlo_type_name(f->t), b, g, want);
    }
    hlo_literal_free(r32);
    hlo_literal_free(r64);
  }
}
END_TEST

/* Every pattern of every f8/f4 type into every other one. */
START_TEST(small_floats_convert_pairwise) {
  uint8_t bits[256];
  for (int b = 0; b < 256; b++) bits[b] = (uint8_t)b;
  for (int a = 0; a < NFMTS; a++)
    for (int k = 0; k < NFMTS; k++) {
      if (a == k) continue;
      const Fmt *fa = &fmts[a], *fk = &fmts[k];
      HloLiteral *r = convert(fa->t, fk->t, bits, patterns(fa));
      for (int b = 0; b < patterns(fa); b++)
        check_bits(fk, r, b, ref_value(fa, (unsigned)b), hlo_type_name(fa->t));
      hlo_literal_free(r);
    }
}
END_TEST

/* Rounding from f32 and f64: every value of every format, the midpoints of
 * the target format and values just off them, overflow and specials. */
START_TEST(small_floats_round_from_wide_floats) {
  double xs[8192];
  int n = 0;
  for (int a = 0; a < NFMTS; a++)
    for (int b = 0; b < patterns(&fmts[a]); b++) xs[n++] = ref_value(&fmts[a], (unsigned)b);
  const double extra[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 1e30, -1e30, 1e-30, -1e-30,
                          1e-45, 464, 465, -464, 3e38, 1.7e38, 0x1p-128, 0x1p-129, 0x1.8p-127};
  for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) xs[n++] = extra[i];
  for (int k = 0; k < NFMTS; k++) {
    const Fmt *f = &fmts[k];
    double vals[600];
    int nv = 0;
    for (int b = 0; b < patterns(f); b++) {
      double v = ref_value(f, (unsigned)b);
      if (isfinite(v)) vals[nv++] = v;
    }
    double mids[4000];
    int nm = 0;
    for (int i = 0; i < nv; i++)
      for (int j = 0; j < nv; j++) {
        if (vals[j] <= vals[i] || nm > 3990) continue;
        bool next = true;
        for (int q = 0; q < nv; q++)
          if (vals[q] > vals[i] && vals[q] < vals[j]) next = false;
        if (!next) continue;
        double mid = (vals[i] + vals[j]) / 2;
        mids[nm++] = mid;
        mids[nm++] = mid + fabs(mid) * 0x1p-20;
        mids[nm++] = mid - fabs(mid) * 0x1p-20;
      }
    double all[12288];
    int na = 0;
    for (int i = 0; i < n; i++) all[na++] = xs[i];
    for (int i = 0; i < nm; i++) all[na++] = mids[i];
    float all32[12288];
    for (int i = 0; i < na; i++) all32[i] = (float)all[i];
    HloLiteral *r64 = convert(HLO_F64, f->t, all, na);
    HloLiteral *r32 = convert(HLO_F32, f->t, all32, na);
    for (int i = 0; i < na; i++) {
      check_bits(f, r64, i, all[i], "f64");
      check_bits(f, r32, i, all32[i], "f32");
    }
    hlo_literal_free(r64);
    hlo_literal_free(r32);
  }
}
END_TEST

/* Integers go through f32 (ml_dtypes); small floats to integers truncate
 * and saturate, NaN becomes 0 (XLA's convert). */
START_TEST(small_floats_and_integers) {
  int8_t s8[256];
  for (int i = 0; i < 256; i++) s8[i] = (int8_t)(i - 128);
  uint8_t bits[256];
  for (int b = 0; b < 256; b++) bits[b] = (uint8_t)b;
  for (int k = 0; k < NFMTS; k++) {
    const Fmt *f = &fmts[k];
    HloLiteral *r = convert(HLO_S8, f->t, s8, 256);
    for (int i = 0; i < 256; i++) check_bits(f, r, i, s8[i], "s8");
    hlo_literal_free(r);
    r = convert(HLO_U8, f->t, bits, 256);
    for (int i = 0; i < 256; i++) check_bits(f, r, i, bits[i], "u8");
    hlo_literal_free(r);
    HloType to[] = {HLO_S32, HLO_S8, HLO_U8, HLO_S4, HLO_U4, HLO_S2, HLO_PRED};
    for (size_t j = 0; j < sizeof to / sizeof *to; j++) {
      r = convert(f->t, to[j], bits, patterns(f));
      int bitsw = hlo_type_bits(to[j]);
      double lo = hlo_type_is_signed(to[j]) ? -ldexp(1, bitsw - 1) : 0;
      double hi = hlo_type_is_signed(to[j]) ? ldexp(1, bitsw - 1) - 1 : ldexp(1, bitsw) - 1;
      for (int b = 0; b < patterns(f); b++) {
        double v = ref_value(f, (unsigned)b);
        int64_t want = to[j] == HLO_PRED ? v != 0
                       : isnan(v)        ? 0
                       : v <= lo         ? (int64_t)lo
                       : v >= hi         ? (int64_t)hi
                                         : (int64_t)trunc(v);
        ck_assert_msg(hlo_literal_get_s64(r, b) == want, "%s 0x%02x to %s: %lld, expected %lld",
                      hlo_type_name(f->t), b, hlo_type_name(to[j]),
                      (long long)hlo_literal_get_s64(r, b), (long long)want);
      }
      hlo_literal_free(r);
    }
  }
}
END_TEST

static HloLiteral *eval_text(const char *text) {
  HloModule *m = ck_parse_verified(text);
  HloLiteral *out = ck_evaluate(m, NULL, 0);
  hlo_module_free(m);
  return out;
}

/* Arithmetic on f8: computed in f32 and rounded once, on every pair of
 * f8e4m3fn and f8e5m2 values. */
START_TEST(small_float_arithmetic_rounds_from_f32) {
  HloType ts[] = {HLO_F8E4M3FN, HLO_F8E5M2, HLO_F4E2M1FN};
  const char *ops[] = {"add", "subtract", "multiply", "divide", "maximum"};
  for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) {
    const Fmt *f = NULL;
    for (int i = 0; i < NFMTS; i++)
      if (fmts[i].t == ts[k]) f = &fmts[i];
    int np = patterns(f), n = np * np;
    /* every pair (a, b) of encodings, as bits reinterpreted */
    const char *bits_type = f->kind == F4 ? "u4" : "u8";
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
      HloStr s = {0};
      hlo_str_printf(&s, "HloModule a\nENTRY e {\n  a = %s[%d] constant({", bits_type, n);
      for (int i = 0; i < n; i++) hlo_str_printf(&s, "%s%d", i ? ", " : "", i / np);
      hlo_str_printf(&s, "})\n  b = %s[%d] constant({", bits_type, n);
      for (int i = 0; i < n; i++) hlo_str_printf(&s, "%s%d", i ? ", " : "", i % np);
      hlo_str_printf(&s, "})\n  x = %s[%d] bitcast-convert(a)\n  y = %s[%d] bitcast-convert(b)\n"
                     "  ROOT r = %s[%d] %s(x, y)\n}\n",
                     hlo_type_name(f->t), n, hlo_type_name(f->t), n, hlo_type_name(f->t), n, ops[o]);
      HloLiteral *r = eval_text(s.buf);
      free(s.buf);
      for (int i = 0; i < n; i++) {
        float a = (float)ref_value(f, (unsigned)(i / np)), b = (float)ref_value(f, (unsigned)(i % np));
        float want = o == 0 ? a + b : o == 1 ? a - b : o == 2 ? a * b : o == 3 ? a / b
                     : isnan(a) ? a : isnan(b) ? b : a < b ? b : a;
        check_bits(f, r, i, want, ops[o]);
      }
      hlo_literal_free(r);
    }
  }
}
END_TEST

/* A quantized matmul: f8 operands, f32 result (operands converted first). */
START_TEST(small_float_dot_accumulates_in_result_type) {
  HloLiteral *r = eval_text(
      "HloModule d\nENTRY e {\n"
      "  a = f8e4m3fn[2,3] constant({ { 448, 0.5, -1.75 }, { 0.001953125, 3, 2 } })\n"
      "  b = f8e5m2[3,1] constant({ { 2 }, { 0.25 }, { 57344 } })\n"
      "  ROOT d = f32[2,1] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n");
  ck_assert_float_eq(((float *)r->data)[0], 896.0f + 0.125f - 1.75f * 57344.0f);
  ck_assert_float_eq(((float *)r->data)[1], 0.00390625f + 0.75f + 114688.0f);
  hlo_literal_free(r);
  /* An f8 result rounds the exact sum once. */
  r = eval_text(
      "HloModule d\nENTRY e {\n  a = f8e4m3fn[1,2] constant({ { 16, 1 } })\n"
      "  b = f8e4m3fn[2] constant({1, 1})\n"
      "  ROOT d = f8e4m3fn[1] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n");
  ck_assert_int_eq(((uint8_t *)r->data)[0], 0x58); /* 17 is a tie: 16 */
  hlo_literal_free(r);
  /* max-reduce identity is finite on a type without infinities */
  r = eval_text(
      "HloModule m\nmx {\n  a = f8e4m3fn[] parameter(0)\n  b = f8e4m3fn[] parameter(1)\n"
      "  ROOT m = f8e4m3fn[] maximum(a, b)\n}\nENTRY e {\n"
      "  x = f8e4m3fn[2,3] constant({ { -448, -2, -1 }, { -3, -0.5, -448 } })\n"
      "  z = f8e4m3fn[] constant(-448)\n"
      "  ROOT r = f8e4m3fn[2] reduce(x, z), dimensions={1}, to_apply=mx\n}\n");
  ck_assert_float_eq(hlo_literal_get_f64(r, 0), -1);
  ck_assert_float_eq(hlo_literal_get_f64(r, 1), -0.5);
  hlo_literal_free(r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* s2, u2, s4, u4                                                            */
/* ------------------------------------------------------------------------ */

static int64_t wrap(HloType t, int64_t v) {
  int bits = hlo_type_bits(t);
  int64_t m = v & ((1 << bits) - 1);
  return hlo_type_is_signed(t) && m >> (bits - 1) ? m - (1 << bits) : m;
}

/* XLA's integer ops at the type's width (on values already wrapped). */
static int64_t ref_int_op(const char *op, HloType t, int64_t a, int64_t b) {
  int bits = hlo_type_bits(t);
  bool sg = hlo_type_is_signed(t);
  int64_t min = sg ? -(1 << (bits - 1)) : 0;
  uint64_t ua = (uint64_t)a & ((1u << bits) - 1), ub = (uint64_t)b & ((1u << bits) - 1);
  if (!strcmp(op, "add")) return wrap(t, a + b);
  if (!strcmp(op, "subtract")) return wrap(t, a - b);
  if (!strcmp(op, "multiply")) return wrap(t, a * b);
  if (!strcmp(op, "divide")) return b == 0 ? wrap(t, -1) : sg && b == -1 && a == min ? a : wrap(t, a / b);
  if (!strcmp(op, "remainder")) return b == 0 ? a : sg && b == -1 ? 0 : wrap(t, a % b);
  if (!strcmp(op, "maximum")) return a > b ? a : b;
  if (!strcmp(op, "minimum")) return a < b ? a : b;
  if (!strcmp(op, "and")) return wrap(t, a & b);
  if (!strcmp(op, "or")) return wrap(t, a | b);
  if (!strcmp(op, "xor")) return wrap(t, a ^ b);
  if (!strcmp(op, "shift-left")) return ub >= (unsigned)bits ? 0 : wrap(t, (int64_t)(ua << ub));
  if (!strcmp(op, "shift-right-logical")) return ub >= (unsigned)bits ? 0 : wrap(t, (int64_t)(ua >> ub));
  /* shift-right-arithmetic: on the value read as signed */
  int64_t sa = wrap(HLO_S4 == t || HLO_U4 == t ? HLO_S4 : HLO_S2, a);
  return wrap(t, ub >= (unsigned)bits ? (sa < 0 ? -1 : 0) : sa >> ub);
}

START_TEST(sub_byte_integers_wrap_at_their_width) {
  HloType ts[] = {HLO_S4, HLO_U4, HLO_S2, HLO_U2};
  const char *ops[] = {"add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum",
                       "and", "or", "xor", "shift-left", "shift-right-logical",
                       "shift-right-arithmetic"};
  for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) {
    HloType t = ts[k];
    int bits = hlo_type_bits(t), np = 1 << bits, n = np * np;
    int64_t lo = hlo_type_is_signed(t) ? -(np / 2) : 0;
    for (size_t o = 0; o < sizeof ops / sizeof *ops; o++) {
      HloStr s = {0};
      hlo_str_printf(&s, "HloModule i\nENTRY e {\n  a = %s[%d] constant({", hlo_type_name(t), n);
      for (int i = 0; i < n; i++) hlo_str_printf(&s, "%s%lld", i ? ", " : "", (long long)(lo + i / np));
      hlo_str_printf(&s, "})\n  b = %s[%d] constant({", hlo_type_name(t), n);
      for (int i = 0; i < n; i++) hlo_str_printf(&s, "%s%lld", i ? ", " : "", (long long)(lo + i % np));
      hlo_str_printf(&s, "})\n  ROOT r = %s[%d] %s(a, b)\n}\n", hlo_type_name(t), n, ops[o]);
      HloLiteral *r = eval_text(s.buf);
      free(s.buf);
      for (int i = 0; i < n; i++) {
        int64_t a = lo + i / np, b = lo + i % np, want = ref_int_op(ops[o], t, a, b);
        ck_assert_msg(hlo_literal_get_s64(r, i) == want, "%s %s(%lld, %lld) = %lld, expected %lld",
                      hlo_type_name(t), ops[o], (long long)a, (long long)b,
                      (long long)hlo_literal_get_s64(r, i), (long long)want);
        /* the byte holds the value extended */
        ck_assert_int_eq(((int8_t *)r->data)[i], (int8_t)hlo_literal_get_s64(r, i));
      }
      hlo_literal_free(r);
    }
  }
  HloLiteral *r = eval_text(
      "HloModule u\nENTRY e {\n  a = s4[4] constant({-8, -1, 1, 0})\n"
      "  n = s4[4] negate(a)\n  p = s4[4] popcnt(a)\n  c = s4[4] count-leading-zeros(a)\n"
      "  x = s4[4] not(a)\n  b = s4[4] abs(a)\n"
      "  ROOT t = (s4[4], s4[4], s4[4], s4[4], s4[4]) tuple(n, p, c, x, b)\n}\n");
  const int64_t want[5][4] = {{-8, 1, -1, 0}, {1, 4, 1, 0}, {0, 0, 3, 4}, {7, 0, -2, -1}, {-8, 1, 1, 0}};
  for (int k = 0; k < 5; k++)
    for (int i = 0; i < 4; i++) ck_assert_int_eq(hlo_literal_get_s64(r->elems[k], i), want[k][i]);
  hlo_literal_free(r);
  /* converts: integers wrap, floats saturate */
  r = eval_text(
      "HloModule c\nENTRY e {\n  a = s32[4] constant({-9, 8, 100, 255})\n"
      "  f = f32[4] constant({-9.5, 7.9, nan, 1e9})\n"
      "  s = s4[4] convert(a)\n  u = u4[4] convert(a)\n  g = s4[4] convert(f)\n"
      "  w = s32[4] convert(s)\n  b = f4e2m1fn[4] bitcast-convert(u)\n"
      "  ROOT t = (s4[4], u4[4], s4[4], s32[4], f4e2m1fn[4]) tuple(s, u, g, w, b)\n}\n");
  const int64_t want2[4][4] = {{7, -8, 4, -1}, {7, 8, 4, 15}, {-8, 7, 0, 7}, {7, -8, 4, -1}};
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 4; i++) ck_assert_int_eq(hlo_literal_get_s64(r->elems[k], i), want2[k][i]);
  const double want_f4[4] = {6, -0.0, 2, -6};
  for (int i = 0; i < 4; i++) ck_assert_float_eq(hlo_literal_get_f64(r->elems[4], i), want_f4[i]);
  hlo_literal_free(r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* c64 and c128                                                              */
/* ------------------------------------------------------------------------ */

START_TEST(complex_arithmetic) {
  HloLiteral *r = eval_text(
      "HloModule c\nENTRY e {\n  a = c64[2] constant({(1, 2), (-3, 0.5)})\n"
      "  b = c64[2] constant({(0.5, -1), (2, 2)})\n"
      "  s = c64[2] add(a, b)\n  d = c64[2] subtract(a, b)\n  m = c64[2] multiply(a, b)\n"
      "  q = c64[2] divide(a, b)\n  n = c64[2] negate(a)\n  ab = f32[2] abs(a)\n"
      "  re = f32[2] real(a)\n  im = f32[2] imag(a)\n  z = c64[2] complex(im, re)\n"
      "  eq = pred[2] compare(a, z), direction=NE\n"
      "  ROOT t = (c64[2], c64[2], c64[2], c64[2], c64[2], f32[2], f32[2], f32[2], c64[2], pred[2]) "
      "tuple(s, d, m, q, n, ab, re, im, z, eq)\n}\n");
  float complex a[2] = {CMPLXF(1, 2), CMPLXF(-3, 0.5f)}, b[2] = {CMPLXF(0.5f, -1), CMPLXF(2, 2)};
  for (int i = 0; i < 2; i++) {
    float complex want[5] = {a[i] + b[i], a[i] - b[i], a[i] * b[i], a[i] / b[i], -a[i]};
    for (int k = 0; k < 5; k++)
      ck_assert_msg(((float complex *)r->elems[k]->data)[i] == want[k], "op %d element %d", k, i);
    ck_assert_float_eq_tol(((float *)r->elems[5]->data)[i], cabsf(a[i]), 1e-6);
    ck_assert_float_eq(((float *)r->elems[6]->data)[i], crealf(a[i]));
    ck_assert_float_eq(((float *)r->elems[7]->data)[i], cimagf(a[i]));
    ck_assert(((float complex *)r->elems[8]->data)[i] == CMPLXF(cimagf(a[i]), crealf(a[i])));
    ck_assert_int_eq(((uint8_t *)r->elems[9]->data)[i], 1);
  }
  hlo_literal_free(r);
  /* converts: real to complex sets the imaginary part to 0; c64 <-> c128 */
  r = eval_text(
      "HloModule c\nENTRY e {\n  f = f32[2] constant({1.5, -2})\n  s = s32[1] constant({7})\n"
      "  a = c64[2] convert(f)\n  b = c128[2] convert(a)\n  c = c128[1] convert(s)\n"
      "  ROOT t = (c64[2], c128[2], c128[1]) tuple(a, b, c)\n}\n");
  ck_assert(((float complex *)r->elems[0]->data)[1] == CMPLXF(-2, 0));
  ck_assert(((double complex *)r->elems[1]->data)[0] == CMPLX(1.5, 0));
  ck_assert(((double complex *)r->elems[2]->data)[0] == CMPLX(7, 0));
  hlo_literal_free(r);
  /* dot with complex operands, and exp */
  r = eval_text(
      "HloModule d\nENTRY e {\n  a = c64[1,2] constant({ { (1, 1), (0, 2) } })\n"
      "  b = c64[2] constant({(2, 0), (1, -1)})\n"
      "  d = c64[1] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  x = c128[] constant((0, 3.141592653589793))\n  y = c128[] exponential(x)\n"
      "  ROOT t = (c64[1], c128[]) tuple(d, y)\n}\n");
  ck_assert(((float complex *)r->elems[0]->data)[0] == CMPLXF(4, 4));
  double complex y = ((double complex *)r->elems[1]->data)[0];
  ck_assert_double_eq_tol(creal(y), -1, 1e-15);
  ck_assert_double_eq_tol(cimag(y), 0, 1e-15);
  hlo_literal_free(r);
}
END_TEST

START_TEST(complex_rules_in_the_verifier) {
  const char *bad[][2] = {
      {"  a = c64[2] parameter(0)\n  ROOT r = f32[2] convert(a)\n", "real() or imag()"},
      {"  a = c64[2] parameter(0)\n  ROOT r = pred[2] compare(a, a), direction=LT\n", "EQ and NE"},
      {"  a = c64[2] parameter(0)\n  ROOT r = c64[2] maximum(a, a)\n", "complex is not"},
      {"  a = s32[2] parameter(0)\n  ROOT r = c64[2] complex(a, a)\n", "f32 or f64"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    HloStr s = {0};
    hlo_str_printf(&s, "HloModule v\nENTRY e {\n%s}\n", bad[i][0]);
    HloModule *m = ck_parse(s.buf);
    HloError *e = hlo_verify(m);
    ck_assert_msg(e && strstr(hlo_error_message(e), bad[i][1]), "%s: %s", s.buf,
                  e ? hlo_error_message(e) : "verified");
    hlo_error_free(e);
    hlo_module_free(m);
    free(s.buf);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_types");
  TCase *t = tcase_create("types");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, small_floats_widen_exactly);
  tcase_add_test(t, small_floats_convert_pairwise);
  tcase_add_test(t, small_floats_round_from_wide_floats);
  tcase_add_test(t, small_floats_and_integers);
  tcase_add_test(t, small_float_arithmetic_rounds_from_f32);
  tcase_add_test(t, small_float_dot_accumulates_in_result_type);
  tcase_add_test(t, sub_byte_integers_wrap_at_their_width);
  tcase_add_test(t, complex_arithmetic);
  tcase_add_test(t, complex_rules_in_the_verifier);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
