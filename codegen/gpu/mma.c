/*
 * mma.c — tensor cores: the warp-level multiply-accumulate's fragment
 * layout (KIR_MMA's; the one definition of it).
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
 * of C (kir.h, kir_mma).  Emitters read only these tables, and so may
 * anything that executes KIR_MMA without a GPU.
 */
#include "gpu.h"

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
