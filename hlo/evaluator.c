/*
 * evaluator.c — the reference interpreter: executes a verified module on
 * host literals with XLA's semantics.  It is the oracle every pass and every
 * generated kernel is tested against, so it favours plain, checkable loops
 * over cleverness, but it must still run whole models (a MobileNet, a
 * transformer block, an LSTM loop) in seconds.
 *
 * Assumptions: the module verified (operand counts, shapes and attributes
 * are consistent), so shape mismatches are internal errors; problems that
 * only show at run time (an unsupported type for an op, an unknown
 * custom-call target) are returned as errors naming the instruction.
 *
 * How it runs.  Each computation gets a Plan once per evaluation: its
 * instructions reachable from the root in post order, operand slots and use
 * counts.  A run walks the plan; every value lives in a Slot that is freed
 * as soon as its last user has run, so large activations do not pile up.
 * get-tuple-element borrows (or, when it is the tuple's only reader of that
 * element, moves) instead of copying, and an instruction that is the last
 * user of an owned operand may take it over (tuple, while, call,
 * dynamic-update-slice, scatter), so loop state is not copied every
 * iteration.  Computations made only of scalar elementwise instructions —
 * reducers, comparators — run on preallocated scalar literals without
 * allocating; reduce, reduce-window and scatter recognise a reducer that is
 * one binary op of its two parameters and then combine whole vectors with
 * the elementwise kernels.
 *
 * Numerics: elementwise f16/bf16 ops compute in f32 and round back; integer
 * arithmetic wraps; dot and convolution accumulate floats in double and
 * integers in 64-bit wrapping arithmetic, converting the operands to the
 * result type first (as XLA does) and the sum back at the end.
 *
 * Bounded running (HloEvalOptions): a cancellation flag is read before
 * each instruction a plan runs and at the head of each while iteration,
 * and while loops may have an iteration limit.  A cancellation unwinds
 * without the usual "in instruction …" wrapping, so its message is just
 * where it stopped.
 */
#include "hlo.h"

#include <complex.h>
/* C11's CMPLX and CMPLXF (a complex from its parts, exact for infinities
 * and NaNs, unlike re + im * I): glibc defines them for GCC only. */
#ifndef CMPLXF
#define CMPLXF(re, im) __builtin_complex((float)(re), (float)(im))
#endif
#ifndef CMPLX
#define CMPLX(re, im) __builtin_complex((double)(re), (double)(im))
#endif
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements handled per step by loops that widen to temporary buffers. */
enum { CHUNK = 512 };

/* ------------------------------------------------------------------------ */
/* Small utilities                                                          */
/* ------------------------------------------------------------------------ */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static bool dims_contain(const HloDims *d, int64_t v) {
  for (int i = 0; i < d->n; i++)
    if (d->v[i] == v) return true;
  return false;
}

static size_t esize_of(const HloLiteral *l) { return hlo_type_size(l->shape.type); }

static int64_t elements_of(const HloLiteral *l) { return hlo_shape_elements(&l->shape); }

/* A heap literal of an array shape, without the layout (literals are
 * logical). */
static HloLiteral *new_array(HloType t, int rank, const int64_t *dims) {
  HloShape s = hlo_shape_array(t, rank, dims);
  return hlo_literal_new(&s);
}

static HloError *unsupported_type(HloOpcode op, HloType t) {
  return hlo_error("%s is not defined on element type %s", hlo_opcode_name(op),
                   hlo_type_name(t));
}

/* ------------------------------------------------------------------------ */
/* Data movement kernels                                                    */
/* ------------------------------------------------------------------------ */

/* Copies a box of `rank` dims: the element at box index i moves from
 * src + sum(i[d] * ss[d]) to dst + sum(i[d] * ds[d]); strides are in
 * elements and may be zero or negative.  Every data-movement op (transpose,
 * broadcast, slice, reverse, concatenate, gather windows, layouts) is one
 * or a few calls of this. */
static void copy_strided(void *dst, const int64_t *ds, const void *src, const int64_t *ss,
                         int rank, const int64_t *dims, size_t esize) {
  for (int d = 0; d < rank; d++)
    if (dims[d] == 0) return;
  if (rank == 0) {
    memcpy(dst, src, esize);
    return;
  }
  int64_t idx[HLO_MAX_RANK] = {0};
  int last = rank - 1;
  int64_t n = dims[last], di = ds[last], si = ss[last];
  for (;;) {
    int64_t doff = 0, soff = 0;
    for (int d = 0; d < last; d++) {
      doff += idx[d] * ds[d];
      soff += idx[d] * ss[d];
    }
    char *dp = (char *)dst + doff * (int64_t)esize;
    const char *sp = (const char *)src + soff * (int64_t)esize;
    if (di == 1 && si == 1) {
      memcpy(dp, sp, (size_t)n * esize);
    } else {
      switch (esize) {
#define STRIDED_LOOP(T)                                                       \
  for (int64_t j = 0; j < n; j++) ((T *)dp)[j * di] = ((const T *)sp)[j * si]; \
  break;
      case 1: STRIDED_LOOP(uint8_t)
      case 2: STRIDED_LOOP(uint16_t)
      case 4: STRIDED_LOOP(uint32_t)
      case 8: STRIDED_LOOP(uint64_t)
#undef STRIDED_LOOP
      default:
        for (int64_t j = 0; j < n; j++)
          memcpy(dp + j * di * (int64_t)esize, sp + j * si * (int64_t)esize, esize);
      }
    }
    int d = last - 1;
    while (d >= 0 && ++idx[d] == dims[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

static void row_major_strides(int rank, const int64_t *dims, int64_t *strides) {
  int64_t st = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= dims[i];
  }
}

/* Per-dimension offset tables: out[i] = src[sum_d tab[d][i[d]]] when every
 * entry is >= 0, else `fill`.  Used where output positions may fall outside
 * the source (pad, reduce-window padding and dilation holes). */
typedef struct Tables {
  int64_t *buf;
  int64_t *t[HLO_MAX_RANK];
} Tables;

static void tables_init(Tables *tb, int rank, const int64_t *dims) {
  int64_t total = 0;
  for (int d = 0; d < rank; d++) total += dims[d];
  tb->buf = hlo_xmalloc(sizeof(int64_t) * (size_t)(total ? total : 1));
  int64_t off = 0;
  for (int d = 0; d < rank; d++) {
    tb->t[d] = tb->buf + off;
    off += dims[d];
  }
}

static void gather_tables(void *dst, const void *src, size_t esize, int rank,
                          const int64_t *dims, const Tables *tb, const void *fill) {
  for (int d = 0; d < rank; d++)
    if (dims[d] == 0) return;
  if (rank == 0) {
    memcpy(dst, src, esize);
    return;
  }
  int64_t idx[HLO_MAX_RANK] = {0};
  int last = rank - 1;
  int64_t n = dims[last];
  const int64_t *tl = tb->t[last];
  char *dp = dst;
  for (;;) {
    int64_t base = 0;
    bool valid = true;
    for (int d = 0; d < last; d++) {
      int64_t t = tb->t[d][idx[d]];
      if (t < 0) valid = false;
      base += t;
    }
    if (!valid) {
      for (int64_t j = 0; j < n; j++) memcpy(dp + j * (int64_t)esize, fill, esize);
    } else {
      switch (esize) {
#define TABLE_LOOP(T)                                                         \
  {                                                                           \
    T f;                                                                      \
    memcpy(&f, fill, sizeof f);                                               \
    const T *s = (const T *)src + base;                                       \
    for (int64_t j = 0; j < n; j++) ((T *)dp)[j] = tl[j] >= 0 ? s[tl[j]] : f; \
  }                                                                           \
  break;
      case 1: TABLE_LOOP(uint8_t)
      case 2: TABLE_LOOP(uint16_t)
      case 4: TABLE_LOOP(uint32_t)
      case 8: TABLE_LOOP(uint64_t)
#undef TABLE_LOOP
      default: HLO_UNREACHABLE();
      }
    }
    dp += n * (int64_t)esize;
    int d = last - 1;
    while (d >= 0 && ++idx[d] == dims[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/* ------------------------------------------------------------------------ */
/* Element conversion                                                       */
/* ------------------------------------------------------------------------ */

/* Widens m floats of type t to double (exact). */
static void load_f64(const void *src, HloType t, double *w, int64_t m) {
  switch (t) {
  case HLO_F16:
    for (int64_t i = 0; i < m; i++) w[i] = hlo_f16_to_f32(((const uint16_t *)src)[i]);
    break;
  case HLO_BF16:
    for (int64_t i = 0; i < m; i++) w[i] = hlo_bf16_to_f32(((const uint16_t *)src)[i]);
    break;
  case HLO_F32:
    for (int64_t i = 0; i < m; i++) w[i] = ((const float *)src)[i];
    break;
  case HLO_F64: memcpy(w, src, (size_t)m * 8); break;
  default:
    for (int64_t i = 0; i < m; i++) w[i] = hlo_small_to_f32(t, ((const uint8_t *)src)[i]);
    break;
  }
}

/* Widens m integers (or preds) of type t to 64 bits, sign-extending when
 * as_signed and zero-extending otherwise, whatever t's own signedness. */
static void load_i64(const void *src, HloType t, bool as_signed, uint64_t *w, int64_t m) {
  switch (hlo_type_size(t)) {
#define LOAD_LOOP(S, U)                                                       \
  if (as_signed)                                                              \
    for (int64_t i = 0; i < m; i++) w[i] = (uint64_t)(int64_t)((const S *)src)[i]; \
  else                                                                        \
    for (int64_t i = 0; i < m; i++) w[i] = ((const U *)src)[i];               \
  break;
  case 1: LOAD_LOOP(int8_t, uint8_t)
  case 2: LOAD_LOOP(int16_t, uint16_t)
  case 4: LOAD_LOOP(int32_t, uint32_t)
  case 8: LOAD_LOOP(int64_t, uint64_t)
#undef LOAD_LOOP
  default: HLO_UNREACHABLE();
  }
}

/* Stores m doubles as type t: floats round to nearest even (f16/bf16 via
 * f32, as XLA does), integers saturate with NaN -> 0, pred is != 0. */
static void store_from_f64(const double *w, int64_t m, void *dst, HloType t) {
  switch (t) {
  case HLO_PRED:
    for (int64_t i = 0; i < m; i++) ((uint8_t *)dst)[i] = w[i] != 0;
    break;
#define SATURATE(E, T, LO, HI)                                                \
  case HLO_##E:                                                               \
    for (int64_t i = 0; i < m; i++) {                                         \
      double v = w[i];                                                        \
      ((T *)dst)[i] = isnan(v) ? 0 : v <= (double)(LO) ? (LO) : v >= (double)(HI) ? (HI) : (T)v; \
    }                                                                         \
    break;
  SATURATE(S8, int8_t, INT8_MIN, INT8_MAX)
  SATURATE(S16, int16_t, INT16_MIN, INT16_MAX)
  SATURATE(S32, int32_t, INT32_MIN, INT32_MAX)
  SATURATE(S64, int64_t, INT64_MIN, INT64_MAX)
  SATURATE(U8, uint8_t, 0, UINT8_MAX)
  SATURATE(U16, uint16_t, 0, UINT16_MAX)
  SATURATE(U32, uint32_t, 0, UINT32_MAX)
  SATURATE(U64, uint64_t, 0, UINT64_MAX)
  SATURATE(S2, int8_t, -2, 1)
  SATURATE(S4, int8_t, -8, 7)
  SATURATE(U2, uint8_t, 0, 3)
  SATURATE(U4, uint8_t, 0, 15)
#undef SATURATE
  case HLO_F16:
    for (int64_t i = 0; i < m; i++) ((uint16_t *)dst)[i] = hlo_f32_to_f16((float)w[i]);
    break;
  case HLO_BF16:
    for (int64_t i = 0; i < m; i++) ((uint16_t *)dst)[i] = hlo_f32_to_bf16((float)w[i]);
    break;
  case HLO_F32:
    for (int64_t i = 0; i < m; i++) ((float *)dst)[i] = (float)w[i];
    break;
  case HLO_F64: memcpy(dst, w, (size_t)m * 8); break;
  /* A real number becomes a complex one with imaginary part 0. */
  case HLO_C64:
    for (int64_t i = 0; i < m; i++) ((float complex *)dst)[i] = (float)w[i];
    break;
  case HLO_C128:
    for (int64_t i = 0; i < m; i++) ((double complex *)dst)[i] = w[i];
    break;
  default: /* the f8/f4 types, rounded once from the double */
    for (int64_t i = 0; i < m; i++) ((uint8_t *)dst)[i] = hlo_small_from_f64(t, w[i]);
    break;
  }
}

/* Stores m 64-bit integers (signed or unsigned per `is_unsigned`) as type t:
 * integers truncate (two's complement), floats round, pred is != 0. */
static void store_from_i64(const uint64_t *w, int64_t m, bool is_unsigned, void *dst,
                           HloType t) {
  switch (t) {
  case HLO_PRED:
    for (int64_t i = 0; i < m; i++) ((uint8_t *)dst)[i] = w[i] != 0;
    break;
  case HLO_S8: case HLO_U8:
    for (int64_t i = 0; i < m; i++) ((uint8_t *)dst)[i] = (uint8_t)w[i];
    break;
  case HLO_S16: case HLO_U16:
    for (int64_t i = 0; i < m; i++) ((uint16_t *)dst)[i] = (uint16_t)w[i];
    break;
  case HLO_S32: case HLO_U32:
    for (int64_t i = 0; i < m; i++) ((uint32_t *)dst)[i] = (uint32_t)w[i];
    break;
  case HLO_S64: case HLO_U64: memcpy(dst, w, (size_t)m * 8); break;
#define INT_TO_FLOAT(E, T, CONV)                                              \
  case HLO_##E:                                                               \
    for (int64_t i = 0; i < m; i++)                                           \
      ((T *)dst)[i] = CONV(is_unsigned ? (float)w[i] : (float)(int64_t)w[i]); \
    break;
#define IDENTITY(x) (x)
  INT_TO_FLOAT(F16, uint16_t, hlo_f32_to_f16)
  INT_TO_FLOAT(BF16, uint16_t, hlo_f32_to_bf16)
  INT_TO_FLOAT(F32, float, IDENTITY)
#undef IDENTITY
#undef INT_TO_FLOAT
  case HLO_F64:
    for (int64_t i = 0; i < m; i++)
      ((double *)dst)[i] = is_unsigned ? (double)w[i] : (double)(int64_t)w[i];
    break;
  case HLO_S2: case HLO_S4: case HLO_U2: case HLO_U4:
    for (int64_t i = 0; i < m; i++) ((int8_t *)dst)[i] = (int8_t)hlo_small_int_wrap(t, (int64_t)w[i]);
    break;
  case HLO_C64:
    for (int64_t i = 0; i < m; i++)
      ((float complex *)dst)[i] = is_unsigned ? (float)w[i] : (float)(int64_t)w[i];
    break;
  case HLO_C128:
    for (int64_t i = 0; i < m; i++)
      ((double complex *)dst)[i] = is_unsigned ? (double)w[i] : (double)(int64_t)w[i];
    break;
  default: /* the f8/f4 types: through f32, as ml_dtypes converts integers */
    for (int64_t i = 0; i < m; i++)
      ((uint8_t *)dst)[i] =
          hlo_small_from_f32(t, is_unsigned ? (float)w[i] : (float)(int64_t)w[i]);
    break;
  }
}

/* XLA's convert between any two array types but complex to real (which
 * HLO does not allow: real() and imag() say which part). */
static void convert_buffer(const void *src, HloType st, void *dst, HloType dt, int64_t n) {
  if (st == dt) {
    memcpy(dst, src, (size_t)n * hlo_type_size(st));
    return;
  }
  if (hlo_type_is_complex(st)) {
    HLO_CHECK(hlo_type_is_complex(dt));
    for (int64_t i = 0; i < n; i++) {
      if (st == HLO_C64) ((double complex *)dst)[i] = ((const float complex *)src)[i];
      else ((float complex *)dst)[i] = (float complex)((const double complex *)src)[i];
    }
    return;
  }
  size_t ss = hlo_type_size(st), ds = hlo_type_size(dt);
  for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
    int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    const char *s = (const char *)src + i0 * (int64_t)ss;
    char *d = (char *)dst + i0 * (int64_t)ds;
    if (hlo_type_is_float(st)) {
      double w[CHUNK];
      load_f64(s, st, w, m);
      store_from_f64(w, m, d, dt);
    } else {
      uint64_t w[CHUNK];
      bool is_unsigned = !hlo_type_is_signed(st);
      load_i64(s, st, !is_unsigned, w, m);
      store_from_i64(w, m, is_unsigned, d, dt);
    }
  }
}

/* A new literal holding l converted to type t (l itself when t matches:
 * *owned tells the caller whether to free the result). */
static HloLiteral *converted(const HloLiteral *l, HloType t, bool *owned) {
  if (l->shape.type == t) {
    *owned = false;
    return (HloLiteral *)l;
  }
  HloLiteral *r = new_array(t, l->shape.rank, l->shape.dims);
  convert_buffer(l->data, l->shape.type, r->data, t, elements_of(l));
  *owned = true;
  return r;
}

/* A scalar literal's value as an integer (index operands). */
static int64_t scalar_s64(const HloLiteral *l) { return hlo_literal_get_s64(l, 0); }

/* ------------------------------------------------------------------------ */
/* Elementwise kernels                                                      */
/* ------------------------------------------------------------------------ */

/* Each kernel switches on the opcode once and runs a typed loop; it returns
 * false when the op is not defined on the type.  Outputs may alias inputs
 * (reductions combine into their accumulator). */
#define EACH(EXPR)                                                            \
  for (int64_t i = 0; i < n; i++) y[i] = (EXPR);                              \
  return true;

/* F is the libm suffix: f for float, empty for double. */
#define FLOAT_KERNELS(SUF, T, F)                                              \
  static bool unary_##SUF(HloOpcode op, const T *x, T *y, int64_t n) {        \
    switch (op) {                                                             \
    case HLO_OP_NEGATE: EACH(-x[i])                                           \
    case HLO_OP_ABS: EACH(fabs##F(x[i]))                                      \
    case HLO_OP_SIGN: EACH(isnan(x[i]) ? x[i] : copysign##F(x[i] != 0, x[i])) \
    case HLO_OP_EXP: EACH(exp##F(x[i]))                                       \
    case HLO_OP_EXPM1: EACH(expm1##F(x[i]))                                   \
    case HLO_OP_LOG: EACH(log##F(x[i]))                                       \
    case HLO_OP_LOG1P: EACH(log1p##F(x[i]))                                   \
    case HLO_OP_LOGISTIC: EACH((T)1 / ((T)1 + exp##F(-x[i])))                 \
    case HLO_OP_SQRT: EACH(sqrt##F(x[i]))                                     \
    case HLO_OP_RSQRT: EACH((T)1 / sqrt##F(x[i]))                             \
    case HLO_OP_CBRT: EACH(cbrt##F(x[i]))                                     \
    case HLO_OP_TANH: EACH(tanh##F(x[i]))                                     \
    case HLO_OP_SIN: EACH(sin##F(x[i]))                                       \
    case HLO_OP_COS: EACH(cos##F(x[i]))                                       \
    case HLO_OP_TAN: EACH(tan##F(x[i]))                                       \
    case HLO_OP_ACOS: EACH(acos##F(x[i]))                                     \
    case HLO_OP_ASIN: EACH(asin##F(x[i]))                                     \
    case HLO_OP_ATAN: EACH(atan##F(x[i]))                                     \
    case HLO_OP_ACOSH: EACH(acosh##F(x[i]))                                   \
    case HLO_OP_ASINH: EACH(asinh##F(x[i]))                                   \
    case HLO_OP_ATANH: EACH(atanh##F(x[i]))                                   \
    case HLO_OP_COSH: EACH(cosh##F(x[i]))                                     \
    case HLO_OP_SINH: EACH(sinh##F(x[i]))                                     \
    case HLO_OP_ERF: EACH(erf##F(x[i]))                                       \
    case HLO_OP_FLOOR: EACH(floor##F(x[i]))                                   \
    case HLO_OP_CEIL: EACH(ceil##F(x[i]))                                     \
    case HLO_OP_ROUND_AFZ: EACH(round##F(x[i]))                               \
    case HLO_OP_ROUND_EVEN: {                                                 \
      /* nearbyint follows the current rounding mode; XLA pins it. */         \
      int mode = fegetround();                                                \
      fesetround(FE_TONEAREST);                                               \
      for (int64_t i = 0; i < n; i++) y[i] = nearbyint##F(x[i]);              \
      fesetround(mode);                                                       \
      return true;                                                            \
    }                                                                         \
    default: return false;                                                    \
    }                                                                         \
  }                                                                           \
  static bool binary_##SUF(HloOpcode op, const T *a, const T *b, T *y, int64_t n) { \
    switch (op) {                                                             \
    case HLO_OP_ADD: EACH(a[i] + b[i])                                        \
    case HLO_OP_SUBTRACT: EACH(a[i] - b[i])                                   \
    case HLO_OP_MULTIPLY: EACH(a[i] * b[i])                                   \
    case HLO_OP_DIVIDE: EACH(a[i] / b[i])                                     \
    case HLO_OP_REMAINDER: EACH(fmod##F(a[i], b[i]))                          \
    case HLO_OP_POWER: EACH(pow##F(a[i], b[i]))                               \
    case HLO_OP_ATAN2: EACH(atan2##F(a[i], b[i]))                             \
    /* NaN wins; otherwise std::max/std::min, as XLA's evaluator. */          \
    case HLO_OP_MAXIMUM:                                                      \
      EACH(isnan(a[i]) ? a[i] : isnan(b[i]) ? b[i] : a[i] < b[i] ? b[i] : a[i]) \
    case HLO_OP_MINIMUM:                                                      \
      EACH(isnan(a[i]) ? a[i] : isnan(b[i]) ? b[i] : b[i] < a[i] ? b[i] : a[i]) \
    default: return false;                                                    \
    }                                                                         \
  }

FLOAT_KERNELS(f32, float, f)
FLOAT_KERNELS(f64, double, )
#undef FLOAT_KERNELS

/* Integer power by squaring, wrapping; a negative exponent gives 0 except
 * for bases 1 and -1 (XLA's rule). */
static uint64_t ipow(uint64_t base, uint64_t e) {
  uint64_t r = 1;
  while (e) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return r;
}

/* T the type, UT/ST its unsigned/signed counterparts, WU an unsigned type at
 * least as wide as int (so arithmetic wraps instead of overflowing), BITS
 * its width, SIGNED whether T is signed, MINV its minimum. */
#define INT_KERNELS(SUF, T, UT, ST, WU, BITS, SIGNED, MINV)                   \
  static bool unary_##SUF(HloOpcode op, const T *x, T *y, int64_t n) {        \
    switch (op) {                                                             \
    case HLO_OP_NEGATE: EACH((T)((WU)0 - (WU)x[i]))                           \
    case HLO_OP_ABS: EACH(SIGNED && (ST)x[i] < 0 ? (T)((WU)0 - (WU)x[i]) : x[i]) \
    case HLO_OP_SIGN:                                                         \
      EACH(SIGNED ? (T)(((ST)x[i] > 0) - ((ST)x[i] < 0)) : (T)(x[i] != 0))    \
    case HLO_OP_NOT: EACH((T)~x[i])                                           \
    case HLO_OP_POPCNT: EACH((T)__builtin_popcountll((uint64_t)(UT)x[i]))     \
    case HLO_OP_CLZ:                                                          \
      EACH((T)(x[i] == 0 ? BITS : __builtin_clzll((uint64_t)(UT)x[i]) - (64 - BITS))) \
    default: return false;                                                    \
    }                                                                         \
  }                                                                           \
  static bool binary_##SUF(HloOpcode op, const T *a, const T *b, T *y, int64_t n) { \
    switch (op) {                                                             \
    case HLO_OP_ADD: EACH((T)((WU)a[i] + (WU)b[i]))                           \
    case HLO_OP_SUBTRACT: EACH((T)((WU)a[i] - (WU)b[i]))                      \
    case HLO_OP_MULTIPLY: EACH((T)((WU)a[i] * (WU)b[i]))                      \
    /* x/0 is all ones, MIN/-1 is MIN, x%0 is x, MIN%-1 is 0 (XLA). */        \
    case HLO_OP_DIVIDE:                                                       \
      EACH(b[i] == 0 ? (T)~(UT)0                                              \
           : SIGNED && b[i] == (T)-1 && a[i] == (T)(MINV) ? a[i] : (T)(a[i] / b[i])) \
    case HLO_OP_REMAINDER:                                                    \
      EACH(b[i] == 0 ? a[i] : SIGNED && b[i] == (T)-1 ? (T)0 : (T)(a[i] % b[i])) \
    case HLO_OP_MAXIMUM: EACH(a[i] < b[i] ? b[i] : a[i])                      \
    case HLO_OP_MINIMUM: EACH(b[i] < a[i] ? b[i] : a[i])                      \
    case HLO_OP_POWER:                                                        \
      EACH(SIGNED && (ST)b[i] < 0                                             \
               ? (T)(a[i] == 1 ? 1 : (ST)a[i] == -1 ? ((b[i] & 1) ? -1 : 1) : 0) \
               : (T)ipow((uint64_t)a[i], (uint64_t)b[i]))                     \
    case HLO_OP_AND: EACH((T)(a[i] & b[i]))                                   \
    case HLO_OP_OR: EACH((T)(a[i] | b[i]))                                    \
    case HLO_OP_XOR: EACH((T)(a[i] ^ b[i]))                                   \
    /* Shift amounts are unsigned; out-of-range shifts fill (XLA). */         \
    case HLO_OP_SHIFT_LEFT:                                                   \
      EACH((UT)b[i] >= BITS ? (T)0 : (T)((WU)(UT)a[i] << (UT)b[i]))           \
    case HLO_OP_SHIFT_RIGHT_LOGICAL:                                          \
      EACH((UT)b[i] >= BITS ? (T)0 : (T)((UT)a[i] >> (UT)b[i]))               \
    case HLO_OP_SHIFT_RIGHT_ARITHMETIC:                                       \
      EACH((UT)b[i] >= BITS ? (T)((ST)a[i] < 0 ? -1 : 0) : (T)((ST)a[i] >> (UT)b[i])) \
    default: return false;                                                    \
    }                                                                         \
  }

INT_KERNELS(s8, int8_t, uint8_t, int8_t, uint32_t, 8, 1, INT8_MIN)
INT_KERNELS(s16, int16_t, uint16_t, int16_t, uint32_t, 16, 1, INT16_MIN)
INT_KERNELS(s32, int32_t, uint32_t, int32_t, uint32_t, 32, 1, INT32_MIN)
INT_KERNELS(s64, int64_t, uint64_t, int64_t, uint64_t, 64, 1, INT64_MIN)
INT_KERNELS(u8, uint8_t, uint8_t, int8_t, uint32_t, 8, 0, 0)
INT_KERNELS(u16, uint16_t, uint16_t, int16_t, uint32_t, 16, 0, 0)
INT_KERNELS(u32, uint32_t, uint32_t, int32_t, uint32_t, 32, 0, 0)
INT_KERNELS(u64, uint64_t, uint64_t, int64_t, uint64_t, 64, 0, 0)
#undef INT_KERNELS

/* Complex numbers: C's complex arithmetic (Annex G) and functions.  abs
 * returns the real type and so is not here (eval_complex_abs). */
#define COMPLEX_KERNELS(SUF, T, F)                                            \
  static bool unary_##SUF(HloOpcode op, const T *x, T *y, int64_t n) {        \
    switch (op) {                                                             \
    case HLO_OP_NEGATE: EACH(-x[i])                                           \
    case HLO_OP_EXP: EACH(cexp##F(x[i]))                                      \
    case HLO_OP_LOG: EACH(clog##F(x[i]))                                      \
    case HLO_OP_SQRT: EACH(csqrt##F(x[i]))                                    \
    case HLO_OP_RSQRT: EACH(1 / csqrt##F(x[i]))                               \
    case HLO_OP_SIN: EACH(csin##F(x[i]))                                      \
    case HLO_OP_COS: EACH(ccos##F(x[i]))                                      \
    case HLO_OP_TAN: EACH(ctan##F(x[i]))                                      \
    case HLO_OP_TANH: EACH(ctanh##F(x[i]))                                    \
    /* x / |x|, and 0 for 0 (XLA) */                                          \
    case HLO_OP_SIGN: EACH(x[i] == 0 ? x[i] : x[i] / cabs##F(x[i]))           \
    default: return false;                                                    \
    }                                                                         \
  }                                                                           \
  static bool binary_##SUF(HloOpcode op, const T *a, const T *b, T *y, int64_t n) { \
    switch (op) {                                                             \
    case HLO_OP_ADD: EACH(a[i] + b[i])                                        \
    case HLO_OP_SUBTRACT: EACH(a[i] - b[i])                                   \
    case HLO_OP_MULTIPLY: EACH(a[i] * b[i])                                   \
    case HLO_OP_DIVIDE: EACH(a[i] / b[i])                                     \
    case HLO_OP_POWER: EACH(cpow##F(a[i], b[i]))                              \
    default: return false;                                                    \
    }                                                                         \
  }

COMPLEX_KERNELS(c64, float complex, f)
COMPLEX_KERNELS(c128, double complex, )
#undef COMPLEX_KERNELS
#undef EACH

/* The float types narrower than f32 compute in f32 and round back. */
static bool computes_in_f32(HloType t) {
  return t == HLO_F16 || t == HLO_BF16 || hlo_small_float(t);
}

static void half_to_f32(const void *h, HloType t, float *f, int64_t m) {
  if (t == HLO_F16)
    for (int64_t i = 0; i < m; i++) f[i] = hlo_f16_to_f32(((const uint16_t *)h)[i]);
  else if (t == HLO_BF16)
    for (int64_t i = 0; i < m; i++) f[i] = hlo_bf16_to_f32(((const uint16_t *)h)[i]);
  else
    for (int64_t i = 0; i < m; i++) f[i] = hlo_small_to_f32(t, ((const uint8_t *)h)[i]);
}

static void f32_to_half(const float *f, HloType t, void *h, int64_t m) {
  if (t == HLO_F16)
    for (int64_t i = 0; i < m; i++) ((uint16_t *)h)[i] = hlo_f32_to_f16(f[i]);
  else if (t == HLO_BF16)
    for (int64_t i = 0; i < m; i++) ((uint16_t *)h)[i] = hlo_f32_to_bf16(f[i]);
  else
    for (int64_t i = 0; i < m; i++) ((uint8_t *)h)[i] = hlo_small_from_f32(t, f[i]);
}

/* s2/s4/u2/u4 compute as s8/u8 on their extended bytes and wrap back.  The
 * ops that read the bits above the sign (a logical right shift, popcount,
 * count leading zeros) take the value zero-extended, and an arithmetic
 * right shift takes it sign-extended; clz counts only the type's bits. */
static bool unary_kernel(HloOpcode op, HloType t, const void *x, void *y, int64_t n);
static bool binary_kernel(HloOpcode op, HloType t, const void *a, const void *b, void *y,
                          int64_t n);

static int64_t sext_bits(int64_t v, int bits) {
  return (int64_t)((uint64_t)v << (64 - bits)) >> (64 - bits);
}

static bool small_int_kernel(HloOpcode op, HloType t, const void *a, const void *b, void *y,
                             int64_t n) {
  int bits = hlo_type_bits(t);
  int64_t mask = (1 << bits) - 1;
  bool zext = op == HLO_OP_SHIFT_RIGHT_LOGICAL || op == HLO_OP_POPCNT || op == HLO_OP_CLZ;
  bool as_signed = op == HLO_OP_SHIFT_RIGHT_ARITHMETIC || (hlo_type_is_signed(t) && !zext);
  bool shift = op == HLO_OP_SHIFT_LEFT || op == HLO_OP_SHIFT_RIGHT_LOGICAL ||
               op == HLO_OP_SHIFT_RIGHT_ARITHMETIC;
  HloType wide = as_signed ? HLO_S8 : HLO_U8;
  bool ok = true;
  for (int64_t i0 = 0; i0 < n && ok; i0 += CHUNK) {
    int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    uint8_t x[CHUNK], z[CHUNK], r[CHUNK];
    for (int64_t i = 0; i < m; i++) {
      int64_t v = ((const int8_t *)a)[i0 + i];
      x[i] = (uint8_t)(as_signed ? sext_bits(v, bits) : v & mask);
      if (b) {
        /* a shift amount is read as unsigned, whatever the type */
        int64_t w = ((const int8_t *)b)[i0 + i];
        z[i] = (uint8_t)(as_signed && !shift ? sext_bits(w, bits) : w & mask);
      }
    }
    ok = b ? binary_kernel(op, wide, x, z, r, m) : unary_kernel(op, wide, x, r, m);
    for (int64_t i = 0; i < m; i++) {
      int64_t v = as_signed ? (int8_t)r[i] : r[i];
      if (op == HLO_OP_CLZ) v -= 8 - bits;
      ((int8_t *)y)[i0 + i] = (int8_t)hlo_small_int_wrap(t, v);
    }
  }
  return ok;
}

static bool unary_kernel(HloOpcode op, HloType t, const void *x, void *y, int64_t n) {
  switch (t) {
  case HLO_F32: return unary_f32(op, x, y, n);
  case HLO_F64: return unary_f64(op, x, y, n);
  case HLO_C64: return unary_c64(op, x, y, n);
  case HLO_C128: return unary_c128(op, x, y, n);
  case HLO_S2: case HLO_S4: case HLO_U2: case HLO_U4:
    return small_int_kernel(op, t, x, NULL, y, n);
  default:
    if (!computes_in_f32(t) || !unary_f32(op, NULL, NULL, 0)) return false;
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
      int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
      size_t es = hlo_type_size(t);
      float fx[CHUNK];
      half_to_f32((const char *)x + i0 * (int64_t)es, t, fx, m);
      unary_f32(op, fx, fx, m);
      f32_to_half(fx, t, (char *)y + i0 * (int64_t)es, m);
    }
    return true;
  case HLO_PRED:
    if (op != HLO_OP_NOT) return false;
    for (int64_t i = 0; i < n; i++) ((uint8_t *)y)[i] = !((const uint8_t *)x)[i];
    return true;
  case HLO_S8: return unary_s8(op, x, y, n);
  case HLO_S16: return unary_s16(op, x, y, n);
  case HLO_S32: return unary_s32(op, x, y, n);
  case HLO_S64: return unary_s64(op, x, y, n);
  case HLO_U8: return unary_u8(op, x, y, n);
  case HLO_U16: return unary_u16(op, x, y, n);
  case HLO_U32: return unary_u32(op, x, y, n);
  case HLO_U64: return unary_u64(op, x, y, n);
  }
}

static bool binary_kernel(HloOpcode op, HloType t, const void *a, const void *b, void *y,
                          int64_t n) {
  switch (t) {
  case HLO_F32: return binary_f32(op, a, b, y, n);
  case HLO_F64: return binary_f64(op, a, b, y, n);
  case HLO_C64: return binary_c64(op, a, b, y, n);
  case HLO_C128: return binary_c128(op, a, b, y, n);
  case HLO_S2: case HLO_S4: case HLO_U2: case HLO_U4:
    return small_int_kernel(op, t, a, b, y, n);
  default:
    if (!computes_in_f32(t) || !binary_f32(op, NULL, NULL, NULL, 0)) return false;
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
      int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
      size_t es = hlo_type_size(t);
      float fa[CHUNK], fb[CHUNK];
      half_to_f32((const char *)a + i0 * (int64_t)es, t, fa, m);
      half_to_f32((const char *)b + i0 * (int64_t)es, t, fb, m);
      binary_f32(op, fa, fb, fa, m);
      f32_to_half(fa, t, (char *)y + i0 * (int64_t)es, m);
    }
    return true;
  case HLO_PRED:
    /* On 0/1 values the bitwise ops, max and min are the logical ones, and
     * multiply is and (XLA's definition). */
    if (op == HLO_OP_MULTIPLY) op = HLO_OP_AND;
    if (op != HLO_OP_AND && op != HLO_OP_OR && op != HLO_OP_XOR && op != HLO_OP_MAXIMUM &&
        op != HLO_OP_MINIMUM)
      return false;
    return binary_u8(op, a, b, y, n);
  case HLO_S8: return binary_s8(op, a, b, y, n);
  case HLO_S16: return binary_s16(op, a, b, y, n);
  case HLO_S32: return binary_s32(op, a, b, y, n);
  case HLO_S64: return binary_s64(op, a, b, y, n);
  case HLO_U8: return binary_u8(op, a, b, y, n);
  case HLO_U16: return binary_u16(op, a, b, y, n);
  case HLO_U32: return binary_u32(op, a, b, y, n);
  case HLO_U64: return binary_u64(op, a, b, y, n);
  }
}

static bool is_finite_kernel(HloType t, const void *x, uint8_t *y, int64_t n) {
  if (!hlo_type_is_float(t)) return false;
  for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
    int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    double w[CHUNK];
    load_f64((const char *)x + i0 * (int64_t)hlo_type_size(t), t, w, m);
    for (int64_t i = 0; i < m; i++) y[i0 + i] = isfinite(w[i]) != 0;
  }
  return true;
}

/* compare widens both sides to 64-bit keys: doubles for FLOAT (IEEE: NaN is
 * unordered), signed integers for SIGNED and TOTALORDER, unsigned for
 * UNSIGNED. */
typedef enum KeyKind { KEY_F64, KEY_S64, KEY_U64 } KeyKind;

typedef union Keys {
  double f[CHUNK];
  int64_t s[CHUNK];
  uint64_t u[CHUNK];
} Keys;

static KeyKind key_kind(HloType t, HloCompareType ct) {
  if (hlo_type_is_float(t)) return ct == HLO_CMPT_TOTALORDER ? KEY_S64 : KEY_F64;
  if (ct == HLO_CMPT_SIGNED) return KEY_S64;
  if (ct == HLO_CMPT_UNSIGNED) return KEY_U64;
  return hlo_type_is_signed(t) ? KEY_S64 : KEY_U64;
}

/* XLA's total order on floats: flipping the magnitude bits of negative
 * values makes the bit pattern, read as a signed integer, order
 * -NaN < -inf < ... < -0 < +0 < ... < inf < NaN. */
static void load_keys(KeyKind kind, HloType t, const void *src, Keys *k, int64_t m) {
  if (kind == KEY_F64) {
    load_f64(src, t, k->f, m);
  } else if (hlo_type_is_float(t)) {
    switch (hlo_type_size(t)) {
    case 1:
      /* f8e8m0fnu has no sign: its bits already order. */
      for (int64_t i = 0; i < m; i++) {
        int8_t b = ((const int8_t *)src)[i];
        k->s[i] = t == HLO_F8E8M0FNU ? (uint8_t)b : (int8_t)(b ^ ((b >> 7) & 0x7f));
      }
      break;
    case 2:
      for (int64_t i = 0; i < m; i++) {
        int16_t b = ((const int16_t *)src)[i];
        k->s[i] = (int16_t)(b ^ ((b >> 15) & 0x7fff));
      }
      break;
    case 4:
      for (int64_t i = 0; i < m; i++) {
        int32_t b = ((const int32_t *)src)[i];
        k->s[i] = b ^ ((b >> 31) & 0x7fffffff);
      }
      break;
    default:
      for (int64_t i = 0; i < m; i++) {
        int64_t b = ((const int64_t *)src)[i];
        k->s[i] = b ^ ((b >> 63) & INT64_MAX);
      }
    }
  } else {
    load_i64(src, t, kind == KEY_S64, k->u, m);
  }
}

static void compare_kernel(HloCompareDir dir, HloCompareType ct, HloType t, const void *a,
                           const void *b, uint8_t *y, int64_t n) {
  if (hlo_type_is_complex(t)) { /* EQ or NE (the verifier allows no other) */
    for (int64_t i = 0; i < n; i++) {
      bool eq = t == HLO_C64 ? ((const float complex *)a)[i] == ((const float complex *)b)[i]
                             : ((const double complex *)a)[i] == ((const double complex *)b)[i];
      y[i] = dir == HLO_CMP_EQ ? eq : !eq;
    }
    return;
  }
  KeyKind kind = key_kind(t, ct);
  size_t es = hlo_type_size(t);
  for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
    int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    Keys ka, kb;
    load_keys(kind, t, (const char *)a + i0 * (int64_t)es, &ka, m);
    load_keys(kind, t, (const char *)b + i0 * (int64_t)es, &kb, m);
    uint8_t *yy = y + i0;
#define CMP_LOOPS(K)                                                          \
  switch (dir) {                                                              \
  case HLO_CMP_EQ: for (int64_t i = 0; i < m; i++) yy[i] = ka.K[i] == kb.K[i]; break; \
  case HLO_CMP_NE: for (int64_t i = 0; i < m; i++) yy[i] = ka.K[i] != kb.K[i]; break; \
  case HLO_CMP_LT: for (int64_t i = 0; i < m; i++) yy[i] = ka.K[i] < kb.K[i]; break;  \
  case HLO_CMP_LE: for (int64_t i = 0; i < m; i++) yy[i] = ka.K[i] <= kb.K[i]; break; \
  case HLO_CMP_GT: for (int64_t i = 0; i < m; i++) yy[i] = ka.K[i] > kb.K[i]; break;  \
  case HLO_CMP_GE: for (int64_t i = 0; i < m; i++) yy[i] = ka.K[i] >= kb.K[i]; break; \
  }
    switch (kind) {
    case KEY_F64: CMP_LOOPS(f) break;
    case KEY_S64: CMP_LOOPS(s) break;
    case KEY_U64: CMP_LOOPS(u) break;
    }
#undef CMP_LOOPS
  }
}

/* select(p, a, b); p may be a scalar. */
static void select_kernel(const uint8_t *p, bool p_scalar, const void *a, const void *b,
                          void *y, int64_t n, size_t esize) {
  switch (esize) {
#define SELECT_LOOP(T)                                                        \
  for (int64_t i = 0; i < n; i++)                                             \
    ((T *)y)[i] = p[p_scalar ? 0 : i] ? ((const T *)a)[i] : ((const T *)b)[i]; \
  break;
  case 1: SELECT_LOOP(uint8_t)
  case 2: SELECT_LOOP(uint16_t)
  case 4: SELECT_LOOP(uint32_t)
  case 8: SELECT_LOOP(uint64_t)
#undef SELECT_LOOP
  default: HLO_UNREACHABLE();
  }
}

/* The data of l, repeated to n elements when l is a scalar (clamp's bounds
 * may be scalars); *tmp receives what the caller must free. */
static const void *expand_scalar(const HloLiteral *l, int64_t n, void **tmp) {
  *tmp = NULL;
  if (l->shape.rank > 0 || n == 1) return l->data;
  size_t es = esize_of(l);
  char *p = hlo_xmalloc((size_t)n * es);
  for (int64_t i = 0; i < n; i++) memcpy(p + i * (int64_t)es, l->data, es);
  *tmp = p;
  return p;
}

/* Evaluates an elementwise instruction into out (allocated by the caller
 * with the instruction's shape). */
/* reduce-precision on the bits x of a float with `bits` bits, E exponent
 * and M mantissa bits, to e exponent and m mantissa bits: XLA's rule —
 * round the mantissa to nearest even, then flush what is below the
 * narrow format's normal range to signed zero and what is above it to
 * signed infinity (so denormals are not kept); NaN stays NaN unless m is
 * 0, where it becomes infinity as the bits say. */
static uint64_t reduce_precision_bits(uint64_t x, int bits, int E, int M, int64_t e,
                                      int64_t m) {
  uint64_t all = bits == 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
  uint64_t exp_mask = (((uint64_t)1 << E) - 1) << M, man_mask = ((uint64_t)1 << M) - 1;
  bool nan = (x & exp_mask) == exp_mask && (x & man_mask);
  uint64_t y = x;
  if (m < M) {
    int k = M - (int)m;
    uint64_t last = (uint64_t)1 << k;
    uint64_t bias = ((y & last) >> k) + (last >> 1) - 1;
    y = ((y + bias) & ~(last - 1)) & all;
  }
  if (e < E) {
    uint64_t sign = (uint64_t)1 << (bits - 1);
    uint64_t ebias = ((uint64_t)1 << (E - 1)) - 1, rbias = ((uint64_t)1 << (e - 1)) - 1;
    uint64_t yexp = y & exp_mask;
    if (yexp > (ebias + rbias) << M) y = (y & sign) | exp_mask;
    else if (yexp <= (ebias - rbias) << M) y = y & sign;
  }
  return m > 0 && nan ? x : y;
}

static HloError *eval_reduce_precision(const HloInstr *in, const HloLiteral *x,
                                       HloLiteral *out) {
  HloType t = x->shape.type;
  int E = t == HLO_F64 ? 11 : t == HLO_F16 ? 5 : 8;
  int M = t == HLO_F64 ? 52 : t == HLO_F32 ? 23 : t == HLO_F16 ? 10 : 7;
  int bits = (int)hlo_type_size(t) * 8;
  int64_t n = elements_of(x);
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = 0;
    memcpy(&v, (const char *)x->data + i * (bits / 8), (size_t)bits / 8);
    v = reduce_precision_bits(v, bits, E, M, in->exponent_bits, in->mantissa_bits);
    memcpy((char *)out->data + i * (bits / 8), &v, (size_t)bits / 8);
  }
  return NULL;
}

static HloError *eval_elementwise(const HloInstr *in, HloLiteral *const *ops,
                                  HloLiteral *out) {
  int64_t n = elements_of(out);
  HloType t = ops[0]->shape.type;
  switch (in->op) {
  case HLO_OP_CONVERT:
    convert_buffer(ops[0]->data, t, out->data, out->shape.type, n);
    return NULL;
  case HLO_OP_BITCAST_CONVERT:
    if ((t != HLO_PRED && hlo_type_bits(t) < 8) ||
        (out->shape.type != HLO_PRED && hlo_type_bits(out->shape.type) < 8)) {
      /* Sub-byte types: the same bits, extended as the result type keeps
       * them; packing several into a wider type is not implemented. */
      if (hlo_type_bits(t) != hlo_type_bits(out->shape.type))
        return hlo_error("bitcast-convert from %s to %s (packing sub-byte values) is not "
                         "supported", hlo_type_name(t), hlo_type_name(out->shape.type));
      int bits = hlo_type_bits(t);
      for (int64_t i = 0; i < n; i++) {
        int64_t v = ((const uint8_t *)ops[0]->data)[i] & ((1 << bits) - 1);
        ((int8_t *)out->data)[i] = (int8_t)hlo_small_int_wrap(out->shape.type, v);
      }
      return NULL;
    }
    /* A reinterpretation of the bytes; when the element sizes differ the
     * minor dimension added or removed makes the byte counts equal. */
    memcpy(out->data, ops[0]->data, hlo_shape_byte_size(&out->shape));
    return NULL;
  case HLO_OP_COPY:
    memcpy(out->data, ops[0]->data, hlo_shape_byte_size(&out->shape));
    return NULL;
  case HLO_OP_IS_FINITE:
    return is_finite_kernel(t, ops[0]->data, out->data, n) ? NULL : unsupported_type(in->op, t);
  case HLO_OP_REAL:
  case HLO_OP_IMAG:
  case HLO_OP_ABS:
    if (!hlo_type_is_complex(t)) {
      if (in->op == HLO_OP_ABS) break;
      /* of a real number: itself, and 0 */
      if (in->op == HLO_OP_REAL) memcpy(out->data, ops[0]->data, hlo_shape_byte_size(&out->shape));
      else memset(out->data, 0, hlo_shape_byte_size(&out->shape));
      return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
      double complex z = t == HLO_C64 ? ((const float complex *)ops[0]->data)[i]
                                      : ((const double complex *)ops[0]->data)[i];
      /* |z| in the part's own precision, as XLA (hypot avoids overflow) */
      double v = in->op == HLO_OP_REAL ? creal(z)
                 : in->op == HLO_OP_IMAG ? cimag(z)
                 : t == HLO_C64 ? (double)hypotf((float)creal(z), (float)cimag(z))
                                : hypot(creal(z), cimag(z));
      if (t == HLO_C64) ((float *)out->data)[i] = (float)v;
      else ((double *)out->data)[i] = v;
    }
    return NULL;
  case HLO_OP_COMPLEX:
    for (int64_t i = 0; i < n; i++) {
      if (t == HLO_F32)
        ((float complex *)out->data)[i] =
            CMPLXF(((const float *)ops[0]->data)[i], ((const float *)ops[1]->data)[i]);
      else
        ((double complex *)out->data)[i] =
            CMPLX(((const double *)ops[0]->data)[i], ((const double *)ops[1]->data)[i]);
    }
    return NULL;
  case HLO_OP_REDUCE_PRECISION:
    if (!hlo_type_is_float(t)) return unsupported_type(in->op, t);
    return eval_reduce_precision(in, ops[0], out);
  case HLO_OP_COMPARE:
    compare_kernel(in->direction, in->compare_type, t, ops[0]->data, ops[1]->data, out->data,
                   n);
    return NULL;
  case HLO_OP_SELECT:
    select_kernel(ops[0]->data, ops[0]->shape.rank == 0, ops[1]->data, ops[2]->data,
                  out->data, n, esize_of(out));
    return NULL;
  case HLO_OP_CLAMP: {
    t = ops[1]->shape.type;
    void *tlo, *thi;
    const void *lo = expand_scalar(ops[0], n, &tlo), *hi = expand_scalar(ops[2], n, &thi);
    bool ok = binary_kernel(HLO_OP_MAXIMUM, t, ops[1]->data, lo, out->data, n) &&
              binary_kernel(HLO_OP_MINIMUM, t, out->data, hi, out->data, n);
    free(tlo);
    free(thi);
    return ok ? NULL : unsupported_type(in->op, t);
  }
  default: break;
  }
  bool ok = hlo_opcode_kind(in->op) == HLO_KIND_UNARY
                ? unary_kernel(in->op, t, ops[0]->data, out->data, n)
                : binary_kernel(in->op, t, ops[0]->data, ops[1]->data, out->data, n);
  return ok ? NULL : unsupported_type(in->op, t);
}

/* ------------------------------------------------------------------------ */
/* Plans: what a computation needs to run, computed once per evaluation      */
/* ------------------------------------------------------------------------ */

typedef struct Plan {
  const HloComputation *comp;
  int n;                 /* instructions reachable from the root */
  HloInstr **instr;      /* ... in post order, the root last */
  int *opstart;          /* operand slots of instr[i]: */
  int *opidx;            /*   opidx[opstart[i] .. opstart[i + 1]) */
  int max_operands;
  int *uses;             /* distinct users in the plan; the root one more */
  bool *gte_move;        /* get-tuple-element is its tuple's only reader
                          * of that element, so it may move it out */
  int nparams;
  int *param_slot;       /* by parameter number; -1 when unused */
  /* The op of a computation (x, y) -> op(x, y) with op one of add,
   * multiply, maximum, minimum, and, or; HLO_OP_PARAMETER for (x, y) -> y;
   * HLO_NUM_OPCODES otherwise. */
  HloOpcode reducer;
  /* Every instruction is a scalar parameter, constant or elementwise op
   * (the root may be a tuple of them): runs on `scratch` without
   * allocating. */
  bool scalar;
  HloLiteral **scratch;  /* scalar plans: each instruction's value */
} Plan;

typedef struct Ev {
  Plan **plans;          /* open addressing, keyed by computation */
  size_t cap, count;
  HloEvalOptions *opts;  /* NULL: unbounded */
  const HloInstr *loop;  /* the innermost while running, or NULL */
  bool stopped;          /* the error being returned is a cancellation */
  int64_t while_runs;    /* body runs of all while loops so far */
} Ev;

static HloOpcode find_reducer(const Plan *p) {
  const HloComputation *c = p->comp;
  const HloInstr *root = c->root;
  if (c->nparams != 2 || !c->params[0] || !c->params[1]) return HLO_NUM_OPCODES;
  const HloShape *s0 = &c->params[0]->shape, *s1 = &c->params[1]->shape;
  if (s0->type != s1->type || s0->rank != 0 || s1->rank != 0 || !hlo_type_is_array(s0->type))
    return HLO_NUM_OPCODES;
  if (root == c->params[1]) return HLO_OP_PARAMETER;
  switch (root->op) {
  case HLO_OP_ADD: case HLO_OP_MULTIPLY: case HLO_OP_MAXIMUM: case HLO_OP_MINIMUM:
  case HLO_OP_AND: case HLO_OP_OR: break;
  default: return HLO_NUM_OPCODES;
  }
  bool params = (root->operands[0] == c->params[0] && root->operands[1] == c->params[1]) ||
                (root->operands[0] == c->params[1] && root->operands[1] == c->params[0]);
  return params && root->shape.type == s0->type ? root->op : HLO_NUM_OPCODES;
}

/* Whether combining with `op` on type t can use the vector kernels: op is
 * a plain binary reducer the kernels define on t (else the computation is
 * evaluated, which reports unsupported types). */
static bool vector_reducer(HloOpcode op, HloType t) {
  return op != HLO_OP_PARAMETER && op != HLO_NUM_OPCODES &&
         binary_kernel(op, t, NULL, NULL, NULL, 0);
}

static bool is_scalar_array(const HloShape *s) {
  return hlo_type_is_array(s->type) && s->rank == 0;
}

static bool plan_is_scalar(const Plan *p) {
  for (int i = 0; i < p->n; i++) {
    const HloInstr *in = p->instr[i];
    if (in->op == HLO_OP_TUPLE && i == p->n - 1) {
      for (int k = 0; k < in->noperands; k++)
        if (!is_scalar_array(&in->operands[k]->shape)) return false;
      continue;
    }
    if (!is_scalar_array(&in->shape)) return false;
    if (in->op != HLO_OP_PARAMETER && in->op != HLO_OP_CONSTANT &&
        !hlo_opcode_is_elementwise(in->op))
      return false;
    for (int k = 0; k < in->noperands; k++)
      if (!is_scalar_array(&in->operands[k]->shape)) return false;
  }
  return true;
}

static Plan *plan_build(const HloComputation *c) {
  Plan *p = hlo_xcalloc(1, sizeof *p);
  p->comp = c;
  int norder;
  HloInstr **order = hlo_post_order(c, &norder);
  int64_t max_id = 0;
  for (int k = 0; k < norder; k++)
    if (order[k]->id > max_id) max_id = order[k]->id;
  /* Reachability from the root: users come after their operands in post
   * order, so one backward sweep suffices. */
  uint8_t *reach = hlo_xcalloc((size_t)max_id + 1, 1);
  int *slot_of = hlo_xmalloc(sizeof(int) * ((size_t)max_id + 1));
  reach[c->root->id] = 1;
  for (int k = norder - 1; k >= 0; k--) {
    HloInstr *in = order[k];
    if (!reach[in->id]) continue;
    for (int j = 0; j < in->noperands; j++) reach[in->operands[j]->id] = 1;
  }
  p->instr = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(norder ? norder : 1));
  int nops = 0;
  for (int k = 0; k < norder; k++) {
    slot_of[order[k]->id] = -1;
    if (!reach[order[k]->id]) continue;
    slot_of[order[k]->id] = p->n;
    p->instr[p->n++] = order[k];
    nops += order[k]->noperands;
  }
  p->opstart = hlo_xmalloc(sizeof(int) * (size_t)(p->n + 1));
  p->opidx = hlo_xmalloc(sizeof(int) * (size_t)(nops ? nops : 1));
  p->uses = hlo_xcalloc((size_t)p->n, sizeof(int));
  p->gte_move = hlo_xcalloc((size_t)p->n, sizeof(bool));
  p->nparams = c->nparams;
  p->param_slot = hlo_xmalloc(sizeof(int) * (size_t)(c->nparams ? c->nparams : 1));
  for (int k = 0; k < c->nparams; k++) p->param_slot[k] = -1;
  int at = 0;
  for (int i = 0; i < p->n; i++) {
    HloInstr *in = p->instr[i];
    p->opstart[i] = at;
    if (in->noperands > p->max_operands) p->max_operands = in->noperands;
    for (int j = 0; j < in->noperands; j++) {
      int s = slot_of[in->operands[j]->id];
      HLO_CHECK(s >= 0 && s < i);
      p->opidx[at++] = s;
      bool repeated = false;
      for (int q = 0; q < j; q++) repeated |= in->operands[q] == in->operands[j];
      if (!repeated) p->uses[s]++;
    }
    if (in->op == HLO_OP_PARAMETER) p->param_slot[in->parameter_number] = i;
  }
  p->opstart[p->n] = at;
  p->uses[p->n - 1]++;
  for (int i = 0; i < p->n; i++) {
    HloInstr *in = p->instr[i];
    if (in->op != HLO_OP_GET_TUPLE_ELEMENT) continue;
    HloInstr *t = in->operands[0];
    bool move = t != c->root;
    for (int u = 0; u < t->nusers && move; u++) {
      HloInstr *user = t->users[u];
      if (user == in || slot_of[user->id] < 0) continue;
      move = user->op == HLO_OP_GET_TUPLE_ELEMENT && user->tuple_index != in->tuple_index;
    }
    p->gte_move[i] = move;
  }
  p->reducer = find_reducer(p);
  p->scalar = plan_is_scalar(p);
  if (p->scalar) {
    p->scratch = hlo_xcalloc((size_t)p->n, sizeof(HloLiteral *));
    for (int i = 0; i < p->n; i++) {
      HloInstr *in = p->instr[i];
      if (in->op == HLO_OP_CONSTANT) p->scratch[i] = in->literal;
      else if (in->op != HLO_OP_TUPLE) p->scratch[i] = hlo_literal_new(&in->shape);
    }
  }
  free(slot_of);
  free(reach);
  free(order);
  return p;
}

static void plan_free(Plan *p) {
  if (p->scratch)
    for (int i = 0; i < p->n; i++)
      if (p->instr[i]->op != HLO_OP_CONSTANT) hlo_literal_free(p->scratch[i]);
  free(p->scratch);
  free(p->instr);
  free(p->opstart);
  free(p->opidx);
  free(p->uses);
  free(p->gte_move);
  free(p->param_slot);
  free(p);
}

static size_t ptr_hash(const void *p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x;
}

static Plan *plan_get(Ev *ev, const HloComputation *c) {
  if ((ev->count + 1) * 2 > ev->cap) {
    size_t cap = ev->cap ? ev->cap * 2 : 64;
    Plan **plans = hlo_xcalloc(cap, sizeof *plans);
    for (size_t i = 0; i < ev->cap; i++) {
      if (!ev->plans[i]) continue;
      size_t j = ptr_hash(ev->plans[i]->comp) & (cap - 1);
      while (plans[j]) j = (j + 1) & (cap - 1);
      plans[j] = ev->plans[i];
    }
    free(ev->plans);
    ev->plans = plans;
    ev->cap = cap;
  }
  size_t j = ptr_hash(c) & (ev->cap - 1);
  for (; ev->plans[j]; j = (j + 1) & (ev->cap - 1))
    if (ev->plans[j]->comp == c) return ev->plans[j];
  ev->plans[j] = plan_build(c);
  ev->count++;
  return ev->plans[j];
}

static void ev_free(Ev *ev) {
  for (size_t i = 0; i < ev->cap; i++)
    if (ev->plans[i]) plan_free(ev->plans[i]);
  free(ev->plans);
}

/* ------------------------------------------------------------------------ */
/* Running a plan                                                           */
/* ------------------------------------------------------------------------ */

/* One value in flight.  A borrowed literal (parameter, constant, an element
 * of another slot's tuple) is not owned; a slot that others borrow from is
 * freed only when both its uses and its borrowers are gone. */
typedef struct Slot {
  HloLiteral *lit;
  int uses;       /* users not yet run */
  int borrowers;  /* live slots pointing into lit */
  int base;       /* slot this one borrows from, or -1 */
  bool owned;
} Slot;

/* Operand states an instruction sees: it may only read, or it may take the
 * operand over (it is the operand's last user and nothing borrows it). */
enum { MOV_NO, MOV_ALLOWED, MOV_TAKEN };

static HloError *eval_instr(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                            HloLiteral **out);

/* ops[k] for the caller to own: the operand itself when it may be taken,
 * else a copy. */
static HloLiteral *take_operand(HloLiteral **ops, uint8_t *mov, int k) {
  if (mov[k] == MOV_ALLOWED) {
    mov[k] = MOV_TAKEN;
    return ops[k];
  }
  return hlo_literal_clone(ops[k]);
}

static void slot_release(Slot *slots, int i) {
  Slot *s = &slots[i];
  if (s->owned && s->borrowers == 0) {
    hlo_literal_free(s->lit);
    s->lit = NULL;
    s->owned = false;
  }
  if (s->base >= 0) {
    int b = s->base;
    s->base = -1;
    if (--slots[b].borrowers == 0 && slots[b].uses == 0) slot_release(slots, b);
  }
}

/* Whether the host asked the evaluation to stop. */
static bool cancelled(const Ev *ev) {
  return ev->opts && ev->opts->cancel &&
         atomic_load_explicit(ev->opts->cancel, memory_order_relaxed);
}

/* The cancellation error at `in` (a while iteration when `iteration`). */
static HloError *stop_at(Ev *ev, const HloInstr *in, bool iteration) {
  HloStr s = {0};
  if (iteration) hlo_str_printf(&s, "while %%%s", in->name);
  else if (ev->loop) hlo_str_printf(&s, "%%%s in %%%s", in->name, ev->loop->name);
  else hlo_str_printf(&s, "%%%s", in->name);
  ev->stopped = true;
  ev->opts->stopped_at = hlo_str_take(&s);
  return hlo_error("cancelled at %s", ev->opts->stopped_at);
}

static HloError *wrap_instr(HloError *e, const HloInstr *in) {
  char *d = hlo_instr_describe(in);
  e = hlo_error_wrap(e, "%s", d);
  free(d);
  return e;
}

/* Runs plan p on args (one per parameter).  owned[k] (owned may be NULL)
 * hands args[k] over: the run frees it or passes it on.  *out receives an
 * owned literal. */
static HloError *run_plan(Ev *ev, const Plan *p, HloLiteral *const *args, const bool *owned,
                          HloLiteral **out) {
  Slot *slots = hlo_xcalloc((size_t)p->n, sizeof(Slot));
  bool *consumed = hlo_xcalloc((size_t)(p->nparams ? p->nparams : 1), sizeof(bool));
  HloLiteral **opl = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)(p->max_operands + 1));
  uint8_t *mov = hlo_xmalloc((size_t)p->max_operands + 1);
  HloError *err = NULL;
  for (int i = 0; i < p->n; i++) {
    slots[i].uses = p->uses[i];
    slots[i].base = -1;
  }
  for (int i = 0; i < p->n && !err; i++) {
    const HloInstr *in = p->instr[i];
    const int *oi = p->opidx + p->opstart[i];
    int no = p->opstart[i + 1] - p->opstart[i];
    Slot *s = &slots[i];
    switch (in->op) {
    case HLO_OP_PARAMETER: {
      int64_t k = in->parameter_number;
      s->lit = args[k];
      s->owned = owned && owned[k];
      consumed[k] = true;
      break;
    }
    case HLO_OP_CONSTANT: s->lit = in->literal; break;
    case HLO_OP_GET_TUPLE_ELEMENT: {
      Slot *t = &slots[oi[0]];
      HloLiteral **elem = &t->lit->elems[in->tuple_index];
      s->lit = *elem;
      if (p->gte_move[i] && t->owned) {
        *elem = NULL;
        s->owned = true;
      } else {
        s->base = t->owned ? oi[0] : t->base;
        if (s->base >= 0) slots[s->base].borrowers++;
      }
      break;
    }
    default:
      for (int k = 0; k < no; k++) {
        Slot *o = &slots[oi[k]];
        opl[k] = o->lit;
        bool once = true;
        for (int q = 0; q < no; q++) once &= q == k || oi[q] != oi[k];
        mov[k] = o->owned && o->uses == 1 && o->borrowers == 0 && once ? MOV_ALLOWED : MOV_NO;
      }
      if (cancelled(ev)) {
        err = stop_at(ev, in, false);
        break;
      }
      err = eval_instr(ev, in, opl, mov, &s->lit);
      for (int k = 0; k < no; k++) {
        if (mov[k] != MOV_TAKEN) continue;
        slots[oi[k]].lit = NULL;
        slots[oi[k]].owned = false;
      }
      if (err) {
        if (!ev->stopped) err = wrap_instr(err, in);
        break;
      }
      s->owned = true;
    }
    for (int k = 0; k < no && !err; k++) {
      bool first = true;
      for (int q = 0; q < k; q++) first &= oi[q] != oi[k];
      if (first && --slots[oi[k]].uses == 0) slot_release(slots, oi[k]);
    }
  }
  if (!err) {
    Slot *r = &slots[p->n - 1];
    if (r->owned) {
      *out = r->lit;
      r->lit = NULL;
      r->owned = false;
    } else {
      *out = hlo_literal_clone(r->lit);
    }
    r->uses = 0;
    slot_release(slots, p->n - 1);
  } else {
    for (int i = 0; i < p->n; i++)
      if (slots[i].owned) hlo_literal_free(slots[i].lit);
  }
  for (int k = 0; k < p->nparams; k++)
    if (owned && owned[k] && !consumed[k]) hlo_literal_free(args[k]);
  free(mov);
  free(opl);
  free(consumed);
  free(slots);
  return err;
}

/* The k-th result of a scalar plan that has run. */
static const HloLiteral *scalar_result(const Plan *p, int k) {
  int r = p->n - 1;
  if (p->instr[r]->op == HLO_OP_TUPLE) return p->scratch[p->opidx[p->opstart[r] + k]];
  return p->scratch[r];
}

/* Calls a computation on scalars: args[k] points to parameter k's value,
 * result k is written to outs[k] (args and outs may overlap: all arguments
 * are read before any result is written). */
static HloError *apply_scalar(Ev *ev, Plan *p, const void *const *args, void *const *outs,
                              int nouts) {
  const HloComputation *c = p->comp;
  if (p->scalar) {
    for (int k = 0; k < p->nparams; k++) {
      int s = p->param_slot[k];
      if (s >= 0) memcpy(p->scratch[s]->data, args[k], esize_of(p->scratch[s]));
    }
    for (int i = 0; i < p->n; i++) {
      const HloInstr *in = p->instr[i];
      if (in->op == HLO_OP_PARAMETER || in->op == HLO_OP_CONSTANT || in->op == HLO_OP_TUPLE)
        continue;
      HloLiteral *ops[3];
      for (int k = 0; k < in->noperands; k++) ops[k] = p->scratch[p->opidx[p->opstart[i] + k]];
      HloError *e = eval_elementwise(in, ops, p->scratch[i]);
      if (e) return wrap_instr(e, in);
    }
    for (int k = 0; k < nouts; k++) {
      const HloLiteral *r = scalar_result(p, k);
      memcpy(outs[k], r->data, esize_of(r));
    }
    return NULL;
  }
  HloLiteral **lits = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)(c->nparams ? c->nparams : 1));
  bool *owned = hlo_xmalloc(sizeof(bool) * (size_t)(c->nparams ? c->nparams : 1));
  for (int k = 0; k < c->nparams; k++) {
    lits[k] = hlo_literal_new(&c->params[k]->shape);
    memcpy(lits[k]->data, args[k], esize_of(lits[k]));
    owned[k] = true;
  }
  HloLiteral *res = NULL;
  HloError *e = run_plan(ev, p, lits, owned, &res);
  if (!e) {
    for (int k = 0; k < nouts; k++) {
      const HloLiteral *r = res->shape.type == HLO_TUPLE ? res->elems[k] : res;
      memcpy(outs[k], r->data, esize_of(r));
    }
    hlo_literal_free(res);
  }
  free(owned);
  free(lits);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Shape and data movement                                                  */
/* ------------------------------------------------------------------------ */

/* Steps idx through dims[0..n) in row-major order; false after the last. */
static bool odometer_next(int64_t *idx, const int64_t *dims, int n) {
  for (int d = n - 1; d >= 0; d--) {
    if (++idx[d] < dims[d]) return true;
    idx[d] = 0;
  }
  return false;
}

static bool any_zero(const int64_t *dims, int n) {
  for (int d = 0; d < n; d++)
    if (dims[d] == 0) return true;
  return false;
}

static HloLiteral *eval_iota(const HloInstr *in) {
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int64_t st[HLO_MAX_RANK], n = elements_of(r);
  row_major_strides(s->rank, s->dims, st);
  int d = (int)in->iota_dimension;
  size_t es = esize_of(r);
  for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
    int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    uint64_t w[CHUNK];
    for (int64_t i = 0; i < m; i++) w[i] = (uint64_t)((i0 + i) / st[d] % s->dims[d]);
    store_from_i64(w, m, false, (char *)r->data + i0 * (int64_t)es, s->type);
  }
  return r;
}

static HloLiteral *eval_broadcast(const HloInstr *in, const HloLiteral *x) {
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int64_t xs[HLO_MAX_RANK], ss[HLO_MAX_RANK] = {0}, ds[HLO_MAX_RANK];
  row_major_strides(x->shape.rank, x->shape.dims, xs);
  for (int k = 0; k < in->dimensions.n; k++) ss[in->dimensions.v[k]] = xs[k];
  row_major_strides(s->rank, s->dims, ds);
  copy_strided(r->data, ds, x->data, ss, s->rank, s->dims, esize_of(r));
  return r;
}

/* Reshape keeps the row-major element order. */
static HloLiteral *eval_reshape(const HloShape *s, const HloLiteral *x) {
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  memcpy(r->data, x->data, hlo_shape_byte_size(&r->shape));
  return r;
}

/* The physical (major-to-minor) order of shape s: pdims[j] is the size of
 * logical dim logical[j]. */
static void physical_dims(const HloShape *s, int *logical, int64_t *pdims) {
  for (int j = 0; j < s->rank; j++) {
    logical[j] = s->has_layout ? s->minor_to_major[s->rank - 1 - j] : j;
    pdims[j] = s->dims[logical[j]];
  }
}

/* bitcast reinterprets the physical buffer: lay the operand out under its
 * layout, then read that buffer as the result under the result's layout. */
static HloLiteral *eval_bitcast(const HloInstr *in, const HloLiteral *x) {
  const HloShape *from = &in->operands[0]->shape, *to = &in->shape;
  if (hlo_shape_has_default_layout(from) && hlo_shape_has_default_layout(to))
    return eval_reshape(to, x);
  int logical[HLO_MAX_RANK];
  int64_t pdims[HLO_MAX_RANK], ps[HLO_MAX_RANK], ls[HLO_MAX_RANK], ss[HLO_MAX_RANK];
  char *phys = hlo_xmalloc(hlo_shape_byte_size(&x->shape));
  physical_dims(from, logical, pdims);
  row_major_strides(from->rank, from->dims, ls);
  row_major_strides(from->rank, pdims, ps);
  for (int j = 0; j < from->rank; j++) ss[j] = ls[logical[j]];
  copy_strided(phys, ps, x->data, ss, from->rank, pdims, esize_of(x));
  HloLiteral *r = new_array(to->type, to->rank, to->dims);
  physical_dims(to, logical, pdims);
  row_major_strides(to->rank, pdims, ps);
  row_major_strides(to->rank, to->dims, ls);
  for (int j = 0; j < to->rank; j++) ss[logical[j]] = ps[j];
  copy_strided(r->data, ls, phys, ss, to->rank, to->dims, esize_of(r));
  free(phys);
  return r;
}

static HloLiteral *eval_transpose(const HloInstr *in, const HloLiteral *x) {
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int64_t xs[HLO_MAX_RANK], ss[HLO_MAX_RANK], ds[HLO_MAX_RANK];
  row_major_strides(x->shape.rank, x->shape.dims, xs);
  for (int i = 0; i < s->rank; i++) ss[i] = xs[in->dimensions.v[i]];
  row_major_strides(s->rank, s->dims, ds);
  copy_strided(r->data, ds, x->data, ss, s->rank, s->dims, esize_of(r));
  return r;
}

/* Copies the box of x starting at `start` (sizes s->dims, steps `step`)
 * into a new literal of shape s. */
static HloLiteral *extract_box(const HloShape *s, const HloLiteral *x, const int64_t *start,
                               const int64_t *step) {
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int64_t xs[HLO_MAX_RANK], ss[HLO_MAX_RANK], ds[HLO_MAX_RANK], off = 0;
  row_major_strides(x->shape.rank, x->shape.dims, xs);
  for (int d = 0; d < s->rank; d++) {
    off += start[d] * xs[d];
    ss[d] = xs[d] * step[d];
  }
  row_major_strides(s->rank, s->dims, ds);
  size_t es = esize_of(r);
  if (!any_zero(s->dims, s->rank))
    copy_strided(r->data, ds, (const char *)x->data + off * (int64_t)es, ss, s->rank, s->dims,
                 es);
  return r;
}

static HloLiteral *eval_slice(const HloInstr *in, const HloLiteral *x) {
  int64_t start[HLO_MAX_RANK], step[HLO_MAX_RANK];
  for (int d = 0; d < in->shape.rank; d++) {
    start[d] = in->slice[d].start;
    step[d] = in->slice[d].stride;
  }
  return extract_box(&in->shape, x, start, step);
}

/* Start indices of dynamic-slice / dynamic-update-slice: scalar operands
 * from `first` on (or one vector operand, the older form), clamped so a box
 * of `size` fits. */
static void dynamic_starts(HloLiteral *const *ops, int first, int nops, const HloShape *x,
                           const int64_t *size, int64_t *start) {
  bool vector = nops == first + 1 && ops[first]->shape.rank == 1;
  for (int d = 0; d < x->rank; d++) {
    int64_t v = vector ? hlo_literal_get_s64(ops[first], d) : scalar_s64(ops[first + d]);
    start[d] = clamp64(v, 0, x->dims[d] - size[d]);
  }
}

static HloLiteral *eval_dynamic_slice(const HloInstr *in, HloLiteral *const *ops) {
  int64_t start[HLO_MAX_RANK], step[HLO_MAX_RANK];
  for (int d = 0; d < in->shape.rank; d++) step[d] = 1;
  dynamic_starts(ops, 1, in->noperands, &ops[0]->shape, in->shape.dims, start);
  return extract_box(&in->shape, ops[0], start, step);
}

static HloLiteral *eval_dynamic_update_slice(const HloInstr *in, HloLiteral **ops,
                                             uint8_t *mov) {
  const HloLiteral *upd = ops[1];
  int64_t start[HLO_MAX_RANK], rs[HLO_MAX_RANK], us[HLO_MAX_RANK], off = 0;
  dynamic_starts(ops, 2, in->noperands, &ops[0]->shape, upd->shape.dims, start);
  HloLiteral *r = take_operand(ops, mov, 0);
  int rank = r->shape.rank;
  row_major_strides(rank, r->shape.dims, rs);
  row_major_strides(rank, upd->shape.dims, us);
  for (int d = 0; d < rank; d++) off += start[d] * rs[d];
  size_t es = esize_of(r);
  copy_strided((char *)r->data + off * (int64_t)es, rs, upd->data, us, rank, upd->shape.dims,
               es);
  return r;
}

static HloLiteral *eval_concatenate(const HloInstr *in, HloLiteral *const *ops) {
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int dim = (int)in->dimensions.v[0];
  int64_t rs[HLO_MAX_RANK], xs[HLO_MAX_RANK], off = 0;
  size_t es = esize_of(r);
  row_major_strides(s->rank, s->dims, rs);
  for (int k = 0; k < in->noperands; k++) {
    const HloLiteral *x = ops[k];
    row_major_strides(x->shape.rank, x->shape.dims, xs);
    copy_strided((char *)r->data + off * rs[dim] * (int64_t)es, rs, x->data, xs, s->rank,
                 x->shape.dims, es);
    off += x->shape.dims[dim];
  }
  return r;
}

/* Output position o of a padded dim holds operand element i when
 * o = lo + i * (interior + 1); other positions hold the padding value
 * (negative lo/hi crop). */
static HloLiteral *eval_pad(const HloInstr *in, const HloLiteral *x, const HloLiteral *value) {
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int64_t xs[HLO_MAX_RANK];
  row_major_strides(x->shape.rank, x->shape.dims, xs);
  Tables tb;
  tables_init(&tb, s->rank, s->dims);
  for (int d = 0; d < s->rank; d++) {
    const HloPadDim *p = &in->padding[d];
    for (int64_t o = 0; o < s->dims[d]; o++) {
      int64_t t = o - p->lo, i = t / (p->interior + 1);
      bool hit = t >= 0 && t % (p->interior + 1) == 0 && i < x->shape.dims[d];
      tb.t[d][o] = hit ? i * xs[d] : -1;
    }
  }
  gather_tables(r->data, x->data, esize_of(r), s->rank, s->dims, &tb, value->data);
  free(tb.buf);
  return r;
}

static HloLiteral *eval_reverse(const HloInstr *in, const HloLiteral *x) {
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int64_t xs[HLO_MAX_RANK], ds[HLO_MAX_RANK], off = 0;
  row_major_strides(s->rank, s->dims, xs);
  row_major_strides(s->rank, s->dims, ds);
  for (int k = 0; k < in->dimensions.n; k++) {
    int d = (int)in->dimensions.v[k];
    if (s->dims[d] == 0) continue;
    off += (s->dims[d] - 1) * xs[d];
    xs[d] = -xs[d];
  }
  size_t es = esize_of(r);
  if (!any_zero(s->dims, s->rank))
    copy_strided(r->data, ds, (const char *)x->data + off * (int64_t)es, xs, s->rank, s->dims,
                 es);
  return r;
}

/* ------------------------------------------------------------------------ */
/* Gather and scatter                                                       */
/* ------------------------------------------------------------------------ */

/* What gather and scatter share: the index tensor (as int64) seen as a grid
 * of index vectors.  Its "batch" dims are all dims but index_vector_dim
 * (which may equal the rank: an implicit trailing 1). */
typedef struct IndexGrid {
  int64_t *v;                 /* the indices, row-major, as int64 */
  int nb;                     /* batch dims */
  int64_t dims[HLO_MAX_RANK]; /* their sizes */
  int64_t st[HLO_MAX_RANK];   /* their strides in v */
  int pos[HLO_MAX_RANK];      /* index tensor dim -> batch dim number */
  int64_t vec_stride;         /* stride of index_vector_dim (0: implicit) */
} IndexGrid;

static void index_grid_init(IndexGrid *g, const HloLiteral *idx, int64_t ivd) {
  int rank = idx->shape.rank;
  int64_t st[HLO_MAX_RANK], n = elements_of(idx);
  row_major_strides(rank, idx->shape.dims, st);
  g->v = hlo_xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  convert_buffer(idx->data, idx->shape.type, g->v, HLO_S64, n);
  g->nb = 0;
  g->vec_stride = ivd < rank ? st[ivd] : 0;
  for (int d = 0; d < rank; d++) {
    g->pos[d] = -1;
    if (d == ivd) continue;
    g->pos[d] = g->nb;
    g->dims[g->nb] = idx->shape.dims[d];
    g->st[g->nb++] = st[d];
  }
}

/* The operand start of grid position c: index vector entries go to the
 * operand dims `map` names; batching dims take the position's coordinate
 * along their paired index dim. */
static void index_grid_start(const IndexGrid *g, const int64_t *c, const HloDims *map,
                             const HloDims *operand_batching, const HloDims *index_batching,
                             int rank, int64_t *start) {
  int64_t base = 0;
  for (int j = 0; j < g->nb; j++) base += c[j] * g->st[j];
  for (int d = 0; d < rank; d++) start[d] = 0;
  for (int k = 0; k < map->n; k++) start[map->v[k]] = g->v[base + k * g->vec_stride];
  for (int i = 0; i < operand_batching->n; i++)
    start[operand_batching->v[i]] = c[g->pos[index_batching->v[i]]];
}

static HloLiteral *eval_gather(const HloInstr *in, const HloLiteral *x, const HloLiteral *idx) {
  const HloGatherDims *gd = &in->gather;
  const HloShape *s = &in->shape;
  HloLiteral *r = new_array(s->type, s->rank, s->dims);
  int rank = x->shape.rank;
  int64_t xs[HLO_MAX_RANK], rs[HLO_MAX_RANK];
  row_major_strides(rank, x->shape.dims, xs);
  row_major_strides(s->rank, s->dims, rs);
  IndexGrid g;
  index_grid_init(&g, idx, gd->index_vector_dim);
  /* Output batch dims follow the grid's; offset dims follow the operand
   * dims that are neither collapsed nor batching, in order. */
  int64_t bst[HLO_MAX_RANK], wdims[HLO_MAX_RANK], wds[HLO_MAX_RANK], wss[HLO_MAX_RANK];
  int nbo = 0, nw = 0;
  for (int d = 0; d < s->rank; d++)
    if (!dims_contain(&gd->offset_dims, d)) bst[nbo++] = rs[d];
  for (int d = 0; d < rank; d++) {
    if (dims_contain(&gd->collapsed_slice_dims, d) || dims_contain(&gd->operand_batching_dims, d))
      continue;
    wdims[nw] = gd->slice_sizes.v[d];
    wds[nw] = rs[gd->offset_dims.v[nw]];
    wss[nw++] = xs[d];
  }
  size_t es = esize_of(r);
  int64_t c[HLO_MAX_RANK] = {0}, start[HLO_MAX_RANK];
  if (!any_zero(g.dims, g.nb) && !any_zero(s->dims, s->rank)) {
    do {
      index_grid_start(&g, c, &gd->start_index_map, &gd->operand_batching_dims,
                       &gd->start_indices_batching_dims, rank, start);
      int64_t soff = 0, doff = 0;
      for (int d = 0; d < rank; d++) {
        start[d] = clamp64(start[d], 0, x->shape.dims[d] - gd->slice_sizes.v[d]);
        soff += start[d] * xs[d];
      }
      for (int j = 0; j < g.nb; j++) doff += c[j] * bst[j];
      copy_strided((char *)r->data + doff * (int64_t)es, wds,
                   (const char *)x->data + soff * (int64_t)es, wss, nw, wdims, es);
    } while (odometer_next(c, g.dims, g.nb));
  }
  free(g.v);
  return r;
}

static HloError *eval_scatter(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                              HloLiteral **out) {
  const HloScatterDims *sd = &in->scatter;
  int n = (in->noperands - 1) / 2;
  const HloLiteral *idx = ops[n];
  HloLiteral *const *upd = ops + n + 1;
  Plan *p = plan_get(ev, in->called[0]);
  HloLiteral **res = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)n);
  for (int k = 0; k < n; k++) res[k] = take_operand(ops, mov, k);
  HloOpcode fast = HLO_NUM_OPCODES;
  if (n == 1 && (p->reducer == HLO_OP_PARAMETER ||
                 vector_reducer(p->reducer, res[0]->shape.type)))
    fast = p->reducer;
  const HloShape *xshape = &res[0]->shape, *ushape = &upd[0]->shape;
  int rank = xshape->rank;
  int64_t xs[HLO_MAX_RANK], us[HLO_MAX_RANK];
  row_major_strides(rank, xshape->dims, xs);
  row_major_strides(ushape->rank, ushape->dims, us);
  IndexGrid g;
  index_grid_init(&g, idx, sd->index_vector_dim);
  /* Update scatter dims follow the grid's; update window dims follow the
   * operand dims that are neither inserted nor batching, in order. */
  int64_t bst[HLO_MAX_RANK], wdims[HLO_MAX_RANK], wxs[HLO_MAX_RANK], wus[HLO_MAX_RANK];
  int64_t wsize[HLO_MAX_RANK], wrow[HLO_MAX_RANK];
  int nbu = 0, nw = 0;
  for (int d = 0; d < ushape->rank; d++)
    if (!dims_contain(&sd->update_window_dims, d)) bst[nbu++] = us[d];
  for (int d = 0; d < rank; d++) {
    wsize[d] = 1;
    if (dims_contain(&sd->inserted_window_dims, d) || dims_contain(&sd->input_batching_dims, d))
      continue;
    int64_t ud = sd->update_window_dims.v[nw];
    wsize[d] = wdims[nw] = ushape->dims[ud];
    wus[nw] = us[ud];
    wxs[nw++] = xs[d];
  }
  row_major_strides(nw, wdims, wrow);
  int64_t wn = 1;
  for (int j = 0; j < nw; j++) wn *= wdims[j];
  char **cur = hlo_xmalloc(sizeof(char *) * (size_t)n), **new = hlo_xmalloc(sizeof(char *) * (size_t)n);
  const void **args = hlo_xmalloc(sizeof(void *) * (size_t)(2 * n));
  void **outs = hlo_xmalloc(sizeof(void *) * (size_t)n);
  for (int k = 0; k < n; k++) {
    cur[k] = hlo_xmalloc((size_t)wn * esize_of(res[k]));
    new[k] = hlo_xmalloc((size_t)wn * esize_of(res[k]));
  }
  HloError *err = NULL;
  int64_t c[HLO_MAX_RANK] = {0}, start[HLO_MAX_RANK];
  bool empty = any_zero(g.dims, g.nb) || wn == 0;
  while (!empty && !err) {
    index_grid_start(&g, c, &sd->scatter_dims_to_operand_dims, &sd->input_batching_dims,
                     &sd->scatter_indices_batching_dims, rank, start);
    /* A window that does not fit entirely is skipped (XLA). */
    bool inside = true;
    int64_t xoff = 0, uoff = 0;
    for (int d = 0; d < rank; d++) {
      inside &= start[d] >= 0 && start[d] <= xshape->dims[d] - wsize[d];
      xoff += start[d] * xs[d];
    }
    for (int j = 0; j < g.nb; j++) uoff += c[j] * bst[j];
    if (inside) {
      for (int k = 0; k < n; k++) {
        size_t es = esize_of(res[k]);
        char *xp = (char *)res[k]->data + xoff * (int64_t)es;
        copy_strided(cur[k], wrow, xp, wxs, nw, wdims, es);
        copy_strided(new[k], wrow, (const char *)upd[k]->data + uoff * (int64_t)es, wus, nw,
                     wdims, es);
      }
      if (fast == HLO_OP_PARAMETER) {
        memcpy(cur[0], new[0], (size_t)wn * esize_of(res[0]));
      } else if (fast != HLO_NUM_OPCODES) {
        binary_kernel(fast, res[0]->shape.type, cur[0], new[0], cur[0], wn);
      } else {
        for (int64_t e = 0; e < wn && !err; e++) {
          for (int k = 0; k < n; k++) {
            int64_t off = e * (int64_t)esize_of(res[k]);
            args[k] = outs[k] = cur[k] + off;
            args[n + k] = new[k] + off;
          }
          err = apply_scalar(ev, p, args, outs, n);
        }
      }
      for (int k = 0; k < n; k++) {
        size_t es = esize_of(res[k]);
        copy_strided((char *)res[k]->data + xoff * (int64_t)es, wxs, cur[k], wrow, nw, wdims,
                     es);
      }
    }
    if (!odometer_next(c, g.dims, g.nb)) break;
  }
  for (int k = 0; k < n; k++) {
    free(cur[k]);
    free(new[k]);
  }
  free(cur);
  free(new);
  free(args);
  free(outs);
  free(g.v);
  if (err) {
    for (int k = 0; k < n; k++) hlo_literal_free(res[k]);
  } else {
    *out = n == 1 ? res[0] : hlo_literal_tuple(res, n);
  }
  free(res);
  return err;
}

/* ------------------------------------------------------------------------ */
/* Reductions and sort                                                      */
/* ------------------------------------------------------------------------ */

static bool fold_supported(HloOpcode op, HloType t) {
  return (t == HLO_F32 || t == HLO_F64 || t == HLO_F16 || t == HLO_BF16) &&
         (op == HLO_OP_ADD || op == HLO_OP_MULTIPLY || op == HLO_OP_MAXIMUM ||
          op == HLO_OP_MINIMUM);
}

/* bf16 <-> f32 as hlo_bf16_to_f32 and hlo_f32_to_bf16 (round to nearest
 * even, NaN kept quiet), inline: a bf16 fold makes one of each per
 * element. */
static inline float bf16_value(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline uint16_t bf16_round(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

/* fold_kernel for f16 and bf16: each step as binary_kernel computes it,
 * in f32 and rounded to the type, without a call and two conversions of
 * whole chunks per element. */
static void fold_half(HloOpcode op, HloType t, void *acc, const void *x, int64_t n,
                      int64_t stride) {
  const uint16_t *v = x;
  uint16_t a = *(uint16_t *)acc;
#define FOLD_HALF(TO_F32, FROM_F32)                                           \
  for (int64_t i = 0; i < n; i++) {                                           \
    float p = TO_F32(a), q = TO_F32(v[i * stride]), r;                        \
    switch (op) {                                                             \
    case HLO_OP_ADD: r = p + q; break;                                        \
    case HLO_OP_MULTIPLY: r = p * q; break;                                   \
    case HLO_OP_MAXIMUM: r = isnan(p) ? p : isnan(q) ? q : p < q ? q : p; break; \
    case HLO_OP_MINIMUM: r = isnan(p) ? p : isnan(q) ? q : q < p ? q : p; break; \
    default: HLO_UNREACHABLE();                                               \
    }                                                                         \
    a = FROM_F32(r);                                                          \
  }
  if (t == HLO_BF16) FOLD_HALF(bf16_value, bf16_round)
  else FOLD_HALF(hlo_f16_to_f32, hlo_f32_to_f16)
#undef FOLD_HALF
  *(uint16_t *)acc = a;
}

/* acc = op(...op(op(acc, x[0]), x[stride])..., x[(n-1)*stride]) for what
 * fold_supported accepts: reductions to few outputs would otherwise make one
 * kernel call per element. */
static void fold_kernel(HloOpcode op, HloType t, void *acc, const void *x, int64_t n,
                        int64_t stride) {
#define FOLD(T)                                                               \
  {                                                                           \
    T a = *(T *)acc;                                                          \
    const T *v = x;                                                           \
    switch (op) {                                                             \
    case HLO_OP_ADD: for (int64_t i = 0; i < n; i++) a = a + v[i * stride]; break; \
    case HLO_OP_MULTIPLY: for (int64_t i = 0; i < n; i++) a = a * v[i * stride]; break; \
    case HLO_OP_MAXIMUM:                                                      \
      for (int64_t i = 0; i < n; i++) {                                       \
        T b = v[i * stride];                                                  \
        a = isnan(a) ? a : isnan(b) ? b : a < b ? b : a;                      \
      }                                                                       \
      break;                                                                  \
    case HLO_OP_MINIMUM:                                                      \
      for (int64_t i = 0; i < n; i++) {                                       \
        T b = v[i * stride];                                                  \
        a = isnan(a) ? a : isnan(b) ? b : b < a ? b : a;                      \
      }                                                                       \
      break;                                                                  \
    default: HLO_UNREACHABLE();                                               \
    }                                                                         \
    *(T *)acc = a;                                                            \
  }
  if (t == HLO_F16 || t == HLO_BF16) fold_half(op, t, acc, x, n, stride);
  else if (t == HLO_F32) FOLD(float)
  else FOLD(double)
#undef FOLD
}

static HloLiteral *result_part(HloLiteral *res, int k) {
  return res->shape.type == HLO_TUPLE ? res->elems[k] : res;
}

/* reduce: each input is first arranged as [reduced dims..., kept dims...],
 * so reduction step r combines one contiguous row of Kn values into the Kn
 * accumulators, in the row-major order of the reduced dims. */
/* map: the scalar computation on each index's operand elements. */
static HloError *eval_map(Ev *ev, const HloInstr *in, HloLiteral *const *ops, HloLiteral **out) {
  Plan *p = plan_get(ev, in->called[0]);
  int n = in->noperands;
  HloLiteral *res = hlo_literal_new(&in->shape);
  const void **args = hlo_xmalloc(sizeof(void *) * (size_t)n);
  int64_t count = elements_of(res);
  size_t es = esize_of(res);
  HloError *e = NULL;
  for (int64_t i = 0; i < count && !e; i++) {
    for (int k = 0; k < n; k++) args[k] = (const char *)ops[k]->data + i * (int64_t)esize_of(ops[k]);
    void *o = (char *)res->data + i * (int64_t)es;
    e = apply_scalar(ev, p, args, &o, 1);
  }
  free(args);
  if (e) {
    hlo_literal_free(res);
    return e;
  }
  *out = res;
  return NULL;
}

static HloError *eval_reduce(Ev *ev, const HloInstr *in, HloLiteral *const *ops,
                             HloLiteral **out) {
  int n = in->noperands / 2, rank = ops[0]->shape.rank;
  const int64_t *dims = ops[0]->shape.dims;
  Plan *p = plan_get(ev, in->called[0]);
  int order[HLO_MAX_RANK], nr = 0;
  int64_t box[HLO_MAX_RANK], xs[HLO_MAX_RANK], ss[HLO_MAX_RANK], bs[HLO_MAX_RANK];
  int64_t rn = 1, kn = 1;
  for (int d = 0; d < rank; d++)
    if (dims_contain(&in->dimensions, d)) order[nr++] = d;
  for (int d = 0, j = nr; d < rank; d++)
    if (!dims_contain(&in->dimensions, d)) order[j++] = d;
  bool in_place = true;
  row_major_strides(rank, dims, xs);
  for (int j = 0; j < rank; j++) {
    box[j] = dims[order[j]];
    ss[j] = xs[order[j]];
    in_place &= order[j] == j;
    if (j < nr) rn *= box[j];
    else kn *= box[j];
  }
  row_major_strides(rank, box, bs);
  HloLiteral *res = hlo_literal_new(&in->shape);
  const char **x = hlo_xmalloc(sizeof(char *) * (size_t)n);
  char **acc = hlo_xmalloc(sizeof(char *) * (size_t)n);
  char **tmp = hlo_xcalloc((size_t)n, sizeof(char *));
  for (int k = 0; k < n; k++) {
    size_t es = esize_of(ops[k]);
    x[k] = ops[k]->data;
    if (!in_place && rn * kn > 0) {
      tmp[k] = hlo_xmalloc((size_t)(rn * kn) * es);
      copy_strided(tmp[k], bs, ops[k]->data, ss, rank, box, es);
      x[k] = tmp[k];
    }
    acc[k] = result_part(res, k)->data;
    size_t as = esize_of(result_part(res, k));
    for (int64_t i = 0; i < kn; i++) memcpy(acc[k] + i * (int64_t)as, ops[n + k]->data, as);
  }
  HloError *err = NULL;
  HloType t = ops[0]->shape.type;
  if (n == 1 && res->shape.type == t && vector_reducer(p->reducer, t)) {
    size_t es = hlo_type_size(t);
    if (kn < 16 && fold_supported(p->reducer, t)) {
      for (int64_t i = 0; i < kn; i++)
        fold_kernel(p->reducer, t, acc[0] + i * (int64_t)es, x[0] + i * (int64_t)es, rn, kn);
    } else {
      for (int64_t r = 0; r < rn; r++)
        binary_kernel(p->reducer, t, acc[0], x[0] + r * kn * (int64_t)es, acc[0], kn);
    }
  } else {
    const void **args = hlo_xmalloc(sizeof(void *) * (size_t)(2 * n));
    void **outs = hlo_xmalloc(sizeof(void *) * (size_t)n);
    for (int64_t r = 0; r < rn && !err; r++) {
      for (int64_t i = 0; i < kn && !err; i++) {
        for (int k = 0; k < n; k++) {
          args[k] = outs[k] = acc[k] + i * (int64_t)esize_of(result_part(res, k));
          args[n + k] = x[k] + (r * kn + i) * (int64_t)esize_of(ops[k]);
        }
        err = apply_scalar(ev, p, args, outs, n);
      }
    }
    free(args);
    free(outs);
  }
  for (int k = 0; k < n; k++) free(tmp[k]);
  free(tmp);
  free(x);
  free(acc);
  if (err) hlo_literal_free(res);
  else *out = res;
  return err;
}

/* Where one output position's window reads its input along one dimension:
 * `count` elements from offset `start`, `step` apart (offsets and steps in
 * elements of the input).  Window positions that fall in padding or in a
 * base-dilation hole are left out, as XLA's backends leave them out. */
typedef struct WindowRun {
  int64_t start, step, count;
} WindowRun;

static int64_t gcd64(int64_t a, int64_t b) {
  while (b) {
    int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Window offset w of output o reads dilated position
 * o * stride - pad_lo + w * rhs_dilate, an input element when that is >= 0,
 * a multiple of lhs_dilate and below the dilated end.  The hits form an
 * arithmetic progression in w: the first lies within lhs_dilate offsets of
 * the first non-negative position, and they repeat every
 * lhs_dilate / gcd(rhs_dilate, lhs_dilate) offsets. */
static WindowRun window_run(const HloWindowDim *wd, int64_t o, int64_t xdim, int64_t xstride) {
  WindowRun r = {0, 0, 0};
  int64_t ld = wd->lhs_dilate, rd = wd->rhs_dilate;
  int64_t base = o * wd->stride - wd->pad_lo;
  int64_t w = base >= 0 ? 0 : (-base + rd - 1) / rd;
  int64_t wend = w + ld < wd->size ? w + ld : wd->size;
  while (w < wend && (base + w * rd) % ld != 0) w++;
  if (w >= wend) return r;
  int64_t i0 = (base + w * rd) / ld;
  if (i0 >= xdim) return r;
  int64_t ws = ld / gcd64(rd, ld), istep = ws * rd / ld;
  int64_t nw = (wd->size - w + ws - 1) / ws, ni = (xdim - i0 + istep - 1) / istep;
  r.count = nw < ni ? nw : ni;
  r.start = i0 * xstride;
  r.step = istep * xstride;
  return r;
}

/* The vector reducer of each of the n operands when `p` combines them
 * independently, (x0..xn-1, y0..yn-1) -> tuple(op0(x0, y0), ...); false
 * otherwise. */
static bool split_reducers(const Plan *p, int n, HloOpcode *ops) {
  const HloComputation *c = p->comp;
  const HloInstr *root = c->root;
  if (c->nparams != 2 * n || root->op != HLO_OP_TUPLE || root->noperands != n) return false;
  for (int k = 0; k < n; k++) {
    const HloInstr *x = c->params[k], *y = c->params[n + k], *r = root->operands[k];
    if (!x || !y || !is_scalar_array(&x->shape) || x->shape.type != y->shape.type ||
        r->shape.type != x->shape.type || !is_scalar_array(&r->shape) || r->noperands != 2)
      return false;
    switch (r->op) {
    case HLO_OP_ADD: case HLO_OP_MULTIPLY: case HLO_OP_MAXIMUM: case HLO_OP_MINIMUM:
    case HLO_OP_AND: case HLO_OP_OR: break;
    default: return false;
    }
    if (!((r->operands[0] == x && r->operands[1] == y) ||
          (r->operands[0] == y && r->operands[1] == x)))
      return false;
    ops[k] = r->op;
  }
  return true;
}

/* reduce-window: each output position folds the input elements its window
 * covers into its accumulators, directly (O(window) per output, whatever
 * the padding), in the row-major order of the window's offsets.  Operands
 * that a plain binary op combines fold a strided row at a time; other
 * computations are applied element by element. */
static HloError *eval_reduce_window(Ev *ev, const HloInstr *in, HloLiteral *const *ops,
                                    HloLiteral **out) {
  int n = in->noperands / 2, rank = ops[0]->shape.rank, last = rank - 1;
  const int64_t *xdims = ops[0]->shape.dims;
  Plan *p = plan_get(ev, in->called[0]);
  HloLiteral *res = hlo_literal_new(&in->shape);
  const int64_t *odims = result_part(res, 0)->shape.dims;
  int64_t on = elements_of(result_part(res, 0));
  int64_t xs[HLO_MAX_RANK];
  row_major_strides(rank, xdims, xs);
  char **acc = hlo_xmalloc(sizeof(char *) * (size_t)n);
  size_t *as = hlo_xmalloc(sizeof(size_t) * (size_t)n), *es = hlo_xmalloc(sizeof(size_t) * (size_t)n);
  HloOpcode *fast = hlo_xmalloc(sizeof(HloOpcode) * (size_t)n);
  bool vec = n == 1 ? (fast[0] = p->reducer, true) : split_reducers(p, n, fast);
  for (int k = 0; k < n; k++) {
    HloType t = ops[k]->shape.type;
    as[k] = esize_of(result_part(res, k));
    es[k] = esize_of(ops[k]);
    acc[k] = result_part(res, k)->data;
    for (int64_t i = 0; i < on; i++) memcpy(acc[k] + i * (int64_t)as[k], ops[n + k]->data, as[k]);
    vec &= result_part(res, k)->shape.type == t && vector_reducer(fast[k], t);
  }
  int64_t total = 0;
  for (int d = 0; d < rank; d++) total += odims[d];
  WindowRun *buf = hlo_xmalloc(sizeof(WindowRun) * (size_t)(total ? total : 1)), *runs[HLO_MAX_RANK];
  int64_t off = 0;
  for (int d = 0; d < rank; off += odims[d], d++) {
    runs[d] = buf + off;
    for (int64_t o = 0; o < odims[d]; o++) runs[d][o] = window_run(&in->window[d], o, xdims[d], xs[d]);
  }
  const void **args = hlo_xmalloc(sizeof(void *) * (size_t)(2 * n));
  void **outs = hlo_xmalloc(sizeof(void *) * (size_t)n);
  HloError *err = NULL;
  int64_t oi[HLO_MAX_RANK] = {0};
  for (int64_t e = 0; e < on && !err; e++, odometer_next(oi, odims, rank)) {
    WindowRun r[HLO_MAX_RANK] = {{0}};
    int64_t wi[HLO_MAX_RANK] = {0}, wc[HLO_MAX_RANK];
    bool empty = false;
    for (int d = 0; d < rank; d++) {
      r[d] = runs[d][oi[d]];
      wc[d] = r[d].count;
      empty |= r[d].count == 0;
    }
    if (empty) continue;
    /* A rank-0 window is one element. */
    int64_t cnt = rank ? r[last].count : 1, step = rank ? r[last].step : 0;
    do {
      int64_t base = rank ? r[last].start : 0;
      for (int d = 0; d < last; d++) base += r[d].start + wi[d] * r[d].step;
      for (int k = 0; k < n && vec; k++) {
        HloType t = ops[k]->shape.type;
        char *a = acc[k] + e * (int64_t)as[k];
        const char *x = (const char *)ops[k]->data + base * (int64_t)es[k];
        if (fold_supported(fast[k], t)) fold_kernel(fast[k], t, a, x, cnt, step);
        else
          for (int64_t j = 0; j < cnt; j++)
            binary_kernel(fast[k], t, a, x + j * step * (int64_t)es[k], a, 1);
      }
      for (int64_t j = 0; j < cnt && !vec && !err; j++) {
        for (int k = 0; k < n; k++) {
          args[k] = outs[k] = acc[k] + e * (int64_t)as[k];
          args[n + k] = (const char *)ops[k]->data + (base + j * step) * (int64_t)es[k];
        }
        err = apply_scalar(ev, p, args, outs, n);
      }
    } while (!err && last > 0 && odometer_next(wi, wc, last));
  }
  free(buf);
  free(acc);
  free(as);
  free(es);
  free(fast);
  free(args);
  free(outs);
  if (err) hlo_literal_free(res);
  else *out = res;
  return err;
}

/* select-and-scatter(x, source, init): the result starts as init
 * everywhere; for each source element, in row-major order, the window it
 * is the output of is walked in the row-major order of its offsets (those
 * in padding skipped, as reduce-window's), the first element selected and
 * replaced by each later one e for which select(selected, e) is false
 * (first wins under a GE select); then result[selected] =
 * scatter(result[selected], source element).  A window of padding only
 * scatters nothing.  This is XLA's SelectAndScatterExpander on CPU, and
 * StableHLO's definition: XLA's HloEvaluator passes scatter its operands
 * the other way round, (source, result), which differs for a scatter
 * that is not commutative. */
static HloError *eval_select_and_scatter(Ev *ev, const HloInstr *in, HloLiteral *const *ops,
                                         HloLiteral **out) {
  const HloLiteral *x = ops[0], *src = ops[1];
  int rank = x->shape.rank;
  size_t es = esize_of(x);
  Plan *sel = plan_get(ev, in->called[0]), *sc = plan_get(ev, in->called[1]);
  HloLiteral *res = hlo_literal_new(&x->shape);
  int64_t n = elements_of(res), sn = elements_of(src);
  for (int64_t i = 0; i < n; i++) memcpy((char *)res->data + i * (int64_t)es, ops[2]->data, es);
  int64_t xs[HLO_MAX_RANK], si[HLO_MAX_RANK] = {0};
  row_major_strides(rank, x->shape.dims, xs);
  HloError *err = NULL;
  char pred[16];
  for (int64_t s = 0; s < sn && !err; s++, odometer_next(si, src->shape.dims, rank)) {
    WindowRun r[HLO_MAX_RANK];
    int64_t wi[HLO_MAX_RANK] = {0}, wc[HLO_MAX_RANK];
    bool empty = false;
    for (int d = 0; d < rank; d++) {
      r[d] = window_run(&in->window[d], si[d], x->shape.dims[d], xs[d]);
      wc[d] = r[d].count;
      empty |= r[d].count == 0;
    }
    if (empty) continue;
    /* Offsets into x, in elements; a rank-0 window is its one element. */
    int64_t chosen = -1;
    do {
      int64_t at = 0;
      for (int d = 0; d < rank; d++) at += r[d].start + wi[d] * r[d].step;
      if (chosen >= 0) {
        const void *args[2] = {(const char *)x->data + chosen * (int64_t)es,
                               (const char *)x->data + at * (int64_t)es};
        void *outs[1] = {pred};
        memset(pred, 0, sizeof pred);
        if ((err = apply_scalar(ev, sel, args, outs, 1))) break;
        if (!pred[0]) chosen = at;
      } else {
        chosen = at;
      }
    } while (rank > 0 && odometer_next(wi, wc, rank));
    if (err) break;
    char *acc = (char *)res->data + chosen * (int64_t)es;
    const void *args[2] = {acc, (const char *)src->data + s * (int64_t)es};
    void *outs[1] = {acc};
    err = apply_scalar(ev, sc, args, outs, 1);
  }
  if (err) hlo_literal_free(res);
  else *out = res;
  return err;
}

/* Sort state: the current row of every operand and the comparator. */
typedef struct SortRow {
  Ev *ev;
  Plan *cmp;
  int n;
  char **row;
  size_t *es;
  const void **args;
} SortRow;

static HloError *sort_less(SortRow *s, int64_t a, int64_t b, bool *less) {
  for (int k = 0; k < s->n; k++) {
    s->args[2 * k] = s->row[k] + a * (int64_t)s->es[k];
    s->args[2 * k + 1] = s->row[k] + b * (int64_t)s->es[k];
  }
  uint8_t r = 0;
  void *outs[1] = {&r};
  HloError *e = apply_scalar(s->ev, s->cmp, s->args, outs, 1);
  *less = r != 0;
  return e;
}

/* Bottom-up merge sort of the permutation perm[0..len): stable, so it serves
 * is_stable and plain sorts alike.  The result is left in perm. */
static HloError *merge_sort(SortRow *s, int64_t *perm, int64_t *tmp, int64_t len) {
  int64_t *src = perm, *dst = tmp;
  for (int64_t width = 1; width < len; width *= 2) {
    for (int64_t lo = 0; lo < len; lo += 2 * width) {
      int64_t mid = lo + width < len ? lo + width : len;
      int64_t hi = lo + 2 * width < len ? lo + 2 * width : len;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        bool less;
        HloError *e = sort_less(s, src[j], src[i], &less);
        if (e) return e;
        dst[k++] = less ? src[j++] : src[i++];
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    int64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != perm) memcpy(perm, src, sizeof(int64_t) * (size_t)len);
  return NULL;
}

static HloError *eval_sort(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                           HloLiteral **out) {
  int n = in->noperands, rank = ops[0]->shape.rank;
  int d = (int)in->dimensions.v[0];
  HloLiteral **res = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)n);
  for (int k = 0; k < n; k++) res[k] = take_operand(ops, mov, k);
  const int64_t *dims = res[0]->shape.dims;
  int64_t len = dims[d], xs[HLO_MAX_RANK], outer[HLO_MAX_RANK], c[HLO_MAX_RANK] = {0};
  row_major_strides(rank, dims, xs);
  int no = 0;
  int64_t ost[HLO_MAX_RANK];
  for (int j = 0; j < rank; j++) {
    if (j == d) continue;
    outer[no] = dims[j];
    ost[no++] = xs[j];
  }
  SortRow s = {ev, plan_get(ev, in->called[0]), n, hlo_xmalloc(sizeof(char *) * (size_t)n),
               hlo_xmalloc(sizeof(size_t) * (size_t)n), hlo_xmalloc(sizeof(void *) * (size_t)(2 * n))};
  char **sorted = hlo_xmalloc(sizeof(char *) * (size_t)n);
  for (int k = 0; k < n; k++) {
    s.es[k] = esize_of(res[k]);
    s.row[k] = hlo_xmalloc((size_t)len * s.es[k]);
    sorted[k] = hlo_xmalloc((size_t)len * s.es[k]);
  }
  int64_t *perm = hlo_xmalloc(sizeof(int64_t) * (size_t)(len ? len : 1));
  int64_t *tmp = hlo_xmalloc(sizeof(int64_t) * (size_t)(len ? len : 1));
  int64_t one = 1, stride = rank ? xs[d] : 1;
  HloError *err = NULL;
  bool more = len > 1 && !any_zero(outer, no);
  while (more && !err) {
    int64_t base = 0;
    for (int j = 0; j < no; j++) base += c[j] * ost[j];
    for (int k = 0; k < n; k++)
      copy_strided(s.row[k], &one, (char *)res[k]->data + base * (int64_t)s.es[k], &stride, 1,
                   &len, s.es[k]);
    for (int64_t i = 0; i < len; i++) perm[i] = i;
    err = merge_sort(&s, perm, tmp, len);
    for (int k = 0; k < n && !err; k++) {
      for (int64_t i = 0; i < len; i++)
        memcpy(sorted[k] + i * (int64_t)s.es[k], s.row[k] + perm[i] * (int64_t)s.es[k], s.es[k]);
      copy_strided((char *)res[k]->data + base * (int64_t)s.es[k], &stride, sorted[k], &one, 1,
                   &len, s.es[k]);
    }
    more = odometer_next(c, outer, no);
  }
  for (int k = 0; k < n; k++) {
    free(s.row[k]);
    free(sorted[k]);
  }
  free(sorted);
  free(s.row);
  free(s.es);
  free(s.args);
  free(perm);
  free(tmp);
  if (err) {
    for (int k = 0; k < n; k++) hlo_literal_free(res[k]);
  } else {
    *out = in->shape.type == HLO_TUPLE ? hlo_literal_tuple(res, n) : res[0];
  }
  free(res);
  return err;
}

/* topk: each row along the last dimension ordered as XLA's decomposition
 * orders it — a stable sort comparing in total order (for floats -NaN <
 * -inf < … < -0 < +0 < … < +inf < +NaN), greatest first when largest —
 * and its first k elements with their indices. */
typedef struct TopkKey {
  int64_t key; /* total-order key: greater value, greater key */
  int64_t index;
} TopkKey;

static int topk_cmp_desc(const void *pa, const void *pb) {
  const TopkKey *a = pa, *b = pb;
  if (a->key != b->key) return a->key > b->key ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static int topk_cmp_asc(const void *pa, const void *pb) {
  const TopkKey *a = pa, *b = pb;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static int64_t topk_key(const HloLiteral *x, int64_t i) {
  HloType t = x->shape.type;
  if (hlo_type_is_float(t)) {
    double v = hlo_literal_get_f64(x, i);
    int64_t b;
    memcpy(&b, &v, sizeof b);
    return b < 0 ? b ^ INT64_MAX : b;
  }
  if (t == HLO_U64) return (int64_t)(((const uint64_t *)x->data)[i] ^ ((uint64_t)1 << 63));
  return hlo_literal_get_s64(x, i);
}

static HloLiteral *eval_topk(const HloInstr *in, const HloLiteral *x, int64_t k, bool largest) {
  HloLiteral *vals = hlo_literal_new(&in->shape.tuple[0]);
  HloLiteral *idxs = hlo_literal_new(&in->shape.tuple[1]);
  int64_t len = x->shape.dims[x->shape.rank - 1];
  int64_t rows = len ? elements_of(x) / len : 0;
  size_t es = esize_of(x);
  TopkKey *row = hlo_xmalloc(sizeof *row * (size_t)(len ? len : 1));
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t i = 0; i < len; i++) row[i] = (TopkKey){topk_key(x, r * len + i), i};
    qsort(row, (size_t)len, sizeof *row, largest ? topk_cmp_desc : topk_cmp_asc);
    for (int64_t i = 0; i < k; i++) {
      memcpy((char *)vals->data + (r * k + i) * (int64_t)es,
             (const char *)x->data + (r * len + row[i].index) * (int64_t)es, es);
      ((int32_t *)idxs->data)[r * k + i] = (int32_t)row[i].index;
    }
  }
  free(row);
  HloLiteral *both[2] = {vals, idxs};
  return hlo_literal_tuple(both, 2);
}

/* rng-bit-generator, as XLA's RngBitGeneratorExpander lowers it (prng.cc):
 * state[0] is the key, the rest the counter.  rng_three_fry: ThreeFry2x32
 * (20 rounds) of counter + i; 64-bit bits are x0 | x1 << 32 per element;
 * 32-bit ones split the shape in halves on its first even dimension (else
 * its largest; a scalar as [1]) and interleave x0 and x1 along it; the
 * counter advances by the inputs drawn.  rng_philox and rng_default (on
 * CPU XLA expands the default as Philox): Philox4x32-10 of the 128-bit
 * counter + i (u64[3]: state[1] low, state[2] high; u64[2]: XLA reverses
 * the state, so state[1] is the low half and the key the high one, and
 * only the low half is returned), element
 * 4i + j is output word j (64-bit: words 2k, 2k+1 low first); the counter
 * advances by ceil(32-bit words / 4). */
static void threefry2x32(uint32_t key0, uint32_t key1, uint32_t *x0, uint32_t *x1) {
  static const int rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  uint32_t ks[3] = {key0, key1, 0x1BD11BDAu ^ key0 ^ key1};
  uint32_t a = *x0 + ks[0], b = *x1 + ks[1];
  for (int g = 0; g < 5; g++) {
    for (int i = 0; i < 4; i++) {
      int r = rot[(g & 1) * 4 + i];
      a += b;
      b = (b << r) | (b >> (32 - r));
      b ^= a;
    }
    a += ks[(g + 1) % 3];
    b += ks[(g + 2) % 3] + (uint32_t)(g + 1);
  }
  *x0 = a;
  *x1 = b;
}

static void philox4x32(uint32_t k0, uint32_t k1, uint32_t x[4]) {
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)x[0] * 0xD2511F53u, p1 = (uint64_t)x[2] * 0xCD9E8D57u;
    uint32_t y0 = (uint32_t)(p1 >> 32) ^ x[1] ^ k0, y1 = (uint32_t)p1;
    uint32_t y2 = (uint32_t)(p0 >> 32) ^ x[3] ^ k1, y3 = (uint32_t)p0;
    x[0] = y0, x[1] = y1, x[2] = y2, x[3] = y3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

/* Philox's n elements (u32, or u64 when wide) of the 128-bit counter
 * (lo, hi) under key, into out; returns the counters used. */
static int64_t philox_bits(uint64_t key, uint64_t lo, uint64_t hi, int64_t n, bool wide,
                           void *out) {
  uint32_t *b32 = out;
  uint64_t *b64 = out;
  int64_t words = wide ? 2 * n : n, nvec = (words + 3) / 4;
  for (int64_t i = 0; i < nvec; i++) {
    uint64_t l = lo + (uint64_t)i, h = l < lo ? hi + 1 : hi;
    uint32_t x[4] = {(uint32_t)l, (uint32_t)(l >> 32), (uint32_t)h, (uint32_t)(h >> 32)};
    philox4x32((uint32_t)key, (uint32_t)(key >> 32), x);
    for (int j = 0; j < 4; j++) {
      int64_t w = 4 * i + j;
      if (!wide && w < n) b32[w] = x[j];
      if (wide && j % 2 == 0 && w / 2 < n) b64[w / 2] = x[j] | (uint64_t)x[j + 1] << 32;
    }
  }
  return nvec;
}

/* Bits of 8 or 16 bits are XLA's 32-bit ones for the same shape, each
 * word's low bits kept (prng.cc's *RngBitNarrow): generated as u32 here,
 * then converted, which keeps the low bits. */
static HloLiteral *eval_rng_bit_generator(const HloInstr *in, const HloLiteral *state) {
  HloShape bs32 = in->shape.tuple[1];
  const HloShape *bs = &in->shape.tuple[1];
  bool narrow = hlo_type_size(bs->type) < 4;
  if (narrow) {
    bs32.type = HLO_U32;
    bs = &bs32;
  }
  HloLiteral *ns = hlo_literal_clone(state), *bits = hlo_literal_new(bs);
  const uint64_t *st = state->data;
  uint64_t *nst = ns->data, key = st[0];
  int64_t n = hlo_shape_elements(bs);
  bool wide = hlo_type_size(bs->type) == 8;
  uint32_t *b32 = bits->data;
  uint64_t *b64 = bits->data;
  if (in->rng_algorithm == HLO_RNG_THREE_FRY) {
    uint64_t c = st[1];
    if (wide) {
      for (int64_t i = 0; i < n; i++) {
        uint64_t v = c + (uint64_t)i;
        uint32_t x0 = (uint32_t)v, x1 = (uint32_t)(v >> 32);
        threefry2x32((uint32_t)key, (uint32_t)(key >> 32), &x0, &x1);
        b64[i] = x0 | (uint64_t)x1 << 32;
      }
      nst[1] = c + (uint64_t)n;
    } else {
      int64_t d, inner;
      hlo_three_fry_split(bs, &d, &inner);
      int64_t half = (d + 1) / 2, outer = d && inner ? n / (d * inner) : 0;
      if (bs->rank == 0) outer = 1;
      for (int64_t o = 0; o < outer; o++)
        for (int64_t a = 0; a < half; a++)
          for (int64_t r = 0; r < inner; r++) {
            uint64_t v = c + (uint64_t)((o * half + a) * inner + r);
            uint32_t x[2] = {(uint32_t)v, (uint32_t)(v >> 32)};
            threefry2x32((uint32_t)key, (uint32_t)(key >> 32), &x[0], &x[1]);
            for (int h = 0; h < 2; h++) {
              int64_t j = 2 * a + h;
              if (j < d) b32[(o * d + j) * inner + r] = x[h];
            }
          }
      nst[1] = c + (uint64_t)(outer * half * inner);
    }
  } else {
    uint64_t lo = st[1], hi = state->shape.dims[0] > 2 ? st[2] : key;
    int64_t nvec = philox_bits(key, lo, hi, n, wide, bits->data);
    uint64_t l = lo + (uint64_t)nvec;
    nst[1] = l;
    if (state->shape.dims[0] > 2) nst[2] = l < lo ? hi + 1 : hi;
  }
  if (narrow) {
    HloLiteral *words = bits;
    bits = hlo_literal_new(&in->shape.tuple[1]);
    convert_buffer(words->data, HLO_U32, bits->data, bits->shape.type, hlo_shape_elements(bs));
    hlo_literal_free(words);
  }
  HloLiteral *both[2] = {ns, bits};
  return hlo_literal_tuple(both, 2);
}

/* rng: XLA leaves the numbers unspecified (its rng reads a state that
 * advances every run); hloc draws them deterministically, the same on
 * every run: Philox4x32-10 (rng-bit-generator's rng_philox) under the key
 * FNV-1a(instruction name), counter 0, as u32 words for types of 32 bits
 * or fewer and u64 above.  A float u in [0, 1) takes the word's top 23
 * (f64: 52) bits as the mantissa of a number in [1, 2), minus 1; f16 and
 * bf16 are computed in f32 and rounded once.  rng_uniform: a + (b - a) u,
 * or for integers a + bits mod (b - a) in unsigned arithmetic (a when
 * a = b); rng_normal draws 2n words, u from the first n and v from the
 * last n, and gives a + b sqrt(-2 log(1 - u)) cos(2 pi v) (Box-Muller).
 * passes/rng_expand.c computes the same in HLO. */
#define HLO_TWO_PI 6.28318530717958647693

int hlo_three_fry_split(const HloShape *bs, int64_t *d, int64_t *inner) {
  *d = *inner = 1;
  if (bs->rank == 0) return 0;
  int sd = -1;
  for (int k = 0; k < bs->rank && sd < 0; k++)
    if (bs->dims[k] % 2 == 0) sd = k;
  if (sd < 0)
    for (int k = 0; k < bs->rank; k++)
      if (sd < 0 || bs->dims[k] > bs->dims[sd]) sd = k;
  *d = bs->dims[sd];
  for (int k = sd + 1; k < bs->rank; k++) *inner *= bs->dims[k];
  return sd;
}

uint64_t hlo_rng_key(const HloInstr *in) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (const char *c = in->name; *c; c++) h = (h ^ (uint8_t)*c) * 0x100000001B3ull;
  return h;
}

static HloLiteral *eval_rng(const HloInstr *in, const HloLiteral *a, const HloLiteral *b) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  HloType t = in->shape.type;
  int64_t n = hlo_shape_elements(&in->shape);
  bool wide = hlo_type_size(t) == 8, normal = in->rng_distribution == HLO_RNG_NORMAL;
  int64_t nw = normal ? 2 * n : n;
  void *bits = hlo_xmalloc((wide ? 8 : 4) * (size_t)(nw ? nw : 1));
  philox_bits(hlo_rng_key(in), 0, 0, nw, wide, bits);
  const uint32_t *b32 = bits;
  const uint64_t *b64 = bits;
  if (hlo_type_is_integer(t)) {
    uint64_t lo = (uint64_t)hlo_literal_get_s64(a, 0), hi = (uint64_t)hlo_literal_get_s64(b, 0);
    uint64_t mask = wide ? UINT64_MAX : UINT32_MAX, range = (hi - lo) & mask;
    for (int64_t i = 0; i < n; i++) {
      uint64_t w = wide ? b64[i] : b32[i];
      hlo_literal_set_s64(r, i, (int64_t)(range ? (lo + w % range) & mask : lo));
    }
  } else if (wide) {
    double lo = hlo_literal_get_f64(a, 0), hi = hlo_literal_get_f64(b, 0);
    for (int64_t i = 0; i < n; i++) {
      double u[2];
      for (int k = 0; k <= normal; k++) {
        uint64_t m = b64[i + k * n] >> 12 | 0x3FF0000000000000ull;
        memcpy(&u[k], &m, 8);
        u[k] -= 1;
      }
      double v = normal ? lo + hi * (sqrt(-2 * log(1 - u[0])) * cos(HLO_TWO_PI * u[1]))
                        : lo + (hi - lo) * u[0];
      hlo_literal_set_f64(r, i, v);
    }
  } else {
    float lo = (float)hlo_literal_get_f64(a, 0), hi = (float)hlo_literal_get_f64(b, 0);
    for (int64_t i = 0; i < n; i++) {
      float u[2];
      for (int k = 0; k <= normal; k++) {
        uint32_t m = b32[i + k * n] >> 9 | 0x3F800000u;
        memcpy(&u[k], &m, 4);
        u[k] -= 1;
      }
      float v = normal ? lo + hi * (sqrtf(-2 * logf(1 - u[0])) * cosf((float)HLO_TWO_PI * u[1]))
                       : lo + (hi - lo) * u[0];
      hlo_literal_set_f64(r, i, v);
    }
  }
  free(bits);
  return r;
}

/* v converted to type t as convert does, read back: as an integer
 * (*i, sign- or zero-extended) or a float (*f). */
static void convert_scalar(double v, HloType t, int64_t *i, double *f) {
  unsigned char buf[8] = {0};
  store_from_f64(&v, 1, buf, t);
  if (f) load_f64(buf, t, f, 1);
  if (i) {
    uint64_t w;
    load_i64(buf, t, hlo_type_is_signed(t), &w, 1);
    *i = (int64_t)w;
  }
}

/* stochastic-convert, as XLA's StochasticConvertDecomposer writes it:
 * |x| is truncated, and rounded up when random < frac(|x|) · 2^bits (the
 * fraction scaled to random's width, an exact product, converted to it
 * as convert does); negative x negate it; x at or below the result type's
 * minimum (at or above its maximum), both as x's type rounds them, give
 * that minimum (maximum).  The integer steps wrap in the result type, the
 * conversions are convert's, and every float step is exact, so computing
 * in double changes nothing. */
static HloLiteral *eval_stochastic_convert(const HloInstr *in, const HloLiteral *x,
                                           const HloLiteral *random) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  HloType t = in->shape.type, xt = x->shape.type, rt = random->shape.type;
  int bits = hlo_type_bits(t);
  int64_t n = elements_of(x), min = (int64_t)(~(uint64_t)0 << (bits - 1));
  int64_t max = (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
  double lo, hi;
  convert_scalar((double)min, xt, NULL, &lo);
  convert_scalar((double)max, xt, NULL, &hi);
  for (int64_t i = 0; i < n; i++) {
    double v = hlo_literal_get_f64(x, i), a = fabs(v), whole = floor(a);
    int64_t fixed, q;
    convert_scalar((a - whole) * ldexp(1, hlo_type_bits(rt)), rt, &fixed, NULL);
    convert_scalar(whole, t, &q, NULL);
    uint64_t u = (uint64_t)q;
    if ((uint64_t)hlo_literal_get_s64(random, i) < (uint64_t)fixed) u++;
    if (v < 0) u = 0 - u;
    q = v <= lo ? min : v >= hi ? max : (int64_t)u;
    hlo_literal_set_s64(r, i, q);
  }
  return r;
}

/* cholesky: per matrix of the batch, Cholesky-Banachiewicz in double from
 * the triangle `lower` names (a's other triangle is not read), the factor
 * rounded once to the type and written to that triangle; the other one is
 * zero (XLA leaves it implementation-defined).  A matrix that is not
 * positive definite gives NaN from the first failing pivot on. */
static HloLiteral *eval_cholesky(const HloInstr *in, const HloLiteral *a) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int rank = a->shape.rank;
  int64_t n = a->shape.dims[rank - 1], nn = n * n;
  int64_t batch = nn ? elements_of(a) / nn : 0;
  double *l = hlo_xmalloc(sizeof(double) * (size_t)(nn ? nn : 1));
  for (int64_t b = 0; b < batch; b++) {
    int64_t base = b * nn;
    /* A(i, j) for i >= j, read from the triangle given. */
#define A_LOW(i, j) hlo_literal_get_f64(a, base + (in->lower ? (i) * n + (j) : (j) * n + (i)))
    for (int64_t j = 0; j < n; j++) {
      double d = A_LOW(j, j);
      for (int64_t k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
      l[j * n + j] = sqrt(d);
      for (int64_t i = j + 1; i < n; i++) {
        double v = A_LOW(i, j);
        for (int64_t k = 0; k < j; k++) v -= l[i * n + k] * l[j * n + k];
        l[i * n + j] = v / l[j * n + j];
      }
    }
#undef A_LOW
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j <= i; j++)
        hlo_literal_set_f64(r, base + (in->lower ? i * n + j : j * n + i), l[i * n + j]);
  }
  free(l);
  return r;
}

/* One DFT along axis `ax` of a row-major array of double complex values
 * whose dimensions are d[0..rank): each line of n_in values becomes n_out
 * values y[k] = sum_j x[j] e^(sign 2 pi i j k / n), scaled; d[ax] becomes
 * n_out.  The angle is reduced as the integer j k mod n, so that twiddles
 * stay accurate to double rounding at any length.  A direct DFT: the
 * evaluator is an oracle, not fast. */
/* e^(sign 2 pi i m / n) for 0 <= m < n, exact at quarter turns (where
 * cos and sin of a rounded angle would leave 6e-17 instead of 0). */
static double complex twiddle(int64_t m, int64_t n, int sign) {
  if (4 * m % n == 0) {
    static const double re[] = {1, 0, -1, 0}, im[] = {0, 1, 0, -1};
    int q = (int)(4 * m / n);
    return CMPLX(re[q], sign * im[q]);
  }
  double a = sign * HLO_TWO_PI * (double)m / (double)n;
  return CMPLX(cos(a), sin(a));
}

static double complex *dft_axis(double complex *x, int64_t *d, int rank, int ax, int64_t n_in,
                                int64_t n_out, int64_t n, int sign, double scale) {
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; i++) outer *= d[i];
  for (int i = ax + 1; i < rank; i++) inner *= d[i];
  size_t total = (size_t)(outer * n_out * inner);
  double complex *y = hlo_xmalloc(sizeof(double complex) * (total ? total : 1));
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++)
      for (int64_t k = 0; k < n_out; k++) {
        double complex acc = 0;
        for (int64_t j = 0; j < n_in; j++)
          acc += x[(o * n_in + j) * inner + i] * twiddle(j * k % n, n, sign);
        y[(o * n_out + k) * inner + i] = acc * scale;
      }
  free(x);
  d[ax] = n_out;
  return y;
}

/* fft, as XLA defines it (jnp.fft follows): FFT is sum_j x[j]
 * e^(-2 pi i j k / n) along each transformed dimension, IFFT the same
 * with + and a factor 1/n.  RFFT is FFT of a real x keeping the first
 * n/2+1 values of the last dimension (transformed first); IRFFT inverts
 * it: the other dimensions are transformed back first, then the last one
 * is completed by Hermitian symmetry, X[n-k] = conj(X[k]), and its real
 * part kept, which drops the imaginary parts of the terms at 0 and n/2 as
 * XLA does.  In double, rounded once into the result type. */
static HloLiteral *eval_fft(const HloInstr *in, const HloLiteral *x) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int rank = x->shape.rank, k = in->fft_length.n;
  const int64_t *len = in->fft_length.v;
  int64_t d[HLO_MAX_RANK], total = elements_of(x);
  memcpy(d, x->shape.dims, sizeof(int64_t) * (size_t)rank);
  if (total == 0 || hlo_shape_elements(&in->shape) == 0) return r;
  double complex *w = hlo_xmalloc(sizeof(double complex) * (size_t)total);
  for (int64_t i = 0; i < total; i++)
    w[i] = x->shape.type == HLO_C64    ? ((const float complex *)x->data)[i]
           : x->shape.type == HLO_C128 ? ((const double complex *)x->data)[i]
                                       : hlo_literal_get_f64(x, i);
  HloFftType t = in->fft_type;
  bool inverse = t == HLO_FFT_IFFT || t == HLO_FFT_IRFFT;
  int sign = inverse ? 1 : -1;
  int first = rank - k, last = rank - 1;
  int64_t n_last = len[k - 1];
  if (t == HLO_FFT_RFFT)
    w = dft_axis(w, d, rank, last, n_last, n_last / 2 + 1, n_last, sign, 1);
  for (int ax = first; ax < rank; ax++) {
    if (ax == last && (t == HLO_FFT_RFFT || t == HLO_FFT_IRFFT)) continue;
    w = dft_axis(w, d, rank, ax, d[ax], d[ax], d[ax], sign, inverse ? 1.0 / (double)d[ax] : 1);
  }
  if (t == HLO_FFT_IRFFT) {
    /* Complete the last dimension from n/2+1 values to n. */
    int64_t h = d[last], lines = hlo_shape_elements(&in->shape) / n_last;
    double complex *full = hlo_xmalloc(sizeof(double complex) * (size_t)(lines * n_last));
    for (int64_t l = 0; l < lines; l++)
      for (int64_t j = 0; j < n_last; j++)
        full[l * n_last + j] = j < h ? w[l * h + j] : conj(w[l * h + n_last - j]);
    free(w);
    d[last] = n_last;
    w = dft_axis(full, d, rank, last, n_last, n_last, n_last, sign, 1.0 / (double)n_last);
  }
  int64_t m = hlo_shape_elements(&in->shape);
  for (int64_t i = 0; i < m; i++) {
    if (in->shape.type == HLO_C64) ((float complex *)r->data)[i] = (float complex)w[i];
    else if (in->shape.type == HLO_C128) ((double complex *)r->data)[i] = w[i];
    else hlo_literal_set_f64(r, i, creal(w[i]));
  }
  free(w);
  return r;
}

/* triangular-solve: per matrix of the batch, op(T) x = b (left_side) or
 * x op(T) = b, T the triangle of a that `lower` names (with ones on the
 * diagonal when unit_diagonal), op transposing for TRANSPOSE and ADJOINT
 * (one for real types); substitution in double, rounded once. */
static HloLiteral *eval_triangular_solve(const HloInstr *in, const HloLiteral *a,
                                         const HloLiteral *bl) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int rank = a->shape.rank;
  int64_t m = a->shape.dims[rank - 1], mm = m * m;
  int64_t rows = bl->shape.dims[rank - 2], cols = bl->shape.dims[rank - 1], bn = rows * cols;
  int64_t batch = mm && bn ? elements_of(a) / mm : 0;
  bool trans = in->transpose_a != HLO_TRANSPOSE_NO;
  double *t = hlo_xmalloc(sizeof(double) * (size_t)(mm ? mm : 1));
  double *x = hlo_xmalloc(sizeof(double) * (size_t)(bn ? bn : 1));
  for (int64_t bi = 0; bi < batch; bi++) {
    /* t = op(T), made the matrix applied from the left: x op(T) = b is
     * op(T)^T x^T = b^T. */
    bool left_t = in->left_side ? trans : !trans;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < m; j++) {
        bool in_tri = in->lower ? j <= i : j >= i;
        double v = i == j && in->unit_diagonal ? 1
                   : in_tri                    ? hlo_literal_get_f64(a, bi * mm + i * m + j)
                                               : 0;
        t[left_t ? j * m + i : i * m + j] = v;
      }
    bool low = in->lower != left_t;
    /* Columns of b (left) or rows of b (right) are the right-hand sides. */
    int64_t nrhs = in->left_side ? cols : rows;
    for (int64_t c = 0; c < nrhs; c++) {
#define B_AT(k) (in->left_side ? (k) * cols + c : c * cols + (k))
      for (int64_t s = 0; s < m; s++) {
        int64_t i = low ? s : m - 1 - s;
        double v = hlo_literal_get_f64(bl, bi * bn + B_AT(i));
        for (int64_t u = 0; u < s; u++) {
          int64_t k = low ? u : m - 1 - u;
          v -= t[i * m + k] * x[B_AT(k)];
        }
        x[B_AT(i)] = v / t[i * m + i];
      }
#undef B_AT
    }
    for (int64_t k = 0; k < bn; k++) hlo_literal_set_f64(r, bi * bn + k, x[k]);
  }
  free(t);
  free(x);
  return r;
}

/* A LAPACK custom-call of JAX's (hlo_lapack_call) as the op it computes:
 * trsm is triangular-solve; potrf is cholesky with what LAPACK adds: the
 * triangle it does not factor keeps a's values, and info per matrix is
 * LAPACK's, 0 when the matrix is positive definite, else the 1-based
 * column of the first pivot that is not positive (NaN included), where
 * LAPACK stops (the factor's columns from there on are NaN here, left
 * half-done there: JAX discards the matrix when info is not 0). */
static HloLiteral *eval_lapack(const HloInstr *in, const HloLapackCall *lc, HloLiteral **ops) {
  HloInstr op = *in;
  op.lower = lc->lower;
  op.left_side = lc->left_side;
  op.unit_diagonal = lc->unit_diagonal;
  op.transpose_a = lc->transpose_a;
  if (lc->kind == HLO_LAPACK_TRSM) {
    op.op = HLO_OP_TRIANGULAR_SOLVE;
    return eval_triangular_solve(&op, ops[0], ops[1]);
  }
  const HloLiteral *a = ops[0];
  op.op = HLO_OP_CHOLESKY;
  op.shape = in->shape.tuple[0];
  HloLiteral *f = eval_cholesky(&op, a), *info = hlo_literal_new(&in->shape.tuple[1]);
  int64_t n = a->shape.dims[a->shape.rank - 1], nn = n * n;
  int64_t batch = nn ? elements_of(a) / nn : 0;
  size_t esize = hlo_type_size(a->shape.type);
  for (int64_t b = 0; b < batch; b++) {
    int64_t first = 0;
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < n; j++) {
        int64_t k = b * nn + i * n + j;
        if (i == j && !first && !(hlo_literal_get_f64(f, k) > 0)) first = i + 1;
        if (i != j && (j < i) != lc->lower)
          memcpy((uint8_t *)f->data + k * esize, (const uint8_t *)a->data + k * esize, esize);
      }
    hlo_literal_set_s64(info, b, first);
  }
  HloLiteral *both[2] = {f, info};
  return hlo_literal_tuple(both, 2);
}

/* ------------------------------------------------------------------------ */
/* Dot and convolution                                                      */
/* ------------------------------------------------------------------------ */

/* The type dot and convolution accumulate result type rt in: double for
 * floats, double complex for complex, wrapping 64-bit integers otherwise. */
static HloType accumulator_type(HloType rt) {
  return hlo_type_is_complex(rt) ? HLO_C128 : hlo_type_is_float(rt) ? HLO_F64 : HLO_S64;
}

/* l converted to the result type rt (XLA converts operands first), widened
 * to the accumulator type and arranged with its dims in the order `order`
 * (row-major).  malloc'd. */
static void *widen_arranged(const HloLiteral *l, HloType rt, const int *order) {
  bool owned;
  const HloLiteral *c = converted(l, rt, &owned);
  int rank = l->shape.rank;
  int64_t n = elements_of(l);
  size_t ws = hlo_type_size(accumulator_type(rt));
  void *w = hlo_xmalloc((size_t)n * ws), *p = hlo_xmalloc((size_t)n * ws);
  convert_buffer(c->data, rt, w, accumulator_type(rt), n);
  if (owned) hlo_literal_free((HloLiteral *)c);
  int64_t ls[HLO_MAX_RANK], box[HLO_MAX_RANK], ss[HLO_MAX_RANK], bs[HLO_MAX_RANK];
  row_major_strides(rank, l->shape.dims, ls);
  for (int j = 0; j < rank; j++) {
    box[j] = l->shape.dims[order[j]];
    ss[j] = ls[order[j]];
  }
  row_major_strides(rank, box, bs);
  if (n) copy_strided(p, bs, w, ss, rank, box, ws);
  free(w);
  return p;
}

/* Appends to order the dims of 0..rank not in any of the lists. */
static int append_free_dims(int *order, int at, int rank, const HloDims *a, const HloDims *b) {
  for (int d = 0; d < rank; d++)
    if (!dims_contain(a, d) && !dims_contain(b, d)) order[at++] = d;
  return at;
}

static int append_dims(int *order, int at, const HloDims *a) {
  for (int i = 0; i < a->n; i++) order[at++] = (int)a->v[i];
  return at;
}

static int64_t product_of(const int64_t *dims, const HloDims *which) {
  int64_t p = 1;
  for (int i = 0; i < which->n; i++) p *= dims[which->v[i]];
  return p;
}

static int64_t free_product(const HloShape *s, const HloDims *a, const HloDims *b) {
  int64_t p = 1;
  for (int d = 0; d < s->rank; d++)
    if (!dims_contain(a, d) && !dims_contain(b, d)) p *= s->dims[d];
  return p;
}

/* dot_general as C[b][m][n] = sum_k A[b][m][k] * B[b][k][n]: the result
 * dims are (batch, lhs free, rhs free), exactly C's row-major order. */
static HloLiteral *eval_dot(const HloInstr *in, const HloLiteral *lhs, const HloLiteral *rhs) {
  const HloDotDims *dd = &in->dot;
  const HloShape *s = &in->shape;
  HloType rt = s->type;
  int lo[HLO_MAX_RANK], ro[HLO_MAX_RANK];
  int at = append_dims(lo, 0, &dd->lhs_batch);
  at = append_free_dims(lo, at, lhs->shape.rank, &dd->lhs_batch, &dd->lhs_contracting);
  append_dims(lo, at, &dd->lhs_contracting);
  at = append_dims(ro, 0, &dd->rhs_batch);
  at = append_dims(ro, at, &dd->rhs_contracting);
  append_free_dims(ro, at, rhs->shape.rank, &dd->rhs_batch, &dd->rhs_contracting);
  int64_t nb = product_of(lhs->shape.dims, &dd->lhs_batch);
  int64_t nk = product_of(lhs->shape.dims, &dd->lhs_contracting);
  int64_t nm = free_product(&lhs->shape, &dd->lhs_batch, &dd->lhs_contracting);
  int64_t nn = free_product(&rhs->shape, &dd->rhs_batch, &dd->rhs_contracting);
  void *a = widen_arranged(lhs, rt, lo), *b = widen_arranged(rhs, rt, ro);
  void *c = hlo_xcalloc((size_t)(nb * nm * nn), hlo_type_size(accumulator_type(rt)));
#define DOT_LOOP(T)                                                           \
  for (int64_t ib = 0; ib < nb; ib++)                                         \
    for (int64_t i = 0; i < nm; i++) {                                        \
      T *cr = (T *)c + (ib * nm + i) * nn;                                    \
      const T *ar = (const T *)a + (ib * nm + i) * nk;                        \
      for (int64_t k = 0; k < nk; k++) {                                      \
        T av = ar[k];                                                         \
        const T *br = (const T *)b + (ib * nk + k) * nn;                      \
        for (int64_t j = 0; j < nn; j++) cr[j] += av * br[j];                 \
      }                                                                       \
    }
  if (hlo_type_is_complex(rt)) {
    DOT_LOOP(double complex)
  } else if (hlo_type_is_float(rt)) {
    DOT_LOOP(double)
  } else {
    DOT_LOOP(uint64_t)
  }
#undef DOT_LOOP
  HloLiteral *r = new_array(rt, s->rank, s->dims);
  convert_buffer(c, accumulator_type(rt), r->data, rt, elements_of(r));
  free(a);
  free(b);
  free(c);
  return r;
}

/* x times its scale s (XLA's scaled-dot operand), in type t: element idx
 * takes s[idx[d] / (x.dims[d] / s.dims[d])], each scale element covering
 * a block; a scalar s counts as 1, as in XLA's evaluator. */
static HloLiteral *dequantize(const HloLiteral *x, const HloLiteral *s, HloType t) {
  HloShape rs = hlo_shape_array(t, x->shape.rank, x->shape.dims);
  HloLiteral *r = hlo_literal_new(&rs);
  int rank = x->shape.rank;
  int64_t n = hlo_shape_elements(&rs), idx[HLO_MAX_RANK] = {0}, ss[HLO_MAX_RANK];
  if (s->shape.rank) row_major_strides(rank, s->shape.dims, ss);
  HloShape st = hlo_shape_scalar(t);
  HloLiteral *one = hlo_literal_new(&st); /* a scale element in t */
  for (int64_t i = 0; i < n; i++) {
    hlo_literal_set_f64(r, i, hlo_literal_get_f64(x, i));
    double v = hlo_literal_get_f64(r, i);
    if (s->shape.rank) {
      int64_t si = 0;
      for (int d = 0; d < rank; d++) si += idx[d] / (x->shape.dims[d] / s->shape.dims[d]) * ss[d];
      hlo_literal_set_f64(one, 0, hlo_literal_get_f64(s, si));
      hlo_literal_set_f64(r, i, v * hlo_literal_get_f64(one, 0));
    }
    for (int d = rank - 1; d >= 0 && ++idx[d] == x->shape.dims[d]; d--) idx[d] = 0;
  }
  hlo_literal_free(one);
  return r;
}

/* scaled-dot: the dot of the operands dequantized in the result type. */
static HloLiteral *eval_scaled_dot(const HloInstr *in, HloLiteral *const *ops) {
  HloLiteral *a = dequantize(ops[0], ops[2], in->shape.type);
  HloLiteral *b = dequantize(ops[1], ops[3], in->shape.type);
  HloLiteral *r = eval_dot(in, a, b);
  hlo_literal_free(a);
  hlo_literal_free(b);
  return r;
}

/* The bounds [*start, *end) of group i of ragged-dot rd for the lhs
 * element at coordinates lc (only the dims group_sizes is indexed by are
 * read): the sizes before it summed, then its own added. */
static void ragged_group_bounds(const HloInstr *rd, const HloLiteral *gs, const int64_t *lc,
                                int64_t i, int64_t *start, int64_t *end) {
  int64_t lead[HLO_MAX_RANK];
  int n = hlo_ragged_dot_size_dims(rd, lead);
  int64_t g = gs->shape.dims[gs->shape.rank - 1], row = 0;
  for (int d = 0; d < n; d++) row = row * gs->shape.dims[d] + lc[lead[d]];
  int64_t s = 0;
  for (int64_t j = 0; j < i; j++) s += hlo_literal_get_s64(gs, row * g + j);
  *start = s;
  *end = s + hlo_literal_get_s64(gs, row * g + i);
}

/* Unravels a row-major index of dims into coordinates. */
static void unravel(int64_t k, int rank, const int64_t *dims, int64_t *c) {
  for (int d = rank - 1; d >= 0; d--) {
    c[d] = dims[d] ? k % dims[d] : 0;
    k = dims[d] ? k / dims[d] : 0;
  }
}

/* [g, l's dims]: copy i of l (side 0: lhs; 1: rhs, whose batch and
 * contracting dims stand for lhs's) with the elements outside group i of
 * the ragged dim zeroed.  malloc'd. */
static HloLiteral *ragged_expand(const HloInstr *rd, const HloLiteral *l, int side,
                                 const HloLiteral *gs) {
  const HloDotDims *dd = &rd->dot;
  int rank = l->shape.rank;
  int64_t g = gs->shape.dims[gs->shape.rank - 1], dims[HLO_MAX_RANK + 1];
  dims[0] = g;
  memcpy(dims + 1, l->shape.dims, sizeof(int64_t) * (size_t)rank);
  HloLiteral *m = new_array(l->shape.type, rank + 1, dims);
  size_t es = esize_of(l);
  int64_t n = elements_of(l), c[HLO_MAX_RANK], lc[HLO_MAX_RANK] = {0};
  for (int64_t k = 0; k < n; k++) {
    unravel(k, rank, l->shape.dims, c);
    if (side == 0) {
      memcpy(lc, c, sizeof(int64_t) * (size_t)rank);
    } else {
      for (int j = 0; j < dd->rhs_batch.n; j++) lc[dd->lhs_batch.v[j]] = c[dd->rhs_batch.v[j]];
      for (int j = 0; j < dd->rhs_contracting.n; j++)
        lc[dd->lhs_contracting.v[j]] = c[dd->rhs_contracting.v[j]];
    }
    int64_t r = lc[dd->lhs_ragged.v[0]];
    for (int64_t i = 0; i < g; i++) {
      int64_t st, e;
      ragged_group_bounds(rd, gs, lc, i, &st, &e);
      if (r >= st && r < e)
        memcpy((char *)m->data + (i * n + k) * (int64_t)es, (const char *)l->data + k * (int64_t)es,
               es);
    }
  }
  return m;
}

/* dims + 1, with `first` in front when first >= 0. */
static HloDims shifted(const HloDims *d, int64_t first, int64_t *buf) {
  int n = 0;
  if (first >= 0) buf[n++] = first;
  for (int i = 0; i < d->n; i++) buf[n++] = d->v[i] + 1;
  return (HloDims){n, buf};
}

/* ragged-dot as JAX's reference implementation defines it (HloRaggedMode):
 * the ragged operand copied once per group along a new leading dim, each
 * copy zeroed outside its group, then one dot: non-contracting contracts
 * that dim with rhs's group dim (rows in no group are zeros), contracting
 * masks rhs alike and batches over it, batch is the dot. */
static HloLiteral *eval_ragged_dot(const HloInstr *in, const HloLiteral *lhs,
                                   const HloLiteral *rhs, const HloLiteral *gs) {
  const HloDotDims *dd = &in->dot;
  HloInstr dot = *in;
  dot.op = HLO_OP_DOT;
  dot.dot = (HloDotDims){dd->lhs_batch, dd->lhs_contracting, dd->rhs_batch, dd->rhs_contracting,
                         {0, NULL}, {0, NULL}};
  HloRaggedMode mode = hlo_ragged_dot_mode(in);
  if (mode == HLO_RAGGED_BATCH) return eval_dot(&dot, lhs, rhs);
  int64_t b[4][HLO_MAX_RANK + 1];
  HloLiteral *a = ragged_expand(in, lhs, 0, gs), *r;
  if (mode == HLO_RAGGED_NONCONTRACTING) {
    int64_t *rc = b[3];
    rc[0] = dd->rhs_group.v[0];
    memcpy(rc + 1, dd->rhs_contracting.v, sizeof(int64_t) * (size_t)dd->rhs_contracting.n);
    dot.dot.lhs_batch = shifted(&dd->lhs_batch, -1, b[0]);
    dot.dot.lhs_contracting = shifted(&dd->lhs_contracting, 0, b[1]);
    dot.dot.rhs_contracting = (HloDims){dd->rhs_contracting.n + 1, rc};
    r = eval_dot(&dot, a, rhs);
  } else {
    HloLiteral *e = ragged_expand(in, rhs, 1, gs);
    dot.dot.lhs_batch = shifted(&dd->lhs_batch, 0, b[0]);
    dot.dot.lhs_contracting = shifted(&dd->lhs_contracting, -1, b[1]);
    dot.dot.rhs_batch = shifted(&dd->rhs_batch, 0, b[2]);
    dot.dot.rhs_contracting = shifted(&dd->rhs_contracting, -1, b[3]);
    r = eval_dot(&dot, a, e);
    hlo_literal_free(e);
  }
  hlo_literal_free(a);
  return r;
}

/* Convolution on canonical copies: input [N][spatial...][C], kernel
 * [spatial...][Ci][Co], output [N][spatial...][Co].  For each output
 * position the valid kernel taps (input offset, kernel offset) are listed
 * once — stride, padding, lhs (base) and rhs (window) dilation and
 * reversal all live in that list — then every batch accumulates over them.
 * Feature groups split the input features and the output features into G
 * matching parts; batch groups split the input batch and the output
 * features (StableHLO's definition). */
static HloLiteral *eval_convolution(const HloInstr *in, const HloLiteral *lhs,
                                    const HloLiteral *rhs) {
  const HloConvDims *cd = &in->conv;
  const HloShape *s = &in->shape;
  HloType rt = s->type;
  int ns = cd->nspatial;
  int io[HLO_MAX_RANK], ko[HLO_MAX_RANK];
  int64_t isz[HLO_MAX_RANK], ksz[HLO_MAX_RANK], osz[HLO_MAX_RANK];
  io[0] = (int)cd->in_batch;
  for (int d = 0; d < ns; d++) {
    io[1 + d] = (int)cd->in_spatial[d];
    ko[d] = (int)cd->k_spatial[d];
    isz[d] = lhs->shape.dims[cd->in_spatial[d]];
    ksz[d] = rhs->shape.dims[cd->k_spatial[d]];
    osz[d] = s->dims[cd->out_spatial[d]];
  }
  io[1 + ns] = (int)cd->in_feature;
  ko[ns] = (int)cd->k_in_feature;
  ko[ns + 1] = (int)cd->k_out_feature;
  int64_t nout = s->dims[cd->out_batch], cin = lhs->shape.dims[cd->in_feature];
  int64_t ci = rhs->shape.dims[cd->k_in_feature], co = rhs->shape.dims[cd->k_out_feature];
  int64_t fg = in->feature_group_count, bg = in->batch_group_count;
  int64_t ngroups = fg * bg, cog = co / ngroups;
  int64_t isn = 1, ksn = 1, osn = 1;
  for (int d = 0; d < ns; d++) {
    isn *= isz[d];
    ksn *= ksz[d];
    osn *= osz[d];
  }
  /* tap[d][o * ksz + w]: input index along spatial dim d for output o and
   * window position w, or -1 in padding or a dilation hole. */
  int64_t ist[HLO_MAX_RANK], kst[HLO_MAX_RANK];
  row_major_strides(ns, isz, ist);
  row_major_strides(ns, ksz, kst);
  int64_t *tap[HLO_MAX_RANK];
  for (int d = 0; d < ns; d++) {
    const HloWindowDim *wd = &in->window[d];
    tap[d] = hlo_xmalloc(sizeof(int64_t) * (size_t)(osz[d] * ksz[d] + 1));
    for (int64_t o = 0; o < osz[d]; o++)
      for (int64_t w = 0; w < ksz[d]; w++) {
        int64_t pos = o * wd->stride - wd->pad_lo + w * wd->rhs_dilate;
        int64_t i = pos / wd->lhs_dilate;
        bool hit = pos >= 0 && pos % wd->lhs_dilate == 0 && i < isz[d];
        tap[d][o * ksz[d] + w] = hit ? i : -1;
      }
  }
  bool is_float = hlo_type_is_float(rt);
  void *x = widen_arranged(lhs, rt, io), *k = widen_arranged(rhs, rt, ko);
  void *y = hlo_xcalloc((size_t)(nout * osn * co), hlo_type_size(accumulator_type(rt)));
  int64_t *ioff = hlo_xmalloc(sizeof(int64_t) * (size_t)(ksn ? ksn : 1));
  int64_t *koff = hlo_xmalloc(sizeof(int64_t) * (size_t)(ksn ? ksn : 1));
  bool depthwise = ci == 1 && cog == 1 && bg == 1;
  int64_t oc[HLO_MAX_RANK] = {0};
  bool more = nout * osn * co > 0;
  for (int64_t olin = 0; more; olin++) {
    int64_t ntaps = 0, kc[HLO_MAX_RANK] = {0};
    bool kmore = ksn > 0;
    while (kmore) {
      int64_t io_ = 0, ko_ = 0;
      bool hit = true;
      for (int d = 0; d < ns && hit; d++) {
        int64_t i = tap[d][oc[d] * ksz[d] + kc[d]];
        hit = i >= 0;
        io_ += i * ist[d];
        ko_ += (in->window[d].reversal ? ksz[d] - 1 - kc[d] : kc[d]) * kst[d];
      }
      if (hit) {
        ioff[ntaps] = io_;
        koff[ntaps++] = ko_;
      }
      kmore = odometer_next(kc, ksz, ns);
    }
#define CONV_LOOP(T)                                                          \
  for (int64_t b = 0; b < nout; b++) {                                        \
    T *acc = (T *)y + (b * osn + olin) * co;                                  \
    for (int64_t q = 0; q < ntaps; q++) {                                     \
      const T *wt = (const T *)k + koff[q] * ci * co;                         \
      if (depthwise) {                                                        \
        const T *xr = (const T *)x + (b * isn + ioff[q]) * cin;               \
        for (int64_t c = 0; c < co; c++) acc[c] += xr[c] * wt[c];             \
        continue;                                                             \
      }                                                                       \
      for (int64_t g = 0; g < ngroups; g++) {                                 \
        int64_t xb = bg > 1 ? g * nout + b : b;                               \
        const T *xr = (const T *)x + (xb * isn + ioff[q]) * cin + (fg > 1 ? g * ci : 0); \
        T *ag = acc + g * cog;                                                \
        for (int64_t i = 0; i < ci; i++) {                                    \
          T xv = xr[i];                                                       \
          const T *wr = wt + i * co + g * cog;                                \
          for (int64_t c = 0; c < cog; c++) ag[c] += xv * wr[c];              \
        }                                                                     \
      }                                                                       \
    }                                                                         \
  }
    if (hlo_type_is_complex(rt)) {
      CONV_LOOP(double complex)
    } else if (is_float) {
      CONV_LOOP(double)
    } else {
      CONV_LOOP(uint64_t)
    }
#undef CONV_LOOP
    more = odometer_next(oc, osz, ns);
  }
  /* Back to the result type, then into the output's dim order. */
  int64_t n = nout * osn * co;
  HloLiteral *r = new_array(rt, s->rank, s->dims);
  size_t es = esize_of(r);
  char *canon = hlo_xmalloc((size_t)n * es);
  convert_buffer(y, accumulator_type(rt), canon, rt, n);
  int64_t rs[HLO_MAX_RANK], box[HLO_MAX_RANK], ds[HLO_MAX_RANK], cs[HLO_MAX_RANK];
  row_major_strides(s->rank, s->dims, rs);
  box[0] = nout;
  ds[0] = rs[cd->out_batch];
  for (int d = 0; d < ns; d++) {
    box[1 + d] = osz[d];
    ds[1 + d] = rs[cd->out_spatial[d]];
  }
  box[1 + ns] = co;
  ds[1 + ns] = rs[cd->out_feature];
  row_major_strides(ns + 2, box, cs);
  if (n) copy_strided(r->data, ds, canon, cs, ns + 2, box, es);
  for (int d = 0; d < ns; d++) free(tap[d]);
  free(canon);
  free(x);
  free(k);
  free(y);
  free(ioff);
  free(koff);
  return r;
}

/* (x - mean) * scale / sqrt(var + epsilon) + offset along feature_index,
 * computed in double and rounded once. */
static HloError *eval_batch_norm_inference(const HloInstr *in, HloLiteral *const *ops,
                                           HloLiteral **out) {
  const HloLiteral *x = ops[0];
  HloType t = x->shape.type;
  if (!hlo_type_is_float(t)) return unsupported_type(in->op, t);
  int fi = (int)in->feature_index;
  int64_t nf = x->shape.dims[fi], n = elements_of(x), st[HLO_MAX_RANK];
  row_major_strides(x->shape.rank, x->shape.dims, st);
  double *v[4];
  for (int k = 0; k < 4; k++) {
    v[k] = hlo_xmalloc(sizeof(double) * (size_t)(nf ? nf : 1));
    load_f64(ops[1 + k]->data, t, v[k], nf);
  }
  double *mul = v[0], *offset = v[1], *mean = v[2], *var = v[3];
  for (int64_t f = 0; f < nf; f++) mul[f] = mul[f] / sqrt(var[f] + (double)in->epsilon);
  HloLiteral *r = new_array(t, x->shape.rank, x->shape.dims);
  size_t es = esize_of(r);
  for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
    int64_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    double w[CHUNK];
    load_f64((const char *)x->data + i0 * (int64_t)es, t, w, m);
    for (int64_t i = 0; i < m; i++) {
      int64_t f = (i0 + i) / st[fi] % nf;
      w[i] = (w[i] - mean[f]) * mul[f] + offset[f];
    }
    store_from_f64(w, m, (char *)r->data + i0 * (int64_t)es, t);
  }
  for (int k = 0; k < 4; k++) free(v[k]);
  *out = r;
  return NULL;
}

/* batch-norm-training and batch-norm-grad (XLA's operation semantics),
 * in f64 and rounded once.  With N elements per feature, m the mean and
 * v the (biased) variance over every dim but feature_index, and
 * r = 1 / sqrt(v + epsilon):
 *   training(x, scale, offset) = ((x - m) r scale + offset, m, v);
 *   grad(x, scale, m, v, dy) = (scale r (dy - sum(dy) / N
 *     - (x - m) r^2 sum(dy (x - m)) / N), sum(dy (x - m) r), sum(dy)). */
static HloError *eval_batch_norm_training_grad(const HloInstr *in, HloLiteral *const *ops,
                                               HloLiteral **out) {
  const HloLiteral *x = ops[0];
  HloType t = x->shape.type;
  if (!hlo_type_is_float(t)) return unsupported_type(in->op, t);
  bool grad = in->op == HLO_OP_BATCH_NORM_GRAD;
  int fi = (int)in->feature_index;
  int64_t nf = x->shape.dims[fi], n = elements_of(x), st[HLO_MAX_RANK];
  row_major_strides(x->shape.rank, x->shape.dims, st);
  double count = nf ? (double)(n / nf) : 0;
  double *xv = hlo_xmalloc(sizeof(double) * (size_t)(n ? n : 1));
  double *dy = grad ? hlo_xmalloc(sizeof(double) * (size_t)(n ? n : 1)) : NULL;
  /* per feature: offset is training's, sum_dy and sum_dyd (sum(dy (x - m)))
   * grad's */
  double *v[6];
  for (int k = 0; k < 6; k++) v[k] = hlo_xcalloc((size_t)(nf ? nf : 1), sizeof(double));
  double *scale = v[0], *mean = v[1], *var = v[2], *r = v[3];
  double *offset = v[4], *sum_dy = v[4], *sum_dyd = v[5];
  load_f64(x->data, t, xv, n);
  load_f64(ops[1]->data, t, scale, nf);
  if (grad) {
    load_f64(ops[2]->data, t, mean, nf);
    load_f64(ops[3]->data, t, var, nf);
    load_f64(ops[4]->data, t, dy, n);
    for (int64_t i = 0; i < n; i++) {
      int64_t f = i / st[fi] % nf;
      sum_dy[f] += dy[i];
      sum_dyd[f] += dy[i] * (xv[i] - mean[f]);
    }
  } else {
    load_f64(ops[2]->data, t, offset, nf);
    for (int64_t i = 0; i < n; i++) mean[i / st[fi] % nf] += xv[i];
    for (int64_t f = 0; f < nf; f++) mean[f] /= count;
    for (int64_t i = 0; i < n; i++) {
      double d = xv[i] - mean[i / st[fi] % nf];
      var[i / st[fi] % nf] += d * d;
    }
    for (int64_t f = 0; f < nf; f++) var[f] /= count;
  }
  for (int64_t f = 0; f < nf; f++) r[f] = 1 / sqrt(var[f] + (double)in->epsilon);
  for (int64_t i = 0; i < n; i++) {
    int64_t f = i / st[fi] % nf;
    double d = xv[i] - mean[f];
    xv[i] = grad ? scale[f] * r[f] *
                       (dy[i] - sum_dy[f] / count - d * r[f] * r[f] * sum_dyd[f] / count)
                 : d * r[f] * scale[f] + offset[f];
  }
  HloLiteral *res = hlo_literal_new(&in->shape);
  store_from_f64(xv, n, res->elems[0]->data, t);
  if (grad) {
    for (int64_t f = 0; f < nf; f++) sum_dyd[f] *= r[f];
    store_from_f64(sum_dyd, nf, res->elems[1]->data, t);
    store_from_f64(sum_dy, nf, res->elems[2]->data, t);
  } else {
    store_from_f64(mean, nf, res->elems[1]->data, t);
    store_from_f64(var, nf, res->elems[2]->data, t);
  }
  for (int k = 0; k < 6; k++) free(v[k]);
  free(xv);
  free(dy);
  *out = res;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Control flow                                                             */
/* ------------------------------------------------------------------------ */

/* Runs c on ops[first .. first + n), handing over the operands the caller
 * may give up. */
static HloError *call_on_operands(Ev *ev, const HloComputation *c, HloLiteral **ops,
                                  uint8_t *mov, int first, int n, HloLiteral **out) {
  bool *owned = hlo_xmalloc(sizeof(bool) * (size_t)(n ? n : 1));
  for (int k = 0; k < n; k++) {
    owned[k] = mov[first + k] == MOV_ALLOWED;
    if (owned[k]) mov[first + k] = MOV_TAKEN;
  }
  HloError *e = run_plan(ev, plan_get(ev, c), ops + first, owned, out);
  free(owned);
  return e;
}

static HloError *eval_while(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                            HloLiteral **out) {
  Plan *cond = plan_get(ev, in->called[0]), *body = plan_get(ev, in->called[1]);
  HloLiteral *state = take_operand(ops, mov, 0);
  const HloInstr *outer = ev->loop;
  int64_t limit = ev->opts ? ev->opts->max_while_iterations : 0;
  HloError *e = NULL;
  for (;;) {
    if (cancelled(ev)) {
      e = stop_at(ev, in, true);
      break;
    }
    ev->loop = in;
    HloLiteral *pred = NULL;
    if ((e = run_plan(ev, cond, &state, NULL, &pred))) break;
    bool go = ((const uint8_t *)pred->data)[0] != 0;
    hlo_literal_free(pred);
    if (!go) break;
    if (limit > 0 && ev->while_runs == limit) {
      e = hlo_error("still running after %lld iterations, the evaluator's limit",
                    (long long)limit);
      break;
    }
    ev->while_runs++;
    bool owned = true;
    HloLiteral *next = NULL;
    if ((e = run_plan(ev, body, &state, &owned, &next))) {
      state = NULL;
      break;
    }
    state = next;
  }
  ev->loop = outer;
  if (e) {
    hlo_literal_free(state);
    return e;
  }
  *out = state;
  return NULL;
}

/* pred selector: true runs branch 0, false branch 1; an integer selector
 * out of range runs the last branch. */
static HloError *eval_conditional(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                                  HloLiteral **out) {
  int64_t b;
  if (ops[0]->shape.type == HLO_PRED) {
    b = ((const uint8_t *)ops[0]->data)[0] ? 0 : 1;
  } else {
    b = scalar_s64(ops[0]);
    if (b < 0 || b >= in->ncalled) b = in->ncalled - 1;
  }
  return call_on_operands(ev, in->called[b], ops, mov, 1 + (int)b, 1, out);
}

/* ------------------------------------------------------------------------ */
/* Collectives, tokens and async pairs: one participant                     */
/* ------------------------------------------------------------------------ */

/* The operand, or a tuple of the operands (copies). */
static HloLiteral *own_operands(const HloInstr *in, HloLiteral **ops) {
  if (in->noperands == 1) return hlo_literal_clone(ops[0]);
  HloLiteral **elems = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)in->noperands);
  for (int k = 0; k < in->noperands; k++) elems[k] = hlo_literal_clone(ops[k]);
  HloLiteral *r = hlo_literal_tuple(elems, in->noperands);
  free(elems);
  return r;
}

/* (a, b, context…): a start's value, the context zeros of the declared
 * shape's trailing elements. */
static HloLiteral *start_tuple(const HloInstr *in, HloLiteral *a, HloLiteral *b) {
  int n = in->shape.ntuple;
  HloLiteral **elems = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)n);
  elems[0] = a;
  elems[1] = b;
  for (int k = 2; k < n; k++) elems[k] = hlo_literal_new(&in->shape.tuple[k]);
  HloLiteral *r = hlo_literal_tuple(elems, n);
  free(elems);
  return r;
}

static HloError *eval_single_device(Ev *ev, const HloInstr *in, HloLiteral **ops,
                                    HloLiteral **out) {
  HloLiteral *r;
  switch (in->op) {
  case HLO_OP_ALL_REDUCE: case HLO_OP_ALL_GATHER: case HLO_OP_REDUCE_SCATTER:
  case HLO_OP_ALL_TO_ALL: case HLO_OP_COLLECTIVE_BROADCAST: case HLO_OP_OPT_BARRIER:
  case HLO_OP_DOMAIN: case HLO_OP_ASYNC_UPDATE:
    r = own_operands(in, ops);
    if (in->op == HLO_OP_ALL_TO_ALL && in->shape.type == HLO_TUPLE && in->noperands == 1)
      r = hlo_literal_tuple(&r, 1); /* the tuple form, without a split dimension */
    break;
  case HLO_OP_ALL_REDUCE_START: case HLO_OP_ALL_GATHER_START:
    r = own_operands(in, ops);
    if (in->op == HLO_OP_ALL_GATHER_START || hlo_start_is_tuple(in))
      r = start_tuple(in, own_operands(in, ops), r);
    break;
  case HLO_OP_COLLECTIVE_PERMUTE:
  case HLO_OP_COLLECTIVE_PERMUTE_START: {
    /* Participant 0 receives only where a pair {0,0} sends it its own
     * value; verified pairs name no one else. */
    HloLiteral *x = own_operands(in, ops);
    if (!in->source_target_pairs.n) {
      HloLiteral *zeros = hlo_literal_new(&x->shape);
      hlo_literal_free(x);
      x = zeros;
    }
    r = in->op == HLO_OP_COLLECTIVE_PERMUTE_START && hlo_start_is_tuple(in)
            ? start_tuple(in, own_operands(in, ops), x)
            : x;
    break;
  }
  case HLO_OP_ALL_REDUCE_DONE: case HLO_OP_COLLECTIVE_PERMUTE_DONE:
    r = hlo_literal_clone(hlo_start_is_tuple(in->operands[0]) ? ops[0]->elems[1] : ops[0]);
    break;
  case HLO_OP_ALL_GATHER_DONE: case HLO_OP_ASYNC_DONE:
    r = hlo_literal_clone(ops[0]->elems[1]);
    break;
  case HLO_OP_COPY_DONE: r = hlo_literal_clone(ops[0]->elems[0]); break;
  case HLO_OP_ADD_DEPENDENCY: r = hlo_literal_clone(ops[0]); break;
  case HLO_OP_COPY_START:
    r = start_tuple(in, hlo_literal_clone(ops[0]), hlo_literal_clone(ops[0]));
    break;
  case HLO_OP_REPLICA_ID: case HLO_OP_PARTITION_ID: case HLO_OP_AFTER_ALL:
    r = hlo_literal_new(&in->shape);
    break;
  case HLO_OP_ASYNC_START: {
    HloLiteral *result;
    HloError *e = run_plan(ev, plan_get(ev, in->called[0]), ops, NULL, &result);
    if (e) return e;
    /* element 0 is the tuple of the operands, also of one */
    HloLiteral **args = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)(in->noperands + 1));
    for (int k = 0; k < in->noperands; k++) args[k] = hlo_literal_clone(ops[k]);
    r = start_tuple(in, hlo_literal_tuple(args, in->noperands), result);
    free(args);
    break;
  }
  default:
    return hlo_error("%s cannot be evaluated on shape %s", hlo_opcode_name(in->op),
                     hlo_type_name(in->shape.type));
  }
  *out = r;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Dispatch and entry points                                                */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Bounded dynamic dimensions                                               */
/* ------------------------------------------------------------------------ */

/* A value whose shape has "<=N" dims is a literal of the size it has at
 * run time: where XLA stores it padded to N and masks the padding (with a
 * reduction's init value, zeros for a dot), nothing here holds padding at
 * all, so most ops need only their result's sizes: shape inference on the
 * operands' sizes gives them, and the op runs on a copy of the
 * instruction with those shapes.  set-dimension-size cuts its operand to
 * the size; get-dimension-size reads a literal's.  Ops whose sizes cannot
 * follow from their operands' that way (reshape, broadcast, slice) have
 * rules of their own; the rest are refused by name. */

/* Whether some array operand's literal is smaller than its declared
 * shape (a dynamic dim below its bound). */
static bool operands_resized(const HloInstr *in, HloLiteral *const *ops) {
  for (int i = 0; i < in->noperands; i++)
    if (hlo_type_is_array(ops[i]->shape.type) &&
        !hlo_shape_same_dims(&ops[i]->shape, &in->operands[i]->shape))
      return true;
  return false;
}

/* The first dim where x is smaller than its declared shape s. */
static int first_resized(const HloShape *x, const HloShape *s) {
  for (int d = 0; d < s->rank; d++)
    if (x->dims[d] != s->dims[d]) return d;
  return -1;
}

/* The sizes of a reshape into several "<=N" dims: each run of common
 * factors of the bounds (hlo_reshape_groups) holds one dynamic result dim
 * at most, which takes what the run's other result dims leave of its
 * operand elements (XLA's dynamic dimension inference: an operand dim's
 * size moves to the result dims it splits into or combines with). */
static bool reshape_sizes_by_runs(const HloInstr *in, const HloLiteral *x, HloShape *real) {
  const HloShape *s = &in->shape, *xs = &in->operands[0]->shape;
  int fs[2 * HLO_MAX_RANK + 2], ts[2 * HLO_MAX_RANK + 2];
  int n = hlo_reshape_groups(xs, s, fs, ts);
  if (n < 0) return false;
  *real = *s;
  for (int k = 0; k < n; k++) {
    int64_t p = 1, rest = 1;
    int b = -1;
    for (int d = fs[k]; d < fs[k + 1]; d++) p *= x->shape.dims[d];
    for (int d = ts[k]; d < ts[k + 1]; d++) {
      if (!(s->dynamic >> d & 1)) rest *= s->dims[d];
      else if (b >= 0) return false;
      else b = d;
    }
    if (b < 0 ? p != rest : p % rest != 0 || p / rest > s->dims[b]) return false;
    if (b >= 0) real->dims[b] = p / rest;
  }
  return true;
}

/* The sizes of a reshape of an operand with dynamic dims below their
 * bounds: XLA's meaning is the reshape of the elements present, in
 * row-major order, so the result's one "<=N" dim takes what the others
 * leave (several: reshape_sizes_by_runs). */
static HloError *reshape_sizes(const HloInstr *in, const HloLiteral *x, HloShape *real) {
  const HloShape *s = &in->shape;
  int b = -1, nb = 0;
  int64_t rest = 1, n = elements_of(x);
  for (int d = 0; d < s->rank; d++)
    if (s->dynamic >> d & 1) b = d, nb++;
    else rest *= s->dims[d];
  if (nb > 1 && reshape_sizes_by_runs(in, x, real)) return NULL;
  if (nb != 1 || (rest ? n % rest != 0 || n / rest > s->dims[b] : n != 0)) {
    char *got = hlo_shape_to_string(&x->shape);
    HloError *e = hlo_error("reshape of %s: the interpreter reshapes the elements present into "
                            "a shape with one <=N dimension that they fill whole rows of, or "
                            "several, one to a run of common factors of the bounds", got);
    free(got);
    return e;
  }
  *real = *s;
  real->dims[b] = rest ? n / rest : 0;
  return NULL;
}

/* The sizes of slice: a "<=N" result dim that takes all of a dynamic
 * operand dim ([0:N]) keeps its size; any other must lie within the
 * operand's size. */
static HloError *slice_sizes(const HloInstr *in, const HloLiteral *x, HloShape *real) {
  const HloShape *xs = &in->operands[0]->shape;
  *real = in->shape;
  for (int d = 0; d < xs->rank; d++) {
    const HloSliceDim *sl = &in->slice[d];
    if ((in->shape.dynamic >> d & 1) && sl->start == 0 && sl->stride == 1 &&
        sl->limit == xs->dims[d]) {
      real->dims[d] = x->shape.dims[d];
      continue;
    }
    if (sl->limit > x->shape.dims[d])
      return hlo_error("slice reads [%lld:%lld] of dimension %d, whose size is %lld "
                           "(at most %lld): past the values it has", (long long)sl->start,
                           (long long)sl->limit, d, (long long)x->shape.dims[d],
                           (long long)xs->dims[d]);
  }
  return NULL;
}

/* The slice sizes of a gather over dynamic operand dims, in tmp (sizes
 * its room): a slice that takes a dynamic dim whole (its bound) takes its
 * size, which the matching offset dim of the result gets; any other must
 * lie within the size, and its start clamps against the size (the gather
 * of the operand as it is, XLA's meaning). */
static HloError *gather_slice_sizes(HloInstr *tmp, const HloInstr *in, const HloLiteral *x,
                                    int64_t *sizes) {
  const HloShape *xs = &in->operands[0]->shape;
  const HloDims *ss = &in->gather.slice_sizes;
  if (ss->n != xs->rank || x->shape.rank != xs->rank) return NULL; /* the verifier's to say */
  for (int d = 0; d < xs->rank; d++) {
    sizes[d] = ss->v[d];
    if (x->shape.dims[d] == xs->dims[d]) continue;
    if (sizes[d] == xs->dims[d] && !dims_contain(&in->gather.collapsed_slice_dims, d))
      sizes[d] = x->shape.dims[d];
    else if (sizes[d] > x->shape.dims[d])
      return hlo_error("gather takes slices of %lld along dimension %d, whose size is %lld (at "
                       "most %lld): past the values it has", (long long)sizes[d], d,
                       (long long)x->shape.dims[d], (long long)xs->dims[d]);
  }
  tmp->gather.slice_sizes = (HloDims){ss->n, sizes};
  return NULL;
}

static HloError *eval_instr(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                            HloLiteral **out);

/* PadToStatic(x): (x padded to its bounds, one s32[] size per dim).  XLA
 * leaves the padding unspecified; here it is zero, as in compiled code
 * (passes/dynamic_pad.c). */
static HloLiteral *eval_pad_to_static(const HloInstr *in, const HloLiteral *x) {
  const HloShape *s = &in->shape.tuple[0];
  int rank = s->rank;
  HloLiteral **elems = hlo_xcalloc((size_t)rank + 1, sizeof *elems);
  elems[0] = new_array(s->type, rank, s->dims);
  int64_t ds[HLO_MAX_RANK], xs[HLO_MAX_RANK];
  row_major_strides(rank, s->dims, ds);
  row_major_strides(rank, x->shape.dims, xs);
  copy_strided(elems[0]->data, ds, x->data, xs, rank, x->shape.dims, esize_of(x));
  HloShape ss = hlo_shape_scalar(HLO_S32);
  for (int d = 0; d < rank; d++) {
    elems[d + 1] = hlo_literal_new(&ss);
    hlo_literal_set_s64(elems[d + 1], 0, x->shape.dims[d]);
  }
  HloLiteral *r = hlo_literal_tuple(elems, rank + 1);
  free(elems);
  return r;
}

/* SliceToDynamic(x, s0, …): x cut to the sizes of the result's dynamic
 * dims, each within [0, min(bound, x's dim)] (XLA does not define a size
 * past the bound; compiled code clamps it). */
static HloError *eval_slice_to_dynamic(const HloInstr *in, HloLiteral **ops, HloLiteral **out) {
  const HloLiteral *x = ops[0];
  HloShape s = x->shape;
  for (int d = 0; d < s.rank; d++) {
    if (!(in->shape.dynamic >> d & 1)) continue;
    int64_t n = hlo_literal_get_s64(ops[d + 1], 0), bound = in->shape.dims[d];
    int64_t most = bound < x->shape.dims[d] ? bound : x->shape.dims[d];
    if (n < 0 || n > most)
      return hlo_error("SliceToDynamic: size %lld of dimension %d is outside [0, %lld] (the "
                       "bound %lld, operand 0's dimension %lld)", (long long)n, d,
                       (long long)most, (long long)bound, (long long)x->shape.dims[d]);
    s.dims[d] = n;
  }
  int64_t start[HLO_MAX_RANK] = {0}, step[HLO_MAX_RANK];
  for (int k = 0; k < s.rank; k++) step[k] = 1;
  *out = extract_box(&s, x, start, step);
  return NULL;
}

/* PadToStatic and SliceToDynamic, their shapes checked first (the copies
 * above trust them). */
static HloError *eval_dynamic_custom_call(const HloInstr *in, HloLiteral **ops,
                                          HloLiteral **out) {
  HloShape checked;
  HloError *e = hlo_infer_shape(in, &checked);
  if (e) return e;
  if (hlo_is_custom_call_to(in, "PadToStatic")) {
    *out = eval_pad_to_static(in, ops[0]);
    return NULL;
  }
  return eval_slice_to_dynamic(in, ops, out);
}

/* Whether a scatter's indices have their declared sizes but along the
 * index vectors (not in the index vector dim); updates may be smaller in
 * any dim (a dynamic window dim: a smaller window, the updates present). */
static bool scatter_sizes_ok(const HloInstr *in, HloLiteral *const *ops) {
  const HloScatterDims *sd = &in->scatter;
  const HloShape *i = &in->operands[1]->shape;
  for (int d = 0; d < i->rank; d++)
    if (d == sd->index_vector_dim && ops[1]->shape.dims[d] != i->dims[d]) return false;
  return true;
}

/* set-dimension-size, get-dimension-size, and the ops over operands
 * smaller than their declared shapes (see above). */
static HloError *eval_dynamic(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                              HloLiteral **out) {
  const HloLiteral *x = ops[0];
  if (in->op == HLO_OP_GET_DIMENSION_SIZE) {
    HloShape s = hlo_shape_scalar(HLO_S32);
    *out = hlo_literal_new(&s);
    hlo_literal_set_s64(*out, 0, x->shape.dims[in->dimensions.v[0]]);
    return NULL;
  }
  if (in->op == HLO_OP_SET_DIMENSION_SIZE) {
    int d = (int)in->dimensions.v[0];
    int64_t n = hlo_literal_get_s64(ops[1], 0), bound = in->shape.dims[d];
    if (n < 0 || n > bound)
      return hlo_error("size %lld of dimension %d is outside [0, %lld]", (long long)n, d,
                           (long long)bound);
    HloShape s = x->shape;
    s.dims[d] = n;
    if (n > x->shape.dims[d]) {
      /* Grown (a stack pushed onto): the elements past the old size are
       * the padding XLA exposes, whatever its buffer held; here zero, as
       * compiled code makes it (passes/dynamic_pad.c). */
      *out = new_array(s.type, s.rank, s.dims);
      int64_t ds[HLO_MAX_RANK], xs[HLO_MAX_RANK];
      row_major_strides(s.rank, s.dims, ds);
      row_major_strides(s.rank, x->shape.dims, xs);
      copy_strided((*out)->data, ds, x->data, xs, s.rank, x->shape.dims, esize_of(x));
      return NULL;
    }
    int64_t start[HLO_MAX_RANK] = {0}, step[HLO_MAX_RANK];
    for (int k = 0; k < s.rank; k++) step[k] = 1;
    *out = extract_box(&s, x, start, step);
    return NULL;
  }
  if (in->op == HLO_OP_DYNAMIC_RESHAPE) {
    /* The present elements, in row-major order, in the sizes operands
     * 1… give (XLA's semantics; compiled code reads the same elements,
     * passes/dynamic_pad.c, but does not check the sizes). */
    int64_t dims[HLO_MAX_RANK], n = 1;
    for (int d = 0; d < in->shape.rank; d++) {
      dims[d] = hlo_literal_get_s64(ops[d + 1], 0);
      bool dynamic = in->shape.dynamic >> d & 1;
      if (dynamic && (dims[d] < 0 || dims[d] > in->shape.dims[d]))
        return hlo_error("dynamic-reshape: size %lld of dimension %d is outside [0, %lld]",
                         (long long)dims[d], d, (long long)in->shape.dims[d]);
      if (!dynamic && dims[d] != in->shape.dims[d])
        return hlo_error("dynamic-reshape: size %lld of static dimension %d differs from its "
                         "size %lld", (long long)dims[d], d, (long long)in->shape.dims[d]);
      n *= dims[d];
    }
    if (n != elements_of(x)) {
      char *got = hlo_shape_to_string(&x->shape);
      HloError *e = hlo_error("dynamic-reshape: the sizes hold %lld elements but the operand "
                              "has %lld (%s)", (long long)n, (long long)elements_of(x), got);
      free(got);
      return e;
    }
    *out = new_array(x->shape.type, in->shape.rank, dims);
    if (n) memcpy((*out)->data, x->data, (size_t)n * esize_of(x));
    return NULL;
  }
  /* A copy of in whose operands and result have the sizes at run time. */
  HloInstr tmp = *in;
  HloInstr *opnd = hlo_xcalloc((size_t)in->noperands + 1, sizeof *opnd);
  HloInstr **opp = hlo_xcalloc((size_t)in->noperands + 1, sizeof *opp);
  for (int i = 0; i < in->noperands; i++) {
    opnd[i] = *in->operands[i];
    if (hlo_type_is_array(ops[i]->shape.type)) {
      memcpy(opnd[i].shape.dims, ops[i]->shape.dims, sizeof(int64_t) * (size_t)ops[i]->shape.rank);
      opnd[i].shape.dynamic = 0;
    }
    opp[i] = &opnd[i];
  }
  tmp.operands = opp;
  HloShape real;
  HloError *e = NULL;
  HloLiteral **cut = NULL; /* static operands cut to the size */
  int64_t gather_sizes[HLO_MAX_RANK];
  switch (in->op) {
  case HLO_OP_BROADCAST:
    real = in->shape;
    for (int k = 0; k < in->dimensions.n; k++) real.dims[in->dimensions.v[k]] = x->shape.dims[k];
    break;
  case HLO_OP_RESHAPE: e = reshape_sizes(in, x, &real); break;
  case HLO_OP_SLICE: e = slice_sizes(in, x, &real); break;
  case HLO_OP_REDUCE: case HLO_OP_TRANSPOSE: case HLO_OP_CONCATENATE: case HLO_OP_REVERSE:
  case HLO_OP_DOT: case HLO_OP_COPY: case HLO_OP_SORT: case HLO_OP_PAD:
  case HLO_OP_REDUCE_WINDOW:
    e = hlo_infer_shape(&tmp, &real);
    break;
  case HLO_OP_GATHER:
    e = gather_slice_sizes(&tmp, in, x, gather_sizes);
    if (!e) e = hlo_infer_shape(&tmp, &real);
    break;
  case HLO_OP_DYNAMIC_SLICE: case HLO_OP_DYNAMIC_UPDATE_SLICE: {
    /* Of one operand at its size: the starts clamped within it. */
    bool others = false;
    for (int i = 1; i < in->noperands; i++)
      others |= first_resized(&ops[i]->shape, &in->operands[i]->shape) >= 0;
    if (!others) {
      e = hlo_infer_shape(&tmp, &real);
      break;
    }
  }
    /* fall through */
  case HLO_OP_SCATTER:
    /* Into one operand at its size: a window that does not fit within it
     * is skipped, as XLA skips one past the size; indices and updates
     * at their sizes along the index vectors (not along a vector), and
     * a dynamic update window dim makes a window of its size. */
    if (in->op == HLO_OP_SCATTER && in->noperands == 3 && scatter_sizes_ok(in, ops)) {
      const HloScatterDims *sd = &in->scatter;
      bool fits = true;
      for (int d = 0, nw = 0; d < x->shape.rank; d++)
        if (!dims_contain(&sd->inserted_window_dims, d) &&
            !dims_contain(&sd->input_batching_dims, d))
          fits &= ops[2]->shape.dims[sd->update_window_dims.v[nw++]] <= x->shape.dims[d];
      if (!fits) {
        /* No window fits: the operand as it is. */
        *out = take_operand(ops, mov, 0);
        free(opnd);
        free(opp);
        return NULL;
      }
      e = hlo_infer_shape(&tmp, &real);
      break;
    }
    /* fall through */
  default:
    if (hlo_opcode_is_elementwise(in->op)) {
      /* A static operand next to dynamic ones holds the bound's elements,
       * of which those within the size count (XLA's padder reads the
       * static operand padded like the others).  Dynamic operands whose
       * sizes differ: one of size 1 has its row broadcast to the other's
       * size (TensorFlow's implicit broadcasting of dynamic shapes, as
       * XLA's padder does it); of two other sizes the smaller counts, as
       * in XLA's padder (passes/dynamic_pad.c does the same), the larger
       * operand's elements past it being left out. */
      for (int d = 0; d < in->shape.rank && !e; d++) {
        int64_t size = -1; /* 1 only where all are 1 */
        for (int i = 0; i < in->noperands; i++) {
          if (ops[i]->shape.rank != in->shape.rank || !(in->operands[i]->shape.dynamic >> d & 1))
            continue;
          int64_t n = ops[i]->shape.dims[d];
          if (size < 0 || (size == 1 && n != 1) || (n != 1 && n < size)) size = n;
        }
        for (int i = 0; i < in->noperands && size >= 0; i++)
          if (ops[i]->shape.rank == in->shape.rank) opnd[i].shape.dims[d] = size;
      }
      if (!e) e = hlo_infer_shape(&tmp, &real);
      for (int i = 0; i < in->noperands && !e; i++)
        if (ops[i]->shape.rank == in->shape.rank && !hlo_shape_same_dims(&ops[i]->shape, &opnd[i].shape)) {
          if (!cut) cut = hlo_xcalloc((size_t)in->noperands, sizeof *cut);
          int64_t start[HLO_MAX_RANK] = {0}, step[HLO_MAX_RANK];
          HloShape cs = ops[i]->shape;
          memcpy(cs.dims, opnd[i].shape.dims, sizeof cs.dims);
          /* The one row of a dynamic dim of size 1, read again and again. */
          for (int k = 0; k < cs.rank; k++)
            step[k] = (in->operands[i]->shape.dynamic >> k & 1) && ops[i]->shape.dims[k] == 1
                          ? 0
                          : 1;
          cut[i] = extract_box(&cs, ops[i], start, step);
        }
      break;
    }
    for (int i = 0; i < in->noperands && !e; i++) {
      int d = hlo_type_is_array(ops[i]->shape.type)
                  ? first_resized(&ops[i]->shape, &in->operands[i]->shape)
                  : -1;
      if (d >= 0)
        e = hlo_error("operand %d has dimension %d dynamic (size %lld of at most %lld): "
                          "the interpreter runs elementwise ops, broadcast, reshape, slice, "
                          "reduce, reduce-window, transpose, concatenate, reverse, dot, copy, "
                          "sort, pad, gather, dynamic-slice, dynamic-update-slice and scatter "
                          "(into its one operand) over dynamic dimensions, not %s", i, d,
                          (long long)ops[i]->shape.dims[d],
                          (long long)in->operands[i]->shape.dims[d], hlo_opcode_name(in->op));
    }
    break;
  }
  if (!e && !hlo_shape_fits(&real, &in->shape)) {
    char *got = hlo_shape_to_string(&real), *want = hlo_shape_to_string(&in->shape);
    e = hlo_error("its operands' sizes give %s, which only a shape with <=N dims "
                      "there may hold, not %s", got, want);
    free(got);
    free(want);
  }
  if (!e) {
    if (hlo_type_is_array(real.type)) {
      HloShape keep = in->shape;
      memcpy(keep.dims, real.dims, sizeof keep.dims);
      keep.dynamic = 0;
      real = keep;
    }
    tmp.shape = real;
    if (cut) {
      HloLiteral **ops2 = hlo_xcalloc((size_t)in->noperands, sizeof *ops2);
      uint8_t *mov2 = hlo_xcalloc((size_t)in->noperands, 1);
      for (int i = 0; i < in->noperands; i++) ops2[i] = cut[i] ? cut[i] : ops[i];
      e = eval_instr(ev, &tmp, ops2, mov2, out);
      free(ops2);
      free(mov2);
    } else {
      e = eval_instr(ev, &tmp, ops, mov, out);
    }
  }
  for (int i = 0; cut && i < in->noperands; i++) hlo_literal_free(cut[i]);
  free(cut);
  free(opnd);
  free(opp);
  return e;
}

/* XLA's NextAfter (client/lib/math.cc) on the bit patterns u of `from`
 * and v of `to`, w bytes wide: NaN if either is NaN; v if the patterns are
 * equal; from ±0, v if `to` is ±0, else the smallest subnormal with to's
 * sign; else u one step toward zero (u - 1) when |from| > |to| or the
 * signs differ, away from it (u + 1) otherwise.  A type without -0 (fnuz)
 * steps from the negative smallest subnormal toward +… to +0, not to the
 * NaN pattern 0x80. */
static uint64_t next_after_bits(uint64_t u, uint64_t v, int w, bool from_nan, bool to_nan,
                                uint64_t nan, bool no_neg_zero) {
  uint64_t all = w == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * w)) - 1;
  uint64_t sign = (uint64_t)1 << (8 * w - 1);
  if (from_nan || to_nan) return nan;
  if (u == v) return v;
  uint64_t ua = u & ~sign, va = v & ~sign;
  if (ua == 0) return va == 0 ? v : (v & sign) | 1;
  if (no_neg_zero && u == (sign | 1) && !(v & sign)) return 0;
  bool toward_zero = ua > va || (u & sign) != (v & sign);
  return (toward_zero ? u - 1 : u + 1) & all;
}

static HloLiteral *eval_next_after(const HloInstr *in, HloLiteral **ops) {
  HloType t = in->shape.type;
  int w = (int)hlo_type_size(t);
  const HloSmallFloat *sf = hlo_small_float(t);
  HloShape one = hlo_shape_scalar(t);
  HloLiteral *nan = hlo_literal_new(&one);
  hlo_literal_set_f64(nan, 0, NAN);
  uint64_t nan_bits = 0;
  memcpy(&nan_bits, nan->data, (size_t)w);
  hlo_literal_free(nan);
  HloLiteral *r = hlo_literal_new(&in->shape);
  int64_t n = hlo_shape_elements(&in->shape);
  for (int64_t i = 0; i < n; i++) {
    uint64_t u = 0, v = 0;
    memcpy(&u, (const char *)ops[0]->data + i * w, (size_t)w);
    memcpy(&v, (const char *)ops[1]->data + i * w, (size_t)w);
    uint64_t b = next_after_bits(u, v, w, isnan(hlo_literal_get_f64(ops[0], i)),
                                 isnan(hlo_literal_get_f64(ops[1], i)), nan_bits,
                                 sf && sf->kind == HLO_SF_FNUZ);
    memcpy((char *)r->data + i * w, &b, (size_t)w);
  }
  return r;
}

/* XLA's complex Acos, Acosh, Cosh and Atan (client/lib/math.cc), on complex
 * operands throughout (1 is (1, 0), so an imaginary -0 adds to +0 as in
 * the HLO XLA's builder writes):
 *   acos(z)  = -(i · log(z + i · sqrt((1 + z)(1 - z))))
 *   acosh(z) = log(z + sqrt((z + 1)(z - 1)))
 *   cosh(z)  = exp(z + log(1/2)) + exp(-z + log(1/2))
 *   atan(z)  = atan2(z, 1), XLA's complex atan2(y, x) being
 *              -i · log((x + i·y) / sqrt(x·x + y·y)) */
#define BUILDER_COMPLEX(SUF, T, F, MK)                                            \
  static void builder_complex_##SUF(const char *f, const T *x, T *y, int64_t n) { \
    T one = MK(1, 0), i1 = MK(0, 1), half = clog##F(MK(0.5, 0));              \
    for (int64_t k = 0; k < n; k++) {                                            \
      T z = x[k];                                                                \
      if (!strcmp(f, "Acos"))                                                    \
        y[k] = -(i1 * clog##F(z + i1 * csqrt##F((one + z) * (one - z))));        \
      else if (!strcmp(f, "Acosh"))                                              \
        y[k] = clog##F(z + csqrt##F((z + one) * (z - one)));                     \
      else if (!strcmp(f, "Atan"))                                               \
        y[k] = -(i1 * clog##F((one + i1 * z) / csqrt##F(one * one + z * z)));    \
      else                                                                       \
        y[k] = cexp##F(z + half) + cexp##F(-z + half);                           \
    }                                                                            \
  }
BUILDER_COMPLEX(c64, float complex, f, CMPLXF)
BUILDER_COMPLEX(c128, double complex, , CMPLX)
#undef BUILDER_COMPLEX

/* XLA's complex asin (StableHLO's, from Hull et al.: the real part
 * atan2(x, …), the imaginary part log1p(…) or, past safe_max, log 2 +
 * log max(|x|, |y|) …), step for step as the HLO XLA's builder writes it,
 * in the part type R; K holds its constants: sqrt(largest)/8 (safe_max),
 * the thresholds for |x| and |y| derived from it, sqrt(smallest normal).
 * maximum and minimum propagate NaN, as HLO's do. */
typedef struct AsinConsts {
  double safe_max, x_big, y_small, y_large, tiny;
} AsinConsts;
static const AsinConsts asin_k_f32 = {2.30584287e+18, 2.30584285e+30, 2.30584274e+12,
                                    2.30584283e+20, 4.33680869e-19};
static const AsinConsts asin_k_f64 = {1.6759759912428245e+153, 1.6759759912428244e+165,
                                    1.6759759912428242e+147, 1.6759759912428244e+155,
                                    5.9666725849601654e-154};
#define BUILDER_ASIN(SUF, R, F)                                                    \
  static R max_##SUF(R a, R b) { return isnan(a) || isnan(b) ? (R)NAN : a > b ? a : b; } \
  static R min_##SUF(R a, R b) { return isnan(a) || isnan(b) ? (R)NAN : a < b ? a : b; } \
  /* hypot(a, b) of a, b >= 0, as XLA's asin computes it */                      \
  static R hypot_##SUF(R a, R b) {                                                \
    R mx = max_##SUF(a, b), mn = min_##SUF(a, b);                                 \
    R r = mn / mx, r2 = r * r, sq = sqrt##F(1 + r2);                              \
    if (mx == mn) return (R)1.4142135623730951 * mx;                              \
    return sq == 1 && r2 > 0 ? mx + mx * r2 / 2 : mx * sq;                        \
  }                                                                               \
  static void asin_##SUF(R x, R y, const AsinConsts *c, R *re, R *im) {           \
    R safe_max = (R)c->safe_max;                                                  \
    R ax = fabs##F(x), ay = fabs##F(y);                                           \
    R xp1 = ax + 1, xm1 = ax - 1;                                                 \
    R s1 = hypot_##SUF(fabs##F(xp1), ay), s2 = hypot_##SUF(fabs##F(xm1), ay);     \
    R a = (R)0.5 * (s1 + s2), half_apx = (R)0.5 * (a + ax), yy = ay * ay;         \
    R rpxp1 = s1 + xp1, smxm1 = s2 - xm1, sxm1 = s2 + xm1;                        \
    R t1 = sqrt##F(half_apx * (yy / rpxp1 + smxm1));                              \
    R t2 = ay * sqrt##F(half_apx / rpxp1 + half_apx / sxm1);                      \
    R arg = max_##SUF(ax, ay) >= safe_max ? ay : ax <= 1 ? t1 : t2;               \
    *re = atan2##F(x, arg);                                                       \
    R safe_opt = ax < (R)c->x_big ? (R)c->y_small : (R)c->y_large;                \
    bool yge = ay >= safe_opt;                                                    \
    R mxx = yge ? ay : ax, thr = yge ? safe_opt : safe_max;                       \
    R xoy = yge && !(ay == (R)INFINITY) ? ax / ay : 0;                            \
    R im_big = ((R)0.69314718055994529 + log##F(mxx)) + (R)0.5 * log1p##F(xoy * xoy); \
    bool small = ay < (R)c->tiny && ax < 1;                                       \
    R ap1 = a + 1, hyy = (R)0.5 * yy, d1 = hyy / rpxp1;                           \
    R am1 = small  ? -((xp1 * xm1) / ap1)                                         \
            : ax >= 1 ? d1 + (R)0.5 * sxm1                                        \
            : a <= (R)1.5 ? d1 + hyy / smxm1                                      \
                          : a - 1;                                                \
    R sq = sqrt##F(am1 * ap1);                                                    \
    R i = mxx >= thr ? im_big : small ? ay / sq : log1p##F(am1 + sq);             \
    *im = y < 0 ? -i : i;                                                         \
  }                                                                               \
  /* Asin of z, or Asinh: asin of (im z, -re z), its parts swapped, the real \
   * part negated unless re z == 0 and |im z| > 1. */                            \
  static void builder_asin_##SUF(bool asinh, const R *z, R *out, int64_t n,     \
                                 const AsinConsts *c) {                         \
    for (int64_t k = 0; k < n; k++) {                                            \
      R x = z[2 * k], y = z[2 * k + 1], re, im;                                  \
      if (!asinh) {                                                              \
        asin_##SUF(x, y, c, &out[2 * k], &out[2 * k + 1]);                       \
        continue;                                                                \
      }                                                                          \
      asin_##SUF(y, -x, c, &re, &im);                                            \
      out[2 * k] = x == 0 && fabs##F(y) > 1 ? im : -im;                          \
      out[2 * k + 1] = re;                                                       \
    }                                                                            \
  }
BUILDER_ASIN(f32, float, f)
BUILDER_ASIN(f64, double, )
#undef BUILDER_ASIN

/* XLA's builder library functions (hlo_builder_lib_call), computed
 * directly: builder_lib.c writes them as HLO, and these are its oracle. */

/* Einsum in the order XLA's builder computes it (what matters for
 * infinities and NaN): each operand first summed over its labels that
 * neither the other operand nor the result has, reading only its diagonal
 * where a label repeats in it; then out[o] += x'[i] · y'[j] over every
 * assignment of the remaining labels (result positions whose repeated
 * labels differ stay 0).  Floats accumulate in double, integers wrap. */
typedef struct EinsumAcc {
  double *f;
  uint64_t *i;
} EinsumAcc;

static EinsumAcc einsum_acc(int64_t n) {
  return (EinsumAcc){calloc((size_t)(n ? n : 1), sizeof(double)),
                     calloc((size_t)(n ? n : 1), sizeof(uint64_t))};
}

static HloLiteral *eval_einsum(const HloInstr *in, HloLiteral **ops) {
  HloEinsum eq;
  hlo_einsum_parse(in, &eq);
  const HloShape *sh[3] = {&ops[0]->shape, &ops[1]->shape, &in->shape};
  bool fl = hlo_type_is_float(in->shape.type);
  char lab[3 * HLO_MAX_RANK];
  int64_t size[3 * HLO_MAX_RANK];
  int nl = 0, pos[3][HLO_MAX_RANK];
  for (int o = 0; o < 3; o++)
    for (int d = 0; d < eq.nlabel[o]; d++) {
      int k = 0;
      while (k < nl && lab[k] != eq.label[o][d]) k++;
      if (k == nl) {
        lab[nl] = eq.label[o][d];
        size[nl++] = sh[o]->dims[d];
      }
      pos[o][d] = k;
    }
  /* kept[o]: the labels operand o keeps, once each, as indices into lab. */
  int kept[2][HLO_MAX_RANK], nkept[2] = {0, 0};
  bool live[3 * HLO_MAX_RANK] = {false};
  EinsumAcc red[2];
  for (int o = 0; o < 2; o++) {
    for (int d = 0; d < eq.nlabel[o]; d++) {
      char c = eq.label[o][d];
      bool dup = memchr(eq.label[o], c, (size_t)d) != NULL;
      if (!dup && (memchr(eq.label[1 - o], c, (size_t)eq.nlabel[1 - o]) ||
                   memchr(eq.label[2], c, (size_t)eq.nlabel[2])))
        kept[o][nkept[o]++] = pos[o][d], live[pos[o][d]] = true;
    }
    int64_t nk = 1;
    for (int k = 0; k < nkept[o]; k++) nk *= size[kept[o][k]];
    red[o] = einsum_acc(nk);
    int64_t n = hlo_shape_elements(sh[o]), idx[HLO_MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
      int64_t val[3 * HLO_MAX_RANK];
      bool diag = true;
      for (int d = 0; d < eq.nlabel[o]; d++) val[pos[o][d]] = -1;
      for (int d = 0; d < eq.nlabel[o]; d++) {
        if (val[pos[o][d]] >= 0 && val[pos[o][d]] != idx[d]) diag = false;
        val[pos[o][d]] = idx[d];
      }
      if (diag) {
        int64_t f = 0;
        for (int k = 0; k < nkept[o]; k++) f = f * size[kept[o][k]] + val[kept[o][k]];
        if (fl) red[o].f[f] += hlo_literal_get_f64(ops[o], i);
        else red[o].i[f] += (uint64_t)hlo_literal_get_s64(ops[o], i);
      }
      for (int d = eq.nlabel[o] - 1; d >= 0 && ++idx[d] == sh[o]->dims[d]; d--) idx[d] = 0;
    }
  }
  HloLiteral *r = hlo_literal_new(&in->shape);
  int64_t n = hlo_shape_elements(&in->shape), total = 1, val[3 * HLO_MAX_RANK] = {0};
  for (int k = 0; k < nl; k++)
    if (live[k]) total *= size[k];
  EinsumAcc acc = einsum_acc(n);
  for (int64_t it = 0; it < total; it++) {
    int64_t f[2] = {0, 0}, fo = 0;
    for (int o = 0; o < 2; o++)
      for (int k = 0; k < nkept[o]; k++) f[o] = f[o] * size[kept[o][k]] + val[kept[o][k]];
    for (int d = 0; d < eq.nlabel[2]; d++) fo = fo * sh[2]->dims[d] + val[pos[2][d]];
    if (fl) acc.f[fo] += red[0].f[f[0]] * red[1].f[f[1]];
    else acc.i[fo] += red[0].i[f[0]] * red[1].i[f[1]];
    for (int k = nl - 1; k >= 0; k--) {
      if (!live[k]) continue;
      if (++val[k] < size[k]) break;
      val[k] = 0;
    }
  }
  for (int64_t i = 0; i < n; i++) {
    if (fl) hlo_literal_set_f64(r, i, acc.f[i]);
    else hlo_literal_set_s64(r, i, (int64_t)acc.i[i]);
  }
  for (int o = 0; o < 2; o++) free(red[o].f), free(red[o].i);
  free(acc.f);
  free(acc.i);
  return r;
}

/* GetMatrixDiagonalViaGather: x[..., i, i]. */
static HloLiteral *eval_matrix_diagonal(const HloInstr *in, HloLiteral *x) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int64_t m = x->shape.dims[x->shape.rank - 2], c = x->shape.dims[x->shape.rank - 1];
  int64_t k = in->shape.dims[in->shape.rank - 1], n = hlo_shape_elements(&in->shape);
  size_t es = hlo_type_size(in->shape.type);
  for (int64_t i = 0; i < n; i++) {
    int64_t b = i / k, j = i % k;
    memcpy((char *)r->data + i * es, (const char *)x->data + ((b * m + j) * c + j) * es, es);
  }
  return r;
}

/* ScramblePhiloxKey: the key's halves (lo, 0, hi, 0) through 10 Philox
 * rounds under the key (0x3ec8f720, 0x02461e29); the new key is words 0
 * and 1 of the result (lo | hi << 32), as XLA's prng.cc returns it. */
static uint64_t scramble_philox_key(uint64_t key) {
  uint32_t x[4] = {(uint32_t)key, 0, (uint32_t)(key >> 32), 0};
  uint32_t k0 = 0x3ec8f720u, k1 = 0x02461e29u;
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = (uint64_t)x[0] * 0xD2511F53u, p1 = (uint64_t)x[2] * 0xCD9E8D57u;
    uint32_t y[4] = {(uint32_t)(p1 >> 32) ^ x[1] ^ k0, (uint32_t)p1,
                     (uint32_t)(p0 >> 32) ^ x[3] ^ k1, (uint32_t)p0};
    memcpy(x, y, sizeof x);
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return (uint64_t)x[0] | (uint64_t)x[1] << 32;
}

/* TridiagonalSolver by the Thomas algorithm, step for step as XLA's
 * tridiagonal.cc: per batch and right-hand side, with l, d, u the
 * diagonals (l[0] and u[n-1] unread) and b the right-hand side,
 *   d'[0] = d[0], b'[0] = b[0];
 *   w = l[i] / d'[i-1], d'[i] = d[i] - w u[i-1], b'[i] = b[i] - w b'[i-1];
 *   x[n-1] = b'[n-1] / d'[n-1], x[i] = (b'[i] - u[i] x[i+1]) / d'[i].
 * With two operands the diagonals are rows 0 (u), 1 (d), 2 (l) of
 * [..., 3, n] and the equations run along rhs's dim -2 ([..., n, k]);
 * with four, (l, d, u) are [..., 1, n] and along rhs's dim -1. */
#define THOMAS(SUF, T)                                                                  \
  static void thomas_##SUF(HloLiteral **ops, int nops, HloLiteral *r) {                 \
    const HloShape *bs = &ops[nops - 1]->shape;                                         \
    bool stacked = nops == 2;                                                           \
    int64_t n = bs->dims[bs->rank - (stacked ? 2 : 1)];                                 \
    int64_t k = bs->dims[bs->rank - (stacked ? 1 : 2)];                                 \
    int64_t batches = n && k ? hlo_shape_elements(bs) / (n * k) : 0;                     \
    T *dp = malloc(sizeof(T) * (size_t)(n ? n : 1));                                    \
    T *bp = malloc(sizeof(T) * (size_t)(n ? n : 1));                                    \
    T *out = r->data;                                                                   \
    for (int64_t bt = 0; bt < batches; bt++) {                                          \
      const T *l, *d, *u;                                                               \
      if (stacked) {                                                                    \
        const T *g = (const T *)ops[0]->data + bt * 3 * n;                              \
        u = g, d = g + n, l = g + 2 * n;                                                \
      } else {                                                                          \
        l = (const T *)ops[0]->data + bt * n, d = (const T *)ops[1]->data + bt * n;     \
        u = (const T *)ops[2]->data + bt * n;                                           \
      }                                                                                 \
      const T *rhs = (const T *)ops[nops - 1]->data + bt * n * k;                       \
      T *x = out + bt * n * k;                                                          \
      for (int64_t j = 0; j < k; j++) {                                                 \
        int64_t st = stacked ? k : 1, o = stacked ? j : j * n;                          \
        dp[0] = d[0];                                                                   \
        bp[0] = rhs[o];                                                                 \
        for (int64_t i = 1; i < n; i++) {                                               \
          T w = l[i] / dp[i - 1];                                                       \
          dp[i] = d[i] - w * u[i - 1];                                                  \
          bp[i] = rhs[o + i * st] - w * bp[i - 1];                                      \
        }                                                                               \
        if (n) x[o + (n - 1) * st] = bp[n - 1] / dp[n - 1];                             \
        for (int64_t i = n - 2; i >= 0; i--)                                            \
          x[o + i * st] = (bp[i] - u[i] * x[o + (i + 1) * st]) / dp[i];                 \
      }                                                                                 \
    }                                                                                   \
    free(dp);                                                                           \
    free(bp);                                                                           \
  }
THOMAS(f32, float)
THOMAS(f64, double)
#undef THOMAS

static HloLiteral *eval_builder_lib(const HloInstr *in, HloLiteral **ops) {
  HloLiteral *r;
  switch (hlo_builder_lib_call(in)) {
  case HLO_BL_EINSUM: return eval_einsum(in, ops);
  case HLO_BL_DIAGONAL: return eval_matrix_diagonal(in, ops[0]);
  case HLO_BL_PHILOX_KEY: {
    r = hlo_literal_new(&in->shape);
    int64_t n = hlo_shape_elements(&in->shape);
    for (int64_t i = 0; i < n; i++)
      ((uint64_t *)r->data)[i] = scramble_philox_key(((const uint64_t *)ops[0]->data)[i]);
    return r;
  }
  default:
    r = hlo_literal_new(&in->shape);
    if (in->shape.type == HLO_F32) thomas_f32(ops, in->noperands, r);
    else thomas_f64(ops, in->noperands, r);
    return r;
  }
}

/* XLA's Polygamma (math.cc), computed in double on the same formulas
 * builder_math.c writes in the element type: Lanczos' lgamma and digamma
 * (g = 7, 9 terms, reflected below 1/2), the Hurwitz zeta by 10 terms and
 * Euler-Maclaurin (eps the element type's), and polygamma from them. */
static const double PI_D = 3.14159265358979323846;
static const double lanczos_base = 0.99999999999980993227684700473478;
static const double lanczos_coef[8] = {
    676.520368121885098567009190444019, -1259.13921672240287047156078755283,
    771.3234287776530788486528258894,   -176.61502916214059906584551354,
    12.507343278686904814458936853,     -0.13857109526572011689554707,
    9.984369578019570859563e-6,         1.50563273514931155834e-7};

static double xla_lgamma(double in) {
  bool reflect = in < 0.5;
  double z = reflect ? -in : in - 1, x = lanczos_base;
  for (int i = 0; i < 8; i++) x += lanczos_coef[i] / (z + i + 1);
  double t = 7.5 + z, log_t = log(7.5) + log1p(z / 7.5);
  double log_y = (log(2.0) + log(PI_D)) / 2 + (z + 0.5 - t / log_t) * log_t + log(x);
  double a = fabs(in), frac = a - floor(a);
  double den = log(sin(PI_D * (frac > 0.5 ? 1 - frac : frac)));
  double refl = isfinite(den) ? log(PI_D) - den - log_y : -den;
  return isinf(in) ? INFINITY : reflect ? refl : log_y;
}

static double xla_digamma(double in) {
  bool reflect = in < 0.5;
  double z = reflect ? -in : in - 1, num = 0, den = lanczos_base;
  for (int i = 0; i < 8; i++) {
    double zi = z + i + 1;
    num -= lanczos_coef[i] / (zi * zi);
    den += lanczos_coef[i] / zi;
  }
  double t = 7.5 + z, log_t = log(7.5) + log1p(z / 7.5);
  double y = log_t + num / den - 7 / t;
  double r = in + fabs(floor(in + 0.5));
  double v = reflect ? y - PI_D * cos(PI_D * r) / sin(PI_D * r) : y;
  if (in == 0) v = -INFINITY;
  return in < 0 && in == floor(in) ? NAN : v;
}

static double xla_zeta(double x, double q, double eps) {
  static const double coef[12] = {
      -7.1661652561756670113e18, 1.8152105401943546773e17, -4.5979787224074726105e15,
      1.1646782814350067249e14,  -2.950130727918164224e12,  7.47242496e10,
      -1.8924375803183791606e9,  47900160.0,                -1209600.0,
      30240.0,                   -720.0,                    12.0};
  double acc = q, sum = pow(q, -x);
  for (int i = 0; i < 9; i++) sum += pow(acc += 1, -x);
  acc += 1;
  double np = pow(acc, -x), horner = 0;
  for (int i = 0; i < 11; i++)
    horner = (x + (22 - 2 * i)) * (x + (21 - 2 * i)) / (acc * acc) * (horner + 1 / coef[i]);
  double out = sum + np * acc / (x - 1) + np * (0.5 + x / acc * (1 / coef[11] + horner));
  if (fabs(np) < fabs(sum) * eps) out = sum;
  if (x == 1) out = INFINITY;
  if (x < 1) out = NAN;
  bool x_int = x == floor(x);
  if (q <= 0 && !x_int) out = NAN;
  if (q <= 0 && q == floor(q)) out = fmod(x, 2) == 0 && x_int ? INFINITY : NAN;
  return out;
}

static double xla_polygamma(double n, double x, double eps) {
  if (n != floor(n) || n < 0 || isnan(n)) return NAN;
  if (n == 0) return xla_digamma(x);
  double fact = exp(xla_lgamma(n + 1));
  if (x < 0 && x != floor(x) && n <= 4) {
    double pix = PI_D * (x + fabs(floor(x + 0.5))), s = sin(pix), c = cos(pix);
    double g = n == 1   ? -PI_D * PI_D / (s * s)
               : n == 2 ? 2 * pow(PI_D, 3) * c / pow(s, 3)
               : n == 3 ? -2 * pow(PI_D, 4) * (2 + cos(2 * pix)) / pow(s, 4)
                        : 8 * pow(PI_D, 5) * c * (2 + c * c) / pow(s, 5);
    return -fact * xla_zeta(n + 1, 1 - x, eps) - g;
  }
  return (2 * fmod(n, 2) - 1) * fact * xla_zeta(n + 1, x, eps);
}

/* XLA's RegularizedIncompleteBeta in double: the continued fraction of
 * DLMF 8.17.22-23 by Lentz-Thompson-Barnett (small = threshold = eps/2 of
 * the element type, at most 200 or 600 iterations, each element until its
 * own |delta - 1| < threshold), after the symmetry swap where x >= (a +
 * 1)/(a + b + 2). */
static double xla_betainc(double a, double b, double x, bool f32) {
  double small = f32 ? 0x1p-24 : 0x1p-53;
  int iters = f32 ? 200 : 600;
  bool bad = a <= 0 || b <= 0 || x < 0 || x > 1;
  bool fast = x < (a + 1) / (a + b + 2);
  if (!fast) {
    double t = a;
    a = b, b = t, x = 1 - x;
  }
  double c = small, d = 0, h = small;
  for (int it = 1; it < iters; it++) {
    double m = (double)((it - 1) / 2), num;
    if (it == 1) num = 1;
    else if (it % 2 == 0) num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    else num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    c = 1 + num / c;
    if (fabs(c) < small) c = small;
    d = 1 + num * d;
    if (fabs(d) < small) d = small;
    d = 1 / d;
    double delta = c * d;
    h *= delta;
    if (!(fabs(delta - 1) >= small)) break;
  }
  double lbeta = xla_lgamma(a) + xla_lgamma(b) - xla_lgamma(a + b);
  double r = h * exp(log(x) * a + log1p(-x) * b - lbeta) / a;
  if (bad) r = NAN;
  return fast ? r : 1 - r;
}

static HloLiteral *eval_betainc(const HloInstr *in, HloLiteral **ops) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int64_t n = hlo_shape_elements(&in->shape);
  for (int64_t i = 0; i < n; i++)
    hlo_literal_set_f64(r, i,
                        xla_betainc(hlo_literal_get_f64(ops[0], i), hlo_literal_get_f64(ops[1], i),
                                    hlo_literal_get_f64(ops[2], i), in->shape.type == HLO_F32));
  return r;
}

/* XLA's IgammaGradA (sample false) and RandomGammaGrad in double: the
 * series (while |dc_da/dans_da| > eps) where x <= 1 or x <= a, else minus
 * the continued fraction (at most 2000 steps, while its derivative moves
 * by more than eps, rescaled by eps past 1/eps), each element by itself as
 * XLA's masks make it; eps and the underflow bound the element type's.
 * The series stops after 2^20 terms as a guard XLA does not have. */
static double xla_igamma_grad(double a, double x, bool sample, bool f32) {
  double eps = f32 ? 0x1p-23 : 0x1p-52;
  double maxf = f32 ? 3.4028234663852886e38 : 1.7976931348623157e308;
  bool nan_in = isnan(a) || isnan(x), x0 = x == 0, dom = x < 0 || a <= 0;
  bool use_c = x > 1 && x > a;
  double ax = a * log(x) - x - xla_lgamma(a);
  bool en = !(x0 || dom || ax < -log(maxf) || nan_in);
  ax = exp(ax);
  double out;
  if (use_c) {
    double y = 1 - a, z = x + y + 1, c = 0, pkm2 = 1, qkm2 = x, pkm1 = x + 1, qkm1 = z * x;
    double ans = pkm1 / qkm1, dpkm2 = 0, dqkm2 = 0, dpkm1 = 0, dqkm1 = -x;
    double dans = (0 - ans * dqkm1) / qkm1;
    while (en && c < 2000) {
      c += 1, y += 1, z += 2;
      double yc = y * c, pk = pkm1 * z - pkm2 * yc, qk = qkm1 * z - qkm2 * yc;
      bool nz = qk != 0;
      double r = pk / qk;
      ans = nz ? r : ans;
      double dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c;
      double dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c;
      double dn = nz ? (dpk - ans * dqk) / qk : dans;
      double grad = nz ? fabs(dn - dans) : 1;
      pkm2 = pkm1, pkm1 = pk, qkm2 = qkm1, qkm1 = qk;
      dpkm2 = dpkm1, dqkm2 = dqkm1, dpkm1 = dpk, dqkm1 = dqk;
      if (fabs(pk) > 1 / eps) {
        pkm2 *= eps, pkm1 *= eps, qkm2 *= eps, qkm1 *= eps;
        dpkm2 *= eps, dqkm2 *= eps, dpkm1 *= eps, dqkm1 *= eps;
      }
      dans = dn;
      if (!(grad > eps)) break;
    }
    double dl = log(x) - xla_digamma(a);
    out = -(sample ? -(dans + ans * dl) * x : ax * (ans * dl + dans));
  } else {
    double r = a, c = 1, ans = 1, dc = 0, dans = 0;
    for (long k = 0; en && k < (1L << 20); k++) {
      r += 1;
      dc = dc * (x / r) + (-1 * c * x) / (r * r);
      dans += dc;
      c *= x / r;
      ans += c;
      if (!(fabs(dc / dans) > eps)) break;
    }
    double dl = log(x) - xla_digamma(a + 1);
    out = sample ? -(dans + ans * dl) * x / a : ax * (ans * dl + dans) / a;
  }
  if (x0) out = 0;
  return dom || nan_in ? NAN : out;
}

static HloLiteral *eval_igamma_grad(const HloInstr *in, HloLiteral **ops, bool sample) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int64_t n = hlo_shape_elements(&in->shape);
  for (int64_t i = 0; i < n; i++)
    hlo_literal_set_f64(r, i,
                        xla_igamma_grad(hlo_literal_get_f64(ops[0], i),
                                        hlo_literal_get_f64(ops[1], i), sample,
                                        in->shape.type == HLO_F32));
  return r;
}

static HloLiteral *eval_polygamma(const HloInstr *in, HloLiteral **ops) {
  HloLiteral *r = hlo_literal_new(&in->shape);
  int64_t n = hlo_shape_elements(&in->shape);
  double eps = in->shape.type == HLO_F32 ? 0x1p-23 : 0x1p-52;
  for (int64_t i = 0; i < n; i++)
    hlo_literal_set_f64(r, i,
                        xla_polygamma(hlo_literal_get_f64(ops[0], i),
                                      hlo_literal_get_f64(ops[1], i), eps));
  return r;
}

/* An xla_builder.* custom-call runs its computation, or is the math
 * function it names (hlo_builder_call); any other target is refused by
 * name. */
static HloError *eval_builder_call(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                                   HloLiteral **out) {
  HloOpcode op;
  const HloComputation *comp;
  const char *why = hlo_builder_call(in, &op, &comp);
  const char *t = in->custom_call_target ? in->custom_call_target : "";
  if (why) return hlo_error("custom-call target \"%s\" is not supported: %s", t, why);
  if (comp) return call_on_operands(ev, comp, ops, mov, 0, in->noperands, out);
  if (op == HLO_NUM_OPCODES)
    return hlo_error("custom-call target \"%s\" is not supported by the evaluator", t);
  if (op == HLO_OP_CUSTOM_CALL && hlo_builder_lib_call(in) != HLO_BL_NONE) {
    *out = eval_builder_lib(in, ops);
    return NULL;
  }
  if (op == HLO_OP_CUSTOM_CALL && hlo_type_is_complex(in->shape.type)) {
    HloLiteral *r = hlo_literal_new(&in->shape);
    const char *f = t + strlen("xla_builder.math.");
    int64_t n = hlo_shape_elements(&in->shape);
    bool asinh = !strcmp(f, "Asinh");
    if (asinh || !strcmp(f, "Asin")) {
      if (in->shape.type == HLO_C64) builder_asin_f32(asinh, ops[0]->data, r->data, n, &asin_k_f32);
      else builder_asin_f64(asinh, ops[0]->data, r->data, n, &asin_k_f64);
    } else if (in->shape.type == HLO_C64) builder_complex_c64(f, ops[0]->data, r->data, n);
    else builder_complex_c128(f, ops[0]->data, r->data, n);
    *out = r;
    return NULL;
  }
  bool grad_a = !strcmp(t, "xla_builder.math.IgammaGradA");
  if (op == HLO_OP_CUSTOM_CALL && (grad_a || !strcmp(t, "xla_builder.math.RandomGammaGrad"))) {
    *out = eval_igamma_grad(in, ops, !grad_a);
    return NULL;
  }
  if (op == HLO_OP_CUSTOM_CALL && !strcmp(t, "xla_builder.math.RegularizedIncompleteBeta")) {
    *out = eval_betainc(in, ops);
    return NULL;
  }
  if (op == HLO_OP_CUSTOM_CALL && !strcmp(t, "xla_builder.math.Polygamma")) {
    *out = eval_polygamma(in, ops);
    return NULL;
  }
  if (op == HLO_OP_CUSTOM_CALL) {
    *out = eval_next_after(in, ops);
    return NULL;
  }
  HloInstr fn = *in;
  fn.op = op;
  HloLiteral *r = hlo_literal_new(&in->shape);
  HloError *e = eval_elementwise(&fn, ops, r);
  if (e) {
    hlo_literal_free(r);
    return e;
  }
  *out = r;
  return NULL;
}

static HloError *eval_instr(Ev *ev, const HloInstr *in, HloLiteral **ops, uint8_t *mov,
                            HloLiteral **out) {
  HloLiteral *r = NULL;
  if (hlo_is_custom_call_to(in, "PadToStatic") || hlo_is_custom_call_to(in, "SliceToDynamic"))
    return eval_dynamic_custom_call(in, ops, out);
  if (in->op == HLO_OP_GET_DIMENSION_SIZE || in->op == HLO_OP_SET_DIMENSION_SIZE ||
      in->op == HLO_OP_DYNAMIC_RESHAPE ||
      (hlo_opcode_kind(in->op) != HLO_KIND_CONTROL && hlo_opcode_kind(in->op) != HLO_KIND_TUPLE &&
       operands_resized(in, ops)))
    return eval_dynamic(ev, in, ops, mov, out);
  if (hlo_opcode_is_elementwise(in->op) && in->shape.type != HLO_TUPLE) {
    r = hlo_literal_new(&in->shape);
    HloError *e = eval_elementwise(in, ops, r);
    if (e) {
      hlo_literal_free(r);
      return e;
    }
    *out = r;
    return NULL;
  }
  switch (in->op) {
  case HLO_OP_COPY: r = hlo_literal_clone(ops[0]); break;
  case HLO_OP_IOTA: r = eval_iota(in); break;
  case HLO_OP_TUPLE: {
    HloLiteral **elems = hlo_xmalloc(sizeof(HloLiteral *) * (size_t)(in->noperands + 1));
    for (int k = 0; k < in->noperands; k++) elems[k] = take_operand(ops, mov, k);
    r = hlo_literal_tuple(elems, in->noperands);
    free(elems);
    break;
  }
  case HLO_OP_BROADCAST: r = eval_broadcast(in, ops[0]); break;
  case HLO_OP_RESHAPE: r = eval_reshape(&in->shape, ops[0]); break;
  case HLO_OP_BITCAST: r = eval_bitcast(in, ops[0]); break;
  case HLO_OP_TRANSPOSE: r = eval_transpose(in, ops[0]); break;
  case HLO_OP_SLICE: r = eval_slice(in, ops[0]); break;
  case HLO_OP_DYNAMIC_SLICE: r = eval_dynamic_slice(in, ops); break;
  case HLO_OP_DYNAMIC_UPDATE_SLICE: r = eval_dynamic_update_slice(in, ops, mov); break;
  case HLO_OP_CONCATENATE: r = eval_concatenate(in, ops); break;
  case HLO_OP_PAD: r = eval_pad(in, ops[0], ops[1]); break;
  case HLO_OP_REVERSE: r = eval_reverse(in, ops[0]); break;
  case HLO_OP_GATHER: r = eval_gather(in, ops[0], ops[1]); break;
  case HLO_OP_SCATTER: return eval_scatter(ev, in, ops, mov, out);
  case HLO_OP_REDUCE: return eval_reduce(ev, in, ops, out);
  case HLO_OP_REDUCE_WINDOW: return eval_reduce_window(ev, in, ops, out);
  case HLO_OP_SELECT_AND_SCATTER: {
    /* The window walk trusts the shapes: check them on unverified input. */
    HloShape checked;
    HloError *e = hlo_infer_shape(in, &checked);
    return e ? e : eval_select_and_scatter(ev, in, ops, out);
  }
  case HLO_OP_SORT: return eval_sort(ev, in, ops, mov, out);
  case HLO_OP_MAP: return eval_map(ev, in, ops, out);
  case HLO_OP_TOPK: r = eval_topk(in, ops[0], in->topk_k, in->topk_largest); break;
  case HLO_OP_CHOLESKY: r = eval_cholesky(in, ops[0]); break;
  case HLO_OP_FFT: r = eval_fft(in, ops[0]); break;
  case HLO_OP_RNG_BIT_GENERATOR: {
    /* Its shapes decide how many words are read and written: an unverified
     * module (u8 bits, a short state) must not reach the loops. */
    HloShape checked;
    HloError *e = hlo_infer_shape(in, &checked);
    if (e) return e;
    r = eval_rng_bit_generator(in, ops[0]);
    break;
  }
  case HLO_OP_RNG: r = eval_rng(in, ops[0], ops[1]); break;
  case HLO_OP_STOCHASTIC_CONVERT: r = eval_stochastic_convert(in, ops[0], ops[1]); break;
  case HLO_OP_TRIANGULAR_SOLVE: r = eval_triangular_solve(in, ops[0], ops[1]); break;
  case HLO_OP_DOT: r = eval_dot(in, ops[0], ops[1]); break;
  case HLO_OP_RAGGED_DOT: r = eval_ragged_dot(in, ops[0], ops[1], ops[2]); break;
  case HLO_OP_SCALED_DOT: r = eval_scaled_dot(in, ops); break;
  case HLO_OP_CONVOLUTION: r = eval_convolution(in, ops[0], ops[1]); break;
  case HLO_OP_BATCH_NORM_INFERENCE: return eval_batch_norm_inference(in, ops, out);
  case HLO_OP_BATCH_NORM_TRAINING:
  case HLO_OP_BATCH_NORM_GRAD: return eval_batch_norm_training_grad(in, ops, out);
  case HLO_OP_CALL:
  case HLO_OP_FUSION: return call_on_operands(ev, in->called[0], ops, mov, 0, in->noperands, out);
  case HLO_OP_WHILE: return eval_while(ev, in, ops, mov, out);
  case HLO_OP_CONDITIONAL: return eval_conditional(ev, in, ops, mov, out);
  case HLO_OP_CUSTOM_CALL: {
    int64_t k;
    bool largest;
    if (hlo_custom_call_is_identity(in)) {
      r = hlo_literal_clone(ops[0]);
      break;
    }
    if (hlo_custom_call_allocates(in)) {
      /* Uninitialized in XLA: zeros, as compiled. */
      r = new_array(in->shape.type, in->shape.rank, in->shape.dims);
      break;
    }
    if (hlo_topk_custom_call(in, &k, &largest)) {
      r = eval_topk(in, ops[0], k, largest);
      break;
    }
    if (hlo_lapack_call(in).kind != HLO_LAPACK_NONE) {
      HloLapackCall lc = hlo_lapack_call(in);
      r = eval_lapack(in, &lc, ops);
      break;
    }
    return eval_builder_call(ev, in, ops, mov, out);
  }
  default: return eval_single_device(ev, in, ops, out);
  }
  *out = r;
  return NULL;
}

/* hlo_evaluate_computation under opts (NULL: unbounded). */
static HloError *evaluate_computation(const HloComputation *c, HloLiteral *const *args,
                                      int nargs, HloEvalOptions *opts, HloLiteral **out) {
  *out = NULL;
  if (!c->root) return hlo_error("computation %%%s has no root", c->name);
  if (nargs != c->nparams)
    return hlo_error("computation %%%s takes %d arguments, got %d", c->name, c->nparams, nargs);
  for (int k = 0; k < nargs; k++) {
    const HloInstr *p = c->params[k];
    if (!p) return hlo_error("computation %%%s has no parameter %d", c->name, k);
    if (!hlo_shape_fits(&args[k]->shape, &p->shape)) {
      char *got = hlo_shape_to_string(&args[k]->shape), *want = hlo_shape_to_string(&p->shape);
      HloError *e = hlo_error("argument %d of computation %%%s has shape %s, parameter %%%s "
                              "expects %s", k, c->name, got, p->name, want);
      free(got);
      free(want);
      return e;
    }
  }
  Ev ev = {.opts = opts};
  if (opts) opts->stopped_at = NULL;
  HloError *e = run_plan(&ev, plan_get(&ev, c), args, NULL, out);
  ev_free(&ev);
  return e;
}

HloError *hlo_evaluate_computation(const HloComputation *c, HloLiteral *const *args, int nargs,
                                   HloLiteral **out) {
  return evaluate_computation(c, args, nargs, NULL, out);
}

HloError *hlo_evaluate_with(const HloModule *m, HloLiteral *const *args, int nargs,
                            HloEvalOptions *opts, HloLiteral **out) {
  *out = NULL;
  if (opts) opts->stopped_at = NULL;
  if (!m->entry) return hlo_error("module %s has no entry computation", m->name);
  return evaluate_computation(m->entry, args, nargs, opts, out);
}

HloError *hlo_evaluate(const HloModule *m, HloLiteral *const *args, int nargs,
                       HloLiteral **out) {
  return hlo_evaluate_with(m, args, nargs, NULL, out);
}
