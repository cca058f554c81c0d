/*
 * test_frontend_v1control.c — TensorFlow 1 control flow functionalized
 * into While and If (functionalize.c).  The cases of testdata/tf/v1control
 * (tf.compat.v1 while_loop and cond graphs, a TF2 function frozen with
 * lower_control_flow=True) are loaded, lowered, evaluated with hlo/'s
 * evaluator and compared with TensorFlow's outputs; one also runs natively
 * through `hloc run`.  Then small hand-written graphs: what the rewrite
 * leaves in the graph, and every refusal with its exact message.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend_util.h"
#include "frontend.h"

#define DIR "testdata/tf/v1control"

/* Loops of tens of f32 operations, computed in TensorFlow's order. */
#define ATOL 1e-5
#define RTOL 1e-5

typedef struct Case {
  char name[64];
  int nin, nout;
} Case;

static int load_manifest(Case *cases, int max) {
  FILE *f = fopen(DIR "/MANIFEST", "r");
  ck_assert_msg(f != NULL, "missing " DIR "/MANIFEST");
  char line[256];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    ck_assert_int_lt(n, max);
    Case *c = &cases[n++];
    ck_assert_msg(sscanf(line, "%63s %d %d", c->name, &c->nin, &c->nout) == 3,
                  "bad MANIFEST line: %s", line);
  }
  fclose(f);
  return n;
}

/* Loads, lowers, evaluates and compares case c; a message (malloc'd) or
 * NULL. */
static char *check_case(const Case *c) {
  char graph[256], config[256], path[256], msg[512];
  snprintf(graph, sizeof graph, DIR "/%s.pb", c->name);
  snprintf(config, sizeof config, DIR "/%s.config.pbtxt", c->name);
  TfGraph *g = NULL;
  HloModule *m = NULL;
  HloError *e = tf_graph_load(graph, config, &g);
  if (!e) e = tf_import(g, c->name, &m);
  tf_graph_free(g);
  if (e) {
    char *r = strdup(hlo_error_message(e));
    hlo_error_free(e);
    return r;
  }
  HloLiteral *args[8] = {0};
  ck_assert_int_le(c->nin, 8);
  for (int k = 0; k < c->nin; k++) {
    snprintf(path, sizeof path, DIR "/%s.in%d.npy", c->name, k);
    args[k] = ck_read_npy(path);
  }
  HloLiteral *out = ck_evaluate(m, args, c->nin);
  int nres = out->shape.type == HLO_TUPLE ? out->shape.ntuple : 1;
  char *result = NULL;
  if (nres != c->nout) {
    snprintf(msg, sizeof msg, "%d results, TensorFlow gave %d", nres, c->nout);
    result = strdup(msg);
  }
  for (int k = 0; k < nres && !result; k++) {
    snprintf(path, sizeof path, DIR "/%s.out%d.npy", c->name, k);
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
  for (int k = 0; k < c->nin; k++) hlo_literal_free(args[k]);
  hlo_module_free(m);
  return result;
}

START_TEST(cases_match_tensorflow) {
  static Case cases[32];
  int n = load_manifest(cases, 32);
  ck_assert_int_ge(n, 7);
  HloStr report = {0};
  int nfail = 0;
  for (int i = 0; i < n; i++) {
    char *err = check_case(&cases[i]);
    if (err) hlo_str_printf(&report, "\n  %s: %s", cases[i].name, err), nfail++;
    free(err);
  }
  ck_assert_msg(nfail == 0, "%d of %d cases failed:%s", nfail, n, report.buf ? report.buf : "");
  free(report.buf);
}
END_TEST

/* Compiled natively and run by the hloc command, nested loops, a cond in a
 * loop and a loop of several variables give TensorFlow's values. */
START_TEST(hloc_run_natively) {
  static const Case cases[] = {{"nested_loops", 1, 1}, {"cond_in_loop", 1, 1}, {"multi_var", 2, 3}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const Case *c = &cases[i];
    HloStr cmd = {0};
    /* The results go to a temporary directory, not the source tree. */
    hlo_str_printf(&cmd, "d=$(mktemp -d) && %s run " DIR "/%s.pb --config " DIR
                   "/%s.config.pbtxt --output-dir $d", ck_env("HLOC_BIN"), c->name, c->name);
    for (int k = 0; k < c->nin; k++) hlo_str_printf(&cmd, " --input " DIR "/%s.in%d.npy", c->name, k);
    for (int k = 0; k < c->nout; k++)
      hlo_str_printf(&cmd, " --expect " DIR "/%s.out%d.npy", c->name, k);
    hlo_str_printf(&cmd, "; rc=$?; rm -rf $d; exit $rc");
    char *out = NULL;
    int rc = ck_sh(&out, "%s", cmd.buf);
    ck_assert_msg(rc == 0, "%s failed (%d):\n%s", cmd.buf, rc, out);
    ck_assert_msg(strstr(out, "matches the expected output") != NULL, "%s:\n%s", c->name, out);
    free(out);
    free(cmd.buf);
  }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hand-written graphs                                                      */
/* ------------------------------------------------------------------------ */

#define PLACEHOLDER(name, dtype)                                              \
  "node { name: '" name "' op: 'Placeholder' attr { key: 'dtype' value { type: " dtype " } } }\n"
#define CONST_F32(name, v)                                                    \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: " v        \
  " } } } }\n"
#define ATTR_F32 ATTR_TYPE("T", "DT_FLOAT")
#define FRAME(f) "attr { key: 'frame_name' value { s: '" f "' } }"
#define FEED(name, type)                                                      \
  "feed { id { node_name: '" name "' } shape { } type: " type " }\n"

/* Parses graph and config (text) and builds the view: the view, or NULL
 * with the message in *msg (malloc'd). */
static TfGraph *load(const char *graph, const char *config, char **msg) {
  ProtobufCMessage *gd = NULL, *cfg = NULL;
  HloError *e = tf_proto_parse_text(&tensorflow__graph_def__descriptor, graph, strlen(graph),
                                    "graph.pbtxt", &gd);
  ck_assert_msg(e == NULL, "graph text: %s", hlo_error_message(e));
  e = tf_proto_parse_text(&tensorflow__tf2xla__config__descriptor, config, strlen(config),
                          "config.pbtxt", &cfg);
  ck_assert_msg(e == NULL, "config text: %s", hlo_error_message(e));
  TfGraph *g = NULL;
  e = tf_graph_new((Tensorflow__GraphDef *)gd, (Tensorflow__Tf2xla__Config *)cfg, &g);
  *msg = e ? strdup(hlo_error_message(e)) : NULL;
  hlo_error_free(e);
  return g;
}

static void expect_error(const char *graph, const char *config, const char *want) {
  char *got = NULL;
  TfGraph *g = load(graph, config, &got);
  ck_assert_msg(g == NULL, "loaded without error; expected: %s", want);
  ck_assert_str_eq(got, want);
  free(got);
}

/* A v1 cond on a fed predicate: y = p ? x + 1 : x * 3. */
#define COND_GRAPH                                                            \
  PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("p", "DT_BOOL")                    \
  CONST_F32("one", "1") CONST_F32("three", "3")                               \
  NODE("s", "Switch", "input: 'x' input: 'p'", ATTR_F32)                      \
  NODE("t", "AddV2", "input: 's:1' input: 'one'", ATTR_F32)                   \
  NODE("f", "Mul", "input: 's' input: 'three'", ATTR_F32)                     \
  NODE("m", "Merge", "input: 'f' input: 't'", ATTR_F32 ATTR_INT("N", "2"))    \
  NODE("y", "Identity", "input: 'm'", ATTR_F32)
#define COND_CONFIG FEED("x", "DT_FLOAT") FEED("p", "DT_BOOL") FETCH("y")

/* The Merge stays as an Identity of the If, the Switch and the branches
 * move into two library functions, and both branches compute. */
START_TEST(cond_becomes_if) {
  char *msg = NULL;
  TfGraph *g = load(COND_GRAPH, COND_CONFIG, &msg);
  ck_assert_msg(g != NULL, "%s", msg);
  ck_assert_str_eq(tf_graph_node(g, "m")->op, "Identity");
  TfNode *in = tf_graph_node(g, "m")->inputs[0].node;
  ck_assert_str_eq(in->op, "If");
  ck_assert_int_eq(in->ninputs, 2);
  ck_assert_ptr_null(tf_graph_node(g, "s"));
  ck_assert_ptr_null(tf_graph_node(g, "t"));
  ck_assert_int_eq((int)g->def->library->n_function, 2);
  HloModule *m = NULL;
  HloError *e = tf_import(g, "cond", &m);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  tf_graph_free(g);
  HloShape s = hlo_shape_scalar(HLO_F32), b = hlo_shape_scalar(HLO_PRED);
  for (int p = 0; p < 2; p++) {
    HloLiteral *args[2] = {hlo_literal_new(&s), hlo_literal_new(&b)};
    hlo_literal_set_f64(args[0], 0, 5);
    hlo_literal_set_f64(args[1], 0, p);
    HloLiteral *out = ck_evaluate(m, args, 2);
    ck_assert_double_eq(hlo_literal_get_f64(out, 0), p ? 6 : 15);
    hlo_literal_free(out);
    hlo_literal_free(args[0]);
    hlo_literal_free(args[1]);
  }
  hlo_module_free(m);
}
END_TEST

/* A counted loop written by hand: while (i < 3) i = i + 1, with an Exit
 * fetched by name and a constant Enter (the bound). */
#define LOOP_GRAPH(addend, extra)                                             \
  PLACEHOLDER("x", "DT_FLOAT") CONST_F32("three", "3") CONST_F32("one", "1")  \
  NODE("en", "Enter", "input: 'x'", ATTR_F32 FRAME("L"))                      \
  NODE("bound", "Enter", "input: 'three'",                                    \
       ATTR_F32 FRAME("L") "attr { key: 'is_constant' value { b: true } }")   \
  NODE("m", "Merge", "input: 'en' input: 'nx'", ATTR_F32 ATTR_INT("N", "2"))  \
  NODE("lt", "Less", "input: 'm' input: 'bound'", ATTR_F32)                   \
  NODE("lc", "LoopCond", "input: 'lt'", "")                                   \
  NODE("s", "Switch", "input: 'm' input: 'lc'", ATTR_F32)                     \
  NODE("id", "Identity", "input: 's:1'", ATTR_F32)                            \
  NODE("add", "AddV2", "input: 'id' input: '" addend "'", ATTR_F32)           \
  NODE("nx", "NextIteration", "input: 'add'", ATTR_F32)                       \
  NODE("ex", "Exit", "input: 's'", ATTR_F32) extra
#define LOOP_CONFIG FEED("x", "DT_FLOAT") FETCH("ex")

START_TEST(loop_becomes_while) {
  char *msg = NULL;
  TfGraph *g = load(LOOP_GRAPH("one", ""), LOOP_CONFIG, &msg);
  ck_assert_msg(g != NULL, "%s", msg);
  ck_assert_int_eq(g->nnodes, 5); /* x three one ex L */
  TfNode *w = tf_graph_node(g, "L");
  ck_assert_ptr_nonnull(w);
  ck_assert_str_eq(w->op, "While");
  ck_assert_int_eq(w->ninputs, 2);
  ck_assert_str_eq(tf_graph_node(g, "ex")->op, "Identity");
  HloModule *m = NULL;
  HloError *e = tf_import(g, "loop", &m);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  tf_graph_free(g);
  HloShape s = hlo_shape_scalar(HLO_F32);
  HloLiteral *x = hlo_literal_new(&s);
  hlo_literal_set_f64(x, 0, -0.5);
  HloLiteral *out = ck_evaluate(m, &x, 1);
  ck_assert_double_eq(hlo_literal_get_f64(out, 0), 3.5);
  hlo_literal_free(out);
  hlo_literal_free(x);
  hlo_module_free(m);
}
END_TEST

START_TEST(merge_of_two_predicates) {
  expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("p", "DT_BOOL")
               PLACEHOLDER("q", "DT_BOOL")
               NODE("s1", "Switch", "input: 'x' input: 'p'", ATTR_F32)
               NODE("s2", "Switch", "input: 'x' input: 'q'", ATTR_F32)
               NODE("m", "Merge", "input: 's1' input: 's2:1'", ATTR_F32 ATTR_INT("N", "2")),
               FEED("x", "DT_FLOAT") FEED("p", "DT_BOOL") FEED("q", "DT_BOOL") FETCH("m"),
               "TensorFlow 1 control flow: node 'm' (Merge): its inputs come from different "
               "predicates ('p' and 'q'): cannot functionalize");
}
END_TEST

/* A Switch without its predicate (fuzz_tf_lower found it read past its
 * inputs). */
START_TEST(switch_without_predicate) {
  expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("s", "Switch", "input: 'x'", ATTR_F32)
               NODE("m", "Merge", "input: 's' input: 's:1'", ATTR_F32 ATTR_INT("N", "2")),
               FEED("x", "DT_FLOAT") FETCH("m"),
               "TensorFlow 1 control flow: node 's' (Switch): a Switch has 2 inputs (data, "
               "predicate), it has 1");
}
END_TEST

/* A library function without its signature, beside v1 control flow that
 * adds functions to the library (fuzz_tf_lower found functionalize read
 * the missing signature's name). */
START_TEST(library_function_without_signature) {
  expect_error(COND_GRAPH "library { function { node_def { name: 'a' op: 'Neg' } } }\n",
               COND_CONFIG,
               "function library: function 1 of 1 has no signature (OpDef)");
}
END_TEST

START_TEST(merge_of_one_branch) {
  expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("p", "DT_BOOL")
               NODE("s", "Switch", "input: 'x' input: 'p'", ATTR_F32)
               NODE("a", "Neg", "input: 's:1'", ATTR_F32)
               NODE("m", "Merge", "input: 's:1' input: 'a'", ATTR_F32 ATTR_INT("N", "2")),
               FEED("x", "DT_FLOAT") FEED("p", "DT_BOOL") FETCH("m"),
               "TensorFlow 1 control flow: node 'm' (Merge): both inputs come from the true "
               "branch of predicate 'p': cannot functionalize");
}
END_TEST

START_TEST(exit_without_frame) {
  expect_error(PLACEHOLDER("x", "DT_FLOAT") NODE("e", "Exit", "input: 'x'", ATTR_F32),
               FEED("x", "DT_FLOAT") FETCH("e"),
               "TensorFlow 1 control flow: node 'e' (Exit) is outside every while loop: no "
               "Enter leads to it");
}
END_TEST

/* A loop variable whose Merge has no Switch: no loop condition. */
START_TEST(loop_without_switch) {
  expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("en", "Enter", "input: 'x'", ATTR_F32 FRAME("L"))
               NODE("m", "Merge", "input: 'en' input: 'nx'", ATTR_F32 ATTR_INT("N", "2"))
               NODE("nx", "NextIteration", "input: 'm'", ATTR_F32)
               NODE("ex", "Exit", "input: 'm'", ATTR_F32),
               FEED("x", "DT_FLOAT") FETCH("ex"),
               "TensorFlow 1 control flow: node 'm' (Merge) of while loop 'L' feeds 0 "
               "Switches, expected 1");
}
END_TEST

/* The loop's body reads a value of the enclosing graph without an Enter. */
START_TEST(loop_reads_outside) {
  expect_error(LOOP_GRAPH("y", NODE("y", "Neg", "input: 'x'", ATTR_F32)), LOOP_CONFIG,
               "TensorFlow 1 control flow: node 'add' (AddV2) in while loop 'L' reads 'y' from "
               "outside the loop without an Enter");
}
END_TEST

/* A Merge reading a loop that no Switch leads to is no cond. */
START_TEST(merge_of_a_loop_outside_branches) {
  expect_error(LOOP_GRAPH("one", PLACEHOLDER("p", "DT_BOOL")
                                     NODE("sw", "Switch", "input: 'x' input: 'p'", ATTR_F32)
                                     NODE("mm", "Merge", "input: 'sw' input: 'ex'",
                                          ATTR_F32 ATTR_INT("N", "2"))),
               FEED("x", "DT_FLOAT") FEED("p", "DT_BOOL") FETCH("mm"),
               "TensorFlow 1 control flow: node 'mm' (Merge): input 'ex' comes from no Switch, "
               "so no cond leads to this Merge");
}
END_TEST

/* Lowers g (feeds x: f32[], p: pred[]; frees it) and evaluates it at x =
 * -0.5, with p true then false. */
static void expect_xp(TfGraph *g, double want_true, double want_false) {
  HloModule *m = NULL;
  HloError *e = tf_import(g, "xp", &m);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  tf_graph_free(g);
  HloShape s = hlo_shape_scalar(HLO_F32), sp = hlo_shape_scalar(HLO_PRED);
  HloLiteral *args[2] = {hlo_literal_new(&s), hlo_literal_new(&sp)};
  double want[2] = {want_false, want_true};
  for (int p = 1; p >= 0; p--) {
    hlo_literal_set_f64(args[0], 0, -0.5);
    hlo_literal_set_f64(args[1], 0, p);
    HloLiteral *out = ck_evaluate(m, args, 2);
    ck_assert_double_eq(hlo_literal_get_f64(out, 0), want[p]);
    hlo_literal_free(out);
  }
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
  hlo_module_free(m);
}

/* A loop inside the true branch of a cond: the loop reads the Switch's
 * true side, and the Merge the loop's Exit.  The If's then branch holds the
 * While. */
START_TEST(loop_inside_cond_becomes_while_in_if) {
  char *msg = NULL;
  TfGraph *g = load(PLACEHOLDER("p", "DT_BOOL") PLACEHOLDER("x", "DT_FLOAT")
                    CONST_F32("three", "3") CONST_F32("one", "1")
                    NODE("sw", "Switch", "input: 'x' input: 'p'", ATTR_F32)
                    NODE("en", "Enter", "input: 'sw:1'", ATTR_F32 FRAME("L"))
                    NODE("bound", "Enter", "input: 'three'",
                         ATTR_F32 FRAME("L") "attr { key: 'is_constant' value { b: true } }")
                    NODE("m", "Merge", "input: 'en' input: 'nx'", ATTR_F32 ATTR_INT("N", "2"))
                    NODE("lt", "Less", "input: 'm' input: 'bound'", ATTR_F32)
                    NODE("lc", "LoopCond", "input: 'lt'", "")
                    NODE("s", "Switch", "input: 'm' input: 'lc'", ATTR_F32)
                    NODE("id", "Identity", "input: 's:1'", ATTR_F32)
                    NODE("add", "AddV2", "input: 'id' input: 'one'", ATTR_F32)
                    NODE("nx", "NextIteration", "input: 'add'", ATTR_F32)
                    NODE("ex", "Exit", "input: 's'", ATTR_F32)
                    NODE("neg", "Neg", "input: 'sw'", ATTR_F32)
                    NODE("mm", "Merge", "input: 'neg' input: 'ex'", ATTR_F32 ATTR_INT("N", "2")),
                    FEED("x", "DT_FLOAT") FEED("p", "DT_BOOL") FETCH("mm"), &msg);
  ck_assert_msg(g != NULL, "%s", msg);
  ck_assert_str_eq(tf_graph_node(g, "mm")->op, "Identity");
  const TfNode *f = tf_graph_node(g, "mm")->inputs[0].node;
  ck_assert_str_eq(f->op, "If");
  bool while_in_then = false;
  const Tensorflow__AttrValue *then = tf_attr_find(f, "then_branch");
  const Tensorflow__FunctionDef *fd = tf_graph_find_function(g, then->func->name);
  for (size_t i = 0; i < fd->n_node_def; i++) while_in_then |= !strcmp(fd->node_def[i]->op, "While");
  ck_assert(while_in_then);
  expect_xp(g, 3.5, 0.5);
}
END_TEST

/* A branch reading a loop outside the cond without a Switch waits for the
 * loop to be converted, then reads its While as any outside value. */
START_TEST(branch_reads_a_loop_outside_the_cond) {
  char *msg = NULL;
  TfGraph *g = load(LOOP_GRAPH("one", PLACEHOLDER("p", "DT_BOOL")
                                          NODE("sw", "Switch", "input: 'x' input: 'p'", ATTR_F32)
                                          NODE("a", "AddV2", "input: 'sw:1' input: 'ex'", ATTR_F32)
                                          NODE("mm", "Merge", "input: 'sw' input: 'a'",
                                               ATTR_F32 ATTR_INT("N", "2"))),
                    FEED("x", "DT_FLOAT") FEED("p", "DT_BOOL") FETCH("mm"), &msg);
  ck_assert_msg(g != NULL, "%s", msg);
  expect_xp(g, 3.0, -0.5);
}
END_TEST

/* A cycle of ordinary ops is still the view's error. */
START_TEST(real_cycle_is_reported) {
  char *msg = NULL;
  TfGraph *g = load(PLACEHOLDER("x", "DT_FLOAT")
                    NODE("a", "AddV2", "input: 'x' input: 'b'", ATTR_F32)
                    NODE("b", "Neg", "input: 'a'", ATTR_F32)
                    NODE("s", "Switch", "input: 'x' input: 'x'", ATTR_F32)
                    NODE("t", "Identity", "input: 's:1'", ATTR_F32)
                    NODE("f", "Identity", "input: 's'", ATTR_F32)
                    NODE("m", "Merge", "input: 'f' input: 't'", ATTR_F32 ATTR_INT("N", "2")),
                    FEED("x", "DT_FLOAT") FETCH("b"), &msg);
  ck_assert_ptr_null(g);
  ck_assert_str_eq(msg, "the graph has a cycle: 'b' -> 'a' -> 'b'");
  free(msg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_v1control");
  TCase *t = tcase_create("tensorflow");
  tcase_add_test(t, cases_match_tensorflow);
  tcase_add_test(t, hloc_run_natively);
  tcase_set_timeout(t, 300);
  suite_add_tcase(s, t);
  t = tcase_create("rewrite");
  tcase_add_test(t, cond_becomes_if);
  tcase_add_test(t, loop_becomes_while);
  tcase_add_test(t, loop_inside_cond_becomes_while_in_if);
  tcase_add_test(t, branch_reads_a_loop_outside_the_cond);
  suite_add_tcase(s, t);
  t = tcase_create("refusals");
  tcase_add_test(t, merge_of_two_predicates);
  tcase_add_test(t, merge_of_one_branch);
  tcase_add_test(t, switch_without_predicate);
  tcase_add_test(t, library_function_without_signature);
  tcase_add_test(t, exit_without_frame);
  tcase_add_test(t, loop_without_switch);
  tcase_add_test(t, loop_reads_outside);
  tcase_add_test(t, merge_of_a_loop_outside_branches);
  tcase_add_test(t, real_cycle_is_reported);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
