/*
 * inline_calls.c — replaces every `call` by a copy of the called
 * computation's body, so later passes see (and fuse across) what JAX's
 * nested jits and TF's function calls hid behind call boundaries.
 *
 * requires: a verified module (no recursion, which the verifier rejects).
 * keeps:    the called computations themselves (DCE removes those nothing
 *           calls any more).
 * breaks:   nothing.
 */
#include <stdlib.h>

#include "internal.h"

bool pass_inline_calls(HloModule *m) {
  bool changed = false;
  int nc;
  /* Callees first: a callee's own calls are inlined before it is copied. */
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int ci = 0; ci < nc; ci++) {
    int n;
    HloInstr **order = hlo_post_order(comps[ci], &n);
    for (int i = 0; i < n; i++) {
      HloInstr *call = order[i];
      if (call->op != HLO_OP_CALL) continue;
      HloInstr *root = px_clone_computation(comps[ci], call->called[0], call->operands, call);
      px_replace(call, root);
      changed = true;
    }
    free(order);
  }
  free(comps);
  return changed;
}
