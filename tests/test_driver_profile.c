/*
 * test_driver_profile.c — per-kernel profiles of compiled models, on every
 * surface that offers one: `hloc run --profile` (the JIT), the generated
 * executables' --profile (alone and with --bench) and libhloc's profiling
 * calls.
 *
 * The table lists each kernel of the program exactly once (k0 … kN-1,
 * as many as its header announces), names the TensorFlow op of each kernel
 * of a GraphDef model, and its shares — the kernels' and the time outside
 * them — add up to 100% (within the rounding of the printed figures).
 * Kernels in while bodies count one call per iteration: the nested and
 * counted loops of testdata/tf/v1control have known trip counts, and a
 * loop's condition runs once more than its body.  Profiling changes no
 * result: the outputs of profiled runs are byte for byte those of plain
 * runs.  Times are only held to be sane (non-negative, the kernels' sum
 * within the runs' wall time): nothing here depends on the machine's
 * speed.
 *
 * Runs the binary named by $HLOC_BIN and links libhloc.so (set by CTest).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "hloc.h"

#define MODELS "testdata/tf/models/"
#define V1 "testdata/tf/v1control/"
#define CNN MODELS "small_cnn"
#define FORI "testdata/hlo/while_fori"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-profile-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static int hloc(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hloc(char **out, const char *fmt, ...) {
  char args[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return ck_sh(out, "%s %s", ck_env("HLOC_BIN"), args);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

typedef struct Row {
  int rank, kernel;
  double ms, us, share, cum;
  unsigned long long calls;
  char what[512]; /* "%fusion.3 = fusion(convolution) f32[2,10] in %while" */
  char tf[512];   /* the TF op, "-" for none */
} Row;

typedef struct Table {
  unsigned long long runs;
  int nkernels; /* as the header says */
  int nrows;
  Row rows[256];
  double outside_share, total_share;
} Table;

/* Parses the report in text (other lines, such as --bench's or --expect's,
 * are skipped); fails the test when it is not there or malformed. */
static Table *parse_table(const char *text) {
  Table *t = calloc(1, sizeof *t);
  const char *head = strstr(text, "profile of ");
  ck_assert_msg(head != NULL, "no profile in:\n%s", text);
  ck_assert_msg(sscanf(strchr(head, ':') + 1, " %llu run", &t->runs) == 1, "header: %s", head);
  const char *k = strstr(head, " kernel");
  while (k > head && k[-1] != ' ') k--;
  t->nkernels = atoi(k);
  bool outside = false, total = false;
  for (const char *line = strchr(head, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
    char buf[2048];
    size_t len = strcspn(line, "\n");
    ck_assert(len < sizeof buf);
    memcpy(buf, line, len);
    buf[len] = '\0';
    Row r = {0};
    int n = 0;
    double ms, share;
    if (sscanf(buf, "%d %lf %lf %lf%% %lf%% %llu k%d %n", &r.rank, &r.ms, &r.us, &r.share,
               &r.cum, &r.calls, &r.kernel, &n) == 7 && n > 0) {
      const char *gap = strstr(buf + n, "  ");
      ck_assert_msg(gap != NULL, "row without a TF op column: %s", buf);
      snprintf(r.what, sizeof r.what, "%.*s", (int)(gap - (buf + n)), buf + n);
      const char *tf = gap;
      while (*tf == ' ') tf++;
      snprintf(r.tf, sizeof r.tf, "%s", tf);
      ck_assert(t->nrows < 256);
      t->rows[t->nrows++] = r;
    } else if (strstr(buf, "(outside kernels") && sscanf(buf, "%lf %lf%%", &ms, &share) == 2) {
      t->outside_share = share;
      outside = ms >= 0;
    } else if (strstr(buf, " total") && sscanf(buf, "%lf %lf%%", &ms, &share) == 2) {
      t->total_share = share;
      total = true;
      break;
    }
    if (!strchr(line, '\n')) break;
  }
  ck_assert_msg(outside && total, "no outside or total line in:\n%s", text);
  return t;
}

/* What holds for every profile: each kernel once, ranked by time, shares
 * that add up, times that are not negative. */
static void check_table(const Table *t, unsigned long long runs) {
  ck_assert_int_gt(t->nkernels, 0);
  ck_assert_int_eq(t->nrows, t->nkernels);
  ck_assert_uint_eq(t->runs, runs);
  bool *seen = calloc((size_t)t->nkernels, 1);
  double shares = t->outside_share;
  for (int i = 0; i < t->nrows; i++) {
    const Row *r = &t->rows[i];
    ck_assert_int_eq(r->rank, i + 1);
    ck_assert_msg(r->kernel >= 0 && r->kernel < t->nkernels && !seen[r->kernel],
                  "kernel k%d listed twice or out of range", r->kernel);
    seen[r->kernel] = true;
    ck_assert(r->ms >= 0 && r->us >= 0 && r->share >= 0);
    if (i > 0) ck_assert(r->ms <= t->rows[i - 1].ms);
    ck_assert_msg(r->calls >= runs, "k%d ran %llu times in %llu runs", r->kernel, r->calls,
                  runs);
    shares += r->share;
  }
  /* Each printed share is rounded to 0.1%. */
  ck_assert_msg(fabs(shares - 100) <= 0.05 * (t->nrows + 1) + 1e-9, "shares add up to %g%%",
                shares);
  if (t->nrows) ck_assert(fabs(t->rows[t->nrows - 1].cum + t->outside_share - 100) <= 0.2);
  ck_assert(t->outside_share >= 0);
  ck_assert(fabs(t->total_share - 100) < 1e-9);
  free(seen);
}

/* Whether two files hold the same bytes. */
static bool same_bytes(const char *a, const char *b) {
  size_t la, lb;
  char *x = ck_read_file(a, &la), *y = ck_read_file(b, &lb);
  bool same = la == lb && !memcmp(x, y, la);
  free(x);
  free(y);
  return same;
}

/* ------------------------------------------------------------------------ */
/* hloc run --profile                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(run_profile_graphdef) {
  char *out;
  int rc = hloc(&out, "run " CNN ".pb --config " CNN ".config.pbtxt --input " CNN ".in0.npy"
                      " --expect " CNN ".out0.npy --atol 1e-4 --rtol 1e-3 --output-dir %s/p"
                      " --profile",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_ptr_nonnull(strstr(out, "matches the expected output"));
  Table *t = parse_table(out);
  check_table(t, 1);
  bool conv = false;
  for (int i = 0; i < t->nrows; i++) {
    const Row *r = &t->rows[i];
    ck_assert_uint_eq(r->calls, 1);
    /* Every kernel of a GraphDef model names the TF node it came from. */
    ck_assert_msg(strncmp(r->tf, "functional_1/", 13) == 0, "k%d: TF op '%s'", r->kernel, r->tf);
    if (strstr(r->what, "fusion(convolution)")) {
      conv = true;
      ck_assert_msg(strstr(r->tf, "conv2d") != NULL, "a convolution fusion from %s", r->tf);
    }
  }
  ck_assert(conv);
  free(t);
  free(out);

  /* A profiled run computes the same bytes as a plain one. */
  rc = hloc(&out, "run " CNN ".pb --config " CNN ".config.pbtxt --input " CNN ".in0.npy"
                  " --output-dir %s/plain",
            tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_ptr_null(strstr(out, "profile of"));
  char a[128], b[128];
  snprintf(a, sizeof a, "%s/p/probs.npy", tmpdir);
  snprintf(b, sizeof b, "%s/plain/probs.npy", tmpdir);
  ck_assert(same_bytes(a, b));
  free(out);
}
END_TEST

START_TEST(run_profile_while_loops) {
  char *out;
  int rc = hloc(&out, "run " V1 "nested_loops.pb --config " V1 "nested_loops.config.pbtxt"
                      " --input " V1 "nested_loops.in0.npy --expect " V1 "nested_loops.out0.npy"
                      " --output-dir %s --profile",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  Table *t = parse_table(out);
  check_table(t, 1);
  /* The outer loop runs its body 4 times, the inner one 3 times per outer
   * iteration: 12; each condition once more.  Kernels outside both run
   * once. */
  for (int i = 0; i < t->nrows; i++) {
    const Row *r = &t->rows[i];
    unsigned long long c = r->calls;
    ck_assert_msg(strstr(r->what, " in %") ? c == 4 || c == 5 || c == 12 || c == 16 : c == 1,
                  "%s: %llu calls", r->what, c);
  }
  free(t);
  free(out);
}
END_TEST

START_TEST(run_profile_hlo) {
  /* HLO text carries no TF op names: the column says so. */
  char *out;
  int rc = hloc(&out, "run " FORI ".hlo --input " FORI ".in0.npy --input " FORI ".in1.npy"
                      " --output-dir %s --profile",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  Table *t = parse_table(out);
  check_table(t, 1);
  for (int i = 0; i < t->nrows; i++) ck_assert_str_eq(t->rows[i].tf, "-");
  free(t);
  free(out);

  rc = hloc(&out, "run " FORI ".hlo --input " FORI ".in0.npy --input " FORI ".in1.npy"
                  " --output-dir %s --profile --interpret",
            tmpdir);
  ck_assert_int_eq(rc, 2);
  ck_assert_ptr_nonnull(strstr(out, "--profile"));
  ck_assert_ptr_nonnull(strstr(out, "--interpret"));
  free(out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The executable's --profile                                               */
/* ------------------------------------------------------------------------ */

START_TEST(exe_profile) {
  char *out;
  int rc = hloc(&out, "compile " CNN ".pb --config " CNN ".config.pbtxt --name cnn --emit exe"
                      " -o %s/cnn",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  rc = ck_sh(&out, "%s/cnn --input " CNN ".in0.npy --output-dir %s/plain", tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_ptr_null(strstr(out, "profile of"));
  free(out);

  rc = ck_sh(&out, "%s/cnn --input " CNN ".in0.npy --output-dir %s/one --profile", tmpdir,
             tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  Table *t = parse_table(out);
  check_table(t, 1);
  ck_assert_ptr_nonnull(strstr(out, "profile of cnn: 1 run,"));
  free(t);
  free(out);

  /* With --bench, the timed runs are profiled together; the first run,
   * which writes the results, is not among them. */
  rc = ck_sh(&out, "%s/cnn --input " CNN ".in0.npy --output-dir %s/bench --bench 3 --profile",
             tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_ptr_nonnull(strstr(out, "3 runs: median"));
  t = parse_table(out);
  check_table(t, 3);
  for (int i = 0; i < t->nrows; i++) ck_assert_uint_eq(t->rows[i].calls, 3);
  free(t);
  free(out);

  const char *dirs[] = {"one", "bench"};
  for (int i = 0; i < 2; i++) {
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/plain/probs.npy", tmpdir);
    snprintf(b, sizeof b, "%s/%s/probs.npy", tmpdir, dirs[i]);
    ck_assert_msg(same_bytes(a, b), "%s differs from an unprofiled run", b);
  }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* libhloc                                                                  */
/* ------------------------------------------------------------------------ */

static hloc_executable *compile(const char *graph, const char *config) {
  hloc_compiler *c = NULL;
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(NULL, &c, &err), 0);
  int rc = hloc_compile_graphdef_file(c, graph, config, &exe, &err);
  ck_assert_msg(rc == 0, "%s: %s", graph, hloc_error_message(err));
  hloc_compiler_free(c);
  return exe;
}

/* Runs exe on NAME.in0.npy into out (of out_bytes). */
static void execute(hloc_executable *exe, const char *input, void *out) {
  size_t len;
  char *npy = ck_read_file(input, &len);
  size_t bytes = hloc_executable_input_bytes(exe, 0);
  ck_assert(len >= bytes);
  const void *in[1] = {npy + len - bytes}; /* the data ends the file */
  void *outs[1] = {out};
  hloc_error *err = NULL;
  int rc = hloc_execute(exe, in, outs, &err);
  ck_assert_msg(rc == 0, "%s", hloc_error_message(err));
  free(npy);
}

START_TEST(api_profile) {
  hloc_executable *exe = compile(CNN ".pb", CNN ".config.pbtxt");
  hloc_error *err = NULL;
  size_t bytes = hloc_executable_output_bytes(exe, 0);
  char *plain = malloc(bytes), *profiled = malloc(bytes);
  int n = hloc_executable_num_kernels(exe);
  ck_assert_int_gt(n, 0);

  /* Off by default: runs leave the profile empty. */
  execute(exe, CNN ".in0.npy", plain);
  hloc_profile_summary s;
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &s, &err), 0);
  ck_assert_uint_eq(s.runs, 0);

  ck_assert_int_eq(hloc_executable_set_profiling(exe, 1, &err), 0);
  for (int i = 0; i < 2; i++) {
    memset(profiled, 0xA5, bytes);
    execute(exe, CNN ".in0.npy", profiled);
    ck_assert(!memcmp(plain, profiled, bytes));
  }
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &s, &err), 0);
  ck_assert_uint_eq(s.runs, 2);
  ck_assert(s.kernel_seconds >= 0 && s.kernel_seconds <= s.seconds);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    hloc_kernel_profile k;
    ck_assert_int_eq(hloc_executable_kernel_profile(exe, i, &k, &err), 0);
    ck_assert_uint_eq(k.calls, 2);
    ck_assert(k.seconds >= 0);
    ck_assert_ptr_nonnull(k.symbol);
    ck_assert_ptr_nonnull(k.instruction);
    ck_assert_ptr_nonnull(k.kind);
    ck_assert_ptr_nonnull(k.shape);
    ck_assert_msg(k.tf_op && strncmp(k.tf_op, "functional_1/", 13) == 0, "%s: %s", k.instruction,
                  k.tf_op ? k.tf_op : "(null)");
    ck_assert_ptr_null(k.loop);
    sum += k.seconds;
  }
  ck_assert(fabs(sum - s.kernel_seconds) <= 1e-9 * n);

  /* The report, as snprintf gives text. */
  size_t len = hloc_executable_profile_report(exe, NULL, 0);
  ck_assert_uint_gt(len, 0);
  char *text = malloc(len + 1);
  ck_assert_uint_eq(hloc_executable_profile_report(exe, text, len + 1), len);
  ck_assert_uint_eq(strlen(text), len);
  Table *t = parse_table(text);
  check_table(t, 2);
  free(t);
  char small[8];
  ck_assert_uint_eq(hloc_executable_profile_report(exe, small, sizeof small), len);
  ck_assert_uint_eq(strlen(small), sizeof small - 1);
  free(text);

  /* Off again: the profile stays; cleared, it is empty. */
  ck_assert_int_eq(hloc_executable_set_profiling(exe, 0, &err), 0);
  execute(exe, CNN ".in0.npy", profiled);
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &s, &err), 0);
  ck_assert_uint_eq(s.runs, 2);
  hloc_executable_clear_profile(exe);
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &s, &err), 0);
  ck_assert_uint_eq(s.runs, 0);

  /* Errors are values. */
  hloc_kernel_profile k;
  ck_assert_int_eq(hloc_executable_kernel_profile(exe, n, &k, &err), -1);
  ck_assert_ptr_nonnull(strstr(hloc_error_message(err), "does not exist"));
  hloc_error_free(err);
  ck_assert_int_eq(hloc_executable_set_profiling(NULL, 1, &err), -1);
  hloc_error_free(err);
  ck_assert_int_eq(hloc_executable_num_kernels(NULL), 0);
  ck_assert_uint_eq(hloc_executable_profile_report(NULL, NULL, 0), 0);
  hloc_executable_clear_profile(NULL);
  free(plain);
  free(profiled);
  hloc_executable_free(exe);
}
END_TEST

START_TEST(api_profile_counted_loop) {
  /* i < 10: the body runs 10 times, the condition 11, per run. */
  hloc_executable *exe = compile(V1 "counted_loop.pb", V1 "counted_loop.config.pbtxt");
  hloc_error *err = NULL;
  char *out = malloc(hloc_executable_output_bytes(exe, 0));
  ck_assert_int_eq(hloc_executable_set_profiling(exe, 1, &err), 0);
  for (int run = 0; run < 3; run++) execute(exe, V1 "counted_loop.in0.npy", out);
  int in_loop = 0;
  unsigned long long most = 0;
  for (int i = 0; i < hloc_executable_num_kernels(exe); i++) {
    hloc_kernel_profile k;
    ck_assert_int_eq(hloc_executable_kernel_profile(exe, i, &k, &err), 0);
    if (!k.loop) {
      ck_assert_uint_eq(k.calls, 3);
      continue;
    }
    in_loop++;
    ck_assert_msg(k.calls == 30 || k.calls == 33, "%s in %s: %llu calls", k.instruction, k.loop,
                  (unsigned long long)k.calls);
    if (k.calls > most) most = k.calls;
  }
  ck_assert_int_ge(in_loop, 2);
  ck_assert_uint_eq(most, 33); /* the condition */
  free(out);
  hloc_executable_free(exe);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_profile");
  TCase *tc = tcase_create("profile");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, run_profile_graphdef);
  tcase_add_test(tc, run_profile_while_loops);
  tcase_add_test(tc, run_profile_hlo);
  tcase_add_test(tc, exe_profile);
  tcase_add_test(tc, api_profile);
  tcase_add_test(tc, api_profile_counted_loop);
  suite_add_tcase(s, tc);
  return ck_run_suite(s);
}
