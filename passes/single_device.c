/*
 * single_device.c — collectives, tokens and asynchronous pairs become the
 * plain HLO they compute on one device, so codegen never sees them.
 *
 * XLA prints these ops in every module a multi-device program passed
 * through, also when it ran on one device; with one participant (the
 * verifier rejects replica groups and source-target pairs that name
 * another) each is a renaming: all-reduce, all-gather, reduce-scatter,
 * all-to-all, collective-broadcast, opt-barrier and domain are their
 * operand (a tuple of them when there are several); collective-permute is
 * its operand when the pair {0,0} is given and zeros when no pair is;
 * replica-id and partition-id are the constant 0; add-dependency(x, token)
 * is x; the custom-calls XLA
 * uses on one device as identities (Sharding, MoveToHost, …:
 * hlo_custom_call_is_identity) are their operand, and JAX's LAPACK calls
 * the cholesky and triangular-solve they compute (lapack_calls.c); a
 * buffer (b(T)) is its array: Pin and Unpin (identities too) are their
 * operand, CreateBuffer and AllocateBuffer zeros, and every b(T) left, a
 * parameter's or a tuple's, becomes T; a
 * start/done pair is the tuple XLA gives the start, (operand, result[, context]), with the done
 * taking the result out of it; async-start runs its computation inline.
 * after-all stays: it is free, and nothing but a token would do where one
 * is still needed (DCE removes it once its users are gone).
 *
 * The same walk offers every other instruction to expand_ops.c, which
 * rewrites the opcodes codegen has no kernel for (the inverse and
 * hyperbolic trigonometric functions, map, reduce-precision).  A rewrite
 * may build such an opcode (a LAPACK call becomes a cholesky), which the
 * walk has passed, so a walk that changed something is followed by one
 * more; what the expansions build needs none.
 *
 * Before the walk, the forms of XLA's HLO that codegen has no rule for
 * are made standard (canonical_forms.c); after it, a map that could not
 * be inlined becomes a loop over its elements (map_loop.c).
 *
 * The pipeline runs this before its steps, whatever passes are disabled:
 * it is a lowering codegen depends on, not an optimization.
 *
 * requires: a verified module.
 * keeps:    every other instruction's shape but its buffers; the entry's
 *           signature (a buffer parameter or result, its array: the same
 *           bytes).
 * breaks:   nothing; tuples it leaves are forwarded by tuple-simplify.
 */
#include <stdlib.h>

#include "internal.h"

static HloInstr *tuple_of(HloInstr *const *xs, int n, HloInstr *before) {
  HloError *err = NULL;
  return px_built(hlo_build_tuple(before->parent, xs, n, &err), err, before);
}

/* Element k of t: t's operand when t is a tuple instruction. */
static HloInstr *element(HloInstr *t, int k, HloInstr *before) {
  if (t->op == HLO_OP_TUPLE) return t->operands[k];
  HloError *err = NULL;
  return px_built(hlo_build_get_tuple_element(before->parent, t, k, &err), err, before);
}

/* The value of in on one participant: its operand or a tuple of them;
 * zeros of their shapes when `zeros`. */
static HloInstr *own_operands(HloInstr *in, bool zeros) {
  int n = in->noperands;
  HloInstr **xs = hlo_xmalloc(sizeof(HloInstr *) * (size_t)n);
  for (int i = 0; i < n; i++) {
    HloInstr *x = in->operands[i];
    xs[i] = zeros ? px_constant_splat(in->parent, &x->shape, 0, in) : x;
  }
  HloInstr *r = n == 1 ? xs[0] : tuple_of(xs, n, in);
  free(xs);
  return r;
}

/* (a, b, context zeros…) shaped as the start `in`. */
static HloInstr *start_tuple(HloInstr *in, HloInstr *a, HloInstr *b) {
  int n = in->shape.ntuple;
  HloInstr **xs = hlo_xmalloc(sizeof(HloInstr *) * (size_t)n);
  xs[0] = a;
  xs[1] = b;
  for (int k = 2; k < n; k++) xs[k] = px_constant_splat(in->parent, &in->shape.tuple[k], 0, in);
  HloInstr *r = tuple_of(xs, n, in);
  free(xs);
  return r;
}

static HloInstr *lower(HloInstr *in) {
  HloComputation *c = in->parent;
  switch (in->op) {
  case HLO_OP_ALL_REDUCE: case HLO_OP_ALL_GATHER: case HLO_OP_REDUCE_SCATTER:
  case HLO_OP_ALL_TO_ALL: case HLO_OP_COLLECTIVE_BROADCAST: case HLO_OP_OPT_BARRIER:
  case HLO_OP_DOMAIN: case HLO_OP_ASYNC_UPDATE:
    return px_with_layout(own_operands(in, false), &in->shape, in);
  case HLO_OP_COLLECTIVE_PERMUTE:
    return px_with_layout(own_operands(in, in->source_target_pairs.n == 0), &in->shape, in);
  case HLO_OP_ALL_REDUCE_START: case HLO_OP_ALL_GATHER_START: {
    HloInstr *x = own_operands(in, false);
    if (in->op == HLO_OP_ALL_REDUCE_START && !hlo_start_is_tuple(in))
      return px_with_layout(x, &in->shape, in);
    return start_tuple(in, x, x);
  }
  case HLO_OP_COLLECTIVE_PERMUTE_START: {
    HloInstr *r = own_operands(in, in->source_target_pairs.n == 0);
    if (!hlo_start_is_tuple(in)) return px_with_layout(r, &in->shape, in);
    return start_tuple(in, own_operands(in, false), r);
  }
  case HLO_OP_ALL_REDUCE_DONE: case HLO_OP_COLLECTIVE_PERMUTE_DONE: {
    /* The start was rewritten already: a tuple when XLA's form had one. */
    HloInstr *s = in->operands[0];
    bool whole = hlo_shape_equal(&s->shape, &in->shape, false);
    return px_with_layout(whole ? s : element(s, 1, in), &in->shape, in);
  }
  case HLO_OP_ALL_GATHER_DONE: case HLO_OP_ASYNC_DONE:
    return px_with_layout(element(in->operands[0], 1, in), &in->shape, in);
  case HLO_OP_COPY_DONE:
    return px_with_layout(element(in->operands[0], 0, in), &in->shape, in);
  case HLO_OP_COPY_START:
    return start_tuple(in, in->operands[0], in->operands[0]);
  case HLO_OP_ADD_DEPENDENCY:
    return px_with_layout(in->operands[0], &in->shape, in);
  case HLO_OP_REPLICA_ID: case HLO_OP_PARTITION_ID:
    return px_constant_splat(c, &in->shape, 0, in);
  case HLO_OP_ASYNC_START: {
    HloInstr *r = px_clone_computation(c, in->called[0], in->operands, in);
    HloInstr *args = tuple_of(in->operands, in->noperands, in);
    return start_tuple(in, args, r);
  }
  case HLO_OP_CUSTOM_CALL: {
    if (hlo_custom_call_is_identity(in)) return px_with_layout(in->operands[0], &in->shape, in);
    if (hlo_custom_call_allocates(in)) {
      HloShape a = in->shape;
      a.is_buffer = false;
      return px_constant_splat(c, &a, 0, in);
    }
    HloInstr *r = px_lower_lapack_call(in);
    return r ? r : px_expand_op(in);
  }
  default: return px_expand_op(in);
  }
}

/* s with every buffer its array (tuples copied into arena a). */
static HloShape unbuffered(HloArena *a, const HloShape *s) {
  HloShape r = *s;
  r.is_buffer = false;
  if (!hlo_shape_is_tuple(s)) return r;
  HloShape *t = hlo_arena_alloc(a, sizeof *t * (size_t)(s->ntuple + 1));
  for (int i = 0; i < s->ntuple; i++) t[i] = unbuffered(a, &s->tuple[i]);
  r.tuple = t;
  return r;
}

/* The buffers Pin, Unpin and CreateBuffer left, parameters' and tuples',
 * made their arrays; whether there were any. */
static bool drop_buffers(HloModule *m) {
  bool any = false;
  for (HloComputation *c = m->first; c; c = c->next)
    for (HloInstr *x = c->first; x; x = x->next)
      if (hlo_shape_has_buffer(&x->shape)) {
        x->shape = unbuffered(m->arena, &x->shape);
        any = true;
      }
  return any;
}

bool pass_single_device(HloModule *m) {
  bool changed = pass_canonical_forms(m);
  if (px_rewrite_each(m, true, lower)) {
    px_rewrite_each(m, true, lower);
    changed = true;
  }
  changed |= drop_buffers(m);
  return pass_map_loop(m) || changed;
}
