/*
 * gpu.h — the NVIDIA GPU backend's files share these; codegen/ sees only
 * cg_gpu_backend (internal.h).  Internal to codegen/gpu/.
 *
 *   backend.c   the backend's table: policy, MLIR pipeline, libdevice,
 *               O3 for the SM
 *   target.c    the SMs and their facts, the NVPTX target machine
 *   parallel.c  a kernel's split loop as a grid-stride loop, or a row per
 *               block
 *   reduce.c    a row's reduction by the threads of its block
 *   dot.c       a dot or convolution as tiles staged in shared memory
 *   mma.c       the same on tensor cores (mma.sync), and the fragment
 *               layout of KIR_MMA
 *   wgmma.c     the same on sm_90a's warpgroup MMA (--gpu-wgmma), and the
 *               shared-memory and accumulator layouts of KIR_WGMMA
 *   device.c    the kernels moved onto the device, launched from the entry
 *   host.c      the entry for the host CPU, launching through the runtime;
 *               N_cuda_image
 *   ptx.c       the PTX, and a cubin from ptxas where it is installed
 *
 * docs/backends.md, "The GPU backend", says what exists.
 */
#ifndef HLOC_CODEGEN_GPU_H
#define HLOC_CODEGEN_GPU_H

#include "../internal.h"

/* What an SM is, from NVIDIA's table of compute capabilities (CUDA C++
 * Programming Guide, "Features and Technical Specifications"). */
typedef struct GpuSm {
  const char *name;        /* the --cpu spelling, LLVM's CPU name */
  int threads_per_sm;      /* resident threads an SM holds at most */
  int regs_per_sm;         /* 32-bit registers of an SM's register file */
  int l1_kib;              /* an SM's L1 data cache and shared memory */
} GpuSm;

/* Threads of a block: 8 warps.  A multiple of the warp size dividing the
 * resident threads of every SM supported (2048 and 1536), so whole blocks
 * fill an SM. */
enum { GPU_WARP = 32, GPU_BLOCK = 256 };
/* Threads that keep every SM of the largest supported GPU busy (132 SMs
 * of 2048 resident threads: 270 336; a quarter of that hides latency
 * well enough for a loop that only streams memory). */
enum { GPU_FULL = 65536 };
/* How many times its reductions' elements a row's other work may be for
 * the row to run on one block (parallel.c, gpu_groups). */
enum { GPU_ROW_SHARE = 8 };
/* The shared memory a kernel may declare statically (48 KiB on every
 * supported SM; more needs a dynamic allocation and an opt-in). */
enum { GPU_STATIC_SHARED = 48 << 10 };
#define GPU_MAX_GRID INT64_C(2147483647) /* blocks of a grid along x */

HloError *gpu_target_create(const CgOptions *o, CgTarget *out);
void gpu_target_destroy(CgTarget *t);

CgTask gpu_parallel(CgGen *g, KirFunc *k, int64_t n);
bool gpu_groups(CgGen *g, KirFunc *k, int64_t n, int64_t per_row, int64_t row_elems,
                bool columns, CgTask *out);
int gpu_group_reduce(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out);
/* Kernel k's body running its n iterations a block of `block` threads
 * each (the same block for all of an iteration); the task every thread
 * of the block runs it in, with its lane and group. */
CgTask gpu_block_task(CgGen *g, KirFunc *k, int64_t n, int block);
bool gpu_tiles(CgGen *g, KirFunc *k, const CgGemm *gm, CgTask *out);
void gpu_tile_emit(CgFn *f, const CgGemm *gm, CgVal out);
/* dot.c, for the tiled kernels: the tm × tn output tiles of contraction
 * gm (batch-major, then rows, then columns); tile f->par_lo's batch and
 * first row and column; the element (row, col) of its A (M×K) and B
 * (K×N) for batch b, 0 outside them and in a convolution's padding; the
 * store of its value v at (b, m, n) through the epilogue, when inside;
 * the block's shared memory `t` named for the kernel and `what`. */
int64_t gpu_tile_count(const CgGemm *gm, int tm, int tn);
void gpu_tile_origin(CgFn *f, const CgGemm *gm, int tm, int tn, CgVal *b, CgVal *m0, CgVal *n0);
CgVal gpu_gemm_a(CgFn *f, const CgGemm *gm, CgVal b, CgVal row, CgVal col);
CgVal gpu_gemm_b(CgFn *f, const CgGemm *gm, CgVal b, CgVal row, CgVal col);
void gpu_gemm_store(CgFn *f, const CgGemm *gm, CgVal out, CgVal b, CgVal m, CgVal n, CgVal v);
CgVal gpu_shared(CgFn *f, const char *what, KirType t);

/* mma.c: KIR_MMA's fragment layout (the comment at the top of mma.c says
 * it in full).  Lane l, g = l / 4, t = l mod 4, holds element e of its
 * fragment of an operand at row rg·g + rt·t + r0, column cg·g + ct·t + c0
 * of the operand's tile (A: m × k, B: k × n, C/D: m × n). */
typedef enum GpuMmaOperand { GPU_MMA_A, GPU_MMA_B, GPU_MMA_C } GpuMmaOperand;
typedef struct GpuMmaPlace {
  int8_t rg, rt, r0, cg, ct, c0;
} GpuMmaPlace;
typedef struct GpuMmaShape {
  int m, n, k;            /* the tile: A m × k, B k × n, C and D m × n */
  int per_reg;            /* A's and B's elements a 32-bit register holds */
  int na, nb;             /* A's and B's elements a lane holds (C's: 4) */
  const GpuMmaPlace *a, *b, *c;  /* by element */
} GpuMmaShape;
const GpuMmaShape *gpu_mma_shape(KirMmaKind k);
/* Where lane `lane`'s element e of operand `which` sits (row, col). */
void gpu_mma_elem(KirMmaKind k, GpuMmaOperand which, int lane, int e, int *row, int *col);
/* The kind contraction gm runs on tensor cores as (a KirMmaKind), or -1:
 * dot.c's exact f32 kernel. */
int gpu_mma_kind(const CgGen *g, const CgGemm *gm);
/* An element of A or B (its register type) as the bits staged for kind:
 * f16 and bf16 as they are, f32 rounded to TF32. */
CgVal gpu_mma_staged(CgFn *f, KirMmaKind kind, CgVal x);
void gpu_mma_emit(CgFn *f, const CgGemm *gm, CgVal out);

/* wgmma.c: KIR_WGMMA's layouts (the comment at the top of wgmma.c says
 * them in full).  A descriptor's fields; the descriptor of start address
 * addr (bytes in the shared window) with `fields` (the others, address
 * bits 0); the byte offset from the start address of element (row, k) of
 * a K-major operand of es-byte elements (-1 for a swizzled layout or a
 * base offset, which the kernels do not use); thread tid's (0…127)
 * accumulator i at (row, col) of the 64×N tile. */
enum { GPU_WARPGROUP = 128 };
typedef struct GpuWgmmaDesc {
  int64_t addr, lbo, sbo; /* bytes */
  int base, swizzle;
} GpuWgmmaDesc;
uint64_t gpu_wgmma_fields(int64_t lbo, int64_t sbo);
uint64_t gpu_wgmma_encode(int64_t addr, uint64_t fields);
void gpu_wgmma_decode(uint64_t d, GpuWgmmaDesc *out);
int64_t gpu_wgmma_offset(const GpuWgmmaDesc *d, int row, int k, int es);
void gpu_wgmma_acc(int tid, int i, int *row, int *col);
/* Whether contraction gm runs on wgmma (--gpu-wgmma and a tensor-core
 * kind), and the kernel (blocks of GPU_WARPGROUP threads). */
bool gpu_wgmma_use(const CgGen *g, const CgGemm *gm);
void gpu_wgmma_emit(CgFn *f, const CgGemm *gm, CgVal out);

HloError *gpu_place(KirModule *k, const CgSignature *sig, const CgTarget *t);
/* The grid (blocks) and block (threads) a kernel of `threads` threads is
 * launched with (0: one thread), in blocks of `fixed` threads when it is
 * not 0 (KirFunc.block). */
void gpu_launch_shape(int64_t threads, int fixed, int64_t *grid, int64_t *block);

/* The host's side (CgBackend.host_mlir, host_finish). */
HloError *gpu_host_mlir(KirModule *m, const CgSignature *sig, char **mlir);
HloError *gpu_host_finish(LLVMModuleRef mod, const CgTarget *ht, const CgSignature *sig,
                          LLVMModuleRef device, const CgTarget *dt, const CgData *consts);
/* convergent.c: marks mod's warp-synchronous calls (mma intrinsics, inline
 * assembly) and, to a fixed point, the functions making convergent calls
 * `convergent`, before O3; whether a call instruction is convergent. */
void gpu_mark_convergent(LLVMModuleRef mod);
bool gpu_call_convergent(LLVMValueRef call);
/* The device module's PTX (*ptx malloc'd, NUL-terminated, *len bytes
 * before the NUL). */
HloError *gpu_ptx(LLVMModuleRef device, const CgTarget *dt, char **ptx, size_t *len);
/* ptxas's cubin of ptx for SM sm (*cubin malloc'd), or *cubin NULL when
 * no ptxas is installed. */
HloError *gpu_cubin(const char *ptx, const char *sm, char **cubin, size_t *len);

#endif /* HLOC_CODEGEN_GPU_H */
