/*
 * test_driver_pipeline.c — the pass pipeline as the `hloc` commands run
 * it, and the Graphviz stages of `hloc dump`.
 *
 * compile, run (compiled and --interpret) and dump share one pipeline
 * (driver/pipeline.c): the passes run unless --O0, which --stats shows as
 * the kernel count of the module that codegen, the interpreter or the dump
 * receives.  Then every pipeline option on every command: where its output
 * goes (dumps into --dump-dir, the timing table on stderr, the statistics
 * on stdout for compile and stderr for the others), what it changes, and
 * each bad use failing with its exact message and exit status 2.  Last,
 * hlo_module_to_dot on HLO text (clusters, shapes, names, escaping, control
 * flow) and the dot, svg and png stages, including the error without
 * Graphviz.  svg and png need Graphviz's `dot` (scripts/install-deps.sh).
 *
 * Runs the binary named by $HLOC_BIN (set by CTest).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

#define MNIST "testdata/tf/models/mnist_mlp"
#define MNIST_ARGS MNIST ".pb --config " MNIST ".config.pbtxt"
#define LSTM "testdata/tf/models/lstm_while"
#define LSTM_ARGS LSTM ".pb --config " LSTM ".config.pbtxt"

/* What --stats prints when nothing was fused. */
#define NO_FUSION "(fusions: 0 loop, 0 input, 0 output, 0 custom)"

#define PASSES                                                                               \
  "inline, tuple-simplify, while-invariant, while-input-dot, algsimp, constant-fold, cse, dce, " \
  "batchnorm-expand, scale-fold, dot-canonicalize, conv-pad, tree-reduce, fusion, "           \
  "multi-output-fusion"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-pipeline-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char *hloc_bin(void) {
  const char *bin = getenv("HLOC_BIN");
  ck_assert_msg(bin != NULL, "HLOC_BIN is not set (run through ctest)");
  return bin;
}

/* Runs a shell command line; *out (malloc'd) receives what it printed, as
 * the line's own redirections leave it.  Returns the exit status. */
static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  HloStr s = {0};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) hlo_str_append(&s, buf, n);
  int status = pclose(p);
  *out = s.buf ? hlo_str_take(&s) : calloc(1, 1);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Which of hloc's streams a test reads. */
typedef enum Streams { BOTH, STDOUT, STDERR } Streams;

/* Runs `hloc ARGS`; *out receives the streams asked for. */
static int hloc(char **out, Streams which, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int hloc(char **out, Streams which, const char *fmt, ...) {
  static const char *const redirect[] = {"2>&1", "2>/dev/null", "2>&1 >/dev/null"};
  char args[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return sh(out, "%s %s %s", hloc_bin(), args, redirect[which]);
}

static void expect_in(const char *out, const char *want, const char *what) {
  ck_assert_msg(strstr(out, want) != NULL, "%s: '%s' not in:\n%s", what, want, out);
}

static void expect_not_in(const char *out, const char *unwanted, const char *what) {
  ck_assert_msg(strstr(out, unwanted) == NULL, "%s: '%s' in:\n%s", what, unwanted, out);
}

/* The kernel count in --stats output. */
static int kernels_in(const char *out, const char *what) {
  const char *p = strstr(out, "kernels ");
  ck_assert_msg(p != NULL, "%s: no kernel count in:\n%s", what, out);
  return atoi(p + strlen("kernels "));
}

static int count_files(const char *dir) {
  char *out;
  ck_assert_int_eq(sh(&out, "ls -A %s | wc -l", dir), 0);
  int n = atoi(out);
  free(out);
  return n;
}

/* --- the passes run by default --------------------------------------------------- */

/* The same model through each command: fewer kernels, fusions among
 * them, by default; the lowered module's kernels, unfused, with --O0 or
 * --no-passes.  (test_driver_stats holds the numbers themselves.) */
START_TEST(passes_run_by_default_in_every_command) {
  static const char *const commands[] = {
      "compile " MNIST_ARGS " --emit header -o %s/m",
      "run " MNIST_ARGS " --input " MNIST ".in0.npy --output-dir %s",
      "run " MNIST_ARGS " --interpret --input " MNIST ".in0.npy --output-dir %s",
      "dump " MNIST_ARGS " --stage hlo -o %s/m.hlo",
  };
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    char args[512], *out;
    snprintf(args, sizeof args, commands[i], tmpdir);
    int rc = hloc(&out, BOTH, "%s --stats", args);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", args, rc, out);
    expect_not_in(out, NO_FUSION, args);
    int optimized = kernels_in(out, args);
    free(out);
    for (int k = 0; k < 2; k++) {
      rc = hloc(&out, BOTH, "%s --stats %s", args, k ? "--no-passes" : "--O0");
      ck_assert_msg(rc == 0, "%s --O0: exit %d: %s", args, rc, out);
      expect_in(out, "kernels           15 " NO_FUSION, args);
      ck_assert_int_lt(optimized, kernels_in(out, args));
      free(out);
    }
  }
}
END_TEST

/* With and without the passes, run gives TensorFlow's results, compiled
 * and interpreted. */
START_TEST(run_matches_tensorflow_with_and_without_passes) {
  static const char *const variants[] = {"", "--O0", "--interpret", "--interpret --O0"};
  for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
    char *out;
    int rc = hloc(&out, BOTH,
                  "run " MNIST_ARGS " %s --input " MNIST ".in0.npy --output-dir %s "
                  "--expect " MNIST ".out0.npy --atol 1e-4 --rtol 1e-3",
                  variants[i], tmpdir);
    ck_assert_msg(rc == 0, "'%s': exit %d: %s", variants[i], rc, out);
    expect_in(out, "probs: matches the expected output", variants[i]);
    free(out);
  }
}
END_TEST

/* dump prints the module the passes made (fusions), or the lowered one. */
START_TEST(dump_shows_the_optimized_module) {
  char *out;
  ck_assert_int_eq(hloc(&out, STDOUT, "dump " MNIST_ARGS), 0);
  ck_assert_msg(!strncmp(out, "HloModule ", 10), "%s", out);
  expect_in(out, " fusion(", "dump");
  free(out);
  ck_assert_int_eq(hloc(&out, STDOUT, "dump " MNIST_ARGS " --O0"), 0);
  expect_not_in(out, " fusion(", "dump --O0");
  expect_in(out, " dot(", "dump --O0");
  free(out);
}
END_TEST

/* --- the options ------------------------------------------------------------------- */

/* Every HLO text file in dir parses and verifies. */
static void expect_dumps_verify(const char *dir) {
  char *list;
  ck_assert_int_eq(sh(&list, "ls %s", dir), 0);
  for (char *save = NULL, *f = strtok_r(list, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, f);
    HloModule *m = NULL;
    HloError *e = hlo_parse_file(path, &m);
    if (!e) e = hlo_verify(m);
    ck_assert_msg(e == NULL, "%s: %s", path, e ? hlo_error_message(e) : "");
    hlo_module_free(m);
  }
  free(list);
}

START_TEST(dump_after_one_pass) {
  char *out;
  int rc = hloc(&out, BOTH, "compile " MNIST_ARGS " -o %s/m --dump-after fusion --dump-dir %s/d",
                tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  char dir[128];
  snprintf(dir, sizeof dir, "%s/d", tmpdir);
  ck_assert_int_eq(count_files(dir), 2);
  ck_assert_int_eq(sh(&out, "ls %s", dir), 0);
  ck_assert_str_eq(out, "000-input.hlo\n001-fusion.hlo\n");
  free(out);
  char path[256];
  snprintf(path, sizeof path, "%s/001-fusion.hlo", dir);
  char *text = ck_read_file(path, NULL);
  expect_in(text, " fusion(", path);
  free(text);
  snprintf(path, sizeof path, "%s/000-input.hlo", dir);
  text = ck_read_file(path, NULL);
  expect_not_in(text, " fusion(", path);
  free(text);
  expect_dumps_verify(dir);
}
END_TEST

/* --dump-after all writes one file per pass run; without --dump-dir they go
 * to ./hloc-dump; nested directories are created. */
START_TEST(dump_after_all) {
  char cwd[512], *out;
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  const char *bin = hloc_bin();
  int rc = sh(&out, "cd %s && %s%s%s dump %s/" MNIST ".pb --config %s/" MNIST ".config.pbtxt "
              "--dump-after all >/dev/null 2>&1 && ls hloc-dump",
              tmpdir, bin[0] == '/' ? "" : cwd, bin[0] == '/' ? "" : "/", bin, cwd, cwd);
  ck_assert_msg(rc == 0, "%s", out);
  static const char *const runs[] = {"000-input.hlo",       "001-inline.hlo",
                                     "-algsimp.hlo",        "-dot-canonicalize.hlo",
                                     "-fusion.hlo",         "-multi-output-fusion.hlo"};
  for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) expect_in(out, runs[i], "hloc-dump");
  free(out);
  char dir[256];
  snprintf(dir, sizeof dir, "%s/hloc-dump", tmpdir);
  expect_dumps_verify(dir);

  rc = hloc(&out, BOTH,
            "run " MNIST_ARGS " --interpret --input " MNIST ".in0.npy --output-dir %s "
            "--dump-after dce --dump-dir %s/a/b/c",
            tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  snprintf(dir, sizeof dir, "%s/a/b/c", tmpdir);
  ck_assert_int_ge(count_files(dir), 2);
  ck_assert_int_eq(sh(&out, "ls %s | grep -v -e -input -e -dce | wc -l", dir), 0);
  ck_assert_int_eq(atoi(out), 0);
  free(out);
}
END_TEST

START_TEST(disable_pass) {
  char *out;
  int rc = hloc(&out, STDERR, "dump " MNIST_ARGS " --stats");
  ck_assert_msg(rc == 0, "%s", out);
  int fused = kernels_in(out, "dump");
  free(out);
  rc = hloc(&out, STDERR,
            "dump " MNIST_ARGS " --stats --disable-pass fusion --disable-pass "
            "multi-output-fusion --disable-pass fusion");
  ck_assert_msg(rc == 0, "%s", out);
  expect_in(out, NO_FUSION, "--disable-pass fusion");
  ck_assert_int_gt(kernels_in(out, "--disable-pass fusion"), fused);
  free(out);
  /* a disabled pass neither runs nor dumps, and the others still do */
  rc = hloc(&out, BOTH,
            "compile " MNIST_ARGS " -o %s/m --disable-pass multi-output-fusion --disable-pass cse "
            "--time-passes --dump-after all --dump-dir %s/d",
            tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  expect_not_in(out, "\ncse ", "--disable-pass cse --time-passes");
  expect_not_in(out, "\nmulti-output-fusion ", "--disable-pass multi-output-fusion");
  expect_in(out, "\nfusion ", "--disable-pass multi-output-fusion");
  free(out);
  ck_assert_int_eq(sh(&out, "ls %s/d | grep -e -cse -e -multi-output | wc -l", tmpdir), 0);
  ck_assert_int_eq(atoi(out), 0);
  free(out);
  ck_assert_int_eq(sh(&out, "ls %s/d | grep -- -fusion.hlo | wc -l", tmpdir), 0);
  ck_assert_int_eq(atoi(out), 1);
  free(out);
}
END_TEST

START_TEST(time_passes_goes_to_stderr) {
  static const char *const commands[] = {
      "compile " MNIST_ARGS " --emit header -o %s/m",
      "run " MNIST_ARGS " --input " MNIST ".in0.npy --output-dir %s",
      "dump " MNIST_ARGS " -o %s/m.hlo",
  };
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    char args[512], *out;
    snprintf(args, sizeof args, commands[i], tmpdir);
    int rc = hloc(&out, STDERR, "%s --time-passes", args);
    ck_assert_msg(rc == 0, "%s: %s", args, out);
    ck_assert_msg(!strncmp(out, "pass ", 5), "%s: %s", args, out);
    expect_in(out, " changed\n", args);
    expect_in(out, "\nfusion ", args);
    expect_in(out, "\ntotal ", args);
    if (i < 2) { /* compile and run reach codegen: its phases follow */
      expect_in(out, "\ncodegen phase ", args);
      expect_in(out, "\nkernel IR ", args);
      expect_in(out, "\nlower and optimize ", args);
    }
    if (i == 1) expect_in(out, "\nobject emission ", args); /* the JIT loads it */
    free(out);
    rc = hloc(&out, STDOUT, "%s --time-passes", args);
    expect_not_in(out, "changed", args);
    free(out);
  }
}
END_TEST

/* -v: each command's stages in order, each with its time, on stderr,
 * codegen's phases among them; stdout untouched; --O0 says so. */
START_TEST(verbose_lists_stages) {
  static const struct {
    const char *args, *stages[6];
  } cases[] = {
      {"compile " MNIST_ARGS " --emit header,obj,so -o %s/m",
       {"hloc: load ", "hloc: passes ", "\nkernel IR ", "hloc: codegen ", "hloc: write ", NULL}},
      {"run " MNIST_ARGS " --input " MNIST ".in0.npy --output-dir %s",
       {"hloc: load ", "hloc: passes ", "hloc: codegen ", "hloc: load (JIT link) ",
        "hloc: run ", "hloc: write results to "}},
      {"run " MNIST_ARGS " --input " MNIST ".in0.npy --output-dir %s --interpret --O0",
       {"hloc: load ", "hloc: verify (--O0: no passes) ", "hloc: interpret ",
        "hloc: write results to ", NULL}},
      {"dump " MNIST_ARGS " --stage hlo -o %s/m.hlo",
       {"hloc: load ", "hloc: passes ", "hloc: dump hlo ", NULL}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char args[512], *out;
    snprintf(args, sizeof args, cases[i].args, tmpdir);
    int rc = hloc(&out, STDERR, "%s -v", args);
    ck_assert_msg(rc == 0, "%s: %s", args, out);
    const char *at = out;
    for (int k = 0; k < 6 && cases[i].stages[k]; k++) {
      const char *s = strstr(at, cases[i].stages[k]);
      ck_assert_msg(s, "%s -v: no '%s' after the stages before it in:\n%s", args,
                    cases[i].stages[k], out);
      if (!strncmp(s, "hloc: ", 6)) { /* "hloc: WHAT   12.3 ms" */
        const char *nl = strchr(s, '\n');
        ck_assert_msg(nl && nl - s > 3 && !strncmp(nl - 3, " ms", 3), "%s: %.60s", args, s);
      }
      at = s + 1;
    }
    free(out);
    rc = hloc(&out, STDOUT, "%s --verbose", args);
    expect_not_in(out, "hloc: ", args);
    free(out);
  }
}
END_TEST

/* --stats: stdout for compile, whose stdout is otherwise empty; stderr for
 * run and dump, whose stdout carries results and the dump. */
START_TEST(stats_destinations) {
  char *out;
  ck_assert_int_eq(hloc(&out, STDOUT, "compile " MNIST_ARGS " -o %s/m --stats", tmpdir), 0);
  static const char *const lines[] = {"instructions      ", "\nkernels           ",
                                      "\nweight bytes      ", "\nflops             ",
                                      "\nbytes moved       ", "\narena bytes       ",
                                      " (one slot per value: ", ", peak live: ",
                                      "\ncompiled arena    "};
  ck_assert_msg(!strncmp(out, lines[0], strlen(lines[0])), "%s", out);
  for (size_t i = 1; i < sizeof lines / sizeof *lines; i++) expect_in(out, lines[i], "compile");
  free(out);
  ck_assert_int_eq(hloc(&out, STDERR, "compile " MNIST_ARGS " -o %s/m --stats", tmpdir), 0);
  ck_assert_str_eq(out, "");
  free(out);

  ck_assert_int_eq(hloc(&out, STDOUT, "dump " MNIST_ARGS " --stats"), 0);
  ck_assert_msg(!strncmp(out, "HloModule ", 10), "%s", out);
  expect_not_in(out, "kernels", "dump stdout");
  free(out);
  ck_assert_int_eq(hloc(&out, STDERR, "dump " MNIST_ARGS " --stats"), 0);
  ck_assert_msg(!strncmp(out, "instructions      ", 18), "%s", out);
  expect_not_in(out, "compiled arena", "dump --stats");
  free(out);

  ck_assert_int_eq(hloc(&out, STDOUT,
                        "run " MNIST_ARGS " --input " MNIST ".in0.npy --output-dir %s --stats "
                        "--print",
                        tmpdir),
                   0);
  ck_assert_msg(!strncmp(out, "probs: float32[2,10]", 20), "%s", out);
  free(out);
}
END_TEST

/* Each bad use, on each command: exit 2, the exact message, no output. */
START_TEST(option_errors) {
  static const struct {
    const char *args, *msg;
  } errors[] = {
      {"--disable-pass nope", "hloc: --disable-pass: unknown pass 'nope' (passes: " PASSES ")\n"},
      {"--dump-after nope", "hloc: --dump-after: unknown pass 'nope' (passes: " PASSES
                            ", or all)\n"},
      {"--disable-pass", "hloc: --disable-pass needs a value\n"},
      {"--dump-after", "hloc: --dump-after needs a value\n"},
      {"--dump-dir", "hloc: --dump-dir needs a value\n"},
      {"--dump-dir d", "hloc: --dump-dir needs --dump-after\n"},
      {"--O0 --dump-after all", "hloc: --dump-after needs the pass pipeline, which --O0 turns "
                                "off\n"},
      {"--no-passes --disable-pass cse", "hloc: --disable-pass needs the pass pipeline, which "
                                         "--O0 turns off\n"},
      {"--time-passes --O0", "hloc: --time-passes needs the pass pipeline, which --O0 turns "
                             "off\n"},
  };
  static const char *const commands[] = {
      "compile " MNIST_ARGS " -o %s/m",
      "run " MNIST_ARGS " --input " MNIST ".in0.npy --output-dir %s",
      "dump " MNIST_ARGS " -o %s/m.hlo",
  };
  for (size_t c = 0; c < sizeof commands / sizeof *commands; c++)
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
      char args[512], *out;
      snprintf(args, sizeof args, commands[c], tmpdir);
      int rc = hloc(&out, BOTH, "%s %s", args, errors[i].args);
      ck_assert_msg(rc == 2, "%s %s: exit %d: %s", args, errors[i].args, rc, out);
      ck_assert_msg(!strncmp(out, errors[i].msg, strlen(errors[i].msg)) &&
                        !strcmp(out + strlen(errors[i].msg), "run 'hloc help' for usage\n"),
                    "%s %s: want '%s', got '%s'", args, errors[i].args, errors[i].msg, out);
      free(out);
      ck_assert_int_eq(count_files(tmpdir), 0);
    }
}
END_TEST

/* A dump directory that cannot be made fails the command (exit 1) before
 * anything is compiled or written. */
START_TEST(dump_dir_errors) {
  char *out;
  ck_assert_int_eq(sh(&out, "touch %s/file", tmpdir), 0);
  free(out);
  int rc = hloc(&out, BOTH, "compile " MNIST_ARGS " -o %s/m --dump-after all --dump-dir %s/file",
                tmpdir, tmpdir);
  ck_assert_int_eq(rc, 1);
  char want[256];
  snprintf(want, sizeof want, "hloc: error: --dump-dir %s/file: not a directory\n", tmpdir);
  ck_assert_str_eq(out, want);
  free(out);
  rc = hloc(&out, BOTH, "dump " MNIST_ARGS " --dump-after all --dump-dir %s/file/sub", tmpdir);
  ck_assert_int_eq(rc, 1);
  snprintf(want, sizeof want, "hloc: error: --dump-dir %s/file/sub: %s/file/sub: Not a directory",
           tmpdir, tmpdir);
  ck_assert_msg(!strncmp(out, want, strlen(want)), "%s", out);
  free(out);
  ck_assert_int_eq(count_files(tmpdir), 1);
}
END_TEST

START_TEST(help_lists_the_options_and_passes) {
  char *out;
  ck_assert_int_eq(hloc(&out, BOTH, "help"), 0);
  static const char *const wants[] = {"--O0, --no-passes", "--dump-after PASS|all",
                                      "--dump-dir DIR", "--disable-pass NAME", "--time-passes",
                                      "--stats", "--verify-kernels",
                                      "passes: inline tuple-simplify while-invariant while-input-dot algsimp",
                                      "--stage hlo|dot|svg|png|kir|mlir|llvm|asm"};
  for (size_t i = 0; i < sizeof wants / sizeof *wants; i++) expect_in(out, wants[i], "help");
  free(out);
}
END_TEST

/* --- Graphviz ----------------------------------------------------------------------- */

static char *dot_of(const char *hlo) {
  HloModule *m = ck_parse_verified(hlo);
  char *dot = hlo_module_to_dot(m, NULL);
  hlo_module_free(m);
  return dot;
}

/* A fusion is a cluster of its fused computation; edges carry shapes, into
 * the fused parameter and out of the fused root; labels name the TF node,
 * escaped; the result's shape is in its label. */
START_TEST(dot_of_a_fusion) {
  char *dot = dot_of(
      "HloModule m\n\n"
      "fused {\n"
      "  p0 = f32[4]{0} parameter(0)\n"
      "  c = f32[] constant(2)\n"
      "  b = f32[4]{0} broadcast(c), dimensions={}\n"
      "  ROOT mul = f32[4]{0} multiply(p0, b), metadata={op_name=\"dense/\\\"scale\\\"\"}\n"
      "}\n\n"
      "ENTRY e {\n"
      "  x = f32[4]{0} parameter(0), metadata={op_name=\"image\"}\n"
      "  n = f32[4]{0} negate(x)\n"
      "  ROOT f = f32[4]{0} fusion(n), kind=kLoop, calls=fused\n"
      "}\n");
  static const char *const wants[] = {
      "digraph \"m\" {\n",
      "subgraph \"cluster_f\" {\nlabel=\"f (kLoop)\";",
      "[label=\"x\\nparameter 0\\nimage\" fillcolor=\"#d9ead3\"];",
      "[label=\"c\\nconstant 2\" ",
      "[label=\"b\\nbroadcast {}\" ",
      "[label=\"mul\\nmultiply\\ndense/\\\"scale\\\"\\n-> f32[4]\" fillcolor=\"#ffffff\" "
      "penwidth=2];",
      "[label=\"f32[4]\"];",
  };
  for (size_t i = 0; i < sizeof wants / sizeof *wants; i++) expect_in(dot, wants[i], "dot");
  /* x -> n, n -> p0 (into the cluster), c -> b, p0 -> mul, b -> mul */
  int edges = 0;
  for (const char *p = dot; (p = strstr(p, " -> ")); p++) edges++;
  ck_assert_int_eq(edges, 5);
  ck_assert_int_eq(dot[strlen(dot) - 2], '}');
  free(dot);
}
END_TEST

/* Above the size given, a fusion is one box naming its kind, its op count
 * and its ops (contractions and reductions first) and its root's TF node;
 * --expand's names keep their clusters. */
START_TEST(dot_collapses_large_graphs) {
  HloModule *m = ck_parse_verified(
      "HloModule m\n\n"
      "fused {\n"
      "  p0 = f32[4]{0} parameter(0)\n"
      "  p1 = f32[4,4]{1,0} parameter(1)\n"
      "  d = f32[4]{0} dot(p0, p1), lhs_contracting_dims={0}, rhs_contracting_dims={0}\n"
      "  ROOT mul = f32[4]{0} multiply(d, p0), metadata={op_name=\"dense/MatMul\"}\n"
      "}\n\n"
      "ENTRY e {\n"
      "  x = f32[4]{0} parameter(0)\n"
      "  w = f32[4,4]{1,0} parameter(1)\n"
      "  n = f32[4]{0} negate(x)\n"
      "  ROOT f = f32[4]{0} fusion(n, w), kind=kOutput, calls=fused\n"
      "}\n");
  HloDotOptions o = {.collapse_above = 3};
  char *dot = hlo_module_to_dot(m, &o);
  expect_in(dot, "[label=\"f\\nfusion kOutput, 2 ops: dot multiply\\ndense/MatMul\\n-> f32[4]\" "
                 "fillcolor=\"#fff2cc\" color=\"#bf9000\" penwidth=2];",
            "collapsed dot");
  ck_assert_ptr_null(strstr(dot, "cluster_f"));
  /* x -> n, n -> f, w -> f: into the box, none into its insides */
  int edges = 0;
  for (const char *p = dot; (p = strstr(p, " -> ")); p++) edges++;
  ck_assert_int_eq(edges, 3);
  free(dot);
  const char *names[] = {"f"};
  o.expand = names;
  o.nexpand = 1;
  dot = hlo_module_to_dot(m, &o);
  expect_in(dot, "subgraph \"cluster_f\" {", "expanded dot");
  free(dot);
  o = (HloDotOptions){.collapse_above = 100}; /* small: drawn whole */
  dot = hlo_module_to_dot(m, &o);
  expect_in(dot, "subgraph \"cluster_f\" {", "small dot");
  free(dot);
  hlo_module_free(m);
}
END_TEST

/* While bodies and conditions are dashed clusters entered from the while;
 * a reduce names its scalar computation by its op; a get-tuple-element's
 * edge carries the element. */
START_TEST(dot_of_control_flow) {
  char *dot = dot_of(
      "HloModule w\n\n"
      "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT s = f32[] add(a, b)\n}\n\n"
      "cond {\n  p = (s32[], f32[3]{0}) parameter(0)\n"
      "  i = s32[] get-tuple-element(p), index=0\n  k = s32[] constant(4)\n"
      "  ROOT lt = pred[] compare(i, k), direction=LT\n}\n\n"
      "body {\n  p = (s32[], f32[3]{0}) parameter(0)\n"
      "  i = s32[] get-tuple-element(p), index=0\n  one = s32[] constant(1)\n"
      "  j = s32[] add(i, one)\n  v = f32[3]{0} get-tuple-element(p), index=1\n"
      "  ROOT t = (s32[], f32[3]{0}) tuple(j, v)\n}\n\n"
      "ENTRY e {\n  z = s32[] constant(0)\n  x = f32[3]{0} parameter(0)\n"
      "  t = (s32[], f32[3]{0}) tuple(z, x)\n"
      "  w = (s32[], f32[3]{0}) while(t), condition=cond, body=body\n"
      "  r = f32[3]{0} get-tuple-element(w), index=1\n  zero = f32[] constant(0)\n"
      "  ROOT sum = f32[] reduce(r, zero), dimensions={0}, to_apply=add\n}\n");
  static const char *const wants[] = {
      "subgraph \"cluster_cond\" {\nlabel=\"cond: condition of w\";\nstyle=dashed;",
      "subgraph \"cluster_body\" {\nlabel=\"body: body of w\";",
      "[label=\"condition\" style=dashed];",
      "[label=\"body\" style=dashed];",
      "[label=\"lt\\ncompare LT\" ",
      "[label=\"sum\\nreduce {0} (add)\\n-> f32[]\" fillcolor=\"#cfe2f3\" penwidth=2];",
      "[label=\"(s32[], f32[3])\"];",
      "[label=\"f32[3]\"];",
  };
  for (size_t i = 0; i < sizeof wants / sizeof *wants; i++) expect_in(dot, wants[i], "dot");
  /* the scalar computation is named, not drawn */
  expect_not_in(dot, "cluster_add", "dot");
  free(dot);
}
END_TEST

/* Graphviz reads what `--stage dot` writes, for every model. */
START_TEST(every_model_renders) {
  char *models;
  ck_assert_int_eq(sh(&models, "awk '!/^#/ && NF >= 4 { print $1 }' "
                              "testdata/tf/models/MANIFEST"),
                   0);
  for (char *save = NULL, *m = strtok_r(models, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) {
    char *out;
    int rc = hloc(&out, BOTH,
                  "dump testdata/tf/models/%s.pb --config testdata/tf/models/%s.config.pbtxt "
                  "--stage dot -o %s/%s.dot && dot -Tsvg -o /dev/null %s/%s.dot",
                  m, m, tmpdir, m, tmpdir, m);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", m, rc, out);
    free(out);
  }
  free(models);
}
END_TEST

START_TEST(dump_dot_svg_png) {
  char *out;
  ck_assert_int_eq(hloc(&out, STDOUT, "dump " MNIST_ARGS " --stage dot"), 0);
  ck_assert_msg(!strncmp(out, "digraph \"model\" {\n", 18), "%s", out);
  expect_in(out, "subgraph \"cluster_", "mnist dot");
  expect_in(out, "functional_1/dense_1/MatMul", "mnist dot");
  expect_in(out, "[label=\"f32[2,784]\"];", "mnist dot");
  char *with_o;
  ck_assert_int_eq(
      hloc(&with_o, BOTH, "dump " MNIST_ARGS " --stage dot -o %s/m.dot && cat %s/m.dot", tmpdir,
           tmpdir),
      0);
  ck_assert_str_eq(with_o, out);
  free(with_o);
  free(out);
  ck_assert_int_eq(hloc(&out, STDOUT, "dump " MNIST_ARGS " --stage dot --O0"), 0);
  expect_not_in(out, "cluster_", "mnist dot --O0");
  free(out);
  ck_assert_int_eq(hloc(&out, STDOUT, "dump " LSTM_ARGS " --stage dot"), 0);
  expect_in(out, ": body of ", "lstm_while dot");
  free(out);

  ck_assert_int_eq(hloc(&out, BOTH, "dump " MNIST_ARGS " --stage svg -o %s/m.svg", tmpdir), 0);
  ck_assert_str_eq(out, "");
  free(out);
  char path[128];
  snprintf(path, sizeof path, "%s/m.svg", tmpdir);
  char *svg = ck_read_file(path, NULL);
  ck_assert_msg(!strncmp(svg, "<?xml", 5) && strstr(svg, "<svg") && strstr(svg, "fusion"),
                "%.200s", svg);
  free(svg);
  ck_assert_int_eq(hloc(&out, STDOUT, "dump " MNIST_ARGS " --stage svg | grep -c '</svg>'"), 0);
  ck_assert_str_eq(out, "1\n");
  free(out);
  ck_assert_int_eq(hloc(&out, BOTH, "dump " MNIST_ARGS " --stage png > %s/m.png", tmpdir), 0);
  ck_assert_str_eq(out, "");
  free(out);
  snprintf(path, sizeof path, "%s/m.png", tmpdir);
  char *png = ck_read_file(path, NULL);
  ck_assert_msg(!memcmp(png, "\x89PNG\r\n", 6), "not a PNG");
  free(png);
  ck_assert_int_eq(count_files(tmpdir), 3);
}
END_TEST

START_TEST(dump_stage_errors) {
  char *out;
  int rc = sh(&out, "PATH=/nonexistent %s dump " MNIST_ARGS " --stage svg -o %s/m.svg 2>&1",
              hloc_bin(), tmpdir);
  ck_assert_int_eq(rc, 1);
  ck_assert_str_eq(out, "hloc: error: Graphviz 'dot' not found: install the graphviz package\n");
  free(out);
  rc = sh(&out, "PATH=/nonexistent %s dump " MNIST_ARGS " --stage png 2>&1", hloc_bin());
  ck_assert_int_eq(rc, 1);
  ck_assert_str_eq(out, "hloc: error: Graphviz 'dot' not found: install the graphviz package\n");
  free(out);
  ck_assert_int_eq(count_files(tmpdir), 0);
  rc = hloc(&out, BOTH, "dump " MNIST_ARGS " --stage jpeg");
  ck_assert_int_eq(rc, 2);
  ck_assert_str_eq(out, "hloc: dump: unknown stage 'jpeg' (stages: hlo, dot, svg, png, kir, "
                        "mlir, llvm, asm, ptx)\nrun 'hloc help' for usage\n");
  free(out);
  rc = hloc(&out, BOTH, "dump " MNIST_ARGS " -o");
  ck_assert_int_eq(rc, 2);
  ck_assert_str_eq(out, "hloc: -o needs a value\nrun 'hloc help' for usage\n");
  free(out);
  rc = hloc(&out, BOTH, "dump " MNIST_ARGS " --stage dot -o /nonexistent/m.dot");
  ck_assert_int_eq(rc, 1);
  expect_in(out, "hloc: error: cannot write '/nonexistent/m.dot': No such file or directory\n",
            "unwritable -o");
  free(out);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_pipeline");
  TCase *t = tcase_create("pipeline");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_set_timeout(t, 300);
  tcase_add_test(t, passes_run_by_default_in_every_command);
  tcase_add_test(t, run_matches_tensorflow_with_and_without_passes);
  tcase_add_test(t, dump_shows_the_optimized_module);
  tcase_add_test(t, dump_after_one_pass);
  tcase_add_test(t, dump_after_all);
  tcase_add_test(t, disable_pass);
  tcase_add_test(t, time_passes_goes_to_stderr);
  tcase_add_test(t, stats_destinations);
  tcase_add_test(t, option_errors);
  tcase_add_test(t, dump_dir_errors);
  tcase_add_test(t, help_lists_the_options_and_passes);
  suite_add_tcase(s, t);
  TCase *g = tcase_create("graphviz");
  tcase_add_checked_fixture(g, setup, teardown);
  tcase_set_timeout(g, 300);
  tcase_add_test(g, dot_of_a_fusion);
  tcase_add_test(g, dot_collapses_large_graphs);
  tcase_add_test(g, dot_of_control_flow);
  tcase_add_test(g, every_model_renders);
  tcase_add_test(g, dump_dot_svg_png);
  tcase_add_test(g, dump_stage_errors);
  tcase_add_test(g, verbose_lists_stages);
  suite_add_tcase(s, g);
  return ck_run_suite(s);
}
