/*
 * scatter.c — the scatter kernel, which is not elemental: its outputs start
 * as copies of the operands (the caller makes them) and are then updated in
 * place, one update window per position of the index grid.
 *
 * The order is the evaluator's: grid positions in row-major order of the
 * updates' scatter dims, and within a window every element, each combined
 * as out = to_apply(out, update) (variadic scatters combine all operands
 * at once).  A window that does not fit entirely inside the operand is
 * skipped, as XLA defines.  Window dims of the updates map, in order, to
 * the operand dims that are neither inserted nor batching dims.
 */
#include "internal.h"

void cg_kernel_scatter(CgFn *f, const HloInstr *x, const CgVal *out) {
  const HloScatterDims *sd = &x->scatter;
  int n = (x->noperands - 1) / 2;
  const HloInstr *indices = x->operands[n];
  const HloInstr *const *upd = (const HloInstr *const *)x->operands + n + 1;
  const HloShape *os = &x->operands[0]->shape, *us = &upd[0]->shape;
  int rank = os->rank;

  /* Grid loops: the update dims that are not window dims. */
  CgLoop loops[2 * HLO_MAX_RANK];
  int nloops = 0;
  CgVal grid[HLO_MAX_RANK], ui[HLO_MAX_RANK];
  int ng = 0;
  for (int d = 0; d < us->rank; d++) {
    if (cg_dims_contain(&sd->update_window_dims, d)) continue;
    loops[nloops] = cg_for(f, us->dims[d], 0, NULL);
    grid[ng++] = ui[d] = loops[nloops++].iv;
  }
  CgVal start[HLO_MAX_RANK];
  cg_grid_start(f, indices, sd->index_vector_dim, grid,
                &sd->scatter_dims_to_operand_dims, &sd->input_batching_dims,
                &sd->scatter_indices_batching_dims, rank, start);

  /* The window's size along each operand dim, and whether it fits. */
  int64_t wsize[HLO_MAX_RANK];
  int window_dim[HLO_MAX_RANK]; /* operand dim -> update dim, or -1 */
  for (int d = 0, w = 0; d < rank; d++) {
    window_dim[d] = -1;
    wsize[d] = 1;
    if (cg_dims_contain(&sd->inserted_window_dims, d) ||
        cg_dims_contain(&sd->input_batching_dims, d))
      continue;
    window_dim[d] = (int)sd->update_window_dims.v[w++];
    wsize[d] = us->dims[window_dim[d]];
  }
  CgVal inside = kir_bool(&f->b, true);
  for (int d = 0; d < rank; d++) {
    inside = cg_and(f, inside, cg_icmp(f, KIR_SGE, start[d], cg_index(f, 0)));
    inside = cg_and(f, inside,
                    cg_icmp(f, KIR_SLE, start[d], cg_index(f, os->dims[d] - wsize[d])));
  }
  CgIf c = cg_if(f, inside, 0, NULL);
  int first_window = nloops;
  CgVal oi[HLO_MAX_RANK];
  for (int d = 0; d < rank; d++) {
    if (window_dim[d] < 0) {
      oi[d] = start[d];
      continue;
    }
    loops[nloops] = cg_for(f, wsize[d], 0, NULL);
    ui[window_dim[d]] = loops[nloops].iv;
    oi[d] = cg_iop(f, KIR_ADDI, start[d], loops[nloops++].iv);
  }
  CgVal args[2 * 256], res[256];
  for (int k = 0; k < n; k++) {
    args[k] = cg_load(f, out[k], &x->operands[k]->shape, oi);
    args[n + k] = cg_elem(f, upd[k], ui);
  }
  cg_apply(f, x->called[0], args, res);
  for (int k = 0; k < n; k++) cg_store(f, res[k], out[k], &x->operands[k]->shape, oi);
  while (nloops > first_window) cg_for_end(f, &loops[--nloops], NULL);
  cg_endif(f, &c, NULL);
  while (nloops > 0) cg_for_end(f, &loops[--nloops], NULL);
}
