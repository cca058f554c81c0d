/*
 * math.c — transcendental and rounding functions on f32/f64 registers: the
 * one place codegen emits them (DESIGN.md decision 4, "Transcendentals are
 * ours").
 *
 * On x86 MLIR lowers math.exp, math.tanh, math.erf, … to scalar libm
 * calls, and a call in a loop body stops LLVM's loop vectorizer.  So every
 * f32 transcendental is written here as straight-line arith: multiplies
 * and adds (marked `contract`, so LLVM fuses them into FMAs where the CPU
 * has them and keeps them separate where it does not — the error bounds
 * hold either way), bitcasts that read and build exponents, and selects
 * for ranges and special values.  No calls and no branches: the loop
 * vectorizer sees a plain expression per element.
 *
 * The methods are the classical ones (Cody–Waite argument reduction,
 * minimax polynomials on the reduced interval, Payne–Hanek reduction for
 * the trigonometric functions), each described above its function.  The
 * polynomial coefficients come from scripts/remez.py (a Remez exchange in
 * mpmath; it prints every table below and the error of each fit); the
 * other constants are the textbook ones (ln 2 split into a short head and
 * a tail, the bits of 2/π).  docs/math.md lists each function's domain and
 * measured error; tests/test_codegen_math.c measures and asserts them.
 *
 * Where f32 accuracy needs more than f32 arithmetic (sin/cos/tan after
 * reduction, pow, cbrt) the work is done in f64 registers and rounded once
 * at the end: still vector code, at half the lanes.
 *
 * f64 transcendentals stay libm calls (math dialect ops lowered by
 * convert-math-to-llvm/-libm, and explicit calls for expm1/log1p whose
 * math-dialect expansion loses precision near 0), so f64 results equal the
 * evaluator's.  sqrt, floor, ceil and rounding are LLVM intrinsics for
 * both types (instructions, not libm, on x86-64-v2 and later).
 * f16/bf16 reach here as f32 and are rounded by the caller (scalar.c).
 *
 * Denormals are never flushed: subnormal inputs are scaled into the normal
 * range where a method reads the exponent (log, cbrt), and results that
 * underflow are produced by gradual underflow (one rounding).
 *
 * logistic and rsqrt are composed as the evaluator defines them:
 * 1 / (1 + exp(-x)) and 1 / sqrt(x); logistic is evaluated in a form that
 * stays accurate for large |x| (see logistic32).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

bool cg_math_handles(HloOpcode op) {
  switch (op) {
  case HLO_OP_EXP: case HLO_OP_EXPM1: case HLO_OP_LOG: case HLO_OP_LOG1P:
  case HLO_OP_LOGISTIC: case HLO_OP_SQRT: case HLO_OP_RSQRT: case HLO_OP_CBRT:
  case HLO_OP_TANH: case HLO_OP_SIN: case HLO_OP_COS: case HLO_OP_TAN:
  case HLO_OP_ERF: case HLO_OP_FLOOR: case HLO_OP_CEIL: case HLO_OP_ROUND_AFZ:
  case HLO_OP_ROUND_EVEN:
    return true;
  default:
    return false;
  }
}

/* ------------------------------------------------------------------------ */
/* Polynomial tables (scripts/remez.py)                                     */
/* ------------------------------------------------------------------------ */

/* Each table lists p's coefficients from the constant term up; the comment
 * gives the form p is used in, the interval, and the fit's weighted
 * (relative) error after rounding the coefficients. */

/* expm1(r) = r + r^2 p(r), |r| <= ln2/2; 2.1e-8. */
static const double expm1_p[] = {0x1.000002p-1, 0x1.5554bap-3, 0x1.55529ep-5,
                                 0x1.122134p-7, 0x1.6e1bf6p-10};
/* log1p(f) = f - f^2/2 + f^3 p(f), sqrt(1/2)-1 <= f < sqrt(2)-1; 1.1e-8. */
static const double log1p_p[] = {0x1.55558ep-2,  -0x1.0002bap-2, 0x1.99832p-3,
                                 -0x1.54347cp-3, 0x1.24ebfp-3,  -0x1.11d472p-3,
                                 0x1.f3a5a8p-4,  -0x1.06aed2p-4};
/* tanh(x) = x + x^3 p(x^2), |x| <= 0.625; 1.1e-8. */
static const double tanh_p[] = {-0x1.55553ap-2, 0x1.1108b6p-3, -0x1.b86ap-5,
                                0x1.53198ep-6, -0x1.7930bp-8};
/* erf(x) = x + x p(x^2), |x| <= 0.875; 9.7e-9. */
static const double erf_small_p[] = {0x1.06eba8p-3,  -0x1.81271ap-2,
                                     0x1.ce22bep-4,  -0x1.b7066ap-6,
                                     0x1.4a2a34p-8,  -0x1.46a02cp-11};
/* erf(x) = 1 - exp(p(x - 2.4) - x^2), 0.875 <= x <= 3.92; p approximates
 * log(erfc(x)) + x^2, and its error is relative to erf; 6.2e-10. */
static const double erf_large_p[] = {-0x1.855eap+0, -0x1.74fb1p-2,
                                     0x1.e75b06p-5,  -0x1.81960ap-7,
                                     0x1.3b4e5cp-9,  -0x1.d9f186p-12,
                                     0x1.72784cp-14, -0x1.465822p-16};
/* atan(t) = t + t^3 p(t^2), |t| <= 1/2; 7.1e-10. */
static const double atan_p[] = {-0x1.555552p-2, 0x1.99977cp-3, -0x1.245654p-3,
                                0x1.c0e36ap-4,  -0x1.49b4f4p-4, 0x1.4430e8p-5};
/* In f64: sin(r) = r + r^3 p(r^2), |r| <= pi/4; 6.3e-12. */
static const double sin_p[] = {-0x1.5555554ce9397p-3, 0x1.1111088032c67p-7,
                               -0x1.a00f756d2a804p-13, 0x1.6ccc05da08f73p-19};
/* In f64: cos(r) = 1 - r^2/2 + r^4 p(r^2), |r| <= pi/4; 1.7e-10. */
static const double cos_p[] = {0x1.55554aa74fc6ep-5, -0x1.6c0c5795a163bp-10,
                               0x1.99ec201968bb6p-16};
/* In f64: log(1+f) = 2s + s^3 p(s^2), s = f/(2+f), |s| <= 3 - 2 sqrt(2);
 * 5.7e-12. */
static const double log_atanh_p[] = {0x1.55555501eca3ap-1, 0x1.999a78b47d78fp-2,
                                     0x1.2438727f5faaap-2, 0x1.e319a5c094342p-3};
/* In f64: 2^r = 1 + r p(r), |r| <= 1/2; 3.0e-10. */
static const double exp2_p[] = {0x1.62e42feea2c5p-1, 0x1.ebfbe0663fa04p-3,
                                0x1.c6b0907b4897ep-5, 0x1.3b2a06561e5bep-7,
                                0x1.5d83c21fd38eep-10, 0x1.444bb910b4523p-13,
                                0x1.035dbabc59dd7p-16};
/* cbrt's first estimate bits(x)/3 + CBRT_SEED (relative error 3.2%). */
#define CBRT_SEED 0x2A510555

/* The bits of 2/pi after the binary point, 32 to a word, most significant
 * first: 2/pi = 0.A2F9836E 4E441529 …  (hexadecimal).  Seven words cover
 * every window the f32 Payne–Hanek reduction reads (see trig_reduce). */
static const uint32_t two_over_pi[] = {0xA2F9836E, 0x4E441529, 0xFC2757D1,
                                       0xF534DDC0, 0xDB629599, 0x3C439041,
                                       0xFE5163AB};

/* ------------------------------------------------------------------------ */
/* Emission helpers                                                          */
/* ------------------------------------------------------------------------ */

/* Floating-point ops take the register type t ("f32" or "f64"); integer
 * ops their own ("i32", "i64"). */
static CgVal fk(CgFn *f, const char *t, double v) {
  return cg_const(f, strcmp(t, "f32") ? HLO_F64 : HLO_F32, v);
}

static CgVal ik(CgFn *f, const char *t, int64_t v) {
  return cg_def(f->e, "arith.constant %D : %s", v, t);
}

/* `contract` lets LLVM fuse a multiply into the add that consumes it. */
static CgVal fbin(CgFn *f, const char *op, const char *t, CgVal a, CgVal b) {
  return cg_def(f->e, "arith.%s %v, %v fastmath<contract> : %s", op, a, b, t);
}
static CgVal add(CgFn *f, const char *t, CgVal a, CgVal b) {
  return fbin(f, "addf", t, a, b);
}
static CgVal sub(CgFn *f, const char *t, CgVal a, CgVal b) {
  return fbin(f, "subf", t, a, b);
}
static CgVal mul(CgFn *f, const char *t, CgVal a, CgVal b) {
  return fbin(f, "mulf", t, a, b);
}
static CgVal divf(CgFn *f, const char *t, CgVal a, CgVal b) {
  return cg_def(f->e, "arith.divf %v, %v : %s", a, b, t);
}
/* a * b + c, fused where the target can. */
static CgVal madd(CgFn *f, const char *t, CgVal a, CgVal b, CgVal c) {
  return add(f, t, mul(f, t, a, b), c);
}
static CgVal iop(CgFn *f, const char *op, const char *t, CgVal a, CgVal b) {
  return cg_def(f->e, "arith.%s %v, %v : %s", op, a, b, t);
}
static CgVal fcmp(CgFn *f, const char *pred, const char *t, CgVal a,
                  CgVal b) {
  return cg_def(f->e, "arith.cmpf %s, %v, %v : %s", pred, a, b, t);
}
/* An integer comparison with a constant. */
static CgVal icmp(CgFn *f, const char *pred, const char *t, CgVal a,
                  int64_t b) {
  return cg_icmp(f, pred, a, ik(f, t, b), t);
}
static CgVal sel(CgFn *f, CgVal c, CgVal a, CgVal b, const char *t) {
  return cg_select(f, c, a, b, t);
}
static CgVal bitcast(CgFn *f, CgVal v, const char *from, const char *to) {
  return cg_def(f->e, "arith.bitcast %v : %s to %s", v, from, to);
}
static CgVal absf(CgFn *f, const char *t, CgVal v) {
  return cg_def(f->e, "math.absf %v : %s", v, t);
}

/* c[0] + c[1] v + … + c[n-1] v^(n-1), by Horner's rule. */
static CgVal horner(CgFn *f, const char *t, CgVal v, const double *c, int n) {
  CgVal p = fk(f, t, c[n - 1]);
  for (int k = n - 2; k >= 0; k--) p = madd(f, t, p, v, fk(f, t, c[k]));
  return p;
}
#define HORNER(f, t, v, table) \
  horner(f, t, v, table, (int)(sizeof table / sizeof *table))

/* v with the sign bit of s (f32). */
static CgVal copysign32(CgFn *f, CgVal v, CgVal s) {
  CgVal vb = bitcast(f, v, "f32", "i32"), sb = bitcast(f, s, "f32", "i32");
  vb = iop(f, "andi", "i32", vb, ik(f, "i32", 0x7fffffff));
  sb = iop(f, "andi", "i32", sb, ik(f, "i32", INT32_MIN));
  return bitcast(f, iop(f, "ori", "i32", vb, sb), "i32", "f32");
}

/* Whether v & bit is nonzero (i32). */
static CgVal bit_set(CgFn *f, CgVal v, int bit) {
  return icmp(f, "ne", "i32", iop(f, "andi", "i32", v, ik(f, "i32", bit)), 0);
}

/* Whether x's sign bit is set (true for -0, which is not olt 0). */
static CgVal signbit32(CgFn *f, CgVal x) {
  return icmp(f, "slt", "i32", bitcast(f, x, "f32", "i32"), 0);
}

/* select(x > hi, hi, x), then the same with lo: a NaN compares false and
 * passes through, so it still reaches the result. */
static CgVal clamp(CgFn *f, const char *t, CgVal x, double lo, double hi) {
  CgVal h = fk(f, t, hi), l = fk(f, t, lo);
  x = sel(f, fcmp(f, "ogt", t, x, h), h, x, t);
  return sel(f, fcmp(f, "olt", t, x, l), l, x, t);
}

/* 2^k for an i32 k in [-126, 127], as an f32. */
static CgVal pow2_32(CgFn *f, CgVal k) {
  CgVal b = iop(f, "addi", "i32", k, ik(f, "i32", 127));
  b = iop(f, "shli", "i32", b, ik(f, "i32", 23));
  return bitcast(f, b, "i32", "f32");
}

/* ------------------------------------------------------------------------ */
/* exp, expm1                                                                */
/* ------------------------------------------------------------------------ */

/* ln 2 = LN2_HI + LN2_LO with LN2_HI's last 8 bits zero, so n * LN2_HI is
 * exact for |n| < 2^8 (every n exp needs). */
#define LN2_HI 0x1.62e400p-1
#define LN2_LO 0x1.7f7d1cp-20
#define LOG2E 0x1.715476p+0
/* Adding 1.5 * 2^23 to |t| < 2^22 rounds t to an integer n and leaves n in
 * the low mantissa bits: n = bits(t + M) - bits(M). */
#define ROUND_MAGIC 0x1.8p23
#define ROUND_MAGIC_BITS 0x4B400000

/* x = n ln2 + r with n an integer (i32) and |r| <= ln2/2 (plus an ulp):
 * Cody–Waite reduction, r = (x - n LN2_HI) - n LN2_LO.  The first product
 * is exact and the difference is exact by Sterbenz's lemma, so r carries
 * only the rounding of the small n LN2_LO term. */
static CgVal exp_reduce(CgFn *f, CgVal x, CgVal *n) {
  CgVal magic = fk(f, "f32", ROUND_MAGIC);
  CgVal s = madd(f, "f32", x, fk(f, "f32", LOG2E), magic);
  CgVal nf = sub(f, "f32", s, magic);
  *n = iop(f, "subi", "i32", bitcast(f, s, "f32", "i32"),
           ik(f, "i32", ROUND_MAGIC_BITS));
  CgVal r = madd(f, "f32", nf, fk(f, "f32", -LN2_HI), x);
  return madd(f, "f32", nf, fk(f, "f32", -LN2_LO), r);
}

/* expm1(r) for the reduced r. */
static CgVal expm1_poly(CgFn *f, CgVal r) {
  CgVal r2 = mul(f, "f32", r, r);
  return madd(f, "f32", r2, HORNER(f, "f32", r, expm1_p), r);
}

/* e^x for x in [-104, 89] (NaN passes): e^r 2^n.  2^n is applied as two
 * factors 2^(n/2) 2^(n - n/2), each a normal f32 for every such n, so the
 * result overflows to inf and underflows gradually to subnormals and 0
 * with a single rounding, exactly where the true value does. */
static CgVal exp_core(CgFn *f, CgVal x) {
  CgVal n;
  CgVal r = exp_reduce(f, x, &n);
  CgVal er = add(f, "f32", fk(f, "f32", 1.0), expm1_poly(f, r));
  CgVal n1 = iop(f, "shrsi", "i32", n, ik(f, "i32", 1));
  CgVal n2 = iop(f, "subi", "i32", n, n1);
  return mul(f, "f32", mul(f, "f32", er, pow2_32(f, n1)), pow2_32(f, n2));
}

/* Beyond 89 e^x overflows and below -104 it rounds to 0, so clamping
 * there keeps 2^n's exponent in range without changing the result
 * (exp(±inf) included). */
static CgVal exp32(CgFn *f, CgVal x) {
  return exp_core(f, clamp(f, "f32", x, -104.0, 89.0));
}

/* e^x - 1 for x in [-18, 89]: with e^x = 2^n (1 + q), q = expm1(r),
 * e^x - 1 = 2 (h q + (h - 1/2)) where h = 2^(n-1).  h - 1/2 is exact for
 * the n where it matters (|n| <= 24), so the only cancellation is the one
 * the true result has; and h is a normal f32 up to n = 128. */
static CgVal expm1_core(CgFn *f, CgVal x) {
  CgVal n;
  CgVal q = expm1_poly(f, exp_reduce(f, x, &n));
  CgVal h = pow2_32(f, iop(f, "subi", "i32", n, ik(f, "i32", 1)));
  CgVal s = madd(f, "f32", h, q, sub(f, "f32", h, fk(f, "f32", 0.5)));
  return mul(f, "f32", s, fk(f, "f32", 2.0));
}

/* Below -18 e^x - 1 rounds to -1, and the clamp keeps it there.  ±0 are
 * returned as they are: the polynomial would turn -0 into +0. */
static CgVal expm1_32(CgFn *f, CgVal x) {
  CgVal r = expm1_core(f, clamp(f, "f32", x, -18.0, 89.0));
  return sel(f, fcmp(f, "oeq", "f32", x, fk(f, "f32", 0.0)), x, r, "f32");
}

/* ------------------------------------------------------------------------ */
/* log, log1p                                                                */
/* ------------------------------------------------------------------------ */

#define SQRT_HALF_BITS 0x3f3504f3 /* sqrt(1/2) as f32 bits */

/* log(u) for a positive finite u (subnormals included): u = 2^e m with m
 * in [sqrt(1/2), sqrt(2)), found by subtracting sqrt(1/2)'s bits so that
 * the exponent field carries e; then log(u) = e ln2 + log1p(m - 1), where
 * m - 1 is exact and log1p is the minimax form f - f^2/2 + f^3 p(f).
 * Subnormals are first scaled by 2^23. */
static CgVal log_core(CgFn *f, CgVal u) {
  CgVal tiny = fcmp(f, "olt", "f32", u, fk(f, "f32", 0x1p-126));
  CgVal us = sel(f, tiny, mul(f, "f32", u, fk(f, "f32", 0x1p23)), u, "f32");
  CgVal d = iop(f, "subi", "i32", bitcast(f, us, "f32", "i32"),
                ik(f, "i32", SQRT_HALF_BITS));
  CgVal e = iop(f, "shrsi", "i32", d, ik(f, "i32", 23));
  e = iop(f, "subi", "i32", e,
          sel(f, tiny, ik(f, "i32", 23), ik(f, "i32", 0), "i32"));
  CgVal mb = iop(f, "andi", "i32", d, ik(f, "i32", 0x7fffff));
  mb = iop(f, "addi", "i32", mb, ik(f, "i32", SQRT_HALF_BITS));
  CgVal m = bitcast(f, mb, "i32", "f32");
  CgVal x = sub(f, "f32", m, fk(f, "f32", 1.0));
  CgVal tail = madd(f, "f32", x, HORNER(f, "f32", x, log1p_p),
                    fk(f, "f32", -0.5));
  CgVal l = madd(f, "f32", mul(f, "f32", x, x), tail, x);
  CgVal ef = cg_def(f->e, "arith.sitofp %v : i32 to f32", e);
  /* e LN2_HI is exact; adding it last keeps the small terms' precision. */
  l = madd(f, "f32", ef, fk(f, "f32", LN2_LO), l);
  return madd(f, "f32", ef, fk(f, "f32", LN2_HI), l);
}

/* libm's special values: log(+inf) = +inf, log(±0) = -inf, log(x < 0) and
 * log(NaN) = NaN ("ult" is true for both). */
static CgVal log_specials(CgFn *f, CgVal x, CgVal r, double zero_at) {
  CgVal z = fk(f, "f32", zero_at), inf = fk(f, "f32", INFINITY);
  r = sel(f, fcmp(f, "oeq", "f32", x, inf), inf, r, "f32");
  r = sel(f, fcmp(f, "oeq", "f32", x, z), fk(f, "f32", -INFINITY), r, "f32");
  return sel(f, fcmp(f, "ult", "f32", x, z), fk(f, "f32", NAN), r, "f32");
}

static CgVal log32(CgFn *f, CgVal x) {
  return log_specials(f, x, log_core(f, x), 0.0);
}

/* log1p(x) = log(u) + c/u with u = 1 + x rounded and c = x - (u - 1) the
 * rounding error of that sum (u - 1 is exact): log(u + c) = log(u) +
 * log1p(c/u), and c/u is below an ulp of u.  ±0 are returned as they are. */
static CgVal log1p32(CgFn *f, CgVal x) {
  CgVal one = fk(f, "f32", 1.0);
  CgVal u = add(f, "f32", one, x);
  CgVal c = sub(f, "f32", x, sub(f, "f32", u, one));
  CgVal r = add(f, "f32", log_core(f, u), divf(f, "f32", c, u));
  r = sel(f, fcmp(f, "oeq", "f32", x, fk(f, "f32", 0.0)), x, r, "f32");
  return log_specials(f, x, r, -1.0);
}

/* ------------------------------------------------------------------------ */
/* tanh, logistic, erf                                                       */
/* ------------------------------------------------------------------------ */

/* |x| < 0.625: the odd minimax polynomial.  Above, tanh|x| = e/(e + 2)
 * with e = expm1(2|x|), which has no cancellation; |x| is clamped at 10,
 * where e/(e + 2) already rounds to 1, so large inputs saturate to ±1. */
static CgVal tanh32(CgFn *f, CgVal x) {
  CgVal a = absf(f, "f32", x);
  CgVal x2 = mul(f, "f32", x, x);
  CgVal small = madd(f, "f32", mul(f, "f32", x, x2),
                     HORNER(f, "f32", x2, tanh_p), x);
  CgVal ac = clamp(f, "f32", a, 0.0, 10.0);
  CgVal e = expm1_core(f, add(f, "f32", ac, ac));
  CgVal big = divf(f, "f32", e, add(f, "f32", e, fk(f, "f32", 2.0)));
  big = copysign32(f, big, x);
  return sel(f, fcmp(f, "olt", "f32", a, fk(f, "f32", 0.625)), small, big,
             "f32");
}

/* 1 / (1 + e^-x) evaluated as 1/(1 + e) for x >= 0 and e/(1 + e) for
 * x < 0, with e = e^-|x| <= 1: neither overflows, and for very negative x
 * the result is e^x itself (down to the subnormals) instead of the
 * evaluator's 1/(1 + inf) = 0.  One division: the numerator is picked. */
static CgVal logistic32(CgFn *f, CgVal x) {
  CgVal na = cg_def(f->e, "arith.negf %v : f32", absf(f, "f32", x));
  CgVal e = exp_core(f, clamp(f, "f32", na, -104.0, 0.0));
  CgVal one = fk(f, "f32", 1.0);
  CgVal num = sel(f, fcmp(f, "olt", "f32", x, fk(f, "f32", 0.0)), e, one,
                  "f32");
  return divf(f, "f32", num, add(f, "f32", one, e));
}

/* |x| < 0.875: erf(x) = x + x p(x^2).  Above, erf|x| = 1 - erfc|x| with
 * erfc(a) = exp(q(a - 2.4) - a^2), q a minimax fit of log(erfc(a)) + a^2
 * (smooth and slowly varying on [0.875, 3.92]); exp's relative error
 * becomes erfc's, and erfc <= 0.22 there.  From 3.92 on erf rounds to ±1. */
#define ERF_BIG 3.92
static CgVal erf32(CgFn *f, CgVal x) {
  CgVal a = absf(f, "f32", x);
  CgVal small = madd(f, "f32", x,
                     HORNER(f, "f32", mul(f, "f32", x, x), erf_small_p), x);
  CgVal ac = clamp(f, "f32", a, 0.0, ERF_BIG);
  CgVal u = sub(f, "f32", ac, fk(f, "f32", 2.4));
  CgVal neg_a = cg_def(f->e, "arith.negf %v : f32", ac);
  CgVal t = madd(f, "f32", neg_a, ac, HORNER(f, "f32", u, erf_large_p));
  CgVal big = sub(f, "f32", fk(f, "f32", 1.0), exp_core(f, t));
  big = sel(f, fcmp(f, "oge", "f32", a, fk(f, "f32", ERF_BIG)),
            fk(f, "f32", 1.0), big, "f32");
  big = copysign32(f, big, x);
  return sel(f, fcmp(f, "olt", "f32", a, fk(f, "f32", 0.875)), small, big,
             "f32");
}

/* ------------------------------------------------------------------------ */
/* sin, cos, tan                                                             */
/* ------------------------------------------------------------------------ */

/* Word i of the table {0, two_over_pi...} (a leading zero word stands for
 * the bits before 2/pi's binary point), for a word index k in [0, 4] that
 * varies per element: a select chain, so no memory is read. */
static CgVal table_word(CgFn *f, CgVal k, int i) {
  CgVal w = ik(f, "i32", i ? (int32_t)two_over_pi[i - 1] : 0);
  for (int j = 1; j <= 4; j++)
    w = sel(f, icmp(f, "eq", "i32", k, j),
            ik(f, "i32", (int32_t)two_over_pi[i + j - 1]), w, "i32");
  return w;
}

/* The 32 table bits starting s bits into word k + i. */
static CgVal window_word(CgFn *f, CgVal k, CgVal s64, int i) {
  CgVal hi = cg_def(f->e, "arith.extui %v : i32 to i64", table_word(f, k, i));
  CgVal lo = cg_def(f->e, "arith.extui %v : i32 to i64",
                    table_word(f, k, i + 1));
  CgVal c = iop(f, "ori", "i64", iop(f, "shli", "i64", hi, ik(f, "i64", 32)),
                lo);
  c = iop(f, "shli", "i64", c, s64);
  return iop(f, "shrui", "i64", c, ik(f, "i64", 32));
}

/* |x| = (q + r / (pi/2)) (pi/2) mod 2 pi with the quadrant q in [0, 3] (i32)
 * and r in [-pi/4, pi/4] as an f64: Payne–Hanek reduction in integer
 * arithmetic, exact enough for every f32.
 *
 * |x| = m 2^e with m a 24-bit integer.  In x (2/pi) = sum_i m b_i 2^(e-i)
 * (b_i the bits of 2/pi) the bits i <= e - 2 only add multiples of 4,
 * which do not change the quadrant, so a 96-bit window W of bits
 * e-1 … e+94 gives x (2/pi) mod 4 = m W 2^-94 mod 4 with an error below
 * 2^-70.  The low 96 bits of m W are m w0 2^64 + m w1 2^32 + m w2 (w0..w2
 * the window's words); their top 64 bits H hold that value times 2^62:
 * the top two bits are the quadrant, the rest the fraction.  Rounding to
 * the nearest quadrant leaves a signed 62-bit fraction F, and r = F 2^-62
 * pi/2 in f64 keeps at least 32 significant bits even for the f32 closest
 * to a multiple of pi/2.  Below pi/4 there is nothing to reduce: r = |x|. */
static CgVal trig_reduce(CgFn *f, CgVal x, CgVal *quadrant) {
  CgVal ab = iop(f, "andi", "i32", bitcast(f, x, "f32", "i32"),
                 ik(f, "i32", 0x7fffffff));
  CgVal eb = iop(f, "shrui", "i32", ab, ik(f, "i32", 23));
  /* The window starts at table bit eb - 120; clamping eb keeps the word
   * index in [0, 4] for every input (tiny, inf and NaN ones are replaced
   * below). */
  eb = sel(f, icmp(f, "ult", "i32", eb, 120), ik(f, "i32", 120), eb, "i32");
  eb = sel(f, icmp(f, "ugt", "i32", eb, 254), ik(f, "i32", 254), eb, "i32");
  CgVal j = iop(f, "subi", "i32", eb, ik(f, "i32", 120));
  CgVal k = iop(f, "shrui", "i32", j, ik(f, "i32", 5));
  CgVal s = iop(f, "andi", "i32", j, ik(f, "i32", 31));
  CgVal s64 = cg_def(f->e, "arith.extui %v : i32 to i64", s);
  CgVal m = iop(f, "ori", "i32", iop(f, "andi", "i32", ab,
                                     ik(f, "i32", 0x7fffff)),
                ik(f, "i32", 0x800000));
  CgVal m64 = cg_def(f->e, "arith.extui %v : i32 to i64", m);
  CgVal w0 = cg_def(f->e, "arith.trunci %v : i64 to i32",
                    window_word(f, k, s64, 0));
  CgVal p0 = iop(f, "muli", "i32", m, w0);
  CgVal p1 = iop(f, "muli", "i64", m64, window_word(f, k, s64, 1));
  CgVal p2 = iop(f, "muli", "i64", m64, window_word(f, k, s64, 2));
  CgVal h = iop(f, "shli", "i64",
                cg_def(f->e, "arith.extui %v : i32 to i64", p0),
                ik(f, "i64", 32));
  h = iop(f, "addi", "i64", h, p1);
  h = iop(f, "addi", "i64", h,
          iop(f, "shrui", "i64", p2, ik(f, "i64", 32)));
  CgVal rounded = iop(f, "addi", "i64", h, ik(f, "i64", INT64_C(1) << 61));
  CgVal q = iop(f, "shrui", "i64", rounded, ik(f, "i64", 62));
  CgVal frac = iop(f, "subi", "i64", h,
                   iop(f, "shli", "i64", q, ik(f, "i64", 62)));
  CgVal r = cg_def(f->e, "arith.sitofp %v : i64 to f64", frac);
  r = mul(f, "f64", r, fk(f, "f64", 0x1.921fb54442d18p-62)); /* pi/2 2^-62 */
  CgVal small = fcmp(f, "olt", "f32", bitcast(f, ab, "i32", "f32"),
                     fk(f, "f32", 0x1.921fb4p-1)); /* below pi/4 */
  CgVal a64 = cg_def(f->e, "arith.extf %v : f32 to f64",
                     bitcast(f, ab, "i32", "f32"));
  q = cg_def(f->e, "arith.trunci %v : i64 to i32", q);
  *quadrant = sel(f, small, ik(f, "i32", 0), q, "i32");
  return sel(f, small, a64, r, "f64");
}

/* sin(r) = r + r^3 p(r^2) and cos(r) = 1 - r^2/2 + r^4 q(r^2) on the
 * reduced r, in f64. */
static void sin_cos_poly(CgFn *f, CgVal r, CgVal *s, CgVal *c) {
  CgVal r2 = mul(f, "f64", r, r);
  *s = madd(f, "f64", mul(f, "f64", r, r2), HORNER(f, "f64", r2, sin_p), r);
  CgVal c0 = madd(f, "f64", r2, fk(f, "f64", -0.5), fk(f, "f64", 1.0));
  *c = madd(f, "f64", mul(f, "f64", r2, r2), HORNER(f, "f64", r2, cos_p), c0);
}

/* Rounds an f64 result to f32, negated where neg is set; inf and NaN
 * inputs give NaN. */
static CgVal trig_finish(CgFn *f, CgVal x, CgVal v, CgVal neg) {
  v = sel(f, neg, cg_def(f->e, "arith.negf %v : f64", v), v, "f64");
  CgVal r = cg_def(f->e, "arith.truncf %v : f64 to f32", v);
  CgVal bad = fcmp(f, "uge", "f32", absf(f, "f32", x),
                   fk(f, "f32", INFINITY));
  return sel(f, bad, fk(f, "f32", NAN), r, "f32");
}

/* sin(x) = sign(x) sin|x| (the sign bit's: sin(-0) = -0); sin(q pi/2 + r) is sin r, cos r, -sin r, -cos r
 * for q = 0..3, and cos(x) = sin(x + pi/2): the same with q + 1. */
static CgVal sin_cos32(CgFn *f, CgVal x, bool is_cos) {
  CgVal q, s, c;
  CgVal r = trig_reduce(f, x, &q);
  sin_cos_poly(f, r, &s, &c);
  if (is_cos) q = iop(f, "addi", "i32", q, ik(f, "i32", 1));
  CgVal v = sel(f, bit_set(f, q, 1), c, s, "f64");
  CgVal neg = bit_set(f, q, 2);
  if (!is_cos) neg = iop(f, "xori", "i1", neg, signbit32(f, x));
  return trig_finish(f, x, v, neg);
}

/* tan(x) = sign(x) tan|x|, and tan(q pi/2 + r) is sin r / cos r for even
 * q and -cos r / sin r for odd q. */
static CgVal tan32(CgFn *f, CgVal x) {
  CgVal q, s, c;
  CgVal r = trig_reduce(f, x, &q);
  sin_cos_poly(f, r, &s, &c);
  CgVal odd = bit_set(f, q, 1);
  CgVal v = divf(f, "f64", sel(f, odd, c, s, "f64"), sel(f, odd, s, c, "f64"));
  return trig_finish(f, x, v, iop(f, "xori", "i1", odd, signbit32(f, x)));
}

/* ------------------------------------------------------------------------ */
/* pow, cbrt, atan2                                                          */
/* ------------------------------------------------------------------------ */

#define SQRT_HALF_BITS64 INT64_C(0x3FE6A09E667F3BCD) /* sqrt(1/2) as f64 */

/* log2 of a positive finite f64 (an f32's |x|, so never subnormal):
 * |x| = 2^e m with m in [sqrt(1/2), sqrt(2)) as in log_core, then
 * log(m) = 2 atanh(s) = 2s + s^3 p(s^2) with s = (m - 1)/(m + 1), which
 * converges fast (|s| <= 0.172) and keeps the relative accuracy near 1. */
static CgVal log2_64(CgFn *f, CgVal v) {
  CgVal d = iop(f, "subi", "i64", bitcast(f, v, "f64", "i64"),
                ik(f, "i64", SQRT_HALF_BITS64));
  CgVal e = iop(f, "shrsi", "i64", d, ik(f, "i64", 52));
  CgVal mb = iop(f, "andi", "i64", d, ik(f, "i64", (INT64_C(1) << 52) - 1));
  mb = iop(f, "addi", "i64", mb, ik(f, "i64", SQRT_HALF_BITS64));
  CgVal fm = sub(f, "f64", bitcast(f, mb, "i64", "f64"), fk(f, "f64", 1.0));
  CgVal s = divf(f, "f64", fm, add(f, "f64", fm, fk(f, "f64", 2.0)));
  CgVal s2 = mul(f, "f64", s, s);
  CgVal l = madd(f, "f64", mul(f, "f64", s, s2),
                 HORNER(f, "f64", s2, log_atanh_p), add(f, "f64", s, s));
  CgVal ef = cg_def(f->e, "arith.sitofp %v : i64 to f64", e);
  return madd(f, "f64", l, fk(f, "f64", 0x1.71547652b82fep+0), ef);
}

/* 2^t for t in [-160, 130] (NaN passes): 2^n (1 + r p(r)) with n the
 * nearest integer (the 1.5 * 2^52 rounding trick) and |r| <= 1/2 exact. */
static CgVal exp2_64(CgFn *f, CgVal t) {
  CgVal magic = fk(f, "f64", 0x1.8p52);
  CgVal sn = add(f, "f64", t, magic);
  CgVal r = sub(f, "f64", t, sub(f, "f64", sn, magic));
  CgVal n = iop(f, "subi", "i64", bitcast(f, sn, "f64", "i64"),
                bitcast(f, magic, "f64", "i64"));
  CgVal p = madd(f, "f64", r, HORNER(f, "f64", r, exp2_p), fk(f, "f64", 1.0));
  CgVal scale = iop(f, "addi", "i64", n, ik(f, "i64", 1023));
  scale = iop(f, "shli", "i64", scale, ik(f, "i64", 52));
  return mul(f, "f64", p, bitcast(f, scale, "i64", "f64"));
}

/* pow(x, y) = 2^(y log2|x|) in f64 — log2 to about 2^-40 relative and the
 * product exact to f64 rounding, so even |y log2|x|| near 150 leaves the
 * f32 result within about half an ulp — then C99's rules for the sign and
 * the special cases (Annex F.10.4.4), which are the evaluator's powf:
 *   pow(x, ±0) = 1 and pow(1, y) = 1, even for NaN; pow(-1, ±inf) = 1;
 *   x < 0 finite and y not an integer: NaN;
 *   x < 0 (or -0, -inf) and y an odd integer: the result is negated;
 * the rest (zeros, infinities, overflow, underflow) follows from the
 * magnitude: log2 0 = -inf, log2 inf = inf, and 2^t clamped. */
static CgVal pow32(CgFn *f, CgVal x, CgVal y) {
  CgVal ax = absf(f, "f32", x), ay = absf(f, "f32", y);
  CgVal l = log2_64(f, cg_def(f->e, "arith.extf %v : f32 to f64", ax));
  l = sel(f, fcmp(f, "oeq", "f32", ax, fk(f, "f32", 0.0)),
          fk(f, "f64", -INFINITY), l, "f64");
  l = sel(f, fcmp(f, "uge", "f32", ax, fk(f, "f32", INFINITY)),
          cg_def(f->e, "arith.extf %v : f32 to f64", ax), l, "f64");
  CgVal t = mul(f, "f64", cg_def(f->e, "arith.extf %v : f32 to f64", y), l);
  CgVal mag = exp2_64(f, clamp(f, "f64", t, -160.0, 130.0));
  CgVal r = cg_def(f->e, "arith.truncf %v : f64 to f32", mag);

  /* y's parity: every f32 from 2^24 on is an even integer (inf counts as
   * one, as C says); below, y converts to i32 exactly when it is an
   * integer.  Out-of-range values are replaced before the conversion. */
  CgVal big = fcmp(f, "oge", "f32", ay, fk(f, "f32", 0x1p24));
  CgVal inrange = fcmp(f, "olt", "f32", ay, fk(f, "f32", 0x1p24));
  CgVal yc = sel(f, inrange, y, fk(f, "f32", 0.0), "f32");
  CgVal yi = cg_def(f->e, "arith.fptosi %v : f32 to i32", yc);
  CgVal back = cg_def(f->e, "arith.sitofp %v : i32 to f32", yi);
  CgVal is_int = iop(f, "ori", "i1", big, fcmp(f, "oeq", "f32", back, y));
  CgVal odd = cg_and(f, bit_set(f, yi, 1), is_int);
  CgVal negate = cg_and(f, odd, signbit32(f, x));
  r = sel(f, negate, cg_def(f->e, "arith.negf %v : f32", r), r, "f32");
  CgVal neg_finite = cg_and(f, fcmp(f, "olt", "f32", x, fk(f, "f32", 0.0)),
                            fcmp(f, "ogt", "f32", x,
                                 fk(f, "f32", -INFINITY)));
  CgVal not_int = iop(f, "xori", "i1", is_int, cg_const(f, HLO_PRED, 1));
  r = sel(f, cg_and(f, neg_finite, not_int), fk(f, "f32", NAN), r, "f32");
  CgVal one = fk(f, "f32", 1.0);
  CgVal unit_inf = cg_and(f, fcmp(f, "oeq", "f32", ax, one),
                          fcmp(f, "oeq", "f32", ay, fk(f, "f32", INFINITY)));
  r = sel(f, unit_inf, one, r, "f32");
  r = sel(f, fcmp(f, "oeq", "f32", y, fk(f, "f32", 0.0)), one, r, "f32");
  return sel(f, fcmp(f, "oeq", "f32", x, one), one, r, "f32");
}

/* cbrt: a first estimate from the bits (dividing the biased exponent by 3
 * and interpolating the mantissa, |error| < 3.2%; the constant from
 * scripts/remez.py), then two Halley steps y (y^3 + 2a) / (2y^3 + a) in
 * f64, each roughly cubing the relative error (3.2% → 3e-5 → 1e-14), and
 * one rounding to f32.  Subnormals are scaled by 2^24 first (and the result
 * by 2^-8); ±0, ±inf and NaN are returned as they are. */
static CgVal cbrt32(CgFn *f, CgVal x) {
  CgVal a = absf(f, "f32", x);
  CgVal tiny = fcmp(f, "olt", "f32", a, fk(f, "f32", 0x1p-126));
  CgVal as = sel(f, tiny, mul(f, "f32", a, fk(f, "f32", 0x1p24)), a, "f32");
  CgVal b = iop(f, "divui", "i32", bitcast(f, as, "f32", "i32"),
                ik(f, "i32", 3));
  b = iop(f, "addi", "i32", b, ik(f, "i32", CBRT_SEED));
  CgVal y = cg_def(f->e, "arith.extf %v : f32 to f64",
                   bitcast(f, b, "i32", "f32"));
  CgVal a64 = cg_def(f->e, "arith.extf %v : f32 to f64", as);
  CgVal a2 = add(f, "f64", a64, a64);
  for (int i = 0; i < 2; i++) {
    CgVal y3 = mul(f, "f64", mul(f, "f64", y, y), y);
    CgVal num = add(f, "f64", y3, a2);
    CgVal den = add(f, "f64", add(f, "f64", y3, y3), a64);
    y = mul(f, "f64", y, divf(f, "f64", num, den));
  }
  y = mul(f, "f64", y, sel(f, tiny, fk(f, "f64", 0x1p-8), fk(f, "f64", 1.0),
                           "f64"));
  CgVal r = copysign32(f, cg_def(f->e, "arith.truncf %v : f64 to f32", y), x);
  CgVal keep = iop(f, "ori", "i1",
                   fcmp(f, "ueq", "f32", a, fk(f, "f32", 0.0)),
                   fcmp(f, "oeq", "f32", a, fk(f, "f32", INFINITY)));
  return sel(f, keep, x, r, "f32");
}

/* pi/4 = PI4_HI + PI4_LO with PI4_HI's last bits zero, so k PI4_HI is
 * exact for k = 0..4. */
#define PI4_HI 0x1.921fap-1
#define PI4_LO 0x1.54442ep-21

/* atan2(y, x): with a = min(|x|,|y|) / max(|x|,|y|) in [0, 1], atan a is
 * the odd minimax polynomial where a <= 1/2 and pi/4 + atan((a-1)/(a+1))
 * above (the polynomial's argument stays in [-1/3, 1/2]; min - max is
 * exact there by Sterbenz's lemma, and the result is at least 0.46, so
 * the polynomial's error is not magnified by cancellation); then
 * pi/2 - that when |y| > |x|, pi - that when x is negative (sign bit: -0
 * counts), and y's sign.  The multiple k of pi/4 these steps add is
 * tracked apart and added last in two parts.  One division: the region
 * picks numerator and denominator first.  C's special values: both zero
 * gives 0 or pi (by x's sign), both infinite pi/4 or 3pi/4, NaN gives
 * NaN. */
static CgVal atan2_32(CgFn *f, CgVal y, CgVal x) {
  const char *t = "f32";
  CgVal ax = absf(f, t, x), ay = absf(f, t, y);
  CgVal swap = fcmp(f, "ogt", t, ay, ax);
  CgVal hi = sel(f, swap, ay, ax, t), lo = sel(f, swap, ax, ay, t);
  CgVal near0 = fcmp(f, "ole", t, lo, mul(f, t, hi, fk(f, t, 0.5)));
  /* (lo - hi)/(lo + hi) with both scaled by 1/4 near the top of the range,
   * where lo + hi could overflow (lo is then far from subnormal). */
  CgVal sc = sel(f, fcmp(f, "ogt", t, hi, fk(f, t, 0x1p125)), fk(f, t, 0.25),
                 fk(f, t, 1.0), t);
  CgVal los = mul(f, t, lo, sc), his = mul(f, t, hi, sc);
  CgVal num = sel(f, near0, lo, sub(f, t, los, his), t);
  CgVal den = sel(f, near0, hi, add(f, t, los, his), t);
  CgVal both_inf = cg_and(f, fcmp(f, "oeq", t, ax, fk(f, t, INFINITY)),
                          fcmp(f, "oeq", t, ay, fk(f, t, INFINITY)));
  /* Both zero: 0/1 gives angle 0.  Both infinite: 0/1 in the upper region
   * gives pi/4. */
  CgVal unit = iop(f, "ori", "i1",
                   fcmp(f, "oeq", t, hi, fk(f, t, 0.0)), both_inf);
  num = sel(f, unit, fk(f, t, 0.0), num, t);
  den = sel(f, unit, fk(f, t, 1.0), den, t);
  near0 = cg_and(f, near0, iop(f, "xori", "i1", both_inf,
                               cg_const(f, HLO_PRED, 1)));
  CgVal a = divf(f, t, num, den);
  CgVal a2 = mul(f, t, a, a);
  CgVal p = madd(f, t, mul(f, t, a, a2), HORNER(f, t, a2, atan_p), a);
  CgVal k = sel(f, near0, fk(f, t, 0.0), fk(f, t, 1.0), t);
  CgVal neg_p = cg_def(f->e, "arith.negf %v : f32", p);
  k = sel(f, swap, sub(f, t, fk(f, t, 2.0), k), k, t);
  p = sel(f, swap, neg_p, p, t);
  CgVal xneg = signbit32(f, x);
  k = sel(f, xneg, sub(f, t, fk(f, t, 4.0), k), k, t);
  p = sel(f, xneg, cg_def(f->e, "arith.negf %v : f32", p), p, t);
  CgVal r = madd(f, t, k, fk(f, t, PI4_LO), p);
  r = madd(f, t, k, fk(f, t, PI4_HI), r);
  r = copysign32(f, r, y);
  /* A NaN can hide behind the both-zero substitution (atan2(NaN, 0)). */
  return sel(f, fcmp(f, "uno", t, x, y), add(f, t, x, y), r, t);
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

/* A call to the C library's `name` (float version with suffix f). */
static CgVal libm_call(CgFn *f, const char *name, const char *fty, CgVal a) {
  bool is_f32 = !strcmp(fty, "f32");
  char fn[32], sig[32];
  snprintf(fn, sizeof fn, "%s%s", name, is_f32 ? "f" : "");
  snprintf(sig, sizeof sig, "(%s) -> %s", fty, fty);
  cg_declare(f->g, fn, sig);
  return cg_def(f->e, "func.call @%s(%v) : %s", fn, a, sig);
}

/* The f64 versions: libm through the math dialect, as the evaluator. */
static CgVal unary64(CgFn *f, HloOpcode op, CgVal a) {
  const char *name;
  switch (op) {
  case HLO_OP_EXP: name = "exp"; break;
  case HLO_OP_LOG: name = "log"; break;
  case HLO_OP_CBRT: name = "cbrt"; break;
  case HLO_OP_TANH: name = "tanh"; break;
  case HLO_OP_SIN: name = "sin"; break;
  case HLO_OP_COS: name = "cos"; break;
  case HLO_OP_TAN: name = "tan"; break;
  case HLO_OP_ERF: name = "erf"; break;
  case HLO_OP_EXPM1: return libm_call(f, "expm1", "f64", a);
  case HLO_OP_LOG1P: return libm_call(f, "log1p", "f64", a);
  case HLO_OP_LOGISTIC: {
    CgVal one = fk(f, "f64", 1.0);
    CgVal n = cg_def(f->e, "arith.negf %v : f64", a);
    CgVal e = cg_def(f->e, "math.exp %v : f64", n);
    CgVal d = cg_def(f->e, "arith.addf %v, %v : f64", one, e);
    return cg_def(f->e, "arith.divf %v, %v : f64", one, d);
  }
  default: HLO_UNREACHABLE();
  }
  return cg_def(f->e, "math.%s %v : f64", name, a);
}

CgVal cg_math_unary(CgFn *f, HloOpcode op, const char *fty, CgVal a) {
  const char *rounding;
  switch (op) {
  case HLO_OP_SQRT: return cg_def(f->e, "math.sqrt %v : %s", a, fty);
  case HLO_OP_RSQRT: {
    CgVal s = cg_def(f->e, "math.sqrt %v : %s", a, fty);
    return cg_def(f->e, "arith.divf %v, %v : %s", fk(f, fty, 1.0), s, fty);
  }
  case HLO_OP_FLOOR: rounding = "floor"; break;
  case HLO_OP_CEIL: rounding = "ceil"; break;
  case HLO_OP_ROUND_AFZ: rounding = "round"; break;
  case HLO_OP_ROUND_EVEN: rounding = "roundeven"; break;
  default:
    if (strcmp(fty, "f32")) return unary64(f, op, a);
    switch (op) {
    case HLO_OP_EXP: return exp32(f, a);
    case HLO_OP_EXPM1: return expm1_32(f, a);
    case HLO_OP_LOG: return log32(f, a);
    case HLO_OP_LOG1P: return log1p32(f, a);
    case HLO_OP_LOGISTIC: return logistic32(f, a);
    case HLO_OP_TANH: return tanh32(f, a);
    case HLO_OP_ERF: return erf32(f, a);
    case HLO_OP_SIN: return sin_cos32(f, a, false);
    case HLO_OP_COS: return sin_cos32(f, a, true);
    case HLO_OP_TAN: return tan32(f, a);
    case HLO_OP_CBRT: return cbrt32(f, a);
    default: HLO_UNREACHABLE();
    }
  }
  return cg_def(f->e, "math.%s %v : %s", rounding, a, fty);
}

CgVal cg_math_binary(CgFn *f, HloOpcode op, const char *fty, CgVal a,
                     CgVal b) {
  bool f32 = !strcmp(fty, "f32");
  switch (op) {
  case HLO_OP_POWER:
    return f32 ? pow32(f, a, b)
               : cg_def(f->e, "math.powf %v, %v : %s", a, b, fty);
  case HLO_OP_ATAN2:
    return f32 ? atan2_32(f, a, b)
               : cg_def(f->e, "math.atan2 %v, %v : %s", a, b, fty);
  default: HLO_UNREACHABLE();
  }
}
