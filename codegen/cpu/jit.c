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
};

static HloError *llvm_error(LLVMErrorRef e, const char *what) {
  char *s = LLVMGetErrorMessage(e);
  HloError *err = hlo_error("codegen: JIT: %s: %s", what, s);
  LLVMDisposeErrorMessage(s);
  return err;
}

HloError *cg_jit(const CgProgram *p, CgJit **out) {
  *out = NULL;
  if (!cg_program_is_host(p))
    return hlo_error("codegen: JIT: the program targets %s, not this host",
                     cg_program_triple(p));
  LLVMMemoryBufferRef obj;
  HloError *err = cg_program_object(p, &obj);
  if (err) return err;
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
    LLVMOrcCSymbolMapPair rt = {
        LLVMOrcLLJITMangleAndIntern(j->jit, "rt_parallel_for"),
        {(LLVMOrcExecutorAddress)(uintptr_t)&rt_parallel_for,
         {LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable, 0}}};
    e = LLVMOrcJITDylibDefine(lib, LLVMOrcAbsoluteSymbols(&rt, 1));
  }
  if (!e) {
    e = LLVMOrcLLJITAddObjectFile(j->jit, lib, obj); /* takes obj */
  } else {
    LLVMDisposeMemoryBuffer(obj);
  }
  const CgSignature *sig = cg_program_signature(p);
  HloStr name = {0};
  hlo_str_printf(&name, "%s_program", sig->name);
  LLVMOrcExecutorAddress addr = 0;
  if (!e) e = LLVMOrcLLJITLookup(j->jit, &addr, name.buf);
  free(name.buf);
  if (e) {
    err = llvm_error(e, "cannot load the program");
    cg_jit_free(j);
    return err;
  }
  j->program = (const hloc_program *)(uintptr_t)addr;
  *out = j;
  return NULL;
}

const hloc_program *cg_jit_program(const CgJit *j) { return j->program; }

void cg_jit_free(CgJit *j) {
  if (!j) return;
  if (j->jit) {
    LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
    if (e) LLVMConsumeError(e);
  }
  free(j);
}
