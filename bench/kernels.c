/*
 * kernels.c — hloc's matrix multiply against the libraries users would
 * otherwise call: oneDNN's dnnl_sgemm and OpenBLAS's cblas_sgemm (Debian's
 * libdnnl-dev and libopenblas-pthread-dev), single-threaded, on the GEMM
 * shapes of issue "CPU kernels at library speed" and of real models.
 *
 *   hloc_bench_kernels [--cpu C] [--seconds S] [SHAPE...]
 *
 * A SHAPE is MxKxN (as 128x768x3072).  Each shape is compiled twice by
 * hloc (JIT, for --cpu, default native): with B a constant (weights: hloc
 * packs them at compile time, the case of every model) and with B an
 * argument.  Then the four are timed in rounds that alternate between
 * them, each round running one for at least 20 ms, until S seconds
 * (default 10) have passed; the median of each one's rounds gives GFLOP/s
 * (2·M·N·K per call).  Every result is checked against OpenBLAS's.
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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
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
static char *dot_text(int64_t M, int64_t K, int64_t N, const float *b) {
  size_t cap = (size_t)(K * N) * 16 + 4096;
  char *s = malloc(cap);
  if (!s) exit(1);
  size_t n = (size_t)snprintf(s, cap, "HloModule gemm\n\nENTRY main {\n  a = f32[%lld,%lld] parameter(0)\n",
                              (long long)M, (long long)K);
  if (b) {
    n += (size_t)snprintf(s + n, cap - n, "  b = f32[%lld,%lld] constant({", (long long)K,
                          (long long)N);
    for (int64_t k = 0; k < K; k++) {
      n += (size_t)snprintf(s + n, cap - n, "%s{", k ? ", " : "");
      for (int64_t j = 0; j < N; j++)
        n += (size_t)snprintf(s + n, cap - n, "%s%.9g", j ? ", " : "", (double)b[k * N + j]);
      n += (size_t)snprintf(s + n, cap - n, "}");
    }
    n += (size_t)snprintf(s + n, cap - n, "})\n");
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

enum { HLOC_CONST, HLOC_ARG, ONEDNN, OPENBLAS, NIMPL };
static const char *const impl_names[NIMPL] = {"hloc (weights)", "hloc (B arg)", "oneDNN",
                                              "OpenBLAS"};

typedef struct Case {
  int64_t M, K, N;
  float *a, *b, *c[NIMPL];
  CgJit *jit[2];
  void *scratch[2];
} Case;

static void run(Case *c, int impl) {
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

int main(int argc, char **argv) {
  const char *cpu = NULL;
  double seconds = 10;
  static const char *const defaults[] = {
      "256x256x256",   "512x512x512",   "1024x1024x1024", "2048x2048x2048", "128x768x768",
      "128x768x3072",  "128x3072x768",  "1x512x2048",     "1x2048x1000",    "49x2048x512",
      "1x768x768",     "196x1152x128",  "3136x64x64"};
  const char *shapes[64];
  int nshapes = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--cpu") && i + 1 < argc) cpu = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (nshapes < 64) shapes[nshapes++] = argv[i];
  }
  if (!nshapes)
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) shapes[nshapes++] = defaults[i];
  openblas_set_num_threads(1);
  const char *core = getenv("OPENBLAS_CORETYPE");
  printf("OpenBLAS core: %s (%s); OMP_NUM_THREADS=%s; hloc --cpu %s\n\n",
         openblas_get_corename(), core ? core : "OPENBLAS_CORETYPE unset",
         getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "unset", cpu ? cpu : "native");
  printf("| M×K×N | hloc (weights) GFLOP/s | hloc (B arg) | oneDNN | OpenBLAS | "
         "hloc/oneDNN | hloc/OpenBLAS |\n|---|---:|---:|---:|---:|---:|---:|\n");
  for (int s = 0; s < nshapes; s++) {
    Case c = {0};
    if (sscanf(shapes[s], "%lldx%lldx%lld", (long long *)&c.M, (long long *)&c.K,
               (long long *)&c.N) != 3) {
      fprintf(stderr, "bad shape '%s' (MxKxN)\n", shapes[s]);
      return 2;
    }
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
    /* Every result against OpenBLAS's. */
    for (int i = 0; i < NIMPL; i++) run(&c, i);
    for (int i = 0; i < NIMPL - 1; i++)
      for (int64_t k = 0; k < c.M * c.N; k++)
        if (fabsf(c.c[i][k] - c.c[OPENBLAS][k]) > 1e-3f * (1.0f + fabsf(c.c[OPENBLAS][k]))) {
          fprintf(stderr, "%s: %s differs at %lld: %g vs %g\n", shapes[s], impl_names[i],
                  (long long)k, (double)c.c[i][k], (double)c.c[OPENBLAS][k]);
          return 1;
        }
    enum { MAXR = 4000 };
    static double rounds[NIMPL][MAXR];
    int nr = 0;
    double t0 = now();
    while (nr < MAXR && (now() - t0 < seconds || nr < 3)) {
      for (int i = 0; i < NIMPL; i++) {
        int reps = 0;
        double start = now(), t;
        do {
          run(&c, i);
          reps++;
        } while ((t = now() - start) < 0.02);
        rounds[i][nr] = t / reps;
      }
      nr++;
    }
    double gflops[NIMPL];
    for (int i = 0; i < NIMPL; i++) {
      qsort(rounds[i], (size_t)nr, sizeof(double), by_value);
      gflops[i] = 2.0 * (double)(c.M * c.N * c.K) / rounds[i][nr / 2] * 1e-9;
    }
    printf("| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", shapes[s], gflops[HLOC_CONST],
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
  }
  return 0;
}
