/*
 * target.c — the LLVM target machine for CgOptions, the O3 pipeline, and
 * object or assembly emission.
 *
 * Two targets: x86_64 and aarch64 (cross), both ELF on Linux.  LLVM
 * accepts any CPU or feature name and only warns on stderr (or aborts, for
 * an unknown x86-64 CPU), so names are checked first against the lists of
 * target_names.inc, and an unknown one is an error listing the valid ones.
 * "native" is the host's CPU name and features (LLVMGetHostCPUName/
 * Features) and is valid only for the host's architecture.  Code is
 * position-independent, so objects also link into shared libraries.
 * Optimization is LLVM's default<O3> with its loop unroller off (see
 * cg_optimize).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "internal.h"
#include "target_names.inc"

typedef struct Arch {
  const char *name;          /* --target spelling */
  const char *triple;
  const char *generic_cpu;   /* the CPU when none is named (not host) */
  const char *const *cpus;
  const char *const *features;
} Arch;

static const Arch arches[] = {
    {"x86_64", "x86_64-unknown-linux-gnu", "x86-64", x86_64_cpus,
     x86_64_features},
    {"aarch64", "aarch64-unknown-linux-gnu", "generic", aarch64_cpus,
     aarch64_features},
};

static pthread_once_t targets_once = PTHREAD_ONCE_INIT;

static void init_targets(void) {
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  LLVMInitializeAArch64TargetInfo();
  LLVMInitializeAArch64Target();
  LLVMInitializeAArch64TargetMC();
  LLVMInitializeAArch64AsmPrinter();
}

static bool listed(const char *const *names, const char *s, size_t n) {
  for (; *names; names++)
    if (strlen(*names) == n && !strncmp(*names, s, n)) return true;
  return false;
}

static char *join(const char *const *names) {
  HloStr s = {0};
  for (int i = 0; names[i]; i++) hlo_str_printf(&s, "%s%s", i ? ", " : "", names[i]);
  return hlo_str_take(&s);
}

static bool is_host(const Arch *a) {
  char *t = LLVMGetDefaultTargetTriple();
  bool host = !strncmp(t, a->name, strlen(a->name));
  LLVMDisposeMessage(t);
  return host;
}

/* Checks "+f1,-f2,…" against the target's features. */
static HloError *check_features(const Arch *a, const char *features) {
  for (const char *p = features; *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n < 2 || (p[0] != '+' && p[0] != '-') ||
        !listed(a->features, p + 1, n - 1)) {
      char *valid = join(a->features);
      HloError *e = hlo_error("codegen: unknown feature '%.*s' for %s (write "
                              "+name or -name); valid features: %s",
                              (int)n, p, a->name, valid);
      free(valid);
      return e;
    }
    p += n + (end != NULL);
  }
  return NULL;
}

HloError *cg_target_create(const CgOptions *opts, CgTarget *out) {
  static const CgOptions defaults = {0};
  const CgOptions *o = opts ? opts : &defaults;
  memset(out, 0, sizeof *out);
  pthread_once(&targets_once, init_targets);
  const char *want = o->target ? o->target : "x86_64";
  const Arch *a = NULL;
  for (size_t i = 0; i < sizeof arches / sizeof *arches; i++)
    if (!strcmp(arches[i].name, want)) a = &arches[i];
  if (!a) return hlo_error("codegen: unknown target '%s'; valid targets: "
                           "x86_64, aarch64", want);
  out->is_host = is_host(a);
  const char *cpu = o->cpu ? o->cpu : out->is_host ? "native" : a->generic_cpu;
  HloStr features = {0};
  if (!strcmp(cpu, "native")) {
    if (!out->is_host)
      return hlo_error("codegen: CPU 'native' names the host, which is not "
                       "%s; name a CPU", a->name);
    char *host_cpu = LLVMGetHostCPUName(), *host_features = LLVMGetHostCPUFeatures();
    out->cpu = strdup(host_cpu);
    hlo_str_printf(&features, "%s", host_features);
    LLVMDisposeMessage(host_cpu);
    LLVMDisposeMessage(host_features);
  } else if (listed(a->cpus, cpu, strlen(cpu))) {
    out->cpu = strdup(cpu);
  } else {
    char *valid = join(a->cpus);
    HloError *e = hlo_error("codegen: unknown CPU '%s' for %s; valid CPUs: "
                            "native (the host's), %s",
                            cpu, a->name, valid);
    free(valid);
    return e;
  }
  if (o->features && *o->features) {
    HloError *e = check_features(a, o->features);
    if (e) {
      free(out->cpu);
      free(features.buf);
      out->cpu = NULL;
      return e;
    }
    hlo_str_printf(&features, "%s%s", features.len ? "," : "", o->features);
  }
  char *err = NULL;
  LLVMTargetRef target;
  if (LLVMGetTargetFromTriple(a->triple, &target, &err)) {
    HloError *e = hlo_error("codegen: LLVM has no target for %s: %s", a->triple,
                            err);
    LLVMDisposeMessage(err);
    free(out->cpu);
    free(features.buf);
    out->cpu = NULL;
    return e;
  }
  out->triple = strdup(a->triple);
  out->tm = LLVMCreateTargetMachine(target, a->triple, out->cpu,
                                    features.buf ? features.buf : "",
                                    LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                                    LLVMCodeModelDefault);
  free(features.buf);
  return NULL;
}

void cg_target_free(CgTarget *t) {
  if (t->tm) LLVMDisposeTargetMachine(t->tm);
  free(t->triple);
  free(t->cpu);
  memset(t, 0, sizeof *t);
}

HloError *cg_optimize(LLVMModuleRef mod, const CgTarget *t) {
  LLVMSetTarget(mod, t->triple);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(t->tm);
  char *layout = LLVMCopyStringRepOfTargetData(td);
  LLVMSetDataLayout(mod, layout);
  LLVMDisposeMessage(layout);
  LLVMDisposeTargetData(td);
  char *msg = NULL;
  if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
    HloError *e = hlo_error("codegen: internal error: invalid LLVM IR: %s", msg);
    LLVMDisposeMessage(msg);
    return e;
  }
  LLVMDisposeMessage(msg);
  /* Without LLVM's loop unroller: it fully unrolls the small constant
   * trip-count loops of the kernels into large code for no gain (compile
   * time of MobileNetV2 16 s → 4 s).  Kernels that profit from unrolling
   * (the tiled dot and convolution of DESIGN.md decision 5) unroll
   * themselves in MLIR; vectorization stays on. */
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopUnrolling(po, 0);
  LLVMErrorRef err = LLVMRunPasses(mod, "default<O3>", t->tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (err) {
    char *s = LLVMGetErrorMessage(err);
    HloError *e = hlo_error("codegen: LLVM optimization failed: %s", s);
    LLVMDisposeErrorMessage(s);
    return e;
  }
  return NULL;
}
