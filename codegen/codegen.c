/*
 * codegen.c — the public entry points of codegen/: the pipeline from a
 * verified HLO module to an optimized LLVM module for a target machine,
 * and writing that module out.
 *
 *   cg_target_create        the backend taking --target; its facts
 *   cg_generate (kernel.c)  HLO → kernel IR + signature, shaped by them
 *   kir_print_mlir          kernel IR → MLIR text           (kir_mlir.c)
 *   backend->lower          MLIR → LLVM dialect → LLVM IR   (cpu/backend.c)
 *   backend->finish         constants' bytes, N_run_buffers, N_program,
 *                           triple, data layout, default<O3> (cpu/)
 *
 * The target is created first, so a bad --target/--cpu fails before any
 * work.  A program owns its LLVM context, module and target
 * machine; emission works on a clone of the module because LLVM's codegen
 * passes modify the IR they run on, and a program may be emitted several
 * times (object, assembly, JIT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "internal.h"

struct CgProgram {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  CgTarget target;
  CgSignature sig;
  FILE *timing; /* CgOptions.timing */
};

/* --time-passes for codegen: one line per phase, after the passes' table. */
static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Prints the phase that started at *since, and starts the next one. */
static void phase(FILE *f, const char *name, double *since) {
  if (!f) return;
  double t = seconds_now();
  fprintf(f, "%-22s %10.3f\n", name, (t - *since) * 1e3);
  *since = t;
}

/* The backends, and which one takes a --target (the first: the default). */
static const CgBackend *const backends[] = {&cg_cpu_backend};
enum { NBACKENDS = sizeof backends / sizeof *backends };

static bool takes(const CgBackend *b, const char *target) {
  size_t n = strlen(target);
  for (const char *p = b->targets; (p = strstr(p, target)); p += n)
    if ((p == b->targets || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) return true;
  return false;
}

HloError *cg_target_create(const CgOptions *opts, CgTarget *out) {
  memset(out, 0, sizeof *out);
  const char *target = opts && opts->target ? opts->target : NULL;
  for (int i = 0; i < NBACKENDS; i++)
    if (!target || takes(backends[i], target)) return backends[i]->create(opts, out);
  HloStr all = {0};
  for (int i = 0; i < NBACKENDS; i++)
    hlo_str_printf(&all, "%s%s", i ? ", " : "", backends[i]->targets);
  HloError *e = hlo_error("codegen: unknown target '%s'; valid targets: %s", target, all.buf);
  free(all.buf);
  return e;
}

void cg_target_free(CgTarget *t) {
  if (t->backend) t->backend->destroy(t);
  memset(t, 0, sizeof *t);
}

HloError *cg_pass_policy(const CgOptions *opts, PassPolicy *out) {
  CgTarget t;
  HloError *err = cg_target_create(opts, &t);
  if (err) return err;
  t.backend->policy(&t, out);
  cg_target_free(&t);
  return NULL;
}

/* The kernels of m for target t, verified when the options ask (always,
 * for dumps). */
static HloError *kernels(const HloModule *m, const CgOptions *opts, const CgTarget *t,
                         bool verify, CgKernels *out) {
  HloError *err = cg_generate(m, opts, t, out);
  if (!err && (verify || (opts && opts->verify_kernels))) err = kir_verify(out->k);
  if (err && out->k) {
    cg_signature_free(&out->sig);
    cg_kernels_free(out);
  }
  return err;
}

/* The verified kernels of m printed by `print` (for dumps). */
static HloError *printed(const HloModule *m, const CgOptions *opts,
                         char *(*print)(const KirModule *), char **out) {
  *out = NULL;
  CgTarget t;
  CgKernels ks;
  HloError *err = cg_target_create(opts, &t);
  if (!err) err = kernels(m, opts, &t, true, &ks);
  cg_target_free(&t);
  if (err) return err;
  *out = print(ks.k);
  cg_signature_free(&ks.sig);
  cg_kernels_free(&ks);
  return NULL;
}

HloError *cg_emit_kir(const HloModule *m, const CgOptions *opts, char **text) {
  return printed(m, opts, kir_print, text);
}

HloError *cg_emit_mlir(const HloModule *m, const CgOptions *opts, char **mlir) {
  HloError *err = printed(m, opts, kir_print_mlir, mlir);
  if (err) return err;
  err = cg_mlir_check(*mlir);
  if (err) {
    free(*mlir);
    *mlir = NULL;
  }
  return err;
}

HloError *cg_compile(const HloModule *m, const CgOptions *opts,
                     CgProgram **out) {
  *out = NULL;
  CgProgram *p = calloc(1, sizeof *p);
  HLO_CHECK(p);
  CgKernels ks = {0};
  p->timing = opts ? opts->timing : NULL;
  double t = seconds_now();
  if (p->timing) fprintf(p->timing, "%-22s %10s\n", "codegen phase", "ms");
  HloError *err = cg_target_create(opts, &p->target);
  if (!err) err = kernels(m, opts, &p->target, false, &ks);
  phase(p->timing, "kernel IR", &t);
  if (!err) {
    const CgBackend *b = p->target.backend;
    p->sig = ks.sig;
    char *mlir = kir_print_mlir(ks.k);
    phase(p->timing, "MLIR printing", &t);
    p->ctx = LLVMContextCreate();
    err = b->lower(mlir, p->ctx, &p->mod);
    free(mlir);
    phase(p->timing, "lowering to LLVM IR", &t);
    if (!err) err = b->finish(p->mod, &p->target, &p->sig, ks.k);
    phase(p->timing, "LLVM optimization", &t);
    cg_kernels_free(&ks);
  }
  if (err) {
    cg_program_free(p);
    return err;
  }
  *out = p;
  return NULL;
}

void cg_program_free(CgProgram *p) {
  if (!p) return;
  if (p->mod) LLVMDisposeModule(p->mod);
  if (p->ctx) LLVMContextDispose(p->ctx);
  cg_target_free(&p->target);
  cg_signature_free(&p->sig);
  free(p);
}

const CgSignature *cg_program_signature(const CgProgram *p) { return &p->sig; }
const char *cg_program_triple(const CgProgram *p) { return p->target.triple; }
const char *cg_program_cpu(const CgProgram *p) { return p->target.cpu; }
bool cg_program_is_host(const CgProgram *p) { return p->target.is_host; }

static HloError *emit(const CgProgram *p, LLVMCodeGenFileType type,
                      LLVMMemoryBufferRef *out) {
  double t = seconds_now();
  LLVMModuleRef clone = LLVMCloneModule(p->mod);
  char *msg = NULL;
  LLVMBool failed =
      LLVMTargetMachineEmitToMemoryBuffer(p->target.tm, clone, type, &msg, out);
  LLVMDisposeModule(clone);
  phase(p->timing, type == LLVMObjectFile ? "object emission" : "assembly emission", &t);
  if (!failed) return NULL;
  HloError *e = hlo_error("codegen: LLVM code generation failed: %s", msg);
  LLVMDisposeMessage(msg);
  return e;
}

HloError *cg_program_object(const CgProgram *p, LLVMMemoryBufferRef *out) {
  return emit(p, LLVMObjectFile, out);
}

static char *copy_bytes(const char *src, size_t n) {
  char *d = malloc(n + 1);
  HLO_CHECK(d);
  memcpy(d, src, n);
  d[n] = '\0';
  return d;
}

HloError *cg_program_emit(const CgProgram *p, CgFileType type, char **data,
                          size_t *len) {
  *data = NULL;
  *len = 0;
  if (type == CG_FILE_LLVM_IR) {
    char *s = LLVMPrintModuleToString(p->mod);
    *len = strlen(s);
    *data = copy_bytes(s, *len);
    LLVMDisposeMessage(s);
    return NULL;
  }
  LLVMMemoryBufferRef buf;
  HloError *err = emit(p, type == CG_FILE_OBJECT ? LLVMObjectFile
                                                 : LLVMAssemblyFile, &buf);
  if (err) return err;
  *len = LLVMGetBufferSize(buf);
  *data = copy_bytes(LLVMGetBufferStart(buf), *len);
  LLVMDisposeMemoryBuffer(buf);
  return NULL;
}
