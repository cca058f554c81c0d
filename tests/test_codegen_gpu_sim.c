/*
 * test_codegen_gpu_sim.c — what the GPU backend's kernels (codegen/gpu/)
 * compute, checked without a GPU: each module is optimized with the GPU's
 * pass policy and built for `--target nvptx64` (sm_80) into kernel IR, as
 * cg_program_build gets it (the entry with its launches, before host.c
 * rewrites it for the host), and run by the kernel-IR interpreter
 * (codegen/kir_interp.h), which simulates grids, blocks, shared memory,
 * barriers and warp shuffles and reports out-of-bounds accesses, barriers
 * and shuffles some threads skip, races on shared memory and reads of
 * shared memory no thread wrote.  Results are compared with hlo/'s
 * evaluator on random arguments (the harness of test_codegen_util.h), on
 * the grids the launches ask for and on grids of two blocks (so the
 * grid-stride loops step); for the JAX corpus (testdata/hlo/: its modules,
 * XLA's optimized ones, and the modules unoptimized as hloc --O0 builds
 * them) and TensorFlow's models (testdata/tf/models), with their stored
 * outputs.  The corpus built for the host CPU runs on the interpreter too:
 * its vector-heavy kernels check the interpreter itself.
 *
 * What the interpreter cannot see: timing, the PTX itself (ptxas checks it
 * in test_codegen_gpu_kernels.c), and schedules of a racy kernel other
 * than lockstep (the race check reports the race instead).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"
#include "internal.h"
#include "kir_interp.h"
#include "test_codegen_util.h"

static const CgOptions gpu80 = {.target = "nvptx64", .cpu = "sm_80", .verify_kernels = true};

/* m optimized with the pass policy of o's target (or, when o asks for one
 * slot per value, only lowered to one device, as hloc --O0 does), built
 * with o and run on the interpreter with args (flat leaves), on grids of
 * at most max_grid blocks when not 0; fills got (flat result leaves, of
 * the shapes of want's).  Returns the interpreter's or the compiler's
 * error. */
static HloError *simulate_for(const CgOptions *o, int64_t max_grid, HloModule *m,
                              HloLiteral *const *args, int nargs, HloLiteral *const *want,
                              int nresults, HloLiteral **got, KirInterpStats *stats) {
  HloError *e = NULL;
  if (o->one_slot_per_value) {
    /* As hloc --O0: only what codegen has no kernel for is lowered. */
    e = hlo_verify(m);
    if (!e) pass_single_device(m);
  } else {
    PassPolicy policy;
    e = cg_pass_policy(o, &policy);
    if (!e) e = pass_run_pipeline(m, &(PassOptions){.policy = &policy});
  }
  if (e) return e;
  CgKernels ks;
  e = cg_kernels_build(m, o, &ks);
  if (e) return e;
  char entry[160];
  snprintf(entry, sizeof entry, "%s_run_profiled", ks.sig.name);
  ck_assert_int_eq(ks.sig.nargs, nargs);
  ck_assert_int_eq(ks.sig.nresults, nresults);
  KirInterpArg a[256] = {{0}};
  int n = 0;
  for (int i = 0; i < nargs; i++)
    a[n++] = (KirInterpArg){.data = args[i]->data, .bytes = hlo_shape_byte_size(&args[i]->shape)};
  for (int r = 0; r < nresults; r++) {
    got[r] = hlo_literal_new(&want[r]->shape);
    /* Poison, so that an element no kernel writes is caught. */
    memset(got[r]->data, 0xA5, hlo_shape_byte_size(&got[r]->shape));
    a[n++] = (KirInterpArg){.data = got[r]->data, .bytes = hlo_shape_byte_size(&got[r]->shape)};
  }
  size_t scratch = ks.sig.scratch_bytes;
  void *arena = malloc(scratch ? scratch : 1);
  memset(arena, 0xA5, scratch);
  int32_t cancel = 0;
  a[n++] = (KirInterpArg){.data = arena, .bytes = scratch};
  a[n++] = (KirInterpArg){.data = &cancel};
  a[n++] = (KirInterpArg){.data = NULL};
  uint64_t status = 1;
  e = kir_interp_run(ks.k, entry, n, a, &(KirInterpOptions){.max_grid = max_grid, .stats = stats},
                     &status);
  if (!e && status != 0) e = hlo_error("the entry returned %llu", (unsigned long long)status);
  free(arena);
  cg_signature_free(&ks.sig);
  cg_kernels_free(&ks);
  return e;
}

static HloError *simulate(HloModule *m, HloLiteral *const *args, int nargs,
                          HloLiteral *const *want, int nresults, HloLiteral **got,
                          KirInterpStats *stats) {
  return simulate_for(&gpu80, 0, m, args, nargs, want, nresults, got, stats);
}

/* The differential check of HLO text on the GPU o describes, simulated, with random
 * arguments (small_ints: floats drawn from the integers in [-8, 8], as
 * check_hlo_exact's); returns the run's statistics.  It runs twice: on
 * the grids the launches ask for, and on grids of at most two blocks,
 * where the kernels' grid-stride loops do the rest. */
static KirInterpStats sim_check_on(const CgOptions *o, const char *text, uint64_t seed,
                                   bool small_ints, double atol, double rtol) {
  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  HloLiteral *args[64], *flat[64], *want_leaves[64], *got[64];
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  int nflat = 0;
  for (int i = 0; i < entry->nparams; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    cgt_fill_values(args[i], &s, small_ints);
    nflat += cgt_leaves(args[i], flat + nflat);
  }
  HloLiteral *want = ck_evaluate(m, args, entry->nparams);
  int nres = cgt_leaves(want, want_leaves);
  KirInterpStats st = {0};
  for (int tiny = 0; tiny < 2; tiny++) {
    HloModule *mm = tiny ? ck_parse_verified(text) : m;
    HloError *e = simulate_for(o, tiny ? 2 : 0, mm, flat, nflat, want_leaves, nres, got,
                               tiny ? NULL : &st);
    ck_assert_msg(!e, "%s%s", tiny ? "on a grid of 2 blocks: " : "", hlo_error_message(e));
    for (int r = 0; r < nres; r++) {
      char msg[512];
      bool ok = ck_allclose(got[r], want_leaves[r], atol, rtol, msg, sizeof msg);
      ck_assert_msg(ok, "%sresult %d: %s", tiny ? "on a grid of 2 blocks: " : "", r, msg);
      hlo_literal_free(got[r]);
    }
    if (tiny) hlo_module_free(mm);
  }
  hlo_literal_free(want);
  for (int i = 0; i < entry->nparams; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
  return st;
}

static KirInterpStats sim_check_with(const char *text, uint64_t seed, bool small_ints,
                                     double atol, double rtol) {
  return sim_check_on(&gpu80, text, seed, small_ints, atol, rtol);
}

static KirInterpStats sim_check(const char *text, uint64_t seed, double atol, double rtol) {
  return sim_check_with(text, seed, false, atol, rtol);
}

static KirInterpStats sim_checkf(uint64_t seed, double atol, double rtol, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static KirInterpStats sim_checkf(uint64_t seed, double atol, double rtol, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char text[8192];
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  return sim_check(text, seed, atol, rtol);
}

#define ADD_MAX                                                                 \
  "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                 \
  "  ROOT c = f32[] add(a, b)\n}\n\n"                                           \
  "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                 \
  "  ROOT c = f32[] maximum(a, b)\n}\n\n"

/* Sums of f32 in a different order than the evaluator's: the tolerance
 * of a sum of n terms of magnitude <= 8 (the harness's values). */
#define SUM_TOL 1e-4, 1e-4

START_TEST(elementwise_with_broadcast_and_transpose) {
  sim_check("HloModule e\n\nENTRY main {\n  x = f32[37,65] parameter(0)\n"
            "  b = f32[65] parameter(1)\n  bb = f32[37,65] broadcast(b), dimensions={1}\n"
            "  y = f32[37,65] multiply(x, bb)\n  t = f32[65,37] transpose(y), dimensions={1,0}\n"
            "  e = f32[65,37] exponential(t)\n  ROOT r = f32[65,37] tanh(e)\n}\n",
            1, 1e-6, 1e-5);
}
END_TEST

START_TEST(integer_elementwise) {
  sim_check("HloModule i\n\nENTRY main {\n  x = s32[1000] parameter(0)\n"
            "  y = s32[1000] parameter(1)\n"
            "  d = s32[1000] divide(x, y)\n  r = s32[1000] remainder(x, y)\n"
            "  s = s32[1000] shift-left(x, y)\n  a = s32[1000] add(d, r)\n"
            "  ROOT o = s32[1000] xor(a, s)\n}\n",
            2, 0, 0);
}
END_TEST

START_TEST(row_reductions_of_several_sizes) {
  const int cols[] = {1, 7, 31, 32, 33, 100, 255, 1000, 4099};
  for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
    KirInterpStats st = sim_checkf(
        3 + i, SUM_TOL,
        "HloModule row\n\n" ADD_MAX "ENTRY main {\n  x = f32[5,%d] parameter(0)\n"
        "  z = f32[] constant(0)\n"
        "  ROOT r = f32[5] reduce(x, z), dimensions={1}, to_apply=add\n}\n",
        cols[i]);
    /* Rows of a warp or more are one block's, reduced across its warps. */
    if (cols[i] > 32) ck_assert(st.shuffles > 0 && st.barriers > 0);
  }
}
END_TEST

START_TEST(column_reductions_of_several_sizes) {
  const int rows[] = {1, 3, 33, 257}, colsv[] = {1, 5, 64, 129};
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    KirInterpStats st = sim_checkf(4 + i, SUM_TOL,
               "HloModule col\n\n" ADD_MAX "ENTRY main {\n  x = f32[%d,%d] parameter(0)\n"
               "  z = f32[] constant(0)\n"
               "  ROOT r = f32[%d] reduce(x, z), dimensions={0}, to_apply=add\n}\n",
               rows[i], colsv[i], colsv[i]);
    /* Tall columns are split between a block's threads, then combined. */
    if (rows[i] > 32) ck_assert(st.barriers > 0);
  }
}
END_TEST

START_TEST(full_reduction_and_max) {
  sim_check("HloModule full\n\n" ADD_MAX "ENTRY main {\n  x = f32[3,1031] parameter(0)\n"
            "  n = f32[] constant(-inf)\n"
            "  ROOT r = f32[] reduce(x, n), dimensions={0,1}, to_apply=max\n}\n",
            5, 0, 0);
}
END_TEST

/* Reductions of every element kind the shuffles widen and narrow (f16,
 * bf16 through f32; s8, pred through i32; f64 and s64 whole), along rows
 * and columns, with each combiner.  Floats are drawn from the integers in
 * [-8, 8], so every sum here is exact in any order (at most 8000, and at
 * most 560 in f16, whose integers are exact to 2048) and the comparison
 * is exact. */
START_TEST(reductions_of_every_type) {
  static const struct {
    const char *type, *op, *init;
  } cases[] = {
      {"f16", "maximum", "-inf"}, {"bf16", "maximum", "-inf"}, {"f64", "add", "0"},
      {"f64", "minimum", "inf"},  {"s32", "add", "0"},          {"s8", "maximum", "-128"},
      {"s64", "multiply", "1"},   {"u32", "minimum", "4294967295"},
      {"pred", "and", "true"},    {"pred", "or", "false"},      {"s16", "xor", "0"},
      {"f32", "add", "0"},
  };
  const int shapes[][2] = {{3, 70}, {40, 5}, {2, 1000}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
      for (int dim = 0; dim < 2; dim++) {
        const char *t = cases[i].type;
        int r = shapes[k][0], c = shapes[k][1];
        char text[1024];
        snprintf(text, sizeof text,
                 "HloModule red\n\ncomb {\n  a = %s[] parameter(0)\n  b = %s[] parameter(1)\n"
                 "  ROOT c = %s[] %s(a, b)\n}\n\n"
                 "ENTRY main {\n  x = %s[%d,%d] parameter(0)\n  z = %s[] constant(%s)\n"
                 "  ROOT r = %s[%d] reduce(x, z), dimensions={%d}, to_apply=comb\n}\n",
                 t, t, t, cases[i].op, t, r, c, t, cases[i].init, t, dim ? r : c, dim);
        sim_check_with(text, 40 + i * 8 + k * 2 + dim, true, 0, 0);
      }
  for (int dim = 0; dim < 2; dim++) {
    char text[1024];
    snprintf(text, sizeof text,
             "HloModule red\n\ncomb {\n  a = f16[] parameter(0)\n  b = f16[] parameter(1)\n"
             "  ROOT c = f16[] add(a, b)\n}\n\n"
             "ENTRY main {\n  x = f16[40,70] parameter(0)\n  z = f16[] constant(0)\n"
             "  ROOT r = f16[%d] reduce(x, z), dimensions={%d}, to_apply=comb\n}\n",
             dim ? 40 : 70, dim);
    sim_check_with(text, 140 + dim, true, 0, 0);
  }
}
END_TEST

/* Reductions of other shapes: the middle dim of three, all but one dim,
 * columns so many that a thread keeps each, and a multi-output fusion
 * reducing one input two ways. */
START_TEST(reductions_of_other_shapes) {
  sim_check("HloModule mid\n\n" ADD_MAX "ENTRY main {\n  x = f32[4,50,33] parameter(0)\n"
            "  z = f32[] constant(0)\n"
            "  ROOT r = f32[4,33] reduce(x, z), dimensions={1}, to_apply=add\n}\n",
            60, SUM_TOL);
  sim_check("HloModule most\n\n" ADD_MAX "ENTRY main {\n  x = f32[6,7,40] parameter(0)\n"
            "  z = f32[] constant(-inf)\n"
            "  ROOT r = f32[7] reduce(x, z), dimensions={0,2}, to_apply=max\n}\n",
            61, 0, 0);
  sim_check("HloModule wide\n\n" ADD_MAX "ENTRY main {\n  x = f32[3,66000] parameter(0)\n"
            "  z = f32[] constant(0)\n"
            "  ROOT r = f32[66000] reduce(x, z), dimensions={0}, to_apply=add\n}\n",
            62, SUM_TOL);
  sim_check("HloModule two\n\n" ADD_MAX "ENTRY main {\n  x = f32[9,300] parameter(0)\n"
            "  z = f32[] constant(0)\n  n = f32[] constant(-inf)\n"
            "  s = f32[9] reduce(x, z), dimensions={1}, to_apply=add\n"
            "  m = f32[9] reduce(x, n), dimensions={1}, to_apply=max\n"
            "  e = f32[9,300] exponential(x)\n"
            "  se = f32[9] reduce(e, z), dimensions={1}, to_apply=add\n"
            "  ROOT t = (f32[9], f32[9], f32[9]) tuple(s, m, se)\n}\n",
            63, 1e-4, 1e-4);
}
END_TEST

START_TEST(softmax) {
  sim_check("HloModule softmax\n\n" ADD_MAX
            "ENTRY main {\n  x = f32[6,300] parameter(0)\n  ninf = f32[] constant(-inf)\n"
            "  m = f32[6] reduce(x, ninf), dimensions={1}, to_apply=max\n"
            "  mb = f32[6,300] broadcast(m), dimensions={0}\n"
            "  d = f32[6,300] subtract(x, mb)\n  e = f32[6,300] exponential(d)\n"
            "  z = f32[] constant(0)\n  s = f32[6] reduce(e, z), dimensions={1}, to_apply=add\n"
            "  sb = f32[6,300] broadcast(s), dimensions={0}\n"
            "  ROOT y = f32[6,300] divide(e, sb)\n}\n",
            6, 1e-6, 1e-4);
}
END_TEST

START_TEST(layer_norm) {
  sim_check("HloModule layer_norm\n\n" ADD_MAX
            "ENTRY main {\n  x = f32[4,3,77] parameter(0)\n  g = f32[77] parameter(1)\n"
            "  z = f32[] constant(0)\n  s = f32[4,3] reduce(x, z), dimensions={2}, to_apply=add\n"
            "  n = f32[] constant(0.012987013)\n  nb = f32[4,3] broadcast(n), dimensions={}\n"
            "  mean = f32[4,3] multiply(s, nb)\n"
            "  mb = f32[4,3,77] broadcast(mean), dimensions={0,1}\n"
            "  d = f32[4,3,77] subtract(x, mb)\n  d2 = f32[4,3,77] multiply(d, d)\n"
            "  v = f32[4,3] reduce(d2, z), dimensions={2}, to_apply=add\n"
            "  var = f32[4,3] multiply(v, nb)\n  eps = f32[] constant(1e-5)\n"
            "  epsb = f32[4,3] broadcast(eps), dimensions={}\n  ve = f32[4,3] add(var, epsb)\n"
            "  r = f32[4,3] rsqrt(ve)\n  rb = f32[4,3,77] broadcast(r), dimensions={0,1}\n"
            "  y = f32[4,3,77] multiply(d, rb)\n  gb = f32[4,3,77] broadcast(g), dimensions={2}\n"
            "  ROOT o = f32[4,3,77] multiply(y, gb)\n}\n",
            7, 1e-4, 1e-4);
}
END_TEST

/* Without NaNs: with one, which element an argmax picks depends on the
 * order it meets them in, which XLA leaves open. */
START_TEST(argmax_variadic_reduce) {
  sim_check_with("HloModule argmax\n\n"
            "pick {\n  av = f32[] parameter(0)\n  ai = s32[] parameter(1)\n"
            "  bv = f32[] parameter(2)\n  bi = s32[] parameter(3)\n"
            "  gt = pred[] compare(av, bv), direction=GT\n"
            "  eq = pred[] compare(av, bv), direction=EQ\n"
            "  lt = pred[] compare(ai, bi), direction=LT\n"
            "  tie = pred[] and(eq, lt)\n  first = pred[] or(gt, tie)\n"
            "  v = f32[] select(first, av, bv)\n  i = s32[] select(first, ai, bi)\n"
            "  ROOT t = (f32[], s32[]) tuple(v, i)\n}\n\n"
            "ENTRY main {\n  x = f32[9,333] parameter(0)\n"
            "  io = s32[9,333] iota(), iota_dimension=1\n"
            "  ninf = f32[] constant(-inf)\n  zero = s32[] constant(0)\n"
            "  ROOT r = (f32[9], s32[9]) reduce(x, io, ninf, zero), dimensions={1}, "
            "to_apply=pick\n}\n",
            8, true, 0, 0);
}
END_TEST

START_TEST(pooling) {
  sim_check("HloModule pool\n\n" ADD_MAX "ENTRY main {\n  x = f32[2,17,19,3] parameter(0)\n"
            "  n = f32[] constant(-inf)\n"
            "  ROOT r = f32[2,8,9,3] reduce-window(x, n), window={size=1x3x3x1 stride=1x2x2x1}, "
            "to_apply=max\n}\n",
            9, 0, 0);
}
END_TEST

/* The f32 dot of gpu/dot.c at sizes that are and are not multiples of its
 * tile, with a batch. */
START_TEST(dot_edge_sizes) {
  /* M, N, K and whether gpu/dot.c takes it (a dot of 1 or 3 columns is
   * computed one output per thread) */
  const int shapes[][4] = {{1, 1, 1, 0},     {7, 5, 3, 1},      {32, 32, 32, 1},
                           {33, 65, 17, 1},  {64, 31, 129, 1},  {100, 3, 70, 0},
                           {130, 64, 16, 1}};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
    KirInterpStats st = sim_checkf(10 + i, SUM_TOL,
               "HloModule dot\n\nENTRY main {\n  a = f32[%d,%d] parameter(0)\n"
               "  b = f32[%d,%d] parameter(1)\n"
               "  ROOT d = f32[%d,%d] dot(a, b), lhs_contracting_dims={1}, "
               "rhs_contracting_dims={0}\n}\n",
               M, K, K, N, M, N);
    /* gpu/dot.c's tiles are staged in shared memory, between barriers. */
    ck_assert_msg((st.barriers > 0) == (shapes[i][3] != 0), "%dx%dx%d: %" PRId64 " barriers", M,
                  N, K, st.barriers);
  }
  sim_check("HloModule bdot\n\nENTRY main {\n  a = f32[3,19,40] parameter(0)\n"
            "  b = f32[3,40,23] parameter(1)\n"
            "  ROOT d = f32[3,19,23] dot(a, b), lhs_batch_dims={0}, rhs_batch_dims={0}, "
            "lhs_contracting_dims={2}, rhs_contracting_dims={1}\n}\n",
            20, SUM_TOL);
  /* A dense layer with its epilogue (bias, GELU's erf) in the dot's kernel. */
  sim_check("HloModule dense\n\nENTRY main {\n  a = f32[13,50] parameter(0)\n"
            "  w = f32[50,37] parameter(1)\n  bias = f32[37] parameter(2)\n"
            "  d = f32[13,37] dot(a, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
            "  bb = f32[13,37] broadcast(bias), dimensions={1}\n  s = f32[13,37] add(d, bb)\n"
            "  ROOT g = f32[13,37] erf(s)\n}\n",
            21, SUM_TOL);
}
END_TEST

/* gpu/dot.c on operands in other layouts (contracting the lhs's rows, the
 * rhs's columns), with a residual added after it, and a dot whose output
 * a reduction reads (the tile's outputs through memory). */
START_TEST(dot_other_layouts) {
  sim_check("HloModule dt\n\nENTRY main {\n  a = f32[40,70] parameter(0)\n"
            "  b = f32[33,40] parameter(1)\n  r = f32[70,33] parameter(2)\n"
            "  d = f32[70,33] dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={1}\n"
            "  ROOT o = f32[70,33] add(d, r)\n}\n",
            70, SUM_TOL);
  sim_check("HloModule dr\n\n" ADD_MAX "ENTRY main {\n  a = f32[66,20] parameter(0)\n"
            "  b = f32[20,65] parameter(1)\n"
            "  d = f32[66,65] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
            "  z = f32[] constant(-inf)\n"
            "  ROOT m = f32[66] reduce(d, z), dimensions={1}, to_apply=max\n}\n",
            71, SUM_TOL);
}
END_TEST

/* Windows with padding, strides and dilation, and an average pool (a sum
 * window divided by a count). */
START_TEST(windows) {
  sim_check("HloModule w\n\n" ADD_MAX "ENTRY main {\n  x = f32[2,13,11,4] parameter(0)\n"
            "  z = f32[] constant(0)\n"
            "  ROOT r = f32[2,7,5,4] reduce-window(x, z), window={size=1x3x4x1 "
            "stride=1x2x2x1 pad=0_0x1_1x0_1x0_0}, to_apply=add\n}\n",
            72, SUM_TOL);
  sim_check("HloModule wd\n\n" ADD_MAX "ENTRY main {\n  x = f32[3,40] parameter(0)\n"
            "  n = f32[] constant(-inf)\n"
            "  ROOT r = f32[3,19] reduce-window(x, n), window={size=1x4 stride=1x2 "
            "rhs_dilate=1x2 pad=0_0x1_2}, to_apply=max\n}\n",
            73, 0, 0);
}
END_TEST

/* Dots and convolutions on tensor cores (gpu/mma.c): f16 and bf16
 * operands, and f32 ones with --gpu-tf32, at sizes off the 64×64 tile and
 * the k16 (k8) step.  The operands are integers in [-8, 8], which f16,
 * bf16 and TF32 hold exactly, so every product and every f32 sum is exact
 * and the results must equal the evaluator's bit for bit: a lane reading
 * another's fragment, a missed k slice or a wrong edge shows. */
START_TEST(tensor_core_dots_and_convolutions) {
  static const CgOptions tf32 = {.target = "nvptx64", .cpu = "sm_80", .verify_kernels = true,
                                 .gpu_tf32 = true};
  const char *types[][2] = {{"f16", "f16"}, {"bf16", "f32"}, {"f32", "f32"}};
  const int shapes[][3] = {{16, 8, 16}, {33, 70, 40}, {64, 64, 8}, {5, 9, 100}};
  for (int t = 0; t < 3; t++) {
    const CgOptions *o = t == 2 ? &tf32 : &gpu80;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
      int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
      char *text = cgt_fmt("HloModule mma\n\nENTRY main {\n  a = %1$s[%3$d,%5$d] parameter(0)\n"
                           "  b = %1$s[%5$d,%4$d] parameter(1)\n"
                           "  ROOT d = %2$s[%3$d,%4$d] dot(a, b), lhs_contracting_dims={1}, "
                           "rhs_contracting_dims={0}\n}\n",
                           types[t][0], types[t][1], M, N, K);
      KirInterpStats st = sim_check_on(o, text, 300 + 10 * t + i, true, 0, 0);
      ck_assert_msg(st.mmas > 0, "%s %dx%dx%d ran no mma", types[t][0], M, N, K);
      free(text);
    }
    char *text = cgt_fmt("HloModule mmaconv\n\nENTRY main {\n  x = %1$s[2,9,11,6] parameter(0)\n"
                         "  w = %1$s[3,3,6,5] parameter(1)\n"
                         "  ROOT c = %1$s[2,5,6,5] convolution(x, w), window={size=3x3 "
                         "stride=2x2 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n",
                         types[t][0]);
    KirInterpStats st = sim_check_on(o, text, 320 + t, true, 0, 0);
    ck_assert_msg(st.mmas > 0, "the %s convolution ran no mma", types[t][0]);
    free(text);
  }
  /* Plain f32 stays on the exact kernel. */
  KirInterpStats st = sim_check_with("HloModule f\n\nENTRY main {\n  a = f32[33,40] parameter(0)\n"
                                     "  b = f32[40,70] parameter(1)\n"
                                     "  ROOT d = f32[33,70] dot(a, b), lhs_contracting_dims={1}, "
                                     "rhs_contracting_dims={0}\n}\n",
                                     330, true, 0, 0);
  ck_assert_int_eq(st.mmas, 0);
}
END_TEST

/* The same on sm_90a's warpgroup MMA (--gpu-wgmma, gpu/wgmma.c): blocks
 * of one warpgroup, A and B read through matrix descriptors from the
 * layout wgmma.c stages them in, off the 64×64 tile and the k16 (k8)
 * slice, a strided padded convolution, and grids of 2 blocks.  Exact
 * integer operands again, so results must equal the evaluator's bit for
 * bit; the interpreter also holds the kernel to wgmma's async rules
 * (fences, commit and wait before a barrier).  This checks the kernel
 * against our reading of the PTX ISA's layouts, not the layouts against
 * the hardware (docs/backends.md). */
START_TEST(wgmma_dots_and_convolutions) {
  static const CgOptions wg = {.target = "nvptx64", .cpu = "sm_90a", .verify_kernels = true,
                               .gpu_wgmma = true};
  static const CgOptions wg32 = {.target = "nvptx64", .cpu = "sm_90a", .verify_kernels = true,
                                 .gpu_wgmma = true, .gpu_tf32 = true};
  const char *types[][2] = {{"f16", "f16"}, {"bf16", "f32"}, {"f32", "f32"}};
  const int shapes[][3] = {{16, 8, 16}, {33, 70, 40}, {64, 64, 8}, {5, 9, 100}, {130, 65, 72}};
  for (int t = 0; t < 3; t++) {
    const CgOptions *o = t == 2 ? &wg32 : &wg;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
      int M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
      char *text = cgt_fmt("HloModule wgmma\n\nENTRY main {\n  a = %1$s[%3$d,%5$d] parameter(0)\n"
                           "  b = %1$s[%5$d,%4$d] parameter(1)\n"
                           "  ROOT d = %2$s[%3$d,%4$d] dot(a, b), lhs_contracting_dims={1}, "
                           "rhs_contracting_dims={0}\n}\n",
                           types[t][0], types[t][1], M, N, K);
      KirInterpStats st = sim_check_on(o, text, 340 + 10 * t + i, true, 0, 0);
      ck_assert_msg(st.wgmmas > 0 && st.mmas == 0, "%s %dx%dx%d: %" PRId64 " wgmma, %" PRId64
                    " mma", types[t][0], M, N, K, st.wgmmas, st.mmas);
      free(text);
    }
    char *text = cgt_fmt("HloModule wgconv\n\nENTRY main {\n  x = %1$s[2,9,11,6] parameter(0)\n"
                         "  w = %1$s[3,3,6,5] parameter(1)\n"
                         "  ROOT c = %1$s[2,5,6,5] convolution(x, w), window={size=3x3 "
                         "stride=2x2 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n",
                         types[t][0]);
    KirInterpStats st = sim_check_on(o, text, 370 + t, true, 0, 0);
    ck_assert_msg(st.wgmmas > 0, "the %s convolution ran no wgmma", types[t][0]);
    free(text);
  }
}
END_TEST

/* One warpgroup's m64n8k16 wgmma on the interpreter, built by hand:
 * the host lays A (64×16) and B (8×16, B's transpose) out in shared
 * memory's no-swizzle K-major layout as the PTX ISA describes it (core
 * matrices of 8 rows × 16 bytes, LBO 128 bytes along K, SBO 256 bytes
 * along M), transcribed here apart from gpu/wgmma.c; the kernel copies
 * the images into shared memory, fences, and runs the wgmma; each
 * thread's 4 accumulators must be D's elements where the ISA's fragment
 * table puts them.  `skip` drops one op, which the interpreter must
 * report: 1 the async fence, 2 the wgmma fence, 3 the wait. */
static HloError *wgmma_by_hand(int skip, float *out) {
  enum { AE = 64 * 16, BE = 8 * 16 };
  uint16_t a[AE], bt[BE];
  for (int r = 0; r < 64; r++)
    for (int k = 0; k < 16; k++)
      a[((r / 8) * 256 + (r % 8) * 16 + (k / 8) * 128 + (k % 8) * 2) / 2] =
          hlo_f32_to_f16((float)((r * 3 + k) % 7 - 3));
  for (int n = 0; n < 8; n++)
    for (int k = 0; k < 16; k++)
      bt[((n % 8) * 16 + (k / 8) * 128 + (k % 8) * 2) / 2] =
          hlo_f32_to_f16((float)((n + 2 * k) % 5 - 2));
  KirModule *k = kir_module_new();
  KirType ga = kir_memref(k, KIR_I16, 1, (int64_t[]){AE});
  KirType gb = kir_memref(k, KIR_I16, 1, (int64_t[]){BE});
  KirType go = kir_memref(k, KIR_F32, 2, (int64_t[]){128, 4});
  KirType params[3] = {ga, gb, go};
  KirFunc *dev = kir_func_new(k, "kern", 3, params, 0, NULL);
  dev->device = dev->kernel = true;
  dev->block = 128;
  KirBuilder b;
  kir_at_end(&b, dev->body);
  KirVal t = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal sa = kir_shared(&b, "kern_a", kir_memref_shared(k, KIR_I16, 1, (int64_t[]){AE}));
  KirVal sb = kir_shared(&b, "kern_b", kir_memref_shared(k, KIR_I16, 1, (int64_t[]){BE}));
  for (int j = 0; j < AE / 128; j++) {
    KirVal e = kir_binop(&b, KIR_ADDI, t, kir_index(&b, 128 * j));
    kir_store(&b, kir_load(&b, kir_param(dev, 0), &e), sa, &e);
  }
  KirOp *lo = kir_if(&b, kir_cmpi(&b, KIR_ULT, t, kir_index(&b, BE)), 0, NULL);
  KirBuilder in;
  kir_at_end(&in, kir_region(lo, 0));
  kir_store(&in, kir_load(&in, kir_param(dev, 1), &t), sb, &t);
  kir_yield(&in, 0, NULL);
  kir_at_end(&in, kir_region(lo, 1));
  kir_yield(&in, 0, NULL);
  if (skip != 1) kir_async_fence(&b);
  kir_barrier(&b);
  if (skip != 2) kir_wgmma_fence(&b);
  uint64_t fields = (uint64_t)(128 >> 4) << KIR_WGMMA_DESC_LBO_SHIFT |
                    (uint64_t)(256 >> 4) << KIR_WGMMA_DESC_SBO_SHIFT;
  KirVal da = kir_wgmma_desc(&b, sa, kir_index(&b, 0), fields);
  KirVal db = kir_wgmma_desc(&b, sb, kir_index(&b, 0), fields);
  KirVal c[4];
  for (int i = 0; i < 4; i++) c[i] = kir_const_float(&b, kir_scalar(KIR_F32), i);
  KirVal d = kir_wgmma(&b, KIR_MMA_F16, 8, da, db, c);
  kir_wgmma_commit(&b);
  if (skip != 3) kir_wgmma_wait(&b, 0);
  for (int i = 0; i < 4; i++)
    kir_store(&b, d + i, kir_param(dev, 2), (KirVal[]){t, kir_index(&b, i)});
  kir_return(&b, 0, NULL);
  KirFunc *host = kir_func_new(k, "host", 3, params, 0, NULL);
  kir_at_end(&b, host->body);
  KirVal p[3] = {kir_param(host, 0), kir_param(host, 1), kir_param(host, 2)};
  kir_launch(&b, dev, kir_index(&b, 1), kir_index(&b, 128), 3, p);
  kir_return(&b, 0, NULL);
  HloError *e = kir_verify(k);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  KirInterpArg args[3] = {{.data = a, .bytes = sizeof a}, {.data = bt, .bytes = sizeof bt},
                          {.data = out, .bytes = 128 * 4 * sizeof *out}};
  e = kir_interp_run(k, "host", 3, args, NULL, NULL);
  kir_module_free(k);
  return e;
}

START_TEST(wgmma_runs_from_descriptors) {
  float out[128 * 4];
  HloError *e = wgmma_by_hand(0, out);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  for (int t = 0; t < 128; t++)
    for (int i = 0; i < 4; i++) {
      /* PTX ISA, wgmma's D fragments: warp w's rows 16w…, lane (g, q). */
      int row = 16 * (t / 32) + (t % 32) / 4 + 8 * ((i % 4) / 2);
      int col = 8 * (i / 4) + 2 * (t % 4) + (i % 2);
      float want = (float)i;
      for (int k = 0; k < 16; k++)
        want += (float)((row * 3 + k) % 7 - 3) * (float)((col + 2 * k) % 5 - 2);
      ck_assert_msg(out[t * 4 + i] == want, "thread %d, d%d (%d, %d): %g, wanted %g", t, i, row,
                    col, out[t * 4 + i], want);
    }
  const char *want[] = {"", "with no async_fence since", "with no wgmma_fence since",
                        "the end of a block while 0 wgmma(s) are uncommitted and 1 group"};
  for (int skip = 1; skip <= 3; skip++) {
    e = wgmma_by_hand(skip, out);
    ck_assert_msg(e && strstr(hlo_error_message(e), want[skip]), "skip %d: %s", skip,
                  e ? hlo_error_message(e) : "accepted");
    hlo_error_free(e);
  }
}
END_TEST

/* The tiled convolution (gpu/dot.c's tiles over output pixels × output
 * channels) multiplies the padding's zeros, as XLA's definition of a
 * padded convolution does, where the evaluator skips padded taps: an
 * infinite weight then gives NaN on the GPU and an infinity in the
 * evaluator (docs/backends.md).  So the padded case draws finite
 * integers; the unpadded one takes the special values too. */
START_TEST(convolution) {
  sim_check_with("HloModule conv\n\nENTRY main {\n  x = f32[2,9,11,3] parameter(0)\n"
                 "  w = f32[3,3,3,5] parameter(1)\n"
                 "  ROOT c = f32[2,9,11,5] convolution(x, w), window={size=3x3 pad=1_1x1_1}, "
                 "dim_labels=b01f_01io->b01f\n}\n",
                 22, true, 0, 0);
  sim_check("HloModule conv\n\nENTRY main {\n  x = f32[2,9,11,3] parameter(0)\n"
            "  w = f32[3,3,3,5] parameter(1)\n"
            "  ROOT c = f32[2,7,9,5] convolution(x, w), window={size=3x3}, "
            "dim_labels=b01f_01io->b01f\n}\n",
            23, SUM_TOL);
}
END_TEST

START_TEST(gather_and_scatter) {
  sim_check("HloModule gather\n\nENTRY main {\n  x = f32[50,7] parameter(0)\n"
            "  i = s32[11,1] parameter(1)\n"
            "  ROOT g = f32[11,7] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, "
            "start_index_map={0}, index_vector_dim=1, slice_sizes={1,7}\n}\n",
            23, 0, 0);
  sim_check("HloModule scatter\n\n" ADD_MAX "ENTRY main {\n  x = f32[30,4] parameter(0)\n"
            "  i = s32[9,1] parameter(1)\n  u = f32[9,4] parameter(2)\n"
            "  ROOT s = f32[30,4] scatter(x, i, u), update_window_dims={1}, "
            "inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, "
            "to_apply=add\n}\n",
            24, 1e-6, 1e-6);
}
END_TEST

START_TEST(sort) {
  sim_check("HloModule sort\n\ncmp {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
            "  ROOT lt = pred[] compare(a, b), direction=LT, type=TOTALORDER\n}\n\n"
            "ENTRY main {\n  x = f32[5,77] parameter(0)\n"
            "  ROOT s = f32[5,77] sort(x), dimensions={1}, to_apply=cmp\n}\n",
            25, 0, 0);
}
END_TEST

START_TEST(while_and_conditional) {
  sim_check("HloModule loop\n\n"
            "cond {\n  p = (s32[], f32[40]) parameter(0)\n"
            "  i = s32[] get-tuple-element(p), index=0\n"
            "  n = s32[] constant(5)\n  ROOT c = pred[] compare(i, n), direction=LT\n}\n\n"
            "body {\n  p = (s32[], f32[40]) parameter(0)\n"
            "  i = s32[] get-tuple-element(p), index=0\n"
            "  x = f32[40] get-tuple-element(p), index=1\n  one = s32[] constant(1)\n"
            "  j = s32[] add(i, one)\n  h = f32[] constant(0.5)\n"
            "  hb = f32[40] broadcast(h), dimensions={}\n  y = f32[40] multiply(x, hb)\n"
            "  s = f32[40] sine(y)\n  ROOT t = (s32[], f32[40]) tuple(j, s)\n}\n\n"
            "ENTRY main {\n  x = f32[40] parameter(0)\n  z = s32[] constant(0)\n"
            "  t = (s32[], f32[40]) tuple(z, x)\n"
            "  w = (s32[], f32[40]) while(t), condition=cond, body=body\n"
            "  ROOT r = f32[40] get-tuple-element(w), index=1\n}\n",
            26, 1e-6, 1e-5);
  sim_check("HloModule cond\n\n"
            "neg {\n  x = f32[10] parameter(0)\n  ROOT n = f32[10] negate(x)\n}\n\n"
            "ex {\n  x = f32[10] parameter(0)\n  ROOT e = f32[10] exponential(x)\n}\n\n"
            "ENTRY main {\n  p = pred[] parameter(0)\n  x = f32[10] parameter(1)\n"
            "  ROOT c = f32[10] conditional(p, x, x), true_computation=neg, "
            "false_computation=ex\n}\n",
            27, 1e-6, 1e-5);
}
END_TEST

START_TEST(dynamic_slice_and_update) {
  sim_check("HloModule dyn\n\nENTRY main {\n  x = f32[20,9] parameter(0)\n"
            "  i = s32[] parameter(1)\n  j = s32[] parameter(2)\n"
            "  s = f32[4,5] dynamic-slice(x, i, j), dynamic_slice_sizes={4,5}\n"
            "  e = f32[4,5] exponential(s)\n"
            "  ROOT u = f32[20,9] dynamic-update-slice(x, e, j, i)\n}\n",
            28, 1e-6, 1e-5);
}
END_TEST

/* Complex values on the GPU: a complex parameter, constant and result,
 * arithmetic fused into one kernel and a complex dot, as (re, im) pairs
 * (codegen/complex.c).  Exact on integer parts; exp·cos in f32 through
 * the GPU's math: the tolerance of test_codegen_complex.c's
 * transcendentals. */
START_TEST(complex_values) {
  sim_check_with("HloModule cx\n\nENTRY main {\n  x = c64[16,33] parameter(0)\n"
                 "  y = c64[33,8] parameter(1)\n  k = c64[] constant((2, -1))\n"
                 "  kb = c64[16,33] broadcast(k), dimensions={}\n"
                 "  m = c64[16,33] multiply(x, kb)\n  n = c64[16,33] negate(m)\n"
                 "  d = c64[16,8] dot(n, y), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                 "  w = c128[16,8] convert(d)\n  ROOT t = (c64[16,8], c128[16,8]) tuple(d, w)\n}\n",
                 29, true, 0, 0);
  sim_check("HloModule cx\n\nENTRY main {\n  x = c64[40] parameter(0)\n"
            "  e = c64[40] exponential(x)\n  ROOT a = f32[40] abs(e)\n}\n",
            30, 1e-3, 0x1p-17);
}
END_TEST

/* The interpreter itself reports what a GPU would do wrong: a kernel that
 * reads past its buffer. */
START_TEST(out_of_bounds_is_reported) {
  KirModule *k = kir_module_new();
  KirType mem = kir_memref(k, KIR_F32, 1, (int64_t[]){8});
  KirFunc *dev = kir_func_new(k, "kern", 1, &mem, 0, NULL);
  dev->device = dev->kernel = true;
  KirBuilder b;
  kir_at_end(&b, dev->body);
  KirVal t = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal x = kir_load(&b, kir_param(dev, 0), &t);
  kir_store(&b, x, kir_param(dev, 0), &t);
  kir_return(&b, 0, NULL);
  KirFunc *host = kir_func_new(k, "host", 1, &mem, 0, NULL);
  kir_at_end(&b, host->body);
  KirVal p = kir_param(host, 0);
  kir_launch(&b, dev, kir_index(&b, 1), kir_index(&b, 32), 1, &p);
  kir_return(&b, 0, NULL);
  ck_assert(!kir_verify(k));
  float data[8] = {0};
  HloError *e = kir_interp_run(k, "host", 1, &(KirInterpArg){.data = data, .bytes = sizeof data},
                               NULL, NULL);
  ck_assert(e);
  ck_assert_msg(strstr(hlo_error_message(e), "@kern: thread 8: index 8 of dim 0 is out of [0, 8)"),
                "%s", hlo_error_message(e));
  hlo_error_free(e);
  kir_module_free(k);
}
END_TEST

/* … and two threads writing one shared element between barriers. */
START_TEST(shared_memory_race_is_reported) {
  KirModule *k = kir_module_new();
  KirType mem = kir_memref(k, KIR_F32, 1, (int64_t[]){64});
  KirType sh = kir_memref_shared(k, KIR_F32, 1, (int64_t[]){32});
  KirFunc *dev = kir_func_new(k, "kern", 1, &mem, 0, NULL);
  dev->device = dev->kernel = true;
  KirBuilder b;
  kir_at_end(&b, dev->body);
  KirVal t = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal s = kir_shared(&b, "kern_smem", sh);
  KirVal half = kir_binop(&b, KIR_DIVUI, t, kir_index(&b, 2));
  KirVal x = kir_load(&b, kir_param(dev, 0), &t);
  kir_store(&b, x, s, &half);
  kir_barrier(&b);
  kir_return(&b, 0, NULL);
  KirFunc *host = kir_func_new(k, "host", 1, &mem, 0, NULL);
  kir_at_end(&b, host->body);
  KirVal p = kir_param(host, 0);
  kir_launch(&b, dev, kir_index(&b, 1), kir_index(&b, 64), 1, &p);
  kir_return(&b, 0, NULL);
  ck_assert(!kir_verify(k));
  float data[64] = {0};
  HloError *e = kir_interp_run(k, "host", 1, &(KirInterpArg){.data = data, .bytes = sizeof data},
                               NULL, NULL);
  ck_assert(e);
  ck_assert_msg(strstr(hlo_error_message(e), "a race on shared memory @kern_smem: thread 1 writes"),
                "%s", hlo_error_message(e));
  hlo_error_free(e);
  /* Without the check the same kernel runs (lockstep hides the race). */
  e = kir_interp_run(k, "host", 1, &(KirInterpArg){.data = data, .bytes = sizeof data},
                     &(KirInterpOptions){.no_race_check = true}, NULL);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  kir_module_free(k);
}
END_TEST

/* … and a read of shared memory that no thread of the block wrote. */
START_TEST(unwritten_shared_memory_is_reported) {
  KirModule *k = kir_module_new();
  KirType mem = kir_memref(k, KIR_F32, 1, (int64_t[]){32});
  KirType sh = kir_memref_shared(k, KIR_F32, 1, (int64_t[]){64});
  KirFunc *dev = kir_func_new(k, "kern", 1, &mem, 0, NULL);
  dev->device = dev->kernel = true;
  KirBuilder b;
  kir_at_end(&b, dev->body);
  KirVal t = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal s = kir_shared(&b, "kern_smem", sh);
  kir_store(&b, kir_load(&b, kir_param(dev, 0), &t), s, &t);
  kir_barrier(&b);
  KirVal up = kir_binop(&b, KIR_ADDI, t, kir_index(&b, 32));
  kir_store(&b, kir_load(&b, s, &up), kir_param(dev, 0), &t);
  kir_return(&b, 0, NULL);
  KirFunc *host = kir_func_new(k, "host", 1, &mem, 0, NULL);
  kir_at_end(&b, host->body);
  KirVal p = kir_param(host, 0);
  kir_launch(&b, dev, kir_index(&b, 1), kir_index(&b, 32), 1, &p);
  kir_return(&b, 0, NULL);
  ck_assert(!kir_verify(k));
  float data[32] = {0};
  HloError *e = kir_interp_run(k, "host", 1, &(KirInterpArg){.data = data, .bytes = sizeof data},
                               NULL, NULL);
  ck_assert(e);
  ck_assert_msg(strstr(hlo_error_message(e), "@kern: thread 0 reads byte 128 of shared memory "
                                             "@kern_smem, which no thread of the block wrote"),
                "%s", hlo_error_message(e));
  hlo_error_free(e);
  kir_module_free(k);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* The JAX corpus                                                           */
/* ------------------------------------------------------------------------ */

#define CORPUS "testdata/hlo/"

static HloLiteral *read_case_npy(const CkCorpusCase *c, const char *kind, int k) {
  char p[300];
  snprintf(p, sizeof p, CORPUS "%.127s.%s%d.npy", c->name, kind, k);
  return ck_read_npy(p);
}

/* XLA:CPU's optimized modules (NAME.opt.hlo) the GPU backend refuses, as
 * test_codegen_gpu.c lists them: the gap, kept visible. */
static const struct {
  const char *file, *refusal;
} opt_refused[] = {
    {NULL, NULL}, /* none at present */
};

static const char *opt_refusal(const char *file) {
  for (size_t i = 0; i < sizeof opt_refused / sizeof *opt_refused; i++)
    if (opt_refused[i].file && !strcmp(opt_refused[i].file, file)) return opt_refused[i].refusal;
  return NULL;
}

static bool uses_custom_call(const HloModule *m) {
  for (HloComputation *c = m->first; c; c = c->next)
    for (HloInstr *in = c->first; in; in = in->next)
      if (in->op == HLO_OP_CUSTOM_CALL) return true;
  return false;
}

/* Every runnable case of the corpus, NAME.hlo or (opt) NAME.opt.hlo, built
 * with options o and run on the interpreter, its results against JAX's
 * within MANIFEST's tolerances; reports every failure at once.  The GPU
 * backend compiles every NAME.hlo the CPU's does: the only ones left out
 * are those check_util.c lists as refused by hloc whatever the target (an
 * op not built yet, with the message it must give), so a GPU refusal
 * fails.  Of the optimized modules, those
 * with XLA:CPU's custom calls (LAPACK, top-k) are left out, as every
 * target leaves them, and opt_refused lists the rest of the gap. */
static void run_corpus(bool opt, const CgOptions *o, int64_t max_grid) {
  const CkCorpusCase *cases;
  int ncases = ck_hlo_corpus(&cases), nrun = 0, nfail = 0, nskipped = 0;
  HloStr report = {0}, left_out = {0};
  for (int i = 0; i < ncases; i++) {
    const CkCorpusCase *c = &cases[i];
    if (c->nin < 0) continue;
    char file[160], path[300];
    snprintf(file, sizeof file, "%s%s.hlo", c->name, opt ? ".opt" : "");
    snprintf(path, sizeof path, CORPUS "%s", file);
    if (opt && access(path, R_OK) != 0) continue; /* hand-written cases have none */
    /* What hloc refuses before codegen is check_util.c's business. */
    if (ck_corpus_listed(file, CK_AT_VERIFY) || ck_corpus_listed(file, CK_AT_EVAL) ||
        (!o->one_slot_per_value && ck_corpus_listed(file, CK_AT_PIPELINE)))
      continue;
    HloModule *m = NULL;
    HloError *e = hlo_parse_file(path, &m);
    ck_assert_msg(!e, "%s: %s", path, hlo_error_message(e));
    if (opt && uses_custom_call(m)) {
      hlo_str_printf(&left_out, " %s (custom call)", file);
      nskipped++;
      hlo_module_free(m);
      continue;
    }
    HloLiteral *args[64], *want[64], *got[64];
    for (int k = 0; k < c->nin; k++) args[k] = read_case_npy(c, "in", k);
    for (int k = 0; k < c->nout; k++) want[k] = read_case_npy(c, "out", k);
    e = simulate_for(o, max_grid, m, args, c->nin, want, c->nout, got, NULL);
    /* What codegen refuses for every target, check_util.c lists too,
     * with its message. */
    int listed = ck_corpus_refusal(file, o->one_slot_per_value ? CK_AT_COMPILE_O0 : CK_AT_COMPILE,
                                   e, &report);
    const char *refusal = opt_refusal(file);
    if (listed >= 0) {
      nfail += listed;
      if (!listed) hlo_str_printf(&left_out, " %s (refused)", file);
      nskipped += !listed;
    } else if (e && refusal && strstr(hlo_error_message(e), refusal)) {
      hlo_str_printf(&left_out, " %s (refused)", file);
      nskipped++;
    } else if (e) {
      hlo_str_printf(&report, "\n  %s: %s", file, hlo_error_message(e));
      nfail++;
    } else if (refusal) {
      hlo_str_printf(&report, "\n  %s: runs, but is listed as refused", file);
      nfail++;
    } else {
      for (int k = 0; k < c->nout; k++) {
        char msg[256];
        if (!ck_allclose(got[k], want[k], c->atol, c->rtol, msg, sizeof msg)) {
          hlo_str_printf(&report, "\n  %s result %d: %s", file, k, msg);
          nfail++;
        }
      }
      nrun++;
    }
    if (!e)
      for (int k = 0; k < c->nout; k++) hlo_literal_free(got[k]);
    hlo_error_free(e);
    for (int k = 0; k < c->nin; k++) hlo_literal_free(args[k]);
    for (int k = 0; k < c->nout; k++) hlo_literal_free(want[k]);
    hlo_module_free(m);
  }
  printf("corpus%s for %s%s%s: %d modules run on the interpreter, %d left out%s%s\n",
         opt ? " (optimized)" : "", o->target ? o->target : "the host",
         max_grid ? " on tiny grids" : "", o->one_slot_per_value ? " unoptimized" : "", nrun,
         nskipped, nskipped ? ":" : "", left_out.buf ? left_out.buf : "");
  free(left_out.buf);
  ck_assert_int_ge(nrun, 40);
  ck_assert_msg(nfail == 0, "%d failures over %d cases:%s", nfail, nrun,
                report.buf ? report.buf : "");
  free(report.buf);
}

START_TEST(corpus_runs_like_jax) { run_corpus(false, &gpu80, 0); }
END_TEST

START_TEST(optimized_corpus_runs_like_jax) { run_corpus(true, &gpu80, 0); }
END_TEST

/* A launch covers its work with one block per task today, so the kernels'
 * grid-stride loops never take a second step; on grids of at most two
 * blocks they take many, and the results must not change. */
START_TEST(corpus_runs_on_tiny_grids) { run_corpus(false, &gpu80, 2); }
END_TEST

/* Without the pass pipeline (as hloc --O0), one slot per value: every
 * instruction its own kernel, the shapes the passes would have fused. */
START_TEST(unoptimized_corpus_runs_like_jax) {
  run_corpus(false,
             &(CgOptions){.target = "nvptx64", .cpu = "sm_80", .verify_kernels = true,
                          .one_slot_per_value = true},
             0);
}
END_TEST

/* The interpreter checked on the host CPU's kernels, whose results the
 * JIT's suites check already: their vectors (loads, masked tails, lane
 * reductions, shuffles, inserts) and the runtime's parallel-for exercise
 * what the GPU's kernels use little of today. */
START_TEST(cpu_kernels_run_on_the_interpreter) {
  run_corpus(false, &(CgOptions){.verify_kernels = true}, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* TensorFlow's models                                                      */
/* ------------------------------------------------------------------------ */

#define MODELS "testdata/tf/models/"

/* Each model of testdata/tf/models, imported, built for the GPU and
 * simulated on TensorFlow's stored input, against its stored output with
 * test_frontend_import.c's tolerance for whole models. */
START_TEST(tf_models_run_like_tensorflow) {
  static const char *const models[] = {"mnist_mlp", "small_cnn", "mobilenet_v2", "resnet_blocks",
                                       "transformer_block", "text_classifier", "lstm_unrolled",
                                       "lstm_while", "unet_small"};
  int nfail = 0;
  HloStr report = {0};
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    char graph[200], config[200], in[200], out[200];
    snprintf(graph, sizeof graph, MODELS "%s.pb", models[i]);
    snprintf(config, sizeof config, MODELS "%s.config.pbtxt", models[i]);
    snprintf(in, sizeof in, MODELS "%s.in0.npy", models[i]);
    snprintf(out, sizeof out, MODELS "%s.out0.npy", models[i]);
    TfGraph *g = NULL;
    HloModule *m = NULL;
    HloError *e = tf_graph_load(graph, config, &g);
    if (!e) e = tf_import(g, "model", &m);
    tf_graph_free(g);
    ck_assert_msg(!e, "%s: %s", models[i], hlo_error_message(e));
    HloLiteral *arg = ck_read_npy(in), *want = ck_read_npy(out), *got = NULL;
    e = simulate(m, &arg, 1, &want, 1, &got, NULL);
    char msg[256];
    if (e) {
      hlo_str_printf(&report, "\n  %s: %s", models[i], hlo_error_message(e));
      hlo_error_free(e);
      nfail++;
    } else if (!ck_allclose(got, want, 1e-4, 1e-3, msg, sizeof msg)) {
      hlo_str_printf(&report, "\n  %s: %s", models[i], msg);
      nfail++;
    }
    hlo_literal_free(got);
    hlo_literal_free(arg);
    hlo_literal_free(want);
    hlo_module_free(m);
  }
  ck_assert_msg(nfail == 0, "%d models failed:%s", nfail, report.buf ? report.buf : "");
  free(report.buf);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_gpu_sim");
  TCase *t = tcase_create("kernels");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, out_of_bounds_is_reported);
  tcase_add_test(t, shared_memory_race_is_reported);
  tcase_add_test(t, unwritten_shared_memory_is_reported);
  tcase_add_test(t, elementwise_with_broadcast_and_transpose);
  tcase_add_test(t, integer_elementwise);
  tcase_add_test(t, row_reductions_of_several_sizes);
  tcase_add_test(t, column_reductions_of_several_sizes);
  tcase_add_test(t, full_reduction_and_max);
  tcase_add_test(t, reductions_of_every_type);
  tcase_add_test(t, reductions_of_other_shapes);
  tcase_add_test(t, softmax);
  tcase_add_test(t, layer_norm);
  tcase_add_test(t, argmax_variadic_reduce);
  tcase_add_test(t, pooling);
  tcase_add_test(t, dot_edge_sizes);
  tcase_add_test(t, dot_other_layouts);
  tcase_add_test(t, windows);
  tcase_add_test(t, convolution);
  tcase_add_test(t, tensor_core_dots_and_convolutions);
  tcase_add_test(t, wgmma_dots_and_convolutions);
  tcase_add_test(t, wgmma_runs_from_descriptors);
  tcase_add_test(t, gather_and_scatter);
  tcase_add_test(t, sort);
  tcase_add_test(t, while_and_conditional);
  tcase_add_test(t, dynamic_slice_and_update);
  tcase_add_test(t, complex_values);
  tcase_add_test(t, corpus_runs_like_jax);
  tcase_add_test(t, optimized_corpus_runs_like_jax);
  tcase_add_test(t, corpus_runs_on_tiny_grids);
  tcase_add_test(t, unoptimized_corpus_runs_like_jax);
  tcase_add_test(t, cpu_kernels_run_on_the_interpreter);
  tcase_add_test(t, tf_models_run_like_tensorflow);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
