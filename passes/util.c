/*
 * util.c — the helpers of internal.h: which computations graph passes
 * rewrite, recognising splat constants, replacing and unlinking, and
 * copying a computation's body into another computation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Control flow runs its called computations as graphs; everything else
 * that calls a computation applies it to scalars (or is a fusion). */
static bool calls_graphs(const HloInstr *in) {
  return in->op == HLO_OP_WHILE || in->op == HLO_OP_CONDITIONAL || in->op == HLO_OP_CALL;
}

HloComputation **px_graph_computations(const HloModule *m, bool with_applied, int *n) {
  int total;
  HloComputation **all = hlo_computation_post_order(m, &total);
  if (with_applied) {
    *n = total;
    return all;
  }
  /* Mark graphs top-down (reverse post order visits callers first). */
  bool *graph = hlo_xcalloc((size_t)total, sizeof(bool));
  for (int i = total - 1; i >= 0; i--) {
    if (all[i] == m->entry) graph[i] = true;
    if (!graph[i]) continue;
    for (HloInstr *in = all[i]->first; in; in = in->next) {
      if (!calls_graphs(in)) continue;
      for (int k = 0; k < in->ncalled; k++)
        for (int j = 0; j < total; j++)
          if (all[j] == in->called[k]) graph[j] = true;
    }
  }
  int k = 0;
  for (int i = 0; i < total; i++)
    if (graph[i]) all[k++] = all[i];
  free(graph);
  *n = k;
  return all;
}

bool px_splat(const HloInstr *in, double *v) {
  if (in->op == HLO_OP_BROADCAST) in = in->operands[0];
  if (in->op != HLO_OP_CONSTANT || !hlo_type_is_array(in->shape.type)) return false;
  int64_t n = hlo_shape_elements(&in->shape);
  if (n == 0) return false;
  size_t es = hlo_type_size(in->shape.type);
  const unsigned char *d = in->literal->data;
  for (int64_t i = 1; i < n; i++)
    if (memcmp(d, d + (size_t)i * es, es)) return false;
  *v = hlo_literal_get_f64(in->literal, 0);
  return true;
}

bool px_is_splat_of(const HloInstr *in, double v) {
  double got;
  return px_splat(in, &got) && got == v;
}

bool px_is_constant_like(const HloInstr *in) {
  if (in->op == HLO_OP_BROADCAST) in = in->operands[0];
  return in->op == HLO_OP_CONSTANT;
}

bool px_is_finite_constant(const HloInstr *c) {
  if (c->op != HLO_OP_CONSTANT || !hlo_type_is_float(c->shape.type)) return false;
  int64_t n = hlo_shape_elements(&c->shape);
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(hlo_literal_get_f64(c->literal, i))) return false;
  return true;
}

/* An xla_builder.* call hloc runs: its computation or a math function. */
static bool builder_call_runs(const HloInstr *in) {
  HloOpcode op;
  const HloComputation *comp;
  return !hlo_builder_call(in, &op, &comp) && (comp || op != HLO_NUM_OPCODES);
}

bool px_has_side_effect(const HloInstr *in) {
  /* An opaque custom-call may do anything; the identities only name a
   * value, CreateBuffer and AllocateBuffer make one, and JAX's LAPACK calls
   * and XLA's builder calls only compute one. */
  return (in->op == HLO_OP_CUSTOM_CALL && !hlo_custom_call_is_identity(in) &&
          !hlo_custom_call_allocates(in) &&
          hlo_lapack_call(in).kind == HLO_LAPACK_NONE && !builder_call_runs(in)) ||
         in->op == HLO_OP_PARAMETER;
}

/* Unlinked instructions have no neighbours and are not their list's head. */
bool px_is_linked(const HloInstr *in) {
  return in->prev || in->next || in->parent->first == in;
}

void px_remove_if_dead(HloInstr *in) {
  if (!px_is_linked(in) || in->nusers || in->parent->root == in || px_has_side_effect(in))
    return;
  int n = in->noperands;
  HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(n ? n : 1));
  memcpy(ops, in->operands, sizeof(HloInstr *) * (size_t)n);
  hlo_instr_remove(in);
  for (int i = 0; i < n; i++) px_remove_if_dead(ops[i]);
  free(ops);
}

void px_replace(HloInstr *old, HloInstr *repl) {
  if (old == repl) return;
  hlo_replace_all_uses(old, repl);
  px_remove_if_dead(old);
}

HloInstr *px_built(HloInstr *r, HloError *err, HloInstr *before) {
  if (!r) hlo_fatal(__FILE__, __LINE__, "pass built an ill-shaped instruction: %s",
                    hlo_error_message(err));
  if (before) hlo_instr_move_before(r, before);
  return r;
}

HloInstr *px_with_layout(HloInstr *x, const HloShape *want, HloInstr *before) {
  if (x->shape.type == HLO_TUPLE || hlo_shape_equal(&x->shape, want, true) ||
      (hlo_shape_has_default_layout(&x->shape) && hlo_shape_has_default_layout(want)))
    return x;
  HloInstr *c = hlo_instr_new(before->parent, HLO_OP_COPY, want, &x, 1, NULL);
  hlo_instr_move_before(c, before);
  return c;
}

HloInstr *px_constant_splat(HloComputation *c, const HloShape *shape, double v,
                            HloInstr *before) {
  HloShape s = hlo_shape_array(shape->type, shape->rank, shape->dims);
  HloLiteral *lit = hlo_literal_new_in(c->module->arena, &s);
  int64_t n = hlo_shape_elements(&s);
  for (int64_t i = 0; i < n; i++) hlo_literal_set_f64(lit, i, v);
  HloInstr *k = hlo_constant_new(c, lit, "constant");
  if (before) hlo_instr_move_before(k, before);
  return k;
}

HloInstr *px_broadcast_scalar(HloComputation *c, const HloShape *shape, double v,
                              HloInstr *before) {
  HloShape s = hlo_shape_scalar(shape->type);
  HloInstr *k = px_constant_splat(c, &s, v, before);
  if (shape->rank == 0) return k;
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(c, k, shape, NULL, 0, &e), e, before);
}

HloInstr *px_clone_computation(HloComputation *dst, const HloComputation *callee,
                               HloInstr *const *args, HloInstr *before) {
  int n;
  HloInstr **order = hlo_post_order(callee, &n);
  /* copy[i] is order[i]'s copy; operands come before their users. */
  HloInstrIndex *pos = hlo_instr_index_new(order, n);
  HloInstr **copies = hlo_xcalloc((size_t)(n ? n : 1), sizeof(HloInstr *));
  HloInstr *root = NULL;
  for (int i = 0; i < n; i++) {
    HloInstr *in = order[i];
    HloInstr *copy;
    if (in->op == HLO_OP_PARAMETER) {
      copy = args[in->parameter_number];
    } else {
      HloInstr *ops[in->noperands ? in->noperands : 1];
      for (int k = 0; k < in->noperands; k++) {
        int p = hlo_instr_index_find(pos, in->operands[k]);
        ops[k] = p >= 0 ? copies[p] : NULL;
      }
      copy = hlo_instr_clone(dst, in, ops, in->noperands);
      if (before) hlo_instr_move_before(copy, before);
    }
    copies[i] = copy;
    if (in == callee->root) root = copy;
  }
  hlo_instr_index_free(pos);
  free(copies);
  free(order);
  return root;
}

HloInstr *px_unary(PxAt at, HloOpcode op, HloInstr *x) {
  HloError *e = NULL;
  return px_built(hlo_build_unary(at.c, op, x, &e), e, at.before);
}

HloInstr *px_binary(PxAt at, HloOpcode op, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return px_built(hlo_build_binary(at.c, op, a, b, &e), e, at.before);
}

HloInstr *px_compare(PxAt at, HloCompareDir dir, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return px_built(hlo_build_compare(at.c, dir, a, b, &e), e, at.before);
}

HloInstr *px_select(PxAt at, HloInstr *p, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return px_built(hlo_build_ternary(at.c, HLO_OP_SELECT, p, a, b, &e), e, at.before);
}

bool px_moves_complex(const HloInstr *x) {
  switch (x->op) {
  case HLO_OP_COMPLEX: return true;
  case HLO_OP_TRANSPOSE: case HLO_OP_RESHAPE: case HLO_OP_BROADCAST: case HLO_OP_COPY:
  case HLO_OP_SLICE: case HLO_OP_REVERSE:
    return hlo_type_is_complex(x->operands[0]->shape.type);
  default: return false;
  }
}

HloInstr *px_complex_part(PxAt at, HloInstr *x, bool imag) {
  if (x->op == HLO_OP_COMPLEX) return x->operands[imag];
  if (!px_moves_complex(x)) return px_unary(at, imag ? HLO_OP_IMAG : HLO_OP_REAL, x);
  HloInstr *p = px_complex_part(at, x->operands[0], imag);
  HloInstr *k = hlo_instr_clone(at.c, x, &p, 1);
  k->shape.type = hlo_complex_part_type(x->shape.type);
  if (at.before) hlo_instr_move_before(k, at.before);
  return k;
}

HloInstr *px_convert(PxAt at, HloInstr *x, HloType t) {
  if (x->shape.type == t) return x;
  HloError *e = NULL;
  return px_built(hlo_build_convert(at.c, x, t, &e), e, at.before);
}

HloInstr *px_reshape(PxAt at, HloInstr *x, int rank, const int64_t *dims) {
  HloError *e = NULL;
  return px_built(hlo_build_reshape(at.c, x, rank, dims, &e), e, at.before);
}

HloInstr *px_transpose_minor(PxAt at, HloInstr *x) {
  int r = x->shape.rank;
  int64_t perm[HLO_MAX_RANK];
  for (int d = 0; d < r; d++) perm[d] = d;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  HloError *e = NULL;
  return px_built(hlo_build_transpose(at.c, x, perm, &e), e, at.before);
}

HloInstr *px_iota_like(PxAt at, const HloInstr *x, int dim) {
  HloShape s = hlo_shape_array(HLO_S32, x->shape.rank, x->shape.dims);
  HloError *e = NULL;
  return px_built(hlo_build_iota(at.c, &s, dim, &e), e, at.before);
}

HloInstr *px_broadcast_leading(PxAt at, HloInstr *x, const HloShape *shape) {
  HloShape s = hlo_shape_array(x->shape.type, shape->rank, shape->dims);
  int64_t dims[HLO_MAX_RANK];
  for (int d = 0; d < x->shape.rank; d++) dims[d] = d;
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(at.c, x, &s, dims, x->shape.rank, &e), e, at.before);
}

HloInstr *px_scalar(PxAt at, HloType t, double v, const HloShape *shape) {
  HloShape s = hlo_shape_scalar(t);
  HloInstr *k = px_constant_splat(at.c, &s, v, at.before);
  return shape && shape->rank ? px_broadcast_leading(at, k, shape) : k;
}

void px_loop_begin(PxLoop *l, HloModule *m, const char *name, HloInstr *const *init, int n) {
  HLO_CHECK(n >= 1 && n <= PX_LOOP_MAX_STATE);
  HloShape elems[PX_LOOP_MAX_STATE + 1];
  elems[0] = hlo_shape_scalar(HLO_S32);
  for (int k = 0; k < n; k++) elems[k + 1] = init[k]->shape;
  HloShape ts = hlo_shape_tuple(m->arena, n + 1, elems);
  l->body = hlo_computation_new(m, name);
  hlo_computation_move_first(l->body);
  l->n = n;
  HloInstr *p = hlo_parameter_new(l->body, 0, &ts, "state");
  HloError *e = NULL;
  l->i = px_built(hlo_build_get_tuple_element(l->body, p, 0, &e), e, NULL);
  for (int k = 0; k < n; k++)
    l->state[k] = px_built(hlo_build_get_tuple_element(l->body, p, k + 1, &e), e, NULL);
}

void px_loop_end(PxLoop *l, HloInstr *const *init, HloInstr *const *next, int64_t trips,
                 PxAt at, HloInstr **results) {
  HloModule *m = l->body->module;
  HloError *e = NULL;
  PxAt in_body = {l->body, NULL};
  HloInstr *xs[PX_LOOP_MAX_STATE + 1];
  xs[0] = px_binary(in_body, HLO_OP_ADD, l->i, px_scalar(in_body, HLO_S32, 1, NULL));
  for (int k = 0; k < l->n; k++) xs[k + 1] = next[k];
  hlo_set_root(l->body, px_built(hlo_build_tuple(l->body, xs, l->n + 1, &e), e, NULL));

  HloShape ts = l->body->params[0]->shape;
  HloComputation *cond = hlo_computation_new(m, "loop_condition");
  hlo_computation_move_first(cond);
  PxAt in_cond = {cond, NULL};
  HloInstr *p = hlo_parameter_new(cond, 0, &ts, "state");
  HloInstr *i = px_built(hlo_build_get_tuple_element(cond, p, 0, &e), e, NULL);
  hlo_set_root(cond, px_compare(in_cond, HLO_CMP_LT, i,
                                px_scalar(in_cond, HLO_S32, (double)trips, NULL)));

  xs[0] = px_scalar(at, HLO_S32, 0, NULL);
  for (int k = 0; k < l->n; k++) xs[k + 1] = init[k];
  HloInstr *t = px_built(hlo_build_tuple(at.c, xs, l->n + 1, &e), e, at.before);
  HloInstr *w = hlo_instr_new(at.c, HLO_OP_WHILE, &ts, &t, 1, "loop");
  HloComputation *called[2] = {cond, l->body};
  hlo_instr_set_called(w, called, 2);
  if (at.before) hlo_instr_move_before(w, at.before);
  for (int k = 0; k < l->n; k++)
    results[k] = px_built(hlo_build_get_tuple_element(at.c, w, k + 1, &e), e, at.before);
}

int64_t px_shape_bytes(const HloShape *s) {
  if (s->type == HLO_TUPLE) {
    int64_t b = 0;
    for (int i = 0; i < s->ntuple; i++) b += px_shape_bytes(&s->tuple[i]);
    return b;
  }
  if (!hlo_type_is_array(s->type)) return 0;
  return (int64_t)hlo_shape_byte_size(s);
}

static HloInstr *plain_rewrite(HloInstr *in, const void *rewrite) {
  return (*(HloInstr *(*const *)(HloInstr *))rewrite)(in);
}

bool px_rewrite_each(HloModule *m, bool with_applied, HloInstr *(*rewrite)(HloInstr *)) {
  return px_rewrite_each_with(m, with_applied, plain_rewrite, &rewrite);
}

bool px_rewrite_each_with(HloModule *m, bool with_applied,
                          HloInstr *(*rewrite)(HloInstr *, const void *ctx), const void *ctx) {
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, with_applied, &nc);
  for (int ci = 0; ci < nc; ci++) {
    int n;
    HloInstr **order = hlo_post_order(comps[ci], &n);
    for (int i = 0; i < n; i++) {
      HloInstr *in = order[i];
      if (!px_is_linked(in)) continue;
      HloInstr *r = rewrite(in, ctx);
      if (!r || r == in) continue;
      px_replace(in, r);
      changed = true;
    }
    free(order);
  }
  free(comps);
  return changed;
}

bool px_dims_equal(const HloDims *a, const HloDims *b) {
  return a->n == b->n &&
         (a->n == 0 || !memcmp(a->v, b->v, sizeof(int64_t) * (size_t)a->n));
}

int px_call_count(const HloModule *m, const HloComputation *c) {
  int n = 0;
  for (const HloComputation *k = m->first; k; k = k->next)
    for (const HloInstr *in = k->first; in; in = in->next)
      for (int j = 0; j < in->ncalled; j++) n += in->called[j] == c;
  return n;
}

HloInstr **px_whiles(const HloComputation *c, int *n) {
  *n = 0;
  for (HloInstr *in = c->first; in; in = in->next) *n += in->op == HLO_OP_WHILE;
  if (!*n) return NULL;
  HloInstr **whiles = hlo_xmalloc(sizeof(HloInstr *) * (size_t)*n);
  int k = 0;
  for (HloInstr *in = c->first; in; in = in->next)
    if (in->op == HLO_OP_WHILE) whiles[k++] = in;
  return whiles;
}

void px_replace_while(HloInstr *w, HloInstr *nw, const int *map) {
  HloComputation *c = w->parent;
  HloInstr *init = w->operands[0];
  int n = w->shape.ntuple, nusers = w->nusers;
  HloError *err = NULL;
  HloInstr **users = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(nusers ? nusers : 1));
  if (nusers) memcpy(users, w->users, sizeof(HloInstr *) * (size_t)nusers);
  for (int u = 0; u < nusers; u++) {
    HloInstr *g = users[u];
    if (g->op != HLO_OP_GET_TUPLE_ELEMENT) continue;
    int i = (int)g->tuple_index;
    if (map && map[i] < 0) {
      /* Not px_replace: its sweep would unlink w with its last user. */
      hlo_replace_all_uses(g, init->operands[i]);
      hlo_instr_remove(g);
    } else {
      hlo_set_operand(g, 0, nw);
      g->tuple_index = map ? map[i] : i;
    }
  }
  free(users);
  if (w->nusers || c->root == w) {
    HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
      if (map && map[i] < 0) {
        ops[i] = init->operands[i];
        continue;
      }
      ops[i] = px_built(hlo_build_get_tuple_element(c, nw, map ? map[i] : i, &err), err, w);
      ops[i]->shape = w->shape.tuple[i];
    }
    HloInstr *whole = px_built(hlo_build_tuple(c, ops, n, &err), err, w);
    whole->shape = w->shape;
    hlo_replace_all_uses(w, whole);
    free(ops);
  }
  hlo_instr_remove(w);
  px_remove_if_dead(init);
}
