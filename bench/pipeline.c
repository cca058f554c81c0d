/*
 * pipeline.c — how much the pass pipeline buys: each TensorFlow model of
 * testdata/tf/models is imported twice and JIT-compiled for this machine,
 * once as imported and once after pass_run_pipeline, and both programs are
 * timed in the same process, alternately, so that both see the same
 * machine (caches, clock, neighbours).
 *
 *   hloc_bench_pipeline [--runs N] [--models DIR] [MODEL...]
 *
 * Run from the source root (default models: all of DIR/MANIFEST).  A
 * sample is the mean time of back-to-back runs over at least 20 ms, after
 * a warm-up of 0.2 s; N samples (default 25) of each program alternate,
 * and the median is reported, with the kernels and scratch bytes of each
 * program and the largest difference of its first result from
 * TensorFlow's (DIR/NAME.out0.npy).  One line per model, a Markdown table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codegen.h"
#include "frontend.h"
#include "passes.h"

typedef struct Program {
  CgJit *jit;
  const hloc_program *p;
  void **buffers;   /* arguments, then results */
  void *scratch;
  int64_t kernels;
  double *samples;  /* seconds per run */
} Program;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void *aligned(size_t bytes) {
  void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return p;
}

static void die(const char *model, HloError *e) {
  fprintf(stderr, "%s: %s\n", model, hlo_error_message(e));
  exit(1);
}

/* Imports a model, optionally optimizes it, and loads it for `inputs`. */
static void compile(const char *dir, const char *model, bool optimize, RtArray *inputs,
                    int ninputs, Program *prog) {
  char pb[1024], cfg[1024];
  snprintf(pb, sizeof pb, "%s/%s.pb", dir, model);
  snprintf(cfg, sizeof cfg, "%s/%s.config.pbtxt", dir, model);
  TfGraph *g = NULL;
  HloModule *m = NULL;
  HloError *e = tf_graph_load(pb, cfg, &g);
  if (!e) e = tf_import(g, "model", &m);
  tf_graph_free(g);
  CgOptions o = {.name = "model"};
  PassPolicy policy;
  if (!e) e = cg_pass_policy(&o, &policy);
  PassOptions po = {.policy = &policy};
  if (!e && optimize) e = pass_run_pipeline(m, &po);
  PassStats st;
  if (!e) e = pass_stats(m, &policy, &st);
  CgProgram *cp = NULL;
  if (!e) e = cg_compile(m, &o, &cp);
  if (!e) e = cg_jit(cp, &prog->jit);
  if (e) die(model, e);
  cg_program_free(cp);
  hlo_module_free(m);
  prog->kernels = st.kernels;
  prog->p = cg_jit_program(prog->jit);
  if (prog->p->num_args != ninputs) {
    fprintf(stderr, "%s: %d inputs for %d arguments\n", model, ninputs, prog->p->num_args);
    exit(1);
  }
  prog->buffers = calloc((size_t)(ninputs + prog->p->num_results), sizeof(void *));
  if (!prog->buffers) exit(1);
  for (int i = 0; i < ninputs; i++) prog->buffers[i] = inputs[i].data;
  for (int i = 0; i < prog->p->num_results; i++)
    prog->buffers[ninputs + i] = aligned(prog->p->results[i].bytes);
  prog->scratch = prog->p->scratch_bytes ? aligned(prog->p->scratch_bytes) : NULL;
}

/* One sample: the mean of back-to-back runs over at least 20 ms. */
static double sample(const Program *prog) {
  int runs = 0;
  double t0 = now(), t;
  do {
    prog->p->run(prog->buffers, prog->scratch);
    runs++;
  } while ((t = now() - t0) < 0.02);
  return t / runs;
}

/* The largest |got - want| over the first result (float results). */
static double max_diff(const Program *prog, const RtArray *want) {
  if (want->dtype != RT_F32 || prog->p->results[0].dtype != RT_F32) return NAN;
  const float *got = prog->buffers[prog->p->num_args];
  size_t n = prog->p->results[0].bytes / sizeof(float);
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double x = fabs((double)got[i] - ((const float *)want->data)[i]);
    if (!(x <= d)) d = x;
  }
  return d;
}

static void free_program(Program *prog) {
  for (int i = 0; i < prog->p->num_results; i++) free(prog->buffers[prog->p->num_args + i]);
  free(prog->buffers);
  free(prog->scratch);
  free(prog->samples);
  cg_jit_free(prog->jit);
}

static void bench(const char *dir, const char *model, int nsamples) {
  RtArray inputs[16], want;
  int ninputs = 0;
  char path[1024], err[256];
  for (; ninputs < 16; ninputs++) {
    snprintf(path, sizeof path, "%s/%s.in%d.npy", dir, model, ninputs);
    FILE *f = fopen(path, "rb");
    if (!f) break;
    fclose(f);
    if (rt_npy_read(path, &inputs[ninputs], err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      exit(1);
    }
  }
  snprintf(path, sizeof path, "%s/%s.out0.npy", dir, model);
  if (rt_npy_read(path, &want, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  Program prog[2];
  for (int k = 0; k < 2; k++) {
    compile(dir, model, k == 1, inputs, ninputs, &prog[k]);
    prog[k].samples = calloc((size_t)nsamples, sizeof(double));
    if (!prog[k].samples) exit(1);
    double t0 = now();
    while (now() - t0 < 0.2) prog[k].p->run(prog[k].buffers, prog[k].scratch);
  }
  for (int s = 0; s < nsamples; s++)
    for (int k = 0; k < 2; k++) prog[k].samples[s] = sample(&prog[k]);
  double median[2];
  for (int k = 0; k < 2; k++) {
    qsort(prog[k].samples, (size_t)nsamples, sizeof(double), by_value);
    median[k] = prog[k].samples[nsamples / 2];
  }
  printf("| %-18s | %4lld | %9llu | %9.4f | %4lld | %9llu | %9.4f | %5.2f | %.1e / %.1e |\n",
         model, (long long)prog[0].kernels, (unsigned long long)prog[0].p->scratch_bytes,
         median[0] * 1e3, (long long)prog[1].kernels,
         (unsigned long long)prog[1].p->scratch_bytes, median[1] * 1e3, median[1] / median[0],
         max_diff(&prog[0], &want), max_diff(&prog[1], &want));
  fflush(stdout);
  for (int k = 0; k < 2; k++) free_program(&prog[k]);
  for (int i = 0; i < ninputs; i++) rt_array_free(&inputs[i]);
  rt_array_free(&want);
}

int main(int argc, char **argv) {
  const char *dir = "testdata/tf/models";
  int nsamples = 25, first = 1;
  for (; first < argc && !strncmp(argv[first], "--", 2); first += 2) {
    if (first + 1 >= argc) break;
    if (!strcmp(argv[first], "--runs")) nsamples = atoi(argv[first + 1]);
    else if (!strcmp(argv[first], "--models")) dir = argv[first + 1];
    else break;
  }
  if (nsamples < 1 || (first < argc && !strncmp(argv[first], "--", 2))) {
    fprintf(stderr, "usage: %s [--runs N] [--models DIR] [MODEL...]\n", argv[0]);
    return 2;
  }
  printf("| model | kernels | scratch B | ms | kernels | scratch B | ms | ratio | max abs diff |\n"
         "|---|---:|---:|---:|---:|---:|---:|---:|---|\n"
         "| (%d samples) | without passes | | | with passes | | | | vs TF |\n",
         nsamples);
  if (first < argc) {
    for (int i = first; i < argc; i++) bench(dir, argv[i], nsamples);
    return 0;
  }
  char manifest[1024], line[1024];
  snprintf(manifest, sizeof manifest, "%s/MANIFEST", dir);
  FILE *f = fopen(manifest, "r");
  if (!f) {
    fprintf(stderr, "cannot read %s\n", manifest);
    return 1;
  }
  while (fgets(line, sizeof line, f)) {
    char name[256];
    if (line[0] == '#' || sscanf(line, "%255s", name) != 1) continue;
    bench(dir, name, nsamples);
  }
  fclose(f);
  return 0;
}
