/*
 * narrow.c — the element types narrower than a byte or than f16: the
 * sub-byte integers s2, u2, s4, u4 and the float formats XLA takes from
 * ml_dtypes (f8e4m3fn, f8e5m2, f8e4m3fnuz, f8e5m2fnuz, f8e4m3b11fnuz,
 * f8e4m3, f8e3m4, f8e8m0fnu, f4e2m1fn).
 *
 * Each float format is data: exponent and mantissa widths, bias and a kind
 * saying which special values exist (hlo.h).  One decoder and one encoder
 * read that table, and codegen/scalar.c builds its kernel code from the
 * same table, so the interpreter and compiled code cannot disagree on a
 * format's definition.  The encoder is XLA's convert, which is ml_dtypes'
 * (checked against it on every f32 bit pattern class when written):
 * exact round-to-nearest-even on the magnitude's integer significand, then
 * the kind's overflow rule.  Two rules are ml_dtypes' own and are kept
 * because XLA's evaluator inherits them: f8e8m0fnu rounds ties up, and a
 * NaN converted to f4e2m1fn (which has none) becomes -0 (+NaN) or +0
 * (-NaN).
 *
 * Doubles are rounded once: they are first rounded to f32 with
 * round-to-odd, which keeps enough information (f32's 24 bits against at
 * most 4 here) for the second rounding to equal the direct one.
 */
#include "hlo.h"

#include <math.h>
#include <string.h>

static const HloSmallFloat formats[] = {
    [HLO_F8E4M3FN] = {4, 3, 7, HLO_SF_FN},
    [HLO_F8E5M2] = {5, 2, 15, HLO_SF_IEEE},
    [HLO_F8E4M3FNUZ] = {4, 3, 8, HLO_SF_FNUZ},
    [HLO_F8E5M2FNUZ] = {5, 2, 16, HLO_SF_FNUZ},
    [HLO_F8E4M3B11FNUZ] = {4, 3, 11, HLO_SF_FNUZ},
    [HLO_F8E4M3] = {4, 3, 7, HLO_SF_IEEE},
    [HLO_F8E3M4] = {3, 4, 3, HLO_SF_IEEE},
    [HLO_F8E8M0FNU] = {8, 0, 127, HLO_SF_E8M0},
    [HLO_F4E2M1FN] = {2, 1, 1, HLO_SF_F4},
};

const HloSmallFloat *hlo_small_float(HloType t) {
  if ((size_t)t >= sizeof formats / sizeof formats[0] || formats[t].ebits == 0) return NULL;
  return &formats[t];
}

static float from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}

static uint32_t to_bits(float f) {
  uint32_t b;
  memcpy(&b, &f, 4);
  return b;
}

float hlo_small_to_f32(HloType t, uint8_t bits) {
  const HloSmallFloat *F = hlo_small_float(t);
  HLO_CHECK(F);
  int E = F->ebits, M = F->mbits;
  if (F->kind == HLO_SF_E8M0)
    return bits == 0xff ? NAN : ldexpf(1.0f, (int)bits - 127);
  uint32_t sign = (bits >> (E + M)) & 1;
  uint32_t e = (bits >> M) & ((1u << E) - 1), m = bits & ((1u << M) - 1);
  uint32_t eall = (1u << E) - 1, mall = (1u << M) - 1;
  float nan = from_bits(sign << 31 | 0x7fc00000u);
  switch (F->kind) {
  case HLO_SF_IEEE:
    if (e == eall) return m ? nan : sign ? -INFINITY : INFINITY;
    break;
  case HLO_SF_FN:
    if (e == eall && m == mall) return nan;
    break;
  case HLO_SF_FNUZ:
    if (bits == 0x80) return -NAN; /* its sign bit is set */
    break;
  default:
    break;
  }
  /* Exact in f32: at most 5 significant bits, exponents within ±2^7. */
  float v = e == 0 ? ldexpf((float)m, 1 - F->bias - M)
                   : ldexpf((float)((1u << M) | m), (int)e - F->bias - M);
  return sign ? -v : v;
}

uint8_t hlo_small_from_f32(HloType t, float f) {
  const HloSmallFloat *F = hlo_small_float(t);
  HLO_CHECK(F);
  int E = F->ebits, M = F->mbits, B = F->bias;
  uint32_t u = to_bits(f), sign = u >> 31, a = u & 0x7fffffffu;
  bool e8m0 = F->kind == HLO_SF_E8M0;
  uint32_t sbit = e8m0 ? 0 : sign << (E + M);
  if (a > 0x7f800000u) { /* NaN */
    switch (F->kind) {
    case HLO_SF_IEEE: return (uint8_t)(sbit | ((1u << E) - 1) << M | 1u << (M - 1));
    case HLO_SF_FN: return (uint8_t)(sbit | ((1u << (E + M)) - 1));
    case HLO_SF_F4: return (uint8_t)(sign ? 0 : 1u << (E + M));
    default: return 0x80 | (e8m0 ? 0x7f : 0);
    }
  }
  if (e8m0 && (sign || a == 0)) return 0xff;
  if (a == 0) return (uint8_t)(F->kind == HLO_SF_FNUZ ? 0 : sbit);
  /* |f| = S × 2^s with an integer significand S; k is its binade (f32
   * subnormals lie below every format's smallest binade but e8m0's). */
  uint32_t fe = a >> 23;
  uint32_t S = fe ? (a & 0x7fffff) | 0x800000 : a;
  int s = fe ? (int)fe - 150 : -149;
  int k = fe ? (int)fe - 127 : 31 - __builtin_clz(a) - 149;
  /* Formats with subnormals hold binade k at quantum 2^(max(k,emin)-M);
   * e8m0 has none: its smallest binade, 2^-127, is a normal one. */
  int emin = e8m0 ? -B : 1 - B;
  int kk = k > emin ? k : emin;
  int r = kk - M - s; /* bits to drop, >= 1 for every format here */
  uint32_t N = r > 31 ? 0 : S >> r;
  uint64_t rem = r > 31 ? S : S & ((1u << r) - 1);
  uint64_t half = r > 32 ? (uint64_t)1 << 32 : (uint64_t)1 << (r - 1);
  if (e8m0 ? rem >= half : rem > half || (rem == half && (N & 1))) N++;
  /* N counts quanta and includes the implicit bit, so the encoding is the
   * binade's exponent field above the significand (a carry into the next
   * binade lands right). */
  int64_t enc = ((int64_t)(kk - emin) << M) + N - (e8m0 ? 1 : 0);
  if (e8m0) return (uint8_t)(enc < 0 ? 0 : enc > 0xfe ? 0xff : enc);
  int64_t max;
  switch (F->kind) {
  case HLO_SF_IEEE: max = ((int64_t)((1 << E) - 1) << M) - 1; break;
  case HLO_SF_FN: max = (1 << (E + M)) - 2; break;
  default: max = (1 << (E + M)) - 1; break;
  }
  if (enc > max) {
    switch (F->kind) {
    case HLO_SF_IEEE: return (uint8_t)(sbit | ((1u << E) - 1) << M);
    case HLO_SF_FN: return (uint8_t)(sbit | (uint32_t)(max + 1));
    case HLO_SF_FNUZ: return 0x80;
    default: return (uint8_t)(sbit | (uint32_t)max);
    }
  }
  if (enc == 0 && F->kind == HLO_SF_FNUZ) return 0;
  return (uint8_t)(sbit | (uint32_t)enc);
}

float hlo_f64_to_f32_odd(double d) {
  float f = (float)d;
  if (isnan(d) || (double)f == d) return f;
  if (isinf(f)) return copysignf(3.40282347e38f, f);
  uint32_t b = to_bits(f);
  if (b & 1) return f;
  /* f is even and inexact: the odd neighbour on d's side. */
  b += fabs((double)f) < fabs(d) ? 1 : -1;
  return from_bits(b);
}

uint8_t hlo_small_from_f64(HloType t, double d) {
  return hlo_small_from_f32(t, hlo_f64_to_f32_odd(d));
}

int64_t hlo_small_int_wrap(HloType t, int64_t v) {
  switch (t) {
  case HLO_S2: return (int64_t)((uint64_t)v << 62) >> 62;
  case HLO_S4: return (int64_t)((uint64_t)v << 60) >> 60;
  case HLO_U2: return v & 3;
  case HLO_U4: return v & 15;
  default: return v;
  }
}
