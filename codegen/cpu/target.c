/*
 * target.c — the CPU target for CgOptions: the LLVM target machine, the
 * facts kernels are shaped by (CgTargetInfo), and the O3 pipeline.
 *
 * Two targets: x86_64 and aarch64 (cross), both ELF on Linux.  LLVM
 * accepts any CPU or feature name and only warns on stderr (or aborts, for
 * an unknown x86-64 CPU), so names are checked first against the lists of
 * target_names.inc, and an unknown one is an error listing the valid ones.
 * "native" is the host's CPU name and features (LLVMGetHostCPUName/
 * Features) and is valid only for the host's architecture.  Code is
 * position-independent, so objects also link into shared libraries.
 * Optimization is LLVM's default<O3> with its loop unroller off (see
 * cpu_optimize).
 *
 * The facts come from the target description.  The vector features a CPU
 * name implies, and whether its model prefers 512-bit vectors, are LLVM's
 * model of that CPU (cpu_features.inc, generated from it by
 * scripts/gen_cpu_features.sh; LLVM's C API does not expose them), then
 * the features named with --features apply on top, last one winning as in
 * LLVM; "native" uses the host's own features.  Cache sizes
 * are the host's (sysfs) for "native"; a named CPU, which may be anything
 * from an embedded core to a server, gets the common floor of 32 KiB L1d,
 * 512 KiB L2 and 8 MiB L3, so blocking stays safe where it is wrong.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "cpu.h"
#include "target_names.inc"

/* The vector features that shape kernels (cpu_features.inc). */
enum {
  CPU_AVX = 1,       /* 256-bit vectors (x86) */
  CPU_AVX512 = 2,    /* 512-bit vectors, 32 registers (AVX-512F) */
  CPU_FMA = 4,       /* fused multiply-add */
  CPU_INT8_DOT = 8,  /* int8 dot products (AVX-512 VNNI / AVX-VNNI, dotprod) */
  CPU_PREFER512 = 16, /* the CPU's model prefers 512-bit vectors to 256 */
};

typedef struct CpuFeatures {
  const char *cpu;
  unsigned features;
} CpuFeatures;

#include "cpu_features.inc"

typedef struct Arch {
  const char *name;          /* --target spelling */
  const char *triple;
  const char *generic_cpu;   /* the CPU when none is named (not host) */
  const char *const *cpus;
  const char *const *features;
  const CpuFeatures *implied;  /* what each CPU name implies */
} Arch;

static const Arch arches[] = {
    {"x86_64", "x86_64-unknown-linux-gnu", "x86-64", x86_64_cpus, x86_64_features,
     x86_64_cpu_features},
    {"aarch64", "aarch64-unknown-linux-gnu", "generic", aarch64_cpus, aarch64_features,
     aarch64_cpu_features},
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

void cpu_init_targets(void) { pthread_once(&targets_once, init_targets); }

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

/* The edit distance of a and b (hlo_edit_distance). */
static int distance(const char *a, const char *b) {
  return hlo_edit_distance(a, strlen(a), b, strlen(b));
}

/* The listed name closest to s, when at most two edits away; else NULL. */
static const char *closest(const char *const *names, const char *s) {
  const char *best = NULL;
  int bestd = 3;
  for (; *names; names++) {
    int d = distance(s, *names);
    if (d < bestd) bestd = d, best = *names;
  }
  return best;
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

/* The CPU_* flag LLVM's feature `name` (without its sign) sets, or 0;
 * *inverted when "+name" clears it (prefer-256-bit). */
static unsigned feature_flag(const Arch *a, const char *name, size_t n, bool *inverted) {
  static const struct {
    const char *x86, *arm;
    unsigned flag;
    bool inverted;
  } names[] = {
      {"avx", NULL, CPU_AVX, false},
      {"avx512f", NULL, CPU_AVX512, false},
      {"fma", NULL, CPU_FMA, false},
      {"avx512vnni", NULL, CPU_INT8_DOT, false},
      {"avxvnni", NULL, CPU_INT8_DOT, false},
      {"prefer-256-bit", NULL, CPU_PREFER512, true},
      {NULL, "dotprod", CPU_INT8_DOT, false},
  };
  bool x86 = !strcmp(a->name, "x86_64");
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    const char *s = x86 ? names[i].x86 : names[i].arm;
    if (s && strlen(s) == n && !strncmp(s, name, n)) {
      *inverted = names[i].inverted;
      return names[i].flag;
    }
  }
  return 0;
}

/* Applies "+f1,-f2,…" to a set of CPU_* flags, in order.  Turning a wide
 * feature off turns off what needs it (no AVX-512 without AVX). */
static unsigned apply_features(const Arch *a, unsigned flags, const char *features) {
  for (const char *p = features; p && *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    bool inverted = false;
    unsigned f = n > 1 ? feature_flag(a, p + 1, n - 1, &inverted) : 0;
    if ((p[0] == '+') != inverted) flags |= f;
    else flags &= ~f;
    p += n + (end != NULL);
  }
  if (!(flags & CPU_AVX)) flags &= ~(unsigned)CPU_AVX512;
  return flags;
}

/* One of the host's data or unified caches of `level`, in bytes; 0 when
 * sysfs does not say. */
static int64_t host_cache(int level) {
  for (int i = 0; i < 8; i++) {
    char path[96], buf[32];
    int64_t lvl = 0, size = 0;
    bool data = false;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    FILE *f = fopen(path, "r");
    if (!f) break;
    if (fgets(buf, sizeof buf, f)) lvl = strtoll(buf, NULL, 10);
    fclose(f);
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
    if ((f = fopen(path, "r"))) {
      data = fgets(buf, sizeof buf, f) && strncmp(buf, "Instruction", 11) != 0;
      fclose(f);
    }
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    if ((f = fopen(path, "r"))) {
      char *end = NULL;
      if (fgets(buf, sizeof buf, f)) size = strtoll(buf, &end, 10);
      if (end && (*end == 'K' || *end == 'k')) size <<= 10;
      else if (end && (*end == 'M' || *end == 'm')) size <<= 20;
      fclose(f);
    }
    if (lvl == level && data && size > 0) return size;
  }
  return 0;
}

static CgTargetInfo target_info(const Arch *a, unsigned flags, bool native) {
  bool x86 = !strcmp(a->name, "x86_64");
  int bits = x86 ? (flags & CPU_AVX512 ? 512 : flags & CPU_AVX ? 256 : 128) : 128;
  CgTargetInfo i = {
      .vector_bits = bits,
      .preferred_bits = bits == 512 && !(flags & CPU_PREFER512) ? 256 : bits,
      .vector_regs = x86 && !(flags & CPU_AVX512) ? 16 : 32,
      .fma = (flags & CPU_FMA) != 0,
      .int8_dot = (flags & CPU_INT8_DOT) != 0,
      .scalef = x86 && (flags & CPU_AVX512),
      .l1d_bytes = 32 << 10,
      .l2_bytes = 512 << 10,
      .l3_bytes = 8 << 20,
      .line_bytes = 64,
      .streaming_stores = x86,
  };
  if (native) {
    int64_t l1 = host_cache(1), l2 = host_cache(2), l3 = host_cache(3);
    if (l1) i.l1d_bytes = l1;
    if (l2) i.l2_bytes = l2;
    if (l3) i.l3_bytes = l3;
  }
  return i;
}

/* Adds "+name" entries of an LLVM feature string to the list, and drops
 * the entries a "-name" removes, in order. */
static void edit_required(HloStr *list, const char *features) {
  for (const char *p = features; p && *p;) {
    size_t n = strcspn(p, ",");
    if (n > 1 && (p[0] == '+' || p[0] == '-')) {
      /* drop an earlier mention, then append when enabled */
      HloStr kept = {0};
      for (const char *q = list->buf; q && *q;) {
        size_t m = strcspn(q, ",");
        if (!(m == n - 1 && !strncmp(q, p + 1, m)))
          hlo_str_printf(&kept, "%s%.*s", kept.len ? "," : "", (int)m, q);
        q += m + (q[m] == ',');
      }
      if (p[0] == '+') hlo_str_printf(&kept, "%s%.*s", kept.len ? "," : "", (int)n - 1, p + 1);
      free(list->buf);
      *list = kept;
    }
    p += n + (p[n] == ',');
  }
}

/* The features a named CPU's code may use, as far as hloc's model of the
 * CPU knows them (cpu_features.inc's flags): the vector extensions, which
 * are what code compiled for a newer CPU fails on first. */
static void required_of_flags(const Arch *a, unsigned flags, HloStr *list) {
  bool x86 = !strcmp(a->name, "x86_64");
  if (x86) {
    if (flags & CPU_AVX) edit_required(list, "+avx");
    if (flags & CPU_FMA) edit_required(list, "+fma");
    if (flags & CPU_AVX512) edit_required(list, "+avx512f");
  } else {
    edit_required(list, "+neon");
    if (flags & CPU_INT8_DOT) edit_required(list, "+dotprod");
  }
}

static unsigned implied_features(const Arch *a, const char *cpu) {
  for (const CpuFeatures *c = a->implied; c->cpu; c++)
    if (!strcmp(c->cpu, cpu)) return c->features;
  return 0;
}

HloError *cpu_target_create(const CgOptions *opts, CgTarget *out) {
  static const CgOptions defaults = {0};
  const CgOptions *o = opts ? opts : &defaults;
  memset(out, 0, sizeof *out);
  cpu_init_targets();
  const char *want = o->target ? o->target : "x86_64";
  const Arch *a = NULL;
  for (size_t i = 0; i < sizeof arches / sizeof *arches; i++)
    if (!strcmp(arches[i].name, want)) a = &arches[i];
  if (!a) return hlo_error("codegen: unknown target '%s'; valid targets: "
                           "x86_64, aarch64", want);
  out->is_host = is_host(a);
  const char *cpu = o->cpu ? o->cpu : out->is_host ? "native" : a->generic_cpu;
  HloStr features = {0}, required = {0};
  bool native = !strcmp(cpu, "native");
  unsigned flags = 0;
  if (native) {
    if (!out->is_host)
      return hlo_error("codegen: CPU 'native' names the host, which is not "
                       "%s; name a CPU", a->name);
    char *host_cpu = LLVMGetHostCPUName(), *host_features = LLVMGetHostCPUFeatures();
    out->cpu = hlo_xstrdup(host_cpu);
    hlo_str_printf(&features, "%s", host_features);
    edit_required(&required, host_features);
    /* The features are the host's; the preference is the CPU model's. */
    flags = apply_features(a, implied_features(a, host_cpu) & CPU_PREFER512, host_features);
    LLVMDisposeMessage(host_cpu);
    LLVMDisposeMessage(host_features);
  } else if (listed(a->cpus, cpu, strlen(cpu))) {
    out->cpu = hlo_xstrdup(cpu);
    flags = implied_features(a, cpu);
    required_of_flags(a, flags, &required);
  } else {
    const char *near = closest(a->cpus, cpu);
    char *valid = join(a->cpus);
    HloError *e = hlo_error("codegen: unknown CPU '%s' for %s%s%s%s; valid CPUs: "
                            "native (the host's), %s",
                            cpu, a->name, near ? " (did you mean '" : "", near ? near : "",
                            near ? "'?)" : "", valid);
    free(valid);
    return e;
  }
  if (o->features && *o->features) {
    HloError *e = check_features(a, o->features);
    if (e) {
      free(out->cpu);
      free(features.buf);
      free(required.buf);
      out->cpu = NULL;
      return e;
    }
    hlo_str_printf(&features, "%s%s", features.len ? "," : "", o->features);
    flags = apply_features(a, flags, o->features);
    edit_required(&required, o->features);
  }
  out->required = required.buf ? hlo_str_take(&required) : hlo_xstrdup("");
  out->backend = &cg_cpu_backend;
  out->info = target_info(a, flags, native);
  char *err = NULL;
  LLVMTargetRef target;
  if (LLVMGetTargetFromTriple(a->triple, &target, &err)) {
    HloError *e = hlo_error("codegen: LLVM has no target for %s: %s", a->triple,
                            err);
    LLVMDisposeMessage(err);
    free(out->cpu);
    free(out->required);
    free(features.buf);
    out->cpu = NULL;
    out->required = NULL;
    return e;
  }
  out->triple = hlo_xstrdup(a->triple);
  out->tm = LLVMCreateTargetMachine(target, a->triple, out->cpu,
                                    features.buf ? features.buf : "",
                                    LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                                    LLVMCodeModelDefault);
  free(features.buf);
  return NULL;
}

void cpu_target_destroy(CgTarget *t) {
  if (t->tm) LLVMDisposeTargetMachine(t->tm);
  free(t->triple);
  free(t->cpu);
  free(t->required);
  memset(t, 0, sizeof *t);
}

void cpu_set_target(LLVMModuleRef mod, const CgTarget *t) {
  LLVMSetTarget(mod, t->triple);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(t->tm);
  char *layout = LLVMCopyStringRepOfTargetData(td);
  LLVMSetDataLayout(mod, layout);
  LLVMDisposeMessage(layout);
  LLVMDisposeTargetData(td);
}

HloError *cpu_optimize(LLVMModuleRef mod, const CgTarget *t) {
  cpu_set_target(mod, t);
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
