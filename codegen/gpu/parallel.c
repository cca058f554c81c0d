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
 */
#include <stdlib.h>

#include "gpu.h"

CgTask gpu_parallel(CgGen *g, KirFunc *k, int64_t n) {
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
  k->threads = n;
  free(tp);
  free(task_name);

  KirBuilder b;
  kir_at_end(&b, k->body);
  /* One op after the other (C leaves the order of arguments open). */
  KirVal block = kir_gpu_index(&b, KIR_BLOCK_ID);
  KirVal threads = kir_gpu_index(&b, KIR_BLOCK_DIM);
  KirVal thread = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal first = kir_binop(&b, KIR_ADDI, kir_binop(&b, KIR_MULI, block, threads), thread);
  KirVal blocks = kir_gpu_index(&b, KIR_GRID_DIM);
  KirVal stride = kir_binop(&b, KIR_MULI, blocks, threads);
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
