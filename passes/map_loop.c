/*
 * map_loop.c — a map that expand_ops.c could not inline becomes a loop
 * that applies its computation to one element per iteration.
 *
 * expand_ops.c inlines a map whose computation is elementwise over
 * scalars; a computation that builds arrays (a reduce of a broadcast, a
 * conditional returning an array, as XLA's conditional_to_select tests
 * write) has no elementwise form.  Here the operands (which share the
 * map's dims) are flattened and carried through a while loop
 * (px_loop_begin) with an accumulator of the results; iteration i slices
 * element i out of each operand into a scalar, runs a copy of the
 * computation on them, and writes its result into the accumulator at i.
 * The accumulator, reshaped, is the map's value.  Each iteration is a few
 * instructions besides the computation's: slow for large maps, but exact
 * and compiled, where there was an error before.
 *
 * The loop carries the operands and the accumulator, so a map of more
 * than PX_LOOP_MAX_STATE - 1 operands stays (codegen refuses it by name).
 *
 * requires: a verified module; pass_single_device's expansions done.
 * keeps:    each replaced map's shape.
 * breaks:   nothing; the map's computation may be left uncalled (DCE).
 */
#include "internal.h"

static HloInstr *map_loop(HloInstr *in) {
  if (in->op != HLO_OP_MAP || in->noperands + 1 > PX_LOOP_MAX_STATE) return NULL;
  HloComputation *c = in->parent;
  PxAt at = {c, in};
  int n = in->noperands;
  int64_t total = hlo_shape_elements(&in->shape), one = 1;
  /* No element to slice out: the value is the empty array. */
  if (!total) return px_constant_splat(c, &in->shape, 0, in);
  HloInstr *init[PX_LOOP_MAX_STATE], *next[PX_LOOP_MAX_STATE], *out[PX_LOOP_MAX_STATE];
  for (int k = 0; k < n; k++) init[k] = px_reshape(at, in->operands[k], 1, &total);
  HloShape flat = hlo_shape_array(in->shape.type, 1, &total);
  init[n] = px_scalar(at, in->shape.type, 0, &flat);

  PxLoop l;
  px_loop_begin(&l, c->module, "map_element", init, n + 1);
  PxAt body = {l.body, NULL};
  HloInstr *args[PX_LOOP_MAX_STATE];
  HloError *e = NULL;
  for (int k = 0; k < n; k++) {
    HloInstr *x = px_built(hlo_build_dynamic_slice(l.body, l.state[k], &l.i, &one, &e), e, NULL);
    args[k] = px_reshape(body, x, 0, &one);
    next[k] = l.state[k];
  }
  HloInstr *y = px_clone_computation(l.body, in->called[0], args, NULL);
  HloInstr *y1 = px_reshape(body, y, 1, &one);
  next[n] = px_built(hlo_build_dynamic_update_slice(l.body, l.state[n], y1, &l.i, &e), e, NULL);
  px_loop_end(&l, init, next, total, at, out);
  return px_with_layout(px_reshape(at, out[n], in->shape.rank, in->shape.dims), &in->shape, in);
}

/* Graph computations only: a loop has no place in a computation applied
 * per element (a map inside a reduce's stays). */
bool pass_map_loop(HloModule *m) { return px_rewrite_each(m, false, map_loop); }
