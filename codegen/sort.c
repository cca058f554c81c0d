/*
 * sort.c — the sort kernel, which is not elemental: its outputs start as
 * copies of the operands (the caller makes them) and every row along the
 * sort dimension is then sorted in place by the comparator, which is
 * inlined on scalars: comparator(a0, b0, a1, b1, …) is "a before b".
 *
 * Insertion sort: an element moves left only while it is strictly before
 * its neighbour, so the sort is stable and gives the evaluator's result
 * (a stable merge sort) for any comparator that is a strict weak order.
 * It is quadratic in the row length; correct first.
 */
#include "internal.h"

void cg_kernel_sort(CgFn *f, const HloInstr *x, const CgVal *out) {
  int n = x->noperands;
  int64_t dim = x->dimensions.v[0];
  const HloShape *s = &x->operands[0]->shape;
  int64_t len = s->dims[dim];
  if (len < 2) return;

  CgLoop loops[HLO_MAX_RANK + 1];
  int nloops = 0;
  CgVal idx[HLO_MAX_RANK];
  for (int d = 0; d < s->rank; d++) {
    if (d == dim) continue;
    loops[nloops] = cg_for(f, s->dims[d], 0, NULL);
    idx[d] = loops[nloops++].iv;
  }
  /* for i in [1, len): j = i; while j > 0 && x[j] before x[j-1]: swap. */
  loops[nloops] = cg_for(f, len - 1, 0, NULL);
  CgVal i = cg_iadd_c(f, loops[nloops++].iv, 1);

  KirBuilder after = f->b;
  KirOp *w = kir_while(&f->b, 1, &i);
  kir_at_end(&f->b, kir_region(w, 0));
  CgVal j = kir_arg(kir_region(w, 0), 0);
  CgVal zero = cg_index(f, 0);
  CgVal pos = cg_icmp(f, KIR_SGT, j, zero);
  /* j - 1 clamped to 0, so both loads stay in bounds when j == 0. */
  CgVal prev = cg_iop(f, KIR_MAXSI, cg_iadd_c(f, j, -1), zero);
  CgVal args[2 * 256], before;
  CgVal a[HLO_MAX_RANK], b[HLO_MAX_RANK];
  for (int d = 0; d < s->rank; d++) a[d] = b[d] = idx[d];
  a[dim] = j;
  b[dim] = prev;
  for (int k = 0; k < n; k++) {
    args[2 * k] = cg_load(f, out[k], &x->operands[k]->shape, a);
    args[2 * k + 1] = cg_load(f, out[k], &x->operands[k]->shape, b);
  }
  cg_apply(f, x->called[0], args, &before);
  CgVal go = cg_and(f, pos, before);
  kir_condition(&f->b, go, 1, &j);
  kir_at_end(&f->b, kir_region(w, 1));
  CgVal j2 = kir_arg(kir_region(w, 1), 0);
  CgVal prev2 = cg_iadd_c(f, j2, -1);
  a[dim] = j2;
  b[dim] = prev2;
  for (int k = 0; k < n; k++) {
    const HloShape *ks = &x->operands[k]->shape;
    CgVal va = cg_load(f, out[k], ks, a), vb = cg_load(f, out[k], ks, b);
    cg_store(f, vb, out[k], ks, a);
    cg_store(f, va, out[k], ks, b);
  }
  kir_yield(&f->b, 1, &prev2);
  f->b = after;
  while (nloops > 0) cg_for_end(f, &loops[--nloops], NULL);
}
