/*
 * constant_fold.c — an instruction whose operands are all constants is
 * replaced by the constant the evaluator computes for it.
 *
 * The evaluator is the oracle of every test, so folding through it cannot
 * disagree with the reference semantics.  Each candidate is copied, with
 * its constant operands, into a scratch module of one computation and
 * evaluated there (called computations are shared, not copied).  A
 * broadcast of a constant counts as a constant operand: it is how scalars
 * (epsilon, 1/n) appear next to per-feature vectors.
 *
 * What is not folded, and why:
 *   - iota and broadcast: they are cheap to regenerate inside a fusion and
 *     folding them would turn a scalar into a big literal in the binary;
 *   - results over PASS_FOLD_MAX_BYTES, unless the op only moves or narrows
 *     its operand (transpose, reshape, slice, reverse, convert, copy) — so
 *     transposed or reshaped weights are folded whatever their size;
 *   - anything reading a broadcast over PASS_FOLD_MAX_BYTES: evaluating it
 *     would build the broadcast in memory (a slice of 10,000 elements of a
 *     broadcast of 10^9 took 4 GB and 25 s);
 *   - control flow, custom-calls, tuples (nothing to gain, or opaque);
 *   - results with a dynamic dimension (<=N): a constant has one size,
 *     and the evaluator's value has the run-time one, not the bound;
 *   - instructions the evaluator rejects (the error is dropped: the
 *     instruction simply stays).
 * A reshape of a constant (default layouts) is not evaluated: its constant
 * shares the operand's bytes, which are already its elements in order.
 *
 * requires: a verified module.
 * keeps:    shapes and layouts of the replaced instructions.
 * breaks:   nothing.
 */
#include <stdlib.h>

#include "internal.h"

static bool foldable_op(HloOpcode op) {
  switch (op) {
  case HLO_OP_PARAMETER:
  case HLO_OP_CONSTANT:
  case HLO_OP_IOTA:
  case HLO_OP_BROADCAST:
  case HLO_OP_TUPLE:
    return false;
  default:
    return op == HLO_OP_FUSION || hlo_opcode_kind(op) != HLO_KIND_CONTROL;
  }
}

static bool rearranges(HloOpcode op) {
  return op == HLO_OP_TRANSPOSE || op == HLO_OP_RESHAPE || op == HLO_OP_SLICE ||
         op == HLO_OP_REVERSE || op == HLO_OP_CONVERT || op == HLO_OP_COPY ||
         op == HLO_OP_BITCAST;
}

static bool worth_folding(const HloInstr *in) {
  if (!foldable_op(in->op) || !hlo_type_is_array(in->shape.type) || in->noperands == 0 ||
      hlo_shape_is_dynamic(&in->shape))
    return false;
  for (int i = 0; i < in->noperands; i++) {
    const HloInstr *o = in->operands[i];
    if (!px_is_constant_like(o)) return false;
    if (o->op == HLO_OP_BROADCAST && px_shape_bytes(&o->shape) > PASS_FOLD_MAX_BYTES)
      return false;
  }
  int64_t bytes = px_shape_bytes(&in->shape);
  if (bytes <= PASS_FOLD_MAX_BYTES) return true;
  return rearranges(in->op) && bytes <= px_shape_bytes(&in->operands[0]->shape);
}

/* The value of `in`, or NULL when the evaluator cannot compute it. */
static HloLiteral *evaluate_alone(const HloInstr *in) {
  HloModule *scratch = hlo_module_new("fold");
  HloComputation *c = hlo_computation_new(scratch, "fold");
  hlo_module_set_entry(scratch, c);
  HloInstr *ops[in->noperands];
  for (int i = 0; i < in->noperands; i++) {
    const HloInstr *o = in->operands[i];
    if (o->op == HLO_OP_BROADCAST) {
      HloInstr *k = hlo_constant_new(c, o->operands[0]->literal, NULL);
      ops[i] = hlo_instr_clone(c, o, &k, 1);
    } else {
      ops[i] = hlo_constant_new(c, o->literal, NULL);
    }
  }
  HloInstr *copy = hlo_instr_clone(c, in, ops, in->noperands);
  hlo_set_root(c, copy);
  HloLiteral *out = NULL;
  HloError *e = hlo_evaluate_computation(c, NULL, 0, &out);
  hlo_module_free(scratch);
  if (e) {
    hlo_error_free(e);
    return NULL;
  }
  return out;
}

/* The reshape `in` of a constant, both in the default layout, as a literal
 * sharing the constant's bytes (the same elements in the same order), or
 * NULL.  A model's reshaped weights (BERT's attention heads) are then not
 * held twice until the pass ends. */
static HloLiteral *reshaped_in_place(const HloInstr *in) {
  const HloInstr *o = in->operands[0];
  if (in->op != HLO_OP_RESHAPE || o->op != HLO_OP_CONSTANT ||
      !hlo_shape_has_default_layout(&in->shape) || !hlo_shape_has_default_layout(&o->shape))
    return NULL;
  HloLiteral *l = hlo_arena_alloc(in->parent->module->arena, sizeof *l);
  l->shape = in->shape;
  l->data = o->literal->data;
  return l;
}

static HloInstr *fold(HloInstr *in) {
  if (!worth_folding(in)) return NULL;
  HloComputation *c = in->parent;
  HloLiteral *shared = reshaped_in_place(in);
  if (shared) {
    HloInstr *k = hlo_constant_new(c, shared, "constant");
    k->shape = in->shape;
    hlo_instr_move_before(k, in);
    return k;
  }
  HloLiteral *value = evaluate_alone(in);
  if (!value) return NULL;
  HloInstr *k = hlo_constant_new(c, hlo_literal_clone_in(c->module->arena, value), "constant");
  hlo_literal_free(value);
  k->shape = in->shape; /* keep the layout the literal does not carry */
  hlo_instr_move_before(k, in);
  return k;
}

bool pass_constant_fold(HloModule *m) { return px_rewrite_each(m, false, fold); }
