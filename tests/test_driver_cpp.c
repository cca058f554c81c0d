/*
 * test_driver_cpp.c — `hloc compile --emit cpp`: the C++ class in the shape
 * of tfcompile's, used the way tfcompile_test.cc uses its classes.
 *
 * Each case compiles a testdata model with --emit obj,cpp, writes a C++
 * program that sets the arguments through the class (element accessors,
 * set_argN_data, argN_data), runs it and checks the results against
 * TensorFlow's outputs (the .npy files, read with the runtime's
 * rt_npy_read), the name lookups, program_shape() and the error paths;
 * builds it with -Wall -Wextra -Werror -pedantic against the object and
 * the runtime archive, and runs it: its exit status is the verdict, its
 * output the account of a failed check.  Cases: the MNIST MLP (default
 * class name, a thread pool, profiling with TensorFlow's op names,
 * cancellation), three inputs and three results
 * of three dtypes in a namespaced class (both allocation modes), and
 * scalars (rank-0 accessors; the profile of a while loop's kernels).
 *
 * Then the option's contract: bad --cpp-class values with their exact
 * usage messages, nothing written; a class named like its own member; an
 * accessor a config name would duplicate left out; the header as C++11.
 *
 * Runs $HLOC_BIN, links $HLOC_RUNTIME_DIR/libhloc_runtime.a, compiles with
 * $HLOC_CXX (all set by CTest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"

#define OPS "testdata/tf/ops/"
#define MODELS "testdata/tf/models/"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-cpp-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char *out;
  ck_assert_int_eq(ck_sh(&out, "rm -rf %s", tmpdir), 0);
  free(out);
}

/* What every test program starts with: a CHECK that counts failures and
 * prints them, and a .npy reader that exits on error. */
static const char prelude[] =
    "#include <cmath>\n"
    "#include <cstdio>\n"
    "#include <cstdlib>\n"
    "#include <cstring>\n"
    "#include <string>\n"
    "#include <type_traits>\n"
    "#include <utility>\n"
    "\n"
    "#include \"hloc_runtime.h\"\n"
    "\n"
    "static int failures = 0;\n"
    "#define CHECK(cond)                                                         \\\n"
    "  do {                                                                     \\\n"
    "    if (!(cond)) {                                                         \\\n"
    "      std::printf(\"line %d: CHECK(%s) failed\\n\", __LINE__, #cond);        \\\n"
    "      failures++;                                                          \\\n"
    "    }                                                                      \\\n"
    "  } while (0)\n"
    "\n"
    "static RtArray load(const char *path) {\n"
    "  RtArray a;\n"
    "  char err[256];\n"
    "  if (rt_npy_read(path, &a, err, sizeof err)) {\n"
    "    std::printf(\"%s\\n\", err);\n"
    "    std::exit(1);\n"
    "  }\n"
    "  return a;\n"
    "}\n"
    "\n"
    "template <typename T> static const T *values(const RtArray &a) {\n"
    "  return static_cast<const T *>(a.data);\n"
    "}\n";

/* The MNIST MLP under its default class name: arguments copied in,
 * results read by element and compared with the model tolerance, run on a
 * thread pool, then cancelled and run again. */
static const char mnist_program[] =
    "#include \"mnist_mlp.hpp\"\n"
    "\n"
    "int main() {\n"
    "  RtArray image = load(\"" MODELS "mnist_mlp.in0.npy\");\n"
    "  RtArray probs = load(\"" MODELS "mnist_mlp.out0.npy\");\n"
    "  static_assert(MnistMlp::kNumArgs == 1 && MnistMlp::kNumResults == 1, \"counts\");\n"
    "  static_assert(std::is_same<decltype(std::declval<MnistMlp &>().result0(0, 0)),\n"
    "                             float &>::value, \"result0\");\n"
    "  MnistMlp comp;\n"
    "  CHECK(comp.arg_image_size() == image.nbytes);\n"
    "  std::memcpy(comp.arg_image_data(), image.data, comp.arg_image_size());\n"
    "  RtThreadPool *pool = rt_threadpool_create(4);\n"
    "  comp.set_thread_pool(pool);\n"
    "  bool ok = comp.Run();\n"
    "  if (!ok) std::puts(comp.error_msg().c_str());\n"
    "  CHECK(ok && comp.error_msg().empty());\n"
    "  CHECK(hloc_used_thread_pool() == nullptr);\n"
    "  for (size_t i = 0; i < 2; i++)\n"
    "    for (size_t j = 0; j < 10; j++) {\n"
    "      float got = comp.result0(i, j), want = values<float>(probs)[i * 10 + j];\n"
    "      CHECK(std::fabs(got - want) <= 1e-4 + 1e-3 * std::fabs(want));\n"
    "      CHECK(&comp.result_probs(i, j) == &comp.result0(i, j));\n"
    "    }\n"
    "  CHECK(comp.result_probs_data() == comp.result0_data());\n"
    "  CHECK(comp.result0_count() == 20 && comp.result0_size() == 80);\n"
    "  CHECK(comp.LookupArgIndex(\"image\") == 0 && comp.LookupResultIndex(\"probs\") == 0);\n"
    "  CHECK(comp.LookupArgIndex(\"probs\") == -1);\n"
    "  CHECK(std::string(comp.program_shape()) == \"(image: f32[2,784]) -> (probs: f32[2,10])\");\n"
    "\n"
    "  CHECK(!comp.hlo_profiling_enabled() && comp.profiled_runs() == 0);\n"
    "  CHECK(comp.profile_report().rfind(\"profile of mnist_mlp: 0 runs\", 0) == 0);\n"
    "  CHECK(comp.set_profiling(true) && comp.hlo_profiling_enabled());\n"
    "  for (int r = 0; r < 3; r++) CHECK(comp.Run());\n"
    "  CHECK(std::fabs(comp.result0(1, 9) - values<float>(probs)[19]) <= 1e-3);\n"
    "  CHECK(comp.profiled_runs() == 3 && comp.profiled_seconds() > 0);\n"
    "  CHECK(MnistMlp::num_kernels() > 0 &&\n"
    "        MnistMlp::num_kernels() == MnistMlp::program().num_kernels);\n"
    "  bool matmul = false;\n"
    "  double in_kernels = 0;\n"
    "  for (int k = 0; k < MnistMlp::num_kernels(); k++) {\n"
    "    CHECK(comp.kernel_calls(k) == 3);\n"
    "    in_kernels += comp.kernel_seconds(k);\n"
    "    const char *op = MnistMlp::kernel_info(k).tf_op;\n"
    "    matmul |= op && std::strstr(op, \"MatMul\");\n"
    "  }\n"
    "  CHECK(matmul && in_kernels > 0 && in_kernels <= comp.profiled_seconds());\n"
    "  const std::string report = comp.profile_report();\n"
    "  CHECK(report.rfind(\"profile of mnist_mlp: 3 runs\", 0) == 0);\n"
    "  CHECK(report.find(\"MatMul\") != std::string::npos);\n"
    "  CHECK(comp.set_profiling(false) && comp.Run() && comp.profiled_runs() == 3);\n"
    "  comp.clear_profile();\n"
    "  CHECK(comp.profiled_runs() == 0 && comp.kernel_calls(0) == 0);\n"
    "\n"
    "  int32_t stop = 1;\n"
    "  comp.set_cancel_flag(&stop);\n"
    "  CHECK(MnistMlp::program().num_cancel_points > 0);\n"
    "  CHECK(!comp.Run());\n"
    "  CHECK(comp.error_msg().rfind(\"cancelled at %\", 0) == 0);\n"
    "  stop = 0;\n"
    "  CHECK(comp.Run() && comp.error_msg().empty());\n"
    "  CHECK(std::fabs(comp.result0(1, 9) - values<float>(probs)[19]) <= 1e-3);\n"
    "  rt_threadpool_free(pool);\n"
    "  rt_array_free(&image);\n"
    "  rt_array_free(&probs);\n"
    "  return failures ? 1 : 0;\n"
    "}\n";

/* f32[2,3], s32[4] and pred[3] in, the same out (exact), in a namespaced
 * class; then the caller's argument buffers (results and temps only). */
static const char multi_program[] =
    "#include \"multi.hpp\"\n"
    "\n"
    "using foo::bar::Multi;\n"
    "\n"
    "int main() {\n"
    "  RtArray a = load(\"" OPS "placeholder_multi.in0.npy\");\n"
    "  RtArray b = load(\"" OPS "placeholder_multi.in1.npy\");\n"
    "  RtArray c = load(\"" OPS "placeholder_multi.in2.npy\");\n"
    "  RtArray want[3] = {load(\"" OPS "placeholder_multi.out0.npy\"),\n"
    "                     load(\"" OPS "placeholder_multi.out1.npy\"),\n"
    "                     load(\"" OPS "placeholder_multi.out2.npy\")};\n"
    "  static_assert(Multi::kNumArgs == 3 && Multi::kNumResults == 3, \"counts\");\n"
    "  static_assert(std::is_same<decltype(std::declval<Multi &>().arg0(0, 0)), float &>::value,\n"
    "                \"arg0\");\n"
    "  static_assert(std::is_same<decltype(std::declval<Multi &>().arg_b(0)), int32_t &>::value,\n"
    "                \"arg_b\");\n"
    "  static_assert(std::is_same<decltype(std::declval<const Multi &>().result_not_c(0)),\n"
    "                             const uint8_t &>::value, \"result_not_c\");\n"
    "  Multi comp;\n"
    "  for (size_t i = 0; i < 2; i++)\n"
    "    for (size_t j = 0; j < 3; j++) comp.arg0(i, j) = values<float>(a)[i * 3 + j];\n"
    "  std::memcpy(comp.arg1_data(), b.data, comp.arg1_size());\n"
    "  for (size_t i = 0; i < comp.arg_c_count(); i++) comp.arg_c(i) = values<uint8_t>(c)[i];\n"
    "  bool ok = comp.Run();\n"
    "  if (!ok) std::puts(comp.error_msg().c_str());\n"
    "  CHECK(ok);\n"
    "  for (size_t i = 0; i < 2; i++)\n"
    "    for (size_t j = 0; j < 3; j++)\n"
    "      CHECK(comp.result0(i, j) == values<float>(want[0])[i * 3 + j]);\n"
    "  CHECK(comp.result1_size() == want[1].nbytes);\n"
    "  CHECK(std::memcmp(comp.result_b1_data(), want[1].data, want[1].nbytes) == 0);\n"
    "  for (size_t i = 0; i < 3; i++) CHECK(comp.result2(i) == values<uint8_t>(want[2])[i]);\n"
    "  CHECK(Multi::LookupArgIndex(\"b\") == 1 && comp.LookupResultIndex(\"not_c\") == 2);\n"
    "  CHECK(comp.LookupArgIndex(\"x\") == -1 && comp.LookupResultIndex(\"a\") == -1);\n"
    "  CHECK(std::string(Multi::ArgNames()[2]) == \"c\" && Multi::ArgNames()[3] == nullptr);\n"
    "  CHECK(std::string(Multi::ResultNames()[1]) == \"b1\" && !Multi::ResultNames()[3]);\n"
    "  CHECK(std::string(comp.program_shape()) ==\n"
    "        \"(a: f32[2,3], b: s32[4], c: pred[3]) -> \"\n"
    "        \"(a2: f32[2,3], b1: s32[4], not_c: pred[3])\");\n"
    "  CHECK(comp.num_args() == 3 && comp.num_results() == 3 && Multi::ArgSize(1) == 16);\n"
    "  CHECK(comp.result_size(2) == 3 && &Multi::program() == &multi_program);\n"
    "\n"
    "  Multi borrowed(Multi::AllocMode::RESULTS_PROFILES_AND_TEMPS_ONLY);\n"
    "  CHECK(borrowed.arg0_data() == nullptr && borrowed.result0_data() != nullptr);\n"
    "  CHECK(!borrowed.Run());\n"
    "  CHECK(borrowed.error_msg() == \"argument 0 ('a') is not set: call set_arg0_data\");\n"
    "  borrowed.set_arg0_data(a.data);\n"
    "  borrowed.set_arg_b_data(b.data);\n"
    "  CHECK(!borrowed.Run());\n"
    "  CHECK(borrowed.error_msg() == \"argument 2 ('c') is not set: call set_arg2_data\");\n"
    "  borrowed.set_arg_data(2, c.data);\n"
    "  CHECK(borrowed.arg1_data() == b.data && borrowed.arg_c_data() == c.data);\n"
    "  CHECK(borrowed.Run() && borrowed.error_msg().empty());\n"
    "  for (size_t k = 0; k < 3; k++)\n"
    "    CHECK(std::memcmp(borrowed.result_data(k), want[k].data, want[k].nbytes) == 0);\n"
    "  for (RtArray *x : {&a, &b, &c, &want[0], &want[1], &want[2]}) rt_array_free(x);\n"
    "  return failures ? 1 : 0;\n"
    "}\n";

/* A scalar argument and a scalar result: accessors of no index. */
static const char scalar_program[] =
    "#include \"trip.hpp\"\n"
    "\n"
    "int main() {\n"
    "  RtArray n = load(\"" OPS "while_dynamic_trip.in0.npy\");\n"
    "  RtArray x = load(\"" OPS "while_dynamic_trip.in1.npy\");\n"
    "  RtArray s = load(\"" OPS "while_dynamic_trip.out0.npy\");\n"
    "  RtArray acc = load(\"" OPS "while_dynamic_trip.out1.npy\");\n"
    "  hloc_test::Trip comp;\n"
    "  comp.arg_n() = values<int32_t>(n)[0];\n"
    "  for (size_t i = 0; i < 3; i++) comp.arg1(i) = values<float>(x)[i];\n"
    "  CHECK(comp.arg0() == values<int32_t>(n)[0] && comp.arg0_count() == 1);\n"
    "  CHECK(comp.Run());\n"
    "  const hloc_test::Trip &done = comp;\n"
    "  float want = values<float>(acc)[0];\n"
    "  CHECK(std::fabs(done.result_acc() - want) <= 1e-5 + 1e-5 * std::fabs(want));\n"
    "  for (size_t i = 0; i < 3; i++) {\n"
    "    want = values<float>(s)[i];\n"
    "    CHECK(std::fabs(done.result0(i) - want) <= 1e-5 + 1e-5 * std::fabs(want));\n"
    "  }\n"
    "  CHECK(std::string(comp.program_shape()) == \"(n: s32[], x: f32[3]) -> (s: f32[3], acc: "
    "f32[])\");\n"
    "  // Profiled twice: a kernel of the loop's body counts every iteration.\n"
    "  CHECK(comp.set_profiling(true) && comp.Run() && comp.Run());\n"
    "  const int32_t trips = values<int32_t>(n)[0];\n"
    "  bool in_loop = false;\n"
    "  for (int k = 0; k < comp.num_kernels(); k++)\n"
    "    if (hloc_test::Trip::kernel_info(k).loop) {\n"
    "      in_loop = true;\n"
    "      CHECK(comp.kernel_calls(k) >= 2u * static_cast<uint64_t>(trips));\n"
    "    } else {\n"
    "      CHECK(comp.kernel_calls(k) == 2);\n"
    "    }\n"
    "  CHECK(in_loop && trips > 1);\n"
    "  CHECK(comp.profile_report().find(\" in %while\") != std::string::npos);\n"
    "  for (RtArray *a : {&n, &x, &s, &acc}) rt_array_free(a);\n"
    "  return failures ? 1 : 0;\n"
    "}\n";

typedef struct CppCase {
  const char *model;   /* testdata path without .pb */
  const char *name;    /* --name, also the file prefix */
  const char *cls;     /* --cpp-class, or NULL for the default */
  const char *program; /* the test program, after the prelude */
} CppCase;

static const CppCase cases[] = {
    {MODELS "mnist_mlp", "mnist_mlp", NULL, mnist_program},
    {OPS "placeholder_multi", "multi", "foo::bar::Multi", multi_program},
    {OPS "while_dynamic_trip", "trip", "hloc_test::Trip", scalar_program},
};

START_TEST(test_class_runs) {
  const CppCase *c = &cases[_i];
  char *out;
  int rc = ck_sh(&out, "%s compile %s.pb --config %s.config.pbtxt --name %s -o %s/%s "
                       "--emit obj,cpp%s%s",
                 ck_env("HLOC_BIN"), c->model, c->model, c->name, tmpdir, c->name,
                 c->cls ? " --cpp-class " : "", c->cls ? c->cls : "");
  ck_assert_msg(rc == 0, "%s: compile: exit %d: %s", c->name, rc, out);
  free(out);
  char path[128];
  snprintf(path, sizeof path, "%s/%s.h", tmpdir, c->name);
  ck_assert_msg(access(path, R_OK) == 0, "--emit cpp did not write %s", path);
  snprintf(path, sizeof path, "%s/test.cc", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(prelude, f);
  fputs(c->program, f);
  ck_assert_int_eq(fclose(f), 0);

  rc = ck_sh(&out, "'%s' -std=c++17 -Wall -Wextra -Werror -pedantic -I runtime -I %s "
                   "-o %s/test %s %s/%s.o '%s/libhloc_runtime.a' -lm -pthread",
             ck_env("HLOC_CXX"), tmpdir, tmpdir, path, tmpdir, c->name,
             ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "%s: the C++ program does not build:\n%s", c->name, out);
  free(out);
  rc = ck_sh(&out, "%s/test", tmpdir);
  ck_assert_msg(rc == 0, "%s: the C++ program failed (exit %d):\n%s", c->name, rc, out);
  free(out);
}
END_TEST

/* The class is C++11: no inline variables or other later features. */
START_TEST(test_cxx11) {
  char *out;
  int rc = ck_sh(&out, "%s compile " MODELS "mnist_mlp.pb --config " MODELS
                       "mnist_mlp.config.pbtxt --name m -o %s/m --emit cpp --cpp-class a::b::M "
                       "&& printf '#include \"m.hpp\"\\nint main() { a::b::M m; return !m.Run(); "
                       "}\\n' | '%s' -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic "
                       "-fsyntax-only -I runtime -I %s -",
                 ck_env("HLOC_BIN"), tmpdir, ck_env("HLOC_CXX"), tmpdir);
  ck_assert_msg(rc == 0, "the header is not C++11 (%d):\n%s", rc, out);
  free(out);
}
END_TEST

/* Exact usage messages (exit status 2) for --cpp-class values that name
 * no C++ class, or without cpp to emit; nothing is written. */
START_TEST(test_bad_class) {
  static const struct {
    const char *args, *msg;
  } bad[] = {
      {"--cpp-class 'foo::'",
       "--cpp-class 'foo::' is not a C++ class name such as ns1::ns2::Name (identifiers "
       "joined by '::')"},
      {"--cpp-class ::Foo",
       "--cpp-class '::Foo' is not a C++ class name such as ns1::ns2::Name (identifiers "
       "joined by '::')"},
      {"--cpp-class 'a:::b'",
       "--cpp-class 'a:::b' is not a C++ class name such as ns1::ns2::Name (identifiers "
       "joined by '::')"},
      {"--cpp-class 1Model",
       "--cpp-class '1Model' is not a C++ class name such as ns1::ns2::Name (identifiers "
       "joined by '::')"},
      {"--cpp-class my-model",
       "--cpp-class 'my-model' is not a C++ class name such as ns1::ns2::Name (identifiers "
       "joined by '::')"},
      {"--cpp-class ''",
       "--cpp-class '' is not a C++ class name such as ns1::ns2::Name (identifiers joined by "
       "'::')"},
      {"--cpp-class 'foo::class::Bar'", "--cpp-class 'foo::class::Bar': 'class' is a C++ keyword"},
      {"--cpp-class new", "--cpp-class 'new': 'new' is a C++ keyword"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *out, want[512];
    int rc = ck_sh(&out, "%s compile " MODELS "mnist_mlp.pb --config " MODELS
                         "mnist_mlp.config.pbtxt -o %s/m --emit obj,cpp %s",
                   ck_env("HLOC_BIN"), tmpdir, bad[i].args);
    snprintf(want, sizeof want, "hloc: %s\nrun 'hloc help' for usage\n", bad[i].msg);
    ck_assert_msg(rc == 2, "%s: exit %d: %s", bad[i].args, rc, out);
    ck_assert_str_eq(out, want);
    free(out);
  }
  char *out;
  int rc = ck_sh(&out, "%s compile " MODELS "mnist_mlp.pb --config " MODELS
                       "mnist_mlp.config.pbtxt -o %s/m --cpp-class ns::M",
                 ck_env("HLOC_BIN"), tmpdir);
  ck_assert_int_eq(rc, 2);
  ck_assert_str_eq(out, "hloc: compile: --cpp-class 'ns::M' names the class of --emit cpp, "
                        "which is not asked for\nrun 'hloc help' for usage\n");
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
}
END_TEST

/* A class named like one of its members cannot be written: an error, no
 * file.  The default name can be one too (--name run gives Run). */
START_TEST(test_class_named_like_member) {
  static const char *const names[] = {"ns::Run", "arg0", "result_probs"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char *out, want[256];
    int rc = ck_sh(&out, "%s compile " MODELS "mnist_mlp.pb --config " MODELS
                         "mnist_mlp.config.pbtxt -o %s/m --emit obj,cpp --cpp-class %s",
                   ck_env("HLOC_BIN"), tmpdir, names[i]);
    const char *member = strrchr(names[i], ':') ? strrchr(names[i], ':') + 1 : names[i];
    snprintf(want, sizeof want,
             "hloc: error: --emit cpp: the class %s would have a member of its own name, "
             "'%s' (choose another with --cpp-class)\n",
             names[i], member);
    ck_assert_msg(rc == 1, "%s: exit %d: %s", names[i], rc, out);
    ck_assert_str_eq(out, want);
    free(out);
    ck_assert_int_eq(ck_count_files(tmpdir), 0);
  }
  char *out;
  int rc = ck_sh(&out, "%s compile " MODELS "mnist_mlp.pb --config " MODELS
                       "mnist_mlp.config.pbtxt -o %s/m --emit cpp --name run",
                 ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 1, "--name run: exit %d: %s", rc, out);
  ck_assert_str_eq(out, "hloc: error: --emit cpp: the class Run would have a member of its own "
                        "name, 'Run' (choose another with --cpp-class)\n");
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
}
END_TEST

/* A rank-1 feed named "data" would give arg_data(size_t dim0) beside the
 * class's arg_data(size_t index): that one accessor is left out (the
 * positional arg1(i) and the named arg_data_data() remain), and the
 * header compiles. */
START_TEST(test_clashing_name_left_out) {
  char *config = ck_read_file(OPS "placeholder_multi.config.pbtxt", NULL);
  char *b = strstr(config, "\n  name: \"b\""); /* not node_name */
  ck_assert_ptr_nonnull(b);
  char path[128];
  snprintf(path, sizeof path, "%s/data.config.pbtxt", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "%.*s\n  name: \"data\"%s", (int)(b - config), config,
          b + strlen("\n  name: \"b\""));
  ck_assert_int_eq(fclose(f), 0);
  free(config);
  char *out;
  int rc = ck_sh(&out, "%s compile " OPS "placeholder_multi.pb --config %s --name d -o %s/d "
                       "--emit cpp",
                 ck_env("HLOC_BIN"), path, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/d.hpp", tmpdir);
  char *hpp = ck_read_file(path, NULL);
  ck_assert_msg(!strstr(hpp, "arg_data(size_t dim0)"), "the clashing accessor is there");
  ck_assert_ptr_nonnull(strstr(hpp, "d_ARG1_t *arg_data_data() {"));
  ck_assert_ptr_nonnull(strstr(hpp, "d_ARG1_t &arg1(size_t dim0) {"));
  ck_assert_ptr_nonnull(strstr(hpp, "class D final {"));
  free(hpp);
  rc = ck_sh(&out, "printf '#include \"d.hpp\"\\nint main() { D d; d.arg_data_data()[0] = 1; "
                   "return !d.Run(); }\\n' | '%s' -x c++ -std=c++17 -Wall -Wextra -Werror "
                   "-fsyntax-only -I runtime -I %s -",
             ck_env("HLOC_CXX"), tmpdir);
  ck_assert_msg(rc == 0, "the header does not compile:\n%s", out);
  free(out);
}
END_TEST

/* A feed named like a C++ keyword ("class") is renamed in the C header
 * (class_), so both headers compile as C++. */
START_TEST(test_cxx_keyword_name) {
  char *config = ck_read_file(OPS "placeholder_multi.config.pbtxt", NULL);
  char *b = strstr(config, "\n  name: \"b\"");
  ck_assert_ptr_nonnull(b);
  char path[128];
  snprintf(path, sizeof path, "%s/kw.config.pbtxt", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "%.*s\n  name: \"class\"%s", (int)(b - config), config,
          b + strlen("\n  name: \"b\""));
  ck_assert_int_eq(fclose(f), 0);
  free(config);
  char *out;
  int rc = ck_sh(&out, "%s compile " OPS "placeholder_multi.pb --config %s --name k -o %s/k "
                       "--emit obj,cpp && printf '#include \"k.hpp\"\\nint main() { K k; "
                       "return !k.Run(); }\\n' | '%s' -x c++ -std=c++11 -Wall -Wextra -Werror "
                       "-fsyntax-only -I runtime -I %s - && grep -c 'class_' %s/k.h",
                 ck_env("HLOC_BIN"), path, tmpdir, ck_env("HLOC_CXX"), tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
}
END_TEST

/* hloc tfcompile with tfcompile's flags, as tf_library's genrule runs it:
 * the object, the one header (C API and class) and the metadata object,
 * at the paths given; a tfcompile_test.cc-style program builds against
 * them and matches TensorFlow. */
static const char tfcompile_program[] =
    "#include \"gen/mnist.h\"\n"
    "\n"
    "int main() {\n"
    "  RtArray image = load(\"" MODELS "mnist_mlp.in0.npy\");\n"
    "  RtArray probs = load(\"" MODELS "mnist_mlp.out0.npy\");\n"
    "  foo::bar::MnistComp comp;\n"
    "  comp.set_arg0_data(image.data);\n"
    "  CHECK(comp.Run());\n"
    "  for (size_t i = 0; i < 2; i++)\n"
    "    for (size_t j = 0; j < 10; j++) {\n"
    "      float got = comp.result0(i, j), want = values<float>(probs)[i * 10 + j];\n"
    "      CHECK(std::fabs(got - want) <= 1e-4 + 1e-3 * std::fabs(want));\n"
    "    }\n"
    "  CHECK(comp.LookupArgIndex(\"image\") == 0 && comp.LookupResultIndex(\"probs\") == 0);\n"
    "  CHECK(std::string(mnist_tfcompile_class) == \"foo::bar::MnistComp\");\n"
    "  rt_array_free(&image);\n"
    "  rt_array_free(&probs);\n"
    "  return failures ? 1 : 0;\n"
    "}\n";

START_TEST(test_tfcompile_command) {
  char *out;
  int rc = ck_sh(&out, "mkdir %s/gen && %s tfcompile --graph=" MODELS "mnist_mlp.pb --config "
                       MODELS "mnist_mlp.config.pbtxt --cpp_class=foo::bar::MnistComp "
                       "--entry_point=mnist --target_triple=x86_64-pc-linux "
                       "--out_function_object=%s/gen/mnist.o --out_header=%s/gen/mnist.h "
                       "--out_metadata_object=%s/gen/mnist_helper.o --gen_name_to_index "
                       "--gen_program_shape=true",
                 tmpdir, ck_env("HLOC_BIN"), tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "tfcompile: exit %d: %s", rc, out);
  free(out);
  char path[128];
  snprintf(path, sizeof path, "%s/test.cc", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(prelude, f);
  fputs("extern \"C\" const char mnist_tfcompile_class[];\n", f);
  fputs(tfcompile_program, f);
  ck_assert_int_eq(fclose(f), 0);
  rc = ck_sh(&out, "'%s' -std=c++17 -Wall -Wextra -Werror -pedantic -I runtime -I %s "
                   "-o %s/test %s %s/gen/mnist.o %s/gen/mnist_helper.o '%s/libhloc_runtime.a' "
                   "-lm -pthread && %s/test",
             ck_env("HLOC_CXX"), tmpdir, tmpdir, path, tmpdir, tmpdir,
             ck_env("HLOC_RUNTIME_DIR"), tmpdir);
  ck_assert_msg(rc == 0, "the tfcompile-style program failed (%d):\n%s", rc, out);
  free(out);
  /* tfcompile's --dump_fetch_nodes, and misuse */
  rc = ck_sh(&out, "%s tfcompile --config=" MODELS "mnist_mlp.config.pbtxt --dump_fetch_nodes",
             ck_env("HLOC_BIN"));
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(strstr(out, "Identity"));
  free(out);
  rc = ck_sh(&out, "%s tfcompile --graph=" MODELS "mnist_mlp.pb --config=" MODELS
                   "mnist_mlp.config.pbtxt",
             ck_env("HLOC_BIN"));
  ck_assert_int_eq(rc, 2);
  ck_assert_ptr_nonnull(strstr(out, "hloc: tfcompile: must specify --cpp_class"));
  free(out);
  rc = ck_sh(&out, "%s tfcompile --graph=x.pb --config=y --cpp_class=A --target_triple=riscv64",
             ck_env("HLOC_BIN"));
  ck_assert_int_eq(rc, 2);
  ck_assert_ptr_nonnull(strstr(out, "--target_triple 'riscv64': hloc compiles for x86_64 and "
                                    "aarch64 triples"));
  free(out);
  rc = ck_sh(&out, "%s tfcompile --grap=x", ck_env("HLOC_BIN"));
  ck_assert_int_eq(rc, 2);
  ck_assert_ptr_nonnull(strstr(out, "unknown flag '--grap=x' (flags: --graph, --config"));
  free(out);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("driver_cpp");
  TCase *run = tcase_create("run");
  tcase_add_checked_fixture(run, setup, teardown);
  tcase_set_timeout(run, 180);
  tcase_add_loop_test(run, test_class_runs, 0, sizeof cases / sizeof *cases);
  tcase_add_test(run, test_cxx11);
  tcase_add_test(run, test_tfcompile_command);
  suite_add_tcase(s, run);

  TCase *errors = tcase_create("errors");
  tcase_add_checked_fixture(errors, setup, teardown);
  tcase_set_timeout(errors, 120);
  tcase_add_test(errors, test_bad_class);
  tcase_add_test(errors, test_class_named_like_member);
  tcase_add_test(errors, test_clashing_name_left_out);
  tcase_add_test(errors, test_cxx_keyword_name);
  suite_add_tcase(s, errors);
  return s;
}

int main(void) { return ck_run_suite(suite()); }
