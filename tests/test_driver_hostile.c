/*
 * test_driver_hostile.c — libhloc survives hostile models.  One process
 * compiles, one after another, the classes of bad input that used to end
 * the caller's process or write past a buffer: sizes that overflow or ask
 * for more than a buffer may hold (Fill, Tile, OneHot, Pad,
 * ResizeBilinear), window attributes near 2^62, a library function that
 * calls itself, shapes over the limit in HLO text, a scratch arena over
 * its limit, an allocation that fails under an address-space limit, and
 * modules wider than fixed arrays once were.  Each must return -1 with its
 * message, leave the executable NULL, and the process must go on to
 * compile a good model at the end.
 *
 * Links libhloc.so, as its users do.  The out-of-memory case needs
 * RLIMIT_AS, which AddressSanitizer's shadow memory defeats: it is skipped
 * in sanitizer builds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check_util.h"
#include "hloc.h"

#define PLACEHOLDER(name, dtype)                                              \
  "node { name: '" name "' op: 'Placeholder' attr { key: 'dtype' value { type: " dtype " } } }\n"
#define CONST_I64(name, dims, vals)                                           \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_INT64 } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_INT64 tensor_shape { " dims " } " vals       \
  " } } } }\n"
#define CONST_F32(name, dims, v)                                              \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { " dims " } float_val: " \
  v " } } } }\n"
#define NODE(name, op, inputs, attrs)                                         \
  "node { name: '" name "' op: '" op "' " inputs " " attrs " }\n"
#define ATTR_TYPE(key, type) "attr { key: '" key "' value { type: " type " } }"
#define ATTR_INTS(key, list) "attr { key: '" key "' value { list { " list " } } }"
#define ATTR_STR(key, v) "attr { key: '" key "' value { s: '" v "' } }"
#define FEED_X(dims) "feed { id { node_name: 'x' } shape { " dims " } type: DT_FLOAT }\n"
#define FETCH_T "fetch { id { node_name: 't' } }\n"
#define DIMS_2x3 "dim { size: 2 } dim { size: 3 }"
#define DIMS_NHWC "dim { size: 1 } dim { size: 4 } dim { size: 4 } dim { size: 2 }"

static hloc_compiler *compiler;

/* Compiling graph + config fails with a message containing `want`. */
static void expect_graph_error(const char *graph, const char *config, const char *want) {
  hloc_executable *exe = (hloc_executable *)1;
  hloc_error *err = NULL;
  int rc = hloc_compile_graphdef(compiler, graph, strlen(graph), config, strlen(config), &exe,
                                 &err);
  ck_assert_int_eq(rc, -1);
  ck_assert_ptr_null(exe);
  ck_assert_msg(strstr(hloc_error_message(err), want), "got '%s', want '%s'",
                hloc_error_message(err), want);
  hloc_error_free(err);
}

static void expect_hlo_error(const char *text, const char *want) {
  hloc_executable *exe = (hloc_executable *)1;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compile_hlo(compiler, text, strlen(text), &exe, &err), -1);
  ck_assert_ptr_null(exe);
  ck_assert_msg(strstr(hloc_error_message(err), want), "got '%s', want '%s'",
                hloc_error_message(err), want);
  hloc_error_free(err);
}

static void expect_compiles(const char *text) {
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc = hloc_compile_hlo(compiler, text, strlen(text), &exe, &err);
  ck_assert_msg(rc == 0, "unexpected error: %s", hloc_error_message(err));
  hloc_executable_free(exe);
}

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

/* Resizing 2048 rows to 4096 builds a [4096, 2048] interpolation matrix
 * (64 MiB in doubles, the most the lowering builds); with the address
 * space limited to what the process has now plus 24 MiB, the allocation
 * fails and the compile reports it. */
static void out_of_memory_case(void) {
#ifdef HAVE_ASAN
  fprintf(stderr, "skipped: the out-of-memory case (AddressSanitizer build)\n");
#else
  FILE *f = fopen("/proc/self/statm", "r");
  ck_assert_ptr_nonnull(f);
  unsigned long pages = 0;
  ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
  fclose(f);
  struct rlimit old, lim;
  ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
  lim = old;
  lim.rlim_cur = (rlim_t)pages * 4096 + ((rlim_t)24 << 20);
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
  expect_graph_error(PLACEHOLDER("x", "DT_FLOAT")
                     "node { name: 's' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                     " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {"
                     " dim { size: 2 } } int_val: 4096 int_val: 1 } } } }\n"
                     NODE("t", "ResizeBilinear", "input: 'x' input: 's'",
                          ATTR_TYPE("T", "DT_FLOAT")),
                     FEED_X("dim { size: 1 } dim { size: 2048 } dim { size: 1 } dim { size: 1 }")
                     FETCH_T, "out of memory: cannot allocate");
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
#endif
}

/* Modules wider than the fixed arrays some stages used to keep: a
 * 300-element tuple parameter and result compile; a 600-operand
 * concatenate is refused by codegen with a short message. */
static void wide_modules(void) {
  enum { N = 300, CAT = 600 };
  size_t cap = 64 * 1024, k = 0;
  char *t = malloc(cap);
  ck_assert_ptr_nonnull(t);
  k += (size_t)snprintf(t + k, cap - k, "HloModule wide\nENTRY main {\n  p = (");
  for (int i = 0; i < N; i++) k += (size_t)snprintf(t + k, cap - k, i ? ", f32[2]" : "f32[2]");
  k += (size_t)snprintf(t + k, cap - k, ") parameter(0)\n");
  for (int i = 0; i < N; i++)
    k += (size_t)snprintf(t + k, cap - k,
                          "  g%d = f32[2] get-tuple-element(p), index=%d\n"
                          "  n%d = f32[2] negate(g%d)\n", i, i, i, i);
  k += (size_t)snprintf(t + k, cap - k, "  ROOT t = (");
  for (int i = 0; i < N; i++) k += (size_t)snprintf(t + k, cap - k, i ? ", f32[2]" : "f32[2]");
  k += (size_t)snprintf(t + k, cap - k, ") tuple(");
  for (int i = 0; i < N; i++) k += (size_t)snprintf(t + k, cap - k, i ? ", n%d" : "n%d", i);
  k += (size_t)snprintf(t + k, cap - k, ")\n}\n");
  ck_assert_uint_lt(k, cap);
  expect_compiles(t);
  k = (size_t)snprintf(t, cap, "HloModule cat\nENTRY main {\n  p = f32[2] parameter(0)\n"
                               "  ROOT c = f32[%d] concatenate(", 2 * CAT);
  for (int i = 0; i < CAT; i++) k += (size_t)snprintf(t + k, cap - k, i ? ", p" : "p");
  snprintf(t + k, cap - k, "), dimensions={0}\n}\n");
  expect_hlo_error(t, "concatenate(%p, %p, %p, %p, %p, %p, … (600 operands in all), %p) has "
                      "more than 256 outputs or operands");
  free(t);
}

/* Six sorts of 2*10^11 floats, all live until their sum: every buffer is
 * within the limit, the arena of 8 TB (7.2 TB of values and the last
 * sort's working memory) is not. */
static void arena_too_large(void) {
  static const char *const N = "200000000000";
  size_t cap = 8192, k = 0;
  char *t = malloc(cap);
  ck_assert_ptr_nonnull(t);
  k += (size_t)snprintf(t + k, cap - k,
                        "HloModule big\nadd {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n"
                        "  ROOT s = f32[] add(x, y)\n}\nlt {\n  x = f32[] parameter(0)\n"
                        "  y = f32[] parameter(1)\n  ROOT c = pred[] compare(x, y), direction=LT\n}\n"
                        "ENTRY main {\n  p = f32[] parameter(0)\n"
                        "  a = f32[%s] broadcast(p), dimensions={}\n", N);
  for (int i = 0; i < 6; i++)
    k += (size_t)snprintf(t + k, cap - k,
                          "  c%d = f32[] constant(%d)\n  k%d = f32[%s] broadcast(c%d), dimensions={}\n"
                          "  x%d = f32[%s] add(a, k%d)\n"
                          "  s%d = f32[%s] sort(x%d), dimensions={0}, to_apply=lt\n",
                          i, i, i, N, i, i, N, i, i, N, i);
  k += (size_t)snprintf(t + k, cap - k, "  t1 = f32[%s] add(s0, s1)\n", N);
  for (int i = 2; i < 6; i++)
    k += (size_t)snprintf(t + k, cap - k, "  t%d = f32[%s] add(t%d, s%d)\n", i, N, i - 1, i);
  snprintf(t + k, cap - k, "  ROOT r = f32[] reduce(t5, p), dimensions={0}, to_apply=add\n}\n");
  expect_hlo_error(t, "codegen: the model needs a scratch arena of 8000000000000 bytes, more "
                      "than the limit of 2^42");
  free(t);
}

START_TEST(survives_every_class) {
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(NULL, &compiler, &err), 0);

  expect_graph_error(CONST_I64("dims", "dim { size: 2 }",
                               "int64_val: 2147483648 int64_val: 2147483648")
                     CONST_F32("v", "", "1")
                     NODE("t", "Fill", "input: 'dims' input: 'v'",
                          ATTR_TYPE("T", "DT_FLOAT") ATTR_TYPE("index_type", "DT_INT64")),
                     FETCH_T, "shape f32[2147483648,2147483648] is too large");
  expect_graph_error(PLACEHOLDER("x", "DT_FLOAT")
                     CONST_I64("m", "dim { size: 2 }",
                               "int64_val: 4611686018427387904 int64_val: 4")
                     NODE("t", "Tile", "input: 'x' input: 'm'",
                          ATTR_TYPE("T", "DT_FLOAT") ATTR_TYPE("Tmultiples", "DT_INT64")),
                     FEED_X(DIMS_2x3) FETCH_T, "is too large");
  expect_graph_error(PLACEHOLDER("x", "DT_FLOAT")
                     CONST_I64("p", "dim { size: 2 } dim { size: 2 }",
                               "int64_val: 4611686018427387904 int64_val: 4611686018427387904"
                               " int64_val: 0 int64_val: 0")
                     NODE("t", "Pad", "input: 'x' input: 'p'",
                          ATTR_TYPE("T", "DT_FLOAT") ATTR_TYPE("Tpaddings", "DT_INT64")),
                     FEED_X(DIMS_2x3) FETCH_T, "overflows its size");
  expect_graph_error(PLACEHOLDER("x", "DT_FLOAT")
                     "node { name: 's' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                     " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {"
                     " dim { size: 2 } } int_val: 2147483647 int_val: 2147483647 } } } }\n"
                     NODE("t", "ResizeBilinear", "input: 'x' input: 's'",
                          ATTR_TYPE("T", "DT_FLOAT")),
                     FEED_X(DIMS_NHWC) FETCH_T, "is too large");
  expect_graph_error(PLACEHOLDER("x", "DT_FLOAT")
                     NODE("t", "AvgPool", "input: 'x'",
                          ATTR_TYPE("T", "DT_FLOAT")
                          ATTR_INTS("ksize", "i: 1 i: 1099511627776 i: 1 i: 1")
                          ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1")
                          ATTR_STR("padding", "SAME")),
                     FEED_X(DIMS_NHWC) FETCH_T, "attribute 'ksize' has entry 1099511627776");
  expect_graph_error(PLACEHOLDER("x", "DT_FLOAT")
                     "node { name: 't' op: 'PartitionedCall' input: 'x'"
                     " attr { key: 'Tin' value { list { type: DT_FLOAT } } }"
                     " attr { key: 'Tout' value { list { type: DT_FLOAT } } }"
                     " attr { key: 'f' value { func { name: 'f' } } } }\n"
                     "library { function { signature { name: 'f'"
                     " input_arg { name: 'a' type: DT_FLOAT } output_arg { name: 'r' type: DT_FLOAT } }"
                     " node_def { name: 'c' op: 'PartitionedCall' input: 'a'"
                     " attr { key: 'Tin' value { list { type: DT_FLOAT } } }"
                     " attr { key: 'Tout' value { list { type: DT_FLOAT } } }"
                     " attr { key: 'f' value { func { name: 'f' } } } }"
                     " ret { key: 'r' value: 'c:output:0' } } }\n",
                     FEED_X(DIMS_2x3) FETCH_T, "function 'f' calls itself: f -> f");
  expect_hlo_error("HloModule m\n"
                   "ENTRY e {\n"
                   "  a = f64[] parameter(0)\n"
                   "  ROOT b = f64[274877906944] broadcast(a), dimensions={}\n"
                   "}\n",
                   "shape f64[274877906944] is too large");
  out_of_memory_case();
  wide_modules();
  arena_too_large();

  /* Still alive, and still compiling. */
  expect_compiles("HloModule m\n"
                  "ENTRY e {\n"
                  "  a = f32[4] parameter(0)\n"
                  "  ROOT n = f32[4] negate(a)\n"
                  "}\n");
  hloc_compiler_free(compiler);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_hostile");
  TCase *t = tcase_create("hostile");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, survives_every_class);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
