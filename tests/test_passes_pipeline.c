/*
 * test_passes_pipeline.c — the whole pipeline on the JAX corpus
 * (testdata/hlo/NAME.hlo, unoptimized): every module must still verify and
 * evaluate to JAX's stored outputs within MANIFEST's tolerances, and on the
 * model-like cases fusion must cut the kernel count below the thresholds
 * recorded here.  Also: pipeline options (disable, dump, timing), the
 * verifier blaming the pass, statistics and buffer assignment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passes_util.h"

#define CORPUS "testdata/hlo/"

typedef CkCorpusCase Case;

static const Case *cases;
static int ncases;

static void load_manifest(void) {
  if (!ncases) ncases = ck_hlo_corpus(&cases);
}

/* Kernel counts after the pipeline must not exceed these (before → after
 * measured when the thresholds were set). */
static const struct {
  const char *name;
  int max_kernels;
} thresholds[] = {
    {"mlp_softmax", 5},    /* 29 before */
    {"layer_norm", 3},     /* 33 */
    {"small_convnet", 6},  /* 32 */
    {"attention_tiny", 6}, /* 22 */
    {"gelu_tanh", 1},      /* 13 */
    {"gelu_erf", 1},       /* 97 */
};

static HloModule *parse_case(const Case *c) {
  char path[300];
  snprintf(path, sizeof path, CORPUS "%.127s.hlo", c->name);
  HloModule *m = NULL;
  HloError *e = hlo_parse_file(path, &m);
  ck_assert_msg(!e, "%s: %s", path, hlo_error_message(e));
  return m;
}

START_TEST(corpus_after_pipeline_matches_jax) {
  load_manifest();
  HloStr report = {0};
  int nfail = 0, nrun = 0;
  for (int i = 0; i < ncases; i++) {
    const Case *c = &cases[i];
    if (c->nin < 0) continue;
    HloModule *m = parse_case(c);
    PassStats before, after;
    ck_assert(!pass_stats(m, &before));
    HloError *e = pass_run_pipeline(m, NULL);
    if (e) {
      hlo_str_printf(&report, "\n  %s: %s", c->name, hlo_error_message(e));
      nfail++;
      hlo_error_free(e);
      hlo_module_free(m);
      continue;
    }
    ck_assert(!pass_stats(m, &after));
    HloLiteral *args[64];
    for (int k = 0; k < c->nin; k++) {
      char p[300];
      snprintf(p, sizeof p, CORPUS "%.127s.in%d.npy", c->name, k);
      args[k] = ck_read_npy(p);
    }
    HloLiteral *out = NULL;
    nrun++;
    if ((e = hlo_evaluate(m, args, c->nin, &out))) {
      hlo_str_printf(&report, "\n  %s: %s", c->name, hlo_error_message(e));
      nfail++;
      hlo_error_free(e);
    } else {
      int nres = out->shape.type == HLO_TUPLE ? out->shape.ntuple : 1;
      for (int k = 0; k < nres && k < c->nout; k++) {
        char p[300], msg[256];
        snprintf(p, sizeof p, CORPUS "%.127s.out%d.npy", c->name, k);
        HloLiteral *want = ck_read_npy(p);
        HloLiteral *got = out->shape.type == HLO_TUPLE ? out->elems[k] : out;
        if (!ck_allclose(got, want, c->atol, c->rtol, msg, sizeof msg)) {
          hlo_str_printf(&report, "\n  %s result %d: %s", c->name, k, msg);
          nfail++;
        }
        hlo_literal_free(want);
      }
      hlo_literal_free(out);
    }
    for (int k = 0; k < c->nin; k++) hlo_literal_free(args[k]);
    for (size_t t = 0; t < sizeof thresholds / sizeof thresholds[0]; t++) {
      if (strcmp(thresholds[t].name, c->name)) continue;
      fprintf(stderr,
              "%-22s kernels %3lld -> %3lld  arena: slots %7lld packed %7lld peak-live %7lld\n",
              c->name, (long long)before.kernels, (long long)after.kernels,
              (long long)after.naive_arena_bytes, (long long)after.arena_bytes,
              (long long)after.peak_live_bytes);
      if (after.kernels > thresholds[t].max_kernels || after.kernels >= before.kernels) {
        hlo_str_printf(&report, "\n  %s: %lld kernels (was %lld, threshold %d)", c->name,
                       (long long)after.kernels, (long long)before.kernels,
                       thresholds[t].max_kernels);
        nfail++;
      }
    }
    if (after.arena_bytes > after.naive_arena_bytes || after.arena_bytes < after.peak_live_bytes) {
      hlo_str_printf(&report, "\n  %s: arena %lld outside [peak %lld, slots %lld]", c->name,
                     (long long)after.arena_bytes, (long long)after.peak_live_bytes,
                     (long long)after.naive_arena_bytes);
      nfail++;
    }
    hlo_module_free(m);
  }
  ck_assert_msg(nfail == 0, "%d failures over %d modules:%s", nfail, nrun,
                report.buf ? report.buf : "");
  free(report.buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_pipeline");
  TCase *t = tcase_create("pipeline");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, corpus_after_pipeline_matches_jax);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
