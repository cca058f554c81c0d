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
 * - Polygamma(n, x) of f32/f64, XLA's math.cc: digamma(x) for n = 0, else
 *   (2 fmod(n, 2) - 1) exp(lgamma(n + 1)) zeta(n + 1, x), with lgamma and
 *   digamma by Lanczos' approximation (g = 7, 9 terms, reflected below
 *   1/2) and the Hurwitz zeta by 10 terms plus 12 Euler-Maclaurin terms;
 *   for n in 1..4 and a negative non-integer x the reflection
 *   -n! zeta(n + 1, 1 - x) - pi d^n/dx^n cot(pi x); NaN unless n is a
 *   natural number.  evaluator.c computes the same formulas in double.
 * - RegularizedIncompleteBeta(a, b, x) of f32/f64: XLA's continued
 *   fraction by Lentz-Thompson-Barnett in a while loop (stopping when every
 *   element's |delta - 1| < eps/2, or after 200/600 iterations), times
 *   exp(a log x + b log1p(-x) - lbeta(a, b)) / a, after swapping a, b and
 *   taking 1 - x where x >= (a + 1)/(a + b + 2).
 * - IgammaGradA(a, x) = dP(a, x)/da and RandomGammaGrad(a, x) (the
 *   derivative of a Gamma(a, 1) sample in a) of f32/f64: XLA's series
 *   (where x <= 1 or x <= a) and continued fraction (at most 2000 steps),
 *   each a while loop that runs while any element is enabled, every
 *   element's state frozen (select) once its own derivative converged;
 *   the loop state is one tuple, c of the continued fraction a scalar.
 *
 * Assumes a call hlo_builder_call accepted (NextAfter: operands of the
 * call's shape and a float type with a sign bit, 8, 16, 32 or 64 bits
 * wide; Polygamma, IgammaGradA, RandomGammaGrad, RegularizedIncompleteBeta:
 * two or three f32 or f64 operands of the call's shape; the others: one
 * complex operand of the call's shape).
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

/* ---- Polygamma and RegularizedIncompleteBeta (XLA's math.cc) ---------- */

/* Lanczos' approximation (g = 7, 9 terms), as XLA's Lgamma and Digamma. */
static const double PI_D = 3.14159265358979323846;
static const double lanczos_base = 0.99999999999980993227684700473478;
static const double lanczos[8] = {
    676.520368121885098567009190444019, -1259.13921672240287047156078755283,
    771.3234287776530788486528258894,   -176.61502916214059906584551354,
    12.507343278686904814458936853,     -0.13857109526572011689554707,
    9.984369578019570859563e-6,         1.50563273514931155834e-7};

static HloInstr *is_inf(AsinB *b, HloInstr *x) {
  return C(b, HLO_CMP_EQ, U(b, HLO_OP_ABS, x), K(b, INFINITY));
}

static HloInstr *lgamma_b(AsinB *b, HloInstr *in) {
  HloInstr *one = K(b, 1), *half = K(b, 0.5);
  HloInstr *reflect = C(b, HLO_CMP_LT, in, half);
  HloInstr *z = S(b, reflect, U(b, HLO_OP_NEGATE, in), B(b, HLO_OP_SUBTRACT, in, one));
  HloInstr *x = K(b, lanczos_base);
  for (int i = 0; i < 8; i++) {
    HloInstr *zi = B(b, HLO_OP_ADD, B(b, HLO_OP_ADD, z, K(b, i)), one);
    x = B(b, HLO_OP_ADD, x, B(b, HLO_OP_DIVIDE, K(b, lanczos[i]), zi));
  }
  HloInstr *t = B(b, HLO_OP_ADD, K(b, 7.5), z);
  HloInstr *log_t =
      B(b, HLO_OP_ADD, K(b, log(7.5)), U(b, HLO_OP_LOG1P, B(b, HLO_OP_DIVIDE, z, K(b, 7.5))));
  HloInstr *log_y = B(
      b, HLO_OP_ADD,
      B(b, HLO_OP_ADD, K(b, (log(2.0) + log(PI_D)) / 2),
        B(b, HLO_OP_MULTIPLY,
          B(b, HLO_OP_SUBTRACT, B(b, HLO_OP_ADD, z, half), B(b, HLO_OP_DIVIDE, t, log_t)), log_t)),
      U(b, HLO_OP_LOG, x));
  HloInstr *ai = U(b, HLO_OP_ABS, in);
  HloInstr *frac = B(b, HLO_OP_SUBTRACT, ai, U(b, HLO_OP_FLOOR, ai));
  HloInstr *red = S(b, C(b, HLO_CMP_GT, frac, half), B(b, HLO_OP_SUBTRACT, one, frac), frac);
  HloInstr *den = U(b, HLO_OP_LOG, U(b, HLO_OP_SIN, B(b, HLO_OP_MULTIPLY, K(b, PI_D), red)));
  HloInstr *refl =
      S(b, U(b, HLO_OP_IS_FINITE, den),
        B(b, HLO_OP_SUBTRACT, B(b, HLO_OP_SUBTRACT, K(b, log(PI_D)), den), log_y),
        U(b, HLO_OP_NEGATE, den));
  return S(b, is_inf(b, in), K(b, INFINITY), S(b, reflect, refl, log_y));
}

static HloInstr *digamma_b(AsinB *b, HloInstr *in) {
  HloInstr *one = K(b, 1), *half = K(b, 0.5), *zero = K(b, 0);
  HloInstr *reflect = C(b, HLO_CMP_LT, in, half);
  HloInstr *z = S(b, reflect, U(b, HLO_OP_NEGATE, in), B(b, HLO_OP_SUBTRACT, in, one));
  HloInstr *num = zero, *den = K(b, lanczos_base);
  for (int i = 0; i < 8; i++) {
    HloInstr *zi = B(b, HLO_OP_ADD, B(b, HLO_OP_ADD, z, K(b, i)), one);
    num = B(b, HLO_OP_SUBTRACT, num,
            B(b, HLO_OP_DIVIDE, K(b, lanczos[i]), B(b, HLO_OP_MULTIPLY, zi, zi)));
    den = B(b, HLO_OP_ADD, den, B(b, HLO_OP_DIVIDE, K(b, lanczos[i]), zi));
  }
  HloInstr *t = B(b, HLO_OP_ADD, K(b, 7.5), z);
  HloInstr *log_t =
      B(b, HLO_OP_ADD, K(b, log(7.5)), U(b, HLO_OP_LOG1P, B(b, HLO_OP_DIVIDE, z, K(b, 7.5))));
  HloInstr *y = B(b, HLO_OP_SUBTRACT, B(b, HLO_OP_ADD, log_t, B(b, HLO_OP_DIVIDE, num, den)),
                  B(b, HLO_OP_DIVIDE, K(b, 7), t));
  HloInstr *red =
      B(b, HLO_OP_ADD, in, U(b, HLO_OP_ABS, U(b, HLO_OP_FLOOR, B(b, HLO_OP_ADD, in, half))));
  HloInstr *pr = B(b, HLO_OP_MULTIPLY, K(b, PI_D), red);
  HloInstr *refl =
      B(b, HLO_OP_SUBTRACT, y,
        B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, K(b, PI_D), U(b, HLO_OP_COS, pr)),
          U(b, HLO_OP_SIN, pr)));
  HloInstr *r = S(b, C(b, HLO_CMP_EQ, in, zero), K(b, -INFINITY), S(b, reflect, refl, y));
  HloInstr *neg_int =
      B(b, HLO_OP_AND, C(b, HLO_CMP_LT, in, zero), C(b, HLO_CMP_EQ, in, U(b, HLO_OP_FLOOR, in)));
  return S(b, neg_int, K(b, NAN), r);
}

/* Hurwitz zeta(x, q): 10 terms, then Euler-Maclaurin with 12 Bernoulli
 * terms (Horner), XLA's special values. */
static const double zeta_coeffs[12] = {
    -7.1661652561756670113e18, 1.8152105401943546773e17, -4.5979787224074726105e15,
    1.1646782814350067249e14,  -2.950130727918164224e12,  7.47242496e10,
    -1.8924375803183791606e9,  47900160.0,                -1209600.0,
    30240.0,                   -720.0,                    12.0};

static HloInstr *zeta_b(AsinB *b, HloInstr *x, HloInstr *q) {
  HloInstr *one = K(b, 1), *nx = U(b, HLO_OP_NEGATE, x);
  HloInstr *acc = q, *sum = B(b, HLO_OP_POWER, q, nx), *np;
  for (int i = 0; i < 9; i++) {
    acc = B(b, HLO_OP_ADD, acc, one);
    sum = B(b, HLO_OP_ADD, sum, B(b, HLO_OP_POWER, acc, nx));
  }
  acc = B(b, HLO_OP_ADD, acc, one);
  np = B(b, HLO_OP_POWER, acc, nx);
  HloInstr *integral =
      B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, np, acc), B(b, HLO_OP_SUBTRACT, x, one));
  HloInstr *inv_sq = B(b, HLO_OP_DIVIDE, one, B(b, HLO_OP_MULTIPLY, acc, acc));
  HloInstr *horner = K(b, 0);
  for (int i = 0; i < 11; i++) {
    HloInstr *f = B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_ADD, x, K(b, 22 - 2 * i)),
                    B(b, HLO_OP_ADD, x, K(b, 21 - 2 * i)));
    horner = B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_MULTIPLY, f, inv_sq),
               B(b, HLO_OP_ADD, horner, K(b, 1 / zeta_coeffs[i])));
  }
  HloInstr *tail =
      B(b, HLO_OP_MULTIPLY, np,
        B(b, HLO_OP_ADD, K(b, 0.5),
          B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_DIVIDE, x, acc),
            B(b, HLO_OP_ADD, K(b, 1 / zeta_coeffs[11]), horner))));
  HloInstr *accurate = B(b, HLO_OP_ADD, B(b, HLO_OP_ADD, sum, integral), tail);
  double eps = b->rt == HLO_F32 ? 0x1p-23 : 0x1p-52;
  HloInstr *out = S(b,
                    C(b, HLO_CMP_LT, U(b, HLO_OP_ABS, np),
                      B(b, HLO_OP_MULTIPLY, U(b, HLO_OP_ABS, sum), K(b, eps))),
                    sum, accurate);
  out = S(b, C(b, HLO_CMP_EQ, x, one), K(b, INFINITY), out);
  out = S(b, C(b, HLO_CMP_LT, x, one), K(b, NAN), out);
  HloInstr *q_le0 = C(b, HLO_CMP_LE, q, K(b, 0));
  HloInstr *x_int = C(b, HLO_CMP_EQ, x, U(b, HLO_OP_FLOOR, x));
  out = S(b, B(b, HLO_OP_AND, q_le0, U(b, HLO_OP_NOT, x_int)), K(b, NAN), out);
  HloInstr *pole = B(b, HLO_OP_AND, q_le0, C(b, HLO_CMP_EQ, q, U(b, HLO_OP_FLOOR, q)));
  HloInstr *even =
      B(b, HLO_OP_AND, C(b, HLO_CMP_EQ, B(b, HLO_OP_REMAINDER, x, K(b, 2)), K(b, 0)), x_int);
  return S(b, pole, S(b, even, K(b, INFINITY), K(b, NAN)), out);
}

/* Polygamma(n, x): digamma for n = 0, else (-1)^(n+1) n! zeta(n+1, x);
 * for n in 1..4 and a negative non-integer x the reflection
 * -n! zeta(n+1, 1-x) - g_n(x) with g_n = pi d^n/dx^n cot(pi x); NaN unless
 * n is a natural number (XLA's current math.cc). */
static HloInstr *polygamma_b(AsinB *b, HloInstr *n, HloInstr *x) {
  HloInstr *one = K(b, 1), *two = K(b, 2);
  HloInstr *n1 = B(b, HLO_OP_ADD, n, one);
  HloInstr *sign = B(b, HLO_OP_SUBTRACT, B(b, HLO_OP_MULTIPLY, two, B(b, HLO_OP_REMAINDER, n, two)),
                     one);
  HloInstr *pi = K(b, PI_D);
  HloInstr *rx =
      B(b, HLO_OP_ADD, x, U(b, HLO_OP_ABS, U(b, HLO_OP_FLOOR, B(b, HLO_OP_ADD, x, K(b, 0.5)))));
  HloInstr *pix = B(b, HLO_OP_MULTIPLY, pi, rx);
  HloInstr *s = U(b, HLO_OP_SIN, pix), *c = U(b, HLO_OP_COS, pix);
  HloInstr *s2 = B(b, HLO_OP_MULTIPLY, s, s), *s3 = B(b, HLO_OP_MULTIPLY, s2, s);
  HloInstr *s4 = B(b, HLO_OP_MULTIPLY, s2, s2), *s5 = B(b, HLO_OP_MULTIPLY, s4, s);
  HloInstr *pi2 = B(b, HLO_OP_MULTIPLY, pi, pi), *pi3 = B(b, HLO_OP_MULTIPLY, pi2, pi);
  HloInstr *pi4 = B(b, HLO_OP_MULTIPLY, pi2, pi2), *pi5 = B(b, HLO_OP_MULTIPLY, pi4, pi);
  HloInstr *g1 = U(b, HLO_OP_NEGATE, B(b, HLO_OP_DIVIDE, pi2, s2));
  HloInstr *g2 = B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_MULTIPLY, two, pi3), c), s3);
  HloInstr *g3 = B(b, HLO_OP_DIVIDE,
                   B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_MULTIPLY, K(b, -2), pi4),
                     B(b, HLO_OP_ADD, two, U(b, HLO_OP_COS, B(b, HLO_OP_MULTIPLY, two, pix)))),
                   s4);
  HloInstr *c8 = B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_MULTIPLY, K(b, 8), pi5), c);
  HloInstr *g4 = B(b, HLO_OP_DIVIDE,
                   B(b, HLO_OP_MULTIPLY, c8, B(b, HLO_OP_ADD, two, B(b, HLO_OP_MULTIPLY, c, c))),
                   s5);
  HloInstr *gn = S(b, C(b, HLO_CMP_EQ, n, one), g1,
                   S(b, C(b, HLO_CMP_EQ, n, two), g2, S(b, C(b, HLO_CMP_EQ, n, K(b, 3)), g3, g4)));
  HloInstr *fact = U(b, HLO_OP_EXP, lgamma_b(b, n1));
  HloInstr *refl = B(b, HLO_OP_SUBTRACT,
                     B(b, HLO_OP_MULTIPLY, U(b, HLO_OP_NEGATE, fact),
                       zeta_b(b, n1, B(b, HLO_OP_SUBTRACT, one, x))),
                     gn);
  HloInstr *use_refl =
      B(b, HLO_OP_AND,
        B(b, HLO_OP_AND, C(b, HLO_CMP_LT, x, K(b, 0)), C(b, HLO_CMP_NE, x, U(b, HLO_OP_FLOOR, x))),
        B(b, HLO_OP_AND, C(b, HLO_CMP_GE, n, one), C(b, HLO_CMP_LE, n, K(b, 4))));
  HloInstr *direct = B(b, HLO_OP_MULTIPLY, B(b, HLO_OP_MULTIPLY, sign, fact), zeta_b(b, n1, x));
  HloInstr *out = S(b, C(b, HLO_CMP_EQ, n, K(b, 0)), digamma_b(b, x), S(b, use_refl, refl, direct));
  HloInstr *bad =
      B(b, HLO_OP_OR, C(b, HLO_CMP_NE, n, U(b, HLO_OP_FLOOR, n)), C(b, HLO_CMP_LT, n, K(b, 0)));
  return S(b, bad, K(b, NAN), out);
}

/* RegularizedIncompleteBeta(a, b, x): XLA's continued fraction (DLMF
 * 8.17.22-23) by the Lentz-Thompson-Barnett algorithm, in a while loop
 * over (iteration, unconverged, c, d, h, a, b, x) that stops after 200
 * (f64: 600) iterations or once every |delta - 1| < eps/2; a, b swapped
 * and x -> 1 - x where x >= (a + 1)/(a + b + 2); NaN outside a, b > 0,
 * 0 <= x <= 1. */
enum { BI_IT, BI_UNCONV, BI_C, BI_D, BI_H, BI_A, BI_B, BI_X, BI_N };

static HloInstr *gte(HloComputation *c, HloInstr *t, int k) {
  HloError *e = NULL;
  return px_built(hlo_build_get_tuple_element(c, t, k, &e), e, NULL);
}

static HloInstr *betainc_b(AsinB *b, HloInstr *a, HloInstr *bb, HloInstr *x) {
  HloModule *m = b->at.c->module;
  bool f32 = b->rt == HLO_F32;
  double small = f32 ? 0x1p-24 : 0x1p-53;
  int64_t iters = f32 ? 200 : 600;
  HloInstr *one = K(b, 1);
  HloInstr *bad = B(b, HLO_OP_OR,
                    B(b, HLO_OP_OR, C(b, HLO_CMP_LE, a, K(b, 0)), C(b, HLO_CMP_LE, bb, K(b, 0))),
                    B(b, HLO_OP_OR, C(b, HLO_CMP_LT, x, K(b, 0)), C(b, HLO_CMP_GT, x, one)));
  HloInstr *fast = C(b, HLO_CMP_LT, x,
                     B(b, HLO_OP_DIVIDE, B(b, HLO_OP_ADD, a, one),
                       B(b, HLO_OP_ADD, B(b, HLO_OP_ADD, a, bb), K(b, 2))));
  HloInstr *a2 = S(b, fast, a, bb), *b2 = S(b, fast, bb, a);
  HloInstr *x2 = S(b, fast, x, B(b, HLO_OP_SUBTRACT, one, x));
  /* The loop. */
  HloShape es[BI_N];
  es[BI_IT] = hlo_shape_scalar(HLO_S32);
  es[BI_UNCONV] = hlo_shape_scalar(HLO_PRED);
  for (int k = BI_C; k < BI_N; k++) es[k] = x->shape;
  HloShape ts = hlo_shape_tuple(m->arena, BI_N, es);
  HloComputation *body = hlo_computation_new(m, "betainc_body");
  hlo_computation_move_first(body);
  HloInstr *p = hlo_parameter_new(body, 0, &ts, "state");
  AsinB in = {{body, NULL}, b->rt, b->shape};
  HloInstr *v[BI_N];
  for (int k = 0; k < BI_N; k++) v[k] = gte(body, p, k);
  PxAt bat = in.at;
  HloInstr *it = v[BI_IT];
  HloInstr *mi = px_binary(bat, HLO_OP_DIVIDE,
                           px_binary(bat, HLO_OP_SUBTRACT, it, px_scalar(bat, HLO_S32, 1, NULL)),
                           px_scalar(bat, HLO_S32, 2, NULL));
  HloInstr *mm = px_broadcast_leading(bat, px_convert(bat, mi, b->rt), b->shape);
  HloInstr *even = px_broadcast_leading(
      bat,
      px_compare(bat, HLO_CMP_EQ,
                 px_binary(bat, HLO_OP_REMAINDER, it, px_scalar(bat, HLO_S32, 2, NULL)),
                 px_scalar(bat, HLO_S32, 0, NULL)),
      b->shape);
  HloInstr *first = px_broadcast_leading(
      bat, px_compare(bat, HLO_CMP_EQ, it, px_scalar(bat, HLO_S32, 1, NULL)), b->shape);
  HloInstr *va = v[BI_A], *vb = v[BI_B], *vx = v[BI_X], *ione = K(&in, 1);
  HloInstr *a2m = B(&in, HLO_OP_ADD, va, B(&in, HLO_OP_MULTIPLY, K(&in, 2), mm));
  HloInstr *even_num = B(
      &in, HLO_OP_DIVIDE,
      B(&in, HLO_OP_MULTIPLY,
        B(&in, HLO_OP_MULTIPLY, U(&in, HLO_OP_NEGATE, B(&in, HLO_OP_ADD, va, mm)),
          B(&in, HLO_OP_ADD, B(&in, HLO_OP_ADD, va, vb), mm)),
        vx),
      B(&in, HLO_OP_MULTIPLY, a2m, B(&in, HLO_OP_ADD, a2m, ione)));
  HloInstr *odd_num = B(
      &in, HLO_OP_DIVIDE,
      B(&in, HLO_OP_MULTIPLY, B(&in, HLO_OP_MULTIPLY, mm, B(&in, HLO_OP_SUBTRACT, vb, mm)), vx),
      B(&in, HLO_OP_MULTIPLY, B(&in, HLO_OP_SUBTRACT, a2m, ione), a2m));
  HloInstr *num = S(&in, first, ione, S(&in, even, even_num, odd_num));
  HloInstr *ks = K(&in, small);
  HloInstr *c = B(&in, HLO_OP_ADD, ione, B(&in, HLO_OP_DIVIDE, num, v[BI_C]));
  c = S(&in, C(&in, HLO_CMP_LT, U(&in, HLO_OP_ABS, c), ks), ks, c);
  HloInstr *d = B(&in, HLO_OP_ADD, ione, B(&in, HLO_OP_MULTIPLY, num, v[BI_D]));
  d = S(&in, C(&in, HLO_CMP_LT, U(&in, HLO_OP_ABS, d), ks), ks, d);
  d = B(&in, HLO_OP_DIVIDE, ione, d);
  HloInstr *delta = B(&in, HLO_OP_MULTIPLY, c, d);
  HloInstr *h = B(&in, HLO_OP_MULTIPLY, v[BI_H], delta);
  HloInstr *far =
      C(&in, HLO_CMP_GE, U(&in, HLO_OP_ABS, B(&in, HLO_OP_SUBTRACT, delta, ione)), ks);
  HloInstr *unconv = far;
  if (b->shape->rank) {
    int64_t dims[HLO_MAX_RANK];
    for (int k = 0; k < b->shape->rank; k++) dims[k] = k;
    HloInstr *no = px_scalar(bat, HLO_PRED, 0, NULL);
    HloComputation *or_c = hlo_build_scalar_computation(m, HLO_OP_OR, HLO_PRED);
    HloError *e = NULL;
    unconv = px_built(hlo_build_reduce(body, &far, &no, 1, dims, b->shape->rank, or_c, &e), e,
                      NULL);
  }
  HloInstr *next[BI_N] = {px_binary(bat, HLO_OP_ADD, it, px_scalar(bat, HLO_S32, 1, NULL)),
                          unconv, c, d, h, va, vb, vx};
  HloError *e = NULL;
  hlo_set_root(body, px_built(hlo_build_tuple(body, next, BI_N, &e), e, NULL));
  HloComputation *cond = hlo_computation_new(m, "betainc_condition");
  hlo_computation_move_first(cond);
  PxAt cat = {cond, NULL};
  HloInstr *cp = hlo_parameter_new(cond, 0, &ts, "state");
  hlo_set_root(cond, px_binary(cat, HLO_OP_AND,
                               px_compare(cat, HLO_CMP_LT, gte(cond, cp, BI_IT),
                                          px_scalar(cat, HLO_S32, (double)iters, NULL)),
                               gte(cond, cp, BI_UNCONV)));
  HloInstr *h0 = K(b, small);
  HloInstr *init[BI_N] = {px_scalar(b->at, HLO_S32, 1, NULL), px_scalar(b->at, HLO_PRED, 1, NULL),
                          h0, K(b, 0), h0, a2, b2, x2};
  HloInstr *t = px_built(hlo_build_tuple(b->at.c, init, BI_N, &e), e, b->at.before);
  HloInstr *w = hlo_instr_new(b->at.c, HLO_OP_WHILE, &ts, &t, 1, "betainc");
  HloComputation *called[2] = {cond, body};
  hlo_instr_set_called(w, called, 2);
  if (b->at.before) hlo_instr_move_before(w, b->at.before);
  HloInstr *cf = px_built(hlo_build_get_tuple_element(b->at.c, w, BI_H, &e), e, b->at.before);
  HloInstr *lbeta = B(b, HLO_OP_SUBTRACT, B(b, HLO_OP_ADD, lgamma_b(b, a2), lgamma_b(b, b2)),
                      lgamma_b(b, B(b, HLO_OP_ADD, a2, b2)));
  HloInstr *ex = B(b, HLO_OP_SUBTRACT,
                   B(b, HLO_OP_ADD, B(b, HLO_OP_MULTIPLY, U(b, HLO_OP_LOG, x2), a2),
                     B(b, HLO_OP_MULTIPLY, U(b, HLO_OP_LOG1P, U(b, HLO_OP_NEGATE, x2)), b2)),
                   lbeta);
  HloInstr *r = B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, cf, U(b, HLO_OP_EXP, ex)), a2);
  r = S(b, bad, K(b, NAN), r);
  return S(b, fast, r, B(b, HLO_OP_SUBTRACT, one, r));
}

/* A while loop over the tuple of init[0..n) (the first, `enabled`, a pred
 * array or scalar): ld->v[k] are the state's elements in the body, which
 * the caller's next[k] replaces; it runs while `more` (built on
 * ld->cv[k], the elements in the condition) holds. */
#define LOOP_MAX 16
typedef struct Loop {
  HloComputation *body, *cond;
  HloInstr *v[LOOP_MAX], *cv[LOOP_MAX];
  HloShape ts;
  int n;
} Loop;

static void loop_begin(Loop *l, HloModule *m, HloInstr *const *init, int n, const char *name) {
  HloShape es[LOOP_MAX];
  for (int k = 0; k < n; k++) es[k] = init[k]->shape;
  l->n = n;
  l->ts = hlo_shape_tuple(m->arena, n, es);
  l->body = hlo_computation_new(m, name);
  hlo_computation_move_first(l->body);
  l->cond = hlo_computation_new(m, "loop_condition");
  hlo_computation_move_first(l->cond);
  HloInstr *p = hlo_parameter_new(l->body, 0, &l->ts, "state");
  HloInstr *cp = hlo_parameter_new(l->cond, 0, &l->ts, "state");
  for (int k = 0; k < n; k++) l->v[k] = gte(l->body, p, k), l->cv[k] = gte(l->cond, cp, k);
}

static void loop_end(Loop *l, PxAt at, HloInstr *const *init, HloInstr *const *next,
                     HloInstr *more, HloInstr **out) {
  HloError *e = NULL;
  hlo_set_root(l->body, px_built(hlo_build_tuple(l->body, next, l->n, &e), e, NULL));
  hlo_set_root(l->cond, more);
  HloInstr *t = px_built(hlo_build_tuple(at.c, init, l->n, &e), e, at.before);
  HloInstr *w = hlo_instr_new(at.c, HLO_OP_WHILE, &l->ts, &t, 1, "loop");
  HloComputation *called[2] = {l->cond, l->body};
  hlo_instr_set_called(w, called, 2);
  if (at.before) hlo_instr_move_before(w, at.before);
  for (int k = 0; k < l->n; k++)
    out[k] = px_built(hlo_build_get_tuple_element(at.c, w, k, &e), e, at.before);
}

/* Whether any element of the pred p (in computation at.c) is true. */
static HloInstr *any(PxAt at, HloInstr *p) {
  if (!p->shape.rank) return p;
  int64_t dims[HLO_MAX_RANK];
  for (int k = 0; k < p->shape.rank; k++) dims[k] = k;
  HloInstr *no = px_scalar(at, HLO_PRED, 0, NULL);
  HloComputation *f = hlo_build_scalar_computation(at.c->module, HLO_OP_OR, HLO_PRED);
  HloError *e = NULL;
  return px_built(hlo_build_reduce(at.c, &p, &no, 1, dims, p->shape.rank, f, &e), e, at.before);
}

/* XLA's IgammaSeries in the DERIVATIVE (sample false) or
 * SAMPLE_DERIVATIVE mode: while any element is enabled, r += 1, dc_da =
 * dc_da (x/r) - c x/r^2, dans_da += dc_da, c *= x/r, ans += c, each
 * element enabled while |dc_da/dans_da| > eps and, a guard XLA does not
 * have (the evaluator's), for at most 2^20 terms: where a + 1 == a the
 * ratio never falls and XLA's loop never ends. */
static HloInstr *igamma_series(AsinB *b, HloInstr *ax, HloInstr *x, HloInstr *a, HloInstr *en,
                               bool sample, double eps) {
  HloInstr *init[8] = {en, a, K(b, 1), K(b, 1), x, K(b, 0), K(b, 0), K(b, 0)};
  Loop l;
  loop_begin(&l, b->at.c->module, init, 8, "igamma_series");
  AsinB in = {{l.body, NULL}, b->rt, b->shape};
  HloInstr **v = l.v;
  HloInstr *r = B(&in, HLO_OP_ADD, v[1], K(&in, 1));
  HloInstr *xr = B(&in, HLO_OP_DIVIDE, v[4], r);
  HloInstr *dc = B(&in, HLO_OP_ADD, B(&in, HLO_OP_MULTIPLY, v[5], xr),
                   B(&in, HLO_OP_DIVIDE,
                     B(&in, HLO_OP_MULTIPLY, B(&in, HLO_OP_MULTIPLY, K(&in, -1), v[2]), v[4]),
                     B(&in, HLO_OP_MULTIPLY, r, r)));
  HloInstr *dans = B(&in, HLO_OP_ADD, v[6], dc);
  HloInstr *c = B(&in, HLO_OP_MULTIPLY, v[2], xr);
  HloInstr *ans = B(&in, HLO_OP_ADD, v[3], c);
  HloInstr *terms = B(&in, HLO_OP_ADD, v[7], K(&in, 1)); /* exact: 2^20 < 2^24 */
  HloInstr *go = B(&in, HLO_OP_AND, v[0],
                   C(&in, HLO_CMP_GT, U(&in, HLO_OP_ABS, B(&in, HLO_OP_DIVIDE, dc, dans)),
                     K(&in, eps)));
  go = B(&in, HLO_OP_AND, go, C(&in, HLO_CMP_LT, terms, K(&in, 0x1p20)));
  HloInstr *nv[8] = {go, r, c, ans, v[4], dc, dans, terms};
  HloInstr *next[8] = {go};
  for (int k = 1; k < 8; k++) next[k] = S(&in, v[0], nv[k], v[k]);
  HloInstr *out[8];
  loop_end(&l, b->at, init, next, any((PxAt){l.cond, NULL}, l.cv[0]), out);
  HloInstr *dg = digamma_b(b, B(b, HLO_OP_ADD, a, K(b, 1)));
  HloInstr *dl = B(b, HLO_OP_SUBTRACT, U(b, HLO_OP_LOG, x), dg);
  HloInstr *ad = B(b, HLO_OP_MULTIPLY, out[3], dl);
  if (sample)
    return B(b, HLO_OP_DIVIDE,
             B(b, HLO_OP_MULTIPLY, U(b, HLO_OP_NEGATE, B(b, HLO_OP_ADD, out[6], ad)), x), a);
  return B(b, HLO_OP_DIVIDE, B(b, HLO_OP_MULTIPLY, ax, B(b, HLO_OP_ADD, ad, out[6])), a);
}

/* XLA's IgammacContinuedFraction in the derivative modes: at most 2000
 * steps of the convergents pk/qk and their derivatives in a (rescaled by
 * eps when |pk| > 1/eps), each element enabled while the derivative
 * changes by more than eps; c (the step) is one scalar. */
static HloInstr *igammac_cf(AsinB *b, HloInstr *ax, HloInstr *x, HloInstr *a, HloInstr *en,
                            bool sample, double eps) {
  HloInstr *y = B(b, HLO_OP_SUBTRACT, K(b, 1), a);
  HloInstr *z = B(b, HLO_OP_ADD, B(b, HLO_OP_ADD, x, y), K(b, 1));
  HloInstr *pkm1 = B(b, HLO_OP_ADD, x, K(b, 1)), *qkm1 = B(b, HLO_OP_MULTIPLY, z, x);
  HloInstr *ans = B(b, HLO_OP_DIVIDE, pkm1, qkm1);
  HloInstr *dqkm1 = U(b, HLO_OP_NEGATE, x);
  HloInstr *dans =
      B(b, HLO_OP_DIVIDE, B(b, HLO_OP_SUBTRACT, K(b, 0), B(b, HLO_OP_MULTIPLY, ans, dqkm1)), qkm1);
  HloInstr *c0 = px_scalar(b->at, b->rt, 0, NULL);
  HloInstr *init[15] = {en,      ans,     K(b, 1), y,       z,     c0,    pkm1, qkm1,
                        K(b, 1), x,       K(b, 0), K(b, 0), K(b, 0), dqkm1, dans};
  Loop l;
  loop_begin(&l, b->at.c->module, init, 15, "igammac_cf");
  AsinB in = {{l.body, NULL}, b->rt, b->shape};
  HloInstr **v = l.v;
  HloInstr *c = px_binary(in.at, HLO_OP_ADD, v[5], px_scalar(in.at, b->rt, 1, NULL));
  HloInstr *cb = px_broadcast_leading(in.at, c, b->shape);
  HloInstr *yy = B(&in, HLO_OP_ADD, v[3], K(&in, 1)), *zz = B(&in, HLO_OP_ADD, v[4], K(&in, 2));
  HloInstr *yc = B(&in, HLO_OP_MULTIPLY, yy, cb);
  HloInstr *pk = B(&in, HLO_OP_SUBTRACT, B(&in, HLO_OP_MULTIPLY, v[6], zz),
                   B(&in, HLO_OP_MULTIPLY, v[8], yc));
  HloInstr *qk = B(&in, HLO_OP_SUBTRACT, B(&in, HLO_OP_MULTIPLY, v[7], zz),
                   B(&in, HLO_OP_MULTIPLY, v[9], yc));
  HloInstr *nz = C(&in, HLO_CMP_NE, qk, K(&in, 0));
  HloInstr *r = B(&in, HLO_OP_DIVIDE, pk, qk);
  HloInstr *rel = B(&in, HLO_OP_DIVIDE, B(&in, HLO_OP_SUBTRACT, v[1], r), r);
  HloInstr *t = S(&in, nz, U(&in, HLO_OP_ABS, rel), K(&in, 1));
  HloInstr *an = S(&in, nz, r, v[1]);
  HloInstr *dpk = B(&in, HLO_OP_ADD,
                    B(&in, HLO_OP_SUBTRACT,
                      B(&in, HLO_OP_SUBTRACT, B(&in, HLO_OP_MULTIPLY, v[12], zz), v[6]),
                      B(&in, HLO_OP_MULTIPLY, v[10], yc)),
                    B(&in, HLO_OP_MULTIPLY, v[8], cb));
  HloInstr *dqk = B(&in, HLO_OP_ADD,
                    B(&in, HLO_OP_SUBTRACT,
                      B(&in, HLO_OP_SUBTRACT, B(&in, HLO_OP_MULTIPLY, v[13], zz), v[7]),
                      B(&in, HLO_OP_MULTIPLY, v[11], yc)),
                    B(&in, HLO_OP_MULTIPLY, v[9], cb));
  HloInstr *dnum = B(&in, HLO_OP_SUBTRACT, dpk, B(&in, HLO_OP_MULTIPLY, an, dqk));
  HloInstr *dn = S(&in, nz, B(&in, HLO_OP_DIVIDE, dnum, qk), v[14]);
  HloInstr *grad = S(&in, nz, U(&in, HLO_OP_ABS, B(&in, HLO_OP_SUBTRACT, dn, v[14])), K(&in, 1));
  HloInstr *rs = C(&in, HLO_CMP_GT, U(&in, HLO_OP_ABS, pk), K(&in, 1 / eps));
  HloInstr *ke = K(&in, eps);
#define RESCALE(X) S(&in, rs, B(&in, HLO_OP_MULTIPLY, X, ke), X)
  HloInstr *nv[15] = {NULL,          an,           t,           yy,
                      zz,            c,            RESCALE(pk), RESCALE(qk),
                      RESCALE(v[6]), RESCALE(v[7]), RESCALE(v[12]), RESCALE(v[13]),
                      RESCALE(dpk),  RESCALE(dqk), dn};
#undef RESCALE
  HloInstr *go = B(&in, HLO_OP_AND, v[0], C(&in, HLO_CMP_GT, grad, K(&in, eps)));
  HloInstr *next[15] = {go};
  for (int k = 1; k < 15; k++) next[k] = k == 5 ? c : S(&in, v[0], nv[k], v[k]);
  PxAt cat = {l.cond, NULL};
  HloInstr *more =
      px_binary(cat, HLO_OP_AND,
                px_compare(cat, HLO_CMP_LT, l.cv[5], px_scalar(cat, b->rt, 2000, NULL)),
                any(cat, l.cv[0]));
  HloInstr *out[15];
  loop_end(&l, b->at, init, next, more, out);
  HloInstr *dl = B(b, HLO_OP_SUBTRACT, U(b, HLO_OP_LOG, x), digamma_b(b, a));
  HloInstr *ad = B(b, HLO_OP_MULTIPLY, out[1], dl);
  if (sample)
    return B(b, HLO_OP_MULTIPLY, U(b, HLO_OP_NEGATE, B(b, HLO_OP_ADD, out[14], ad)), x);
  return B(b, HLO_OP_MULTIPLY, ax, B(b, HLO_OP_ADD, ad, out[14]));
}

/* IgammaGradA(a, x) (sample false) or RandomGammaGrad(a, x): the series
 * where x <= 1 or x <= a, else minus the continued fraction; 0 at x = 0,
 * NaN for x < 0, a <= 0 or a NaN input (XLA's math.cc). */
static HloInstr *igamma_grad_b(AsinB *b, HloInstr *a, HloInstr *x, bool sample) {
  bool f32 = b->rt == HLO_F32;
  double eps = f32 ? 0x1p-23 : 0x1p-52;
  double maxf = f32 ? 3.4028234663852886e38 : 1.7976931348623157e308;
  HloInstr *nan_in = B(b, HLO_OP_OR, C(b, HLO_CMP_NE, a, a), C(b, HLO_CMP_NE, x, x));
  HloInstr *x0 = C(b, HLO_CMP_EQ, x, K(b, 0));
  HloInstr *dom = B(b, HLO_OP_OR, C(b, HLO_CMP_LT, x, K(b, 0)), C(b, HLO_CMP_LE, a, K(b, 0)));
  HloInstr *use_c = B(b, HLO_OP_AND, C(b, HLO_CMP_GT, x, K(b, 1)), C(b, HLO_CMP_GT, x, a));
  HloInstr *ax = B(b, HLO_OP_SUBTRACT,
                   B(b, HLO_OP_SUBTRACT, B(b, HLO_OP_MULTIPLY, a, U(b, HLO_OP_LOG, x)), x),
                   lgamma_b(b, a));
  HloInstr *under = C(b, HLO_CMP_LT, ax, K(b, -log(maxf)));
  ax = U(b, HLO_OP_EXP, ax);
  HloInstr *en = U(b, HLO_OP_NOT, B(b, HLO_OP_OR, B(b, HLO_OP_OR, B(b, HLO_OP_OR, x0, dom), under),
                                    nan_in));
  HloInstr *cf = igammac_cf(b, ax, x, a, B(b, HLO_OP_AND, en, use_c), sample, eps);
  HloInstr *ser =
      igamma_series(b, ax, x, a, B(b, HLO_OP_AND, en, U(b, HLO_OP_NOT, use_c)), sample, eps);
  HloInstr *out = S(b, use_c, U(b, HLO_OP_NEGATE, cf), ser);
  out = S(b, x0, K(b, 0), out);
  return S(b, B(b, HLO_OP_OR, dom, nan_in), K(b, NAN), out);
}

HloInstr *px_expand_builder_math(HloInstr *in) {
  PxAt at = {in->parent, in};
  const char *t = in->custom_call_target;
  if (t && !strcmp(t, "xla_builder.math.Polygamma")) {
    AsinB b = {at, in->shape.type, &in->shape};
    return px_with_layout(polygamma_b(&b, in->operands[0], in->operands[1]), &in->shape, in);
  }
  if (t && !strcmp(t, "xla_builder.math.RegularizedIncompleteBeta")) {
    AsinB b = {at, in->shape.type, &in->shape};
    HloInstr *const *o = in->operands;
    return px_with_layout(betainc_b(&b, o[0], o[1], o[2]), &in->shape, in);
  }
  bool grad_a = t && !strcmp(t, "xla_builder.math.IgammaGradA");
  if (grad_a || (t && !strcmp(t, "xla_builder.math.RandomGammaGrad"))) {
    AsinB b = {at, in->shape.type, &in->shape};
    HloInstr *r = igamma_grad_b(&b, in->operands[0], in->operands[1], !grad_a);
    return px_with_layout(r, &in->shape, in);
  }
  if (t && !strcmp(t, "xla_builder.math.NextAfter"))
    return px_with_layout(next_after(at, in->operands[0], in->operands[1]), &in->shape, in);
  if (t && hlo_type_is_complex(in->shape.type) && !strncmp(t, "xla_builder.math.", 17))
    return px_with_layout(complex_fn(at, t + 17, in->operands[0]), &in->shape, in);
  return NULL;
}
