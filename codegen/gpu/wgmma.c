/*
 * wgmma.c — dots and convolutions on sm_90a's warpgroup MMA
 * (`wgmma.mma_async`), when the user opts in (--gpu-wgmma, which needs
 * --cpu sm_90a): the layouts of KIR_WGMMA's operands in shared memory and
 * of its accumulators (the one definition of them, which the interpreter
 * reads too), and the tiled kernel built on it (dot.c's gpu_tile_emit
 * sends here what mma.c would otherwise run: f16, bf16, and f32 in TF32
 * under --gpu-tf32).  Whether it beats mma.sync only a GPU can say, so
 * mma.sync stays the default.
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
 * The kernel.  A block is one warpgroup (128 threads) computing a 64×64
 * tile of the output, numbered as dot.c's (the same grid as mma.c's):
 * 32 f32 accumulators a thread.  The K loop runs in steps of STEP_K: a
 * barrier, the warpgroup stages A's 64 × STEP_K and B's STEP_K × 64 tiles
 * into shared memory in the layout above (LBO 128 bytes, SBO STEP_K·es·8
 * bytes; zeros past M, N, K and in a convolution's padding, TF32 rounded
 * as mma.c rounds it), an async-proxy fence (wgmma reads shared memory
 * through the async proxy), a barrier, wgmma.fence, one
 * m64n64k16 (k8 for tf32) wgmma per k slice of the step, chained through
 * the accumulators, commit, and wait for the group: the next step's
 * staging overwrites the tiles.  No double buffering: a first, checkable
 * version.  The epilogue is mma.c's (cg_from_float, gpu_gemm_store).
 *
 * What it assumes: the no-swizzle layout only (gpu_wgmma_offset refuses
 * the others); 16-byte aligned shared buffers (kir_mlir.c declares them
 * so); the accumulators untouched between a wgmma and its wait (the
 * chain and the loop's carried values only).  Exactness is mma.c's: exact
 * products, f32 sums in the hardware's order.
 */
#include "gpu.h"

enum { TILE = 64, STEP_K = 32, NACC = TILE / 2, CORE_ROW = 16, CORE_ROWS = 8, LBO = 128 };

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

/* ------------------------------------------------------------------------ */
/* The kernel                                                                */
/* ------------------------------------------------------------------------ */

bool gpu_wgmma_use(const CgGen *g, const CgGemm *gm) {
  return g->target->wgmma && gpu_mma_kind(g, gm) >= 0;
}

/* The element index in a staged tile (1-D, es-byte elements) of (row, k):
 * gpu_wgmma_offset's layout with LBO and `sbo`, over es. */
static CgVal staged_at(CgFn *f, CgVal row, CgVal k, int es, int64_t sbo) {
  int per = CORE_ROW / es;
  CgVal v = cg_imul_c(f, cg_iop(f, KIR_DIVUI, row, cg_index(f, CORE_ROWS)), sbo / es);
  v = cg_iop(f, KIR_ADDI, v, cg_imul_c(f, cg_iop(f, KIR_REMUI, row, cg_index(f, CORE_ROWS)),
                                       CORE_ROW / es));
  v = cg_iop(f, KIR_ADDI, v, cg_imul_c(f, cg_iop(f, KIR_DIVUI, k, cg_index(f, per)), LBO / es));
  return cg_iop(f, KIR_ADDI, v, cg_iop(f, KIR_REMUI, k, cg_index(f, per)));
}

void gpu_wgmma_emit(CgFn *f, const CgGemm *gm, CgVal out) {
  KirMmaKind kind = (KirMmaKind)gpu_mma_kind(f->g, gm);
  KirElem held = kind == KIR_MMA_TF32 ? KIR_I32 : KIR_I16;
  int es = kir_elem_bits(held) / 8, kk = kind == KIR_MMA_TF32 ? 8 : 16;
  int64_t sbo = (int64_t)STEP_K * es * CORE_ROWS;
  uint64_t fields = gpu_wgmma_fields(LBO, sbo);
  CgVal b, m0, n0;
  gpu_tile_origin(f, gm, TILE, TILE, &b, &m0, &n0);
  CgVal tid = f->lane;

  int64_t dims[1] = {(int64_t)TILE * STEP_K};
  CgVal as = gpu_shared(f, "wa", kir_memref_shared(f->g->k, held, 1, dims));
  CgVal bs = gpu_shared(f, "wb", kir_memref_shared(f->g->k, held, 1, dims));

  CgVal acc[NACC];
  for (int i = 0; i < NACC; i++) acc[i] = cg_const(f, HLO_F32, 0);
  CgLoop steps = cg_for(f, (gm->K + STEP_K - 1) / STEP_K, NACC, acc);
  CgVal k0 = cg_imul_c(f, steps.iv, STEP_K);
  kir_barrier(&f->b);
  /* A: consecutive threads along K (A's rows are contiguous in memory). */
  for (int i = 0; i < TILE * STEP_K / GPU_WARPGROUP; i++) {
    CgVal e = cg_iadd_c(f, tid, (int64_t)GPU_WARPGROUP * i);
    CgVal r = cg_iop(f, KIR_DIVUI, e, cg_index(f, STEP_K));
    CgVal c = cg_iop(f, KIR_REMUI, e, cg_index(f, STEP_K));
    CgVal x = gpu_gemm_a(f, gm, b, cg_iop(f, KIR_ADDI, m0, r), cg_iop(f, KIR_ADDI, k0, c));
    kir_store(&f->b, gpu_mma_staged(f, kind, x), as, (CgVal[]){staged_at(f, r, c, es, sbo)});
  }
  /* B: consecutive threads along N (B's rows are), stored K-major. */
  for (int i = 0; i < TILE * STEP_K / GPU_WARPGROUP; i++) {
    CgVal e = cg_iadd_c(f, tid, (int64_t)GPU_WARPGROUP * i);
    CgVal kr = cg_iop(f, KIR_DIVUI, e, cg_index(f, TILE));
    CgVal nc = cg_iop(f, KIR_REMUI, e, cg_index(f, TILE));
    CgVal x = gpu_gemm_b(f, gm, b, cg_iop(f, KIR_ADDI, k0, kr), cg_iop(f, KIR_ADDI, n0, nc));
    kir_store(&f->b, gpu_mma_staged(f, kind, x), bs, (CgVal[]){staged_at(f, nc, kr, es, sbo)});
  }
  kir_async_fence(&f->b);
  kir_barrier(&f->b);
  kir_wgmma_fence(&f->b);
  CgVal sum[NACC];
  for (int i = 0; i < NACC; i++) sum[i] = steps.iters + i;
  for (int s = 0; s < STEP_K / kk; s++) {
    /* The slice's first core matrices: kk / (16 / es) of them per slice. */
    CgVal off = cg_index(f, (int64_t)s * kk * es / CORE_ROW * LBO);
    CgVal da = kir_wgmma_desc(&f->b, as, off, fields);
    CgVal db = kir_wgmma_desc(&f->b, bs, off, fields);
    CgVal d = kir_wgmma(&f->b, kind, TILE, da, db, sum);
    for (int i = 0; i < NACC; i++) sum[i] = d + i;
  }
  kir_wgmma_commit(&f->b);
  kir_wgmma_wait(&f->b, 0);
  cg_for_end(f, &steps, sum);

  CgVal warp = cg_iop(f, KIR_DIVUI, tid, cg_index(f, GPU_WARP));
  CgVal lane = cg_iop(f, KIR_REMUI, tid, cg_index(f, GPU_WARP));
  CgVal g = cg_iop(f, KIR_DIVUI, lane, cg_index(f, 4));
  CgVal q = cg_iop(f, KIR_REMUI, lane, cg_index(f, 4));
  CgVal rb = cg_iop(f, KIR_ADDI, m0, cg_iop(f, KIR_ADDI, cg_imul_c(f, warp, 16), g));
  CgVal cb = cg_iop(f, KIR_ADDI, n0, cg_imul_c(f, q, 2));
  HloType rt = gm->op->shape.type;
  for (int i = 0; i < NACC; i++) {
    CgVal v = cg_from_float(f, steps.results + i, rt);
    gpu_gemm_store(f, gm, out, b, cg_iadd_c(f, rb, acc_r0(i)), cg_iadd_c(f, cb, acc_c0(i)), v);
  }
}
