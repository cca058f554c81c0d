/*
 * cpu.h — the CPU backend's files share these; codegen/ sees only
 * cg_cpu_backend (internal.h).  Internal to codegen/cpu/.
 *
 *   backend.c   the backend's table: policy, MLIR pipeline, finishing
 *   target.c    the LLVM target machine, the target's facts, O3
 *   parallel.c  kernels split across the runtime's thread pool
 *   abi.c       N_run_buffers, N_program, the constants' bytes
 *   jit.c       running a program in this process (ORC LLJIT)
 */
#ifndef HLOC_CODEGEN_CPU_H
#define HLOC_CODEGEN_CPU_H

#include "../internal.h"

/* Registers LLVM's x86-64 and AArch64 targets, once per process (what
 * cpu_target_create and the JIT need). */
void cpu_init_targets(void);
HloError *cpu_target_create(const CgOptions *o, CgTarget *out);
void cpu_target_destroy(CgTarget *t);
/* Gives mod t's triple and data layout. */
void cpu_set_target(LLVMModuleRef mod, const CgTarget *t);
/* cpu_set_target, then verifies mod and runs default<O3>. */
HloError *cpu_optimize(LLVMModuleRef mod, const CgTarget *t);
/* The PassPolicy of the loop nests kernel.c builds (backend.c); the GPU
 * backend runs the same nests, one thread's iterations each. */
void cpu_policy(const CgTarget *t, PassPolicy *out);

CgTask cpu_parallel(CgGen *g, KirFunc *k, int64_t n);

/* Adds N_run_buffers and N_program to a translated module. */
void cpu_abi_finish(LLVMModuleRef mod, const CgSignature *sig, const CgTarget *t);

#endif /* HLOC_CODEGEN_CPU_H */
