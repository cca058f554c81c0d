/*
 * batchnorm_train_expand.c — batch-norm-training and batch-norm-grad
 * rewritten into reductions over every dimension but feature_index and
 * elementwise arithmetic, as XLA's BatchNormExpander does.  With N
 * elements per feature, d = x - mean and r = rsqrt(variance + epsilon):
 *
 *   training(x, scale, offset):
 *     mean = sum(x) / N,  variance = sum(d * d) / N  (biased, two passes)
 *     -> (d * (r * scale) + offset, mean, variance)
 *   grad(x, scale, mean, variance, dy):
 *     -> (scale * r * (dy - sum(dy) / N - d * (r * r * sum(dy * d) / N)),
 *         sum(dy * d) * r, sum(dy))
 *
 * The per-feature factors are computed on the [C] vectors and broadcast,
 * so the big loops hold one multiply-add.  f16 and bf16 are computed in
 * f32 and rounded once (XLA's float normalization does the same); f32 in
 * f32, f64 in f64.  hlo/'s evaluator computes the same formulas in f64,
 * so the two agree to f32 rounding of sums over N elements.
 *
 * px_expand_op (expand_ops.c) hands both ops here, in single_device.c's
 * walk, so this runs first in the pipeline and under --O0 alike
 * (batch-norm-inference has a kernel of its own and its own pass,
 * batchnorm_expand.c).
 *
 * requires: a verified batch-norm-training or batch-norm-grad.
 * keeps:    the result's shape (px_expand_op restores its layouts).
 * breaks:   nothing.
 */
#include "internal.h"

/* One op being expanded: where new instructions go, the feature
 * dimension, the type computed in and x's shape in that type. */
typedef struct Bn {
  PxAt at;
  int64_t fi;
  HloType ct;
  HloShape xs;
  HloShape fs; /* [C] in ct */
} Bn;

/* The sum of v (x's dims) over every dimension but the feature one: [C]. */
static HloInstr *feature_sum(const Bn *b, HloInstr *v) {
  int64_t dims[HLO_MAX_RANK];
  int nd = 0;
  for (int d = 0; d < b->xs.rank; d++)
    if (d != b->fi) dims[nd++] = d;
  HloInstr *zero = px_scalar(b->at, b->ct, 0, NULL);
  HloComputation *add = hlo_build_scalar_computation(b->at.c->module, HLO_OP_ADD, b->ct);
  HloError *e = NULL;
  return px_built(hlo_build_reduce(b->at.c, &v, &zero, 1, dims, nd, add, &e), e, b->at.before);
}

/* The [C] vector v along the feature dimension of x's dims. */
static HloInstr *spread(const Bn *b, HloInstr *v) {
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(b->at.c, v, &b->xs, &b->fi, 1, &e), e, b->at.before);
}

static HloInstr *bin(const Bn *b, HloOpcode op, HloInstr *x, HloInstr *y) {
  return px_binary(b->at, op, x, y);
}

/* v / N for a [C] vector v. */
static HloInstr *per_element(const Bn *b, HloInstr *v, double n) {
  return bin(b, HLO_OP_DIVIDE, v, px_scalar(b->at, b->ct, n, &b->fs));
}

HloInstr *px_expand_batch_norm(HloInstr *in) {
  if (in->op != HLO_OP_BATCH_NORM_TRAINING && in->op != HLO_OP_BATCH_NORM_GRAD) return NULL;
  bool grad = in->op == HLO_OP_BATCH_NORM_GRAD;
  const HloShape *x0 = &in->operands[0]->shape;
  HloType t = x0->type;
  Bn b = {{in->parent, in}, in->feature_index, t == HLO_F64 ? HLO_F64 : HLO_F32, {0}, {0}};
  b.xs = hlo_shape_array(b.ct, x0->rank, x0->dims);
  b.fs = hlo_shape_array(b.ct, 1, &x0->dims[b.fi]);
  int64_t nf = x0->dims[b.fi], n = 1;
  for (int d = 0; d < x0->rank; d++) n *= x0->dims[d];
  double count = nf ? (double)(n / nf) : 0;
  HloInstr *op[5];
  for (int k = 0; k < in->noperands; k++) op[k] = px_convert(b.at, in->operands[k], b.ct);
  HloInstr *x = op[0], *scale = op[1], *mean, *var, *res[3];
  if (grad) {
    mean = op[2];
    var = op[3];
  } else {
    mean = per_element(&b, feature_sum(&b, x), count);
  }
  HloInstr *d = bin(&b, HLO_OP_SUBTRACT, x, spread(&b, mean));
  if (!grad) var = per_element(&b, feature_sum(&b, bin(&b, HLO_OP_MULTIPLY, d, d)), count);
  HloInstr *eps = px_scalar(b.at, b.ct, (double)in->epsilon, &b.fs);
  HloInstr *r = px_unary(b.at, HLO_OP_RSQRT, bin(&b, HLO_OP_ADD, var, eps));
  HloInstr *sr = bin(&b, HLO_OP_MULTIPLY, r, scale);
  if (!grad) {
    res[0] = bin(&b, HLO_OP_ADD, bin(&b, HLO_OP_MULTIPLY, d, spread(&b, sr)), spread(&b, op[2]));
    res[1] = mean;
    res[2] = var;
  } else {
    HloInstr *dy = op[4];
    HloInstr *sum_dy = feature_sum(&b, dy);
    HloInstr *sum_dyd = feature_sum(&b, bin(&b, HLO_OP_MULTIPLY, dy, d));
    HloInstr *k = per_element(&b, bin(&b, HLO_OP_MULTIPLY, bin(&b, HLO_OP_MULTIPLY, r, r), sum_dyd),
                              count);
    HloInstr *centered = bin(&b, HLO_OP_SUBTRACT, dy, spread(&b, per_element(&b, sum_dy, count)));
    centered = bin(&b, HLO_OP_SUBTRACT, centered, bin(&b, HLO_OP_MULTIPLY, d, spread(&b, k)));
    res[0] = bin(&b, HLO_OP_MULTIPLY, spread(&b, sr), centered);
    res[1] = bin(&b, HLO_OP_MULTIPLY, sum_dyd, r);
    res[2] = sum_dy;
  }
  for (int k = 0; k < 3; k++) res[k] = px_convert(b.at, res[k], t);
  HloError *e = NULL;
  HloInstr *tuple = px_built(hlo_build_tuple(in->parent, res, 3, &e), e, in);
  tuple->metadata = in->metadata;
  return tuple;
}
