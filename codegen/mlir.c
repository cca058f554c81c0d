/*
 * mlir.c — MLIR text to LLVM IR: parse and verify the module printed from
 * the kernel IR (kir_mlir.c), run a backend's pass pipeline down to the
 * LLVM dialect, and translate it into an LLVMModuleRef.
 *
 * Each call makes its own MLIR context, without threading (deterministic
 * output; the driver parallelises across models, not inside one).  Passes
 * are registered once per process.  MLIR diagnostics are collected and
 * returned as the error message: a failure here is a codegen bug, so the
 * message says so and carries MLIR's location (a line of the generated
 * text, which cg_emit_mlir reproduces).  A GPU's device code is what its
 * gpu.module holds, translated as a module of its own.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <mlir-c/Diagnostics.h>
#include <mlir-c/IR.h>
#include <mlir-c/Pass.h>
#include <mlir-c/RegisterEverything.h>
#include <mlir-c/Target/LLVMIR.h>

#include "internal.h"

static pthread_once_t passes_once = PTHREAD_ONCE_INIT;

static void register_passes(void) { mlirRegisterAllPasses(); }

static void append_text(MlirStringRef s, void *user) {
  hlo_str_append(user, s.data, s.length);
}

static MlirLogicalResult on_diagnostic(MlirDiagnostic d, void *user) {
  mlirLocationPrint(mlirDiagnosticGetLocation(d), append_text, user);
  hlo_str_append(user, ": ", 2);
  mlirDiagnosticPrint(d, append_text, user);
  hlo_str_append(user, "\n", 1);
  return mlirLogicalResultSuccess();
}

typedef struct Mlir {
  MlirContext ctx;
  MlirModule module;
  HloStr diags;
} Mlir;

static HloError *failure(Mlir *m, const char *what) {
  return hlo_error("codegen: internal error: %s:\n%s", what,
                   m->diags.buf ? m->diags.buf : "(no diagnostic)");
}

static HloError *parse(const char *text, Mlir *m) {
  pthread_once(&passes_once, register_passes);
  MlirDialectRegistry reg = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(reg);
  m->ctx = mlirContextCreateWithRegistry(reg, false);
  mlirDialectRegistryDestroy(reg);
  mlirRegisterAllLLVMTranslations(m->ctx);
  mlirContextAttachDiagnosticHandler(m->ctx, on_diagnostic, &m->diags, NULL);
  m->module = mlirModuleCreateParse(m->ctx, mlirStringRefCreateFromCString(text));
  if (mlirModuleIsNull(m->module))
    return failure(m, "the generated MLIR does not parse");
  if (!mlirOperationVerify(mlirModuleGetOperation(m->module)))
    return failure(m, "the generated MLIR does not verify");
  return NULL;
}

static void release(Mlir *m) {
  if (!mlirModuleIsNull(m->module)) mlirModuleDestroy(m->module);
  mlirContextDestroy(m->ctx);
  free(m->diags.buf);
}

HloError *cg_mlir_check(const char *mlir) {
  Mlir m = {0};
  HloError *err = parse(mlir, &m);
  release(&m);
  return err;
}

/* The first op named `name` in the body of the module, or a null op. */
static MlirOperation find_op(MlirModule m, const char *name) {
  MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(m));
  for (; !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
    if (s.length == strlen(name) && !strncmp(s.data, name, s.length)) return op;
  }
  return op;
}

/* Moves what `op`'s one region holds into a new module of m's context,
 * which replaces m's own (empty when op is null: nothing was nested). */
static void take_nested(Mlir *m, MlirOperation op) {
  MlirLocation at = mlirOperationGetLocation(mlirModuleGetOperation(m->module));
  MlirModule inner = mlirModuleCreateEmpty(at);
  if (!mlirOperationIsNull(op)) {
    MlirBlock to = mlirModuleGetBody(inner);
    MlirBlock from = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
    for (MlirOperation x = mlirBlockGetFirstOperation(from), next; !mlirOperationIsNull(x);
         x = next) {
      next = mlirOperationGetNextInBlock(x);
      mlirOperationRemoveFromParent(x);
      mlirBlockAppendOwnedOperation(to, x);
    }
  }
  mlirModuleDestroy(m->module);
  m->module = inner;
}

HloError *cg_mlir_lower(const char *mlir, const char *pipeline, LLVMContextRef ctx,
                        LLVMModuleRef *out) {
  return cg_mlir_lower_nested(mlir, pipeline, NULL, ctx, out);
}

HloError *cg_mlir_lower_nested(const char *mlir, const char *pipeline, const char *nested,
                               LLVMContextRef ctx, LLVMModuleRef *out) {
  *out = NULL;
  Mlir m = {0};
  HloError *err = parse(mlir, &m);
  if (!err) {
    MlirPassManager pm = mlirPassManagerCreate(m.ctx);
    MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
    if (mlirLogicalResultIsFailure(mlirParsePassPipeline(
            opm, mlirStringRefCreateFromCString(pipeline), append_text,
            &m.diags)))
      err = failure(&m, "the MLIR pass pipeline does not parse");
    else if (mlirLogicalResultIsFailure(
                 mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m.module))))
      err = failure(&m, "lowering the MLIR module to the LLVM dialect failed");
    mlirPassManagerDestroy(pm);
  }
  if (!err && nested) take_nested(&m, find_op(m.module, nested));
  if (!err) {
    *out = mlirTranslateModuleToLLVMIR(mlirModuleGetOperation(m.module), ctx);
    if (!*out) err = failure(&m, "translation to LLVM IR failed");
  }
  release(&m);
  return err;
}
