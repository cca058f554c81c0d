/*
 * indexing.c — how an instruction reads its operands, as a function of the
 * output index it computes: XLA's indexing analysis, in the form hloc's
 * passes and emitters need it.  One analysis, so that fusion (what a
 * kernel would recompute), multi-output fusion, buffer assignment (what
 * may be overwritten in place) and codegen (what is hoisted, which rows
 * are swept in order) agree on it.
 *
 * Per operand (hlo_operand_map): which output dim each operand dim follows
 * (a broadcast's or transpose's dims, a reduce's kept dims; -1 where the
 * operand index is not one output index: reduced, windowed, computed from
 * data or arithmetic), whether the read is at the output's own index
 * (elementwise ops, reshapes that keep the dims), whether an operand
 * element may be read for several output elements, and whether some may
 * be read for none.
 *
 * Per fused computation: the instruction its kernel loops over (the root,
 * or what a renaming reshape at the root renames), the members read only
 * at the loop nest's own index, the loop-prefix lengths each member is
 * read with — a member of rank r read with prefix r is the same for every
 * iteration of the inner loops, which codegen exploits by computing it
 * once at that depth — and the members read only in part.  Each is one
 * walk of the computation, users first.
 *
 * Reads under a condition (pad, concatenate, dynamic-update-slice) map to
 * -1: they are not evaluated for every output element, so nothing may be
 * hoisted through them.
 */
#include <stdlib.h>
#include <string.h>

#include "hlo.h"

static bool contains(const HloDims *d, int64_t v) {
  for (int i = 0; i < d->n; i++)
    if (d->v[i] == v) return true;
  return false;
}

/* Some window overlaps its neighbour, or stretches the input: an input
 * element is read by several outputs. */
static bool windows_overlap(const HloInstr *rw) {
  for (int d = 0; d < rw->shape.rank; d++) {
    const HloWindowDim *w = &rw->window[d];
    if (w->size > 1 && (w->rhs_dilate != 1 || w->lhs_dilate != 1 || w->stride < w->size))
      return true;
  }
  return false;
}

HloOperandMap hlo_operand_map(const HloInstr *u, int i) {
  const HloShape *in = &u->operands[i]->shape, *out = &u->shape;
  HloOperandMap m = {.rank = in->rank};
  for (int d = 0; d < in->rank; d++) m.from[d] = -1;
  if (!hlo_type_is_array(in->type) || !hlo_type_is_array(out->type)) {
    m.expands = true;
    return m;
  }
  if (in->rank == 0) {
    m.identity = out->rank == 0;
    m.expands = hlo_shape_elements(out) > 1;
    return m;
  }
  bool same = hlo_shape_same_dims(in, out);
  if (same && (hlo_opcode_is_elementwise(u->op) || hlo_instr_is_reshape(u))) {
    m.identity = true;
    for (int d = 0; d < in->rank; d++) m.from[d] = (int8_t)d;
    return m;
  }
  switch (u->op) {
  case HLO_OP_BROADCAST:
    for (int d = 0; d < in->rank; d++) m.from[d] = (int8_t)u->dimensions.v[d];
    m.expands = hlo_shape_elements(out) > hlo_shape_elements(in);
    break;
  case HLO_OP_TRANSPOSE:
    for (int d = 0; d < out->rank; d++) m.from[u->dimensions.v[d]] = (int8_t)d;
    break;
  case HLO_OP_REDUCE:
    if (i < u->noperands / 2)
      for (int d = 0, k = 0; d < in->rank; d++)
        if (!contains(&u->dimensions, d)) m.from[d] = (int8_t)k++;
    break;
  case HLO_OP_REDUCE_WINDOW:
    m.expands = i < u->noperands / 2 && windows_overlap(u);
    break;
  case HLO_OP_SLICE:
  case HLO_OP_DYNAMIC_SLICE:
    m.partial = i == 0;
    break;
  case HLO_OP_GATHER:
    m.expands = true;
    m.partial = i == 0;
    break;
  case HLO_OP_RESHAPE: case HLO_OP_BITCAST: case HLO_OP_DYNAMIC_UPDATE_SLICE:
  case HLO_OP_CONCATENATE: case HLO_OP_PAD: case HLO_OP_REVERSE:
    break;
  default:
    /* Contractions, gathers and what runs computations: an operand
     * element may feed any number of outputs. */
    m.expands = true;
    break;
  }
  return m;
}

int hlo_operand_prefix(const HloOperandMap *m, int p) {
  int k = 0;
  while (k < m->rank && k < p && m->from[k] == k) k++;
  return k;
}

bool hlo_reads_at_own_index(const HloInstr *u, const HloInstr *x) {
  bool any = false;
  for (int j = 0; j < u->noperands; j++) {
    if (u->operands[j] != x) continue;
    if (!hlo_operand_map(u, j).identity) return false;
    any = true;
  }
  return any;
}

/* Renames the row-major elements of its operand, both in default layout. */
static bool is_view(const HloInstr *x) {
  return hlo_instr_is_reshape(x) && hlo_type_is_array(x->shape.type) &&
         hlo_shape_has_default_layout(&x->shape) &&
         hlo_shape_has_default_layout(&x->operands[0]->shape);
}

const HloInstr *hlo_fused_nest_root(const HloComputation *fc) {
  const HloInstr *r = fc->root;
  while (is_view(r)) r = r->operands[0];
  return r;
}

bool *hlo_fused_at_nest_index(const HloComputation *fc) {
  int n;
  HloInstr **order = hlo_post_order(fc, &n);
  bool *at = hlo_xcalloc((size_t)fc->module->next_id, sizeof *at);
  const HloInstr *root = fc->root;
  /* The outputs: a tuple root's operands when all have the same dims (one
   * nest), else the nest root and the views above it. */
  if (root->op == HLO_OP_TUPLE) {
    bool one = root->noperands > 0;
    for (int k = 0; one && k < root->noperands; k++)
      one = hlo_type_is_array(root->operands[k]->shape.type) &&
            hlo_shape_same_dims(&root->operands[k]->shape, &root->operands[0]->shape);
    for (int k = 0; one && k < root->noperands; k++) at[root->operands[k]->id] = true;
  } else if (hlo_type_is_array(root->shape.type)) {
    for (const HloInstr *r = root;; r = r->operands[0]) {
      at[r->id] = true;
      if (!is_view(r)) break;
    }
  }
  /* Users first: a member is at the nest index when every use of it is, by
   * an identity map, of a member that is. */
  for (int i = n - 1; i >= 0; i--) {
    const HloInstr *x = order[i];
    if (at[x->id]) continue;
    bool ok = x->nusers > 0;
    for (int u = 0; u < x->nusers && ok; u++) {
      const HloInstr *y = x->users[u];
      ok = at[y->id] && y->op != HLO_OP_TUPLE && hlo_reads_at_own_index(y, x);
    }
    at[x->id] = ok;
  }
  free(order);
  return at;
}

uint16_t *hlo_fused_prefixes(const HloComputation *fc, const HloInstr *const *roots,
                             int nroots) {
  int n;
  HloInstr **order = hlo_post_order(fc, &n);
  uint16_t *pfx = hlo_xcalloc((size_t)fc->module->next_id, sizeof *pfx);
  for (int k = 0; k < nroots; k++)
    pfx[roots[k]->id] |= (uint16_t)(1u << roots[k]->shape.rank);
  for (int i = n - 1; i >= 0; i--) {
    const HloInstr *u = order[i];
    for (int p = 0; p <= HLO_MAX_RANK; p++) {
      if (!(pfx[u->id] >> p & 1)) continue;
      for (int j = 0; j < u->noperands; j++) {
        HloOperandMap m = hlo_operand_map(u, j);
        pfx[u->operands[j]->id] |= (uint16_t)(1u << hlo_operand_prefix(&m, p));
      }
    }
  }
  free(order);
  return pfx;
}

bool *hlo_fused_partial_params(const HloComputation *fc) {
  int n;
  HloInstr **order = hlo_post_order(fc, &n);
  HloInstrIndex *pos = hlo_instr_index_new(order, n);
  bool *partial = hlo_xcalloc((size_t)(n ? n : 1), sizeof *partial);
  /* Users first, so each member is decided once: linear in the edges. */
  for (int i = n - 1; i >= 0; i--) {
    const HloInstr *x = order[i];
    for (int u = 0; u < x->nusers && !partial[i]; u++) {
      const HloInstr *y = x->users[u];
      int yi = hlo_instr_index_find(pos, y);
      if (yi >= 0 && partial[yi]) partial[i] = true;
      for (int j = 0; j < y->noperands; j++)
        if (y->operands[j] == x && hlo_operand_map(y, j).partial) partial[i] = true;
    }
  }
  bool *params = hlo_xcalloc((size_t)(fc->nparams ? fc->nparams : 1), sizeof *params);
  for (int k = 0; k < fc->nparams; k++) {
    int pi = fc->params[k] ? hlo_instr_index_find(pos, fc->params[k]) : -1;
    params[k] = pi >= 0 && partial[pi];
  }
  hlo_instr_index_free(pos);
  free(partial);
  free(order);
  return params;
}
