/*
 * builder.c — constructors that give new instructions their shapes.
 *
 * Each hlo_build_* creates the instruction at the end of the computation
 * with a placeholder shape, copies its attributes into the module's arena,
 * and asks hlo_infer_shape() for the real shape.  On a shape error the
 * instruction is unlinked again (hlo_instr_remove) and the error returned;
 * its message is the broken rule without the (now meaningless) instruction,
 * e.g. "dot: lhs contracting dimension 1 has size 3 but rhs contracting
 * dimension 0 has size 4", for the caller (the TensorFlow frontend) to
 * prefix with the node it was lowering.
 *
 * The placeholder carries what the rule reads from the instruction's own
 * shape: the target type of convert, the result type of dot and convolution,
 * the dims of broadcast and reshape, and the rank slice and pad index their
 * attributes by.
 *
 * Window and slice strides and dilations left 0 mean 1, as fields absent
 * from HLO text do, so callers may fill only what they need.
 */
#include "hlo.h"

#include <stdlib.h>
#include <string.h>

/* Gives `in` its inferred shape, or unlinks it and reports why not. */
static HloInstr *finish(HloInstr *in, HloError **err) {
  HloShape shape;
  HloError *e = hlo_infer_shape(in, &shape);
  if (!e) {
    in->shape = shape;
    if (err) *err = NULL;
    return in;
  }
  /* The message is "<instruction>: <rule>"; keep the rule. */
  char *d = hlo_instr_describe(in);
  const char *msg = hlo_error_message(e);
  size_t n = strlen(d);
  if (!strncmp(msg, d, n) && !strncmp(msg + n, ": ", 2)) msg += n + 2;
  HloError *rule = hlo_error("%s", msg);
  free(d);
  hlo_error_free(e);
  hlo_instr_remove(in);
  if (err) *err = rule;
  else hlo_error_free(rule);
  return NULL;
}

static HloArena *arena_of(HloComputation *c) { return c->module->arena; }

/* A shape whose only meaning is the rank and type a rule reads back. */
static HloShape placeholder(HloType t, int rank) {
  int64_t zeros[HLO_MAX_RANK] = {0};
  return hlo_shape_array(t, rank, zeros);
}

static HloShape like(const HloInstr *x) {
  return hlo_type_is_array(x->shape.type) ? placeholder(x->shape.type, x->shape.rank)
                                          : placeholder(HLO_PRED, 0);
}

static HloInstr *create(HloComputation *c, HloOpcode op, const HloShape *shape,
                        HloInstr *const *ops, int n) {
  return hlo_instr_new(c, op, shape, ops, n, NULL);
}

static int64_t one_if_zero(int64_t v) { return v ? v : 1; }

HloInstr *hlo_build_unary(HloComputation *c, HloOpcode op, HloInstr *x, HloError **err) {
  HLO_CHECK(hlo_opcode_kind(op) == HLO_KIND_UNARY);
  HloShape s = like(x);
  return finish(create(c, op, &s, &x, 1), err);
}

HloInstr *hlo_build_binary(HloComputation *c, HloOpcode op, HloInstr *a, HloInstr *b,
                           HloError **err) {
  HLO_CHECK(hlo_opcode_kind(op) == HLO_KIND_BINARY && op != HLO_OP_COMPARE);
  HloInstr *ops[2] = {a, b};
  HloShape s = like(a);
  return finish(create(c, op, &s, ops, 2), err);
}

HloInstr *hlo_build_compare(HloComputation *c, HloCompareDir dir, HloInstr *a, HloInstr *b,
                            HloError **err) {
  HloInstr *ops[2] = {a, b};
  HloShape s = placeholder(HLO_PRED, 0);
  HloInstr *in = create(c, HLO_OP_COMPARE, &s, ops, 2);
  in->direction = dir;
  return finish(in, err);
}

HloInstr *hlo_build_ternary(HloComputation *c, HloOpcode op, HloInstr *a, HloInstr *b,
                            HloInstr *x, HloError **err) {
  HLO_CHECK(hlo_opcode_kind(op) == HLO_KIND_TERNARY);
  HloInstr *ops[3] = {a, b, x};
  HloShape s = like(b);
  return finish(create(c, op, &s, ops, 3), err);
}

HloInstr *hlo_build_convert(HloComputation *c, HloInstr *x, HloType to, HloError **err) {
  HloShape s = placeholder(to, 0);
  return finish(create(c, HLO_OP_CONVERT, &s, &x, 1), err);
}

HloInstr *hlo_build_broadcast(HloComputation *c, HloInstr *x, const HloShape *shape,
                              const int64_t *dims, int ndims, HloError **err) {
  HLO_CHECK(hlo_type_is_array(shape->type));
  HloShape s = hlo_shape_array(x->shape.type, shape->rank, shape->dims);
  HloInstr *in = create(c, HLO_OP_BROADCAST, &s, &x, 1);
  hlo_instr_set_dims(in, &in->dimensions, dims, ndims);
  return finish(in, err);
}

HloInstr *hlo_build_reshape(HloComputation *c, HloInstr *x, int rank, const int64_t *dims,
                            HloError **err) {
  HLO_CHECK(rank >= 0 && rank <= HLO_MAX_RANK);
  HloShape s = hlo_shape_array(x->shape.type, rank, dims);
  return finish(create(c, HLO_OP_RESHAPE, &s, &x, 1), err);
}

HloInstr *hlo_build_transpose(HloComputation *c, HloInstr *x, const int64_t *perm,
                              HloError **err) {
  HloShape s = like(x);
  HloInstr *in = create(c, HLO_OP_TRANSPOSE, &s, &x, 1);
  hlo_instr_set_dims(in, &in->dimensions, perm, s.rank);
  return finish(in, err);
}

HloInstr *hlo_build_slice(HloComputation *c, HloInstr *x, const HloSliceDim *slice,
                          HloError **err) {
  HloShape s = like(x);
  HloInstr *in = create(c, HLO_OP_SLICE, &s, &x, 1);
  in->slice = hlo_arena_alloc(arena_of(c), sizeof(HloSliceDim) * (size_t)(s.rank ? s.rank : 1));
  for (int i = 0; i < s.rank; i++) {
    in->slice[i] = slice[i];
    in->slice[i].stride = one_if_zero(slice[i].stride);
  }
  return finish(in, err);
}

HloInstr *hlo_build_concatenate(HloComputation *c, HloInstr *const *xs, int n, int64_t dim,
                                HloError **err) {
  HLO_CHECK(n >= 1);
  HloShape s = like(xs[0]);
  HloInstr *in = create(c, HLO_OP_CONCATENATE, &s, xs, n);
  hlo_instr_set_dims(in, &in->dimensions, &dim, 1);
  return finish(in, err);
}

HloInstr *hlo_build_pad(HloComputation *c, HloInstr *x, HloInstr *value, const HloPadDim *pad,
                        HloError **err) {
  HloInstr *ops[2] = {x, value};
  HloShape s = like(x);
  HloInstr *in = create(c, HLO_OP_PAD, &s, ops, 2);
  in->padding = hlo_arena_memdup(arena_of(c), pad, sizeof(HloPadDim) * (size_t)s.rank);
  return finish(in, err);
}

HloInstr *hlo_build_reverse(HloComputation *c, HloInstr *x, const int64_t *dims, int n,
                            HloError **err) {
  HloShape s = like(x);
  HloInstr *in = create(c, HLO_OP_REVERSE, &s, &x, 1);
  hlo_instr_set_dims(in, &in->dimensions, dims, n);
  return finish(in, err);
}

HloInstr *hlo_build_iota(HloComputation *c, const HloShape *shape, int64_t dim, HloError **err) {
  HloShape s = *shape;
  s.has_layout = false;
  HloInstr *in = create(c, HLO_OP_IOTA, &s, NULL, 0);
  in->iota_dimension = dim;
  return finish(in, err);
}

HloInstr *hlo_build_tuple(HloComputation *c, HloInstr *const *xs, int n, HloError **err) {
  HloShape s = placeholder(HLO_PRED, 0);
  return finish(create(c, HLO_OP_TUPLE, &s, xs, n), err);
}

HloInstr *hlo_build_get_tuple_element(HloComputation *c, HloInstr *t, int64_t index,
                                      HloError **err) {
  HloShape s = placeholder(HLO_PRED, 0);
  HloInstr *in = create(c, HLO_OP_GET_TUPLE_ELEMENT, &s, &t, 1);
  in->tuple_index = index;
  return finish(in, err);
}

/* Copies a dims list into in's arena. */
static HloDims dims_copy(HloInstr *in, const HloDims *d) {
  HloDims r = {0};
  hlo_instr_set_dims(in, &r, d->v, d->n);
  return r;
}

HloInstr *hlo_build_dot(HloComputation *c, HloInstr *a, HloInstr *b, const HloDotDims *dims,
                        HloType result_type, HloError **err) {
  HloInstr *ops[2] = {a, b};
  HloShape s = placeholder(result_type, 0);
  HloInstr *in = create(c, HLO_OP_DOT, &s, ops, 2);
  in->dot.lhs_batch = dims_copy(in, &dims->lhs_batch);
  in->dot.rhs_batch = dims_copy(in, &dims->rhs_batch);
  in->dot.lhs_contracting = dims_copy(in, &dims->lhs_contracting);
  in->dot.rhs_contracting = dims_copy(in, &dims->rhs_contracting);
  return finish(in, err);
}

static void set_window(HloInstr *in, const HloWindowDim *window, int n) {
  in->window_rank = n;
  in->window = hlo_arena_alloc(arena_of(in->parent), sizeof(HloWindowDim) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    in->window[i] = window[i];
    in->window[i].stride = one_if_zero(window[i].stride);
    in->window[i].lhs_dilate = one_if_zero(window[i].lhs_dilate);
    in->window[i].rhs_dilate = one_if_zero(window[i].rhs_dilate);
  }
}

HloInstr *hlo_build_convolution(HloComputation *c, HloInstr *lhs, HloInstr *rhs,
                                const HloWindowDim *window, const HloConvDims *dims,
                                int64_t feature_group_count, int64_t batch_group_count,
                                HloType result_type, HloError **err) {
  HloInstr *ops[2] = {lhs, rhs};
  HloShape s = placeholder(result_type, 0);
  HloInstr *in = create(c, HLO_OP_CONVOLUTION, &s, ops, 2);
  in->conv = *dims;
  in->feature_group_count = feature_group_count;
  in->batch_group_count = batch_group_count;
  set_window(in, window, dims->nspatial);
  return finish(in, err);
}

/* Operands inputs[0..n) then inits[0..n). */
static HloInstr *create_reduction(HloComputation *c, HloOpcode op, HloInstr *const *inputs,
                                  HloInstr *const *inits, int n, HloComputation *to_apply) {
  HLO_CHECK(n >= 1);
  HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(2 * n));
  for (int i = 0; i < n; i++) {
    ops[i] = inputs[i];
    ops[n + i] = inits[i];
  }
  HloShape s = placeholder(HLO_PRED, 0);
  HloInstr *in = create(c, op, &s, ops, 2 * n);
  free(ops);
  hlo_instr_set_called(in, &to_apply, 1);
  return in;
}

HloInstr *hlo_build_reduce(HloComputation *c, HloInstr *const *inputs, HloInstr *const *inits,
                           int n, const int64_t *dims, int ndims, HloComputation *to_apply,
                           HloError **err) {
  HloInstr *in = create_reduction(c, HLO_OP_REDUCE, inputs, inits, n, to_apply);
  hlo_instr_set_dims(in, &in->dimensions, dims, ndims);
  return finish(in, err);
}

HloInstr *hlo_build_reduce_window(HloComputation *c, HloInstr *const *inputs,
                                  HloInstr *const *inits, int n, const HloWindowDim *window,
                                  HloComputation *to_apply, HloError **err) {
  HloInstr *in = create_reduction(c, HLO_OP_REDUCE_WINDOW, inputs, inits, n, to_apply);
  set_window(in, window, like(inputs[0]).rank);
  return finish(in, err);
}

HloInstr *hlo_build_dynamic_slice(HloComputation *c, HloInstr *x, HloInstr *const *starts,
                                  const int64_t *sizes, HloError **err) {
  HloShape s = like(x);
  HloInstr *ops[HLO_MAX_RANK + 1];
  ops[0] = x;
  for (int i = 0; i < s.rank; i++) ops[1 + i] = starts[i];
  HloInstr *in = create(c, HLO_OP_DYNAMIC_SLICE, &s, ops, 1 + s.rank);
  hlo_instr_set_dims(in, &in->dynamic_slice_sizes, sizes, s.rank);
  return finish(in, err);
}

HloInstr *hlo_build_dynamic_update_slice(HloComputation *c, HloInstr *x, HloInstr *update,
                                         HloInstr *const *starts, HloError **err) {
  HloShape s = like(x);
  HloInstr *ops[HLO_MAX_RANK + 2];
  ops[0] = x;
  ops[1] = update;
  for (int i = 0; i < s.rank; i++) ops[2 + i] = starts[i];
  return finish(create(c, HLO_OP_DYNAMIC_UPDATE_SLICE, &s, ops, 2 + s.rank), err);
}

HloInstr *hlo_build_gather(HloComputation *c, HloInstr *x, HloInstr *indices,
                           const HloGatherDims *dims, HloError **err) {
  HloInstr *ops[2] = {x, indices};
  HloShape s = like(x);
  HloInstr *in = create(c, HLO_OP_GATHER, &s, ops, 2);
  HloGatherDims *g = &in->gather;
  *g = *dims;
  g->offset_dims = dims_copy(in, &dims->offset_dims);
  g->collapsed_slice_dims = dims_copy(in, &dims->collapsed_slice_dims);
  g->start_index_map = dims_copy(in, &dims->start_index_map);
  g->operand_batching_dims = dims_copy(in, &dims->operand_batching_dims);
  g->start_indices_batching_dims = dims_copy(in, &dims->start_indices_batching_dims);
  g->slice_sizes = dims_copy(in, &dims->slice_sizes);
  return finish(in, err);
}

HloInstr *hlo_build_scatter(HloComputation *c, HloInstr *const *inputs, HloInstr *indices,
                            HloInstr *const *updates, int n, const HloScatterDims *dims,
                            HloComputation *to_apply, HloError **err) {
  HLO_CHECK(n >= 1);
  HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(2 * n + 1));
  for (int i = 0; i < n; i++) {
    ops[i] = inputs[i];
    ops[n + 1 + i] = updates[i];
  }
  ops[n] = indices;
  HloShape s = like(inputs[0]);
  HloInstr *in = create(c, HLO_OP_SCATTER, &s, ops, 2 * n + 1);
  free(ops);
  hlo_instr_set_called(in, &to_apply, 1);
  HloScatterDims *sd = &in->scatter;
  *sd = *dims;
  sd->update_window_dims = dims_copy(in, &dims->update_window_dims);
  sd->inserted_window_dims = dims_copy(in, &dims->inserted_window_dims);
  sd->scatter_dims_to_operand_dims = dims_copy(in, &dims->scatter_dims_to_operand_dims);
  sd->input_batching_dims = dims_copy(in, &dims->input_batching_dims);
  sd->scatter_indices_batching_dims = dims_copy(in, &dims->scatter_indices_batching_dims);
  return finish(in, err);
}

HloInstr *hlo_build_sort(HloComputation *c, HloInstr *const *xs, int n, int64_t dim,
                         bool is_stable, HloComputation *comparator, HloError **err) {
  HLO_CHECK(n >= 1);
  HloShape s = like(xs[0]);
  HloInstr *in = create(c, HLO_OP_SORT, &s, xs, n);
  hlo_instr_set_dims(in, &in->dimensions, &dim, 1);
  hlo_instr_set_called(in, &comparator, 1);
  in->is_stable = is_stable;
  return finish(in, err);
}

HloInstr *hlo_build_constant_scalar(HloComputation *c, HloType t, double v) {
  HLO_CHECK(hlo_type_is_array(t));
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *lit = hlo_literal_new_in(arena_of(c), &s);
  hlo_literal_set_f64(lit, 0, v);
  return hlo_constant_new(c, lit, NULL);
}

/* ------------------------------------------------------------------------ */
/* Scalar computations                                                      */
/* ------------------------------------------------------------------------ */

/* c is exactly (p0: t[], p1: t[]) -> op(p0, p1). */
static bool is_scalar_computation(const HloComputation *c, HloOpcode op, HloType t) {
  const HloInstr *r = c->root;
  if (c->nparams != 2 || !c->params[0] || !c->params[1] || !r || r->op != op ||
      r->noperands != 2 || r->operands[0] != c->params[0] || r->operands[1] != c->params[1])
    return false;
  int count = 0;
  for (const HloInstr *in = c->first; in; in = in->next) count++;
  HloShape s = hlo_shape_scalar(t);
  return count == 3 && hlo_shape_equal(&c->params[0]->shape, &s, false) &&
         hlo_shape_equal(&c->params[1]->shape, &s, false) &&
         hlo_shape_equal(&r->shape, &s, false);
}

void hlo_computation_move_first(HloComputation *c) {
  HloModule *m = c->module;
  if (m->first == c) return;
  c->prev->next = c->next;
  if (c->next) c->next->prev = c->prev;
  else m->last = c->prev;
  c->prev = NULL;
  c->next = m->first;
  m->first->prev = c;
  m->first = c;
}

HloComputation *hlo_build_scalar_computation(HloModule *m, HloOpcode op, HloType t) {
  HLO_CHECK(hlo_opcode_kind(op) == HLO_KIND_BINARY && op != HLO_OP_COMPARE);
  HLO_CHECK(hlo_type_is_array(t));
  for (HloComputation *c = m->first; c; c = c->next)
    if (is_scalar_computation(c, op, t)) return c;
  char name[64];
  snprintf(name, sizeof name, "%s_%s", hlo_opcode_name(op), hlo_type_name(t));
  HloComputation *c = hlo_computation_new(m, name);
  HloShape s = hlo_shape_scalar(t);
  HloInstr *x = hlo_parameter_new(c, 0, &s, "x");
  HloInstr *y = hlo_parameter_new(c, 1, &s, "y");
  HloError *err = NULL;
  HloInstr *r = hlo_build_binary(c, op, x, y, &err);
  /* Fails only when op rejects t ("and" on f32): a caller's bug. */
  if (!r) hlo_fatal(__FILE__, __LINE__, "%s", hlo_error_message(err));
  hlo_set_root(c, r);
  hlo_computation_move_first(c);
  return c;
}

HloComputation *hlo_build_sort_comparator(HloModule *m, HloCompareDir dir, const HloType *types,
                                          int n) {
  HLO_CHECK(n >= 1);
  HloComputation *c = hlo_computation_new(m, "compare_total_order");
  HloInstr *lhs = NULL, *rhs = NULL;
  for (int i = 0; i < n; i++) {
    HloShape s = hlo_shape_scalar(types[i]);
    HloInstr *a = hlo_parameter_new(c, 2 * i, &s, "lhs");
    HloInstr *b = hlo_parameter_new(c, 2 * i + 1, &s, "rhs");
    if (i == 0) lhs = a, rhs = b;
  }
  HloError *err = NULL;
  HloInstr *r = hlo_build_compare(c, dir, lhs, rhs, &err);
  if (!r) hlo_fatal(__FILE__, __LINE__, "%s", hlo_error_message(err));
  if (hlo_type_is_float(types[0])) r->compare_type = HLO_CMPT_TOTALORDER;
  hlo_set_root(c, r);
  hlo_computation_move_first(c);
  return c;
}
