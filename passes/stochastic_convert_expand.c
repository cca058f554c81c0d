/*
 * stochastic_convert_expand.c — stochastic-convert(x, random) rewritten
 * into elementwise HLO, as XLA's StochasticConvertDecomposer does.
 *
 * |x| is truncated (floor), and rounded up when random is below the
 * fraction |x| - floor(|x|) scaled to random's width (times 2^bits, in
 * x's type, f32 for f16 whose range ends below 2^16: exact either way,
 * then converted to random's type); x below zero negates the result, and
 * x at or below the result type's minimum (at or above its maximum), as
 * x's type rounds those, gives that minimum (maximum).  The steps are
 * XLA's, in its order; hlo/'s evaluator computes the same.
 *
 * px_expand_op (expand_ops.c) hands stochastic-convert here, in
 * single_device.c's walk, so this runs first in the pipeline and under
 * --O0 alike.
 *
 * requires: a verified stochastic-convert (f16/bf16/f32/f64 to a signed
 *           integer type, random unsigned and as wide as x).
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing.
 */
#include <math.h>

#include "internal.h"

/* The integer v of type t (exact, which a double is not for s64's
 * bounds) broadcast to shape. */
static HloInstr *int_splat(PxAt at, HloType t, int64_t v, const HloShape *shape) {
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  hlo_literal_set_s64(lit, 0, v);
  HloInstr *k = hlo_constant_new(at.c, lit, "constant");
  if (at.before) hlo_instr_move_before(k, at.before);
  return px_broadcast_leading(at, k, shape);
}

HloInstr *px_expand_stochastic_convert(HloInstr *in) {
  if (in->op != HLO_OP_STOCHASTIC_CONVERT) return NULL;
  PxAt at = {in->parent, in};
  HloInstr *x = in->operands[0], *random = in->operands[1];
  const HloShape *s = &x->shape;
  HloType t = in->shape.type, xt = s->type, rt = random->shape.type;
  int bits = hlo_type_bits(t);

  HloInstr *negative = px_compare(at, HLO_CMP_LT, px_unary(at, HLO_OP_SIGN, x),
                                  px_scalar(at, xt, 0, s));
  HloInstr *a = px_unary(at, HLO_OP_ABS, x);
  HloInstr *whole = px_unary(at, HLO_OP_FLOOR, a);
  HloInstr *frac = px_binary(at, HLO_OP_SUBTRACT, a, whole);
  if (xt == HLO_F16) frac = px_convert(at, frac, HLO_F32);
  HloInstr *fixed = px_binary(at, HLO_OP_MULTIPLY, frac,
                              px_scalar(at, frac->shape.type, ldexp(1, hlo_type_bits(rt)), s));
  HloInstr *up = px_compare(at, HLO_CMP_LT, random, px_convert(at, fixed, rt));
  HloInstr *q = px_convert(at, whole, t);
  q = px_select(at, up, px_binary(at, HLO_OP_ADD, q, px_scalar(at, t, 1, &q->shape)), q);
  q = px_select(at, negative, px_unary(at, HLO_OP_NEGATE, q), q);

  /* The type's bounds, as integers and as x's type rounds them. */
  int64_t min = (int64_t)(~(uint64_t)0 << (bits - 1));
  int64_t max = (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
  HloInstr *is_min = px_compare(at, HLO_CMP_LE, x, px_scalar(at, xt, (double)min, s));
  q = px_select(at, is_min, int_splat(at, t, min, &q->shape), q);
  HloInstr *is_max = px_compare(at, HLO_CMP_GE, x, px_scalar(at, xt, (double)max, s));
  return px_select(at, is_max, int_splat(at, t, max, &q->shape), q);
}
