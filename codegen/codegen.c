/*
 * codegen.c — the public entry points of codegen/: the pipeline from a
 * verified HLO module to optimized LLVM modules for a target machine, and
 * writing them out.
 *
 *   cg_target_create        the backend taking --target; its facts
 *   cg_generate (kernel.c)  HLO → kernel IR + signature, shaped by them
 *   kir_split (split.c)     the kernels cut into parts by size
 *   kir_print_mlir_part     a part → MLIR text                (kir_mlir.c)
 *   backend->place          the GPU's: kernels onto the device (gpu/device.c)
 *   backend->lower          MLIR → LLVM dialect → LLVM IR   (cpu/, gpu/backend.c)
 *   backend->finish         part 0: N_run_buffers, N_program; then
 *                           triple, data layout, default<O3> (cpu/)
 *   emission                each part's object, merged into one with the
 *                           constants' bytes (object.c)
 *
 * A large model's parts are lowered, optimized and emitted on as many
 * threads as the machine has, each part in its own MLIR and LLVM context
 * with its own target machine (LLVM shares none of them between threads).
 * How many parts there are depends on the module only, so the object's
 * bytes do not depend on the machine.
 *
 * The target is created first, so a bad --target/--cpu fails before any
 * work.  A program owns its parts; emission works on a clone of a part's
 * module because LLVM's codegen passes modify the IR they run on, and a
 * program may be emitted several times (object, assembly, JIT).
 *
 * Memory: a model's weights dominate what a compile holds, so they exist
 * once past the HLO module.  A program owns the bytes of the constants
 * its kernels read, each in a buffer of its own: a packed constant's are
 * made from the module's literal only once the kernels are built (the
 * kernel IR records how), the others copied from the module's literals,
 * and nothing else refers to the module then (cg_program_build), so a
 * caller can free it before LLVM runs; one that frees it anyway lets
 * codegen free each literal as soon as its bytes are taken
 * (cg_program_build_consuming), so that the peak is about one form of
 * the weights, not the packed and the unpacked together.  The object is written around those buffers
 * (cg_program_object), never gathering them into one.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "internal.h"

/* One part of a program: its module, in a context of its own, and a
 * target machine of its own (parts are compiled on several threads). */
typedef struct CgPart {
  CgTarget target;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
} CgPart;

struct CgProgram {
  CgPart *parts;  /* part 0 holds the entry points and the constants */
  int nparts;
  CgPart *host;   /* a device's program (the GPU's): the part compiled for
                   * the host, which the object holds; else NULL */
  CgSignature sig;
  CgData consts;  /* the constants' bytes, added to the object */
  FILE *timing;   /* CgOptions.timing */
  /* Built, not yet lowered (cg_program_lower empties them): */
  KirModule *k;   /* the kernels */
  KirSplit *split; /* how they fall into parts; NULL: one part */
  bool lowered;
};

/* Where the constants' bytes start: aligned for the widest vector load. */
enum { CG_DATA_ALIGN = 64 };

/* About this many ops of kernel IR make a part (at most KIR_MAX_PARTS):
 * large enough that a part's fixed costs (an MLIR context, a target
 * machine, declarations of the others' functions) are noise, small enough
 * that a model of a few convolutions already runs on two threads.  1000,
 * 2000 and 4000 were measured on the testdata models and ResNet-50 (2
 * cores); 2000 was never the slowest. */
enum { CG_OPS_PER_PART = 2000 };

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
static const CgBackend *const backends[] = {&cg_cpu_backend, &cg_gpu_backend};
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
    if (!target || takes(backends[i], target)) {
      /* TF32 is a GPU's tensor cores' format: a CPU has nothing to run
       * it on, and quietly exact f32 would hide a wrong command line. */
      if (opts && opts->gpu_tf32 && backends[i] != &cg_gpu_backend)
        return hlo_error("codegen: --gpu-tf32 needs --target nvptx64 (%s%s%s computes f32 "
                         "exactly)", target ? "target '" : "the host's target",
                         target ? target : "", target ? "'" : "");
      if (opts && opts->gpu_wgmma && backends[i] != &cg_gpu_backend)
        return hlo_error("codegen: --gpu-wgmma needs --target nvptx64 --cpu sm_90a (wgmma is "
                         "an instruction of NVIDIA's sm_90a)");
      HloError *e = backends[i]->create(opts, out);
      if (!e) out->info.exact_winograd = opts && opts->exact_winograd;
      return e;
    }
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
  if (!err && t->backend->place) err = t->backend->place(out->k, &out->sig, t);
  if (!err && (verify || (opts && opts->verify_kernels))) err = kir_verify(out->k);
  if (err && out->k) {
    cg_signature_free(&out->sig);
    cg_kernels_free(out);
  }
  return err;
}

HloError *cg_kernels_build(const HloModule *m, const CgOptions *opts, CgKernels *out) {
  CgTarget t;
  HloError *err = cg_target_create(opts, &t);
  if (!err) err = kernels(m, opts, &t, true, out);
  cg_target_free(&t);
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

/* Runs job(ctx, i) for i in [0, n) on up to as many threads as the
 * machine has (the calling one among them); returns the error of the
 * lowest i that failed. */
typedef struct Jobs {
  int n;
  atomic_int next;
  HloError **errs;
  HloError *(*job)(void *ctx, int i);
  void *ctx;
} Jobs;

typedef struct OneJob {
  Jobs *jobs;
  int i;
} OneJob;

static HloError *one_job(void *arg) {
  OneJob *o = arg;
  return o->jobs->job(o->jobs->ctx, o->i);
}

/* Each job runs under its own out-of-memory guard: running out of memory
 * on a worker thread is that job's error, as on the calling thread. */
static void *worker(void *arg) {
  Jobs *j = arg;
  for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->n;) {
    OneJob o = {j, i};
    j->errs[i] = hlo_guard_oom(one_job, &o);
  }
  return NULL;
}

static HloError *run_jobs(int n, HloError *(*job)(void *, int), void *ctx) {
  Jobs j = {.n = n, .job = job, .ctx = ctx};
  atomic_init(&j.next, 0);
  j.errs = hlo_xcalloc((size_t)n, sizeof *j.errs);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int nthreads = (int)(cpus < 1 ? 1 : cpus < n ? cpus : n) - 1, started = 0;
  pthread_t *threads = hlo_xcalloc((size_t)nthreads + 1, sizeof *threads);
  for (int t = 0; t < nthreads; t++)
    if (!pthread_create(&threads[started], NULL, worker, &j)) started++;
  worker(&j); /* fewer threads than asked (or none) still finish the jobs */
  for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
  free(threads);
  HloError *e = NULL;
  for (int i = 0; i < n; i++) {
    if (!e) e = j.errs[i];
    else if (j.errs[i]) hlo_error_free(j.errs[i]);
  }
  free(j.errs);
  return e;
}

/* Across parts, the functions one part defines and another calls are
 * hidden: called directly (no PLT), and made local again when the objects
 * are merged (object.c). */
static void hide_shared(LLVMModuleRef mod, const KirSplit *s, int part) {
  for (int i = 0; i < s->nfuncs; i++) {
    const KirFunc *f = s->funcs[i];
    if (!f->body || (s->part[i] == part && !s->shared[i])) continue;
    LLVMValueRef fn = LLVMGetNamedFunction(mod, f->name);
    if (fn) LLVMSetVisibility(fn, LLVMHiddenVisibility);
  }
}

/* The constants are declarations in every part: hidden (addressed
 * directly), and aligned as the object's data places them. */
static void declare_constants(LLVMModuleRef mod, const KirModule *k) {
  for (int i = 0; i < k->nglobals; i++) {
    LLVMValueRef g = LLVMGetNamedGlobal(mod, k->globals[i].name);
    if (!g) continue;
    LLVMSetVisibility(g, LLVMHiddenVisibility);
    LLVMSetAlignment(g, CG_DATA_ALIGN);
  }
}

/* Marks in read[] (by value) every operand of the ops of b. */
static void mark_operands(const KirBlock *b, bool *read) {
  for (const KirOp *op = b->first; op; op = op->next) {
    for (int i = 0; i < op->nopnds; i++) read[op->opnds[i]] = true;
    for (int i = 0; i < op->nregions; i++) mark_operands(op->regions[i], read);
  }
}

/* Marks in used[] (by index in k) the globals whose address the ops of b
 * take and some op reads (read[]: by value of b's function). */
static void mark_used(const KirModule *k, const KirBlock *b, const bool *read, bool *used) {
  for (const KirOp *op = b->first; op; op = op->next) {
    if (op->code == KIR_GLOBAL && read[op->res])
      for (int i = 0; i < k->nglobals; i++)
        if (!used[i] && !strcmp(k->globals[i].name, op->sym)) {
          used[i] = true;
          break;
        }
    for (int i = 0; i < op->nregions; i++) mark_used(k, op->regions[i], read, used);
  }
}

/* Whether a global after the i-th of k that the program takes (used[])
 * reads the bytes at src. */
static bool read_later(const KirModule *k, const bool *used, int i, const void *src) {
  for (int j = i + 1; j < k->nglobals; j++)
    if (used[j] && k->globals[j].data == src) return true;
  return false;
}

/* Frees the blocks of `from` that no global after the i-th of k that the
 * program takes reads. */
static void release_read(const KirModule *k, const bool *used, int i, HloArena *from) {
  const void **live = hlo_xcalloc((size_t)k->nglobals + 1, sizeof *live);
  size_t n = 0;
  for (int j = i + 1; j < k->nglobals; j++)
    if (used[j] && k->globals[j].data) live[n++] = k->globals[j].data;
  hlo_arena_release_unless(from, live, n);
  free(live);
}

/* The bytes of the constants the kernels read (a constant packed for a
 * contraction leaves its unpacked form unread, though its address is
 * taken), each in a buffer the program owns: the packed ones made from
 * the HLO module's literals (KirGlobal.fill), the others copied from
 * them, so that the program outlives the module and holds each constant
 * once.  With `release` (the arena of the module that owns the literals,
 * which the caller frees next) each literal's block is freed as soon as
 * the last global read from it is made, and those no global reads first,
 * so that a model's weights never exist in full in both forms. */
static void collect_constants(KirModule *k, CgData *d, HloArena *release) {
  bool *used = hlo_xcalloc((size_t)k->nglobals + 1, sizeof *used);
  d->syms = hlo_xcalloc((size_t)k->nglobals + 1, sizeof *d->syms);
  for (const KirFunc *f = k->first; f; f = f->next) {
    if (!f->body) continue;
    bool *read = hlo_xcalloc((size_t)f->nvals + 1, sizeof *read);
    mark_operands(f->body, read);
    mark_used(k, f->body, read, used);
    free(read);
  }
  if (release) release_read(k, used, -1, release);
  size_t size = 0;
  for (int i = 0; i < k->nglobals; i++) {
    if (!used[i]) continue;
    KirGlobal *g = &k->globals[i];
    size = (size + CG_DATA_ALIGN - 1) / CG_DATA_ALIGN * CG_DATA_ALIGN;
    char *bytes = NULL;
    if (g->bytes && g->fill) {
      bytes = hlo_xcalloc(g->bytes, 1);
      g->fill(bytes, g->data, g->how);
    } else if (g->bytes) {
      bytes = hlo_xmalloc(g->bytes);
      memcpy(bytes, g->data, g->bytes);
    }
    d->syms[d->nsyms++] = (CgDataSymbol){hlo_xstrdup(g->name), size, g->bytes, bytes};
    size += g->bytes;
    if (release && g->data && !read_later(k, used, i, g->data)) release_read(k, used, i, release);
  }
  d->size = size;
  /* What is left of the globals is their names and types: the bytes are
   * the program's now, or were never read, and the module's may be freed. */
  for (int i = 0; i < k->nglobals; i++) k->globals[i].data = NULL;
  free(used);
}

/* hloc_weights_fingerprint (runtime/weights.c) of the section's bytes,
 * taken piece by piece as they would be written: FNV-1a over 64-bit
 * little-endian words, then the tail bytes, with the length mixed in. */
static uint64_t data_fingerprint(const CgData *d) {
  const uint64_t prime = 0x100000001b3u;
  uint64_t h = 0xcbf29ce484222325u ^ (uint64_t)d->size;
  uint64_t carry = 0; /* the bytes of a word begun in an earlier piece */
  int have = 0;
  struct iovec *v = NULL;
  int n = cg_data_pieces(d, &v, 0);
  for (int i = 0; i < n; i++) {
    const unsigned char *p = v[i].iov_base;
    size_t len = v[i].iov_len, j = 0;
    for (; j < len && have; j++) {
      carry |= (uint64_t)p[j] << (8 * have);
      if (++have == 8) {
        h = (h ^ carry) * prime;
        carry = 0;
        have = 0;
      }
    }
    for (; j + 8 <= len; j += 8) {
      uint64_t w;
      memcpy(&w, p + j, 8);
      h = (h ^ w) * prime;
    }
    for (; j < len; j++) carry |= (uint64_t)p[j] << (8 * have++);
  }
  free(v);
  for (int i = 0; i < have; i++) h = (h ^ ((carry >> (8 * i)) & 0xff)) * prime;
  return h ^ (h >> 29);
}

/* Part i of a built program (arg), lowered and optimized: a job of
 * cg_program_lower. */
static HloError *compile_part(void *arg, int i) {
  CgProgram *p = arg;
  CgPart *pt = &p->parts[i];
  const CgBackend *b = pt->target.backend;
  char *mlir = kir_print_mlir_part(p->k, p->split, i);
  pt->ctx = LLVMContextCreate();
  HloError *err = b->lower(mlir, pt->ctx, &pt->mod);
  free(mlir);
  if (!err && p->split) hide_shared(pt->mod, p->split, i);
  if (!err) declare_constants(pt->mod, p->k);
  if (!err) err = b->finish(pt->mod, &pt->target, &p->sig, i);
  return err;
}

/* The host's part of a device's program, once the device's is finished
 * (CgBackend.host_mlir): lowered with the host backend's pipeline. */
static HloError *compile_host(CgProgram *p) {
  const CgBackend *b = p->parts[0].target.backend;
  CgPart *h = p->host;
  char *mlir = NULL;
  HloError *err = b->host_mlir(p->k, &p->sig, &mlir);
  h->ctx = LLVMContextCreate();
  if (!err) err = h->target.backend->lower(mlir, h->ctx, &h->mod);
  free(mlir);
  if (!err) declare_constants(h->mod, p->k);
  if (!err) err = b->host_finish(h->mod, &h->target, &p->sig, p->parts[0].mod, &p->parts[0].target,
                                  &p->consts);
  return err;
}

/* The LLVM name of the architecture hloc runs on. */
static const char *host_arch(void) {
#if defined(__aarch64__)
  return "aarch64";
#else
  return "x86_64";
#endif
}

/* cg_program_build, freeing the literals' blocks of `release` (m's arena,
 * or NULL) as collect_constants takes their bytes. */
static HloError *build(const HloModule *m, const CgOptions *opts, HloArena *release,
                       CgProgram **out) {
  *out = NULL;
  CgProgram *p = hlo_xcalloc(1, sizeof *p);
  p->parts = hlo_xcalloc(1, sizeof *p->parts);
  p->nparts = 1;
  CgKernels ks = {0};
  p->timing = opts ? opts->timing : NULL;
  double t = seconds_now();
  if (p->timing) fprintf(p->timing, "%-22s %10s\n", "codegen phase", "ms");
  HloError *err = cg_target_create(opts, &p->parts[0].target);
  if (!err) err = kernels(m, opts, &p->parts[0].target, false, &ks);
  phase(p->timing, "kernel IR", &t);
  if (!err) {
    p->sig = ks.sig;
    collect_constants(ks.k, &p->consts, release);
    /* The program holds the constants' bytes: it is done with m and with
     * the legalized module (whose own literals some of them were). */
    p->k = ks.k;
    ks.k = NULL;
    cg_kernels_free(&ks);
    if (opts && opts->separate_weights) {
      HloStr sym = {0};
      hlo_str_printf(&sym, "%s_weights", p->sig.name);
      p->consts.region_symbol = hlo_str_take(&sym);
      p->sig.separate_weights = true;
      p->sig.weights_bytes = p->consts.size;
      p->sig.weights_fingerprint = data_fingerprint(&p->consts);
    }
    const CgBackend *b = p->parts[0].target.backend;
    if (b->host_mlir && !(opts && opts->device_only)) {
      snprintf(p->sig.gpu_sm, sizeof p->sig.gpu_sm, "%s", p->parts[0].target.cpu);
      if (p->sig.separate_weights)
        err = hlo_error("codegen: %s: --separate-weights is not supported for GPU programs yet",
                        p->parts[0].target.triple);
      p->host = hlo_xcalloc(1, sizeof *p->host);
      CgOptions ho = {.name = p->sig.name, .target = host_arch(), .cpu = "generic"};
      if (!err) err = cg_target_create(&ho, &p->host->target);
    }
    p->split = kir_split(p->k, b->whole ? 1 : opts ? opts->parts : 0, CG_OPS_PER_PART);
    if (p->split->nparts > 1) {
      CgPart *parts = hlo_xcalloc((size_t)p->split->nparts, sizeof *parts);
      parts[0] = p->parts[0];
      free(p->parts);
      p->parts = parts;
      p->nparts = p->split->nparts;
      for (int i = 1; i < p->nparts && !err; i++) err = cg_target_create(opts, &parts[i].target);
    } else {
      kir_split_free(p->split);
      p->split = NULL;
    }
    if (p->timing) fprintf(p->timing, "%-22s %10d\n", "parts", p->nparts);
  }
  if (err) {
    cg_program_free(p);
    return err;
  }
  *out = p;
  return NULL;
}

HloError *cg_program_build(const HloModule *m, const CgOptions *opts, CgProgram **out) {
  return build(m, opts, NULL, out);
}

HloError *cg_program_build_consuming(HloModule *m, const CgOptions *opts, CgProgram **out) {
  return build(m, opts, m->arena, out);
}

HloError *cg_program_lower(CgProgram *p) {
  HLO_CHECK(!p->lowered);
  double t = seconds_now();
  HloError *err = run_jobs(p->nparts, compile_part, p);
  if (!err && p->host) err = compile_host(p);
  phase(p->timing, "lower and optimize", &t);
  kir_split_free(p->split);
  p->split = NULL;
  kir_module_free(p->k);
  p->k = NULL;
  p->lowered = !err;
  return err;
}

HloError *cg_compile(const HloModule *m, const CgOptions *opts,
                     CgProgram **out) {
  CgProgram *p;
  HloError *err = cg_program_build(m, opts, &p);
  if (!err) err = cg_program_lower(p);
  if (err) {
    cg_program_free(p);
    p = NULL;
  }
  *out = p;
  return err;
}

void cg_program_free(CgProgram *p) {
  if (!p) return;
  for (int i = 0; i < p->nparts; i++) {
    if (p->parts[i].mod) LLVMDisposeModule(p->parts[i].mod);
    if (p->parts[i].ctx) LLVMContextDispose(p->parts[i].ctx);
    cg_target_free(&p->parts[i].target);
  }
  free(p->parts);
  if (p->host) {
    if (p->host->mod) LLVMDisposeModule(p->host->mod);
    if (p->host->ctx) LLVMContextDispose(p->host->ctx);
    cg_target_free(&p->host->target);
    free(p->host);
  }
  cg_signature_free(&p->sig);
  for (int i = 0; i < p->consts.nsyms; i++) {
    free(p->consts.syms[i].name);
    free(p->consts.syms[i].bytes);
  }
  free(p->consts.syms);
  free(p->consts.region_symbol);
  kir_split_free(p->split);
  kir_module_free(p->k);
  free(p);
}

const CgSignature *cg_program_signature(const CgProgram *p) { return &p->sig; }

int cg_program_weights(const CgProgram *p, struct iovec **pieces) {
  *pieces = NULL;
  return cg_data_pieces(&p->consts, pieces, 0);
}
const char *cg_program_triple(const CgProgram *p) { return p->parts[0].target.triple; }
const char *cg_program_cpu(const CgProgram *p) { return p->parts[0].target.cpu; }
bool cg_program_is_host(const CgProgram *p) {
  return (p->host ? p->host : p->parts)->target.is_host;
}
bool cg_program_is_cuda(const CgProgram *p) { return p->host != NULL; }

/* Emission of every part, on threads. */
typedef struct Emit {
  const CgProgram *p;
  const CgPart *parts;  /* what is emitted: the program's parts, or its host's */
  LLVMCodeGenFileType type;
  char **data;
  size_t *len;
} Emit;

static char *copy_bytes(const char *src, size_t n) {
  char *d = hlo_xmalloc(n + 1);
  memcpy(d, src, n);
  d[n] = '\0';
  return d;
}

static HloError *emit_part(void *arg, int i) {
  Emit *em = arg;
  const CgPart *pt = &em->parts[i];
  LLVMModuleRef clone = LLVMCloneModule(pt->mod);
  char *msg = NULL;
  LLVMMemoryBufferRef buf;
  LLVMBool failed =
      LLVMTargetMachineEmitToMemoryBuffer(pt->target.tm, clone, em->type, &msg, &buf);
  LLVMDisposeModule(clone);
  if (failed) {
    HloError *e = hlo_error("codegen: LLVM code generation failed: %s", msg);
    LLVMDisposeMessage(msg);
    return e;
  }
  em->len[i] = LLVMGetBufferSize(buf);
  em->data[i] = copy_bytes(LLVMGetBufferStart(buf), em->len[i]);
  LLVMDisposeMemoryBuffer(buf);
  return NULL;
}

/* Every part's object or assembly (em->data[i], em->len[i]: malloc'd). */
/* An object of a device's program is its host's part (whose data holds
 * the device code); its assembly is the device's. */
static int emitted(const CgProgram *p, LLVMCodeGenFileType type) {
  return type == LLVMObjectFile && p->host ? 1 : p->nparts;
}

static HloError *emit_parts(const CgProgram *p, LLVMCodeGenFileType type, Emit *em) {
  HLO_CHECK(p->lowered);
  int n = emitted(p, type);
  *em = (Emit){.p = p, .type = type, .parts = type == LLVMObjectFile && p->host ? p->host : p->parts};
  em->data = hlo_xcalloc((size_t)n, sizeof *em->data);
  em->len = hlo_xcalloc((size_t)n, sizeof *em->len);
  return run_jobs(n, emit_part, em);
}

static void emit_free(const CgProgram *p, Emit *em) {
  for (int i = 0; i < emitted(p, em->type); i++) free(em->data[i]);
  free(em->data);
  free(em->len);
}

/* The program as an object (the parts' merged, with the constants) or as
 * assembly (the parts', one after another, each a complete assembly file;
 * the constants are declared there, their bytes only in the object). */
/* An error when the program's target has no objects yet. */
static HloError *object_refused(const CgProgram *p) {
  const CgTarget *t = &p->parts[0].target;
  if (t->backend->host_mlir && !p->host)
    return hlo_error("codegen: no object file for %s: the device code was built alone (its "
                     "assembly is the PTX)",
                     t->triple);
  if (!t->backend->no_object) return NULL;
  return hlo_error("codegen: no object file for %s: %s", t->triple, t->backend->no_object);
}

static HloError *emit(const CgProgram *p, LLVMCodeGenFileType type, char **data,
                      size_t *len) {
  HloError *refused = type == LLVMObjectFile ? object_refused(p) : NULL;
  if (refused) return refused;
  double t = seconds_now();
  int n = emitted(p, type);
  Emit em;
  HloError *err = emit_parts(p, type, &em);
  if (!err && type == LLVMObjectFile) {
    err = cg_object_merge((const char *const *)em.data, em.len, n, &p->consts, data, len);
  } else if (!err && n == 1) {
    *data = em.data[0];
    *len = em.len[0];
    em.data[0] = NULL;
  } else if (!err) {
    HloStr all = {0};
    for (int i = 0; i < n; i++) {
      hlo_str_printf(&all, "# part %d of %d\n", i, n);
      hlo_str_append(&all, em.data[i], em.len[i]);
    }
    *len = all.len;
    *data = hlo_str_take(&all);
  }
  emit_free(p, &em);
  phase(p->timing, type == LLVMObjectFile ? "object emission" : "assembly emission", &t);
  return err;
}

HloError *cg_program_object(const CgProgram *p, CgObjectFile *out) {
  *out = (CgObjectFile){0};
  HloError *refused = object_refused(p);
  if (refused) return refused;
  double t = seconds_now();
  Emit em;
  HloError *err = emit_parts(p, LLVMObjectFile, &em);
  if (!err)
    err = cg_object_merge_around((const char *const *)em.data, em.len, emitted(p, LLVMObjectFile),
                                 &p->consts,
                                 &out->head, &out->tail);
  emit_free(p, &em);
  if (!err) {
    int n = 0;
    out->pieces = hlo_xcalloc(1, sizeof *out->pieces);
    out->pieces[n++] = (struct iovec){out->head.buf, out->head.len};
    if (p->consts.nsyms && !p->consts.region_symbol) n = cg_data_pieces(&p->consts, &out->pieces, n);
    out->pieces = hlo_xrealloc(out->pieces, sizeof *out->pieces * ((size_t)n + 1));
    out->pieces[n++] = (struct iovec){out->tail.buf, out->tail.len};
    out->npieces = n;
    for (int i = 0; i < n; i++) out->size += out->pieces[i].iov_len;
  }
  phase(p->timing, "object emission", &t);
  return err;
}

void cg_object_file_free(CgObjectFile *f) {
  free(f->pieces);
  free(f->head.buf);
  free(f->tail.buf);
  *f = (CgObjectFile){0};
}

HloError *cg_program_emit(const CgProgram *p, CgFileType type, char **data,
                          size_t *len) {
  *data = NULL;
  *len = 0;
  if (type == CG_FILE_LLVM_IR) {
    HLO_CHECK(p->lowered);
    HloStr all = {0};
    for (int i = 0; i < p->nparts; i++) {
      char *s = LLVMPrintModuleToString(p->parts[i].mod);
      if (p->nparts > 1) hlo_str_printf(&all, "; part %d of %d\n", i, p->nparts);
      hlo_str_append(&all, s, strlen(s));
      LLVMDisposeMessage(s);
    }
    *len = all.len;
    *data = hlo_str_take(&all);
    return NULL;
  }
  return emit(p, type == CG_FILE_OBJECT ? LLVMObjectFile : LLVMAssemblyFile, data, len);
}
