/*
 * test_driver_run.c — the `hloc run` (compiled in process, or evaluated
 * with --interpret) and `hloc dump` commands as a user runs them: inputs
 * bound by position, by parameter name and by argN; results written as
 * out<i>.npy and equal to JAX's; every stage of dump; and every bad
 * invocation failing with its message, the right exit status, and no output
 * files.  `run --threads N` splits large kernels (--stats counts the loops
 * its pool took) and writes the same bytes as one thread.  `run --timeout`
 * stops an endless while loop, compiled or interpreted, with a message
 * naming where; --max-iterations bounds the interpreter's loops.  Runs the binary
 * named by $HLOC_BIN (set by CTest).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "literal_io.h"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-run-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Runs `hloc ARGS`, capturing stderr+stdout into *out (malloc'd); returns
 * the exit status. */
static int hloc(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hloc(char **out, const char *fmt, ...) {
  char args[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return ck_sh(out, "%s %s", ck_env("HLOC_BIN"), args);
}

#define CASE "testdata/hlo/int_arith_s32"

static void expect_outputs_match(const char *dir, int nout) {
  for (int k = 0; k < nout; k++) {
    char got_path[256], want_path[256], msg[256];
    snprintf(got_path, sizeof got_path, "%s/result%d.npy", dir, k);
    snprintf(want_path, sizeof want_path, CASE ".out%d.npy", k);
    HloLiteral *got = ck_read_npy(got_path), *want = ck_read_npy(want_path);
    ck_assert_msg(ck_allclose(got, want, 0, 0, msg, sizeof msg), "result%d: %s", k, msg);
    hlo_literal_free(got);
    hlo_literal_free(want);
  }
}

START_TEST(run_positional) {
  char *out;
  int rc = hloc(&out, "run " CASE ".hlo --interpret --input " CASE ".in0.npy --input " CASE
                      ".in1.npy --input " CASE ".in2.npy --output-dir %s",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  expect_outputs_match(tmpdir, 9);
  ck_assert_int_eq(ck_count_files(tmpdir), 9);
  free(out);
}
END_TEST

START_TEST(run_by_name_and_index) {
  char *out;
  int rc = hloc(&out, "run " CASE ".hlo --interpret --input arg2=" CASE ".in2.npy --input b_1="
                      CASE ".in1.npy --input 0=" CASE ".in0.npy --output-dir %s/new",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  char dir[128];
  snprintf(dir, sizeof dir, "%s/new", tmpdir);
  expect_outputs_match(dir, 9);
  free(out);
}
END_TEST

static void expect_failure(int want_rc, const char *want_msg, const char *args) {
  char *out;
  int before = ck_count_files(tmpdir);
  int rc = hloc(&out, "%s --output-dir %s", args, tmpdir);
  ck_assert_msg(rc == want_rc, "exit %d (want %d): %s", rc, want_rc, out);
  ck_assert_msg(strstr(out, want_msg) != NULL, "message '%s' not in: %s", want_msg, out);
  ck_assert_int_eq(ck_count_files(tmpdir), before);
  free(out);
}

START_TEST(run_errors) {
  expect_failure(1, "hloc: error: no --input for input 2 (big_1), which is ",
                 "run " CASE ".hlo --interpret --input " CASE ".in0.npy --input " CASE ".in1.npy");
  expect_failure(1, "--input " CASE ".in2.npy: input 0 (a_1) is int32[3,5], but the file holds "
                    "int32[5]",
                 "run " CASE ".hlo --interpret --input a_1=" CASE ".in2.npy");
  /* HLO names as the compiled program's descriptor has them: C identifiers */
  expect_failure(1, "--input a.1=" CASE ".in2.npy: the model has no input named 'a.1' (did you "
                    "mean 'a_1'?) (inputs: a_1, b_1, big_1)",
                 "run " CASE ".hlo --interpret --input a.1=" CASE ".in2.npy");
  expect_failure(1, "--input nope=" CASE ".in0.npy: the model has no input named 'nope' "
                    "(inputs: a_1, b_1, big_1)",
                 "run " CASE ".hlo --interpret --input nope=" CASE ".in0.npy");
  expect_failure(1, "--input " CASE ".in2.npy: the model takes only 3 input(s)",
                 "run " CASE ".hlo --interpret --input " CASE ".in0.npy --input " CASE
                 ".in1.npy --input " CASE ".in2.npy --input " CASE ".in2.npy");
  expect_failure(1, "hloc: error: cannot read 'missing.npy': No such file or directory\n",
                 "run " CASE ".hlo --interpret --input missing.npy");
  /* A directory is named as such, not reported as "out of memory". */
  char want[160];
  snprintf(want, sizeof want, "hloc: error: cannot read '%s': Is a directory\n", tmpdir);
  char args[256];
  snprintf(args, sizeof args, "run " CASE ".hlo --interpret --input %s", tmpdir);
  expect_failure(1, want, args);
  expect_failure(1, "model.onnx: unknown model format", "run model.onnx --interpret");
  expect_failure(2, "hloc: run: unknown option '--frobnicate'",
                 "run " CASE ".hlo --frobnicate");
  expect_failure(2, "hloc: unknown command 'jump'", "jump");
}
END_TEST

/* A model file of another name than .hlo, .pb or .pbtxt is recognised by
 * its content: a binary GraphDef, a text GraphDef after comments and blank
 * lines, HLO text; anything else is an unknown format, even with --config. */
START_TEST(run_format_by_content) {
  char *out;
  const char *m = "testdata/tf/models/mnist_mlp";
  int rc = ck_sh(&out, "cp %s.pb %s/model.bin && cp %s.config.pbtxt %s/cfg && "
                       "cp " CASE ".hlo %s/module && echo garbage > %s/junk && "
                       "printf '\\n# a comment\\n' > %s/graph.txt && cat %s.pbtxt >> %s/graph.txt",
                 m, tmpdir, m, tmpdir, tmpdir, tmpdir, tmpdir, "testdata/tf/ops/placeholder_multi",
                 tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  rc = hloc(&out, "run %s/model.bin --config %s/cfg --input %s.in0.npy --expect %s.out0.npy "
                  "--atol 1e-4 --rtol 1e-3 --output-dir %s/o1",
            tmpdir, tmpdir, m, m, tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "probs: matches"), "%s", out);
  free(out);
  rc = hloc(&out, "run %s/module --input " CASE ".in0.npy --input " CASE ".in1.npy --input " CASE
                  ".in2.npy --output-dir %s/o2",
            tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  char dir[128];
  snprintf(dir, sizeof dir, "%s/o2", tmpdir);
  expect_outputs_match(dir, 9);
  rc = hloc(&out, "inspect %s/graph.txt", tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "GraphDef") && strstr(out, "placeholder a: DT_FLOAT"), "%s",
                out);
  free(out);
  rc = hloc(&out, "run %s/junk --config %s/cfg", tmpdir, tmpdir);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "junk: unknown model format"), "%s", out);
  free(out);
}
END_TEST

/* Without --interpret the model is compiled in process and run natively:
 * integer arithmetic must equal JAX's exactly. */
START_TEST(run_native) {
  char *out;
  int rc = hloc(&out, "run " CASE ".hlo --input " CASE ".in0.npy --input " CASE ".in1.npy "
                      "--input " CASE ".in2.npy --output-dir %s --expect " CASE ".out0.npy "
                      "--expect " CASE ".out1.npy --atol 0 --rtol 0",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "result1: matches the expected output"), "%s", out);
  expect_outputs_match(tmpdir, 9);
  ck_assert_int_eq(ck_count_files(tmpdir), 9);
  free(out);
}
END_TEST

/* A tuple-shaped parameter takes one input per leaf, named NAME_i (the
 * compiled function's flat arguments); compiled and interpreted agree with
 * the sum computed here. */
START_TEST(run_tuple_parameter) {
  char path[128];
  ck_write_file(tmpdir, "t.hlo",
                "HloModule t\n\nENTRY main {\n  p = (s32[3,5], (s32[3,5], s32[5])) parameter(0)\n"
                "  a = s32[3,5] get-tuple-element(p), index=0\n"
                "  q = (s32[3,5], s32[5]) get-tuple-element(p), index=1\n"
                "  b = s32[3,5] get-tuple-element(q), index=0\n"
                "  ROOT s = s32[3,5] add(a, b)\n}\n",
                path, sizeof path);
  const char *modes[] = {"", "--interpret"};
  for (int m = 0; m < 2; m++) {
    char *out;
    int rc = hloc(&out, "run %s %s --input p_1_1=" CASE ".in2.npy --input p_0=" CASE
                        ".in0.npy --input p_1_0=" CASE ".in1.npy --output-dir %s",
                  path, modes[m], tmpdir);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    char got_path[128];
    snprintf(got_path, sizeof got_path, "%s/result0.npy", tmpdir);
    HloLiteral *got = ck_read_npy(got_path), *a = ck_read_npy(CASE ".in0.npy"),
               *b = ck_read_npy(CASE ".in1.npy");
    for (int i = 0; i < 15; i++)
      ck_assert_int_eq(hlo_literal_get_s64(got, i),
                       (int32_t)(uint32_t)(hlo_literal_get_s64(a, i) + hlo_literal_get_s64(b, i)));
    hlo_literal_free(got);
    hlo_literal_free(a);
    hlo_literal_free(b);
  }
  /* The tuple itself is no input name. */
  char *out;
  int rc = hloc(&out, "run %s --input p=" CASE ".in0.npy --output-dir %s", path, tmpdir);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "no input named 'p' (inputs: p_0, p_1_0, p_1_1)"), "%s",
                out);
  free(out);
}
END_TEST

/* What codegen cannot compile fails `run` with codegen's message naming the
 * instruction; the interpreter still evaluates what it knows. */
START_TEST(run_native_errors) {
  char path[128];
  ck_write_file(tmpdir, "unsupported.hlo",
                "HloModule m\n\nENTRY e {\n"
                "  ROOT c = f32[4]{0} custom-call(), custom_call_target=\"my_op\"\n}\n",
                path, sizeof path);
  char args[256];
  snprintf(args, sizeof args, "run %s", path);
  expect_failure(1, "custom-call", args);
  unlink(path);
  expect_failure(1, "unknown CPU 'nope' for x86_64",
                 "run " CASE ".hlo --cpu nope --input " CASE ".in0.npy --input " CASE
                 ".in1.npy --input " CASE ".in2.npy");
}
END_TEST

/* Writes text to DIR/name (the test's temporary directory). */
static void write_text(const char *name, const char *text, char *path, size_t len) {
  ck_write_file(tmpdir, name, text, path, len);
}

/* Two results, a small one and one of 16 KiB. */
static const char two_results_hlo[] =
    "HloModule two\n\nENTRY main {\n  x = s32[2] constant({1, 2})\n"
    "  c = f32[] constant(1.5)\n  big = f32[4096] broadcast(c), dimensions={}\n"
    "  ROOT t = (s32[2], f32[4096]) tuple(x, big)\n}\n";

/* Writes n raw bytes as a '|V1' .npy file (what NumPy with ml_dtypes
 * saves for int4, float8_e4m3fn, …) at DIR/name. */
static void write_v1(const char *name, const char *bytes, int n, char *path, size_t len) {
  snprintf(path, len, "%s/%s", tmpdir, name);
  RtArray a = {.dtype = RT_V1, .rank = 1, .dims = {n}, .data = (void *)bytes, .nbytes = (size_t)n};
  char err[256];
  ck_assert_msg(rt_npy_write(path, &a, err, sizeof err) == 0, "%s", err);
}

/* Writes a complex .npy file (NumPy's complex64 '<c8' or complex128
 * '<c16': real, imaginary, … in `parts`) of n elements at DIR/name. */
static void write_complex(const char *name, RtDtype t, const double *parts, int n, char *path,
                          size_t len) {
  snprintf(path, len, "%s/%s", tmpdir, name);
  float f[16];
  for (int i = 0; i < 2 * n; i++) f[i] = (float)parts[i];
  RtArray a = {.dtype = t, .rank = 1, .dims = {n}, .data = t == RT_C64 ? (void *)f : (void *)parts,
               .nbytes = (size_t)n * rt_dtype_size(t)};
  char err[256];
  ck_assert_msg(rt_npy_write(path, &a, err, sizeof err) == 0, "%s", err);
}

/* Writes an s32 .npy of the given dims at DIR/name. */
static void write_s32(const char *name, const int32_t *v, int rank, const int64_t *dims,
                      char *path, size_t len) {
  snprintf(path, len, "%s/%s", tmpdir, name);
  RtArray a = {.dtype = RT_I32, .rank = rank, .data = (void *)v, .nbytes = 4};
  for (int d = 0; d < rank; d++) {
    a.dims[d] = dims[d];
    a.nbytes *= (size_t)dims[d];
  }
  char err[256];
  ck_assert_msg(rt_npy_write(path, &a, err, sizeof err) == 0, "%s", err);
}

/* Bounded dynamic parameters and results (passes/dynamic_pad.c's sizes,
 * docs/api.md): `hloc run` takes a dynamic parameter's .npy at any size up
 * to its bound (a plain one and one in a tuple), passes it padded with its
 * sizes, and writes each dynamic result (in a nested result tuple too) at
 * the size the compiled code returns; compiled and interpreted (with the passes, and as written)
 * write the same files, checked against values computed here: the rows
 * of x reversed, y's size, y negated; sizes 2 and 3, then 0 and 4. */
START_TEST(run_dynamic_dims) {
  char path[128], xp[128], yp[128];
  write_text("d.hlo",
             "HloModule d\n\nENTRY main {\n  x = s32[<=5,3] parameter(0)\n"
             "  t = (s32[4], s32[<=4]) parameter(1)\n"
             "  y = s32[<=4] get-tuple-element(t), index=1\n"
             "  r = s32[<=5,3] reverse(x), dimensions={0}\n"
             "  n = s32[] get-dimension-size(y), dimensions={0}\n"
             "  ny = s32[<=4] negate(y)\n  i = (s32[], s32[<=4]) tuple(n, ny)\n"
             "  ROOT o = (s32[<=5,3], (s32[], s32[<=4])) tuple(r, i)\n}\n",
             path, sizeof path);
  const int32_t x[15] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const int32_t y[4] = {20, -30, 40, 50}, z[4] = {0};
  const int64_t rows[2] = {2, 0}, ny[2] = {3, 4};
  const char *modes[] = {"", "--interpret", "--interpret --O0"};
  for (int c = 0; c < 2; c++) {
    int64_t xd[2] = {rows[c], 3};
    write_s32("x.npy", x, 2, xd, xp, sizeof xp);
    write_s32("t_0.npy", z, 1, (int64_t[]){4}, yp, sizeof yp);
    write_s32("y.npy", y, 1, &ny[c], yp, sizeof yp);
    for (int m = 0; m < 3; m++) {
      char *out;
      int rc = hloc(&out, "run %s %s --input x=%s --input t_1=%s --input t_0=%s/t_0.npy "
                          "--output-dir %s/o",
                    path, modes[m], xp, yp, tmpdir, tmpdir);
      ck_assert_msg(rc == 0, "%s: exit %d: %s", modes[m], rc, out);
      free(out);
      char got_path[160];
      snprintf(got_path, sizeof got_path, "%s/o/result0.npy", tmpdir);
      HloLiteral *r = ck_read_npy(got_path);
      ck_assert_msg(r->shape.rank == 2 && r->shape.dims[0] == rows[c] && r->shape.dims[1] == 3,
                    "%s: result0 is %lldx%lld", modes[m], (long long)r->shape.dims[0],
                    (long long)r->shape.dims[1]);
      for (int i = 0; i < rows[c]; i++)
        for (int j = 0; j < 3; j++)
          ck_assert_int_eq(hlo_literal_get_s64(r, i * 3 + j), x[(rows[c] - 1 - i) * 3 + j]);
      hlo_literal_free(r);
      snprintf(got_path, sizeof got_path, "%s/o/result1.npy", tmpdir);
      r = ck_read_npy(got_path);
      ck_assert_int_eq(hlo_literal_get_s64(r, 0), ny[c]);
      hlo_literal_free(r);
      snprintf(got_path, sizeof got_path, "%s/o/result2.npy", tmpdir);
      r = ck_read_npy(got_path);
      ck_assert_msg(r->shape.rank == 1 && r->shape.dims[0] == ny[c], "%s: result2", modes[m]);
      for (int i = 0; i < ny[c]; i++) ck_assert_int_eq(hlo_literal_get_s64(r, i), -y[i]);
      hlo_literal_free(r);
    }
  }
}
END_TEST

static void write_f32(const char *name, const float *v, int rank, const int64_t *dims,
                      char *path, size_t len) {
  snprintf(path, len, "%s/%s", tmpdir, name);
  RtArray a = {.dtype = RT_F32, .rank = rank, .data = (void *)v, .nbytes = 4};
  for (int d = 0; d < rank; d++) {
    a.dims[d] = dims[d];
    a.nbytes *= (size_t)dims[d];
  }
  char err[256];
  ck_assert_msg(rt_npy_write(path, &a, err, sizeof err) == 0, "%s", err);
}

/* Whether files a and b hold the same bytes. */
static bool same_bytes(const char *a, const char *b) {
  size_t na, nb;
  char *x = ck_read_file(a, &na), *y = ck_read_file(b, &nb);
  bool same = x && y && na == nb && !memcmp(x, y, na);
  free(x);
  free(y);
  return same;
}

/* A module with an f32[<=4,3] and an s32[<=5] parameter and dynamic
 * results (a product kept at the run-time size, a sum over the dynamic
 * dim, a size, a negation), exact on these small values. */
static const char dynamic_hlo[] =
    "HloModule dyn\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
    "  ROOT s = f32[] add(a, b)\n}\n\nENTRY main {\n  x = f32[<=4,3] parameter(0)\n"
    "  n = s32[<=5] parameter(1)\n  r = f32[<=4,3] reverse(x), dimensions={0}\n"
    "  m = f32[<=4,3] multiply(r, x)\n  c = f32[] constant(0)\n"
    "  s = f32[3] reduce(m, c), dimensions={0}, to_apply=add\n"
    "  k = s32[] get-dimension-size(n), dimensions={0}\n  nn = s32[<=5] negate(n)\n"
    "  ROOT o = (f32[<=4,3], f32[3], s32[], s32[<=5]) tuple(m, s, k, nn)\n}\n";

/* The executable of a module with dynamic parameters and results pads its
 * inputs and trims its results as `hloc run` does: for inputs of several
 * sizes within the bounds (none, some, all), `hloc run --interpret`,
 * `hloc run` and the executable write the same files, byte for byte, each
 * dynamic result at its run-time size; `--expect` compares against the
 * trimmed result (the interpreter's passes, one at the bound fails). */
START_TEST(executable_dynamic_dims) {
  char hlo[128], xp[128], np[128], *out;
  write_text("dyn.hlo", dynamic_hlo, hlo, sizeof hlo);
  int rc = hloc(&out, "compile %s --name dyn -o %s/dyn --emit exe", hlo, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  float x[12];
  for (int i = 0; i < 12; i++) x[i] = (float)(i % 7) - 3;
  const int32_t n[5] = {4, -9, 0, 7, 1};
  const int64_t rows[4] = {2, 4, 0, 1}, ns[4] = {3, 5, 0, 5};
  for (int c = 0; c < 4; c++) {
    write_f32("x.npy", x, 2, (int64_t[]){rows[c], 3}, xp, sizeof xp);
    write_s32("n.npy", n, 1, &ns[c], np, sizeof np);
    const char *dirs[3] = {"interpreted", "compiled", "exe"};
    rc = hloc(&out, "run %s --interpret --input %s --input n=%s --output-dir %s/%s", hlo, xp, np,
              tmpdir, dirs[0]);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    rc = hloc(&out, "run %s --input %s --input n=%s --output-dir %s/%s", hlo, xp, np, tmpdir,
              dirs[1]);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    rc = ck_sh(&out, "%s/dyn --input %s --input n=%s --output-dir %s/%s", tmpdir, xp, np, tmpdir,
               dirs[2]);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    free(out);
    for (int d = 0; d < 3; d++) {
      char dir[160];
      snprintf(dir, sizeof dir, "%s/%s", tmpdir, dirs[d]);
      ck_assert_int_eq(ck_count_files(dir), 4);
    }
    for (int k = 0; k < 4; k++) {
      char want[192], got[192];
      snprintf(want, sizeof want, "%s/interpreted/result%d.npy", tmpdir, k);
      for (int d = 1; d < 3; d++) {
        snprintf(got, sizeof got, "%s/%s/result%d.npy", tmpdir, dirs[d], k);
        ck_assert_msg(same_bytes(got, want), "case %d: %s/result%d.npy differs from the "
                      "interpreter's", c, dirs[d], k);
      }
    }
    /* The sizes, independently of the interpreter. */
    char path[192];
    snprintf(path, sizeof path, "%s/exe/result0.npy", tmpdir);
    HloLiteral *r = ck_read_npy(path);
    ck_assert(r->shape.rank == 2 && r->shape.dims[0] == rows[c] && r->shape.dims[1] == 3);
    for (int i = 0; i < rows[c] * 3; i++)
      ck_assert(hlo_literal_get_f64(r, i) == (double)(x[(rows[c] - 1 - i / 3) * 3 + i % 3] * x[i]));
    hlo_literal_free(r);
    snprintf(path, sizeof path, "%s/exe/result2.npy", tmpdir);
    r = ck_read_npy(path);
    ck_assert_int_eq(hlo_literal_get_s64(r, 0), ns[c]);
    hlo_literal_free(r);
    snprintf(path, sizeof path, "%s/exe/result3.npy", tmpdir);
    r = ck_read_npy(path);
    ck_assert(r->shape.rank == 1 && r->shape.dims[0] == ns[c]);
    for (int i = 0; i < ns[c]; i++) ck_assert_int_eq(hlo_literal_get_s64(r, i), -n[i]);
    hlo_literal_free(r);
    rc = hloc(&out, "run %s --input %s --input n=%s --output-dir %s/expect "
                    "--expect %s/interpreted/result0.npy --expect %s/interpreted/result1.npy "
                    "--expect %s/interpreted/result2.npy --expect %s/interpreted/result3.npy "
                    "--atol 0 --rtol 0",
              hlo, xp, np, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
    ck_assert_msg(rc == 0 && strstr(out, "result0: matches") && strstr(out, "result3: matches"),
                  "exit %d: %s", rc, out);
    free(out);
    ck_assert_int_eq(ck_sh(NULL, "rm -r %s/interpreted %s/compiled %s/exe %s/expect", tmpdir,
                           tmpdir, tmpdir, tmpdir), 0);
  }
  /* An expected result at the bound is not the trimmed result. */
  write_f32("x.npy", x, 2, (int64_t[]){2, 3}, xp, sizeof xp);
  write_f32("bound.npy", x, 2, (int64_t[]){4, 3}, np, sizeof np);
  rc = hloc(&out, "run %s --input %s --input %s/n.npy --output-dir %s/o --expect %s", hlo, xp,
            tmpdir, tmpdir, np);
  ck_assert_msg(rc == 1 && strstr(out, "result0: MISMATCH: result is float32[2,3], expected "
                                            "float32[4,3]"), "exit %d: %s", rc, out);
  free(out);
}
END_TEST

/* An input larger than a dynamic parameter's bound is refused by `hloc
 * run` (compiled or interpreted) and the executable, naming the
 * parameter, the bound and the file, before anything is written. */
START_TEST(dynamic_input_past_bound) {
  char hlo[128], xp[128], np[128], want[512], *out;
  write_text("dyn.hlo", dynamic_hlo, hlo, sizeof hlo);
  int rc = hloc(&out, "compile %s --name dyn -o %s/dyn --emit exe", hlo, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  float x[18] = {0};
  const int32_t n[6] = {0};
  write_f32("x.npy", x, 2, (int64_t[]){6, 3}, xp, sizeof xp);
  write_s32("n.npy", n, 1, (int64_t[]){3}, np, sizeof np);
  snprintf(want, sizeof want,
           "--input %s: input 0 (x) is float32[<=4,3]: dimension 0 is at most 4, the file has 6\n",
           xp);
  const char *modes[] = {"--interpret", ""};
  for (int m = 0; m < 2; m++) {
    rc = hloc(&out, "run %s %s --input %s --input %s --output-dir %s/o", hlo, modes[m], xp, np,
              tmpdir);
    ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
    ck_assert_msg(!strncmp(out, "hloc: error: ", 13) && !strcmp(out + 13, want), "%s", out);
    free(out);
  }
  rc = ck_sh(&out, "%s/dyn --input %s --input %s --output-dir %s/o", tmpdir, xp, np, tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(!strncmp(out, "dyn: ", 5) && !strcmp(out + 5, want), "%s", out);
  free(out);
  /* The other input too, and a rank that differs is told as before. */
  write_s32("n.npy", n, 1, (int64_t[]){6}, np, sizeof np);
  write_f32("x.npy", x, 2, (int64_t[]){4, 3}, xp, sizeof xp);
  rc = ck_sh(&out, "%s/dyn --input %s --input %s --output-dir %s/o", tmpdir, xp, np, tmpdir);
  snprintf(want, sizeof want,
           "dyn: --input %s: input 1 (n) is int32[<=5]: dimension 0 is at most 5, the file has 6\n",
           np);
  ck_assert_msg(rc == 1 && !strcmp(out, want), "exit %d: %s", rc, out);
  free(out);
  write_f32("x.npy", x, 1, (int64_t[]){3}, xp, sizeof xp);
  write_s32("n.npy", n, 1, (int64_t[]){2}, np, sizeof np);
  rc = ck_sh(&out, "%s/dyn --input %s --input %s --output-dir %s/o", tmpdir, xp, np, tmpdir);
  snprintf(want, sizeof want,
           "dyn: --input %s: input 0 (x) is float32[<=4,3], but the file holds float32[3]\n", xp);
  ck_assert_msg(rc == 1 && !strcmp(out, want), "exit %d: %s", rc, out);
  free(out);
  char dir[160];
  snprintf(dir, sizeof dir, "%s/o", tmpdir);
  struct stat st;
  ck_assert_msg(stat(dir, &st) != 0, "%s was made", dir);
}
END_TEST

/* complex64 and complex128 in and out (the interpreter computes them):
 * [1+2j, 0.5-1j, 3] squared is [-3+4j, -0.75-1j, 9]; [0.1+0.2j, -4j]
 * doubled is [0.2+0.4j, -8j].  The results are written as '<c8' and
 * '<c16', compared with --expect part by part, and a wrong imaginary part
 * is reported as such; compiled, the same results (exact: one rounding
 * per part on both sides). */
START_TEST(run_complex_types) {
  char hlo[128], a[128], b[128], want0[128], want1[128], wrong[128];
  char args[1024];
  write_text("cx.hlo",
             "HloModule cx\nENTRY e {\n  a = c64[3] parameter(0)\n  b = c128[2] parameter(1)\n"
             "  m = c64[3] multiply(a, a)\n  s = c128[2] add(b, b)\n"
             "  ROOT t = (c64[3], c128[2]) tuple(m, s)\n}\n",
             hlo, sizeof hlo);
  write_complex("a.npy", RT_C64, (const double[]){1, 2, 0.5, -1, 3, 0}, 3, a, sizeof a);
  write_complex("b.npy", RT_C128, (const double[]){0.1, 0.2, 0, -4}, 2, b, sizeof b);
  write_complex("want0.npy", RT_C64, (const double[]){-3, 4, -0.75, -1, 9, 0}, 3, want0,
                sizeof want0);
  write_complex("want1.npy", RT_C128, (const double[]){0.2, 0.4, 0, -8}, 2, want1, sizeof want1);
  write_complex("wrong.npy", RT_C64, (const double[]){-3, 4, -0.75, 1, 9, 0}, 3, wrong,
                sizeof wrong);
  char *out, dir[128];
  snprintf(dir, sizeof dir, "%s/out", tmpdir);
  int rc = hloc(&out, "run %s --interpret --input %s --input %s --output-dir %s --expect %s "
                      "--expect %s --atol 0 --rtol 0 --print",
                hlo, a, b, dir, want0, want1);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "result0: complex64[3]\n  [-3+4j, -0.75-1j, 9+0j]") &&
                    strstr(out, "result1: complex128[2]\n  [0.2+0.4j, 0-8j]") &&
                    strstr(out, "result0: matches the expected output") &&
                    strstr(out, "result1: matches the expected output"),
                "%s", out);
  free(out);
  static const RtDtype types[2] = {RT_C64, RT_C128};
  static const double want[2][6] = {{-3, 4, -0.75, -1, 9, 0}, {0.2, 0.4, 0, -8}};
  for (int r = 0; r < 2; r++) {
    char path[160], err[256];
    snprintf(path, sizeof path, "%s/result%d.npy", dir, r);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char head[128] = {0};
    ck_assert_int_gt((int)fread(head, 1, sizeof head - 1, f), 64);
    fclose(f);
    ck_assert_msg(strstr(head + 10, r ? "'descr': '<c16'" : "'descr': '<c8'"), "%s", head + 10);
    RtArray got;
    ck_assert_msg(rt_npy_read(path, &got, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(got.dtype, types[r]);
    ck_assert_int_eq(got.dims[0], r ? 2 : 3);
    for (int i = 0; i < 2 * (int)got.dims[0]; i++) {
      double v = r ? ((double *)got.data)[i] : ((float *)got.data)[i];
      ck_assert_msg(v == (r ? want[r][i] : (double)(float)want[r][i]), "result%d part %d: %g", r,
                    i, v);
    }
    rt_array_free(&got);
  }
  snprintf(args, sizeof args, "run %s --interpret --input %s --input %s --expect %s --output-dir %s",
           hlo, a, b, wrong, dir);
  rc = hloc(&out, "%s", args);
  ck_assert_msg(rc != 0 && strstr(out, "result0: MISMATCH at element 1 (imaginary part): -1, "
                                       "expected 1"),
                "exit %d: %s", rc, out);
  free(out);
  rc = hloc(&out, "run %s --input %s --input %s --output-dir %s --expect %s --expect %s --atol 0 "
                  "--rtol 0", hlo, a, b, dir, want0, want1);
  ck_assert_msg(rc == 0 && strstr(out, "result0: matches the expected output") &&
                    strstr(out, "result1: matches the expected output"),
                "exit %d: %s", rc, out);
  free(out);
}
END_TEST

/* ml_dtypes' narrow types in and out: int4 [-8, -3, 0, 1, 7, 5] (the value
 * in the low 4 bits, as ml_dtypes writes it) doubled wraps to [0, -6, 0, 2,
 * -2, -6], written sign-extended in its byte; float8_e4m3fn [1, -2, 0.5, 3]
 * squared is [1, 4, 0.25, 9].  Compiled and interpreted alike, --expect
 * files read as the result's type; inputs whose type or size disagree are
 * refused by name. */
START_TEST(run_narrow_types) {
  char hlo[128], a[128], b[128], want0[128], want1[128], bad[128], shortf[128];
  write_text("narrow.hlo",
             "HloModule narrow\nENTRY e {\n  a = s4[6] parameter(0)\n  b = f8e4m3fn[4] parameter(1)\n"
             "  s = s4[6] add(a, a)\n  m = f8e4m3fn[4] multiply(b, b)\n"
             "  ROOT t = (s4[6], f8e4m3fn[4]) tuple(s, m)\n}\n",
             hlo, sizeof hlo);
  write_v1("a.npy", "\x08\x0d\x00\x01\x07\x05", 6, a, sizeof a);
  write_v1("b.npy", "\x38\xc0\x30\x44", 4, b, sizeof b);
  write_v1("want0.npy", "\x00\x0a\x00\x02\x0e\x0a", 6, want0, sizeof want0);
  write_v1("want1.npy", "\x38\x48\x28\x51", 4, want1, sizeof want1);
  for (int native = 0; native < 2; native++) {
    char *out, dir[128];
    snprintf(dir, sizeof dir, "%s/out%d", tmpdir, native);
    int rc = hloc(&out, "run %s --input %s --input %s --output-dir %s --expect %s --expect %s "
                        "--atol 0 --rtol 0 --print %s",
                  hlo, a, b, dir, want0, want1, native ? "" : "--interpret");
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "result0: int4[6]\n  [0, -6, 0, 2, -2, -6]") &&
                      strstr(out, "result1: float8_e4m3fn[4]\n  [1, 4, 0.25, 9]") &&
                      strstr(out, "result1: matches the expected output"),
                  "%s", out);
    free(out);
    char path[160];
    snprintf(path, sizeof path, "%s/result0.npy", dir);
    RtArray r;
    char err[256];
    ck_assert_msg(rt_npy_read(path, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(r.dtype, RT_V1);
    ck_assert_mem_eq(r.data, "\x00\xfa\x00\x02\xfe\xfa", 6);
    rt_array_free(&r);
  }
  char args[512];
  /* an int32 file for the int4 parameter, a '|V1' one for float32 */
  snprintf(args, sizeof args, "run %s --input " CASE ".in2.npy --input %s", hlo, b);
  expect_failure(1, "input 0 (a) is int4[6], but the file holds int32[5]", args);
  write_text("f.hlo", "HloModule f\nENTRY e {\n  x = f32[4] parameter(0)\n  ROOT n = f32[4] negate(x)\n}\n",
             bad, sizeof bad);
  snprintf(args, sizeof args, "run %s --input %s", bad, b);
  expect_failure(1, "b.npy: the file holds one-byte void elements ('|V1', an ml_dtypes narrow type) "
                    "where f32 is expected", args);
  /* a size that disagrees: with the parameter (a '|V1' file is read as
   * the parameter's type), and with the file's own shape */
  snprintf(args, sizeof args, "run %s --input %s --input %s", hlo, b, b);
  expect_failure(1, "b.npy: input 0 (a) is int4[6], but the file holds int4[4]", args);
  write_v1("short.npy", "\x01\x02\x03", 3, shortf, sizeof shortf);
  FILE *f = fopen(shortf, "r+b");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  long size = ftell(f);
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_int_eq(truncate(shortf, size - 1), 0);
  snprintf(args, sizeof args, "run %s --input %s --input %s", hlo, shortf, b);
  expect_failure(1, "short.npy: data has 2 bytes but shape and dtype need 3", args);
}
END_TEST

/* The results are written all or none: when the second cannot be written
 * (a file-size limit stands in for a full disk: `ulimit -f`, with SIGXFSZ
 * ignored so that write(2) fails with EFBIG) the first is not left behind
 * either, nor the output directory the run made; the message names the
 * user's file, not a temporary, and the system's reason. */
START_TEST(run_writes_all_results_or_none) {
  char path[128];
  write_text("two.hlo", two_results_hlo, path, sizeof path);
  const char *modes[] = {"--interpret", ""};
  for (int m = 0; m < 2; m++) {
    char *out, want[256];
    int rc = ck_sh(&out, "trap '' XFSZ; ulimit -f 4; %s run %s %s --output-dir %s/new",
                   ck_env("HLOC_BIN"), path, modes[m], tmpdir);
    snprintf(want, sizeof want, "hloc: error: cannot write '%s/new/result1.npy': File too large\n",
             tmpdir);
    ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(ck_count_files(tmpdir), 1); /* two.hlo: no new/ */
    free(out);
  }
  char *out;
  ck_assert_int_eq(ck_sh(NULL, "mkdir %s/old", tmpdir), 0);
  int rc = ck_sh(&out, "trap '' XFSZ; ulimit -f 4; %s run %s --output-dir %s/old",
                 ck_env("HLOC_BIN"), path, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "/old/result1.npy': File too large"), "exit %d: %s", rc, out);
  free(out);
  char dir[128];
  snprintf(dir, sizeof dir, "%s/old", tmpdir);
  ck_assert_int_eq(ck_count_files(dir), 0);
  /* Without the limit both are written, and nothing else. */
  rc = hloc(&out, "run %s --output-dir %s", path, dir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_int_eq(ck_count_files(dir), 2);
  free(out);
}
END_TEST

/* The same for an executable made by `hloc compile --emit exe`. */
START_TEST(executable_writes_all_results_or_none) {
  char path[128], *out;
  write_text("two.hlo", two_results_hlo, path, sizeof path);
  int rc = hloc(&out, "compile %s --name two -o %s/two --emit exe", path, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  ck_assert_int_eq(ck_sh(NULL, "mkdir %s/o", tmpdir), 0);
  rc = ck_sh(&out, "trap '' XFSZ; ulimit -f 4; %s/two --output-dir %s/o", tmpdir, tmpdir);
  char want[256], dir[128];
  snprintf(want, sizeof want, "two: cannot write '%s/o/result1.npy': File too large\n", tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_str_eq(out, want);
  free(out);
  snprintf(dir, sizeof dir, "%s/o", tmpdir);
  ck_assert_int_eq(ck_count_files(dir), 0);
  rc = ck_sh(&out, "%s/two --output-dir %s/o", tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  ck_assert_int_eq(ck_count_files(dir), 2);
}
END_TEST

/* ^C while the results are written removes what was written so far.  The
 * second result's temporary name, DIR/result1.npy.tmp.PID, is made a FIFO
 * before hloc starts (the shell's pid is hloc's after exec), so hloc blocks
 * opening it, with the first result complete under its temporary name: the
 * signal always lands mid-write.  The handler removes both, FIFO included,
 * and hloc dies of SIGINT. */
START_TEST(run_interrupted_leaves_nothing) {
  char path[128], dir[160], first[200];
  write_text("two.hlo", two_results_hlo, path, sizeof path);
  snprintf(dir, sizeof dir, "%s/out", tmpdir);
  ck_assert_int_eq(mkdir(dir, 0777), 0);
  pid_t pid = ck_sh_start("mkfifo %s/result1.npy.tmp.$$ && exec %s run %s --interpret "
                          "--output-dir %s >/dev/null 2>&1",
                          dir, ck_env("HLOC_BIN"), path, dir);
  snprintf(first, sizeof first, "%s/result0.npy.tmp.%d", dir, (int)pid);
  ck_wait_for_file(pid, first, 60);
  ck_assert_int_eq(ck_count_files(dir), 2);
  ck_assert_int_eq(kill(pid, SIGINT), 0);
  ck_assert_int_eq(ck_wait_signal(pid, 60), SIGINT);
  ck_assert_int_eq(ck_count_files(dir), 0);
}
END_TEST

START_TEST(run_reports_parse_position) {
  char path[128];
  ck_write_file(tmpdir, "bad.hlo",
                "HloModule m\n\nENTRY e {\n  p = f32[2]{0} parameter(0)\n"
                "  ROOT n = f32[2]{0} frobnicate(p)\n}\n",
                path, sizeof path);
  char *out;
  int rc = hloc(&out, "dump %s", path);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "bad.hlo:5:") && strstr(out, "frobnicate"), "%s", out);
  free(out);
  unlink(path);
}
END_TEST

START_TEST(dump_prints_module) {
  char *out;
  int rc = hloc(&out, "dump " CASE ".hlo --stage hlo");
  ck_assert_msg(rc == 0, "%s", out);
  ck_assert_ptr_nonnull(strstr(out, "HloModule jit__lambda"));
  ck_assert_ptr_nonnull(strstr(out, "divide("));
  free(out);
  rc = hloc(&out, "dump " CASE ".hlo --stage nope");
  ck_assert_int_eq(rc, 2);
  ck_assert_ptr_nonnull(
      strstr(out, "unknown stage 'nope' (stages: hlo, dot, svg, png, kir, mlir, llvm, asm, ptx)"));
  free(out);
  /* A full stdout is an error with the system's reason, not a silent
   * loss at exit. */
  rc = ck_sh(&out, "(%s dump " CASE ".hlo > /dev/full)", ck_env("HLOC_BIN"));
  ck_assert_int_eq(rc, 1);
  ck_assert_str_eq(out, "hloc: error: cannot write to stdout: No space left on device\n");
  free(out);
}
END_TEST

/* The later stages: MLIR as codegen builds it, then the optimized LLVM IR
 * and assembly for the target; the symbols carry --name. */
START_TEST(dump_codegen_stages) {
  static const struct {
    const char *args, *want;
  } stages[] = {
      {"--stage mlir --name m1", "func.func @m1_run_profiled("},
      {"--stage llvm --name m2", "i32 @m2_run("},
      {"--stage asm --name m3", "m3_run:"},
      {"--stage asm --target aarch64 --cpu cortex-a72", "ldr\t"},
  };
  for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
    char *out;
    int rc = hloc(&out, "dump " CASE ".hlo %s", stages[i].args);
    ck_assert_msg(rc == 0, "%s: %s", stages[i].args, out);
    ck_assert_msg(strstr(out, stages[i].want), "%s: '%s' not in the dump", stages[i].args,
                  stages[i].want);
    free(out);
  }
  char *out;
  int rc = hloc(&out, "dump " CASE ".hlo --stage llvm --target sparc");
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "unknown target 'sparc'; valid targets: x86_64, aarch64, nvptx64"), "%s", out);
  free(out);
}
END_TEST

#define MNIST "testdata/tf/models/mnist_mlp"

START_TEST(run_graphdef_names_results_after_fetches) {
  char *out;
  int rc = hloc(&out, "run " MNIST ".pb --config " MNIST ".config.pbtxt --interpret --input "
                      "image=" MNIST ".in0.npy --output-dir %s",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  char path[256], msg[256];
  snprintf(path, sizeof path, "%s/probs.npy", tmpdir);
  HloLiteral *got = ck_read_npy(path), *want = ck_read_npy(MNIST ".out0.npy");
  /* the model tolerance of test_frontend_import.c */
  ck_assert_msg(ck_allclose(got, want, 1e-4, 1e-3, msg, sizeof msg), "%s", msg);
  hlo_literal_free(got);
  hlo_literal_free(want);
  ck_assert_int_eq(ck_count_files(tmpdir), 1);
}
END_TEST

START_TEST(run_graphdef_errors) {
  expect_failure(1, "needs its tfcompile config (--config FILE.pbtxt)",
                 "run " MNIST ".pb --interpret --input " MNIST ".in0.npy");
  expect_failure(1, "--config applies to TensorFlow GraphDefs and SavedModels; this is HLO text",
                 "run " CASE ".hlo --config " MNIST ".config.pbtxt --interpret");
  expect_failure(1, "--input nope=" MNIST ".in0.npy: the model has no input named 'nope' "
                    "(inputs: image)",
                 "run " MNIST ".pb --config " MNIST ".config.pbtxt --interpret --input nope="
                 MNIST ".in0.npy");
  /* A fetch name given twice is an error, not renamed "probs_2". */
  char path[128], args[512];
  write_text("dup.config.pbtxt",
             "feed { id { node_name: 'image' } shape { dim { size: 2 } dim { size: 784 } } "
             "name: 'image' }\n"
             "fetch { id { node_name: 'Identity' } name: 'probs' }\n"
             "fetch { id { node_name: 'image' } name: 'probs' }\n",
             path, sizeof path);
  snprintf(args, sizeof args, "run " MNIST ".pb --config %s --interpret --input " MNIST ".in0.npy",
           path);
  expect_failure(1, "hloc: error: fetch name 'probs' is given twice (fetches 'Identity' and "
                    "'image')\n",
                 args);
  unlink(path);
}
END_TEST


/* Writes ck_threads_hlo as DIR/threads.hlo and pseudo-random inputs as
 * DIR/in<i>.npy. */
static void write_threads_model(const char *dir) {
  char path[256];
  ck_write_file(dir, "threads.hlo", ck_threads_hlo, path, sizeof path);
  static const int64_t dims[4][4] = {{256, 256}, {256, 256}, {1, 32, 32, 16}, {3, 3, 16, 32}};
  static const int ranks[4] = {2, 2, 4, 4};
  uint32_t seed = 7;
  for (int i = 0; i < 4; i++) {
    HloShape sh = hlo_shape_array(HLO_F32, ranks[i], dims[i]);
    HloLiteral *l = hlo_literal_new(&sh);
    for (int64_t k = 0; k < hlo_shape_elements(&sh); k++) {
      seed = seed * 1664525u + 1013904223u;
      hlo_literal_set_f64(l, k, ((double)(seed >> 8) / (1 << 24) - 0.5) / 8);
    }
    snprintf(path, sizeof path, "%s/in%d.npy", dir, i);
    HloError *e = hloc_write_npy(path, l);
    ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
    hlo_literal_free(l);
  }
}

/* `run --threads N` gives the very bytes of a one-thread run, with the
 * loops split: --stats says how many the pool took. */
START_TEST(run_threads) {
  write_threads_model(tmpdir);
  const char *runs[] = {"", "--threads 1", "--threads 2", "--threads 3 --stats"};
  for (int r = 0; r < 4; r++) {
    char *out;
    int rc = hloc(&out, "run %s/threads.hlo %s --input %s/in0.npy --input %s/in1.npy --input "
                        "%s/in2.npy --input %s/in3.npy --output-dir %s/r%d",
                  tmpdir, runs[r], tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, r);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", runs[r], rc, out);
    if (r == 3) {
      const char *line = strstr(out, "threads: 3 (");
      ck_assert_msg(line, "no 'threads: 3 (' line in:\n%s", out);
      long loops = strtol(line + strlen("threads: 3 ("), NULL, 10);
      ck_assert_msg(loops >= 2, "the pool took %ld loops, not the matmul's and the "
                                "convolution's:\n%s", loops, out);
    }
    free(out);
    if (r == 0) continue;
    for (int k = 0; k < 2; k++) {
      rc = ck_sh(&out, "cmp %s/r0/result%d.npy %s/r%d/result%d.npy", tmpdir, k, tmpdir, r, k);
      ck_assert_msg(rc == 0, "%s: result%d.npy differs from the one-thread run: %s", runs[r], k,
                    out);
      free(out);
    }
  }
}
END_TEST

START_TEST(run_threads_errors) {
  static const char *const bad[] = {"0", "-2", "abc", "2x", "", "99999999999", " 2"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char args[256], want[128];
    snprintf(args, sizeof args, "run " CASE ".hlo --threads '%s'", bad[i]);
    snprintf(want, sizeof want,
             "hloc: --threads '%s': the thread count must be a whole number from 1 to 1000000",
             bad[i]);
    expect_failure(2, want, args);
  }
  expect_failure(2, "hloc: run: --threads 2 conflicts with --interpret",
                 "run " CASE ".hlo --interpret --threads 2");
  char *out;
  int rc = hloc(&out, "run " CASE ".hlo --threads");
  ck_assert_int_eq(rc, 2);
  ck_assert_msg(strstr(out, "hloc: --threads needs a value"), "%s", out);
  free(out);
}
END_TEST

/* A 3x3 convolution whose plan is Winograd F(4x4, 3x3) on x86-64-v3
 * (Inception-V3's 35²×64→96, tests/test_codegen_gemm.c's
 * winograd_form_plans), its weights small integers from an LCG. */
static void conv_hlo(const char *name, char *path, size_t len) {
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,35,35,64] parameter(0)\n"
                     "  k = f32[3,3,64,96] constant({");
  uint64_t seed = 7;
  for (int i = 0; i < 3; i++) {
    hlo_str_printf(&s, "%s{", i ? ", " : "");
    for (int j = 0; j < 3; j++) {
      hlo_str_printf(&s, "%s{", j ? ", " : "");
      for (int c = 0; c < 64; c++) {
        hlo_str_printf(&s, "%s{", c ? ", " : "");
        for (int o = 0; o < 96; o++) {
          seed = seed * 6364136223846793005u + 1442695040888963407u;
          hlo_str_printf(&s, "%s%d", o ? ", " : "", (int)(seed >> 61) - 4); /* -4..3 */
        }
        hlo_str_printf(&s, "}");
      }
      hlo_str_printf(&s, "}");
    }
    hlo_str_printf(&s, "}");
  }
  hlo_str_printf(&s, "})\n  ROOT c = f32[1,35,35,96] convolution(x, k), "
                     "window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n");
  write_text(name, s.buf, path, len);
  free(s.buf);
}

/* --conv-precision reaches codegen: on small integers `exact` gives
 * exactly the interpreter's result, in `hloc run` and in an executable
 * compiled with it, where the default (`fast`: F(4x4, 3x3)) does not; a
 * precision that is not one of the two is a usage error. */
START_TEST(run_conv_precision) {
  char hlo[128], xp[128], *out;
  conv_hlo("conv.hlo", hlo, sizeof hlo);
  static float x[35 * 35 * 64];
  for (int i = 0; i < 35 * 35 * 64; i++) x[i] = (float)((i * 7 + i / 64) % 7 - 3);
  write_f32("x.npy", x, 4, (int64_t[]){1, 35, 35, 64}, xp, sizeof xp);
  const char *runs[] = {"--interpret", "--conv-precision exact", "--conv-precision=fast", ""};
  for (int r = 0; r < 4; r++) {
    int rc = hloc(&out, "run %s --cpu x86-64-v3 %s --input %s --output-dir %s/o%d", hlo,
                  runs[r], xp, tmpdir, r);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", runs[r], rc, out);
    free(out);
  }
  int rc = hloc(&out, "compile %s --cpu x86-64-v3 --conv-precision exact -o %s/conv --emit exe",
                hlo, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  rc = ck_sh(&out, "%s/conv --input %s --output-dir %s/o4", tmpdir, xp, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  char want[160], got[160];
  snprintf(want, sizeof want, "%s/o0/result0.npy", tmpdir);
  for (int r = 1; r < 5; r++) {
    snprintf(got, sizeof got, "%s/o%d/result0.npy", tmpdir, r);
    bool exact = r == 1 || r == 4;
    ck_assert_msg(same_bytes(got, want) == exact, "%s: %s the interpreter's result",
                  r == 4 ? "the executable" : runs[r], exact ? "not" : "exactly");
  }
  snprintf(want, sizeof want, "%s/o2/result0.npy", tmpdir);
  snprintf(got, sizeof got, "%s/o3/result0.npy", tmpdir);
  ck_assert_msg(same_bytes(got, want), "--conv-precision=fast is not the default");
  rc = hloc(&out, "compile %s --conv-precision exac", hlo);
  ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
  ck_assert_str_eq(out, "hloc: --conv-precision 'exac': the precisions are exact and fast\n"
                        "run 'hloc help' for usage\n");
  free(out);
}
END_TEST

/* --atol and --rtol are finite and not negative: NaN would fail every
 * comparison and infinity pass every one, silently. */
START_TEST(run_tolerance_errors) {
  static const char *const bad[] = {"nan", "inf", "-inf", "1e999", "-1", "abc", "", "1e-3x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *option = i % 2 ? "--rtol" : "--atol";
    char args[256], want[128];
    snprintf(args, sizeof args, "run " CASE ".hlo %s '%s'", option, bad[i]);
    snprintf(want, sizeof want,
             "hloc: %s '%s': a tolerance must be a finite number, 0 or more\nrun 'hloc help' "
             "for usage\n",
             option, bad[i]);
    expect_failure(2, want, args);
  }
}
END_TEST

/* Collectives of one participant compile with and without the passes (the
 * lowering to plain HLO runs under --O0 too) and agree with the
 * interpreter. */
START_TEST(run_single_device_collectives) {
  char path[128], in[128];
  ck_write_file(tmpdir, "coll.hlo",
                "HloModule coll\n\nsum {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                "  ROOT s = f32[] add(a, b)\n}\n\nENTRY main {\n  x = f32[4] parameter(0)\n"
                "  ar = f32[4] all-reduce(x), replica_groups={}, to_apply=sum\n"
                "  ag = f32[4] all-gather(ar), dimensions={0}, replica_groups={{0}}\n"
                "  id = u32[] replica-id()\n  c = f32[] convert(id)\n"
                "  b = f32[4] broadcast(c), dimensions={}\n  ROOT r = f32[4] add(ag, b)\n}\n",
                path, sizeof path);
  snprintf(in, sizeof in, "%s/x.npy", tmpdir);
  int64_t four = 4;
  HloShape s = hlo_shape_array(HLO_F32, 1, &four);
  HloLiteral *x = hlo_literal_new(&s);
  for (int i = 0; i < 4; i++) hlo_literal_set_f64(x, i, 1.5 * i - 2);
  HloError *e = hloc_write_npy(in, x);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  hlo_literal_free(x);
  const char *modes[] = {"", "--O0", "--interpret"};
  char *printed[3];
  for (int m = 0; m < 3; m++) {
    int rc = hloc(&printed[m], "run %s %s --input %s --print --output-dir %s", path, modes[m], in,
                  tmpdir);
    ck_assert_msg(rc == 0, "%s: %s", modes[m], printed[m]);
  }
  ck_assert_str_eq(printed[0], printed[2]);
  ck_assert_str_eq(printed[1], printed[2]);
  ck_assert_msg(strstr(printed[2], "[-2, -0.5, 1, 2.5]"), "%s", printed[2]);
  for (int m = 0; m < 3; m++) free(printed[m]);
}
END_TEST

/* --opt=value is --opt value; --help per command; a misspelt option is
 * answered with the closest one. */
START_TEST(command_line_conventions) {
  char *out;
  int rc = hloc(&out, "run " CASE ".hlo --input=" CASE ".in0.npy --input=" CASE ".in1.npy "
                      "--input=" CASE ".in2.npy --output-dir=%s --expect=" CASE ".out0.npy "
                      "--atol=0",
                tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "matches the expected output"), "%s", out);
  free(out);
  rc = hloc(&out, "compile --help");
  ck_assert_msg(rc == 0 && !strncmp(out, "usage: hloc compile MODEL", 25), "%s", out);
  free(out);
  expect_failure(2, "hloc: run: unknown option '--atoll' (did you mean '--atol'?)",
                 "run " CASE ".hlo --atoll 1");
  expect_failure(2, "hloc: run: unknown option '--inptu' (did you mean '--input'?)",
                 "run " CASE ".hlo --inptu x");
  expect_failure(2, "hloc: run: unknown option '--zzzzzz'\n", "run " CASE ".hlo --zzzzzz");
  expect_failure(2, "hloc: run: option '--print' takes no value", "run " CASE ".hlo --print=1");
  expect_failure(2, "hloc: dump: option '--O0' takes no value", "dump " CASE ".hlo --O0=yes");
}
END_TEST

/* Infinities match only themselves: erfinv(±1) is ±inf. */
START_TEST(run_expect_infinities) {
  char *out;
  int rc = hloc(&out, "run testdata/tf/ops/erfinv.pb --config testdata/tf/ops/erfinv.config.pbtxt "
                      "--input testdata/tf/ops/erfinv.in0.npy --expect "
                      "testdata/tf/ops/erfinv.out0.npy --output-dir %s",
                tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "matches the expected output"), "%s", out);
  free(out);
  /* the result against its own negation: -inf is no match for inf */
  HloLiteral *want = ck_read_npy("testdata/tf/ops/erfinv.out0.npy");
  int64_t n = hlo_shape_elements(&want->shape), at = -1;
  for (int64_t i = 0; i < n; i++) {
    double v = hlo_literal_get_f64(want, i);
    if (isinf(v) && at < 0) at = i;
    hlo_literal_set_f64(want, i, -v);
  }
  ck_assert_int_ge(at, 0);
  char path[128];
  snprintf(path, sizeof path, "%s/negated.npy", tmpdir);
  HloError *e = hloc_write_npy(path, want);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  hlo_literal_free(want);
  rc = hloc(&out, "run testdata/tf/ops/erfinv.pb --config testdata/tf/ops/erfinv.config.pbtxt "
                  "--input testdata/tf/ops/erfinv.in0.npy --expect %s --output-dir %s",
            path, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "MISMATCH"), "%s", out);
  free(out);
}
END_TEST

/* A while loop whose condition is always true: x doubles for ever. */
static void write_endless(char *path, size_t n) {
  ck_write_file(tmpdir, "endless.hlo",
                "HloModule endless\n\ncond {\n  p = (s32[], f32[4]) parameter(0)\n"
                "  ROOT t = pred[] constant(true)\n}\n\n"
                "body {\n  p = (s32[], f32[4]) parameter(0)\n"
                "  i = s32[] get-tuple-element(p), index=0\n"
                "  one = s32[] constant(1)\n  next = s32[] add(i, one)\n"
                "  x = f32[4] get-tuple-element(p), index=1\n  y = f32[4] add(x, x)\n"
                "  ROOT r = (s32[], f32[4]) tuple(next, y)\n}\n\n"
                "ENTRY main {\n  x = f32[4] parameter(0)\n  zero = s32[] constant(0)\n"
                "  init = (s32[], f32[4]) tuple(zero, x)\n"
                "  loop = (s32[], f32[4]) while(init), condition=cond, body=body\n"
                "  ROOT out = f32[4] get-tuple-element(loop), index=1\n}\n",
                path, n);
}

START_TEST(run_timeout) {
  char path[128], args[512];
  write_endless(path, sizeof path);
  const char *modes[] = {"", "--interpret"};
  for (int m = 0; m < 2; m++) {
    char *out;
    time_t start = time(NULL);
    snprintf(args, sizeof args, "run %s %s --input testdata/hlo/while_fori.in0.npy --timeout 1",
             path, modes[m]);
    int before = ck_count_files(tmpdir);
    int rc = hloc(&out, "%s --output-dir %s", args, tmpdir);
    time_t took = time(NULL) - start;
    ck_assert_msg(rc == 1, "%s: exit %d: %s", modes[m], rc, out);
    /* Where: the loop's iteration, or a kernel (instruction) inside it. */
    ck_assert_msg(strstr(out, "hloc: error: timed out after 1 s at while %loop\n") ||
                      (strstr(out, "hloc: error: timed out after 1 s at %") &&
                       strstr(out, " in %loop\n")),
                  "%s: %s", modes[m], out);
    ck_assert_msg(took < 10, "%s: took %ld s", modes[m], (long)took);
    ck_assert_int_eq(ck_count_files(tmpdir), before);
    free(out);
  }
  /* A model that finishes in time is not affected. */
  char *out;
  int rc = hloc(&out, "run testdata/hlo/while_fori.hlo --input testdata/hlo/while_fori.in0.npy "
                      "--input testdata/hlo/while_fori.in1.npy --timeout 60 "
                      "--expect testdata/hlo/while_fori.out0.npy --output-dir %s",
                tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
}
END_TEST

/* The executable of `hloc compile --emit exe` takes --timeout too. */
START_TEST(executable_timeout) {
  char path[128], *out;
  write_endless(path, sizeof path);
  int rc = hloc(&out, "compile %s --name endless -o %s/endless --emit exe", path, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  time_t start = time(NULL);
  rc = ck_sh(&out, "%s/endless --input testdata/hlo/while_fori.in0.npy --timeout 0.5 "
             "--output-dir %s/o", tmpdir, tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "endless: timed out after 0.5 s at while %loop\n") ||
                    (strstr(out, "endless: timed out after 0.5 s at %") &&
                     strstr(out, " in %loop\n")),
                "%s", out);
  ck_assert_msg(time(NULL) - start < 10, "took %ld s", (long)(time(NULL) - start));
  free(out);
  char dir[160];
  snprintf(dir, sizeof dir, "%s/o", tmpdir);
  ck_assert_msg(access(dir, F_OK) != 0, "results were written");
  static const char *const bad[] = {"0", "-1", "nan", "inf", "x", "1e99"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    rc = ck_sh(&out, "%s/endless --timeout '%s'", tmpdir, bad[i]);
    ck_assert_msg(rc == 2 && strstr(out, "is not a number of seconds above 0"), "'%s': %d: %s",
                  bad[i], rc, out);
    free(out);
  }
}
END_TEST

START_TEST(run_max_iterations) {
  /* while_fori runs its body 7 times. */
  const char *run = "run testdata/hlo/while_fori.hlo --interpret --input "
                    "testdata/hlo/while_fori.in0.npy --input testdata/hlo/while_fori.in1.npy";
  char *out;
  int rc = hloc(&out, "%s --max-iterations 7 --expect testdata/hlo/while_fori.out0.npy "
                      "--output-dir %s",
                run, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  int before = ck_count_files(tmpdir);
  rc = hloc(&out, "%s --max-iterations 6 --output-dir %s", run, tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "hloc: error: %while.7 = ") &&
                    strstr(out, ": still running after 6 iterations, the evaluator's limit\n"),
                "%s", out);
  ck_assert_int_eq(ck_count_files(tmpdir), before);
  free(out);
}
END_TEST

START_TEST(run_bound_errors) {
  static const char *const bad[] = {"0", "-1", "abc", "1x", "", "nan", "inf", "1e300"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char args[256], want[160];
    snprintf(args, sizeof args, "run " CASE ".hlo --timeout '%s'", bad[i]);
    snprintf(want, sizeof want,
             "hloc: --timeout '%s': the time limit must be a positive number of seconds",
             bad[i]);
    expect_failure(2, want, args);
  }
  static const char *const bad_n[] = {"0", "-3", "1.5", "x", ""};
  for (size_t i = 0; i < sizeof bad_n / sizeof *bad_n; i++) {
    char args[256], want[160];
    snprintf(args, sizeof args, "run " CASE ".hlo --interpret --max-iterations '%s'", bad_n[i]);
    snprintf(want, sizeof want,
             "hloc: --max-iterations '%s': the limit must be a whole number of at least 1",
             bad_n[i]);
    expect_failure(2, want, args);
  }
  expect_failure(2, "hloc: run: --max-iterations 5 needs --interpret",
                 "run " CASE ".hlo --max-iterations 5");
}
END_TEST

/* docs/ops.md is generated by `hloc ops --markdown`; it must not drift. */
START_TEST(ops_doc_is_current) {
  char *out;
  int rc = hloc(&out, "ops --markdown");
  ck_assert_int_eq(rc, 0);
  char *doc = ck_read_file("docs/ops.md", NULL);
  ck_assert_msg(!strcmp(out, doc), "docs/ops.md is stale: regenerate it with "
                                   "'build/driver/hloc ops --markdown > docs/ops.md'");
  free(doc);
  free(out);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_run");
  TCase *t = tcase_create("run");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, run_positional);
  tcase_add_test(t, run_by_name_and_index);
  tcase_add_test(t, run_errors);
  tcase_add_test(t, run_format_by_content);
  tcase_add_test(t, run_native);
  tcase_add_test(t, run_tuple_parameter);
  tcase_add_test(t, run_dynamic_dims);
  tcase_add_test(t, executable_dynamic_dims);
  tcase_add_test(t, dynamic_input_past_bound);
  tcase_add_test(t, run_native_errors);
  tcase_add_test(t, run_narrow_types);
  tcase_add_test(t, run_complex_types);
  tcase_add_test(t, run_writes_all_results_or_none);
  tcase_add_test(t, executable_writes_all_results_or_none);
  tcase_add_test(t, run_interrupted_leaves_nothing);
  tcase_add_test(t, run_reports_parse_position);
  tcase_add_test(t, dump_prints_module);
  tcase_add_test(t, dump_codegen_stages);
  tcase_add_test(t, run_graphdef_names_results_after_fetches);
  tcase_add_test(t, run_graphdef_errors);
  tcase_add_test(t, run_threads);
  tcase_add_test(t, run_threads_errors);
  tcase_add_test(t, run_tolerance_errors);
  tcase_add_test(t, run_conv_precision);
  tcase_add_test(t, run_expect_infinities);
  tcase_add_test(t, command_line_conventions);
  tcase_add_test(t, run_single_device_collectives);
  tcase_add_test(t, run_timeout);
  tcase_add_test(t, executable_timeout);
  tcase_add_test(t, run_max_iterations);
  tcase_add_test(t, run_bound_errors);
  tcase_add_test(t, ops_doc_is_current);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
