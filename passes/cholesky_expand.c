/*
 * cholesky_expand.c — cholesky rewritten into a loop of the plain HLO
 * codegen compiles (dynamic slices, a batched matrix-vector dot,
 * elementwise ops), as XLA's CholeskyExpander does.
 *
 * The loop computes the factor L column by column (left-looking
 * Cholesky-Banachiewicz): at step j, with the columns after j still zero,
 * v = A[:, j] - L L[j, :]^T holds A[i,j] - sum_{k<j} L[i,k] L[j,k] for
 * every row i, so column j is sqrt(v[j]) on the diagonal, v[i] / sqrt(v[j])
 * below it, and zero above (select, so what v holds above the diagonal —
 * the other triangle of A, perhaps NaN — is never read).  A matrix that is
 * not positive definite gives a NaN pivot and NaN from there on, as the
 * evaluator does.  `lower=false` reads and writes the upper triangle: the
 * transposed matrix is factored and the factor transposed back.
 *
 * Unlike XLA (which runs in the element type with blocked updates), the
 * loop runs in f64 and rounds once at the end, as hlo/'s evaluator does:
 * its results are then the evaluator's up to the order of the sums in
 * f64, and f16/bf16/f32 factors are as accurate as the type allows.
 *
 * px_expand_op (expand_ops.c) hands cholesky here, in single_device.c's
 * walk, so this runs first in the pipeline and under --O0 alike.
 *
 * requires: a verified cholesky (a real float type: the verifier refuses
 *           complex ones).
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing; adds the loop's two computations to the module.
 */
#include "internal.h"

/* The s32 starts of a dynamic slice of an array of rank nb + tail:
 * zeros for the batch, then `tail` given indices. */
static void starts(HloInstr **out, HloInstr *zero, int nb, HloInstr *const *tail, int ntail) {
  for (int d = 0; d < nb; d++) out[d] = zero;
  for (int d = 0; d < ntail; d++) out[nb + d] = tail[d];
}

static HloInstr *dslice(PxAt at, HloInstr *x, HloInstr *const *st, const int64_t *sizes) {
  HloError *e = NULL;
  return px_built(hlo_build_dynamic_slice(at.c, x, st, sizes, &e), e, at.before);
}

/* One step of the loop: column j of L from A (both [B…, n, n], f64). */
static HloInstr *column_step(PxAt at, HloInstr *a, HloInstr *l, HloInstr *j) {
  const HloShape *s = &a->shape;
  int nb = s->rank - 2;
  int64_t n = s->dims[nb];
  HloInstr *zero = px_scalar(at, HLO_S32, 0, NULL);
  HloInstr *st[HLO_MAX_RANK];
  int64_t sizes[HLO_MAX_RANK], vec[HLO_MAX_RANK];
  for (int d = 0; d < nb; d++) sizes[d] = vec[d] = s->dims[d];
  vec[nb] = n;

  /* Row j of L and column j of A, as [B…, n]. */
  HloInstr *row_at[2] = {j, zero}, *col_at[2] = {zero, j};
  starts(st, zero, nb, row_at, 2);
  sizes[nb] = 1, sizes[nb + 1] = n;
  HloInstr *lj = px_reshape(at, dslice(at, l, st, sizes), nb + 1, vec);
  starts(st, zero, nb, col_at, 2);
  sizes[nb] = n, sizes[nb + 1] = 1;
  HloInstr *aj = px_reshape(at, dslice(at, a, st, sizes), nb + 1, vec);

  /* v = A[:, j] - L L[j, :]^T, batched over B… */
  int64_t batch[HLO_MAX_RANK], lc = nb + 1, rc = nb;
  for (int d = 0; d < nb; d++) batch[d] = d;
  HloDotDims dd = {{nb, batch}, {1, &lc}, {nb, batch}, {1, &rc}};
  HloError *e = NULL;
  HloInstr *sum = px_built(hlo_build_dot(at.c, l, lj, &dd, HLO_F64, &e), e, at.before);
  HloInstr *v = px_binary(at, HLO_OP_SUBTRACT, aj, sum);

  /* The pivot sqrt(v[j]), broadcast along the column. */
  starts(st, zero, nb, &j, 1);
  sizes[nb] = 1;
  HloInstr *vj = px_reshape(at, dslice(at, v, st, sizes), nb, vec);
  HloInstr *d = px_unary(at, HLO_OP_SQRT, px_broadcast_leading(at, vj, &v->shape));

  HloInstr *i = px_iota_like(at, v, nb);
  HloInstr *jb = px_broadcast_leading(at, j, &i->shape);
  HloInstr *below = px_select(at, px_compare(at, HLO_CMP_GT, i, jb),
                              px_binary(at, HLO_OP_DIVIDE, v, d),
                              px_scalar(at, HLO_F64, 0, &v->shape));
  HloInstr *col = px_select(at, px_compare(at, HLO_CMP_EQ, i, jb), d, below);

  vec[nb + 1] = 1;
  col = px_reshape(at, col, nb + 2, vec);
  starts(st, zero, nb, col_at, 2);
  return px_built(hlo_build_dynamic_update_slice(at.c, l, col, st, &e), e, at.before);
}

HloInstr *px_expand_cholesky(HloInstr *in) {
  if (in->op != HLO_OP_CHOLESKY) return NULL;
  PxAt at = {in->parent, in};
  HloType t = in->shape.type;
  if (hlo_shape_elements(&in->shape) == 0) return px_scalar(at, t, 0, &in->shape);
  HloInstr *a = in->operands[0];
  if (!in->lower) a = px_transpose_minor(at, a);
  a = px_convert(at, a, HLO_F64);
  HloInstr *l0 = px_scalar(at, HLO_F64, 0, &a->shape);

  PxLoop loop;
  HloInstr *init[2] = {a, l0};
  px_loop_begin(&loop, in->parent->module, "cholesky_column", init, 2);
  HloInstr *next[2] = {loop.state[0], NULL};
  next[1] = column_step((PxAt){loop.body, NULL}, loop.state[0], loop.state[1], loop.i);
  HloInstr *out[2];
  px_loop_end(&loop, init, next, a->shape.dims[a->shape.rank - 1], at, out);

  HloInstr *r = px_convert(at, out[1], t);
  return in->lower ? r : px_transpose_minor(at, r);
}
