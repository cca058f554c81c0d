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
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Constants                                                                 */
/* ------------------------------------------------------------------------ */

CgVal cg_const_bits(CgFn *f, HloType t, uint64_t bits) {
  char buf[40];
  switch (t) {
  case HLO_PRED:
    return cg_def(f->e, "arith.constant %s", bits ? "true" : "false");
  case HLO_F32:
    /* MLIR reads a hexadecimal float literal as the bit pattern: exact,
     * and it covers NaN and infinities. */
    snprintf(buf, sizeof buf, "0x%08" PRIX32, (uint32_t)bits);
    return cg_def(f->e, "arith.constant %s : f32", buf);
  case HLO_F64:
    snprintf(buf, sizeof buf, "0x%016" PRIX64, bits);
    return cg_def(f->e, "arith.constant %s : f64", buf);
  default: {
    int n = cg_type_bits(t);
    int64_t v = n == 64 ? (int64_t)bits
                        : (int64_t)(bits << (64 - n)) >> (64 - n);
    return cg_def(f->e, "arith.constant %D : %s", v, cg_reg_type(t));
  }
  }
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

/* An integer constant of register type ty ("i32", …). */
static CgVal iconst(CgFn *f, int64_t v, const char *ty) {
  return cg_def(f->e, "arith.constant %D : %s", v, ty);
}

/* ------------------------------------------------------------------------ */
/* f16 and bf16                                                              */
/* ------------------------------------------------------------------------ */

static CgVal f16_to_f32(CgFn *f, CgVal h) {
  CgEmitter *e = f->e;
  CgVal w = cg_def(e, "arith.extui %v : i16 to i32", h);
  CgVal sign = cg_def(e, "arith.andi %v, %v : i32", w, iconst(f, 0x8000, "i32"));
  sign = cg_def(e, "arith.shli %v, %v : i32", sign, iconst(f, 16, "i32"));
  CgVal em = cg_def(e, "arith.andi %v, %v : i32", w, iconst(f, 0x7fff, "i32"));
  CgVal exp = cg_def(e, "arith.shrui %v, %v : i32", em, iconst(f, 10, "i32"));
  CgVal mant = cg_def(e, "arith.andi %v, %v : i32", em, iconst(f, 0x3ff, "i32"));
  CgVal shifted = cg_def(e, "arith.shli %v, %v : i32", em, iconst(f, 13, "i32"));
  /* Normal numbers: rebias the exponent by 127 - 15. */
  CgVal normal = cg_def(e, "arith.addi %v, %v : i32", shifted,
                        iconst(f, 112 << 23, "i32"));
  CgVal infnan = cg_def(e, "arith.ori %v, %v : i32", shifted,
                        iconst(f, 0x7f800000, "i32"));
  /* Subnormals and zero: mant × 2^-24, exact in f32. */
  CgVal sf = cg_def(e, "arith.uitofp %v : i32 to f32", mant);
  sf = cg_def(e, "arith.mulf %v, %v : f32", sf, cg_const(f, HLO_F32, 0x1p-24));
  CgVal sub = cg_def(e, "arith.bitcast %v : f32 to i32", sf);
  CgVal r = cg_select(f, cg_icmp(f, "eq", exp, iconst(f, 31, "i32"), "i32"),
                      infnan, normal, "i32");
  r = cg_select(f, cg_icmp(f, "eq", exp, iconst(f, 0, "i32"), "i32"), sub, r,
                "i32");
  r = cg_def(e, "arith.ori %v, %v : i32", r, sign);
  return cg_def(e, "arith.bitcast %v : i32 to f32", r);
}

/* Round to nearest even (F. Giesen's float_to_half_fast3_rtne). */
static CgVal f32_to_f16(CgFn *f, CgVal x) {
  CgEmitter *e = f->e;
  CgVal u = cg_def(e, "arith.bitcast %v : f32 to i32", x);
  CgVal sign = cg_def(e, "arith.andi %v, %v : i32", u,
                      iconst(f, INT32_MIN, "i32"));
  CgVal a = cg_def(e, "arith.xori %v, %v : i32", u, sign);
  /* |x| >= 65520 rounds to infinity; NaN stays a (quiet) NaN. */
  CgVal big = cg_select(f, cg_icmp(f, "ugt", a, iconst(f, 0x7f800000, "i32"),
                                   "i32"),
                        iconst(f, 0x7e00, "i32"), iconst(f, 0x7c00, "i32"),
                        "i32");
  /* Results below the smallest normal: let the f32 adder round by adding
   * 0.5, whose exponent puts the f16 subnormal bits at the bottom. */
  CgVal af = cg_def(e, "arith.bitcast %v : i32 to f32", a);
  CgVal fl = cg_def(e, "arith.addf %v, %v : f32", af, cg_const(f, HLO_F32, 0.5));
  CgVal small = cg_def(e, "arith.bitcast %v : f32 to i32", fl);
  small = cg_def(e, "arith.subi %v, %v : i32", small,
                 iconst(f, 0x3f000000, "i32"));
  /* Normal: rebias, add the rounding bias plus the odd bit, drop 13 bits. */
  CgVal odd = cg_def(e, "arith.shrui %v, %v : i32", a, iconst(f, 13, "i32"));
  odd = cg_def(e, "arith.andi %v, %v : i32", odd, iconst(f, 1, "i32"));
  CgVal n = cg_def(e, "arith.addi %v, %v : i32", a,
                   iconst(f, -(112 << 23) + 0xfff, "i32"));
  n = cg_def(e, "arith.addi %v, %v : i32", n, odd);
  n = cg_def(e, "arith.shrui %v, %v : i32", n, iconst(f, 13, "i32"));
  CgVal r = cg_select(f, cg_icmp(f, "ult", a, iconst(f, 0x38800000, "i32"),
                                 "i32"),
                      small, n, "i32");
  r = cg_select(f, cg_icmp(f, "uge", a, iconst(f, 0x47800000, "i32"), "i32"),
                big, r, "i32");
  CgVal s16 = cg_def(e, "arith.shrui %v, %v : i32", sign, iconst(f, 16, "i32"));
  r = cg_def(e, "arith.ori %v, %v : i32", r, s16);
  return cg_def(e, "arith.trunci %v : i32 to i16", r);
}

static CgVal bf16_to_f32(CgFn *f, CgVal h) {
  CgVal w = cg_def(f->e, "arith.extui %v : i16 to i32", h);
  w = cg_def(f->e, "arith.shli %v, %v : i32", w, iconst(f, 16, "i32"));
  return cg_def(f->e, "arith.bitcast %v : i32 to f32", w);
}

static CgVal f32_to_bf16(CgFn *f, CgVal x) {
  CgEmitter *e = f->e;
  CgVal u = cg_def(e, "arith.bitcast %v : f32 to i32", x);
  CgVal hi = cg_def(e, "arith.shrui %v, %v : i32", u, iconst(f, 16, "i32"));
  CgVal lsb = cg_def(e, "arith.andi %v, %v : i32", hi, iconst(f, 1, "i32"));
  CgVal r = cg_def(e, "arith.addi %v, %v : i32", u, iconst(f, 0x7fff, "i32"));
  r = cg_def(e, "arith.addi %v, %v : i32", r, lsb);
  r = cg_def(e, "arith.shrui %v, %v : i32", r, iconst(f, 16, "i32"));
  CgVal qnan = cg_def(e, "arith.ori %v, %v : i32", hi, iconst(f, 0x40, "i32"));
  CgVal isnan = cg_def(e, "arith.cmpf uno, %v, %v : f32", x, x);
  r = cg_select(f, isnan, qnan, r, "i32");
  return cg_def(e, "arith.trunci %v : i32 to i16", r);
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

const char *cg_float_type(HloType t) { return t == HLO_F64 ? "f64" : "f32"; }

static HloType float_compute(HloType t) {
  return t == HLO_F64 ? HLO_F64 : HLO_F32;
}

/* ------------------------------------------------------------------------ */
/* Unary ops                                                                 */
/* ------------------------------------------------------------------------ */

static CgVal int_sign(CgFn *f, HloType t, CgVal a) {
  const char *ty = cg_reg_type(t);
  CgVal zero = iconst(f, 0, ty);
  CgVal r = cg_select(f, cg_icmp(f, "slt", a, zero, ty), iconst(f, -1, ty),
                      zero, ty);
  return cg_select(f, cg_icmp(f, "sgt", a, zero, ty), iconst(f, 1, ty), r, ty);
}

static CgVal float_unary(CgFn *f, const HloInstr *x, HloType t, CgVal a) {
  const char *ft = cg_float_type(t);
  HloType ct = float_compute(t);
  CgVal v = cg_to_float(f, a, t), r;
  switch (x->op) {
  case HLO_OP_NEGATE:
    r = cg_def(f->e, "arith.negf %v : %s", v, ft);
    break;
  case HLO_OP_ABS:
    r = cg_def(f->e, "math.absf %v : %s", v, ft);
    break;
  case HLO_OP_SIGN: {
    /* ±1 by sign; ±0 and NaN are their own sign. */
    CgVal zero = cg_const(f, ct, 0.0);
    CgVal neg = cg_def(f->e, "arith.cmpf olt, %v, %v : %s", v, zero, ft);
    CgVal pos = cg_def(f->e, "arith.cmpf ogt, %v, %v : %s", v, zero, ft);
    r = cg_select(f, neg, cg_const(f, ct, -1.0), v, ft);
    r = cg_select(f, pos, cg_const(f, ct, 1.0), r, ft);
    break;
  }
  case HLO_OP_IS_FINITE: {
    CgVal abs = cg_def(f->e, "math.absf %v : %s", v, ft);
    return cg_def(f->e, "arith.cmpf one, %v, %v : %s", abs,
                  cg_const(f, ct, INFINITY), ft);
  }
  default:
    if (!cg_math_handles(x->op)) {
      cg_fail_instr(f->g, x, "is not defined on floating-point types");
      return 0;
    }
    r = cg_math_unary(f, x->op, ft, v);
    break;
  }
  return cg_from_float(f, r, t);
}

CgVal cg_unary(CgFn *f, const HloInstr *x, HloType t, CgVal a) {
  if (hlo_type_is_float(t)) return float_unary(f, x, t, a);
  const char *ty = cg_reg_type(t);
  switch (x->op) {
  case HLO_OP_NOT:
    return cg_def(f->e, "arith.xori %v, %v : %s", a,
                  t == HLO_PRED ? cg_const(f, HLO_PRED, 1) : iconst(f, -1, ty),
                  ty);
  default:
    break;
  }
  if (t == HLO_PRED) {
    cg_fail_instr(f->g, x, "is not defined on pred");
    return 0;
  }
  switch (x->op) {
  case HLO_OP_NEGATE:
    return cg_def(f->e, "arith.subi %v, %v : %s", iconst(f, 0, ty), a, ty);
  case HLO_OP_ABS:
    /* math.absi keeps MIN as MIN, wrapping like the evaluator. */
    return cg_def(f->e, "math.absi %v : %s", a, ty);
  case HLO_OP_SIGN: return int_sign(f, t, a);
  case HLO_OP_POPCNT: return cg_def(f->e, "math.ctpop %v : %s", a, ty);
  case HLO_OP_CLZ: return cg_def(f->e, "math.ctlz %v : %s", a, ty);
  default:
    cg_fail_instr(f->g, x, "is not defined on integer types");
    return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Binary ops                                                                */
/* ------------------------------------------------------------------------ */

static CgVal float_minmax(CgFn *f, bool max, const char *ft, CgVal a,
                          CgVal b) {
  CgVal pick_b = max ? cg_def(f->e, "arith.cmpf olt, %v, %v : %s", a, b, ft)
                     : cg_def(f->e, "arith.cmpf olt, %v, %v : %s", b, a, ft);
  CgVal r = cg_select(f, pick_b, b, a, ft);
  r = cg_select(f, cg_def(f->e, "arith.cmpf uno, %v, %v : %s", b, b, ft), b, r,
                ft);
  return cg_select(f, cg_def(f->e, "arith.cmpf uno, %v, %v : %s", a, a, ft), a,
                   r, ft);
}

static CgVal float_binary(CgFn *f, HloOpcode op, HloType t, CgVal a,
                          CgVal b) {
  const char *ft = cg_float_type(t);
  CgVal x = cg_to_float(f, a, t), y = cg_to_float(f, b, t), r;
  switch (op) {
  case HLO_OP_ADD: r = cg_def(f->e, "arith.addf %v, %v : %s", x, y, ft); break;
  case HLO_OP_SUBTRACT:
    r = cg_def(f->e, "arith.subf %v, %v : %s", x, y, ft);
    break;
  case HLO_OP_MULTIPLY:
    r = cg_def(f->e, "arith.mulf %v, %v : %s", x, y, ft);
    break;
  case HLO_OP_DIVIDE: r = cg_def(f->e, "arith.divf %v, %v : %s", x, y, ft); break;
  case HLO_OP_REMAINDER:
    r = cg_def(f->e, "arith.remf %v, %v : %s", x, y, ft);
    break;
  case HLO_OP_MAXIMUM: r = float_minmax(f, true, ft, x, y); break;
  case HLO_OP_MINIMUM: r = float_minmax(f, false, ft, x, y); break;
  case HLO_OP_POWER:
  case HLO_OP_ATAN2: r = cg_math_binary(f, op, ft, x, y); break;
  default:
    cg_fail(f->g, hlo_error("codegen: %s is not defined on floating-point "
                            "types", hlo_opcode_name(op)));
    return 0;
  }
  return cg_from_float(f, r, t);
}

static CgVal int_divide(CgFn *f, bool rem, HloType t, CgVal a, CgVal b) {
  const char *ty = cg_reg_type(t);
  int bits = cg_type_bits(t);
  CgVal zero = iconst(f, 0, ty), one = iconst(f, 1, ty);
  CgVal bz = cg_icmp(f, "eq", b, zero, ty);
  if (hlo_type_is_unsigned(t)) {
    CgVal safe = cg_select(f, bz, one, b, ty);
    CgVal q = cg_def(f->e, "arith.%s %v, %v : %s", rem ? "remui" : "divui", a,
                     safe, ty);
    return cg_select(f, bz, rem ? a : iconst(f, -1, ty), q, ty);
  }
  CgVal m1 = cg_icmp(f, "eq", b, iconst(f, -1, ty), ty);
  int64_t min = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
  CgVal amin = cg_icmp(f, "eq", a, iconst(f, min, ty), ty);
  /* Divisors that trap (0, and -1 with MIN) are replaced by 1: that
   * already gives MIN/-1 = MIN and MIN%-1 = 0; x/0 and x%0 are patched. */
  CgVal ovf = cg_and(f, m1, amin);
  CgVal bad = cg_def(f->e, "arith.ori %v, %v : i1", bz, ovf);
  CgVal safe = cg_select(f, bad, one, b, ty);
  CgVal q = cg_def(f->e, "arith.%s %v, %v : %s", rem ? "remsi" : "divsi", a,
                   safe, ty);
  return cg_select(f, bz, rem ? a : iconst(f, -1, ty), q, ty);
}

static CgVal int_shift(CgFn *f, HloOpcode op, HloType t, CgVal a, CgVal b) {
  const char *ty = cg_reg_type(t);
  int bits = cg_type_bits(t);
  CgVal big = cg_icmp(f, "uge", b, iconst(f, bits, ty), ty);
  const char *name = op == HLO_OP_SHIFT_LEFT ? "shli"
                     : op == HLO_OP_SHIFT_RIGHT_LOGICAL ? "shrui"
                                                        : "shrsi";
  CgVal r = cg_def(f->e, "arith.%s %v, %v : %s", name, a, b, ty);
  CgVal fill = op == HLO_OP_SHIFT_RIGHT_ARITHMETIC
                   ? cg_def(f->e, "arith.shrsi %v, %v : %s", a,
                            iconst(f, bits - 1, ty), ty)
                   : iconst(f, 0, ty);
  return cg_select(f, big, fill, r, ty);
}

static CgVal int_power(CgFn *f, HloType t, CgVal a, CgVal b) {
  const char *ty = cg_reg_type(t);
  int bits = cg_type_bits(t);
  const char *types[3] = {ty, ty, ty};
  CgVal one = iconst(f, 1, ty), zero = iconst(f, 0, ty);
  CgVal init[3] = {one, a, b};
  /* bits squarings consume any exponent of that width. */
  CgLoop l = cg_for(f, bits, 3, init, types);
  CgVal acc = l.iters, base = l.iters + 1, ex = l.iters + 2;
  CgVal odd = cg_icmp(f, "ne", cg_def(f->e, "arith.andi %v, %v : %s", ex, one,
                                      ty),
                      zero, ty);
  CgVal next[3];
  next[0] = cg_select(f, odd, cg_def(f->e, "arith.muli %v, %v : %s", acc,
                                     base, ty),
                      acc, ty);
  next[1] = cg_def(f->e, "arith.muli %v, %v : %s", base, base, ty);
  next[2] = cg_def(f->e, "arith.shrui %v, %v : %s", ex, one, ty);
  cg_for_end(f, &l, next, types);
  CgVal r = l.results;
  if (hlo_type_is_unsigned(t)) return r;
  CgVal m1 = iconst(f, -1, ty);
  CgVal bodd = cg_icmp(f, "ne", cg_def(f->e, "arith.andi %v, %v : %s", b, one,
                                       ty),
                       zero, ty);
  CgVal neg = cg_select(f, cg_icmp(f, "eq", a, m1, ty),
                        cg_select(f, bodd, m1, one, ty), zero, ty);
  neg = cg_select(f, cg_icmp(f, "eq", a, one, ty), one, neg, ty);
  return cg_select(f, cg_icmp(f, "slt", b, zero, ty), neg, r, ty);
}

CgVal cg_binary(CgFn *f, HloOpcode op, HloType t, CgVal a, CgVal b) {
  if (hlo_type_is_float(t)) return float_binary(f, op, t, a, b);
  const char *ty = cg_reg_type(t);
  bool u = !hlo_type_is_signed(t); /* pred orders as unsigned */
  switch (op) {
  case HLO_OP_AND: return cg_def(f->e, "arith.andi %v, %v : %s", a, b, ty);
  case HLO_OP_OR: return cg_def(f->e, "arith.ori %v, %v : %s", a, b, ty);
  case HLO_OP_XOR: return cg_def(f->e, "arith.xori %v, %v : %s", a, b, ty);
  case HLO_OP_MAXIMUM:
    return cg_def(f->e, "arith.%s %v, %v : %s", u ? "maxui" : "maxsi", a, b,
                  ty);
  case HLO_OP_MINIMUM:
    return cg_def(f->e, "arith.%s %v, %v : %s", u ? "minui" : "minsi", a, b,
                  ty);
  default:
    break;
  }
  if (t == HLO_PRED) {
    cg_fail(f->g, hlo_error("codegen: %s is not defined on pred",
                            hlo_opcode_name(op)));
    return 0;
  }
  switch (op) {
  case HLO_OP_ADD: return cg_def(f->e, "arith.addi %v, %v : %s", a, b, ty);
  case HLO_OP_SUBTRACT: return cg_def(f->e, "arith.subi %v, %v : %s", a, b, ty);
  case HLO_OP_MULTIPLY: return cg_def(f->e, "arith.muli %v, %v : %s", a, b, ty);
  case HLO_OP_DIVIDE: return int_divide(f, false, t, a, b);
  case HLO_OP_REMAINDER: return int_divide(f, true, t, a, b);
  case HLO_OP_POWER: return int_power(f, t, a, b);
  case HLO_OP_SHIFT_LEFT:
  case HLO_OP_SHIFT_RIGHT_LOGICAL:
  case HLO_OP_SHIFT_RIGHT_ARITHMETIC: return int_shift(f, op, t, a, b);
  default:
    cg_fail(f->g, hlo_error("codegen: %s is not defined on integer types",
                            hlo_opcode_name(op)));
    return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Compare                                                                   */
/* ------------------------------------------------------------------------ */

static const char *const float_preds[] = {"oeq", "une", "olt", "ole", "ogt",
                                          "oge"};
static const char *const signed_preds[] = {"eq", "ne", "slt", "sle", "sgt",
                                           "sge"};
static const char *const unsigned_preds[] = {"eq", "ne", "ult", "ule", "ugt",
                                             "uge"};

/* XLA's total order: flipping the magnitude bits of negative floats makes
 * the bit pattern order as a signed integer. */
static CgVal total_order_key(CgFn *f, CgVal v, HloType t) {
  int bits = (int)hlo_type_size(t) * 8;
  const char *ity = bits == 64 ? "i64" : bits == 32 ? "i32" : "i16";
  if (bits > 16) v = cg_def(f->e, "arith.bitcast %v : %s to %s", v,
                            cg_reg_type(t), ity);
  CgVal s = cg_def(f->e, "arith.shrsi %v, %v : %s", v, iconst(f, bits - 1, ity),
                   ity);
  int64_t mag = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
  s = cg_def(f->e, "arith.andi %v, %v : %s", s, iconst(f, mag, ity), ity);
  return cg_def(f->e, "arith.xori %v, %v : %s", v, s, ity);
}

CgVal cg_compare(CgFn *f, HloCompareDir dir, HloCompareType ct, HloType t,
                 CgVal a, CgVal b) {
  if (hlo_type_is_float(t)) {
    if (ct == HLO_CMPT_TOTALORDER) {
      CgVal ka = total_order_key(f, a, t), kb = total_order_key(f, b, t);
      int bits = (int)hlo_type_size(t) * 8;
      return cg_icmp(f, signed_preds[dir], ka, kb,
                     bits == 64 ? "i64" : bits == 32 ? "i32" : "i16");
    }
    CgVal x = cg_to_float(f, a, t), y = cg_to_float(f, b, t);
    return cg_def(f->e, "arith.cmpf %s, %v, %v : %s", float_preds[dir], x, y,
                  cg_float_type(t));
  }
  bool is_signed = ct == HLO_CMPT_SIGNED ||
                   (ct != HLO_CMPT_UNSIGNED && hlo_type_is_signed(t));
  return cg_icmp(f, (is_signed ? signed_preds : unsigned_preds)[dir], a, b,
                 cg_reg_type(t));
}

/* ------------------------------------------------------------------------ */
/* Convert and bitcast-convert                                               */
/* ------------------------------------------------------------------------ */

/* Float (f32/f64 register) to integer type t, saturating, NaN → 0. */
static CgVal float_to_int(CgFn *f, CgVal x, HloType ft_type, HloType t) {
  const char *ft = cg_float_type(ft_type), *ty = cg_reg_type(t);
  int bits = cg_type_bits(t);
  bool is_signed = hlo_type_is_signed(t);
  CgVal r = cg_def(f->e, "arith.%s %v : %s to %s",
                   is_signed ? "fptosi" : "fptoui", x, ft, ty);
  /* The limits are powers of two, exact in f32 and f64. */
  double hi = ldexp(1.0, is_signed ? bits - 1 : bits);
  double lo = is_signed ? -hi : 0.0;
  int64_t max = is_signed ? (bits == 64 ? INT64_MAX
                                        : ((int64_t)1 << (bits - 1)) - 1)
                          : -1; /* all ones */
  int64_t min = is_signed ? (bits == 64 ? INT64_MIN
                                        : -((int64_t)1 << (bits - 1)))
                          : 0;
  CgVal ge = cg_def(f->e, "arith.cmpf oge, %v, %v : %s", x,
                    cg_const(f, ft_type, hi), ft);
  r = cg_select(f, ge, iconst(f, max, ty), r, ty);
  CgVal le = cg_def(f->e, "arith.cmpf ole, %v, %v : %s", x,
                    cg_const(f, ft_type, lo), ft);
  r = cg_select(f, le, iconst(f, min, ty), r, ty);
  CgVal nan = cg_def(f->e, "arith.cmpf uno, %v, %v : %s", x, x, ft);
  return cg_select(f, nan, iconst(f, 0, ty), r, ty);
}

CgVal cg_convert(CgFn *f, CgVal v, HloType from, HloType to) {
  if (from == to) return v;
  const char *fty = cg_reg_type(from), *tty = cg_reg_type(to);
  bool ffloat = hlo_type_is_float(from), tfloat = hlo_type_is_float(to);
  if (to == HLO_PRED) {
    if (!ffloat) return cg_icmp(f, "ne", v, iconst(f, 0, fty), fty);
    CgVal x = cg_to_float(f, v, from);
    return cg_def(f->e, "arith.cmpf une, %v, %v : %s", x,
                  cg_const(f, float_compute(from), 0.0), cg_float_type(from));
  }
  if (!ffloat && !tfloat) {
    int nf = cg_type_bits(from), nt = cg_type_bits(to);
    if (nt == nf) return v;
    const char *op = nt < nf                   ? "trunci"
                     : hlo_type_is_signed(from) ? "extsi"
                                                : "extui";
    return cg_def(f->e, "arith.%s %v : %s to %s", op, v, fty, tty);
  }
  if (!ffloat) {
    HloType ct = float_compute(to);
    CgVal x = cg_def(f->e, "arith.%s %v : %s to %s",
                     hlo_type_is_signed(from) ? "sitofp" : "uitofp", v, fty,
                     cg_float_type(ct));
    return cg_from_float(f, x, to);
  }
  CgVal x = cg_to_float(f, v, from);
  if (!tfloat) return float_to_int(f, x, float_compute(from), to);
  if (to == HLO_F64) return cg_def(f->e, "arith.extf %v : f32 to f64", x);
  if (from == HLO_F64) x = cg_def(f->e, "arith.truncf %v : f64 to f32", x);
  return cg_from_float(f, x, to);
}

CgVal cg_bitcast(CgFn *f, CgVal v, HloType from, HloType to) {
  const char *fty = cg_reg_type(from), *tty = cg_reg_type(to);
  if (!strcmp(fty, tty)) return v;
  return cg_def(f->e, "arith.bitcast %v : %s to %s", v, fty, tty);
}
