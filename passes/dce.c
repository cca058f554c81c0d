/*
 * dce.c — dead code elimination: instructions nothing uses, and
 * computations nothing calls.
 *
 * requires: a verified module.
 * keeps:    every computation's root and parameters (a computation's
 *           signature is its callers' business), custom-calls (opaque, may
 *           have effects), the entry.
 * breaks:   nothing.
 */
#include <stdlib.h>

#include "internal.h"

/* Walking a post order backwards visits users before operands, so one sweep
 * removes whole dead chains. */
static bool sweep(HloComputation *c) {
  int n;
  HloInstr **order = hlo_post_order(c, &n);
  bool changed = false;
  for (int i = n - 1; i >= 0; i--) {
    HloInstr *in = order[i];
    if (in->nusers || c->root == in || px_has_side_effect(in)) continue;
    hlo_instr_remove(in);
    changed = true;
  }
  free(order);
  return changed;
}

/* A computation and its position in the module's list. */
typedef struct {
  const HloComputation *c;
  int pos;
} CompPos;

static int comp_pos_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)((const CompPos *)a)->c, y = (uintptr_t)((const CompPos *)b)->c;
  return (x > y) - (x < y);
}

bool pass_dce(HloModule *m) {
  bool changed = false;
  for (HloComputation *c = m->first; c; c = c->next) changed |= sweep(c);

  /* Computations reachable from the entry through called lists, each
   * walked once when it is found live. */
  int n = 0;
  for (HloComputation *c = m->first; c; c = c->next) n++;
  HloComputation **list = hlo_xmalloc(sizeof(HloComputation *) * (size_t)(n ? n : 1));
  bool *live = hlo_xcalloc((size_t)(n ? n : 1), sizeof(bool));
  int *work = hlo_xmalloc(sizeof(int) * (size_t)(n ? n : 1));
  int k = 0, nwork = 0;
  for (HloComputation *c = m->first; c; c = c->next) list[k++] = c;
  /* Callees found by address, not by scanning the list per call site. */
  CompPos *by_addr = hlo_xmalloc(sizeof *by_addr * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    by_addr[i] = (CompPos){list[i], i};
    if (list[i] == m->entry) live[work[nwork++] = i] = true;
  }
  qsort(by_addr, (size_t)n, sizeof *by_addr, comp_pos_cmp);
  while (nwork) {
    for (HloInstr *in = list[work[--nwork]]->first; in; in = in->next)
      for (int j = 0; j < in->ncalled; j++) {
        CompPos key = {in->called[j], 0};
        const CompPos *hit = bsearch(&key, by_addr, (size_t)n, sizeof *by_addr, comp_pos_cmp);
        if (hit && !live[hit->pos]) live[work[nwork++] = hit->pos] = true;
      }
  }
  for (int i = 0; i < n; i++) {
    if (live[i]) continue;
    hlo_computation_remove(list[i]);
    changed = true;
  }
  free(by_addr);
  free(work);
  free(live);
  free(list);
  return changed;
}
