/*
 * test_driver_weights.c — `hloc compile --separate-weights`: the object
 * holds no weights (only zeroed space, N_weights), PREFIX.weights holds
 * them, and both ways of loading them give TensorFlow's results: the
 * executable (which loads the file from its own directory) and a C program
 * calling the header's N_load_weights before N_run.  A weights file that is
 * missing, truncated, a directory, not a weights file or another model's is
 * refused with a message naming it, before anything runs.
 *
 * CTest sets HLOC_BIN and runs from the source root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"

#define MODELS "testdata/tf/models"
#define MNIST MODELS "/mnist_mlp"
#define ATOL 1e-4
#define RTOL 1e-3

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-weights-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char *cc(void) { return getenv("CC") && *getenv("CC") ? getenv("CC") : "cc"; }

static void expect_close(const char *got, const char *want) {
  HloLiteral *g = ck_read_npy(got), *w = ck_read_npy(want);
  char msg[256];
  ck_assert_msg(ck_allclose(g, w, ATOL, RTOL, msg, sizeof msg), "%s: %s", got, msg);
  hlo_literal_free(g);
  hlo_literal_free(w);
}

static long file_size(const char *dir, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat st;
  ck_assert_msg(stat(path, &st) == 0, "no %s", path);
  return (long)st.st_size;
}

/* The value of "#define NAME <number>" in the header text. */
static long header_number(const char *header, const char *name) {
  char key[128];
  snprintf(key, sizeof key, "#define %s ", name);
  const char *p = strstr(header, key);
  ck_assert_msg(p != NULL, "%s not in the header", key);
  return strtol(p + strlen(key), NULL, 10);
}

static void compile_mnist(void) {
  char *out;
  int rc = ck_sh(&out, "%s compile " MNIST ".pb --config " MNIST ".config.pbtxt --name mnist -o "
                 "%s/mnist --emit obj,header,exe --separate-weights",
                 ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "hloc compile exit %d: %s", rc, out);
  free(out);
}

START_TEST(weights_live_in_their_file) {
  compile_mnist();
  char path[256], *header;
  snprintf(path, sizeof path, "%s/mnist.h", tmpdir);
  header = ck_read_file(path, NULL);
  long bytes = header_number(header, "mnist_WEIGHTS_BYTES");
  ck_assert_msg(strstr(header, "extern unsigned char mnist_weights[];"), "%s", header);
  ck_assert_msg(strstr(header, "static inline int mnist_load_weights("), "%s", header);
  free(header);
  /* The MLP's two dense layers: 784x128 + 128 + 128x10 + 10 floats. */
  ck_assert_int_ge(bytes, (784 * 128 + 128 * 10) * 4);
  ck_assert_int_eq(file_size(tmpdir, "mnist.weights"), 64 + bytes);
  ck_assert_int_lt(file_size(tmpdir, "mnist.o"), bytes / 4);

  char *out;
  int rc = ck_sh(&out, "%s/mnist --input " MNIST ".in0.npy --output-dir %s/exe", tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "exe exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/exe/probs.npy", tmpdir);
  expect_close(path, MNIST ".out0.npy");

  /* A host program: load the weights, then run. */
  snprintf(path, sizeof path, "%s/host.c", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("#include <stdio.h>\n#include <stdlib.h>\n#include \"mnist.h\"\n"
        "int main(int argc, char **argv) {\n"
        "  char err[1024];\n"
        "  if (mnist_load_weights(argv[1], err, sizeof err)) { puts(err); return 3; }\n"
        "  RtArray in;\n"
        "  if (rt_npy_read(argv[2], &in, err, sizeof err)) { puts(err); return 4; }\n"
        "  static float probs[mnist_RESULT0_ELEMENTS];\n"
        "  void *scratch = aligned_alloc(mnist_SCRATCH_ALIGN, (mnist_SCRATCH_BYTES + 63) / 64 * 64);\n"
        "  if (mnist_run(in.data, probs, scratch)) return 5;\n"
        "  const int64_t dims[RT_MAX_RANK] = mnist_RESULT0_DIMS;\n"
        "  RtArray out = {.dtype = mnist_RESULT0_DTYPE, .rank = mnist_RESULT0_RANK,\n"
        "                 .data = probs, .nbytes = mnist_RESULT0_BYTES};\n"
        "  for (int k = 0; k < out.rank; k++) out.dims[k] = dims[k];\n"
        "  if (rt_npy_write(argv[3], &out, err, sizeof err)) { puts(err); return 6; }\n"
        "  return 0;\n}\n",
        f);
  fclose(f);
  rc = ck_sh(&out, "%s -std=c17 -Wall -Werror -I%s -Iruntime -o %s/host %s/host.c %s/mnist.o "
             "%s/libhloc_runtime.a -lm -pthread",
             cc(), tmpdir, tmpdir, tmpdir, tmpdir, ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "building the host failed: %s", out);
  free(out);
  rc = ck_sh(&out, "%s/host %s/mnist.weights " MNIST ".in0.npy %s/host.npy", tmpdir, tmpdir,
             tmpdir);
  ck_assert_msg(rc == 0, "host exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/host.npy", tmpdir);
  expect_close(path, MNIST ".out0.npy");
}
END_TEST

START_TEST(bad_weights_files_are_refused) {
  compile_mnist();
  /* $W is the weights file, $S a good copy of it. */
  static const struct {
    const char *prepare, *msg;
  } cases[] = {
      {"mv $W $S", "cannot open weights file 'DIR/mnist.weights': No such file or directory"},
      {"mkdir $W", "weights file 'DIR/mnist.weights' is not a regular file"},
      {"rmdir $W && cp $S $W && truncate -s -1 $W",
       "weights file 'DIR/mnist.weights' holds 409600 bytes of weights in 409663 bytes, but the "
       "model needs 409600"},
      {"printf 'not weights at all' > $W", "'DIR/mnist.weights' is not an hloc weights file"},
      {"cp $S $W && printf '\\001' | dd of=$W bs=1 seek=16 conv=notrunc 2>/dev/null",
       "weights file 'DIR/mnist.weights' belongs to another model"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *out;
    int rc = ck_sh(&out, "cd %s && W=mnist.weights S=saved.weights && %s", tmpdir,
                   cases[i].prepare);
    ck_assert_msg(rc == 0, "preparing '%s': %s", cases[i].prepare, out);
    free(out);
    rc = ck_sh(&out, "%s/mnist --input " MNIST ".in0.npy --output-dir %s/o", tmpdir, tmpdir);
    char want[512];
    const char *dir = strstr(cases[i].msg, "DIR/");
    snprintf(want, sizeof want, "mnist: error: %.*s%s/%s", (int)(dir - cases[i].msg),
             cases[i].msg, tmpdir, dir + 4);
    ck_assert_msg(rc == 1, "'%s': exit %d: %s", cases[i].prepare, rc, out);
    ck_assert_msg(strstr(out, want), "'%s': '%s' not in: %s", cases[i].prepare, want, out);
    free(out);
    char o[128];
    snprintf(o, sizeof o, "%s/o", tmpdir);
    ck_assert_msg(access(o, F_OK) != 0, "'%s': the model ran", cases[i].prepare);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_weights");
  TCase *t = tcase_create("weights");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_set_timeout(t, 300);
  tcase_add_test(t, weights_live_in_their_file);
  tcase_add_test(t, bad_weights_files_are_refused);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
