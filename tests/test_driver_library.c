/*
 * test_driver_library.c — model libraries through libhloc:
 * hloc_executable_save and hloc_executable_load (driver/library.c).
 *
 * A model compiled in process is saved as a shared library, freed, and
 * loaded back: the loaded executable describes the same inputs and
 * outputs, runs to TensorFlow's stored outputs (atol 1e-4, rtol 1e-3),
 * and profiles with the TensorFlow op names.  A library made by `hloc
 * compile --emit so --name mnist` loads the same way.  With threads, a
 * loaded library's results are bit-identical to one thread's and its
 * loops really run on the pool the executable made with the library's own
 * runtime (the workers' CPU time in /proc; a pool installed in libhloc's
 * copy instead would never run).  Every bad input fails with a message
 * naming the file: no file, a directory, a file that is not ELF, an object
 * file, a shared library of another architecture, a shared library that
 * no hloc made, one of another library ABI, one of this ABI missing a
 * symbol, one compiled for a CPU feature this CPU lacks; saving a loaded library, into a
 * missing directory, or with a C compiler that fails leaves nothing
 * behind.
 *
 * CTest sets HLOC_BIN (the hloc under test) and runs from the source
 * root; the libraries are linked by `cc` (or $CC).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check_util.h"
#include "hloc.h"
#include "hloc_runtime.h"

#define MODELS "testdata/tf/models/"
#define MNIST MODELS "mnist_mlp"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-library-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  ck_assert_int_eq(ck_sh(NULL, "rm -rf %s", tmpdir), 0);
}

static char *tmp_path(const char *name) {
  static char path[8][128];
  static int next;
  char *p = path[next++ % 8];
  snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
  return p;
}

static hloc_executable *compile_mnist(void) {
  hloc_compiler *c = NULL;
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(NULL, &c, NULL), 0);
  int rc = hloc_compile_graphdef_file(c, MNIST ".pb", MNIST ".config.pbtxt", &exe, &err);
  ck_assert_msg(rc == 0, "%s", hloc_error_message(err));
  hloc_compiler_free(c);
  return exe;
}

static hloc_executable *load(const char *path) {
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc = hloc_executable_load(path, &exe, &err);
  ck_assert_msg(rc == 0, "hloc_executable_load: %s", hloc_error_message(err));
  ck_assert_ptr_null(err);
  ck_assert_ptr_nonnull(exe);
  return exe;
}

/* Runs an MNIST executable on the stored input; compares with TF's. */
static void check_mnist(hloc_executable *exe) {
  ck_assert_int_eq(hloc_executable_num_inputs(exe), 1);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), 1);
  ck_assert_str_eq(hloc_executable_input_name(exe, 0), "image");
  ck_assert_str_eq(hloc_executable_output_name(exe, 0), "probs");
  ck_assert_int_eq(hloc_executable_input_dtype(exe, 0), HLOC_DTYPE_FLOAT32);
  ck_assert_int_eq(hloc_executable_output_rank(exe, 0), 2);
  ck_assert_int_eq(hloc_executable_output_dims(exe, 0)[1], 10);
  RtArray in, want;
  char msg[256];
  ck_assert_msg(!rt_npy_read(MNIST ".in0.npy", &in, msg, sizeof msg), "%s", msg);
  ck_assert_msg(!rt_npy_read(MNIST ".out0.npy", &want, msg, sizeof msg), "%s", msg);
  ck_assert_uint_eq(hloc_executable_input_bytes(exe, 0), in.nbytes);
  ck_assert_uint_eq(hloc_executable_output_bytes(exe, 0), want.nbytes);
  float got[20];
  memset(got, 0xA5, sizeof got);
  const void *ins[] = {in.data};
  void *outs[] = {got};
  hloc_error *err = NULL;
  ck_assert_msg(hloc_execute(exe, ins, outs, &err) == 0, "%s", hloc_error_message(err));
  const float *w = want.data;
  for (int i = 0; i < 20; i++)
    ck_assert_msg(got[i] == got[i] && fabsf(got[i] - w[i]) <= 1e-4f + 1e-3f * fabsf(w[i]),
                  "probs[%d] = %g, TensorFlow %g", i, got[i], w[i]);
  rt_array_free(&in);
  rt_array_free(&want);
}

/* Profiles one run: every kernel ran once, and the report names
 * TensorFlow's ops. */
static void check_profile(hloc_executable *exe) {
  ck_assert_int_eq(hloc_executable_set_profiling(exe, 1, NULL), 0);
  check_mnist(exe);
  hloc_profile_summary sum;
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &sum, NULL), 0);
  ck_assert_uint_eq(sum.runs, 1);
  int n = hloc_executable_num_kernels(exe);
  ck_assert_int_gt(n, 0);
  bool named = false;
  for (int k = 0; k < n; k++) {
    hloc_kernel_profile p;
    ck_assert_int_eq(hloc_executable_kernel_profile(exe, k, &p, NULL), 0);
    ck_assert_uint_eq(p.calls, 1);
    named |= p.tf_op && strstr(p.tf_op, "MatMul");
  }
  ck_assert_msg(named, "no kernel names a TensorFlow MatMul");
  char report[4096];
  hloc_executable_profile_report(exe, report, sizeof report);
  ck_assert_msg(strstr(report, "1 run,") && strstr(report, "MatMul"), "%s", report);
}

/* --- round trips ------------------------------------------------------------------------------ */

START_TEST(test_save_and_load) {
  hloc_executable *exe = compile_mnist();
  hloc_error *err = NULL;
  const char *path = tmp_path("libmnist.so");
  ck_assert_msg(hloc_executable_save(exe, path, &err) == 0, "%s", hloc_error_message(err));
  ck_assert_ptr_null(err);
  hloc_executable_free(exe);
  ck_assert_int_eq(ck_count_files(tmpdir), 1); /* no temporary left */

  exe = load(path);
  check_mnist(exe);
  check_profile(exe);
  /* Its file is the library: saving it again is refused, nothing made. */
  ck_assert_int_eq(hloc_executable_save(exe, tmp_path("again.so"), &err), -1);
  ck_assert_msg(strstr(hloc_error_message(err), "again.so") &&
                    strstr(hloc_error_message(err), "loaded from a model library"),
                "%s", hloc_error_message(err));
  hloc_error_free(err);
  ck_assert_int_eq(ck_count_files(tmpdir), 1);
  /* A second load of the file is a second executable; both run. */
  hloc_executable *twice = load(path);
  check_mnist(twice);
  hloc_executable_free(exe);
  check_mnist(twice);
  hloc_executable_free(twice);
}
END_TEST

START_TEST(test_load_emit_so) {
  ck_assert_int_eq(ck_sh(NULL, "%s compile " MNIST ".pb --config " MNIST ".config.pbtxt "
                               "--name mnist --emit so -o %s/m",
                         ck_env("HLOC_BIN"), tmpdir),
                   0);
  hloc_executable *exe = load(tmp_path("libm.so"));
  check_mnist(exe);
  check_profile(exe);
  char report[256];
  hloc_executable_profile_report(exe, report, sizeof report);
  ck_assert_msg(!strncmp(report, "profile of mnist:", 17), "%s", report); /* its --name */
  hloc_executable_free(exe);
}
END_TEST

/* --- threads ---------------------------------------------------------------------------------- */

static int task_ids(int *ids, int max) {
  DIR *d = opendir("/proc/self/task");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.' && n < max) ids[n++] = atoi(e->d_name);
  closedir(d);
  return n;
}

static long long task_ticks(int tid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')');
  unsigned long long utime = 0, stime = 0;
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                   &stime) != 2)
    return 0;
  return (long long)(utime + stime);
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

enum { NIN = 4, NOUT = 2 };

/* Runs exe on `in` into fresh outputs (poisoned first). */
static void **run_threads_model(hloc_executable *exe, float *const *in) {
  void **out = calloc(NOUT, sizeof *out);
  for (int r = 0; r < NOUT; r++) {
    size_t n = hloc_executable_output_bytes(exe, r);
    out[r] = malloc(n);
    memset(out[r], 0xA5, n);
  }
  hloc_error *err = NULL;
  ck_assert_msg(hloc_execute(exe, (const void *const *)in, out, &err) == 0, "%s",
                hloc_error_message(err));
  return out;
}

static void free_outputs(void **out) {
  for (int r = 0; r < NOUT; r++) free(out[r]);
  free(out);
}

START_TEST(test_threads) {
  hloc_compiler *c = NULL;
  hloc_executable *jit = NULL;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(NULL, &c, NULL), 0);
  ck_assert_msg(hloc_compile_hlo(c, ck_threads_hlo, strlen(ck_threads_hlo), &jit, &err) == 0,
                "%s", hloc_error_message(err));
  hloc_compiler_free(c);
  ck_assert_int_eq(hloc_executable_num_inputs(jit), NIN);
  ck_assert_int_eq(hloc_executable_num_outputs(jit), NOUT);
  float *in[NIN];
  uint32_t s = 12345;
  for (int i = 0; i < NIN; i++) {
    size_t n = hloc_executable_input_bytes(jit, i) / sizeof(float);
    in[i] = malloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++) {
      s = s * 1664525u + 1013904223u;
      in[i][k] = ((float)(s >> 8) / (float)(1u << 24) - 0.5f) / 8;
    }
  }
  void **want = run_threads_model(jit, in);
  const char *path = tmp_path("libthreads.so");
  ck_assert_msg(hloc_executable_save(jit, path, &err) == 0, "%s", hloc_error_message(err));
  hloc_executable_free(jit);

  hloc_executable *exe = load(path);
  int before[256], after[256], nbefore = task_ids(before, 256);
  ck_assert_int_eq(hloc_executable_set_threads(exe, 3, &err), 0);
  ck_assert_int_eq(hloc_executable_threads(exe), 3);
  int nafter = task_ids(after, 256), workers[2], nworkers = 0;
  ck_assert_int_eq(nafter, nbefore + 2);
  for (int a = 0; a < nafter; a++) {
    bool old = false;
    for (int b = 0; b < nbefore; b++) old |= after[a] == before[b];
    if (!old && nworkers < 2) workers[nworkers++] = after[a];
  }
  ck_assert_int_eq(nworkers, 2);
  long long ticks = 0;
  int runs = 0;
  for (double t0 = seconds(); (ticks == 0 || runs < 3) && seconds() - t0 < 30; runs++) {
    void **got = run_threads_model(exe, in);
    for (int r = 0; r < NOUT; r++)
      ck_assert_msg(!memcmp(got[r], want[r], hloc_executable_output_bytes(exe, r)),
                    "run %d: output %d on 3 threads differs from the JIT's on 1", runs, r);
    free_outputs(got);
    ticks = task_ticks(workers[0]) + task_ticks(workers[1]);
  }
  ck_assert_msg(ticks > 0, "%d runs on 3 threads and the library's workers never ran a loop",
                runs);
  ck_assert_int_eq(hloc_executable_set_threads(exe, 1, &err), 0);
  void **got = run_threads_model(exe, in);
  for (int r = 0; r < NOUT; r++)
    ck_assert(!memcmp(got[r], want[r], hloc_executable_output_bytes(exe, r)));
  free_outputs(got);
  ck_assert_int_eq(hloc_executable_set_threads(exe, 2, &err), 0);
  hloc_executable_free(exe); /* stops the pool before unloading its code */
  free_outputs(want);
  for (int i = 0; i < NIN; i++) free(in[i]);
}
END_TEST

/* --- bad inputs ------------------------------------------------------------------------------- */

/* hloc_executable_load(path) fails, out NULL, with each of `want` in the
 * message. */
static void expect_load_error(const char *path, const char *const *want) {
  hloc_executable *exe = (hloc_executable *)1;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_executable_load(path, &exe, &err), -1);
  ck_assert_ptr_null(exe);
  const char *msg = hloc_error_message(err);
  for (int i = 0; want[i]; i++)
    ck_assert_msg(strstr(msg, want[i]), "load %s: message '%s' lacks '%s'", path, msg, want[i]);
  hloc_error_free(err);
}

#define EXPECT_LOAD_ERROR(path, ...) \
  expect_load_error(path, (const char *const[]){__VA_ARGS__, NULL})

/* A shared library `name` from C source `text`, by the C compiler. */
static const char *shared_library(const char *name, const char *text) {
  const char *path = tmp_path(name);
  ck_assert_int_eq(ck_sh(NULL, "printf '%%s' '%s' > %s.c && ${CC:-cc} -shared -fPIC -o %s %s.c",
                         text, path, path, path),
                   0);
  return path;
}

START_TEST(test_load_errors) {
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_executable_load(MNIST ".pb", NULL, &err), -1);
  ck_assert_str_eq(hloc_error_message(err), "hloc_executable_load: out is NULL");
  hloc_error_free(err);
  hloc_executable *exe = NULL;
  ck_assert_int_eq(hloc_executable_load(NULL, &exe, &err), -1);
  ck_assert_str_eq(hloc_error_message(err), "hloc_executable_load: path is NULL");
  hloc_error_free(err);

  EXPECT_LOAD_ERROR(tmp_path("none.so"), "none.so: No such file or directory");
  EXPECT_LOAD_ERROR(tmpdir, "not a regular file");
  EXPECT_LOAD_ERROR(MNIST ".in0.npy", MNIST ".in0.npy: not a shared library (not an ELF file)");
  const char *foreign = shared_library("libforeign.so", "int answer(void) { return 42; }\n");
  ck_assert_int_eq(ck_sh(NULL, "${CC:-cc} -c -o %s/foreign.o %s.c", tmpdir, foreign), 0);
  EXPECT_LOAD_ERROR(tmp_path("foreign.o"), "foreign.o: an ELF file, but not a shared library (a "
                    "relocatable object");
  /* The same library, marked as AArch64's (e_machine, at byte 18, EM_AARCH64 = 183). */
  ck_assert_int_eq(ck_sh(NULL, "cp %s %s/libarm.so && printf '\\267\\000' | "
                               "dd of=%s/libarm.so bs=1 seek=18 conv=notrunc 2>/dev/null",
                         foreign, tmpdir, tmpdir),
                   0);
  EXPECT_LOAD_ERROR(tmp_path("libarm.so"), "libarm.so: a shared library for AArch64, but this "
                    "process runs on x86-64");
  EXPECT_LOAD_ERROR(foreign, "libforeign.so: a shared library, but not a model library made "
                    "by hloc");
  const char *old = shared_library(
      "libold.so", "const unsigned hloc_library_abi = 999;\n"
                   "const char hloc_library_version[] = \"0.0.9\";\n");
  EXPECT_LOAD_ERROR(old, "libold.so: a model library of library ABI 999 (made by hloc 0.0.9)",
                    "compile the model again");
  char text[128];
  snprintf(text, sizeof text, "const unsigned hloc_library_abi = %d;\n", HLOC_LIBRARY_ABI);
  const char *partial = shared_library("libpartial.so", text);
  EXPECT_LOAD_ERROR(partial, "libpartial.so: a model library of hloc's ABI",
                    "without the symbol hloc_library_program");
}
END_TEST

/* An instruction-set feature this CPU lacks that LLVM can compile for, or
 * NULL when it has every candidate. */
static const char *missing_feature(void) {
#if defined(__x86_64__)
  static const char *const candidates[] = {"avxvnniint8", "avxifma", "amx-complex", "fma4",
                                           "xop", "sse4a", "tbm", "avx512vp2intersect", NULL};
#else
  static const char *const candidates[] = {"sve2", "sme", "i8mm", "bf16", NULL};
#endif
  for (int i = 0; candidates[i]; i++)
    if (hloc_cpu_has(candidates[i]) == 0) return candidates[i];
  return NULL;
}

/* Code compiled for a feature this CPU lacks never runs here: a compiled
 * executable refuses hloc_execute, but saves (for the machines that have
 * it); loading the library, or one `hloc compile --emit so` made, is
 * refused with the feature named. */
START_TEST(test_cpu_features_checked) {
  const char *f = missing_feature();
  if (!f) {
    fprintf(stderr, "test_cpu_features_checked: this CPU has every candidate feature\n");
    return;
  }
  char features[64], want[128];
  snprintf(features, sizeof features, "+%s", f);
  snprintf(want, sizeof want, "but this CPU lacks the feature %s: ", f);
  hloc_compiler_options o = {.features = features};
  hloc_compiler *c = NULL;
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(&o, &c, NULL), 0);
  int rc = hloc_compile_graphdef_file(c, MNIST ".pb", MNIST ".config.pbtxt", &exe, &err);
  ck_assert_msg(rc == 0, "%s", hloc_error_message(err));
  hloc_compiler_free(c);
  float in[2 * 784] = {0}, out[2 * 10];
  ck_assert_int_eq(hloc_execute(exe, (const void *[]){in}, (void *[]){out}, &err), -1);
  ck_assert_msg(strstr(hloc_error_message(err), "hloc_execute: model 'model' was compiled for the CPU '") &&
                    strstr(hloc_error_message(err), want),
                "%s", hloc_error_message(err));
  hloc_error_free(err);
  err = NULL;
  const char *path = tmp_path("libnew.so");
  ck_assert_msg(hloc_executable_save(exe, path, &err) == 0, "%s", hloc_error_message(err));
  hloc_executable_free(exe);
  EXPECT_LOAD_ERROR(path, "libnew.so: model 'model' was compiled for the CPU '", want);
  ck_assert_int_eq(ck_sh(NULL, "%s compile " MNIST ".pb --config " MNIST ".config.pbtxt "
                               "--name mnist --emit so --features %s -o %s/m",
                         ck_env("HLOC_BIN"), features, tmpdir),
                   0);
  EXPECT_LOAD_ERROR(tmp_path("libm.so"), "libm.so: model 'mnist' was compiled for the CPU '", want);
}
END_TEST

START_TEST(test_save_errors) {
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_executable_save(NULL, "x.so", &err), -1);
  ck_assert_str_eq(hloc_error_message(err), "hloc_executable_save: executable is NULL");
  hloc_error_free(err);
  hloc_executable *exe = compile_mnist();
  ck_assert_int_eq(hloc_executable_save(exe, NULL, &err), -1);
  ck_assert_str_eq(hloc_error_message(err), "hloc_executable_save: path is NULL");
  hloc_error_free(err);

  const char *missing = tmp_path("no/such/dir/lib.so");
  ck_assert_int_eq(hloc_executable_save(exe, missing, &err), -1);
  ck_assert_msg(strstr(hloc_error_message(err), missing) &&
                    strstr(hloc_error_message(err), "cannot write: ") &&
                    strstr(hloc_error_message(err), "No such file or directory"),
                "%s", hloc_error_message(err));
  hloc_error_free(err);

  /* A failing C compiler: an error naming the output, and neither the
   * library nor a temporary appears. */
  const char *path = tmp_path("lib.so");
  const char *cc = getenv("CC");
  char *saved = cc ? strdup(cc) : NULL;
  setenv("CC", "false", 1);
  int rc = hloc_executable_save(exe, path, &err);
  if (saved) setenv("CC", saved, 1);
  else unsetenv("CC");
  free(saved);
  ck_assert_int_eq(rc, -1);
  ck_assert_msg(strstr(hloc_error_message(err), "lib.so: the C compiler failed"), "%s",
                hloc_error_message(err));
  hloc_error_free(err);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);

  /* Saving over a library replaces it whole. */
  ck_assert_int_eq(ck_sh(NULL, "echo old > %s", path), 0);
  ck_assert_msg(hloc_executable_save(exe, path, &err) == 0, "%s", hloc_error_message(err));
  hloc_executable_free(exe);
  exe = load(path);
  check_mnist(exe);
  hloc_executable_free(exe);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("driver_library");
  TCase *tc = tcase_create("library");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_save_and_load);
  tcase_add_test(tc, test_load_emit_so);
  tcase_add_test(tc, test_threads);
  tcase_add_test(tc, test_load_errors);
  tcase_add_test(tc, test_cpu_features_checked);
  tcase_add_test(tc, test_save_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return ck_run_suite(suite()); }
