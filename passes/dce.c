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

bool pass_dce(HloModule *m) {
  bool changed = false;
  for (HloComputation *c = m->first; c; c = c->next) changed |= sweep(c);

  /* Computations reachable from the entry through called lists; the module
   * lists callees first, so walking it backwards marks callers first. */
  int n = 0;
  for (HloComputation *c = m->first; c; c = c->next) n++;
  HloComputation **list = hlo_xmalloc(sizeof(HloComputation *) * (size_t)(n ? n : 1));
  bool *live = hlo_xcalloc((size_t)(n ? n : 1), sizeof(bool));
  int k = 0;
  for (HloComputation *c = m->first; c; c = c->next) list[k++] = c;
  bool grew = true;
  while (grew) {
    grew = false;
    for (int i = n - 1; i >= 0; i--) {
      if (list[i] == m->entry && !live[i]) live[i] = grew = true;
      if (!live[i]) continue;
      for (HloInstr *in = list[i]->first; in; in = in->next)
        for (int j = 0; j < in->ncalled; j++)
          for (int t = 0; t < n; t++)
            if (list[t] == in->called[j] && !live[t]) live[t] = grew = true;
    }
  }
  for (int i = 0; i < n; i++) {
    if (live[i]) continue;
    hlo_computation_remove(list[i]);
    changed = true;
  }
  free(live);
  free(list);
  return changed;
}
