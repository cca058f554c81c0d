/*
 * test_driver_savedmodel.c — SavedModels and checkpoints through the
 * `hloc` command: every case of testdata/tf/savedmodels compiled to native
 * code and run with its signature and input shapes against TensorFlow's
 * outputs (`hloc run --expect`), a GraphDef frozen by --checkpoint, `hloc
 * inspect` (listing and config template, the template compiled once its
 * -1 is filled in), the options' misuses and the formats hloc does not
 * read, each with its message and exit status, and libhloc's
 * hloc_compile_model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "hloc.h"

#define DIR "testdata/tf/savedmodels"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-sm-XXXXXX");
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

static void expect(int want_rc, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect(int want_rc, const char *want, const char *fmt, ...) {
  char args[4096], *out;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  int rc = hloc(&out, "%s", args);
  ck_assert_msg(rc == want_rc, "hloc %s: exit %d (want %d): %s", args, rc, want_rc, out);
  ck_assert_msg(strstr(out, want) != NULL, "hloc %s: '%s' not in: %s", args, want, out);
  free(out);
}

/* hloc run natively on every MANIFEST case, compared by --expect. */
START_TEST(run_every_saved_model) {
  FILE *f = fopen(DIR "/MANIFEST", "r");
  ck_assert_ptr_nonnull(f);
  char line[1024];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    char name[64], dir[64], sig[64];
    int nin, nout, used;
    ck_assert_int_eq(sscanf(line, "%63s %63s %63s %d %d%n", name, dir, sig, &nin, &nout, &used),
                     5);
    HloStr args = {0};
    hlo_str_printf(&args, "run " DIR "/%s --signature %s --output-dir %s --atol 1e-4 --rtol 1e-3",
                   dir, sig, tmpdir);
    for (char *tok = strtok(line + used, " \n"); tok; tok = strtok(NULL, " \n"))
      hlo_str_printf(&args, " --input-shape %s", tok);
    for (int k = 0; k < nin; k++) hlo_str_printf(&args, " --input " DIR "/%s.in%d.npy", name, k);
    for (int k = 0; k < nout; k++)
      hlo_str_printf(&args, " --expect " DIR "/%s.out%d.npy", name, k);
    char *out;
    int rc = hloc(&out, "%s", args.buf);
    ck_assert_msg(rc == 0, "%s: %s", name, out);
    ck_assert_msg(strstr(out, "matches the expected output"), "%s: %s", name, out);
    free(out);
    free(args.buf);
    n++;
  }
  fclose(f);
  ck_assert_int_ge(n, 7);
}
END_TEST

START_TEST(checkpoint_option) {
  expect(0, "y: matches the expected output",
         "run " DIR "/tf1_graph.pbtxt --config " DIR "/tf1_graph.config.pbtxt --checkpoint " DIR
         "/tf1_graph.ckpt --input " DIR "/tf1_graph.in0.npy --expect " DIR
         "/tf1_graph.out0.npy --output-dir %s",
         tmpdir);
  expect(1, "hloc: error: node 'w' (VariableV2): the variable has no value: give the checkpoint",
         "run " DIR "/tf1_graph.pbtxt --config " DIR "/tf1_graph.config.pbtxt --input " DIR
         "/tf1_graph.in0.npy --output-dir %s",
         tmpdir);
  expect(1, "tf1_graph.missing.index: cannot open",
         "compile " DIR "/tf1_graph.pbtxt --config " DIR "/tf1_graph.config.pbtxt --checkpoint " DIR
         "/tf1_graph.missing -o %s/m",
         tmpdir);
  /* the failures wrote nothing: only the first run's y.npy is there */
  char *out;
  ck_assert_int_eq(ck_sh(&out, "ls -A %s", tmpdir), 0);
  ck_assert_str_eq(out, "y.npy\n");
  free(out);
}
END_TEST

START_TEST(compile_saved_model) {
  expect(0, "", "compile " DIR "/module_multi --signature lookup -o %s/lookup --name lookup",
         tmpdir);
  char path[128];
  snprintf(path, sizeof path, "%s/lookup.h", tmpdir);
  size_t len;
  char *h = ck_read_file(path, &len);
  ck_assert_msg(strstr(h, "ids") && strstr(h, "scale") && strstr(h, "rows"), "%s", h);
  free(h);
}
END_TEST

START_TEST(inspect_lists_and_templates) {
  expect(0, "  signature 'serving_default' (tensorflow/serving/predict)\n"
            "    input  x: DT_FLOAT (-1, 4)  serving_default_x:0\n"
            "    output y: DT_FLOAT (-1, 3)  StatefulPartitionedCall_1:0\n"
            "    output z: DT_FLOAT (-1)  StatefulPartitionedCall_1:1\n",
         "inspect " DIR "/module_multi");
  expect(0, "  placeholder x: DT_FLOAT (2, 3)\n  likely fetch y (Identity)\n",
         "inspect " DIR "/tf1_graph.pbtxt");
  /* the template, with its -1 filled in, compiles and runs like the
   * signature */
  char *out;
  ck_assert_int_eq(hloc(&out, "inspect " DIR "/module_multi --config-template > %s/t.pbtxt",
                        tmpdir),
                   0);
  free(out);
  ck_assert_int_eq(ck_sh(&out, "sed -i 's/size: -1/size: 3/' %s/t.pbtxt", tmpdir), 0);
  free(out);
  expect(0, "z: matches the expected output",
         "run " DIR "/module_multi --config %s/t.pbtxt --input " DIR
         "/module_multi.in0.npy --expect " DIR "/module_multi.out0.npy --expect " DIR
         "/module_multi.out1.npy --output-dir %s",
         tmpdir, tmpdir);
  expect(1, "hloc: error: " DIR "/module_multi: no signature 'x'",
         "inspect " DIR "/module_multi --config-template --signature x");
  expect(2, "inspect: --checkpoint does not apply",
         "inspect " DIR "/tf1_graph.pbtxt --checkpoint x");
}
END_TEST

START_TEST(options_and_formats) {
  expect(2, "--input-shape 'x=1,,2': dimensions are whole numbers",
         "run " DIR "/module_multi --input-shape x=1,,2");
  expect(2, "--input-shape 'x': expected NAME=D,D,...", "run " DIR "/module_multi --input-shape x");
  expect(2, "--input-shape: input 'x' is given twice",
         "run " DIR "/module_multi --input-shape x=1,4 --input-shape x=2,4");
  expect(1, "--tag applies to SavedModels; this is a TensorFlow GraphDef",
         "run " DIR "/tf1_graph.pbtxt --config " DIR "/tf1_graph.config.pbtxt --tag serve");
  expect(1, "--checkpoint applies to TensorFlow GraphDefs; this is a SavedModel",
         "run " DIR "/nested --checkpoint " DIR "/tf1_graph.ckpt");
  expect(1, "testdata/tf: a directory, but not a SavedModel (it holds no saved_model.pb)",
         "dump testdata/tf");
  char path[128];
  snprintf(path, sizeof path, "%s/m.h5", tmpdir);
  FILE *f = fopen(path, "wb");
  fwrite("\x89HDF\r\n\x1a\n\0\0\0\0", 1, 12, f);
  fclose(f);
  expect(1, "m.h5: a Keras HDF5 model (.h5), which hloc does not read: load it with "
            "keras.models.load_model, then export a SavedModel",
         "compile %s", path);
  snprintf(path, sizeof path, "%s/m.tflite", tmpdir);
  f = fopen(path, "wb");
  fwrite("\x1c\0\0\0TFL3\0\0\0\0", 1, 12, f);
  fclose(f);
  expect(1, "m.tflite: a TensorFlow Lite flatbuffer (.tflite), which hloc does not read",
         "run %s", path);
}
END_TEST

/* libhloc: hloc_compile_model with a signature and an input shape. */
START_TEST(library_compiles_saved_models) {
  hloc_compiler *c;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(NULL, &c, &err), 0);
  const char *names[] = {"x"};
  const int ranks[] = {2};
  const int64_t dims0[] = {3, 4};
  const int64_t *dims[] = {dims0};
  hloc_model_options o = {.num_input_shapes = 1, .input_shape_names = names,
                          .input_shape_ranks = ranks, .input_shape_dims = dims};
  hloc_executable *exe = NULL;
  int rc = hloc_compile_model(c, DIR "/module_multi", &o, &exe, &err);
  ck_assert_msg(rc == 0, "%s", hloc_error_message(err));
  ck_assert_int_eq(hloc_executable_num_inputs(exe), 1);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), 2);
  ck_assert_str_eq(hloc_executable_output_name(exe, 0), "y");
  ck_assert_str_eq(hloc_executable_output_name(exe, 1), "z");
  HloLiteral *x = ck_read_npy(DIR "/module_multi.in0.npy");
  HloLiteral *y = ck_read_npy(DIR "/module_multi.out0.npy");
  HloLiteral *z = ck_read_npy(DIR "/module_multi.out1.npy");
  HloLiteral *gy = hlo_literal_clone(y), *gz = hlo_literal_clone(z);
  const void *in[] = {x->data};
  void *outs[] = {gy->data, gz->data};
  ck_assert_int_eq(hloc_execute(exe, in, outs, &err), 0);
  char msg[256];
  ck_assert_msg(ck_allclose(gy, y, 1e-4, 1e-3, msg, sizeof msg), "%s", msg);
  ck_assert_msg(ck_allclose(gz, z, 1e-4, 1e-3, msg, sizeof msg), "%s", msg);
  hloc_executable_free(exe);
  exe = NULL;
  o.num_input_shapes = 0;
  ck_assert_int_eq(hloc_compile_model(c, DIR "/module_multi", &o, &exe, &err), -1);
  ck_assert_ptr_null(exe);
  ck_assert_str_eq(hloc_error_message(err),
                   DIR "/module_multi: signature 'serving_default': input 'x' has the saved "
                       "shape (-1, 4), fixed only at run time: give it a static shape "
                       "(--input-shape x=N,...; libhloc and Python: input_shapes)");
  hloc_error_free(err);
  err = NULL;
  o.num_input_shapes = 1;
  o.input_shape_dims = NULL;
  ck_assert_int_eq(hloc_compile_model(c, DIR "/module_multi", &o, &exe, &err), -1);
  ck_assert_str_eq(hloc_error_message(err),
                   "hloc_compile_model: num_input_shapes is 1 but a shape array is NULL");
  hloc_error_free(err);
  for (HloLiteral **l = (HloLiteral *[]){x, y, z, gy, gz, NULL}; *l; l++) hlo_literal_free(*l);
  hloc_compiler_free(c);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_savedmodel");
  TCase *t = tcase_create("savedmodel");
  tcase_set_timeout(t, 600);
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, run_every_saved_model);
  tcase_add_test(t, checkpoint_option);
  tcase_add_test(t, compile_saved_model);
  tcase_add_test(t, inspect_lists_and_templates);
  tcase_add_test(t, options_and_formats);
  tcase_add_test(t, library_compiles_saved_models);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
