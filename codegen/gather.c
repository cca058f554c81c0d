/*
 * gather.c — elemental gather with XLA's semantics (offset_dims,
 * collapsed_slice_dims, start_index_map, index_vector_dim, slice_sizes, and
 * the operand/start-indices batching dims), plus the index arithmetic that
 * scatter shares: the operand start of one position of the index grid.
 *
 * The start indices are read as a grid of index vectors: every dim of
 * start_indices but index_vector_dim (which may equal its rank: an implicit
 * trailing 1) is a grid dim.  For an output element, the output dims that
 * are not offset dims are its grid position; the offset dims follow, in
 * order, the operand dims that are neither collapsed nor batching.  Starts
 * are clamped so the whole slice fits, as the evaluator does.
 */
#include "internal.h"

void cg_grid_start(CgFn *f, const HloInstr *indices, int64_t ivd,
                   const CgVal *grid, const HloDims *map,
                   const HloDims *operand_batching,
                   const HloDims *index_batching, int rank, CgVal *start) {
  int irank = indices->shape.rank;
  /* grid[j] is the coordinate of the j-th index dim other than ivd. */
  CgVal ii[HLO_MAX_RANK];
  int pos[HLO_MAX_RANK];
  for (int d = 0, j = 0; d < irank; d++) {
    pos[d] = -1;
    if (d == ivd) continue;
    pos[d] = j;
    ii[d] = grid[j++];
  }
  CgVal zero = cg_index(f, 0);
  for (int d = 0; d < rank; d++) start[d] = zero;
  for (int k = 0; k < map->n; k++) {
    if (ivd < irank) ii[ivd] = cg_index(f, k);
    CgVal v = cg_elem(f, indices, ii);
    start[map->v[k]] = cg_to_index(f, v, indices->shape.type);
  }
  for (int i = 0; i < operand_batching->n; i++)
    start[operand_batching->v[i]] = grid[pos[index_batching->v[i]]];
}

CgVal cg_elem_gather(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloGatherDims *gd = &x->gather;
  const HloInstr *op = x->operands[0], *indices = x->operands[1];
  int rank = op->shape.rank;
  CgVal grid[HLO_MAX_RANK];
  int ng = 0;
  for (int d = 0; d < x->shape.rank; d++)
    if (!cg_dims_contain(&gd->offset_dims, d)) grid[ng++] = idx[d];
  CgVal start[HLO_MAX_RANK];
  cg_grid_start(f, indices, gd->index_vector_dim, grid, &gd->start_index_map,
                &gd->operand_batching_dims, &gd->start_indices_batching_dims,
                rank, start);
  CgVal oi[HLO_MAX_RANK];
  for (int d = 0, w = 0; d < rank; d++) {
    CgVal s = cg_iclamp(f, start[d], 0,
                        op->shape.dims[d] - gd->slice_sizes.v[d]);
    if (cg_dims_contain(&gd->collapsed_slice_dims, d) ||
        cg_dims_contain(&gd->operand_batching_dims, d)) {
      oi[d] = s;
      continue;
    }
    oi[d] = cg_iop(f, KIR_ADDI, s, idx[gd->offset_dims.v[w++]]);
  }
  return cg_elem(f, op, oi);
}
