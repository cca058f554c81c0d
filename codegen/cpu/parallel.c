/*
 * parallel.c — how a CPU kernel's split loop runs: on the runtime's thread
 * pool.  The kernel function stores the aligned pointers of its memrefs in
 * a context on its stack and calls
 *   rt_parallel_for(NULL, n, K_task, ctx)
 * over the n iterations; the task K_task(ctx, begin, end) rebuilds the
 * memrefs from the context, and codegen emits the kernel's loop nest there
 * with the split loop over [begin, end) only.  With no pool installed
 * (hloc_set_thread_pool) the runtime runs the one range [0, n) on the
 * calling thread.  Which loop is split, and when it pays, is codegen's
 * (kernel.c): this file only says how a split loop runs here.
 */
#include <stdlib.h>

#include "cpu.h"

CgTask cpu_parallel(CgGen *g, KirFunc *k, int64_t n) {
  HloStr name = {0};
  hlo_str_printf(&name, "%s_task", k->name);
  char *task_name = hlo_str_take(&name);
  KirType tp[3] = {kir_scalar(KIR_PTR), kir_scalar(KIR_I64), kir_scalar(KIR_I64)};
  KirFunc *task = kir_func_new(g->k, task_name, 3, tp, 0, NULL);
  task->internal = true;
  free(task_name);

  KirBuilder b;
  kir_at_end(&b, k->body);
  CgVal *params = hlo_xmalloc((size_t)(k->nparams + 1) * sizeof *params);
  for (int i = 0; i < k->nparams; i++) params[i] = kir_param(k, i);
  CgVal ctx = kir_pack(&b, k->nparams, params);
  kir_parallel_for(&b, kir_const_int(&b, kir_scalar(KIR_I64), n), ctx, task);
  kir_return(&b, 0, NULL);

  kir_at_end(&b, task->body);
  for (int i = 0; i < k->nparams; i++)
    params[i] = kir_unpack(&b, kir_param(task, 0), i, k->params[i]);
  KirType idx = kir_scalar(KIR_INDEX);
  return (CgTask){
      .fn = task,
      .params = params,
      .lo = kir_cast(&b, KIR_INDEX_CAST, kir_param(task, 1), idx),
      .hi = kir_cast(&b, KIR_INDEX_CAST, kir_param(task, 2), idx),
  };
}
