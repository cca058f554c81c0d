/*
 * batchnorm_expand.c — batch-norm-inference becomes arithmetic:
 *   s     = scale * rsqrt(variance + epsilon)          (per feature)
 *   shift = offset - mean * s                          (per feature)
 *   out   = operand * broadcast(s) + broadcast(shift)
 * With constant statistics (a frozen model) constant folding turns s and
 * shift into two small vectors, and scale-fold then moves s into the
 * weights of the convolution or dot that produced `operand`.  Doing the
 * per-feature work on [C] vectors first keeps it out of the big loop even
 * when the statistics are not constant.
 *
 * requires: a verified module.
 * keeps:    values up to rounding (the factorisation reassociates).
 * breaks:   nothing.
 */
#include <stdlib.h>

#include "internal.h"

static HloInstr *bin(HloOpcode op, HloInstr *a, HloInstr *b, HloInstr *before) {
  HloError *e = NULL;
  return px_built(hlo_build_binary(before->parent, op, a, b, &e), e, before);
}

static HloInstr *expand(HloInstr *bn) {
  HloComputation *c = bn->parent;
  HloInstr *x = bn->operands[0], *scale = bn->operands[1], *offset = bn->operands[2];
  HloInstr *mean = bn->operands[3], *var = bn->operands[4];
  HloInstr *eps = px_broadcast_scalar(c, &var->shape, bn->epsilon, bn);
  HloError *e = NULL;
  HloInstr *rs = px_built(hlo_build_unary(c, HLO_OP_RSQRT, bin(HLO_OP_ADD, var, eps, bn), &e),
                          e, bn);
  HloInstr *s = bin(HLO_OP_MULTIPLY, scale, rs, bn);
  HloInstr *shift = bin(HLO_OP_SUBTRACT, offset, bin(HLO_OP_MULTIPLY, mean, s, bn), bn);
  int64_t fi = bn->feature_index;
  HloInstr *sb = px_built(hlo_build_broadcast(c, s, &x->shape, &fi, 1, &e), e, bn);
  HloInstr *shb = px_built(hlo_build_broadcast(c, shift, &x->shape, &fi, 1, &e), e, bn);
  HloInstr *out = bin(HLO_OP_ADD, bin(HLO_OP_MULTIPLY, x, sb, bn), shb, bn);
  out->metadata = bn->metadata;
  return out;
}

static HloInstr *rewrite(HloInstr *in) {
  return in->op == HLO_OP_BATCH_NORM_INFERENCE ? expand(in) : NULL;
}

bool pass_batchnorm_expand(HloModule *m) { return px_rewrite_each(m, false, rewrite); }
