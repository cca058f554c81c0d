/*
 * dot.c — a dot on the GPU as tiles staged in shared memory
 * (CgBackend.tiles, tile_emit): a kernel that cg_gemm_plan takes (an f32
 * dot [B,]M×K · [B,]K×N, or an output fusion of one with an elementwise
 * epilogue) runs a TILE × TILE tile of the output per block of GPU_BLOCK
 * threads, the tiles numbered batch-major, then by rows, then by columns
 * (the block-stride loop of parallel.c, gpu_block_task).
 *
 * Thread t of the block, (ty, tx) = (t / 16, t mod 16), computes the
 * SUB × SUB outputs at rows ty + 16i and columns tx + 16j of the tile
 * (i, j < SUB): a warp's 32 threads read two rows of A's tile (each a
 * broadcast) and 16 consecutive columns of B's (no bank conflict).  The
 * K loop runs in steps of TILE_K: a barrier (everyone is done with the
 * last step's tiles), the block copies A's TILE × TILE_K and B's
 * TILE_K × TILE tiles into shared memory, each thread SUB elements of
 * each, consecutive threads reading consecutive elements (coalesced),
 * elements past M, N or K as 0; a barrier; then every thread runs the
 * step's k in order, one FMA per output.  The last step runs only its
 * K mod TILE_K values, so every output is the sum over k = 0, 1, …, K-1
 * in that order, in f32, one rounding per step (FMA, as the CPU's
 * kernels): no TF32, no reassociation.  Then each thread computes the
 * epilogue on its outputs (the dot's element bound to its sum, as
 * gemm.c does) and stores those inside the output.
 *
 * The loop bounds and the barriers depend only on the tile, the same for
 * the whole block, so every thread reaches every barrier.  Convolutions
 * stay with gemm.c's kernels (one thread per register tile) for now.
 */
#include <stdlib.h>

#include "gpu.h"

enum { TILE = 64, TILE_K = 16, SUB = 4, SIDE = TILE / SUB };

bool gpu_tiles(CgGen *g, KirFunc *k, const CgGemm *gm, CgTask *out) {
  if (gm->op->op != HLO_OP_DOT || SIDE * SIDE != GPU_BLOCK) return false;
  int64_t n = gm->B * ((gm->M + TILE - 1) / TILE) * ((gm->N + TILE - 1) / TILE);
  if (n < 1) return false;
  *out = gpu_block_task(g, k, n, GPU_BLOCK);
  return true;
}

/* min(v, hi) on index values. */
static CgVal clamp_hi(CgFn *f, CgVal v, int64_t hi) {
  CgVal h = cg_index(f, hi);
  return cg_select(f, cg_icmp(f, KIR_SLT, v, h), v, h);
}

/* The element (row, col) of a dot operand (rank 2, or 3 with the batch
 * b first), 0 where row >= rows or col >= cols (read at a clamped index:
 * every read is inside the operand). */
static CgVal operand_elem(CgFn *f, const HloInstr *x, CgVal b, CgVal row, CgVal col,
                          int64_t rows, int64_t cols) {
  CgVal idx[3];
  int r = 0;
  if (x->shape.rank == 3) idx[r++] = b;
  idx[r++] = clamp_hi(f, row, rows - 1);
  idx[r++] = clamp_hi(f, col, cols - 1);
  CgVal inside = cg_and(f, cg_icmp(f, KIR_SLT, row, cg_index(f, rows)),
                        cg_icmp(f, KIR_SLT, col, cg_index(f, cols)));
  return cg_select(f, inside, cg_elem(f, x, idx), cg_const(f, HLO_F32, 0));
}

void gpu_tile_emit(CgFn *f, const CgGemm *gm, CgVal out) {
  const HloInstr *d = gm->op, *lhs = d->operands[0], *rhs = d->operands[1];
  int64_t mt = (gm->M + TILE - 1) / TILE, nt = (gm->N + TILE - 1) / TILE;
  /* The tile: batch b, rows from m0, columns from n0. */
  CgVal tile = f->par_lo;
  CgVal n0 = cg_imul_c(f, cg_iop(f, KIR_REMUI, tile, cg_index(f, nt)), TILE);
  tile = cg_iop(f, KIR_DIVUI, tile, cg_index(f, nt));
  CgVal m0 = cg_imul_c(f, cg_iop(f, KIR_REMUI, tile, cg_index(f, mt)), TILE);
  CgVal b = cg_iop(f, KIR_DIVUI, tile, cg_index(f, mt));
  CgVal t = f->lane;
  CgVal tx = cg_iop(f, KIR_REMUI, t, cg_index(f, SIDE));
  CgVal ty = cg_iop(f, KIR_DIVUI, t, cg_index(f, SIDE));

  int64_t adims[2] = {TILE, TILE_K}, bdims[2] = {TILE_K, TILE};
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_smem_a", f->fn->name);
  CgVal as = kir_shared(&f->b, nm.buf, kir_memref_shared(f->g->k, KIR_F32, 2, adims));
  nm.len = 0;
  hlo_str_printf(&nm, "%s_smem_b", f->fn->name);
  CgVal bs = kir_shared(&f->b, nm.buf, kir_memref_shared(f->g->k, KIR_F32, 2, bdims));
  free(nm.buf);

  CgVal acc[SUB * SUB];
  for (int i = 0; i < SUB * SUB; i++) acc[i] = cg_const(f, HLO_F32, 0);
  CgLoop steps = cg_for(f, (gm->K + TILE_K - 1) / TILE_K, SUB * SUB, acc);
  CgVal k0 = cg_imul_c(f, steps.iv, TILE_K);
  kir_barrier(&f->b);
  /* The step's tiles: element e = t + GPU_BLOCK·i of each, row-major. */
  for (int i = 0; i < TILE * TILE_K / GPU_BLOCK; i++) {
    CgVal e = cg_iadd_c(f, t, (int64_t)GPU_BLOCK * i);
    CgVal r = cg_iop(f, KIR_DIVUI, e, cg_index(f, TILE_K));
    CgVal c = cg_iop(f, KIR_REMUI, e, cg_index(f, TILE_K));
    CgVal a = operand_elem(f, lhs, b, cg_iop(f, KIR_ADDI, m0, r), cg_iop(f, KIR_ADDI, k0, c),
                           gm->M, gm->K);
    kir_store(&f->b, a, as, (CgVal[]){r, c});
  }
  for (int i = 0; i < TILE * TILE_K / GPU_BLOCK; i++) {
    CgVal e = cg_iadd_c(f, t, (int64_t)GPU_BLOCK * i);
    CgVal r = cg_iop(f, KIR_DIVUI, e, cg_index(f, TILE));
    CgVal c = cg_iop(f, KIR_REMUI, e, cg_index(f, TILE));
    CgVal v = operand_elem(f, rhs, b, cg_iop(f, KIR_ADDI, k0, r), cg_iop(f, KIR_ADDI, n0, c),
                           gm->K, gm->N);
    kir_store(&f->b, v, bs, (CgVal[]){r, c});
  }
  kir_barrier(&f->b);
  /* The step's k, in order: the last step only up to K. */
  CgVal kmax = clamp_hi(f, cg_iop(f, KIR_SUBI, cg_index(f, gm->K), k0), TILE_K);
  CgVal carried[SUB * SUB], next[SUB * SUB], av[SUB], bv[SUB];
  for (int i = 0; i < SUB * SUB; i++) carried[i] = steps.iters + i;
  CgLoop ks = cg_for_range(f, cg_index(f, 0), kmax, SUB * SUB, carried);
  for (int i = 0; i < SUB; i++)
    av[i] = kir_load(&f->b, as, (CgVal[]){cg_iadd_c(f, ty, (int64_t)SIDE * i), ks.iv});
  for (int j = 0; j < SUB; j++)
    bv[j] = kir_load(&f->b, bs, (CgVal[]){ks.iv, cg_iadd_c(f, tx, (int64_t)SIDE * j)});
  for (int i = 0; i < SUB; i++)
    for (int j = 0; j < SUB; j++)
      next[i * SUB + j] = kir_fma(&f->b, av[i], bv[j], ks.iters + i * SUB + j);
  cg_for_end(f, &ks, next);
  for (int i = 0; i < SUB * SUB; i++) next[i] = ks.results + i;
  cg_for_end(f, &steps, next);

  /* The epilogue and the store of each output inside the output. */
  for (int i = 0; i < SUB; i++)
    for (int j = 0; j < SUB; j++) {
      CgVal m = cg_iop(f, KIR_ADDI, m0, cg_iadd_c(f, ty, (int64_t)SIDE * i));
      CgVal n = cg_iop(f, KIR_ADDI, n0, cg_iadd_c(f, tx, (int64_t)SIDE * j));
      CgVal inside = cg_and(f, cg_icmp(f, KIR_SLT, m, cg_index(f, gm->M)),
                            cg_icmp(f, KIR_SLT, n, cg_index(f, gm->N)));
      CgIf c = cg_if(f, inside, 0, NULL);
      CgVal idx[3];
      int r = 0;
      if (d->shape.rank == 3) idx[r++] = b;
      idx[r++] = m;
      idx[r++] = n;
      CgVal val = steps.results + i * SUB + j;
      if (gm->root != d) {
        cg_bind_value(f, d, val);
        val = cg_elem(f, gm->root, idx);
      }
      cg_store(f, val, out, &gm->root->shape, idx);
      cg_endif(f, &c, NULL);
    }
}
