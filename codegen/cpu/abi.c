/*
 * abi.c — the parts of the compiled function's ABI built directly in LLVM
 * IR, after translation, around N_run_profiled (the entry function the
 * MLIR holds, kernel.c, taking the buffers, scratch, a cancellation flag
 * and a profiler): N_run and N_run_cancellable (the typed entries: a flag
 * that is a constant zero, so users who never cancel pass nothing, or the
 * caller's; no profiler), N_run_buffers, N_run_buffers_cancellable and
 * N_run_buffers_profiled (the generic entries: load each buffer pointer
 * from an array and call N_run_profiled), and N_program, the descriptor
 * hosts bind by name, with the names of the cancellation points and the
 * kernels.
 *
 * They are built here rather than in MLIR because they refer to functions
 * and globals as symbols, which MLIR's LLVM dialect can only do once
 * func.func has become llvm.func, i.e. after the pipeline.  The struct layouts are those of
 * hloc_buffer_info, hloc_kernel_info and hloc_program in
 * runtime/hloc_runtime.h under the LP64 C ABI of both supported targets
 * (natural alignment, no packing):
 *
 *   hloc_buffer_info  { ptr name; i32 dtype; i32 rank; ptr dims; i64 bytes;
 *                       i32 updated; ptr tf_name }
 *   hloc_kernel_info  { ptr symbol; ptr instruction; ptr kind; ptr shape;
 *                       ptr tf_op; ptr loop }
 *   hloc_program      { ptr name; i32 num_args; i32 num_results;
 *                       ptr args; ptr results; i64 scratch_bytes;
 *                       i64 scratch_align; ptr run; ptr run_cancellable;
 *                       i32 num_cancel_points; ptr cancel_points;
 *                       i32 num_kernels; ptr kernels; ptr run_profiled;
 *                       ptr cpu; ptr features }
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
  case HLO_C64: return RT_C64;
  case HLO_C128: return RT_C128;
  case HLO_S2: return RT_I2;
  case HLO_S4: return RT_I4;
  case HLO_U2: return RT_U2;
  case HLO_U4: return RT_U4;
  case HLO_F8E4M3FN: return RT_F8E4M3FN;
  case HLO_F8E5M2: return RT_F8E5M2;
  case HLO_F8E4M3FNUZ: return RT_F8E4M3FNUZ;
  case HLO_F8E5M2FNUZ: return RT_F8E5M2FNUZ;
  case HLO_F8E4M3B11FNUZ: return RT_F8E4M3B11FNUZ;
  case HLO_F8E4M3: return RT_F8E4M3;
  case HLO_F8E3M4: return RT_F8E3M4;
  case HLO_F8E8M0FNU: return RT_F8E8M0FNU;
  case HLO_F4E2M1FN: return RT_F4E2M1FN;
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
  LLVMValueRef *infos = hlo_xmalloc((size_t)n * sizeof *infos);
  for (int i = 0; i < n; i++) {
    LLVMValueRef dims = LLVMConstNull(ptr);
    if (b[i].rank > 0) {
      LLVMValueRef d[HLO_MAX_RANK];
      for (int k = 0; k < b[i].rank; k++)
        d[k] = LLVMConstInt(i64, (unsigned long long)b[i].dims[k], 0);
      dims = private_constant(mod, LLVMConstArray2(i64, d, (uint64_t)b[i].rank),
                              ".hloc.dims");
    }
    LLVMValueRef fields[7] = {
        string_constant(mod, b[i].name),
        LLVMConstInt(i32, (unsigned long long)dtype_of(b[i].type), 0),
        LLVMConstInt(i32, (unsigned long long)b[i].rank, 0),
        dims,
        LLVMConstInt(i64, b[i].bytes, 0),
        LLVMConstInt(i32, b[i].updated ? 1 : 0, 0),
        b[i].tf_name ? string_constant(mod, b[i].tf_name) : LLVMConstNull(ptr),
    };
    infos[i] = LLVMConstNamedStruct(info_ty, fields, 7);
  }
  LLVMValueRef arr = LLVMConstArray2(info_ty, infos, (uint64_t)n);
  free(infos);
  return private_constant(mod, arr, ".hloc.buffers");
}

/* The array of the cancellation points' names (NULL pointer when none). */
static LLVMValueRef point_names(LLVMModuleRef mod, const CgSignature *sig) {
  LLVMTypeRef ptr = LLVMPointerTypeInContext(LLVMGetModuleContext(mod), 0);
  if (sig->ncancel_points == 0) return LLVMConstNull(ptr);
  LLVMValueRef *names = hlo_xmalloc((size_t)sig->ncancel_points * sizeof *names);
  for (int i = 0; i < sig->ncancel_points; i++)
    names[i] = string_constant(mod, sig->cancel_points[i]);
  LLVMValueRef arr = LLVMConstArray2(ptr, names, (uint64_t)sig->ncancel_points);
  free(names);
  return private_constant(mod, arr, ".hloc.cancel_points");
}

/* The array of the kernels' hloc_kernel_info (NULL pointer when none). */
static LLVMValueRef kernel_infos(LLVMModuleRef mod, const CgSignature *sig) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  if (sig->nkernels == 0) return LLVMConstNull(ptr);
  LLVMTypeRef info_ty = LLVMStructCreateNamed(ctx, "hloc_kernel_info");
  LLVMTypeRef info_fields[6] = {ptr, ptr, ptr, ptr, ptr, ptr};
  LLVMStructSetBody(info_ty, info_fields, 6, 0);
  LLVMValueRef *infos = hlo_xmalloc((size_t)sig->nkernels * sizeof *infos);
  for (int i = 0; i < sig->nkernels; i++) {
    const CgKernelInfo *k = &sig->kernels[i];
    const char *text[6] = {k->symbol, k->instruction, k->kind, k->shape, k->tf_op, k->loop};
    LLVMValueRef fields[6];
    for (int f = 0; f < 6; f++)
      fields[f] = text[f] ? string_constant(mod, text[f]) : LLVMConstNull(ptr);
    infos[i] = LLVMConstNamedStruct(info_ty, fields, 6);
  }
  LLVMValueRef arr = LLVMConstArray2(info_ty, infos, (uint64_t)sig->nkernels);
  free(infos);
  return private_constant(mod, arr, ".hloc.kernels");
}

/* What the entries pass on to N_run_profiled. */
typedef struct Forward {
  LLVMValueRef body;  /* N_run_profiled */
  int nbuf;           /* arguments + results */
  LLVMValueRef never; /* the constant zero flag */
} Forward;

/* An exported `int name(ptr × nparams)` returning what N_run_profiled
 * returns on the arguments `pass` builds from its parameters. */
static LLVMValueRef forwarder(LLVMModuleRef mod, const char *name, int nparams,
                              const Forward *fw,
                              void (*pass)(LLVMBuilderRef, LLVMValueRef fn, LLVMValueRef *args,
                                           const Forward *fw)) {
  LLVMContextRef c = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(c, 0), i32 = LLVMInt32TypeInContext(c);
  LLVMTypeRef *params = hlo_xmalloc((size_t)nparams * sizeof *params);
  LLVMValueRef *args = hlo_xmalloc((size_t)(fw->nbuf + 3) * sizeof *args);
  for (int i = 0; i < nparams; i++) params[i] = ptr;
  LLVMValueRef fn = LLVMAddFunction(mod, name, LLVMFunctionType(i32, params, (unsigned)nparams, 0));
  LLVMBuilderRef bld = LLVMCreateBuilderInContext(c);
  LLVMPositionBuilderAtEnd(bld, LLVMAppendBasicBlockInContext(c, fn, "entry"));
  pass(bld, fn, args, fw);
  LLVMValueRef status = LLVMBuildCall2(bld, LLVMGlobalGetValueType(fw->body), fw->body, args,
                                       (unsigned)(fw->nbuf + 3), "");
  LLVMBuildRet(bld, status);
  LLVMDisposeBuilder(bld);
  free(args);
  free(params);
  return fn;
}

/* N_run(bufs…, scratch[, cancel]): the same, then cancel or the constant
 * flag, and no profiler. */
static void typed_args(LLVMBuilderRef bld, LLVMValueRef fn, LLVMValueRef *args,
                       const Forward *fw) {
  (void)bld;
  for (int i = 0; i <= fw->nbuf; i++) args[i] = LLVMGetParam(fn, (unsigned)i);
  bool cancellable = (int)LLVMCountParams(fn) > fw->nbuf + 1;
  args[fw->nbuf + 1] = cancellable ? LLVMGetParam(fn, (unsigned)fw->nbuf + 1) : fw->never;
  args[fw->nbuf + 2] = LLVMConstNull(LLVMTypeOf(fw->never));
}

/* N_run_buffers(buffers, scratch[, cancel[, profiler]]): each buffer
 * loaded from the array, scratch, then cancel or the constant flag, then
 * the profiler or none. */
static void array_args(LLVMBuilderRef bld, LLVMValueRef fn, LLVMValueRef *args,
                       const Forward *fw) {
  LLVMTypeRef ptr = LLVMTypeOf(LLVMGetParam(fn, 0));
  LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetTypeContext(ptr));
  for (int i = 0; i < fw->nbuf; i++) {
    LLVMValueRef at = LLVMConstInt(i64, (unsigned long long)i, 0);
    LLVMValueRef slot = LLVMBuildGEP2(bld, ptr, LLVMGetParam(fn, 0), &at, 1, "");
    args[i] = LLVMBuildLoad2(bld, ptr, slot, "");
  }
  args[fw->nbuf] = LLVMGetParam(fn, 1);
  args[fw->nbuf + 1] = LLVMCountParams(fn) > 2 ? LLVMGetParam(fn, 2) : fw->never;
  args[fw->nbuf + 2] = LLVMCountParams(fn) > 3 ? LLVMGetParam(fn, 3) : LLVMConstNull(ptr);
}

/* Empties s for the next name (keeping its buffer). */
static HloStr *name_reset(HloStr *s) {
  s->len = 0;
  return s;
}

void cpu_abi_finish(LLVMModuleRef mod, const CgSignature *sig, const CgTarget *t) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx), i64 = LLVMInt64TypeInContext(ctx);
  /* The names carry --name, of any length. */
  HloStr name = {0};
  hlo_str_printf(&name, "%s_run_profiled", sig->name);
  Forward fw = {LLVMGetNamedFunction(mod, name.buf), sig->nargs + sig->nresults,
                private_constant(mod, LLVMConstInt(i32, 0, 0), ".hloc.never_cancelled")};
  HLO_CHECK(fw.body);
  LLVMSetAlignment(fw.never, 4);
  /* int N_run(bufs…, void *scratch) */
  hlo_str_printf(name_reset(&name), "%s_run", sig->name);
  forwarder(mod, name.buf, fw.nbuf + 1, &fw, typed_args);
  /* int N_run_cancellable(bufs…, void *scratch, const int32_t *cancel) */
  hlo_str_printf(name_reset(&name), "%s_run_cancellable", sig->name);
  forwarder(mod, name.buf, fw.nbuf + 2, &fw, typed_args);
  /* int N_run_buffers(void *const *buffers, void *scratch) */
  hlo_str_printf(name_reset(&name), "%s_run_buffers", sig->name);
  LLVMValueRef rb = forwarder(mod, name.buf, 2, &fw, array_args);
  /* int N_run_buffers_cancellable(void *const *buffers, void *scratch,
   *                               const int32_t *cancel) */
  hlo_str_printf(name_reset(&name), "%s_run_buffers_cancellable", sig->name);
  LLVMValueRef rbc = forwarder(mod, name.buf, 3, &fw, array_args);
  /* int N_run_buffers_profiled(void *const *buffers, void *scratch,
   *                            const int32_t *cancel, hloc_profiler *profiler) */
  hlo_str_printf(name_reset(&name), "%s_run_buffers_profiled", sig->name);
  LLVMValueRef rbp = forwarder(mod, name.buf, 4, &fw, array_args);

  /* const hloc_program N_program */
  LLVMTypeRef info_ty = LLVMStructCreateNamed(ctx, "hloc_buffer_info");
  LLVMTypeRef info_fields[7] = {ptr, i32, i32, ptr, i64, i32, ptr};
  LLVMStructSetBody(info_ty, info_fields, 7, 0);
  LLVMTypeRef prog_ty = LLVMStructCreateNamed(ctx, "hloc_program");
  LLVMTypeRef prog_fields[16] = {ptr, i32, i32, ptr, ptr, i64, i64, ptr, ptr, i32, ptr,
                                 i32, ptr, ptr, ptr, ptr};
  LLVMStructSetBody(prog_ty, prog_fields, 16, 0);
  LLVMValueRef fields[16] = {
      string_constant(mod, sig->name),
      LLVMConstInt(i32, (unsigned long long)sig->nargs, 0),
      LLVMConstInt(i32, (unsigned long long)sig->nresults, 0),
      buffer_infos(mod, info_ty, sig->args, sig->nargs),
      buffer_infos(mod, info_ty, sig->results, sig->nresults),
      LLVMConstInt(i64, sig->scratch_bytes, 0),
      LLVMConstInt(i64, sig->scratch_align, 0),
      rb,
      rbc,
      LLVMConstInt(i32, (unsigned long long)sig->ncancel_points, 0),
      point_names(mod, sig),
      LLVMConstInt(i32, (unsigned long long)sig->nkernels, 0),
      kernel_infos(mod, sig),
      rbp,
      string_constant(mod, t->cpu ? t->cpu : ""),
      string_constant(mod, t->required ? t->required : ""),
  };
  hlo_str_printf(name_reset(&name), "%s_program", sig->name);
  LLVMValueRef prog = LLVMAddGlobal(mod, prog_ty, name.buf);
  free(name.buf);
  LLVMSetInitializer(prog, LLVMConstNamedStruct(prog_ty, fields, 16));
  LLVMSetGlobalConstant(prog, 1);
}
