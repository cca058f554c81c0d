/*
 * jit.c — running a compiled program in this process with ORC's LLJIT.
 *
 * The JIT loads the very object file cg_program_emit would write, not the
 * IR: what the tests run is what users link.  LLJIT links it in memory,
 * resolving the C library (memcpy, libm) from the process, and N_program
 * is looked up by name like a host binding by name would.
 */
#include <stdio.h>
#include <stdlib.h>

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "hloc_runtime.h"
#include "cpu.h"

struct CgJit {
  LLVMOrcLLJITRef jit;
  const hloc_program *program;
  const hloc_cuda_image *cuda_image; /* a GPU program's N_cuda_image, else NULL */
};

static HloError *llvm_error(LLVMErrorRef e, const char *what) {
  char *s = LLVMGetErrorMessage(e);
  HloError *err = hlo_error("codegen: JIT: %s: %s", what, s);
  LLVMDisposeErrorMessage(s);
  return err;
}

/* Loads object `obj` (taken) and looks up NAME_program. */
static HloError *jit_object(LLVMMemoryBufferRef obj, const char *prog_name, CgJit **out) {
  HloError *err;
  cpu_init_targets(); /* a cached object may be the first code of the process */
  CgJit *j = hlo_xcalloc(1, sizeof *j);
  LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->jit, NULL);
  if (e) {
    LLVMDisposeMemoryBuffer(obj);
    free(j);
    return llvm_error(e, "cannot create LLJIT");
  }
  LLVMOrcJITDylibRef lib = LLVMOrcLLJITGetMainJITDylib(j->jit);
  LLVMOrcDefinitionGeneratorRef gen;
  e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &gen, LLVMOrcLLJITGetGlobalPrefix(j->jit), NULL, NULL);
  if (!e) {
    LLVMOrcJITDylibAddGenerator(lib, gen);
    /* The runtime's parallel-for that large kernels call: this process's
     * own (the runtime is linked in, but its symbols need not be
     * exported for the generator above to find them). */
    /* So are the calls of a GPU program's entry (runtime/cuda_run.c). */
    LLVMJITSymbolFlags fn = {LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable,
                             0};
    LLVMOrcCSymbolMapPair rt[] = {
        {LLVMOrcLLJITMangleAndIntern(j->jit, "rt_parallel_for"),
         {(LLVMOrcExecutorAddress)(uintptr_t)&rt_parallel_for, fn}},
        {LLVMOrcLLJITMangleAndIntern(j->jit, "hloc_cuda_entry_launch"),
         {(LLVMOrcExecutorAddress)(uintptr_t)&hloc_cuda_entry_launch, fn}},
        {LLVMOrcLLJITMangleAndIntern(j->jit, "hloc_cuda_entry_copy"),
         {(LLVMOrcExecutorAddress)(uintptr_t)&hloc_cuda_entry_copy, fn}},
        {LLVMOrcLLJITMangleAndIntern(j->jit, "hloc_cuda_entry_begin"),
         {(LLVMOrcExecutorAddress)(uintptr_t)&hloc_cuda_entry_begin, fn}},
    };
    e = LLVMOrcJITDylibDefine(lib, LLVMOrcAbsoluteSymbols(rt, sizeof rt / sizeof *rt));
  }
  if (!e) {
    e = LLVMOrcLLJITAddObjectFile(j->jit, lib, obj); /* takes obj */
  } else {
    LLVMDisposeMemoryBuffer(obj);
  }
  HloStr name = {0};
  hlo_str_printf(&name, "%s_program", prog_name);
  LLVMOrcExecutorAddress addr = 0;
  if (!e) e = LLVMOrcLLJITLookup(j->jit, &addr, name.buf);
  free(name.buf);
  if (e) {
    err = llvm_error(e, "cannot load the program");
    cg_jit_free(j);
    return err;
  }
  j->program = (const hloc_program *)(uintptr_t)addr;
  name = (HloStr){0};
  hlo_str_printf(&name, "%s_cuda_image", prog_name);
  /* Only a GPU program's object defines it. */
  if ((e = LLVMOrcLLJITLookup(j->jit, &addr, name.buf))) LLVMConsumeError(e);
  else j->cuda_image = (const hloc_cuda_image *)(uintptr_t)addr;
  free(name.buf);
  *out = j;
  return NULL;
}

HloError *cg_jit_keep(const CgProgram *p, CgJit **out, char **object, size_t *object_len) {
  *out = NULL;
  if (object) *object = NULL;
  if (!cg_program_is_host(p))
    return hlo_error("codegen: JIT: the program targets %s, not this host",
                     cg_program_triple(p));
  char *data;
  size_t len;
  HloError *err = cg_program_emit(p, CG_FILE_OBJECT, &data, &len);
  if (err) return err;
  LLVMMemoryBufferRef obj = LLVMCreateMemoryBufferWithMemoryRangeCopy(data, len, "object");
  err = jit_object(obj, cg_program_signature(p)->name, out);
  if (!err && object) {
    *object = data;
    *object_len = len;
  } else {
    free(data);
  }
  return err;
}

HloError *cg_jit(const CgProgram *p, CgJit **out) { return cg_jit_keep(p, out, NULL, NULL); }

HloError *cg_jit_bytes(const void *data, size_t len, const char *name, CgJit **out) {
  *out = NULL;
  LLVMMemoryBufferRef obj = LLVMCreateMemoryBufferWithMemoryRangeCopy(data, len, "object");
  return jit_object(obj, name, out);
}

const hloc_program *cg_jit_program(const CgJit *j) { return j->program; }
const hloc_cuda_image *cg_jit_cuda_image(const CgJit *j) { return j->cuda_image; }

void cg_jit_free(CgJit *j) {
  if (!j) return;
  if (j->jit) {
    LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
    if (e) LLVMConsumeError(e);
  }
  free(j);
}
