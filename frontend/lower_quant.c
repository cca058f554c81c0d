/*
 * lower_quant.c — TensorFlow's QuantizeV2 and Dequantize, bit-exact with
 * its CPU kernels.
 *
 * A quantized tensor is an integer tensor (qint8 is an s8 here, see
 * attr.c) with a float range [min, max] beside it; the mode says how the
 * integers span the range:
 *  - MIN_COMBINED: the integer range maps linearly onto [min, max]; signed
 *    types are shifted by half their range.
 *  - MIN_FIRST: the same line, but min is first rounded onto the grid of
 *    steps, so that repeated round trips do not drift.
 *  - SCALED: symmetric around 0, one scale factor, as large as the range
 *    allows (narrow_range leaves out the type's lowest value).
 * QuantizeV2 first widens the requested range to hold 0 and to be at least
 * ensure_minimum_range * max(1, |min|, |max|) wide, then returns the range
 * it used (SCALED adjusts it again to the chosen scale).  With an axis the
 * ranges are vectors, one per slice along it (MIN_COMBINED and SCALED only,
 * as in TensorFlow).
 *
 * The values follow the kernels' arithmetic step for step: which scalars
 * TensorFlow computes in double before rounding to float, rounding half
 * away from zero (std::round) or to even, truncating float-to-integer
 * casts.  The checks TensorFlow makes on the range values at run time
 * (max < min) cannot be made at compile time and are left out.
 */
#include "lower.h"

#include <float.h>
#include <string.h>

typedef enum QuantMode { MODE_MIN_COMBINED, MODE_MIN_FIRST, MODE_SCALED } QuantMode;

/* The integer type's limits and width. */
typedef struct IntInfo {
  double lo, hi;   /* numeric_limits<T>::min(), max() */
  int bits;
  bool is_signed;
} IntInfo;

/* Attribute T, which must be a quantized type (int8 and the other plain
 * integers are not, though they lower to the same HLO type): its HLO type
 * and limits. */
static HloError *quant_type(const TfNode *n, HloType *t, IntInfo *q) {
  Tensorflow__DataType dt;
  HloError *e = tf_attr_type(n, "T", &dt);
  if (e) return e;
  switch (dt) {
  case TENSORFLOW__DATA_TYPE__DT_QINT8: *q = (IntInfo){-128, 127, 8, true}; break;
  case TENSORFLOW__DATA_TYPE__DT_QUINT8: *q = (IntInfo){0, 255, 8, false}; break;
  case TENSORFLOW__DATA_TYPE__DT_QINT16: *q = (IntInfo){-32768, 32767, 16, true}; break;
  case TENSORFLOW__DATA_TYPE__DT_QUINT16: *q = (IntInfo){0, 65535, 16, false}; break;
  case TENSORFLOW__DATA_TYPE__DT_QINT32:
    *q = (IntInfo){-2147483648.0, 2147483647.0, 32, true};
    break;
  default:
    return hlo_error("T is %s, not qint8, quint8, qint16, quint16 or qint32", tf_type_name(dt));
  }
  return tf_type_to_hlo(dt, t);
}

static HloError *mode_attr(const TfNode *n, QuantMode *m) {
  const char *s = "MIN_COMBINED";
  HloError *e = tf_attr_find(n, "mode") ? tf_attr_string(n, "mode", &s) : NULL;
  if (e) return e;
  if (!strcmp(s, "MIN_COMBINED")) *m = MODE_MIN_COMBINED;
  else if (!strcmp(s, "MIN_FIRST")) *m = MODE_MIN_FIRST;
  else if (!strcmp(s, "SCALED")) *m = MODE_SCALED;
  else return hlo_error("mode '%s' is not MIN_COMBINED, MIN_FIRST or SCALED", s);
  return NULL;
}

/* f32 scalar constants and arithmetic on the range values. */
static HloInstr *k32(TfLower *L, HloInstr *like, double v, HloError **e) {
  return tf_full(L, like, (float)v, e);
}
static HloInstr *add(TfLower *L, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, HLO_OP_ADD, a, b, e);
}
static HloInstr *sub(TfLower *L, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, HLO_OP_SUBTRACT, a, b, e);
}
static HloInstr *mul(TfLower *L, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, HLO_OP_MULTIPLY, a, b, e);
}
static HloInstr *dvd(TfLower *L, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, HLO_OP_DIVIDE, a, b, e);
}
static HloInstr *mx(TfLower *L, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, HLO_OP_MAXIMUM, a, b, e);
}
static HloInstr *mn(TfLower *L, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, HLO_OP_MINIMUM, a, b, e);
}

/* f32(num / f64(den)) with num a double constant: a float divided into a
 * double in C++, rounded back to float. */
static HloInstr *div_in_f64(TfLower *L, double num, HloInstr *den, HloError **e) {
  HloInstr *d = tf_converted(L, den, HLO_F64, e);
  return tf_converted(L, dvd(L, tf_full(L, d, num, e), d, e), HLO_F32, e);
}

/* f32(f64(num) / den) with den a double constant. */
static HloInstr *div_by_f64(TfLower *L, HloInstr *num, double den, HloError **e) {
  HloInstr *d = tf_converted(L, num, HLO_F64, e);
  return tf_converted(L, dvd(L, d, tf_full(L, d, den, e), e), HLO_F32, e);
}

/* A range value r (scalar, or one per slice along `axis`) spread over x's
 * shape. */
static HloInstr *over(TfLower *L, HloInstr *r, const HloInstr *x, int64_t axis, HloError **e) {
  if (*e) return NULL;
  HloShape s = hlo_shape_array(r->shape.type, x->shape.rank, x->shape.dims);
  return hlo_build_broadcast(L->c, r, &s, r->shape.rank ? &axis : NULL, r->shape.rank, e);
}

/* The min and max inputs (1 and 2): f32 scalars (one element, axis -1) or
 * vectors of x's size along the axis. */
static HloError *ranges(TfLower *L, const TfNode *n, const HloInstr *x, int64_t axis,
                        HloInstr **lo, HloInstr **hi) {
  HloInstr *r[2];
  HloError *e = tf_input(L, n, 1, &r[0]);
  if (!e) e = tf_input(L, n, 2, &r[1]);
  if (e) return e;
  for (int i = 0; i < 2; i++) {
    const HloShape *s = &r[i]->shape;
    if (s->type != HLO_F32) return hlo_error("the min and max ranges must be float");
    if (axis < 0) {
      if (hlo_shape_elements(s) != 1)
        return hlo_error("the min and max ranges must have one element when axis is -1");
      if (s->rank && !(r[i] = hlo_build_reshape(L->c, r[i], 0, NULL, &e))) return e;
    } else if (s->rank != 1 || s->dims[0] != x->shape.dims[axis]) {
      return hlo_error("the min and max ranges must be vectors of %lld values, one per slice "
                       "along axis %lld",
                       (long long)x->shape.dims[axis], (long long)axis);
    }
  }
  *lo = r[0];
  *hi = r[1];
  return NULL;
}

/* The axis attribute, checked against x's rank; -1 means none. */
static HloError *axis_attr(const TfNode *n, const HloInstr *x, QuantMode mode, int64_t *axis) {
  HloError *e = tf_attr_int_or(n, "axis", -1, axis);
  if (e || *axis == -1) return e;
  if (*axis < 0 || *axis >= x->shape.rank)
    return hlo_error("axis %lld is out of range for rank %d", (long long)*axis, x->shape.rank);
  if (mode == MODE_MIN_FIRST) return hlo_error("mode MIN_FIRST does not take an axis");
  return NULL;
}

static HloError *lower_quantize(TfLower *L, const TfNode *n) {
  HloInstr *x, *lo, *hi;
  HloType t;
  IntInfo q = {0};
  QuantMode mode;
  const char *round = "HALF_AWAY_FROM_ZERO";
  bool narrow;
  int64_t axis;
  float ensure = 0.01f;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = quant_type(n, &t, &q);
  if (!e) e = mode_attr(n, &mode);
  if (!e && tf_attr_find(n, "round_mode")) e = tf_attr_string(n, "round_mode", &round);
  if (!e) e = tf_attr_bool_or(n, "narrow_range", false, &narrow);
  if (!e && tf_attr_find(n, "ensure_minimum_range"))
    e = tf_attr_float(n, "ensure_minimum_range", &ensure);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e && x->shape.type != HLO_F32) e = hlo_error("the input must be float");
  if (!e) e = axis_attr(n, x, mode, &axis);
  if (!e) e = ranges(L, n, x, axis, &lo, &hi);
  if (e) return e;
  bool even = !strcmp(round, "HALF_TO_EVEN");
  if (!even && strcmp(round, "HALF_AWAY_FROM_ZERO"))
    return hlo_error("round_mode '%s' is not HALF_AWAY_FROM_ZERO or HALF_TO_EVEN", round);
  if (even && mode != MODE_SCALED)
    return hlo_error("round_mode HALF_TO_EVEN needs mode SCALED");

  /* The range widened to hold 0 and to be at least `ensure` wide. */
  HloInstr *zero = k32(L, lo, 0, &e);
  HloInstr *rmin = mn(L, zero, lo, &e);
  HloInstr *big = mx(L, tf_unary(L, HLO_OP_ABS, lo, &e), tf_unary(L, HLO_OP_ABS, hi, &e), &e);
  HloInstr *eps = mul(L, mx(L, k32(L, lo, 1, &e), big, &e), k32(L, lo, ensure, &e), &e);
  HloInstr *rmax = mx(L, zero, mx(L, hi, add(L, rmin, eps, &e), &e), &e);
  HloInstr *y = NULL;
  HloOpcode rnd = even ? HLO_OP_ROUND_EVEN : HLO_OP_ROUND_AFZ;
  switch (mode) {
  case MODE_MIN_COMBINED: {
    HloInstr *scale = div_in_f64(L, q.hi - q.lo, sub(L, rmax, rmin, &e), &e);
    HloInstr *xm = over(L, rmin, x, axis, &e);
    HloInstr *c = mx(L, mn(L, x, over(L, rmax, x, axis, &e), &e), xm, &e);
    y = mul(L, sub(L, c, xm, &e), over(L, scale, x, axis, &e), &e);
    /* Unsigned: + 0.5 and truncate; signed: - half range and round. */
    if (q.is_signed)
      y = tf_unary(L, HLO_OP_ROUND_AFZ, sub(L, y, k32(L, y, (q.hi - q.lo + 1) / 2, &e), &e), &e);
    else
      y = add(L, y, k32(L, y, 0.5, &e), &e);
    y = tf_converted(L, y, t, &e);
    break;
  }
  case MODE_MIN_FIRST: {
    double steps = (double)(INT64_C(1) << q.bits);
    HloInstr *scale = div_in_f64(L, steps - 1, sub(L, rmax, rmin, &e), &e);
    scale = tf_select(L, tf_compare(L, HLO_CMP_EQ, rmax, rmin, &e), zero, scale, &e);
    HloInstr *min_scaled = tf_unary(L, HLO_OP_ROUND_AFZ, mul(L, rmin, scale, &e), &e);
    HloInstr *shift = sub(L, min_scaled, k32(L, min_scaled, q.lo, &e), &e);
    y = tf_unary(L, HLO_OP_ROUND_AFZ, mul(L, x, over(L, scale, x, -1, &e), &e), &e);
    y = sub(L, y, over(L, shift, x, -1, &e), &e);
    double lower = q.lo > -2.147483648e9 ? q.lo : -2.147483648e9;
    double upper = (float)q.hi < 2.147483520e9f ? q.hi : 2.147483520e9;
    y = mn(L, mx(L, y, k32(L, y, lower, &e), &e), k32(L, y, upper, &e), &e);
    y = tf_converted(L, tf_converted(L, y, HLO_S32, &e), t, &e);
    break;
  }
  case MODE_SCALED: {
    float vmin = (float)(q.lo + (narrow ? 1 : 0)), vmax = (float)q.hi;
    HloInstr *fmax = k32(L, lo, FLT_MAX, &e);
    HloInstr *from_min = tf_select(
        L, tf_compare(L, HLO_CMP_GT, mul(L, k32(L, lo, vmin, &e), rmin, &e), zero, &e),
        dvd(L, k32(L, lo, vmin, &e), rmin, &e), fmax, &e);
    HloInstr *from_max = tf_select(
        L, tf_compare(L, HLO_CMP_GT, mul(L, k32(L, lo, vmax, &e), rmax, &e), zero, &e),
        dvd(L, k32(L, lo, vmax, &e), rmax, &e), fmax, &e);
    HloInstr *scale = mn(L, from_min, from_max, &e);
    rmin = dvd(L, k32(L, lo, vmin, &e), scale, &e);
    rmax = dvd(L, k32(L, lo, vmax, &e), scale, &e);
    HloInstr *c = mx(L, mn(L, x, over(L, rmax, x, axis, &e), &e), over(L, rmin, x, axis, &e), &e);
    y = tf_unary(L, rnd, mul(L, c, over(L, scale, x, axis, &e), &e), &e);
    y = tf_converted(L, y, t, &e);
    break;
  }
  }
  if (e) return e;
  tf_set_output(L, n, 0, y);
  tf_set_output(L, n, 1, rmin);
  tf_set_output(L, n, 2, rmax);
  return NULL;
}

static HloError *lower_dequantize(TfLower *L, const TfNode *n) {
  HloInstr *x, *lo, *hi;
  HloType t, out;
  IntInfo q = {0};
  QuantMode mode;
  bool narrow;
  int64_t axis;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = quant_type(n, &t, &q);
  if (!e) e = mode_attr(n, &mode);
  if (!e) e = tf_attr_bool_or(n, "narrow_range", false, &narrow);
  if (!e) e = tf_attr_hlo_type_or(n, "dtype", HLO_F32, &out);
  if (!e && out != HLO_F32 && out != HLO_BF16) e = hlo_error("dtype must be float or bfloat16");
  if (!e && out == HLO_BF16 && mode != MODE_MIN_COMBINED)
    e = hlo_error("dtype bfloat16 needs mode MIN_COMBINED");
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e && x->shape.type != t) e = hlo_error("the input's type is not T");
  if (!e) e = axis_attr(n, x, mode, &axis);
  if (!e) e = ranges(L, n, x, axis, &lo, &hi);
  if (e) return e;
  HloInstr *xf = tf_converted(L, x, HLO_F32, &e), *y = NULL;
  switch (mode) {
  case MODE_MIN_COMBINED: {
    HloInstr *scale = dvd(L, sub(L, hi, lo, &e), k32(L, lo, (float)q.hi - (float)q.lo, &e), &e);
    float half = q.is_signed ? ((float)q.hi - (float)q.lo + 1.0f) / 2.0f : 0.0f;
    y = mul(L, add(L, xf, k32(L, xf, half, &e), &e), over(L, scale, x, axis, &e), &e);
    y = add(L, y, over(L, lo, x, axis, &e), &e);
    break;
  }
  case MODE_MIN_FIRST: {
    double steps = (double)(INT64_C(1) << q.bits);
    HloInstr *scale = div_by_f64(L, sub(L, hi, lo, &e), steps - 1, &e);
    HloInstr *rounded = mul(L, tf_unary(L, HLO_OP_ROUND_AFZ, dvd(L, lo, scale, &e), &e), scale, &e);
    rounded = tf_select(L, tf_compare(L, HLO_CMP_EQ, hi, lo, &e), lo, rounded, &e);
    HloInstr *base = sub(L, rounded, mul(L, k32(L, lo, q.lo, &e), scale, &e), &e);
    y = add(L, over(L, base, x, -1, &e), mul(L, xf, over(L, scale, x, -1, &e), &e), &e);
    break;
  }
  case MODE_SCALED: {
    float vmin = (float)(q.lo + (narrow ? 1 : 0)), vmax = (float)q.hi;
    HloInstr *scale = dvd(L, hi, k32(L, hi, vmax, &e), &e);
    if (q.is_signed) scale = mx(L, dvd(L, lo, k32(L, lo, vmin, &e), &e), scale, &e);
    y = mul(L, xf, over(L, scale, x, axis, &e), &e);
    break;
  }
  }
  y = tf_converted(L, y, out, &e);
  return tf_finish(L, n, y, &e);
}

const TfOpLowering tf_lower_quant[] = {
    {"QuantizeV2", lower_quantize,
     "T, mode, round_mode, narrow_range, axis, ensure_minimum_range",
     "qint8/quint8/qint16/quint16/qint32 as s8/u8/s16/u16/s32; bit-exact with TensorFlow's "
     "CPU kernel; max_range < min_range is not checked"},
    {"Dequantize", lower_dequantize, "T, mode, narrow_range, axis, dtype",
     "dtype float, or bfloat16 with MIN_COMBINED; bit-exact with TensorFlow's CPU kernel"},
    {NULL, NULL, NULL, NULL},
};
