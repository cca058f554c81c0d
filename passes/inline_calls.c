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

static HloInstr *inline_call(HloInstr *call) {
  if (call->op != HLO_OP_CALL) return NULL;
  return px_clone_computation(call->parent, call->called[0], call->operands, call);
}

/* Callees first: a callee's own calls are inlined before it is copied.  Calls
 * in applied computations (a sort comparator, a reducer) are inlined too:
 * their kernels are elemental and have no call. */
bool pass_inline_calls(HloModule *m) { return px_rewrite_each(m, true, inline_call); }
