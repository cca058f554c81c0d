/*
 * multi_output_fusion.c — merges sibling kernels (fusions, and the lone
 * reduces and elementwise ops fusion left) that read a common operand into
 * one fusion whose root is a tuple of both results, so the shared operand
 * is read from memory once (two reductions of the same activation, or two
 * elementwise maps of it, become one pass over it).
 *
 * Siblings merge only when they can share a loop: both kLoop with results
 * of the same dims, or both kInput whose reductions read inputs of the same
 * dims and reduce the same dimensions; and only when neither depends on the
 * other (a path between them would make the merged fusion its own operand).
 * Users of a merged fusion read their part through get-tuple-element.
 *
 * Siblings that read only slices of a common operand (an unrolled loop's
 * time steps) do not merge: they share no reads, and merged their results
 * would all be live at once.
 *
 * Producer and consumer merge too, where the backend's policy says a
 * reduction kernel can write out a producer (reductions_write_producers):
 * a loop fusion (or a lone elementwise op) whose result a reduction (a
 * plain reduce or an input fusion) reduces row by row (its trailing dims),
 * but which other kernels also read, is computed inside the reduction's
 * kernel, which writes it out as a second result as its loop computes
 * each element, so one pass over the data replaces two.
 *
 * Whether a kernel reads all of an operand is hlo/'s indexing analysis
 * (hlo_fused_partial_reads), one walk per fused computation.
 *
 * requires: a verified module after pass_fusion.
 * keeps:    values.
 * breaks:   nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const HloInstr *first_reduce(const HloComputation *fc) {
  for (const HloInstr *in = fc->first; in; in = in->next)
    if (in->op == HLO_OP_REDUCE) return in;
  return NULL;
}

/* Dims of the loop a fusion runs: the root's (first element's) dims. */
static const HloShape *loop_shape(const HloInstr *f) {
  const HloShape *s = &f->shape;
  return s->type == HLO_TUPLE ? &s->tuple[0] : s;
}

/* The kind of kernel x runs as, or -1 for what is never merged: fusions,
 * and the reduces and elementwise ops fusion left alone, which are kernels
 * all the same. */
static int kernel_kind(const HloInstr *x) {
  if (x->op == HLO_OP_FUSION) return (int)x->fusion_kind;
  if (!hlo_type_is_array(x->shape.type)) return -1;
  if (x->op == HLO_OP_REDUCE && x->noperands == 2) return HLO_FUSION_INPUT;
  return hlo_opcode_is_elementwise(x->op) ? HLO_FUSION_LOOP : -1;
}

/* The reduce a reduction kernel (plain reduce or input fusion) runs. */
static const HloInstr *reduction_of(const HloInstr *r) {
  if (r->op == HLO_OP_REDUCE && r->noperands == 2 && hlo_type_is_array(r->shape.type)) return r;
  if (r->op != HLO_OP_FUSION || r->fusion_kind != HLO_FUSION_INPUT) return NULL;
  return first_reduce(r->called[0]);
}

static bool compatible(const HloInstr *a, const HloInstr *b) {
  int ka = kernel_kind(a);
  if (ka < 0 || ka != kernel_kind(b)) return false;
  if (ka == HLO_FUSION_LOOP) return hlo_shape_same_dims(loop_shape(a), loop_shape(b));
  if (ka != HLO_FUSION_INPUT) return false;
  const HloInstr *ra = reduction_of(a), *rb = reduction_of(b);
  if (!ra || !rb) return false;
  return hlo_shape_same_dims(&ra->operands[0]->shape, &rb->operands[0]->shape) &&
         px_dims_equal(&ra->dimensions, &rb->dimensions) &&
         hlo_shape_same_dims(loop_shape(a), loop_shape(b));
}

/* Is `to` reachable from `from` through users? */
static bool reaches(const HloInstr *from, const HloInstr *to, uint8_t *seen, int64_t nids) {
  memset(seen, 0, (size_t)nids);
  const HloInstr **stack = hlo_xmalloc(sizeof(HloInstr *) * (size_t)nids);
  int sp = 0;
  stack[sp++] = from;
  bool found = false;
  while (sp && !found) {
    const HloInstr *x = stack[--sp];
    for (int i = 0; i < x->nusers; i++) {
      const HloInstr *u = x->users[i];
      if (u == to) found = true;
      if (!seen[u->id]) {
        seen[u->id] = 1;
        stack[sp++] = u;
      }
    }
  }
  free(stack);
  return found;
}

/* Kernel f reads every element of its operand i (not only a slice of it,
 * which a sibling may not read at all). */
static bool reads_whole(const HloInstr *f, int i) {
  if (f->op != HLO_OP_FUSION) return true;
  const HloComputation *fc = f->called[0];
  bool *partial = hlo_fused_partial_reads(fc);
  bool whole = !partial[fc->params[i]->id];
  free(partial);
  return whole;
}

/* a and b both read all of some operand: merged, they read it once. */
static bool shares_operand(const HloInstr *a, const HloInstr *b) {
  for (int i = 0; i < a->noperands; i++) {
    const HloInstr *o = a->operands[i];
    if (o->op == HLO_OP_CONSTANT || !reads_whole(a, i)) continue;
    for (int j = 0; j < b->noperands; j++)
      if (b->operands[j] == o && reads_whole(b, j)) return true;
  }
  return false;
}

/* Copies f (a fusion's body, or f itself) into fc, its operands being
 * params[j] where ops[j] is the operand, or `inner` where it is `produced`;
 * appends its results to roots. */
static void copy_body(HloComputation *fc, const HloInstr *f, HloInstr **params,
                      HloInstr *const *ops, int nops, const HloInstr *produced, HloInstr *inner,
                      HloInstr **roots, int *nroots) {
  HloInstr *args[f->noperands ? f->noperands : 1];
  for (int i = 0; i < f->noperands; i++) {
    if (f->operands[i] == produced) args[i] = inner;
    for (int j = 0; j < nops; j++)
      if (ops[j] == f->operands[i]) args[i] = params[j];
  }
  HloInstr *r = f->op == HLO_OP_FUSION ? px_clone_computation(fc, f->called[0], args, NULL)
                                       : hlo_instr_clone(fc, f, args, f->noperands);
  if (r->op != HLO_OP_TUPLE) {
    roots[(*nroots)++] = r;
    return;
  }
  for (int i = 0; i < r->noperands; i++) roots[(*nroots)++] = r->operands[i];
  hlo_instr_remove(r);
}

/* Replaces fusion f (results [first, first+k) of merged) by its part. */
static void reroute(HloInstr *f, HloInstr *merged, int first) {
  HloComputation *c = f->parent;
  HloInstr *after = merged->next; /* parts are listed right after merged */
  HloError *e = NULL;
  if (f->shape.type != HLO_TUPLE) {
    px_replace(f, px_built(hlo_build_get_tuple_element(c, merged, first, &e), e, after));
    return;
  }
  HloInstr *parts[f->shape.ntuple];
  for (int i = 0; i < f->shape.ntuple; i++)
    parts[i] = px_built(hlo_build_get_tuple_element(c, merged, first + i, &e), e, after);
  HloInstr *t = px_built(hlo_build_tuple(c, parts, f->shape.ntuple, &e), e, after);
  hlo_replace_all_uses(f, t);
  px_remove_if_dead(f);
  /* Users that took one element of f now take the part directly. */
  while (t->nusers) {
    HloInstr *u = NULL;
    for (int i = 0; i < t->nusers && !u; i++)
      if (t->users[i]->op == HLO_OP_GET_TUPLE_ELEMENT) u = t->users[i];
    if (!u) break;
    hlo_replace_all_uses(u, parts[u->tuple_index]);
    hlo_instr_remove(u);
  }
  px_remove_if_dead(t);
}

/* Merges a and b into one multi-output fusion of the given kind.  When
 * `produced` is a (a producer b reads), b's reads of it read the copy. */
static void merge(HloInstr *a, HloInstr *b, bool produced, HloFusionKind kind) {
  HloComputation *c = a->parent;
  HloModule *m = c->module;
  int cap = a->noperands + b->noperands;
  HloInstr *ops[cap];
  int nops = 0;
  for (int k = 0; k < 2; k++) {
    const HloInstr *f = k ? b : a;
    for (int i = 0; i < f->noperands; i++) {
      bool dup = produced && f->operands[i] == a;
      for (int j = 0; j < nops; j++) dup |= ops[j] == f->operands[i];
      if (!dup) ops[nops++] = f->operands[i];
    }
  }
  HloComputation *fc = hlo_computation_new(m, "fused_computation");
  fc->is_fusion = true;
  /* Callees first: the new body goes right before a's body (a lone
   * producer has none: then before the computation holding it). */
  hlo_computation_remove(fc);
  HloComputation *before = a->op == HLO_OP_FUSION ? a->called[0] : c;
  fc->next = before;
  fc->prev = before->prev;
  if (before->prev) before->prev->next = fc;
  else m->first = fc;
  before->prev = fc;
  HloInstr *params[nops];
  for (int j = 0; j < nops; j++) {
    char name[32];
    snprintf(name, sizeof name, "param_%d", j);
    params[j] = hlo_parameter_new(fc, j, &ops[j]->shape, name);
  }
  int na = a->shape.type == HLO_TUPLE ? a->shape.ntuple : 1;
  int nb = b->shape.type == HLO_TUPLE ? b->shape.ntuple : 1;
  HloInstr *roots[na + nb];
  int nroots = 0;
  copy_body(fc, a, params, ops, nops, NULL, NULL, roots, &nroots);
  copy_body(fc, b, params, ops, nops, produced ? a : NULL, roots[0], roots, &nroots);
  HloError *e = NULL;
  hlo_set_root(fc, px_built(hlo_build_tuple(fc, roots, nroots, &e), e, NULL));
  HloInstr *merged = hlo_instr_new(c, HLO_OP_FUSION, &fc->root->shape, ops, nops, "fusion");
  merged->fusion_kind = kind;
  merged->metadata = b->metadata;
  hlo_instr_set_called(merged, &fc, 1);
  hlo_instr_move_before(merged, produced ? b : a);
  reroute(b, merged, na);
  reroute(a, merged, 0);
}

/* red reduces the trailing dims of its input into the leading ones. */
static bool reduces_rows(const HloInstr *red) {
  int rank = red->operands[0]->shape.rank, nd = red->dimensions.n;
  for (int i = 0; i < nd; i++)
    if (red->dimensions.v[i] < rank - nd) return false;
  return true;
}

/* Whether a's dims are the leading dims of b's. */
static bool leading_dims(const HloShape *a, const HloShape *b) {
  if (a->rank > b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

/* Does p reach c other than through the edge p → c? */
static bool reaches_around(const HloInstr *p, const HloInstr *c, uint8_t *seen, int64_t nids) {
  for (int i = 0; i < p->nusers; i++)
    if (p->users[i] != c && reaches(p->users[i], c, seen, nids)) return true;
  return false;
}

static bool merge_one(HloComputation *c, const PassPolicy *policy) {
  int64_t nids = c->module->next_id;
  uint8_t *seen = hlo_xmalloc((size_t)nids);
  bool merged = false;
  for (HloInstr *a = c->first; a && !merged; a = a->next) {
    if (kernel_kind(a) < 0 || !a->nusers) continue;
    for (HloInstr *b = a->next; b && !merged; b = b->next) {
      if (!b->nusers || !compatible(a, b) || !shares_operand(a, b)) continue;
      if (reaches(a, b, seen, nids) || reaches(b, a, seen, nids)) continue;
      merge(a, b, false, (HloFusionKind)kernel_kind(a));
      merged = true;
    }
  }
  /* Producer into consumer: a loop fusion with several readers, one of
   * them a reduction of rows of exactly its result. */
  for (HloInstr *r = c->first; r && !merged && policy->reductions_write_producers;
       r = r->next) {
    const HloInstr *red = reduction_of(r);
    if (!red || !reduces_rows(red) || !leading_dims(loop_shape(r), &red->operands[0]->shape))
      continue;
    for (int i = 0; i < r->noperands && !merged; i++) {
      HloInstr *p = r->operands[i];
      if (kernel_kind(p) != HLO_FUSION_LOOP || p->nusers < 2 ||
          p->shape.type == HLO_TUPLE ||
          !hlo_shape_same_dims(&p->shape, &red->operands[0]->shape) ||
          reaches_around(p, r, seen, nids))
        continue;
      merge(p, r, true, HLO_FUSION_INPUT);
      merged = true;
    }
  }
  free(seen);
  return merged;
}

bool pass_multi_output_fusion(HloModule *m, const PassPolicy *policy) {
  static const PassPolicy conservative;
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int i = 0; i < nc; i++)
    while (merge_one(comps[i], policy ? policy : &conservative)) changed = true;
  free(comps);
  return changed;
}
