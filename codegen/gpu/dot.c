/*
 * dot.c — a dot or a convolution on the GPU as tiles staged in shared
 * memory (CgBackend.tiles, tile_emit): a kernel that cg_gemm_plan takes
 * (a dot [B,]M×K · [B,]K×N, a convolution NHWC × HWIO → NHWC as the
 * implicit GEMM of M output pixels by N output features over K = taps ×
 * input features, or an output fusion of either with an elementwise
 * epilogue) runs a TILE × TILE tile of the output per block of GPU_BLOCK
 * threads, the tiles numbered batch-major, then by rows, then by columns
 * (the block-stride loop of parallel.c, gpu_block_task).  Depthwise
 * convolutions are no GEMM: they keep gemm.c's kernels (one thread per
 * register tile).  f16 and bf16 contractions, and f32 ones under
 * --gpu-tf32, run on tensor cores (mma.c, or wgmma.c's blocks of one
 * warpgroup under --gpu-wgmma); the rest of this file is the
 * exact f32 kernel, and the pieces both share: which element of A and B
 * a tile reads (gpu_gemm_a, gpu_gemm_b: a convolution's A is its input
 * at the tap's position, 0 in the padding) and the guarded store through
 * the epilogue (gpu_gemm_store).
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
 * epilogue on its outputs (the contraction's element bound to its sum,
 * as gemm.c does) and stores those inside the output.
 *
 * The loop bounds and the barriers depend only on the tile, the same for
 * the whole block, so every thread reaches every barrier.
 */
#include <stdlib.h>

#include "gpu.h"

enum { TILE = 64, TILE_K = 16, SUB = 4, SIDE = TILE / SUB };

bool gpu_tiles(CgGen *g, KirFunc *k, const CgGemm *gm, CgTask *out) {
  if (gm->depthwise || SIDE * SIDE != GPU_BLOCK) return false;
  int64_t n = gpu_tile_count(gm, TILE, TILE);
  if (n < 1) return false;
  *out = gpu_block_task(g, k, n, gpu_wgmma_use(g, gm) ? GPU_WARPGROUP : GPU_BLOCK);
  return true;
}

int64_t gpu_tile_count(const CgGemm *gm, int tm, int tn) {
  return gm->B * ((gm->M + tm - 1) / tm) * ((gm->N + tn - 1) / tn);
}

void gpu_tile_origin(CgFn *f, const CgGemm *gm, int tm, int tn, CgVal *b, CgVal *m0, CgVal *n0) {
  int64_t mt = (gm->M + tm - 1) / tm, nt = (gm->N + tn - 1) / tn;
  CgVal tile = f->par_lo;
  *n0 = cg_imul_c(f, cg_iop(f, KIR_REMUI, tile, cg_index(f, nt)), tn);
  tile = cg_iop(f, KIR_DIVUI, tile, cg_index(f, nt));
  *m0 = cg_imul_c(f, cg_iop(f, KIR_REMUI, tile, cg_index(f, mt)), tm);
  *b = cg_iop(f, KIR_DIVUI, tile, cg_index(f, mt));
}

/* min(v, hi) and max(v, lo) on index values. */
static CgVal clamp_hi(CgFn *f, CgVal v, int64_t hi) {
  CgVal h = cg_index(f, hi);
  return cg_select(f, cg_icmp(f, KIR_SLT, v, h), v, h);
}
static CgVal clamp_lo(CgFn *f, CgVal v, int64_t lo) {
  CgVal l = cg_index(f, lo);
  return cg_select(f, cg_icmp(f, KIR_SLT, v, l), l, v);
}
static CgVal below(CgFn *f, CgVal v, int64_t hi) {
  return cg_icmp(f, KIR_SLT, v, cg_index(f, hi));
}

/* x at idx where `inside`, else 0 of x's type (read at clamped indices:
 * every read is inside x). */
static CgVal or_zero(CgFn *f, const HloInstr *x, CgVal inside, const CgVal *idx) {
  return cg_select(f, inside, cg_elem(f, x, idx), cg_const(f, x->shape.type, 0));
}

/* A convolution's pixel m (clamped inside M) as its image and its output
 * row and column. */
static void conv_pixel(CgFn *f, const CgGemm *gm, CgVal m, CgVal *img, CgVal *oh, CgVal *ow) {
  m = clamp_hi(f, m, gm->M - 1);
  CgVal ow_n = cg_index(f, gm->out_sp[1]), oh_n = cg_index(f, gm->out_sp[0]);
  *ow = cg_iop(f, KIR_REMUI, m, ow_n);
  m = cg_iop(f, KIR_DIVUI, m, ow_n);
  *oh = cg_iop(f, KIR_REMUI, m, oh_n);
  *img = cg_iop(f, KIR_DIVUI, m, oh_n);
}

CgVal gpu_gemm_a(CgFn *f, const CgGemm *gm, CgVal b, CgVal row, CgVal col) {
  const HloInstr *x = gm->op->operands[0];
  CgVal inside = cg_and(f, below(f, row, gm->M), below(f, col, gm->K));
  CgVal idx[4];
  int r = 0;
  if (gm->op->op == HLO_OP_DOT) {
    if (x->shape.rank == 3) idx[r++] = b;
    idx[r++] = clamp_hi(f, row, gm->M - 1);
    idx[r++] = clamp_hi(f, col, gm->K - 1);
    return or_zero(f, x, inside, idx);
  }
  /* A convolution's A: row m a pixel, column k = (kh·KW + kw)·IC + ic a
   * tap and input feature; the input at the tap's position, 0 in the
   * padding. */
  CgVal img, oh, ow;
  conv_pixel(f, gm, row, &img, &oh, &ow);
  CgVal k = clamp_hi(f, col, gm->K - 1);
  CgVal ic = cg_iop(f, KIR_REMUI, k, cg_index(f, gm->IC));
  CgVal tap = cg_iop(f, KIR_DIVUI, k, cg_index(f, gm->IC));
  CgVal kw = cg_iop(f, KIR_REMUI, tap, cg_index(f, gm->k_sp[1]));
  CgVal kh = cg_iop(f, KIR_DIVUI, tap, cg_index(f, gm->k_sp[1]));
  CgVal pos[2], o[2] = {oh, ow}, kk[2] = {kh, kw};
  for (int i = 0; i < 2; i++) {
    pos[i] = cg_iop(f, KIR_ADDI, cg_imul_c(f, o[i], gm->stride[i]),
                    cg_imul_c(f, kk[i], gm->dilate[i]));
    pos[i] = cg_iadd_c(f, pos[i], -gm->pad_lo[i]);
    inside = cg_and(f, inside, cg_and(f, cg_icmp(f, KIR_SGE, pos[i], cg_index(f, 0)),
                                      below(f, pos[i], gm->in_sp[i])));
    pos[i] = clamp_hi(f, clamp_lo(f, pos[i], 0), gm->in_sp[i] - 1);
  }
  idx[r++] = img;
  if (gm->ns == 2) idx[r++] = pos[0];
  idx[r++] = pos[1];
  idx[r++] = ic;
  return or_zero(f, x, inside, idx);
}

CgVal gpu_gemm_b(CgFn *f, const CgGemm *gm, CgVal b, CgVal row, CgVal col) {
  const HloInstr *x = gm->op->operands[1];
  CgVal inside = cg_and(f, below(f, row, gm->K), below(f, col, gm->N));
  row = clamp_hi(f, row, gm->K - 1);
  col = clamp_hi(f, col, gm->N - 1);
  CgVal idx[4];
  int r = 0;
  if (gm->op->op == HLO_OP_DOT) {
    if (x->shape.rank == 3) idx[r++] = b;
  } else { /* HWIO: row k = (kh·KW + kw)·IC + ic */
    CgVal ic = cg_iop(f, KIR_REMUI, row, cg_index(f, gm->IC));
    CgVal tap = cg_iop(f, KIR_DIVUI, row, cg_index(f, gm->IC));
    if (gm->ns == 2) idx[r++] = cg_iop(f, KIR_DIVUI, tap, cg_index(f, gm->k_sp[1]));
    idx[r++] = cg_iop(f, KIR_REMUI, tap, cg_index(f, gm->k_sp[1]));
    row = ic;
  }
  idx[r++] = row;
  idx[r++] = col;
  return or_zero(f, x, inside, idx);
}

void gpu_gemm_store(CgFn *f, const CgGemm *gm, CgVal out, CgVal b, CgVal m, CgVal n,
                    CgVal val) {
  const HloInstr *d = gm->op;
  CgIf c = cg_if(f, cg_and(f, below(f, m, gm->M), below(f, n, gm->N)), 0, NULL);
  CgVal idx[4];
  int r = 0;
  if (d->op == HLO_OP_DOT) {
    if (d->shape.rank == 3) idx[r++] = b;
    idx[r++] = m;
  } else {
    CgVal img, oh, ow;
    conv_pixel(f, gm, m, &img, &oh, &ow);
    idx[r++] = img;
    if (gm->ns == 2) idx[r++] = oh;
    idx[r++] = ow;
  }
  idx[r++] = n;
  if (gm->root != d) {
    cg_bind_value(f, d, val);
    val = cg_elem(f, gm->root, idx);
  }
  cg_store(f, val, out, &gm->root->shape, idx);
  cg_endif(f, &c, NULL);
}

void gpu_tile_emit(CgFn *f, const CgGemm *gm, CgVal out) {
  if (gpu_wgmma_use(f->g, gm)) {
    gpu_wgmma_emit(f, gm, out);
    return;
  }
  if (gpu_mma_kind(f->g, gm) >= 0) {
    gpu_mma_emit(f, gm, out);
    return;
  }
  CgVal b, m0, n0;
  gpu_tile_origin(f, gm, TILE, TILE, &b, &m0, &n0);
  CgVal t = f->lane;
  CgVal tx = cg_iop(f, KIR_REMUI, t, cg_index(f, SIDE));
  CgVal ty = cg_iop(f, KIR_DIVUI, t, cg_index(f, SIDE));

  int64_t adims[2] = {TILE, TILE_K}, bdims[2] = {TILE_K, TILE};
  CgVal as = gpu_shared(f, "a", kir_memref_shared(f->g->k, KIR_F32, 2, adims));
  CgVal bs = gpu_shared(f, "b", kir_memref_shared(f->g->k, KIR_F32, 2, bdims));

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
    CgVal a = gpu_gemm_a(f, gm, b, cg_iop(f, KIR_ADDI, m0, r), cg_iop(f, KIR_ADDI, k0, c));
    kir_store(&f->b, a, as, (CgVal[]){r, c});
  }
  for (int i = 0; i < TILE * TILE_K / GPU_BLOCK; i++) {
    CgVal e = cg_iadd_c(f, t, (int64_t)GPU_BLOCK * i);
    CgVal r = cg_iop(f, KIR_DIVUI, e, cg_index(f, TILE));
    CgVal c = cg_iop(f, KIR_REMUI, e, cg_index(f, TILE));
    CgVal v = gpu_gemm_b(f, gm, b, cg_iop(f, KIR_ADDI, k0, r), cg_iop(f, KIR_ADDI, n0, c));
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
      gpu_gemm_store(f, gm, out, b, m, n, steps.results + i * SUB + j);
    }
}

CgVal gpu_shared(CgFn *f, const char *what, KirType t) {
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_smem_%s", f->fn->name, what);
  CgVal v = kir_shared(&f->b, nm.buf, t);
  free(nm.buf);
  return v;
}
