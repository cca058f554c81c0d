/*
 * test_driver_api.c — libhloc (driver/hloc.h) end to end, linked the way
 * its users link it: the shared library itself, not the stage archives.
 *
 * Models compile from files and from memory (binary and text GraphDefs, HLO
 * text), report their inputs and outputs, and run to TensorFlow's stored
 * outputs (atol 1e-4, rtol 1e-3: generated kernels may reassociate sums) or,
 * for HLO, to the evaluator's results and JAX's within the corpus
 * MANIFEST's tolerances.  Every error path returns -1 with a message that
 * says what went wrong, and leaves the out-parameter NULL.  The library
 * exports exactly the functions hloc.h declares (nm -D), the header compiles
 * as C++, and the C example of docs/api.md builds and runs.  With threads
 * (hloc_executable_set_threads) results are bit-identical for 1, 2 and 3
 * threads, the kernels' loops really run on the executable's workers
 * (their CPU time in /proc), the pool's threads come and go with the count,
 * and calls may overlap with each other and with a change of the count.
 * hloc_executable_cancel stops a call running an (all but) endless loop
 * from another thread, and leaves calls that start afterwards alone.
 *
 * CTest sets HLOC_LIBRARY (the libhloc.so under test), HLOC_CC and HLOC_CXX
 * (the project's compilers), HLOC_CFLAGS (extra flags for the example: the
 * sanitizers in such builds), and runs from the source root.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "check_util.h"
#include "hloc.h"
#include "literal_io.h"

#define MODELS "testdata/tf/models/"
#define OPS "testdata/tf/ops/"
#define CORPUS "testdata/hlo/"

/* Tolerance for TensorFlow's outputs of models (see the top of the file). */
#define MODEL_ATOL 1e-4
#define MODEL_RTOL 1e-3


static hloc_compiler *new_compiler(const hloc_compiler_options *opts) {
  hloc_compiler *c = NULL;
  hloc_error *err = NULL;
  int rc = hloc_compiler_create(opts, &c, &err);
  ck_assert_msg(rc == 0, "hloc_compiler_create: %s", hloc_error_message(err));
  ck_assert_ptr_null(err);
  return c;
}

static hloc_executable *compile_files(const char *graph, const char *config) {
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc = hloc_compile_graphdef_file(c, graph, config, &exe, &err);
  ck_assert_msg(rc == 0, "%s: %s", graph, hloc_error_message(err));
  hloc_compiler_free(c); /* executables outlive their compiler */
  return exe;
}

/* Runs exe on `args` (one literal per input, whose types and shapes must be
 * the inputs') and returns one new literal per output. */
static void run(hloc_executable *exe, HloLiteral *const *args, HloLiteral **results) {
  int nin = hloc_executable_num_inputs(exe), nout = hloc_executable_num_outputs(exe);
  const void *in[64];
  void *out[64];
  ck_assert(nin <= 64 && nout <= 64);
  for (int i = 0; i < nin; i++) {
    const HloShape *s = &args[i]->shape;
    ck_assert_int_eq(hloc_type_from_dtype((RtDtype)hloc_executable_input_dtype(exe, i)), s->type);
    ck_assert_int_eq(hloc_executable_input_rank(exe, i), s->rank);
    for (int d = 0; d < s->rank; d++)
      ck_assert_int_eq(hloc_executable_input_dims(exe, i)[d], s->dims[d]);
    ck_assert_uint_eq(hloc_executable_input_bytes(exe, i), hlo_shape_byte_size(s));
    in[i] = args[i]->data;
  }
  for (int i = 0; i < nout; i++) {
    HloType t = hloc_type_from_dtype((RtDtype)hloc_executable_output_dtype(exe, i));
    HloShape s = hlo_shape_array(t, hloc_executable_output_rank(exe, i),
                                 hloc_executable_output_dims(exe, i));
    results[i] = hlo_literal_new(&s);
    ck_assert_uint_eq(hloc_executable_output_bytes(exe, i), hlo_shape_byte_size(&s));
    /* Poison, so that an output the code never writes is caught. */
    memset(results[i]->data, 0xA5, hlo_shape_byte_size(&s));
    out[i] = results[i]->data;
  }
  hloc_error *err = NULL;
  int rc = hloc_execute(exe, in, out, &err);
  ck_assert_msg(rc == 0, "hloc_execute: %s", hloc_error_message(err));
}

/* Runs exe on PREFIX.in<K>.npy and compares with PREFIX.out<K>.npy. */
static void check_stored(hloc_executable *exe, const char *prefix, double atol, double rtol) {
  int nin = hloc_executable_num_inputs(exe), nout = hloc_executable_num_outputs(exe);
  HloLiteral *args[64] = {0}, *got[64];
  char path[512], msg[512];
  for (int i = 0; i < nin; i++) {
    snprintf(path, sizeof path, "%s.in%d.npy", prefix, i);
    args[i] = ck_read_npy(path);
  }
  run(exe, args, got);
  for (int i = 0; i < nout; i++) {
    snprintf(path, sizeof path, "%s.out%d.npy", prefix, i);
    HloLiteral *want = ck_read_npy(path);
    ck_assert_msg(ck_allclose(got[i], want, atol, rtol, msg, sizeof msg), "%s output %d (%s): %s",
                  prefix, i, hloc_executable_output_name(exe, i), msg);
    hlo_literal_free(want);
    hlo_literal_free(got[i]);
  }
  for (int i = 0; i < nin; i++) hlo_literal_free(args[i]);
}

/* The tolerances testdata/hlo/MANIFEST states for a case. */
static void manifest_tolerance(const char *name, double *atol, double *rtol) {
  const CkCorpusCase *cases;
  int n = ck_hlo_corpus(&cases);
  for (int i = 0; i < n; i++)
    if (!strcmp(cases[i].name, name)) {
      *atol = cases[i].atol;
      *rtol = cases[i].rtol;
      return;
    }
  ck_abort_msg("%s is not in the HLO corpus MANIFEST", name);
}

/* --- compiling and running -------------------------------------------------------------------- */

START_TEST(test_mnist_from_files) {
  hloc_compiler_options zero = {0}; /* zero-initialised options are valid */
  hloc_compiler *c = new_compiler(&zero);
  hloc_executable *exe = NULL;
  hloc_error *err = (hloc_error *)&zero; /* must be reset to NULL on success */
  ck_assert_int_eq(hloc_compile_graphdef_file(c, MODELS "mnist_mlp.pb",
                                              MODELS "mnist_mlp.config.pbtxt", &exe, &err),
                   0);
  ck_assert_ptr_null(err);
  hloc_compiler_free(c);

  ck_assert_int_eq(hloc_executable_num_inputs(exe), 1);
  ck_assert_str_eq(hloc_executable_input_name(exe, 0), "image");
  ck_assert_int_eq(hloc_executable_input_dtype(exe, 0), HLOC_DTYPE_FLOAT32);
  ck_assert_int_eq(hloc_executable_input_rank(exe, 0), 2);
  ck_assert_int_eq(hloc_executable_input_dims(exe, 0)[0], 2);
  ck_assert_int_eq(hloc_executable_input_dims(exe, 0)[1], 784);
  ck_assert_uint_eq(hloc_executable_input_bytes(exe, 0), 2 * 784 * 4);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), 1);
  ck_assert_str_eq(hloc_executable_output_name(exe, 0), "probs");
  ck_assert_int_eq(hloc_executable_output_dtype(exe, 0), HLOC_DTYPE_FLOAT32);
  ck_assert_int_eq(hloc_executable_output_rank(exe, 0), 2);
  ck_assert_int_eq(hloc_executable_output_dims(exe, 0)[1], 10);
  ck_assert_uint_eq(hloc_executable_output_bytes(exe, 0), 2 * 10 * 4);

  /* Twice: the second run reuses the executable's scratch arena. */
  check_stored(exe, MODELS "mnist_mlp", MODEL_ATOL, MODEL_RTOL);
  check_stored(exe, MODELS "mnist_mlp", MODEL_ATOL, MODEL_RTOL);
  hloc_executable_free(exe);
}
END_TEST

/* Models beyond an MLP: convolutions and pooling, a gather, a While loop. */
static const char *const graph_models[] = {"small_cnn", "text_classifier", "lstm_while"};

START_TEST(test_models_from_memory) {
  const char *name = graph_models[_i];
  char path[256];
  size_t glen, clen;
  snprintf(path, sizeof path, MODELS "%s.pb", name);
  char *graph = ck_read_file(path, &glen);
  snprintf(path, sizeof path, MODELS "%s.config.pbtxt", name);
  char *config = ck_read_file(path, &clen);
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc = hloc_compile_graphdef(c, graph, glen, config, clen, &exe, &err);
  ck_assert_msg(rc == 0, "%s: %s", name, hloc_error_message(err));
  free(graph);
  free(config);
  snprintf(path, sizeof path, MODELS "%s", name);
  check_stored(exe, path, MODEL_ATOL, MODEL_RTOL);
  hloc_executable_free(exe);
  hloc_compiler_free(c);
}
END_TEST

/* A text GraphDef from memory, three feeds and three fetches (bool among
 * them), which must match TensorFlow exactly. */
START_TEST(test_text_graphdef_from_memory) {
  size_t glen, clen;
  char *graph = ck_read_file(OPS "placeholder_multi.pbtxt", &glen);
  char *config = ck_read_file(OPS "placeholder_multi.config.pbtxt", &clen);
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  int rc = hloc_compile_graphdef(c, graph, glen, config, clen, &exe, NULL);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(hloc_executable_num_inputs(exe), 3);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), 3);
  check_stored(exe, OPS "placeholder_multi", 0, 0);
  hloc_executable_free(exe);
  hloc_compiler_free(c);
  free(graph);
  free(config);
}
END_TEST

/* A named CPU and features instead of the host's: same results. */
START_TEST(test_cpu_options) {
  hloc_compiler_options o = {.cpu = "generic", .features = "-avx2"};
  hloc_compiler *c = new_compiler(&o);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc = hloc_compile_graphdef_file(c, MODELS "mnist_mlp.pb", MODELS "mnist_mlp.config.pbtxt",
                                      &exe, &err);
  ck_assert_msg(rc == 0, "%s", hloc_error_message(err));
  check_stored(exe, MODELS "mnist_mlp", MODEL_ATOL, MODEL_RTOL);
  hloc_executable_free(exe);
  hloc_compiler_free(c);
}
END_TEST

/* HLO from a file and from memory: against JAX's stored outputs and the
 * evaluator, with the corpus tolerances.  tuple_mixed_dtypes has eight
 * outputs of eight element types. */
static const char *const hlo_cases[] = {"attention_tiny", "tuple_mixed_dtypes"};

START_TEST(test_hlo) {
  const char *name = hlo_cases[_i];
  double atol, rtol;
  manifest_tolerance(name, &atol, &rtol);
  char path[256];
  snprintf(path, sizeof path, CORPUS "%s.hlo", name);
  size_t len;
  char *text = ck_read_file(path, &len);
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *from_file = NULL, *from_memory = NULL;
  hloc_error *err = NULL;
  ck_assert_msg(hloc_compile_hlo_file(c, path, &from_file, &err) == 0, "%s",
                hloc_error_message(err));
  ck_assert_msg(hloc_compile_hlo(c, text, len, &from_memory, &err) == 0, "%s",
                hloc_error_message(err));
  snprintf(path, sizeof path, CORPUS "%s", name);
  check_stored(from_file, path, atol, rtol);

  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  ck_assert_int_eq(hloc_executable_num_inputs(from_memory), entry->nparams);
  HloLiteral *args[64] = {0}, *got[64], *leaves[64];
  for (int i = 0; i < entry->nparams; i++) {
    snprintf(path, sizeof path, CORPUS "%s.in%d.npy", name, i);
    args[i] = ck_read_npy(path);
  }
  HloLiteral *want = ck_evaluate(m, args, entry->nparams);
  int n = 1;
  leaves[0] = want;
  if (want->shape.type == HLO_TUPLE) {
    n = want->shape.ntuple;
    for (int i = 0; i < n; i++) leaves[i] = want->elems[i];
  }
  ck_assert_int_eq(hloc_executable_num_outputs(from_memory), n);
  run(from_memory, args, got);
  char msg[512];
  for (int i = 0; i < n; i++) {
    char result[32];
    snprintf(result, sizeof result, "result%d", i);
    ck_assert_str_eq(hloc_executable_output_name(from_memory, i), result);
    ck_assert_msg(ck_allclose(got[i], leaves[i], atol, rtol, msg, sizeof msg),
                  "%s output %d against the evaluator: %s", name, i, msg);
    hlo_literal_free(got[i]);
  }
  hlo_literal_free(want);
  for (int i = 0; i < entry->nparams; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
  hloc_executable_free(from_file);
  hloc_executable_free(from_memory);
  hloc_compiler_free(c);
  free(text);
}
END_TEST

/* --- concurrent execution --------------------------------------------------------------------- */

enum { NTHREADS = 4, NRUNS = 25 };

typedef struct RunJob {
  hloc_executable *exe;
  const float *input;
  const float *expected; /* the single-threaded result, bit for bit */
  int mismatches;        /* runs that failed or differed */
} RunJob;

static void *run_many(void *arg) {
  RunJob *job = arg;
  float out[20];
  for (int r = 0; r < NRUNS; r++) {
    const void *in[] = {job->input};
    void *outs[] = {out};
    memset(out, 0, sizeof out);
    if (hloc_execute(job->exe, in, outs, NULL) || memcmp(out, job->expected, sizeof out))
      job->mismatches++;
  }
  return NULL;
}

/* Calls that overlap on one executable each get a scratch arena of their
 * own and the same results. */
START_TEST(test_concurrent_execute) {
  hloc_executable *exe = compile_files(MODELS "mnist_mlp.pb", MODELS "mnist_mlp.config.pbtxt");
  HloLiteral *x = ck_read_npy(MODELS "mnist_mlp.in0.npy");
  float expected[20];
  const void *in[] = {x->data};
  void *out[] = {expected};
  ck_assert_int_eq(hloc_execute(exe, in, out, NULL), 0);
  RunJob jobs[NTHREADS];
  pthread_t threads[NTHREADS];
  for (int t = 0; t < NTHREADS; t++) {
    jobs[t] = (RunJob){exe, x->data, expected, 0};
    ck_assert_int_eq(pthread_create(&threads[t], NULL, run_many, &jobs[t]), 0);
  }
  for (int t = 0; t < NTHREADS; t++) {
    pthread_join(threads[t], NULL);
    ck_assert_msg(jobs[t].mismatches == 0, "thread %d: %d of %d runs differ", t,
                  jobs[t].mismatches, NRUNS);
  }
  hlo_literal_free(x);
  hloc_executable_free(exe);
}
END_TEST

/* --- cancellation ----------------------------------------------------------------------------- */

/* x + n after n iterations: with n = 2^31 - 1, endless for a test. */
static const char counting_loop[] =
    "HloModule counting\n"
    "cond {\n  p = (s32[], s32[], f32[4]) parameter(0)\n"
    "  i = s32[] get-tuple-element(p), index=0\n  n = s32[] get-tuple-element(p), index=1\n"
    "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
    "body {\n  p = (s32[], s32[], f32[4]) parameter(0)\n"
    "  i = s32[] get-tuple-element(p), index=0\n  n = s32[] get-tuple-element(p), index=1\n"
    "  x = f32[4] get-tuple-element(p), index=2\n  one = s32[] constant(1)\n"
    "  next = s32[] add(i, one)\n  f = f32[] constant(1)\n"
    "  fb = f32[4] broadcast(f), dimensions={}\n  y = f32[4] add(x, fb)\n"
    "  ROOT r = (s32[], s32[], f32[4]) tuple(next, n, y)\n}\n"
    "ENTRY main {\n  x = f32[4] parameter(0)\n  n = s32[] parameter(1)\n"
    "  zero = s32[] constant(0)\n  init = (s32[], s32[], f32[4]) tuple(zero, n, x)\n"
    "  loop = (s32[], s32[], f32[4]) while(init), condition=cond, body=body\n"
    "  ROOT out = f32[4] get-tuple-element(loop), index=2\n}\n";

typedef struct CancelJob {
  hloc_executable *exe;
  const void *const *in;
  void *const *out;
  int rc;
  hloc_error *err;
  atomic_bool done;
} CancelJob;

static void *execute_job(void *arg) {
  CancelJob *j = arg;
  j->rc = hloc_execute(j->exe, j->in, j->out, &j->err);
  atomic_store(&j->done, true);
  return NULL;
}

/* A module with bounded dynamic parameters and results (docs/api.md): the
 * executable takes each dynamic array padded to its bound, then one s32
 * size per dynamic dim, named after the array and the dim, and returns
 * its dynamic results padded, then their sizes: here x's first 2 of 5
 * rows reversed, y's size 3 and y negated. */
START_TEST(test_dynamic_dims) {
  static const char text[] =
      "HloModule d\n\nENTRY main {\n  x = s32[<=5,3] parameter(0)\n"
      "  t = (s32[4], s32[<=4]) parameter(1)\n"
      "  y = s32[<=4] get-tuple-element(t), index=1\n"
      "  r = s32[<=5,3] reverse(x), dimensions={0}\n"
      "  n = s32[] get-dimension-size(y), dimensions={0}\n"
      "  ny = s32[<=4] negate(y)\n"
      "  ROOT o = (s32[<=5,3], s32[], s32[<=4]) tuple(r, n, ny)\n}\n";
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_msg(hloc_compile_hlo(c, text, strlen(text), &exe, &err) == 0, "%s",
                hloc_error_message(err));
  hloc_compiler_free(c);
  const char *names[] = {"x", "t_0", "t_1", "x_size0", "t_1_size0"};
  ck_assert_int_eq(hloc_executable_num_inputs(exe), 5);
  for (int i = 0; i < 5; i++) ck_assert_str_eq(hloc_executable_input_name(exe, i), names[i]);
  ck_assert_int_eq(hloc_executable_input_dims(exe, 0)[0], 5);
  ck_assert_int_eq(hloc_executable_input_rank(exe, 3), 0);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), 5);
  ck_assert_int_eq(hloc_executable_output_dims(exe, 0)[0], 5);
  int32_t x[15], t0[4] = {0}, y[4] = {20, -30, 40, 99}, xn = 2, yn = 3;
  for (int i = 0; i < 15; i++) x[i] = i < 6 ? i + 1 : -1;
  int32_t r[15], n = 0, ny[4], rn = -1, nyn = -1;
  const void *in[] = {x, t0, y, &xn, &yn};
  void *out[] = {r, &n, ny, &rn, &nyn};
  ck_assert_msg(hloc_execute(exe, in, out, &err) == 0, "%s", hloc_error_message(err));
  ck_assert_int_eq(rn, 2);
  ck_assert_int_eq(nyn, 3);
  ck_assert_int_eq(n, 3);
  const int32_t want[6] = {4, 5, 6, 1, 2, 3};
  for (int i = 0; i < 6; i++) ck_assert_int_eq(r[i], want[i]);
  for (int i = 0; i < 3; i++) ck_assert_int_eq(ny[i], -y[i]);
  hloc_executable_free(exe);
}
END_TEST

/* conv_precision reaches codegen: a 3x3 convolution whose plan is
 * Winograd F(4x4, 3x3) on x86-64-v3 (Inception-V3's 35²×64→96,
 * tests/test_codegen_gemm.c's winograd_form_plans), on small integers,
 * compiled "exact" gives exactly the evaluator's result, "fast" (the
 * default) does not. */
START_TEST(test_conv_precision) {
  HloStr text = {0};
  hlo_str_printf(&text, "HloModule c\n\nENTRY main {\n  x = f32[1,35,35,64] parameter(0)\n"
                        "  k = f32[3,3,64,96] constant({");
  uint64_t seed = 11;
  for (int i = 0; i < 3 * 3 * 64; i++) {
    /* the row of 96 outputs of tap (i / 192, i / 64 % 3), input feature i % 64 */
    const char *open = i == 0 ? "{{" : i % 192 == 0 ? "}}, {{" : i % 64 == 0 ? "}, {" : ", ";
    hlo_str_printf(&text, "%s{", open);
    for (int o = 0; o < 96; o++) {
      seed = seed * 6364136223846793005u + 1442695040888963407u;
      hlo_str_printf(&text, "%s%d", o ? ", " : "", (int)(seed >> 61) - 4); /* -4..3 */
    }
    hlo_str_printf(&text, "}");
  }
  hlo_str_printf(&text, "}}})\n  ROOT c = f32[1,35,35,96] convolution(x, k), "
                        "window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n");
  HloModule *m = ck_parse_verified(text.buf);
  HloShape xs = hlo_shape_array(HLO_F32, 4, (int64_t[]){1, 35, 35, 64});
  HloLiteral *x = hlo_literal_new(&xs);
  for (int i = 0; i < 35 * 35 * 64; i++) ((float *)x->data)[i] = (float)((i * 5 + i / 64) % 7 - 3);
  HloLiteral *want = ck_evaluate(m, &x, 1);
  const char *precisions[] = {"exact", "fast", NULL};
  for (int p = 0; p < 3; p++) {
    hloc_compiler *c = new_compiler(
        &(hloc_compiler_options){.cpu = "x86-64-v3", .conv_precision = precisions[p]});
    hloc_executable *exe = NULL;
    hloc_error *err = NULL;
    ck_assert_msg(hloc_compile_hlo(c, text.buf, text.len, &exe, &err) == 0, "%s",
                  hloc_error_message(err));
    hloc_compiler_free(c);
    HloLiteral *got;
    run(exe, &x, &got);
    bool same = !memcmp(got->data, want->data, hlo_shape_byte_size(&want->shape));
    ck_assert_msg(same == (p == 0), "conv_precision %s: %s the evaluator's result",
                  precisions[p] ? precisions[p] : "NULL", same ? "exactly" : "not");
    hlo_literal_free(got);
    hloc_executable_free(exe);
  }
  hlo_literal_free(want);
  hlo_literal_free(x);
  hlo_module_free(m);
  free(text.buf);
}
END_TEST

START_TEST(test_cancel) {
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_msg(hloc_compile_hlo(c, counting_loop, strlen(counting_loop), &exe, &err) == 0, "%s",
                hloc_error_message(err));
  hloc_compiler_free(c);
  ck_assert_int_eq(hloc_executable_cancel(NULL), 0);
  /* Nothing running: nothing to stop, and the next call is not affected. */
  ck_assert_int_eq(hloc_executable_cancel(exe), 0);
  float x[4] = {1, 2, 3, 4}, y[4];
  int32_t n = 3;
  const void *in[] = {x, &n};
  void *out[] = {y};
  ck_assert_int_eq(hloc_execute(exe, in, out, NULL), 0);
  ck_assert(y[0] == 4 && y[1] == 5 && y[2] == 6 && y[3] == 7);

  /* A call that would run for minutes stops soon after the cancel. */
  n = INT32_MAX;
  CancelJob job = {exe, in, out, 0, NULL, false};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, execute_job, &job), 0);
  struct timespec tick = {0, 20 * 1000 * 1000}, start, end;
  nanosleep(&tick, NULL);
  clock_gettime(CLOCK_MONOTONIC, &start);
  int asked = 0;
  /* Until the call has started (it may not have yet) and been told. */
  for (int k = 0; k < 500 && !asked && !atomic_load(&job.done); k++) {
    asked = hloc_executable_cancel(exe);
    if (!asked) nanosleep(&tick, NULL);
  }
  pthread_join(t, NULL);
  clock_gettime(CLOCK_MONOTONIC, &end);
  ck_assert_int_eq(asked, 1);
  ck_assert_int_eq(job.rc, -1);
  const char *msg = hloc_error_message(job.err);
  ck_assert_msg(!strcmp(msg, "hloc_execute: cancelled at while %loop") ||
                    (!strncmp(msg, "hloc_execute: cancelled at %", 28) && strstr(msg, " in %loop")),
                "%s", msg);
  hloc_error_free(job.err);
  double waited = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) * 1e-9;
  ck_assert_msg(waited < 2, "the call took %.2f s to stop", waited);
  ck_assert_int_eq(hloc_executable_cancel(exe), 0);

  /* The executable runs normally afterwards. */
  n = 5;
  ck_assert_int_eq(hloc_execute(exe, in, out, NULL), 0);
  ck_assert(y[0] == 6 && y[3] == 9);
  hloc_executable_free(exe);
}
END_TEST

/* --- threads ---------------------------------------------------------------------------------- */


enum { THREADS_IN = 4, THREADS_OUT = 2 };

/* The model's inputs (pseudo-random, fixed) and room for its outputs. */
typedef struct ThreadsModel {
  hloc_executable *exe;
  float *in[THREADS_IN];
  size_t out_bytes[THREADS_OUT];
} ThreadsModel;

static ThreadsModel threads_model(void) {
  ThreadsModel m = {0};
  hloc_compiler *c = new_compiler(NULL);
  hloc_error *err = NULL;
  ck_assert_msg(hloc_compile_hlo(c, ck_threads_hlo, strlen(ck_threads_hlo), &m.exe, &err) == 0, "%s",
                hloc_error_message(err));
  hloc_compiler_free(c);
  ck_assert_int_eq(hloc_executable_num_inputs(m.exe), THREADS_IN);
  ck_assert_int_eq(hloc_executable_num_outputs(m.exe), THREADS_OUT);
  uint32_t s = 12345;
  for (int i = 0; i < THREADS_IN; i++) {
    size_t n = hloc_executable_input_bytes(m.exe, i) / sizeof(float);
    m.in[i] = malloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++) {
      s = s * 1664525u + 1013904223u;
      m.in[i][k] = ((float)(s >> 8) / (float)(1u << 24) - 0.5f) / 8;
    }
  }
  for (int r = 0; r < THREADS_OUT; r++) m.out_bytes[r] = hloc_executable_output_bytes(m.exe, r);
  return m;
}

/* Runs m into out (poisoned first); false when the call fails. */
static bool threads_run(const ThreadsModel *m, void *const *out) {
  for (int r = 0; r < THREADS_OUT; r++) memset(out[r], 0xA5, m->out_bytes[r]);
  return hloc_execute(m->exe, (const void *const *)m->in, out, NULL) == 0;
}

static void **threads_outputs(const ThreadsModel *m) {
  void **out = calloc(THREADS_OUT, sizeof *out);
  for (int r = 0; r < THREADS_OUT; r++) out[r] = malloc(m->out_bytes[r]);
  return out;
}

static void free_outputs(void **out) {
  for (int r = 0; r < THREADS_OUT; r++) free(out[r]);
  free(out);
}

static bool same_outputs(const ThreadsModel *m, void *const *a, void *const *b) {
  for (int r = 0; r < THREADS_OUT; r++)
    if (memcmp(a[r], b[r], m->out_bytes[r])) return false;
  return true;
}

static void threads_model_free(ThreadsModel *m) {
  hloc_executable_free(m->exe);
  for (int i = 0; i < THREADS_IN; i++) free(m->in[i]);
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&t, NULL);
}

/* This process's threads (their ids into ids, at most max); the count. */
static int task_ids(int *ids, int max) {
  DIR *d = opendir("/proc/self/task");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.' && n < max) ids[n++] = atoi(e->d_name);
  closedir(d);
  return n;
}

/* Waits (up to 5 s: a joined thread leaves /proc a moment after the
 * join) until the process has `want` threads; returns the count. */
static int settle_tasks(int want) {
  int ids[256], n = 0;
  for (int i = 0; i < 500 && (n = task_ids(ids, 256)) != want; i++) sleep_ms(10);
  return n;
}

/* The CPU time thread `tid` of this process has used, in clock ticks. */
static long long task_ticks(int tid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
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

/* Results with 1, 2 and 3 threads are bit-identical, and with threads the
 * loops run on the workers: the threads the pool started use CPU time.
 * The pool's threads start with a count and stop with the next one or
 * with the executable. */
START_TEST(test_set_threads) {
  ThreadsModel m = threads_model();
  ck_assert_int_eq(hloc_executable_threads(m.exe), 1);
  void **want = threads_outputs(&m), **got = threads_outputs(&m);
  ck_assert(threads_run(&m, want));
  int before[256], after[256];
  int nbefore = task_ids(before, 256);

  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_executable_set_threads(m.exe, 3, &err), 0);
  ck_assert_ptr_null(err);
  ck_assert_int_eq(hloc_executable_threads(m.exe), 3);
  int nafter = task_ids(after, 256);
  ck_assert_int_eq(nafter, nbefore + 2);
  int workers[2], nworkers = 0;
  for (int a = 0; a < nafter; a++) {
    bool old = false;
    for (int b = 0; b < nbefore; b++) old |= after[a] == before[b];
    if (!old && nworkers < 2) workers[nworkers++] = after[a];
  }
  ck_assert_int_eq(nworkers, 2);
  /* Run until the workers have used a clock tick: with loops split they do
   * at once; if the code never reached the pool, never. */
  long long ticks = 0;
  int runs = 0;
  for (double t0 = seconds(); (ticks == 0 || runs < 3) && seconds() - t0 < 30; runs++) {
    ck_assert(threads_run(&m, got));
    ck_assert_msg(same_outputs(&m, want, got), "run %d with 3 threads differs from 1 thread",
                  runs);
    ticks = task_ticks(workers[0]) + task_ticks(workers[1]);
  }
  ck_assert_msg(ticks > 0, "%d runs on 3 threads and the pool's workers never ran a loop", runs);

  ck_assert_int_eq(hloc_executable_set_threads(m.exe, 2, &err), 0);
  ck_assert_int_eq(hloc_executable_threads(m.exe), 2);
  ck_assert_int_eq(settle_tasks(nbefore + 1), nbefore + 1);
  ck_assert(threads_run(&m, got));
  ck_assert_msg(same_outputs(&m, want, got), "2 threads differ from 1");
  ck_assert_int_eq(hloc_executable_set_threads(m.exe, 2, &err), 0); /* the same: kept */
  ck_assert_int_eq(task_ids(after, 256), nbefore + 1);

  ck_assert_int_eq(hloc_executable_set_threads(m.exe, 1, &err), 0);
  ck_assert_int_eq(hloc_executable_threads(m.exe), 1);
  ck_assert_int_eq(settle_tasks(nbefore), nbefore);
  ck_assert(threads_run(&m, got));
  ck_assert_msg(same_outputs(&m, want, got), "back on 1 thread, the results differ");

  /* The executable frees its pool. */
  ck_assert_int_eq(hloc_executable_set_threads(m.exe, 3, NULL), 0);
  ck_assert_int_eq(task_ids(after, 256), nbefore + 2);
  free_outputs(want);
  free_outputs(got);
  threads_model_free(&m);
  ck_assert_int_eq(settle_tasks(nbefore), nbefore);
}
END_TEST

/* Calls that overlap share the executable's pool while another thread
 * changes the count under them: every run completes, bit-identical. */
typedef struct ThreadsJob {
  const ThreadsModel *m;
  void *const *want;
  int mismatches;
} ThreadsJob;

static void *threads_many(void *arg) {
  ThreadsJob *job = arg;
  void **out = threads_outputs(job->m);
  for (int r = 0; r < 6; r++)
    if (!threads_run(job->m, out) || !same_outputs(job->m, job->want, out)) job->mismatches++;
  free_outputs(out);
  return NULL;
}

typedef struct Toggler {
  hloc_executable *exe;
  atomic_bool stop;
  int changes, failures;
} Toggler;

static void *toggle_threads(void *arg) {
  Toggler *t = arg;
  for (int k = 0; !atomic_load(&t->stop); k++, t->changes++) {
    if (hloc_executable_set_threads(t->exe, 1 + k % 4, NULL)) t->failures++;
    sleep_ms(2);
  }
  return NULL;
}

START_TEST(test_threads_concurrent) {
  ThreadsModel m = threads_model();
  void **want = threads_outputs(&m);
  ck_assert(threads_run(&m, want));
  ck_assert_int_eq(hloc_executable_set_threads(m.exe, 3, NULL), 0);
  Toggler toggler = {.exe = m.exe};
  atomic_init(&toggler.stop, false);
  pthread_t toggle, threads[3];
  ThreadsJob jobs[3];
  ck_assert_int_eq(pthread_create(&toggle, NULL, toggle_threads, &toggler), 0);
  for (int t = 0; t < 3; t++) {
    jobs[t] = (ThreadsJob){&m, want, 0};
    ck_assert_int_eq(pthread_create(&threads[t], NULL, threads_many, &jobs[t]), 0);
  }
  for (int t = 0; t < 3; t++) pthread_join(threads[t], NULL);
  atomic_store(&toggler.stop, true);
  pthread_join(toggle, NULL);
  for (int t = 0; t < 3; t++)
    ck_assert_msg(jobs[t].mismatches == 0, "thread %d: %d runs failed or differ", t,
                  jobs[t].mismatches);
  ck_assert_int_eq(toggler.failures, 0);
  ck_assert_int_gt(toggler.changes, 0);
  free_outputs(want);
  threads_model_free(&m);
}
END_TEST

/* --- errors ----------------------------------------------------------------------------------- */

/* Asserts a failed call: rc -1, an error whose message contains each of the
 * NULL-terminated `want` strings, and the out-parameter left NULL. */
static void expect_error(int rc, hloc_error *err, const void *out, const char *const *want) {
  ck_assert_int_eq(rc, -1);
  ck_assert_ptr_nonnull(err);
  const char *msg = hloc_error_message(err);
  for (int i = 0; want[i]; i++)
    ck_assert_msg(strstr(msg, want[i]), "message '%s' lacks '%s'", msg, want[i]);
  ck_assert_ptr_null(out);
  hloc_error_free(err);
}

/* The call runs first: it sets err and out, which are then checked. */
#define EXPECT_ERROR(call, err, out, ...)                                                    \
  do {                                                                                       \
    int rc_ = (call);                                                                        \
    expect_error(rc_, err, out, (const char *const[]){__VA_ARGS__, NULL});                   \
  } while (0)

/* A graph in text format: x -> Where -> Square -> Cholesky. */
static const char bad_graph[] =
    "node { name: 'x' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }\n"
    "       attr { key: 'shape' value { shape { dim { size: 4 } } } } }\n"
    "node { name: 'where' op: 'Where' input: 'x' attr { key: 'T' value { type: DT_FLOAT } } }\n"
    "node { name: 'sq' op: 'Square' input: 'where' attr { key: 'T' value { type: DT_FLOAT } } }\n"
    "node { name: 'chol' op: 'Cholesky' input: 'sq' attr { key: 'T' value { type: DT_FLOAT } } }\n";

typedef struct GraphError {
  const char *graph, *config;
  const char *want[3]; /* substrings of the message */
} GraphError;

static const GraphError graph_errors[] = {
    /* Every unsupported op at once, with counts and node names. */
    {bad_graph, "feed { id { node_name: 'x' } shape { dim { size: 4 } } }\n"
                "fetch { id { node_name: 'chol' } }\n",
     {"Where: 1 node ('where')", "Cholesky: 1 node ('chol')"}},
    {bad_graph, "feed { id { node_name: 'x' } shape { dim { size: 3 } } }\n"
                "fetch { id { node_name: 'sq' } }\n",
     {"feed 'x'", "does not match the Placeholder's shape [4]"}},
    {bad_graph, "feed { id { node_name: 'x' } shap { dim { size: 4 } } }\n",
     {"config:1:30:", "unknown field 'shap'"}},
    {bad_graph, "feed { id { node_name: 'nope' } shape { dim { size: 4 } } }\n"
                "fetch { id { node_name: 'sq' } }\n",
     {"no node 'nope'"}},
    {bad_graph, "feed { id { node_name: 'x' } shape { dim { size: 4 } } }\n",
     {"the config has no fetch"}},
    /* Names given twice are errors, never renamed. */
    {bad_graph, "feed { id { node_name: 'x' } shape { dim { size: 4 } } name: 'in' }\n"
                "feed { id { node_name: 'sq' } shape { dim { size: 4 } } name: 'in' }\n"
                "fetch { id { node_name: 'chol' } }\n",
     {"feed name 'in' is given twice (feeds 'x' and 'sq')"}},
    {bad_graph, "feed { id { node_name: 'x' } shape { dim { size: 4 } } }\n"
                "fetch { id { node_name: 'sq' } name: 'y' }\n"
                "fetch { id { node_name: 'chol' } name: 'y' }\n",
     {"fetch name 'y' is given twice (fetches 'sq' and 'chol')"}},
    {"\x0a\x05\x0a\x03", "", {"graph: malformed protobuf at byte"}},
    {"node { name: 'a' op: 'Const' ", "", {"graph:1:"}},
};

START_TEST(test_graphdef_errors) {
  const GraphError *t = &graph_errors[_i];
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  int rc = hloc_compile_graphdef(c, t->graph, strlen(t->graph), t->config, strlen(t->config),
                                 &exe, &err);
  expect_error(rc, err, exe, t->want);
  hloc_compiler_free(c);
}
END_TEST

START_TEST(test_other_compile_errors) {
  hloc_compiler *c = new_compiler(NULL);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  const char *bad_hlo = "HloModule m\nENTRY e {\n  p = f32[2] parameter(0)\n"
                        "  ROOT a = f32[3] add(p, p)\n}\n";
  EXPECT_ERROR(hloc_compile_hlo(c, bad_hlo, strlen(bad_hlo), &exe, &err), err, exe,
               "hlo: verifier", "f32[2]");
  EXPECT_ERROR(hloc_compile_hlo(c, "HloModule m\nENTRY e {", 22, &exe, &err), err, exe, "hlo:2:");
  EXPECT_ERROR(hloc_compile_hlo_file(c, "/nonexistent/m.hlo", &exe, &err), err, exe,
               "/nonexistent/m.hlo");
  EXPECT_ERROR(hloc_compile_graphdef_file(c, "/nonexistent/g.pb", MODELS "mnist_mlp.config.pbtxt",
                                          &exe, &err),
               err, exe, "/nonexistent/g.pb");
  EXPECT_ERROR(hloc_compile_graphdef_file(c, MODELS "mnist_mlp.pb", "/nonexistent/c.pbtxt", &exe,
                                          &err),
               err, exe, "/nonexistent/c.pbtxt");

  /* Invalid arguments. */
  EXPECT_ERROR(hloc_compile_hlo(NULL, "", 0, &exe, &err), err, exe, "compiler is NULL");
  EXPECT_ERROR(hloc_compile_hlo(c, NULL, 5, &exe, &err), err, exe, "text is NULL");
  EXPECT_ERROR(hloc_compile_hlo(c, "", 0, NULL, &err), err, NULL, "out is NULL");
  EXPECT_ERROR(hloc_compile_hlo_file(c, NULL, &exe, &err), err, exe, "path is NULL");
  EXPECT_ERROR(hloc_compile_graphdef(c, NULL, 3, "", 0, &exe, &err), err, exe, "graph is NULL");
  EXPECT_ERROR(hloc_compile_graphdef(c, "", 0, NULL, 3, &exe, &err), err, exe, "config is NULL");
  EXPECT_ERROR(hloc_compile_graphdef_file(c, NULL, "c", &exe, &err), err, exe,
               "graph_path is NULL");
  EXPECT_ERROR(hloc_compile_graphdef_file(c, "g", NULL, &exe, &err), err, exe,
               "config_path is NULL");
  hloc_compiler *none = NULL;
  EXPECT_ERROR(hloc_compiler_create(NULL, NULL, &err), err, none, "out is NULL");
  /* TF32 is for a GPU's tensor cores. */
  EXPECT_ERROR(hloc_compiler_create(&(hloc_compiler_options){.gpu_tf32 = 1}, &none, &err), err,
               none, "gpu_tf32 runs f32 dots on a GPU's tensor cores; it needs device \"cuda\"");
  EXPECT_ERROR(hloc_compiler_create(&(hloc_compiler_options){.conv_precision = "exac"}, &none,
                                    &err),
               err, none, "hloc_compiler_create: conv_precision 'exac': the precisions are exact "
                          "and fast");

  /* err may be NULL: the failure is still reported by the status. */
  ck_assert_int_eq(hloc_compile_hlo(c, "garbage", 7, &exe, NULL), -1);
  ck_assert_ptr_null(exe);
  hloc_compiler_free(c);
}
END_TEST

START_TEST(test_unknown_cpu) {
  hloc_compiler_options o = {.cpu = "no-such-cpu"};
  hloc_compiler *c = new_compiler(&o);
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  EXPECT_ERROR(hloc_compile_graphdef_file(c, MODELS "mnist_mlp.pb",
                                          MODELS "mnist_mlp.config.pbtxt", &exe, &err),
               err, exe, "unknown CPU 'no-such-cpu'", "skylake");
  hloc_compiler_free(c);
}
END_TEST

START_TEST(test_execute_errors) {
  hloc_executable *exe = compile_files(MODELS "mnist_mlp.pb", MODELS "mnist_mlp.config.pbtxt");
  static float image[2 * 784], probs[2 * 10];
  memset(probs, 0xA5, sizeof probs);
  const void *in[] = {image}, *no_in[] = {NULL};
  void *out[] = {probs}, *no_out[] = {NULL};
  hloc_error *err = NULL;
  EXPECT_ERROR(hloc_execute(NULL, in, out, &err), err, NULL, "executable is NULL");
  EXPECT_ERROR(hloc_execute(exe, NULL, out, &err), err, NULL,
               "inputs is NULL but input 0 (image) needs 6272 bytes");
  EXPECT_ERROR(hloc_execute(exe, no_in, out, &err), err, NULL,
               "input 0 (image) is NULL but needs 6272 bytes");
  EXPECT_ERROR(hloc_execute(exe, in, NULL, &err), err, NULL,
               "outputs is NULL but output 0 (probs) needs 80 bytes");
  EXPECT_ERROR(hloc_execute(exe, in, no_out, &err), err, NULL,
               "output 0 (probs) is NULL but needs 80 bytes");
  ck_assert_int_eq(hloc_execute(exe, in, no_out, NULL), -1);
  for (size_t i = 0; i < sizeof probs; i++)
    ck_assert_msg(((unsigned char *)probs)[i] == 0xA5, "a failed call wrote its output");
  /* The executable still works after failed calls. */
  ck_assert_int_eq(hloc_execute(exe, in, out, &err), 0);
  ck_assert_ptr_null(err);
  hloc_executable_free(exe);
}
END_TEST

START_TEST(test_set_threads_errors) {
  hloc_executable *exe = compile_files(MODELS "mnist_mlp.pb", MODELS "mnist_mlp.config.pbtxt");
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_executable_set_threads(exe, 2, &err), 0);
  EXPECT_ERROR(hloc_executable_set_threads(exe, 0, &err), err, NULL,
               "hloc_executable_set_threads: nthreads is 0, but must be at least 1");
  EXPECT_ERROR(hloc_executable_set_threads(exe, -3, &err), err, NULL, "nthreads is -3");
  EXPECT_ERROR(hloc_executable_set_threads(NULL, 2, &err), err, NULL,
               "hloc_executable_set_threads: executable is NULL");
  ck_assert_int_eq(hloc_executable_set_threads(exe, 0, NULL), -1);
  ck_assert_int_eq(hloc_executable_threads(exe), 2); /* a failed call changes nothing */
  ck_assert_int_eq(hloc_executable_threads(NULL), 0);
  check_stored(exe, MODELS "mnist_mlp", MODEL_ATOL, MODEL_RTOL);
  hloc_executable_free(exe);
}
END_TEST

START_TEST(test_queries_out_of_range) {
  hloc_executable *exe = compile_files(MODELS "mnist_mlp.pb", MODELS "mnist_mlp.config.pbtxt");
  const int bad[] = {-1, 1};
  for (int k = 0; k < 2; k++) {
    int i = bad[k];
    ck_assert_ptr_null(hloc_executable_input_name(exe, i));
    ck_assert_int_eq(hloc_executable_input_dtype(exe, i), HLOC_DTYPE_INVALID);
    ck_assert_int_eq(hloc_executable_input_rank(exe, i), -1);
    ck_assert_ptr_null(hloc_executable_input_dims(exe, i));
    ck_assert_uint_eq(hloc_executable_input_bytes(exe, i), 0);
    ck_assert_ptr_null(hloc_executable_output_name(exe, i));
    ck_assert_int_eq(hloc_executable_output_dtype(exe, i), HLOC_DTYPE_INVALID);
    ck_assert_int_eq(hloc_executable_output_rank(exe, i), -1);
    ck_assert_ptr_null(hloc_executable_output_dims(exe, i));
    ck_assert_uint_eq(hloc_executable_output_bytes(exe, i), 0);
  }
  ck_assert_int_eq(hloc_executable_num_inputs(NULL), 0);
  ck_assert_int_eq(hloc_executable_num_outputs(NULL), 0);
  ck_assert_ptr_null(hloc_executable_input_name(NULL, 0));
  ck_assert_uint_eq(hloc_executable_scratch_bytes(NULL), 0);
  ck_assert_str_eq(hloc_error_message(NULL), "");
  ck_assert_str_eq(hloc_version(), "0.1.0");
  hloc_error_free(NULL);
  hloc_executable_free(NULL);
  hloc_compiler_free(NULL);
  hloc_executable_free(exe);
}
END_TEST

/* By-name lookup: the rules of `hloc run` and the executables (config
 * name, TensorFlow name with or without ":0", position), the TensorFlow
 * names recorded, and the errors. */
#define NAMES "testdata/tf/names/"

static void expect_index(int got, hloc_error *err, int want, const char *name) {
  ck_assert_msg(got == want, "'%s': %d, want %d (%s)", name, got, want,
                hloc_error_message(err));
  ck_assert_ptr_null(err);
}

static void expect_no_index(int got, hloc_error *err, const char *want) {
  ck_assert_int_eq(got, -1);
  ck_assert_msg(strstr(hloc_error_message(err), want), "'%s' lacks '%s'",
                hloc_error_message(err), want);
  hloc_error_free(err);
}

START_TEST(test_names) {
  hloc_executable *exe = compile_files(NAMES "tfnames.pbtxt", NAMES "tfnames.config.pbtxt");
  ck_assert_str_eq(hloc_executable_input_name(exe, 0), "x");
  ck_assert_str_eq(hloc_executable_input_tf_name(exe, 0), "model/x:0");
  ck_assert_str_eq(hloc_executable_input_name(exe, 1), "b");
  ck_assert_str_eq(hloc_executable_input_tf_name(exe, 1), "b:0");
  ck_assert_str_eq(hloc_executable_output_name(exe, 0), "model_out_Relu");
  ck_assert_str_eq(hloc_executable_output_tf_name(exe, 0), "model/out/Relu:0");
  ck_assert_str_eq(hloc_executable_output_tf_name(exe, 1), "model/neg:0");
  ck_assert_ptr_null(hloc_executable_input_tf_name(exe, 2));
  ck_assert_ptr_null(hloc_executable_output_tf_name(NULL, 0));
  static const struct {
    const char *name;
    int input, output; /* -1: no such */
  } cases[] = {
      {"x", 0, -1},         {"model/x:0", 0, -1},         {"model/x", 0, -1},
      {"b", 1, -1},         {"b:0", 1, -1},               {"arg1", 1, -1},
      {"0", 0, 0},          {"1", 1, 1},                  {"model_out_Relu", -1, 0},
      {"model/out/Relu", -1, 0}, {"model/out/Relu:0", -1, 0}, {"neg", -1, 1},
      {"model/neg:0", -1, 1}, {"model/neg:1", -1, -1},    {"2", -1, -1},
      {"arg0", 0, -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    for (int out = 0; out < 2; out++) {
      hloc_error *err = NULL;
      int want = out ? cases[i].output : cases[i].input;
      int got = out ? hloc_executable_output_index(exe, cases[i].name, &err)
                    : hloc_executable_input_index(exe, cases[i].name, &err);
      if (want >= 0) expect_index(got, err, want, cases[i].name);
      else expect_no_index(got, err, "the model has no ");
    }
  }
  hloc_error *err = NULL;
  int got = hloc_executable_input_index(exe, "model/y", &err);
  expect_no_index(got, err,
                  "hloc_executable_input_index: the model has no input named 'model/y' (did you "
                  "mean 'model/x:0'?) (inputs: x (model/x:0), b)");
  err = NULL;
  got = hloc_executable_output_index(exe, "neq", &err);
  expect_no_index(got, err,
                  "the model has no output named 'neq' (did you mean 'neg'?) (outputs: "
                  "model_out_Relu (model/out/Relu:0), neg (model/neg:0))");
  err = NULL;
  got = hloc_executable_input_index(exe, NULL, &err);
  expect_no_index(got, err,
                  "hloc_executable_input_index: name is NULL");
  err = NULL;
  got = hloc_executable_output_index(NULL, "x", &err);
  expect_no_index(got, err,
                  "hloc_executable_output_index: exe is NULL");
  hloc_executable_free(exe);

  exe = compile_files(NAMES "tfnames.pbtxt", NAMES "ambiguous.config.pbtxt");
  err = NULL;
  got = hloc_executable_input_index(exe, "b", &err);
  expect_no_index(got, err,
                  "the name 'b' is ambiguous: it names input 0 (b) and is the TensorFlow name "
                  "of input 1 (bias, b:0)");
  err = NULL;
  got = hloc_executable_input_index(exe, "b:0", &err);
  expect_index(got, err, 1, "b:0");
  got = hloc_executable_input_index(exe, "model/x", &err);
  expect_index(got, err, 0, "model/x");
  hloc_executable_free(exe);

  /* HLO has no TensorFlow names: its parameters' names, made C identifiers */
  hloc_compiler *c = new_compiler(NULL);
  ck_assert_int_eq(hloc_compile_hlo_file(c, CORPUS "attention_tiny.hlo", &exe, &err), 0);
  ck_assert_ptr_null(hloc_executable_input_tf_name(exe, 0));
  ck_assert_ptr_null(hloc_executable_output_tf_name(exe, 0));
  got = hloc_executable_output_index(exe, "result0", &err);
  expect_index(got, err, 0, "result0");
  hloc_executable_free(exe);
  hloc_compiler_free(c);
}
END_TEST

/* --- the shared library and the documentation ------------------------------------------------- */

/* Runs a shell command; returns its exit status and its output (stdout and
 * stderr) in *out (malloc'd). */

/* Whether `name` is a line of the newline-separated `list`. */
static bool listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) return true;
  return false;
}

/* The scratch arena of the code `hloc compile GRAPH --config CONFIG
 * EXTRA` makes, as its --stats report it. */
static long long compiled_arena(const char *graph, const char *config, const char *extra) {
  char *out;
  int rc = ck_sh(&out, "d=$(mktemp -d) && %s compile %s --config %s %s --stats --emit header "
                    "-o $d/m; s=$?; rm -rf $d; exit $s",
              ck_env("HLOC_BIN"), graph, config, extra);
  ck_assert_msg(rc == 0, "hloc compile %s %s: %s", graph, extra, out);
  const char *p = strstr(out, "compiled arena ");
  ck_assert_msg(p != NULL, "no 'compiled arena' in:\n%s", out);
  long long bytes = strtoll(p + strlen("compiled arena "), NULL, 10);
  free(out);
  return bytes;
}

/* The library and `hloc compile` share one pipeline (driver/pipeline.c):
 * the passes run in both, so the compiled code asks for the same scratch
 * arena — and not for what the unoptimized module would need. */
START_TEST(test_same_pipeline_as_the_command) {
  static const char *const models[] = {"mnist_mlp", "small_cnn"};
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    char graph[256], config[256];
    snprintf(graph, sizeof graph, MODELS "%s.pb", models[i]);
    snprintf(config, sizeof config, MODELS "%s.config.pbtxt", models[i]);
    hloc_executable *exe = compile_files(graph, config);
    long long optimized = compiled_arena(graph, config, "");
    long long unoptimized = compiled_arena(graph, config, "--O0");
    ck_assert_msg((long long)hloc_executable_scratch_bytes(exe) == optimized,
                  "%s: libhloc's arena is %zu bytes, hloc compile's %lld", models[i],
                  hloc_executable_scratch_bytes(exe), optimized);
    ck_assert_msg(optimized != unoptimized, "%s: the passes change nothing the arena shows",
                  models[i]);
    hloc_executable_free(exe);
  }
}
END_TEST

/* The dynamic symbol table holds exactly the functions hloc.h declares:
 * none of the stage libraries, LLVM's archives or protobuf-c's descriptors
 * leak into users' symbol namespaces. */
START_TEST(test_exports) {
  char *declared = ck_read_file("driver/hloc.h", NULL);
  HloStr api = {0};
  int napi = 0;
  for (const char *p = declared; (p = strstr(p, "HLOC_API ")); p++) {
    const char *paren = strchr(p, '(');
    const char *name = paren;
    while (name > p && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
                        (name[-1] >= '0' && name[-1] <= '9')))
      name--;
    char fn[128];
    snprintf(fn, sizeof fn, "%.*s", (int)(paren - name), name);
    /* Skip the #defines of HLOC_API, and count each function once. */
    if (strncmp(fn, "hloc_", 5) || (api.buf && listed(api.buf, fn))) continue;
    hlo_str_printf(&api, "%s\n", fn);
    napi++;
  }
  ck_assert_int_ge(napi, 20);
  char *exported;
  ck_assert_int_eq(ck_sh(&exported, "nm -D --defined-only --format=just-symbols '%s' | sort",
                      ck_env("HLOC_LIBRARY")),
                   0);
  int nexported = 0;
  for (char *line = strtok(exported, "\n"); line; line = strtok(NULL, "\n"), nexported++)
    ck_assert_msg(listed(api.buf, line), "libhloc.so exports '%s', which hloc.h does not declare",
                  line);
  ck_assert_msg(nexported == napi, "libhloc.so exports %d symbols, hloc.h declares %d",
                nexported, napi);
  free(exported);
  free(api.buf);
  free(declared);
}
END_TEST

/* C++ programs include hloc.h as is. */
START_TEST(test_header_is_cxx) {
  char *out;
  int rc = ck_sh(&out,
              "printf '#include \"hloc.h\"\\nint main() { hloc_compiler *c = nullptr; "
              "return hloc_compiler_create(nullptr, &c, nullptr); }\\n' | "
              "'%s' -x c++ -std=c++17 -Wall -Werror -fsyntax-only -I driver -",
              ck_env("HLOC_CXX"));
  ck_assert_msg(rc == 0, "hloc.h does not compile as C++:\n%s", out);
  free(out);
}
END_TEST

/* docs/api.md's C example, as a reader would copy it: built with -Wall
 * -Werror against the library, then run on the MNIST model. */
START_TEST(test_doc_example) {
  char *doc = ck_read_file("docs/api.md", NULL);
  char *marker = strstr(doc, "<!-- example.c");
  ck_assert_msg(marker != NULL, "docs/api.md has no '<!-- example.c' marker");
  char *start = strstr(marker, "```c\n");
  ck_assert_ptr_nonnull(start);
  start += 5;
  char *end = strstr(start, "\n```");
  ck_assert_ptr_nonnull(end);
  char dir[] = "/tmp/hloc-api-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/example.c", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fwrite(start, 1, (size_t)(end - start) + 1, f);
  fclose(f);
  free(doc);

  const char *lib = ck_env("HLOC_LIBRARY");
  char *out;
  const char *cflags = getenv("HLOC_CFLAGS"); /* the sanitizers, in such builds */
  int rc = ck_sh(&out, "'%s' -std=c17 -Wall -Wextra -Werror %s -I driver -o %s/example %s '%s' "
                    "-Wl,-rpath,\"$(dirname '%s')\"",
              ck_env("HLOC_CC"), cflags ? cflags : "", dir, path, lib, lib);
  ck_assert_msg(rc == 0, "the example does not build:\n%s", out);
  free(out);
  rc = ck_sh(&out, "%s/example " MODELS "mnist_mlp.pb " MODELS "mnist_mlp.config.pbtxt", dir);
  ck_assert_msg(rc == 0 && strstr(out, "probs: dtype 11, shape [2,10] 0."),
                "the example failed (%d):\n%s", rc, out);
  free(out);
  rc = ck_sh(&out, "%s/example " MODELS "mnist_mlp.pb /nonexistent.pbtxt", dir);
  ck_assert_msg(rc == 1 && strstr(out, "/nonexistent.pbtxt"), "bad config: (%d) %s", rc, out);
  free(out);
  rc = ck_sh(&out, "rm -rf %s", dir);
  free(out);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("driver_api");
  TCase *run_case = tcase_create("run");
  tcase_set_timeout(run_case, 300);
  tcase_add_test(run_case, test_mnist_from_files);
  tcase_add_loop_test(run_case, test_models_from_memory, 0,
                      sizeof graph_models / sizeof *graph_models);
  tcase_add_test(run_case, test_text_graphdef_from_memory);
  tcase_add_test(run_case, test_cpu_options);
  tcase_add_loop_test(run_case, test_hlo, 0, sizeof hlo_cases / sizeof *hlo_cases);
  tcase_add_test(run_case, test_concurrent_execute);
  tcase_add_test(run_case, test_cancel);
  tcase_add_test(run_case, test_dynamic_dims);
  tcase_add_test(run_case, test_conv_precision);
  tcase_add_test(run_case, test_set_threads);
  tcase_add_test(run_case, test_threads_concurrent);
  suite_add_tcase(s, run_case);

  TCase *errors = tcase_create("errors");
  tcase_set_timeout(errors, 120);
  tcase_add_loop_test(errors, test_graphdef_errors, 0,
                      sizeof graph_errors / sizeof *graph_errors);
  tcase_add_test(errors, test_other_compile_errors);
  tcase_add_test(errors, test_unknown_cpu);
  tcase_add_test(errors, test_execute_errors);
  tcase_add_test(errors, test_set_threads_errors);
  tcase_add_test(errors, test_queries_out_of_range);
  tcase_add_test(errors, test_names);
  suite_add_tcase(s, errors);

  TCase *library = tcase_create("library");
  tcase_set_timeout(library, 120);
  tcase_add_test(library, test_same_pipeline_as_the_command);
  tcase_add_test(library, test_exports);
  tcase_add_test(library, test_header_is_cxx);
  tcase_add_test(library, test_doc_example);
  suite_add_tcase(s, library);
  return s;
}

int main(void) { return ck_run_suite(suite()); }
