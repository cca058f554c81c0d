/*
 * test_frontend_savedmodel.c — SavedModel directories and checkpoints
 * (testdata/tf/savedmodels, written by TensorFlow: Keras exports with a
 * dynamic batch, tf.Module with several signatures, nested functions, an
 * LSTM, a TensorFlow 1 SavedModelBuilder model, a GraphDef with its
 * checkpoint).  Each case is loaded with its signature and input shapes,
 * lowered, evaluated with hlo/'s evaluator on the stored inputs and
 * compared with the outputs TensorFlow computed from the same files.  The
 * variables' values come only from the checkpoints, so a variable bound
 * to the wrong key (the object graph walked wrongly) or to nothing fails
 * the comparison or the load.  Then every refusal, with its exact message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "frontend.h"

#define DIR "testdata/tf/savedmodels"

/* Whole models: tens of f32 operations in another order than Eigen's. */
#define ATOL 1e-4
#define RTOL 1e-3

typedef struct Case {
  char name[64], dir[64], signature[64];
  int nin, nout;
  int nshapes;
  TfInputShape shapes[4];
  char shape_names[4][64];
} Case;

static void parse_shape(Case *c, const char *arg) {
  ck_assert_int_lt(c->nshapes, 4);
  TfInputShape *s = &c->shapes[c->nshapes];
  const char *eq = strchr(arg, '=');
  ck_assert_ptr_nonnull(eq);
  snprintf(c->shape_names[c->nshapes], 64, "%.*s", (int)(eq - arg), arg);
  s->name = c->shape_names[c->nshapes];
  for (const char *p = eq + 1; *p;) {
    char *end;
    s->dims[s->rank++] = strtoll(p, &end, 10);
    p = *end ? end + 1 : end;
  }
  c->nshapes++;
}

static int load_manifest(Case *cases, int max) {
  FILE *f = fopen(DIR "/MANIFEST", "r");
  ck_assert_msg(f != NULL, "missing " DIR "/MANIFEST");
  char line[1024];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    ck_assert_int_lt(n, max);
    Case *c = &cases[n++];
    memset(c, 0, sizeof *c);
    int used = 0;
    ck_assert_msg(sscanf(line, "%63s %63s %63s %d %d%n", c->name, c->dir, c->signature, &c->nin,
                         &c->nout, &used) == 5,
                  "bad MANIFEST line: %s", line);
    for (char *tok = strtok(line + used, " \n"); tok; tok = strtok(NULL, " \n"))
      parse_shape(c, tok);
  }
  fclose(f);
  return n;
}

/* Evaluates m on NAME.in*.npy and compares with NAME.out*.npy; returns a
 * message (malloc'd) or NULL. */
static char *compare(HloModule *m, const char *name, int nin, int nout) {
  char path[256], msg[512];
  HloLiteral *args[8] = {0};
  ck_assert_int_le(nin, 8);
  for (int k = 0; k < nin; k++) {
    snprintf(path, sizeof path, DIR "/%s.in%d.npy", name, k);
    args[k] = ck_read_npy(path);
  }
  HloLiteral *out = NULL;
  char *result = NULL;
  HloError *e = hlo_evaluate(m, args, nin, &out);
  if (e) {
    result = strdup(hlo_error_message(e));
    hlo_error_free(e);
  }
  int nres = result ? 0 : out->shape.type == HLO_TUPLE ? out->shape.ntuple : 1;
  if (!result && nres != nout) {
    snprintf(msg, sizeof msg, "%d results, TensorFlow gave %d", nres, nout);
    result = strdup(msg);
  }
  for (int k = 0; k < nres && !result; k++) {
    snprintf(path, sizeof path, DIR "/%s.out%d.npy", name, k);
    HloLiteral *want = ck_read_npy(path);
    char cmp[256];
    if (!ck_allclose(out->shape.type == HLO_TUPLE ? out->elems[k] : out, want, ATOL, RTOL, cmp,
                     sizeof cmp)) {
      snprintf(msg, sizeof msg, "output %d: %s", k, cmp);
      result = strdup(msg);
    }
    hlo_literal_free(want);
  }
  hlo_literal_free(out);
  for (int k = 0; k < nin; k++) hlo_literal_free(args[k]);
  return result;
}

static char *import(TfGraph *g, HloError *e, HloModule **m) {
  if (!e) e = tf_import(g, "model", m);
  tf_graph_free(g);
  if (!e) return NULL;
  char *r = strdup(hlo_error_message(e));
  hlo_error_free(e);
  return r;
}

START_TEST(savedmodels_match_tensorflow) {
  static Case cases[32];
  int n = load_manifest(cases, 32);
  ck_assert_int_ge(n, 7);
  HloStr report = {0};
  int nfail = 0;
  for (int i = 0; i < n; i++) {
    Case *c = &cases[i];
    char dir[128];
    snprintf(dir, sizeof dir, DIR "/%s", c->dir);
    TfSavedModelOptions o = {.signature = c->signature, .input_shapes = c->shapes,
                             .ninput_shapes = c->nshapes};
    TfGraph *g = NULL;
    HloModule *m = NULL;
    char *err = import(g, tf_saved_model_load(dir, NULL, &o, &g), &m);
    if (!err) err = compare(m, c->name, c->nin, c->nout);
    hlo_module_free(m);
    if (err) hlo_str_printf(&report, "\n  %s: %s", c->name, err), nfail++;
    free(err);
  }
  ck_assert_msg(nfail == 0, "%d of %d SavedModels failed:%s", nfail, n,
                report.buf ? report.buf : "");
  free(report.buf);
}
END_TEST

/* A GraphDef whose variables (VariableV2, and a resource variable) a
 * TensorFlow 1 checkpoint freezes. */
START_TEST(checkpoint_freezes_graphdef) {
  TfGraph *g = NULL;
  HloModule *m = NULL;
  HloError *e = tf_graph_load(DIR "/tf1_graph.pbtxt", DIR "/tf1_graph.config.pbtxt", &g);
  if (!e) e = tf_graph_bind_checkpoint(g, DIR "/tf1_graph.ckpt", NULL);
  char *err = import(g, e, &m);
  if (!err) err = compare(m, "tf1_graph", 1, 1);
  ck_assert_msg(!err, "%s", err);
  hlo_module_free(m);
}
END_TEST

/* --- refusals ------------------------------------------------------------ */

static void expect_load_error(const char *dir, const char *config, const TfSavedModelOptions *o,
                              const char *want) {
  TfGraph *g = NULL;
  HloModule *m = NULL;
  char *err = import(g, tf_saved_model_load(dir, config, o, &g), &m);
  ck_assert_msg(err != NULL, "%s loaded", dir);
  ck_assert_str_eq(err, want);
  free(err);
}

START_TEST(signature_and_tags_are_named) {
  TfSavedModelOptions o = {.signature = "nope"};
  expect_load_error(DIR "/module_multi", NULL, &o,
                    DIR "/module_multi: no signature 'nope'; the meta graph has 'lookup', "
                        "'serving_default'");
  TfSavedModelOptions t = {.tags = "serve, gpu"};
  expect_load_error(DIR "/module_multi", NULL, &t,
                    DIR "/module_multi: no meta graph has the tag set {serve, gpu}; the "
                        "SavedModel holds {serve}");
  TfSavedModelOptions ok = {.tags = " serve ,serve", .signature = "lookup"};
  TfGraph *g = NULL;
  HloError *e = tf_saved_model_load(DIR "/module_multi", NULL, &ok, &g);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  ck_assert_int_eq(g->nfeeds, 2);
  ck_assert_str_eq(g->feeds[0].name, "ids");
  ck_assert_str_eq(g->feeds[1].name, "scale");
  ck_assert_str_eq(g->fetches[0].name, "rows");
  tf_graph_free(g);
}
END_TEST

START_TEST(dynamic_dimensions_need_shapes) {
  expect_load_error(DIR "/keras_mlp", NULL, NULL,
                    DIR "/keras_mlp: signature 'serving_default': input 'keras_tensor' has the "
                        "saved shape (-1, 6), fixed only at run time: give it a static shape "
                        "(--input-shape keras_tensor=N,...; libhloc and Python: "
                        "input_shapes)");
  TfInputShape bad = {"keras_tensor", 2, {2, 7}};
  TfSavedModelOptions o = {.input_shapes = &bad, .ninput_shapes = 1};
  expect_load_error(DIR "/keras_mlp", NULL, &o,
                    DIR "/keras_mlp: signature 'serving_default': the shape given for input "
                        "'keras_tensor' (2, 7) does not fit its saved shape (-1, 6)");
  TfInputShape rank = {"keras_tensor", 1, {6}};
  o.input_shapes = &rank;
  expect_load_error(DIR "/keras_mlp", NULL, &o,
                    DIR "/keras_mlp: signature 'serving_default': the shape given for input "
                        "'keras_tensor' (6) does not fit its saved shape (-1, 6)");
  TfInputShape other = {"image", 1, {6}};
  o.input_shapes = &other;
  expect_load_error(DIR "/keras_mlp", NULL, &o,
                    DIR "/keras_mlp: signature 'serving_default': a shape is given for "
                        "'image', which is not an input of the signature (its inputs: "
                        "'keras_tensor')");
}
END_TEST

START_TEST(not_a_saved_model) {
  expect_load_error("testdata/tf", NULL, NULL,
                    "testdata/tf: not a SavedModel: the directory holds no saved_model.pb");
  expect_load_error(DIR "/MANIFEST", NULL, NULL, DIR "/MANIFEST: a SavedModel is a directory");
  expect_load_error(DIR "/missing", NULL, NULL, DIR "/missing: No such file or directory");
  ck_assert(tf_is_saved_model(DIR "/nested"));
  ck_assert(!tf_is_saved_model(DIR));
  ck_assert(!tf_is_saved_model(DIR "/tf1_graph.pbtxt"));
}
END_TEST

/* A copy of a SavedModel's saved_model.pb in a fresh directory: its
 * variables are missing. */
START_TEST(variables_must_be_there) {
  char tmp[] = "/tmp/hloc_sm_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(tmp));
  ck_assert_int_eq(ck_sh(NULL, "cp " DIR "/nested/saved_model.pb %s/", tmp), 0);
  char want[512];
  snprintf(want, sizeof want, "%s/variables/variables.index: cannot open: No such file or "
                              "directory",
           tmp);
  TfGraph *g = NULL;
  HloModule *m = NULL;
  char *err = import(g, tf_saved_model_load(tmp, NULL, NULL, &g), &m);
  ck_assert_ptr_nonnull(err);
  ck_assert_str_eq(err, want);
  free(err);
  ck_assert_int_eq(ck_sh(NULL, "rm -r %s", tmp), 0);
}
END_TEST

START_TEST(checkpoint_must_hold_the_variables) {
  TfGraph *g = NULL;
  /* not bound: the lowering says where a value comes from */
  HloModule *m = NULL;
  char *err = import(g, tf_graph_load(DIR "/tf1_graph.pbtxt", DIR "/tf1_graph.config.pbtxt", &g),
                     &m);
  ck_assert_ptr_nonnull(err);
  ck_assert_str_eq(err, "node 'w' (VariableV2): the variable has no value: give the checkpoint "
                        "that holds it (--checkpoint PREFIX), or compile a frozen graph");
  free(err);
  /* another model's checkpoint: no such key */
  HloError *e = tf_graph_load(DIR "/tf1_graph.pbtxt", DIR "/tf1_graph.config.pbtxt", &g);
  ck_assert_ptr_null(e);
  e = tf_graph_bind_checkpoint(g, DIR "/nested/variables/variables", NULL);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(hlo_error_message(e),
                   "node 'w' (VariableV2): checkpoint '" DIR "/nested/variables/variables' "
                   "holds no value for the variable (no key 'w')");
  hlo_error_free(e);
  /* a key that holds another type or shape */
  const char *keys[64] = {0};
  ck_assert_int_le(g->nnodes, 64);
  keys[tf_graph_node(g, "w")->id] = "c/.ATTRIBUTES/VARIABLE_VALUE";
  e = tf_graph_bind_checkpoint(g, DIR "/nested/variables/variables", keys);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(hlo_error_message(e),
                   "node 'w' (VariableV2): the variable has shape [3,3], but checkpoint '" DIR
                   "/nested/variables/variables' holds [] under 'c/.ATTRIBUTES/VARIABLE_VALUE'");
  hlo_error_free(e);
  keys[tf_graph_node(g, "w")->id] = "steps/.ATTRIBUTES/VARIABLE_VALUE";
  e = tf_graph_bind_checkpoint(g, DIR "/nested/variables/variables", keys);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(hlo_error_message(e),
                   "node 'w' (VariableV2): the variable is DT_FLOAT, but checkpoint '" DIR
                   "/nested/variables/variables' holds DT_INT32 under "
                   "'steps/.ATTRIBUTES/VARIABLE_VALUE'");
  hlo_error_free(e);
  tf_graph_free(g);
}
END_TEST

START_TEST(config_replaces_the_signature) {
  TfSavedModelOptions o = {.signature = "lookup"};
  expect_load_error(DIR "/module_multi", DIR "/tf1_graph.config.pbtxt", &o,
                    DIR "/module_multi: a config names the feeds and fetches; it cannot go "
                        "with a signature or input shapes");
  /* feeds and fetches named by a config, variables still bound */
  TfGraph *g = NULL;
  HloModule *m = NULL;
  char cfg[] = "/tmp/hloc_sm_cfg_XXXXXX";
  int fd = mkstemp(cfg);
  ck_assert_int_ge(fd, 0);
  const char *text = "feed { id { node_name: 'serving_default_x' } shape { dim { size: 3 } dim "
                     "{ size: 4 } } name: 'x' }\n"
                     "fetch { id { node_name: 'StatefulPartitionedCall_1' output_index: 0 } "
                     "name: 'y' }\n"
                     "fetch { id { node_name: 'StatefulPartitionedCall_1' output_index: 1 } "
                     "name: 'z' }\n";
  ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  char *err = import(g, tf_saved_model_load(DIR "/module_multi", cfg, NULL, &g), &m);
  unlink(cfg);
  if (!err) err = compare(m, "module_multi", 1, 2);
  ck_assert_msg(!err, "%s", err);
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_savedmodel");
  TCase *t = tcase_create("savedmodel");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, savedmodels_match_tensorflow);
  tcase_add_test(t, checkpoint_freezes_graphdef);
  tcase_add_test(t, signature_and_tags_are_named);
  tcase_add_test(t, dynamic_dimensions_need_shapes);
  tcase_add_test(t, not_a_saved_model);
  tcase_add_test(t, variables_must_be_there);
  tcase_add_test(t, checkpoint_must_hold_the_variables);
  tcase_add_test(t, config_replaces_the_signature);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
