/*
 * dot.c — elemental dot (XLA's dot_general): one output element is a loop
 * over the contracting dimensions accumulating lhs × rhs.
 *
 * Output dims are (batch…, lhs free…, rhs free…) in that order.  Operands
 * are converted to the result type first (XLA's rule: s8 × s8 → s32
 * multiplies in s32), then accumulated in cg_accum_type of the result: f32
 * for every float type but f64, the result type itself for integers
 * (wrapping, which equals the evaluator's 64-bit sum truncated).  The
 * evaluator accumulates floats in double, so float dots differ from it by
 * rounding only; the tests bound that.
 *
 * This is the correct-first naive loop; DESIGN.md decision 5 (tiled,
 * packed, vectorized) will replace it as a kernel of its own.
 */
#include "internal.h"

HloType cg_accum_type(HloType t) {
  if (hlo_type_is_float(t)) return t == HLO_F64 ? HLO_F64 : HLO_F32;
  return t;
}

/* An operand element as an accumulator value: converted to the result type
 * rt, then widened to the accumulator. */
static CgVal to_accum(CgFn *f, CgVal v, HloType from, HloType rt) {
  v = cg_convert(f, v, from, rt);
  return hlo_type_is_float(rt) ? cg_to_float(f, v, rt) : v;
}

CgVal cg_elem_dot(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloDotDims *dd = &x->dot;
  const HloInstr *lhs = x->operands[0], *rhs = x->operands[1];
  HloType rt = x->shape.type, at = cg_accum_type(rt);
  if (rt == HLO_PRED) {
    cg_fail_instr(f->g, x, "is a dot producing pred");
    return 0;
  }
  const char *aty = hlo_type_is_float(rt) ? cg_float_type(rt) : cg_reg_type(rt);
  CgVal li[HLO_MAX_RANK], ri[HLO_MAX_RANK];
  int o = 0;
  for (int i = 0; i < dd->lhs_batch.n; i++, o++) {
    li[dd->lhs_batch.v[i]] = idx[o];
    ri[dd->rhs_batch.v[i]] = idx[o];
  }
  for (int d = 0; d < lhs->shape.rank; d++)
    if (!cg_dims_contain(&dd->lhs_batch, d) && !cg_dims_contain(&dd->lhs_contracting, d))
      li[d] = idx[o++];
  for (int d = 0; d < rhs->shape.rank; d++)
    if (!cg_dims_contain(&dd->rhs_batch, d) && !cg_dims_contain(&dd->rhs_contracting, d))
      ri[d] = idx[o++];

  CgVal acc = cg_const(f, at, 0.0);
  CgLoop loops[HLO_MAX_RANK];
  int n = dd->lhs_contracting.n;
  for (int k = 0; k < n; k++) {
    int64_t ld = dd->lhs_contracting.v[k];
    loops[k] = cg_for(f, lhs->shape.dims[ld], 1, &acc, &aty);
    li[ld] = ri[dd->rhs_contracting.v[k]] = loops[k].iv;
    acc = loops[k].iters;
  }
  CgVal a = to_accum(f, cg_elem(f, lhs, li), lhs->shape.type, rt);
  CgVal b = to_accum(f, cg_elem(f, rhs, ri), rhs->shape.type, rt);
  bool fl = hlo_type_is_float(rt);
  CgVal p = cg_def(f->e, "arith.%s %v, %v : %s", fl ? "mulf" : "muli", a, b, aty);
  CgVal s = cg_def(f->e, "arith.%s %v, %v : %s", fl ? "addf" : "addi", acc, p,
                   aty);
  for (int k = n - 1; k >= 0; k--) {
    cg_for_end(f, &loops[k], &s, &aty);
    s = loops[k].results;
  }
  return fl ? cg_from_float(f, s, rt) : s;
}
