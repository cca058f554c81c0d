/*
 * abi.c — the parts of the compiled function's ABI built directly in LLVM
 * IR, after translation: N_run_buffers (the generic entry: loads each
 * buffer pointer from an array and calls N_run) and N_program, the
 * descriptor hosts bind by name.
 *
 * They are built here rather than in MLIR because both refer to N_run as a
 * symbol, which MLIR's LLVM dialect can only do once func.func has become
 * llvm.func, i.e. after the pipeline.  The struct layouts are those of
 * hloc_buffer_info and hloc_program in runtime/hloc_runtime.h under the
 * LP64 C ABI of both supported targets (natural alignment, no packing):
 *
 *   hloc_buffer_info  { ptr name; i32 dtype; i32 rank; ptr dims; i64 bytes }
 *   hloc_program      { ptr name; i32 num_args; i32 num_results;
 *                       ptr args; ptr results; i64 scratch_bytes;
 *                       i64 scratch_align; ptr run }
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

/* The RtDtype of an element type (hloc_runtime.h's numbering). */
static int dtype_of(HloType t) {
  switch (t) {
  case HLO_PRED: return RT_BOOL;
  case HLO_S8: return RT_I8;
  case HLO_S16: return RT_I16;
  case HLO_S32: return RT_I32;
  case HLO_S64: return RT_I64;
  case HLO_U8: return RT_U8;
  case HLO_U16: return RT_U16;
  case HLO_U32: return RT_U32;
  case HLO_U64: return RT_U64;
  case HLO_F16: return RT_F16;
  case HLO_BF16: return RT_BF16;
  case HLO_F32: return RT_F32;
  case HLO_F64: return RT_F64;
  default: HLO_UNREACHABLE();
  }
}

/* A private constant global initialised with init. */
static LLVMValueRef private_constant(LLVMModuleRef mod, LLVMValueRef init,
                                     const char *name) {
  LLVMValueRef g = LLVMAddGlobal(mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return g;
}

static LLVMValueRef string_constant(LLVMModuleRef mod, const char *s) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  return private_constant(mod, LLVMConstStringInContext2(ctx, s, strlen(s), 0),
                          ".hloc.str");
}

/* The array of hloc_buffer_info for n buffers (NULL pointer when empty). */
static LLVMValueRef buffer_infos(LLVMModuleRef mod, LLVMTypeRef info_ty,
                                 const CgBufferInfo *b, int n) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx), i64 = LLVMInt64TypeInContext(ctx);
  if (n == 0) return LLVMConstNull(ptr);
  LLVMValueRef *infos = malloc((size_t)n * sizeof *infos);
  HLO_CHECK(infos);
  for (int i = 0; i < n; i++) {
    LLVMValueRef dims = LLVMConstNull(ptr);
    if (b[i].rank > 0) {
      LLVMValueRef d[HLO_MAX_RANK];
      for (int k = 0; k < b[i].rank; k++)
        d[k] = LLVMConstInt(i64, (unsigned long long)b[i].dims[k], 0);
      dims = private_constant(mod, LLVMConstArray2(i64, d, (uint64_t)b[i].rank),
                              ".hloc.dims");
    }
    LLVMValueRef fields[5] = {
        string_constant(mod, b[i].name),
        LLVMConstInt(i32, (unsigned long long)dtype_of(b[i].type), 0),
        LLVMConstInt(i32, (unsigned long long)b[i].rank, 0),
        dims,
        LLVMConstInt(i64, b[i].bytes, 0),
    };
    infos[i] = LLVMConstNamedStruct(info_ty, fields, 5);
  }
  LLVMValueRef arr = LLVMConstArray2(info_ty, infos, (uint64_t)n);
  free(infos);
  return private_constant(mod, arr, ".hloc.buffers");
}

void cpu_abi_finish(LLVMModuleRef mod, const CgSignature *sig) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx), i64 = LLVMInt64TypeInContext(ctx);
  /* The names carry --name, of any length. */
  HloStr run_name = {0}, rb_name = {0}, prog_name = {0};
  hlo_str_printf(&run_name, "%s_run", sig->name);
  hlo_str_printf(&rb_name, "%s_run_buffers", sig->name);
  hlo_str_printf(&prog_name, "%s_program", sig->name);

  /* int N_run_buffers(void *const *buffers, void *scratch) */
  LLVMValueRef run = LLVMGetNamedFunction(mod, run_name.buf);
  HLO_CHECK(run);
  LLVMTypeRef params[2] = {ptr, ptr};
  LLVMValueRef rb = LLVMAddFunction(mod, rb_name.buf, LLVMFunctionType(i32, params, 2, 0));
  LLVMBuilderRef bld = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(bld, LLVMAppendBasicBlockInContext(ctx, rb, "entry"));
  int nbuf = sig->nargs + sig->nresults;
  LLVMValueRef *args = malloc((size_t)(nbuf + 1) * sizeof *args);
  HLO_CHECK(args);
  for (int i = 0; i < nbuf; i++) {
    LLVMValueRef at = LLVMConstInt(i64, (unsigned long long)i, 0);
    LLVMValueRef slot = LLVMBuildGEP2(bld, ptr, LLVMGetParam(rb, 0), &at, 1, "");
    args[i] = LLVMBuildLoad2(bld, ptr, slot, "");
  }
  args[nbuf] = LLVMGetParam(rb, 1);
  LLVMValueRef status = LLVMBuildCall2(bld, LLVMGlobalGetValueType(run), run,
                                       args, (unsigned)(nbuf + 1), "");
  LLVMBuildRet(bld, status);
  LLVMDisposeBuilder(bld);
  free(args);

  /* const hloc_program N_program */
  LLVMTypeRef info_ty = LLVMStructCreateNamed(ctx, "hloc_buffer_info");
  LLVMTypeRef info_fields[5] = {ptr, i32, i32, ptr, i64};
  LLVMStructSetBody(info_ty, info_fields, 5, 0);
  LLVMTypeRef prog_ty = LLVMStructCreateNamed(ctx, "hloc_program");
  LLVMTypeRef prog_fields[8] = {ptr, i32, i32, ptr, ptr, i64, i64, ptr};
  LLVMStructSetBody(prog_ty, prog_fields, 8, 0);
  LLVMValueRef fields[8] = {
      string_constant(mod, sig->name),
      LLVMConstInt(i32, (unsigned long long)sig->nargs, 0),
      LLVMConstInt(i32, (unsigned long long)sig->nresults, 0),
      buffer_infos(mod, info_ty, sig->args, sig->nargs),
      buffer_infos(mod, info_ty, sig->results, sig->nresults),
      LLVMConstInt(i64, sig->scratch_bytes, 0),
      LLVMConstInt(i64, sig->scratch_align, 0),
      rb,
  };
  LLVMValueRef prog = LLVMAddGlobal(mod, prog_ty, prog_name.buf);
  free(run_name.buf);
  free(rb_name.buf);
  free(prog_name.buf);
  LLVMSetInitializer(prog, LLVMConstNamedStruct(prog_ty, fields, 8));
  LLVMSetGlobalConstant(prog, 1);
}
