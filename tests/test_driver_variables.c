/*
 * test_driver_variables.c — tfcompile's config variables end to end, on
 * the graphs of testdata/tf/variables (scripts/tfgen/variables.py), which
 * TensorFlow ran several times in a row in one Session.
 *
 * Every case is checked on each of hloc's paths, run after run, each run
 * starting from the variables the one before left:
 *   compiled  `hloc compile` to an object and header, and a C harness
 *             generated here that calls the typed N_run several times on
 *             the same variable buffers (the header must declare
 *             read-write variables non-const, readonly ones const);
 *   run       `hloc run`, natively and with --interpret, each run fed the
 *             variables the previous one wrote (VAR.npy);
 *   libhloc   hloc_execute several times on the same input buffers.
 * Then the frontend's errors, with their messages: a readonly variable
 * assigned (resource or reference), a variable whose node is missing or
 * no variable, and a config type or shape that differs from the node's.
 *
 * CTest sets HLOC_BIN and HLOC_RUNTIME_DIR and runs from the source root;
 * the C compiler is $CC or cc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "frontend.h"
#include "hloc.h"

#define VARS "testdata/tf/variables"
#define ATOL 1e-5
#define RTOL 1e-5

typedef struct VarCase {
  char name[64];
  int nfeeds, nfetches, nruns, nvars;
  char vars[4][32];
  bool readonly[4];
  char fetches[4][32]; /* the config's fetch names (its node names) */
} VarCase;

static VarCase cases[8];
static int ncases;
static char tmpdir[64];

/* A whole file, outside any test (Check's asserts need a running test). */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) abort(); /* run from the source root */
  char *buf = calloc(1 << 16, 1);
  if (fread(buf, 1, (1 << 16) - 1, f) == 0) abort();
  fclose(f);
  return buf;
}

static void load_cases(void) {
  char *text = slurp(VARS "/MANIFEST");
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#') continue;
    VarCase *c = &cases[ncases++];
    int used;
    if (sscanf(line, "%63s %d %d %d%n", c->name, &c->nfeeds, &c->nfetches, &c->nruns,
               &used) != 4)
      ck_abort_msg("malformed " VARS "/MANIFEST line: %s", line);
    char *save;
    for (char *v = strtok_r(line + used, " ", &save); v; v = strtok_r(NULL, " ", &save)) {
      char *ro = strstr(v, ":ro");
      c->readonly[c->nvars] = ro != NULL;
      if (ro) *ro = 0;
      snprintf(c->vars[c->nvars++], sizeof c->vars[0], "%s", v);
    }
  }
  free(text);
  for (int i = 0; i < ncases; i++) {
    char path[256];
    snprintf(path, sizeof path, VARS "/%.63s.config.pbtxt", cases[i].name);
    char *cfg = slurp(path);
    int k = 0;
    for (char *at = cfg; (at = strstr(at, "fetch { id { node_name: \"")); at++)
      sscanf(at + strlen("fetch { id { node_name: \""), "%31[^\"]", cases[i].fetches[k++]);
    if (k != cases[i].nfetches) abort(); /* the MANIFEST and the config disagree */
    free(cfg);
  }
}

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-vars-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char *cc(void) { return getenv("CC") && *getenv("CC") ? getenv("CC") : "cc"; }

static void expect_npy(const char *how, const char *got, const char *want) {
  HloLiteral *g = ck_read_npy(got), *w = ck_read_npy(want);
  char msg[256];
  ck_assert_msg(ck_allclose(g, w, ATOL, RTOL, msg, sizeof msg), "%s: %s vs %s: %s", how, got,
                want, msg);
  hlo_literal_free(g);
  hlo_literal_free(w);
}

/* The run's expected value of variable v (readonly ones never change). */
static void expected_var(const VarCase *c, int r, int v, char *path, size_t n) {
  if (c->readonly[v]) snprintf(path, n, VARS "/%s.var.%s.npy", c->name, c->vars[v]);
  else snprintf(path, n, VARS "/%s.run%d.var.%s.npy", c->name, r, c->vars[v]);
}

/* A harness calling the typed NAME_run nruns times on the same buffers,
 * writing each run's results and variables as .npy files into tmpdir. */
static void write_harness(const VarCase *c, const char *path) {
  const char *n = c->name;
  int nargs = c->nfeeds + c->nvars;
  HloStr s = {0};
  hlo_str_printf(&s,
                 "#include <stdio.h>\n#include <stdlib.h>\n#include \"%s.h\"\n"
                 "static void *load(const char *p, size_t bytes) {\n"
                 "  RtArray a; char err[256];\n"
                 "  if (rt_npy_read(p, &a, err, sizeof err) || a.nbytes != bytes) {\n"
                 "    fprintf(stderr, \"%%s: %%s\\n\", p, err); exit(1);\n  }\n"
                 "  return a.data;\n}\n"
                 "static void save(const char *p, RtDtype t, int rank, const int64_t *dims,\n"
                 "                 void *data, size_t bytes) {\n"
                 "  RtArray a = {.dtype = t, .rank = rank, .data = data, .nbytes = bytes};\n"
                 "  for (int i = 0; i < rank; i++) a.dims[i] = dims[i];\n"
                 "  char err[256];\n"
                 "  if (rt_npy_write(p, &a, err, sizeof err)) { fprintf(stderr, \"%%s\\n\", "
                 "err); exit(1); }\n}\n"
                 "int main(void) {\n  char p[512];\n  void *arg[%d + 1], *res[%d + 1];\n"
                 "  void *scratch = aligned_alloc(%s_SCRATCH_ALIGN,\n"
                 "      (%s_SCRATCH_BYTES + %s_SCRATCH_ALIGN) / %s_SCRATCH_ALIGN * "
                 "%s_SCRATCH_ALIGN);\n",
                 n, nargs, c->nfetches, n, n, n, n, n);
  for (int i = 0; i < nargs; i++) {
    if (i < c->nfeeds)
      hlo_str_printf(&s, "  arg[%d] = load(\"" VARS "/%s.in%d.npy\", %s_ARG%d_BYTES);\n", i, n, i,
                     n, i);
    else
      hlo_str_printf(&s, "  arg[%d] = load(\"" VARS "/%s.var.%s.npy\", %s_ARG%d_BYTES);\n", i,
                     n, c->vars[i - c->nfeeds], n, i);
  }
  for (int i = 0; i < c->nfetches; i++)
    hlo_str_printf(&s, "  res[%d] = malloc(%s_RESULT%d_BYTES);\n", i, n, i);
  hlo_str_printf(&s, "  for (int r = 0; r < %d; r++) {\n    if (%s_run(", c->nruns, n);
  for (int i = 0; i < nargs; i++) hlo_str_printf(&s, "(%s_ARG%d_t *)arg[%d], ", n, i, i);
  for (int i = 0; i < c->nfetches; i++) hlo_str_printf(&s, "(%s_RESULT%d_t *)res[%d], ", n, i, i);
  hlo_str_printf(&s, "scratch)) return 1;\n");
  for (int i = 0; i < c->nfetches; i++)
    hlo_str_printf(&s,
                   "    { int64_t d[] = %s_RESULT%d_DIMS; snprintf(p, sizeof p, "
                   "\"%s/%s.run%%d.out%d.npy\", r);\n"
                   "      save(p, %s_RESULT%d_DTYPE, %s_RESULT%d_RANK, d, res[%d], "
                   "%s_RESULT%d_BYTES); }\n",
                   n, i, tmpdir, n, i, n, i, n, i, i, n, i);
  for (int v = 0; v < c->nvars; v++) {
    int a = c->nfeeds + v;
    hlo_str_printf(&s,
                   "    { int64_t d[] = %s_ARG%d_DIMS; snprintf(p, sizeof p, "
                   "\"%s/%s.run%%d.var.%s.npy\", r);\n"
                   "      save(p, %s_ARG%d_DTYPE, %s_ARG%d_RANK, d, arg[%d], %s_ARG%d_BYTES); }\n",
                   n, a, tmpdir, n, c->vars[v], n, a, n, a, a, n, a);
  }
  hlo_str_printf(&s, "  }\n  return 0;\n}\n");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(s.buf, f);
  fclose(f);
  free(s.buf);
}

/* Whether the declaration of NAME_run in the header takes `arg` const. */
static bool declared_const(const char *header, const char *name, const char *arg) {
  char want[96];
  snprintf(want, sizeof want, "int %s_run(", name);
  const char *line = strstr(header, want);
  ck_assert_ptr_nonnull(line);
  snprintf(want, sizeof want, " *%s, ", arg);
  const char *at = strstr(line, want);
  ck_assert_msg(at && at < strchr(line, ';'), "%s_run has no argument %s", name, arg);
  while (at > line && at[-1] != ',' && at[-1] != '(') at--;
  while (*at == ' ') at++;
  return !strncmp(at, "const ", 6);
}

START_TEST(compiled_runs_update_the_variables) {
  const VarCase *c = &cases[_i];
  const char *n = c->name;
  char *out;
  int rc = ck_sh(&out, "%s compile " VARS "/%s.pb --config " VARS "/%s.config.pbtxt --name %s "
                 "-o %s/%s --emit obj,header",
                 ck_env("HLOC_BIN"), n, n, n, tmpdir, n);
  ck_assert_msg(rc == 0, "%s: hloc compile exit %d: %s", n, rc, out);
  free(out);
  char path[512];
  snprintf(path, sizeof path, "%s/%s.h", tmpdir, n);
  char *header = ck_read_file(path, NULL);
  for (int v = 0; v < c->nvars; v++)
    ck_assert_msg(declared_const(header, n, c->vars[v]) == c->readonly[v],
                  "%s: variable %s is declared %sconst", n, c->vars[v],
                  c->readonly[v] ? "non-" : "");
  char want[96];
  snprintf(want, sizeof want, "#define %s_NUM_RESULTS %d\n", n, c->nfetches);
  ck_assert_msg(strstr(header, want), "%s: the variables are no results:\n%s", n, header);
  free(header);

  snprintf(path, sizeof path, "%s/harness.c", tmpdir);
  write_harness(c, path);
  rc = ck_sh(&out, "%s -std=c11 -Wall -Werror -I%s -Iruntime %s/harness.c %s/%s.o "
             "%s/libhloc_runtime.a -lm -pthread -o %s/harness && %s/harness",
             cc(), tmpdir, tmpdir, tmpdir, n, ck_env("HLOC_RUNTIME_DIR"), tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s: harness exit %d: %s", n, rc, out);
  free(out);
  for (int r = 0; r < c->nruns; r++) {
    char got[512], exp[512];
    for (int k = 0; k < c->nfetches; k++) {
      snprintf(got, sizeof got, "%s/%s.run%d.out%d.npy", tmpdir, n, r, k);
      snprintf(exp, sizeof exp, VARS "/%s.run%d.out%d.npy", n, r, k);
      expect_npy("compiled", got, exp);
    }
    for (int v = 0; v < c->nvars; v++) {
      snprintf(got, sizeof got, "%s/%s.run%d.var.%s.npy", tmpdir, n, r, c->vars[v]);
      expected_var(c, r, v, exp, sizeof exp);
      expect_npy("compiled", got, exp);
    }
  }
}
END_TEST

/* `hloc run` (natively, or with --interpret) nruns times, each run fed
 * the read-write variables the previous one wrote. */
/* Runs the case c->nruns times with `hloc run` (opt: its options), or
 * with the executable `exe` when not NULL, each run starting from the
 * variables the previous one wrote. */
static void run_chain(const VarCase *c, const char *how, const char *opt, const char *exe) {
  const char *n = c->name;
  for (int r = 0; r < c->nruns; r++) {
    HloStr cmd = {0};
    if (exe)
      hlo_str_printf(&cmd, "%s --output-dir %s/%s%d", exe, tmpdir, how, r);
    else
      hlo_str_printf(&cmd, "%s run " VARS "/%s.pb --config " VARS "/%s.config.pbtxt %s "
                     "--output-dir %s/%s%d", ck_env("HLOC_BIN"), n, n, opt, tmpdir, how, r);
    for (int i = 0; i < c->nfeeds; i++) hlo_str_printf(&cmd, " --input " VARS "/%s.in%d.npy", n, i);
    for (int v = 0; v < c->nvars; v++) {
      if (r == 0 || c->readonly[v])
        hlo_str_printf(&cmd, " --input %s=" VARS "/%s.var.%s.npy", c->vars[v], n, c->vars[v]);
      else
        hlo_str_printf(&cmd, " --input %s=%s/%s%d/%s.npy", c->vars[v], tmpdir, how, r - 1,
                       c->vars[v]);
    }
    char *out;
    int rc = ck_sh(&out, "%s", cmd.buf);
    ck_assert_msg(rc == 0, "%s %s: exit %d: %s\n%s", n, how, rc, out, cmd.buf);
    free(out);
    free(cmd.buf);
    char got[512], exp[512];
    for (int k = 0; k < c->nfetches; k++) {
      snprintf(got, sizeof got, "%s/%s%d/%s.npy", tmpdir, how, r, c->fetches[k]);
      snprintf(exp, sizeof exp, VARS "/%s.run%d.out%d.npy", n, r, k);
      expect_npy(how, got, exp);
    }
    for (int v = 0; v < c->nvars; v++) {
      snprintf(got, sizeof got, "%s/%s%d/%s.npy", tmpdir, how, r, c->vars[v]);
      if (c->readonly[v]) {
        ck_assert_msg(access(got, F_OK) != 0, "%s: readonly %s written", n, got);
        continue;
      }
      expected_var(c, r, v, exp, sizeof exp);
      expect_npy(how, got, exp);
    }
  }
}

START_TEST(hloc_run_chains_the_variables) {
  run_chain(&cases[_i], "interpret", "--interpret", NULL);
  run_chain(&cases[_i], "native", "--threads 2", NULL);
}
END_TEST

/* The executable of --emit exe writes each read-write variable's new
 * value (N_program marks those arguments updated), as hloc run does. */
START_TEST(executable_writes_the_variables) {
  const VarCase *c = &cases[_i];
  char *out, exe[256];
  snprintf(exe, sizeof exe, "%s/%s", tmpdir, c->name);
  int rc = ck_sh(&out, "%s compile " VARS "/%s.pb --config " VARS "/%s.config.pbtxt --name v "
                       "--emit exe -o %s",
                 ck_env("HLOC_BIN"), c->name, c->name, exe);
  ck_assert_msg(rc == 0, "%s: %s", c->name, out);
  free(out);
  run_chain(c, "exe", NULL, exe);
}
END_TEST

START_TEST(libhloc_updates_the_input_buffers) {
  const VarCase *c = &cases[_i];
  const char *n = c->name;
  hloc_compiler *comp;
  hloc_executable *exe;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(NULL, &comp, &err), 0);
  char pb[256], cfg[256], path[512];
  snprintf(pb, sizeof pb, VARS "/%s.pb", n);
  snprintf(cfg, sizeof cfg, VARS "/%s.config.pbtxt", n);
  int rc = hloc_compile_graphdef_file(comp, pb, cfg, &exe, &err);
  ck_assert_msg(rc == 0, "%s: %s", n, hloc_error_message(err));
  int nin = c->nfeeds + c->nvars;
  ck_assert_int_eq(hloc_executable_num_inputs(exe), nin);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), c->nfetches);
  HloLiteral *in[8], *outs[8];
  const void *inp[8];
  void *outp[8];
  for (int i = 0; i < nin; i++) {
    if (i < c->nfeeds) snprintf(path, sizeof path, VARS "/%s.in%d.npy", n, i);
    else snprintf(path, sizeof path, VARS "/%s.var.%s.npy", n, c->vars[i - c->nfeeds]);
    in[i] = ck_read_npy(path);
    inp[i] = in[i]->data;
  }
  for (int k = 0; k < c->nfetches; k++) {
    snprintf(path, sizeof path, VARS "/%s.run0.out%d.npy", n, k);
    outs[k] = ck_read_npy(path);
    outp[k] = outs[k]->data;
  }
  char msg[256];
  for (int r = 0; r < c->nruns; r++) {
    ck_assert_msg(hloc_execute(exe, inp, outp, &err) == 0, "%s", hloc_error_message(err));
    for (int k = 0; k < c->nfetches; k++) {
      snprintf(path, sizeof path, VARS "/%s.run%d.out%d.npy", n, r, k);
      HloLiteral *w = ck_read_npy(path);
      ck_assert_msg(ck_allclose(outs[k], w, ATOL, RTOL, msg, sizeof msg), "%s run %d: %s", n, r,
                    msg);
      hlo_literal_free(w);
    }
    for (int v = 0; v < c->nvars; v++) {
      expected_var(c, r, v, path, sizeof path);
      HloLiteral *w = ck_read_npy(path);
      ck_assert_msg(ck_allclose(in[c->nfeeds + v], w, ATOL, RTOL, msg, sizeof msg),
                    "%s run %d: variable %s: %s", n, r, c->vars[v], msg);
      hlo_literal_free(w);
    }
  }
  for (int i = 0; i < nin; i++) hlo_literal_free(in[i]);
  for (int k = 0; k < c->nfetches; k++) hlo_literal_free(outs[k]);
  hloc_executable_free(exe);
  hloc_compiler_free(comp);
}
END_TEST

/* The error tf_graph_load then tf_import give for graph `g` of
 * testdata/tf/variables with this config text. */
static char *import_error(const char *g, const char *config) {
  char cfg[128], pb[128];
  snprintf(cfg, sizeof cfg, "%s/bad.config.pbtxt", tmpdir);
  snprintf(pb, sizeof pb, VARS "/%s.pb", g);
  FILE *f = fopen(cfg, "w");
  ck_assert_ptr_nonnull(f);
  fputs(config, f);
  fclose(f);
  TfGraph *graph;
  HloModule *m = NULL;
  HloError *e = tf_graph_load(pb, cfg, &graph);
  if (!e) e = tf_import(graph, "m", &m);
  tf_graph_free(graph);
  hlo_module_free(m);
  ck_assert_msg(e != NULL, "%s: no error for\n%s", g, config);
  char *msg = strdup(hlo_error_message(e));
  hlo_error_free(e);
  return msg;
}

#define FETCH "fetch { id { node_name: \"result\" } }\n"

START_TEST(config_variable_errors) {
  static const struct {
    const char *graph, *config, *message;
  } bad[] = {
      {"tfvariable",
       FETCH "variable { node_name: \"x\" shape { dim { size: 1 } } type: DT_FLOAT readonly: true }",
       "node 'AssignAddVariableOp' (AssignAddVariableOp): assigns variable 'x', which the "
       "config marks readonly"},
      {"tfvariable", FETCH "variable { node_name: \"nope\" shape { } type: DT_FLOAT }",
       "config variable 'nope': no node 'nope' in the graph"},
      {"tfvariable", FETCH "variable { node_name: \"result\" shape { } type: DT_FLOAT }",
       "config variable 'result': node 'result' is a Pack, not a variable (VarHandleOp or "
       "VariableV2)"},
      {"tfvariable", FETCH "variable { node_name: \"x\" shape { dim { size: 1 } } type: DT_INT32 }",
       "config variable 'x': type DT_INT32 differs from the VarHandleOp's dtype DT_FLOAT"},
      {"tfvariable", FETCH "variable { node_name: \"x\" shape { dim { size: 2 } } type: DT_FLOAT }",
       "config variable 'x': shape [2] does not match the VarHandleOp's shape [1]"},
      {"tfvariable",
       FETCH "variable { node_name: \"x\" shape { dim { size: 1 } } }\n"
             "variable { node_name: \"x\" shape { dim { size: 1 } } }",
       "config variable 'x' is given twice"},
      {"ref_assign_add",
       FETCH "variable { node_name: \"x\" shape { dim { size: 2 } } type: DT_FLOAT readonly: "
             "true }",
       "node 'AssignAdd' (AssignAdd): assigns variable 'x', which the config marks readonly"},
      {"ref_assign_add", FETCH "variable { node_name: \"x\" shape { dim { size: 2 } } type: DT_INT32 }",
       "config variable 'x': type DT_INT32 differs from the VariableV2's dtype DT_FLOAT"},
      {"ref_assign_add", FETCH "variable { node_name: \"x\" shape { dim { size: 3 } } type: DT_FLOAT }",
       "config variable 'x': shape [3] does not match the VariableV2's shape [2]"},
      {"assign_in_function",
       "feed { id { node_name: \"d\" } shape { dim { size: 2 } } }\n"
       "fetch { id { node_name: \"doubled\" } }\n"
       "variable { node_name: \"x\" shape { dim { size: 2 } } type: DT_FLOAT readonly: true }",
       "node 'StatefulPartitionedCall' (StatefulPartitionedCall): __inference_step_195/node "
       "'AssignAddVariableOp' (AssignAddVariableOp): assigns variable 'x', which the config "
       "marks readonly"},
      {"ref_sequential_updates",
       FETCH "variable { node_name: \"y\" shape { } type: DT_FLOAT readonly: true }",
       "node 'x' (VariableV2): the variable has no value: give the checkpoint that holds it "
       "(--checkpoint PREFIX), or compile a frozen graph"},
      {"tfvariable_sequential_updates",
       FETCH "variable { node_name: \"x\" shape { } type: DT_FLOAT }",
       "node 'y' (VarHandleOp): the variable has no value: give the checkpoint that holds it "
       "(--checkpoint PREFIX), or compile a frozen graph"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *msg = import_error(bad[i].graph, bad[i].config);
    ck_assert_str_eq(msg, bad[i].message);
    free(msg);
  }
}
END_TEST

/* The module tf_import builds: the variable is the parameter after the
 * feeds, and its new value the result after the fetches, aliased. */
START_TEST(import_aliases_the_variables) {
  TfGraph *g;
  HloModule *m;
  HloError *e = tf_graph_load(VARS "/feed_and_variables.pb", VARS "/feed_and_variables.config.pbtxt",
                              &g);
  if (!e) e = tf_import(g, "m", &m);
  tf_graph_free(g);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  ck_assert_int_eq(m->entry->nparams, 3);
  ck_assert_int_eq(m->nalias, 2);
  ck_assert_int_eq(m->alias[0].result, 2);
  ck_assert_int_eq(m->alias[0].param, 1);
  ck_assert_int_eq(m->alias[1].result, 3);
  ck_assert_int_eq(m->alias[1].param, 2);
  char *text = hlo_module_to_string(m);
  ck_assert_msg(strstr(text, "HloModule m, input_output_alias={ {2}: (1, {}, must-alias), "
                             "{3}: (2, {}, must-alias) }\n"), "%s", text);
  free(text);
  hlo_module_free(m);
}
END_TEST

int main(void) {
  load_cases();
  Suite *s = suite_create("driver_variables");
  TCase *t = tcase_create("variables");
  tcase_set_timeout(t, 600);
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_loop_test(t, compiled_runs_update_the_variables, 0, ncases);
  tcase_add_loop_test(t, hloc_run_chains_the_variables, 0, ncases);
  tcase_add_loop_test(t, executable_writes_the_variables, 0, ncases);
  tcase_add_loop_test(t, libhloc_updates_the_input_buffers, 0, ncases);
  tcase_add_test(t, config_variable_errors);
  tcase_add_test(t, import_aliases_the_variables);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
