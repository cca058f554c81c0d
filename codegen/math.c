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
 * f64 transcendentals stay calls of the C library's functions (one per
 * lane of a vector), so f64 results equal the evaluator's.  sqrt, floor,
 * ceil and rounding are LLVM intrinsics for both types (instructions, not
 * libm, on x86-64-v2 and later).  f16/bf16 reach here as f32 and are
 * rounded by the caller (scalar.c).
 *
 * Every function takes the lane count of its argument (Math.lanes): the
 * same code computes one element or a vector of them.
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

/* The function being emitted and the lane count of the value being
 * computed: every constant and intermediate has it, so one expression
 * serves a scalar and a vector alike. */
typedef struct Math {
  CgFn *f;
  int lanes;
} Math;

#define F32 KIR_F32
#define F64 KIR_F64
#define I1 KIR_I1
#define I32 KIR_I32
#define I64 KIR_I64

static KirType ty(const Math *m, KirElem e) { return kir_vector(e, m->lanes); }
static KirBuilder *B(Math *m) { return &m->f->b; }

static CgVal fk(Math *m, KirElem e, double v) { return kir_const_float(B(m), ty(m, e), v); }
static CgVal ik(Math *m, KirElem e, int64_t v) { return kir_const_int(B(m), ty(m, e), v); }
/* A float constant of v's element kind. */
static CgVal fk_like(Math *m, CgVal v, double c) {
  return fk(m, (KirElem)cg_type(m->f, v).elem, c);
}

/* `contract` lets LLVM fuse a multiply into the add that consumes it. */
static CgVal fbin(Math *m, KirOpcode op, CgVal a, CgVal b) {
  CgVal r = kir_binop(B(m), op, a, b);
  kir_last(B(m))->flags |= KIR_F_CONTRACT;
  return r;
}
static CgVal add(Math *m, CgVal a, CgVal b) { return fbin(m, KIR_ADDF, a, b); }
static CgVal sub(Math *m, CgVal a, CgVal b) { return fbin(m, KIR_SUBF, a, b); }
static CgVal mul(Math *m, CgVal a, CgVal b) { return fbin(m, KIR_MULF, a, b); }
static CgVal divf(Math *m, CgVal a, CgVal b) { return kir_binop(B(m), KIR_DIVF, a, b); }
/* a * b + c, fused where the target can. */
static CgVal madd(Math *m, CgVal a, CgVal b, CgVal c) { return add(m, mul(m, a, b), c); }
static CgVal iop(Math *m, KirOpcode op, CgVal a, CgVal b) { return kir_binop(B(m), op, a, b); }
static CgVal fcmp(Math *m, KirFPred pred, CgVal a, CgVal b) { return kir_cmpf(B(m), pred, a, b); }
/* An integer comparison with a constant. */
static CgVal icmp(Math *m, KirIPred pred, CgVal a, int64_t b) {
  return kir_cmpi(B(m), pred, a, kir_const_int(B(m), cg_type(m->f, a), b));
}
static CgVal sel(Math *m, CgVal c, CgVal a, CgVal b) { return kir_select(B(m), c, a, b); }
static CgVal band(Math *m, CgVal a, CgVal b) { return kir_binop(B(m), KIR_ANDI, a, b); }
static CgVal cast(Math *m, KirOpcode op, KirElem to, CgVal v) {
  return kir_cast(B(m), op, v, ty(m, to));
}
static CgVal bitcast(Math *m, CgVal v, KirElem to) { return cast(m, KIR_BITCAST, to, v); }
static CgVal absf(Math *m, CgVal v) { return kir_unop(B(m), KIR_ABSF, v); }
static CgVal fneg(Math *m, CgVal v) { return kir_unop(B(m), KIR_NEGF, v); }

/* c[0] + c[1] v + … + c[n-1] v^(n-1), by Horner's rule. */
static CgVal horner(Math *m, CgVal v, const double *c, int n) {
  CgVal p = fk_like(m, v, c[n - 1]);
  for (int k = n - 2; k >= 0; k--) p = madd(m, p, v, fk_like(m, v, c[k]));
  return p;
}
#define HORNER(m, v, table) horner(m, v, table, (int)(sizeof table / sizeof *table))

/* v with the sign bit of s (f32). */
static CgVal copysign32(Math *m, CgVal v, CgVal s) {
  CgVal vb = bitcast(m, v, I32), sb = bitcast(m, s, I32);
  vb = iop(m, KIR_ANDI, vb, ik(m, I32, 0x7fffffff));
  sb = iop(m, KIR_ANDI, sb, ik(m, I32, INT32_MIN));
  return bitcast(m, iop(m, KIR_ORI, vb, sb), F32);
}

/* Whether v & bit is nonzero (i32). */
static CgVal bit_set(Math *m, CgVal v, int bit) {
  return icmp(m, KIR_NE, iop(m, KIR_ANDI, v, ik(m, I32, bit)), 0);
}

/* Whether x's sign bit is set (true for -0, which is not olt 0). */
static CgVal signbit32(Math *m, CgVal x) {
  return icmp(m, KIR_SLT, bitcast(m, x, I32), 0);
}

/* select(x > hi, hi, x), then the same with lo: a NaN compares false and
 * passes through, so it still reaches the result. */
static CgVal clamp(Math *m, CgVal x, double lo, double hi) {
  CgVal h = fk_like(m, x, hi), l = fk_like(m, x, lo);
  x = sel(m, fcmp(m, KIR_OGT, x, h), h, x);
  return sel(m, fcmp(m, KIR_OLT, x, l), l, x);
}

/* 2^k for an i32 k in [-126, 127], as an f32. */
static CgVal pow2_32(Math *m, CgVal k) {
  CgVal b = iop(m, KIR_ADDI, k, ik(m, I32, 127));
  b = iop(m, KIR_SHLI, b, ik(m, I32, 23));
  return bitcast(m, b, F32);
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
 * only the rounding of the small n LN2_LO term.  n_float (if not NULL)
 * gets n as an f32. */
static CgVal exp_reduce(Math *m, CgVal x, CgVal *n, CgVal *n_float) {
  CgVal magic = fk(m, F32, ROUND_MAGIC);
  CgVal s = madd(m, x, fk(m, F32, LOG2E), magic);
  CgVal nf = sub(m, s, magic);
  if (n_float) *n_float = nf;
  *n = iop(m, KIR_SUBI, bitcast(m, s, I32),
           ik(m, I32, ROUND_MAGIC_BITS));
  CgVal r = madd(m, nf, fk(m, F32, -LN2_HI), x);
  return madd(m, nf, fk(m, F32, -LN2_LO), r);
}

/* expm1(r) for the reduced r. */
static CgVal expm1_poly(Math *m, CgVal r) {
  CgVal r2 = mul(m, r, r);
  return madd(m, r2, HORNER(m, r, expm1_p), r);
}

/* Whether the target scales these lanes of f32 by 2^n in one instruction
 * (CgTargetInfo.scalef: a full vector register). */
static bool scalef_lanes(const Math *m) {
  const CgTargetInfo *t = &m->f->g->target->info;
  return t->scalef && m->lanes * 32 == t->vector_bits;
}

/* e^x for x in [-104, 89] (NaN passes): e^r 2^n.  2^n is applied as two
 * factors 2^(n/2) 2^(n - n/2), each a normal f32 for every such n, so the
 * result overflows to inf and underflows gradually to subnormals and 0
 * with a single rounding, exactly where the true value does.  Where the
 * target has scalef, er · 2^n is one instruction with that same single
 * rounding (er · 2^(n/2) is exact: er is in [0.7, 1.5] and n/2 >= -75),
 * so the two forms give the same bits. */
static CgVal exp_core(Math *m, CgVal x) {
  CgVal n, nf;
  CgVal r = exp_reduce(m, x, &n, &nf);
  CgVal er = add(m, fk(m, F32, 1.0), expm1_poly(m, r));
  if (scalef_lanes(m)) return kir_binop(B(m), KIR_SCALEF, er, nf);
  CgVal n1 = iop(m, KIR_SHRSI, n, ik(m, I32, 1));
  CgVal n2 = iop(m, KIR_SUBI, n, n1);
  return mul(m, mul(m, er, pow2_32(m, n1)), pow2_32(m, n2));
}

/* Beyond 89 e^x overflows and below -104 it rounds to 0, so clamping
 * there keeps 2^n's exponent in range without changing the result
 * (exp(±inf) included). */
static CgVal exp32(Math *m, CgVal x) {
  return exp_core(m, clamp(m, x, -104.0, 89.0));
}

/* e^x - 1 for x in [-18, 89]: with e^x = 2^n (1 + q), q = expm1(r),
 * e^x - 1 = 2 (h q + (h - 1/2)) where h = 2^(n-1).  h - 1/2 is exact for
 * the n where it matters (|n| <= 24), so the only cancellation is the one
 * the true result has; and h is a normal f32 up to n = 128. */
static CgVal expm1_core(Math *m, CgVal x) {
  CgVal n;
  CgVal q = expm1_poly(m, exp_reduce(m, x, &n, NULL));
  CgVal h = pow2_32(m, iop(m, KIR_SUBI, n, ik(m, I32, 1)));
  CgVal s = madd(m, h, q, sub(m, h, fk(m, F32, 0.5)));
  return mul(m, s, fk(m, F32, 2.0));
}

/* Below -18 e^x - 1 rounds to -1, and the clamp keeps it there.  ±0 are
 * returned as they are: the polynomial would turn -0 into +0. */
static CgVal expm1_32(Math *m, CgVal x) {
  CgVal r = expm1_core(m, clamp(m, x, -18.0, 89.0));
  return sel(m, fcmp(m, KIR_OEQ, x, fk(m, F32, 0.0)), x, r);
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
static CgVal log_core(Math *m, CgVal u) {
  CgVal tiny = fcmp(m, KIR_OLT, u, fk(m, F32, 0x1p-126));
  CgVal us = sel(m, tiny, mul(m, u, fk(m, F32, 0x1p23)), u);
  CgVal d = iop(m, KIR_SUBI, bitcast(m, us, I32),
                ik(m, I32, SQRT_HALF_BITS));
  CgVal e = iop(m, KIR_SHRSI, d, ik(m, I32, 23));
  e = iop(m, KIR_SUBI, e,
          sel(m, tiny, ik(m, I32, 23), ik(m, I32, 0)));
  CgVal mb = iop(m, KIR_ANDI, d, ik(m, I32, 0x7fffff));
  mb = iop(m, KIR_ADDI, mb, ik(m, I32, SQRT_HALF_BITS));
  CgVal mant = bitcast(m, mb, F32);
  CgVal x = sub(m, mant, fk(m, F32, 1.0));
  CgVal tail = madd(m, x, HORNER(m, x, log1p_p),
                    fk(m, F32, -0.5));
  CgVal l = madd(m, mul(m, x, x), tail, x);
  CgVal ef = cast(m, KIR_SITOFP, F32, e);
  /* e LN2_HI is exact; adding it last keeps the small terms' precision. */
  l = madd(m, ef, fk(m, F32, LN2_LO), l);
  return madd(m, ef, fk(m, F32, LN2_HI), l);
}

/* libm's special values: log(+inf) = +inf, log(±0) = -inf, log(x < 0) and
 * log(NaN) = NaN ("ult" is true for both). */
static CgVal log_specials(Math *m, CgVal x, CgVal r, double zero_at) {
  CgVal z = fk(m, F32, zero_at), inf = fk(m, F32, INFINITY);
  r = sel(m, fcmp(m, KIR_OEQ, x, inf), inf, r);
  r = sel(m, fcmp(m, KIR_OEQ, x, z), fk(m, F32, -INFINITY), r);
  return sel(m, fcmp(m, KIR_ULTF, x, z), fk(m, F32, NAN), r);
}

static CgVal log32(Math *m, CgVal x) {
  return log_specials(m, x, log_core(m, x), 0.0);
}

/* log1p(x) = log(u) + c/u with u = 1 + x rounded and c = x - (u - 1) the
 * rounding error of that sum (u - 1 is exact): log(u + c) = log(u) +
 * log1p(c/u), and c/u is below an ulp of u.  ±0 are returned as they are. */
static CgVal log1p32(Math *m, CgVal x) {
  CgVal one = fk(m, F32, 1.0);
  CgVal u = add(m, one, x);
  CgVal c = sub(m, x, sub(m, u, one));
  CgVal r = add(m, log_core(m, u), divf(m, c, u));
  r = sel(m, fcmp(m, KIR_OEQ, x, fk(m, F32, 0.0)), x, r);
  return log_specials(m, x, r, -1.0);
}

/* ------------------------------------------------------------------------ */
/* tanh, logistic, erf                                                       */
/* ------------------------------------------------------------------------ */

/* |x| < 0.625: the odd minimax polynomial.  Above, tanh|x| = e/(e + 2)
 * with e = expm1(2|x|), which has no cancellation; |x| is clamped at 10,
 * where e/(e + 2) already rounds to 1, so large inputs saturate to ±1. */
static CgVal tanh32(Math *m, CgVal x) {
  CgVal a = absf(m, x);
  CgVal x2 = mul(m, x, x);
  CgVal small = madd(m, mul(m, x, x2),
                     HORNER(m, x2, tanh_p), x);
  CgVal ac = clamp(m, a, 0.0, 10.0);
  CgVal e = expm1_core(m, add(m, ac, ac));
  CgVal big = divf(m, e, add(m, e, fk(m, F32, 2.0)));
  big = copysign32(m, big, x);
  return sel(m, fcmp(m, KIR_OLT, a, fk(m, F32, 0.625)), small, big);
}

/* 1 / (1 + e^-x) evaluated as 1/(1 + e) for x >= 0 and e/(1 + e) for
 * x < 0, with e = e^-|x| <= 1: neither overflows, and for very negative x
 * the result is e^x itself (down to the subnormals) instead of the
 * evaluator's 1/(1 + inf) = 0.  One division: the numerator is picked. */
static CgVal logistic32(Math *m, CgVal x) {
  CgVal na = fneg(m, absf(m, x));
  CgVal e = exp_core(m, clamp(m, na, -104.0, 0.0));
  CgVal one = fk(m, F32, 1.0);
  CgVal num = sel(m, fcmp(m, KIR_OLT, x, fk(m, F32, 0.0)), e, one);
  return divf(m, num, add(m, one, e));
}

/* |x| < 0.875: erf(x) = x + x p(x^2).  Above, erf|x| = 1 - erfc|x| with
 * erfc(a) = exp(q(a - 2.4) - a^2), q a minimax fit of log(erfc(a)) + a^2
 * (smooth and slowly varying on [0.875, 3.92]); exp's relative error
 * becomes erfc's, and erfc <= 0.22 there.  From 3.92 on erf rounds to ±1. */
#define ERF_BIG 3.92
static CgVal erf32(Math *m, CgVal x) {
  CgVal a = absf(m, x);
  CgVal small = madd(m, x,
                     HORNER(m, mul(m, x, x), erf_small_p), x);
  CgVal ac = clamp(m, a, 0.0, ERF_BIG);
  CgVal u = sub(m, ac, fk(m, F32, 2.4));
  CgVal neg_a = fneg(m, ac);
  CgVal t = madd(m, neg_a, ac, HORNER(m, u, erf_large_p));
  CgVal big = sub(m, fk(m, F32, 1.0), exp_core(m, t));
  big = sel(m, fcmp(m, KIR_OGE, a, fk(m, F32, ERF_BIG)),
            fk(m, F32, 1.0), big);
  big = copysign32(m, big, x);
  return sel(m, fcmp(m, KIR_OLT, a, fk(m, F32, 0.875)), small, big);
}

/* ------------------------------------------------------------------------ */
/* sin, cos, tan                                                             */
/* ------------------------------------------------------------------------ */

/* Word i of the table {0, two_over_pi...} (a leading zero word stands for
 * the bits before 2/pi's binary point), for a word index k in [0, 4] that
 * varies per element: a select chain, so no memory is read. */
static CgVal table_word(Math *m, CgVal k, int i) {
  CgVal w = ik(m, I32, i ? (int32_t)two_over_pi[i - 1] : 0);
  for (int j = 1; j <= 4; j++)
    w = sel(m, icmp(m, KIR_EQ, k, j),
            ik(m, I32, (int32_t)two_over_pi[i + j - 1]), w);
  return w;
}

/* The 32 table bits starting s bits into word k + i. */
static CgVal window_word(Math *m, CgVal k, CgVal s64, int i) {
  CgVal hi = cast(m, KIR_EXTUI, I64, table_word(m, k, i));
  CgVal lo = cast(m, KIR_EXTUI, I64, table_word(m, k, i + 1));
  CgVal c = iop(m, KIR_ORI, iop(m, KIR_SHLI, hi, ik(m, I64, 32)),
                lo);
  c = iop(m, KIR_SHLI, c, s64);
  return iop(m, KIR_SHRUI, c, ik(m, I64, 32));
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
static CgVal trig_reduce(Math *m, CgVal x, CgVal *quadrant) {
  CgVal ab = iop(m, KIR_ANDI, bitcast(m, x, I32),
                 ik(m, I32, 0x7fffffff));
  CgVal eb = iop(m, KIR_SHRUI, ab, ik(m, I32, 23));
  /* The window starts at table bit eb - 120; clamping eb keeps the word
   * index in [0, 4] for every input (tiny, inf and NaN ones are replaced
   * below). */
  eb = sel(m, icmp(m, KIR_ULT, eb, 120), ik(m, I32, 120), eb);
  eb = sel(m, icmp(m, KIR_UGT, eb, 254), ik(m, I32, 254), eb);
  CgVal j = iop(m, KIR_SUBI, eb, ik(m, I32, 120));
  CgVal k = iop(m, KIR_SHRUI, j, ik(m, I32, 5));
  CgVal s = iop(m, KIR_ANDI, j, ik(m, I32, 31));
  CgVal s64 = cast(m, KIR_EXTUI, I64, s);
  CgVal mant = iop(m, KIR_ORI, iop(m, KIR_ANDI, ab,
                                     ik(m, I32, 0x7fffff)),
                ik(m, I32, 0x800000));
  CgVal m64 = cast(m, KIR_EXTUI, I64, mant);
  CgVal w0 = cast(m, KIR_TRUNCI, I32, window_word(m, k, s64, 0));
  CgVal p0 = iop(m, KIR_MULI, mant, w0);
  CgVal p1 = iop(m, KIR_MULI, m64, window_word(m, k, s64, 1));
  CgVal p2 = iop(m, KIR_MULI, m64, window_word(m, k, s64, 2));
  CgVal h = iop(m, KIR_SHLI, cast(m, KIR_EXTUI, I64, p0),
                ik(m, I64, 32));
  h = iop(m, KIR_ADDI, h, p1);
  h = iop(m, KIR_ADDI, h,
          iop(m, KIR_SHRUI, p2, ik(m, I64, 32)));
  CgVal rounded = iop(m, KIR_ADDI, h, ik(m, I64, INT64_C(1) << 61));
  CgVal q = iop(m, KIR_SHRUI, rounded, ik(m, I64, 62));
  CgVal frac = iop(m, KIR_SUBI, h,
                   iop(m, KIR_SHLI, q, ik(m, I64, 62)));
  CgVal r = cast(m, KIR_SITOFP, F64, frac);
  r = mul(m, r, fk(m, F64, 0x1.921fb54442d18p-62)); /* pi/2 2^-62 */
  CgVal small = fcmp(m, KIR_OLT, bitcast(m, ab, F32),
                     fk(m, F32, 0x1.921fb4p-1)); /* below pi/4 */
  CgVal a64 = cast(m, KIR_EXTF, F64, bitcast(m, ab, F32));
  q = cast(m, KIR_TRUNCI, I32, q);
  *quadrant = sel(m, small, ik(m, I32, 0), q);
  return sel(m, small, a64, r);
}

/* sin(r) = r + r^3 p(r^2) and cos(r) = 1 - r^2/2 + r^4 q(r^2) on the
 * reduced r, in f64. */
static void sin_cos_poly(Math *m, CgVal r, CgVal *s, CgVal *c) {
  CgVal r2 = mul(m, r, r);
  *s = madd(m, mul(m, r, r2), HORNER(m, r2, sin_p), r);
  CgVal c0 = madd(m, r2, fk(m, F64, -0.5), fk(m, F64, 1.0));
  *c = madd(m, mul(m, r2, r2), HORNER(m, r2, cos_p), c0);
}

/* Rounds an f64 result to f32, negated where neg is set; inf and NaN
 * inputs give NaN. */
static CgVal trig_finish(Math *m, CgVal x, CgVal v, CgVal neg) {
  v = sel(m, neg, fneg(m, v), v);
  CgVal r = cast(m, KIR_TRUNCF, F32, v);
  CgVal bad = fcmp(m, KIR_UGEF, absf(m, x),
                   fk(m, F32, INFINITY));
  return sel(m, bad, fk(m, F32, NAN), r);
}

/* sin(x) = sign(x) sin|x| (the sign bit's: sin(-0) = -0); sin(q pi/2 + r) is sin r, cos r, -sin r, -cos r
 * for q = 0..3, and cos(x) = sin(x + pi/2): the same with q + 1. */
static CgVal sin_cos32(Math *m, CgVal x, bool is_cos) {
  CgVal q, s, c;
  CgVal r = trig_reduce(m, x, &q);
  sin_cos_poly(m, r, &s, &c);
  if (is_cos) q = iop(m, KIR_ADDI, q, ik(m, I32, 1));
  CgVal v = sel(m, bit_set(m, q, 1), c, s);
  CgVal neg = bit_set(m, q, 2);
  if (!is_cos) neg = iop(m, KIR_XORI, neg, signbit32(m, x));
  return trig_finish(m, x, v, neg);
}

/* tan(x) = sign(x) tan|x|, and tan(q pi/2 + r) is sin r / cos r for even
 * q and -cos r / sin r for odd q. */
static CgVal tan32(Math *m, CgVal x) {
  CgVal q, s, c;
  CgVal r = trig_reduce(m, x, &q);
  sin_cos_poly(m, r, &s, &c);
  CgVal odd = bit_set(m, q, 1);
  CgVal v = divf(m, sel(m, odd, c, s), sel(m, odd, s, c));
  return trig_finish(m, x, v, iop(m, KIR_XORI, odd, signbit32(m, x)));
}

/* ------------------------------------------------------------------------ */
/* pow, cbrt, atan2                                                          */
/* ------------------------------------------------------------------------ */

#define SQRT_HALF_BITS64 INT64_C(0x3FE6A09E667F3BCD) /* sqrt(1/2) as f64 */

/* log2 of a positive finite f64 (an f32's |x|, so never subnormal):
 * |x| = 2^e m with m in [sqrt(1/2), sqrt(2)) as in log_core, then
 * log(m) = 2 atanh(s) = 2s + s^3 p(s^2) with s = (m - 1)/(m + 1), which
 * converges fast (|s| <= 0.172) and keeps the relative accuracy near 1. */
static CgVal log2_64(Math *m, CgVal v) {
  CgVal d = iop(m, KIR_SUBI, bitcast(m, v, I64),
                ik(m, I64, SQRT_HALF_BITS64));
  CgVal e = iop(m, KIR_SHRSI, d, ik(m, I64, 52));
  CgVal mb = iop(m, KIR_ANDI, d, ik(m, I64, (INT64_C(1) << 52) - 1));
  mb = iop(m, KIR_ADDI, mb, ik(m, I64, SQRT_HALF_BITS64));
  CgVal fm = sub(m, bitcast(m, mb, F64), fk(m, F64, 1.0));
  CgVal s = divf(m, fm, add(m, fm, fk(m, F64, 2.0)));
  CgVal s2 = mul(m, s, s);
  CgVal l = madd(m, mul(m, s, s2),
                 HORNER(m, s2, log_atanh_p), add(m, s, s));
  CgVal ef = cast(m, KIR_SITOFP, F64, e);
  return madd(m, l, fk(m, F64, 0x1.71547652b82fep+0), ef);
}

/* 2^t for t in [-160, 130] (NaN passes): 2^n (1 + r p(r)) with n the
 * nearest integer (the 1.5 * 2^52 rounding trick) and |r| <= 1/2 exact. */
static CgVal exp2_64(Math *m, CgVal t) {
  CgVal magic = fk(m, F64, 0x1.8p52);
  CgVal sn = add(m, t, magic);
  CgVal r = sub(m, t, sub(m, sn, magic));
  CgVal n = iop(m, KIR_SUBI, bitcast(m, sn, I64),
                bitcast(m, magic, I64));
  CgVal p = madd(m, r, HORNER(m, r, exp2_p), fk(m, F64, 1.0));
  CgVal scale = iop(m, KIR_ADDI, n, ik(m, I64, 1023));
  scale = iop(m, KIR_SHLI, scale, ik(m, I64, 52));
  return mul(m, p, bitcast(m, scale, F64));
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
static CgVal pow32(Math *m, CgVal x, CgVal y) {
  CgVal ax = absf(m, x), ay = absf(m, y);
  CgVal l = log2_64(m, cast(m, KIR_EXTF, F64, ax));
  l = sel(m, fcmp(m, KIR_OEQ, ax, fk(m, F32, 0.0)),
          fk(m, F64, -INFINITY), l);
  l = sel(m, fcmp(m, KIR_UGEF, ax, fk(m, F32, INFINITY)),
          cast(m, KIR_EXTF, F64, ax), l);
  CgVal t = mul(m, cast(m, KIR_EXTF, F64, y), l);
  CgVal mag = exp2_64(m, clamp(m, t, -160.0, 130.0));
  CgVal r = cast(m, KIR_TRUNCF, F32, mag);

  /* y's parity: every f32 from 2^24 on is an even integer (inf counts as
   * one, as C says); below, y converts to i32 exactly when it is an
   * integer.  Out-of-range values are replaced before the conversion. */
  CgVal big = fcmp(m, KIR_OGE, ay, fk(m, F32, 0x1p24));
  CgVal inrange = fcmp(m, KIR_OLT, ay, fk(m, F32, 0x1p24));
  CgVal yc = sel(m, inrange, y, fk(m, F32, 0.0));
  CgVal yi = cast(m, KIR_FPTOSI, I32, yc);
  CgVal back = cast(m, KIR_SITOFP, F32, yi);
  CgVal is_int = iop(m, KIR_ORI, big, fcmp(m, KIR_OEQ, back, y));
  CgVal odd = band(m, bit_set(m, yi, 1), is_int);
  CgVal negate = band(m, odd, signbit32(m, x));
  r = sel(m, negate, fneg(m, r), r);
  CgVal neg_finite = band(m, fcmp(m, KIR_OLT, x, fk(m, F32, 0.0)),
                            fcmp(m, KIR_OGT, x,
                                 fk(m, F32, -INFINITY)));
  CgVal not_int = iop(m, KIR_XORI, is_int, ik(m, I1, 1));
  r = sel(m, band(m, neg_finite, not_int), fk(m, F32, NAN), r);
  CgVal one = fk(m, F32, 1.0);
  CgVal unit_inf = band(m, fcmp(m, KIR_OEQ, ax, one),
                          fcmp(m, KIR_OEQ, ay, fk(m, F32, INFINITY)));
  r = sel(m, unit_inf, one, r);
  r = sel(m, fcmp(m, KIR_OEQ, y, fk(m, F32, 0.0)), one, r);
  return sel(m, fcmp(m, KIR_OEQ, x, one), one, r);
}

/* cbrt: a first estimate from the bits (dividing the biased exponent by 3
 * and interpolating the mantissa, |error| < 3.2%; the constant from
 * scripts/remez.py), then two Halley steps y (y^3 + 2a) / (2y^3 + a) in
 * f64, each roughly cubing the relative error (3.2% → 3e-5 → 1e-14), and
 * one rounding to f32.  Subnormals are scaled by 2^24 first (and the result
 * by 2^-8); ±0, ±inf and NaN are returned as they are. */
static CgVal cbrt32(Math *m, CgVal x) {
  CgVal a = absf(m, x);
  CgVal tiny = fcmp(m, KIR_OLT, a, fk(m, F32, 0x1p-126));
  CgVal as = sel(m, tiny, mul(m, a, fk(m, F32, 0x1p24)), a);
  CgVal b = iop(m, KIR_DIVUI, bitcast(m, as, I32),
                ik(m, I32, 3));
  b = iop(m, KIR_ADDI, b, ik(m, I32, CBRT_SEED));
  CgVal y = cast(m, KIR_EXTF, F64, bitcast(m, b, F32));
  CgVal a64 = cast(m, KIR_EXTF, F64, as);
  CgVal a2 = add(m, a64, a64);
  for (int i = 0; i < 2; i++) {
    CgVal y3 = mul(m, mul(m, y, y), y);
    CgVal num = add(m, y3, a2);
    CgVal den = add(m, add(m, y3, y3), a64);
    y = mul(m, y, divf(m, num, den));
  }
  y = mul(m, y, sel(m, tiny, fk(m, F64, 0x1p-8), fk(m, F64, 1.0)));
  CgVal r = copysign32(m, cast(m, KIR_TRUNCF, F32, y), x);
  CgVal keep = iop(m, KIR_ORI, fcmp(m, KIR_UEQ, a, fk(m, F32, 0.0)),
                   fcmp(m, KIR_OEQ, a, fk(m, F32, INFINITY)));
  return sel(m, keep, x, r);
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
static CgVal atan2_32(Math *m, CgVal y, CgVal x) {
  CgVal ax = absf(m, x), ay = absf(m, y);
  CgVal swap = fcmp(m, KIR_OGT, ay, ax);
  CgVal hi = sel(m, swap, ay, ax), lo = sel(m, swap, ax, ay);
  CgVal near0 = fcmp(m, KIR_OLE, lo, mul(m, hi, fk(m, F32, 0.5)));
  /* (lo - hi)/(lo + hi) with both scaled by 1/4 near the top of the range,
   * where lo + hi could overflow (lo is then far from subnormal). */
  CgVal sc = sel(m, fcmp(m, KIR_OGT, hi, fk(m, F32, 0x1p125)), fk(m, F32, 0.25),
                 fk(m, F32, 1.0));
  CgVal los = mul(m, lo, sc), his = mul(m, hi, sc);
  CgVal num = sel(m, near0, lo, sub(m, los, his));
  CgVal den = sel(m, near0, hi, add(m, los, his));
  CgVal both_inf = band(m, fcmp(m, KIR_OEQ, ax, fk(m, F32, INFINITY)),
                          fcmp(m, KIR_OEQ, ay, fk(m, F32, INFINITY)));
  /* Both zero: 0/1 gives angle 0.  Both infinite: 0/1 in the upper region
   * gives pi/4. */
  CgVal unit = iop(m, KIR_ORI, fcmp(m, KIR_OEQ, hi, fk(m, F32, 0.0)), both_inf);
  num = sel(m, unit, fk(m, F32, 0.0), num);
  den = sel(m, unit, fk(m, F32, 1.0), den);
  near0 = band(m, near0, iop(m, KIR_XORI, both_inf,
                               ik(m, I1, 1)));
  CgVal a = divf(m, num, den);
  CgVal a2 = mul(m, a, a);
  CgVal p = madd(m, mul(m, a, a2), HORNER(m, a2, atan_p), a);
  CgVal k = sel(m, near0, fk(m, F32, 0.0), fk(m, F32, 1.0));
  CgVal neg_p = fneg(m, p);
  k = sel(m, swap, sub(m, fk(m, F32, 2.0), k), k);
  p = sel(m, swap, neg_p, p);
  CgVal xneg = signbit32(m, x);
  k = sel(m, xneg, sub(m, fk(m, F32, 4.0), k), k);
  p = sel(m, xneg, fneg(m, p), p);
  CgVal r = madd(m, k, fk(m, F32, PI4_LO), p);
  r = madd(m, k, fk(m, F32, PI4_HI), r);
  r = copysign32(m, r, y);
  /* A NaN can hide behind the both-zero substitution (atan2(NaN, 0)). */
  return sel(m, fcmp(m, KIR_UNO, x, y), add(m, x, y), r);
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

/* The C library's `name` (its float version, with suffix f, for f32) on
 * every lane of a. */
static CgVal libm_call(Math *m, const char *name, CgVal a, CgVal b) {
  KirElem e = (KirElem)cg_type(m->f, a).elem;
  char fn[32];
  snprintf(fn, sizeof fn, "%s%s", name, e == F32 ? "f" : "");
  KirType t = kir_scalar(e), params[2] = {t, t};
  int n = b ? 2 : 1;
  const KirFunc *callee = kir_func_declare(m->f->g->k, fn, n, params, 1, &t);
  if (!m->lanes) return kir_call(B(m), callee, n, (CgVal[]){a, b});
  CgVal r = a;
  for (int i = 0; i < m->lanes; i++) {
    CgVal args[2] = {kir_extract(B(m), a, i), b ? kir_extract(B(m), b, i) : 0};
    r = kir_insert(B(m), kir_call(B(m), callee, n, args), r, i);
  }
  return r;
}

/* The f64 versions: libm, as the evaluator. */
static CgVal unary64(Math *m, HloOpcode op, CgVal a) {
  switch (op) {
  case HLO_OP_EXP: return libm_call(m, "exp", a, 0);
  case HLO_OP_EXPM1: return libm_call(m, "expm1", a, 0);
  case HLO_OP_LOG: return libm_call(m, "log", a, 0);
  case HLO_OP_LOG1P: return libm_call(m, "log1p", a, 0);
  case HLO_OP_CBRT: return libm_call(m, "cbrt", a, 0);
  case HLO_OP_TANH: return libm_call(m, "tanh", a, 0);
  case HLO_OP_SIN: return libm_call(m, "sin", a, 0);
  case HLO_OP_COS: return libm_call(m, "cos", a, 0);
  case HLO_OP_TAN: return libm_call(m, "tan", a, 0);
  case HLO_OP_ERF: return libm_call(m, "erf", a, 0);
  case HLO_OP_LOGISTIC: {
    CgVal one = fk(m, F64, 1.0);
    CgVal e = libm_call(m, "exp", fneg(m, a), 0);
    return kir_binop(B(m), KIR_DIVF, one, kir_binop(B(m), KIR_ADDF, one, e));
  }
  default: HLO_UNREACHABLE();
  }
}

CgVal cg_math_unary(CgFn *f, HloOpcode op, CgVal a) {
  Math mm = {f, cg_type(f, a).lanes}, *m = &mm;
  bool f32 = cg_type(f, a).elem == F32;
  switch (op) {
  case HLO_OP_SQRT: return kir_unop(B(m), KIR_SQRT, a);
  case HLO_OP_RSQRT: return divf(m, fk_like(m, a, 1.0), kir_unop(B(m), KIR_SQRT, a));
  case HLO_OP_FLOOR: return kir_unop(B(m), KIR_FLOOR, a);
  case HLO_OP_CEIL: return kir_unop(B(m), KIR_CEIL, a);
  case HLO_OP_ROUND_AFZ: return kir_unop(B(m), KIR_ROUND, a);
  case HLO_OP_ROUND_EVEN: return kir_unop(B(m), KIR_ROUNDEVEN, a);
  default: break;
  }
  if (!f32) return unary64(m, op, a);
  switch (op) {
  case HLO_OP_EXP: return exp32(m, a);
  case HLO_OP_EXPM1: return expm1_32(m, a);
  case HLO_OP_LOG: return log32(m, a);
  case HLO_OP_LOG1P: return log1p32(m, a);
  case HLO_OP_LOGISTIC: return logistic32(m, a);
  case HLO_OP_TANH: return tanh32(m, a);
  case HLO_OP_ERF: return erf32(m, a);
  case HLO_OP_SIN: return sin_cos32(m, a, false);
  case HLO_OP_COS: return sin_cos32(m, a, true);
  case HLO_OP_TAN: return tan32(m, a);
  case HLO_OP_CBRT: return cbrt32(m, a);
  default: HLO_UNREACHABLE();
  }
}

CgVal cg_math_binary(CgFn *f, HloOpcode op, CgVal a, CgVal b) {
  Math mm = {f, cg_type(f, a).lanes}, *m = &mm;
  bool f32 = cg_type(f, a).elem == F32;
  switch (op) {
  case HLO_OP_POWER: return f32 ? pow32(m, a, b) : libm_call(m, "pow", a, b);
  case HLO_OP_ATAN2: return f32 ? atan2_32(m, a, b) : libm_call(m, "atan2", a, b);
  default: HLO_UNREACHABLE();
  }
}
