/*
 * test_hlo_corpus.c — HLO that XLA itself printed (testdata/hlo, generated
 * by scripts/gen_hlo_corpus.py with JAX): every module, unoptimized and
 * XLA:CPU-optimized, must parse, print to a fixed point after one round,
 * verify, and evaluate to JAX's outputs within the tolerances MANIFEST
 * states.  Optimized modules calling custom-call targets (XLA's TopK,
 * JAX's LAPACK calls) only need to parse, round-trip and verify.  Modules
 * listed in check_util.c as refused for now must be refused with the
 * message listed there (the verifier's refusals are not evaluated).
 * Each test reports every failing case at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"

#define CORPUS "testdata/hlo/"

typedef CkCorpusCase Case;

static const Case *cases;
static int ncases;

static void load_manifest(void) {
  if (!ncases) ncases = ck_hlo_corpus(&cases);
  ck_assert_int_ge(ncases, 40);
}

/* Appends one failure line, keeping the report bounded. */
static void fail_line(HloStr *report, int *nfail, const char *fmt, const char *a,
                      const char *b) {
  if (++*nfail <= 40) {
    hlo_str_printf(report, "\n  ");
    hlo_str_printf(report, fmt, a, b);
  }
}

/* The module files of a case: NAME.hlo and, when present, NAME.opt.hlo. */
static int case_files(const Case *c, char paths[2][256]) {
  int n = 0;
  snprintf(paths[n++], 256, CORPUS "%s.hlo", c->name);
  snprintf(paths[n], 256, CORPUS "%s.opt.hlo", c->name);
  if (access(paths[n], R_OK) == 0) n++;
  return n;
}

static HloModule *parse_path(const char *path, HloError **err) {
  HloModule *m = NULL;
  *err = hlo_parse_file(path, &m);
  return m;
}

START_TEST(corpus_parses_round_trips_and_verifies) {
  load_manifest();
  HloStr report = {0};
  int nfail = 0, nmodules = 0;
  for (int i = 0; i < ncases; i++) {
    char paths[2][256];
    int n = case_files(&cases[i], paths);
    for (int k = 0; k < n; k++) {
      nmodules++;
      HloError *e;
      HloModule *m = parse_path(paths[k], &e);
      if (!m) {
        fail_line(&report, &nfail, "%s: %s", paths[k], hlo_error_message(e));
        hlo_error_free(e);
        continue;
      }
      e = hlo_verify(m);
      int refused = ck_corpus_refusal(paths[k] + strlen(CORPUS), CK_AT_VERIFY, e, &report);
      if (refused >= 0) nfail += refused;
      else if (e) fail_line(&report, &nfail, "%s: %s", paths[k], hlo_error_message(e));
      hlo_error_free(e);
      char *once = hlo_module_to_string(m);
      HloModule *m2 = NULL;
      if ((e = hlo_parse(once, strlen(once), paths[k], &m2))) {
        fail_line(&report, &nfail, "%s: printed text does not parse: %s", paths[k],
                  hlo_error_message(e));
        hlo_error_free(e);
      } else {
        char *twice = hlo_module_to_string(m2);
        if (strcmp(once, twice))
          fail_line(&report, &nfail, "%s: print is not a fixed point after one round%s",
                    paths[k], "");
        free(twice);
        hlo_module_free(m2);
      }
      free(once);
      hlo_module_free(m);
    }
  }
  ck_assert_msg(nfail == 0, "%d of %d corpus modules failed:%s", nfail, nmodules,
                report.buf ? report.buf : "");
  free(report.buf);
}
END_TEST

static bool uses_custom_call(const HloModule *m) {
  for (HloComputation *c = m->first; c; c = c->next)
    for (HloInstr *in = c->first; in; in = in->next)
      if (in->op == HLO_OP_CUSTOM_CALL) return true;
  return false;
}

/* Evaluates every case's module of one kind (0: unoptimized, 1: optimized)
 * and compares with JAX's outputs. */
static void evaluate_corpus(int which) {
  load_manifest();
  HloStr report = {0};
  int nfail = 0, nrun = 0, nskipped = 0, nrefused = 0;
  for (int i = 0; i < ncases; i++) {
    const Case *c = &cases[i];
    if (c->nin < 0) continue;
    char paths[2][256];
    int n = case_files(c, paths);
    if (which >= n) continue;
    HloError *e;
    HloModule *m = parse_path(paths[which], &e);
    if (!m) {
      fail_line(&report, &nfail, "%s: %s", paths[which], hlo_error_message(e));
      hlo_error_free(e);
      continue;
    }
    /* What the verifier refuses (the first test checks how) is not run. */
    if (ck_corpus_listed(paths[which] + strlen(CORPUS), CK_AT_VERIFY)) {
      nrefused++;
      hlo_module_free(m);
      continue;
    }
    if (which == 1 && uses_custom_call(m)) {
      nskipped++;
      hlo_module_free(m);
      continue;
    }
    HloLiteral *args[64] = {0};
    ck_assert_int_le(c->nin, 64);
    for (int k = 0; k < c->nin; k++) {
      char p[300];
      snprintf(p, sizeof p, CORPUS "%s.in%d.npy", c->name, k);
      args[k] = ck_read_npy(p);
    }
    HloLiteral *out = NULL;
    nrun++;
    e = hlo_evaluate(m, args, c->nin, &out);
    int refused = ck_corpus_refusal(paths[which] + strlen(CORPUS), CK_AT_EVAL, e, &report);
    if (refused >= 0) {
      nfail += refused;
      hlo_error_free(e);
      hlo_literal_free(out);
    } else if (e) {
      fail_line(&report, &nfail, "%s: %s", paths[which], hlo_error_message(e));
      hlo_error_free(e);
    } else {
      /* Flatten one level: corpus results are arrays or tuples of arrays. */
      int nres = out->shape.type == HLO_TUPLE ? out->shape.ntuple : 1;
      if (nres != c->nout) {
        char msg[64];
        snprintf(msg, sizeof msg, "%d results, MANIFEST says %d", nres, c->nout);
        fail_line(&report, &nfail, "%s: %s", paths[which], msg);
      }
      for (int k = 0; k < nres && k < c->nout; k++) {
        char p[300], msg[256], where[400];
        snprintf(p, sizeof p, CORPUS "%s.out%d.npy", c->name, k);
        HloLiteral *want = ck_read_npy(p);
        HloLiteral *got = out->shape.type == HLO_TUPLE ? out->elems[k] : out;
        if (!ck_allclose(got, want, c->atol, c->rtol, msg, sizeof msg)) {
          snprintf(where, sizeof where, "%s result %d", paths[which], k);
          fail_line(&report, &nfail, "%s: %s", where, msg);
        }
        hlo_literal_free(want);
      }
      hlo_literal_free(out);
    }
    for (int k = 0; k < c->nin; k++) hlo_literal_free(args[k]);
    hlo_module_free(m);
  }
  fprintf(stderr, "corpus: %d %s modules evaluated, %d refused by the verifier",
          nrun, which ? "optimized" : "unoptimized", nrefused);
  if (which == 1) fprintf(stderr, ", %d with custom-calls only parsed", nskipped);
  fprintf(stderr, "\n");
  ck_assert_msg(nfail == 0, "%d of %d evaluations failed:%s", nfail, nrun,
                report.buf ? report.buf : "");
  ck_assert_int_gt(nrun, 0);
  free(report.buf);
}

START_TEST(corpus_unoptimized_matches_jax) { evaluate_corpus(0); }
END_TEST

START_TEST(corpus_optimized_matches_jax) { evaluate_corpus(1); }
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_corpus");
  TCase *t = tcase_create("corpus");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, corpus_parses_round_trips_and_verifies);
  tcase_add_test(t, corpus_unoptimized_matches_jax);
  tcase_add_test(t, corpus_optimized_matches_jax);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
