/*
 * triangular_solve_expand.c — triangular-solve rewritten into a loop of
 * the plain HLO codegen compiles (dynamic slices, a batched vector-matrix
 * dot, elementwise ops), as XLA's TriangularSolveExpander does.
 *
 * Every variant becomes one: M X = C with M triangular, applied from the
 * left.  T is the triangle of a that `lower` names (a select, so the other
 * triangle is never read), with ones on the diagonal when unit_diagonal;
 * op(T) x = b has M = op(T), and x op(T) = b is op(T)^T x^T = b^T, so
 * M = op(T)^T, C = b^T, and the result is X^T (op transposes for TRANSPOSE
 * and ADJOINT, which are one for the real types the verifier admits).  M
 * is lower triangular when `lower` and the transposes cancel, and the loop
 * solves its rows in order (forward substitution), else in reverse: at
 * the step for row i, X's unsolved rows are still zero, so
 * X[i, :] = (C[i, :] - M'[i, :] X) / M[i, i], M' being M with its diagonal
 * zeroed (an infinite pivot must not meet a zero row of X).
 *
 * Like cholesky_expand.c, and unlike XLA, the loop runs in f64 and rounds
 * once at the end, as hlo/'s evaluator does, so the two agree up to the
 * order of the sums in f64.
 *
 * px_expand_op (expand_ops.c) hands triangular-solve here, in
 * single_device.c's walk, so this runs first in the pipeline and under
 * --O0 alike.
 *
 * requires: a verified triangular-solve (a real float type).
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing; adds the loop's two computations to the module.
 */
#include "internal.h"

static HloInstr *dslice(PxAt at, HloInstr *x, HloInstr *const *st, const int64_t *sizes) {
  HloError *e = NULL;
  return px_built(hlo_build_dynamic_slice(at.c, x, st, sizes, &e), e, at.before);
}

/* One step of the loop: row i of X in M X = C (M [B…, m, m], C and X
 * [B…, m, r], f64), where step s solves row s (forward) or m-1-s. */
static HloInstr *row_step(PxAt at, HloInstr *mat, HloInstr *c, HloInstr *x, HloInstr *s,
                          bool forward) {
  const HloShape *xs = &x->shape;
  int nb = xs->rank - 2;
  int64_t m = xs->dims[nb], r = xs->dims[nb + 1];
  HloInstr *zero = px_scalar(at, HLO_S32, 0, NULL);
  HloInstr *i = forward ? s
                        : px_binary(at, HLO_OP_SUBTRACT, px_scalar(at, HLO_S32, (double)m - 1, NULL), s);
  HloInstr *st[HLO_MAX_RANK];
  int64_t sizes[HLO_MAX_RANK], vec[HLO_MAX_RANK];
  for (int d = 0; d < nb; d++) {
    st[d] = zero;
    sizes[d] = vec[d] = xs->dims[d];
  }
  st[nb] = i, st[nb + 1] = zero;

  /* Row i of M as [B…, m]; its diagonal element, and the row without it. */
  sizes[nb] = 1, sizes[nb + 1] = m;
  vec[nb] = m;
  HloInstr *row = px_reshape(at, dslice(at, mat, st, sizes), nb + 1, vec);
  HloInstr *k = px_iota_like(at, row, nb);
  HloInstr *on_diag = px_compare(at, HLO_CMP_EQ, k, px_broadcast_leading(at, i, &k->shape));
  HloInstr *off = px_select(at, on_diag, px_scalar(at, HLO_F64, 0, &row->shape), row);
  sizes[nb] = 1;
  HloInstr *pivot = px_reshape(at, dslice(at, row, st, sizes), nb, vec);

  /* (C[i, :] - M'[i, :] X) / M[i, i], as [B…, r]. */
  int64_t batch[HLO_MAX_RANK], contract = nb;
  for (int d = 0; d < nb; d++) batch[d] = d;
  HloDotDims dd = {{nb, batch}, {1, &contract}, {nb, batch}, {1, &contract}};
  HloError *e = NULL;
  HloInstr *sum = px_built(hlo_build_dot(at.c, off, x, &dd, HLO_F64, &e), e, at.before);
  sizes[nb] = 1, sizes[nb + 1] = r;
  vec[nb] = r;
  HloInstr *ci = px_reshape(at, dslice(at, c, st, sizes), nb + 1, vec);
  HloInstr *xi = px_binary(at, HLO_OP_DIVIDE, px_binary(at, HLO_OP_SUBTRACT, ci, sum),
                           px_broadcast_leading(at, pivot, &ci->shape));

  vec[nb] = 1, vec[nb + 1] = r;
  xi = px_reshape(at, xi, nb + 2, vec);
  return px_built(hlo_build_dynamic_update_slice(at.c, x, xi, st, &e), e, at.before);
}

HloInstr *px_expand_triangular_solve(HloInstr *in) {
  if (in->op != HLO_OP_TRIANGULAR_SOLVE) return NULL;
  PxAt at = {in->parent, in};
  HloType t = in->shape.type;
  if (hlo_shape_elements(&in->shape) == 0) return px_scalar(at, t, 0, &in->shape);

  /* T: the named triangle of a, in f64. */
  HloInstr *a = px_convert(at, in->operands[0], HLO_F64);
  int nb = a->shape.rank - 2;
  HloInstr *row = px_iota_like(at, a, nb), *col = px_iota_like(at, a, nb + 1);
  HloInstr *in_tri = px_compare(at, in->lower ? HLO_CMP_LE : HLO_CMP_GE, col, row);
  HloInstr *mat = px_select(at, in_tri, a, px_scalar(at, HLO_F64, 0, &a->shape));
  if (in->unit_diagonal)
    mat = px_select(at, px_compare(at, HLO_CMP_EQ, col, row),
                    px_scalar(at, HLO_F64, 1, &a->shape), mat);

  bool trans = in->transpose_a != HLO_TRANSPOSE_NO;
  bool left_t = in->left_side ? trans : !trans;
  if (left_t) mat = px_transpose_minor(at, mat);
  HloInstr *c = px_convert(at, in->operands[1], HLO_F64);
  if (!in->left_side) c = px_transpose_minor(at, c);
  HloInstr *x0 = px_scalar(at, HLO_F64, 0, &c->shape);

  PxLoop loop;
  HloInstr *init[3] = {mat, c, x0};
  px_loop_begin(&loop, in->parent->module, "triangular_solve_row", init, 3);
  HloInstr *next[3] = {loop.state[0], loop.state[1], NULL};
  next[2] = row_step((PxAt){loop.body, NULL}, loop.state[0], loop.state[1], loop.state[2],
                     loop.i, in->lower != left_t);
  HloInstr *out[3];
  px_loop_end(&loop, init, next, a->shape.dims[nb], at, out);

  HloInstr *x = px_convert(at, out[2], t);
  return in->left_side ? x : px_transpose_minor(at, x);
}
