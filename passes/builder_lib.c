/*
 * builder_lib.c — the functions of XLA's builder library (not its math
 * library: builder_math.c) that its builder tests call by name without a
 * computation (custom_call_target="xla_builder.matrix.Einsum", …), written
 * as the plain HLO XLA's builder emits for them; canonical_forms.c calls
 * this for the calls hlo_builder_lib_call names.
 *
 * - Einsum(x, y), equation in backend_config: a label repeated in an
 *   operand takes that diagonal (select on iota == iota, then a sum over
 *   the second dim); labels of one operand only that the result lacks are
 *   summed; then one dot (batch: labels of both operands and the result;
 *   contracting: of both, not the result), a transpose to the result's
 *   label order, and for a label repeated in the result a broadcast and a
 *   select onto that diagonal, as XLA's matrix.cc does.
 * - GetMatrixDiagonalViaGather(x): a gather of x[..., i, i] with the index
 *   pairs (i, i) from an iota, the batch dims kept as offset dims.
 * - ScramblePhiloxKey(key): the u64 key's halves (lo, 0, hi, 0) through 10
 *   Philox4x32 rounds (u64 products, xor, the round keys constants); the
 *   new key is words 0 | 1 << 32 (XLA's prng.cc).
 * - TridiagonalSolver: the Thomas algorithm of XLA's tridiagonal.cc,
 *   unrolled over the equations (hlo_builder_call allows at most 128), on
 *   columns [..., k, 1] of the right-hand sides laid out [..., k, n] (the
 *   two-operand form's [..., n, k] transposed there and back), the
 *   diagonals' columns broadcast over k.
 *
 * Assumes a call hlo_builder_call accepted (the shapes it checks); every
 * step is the arithmetic evaluator.c's oracle does, in the same order.
 */
#include <string.h>

#include "internal.h"

/* ---- Einsum ------------------------------------------------------------ */

typedef struct Term {
  HloInstr *x;
  int n;
  char l[HLO_MAX_RANK];
} Term;

static bool has(const char *l, int n, char c) { return memchr(l, c, (size_t)n) != NULL; }

static HloInstr *sum_dims(PxAt at, HloInstr *x, const int64_t *dims, int nd) {
  HloInstr *zero = px_scalar(at, x->shape.type, 0, NULL);
  HloComputation *add = hlo_build_scalar_computation(at.c->module, HLO_OP_ADD, x->shape.type);
  HloError *e = NULL;
  return px_built(hlo_build_reduce(at.c, &x, &zero, 1, dims, nd, add, &e), e, at.before);
}

static void drop_label(Term *t, int d) {
  memmove(&t->l[d], &t->l[d + 1], (size_t)(t->n - d - 1));
  t->n--;
}

/* x[..., i, ..., i, ...] for each label t repeats: the diagonal. */
static void take_diagonals(PxAt at, Term *t) {
  for (int a = 0; a < t->n; a++)
    for (int b = a + 1; b < t->n; b++) {
      if (t->l[a] != t->l[b]) continue;
      HloInstr *eq =
          px_compare(at, HLO_CMP_EQ, px_iota_like(at, t->x, a), px_iota_like(at, t->x, b));
      t->x = px_select(at, eq, t->x, px_scalar(at, t->x->shape.type, 0, &t->x->shape));
      int64_t d = b;
      t->x = sum_dims(at, t->x, &d, 1);
      drop_label(t, b);
      b--;
    }
}

/* Sums t's labels that neither the other operand nor the result has. */
static void sum_private(PxAt at, Term *t, const Term *other, const char *out, int nout) {
  int64_t dims[HLO_MAX_RANK];
  int nd = 0;
  for (int d = 0; d < t->n; d++)
    if (!has(other->l, other->n, t->l[d]) && !has(out, nout, t->l[d])) dims[nd++] = d;
  if (!nd) return;
  t->x = sum_dims(at, t->x, dims, nd);
  for (int k = nd - 1; k >= 0; k--) drop_label(t, (int)dims[k]);
}

static int find(const char *l, int n, char c) {
  const char *p = memchr(l, c, (size_t)n);
  return p ? (int)(p - l) : -1;
}

static HloInstr *einsum(PxAt at, HloInstr *in) {
  HloEinsum eq;
  hlo_einsum_parse(in, &eq);
  const char *out = eq.label[2];
  int nout = eq.nlabel[2];
  Term t[2];
  for (int k = 0; k < 2; k++) {
    t[k].x = in->operands[k];
    t[k].n = eq.nlabel[k];
    memcpy(t[k].l, eq.label[k], sizeof t[k].l);
    take_diagonals(at, &t[k]);
  }
  sum_private(at, &t[0], &t[1], out, nout);
  sum_private(at, &t[1], &t[0], out, nout);
  /* The dot: batch labels, then x's free ones, then y's. */
  int64_t lb[HLO_MAX_RANK], rb[HLO_MAX_RANK], lc[HLO_MAX_RANK], rc[HLO_MAX_RANK];
  int nb = 0, nc = 0, nr = 0;
  char res[HLO_MAX_RANK];
  for (int d = 0; d < t[0].n; d++) {
    int o = find(t[1].l, t[1].n, t[0].l[d]);
    if (o < 0) continue;
    if (has(out, nout, t[0].l[d])) {
      lb[nb] = d, rb[nb++] = o;
      res[nr++] = t[0].l[d];
    } else {
      lc[nc] = d, rc[nc++] = o;
    }
  }
  for (int k = 0; k < 2; k++)
    for (int d = 0; d < t[k].n; d++)
      if (!has(t[1 - k].l, t[1 - k].n, t[k].l[d])) res[nr++] = t[k].l[d];
  HloDotDims dd;
  memset(&dd, 0, sizeof dd);
  dd.lhs_batch = (HloDims){nb, lb};
  dd.rhs_batch = (HloDims){nb, rb};
  dd.lhs_contracting = (HloDims){nc, lc};
  dd.rhs_contracting = (HloDims){nc, rc};
  HloError *e = NULL;
  HloInstr *p =
      px_built(hlo_build_dot(at.c, t[0].x, t[1].x, &dd, in->shape.type, &e), e, at.before);
  /* The result's labels, each once, in the order they first appear. */
  char u[HLO_MAX_RANK];
  int nu = 0;
  int64_t first[HLO_MAX_RANK], perm[HLO_MAX_RANK];
  bool moved = false;
  for (int d = 0; d < nout; d++) {
    if (has(u, nu, out[d])) continue;
    first[nu] = d;
    perm[nu] = find(res, nr, out[d]);
    moved |= perm[nu] != nu;
    u[nu++] = out[d];
  }
  if (moved) p = px_built(hlo_build_transpose(at.c, p, perm, &e), e, at.before);
  if (nu == nout) return p;
  /* A label repeated in the result: broadcast, then zero off its diagonal. */
  p = px_built(hlo_build_broadcast(at.c, p, &in->shape, first, nu, &e), e, at.before);
  HloInstr *mask = NULL;
  for (int d = 0; d < nout; d++) {
    int f = (int)first[find(u, nu, out[d])];
    if (f == d) continue;
    HloInstr *m = px_compare(at, HLO_CMP_EQ, px_iota_like(at, p, f), px_iota_like(at, p, d));
    mask = mask ? px_binary(at, HLO_OP_AND, mask, m) : m;
  }
  return px_select(at, mask, p, px_scalar(at, p->shape.type, 0, &p->shape));
}

/* ---- GetMatrixDiagonalViaGather ----------------------------------------- */

static HloInstr *matrix_diagonal(PxAt at, HloInstr *in) {
  HloInstr *x = in->operands[0];
  int r = x->shape.rank, nb = r - 2;
  int64_t k = in->shape.dims[in->shape.rank - 1];
  HloShape is = hlo_shape_array(HLO_S32, 1, &k);
  HloError *e = NULL;
  HloInstr *iota = px_built(hlo_build_iota(at.c, &is, 0, &e), e, at.before);
  int64_t pair[2] = {k, 2}, zero = 0;
  HloShape ps = hlo_shape_array(HLO_S32, 2, pair);
  HloInstr *idx = px_built(hlo_build_broadcast(at.c, iota, &ps, &zero, 1, &e), e, at.before);
  int64_t offset[HLO_MAX_RANK], sizes[HLO_MAX_RANK], mn[2] = {r - 2, r - 1};
  for (int d = 0; d < r; d++) {
    offset[d] = d;
    sizes[d] = d < nb ? x->shape.dims[d] : 1;
  }
  HloGatherDims g;
  memset(&g, 0, sizeof g);
  g.offset_dims = (HloDims){nb, offset};
  g.collapsed_slice_dims = (HloDims){2, mn};
  g.start_index_map = (HloDims){2, mn};
  g.index_vector_dim = 1;
  g.slice_sizes = (HloDims){r, sizes};
  g.indices_are_sorted = true;
  return px_built(hlo_build_gather(at.c, x, idx, &g, &e), e, at.before);
}

/* ---- ScramblePhiloxKey ------------------------------------------------- */

static HloInstr *philox_key(PxAt at, HloInstr *key) {
  const HloShape *s = &key->shape;
  HloInstr *c32 = px_scalar(at, HLO_U64, 32, s);
  HloInstr *zero = px_scalar(at, HLO_U32, 0, s);
  HloInstr *x[4] = {px_convert(at, key, HLO_U32), zero,
                    px_convert(at, px_binary(at, HLO_OP_SHIFT_RIGHT_LOGICAL, key, c32), HLO_U32),
                    zero};
  uint32_t k0 = 0x3ec8f720u, k1 = 0x02461e29u;
  for (int round = 0; round < 10; round++) {
    HloInstr *p0 = px_binary(at, HLO_OP_MULTIPLY, px_convert(at, x[0], HLO_U64),
                             px_scalar(at, HLO_U64, 0xD2511F53u, s));
    HloInstr *p1 = px_binary(at, HLO_OP_MULTIPLY, px_convert(at, x[2], HLO_U64),
                             px_scalar(at, HLO_U64, 0xCD9E8D57u, s));
    HloInstr *hi0 = px_convert(at, px_binary(at, HLO_OP_SHIFT_RIGHT_LOGICAL, p0, c32), HLO_U32);
    HloInstr *hi1 = px_convert(at, px_binary(at, HLO_OP_SHIFT_RIGHT_LOGICAL, p1, c32), HLO_U32);
    HloInstr *y0 = px_binary(at, HLO_OP_XOR, px_binary(at, HLO_OP_XOR, hi1, x[1]),
                             px_scalar(at, HLO_U32, k0, s));
    HloInstr *y2 = px_binary(at, HLO_OP_XOR, px_binary(at, HLO_OP_XOR, hi0, x[3]),
                             px_scalar(at, HLO_U32, k1, s));
    x[1] = px_convert(at, p1, HLO_U32);
    x[3] = px_convert(at, p0, HLO_U32);
    x[0] = y0;
    x[2] = y2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return px_binary(at, HLO_OP_OR, px_convert(at, x[0], HLO_U64),
                   px_binary(at, HLO_OP_SHIFT_LEFT, px_convert(at, x[1], HLO_U64), c32));
}

/* ---- TridiagonalSolver --------------------------------------------------- */

/* x[..., i:i+1] along dim (the others whole). */
static HloInstr *slice_at(PxAt at, HloInstr *x, int dim, int64_t i) {
  HloSliceDim sd[HLO_MAX_RANK];
  for (int d = 0; d < x->shape.rank; d++) sd[d] = (HloSliceDim){0, x->shape.dims[d], 1};
  sd[dim] = (HloSliceDim){i, i + 1, 1};
  HloError *e = NULL;
  return px_built(hlo_build_slice(at.c, x, sd, &e), e, at.before);
}

/* Column i of a diagonal [..., 1, n] broadcast over the k right-hand
 * sides: [..., k, 1] (col's shape). */
static HloInstr *diag_col(PxAt at, HloInstr *diag, int64_t i, const HloShape *col) {
  int r = diag->shape.rank;
  HloInstr *c = px_reshape(at, slice_at(at, diag, r - 1, i), r - 2, diag->shape.dims);
  return px_broadcast_leading(at, c, col);
}

static HloInstr *tridiagonal(PxAt at, HloInstr *in) {
  bool stacked = in->noperands == 2;
  HloInstr *b = in->operands[in->noperands - 1];
  HloInstr *lo, *mid, *up;
  if (stacked) {
    HloInstr *g = in->operands[0];
    int r = g->shape.rank;
    up = slice_at(at, g, r - 2, 0);
    mid = slice_at(at, g, r - 2, 1);
    lo = slice_at(at, g, r - 2, 2);
    b = px_transpose_minor(at, b);
  } else {
    lo = in->operands[0], mid = in->operands[1], up = in->operands[2];
  }
  int r = b->shape.rank;
  int64_t n = b->shape.dims[r - 1];
  HloShape col = b->shape;
  col.dims[r - 1] = 1;
  HloInstr *dp[128], *bp[128], *x[128];
  dp[0] = diag_col(at, mid, 0, &col);
  bp[0] = slice_at(at, b, r - 1, 0);
  for (int64_t i = 1; i < n; i++) {
    HloInstr *w = px_binary(at, HLO_OP_DIVIDE, diag_col(at, lo, i, &col), dp[i - 1]);
    dp[i] = px_binary(at, HLO_OP_SUBTRACT, diag_col(at, mid, i, &col),
                      px_binary(at, HLO_OP_MULTIPLY, w, diag_col(at, up, i - 1, &col)));
    bp[i] = px_binary(at, HLO_OP_SUBTRACT, slice_at(at, b, r - 1, i),
                      px_binary(at, HLO_OP_MULTIPLY, w, bp[i - 1]));
  }
  x[n - 1] = px_binary(at, HLO_OP_DIVIDE, bp[n - 1], dp[n - 1]);
  for (int64_t i = n - 2; i >= 0; i--)
    x[i] = px_binary(at, HLO_OP_DIVIDE,
                     px_binary(at, HLO_OP_SUBTRACT, bp[i],
                               px_binary(at, HLO_OP_MULTIPLY, diag_col(at, up, i, &col),
                                         x[i + 1])),
                     dp[i]);
  HloError *e = NULL;
  HloInstr *s = n == 1 ? x[0]
                       : px_built(hlo_build_concatenate(at.c, x, (int)n, r - 1, &e), e,
                                  at.before);
  return stacked ? px_transpose_minor(at, s) : s;
}

HloInstr *px_expand_builder_lib(HloInstr *in) {
  PxAt at = {in->parent, in};
  HloInstr *r;
  switch (hlo_builder_lib_call(in)) {
  case HLO_BL_EINSUM: r = einsum(at, in); break;
  case HLO_BL_DIAGONAL: r = matrix_diagonal(at, in); break;
  case HLO_BL_PHILOX_KEY: r = philox_key(at, in->operands[0]); break;
  case HLO_BL_TRIDIAGONAL: r = tridiagonal(at, in); break;
  default: return NULL;
  }
  return px_with_layout(r, &in->shape, in);
}
