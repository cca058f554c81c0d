/*
 * target.c — the GPU target for CgOptions: `--target nvptx64` with
 * `--cpu` one of the SMs below (sm_80 by default), the facts kernels are
 * shaped by (CgTargetInfo), and LLVM's NVPTX target machine, which emits
 * PTX for that SM.
 *
 * The facts are what one thread has, since each thread runs a kernel's
 * loop nest for its iterations (parallel.c): vectors of 128 bits (the
 * widest load or store a thread issues, ld.global.v4.b32), as many of
 * them as the registers an SM gives each thread when it is full of
 * threads (its register file over its resident threads, 32 or 42
 * registers, in 4-lane vectors), fused multiply-add, and int8 dot
 * products (dp4a).  The L1 is the SM's L1 and shared memory.  The L2's
 * size is the product's, not the SM's (2 MiB to 50 MiB among the parts
 * of these SMs), so kernels get the common floor of 2 MiB, as a named
 * CPU gets the CPU floor; there is no L3, the L2 is the last level.
 *
 * No --features: the SM decides the instructions, and the PTX version is
 * the one LLVM requires for it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Target.h>

#include "gpu.h"

static const GpuSm sms[] = {
    {"sm_80", 2048, 65536, 192},
    {"sm_86", 1536, 65536, 128},
    {"sm_89", 1536, 65536, 128},
    {"sm_90", 2048, 65536, 256},
    /* sm_90 with its architecture-specific instructions (wgmma): the
     * PTX and cubin run on sm_90 GPUs only, not on later ones. */
    {"sm_90a", 2048, 65536, 256},
};
enum { NSMS = sizeof sms / sizeof *sms };

static const char triple[] = "nvptx64-nvidia-cuda";

static pthread_once_t nvptx_once = PTHREAD_ONCE_INIT;

static void init_nvptx(void) {
  LLVMInitializeNVPTXTargetInfo();
  LLVMInitializeNVPTXTarget();
  LLVMInitializeNVPTXTargetMC();
  LLVMInitializeNVPTXAsmPrinter();
}

static CgTargetInfo target_info(const GpuSm *sm) {
  int regs = sm->regs_per_sm / sm->threads_per_sm;
  return (CgTargetInfo){
      .vector_bits = 128,
      .preferred_bits = 128,
      .vector_regs = regs / 4,
      .fma = true,
      .int8_dot = true,
      .l1d_bytes = (int64_t)sm->l1_kib << 10,
      .l2_bytes = 2 << 20,
      .l3_bytes = 2 << 20,
      .line_bytes = 128,
      .cheap_threads = true,
  };
}

HloError *gpu_target_create(const CgOptions *o, CgTarget *out) {
  memset(out, 0, sizeof *out);
  const char *cpu = o && o->cpu ? o->cpu : sms[0].name;
  const GpuSm *sm = NULL;
  for (int i = 0; i < NSMS; i++)
    if (!strcmp(sms[i].name, cpu)) sm = &sms[i];
  if (!sm) {
    HloStr valid = {0};
    for (int i = 0; i < NSMS; i++) hlo_str_printf(&valid, "%s%s", i ? ", " : "", sms[i].name);
    HloError *e = hlo_error("codegen: unknown CPU '%s' for nvptx64; valid CPUs (SMs): %s", cpu,
                            valid.buf);
    free(valid.buf);
    return e;
  }
  if (o && o->features && *o->features)
    return hlo_error("codegen: nvptx64 takes no --features ('%s'): the SM (--cpu) decides",
                     o->features);
  if (o && o->gpu_wgmma && strcmp(sm->name, "sm_90a"))
    return hlo_error("codegen: --gpu-wgmma needs --cpu sm_90a, not '%s' (wgmma is an sm_90a "
                     "instruction: ptxas refuses it for sm_90, and no other SM has it)",
                     sm->name);
  pthread_once(&nvptx_once, init_nvptx);
  char *err = NULL;
  LLVMTargetRef target;
  if (LLVMGetTargetFromTriple(triple, &target, &err)) {
    HloError *e = hlo_error("codegen: LLVM has no target for %s: %s", triple, err);
    LLVMDisposeMessage(err);
    return e;
  }
  out->backend = &cg_gpu_backend;
  out->info = target_info(sm);
  out->triple = hlo_xstrdup(triple);
  out->cpu = hlo_xstrdup(sm->name);
  out->is_host = false;
  out->tf32 = o && o->gpu_tf32;
  out->wgmma = o && o->gpu_wgmma;
  out->tm = LLVMCreateTargetMachine(target, triple, sm->name, "", LLVMCodeGenLevelAggressive,
                                    LLVMRelocDefault, LLVMCodeModelDefault);
  return NULL;
}

void gpu_target_destroy(CgTarget *t) {
  if (t->tm) LLVMDisposeTargetMachine(t->tm);
  free(t->triple);
  free(t->cpu);
  memset(t, 0, sizeof *t);
}
