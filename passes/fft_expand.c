/*
 * fft_expand.c — fft rewritten into real arithmetic codegen has: per
 * transformed dimension, dots of the real and imaginary parts with
 * constant cosine and sine matrices (a direct DFT).
 *
 * codegen has no fft kernel (and computes complex values as (re, im)
 * pairs, codegen/complex.c), so the operand is taken apart with
 * px_complex_part (real(x) and imag(x), or the parts themselves when x is
 * complex(a, b) seen through data movement), and the result is put
 * together with complex(re, im); real(complex(a, b)) folds to a, here
 * and in algsimp, so a program that builds complex values from real ones
 * and reads real ones back (jnp.fft's) keeps no complex value.  Along a
 * dimension of length n, y = x W with W[j][k] = e^(s 2 pi i j k / n)
 * (s = -1 forward, +1 inverse with 1/n folded into W): re' = re C - im S
 * and im' = re S + im C, the dot contracting that dimension and a
 * transpose putting the new one back in its place.  RFFT transforms the
 * last dimension first, from the real operand, keeping n/2+1 columns of
 * W; IRFFT transforms it last, from n/2+1 values, with the weights of
 * the Hermitian completion (1 at 0 and n/2, 2 elsewhere) in the
 * matrices and only the real part computed, which ignores the imaginary
 * parts at 0 and n/2 as XLA does.  The sums run in f64 and round once,
 * and the twiddles are those of hlo/'s evaluator (exact at quarter
 * turns), so the two agree to the order of the f64 sums.
 *
 * A dimension longer than FFT_MAX_LENGTH is left as fft (codegen then
 * refuses it by name): its matrices would take n^2
 * doubles, and the direct DFT n^2 work.
 *
 * px_expand_op (expand_ops.c) hands fft here, in single_device.c's walk,
 * so this runs first in the pipeline and under --O0 alike.
 *
 * requires: a verified fft.
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

#define FFT_MAX_LENGTH 1024
#define TWO_PI 6.28318530717958647693

/* cos and sin of s 2 pi m / n, exact at quarter turns (hlo/'s twiddle). */
static void twiddle(int64_t m, int64_t n, int s, double *c, double *si) {
  if (4 * m % n == 0) {
    static const double re[] = {1, 0, -1, 0}, im[] = {0, 1, 0, -1};
    int q = (int)(4 * m / n);
    *c = re[q];
    *si = s * im[q];
    return;
  }
  double a = s * TWO_PI * (double)m / (double)n;
  *c = cos(a);
  *si = sin(a);
}

/* An f64[rows, cols] constant from v. */
static HloInstr *matrix(PxAt at, int64_t rows, int64_t cols, const double *v) {
  int64_t dims[2] = {rows, cols};
  HloShape s = hlo_shape_array(HLO_F64, 2, dims);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  for (int64_t i = 0; i < rows * cols; i++) hlo_literal_set_f64(lit, i, v[i]);
  HloInstr *k = hlo_constant_new(at.c, lit, "constant");
  if (at.before) hlo_instr_move_before(k, at.before);
  return k;
}

/* x (f64) times m along dimension ax: the dot contracts ax with m's rows;
 * a transpose moves m's columns, last in the dot, back to ax. */
static HloInstr *along(PxAt at, HloInstr *x, HloInstr *m, int ax) {
  int r = x->shape.rank;
  int64_t lc = ax, rc = 0;
  HloDotDims d = {.lhs_contracting = {1, &lc}, .rhs_contracting = {1, &rc}};
  HloError *e = NULL;
  HloInstr *y = px_built(hlo_build_dot(at.c, x, m, &d, HLO_F64, &e), e, at.before);
  if (ax == r - 1) return y;
  int64_t perm[HLO_MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i < ax ? i : i == ax ? r - 1 : i - 1;
  return px_built(hlo_build_transpose(at.c, y, perm, &e), e, at.before);
}

/* a - b, a + b, with b absent (a zero part) allowed. */
static HloInstr *sub(PxAt at, HloInstr *a, HloInstr *b) {
  return b ? px_binary(at, HLO_OP_SUBTRACT, a, b) : a;
}
static HloInstr *add(PxAt at, HloInstr *a, HloInstr *b) {
  return b ? px_binary(at, HLO_OP_ADD, a, b) : a;
}

/* One complex DFT along ax: (re, im) <- (re, im) W, W n_in x n_out over
 * length n, scaled; im may be NULL (a real input). */
static void dft(PxAt at, HloInstr **re, HloInstr **im, int ax, int64_t n_in, int64_t n_out,
                int64_t n, int s, double scale) {
  double *cv = hlo_xmalloc(sizeof(double) * (size_t)(n_in * n_out));
  double *sv = hlo_xmalloc(sizeof(double) * (size_t)(n_in * n_out));
  for (int64_t j = 0; j < n_in; j++)
    for (int64_t k = 0; k < n_out; k++) {
      twiddle(j * k % n, n, s, &cv[j * n_out + k], &sv[j * n_out + k]);
      cv[j * n_out + k] *= scale;
      sv[j * n_out + k] *= scale;
    }
  HloInstr *c = matrix(at, n_in, n_out, cv), *si = matrix(at, n_in, n_out, sv);
  free(cv);
  free(sv);
  HloInstr *r = *re, *i = *im;
  *re = sub(at, along(at, r, c, ax), i ? along(at, i, si, ax) : NULL);
  *im = add(at, along(at, r, si, ax), i ? along(at, i, c, ax) : NULL);
}

/* IRFFT's last dimension: n/2+1 values in, n real values out. */
static HloInstr *c2r(PxAt at, HloInstr *re, HloInstr *im, int ax, int64_t h, int64_t n) {
  double *av = hlo_xmalloc(sizeof(double) * (size_t)(h * n));
  double *bv = hlo_xmalloc(sizeof(double) * (size_t)(h * n));
  for (int64_t k = 0; k < h; k++) {
    double w = (k == 0 || 2 * k == n ? 1.0 : 2.0) / (double)n;
    for (int64_t m = 0; m < n; m++) {
      twiddle(k * m % n, n, 1, &av[k * n + m], &bv[k * n + m]);
      av[k * n + m] *= w;
      bv[k * n + m] *= w;
    }
  }
  HloInstr *a = matrix(at, h, n, av), *b = matrix(at, h, n, bv);
  free(av);
  free(bv);
  return px_binary(at, HLO_OP_SUBTRACT, along(at, re, a, ax), along(at, im, b, ax));
}

HloInstr *px_expand_fft(HloInstr *in) {
  if (in->op != HLO_OP_FFT) return NULL;
  PxAt at = {in->parent, in};
  HloInstr *x = in->operands[0];
  const HloShape *xs = &x->shape;
  int r = xs->rank, k = in->fft_length.n, last = r - 1;
  const int64_t *len = in->fft_length.v;
  if (hlo_shape_elements(xs) == 0 || hlo_shape_elements(&in->shape) == 0) return NULL;
  for (int i = 0; i < k; i++)
    if (len[i] > FFT_MAX_LENGTH) return NULL;
  HloFftType t = in->fft_type;
  HloType part = t == HLO_FFT_RFFT ? xs->type : hlo_complex_part_type(xs->type);
  HloInstr *re, *im = NULL;
  if (t == HLO_FFT_RFFT) {
    re = px_convert(at, x, HLO_F64);
  } else {
    re = px_convert(at, px_complex_part(at, x, false), HLO_F64);
    im = px_convert(at, px_complex_part(at, x, true), HLO_F64);
  }
  bool inverse = t == HLO_FFT_IFFT || t == HLO_FFT_IRFFT;
  int s = inverse ? 1 : -1;
  int64_t n_last = len[k - 1];
  if (t == HLO_FFT_RFFT) dft(at, &re, &im, last, n_last, n_last / 2 + 1, n_last, s, 1);
  for (int ax = r - k; ax < r; ax++) {
    if (ax == last && (t == HLO_FFT_RFFT || t == HLO_FFT_IRFFT)) continue;
    int64_t n = xs->dims[ax];
    dft(at, &re, &im, ax, n, n, n, s, inverse ? 1.0 / (double)n : 1);
  }
  if (t == HLO_FFT_IRFFT)
    return px_convert(at, c2r(at, re, im, last, xs->dims[last], n_last), part);
  return px_binary(at, HLO_OP_COMPLEX, px_convert(at, re, part), px_convert(at, im, part));
}
