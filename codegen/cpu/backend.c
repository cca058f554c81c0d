/*
 * backend.c — the CPU backend (x86-64 and AArch64, cross or native): the
 * table codegen/ calls through (internal.h, CgBackend), the policy the
 * passes follow for its kernels, and its MLIR pipeline.
 *
 * Kernels run on the calling thread or as tasks of the runtime's thread
 * pool (parallel.c); the object holds the C entry points of the compiled
 * function (abi.c), and codegen.c adds the constants' bytes to it.
 */
#include <string.h>

#include "cpu.h"

/* What kernel.c does with a kernel today: values read at a prefix of the
 * loop nest's indices are computed once per prefix (hoisted), a reshape at
 * a fused root is a view, contraction outputs come one at a time out of
 * scalar loops, a reduction writes a producer it reduces by rows, and
 * kernels that read an operand only at their own index may write over it
 * (buffer reuse), a convolution's padding is a copy of its input
 * (gemm.c's border tiles check every tap) but for Winograd's, and a sort merges through
 * working memory in the arena (sort.c). */
/* A convolution by Winograd selects zeros for its padding in the input
 * transform at no measurable cost: a padded copy would cost a pass over
 * the input. */
static bool cpu_conv_keeps_padding(const PassPolicy *p, const HloInstr *x) {
  CgTargetInfo info;
  memcpy(&info, p->target, sizeof info);
  return cg_conv_by_winograd(&info, x);
}

_Static_assert(sizeof(CgTargetInfo) <= PASS_POLICY_TARGET_BYTES, "CgTargetInfo in PassPolicy");

void cpu_policy(const CgTarget *t, PassPolicy *out) {
  *out = (PassPolicy){
      .hoist_prefix_values = true,
      .root_views = true,
      .scalar_contraction_epilogues = true,
      .reductions_write_producers = true,
      .reuse_operand_buffers = true,
      .explicit_conv_padding = true,
      .kernel_temp_bytes = cg_kernel_temp_bytes,
      .conv_keeps_padding = cpu_conv_keeps_padding,
  };
  memcpy(out->target, &t->info, sizeof t->info);
}

/* DESIGN.md's recipe, plus convert-math-to-libm for the math ops LLVM has
 * no intrinsic for, and the bare-pointer calling convention so N_run's
 * memrefs become the plain pointers of the C signature. */
static const char pipeline[] =
    "builtin.module(convert-vector-to-scf, convert-scf-to-cf, "
    "convert-vector-to-llvm, convert-math-to-llvm, convert-math-to-libm, "
    "expand-strided-metadata, finalize-memref-to-llvm, convert-arith-to-llvm, "
    "convert-cf-to-llvm, "
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}, "
    "convert-index-to-llvm, reconcile-unrealized-casts)";

static HloError *cpu_lower(const char *mlir, LLVMContextRef ctx, LLVMModuleRef *out) {
  return cg_mlir_lower(mlir, pipeline, ctx, out);
}

static HloError *cpu_finish(LLVMModuleRef mod, const CgTarget *t, const CgSignature *sig,
                            int part) {
  if (part == 0) cpu_abi_finish(mod, sig, t);
  return cpu_optimize(mod, t);
}

const CgBackend cg_cpu_backend = {
    .name = "cpu",
    .targets = "x86_64, aarch64",
    .create = cpu_target_create,
    .destroy = cpu_target_destroy,
    .policy = cpu_policy,
    .parallel = cpu_parallel,
    .lower = cpu_lower,
    .finish = cpu_finish,
};
