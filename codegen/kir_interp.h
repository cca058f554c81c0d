/*
 * kir_interp.h — an interpreter of the kernel IR (kir.h) that simulates a
 * GPU's execution model on the CPU, so that what the GPU backend's kernels
 * compute can be tested where no GPU is (tests/test_codegen_gpu_sim.c).
 * Internal to codegen/ and its tests.
 *
 * It runs a module as codegen builds it for `--target nvptx64` before
 * host.c rewrites the entry: the entry's LAUNCH ops run their kernel on a
 * grid of blocks, over ordinary memory the caller hands in.  A block's
 * threads run in lockstep, op by op, each op for every thread that is
 * active there (structured control flow narrows the set), which is one
 * schedule a correctly synchronized kernel must accept; what a real GPU
 * could order differently is reported instead of hidden:
 *   - a BARRIER or SHFL_XOR that not every thread of the block (of the
 *     warp) reaches together;
 *   - two threads of a block touching the same element of shared memory
 *     between two barriers, one of them writing (a race), and a read of
 *     shared memory no thread of the block wrote;
 *   - an access outside a memref (the message names the function, the
 *     op, the dim and the index), a store into a constant, an integer
 *     division by zero, a view outside its arena.
 * Every such report is an error value; the interpreter never aborts on
 * what the IR does.  Values follow the MLIR ops the IR prints as (f32
 * arithmetic in f32, casts that saturate as NVPTX's cvt does); external
 * math functions (libdevice's __nv_expf, …, or libm's names) are libm's.
 * A module built for the CPU runs too (its parallel-for on one thread).
 */
#ifndef HLOC_CODEGEN_KIR_INTERP_H
#define HLOC_CODEGEN_KIR_INTERP_H

#include "kir.h"

/* An argument of the function run: a memref's bytes (data, bytes: at
 * least its type's), a pointer (data), or a scalar's bits (bits). */
typedef struct KirInterpArg {
  void *data;
  size_t bytes;
  uint64_t bits;
} KirInterpArg;

/* What a run did (summed over its launches). */
typedef struct KirInterpStats {
  int64_t launches, blocks, threads; /* threads: over all blocks */
  int64_t barriers, shuffles, mmas;  /* executed, per block and warp */
  int64_t wgmmas;                    /* executed, per warpgroup */
} KirInterpStats;

typedef struct KirInterpOptions {
  bool no_race_check;    /* skip the shared-memory checks (races, reads
                          * of what no thread wrote) */
  /* When not 0: launches run at most this many blocks (GRID_DIM says so),
   * as a GPU whose grids are that small would; the kernels' grid-stride
   * loops must do the rest. */
  int64_t max_grid;
  KirInterpStats *stats; /* filled when not NULL */
} KirInterpOptions;

/* Runs function `name` of m (a host function, on one thread) with args;
 * *result gets its result's bits when it has one.  o may be NULL. */
HloError *kir_interp_run(const KirModule *m, const char *name, int nargs,
                         const KirInterpArg *args, const KirInterpOptions *o, uint64_t *result);

#endif /* HLOC_CODEGEN_KIR_INTERP_H */
