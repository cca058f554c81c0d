/*
 * scalar.c — XLA's element-type semantics on register values: constants,
 * f16/bf16 encoding, elementwise unary and binary ops, compare, convert,
 * bitcast-convert of equal widths.
 *
 * The reference is hlo/evaluator.c, and every rule here matches it bit for
 * bit (the tests compare integer results and non-transcendental float
 * results exactly):
 *   - f16/bf16 compute in f32 and round back to nearest even.  The
 *     conversions are written in integer ops, so no half-precision libcall
 *     is ever emitted and every target rounds identically;
 *   - integer arithmetic wraps; x/0 is all ones, x%0 is x, MIN/-1 is MIN,
 *     MIN%-1 is 0; shift amounts are unsigned and out-of-range shifts fill
 *     (0, or the sign for arithmetic right shifts);
 *   - float maximum/minimum: a NaN operand wins (the first when both are),
 *     otherwise max(a, b) = a < b ? b : a and min(a, b) = b < a ? b : a;
 *   - float → integer converts saturate and NaN → 0; integer → f16/bf16
 *     and f64 → f16/bf16 go through f32;
 *   - integer power by squaring, wrapping; a negative exponent gives 0
 *     except for the bases 1 (→ 1) and -1 (→ ±1);
 *   - the f8/f4 types are i8 registers holding their bits: they compute in
 *     f32 like f16, through a decoder and a round-to-nearest-even encoder
 *     built from hlo/narrow.c's table of formats (the same definitions the
 *     evaluator uses); f64 → f8/f4 rounds to f32 with round-to-odd first,
 *     so it rounds once, like the evaluator;
 *   - s2/s4/u2/u4 are i8 registers holding the value sign- or
 *     zero-extended: they compute as s8/u8 and wrap back to their width
 *     (logical shifts, popcount and clz read the value zero-extended).
 * Transcendentals and rounding ops are delegated to math.c.
 *
 * LLVM's shifts and fptosi/fptoui are poison out of range; every such
 * value below is discarded by a select on the out-of-range condition,
 * which LLVM defines to be safe.
 *
 * Every op takes its types from its operands, lanes included: the same
 * code computes an element or a vector of elements (a register tile's
 * epilogue).  Constants are made "like" an operand (K, KI).
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Types and constants                                                      */
/* ------------------------------------------------------------------------ */

KirType cg_reg_type(HloType t) {
  switch (t) {
  case HLO_PRED: return kir_scalar(KIR_I1);
  case HLO_S8: case HLO_U8: return kir_scalar(KIR_I8);
  case HLO_S16: case HLO_U16: case HLO_F16: case HLO_BF16: return kir_scalar(KIR_I16);
  case HLO_S32: case HLO_U32: return kir_scalar(KIR_I32);
  case HLO_S64: case HLO_U64: return kir_scalar(KIR_I64);
  case HLO_F32: return kir_scalar(KIR_F32);
  case HLO_F64: return kir_scalar(KIR_F64);
  default:
    /* s2/s4/u2/u4 and the f8/f4 types, one per byte; complex types never
     * get here (cg_legalize refuses them). */
    HLO_CHECK(hlo_type_size(t) == 1);
    return kir_scalar(KIR_I8);
  }
}

static bool sub_byte_int(HloType t) {
  return t == HLO_S2 || t == HLO_S4 || t == HLO_U2 || t == HLO_U4;
}

KirElem cg_mem_elem(HloType t) {
  return t == HLO_PRED ? KIR_I8 : (KirElem)cg_reg_type(t).elem;
}

int cg_type_bits(HloType t) {
  return t == HLO_PRED ? 1 : (int)hlo_type_size(t) * 8;
}

KirElem cg_float_elem(HloType t) { return t == HLO_F64 ? KIR_F64 : KIR_F32; }

static HloType float_compute(HloType t) {
  return t == HLO_F64 ? HLO_F64 : HLO_F32;
}

/* The type of element kind e with v's lanes. */
static KirType like(const CgFn *f, CgVal v, KirElem e) {
  return kir_vector(e, cg_type(f, v).lanes);
}

/* A constant of v's type (lanes included) holding the integer c; KF: the
 * float c, of element kind e with v's lanes. */
static CgVal KI(CgFn *f, CgVal v, int64_t c) { return kir_const_int(&f->b, cg_type(f, v), c); }
static CgVal KF(CgFn *f, CgVal v, KirElem e, double c) {
  return kir_const_float(&f->b, like(f, v, e), c);
}

static CgVal bin(CgFn *f, KirOpcode op, CgVal a, CgVal b) { return kir_binop(&f->b, op, a, b); }
static CgVal cast(CgFn *f, KirOpcode op, CgVal v, KirElem e) {
  return kir_cast(&f->b, op, v, like(f, v, e));
}
static CgVal fcmp(CgFn *f, KirFPred p, CgVal a, CgVal b) { return kir_cmpf(&f->b, p, a, b); }

CgVal cg_const_bits(CgFn *f, HloType t, uint64_t bits) {
  return kir_const(&f->b, cg_reg_type(t), bits);
}

CgVal cg_const(CgFn *f, HloType t, double v) {
  uint64_t bits;
  switch (t) {
  case HLO_PRED: bits = v != 0; break;
  case HLO_F16: bits = hlo_f32_to_f16((float)v); break;
  case HLO_BF16: bits = hlo_f32_to_bf16((float)v); break;
  case HLO_F32: {
    float x = (float)v;
    uint32_t b;
    memcpy(&b, &x, 4);
    bits = b;
    break;
  }
  case HLO_F64: memcpy(&bits, &v, 8); break;
  default:
    if (hlo_small_float(t)) bits = hlo_small_from_f64(t, v);
    else bits = hlo_type_is_signed(t) ? (uint64_t)(int64_t)v : (uint64_t)v;
    if (sub_byte_int(t)) bits = (uint64_t)hlo_small_int_wrap(t, (int64_t)bits);
    break;
  }
  return cg_const_bits(f, t, bits);
}

CgVal cg_literal_elem(CgFn *f, const HloLiteral *l, int64_t i) {
  size_t size = hlo_type_size(l->shape.type);
  uint64_t bits = 0;
  memcpy(&bits, (const char *)l->data + i * (int64_t)size, size);
  return cg_const_bits(f, l->shape.type, bits);
}

/* ------------------------------------------------------------------------ */
/* f16 and bf16                                                              */
/* ------------------------------------------------------------------------ */

static CgVal f16_to_f32(CgFn *f, CgVal h) {
  CgVal w = cast(f, KIR_EXTUI, h, KIR_I32);
  CgVal sign = bin(f, KIR_ANDI, w, KI(f, w, 0x8000));
  sign = bin(f, KIR_SHLI, sign, KI(f, w, 16));
  CgVal em = bin(f, KIR_ANDI, w, KI(f, w, 0x7fff));
  CgVal exp = bin(f, KIR_SHRUI, em, KI(f, w, 10));
  CgVal mant = bin(f, KIR_ANDI, em, KI(f, w, 0x3ff));
  CgVal shifted = bin(f, KIR_SHLI, em, KI(f, w, 13));
  /* Normal numbers: rebias the exponent by 127 - 15. */
  CgVal normal = bin(f, KIR_ADDI, shifted, KI(f, w, 112 << 23));
  CgVal infnan = bin(f, KIR_ORI, shifted, KI(f, w, 0x7f800000));
  /* Subnormals and zero: mant × 2^-24, exact in f32. */
  CgVal sf = cast(f, KIR_UITOFP, mant, KIR_F32);
  sf = bin(f, KIR_MULF, sf, KF(f, w, KIR_F32, 0x1p-24));
  CgVal sub = cast(f, KIR_BITCAST, sf, KIR_I32);
  CgVal r = cg_select(f, cg_icmp(f, KIR_EQ, exp, KI(f, w, 31)), infnan, normal);
  r = cg_select(f, cg_icmp(f, KIR_EQ, exp, KI(f, w, 0)), sub, r);
  r = bin(f, KIR_ORI, r, sign);
  return cast(f, KIR_BITCAST, r, KIR_F32);
}

/* Round to nearest even (F. Giesen's float_to_half_fast3_rtne). */
static CgVal f32_to_f16(CgFn *f, CgVal x) {
  CgVal u = cast(f, KIR_BITCAST, x, KIR_I32);
  CgVal sign = bin(f, KIR_ANDI, u, KI(f, u, INT32_MIN));
  CgVal a = bin(f, KIR_XORI, u, sign);
  /* |x| >= 65520 rounds to infinity; NaN stays a (quiet) NaN. */
  CgVal big = cg_select(f, cg_icmp(f, KIR_UGT, a, KI(f, u, 0x7f800000)), KI(f, u, 0x7e00),
                        KI(f, u, 0x7c00));
  /* Results below the smallest normal: let the f32 adder round by adding
   * 0.5, whose exponent puts the f16 subnormal bits at the bottom. */
  CgVal af = cast(f, KIR_BITCAST, a, KIR_F32);
  CgVal fl = bin(f, KIR_ADDF, af, KF(f, u, KIR_F32, 0.5));
  CgVal small = cast(f, KIR_BITCAST, fl, KIR_I32);
  small = bin(f, KIR_SUBI, small, KI(f, u, 0x3f000000));
  /* Normal: rebias, add the rounding bias plus the odd bit, drop 13 bits. */
  CgVal odd = bin(f, KIR_SHRUI, a, KI(f, u, 13));
  odd = bin(f, KIR_ANDI, odd, KI(f, u, 1));
  CgVal n = bin(f, KIR_ADDI, a, KI(f, u, -(112 << 23) + 0xfff));
  n = bin(f, KIR_ADDI, n, odd);
  n = bin(f, KIR_SHRUI, n, KI(f, u, 13));
  CgVal r = cg_select(f, cg_icmp(f, KIR_ULT, a, KI(f, u, 0x38800000)), small, n);
  r = cg_select(f, cg_icmp(f, KIR_UGE, a, KI(f, u, 0x47800000)), big, r);
  CgVal s16 = bin(f, KIR_SHRUI, sign, KI(f, u, 16));
  r = bin(f, KIR_ORI, r, s16);
  return cast(f, KIR_TRUNCI, r, KIR_I16);
}

static CgVal bf16_to_f32(CgFn *f, CgVal h) {
  CgVal w = cast(f, KIR_EXTUI, h, KIR_I32);
  w = bin(f, KIR_SHLI, w, KI(f, w, 16));
  return cast(f, KIR_BITCAST, w, KIR_F32);
}

static CgVal f32_to_bf16(CgFn *f, CgVal x) {
  CgVal u = cast(f, KIR_BITCAST, x, KIR_I32);
  CgVal hi = bin(f, KIR_SHRUI, u, KI(f, u, 16));
  CgVal lsb = bin(f, KIR_ANDI, hi, KI(f, u, 1));
  CgVal r = bin(f, KIR_ADDI, u, KI(f, u, 0x7fff));
  r = bin(f, KIR_ADDI, r, lsb);
  r = bin(f, KIR_SHRUI, r, KI(f, u, 16));
  CgVal qnan = bin(f, KIR_ORI, hi, KI(f, u, 0x40));
  CgVal isnan = fcmp(f, KIR_UNO, x, x);
  r = cg_select(f, isnan, qnan, r);
  return cast(f, KIR_TRUNCI, r, KIR_I16);
}

/* ------------------------------------------------------------------------ */
/* f8 and f4 (hlo/narrow.c's formats, the same algorithm in vector ops)       */
/* ------------------------------------------------------------------------ */

static CgVal sel(CgFn *f, CgVal c, CgVal a, CgVal b) { return cg_select(f, c, a, b); }
static CgVal eqc(CgFn *f, CgVal v, int64_t c) { return cg_icmp(f, KIR_EQ, v, KI(f, v, c)); }

static CgVal small_to_f32(CgFn *f, CgVal h, HloType t) {
  const HloSmallFloat *F = hlo_small_float(t);
  int E = F->ebits, M = F->mbits, B = F->bias;
  CgVal w = cast(f, KIR_EXTUI, h, KIR_I32);
  if (F->kind == HLO_SF_E8M0) {
    /* 2^(w-127) has f32 exponent field w; w = 0 is the f32 subnormal
     * 2^-127 and 0xff the NaN. */
    CgVal r = bin(f, KIR_SHLI, w, KI(f, w, 23));
    r = sel(f, eqc(f, w, 0), KI(f, w, 0x00400000), r);
    r = sel(f, eqc(f, w, 0xff), KI(f, w, 0x7fc00000), r);
    return cast(f, KIR_BITCAST, r, KIR_F32);
  }
  int64_t emask = (1 << E) - 1, mmask = (1 << M) - 1;
  CgVal sign = bin(f, KIR_ANDI, w, KI(f, w, 1 << (E + M)));
  sign = bin(f, KIR_SHLI, sign, KI(f, w, 31 - E - M));
  CgVal e = bin(f, KIR_ANDI, bin(f, KIR_SHRUI, w, KI(f, w, M)), KI(f, w, emask));
  CgVal m = bin(f, KIR_ANDI, w, KI(f, w, mmask));
  CgVal normal = bin(f, KIR_SHLI, bin(f, KIR_ADDI, e, KI(f, w, 127 - B)), KI(f, w, 23));
  normal = bin(f, KIR_ORI, normal, bin(f, KIR_SHLI, m, KI(f, w, 23 - M)));
  /* Subnormals and zero: m × 2^(1-bias-M), exact in f32. */
  CgVal sf = cast(f, KIR_UITOFP, m, KIR_F32);
  sf = bin(f, KIR_MULF, sf, KF(f, w, KIR_F32, ldexp(1.0, 1 - B - M)));
  CgVal r = sel(f, eqc(f, e, 0), cast(f, KIR_BITCAST, sf, KIR_I32), normal);
  switch (F->kind) {
  case HLO_SF_IEEE: {
    CgVal special = sel(f, eqc(f, m, 0), KI(f, w, 0x7f800000), KI(f, w, 0x7fc00000));
    r = sel(f, eqc(f, e, emask), special, r);
    break;
  }
  case HLO_SF_FN:
    r = sel(f, eqc(f, bin(f, KIR_ANDI, w, KI(f, w, (1 << (E + M)) - 1)), (1 << (E + M)) - 1),
            KI(f, w, 0x7fc00000), r);
    break;
  case HLO_SF_FNUZ: /* the -0 pattern; the sign below makes it -NaN */
    r = sel(f, eqc(f, w, 0x80), KI(f, w, 0x7fc00000), r);
    break;
  default:
    break;
  }
  r = bin(f, KIR_ORI, r, sign);
  return cast(f, KIR_BITCAST, r, KIR_F32);
}

/* XLA's convert f32 → t: the integer significand S × 2^s of |x| shifted
 * right by r = max(k, emin) - M - s bits with round to nearest even (e8m0:
 * ties up), the binade's exponent field added above it, then the kind's
 * overflow, zero and NaN rules (hlo_small_from_f32 is the same steps). */
static CgVal f32_to_small(CgFn *f, CgVal x, HloType t) {
  const HloSmallFloat *F = hlo_small_float(t);
  int E = F->ebits, M = F->mbits, B = F->bias;
  bool e8m0 = F->kind == HLO_SF_E8M0;
  int emin = e8m0 ? -B : 1 - B;
  CgVal u = cast(f, KIR_BITCAST, x, KIR_I32);
  CgVal sign = bin(f, KIR_SHRUI, u, KI(f, u, 31));
  CgVal a = bin(f, KIR_ANDI, u, KI(f, u, 0x7fffffff));
  CgVal fe = bin(f, KIR_SHRUI, a, KI(f, u, 23));
  CgVal fe0 = eqc(f, fe, 0);
  CgVal S = sel(f, fe0, a, bin(f, KIR_ORI, bin(f, KIR_ANDI, a, KI(f, u, 0x7fffff)),
                               KI(f, u, 0x800000)));
  CgVal s = sel(f, fe0, KI(f, u, -149), bin(f, KIR_SUBI, fe, KI(f, u, 150)));
  /* f32 subnormals lie below every format's smallest binade (e8m0's is
   * 2^-127, where k = -127 is also right). */
  CgVal k = bin(f, KIR_SUBI, fe, KI(f, u, 127));
  CgVal kk = bin(f, KIR_MAXSI, k, KI(f, u, emin));
  CgVal r = bin(f, KIR_SUBI, bin(f, KIR_SUBI, kk, KI(f, u, M)), s);
  r = bin(f, KIR_MINSI, r, KI(f, u, 31)); /* >= 32 drops all of S too */
  CgVal N = bin(f, KIR_SHRUI, S, r);
  CgVal one = KI(f, u, 1);
  CgVal rem = bin(f, KIR_ANDI, S, bin(f, KIR_SUBI, bin(f, KIR_SHLI, one, r), one));
  CgVal half = bin(f, KIR_SHLI, one, bin(f, KIR_SUBI, r, one));
  CgVal up;
  if (e8m0) {
    up = cg_icmp(f, KIR_UGE, rem, half);
  } else {
    CgVal odd = cg_icmp(f, KIR_NE, bin(f, KIR_ANDI, N, one), KI(f, u, 0));
    up = bin(f, KIR_ORI, cg_icmp(f, KIR_UGT, rem, half),
             cg_and(f, cg_icmp(f, KIR_EQ, rem, half), odd));
  }
  N = bin(f, KIR_ADDI, N, cast(f, KIR_EXTUI, up, KIR_I32));
  CgVal enc = bin(f, KIR_SHLI, bin(f, KIR_SUBI, kk, KI(f, u, emin)), KI(f, u, M));
  enc = bin(f, KIR_ADDI, enc, N);
  CgVal isnan = cg_icmp(f, KIR_UGT, a, KI(f, u, 0x7f800000));
  CgVal res;
  if (e8m0) {
    enc = bin(f, KIR_SUBI, enc, one);
    res = bin(f, KIR_MAXSI, enc, KI(f, u, 0));
    res = sel(f, cg_icmp(f, KIR_SGT, enc, KI(f, u, 0xfe)), KI(f, u, 0xff), res);
    CgVal bad = bin(f, KIR_ORI, bin(f, KIR_ORI, eqc(f, sign, 1), eqc(f, a, 0)), isnan);
    res = sel(f, bad, KI(f, u, 0xff), res);
  } else {
    int64_t eall = (1 << E) - 1, max;
    switch (F->kind) {
    case HLO_SF_IEEE: max = (eall << M) - 1; break;
    case HLO_SF_FN: max = (1 << (E + M)) - 2; break;
    default: max = (1 << (E + M)) - 1; break;
    }
    CgVal sbit = bin(f, KIR_SHLI, sign, KI(f, u, E + M));
    CgVal ovf, nan;
    switch (F->kind) {
    case HLO_SF_IEEE:
      ovf = bin(f, KIR_ORI, sbit, KI(f, u, eall << M));
      nan = bin(f, KIR_ORI, sbit, KI(f, u, eall << M | 1 << (M - 1)));
      break;
    case HLO_SF_FN:
      ovf = nan = bin(f, KIR_ORI, sbit, KI(f, u, max + 1));
      break;
    case HLO_SF_FNUZ:
      ovf = nan = KI(f, u, 0x80);
      break;
    default: /* f4e2m1fn: saturates; NaN becomes -0 (+NaN) or +0 (-NaN) */
      ovf = bin(f, KIR_ORI, sbit, KI(f, u, max));
      nan = sel(f, eqc(f, sign, 1), KI(f, u, 0), KI(f, u, 1 << (E + M)));
      break;
    }
    res = bin(f, KIR_ORI, sbit, enc);
    if (F->kind == HLO_SF_FNUZ) res = sel(f, eqc(f, enc, 0), KI(f, u, 0), res);
    res = sel(f, cg_icmp(f, KIR_SGT, enc, KI(f, u, max)), ovf, res);
    res = sel(f, isnan, nan, res);
  }
  return cast(f, KIR_TRUNCI, res, KIR_I8);
}

/* An f64 rounded to f32 with round-to-odd (hlo_f64_to_f32_odd): an inexact
 * result whose last bit is even moves one step toward the f64 (an overflow
 * to inf comes back to FLT_MAX). */
static CgVal f64_to_f32_odd(CgFn *f, CgVal d) {
  CgVal x = cast(f, KIR_TRUNCF, d, KIR_F32);
  CgVal back = cast(f, KIR_EXTF, x, KIR_F64);
  CgVal inexact = fcmp(f, KIR_ONE, back, d);
  CgVal b = cast(f, KIR_BITCAST, x, KIR_I32);
  CgVal even = eqc(f, bin(f, KIR_ANDI, b, KI(f, b, 1)), 0);
  CgVal toward = fcmp(f, KIR_OLT, kir_unop(&f->b, KIR_ABSF, back), kir_unop(&f->b, KIR_ABSF, d));
  CgVal step = sel(f, toward, KI(f, b, 1), KI(f, b, -1));
  b = sel(f, cg_and(f, inexact, even), bin(f, KIR_ADDI, b, step), b);
  return cast(f, KIR_BITCAST, b, KIR_F32);
}

CgVal cg_to_float(CgFn *f, CgVal v, HloType t) {
  if (t == HLO_F16) return f16_to_f32(f, v);
  if (t == HLO_BF16) return bf16_to_f32(f, v);
  if (hlo_small_float(t)) return small_to_f32(f, v, t);
  return v;
}

CgVal cg_from_float(CgFn *f, CgVal v, HloType t) {
  if (t == HLO_F16) return f32_to_f16(f, v);
  if (t == HLO_BF16) return f32_to_bf16(f, v);
  if (hlo_small_float(t)) return f32_to_small(f, v, t);
  return v;
}

/* ------------------------------------------------------------------------ */
/* s2, s4, u2, u4                                                            */
/* ------------------------------------------------------------------------ */

static CgVal zext_bits(CgFn *f, CgVal v, HloType t) {
  return bin(f, KIR_ANDI, v, KI(f, v, (1 << hlo_type_bits(t)) - 1));
}

static CgVal sext_bits(CgFn *f, CgVal v, HloType t) {
  CgVal sh = KI(f, v, 8 - hlo_type_bits(t));
  return bin(f, KIR_SHRSI, bin(f, KIR_SHLI, v, sh), sh);
}

/* An i8 result wrapped to t's width, extended as t keeps it. */
static CgVal wrap_to(CgFn *f, CgVal v, HloType t) {
  return hlo_type_is_signed(t) ? sext_bits(f, v, t) : zext_bits(f, v, t);
}

/* ------------------------------------------------------------------------ */
/* Unary ops                                                                 */
/* ------------------------------------------------------------------------ */

static CgVal int_sign(CgFn *f, CgVal a) {
  CgVal zero = KI(f, a, 0);
  CgVal r = cg_select(f, cg_icmp(f, KIR_SLT, a, zero), KI(f, a, -1), zero);
  return cg_select(f, cg_icmp(f, KIR_SGT, a, zero), KI(f, a, 1), r);
}

static CgVal float_unary(CgFn *f, const HloInstr *x, HloType t, CgVal a) {
  KirElem fe = cg_float_elem(t);
  CgVal v = cg_to_float(f, a, t), r;
  switch (x->op) {
  case HLO_OP_NEGATE:
    r = kir_unop(&f->b, KIR_NEGF, v);
    break;
  case HLO_OP_ABS:
    r = kir_unop(&f->b, KIR_ABSF, v);
    break;
  case HLO_OP_SIGN: {
    /* ±1 by sign; ±0 and NaN are their own sign. */
    CgVal zero = KF(f, v, fe, 0.0);
    CgVal neg = fcmp(f, KIR_OLT, v, zero);
    CgVal pos = fcmp(f, KIR_OGT, v, zero);
    r = cg_select(f, neg, KF(f, v, fe, -1.0), v);
    r = cg_select(f, pos, KF(f, v, fe, 1.0), r);
    break;
  }
  case HLO_OP_IS_FINITE: {
    CgVal abs = kir_unop(&f->b, KIR_ABSF, v);
    return fcmp(f, KIR_ONE, abs, KF(f, v, fe, INFINITY));
  }
  default:
    if (!cg_math_handles(x->op)) {
      cg_fail_instr(f->g, x, "is not defined on floating-point types");
      return a;
    }
    r = cg_math_unary(f, x->op, v);
    break;
  }
  return cg_from_float(f, r, t);
}

CgVal cg_unary(CgFn *f, const HloInstr *x, HloType t, CgVal a) {
  if (hlo_type_is_float(t)) return float_unary(f, x, t, a);
  if (sub_byte_int(t)) {
    if (x->op == HLO_OP_POPCNT || x->op == HLO_OP_CLZ) {
      CgVal r = cg_unary(f, x, HLO_U8, zext_bits(f, a, t));
      if (x->op == HLO_OP_CLZ) r = bin(f, KIR_SUBI, r, KI(f, r, 8 - hlo_type_bits(t)));
      return wrap_to(f, r, t); /* s2 holds no 2 */
    }
    return wrap_to(f, cg_unary(f, x, hlo_type_is_signed(t) ? HLO_S8 : HLO_U8, a), t);
  }
  if (x->op == HLO_OP_NOT) return bin(f, KIR_XORI, a, KI(f, a, -1));
  if (t == HLO_PRED) {
    cg_fail_instr(f->g, x, "is not defined on pred");
    return a;
  }
  switch (x->op) {
  case HLO_OP_NEGATE: return bin(f, KIR_SUBI, KI(f, a, 0), a);
  /* math.absi keeps MIN as MIN, wrapping like the evaluator. */
  case HLO_OP_ABS: return kir_unop(&f->b, KIR_ABSI, a);
  case HLO_OP_SIGN: return int_sign(f, a);
  case HLO_OP_POPCNT: return kir_unop(&f->b, KIR_CTPOP, a);
  case HLO_OP_CLZ: return kir_unop(&f->b, KIR_CTLZ, a);
  default:
    cg_fail_instr(f->g, x, "is not defined on integer types");
    return a;
  }
}

/* ------------------------------------------------------------------------ */
/* Binary ops                                                                */
/* ------------------------------------------------------------------------ */

static CgVal float_minmax(CgFn *f, bool max, CgVal a, CgVal b) {
  CgVal pick_b = max ? fcmp(f, KIR_OLT, a, b) : fcmp(f, KIR_OLT, b, a);
  CgVal r = cg_select(f, pick_b, b, a);
  r = cg_select(f, fcmp(f, KIR_UNO, b, b), b, r);
  return cg_select(f, fcmp(f, KIR_UNO, a, a), a, r);
}

static CgVal float_binary(CgFn *f, HloOpcode op, HloType t, CgVal a, CgVal b) {
  CgVal x = cg_to_float(f, a, t), y = cg_to_float(f, b, t), r;
  switch (op) {
  case HLO_OP_ADD: r = bin(f, KIR_ADDF, x, y); break;
  case HLO_OP_SUBTRACT: r = bin(f, KIR_SUBF, x, y); break;
  case HLO_OP_MULTIPLY: r = bin(f, KIR_MULF, x, y); break;
  case HLO_OP_DIVIDE: r = bin(f, KIR_DIVF, x, y); break;
  case HLO_OP_REMAINDER: r = bin(f, KIR_REMF, x, y); break;
  case HLO_OP_MAXIMUM: r = float_minmax(f, true, x, y); break;
  case HLO_OP_MINIMUM: r = float_minmax(f, false, x, y); break;
  case HLO_OP_POWER:
  case HLO_OP_ATAN2: r = cg_math_binary(f, op, x, y); break;
  default:
    cg_fail(f->g, hlo_error("codegen: %s is not defined on floating-point "
                            "types", hlo_opcode_name(op)));
    return a;
  }
  return cg_from_float(f, r, t);
}

static CgVal int_divide(CgFn *f, bool rem, HloType t, CgVal a, CgVal b) {
  int bits = cg_type_bits(t);
  CgVal zero = KI(f, a, 0), one = KI(f, a, 1);
  CgVal bz = cg_icmp(f, KIR_EQ, b, zero);
  if (hlo_type_is_unsigned(t)) {
    CgVal safe = cg_select(f, bz, one, b);
    CgVal q = bin(f, rem ? KIR_REMUI : KIR_DIVUI, a, safe);
    return cg_select(f, bz, rem ? a : KI(f, a, -1), q);
  }
  CgVal m1 = cg_icmp(f, KIR_EQ, b, KI(f, a, -1));
  int64_t min = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
  CgVal amin = cg_icmp(f, KIR_EQ, a, KI(f, a, min));
  /* Divisors that trap (0, and -1 with MIN) are replaced by 1: that
   * already gives MIN/-1 = MIN and MIN%-1 = 0; x/0 and x%0 are patched. */
  CgVal ovf = cg_and(f, m1, amin);
  CgVal bad = bin(f, KIR_ORI, bz, ovf);
  CgVal safe = cg_select(f, bad, one, b);
  CgVal q = bin(f, rem ? KIR_REMSI : KIR_DIVSI, a, safe);
  return cg_select(f, bz, rem ? a : KI(f, a, -1), q);
}

static CgVal int_shift(CgFn *f, HloOpcode op, HloType t, CgVal a, CgVal b) {
  int bits = cg_type_bits(t);
  CgVal big = cg_icmp(f, KIR_UGE, b, KI(f, a, bits));
  KirOpcode k = op == HLO_OP_SHIFT_LEFT            ? KIR_SHLI
                : op == HLO_OP_SHIFT_RIGHT_LOGICAL ? KIR_SHRUI
                                                   : KIR_SHRSI;
  CgVal r = bin(f, k, a, b);
  CgVal fill = op == HLO_OP_SHIFT_RIGHT_ARITHMETIC ? bin(f, KIR_SHRSI, a, KI(f, a, bits - 1))
                                                   : KI(f, a, 0);
  return cg_select(f, big, fill, r);
}

static CgVal int_power(CgFn *f, HloType t, CgVal a, CgVal b) {
  int bits = cg_type_bits(t);
  CgVal one = KI(f, a, 1), zero = KI(f, a, 0);
  CgVal init[3] = {one, a, b};
  /* bits squarings consume any exponent of that width. */
  CgLoop l = cg_for(f, bits, 3, init);
  CgVal acc = l.iters, base = l.iters + 1, ex = l.iters + 2;
  CgVal odd = cg_icmp(f, KIR_NE, bin(f, KIR_ANDI, ex, one), zero);
  CgVal next[3];
  next[0] = cg_select(f, odd, bin(f, KIR_MULI, acc, base), acc);
  next[1] = bin(f, KIR_MULI, base, base);
  next[2] = bin(f, KIR_SHRUI, ex, one);
  cg_for_end(f, &l, next);
  CgVal r = l.results;
  if (hlo_type_is_unsigned(t)) return r;
  CgVal m1 = KI(f, a, -1);
  CgVal bodd = cg_icmp(f, KIR_NE, bin(f, KIR_ANDI, b, one), zero);
  CgVal neg = cg_select(f, cg_icmp(f, KIR_EQ, a, m1), cg_select(f, bodd, m1, one), zero);
  neg = cg_select(f, cg_icmp(f, KIR_EQ, a, one), one, neg);
  return cg_select(f, cg_icmp(f, KIR_SLT, b, zero), neg, r);
}

CgVal cg_binary(CgFn *f, HloOpcode op, HloType t, CgVal a, CgVal b) {
  if (hlo_type_is_float(t)) return float_binary(f, op, t, a, b);
  if (sub_byte_int(t)) {
    /* As s8/u8 on the extended values (the evaluator's rules); a shift
     * amount is read as unsigned, an arithmetic shift reads the value as
     * signed and a logical one as unsigned. */
    bool shift = op == HLO_OP_SHIFT_LEFT || op == HLO_OP_SHIFT_RIGHT_LOGICAL ||
                 op == HLO_OP_SHIFT_RIGHT_ARITHMETIC;
    bool as_signed = op == HLO_OP_SHIFT_RIGHT_ARITHMETIC ||
                     (hlo_type_is_signed(t) && op != HLO_OP_SHIFT_RIGHT_LOGICAL);
    CgVal x = as_signed ? sext_bits(f, a, t) : zext_bits(f, a, t);
    CgVal y = shift || !as_signed ? zext_bits(f, b, t) : sext_bits(f, b, t);
    return wrap_to(f, cg_binary(f, op, as_signed ? HLO_S8 : HLO_U8, x, y), t);
  }
  bool u = !hlo_type_is_signed(t); /* pred orders as unsigned */
  if (t == HLO_PRED && op == HLO_OP_MULTIPLY) op = HLO_OP_AND; /* XLA's definition */
  switch (op) {
  case HLO_OP_AND: return bin(f, KIR_ANDI, a, b);
  case HLO_OP_OR: return bin(f, KIR_ORI, a, b);
  case HLO_OP_XOR: return bin(f, KIR_XORI, a, b);
  case HLO_OP_MAXIMUM: return bin(f, u ? KIR_MAXUI : KIR_MAXSI, a, b);
  case HLO_OP_MINIMUM: return bin(f, u ? KIR_MINUI : KIR_MINSI, a, b);
  default:
    break;
  }
  if (t == HLO_PRED) {
    cg_fail(f->g, hlo_error("codegen: %s is not defined on pred",
                            hlo_opcode_name(op)));
    return a;
  }
  switch (op) {
  case HLO_OP_ADD: return bin(f, KIR_ADDI, a, b);
  case HLO_OP_SUBTRACT: return bin(f, KIR_SUBI, a, b);
  case HLO_OP_MULTIPLY: return bin(f, KIR_MULI, a, b);
  case HLO_OP_DIVIDE: return int_divide(f, false, t, a, b);
  case HLO_OP_REMAINDER: return int_divide(f, true, t, a, b);
  case HLO_OP_POWER: return int_power(f, t, a, b);
  case HLO_OP_SHIFT_LEFT:
  case HLO_OP_SHIFT_RIGHT_LOGICAL:
  case HLO_OP_SHIFT_RIGHT_ARITHMETIC: return int_shift(f, op, t, a, b);
  default:
    cg_fail(f->g, hlo_error("codegen: %s is not defined on integer types",
                            hlo_opcode_name(op)));
    return a;
  }
}

/* ------------------------------------------------------------------------ */
/* Compare                                                                   */
/* ------------------------------------------------------------------------ */

/* HloCompareDir order: EQ, NE, LT, LE, GT, GE. */
static const KirFPred float_preds[] = {KIR_OEQ, KIR_UNE, KIR_OLT, KIR_OLE, KIR_OGT, KIR_OGE};
static const KirIPred signed_preds[] = {KIR_EQ, KIR_NE, KIR_SLT, KIR_SLE, KIR_SGT, KIR_SGE};
static const KirIPred unsigned_preds[] = {KIR_EQ, KIR_NE, KIR_ULT, KIR_ULE, KIR_UGT, KIR_UGE};

/* XLA's total order: flipping the magnitude bits of negative floats makes
 * the bit pattern order as a signed integer. */
static CgVal total_order_key(CgFn *f, CgVal v, HloType t) {
  int bits = (int)hlo_type_size(t) * 8;
  if (t == HLO_F8E8M0FNU) return bin(f, KIR_XORI, v, KI(f, v, 0x80)); /* unsigned bits */
  KirElem ie = bits == 64 ? KIR_I64 : bits == 32 ? KIR_I32 : KIR_I16;
  if (bits > 16) v = cast(f, KIR_BITCAST, v, ie);
  CgVal s = bin(f, KIR_SHRSI, v, KI(f, v, bits - 1));
  int64_t mag = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
  s = bin(f, KIR_ANDI, s, KI(f, v, mag));
  return bin(f, KIR_XORI, v, s);
}

CgVal cg_compare(CgFn *f, HloCompareDir dir, HloCompareType ct, HloType t,
                 CgVal a, CgVal b) {
  if (hlo_type_is_float(t)) {
    if (ct == HLO_CMPT_TOTALORDER) {
      CgVal ka = total_order_key(f, a, t), kb = total_order_key(f, b, t);
      return cg_icmp(f, signed_preds[dir], ka, kb);
    }
    CgVal x = cg_to_float(f, a, t), y = cg_to_float(f, b, t);
    return fcmp(f, float_preds[dir], x, y);
  }
  bool is_signed = ct == HLO_CMPT_SIGNED ||
                   (ct != HLO_CMPT_UNSIGNED && hlo_type_is_signed(t));
  if (sub_byte_int(t)) {
    a = is_signed ? sext_bits(f, a, t) : zext_bits(f, a, t);
    b = is_signed ? sext_bits(f, b, t) : zext_bits(f, b, t);
  }
  return cg_icmp(f, (is_signed ? signed_preds : unsigned_preds)[dir], a, b);
}

/* ------------------------------------------------------------------------ */
/* Convert and bitcast-convert                                               */
/* ------------------------------------------------------------------------ */

/* Float (f32/f64 register) to integer type t, saturating, NaN → 0. */
static CgVal float_to_int(CgFn *f, CgVal x, HloType t) {
  KirElem fe = (KirElem)cg_type(f, x).elem, ie = (KirElem)cg_reg_type(t).elem;
  int bits = sub_byte_int(t) ? hlo_type_bits(t) : cg_type_bits(t);
  bool is_signed = hlo_type_is_signed(t);
  CgVal r = cast(f, is_signed ? KIR_FPTOSI : KIR_FPTOUI, x, ie);
  /* The limits are powers of two, exact in f32 and f64. */
  double hi = ldexp(1.0, is_signed ? bits - 1 : bits);
  double lo = is_signed ? -hi : 0.0;
  int64_t max = is_signed ? (bits == 64 ? INT64_MAX
                                        : ((int64_t)1 << (bits - 1)) - 1)
                          : sub_byte_int(t) ? ((int64_t)1 << bits) - 1
                                            : -1; /* all ones */
  int64_t min = is_signed ? (bits == 64 ? INT64_MIN
                                        : -((int64_t)1 << (bits - 1)))
                          : 0;
  CgVal ge = fcmp(f, KIR_OGE, x, KF(f, x, fe, hi));
  r = cg_select(f, ge, KI(f, r, max), r);
  CgVal le = fcmp(f, KIR_OLE, x, KF(f, x, fe, lo));
  r = cg_select(f, le, KI(f, r, min), r);
  CgVal nan = fcmp(f, KIR_UNO, x, x);
  return cg_select(f, nan, KI(f, r, 0), r);
}

CgVal cg_convert(CgFn *f, CgVal v, HloType from, HloType to) {
  if (from == to) return v;
  KirElem te = (KirElem)cg_reg_type(to).elem;
  bool ffloat = hlo_type_is_float(from), tfloat = hlo_type_is_float(to);
  if (to == HLO_PRED) {
    if (!ffloat) return cg_icmp(f, KIR_NE, v, KI(f, v, 0));
    CgVal x = cg_to_float(f, v, from);
    return fcmp(f, KIR_UNE, x, KF(f, x, cg_float_elem(from), 0.0));
  }
  if (!ffloat && !tfloat) {
    int nf = cg_type_bits(from), nt = cg_type_bits(to);
    if (nt == nf && !sub_byte_int(to)) return v;
    KirOpcode op = nt < nf                    ? KIR_TRUNCI
                   : hlo_type_is_signed(from) ? KIR_EXTSI
                                              : KIR_EXTUI;
    CgVal r = nt == nf ? v : cast(f, op, v, te);
    return sub_byte_int(to) ? wrap_to(f, r, to) : r;
  }
  if (!ffloat) {
    HloType ct = float_compute(to);
    CgVal x = cast(f, hlo_type_is_signed(from) ? KIR_SITOFP : KIR_UITOFP, v, cg_float_elem(ct));
    return cg_from_float(f, x, to);
  }
  CgVal x = cg_to_float(f, v, from);
  if (!tfloat) return float_to_int(f, x, to);
  if (to == HLO_F64) return cast(f, KIR_EXTF, x, KIR_F64);
  if (from == HLO_F64)
    x = hlo_small_float(to) ? f64_to_f32_odd(f, x) : cast(f, KIR_TRUNCF, x, KIR_F32);
  return cg_from_float(f, x, to);
}

CgVal cg_bitcast(CgFn *f, CgVal v, HloType from, HloType to) {
  if (sub_byte_int(from) || sub_byte_int(to)) {
    /* equal widths (s4, u4, f4e2m1fn): the low bits, extended as `to` keeps them */
    if (sub_byte_int(from)) v = zext_bits(f, v, from);
    return sub_byte_int(to) ? wrap_to(f, v, to) : v;
  }
  KirType ft = cg_reg_type(from), tt = cg_reg_type(to);
  if (ft.elem == tt.elem) return v;
  return cast(f, KIR_BITCAST, v, (KirElem)tt.elem);
}
