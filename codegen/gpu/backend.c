/*
 * backend.c — the NVIDIA GPU backend (`--target nvptx64`): the table
 * codegen/ calls through (internal.h, CgBackend), the policy the passes
 * follow for its kernels, and the lowering of the device code to PTX.
 *
 * The policy also splits long row reductions into few results in two
 * (passes/tree_reduce.c), so that they run on many blocks.
 *
 * The printed module holds the host's entry and a gpu.module of the
 * device functions (kir_mlir.c).  Lowering runs, inside the gpu.module,
 * DESIGN.md's CPU recipe up to convert-gpu-to-nvvm, which turns the
 * gpu dialect's ids into NVVM's special registers, kernels into
 * ptx_kernel functions taking bare pointers (use-bare-ptr-memref-call-
 * conv: a kernel's parameters are the device addresses of its buffers),
 * and the math ops NVPTX has no exact instruction for into calls of
 * libdevice (__nv_floorf, __nv_fmodf, …); the gpu.module's contents are
 * translated as one LLVM module.  `finish` links libdevice into it only
 * when some call needs it, makes everything but the kernels and the
 * constants' storage internal, marks its warp-synchronous calls
 * convergent (convergent.c), and optimizes it for the SM (LLVM's
 * default<O3>, whose NVVMReflect answers libdevice's questions: no
 * flush-to-zero).  Emitting that module as assembly gives the PTX.
 *
 * The object's host side is host.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Linker.h>

#include "../cpu/cpu.h"
#include "gpu.h"

/* The tiled convolution (dot.c) stages its input through a check of
 * every element's bounds anyway, so zeros for the padding cost nothing
 * there and a padded copy would cost a kernel and a pass over the input;
 * a depthwise one runs gemm.c's kernel, which gains by the copy as on the
 * CPU. */
static bool gpu_conv_keeps_padding(const PassPolicy *p, const HloInstr *x) {
  (void)p;
  return x->feature_group_count == 1;
}

/* The CPU's policy (the same loop nests, hoisting and views) but for the
 * padding of convolutions (above) and the epilogues of contractions: a GPU thread computes its output elements
 * one at a time in every kernel, so an erf or tanh after a dot loses no
 * vector lanes in the dot's kernel, and a kernel of its own would cost a
 * launch and a round trip of the dot's output through memory (GELU after
 * a dense layer becomes one kernel). */
static void gpu_policy(const CgTarget *t, PassPolicy *out) {
  cpu_policy(t, out);
  out->scalar_contraction_epilogues = false;
  /* A row per block: fewer rows than fill GPU_FULL threads, each long
   * enough for its chunks to fill blocks of their own, run in two steps. */
  out->tree_reduce_min_row = GPU_FULL;
  out->tree_reduce_max_rows = GPU_FULL / GPU_BLOCK;
  out->conv_keeps_padding = gpu_conv_keeps_padding;
}

static const char pipeline[] =
    "builtin.module(gpu.module(convert-vector-to-scf, convert-scf-to-cf, "
    "expand-strided-metadata, convert-vector-to-llvm, "
    "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1}, convert-math-to-llvm, "
    "convert-nvvm-to-llvm, reconcile-unrealized-casts))";

static HloError *gpu_lower(const char *mlir, LLVMContextRef ctx, LLVMModuleRef *out) {
  return cg_mlir_lower_nested(mlir, pipeline, "gpu.module", ctx, out);
}

/* The first function of mod that libdevice defines (`__nv_…`) and mod
 * only declares, or NULL. */
static const char *libdevice_needed(LLVMModuleRef mod) {
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    size_t n;
    const char *name = LLVMGetValueName2(f, &n);
    if (LLVMIsDeclaration(f) && n > 5 && !strncmp(name, "__nv_", 5)) return name;
  }
  return NULL;
}

/* libdevice's bitcode: $CUDA_HOME, $CUDA_PATH, then /usr/local/cuda. */
static char *libdevice_path(void) {
  const char *roots[] = {getenv("CUDA_HOME"), getenv("CUDA_PATH"), "/usr/local/cuda"};
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    if (!roots[i] || !*roots[i]) continue;
    HloStr p = {0};
    hlo_str_printf(&p, "%s/nvvm/libdevice/libdevice.10.bc", roots[i]);
    FILE *f = fopen(p.buf, "rb");
    if (f) {
      fclose(f);
      return hlo_str_take(&p);
    }
    free(p.buf);
  }
  return NULL;
}

/* Links libdevice into mod when a call needs it. */
static HloError *link_libdevice(LLVMModuleRef mod) {
  const char *need = libdevice_needed(mod);
  if (!need) return NULL;
  char *path = libdevice_path();
  if (!path)
    return hlo_error("codegen: nvptx64: the kernels call libdevice's %s, and libdevice was not "
                     "found (looked for nvvm/libdevice/libdevice.10.bc under $CUDA_HOME, "
                     "$CUDA_PATH and /usr/local/cuda)",
                     need);
  LLVMMemoryBufferRef buf;
  char *msg = NULL;
  LLVMModuleRef lib = NULL;
  HloError *e = NULL;
  if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg)) {
    e = hlo_error("codegen: nvptx64: cannot read %s: %s", path, msg);
    LLVMDisposeMessage(msg);
  } else {
    if (LLVMParseBitcodeInContext2(LLVMGetModuleContext(mod), buf, &lib))
      e = hlo_error("codegen: nvptx64: %s is not LLVM bitcode", path);
    LLVMDisposeMemoryBuffer(buf);
  }
  if (!e) {
    LLVMSetTarget(lib, LLVMGetTarget(mod));
    LLVMSetDataLayout(lib, LLVMGetDataLayoutStr(mod));
    if (LLVMLinkModules2(mod, lib)) e = hlo_error("codegen: nvptx64: linking %s failed", path);
  }
  if (!e && (need = libdevice_needed(mod)))
    e = hlo_error("codegen: nvptx64: the kernels call %s, which libdevice (%s) does not define",
                  need, path);
  free(path);
  return e;
}

/* Only the kernels are entry points: every other function with a body
 * (tasks, libdevice's) becomes internal, so O3 inlines and drops them. */
static void internalize(LLVMModuleRef mod) {
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f) && LLVMGetFunctionCallConv(f) != LLVMPTXKernelCallConv)
      LLVMSetLinkage(f, LLVMInternalLinkage);
}

static HloError *gpu_finish(LLVMModuleRef mod, const CgTarget *t, const CgSignature *sig,
                            int part) {
  (void)sig;
  (void)part;
  cpu_set_target(mod, t); /* libdevice links into a module of its triple */
  HloError *e = link_libdevice(mod);
  if (e) return e;
  internalize(mod);
  gpu_mark_convergent(mod);
  return cpu_optimize(mod, t);
}

const CgBackend cg_gpu_backend = {
    .name = "gpu",
    .targets = "nvptx64",
    .create = gpu_target_create,
    .destroy = gpu_target_destroy,
    .policy = gpu_policy,
    .parallel = gpu_parallel,
    .groups = gpu_groups,
    .group_reduce = gpu_group_reduce,
    .tiles = gpu_tiles,
    .tile_emit = gpu_tile_emit,
    .place = gpu_place,
    .whole = true,
    .host_mlir = gpu_host_mlir,
    .host_finish = gpu_host_finish,
    .lower = gpu_lower,
    .finish = gpu_finish,
};
