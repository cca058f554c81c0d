/*
 * ragged_dot_expand.c — ragged-dot(lhs, rhs, group_sizes) rewritten into
 * a masked dot, which codegen compiles.
 *
 * The groups split lhs's ragged dim into consecutive runs: group i holds
 * the indices from start_i, the sum of the sizes before it, up to end_i =
 * start_i + size_i.  Both bounds come from one reduce-window, the
 * inclusive running sum of group_sizes along its last dim (in s64, so no
 * size wraps), and each index is compared with them: a mask per group.
 * As JAX's reference implementation does, lhs is broadcast to a leading
 * group dim and each copy zeroed outside its group (HloRaggedMode in
 * hlo/hlo.h), then one dot:
 *
 *   non-contracting: the group dim contracts with rhs's group dim, so
 *     each row meets its own group's rhs and a row in no group gives
 *     zeros.  g times the arithmetic of one dot, in one kernel the dot
 *     emitter tiles; a gather of rhs per row would move m·k·n elements.
 *   contracting: rhs is spread and masked the same way, and the group dim
 *     is a batch dim of the dot, whose result [g, b…, m…, n…] is the op's.
 *   batch: the dot itself.
 *
 * hlo/'s evaluator computes the same masked dots (in double), so the two
 * agree to the dot's rounding.
 *
 * px_expand_op (expand_ops.c) hands ragged-dot here, in single_device.c's
 * walk, so this runs first in the pipeline and under --O0 alike.
 *
 * requires: a verified ragged-dot.
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing.
 */
#include "internal.h"

/* x (a group-bounds array of group_sizes' dims) broadcast to shape, its
 * dim i going to to[i]. */
static HloInstr *spread(PxAt at, HloInstr *x, const HloShape *shape, const int64_t *to) {
  HloShape s = hlo_shape_array(x->shape.type, shape->rank, shape->dims);
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(at.c, x, &s, to, x->shape.rank, &e), e, at.before);
}

/* pred of shape: whether the index along dim `along` lies in [start, end)
 * (the bounds spread to shape as `to` says). */
static HloInstr *in_group(PxAt at, const HloShape *shape, int along, HloInstr *start,
                          HloInstr *end, const int64_t *to) {
  HloShape s = hlo_shape_array(HLO_S64, shape->rank, shape->dims);
  HloError *e = NULL;
  HloInstr *iota = px_built(hlo_build_iota(at.c, &s, along, &e), e, at.before);
  HloInstr *lo = px_compare(at, HLO_CMP_GE, iota, spread(at, start, shape, to));
  HloInstr *hi = px_compare(at, HLO_CMP_LT, iota, spread(at, end, shape, to));
  return px_binary(at, HLO_OP_AND, lo, hi);
}

/* Position of v in the first n entries of list, or -1. */
static int index_in(const int64_t *list, int n, int64_t v) {
  for (int i = 0; i < n; i++)
    if (list[i] == v) return i;
  return -1;
}

static HloInstr *dot(PxAt at, HloInstr *a, HloInstr *b, const HloDotDims *dd, HloType t) {
  HloError *e = NULL;
  return px_built(hlo_build_dot(at.c, a, b, dd, t, &e), e, at.before);
}

static HloInstr *broadcast_group(PxAt at, HloInstr *x, int64_t g) {
  int64_t dims[HLO_MAX_RANK], to[HLO_MAX_RANK];
  dims[0] = g;
  for (int d = 0; d < x->shape.rank; d++) {
    dims[d + 1] = x->shape.dims[d];
    to[d] = d + 1;
  }
  HloShape s = hlo_shape_array(x->shape.type, x->shape.rank + 1, dims);
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(at.c, x, &s, to, x->shape.rank, &e), e, at.before);
}

HloInstr *px_expand_ragged_dot(HloInstr *in) {
  if (in->op != HLO_OP_RAGGED_DOT) return NULL;
  PxAt at = {in->parent, in};
  HloInstr *lhs = in->operands[0], *rhs = in->operands[1], *gs = in->operands[2];
  const HloDotDims *dd = &in->dot;
  HloType t = in->shape.type;
  HloDotDims plain = {dd->lhs_batch, dd->lhs_contracting, dd->rhs_batch, dd->rhs_contracting,
                      {0, NULL}, {0, NULL}};
  HloRaggedMode mode = hlo_ragged_dot_mode(in);
  if (mode == HLO_RAGGED_BATCH) return dot(at, lhs, rhs, &plain, t);

  /* end = running sum of the sizes, start = end - size (s64). */
  HloError *e = NULL;
  HloInstr *size = px_convert(at, gs, HLO_S64);
  int gr = size->shape.rank;
  int64_t g = size->shape.dims[gr - 1];
  HloWindowDim win[HLO_MAX_RANK];
  for (int d = 0; d < gr; d++)
    win[d] = (HloWindowDim){.size = 1, .stride = 1, .lhs_dilate = 1, .rhs_dilate = 1};
  win[gr - 1].size = g ? g : 1;
  win[gr - 1].pad_lo = g ? g - 1 : 0;
  HloInstr *zero = px_scalar(at, HLO_S64, 0, NULL);
  HloComputation *add64 = hlo_build_scalar_computation(in->parent->module, HLO_OP_ADD, HLO_S64);
  HloInstr *end = px_built(hlo_build_reduce_window(at.c, &size, &zero, 1, win, add64, &e), e,
                           at.before);
  HloInstr *start = px_binary(at, HLO_OP_SUBTRACT, end, size);

  int64_t lead[HLO_MAX_RANK], to[HLO_MAX_RANK];
  int nlead = hlo_ragged_dot_size_dims(in, lead);
  int64_t r = dd->lhs_ragged.v[0];

  /* lhs per group, zeroed outside the group's part of the ragged dim. */
  HloInstr *lg = broadcast_group(at, lhs, g);
  for (int i = 0; i < nlead; i++) to[i] = lead[i] + 1;
  to[nlead] = 0;
  HloInstr *lmask = in_group(at, &lg->shape, (int)r + 1, start, end, to);
  lg = px_select(at, lmask, lg, px_scalar(at, lhs->shape.type, 0, &lg->shape));
  int64_t lb[HLO_MAX_RANK + 1], rb[HLO_MAX_RANK + 1], lc[HLO_MAX_RANK + 1], rc[HLO_MAX_RANK + 1];
  int nb = dd->lhs_batch.n, nc = dd->lhs_contracting.n;

  if (mode == HLO_RAGGED_NONCONTRACTING) {
    /* The group dim contracts with rhs's. */
    lc[0] = 0;
    rc[0] = dd->rhs_group.v[0];
    for (int i = 0; i < nb; i++) lb[i] = dd->lhs_batch.v[i] + 1;
    for (int i = 0; i < nc; i++) {
      lc[i + 1] = dd->lhs_contracting.v[i] + 1;
      rc[i + 1] = dd->rhs_contracting.v[i];
    }
    HloDotDims grouped = {{nb, lb}, {nc + 1, lc}, dd->rhs_batch, {nc + 1, rc}, {0, NULL},
                          {0, NULL}};
    return dot(at, lg, rhs, &grouped, t);
  }

  /* Contracting: rhs per group too, and the group dim a batch dim. */
  HloInstr *rg = broadcast_group(at, rhs, g);
  for (int i = 0; i < nlead; i++) {
    int j = index_in(dd->lhs_batch.v, dd->lhs_batch.n, lead[i]);
    to[i] = 1 + (j >= 0 ? dd->rhs_batch.v[j]
                        : dd->rhs_contracting.v[index_in(dd->lhs_contracting.v,
                                                         dd->lhs_contracting.n, lead[i])]);
  }
  int64_t rr = dd->rhs_contracting.v[index_in(dd->lhs_contracting.v, dd->lhs_contracting.n, r)];
  HloInstr *rmask = in_group(at, &rg->shape, (int)rr + 1, start, end, to);
  rg = px_select(at, rmask, rg, px_scalar(at, rhs->shape.type, 0, &rg->shape));
  lb[0] = rb[0] = 0;
  for (int i = 0; i < nb; i++) {
    lb[i + 1] = dd->lhs_batch.v[i] + 1;
    rb[i + 1] = dd->rhs_batch.v[i] + 1;
  }
  for (int i = 0; i < nc; i++) {
    lc[i] = dd->lhs_contracting.v[i] + 1;
    rc[i] = dd->rhs_contracting.v[i] + 1;
  }
  HloDotDims grouped = {{nb + 1, lb}, {nc, lc}, {nb + 1, rb}, {nc, rc}, {0, NULL}, {0, NULL}};
  return dot(at, lg, rg, &grouped, t);
}
