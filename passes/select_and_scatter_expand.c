/*
 * select_and_scatter_expand.c — select-and-scatter(x, source, init)
 * rewritten into a reduce-window that finds each window's selected
 * element and a scatter that accumulates the source into it, as XLA's
 * SelectAndScatterExpander does (on CPU), so that codegen compiles it.
 *
 * One s32 iota per dimension of x rides along x through a variadic
 * reduce-window over select-and-scatter's own window, with init values
 * (init, -1, …): its reducer keeps the left (value, indices) when
 * select(left, right) holds and the left is an element (index not -1),
 * or when the right is not one, else takes the right.  reduce-window
 * folds a window's elements in the row-major order of its offsets from
 * the init (padding skipped), so the first element is taken, then
 * replaced by each later one that select does not keep the selected over
 * (first wins) — hlo/'s evaluator's order.  The indices, concatenated
 * into [source dims…, rank], scatter the source into a broadcast of init
 * with the scatter computation, applied as scatter(result, source); a
 * window of padding only keeps index -1, out of bounds, so scatter skips
 * it.  A scalar operand is seen as [1] with a window of one.
 *
 * px_expand_op (expand_ops.c) hands select-and-scatter here, in
 * single_device.c's walk, so this runs first in the pipeline and under
 * --O0 alike.
 *
 * requires: a verified select-and-scatter whose select computation calls
 *           no other computation (XLA's are compares): its instructions
 *           are copied into the reducer, which is put first in the module.
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing; the select computation may be left uncalled (DCE).
 */
#include "internal.h"

/* (v_l, i_l…, v_r, i_r…) -> (v, i…): the left kept when select(v_l, v_r)
 * and i_l[0] != -1, or when i_r[0] == -1; else the right. */
static HloComputation *reducer(HloInstr *in, int rank) {
  HloModule *m = in->parent->module;
  HloComputation *r = hlo_computation_new(m, "select_and_scatter_reducer");
  PxAt at = {r, NULL};
  HloShape vs = hlo_shape_scalar(in->shape.type), is = hlo_shape_scalar(HLO_S32);
  HloInstr *l[HLO_MAX_RANK + 1] = {NULL}, *rt[HLO_MAX_RANK + 1] = {NULL};
  for (int k = 0; k <= rank; k++) {
    l[k] = hlo_parameter_new(r, k, k ? &is : &vs, k ? "index_lhs" : "value_lhs");
    rt[k] = hlo_parameter_new(r, rank + 1 + k, k ? &is : &vs, k ? "index_rhs" : "value_rhs");
  }
  HloInstr *args[2] = {l[0], rt[0]};
  HloInstr *sel = px_clone_computation(r, in->called[0], args, NULL);
  HloInstr *none = px_scalar(at, HLO_S32, -1, NULL);
  HloInstr *keep = px_binary(at, HLO_OP_AND, sel, px_compare(at, HLO_CMP_NE, l[1], none));
  keep = px_binary(at, HLO_OP_OR, keep, px_compare(at, HLO_CMP_EQ, rt[1], none));
  HloInstr *out[HLO_MAX_RANK + 1];
  for (int k = 0; k <= rank; k++) out[k] = px_select(at, keep, l[k], rt[k]);
  HloError *e = NULL;
  hlo_set_root(r, px_built(hlo_build_tuple(r, out, rank + 1, &e), e, NULL));
  hlo_computation_move_first(r);
  return r;
}

HloInstr *px_expand_select_and_scatter(HloInstr *in) {
  if (in->op != HLO_OP_SELECT_AND_SCATTER) return NULL;
  PxAt at = {in->parent, in};
  HloInstr *x = in->operands[0], *src = in->operands[1], *init = in->operands[2];
  HloError *e = NULL;
  if (hlo_shape_elements(&src->shape) == 0 || hlo_shape_elements(&x->shape) == 0)
    return px_broadcast_leading(at, init, &x->shape);
  int rank = x->shape.rank;
  HloWindowDim one = {.size = 1, .stride = 1, .lhs_dilate = 1, .rhs_dilate = 1};
  const HloWindowDim *win = in->window;
  if (rank == 0) {
    int64_t n1 = 1;
    x = px_reshape(at, x, 1, &n1);
    src = px_reshape(at, src, 1, &n1);
    win = &one;
    rank = 1;
  }
  HloInstr *ins[HLO_MAX_RANK + 1], *inits[HLO_MAX_RANK + 1];
  HloInstr *none = px_scalar(at, HLO_S32, -1, NULL);
  ins[0] = x;
  inits[0] = init;
  for (int d = 0; d < rank; d++) {
    ins[d + 1] = px_iota_like(at, x, d);
    inits[d + 1] = none;
  }
  HloInstr *rw = px_built(hlo_build_reduce_window(at.c, ins, inits, rank + 1, win,
                                                  reducer(in, rank), &e),
                          e, at.before);
  /* [source dims…, 1] per dimension, then [source dims…, rank]. */
  int64_t col[HLO_MAX_RANK + 1];
  for (int d = 0; d < rank; d++) col[d] = src->shape.dims[d];
  col[rank] = 1;
  HloInstr *idx[HLO_MAX_RANK];
  for (int d = 0; d < rank; d++) {
    HloInstr *g = px_built(hlo_build_get_tuple_element(at.c, rw, d + 1, &e), e, at.before);
    idx[d] = px_reshape(at, g, rank + 1, col);
  }
  HloInstr *indices =
      px_built(hlo_build_concatenate(at.c, idx, rank, rank, &e), e, at.before);
  int64_t all[HLO_MAX_RANK];
  for (int d = 0; d < rank; d++) all[d] = d;
  HloScatterDims sd = {.update_window_dims = {0, NULL},
                       .inserted_window_dims = {rank, all},
                       .scatter_dims_to_operand_dims = {rank, all},
                       .index_vector_dim = rank};
  HloInstr *base = px_broadcast_leading(at, init, &x->shape);
  HloInstr *r = px_built(hlo_build_scatter(at.c, &base, indices, &src, 1, &sd, in->called[1], &e),
                         e, at.before);
  return in->operands[0]->shape.rank == 0 ? px_reshape(at, r, 0, NULL) : r;
}
