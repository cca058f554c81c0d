/*
 * wgmma.c — sm_90a's warpgroup MMA (`wgmma.mma_async`): the layouts of
 * KIR_WGMMA's operands in shared memory and of its accumulators (the one
 * definition of them, which the interpreter reads too).
 *
 * The layouts (PTX ISA, "Asynchronous Warpgroup Level Matrix Multiply":
 * the matrix descriptor, the canonical layouts, the register fragments
 * of D).  A (64×k) and B (k×N, kept as its transpose N×k) are both
 * K-major, no swizzle: each is made of core matrices of 8 rows × 16
 * bytes (8 f16/bf16 or 4 tf32 along K), a core matrix's rows 16 bytes
 * apart (128 contiguous bytes); the descriptor's LBO is the distance
 * between core matrices adjacent along K, its SBO between those adjacent
 * along M (N).  So element (row, k) of es-byte elements sits at
 *   start + (row / 8)·SBO + (row mod 8)·16 + (k / (16/es))·LBO + (k mod (16/es))·es.
 * D (64×N, f32): thread t of the warpgroup, w = t / 32, g = (t mod 32) / 4,
 * q = t mod 4, holds accumulator i (i < N/2) at
 *   row 16·w + g + 8·((i mod 4) / 2),  column 8·(i / 4) + 2·q + (i mod 2).
 *
 * What it assumes: the no-swizzle layout only (gpu_wgmma_offset refuses
 * the others).
 */
#include "gpu.h"

enum { CORE_ROW = 16, CORE_ROWS = 8 };

/* ------------------------------------------------------------------------ */
/* The layouts                                                               */
/* ------------------------------------------------------------------------ */

uint64_t gpu_wgmma_fields(int64_t lbo, int64_t sbo) {
  uint64_t m = KIR_WGMMA_DESC_FIELD_MASK;
  return (((uint64_t)lbo >> 4) & m) << KIR_WGMMA_DESC_LBO_SHIFT |
         (((uint64_t)sbo >> 4) & m) << KIR_WGMMA_DESC_SBO_SHIFT;
}

uint64_t gpu_wgmma_encode(int64_t addr, uint64_t fields) {
  return fields | ((((uint64_t)addr & 0x3FFFF) >> 4) & KIR_WGMMA_DESC_FIELD_MASK)
                      << KIR_WGMMA_DESC_ADDR_SHIFT;
}

void gpu_wgmma_decode(uint64_t d, GpuWgmmaDesc *out) {
  uint64_t m = KIR_WGMMA_DESC_FIELD_MASK;
  out->addr = (int64_t)(((d >> KIR_WGMMA_DESC_ADDR_SHIFT) & m) << 4);
  out->lbo = (int64_t)(((d >> KIR_WGMMA_DESC_LBO_SHIFT) & m) << 4);
  out->sbo = (int64_t)(((d >> KIR_WGMMA_DESC_SBO_SHIFT) & m) << 4);
  out->base = (int)((d >> KIR_WGMMA_DESC_BASE_SHIFT) & 7);
  out->swizzle = (int)((d >> KIR_WGMMA_DESC_SWIZZLE_SHIFT) & 3);
}

int64_t gpu_wgmma_offset(const GpuWgmmaDesc *d, int row, int k, int es) {
  if (d->swizzle || d->base) return -1;
  int per = CORE_ROW / es;
  return (row / CORE_ROWS) * d->sbo + (row % CORE_ROWS) * CORE_ROW + (k / per) * d->lbo +
         (k % per) * es;
}

/* Accumulator i's row and column beyond 16·w + g and 2·q. */
static int acc_r0(int i) { return 8 * ((i % 4) / 2); }
static int acc_c0(int i) { return 8 * (i / 4) + i % 2; }

void gpu_wgmma_acc(int tid, int i, int *row, int *col) {
  int w = tid / GPU_WARP, g = tid % GPU_WARP / 4, q = tid % 4;
  *row = 16 * w + g + acc_r0(i);
  *col = 2 * q + acc_c0(i);
}
