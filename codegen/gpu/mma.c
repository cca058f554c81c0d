/*
 * mma.c — dots and convolutions on tensor cores: the warp-level
 * multiply-accumulate's fragment layout (the one definition of it) and
 * the tiled kernel built on KIR_MMA (CgBackend.tile_emit, through
 * dot.c's gpu_tile_emit), for f16 and bf16 operands and, when the user
 * opts in (--gpu-tf32, CgTarget.tf32), for f32 ones rounded to TF32.
 *
 * The layout.  mma.sync spreads each matrix of D = A·B + C over the 32
 * lanes of a warp; lane l holds, for g = l / 4 and t = l mod 4 (PTX ISA,
 * "Matrix Fragments for mma.m16n8k16 with floating point type" and
 * "… for mma.m16n8k8", .tf32), element e of its fragment of
 *   A (M×K, row-major)    at row  rg·g + rt·t + r0,
 *   B (K×N, col-major)    and col  cg·g + ct·t + c0,
 *   C and D (16×8 f32)
 * with the coefficients of the tables below.  A's and B's elements go
 * into 32-bit registers in order, `per_reg` to a register: for f16 and
 * bf16 two, element 2i in the low half of register i and 2i+1 in the
 * high half; for tf32 one (the f32's bits).  C and D are 4 f32 registers,
 * register i element i.  Every kind has 4 registers of A, 2 of B and 4
 * of C (kir.h, kir_mma).  The emitter below reads only these tables, and
 * so may anything that executes KIR_MMA without a GPU.
 *
 * The kernel.  A block of GPU_BLOCK threads (8 warps) computes a 64×64
 * tile of the output, numbered as dot.c's (gpu_tile_origin), so the grid
 * is the same.  Warp w takes rows 32·(w / 4) … +32 and columns
 * 16·(w mod 4) … +16 of it: WM × WN = 2 × 2 mma tiles of 16×8, 16
 * accumulators a lane, f32.  The K loop runs in steps of STEP_K: a
 * barrier, the block stages A's 64 × STEP_K and B's STEP_K × 64 tiles in
 * shared memory (gpu_gemm_a/b: zeros past M, N, K and in a convolution's
 * padding; B stored transposed, [n][k], so a register's two k are
 * adjacent; each row padded by 16 bytes, so that the 8 rows a warp's
 * fragment load touches, 4 words each, fall in 32 different banks, where
 * unpadded rows of 64 or 128 bytes would meet in 4 or 8), each thread 8
 * elements of each, consecutive threads reading
 * consecutive elements of A's rows and B's columns; a barrier; then for
 * each k16 (or k8) slice of the step every warp gathers its fragments
 * from shared memory and runs its WM·WN mma.  Elements are staged as
 * their bits: f16/bf16 as i16, f32 rounded to TF32 (to nearest, ties away
 * from zero, as cvt.rna.tf32.f32) as i32.  The epilogue converts each
 * sum to the contraction's type (cg_from_float), binds it as dot.c does
 * and stores those inside the output.
 *
 * Exactness: f16, bf16 and TF32 products are exact in f32, but the order
 * and the internal precision of mma's sums are the hardware's: results
 * differ from the evaluator's (double sums) by accumulation error, as any
 * f32 sum does; f32 without --gpu-tf32 never comes here (dot.c's kernel
 * is exact).  Barriers and mma sit outside any branch that depends on the
 * thread: every warp of the block reaches them all together.
 */
#include <stdlib.h>

#include "gpu.h"

enum { TILE = 64, STEP_K = 32, WM = 2, WN = 2, WARPS_N = 4, NACC = WM * WN * 4 };

/* ------------------------------------------------------------------------ */
/* The layout                                                                */
/* ------------------------------------------------------------------------ */

/* A (m16 × k16): rows g, g, g+8, g+8, g, g, g+8, g+8; columns 2t, 2t+1
 * for e < 4, 8 more for e >= 4. */
static const GpuMmaPlace a_k16[8] = {
    {1, 0, 0, 0, 2, 0}, {1, 0, 0, 0, 2, 1}, {1, 0, 8, 0, 2, 0}, {1, 0, 8, 0, 2, 1},
    {1, 0, 0, 0, 2, 8}, {1, 0, 0, 0, 2, 9}, {1, 0, 8, 0, 2, 8}, {1, 0, 8, 0, 2, 9},
};
/* B (k16 × n8): rows 2t, 2t+1, 2t+8, 2t+9; column g. */
static const GpuMmaPlace b_k16[4] = {
    {0, 2, 0, 1, 0, 0}, {0, 2, 1, 1, 0, 0}, {0, 2, 8, 1, 0, 0}, {0, 2, 9, 1, 0, 0},
};
/* A (m16 × k8, tf32): rows g, g+8, g, g+8; columns t, t, t+4, t+4. */
static const GpuMmaPlace a_k8[4] = {
    {1, 0, 0, 0, 1, 0}, {1, 0, 8, 0, 1, 0}, {1, 0, 0, 0, 1, 4}, {1, 0, 8, 0, 1, 4},
};
/* B (k8 × n8, tf32): rows t, t+4; column g. */
static const GpuMmaPlace b_k8[2] = {{0, 1, 0, 1, 0, 0}, {0, 1, 4, 1, 0, 0}};
/* C and D (m16 × n8, f32): rows g, g, g+8, g+8; columns 2t, 2t+1. */
static const GpuMmaPlace c_all[4] = {
    {1, 0, 0, 0, 2, 0}, {1, 0, 0, 0, 2, 1}, {1, 0, 8, 0, 2, 0}, {1, 0, 8, 0, 2, 1},
};

static const GpuMmaShape shapes[] = {
    [KIR_MMA_F16] = {16, 8, 16, 2, 8, 4, a_k16, b_k16, c_all},
    [KIR_MMA_BF16] = {16, 8, 16, 2, 8, 4, a_k16, b_k16, c_all},
    [KIR_MMA_TF32] = {16, 8, 8, 1, 4, 2, a_k8, b_k8, c_all},
};

const GpuMmaShape *gpu_mma_shape(KirMmaKind k) { return &shapes[k]; }

void gpu_mma_elem(KirMmaKind k, GpuMmaOperand which, int lane, int e, int *row, int *col) {
  const GpuMmaShape *s = &shapes[k];
  const GpuMmaPlace *p = which == GPU_MMA_A ? &s->a[e] : which == GPU_MMA_B ? &s->b[e] : &s->c[e];
  int g = lane / 4, t = lane % 4;
  *row = p->rg * g + p->rt * t + p->r0;
  *col = p->cg * g + p->ct * t + p->c0;
}

/* ------------------------------------------------------------------------ */
/* The kernel                                                                */
/* ------------------------------------------------------------------------ */

int gpu_mma_kind(const CgGen *g, const CgGemm *gm) {
  HloType t = gm->op->operands[0]->shape.type;
  if (t != gm->op->operands[1]->shape.type) return -1;
  if (t == HLO_F16) return KIR_MMA_F16;
  if (t == HLO_BF16) return KIR_MMA_BF16;
  if (t == HLO_F32 && g->target->tf32) return KIR_MMA_TF32;
  return -1;
}

/* p's row or column for the lane's (g, t), plus `base` (index values). */
static CgVal place(CgFn *f, CgVal g, CgVal t, int cg, int ct, int c0, CgVal base) {
  CgVal v = cg_iadd_c(f, base, c0);
  if (cg) v = cg_iop(f, KIR_ADDI, v, cg_imul_c(f, g, cg));
  if (ct) v = cg_iop(f, KIR_ADDI, v, cg_imul_c(f, t, ct));
  return v;
}

/* f32 x rounded to TF32 (the top 19 bits; to nearest, ties away from 0),
 * as i32 bits; Inf and NaN as they are. */
static CgVal to_tf32(CgFn *f, CgVal x) {
  KirType i32 = kir_scalar(KIR_I32);
  CgVal bits = kir_cast(&f->b, KIR_BITCAST, x, i32);
  CgVal mag = kir_binop(&f->b, KIR_ANDI, bits, kir_const_int(&f->b, i32, 0x7fffffff));
  CgVal finite = kir_cmpi(&f->b, KIR_ULT, mag, kir_const_int(&f->b, i32, 0x7f800000));
  CgVal r = kir_binop(&f->b, KIR_ADDI, bits, kir_const_int(&f->b, i32, 0x1000));
  r = kir_binop(&f->b, KIR_ANDI, r, kir_const_int(&f->b, i32, (int32_t)0xffffe000u));
  return kir_select(&f->b, finite, r, bits);
}

/* Register `reg` of the lane's fragment of A (which A) or B, for the
 * tile at rows (A) or columns (B) from `base` and the k slice from kb:
 * its elements read from shared tile s ([row][k]: A as staged, B
 * transposed) and packed. */
static CgVal fragment(CgFn *f, const GpuMmaShape *s, GpuMmaOperand which, int reg, CgVal g,
                      CgVal t, CgVal base, CgVal kb, CgVal sh) {
  KirType i32 = kir_scalar(KIR_I32);
  CgVal v = 0;
  for (int h = 0; h < s->per_reg; h++) {
    const GpuMmaPlace *p = which == GPU_MMA_A ? &s->a[reg * s->per_reg + h]
                                              : &s->b[reg * s->per_reg + h];
    CgVal row = place(f, g, t, p->rg, p->rt, p->r0, which == GPU_MMA_A ? base : kb);
    CgVal col = place(f, g, t, p->cg, p->ct, p->c0, which == GPU_MMA_A ? kb : base);
    CgVal idx[2] = {which == GPU_MMA_A ? row : col, which == GPU_MMA_A ? col : row};
    CgVal x = kir_load(&f->b, sh, idx);
    if (s->per_reg == 1) return x;
    x = kir_cast(&f->b, KIR_EXTUI, x, i32);
    if (h) x = kir_binop(&f->b, KIR_SHLI, x, kir_const_int(&f->b, i32, 16 * h));
    v = h ? kir_binop(&f->b, KIR_ORI, v, x) : x;
  }
  return v;
}

CgVal gpu_mma_staged(CgFn *f, KirMmaKind kind, CgVal x) {
  return kind == KIR_MMA_TF32 ? to_tf32(f, x) : x;
}

void gpu_mma_emit(CgFn *f, const CgGemm *gm, CgVal out) {
  KirMmaKind kind = (KirMmaKind)gpu_mma_kind(f->g, gm);
  const GpuMmaShape *s = gpu_mma_shape(kind);
  KirElem held = kind == KIR_MMA_TF32 ? KIR_I32 : KIR_I16;
  CgVal b, m0, n0;
  gpu_tile_origin(f, gm, TILE, TILE, &b, &m0, &n0);
  CgVal tid = f->lane;
  CgVal warp = cg_iop(f, KIR_DIVUI, tid, cg_index(f, GPU_WARP));
  CgVal lane = cg_iop(f, KIR_REMUI, tid, cg_index(f, GPU_WARP));
  CgVal g = cg_iop(f, KIR_DIVUI, lane, cg_index(f, 4));
  CgVal t = cg_iop(f, KIR_REMUI, lane, cg_index(f, 4));
  /* The warp's rows and columns in the block's tile. */
  CgVal wr = cg_imul_c(f, cg_iop(f, KIR_DIVUI, warp, cg_index(f, WARPS_N)), WM * 16);
  CgVal wc = cg_imul_c(f, cg_iop(f, KIR_REMUI, warp, cg_index(f, WARPS_N)), WN * 8);

  /* Rows of STEP_K elements and 16 bytes: see the top of the file. */
  int64_t dims[2] = {TILE, STEP_K + 16 * 8 / kir_elem_bits(held)};
  CgVal as = gpu_shared(f, "a", kir_memref_shared(f->g->k, held, 2, dims));
  CgVal bs = gpu_shared(f, "bt", kir_memref_shared(f->g->k, held, 2, dims));

  CgVal acc[NACC];
  for (int i = 0; i < NACC; i++) acc[i] = cg_const(f, HLO_F32, 0);
  CgLoop steps = cg_for(f, (gm->K + STEP_K - 1) / STEP_K, NACC, acc);
  CgVal k0 = cg_imul_c(f, steps.iv, STEP_K);
  kir_barrier(&f->b);
  for (int i = 0; i < TILE * STEP_K / GPU_BLOCK; i++) {
    CgVal e = cg_iadd_c(f, tid, (int64_t)GPU_BLOCK * i);
    CgVal r = cg_iop(f, KIR_DIVUI, e, cg_index(f, STEP_K));
    CgVal c = cg_iop(f, KIR_REMUI, e, cg_index(f, STEP_K));
    CgVal x = gpu_gemm_a(f, gm, b, cg_iop(f, KIR_ADDI, m0, r), cg_iop(f, KIR_ADDI, k0, c));
    kir_store(&f->b, gpu_mma_staged(f, kind, x), as, (CgVal[]){r, c});
  }
  for (int i = 0; i < TILE * STEP_K / GPU_BLOCK; i++) {
    CgVal e = cg_iadd_c(f, tid, (int64_t)GPU_BLOCK * i);
    CgVal kr = cg_iop(f, KIR_DIVUI, e, cg_index(f, TILE));
    CgVal nc = cg_iop(f, KIR_REMUI, e, cg_index(f, TILE));
    CgVal x = gpu_gemm_b(f, gm, b, cg_iop(f, KIR_ADDI, k0, kr), cg_iop(f, KIR_ADDI, n0, nc));
    kir_store(&f->b, gpu_mma_staged(f, kind, x), bs, (CgVal[]){nc, kr});
  }
  kir_barrier(&f->b);
  CgVal sum[NACC];
  for (int i = 0; i < NACC; i++) sum[i] = steps.iters + i;
  for (int kk = 0; kk < STEP_K; kk += s->k) {
    CgVal kb = cg_index(f, kk);
    CgVal a[WM][4], bb[WN][2];
    for (int i = 0; i < WM; i++)
      for (int r = 0; r < 4; r++)
        a[i][r] = fragment(f, s, GPU_MMA_A, r, g, t, cg_iadd_c(f, wr, 16 * i), kb, as);
    for (int j = 0; j < WN; j++)
      for (int r = 0; r < 2; r++)
        bb[j][r] = fragment(f, s, GPU_MMA_B, r, g, t, cg_iadd_c(f, wc, 8 * j), kb, bs);
    for (int i = 0; i < WM; i++)
      for (int j = 0; j < WN; j++) {
        CgVal *c = sum + (i * WN + j) * 4;
        CgVal d = kir_mma(&f->b, kind, a[i], bb[j], c);
        for (int r = 0; r < 4; r++) c[r] = d + r;
      }
  }
  cg_for_end(f, &steps, sum);

  HloType rt = gm->op->shape.type;
  for (int i = 0; i < WM; i++)
    for (int j = 0; j < WN; j++)
      for (int r = 0; r < 4; r++) {
        const GpuMmaPlace *p = &s->c[r];
        CgVal mb = cg_iop(f, KIR_ADDI, m0, cg_iadd_c(f, wr, 16 * i));
        CgVal nb = cg_iop(f, KIR_ADDI, n0, cg_iadd_c(f, wc, 8 * j));
        CgVal m = place(f, g, t, p->rg, p->rt, p->r0, mb);
        CgVal n = place(f, g, t, p->cg, p->ct, p->c0, nb);
        CgVal v = cg_from_float(f, steps.results + (i * WN + j) * 4 + r, rt);
        gpu_gemm_store(f, gm, out, b, m, n, v);
      }
}
