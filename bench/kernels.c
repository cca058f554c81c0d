/*
 * kernels.c — hloc's matrix multiply and convolution against the libraries
 * users would otherwise call: oneDNN's dnnl_sgemm and convolution
 * primitive and OpenBLAS's cblas_sgemm (Debian's libdnnl-dev and
 * libopenblas-pthread-dev), single-threaded, on the shapes of issue "CPU
 * kernels at library speed" and of real models.
 *
 *   hloc_bench_kernels [--cpu C] [--seconds S] [--cpu-time] [SHAPE...]
 *
 * A SHAPE is MxKxN (a GEMM, as 128x768x3072), or a batch-1 NHWC
 * convolution HxWxCxOkKsSpP (as 56x56x64x64k3s1p1: input H × W × C, O
 * output features, a K × K window, stride S, padding P on every side), or
 * a depthwise one dwHxWxCkKsSpP; a window or padding that differs between
 * rows and columns is written KxL (17x17x128x128k1x7s1p0x3: 1 × 7, padding
 * 0 above and below, 3 left and right); or a memory-bound kernel on f32
 * arrays of R rows of C (softmaxRxC, layernormRxC, addRxC, colmeanRxC: a
 * mean over the rows, rowsumRxC, maxpoolHxWxC: 2×2, stride 2), timed
 * against oneDNN's primitive for it and STREAM's copy and triad on arrays
 * as large (see bench_mem).  A GEMM is compiled twice by hloc (JIT,
 * for --cpu, default native): with B a constant (weights: hloc packs them
 * at compile time, the case of every model) and with B an argument; a
 * convolution once, its kernel a constant, and oneDNN's primitive is
 * given its weights in the layout it asks for (reordered before timing).
 * Then the implementations are timed in rounds that alternate between
 * them, each round running one for at least 20 ms, until S seconds
 * (default 10) have passed; the median of each one's rounds gives GFLOP/s
 * (2 multiply-adds' worth per weight use).  --cpu-time times the rounds
 * by the thread's CPU time instead of the wall clock: on a machine shared
 * with other work, time spent waiting for a CPU is not counted (every
 * implementation runs on the calling thread here, one thread each).  Every result is checked
 * against OpenBLAS's (GEMM), oneDNN's (convolution) or a reference in
 * double (memory-bound kernels, oneDNN's included).
 *
 * Set OPENBLAS_CORETYPE for the machine (Debian's 0.3.21 does not know
 * recent CPUs and silently falls back to generic kernels: SkylakeX for
 * AVX-512 Intel parts) and OMP_NUM_THREADS=1 (oneDNN's threads); the
 * program says which it saw.  One line per shape, a Markdown table.
 */
#include <cblas.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen.h"
#include "hloc_runtime.h"

static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec ts;
  clock_gettime(bench_clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static float *floats(int64_t n, unsigned *seed) {
  float *p = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
  if (!p) exit(1);
  for (int64_t i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    p[i] = (float)((*seed >> 16) % 2001) / 1000.0f - 1.0f;
  }
  return p;
}

/* The dot [M,K] x [K,N] as HLO text, B a constant of `b` or an argument. */
static size_t literal(char *s, size_t cap, size_t len, const float *v, const int64_t *d,
                      int rank);
static char *dot_text(int64_t M, int64_t K, int64_t N, const float *b) {
  size_t cap = (size_t)(K * N) * 20 + 4096;
  char *s = malloc(cap);
  if (!s) exit(1);
  size_t n = (size_t)snprintf(s, cap, "HloModule gemm\n\nENTRY main {\n  a = f32[%lld,%lld] parameter(0)\n",
                              (long long)M, (long long)K);
  if (b) {
    int64_t d[2] = {K, N};
    n += (size_t)snprintf(s + n, cap - n, "  b = f32[%lld,%lld] constant(", (long long)K,
                          (long long)N);
    n = literal(s, cap, n, b, d, 2);
    n += (size_t)snprintf(s + n, cap - n, ")\n");
  } else {
    n += (size_t)snprintf(s + n, cap - n, "  b = f32[%lld,%lld] parameter(1)\n", (long long)K,
                          (long long)N);
  }
  snprintf(s + n, cap - n,
           "  ROOT c = f32[%lld,%lld] dot(a, b), lhs_contracting_dims={1}, "
           "rhs_contracting_dims={0}\n}\n",
           (long long)M, (long long)N);
  return s;
}

static CgJit *compile(const char *text, const char *cpu) {
  HloModule *m = NULL;
  HloError *e = hlo_parse(text, strlen(text), "gemm", &m);
  if (!e) e = hlo_verify(m);
  CgProgram *p = NULL;
  CgOptions o = {.name = "gemm", .cpu = cpu};
  /* The pass pipeline first, as for a model: a padded convolution with
   * constant weights is timed with the pad of its input (conv-pad). */
  PassPolicy policy;
  if (!e) e = cg_pass_policy(&o, &policy);
  if (!e) e = pass_run_pipeline(m, &(PassOptions){.policy = &policy});
  if (!e) e = cg_compile(m, &o, &p);
  CgJit *j = NULL;
  if (!e) e = cg_jit(p, &j);
  if (e) {
    fprintf(stderr, "hloc: %s\n", hlo_error_message(e));
    exit(1);
  }
  cg_program_free(p);
  hlo_module_free(m);
  return j;
}

/* Times run(ctx, i) for i in [0, n) in alternating rounds (each at least
 * 20 ms of one), for `seconds`; med[i]: the median seconds per call. */
static void time_rounds(int n, void (*run)(void *, int), void *ctx, double seconds,
                        double *med) {
  enum { MAXR = 4000, MAXI = 8 };
  static double rounds[MAXI][MAXR];
  int nr = 0;
  double t0 = now();
  while (nr < MAXR && (now() - t0 < seconds || nr < 3)) {
    for (int i = 0; i < n; i++) {
      int reps = 0;
      double start = now(), t;
      do {
        run(ctx, i);
        reps++;
      } while ((t = now() - start) < 0.02);
      rounds[i][nr] = t / reps;
    }
    nr++;
  }
  for (int i = 0; i < n; i++) {
    qsort(rounds[i], (size_t)nr, sizeof(double), by_value);
    med[i] = rounds[i][nr / 2];
  }
}

/* Whether got matches want within f32 rounding of sums of n terms. */
static bool close_to(const float *got, const float *want, int64_t n, const char *what,
                     const char *shape) {
  for (int64_t k = 0; k < n; k++)
    if (!(fabsf(got[k] - want[k]) <= 1e-3f * (1.0f + fabsf(want[k])))) {
      fprintf(stderr, "%s: %s differs at %lld: %g vs %g\n", shape, what, (long long)k,
              (double)got[k], (double)want[k]);
      return false;
    }
  return true;
}

/* ---- GEMM ---------------------------------------------------------------- */

enum { HLOC_CONST, HLOC_ARG, ONEDNN, OPENBLAS, NIMPL };
static const char *const impl_names[NIMPL] = {"hloc (weights)", "hloc (B arg)", "oneDNN",
                                              "OpenBLAS"};

typedef struct Gemm {
  int64_t M, K, N;
  float *a, *b, *c[NIMPL];
  CgJit *jit[2];
  void *scratch[2];
} Gemm;

static void gemm_run(void *ctx, int impl) {
  Gemm *c = ctx;
  switch (impl) {
  case HLOC_CONST:
  case HLOC_ARG: {
    /* Arguments then results: (a, c) with B constant, (a, b, c) without. */
    const hloc_program *p = cg_jit_program(c->jit[impl]);
    void *bufs[3] = {c->a, c->b, c->c[impl]};
    if (impl == HLOC_CONST) bufs[1] = c->c[impl];
    p->run(bufs, c->scratch[impl]);
    break;
  }
  case ONEDNN:
    dnnl_sgemm('N', 'N', c->M, c->N, c->K, 1.0f, c->a, c->K, c->b, c->N, 0.0f, c->c[impl], c->N);
    break;
  default:
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->M, (int)c->N, (int)c->K, 1.0f,
                c->a, (int)c->K, c->b, (int)c->N, 0.0f, c->c[impl], (int)c->N);
    break;
  }
}

static int bench_gemm(const char *shape, const char *cpu, double seconds) {
  Gemm c = {0};
  if (sscanf(shape, "%lldx%lldx%lld", (long long *)&c.M, (long long *)&c.K,
             (long long *)&c.N) != 3)
    return 2;
  unsigned seed = 42;
  c.a = floats(c.M * c.K, &seed);
  c.b = floats(c.K * c.N, &seed);
  for (int i = 0; i < NIMPL; i++) c.c[i] = floats(c.M * c.N, &seed);
  for (int i = 0; i < 2; i++) {
    char *text = dot_text(c.M, c.K, c.N, i == HLOC_CONST ? c.b : NULL);
    c.jit[i] = compile(text, cpu);
    free(text);
    size_t sb = cg_jit_program(c.jit[i])->scratch_bytes;
    c.scratch[i] = sb ? aligned_alloc(64, (sb + 63) / 64 * 64) : NULL;
  }
  for (int i = 0; i < NIMPL; i++) gemm_run(&c, i);
  for (int i = 0; i < NIMPL - 1; i++)
    if (!close_to(c.c[i], c.c[OPENBLAS], c.M * c.N, impl_names[i], shape)) return 1;
  double med[NIMPL], gflops[NIMPL];
  time_rounds(NIMPL, gemm_run, &c, seconds, med);
  for (int i = 0; i < NIMPL; i++) gflops[i] = 2.0 * (double)(c.M * c.N * c.K) / med[i] * 1e-9;
  printf("| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", shape, gflops[HLOC_CONST],
         gflops[HLOC_ARG], gflops[ONEDNN], gflops[OPENBLAS], gflops[HLOC_CONST] / gflops[ONEDNN],
         gflops[HLOC_CONST] / gflops[OPENBLAS]);
  fflush(stdout);
  for (int i = 0; i < 2; i++) {
    cg_jit_free(c.jit[i]);
    free(c.scratch[i]);
  }
  free(c.a);
  free(c.b);
  for (int i = 0; i < NIMPL; i++) free(c.c[i]);
  return 0;
}

/* ---- Convolution --------------------------------------------------------- */

typedef struct Conv {
  int64_t H, W, C, O, K, KW, S, P, PW, OH, OW; /* K, P: rows; KW, PW: columns */
  bool depthwise;
  float *x, *w, *y[2];    /* w: HWIO (depthwise: H, W, 1, C) */
  CgJit *jit;
  void *scratch;
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  dnnl_primitive_t prim;
  dnnl_memory_t src, wei, dst;
} Conv;

static void dnnl_ok(dnnl_status_t st, const char *what) {
  if (st != dnnl_success) {
    fprintf(stderr, "oneDNN: %s failed (%d)\n", what, (int)st);
    exit(1);
  }
}

/* Appends the literal of v (dims d[0..rank)) in nested braces to s. */
static size_t literal(char *s, size_t cap, size_t len, const float *v, const int64_t *d,
                      int rank) {
  int64_t inner = 1;
  for (int k = 1; k < rank; k++) inner *= d[k];
  len += (size_t)snprintf(s + len, cap - len, "{");
  for (int64_t i = 0; i < d[0]; i++) {
    if (i) len += (size_t)snprintf(s + len, cap - len, ", ");
    if (rank > 1) len = literal(s, cap, len, v + i * inner, d + 1, rank - 1);
    else len += (size_t)snprintf(s + len, cap - len, "%.9g", (double)v[i]);
  }
  return len + (size_t)snprintf(s + len, cap - len, "}");
}

/* The convolution as HLO text, its kernel a constant. */
static char *conv_text(const Conv *c) {
  int64_t ci = c->depthwise ? 1 : c->C;
  int64_t d[4] = {c->K, c->KW, ci, c->O};
  size_t cap = (size_t)(c->K * c->KW * ci * c->O) * 20 + 4096;
  char *s = malloc(cap);
  if (!s) exit(1);
  size_t len = (size_t)snprintf(
      s, cap, "HloModule conv\n\nENTRY main {\n  x = f32[1,%lld,%lld,%lld] parameter(0)\n"
              "  w = f32[%lld,%lld,%lld,%lld] constant(",
      (long long)c->H, (long long)c->W, (long long)c->C, (long long)c->K, (long long)c->KW,
      (long long)ci, (long long)c->O);
  len = literal(s, cap, len, c->w, d, 4);
  len += (size_t)snprintf(
      s + len, cap - len,
      ")\n  ROOT y = f32[1,%lld,%lld,%lld] convolution(x, w), window={size=%lldx%lld "
      "stride=%lldx%lld pad=%lld_%lldx%lld_%lld}, dim_labels=b01f_01io->b01f",
      (long long)c->OH, (long long)c->OW, (long long)c->O, (long long)c->K, (long long)c->KW,
      (long long)c->S, (long long)c->S, (long long)c->P, (long long)c->P, (long long)c->PW,
      (long long)c->PW);
  if (c->depthwise)
    len += (size_t)snprintf(s + len, cap - len, ", feature_group_count=%lld", (long long)c->C);
  snprintf(s + len, cap - len, "\n}\n");
  return s;
}

/* oneDNN's primitive for c, its weights reordered into the layout it
 * chose from c->w (HWIO). */
static void conv_dnnl(Conv *c) {
  dnnl_ok(dnnl_engine_create(&c->engine, dnnl_cpu, 0), "engine");
  dnnl_ok(dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags), "stream");
  dnnl_memory_desc_t src_md, dst_md, wei_any, wei_user;
  dnnl_dims_t sd = {1, c->C, c->H, c->W}, dd = {1, c->depthwise ? c->C : c->O, c->OH, c->OW};
  dnnl_ok(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc), "src md");
  dnnl_ok(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc), "dst md");
  if (c->depthwise) {
    dnnl_dims_t wd = {c->C, 1, 1, c->K, c->KW};
    dnnl_ok(dnnl_memory_desc_init_by_tag(&wei_any, 5, wd, dnnl_f32, dnnl_format_tag_any), "w");
    dnnl_ok(dnnl_memory_desc_init_by_tag(&wei_user, 5, wd, dnnl_f32, dnnl_hwigo), "w user");
  } else {
    dnnl_dims_t wd = {c->O, c->C, c->K, c->KW};
    dnnl_ok(dnnl_memory_desc_init_by_tag(&wei_any, 4, wd, dnnl_f32, dnnl_format_tag_any), "w");
    dnnl_ok(dnnl_memory_desc_init_by_tag(&wei_user, 4, wd, dnnl_f32, dnnl_hwio), "w user");
  }
  dnnl_convolution_desc_t cd;
  dnnl_dims_t st = {c->S, c->S}, pad = {c->P, c->PW};
  dnnl_ok(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                             dnnl_convolution_direct, &src_md, &wei_any, NULL,
                                             &dst_md, st, pad, pad),
          "convolution desc");
  dnnl_primitive_desc_t pd;
  dnnl_ok(dnnl_primitive_desc_create(&pd, &cd, NULL, c->engine, NULL), "convolution pd");
  const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_ok(dnnl_memory_create(&c->src, &src_md, c->engine, c->x), "src");
  dnnl_ok(dnnl_memory_create(&c->dst, &dst_md, c->engine, c->y[1]), "dst");
  dnnl_ok(dnnl_memory_create(&c->wei, wei_md, c->engine, DNNL_MEMORY_ALLOCATE), "weights");
  dnnl_memory_t user;
  dnnl_ok(dnnl_memory_create(&user, &wei_user, c->engine, c->w), "user weights");
  dnnl_primitive_desc_t rpd;
  dnnl_ok(dnnl_reorder_primitive_desc_create(&rpd, &wei_user, c->engine, wei_md, c->engine,
                                             NULL),
          "reorder pd");
  dnnl_primitive_t reorder;
  dnnl_ok(dnnl_primitive_create(&reorder, rpd), "reorder");
  dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, c->wei}};
  dnnl_ok(dnnl_primitive_execute(reorder, c->stream, 2, rargs), "reorder run");
  dnnl_ok(dnnl_stream_wait(c->stream), "wait");
  dnnl_primitive_destroy(reorder);
  dnnl_primitive_desc_destroy(rpd);
  dnnl_memory_destroy(user);
  dnnl_ok(dnnl_primitive_create(&c->prim, pd), "convolution");
  dnnl_primitive_desc_destroy(pd);
}

static void conv_run(void *ctx, int impl) {
  Conv *c = ctx;
  if (impl == 0) {
    void *bufs[2] = {c->x, c->y[0]};
    cg_jit_program(c->jit)->run(bufs, c->scratch);
    return;
  }
  dnnl_exec_arg_t args[3] = {
      {DNNL_ARG_SRC, c->src}, {DNNL_ARG_WEIGHTS, c->wei}, {DNNL_ARG_DST, c->dst}};
  dnnl_ok(dnnl_primitive_execute(c->prim, c->stream, 3, args), "convolution run");
  dnnl_ok(dnnl_stream_wait(c->stream), "wait");
}

/* Reads "K" or "KxL" after a kernel or padding letter: rows, then columns. */
static const char *rows_cols(const char *p, int64_t *rows, int64_t *cols) {
  char *end;
  *rows = *cols = strtoll(p, &end, 10);
  if (end == p) return NULL;
  if (*end == 'x') {
    p = end + 1;
    *cols = strtoll(p, &end, 10);
    if (end == p) return NULL;
  }
  return end;
}

static int bench_conv(const char *shape, const char *cpu, double seconds) {
  Conv c = {0};
  const char *p = shape;
  int n;
  c.depthwise = !strncmp(p, "dw", 2);
  if (c.depthwise) {
    p += 2;
    if (sscanf(p, "%lldx%lldx%lldk%n", (long long *)&c.H, (long long *)&c.W, (long long *)&c.C,
               &n) != 3)
      return 2;
  } else if (sscanf(p, "%lldx%lldx%lldx%lldk%n", (long long *)&c.H, (long long *)&c.W,
                    (long long *)&c.C, (long long *)&c.O, &n) != 4) {
    return 2;
  }
  p = rows_cols(p + n, &c.K, &c.KW);
  if (!p || sscanf(p, "s%lldp%n", (long long *)&c.S, &n) != 1) return 2;
  p = rows_cols(p + n, &c.P, &c.PW);
  if (!p || *p) return 2;
  if (c.depthwise) c.O = c.C;
  c.OH = (c.H + 2 * c.P - c.K) / c.S + 1;
  c.OW = (c.W + 2 * c.PW - c.KW) / c.S + 1;
  unsigned seed = 7;
  c.x = floats(c.H * c.W * c.C, &seed);
  c.w = floats(c.K * c.KW * (c.depthwise ? 1 : c.C) * c.O, &seed);
  for (int i = 0; i < 2; i++) c.y[i] = floats(c.OH * c.OW * c.O, &seed);
  char *text = conv_text(&c);
  c.jit = compile(text, cpu);
  free(text);
  size_t sb = cg_jit_program(c.jit)->scratch_bytes;
  c.scratch = sb ? aligned_alloc(64, (sb + 63) / 64 * 64) : NULL;
  conv_dnnl(&c);
  for (int i = 0; i < 2; i++) conv_run(&c, i);
  if (!close_to(c.y[0], c.y[1], c.OH * c.OW * c.O, "hloc", shape)) return 1;
  double med[2];
  time_rounds(2, conv_run, &c, seconds, med);
  double flops = 2.0 * (double)(c.OH * c.OW * c.O * c.K * c.KW * (c.depthwise ? 1 : c.C));
  printf("| %s | %.1f | %.1f | %.2f |\n", shape, flops / med[0] * 1e-9, flops / med[1] * 1e-9,
         med[1] / med[0]);
  fflush(stdout);
  cg_jit_free(c.jit);
  free(c.scratch);
  dnnl_primitive_destroy(c.prim);
  dnnl_memory_destroy(c.src);
  dnnl_memory_destroy(c.wei);
  dnnl_memory_destroy(c.dst);
  dnnl_stream_destroy(c.stream);
  dnnl_engine_destroy(c.engine);
  free(c.x);
  free(c.w);
  for (int i = 0; i < 2; i++) free(c.y[i]);
  return 0;
}

/* ---- Memory-bound kernels ------------------------------------------------ */

/* softmax, layer norm (no scale), an add, a mean over rows (keeping the
 * columns), a sum of each row and a 2×2 max pool, on R × C f32 arrays
 * (the pool: H × W × C, as R = H × W rows of C features), against
 * oneDNN's primitive for the same kernel (softmax_v2 accurate, layer
 * normalization, binary add, reduction mean and sum, pooling max) and
 * STREAM's copy (b = a) and triad (a = b + s·c) on arrays of R × C floats,
 * timed in the same rounds.  GB/s count each input element read once and each
 * output element written once, as STREAM counts its arrays. */
typedef struct Mem {
  const char *kind;
  int64_t R, C, H, W, in, out; /* elements read and written */
  float *x, *x2, *y, *yd, *want, *sa, *sb, *sc;
  CgJit *jit;
  void *scratch;
  dnnl_engine_t engine;   /* oneDNN's primitive for the same kernel */
  dnnl_stream_t stream;
  dnnl_primitive_t prim;
  dnnl_exec_arg_t args[5];
  int nargs;
} Mem;

static const char mem_comps[] =
    "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = f32[] add(a, b)\n}\n\n"
    "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = f32[] maximum(a, b)\n}\n\n";

static char *mem_text(const Mem *m) {
  char *s = malloc(8192);
  if (!s) exit(1);
  long long R = m->R, C = m->C;
  const char *k = m->kind;
  int n = snprintf(s, 8192, "HloModule mem\n\n%sENTRY main {\n", mem_comps);
  if (!strcmp(k, "softmax"))
    snprintf(s + n, 8192 - (size_t)n,
             "  x = f32[%lld,%lld] parameter(0)\n  ninf = f32[] constant(-inf)\n"
             "  z = f32[] constant(0)\n"
             "  mx = f32[%lld] reduce(x, ninf), dimensions={1}, to_apply=max\n"
             "  mb = f32[%lld,%lld] broadcast(mx), dimensions={0}\n"
             "  d = f32[%lld,%lld] subtract(x, mb)\n  e = f32[%lld,%lld] exponential(d)\n"
             "  sm = f32[%lld] reduce(e, z), dimensions={1}, to_apply=add\n"
             "  sb = f32[%lld,%lld] broadcast(sm), dimensions={0}\n"
             "  ROOT r = f32[%lld,%lld] divide(e, sb)\n}\n",
             R, C, R, R, C, R, C, R, C, R, R, C, R, C);
  else if (!strcmp(k, "layernorm"))
    snprintf(s + n, 8192 - (size_t)n,
             "  x = f32[%lld,%lld] parameter(0)\n  z = f32[] constant(0)\n"
             "  nc = f32[] constant(%lld)\n  eps = f32[] constant(1e-5)\n"
             "  s = f32[%lld] reduce(x, z), dimensions={1}, to_apply=add\n"
             "  nb = f32[%lld] broadcast(nc), dimensions={}\n  mean = f32[%lld] divide(s, nb)\n"
             "  mb = f32[%lld,%lld] broadcast(mean), dimensions={0}\n"
             "  d = f32[%lld,%lld] subtract(x, mb)\n  sq = f32[%lld,%lld] multiply(d, d)\n"
             "  v = f32[%lld] reduce(sq, z), dimensions={1}, to_apply=add\n"
             "  var = f32[%lld] divide(v, nb)\n  eb = f32[%lld] broadcast(eps), dimensions={}\n"
             "  ve = f32[%lld] add(var, eb)\n  rs = f32[%lld] rsqrt(ve)\n"
             "  rb = f32[%lld,%lld] broadcast(rs), dimensions={0}\n"
             "  ROOT r = f32[%lld,%lld] multiply(d, rb)\n}\n",
             R, C, C, R, R, R, R, C, R, C, R, C, R, R, R, R, R, R, C, R, C);
  else if (!strcmp(k, "add"))
    snprintf(s + n, 8192 - (size_t)n,
             "  x = f32[%lld,%lld] parameter(0)\n  y = f32[%lld,%lld] parameter(1)\n"
             "  ROOT r = f32[%lld,%lld] add(x, y)\n}\n", R, C, R, C, R, C);
  else if (!strcmp(k, "colmean"))
    snprintf(s + n, 8192 - (size_t)n,
             "  x = f32[%lld,%lld] parameter(0)\n  z = f32[] constant(0)\n"
             "  nr = f32[] constant(%lld)\n"
             "  s = f32[%lld] reduce(x, z), dimensions={0}, to_apply=add\n"
             "  nb = f32[%lld] broadcast(nr), dimensions={}\n"
             "  ROOT r = f32[%lld] divide(s, nb)\n}\n", R, C, R, C, C, C);
  else if (!strcmp(k, "rowsum"))
    snprintf(s + n, 8192 - (size_t)n,
             "  x = f32[%lld,%lld] parameter(0)\n  z = f32[] constant(0)\n"
             "  ROOT r = f32[%lld] reduce(x, z), dimensions={1}, to_apply=add\n}\n", R, C, R);
  else /* maxpool */
    snprintf(s + n, 8192 - (size_t)n,
             "  x = f32[1,%lld,%lld,%lld] parameter(0)\n  ninf = f32[] constant(-inf)\n"
             "  ROOT r = f32[1,%lld,%lld,%lld] reduce-window(x, ninf), "
             "window={size=1x2x2x1 stride=1x2x2x1}, to_apply=max\n}\n",
             (long long)m->H, (long long)m->W, C, (long long)m->H / 2, (long long)m->W / 2, C);
  return s;
}

/* The expected result, in double. */
static void mem_reference(Mem *m) {
  int64_t R = m->R, C = m->C;
  const char *k = m->kind;
  for (int64_t r = 0; r < R && (!strcmp(k, "softmax") || !strcmp(k, "layernorm")); r++) {
    const float *x = m->x + r * C;
    double a = -INFINITY, b = 0, mean = 0;
    if (!strcmp(k, "softmax")) {
      for (int64_t c = 0; c < C; c++) a = x[c] > a ? x[c] : a;
      for (int64_t c = 0; c < C; c++) b += exp(x[c] - a);
      for (int64_t c = 0; c < C; c++) m->want[r * C + c] = (float)(exp(x[c] - a) / b);
    } else {
      for (int64_t c = 0; c < C; c++) mean += x[c];
      mean /= (double)C;
      for (int64_t c = 0; c < C; c++) b += (x[c] - mean) * (x[c] - mean);
      double rs = 1 / sqrt(b / (double)C + 1e-5);
      for (int64_t c = 0; c < C; c++) m->want[r * C + c] = (float)((x[c] - mean) * rs);
    }
  }
  if (!strcmp(k, "add"))
    for (int64_t i = 0; i < R * C; i++) m->want[i] = m->x[i] + m->x2[i];
  if (!strcmp(k, "colmean") || !strcmp(k, "rowsum")) {
    bool col = !strcmp(k, "colmean");
    for (int64_t i = 0; i < (col ? C : R); i++) {
      double t = 0;
      for (int64_t j = 0; j < (col ? R : C); j++) t += col ? m->x[j * C + i] : m->x[i * C + j];
      m->want[i] = (float)(col ? t / (double)R : t);
    }
  }
  if (!strcmp(k, "maxpool"))
    for (int64_t h = 0; h < m->H / 2; h++)
      for (int64_t w = 0; w < m->W / 2; w++)
        for (int64_t c = 0; c < C; c++) {
          float v = -INFINITY;
          for (int dh = 0; dh < 2; dh++)
            for (int dw = 0; dw < 2; dw++) {
              float e = m->x[((2 * h + dh) * m->W + 2 * w + dw) * C + c];
              v = e > v ? e : v;
            }
          m->want[(h * (m->W / 2) + w) * C + c] = v;
        }
}

static void mem_run(void *ctx, int impl) {
  Mem *m = ctx;
  int64_t n = m->R * m->C;
  if (impl == 0) {
    void *two[3] = {m->x, m->x2, m->y}, *one[2] = {m->x, m->y};
    cg_jit_program(m->jit)->run(m->x2 ? two : one, m->scratch);
  } else if (impl == 3) {
    dnnl_ok(dnnl_primitive_execute(m->prim, m->stream, m->nargs, m->args), "primitive run");
    dnnl_ok(dnnl_stream_wait(m->stream), "wait");
  } else if (impl == 1) {
    float *restrict b = m->sb;
    const float *restrict a = m->sa;
    for (int64_t i = 0; i < n; i++) b[i] = a[i];
  } else {
    float *restrict a = m->sa;
    const float *restrict b = m->sb, *restrict c = m->sc;
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + 3.0f * c[i];
  }
}

static dnnl_memory_t mem_memory(Mem *m, int rank, const int64_t *dims, dnnl_format_tag_t tag,
                                void *data) {
  dnnl_memory_desc_t md;
  dnnl_dims_t d;
  for (int k = 0; k < rank; k++) d[k] = dims[k];
  dnnl_ok(dnnl_memory_desc_init_by_tag(&md, rank, d, dnnl_f32, tag), "memory desc");
  dnnl_memory_t mem;
  dnnl_ok(dnnl_memory_create(&mem, &md, m->engine, data), "memory");
  return mem;
}

static const dnnl_memory_desc_t *mem_md(dnnl_memory_t mem) {
  const dnnl_memory_desc_t *md;
  dnnl_ok(dnnl_memory_get_memory_desc(mem, &md), "memory desc query");
  return md;
}

/* oneDNN's primitive for m's kernel, reading m->x (and m->x2), writing
 * m->yd; its arguments in m->args. */
static void mem_dnnl(Mem *m) {
  dnnl_ok(dnnl_engine_create(&m->engine, dnnl_cpu, 0), "engine");
  dnnl_ok(dnnl_stream_create(&m->stream, m->engine, dnnl_stream_default_flags), "stream");
  const char *k = m->kind;
  int64_t rc[2] = {m->R, m->C}, col[2] = {1, m->C}, row[2] = {m->R, 1};
  int64_t nchw[4] = {1, m->C, m->H, m->W}, pooled[4] = {1, m->C, m->H / 2, m->W / 2};
  dnnl_memory_t src, dst;
  bool pool = !strcmp(k, "maxpool");
  src = pool ? mem_memory(m, 4, nchw, dnnl_nhwc, m->x) : mem_memory(m, 2, rc, dnnl_ab, m->x);
  dst = pool ? mem_memory(m, 4, pooled, dnnl_nhwc, m->yd)
        : mem_memory(m, 2, !strcmp(k, "colmean") ? col : !strcmp(k, "rowsum") ? row : rc,
                     dnnl_ab, m->yd);
  dnnl_primitive_desc_t pd;
  m->nargs = 0;
  m->args[m->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
  if (!strcmp(k, "softmax")) {
    dnnl_softmax_v2_desc_t d;
    dnnl_ok(dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_inference, dnnl_softmax_accurate,
                                              mem_md(src), mem_md(dst), 1), "softmax desc");
    dnnl_ok(dnnl_primitive_desc_create(&pd, &d, NULL, m->engine, NULL), "softmax pd");
  } else if (!strcmp(k, "layernorm")) {
    dnnl_layer_normalization_desc_t d;
    dnnl_ok(dnnl_layer_normalization_forward_desc_init(&d, dnnl_forward_inference, mem_md(src),
                                                       NULL, 1e-5f, 0), "layer norm desc");
    dnnl_ok(dnnl_primitive_desc_create(&pd, &d, NULL, m->engine, NULL), "layer norm pd");
  } else if (!strcmp(k, "add")) {
    dnnl_memory_t src1 = mem_memory(m, 2, rc, dnnl_ab, m->x2);
    dnnl_binary_desc_t d;
    dnnl_ok(dnnl_binary_desc_init(&d, dnnl_binary_add, mem_md(src), mem_md(src1), mem_md(dst)),
            "binary desc");
    dnnl_ok(dnnl_primitive_desc_create(&pd, &d, NULL, m->engine, NULL), "binary pd");
    m->args[0].arg = DNNL_ARG_SRC_0;
    m->args[m->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SRC_1, src1};
  } else if (!pool) {
    dnnl_reduction_desc_t d;
    dnnl_ok(dnnl_reduction_desc_init(&d, !strcmp(k, "colmean") ? dnnl_reduction_mean
                                                                : dnnl_reduction_sum,
                                     mem_md(src), mem_md(dst), 0.0f, 0.0f), "reduction desc");
    dnnl_ok(dnnl_primitive_desc_create(&pd, &d, NULL, m->engine, NULL), "reduction pd");
  } else {
    dnnl_pooling_v2_desc_t d;
    dnnl_dims_t two = {2, 2}, dil = {0, 0}, pad = {0, 0};
    dnnl_ok(dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_inference, dnnl_pooling_max,
                                              mem_md(src), mem_md(dst), two, two, dil, pad, pad),
            "pooling desc");
    dnnl_ok(dnnl_primitive_desc_create(&pd, &d, NULL, m->engine, NULL), "pooling pd");
  }
  m->args[m->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
  /* A scratchpad or workspace where the primitive asks for one. */
  const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  if (sp && dnnl_memory_desc_get_size(sp)) {
    dnnl_memory_t mem;
    dnnl_ok(dnnl_memory_create(&mem, sp, m->engine, DNNL_MEMORY_ALLOCATE), "scratchpad");
    m->args[m->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, mem};
  }
  dnnl_ok(dnnl_primitive_create(&m->prim, pd), "primitive");
  dnnl_primitive_desc_destroy(pd);
}

static int bench_mem(const char *shape, const char *cpu, double seconds) {
  static const char *const kinds[] = {"softmax", "layernorm", "add", "colmean", "rowsum",
                                      "maxpool"};
  Mem m = {0};
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds && !m.kind; i++)
    if (!strncmp(shape, kinds[i], strlen(kinds[i]))) m.kind = kinds[i];
  if (!m.kind) return 2;
  const char *dims = shape + strlen(m.kind);
  bool pool = !strcmp(m.kind, "maxpool");
  if (pool ? sscanf(dims, "%lldx%lldx%lld", (long long *)&m.H, (long long *)&m.W,
                    (long long *)&m.C) != 3 || m.H % 2 || m.W % 2
           : sscanf(dims, "%lldx%lld", (long long *)&m.R, (long long *)&m.C) != 2)
    return 2;
  if (pool) m.R = m.H * m.W;
  int64_t n = m.R * m.C;
  m.in = n * (strcmp(m.kind, "add") ? 1 : 2);
  m.out = !strcmp(m.kind, "colmean") ? m.C : !strcmp(m.kind, "rowsum") ? m.R : pool ? n / 4 : n;
  unsigned seed = 7;
  m.x = floats(n, &seed);
  if (!strcmp(m.kind, "add")) m.x2 = floats(n, &seed);
  m.y = floats(m.out, &seed);
  m.yd = floats(m.out, &seed);
  m.want = floats(m.out, &seed);
  m.sa = floats(n, &seed);
  m.sb = floats(n, &seed);
  m.sc = floats(n, &seed);
  char *text = mem_text(&m);
  m.jit = compile(text, cpu);
  free(text);
  size_t sb = cg_jit_program(m.jit)->scratch_bytes;
  m.scratch = sb ? aligned_alloc(64, (sb + 63) / 64 * 64) : NULL;
  mem_reference(&m);
  mem_dnnl(&m);
  mem_run(&m, 0);
  mem_run(&m, 3);
  if (!close_to(m.y, m.want, m.out, "hloc", shape) ||
      !close_to(m.yd, m.want, m.out, "oneDNN", shape))
    return 1;
  double med[4];
  time_rounds(4, mem_run, &m, seconds, med);
  double bytes = (double)(m.in + m.out) * 4;
  double gbs = bytes / med[0] * 1e-9, dnnl = bytes / med[3] * 1e-9;
  double copy = (double)n * 8 / med[1] * 1e-9, triad = (double)n * 12 / med[2] * 1e-9;
  printf("| %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", shape, bytes / 1048576.0,
         gbs, dnnl, copy, triad, gbs / dnnl, gbs / (copy > triad ? copy : triad));
  fflush(stdout);
  for (int i = 0; i < m.nargs; i++) dnnl_memory_destroy(m.args[i].memory);
  dnnl_primitive_destroy(m.prim);
  dnnl_stream_destroy(m.stream);
  dnnl_engine_destroy(m.engine);
  cg_jit_free(m.jit);
  free(m.scratch);
  free(m.x);
  free(m.x2);
  free(m.y);
  free(m.yd);
  free(m.want);
  free(m.sa);
  free(m.sb);
  free(m.sc);
  return 0;
}

int main(int argc, char **argv) {
  const char *cpu = NULL;
  double seconds = 10;
  static const char *const defaults[] = {
      "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "128x768x768",
      "128x768x3072", "128x3072x768", "1x512x2048", "1x2048x1000", "49x2048x512", "1x768x768",
      /* ResNet-50's 3x3 and 1x1 layers at 56², 28², 14², 7² */
      "56x56x64x64k3s1p1", "56x56x64x256k1s1p0", "56x56x256x64k1s1p0",
      "28x28x128x128k3s1p1", "28x28x128x512k1s1p0", "28x28x512x128k1s1p0",
      "14x14x256x256k3s1p1", "14x14x256x1024k1s1p0", "14x14x1024x256k1s1p0",
      "7x7x512x512k3s1p1", "7x7x512x2048k1s1p0", "7x7x2048x512k1s1p0",
      "224x224x3x64k7s2p3",
      /* MobileNetV2's depthwise 3x3 at 112² and 56² */
      "dw112x112x96k3s2p1", "dw112x112x32k3s1p1", "dw56x56x144k3s1p1",
      /* memory-bound kernels on 64 MiB (twice the L3 of the machines so far) */
      "softmax4096x4096", "layernorm4096x4096", "add4096x4096", "colmean4096x4096",
      "rowsum4096x4096", "maxpool1024x256x64"};
  const char *shapes[64];
  int nshapes = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--cpu") && i + 1 < argc) cpu = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--cpu-time")) bench_clock = CLOCK_THREAD_CPUTIME_ID;
    else if (nshapes < 64) shapes[nshapes++] = argv[i];
  }
  if (!nshapes)
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) shapes[nshapes++] = defaults[i];
  openblas_set_num_threads(1);
  const char *core = getenv("OPENBLAS_CORETYPE");
  printf("OpenBLAS core: %s (%s); OMP_NUM_THREADS=%s; hloc --cpu %s; timed by %s\n",
         openblas_get_corename(), core ? core : "OPENBLAS_CORETYPE unset",
         getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "unset", cpu ? cpu : "native",
         bench_clock == CLOCK_MONOTONIC ? "the wall clock" : "thread CPU time");
  bool gemm_header = false, conv_header = false, mem_header = false;
  for (int s = 0; s < nshapes; s++) {
    bool mem = shapes[s][0] >= 'a' && shapes[s][0] <= 'z' && strncmp(shapes[s], "dw", 2);
    if (mem) {
      if (!mem_header)
        printf("\n| memory-bound kernel | MiB moved | hloc GB/s | oneDNN | STREAM copy | "
               "STREAM triad | hloc/oneDNN | hloc/best STREAM |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|\n");
      mem_header = true;
      gemm_header = conv_header = false;
      int rc = bench_mem(shapes[s], cpu, seconds);
      if (rc == 2)
        fprintf(stderr, "bad shape '%s' (softmaxRxC, layernormRxC, addRxC, colmeanRxC, "
                        "rowsumRxC, maxpoolHxWxC)\n", shapes[s]);
      if (rc) return rc;
      continue;
    }
    bool conv = strchr(shapes[s], 'k') != NULL;
    if (!conv && !gemm_header) {
      printf("\n| M×K×N | hloc (weights) GFLOP/s | hloc (B arg) | oneDNN | OpenBLAS | "
             "hloc/oneDNN | hloc/OpenBLAS |\n|---|---:|---:|---:|---:|---:|---:|\n");
      gemm_header = true;
      conv_header = mem_header = false;
    }
    if (conv && !conv_header) {
      printf("\n| convolution | hloc GFLOP/s | oneDNN | hloc/oneDNN |\n|---|---:|---:|---:|\n");
      conv_header = true;
      gemm_header = mem_header = false;
    }
    int rc = conv ? bench_conv(shapes[s], cpu, seconds) : bench_gemm(shapes[s], cpu, seconds);
    if (rc == 2) fprintf(stderr, "bad shape '%s' (MxKxN, HxWxCxOkKsSpP or dwHxWxCkKsSpP)\n",
                         shapes[s]);
    if (rc) return rc;
  }
  return 0;
}
