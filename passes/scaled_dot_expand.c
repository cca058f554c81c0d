/*
 * scaled_dot_expand.c — scaled-dot as a dot of its operands multiplied by
 * their scales, as XLA's ScaledDotRewriter dequantizes them.
 *
 * scaled-dot(lhs, rhs, lhs_scale, rhs_scale) has a scale per block of
 * operand elements: a scale of the operand's rank whose dims divide the
 * operand's, element idx of the operand taking scale[idx / (dim / sdim)].
 * Each operand is converted to the result type and multiplied by its
 * scale, converted too and broadcast over the blocks: a broadcast to
 * [s0, d0/s0, s1, d1/s1, …] (no block dim where a scale dim equals the
 * operand's, no scale dim where it is 1) reshaped to the operand's dims; a scalar scale (XLA's no-op
 * scale) leaves the operand as it is.  Then a dot with the same dims and
 * result type.  The evaluator rounds the same products in the result type
 * (hlo/evaluator.c), so results differ only by summation order.
 *
 * requires: a verified module.
 * keeps:    the replaced instruction's shape.
 * breaks:   nothing.
 */
#include "internal.h"

/* x in type t times its scale s broadcast over the blocks; NULL when the
 * broadcast would exceed the maximum rank. */
static HloInstr *dequantize(PxAt at, HloInstr *x, HloInstr *s, HloType t) {
  HloInstr *xt = px_convert(at, x, t);
  if (s->shape.rank == 0) return xt;
  const HloShape *xs = &x->shape, *ss = &s->shape;
  /* A scale dim of 1 covers the whole operand dim: it is reshaped away
   * and the broadcast gives that dim directly. */
  int64_t dims[2 * HLO_MAX_RANK], map[HLO_MAX_RANK], kept[HLO_MAX_RANK];
  int n = 0, nk = 0;
  for (int d = 0; d < xs->rank; d++) {
    if (ss->dims[d] == 1 && xs->dims[d] != 1) {
      dims[n++] = xs->dims[d];
      continue;
    }
    kept[nk] = ss->dims[d];
    map[nk++] = n;
    dims[n++] = ss->dims[d];
    if (xs->dims[d] != ss->dims[d]) dims[n++] = xs->dims[d] / ss->dims[d];
  }
  if (n > HLO_MAX_RANK) return NULL;
  HloShape bs = hlo_shape_array(t, n, dims);
  HloError *e = NULL;
  HloInstr *sk = px_reshape(at, px_convert(at, s, t), nk, kept);
  HloInstr *b = px_built(hlo_build_broadcast(at.c, sk, &bs, map, nk, &e), e, at.before);
  HloInstr *full = px_reshape(at, b, xs->rank, xs->dims);
  return px_binary(at, HLO_OP_MULTIPLY, xt, full);
}

HloInstr *px_expand_scaled_dot(HloInstr *in) {
  if (in->op != HLO_OP_SCALED_DOT) return NULL;
  PxAt at = {in->parent, in};
  HloType t = in->shape.type;
  HloInstr *a = dequantize(at, in->operands[0], in->operands[2], t);
  HloInstr *b = a ? dequantize(at, in->operands[1], in->operands[3], t) : NULL;
  if (!b) return NULL;
  HloError *e = NULL;
  HloInstr *r = px_built(hlo_build_dot(in->parent, a, b, &in->dot, t, &e), e, in);
  return px_with_layout(r, &in->shape, in);
}
