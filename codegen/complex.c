/*
 * complex.c — c64/c128 values in compiled code, as real arrays of their
 * parts.  A complex array is stored as XLA and NumPy store it: interleaved
 * (re, im) pairs of the part type.  legalize.c's copy of the module gives
 * every complex value the real shape of those same bytes, c64[d…] →
 * f32[d…,2] (c128 → f64), and this file rewrites each instruction that
 * reads or makes a complex value into real HLO on that shape, so the
 * emitters, the buffer plan and every backend see real arrays only:
 *
 *   constant        its literal's bytes under the new shape (a tuple's
 *                   leaves, which legalize.c splits, too);
 *   shape only      parameter, tuple, get-tuple-element, while, call,
 *                   conditional, fusion, copy, opt-barrier keep their
 *                   operands and take the new shape (legalize.c clones them);
 *   part by part    add, subtract, negate: the same op on the pairs;
 *                   convert c64 ↔ c128: a convert of the pairs;
 *   data movement   broadcast, transpose, reshape (and a bitcast that is
 *                   one), slice, concatenate, reverse, dynamic-slice and
 *                   dynamic-update-slice: the same op with the pair
 *                   dimension appended (index 0, full size); pad and select
 *                   take the parts apart (below) and rejoin them;
 *   arithmetic      the parts re(x) = slice(x)[…,0], im(x) = …[…,1] are
 *                   computed on and put back with a concatenate: complex,
 *                   real, imag, convert real → complex, multiply, divide
 *                   (Smith's), abs (hypot, scaled by the larger part),
 *                   sign, exp, log, sqrt, rsqrt, sin, cos, tan, tanh, power
 *                   (exp(b log a), as glibc's cpow), compare EQ/NE.
 *                   Outside a fused computation, such an op (pad and
 *                   select too) becomes a loop fusion of its own, so that
 *                   it stays one kernel;
 *   contractions    dot and convolution as four real ones (re = ar·br −
 *                   ai·bi, im = ar·bi + ai·br); a reduce whose computation
 *                   adds as one reduce per part.
 *
 * The formulas are C99 Annex G's (the evaluator calls glibc's cexp,
 * csqrt, …) for finite values; Annex G's recovery of infinities from NaN
 * results (an infinite part times zero) is not done, as XLA's own emitter
 * does not.  Anything else with a complex value (gather, scatter, sort,
 * reduce-window, a reduce that does not add, an fft left by fft_expand.c,
 * a custom-call, a complex array of HLO_MAX_RANK dims, whose pairs need a
 * dimension more) is refused by cg_complex_check, naming the instruction.
 *
 * Assumes a verified module: operand types follow the op's rules (e.g.
 * both dot operands complex or both real).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Which instructions, and their new shapes                                  */
/* ------------------------------------------------------------------------ */

bool cg_shape_has_complex(const HloShape *s) {
  if (s->type == HLO_TUPLE) {
    for (int i = 0; i < s->ntuple; i++)
      if (cg_shape_has_complex(&s->tuple[i])) return true;
    return false;
  }
  return hlo_type_is_complex(s->type);
}

bool cg_instr_has_complex(const HloInstr *x) {
  if (cg_shape_has_complex(&x->shape)) return true;
  for (int i = 0; i < x->noperands; i++)
    if (cg_shape_has_complex(&x->operands[i]->shape)) return true;
  return false;
}

/* The greatest rank among s's complex arrays, or -1. */
static int complex_rank(const HloShape *s) {
  if (s->type == HLO_TUPLE) {
    int r = -1;
    for (int i = 0; i < s->ntuple; i++) {
      int ri = complex_rank(&s->tuple[i]);
      if (ri > r) r = ri;
    }
    return r;
  }
  return hlo_type_is_complex(s->type) ? s->rank : -1;
}

HloShape cg_complex_shape(HloArena *a, const HloShape *s) {
  if (s->type == HLO_TUPLE) {
    HloShape *e = hlo_xmalloc(sizeof *e * (size_t)(s->ntuple ? s->ntuple : 1));
    for (int i = 0; i < s->ntuple; i++) e[i] = cg_complex_shape(a, &s->tuple[i]);
    HloShape t = hlo_shape_tuple(a, s->ntuple, e);
    free(e);
    return t;
  }
  if (!hlo_type_is_complex(s->type)) return *s;
  HLO_CHECK(s->rank < HLO_MAX_RANK); /* cg_complex_check */
  HloShape r = *s;
  r.type = hlo_complex_part_type(s->type);
  r.dims[r.rank] = 2;
  if (s->has_layout) { /* the pair is the most minor dimension */
    r.minor_to_major[0] = (int8_t)s->rank;
    for (int i = 0; i < s->rank; i++) r.minor_to_major[i + 1] = s->minor_to_major[i];
  }
  r.rank++;
  return r;
}

/* The reduce's computation is add(parameter 0, parameter 1). */
static bool reduce_adds(const HloInstr *x) {
  const HloComputation *c = x->called[0];
  const HloInstr *r = c->root;
  if (x->noperands != 2 || r->op != HLO_OP_ADD) return false;
  const HloInstr *a = r->operands[0], *b = r->operands[1];
  return a->op == HLO_OP_PARAMETER && b->op == HLO_OP_PARAMETER &&
         a->parameter_number + b->parameter_number == 1;
}

HloError *cg_complex_check(const HloInstr *x) {
  if (!cg_instr_has_complex(x)) return NULL;
  const char *why = NULL;
  int rank = complex_rank(&x->shape);
  for (int i = 0; i < x->noperands; i++) {
    int ri = complex_rank(&x->operands[i]->shape);
    if (ri > rank) rank = ri;
  }
  if (rank >= HLO_MAX_RANK) why = "a complex array of the most dimensions there are";
  switch (x->op) {
  case HLO_OP_PARAMETER: case HLO_OP_CONSTANT: case HLO_OP_TUPLE:
  case HLO_OP_GET_TUPLE_ELEMENT: case HLO_OP_WHILE: case HLO_OP_CALL:
  case HLO_OP_CONDITIONAL: case HLO_OP_FUSION: case HLO_OP_COPY: case HLO_OP_OPT_BARRIER:
  case HLO_OP_ADD: case HLO_OP_SUBTRACT: case HLO_OP_NEGATE: case HLO_OP_CONVERT:
  case HLO_OP_BROADCAST: case HLO_OP_TRANSPOSE: case HLO_OP_RESHAPE: case HLO_OP_SLICE:
  case HLO_OP_CONCATENATE: case HLO_OP_REVERSE: case HLO_OP_DYNAMIC_SLICE:
  case HLO_OP_DYNAMIC_UPDATE_SLICE: case HLO_OP_PAD: case HLO_OP_SELECT:
  case HLO_OP_COMPLEX: case HLO_OP_REAL: case HLO_OP_IMAG: case HLO_OP_MULTIPLY:
  case HLO_OP_DIVIDE: case HLO_OP_ABS: case HLO_OP_SIGN: case HLO_OP_EXP: case HLO_OP_LOG:
  case HLO_OP_SQRT: case HLO_OP_RSQRT: case HLO_OP_SIN: case HLO_OP_COS: case HLO_OP_TAN:
  case HLO_OP_TANH: case HLO_OP_POWER: case HLO_OP_COMPARE: case HLO_OP_DOT:
  case HLO_OP_CONVOLUTION:
    break;
  case HLO_OP_BITCAST:
    if (!hlo_instr_is_reshape(x)) why = "a bitcast of complex values that is not a reshape";
    break;
  case HLO_OP_REDUCE:
    if (!reduce_adds(x)) why = "a reduce of complex values other than a sum";
    break;
  default:
    why = "this op on complex values";
    break;
  }
  if (x->op == HLO_OP_CONSTANT && !x->literal) why = "an elided constant";
  if (!why) return NULL;
  HloType t = HLO_C64;
  const HloShape *s = cg_shape_has_complex(&x->shape) ? &x->shape : NULL;
  for (int i = 0; !s; i++)
    if (cg_shape_has_complex(&x->operands[i]->shape)) s = &x->operands[i]->shape;
  while (s->type == HLO_TUPLE) {
    int i = 0;
    while (!cg_shape_has_complex(&s->tuple[i])) i++;
    s = &s->tuple[i];
  }
  t = s->type;
  char *d = hlo_instr_describe(x);
  HloError *e = hlo_error("codegen: unsupported: %s has element type %s: %s is evaluated by "
                          "the interpreter only (hloc run --interpret)", d, hlo_type_name(t),
                          why);
  free(d);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Real HLO on the parts                                                     */
/* ------------------------------------------------------------------------ */

static HloInstr *ok(HloInstr *x, HloError *e) {
  /* Every instruction below has a shape that follows from verified ones. */
  if (!x) {
    fprintf(stderr, "hloc: internal error: %s\n", hlo_error_message(e));
    abort();
  }
  return x;
}

static HloInstr *un(HloComputation *c, HloOpcode op, HloInstr *a) {
  HloError *e = NULL;
  return ok(hlo_build_unary(c, op, a, &e), e);
}

static HloInstr *bin(HloComputation *c, HloOpcode op, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return ok(hlo_build_binary(c, op, a, b, &e), e);
}

static HloInstr *cmp(HloComputation *c, HloCompareDir d, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return ok(hlo_build_compare(c, d, a, b, &e), e);
}

static HloInstr *sel(HloComputation *c, HloInstr *p, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return ok(hlo_build_ternary(c, HLO_OP_SELECT, p, a, b, &e), e);
}

static HloInstr *reshape(HloComputation *c, HloInstr *x, int rank, const int64_t *dims) {
  HloError *e = NULL;
  return ok(hlo_build_reshape(c, x, rank, dims, &e), e);
}

/* The constant v broadcast to like's shape. */
static HloInstr *K(HloComputation *c, HloInstr *like, double v) {
  HloInstr *k = hlo_build_constant_scalar(c, like->shape.type, v);
  if (like->shape.rank == 0) return k;
  HloError *e = NULL;
  return ok(hlo_build_broadcast(c, k, &like->shape, NULL, 0, &e), e);
}

/* Part `which` (0 real, 1 imaginary) of the pairs x, of x's dims but the last. */
static HloInstr *part(HloComputation *c, HloInstr *x, int which) {
  const HloShape *s = &x->shape;
  HloSliceDim sl[HLO_MAX_RANK];
  for (int i = 0; i < s->rank; i++) sl[i] = (HloSliceDim){0, s->dims[i], 1};
  sl[s->rank - 1] = (HloSliceDim){which, which + 1, 1};
  HloError *e = NULL;
  HloInstr *v = ok(hlo_build_slice(c, x, sl, &e), e);
  return reshape(c, v, s->rank - 1, s->dims);
}

/* The pairs (re, im). */
static HloInstr *join(HloComputation *c, HloInstr *re, HloInstr *im) {
  int r = re->shape.rank;
  int64_t d[HLO_MAX_RANK];
  for (int i = 0; i < r; i++) d[i] = re->shape.dims[i];
  d[r] = 1;
  HloInstr *xs[2] = {reshape(c, re, r + 1, d), reshape(c, im, r + 1, d)};
  HloError *e = NULL;
  return ok(hlo_build_concatenate(c, xs, 2, r, &e), e);
}

/* A complex number as its parts. */
typedef struct Cx {
  HloInstr *re, *im;
} Cx;

static Cx parts(HloComputation *c, HloInstr *x) { return (Cx){part(c, x, 0), part(c, x, 1)}; }

static Cx mul(HloComputation *c, Cx a, Cx b) {
  return (Cx){bin(c, HLO_OP_SUBTRACT, bin(c, HLO_OP_MULTIPLY, a.re, b.re),
                  bin(c, HLO_OP_MULTIPLY, a.im, b.im)),
              bin(c, HLO_OP_ADD, bin(c, HLO_OP_MULTIPLY, a.re, b.im),
                  bin(c, HLO_OP_MULTIPLY, a.im, b.re))};
}

/* a / b by Smith's method: divides by the larger part of b, so |b|^2 is
 * never formed (it would overflow or underflow first). */
static Cx divide(HloComputation *c, Cx a, Cx b) {
  HloInstr *big_re = cmp(c, HLO_CMP_GE, un(c, HLO_OP_ABS, b.re), un(c, HLO_OP_ABS, b.im));
  /* |br| >= |bi|: r = bi/br, d = br + bi r, ((ar + ai r)/d, (ai - ar r)/d) */
  HloInstr *r1 = bin(c, HLO_OP_DIVIDE, b.im, b.re);
  HloInstr *d1 = bin(c, HLO_OP_ADD, b.re, bin(c, HLO_OP_MULTIPLY, b.im, r1));
  HloInstr *re1 = bin(c, HLO_OP_ADD, a.re, bin(c, HLO_OP_MULTIPLY, a.im, r1));
  HloInstr *im1 = bin(c, HLO_OP_SUBTRACT, a.im, bin(c, HLO_OP_MULTIPLY, a.re, r1));
  /* else: r = br/bi, d = bi + br r, ((ar r + ai)/d, (ai r - ar)/d) */
  HloInstr *r2 = bin(c, HLO_OP_DIVIDE, b.re, b.im);
  HloInstr *d2 = bin(c, HLO_OP_ADD, b.im, bin(c, HLO_OP_MULTIPLY, b.re, r2));
  HloInstr *re2 = bin(c, HLO_OP_ADD, bin(c, HLO_OP_MULTIPLY, a.re, r2), a.im);
  HloInstr *im2 = bin(c, HLO_OP_SUBTRACT, bin(c, HLO_OP_MULTIPLY, a.im, r2), a.re);
  HloInstr *d = sel(c, big_re, d1, d2);
  return (Cx){bin(c, HLO_OP_DIVIDE, sel(c, big_re, re1, re2), d),
              bin(c, HLO_OP_DIVIDE, sel(c, big_re, im1, im2), d)};
}

/* |z| as hypot: m sqrt(1 + (n/m)^2) with m, n the larger and smaller
 * magnitude; 0 for 0, inf when a part is infinite (even with a NaN). */
static HloInstr *cabs_(HloComputation *c, Cx z) {
  HloInstr *a = un(c, HLO_OP_ABS, z.re), *b = un(c, HLO_OP_ABS, z.im);
  HloInstr *m = bin(c, HLO_OP_MAXIMUM, a, b), *n = bin(c, HLO_OP_MINIMUM, a, b);
  HloInstr *q = bin(c, HLO_OP_DIVIDE, n, m);
  HloInstr *q1 = bin(c, HLO_OP_ADD, K(c, q, 1), bin(c, HLO_OP_MULTIPLY, q, q));
  HloInstr *r = bin(c, HLO_OP_MULTIPLY, m, un(c, HLO_OP_SQRT, q1));
  HloInstr *inf = K(c, a, INFINITY);
  r = sel(c, cmp(c, HLO_CMP_EQ, m, K(c, m, 0)), K(c, m, 0), r);
  HloInstr *any_inf =
      bin(c, HLO_OP_OR, cmp(c, HLO_CMP_EQ, a, inf), cmp(c, HLO_CMP_EQ, b, inf));
  return sel(c, any_inf, inf, r);
}

static Cx cexp_(HloComputation *c, Cx z) {
  HloInstr *e = un(c, HLO_OP_EXP, z.re);
  return (Cx){bin(c, HLO_OP_MULTIPLY, e, un(c, HLO_OP_COS, z.im)),
              bin(c, HLO_OP_MULTIPLY, e, un(c, HLO_OP_SIN, z.im))};
}

static Cx clog_(HloComputation *c, Cx z) {
  return (Cx){un(c, HLO_OP_LOG, cabs_(c, z)), bin(c, HLO_OP_ATAN2, z.im, z.re)};
}

/* Kahan's csqrt: t = sqrt((|a| + |z|)/2); a >= 0: (t, b/2t); else
 * (|b|/2t, t with b's sign); sqrt(±0 + bi) for b = 0 is (0, b). */
static Cx csqrt_(HloComputation *c, Cx z) {
  HloInstr *t = un(c, HLO_OP_SQRT, bin(c, HLO_OP_MULTIPLY, K(c, z.re, 0.5),
                                       bin(c, HLO_OP_ADD, un(c, HLO_OP_ABS, z.re), cabs_(c, z))));
  HloInstr *t2 = bin(c, HLO_OP_ADD, t, t);
  HloInstr *pos = cmp(c, HLO_CMP_GE, z.re, K(c, z.re, 0));
  HloInstr *re = sel(c, pos, t, bin(c, HLO_OP_DIVIDE, un(c, HLO_OP_ABS, z.im), t2));
  HloInstr *signed_t = sel(c, cmp(c, HLO_CMP_LT, z.im, K(c, z.im, 0)), un(c, HLO_OP_NEGATE, t), t);
  HloInstr *im = sel(c, pos, bin(c, HLO_OP_DIVIDE, z.im, t2), signed_t);
  HloInstr *zero = cmp(c, HLO_CMP_EQ, t, K(c, t, 0));
  return (Cx){sel(c, zero, K(c, t, 0), re), sel(c, zero, z.im, im)};
}

/* cosh b = (e^b + e^-b)/2 and sinh b = (expm1 b - expm1 -b)/2, whose
 * terms have one sign, so that sinh keeps its precision near 0 (codegen
 * computes no cosh or sinh of its own). */
static HloInstr *cosh_(HloComputation *c, HloInstr *b) {
  HloInstr *s =
      bin(c, HLO_OP_ADD, un(c, HLO_OP_EXP, b), un(c, HLO_OP_EXP, un(c, HLO_OP_NEGATE, b)));
  return bin(c, HLO_OP_MULTIPLY, K(c, s, 0.5), s);
}

static HloInstr *sinh_(HloComputation *c, HloInstr *b) {
  HloInstr *d = bin(c, HLO_OP_SUBTRACT, un(c, HLO_OP_EXPM1, b),
                    un(c, HLO_OP_EXPM1, un(c, HLO_OP_NEGATE, b)));
  return bin(c, HLO_OP_MULTIPLY, K(c, d, 0.5), d);
}

/* sin(a + bi) = sin a cosh b + i cos a sinh b. */
static Cx csin_(HloComputation *c, Cx z) {
  return (Cx){bin(c, HLO_OP_MULTIPLY, un(c, HLO_OP_SIN, z.re), cosh_(c, z.im)),
              bin(c, HLO_OP_MULTIPLY, un(c, HLO_OP_COS, z.re), sinh_(c, z.im))};
}

/* cos(a + bi) = cos a cosh b - i sin a sinh b. */
static Cx ccos_(HloComputation *c, Cx z) {
  return (Cx){bin(c, HLO_OP_MULTIPLY, un(c, HLO_OP_COS, z.re), cosh_(c, z.im)),
              un(c, HLO_OP_NEGATE, bin(c, HLO_OP_MULTIPLY, un(c, HLO_OP_SIN, z.re),
                                       sinh_(c, z.im)))};
}

/* glibc's ctanh: (sinh a cosh a + i sin b cos b) / (sinh^2 a + cos^2 b),
 * whose denominator cannot cancel; past |a| = 20, where tanh a rounds to
 * ±1 in f64, (±1, 4 sin b cos b e^(-2|a|)) so that nothing overflows. */
static Cx ctanh_(HloComputation *c, Cx z) {
  HloInstr *sh = sinh_(c, z.re), *ch = cosh_(c, z.re);
  HloInstr *sb = un(c, HLO_OP_SIN, z.im), *cb = un(c, HLO_OP_COS, z.im);
  HloInstr *sbcb = bin(c, HLO_OP_MULTIPLY, sb, cb);
  HloInstr *den =
      bin(c, HLO_OP_ADD, bin(c, HLO_OP_MULTIPLY, sh, sh), bin(c, HLO_OP_MULTIPLY, cb, cb));
  HloInstr *re = bin(c, HLO_OP_DIVIDE, bin(c, HLO_OP_MULTIPLY, sh, ch), den);
  HloInstr *im = bin(c, HLO_OP_DIVIDE, sbcb, den);
  HloInstr *aa = un(c, HLO_OP_ABS, z.re);
  HloInstr *big = cmp(c, HLO_CMP_GT, aa, K(c, aa, 20));
  HloInstr *far_im = bin(c, HLO_OP_MULTIPLY, bin(c, HLO_OP_MULTIPLY, K(c, sbcb, 4), sbcb),
                         un(c, HLO_OP_EXP, bin(c, HLO_OP_MULTIPLY, K(c, aa, -2), aa)));
  return (Cx){sel(c, big, un(c, HLO_OP_SIGN, z.re), re), sel(c, big, far_im, im)};
}

/* ------------------------------------------------------------------------ */
/* The rewrite                                                               */
/* ------------------------------------------------------------------------ */

HloInstr *cg_complex_constant(HloComputation *c, const HloLiteral *l, const char *name) {
  HloShape s = cg_complex_shape(c->module->arena, &l->shape);
  HloLiteral *pairs = hlo_literal_new_in(c->module->arena, &s);
  memcpy(pairs->data, l->data, hlo_shape_byte_size(&s));
  return hlo_constant_new(c, pairs, name);
}

/* The same op, elementwise on the pairs. */
static HloInstr *with_pairs(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloInstr *y = hlo_instr_clone(c, x, ops, x->noperands);
  y->shape = cg_complex_shape(c->module->arena, &x->shape);
  return y;
}

static HloInstr *lower_movement(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloError *e = NULL;
  int r = x->shape.rank;
  int64_t v[HLO_MAX_RANK];
  switch (x->op) {
  case HLO_OP_BROADCAST: {
    HloShape s = cg_complex_shape(c->module->arena, &x->shape);
    int n = x->dimensions.n;
    for (int i = 0; i < n; i++) v[i] = x->dimensions.v[i];
    v[n] = r;
    return ok(hlo_build_broadcast(c, ops[0], &s, v, n + 1, &e), e);
  }
  case HLO_OP_TRANSPOSE:
    for (int i = 0; i < r; i++) v[i] = x->dimensions.v[i];
    v[r] = r;
    return ok(hlo_build_transpose(c, ops[0], v, &e), e);
  case HLO_OP_RESHAPE: case HLO_OP_BITCAST: {
    HloShape s = cg_complex_shape(c->module->arena, &x->shape);
    return reshape(c, ops[0], s.rank, s.dims);
  }
  case HLO_OP_SLICE: {
    HloSliceDim sl[HLO_MAX_RANK];
    for (int i = 0; i < r; i++) sl[i] = x->slice[i];
    sl[r] = (HloSliceDim){0, 2, 1};
    return ok(hlo_build_slice(c, ops[0], sl, &e), e);
  }
  case HLO_OP_CONCATENATE:
    return ok(hlo_build_concatenate(c, ops, x->noperands, x->dimensions.v[0], &e), e);
  case HLO_OP_REVERSE:
    return ok(hlo_build_reverse(c, ops[0], x->dimensions.v, x->dimensions.n, &e), e);
  case HLO_OP_DYNAMIC_SLICE: case HLO_OP_DYNAMIC_UPDATE_SLICE: {
    int first = x->op == HLO_OP_DYNAMIC_SLICE ? 1 : 2;
    HloInstr *starts[HLO_MAX_RANK];
    for (int i = 0; i < r; i++) starts[i] = ops[first + i];
    starts[r] = hlo_build_constant_scalar(c, ops[first]->shape.type, 0);
    if (x->op == HLO_OP_DYNAMIC_UPDATE_SLICE)
      return ok(hlo_build_dynamic_update_slice(c, ops[0], ops[1], starts, &e), e);
    for (int i = 0; i < r; i++) v[i] = x->dynamic_slice_sizes.v[i];
    v[r] = 2;
    return ok(hlo_build_dynamic_slice(c, ops[0], starts, v, &e), e);
  }
  case HLO_OP_PAD: {
    HloInstr *re = ok(hlo_build_pad(c, part(c, ops[0], 0), part(c, ops[1], 0), x->padding, &e), e);
    HloInstr *im = ok(hlo_build_pad(c, part(c, ops[0], 1), part(c, ops[1], 1), x->padding, &e), e);
    return join(c, re, im);
  }
  case HLO_OP_SELECT: {
    HloInstr *p = ops[0];
    if (p->shape.rank) {
      HloShape s = ops[1]->shape;
      s.type = HLO_PRED;
      for (int i = 0; i < r; i++) v[i] = i;
      p = ok(hlo_build_broadcast(c, p, &s, v, r, &e), e);
    }
    return sel(c, p, ops[1], ops[2]);
  }
  default:
    return NULL;
  }
}

/* A dot or convolution of complex operands as four real ones. */
static HloInstr *lower_contraction(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloType t = hlo_complex_part_type(x->shape.type);
  Cx a = parts(c, ops[0]), b = parts(c, ops[1]);
  HloInstr *p[2][2];
  HloInstr *as[2] = {a.re, a.im}, *bs[2] = {b.re, b.im};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      HloInstr *o[2] = {as[i], bs[j]};
      p[i][j] = hlo_instr_clone(c, x, o, 2);
      p[i][j]->shape.type = t;
    }
  return join(c, bin(c, HLO_OP_SUBTRACT, p[0][0], p[1][1]), bin(c, HLO_OP_ADD, p[0][1], p[1][0]));
}

static HloInstr *lower_reduce(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloType t = hlo_complex_part_type(x->shape.type);
  HloComputation *add = hlo_build_scalar_computation(c->module, HLO_OP_ADD, t);
  HloInstr *r[2];
  for (int i = 0; i < 2; i++) {
    HloInstr *in = part(c, ops[0], i), *init = part(c, ops[1], i);
    HloError *e = NULL;
    r[i] = ok(hlo_build_reduce(c, &in, &init, 1, x->dimensions.v, x->dimensions.n, add, &e), e);
  }
  return join(c, r[0], r[1]);
}

/* An elementwise op producing or reading complex values, on parts. */
static HloInstr *lower_arith(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloError *e = NULL;
  HloType out = x->shape.type;
  switch (x->op) {
  case HLO_OP_COMPLEX: return join(c, ops[0], ops[1]);
  case HLO_OP_REAL: return part(c, ops[0], 0);
  case HLO_OP_IMAG: return part(c, ops[0], 1);
  case HLO_OP_CONVERT:
    if (hlo_type_is_complex(x->operands[0]->shape.type)) {
      HloType to = hlo_complex_part_type(out);
      return to == ops[0]->shape.type ? ops[0] : ok(hlo_build_convert(c, ops[0], to, &e), e);
    } else {
      HloInstr *re = ok(hlo_build_convert(c, ops[0], hlo_complex_part_type(out), &e), e);
      return join(c, re, K(c, re, 0));
    }
  case HLO_OP_COMPARE: {
    Cx a = parts(c, ops[0]), b = parts(c, ops[1]);
    HloCompareDir d = x->direction;
    return bin(c, d == HLO_CMP_EQ ? HLO_OP_AND : HLO_OP_OR, cmp(c, d, a.re, b.re),
               cmp(c, d, a.im, b.im));
  }
  case HLO_OP_ABS: return cabs_(c, parts(c, ops[0]));
  default:
    break;
  }
  Cx z = parts(c, ops[0]), r;
  switch (x->op) {
  case HLO_OP_MULTIPLY: r = mul(c, z, parts(c, ops[1])); break;
  case HLO_OP_DIVIDE: r = divide(c, z, parts(c, ops[1])); break;
  case HLO_OP_POWER: r = cexp_(c, mul(c, parts(c, ops[1]), clog_(c, z))); break;
  case HLO_OP_SIGN: {
    HloInstr *m = cabs_(c, z);
    HloInstr *zero = cmp(c, HLO_CMP_EQ, m, K(c, m, 0));
    r = (Cx){sel(c, zero, z.re, bin(c, HLO_OP_DIVIDE, z.re, m)),
             sel(c, zero, z.im, bin(c, HLO_OP_DIVIDE, z.im, m))};
    break;
  }
  case HLO_OP_EXP: r = cexp_(c, z); break;
  case HLO_OP_LOG: r = clog_(c, z); break;
  case HLO_OP_SQRT: r = csqrt_(c, z); break;
  case HLO_OP_RSQRT: {
    Cx s = csqrt_(c, z);
    r = divide(c, (Cx){K(c, s.re, 1), K(c, s.re, 0)}, s);
    break;
  }
  case HLO_OP_SIN: r = csin_(c, z); break;
  case HLO_OP_COS: r = ccos_(c, z); break;
  case HLO_OP_TANH: r = ctanh_(c, z); break;
  case HLO_OP_TAN: { /* tan z = -i tanh(iz) */
    Cx t = ctanh_(c, (Cx){un(c, HLO_OP_NEGATE, z.im), z.re});
    r = (Cx){t.im, un(c, HLO_OP_NEGATE, t.re)};
    break;
  }
  default:
    HLO_UNREACHABLE(); /* cg_complex_check */
  }
  return join(c, r.re, r.im);
}

/* x's elementwise form (movement or arithmetic on parts). */
static HloInstr *lower_elementwise(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloInstr *y = lower_movement(c, x, ops);
  return y ? y : lower_arith(c, x, ops);
}

/* Outside a fused computation, the slices, arithmetic and concatenate of
 * one op are a loop fusion of their own: one kernel, not one per part. */
static HloInstr *fused(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  HloStr name = {0};
  hlo_str_printf(&name, "%s.pairs", x->name);
  HloComputation *f = hlo_computation_new(c->module, name.buf);
  free(name.buf);
  f->is_fusion = true;
  hlo_computation_move_first(f); /* it calls nothing */
  /* Elementwise ops, pad and select: at most three operands. */
  HloInstr *uses[3], *params[3], *in[3];
  int n = 0;
  HLO_CHECK(x->noperands <= 3);
  for (int i = 0; i < x->noperands; i++) {
    int j = 0;
    while (j < n && uses[j] != ops[i]) j++;
    if (j == n) {
      uses[n] = ops[i];
      params[n] = hlo_parameter_new(f, n, &ops[i]->shape, NULL);
      n++;
    }
    in[i] = params[j];
  }
  hlo_set_root(f, lower_elementwise(f, x, in));
  HloInstr *y = hlo_instr_new(c, HLO_OP_FUSION, &f->root->shape, uses, n, x->name);
  y->fusion_kind = HLO_FUSION_LOOP;
  hlo_instr_set_called(y, &f, 1);
  return y;
}

HloInstr *cg_complex_lower(HloComputation *c, const HloInstr *x, HloInstr *const *ops) {
  switch (x->op) {
  case HLO_OP_CONSTANT: /* a tuple's leaves: legalize.c's split_constant */
    return hlo_shape_is_tuple(&x->shape) ? NULL : cg_complex_constant(c, x->literal, x->name);
  case HLO_OP_PARAMETER: case HLO_OP_TUPLE: case HLO_OP_GET_TUPLE_ELEMENT: case HLO_OP_WHILE:
  case HLO_OP_CALL: case HLO_OP_CONDITIONAL: case HLO_OP_FUSION: case HLO_OP_OPT_BARRIER:
    return NULL; /* legalize.c clones it, called computations included */
  case HLO_OP_COPY: case HLO_OP_ADD: case HLO_OP_SUBTRACT: case HLO_OP_NEGATE:
    return with_pairs(c, x, ops);
  case HLO_OP_DOT: case HLO_OP_CONVOLUTION: return lower_contraction(c, x, ops);
  case HLO_OP_REDUCE: return lower_reduce(c, x, ops);
  case HLO_OP_BROADCAST: case HLO_OP_TRANSPOSE: case HLO_OP_RESHAPE: case HLO_OP_BITCAST:
  case HLO_OP_SLICE: case HLO_OP_CONCATENATE: case HLO_OP_REVERSE: case HLO_OP_DYNAMIC_SLICE:
  case HLO_OP_DYNAMIC_UPDATE_SLICE:
    return lower_movement(c, x, ops); /* one op, as before */
  default:
    return c->is_fusion ? lower_elementwise(c, x, ops) : fused(c, x, ops);
  }
}
