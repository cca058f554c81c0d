/*
 * test_codegen_gemm.c — the register-tiled matrix multiply (codegen/
 * gemm.c) against the evaluator: tile interiors and every edge (rows past
 * the last full tile, a last panel of fewer vectors, a partial last
 * vector), odd and prime sizes, M = 1, batches, B from a parameter and B
 * constant (packed at compile time), every epilogue kind fusion gives the
 * kernel (bias, activation, residual add, clamp, a transcendental, a
 * narrowing convert); convolutions as implicit matrix multiplies (padding
 * of every sign, strides, window dilation, 1x1, 7x7, one spatial dim,
 * border tiles); depthwise convolutions by rows (each row's first, middle
 * and last tiles, kernel rows in padding, strides, dilation, 3x3 to 7x7
 * windows, feature counts off the vector width, bias + relu6 as MobileNet
 * has, the fallback where the middle tiles would reach into padding);
 * 3x3 convolutions by Winograd's F(2x2, 3x3) (interior and edge blocks,
 * odd sizes, same, valid and asymmetric padding, partial panels, every
 * epilogue; exact, its transforms being 0, ±1 and ±1/2), F(4x4, 3x3) and
 * the 1-D forms for 1×r and r×1 kernels (within derived error bounds);
 * with 1 and 2 threads, for every vector width class the
 * host can run (SSE2, AVX2, AVX-512, and AVX-512 preferred at 512); and
 * packed weights made from a module that codegen frees as it goes
 * (cg_program_build_consuming: one literal packed twice and read as it
 * is, a convolution's kernel).
 *
 * Arguments are integers in [-8, 8]: every product and partial sum is an
 * integer far below 2^24, exact in f32 and double, so results must equal
 * the evaluator's exactly whatever the order of the sums.  The tanh
 * epilogue scales by 0.01 first, which scale-fold moves into constant
 * weights (w·0.01 rounded per element, then summed: up to K roundings of
 * 2^-24 each, an absolute error where the sum is near 0), and tanh is
 * within 2 ulp (docs/math.md): 1e-5 relative.
 * Each case also asserts that the kernel IR holds the register tile, so a
 * case cannot pass by falling back to another path.
 */
#include "hloc_runtime.h"
#include "internal.h"
#include "test_codegen_util.h"

static const struct {
  const char *cpu, *features;
} targets[] = {
    {"x86-64", NULL},                          /* 4 lanes, 16 registers */
    {"x86-64-v3", NULL},                       /* 8 lanes, 16 registers */
    {"skylake-avx512", NULL},                  /* 16 lanes, 32 registers */
    {"skylake-avx512", "-prefer-256-bit"},
};
enum { NTARGETS = sizeof targets / sizeof *targets };

/* A constant f32 literal of `rank` dims (nested braces) with small
 * integers. */
static void constant_text(HloStr *s, int rank, const int64_t *dims, uint64_t *seed) {
  hlo_str_printf(s, "{");
  for (int64_t i = 0; i < dims[0]; i++) {
    if (i) hlo_str_printf(s, ", ");
    if (rank > 1) constant_text(s, rank - 1, dims + 1, seed);
    else hlo_str_printf(s, "%d", (int)(cgt_rand(seed) % 17) - 8);
  }
  hlo_str_printf(s, "}");
}

/* Whether the kernel IR of text (for the target) holds a loop carrying
 * vector accumulators: the register tile. */
static bool has_tile(const char *text, const CgOptions *o) {
  HloModule *m = ck_parse_verified(text);
  char *kir = NULL;
  HloError *e = cg_emit_kir(m, o, &kir);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  bool yes = false;
  for (char *l = kir; l && *l && !yes; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    char *end = strchr(l, '\n');
    if (end) *end = '\0';
    yes = strstr(l, "= for ") && strstr(l, "iter(") && strstr(l, ") : vector<");
    if (end) *end = '\n';
  }
  yes = yes && strstr(kir, "fma ");
  free(kir);
  hlo_module_free(m);
  return yes;
}

/* Whether the module's depthwise convolution kernel runs by rows (gemm.c,
 * dw_rows_plan) for the target: 1 or 0, -1 when it has none. */
static int dw_rows(const HloModule *m, const CgOptions *o) {
  CgTarget target;
  HloError *e = cg_target_create(o, &target);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  CgGen g = {.m = m, .target = &target};
  int rows = -1;
  for (const HloInstr *x = m->entry->first; x; x = x->next) {
    CgGemm gm;
    if (cg_gemm_plan(&g, x, &gm) && gm.depthwise) rows = gm.dw_rows;
  }
  cg_target_free(&target);
  return rows;
}

/* Whether the module's convolution kernel runs by Winograd's F(2x2, 3x3)
 * (winograd.c) for the target: 1 or 0, -1 when it has none. */
static int winograd(const HloModule *m, const CgOptions *o) {
  CgTarget target;
  HloError *e = cg_target_create(o, &target);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  CgGen g = {.m = m, .target = &target};
  int yes = -1;
  for (const HloInstr *x = m->entry->first; x; x = x->next) {
    CgGemm gm;
    if (cg_gemm_plan(&g, x, &gm) && gm.op->op == HLO_OP_CONVOLUTION) yes = gm.winograd;
  }
  cg_target_free(&target);
  return yes;
}

/* Module text for target: after the pass pipeline its kernels hold the
 * register tile (a depthwise one by rows or not as want_rows says, a
 * convolution by Winograd or not as want_wino says; -1: either), and it
 * runs like the evaluator on small integers. */
static void check_tiled_as(const char *text, int target, uint64_t seed, double atol,
                           double rtol, int want_rows, int want_wino) {
  CgOptions o = {.name = "t", .cpu = targets[target].cpu, .features = targets[target].features};
  HloModule *mod = ck_parse_verified(text);
  PassPolicy policy;
  ck_assert(!cg_pass_policy(&o, &policy));
  ck_assert(!pass_run_pipeline(mod, &(PassOptions){.policy = &policy}));
  if (want_rows >= 0)
    ck_assert_msg(dw_rows(mod, &o) == want_rows, "depthwise by rows: want %d for:\n%s",
                  want_rows, text);
  if (want_wino >= 0)
    ck_assert_msg(winograd(mod, &o) == want_wino, "Winograd: want %d for %s:\n%.200s",
                  want_wino, targets[target].cpu, strstr(text, "convolution("));
  char *optimized = hlo_module_to_string(mod);
  hlo_module_free(mod);
  ck_assert_msg(has_tile(optimized, &o), "no register tile for:\n%s", optimized);
  free(optimized);
  cgt_check_opts(text, seed, true, true, &o, atol, rtol);
}

static void check_tiled(const char *text, int target, uint64_t seed, double atol, double rtol) {
  check_tiled_as(text, target, seed, atol, rtol, -1, -1);
}

/* [b,]m,k x [b,]k,n, B a parameter or a constant, with an epilogue:
 *   0 none, 1 bias + relu, 2 residual add + clamp, 3 tanh, 4 convert f16. */
static void check(int64_t b, int64_t m, int64_t k, int64_t n, bool const_b, int epilogue,
                  int target, uint64_t seed) {
  HloStr s = {0};
  char bm[32] = "", bk[32] = "", bn[32] = "";
  if (b) {
    snprintf(bm, sizeof bm, "%lld,", (long long)b);
    snprintf(bk, sizeof bk, "%lld,", (long long)b);
    snprintf(bn, sizeof bn, "%lld,", (long long)b);
  }
  const char *batch = b ? "lhs_batch_dims={0}, rhs_batch_dims={0}, " : "";
  int nb = b ? 1 : 0;
  hlo_str_printf(&s, "HloModule g\n\nENTRY main {\n  x = f32[%s%lld,%lld] parameter(0)\n", bm,
                 (long long)m, (long long)k);
  int next = 1;
  if (const_b) {
    int64_t dims[3] = {b, k, n};
    hlo_str_printf(&s, "  w = f32[%s%lld,%lld] constant(", bk, (long long)k, (long long)n);
    constant_text(&s, nb + 2, dims + (b ? 0 : 1), &seed);
    hlo_str_printf(&s, ")\n");
  } else {
    hlo_str_printf(&s, "  w = f32[%s%lld,%lld] parameter(%d)\n", bk, (long long)k, (long long)n,
                   next++);
  }
  hlo_str_printf(&s, "  d = f32[%s%lld,%lld] dot(x, w), %slhs_contracting_dims={%d}, "
                     "rhs_contracting_dims={%d}\n",
                 bn, (long long)m, (long long)n, batch, nb + 1, nb);
  const char *out = "f32";
  switch (epilogue) {
  case 0:
    hlo_str_printf(&s, "  ROOT r = f32[%s%lld,%lld] copy(d)\n", bn, (long long)m, (long long)n);
    break;
  case 1:
    hlo_str_printf(&s, "  c = f32[%lld] parameter(%d)\n", (long long)n, next++);
    hlo_str_printf(&s, "  cb = f32[%s%lld,%lld] broadcast(c), dimensions={%d}\n", bn,
                   (long long)m, (long long)n, nb + 1);
    hlo_str_printf(&s, "  a = f32[%s%lld,%lld] add(d, cb)\n  z = f32[] constant(0)\n", bn,
                   (long long)m, (long long)n);
    hlo_str_printf(&s, "  zb = f32[%s%lld,%lld] broadcast(z), dimensions={}\n", bn,
                   (long long)m, (long long)n);
    hlo_str_printf(&s, "  ROOT r = f32[%s%lld,%lld] maximum(a, zb)\n", bn, (long long)m,
                   (long long)n);
    break;
  case 2:
    hlo_str_printf(&s, "  y = f32[%s%lld,%lld] parameter(%d)\n", bn, (long long)m,
                   (long long)n, next++);
    hlo_str_printf(&s, "  a = f32[%s%lld,%lld] add(d, y)\n  lo = f32[] constant(-20)\n"
                       "  hi = f32[] constant(30)\n",
                   bn, (long long)m, (long long)n);
    hlo_str_printf(&s, "  ROOT r = f32[%s%lld,%lld] clamp(lo, a, hi)\n", bn, (long long)m,
                   (long long)n);
    break;
  case 3:
    hlo_str_printf(&s, "  k = f32[] constant(0.01)\n"
                       "  kb = f32[%s%lld,%lld] broadcast(k), dimensions={}\n"
                       "  a = f32[%s%lld,%lld] multiply(d, kb)\n"
                       "  ROOT r = f32[%s%lld,%lld] tanh(a)\n",
                   bn, (long long)m, (long long)n, bn, (long long)m, (long long)n, bn,
                   (long long)m, (long long)n);
    break;
  default:
    out = "f16";
    hlo_str_printf(&s, "  ROOT r = f16[%s%lld,%lld] convert(d)\n", bn, (long long)m,
                   (long long)n);
    break;
  }
  (void)out;
  hlo_str_printf(&s, "}\n");
  /* tanh: relative to its value, and absolute for sums the rounded
   * weights leave near 0 where the exact ones cancel (K products of
   * |x| ≤ 8 by a weight ≤ 0.08 rounded by 2^-24 relatively). */
  double rtol = epilogue == 3 ? 1e-5 : 0;
  double atol = epilogue == 3 ? (double)k * 8 * 0.08 * 0x1p-24 : 0;
  check_tiled(s.buf, target, seed, atol, rtol);
  free(s.buf);
}

START_TEST(tile_edges) {
  /* Rows: below, at and above the tile height (mr is 4 to 14 here); columns:
   * partial vectors, a partial last panel, whole panels. */
  static const int64_t ms[] = {1, 2, 5, 6, 7, 13, 15, 29};
  static const int64_t ns[] = {4, 5, 15, 16, 17, 33, 64, 65, 100};
  int t = _i;
  uint64_t seed = 1;
  for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
    for (size_t j = 0; j < sizeof ns / sizeof *ns; j++)
      check(0, ms[i], 7 + (int64_t)(i + j) % 5, ns[j], (i + j) % 2, 0, t, seed++);
}
END_TEST

START_TEST(epilogues_and_batches) {
  int t = _i;
  uint64_t seed = 100;
  for (int e = 0; e < 5; e++) {
    check(0, 9, 13, 37, false, e, t, seed++);
    check(0, 9, 13, 37, true, e, t, seed++);
    check(3, 5, 11, 20, false, e, t, seed++);
    /* K long enough for the epilogue's loop over the tile's rows
     * (gemm.c, EPILOGUE_LOOP_MIN_K). */
    check(0, 9, 40, 37, e % 2, e, t, seed++);
    check(2, 15, 33, 20, false, e, t, seed++);
  }
  /* K = 1, and a long K. */
  check(0, 8, 1, 48, true, 1, t, seed++);
  check(0, 4, 300, 24, true, 1, t, seed++);
  /* K blocked (gemm.c, block_k: the slice of B over half the L1): several
   * blocks and a partial last one, groups of tiles and a partial group,
   * the partial tile, partial panels, every epilogue, batches; 700 blocks
   * even SSE2's narrow panels. */
  for (int e = 0; e < 5; e++) {
    check(0, 29, 200, 37, e % 2, e, t, seed++);
    check(2, 13, 200, 100, e % 2 == 0, e, t, seed++);
  }
  check(0, 130, 700, 20, true, 1, t, seed++);
}
END_TEST

/* A convolution case: NHWC input [n, h, w, ci] (h 0: one spatial dim),
 * HWIO kernel kh × kw, co output features, the window string, and an
 * epilogue: 0 none, 1 bias + relu, 2 residual add + clamp, 3 bias + relu6
 * (MobileNet's). */
typedef struct ConvCase {
  int64_t n, h, w, ci, co, kh, kw;
  const char *window;
  bool depthwise; /* co = ci, a group per feature */
  int rows;       /* depthwise: by rows (1) or not (0) on every target;
                   * -1: either */
  bool wino;      /* by Winograd on every target (its kernel constant) */
} ConvCase;

/* Checks one case, the output shape computed from the window (its size,
 * stride, pad and rhs_dilate). */
static void conv_check(const ConvCase *cc, bool const_k, int epilogue, int target,
                       uint64_t seed) {
  int ns = cc->h ? 2 : 1;
  int64_t in[2] = {cc->h, cc->w}, k[2] = {cc->kh, cc->kw}, stride[2] = {1, 1},
          dil[2] = {1, 1}, plo[2] = {0, 0}, phi[2] = {0, 0};
  const char *p;
  if ((p = strstr(cc->window, "stride=")))
    sscanf(p, ns == 2 ? "stride=%ldx%ld" : "stride=%ld", (long *)&stride[2 - ns],
           (long *)&stride[1]);
  if ((p = strstr(cc->window, "rhs_dilate=")))
    sscanf(p, ns == 2 ? "rhs_dilate=%ldx%ld" : "rhs_dilate=%ld", (long *)&dil[2 - ns],
           (long *)&dil[1]);
  if ((p = strstr(cc->window, "pad=")))
    sscanf(p, ns == 2 ? "pad=%ld_%ldx%ld_%ld" : "pad=%ld_%ld", (long *)&plo[2 - ns],
           (long *)&phi[2 - ns], (long *)&plo[1], (long *)&phi[1]);
  int64_t out[2];
  for (int d = 2 - ns; d < 2; d++)
    out[d] = (in[d] + plo[d] + phi[d] - ((k[d] - 1) * dil[d] + 1)) / stride[d] + 1;
  char xs[64], ks[64], os[64];
  if (ns == 2) {
    snprintf(xs, sizeof xs, "%lld,%lld,%lld,%lld", (long long)cc->n, (long long)cc->h,
             (long long)cc->w, (long long)cc->ci);
    snprintf(ks, sizeof ks, "%lld,%lld,%lld,%lld", (long long)cc->kh, (long long)cc->kw,
             (long long)(cc->depthwise ? 1 : cc->ci), (long long)cc->co);
    snprintf(os, sizeof os, "%lld,%lld,%lld,%lld", (long long)cc->n, (long long)out[0],
             (long long)out[1], (long long)cc->co);
  } else {
    snprintf(xs, sizeof xs, "%lld,%lld,%lld", (long long)cc->n, (long long)cc->w,
             (long long)cc->ci);
    snprintf(ks, sizeof ks, "%lld,%lld,%lld", (long long)cc->kw,
             (long long)(cc->depthwise ? 1 : cc->ci), (long long)cc->co);
    snprintf(os, sizeof os, "%lld,%lld,%lld", (long long)cc->n, (long long)out[1],
             (long long)cc->co);
  }
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[%s] parameter(0)\n", xs);
  int next = 1;
  if (const_k) {
    int64_t dims[4] = {cc->kh, cc->kw, cc->depthwise ? 1 : cc->ci, cc->co};
    hlo_str_printf(&s, "  k = f32[%s] constant(", ks);
    constant_text(&s, ns + 2, dims + (2 - ns), &seed);
    hlo_str_printf(&s, ")\n");
  } else {
    hlo_str_printf(&s, "  k = f32[%s] parameter(%d)\n", ks, next++);
  }
  hlo_str_printf(&s, "  d = f32[%s] convolution(x, k), window={%s}, dim_labels=%s", os,
                 cc->window, ns == 2 ? "b01f_01io->b01f" : "b0f_0io->b0f");
  if (cc->depthwise) hlo_str_printf(&s, ", feature_group_count=%lld", (long long)cc->ci);
  hlo_str_printf(&s, "\n");
  switch (epilogue) {
  case 0:
    hlo_str_printf(&s, "  ROOT r = f32[%s] copy(d)\n", os);
    break;
  case 1:
    hlo_str_printf(&s, "  c = f32[%lld] parameter(%d)\n", (long long)cc->co, next++);
    hlo_str_printf(&s, "  cb = f32[%s] broadcast(c), dimensions={%d}\n", os, ns + 1);
    hlo_str_printf(&s, "  a = f32[%s] add(d, cb)\n  z = f32[] constant(0)\n", os);
    hlo_str_printf(&s, "  zb = f32[%s] broadcast(z), dimensions={}\n", os);
    hlo_str_printf(&s, "  ROOT r = f32[%s] maximum(a, zb)\n", os);
    break;
  case 2:
    hlo_str_printf(&s, "  y = f32[%s] parameter(%d)\n", os, next++);
    hlo_str_printf(&s, "  a = f32[%s] add(d, y)\n  lo = f32[] constant(-20)\n"
                       "  hi = f32[] constant(30)\n",
                   os);
    hlo_str_printf(&s, "  ROOT r = f32[%s] clamp(lo, a, hi)\n", os);
    break;
  default:
    hlo_str_printf(&s, "  c = f32[%lld] parameter(%d)\n", (long long)cc->co, next++);
    hlo_str_printf(&s, "  cb = f32[%s] broadcast(c), dimensions={%d}\n", os, ns + 1);
    hlo_str_printf(&s, "  a = f32[%s] add(d, cb)\n  lo = f32[] constant(0)\n"
                       "  hi = f32[] constant(6)\n",
                   os);
    hlo_str_printf(&s, "  ROOT r = f32[%s] clamp(lo, a, hi)\n", os);
    break;
  }
  hlo_str_printf(&s, "}\n");
  check_tiled_as(s.buf, target, seed, 0, 0, cc->depthwise ? cc->rows : -1,
                 cc->wino && const_k ? 1 : -1);
  free(s.buf);
}

START_TEST(convolutions) {
  /* Same and valid padding, strides, window dilation, asymmetric and
   * negative padding, 1x1 (with and without stride), 7x7 stride 2 (a
   * stem), one spatial dim, a batch of 2, odd feature counts (partial
   * vectors), windows wider than the input, every tile a border tile;
   * depthwise ones. */
  static const ConvCase cases[] = {
      {1, 6, 7, 3, 8, 3, 3, "size=3x3 pad=1_1x1_1"},
      {2, 5, 5, 4, 17, 3, 3, "size=3x3"},
      {1, 9, 8, 5, 20, 3, 3, "size=3x3 stride=2x2 pad=1_1x1_1"},
      {1, 7, 9, 3, 6, 3, 2, "size=3x2 rhs_dilate=2x3 pad=2_2x3_3"},
      {1, 6, 6, 2, 5, 3, 3, "size=3x3 stride=2x1 pad=0_1x2_0"},
      {1, 8, 8, 3, 4, 3, 3, "size=3x3 pad=-1_1x1_-1"},
      {1, 5, 7, 16, 33, 1, 1, "size=1x1"},
      {2, 7, 7, 8, 12, 1, 1, "size=1x1 stride=2x2"},
      {1, 11, 11, 3, 16, 7, 7, "size=7x7 stride=2x2 pad=3_3x3_3"},
      {2, 0, 13, 3, 7, 0, 4, "size=4 stride=3 pad=1_2"},
      {1, 2, 2, 3, 9, 5, 5, "size=5x5 pad=2_2x2_2"},
      /* long K: many input features per tap (strided, every tile a border
       * tile), and a 1x1 K blocked in blocks of input features (block_k) */
      {1, 6, 7, 40, 20, 3, 3, "size=3x3 pad=1_1x1_1"},
      {1, 5, 9, 150, 33, 3, 3, "size=3x3 stride=2x1 pad=1_1x1_1"},
      {1, 7, 7, 300, 24, 1, 1, "size=1x1"},
      {1, 3, 3, 64, 17, 3, 3, "size=3x3 pad=1_1x1_1"},
      /* a panel too big for half the L2 (AVX-512: 1152 x 64 floats): K
       * blocked across taps and prefetched, the partial tile in the group */
      {1, 4, 4, 128, 64, 3, 3, "size=3x3 pad=1_1x1_1"},
      /* depthwise: whole and partial vectors of features, strided, 1-D */
      {1, 9, 9, 32, 32, 3, 3, "size=3x3 pad=1_1x1_1", true, 1},
      {2, 8, 7, 20, 20, 3, 3, "size=3x3 stride=2x2 pad=0_1x0_1", true, 1},
      {1, 6, 6, 5, 5, 5, 5, "size=5x5 pad=2_2x2_2 rhs_dilate=1x2", true, 1},
      {1, 0, 17, 24, 24, 0, 3, "size=3 pad=1_1", true, 1},
  };
  int t = _i;
  uint64_t seed = 500;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (int e = 0; e < 3; e++) conv_check(&cases[i], (i + (size_t)e) % 2, e, t, seed++);
}
END_TEST

START_TEST(depthwise_rows) {
  /* Rows wide enough for tiles between the first and the last (up to 16
   * pixels a tile here), a last tile of the rest; kernel rows in padding
   * at the top and bottom, and rows whose every kernel row is (pad 4 of a
   * 3-row window); stride 2 with TF's SAME padding (0 before, 1 after) and
   * symmetric; dilation, with stride 2 too (every other input vector
   * unread); 5x5 (EfficientNet) and 7x7 (K long enough for the
   * epilogue's row loop); negative padding; a 1-D one; batches (the rows
   * of two images); prime sizes and feature counts off every vector width
   * (5, 13, 19, 37).  Then padding too wide for the middle tiles to read
   * inside the input: the tiles of consecutive pixels instead. */
  static const ConvCase cases[] = {
      {1, 5, 40, 20, 20, 3, 3, "size=3x3 pad=1_1x1_1", true, 1},
      {1, 3, 40, 16, 16, 3, 3, "size=3x3 pad=4_4x1_1", true, 1},
      {1, 5, 71, 19, 19, 3, 3, "size=3x3 stride=2x2 pad=1_1x1_1", true, 1},
      {2, 6, 64, 24, 24, 3, 3, "size=3x3 stride=2x2 pad=0_1x0_1", true, 1},
      {1, 9, 43, 17, 17, 3, 3, "size=3x3 pad=2_2x2_2 rhs_dilate=2x2", true, 1},
      {1, 5, 45, 16, 16, 3, 3, "size=3x3 stride=2x2 pad=2_2x2_2 rhs_dilate=2x2", true, 1},
      {1, 11, 53, 40, 40, 5, 5, "size=5x5 stride=2x2 pad=1_2x1_2", true, 1},
      {1, 9, 41, 8, 8, 7, 7, "size=7x7 pad=3_3x3_3", true, 1},
      {1, 6, 40, 13, 13, 3, 3, "size=3x3 pad=-1_1x-1_1", true, 1},
      {1, 7, 31, 37, 37, 3, 3, "size=3x3 stride=1x2 pad=1_1x1_1", true, 1},
      {2, 0, 50, 5, 5, 0, 5, "size=5 pad=2_2", true, 1},
      {1, 4, 41, 16, 16, 3, 3, "size=3x3 pad=1_1x20_20", true, 0},
  };
  int t = _i;
  uint64_t seed = 900;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (int e = 0; e < 4; e += 2)
      conv_check(&cases[i], (i + (size_t)e / 2) % 2, (int)(e + i) % 4, t, seed++);
}
END_TEST

START_TEST(winograd_3x3) {
  /* Winograd F(2x2, 3x3), exact on small integers: same padding, valid
   * (odd output sizes: blocks past the last row and column), asymmetric
   * and wide padding (blocks whose patches lie mostly in padding), a
   * batch of 2 (blocks of two images in one tile), input features off
   * every vector width (41, 20: the transform's masked last vector),
   * output features leaving a partial last panel (80 with AVX-512, 48
   * with AVX2), the last tile of fewer blocks; every epilogue. */
  static const ConvCase cases[] = {
      {1, 10, 12, 32, 48, 3, 3, "size=3x3 pad=1_1x1_1", .wino = true},
      {1, 17, 19, 20, 32, 3, 3, "size=3x3", .wino = true},
      {2, 9, 8, 41, 64, 3, 3, "size=3x3 pad=1_1x1_1", .wino = true},
      {1, 8, 9, 24, 80, 3, 3, "size=3x3 pad=0_1x1_0", .wino = true},
      {1, 13, 6, 16, 16, 3, 3, "size=3x3 pad=2_2x1_1", .wino = true},
  };
  int t = _i;
  uint64_t seed = 1300;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    for (int e = 0; e < 4; e++) conv_check(&cases[i], true, (int)(e + i) % 4, t, seed++);
}
END_TEST

/* Winograd with the products' K loop blocked (winograd.c), exact on small
 * integers (|V| <= 32, |U| <= 18 in quarters: a product's sum over 700
 * features and the output transform's 9 of those stay below 2^22, exact
 * in f32): so many input features that a U panel's slice fits half the
 * 512 KiB L2 only in several K blocks (700: 3 blocks with SSE's 12-float
 * panels, the last shorter, 5 with AVX2's 24, 6 with AVX-512's 32), odd
 * output sizes and padding (8×8 blocks: 5 tiles of AVX-512's 14, the last
 * of 8, the fewest WG_MIN_TILES lets a U beyond half the L2 have); 200
 * features (2 blocks with AVX2, the second shorter; one pass with SSE)
 * over 10×10 blocks, more tiles than a group holds with AVX2 (21 of 4
 * blocks) so the sums wait for several groups; 32 output features (a
 * partial last panel); fused epilogues.  winograd_k_plans checks that
 * these plans are K blocked. */
static const ConvCase wino_k_cases[] = {
    {1, 15, 15, 700, 32, 3, 3, "size=3x3 pad=1_1x1_1", .wino = true},
    {1, 20, 19, 200, 32, 3, 3, "size=3x3 pad=1_1x1_1", .wino = true},
};

START_TEST(winograd_k_blocked) {
  int t = _i;
  uint64_t seed = 1700;
  for (size_t i = 0; i < sizeof wino_k_cases / sizeof *wino_k_cases; i++)
    for (int e = 0; e < 2; e++)
      conv_check(&wino_k_cases[i], true, (int)(2 * i + e + 1) % 4, t, seed++);
}
END_TEST

/* The plan of text's one register-tiled kernel after the pass pipeline,
 * for target. */
static CgGemm plan_of_as(const char *text, int target, bool exact) {
  CgOptions o = {.name = "t", .cpu = targets[target].cpu, .features = targets[target].features,
                 .exact_winograd = exact};
  HloModule *m = ck_parse_verified(text);
  PassPolicy policy;
  ck_assert(!cg_pass_policy(&o, &policy));
  ck_assert(!pass_run_pipeline(m, &(PassOptions){.policy = &policy}));
  CgTarget t;
  HloError *e = cg_target_create(&o, &t);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  CgGen g = {.m = m, .target = &t};
  CgGemm gm = {0}, any;
  int n = 0;
  for (const HloInstr *x = m->entry->first; x; x = x->next)
    if (cg_gemm_plan(&g, x, &any)) {
      gm = any;
      n++;
    }
  ck_assert_int_eq(n, 1);
  cg_target_free(&t);
  hlo_module_free(m);
  gm.op = gm.root = gm.packed = NULL; /* freed with the module */
  return gm;
}

static CgGemm plan_of(const char *text, int target) { return plan_of_as(text, target, false); }

START_TEST(blocking_plans) {
  /* What the cases above count on, for AVX-512 (the named CPU's default
   * caches: 32 KiB L1, 512 KiB L2): a dot with constant B and few passes
   * over its panel is K blocked and prefetched, one with B a parameter is
   * not prefetched (B is read in place); a 3x3 convolution whose panel
   * exceeds half the L2 is blocked and prefetched, a smaller one not
   * blocked; the groups are even and hold the partial tile. */
  uint64_t seed = 3;
  for (int k = 0; k < 4; k++) {
    HloStr s = {0};
    int64_t ci = k == 2 ? 128 : 64, dims[4] = {3, 3, ci, 64}, wd[2] = {200, 37};
    if (k < 2) {
      hlo_str_printf(&s, "HloModule d\n\nENTRY main {\n  x = f32[29,200] parameter(0)\n");
      if (k == 0) {
        hlo_str_printf(&s, "  w = f32[200,37] constant(");
        constant_text(&s, 2, wd, &seed);
        hlo_str_printf(&s, ")\n");
      } else {
        hlo_str_printf(&s, "  w = f32[200,37] parameter(1)\n");
      }
      hlo_str_printf(&s, "  ROOT d = f32[29,37] dot(x, w), lhs_contracting_dims={1}, "
                         "rhs_contracting_dims={0}\n}\n");
    } else {
      hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,4,4,%lld] parameter(0)\n",
                     (long long)ci);
      hlo_str_printf(&s, "  k = f32[3,3,%lld,64] constant(", (long long)ci);
      constant_text(&s, 4, dims, &seed);
      hlo_str_printf(&s, ")\n  ROOT c = f32[1,4,4,64] convolution(x, k), "
                         "window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n");
    }
    CgGemm gm = plan_of(s.buf, 2);
    free(s.buf);
    switch (k) {
    case 0: /* 5 tiles (the last of 5 rows): one pass */
      ck_assert(gm.kc > 0 && gm.prefetch && gm.M % gm.mr && gm.group == gm.ntiles);
      break;
    case 1: ck_assert(gm.kc > 0 && !gm.prefetch); break;
    case 2: ck_assert(gm.kc > 0 && gm.prefetch && gm.M % gm.mr); break;
    default: ck_assert(gm.kc == 0 && !gm.prefetch); break;
    }
  }
}
END_TEST

START_TEST(winograd_plans) {
  /* For AVX-512 with the named CPU's 512 KiB L2: Winograd where the
   * operation count pays and a panel of U (16 × 64 × 64 floats, 256 KiB)
   * fits half the L2; not for 2 tiles of blocks a panel when U as a whole
   * (512 KiB) does not fit it, nor when there are 6; not for a kernel
   * computed at run time. */
  static const struct {
    int hw, co;
    bool constant, want;
  } cases[] = {{6, 64, true, true}, {6, 128, true, false}, {12, 128, true, true},
               {6, 64, false, false}};
  uint64_t seed = 11;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    HloStr s = {0};
    int64_t dims[4] = {3, 3, 64, cases[i].co};
    hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,%d,%d,64] parameter(0)\n",
                   cases[i].hw, cases[i].hw);
    if (cases[i].constant) {
      hlo_str_printf(&s, "  k = f32[3,3,64,%d] constant(", cases[i].co);
      constant_text(&s, 4, dims, &seed);
      hlo_str_printf(&s, ")\n");
    } else {
      hlo_str_printf(&s, "  k = f32[3,3,64,%d] parameter(1)\n", cases[i].co);
    }
    hlo_str_printf(&s, "  ROOT c = f32[1,%d,%d,%d] convolution(x, k), window={size=3x3 "
                       "pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n",
                   cases[i].hw, cases[i].hw, cases[i].co);
    CgGemm gm = plan_of(s.buf, 2);
    free(s.buf);
    ck_assert_msg(gm.winograd == cases[i].want, "case %zu: Winograd %d", i, gm.winograd);
  }
}
END_TEST

START_TEST(winograd_form_plans) {
  /* Which form each real layer gets with AVX2 (x86-64-v3: 8 lanes, the
   * 4 × 24 tile, the named CPU's 512 KiB L2, as the Zen 3 measured in
   * winograd.c): F(4x4, 3x3) for ResNet-50's 56²×64 and 28²×128 and
   * Inception-V3's 35²×64→96 and 147²×32→64 (valid), the operation count
   * 0.6-0.75 of F(2x2, 3x3)'s; F(2x2, 3x3) for ResNet-50's 14²×256 (4
   * tiles of 4×4 blocks a panel of F(4x4, 3x3)'s, whose U does not fit
   * half the L2: fewer than WG_MIN_TILES); direct for 7²×512 (either
   * form too few tiles); with exact_winograd, F(2x2, 3x3) wherever
   * Winograd runs.  And the register tile F(4x4, 3x3) takes. */
  static const struct {
    int h, w, ci, co;
    bool same;
    int form, exact_form;
  } cases[] = {
      {56, 56, 64, 64, true, 4, 2},   {28, 28, 128, 128, true, 4, 2},
      {14, 14, 256, 256, true, 2, 2}, {7, 7, 512, 512, true, 0, 0},
      {35, 35, 64, 96, true, 4, 2},   {147, 147, 32, 64, false, 4, 2},
  };
  uint64_t seed = 21;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int oh = cases[i].same ? cases[i].h : cases[i].h - 2;
    int ow = cases[i].same ? cases[i].w : cases[i].w - 2;
    HloStr s = {0};
    int64_t dims[4] = {3, 3, cases[i].ci, cases[i].co};
    hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,%d,%d,%d] parameter(0)\n",
                   cases[i].h, cases[i].w, cases[i].ci);
    hlo_str_printf(&s, "  k = f32[3,3,%d,%d] constant(", cases[i].ci, cases[i].co);
    constant_text(&s, 4, dims, &seed);
    hlo_str_printf(&s, ")\n  ROOT c = f32[1,%d,%d,%d] convolution(x, k), window={size=3x3%s}, "
                       "dim_labels=b01f_01io->b01f\n}\n",
                   oh, ow, cases[i].co, cases[i].same ? " pad=1_1x1_1" : "");
    for (int exact = 0; exact < 2; exact++) {
      CgGemm gm = plan_of_as(s.buf, 1, exact);
      int form = gm.winograd ? gm.wg_m : 0, want = exact ? cases[i].exact_form : cases[i].form;
      ck_assert_msg(form == want, "%dx%dx%d->%d%s: form %d, want %d", cases[i].h, cases[i].w,
                    cases[i].ci, cases[i].co, exact ? " (exact)" : "", form, want);
      /* 56²×64 on gemm.c's 4 × 24 tile; 28²×128 on 2 × 32 (4 whole
       * panels instead of 6, the last of one vector: WG_TILE_GAIN) */
      if (!exact && i < 2)
        ck_assert_msg(gm.mr == (i ? 2 : 4) && gm.nv == (i ? 4 : 3), "case %zu: tile %d x %d", i,
                      gm.mr, gm.nv);
    }
    free(s.buf);
  }
}
END_TEST

START_TEST(winograd_k_plans) {
  /* The plans winograd_k_blocked counts on (exact: F(2x2, 3x3)), for every target: Winograd,
   * the 700 features in several K blocks of whole vectors, the last one
   * shorter; with AVX2, the 200 features in 2 blocks over more tiles than
   * a group. */
  for (int t = 0; t < NTARGETS; t++)
    for (size_t i = 0; i < sizeof wino_k_cases / sizeof *wino_k_cases; i++) {
      const ConvCase *cc = &wino_k_cases[i];
      uint64_t seed = 5;
      int64_t dims[4] = {3, 3, cc->ci, cc->co};
      HloStr s = {0};
      hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,%lld,%lld,%lld] parameter(0)\n",
                     (long long)cc->h, (long long)cc->w, (long long)cc->ci);
      hlo_str_printf(&s, "  k = f32[3,3,%lld,%lld] constant(", (long long)cc->ci,
                     (long long)cc->co);
      constant_text(&s, 4, dims, &seed);
      hlo_str_printf(&s, ")\n  ROOT c = f32[1,%lld,%lld,%lld] convolution(x, k), window={%s}, "
                         "dim_labels=b01f_01io->b01f\n}\n",
                     (long long)cc->h, (long long)cc->w, (long long)cc->co, cc->window);
      CgGemm gm = plan_of_as(s.buf, t, true);
      free(s.buf);
      ck_assert_msg(gm.winograd && gm.wg_m == 2, "target %d case %zu: not by F(2x2, 3x3)", t, i);
      ck_assert_int_eq(gm.wg_kc % gm.lanes, 0);
      if (i == 0)
        ck_assert_msg(gm.wg_kc < gm.IC && gm.IC % gm.wg_kc && gm.IC / gm.wg_kc >= 2,
                      "target %d: kc %lld", t, (long long)gm.wg_kc);
      if (i == 1 && t == 1)
        ck_assert_msg(gm.wg_kc < gm.IC && gm.IC % gm.wg_kc && gm.ntiles > gm.wg_group,
                      "kc %lld, %lld tiles in groups of %lld", (long long)gm.wg_kc,
                      (long long)gm.ntiles, (long long)gm.wg_group);
    }
}
END_TEST

/* The Winograd form (2 or 4; 0: direct) of the module's convolution for o. */
static int wg_form(const HloModule *m, const CgOptions *o) {
  CgTarget target;
  HloError *e = cg_target_create(o, &target);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  CgGen g = {.m = m, .target = &target};
  int form = 0;
  for (const HloInstr *x = m->entry->first; x; x = x->next) {
    CgGemm gm;
    if (cg_gemm_plan(&g, x, &gm) && gm.op->op == HLO_OP_CONVOLUTION)
      form = gm.winograd ? gm.wg_m : 0;
  }
  cg_target_free(&target);
  return form;
}

/* The literal text of `rank` dims (nested braces) of the floats at *v,
 * each printed so that it reads back exactly. */
static void floats_text(HloStr *s, int rank, const int64_t *dims, const float **v) {
  hlo_str_printf(s, "{");
  for (int64_t i = 0; i < dims[0]; i++) {
    if (i) hlo_str_printf(s, ", ");
    if (rank > 1) floats_text(s, rank - 1, dims + 1, v);
    else hlo_str_printf(s, "%.9g", *(*v)++);
  }
  hlo_str_printf(s, "}");
}

/* A value of magnitude in [0.5, 1], either sign, exact in f32. */
static float half_to_one(uint64_t *seed) {
  float v = 0.5f + (float)(cgt_rand(seed) >> 40) * 0x1p-25f;
  return cgt_rand(seed) & 1 ? -v : v;
}

/* A case of F(4x4, 3x3): NHWC input n × h × w × ci, co output features,
 * same (pad 1) or valid padding, an epilogue as conv_check's (0 none, 1
 * bias + relu, 2 residual add + clamp, 3 bias + relu6), whether the plan
 * must be K blocked. */
typedef struct F4Case {
  int64_t n, h, w, ci, co;
  bool same;
  int epilogue;
  bool k_blocked;
} F4Case;

/* The Winograd cases' epilogue after the convolution d (of shape os, co
 * output features), and the end of the module: none (a copy), a residual
 * add clamped to [-20, 30], or a bias clamped to [0, 3e38] (ReLU) or to
 * [0, 6] (ReLU6); returns the module's argument count. */
static int epilogue_text(HloStr *s, int epilogue, const char *os, int64_t co) {
  if (epilogue == 0) hlo_str_printf(s, "  ROOT r = f32[%s] copy(d)\n", os);
  else if (epilogue == 2)
    hlo_str_printf(s, "  y = f32[%s] parameter(1)\n  a = f32[%s] add(d, y)\n"
                      "  lo = f32[] constant(-20)\n  hi = f32[] constant(30)\n"
                      "  ROOT r = f32[%s] clamp(lo, a, hi)\n",
                   os, os, os);
  else
    hlo_str_printf(s, "  c = f32[%lld] parameter(1)\n  cb = f32[%s] broadcast(c), "
                      "dimensions={3}\n  a = f32[%s] add(d, cb)\n  lo = f32[] constant(0)\n"
                      "  hi = f32[] constant(%s)\n  ROOT r = f32[%s] clamp(lo, a, hi)\n",
                   (long long)co, os, os, epilogue == 1 ? "3e38" : "6", os);
  hlo_str_printf(s, "}\n");
  return 1 + (epilogue != 0);
}

/* One Winograd case: an n × h × w × ci input and a kh × kw × ci × co
 * constant kernel of values from half_to_one, a convolution with same
 * (centred, the extra row or column after) or valid padding, then
 * epilogue_text's epilogue; its arguments and the evaluator's result. */
typedef struct WgCase {
  float *xv, *kv, *cv; /* input, kernel, bias or residual (co + ny) */
  int64_t oh, ow, ph, pw, ny;
  HloModule *m;
  HloLiteral *args[2], *want;
  int nargs;
} WgCase;

static void wg_case_build(WgCase *w, const int64_t d[5], int64_t kh, int64_t kw, bool same,
                          int epilogue, uint64_t seed) {
  int64_t n = d[0], h = d[1], wd = d[2], ci = d[3], co = d[4];
  w->ph = same ? (kh - 1) / 2 : 0;
  w->pw = same ? (kw - 1) / 2 : 0;
  w->oh = same ? h : h - kh + 1;
  w->ow = same ? wd : wd - kw + 1;
  int64_t nx = n * h * wd * ci, nk = kh * kw * ci * co;
  w->ny = n * w->oh * w->ow * co;
  w->xv = malloc(nx * sizeof *w->xv);
  w->kv = malloc(nk * sizeof *w->kv);
  w->cv = malloc((co + w->ny) * sizeof *w->cv);
  for (int64_t i = 0; i < nx; i++) w->xv[i] = half_to_one(&seed);
  for (int64_t i = 0; i < nk; i++) w->kv[i] = half_to_one(&seed);
  for (int64_t i = 0; i < co + w->ny; i++) w->cv[i] = half_to_one(&seed);
  HloStr s = {0};
  char os[96], pad[64] = "";
  snprintf(os, sizeof os, "%lld,%lld,%lld,%lld", (long long)n, (long long)w->oh,
           (long long)w->ow, (long long)co);
  if (same)
    snprintf(pad, sizeof pad, " pad=%lld_%lldx%lld_%lld", (long long)w->ph,
             (long long)(kh - 1 - w->ph), (long long)w->pw, (long long)(kw - 1 - w->pw));
  hlo_str_printf(&s, "HloModule wg\n\nENTRY main {\n  x = f32[%lld,%lld,%lld,%lld] parameter(0)\n",
                 (long long)n, (long long)h, (long long)wd, (long long)ci);
  hlo_str_printf(&s, "  k = f32[%lld,%lld,%lld,%lld] constant(", (long long)kh, (long long)kw,
                 (long long)ci, (long long)co);
  const float *kp = w->kv;
  floats_text(&s, 4, (int64_t[]){kh, kw, ci, co}, &kp);
  hlo_str_printf(&s, ")\n  d = f32[%s] convolution(x, k), window={size=%lldx%lld%s}, "
                     "dim_labels=b01f_01io->b01f\n",
                 os, (long long)kh, (long long)kw, pad);
  w->nargs = epilogue_text(&s, epilogue, os, co);
  w->m = ck_parse_verified(s.buf);
  free(s.buf);
  for (int a = 0; a < w->nargs; a++) {
    w->args[a] = hlo_literal_new(&w->m->entry->params[a]->shape);
    memcpy(w->args[a]->data, a ? (epilogue == 2 ? w->cv + co : w->cv) : w->xv,
           hlo_shape_byte_size(&w->args[a]->shape));
  }
  w->want = ck_evaluate(w->m, w->args, w->nargs);
}

static void wg_case_free(WgCase *w) {
  hlo_literal_free(w->want);
  for (int a = 0; a < w->nargs; a++) hlo_literal_free(w->args[a]);
  hlo_module_free(w->m);
  free(w->xv);
  free(w->kv);
  free(w->cv);
}

/* Runs the case's program on 1, 2 and 3 threads into got[0..2] (the
 * caller frees them) and checks that the three agree bit for bit. */
static void wg_run_threads(const hloc_program *prog, const WgCase *w, float *got[3]) {
  for (int t = 0; t < 3; t++) {
    got[t] = malloc(w->ny * sizeof(float));
    memset(got[t], 0xA5, w->ny * sizeof(float));
    void *bufs[3] = {w->args[0]->data, w->nargs > 1 ? w->args[1]->data : got[t], got[t]};
    RtThreadPool *pool = t ? rt_threadpool_create(t + 1) : NULL;
    hloc_set_thread_pool(pool);
    ck_assert_int_eq(hloc_program_run(prog, bufs), 0);
    hloc_set_thread_pool(NULL);
    if (pool) rt_threadpool_free(pool);
  }
  ck_assert_msg(!memcmp(got[0], got[1], w->ny * sizeof(float)), "2 threads differ");
  ck_assert_msg(!memcmp(got[0], got[2], w->ny * sizeof(float)), "3 threads differ");
}

/* F(4x4, 3x3) is not exact (G has 1/6 and 1/24), so each output is
 * checked against the evaluator (double sums, rounded once) within a
 * bound derived for it.  With u = 2^-24 and first-order terms: U = G g
 * Gᵀ is rounded once (u|U|); each V = Bᵀ d B takes at most 8 roundings
 * (two passes of up to 4 nonzero terms); each product sums IC terms, one
 * fma a step; the output transform takes at most 10 (two passes of up to
 * 5 terms).  So |Y − y| ≤ (IC + 19) u (|Aᵀ| P |A|), P_ξ = Σ_ic (|G||g||Gᵀ|)_ξ
 * (|Bᵀ||d||B|)_ξ, that is (IC + 19) u W with W = Σ_ic Σ_p,q C_pq |d_p||g_q|
 * over the block's 6x6 input patch p and the 9 taps q, C_pq the product
 * of the 1-D C(i)_pq = Σ_ξ |Aᵀ_iξ||G_ξq||Bᵀ_ξp| of the output's row and
 * column in its block (blocks of 4x4 outputs from the output's origin).
 * C(i) has 1 where p = i + q (the exact algorithm's coefficient) or more,
 * so W ≥ S = Σ|x|·|w| over the output's window, and W ≤ 2304 S for
 * magnitudes in [0.5, 1] (ΣC ≤ 48² for the block's last output): in units
 * of S, the bound is at most 2304 (IC + 19) u, and 256 (IC + 19) u for a
 * block's first output.  The evaluator's rounding (u S) and the
 * epilogue's add (u (S + 1), the bias or residual being at most 1) add
 * 2 u (S + 1); relu and clamp do not increase errors.  The matrices
 * below are typed from Lavin and Gray's paper, apart from winograd.c's. */
static const double f4_bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0},
                                   {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                                   {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double f4_g[6][3] = {{1 / 4.0, 0, 0},          {-1 / 6.0, -1 / 6.0, -1 / 6.0},
                                  {-1 / 6.0, 1 / 6.0, -1 / 6.0}, {1 / 24.0, 1 / 12.0, 1 / 6.0},
                                  {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};
static const double f4_at[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

static void f4_check(const F4Case *c, int target, uint64_t seed) {
  WgCase wc;
  wg_case_build(&wc, (int64_t[]){c->n, c->h, c->w, c->ci, c->co}, 3, 3, c->same, c->epilogue,
                seed);
  HloModule *m = wc.m;
  int64_t oh = wc.oh, ow = wc.ow, p = c->same, ny = wc.ny;
  const float *xv = wc.xv, *kv = wc.kv;
  CgOptions o = {.name = "t", .cpu = targets[target].cpu, .features = targets[target].features};
  PassPolicy policy;
  ck_assert(!cg_pass_policy(&o, &policy));
  ck_assert(!pass_run_pipeline(m, &(PassOptions){.policy = &policy}));
  ck_assert_msg(wg_form(m, &o) == 4, "target %s: %lldx%lldx%lld->%lld not by F(4x4, 3x3)",
                targets[target].cpu, (long long)c->h, (long long)c->w, (long long)c->ci,
                (long long)c->co);
  if (c->k_blocked) {
    CgOptions ex = o;
    CgTarget t;
    ck_assert(!cg_target_create(&ex, &t));
    CgGen g = {.m = m, .target = &t};
    for (const HloInstr *x = m->entry->first; x; x = x->next) {
      CgGemm gm;
      if (cg_gemm_plan(&g, x, &gm))
        ck_assert_msg(gm.wg_kc < gm.IC && gm.wg_kc % gm.lanes == 0, "kc %lld of %lld",
                      (long long)gm.wg_kc, (long long)gm.IC);
    }
    cg_target_free(&t);
  }
  CgJit *j = cgt_jit_with(m, &o);
  const hloc_program *prog = cg_jit_program(j);
  if (cgt_host_runs(prog)) {
    float *got[3];
    wg_run_threads(prog, &wc, got);
    const float *y = wc.want->data;
    double C[4][6][3]; /* the 1-D C(i)_pq above */
    for (int i = 0; i < 4; i++)
      for (int pp = 0; pp < 6; pp++)
        for (int q = 0; q < 3; q++) {
          C[i][pp][q] = 0;
          for (int x = 0; x < 6; x++)
            C[i][pp][q] += fabs(f4_at[i][x]) * fabs(f4_g[x][q]) * fabs(f4_bt[x][pp]);
        }
    double *D = malloc(9 * c->ci * sizeof *D); /* Σ_p C_pq |d_p| per tap and feature */
    for (int64_t px = 0; px < ny / c->co; px++) {
      int64_t xo = px % ow, yo = px / ow % oh, b = px / ow / oh, bi = yo % 4, bj = xo % 4;
      for (int q = 0; q < 9; q++)
        for (int64_t ci = 0; ci < c->ci; ci++) {
          double sum = 0;
          for (int py = 0; py < 6; py++)
            for (int qx = 0; qx < 6; qx++) {
              int64_t yi = yo - bi + py - p, xi = xo - bj + qx - p;
              if (yi < 0 || yi >= c->h || xi < 0 || xi >= c->w) continue;
              sum += C[bi][py][q / 3] * C[bj][qx][q % 3] *
                     fabs(xv[((b * c->h + yi) * c->w + xi) * c->ci + ci]);
            }
          D[q * c->ci + ci] = sum;
        }
      for (int64_t co = 0; co < c->co; co++) {
        int64_t i = px * c->co + co;
        double S = 0, W = 0;
        for (int q = 0; q < 9; q++) {
          int64_t yi = yo + q / 3 - p, xi = xo + q % 3 - p;
          bool inside = yi >= 0 && yi < c->h && xi >= 0 && xi < c->w;
          for (int64_t ci = 0; ci < c->ci; ci++) {
            double w = fabs(kv[(q * c->ci + ci) * c->co + co]);
            W += w * D[q * c->ci + ci];
            if (inside) S += w * fabs(xv[((b * c->h + yi) * c->w + xi) * c->ci + ci]);
          }
        }
        double err = fabs((double)got[0][i] - y[i]);
        double bound = ((double)(c->ci + 19) * W + 2 * (S + 1)) * 0x1p-24;
        ck_assert_msg(err <= bound, "%s: output %lld (block pixel %lld,%lld): %.9g, want %.9g "
                      "(error %.3g > bound %.3g)", targets[target].cpu, (long long)i,
                      (long long)bi, (long long)bj, got[0][i], y[i], err, bound);
      }
    }
    free(D);
    for (int r = 0; r < 3; r++) free(got[r]);
  }
  cg_jit_free(j);
  wg_case_free(&wc);
}

START_TEST(winograd_f4) {
  /* Winograd F(4x4, 3x3) against the evaluator within the bound of
   * f4_check, bit-identical with 1, 2 and 3 threads: same padding with
   * sizes that are multiples of 4 and not (blocks past the last row and
   * column: 13 = 3·4 + 1, 10 = 2·4 + 2, 19 − 2 = 17), valid padding, a
   * batch of 2 (blocks of two images in a tile), input features off the
   * vector widths (41, 20: the transform's masked last vector), output
   * features leaving a partial last panel (32 and 64 with AVX2's 24-wide
   * panels); every epilogue.  Each plan is F(4x4, 3x3) on every target
   * (its U fits half the L2 or its panels serve 5 tiles or more). */
  static const F4Case cases[] = {
      {1, 16, 16, 32, 48, true, 0},   {1, 17, 19, 20, 32, false, 1},
      {2, 13, 10, 41, 32, true, 2},   {1, 18, 15, 24, 64, true, 3},
      {1, 22, 22, 16, 16, false, 1},
  };
  int t = _i;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) f4_check(&cases[i], t, 4000 + i);
}
END_TEST

START_TEST(winograd_f4_k_blocked) {
  /* F(4x4, 3x3) with the products' K loop blocked: a U panel's slice (36
   * × kc × nr floats) fits half the 512 KiB L2 only in several K blocks
   * (200 features: 72-wide blocks with AVX2, the last shorter; 48-wide
   * with AVX-512), odd output sizes, a fused epilogue. */
  static const F4Case cases[] = {
      {1, 31, 29, 200, 32, true, 1, true},
  };
  int t = _i;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) f4_check(&cases[i], t, 4100 + i);
}
END_TEST

/* A case of a 1-D Winograd form: NHWC input n × h × w × ci, a kh × kw
 * kernel (1 × r or r × 1), co output features, same or valid padding, an
 * epilogue as f4_check's, whether the plan must be K blocked.  The plan
 * must take a 1-D form F(m, r) along the kernel's axis (blocks of 1 × m
 * or m × 1 outputs), m as the target's costs choose. */
typedef struct W1Case {
  int64_t n, h, w, ci, co, kh, kw;
  bool same;
  int epilogue;
  bool k_blocked, exact; /* exact: with CgOptions.exact_winograd (F(2, 3)) */
} W1Case;

/* The finite interpolation points of F(m, r) (a = m + r − 1 of them with
 * ∞) as winograd.c documents them: 0, ±1 for F(2, 3); 0, ±1, ±2 for
 * F(4, 3); 0, ±1, ±2, ±1/2 for the 8-point F(2, 7) and F(6, 3); and ±3/2
 * for the 10-point F(4, 7). */
static const double w1_pts[] = {0, 1, -1, 2, -2, 0.5, -0.5, 1.5, -1.5};

/* C(i)_pq = Σ_ξ |Aᵀ_iξ||G_ξq||Bᵀ_ξp| of F(m, r) (as in f4_check), from
 * the points by Lagrange's construction (independent of winograd.c's
 * matrices; C does not change when a row of G is scaled and Bᵀ's row, or
 * Aᵀ's column, scaled back, so any scaling of the matrices has this C):
 * for a finite point x, Aᵀ_iξ = x^i, G_ξq = x^q and Bᵀ_ξ the coefficients
 * of Π_{l≠ξ} (t − x_l) / Π_{l≠ξ} (x − x_l); for ∞, Aᵀ and G pick the last
 * coefficient and Bᵀ is Π_l (t − x_l).  C[i][p][q], p < a, q < r; m = 1
 * (a kernel axis of size 1): C = 1. */
static void w1_coef(int m, int r, double C[6][10][7]) {
  int a = m + r - 1, n = a - 1;
  memset(C, 0, sizeof(double[6][10][7]));
  for (int x = 0; x < a; x++) {
    double poly[11] = {1}, norm = 1;
    int deg = 0;
    for (int l = 0; l < n; l++)
      if (l != x) {
        deg++;
        for (int k = deg; k >= 0; k--) poly[k] = (k ? poly[k - 1] : 0) - w1_pts[l] * poly[k];
        if (x < n) norm *= w1_pts[x] - w1_pts[l];
      }
    for (int i = 0; i < m; i++)
      for (int p = 0; p < a; p++)
        for (int q = 0; q < r; q++) {
          double at = x < n ? pow(w1_pts[x], i) : i == m - 1;
          double g = x < n ? pow(w1_pts[x], q) : q == r - 1;
          C[i][p][q] += fabs(at) * fabs(g) * fabs(poly[p] / norm);
        }
  }
}

/* A 1-D form is not exact on integers but F(2, 3) (1/45 and the like in
 * the 8-point forms' G): each output is checked against the evaluator
 * within a bound derived as f4_check's: U rounded once, at most a
 * roundings in V (one pass of at most a nonzero terms, a the form's
 * window) and a in the output transform, IC in the products: |Y − y| ≤
 * (IC + 2a + 1) u W + 2u (S + 1), W = Σ_ic Σ_p,q C(i)_pq |d_p||g_q| over
 * the block's a-wide input window along the kernel's axis, i the
 * output's place in its block.  The largest ΣC(i) (W/S for equal
 * magnitudes, times r) is 8 for F(2, 3), 48 for F(4, 3), 68 for F(6, 3)
 * 115 for F(2, 7) and 810 for F(4, 7), against 48² = 2304 for F(4×4,
 * 3×3).  Bit-identical with 1, 2 and 3 threads.
 * WG_ERR=1 prints the largest error seen, in u (S + 1). */
static void w1_check(const W1Case *c, int target, uint64_t seed) {
  int ax = c->kh == 1; /* the kernel's axis: 0 rows, 1 columns */
  int64_t r = ax ? c->kw : c->kh, m = 0;
  WgCase wc;
  wg_case_build(&wc, (int64_t[]){c->n, c->h, c->w, c->ci, c->co}, c->kh, c->kw, c->same,
                c->epilogue, seed);
  HloModule *mod = wc.m;
  int64_t ph = wc.ph, pw = wc.pw, oh = wc.oh, ow = wc.ow, ny = wc.ny;
  const float *xv = wc.xv, *kv = wc.kv;
  CgOptions o = {.name = "t", .cpu = targets[target].cpu, .features = targets[target].features,
                 .exact_winograd = c->exact};
  PassPolicy policy;
  ck_assert(!cg_pass_policy(&o, &policy));
  ck_assert(!pass_run_pipeline(mod, &(PassOptions){.policy = &policy}));
  CgTarget tg;
  ck_assert(!cg_target_create(&o, &tg));
  CgGen g = {.m = mod, .target = &tg};
  int planned = 0;
  for (const HloInstr *x = mod->entry->first; x; x = x->next) {
    CgGemm gm;
    if (!cg_gemm_plan(&g, x, &gm) || gm.op->op != HLO_OP_CONVOLUTION) continue;
    planned++;
    ck_assert_msg(gm.winograd && gm.wg_mb[!ax] == 1 && gm.wg_mb[ax] > 1,
                  "target %s: %lldx%lld kernel on %lldx%lldx%lld->%lld: blocks %dx%d, want "
                  "a 1-D form", targets[target].cpu, (long long)c->kh, (long long)c->kw,
                  (long long)c->h, (long long)c->w, (long long)c->ci, (long long)c->co,
                  gm.winograd ? gm.wg_mb[0] : 0, gm.winograd ? gm.wg_mb[1] : 0);
    m = gm.wg_mb[ax];
    ck_assert_msg(!c->exact || (m == 2 && r == 3), "exact: F(%lld, %lld)", (long long)m,
                  (long long)r);
    if (c->k_blocked)
      ck_assert_msg(gm.wg_kc < gm.IC && gm.wg_kc % gm.lanes == 0, "kc %lld of %lld",
                    (long long)gm.wg_kc, (long long)gm.IC);
  }
  ck_assert_int_eq(planned, 1);
  cg_target_free(&tg);
  int64_t a = m + r - 1;
  CgJit *j = cgt_jit_with(mod, &o);
  const hloc_program *prog = cg_jit_program(j);
  if (cgt_host_runs(prog)) {
    float *got[3];
    wg_run_threads(prog, &wc, got);
    static double C[6][10][7];
    w1_coef((int)m, (int)r, C);
    const float *y = wc.want->data;
    double worst = 0;
    for (int64_t px = 0; px < ny / c->co; px++) {
      int64_t xo = px % ow, yo = px / ow % oh, b = px / ow / oh;
      int64_t at = ax ? xo : yo, bi = at % m; /* the output's place in its block */
      for (int64_t co = 0; co < c->co; co++) {
        double S = 0, W = 0;
        for (int64_t q = 0; q < r; q++)
          for (int64_t ci = 0; ci < c->ci; ci++) {
            double w = fabs(kv[(q * c->ci + ci) * c->co + co]);
            for (int64_t pp = 0; pp < a; pp++) {
              int64_t yi = yo - ph, xi = xo - pw;
              if (ax) xi += pp - bi;
              else yi += pp - bi;
              if (yi < 0 || yi >= c->h || xi < 0 || xi >= c->w) continue;
              double d = fabs(xv[((b * c->h + yi) * c->w + xi) * c->ci + ci]);
              W += C[bi][pp][q] * w * d;
              if (pp - bi == q) S += w * d;
            }
          }
        int64_t i = px * c->co + co;
        double err = fabs((double)got[0][i] - y[i]);
        double bound = ((double)(c->ci + 2 * a + 1) * W + 2 * (S + 1)) * 0x1p-24;
        ck_assert_msg(err <= bound, "%s: output %lld (block place %lld): %.9g, want %.9g "
                      "(error %.3g > bound %.3g)", targets[target].cpu, (long long)i,
                      (long long)bi, got[0][i], y[i], err, bound);
        if (err / ((S + 1) * 0x1p-24) > worst) worst = err / ((S + 1) * 0x1p-24);
      }
    }
    if (getenv("WG_ERR"))
      fprintf(stderr, "%s %lldx%lld F(%lld, %lld): largest error %.2f u (S + 1)\n",
              targets[target].cpu, (long long)c->kh, (long long)c->kw, (long long)m,
              (long long)r, worst);
    for (int t = 0; t < 3; t++) free(got[t]);
  }
  cg_jit_free(j);
  wg_case_free(&wc);
}

START_TEST(winograd_1d) {
  /* The 1-D forms against the evaluator within w1_check's bound,
   * bit-identical with 1, 2 and 3 threads: 1×7 and 7×1 by F(4, 7), or by
   * F(2, 7) where the output is 2 wide along the kernel's axis, 1×3 and
   * 3×1 by F(m, 3); same and valid padding, output sizes off the block
   * (13, 15, 17, 11: blocks past the last row or column), a batch of 2,
   * input features off the vector widths (41), output features leaving a
   * partial last panel; every epilogue. */
  static const W1Case cases[] = {
      {1, 13, 15, 64, 32, 1, 7, true, 0},  {1, 13, 15, 64, 64, 7, 1, true, 1},
      {2, 9, 11, 96, 32, 1, 7, true, 2},   {1, 18, 17, 96, 32, 7, 1, false, 3},
      {1, 9, 11, 48, 96, 1, 3, true, 1},   {1, 13, 15, 96, 32, 3, 1, true, 2},
      {1, 17, 17, 41, 64, 1, 3, false, 3}, {1, 18, 12, 48, 32, 7, 1, false, 0},
      {1, 17, 2, 96, 64, 1, 7, true, 1},   {1, 8, 17, 96, 64, 7, 1, false, 2},
  };
  int t = _i;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) w1_check(&cases[i], t, 4200 + i);
}
END_TEST

START_TEST(winograd_1d_k_blocked) {
  /* A 1×7 form with the products' K loop blocked: 700 input features, a
   * U panel's slice (10 × kc × nr floats by F(4, 7)) fitting half the 512
   * KiB L2 only in several K blocks of whole vectors, the last shorter;
   * 15 output columns (an edge block); a fused epilogue. */
  static const W1Case cases[] = {{1, 17, 15, 700, 32, 1, 7, true, 1, true}};
  int t = _i;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) w1_check(&cases[i], t, 4300 + i);
}
END_TEST

START_TEST(winograd_1d_exact) {
  /* With exact_winograd, the 1-D F(2, 3) (0, ±1, ±1/2, as F(2×2, 3×3))
   * where it pays on AVX2; the others are not exact. */
  static const W1Case cases[] = {{1, 13, 15, 64, 32, 1, 3, true, 1, false, true},
                                 {1, 12, 12, 96, 32, 3, 1, false, 2, false, true}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) w1_check(&cases[i], 1, 4400 + i);
}
END_TEST

START_TEST(winograd_1d_plans) {
  /* Which form Inception-V3's 1-D layers get with AVX2 (x86-64-v3, the
   * named CPU's 512 KiB L2, as the Zen 3 measured in winograd.c):
   * F(4, 7) for the 17×17 1×7 and 7×1 ones (128, 160 and 192 features),
   * F(4, 3) for the 8×8×384 1×3 and 3×1 ones (4 tiles a panel, its U of
   * 3.5 MB beyond half the L2 but within half the L3); with
   * exact_winograd, the 1-D F(2, 3) there, direct for 1×7 and 7×1. */
  static const struct {
    int hw, ci, co, kh, kw, mh, mw, exact_mh, exact_mw;
  } cases[] = {
      {17, 128, 128, 1, 7, 1, 4, 0, 0}, {17, 128, 128, 7, 1, 4, 1, 0, 0},
      {17, 128, 192, 7, 1, 4, 1, 0, 0}, {17, 160, 160, 1, 7, 1, 4, 0, 0},
      {17, 160, 192, 7, 1, 4, 1, 0, 0}, {17, 192, 192, 1, 7, 1, 4, 0, 0},
      {17, 192, 192, 7, 1, 4, 1, 0, 0}, {8, 384, 384, 1, 3, 1, 4, 1, 2},
      {8, 384, 384, 3, 1, 4, 1, 2, 1},
  };
  uint64_t seed = 31;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int hw = cases[i].hw, kh = cases[i].kh, kw = cases[i].kw;
    HloStr s = {0};
    int64_t dims[4] = {kh, kw, cases[i].ci, cases[i].co};
    hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,%d,%d,%d] parameter(0)\n", hw, hw,
                   cases[i].ci);
    hlo_str_printf(&s, "  k = f32[%d,%d,%d,%d] constant(", kh, kw, cases[i].ci, cases[i].co);
    constant_text(&s, 4, dims, &seed);
    hlo_str_printf(&s, ")\n  ROOT c = f32[1,%d,%d,%d] convolution(x, k), window={size=%dx%d "
                       "pad=%d_%dx%d_%d}, dim_labels=b01f_01io->b01f\n}\n",
                   hw, hw, cases[i].co, kh, kw, kh / 2, kh / 2, kw / 2, kw / 2);
    for (int exact = 0; exact < 2; exact++) {
      CgGemm gm = plan_of_as(s.buf, 1, exact);
      int mh = gm.winograd ? gm.wg_mb[0] : 0, mw = gm.winograd ? gm.wg_mb[1] : 0;
      int wh = exact ? cases[i].exact_mh : cases[i].mh;
      int ww = exact ? cases[i].exact_mw : cases[i].mw;
      ck_assert_msg(mh == wh && mw == ww, "%dx%dx%d->%d %dx%d%s: blocks %dx%d, want %dx%d", hw, hw,
                    cases[i].ci, cases[i].co, kh, kw, exact ? " (exact)" : "", mh, mw, wh, ww);
    }
    free(s.buf);
  }
}
END_TEST

START_TEST(threads_agree) {
  /* Split by panels (N large), by rows of tiles (M large), and a padded
   * convolution (border and inside tiles): the same bits with 2 threads as
   * with none. */
  static const char *const mods[] = {
      "HloModule p\n\nENTRY main {\n  x = f32[24,96] parameter(0)\n  w = f32[96,200] parameter(1)\n"
      "  ROOT d = f32[24,200] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n",
      "HloModule r\n\nENTRY main {\n  x = f32[203,96] parameter(0)\n  w = f32[96,40] parameter(1)\n"
      "  ROOT d = f32[203,40] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n",
      /* K blocked, the rows of tiles split between the threads */
      "HloModule k\n\nENTRY main {\n  x = f32[203,300] parameter(0)\n  w = f32[300,70] parameter(1)\n"
      "  ROOT d = f32[203,70] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n",
      "HloModule c\n\nENTRY main {\n  x = f32[1,24,24,8] parameter(0)\n"
      "  k = f32[3,3,8,20] parameter(1)\n"
      "  ROOT c = f32[1,24,24,20] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
      "dim_labels=b01f_01io->b01f\n}\n",
      /* depthwise by rows: the units (tiles of a row) split mid-row */
      "HloModule d\n\nENTRY main {\n  x = f32[2,7,80,70] parameter(0)\n"
      "  k = f32[3,3,1,70] parameter(1)\n"
      "  ROOT c = f32[2,7,80,70] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
      "dim_labels=b01f_01io->b01f, feature_group_count=70\n}\n",
  };
  for (size_t i = 0; i < sizeof mods / sizeof *mods; i++) {
    HloModule *m = ck_parse_verified(mods[i]);
    HloLiteral *args[2];
    uint64_t s = 77 + i;
    for (int a = 0; a < 2; a++) {
      args[a] = hlo_literal_new(&m->entry->params[a]->shape);
      cgt_fill_values(args[a], &s, false);
    }
    HloLiteral *want = ck_evaluate(m, args, 2);
    CgJit *j = cgt_jit(m, "t");
    ck_assert(strstr(cg_jit_program(j)->name, "t"));
    HloLiteral *serial = hlo_literal_new(&m->entry->root->shape);
    HloLiteral *threaded = hlo_literal_new(&m->entry->root->shape);
    void *bufs[3] = {args[0]->data, args[1]->data, serial->data};
    ck_assert_int_eq(hloc_program_run(cg_jit_program(j), bufs), 0);
    RtThreadPool *pool = rt_threadpool_create(2);
    hloc_set_thread_pool(pool);
    bufs[2] = threaded->data;
    ck_assert_int_eq(hloc_program_run(cg_jit_program(j), bufs), 0);
    hloc_set_thread_pool(NULL);
    rt_threadpool_free(pool);
    ck_assert(!memcmp(serial->data, threaded->data, hlo_shape_byte_size(&serial->shape)));
    char msg[256];
    ck_assert_msg(ck_allclose(serial, want, 1e-3, 1e-4, msg, sizeof msg), "%s", msg);
    hlo_literal_free(serial);
    hlo_literal_free(threaded);
    hlo_literal_free(want);
    for (int a = 0; a < 2; a++) hlo_literal_free(args[a]);
    cg_jit_free(j);
    hlo_module_free(m);
  }
}
END_TEST

START_TEST(consuming_build) {
  /* cg_program_build_consuming frees each literal once the program has
   * taken every form of it: w is packed for two dots and read unpacked by
   * a negate, k is a convolution's (Winograd's where it pays).  Both are
   * large enough to be blocks of their own, which are unmapped when
   * freed: a literal freed too early faults or gives wrong results. */
  uint64_t seed = 1700;
  HloStr text = {0};
  int64_t wd[2] = {64, 256}, kd[4] = {3, 3, 16, 32};
  hlo_str_printf(&text, "HloModule m\nENTRY e {\n  x = f32[8,64] parameter(0)\n"
                        "  y = f32[5,64] parameter(1)\n  i = f32[1,10,12,16] parameter(2)\n"
                        "  w = f32[64,256] constant(");
  constant_text(&text, 2, wd, &seed);
  hlo_str_printf(&text, ")\n  k = f32[3,3,16,32] constant(");
  constant_text(&text, 4, kd, &seed);
  hlo_str_printf(&text,
                 ")\n  d = f32[8,256] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                 "  f = f32[5,256] dot(y, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                 "  n = f32[64,256] negate(w)\n"
                 "  c = f32[1,10,12,32] convolution(i, k), window={size=3x3 pad=1_1x1_1}, "
                 "dim_labels=b01f_01io->b01f\n"
                 "  ROOT r = (f32[8,256], f32[5,256], f32[64,256], f32[1,10,12,32]) tuple(d, f, n, c)\n"
                 "}\n");
  HloModule *m = ck_parse_verified(text.buf);
  free(text.buf);
  HloLiteral *args[3];
  for (int i = 0; i < 3; i++) {
    args[i] = hlo_literal_new(&m->entry->params[i]->shape);
    cgt_fill_values(args[i], &seed, true);
  }
  HloLiteral *want = ck_evaluate(m, args, 3);
  CgProgram *p = NULL;
  /* compared exactly: Winograd's exact form */
  CgOptions o = {.name = "t", .verify_kernels = true, .exact_winograd = true};
  HloError *e = cg_program_build_consuming(m, &o, &p);
  hlo_module_free(m);
  if (!e) e = cg_program_lower(p);
  CgJit *j = NULL;
  if (!e) e = cg_jit(p, &j);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  cg_program_free(p);
  cgt_compare(j, args, 3, want, 0, 0);
  cg_jit_free(j);
  hlo_literal_free(want);
  for (int i = 0; i < 3; i++) hlo_literal_free(args[i]);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_gemm");
  TCase *t = tcase_create("gemm");
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(t, tile_edges, 0, NTARGETS);
  tcase_add_loop_test(t, epilogues_and_batches, 0, NTARGETS);
  tcase_add_loop_test(t, convolutions, 0, NTARGETS);
  tcase_add_loop_test(t, depthwise_rows, 0, NTARGETS);
  tcase_add_test(t, blocking_plans);
  tcase_add_test(t, threads_agree);
  tcase_add_test(t, consuming_build);
  suite_add_tcase(s, t);
  /* Winograd's F(2x2, 3x3) and F(4x4, 3x3) (CK_RUN_CASE=winograd) */
  TCase *w = tcase_create("winograd");
  tcase_set_timeout(w, 300);
  tcase_add_loop_test(w, winograd_3x3, 0, NTARGETS);
  tcase_add_test(w, winograd_plans);
  tcase_add_loop_test(w, winograd_k_blocked, 0, NTARGETS);
  tcase_add_test(w, winograd_k_plans);
  tcase_add_test(w, winograd_form_plans);
  tcase_add_loop_test(w, winograd_f4, 0, NTARGETS);
  tcase_add_loop_test(w, winograd_f4_k_blocked, 0, NTARGETS);
  tcase_add_loop_test(w, winograd_1d, 0, NTARGETS);
  tcase_add_loop_test(w, winograd_1d_k_blocked, 0, NTARGETS);
  tcase_add_test(w, winograd_1d_exact);
  tcase_add_test(w, winograd_1d_plans);
  suite_add_tcase(s, w);
  return ck_run_suite(s);
}
