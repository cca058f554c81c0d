/*
 * canonical_forms.c — forms of XLA's HLO that its verifier accepts but
 * codegen has no rule for, rewritten into the standard form of the same
 * op, so that nothing later needs to know them.
 *
 * - select with a pred[] predicate (XLA picks a whole operand): the
 *   predicate is broadcast to the operands' dims.
 * - dynamic-slice and dynamic-update-slice in XLA's older form, one
 *   rank-1 operand holding all the start indices: each entry is sliced out
 *   and reshaped into the scalar operand the standard form takes.
 * - all-to-all without a split dimension of one operand, whose value on
 *   one device is the 1-tuple of its operand: that tuple (the other
 *   collectives are left to single_device.c).
 * - custom-calls of XLA's builder tests (xla_builder.*,
 *   hlo_builder_call): the attached computation inline, parameters
 *   replaced by the operands, or the unary opcode of the math function
 *   the target names (xla_builder.math.Acos: acos, which expand_ops.c
 *   then expands like any other acos), or builder_math.c's HLO for one
 *   that is no opcode (NextAfter), or builder_lib.c's for a function of
 *   XLA's builder library (Einsum, TridiagonalSolver, …).
 * - scaled-dot: a dot of the operands times their scales
 *   (scaled_dot_expand.c).
 *
 * The evaluator reads every one of these forms as written; this pass only
 * spares codegen.  pass_single_device runs it first, so it runs in the
 * pipeline and under --O0 alike.
 *
 * requires: a verified module.
 * keeps:    each replaced instruction's shape and layout.
 * breaks:   nothing; a builder call's computation may be left uncalled (DCE).
 */
#include "internal.h"

static HloInstr *select_scalar_pred(HloInstr *in) {
  HloInstr *p = in->operands[0];
  PxAt at = {in->parent, in};
  HloInstr *wide = px_broadcast_leading(at, p, &in->shape);
  return px_with_layout(px_select(at, wide, in->operands[1], in->operands[2]), &in->shape, in);
}

/* Entry d of the start index vector v as a scalar of v's type. */
static HloInstr *vector_entry(PxAt at, HloInstr *v, int64_t d) {
  HloSliceDim s = {d, d + 1, 1};
  HloError *e = NULL;
  HloInstr *one = px_built(hlo_build_slice(at.c, v, &s, &e), e, at.before);
  int64_t none[1] = {0};
  return px_reshape(at, one, 0, none);
}

static HloInstr *scalar_starts(HloInstr *in) {
  bool update = in->op == HLO_OP_DYNAMIC_UPDATE_SLICE;
  HloInstr *x = in->operands[0], *v = in->operands[update ? 2 : 1];
  PxAt at = {in->parent, in};
  HloInstr *starts[HLO_MAX_RANK];
  for (int d = 0; d < x->shape.rank; d++) starts[d] = vector_entry(at, v, d);
  HloError *e = NULL;
  HloInstr *r = update ? hlo_build_dynamic_update_slice(at.c, x, in->operands[1], starts, &e)
                       : hlo_build_dynamic_slice(at.c, x, starts, in->shape.dims, &e);
  return px_with_layout(px_built(r, e, in), &in->shape, in);
}

static HloInstr *builder_call(HloInstr *in) {
  HloOpcode op;
  const HloComputation *comp;
  if (hlo_builder_call(in, &op, &comp)) return NULL;
  if (comp)
    return px_with_layout(px_clone_computation(in->parent, comp, in->operands, in), &in->shape,
                          in);
  if (op == HLO_NUM_OPCODES) return NULL;
  if (op == HLO_OP_CUSTOM_CALL)
    return hlo_builder_lib_call(in) != HLO_BL_NONE ? px_expand_builder_lib(in)
                                                   : px_expand_builder_math(in);
  return px_with_layout(px_unary((PxAt){in->parent, in}, op, in->operands[0]), &in->shape, in);
}

static HloInstr *canonicalize(HloInstr *in) {
  switch (in->op) {
  case HLO_OP_SELECT:
    if (in->operands[0]->shape.rank == 0 && in->shape.rank != 0) return select_scalar_pred(in);
    return NULL;
  case HLO_OP_DYNAMIC_SLICE:
  case HLO_OP_DYNAMIC_UPDATE_SLICE:
    return hlo_start_indices_are_vector(in) ? scalar_starts(in) : NULL;
  case HLO_OP_ALL_TO_ALL: {
    if (in->shape.type != HLO_TUPLE || in->noperands != 1) return NULL;
    HloError *e = NULL;
    return px_built(hlo_build_tuple(in->parent, in->operands, 1, &e), e, in);
  }
  case HLO_OP_CUSTOM_CALL: return builder_call(in);
  case HLO_OP_SCALED_DOT: return px_expand_scaled_dot(in);
  default: return NULL;
  }
}

bool pass_canonical_forms(HloModule *m) { return px_rewrite_each(m, true, canonicalize); }
