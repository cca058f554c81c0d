/*
 * parallel.c — how a GPU kernel's split loop runs: over the launch grid.
 * The kernel (launched on n threads, device.c) runs a grid-stride loop
 * over the loop's n iterations,
 *   for (i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
 *        i += gridDim.x * blockDim.x)
 *     K_task(memrefs…, i, i + 1);
 * and codegen emits the kernel's loop nest in K_task, a device function
 * that LLVM inlines, with the split loop over [i, i + 1) only.  The loop
 * is correct on any grid; the launch gives each iteration a thread of its
 * own, so it runs once per thread.  Which loop is split is codegen's
 * (kernel.c), as on the CPU: a kernel with no split loop runs on one
 * thread (correct, slow).
 *
 * A kernel that reduces rows (kernel.c, "Group kernels") runs instead a
 * row per block: the block-stride loop
 *   for (r = blockIdx.x; r < rows; r += gridDim.x) K_task(memrefs…, r, r + 1);
 * and every thread of the block runs K_task on the row, knowing its
 * number in the block (threadIdx.x, the group's lane).
 */
#include <stdlib.h>

#include "gpu.h"

/* Kernel k's body: for (i = first; i < n; i += stride) K_task(…, i, i + 1),
 * first and stride built by `ids` in k; the task returned. */
static CgTask build(CgGen *g, KirFunc *k, int64_t n,
                    void (*ids)(KirBuilder *b, KirVal *first, KirVal *stride)) {
  HloStr name = {0};
  hlo_str_printf(&name, "%s_task", k->name);
  char *task_name = hlo_str_take(&name);
  KirType idx = kir_scalar(KIR_INDEX);
  KirType *tp = hlo_xmalloc((size_t)(k->nparams + 2) * sizeof *tp);
  for (int i = 0; i < k->nparams; i++) tp[i] = k->params[i];
  tp[k->nparams] = tp[k->nparams + 1] = idx;
  KirFunc *task = kir_func_new(g->k, task_name, k->nparams + 2, tp, 0, NULL);
  task->internal = task->device = true;
  k->device = k->kernel = true;
  free(tp);
  free(task_name);

  KirBuilder b;
  kir_at_end(&b, k->body);
  KirVal first, stride;
  ids(&b, &first, &stride);
  KirOp *loop = kir_for(&b, first, kir_index(&b, n), stride, 0, NULL);
  KirBuilder after = b;
  kir_at_end(&b, kir_region(loop, 0));
  KirVal *args = hlo_xmalloc((size_t)(k->nparams + 2) * sizeof *args);
  for (int i = 0; i < k->nparams; i++) args[i] = kir_param(k, i);
  args[k->nparams] = kir_for_iv(loop);
  args[k->nparams + 1] = kir_binop(&b, KIR_ADDI, kir_for_iv(loop), kir_index(&b, 1));
  kir_call(&b, task, k->nparams + 2, args);
  kir_yield(&b, 0, NULL);
  free(args);
  b = after;
  kir_return(&b, 0, NULL);

  CgVal *params = hlo_xmalloc((size_t)(k->nparams + 1) * sizeof *params);
  for (int i = 0; i < k->nparams; i++) params[i] = kir_param(task, i);
  return (CgTask){
      .fn = task,
      .params = params,
      .lo = kir_param(task, k->nparams),
      .hi = kir_param(task, k->nparams + 1),
  };
}

/* A thread's iterations: from its number in the grid, by the grid's threads. */
static void thread_ids(KirBuilder *b, KirVal *first, KirVal *stride) {
  /* One op after the other (C leaves the order of arguments open). */
  KirVal block = kir_gpu_index(b, KIR_BLOCK_ID);
  KirVal threads = kir_gpu_index(b, KIR_BLOCK_DIM);
  KirVal thread = kir_gpu_index(b, KIR_THREAD_ID);
  *first = kir_binop(b, KIR_ADDI, kir_binop(b, KIR_MULI, block, threads), thread);
  KirVal blocks = kir_gpu_index(b, KIR_GRID_DIM);
  *stride = kir_binop(b, KIR_MULI, blocks, threads);
}

CgTask gpu_parallel(CgGen *g, KirFunc *k, int64_t n) {
  k->threads = n;
  return build(g, k, n, thread_ids);
}

/* A block's iterations: from its number, by the grid's blocks.  The same
 * for every thread of the block, so they run every iteration together
 * (what the task's barriers need). */
static void block_ids(KirBuilder *b, KirVal *first, KirVal *stride) {
  *first = kir_gpu_index(b, KIR_BLOCK_ID);
  *stride = kir_gpu_index(b, KIR_GRID_DIM);
}

/* A kernel whose rows reduce `per_row` elements each runs a row per
 * block (gpu/reduce.c reduces it): blocks of GPU_BLOCK threads, or for a
 * shorter row as many warps as cover it (one warp for a row of up to 32:
 * a warp reduces it with shuffles alone).  Rows of fewer than a warp's
 * elements, when there are several, leave most of a warp idle: such a
 * kernel runs a row per thread instead (gpu_parallel), unless it is one
 * row (a reduction to a scalar), which a warp still reduces faster than
 * one thread.  And a row whose other work is more than GPU_ROW_SHARE
 * times its reductions' (a scalar reduced from 4 elements scaling a
 * million) would leave that work to one block: it runs as gpu_parallel
 * runs it, each thread reducing the small row itself.
 *
 * A column kernel runs a tile of 32 columns per block, its warps (8, or
 * one per reduced element when there are fewer) splitting the reduced
 * elements.  When its columns alone give GPU_FULL threads, a thread per
 * column (gpu_parallel, each summing its column, still coalesced) keeps
 * the GPU as busy without combining anything: then it declines. */
bool gpu_groups(CgGen *g, KirFunc *k, int64_t n, int64_t per_row, int64_t row_elems,
                bool columns, CgTask *out) {
  int block;
  if (columns) {
    if (n < 1 || n * CG_COLUMN_TILE >= GPU_FULL) return false;
    block = GPU_WARP * (int)(per_row < GPU_BLOCK / GPU_WARP ? per_row : GPU_BLOCK / GPU_WARP);
  } else {
    if (n < 1 || (n > 1 && per_row < GPU_WARP) || row_elems / GPU_ROW_SHARE > per_row)
      return false;
    block = per_row >= GPU_BLOCK ? GPU_BLOCK : (int)((per_row + GPU_WARP - 1) / GPU_WARP * GPU_WARP);
  }
  *out = gpu_block_task(g, k, n, block);
  return true;
}

CgTask gpu_block_task(CgGen *g, KirFunc *k, int64_t n, int block) {
  k->threads = n * block;
  k->block = block;
  CgTask t = build(g, k, n, block_ids);
  KirBuilder b;
  kir_at_start(&b, t.fn->body);
  t.lane = kir_gpu_index(&b, KIR_THREAD_ID);
  t.group = block;
  return t;
}
