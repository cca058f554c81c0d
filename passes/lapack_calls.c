/*
 * lapack_calls.c — the custom-calls through which JAX's CPU programs call
 * LAPACK (lapack_{s,d}potrf_ffi and …trsm_ffi, decoded by hlo/'s
 * hlo_lapack_call) rewritten into the HLO ops they compute, so that the
 * rest of the pipeline and codegen see cholesky and triangular-solve.
 *
 * trsm is triangular-solve with the attributes its characters give.
 * potrf returns (factor, info) as LAPACK leaves them: the factor in the
 * triangle uplo names (cholesky), the other triangle a's own values (a
 * select on an iota mask), and info per matrix 0 when the matrix is
 * positive definite, else the 1-based column of the first pivot that is
 * not positive: the smallest column + 1 whose diagonal element of the
 * factor is not > 0 (a failed pivot is NaN or 0 there; the earlier
 * columns are LAPACK's), as a min-reduce over each matrix.  After a
 * failure the factor's later columns differ from LAPACK's half-done ones,
 * which JAX discards (it selects NaN where info is not 0).
 *
 * single_device.c's walk offers every custom-call here, so this runs
 * first in the pipeline and under --O0 alike; the evaluator computes the
 * same from the call itself (eval_lapack).
 *
 * requires: a verified module.
 * keeps:    each replaced instruction's shape.
 */
#include "internal.h"

static HloInstr *binary(HloOpcode op, HloInstr *a, HloInstr *b, HloInstr *before) {
  HloError *err = NULL;
  return px_built(hlo_build_binary(before->parent, op, a, b, &err), err, before);
}

static HloInstr *compare(HloCompareDir d, HloInstr *a, HloInstr *b, HloInstr *before) {
  HloError *err = NULL;
  return px_built(hlo_build_compare(before->parent, d, a, b, &err), err, before);
}

static HloInstr *select3(HloInstr *p, HloInstr *t, HloInstr *f, HloInstr *before) {
  HloError *err = NULL;
  return px_built(hlo_build_ternary(before->parent, HLO_OP_SELECT, p, t, f, &err), err, before);
}

static HloInstr *iota(const HloShape *s, int64_t dim, HloInstr *before) {
  HloError *err = NULL;
  return px_built(hlo_build_iota(before->parent, s, dim, &err), err, before);
}

/* A new instruction of opcode op and shape `shape` before `before`, with
 * the decoded LAPACK attributes. */
static HloInstr *linalg(HloOpcode op, const HloShape *shape, HloInstr *const *ops, int n,
                        const HloLapackCall *lc, HloInstr *before) {
  HloInstr *x = hlo_instr_new(before->parent, op, shape, ops, n, NULL);
  x->lower = lc->lower;
  if (op == HLO_OP_TRIANGULAR_SOLVE) {
    x->left_side = lc->left_side;
    x->unit_diagonal = lc->unit_diagonal;
    x->transpose_a = lc->transpose_a;
  }
  return px_built(x, NULL, before);
}

static HloInstr *lower_potrf(HloInstr *in, const HloLapackCall *lc) {
  HloComputation *c = in->parent;
  HloInstr *a = in->operands[0];
  HloShape s = hlo_shape_array(a->shape.type, a->shape.rank, a->shape.dims);
  int r = s.rank;
  HloInstr *f = linalg(HLO_OP_CHOLESKY, &s, &a, 1, lc, in);
  HloShape si = hlo_shape_array(HLO_S32, r, s.dims);
  HloInstr *row = iota(&si, r - 2, in), *col = iota(&si, r - 1, in);
  /* LAPACK leaves the other triangle as it was. */
  HloInstr *mine = compare(lc->lower ? HLO_CMP_GE : HLO_CMP_LE, row, col, in);
  HloInstr *factor = select3(mine, f, a, in);
  /* info: min over each matrix of (column + 1 where the pivot failed,
   * else INT32_MAX), then INT32_MAX → 0. */
  HloInstr *zero = px_broadcast_scalar(c, &f->shape, 0, in);
  HloInstr *ok = compare(HLO_CMP_GT, f, zero, in);
  HloError *err = NULL;
  HloInstr *bad = px_built(hlo_build_unary(c, HLO_OP_NOT, ok, &err), err, in);
  bad = binary(HLO_OP_AND, bad, compare(HLO_CMP_EQ, row, col, in), in);
  HloInstr *none = px_broadcast_scalar(c, &si, INT32_MAX, in);
  HloInstr *at = binary(HLO_OP_ADD, col, px_broadcast_scalar(c, &si, 1, in), in);
  HloInstr *cand = select3(bad, at, none, in);
  HloShape scalar = hlo_shape_array(HLO_S32, 0, NULL);
  HloInstr *init = px_constant_splat(c, &scalar, INT32_MAX, in);
  HloComputation *min = hlo_build_scalar_computation(c->module, HLO_OP_MINIMUM, HLO_S32);
  int64_t dims[2] = {r - 2, r - 1};
  HloInstr *first = px_built(hlo_build_reduce(c, &cand, &init, 1, dims, 2, min, &err), err, in);
  HloInstr *nothing = px_broadcast_scalar(c, &first->shape, INT32_MAX, in);
  HloInstr *info = select3(compare(HLO_CMP_EQ, first, nothing, in),
                           px_broadcast_scalar(c, &first->shape, 0, in), first, in);
  HloInstr *xs[2] = {px_with_layout(factor, &in->shape.tuple[0], in),
                     px_with_layout(info, &in->shape.tuple[1], in)};
  return px_built(hlo_build_tuple(c, xs, 2, &err), err, in);
}

HloInstr *px_lower_lapack_call(HloInstr *in) {
  HloLapackCall lc = hlo_lapack_call(in);
  if (lc.kind == HLO_LAPACK_NONE) return NULL;
  if (lc.kind == HLO_LAPACK_POTRF) return lower_potrf(in, &lc);
  HloShape s = hlo_shape_array(in->shape.type, in->shape.rank, in->shape.dims);
  HloInstr *x = linalg(HLO_OP_TRIANGULAR_SOLVE, &s, in->operands, 2, &lc, in);
  return px_with_layout(x, &in->shape, in);
}
