/*
 * winograd.c — 3×3, 1×r and r×1 stride-1 convolutions by Winograd's
 * minimal filtering: F(m×m, 3×3), m = 2 or 4, and the 1-D forms below
 * (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2015): each m×m block of output pixels
 * is computed from the a×a patch of input under it (a = m + 2) with a²
 * multiplies per input and output feature instead of 9m²: 16 instead of
 * 36 for F(2×2, 3×3), 36 instead of 144 for F(4×4, 3×3),
 *
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
 *
 *   F(2×2, 3×3), interpolating at 0, ±1, ∞:
 *   Bᵀ = | 1  0 -1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
 *        | 0  1  1  0 |        | 1/2  1/2  1/2|         | 0  1 -1 -1 |
 *        | 0 -1  1  0 |        | 1/2 -1/2  1/2|
 *        | 0  1  0 -1 |        | 0    0    1  |
 *
 *   F(4×4, 3×3), at 0, ±1, ±2, ∞:
 *   Bᵀ = | 4  0 -5  0  1  0 |  G = | 1/4   0     0   |  Aᵀ = | 1  1  1  1  1  0 |
 *        | 0 -4 -4  1  1  0 |      | -1/6 -1/6  -1/6 |       | 0  1 -1  2 -2  0 |
 *        | 0  4 -4 -1  1  0 |      | -1/6  1/6  -1/6 |       | 0  1  1  4  4  0 |
 *        | 0 -2 -1  2  1  0 |      | 1/24  1/12 1/6  |       | 0  1 -1  8 -8  1 |
 *        | 0  2 -1 -2  1  0 |      | 1/24 -1/12 1/6  |
 *        | 0  4  0 -5  0  1 |      | 0     0     1   |
 *
 * and, summed over the input features, the elementwise product becomes a²
 * independent matrix multiplies (one per position ξ of the a×a patch):
 * blocks × input features by input features × output features.  The
 * matrices are data (WgForm): the constant kernel is transformed at
 * compile time (U = G g Gᵀ, in double, rounded once to f32) and packed
 * into the register tile's panels, [panel][ξ][input feature][NR]; the
 * input transform (V = Bᵀ d B) and the output transform (Aᵀ M A, then the
 * fused epilogue) are emitted from the matrices as straight-line vector
 * code (lincomb: zeros left out, ±1 as adds and subtracts, other
 * coefficients an fma with the constant; F(2×2, 3×3)'s come out as the
 * adds and subtracts they always were), through the subexpressions that
 * the points' symmetry shares (WgProg, found from the matrices: F(4×4,
 * 3×3)'s Bᵀ takes 12 operations a column instead of 16, its Aᵀ 10 instead
 * of 14, so 144 + 100 a block and vector of features instead of 192 +
 * 140) and run inside the kernel, on the tile's blocks, through two
 * stack buffers that stay in L1/L2: V for the tile's mr blocks
 * ([ξ][block][input feature]) and M, the a² products' register tiles
 * ([ξ][block][NR]).  The products run on gemm.c's
 * register-tile shape (mr blocks × nv vectors, one broadcast of V and nv
 * loads of U per mr·nv FMAs), so a unit of work is (panel, tile of mr
 * blocks), as for the direct kernel: panels outermost, so that a panel of
 * U (a² × IC × NR) stays in L2 across the tiles; the input transform is
 * redone per panel.  Blocks that reach past the output (sizes off the
 * multiples of m) or windows in padding read zeros (loads at a clamped
 * position, selected away) and store only the pixels inside the output;
 * the last tile's blocks past the last one transform zeros and store
 * nothing.
 *
 * Where a panel does not fit half the L2 (ResNet-50's 14×14×256 and
 * 7×7×512 layers by F(2×2, 3×3): 393 and 786 KiB with AVX2), the input
 * features are blocked: the fewest K blocks of whole vectors whose slice
 * of the panel (a² × kc × NR) fits, evened out (kc 128 for both with
 * F(2×2, 3×3); F(4×4, 3×3)'s 28×28×128 on 2 × 32 tiles runs 3 blocks of
 * 48).  Each block runs over a group of tiles (as many as whose sums fit a
 * quarter of the L2) while its slice stays in L2; V holds a tile's kc
 * features, M a slot per tile of the group, zeroed first, the register
 * tiles reloaded from it at each block and the output transform run after
 * the last.  Each product is still summed in K order from 0, one fma a
 * step: the same bits as one pass, for any blocking and any thread count.
 *
 * F(2×2, 3×3)'s coefficients are 0, ±1 and ±1/2 (G's products ±1/4): on
 * small integers (the tests' exact mode) every value is exact, so the
 * results equal the evaluator's exactly.  F(4×4, 3×3)'s are not (1/6,
 * 1/24 in G, 4, 5, 8 in Bᵀ and Aᵀ): its worst-case error is some 2304
 * (IC + 19) u times Σ|x|·|w| for inputs of one scale (the derivation is
 * in tests/test_codegen_gemm.c, f4_check); on those tests' random
 * inputs the largest error seen was 25 u (Σ|x|·|w| + 1), u = 2^-24 (on
 * an AVX2 host: 11.5 u before the shared subexpressions below, 12.4 u
 * after).  The derivation counts at most 8 roundings in V and 10 in
 * the output transform; shared, each path takes at most 4 and 6, every
 * intermediate bounded by its rows' Σ|c|·|x|, so the bound stands.
 * CgOptions.exact_winograd (the exact tests) keeps it off.
 *
 * The 1-D forms.  A 1×r or r×1 kernel (Inception-V3's 1×7, 7×1, 1×3 and
 * 3×1) runs F(m, r) along its r taps and the identity F(1, 1) along the
 * other axis: blocks of 1×m (or m×1) outputs, a = m + r − 1 products per
 * block and pair of features instead of m·r: F(4, 7) 10 instead of 28,
 * F(2, 7) 8 instead of 14, F(2, 3) 4 instead of 6, F(4, 3) 6 instead of
 * 12, F(6, 3) 8 instead of 18.  Every step above is the same with a form per axis (T = ay·ax
 * products, Bᵀ by columns with the rows' form, then by rows with the
 * columns'; the identity's program is empty).  F(2, 7) and F(6, 3) are
 * built at compile time by the Toom-Cook construction (toom_cook) at 0,
 * ±1, ±2, ±1/2 and ∞, the points Lavin and Gray and Barabasz et al. use
 * for 8 points, F(4, 7) at those and ±3/2; U = G g Gᵀ in double, rounded
 * once.  The largest Σ|Aᵀ||G||Bᵀ| of an output (the constant of the
 * error bound, tests/test_codegen_gemm.c, w1_check) is 115 for F(2, 7),
 * 68 for F(6, 3) and 810 for F(4, 7) (987 with ±3 instead of ±3/2, 984
 * with ±1/4), against 2304 for F(4×4, 3×3); the tests' largest errors
 * were 2.5-7.0 u (Σ|x|·|w| + 1) for F(2, 7), 6.4-12.4 for F(6, 3) and
 * 15-24 for F(4, 7) (25 for F(4×4, 3×3)).  Only F(2, 3) (0, ±1, ±1/2)
 * is exact on small integers and runs under exact_winograd.
 * Elsewhere the sums are reassociated (a different rounding than the
 * direct kernel, as any library's Winograd).  A tap in padding
 * contributes 0 × weight rather than nothing (the direct kernel and the
 * evaluator skip it): they differ only for infinite weights.
 *
 * When it is chosen (cg_winograd_plan): the convolution must be 3×3 (by
 * F(2×2, 3×3) or F(4×4, 3×3)), 1×r or r×1 (r = 3: F(2, 3), F(4, 3),
 * F(6, 3); r = 7: F(2, 7), F(4, 7)),
 * stride 1, undilated, two spatial dims, without groups, its kernel a
 * constant, its output features a multiple of the vector width.  Each
 * form is planned (plan_form: blocks, register tile, K blocks) where a
 * vector's slice of a U panel fits half the L2 and, when all of U does
 * not fit half the L2, a panel serves at least WG_MIN_TILES tiles
 * (ResNet-50's 7×7×512, 4 tiles of 4 blocks with AVX2, stays direct; its
 * 14×14×256, 13 tiles, K blocked, runs 1.4-1.5x faster by F(2×2, 3×3),
 * while F(4×4, 3×3) would have 4 tiles of 4 blocks and measured 125-133
 * GFLOP/s against F(2×2, 3×3)'s 143-146).  Of those, the one with the
 * fewest estimated vector operations (FMAs, the transforms' operations as
 * lincomb emits them, loads and stores, M's per K block, counted from the
 * target's vector width and register tile) runs, if at most
 * WINOGRAD_MAX_COST of the direct kernel's.  F(4×4, 3×3) takes another
 * register tile than gemm.c's where its panels, each redoing the input
 * transform, fit the output features clearly better (tile_cost,
 * WG_TILE_GAIN: 28²×128 on 2 × 32; the 1-D forms likewise).  With the
 * shared subexpressions, F(4×4, 3×3)'s estimate is 0.57-0.63 of F(2×2,
 * 3×3)'s on the layers below of 64 output features or more and 0.42-0.52
 * on those of 32 (Inception-V3's 149²×32→32, DenseNet-121's 128→32;
 * AVX2); measured on the Zen 3
 * (AVX2, `hloc_bench_kernels --seconds 1 --cpu-time`, one thread, two
 * rounds, GFLOP/s of the direct kernel's multiply-adds, F(2×2) → F(4×4)):
 * ResNet-50 56²×64 164 → 203-206, 28²×128 139-148 → 164-172 (178-192 on
 * the 2 × 32 tile); Inception-V3
 * 147²×32→64 128-144 → 150-156 (170-175 on 2 × 32), 149²×32→32 valid
 * 128-129 → 138-154, 73²×80→192 valid 153-164 → 196-197, 35²×64→96
 * 159-162 → 219-222, 35²×96→96 165-166 → 196-201; DenseNet-121
 * 56²×128→32 115-130 → 202-205, 28²×128→32 119-132 → 198-201, 14²×128→32
 * (F(2×2) before) 111-121 → 155-156, all three on 2 × 32 (one panel; 4 ×
 * 24 had two, the second of one vector: 147-148 and 142-146 at 56² and
 * 28²).  Its gain is below the 1.78x of the
 * multiplies: its transforms (some 300 operations a block and vector of
 * input features, redone per panel) and its 2.25x larger U cost the rest.
 * Sharing the transforms' subexpressions (332 → 244 operations) gained
 * 4-8% (three alternated rounds, GFLOP/s, before → after): 56²×64
 * 200-207 → 212-221, 28²×128 183-190 → 194-198, 35²×64→96 217-220 →
 * 232-238; two rounds: 147²×32→64 valid 169-172 → 176-183, 73²×80→192
 * valid 197-204 → 214-215, 35²×96→96 205-208 → 210-211, 56²×128→32
 * 193-208 → 208-214, 14²×128→32 149-153 → 153-161.
 *
 * The 1-D forms: F(4, 7) runs Inception-V3's 17×17 1×7 and 7×1 layers
 * (the cost model prefers F(2, 7) only for outputs 2 wide along the
 * kernel's axis), F(4, 3) its 8×8×384 1×3 and 3×1 ones (4 tiles a panel,
 * its U of 3.5 MB beyond half the L2 but within half the L3:
 * WG_MIN_TILES).  Measured (Zen 3, same flags, direct → 1-D, GFLOP/s of
 * the direct kernel's multiply-adds, two or three alternated rounds):
 * 17²×128→128 1×7 89-92 → 160-161 (by F(2, 7): 115-116), 7×1 88-90 →
 * 156-162 (115-117), 17²×160→160 1×7 84-95 → 155-161 (116-123),
 * 17²×192→192 7×1 96 → 158-162 (118-121), 1×7 86-87 → 157 (108-122);
 * 8²×384→384 1×3 86-97 → 157-162, 3×1 84-97 → 158-161 (by F(2, 3):
 * 89-129, 94-124).  Inception-V3 (one thread, the executable's median CPU
 * time of 10 runs, four alternated runs): 117.2 ms → 103.3 (medians),
 * outputs within 2.5e-6 of TensorFlow's (bench/kernels.md).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* The forms                                                                 */
/* ------------------------------------------------------------------------ */

/* F(m, r) along one axis as its three matrices: Bᵀ (a × a, a = m + r −
 * 1), G (a × r) and Aᵀ (m × a), row-major; a plan runs one form along each
 * spatial axis (F(m×m, 3×3): F(m, 3) on both; the 1-D forms: the identity
 * F(1, 1) on the kernel's axis of size 1).  F(2, 3) and F(4, 3) are Lavin
 * and Gray's, typed in (F(2, 3) interpolates at 0, ±1 and ∞; F(4, 3) at
 * 0, ±1, ±2 and ∞); the 8-point forms F(2, 7) and F(6, 3) are built by
 * toom_cook at 0, ±1, ±2, ±1/2 and ∞, the 10-point F(4, 7) at those and
 * ±3/2.  exact: every coefficient of the
 * algorithm (G's products included) is a small dyadic rational, so small
 * integers stay exact (CgOptions.exact_winograd). */
typedef struct WgForm {
  int m, r, a;
  bool exact;
  const double *bt, *g, *at;
} WgForm;

enum { WG_MAX_A = 10 }; /* the largest a of a form */

static const double BT2[] = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};
static const double G2[] = {1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1};
static const double AT2[] = {1, 1, 1, 0, 0, 1, -1, -1};
static const double BT4[] = {4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0,
                             0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1};
static const double G4[] = {1.0 / 4,  0,         0,        -1.0 / 6, -1.0 / 6, -1.0 / 6,
                            -1.0 / 6, 1.0 / 6,   -1.0 / 6, 1.0 / 24, 1.0 / 12, 1.0 / 6,
                            1.0 / 24, -1.0 / 12, 1.0 / 6,  0,        0,        1};
static const double AT4[] = {1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0,
                             0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1};
static const double ONE[] = {1};
/* The finite points of the 8-point forms, and of the 10-point F(4, 7)
 * (±3/2 added: its largest Σ|Aᵀ||G||Bᵀ| 810, against 987 with ±3 and
 * 984 with ±1/4). */
static const double PTS8[] = {0, 1, -1, 2, -2, 0.5, -0.5, 1.5, -1.5};
static double BT27[64], G27[8 * 7], AT27[2 * 8], BT63[64], G63[8 * 3], AT63[6 * 8];
static double BT47[100], G47[10 * 7], AT47[4 * 10];

enum { WG_ID, WG_F23, WG_F43, WG_F63, WG_F27, WG_F47, WG_NFORMS };
static const WgForm forms[WG_NFORMS] = {
    [WG_ID] = {1, 1, 1, true, ONE, ONE, ONE},
    [WG_F23] = {2, 3, 4, true, BT2, G2, AT2},
    [WG_F43] = {4, 3, 6, false, BT4, G4, AT4},
    [WG_F63] = {6, 3, 8, false, BT63, G63, AT63},
    [WG_F27] = {2, 7, 8, false, BT27, G27, AT27},
    [WG_F47] = {4, 7, 10, false, BT47, G47, AT47},
};

/* The smallest power of two (≥ 1) that makes the n values x[i·xs]
 * integers (they are dyadic rationals). */
static double dyadic_scale(const double *x, int xs, int n) {
  double s = 1;
  for (int i = 0; i < n; i++)
    while (x[i * xs] * s != (double)(int64_t)(x[i * xs] * s) && s < 0x1p20) s *= 2;
  return s;
}

/* F(m, r) by the Toom-Cook construction at the a − 1 finite points pts
 * and ∞ (Lavin and Gray, section 4; Barabasz et al., "Error analysis and
 * improving the accuracy of Winograd convolution", 2020): the linear
 * convolution c = x * g of x (m taps) and g (r taps), a coefficients, is
 * c = C [(Gf g) ⊙ (E x)], E and Gf evaluating x and g at the points (at ∞:
 * their last coefficients), C interpolating: column j the coefficients of
 * the Lagrange polynomial L_j = Π_{l≠j} (t − p_l) / N_j, N_j = Π_{l≠j}
 * (p_j − p_l), and for ∞ those of Π_l (t − p_l).  The correlation y_i =
 * Σ_k d_{i+k} g_k is its transpose in x: y = Eᵀ [(Gf g) ⊙ (Cᵀ d)], so Aᵀ =
 * Eᵀ, G = Gf and Bᵀ = Cᵀ, each 1/N_j moved from Bᵀ's row j into G's, and
 * each row of Bᵀ and column of Aᵀ scaled by the power of two that makes
 * it integers (G's row compensating): exact scalings, so the numbers of
 * roundings and the error bound do not change. */
static void toom_cook(int m, int r, const double *pts, double *bt, double *g, double *at) {
  int a = m + r - 1, n = a - 1;
  for (int j = 0; j <= n; j++) {
    double poly[WG_MAX_A + 1] = {1}, norm = 1; /* Π_{l≠j} (t − p_l), low to high */
    int deg = 0;
    for (int l = 0; l < n; l++) {
      if (l == j) continue;
      for (int k = ++deg; k >= 0; k--) poly[k] = (k ? poly[k - 1] : 0) - pts[l] * poly[k];
      if (j < n) norm *= pts[j] - pts[l];
    }
    for (int k = 0; k < a; k++) bt[j * a + k] = k <= deg ? poly[k] : 0;
    for (int k = 0; k < r; k++) g[j * r + k] = j < n ? pow(pts[j], k) / norm : k == r - 1;
    for (int i = 0; i < m; i++) at[i * a + j] = j < n ? pow(pts[j], i) : i == m - 1;
    double sb = dyadic_scale(bt + j * a, 1, a), sa = dyadic_scale(at + j, a, m);
    for (int k = 0; k < a; k++) bt[j * a + k] *= sb;
    for (int i = 0; i < m; i++) at[i * a + j] *= sa;
    for (int k = 0; k < r; k++) g[j * r + k] /= sb * sa;
  }
}

static void build_forms(void) {
  toom_cook(2, 7, PTS8, BT27, G27, AT27);
  toom_cook(6, 3, PTS8, BT63, G63, AT63);
  toom_cook(4, 7, PTS8, BT47, G47, AT47);
}

/* The form of index i, the built ones made once. */
static const WgForm *form_at(int i) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, build_forms);
  return &forms[i];
}

/* The vector operations of Σ c[i]·x[i] (n terms) as lincomb emits it: one
 * per nonzero term after the first, and one more where no coefficient is
 * 1 (the first term negated or scaled). */
static int comb_ops(const double *c, int n) {
  int nz = 0;
  bool one = false;
  for (int i = 0; i < n; i++) {
    nz += c[i] != 0;
    one |= c[i] == 1;
  }
  return nz - 1 + !one;
}

/* A transform (rows × n matrix, row-major) as a program of linear
 * combinations (WgProg): value i < n is input i, value n + k step k's
 * Σ c[k][j]·value j, and output r is value out[r].  Without sharing, step
 * r is row r (the code lincomb always emitted).  Shared terms come from
 * the interpolation points' symmetry (±1, ±2), found from the matrix:
 *  - rows r, s that are E ± O, E and O having no column in common (Bᵀ's
 *    rows 1/2 and 3/4 of F(4, 3): E = d4 − 4·d2, O = d3 − 4·d1; E = d4 −
 *    d2, O = 2·(d3 − d1)): E, O' = O/o (o the magnitude of O's first
 *    coefficient unless one is ±1), then E + o·O' and E − o·O';
 *  - columns c, c' equal or opposite in every row (Aᵀ's 1/2 and 3/4 of
 *    F(4, 3)): x_c + x_c' and x_c − x_c', the rows over those.
 * Each pairing is taken, greedily, only where it saves operations
 * (comb_ops): F(2, 3)'s matrices gain nothing and keep their plain
 * programs, operation for operation.  Each shared step is one more
 * rounding on a path that loses at least one, and each intermediate is
 * bounded by Σ|coefficient|·|x| of its rows, so no error bound grows. */
enum { WG_MAX_STEPS = 24, WG_MAX_VALS = WG_MAX_A + WG_MAX_STEPS };

typedef struct WgProg {
  int n, rows, nsteps;
  double c[WG_MAX_STEPS][WG_MAX_VALS];
  int out[WG_MAX_A];
} WgProg;

/* The vector operations of p's steps. */
static int prog_ops(const WgProg *p) {
  int ops = 0;
  for (int k = 0; k < p->nsteps; k++) ops += comb_ops(p->c[k], p->n + k);
  return ops;
}

/* A step over values [0, nv), its coefficients c; its value's index. */
static int prog_step(WgProg *p, const double *c, int nv) {
  HLO_CHECK(p->nsteps < WG_MAX_STEPS);
  int k = p->nsteps++;
  memset(p->c[k], 0, sizeof p->c[k]);
  memcpy(p->c[k], c, (size_t)nv * sizeof *c);
  return p->n + k;
}

/* Rows r and s of m (n columns) as E ± O: e and o (n each) get E and O,
 * false where some column is neither equal nor opposite in the two, or E
 * or O is empty. */
static bool split_rows(const double *m, int n, int r, int s, double *e, double *o) {
  bool any_e = false, any_o = false;
  for (int j = 0; j < n; j++) {
    double a = m[r * n + j], b = m[s * n + j];
    e[j] = o[j] = 0;
    if (a == 0 && b == 0) continue;
    if (a == b) e[j] = a, any_e = true;
    else if (a == -b) o[j] = a, any_o = true;
    else return false;
  }
  return any_e && any_o;
}

/* Whether columns c and c' of m (rows × n) are equal or opposite in every
 * row, nonzero in at least two. */
static bool pair_cols(const double *m, int rows, int n, int c, int c2) {
  int used = 0;
  for (int i = 0; i < rows; i++) {
    double a = m[i * n + c], b = m[i * n + c2];
    if (a != b && a != -b) return false;
    used += a != 0;
  }
  return used >= 2;
}

/* The plain program of m (rows × n): step r is row r. */
static void prog_plain(WgProg *p, const double *m, int rows, int n) {
  p->n = n;
  p->rows = rows;
  p->nsteps = 0;
  for (int r = 0; r < rows; r++) p->out[r] = prog_step(p, m + r * n, n);
}

/* The program by shared row pairs E ± O. */
static void prog_rows(WgProg *p, const double *m, int rows, int n) {
  p->n = n;
  p->rows = rows;
  p->nsteps = 0;
  bool done[WG_MAX_A] = {0};
  for (int r = 0; r < rows; r++) {
    if (done[r]) continue;
    double e[WG_MAX_A], o[WG_MAX_A];
    int s = r + 1;
    for (; s < rows; s++)
      if (!done[s] && split_rows(m, n, r, s, e, o)) break;
    /* E, O', E ± o·O' against the two rows: taken only if cheaper */
    double os = 0, c[WG_MAX_VALS] = {0};
    bool unit = false;
    if (s < rows) {
      for (int j = 0; j < n; j++) {
        if (o[j] != 0 && !os) os = o[j] < 0 ? -o[j] : o[j];
        unit |= o[j] == 1 || o[j] == -1;
      }
      if (unit) os = 1;
      for (int j = 0; j < n; j++) c[j] = o[j] / os;
      /* only where O' is exact in f32 (the 8-point forms' rows have 5,
       * 21, …), so that the sharing changes no coefficient */
      for (int j = 0; j < n; j++)
        if ((double)(float)c[j] != c[j] || (float)c[j] * os != o[j]) s = rows;
    }
    if (s < rows && comb_ops(e, n) + comb_ops(c, n) + 2 <
                        comb_ops(m + r * n, n) + comb_ops(m + s * n, n)) {
      int ie = prog_step(p, e, n), io = prog_step(p, c, n), nv = p->n + p->nsteps;
      memset(c, 0, sizeof c);
      c[ie] = 1;
      c[io] = os;
      p->out[r] = prog_step(p, c, nv);
      c[io] = -os;
      p->out[s] = prog_step(p, c, nv + 1);
      done[s] = true;
    } else {
      p->out[r] = prog_step(p, m + r * n, n);
    }
    done[r] = true;
  }
}

/* The program by shared column pairs x_c ± x_c'. */
static void prog_cols(WgProg *p, const double *m, int rows, int n) {
  p->n = n;
  p->rows = rows;
  p->nsteps = 0;
  double rc[WG_MAX_A][WG_MAX_VALS] = {{0}}; /* the rows over the values so far */
  for (int r = 0; r < rows; r++) memcpy(rc[r], m + r * n, (size_t)n * sizeof(double));
  for (int c = 0; c < n; c++)
    for (int c2 = c + 1; c2 < n; c2++) {
      if (!pair_cols(m, rows, n, c, c2)) continue;
      bool free_c = true;
      for (int r = 0; r < rows; r++)
        free_c &= rc[r][c] == m[r * n + c] && rc[r][c2] == m[r * n + c2];
      if (!free_c) continue;
      double sc[WG_MAX_VALS] = {0};
      sc[c] = 1;
      sc[c2] = 1;
      int is = prog_step(p, sc, n + p->nsteps);
      sc[c2] = -1;
      int id = prog_step(p, sc, n + p->nsteps);
      for (int r = 0; r < rows; r++) {
        double a = rc[r][c], b = rc[r][c2];
        rc[r][c] = rc[r][c2] = 0;
        if (a == 0) continue;
        rc[r][a == b ? is : id] = a;
      }
    }
  int nv = n + p->nsteps;
  for (int r = 0; r < rows; r++) p->out[r] = prog_step(p, rc[r], nv);
}

/* m's program (rows × n): the cheapest of the plain one, by row pairs and
 * by column pairs, the plain one on ties. */
static void prog_of(WgProg *p, const double *m, int rows, int n) {
  WgProg q;
  prog_plain(p, m, rows, n);
  prog_rows(&q, m, rows, n);
  if (prog_ops(&q) < prog_ops(p)) *p = q;
  prog_cols(&q, m, rows, n);
  if (prog_ops(&q) < prog_ops(p)) *p = q;
}

/* ------------------------------------------------------------------------ */
/* Planning                                                                  */
/* ------------------------------------------------------------------------ */

/* The largest estimated cost, in percent of the direct kernel's, for which
 * Winograd is chosen: its products run shorter K loops (the input
 * features, not 9 of them) and its buffers' traffic is counted roughly,
 * so it must win clearly on paper. */
enum { WINOGRAD_MAX_COST = 75 };

/* The fewest tiles a panel of U must serve when U does not fit half the
 * L2: then every call reads each panel from beyond the L2 (16/9 as many
 * weights as the direct kernel), and over fewer tiles that dominates:
 * 7×7×256→256 (4 MB of U, 3 tiles of 6 blocks a panel) ran at 0.71x
 * oneDNN by Winograd, 0.82x direct, where the operation count said 0.63
 * of the direct kernel's; K blocked on a Zen 3 (AVX2, 512 KiB L2),
 * 7×7×512→512 (16 MB of U, 4 tiles of 4 blocks) ran at 67-85 GFLOP/s
 * (median 70) against 76-81 direct, while 14×14×256→256 (13 tiles) went
 * from 90 to 123-142.  Where U fits, few tiles still gained (7×7×64:
 * 1.29x against 0.97x direct; 8×8×128: 1.54x against 0.91x). */
enum { WG_MIN_TILES = 5 };
/* A 1-D form is exempt where its U fits half the L3 (a/r times the direct
 * kernel's weights: 2× for F(4, 3)): 8²×384→384 1×3 by F(4, 3)
 * (3.5 MB of U, 4 tiles of 4 blocks a panel) ran at 151-164 GFLOP/s
 * against 117-127 by F(2, 3) (8 tiles) and 86-97 direct on the Zen 3. */

/* How much cheaper (in percent) another register tile than gemm.c's must
 * be, by tile_cost, for F(4×4, 3×3) to take it.  On the Zen 3, 28²×128
 * by 2 × 32 tiles (4 panels; 4% cheaper counted) ran at 178-192 GFLOP/s
 * (median 187 of three alternated rounds) against 172-178 (176) by
 * gemm.c's 4 × 24 (6 panels, the last of one vector, each redoing the
 * input transform), while 56²×64 (2 × 32 counted 0.3% cheaper) ran at
 * 178-179 against 192-194. */
enum { WG_TILE_GAIN = 3 };

/* The vector operations of Bᵀ d B (by columns, then by rows) and of
 * Aᵀ M A for forms fy (along the rows) and fx (along the columns). */
static void transform_ops(const WgForm *fy, const WgForm *fx, int *in, int *out) {
  WgProg by, bx, ay, ax;
  prog_of(&by, fy->bt, fy->a, fy->a);
  prog_of(&bx, fx->bt, fx->a, fx->a);
  prog_of(&ay, fy->at, fy->m, fy->a);
  prog_of(&ax, fx->at, fx->m, fx->a);
  *in = fx->a * prog_ops(&by) + fy->a * prog_ops(&bx);
  *out = fx->a * prog_ops(&ay) + fy->m * prog_ops(&ax);
}

/* The vector operations of forms fy × fx's products and input transform
 * for blocks by g's features on tiles of mr blocks × nv vectors: every
 * panel counted with the vectors it has (the last may have fewer), each
 * redoing the input transform of every tile. */
static double tile_cost(const CgGemm *g, const WgForm *fy, const WgForm *fx, int64_t blocks,
                        int mr, int nv) {
  int64_t T = fy->a * fx->a, L = g->lanes, nvec = g->N / L;
  int64_t tiles = (blocks + mr - 1) / mr, icv = (g->IC + L - 1) / L;
  int ops_in, ops_out;
  transform_ops(fy, fx, &ops_in, &ops_out);
  double cost = 0;
  for (int64_t v0 = 0; v0 < nvec; v0 += nv) {
    int64_t w = nvec - v0 < nv ? nvec - v0 : nv;
    cost += (double)tiles *
            ((double)T * g->IC * (mr * w + mr + w) + (double)mr * icv * (3 * T + ops_in));
  }
  return cost;
}

/* One plan for a convolution: its forms along the rows and columns
 * (indices into forms), blocks, register tile, K blocks and estimated
 * vector operations. */
typedef struct WgPlan {
  int fy, fx, mr, nv;
  int64_t bh, bw, blocks, ntiles, kc, nkb, group;
  double cost;
} WgPlan;

/* The plan of forms fy × fx for g (its direct tile dmr × dnv chosen), or
 * false where it cannot run (a vector's slice of a U panel beyond half
 * the L2; U beyond half the L2 and fewer than WG_MIN_TILES tiles). Its
 * cost counts an FMA, add, load or store as one. */
static bool plan_form(const CgTargetInfo *t, const CgGemm *g, int fy, int fx, WgPlan *p) {
  const WgForm *Fy = form_at(fy), *Fx = form_at(fx);
  int64_t T = Fy->a * Fx->a, L = g->lanes, my = Fy->m, mx = Fx->m;
  int64_t images = g->M / (g->out_sp[0] * g->out_sp[1]);
  p->fy = fy;
  p->fx = fx;
  p->bh = (g->out_sp[0] + my - 1) / my;
  p->bw = (g->out_sp[1] + mx - 1) / mx;
  p->blocks = images * p->bh * p->bw;
  /* The register tile over blocks, as gemm.c chooses it over pixels; for
   * any form but F(2×2, 3×3), another where it is cheaper by
   * WG_TILE_GAIN. */
  cg_gemm_tile(t, p->blocks, g->N, g->lanes, &p->mr, &p->nv);
  if (fy != WG_F23 || fx != WG_F23) {
    double best = tile_cost(g, Fy, Fx, p->blocks, p->mr, p->nv);
    int mr0 = p->mr, nv0 = p->nv;
    for (int v = 1; v <= CG_GEMM_MAX_NV && v * L <= g->N; v++) {
      int64_t r = (t->vector_regs - v - 1) / v;
      if (r > CG_GEMM_MAX_MR) r = CG_GEMM_MAX_MR;
      if (r > p->blocks) r = p->blocks;
      if (r < 1 || (r == mr0 && v == nv0)) continue;
      double c = tile_cost(g, Fy, Fx, p->blocks, (int)r, v);
      if (c * 100 < best * (100 - WG_TILE_GAIN)) {
        best = c;
        p->mr = (int)r;
        p->nv = v;
      }
    }
  }
  int64_t mr = p->mr, nv = p->nv, nr = nv * L;
  p->ntiles = (p->blocks + mr - 1) / mr;
  /* K blocks: the fewest whose slice of a U panel (T × kc × nr) fits
   * half the L2, evened out in whole vectors. */
  int64_t kmax = t->l2_bytes / 2 / (T * nr * 4) / L * L;
  if (kmax < L) return false;
  int64_t nkb = (g->IC + kmax - 1) / kmax;
  int64_t kc = ((g->IC + nkb - 1) / nkb + L - 1) / L * L;
  p->nkb = (g->IC + kc - 1) / kc;
  p->kc = p->nkb > 1 ? kc : g->IC;
  int64_t all = T * g->IC * g->N * 4; /* U's bytes, every panel */
  bool one_d = fy == WG_ID || fx == WG_ID;
  if (p->ntiles < WG_MIN_TILES && all > t->l2_bytes / 2 && !(one_d && all <= t->l3_bytes / 2))
    return false;
  /* The tiles whose sums (T × mr × nr each) fit a quarter of the L2. */
  p->group = t->l2_bytes / 4 / (T * mr * nr * 4);
  if (p->group > p->ntiles) p->group = p->ntiles;
  if (p->group < 1) p->group = 1;
  int64_t icv = (g->IC + L - 1) / L, panels = (g->N + nr - 1) / nr;
  int ops_in, ops_out;
  transform_ops(Fy, Fx, &ops_in, &ops_out);
  /* per K step of a tile: mr·nv FMAs, mr broadcasts, nv loads; M's
   * stores (and reloads, K blocked) per K block */
  double products = (double)panels * p->ntiles *
                    ((double)T * g->IC * (mr * nv + mr + nv) + (double)T * mr * nv * 2 * p->nkb);
  /* per vector of features of a block: T loads, selects and stores, the
   * transform's operations by columns then by rows */
  double input = (double)panels * p->ntiles * mr * icv * (3 * T + ops_in);
  /* per output vector of a block: T loads, the transform's operations,
   * my·mx stores and epilogues */
  double output = (double)p->blocks * (g->N / L) * (T + ops_out + 2 * my * mx);
  p->cost = products + input + output;
  return true;
}

/* The direct kernel's estimated vector operations (tile dmr × dnv over
 * the pixels), counted as plan_form counts. */
static double direct_cost(const CgGemm *g, int64_t dmr, int64_t dnv) {
  int64_t N = g->N, L = g->lanes, taps = g->k_sp[0] * g->k_sp[1];
  int64_t dpanels = (N + dnv * L - 1) / (dnv * L), dtiles = (g->M + dmr - 1) / dmr;
  return (double)dpanels * dtiles * taps * g->IC * (dmr * dnv + dmr + dnv);
}

/* The form along an axis of the kernel's k taps: candidate i (0, 1, …),
 * or -1 when there are no more.  Size 1: the identity alone. */
static int axis_form(int64_t k, int i) {
  for (int f = 0; f < WG_NFORMS; f++)
    if (forms[f].r == k && i-- == 0) return f;
  return -1;
}

bool cg_winograd_plan(const CgTargetInfo *t, CgGemm *g) {
  if (g->op->op != HLO_OP_CONVOLUTION || g->ns != 2 || g->depthwise || !g->packed ||
      g->B != 1)
    return false;
  for (int d = 0; d < 2; d++)
    if (g->stride[d] != 1 || g->dilate[d] != 1) return false;
  bool sq = g->k_sp[0] == 3 && g->k_sp[1] == 3;
  if (!sq && g->k_sp[0] != 1 && g->k_sp[1] != 1) return false;
  if (g->N % g->lanes || g->IC < g->lanes) return false;
  /* The cheapest plan within WINOGRAD_MAX_COST of the direct kernel: 3×3
   * by F(m×m, 3×3) (the same form on both axes), 1×r and r×1 by a 1-D
   * form along the r taps; none but the exact forms where the results
   * must be exact. */
  double limit = direct_cost(g, g->mr, g->nv) * WINOGRAD_MAX_COST / 100;
  WgPlan best = {0}, p;
  bool any = false;
  for (int i = 0;; i++) {
    int fy = axis_form(g->k_sp[0], sq ? i : g->k_sp[0] == 1 ? 0 : i);
    int fx = axis_form(g->k_sp[1], sq ? i : g->k_sp[1] == 1 ? 0 : i);
    if (fy < 0 || fx < 0 || (fy == WG_ID && fx == WG_ID)) break;
    const WgForm *Fy = form_at(fy), *Fx = form_at(fx);
    if (t->exact_winograd && !(Fy->exact && Fx->exact)) continue;
    if (sq && Fy->m > 4) continue; /* F(6×6, 3×3): 64 products, too ill-conditioned */
    bool ok = plan_form(t, g, fy, fx, &p);
    if (ok && p.cost <= limit && (!any || p.cost < best.cost)) best = p, any = true;
  }
  if (!any) return false;
  g->winograd = true;
  g->wg_form[0] = best.fy;
  g->wg_form[1] = best.fx;
  g->wg_mb[0] = form_at(best.fy)->m;
  g->wg_mb[1] = form_at(best.fx)->m;
  g->wg_m = g->wg_mb[0] > g->wg_mb[1] ? g->wg_mb[0] : g->wg_mb[1];
  g->wg_bh = best.bh;
  g->wg_bw = best.bw;
  g->wg_blocks = best.blocks;
  g->wg_kc = best.kc;
  g->wg_group = best.group;
  g->mr = best.mr;
  g->nv = best.nv;
  g->npanels = (g->N + (int64_t)best.nv * g->lanes - 1) / ((int64_t)best.nv * g->lanes);
  g->ntiles = best.ntiles;
  g->nunits = g->npanels * g->ntiles;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Packing                                                                   */
/* ------------------------------------------------------------------------ */

/* The shape of U: IC input and N output features in panels of nr, the
 * forms along the rows and columns. */
typedef struct ULayout {
  int64_t IC, N, nr;
  int fy, fx;
} ULayout;

/* U = Gy g Gxᵀ of every (input feature, output feature) of the HWIO kernel
 * (src, ry × rx taps), computed in double and rounded once to f32, as
 * panels: [panel][ξ][input feature][nr], zero past N. */
static void fill_u(void *dst, const void *src, const void *how) {
  const ULayout *ul = how;
  const WgForm *fy = form_at(ul->fy), *fx = form_at(ul->fx);
  int64_t IC = ul->IC, N = ul->N, nr = ul->nr;
  int Ay = fy->a, Ax = fx->a, ry = fy->r, rx = fx->r, T = Ay * Ax;
  const double *Gy = fy->g, *Gx = fx->g;
  float *data = dst;
  const float *w = src; /* [ry][rx][IC][N] */
  for (int64_t ic = 0; ic < IC; ic++)
    for (int64_t n = 0; n < N; n++) {
      double gg[WG_MAX_A][WG_MAX_A], tmp[WG_MAX_A][WG_MAX_A];
      for (int a = 0; a < ry; a++)
        for (int b = 0; b < rx; b++) gg[a][b] = w[((a * rx + b) * IC + ic) * N + n];
      for (int i = 0; i < Ay; i++)
        for (int b = 0; b < rx; b++) {
          double sum = Gy[i * ry] * gg[0][b];
          for (int a = 1; a < ry; a++) sum += Gy[i * ry + a] * gg[a][b];
          tmp[i][b] = sum;
        }
      for (int i = 0; i < Ay; i++)
        for (int j = 0; j < Ax; j++) {
          double u = Gx[j * rx] * tmp[i][0];
          for (int b = 1; b < rx; b++) u += Gx[j * rx + b] * tmp[i][b];
          data[(((n / nr) * T + i * Ax + j) * IC + ic) * nr + n % nr] = (float)u;
        }
    }
}

/* The global holding U (fill_u), made when the program takes the
 * constants' bytes (codegen.c). */
static CgVal packed_u(CgFn *f, const CgGemm *gm) {
  CgGen *g = f->g;
  int64_t nr = (int64_t)gm->nv * gm->lanes, IC = gm->IC;
  int64_t T = (int64_t)form_at(gm->wg_form[0])->a * form_at(gm->wg_form[1])->a;
  int64_t dims[4] = {gm->npanels, T, IC, nr};
  char name[64];
  snprintf(name, sizeof name, "_const%d_winograd", g->nglobals++);
  HloStr full = {0};
  hlo_str_printf(&full, "%s%s", g->prefix, name);
  KirType t = kir_memref(g->k, KIR_F32, 4, dims);
  size_t bytes = (size_t)(gm->npanels * T * IC * nr) * sizeof(float);
  ULayout ul = {IC, gm->N, nr, gm->wg_form[0], gm->wg_form[1]};
  kir_global_derived(g->k, full.buf, t, gm->packed->literal->data, bytes, fill_u, &ul, sizeof ul);
  CgVal m = kir_get_global(&f->b, full.buf, t);
  free(full.buf);
  return m;
}

/* ------------------------------------------------------------------------ */
/* Emission                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct Wg {
  CgFn *f;
  const CgGemm *gm;
  CgVal in, u, out;     /* memrefs: the input (NHWC), packed U, the output */
  CgVal vbuf, mbuf;     /* stack: V [T][mr][kc], M [group][T][mr][nr] (T = ay·ax) */
  KirType vt;           /* a vector of lanes f32 */
  const WgForm *fm[2];  /* the forms along the rows and the columns */
  int T;
  WgProg bt[2], at[2];  /* the programs of their Bᵀ and Aᵀ */
} Wg;

static CgVal fadd(Wg *w, CgVal a, CgVal b) { return kir_binop(&w->f->b, KIR_ADDF, a, b); }
static CgVal fsub(Wg *w, CgVal a, CgVal b) { return kir_binop(&w->f->b, KIR_SUBF, a, b); }

/* Σ c[i·cs]·x[i·xs] over n terms as straight-line vector code: zero
 * coefficients left out, ±1 as adds and subtracts, any other an fma with
 * the constant.  The sum starts from the first term of coefficient 1
 * (else the first nonzero, negated or scaled) and adds the others in
 * order: F(2×2, 3×3)'s transforms come out as the subtractions and
 * additions written by hand before (d2 − d1, (m1 − m2) − m3). */
static CgVal lincomb(Wg *w, const double *c, int cs, const CgVal *x, int xs, int n) {
  KirBuilder *b = &w->f->b;
  int first = -1;
  for (int i = 0; i < n && first < 0; i++)
    if (c[i * cs] == 1) first = i;
  for (int i = 0; i < n && first < 0; i++)
    if (c[i * cs] != 0) first = i;
  HLO_CHECK(first >= 0);
  double c0 = c[first * cs];
  CgVal acc = x[first * xs];
  if (c0 == -1) acc = kir_unop(b, KIR_NEGF, acc);
  else if (c0 != 1) acc = kir_binop(b, KIR_MULF, kir_const_float(b, w->vt, c0), acc);
  for (int i = 0; i < n; i++) {
    double ci = c[i * cs];
    if (i == first || ci == 0) continue;
    if (ci == 1) acc = fadd(w, acc, x[i * xs]);
    else if (ci == -1) acc = fsub(w, acc, x[i * xs]);
    else acc = kir_fma(b, kir_const_float(b, w->vt, ci), x[i * xs], acc);
  }
  return acc;
}

/* Program p applied to x[i·xs] (p->n values): output r into y[r·ys]. */
static void run_prog(Wg *w, const WgProg *p, const CgVal *x, int xs, CgVal *y, int ys) {
  CgVal v[WG_MAX_VALS];
  for (int i = 0; i < p->n; i++) v[i] = x[i * xs];
  for (int k = 0; k < p->nsteps; k++) v[p->n + k] = lincomb(w, p->c[k], 1, v, 1, p->n + k);
  for (int r = 0; r < p->rows; r++) y[r * ys] = v[p->out[r]];
}

/* Block q's image and first output row and column. */
static void block_at(Wg *w, CgVal q, CgVal *img, CgVal *oy, CgVal *ox) {
  CgFn *f = w->f;
  const CgGemm *gm = w->gm;
  CgVal plane = cg_index(f, gm->wg_bh * gm->wg_bw);
  *img = cg_iop(f, KIR_DIVSI, q, plane);
  CgVal in = cg_iop(f, KIR_REMSI, q, plane);
  *oy = cg_imul_c(f, cg_iop(f, KIR_DIVSI, in, cg_index(f, gm->wg_bw)), gm->wg_mb[0]);
  *ox = cg_imul_c(f, cg_iop(f, KIR_REMSI, in, cg_index(f, gm->wg_bw)), gm->wg_mb[1]);
}

/* V of the tile's blocks from q0, input features [k0, k0 + n), into
 * vbuf: for each block, its ay×ax input patch (zeros outside the input,
 * and for blocks past the last) a vector of input features at a time,
 * Byᵀ d Bx. */
static void input_transform(Wg *w, CgVal q0, CgVal k0, int64_t n) {
  CgFn *f = w->f;
  const CgGemm *gm = w->gm;
  int L = gm->lanes, Ad[2] = {w->fm[0]->a, w->fm[1]->a}, Ax = Ad[1];
  CgLoop rl = cg_for(f, gm->mr, 0, NULL);
  CgVal q = cg_iop(f, KIR_ADDI, q0, rl.iv);
  CgVal live = cg_icmp(f, KIR_SLT, q, cg_index(f, gm->wg_blocks));
  CgVal img, oy, ox;
  block_at(w, cg_iop(f, KIR_MINSI, q, cg_index(f, gm->wg_blocks - 1)), &img, &oy, &ox);
  CgVal pos[2][WG_MAX_A], ok[2][WG_MAX_A];
  CgVal at[2] = {cg_iadd_c(f, oy, -gm->pad_lo[0]), cg_iadd_c(f, ox, -gm->pad_lo[1])};
  for (int d = 0; d < 2; d++)
    for (int a = 0; a < Ad[d]; a++) {
      CgVal x = cg_iadd_c(f, at[d], a);
      ok[d][a] = cg_and(f, cg_icmp(f, KIR_SGE, x, cg_index(f, 0)),
                        cg_icmp(f, KIR_SLT, x, cg_index(f, gm->in_sp[d])));
      if (d == 0) ok[d][a] = cg_and(f, ok[d][a], live);
      pos[d][a] = cg_select(f, ok[d][a], x, cg_index(f, 0));
    }
  CgVal zero = kir_const_float(&f->b, w->vt, 0.0);
  CgSweep s = cg_sweep(n, L, false);
  while (cg_sweep_next(f, &s)) {
    CgVal d[36], t[36], v[36], k = cg_iop(f, KIR_ADDI, k0, s.j);
    for (int a = 0; a < Ad[0]; a++)
      for (int b = 0; b < Ax; b++) {
        CgVal x = cg_vload(f, w->in, (CgVal[]){img, pos[0][a], pos[1][b], k}, L, s.mask);
        d[a * Ax + b] = kir_select(&f->b, cg_and(f, ok[0][a], ok[1][b]), x, zero);
      }
    for (int b = 0; b < Ax; b++) /* Byᵀ d, by columns */
      run_prog(w, &w->bt[0], d + b, Ax, t + b, Ax);
    for (int i = 0; i < Ad[0]; i++) /* (Byᵀ d) Bx, by rows */
      run_prog(w, &w->bt[1], t + i * Ax, 1, v + i * Ax, 1);
    for (int i = 0; i < w->T; i++)
      cg_vstore(f, v[i], w->vbuf, (CgVal[]){cg_index(f, i), rl.iv, s.j}, s.mask);
  }
  cg_for_end(f, &rl, NULL);
}

/* The T = ay·ax products of the tile in panel p (nv vectors) over the input
 * features [k0, k0 + n) (V's from 0): for each ξ, the register tile of mr
 * blocks × nv vectors, from zero (first) or from the sums in mbuf's slot,
 * summed over the features in order, then stored into the slot. */
static void products(Wg *w, CgVal p, int nv, CgVal slot, CgVal k0, int64_t n, bool first) {
  CgFn *f = w->f;
  const CgGemm *gm = w->gm;
  int L = gm->lanes, mr = gm->mr, nacc = mr * nv;
  CgLoop xl = cg_for(f, w->T, 0, NULL);
  CgVal init[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV], acc[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  CgVal zero = kir_const_float(&f->b, w->vt, 0.0);
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++)
      init[r * nv + v] =
          first ? zero
                : cg_vload(f, w->mbuf,
                           (CgVal[]){slot, xl.iv, cg_index(f, r), cg_index(f, v * L)}, L, 0);
  CgLoop kl = cg_for(f, n, nacc, init);
  CgVal bv[CG_GEMM_MAX_NV], k = cg_iop(f, KIR_ADDI, k0, kl.iv);
  for (int v = 0; v < nv; v++)
    bv[v] = cg_vload(f, w->u, (CgVal[]){p, xl.iv, k, cg_index(f, v * L)}, L, 0);
  for (int r = 0; r < mr; r++) {
    CgVal a = kir_load(&f->b, w->vbuf, (CgVal[]){xl.iv, cg_index(f, r), kl.iv});
    a = kir_broadcast(&f->b, a, L);
    for (int v = 0; v < nv; v++)
      acc[r * nv + v] = kir_fma(&f->b, a, bv[v], kir_for_iter(kl.op, r * nv + v));
  }
  cg_for_end(f, &kl, acc);
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++)
      cg_vstore(f, kir_result(kl.op, r * nv + v), w->mbuf,
                (CgVal[]){slot, xl.iv, cg_index(f, r), cg_index(f, v * L)}, 0);
  cg_for_end(f, &xl, NULL);
}

/* The output pixel (img, y, x), features from n: the epilogue on sum and
 * the store. */
static void store_pixel(Wg *w, CgVal img, CgVal y, CgVal x, CgVal n, CgVal sum) {
  CgFn *f = w->f;
  const CgGemm *gm = w->gm;
  int L = gm->lanes;
  CgVal idx[4] = {img, y, x, n};
  CgDetour scope = cg_detour(f, NULL);
  if (gm->root != gm->op) {
    cg_bind_value(f, gm->op, sum);
    sum = cg_elem_vec(f, gm->root, idx, L, 0);
  }
  f->vlanes = L;
  f->vmask = 0;
  cg_store(f, sum, w->out, &gm->root->shape, idx);
  f->vlanes = 0;
  cg_resume(f, &scope);
}

/* Ayᵀ M Ax of the tile's blocks from q0 in panel p (nv vectors), its sums
 * in mbuf's slot, each output pixel inside the output through the
 * epilogue to the output. */
static void output_transform(Wg *w, CgVal q0, CgVal p, int nv, CgVal slot) {
  CgFn *f = w->f;
  const CgGemm *gm = w->gm;
  int L = gm->lanes, Ax = w->fm[1]->a, my = w->fm[0]->m, mx = w->fm[1]->m;
  CgVal hi = cg_iop(f, KIR_MINSI, cg_index(f, gm->mr),
                    cg_iop(f, KIR_SUBI, cg_index(f, gm->wg_blocks), q0));
  CgLoop rl = cg_for_range(f, cg_index(f, 0), hi, 0, NULL);
  CgVal img, oy, ox;
  block_at(w, cg_iop(f, KIR_ADDI, q0, rl.iv), &img, &oy, &ox);
  CgLoop vl = cg_for(f, nv, 0, NULL);
  CgVal col = cg_imul_c(f, vl.iv, L);
  CgVal n = cg_iop(f, KIR_ADDI, cg_imul_c(f, p, (int64_t)gm->nv * L), col);
  CgVal mm[36], u[36], y[36];
  for (int i = 0; i < w->T; i++)
    mm[i] = cg_vload(f, w->mbuf, (CgVal[]){slot, cg_index(f, i), rl.iv, col}, L, 0);
  for (int j = 0; j < Ax; j++) /* Ayᵀ M, by columns */
    run_prog(w, &w->at[0], mm + j, Ax, u + j, Ax);
  for (int i = 0; i < my; i++) /* (Ayᵀ M) Ax, by rows */
    run_prog(w, &w->at[1], u + i * Ax, 1, y + i * mx, 1);
  for (int i = 0; i < my; i++)
    for (int j = 0; j < mx; j++) {
      CgVal py = cg_iadd_c(f, oy, i), px = cg_iadd_c(f, ox, j);
      /* Only an output size off the multiples of m has blocks reaching
       * past it, by its pixels from size mod m on. */
      int64_t ry = gm->out_sp[0] % my, rx = gm->out_sp[1] % mx;
      bool check_y = ry && i >= ry, check_x = rx && j >= rx;
      CgVal in = 0;
      if (check_y) in = cg_icmp(f, KIR_SLT, py, cg_index(f, gm->out_sp[0]));
      if (check_x) {
        CgVal c = cg_icmp(f, KIR_SLT, px, cg_index(f, gm->out_sp[1]));
        in = in ? cg_and(f, in, c) : c;
      }
      CgIf branch;
      if (in) branch = cg_if(f, in, 0, NULL);
      store_pixel(w, img, py, px, n, y[i * mx + j]);
      if (in) cg_endif(f, &branch, NULL);
    }
  cg_for_end(f, &vl, NULL);
  cg_for_end(f, &rl, NULL);
}

/* The input features [k0, k0 + n) of the tiles [g0, g1) of panel p (nv
 * vectors), their sums in mbuf's slots from 0. */
static void k_block(Wg *w, CgVal p, int nv, CgVal g0, CgVal g1, CgVal k0, int64_t n) {
  CgFn *f = w->f;
  CgLoop tl = cg_for_range(f, g0, g1, 0, NULL);
  input_transform(w, cg_imul_c(f, tl.iv, w->gm->mr), k0, n);
  products(w, p, nv, cg_iop(f, KIR_SUBI, tl.iv, g0), k0, n, false);
  cg_for_end(f, &tl, NULL);
}

/* The tiles [lo, hi) of panel p, of nv vectors: each in one pass over the
 * input features, or (K blocked) in groups of wg_group tiles, each K block
 * over the group's tiles in turn while its slice of U stays in L2, the
 * sums zeroed first and transformed out after the last block. */
static void panel(Wg *w, CgVal p, int nv, CgVal lo, CgVal hi) {
  CgFn *f = w->f;
  const CgGemm *gm = w->gm;
  CgVal zero = cg_index(f, 0);
  if (gm->wg_kc >= gm->IC) {
    CgLoop tl = cg_for_range(f, lo, hi, 0, NULL);
    CgVal q0 = cg_imul_c(f, tl.iv, gm->mr);
    input_transform(w, q0, zero, gm->IC);
    products(w, p, nv, zero, zero, gm->IC, true);
    output_transform(w, q0, p, nv, zero);
    cg_for_end(f, &tl, NULL);
    return;
  }
  int L = gm->lanes;
  int64_t kc = gm->wg_kc, nfull = gm->IC / kc, rest = gm->IC % kc;
  CgLoop gl = cg_for_values(f, lo, hi, cg_index(f, gm->wg_group), 0, NULL);
  CgVal g1 = cg_iop(f, KIR_MINSI, cg_iadd_c(f, gl.iv, gm->wg_group), hi);
  CgVal vz = kir_const_float(&f->b, w->vt, 0.0);
  CgLoop sl = cg_for(f, gm->wg_group, 0, NULL);
  CgLoop xl = cg_for(f, w->T, 0, NULL);
  for (int r = 0; r < gm->mr; r++)
    for (int v = 0; v < nv; v++)
      cg_vstore(f, vz, w->mbuf, (CgVal[]){sl.iv, xl.iv, cg_index(f, r), cg_index(f, v * L)}, 0);
  cg_for_end(f, &xl, NULL);
  cg_for_end(f, &sl, NULL);
  CgLoop kl = cg_for(f, nfull, 0, NULL);
  k_block(w, p, nv, gl.iv, g1, cg_imul_c(f, kl.iv, kc), kc);
  cg_for_end(f, &kl, NULL);
  if (rest) k_block(w, p, nv, gl.iv, g1, cg_index(f, nfull * kc), rest);
  CgLoop tl = cg_for_range(f, gl.iv, g1, 0, NULL);
  output_transform(w, cg_imul_c(f, tl.iv, gm->mr), p, nv, cg_iop(f, KIR_SUBI, tl.iv, gl.iv));
  cg_for_end(f, &tl, NULL);
  cg_for_end(f, &gl, NULL);
}

void cg_winograd_emit(CgFn *f, const CgGemm *gm, CgVal out, CgVal lo, CgVal hi) {
  int L = gm->lanes;
  int64_t nr = (int64_t)gm->nv * L, nt = gm->ntiles;
  Wg w = {.f = f, .gm = gm, .out = out, .vt = kir_vector(KIR_F32, L)};
  for (int d = 0; d < 2; d++) {
    const WgForm *fm = w.fm[d] = form_at(gm->wg_form[d]);
    prog_of(&w.bt[d], fm->bt, fm->a, fm->a);
    prog_of(&w.at[d], fm->at, fm->m, fm->a);
  }
  int64_t T = w.T = w.fm[0]->a * w.fm[1]->a;
  w.in = cg_memref_source(f, gm->op->operands[0]);
  HLO_CHECK(w.in);
  w.u = packed_u(f, gm);
  KirBuilder at = f->b;
  kir_at_start(&at, f->fn->body);
  int64_t group = gm->wg_kc >= gm->IC ? 1 : gm->wg_group;
  int64_t vd[3] = {T, gm->mr, gm->wg_kc}, md[4] = {group, T, gm->mr, nr};
  w.vbuf = kir_alloca(&at, kir_memref(f->g->k, KIR_F32, 3, vd), 64);
  w.mbuf = kir_alloca(&at, kir_memref(f->g->k, KIR_F32, 4, md), 64);
  /* Unit u is tile u mod ntiles of panel u / ntiles (as gemm.c's). */
  CgVal p_lo = cg_iop(f, KIR_DIVSI, lo, cg_index(f, nt));
  CgVal p_hi = cg_iop(f, KIR_DIVSI, cg_iadd_c(f, hi, nt - 1), cg_index(f, nt));
  CgLoop pl = cg_for_range(f, p_lo, p_hi, 0, NULL);
  CgVal first = cg_imul_c(f, pl.iv, nt);
  CgVal t_lo = cg_iop(f, KIR_MAXSI, cg_iop(f, KIR_SUBI, lo, first), cg_index(f, 0));
  CgVal t_hi = cg_iop(f, KIR_MINSI, cg_iop(f, KIR_SUBI, hi, first), cg_index(f, nt));
  if (gm->N % nr) { /* the last panel has fewer vectors (N is whole vectors) */
    CgIf full = cg_if(f, cg_icmp(f, KIR_SLT, pl.iv, cg_index(f, gm->N / nr)), 0, NULL);
    panel(&w, pl.iv, gm->nv, t_lo, t_hi);
    cg_else(f, &full, NULL);
    panel(&w, pl.iv, (int)(gm->N % nr / L), t_lo, t_hi);
    cg_endif(f, &full, NULL);
  } else {
    panel(&w, pl.iv, gm->nv, t_lo, t_hi);
  }
  cg_for_end(f, &pl, NULL);
}
