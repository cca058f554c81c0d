/*
 * dot_canonicalize.c — rewrites every dot into the one form the dot
 * emitter handles: lhs [M,K] × rhs [K,N] → [M,N], or with batch dims
 * lhs [B,M,K] × rhs [B,K,N] → [B,M,N] (batch dims leading, each group of
 * dims — batch, free, contracting — collapsed into one).  Transposes and
 * reshapes around the dot do the rearranging; a missing free dim becomes
 * a size-1 dim, so a matrix-vector product is a [M,K]×[K,1] dot.  The
 * reshape back restores the original result shape.
 *
 * requires: a verified module.
 * keeps:    values (a dot's sum order over K is the emitter's business).
 * breaks:   nothing, but algsimp would fold the new transposes back into
 *           the dimension numbers, so it must not run afterwards.
 */
#include <stdlib.h>

#include "internal.h"

/* The dims of an operand of rank r that are neither batch nor contracting,
 * in increasing order. */
static int free_dims(int r, const HloDims *batch, const HloDims *contract, int64_t *out) {
  int n = 0;
  for (int i = 0; i < r; i++) {
    bool special = false;
    for (int j = 0; j < batch->n; j++) special |= batch->v[j] == i;
    for (int j = 0; j < contract->n; j++) special |= contract->v[j] == i;
    if (!special) out[n++] = i;
  }
  return n;
}

static int64_t product(const HloShape *s, const int64_t *dims, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) p *= s->dims[dims[i]];
  return p;
}

static bool is_canonical(const HloInstr *dot) {
  const HloDotDims *d = &dot->dot;
  int nb = d->lhs_batch.n, rl = dot->operands[0]->shape.rank, rr = dot->operands[1]->shape.rank;
  if (nb > 1 || d->lhs_contracting.n != 1 || rl != nb + 2 || rr != nb + 2) return false;
  if (nb && (d->lhs_batch.v[0] != 0 || d->rhs_batch.v[0] != 0)) return false;
  return d->lhs_contracting.v[0] == nb + 1 && d->rhs_contracting.v[0] == nb;
}

/* transpose(x, perm) (skipped when the identity) then reshape to dims. */
static HloInstr *arrange(HloInstr *x, const int64_t *perm, int rank, const int64_t *dims,
                         HloInstr *before) {
  HloComputation *c = before->parent;
  HloError *e = NULL;
  bool identity = true;
  for (int i = 0; i < x->shape.rank; i++) identity &= perm[i] == i;
  if (!identity) x = px_built(hlo_build_transpose(c, x, perm, &e), e, before);
  bool same = x->shape.rank == rank;
  for (int i = 0; same && i < rank; i++) same = x->shape.dims[i] == dims[i];
  if (!same) x = px_built(hlo_build_reshape(c, x, rank, dims, &e), e, before);
  return x;
}

static HloInstr *canonicalize(HloInstr *dot) {
  const HloDotDims *d = &dot->dot;
  HloInstr *lhs = dot->operands[0], *rhs = dot->operands[1];
  const HloShape *ls = &lhs->shape, *rs = &rhs->shape;
  int nb = d->lhs_batch.n, nc = d->lhs_contracting.n;
  int64_t lf[HLO_MAX_RANK], rf[HLO_MAX_RANK], lperm[HLO_MAX_RANK], rperm[HLO_MAX_RANK];
  int nlf = free_dims(ls->rank, &d->lhs_batch, &d->lhs_contracting, lf);
  int nrf = free_dims(rs->rank, &d->rhs_batch, &d->rhs_contracting, rf);
  int k = 0;
  for (int i = 0; i < nb; i++) lperm[k++] = d->lhs_batch.v[i];
  for (int i = 0; i < nlf; i++) lperm[k++] = lf[i];
  for (int i = 0; i < nc; i++) lperm[k++] = d->lhs_contracting.v[i];
  k = 0;
  for (int i = 0; i < nb; i++) rperm[k++] = d->rhs_batch.v[i];
  for (int i = 0; i < nc; i++) rperm[k++] = d->rhs_contracting.v[i];
  for (int i = 0; i < nrf; i++) rperm[k++] = rf[i];
  int64_t B = product(ls, d->lhs_batch.v, nb), M = product(ls, lf, nlf);
  int64_t K = product(ls, d->lhs_contracting.v, nc), N = product(rs, rf, nrf);
  int r = nb ? 3 : 2;
  int64_t ldims[3], rdims[3];
  int o = 0;
  if (nb) ldims[o] = rdims[o] = B, o++;
  ldims[o] = M, ldims[o + 1] = K;
  rdims[o] = K, rdims[o + 1] = N;
  HloInstr *a = arrange(lhs, lperm, r, ldims, dot);
  HloInstr *b = arrange(rhs, rperm, r, rdims, dot);
  int64_t zero = 0, lc = r - 1, rc = r - 2;
  HloDotDims nd = {{nb ? 1 : 0, &zero}, {1, &lc}, {nb ? 1 : 0, &zero}, {1, &rc}};
  HloError *e = NULL;
  HloInstr *nd_dot = px_built(hlo_build_dot(dot->parent, a, b, &nd, dot->shape.type, &e), e, dot);
  nd_dot->metadata = dot->metadata;
  nd_dot->raw = dot->raw;
  nd_dot->nraw = dot->nraw;
  if (hlo_shape_same_dims(&nd_dot->shape, &dot->shape)) return nd_dot;
  return px_built(hlo_build_reshape(dot->parent, nd_dot, dot->shape.rank, dot->shape.dims, &e),
                  e, dot);
}

static HloInstr *rewrite(HloInstr *in) {
  return in->op == HLO_OP_DOT && !is_canonical(in) ? canonicalize(in) : NULL;
}

bool pass_dot_canonicalize(HloModule *m) { return px_rewrite_each(m, false, rewrite); }
