/*
 * lower_math.c — TensorFlow's elementwise math ops: unary functions and
 * activations, casts, arithmetic, comparisons, logic and selection.
 *
 * Binary ops broadcast numpy-style (tf_broadcast_pair) and then become one
 * HLO elementwise instruction, or a short formula where TensorFlow's kernel
 * differs from XLA's primitive (Erfinv is a polynomial approximation,
 * Bucketize a count of comparisons): integer FloorDiv/FloorMod round toward
 * negative infinity while XLA's divide/remainder truncate, Softplus guards
 * exp's overflow as Eigen does, Select (v1) takes a vector condition that
 * picks rows.  Integer Div truncates, as TensorFlow's CPU kernel does.
 *
 * Inputs are assumed to have the types the op's definition allows (its T);
 * what an HLO builder rejects (exp of an integer …) is reported with the
 * rule it breaks.  The formulas are written with lower.h's builders, which
 * keep the first error and make later steps no-ops, so they read as
 * formulas.
 */
#include "lower.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads the two inputs of a binary op, broadcast to their common shape. */
static HloError *binary_inputs(TfLower *L, const TfNode *n, HloInstr **x, HloInstr **y) {
  HloInstr *v[2];
  HloError *e = tf_inputs(L, n, 2, v);
  if (!e) e = tf_broadcast_pair(L, &v[0], &v[1]);
  *x = v[0];
  *y = v[1];
  return e;
}

/* ------------------------------------------------------------------------ */
/* Unary ops                                                                */
/* ------------------------------------------------------------------------ */

/* Ops that are one HLO instruction. */
static const struct {
  const char *op;
  HloOpcode hlo;
} unary_ops[] = {
    {"Neg", HLO_OP_NEGATE},       {"Abs", HLO_OP_ABS},
    {"Sign", HLO_OP_SIGN},        {"Exp", HLO_OP_EXP},
    {"Expm1", HLO_OP_EXPM1},      {"Log", HLO_OP_LOG},
    {"Log1p", HLO_OP_LOG1P},      {"Sqrt", HLO_OP_SQRT},
    {"Rsqrt", HLO_OP_RSQRT},      {"Sigmoid", HLO_OP_LOGISTIC},
    {"Tanh", HLO_OP_TANH},        {"Erf", HLO_OP_ERF},
    {"Floor", HLO_OP_FLOOR},      {"Ceil", HLO_OP_CEIL},
    {"Rint", HLO_OP_ROUND_EVEN},  {"Sin", HLO_OP_SIN},
    {"Cos", HLO_OP_COS},          {"Tan", HLO_OP_TAN},
    {"IsFinite", HLO_OP_IS_FINITE}, {"LogicalNot", HLO_OP_NOT},
    {"Invert", HLO_OP_NOT},
};

/* The tables name every op their lowering is registered for. */
static HloOpcode unary_opcode(const char *op) {
  for (size_t k = 0; k < sizeof unary_ops / sizeof unary_ops[0]; k++)
    if (!strcmp(unary_ops[k].op, op)) return unary_ops[k].hlo;
  HLO_UNREACHABLE();
}

static HloError *lower_unary(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_unary(L, unary_opcode(n->op), x, &err), &err);
}

/* Round: half to even; integers are already whole. */
static HloError *lower_round(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  if (!hlo_type_is_float(x->shape.type)) return tf_finish(L, n, x, &err);
  return tf_finish(L, n, tf_unary(L, HLO_OP_ROUND_EVEN, x, &err), &err);
}

static HloError *lower_square(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_binary(L, HLO_OP_MULTIPLY, x, x, &err), &err);
}

static HloError *lower_reciprocal(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *one = tf_full(L, x, 1, &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_DIVIDE, one, x, &err), &err);
}

static HloError *lower_relu(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *zero = tf_full(L, x, 0, &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_MAXIMUM, x, zero, &err), &err);
}

static HloError *lower_relu6(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *zero = tf_full(L, x, 0, &err), *six = tf_full(L, x, 6, &err);
  HloInstr *y = err ? NULL : hlo_build_ternary(L->c, HLO_OP_CLAMP, zero, x, six, &err);
  return tf_finish(L, n, y, &err);
}

/* Elu and Selu: x for x > 0, else alpha * expm1(x), all times scale. */
static HloError *exp_linear(TfLower *L, const TfNode *n, double alpha, double scale) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *pos = tf_compare(L, HLO_CMP_GT, x, tf_full(L, x, 0, &err), &err);
  HloInstr *neg = tf_unary(L, HLO_OP_EXPM1, x, &err);
  if (alpha != 1) neg = tf_binary(L, HLO_OP_MULTIPLY, neg, tf_full(L, x, alpha, &err), &err);
  HloInstr *y = tf_select(L, pos, x, neg, &err);
  if (scale != 1) y = tf_binary(L, HLO_OP_MULTIPLY, y, tf_full(L, x, scale, &err), &err);
  return tf_finish(L, n, y, &err);
}

static HloError *lower_elu(TfLower *L, const TfNode *n) { return exp_linear(L, n, 1, 1); }

static HloError *lower_selu(TfLower *L, const TfNode *n) {
  /* The constants of Klambauer et al., as TensorFlow's kernel has them. */
  return exp_linear(L, n, 1.6732632423543772848170429916717,
                    1.0507009873554804934193349852946);
}

static HloError *lower_leaky_relu(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  float alpha = 0.2f;
  if (tf_attr_find(n, "alpha") && (e = tf_attr_float(n, "alpha", &alpha))) return e;
  HloError *err = NULL;
  HloInstr *pos = tf_compare(L, HLO_CMP_GT, x, tf_full(L, x, 0, &err), &err);
  HloInstr *neg = tf_binary(L, HLO_OP_MULTIPLY, x, tf_full(L, x, alpha, &err), &err);
  return tf_finish(L, n, tf_select(L, pos, x, neg, &err), &err);
}

/* The machine epsilon of a float type, for Softplus's thresholds. */
static double epsilon_of(HloType t) {
  switch (t) {
  case HLO_F16: return 0x1p-10;
  case HLO_BF16: return 0x1p-7;
  case HLO_F64: return DBL_EPSILON;
  default: return FLT_EPSILON;
  }
}

/* log(1 + exp(x)) as Eigen computes it: beyond -log(eps) - 2 the result
 * is x within an ulp (and exp would overflow), below log(eps) + 2 it is
 * exp(x); log1p in between keeps small results accurate. */
static HloError *lower_softplus(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  double threshold = log(epsilon_of(x->shape.type)) + 2;
  HloInstr *too_large = tf_compare(L, HLO_CMP_GT, x, tf_full(L, x, -threshold, &err), &err);
  HloInstr *too_small = tf_compare(L, HLO_CMP_LT, x, tf_full(L, x, threshold, &err), &err);
  HloInstr *ex = tf_unary(L, HLO_OP_EXP, x, &err);
  HloInstr *mid = tf_unary(L, HLO_OP_LOG1P, ex, &err);
  HloInstr *y = tf_select(L, too_small, ex, mid, &err);
  return tf_finish(L, n, tf_select(L, too_large, x, y, &err), &err);
}

static HloError *lower_softsign(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *abs = tf_unary(L, HLO_OP_ABS, x, &err);
  HloInstr *den = tf_binary(L, HLO_OP_ADD, abs, tf_full(L, x, 1, &err), &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_DIVIDE, x, den, &err), &err);
}

/* 1 - erf(x): absolute error within an ulp of 1, which is what Keras's
 * exact GELU (x/2 * erfc(-x/sqrt 2)) needs; the relative error grows in
 * the far tail where erfc(x) < 1e-7. */
static HloError *lower_erfc(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *one = tf_full(L, x, 1, &err);
  HloInstr *erf = tf_unary(L, HLO_OP_ERF, x, &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_SUBTRACT, one, erf, &err), &err);
}

/* Horner's rule: c[0] * w^(n-1) + … + c[n-1], w of x's type. */
static HloInstr *polynomial(TfLower *L, HloInstr *w, const double *c, int n, HloError **err) {
  HloInstr *p = tf_full(L, w, c[0], err);
  for (int i = 1; i < n; i++)
    p = tf_binary(L, HLO_OP_ADD, tf_binary(L, HLO_OP_MULTIPLY, p, w, err),
                  tf_full(L, w, c[i], err), err);
  return p;
}

/* erf^-1(x) by M. Giles' single-precision approximation ("Approximating
 * the erfinv function", GPU Computing Gems, 2011), the one XLA uses for
 * f32: with w = -log((1 - x)(1 + x)), x times a polynomial in w - 2.5
 * where w < 5 (|x| < 0.99662), else in sqrt(w) - 3.  Measured against an
 * f64 erfinv over [-0.999999, 0.999999] its relative error is below
 * 3e-7; TensorFlow's own f32 kernel (through ndtri) is off by up to 1e-3
 * relative near 0 and 1, so test data stays where both are accurate.
 * x = +-1 gives +-inf, |x| > 1 NaN (the log's).  16-bit floats are
 * computed in f32; f64 is refused rather than given f32 accuracy. */
static HloError *lower_erfinv(TfLower *L, const TfNode *n) {
  static const double small[] = {2.81022636e-08,  3.43273939e-07, -3.5233877e-06,
                                 -4.39150654e-06, 0.00021858087,  -0.00125372503,
                                 -0.00417768164,  0.246640727,    1.50140941};
  static const double large[] = {-0.000200214257, 0.000100950558, 0.00134934322,
                                 -0.00367342844,  0.00573950773,  -0.0076224613,
                                 0.00943887047,   1.00167406,     2.83297682};
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloType t = x->shape.type;
  if (t != HLO_F32 && t != HLO_F16 && t != HLO_BF16)
    return hlo_error("x has type %s; the approximation is for f32, f16 and bf16",
                     hlo_type_name(t));
  HloError *err = NULL;
  HloInstr *xf = tf_converted(L, x, HLO_F32, &err);
  HloInstr *one = tf_full(L, xf, 1, &err);
  HloInstr *w = tf_binary(L, HLO_OP_MULTIPLY, tf_binary(L, HLO_OP_SUBTRACT, one, xf, &err),
                          tf_binary(L, HLO_OP_ADD, one, xf, &err), &err);
  w = tf_unary(L, HLO_OP_NEGATE, tf_unary(L, HLO_OP_LOG, w, &err), &err);
  HloInstr *ps = polynomial(L, tf_binary(L, HLO_OP_SUBTRACT, w, tf_full(L, w, 2.5, &err), &err),
                            small, 9, &err);
  HloInstr *pl = polynomial(L, tf_binary(L, HLO_OP_SUBTRACT, tf_unary(L, HLO_OP_SQRT, w, &err),
                                         tf_full(L, w, 3, &err), &err),
                            large, 9, &err);
  HloInstr *p = tf_select(L, tf_compare(L, HLO_CMP_LT, w, tf_full(L, w, 5, &err), &err), ps, pl,
                          &err);
  HloInstr *y = tf_binary(L, HLO_OP_MULTIPLY, p, xf, &err);
  /* At +-1 the polynomial of an infinite w is inf - inf. */
  HloInstr *edge = tf_compare(L, HLO_CMP_EQ, tf_unary(L, HLO_OP_ABS, xf, &err), one, &err);
  y = tf_select(L, edge, tf_binary(L, HLO_OP_MULTIPLY, xf, tf_full(L, xf, INFINITY, &err), &err),
                y, &err);
  return tf_finish(L, n, tf_converted(L, y, t, &err), &err);
}

/* ------------------------------------------------------------------------ */
/* Inverse trigonometric and hyperbolic functions                           */
/* ------------------------------------------------------------------------ */

/* Reads the one input of a float-only function; integers and bools are
 * refused with the op's name rather than an HLO builder's rule. */
static HloError *float_input(TfLower *L, const TfNode *n, HloInstr **x) {
  HloError *e = tf_inputs(L, n, 1, x);
  if (!e && !hlo_type_is_float((*x)->shape.type))
    e = hlo_error("x has type %s; %s is defined for floating-point types",
                  hlo_type_name((*x)->shape.type), n->op);
  return e;
}

/* (1 - x)(1 + x): 1 - x^2 without the cancellation near |x| = 1. */
static HloInstr *one_minus_square(TfLower *L, HloInstr *x, HloError **err) {
  HloInstr *one = tf_full(L, x, 1, err);
  return tf_binary(L, HLO_OP_MULTIPLY, tf_binary(L, HLO_OP_SUBTRACT, one, x, err),
                   tf_binary(L, HLO_OP_ADD, one, x, err), err);
}

/* atan(x) = atan2(x, 1). */
static HloError *lower_atan(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_binary(L, HLO_OP_ATAN2, x, tf_full(L, x, 1, &err), &err), &err);
}

/* asin(x) = atan2(x, sqrt(1 - x^2)); |x| > 1 gives the sqrt's NaN. */
static HloError *lower_asin(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *c = tf_unary(L, HLO_OP_SQRT, one_minus_square(L, x, &err), &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_ATAN2, x, c, &err), &err);
}

/* acos(x) = atan2(sqrt(1 - x^2), x): 0 at 1, pi at -1. */
static HloError *lower_acos(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *s = tf_unary(L, HLO_OP_SQRT, one_minus_square(L, x, &err), &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_ATAN2, s, x, &err), &err);
}

/* log 2, which C17 does not name. */
#define LN2 0.69314718055994530942

/* exp(x) / 2, which is finite up to log(max) + log 2: where exp(x)
 * overflows, exp(x - log 2) instead. */
static HloInstr *half_exp(TfLower *L, HloInstr *x, HloError **err) {
  HloInstr *ex = tf_unary(L, HLO_OP_EXP, x, err);
  HloInstr *half = tf_binary(L, HLO_OP_MULTIPLY, ex, tf_full(L, x, 0.5, err), err);
  HloInstr *shifted =
      tf_unary(L, HLO_OP_EXP, tf_binary(L, HLO_OP_ADD, x, tf_full(L, x, -LN2, err), err), err);
  HloInstr *over = tf_compare(L, HLO_CMP_EQ, ex, tf_full(L, x, INFINITY, err), err);
  return tf_select(L, over, shifted, half, err);
}

/* sinh: (expm1(x) - expm1(-x)) / 2 for |x| < 1, where the difference of
 * exponentials cancels, else exp(x)/2 - exp(-x)/2. */
static HloError *lower_sinh(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *nx = tf_unary(L, HLO_OP_NEGATE, x, &err);
  HloInstr *small = tf_binary(L, HLO_OP_SUBTRACT, tf_unary(L, HLO_OP_EXPM1, x, &err),
                              tf_unary(L, HLO_OP_EXPM1, nx, &err), &err);
  small = tf_binary(L, HLO_OP_MULTIPLY, small, tf_full(L, x, 0.5, &err), &err);
  HloInstr *large = tf_binary(L, HLO_OP_SUBTRACT, half_exp(L, x, &err), half_exp(L, nx, &err),
                              &err);
  HloInstr *is_small = tf_compare(L, HLO_CMP_LT, tf_unary(L, HLO_OP_ABS, x, &err),
                                  tf_full(L, x, 1, &err), &err);
  return tf_finish(L, n, tf_select(L, is_small, small, large, &err), &err);
}

/* cosh = exp(x)/2 + exp(-x)/2: a sum, so nothing cancels. */
static HloError *lower_cosh(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *nx = tf_unary(L, HLO_OP_NEGATE, x, &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_ADD, half_exp(L, x, &err), half_exp(L, nx, &err),
                                   &err),
                   &err);
}

/* log(2 a) for a so large that a^2 would overflow: log(a) + log 2. */
static HloInstr *log_twice(TfLower *L, HloInstr *a, HloError **err) {
  return tf_binary(L, HLO_OP_ADD, tf_unary(L, HLO_OP_LOG, a, err), tf_full(L, a, LN2, err),
                   err);
}

/* The largest a whose square is finite in t (with margin). */
static double sqrt_max(HloType t) {
  switch (t) {
  case HLO_F16: return 0x1p7;
  case HLO_F64: return 0x1p500;
  default: return 0x1p63; /* f32 and bf16 share f32's exponent range */
  }
}

/* asinh(x) = sign(x) log1p(a + a^2 / (1 + sqrt(1 + a^2))), a = |x|: the
 * log1p form is exact to rounding near 0; beyond sqrt_max, log(2a). */
static HloError *lower_asinh(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *a = tf_unary(L, HLO_OP_ABS, x, &err), *one = tf_full(L, x, 1, &err);
  HloInstr *a2 = tf_binary(L, HLO_OP_MULTIPLY, a, a, &err);
  HloInstr *den = tf_binary(L, HLO_OP_ADD, one,
                            tf_unary(L, HLO_OP_SQRT, tf_binary(L, HLO_OP_ADD, one, a2, &err),
                                     &err),
                            &err);
  HloInstr *sum = tf_binary(L, HLO_OP_ADD, a, tf_binary(L, HLO_OP_DIVIDE, a2, den, &err), &err);
  HloInstr *y = tf_unary(L, HLO_OP_LOG1P, sum, &err);
  HloInstr *huge = tf_compare(L, HLO_CMP_GT, a, tf_full(L, x, sqrt_max(x->shape.type), &err), &err);
  y = tf_select(L, huge, log_twice(L, a, &err), y, &err);
  HloInstr *neg = tf_compare(L, HLO_CMP_LT, x, tf_full(L, x, 0, &err), &err);
  return tf_finish(L, n, tf_select(L, neg, tf_unary(L, HLO_OP_NEGATE, y, &err), y, &err), &err);
}

/* acosh(x) = log1p(t + sqrt(t (x + 1))), t = x - 1 (exact for x near 1,
 * where log(x + sqrt(x^2 - 1)) loses the digits); beyond sqrt_max, log(2x).
 * x < 1 gives the sqrt's NaN. */
static HloError *lower_acosh(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *one = tf_full(L, x, 1, &err);
  HloInstr *t = tf_binary(L, HLO_OP_SUBTRACT, x, one, &err);
  HloInstr *r = tf_binary(L, HLO_OP_MULTIPLY, t, tf_binary(L, HLO_OP_ADD, x, one, &err), &err);
  r = tf_unary(L, HLO_OP_SQRT, r, &err);
  HloInstr *y = tf_unary(L, HLO_OP_LOG1P, tf_binary(L, HLO_OP_ADD, t, r, &err), &err);
  HloInstr *huge = tf_compare(L, HLO_CMP_GT, x, tf_full(L, x, sqrt_max(x->shape.type), &err), &err);
  return tf_finish(L, n, tf_select(L, huge, log_twice(L, x, &err), y, &err), &err);
}

/* atanh(x) = (log1p(x) - log1p(-x)) / 2: +-inf at +-1, NaN beyond. */
static HloError *lower_atanh(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = float_input(L, n, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *d = tf_binary(L, HLO_OP_SUBTRACT, tf_unary(L, HLO_OP_LOG1P, x, &err),
                          tf_unary(L, HLO_OP_LOG1P, tf_unary(L, HLO_OP_NEGATE, x, &err), &err),
                          &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_MULTIPLY, d, tf_full(L, x, 0.5, &err), &err), &err);
}

/* Bucketize: the number of boundaries b with !(x < b), which for sorted
 * boundaries is std::upper_bound's index, as TensorFlow's kernel computes
 * it (NaN lands past the last boundary there and here).  The comparison
 * is in f32 (f64 for f64 inputs): C++ converts an integer x to the
 * boundaries' float. */
static HloError *lower_bucketize(TfLower *L, const TfNode *n) {
  HloInstr *x;
  const float *b;
  int nb;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (!e) e = tf_attr_float_list(n, "boundaries", &b, &nb);
  if (e) return e;
  for (int i = 1; i < nb; i++)
    if (!(b[i - 1] <= b[i]))
      return hlo_error("boundaries must be sorted, but entry %d (%g) follows %g", i,
                       (double)b[i], (double)b[i - 1]);
  const HloShape *s = &x->shape;
  if (s->type == HLO_PRED) return hlo_error("input must be numeric, is pred");
  if (s->rank + 1 > HLO_MAX_RANK)
    return hlo_error("rank %d exceeds hloc's limit of %d", s->rank + 1, HLO_MAX_RANK);
  HloType ct = s->type == HLO_F64 ? HLO_F64 : HLO_F32;
  HloShape bs = hlo_shape_array(ct, 1, (int64_t[]){nb});
  HloLiteral *lit = hlo_literal_new_in(L->m->arena, &bs);
  for (int i = 0; i < nb; i++) hlo_literal_set_f64(lit, i, b[i]);
  int64_t dims[HLO_MAX_RANK], map[HLO_MAX_RANK], last = s->rank;
  for (int d = 0; d < s->rank; d++) dims[d] = s->dims[d], map[d] = d;
  dims[last] = nb;
  HloShape wide = hlo_shape_array(ct, s->rank + 1, dims);
  HloError *err = NULL;
  HloInstr *xw = tf_converted(L, x, ct, &err), *bw = NULL;
  if (!err) xw = hlo_build_broadcast(L->c, xw, &wide, map, s->rank, &err);
  if (!err) bw = hlo_build_broadcast(L->c, hlo_constant_new(L->c, lit, NULL), &wide, &last, 1, &err);
  HloInstr *past = tf_unary(L, HLO_OP_NOT, tf_compare(L, HLO_CMP_LT, xw, bw, &err), &err);
  past = tf_converted(L, past, HLO_S32, &err);
  HloInstr *zero = tf_scalar(L, HLO_S32, 0), *y = NULL;
  if (!err)
    y = hlo_build_reduce(L->c, &past, &zero, 1, &last, 1,
                         hlo_build_scalar_computation(L->m, HLO_OP_ADD, HLO_S32), &err);
  return tf_finish(L, n, y, &err);
}

/* ------------------------------------------------------------------------ */
/* Fake quantization                                                        */
/* ------------------------------------------------------------------------ */

/* x quantized to the grid of [min, max] and back, as TensorFlow's
 * FakeQuant kernels do in f32: the range is first nudged so that 0 is on
 * the grid (zero point round(qmin - min / scale), half away from zero,
 * clamped into [qmin, qmax]), then x is clamped into the nudged range and
 * rounded to a multiple of the scale by floor(shifted / scale + 0.5).
 * min and max have x's shape (broadcast by the caller), so per-tensor and
 * per-channel ranges, constant or not, are one formula. */
static HloInstr *fake_quant(TfLower *L, HloInstr *x, HloInstr *min, HloInstr *max, int64_t bits,
                            bool narrow, HloError **err) {
  double qmin = narrow ? 1 : 0, qmax = (double)((INT64_C(1) << bits) - 1);
  HloInstr *scale = tf_binary(L, HLO_OP_DIVIDE, tf_binary(L, HLO_OP_SUBTRACT, max, min, err),
                              tf_full(L, x, qmax - qmin, err), err);
  HloInstr *zp = tf_binary(L, HLO_OP_SUBTRACT, tf_full(L, x, qmin, err),
                           tf_binary(L, HLO_OP_DIVIDE, min, scale, err), err);
  zp = *err ? NULL : hlo_build_ternary(L->c, HLO_OP_CLAMP, tf_full(L, x, qmin, err), zp,
                                       tf_full(L, x, qmax, err), err);
  zp = tf_unary(L, HLO_OP_ROUND_AFZ, zp, err);
  HloInstr *lo = tf_binary(L, HLO_OP_MULTIPLY,
                           tf_binary(L, HLO_OP_SUBTRACT, tf_full(L, x, qmin, err), zp, err), scale,
                           err);
  HloInstr *hi = tf_binary(L, HLO_OP_MULTIPLY,
                           tf_binary(L, HLO_OP_SUBTRACT, tf_full(L, x, qmax, err), zp, err), scale,
                           err);
  HloInstr *inv = tf_binary(L, HLO_OP_DIVIDE, tf_full(L, x, 1, err), scale, err);
  HloInstr *c = *err ? NULL : hlo_build_ternary(L->c, HLO_OP_CLAMP, lo, x, hi, err);
  HloInstr *q = tf_binary(L, HLO_OP_MULTIPLY, tf_binary(L, HLO_OP_SUBTRACT, c, lo, err), inv, err);
  q = tf_unary(L, HLO_OP_FLOOR, tf_binary(L, HLO_OP_ADD, q, tf_full(L, x, 0.5, err), err), err);
  return tf_binary(L, HLO_OP_ADD, tf_binary(L, HLO_OP_MULTIPLY, q, scale, err), lo, err);
}

/* num_bits (2 to 16, default 8) and narrow_range (default false). */
static HloError *fake_quant_attrs(const TfNode *n, int64_t *bits, bool *narrow) {
  HloError *e = tf_attr_int_or(n, "num_bits", 8, bits);
  if (!e) e = tf_attr_bool_or(n, "narrow_range", false, narrow);
  if (!e && (*bits < 2 || *bits > 16))
    e = hlo_error("attribute 'num_bits' is %lld, expected 2 to 16", (long long)*bits);
  return e;
}

static HloError *lower_fake_quant_args(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t bits;
  bool narrow;
  float min = -6, max = 6;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (!e) e = fake_quant_attrs(n, &bits, &narrow);
  if (!e && tf_attr_find(n, "min")) e = tf_attr_float(n, "min", &min);
  if (!e && tf_attr_find(n, "max")) e = tf_attr_float(n, "max", &max);
  if (e) return e;
  if (!(min < max))
    return hlo_error("attribute 'min' (%g) must be smaller than attribute 'max' (%g)",
                     (double)min, (double)max);
  if (x->shape.type != HLO_F32)
    return hlo_error("inputs must be f32, are %s", hlo_type_name(x->shape.type));
  HloError *err = NULL;
  HloInstr *y = fake_quant(L, x, tf_full(L, x, min, &err), tf_full(L, x, max, &err), bits, narrow,
                           &err);
  return tf_finish(L, n, y, &err);
}

/* FakeQuantWithMinMaxVars (scalar min, max) and ...PerChannel (min, max
 * of x's last dim). */
static HloError *lower_fake_quant_vars(TfLower *L, const TfNode *n) {
  HloInstr *v[3];
  int64_t bits;
  bool narrow;
  HloError *e = tf_inputs(L, n, 3, v);
  if (!e) e = fake_quant_attrs(n, &bits, &narrow);
  if (e) return e;
  HloInstr *x = v[0];
  const HloShape *s = &x->shape;
  if (s->type != HLO_F32) return hlo_error("inputs must be f32, are %s", hlo_type_name(s->type));
  bool per_channel = strstr(n->op, "PerChannel") != NULL;
  if (per_channel && s->rank < 1) return hlo_error("inputs must have rank >= 1, are a scalar");
  int64_t depth = per_channel ? s->dims[s->rank - 1] : 0, last = s->rank - 1;
  for (int k = 1; k < 3; k++) {
    const HloShape *ms = &v[k]->shape;
    bool ok = ms->type == HLO_F32 && (per_channel ? ms->rank == 1 && ms->dims[0] == depth
                                                  : ms->rank == 0);
    if (!ok) {
      char *str = hlo_shape_to_string(ms);
      e = per_channel ? hlo_error("%s %s must be f32[%lld], one value per channel",
                                  k == 1 ? "min" : "max", str, (long long)depth)
                      : hlo_error("%s %s must be an f32 scalar", k == 1 ? "min" : "max", str);
      free(str);
      return e;
    }
    v[k] = hlo_build_broadcast(L->c, v[k], s, per_channel ? &last : NULL, per_channel, &e);
    if (e) return e;
  }
  HloError *err = NULL;
  return tf_finish(L, n, fake_quant(L, x, v[1], v[2], bits, narrow, &err), &err);
}

static HloError *lower_is_nan(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_compare(L, HLO_CMP_NE, x, x, &err), &err);
}

static HloError *lower_is_inf(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *inf = tf_full(L, x, INFINITY, &err);
  HloInstr *mag = tf_unary(L, HLO_OP_ABS, x, &err);
  return tf_finish(L, n, tf_compare(L, HLO_CMP_EQ, mag, inf, &err), &err);
}

/* ------------------------------------------------------------------------ */
/* Cast                                                                     */
/* ------------------------------------------------------------------------ */

/* The stored mantissa bits of a float type. */
static int mantissa_bits(HloType t) {
  switch (t) {
  case HLO_F16: return 10;
  case HLO_BF16: return 7;
  case HLO_F32: return 23;
  default: return 52;
  }
}

/* Zeroes the mantissa bits of x that type t cannot hold, so that the
 * following convert is exact: Cast's Truncate rounds toward zero. */
static HloInstr *truncate_mantissa(TfLower *L, HloInstr *x, HloType t, HloError **err) {
  int drop = mantissa_bits(x->shape.type) - mantissa_bits(t);
  if (*err || drop <= 0) return x;
  HloType bits;
  switch (hlo_type_size(x->shape.type)) {
  case 2: bits = HLO_U16; break;
  case 4: bits = HLO_U32; break;
  default: bits = HLO_U64; break;
  }
  HloShape s = x->shape;
  s.type = bits;
  HloInstr *raw = hlo_instr_new(L->c, HLO_OP_BITCAST_CONVERT, &s, &x, 1, NULL);
  HloInstr *mask = tf_scalar(L, bits, 0);
  hlo_literal_set_s64(mask->literal, 0, (int64_t)(~(uint64_t)0 << drop));
  if (s.rank) mask = hlo_build_broadcast(L->c, mask, &s, NULL, 0, err);
  raw = tf_binary(L, HLO_OP_AND, raw, mask, err);
  if (*err) return NULL;
  s.type = x->shape.type;
  return hlo_instr_new(L->c, HLO_OP_BITCAST_CONVERT, &s, &raw, 1, NULL);
}

static HloError *lower_cast(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloType src, dst;
  bool truncate;
  if ((e = tf_attr_hlo_type_or(n, "SrcT", x->shape.type, &src)) ||
      (e = tf_attr_hlo_type(n, "DstT", &dst)) ||
      (e = tf_attr_bool_or(n, "Truncate", false, &truncate)))
    return e;
  if (src != x->shape.type)
    return hlo_error("attr 'SrcT' is %s but the input has type %s", hlo_type_name(src),
                     hlo_type_name(x->shape.type));
  HloError *err = NULL;
  /* bool(x) is x != 0, NaN included: spelled out rather than left to
   * convert's float-to-pred rule. */
  if (dst == HLO_PRED && src != HLO_PRED)
    return tf_finish(L, n, tf_compare(L, HLO_CMP_NE, x, tf_full(L, x, 0, &err), &err), &err);
  if (truncate && hlo_type_is_float(src) && hlo_type_is_float(dst))
    x = truncate_mantissa(L, x, dst, &err);
  return tf_finish(L, n, tf_converted(L, x, dst, &err), &err);
}

/* ------------------------------------------------------------------------ */
/* Binary ops                                                               */
/* ------------------------------------------------------------------------ */

static const struct {
  const char *op;
  HloOpcode hlo;
} binary_ops[] = {
    {"Add", HLO_OP_ADD},         {"AddV2", HLO_OP_ADD},
    {"Sub", HLO_OP_SUBTRACT},    {"Mul", HLO_OP_MULTIPLY},
    {"Div", HLO_OP_DIVIDE},      {"RealDiv", HLO_OP_DIVIDE},
    {"Mod", HLO_OP_REMAINDER},   {"TruncateMod", HLO_OP_REMAINDER},
    {"Maximum", HLO_OP_MAXIMUM}, {"Minimum", HLO_OP_MINIMUM},
    {"Pow", HLO_OP_POWER},       {"Atan2", HLO_OP_ATAN2},
    {"LogicalAnd", HLO_OP_AND},  {"LogicalOr", HLO_OP_OR},
    {"BitwiseAnd", HLO_OP_AND},  {"BitwiseOr", HLO_OP_OR},
    {"BitwiseXor", HLO_OP_XOR},
};

static HloOpcode binary_opcode(const char *op) {
  for (size_t k = 0; k < sizeof binary_ops / sizeof binary_ops[0]; k++)
    if (!strcmp(binary_ops[k].op, op)) return binary_ops[k].hlo;
  HLO_UNREACHABLE();
}

static HloError *lower_binary(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_binary(L, binary_opcode(n->op), x, y, &err), &err);
}

static const struct {
  const char *op;
  HloCompareDir dir;
} compare_ops[] = {
    {"Equal", HLO_CMP_EQ}, {"NotEqual", HLO_CMP_NE},   {"Less", HLO_CMP_LT},
    {"LessEqual", HLO_CMP_LE}, {"Greater", HLO_CMP_GT}, {"GreaterEqual", HLO_CMP_GE},
};

static HloCompareDir compare_dir(const char *op) {
  for (size_t k = 0; k < sizeof compare_ops / sizeof compare_ops[0]; k++)
    if (!strcmp(compare_ops[k].op, op)) return compare_ops[k].dir;
  HLO_UNREACHABLE();
}

static HloError *lower_compare(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_compare(L, compare_dir(n->op), x, y, &err), &err);
}

/* Whether the truncated quotient q = x / y with remainder r must be
 * corrected toward negative infinity: r != 0 and r, y of opposite signs. */
static HloInstr *floor_fixup(TfLower *L, HloInstr *r, HloInstr *y, HloError **err) {
  HloInstr *zero = tf_full(L, r, 0, err);
  HloInstr *nonzero = tf_compare(L, HLO_CMP_NE, r, zero, err);
  HloInstr *r_neg = tf_compare(L, HLO_CMP_LT, r, zero, err);
  HloInstr *y_neg = tf_compare(L, HLO_CMP_LT, y, zero, err);
  return tf_binary(L, HLO_OP_AND, nonzero, tf_compare(L, HLO_CMP_NE, r_neg, y_neg, err), err);
}

/* Integers: the truncated quotient, one less where the division was
 * inexact and the signs differ (no intermediate overflows).  Floats:
 * floor(x / y). */
static HloError *lower_floor_div(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *q = tf_binary(L, HLO_OP_DIVIDE, x, y, &err);
  if (hlo_type_is_float(x->shape.type))
    return tf_finish(L, n, tf_unary(L, HLO_OP_FLOOR, q, &err), &err);
  if (hlo_type_is_unsigned(x->shape.type)) return tf_finish(L, n, q, &err);
  HloInstr *fix = floor_fixup(L, tf_binary(L, HLO_OP_REMAINDER, x, y, &err), y, &err);
  HloInstr *down = tf_binary(L, HLO_OP_SUBTRACT, q, tf_full(L, x, 1, &err), &err);
  return tf_finish(L, n, tf_select(L, fix, down, q, &err), &err);
}

/* The remainder with the sign of the divisor: the truncated remainder plus
 * y where their signs differ. */
static HloError *lower_floor_mod(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *r = tf_binary(L, HLO_OP_REMAINDER, x, y, &err);
  if (hlo_type_is_unsigned(x->shape.type)) return tf_finish(L, n, r, &err);
  HloInstr *fix = floor_fixup(L, r, y, &err);
  return tf_finish(L, n, tf_select(L, fix, tf_binary(L, HLO_OP_ADD, r, y, &err), r, &err), &err);
}

/* Integers: XLA's divide truncates.  Floats: the quotient rounded toward
 * zero. */
static HloError *lower_truncate_div(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *q = tf_binary(L, HLO_OP_DIVIDE, x, y, &err);
  if (!hlo_type_is_float(x->shape.type)) return tf_finish(L, n, q, &err);
  HloInstr *neg = tf_compare(L, HLO_CMP_LT, q, tf_full(L, q, 0, &err), &err);
  HloInstr *up = tf_unary(L, HLO_OP_CEIL, q, &err);
  return tf_finish(L, n, tf_select(L, neg, up, tf_unary(L, HLO_OP_FLOOR, q, &err), &err), &err);
}

/* DivNoNan and MulNoNan: 0 where y is 0, whatever x is. */
static HloError *no_nan(TfLower *L, const TfNode *n, HloOpcode op) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *zero = tf_full(L, y, 0, &err);
  HloInstr *is_zero = tf_compare(L, HLO_CMP_EQ, y, zero, &err);
  return tf_finish(L, n, tf_select(L, is_zero, zero, tf_binary(L, op, x, y, &err), &err), &err);
}

static HloError *lower_div_no_nan(TfLower *L, const TfNode *n) {
  return no_nan(L, n, HLO_OP_DIVIDE);
}

static HloError *lower_mul_no_nan(TfLower *L, const TfNode *n) {
  return no_nan(L, n, HLO_OP_MULTIPLY);
}

static HloError *lower_squared_difference(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  HloError *err = NULL;
  HloInstr *d = tf_binary(L, HLO_OP_SUBTRACT, x, y, &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_MULTIPLY, d, d, &err), &err);
}

/* Xlogy, Xlog1py, Xdivy: x * f(y), but 0 wherever x is 0 (whatever y is,
 * NaN included), as TensorFlow's functors test it. */
static HloError *x_times(TfLower *L, const TfNode *n, HloOpcode f) {
  HloInstr *x, *y;
  HloError *e = binary_inputs(L, n, &x, &y);
  if (e) return e;
  if (!hlo_type_is_float(x->shape.type))
    return hlo_error("x has type %s; %s is defined for floating-point types",
                     hlo_type_name(x->shape.type), n->op);
  HloError *err = NULL;
  HloInstr *zero = tf_full(L, x, 0, &err);
  HloInstr *v = f == HLO_OP_DIVIDE
                    ? tf_binary(L, HLO_OP_DIVIDE, x, y, &err)
                    : tf_binary(L, HLO_OP_MULTIPLY, x, tf_unary(L, f, y, &err), &err);
  HloInstr *is_zero = tf_compare(L, HLO_CMP_EQ, x, zero, &err);
  return tf_finish(L, n, tf_select(L, is_zero, zero, v, &err), &err);
}

static HloError *lower_xlogy(TfLower *L, const TfNode *n) { return x_times(L, n, HLO_OP_LOG); }

static HloError *lower_xlog1py(TfLower *L, const TfNode *n) {
  return x_times(L, n, HLO_OP_LOG1P);
}

static HloError *lower_xdivy(TfLower *L, const TfNode *n) { return x_times(L, n, HLO_OP_DIVIDE); }

/* AddN: inputs of one shape (no broadcasting), summed left to right. */
static HloError *lower_add_n(TfLower *L, const TfNode *n) {
  HloError *e = tf_expect_inputs(n, 1, -1);
  if (!e) e = tf_expect_n(n, n->ninputs);
  HloInstr *sum;
  if (e || (e = tf_input(L, n, 0, &sum))) return e;
  HloError *err = NULL;
  for (int i = 1; i < n->ninputs && !err; i++) {
    HloInstr *x;
    if ((e = tf_input(L, n, i, &x))) return e;
    sum = tf_binary(L, HLO_OP_ADD, sum, x, &err);
  }
  return tf_finish(L, n, sum, &err);
}

/* max(min(t, hi), lo), in the order of Eigen's kernel (it decides what
 * lo > hi gives); lo and hi are scalars or have t's shape. */
static HloError *lower_clip_by_value(TfLower *L, const TfNode *n) {
  HloInstr *v[3];
  HloError *e = tf_inputs(L, n, 3, v);
  if (e) return e;
  const HloShape *s = &v[0]->shape;
  for (int i = 1; i < 3 && !e; i++) {
    if (v[i]->shape.rank && !hlo_shape_same_dims(&v[i]->shape, s)) {
      char *xs = hlo_shape_to_string(s), *bs = hlo_shape_to_string(&v[i]->shape);
      e = hlo_error("clip bound %s must be a scalar or have the shape of t, %s", bs, xs);
      free(xs);
      free(bs);
    }
    if (!e) e = tf_broadcast_to(L, v[i], s->rank, s->dims, &v[i]);
  }
  if (e) return e;
  HloError *err = NULL;
  HloInstr *below = tf_binary(L, HLO_OP_MINIMUM, v[0], v[2], &err);
  return tf_finish(L, n, tf_binary(L, HLO_OP_MAXIMUM, below, v[1], &err), &err);
}

/* ------------------------------------------------------------------------ */
/* Selection                                                                */
/* ------------------------------------------------------------------------ */

/* Select (TensorFlow 1): t and e of one shape; the condition has that
 * shape, is a scalar, or is a vector that picks rows (dimension 0). */
static HloError *lower_select(TfLower *L, const TfNode *n) {
  HloInstr *v[3];
  HloError *e = tf_inputs(L, n, 3, v);
  if (e) return e;
  HloInstr *c = v[0], *t = v[1], *f = v[2];
  const HloShape *s = &t->shape;
  HloError *err = NULL;
  if (!hlo_shape_same_dims(&c->shape, s)) {
    bool rows = c->shape.rank == 1 && s->rank >= 1 && c->shape.dims[0] == s->dims[0];
    if (c->shape.rank != 0 && !rows) {
      char *cs = hlo_shape_to_string(&c->shape), *ts = hlo_shape_to_string(s);
      e = hlo_error("condition %s must be a scalar, a vector of the first dimension of t, or "
                    "have the shape of t, %s",
                    cs, ts);
      free(cs);
      free(ts);
      return e;
    }
    int64_t dim0 = 0;
    HloShape target = hlo_shape_array(HLO_PRED, s->rank, s->dims);
    c = hlo_build_broadcast(L->c, c, &target, &dim0, c->shape.rank, &err);
  }
  return tf_finish(L, n, tf_select(L, c, t, f, &err), &err);
}

/* SelectV2: the three operands broadcast together. */
static HloError *lower_select_v2(TfLower *L, const TfNode *n) {
  HloInstr *v[3];
  HloError *e = tf_inputs(L, n, 3, v);
  if (!e) e = tf_broadcast_pair(L, &v[1], &v[2]);
  if (!e) e = tf_broadcast_pair(L, &v[0], &v[1]);
  if (!e) e = tf_broadcast_to(L, v[2], v[1]->shape.rank, v[1]->shape.dims, &v[2]);
  if (e) return e;
  HloError *err = NULL;
  return tf_finish(L, n, tf_select(L, v[0], v[1], v[2], &err), &err);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define UNARY(op) {op, lower_unary, "T", ""}
#define BINARY(op) {op, lower_binary, "T", "numpy broadcasting"}
#define COMPARE(op) {op, lower_compare, "T", "numpy broadcasting"}

const TfOpLowering tf_lower_math[] = {
    UNARY("Neg"),
    UNARY("Abs"),
    UNARY("Sign"),
    UNARY("Exp"),
    UNARY("Expm1"),
    UNARY("Log"),
    UNARY("Log1p"),
    UNARY("Sqrt"),
    UNARY("Rsqrt"),
    UNARY("Sigmoid"),
    UNARY("Tanh"),
    UNARY("Erf"),
    UNARY("Floor"),
    UNARY("Ceil"),
    {"Rint", lower_unary, "T", "round half to even"},
    UNARY("Sin"),
    UNARY("Cos"),
    UNARY("Tan"),
    UNARY("IsFinite"),
    UNARY("LogicalNot"),
    {"Invert", lower_unary, "T", "bitwise not"},
    {"Round", lower_round, "T", "half to even; identity on integers"},
    {"Square", lower_square, "T", "x * x"},
    {"Reciprocal", lower_reciprocal, "T", "1 / x"},
    {"Inv", lower_reciprocal, "T", "1 / x"},
    {"Relu", lower_relu, "T", "max(x, 0)"},
    {"Relu6", lower_relu6, "T", "clamp(0, x, 6)"},
    {"Elu", lower_elu, "T", "select(x > 0, x, expm1(x))"},
    {"Selu", lower_selu, "T", "scale * select(x > 0, x, alpha * expm1(x))"},
    {"LeakyRelu", lower_leaky_relu, "T, alpha", "select(x > 0, x, alpha * x)"},
    {"Softplus", lower_softplus, "T",
     "x above -log(eps)-2, exp(x) below log(eps)+2, log1p(exp(x)) between (Eigen's form)"},
    {"Softsign", lower_softsign, "T", "x / (1 + |x|)"},
    {"Erfc", lower_erfc, "T",
     "1 - erf(x): absolute error of an ulp of 1, relative error grows where erfc < 1e-7"},
    {"Erfinv", lower_erfinv, "T",
     "f32, f16, bf16 (not f64): Giles' f32 approximation, relative error below 3e-7"},
    {"Atan", lower_atan, "T", "atan2(x, 1)"},
    {"Asin", lower_asin, "T", "atan2(x, sqrt((1 - x)(1 + x)))"},
    {"Acos", lower_acos, "T", "atan2(sqrt((1 - x)(1 + x)), x)"},
    {"Sinh", lower_sinh, "T",
     "(expm1(x) - expm1(-x)) / 2 below |x| = 1, else exp(x)/2 - exp(-x)/2"},
    {"Cosh", lower_cosh, "T", "exp(x)/2 + exp(-x)/2, finite wherever cosh is"},
    {"Asinh", lower_asinh, "T",
     "sign(x) log1p(|x| + x^2 / (1 + sqrt(1 + x^2))); log(2|x|) for huge x"},
    {"Acosh", lower_acosh, "T", "log1p(t + sqrt(t (x + 1))), t = x - 1; log(2x) for huge x"},
    {"Atanh", lower_atanh, "T", "(log1p(x) - log1p(-x)) / 2"},
    {"Bucketize", lower_bucketize, "T, boundaries",
     "boundaries sorted; compared in f32 (f64 for f64 inputs) as TensorFlow does"},
    {"FakeQuantWithMinMaxArgs", lower_fake_quant_args, "min, max, num_bits, narrow_range",
     "f32; the range nudged so 0 is on the grid, as TensorFlow does"},
    {"FakeQuantWithMinMaxVars", lower_fake_quant_vars, "num_bits, narrow_range",
     "f32; min and max scalars, may be run-time values; nudged as TensorFlow does"},
    {"FakeQuantWithMinMaxVarsPerChannel", lower_fake_quant_vars, "num_bits, narrow_range",
     "f32; min and max per channel (the last dim), may be run-time values"},
    {"IsNan", lower_is_nan, "T", "x != x"},
    {"IsInf", lower_is_inf, "T", "|x| == inf"},
    {"Cast", lower_cast, "SrcT, DstT, Truncate",
     "to bool: x != 0; float to integer: XLA's convert (TensorFlow leaves out-of-range values "
     "undefined); Truncate rounds float narrowing toward zero"},
    BINARY("Add"),
    BINARY("AddV2"),
    BINARY("Sub"),
    BINARY("Mul"),
    {"Div", lower_binary, "T", "numpy broadcasting; integers truncate (TensorFlow's CPU kernel)"},
    BINARY("RealDiv"),
    {"Mod", lower_binary, "T", "numpy broadcasting; sign of the dividend"},
    {"TruncateMod", lower_binary, "T", "numpy broadcasting; sign of the dividend"},
    BINARY("Maximum"),
    BINARY("Minimum"),
    BINARY("Pow"),
    BINARY("Atan2"),
    BINARY("LogicalAnd"),
    BINARY("LogicalOr"),
    BINARY("BitwiseAnd"),
    BINARY("BitwiseOr"),
    BINARY("BitwiseXor"),
    {"TruncateDiv", lower_truncate_div, "T", "numpy broadcasting; rounds toward zero"},
    {"FloorDiv", lower_floor_div, "T",
     "numpy broadcasting; integers round toward -inf, floats floor(x / y)"},
    {"FloorMod", lower_floor_mod, "T", "numpy broadcasting; sign of the divisor"},
    {"DivNoNan", lower_div_no_nan, "T", "numpy broadcasting; 0 where y == 0"},
    {"MulNoNan", lower_mul_no_nan, "T", "numpy broadcasting; 0 where y == 0"},
    {"SquaredDifference", lower_squared_difference, "T", "numpy broadcasting; (x - y)^2"},
    {"Xlogy", lower_xlogy, "T", "numpy broadcasting; 0 where x == 0, else x * log(y)"},
    {"Xlog1py", lower_xlog1py, "T", "numpy broadcasting; 0 where x == 0, else x * log1p(y)"},
    {"Xdivy", lower_xdivy, "T", "numpy broadcasting; 0 where x == 0, else x / y"},
    {"AddN", lower_add_n, "N, T", "inputs of one shape"},
    {"ClipByValue", lower_clip_by_value, "T",
     "bounds scalar or of t's shape; max(min(t, hi), lo)"},
    COMPARE("Equal"),
    COMPARE("NotEqual"),
    COMPARE("Less"),
    COMPARE("LessEqual"),
    COMPARE("Greater"),
    COMPARE("GreaterEqual"),
    {"Select", lower_select, "T",
     "condition of t's shape, scalar, or a vector selecting along dimension 0"},
    {"SelectV2", lower_select_v2, "T", "numpy broadcasting of all three operands"},
    {NULL, NULL, NULL, NULL},
};
