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
 *     except for the bases 1 (→ 1) and -1 (→ ±1).
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
  default: HLO_UNREACHABLE();
  }
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
    bits = hlo_type_is_signed(t) ? (uint64_t)(int64_t)v : (uint64_t)v;
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

CgVal cg_to_float(CgFn *f, CgVal v, HloType t) {
  if (t == HLO_F16) return f16_to_f32(f, v);
  if (t == HLO_BF16) return bf16_to_f32(f, v);
  return v;
}

CgVal cg_from_float(CgFn *f, CgVal v, HloType t) {
  if (t == HLO_F16) return f32_to_f16(f, v);
  if (t == HLO_BF16) return f32_to_bf16(f, v);
  return v;
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
  return cg_icmp(f, (is_signed ? signed_preds : unsigned_preds)[dir], a, b);
}

/* ------------------------------------------------------------------------ */
/* Convert and bitcast-convert                                               */
/* ------------------------------------------------------------------------ */

/* Float (f32/f64 register) to integer type t, saturating, NaN → 0. */
static CgVal float_to_int(CgFn *f, CgVal x, HloType t) {
  KirElem fe = (KirElem)cg_type(f, x).elem, ie = (KirElem)cg_reg_type(t).elem;
  int bits = cg_type_bits(t);
  bool is_signed = hlo_type_is_signed(t);
  CgVal r = cast(f, is_signed ? KIR_FPTOSI : KIR_FPTOUI, x, ie);
  /* The limits are powers of two, exact in f32 and f64. */
  double hi = ldexp(1.0, is_signed ? bits - 1 : bits);
  double lo = is_signed ? -hi : 0.0;
  int64_t max = is_signed ? (bits == 64 ? INT64_MAX
                                        : ((int64_t)1 << (bits - 1)) - 1)
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
    if (nt == nf) return v;
    KirOpcode op = nt < nf                    ? KIR_TRUNCI
                   : hlo_type_is_signed(from) ? KIR_EXTSI
                                              : KIR_EXTUI;
    return cast(f, op, v, te);
  }
  if (!ffloat) {
    HloType ct = float_compute(to);
    CgVal x = cast(f, hlo_type_is_signed(from) ? KIR_SITOFP : KIR_UITOFP, v, cg_float_elem(ct));
    return cg_from_float(f, x, to);
  }
  CgVal x = cg_to_float(f, v, from);
  if (!tfloat) return float_to_int(f, x, to);
  if (to == HLO_F64) return cast(f, KIR_EXTF, x, KIR_F64);
  if (from == HLO_F64) x = cast(f, KIR_TRUNCF, x, KIR_F32);
  return cg_from_float(f, x, to);
}

CgVal cg_bitcast(CgFn *f, CgVal v, HloType from, HloType to) {
  KirType ft = cg_reg_type(from), tt = cg_reg_type(to);
  if (ft.elem == tt.elem) return v;
  return cast(f, KIR_BITCAST, v, (KirElem)tt.elem);
}
