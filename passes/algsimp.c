/*
 * algsimp.c — algebraic simplification: local rewrites that remove work or
 * expose it to folding and fusion.
 *
 * Rules (each on one instruction, looking at its operands):
 *   x+0, 0+x, x-0, x*1, 1*x, x/1, max(x,x), min(x,x), -(-x) → x;
 *   convert to the same type, copy, reshape to the same dims, identity
 *     transpose, identity broadcast, whole-operand slice, all-zero pad → x;
 *   reshape∘reshape, transpose∘transpose, broadcast∘broadcast → one op;
 *   a transpose or a broadcast∘reshape that only moves or drops size-1
 *     dims → a reshape, or a broadcast of the reshape's operand; a
 *     broadcast that only inserts size-1 dims (of a non-scalar) → a
 *     reshape;
 *   reshape(e(reshape(a), …)) with every operand reshaped from the result
 *     shape (or a scalar broadcast) → e(a, …) — JAX's [n]→[n,1]→[n] dance;
 *   e(reshape(a), …) where the reshapes are all of one shape →
 *     reshape(e(a, …)), so reshapes drift to the consumer and cancel;
 *   elementwise op of broadcasts with equal dimensions → broadcast of the
 *     op on the small operands (scalar work stays scalar);
 *   slice of concatenate inside one operand → slice of that operand;
 *   x / c for a float constant c whose reciprocal is exact (a power of
 *     two) → x * (1/c).  Only exact reciprocals: the rewrite must not change
 *     a single bit of the result, since every pass is checked against the
 *     evaluator; XLA also rewrites inexact ones, trading ≤1 ulp;
 *   real(complex(a, b)) → a, imag(…) → b, also through data movement
 *     (real(transpose(x)) → transpose(real(x)), px_complex_part), so that
 *     complex values built from real ones and read back (jnp.fft's
 *     programs, once calls are inlined) leave nothing complex behind;
 *   dot of a transpose → dot with permuted dimension numbers, when the
 *     result's dimension order is unchanged; convolution of a transpose, or
 *     a transpose of a convolution → convolution with permuted dim_labels;
 *   convolution of a zero pad of its spatial dims → convolution with that
 *     much more window padding (Keras' ZeroPadding2D before a strided
 *     convolution), when the kernel is a constant of finite values: a tap
 *     in the padding then adds 0·w = ±0 to a sum, which never changes it,
 *     exactly as a tap the window padding skips.
 *
 * requires: a verified module.
 * keeps:    every value (bit for bit, except x+0 for x = -0.0, which XLA
 *           also ignores).
 * breaks:   the canonical dot form (so it runs before dot-canonicalize).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool is_identity_perm(const int64_t *p, int n) {
  for (int i = 0; i < n; i++)
    if (p[i] != i) return false;
  return true;
}

/* The dims of s other than size-1 ones, in order. */
static int nondegenerate(const HloShape *s, int64_t *dims_at) {
  int n = 0;
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i] != 1) dims_at[n++] = i;
  return n;
}

/* A reshape that only inserts or removes size-1 dims. */
static bool only_degenerate(const HloShape *from, const HloShape *to) {
  int64_t a[HLO_MAX_RANK], b[HLO_MAX_RANK];
  int na = nondegenerate(from, a), nb = nondegenerate(to, b);
  if (na != nb) return false;
  for (int i = 0; i < na; i++)
    if (from->dims[a[i]] != to->dims[b[i]]) return false;
  return true;
}

static HloInstr *reshape_to(HloInstr *x, const HloShape *s, HloInstr *before) {
  HloError *e = NULL;
  return px_built(hlo_build_reshape(before->parent, x, s->rank, s->dims, &e), e, before);
}

static HloInstr *simplify_binary(HloInstr *in) {
  HloInstr *a = in->operands[0], *b = in->operands[1];
  switch (in->op) {
  case HLO_OP_ADD:
    if (px_is_splat_of(b, 0)) return a;
    if (px_is_splat_of(a, 0)) return b;
    return NULL;
  case HLO_OP_SUBTRACT: return px_is_splat_of(b, 0) ? a : NULL;
  case HLO_OP_MULTIPLY:
    if (px_is_splat_of(b, 1)) return a;
    if (px_is_splat_of(a, 1)) return b;
    return NULL;
  case HLO_OP_MAXIMUM:
  case HLO_OP_MINIMUM: return a == b ? a : NULL;
  default: return NULL;
  }
}

/* x / c → x * (1/c) when every element of the constant c has an exact
 * reciprocal in its type. */
static HloInstr *divide_by_constant(HloInstr *in) {
  HloInstr *b = in->operands[1];
  if (px_is_splat_of(b, 1)) return in->operands[0];
  if (!hlo_type_is_float(in->shape.type)) return NULL;
  HloInstr *k = b->op == HLO_OP_BROADCAST ? b->operands[0] : b;
  if (k->op != HLO_OP_CONSTANT) return NULL;
  HloComputation *c = in->parent;
  HloLiteral *r = hlo_literal_clone_in(c->module->arena, k->literal);
  int64_t n = hlo_shape_elements(&r->shape);
  for (int64_t i = 0; i < n; i++) {
    double v = hlo_literal_get_f64(k->literal, i);
    int e;
    if (!isfinite(v) || v == 0 || fabs(frexp(v, &e)) != 0.5) return NULL;
    hlo_literal_set_f64(r, i, 1.0 / v);
    double back = hlo_literal_get_f64(r, i);
    if (back != 1.0 / v || !isnormal(back)) return NULL;
  }
  HloInstr *rk = hlo_constant_new(c, r, "constant");
  rk->shape = k->shape;
  hlo_instr_move_before(rk, in);
  HloInstr *rb = rk;
  HloError *e = NULL;
  if (b->op == HLO_OP_BROADCAST)
    rb = px_built(hlo_build_broadcast(c, rk, &b->shape, b->dimensions.v, b->dimensions.n, &e),
                  e, in);
  return px_built(hlo_build_binary(c, HLO_OP_MULTIPLY, in->operands[0], rb, &e), e, in);
}

/* e(broadcast(a_i, d)…) with equal d and equal operand dims → broadcast(e(a_i…), d). */
static HloInstr *hoist_broadcasts(HloInstr *in) {
  const HloInstr *b0 = in->operands[0];
  if (b0->op != HLO_OP_BROADCAST) return NULL;
  const HloShape *small = &b0->operands[0]->shape;
  if (hlo_shape_elements(small) >= hlo_shape_elements(&in->shape)) return NULL;
  HloInstr *ops[3];
  for (int i = 0; i < in->noperands; i++) {
    const HloInstr *b = in->operands[i];
    if (b->op != HLO_OP_BROADCAST || !px_dims_equal(&b->dimensions, &b0->dimensions) ||
        !hlo_shape_same_dims(&b->operands[0]->shape, small))
      return NULL;
    ops[i] = b->operands[0];
  }
  HloComputation *c = in->parent;
  HloInstr *inner = hlo_instr_clone(c, in, ops, in->noperands);
  inner->shape = hlo_shape_array(in->shape.type, small->rank, small->dims);
  hlo_instr_move_before(inner, in);
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(c, inner, &in->shape, b0->dimensions.v,
                                      b0->dimensions.n, &e),
                  e, in);
}

/* reshape(e(reshape(a)…)) where each a has the outer reshape's dims. */
static HloInstr *sink_reshape(HloInstr *in) {
  HloInstr *x = in->operands[0];
  if (!hlo_opcode_is_elementwise(x->op) || x->nusers != 1) return NULL;
  HloComputation *c = in->parent;
  HloInstr *ops[3];
  for (int i = 0; i < x->noperands; i++) {
    HloInstr *o = x->operands[i];
    double v;
    if (o->op == HLO_OP_RESHAPE && hlo_shape_same_dims(&o->operands[0]->shape, &in->shape)) {
      ops[i] = o->operands[0];
    } else if (px_splat(o, &v)) {
      ops[i] = NULL; /* a splat of the new dims, made below */
    } else {
      return NULL;
    }
  }
  for (int i = 0; i < x->noperands; i++) {
    if (ops[i]) continue;
    double v;
    px_splat(x->operands[i], &v);
    HloShape s = hlo_shape_array(x->operands[i]->shape.type, in->shape.rank, in->shape.dims);
    ops[i] = px_broadcast_scalar(c, &s, v, in);
  }
  HloInstr *e = hlo_instr_clone(c, x, ops, x->noperands);
  e->shape = in->shape;
  e->shape.type = x->shape.type;
  hlo_instr_move_before(e, in);
  return e;
}

/* e(reshape(a), …) where every reshape is of same-dims a's, the rest
 * splats → reshape(e(a, …)): reshapes move toward the consumers, where
 * they meet and cancel (a dot's [m,n] result viewed as [b,s,n] for an
 * activation and back), or end up at a kernel's root, where codegen
 * treats them as views. */
static HloInstr *hoist_reshape(HloInstr *in) {
  const HloShape *t = NULL;
  for (int i = 0; i < in->noperands; i++) {
    const HloInstr *o = in->operands[i];
    double v;
    if (o->op == HLO_OP_RESHAPE && (!t || hlo_shape_same_dims(t, &o->operands[0]->shape)))
      t = &o->operands[0]->shape;
    else if (!px_splat(o, &v))
      return NULL;
  }
  if (!t) return NULL;
  HloComputation *c = in->parent;
  HloInstr *ops[3];
  for (int i = 0; i < in->noperands; i++) {
    HloInstr *o = in->operands[i];
    double v;
    if (o->op == HLO_OP_RESHAPE && hlo_shape_same_dims(t, &o->operands[0]->shape)) {
      ops[i] = o->operands[0];
    } else {
      px_splat(o, &v);
      HloShape s = hlo_shape_array(o->shape.type, t->rank, t->dims);
      ops[i] = px_broadcast_scalar(c, &s, v, in);
    }
  }
  HloInstr *e = hlo_instr_clone(c, in, ops, in->noperands);
  e->shape = hlo_shape_array(in->shape.type, t->rank, t->dims);
  hlo_instr_move_before(e, in);
  return reshape_to(e, &in->shape, in);
}

static HloInstr *simplify_reshape(HloInstr *in) {
  HloInstr *x = in->operands[0];
  if (hlo_shape_same_dims(&x->shape, &in->shape)) return x;
  if (x->op == HLO_OP_RESHAPE) return reshape_to(x->operands[0], &in->shape, in);
  return sink_reshape(in);
}

static HloInstr *simplify_transpose(HloInstr *in) {
  HloInstr *x = in->operands[0];
  int r = in->shape.rank;
  const int64_t *p = in->dimensions.v;
  if (is_identity_perm(p, r)) return x;
  HloError *e = NULL;
  if (x->op == HLO_OP_TRANSPOSE) {
    int64_t q[HLO_MAX_RANK];
    for (int i = 0; i < r; i++) q[i] = x->dimensions.v[p[i]];
    if (is_identity_perm(q, r)) return x->operands[0];
    return px_built(hlo_build_transpose(in->parent, x->operands[0], q, &e), e, in);
  }
  /* Only size-1 dims move: the data order is unchanged, it is a reshape. */
  int64_t last = -1;
  for (int i = 0; i < r; i++) {
    if (x->shape.dims[p[i]] == 1) continue;
    if (p[i] < last) return NULL;
    last = p[i];
  }
  return reshape_to(x, &in->shape, in);
}

static HloInstr *simplify_broadcast(HloInstr *in) {
  HloInstr *x = in->operands[0];
  const HloDims *d = &in->dimensions;
  HloComputation *c = in->parent;
  HloError *e = NULL;
  if (hlo_shape_same_dims(&x->shape, &in->shape) && is_identity_perm(d->v, d->n)) return x;
  /* Inserting dims of size 1, the operand's in order: a reshape (a batch
   * dim of 1 on a BatchMatMul's weights, which then fold to a constant). */
  bool ordered = hlo_shape_elements(&x->shape) == hlo_shape_elements(&in->shape);
  for (int i = 1; i < d->n && ordered; i++) ordered = d->v[i] > d->v[i - 1];
  if (ordered && x->shape.rank > 0 && hlo_shape_has_default_layout(&in->shape) &&
      hlo_shape_has_default_layout(&x->shape))
    return reshape_to(x, &in->shape, in);
  if (x->op == HLO_OP_BROADCAST) {
    int64_t dims[HLO_MAX_RANK];
    for (int i = 0; i < x->dimensions.n; i++) dims[i] = d->v[x->dimensions.v[i]];
    return px_built(hlo_build_broadcast(c, x->operands[0], &in->shape, dims, x->dimensions.n, &e),
                    e, in);
  }
  if (x->op == HLO_OP_RESHAPE && only_degenerate(&x->operands[0]->shape, &x->shape)) {
    const HloShape *src = &x->operands[0]->shape;
    int64_t a[HLO_MAX_RANK], b[HLO_MAX_RANK] = {0}, dims[HLO_MAX_RANK];
    int na = nondegenerate(src, a);
    if (na != src->rank) return NULL;
    nondegenerate(&x->shape, b);
    for (int i = 0; i < na; i++) dims[i] = d->v[b[i]];
    return px_built(hlo_build_broadcast(c, x->operands[0], &in->shape, dims, na, &e), e, in);
  }
  return NULL;
}

static HloInstr *simplify_slice(HloInstr *in) {
  HloInstr *x = in->operands[0];
  bool whole = true;
  for (int i = 0; i < in->shape.rank; i++)
    whole &= in->slice[i].start == 0 && in->slice[i].limit == x->shape.dims[i] &&
             in->slice[i].stride == 1;
  if (whole) return x;
  if (x->op != HLO_OP_CONCATENATE) return NULL;
  int64_t cd = x->dimensions.v[0], base = 0;
  const HloSliceDim *s = &in->slice[cd];
  for (int k = 0; k < x->noperands; k++) {
    HloInstr *o = x->operands[k];
    int64_t size = o->shape.dims[cd];
    if (s->start >= base && s->limit <= base + size) {
      HloSliceDim sl[HLO_MAX_RANK];
      memcpy(sl, in->slice, sizeof(HloSliceDim) * (size_t)in->shape.rank);
      sl[cd].start -= base;
      sl[cd].limit -= base;
      HloError *e = NULL;
      return px_built(hlo_build_slice(in->parent, o, sl, &e), e, in);
    }
    base += size;
  }
  return NULL;
}

/* Dimension numbers of one dot operand seen through transpose p: operand
 * dim i of the dot is dim p[i] of the transpose's input. */
static bool permute_dot_side(const HloInstr *t, HloDims *batch, HloDims *contract,
                             int64_t *bv, int64_t *cv) {
  const int64_t *p = t->dimensions.v;
  int r = t->shape.rank;
  bool special[HLO_MAX_RANK] = {0};
  for (int i = 0; i < batch->n; i++) special[batch->v[i]] = true;
  for (int i = 0; i < contract->n; i++) special[contract->v[i]] = true;
  int64_t last = -1;
  for (int i = 0; i < r; i++) {
    if (special[i]) continue;
    if (p[i] < last) return false; /* free dims would come out reordered */
    last = p[i];
  }
  for (int i = 0; i < batch->n; i++) bv[i] = p[batch->v[i]];
  for (int i = 0; i < contract->n; i++) cv[i] = p[contract->v[i]];
  batch->v = bv;
  contract->v = cv;
  return true;
}

static HloInstr *fold_transpose_into_dot(HloInstr *in) {
  HloDotDims d = in->dot;
  HloInstr *lhs = in->operands[0], *rhs = in->operands[1];
  int64_t b0[HLO_MAX_RANK], c0[HLO_MAX_RANK], b1[HLO_MAX_RANK], c1[HLO_MAX_RANK];
  bool any = false;
  if (lhs->op == HLO_OP_TRANSPOSE && permute_dot_side(lhs, &d.lhs_batch, &d.lhs_contracting, b0, c0)) {
    lhs = lhs->operands[0];
    any = true;
  }
  if (rhs->op == HLO_OP_TRANSPOSE && permute_dot_side(rhs, &d.rhs_batch, &d.rhs_contracting, b1, c1)) {
    rhs = rhs->operands[0];
    any = true;
  }
  if (!any) return NULL;
  HloError *e = NULL;
  HloInstr *dot = px_built(hlo_build_dot(in->parent, lhs, rhs, &d, in->shape.type, &e), e, in);
  dot->metadata = in->metadata;
  return dot;
}

static void permute_labels(int64_t *v, int n, const int64_t *map) {
  for (int i = 0; i < n; i++) v[i] = map[v[i]];
}

static HloInstr *rebuild_conv(HloInstr *conv, HloInstr *lhs, HloInstr *rhs, const HloConvDims *d,
                              const HloShape *shape, HloInstr *before) {
  HloError *e = NULL;
  HloInstr *r = px_built(hlo_build_convolution(conv->parent, lhs, rhs, conv->window, d,
                                               conv->feature_group_count,
                                               conv->batch_group_count, shape->type, &e),
                         e, before);
  r->metadata = conv->metadata;
  return r;
}

static HloInstr *fold_transpose_into_conv(HloInstr *in) {
  HloConvDims d = in->conv;
  HloInstr *lhs = in->operands[0], *rhs = in->operands[1];
  bool any = false;
  if (lhs->op == HLO_OP_TRANSPOSE) {
    const int64_t *p = lhs->dimensions.v;
    d.in_batch = p[d.in_batch];
    d.in_feature = p[d.in_feature];
    permute_labels(d.in_spatial, d.nspatial, p);
    lhs = lhs->operands[0];
    any = true;
  }
  if (rhs->op == HLO_OP_TRANSPOSE) {
    const int64_t *p = rhs->dimensions.v;
    d.k_in_feature = p[d.k_in_feature];
    d.k_out_feature = p[d.k_out_feature];
    permute_labels(d.k_spatial, d.nspatial, p);
    rhs = rhs->operands[0];
    any = true;
  }
  return any ? rebuild_conv(in, lhs, rhs, &d, &in->shape, in) : NULL;
}

/* transpose(conv) → conv writing its result dims in the transposed order. */
static HloInstr *fold_conv_into_transpose(HloInstr *in) {
  HloInstr *conv = in->operands[0];
  if (conv->op != HLO_OP_CONVOLUTION || conv->nusers != 1) return NULL;
  int64_t inv[HLO_MAX_RANK];
  for (int i = 0; i < in->shape.rank; i++) inv[in->dimensions.v[i]] = i;
  HloConvDims d = conv->conv;
  d.out_batch = inv[d.out_batch];
  d.out_feature = inv[d.out_feature];
  permute_labels(d.out_spatial, d.nspatial, inv);
  return rebuild_conv(conv, conv->operands[0], conv->operands[1], &d, &in->shape, in);
}

static HloInstr *fold_pad_into_conv(HloInstr *in) {
  HloInstr *pad = in->operands[0], *w = in->operands[1];
  const HloConvDims *d = &in->conv;
  if (pad->op != HLO_OP_PAD || !px_is_splat_of(pad->operands[1], 0) || !px_is_finite_constant(w))
    return NULL;
  for (int i = 0; i < pad->shape.rank; i++) {
    const HloPadDim *p = &pad->padding[i];
    bool spatial = false;
    for (int s = 0; s < d->nspatial; s++) spatial |= d->in_spatial[s] == i;
    if (p->interior || ((p->lo || p->hi) && !spatial) || p->lo < 0 || p->hi < 0) return NULL;
  }
  HloWindowDim window[HLO_MAX_RANK];
  memcpy(window, in->window, sizeof(HloWindowDim) * (size_t)d->nspatial);
  for (int s = 0; s < d->nspatial; s++) {
    if (window[s].lhs_dilate != 1) return NULL;
    window[s].pad_lo += pad->padding[d->in_spatial[s]].lo;
    window[s].pad_hi += pad->padding[d->in_spatial[s]].hi;
  }
  HloError *e = NULL;
  HloInstr *r = px_built(hlo_build_convolution(in->parent, pad->operands[0], w, window, d,
                                               in->feature_group_count, in->batch_group_count,
                                               in->shape.type, &e),
                         e, in);
  r->metadata = in->metadata;
  return r;
}

/* An elementwise op whose operands have its dims: all of them except a
 * bitcast-convert between types of different widths, which adds or drops
 * the last dim (u32[2,2] → u64[2]), so that moving a reshape or broadcast
 * across it would give the wrong shape. */
static bool keeps_dims(const HloInstr *in) {
  if (!hlo_opcode_is_elementwise(in->op) || !in->noperands ||
      !hlo_type_is_array(in->shape.type))
    return false;
  return in->op != HLO_OP_BITCAST_CONVERT ||
         hlo_shape_same_dims(&in->shape, &in->operands[0]->shape);
}

static HloInstr *simplify(HloInstr *in) {
  HloInstr *r = NULL;
  if (keeps_dims(in) &&
      ((r = hoist_broadcasts(in)) || (r = hoist_reshape(in))))
    return r;
  switch (in->op) {
  case HLO_OP_ADD:
  case HLO_OP_SUBTRACT:
  case HLO_OP_MULTIPLY:
  case HLO_OP_MAXIMUM:
  case HLO_OP_MINIMUM: return simplify_binary(in);
  case HLO_OP_DIVIDE: return divide_by_constant(in);
  case HLO_OP_NEGATE:
    return in->operands[0]->op == HLO_OP_NEGATE ? in->operands[0]->operands[0] : NULL;
  case HLO_OP_CONVERT:
    return in->operands[0]->shape.type == in->shape.type ? in->operands[0] : NULL;
  case HLO_OP_COPY:
    return hlo_shape_equal(&in->operands[0]->shape, &in->shape, true) ? in->operands[0] : NULL;
  case HLO_OP_RESHAPE: return simplify_reshape(in);
  case HLO_OP_TRANSPOSE:
    if ((r = fold_conv_into_transpose(in))) return r;
    return simplify_transpose(in);
  case HLO_OP_BROADCAST: return simplify_broadcast(in);
  case HLO_OP_SLICE: return simplify_slice(in);
  case HLO_OP_PAD:
    for (int i = 0; i < in->shape.rank; i++)
      if (in->padding[i].lo || in->padding[i].hi || in->padding[i].interior) return NULL;
    return in->operands[0];
  case HLO_OP_REAL:
  case HLO_OP_IMAG:
    return px_moves_complex(in->operands[0])
               ? px_complex_part((PxAt){in->parent, in}, in->operands[0], in->op == HLO_OP_IMAG)
               : NULL;
  case HLO_OP_DOT: return fold_transpose_into_dot(in);
  case HLO_OP_CONVOLUTION:
    if ((r = fold_pad_into_conv(in))) return r;
    return fold_transpose_into_conv(in);
  default: return NULL;
  }
}

/* A rewrite never changes the (layout-free) shape. */
static HloInstr *simplify_checked(HloInstr *in) {
  HloInstr *r = simplify(in);
  if (r) HLO_CHECK(hlo_shape_equal(&r->shape, &in->shape, false));
  return r;
}

bool pass_algsimp(HloModule *m) { return px_rewrite_each(m, false, simplify_checked); }
