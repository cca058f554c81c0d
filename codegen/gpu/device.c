/*
 * device.c — the GPU's placement of a generated module (CgBackend.place):
 * every kernel the target-independent codegen built becomes a GPU kernel,
 * and the entry, which stays on the host, launches it where it called it.
 *
 * A kernel is a function the entry calls.  It and everything it calls
 * (its parallel task, parallel.c) become device functions; a kernel whose
 * loop was split across the grid is launched on as many threads as the
 * loop has iterations, in blocks of GPU_BLOCK threads (fewer, rounded up
 * to a warp, for a short loop; at most 2^31 - 1 blocks, the grid-stride loop
 * running the rest), a kernel of a row per block in blocks of its own
 * size (KirFunc.block), any other on one thread.  A call of the C
 * library's math (the f64 transcendentals, math.c) becomes a call of
 * libdevice's function of the same name with the `__nv_` prefix and the
 * same signature, linked into the device module when it is lowered
 * (backend.c).  The launches keep the calls' order, on one stream: a
 * kernel starts after the one before it has finished.
 *
 * A kernel using what only the CPU's runtime provides (a thread-pool
 * task's context, the cancellation flag, a profiler's hook) is refused
 * with an error naming its instruction; codegen builds none today, and
 * a new emitter that does is caught here rather than by ptxas.
 */
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

void gpu_launch_shape(int64_t threads, int fixed, int64_t *grid, int64_t *block) {
  if (threads < 1) threads = 1;
  if (fixed) *block = fixed;
  else if (threads >= GPU_BLOCK) *block = GPU_BLOCK;
  else if (threads == 1) *block = 1;
  else *block = (threads + GPU_WARP - 1) / GPU_WARP * GPU_WARP;
  *grid = (threads + *block - 1) / *block;
  /* The most blocks a grid has along x; the grid-stride loop does the rest. */
  if (*grid > GPU_MAX_GRID) *grid = GPU_MAX_GRID;
}

/* The instruction whose kernel is function `name`. */
static const char *instruction_of(const CgSignature *sig, const char *name) {
  for (int i = 0; i < sig->nkernels; i++)
    if (!strcmp(sig->kernels[i].symbol, name)) return sig->kernels[i].instruction;
  return name;
}

static HloError *to_device(KirModule *k, KirFunc *f, const char *instr);

/* The ops of b as device code (to_device). */
static HloError *block_to_device(KirModule *k, KirBlock *b, const char *instr) {
  for (KirOp *op = b->first; op; op = op->next) {
    for (int i = 0; i < op->nregions; i++) {
      HloError *e = block_to_device(k, op->regions[i], instr);
      if (e) return e;
    }
    if (op->code == KIR_RETURN) continue;
    if (kir_opcode_class(op->code) == KIR_C_CALL && op->code != KIR_CALL)
      return hlo_error("codegen: nvptx64: %%%s: its kernel uses the CPU runtime's '%s', which "
                       "the GPU does not have",
                       instr, kir_opcode_name(op->code));
    if (op->code != KIR_CALL) continue;
    KirFunc *callee = kir_func_find(k, op->sym);
    if (callee->body) {
      HloError *e = to_device(k, callee, instr);
      if (e) return e;
      continue;
    }
    if (callee->device) continue;
    HloStr nm = {0};
    hlo_str_printf(&nm, "__nv_%s", callee->name);
    KirFunc *nv = kir_func_declare(k, nm.buf, callee->nparams, callee->params, callee->nresults,
                                   &callee->result);
    free(nm.buf);
    nv->device = true;
    op->sym = nv->name;
  }
  return NULL;
}

/* f and what it calls on the device. */
static HloError *to_device(KirModule *k, KirFunc *f, const char *instr) {
  f->device = true;
  return block_to_device(k, f->body, instr);
}

/* Every call of a kernel in b (the entry's) becomes its launch. */
static HloError *launch_calls(KirModule *k, const CgSignature *sig, KirBlock *b) {
  for (KirOp *op = b->first, *next; op; op = next) {
    next = op->next;
    for (int i = 0; i < op->nregions; i++) {
      HloError *e = launch_calls(k, sig, op->regions[i]);
      if (e) return e;
    }
    if (op->code != KIR_CALL) continue;
    KirFunc *kf = kir_func_find(k, op->sym);
    if (!kf->body) continue;
    HloError *e = to_device(k, kf, instruction_of(sig, kf->name));
    if (e) return e;
    kf->kernel = true;
    int64_t grid, block;
    gpu_launch_shape(kf->threads, kf->block, &grid, &block);
    KirBuilder at;
    kir_before(&at, op);
    kir_launch(&at, kf, kir_index(&at, grid), kir_index(&at, block), op->nopnds, op->opnds);
    kir_erase(op);
  }
  return NULL;
}

HloError *gpu_place(KirModule *k, const CgSignature *sig, const CgTarget *t) {
  (void)t;
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_run_profiled", sig->name);
  KirFunc *entry = kir_func_find(k, nm.buf);
  free(nm.buf);
  HLO_CHECK(entry);
  return launch_calls(k, sig, entry->body);
}
