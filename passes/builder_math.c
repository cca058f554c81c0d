/*
 * builder_math.c — the functions of XLA's math library that its builder
 * tests call by name (custom_call_target="xla_builder.math.NAME") and
 * that are no HLO opcode, written as the HLO XLA's builder emits for them
 * (hlo_builder_call decides which; canonical_forms.c calls this).
 *
 * - NextAfter(from, to): on the bit patterns u, v (bitcast-convert to the
 *   unsigned type of the float's width): NaN if either operand is NaN; v
 *   if u == v; from ±0: v if `to` is ±0, else (v & sign) | 1, the smallest
 *   subnormal with to's sign; else u - 1 where |from| > |to| or the signs
 *   differ, u + 1 otherwise; for a type without -0 (the fnuz types) the
 *   step from the pattern sign|1 toward a non-negative `to` gives +0, not
 *   the NaN pattern.  The interpreter computes the same (evaluator.c).
 * - Acos, Acosh, Cosh, Atan of a c64/c128 array, XLA's complex formulas in
 *   complex HLO (codegen/complex.c lowers it), 1 and i complex constants:
 *     acos(z)  = -(i · log(z + i · sqrt((1 + z)(1 - z))))
 *     acosh(z) = log(z + sqrt((z + 1)(z - 1)))
 *     cosh(z)  = exp(z + log(1/2)) + exp(-z + log(1/2))
 *     atan(z)  = atan2(z, 1) = -(i · log((1 + i·z) / sqrt(1·1 + z·z))), XLA's
 *                complex atan2 (its evaluator's and CPU emitter's formula)
 *   and Asin, Asinh: XLA's (StableHLO's) algorithm of Hull et al. on the
 *   real parts, step for step as evaluator.c's asin_f32 (its comment).
 *
 * Assumes a call hlo_builder_call accepted (NextAfter: operands of the
 * call's shape and a float type with a sign bit, 8, 16, 32 or 64 bits
 * wide; the others: one complex operand of the call's shape).
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* The unsigned constant v of type t, broadcast to like's dims (exact, which
 * a double is not past 2^53). */
static HloInstr *ufull(PxAt at, HloType t, uint64_t v, const HloInstr *like) {
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  memcpy(lit->data, &v, hlo_type_size(t));
  HloInstr *k = hlo_constant_new(at.c, lit, "constant");
  if (at.before) hlo_instr_move_before(k, at.before);
  return like->shape.rank ? px_broadcast_leading(at, k, &like->shape) : k;
}

static HloInstr *bitcast(PxAt at, HloInstr *x, HloType t) {
  HloShape s = hlo_shape_array(t, x->shape.rank, x->shape.dims);
  HloInstr *b = hlo_instr_new(at.c, HLO_OP_BITCAST_CONVERT, &s, &x, 1, NULL);
  if (at.before) hlo_instr_move_before(b, at.before);
  return b;
}

static HloInstr *next_after(PxAt at, HloInstr *from, HloInstr *to) {
  HloType t = from->shape.type;
  int w = (int)hlo_type_size(t);
  HloType ut = w == 1 ? HLO_U8 : w == 2 ? HLO_U16 : w == 4 ? HLO_U32 : HLO_U64;
  uint64_t sign = (uint64_t)1 << (8 * w - 1);
  uint64_t all = w == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * w)) - 1;
  HloInstr *nan_in = px_binary(at, HLO_OP_OR, px_compare(at, HLO_CMP_NE, from, from),
                               px_compare(at, HLO_CMP_NE, to, to));
  HloInstr *nan = bitcast(at, px_scalar(at, t, NAN, &from->shape), ut);
  HloInstr *u = bitcast(at, from, ut), *v = bitcast(at, to, ut);
  HloInstr *zero = ufull(at, ut, 0, u);
  HloInstr *ua = px_binary(at, HLO_OP_AND, u, ufull(at, ut, sign - 1, u));
  HloInstr *va = px_binary(at, HLO_OP_AND, v, ufull(at, ut, sign - 1, u));
  HloInstr *us = px_binary(at, HLO_OP_AND, u, ufull(at, ut, sign, u));
  HloInstr *vs = px_binary(at, HLO_OP_AND, v, ufull(at, ut, sign, u));
  HloInstr *from_zero_result =
      px_select(at, px_compare(at, HLO_CMP_EQ, va, zero), v,
                px_binary(at, HLO_OP_OR, vs, ufull(at, ut, 1, u)));
  HloInstr *toward_zero = px_binary(at, HLO_OP_OR, px_compare(at, HLO_CMP_GT, ua, va),
                                    px_compare(at, HLO_CMP_NE, us, vs));
  HloInstr *step = px_select(at, toward_zero, ufull(at, ut, all, u), ufull(at, ut, 1, u));
  HloInstr *r = px_binary(at, HLO_OP_ADD, u, step);
  const HloSmallFloat *sf = hlo_small_float(t);
  if (sf && sf->kind == HLO_SF_FNUZ) {
    HloInstr *to_plus_zero =
        px_binary(at, HLO_OP_AND, px_compare(at, HLO_CMP_EQ, u, ufull(at, ut, sign | 1, u)),
                  px_compare(at, HLO_CMP_EQ, vs, zero));
    r = px_select(at, to_plus_zero, zero, r);
  }
  r = px_select(at, px_compare(at, HLO_CMP_EQ, ua, zero), from_zero_result, r);
  r = px_select(at, px_compare(at, HLO_CMP_EQ, u, v), v, r);
  r = px_select(at, nan_in, nan, r);
  return bitcast(at, r, t);
}

/* The complex constant (re, im) in like's type, broadcast to its dims. */
static HloInstr *cfull(PxAt at, double re, double im, const HloInstr *like) {
  HloType t = like->shape.type;
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  if (t == HLO_C64) {
    float v[2] = {(float)re, (float)im};
    memcpy(lit->data, v, sizeof v);
  } else {
    double v[2] = {re, im};
    memcpy(lit->data, v, sizeof v);
  }
  HloInstr *k = hlo_constant_new(at.c, lit, "constant");
  if (at.before) hlo_instr_move_before(k, at.before);
  return like->shape.rank ? px_broadcast_leading(at, k, &like->shape) : k;
}

/* XLA's complex asin on the parts x, y (see evaluator.c's asin_f32, the
 * same steps): returns complex(re, im). */
typedef struct AsinB {
  PxAt at;
  HloType rt;
  const HloShape *shape;
} AsinB;

static HloInstr *K(AsinB *b, double v) { return px_scalar(b->at, b->rt, v, b->shape); }
static HloInstr *B(AsinB *b, HloOpcode op, HloInstr *x, HloInstr *y) {
  return px_binary(b->at, op, x, y);
}
static HloInstr *U(AsinB *b, HloOpcode op, HloInstr *x) { return px_unary(b->at, op, x); }
static HloInstr *C(AsinB *b, HloCompareDir d, HloInstr *x, HloInstr *y) {
  return px_compare(b->at, d, x, y);
}
static HloInstr *S(AsinB *b, HloInstr *p, HloInstr *x, HloInstr *y) {
  return px_select(b->at, p, x, y);
}

/* hypot(a, b) of a, b >= 0, as XLA's asin computes it. */
static HloInstr *asin_hypot(AsinB *b, HloInstr *x, HloInstr *y) {
  HloInstr *mx = B(b, HLO_OP_MAXIMUM, x, y), *mn = B(b, HLO_OP_MINIMUM, x, y);
  HloInstr *r = B(b, HLO_OP_DIVIDE, mn, mx), *r2 = B(b, HLO_OP_MULTIPLY, r, r);
  HloInstr *sq = U(b, HLO_OP_SQRT, B(b, HLO_OP_ADD, K(b, 1), r2));
  HloInstr *small =
      B(b, HLO_OP_AND, C(b, HLO_CMP_EQ, sq, K(b, 1)), C(b, HLO_CMP_GT, r2, K(b, 0)));
  HloInstr *near =
      B(b, HLO_OP_ADD, mx, B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, mx, r2), K(b, 2)));
  return S(b, C(b, HLO_CMP_EQ, mx, mn), B(b, HLO_OP_MULTIPLY, K(b, 1.4142135623730951), mx),
           S(b, small, near, B(b, HLO_OP_MULTIPLY, mx, sq)));
}

static HloInstr *asin_parts(AsinB *b, HloInstr *x, HloInstr *y) {
  bool f32 = b->rt == HLO_F32;
  double safe_max = f32 ? 2.30584287e+18 : 1.6759759912428245e+153;
  double x_big = f32 ? 2.30584285e+30 : 1.6759759912428244e+165;
  double y_small = f32 ? 2.30584274e+12 : 1.6759759912428242e+147;
  double y_large = f32 ? 2.30584283e+20 : 1.6759759912428244e+155;
  double tiny = f32 ? 4.33680869e-19 : 5.9666725849601654e-154;
  HloInstr *ax = U(b, HLO_OP_ABS, x), *ay = U(b, HLO_OP_ABS, y);
  HloInstr *xp1 = B(b, HLO_OP_ADD, ax, K(b, 1)), *xm1 = B(b, HLO_OP_SUBTRACT, ax, K(b, 1));
  HloInstr *s1 = asin_hypot(b, U(b, HLO_OP_ABS, xp1), ay);
  HloInstr *s2 = asin_hypot(b, U(b, HLO_OP_ABS, xm1), ay);
  HloInstr *a = B(b, HLO_OP_MULTIPLY, K(b, 0.5), B(b, HLO_OP_ADD, s1, s2));
  HloInstr *half_apx = B(b, HLO_OP_MULTIPLY, K(b, 0.5), B(b, HLO_OP_ADD, a, ax));
  HloInstr *yy = B(b, HLO_OP_MULTIPLY, ay, ay);
  HloInstr *rpxp1 = B(b, HLO_OP_ADD, s1, xp1), *smxm1 = B(b, HLO_OP_SUBTRACT, s2, xm1);
  HloInstr *sxm1 = B(b, HLO_OP_ADD, s2, xm1);
  HloInstr *t1 = U(b, HLO_OP_SQRT,
                   B(b, HLO_OP_MULTIPLY, half_apx,
                     B(b, HLO_OP_ADD, B(b, HLO_OP_DIVIDE, yy, rpxp1), smxm1)));
  HloInstr *t2 = B(b, HLO_OP_MULTIPLY, ay,
                   U(b, HLO_OP_SQRT, B(b, HLO_OP_ADD, B(b, HLO_OP_DIVIDE, half_apx, rpxp1),
                                       B(b, HLO_OP_DIVIDE, half_apx, sxm1))));
  HloInstr *arg = S(b, C(b, HLO_CMP_GE, B(b, HLO_OP_MAXIMUM, ax, ay), K(b, safe_max)), ay,
                    S(b, C(b, HLO_CMP_LE, ax, K(b, 1)), t1, t2));
  HloInstr *re = B(b, HLO_OP_ATAN2, x, arg);
  HloInstr *safe_opt = S(b, C(b, HLO_CMP_LT, ax, K(b, x_big)), K(b, y_small), K(b, y_large));
  HloInstr *yge = C(b, HLO_CMP_GE, ay, safe_opt);
  HloInstr *mxx = S(b, yge, ay, ax), *thr = S(b, yge, safe_opt, K(b, safe_max));
  HloInstr *finite_y = U(b, HLO_OP_NOT, C(b, HLO_CMP_EQ, ay, K(b, INFINITY)));
  HloInstr *xoy = S(b, B(b, HLO_OP_AND, yge, finite_y), B(b, HLO_OP_DIVIDE, ax, ay), K(b, 0));
  HloInstr *im_big =
      B(b, HLO_OP_ADD, B(b, HLO_OP_ADD, K(b, 0.69314718055994529), U(b, HLO_OP_LOG, mxx)),
        B(b, HLO_OP_MULTIPLY, K(b, 0.5), U(b, HLO_OP_LOG1P, B(b, HLO_OP_MULTIPLY, xoy, xoy))));
  HloInstr *small =
      B(b, HLO_OP_AND, C(b, HLO_CMP_LT, ay, K(b, tiny)), C(b, HLO_CMP_LT, ax, K(b, 1)));
  HloInstr *ap1 = B(b, HLO_OP_ADD, a, K(b, 1));
  HloInstr *hyy = B(b, HLO_OP_MULTIPLY, K(b, 0.5), yy), *d1 = B(b, HLO_OP_DIVIDE, hyy, rpxp1);
  HloInstr *o1 = B(b, HLO_OP_ADD, d1, B(b, HLO_OP_MULTIPLY, K(b, 0.5), sxm1));
  HloInstr *o2 = B(b, HLO_OP_ADD, d1, B(b, HLO_OP_DIVIDE, hyy, smxm1));
  HloInstr *am1 = S(b, C(b, HLO_CMP_GE, ax, K(b, 1)), o1,
                    S(b, C(b, HLO_CMP_LE, a, K(b, 1.5)), o2, B(b, HLO_OP_SUBTRACT, a, K(b, 1))));
  am1 = S(b, small,
          U(b, HLO_OP_NEGATE, B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, xp1, xm1), ap1)), am1);
  HloInstr *sq = U(b, HLO_OP_SQRT, B(b, HLO_OP_MULTIPLY, am1, ap1));
  HloInstr *im = S(b, C(b, HLO_CMP_GE, mxx, thr), im_big,
                   S(b, small, B(b, HLO_OP_DIVIDE, ay, sq),
                     U(b, HLO_OP_LOG1P, B(b, HLO_OP_ADD, am1, sq))));
  im = S(b, C(b, HLO_CMP_LT, y, K(b, 0)), U(b, HLO_OP_NEGATE, im), im);
  return B(b, HLO_OP_COMPLEX, re, im);
}

/* Asin of z, or Asinh: asin of (im z, -re z), its parts swapped, the real
 * part negated unless re z == 0 and |im z| > 1. */
static HloInstr *complex_asin(PxAt at, HloInstr *z, bool asinh) {
  HloInstr *x = px_unary(at, HLO_OP_REAL, z), *y = px_unary(at, HLO_OP_IMAG, z);
  AsinB b = {at, x->shape.type, &x->shape};
  if (!asinh) return asin_parts(&b, x, y);
  HloInstr *r = asin_parts(&b, y, U(&b, HLO_OP_NEGATE, x));
  HloInstr *rr = U(&b, HLO_OP_REAL, r), *ri = U(&b, HLO_OP_IMAG, r);
  HloInstr *keep = B(&b, HLO_OP_AND, C(&b, HLO_CMP_EQ, x, K(&b, 0)),
                     C(&b, HLO_CMP_GT, U(&b, HLO_OP_ABS, y), K(&b, 1)));
  return B(&b, HLO_OP_COMPLEX, S(&b, keep, ri, U(&b, HLO_OP_NEGATE, ri)), rr);
}

static HloInstr *complex_fn(PxAt at, const char *f, HloInstr *z) {
  if (!strcmp(f, "Asin") || !strcmp(f, "Asinh")) return complex_asin(at, z, f[4] == 'h');
  HloInstr *one = cfull(at, 1, 0, z);
  if (!strcmp(f, "Acos")) {
    HloInstr *i1 = cfull(at, 0, 1, z);
    HloInstr *s = px_unary(at, HLO_OP_SQRT,
                           px_binary(at, HLO_OP_MULTIPLY, px_binary(at, HLO_OP_ADD, one, z),
                                     px_binary(at, HLO_OP_SUBTRACT, one, z)));
    HloInstr *l = px_unary(at, HLO_OP_LOG,
                           px_binary(at, HLO_OP_ADD, z, px_binary(at, HLO_OP_MULTIPLY, i1, s)));
    return px_unary(at, HLO_OP_NEGATE, px_binary(at, HLO_OP_MULTIPLY, i1, l));
  }
  if (!strcmp(f, "Atan")) {
    HloInstr *i1 = cfull(at, 0, 1, z);
    HloInstr *num = px_binary(at, HLO_OP_ADD, one, px_binary(at, HLO_OP_MULTIPLY, i1, z));
    HloInstr *den = px_unary(at, HLO_OP_SQRT,
                             px_binary(at, HLO_OP_ADD, px_binary(at, HLO_OP_MULTIPLY, one, one),
                                       px_binary(at, HLO_OP_MULTIPLY, z, z)));
    HloInstr *l = px_unary(at, HLO_OP_LOG, px_binary(at, HLO_OP_DIVIDE, num, den));
    return px_unary(at, HLO_OP_NEGATE, px_binary(at, HLO_OP_MULTIPLY, i1, l));
  }
  if (!strcmp(f, "Acosh")) {
    HloInstr *s = px_unary(at, HLO_OP_SQRT,
                           px_binary(at, HLO_OP_MULTIPLY, px_binary(at, HLO_OP_ADD, z, one),
                                     px_binary(at, HLO_OP_SUBTRACT, z, one)));
    return px_unary(at, HLO_OP_LOG, px_binary(at, HLO_OP_ADD, z, s));
  }
  HloInstr *half = px_unary(at, HLO_OP_LOG, cfull(at, 0.5, 0, z));
  HloInstr *a = px_unary(at, HLO_OP_EXP, px_binary(at, HLO_OP_ADD, z, half));
  HloInstr *b = px_unary(at, HLO_OP_EXP,
                         px_binary(at, HLO_OP_ADD, px_unary(at, HLO_OP_NEGATE, z), half));
  return px_binary(at, HLO_OP_ADD, a, b);
}

HloInstr *px_expand_builder_math(HloInstr *in) {
  PxAt at = {in->parent, in};
  const char *t = in->custom_call_target;
  if (t && !strcmp(t, "xla_builder.math.NextAfter"))
    return px_with_layout(next_after(at, in->operands[0], in->operands[1]), &in->shape, in);
  if (t && hlo_type_is_complex(in->shape.type) && !strncmp(t, "xla_builder.math.", 17))
    return px_with_layout(complex_fn(at, t + 17, in->operands[0]), &in->shape, in);
  return NULL;
}
