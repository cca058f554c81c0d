/*
 * dynamic_pad.c — bounded dynamic dimensions (<=N) made static: every
 * value stored padded to its bound, its sizes carried as s32[] values,
 * and the padding masked where it would reach a result (XLA's dynamic
 * padder), so that codegen compiles the module.
 *
 * A dim's size is the value set-dimension-size gave it, or the s32[]
 * parameter added for a dynamic entry parameter (below), followed through
 * the ops that keep it: elementwise ops, convert and copy (their
 * operands' sizes), broadcast and transpose (moved with the dims), slice
 * (a <=N dim it takes whole), concatenate along a static dim and
 * get-tuple-element of a parameter.  Where an elementwise op's operands'
 * sizes differ, one of size 1 is read as its first row broadcast and the
 * result takes the other's (TensorFlow's implicit broadcasting); neither
 * 1, the smaller (XLA's padder, and the evaluator).  Then:
 *
 *   set-dimension-size(x, n)   is x (the padding is what x holds there),
 *                              of a dim already dynamic, x zeroed past its
 *                              size: a size that grows (a stack pushed
 *                              onto) exposes zeros, as in the evaluator
 *                              (XLA exposes whatever the buffer held);
 *   get-dimension-size(x)      is the size (or the bound when static);
 *   reduce over a dynamic dim  reads select(iota < size, x, init): the
 *                              padding adds the init value, no more;
 *   dot over a dynamic         reads both operands zeroed past the size;
 *   contracting dim
 *   reshape to one dynamic     a gather: each result position's index in
 *   dim, or several in runs    the present elements (row-major, the
 *   of common factors of       dynamic dim's size what the others leave
 *   their own                  of their count, of its run's for several,
 *                              as the interpreter reads it) is unravelled
 *                              into the operand's sizes and read from the
 *                              operand flattened at its bounds; past the
 *                              size, any element;
 *   dynamic-reshape            the same gather, into the sizes its operands
 *                              give (that they hold the elements present
 *                              is the program's to ensure: the evaluator
 *                              checks it, compiled code, as XLA's, does
 *                              not); of a static operand into a static
 *                              shape, in any computation, a reshape;
 *   reverse over one           the reversed value shifted down by
 *                              bound - size (a dynamic-slice of it
 *                              concatenated with itself);
 *   concatenate along one      each operand placed at its run-time offset
 *                              (a dynamic-slice of it between zeros) and
 *                              selected from there on; the size, the sum;
 *   sort along one             sorted with one more operand, a pred that
 *                              marks the padding, under a comparator that
 *                              puts padding after every present element
 *                              whatever the sort's own says (XLA's rule);
 *                              a sort of several operands only where
 *                              get-tuple-element reads it.
 *   pad over one               the operand's padding set to the padding
 *                              value, then padded as if static: element
 *                              i lands at lo + i * (interior + 1) either
 *                              way; the size, lo + hi + s + max(s - 1, 0)
 *                              * interior;
 *   PadToStatic(x)             tuple(x zeroed past its sizes, the sizes):
 *                              XLA leaves that padding unspecified, the
 *                              evaluator's is zero too;
 *   SliceToDynamic(x, s...)    x (sliced or padded with zeros to the
 *                              result's bounds), each dynamic dim's size
 *                              its operand clamped to [0, min(bound, x's
 *                              dim)] (the evaluator refuses one outside).
 *   reduce-window over one     the operand's padding set to the init
 *                              value (read as the window's padding is);
 *                              the size, the windowed size of the
 *                              operand's (0 where no window fits);
 *   gather over one            start indices along a dynamic dim clamped
 *                              to size - slice size (XLA's clamp against
 *                              the size); a dim taken whole gives its
 *                              offset dim its size; the indices' dynamic
 *                              batch dims, the result's.
 *
 * The entry's signature gets the sizes (docs/api.md): a dynamic parameter
 * (an array, or an array in a tuple of arrays) becomes static, padded,
 * and one s32[] parameter NAME_sizeD (a tuple's leaf: NAME_K_sizeD) per
 * dynamic dim is added after the others; a dynamic root (an array, or
 * tuple instructions of arrays, nested too) becomes one flat tuple(its
 * arrays…, their sizes…), one s32[] per dynamic dim, in array then dim
 * order.
 *
 * A call that takes, makes or returns dynamic values is inlined first
 * (its callee's calls too), where what the callee does is supported.
 *
 * A while or conditional carries sizes as XLA's padder does: a dynamic
 * state tuple (while) or branch operand or result tuple (conditional)
 * gets one s32[] element appended per dynamic dim of its arrays (leaf,
 * depth first, then dim order), the computations are rewritten by the
 * same rules (their calls inlined, nested whiles and conditionals
 * threaded in turn), their parameter's sizes read from those elements,
 * and a threaded root appends its own (a set-dimension-size in a body
 * changes them).  Sizes are followed through tuple and get-tuple-element
 * leaf by leaf.  Each computation must be called by that one op, read
 * its parameter by get-tuple-element only, and the op be read by
 * get-tuple-element only.  Also:
 *
 *   scatter into a dynamic     an index vector whose window does not fit
 *   operand, or of dynamic     within the run-time sizes (XLA skips it),
 *   indices and updates        or past the count of dynamic indices or
 *                              updates, is redirected past every bound,
 *                              where the padded scatter drops it; a
 *                              dynamic update window dim: the operand
 *                              padded by its bound (room for a window that
 *                              fits at its size), the updates past its
 *                              size flagged and skipped by the combiner;
 *   dynamic-slice, dynamic-    each start along a dynamic dim clamped to
 *   update-slice of one        [0, size - len] first (XLA clamps within
 *                              the operand: its size, not the bound).
 *
 * Padding elsewhere is never read by what the module returns: the module
 * is rewritten only when every dynamic value lives in the entry
 * computation (or a callee inlined into it, or a while's or
 * conditional's computation as above) and each op reading a dynamic dim
 * is one of those above.  Anything else (a gather's batching dim, a
 * scatter's dynamic index vector dim, a reshape into several dynamic
 * dims of one run of common factors, a while state or conditional
 * result that is a dynamic array rather than a tuple, a variadic
 * reduce-window read otherwise than by get-tuple-element (or as the
 * root), a computation two ops share, a result tuple
 * also read by get-tuple-element) leaves the module as it is, and codegen
 * refuses it by name; the interpreter runs it as written.  hlo/'s
 * evaluator, which holds values at their run-time sizes, is the oracle
 * the rewrite is tested against.
 *
 * pass_run_pipeline runs it after the single-device lowering; when it
 * made the module static the rest of the pipeline runs as usual.
 *
 * requires: a verified module.
 * keeps:    every static shape; the entry's static parameters and results,
 *           in their places.
 * breaks:   a dynamic entry signature: sizes added as above.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The sizes of one instruction's dims: NULL where static (or the bound). */
typedef struct Sizes {
  HloInstr *dim[HLO_MAX_RANK];
} Sizes;

static bool has_dynamic_operand(const HloInstr *in) {
  for (int i = 0; i < in->noperands; i++)
    if (hlo_shape_is_dynamic(&in->operands[i]->shape)) return true;
  return false;
}

/* Whether every operand that is an array has the same dynamic dims. */
static bool same_dynamic_dims(const HloInstr *in) {
  uint16_t mask = 0;
  bool first = true;
  for (int i = 0; i < in->noperands; i++) {
    const HloShape *s = &in->operands[i]->shape;
    if (!hlo_type_is_array(s->type) || s->rank == 0) continue;
    if (!first && s->dynamic != mask) return false;
    mask = s->dynamic;
    first = false;
  }
  return true;
}

/* Whether each operand that is an array has the result's dynamic dims or
 * none (a static operand counts up to the sizes; its elements past them
 * make padding, which nothing reads). */
static bool beside_static(const HloInstr *in) {
  for (int i = 0; i < in->noperands; i++) {
    const HloShape *s = &in->operands[i]->shape;
    if (hlo_type_is_array(s->type) && s->dynamic && s->dynamic != in->shape.dynamic) return false;
  }
  return true;
}

/* A concatenate whose operands have the same dynamic dims, apart from the
 * concatenated one (which may be static in some). */
static bool concat_supported(const HloInstr *in) {
  uint16_t along = (uint16_t)(1u << in->dimensions.v[0]), mask = 0;
  for (int i = 0; i < in->noperands; i++) {
    uint16_t m = in->operands[i]->shape.dynamic & (uint16_t)~along;
    if (i && m != mask) return false;
    mask = m;
  }
  return true;
}

/* Whether each run of common factors of reshape `in` (hlo_reshape_groups)
 * holds one dynamic result dim at most. */
static bool reshape_runs(const HloInstr *in, int *fs, int *ts, int *n) {
  *n = hlo_reshape_groups(&in->operands[0]->shape, &in->shape, fs, ts);
  for (int k = 0; k < *n; k++) {
    int dyn = 0;
    for (int d = ts[k]; d < ts[k + 1]; d++) dyn += in->shape.dynamic >> d & 1;
    if (dyn > 1) return false;
  }
  return *n >= 0;
}

/* Whether an index into s's elements fits in s32. */
static bool elements_in_s32(const HloShape *s) {
  return hlo_type_is_array(s->type) && hlo_shape_elements(s) < INT32_MAX;
}

/* A reshape the gather below computes: one dynamic result dim, or several
 * in runs of their own, the operand's elements countable in s32. */
static bool reshape_supported(const HloInstr *in) {
  const HloShape *x = &in->operands[0]->shape;
  int fs[2 * HLO_MAX_RANK + 2], ts[2 * HLO_MAX_RANK + 2], runs;
  int nd = __builtin_popcount(in->shape.dynamic);
  if (nd < 1 || (nd > 1 && !reshape_runs(in, fs, ts, &runs)) || !hlo_type_is_array(x->type))
    return false;
  return elements_in_s32(x);
}

/* An array, or a tuple of arrays (a dynamic entry parameter or result). */
static bool flat_tuple(const HloShape *s) {
  for (int i = 0; hlo_shape_is_tuple(s) && i < s->ntuple; i++)
    if (hlo_shape_is_tuple(&s->tuple[i])) return false;
  return true;
}

/* Whether `in` is a tuple instruction that is the root or, through tuple
 * instructions only, an element of it: its arrays are results. */
static bool in_result_tree(const HloInstr *in, int depth) {
  if (in->op != HLO_OP_TUPLE || depth > 64) return false;
  if (in == in->parent->root) return true;
  for (int i = 0; i < in->nusers; i++)
    if (!in_result_tree(in->users[i], depth + 1)) return false;
  return in->nusers > 0;
}

/* Whether each operand of `in` that is a tuple is a tuple instruction. */
static bool tuples_are_tuple_ops(const HloInstr *in) {
  for (int i = 0; i < in->noperands; i++)
    if (hlo_shape_is_tuple(&in->operands[i]->shape) && in->operands[i]->op != HLO_OP_TUPLE)
      return false;
  return true;
}

/* A sort sort_sized below rewrites: its operands have the same dynamic
 * dims, and one more operand is within what it builds. */
static bool supported_sort(const HloInstr *in) {
  return same_dynamic_dims(in) && in->noperands <= HLO_MAX_RANK;
}

/* Whether only get-tuple-element reads the tuple `in`. */
static bool read_by_elements(const HloInstr *in) {
  for (int i = 0; i < in->nusers; i++)
    if (in->users[i]->op != HLO_OP_GET_TUPLE_ELEMENT) return false;
  return in != in->parent->root;
}

/* A pad whose result is dynamic wherever its operand is. */
static bool pad_supported(const HloInstr *in) {
  return (in->operands[0]->shape.dynamic & ~in->shape.dynamic) == 0 &&
         !hlo_shape_is_dynamic(&in->operands[1]->shape);
}

/* Whether v is among l's entries. */
static bool in_list(const HloDims *l, int64_t v) {
  for (int i = 0; i < l->n; i++)
    if (l->v[i] == v) return true;
  return false;
}

/* The result dim of the operand dim d of gather `in` that is an offset
 * dim, or -1. */
static int gather_offset_dim(const HloInstr *in, int d) {
  const HloGatherDims *g = &in->gather;
  int k = 0;
  for (int j = 0; j < d; j++)
    if (!in_list(&g->collapsed_slice_dims, j) && !in_list(&g->operand_batching_dims, j)) k++;
  if (in_list(&g->collapsed_slice_dims, d) || in_list(&g->operand_batching_dims, d) ||
      k >= g->offset_dims.n)
    return -1;
  return (int)g->offset_dims.v[k];
}

/* The result dim of the indices' dim k of gather `in` (a batch dim), or
 * -1 for index_vector_dim. */
static int gather_batch_dim(const HloInstr *in, int k) {
  const HloGatherDims *g = &in->gather;
  if (k == g->index_vector_dim) return -1;
  int b = k > g->index_vector_dim ? k - 1 : k;
  for (int d = 0; d < in->shape.rank; d++)
    if (!in_list(&g->offset_dims, d) && b-- == 0) return d;
  return -1;
}

/* A gather gather_sized below rewrites: no dynamic operand dim is a
 * batching one; a dynamic dim taken whole (its bound) gives a dynamic
 * offset dim of the result, as dynamic batch dims of the
 * indices give dynamic batch dims; the index vector is static. */
static bool gather_supported(const HloInstr *in) {
  const HloGatherDims *g = &in->gather;
  const HloShape *x = &in->operands[0]->shape, *ix = &in->operands[1]->shape;
  for (int d = 0; d < x->rank; d++) {
    if (!(x->dynamic >> d & 1)) continue;
    if (in_list(&g->operand_batching_dims, d)) return false;
    int o = gather_offset_dim(in, d);
    if (g->slice_sizes.v[d] == x->dims[d] && (o < 0 || !(in->shape.dynamic >> o & 1)))
      return false;
  }
  for (int k = 0; k < ix->rank; k++) {
    if (!(ix->dynamic >> k & 1)) continue;
    int b = gather_batch_dim(in, k);
    if (b < 0 || !(in->shape.dynamic >> b & 1)) return false;
  }
  return true;
}

static bool control_supported(const HloInstr *in);
static bool threaded_tuple(const HloInstr *in);

/* A dynamic-slice (of a static shape) or dynamic-update-slice that
 * slice_sized rewrites: only its operand dynamic, one start per dim. */
static bool slice_supported(const HloInstr *in) {
  int first = in->op == HLO_OP_DYNAMIC_SLICE ? 1 : 2;
  if (in->noperands != first + in->operands[0]->shape.rank ||
      (in->op == HLO_OP_DYNAMIC_SLICE && hlo_shape_is_dynamic(&in->shape)))
    return false;
  for (int i = 1; i < in->noperands; i++)
    if (hlo_shape_is_dynamic(&in->operands[i]->shape)) return false;
  return true;
}

/* A scatter scatter_sized rewrites: one operand; indices dynamic only
 * along the index vectors (not in the index vector dim); no batching dim
 * dynamic. */
static bool scatter_supported(const HloInstr *in) {
  const HloShape *x = &in->operands[0]->shape;
  HloType it = in->operands[1]->shape.type;
  if (in->noperands != 3 || !(it == HLO_S8 || it == HLO_S16 || it == HLO_S32 || it == HLO_S64))
    return false;
  const HloShape *is = &in->operands[1]->shape;
  if (in->scatter.index_vector_dim < is->rank && is->dynamic >> in->scatter.index_vector_dim & 1)
    return false;
  for (int i = 0; i < in->scatter.input_batching_dims.n; i++)
    if (x->dynamic >> in->scatter.input_batching_dims.v[i] & 1) return false;
  return true;
}

/* A reduce-window whose arrays (one, or several of the same dynamic dims)
 * keep their dynamic dims dynamic in the result, not base-dilated. */
static bool reduce_window_supported(const HloInstr *in) {
  const HloShape *x = &in->operands[0]->shape;
  int n = in->noperands / 2;
  for (int i = 0; i < n; i++)
    if (in->operands[i]->shape.dynamic != x->dynamic ||
        hlo_shape_is_dynamic(&in->operands[n + i]->shape))
      return false;
  const HloShape *leaf = hlo_shape_is_tuple(&in->shape) ? &in->shape.tuple[0] : &in->shape;
  for (int i = 0; hlo_shape_is_tuple(&in->shape) && i < in->shape.ntuple; i++)
    if (in->shape.tuple[i].dynamic != leaf->dynamic) return false;
  for (int d = 0; d < x->rank; d++)
    if (x->dynamic >> d & 1 && (in->window[d].lhs_dilate != 1 || !(leaf->dynamic >> d & 1)))
      return false;
  return true;
}

/* Whether the pass can make `in` (of the entry) static. */
static bool supported(const HloInstr *in) {
  if (in->op == HLO_OP_WHILE || in->op == HLO_OP_CONDITIONAL) return control_supported(in);
  if (threaded_tuple(in)) return true;
  if (in->op == HLO_OP_SCATTER && has_dynamic_operand(in)) return scatter_supported(in);
  if ((in->op == HLO_OP_DYNAMIC_SLICE || in->op == HLO_OP_DYNAMIC_UPDATE_SLICE) &&
      has_dynamic_operand(in))
    return slice_supported(in);
  if (in->op == HLO_OP_PARAMETER) return flat_tuple(&in->shape);
  if (hlo_shape_is_tuple(&in->shape) && hlo_shape_is_dynamic(&in->shape))
    return (in->op == HLO_OP_SORT && supported_sort(in) && read_by_elements(in)) ||
           (in->op == HLO_OP_REDUCE_WINDOW && reduce_window_supported(in) &&
            (read_by_elements(in) || (in->parent->is_entry && in == in->parent->root))) ||
           (in_result_tree(in, 0) && tuples_are_tuple_ops(in));
  if (in->op == HLO_OP_DYNAMIC_RESHAPE) return elements_in_s32(&in->operands[0]->shape);
  if (!has_dynamic_operand(in)) return true;
  switch (in->op) {
  case HLO_OP_GET_TUPLE_ELEMENT:
    return in->operands[0]->op == HLO_OP_PARAMETER || in->operands[0]->op == HLO_OP_SORT ||
           in->operands[0]->op == HLO_OP_REDUCE_WINDOW;
  case HLO_OP_SET_DIMENSION_SIZE: case HLO_OP_GET_DIMENSION_SIZE: case HLO_OP_BROADCAST:
  case HLO_OP_TRANSPOSE: case HLO_OP_SLICE: case HLO_OP_DOT:
    return true;
  case HLO_OP_COPY: case HLO_OP_CONVERT: return true;
  case HLO_OP_REDUCE: return in->noperands == 2;
  case HLO_OP_RESHAPE: return reshape_supported(in);
  case HLO_OP_REVERSE: return true;
  case HLO_OP_SORT: return supported_sort(in);
  case HLO_OP_CONCATENATE: return concat_supported(in);
  case HLO_OP_PAD: return pad_supported(in);
  case HLO_OP_REDUCE_WINDOW: return reduce_window_supported(in);
  case HLO_OP_GATHER: return gather_supported(in);
  case HLO_OP_CUSTOM_CALL: return hlo_is_custom_call_to(in, "PadToStatic");
  default:
    return hlo_opcode_is_elementwise(in->op) && (same_dynamic_dims(in) || beside_static(in));
  }
}

/* Whether a call's callee, inlined into the entry, is one the pass makes
 * static: what it does to dynamic values is supported, and none of them
 * is a tuple (its parameters and root become ordinary values). */
static bool callee_supported(const HloComputation *c, int depth) {
  if (depth > 64) return false;
  for (const HloInstr *x = c->first; x; x = x->next) {
    if (hlo_shape_is_tuple(&x->shape) && hlo_shape_is_dynamic(&x->shape) &&
        !(x->op == HLO_OP_SORT && read_by_elements(x)))
      return false;
    if (x->op == HLO_OP_CALL ? !callee_supported(x->called[0], depth + 1)
                             : x->op != HLO_OP_PARAMETER && !supported(x))
      return false;
  }
  return true;
}

/* Whether c is reached from the entry through calls only (which the pass
 * inlines), depth calls deep at most. */
static bool called(const HloComputation *from, const HloComputation *c, int depth) {
  if (depth > 64) return false;
  for (const HloInstr *x = from->first; x; x = x->next)
    if (x->op == HLO_OP_CALL && (x->called[0] == c || called(x->called[0], c, depth + 1)))
      return true;
  return false;
}

/* Whether x is a tuple whose leaves' sizes thread() below follows. */
static bool tracked(const HloInstr *x) {
  switch (x->op) {
  case HLO_OP_TUPLE: case HLO_OP_GET_TUPLE_ELEMENT: case HLO_OP_PARAMETER: case HLO_OP_WHILE:
  case HLO_OP_CONDITIONAL:
    return true;
  default: return false;
  }
}

/* A tuple (not among the entry's results, which sized_root flattens) of
 * arrays and followed tuples, or an element of a followed tuple (a tuple
 * itself only where it is not the entry's root): thread() follows it. */
static bool threaded_tuple(const HloInstr *in) {
  if (in->op == HLO_OP_TUPLE) {
    for (int i = 0; in->parent->is_entry && i < in->nusers; i++)
      if (in->users[i]->op == HLO_OP_TUPLE && in_result_tree(in->users[i], 0)) return false;
    if (in->parent->is_entry && in_result_tree(in, 0)) return false;
    for (int i = 0; i < in->noperands; i++)
      if (hlo_shape_is_tuple(&in->operands[i]->shape) && !tracked(in->operands[i])) return false;
    return true;
  }
  if (in->op != HLO_OP_GET_TUPLE_ELEMENT || !tracked(in->operands[0])) return false;
  return !hlo_shape_is_tuple(&in->shape) || !(in->parent->is_entry && in == in->parent->root);
}

static bool holds_dynamic(const HloComputation *c, int depth);
static bool threads(const HloInstr *in);

/* Whether the computation of a while or conditional is one the pass makes
 * static: called there only, its parameter read by get-tuple-element
 * only, what it does supported as in the entry. */
static bool computation_supported(const HloComputation *c) {
  int sites = 0;
  for (const HloComputation *d = c->module->first; d; d = d->next)
    for (const HloInstr *x = d->first; x; x = x->next)
      for (int j = 0; j < x->ncalled; j++) sites += x->called[j] == c;
  if (sites != 1 || c->nparams != 1) return false;
  for (int i = 0; i < c->params[0]->nusers; i++)
    if (c->params[0]->users[i]->op != HLO_OP_GET_TUPLE_ELEMENT) return false;
  for (const HloInstr *x = c->first; x; x = x->next) {
    if (x->op == HLO_OP_PARAMETER) continue;
    if (x->op == HLO_OP_CALL ? !callee_supported(x->called[0], 1) : !supported(x)) return false;
  }
  return true;
}

/* A while or conditional the pass makes static: its dynamic operands,
 * state and results tuples (of followed tuples), read by get-tuple-element
 * only, its computations supported. */
static bool control_supported(const HloInstr *in) {
  if (!threads(in)) return true;
  if (in == in->parent->root ||
      (hlo_shape_is_dynamic(&in->shape) && !hlo_shape_is_tuple(&in->shape)))
    return false;
  for (int i = 0; i < in->nusers; i++)
    if (in->users[i]->op != HLO_OP_GET_TUPLE_ELEMENT) return false;
  for (int i = in->op == HLO_OP_WHILE ? 0 : 1; i < in->noperands; i++) {
    const HloInstr *x = in->operands[i];
    if (hlo_shape_is_dynamic(&x->shape) && (!hlo_shape_is_tuple(&x->shape) || !tracked(x)))
      return false;
  }
  for (int j = 0; j < in->ncalled; j++)
    if (!computation_supported(in->called[j])) return false;
  return true;
}

/* Whether c is reached from `from` through whiles, conditionals and
 * calls, depth deep at most. */
static bool threaded_from(const HloComputation *from, const HloComputation *c, int depth) {
  if (depth > 64) return false;
  for (const HloInstr *x = from->first; x; x = x->next)
    if (x->op == HLO_OP_WHILE || x->op == HLO_OP_CONDITIONAL || x->op == HLO_OP_CALL)
      for (int j = 0; j < x->ncalled; j++)
        if (x->called[j] == c || threaded_from(x->called[j], c, depth + 1)) return true;
  return false;
}

static bool feasible(const HloModule *m) {
  const HloComputation *entry = m->entry;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next) {
      if (c != entry && (hlo_shape_is_dynamic(&x->shape) || has_dynamic_operand(x) ||
                         x->op == HLO_OP_SET_DIMENSION_SIZE || x->op == HLO_OP_DYNAMIC_RESHAPE) &&
          !called(entry, c, 0) && !threaded_from(entry, c, 0))
        return false;
      if (c == entry && x->op == HLO_OP_CALL && !callee_supported(x->called[0], 0)) return false;
      if (c == entry && x->op != HLO_OP_CALL && !supported(x)) return false;
    }
  return true;
}

/* Inlines the entry's calls that take, make or return dynamic values (the
 * rest of the pipeline inlines the others), callees' calls too. */
static void inline_dynamic_calls(HloComputation *entry) {
  for (bool again = true; again;) {
    again = false;
    for (HloInstr *x = entry->first, *next; x; x = next) {
      next = x->next;
      if (x->op != HLO_OP_CALL) continue;
      bool dynamic = hlo_shape_is_dynamic(&x->shape) || has_dynamic_operand(x);
      for (const HloInstr *y = x->called[0]->first; y && !dynamic; y = y->next)
        dynamic = hlo_shape_is_dynamic(&y->shape) || y->op == HLO_OP_GET_DIMENSION_SIZE ||
                  y->op == HLO_OP_DYNAMIC_RESHAPE;
      if (!dynamic) continue;
      px_replace(x, px_clone_computation(entry, x->called[0], x->operands, x));
      again = true;
    }
  }
}

static bool threads(const HloInstr *in);

/* inline_dynamic_calls in the computations c's threaded whiles and
 * conditionals run, and theirs. */
static void inline_threaded_calls(HloComputation *c, int depth) {
  for (HloInstr *x = c->first; x && depth < 64; x = x->next)
    if ((x->op == HLO_OP_WHILE || x->op == HLO_OP_CONDITIONAL) && threads(x))
      for (int j = 0; j < x->ncalled; j++) {
        inline_dynamic_calls(x->called[j]);
        inline_threaded_calls(x->called[j], depth + 1);
      }
}

/* x with the elements past `size` along dim d replaced by `fill` (a
 * scalar). */
static HloInstr *mask_past(PxAt at, HloInstr *x, int d, HloInstr *size, HloInstr *fill) {
  HloInstr *iota = px_iota_like(at, x, d);
  HloInstr *bound = px_broadcast_leading(at, size, &iota->shape);
  HloInstr *keep = px_compare(at, HLO_CMP_LT, iota, bound);
  return px_select(at, keep, x, px_broadcast_leading(at, fill, &x->shape));
}

static HloInstr *zero_past(PxAt at, HloInstr *x, int d, HloInstr *size) {
  return mask_past(at, x, d, size, px_scalar(at, x->shape.type, 0, NULL));
}

static HloInstr *s32(PxAt at, int64_t v) { return px_scalar(at, HLO_S32, (double)v, NULL); }

static HloInstr *times(PxAt at, HloInstr *a, HloInstr *b) {
  return px_binary(at, HLO_OP_MULTIPLY, a, b);
}

/* The elements present in the operand of reshape `in`, whose sizes are
 * `size`, in the result's sizes out (NULL: the bound), as a gather from
 * the operand flattened at its bounds: each result position's row-major
 * index among the present elements, unravelled into the operand's sizes;
 * past the sizes, any element. */
static HloInstr *present_gather(PxAt at, HloInstr *in, HloInstr *const *size, const Sizes *out) {
  HloInstr *x = in->operands[0];
  const HloShape *xs = &x->shape;
  int r = in->shape.rank, xr = xs->rank;
  HloShape ps = in->shape;
  ps.dynamic = 0;
  ps.type = HLO_S32;
  /* The position's row-major index among the present elements. */
  HloInstr *lin = px_scalar(at, HLO_S32, 0, &ps), *stride = s32(at, 1);
  for (int d = r - 1; d >= 0; d--) {
    HloInstr *iota = px_iota_like(at, lin, d);
    lin = px_binary(at, HLO_OP_ADD, lin, times(at, iota, px_broadcast_leading(at, stride, &ps)));
    stride = times(at, stride, out->dim[d] ? out->dim[d] : s32(at, in->shape.dims[d]));
  }
  /* Unravelled into the operand's sizes, then its offset at the bounds. */
  HloInstr *flat = px_scalar(at, HLO_S32, 0, &ps), *one = s32(at, 1);
  int64_t pad_stride = 1;
  stride = s32(at, 1);
  for (int k = xr - 1; k >= 0; k--) {
    HloInstr *sk = px_binary(at, HLO_OP_MAXIMUM, size[k], one);
    HloInstr *q = px_binary(at, HLO_OP_DIVIDE, lin,
                            px_broadcast_leading(at, px_binary(at, HLO_OP_MAXIMUM, stride, one),
                                                 &ps));
    HloInstr *ik = px_binary(at, HLO_OP_REMAINDER, q, px_broadcast_leading(at, sk, &ps));
    flat = px_binary(at, HLO_OP_ADD, flat,
                     times(at, ik, px_scalar(at, HLO_S32, (double)pad_stride, &ps)));
    stride = times(at, stride, size[k]);
    pad_stride *= xs->dims[k];
  }
  int64_t total = pad_stride;
  HloInstr *x1 = px_reshape(at, x, 1, &total);
  int64_t zero = 0, one_size = 1;
  HloGatherDims g = {0};
  g.collapsed_slice_dims = (HloDims){1, &zero};
  g.start_index_map = (HloDims){1, &zero};
  g.slice_sizes = (HloDims){1, &one_size};
  g.index_vector_dim = r;
  HloError *e = NULL;
  return px_built(hlo_build_gather(at.c, x1, flat, &g, &e), e, at.before);
}

/* The reshape `in` of an operand with sizes a (NULL: the bound) into
 * dynamic dims, as present_gather; sets their sizes in out: one takes
 * what the other dims leave of the operand's elements; several
 * (reshape_runs), what the other result dims of its run leave of the
 * run's operand elements; a dynamic-reshape's, its operands. */
static HloInstr *reshape_gather(PxAt at, HloInstr *in, const Sizes *a, Sizes *out) {
  HloInstr *x = in->operands[0];
  const HloShape *xs = &x->shape;
  int r = in->shape.rank, xr = xs->rank;
  HloInstr *size[HLO_MAX_RANK];
  for (int k = 0; k < xr; k++) size[k] = a->dim[k] ? a->dim[k] : s32(at, xs->dims[k]);
  int fs[2 * HLO_MAX_RANK + 2], ts[2 * HLO_MAX_RANK + 2], runs;
  if (in->op == HLO_OP_DYNAMIC_RESHAPE) {
    /* The sizes are the operands'. */
    for (int d = 0; d < r; d++)
      if (in->shape.dynamic >> d & 1) out->dim[d] = in->operands[d + 1];
  } else if (__builtin_popcount(in->shape.dynamic) > 1 && reshape_runs(in, fs, ts, &runs)) {
    for (int k = 0; k < runs; k++) {
      HloInstr *p = s32(at, 1);
      int64_t rest = 1;
      for (int d = fs[k]; d < fs[k + 1]; d++) p = times(at, p, size[d]);
      for (int d = ts[k]; d < ts[k + 1]; d++)
        if (!(in->shape.dynamic >> d & 1)) rest *= in->shape.dims[d];
      for (int d = ts[k]; d < ts[k + 1]; d++)
        if (in->shape.dynamic >> d & 1)
          out->dim[d] = px_binary(at, HLO_OP_DIVIDE, p, s32(at, rest));
    }
  } else {
    int64_t rest = 1, b = __builtin_ctz(in->shape.dynamic);
    HloInstr *n = s32(at, 1);
    for (int k = 0; k < xr; k++) n = times(at, n, size[k]);
    for (int d = 0; d < r; d++)
      if (d != b) rest *= in->shape.dims[d];
    out->dim[b] = rest ? px_binary(at, HLO_OP_DIVIDE, n, s32(at, rest)) : s32(at, 0);
  }
  return present_gather(at, in, size, out);
}


static HloInstr *dslice(PxAt at, HloInstr *x, int d, HloInstr *start, int64_t len) {
  HloInstr *starts[HLO_MAX_RANK];
  int64_t sizes[HLO_MAX_RANK];
  for (int k = 0; k < x->shape.rank; k++) {
    starts[k] = k == d ? start : s32(at, 0);
    sizes[k] = k == d ? len : x->shape.dims[k];
  }
  HloError *e = NULL;
  return px_built(hlo_build_dynamic_slice(at.c, x, starts, sizes, &e), e, at.before);
}

static HloInstr *concat2(PxAt at, HloInstr *a, HloInstr *b, int d) {
  HloInstr *xs[2] = {a, b};
  HloError *e = NULL;
  return px_built(hlo_build_concatenate(at.c, xs, 2, d, &e), e, at.before);
}

/* reverse(x) over its dims, a dynamic one of size s (bound N) then shifted
 * down by N - s, so that element i reads x[s-1-i]: a dynamic-slice of the
 * reversed value concatenated with itself. */
static HloInstr *reverse_sized(PxAt at, HloInstr *in, const Sizes *a) {
  HloInstr *x = in->operands[0];
  HloError *e = NULL;
  HloInstr *y = px_built(hlo_build_reverse(at.c, x, in->dimensions.v, in->dimensions.n, &e), e,
                         at.before);
  for (int k = 0; k < in->dimensions.n; k++) {
    int d = (int)in->dimensions.v[k];
    if (!a->dim[d]) continue;
    int64_t n = x->shape.dims[d];
    HloInstr *shift = px_binary(at, HLO_OP_SUBTRACT, s32(at, n), a->dim[d]);
    y = dslice(at, concat2(at, y, y, d), d, shift, n);
  }
  return y;
}

/* concatenate along dim d, dynamic in some operands: operand j, of size
 * s_j, starts at o_j = s_0 + … + s_(j-1).  Each is placed at its offset in
 * the result's bound B (a dynamic-slice at B - o_j of [zeros(B), x_j,
 * zeros(B - N_j)]) and selected where the position is at least o_j, later
 * operands over earlier ones; sets the result's size in out. */
static HloInstr *concat_sized(PxAt at, HloInstr *in, const Sizes *sz, Sizes *out) {
  int d = (int)in->dimensions.v[0];
  int64_t b = in->shape.dims[d];
  HloShape zs = in->shape;
  zs.dynamic = 0;
  HloInstr *zero = px_scalar(at, in->shape.type, 0, &zs);
  HloInstr *pos = px_iota_like(at, zero, d), *off = s32(at, 0), *r = NULL;
  for (int j = 0; j < in->noperands; j++) {
    HloInstr *x = in->operands[j];
    int64_t n = x->shape.dims[d];
    HloInstr *size = sz[x->id].dim[d] ? sz[x->id].dim[d] : s32(at, n);
    HloInstr *placed = concat2(at, zero, x, d);
    if (b > n) {
      HloShape ts = zs;
      ts.dims[d] = b - n;
      placed = concat2(at, placed, px_scalar(at, in->shape.type, 0, &ts), d);
    }
    placed = dslice(at, placed, d, px_binary(at, HLO_OP_SUBTRACT, s32(at, b), off), b);
    if (!r) r = placed;
    else
      r = px_select(at, px_compare(at, HLO_CMP_GE, pos, px_broadcast_leading(at, off, &pos->shape)),
                    placed, r);
    off = px_binary(at, HLO_OP_ADD, off, size);
  }
  out->dim[d] = off;
  return r;
}

/* The comparator of a sort with a padding marker (pred, the last operand):
 * padding compares greater than every present element, whatever the
 * sort's own comparator says (XLA's padder: padding sorts last). */
static HloComputation *padding_last(HloModule *m, const HloComputation *cmp, int n) {
  HloComputation *c = hlo_computation_new(m, "compare_padding_last");
  HloInstr *args[2 * HLO_MAX_RANK + 2];
  HLO_CHECK(cmp->nparams == 2 * n && n <= HLO_MAX_RANK);
  for (int i = 0; i < 2 * n; i++)
    args[i] = hlo_parameter_new(c, i, &cmp->params[i]->shape, cmp->params[i]->name);
  HloShape ps = hlo_shape_scalar(HLO_PRED);
  HloInstr *lpad = hlo_parameter_new(c, 2 * n, &ps, "lhs_padding");
  HloInstr *rpad = hlo_parameter_new(c, 2 * n + 1, &ps, "rhs_padding");
  PxAt at = {c, NULL};
  HloInstr *less = px_clone_computation(c, cmp, args, NULL);
  HloInstr *r = px_select(at, rpad, px_scalar(at, HLO_PRED, 1, NULL), less);
  r = px_select(at, lpad, px_scalar(at, HLO_PRED, 0, NULL), r);
  hlo_set_root(c, r);
  hlo_computation_move_first(c);
  return c;
}

/* sort along a dynamic dim: sorted with a marker of its padding, which the
 * comparator puts last; a sort of several operands gives the tuple of the
 * new sort's elements (without the marker). */
static HloInstr *sort_sized(PxAt at, HloInstr *in, const Sizes *a) {
  int d = (int)in->dimensions.v[0], n = in->noperands;
  HloInstr *ops[HLO_MAX_RANK + 1] = {0};
  HLO_CHECK(n >= 1 && n <= HLO_MAX_RANK); /* supported_sort */
  for (int i = 0; i < n; i++) {
    /* Static copies, so that the sort's tuple holds static shapes. */
    ops[i] = px_unary(at, HLO_OP_COPY, in->operands[i]);
    ops[i]->shape.dynamic = 0;
  }
  HloInstr *iota = px_iota_like(at, ops[0], d);
  ops[n] = px_compare(at, HLO_CMP_GE, iota, px_broadcast_leading(at, a->dim[d], &iota->shape));
  HloError *e = NULL;
  HloComputation *cmp = padding_last(in->parent->module, in->called[0], n);
  HloInstr *s = px_built(hlo_build_sort(at.c, ops, n + 1, d, in->is_stable, cmp, &e), e,
                         at.before);
  for (int i = 0; i < n; i++)
    ops[i] = px_built(hlo_build_get_tuple_element(at.c, s, i, &e), e, at.before);
  if (n == 1) return ops[0];
  return px_built(hlo_build_tuple(at.c, ops, n, &e), e, at.before);
}

/* PadToStatic(x): tuple(x with its padding zeroed, its sizes), x a static
 * copy so that the tuple's shape is static. */
static HloInstr *pad_to_static(PxAt at, HloInstr *in, const Sizes *a) {
  HloInstr *x = in->operands[0], *xs[HLO_MAX_RANK + 1];
  HloInstr *y = px_unary(at, HLO_OP_COPY, x);
  y->shape.dynamic = 0;
  for (int d = 0; d < x->shape.rank; d++) {
    if (a->dim[d]) y = zero_past(at, y, d, a->dim[d]);
    xs[d + 1] = a->dim[d] ? a->dim[d] : s32(at, x->shape.dims[d]);
  }
  xs[0] = y;
  HloError *e = NULL;
  return px_built(hlo_build_tuple(at.c, xs, x->shape.rank + 1, &e), e, at.before);
}

/* SliceToDynamic(x, s0, …): x cut or padded with zeros to the result's
 * bounds, each dynamic dim's size its operand clamped to [0, min(bound,
 * x's dim)] (the interpreter refuses one outside). */
static HloInstr *slice_to_dynamic(PxAt at, HloInstr *in, Sizes *out) {
  HloInstr *x = in->operands[0];
  const HloShape *r = &in->shape;
  HloSliceDim sl[HLO_MAX_RANK];
  HloPadDim pd[HLO_MAX_RANK];
  bool cut = false, grow = false;
  for (int d = 0; d < r->rank; d++) {
    int64_t n = x->shape.dims[d], b = r->dims[d], most = b < n ? b : n;
    sl[d] = (HloSliceDim){0, most, 1};
    pd[d] = (HloPadDim){0, b - most, 0};
    cut |= most < n;
    grow |= most < b;
    if (!(r->dynamic >> d & 1)) continue;
    HloInstr *lo = px_binary(at, HLO_OP_MAXIMUM, in->operands[d + 1], s32(at, 0));
    out->dim[d] = px_binary(at, HLO_OP_MINIMUM, lo, s32(at, most));
  }
  HloError *e = NULL;
  if (cut) x = px_built(hlo_build_slice(at.c, x, sl, &e), e, at.before);
  if (grow)
    x = px_built(hlo_build_pad(at.c, x, px_scalar(at, x->shape.type, 0, NULL), pd, &e), e,
                 at.before);
  return x;
}

/* pad over dynamic dims: the operand's padding replaced by the padding
 * value, then padded as if static, which puts every element where the
 * dynamic pad does (lo + i * (interior + 1), i below the size) and the
 * value elsewhere; a dynamic dim's size is lo + hi + s + max(s - 1, 0) *
 * interior. */
static void pad_sized(PxAt at, HloInstr *in, const Sizes *a, Sizes *out) {
  HloInstr *x = in->operands[0];
  for (int d = 0; d < x->shape.rank; d++) {
    if (!a->dim[d]) continue;
    const HloPadDim *p = &in->padding[d];
    x = mask_past(at, x, d, a->dim[d], in->operands[1]);
    HloInstr *gaps = px_binary(at, HLO_OP_MAXIMUM,
                               px_binary(at, HLO_OP_SUBTRACT, a->dim[d], s32(at, 1)), s32(at, 0));
    HloInstr *n = px_binary(at, HLO_OP_ADD, a->dim[d], times(at, gaps, s32(at, p->interior)));
    n = px_binary(at, HLO_OP_ADD, n, s32(at, p->lo + p->hi));
    out->dim[d] = px_binary(at, HLO_OP_MAXIMUM, n, s32(at, 0));
  }
  if (x != in->operands[0]) hlo_set_operand(in, 0, x);
}

/* reduce-window over dynamic dims: each operand's padding set to its init
 * value, which a window reaching past the size then reads as it reads the
 * window's own padding; a dynamic dim's size (every result's, for
 * several arrays) is the windowed size of the operand's, (s + lo + hi -
 * (k - 1) * dilation - 1) / stride + 1, or 0 where no window fits. */
static void reduce_window_sized(PxAt at, HloInstr *in, const Sizes *a, Sizes *out) {
  int arrays = in->noperands / 2;
  for (int d = 0; d < in->operands[0]->shape.rank; d++) {
    if (!a->dim[d]) continue;
    const HloWindowDim *w = &in->window[d];
    for (int i = 0; i < arrays; i++)
      hlo_set_operand(in, i,
                      mask_past(at, in->operands[i], d, a->dim[d], in->operands[arrays + i]));
    int64_t reach = (w->size - 1) * w->rhs_dilate + 1;
    HloInstr *n = px_binary(at, HLO_OP_ADD, a->dim[d], s32(at, w->pad_lo + w->pad_hi - reach));
    HloInstr *fits = px_compare(at, HLO_CMP_GE, n, s32(at, 0));
    HloInstr *k = px_binary(at, HLO_OP_ADD, px_binary(at, HLO_OP_DIVIDE, n, s32(at, w->stride)),
                            s32(at, 1));
    out->dim[d] = px_select(at, fits, k, s32(at, 0));
  }
}

/* gather over dynamic dims: the start indices of a dynamic operand dim
 * not taken whole clamped against its size (size - slice size, the
 * static gather's own clamp then no-op), as XLA's dynamic gather clamps
 * them; a dim taken whole gives its offset dim its size; the indices'
 * batch dims give theirs. */
static void gather_sized(PxAt at, HloInstr *in, const Sizes *sz, Sizes *out) {
  const HloGatherDims *g = &in->gather;
  HloInstr *x = in->operands[0], *idx = in->operands[1];
  const Sizes *a = &sz[x->id], *ia = &sz[idx->id];
  for (int k = 0; k < idx->shape.rank; k++)
    if (ia->dim[k]) out->dim[gather_batch_dim(in, k)] = ia->dim[k];
  for (int j = 0; j < g->start_index_map.n; j++) {
    int d = (int)g->start_index_map.v[j];
    if (!a->dim[d] || g->slice_sizes.v[d] == x->shape.dims[d]) continue;
    HloInstr *most = px_binary(at, HLO_OP_SUBTRACT, a->dim[d], s32(at, g->slice_sizes.v[d]));
    most = px_convert(at, px_binary(at, HLO_OP_MAXIMUM, most, s32(at, 0)), idx->shape.type);
    HloInstr *clamped = px_binary(at, HLO_OP_MINIMUM, idx,
                                  px_broadcast_leading(at, most, &idx->shape));
    if (g->index_vector_dim < idx->shape.rank) {
      /* Only component j of each index vector. */
      HloInstr *iota = px_iota_like(at, idx, (int)g->index_vector_dim);
      HloInstr *is_j = px_compare(at, HLO_CMP_EQ, iota,
                                  px_broadcast_leading(at, s32(at, j), &iota->shape));
      clamped = px_select(at, is_j, clamped, idx);
    }
    idx = clamped;
  }
  if (idx != in->operands[1]) hlo_set_operand(in, 1, idx);
  for (int d = 0; d < x->shape.rank; d++)
    if (a->dim[d] && g->slice_sizes.v[d] == x->shape.dims[d])
      out->dim[gather_offset_dim(in, d)] = a->dim[d];
}

/* The size of an elementwise result along a dim where two operands' sizes
 * a and b differ (XLA's padder): one that is 1 is broadcast to the other,
 * so the other's; neither 1, the smaller (as the evaluator takes it). */
static HloInstr *implicit_size(PxAt at, HloInstr *a, HloInstr *b) {
  HloInstr *one = s32(at, 1);
  HloInstr *either = px_select(at, px_compare(at, HLO_CMP_EQ, b, one), a,
                               px_binary(at, HLO_OP_MINIMUM, a, b));
  return px_select(at, px_compare(at, HLO_CMP_EQ, a, one), b, either);
}

/* x read as its first row along dim d broadcast over the dim where its size
 * there is 1, as itself elsewhere. */
static HloInstr *first_row_where_one(PxAt at, HloInstr *x, int d, HloInstr *size) {
  const HloShape *xs = &x->shape;
  HloSliceDim sl[HLO_MAX_RANK];
  int64_t rdims[HLO_MAX_RANK], keep[HLO_MAX_RANK];
  int k = 0;
  for (int j = 0; j < xs->rank; j++) {
    sl[j] = (HloSliceDim){0, j == d ? 1 : xs->dims[j], 1};
    if (j != d) {
      rdims[k] = xs->dims[j];
      keep[k++] = j;
    }
  }
  HloError *e = NULL;
  HloInstr *row = px_built(hlo_build_slice(at.c, x, sl, &e), e, at.before);
  row = px_reshape(at, row, k, rdims);
  HloShape bs = *xs;
  bs.dynamic = 0;
  HloInstr *rows = px_built(hlo_build_broadcast(at.c, row, &bs, keep, k, &e), e, at.before);
  HloShape ps = bs;
  ps.type = HLO_PRED;
  HloInstr *is_one = px_broadcast_leading(at, px_compare(at, HLO_CMP_EQ, size, s32(at, 1)), &ps);
  return px_select(at, is_one, rows, x);
}

/* An elementwise op: along each dim the operands' sizes, combined where
 * they differ (TensorFlow's implicit broadcasting of dynamic shapes, as
 * XLA's padder lowers it): an operand whose size there may be 1 is read as
 * its first row broadcast where it is (first_row_where_one). */
static void elementwise_sized(PxAt at, HloInstr *in, Sizes *sz, Sizes *out) {
  int n = in->noperands, r = in->shape.rank;
  HloInstr *(*s)[HLO_MAX_RANK] = hlo_xcalloc((size_t)n, sizeof *s);
  for (int i = 0; i < n; i++)
    for (int d = 0; d < r && in->operands[i]->shape.rank == r; d++)
      s[i][d] = sz[in->operands[i]->id].dim[d];
  for (int d = 0; d < r; d++) {
    HloInstr *size = NULL;
    bool differ = false;
    for (int i = 0; i < n; i++) {
      if (!s[i][d] || s[i][d] == size) continue;
      differ |= size != NULL;
      size = size ? implicit_size(at, size, s[i][d]) : s[i][d];
    }
    out->dim[d] = size;
    for (int i = 0; i < n && differ; i++)
      if (s[i][d] && s[i][d] != size)
        hlo_set_operand(in, i, first_row_where_one(at, in->operands[i], d, s[i][d]));
  }
  free(s);
}

/* The sizes of `in`'s result, masking its operands where it reads padding;
 * an instruction that becomes another is left in repl[in->id]. */
static void rewrite(HloInstr *in, Sizes *sz, HloInstr **repl, Sizes *const *elems) {
  Sizes *out = &sz[in->id];
  const Sizes *a = in->noperands ? &sz[in->operands[0]->id] : NULL;
  PxAt at = {in->parent, in};
  switch (in->op) {
  case HLO_OP_SET_DIMENSION_SIZE: {
    int d = (int)in->dimensions.v[0];
    *out = *a;
    out->dim[d] = in->operands[1];
    /* A size that grows exposes the padding: zero, as the evaluator's. */
    if (a->dim[d]) hlo_set_operand(in, 0, zero_past(at, in->operands[0], d, a->dim[d]));
    return;
  }
  case HLO_OP_GET_DIMENSION_SIZE: return;
  case HLO_OP_GET_TUPLE_ELEMENT:
    if (in->operands[0]->op == HLO_OP_PARAMETER && elems[in->operands[0]->parameter_number])
      *out = elems[in->operands[0]->parameter_number][in->tuple_index];
    if (in->operands[0]->op == HLO_OP_SORT || in->operands[0]->op == HLO_OP_REDUCE_WINDOW)
      *out = sz[in->operands[0]->id];
    return;
  case HLO_OP_RESHAPE:
    if (has_dynamic_operand(in) || hlo_shape_is_dynamic(&in->shape))
      repl[in->id] = reshape_gather(at, in, a, out);
    return;
  case HLO_OP_DYNAMIC_RESHAPE: repl[in->id] = reshape_gather(at, in, a, out); return;
  case HLO_OP_BROADCAST:
    for (int k = 0; k < in->dimensions.n; k++) out->dim[in->dimensions.v[k]] = a->dim[k];
    return;
  case HLO_OP_TRANSPOSE:
    for (int k = 0; k < in->dimensions.n; k++) out->dim[k] = a->dim[in->dimensions.v[k]];
    return;
  case HLO_OP_REVERSE:
    *out = *a;
    for (int k = 0; k < in->dimensions.n; k++)
      if (a->dim[in->dimensions.v[k]]) {
        repl[in->id] = reverse_sized(at, in, a);
        break;
      }
    return;
  case HLO_OP_SORT:
    *out = *a;
    if (a->dim[in->dimensions.v[0]]) repl[in->id] = sort_sized(at, in, a);
    return;
  case HLO_OP_CONCATENATE:
    if (!has_dynamic_operand(in)) return;
    for (int d = 0; d < in->shape.rank; d++) out->dim[d] = a->dim[d];
    for (int i = 0; i < in->noperands; i++)
      if (sz[in->operands[i]->id].dim[in->dimensions.v[0]]) {
        repl[in->id] = concat_sized(at, in, sz, out);
        break;
      }
    return;
  case HLO_OP_SLICE:
    for (int d = 0; d < in->shape.rank; d++)
      if (in->shape.dynamic >> d & 1) out->dim[d] = a->dim[d];
    return;
  case HLO_OP_PAD: pad_sized(at, in, a, out); return;
  case HLO_OP_REDUCE_WINDOW: reduce_window_sized(at, in, a, out); return;
  case HLO_OP_GATHER: gather_sized(at, in, sz, out); return;
  case HLO_OP_CUSTOM_CALL:
    if (hlo_is_custom_call_to(in, "PadToStatic")) repl[in->id] = pad_to_static(at, in, a);
    if (hlo_is_custom_call_to(in, "SliceToDynamic")) repl[in->id] = slice_to_dynamic(at, in, out);
    return;
  case HLO_OP_REDUCE: {
    HloInstr *x = in->operands[0];
    int k = 0;
    for (int d = 0; d < x->shape.rank; d++)
      if (!in_list(&in->dimensions, d)) out->dim[k++] = a->dim[d];
      else if (a->dim[d]) x = mask_past(at, x, d, a->dim[d], in->operands[1]);
    if (x != in->operands[0]) hlo_set_operand(in, 0, x);
    return;
  }
  case HLO_OP_DOT: {
    const HloDotDims *dd = &in->dot;
    const Sizes *b = &sz[in->operands[1]->id];
    HloInstr *l = in->operands[0], *r = in->operands[1];
    for (int i = 0; i < dd->lhs_contracting.n; i++) {
      int lc = (int)dd->lhs_contracting.v[i], rc = (int)dd->rhs_contracting.v[i];
      HloInstr *size = a->dim[lc] ? a->dim[lc] : b->dim[rc];
      if (!size) continue;
      l = zero_past(at, l, lc, size);
      r = zero_past(at, r, rc, size);
    }
    if (l != in->operands[0]) hlo_set_operand(in, 0, l);
    if (r != in->operands[1]) hlo_set_operand(in, 1, r);
    int k = 0;
    for (int i = 0; i < dd->lhs_batch.n; i++) out->dim[k++] = a->dim[dd->lhs_batch.v[i]];
    for (int d = 0; d < l->shape.rank; d++)
      if (!in_list(&dd->lhs_batch, d) && !in_list(&dd->lhs_contracting, d)) out->dim[k++] = a->dim[d];
    for (int d = 0; d < r->shape.rank; d++)
      if (!in_list(&dd->rhs_batch, d) && !in_list(&dd->rhs_contracting, d)) out->dim[k++] = b->dim[d];
    return;
  }
  default:
    /* Elementwise, convert, copy, concatenate: the operands' sizes. */
    if (!has_dynamic_operand(in) || !hlo_type_is_array(in->shape.type)) return;
    if (hlo_opcode_is_elementwise(in->op)) {
      elementwise_sized(at, in, sz, out);
      return;
    }
    for (int i = 0; i < in->noperands; i++)
      for (int d = 0; d < in->shape.rank && d < in->operands[i]->shape.rank; d++)
        if (!out->dim[d]) out->dim[d] = sz[in->operands[i]->id].dim[d];
    return;
  }
}

/* While and conditional (XLA's padder): the sizes of the dynamic arrays in
 * a while's state, or in a conditional's branch operand or result, travel
 * as s32[] elements appended to that tuple, one per dynamic dim in leaf
 * (depth first) then dim order; the computations they call are made
 * static as the entry is, their parameter's sizes read from those
 * elements and, where the result is threaded, their root widened with its
 * sizes.  A tuple's sizes are followed leaf by leaf (Leaves), through
 * tuple and get-tuple-element. */

/* The sizes of a tuple value's arrays, depth first; s is NULL where they
 * are not followed (every leaf then counts as static). */
typedef struct Leaves {
  int n;
  Sizes *s;
} Leaves;

static int nleaves(const HloShape *s) {
  if (!hlo_shape_is_tuple(s)) return 1;
  int n = 0;
  for (int i = 0; i < s->ntuple; i++) n += nleaves(&s->tuple[i]);
  return n;
}

/* s's arrays, depth first, appended to out[*k]. */
static void flatten(const HloShape *s, const HloShape **out, int *k) {
  if (!hlo_shape_is_tuple(s)) {
    out[(*k)++] = s;
    return;
  }
  for (int i = 0; i < s->ntuple; i++) flatten(&s->tuple[i], out, k);
}

/* The number of dynamic dims of s's arrays: the sizes threaded with it. */
static int nslots(const HloShape *s) {
  if (!hlo_shape_is_tuple(s)) return __builtin_popcount(s->dynamic);
  int n = 0;
  for (int i = 0; i < s->ntuple; i++) n += nslots(&s->tuple[i]);
  return n;
}

/* s without dynamic dims (its tuples copied into a), with m s32[]
 * elements appended to it (a tuple) when m > 0. */
static HloShape static_shape(HloArena *a, const HloShape *s, int m) {
  HloShape r = *s;
  r.dynamic = 0;
  if (!hlo_shape_is_tuple(s)) return r;
  HloShape *t = hlo_arena_alloc(a, sizeof *t * (size_t)(s->ntuple + m + 1));
  for (int i = 0; i < s->ntuple; i++) t[i] = static_shape(a, &s->tuple[i], 0);
  for (int i = 0; i < m; i++) t[s->ntuple + i] = hlo_shape_scalar(HLO_S32);
  r.tuple = t;
  r.ntuple = s->ntuple + m;
  return r;
}

static HloInstr *element(PxAt at, HloInstr *t, int k) {
  HloError *e = NULL;
  return px_built(hlo_build_get_tuple_element(at.c, t, k, &e), e, at.before);
}

static HloInstr *tuple_of(PxAt at, HloInstr **xs, int n) {
  HloError *e = NULL;
  return px_built(hlo_build_tuple(at.c, xs, n, &e), e, at.before);
}

/* The sizes of x's leaves into out[nleaves]. */
static void leaves_of(const HloInstr *x, const Sizes *sz, const Leaves *lv, Sizes *out) {
  if (!hlo_shape_is_tuple(&x->shape)) {
    out[0] = sz[x->id];
    return;
  }
  const Leaves *t = &lv[x->id];
  for (int k = 0, n = nleaves(&x->shape); k < n; k++) out[k] = t->s ? t->s[k] : (Sizes){0};
}

/* x (a value of tuple shape s, leaves' sizes l) with its sizes appended:
 * tuple(x's elements…, one s32[] per dynamic dim of s, the bound where l
 * has none). */
static HloInstr *widened(PxAt at, HloInstr *x, const HloShape *s, const Sizes *l) {
  int n = nleaves(s), m = nslots(s), k = 0;
  const HloShape **f = hlo_xcalloc((size_t)n + 1, sizeof *f);
  HloInstr **xs = hlo_xcalloc((size_t)(s->ntuple + m) + 1, sizeof *xs);
  flatten(s, f, &k);
  for (k = 0; k < s->ntuple; k++)
    xs[k] = x->op == HLO_OP_TUPLE ? x->operands[k] : element(at, x, k);
  for (int i = 0; i < n; i++)
    for (int d = 0; d < f[i]->rank; d++)
      if (f[i]->dynamic >> d & 1) xs[k++] = l[i].dim[d] ? l[i].dim[d] : s32(at, f[i]->dims[d]);
  HloInstr *r = tuple_of(at, xs, k);
  free(xs);
  free(f);
  return r;
}

/* The leaves' sizes of x, a widened value of s: its elements past s's. */
static Leaves threaded_leaves(PxAt at, HloInstr *x, const HloShape *s) {
  int n = nleaves(s), m = s->ntuple, k = 0;
  Leaves r = {n, hlo_arena_alloc(x->parent->module->arena, sizeof(Sizes) * ((size_t)n + 1))};
  const HloShape **f = hlo_xcalloc((size_t)n + 1, sizeof *f);
  memset(r.s, 0, sizeof(Sizes) * ((size_t)n + 1));
  flatten(s, f, &k);
  for (int i = 0; i < n; i++)
    for (int d = 0; d < f[i]->rank; d++)
      if (f[i]->dynamic >> d & 1) r.s[i].dim[d] = element(at, x, m++);
  free(f);
  return r;
}

static bool thread(HloInstr *in, Sizes *sz, HloInstr **repl, Leaves *lv);

/* The end of the rewrite of a computation, as for the entry: each
 * get-dimension-size becomes its size, the replacements take their
 * places, set-dimension-size is its operand, every shape static. */
/* Each get-dimension-size of order[n] (of c) replaced by its size; a size
 * that is itself a get-dimension-size is followed to its own size first,
 * before any of them is replaced. */
static void replace_sizes(HloComputation *c, HloInstr **order, int n, const Sizes *sz) {
  HloInstr **to = hlo_xcalloc((size_t)n + 1, sizeof *to);
  for (int i = 0; i < n; i++) {
    HloInstr *in = order[i], *size = in;
    for (int k = 0; size && size->op == HLO_OP_GET_DIMENSION_SIZE && k < n; k++) {
      int64_t d = size->dimensions.v[0];
      HloInstr *next = sz[size->operands[0]->id].dim[d];
      to[i] = next ? next : s32((PxAt){c, in}, size->operands[0]->shape.dims[d]);
      size = next;
    }
  }
  for (int i = 0; i < n; i++)
    if (to[i]) px_replace(order[i], to[i]);
  free(to);
}

static void finish(HloComputation *c, HloInstr **order, int n, const Sizes *sz,
                   HloInstr **repl) {
  replace_sizes(c, order, n, sz);
  for (int i = 0; i < n; i++)
    if (repl[order[i]->id]) px_replace(order[i], repl[order[i]->id]);
  for (int i = 0; i < n; i++)
    if (px_is_linked(order[i]) && order[i]->op == HLO_OP_SET_DIMENSION_SIZE)
      px_replace(order[i], order[i]->operands[0]);
  for (HloInstr *x = c->first; x; x = x->next)
    x->shape = static_shape(c->module->arena, &x->shape, 0);
}

/* Makes c (a while's condition or body, a branch) static.  ps: the shape
 * its parameter had (a tuple), whose sizes are now appended to it; rs: the
 * shape its root must have, whose sizes it then appends; NULL where
 * nothing is threaded. */
static void pad_computation(HloComputation *c, const HloShape *ps, const HloShape *rs, Sizes *sz,
                            HloInstr **repl, Leaves *lv) {
  int n;
  HloInstr **order = hlo_post_order(c, &n);
  Sizes *none[2] = {NULL, NULL};
  if (ps) {
    HloInstr *p = c->params[0];
    p->shape = static_shape(c->module->arena, ps, nslots(ps));
    lv[p->id] = threaded_leaves((PxAt){c, p->next}, p, ps);
  }
  for (int i = 0; i < n; i++)
    if (!thread(order[i], sz, repl, lv)) rewrite(order[i], sz, repl, none);
  if (rs) {
    HloInstr *root = c->root;
    Sizes *l = hlo_xcalloc((size_t)nleaves(rs) + 1, sizeof *l);
    leaves_of(root, sz, lv, l);
    hlo_set_root(c, widened((PxAt){c, NULL}, root, rs, l));
    if (root->op == HLO_OP_TUPLE) px_remove_if_dead(root);
    free(l);
  }
  finish(c, order, n, sz, repl);
  free(order);
}

/* A while or conditional whose operands, results or computations hold
 * dynamic values: rewritten as above. */
static void thread_control(HloInstr *in, Sizes *sz, HloInstr **repl, Leaves *lv) {
  PxAt at = {in->parent, in};
  HloShape rs = in->shape;
  int first = in->op == HLO_OP_WHILE ? 0 : 1;
  HloInstr **old = hlo_xcalloc((size_t)in->noperands + 1, sizeof *old);
  HloShape *os = hlo_xcalloc((size_t)in->noperands + 1, sizeof *os);
  for (int i = first; i < in->noperands; i++) {
    HloInstr *x = old[i] = in->operands[i];
    os[i] = x->shape;
    if (!nslots(&os[i])) continue;
    Sizes *l = hlo_xcalloc((size_t)nleaves(&os[i]) + 1, sizeof *l);
    leaves_of(x, sz, lv, l);
    hlo_set_operand(in, i, widened(at, x, &os[i], l));
    free(l);
  }
  bool ws = nslots(&rs) > 0;
  if (in->op == HLO_OP_WHILE) {
    pad_computation(in->called[0], ws ? &rs : NULL, NULL, sz, repl, lv);
    pad_computation(in->called[1], ws ? &rs : NULL, ws ? &rs : NULL, sz, repl, lv);
  } else {
    for (int b = 0; b < in->ncalled; b++)
      pad_computation(in->called[b], nslots(&os[b + 1]) ? &os[b + 1] : NULL, ws ? &rs : NULL, sz,
                      repl, lv);
  }
  for (int i = first; i < in->noperands; i++)
    if (old[i] != in->operands[i] && old[i]->op == HLO_OP_TUPLE) px_remove_if_dead(old[i]);
  if (ws) {
    in->shape = static_shape(in->parent->module->arena, &rs, nslots(&rs));
    lv[in->id] = threaded_leaves((PxAt){in->parent, in->next}, in, &rs);
  }
  free(old);
  free(os);
}

/* Whether computation c or one it calls holds a dynamic value. */
static bool holds_dynamic(const HloComputation *c, int depth) {
  if (depth > 64) return true;
  for (const HloInstr *x = c->first; x; x = x->next) {
    if (hlo_shape_is_dynamic(&x->shape) || has_dynamic_operand(x) ||
        x->op == HLO_OP_GET_DIMENSION_SIZE || x->op == HLO_OP_SET_DIMENSION_SIZE)
      return true;
    for (int j = 0; j < x->ncalled; j++)
      if (holds_dynamic(x->called[j], depth + 1)) return true;
  }
  return false;
}

/* A while or conditional that thread_control rewrites (or that holds no
 * dynamic value). */
static bool threads(const HloInstr *in) {
  if (hlo_shape_is_dynamic(&in->shape) || has_dynamic_operand(in)) return true;
  for (int j = 0; j < in->ncalled; j++)
    if (holds_dynamic(in->called[j], 0)) return true;
  return false;
}

/* The combiner of a scatter whose updates carry a padding flag: (x, f,
 * u, m) -> (m ? x : cmp(x, u), f), so that an update element past a
 * dynamic window's size leaves the operand as it is. */
static HloComputation *present_updates(HloModule *m, const HloComputation *cmp) {
  HloComputation *c = hlo_computation_new(m, "scatter_present");
  HloShape ps = hlo_shape_scalar(HLO_PRED);
  HloInstr *x = hlo_parameter_new(c, 0, &cmp->params[0]->shape, "x");
  HloInstr *f = hlo_parameter_new(c, 1, &ps, "f");
  HloInstr *u = hlo_parameter_new(c, 2, &cmp->params[1]->shape, "u");
  HloInstr *pad = hlo_parameter_new(c, 3, &ps, "m");
  HloInstr *args[2] = {x, u};
  PxAt at = {c, NULL};
  HloInstr *r = px_select(at, pad, x, px_clone_computation(c, cmp, args, NULL));
  HloInstr *xs[2] = {r, f};
  hlo_set_root(c, tuple_of(at, xs, 2));
  hlo_computation_move_first(c);
  return c;
}

/* scatter into an operand with dynamic dims: an update window that does
 * not fit within the run-time sizes is out of bounds, and XLA skips it,
 * but the padded operand has room for it.  Each such index vector (a
 * start past size - window along a dynamic dim it indexes, or any, where
 * a dynamic dim it does not index is smaller than the window) is
 * redirected to the largest bound, past every dim, where the scatter
 * drops it.  A dynamic update window dim makes the window its size: the
 * operand gets room for a window at the bound past its own (padded with
 * the bound, sliced back after), so that every window that fits at its
 * size fits, and the updates past the size are flagged, a second operand
 * and update of the scatter, which the combiner then skips
 * (present_updates); returns that new scatter (else NULL, `in` changed
 * in place). */
static HloInstr *scatter_sized(PxAt at, HloInstr *in, const Sizes *a, const Sizes *ia,
                               const Sizes *ua) {
  HloInstr *idx = in->operands[1], *x = in->operands[0];
  const HloScatterDims *sd = &in->scatter;
  const HloShape *xs = &x->shape, *is = &idx->shape, *us = &in->operands[2]->shape;
  int ivd = (int)sd->index_vector_dim, ir = is->rank;
  int64_t wsize[HLO_MAX_RANK], big = 0;
  HloInstr *wdyn[HLO_MAX_RANK] = {0}, *padding = NULL;
  HloPadDim room[HLO_MAX_RANK];
  for (int d = 0, nw = 0; d < xs->rank; d++) {
    wsize[d] = 1;
    room[d] = (HloPadDim){0, 0, 0};
    if (!in_list(&sd->inserted_window_dims, d) && !in_list(&sd->input_batching_dims, d)) {
      int uw = (int)sd->update_window_dims.v[nw++];
      wsize[d] = us->dims[uw];
      if ((wdyn[d] = ua->dim[uw])) {
        room[d].hi = wsize[d];
        HloInstr *iota = px_iota_like(at, in->operands[2], uw);
        HloInstr *past = px_compare(at, HLO_CMP_GE, iota,
                                    px_broadcast_leading(at, wdyn[d], &iota->shape));
        padding = padding ? px_binary(at, HLO_OP_OR, padding, past) : past;
      }
    }
    big = xs->dims[d] + room[d].hi > big ? xs->dims[d] + room[d].hi : big;
  }
  /* The flags, one per index vector: of the shape of one component. */
  HloShape cs = *is;
  cs.type = HLO_PRED;
  cs.dynamic = 0;
  if (ivd < ir) cs.dims[ivd] = 1;
  HloError *e = NULL;
  HloInstr *bad = NULL;
  for (int d = 0; d < xs->rank; d++) {
    if (!a->dim[d] && !wdyn[d]) continue;
    HloInstr *lim = px_binary(at, HLO_OP_SUBTRACT, a->dim[d] ? a->dim[d] : s32(at, xs->dims[d]),
                              wdyn[d] ? wdyn[d] : s32(at, wsize[d])), *b;
    int k = 0;
    const HloDims *map = &sd->scatter_dims_to_operand_dims;
    while (k < map->n && map->v[k] != d) k++;
    if (k == map->n) {
      /* A window dim not indexed: every window starts at 0. */
      b = px_broadcast_leading(at, px_compare(at, HLO_CMP_LT, lim, s32(at, 0)), &cs);
    } else {
      HloInstr *c = idx;
      if (ivd < ir) {
        HloSliceDim sl[HLO_MAX_RANK];
        for (int j = 0; j < ir; j++) sl[j] = (HloSliceDim){0, is->dims[j], 1};
        sl[ivd] = (HloSliceDim){k, k + 1, 1};
        c = px_built(hlo_build_slice(at.c, idx, sl, &e), e, at.before);
      }
      lim = px_broadcast_leading(at, px_convert(at, lim, is->type), &cs);
      b = px_compare(at, HLO_CMP_GT, c, lim);
    }
    bad = bad ? px_binary(at, HLO_OP_OR, bad, b) : b;
  }
  /* Index vectors past the indices' (or the updates') count. */
  for (int d = 0, k = 0; d < ir; d++) {
    if (d == ivd) continue;
    while (in_list(&sd->update_window_dims, k)) k++;
    HloInstr *n = ia->dim[d] ? ia->dim[d] : ua->dim[k];
    k++;
    if (!n) continue;
    HloShape ss = cs;
    ss.type = HLO_S32;
    HloInstr *iota = px_built(hlo_build_iota(at.c, &ss, d, &e), e, at.before);
    HloInstr *b = px_compare(at, HLO_CMP_GE, iota, px_broadcast_leading(at, n, &ss));
    bad = bad ? px_binary(at, HLO_OP_OR, bad, b) : b;
  }
  if (bad && ivd < ir) {
    /* Each flag along its index vector. */
    int64_t dims[HLO_MAX_RANK], bdims[HLO_MAX_RANK];
    int n = 0;
    for (int j = 0; j < ir; j++)
      if (j != ivd) {
        bdims[n] = j;
        dims[n++] = is->dims[j];
      }
    cs.dims[ivd] = is->dims[ivd];
    bad = px_built(hlo_build_broadcast(at.c, px_reshape(at, bad, n, dims), &cs, bdims, n, &e), e,
                   at.before);
  }
  if (bad) idx = px_select(at, bad, px_scalar(at, is->type, (double)big, is), idx);
  if (!padding) {
    if (idx != in->operands[1]) hlo_set_operand(in, 1, idx);
    return NULL;
  }
  HloInstr *ins[2] = {px_built(hlo_build_pad(at.c, x, px_scalar(at, xs->type, 0, NULL), room, &e),
                               e, at.before),
                      NULL};
  HloShape fs = ins[0]->shape;
  fs.type = HLO_PRED;
  ins[1] = px_scalar(at, HLO_PRED, 0, &fs);
  HloInstr *ups[2] = {in->operands[2], padding};
  HloComputation *cmp = present_updates(in->parent->module, in->called[0]);
  HloInstr *r = px_built(hlo_build_scatter(at.c, ins, idx, ups, 2, sd, cmp, &e), e, at.before);
  HloSliceDim sl[HLO_MAX_RANK];
  for (int d = 0; d < xs->rank; d++) sl[d] = (HloSliceDim){0, xs->dims[d], 1};
  return px_built(hlo_build_slice(at.c, element(at, r, 0), sl, &e), e, at.before);
}

/* dynamic-slice or dynamic-update-slice of an operand with dynamic dims:
 * XLA clamps each start so that the slice fits within the operand, here
 * its run-time size, where the padded operand would clamp to the bound;
 * the start along a dynamic dim of size s becomes max(min(start, s -
 * len), 0). */
static void slice_sized(PxAt at, HloInstr *in, const Sizes *a) {
  int first = in->op == HLO_OP_DYNAMIC_SLICE ? 1 : 2;
  const HloShape *w = in->op == HLO_OP_DYNAMIC_SLICE ? &in->shape : &in->operands[1]->shape;
  for (int d = 0; d < in->operands[0]->shape.rank; d++) {
    if (!a->dim[d]) continue;
    HloInstr *st = in->operands[first + d];
    HloInstr *hi = px_binary(at, HLO_OP_SUBTRACT, a->dim[d], s32(at, w->dims[d]));
    hi = px_convert(at, hi, st->shape.type);
    HloInstr *c = px_binary(at, HLO_OP_MINIMUM, st, hi);
    c = px_binary(at, HLO_OP_MAXIMUM, c, px_scalar(at, st->shape.type, 0, NULL));
    hlo_set_operand(in, first + d, c);
  }
}

/* The sizes of `in`'s result: tuples and get-tuple-element of a followed
 * tuple here, while and conditional by thread_control, scatter by
 * scatter_sized, dynamic-slice and dynamic-update-slice by slice_sized;
 * false leaves `in` to rewrite. */
static bool thread(HloInstr *in, Sizes *sz, HloInstr **repl, Leaves *lv) {
  switch (in->op) {
  case HLO_OP_TUPLE: {
    int n = nleaves(&in->shape), k = 0;
    Leaves t = {n, hlo_arena_alloc(in->parent->module->arena, sizeof(Sizes) * ((size_t)n + 1))};
    for (int i = 0; i < in->noperands; i++) {
      leaves_of(in->operands[i], sz, lv, t.s + k);
      k += nleaves(&in->operands[i]->shape);
    }
    lv[in->id] = t;
    return false;
  }
  case HLO_OP_GET_TUPLE_ELEMENT: {
    const HloInstr *x = in->operands[0];
    if (!lv[x->id].s) return false;
    int off = 0;
    for (int i = 0; i < in->tuple_index; i++) off += nleaves(&x->shape.tuple[i]);
    if (hlo_shape_is_tuple(&in->shape))
      lv[in->id] = (Leaves){nleaves(&in->shape), lv[x->id].s + off};
    else
      sz[in->id] = lv[x->id].s[off];
    return true;
  }
  case HLO_OP_WHILE: case HLO_OP_CONDITIONAL:
    if (threads(in)) thread_control(in, sz, repl, lv);
    return true;
  case HLO_OP_DYNAMIC_SLICE: case HLO_OP_DYNAMIC_UPDATE_SLICE:
    if (!hlo_shape_is_dynamic(&in->operands[0]->shape)) return false;
    if (in->op == HLO_OP_DYNAMIC_UPDATE_SLICE) sz[in->id] = sz[in->operands[0]->id];
    slice_sized((PxAt){in->parent, in}, in, &sz[in->operands[0]->id]);
    return true;
  case HLO_OP_SCATTER:
    if (!has_dynamic_operand(in)) return false;
    sz[in->id] = sz[in->operands[0]->id];
    repl[in->id] = scatter_sized((PxAt){in->parent, in}, in, &sz[in->operands[0]->id],
                                 &sz[in->operands[1]->id], &sz[in->operands[2]->id]);
    return true;
  default: return false;
  }
}

/* The s32[] parameters that carry an entry parameter's sizes (of shape s,
 * named name), one per dynamic dim, numbered from *next. */
static void size_params(HloComputation *entry, const HloShape *s, const char *name, int *next,
                        Sizes *out) {
  for (int d = 0; d < s->rank; d++) {
    if (!(s->dynamic >> d & 1)) continue;
    HloStr n = {0};
    hlo_str_printf(&n, "%s_size%d", name, d);
    HloShape ss = hlo_shape_scalar(HLO_S32);
    out->dim[d] = hlo_parameter_new(entry, (*next)++, &ss, n.buf);
    free(n.buf);
  }
}

/* The arrays x holds, through tuple instructions, appended to xs[*n],
 * their sizes to ss[*n]; a variadic reduce-window (the root) gives its
 * elements, of its sizes. */
static void result_leaves(HloInstr *x, const Sizes *sz, HloInstr ***xs, const Sizes ***ss,
                          int *n, int *cap) {
  int k = hlo_shape_is_tuple(&x->shape) ? x->shape.ntuple : 1;
  if (*n + k > *cap) {
    *cap = 2 * (*n + k) + 8;
    *xs = hlo_xrealloc(*xs, (size_t)*cap * sizeof **xs);
    *ss = hlo_xrealloc(*ss, (size_t)*cap * sizeof **ss);
  }
  if (x->op == HLO_OP_TUPLE) {
    for (int i = 0; i < x->noperands; i++) result_leaves(x->operands[i], sz, xs, ss, n, cap);
    return;
  }
  for (int i = 0; i < k; i++) {
    (*xs)[*n] = hlo_shape_is_tuple(&x->shape) ? element((PxAt){x->parent, NULL}, x, i) : x;
    (*ss)[(*n)++] = &sz[x->id];
  }
}

/* The entry's results with their sizes after them: a root with dynamic
 * dims becomes tuple(its arrays…, their sizes…), flat (the leaves of
 * nested tuple instructions in order), one s32[] per dynamic dim, in the
 * order of the arrays and then of the dims. */
static HloInstr *sized_root(HloComputation *entry, const Sizes *sz) {
  HloInstr **xs = NULL;
  const Sizes **ss = NULL;
  int n = 0, cap = 0;
  result_leaves(entry->root, sz, &xs, &ss, &n, &cap);
  int narrays = n;
  for (int i = 0; i < narrays; i++)
    for (int d = 0; d < xs[i]->shape.rank; d++)
      if (xs[i]->shape.dynamic >> d & 1) {
        HloInstr *size = ss[i]->dim[d];
        size = size ? size : s32((PxAt){entry, NULL}, xs[i]->shape.dims[d]);
        if (n == cap) xs = hlo_xrealloc(xs, (size_t)(cap = 2 * cap + 8) * sizeof *xs);
        xs[n++] = size;
      }
  HloError *e = NULL;
  HloInstr *r = px_built(hlo_build_tuple(entry, xs, n, &e), e, NULL);
  free(xs);
  free(ss);
  return r;
}

/* A PadToStatic or SliceToDynamic its replacement left unread: removed
 * (px_remove_if_dead keeps custom-calls, which may do anything), and what
 * only it read. */
static void remove_replaced_call(HloInstr *in) {
  if (!(hlo_is_custom_call_to(in, "PadToStatic") || hlo_is_custom_call_to(in, "SliceToDynamic")) ||
      !px_is_linked(in) || in->nusers || in == in->parent->root)
    return;
  int n = in->noperands;
  HloInstr *ops[HLO_MAX_RANK + 1];
  HLO_CHECK(n <= HLO_MAX_RANK + 1);
  memcpy(ops, in->operands, sizeof(HloInstr *) * (size_t)n);
  hlo_instr_remove(in);
  for (int i = 0; i < n; i++) {
    px_remove_if_dead(ops[i]);
    remove_replaced_call(ops[i]);
  }
}

/* A dynamic-reshape of a static operand into a static shape, wherever it
 * is, becomes the reshape it is (its sizes are its dims). */
static bool static_dynamic_reshapes(HloModule *m) {
  bool changed = false;
  for (HloComputation *c = m->first; c; c = c->next)
    for (HloInstr *x = c->first, *next; x; x = next) {
      next = x->next;
      if (x->op != HLO_OP_DYNAMIC_RESHAPE || hlo_shape_is_dynamic(&x->shape) ||
          hlo_shape_is_dynamic(&x->operands[0]->shape))
        continue;
      px_replace(x, px_reshape((PxAt){c, x}, x->operands[0], x->shape.rank, x->shape.dims));
      changed = true;
    }
  return changed;
}

bool pass_dynamic_pad(HloModule *m) {
  bool changed = static_dynamic_reshapes(m), any = false;
  for (const HloComputation *c = m->first; c && !any; c = c->next)
    for (const HloInstr *x = c->first; x && !any; x = x->next)
      any = hlo_shape_is_dynamic(&x->shape) || x->op == HLO_OP_GET_DIMENSION_SIZE ||
            hlo_is_custom_call_to(x, "PadToStatic");
  if (!any) return changed;
  if (!feasible(m)) return false;
  HloComputation *entry = m->entry;
  inline_dynamic_calls(entry);
  inline_threaded_calls(entry, 0);
  /* Dynamic parameters take their sizes as parameters after the others. */
  int nparams = entry->nparams, next = nparams;
  Sizes *psz = hlo_xcalloc((size_t)nparams + 1, sizeof *psz);
  Sizes **elems = hlo_xcalloc((size_t)nparams + 1, sizeof *elems);
  for (int i = 0; i < nparams; i++) {
    HloInstr *p = entry->params[i];
    if (!hlo_shape_is_tuple(&p->shape)) {
      size_params(entry, &p->shape, p->name, &next, &psz[i]);
      continue;
    }
    elems[i] = hlo_xcalloc((size_t)p->shape.ntuple + 1, sizeof **elems);
    for (int k = 0; k < p->shape.ntuple; k++) {
      HloStr name = {0};
      hlo_str_printf(&name, "%s_%d", p->name, k);
      size_params(entry, &p->shape.tuple[k], name.buf, &next, &elems[i][k]);
      free(name.buf);
    }
  }
  Sizes *sz = hlo_xcalloc((size_t)m->next_id + 1, sizeof *sz);
  HloInstr **repl = hlo_xcalloc((size_t)m->next_id + 1, sizeof *repl);
  for (int i = 0; i < nparams; i++) sz[entry->params[i]->id] = psz[i];
  Leaves *lv = hlo_xcalloc((size_t)m->next_id + 1, sizeof *lv);
  for (int i = 0; i < nparams; i++)
    if (elems[i]) lv[entry->params[i]->id] = (Leaves){entry->params[i]->shape.ntuple, elems[i]};
  int n;
  HloInstr **order = hlo_post_order(m->entry, &n);
  for (int i = 0; i < n; i++)
    if (!thread(order[i], sz, repl, lv)) rewrite(order[i], sz, repl, elems);
  /* Dynamic results return their sizes after them (read before the
   * replacements below unlink what gave them). */
  if (hlo_shape_is_dynamic(&entry->root->shape)) {
    HloInstr *root = entry->root;
    hlo_set_root(entry, sized_root(entry, sz));
    px_remove_if_dead(root);
  }
  replace_sizes(entry, order, n, sz);
  /* After get-dimension-size has read the reshapes' sizes by their ids. */
  for (int i = 0; i < n; i++)
    if (repl[order[i]->id]) px_replace(order[i], repl[order[i]->id]);
  for (int i = 0; i < n; i++) remove_replaced_call(order[i]);
  for (int i = 0; i < n; i++) {
    HloInstr *in = order[i];
    if (!px_is_linked(in)) continue;
    if (in->op == HLO_OP_SET_DIMENSION_SIZE) {
      in->shape.dynamic = 0;
      px_replace(in, in->operands[0]);
    } else if (hlo_type_is_array(in->shape.type)) {
      in->shape.dynamic = 0;
    }
  }
  /* What the rewrites built from dynamic values is static too. */
  for (HloInstr *x = m->entry->first; x; x = x->next)
    if (hlo_type_is_array(x->shape.type)) x->shape.dynamic = 0;
  for (int i = 0; i < nparams; i++) {
    HloShape *s = &entry->params[i]->shape;
    if (!elems[i]) continue;
    HloShape *t = hlo_arena_alloc(m->arena, sizeof *t * (size_t)s->ntuple);
    for (int k = 0; k < s->ntuple; k++) {
      t[k] = s->tuple[k];
      t[k].dynamic = 0;
    }
    s->tuple = t;
    free(elems[i]);
  }
  if (hlo_shape_is_dynamic(&entry->root->shape)) {
    HloShape rs;
    HLO_CHECK(!hlo_infer_shape(entry->root, &rs));
    entry->root->shape = rs;
  }
  /* Tuples too (the whiles' and conditionals'). */
  for (HloInstr *x = m->entry->first; x; x = x->next)
    if (hlo_shape_is_tuple(&x->shape)) x->shape = static_shape(m->arena, &x->shape, 0);
  free(lv);
  free(elems);
  free(psz);
  free(order);
  free(repl);
  free(sz);
  return true;
}
