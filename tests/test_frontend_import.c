/*
 * test_frontend_import.c — every TensorFlow case in testdata/tf (one graph
 * per op and attribute variant, and the models) is imported with its
 * tfcompile config, verified, evaluated with hlo/'s evaluator on the stored
 * inputs and compared with TensorFlow's stored outputs.  Where a text
 * GraphDef (.pbtxt) exists beside the binary one, both must import to the
 * same HLO.  Each test reports every failing case at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "frontend.h"

/* Tolerances per MANIFEST family: |got - want| <= atol + rtol * |want|.
 * TensorFlow computes in f32 with Eigen, the evaluator in f32 per op (f64
 * accumulation for dot and convolution), so results differ only by
 * rounding, and the bounds are a few times the rounding error each family
 * can accumulate — far below what a wrong formula, axis or padding gives. */
static const struct {
  const char *family;
  double atol, rtol;
} tolerances[] = {
    /* integers, booleans, data movement: bit-exact */
    {"exact", 0, 0},
    /* one or two f32 roundings per element (~6e-8 relative each) */
    {"elementwise", 1e-6, 1e-6},
    /* Eigen's exp/log/tanh/erf approximations are within a few ulps */
    {"transcendental", 1e-6, 1e-5},
    /* K-term f32 dot products in Eigen's blocked order: ~sqrt(K) ulps */
    {"matmul", 1e-5, 1e-4},
    /* convolutions sum KH*KW*C products like matmul */
    {"conv", 1e-5, 1e-4},
    /* reductions over up to thousands of elements, in another order */
    {"reduce", 1e-5, 1e-4},
    /* whole models chain tens of layers; softmax outputs lie in [0, 1] */
    {"model", 1e-4, 1e-3},
};

typedef struct Case {
  char name[128], family[32];
  int nin, nout;
} Case;

static int load_manifest(const char *dir, Case *cases, int max) {
  char path[256];
  snprintf(path, sizeof path, "%s/MANIFEST", dir);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "missing %s", path);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    ck_assert_int_lt(n, max);
    Case *c = &cases[n++];
    ck_assert_msg(sscanf(line, "%127s %31s %d %d", c->name, c->family, &c->nin, &c->nout) == 4,
                  "bad line in %s: %s", path, line);
  }
  fclose(f);
  return n;
}

static void fail_line(HloStr *report, int *nfail, const char *name, const char *msg) {
  if (++*nfail <= 60) hlo_str_printf(report, "\n  %s: %s", name, msg);
}

static HloError *import(const char *graph, const char *config, HloModule **m) {
  TfGraph *g = NULL;
  HloError *e = tf_graph_load(graph, config, &g);
  if (e) return e;
  e = tf_import(g, "model", m);
  tf_graph_free(g);
  return e;
}

/* Imports, evaluates and compares one case; returns an error message
 * (malloc'd) or NULL. */
static char *run_case(const char *dir, const Case *c) {
  char graph[300], config[300], path[300], msg[300];
  snprintf(graph, sizeof graph, "%s/%s.pb", dir, c->name);
  snprintf(config, sizeof config, "%s/%s.config.pbtxt", dir, c->name);
  double atol = -1, rtol = 0;
  for (size_t i = 0; i < sizeof tolerances / sizeof tolerances[0]; i++)
    if (!strcmp(tolerances[i].family, c->family)) {
      atol = tolerances[i].atol;
      rtol = tolerances[i].rtol;
    }
  if (atol < 0) return strdup("unknown tolerance family");
  HloModule *m = NULL;
  HloError *e = import(graph, config, &m);
  if (e) {
    char *r = strdup(hlo_error_message(e));
    hlo_error_free(e);
    return r;
  }
  char *result = NULL;
  snprintf(path, sizeof path, "%s/%s.pbtxt", dir, c->name);
  if (access(path, R_OK) == 0) {
    HloModule *mt = NULL;
    if ((e = import(path, config, &mt))) {
      snprintf(msg, sizeof msg, "text GraphDef: %s", hlo_error_message(e));
      hlo_error_free(e);
      result = strdup(msg);
    } else {
      char *a = hlo_module_to_string(m), *b = hlo_module_to_string(mt);
      if (strcmp(a, b)) result = strdup("text and binary GraphDefs import differently");
      free(a);
      free(b);
      hlo_module_free(mt);
    }
  }
  HloLiteral *args[32] = {0};
  ck_assert_int_le(c->nin, 32);
  for (int k = 0; k < c->nin; k++) {
    snprintf(path, sizeof path, "%s/%s.in%d.npy", dir, c->name, k);
    args[k] = ck_read_npy(path);
  }
  HloLiteral *out = NULL;
  if (!result && (e = hlo_evaluate(m, args, c->nin, &out))) {
    result = strdup(hlo_error_message(e));
    hlo_error_free(e);
  }
  if (!result) {
    int nres = out->shape.type == HLO_TUPLE ? out->shape.ntuple : 1;
    if (nres != c->nout) {
      snprintf(msg, sizeof msg, "%d results, expected %d", nres, c->nout);
      result = strdup(msg);
    }
    for (int k = 0; k < nres && !result; k++) {
      snprintf(path, sizeof path, "%s/%s.out%d.npy", dir, c->name, k);
      HloLiteral *want = ck_read_npy(path);
      HloLiteral *got = out->shape.type == HLO_TUPLE ? out->elems[k] : out;
      char cmp[256];
      if (!ck_allclose(got, want, atol, rtol, cmp, sizeof cmp)) {
        snprintf(msg, sizeof msg, "output %d: %s", k, cmp);
        result = strdup(msg);
      }
      hlo_literal_free(want);
    }
  }
  hlo_literal_free(out);
  for (int k = 0; k < c->nin; k++) hlo_literal_free(args[k]);
  hlo_module_free(m);
  return result;
}

static void run_dir(const char *dir) {
  static Case cases[1024];
  int n = load_manifest(dir, cases, 1024);
  HloStr report = {0};
  int nfail = 0;
  for (int i = 0; i < n; i++) {
    char *err = run_case(dir, &cases[i]);
    if (err) fail_line(&report, &nfail, cases[i].name, err);
    free(err);
  }
  ck_assert_msg(nfail == 0, "%d of %d cases in %s failed:%s", nfail, n, dir,
                report.buf ? report.buf : "");
  free(report.buf);
}

START_TEST(ops_match_tensorflow) { run_dir("testdata/tf/ops"); }
END_TEST

START_TEST(models_match_tensorflow) { run_dir("testdata/tf/models"); }
END_TEST

/* Every op `hloc ops` lists has a TensorFlow-generated case: the MANIFESTs'
 * "# ops:" lines name the op types of each case's graph.  The variable ops
 * and StatefulPartitionedCall live in the SavedModel and variable graphs,
 * whose MANIFESTs list no ops; PartitionedCall only in test_frontend_control's
 * hand-written graphs (TensorFlow's freezing inlines it); Placeholder, Const,
 * Identity and NoOp are in every graph and left out of the "# ops:" lines. */
START_TEST(every_op_has_a_tensorflow_case) {
  static const char *const dirs[] = {"ops", "models"};
  static const char *const elsewhere[] = {
      "Placeholder",         "Const",          "Identity",       "NoOp",
      "Assign",              "AssignAdd",      "AssignSub",      "AssignVariableOp",
      "AssignAddVariableOp", "AssignSubVariableOp", "ReadVariableOp", "ResourceGather",
      "VarHandleOp",         "VariableV2",     "PartitionedCall", "StatefulPartitionedCall"};
  HloStr listed = {0};
  for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
    char path[256];
    snprintf(path, sizeof path, "testdata/tf/%s/MANIFEST", dirs[d]);
    char *text = ck_read_file(path, NULL);
    for (char *line = strstr(text, "\n# ops: "); line; line = strstr(line + 1, "\n# ops: ")) {
      char *end = strchr(line + 1, '\n');
      hlo_str_printf(&listed, " %.*s ", (int)((end ? end : line + strlen(line)) - line - 8),
                     line + 8);
    }
    free(text);
  }
  int n;
  const TfOpInfo *ops = tf_supported_ops(&n);
  HloStr missing = {0};
  int nmissing = 0;
  for (int i = 0; i < n; i++) {
    char word[96];
    snprintf(word, sizeof word, " %s ", ops[i].op);
    bool found = strstr(listed.buf, word) != NULL;
    for (size_t k = 0; k < sizeof elsewhere / sizeof elsewhere[0]; k++)
      found |= !strcmp(ops[i].op, elsewhere[k]);
    if (!found) hlo_str_printf(&missing, " %s", ops[i].op), nmissing++;
  }
  ck_assert_msg(nmissing == 0, "%d supported ops without a TensorFlow case:%s", nmissing,
                missing.buf);
  free(listed.buf);
  free(missing.buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_import");
  TCase *t = tcase_create("import");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, ops_match_tensorflow);
  tcase_add_test(t, models_match_tensorflow);
  tcase_add_test(t, every_op_has_a_tensorflow_case);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
