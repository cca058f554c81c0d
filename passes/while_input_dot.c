/*
 * while_input_dot.c — a loop's products of one row of a sequence it only
 * carries by a constant matrix, computed for every row before the loop.
 *
 * A recurrent network's loop (a frozen Keras LSTM's: TensorFlow's
 * TensorList reads become dynamic-slices) reads row t of an input
 * sequence X that it carries unchanged and multiplies it by a weight
 * matrix W.  Each iteration then streams all of W for one row: a
 * matrix-vector product, bound by memory, although no row depends on the
 * loop.  This pass computes P = dot(reshape(X, [T, K]), W) once before the
 * loop, carries P as a new element of the loop's state, and replaces the
 * product in the body by the row t of P: one matrix product at the
 * machine's arithmetic speed instead of T at its memory speed (ONNX
 * Runtime's LSTM kernel does the same with its input weights).
 *
 * The pattern, in the body of a while whose init is a `tuple`, whose body
 * root is a `tuple` and whose computations no other instruction calls:
 *   X = get-tuple-element(body parameter, i), element i invariant (the
 *       body's root passes it through), of shape [T, d1, …], rank ≥ 2;
 *   S = dynamic-slice(X, t, …) of sizes [1, d1, …]: every dim but the first
 *       whole, so its other starts are clamped to 0 and only t matters;
 *   L = S of rank 2, or a reshape of S to [1, K], K = d1 ⋯;
 *   D = dot(L, W), L's dim 1 contracted with W's dim 0, no batch dims, W a
 *       constant [K, N] (while-invariant has sunk the loop's weights).
 * P = dot(reshape(init operand i, [T, K]), W) is placed before the while,
 * and D becomes dynamic-slice(P, t, 0) of sizes [1, N]: t clamped to
 * [0, T - 1] as S clamps it, so the same row.  X stays in the state while
 * anything else reads it; while-invariant takes it out otherwise.
 *
 * requires: a verified module.
 * keeps:    every while's results, up to rounding: a row of P is the same
 *           sum as D, but the matrix product's kernel may add it in
 *           another order.  Every row is multiplied, so a loop whose
 *           static trip count (stats.c) is under half of X's rows is left
 *           alone; one without a static count is taken to read them all,
 *           as a recurrent network reads each once.
 * breaks:   nothing; the while and its init tuple are replaced (their
 *           get-tuple-element users re-pointed, other users given the old
 *           state rebuilt), the body's and condition's parameters too.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* D = dot([1, K], W [K, N]) of the form above: X's element index (or -1)
 * and the slice's start t. */
static int input_dot(const HloInstr *d, const HloInstr *bp, HloInstr **t) {
  if (d->op != HLO_OP_DOT || d->noperands != 2) return -1;
  const HloDotDims *dd = &d->dot;
  const HloInstr *l = d->operands[0], *w = d->operands[1];
  if (dd->lhs_batch.n || dd->rhs_batch.n || dd->lhs_contracting.n != 1 ||
      dd->rhs_contracting.n != 1 || dd->lhs_contracting.v[0] != 1 ||
      dd->rhs_contracting.v[0] != 0 || dd->lhs_ragged.n || dd->rhs_group.n)
    return -1;
  if (w->op != HLO_OP_CONSTANT || w->shape.rank != 2 || l->shape.rank != 2 ||
      l->shape.dims[0] != 1 || hlo_shape_is_dynamic(&d->shape))
    return -1;
  const HloInstr *s = l->op == HLO_OP_RESHAPE ? l->operands[0] : l;
  if (s->op != HLO_OP_DYNAMIC_SLICE) return -1;
  const HloInstr *x = s->operands[0];
  if (x->op != HLO_OP_GET_TUPLE_ELEMENT || x->operands[0] != bp || x->shape.rank < 2 ||
      hlo_shape_is_dynamic(&x->shape) || x->shape.type != l->shape.type ||
      s->noperands != 1 + x->shape.rank)
    return -1;
  /* sizes [1, d1, …]: the slice is one whole row */
  if (s->shape.dims[0] != 1) return -1;
  for (int k = 1; k < x->shape.rank; k++)
    if (s->shape.dims[k] != x->shape.dims[k]) return -1;
  *t = s->operands[1];
  return (int)x->tuple_index;
}

/* Appends p to w's state (p before w in w's computation); returns the new
 * while and its body root's new element's index. */
static HloInstr *append_element(HloInstr *w, HloInstr *p) {
  HloComputation *c = w->parent, *cond = w->called[0], *body = w->called[1];
  HloArena *a = c->module->arena;
  HloInstr *init = w->operands[0], *root = body->root;
  int n = w->shape.ntuple;
  HloError *err = NULL;
  HloShape *elems = hlo_xmalloc(sizeof(HloShape) * (size_t)(n + 1));
  memcpy(elems, w->shape.tuple, sizeof(HloShape) * (size_t)n);
  elems[n] = p->shape;
  HloShape st = hlo_shape_tuple(a, n + 1, elems);
  st.has_layout = w->shape.has_layout;
  free(elems);

  /* Both parameters get the new shape (their get-tuple-elements keep
   * their indices). */
  HloComputation *comps[2] = {body, cond};
  for (int k = 0; k < 2; k++) {
    HloInstr *old = comps[k]->params[0];
    HloInstr *np = hlo_parameter_new(comps[k], 0, &st, old->name);
    np->metadata = old->metadata;
    hlo_instr_move_before(np, old);
    hlo_replace_all_uses(old, np);
    hlo_instr_remove(old);
  }

  /* The body's root passes the new element through. */
  HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(n + 1));
  memcpy(ops, root->operands, sizeof(HloInstr *) * (size_t)n);
  ops[n] = px_built(hlo_build_get_tuple_element(body, body->params[0], n, &err), err, root);
  HloInstr *nroot = px_built(hlo_build_tuple(body, ops, n + 1, &err), err, root);
  nroot->shape = st;
  nroot->metadata = root->metadata;
  hlo_set_root(body, nroot);
  px_remove_if_dead(root);

  /* The init tuple and the while. */
  memcpy(ops, init->operands, sizeof(HloInstr *) * (size_t)n);
  ops[n] = p;
  HloInstr *ninit = px_built(hlo_build_tuple(c, ops, n + 1, &err), err, w);
  ninit->shape = st;
  ninit->metadata = init->metadata;
  HloInstr *nw = hlo_instr_clone(c, w, &ninit, 1);
  nw->shape = st;
  hlo_instr_move_before(nw, w);
  free(ops);
  /* w's users read nw (the old state rebuilt, where they want it whole) */
  px_replace_while(w, nw, NULL);
  return nw;
}

/* Moves the first input dot of w's body before w; returns the new while,
 * or NULL when the body has none. */
static HloInstr *hoist_one(HloModule *m, HloInstr *w) {
  HloComputation *c = w->parent, *cond = w->called[0], *body = w->called[1];
  HloInstr *init = w->operands[0];
  if (init->op != HLO_OP_TUPLE || cond == body || body->root->op != HLO_OP_TUPLE ||
      body->root->nusers || body->nparams != 1 || cond->nparams != 1 ||
      px_call_count(m, body) != 1 || px_call_count(m, cond) != 1)
    return NULL;
  const HloInstr *bp = body->params[0], *root = body->root;
  for (HloInstr *d = body->first; d; d = d->next) {
    HloInstr *t = NULL;
    int i = input_dot(d, bp, &t);
    if (i < 0) continue;
    const HloInstr *r = root->operands[i];
    if (r->op != HLO_OP_GET_TUPLE_ELEMENT || r->operands[0] != bp || r->tuple_index != i)
      continue; /* X is not invariant */
    HloError *err = NULL;
    HloInstr *x0 = init->operands[i], *wk = d->operands[1];
    int64_t rows = x0->shape.dims[0], k = wk->shape.dims[0];
    int64_t trips = px_while_trip_count(w);
    if (trips >= 0 && 2 * trips < rows) continue; /* most rows would be wasted */
    HloInstr *xr = px_built(hlo_build_reshape(c, x0, 2, (int64_t[]){rows, k}, &err), err, w);
    HloInstr *wc = hlo_instr_clone(c, wk, NULL, 0); /* shares the literal */
    hlo_instr_move_before(wc, w);
    /* d's copy (its attributes too) over all the rows */
    HloInstr *p = hlo_instr_clone(c, d, (HloInstr *[]){xr, wc}, 2);
    p->shape.dims[0] = rows;
    hlo_instr_move_before(p, w);
    HloInstr *nw = append_element(w, p);
    int e = nw->shape.ntuple - 1;
    HloInstr *pe = px_built(hlo_build_get_tuple_element(body, body->params[0], e, &err), err, d);
    HloInstr *zero = px_built(hlo_build_constant_scalar(body, t->shape.type, 0), NULL, d);
    HloInstr *row = px_built(
        hlo_build_dynamic_slice(body, pe, (HloInstr *[]){t, zero}, d->shape.dims, &err), err, d);
    row->metadata = d->metadata;
    px_replace(d, row);
    return nw;
  }
  return NULL;
}

bool pass_while_input_dot(HloModule *m) {
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int ci = 0; ci < nc; ci++) {
    int nw;
    HloInstr **whiles = px_whiles(comps[ci], &nw);
    for (int k = 0; k < nw; k++)
      for (HloInstr *w = whiles[k], *next; (next = hoist_one(m, w)); w = next) changed = true;
    free(whiles);
  }
  free(comps);
  return changed;
}
