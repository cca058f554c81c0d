/*
 * lower_scatter.c — TensorFlow's N-dimensional gathers and scatters:
 * GatherNd, ScatterNd and TensorScatterUpdate/Add/Sub/Max/Min.
 *
 * Each is one HLO gather or scatter with XLA's semantics.  Their indices
 * have the index vector in the last dim: indices[..., K] addresses the
 * first K dims of the operand, and the operand's remaining dims are the
 * slice (gather) or update window (scatter), so every form is the same
 * dimension numbers with K collapsed (inserted) dims.
 *
 * Indices are values known only at run time, so TensorFlow's range check
 * cannot happen at compile time.  Out-of-range indices follow XLA: a
 * gather clamps the start so the slice fits, a scatter skips the update.
 * The scatter's behaviour is TensorFlow's bad_indices_policy "IGNORE";
 * GatherNd with "IGNORE" gives zeros for such slices, as TensorFlow does,
 * with an explicit range check; with the default policy TensorFlow's CPU
 * kernels fail where these clamp or skip.  Duplicate indices add up in
 * ScatterNd and TensorScatterAdd/Sub, take the extreme in Max/Min, and
 * in TensorScatterUpdate the last update in row-major order wins (XLA
 * leaves that order unspecified and so does TensorFlow).
 *
 * Assumes static shapes and ScatterNd's shape input foldable to a
 * constant.
 */
#include "lower.h"

#include <stdlib.h>
#include <string.h>

/* For messages: the shape as text, in the module's arena. */
static const char *shape_str(TfLower *L, const HloShape *s) {
  char *t = hlo_shape_to_string(s);
  const char *r = hlo_arena_strdup(L->m->arena, t);
  free(t);
  return r;
}

/* bad_indices_policy ("" and "DEFAULT" mean "ERROR" on the CPU): whether
 * it is "IGNORE". */
static HloError *ignore_policy(const TfNode *n, bool *ignore) {
  const char *p = "";
  *ignore = false;
  if (tf_attr_find(n, "bad_indices_policy")) {
    HloError *e = tf_attr_string(n, "bad_indices_policy", &p);
    if (e) return e;
  }
  if (!strcmp(p, "IGNORE")) *ignore = true;
  else if (strcmp(p, "") && strcmp(p, "DEFAULT") && strcmp(p, "ERROR"))
    return hlo_error("bad_indices_policy '%s' is not DEFAULT, ERROR or IGNORE", p);
  return NULL;
}

/* indices must be integers of rank >= 1 whose last dim K (the index
 * vector) addresses at most the operand's rank. */
static HloError *index_depth(TfLower *L, const HloInstr *idx, const HloInstr *x,
                             const char *what, int *k) {
  const HloShape *is = &idx->shape;
  if (!hlo_type_is_integer(is->type) || is->type == HLO_PRED)
    return hlo_error("indices must be integers, are %s", shape_str(L, is));
  if (is->rank < 1)
    return hlo_error("indices must have rank >= 1 (the index vector is the last dim), are %s",
                     shape_str(L, is));
  int64_t depth = is->dims[is->rank - 1];
  if (depth > x->shape.rank)
    return hlo_error("the index vectors of indices %s have %lld entries, more than the rank %d "
                     "of %s %s",
                     shape_str(L, is), (long long)depth, x->shape.rank, what,
                     shape_str(L, &x->shape));
  *k = (int)depth;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* GatherNd                                                                 */
/* ------------------------------------------------------------------------ */

/* Whether each index vector of idx (last dim k) lies inside dims[0..k):
 * a pred of idx's shape without its last dim. */
static HloInstr *in_range(TfLower *L, HloInstr *idx, const int64_t *dims, int k,
                          HloError **e) {
  if (*e) return NULL;
  const HloShape *is = &idx->shape;
  HloShape hs = hlo_shape_array(is->type, 1, (int64_t[]){k});
  HloLiteral *lit = hlo_literal_new_in(L->m->arena, &hs);
  for (int i = 0; i < k; i++) hlo_literal_set_s64(lit, i, dims[i]);
  int64_t last = is->rank - 1;
  HloInstr *bound = hlo_build_broadcast(L->c, hlo_constant_new(L->c, lit, NULL), is, &last, 1, e);
  HloInstr *ok = tf_binary(L, HLO_OP_AND, tf_compare(L, HLO_CMP_GE, idx, tf_full(L, idx, 0, e), e),
                           tf_compare(L, HLO_CMP_LT, idx, bound, e), e);
  if (*e) return NULL;
  HloInstr *t = tf_scalar(L, HLO_PRED, 1);
  return hlo_build_reduce(L->c, &ok, &t, 1, &last, 1,
                          hlo_build_scalar_computation(L->m, HLO_OP_AND, HLO_PRED), e);
}

/* params[indices[..., :]]: the result is indices.shape[:-1] +
 * params.shape[K:]. */
static HloError *lower_gather_nd(TfLower *L, const TfNode *n) {
  HloInstr *p, *idx;
  bool ignore;
  int k;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &p);
  if (!e) e = tf_input(L, n, 1, &idx);
  if (!e) e = ignore_policy(n, &ignore);
  if (!e) e = index_depth(L, idx, p, "params", &k);
  if (e) return e;
  const HloShape *ps = &p->shape, *is = &idx->shape;
  int nb = is->rank - 1, out_rank = nb + ps->rank - k;
  if (out_rank > HLO_MAX_RANK)
    return hlo_error("the result's rank %d exceeds %d", out_rank, HLO_MAX_RANK);
  int64_t offset[HLO_MAX_RANK], first[HLO_MAX_RANK], sizes[HLO_MAX_RANK];
  for (int d = 0; d < ps->rank - k; d++) offset[d] = nb + d;
  for (int d = 0; d < k; d++) first[d] = d;
  for (int d = 0; d < ps->rank; d++) sizes[d] = d < k ? 1 : ps->dims[d];
  /* An empty dim addressed by the indices has no slice to clamp into. */
  for (int d = 0; d < k; d++)
    if (ps->dims[d] == 0 && hlo_shape_elements(is) > 0)
      return hlo_error("params %s has no elements along dimension %d, which indices %s address",
                       shape_str(L, ps), d, shape_str(L, is));
  HloGatherDims g = {
      .offset_dims = {ps->rank - k, offset},
      .collapsed_slice_dims = {k, first},
      .start_index_map = {k, first},
      .index_vector_dim = nb,
      .slice_sizes = {ps->rank, sizes},
  };
  HloInstr *y = hlo_build_gather(L->c, p, idx, &g, &e);
  if (y && ignore && k > 0) {
    HloInstr *ok = in_range(L, idx, ps->dims, k, &e);
    HloShape ms = hlo_shape_array(HLO_PRED, y->shape.rank, y->shape.dims);
    int64_t map[HLO_MAX_RANK];
    for (int d = 0; d < nb; d++) map[d] = d;
    if (ok) ok = hlo_build_broadcast(L->c, ok, &ms, map, nb, &e);
    y = tf_select(L, ok, y, tf_full(L, y, 0, &e), &e);
  }
  return tf_finish(L, n, y, &e);
}

/* ------------------------------------------------------------------------ */
/* Scatters                                                                 */
/* ------------------------------------------------------------------------ */

/* (old, new) -> new: TensorScatterUpdate's combiner. */
static HloComputation *replace_computation(TfLower *L, HloType t) {
  HloComputation *c = tf_computation_new(L, "scatter_replace");
  HloShape s = hlo_shape_scalar(t);
  hlo_parameter_new(c, 0, &s, "old");
  hlo_set_root(c, hlo_parameter_new(c, 1, &s, "new"));
  return c;
}

/* x with updates combined in at indices by `op` (HLO_OP_PARAMETER:
 * replace).  updates must have the shape indices.shape[:-1] +
 * x.shape[K:]. */
static HloError *scatter(TfLower *L, HloInstr *x, HloInstr *idx, HloInstr *upd, HloOpcode op,
                         HloInstr **out) {
  int k;
  HloError *e = index_depth(L, idx, x, "the tensor", &k);
  if (e) return e;
  const HloShape *xs = &x->shape, *is = &idx->shape, *us = &upd->shape;
  int nb = is->rank - 1;
  bool ok = us->type == xs->type && us->rank == nb + xs->rank - k;
  for (int d = 0; ok && d < us->rank; d++)
    ok = us->dims[d] == (d < nb ? is->dims[d] : xs->dims[k + d - nb]);
  if (!ok)
    return hlo_error("updates %s do not have the shape indices.shape[:-1] + shape[%d:] for "
                     "indices %s and a tensor %s",
                     shape_str(L, us), k, shape_str(L, is), shape_str(L, xs));
  int64_t window[HLO_MAX_RANK], first[HLO_MAX_RANK];
  for (int d = 0; d < xs->rank - k; d++) window[d] = nb + d;
  for (int d = 0; d < k; d++) first[d] = d;
  HloScatterDims sd = {
      .update_window_dims = {xs->rank - k, window},
      .inserted_window_dims = {k, first},
      .scatter_dims_to_operand_dims = {k, first},
      .index_vector_dim = nb,
  };
  HloType t = xs->type;
  HloComputation *combine = op == HLO_OP_PARAMETER ? replace_computation(L, t)
                                                   : hlo_build_scalar_computation(L->m, op, t);
  *out = hlo_build_scatter(L->c, &x, idx, &upd, 1, &sd, combine, &e);
  return e;
}

/* ScatterNd: indices, updates, shape; a tensor of zeros of `shape` to
 * which the updates are added (or'ed for bool). */
static HloError *lower_scatter_nd(TfLower *L, const TfNode *n) {
  HloInstr *idx, *upd, *y;
  int64_t *dims;
  int rank;
  bool ignore;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &idx);
  if (!e) e = tf_input(L, n, 1, &upd);
  if (!e) e = tf_input_ints(L, n, 2, &dims, &rank);
  if (!e) e = ignore_policy(n, &ignore);
  if (e) return e;
  if (rank > HLO_MAX_RANK) return hlo_error("shape has rank %d, above %d", rank, HLO_MAX_RANK);
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0) return hlo_error("shape has the negative size %lld", (long long)dims[d]);
  HloType t = upd->shape.type;
  HloShape s = hlo_shape_array(t, rank, dims);
  if ((e = hlo_shape_check_size(&s))) return hlo_error_wrap(e, "the output");
  HloInstr *zero = tf_scalar(L, t, 0);
  if (rank) zero = hlo_build_broadcast(L->c, zero, &s, NULL, 0, &e);
  if (e) return e;
  if ((e = scatter(L, zero, idx, upd, t == HLO_PRED ? HLO_OP_OR : HLO_OP_ADD, &y))) return e;
  tf_set_output(L, n, 0, y);
  return NULL;
}

/* TensorScatterUpdate/Add/Sub/Max/Min: tensor, indices, updates. */
static HloError *lower_tensor_scatter(TfLower *L, const TfNode *n) {
  HloInstr *x, *idx, *upd, *y;
  bool ignore;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &idx);
  if (!e) e = tf_input(L, n, 2, &upd);
  if (!e) e = ignore_policy(n, &ignore);
  if (e) return e;
  const char *kind = n->op + strlen("TensorScatter");
  HloOpcode op;
  if (!strcmp(kind, "Update")) op = HLO_OP_PARAMETER;
  else if (!strcmp(kind, "Add") || !strcmp(kind, "Sub")) op = HLO_OP_ADD;
  else if (!strcmp(kind, "Max")) op = HLO_OP_MAXIMUM;
  else op = HLO_OP_MINIMUM;
  if (op != HLO_OP_PARAMETER && x->shape.type == HLO_PRED)
    return hlo_error("the tensor must be numeric, is %s", shape_str(L, &x->shape));
  /* x - u is x + (-u), also for unsigned types, where both wrap. */
  if (!strcmp(kind, "Sub")) upd = tf_unary(L, HLO_OP_NEGATE, upd, &e);
  if (e) return e;
  if ((e = scatter(L, x, idx, upd, op, &y))) return e;
  tf_set_output(L, n, 0, y);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define TENSOR_SCATTER(op, notes)                                             \
  {op, lower_tensor_scatter, "T, Tindices, bad_indices_policy",                \
   "out-of-range indices are skipped (bad_indices_policy IGNORE); " notes}

const TfOpLowering tf_lower_scatter[] = {
    {"GatherNd", lower_gather_nd, "Tparams, Tindices, bad_indices_policy",
     "out-of-range indices are clamped (TensorFlow's CPU kernel fails), or give zeros with "
     "bad_indices_policy IGNORE"},
    {"ScatterNd", lower_scatter_nd, "T, Tindices, bad_indices_policy",
     "shape constant; duplicates add up; out-of-range indices are skipped (bad_indices_policy "
     "IGNORE)"},
    TENSOR_SCATTER("TensorScatterUpdate", "with duplicate indices the last update wins"),
    TENSOR_SCATTER("TensorScatterAdd", "duplicates add up"),
    TENSOR_SCATTER("TensorScatterSub", "duplicates add up"),
    TENSOR_SCATTER("TensorScatterMax", "duplicates take the maximum"),
    TENSOR_SCATTER("TensorScatterMin", "duplicates take the minimum"),
    {NULL, NULL, NULL, NULL},
};
