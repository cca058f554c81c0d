/*
 * tuple_simplify.c — get-tuple-element of a tuple is the tuple's operand;
 * a tuple that reassembles every element of one tuple value, in order, is
 * that value.
 *
 * requires: a verified module.
 * keeps:    shapes of every remaining instruction.
 * breaks:   nothing; the tuples left unused are unlinked.
 */
#include <stdlib.h>

#include "internal.h"

/* tuple(gte(x,0), …, gte(x,n-1)) with x of n elements: returns x. */
static HloInstr *reassembled(const HloInstr *t) {
  if (t->noperands == 0) return NULL;
  HloInstr *src = NULL;
  for (int i = 0; i < t->noperands; i++) {
    const HloInstr *g = t->operands[i];
    if (g->op != HLO_OP_GET_TUPLE_ELEMENT || g->tuple_index != i) return NULL;
    if (src && g->operands[0] != src) return NULL;
    src = g->operands[0];
  }
  return src->shape.ntuple == t->noperands ? src : NULL;
}

static HloInstr *simplify(HloInstr *in) {
  if (in->op == HLO_OP_GET_TUPLE_ELEMENT && in->operands[0]->op == HLO_OP_TUPLE)
    return in->operands[0]->operands[in->tuple_index];
  return in->op == HLO_OP_TUPLE ? reassembled(in) : NULL;
}

bool pass_tuple_simplify(HloModule *m) { return px_rewrite_each(m, true, simplify); }
