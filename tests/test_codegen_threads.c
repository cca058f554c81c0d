/*
 * test_codegen_threads.c — large kernels as parallel-for loops
 * (codegen/kernel.c, "Parallel kernels"): a kernel whose loop nest is big
 * enough calls the runtime's rt_parallel_for over its outermost loop of
 * size > 1, which runs inline with no pool installed and across the
 * installed pool's threads with one (hloc_set_thread_pool).  Each case is
 * run through the JIT with no pool and with a 2-thread pool: the outputs
 * must be bit-identical (threads write disjoint elements, no reduction is
 * split) and equal to the evaluator's within the usual bounds.  Small
 * kernels stay plain loops.
 */
#include "hloc_runtime.h"
#include "passes.h"
#include "test_codegen_util.h"

/* Whether the MLIR of m holds needle. */
static bool mlir_has(const HloModule *m, const char *needle) {
  CgOptions o = {.name = "t"};
  char *mlir = NULL;
  HloError *e = cg_emit_mlir(m, &o, &mlir);
  ck_assert_msg(!e, "emit: %s", hlo_error_message(e));
  bool has = strstr(mlir, needle) != NULL;
  free(mlir);
  return has;
}

/* Runs j on args into fresh outputs (poisoned first). */
static void run(CgJit *j, HloLiteral *const *args, int nargs, HloLiteral **leaves, int n,
                HloLiteral **got) {
  const hloc_program *p = cg_jit_program(j);
  ck_assert_int_eq(p->num_args, nargs);
  ck_assert_int_eq(p->num_results, n);
  void *bufs[64];
  for (int i = 0; i < nargs; i++) bufs[i] = args[i]->data;
  for (int r = 0; r < n; r++) {
    got[r] = hlo_literal_new(&leaves[r]->shape);
    memset(got[r]->data, 0xA5, hlo_shape_byte_size(&got[r]->shape));
    bufs[nargs + r] = got[r]->data;
  }
  ck_assert_int_eq(hloc_program_run(p, bufs), 0);
}

/* Evaluates text, compiles it (after the pass pipeline when asked) for
 * cpu (NULL: the host), checks that it has a parallel kernel, runs it with
 * no pool and with pools of up to max_threads threads (from 2): every run
 * the same bits. */
static void check_threads_on(const char *text, bool pipeline, bool small_ints, double atol,
                             double rtol, uint64_t seed, const char *cpu, int max_threads) {
  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  HloLiteral *args[16];
  int nargs = entry->nparams;
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 3;
  for (int i = 0; i < nargs; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    cgt_fill_values(args[i], &s, small_ints);
  }
  HloLiteral *want = ck_evaluate(m, args, nargs);
  if (pipeline) {
    HloError *e = cgt_optimize(m);
    ck_assert_msg(!e, "pipeline: %s", hlo_error_message(e));
  }
  ck_assert_msg(mlir_has(m, "rt_parallel_for"), "no parallel kernel in:\n%s", text);
  /* An exact comparison needs Winograd's exact form (F(2x2, 3x3)). */
  CgJit *j =
      cgt_jit_with(m, &(CgOptions){.name = "t", .cpu = cpu, .exact_winograd = !atol && !rtol});
  HloLiteral *leaves[16], *serial[16], *threaded[16];
  int n = cgt_leaves(want, leaves);

  ck_assert_ptr_null(hloc_thread_pool());
  run(j, args, nargs, leaves, n, serial);
  for (int threads = 2; threads <= max_threads; threads++) {
    RtThreadPool *pool = rt_threadpool_create(threads);
    ck_assert_ptr_nonnull(pool);
    hloc_set_thread_pool(pool);
    run(j, args, nargs, leaves, n, threaded);
    hloc_set_thread_pool(NULL);
    rt_threadpool_free(pool);
    for (int r = 0; r < n; r++) {
      ck_assert_msg(memcmp(serial[r]->data, threaded[r]->data,
                           hlo_shape_byte_size(&leaves[r]->shape)) == 0,
                    "result %d differs with %d threads", r, threads);
      hlo_literal_free(threaded[r]);
    }
  }
  for (int r = 0; r < n; r++) {
    char msg[512];
    bool ok = ck_allclose(serial[r], leaves[r], atol, rtol, msg, sizeof msg);
    ck_assert_msg(ok, "result %d: %s", r, msg);
    hlo_literal_free(serial[r]);
  }
  cg_jit_free(j);
  hlo_literal_free(want);
  for (int i = 0; i < nargs; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
}

static void check_threads(const char *text, bool pipeline, bool small_ints, double atol,
                          double rtol, uint64_t seed) {
  check_threads_on(text, pipeline, small_ints, atol, rtol, seed, NULL, 2);
}

#define NHWC "dim_labels=b01f_01io->b01f"

START_TEST(elementwise) {
  /* 256x256 = 64K elements: split over the 256 rows. */
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[256,256] parameter(0)\n"
                "  y = f32[256,256] parameter(1)\n  a = f32[256,256] add(x, y)\n"
                "  p = f32[256,256] multiply(a, x)\n  ROOT r = f32[256,256] maximum(p, y)\n}\n",
                true, true, 0, 0, 1);
  /* The same unfused, and transcendental (the evaluator's bounds). */
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[128,512] parameter(0)\n"
                "  t = f32[128,512] tanh(x)\n  ROOT r = f32[128,512] exponential(t)\n}\n",
                false, false, 1e-6, 1e-5, 2);
}
END_TEST

START_TEST(dot) {
  /* 2 x 128 x 64 x 256 = 4 MFLOP, with a bias and relu fused. */
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[128,256] parameter(0)\n"
                "  w = f32[256,64] parameter(1)\n  b = f32[64] parameter(2)\n"
                "  d = f32[128,64] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                "  bb = f32[128,64] broadcast(b), dimensions={1}\n  a = f32[128,64] add(d, bb)\n"
                "  z = f32[] constant(0)\n  zb = f32[128,64] broadcast(z), dimensions={}\n"
                "  ROOT r = f32[128,64] maximum(a, zb)\n}\n",
                true, true, 0, 0, 3);
  /* Random floats: whatever the summation order, it is the same with
   * threads. */
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[96,300] parameter(0)\n"
                "  w = f32[300,80] parameter(1)\n"
                "  ROOT d = f32[96,80] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n",
                false, false, 1e-3, 1e-4, 4);
}
END_TEST

START_TEST(conv) {
  /* A batch of one: split over the 32 output rows (dim 1). */
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[1,32,32,16] parameter(0)\n"
                "  k = f32[3,3,16,32] parameter(1)\n"
                "  ROOT c = f32[1,32,32,32] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
                "\n}\n",
                true, true, 0, 0, 5);
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[2,20,20,24] parameter(0)\n"
                "  k = f32[3,3,24,40] parameter(1)\n"
                "  ROOT c = f32[2,20,20,40] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
                "\n}\n",
                false, true, 0, 0, 6);
  /* By Winograd (a constant kernel): split over tiles of blocks, odd
   * output size (blocks past the last row and column); then 200 input
   * features, the products K blocked where a U panel does not fit half
   * the L2 (2 blocks in groups of 21 tiles with AVX2 and 512 KiB), a
   * task's range of tiles cut across groups. */
  static const int geo[2][4] = {{23, 23, 24, 32}, {20, 19, 200, 32}};
  for (int g = 0; g < 2; g++) {
    int h = geo[g][0], wd = geo[g][1], ci = geo[g][2], co = geo[g][3];
    HloStr t = {0};
    hlo_str_printf(&t, "HloModule m\n\nENTRY e {\n  x = f32[1,%d,%d,%d] parameter(0)\n"
                       "  k = f32[3,3,%d,%d] constant(", h, wd, ci, ci, co);
    for (int ky = 0; ky < 3; ky++) {
      hlo_str_printf(&t, ky ? ", {" : "{{");
      for (int kx = 0; kx < 3; kx++) {
        hlo_str_printf(&t, kx ? ", {" : "{");
        for (int i = 0; i < ci; i++) {
          hlo_str_printf(&t, i ? ", {" : "{");
          for (int o = 0; o < co; o++)
            hlo_str_printf(&t, "%s%d", o ? ", " : "", (ky * 5 + kx * 3 + i * 7 + o) % 17 - 8);
          hlo_str_printf(&t, "}");
        }
        hlo_str_printf(&t, "}");
      }
      hlo_str_printf(&t, "}");
    }
    hlo_str_printf(&t, "})\n  ROOT c = f32[1,%d,%d,%d] convolution(x, k), "
                       "window={size=3x3 pad=1_1x1_1}, " NHWC "\n}\n", h, wd, co);
    HloModule *m = ck_parse_verified(t.buf);
    ck_assert(!cgt_optimize(m));
    ck_assert_msg(mlir_has(m, "_winograd"), "not by Winograd");
    hlo_module_free(m);
    check_threads(t.buf, true, true, 0, 0, 7 + g);
    free(t.buf);
  }
}
END_TEST

START_TEST(reductions) {
  /* A row reduction: rows split, each row reduced whole by one thread. */
  check_threads("HloModule m\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                "  ROOT s = f32[] add(a, b)\n}\n\nENTRY e {\n  x = f32[4096,256] parameter(0)\n"
                "  z = f32[] constant(0)\n"
                "  ROOT r = f32[4096] reduce(x, z), dimensions={1}, to_apply=add\n}\n",
                false, false, 1e-4, 1e-5, 7);
  /* Softmax through the pipeline: row maxima and sums hoisted and parked
   * within each row. */
  check_threads("HloModule m\n\nmax {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                "  ROOT s = f32[] maximum(a, b)\n}\n\nadd {\n  a = f32[] parameter(0)\n"
                "  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n\nENTRY e {\n"
                "  x = f32[256,200] parameter(0)\n  ninf = f32[] constant(-inf)\n"
                "  m = f32[256] reduce(x, ninf), dimensions={1}, to_apply=max\n"
                "  mb = f32[256,200] broadcast(m), dimensions={0}\n"
                "  d = f32[256,200] subtract(x, mb)\n  ex = f32[256,200] exponential(d)\n"
                "  z = f32[] constant(0)\n"
                "  s = f32[256] reduce(ex, z), dimensions={1}, to_apply=add\n"
                "  sb = f32[256,200] broadcast(s), dimensions={0}\n"
                "  ROOT r = f32[256,200] divide(ex, sb)\n}\n",
                true, false, 1e-6, 1e-5, 8);
  /* A column reduction of rank 1 (a mean over rows): split along its only
   * dim, each task's range run as vectors of columns then a scalar tail,
   * each column summed in row order by one lane or loop: the evaluator's
   * bits, whatever the ranges. */
  check_threads("HloModule m\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                "  ROOT s = f32[] add(a, b)\n}\n\nENTRY e {\n  x = f32[600,1003] parameter(0)\n"
                "  z = f32[] constant(0)\n  n = f32[] constant(600)\n"
                "  s = f32[1003] reduce(x, z), dimensions={0}, to_apply=add\n"
                "  nb = f32[1003] broadcast(n), dimensions={}\n"
                "  ROOT r = f32[1003] divide(s, nb)\n}\n",
                true, false, 0, 0, 9);
}
END_TEST

START_TEST(split_along_last_dim) {
  /* A rank-1 elementwise kernel split along its only dim: vectors over
   * each task's range, then its tail one element at a time; an element
   * must come out the same either way (2 threads split elsewhere than 1). */
  check_threads("HloModule m\n\nENTRY e {\n  x = f32[40001] parameter(0)\n"
                "  y = f32[40001] parameter(1)\n  e = f32[40001] exponential(x)\n"
                "  t = f32[40001] tanh(y)\n  ROOT r = f32[40001] multiply(e, t)\n}\n",
                true, false, 1e-6, 1e-6, 10);
}
END_TEST

/* A matrix-vector product fused with its bias and a row of a carried
 * sequence (an LSTM step's gates): its one output row is split along its
 * columns, and each task fills the product's row buffer (dot.c, "Row
 * fills") over its own range only: vectors from the range's start, the
 * rest one element at a time.  1000 columns across 2 and 3 threads give
 * ranges of every phase against the lanes. */
START_TEST(matrix_vector_split_along_columns) {
  check_threads_on("HloModule m\n\nENTRY e {\n  h = f32[1,544] parameter(0)\n"
                   "  w = f32[544,1000] parameter(1)\n  seq = f32[8,1000] parameter(2)\n"
                   "  i = s32[] constant(5)\n  z = s32[] constant(0)\n"
                   "  row = f32[1,1000] dynamic-slice(seq, i, z), dynamic_slice_sizes={1,1000}\n"
                   "  d = f32[1,1000] dot(h, w), lhs_contracting_dims={1}, "
                   "rhs_contracting_dims={0}\n"
                   "  ROOT r = f32[1,1000] add(row, d)\n}\n",
                   true, false, 1e-4, 1e-4, 12, NULL, 3);
}
END_TEST

START_TEST(columns_by_rows) {
  /* Column reductions wider than a strip of vectors, rows outer and
   * columns inner (reduce.c, "Columns by rows"), split along the columns:
   * each task's buffer covers its range, whose ends move to multiples of
   * the lanes, so that a column is a vector's lane or computed alone
   * whatever the split.  With 1, 2 and 3 threads, on AVX2 and AVX-512: the
   * same bits, the evaluator's.  A mean over rows (4103 columns: a
   * scalar tail), and an NHWC mean over H and W keeping C (split along
   * C after a batch of 1) with a fused producer. */
  static const char *const cpus[] = {"x86-64-v3", "znver4"};
  for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++) {
    check_threads_on("HloModule m\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                     "  ROOT s = f32[] add(a, b)\n}\n\nENTRY e {\n"
                     "  x = f32[160,4103] parameter(0)\n"
                     "  z = f32[] constant(0)\n  n = f32[] constant(160)\n"
                     "  s = f32[4103] reduce(x, z), dimensions={0}, to_apply=add\n"
                     "  nb = f32[4103] broadcast(n), dimensions={}\n"
                     "  ROOT r = f32[4103] divide(s, nb)\n}\n",
                     true, false, 0, 0, 11, cpus[c], 3);
    check_threads_on("HloModule m\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                     "  ROOT s = f32[] add(a, b)\n}\n\nENTRY e {\n"
                     "  x = f32[1,28,28,700] parameter(0)\n"
                     "  y = f32[1,28,28,700] parameter(1)\n  p = f32[1,28,28,700] multiply(x, y)\n"
                     "  z = f32[] constant(0)\n  n = f32[] constant(784)\n"
                     "  s = f32[1,700] reduce(p, z), dimensions={1,2}, to_apply=add\n"
                     "  nb = f32[1,700] broadcast(n), dimensions={}\n"
                     "  ROOT r = f32[1,700] divide(s, nb)\n}\n",
                     true, false, 0, 0, 12, cpus[c], 3);
  }
}
END_TEST

START_TEST(small_stays_serial) {
  HloModule *m = ck_parse_verified("HloModule m\n\nENTRY e {\n  x = f32[64,64] parameter(0)\n"
                                   "  ROOT r = f32[64,64] add(x, x)\n}\n");
  ck_assert(!mlir_has(m, "rt_parallel_for"));
  hlo_module_free(m);
  /* Leading dims of 1 are no loop: the split one is the last. */
  m = ck_parse_verified("HloModule m\n\nENTRY e {\n  x = f32[1,1,65536] parameter(0)\n"
                        "  ROOT r = f32[1,1,65536] add(x, x)\n}\n");
  ck_assert(mlir_has(m, "rt_parallel_for"));
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_threads");
  TCase *t = tcase_create("threads");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, elementwise);
  tcase_add_test(t, dot);
  tcase_add_test(t, conv);
  tcase_add_test(t, reductions);
  tcase_add_test(t, split_along_last_dim);
  tcase_add_test(t, matrix_vector_split_along_columns);
  tcase_add_test(t, columns_by_rows);
  tcase_add_test(t, small_stays_serial);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
