/*
 * while_invariant.c — loop-invariant elements of a `while`'s state:
 * constants are sunk into the loop, and elements the loop only carries are
 * taken out of its state (XLA's WhileLoopConstantSinking and the invariant
 * part of WhileLoopSimplifier).
 *
 * Element i of a while is invariant when its body's root tuple passes it
 * through: root operand i is get-tuple-element(body parameter, index=i).
 * Its value is then the init tuple's operand i on every iteration and
 * after the loop.  For each while whose operand is a `tuple` instruction
 * and whose body root is a `tuple`:
 *   1. an invariant element whose init operand is a constant (or a
 *      broadcast of one) is sunk: every read of it in the body and the
 *      condition reads a copy of that constant placed there instead (the
 *      copy shares the original's literal, so no payload is duplicated);
 *   2. invariant elements that neither the body nor the condition reads
 *      (any more) leave the loop state: the while, its init tuple, both
 *      computations' parameters and the body's root tuple get the smaller
 *      tuple shape, get-tuple-elements of the parameters are re-indexed,
 *      and outside the loop get-tuple-element(while, i) of a removed
 *      element becomes the init operand i; other users of the whole result
 *      get a rebuilt tuple.
 * So a frozen LSTM's weights stop being copied with the state on every
 * iteration, and its dots read constants that codegen packs at compile
 * time.  Loops are visited callers first, so the constants sunk into an
 * outer body reach the init tuples of the whiles nested in it in the same
 * run.
 *
 * requires: a verified module.
 * keeps:    every while's results (the evaluator's values); computations
 *           another instruction also calls, and whiles sharing their body
 *           or condition, are left alone; at least one state element.
 * breaks:   nothing; the init tuples, whiles and parameters replaced are
 *           unlinked, with what only they kept alive (the sunk constants'
 *           originals among them).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A value that can be copied into another computation. */
static bool sinkable(const HloInstr *x) {
  if (x->op == HLO_OP_CONSTANT) return true;
  return x->op == HLO_OP_BROADCAST && x->operands[0]->op == HLO_OP_CONSTANT;
}

/* A copy of the sinkable x in c before `before`, with the given shape
 * (x's but for the layout); the constant's literal is shared. */
static HloInstr *sink_copy(HloComputation *c, const HloInstr *x, const HloShape *shape,
                           HloInstr *before) {
  HloInstr *k;
  if (x->op == HLO_OP_CONSTANT) {
    k = hlo_instr_clone(c, x, NULL, 0);
  } else {
    HloInstr *src = hlo_instr_clone(c, x->operands[0], NULL, 0);
    hlo_instr_move_before(src, before);
    k = hlo_instr_clone(c, x, &src, 1);
  }
  k->shape = *shape;
  hlo_instr_move_before(k, before);
  return k;
}

/* Marks in read[0..n) the elements of the state parameter p that its
 * computation reads: all of them when p is used other than through
 * get-tuple-element; element i when some get-tuple-element(p, i) is the
 * root or is used by anything but slot i of pass_root (the body's root
 * tuple; NULL for the condition). */
static void mark_reads(const HloInstr *p, const HloInstr *pass_root, bool *read, int n) {
  for (int u = 0; u < p->nusers; u++) {
    const HloInstr *g = p->users[u];
    if (g->op != HLO_OP_GET_TUPLE_ELEMENT) {
      for (int i = 0; i < n; i++) read[i] = true;
      return;
    }
    int i = (int)g->tuple_index;
    if (g->parent->root == g) read[i] = true;
    for (int v = 0; v < g->nusers; v++) {
      const HloInstr *w = g->users[v];
      if (w != pass_root) {
        read[i] = true;
        continue;
      }
      for (int s = 0; s < w->noperands; s++)
        if (w->operands[s] == g && s != i) read[i] = true;
    }
  }
}

/* A copy of x's users (*n of them), which the caller may rewrite while it
 * walks the copy; free it. */
static HloInstr **users_of(const HloInstr *x, int *n) {
  *n = x->nusers;
  HloInstr **u = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(*n ? *n : 1));
  if (*n) memcpy(u, x->users, sizeof(HloInstr *) * (size_t)*n);
  return u;
}

/* Every read of element i of c's state parameter (as mark_reads defines
 * it) now reads a copy of x placed in c.  Returns whether any did. */
static bool sink(HloComputation *c, int i, const HloInstr *x, const HloInstr *pass_root) {
  HloInstr *p = c->params[0];
  HloInstr *k = NULL;
  int nusers;
  HloInstr **gtes = users_of(p, &nusers);
  for (int u = 0; u < nusers; u++) {
    HloInstr *g = gtes[u];
    if (g->op != HLO_OP_GET_TUPLE_ELEMENT || g->tuple_index != i) continue;
    int ng;
    HloInstr **users = users_of(g, &ng);
    for (int v = 0; v < ng; v++) {
      HloInstr *w = users[v];
      for (int s = 0; s < w->noperands; s++) {
        if (w->operands[s] != g || (w == pass_root && s == i)) continue;
        if (!k) k = sink_copy(c, x, &g->shape, g);
        hlo_set_operand(w, s, k);
      }
    }
    free(users);
    if (c->root == g) {
      if (!k) k = sink_copy(c, x, &g->shape, g);
      hlo_set_root(c, k);
    }
    px_remove_if_dead(g);
  }
  free(gtes);
  return k != NULL;
}

/* Gives c's state parameter the shape `shape`, with element i of the old
 * one at index map[i] (-1: removed; no instruction may still read it). */
static void reparameterize(HloComputation *c, const HloShape *shape, const int *map) {
  HloInstr *old = c->params[0];
  HloInstr *np = hlo_parameter_new(c, 0, shape, old->name);
  np->metadata = old->metadata;
  hlo_instr_move_before(np, old);
  int nusers;
  HloInstr **gtes = users_of(old, &nusers);
  for (int u = 0; u < nusers; u++) {
    HloInstr *g = gtes[u];
    HLO_CHECK(g->op == HLO_OP_GET_TUPLE_ELEMENT);
    int to = map[g->tuple_index];
    if (to < 0) {
      HLO_CHECK(g->nusers == 0 && c->root != g);
      hlo_instr_remove(g);
      continue;
    }
    hlo_set_operand(g, 0, np);
    g->tuple_index = to;
  }
  free(gtes);
  hlo_instr_remove(old);
}

/* The tuple shape of the kept elements of s. */
static HloShape kept_shape(HloArena *a, const HloShape *s, const int *map, int nkept) {
  HloShape *elems = hlo_xmalloc(sizeof(HloShape) * (size_t)nkept);
  for (int i = 0; i < s->ntuple; i++)
    if (map[i] >= 0) elems[map[i]] = s->tuple[i];
  HloShape t = hlo_shape_tuple(a, nkept, elems);
  t.has_layout = s->has_layout;
  free(elems);
  return t;
}

/* Takes the elements with map[i] < 0 out of w's state. */
static void remove_elements(HloInstr *w, const int *map, int nkept) {
  HloComputation *c = w->parent, *cond = w->called[0], *body = w->called[1];
  HloArena *a = c->module->arena;
  HloInstr *init = w->operands[0];
  int n = w->shape.ntuple;
  HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)n);
  HloError *err = NULL;

  /* The body's root tuple and both parameters. */
  HloInstr *root = body->root;
  for (int i = 0; i < n; i++)
    if (map[i] >= 0) ops[map[i]] = root->operands[i];
  HloInstr *nroot = px_built(hlo_build_tuple(body, ops, nkept, &err), err, root);
  nroot->shape = kept_shape(a, &root->shape, map, nkept);
  nroot->metadata = root->metadata;
  hlo_set_root(body, nroot);
  px_remove_if_dead(root);
  HloShape bs = kept_shape(a, &body->params[0]->shape, map, nkept);
  reparameterize(body, &bs, map);
  HloShape cs = kept_shape(a, &cond->params[0]->shape, map, nkept);
  reparameterize(cond, &cs, map);

  /* The init tuple and the while. */
  for (int i = 0; i < n; i++)
    if (map[i] >= 0) ops[map[i]] = init->operands[i];
  HloInstr *ninit = px_built(hlo_build_tuple(c, ops, nkept, &err), err, w);
  ninit->shape = kept_shape(a, &init->shape, map, nkept);
  ninit->metadata = init->metadata;
  HloInstr *nw = hlo_instr_clone(c, w, &ninit, 1);
  nw->shape = kept_shape(a, &w->shape, map, nkept);
  hlo_instr_move_before(nw, w);

  /* Its users: get-tuple-elements are re-indexed or become the init
   * operand; anything else gets the whole state rebuilt. */
  free(ops);
  px_replace_while(w, nw, map);
}

/* Sinks the constants of w's invariant elements and removes the elements
 * nothing reads; returns whether w changed. */
static bool simplify_while(HloModule *m, HloInstr *w) {
  HloComputation *cond = w->called[0], *body = w->called[1];
  HloInstr *init = w->operands[0];
  if (init->op != HLO_OP_TUPLE || cond == body || body->root->op != HLO_OP_TUPLE ||
      body->root->nusers || body->nparams != 1 || cond->nparams != 1)
    return false;
  if (px_call_count(m, body) != 1 || px_call_count(m, cond) != 1) return false;
  int n = w->shape.ntuple;
  const HloInstr *bp = body->params[0], *root = body->root;
  bool *invariant = hlo_xcalloc((size_t)n + 1, sizeof(bool));
  bool *read = hlo_xcalloc((size_t)n + 1, sizeof(bool));
  for (int i = 0; i < n; i++) {
    const HloInstr *r = root->operands[i];
    invariant[i] = r->op == HLO_OP_GET_TUPLE_ELEMENT && r->operands[0] == bp &&
                   r->tuple_index == i;
  }

  bool changed = false;
  for (int i = 0; i < n; i++) {
    if (!invariant[i] || !sinkable(init->operands[i])) continue;
    changed |= sink(body, i, init->operands[i], root);
    changed |= sink(cond, i, init->operands[i], NULL);
  }

  mark_reads(body->params[0], root, read, n);
  mark_reads(cond->params[0], NULL, read, n);
  int *map = hlo_xmalloc(sizeof(int) * (size_t)(n ? n : 1));
  int nkept = 0;
  for (int i = 0; i < n; i++) map[i] = invariant[i] && !read[i] ? -1 : nkept++;
  if (nkept < n && nkept > 0) {
    remove_elements(w, map, nkept);
    changed = true;
  }
  free(map);
  free(read);
  free(invariant);
  return changed;
}

bool pass_while_invariant(HloModule *m) {
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  /* Callers first: what an outer loop sinks reaches the loops inside it. */
  for (int ci = nc - 1; ci >= 0; ci--) {
    int nw;
    HloInstr **whiles = px_whiles(comps[ci], &nw);
    for (int k = 0; k < nw; k++) changed |= simplify_while(m, whiles[k]);
    free(whiles);
  }
  free(comps);
  return changed;
}
