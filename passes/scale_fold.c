/*
 * scale_fold.c — folds per-feature affine constants into the weights of the
 * convolution or dot that produces the scaled value, the shape of a frozen
 * Keras/TF BatchNormalization after lowering (x*scale' + offset') and of
 * batch-norm-inference after batchnorm-expand.
 *
 * Rules (B, B1, B2: constants or broadcasts of constants):
 *   multiply(conv(x, W), B) → conv(x, W') with W' = W scaled along the
 *     kernel's output-feature dim, when B is a splat or varies only along
 *     the output-feature dim, W is a constant and the conv has no other
 *     user; the same for dot, along the weight dim that becomes B's dim;
 *   multiply(add(X, B1), B2) → add(multiply(X, B2), multiply(B1, B2));
 *   add(add(X, B1), B2) → add(X, add(B1, B2)), and likewise for multiply;
 *   subtract(X, B) → add(X, negate(B)) when X is a conv, dot, add or
 *     multiply, so that the chain above sees only adds.
 * The constant-only operations created here are left to algsimp and
 * constant folding; the weights are scaled here, directly, because
 * folding a large weight tensor is beyond constant folding's size cap.
 * Weights nothing else reads (no other user, no other constant sharing
 * their bytes) are scaled where they are: a CNN's weights, each followed
 * by a batch norm, would otherwise be held twice until the pass ends.
 *
 * requires: a verified module.
 * keeps:    values up to rounding: the products are reassociated, which is
 *           what every inference compiler does with batch norm.
 * breaks:   nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool is_affine_chain(const HloInstr *x) {
  return x->op == HLO_OP_CONVOLUTION || x->op == HLO_OP_DOT || x->op == HLO_OP_ADD ||
         x->op == HLO_OP_MULTIPLY;
}

/* B's variation: *axis = -1 for a splat (value *v), or the one result dim
 * along which broadcast(constant vector) varies (values in *vec). */
static bool scale_axis(const HloInstr *b, int *axis, double *v, const HloLiteral **vec) {
  if (px_splat(b, v)) {
    *axis = -1;
    return true;
  }
  if (b->op != HLO_OP_BROADCAST || b->dimensions.n != 1 ||
      b->operands[0]->op != HLO_OP_CONSTANT)
    return false;
  *axis = (int)b->dimensions.v[0];
  *vec = b->operands[0]->literal;
  return true;
}

/* Multiplies every element of r along dim by vec[index] (or all by v when
 * dim < 0), reading the weights from w (r itself, or a copy of it). */
static void scale(HloLiteral *r, const HloLiteral *w, int dim, double v, const HloLiteral *vec) {
  int64_t n = hlo_shape_elements(&w->shape), strides[HLO_MAX_RANK];
  hlo_shape_strides(&w->shape, strides);
  if (w->shape.type == HLO_F32) { /* the weights of every model: no per-element dispatch */
    float *d = r->data;
    int64_t len = dim < 0 ? n : w->shape.dims[dim], stride = dim < 0 ? 1 : strides[dim];
    for (int64_t i = 0; i < n; i++) {
      double f = dim < 0 ? v : hlo_literal_get_f64(vec, (i / stride) % len);
      d[i] = (float)((double)d[i] * f);
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    double f = dim < 0 ? v : hlo_literal_get_f64(vec, (i / strides[dim]) % w->shape.dims[dim]);
    hlo_literal_set_f64(r, i, hlo_literal_get_f64(w, i) * f);
  }
}

/* Whether literal l's bytes hold some of [p, p + n). */
static bool overlaps(const HloLiteral *l, const unsigned char *p, size_t n) {
  if (l->shape.type == HLO_TUPLE) {
    for (int i = 0; i < l->shape.ntuple; i++)
      if (overlaps(l->elems[i], p, n)) return true;
    return false;
  }
  const unsigned char *q = l->data;
  size_t m = hlo_shape_byte_size(&l->shape);
  return q && m && q < p + n && p < q + m;
}

/* Whether the rewrite of x (w's only user, which has one user itself) is
 * the last that reads w's bytes: then they may be scaled where they are,
 * rather than copied, so that a model's weights are not held twice while
 * the pass runs (every convolution of a CNN is followed by a batch norm).
 * No other constant of the module may share them. */
static bool sole_reader(const HloModule *m, const HloInstr *w) {
  if (w->nusers != 1 || w->parent->root == w || w->literal->shape.type == HLO_TUPLE) return false;
  const unsigned char *p = w->literal->data;
  size_t n = hlo_shape_byte_size(&w->shape);
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *k = c->first; k; k = k->next)
      if (k != w && k->op == HLO_OP_CONSTANT && k->literal && overlaps(k->literal, p, n))
        return false;
  return true;
}

/* Which operand of dot `x` carries result dim `axis`, and as which of its
 * dims; -1 for a splat picks a constant operand. */
static bool dot_weight_dim(const HloInstr *x, int axis, int *which, int *dim) {
  const HloDotDims *d = &x->dot;
  int nb = d->lhs_batch.n;
  for (int side = 1; side >= 0; side--) {
    const HloInstr *w = x->operands[side];
    if (w->op != HLO_OP_CONSTANT) continue;
    const HloDims *batch = side ? &d->rhs_batch : &d->lhs_batch;
    const HloDims *contract = side ? &d->rhs_contracting : &d->lhs_contracting;
    *which = side;
    if (axis < 0) {
      *dim = -1;
      return true;
    }
    if (axis < nb) {
      *dim = (int)batch->v[axis];
      return true;
    }
    /* Free dims: lhs's first, then rhs's, each in increasing order. */
    int lhs_free = x->operands[0]->shape.rank - nb - d->lhs_contracting.n;
    int k = axis - nb - (side ? lhs_free : 0);
    if (k < 0 || (!side && k >= lhs_free)) continue;
    for (int i = 0; i < w->shape.rank; i++) {
      bool special = false;
      for (int j = 0; j < batch->n; j++) special |= batch->v[j] == i;
      for (int j = 0; j < contract->n; j++) special |= contract->v[j] == i;
      if (special) continue;
      if (k-- == 0) {
        *dim = i;
        return true;
      }
    }
  }
  return false;
}

/* multiply(x, b) with x a conv or dot: returns x with scaled weights. */
static HloInstr *fold_into_weights(HloInstr *mul, HloInstr *x, HloInstr *b) {
  if ((x->op != HLO_OP_CONVOLUTION && x->op != HLO_OP_DOT) || x->nusers != 1 ||
      !hlo_type_is_float(x->shape.type))
    return NULL;
  int axis, which = 1, dim;
  double v = 0;
  const HloLiteral *vec = NULL;
  if (!scale_axis(b, &axis, &v, &vec)) return NULL;
  if (x->op == HLO_OP_CONVOLUTION) {
    if (x->operands[1]->op != HLO_OP_CONSTANT || x->batch_group_count != 1) return NULL;
    if (axis >= 0 && axis != x->conv.out_feature) return NULL;
    dim = axis < 0 ? -1 : (int)x->conv.k_out_feature;
  } else if (!dot_weight_dim(x, axis, &which, &dim)) {
    return NULL;
  }
  HloInstr *w = x->operands[which];
  if (w->shape.type != x->shape.type) return NULL;
  HloComputation *c = mul->parent;
  HloLiteral *lit = w->literal;
  if (!sole_reader(c->module, w)) lit = hlo_literal_clone_in(c->module->arena, w->literal);
  scale(lit, w->literal, dim, v, vec);
  /* A new constant either way (w, now dead, may hold the same bytes). */
  HloInstr *nw = hlo_constant_new(c, lit, "constant");
  nw->shape = w->shape;
  hlo_instr_move_before(nw, mul);
  HloInstr *ops[2] = {x->operands[0], x->operands[1]};
  ops[which] = nw;
  HloInstr *r = hlo_instr_clone(c, x, ops, 2);
  hlo_instr_move_before(r, mul);
  return r;
}

static HloInstr *bin(HloOpcode op, HloInstr *a, HloInstr *b, HloInstr *before) {
  HloError *e = NULL;
  return px_built(hlo_build_binary(before->parent, op, a, b, &e), e, before);
}

static HloInstr *rewrite(HloInstr *in) {
  if (in->op == HLO_OP_SUBTRACT) {
    HloInstr *x = in->operands[0], *b = in->operands[1];
    if (!px_is_constant_like(b) || !is_affine_chain(x)) return NULL;
    HloError *e = NULL;
    HloInstr *neg = px_built(hlo_build_unary(in->parent, HLO_OP_NEGATE, b, &e), e, in);
    return bin(HLO_OP_ADD, x, neg, in);
  }
  if (in->op != HLO_OP_MULTIPLY && in->op != HLO_OP_ADD) return NULL;
  HloInstr *x = in->operands[0], *b = in->operands[1];
  if (px_is_constant_like(x)) {
    HloInstr *t = x;
    x = b;
    b = t;
  }
  if (!px_is_constant_like(b) || px_is_constant_like(x)) return NULL;
  HloInstr *r;
  if (in->op == HLO_OP_MULTIPLY && (r = fold_into_weights(in, x, b))) return r;
  if (x->nusers != 1 || x->noperands != 2) return NULL;
  HloInstr *xx = x->operands[0], *b1 = x->operands[1];
  if (px_is_constant_like(xx)) {
    HloInstr *t = xx;
    xx = b1;
    b1 = t;
  }
  if (!px_is_constant_like(b1) || px_is_constant_like(xx)) return NULL;
  if (x->op == in->op) /* (X op B1) op B2 → X op (B1 op B2) */
    return bin(in->op, xx, bin(in->op, b1, b, in), in);
  if (in->op == HLO_OP_MULTIPLY && x->op == HLO_OP_ADD)
    return bin(HLO_OP_ADD, bin(HLO_OP_MULTIPLY, xx, b, in), bin(HLO_OP_MULTIPLY, b1, b, in), in);
  return NULL;
}

static HloInstr *rewrite_float(HloInstr *in) {
  return hlo_type_is_float(in->shape.type) ? rewrite(in) : NULL;
}

bool pass_scale_fold(HloModule *m) { return px_rewrite_each(m, false, rewrite_float); }
