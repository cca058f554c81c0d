/*
 * shape_inference.c — XLA's shape rules, one per opcode.
 *
 * hlo_infer_shape() recomputes an instruction's shape from its operands'
 * shapes, its attributes and its called computations, following XLA's
 * ShapeInference and HloVerifier (openxla operation_semantics).  The builder
 * uses it to give new instructions their shapes; the verifier uses it to
 * check every instruction of a module.
 *
 * Assumptions: operands are linked (the verifier checks the graph before it
 * asks for shapes); attribute arrays whose length the IR does not record
 * (slice, padding) have as many entries as the instruction's own rank, so
 * those rules first check that this rank is the operand's.  Ops whose result
 * is not determined by their operands take part of their own shape: convert
 * and bitcast-convert their element type; broadcast and reshape their dims;
 * dot and convolution their element type (XLA's "preferred element type");
 * bitcast (of equal byte size), parameter, constant, iota and custom-call
 * all of it.
 *
 * Element types must match exactly where XLA's verifier (without mixed
 * precision) wants them equal.  Results carry no layout, also inside tuples;
 * tuple element arrays are allocated in the module's arena only when a
 * layout has to be dropped.
 *
 * Every error reads "<instruction>: <opcode>: <rule>", the instruction as
 * hlo_instr_describe() prints it.
 */
#include "hlo.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Context and messages                                                     */
/* ------------------------------------------------------------------------ */

/* Message strings per error; inputs of one variadic reduce, reduce-window
 * or scatter (programs use a handful). */
enum { MAX_MSG_STRS = 16, MAX_INPUTS = 64 };

typedef struct Infer {
  const HloInstr *in;
  HloArena *arena;              /* the module's, for tuple element arrays */
  char *strs[MAX_MSG_STRS];     /* strings formatted for the message */
  int nstrs;
} Infer;

static const char *keep(Infer *cx, char *s) {
  HLO_CHECK(cx->nstrs < MAX_MSG_STRS);
  cx->strs[cx->nstrs++] = s;
  return s;
}

static const char *shape_str(Infer *cx, const HloShape *s) {
  return keep(cx, hlo_shape_to_string(s));
}

/* "{0,1,2}" */
static const char *dims_str(Infer *cx, const int64_t *v, int n) {
  HloStr s = {0};
  hlo_str_append(&s, "{", 1);
  for (int i = 0; i < n; i++) hlo_str_printf(&s, i ? ",%lld" : "%lld", (long long)v[i]);
  hlo_str_append(&s, "}", 1);
  return keep(cx, hlo_str_take(&s));
}

static HloError *fail(Infer *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static HloError *fail(Infer *cx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  char *d = hlo_instr_describe(cx->in);
  e = hlo_error_wrap(e, "%s: %s", d, hlo_opcode_name(cx->in->op));
  free(d);
  return e;
}

#define OPND(cx, i) (&(cx)->in->operands[i]->shape)

/* ------------------------------------------------------------------------ */
/* Shape helpers                                                            */
/* ------------------------------------------------------------------------ */

static bool has_any_layout(const HloShape *s) {
  if (s->type != HLO_TUPLE) return s->has_layout;
  for (int i = 0; i < s->ntuple; i++)
    if (has_any_layout(&s->tuple[i])) return true;
  return false;
}

/* A tuple of n element shapes, room for which it allocates in the arena for
 * the caller to fill. */
static HloShape new_tuple(Infer *cx, int n, HloShape **elems) {
  HloShape t;
  memset(&t, 0, sizeof t);
  t.type = HLO_TUPLE;
  t.ntuple = n;
  *elems = hlo_arena_alloc(cx->arena, sizeof(HloShape) * (size_t)(n ? n : 1));
  t.tuple = *elems;
  return t;
}

/* s without layouts, sharing s's tuple elements when none has a layout. */
static HloShape no_layout(Infer *cx, const HloShape *s) {
  HloShape r = *s;
  if (s->type != HLO_TUPLE) {
    r.has_layout = false;
    memset(r.minor_to_major, 0, sizeof r.minor_to_major);
    return r;
  }
  if (!has_any_layout(s)) return r;
  HloShape *el;
  r = new_tuple(cx, s->ntuple, &el);
  for (int i = 0; i < s->ntuple; i++) el[i] = no_layout(cx, &s->tuple[i]);
  return r;
}

static HloShape array_of(HloType t, int rank, const int64_t *dims) {
  return hlo_shape_array(t, rank, dims);
}

/* The first n operands' shapes without layouts, as a tuple. */
static HloShape operands_tuple(Infer *cx, int n) {
  HloShape *el;
  HloShape t = new_tuple(cx, n, &el);
  for (int i = 0; i < n; i++) el[i] = no_layout(cx, OPND(cx, i));
  return t;
}

static bool same_shape(const HloShape *a, const HloShape *b) {
  return hlo_shape_equal(a, b, false);
}

/* The same dims, whatever the element types. */
static bool same_dims(const HloShape *a, const HloShape *b) {
  if (a->rank != b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

static bool is_scalar_of(const HloShape *s, HloType t) {
  return s->type == t && s->rank == 0;
}

/* (bound - 1) * dilation + 1, or 0 for an empty bound; false on overflow. */
static bool dilated_bound(int64_t bound, int64_t dilation, int64_t *r) {
  if (bound == 0) return *r = 0, true;
  return hlo_mul_ok(bound - 1, dilation, r) && hlo_add_ok(*r, 1, r);
}

static int64_t strided_bound(int64_t bound, int64_t window, int64_t stride) {
  return window > bound ? 0 : (bound - window) / stride + 1;
}

static bool contains(const int64_t *v, int n, int64_t x) {
  for (int i = 0; i < n; i++)
    if (v[i] == x) return true;
  return false;
}

static bool all_unique(const int64_t *v, int n) {
  for (int i = 0; i < n; i++)
    if (contains(v, i, v[i])) return false;
  return true;
}

static bool sorted_unique(const int64_t *v, int n) {
  for (int i = 1; i < n; i++)
    if (v[i] <= v[i - 1]) return false;
  return true;
}

/* Every entry in [0, rank), none twice. */
static HloError *check_dim_list(Infer *cx, const char *what, const HloDims *d, int rank) {
  for (int i = 0; i < d->n; i++)
    if (d->v[i] < 0 || d->v[i] >= rank)
      return fail(cx, "%s %s: dimension %lld is out of range for rank %d", what,
                  dims_str(cx, d->v, d->n), (long long)d->v[i], rank);
  if (!all_unique(d->v, d->n))
    return fail(cx, "%s %s repeats a dimension", what, dims_str(cx, d->v, d->n));
  return NULL;
}

static HloError *expect_array(Infer *cx, int i) {
  const HloShape *s = OPND(cx, i);
  if (!hlo_type_is_array(s->type))
    return fail(cx, "operand %d must be an array, is %s", i, shape_str(cx, s));
  return NULL;
}

static HloError *expect_arrays(Infer *cx) {
  for (int i = 0; i < cx->in->noperands; i++) {
    HloError *e = expect_array(cx, i);
    if (e) return e;
  }
  return NULL;
}

static HloError *expect_operands(Infer *cx, int n) {
  if (cx->in->noperands != n)
    return fail(cx, "expects %d operand%s, has %d", n, n == 1 ? "" : "s", cx->in->noperands);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Called computations                                                      */
/* ------------------------------------------------------------------------ */

/* The role names the computation in messages: "to_apply", "body", … */
static HloError *expect_called(Infer *cx, int n, const char *roles) {
  if (cx->in->ncalled != n)
    return fail(cx, "expects %d called computation%s (%s), has %d", n, n == 1 ? "" : "s",
                roles, cx->in->ncalled);
  for (int i = 0; i < n; i++)
    if (!cx->in->called[i]) return fail(cx, "called computation %d is missing", i);
  return NULL;
}

/* The computation has a root and parameters 0..nparams-1 without gaps. */
static HloError *check_signature(Infer *cx, const char *role, const HloComputation *c) {
  if (!c->root) return fail(cx, "%s '%s' has no root", role, c->name);
  for (int i = 0; i < c->nparams; i++)
    if (!c->params[i]) return fail(cx, "%s '%s' has no parameter %d", role, c->name, i);
  return NULL;
}

/* "(f32[], f32[]) -> f32[]" */
static const char *signature_str(Infer *cx, const HloComputation *c) {
  HloStr s = {0};
  hlo_str_append(&s, "(", 1);
  for (int i = 0; i < c->nparams; i++) {
    if (i) hlo_str_append(&s, ", ", 2);
    hlo_shape_print(&s, &c->params[i]->shape);
  }
  hlo_str_append(&s, ") -> ", 5);
  hlo_shape_print(&s, &c->root->shape);
  return keep(cx, hlo_str_take(&s));
}

/* A reducer of n inputs: (acc_0..acc_n-1, x_0..x_n-1) -> acc, all scalars,
 * the accumulators typed like the inits and the x like the inputs' elements.
 * acc is a scalar when n == 1, else a tuple of n scalars.  *result gets the
 * accumulator element types. */
static HloError *check_reducer(Infer *cx, const HloComputation *f, int n,
                               const HloType *init_types, const HloType *input_types,
                               HloType *result) {
  HloError *e = check_signature(cx, "to_apply", f);
  if (e) return e;
  if (f->nparams != 2 * n)
    return fail(cx, "to_apply must take %d parameters (%s has %s)", 2 * n, f->name,
                signature_str(cx, f));
  const HloShape *r = &f->root->shape;
  if (r->type == HLO_TUPLE ? r->ntuple != n : n != 1)
    return fail(cx, "to_apply must return %d scalar%s (%s has %s)", n, n == 1 ? "" : "s",
                f->name, signature_str(cx, f));
  for (int i = 0; i < n; i++) {
    const HloShape *acc = r->type == HLO_TUPLE ? &r->tuple[i] : r;
    if (!hlo_type_is_array(acc->type) || acc->rank != 0)
      return fail(cx, "to_apply must return scalars (%s has %s)", f->name,
                  signature_str(cx, f));
    if (acc->type != init_types[i])
      return fail(cx, "to_apply result %d has type %s but init value %d has type %s", i,
                  hlo_type_name(acc->type), i, hlo_type_name(init_types[i]));
    if (!is_scalar_of(&f->params[i]->shape, acc->type))
      return fail(cx, "to_apply parameter %d must be %s[] like its result (%s has %s)", i,
                  hlo_type_name(acc->type), f->name, signature_str(cx, f));
    if (!is_scalar_of(&f->params[n + i]->shape, input_types[i]))
      return fail(cx, "to_apply parameter %d must be %s[] like input %d (%s has %s)", n + i,
                  hlo_type_name(input_types[i]), i, f->name, signature_str(cx, f));
    result[i] = acc->type;
  }
  return NULL;
}

/* The callee takes exactly the shapes of operands [first, first+n). */
static HloError *check_args(Infer *cx, const char *role, const HloComputation *f, int first,
                            int n) {
  HloError *e = check_signature(cx, role, f);
  if (e) return e;
  if (f->nparams != n)
    return fail(cx, "%s '%s' takes %d parameter%s but is given %d operand%s", role, f->name,
                f->nparams, f->nparams == 1 ? "" : "s", n, n == 1 ? "" : "s");
  for (int i = 0; i < n; i++) {
    const HloShape *p = &f->params[i]->shape, *a = OPND(cx, first + i);
    if (!same_shape(p, a))
      return fail(cx, "%s '%s' parameter %d is %s but operand %d is %s", role, f->name, i,
                  shape_str(cx, p), first + i, shape_str(cx, a));
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Elementwise                                                              */
/* ------------------------------------------------------------------------ */

static HloError *type_error(Infer *cx, HloType t, const char *want) {
  return fail(cx, "operand type %s is not %s", hlo_type_name(t), want);
}

static HloError *infer_convert(Infer *cx, HloShape *out) {
  const HloShape *x = OPND(cx, 0);
  HloType to = cx->in->shape.type;
  if (!hlo_type_is_array(to))
    return fail(cx, "cannot convert to %s", shape_str(cx, &cx->in->shape));
  if (cx->in->op == HLO_OP_CONVERT) {
    if (hlo_type_is_complex(x->type) && !hlo_type_is_complex(to))
      return fail(cx, "converting %s to %s is not allowed: real() or imag() takes a part",
                  hlo_type_name(x->type), hlo_type_name(to));
    *out = array_of(to, x->rank, x->dims);
    return NULL;
  }
  /* bitcast-convert: a wider element splits into a new minor dim of
   * ratio narrower ones; narrower ones merge from a minor dim of ratio
   * (widths in bits, as XLA counts them: s4 is 4 bits). */
  size_t from_bits = (size_t)hlo_type_bits(x->type), to_bits = (size_t)hlo_type_bits(to);
  if (x->type == HLO_PRED || to == HLO_PRED) from_bits = to_bits = 8;
  if (from_bits == to_bits) {
    *out = array_of(to, x->rank, x->dims);
    return NULL;
  }
  if (from_bits > to_bits) {
    if (x->rank == HLO_MAX_RANK) return fail(cx, "result would exceed the maximum rank");
    *out = array_of(to, x->rank, x->dims);
    out->dims[out->rank++] = (int64_t)(from_bits / to_bits);
    return NULL;
  }
  int64_t ratio = (int64_t)(to_bits / from_bits);
  if (x->rank < 1 || x->dims[x->rank - 1] != ratio)
    return fail(cx, "converting %s to %s needs a minor dimension of size %lld",
                shape_str(cx, x), hlo_type_name(to), (long long)ratio);
  *out = array_of(to, x->rank - 1, x->dims);
  return NULL;
}

static HloError *infer_unary(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if (cx->in->op == HLO_OP_COPY) {
    *out = no_layout(cx, x);
    return NULL;
  }
  if ((e = expect_array(cx, 0))) return e;
  HloType t = x->type;
  bool is_int = hlo_type_is_integer(t), is_float = hlo_type_is_float(t);
  if (hlo_type_is_complex(t)) {
    switch (cx->in->op) {
    case HLO_OP_CONVERT: case HLO_OP_BITCAST_CONVERT: return infer_convert(cx, out);
    case HLO_OP_ABS: case HLO_OP_REAL: case HLO_OP_IMAG:
      *out = array_of(hlo_complex_part_type(t), x->rank, x->dims);
      return NULL;
    case HLO_OP_NEGATE: case HLO_OP_SIGN: case HLO_OP_EXP: case HLO_OP_LOG:
    case HLO_OP_SQRT: case HLO_OP_RSQRT: case HLO_OP_SIN: case HLO_OP_COS:
    case HLO_OP_TAN: case HLO_OP_TANH:
      *out = array_of(t, x->rank, x->dims);
      return NULL;
    default: return type_error(cx, t, "a type it is defined on (complex is not)");
    }
  }
  switch (cx->in->op) {
  case HLO_OP_CONVERT:
  case HLO_OP_BITCAST_CONVERT:
    return infer_convert(cx, out);
  case HLO_OP_REAL:
  case HLO_OP_IMAG:
    /* XLA takes real() of a real number as itself, imag() as 0. */
    if (!is_float) return type_error(cx, t, "a complex or floating-point type");
    break;
  case HLO_OP_NOT:
    if (!is_int && t != HLO_PRED) return type_error(cx, t, "pred or an integer type");
    break;
  case HLO_OP_NEGATE:
    if (!is_int && !is_float) return type_error(cx, t, "an integer or floating-point type");
    break;
  case HLO_OP_ABS:
  case HLO_OP_SIGN:
    if (!hlo_type_is_signed(t) && !is_float)
      return type_error(cx, t, "a signed integer or floating-point type");
    break;
  case HLO_OP_POPCNT:
  case HLO_OP_CLZ:
    if (!is_int) return type_error(cx, t, "an integer type");
    break;
  case HLO_OP_IS_FINITE:
    if (!is_float) return type_error(cx, t, "a floating-point type");
    *out = array_of(HLO_PRED, x->rank, x->dims);
    return NULL;
  case HLO_OP_REDUCE_PRECISION:
    if (!is_float) return type_error(cx, t, "a floating-point type");
    if (cx->in->exponent_bits < 1)
      return fail(cx, "exponent_bits is %lld, must be at least 1",
                  (long long)cx->in->exponent_bits);
    if (cx->in->mantissa_bits < 0)
      return fail(cx, "mantissa_bits is %lld, must be at least 0",
                  (long long)cx->in->mantissa_bits);
    break;
  default: /* the transcendental and rounding functions */
    if (!is_float) return type_error(cx, t, "a floating-point type");
    break;
  }
  *out = array_of(t, x->rank, x->dims);
  return NULL;
}

static HloError *check_compare_type(Infer *cx, HloType t) {
  switch (cx->in->compare_type) {
  case HLO_CMPT_DEFAULT:
    return NULL;
  case HLO_CMPT_FLOAT:
  case HLO_CMPT_TOTALORDER:
    if (!hlo_type_is_float(t)) return fail(cx, "a float comparison of %s operands", hlo_type_name(t));
    return NULL;
  case HLO_CMPT_SIGNED:
    if (!hlo_type_is_signed(t)) return fail(cx, "a signed comparison of %s operands", hlo_type_name(t));
    return NULL;
  case HLO_CMPT_UNSIGNED:
    if (!hlo_type_is_unsigned(t) && t != HLO_PRED)
      return fail(cx, "an unsigned comparison of %s operands", hlo_type_name(t));
    return NULL;
  }
  HLO_UNREACHABLE();
}

static HloError *infer_binary(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *a = OPND(cx, 0), *b = OPND(cx, 1);
  if (!same_shape(a, b))
    return fail(cx, "operands have different shapes %s and %s", shape_str(cx, a),
                shape_str(cx, b));
  HloType t = a->type;
  if (hlo_type_is_complex(t)) {
    switch (cx->in->op) {
    case HLO_OP_ADD: case HLO_OP_SUBTRACT: case HLO_OP_MULTIPLY: case HLO_OP_DIVIDE:
    case HLO_OP_POWER:
      break;
    case HLO_OP_COMPARE:
      if (cx->in->direction != HLO_CMP_EQ && cx->in->direction != HLO_CMP_NE)
        return fail(cx, "complex numbers compare only for EQ and NE");
      if (cx->in->compare_type != HLO_CMPT_DEFAULT && cx->in->compare_type != HLO_CMPT_FLOAT)
        return fail(cx, "complex numbers compare only as FLOAT");
      *out = array_of(HLO_PRED, a->rank, a->dims);
      return NULL;
    default: return type_error(cx, t, "a type it is defined on (complex is not)");
    }
    *out = array_of(t, a->rank, a->dims);
    return NULL;
  }
  switch (cx->in->op) {
  case HLO_OP_COMPLEX: {
    HloType c;
    if (!hlo_complex_type_of(t, &c)) return type_error(cx, t, "f32 or f64");
    *out = array_of(c, a->rank, a->dims);
    return NULL;
  }
  case HLO_OP_SUBTRACT:
  case HLO_OP_DIVIDE:
  case HLO_OP_REMAINDER:
  case HLO_OP_POWER:
  case HLO_OP_ATAN2:
    if (t == HLO_PRED) return type_error(cx, t, "an arithmetic type");
    break;
  case HLO_OP_AND:
  case HLO_OP_OR:
  case HLO_OP_XOR:
    if (t != HLO_PRED && !hlo_type_is_integer(t)) return type_error(cx, t, "pred or an integer type");
    break;
  case HLO_OP_SHIFT_LEFT:
  case HLO_OP_SHIFT_RIGHT_ARITHMETIC:
  case HLO_OP_SHIFT_RIGHT_LOGICAL:
    if (!hlo_type_is_integer(t)) return type_error(cx, t, "an integer type");
    break;
  case HLO_OP_COMPARE:
    if ((e = check_compare_type(cx, t))) return e;
    *out = array_of(HLO_PRED, a->rank, a->dims);
    return NULL;
  default: /* add, multiply, maximum, minimum: any element type */
    break;
  }
  *out = array_of(t, a->rank, a->dims);
  return NULL;
}

static HloError *infer_ternary(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 3);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *a = OPND(cx, 0), *b = OPND(cx, 1), *c = OPND(cx, 2);
  if (cx->in->op == HLO_OP_SELECT) {
    if (!same_shape(b, c))
      return fail(cx, "on_true %s and on_false %s have different shapes", shape_str(cx, b),
                  shape_str(cx, c));
    if (a->type != HLO_PRED) return fail(cx, "predicate %s is not pred", shape_str(cx, a));
    /* A pred[] predicate picks a whole operand (XLA broadcasts it). */
    if (a->rank != 0 && !hlo_shape_same_dims(a, b))
      return fail(cx, "predicate %s and on_true %s have different dims", shape_str(cx, a),
                  shape_str(cx, b));
    *out = array_of(b->type, b->rank, b->dims);
    return NULL;
  }
  /* clamp(min, x, max): min and max are scalars or shaped like x */
  const HloShape *bounds[2] = {a, c};
  const char *names[2] = {"min", "max"};
  for (int i = 0; i < 2; i++) {
    if (bounds[i]->type != b->type || (bounds[i]->rank != 0 && !hlo_shape_same_dims(bounds[i], b)))
      return fail(cx, "%s %s must be a scalar or have the shape of the operand %s", names[i],
                  shape_str(cx, bounds[i]), shape_str(cx, b));
  }
  *out = array_of(b->type, b->rank, b->dims);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Data movement                                                            */
/* ------------------------------------------------------------------------ */

static HloError *expect_array_result(Infer *cx) {
  if (!hlo_type_is_array(cx->in->shape.type))
    return fail(cx, "result %s must be an array", shape_str(cx, &cx->in->shape));
  return NULL;
}

static HloError *infer_broadcast(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_array(cx, 0);
  if (!e) e = expect_array_result(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *r = &cx->in->shape;
  const HloDims *d = &cx->in->dimensions;
  if (d->n != x->rank)
    return fail(cx, "dimensions %s must have one entry per operand dim (%d)",
                dims_str(cx, d->v, d->n), x->rank);
  if ((e = check_dim_list(cx, "dimensions", d, r->rank))) return e;
  for (int i = 0; i < d->n; i++)
    if (x->dims[i] != r->dims[d->v[i]])
      return fail(cx, "operand dimension %d has size %lld but result dimension %lld has size %lld",
                  i, (long long)x->dims[i], (long long)d->v[i], (long long)r->dims[d->v[i]]);
  *out = array_of(x->type, r->rank, r->dims);
  return NULL;
}

static HloError *infer_reshape(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_array(cx, 0);
  if (!e) e = expect_array_result(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *r = &cx->in->shape;
  HloShape res = array_of(x->type, r->rank, r->dims);
  if (hlo_shape_elements(x) != hlo_shape_elements(&res))
    return fail(cx, "operand %s has %lld elements but the result %s has %lld",
                shape_str(cx, x), (long long)hlo_shape_elements(x), shape_str(cx, &res),
                (long long)hlo_shape_elements(&res));
  *out = res;
  return NULL;
}

/* dynamic-reshape(x, size0, …): x's present elements in the written
 * shape, whose dim d has the s32[] size operand d + 1 gives it at run
 * time (at most its bound; a static dim, its size).  As in XLA, the
 * bounds hold as many elements as x's bounds. */
static HloError *infer_dynamic_reshape(Infer *cx, HloShape *out) {
  HloError *e = expect_array_result(cx);
  if (e) return e;
  const HloShape *r = &cx->in->shape;
  if (cx->in->noperands != r->rank + 1)
    return fail(cx, "takes the operand and one size per result dimension (%d), not %d operands",
                r->rank, cx->in->noperands);
  if ((e = expect_array(cx, 0))) return e;
  const HloShape *x = OPND(cx, 0);
  for (int i = 1; i < cx->in->noperands; i++)
    if (!is_scalar_of(OPND(cx, i), HLO_S32))
      return fail(cx, "size %d %s is not an s32[]", i - 1, shape_str(cx, OPND(cx, i)));
  HloShape res = array_of(x->type, r->rank, r->dims);
  res.dynamic = r->dynamic;
  if (hlo_shape_elements(x) != hlo_shape_elements(&res))
    return fail(cx, "operand %s has %lld elements but the bounds of the result %s hold %lld",
                shape_str(cx, x), (long long)hlo_shape_elements(x), shape_str(cx, &res),
                (long long)hlo_shape_elements(&res));
  *out = res;
  return NULL;
}

static HloError *infer_bitcast(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_array(cx, 0);
  if (!e) e = expect_array_result(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *r = &cx->in->shape;
  if (hlo_shape_byte_size(x) != hlo_shape_byte_size(r))
    return fail(cx, "operand %s has %zu bytes but the result %s has %zu", shape_str(cx, x),
                hlo_shape_byte_size(x), shape_str(cx, r), hlo_shape_byte_size(r));
  *out = no_layout(cx, r);
  return NULL;
}

static HloError *infer_transpose(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_array(cx, 0);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  const HloDims *p = &cx->in->dimensions;
  bool ok = p->n == x->rank && all_unique(p->v, p->n);
  for (int i = 0; ok && i < p->n; i++) ok = p->v[i] >= 0 && p->v[i] < x->rank;
  if (!ok)
    return fail(cx, "dimensions %s is not a permutation of %d dims", dims_str(cx, p->v, p->n),
                x->rank);
  *out = array_of(x->type, x->rank, x->dims);
  for (int i = 0; i < x->rank; i++) out->dims[i] = x->dims[p->v[i]];
  return NULL;
}

/* slice and pad store one attribute entry per dim of the instruction's own
 * shape; the rule reads as many as the operand has, so they must agree. */
static HloError *expect_result_rank(Infer *cx, const char *attr, const void *entries) {
  const HloShape *x = OPND(cx, 0), *r = &cx->in->shape;
  if (x->rank > 0 && !entries) return fail(cx, "has no %s attribute", attr);
  if (!hlo_type_is_array(r->type) || r->rank != x->rank)
    return fail(cx, "%s has %d entries (one per result dim) but the operand %s has rank %d",
                attr, hlo_type_is_array(r->type) ? r->rank : 0, shape_str(cx, x), x->rank);
  return NULL;
}

static HloError *infer_slice(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_array(cx, 0);
  if (!e) e = expect_result_rank(cx, "slice", cx->in->slice);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  *out = array_of(x->type, x->rank, x->dims);
  for (int i = 0; i < x->rank; i++) {
    HloSliceDim s = cx->in->slice[i];
    if (s.start < 0 || s.start > s.limit || s.limit > x->dims[i] || s.stride < 1)
      return fail(cx, "[%lld:%lld:%lld] is out of range for dimension %d of %s",
                  (long long)s.start, (long long)s.limit, (long long)s.stride, i,
                  shape_str(cx, x));
    out->dims[i] = (s.limit - s.start + s.stride - 1) / s.stride;
  }
  return NULL;
}

/* XLA's older form of the start indices: one integer vector operand with
 * an entry per operand dim (XLA reads any rank-1 first index so). */
static HloError *check_start_vector(Infer *cx, int first, int rank) {
  const HloShape *s = OPND(cx, first);
  if (cx->in->noperands != first + 1)
    return fail(cx, "a rank-1 start index operand must be the only one, has %d",
                cx->in->noperands - first);
  if (!hlo_type_is_integer(s->type) || s->dims[0] != rank)
    return fail(cx, "start index vector %s must be integers, one per dim of %s",
                shape_str(cx, s), shape_str(cx, OPND(cx, 0)));
  return NULL;
}

bool hlo_start_indices_are_vector(const HloInstr *in) {
  int first = in->op == HLO_OP_DYNAMIC_SLICE ? 1 : 2;
  return in->noperands > first && hlo_type_is_array(in->operands[first]->shape.type) &&
         in->operands[first]->shape.rank == 1;
}

/* Operands [first, first+rank) are the start indices: scalar integers of one
 * type; or one vector of them (check_start_vector). */
static HloError *check_start_indices(Infer *cx, int first, int rank) {
  if (hlo_start_indices_are_vector(cx->in)) return check_start_vector(cx, first, rank);
  int n = cx->in->noperands - first;
  if (n != rank)
    return fail(cx, "needs %d start index operand%s for %s, has %d", rank, rank == 1 ? "" : "s",
                shape_str(cx, OPND(cx, 0)), n);
  for (int i = first; i < cx->in->noperands; i++) {
    const HloShape *s = OPND(cx, i);
    if (!hlo_type_is_integer(s->type) || s->rank != 0)
      return fail(cx, "start index operand %d must be an integer scalar, is %s", i,
                  shape_str(cx, s));
    if (s->type != OPND(cx, first)->type)
      return fail(cx, "start indices have different types %s and %s",
                  hlo_type_name(OPND(cx, first)->type), hlo_type_name(s->type));
  }
  return NULL;
}

static HloError *infer_dynamic_slice(Infer *cx, HloShape *out) {
  if (cx->in->noperands < 1) return fail(cx, "expects an operand and start indices");
  HloError *e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if ((e = check_start_indices(cx, 1, x->rank))) return e;
  const HloDims *sz = &cx->in->dynamic_slice_sizes;
  if (sz->n != x->rank)
    return fail(cx, "dynamic_slice_sizes %s must have one entry per operand dim (%d)",
                dims_str(cx, sz->v, sz->n), x->rank);
  for (int i = 0; i < x->rank; i++)
    if (sz->v[i] < 0 || sz->v[i] > x->dims[i])
      return fail(cx, "slice size %lld is out of range for dimension %d of %s",
                  (long long)sz->v[i], i, shape_str(cx, x));
  *out = array_of(x->type, x->rank, sz->v);
  return NULL;
}

static HloError *infer_dynamic_update_slice(Infer *cx, HloShape *out) {
  if (cx->in->noperands < 2) return fail(cx, "expects an operand, an update and start indices");
  HloError *e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *u = OPND(cx, 1);
  if ((e = check_start_indices(cx, 2, x->rank))) return e;
  if (u->type != x->type || u->rank != x->rank)
    return fail(cx, "update %s does not match the type and rank of the operand %s",
                shape_str(cx, u), shape_str(cx, x));
  for (int i = 0; i < x->rank; i++)
    if (u->dims[i] > x->dims[i])
      return fail(cx, "update %s is larger than the operand %s in dimension %d",
                  shape_str(cx, u), shape_str(cx, x), i);
  *out = array_of(x->type, x->rank, x->dims);
  return NULL;
}

static HloError *infer_concatenate(Infer *cx, HloShape *out) {
  if (cx->in->noperands < 1) return fail(cx, "expects at least one operand");
  HloError *e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  const HloDims *d = &cx->in->dimensions;
  if (d->n != 1 || d->v[0] < 0 || d->v[0] >= x->rank)
    return fail(cx, "dimensions %s must name one dimension of %s", dims_str(cx, d->v, d->n),
                shape_str(cx, x));
  int64_t dim = d->v[0];
  *out = array_of(x->type, x->rank, x->dims);
  for (int i = 1; i < cx->in->noperands; i++) {
    const HloShape *y = OPND(cx, i);
    bool ok = y->type == x->type && y->rank == x->rank;
    for (int k = 0; ok && k < x->rank; k++) ok = k == dim || y->dims[k] == x->dims[k];
    if (!ok)
      return fail(cx, "operand %d %s does not match operand 0 %s outside dimension %lld", i,
                  shape_str(cx, y), shape_str(cx, x), (long long)dim);
    if (!hlo_add_ok(out->dims[dim], y->dims[dim], &out->dims[dim]))
      return fail(cx, "the sizes of dimension %lld add up to more than 2^63", (long long)dim);
  }
  return NULL;
}

static HloError *infer_pad(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (!e) e = expect_result_rank(cx, "padding", cx->in->padding);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *v = OPND(cx, 1);
  if (!is_scalar_of(v, x->type))
    return fail(cx, "padding value %s must be a %s scalar", shape_str(cx, v),
                hlo_type_name(x->type));
  *out = array_of(x->type, x->rank, x->dims);
  for (int i = 0; i < x->rank; i++) {
    HloPadDim p = cx->in->padding[i];
    if (p.interior < 0)
      return fail(cx, "interior padding %lld of dimension %d is negative", (long long)p.interior, i);
    int64_t d = x->dims[i], inner, sum;
    if (!hlo_mul_ok(d > 0 ? d - 1 : 0, p.interior, &inner) || !hlo_add_ok(inner, d, &sum) ||
        !hlo_add_ok(sum, p.lo, &sum) || !hlo_add_ok(sum, p.hi, &sum))
      return fail(cx, "padding %lld_%lld_%lld of dimension %d overflows its size",
                  (long long)p.lo, (long long)p.hi, (long long)p.interior, i);
    out->dims[i] = sum;
    if (out->dims[i] < 0)
      return fail(cx, "padding %lld_%lld_%lld makes dimension %d negative", (long long)p.lo,
                  (long long)p.hi, (long long)p.interior, i);
  }
  return NULL;
}

static HloError *infer_reverse(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_array(cx, 0);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if ((e = check_dim_list(cx, "dimensions", &cx->in->dimensions, x->rank))) return e;
  *out = array_of(x->type, x->rank, x->dims);
  return NULL;
}

static HloError *infer_iota(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 0);
  if (!e) e = expect_array_result(cx);
  if (e) return e;
  const HloShape *r = &cx->in->shape;
  if (r->rank < 1) return fail(cx, "the result must have rank >= 1");
  if (cx->in->iota_dimension < 0 || cx->in->iota_dimension >= r->rank)
    return fail(cx, "iota_dimension %lld is out of range for %s",
                (long long)cx->in->iota_dimension, shape_str(cx, r));
  *out = no_layout(cx, r);
  return NULL;
}

/* The dims of `indices` with an implicit trailing 1 when index_vector_dim
 * is its rank (XLA's "expanded" start indices). */
static HloError *expand_indices(Infer *cx, const HloShape *idx, int64_t ivd, int64_t *dims,
                                int *rank) {
  if (!hlo_type_is_integer(idx->type))
    return fail(cx, "indices %s must have an integer type", shape_str(cx, idx));
  if (ivd < 0 || ivd > idx->rank)
    return fail(cx, "index_vector_dim %lld is out of range for indices %s", (long long)ivd,
                shape_str(cx, idx));
  *rank = idx->rank;
  memcpy(dims, idx->dims, sizeof(int64_t) * (size_t)idx->rank);
  if (ivd == idx->rank) {
    if (idx->rank == HLO_MAX_RANK) return fail(cx, "indices exceed the maximum rank");
    dims[(*rank)++] = 1;
  }
  return NULL;
}

/* Batching dims pair operand dims with indices dims of equal size. */
static HloError *check_batching(Infer *cx, const char *obd_name, const HloDims *obd,
                                const char *ibd_name, const HloDims *ibd, const HloShape *x,
                                const HloShape *idx, int64_t ivd) {
  HloError *e = check_dim_list(cx, obd_name, obd, x->rank);
  if (!e) e = check_dim_list(cx, ibd_name, ibd, idx->rank);
  if (e) return e;
  if (!sorted_unique(obd->v, obd->n))
    return fail(cx, "%s %s must be sorted", obd_name, dims_str(cx, obd->v, obd->n));
  if (obd->n != ibd->n)
    return fail(cx, "%s %s and %s %s differ in length", obd_name, dims_str(cx, obd->v, obd->n),
                ibd_name, dims_str(cx, ibd->v, ibd->n));
  for (int i = 0; i < ibd->n; i++) {
    if (ibd->v[i] == ivd)
      return fail(cx, "%s %s contains index_vector_dim %lld", ibd_name,
                  dims_str(cx, ibd->v, ibd->n), (long long)ivd);
    if (x->dims[obd->v[i]] != idx->dims[ibd->v[i]])
      return fail(cx, "operand batching dimension %lld has size %lld but indices batching "
                  "dimension %lld has size %lld", (long long)obd->v[i],
                  (long long)x->dims[obd->v[i]], (long long)ibd->v[i],
                  (long long)idx->dims[ibd->v[i]]);
  }
  return NULL;
}

/* A sorted list of distinct dims in [0, rank). */
static HloError *check_sorted_dims(Infer *cx, const char *what, const HloDims *d, int rank) {
  HloError *e = check_dim_list(cx, what, d, rank);
  if (!e && !sorted_unique(d->v, d->n))
    e = fail(cx, "%s %s must be sorted", what, dims_str(cx, d->v, d->n));
  return e;
}

static HloError *infer_gather(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *idx = OPND(cx, 1);
  const HloGatherDims *g = &cx->in->gather;
  int64_t edims[HLO_MAX_RANK];
  int erank;
  if ((e = expand_indices(cx, idx, g->index_vector_dim, edims, &erank))) return e;
  int out_rank = g->offset_dims.n + erank - 1;
  if (out_rank > HLO_MAX_RANK) return fail(cx, "result would exceed the maximum rank");
  if ((e = check_sorted_dims(cx, "offset_dims", &g->offset_dims, out_rank))) return e;
  if ((e = check_sorted_dims(cx, "collapsed_slice_dims", &g->collapsed_slice_dims, x->rank)))
    return e;
  if ((e = check_dim_list(cx, "start_index_map", &g->start_index_map, x->rank))) return e;
  if (g->start_index_map.n != edims[g->index_vector_dim])
    return fail(cx, "start_index_map %s has %d entries but the index vector has %lld",
                dims_str(cx, g->start_index_map.v, g->start_index_map.n), g->start_index_map.n,
                (long long)edims[g->index_vector_dim]);
  if ((e = check_batching(cx, "operand_batching_dims", &g->operand_batching_dims,
                          "start_indices_batching_dims", &g->start_indices_batching_dims, x,
                          idx, g->index_vector_dim)))
    return e;
  /* A batching dim start_index_map also names takes the batch position,
   * and its index vector entry is not read (XLA's evaluator overwrites it,
   * and its verifier allows the overlap). */
  for (int i = 0; i < g->operand_batching_dims.n; i++) {
    int64_t d = g->operand_batching_dims.v[i];
    if (contains(g->collapsed_slice_dims.v, g->collapsed_slice_dims.n, d))
      return fail(cx, "operand batching dimension %lld is also collapsed", (long long)d);
  }
  const HloDims *ss = &g->slice_sizes;
  if (ss->n != x->rank)
    return fail(cx, "slice_sizes %s must have one entry per operand dim (%d)",
                dims_str(cx, ss->v, ss->n), x->rank);
  if (g->offset_dims.n + g->collapsed_slice_dims.n + g->operand_batching_dims.n != x->rank)
    return fail(cx, "offset_dims %s, collapsed_slice_dims %s and operand_batching_dims %s must "
                "account for the %d operand dims",
                dims_str(cx, g->offset_dims.v, g->offset_dims.n),
                dims_str(cx, g->collapsed_slice_dims.v, g->collapsed_slice_dims.n),
                dims_str(cx, g->operand_batching_dims.v, g->operand_batching_dims.n), x->rank);
  for (int i = 0; i < x->rank; i++) {
    if (ss->v[i] < 0 || ss->v[i] > x->dims[i])
      return fail(cx, "slice size %lld is out of range for dimension %d of %s",
                  (long long)ss->v[i], i, shape_str(cx, x));
    bool dropped = contains(g->collapsed_slice_dims.v, g->collapsed_slice_dims.n, i) ||
                   contains(g->operand_batching_dims.v, g->operand_batching_dims.n, i);
    if (dropped && ss->v[i] > 1)
      return fail(cx, "collapsed or batching dimension %d has slice size %lld, not 1", i,
                  (long long)ss->v[i]);
  }
  *out = array_of(x->type, 0, NULL);
  out->rank = out_rank;
  int next_operand = 0, next_index = 0;
  for (int i = 0; i < out_rank; i++) {
    if (contains(g->offset_dims.v, g->offset_dims.n, i)) {
      while (contains(g->collapsed_slice_dims.v, g->collapsed_slice_dims.n, next_operand) ||
             contains(g->operand_batching_dims.v, g->operand_batching_dims.n, next_operand))
        next_operand++;
      out->dims[i] = ss->v[next_operand++];
    } else {
      if (next_index == g->index_vector_dim) next_index++;
      out->dims[i] = edims[next_index++];
    }
  }
  return NULL;
}

static HloError *infer_scatter(Infer *cx, HloShape *out) {
  int n = (cx->in->noperands - 1) / 2;
  if (cx->in->noperands < 3 || cx->in->noperands != 2 * n + 1)
    return fail(cx, "expects n inputs, the indices and n updates (2n+1 operands), has %d",
                cx->in->noperands);
  if (n > MAX_INPUTS) return fail(cx, "too many inputs (%d)", n);
  HloError *e = expect_arrays(cx);
  if (!e) e = expect_called(cx, 1, "to_apply");
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *idx = OPND(cx, n);
  const HloScatterDims *s = &cx->in->scatter;
  int64_t edims[HLO_MAX_RANK];
  int erank;
  if ((e = expand_indices(cx, idx, s->index_vector_dim, edims, &erank))) return e;
  if ((e = check_sorted_dims(cx, "inserted_window_dims", &s->inserted_window_dims, x->rank)))
    return e;
  if ((e = check_dim_list(cx, "scatter_dims_to_operand_dims", &s->scatter_dims_to_operand_dims,
                          x->rank)))
    return e;
  if (s->scatter_dims_to_operand_dims.n != edims[s->index_vector_dim])
    return fail(cx, "scatter_dims_to_operand_dims %s has %d entries but the index vector has %lld",
                dims_str(cx, s->scatter_dims_to_operand_dims.v, s->scatter_dims_to_operand_dims.n),
                s->scatter_dims_to_operand_dims.n, (long long)edims[s->index_vector_dim]);
  if ((e = check_batching(cx, "input_batching_dims", &s->input_batching_dims,
                          "scatter_indices_batching_dims", &s->scatter_indices_batching_dims, x,
                          idx, s->index_vector_dim)))
    return e;
  /* As gather's: a batching dim scatter_dims_to_operand_dims also names
   * takes the batch position. */
  for (int i = 0; i < s->input_batching_dims.n; i++) {
    int64_t d = s->input_batching_dims.v[i];
    if (contains(s->inserted_window_dims.v, s->inserted_window_dims.n, d))
      return fail(cx, "input batching dimension %lld is also inserted", (long long)d);
  }
  if (s->update_window_dims.n + s->inserted_window_dims.n + s->input_batching_dims.n != x->rank)
    return fail(cx, "update_window_dims %s, inserted_window_dims %s and input_batching_dims %s "
                "must account for the %d operand dims",
                dims_str(cx, s->update_window_dims.v, s->update_window_dims.n),
                dims_str(cx, s->inserted_window_dims.v, s->inserted_window_dims.n),
                dims_str(cx, s->input_batching_dims.v, s->input_batching_dims.n), x->rank);
  /* operand dims an update window spans: all but inserted and batching */
  int64_t window_bound[HLO_MAX_RANK];
  int nwin = 0;
  for (int i = 0; i < x->rank; i++)
    if (!contains(s->inserted_window_dims.v, s->inserted_window_dims.n, i) &&
        !contains(s->input_batching_dims.v, s->input_batching_dims.n, i))
      window_bound[nwin++] = x->dims[i];
  HloType init_types[MAX_INPUTS], update_types[MAX_INPUTS], acc[MAX_INPUTS];
  for (int k = 0; k < n; k++) {
    const HloShape *xk = OPND(cx, k), *u = OPND(cx, n + 1 + k);
    if (!hlo_shape_same_dims(xk, x))
      return fail(cx, "input %d %s and input 0 %s have different dims", k, shape_str(cx, xk),
                  shape_str(cx, x));
    int want_rank = erank - 1 + s->update_window_dims.n;
    if (u->rank != want_rank)
      return fail(cx, "updates %d %s must have rank %d", k, shape_str(cx, u), want_rank);
    if (k == 0 && (e = check_sorted_dims(cx, "update_window_dims", &s->update_window_dims,
                                         u->rank)))
      return e;
    for (int i = 0; i < s->update_window_dims.n; i++) {
      int64_t d = s->update_window_dims.v[i];
      if (u->dims[d] > window_bound[i])
        return fail(cx, "updates %d %s window dimension %lld exceeds the operand's %lld", k,
                    shape_str(cx, u), (long long)d, (long long)window_bound[i]);
    }
    int next_index = 0;
    for (int i = 0; i < u->rank; i++) {
      if (contains(s->update_window_dims.v, s->update_window_dims.n, i)) continue;
      if (next_index == s->index_vector_dim) next_index++;
      if (u->dims[i] != edims[next_index])
        return fail(cx, "updates %d %s scatter dimension %d has size %lld but the indices have %lld",
                    k, shape_str(cx, u), i, (long long)u->dims[i], (long long)edims[next_index]);
      next_index++;
    }
    init_types[k] = xk->type;
    update_types[k] = u->type;
  }
  if ((e = check_reducer(cx, cx->in->called[0], n, init_types, update_types, acc))) return e;
  if (n == 1) {
    *out = array_of(x->type, x->rank, x->dims);
    return NULL;
  }
  *out = operands_tuple(cx, n);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Reductions                                                               */
/* ------------------------------------------------------------------------ */

/* n inputs of equal dims followed by n scalar init values. */
static HloError *split_inputs(Infer *cx, int *n) {
  int k = cx->in->noperands;
  if (k < 2 || k % 2)
    return fail(cx, "expects n inputs and n init values, has %d operand%s", k, k == 1 ? "" : "s");
  *n = k / 2;
  if (*n > MAX_INPUTS) return fail(cx, "too many inputs (%d)", *n);
  HloError *e = expect_arrays(cx);
  if (e) return e;
  for (int i = 1; i < *n; i++)
    if (!hlo_shape_same_dims(OPND(cx, i), OPND(cx, 0)))
      return fail(cx, "input %d %s and input 0 %s have different dims", i,
                  shape_str(cx, OPND(cx, i)), shape_str(cx, OPND(cx, 0)));
  for (int i = 0; i < *n; i++)
    if (OPND(cx, *n + i)->rank != 0)
      return fail(cx, "init value %d %s is not a scalar", i, shape_str(cx, OPND(cx, *n + i)));
  return expect_called(cx, 1, "to_apply");
}

/* Arrays of dims `dims` with the given element types, or a tuple of them. */
/* One array per input, in a tuple when there are several or when the
 * computation returns a tuple (of one scalar: XLA's variadic form with one
 * input). */
static HloShape typed_results(Infer *cx, int n, const HloType *types, int rank,
                              const int64_t *dims) {
  if (n == 1 && cx->in->called[0]->root->shape.type != HLO_TUPLE)
    return array_of(types[0], rank, dims);
  HloShape *el;
  HloShape t = new_tuple(cx, n, &el);
  for (int i = 0; i < n; i++) el[i] = array_of(types[i], rank, dims);
  return t;
}

static HloError *reducer_of(Infer *cx, int n, HloType *acc) {
  HloType init_types[MAX_INPUTS], input_types[MAX_INPUTS];
  for (int i = 0; i < n; i++) {
    input_types[i] = OPND(cx, i)->type;
    init_types[i] = OPND(cx, n + i)->type;
  }
  return check_reducer(cx, cx->in->called[0], n, init_types, input_types, acc);
}

static HloError *infer_reduce(Infer *cx, HloShape *out) {
  int n;
  HloError *e = split_inputs(cx, &n);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  const HloDims *d = &cx->in->dimensions;
  if ((e = check_dim_list(cx, "dimensions", d, x->rank))) return e;
  HloType acc[MAX_INPUTS];
  if ((e = reducer_of(cx, n, acc))) return e;
  int64_t dims[HLO_MAX_RANK];
  int rank = 0;
  for (int i = 0; i < x->rank; i++)
    if (!contains(d->v, d->n, i)) dims[rank++] = x->dims[i];
  *out = typed_results(cx, n, acc, rank, dims);
  return NULL;
}

/* The shape a window slides over `base` gives (reduce-window, convolution). */
static HloError *window_output(Infer *cx, const HloWindowDim *w, int n, const int64_t *base,
                               int64_t *result) {
  if (n > 0 && !w) return fail(cx, "has no window attribute");
  for (int i = 0; i < n; i++) {
    if (w[i].size <= 0)
      return fail(cx, "window dimension %d has size %lld", i, (long long)w[i].size);
    if (w[i].stride <= 0)
      return fail(cx, "window dimension %d has stride %lld", i, (long long)w[i].stride);
    if (w[i].lhs_dilate < 1 || w[i].rhs_dilate < 1)
      return fail(cx, "window dimension %d has dilations %lld and %lld, which must be >= 1", i,
                  (long long)w[i].lhs_dilate, (long long)w[i].rhs_dilate);
    int64_t padded, window;
    if (!dilated_bound(base[i], w[i].lhs_dilate, &padded) ||
        !hlo_add_ok(padded, w[i].pad_lo, &padded) || !hlo_add_ok(padded, w[i].pad_hi, &padded) ||
        !dilated_bound(w[i].size, w[i].rhs_dilate, &window))
      return fail(cx, "window dimension %d overflows: size %lld, padding %lld_%lld, dilations "
                  "%lld and %lld over a base of %lld", i, (long long)w[i].size,
                  (long long)w[i].pad_lo, (long long)w[i].pad_hi, (long long)w[i].lhs_dilate,
                  (long long)w[i].rhs_dilate, (long long)base[i]);
    result[i] = strided_bound(padded, window, w[i].stride);
  }
  return NULL;
}

static HloError *infer_reduce_window(Infer *cx, HloShape *out) {
  int n;
  HloError *e = split_inputs(cx, &n);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if (cx->in->window_rank != x->rank)
    return fail(cx, "window has %d dims but the input %s has rank %d", cx->in->window_rank,
                shape_str(cx, x), x->rank);
  HloType acc[MAX_INPUTS];
  if ((e = reducer_of(cx, n, acc))) return e;
  int64_t dims[HLO_MAX_RANK];
  if ((e = window_output(cx, cx->in->window, x->rank, x->dims, dims))) return e;
  *out = typed_results(cx, n, acc, x->rank, dims);
  return NULL;
}

/* A select-and-scatter computation: two T[] parameters, a scalar root of
 * type `result`. */
static HloError *check_binary_scalar(Infer *cx, const char *role, const HloComputation *f,
                                     HloType t, HloType result) {
  HloError *e = check_signature(cx, role, f);
  if (e) return e;
  if (f->nparams != 2 || !is_scalar_of(&f->params[0]->shape, t) ||
      !is_scalar_of(&f->params[1]->shape, t) || !is_scalar_of(&f->root->shape, result))
    return fail(cx, "%s must be (%s[], %s[]) -> %s[] (%s has %s)", role, hlo_type_name(t),
                hlo_type_name(t), hlo_type_name(result), f->name, signature_str(cx, f));
  return NULL;
}

/* select-and-scatter(operand, source, init), window=…, select=, scatter=
 * (XLA's InferSelectAndScatterShape): source has the dims of the windows
 * over operand, init is a scalar, all three of one element type; select is
 * (T, T) -> pred, scatter (T, T) -> T; the result is operand's shape. */
static HloError *infer_select_and_scatter(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 3);
  if (!e) e = expect_arrays(cx);
  if (!e) e = expect_called(cx, 2, "select, scatter");
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *src = OPND(cx, 1), *init = OPND(cx, 2);
  if (src->type != x->type || !is_scalar_of(init, x->type))
    return fail(cx, "source %s and init value %s must be of the operand's type %s (init a "
                "scalar)", shape_str(cx, src), shape_str(cx, init), hlo_type_name(x->type));
  if (cx->in->window_rank != x->rank)
    return fail(cx, "window has %d dims but the operand %s has rank %d", cx->in->window_rank,
                shape_str(cx, x), x->rank);
  if ((e = check_binary_scalar(cx, "select", cx->in->called[0], x->type, HLO_PRED))) return e;
  if ((e = check_binary_scalar(cx, "scatter", cx->in->called[1], x->type, x->type))) return e;
  int64_t dims[HLO_MAX_RANK];
  if ((e = window_output(cx, cx->in->window, x->rank, x->dims, dims))) return e;
  HloShape w = array_of(x->type, x->rank, dims);
  if (!hlo_shape_same_dims(&w, src))
    return fail(cx, "source %s must have the dims of the windows over the operand, %s",
                shape_str(cx, src), shape_str(cx, &w));
  *out = array_of(x->type, x->rank, x->dims);
  return NULL;
}

static HloError *infer_sort(Infer *cx, HloShape *out) {
  int n = cx->in->noperands;
  if (n < 1) return fail(cx, "expects at least one operand");
  HloError *e = expect_arrays(cx);
  if (!e) e = expect_called(cx, 1, "comparator");
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  for (int i = 1; i < n; i++)
    if (!hlo_shape_same_dims(OPND(cx, i), x))
      return fail(cx, "operand %d %s and operand 0 %s have different dims", i,
                  shape_str(cx, OPND(cx, i)), shape_str(cx, x));
  const HloDims *d = &cx->in->dimensions;
  if (d->n != 1 || d->v[0] < 0 || d->v[0] >= x->rank)
    return fail(cx, "dimensions %s must name one dimension of %s", dims_str(cx, d->v, d->n),
                shape_str(cx, x));
  const HloComputation *f = cx->in->called[0];
  if ((e = check_signature(cx, "comparator", f))) return e;
  if (f->nparams != 2 * n)
    return fail(cx, "comparator must take %d parameters (%s has %s)", 2 * n, f->name,
                signature_str(cx, f));
  for (int i = 0; i < 2 * n; i++)
    if (!is_scalar_of(&f->params[i]->shape, OPND(cx, i / 2)->type))
      return fail(cx, "comparator parameter %d must be %s[] (%s has %s)", i,
                  hlo_type_name(OPND(cx, i / 2)->type), f->name, signature_str(cx, f));
  if (!is_scalar_of(&f->root->shape, HLO_PRED))
    return fail(cx, "comparator must return pred[] (%s has %s)", f->name, signature_str(cx, f));
  if (n == 1) {
    *out = array_of(x->type, x->rank, x->dims);
    return NULL;
  }
  *out = operands_tuple(cx, n);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Dot and convolution                                                      */
/* ------------------------------------------------------------------------ */

/* XLA lets dot and convolution produce a wider "preferred" element type, so
 * the result type is the instruction's; the operands must merely be of one
 * kind. */
static HloError *check_contract_types(Infer *cx) {
  HloType a = OPND(cx, 0)->type, b = OPND(cx, 1)->type;
  bool ok = a == b || (hlo_type_is_float(a) && hlo_type_is_float(b)) ||
            (hlo_type_is_integer(a) && hlo_type_is_integer(b));
  if (!ok) return fail(cx, "operand types %s and %s are incompatible", hlo_type_name(a), hlo_type_name(b));
  return expect_array_result(cx);
}

static HloError *check_dot_side(Infer *cx, const char *side, const HloDims *batch,
                                const HloDims *contracting, int rank) {
  char what[64];
  snprintf(what, sizeof what, "%s_batch_dims", side);
  HloError *e = check_dim_list(cx, what, batch, rank);
  if (e) return e;
  snprintf(what, sizeof what, "%s_contracting_dims", side);
  if ((e = check_dim_list(cx, what, contracting, rank))) return e;
  for (int i = 0; i < batch->n; i++)
    if (contains(contracting->v, contracting->n, batch->v[i]))
      return fail(cx, "%s dimension %lld is both a batch and a contracting dimension", side,
                  (long long)batch->v[i]);
  return NULL;
}

static HloError *dot_shape(Infer *cx, HloShape *out);

static HloError *infer_dot(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (!e) e = check_contract_types(cx);
  if (e) return e;
  return dot_shape(cx, out);
}

/* XLA's no-op scale: a bf16 scale of a bf16 operand, every dim 1 (a
 * scalar too), the operand not all ones: the verifier skips its checks. */
static bool no_op_scale(const HloShape *x, const HloShape *s) {
  bool ones = true, operand_ones = true;
  for (int i = 0; i < s->rank; i++) ones &= s->dims[i] == 1;
  for (int i = 0; i < x->rank; i++) operand_ones &= x->dims[i] == 1;
  return s->type == HLO_BF16 && x->type == HLO_BF16 && ones && !operand_ones;
}

/* Operand k (0 lhs, 1 rhs) and its scale, operand k + 2, by XLA's
 * verifier: the scale has the operand's rank and each of its dims
 * divides the operand's (a block of operand elements per scale element),
 * and the operand has one contracting dim. */
static HloError *check_scale(Infer *cx, int k) {
  const HloShape *x = OPND(cx, k), *s = OPND(cx, k + 2);
  const HloDims *c = k ? &cx->in->dot.rhs_contracting : &cx->in->dot.lhs_contracting;
  const char *side = k ? "rhs" : "lhs";
  if (no_op_scale(x, s)) return NULL;
  if (s->rank != x->rank)
    return fail(cx, "%s scale %s has a different rank than the operand %s", side,
                shape_str(cx, s), shape_str(cx, x));
  if (c->n != 1)
    return fail(cx, "%s must have exactly one contracting dimension, has %d", side, c->n);
  for (int i = 0; i < x->rank; i++)
    if (s->dims[i] < 1 || x->dims[i] % s->dims[i])
      return fail(cx, "dimension %d of %s operand %s is not a multiple of the scale's %s", i,
                  side, shape_str(cx, x), shape_str(cx, s));
  return NULL;
}

/* scaled-dot(lhs, rhs, lhs_scale, rhs_scale): the dot of the operands
 * multiplied by their scales, each scale element covering a block of
 * operand elements (hlo_scaled_dot_scale_index). */
static HloError *infer_scaled_dot(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 4);
  if (!e) e = expect_arrays(cx);
  if (!e) e = check_contract_types(cx);
  if (!e) e = check_scale(cx, 0);
  if (!e) e = check_scale(cx, 1);
  if (e) return e;
  if (OPND(cx, 2)->rank == 0 && OPND(cx, 3)->rank == 0)
    return fail(cx, "at least one of the scales must not be a scalar");
  for (int i = 0; i < 4; i++)
    if (hlo_type_is_complex(OPND(cx, i)->type) || !hlo_type_is_float(cx->in->shape.type))
      return fail(cx, "takes real operands and scales and gives a floating-point result");
  return dot_shape(cx, out);
}

/* The dot's result from operands 0 and 1 and the dot dims. */
static HloError *dot_shape(Infer *cx, HloShape *out) {
  HloError *e;
  const HloShape *a = OPND(cx, 0), *b = OPND(cx, 1);
  const HloDotDims *d = &cx->in->dot;
  if ((e = check_dot_side(cx, "lhs", &d->lhs_batch, &d->lhs_contracting, a->rank))) return e;
  if ((e = check_dot_side(cx, "rhs", &d->rhs_batch, &d->rhs_contracting, b->rank))) return e;
  if (d->lhs_batch.n != d->rhs_batch.n)
    return fail(cx, "lhs has %d batch dimensions but rhs has %d", d->lhs_batch.n, d->rhs_batch.n);
  if (d->lhs_contracting.n != d->rhs_contracting.n)
    return fail(cx, "lhs has %d contracting dimensions but rhs has %d", d->lhs_contracting.n,
                d->rhs_contracting.n);
  for (int i = 0; i < d->lhs_batch.n; i++) {
    int64_t l = d->lhs_batch.v[i], r = d->rhs_batch.v[i];
    if (a->dims[l] != b->dims[r])
      return fail(cx, "lhs batch dimension %lld has size %lld but rhs batch dimension %lld has "
                  "size %lld", (long long)l, (long long)a->dims[l], (long long)r,
                  (long long)b->dims[r]);
  }
  for (int i = 0; i < d->lhs_contracting.n; i++) {
    int64_t l = d->lhs_contracting.v[i], r = d->rhs_contracting.v[i];
    if (a->dims[l] != b->dims[r])
      return fail(cx, "lhs contracting dimension %lld has size %lld but rhs contracting "
                  "dimension %lld has size %lld", (long long)l, (long long)a->dims[l],
                  (long long)r, (long long)b->dims[r]);
  }
  int rank = a->rank + b->rank - d->lhs_contracting.n - d->rhs_contracting.n - d->rhs_batch.n;
  if (rank > HLO_MAX_RANK) return fail(cx, "result would exceed the maximum rank");
  *out = array_of(cx->in->shape.type, 0, NULL);
  for (int i = 0; i < d->lhs_batch.n; i++) out->dims[out->rank++] = a->dims[d->lhs_batch.v[i]];
  for (int i = 0; i < a->rank; i++)
    if (!contains(d->lhs_batch.v, d->lhs_batch.n, i) &&
        !contains(d->lhs_contracting.v, d->lhs_contracting.n, i))
      out->dims[out->rank++] = a->dims[i];
  for (int i = 0; i < b->rank; i++)
    if (!contains(d->rhs_batch.v, d->rhs_batch.n, i) &&
        !contains(d->rhs_contracting.v, d->rhs_contracting.n, i))
      out->dims[out->rank++] = b->dims[i];
  return NULL;
}

HloRaggedMode hlo_ragged_dot_mode(const HloInstr *rd) {
  const HloDotDims *d = &rd->dot;
  int64_t r = d->lhs_ragged.v[0];
  if (contains(d->lhs_contracting.v, d->lhs_contracting.n, r)) return HLO_RAGGED_CONTRACTING;
  if (contains(d->lhs_batch.v, d->lhs_batch.n, r)) return HLO_RAGGED_BATCH;
  return HLO_RAGGED_NONCONTRACTING;
}

void hlo_ragged_dot_group(const HloInstr *rd, HloRaggedGroupDot *out) {
  const HloDotDims *d = &rd->dot;
  const HloShape *rhs = &rd->operands[1]->shape;
  int64_t gd = d->rhs_group.n ? d->rhs_group.v[0] : -1;
  memset(out, 0, sizeof *out);
  out->dims.lhs_batch = d->lhs_batch;
  out->dims.lhs_contracting = d->lhs_contracting;
  const HloDims *from[2] = {&d->rhs_batch, &d->rhs_contracting};
  HloDims *to[2] = {&out->dims.rhs_batch, &out->dims.rhs_contracting};
  for (int j = 0; j < 2; j++) {
    for (int i = 0; i < from[j]->n; i++)
      out->buf[j][i] = from[j]->v[i] - (gd >= 0 && from[j]->v[i] > gd);
    *to[j] = (HloDims){from[j]->n, out->buf[j]};
  }
  int64_t dims[HLO_MAX_RANK];
  int n = 0;
  for (int i = 0; i < rhs->rank; i++)
    if (i != gd) dims[n++] = rhs->dims[i];
  out->rhs = hlo_shape_array(rhs->type, n, dims);
}

/* group_sizes' leading dims, as lhs dims, when it is not [g]: JAX's
 * prefix dims (see HloRaggedMode), lists taken in their given order. */
static int ragged_size_dims_full(const HloInstr *rd, int64_t *v) {
  const HloDotDims *d = &rd->dot;
  HloRaggedMode mode = hlo_ragged_dot_mode(rd);
  int64_t r = d->lhs_ragged.v[0];
  int n = 0;
  if (mode == HLO_RAGGED_BATCH) {
    for (int i = 0; i < d->lhs_batch.n && d->lhs_batch.v[i] != r; i++) v[n++] = d->lhs_batch.v[i];
    return n;
  }
  for (int i = 0; i < d->lhs_batch.n; i++) v[n++] = d->lhs_batch.v[i];
  if (mode == HLO_RAGGED_CONTRACTING) {
    for (int i = 0; i < d->lhs_contracting.n && d->lhs_contracting.v[i] != r; i++)
      v[n++] = d->lhs_contracting.v[i];
    return n;
  }
  for (int64_t i = 0; i < r; i++)
    if (!contains(d->lhs_batch.v, d->lhs_batch.n, i) &&
        !contains(d->lhs_contracting.v, d->lhs_contracting.n, i))
      v[n++] = i;
  return n;
}

int hlo_ragged_dot_size_dims(const HloInstr *rd, int64_t lhs_dims[HLO_MAX_RANK]) {
  if (rd->operands[2]->shape.rank == 1) return 0;
  return ragged_size_dims_full(rd, lhs_dims);
}

/* get-dimension-size(x), dimensions={d}: x's size along d (its bound
 * when d is dynamic, the size it has at run time), an s32[]. */
static HloError *infer_get_dimension_size(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloDims *d = &cx->in->dimensions;
  if (d->n != 1) return fail(cx, "dimensions= must name one dimension");
  if ((e = check_dim_list(cx, "dimensions", d, OPND(cx, 0)->rank))) return e;
  *out = hlo_shape_scalar(HLO_S32);
  return NULL;
}

/* set-dimension-size(x, size), dimensions={d}: x with dim d dynamic, of
 * x's size as bound and `size` (an s32[]) as the size it has at run
 * time. */
static HloError *infer_set_dimension_size(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *size = OPND(cx, 1);
  const HloDims *d = &cx->in->dimensions;
  if (d->n != 1) return fail(cx, "dimensions= must name one dimension");
  if ((e = check_dim_list(cx, "dimensions", d, x->rank))) return e;
  if (!is_scalar_of(size, HLO_S32))
    return fail(cx, "size %s is not an s32[]", shape_str(cx, size));
  *out = array_of(x->type, x->rank, x->dims);
  out->dynamic = (uint16_t)(x->dynamic | 1u << d->v[0]);
  return NULL;
}

/* ragged-dot(lhs, rhs, group_sizes): a dot per group (see HloRaggedMode);
 * the dot rules hold for lhs and rhs without its group dim. */
static HloError *infer_ragged_dot(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 3);
  if (!e) e = expect_arrays(cx);
  if (!e) e = check_contract_types(cx);
  if (e) return e;
  const HloInstr *in = cx->in;
  const HloDotDims *d = &in->dot;
  const HloShape *a = OPND(cx, 0), *b = OPND(cx, 1), *gs = OPND(cx, 2);
  if (d->lhs_ragged.n != 1)
    return fail(cx, "lhs_ragged_dims %s must name one dimension",
                dims_str(cx, d->lhs_ragged.v, d->lhs_ragged.n));
  if ((e = check_dim_list(cx, "lhs_ragged_dims", &d->lhs_ragged, a->rank))) return e;
  if ((e = check_dim_list(cx, "rhs_group_dims", &d->rhs_group, b->rank))) return e;
  HloRaggedMode mode = hlo_ragged_dot_mode(in);
  int64_t r = d->lhs_ragged.v[0];
  if (mode == HLO_RAGGED_NONCONTRACTING && d->rhs_group.n != 1)
    return fail(cx, "lhs dimension %lld (ragged) is not contracting or batch, so rhs_group_dims "
                "must name one rhs dimension", (long long)r);
  if (mode != HLO_RAGGED_NONCONTRACTING && d->rhs_group.n != 0)
    return fail(cx, "lhs dimension %lld (ragged) is a %s dimension: rhs has no group dimension",
                (long long)r, mode == HLO_RAGGED_BATCH ? "batch" : "contracting");
  int64_t gd = d->rhs_group.n ? d->rhs_group.v[0] : -1;
  if (gd >= 0 && (contains(d->rhs_batch.v, d->rhs_batch.n, gd) ||
                  contains(d->rhs_contracting.v, d->rhs_contracting.n, gd)))
    return fail(cx, "rhs group dimension %lld is also a batch or contracting dimension",
                (long long)gd);
  if (gs->type != HLO_S32 && gs->type != HLO_S64)
    return fail(cx, "group_sizes %s is not of type s32 or s64", shape_str(cx, gs));
  if (gs->rank < 1) return fail(cx, "group_sizes %s is a scalar", shape_str(cx, gs));
  int64_t g = gs->dims[gs->rank - 1];
  if (gd >= 0 && b->dims[gd] != g)
    return fail(cx, "rhs group dimension %lld has size %lld but group_sizes %s has %lld groups",
                (long long)gd, (long long)b->dims[gd], shape_str(cx, gs), (long long)g);
  int64_t lead[HLO_MAX_RANK];
  int n = ragged_size_dims_full(in, lead);
  bool ok = gs->rank == 1 || gs->rank == n + 1;
  for (int i = 0; ok && gs->rank > 1 && i < n; i++) ok = gs->dims[i] == a->dims[lead[i]];
  if (!ok) {
    int64_t want[HLO_MAX_RANK + 1];
    for (int i = 0; i < n; i++) want[i] = a->dims[lead[i]];
    want[n] = g;
    return fail(cx, "group_sizes %s is neither [%lld] nor %s (the lhs dims %s, then the groups)",
                shape_str(cx, gs), (long long)g, dims_str(cx, want, n + 1),
                dims_str(cx, lead, n));
  }
  /* The dot of one group, checked by the dot's rules. */
  HloRaggedGroupDot gdot;
  if ((e = check_dot_side(cx, "rhs", &d->rhs_batch, &d->rhs_contracting, b->rank))) return e;
  hlo_ragged_dot_group(in, &gdot);
  HloInstr rhs = *in->operands[1], tmp = *in;
  rhs.shape = gdot.rhs;
  HloInstr *ops[2] = {in->operands[0], &rhs};
  tmp.operands = ops;
  tmp.noperands = 2;
  tmp.dot = gdot.dims;
  Infer sub = *cx;
  sub.in = &tmp;
  sub.nstrs = 0;
  e = infer_dot(&sub, out);
  for (int i = 0; i < sub.nstrs; i++) free(sub.strs[i]);
  if (e || mode != HLO_RAGGED_CONTRACTING) return e;
  if (out->rank == HLO_MAX_RANK) return fail(cx, "result would exceed the maximum rank");
  memmove(out->dims + 1, out->dims, sizeof out->dims[0] * (size_t)out->rank);
  out->dims[0] = g;
  out->rank++;
  return NULL;
}

/* The batch, feature and spatial dims of one side of dim_labels must be a
 * permutation of 0..rank-1. */
static HloError *check_labels(Infer *cx, const char *side, int64_t d0, int64_t d1,
                              const int64_t *spatial, int nspatial) {
  int64_t v[HLO_MAX_RANK];
  int n = 0;
  v[n++] = d0;
  v[n++] = d1;
  for (int i = 0; i < nspatial; i++) v[n++] = spatial[i];
  bool ok = all_unique(v, n);
  for (int i = 0; ok && i < n; i++) ok = v[i] >= 0 && v[i] < n;
  if (!ok)
    return fail(cx, "dim_labels: %s dimensions %s are not a permutation of %d dims", side,
                dims_str(cx, v, n), n);
  return NULL;
}

static HloError *infer_convolution(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (!e) e = check_contract_types(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *k = OPND(cx, 1);
  const HloConvDims *d = &cx->in->conv;
  int64_t fgc = cx->in->feature_group_count, bgc = cx->in->batch_group_count;
  int ns = d->nspatial;
  if (ns < 0 || ns + 2 > HLO_MAX_RANK) return fail(cx, "dim_labels has %d spatial dims", ns);
  if (x->rank != ns + 2 || k->rank != ns + 2)
    return fail(cx, "dim_labels with %d spatial dims need rank-%d operands, got %s and %s", ns,
                ns + 2, shape_str(cx, x), shape_str(cx, k));
  if (cx->in->window_rank != ns)
    return fail(cx, "window has %d dims but dim_labels has %d spatial dims", cx->in->window_rank,
                ns);
  if (ns > 0 && !cx->in->window) return fail(cx, "has no window attribute");
  if ((e = check_labels(cx, "input", d->in_batch, d->in_feature, d->in_spatial, ns))) return e;
  if ((e = check_labels(cx, "kernel", d->k_in_feature, d->k_out_feature, d->k_spatial, ns)))
    return e;
  if ((e = check_labels(cx, "output", d->out_batch, d->out_feature, d->out_spatial, ns)))
    return e;
  if (fgc < 1 || bgc < 1)
    return fail(cx, "feature_group_count %lld and batch_group_count %lld must be >= 1",
                (long long)fgc, (long long)bgc);
  if (fgc > 1 && bgc > 1)
    return fail(cx, "feature_group_count %lld and batch_group_count %lld cannot both exceed 1",
                (long long)fgc, (long long)bgc);
  int64_t in_features = x->dims[d->in_feature], batch = x->dims[d->in_batch];
  int64_t k_in = k->dims[d->k_in_feature], k_out = k->dims[d->k_out_feature];
  if (in_features % fgc != 0 || in_features / fgc != k_in)
    return fail(cx, "input feature dimension has size %lld but the kernel input feature "
                "dimension has %lld (feature_group_count %lld)", (long long)in_features,
                (long long)k_in, (long long)fgc);
  if (k_out % fgc != 0)
    return fail(cx, "kernel output feature dimension %lld is not a multiple of "
                "feature_group_count %lld", (long long)k_out, (long long)fgc);
  if (k_out % bgc != 0)
    return fail(cx, "kernel output feature dimension %lld is not a multiple of "
                "batch_group_count %lld", (long long)k_out, (long long)bgc);
  if (batch % bgc != 0)
    return fail(cx, "input batch dimension %lld is not a multiple of batch_group_count %lld",
                (long long)batch, (long long)bgc);
  int64_t base[HLO_MAX_RANK], spatial[HLO_MAX_RANK];
  for (int i = 0; i < ns; i++) {
    int64_t ksz = k->dims[d->k_spatial[i]];
    if (cx->in->window[i].size != ksz)
      return fail(cx, "window dimension %d has size %lld but the kernel's spatial dimension %lld "
                  "has %lld", i, (long long)cx->in->window[i].size, (long long)d->k_spatial[i],
                  (long long)ksz);
    base[i] = x->dims[d->in_spatial[i]];
  }
  if ((e = window_output(cx, cx->in->window, ns, base, spatial))) return e;
  *out = array_of(cx->in->shape.type, 0, NULL);
  out->rank = ns + 2;
  out->dims[d->out_batch] = batch / bgc;
  out->dims[d->out_feature] = k_out;
  for (int i = 0; i < ns; i++) out->dims[d->out_spatial[i]] = spatial[i];
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Tuples, control flow, the rest                                           */
/* ------------------------------------------------------------------------ */

static HloError *infer_tuple(Infer *cx, HloShape *out) {
  *out = operands_tuple(cx, cx->in->noperands);
  return NULL;
}

static HloError *infer_get_tuple_element(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (e) return e;
  const HloShape *t = OPND(cx, 0);
  if (t->type != HLO_TUPLE) return fail(cx, "operand %s is not a tuple", shape_str(cx, t));
  if (cx->in->tuple_index < 0 || cx->in->tuple_index >= t->ntuple)
    return fail(cx, "index %lld is out of range for %s", (long long)cx->in->tuple_index,
                shape_str(cx, t));
  *out = no_layout(cx, &t->tuple[cx->in->tuple_index]);
  return NULL;
}

static HloError *infer_call(Infer *cx, HloShape *out, const char *role) {
  HloError *e = expect_called(cx, 1, role);
  if (!e) e = check_args(cx, role, cx->in->called[0], 0, cx->in->noperands);
  if (e) return e;
  *out = no_layout(cx, &cx->in->called[0]->root->shape);
  return NULL;
}

static HloError *infer_while(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_called(cx, 2, "condition, body");
  if (!e) e = check_args(cx, "condition", cx->in->called[0], 0, 1);
  if (!e) e = check_args(cx, "body", cx->in->called[1], 0, 1);
  if (e) return e;
  const HloComputation *cond = cx->in->called[0], *body = cx->in->called[1];
  const HloShape *init = OPND(cx, 0);
  if (!is_scalar_of(&cond->root->shape, HLO_PRED))
    return fail(cx, "condition '%s' returns %s, not pred[]", cond->name,
                shape_str(cx, &cond->root->shape));
  if (!same_shape(&body->root->shape, init))
    return fail(cx, "body '%s' returns %s but the loop state is %s", body->name,
                shape_str(cx, &body->root->shape), shape_str(cx, init));
  *out = no_layout(cx, init);
  return NULL;
}

static HloError *infer_conditional(Infer *cx, HloShape *out) {
  int nb = cx->in->ncalled;
  if (nb < 1) return fail(cx, "has no branch computations");
  if (cx->in->noperands != nb + 1)
    return fail(cx, "expects the branch index and one operand per branch (%d), has %d operands",
                nb + 1, cx->in->noperands);
  const HloShape *p = OPND(cx, 0);
  if (!is_scalar_of(p, HLO_PRED) && !is_scalar_of(p, HLO_S32))
    return fail(cx, "branch index %s must be pred[] or s32[]", shape_str(cx, p));
  if (p->type == HLO_PRED && nb != 2)
    return fail(cx, "a pred branch index needs 2 branches, has %d", nb);
  HloError *e = NULL;
  for (int j = 0; j < nb && !e; j++) {
    if (!cx->in->called[j]) return fail(cx, "branch %d is missing", j);
    char role[32];
    snprintf(role, sizeof role, "branch %d", j);
    e = check_args(cx, role, cx->in->called[j], 1 + j, 1);
  }
  if (e) return e;
  const HloShape *r0 = &cx->in->called[0]->root->shape;
  for (int j = 1; j < nb; j++) {
    const HloShape *rj = &cx->in->called[j]->root->shape;
    if (!same_shape(r0, rj))
      return fail(cx, "branch 0 '%s' returns %s but branch %d '%s' returns %s",
                  cx->in->called[0]->name, shape_str(cx, r0), j, cx->in->called[j]->name,
                  shape_str(cx, rj));
  }
  *out = no_layout(cx, r0);
  return NULL;
}

/* The operands every batch-norm op shares: nops operands, the first x of
 * a floating-point type with feature_index one of its dims, then nvec
 * vectors (named by `names`) of x's type, one element per feature. */
static HloError *check_batch_norm(Infer *cx, int nops, int nvec, const char *const *names) {
  HloError *e = expect_operands(cx, nops);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if (!hlo_type_is_float(x->type)) return type_error(cx, x->type, "a floating-point type");
  int64_t f = cx->in->feature_index;
  if (f < 0 || f >= x->rank)
    return fail(cx, "feature_index %lld is out of range for %s", (long long)f, shape_str(cx, x));
  for (int i = 1; i <= nvec; i++) {
    const HloShape *s = OPND(cx, i);
    if (s->type != x->type || s->rank != 1 || s->dims[0] != x->dims[f])
      return fail(cx, "%s %s must be %s[%lld]", names[i - 1], shape_str(cx, s),
                  hlo_type_name(x->type), (long long)x->dims[f]);
  }
  return NULL;
}

static HloError *infer_batch_norm_inference(Infer *cx, HloShape *out) {
  static const char *names[] = {"scale", "offset", "mean", "variance"};
  HloError *e = check_batch_norm(cx, 5, 4, names);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  *out = array_of(x->type, x->rank, x->dims);
  return NULL;
}

/* batch-norm-training(x, scale, offset) gives (normalized x, mean,
 * variance); batch-norm-grad(x, scale, mean, variance, grad_output) gives
 * (grad x, grad scale, grad offset), grad_output shaped as x.  The
 * statistics are vectors along feature_index. */
static HloError *infer_batch_norm_training_grad(Infer *cx, HloShape *out) {
  static const char *training[] = {"scale", "offset"};
  static const char *grad[] = {"scale", "mean", "variance"};
  bool g = cx->in->op == HLO_OP_BATCH_NORM_GRAD;
  HloError *e = check_batch_norm(cx, g ? 5 : 3, g ? 3 : 2, g ? grad : training);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if (g && !same_shape(OPND(cx, 4), x))
    return fail(cx, "grad_output %s must have the shape of the operand %s",
                shape_str(cx, OPND(cx, 4)), shape_str(cx, x));
  HloShape *el;
  *out = new_tuple(cx, 3, &el);
  el[0] = array_of(x->type, x->rank, x->dims);
  el[1] = array_of(x->type, 1, &x->dims[cx->in->feature_index]);
  el[2] = el[1];
  return NULL;
}

/* topk(x), k=K: x an array of rank >= 1 of a real or integer type (or
 * pred) whose last dimension has at least K elements; the result is
 * (values, s32 indices), both x's dims with K last (XLA's InferTopKShape). */
static HloError *infer_topk(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  int64_t k = cx->in->topk_k;
  if (x->rank == 0) return fail(cx, "operand %s is a scalar", shape_str(cx, x));
  if (hlo_type_is_complex(x->type))
    return fail(cx, "operand %s is complex, which has no order", shape_str(cx, x));
  if (k < 0 || k > x->dims[x->rank - 1])
    return fail(cx, "k=%lld is not within the last dimension of %s", (long long)k,
                shape_str(cx, x));
  int64_t dims[HLO_MAX_RANK];
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  dims[x->rank - 1] = k;
  HloShape *el;
  *out = new_tuple(cx, 2, &el);
  el[0] = array_of(x->type, x->rank, dims);
  el[1] = array_of(HLO_S32, x->rank, dims);
  return NULL;
}

/* Whether x is the scalar integer constant v. */
static bool is_int_constant(const HloInstr *x, int64_t v) {
  return x->op == HLO_OP_CONSTANT && x->literal && x->shape.rank == 0 &&
         hlo_type_is_integer(x->shape.type) && hlo_literal_get_s64(x->literal, 0) == v;
}

/* The parameter a float's bits come from: x is bitcast(p) or
 * bitcast-convert(p) of a float parameter p into a signed integer as
 * wide; NULL otherwise. */
static const HloInstr *bits_of_parameter(const HloInstr *x) {
  if ((x->op != HLO_OP_BITCAST && x->op != HLO_OP_BITCAST_CONVERT) || x->noperands != 1 ||
      !hlo_type_is_signed(x->shape.type))
    return NULL;
  const HloInstr *p = x->operands[0];
  if (p->op != HLO_OP_PARAMETER || !hlo_type_is_float(p->shape.type) ||
      hlo_type_bits(p->shape.type) != hlo_type_bits(x->shape.type))
    return NULL;
  return p;
}

/* The parameter whose total-order key x is, or NULL.  XLA writes a NaN-safe
 * comparison of floats (its TopkRewriter matches it) as integers:
 * b = bitcast(p); key = select(compare(b, 0) LT, xor(MAX, b), b), MAX
 * the signed maximum of b's width, which flips a negative float's
 * magnitude bits so that the integers order as the floats' total order. */
static const HloInstr *total_order_key(const HloInstr *x) {
  if (x->op != HLO_OP_SELECT || x->noperands != 3) return NULL;
  const HloInstr *lt = x->operands[0], *flip = x->operands[1], *b = x->operands[2];
  const HloInstr *p = bits_of_parameter(b);
  if (!p || lt->op != HLO_OP_COMPARE || lt->direction != HLO_CMP_LT ||
      bits_of_parameter(lt->operands[0]) != p || !is_int_constant(lt->operands[1], 0) ||
      flip->op != HLO_OP_XOR)
    return NULL;
  int bits = hlo_type_bits(b->shape.type);
  int64_t max = bits >= 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
  const HloInstr *f0 = flip->operands[0], *f1 = flip->operands[1];
  if (is_int_constant(f1, max)) f1 = f0;
  else if (!is_int_constant(f0, max)) return NULL;
  return bits_of_parameter(f1) == p ? p : NULL;
}

/* Whether c is compare(parameter(0), parameter(1)) in some direction, or
 * the same on the parameters' total-order keys (total_order_key);
 * *swapped when the parameters come the other way round, *total when the
 * comparison is in total order either way. */
static const HloInstr *plain_comparison(const HloComputation *c, bool *swapped, bool *total) {
  const HloInstr *r = c->root;
  if (c->nparams != 4 || r->op != HLO_OP_COMPARE) return NULL;
  const HloInstr *a = r->operands[0], *b = r->operands[1];
  *total = r->compare_type == HLO_CMPT_TOTALORDER;
  if (total_order_key(a) && total_order_key(b)) {
    a = total_order_key(a);
    b = total_order_key(b);
    *total = true;
  }
  if (a->op != HLO_OP_PARAMETER || b->op != HLO_OP_PARAMETER) return NULL;
  int64_t pa = a->parameter_number, pb = b->parameter_number;
  if (!((pa == 0 && pb == 1) || (pa == 1 && pb == 0))) return NULL;
  *swapped = pa == 1;
  return r;
}

bool hlo_topk_custom_call(const HloInstr *in, int64_t *k, bool *largest) {
  if (in->op != HLO_OP_CUSTOM_CALL || !in->custom_call_target ||
      strcmp(in->custom_call_target, "TopK"))
    return false;
  /* What the verifier checks, again, so that an unverified module is
   * refused rather than read out of bounds. */
  if (in->shape.type != HLO_TUPLE || in->shape.ntuple != 2 || in->shape.tuple[0].rank < 1 ||
      in->noperands != 1 || in->ncalled > 1)
    return false;
  const HloShape *v = &in->shape.tuple[0];
  *k = v->dims[v->rank - 1];
  *largest = true;
  bool swapped, total;
  if (in->ncalled == 1) {
    const HloInstr *r = plain_comparison(in->called[0], &swapped, &total);
    if (!r) return false;
    *largest = r->direction == HLO_CMP_GT ? !swapped : swapped;
  }
  return true;
}

/* custom-call(x), custom_call_target="TopK": XLA's TopkRewriter's form of
 * topk, read as topk.  x of rank 1 or 2, the result declared
 * (T[..., k], s32[..., k]); the comparator, when given, a sort's over the
 * values and their s32 indices, compare(lhs, rhs) GT or LT on the values
 * (in total order for floats, as topk's, or on their total-order keys as
 * XLA writes a NaN-safe comparison: total_order_key), which gives k and
 * largest.  Without one, the largest come first. */
static HloError *infer_topk_custom_call(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloInstr *in = cx->in;
  const HloShape *x = OPND(cx, 0), *r = &in->shape;
  if (x->rank != 1 && x->rank != 2)
    return fail(cx, "TopK: operand %s is not of rank 1 or 2", shape_str(cx, x));
  if (hlo_type_is_complex(x->type))
    return fail(cx, "TopK: operand %s is complex, which has no order", shape_str(cx, x));
  if (r->type != HLO_TUPLE || r->ntuple != 2 || r->tuple[0].rank != x->rank)
    return fail(cx, "TopK: result %s is not a tuple (values, indices) of the operand's rank",
                shape_str(cx, r));
  if (in->ncalled > 1) return fail(cx, "TopK: takes at most one comparator");
  if (in->ncalled == 1) {
    const HloComputation *c = in->called[0];
    bool swapped, total;
    const HloInstr *root = plain_comparison(c, &swapped, &total);
    bool ok = root && (root->direction == HLO_CMP_GT || root->direction == HLO_CMP_LT) &&
              (!hlo_type_is_float(x->type) || total);
    for (int i = 0; ok && i < 4; i++)
      ok = c->params[i]->shape.type == (i < 2 ? x->type : HLO_S32) && c->params[i]->shape.rank == 0;
    if (!ok)
      return fail(cx, "TopK: comparator '%s' is not compare(lhs, rhs) GT or LT%s over (%s, %s, "
                      "s32, s32): hloc reads TopK as topk",
                  c->name, hlo_type_is_float(x->type) ? " in total order" : "",
                  hlo_type_name(x->type), hlo_type_name(x->type));
  }
  int64_t k = r->tuple[0].dims[x->rank - 1];
  if (k > x->dims[x->rank - 1])
    return fail(cx, "TopK: k=%lld is not within the last dimension of %s", (long long)k,
                shape_str(cx, x));
  int64_t dims[HLO_MAX_RANK];
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  dims[x->rank - 1] = k;
  HloShape *el;
  *out = new_tuple(cx, 2, &el);
  el[0] = array_of(x->type, x->rank, dims);
  el[1] = array_of(HLO_S32, x->rank, dims);
  return NULL;
}

/* cholesky(a): a real float array of rank >= 2 whose two minor
 * dimensions are equal; the result has its shape.  (XLA also takes
 * complex types, which hloc does not factor.) */
static HloError *infer_cholesky(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *a = OPND(cx, 0);
  if (!hlo_type_is_float(a->type))
    return fail(cx, "operand %s is not of a real floating-point type", shape_str(cx, a));
  if (a->rank < 2 || a->dims[a->rank - 1] != a->dims[a->rank - 2])
    return fail(cx, "operand %s is not a (batch of) square matrices", shape_str(cx, a));
  *out = no_layout(cx, a);
  return NULL;
}

/* triangular-solve(a, b): a [..., m, m] and b [..., m, n] (left_side) or
 * [..., n, m], one real float type, the same batch dims, and transpose_a
 * given; the result has b's shape (XLA's InferTriangularSolveShape). */
static HloError *infer_triangular_solve(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *a = OPND(cx, 0), *b = OPND(cx, 1);
  int r = a->rank;
  if (!hlo_type_is_float(a->type) || a->type != b->type)
    return fail(cx, "operands %s and %s are not of one real floating-point type",
                shape_str(cx, a), shape_str(cx, b));
  if (r < 2 || a->dims[r - 1] != a->dims[r - 2])
    return fail(cx, "a %s is not a (batch of) square matrices", shape_str(cx, a));
  if (b->rank != r || memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)(r - 2)) ||
      b->dims[cx->in->left_side ? r - 2 : r - 1] != a->dims[r - 1])
    return fail(cx, "b %s does not fit a %s %s", shape_str(cx, b), shape_str(cx, a),
                cx->in->left_side ? "on the left" : "on the right");
  if (cx->in->transpose_a == HLO_TRANSPOSE_NONE)
    return fail(cx, "needs transpose_a= (NO_TRANSPOSE, TRANSPOSE or ADJOINT)");
  *out = no_layout(cx, b);
  return NULL;
}

/* fft(x): XLA's InferFftShape.  fft_length names 1 to 3 lengths, those
 * of x's last dimensions.  FFT and IFFT take and give one complex shape;
 * RFFT takes f32/f64 and gives c64/c128 with the last dimension n/2+1
 * (n the last length, 0 left as 0); IRFFT is the way back, from n/2+1 to
 * n.  XLA does not check the lengths of FFT and IFFT against x; hloc
 * refuses a difference, which XLA's own evaluator does not define. */
static HloError *infer_fft(Infer *cx, HloShape *out) {
  static const char *const names[] = {"FFT", "IFFT", "RFFT", "IRFFT"};
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  const HloDims *len = &cx->in->fft_length;
  HloFftType t = cx->in->fft_type;
  int k = len->n, r = x->rank;
  if (k < 1 || k > 3) return fail(cx, "fft_length has %d lengths; FFT supports 1 to 3", k);
  if (r < k)
    return fail(cx, "an FFT of rank %d needs an operand of at least that rank, not %s", k,
                shape_str(cx, x));
  bool real_in = t == HLO_FFT_RFFT;
  if (real_in ? x->type != HLO_F32 && x->type != HLO_F64 : !hlo_type_is_complex(x->type))
    return fail(cx, "%s needs %s operand, not %s", names[t],
                real_in ? "an f32 or f64" : "a complex", shape_str(cx, x));
  int64_t last = len->v[k - 1];
  for (int i = 0; i < k; i++) {
    int64_t want = len->v[i];
    if (t == HLO_FFT_IRFFT && i == k - 1 && last != 0) want = last / 2 + 1;
    if (len->v[i] < 0 || x->dims[r - k + i] != want)
      return fail(cx, "%s of fft_length %lld needs dimension %d of %s to be %lld", names[t],
                  (long long)len->v[i], r - k + i, shape_str(cx, x), (long long)want);
  }
  *out = no_layout(cx, x);
  if (t == HLO_FFT_RFFT) {
    hlo_complex_type_of(x->type, &out->type);
    if (last != 0) out->dims[r - 1] = last / 2 + 1;
  } else if (t == HLO_FFT_IRFFT) {
    out->type = hlo_complex_part_type(x->type);
    out->dims[r - 1] = last;
  }
  return NULL;
}

/* rng-bit-generator(state): state u64[n], n >= 2: a key then the counter,
 * 64 bits (rng_three_fry: state[1]) or 128 (rng_philox, rng_default:
 * state[1] low, state[2] high when n >= 3).  XLA's verifier takes any
 * length and its RngBitGeneratorExpander reads only those words; the
 * words after them are kept as they were in the new state.  The result is
 * (the new state, random bits) whose array is declared in the text: an
 * 8-, 16-, 32- or 64-bit integer type (XLA's float types are not
 * evaluated yet). */
static HloError *infer_rng_bit_generator(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *st = OPND(cx, 0), *r = &cx->in->shape;
  if (st->type != HLO_U64 || st->rank != 1 || st->dims[0] < 2)
    return fail(cx, "state %s is not u64[n], n >= 2 (a key and a counter)", shape_str(cx, st));
  if (r->type != HLO_TUPLE || r->ntuple != 2 || !hlo_type_is_array(r->tuple[1].type))
    return fail(cx, "result %s is not a tuple (state, bits)", shape_str(cx, r));
  HloType t = r->tuple[1].type;
  if (t != HLO_U8 && t != HLO_S8 && t != HLO_U16 && t != HLO_S16 && t != HLO_U32 &&
      t != HLO_S32 && t != HLO_U64 && t != HLO_S64)
    return fail(cx, "bits of type %s are not generated yet (8-, 16-, 32- and 64-bit integers "
                "are)", shape_str(cx, &r->tuple[1]));
  HloShape *el;
  *out = new_tuple(cx, 2, &el);
  el[0] = no_layout(cx, st);
  el[1] = no_layout(cx, &r->tuple[1]);
  return NULL;
}

/* rng(a, b), distribution=D: a and b scalars of the result's element type
 * (declared in the text, as XLA requires); rng_uniform draws integers or
 * floats in [a, b), rng_normal floats with mean a and deviation b.  XLA's
 * parser also takes rng(a, b, shape), the form its RngExpander tests write
 * (StableHLO's rng carries the result's dims as a rank-1 operand): the
 * expander reads a and b and the declared shape only, so a third operand
 * is accepted when it is a rank-1 array, of any type and size (XLA's tests
 * give u64[3] and f16[3] for scalar and rank-2 results), and changes
 * nothing. */
static HloError *infer_rng(Infer *cx, HloShape *out) {
  int n = cx->in->noperands;
  HloError *e = n == 2 || n == 3 ? NULL
                                 : fail(cx, "expects 2 operands (or 3, the third XLA's shape "
                                            "operand), has %d", n);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  if (cx->in->noperands == 3 && OPND(cx, 2)->rank != 1)
    return fail(cx, "operand 2 %s is not a rank-1 array (XLA's shape operand, which rng "
                "ignores: the result's shape is the declared one)", shape_str(cx, OPND(cx, 2)));
  const HloShape *r = &cx->in->shape;
  HloType t = r->type;
  if (!hlo_type_is_array(t))
    return fail(cx, "result %s is not an array", shape_str(cx, r));
  for (int i = 0; i < 2; i++) {
    const HloShape *x = OPND(cx, i);
    if (x->rank != 0 || x->type != t)
      return fail(cx, "operand %d %s is not a scalar of the result's type %s", i,
                  shape_str(cx, x), hlo_type_name(t));
  }
  bool is_float = hlo_type_is_float(t) && hlo_type_size(t) >= 2;
  bool is_int = hlo_type_is_integer(t) && hlo_type_size(t) >= 1 && t != HLO_PRED;
  if (cx->in->rng_distribution == HLO_RNG_NORMAL ? !is_float : !is_float && !is_int)
    return fail(cx, "%s of type %s is not drawn (%s)",
                cx->in->rng_distribution == HLO_RNG_NORMAL ? "rng_normal" : "rng_uniform",
                hlo_type_name(t),
                cx->in->rng_distribution == HLO_RNG_NORMAL ? "f16, bf16, f32 and f64 are"
                                                           : "integers, f16, bf16, f32 and f64 are");
  *out = no_layout(cx, r);
  return NULL;
}

/* stochastic-convert(x, random): x a float array (f16, bf16, f32, f64),
 * random unsigned integers as wide as x's floats, of x's dims; the result
 * (declared: XLA cannot infer its type) of x's dims in a signed integer
 * type, the only one XLA's StochasticConvertDecomposer converts to. */
static HloError *infer_stochastic_convert(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 2);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *r = OPND(cx, 1), *res = &cx->in->shape;
  if (!hlo_type_is_float(x->type) || hlo_type_size(x->type) < 2)
    return fail(cx, "operand %s is not of type f16, bf16, f32 or f64", shape_str(cx, x));
  if (!hlo_type_is_integer(r->type) || hlo_type_is_signed(r->type) ||
      hlo_type_bits(r->type) != hlo_type_bits(x->type) || !same_dims(r, x))
    return fail(cx, "random %s is not unsigned integers of %d bits in the dims of %s",
                shape_str(cx, r), hlo_type_bits(x->type), shape_str(cx, x));
  if (!hlo_type_is_array(res->type) || !hlo_type_is_integer(res->type) ||
      !hlo_type_is_signed(res->type) || hlo_type_size(res->type) < 1 ||
      hlo_type_bits(res->type) < 8)
    return fail(cx, "result %s is not of a signed integer type (s8, s16, s32, s64: XLA converts "
                    "to no other)", shape_str(cx, res));
  *out = array_of(res->type, x->rank, x->dims);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Collectives, tokens and async pairs on one device                        */
/* ------------------------------------------------------------------------ */

/* What a collective would need more than one participant for. */
static HloError *multi_device(Infer *cx, const char *fmt, const char *what) {
  HloStr s = {0};
  hlo_str_printf(&s, fmt, what);
  HloError *e = fail(cx, "%s: hloc compiles single-device programs", s.buf ? s.buf : "");
  free(hlo_str_take(&s));
  return e;
}

/* SPMD's conversions between a whole array and one device's shard of it
 * are identities on one device (hlo_custom_call_is_identity) when the
 * shapes agree; when they do not, the program is split over several
 * devices, and what it does is said here; NULL for any other op. */
static const char *shards(const HloInstr *in) {
  const char *t = in->custom_call_target;
  if (in->noperands != 1 || !t || hlo_shape_equal(&in->shape, &in->operands[0]->shape, false))
    return NULL;
  if (!strcmp(t, "SPMDFullToShardShape"))
    return "SPMDFullToShardShape takes one device's shard of an array split over "
           "several devices";
  if (!strcmp(t, "SPMDShardToFullShape"))
    return "SPMDShardToFullShape puts together an array split over several devices";
  return NULL;
}

/* XLA's math builder functions that are hloc opcodes, by the name its
 * builder tests give their custom-calls (xla_builder.math.NAME). */
static const struct {
  const char *name;
  HloOpcode op;
} builder_math[] = {
    {"Acos", HLO_OP_ACOS},   {"Acosh", HLO_OP_ACOSH}, {"Asin", HLO_OP_ASIN},
    {"Asinh", HLO_OP_ASINH}, {"Atan", HLO_OP_ATAN},   {"Atanh", HLO_OP_ATANH},
    {"Cosh", HLO_OP_COSH},   {"Sinh", HLO_OP_SINH},
};

/* The computation's parameters take the operands' shapes and its root
 * gives the instruction's (layouts aside). */
static bool signature_fits(const HloInstr *in, const HloComputation *c) {
  if (!c || !c->root || c->nparams != in->noperands) return false;
  for (int i = 0; i < c->nparams; i++)
    if (!c->params[i] || !hlo_shape_equal(&c->params[i]->shape, &in->operands[i]->shape, false))
      return false;
  return hlo_shape_equal(&c->root->shape, &in->shape, false);
}

/* The most equations hloc's TridiagonalSolver unrolls (builder_lib.c). */
#define TRIDIAGONAL_MAX_EQS 128

static const struct {
  const char *name;
  HloBuilderLib f;
} builder_lib[] = {
    {"matrix.Einsum", HLO_BL_EINSUM},
    {"matrix.GetMatrixDiagonalViaGather", HLO_BL_DIAGONAL},
    {"prng.ScramblePhiloxKey", HLO_BL_PHILOX_KEY},
    {"tridiagonal.TridiagonalSolver", HLO_BL_TRIDIAGONAL},
};

HloBuilderLib hlo_builder_lib_call(const HloInstr *in) {
  const char *t = in->custom_call_target;
  if (in->op != HLO_OP_CUSTOM_CALL || !t || strncmp(t, "xla_builder.", 12) || in->ncalled)
    return HLO_BL_NONE;
  for (size_t i = 0; i < sizeof builder_lib / sizeof builder_lib[0]; i++)
    if (!strcmp(t + 12, builder_lib[i].name)) return builder_lib[i].f;
  return HLO_BL_NONE;
}

static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

const char *hlo_einsum_parse(const HloInstr *in, HloEinsum *eq) {
  const char *v = NULL;
  for (int i = 0; i < in->nraw; i++)
    if (!strcmp(in->raw[i].name, "backend_config")) v = in->raw[i].value;
  if (!v) return "the Einsum equation (backend_config=\"ab,bc->ac\") is missing";
  if (*v == '"') v++;
  memset(eq, 0, sizeof *eq);
  int k = 0;
  bool arrow = false;
  for (const char *p = v; *p && *p != '"'; p++) {
    if (*p == ' ') continue;
    if (*p == '.') return "hloc's Einsum takes no ellipsis (...): name every dimension";
    if (*p == ',' && k == 0 && !arrow) {
      k = 1;
    } else if (*p == '-' && p[1] == '>' && !arrow) {
      arrow = true;
      k = 2;
      p++;
    } else if (is_letter(*p)) {
      if (eq->nlabel[k] == HLO_MAX_RANK) return "an Einsum term has more labels than dims";
      eq->label[k][eq->nlabel[k]++] = *p;
    } else {
      return "the Einsum equation is not of the form \"ab,bc->ac\" (letters, one ',' and '->')";
    }
  }
  if (!arrow || k != 2 || in->noperands != 2)
    return "hloc computes Einsum of two operands with an explicit result (\"ab,bc->ac\")";
  const HloShape *sh[3] = {&in->operands[0]->shape, &in->operands[1]->shape, &in->shape};
  HloType t = in->shape.type;
  for (int o = 0; o < 3; o++) {
    if (sh[o]->type != t || (t != HLO_F16 && t != HLO_BF16 && t != HLO_F32 && t != HLO_F64 &&
                             t != HLO_S32 && t != HLO_S64 && t != HLO_U32 && t != HLO_U64))
      return "hloc computes Einsum of f16, bf16, f32, f64, s32, s64, u32 or u64 operands of "
             "the call's type";
    if (eq->nlabel[o] != sh[o]->rank)
      return "an Einsum term names a number of dims other than its array's rank";
  }
  /* One size per label, and each result label comes from an operand. */
  for (int o = 0; o < 3; o++)
    for (int d = 0; d < eq->nlabel[o]; d++) {
      bool seen = o == 2 ? false : true;
      for (int o2 = 0; o2 < 3; o2++)
        for (int d2 = 0; d2 < eq->nlabel[o2]; d2++) {
          if (eq->label[o2][d2] != eq->label[o][d]) continue;
          if (sh[o2]->dims[d2] != sh[o]->dims[d])
            return "an Einsum label names dims of different sizes";
          if (o2 < 2) seen = true;
        }
      if (!seen) return "an Einsum result label names no operand dim";
    }
  return NULL;
}

/* Why hloc does not compute the library call f, or NULL. */
static const char *builder_lib_check(const HloInstr *in, HloBuilderLib f) {
  const HloShape *r = &in->shape;
  switch (f) {
  case HLO_BL_EINSUM: {
    HloEinsum eq;
    return hlo_einsum_parse(in, &eq);
  }
  case HLO_BL_DIAGONAL: {
    const HloShape *x = in->noperands == 1 ? &in->operands[0]->shape : NULL;
    bool ok = x && x->rank >= 2 && r->rank == x->rank - 1 && r->type == x->type &&
              x->type != HLO_TUPLE && x->type != HLO_TOKEN;
    for (int d = 0; ok && d < x->rank - 2; d++) ok = r->dims[d] == x->dims[d];
    if (ok) {
      int64_t m = x->dims[x->rank - 2], n = x->dims[x->rank - 1];
      ok = r->dims[r->rank - 1] == (m < n ? m : n);
    }
    return ok ? NULL
              : "GetMatrixDiagonalViaGather of an array [..., M, N] gives its main diagonal "
                "[..., min(M, N)] of the same type, which the call's shape is not";
  }
  case HLO_BL_PHILOX_KEY:
    return in->noperands == 1 && in->operands[0]->shape.type == HLO_U64 &&
                   hlo_shape_equal(r, &in->operands[0]->shape, false)
               ? NULL
               : "hloc computes ScramblePhiloxKey of one u64 array (the keys), of the call's "
                 "shape";
  case HLO_BL_TRIDIAGONAL: {
    /* (diagonals [..., 3, n], rhs [..., n, k]) or (lower, main, upper
     * [..., 1, n], rhs [..., k, n]); the result has rhs's shape. */
    int n = in->noperands;
    const HloShape *b = n ? &in->operands[n - 1]->shape : NULL;
    bool ok = (n == 2 || n == 4) && b->rank >= 2 && (b->type == HLO_F32 || b->type == HLO_F64) &&
              hlo_shape_equal(r, b, false);
    int64_t eqs = ok ? b->dims[b->rank - (n == 2 ? 2 : 1)] : 0;
    ok = ok && eqs >= 1;
    for (int i = 0; ok && i < n - 1; i++) {
      const HloShape *d = &in->operands[i]->shape;
      ok = d->type == b->type && d->rank == b->rank && d->dims[d->rank - 2] == (n == 2 ? 3 : 1) &&
           d->dims[d->rank - 1] == eqs;
      for (int k = 0; ok && k < b->rank - 2; k++) ok = d->dims[k] == b->dims[k];
    }
    if (!ok)
      return "hloc computes TridiagonalSolver of f32 or f64 (diagonals [..., 3, n], rhs "
             "[..., n, k]) or (lower, main, upper [..., 1, n], rhs [..., k, n]), giving rhs's "
             "shape";
    return eqs > TRIDIAGONAL_MAX_EQS
               ? "hloc unrolls TridiagonalSolver's Thomas algorithm, for at most 128 equations"
               : NULL;
  }
  default: return "no computation is attached (called_computations=)";
  }
}

const char *hlo_builder_call(const HloInstr *in, HloOpcode *op, const HloComputation **comp) {
  static const char prefix[] = "xla_builder.";
  const char *t = in->custom_call_target;
  *op = HLO_NUM_OPCODES;
  *comp = NULL;
  if (in->op != HLO_OP_CUSTOM_CALL || !t || strncmp(t, prefix, sizeof prefix - 1)) return NULL;
  if (in->ncalled == 1) {
    if (!signature_fits(in, in->called[0]))
      return "its called computation does not take the operands' shapes and return the "
             "call's";
    *comp = in->called[0];
    return NULL;
  }
  if (in->ncalled > 1) return "it names more than one called computation";
  const char *name = t + sizeof prefix - 1;
  HloBuilderLib lib = hlo_builder_lib_call(in);
  if (lib != HLO_BL_NONE) {
    const char *why = builder_lib_check(in, lib);
    if (!why) *op = HLO_OP_CUSTOM_CALL;
    return why;
  }
  if (strncmp(name, "math.", 5)) return "no computation is attached (called_computations=)";
  const char *fn = name + 5;
  bool beta = !strcmp(fn, "RegularizedIncompleteBeta");
  if (beta || !strcmp(fn, "Polygamma") || !strcmp(fn, "IgammaGradA") ||
      !strcmp(fn, "RandomGammaGrad")) {
    HloType ty = in->shape.type;
    bool ok = in->noperands == (beta ? 3 : 2) && (ty == HLO_F32 || ty == HLO_F64);
    for (int i = 0; ok && i < in->noperands; i++)
      ok = hlo_shape_equal(&in->shape, &in->operands[i]->shape, false);
    if (!ok)
      return beta ? "hloc computes RegularizedIncompleteBeta(a, b, x) of three f32 or f64 "
                    "arrays of its shape"
                  : "hloc computes Polygamma(n, x), IgammaGradA(a, x) and RandomGammaGrad(a, "
                    "x) of two f32 or f64 arrays of its shape";
    *op = HLO_OP_CUSTOM_CALL;
    return NULL;
  }
  if (!strcmp(name + 5, "NextAfter")) {
    /* Bit arithmetic on the float's pattern: a sign bit and a whole
     * number of bytes (not f8e8m0fnu, f4e2m1fn). */
    HloType ty = in->shape.type;
    const HloSmallFloat *sf = hlo_small_float(ty);
    if (in->noperands != 2 || !hlo_shape_equal(&in->shape, &in->operands[0]->shape, false) ||
        !hlo_shape_equal(&in->shape, &in->operands[1]->shape, false) ||
        !hlo_type_is_float(ty) || (sf && (sf->kind == HLO_SF_E8M0 || sf->kind == HLO_SF_F4)))
      return "hloc computes NextAfter of two float arrays (f16, bf16, f32, f64 or an f8 type "
             "with a sign) of its shape";
    *op = HLO_OP_CUSTOM_CALL;
    return NULL;
  }
  for (size_t i = 0; i < sizeof builder_math / sizeof builder_math[0]; i++) {
    if (strcmp(name + 5, builder_math[i].name)) continue;
    HloType ty = in->shape.type;
    if (hlo_type_is_complex(ty) && in->noperands == 1 &&
        hlo_shape_equal(&in->shape, &in->operands[0]->shape, false)) {
      /* XLA's complex formulas, which no hloc opcode has (builder_math.c). */
      HloOpcode f = builder_math[i].op;
      if (f != HLO_OP_ACOS && f != HLO_OP_ACOSH && f != HLO_OP_COSH && f != HLO_OP_ASIN &&
          f != HLO_OP_ASINH && f != HLO_OP_ATAN)
        return "hloc computes Acos, Acosh, Asin, Asinh, Atan and Cosh of a c64 or c128 array, "
               "not this one";
      *op = HLO_OP_CUSTOM_CALL;
      return NULL;
    }
    if (in->noperands != 1 || !hlo_shape_equal(&in->shape, &in->operands[0]->shape, false) ||
        (ty != HLO_F16 && ty != HLO_BF16 && ty != HLO_F32 && ty != HLO_F64))
      return "hloc computes this function of one f16, bf16, f32 or f64 array, of its shape";
    *op = builder_math[i].op;
    return NULL;
  }
  return "no computation is attached (called_computations=), and it is not one of the math "
         "functions hloc has (Acos, Acosh, Asin, Asinh, Atan, Atanh, Cosh, Sinh, NextAfter, "
         "Polygamma, RegularizedIncompleteBeta, IgammaGradA, RandomGammaGrad)";
}

/* "{{0,1},{2}}" */
static const char *groups_str(Infer *cx, const HloDims *flat, const HloDims *sizes, int each) {
  HloStr s = {0};
  hlo_str_append(&s, "{", 1);
  int64_t at = 0;
  int count = sizes ? sizes->n : flat->n / each;
  for (int g = 0; g < count; g++) {
    int64_t len = sizes ? sizes->v[g] : each;
    hlo_str_printf(&s, "%s{", g ? "," : "");
    for (int64_t i = 0; i < len; i++)
      hlo_str_printf(&s, i ? ",%lld" : "%lld", (long long)flat->v[at + i]);
    hlo_str_append(&s, "}", 1);
    at += len;
  }
  hlo_str_append(&s, "}", 1);
  return keep(cx, hlo_str_take(&s));
}

/* replica_groups: none, {}, or groups of one participant each, 0 among
 * them ({{0},{1}}: every collective has one participant, and the program
 * hloc compiles is participant 0's). */
static HloError *check_replica_groups(Infer *cx) {
  const HloDims *ids = &cx->in->replica_groups, *sizes = &cx->in->replica_group_sizes;
  bool one = true, has0 = ids->n == 0;
  for (int i = 0; i < ids->n; i++) has0 |= ids->v[i] == 0;
  for (int i = 0; i < sizes->n; i++) one &= sizes->v[i] <= 1;
  if (one && has0) return NULL;
  return multi_device(cx, "replica_groups=%s name participants other than 0",
                      groups_str(cx, ids, sizes, 0));
}

/* One participant's result: the operand, or a tuple of the operands. */
static HloShape own_operands(Infer *cx) {
  if (cx->in->noperands == 1) return no_layout(cx, OPND(cx, 0));
  return operands_tuple(cx, cx->in->noperands);
}

/* The declared shape of operand i's result (the whole shape, or tuple
 * element i when the op has several operands), NULL when absent. */
static const HloShape *declared_result(const HloShape *s, int n, int i) {
  if (n == 1) return s;
  return s->type == HLO_TUPLE && i < s->ntuple ? &s->tuple[i] : NULL;
}

/* A collective over arrays: at least one operand, all arrays. */
static HloError *expect_collective_operands(Infer *cx) {
  if (cx->in->noperands < 1) return fail(cx, "expects at least 1 operand");
  return expect_arrays(cx);
}

/* map: operands of one dims, to_apply (T0[], …, Tn-1[]) -> R[] with Ti
 * operand i's element type; the result is R with the operands' dims.
 * dimensions={…}, when given, is every dimension in order: XLA maps over
 * no other. */
static HloError *infer_map(Infer *cx, HloShape *out) {
  const HloInstr *in = cx->in;
  if (in->noperands < 1) return fail(cx, "expects at least 1 operand");
  HloError *e = expect_arrays(cx);
  if (!e) e = expect_called(cx, 1, "to_apply");
  if (!e) e = check_signature(cx, "to_apply", in->called[0]);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  for (int i = 1; i < in->noperands; i++)
    if (!hlo_shape_same_dims(x, OPND(cx, i)))
      return fail(cx, "operand %d %s and operand 0 %s have different dims", i,
                  shape_str(cx, OPND(cx, i)), shape_str(cx, x));
  if (in->dimensions.n) {
    bool all = in->dimensions.n == x->rank;
    for (int d = 0; all && d < x->rank; d++) all = in->dimensions.v[d] == d;
    if (!all)
      return fail(cx, "dimensions %s must be every dimension of %s in order",
                  dims_str(cx, in->dimensions.v, in->dimensions.n), shape_str(cx, x));
  }
  const HloComputation *f = in->called[0];
  const HloShape *r = &f->root->shape;
  bool ok = f->nparams == in->noperands && hlo_type_is_array(r->type) && r->rank == 0;
  for (int i = 0; ok && i < in->noperands; i++)
    ok = is_scalar_of(&f->params[i]->shape, OPND(cx, i)->type);
  if (!ok) {
    HloStr want = {0};
    for (int i = 0; i < in->noperands; i++)
      hlo_str_printf(&want, "%s%s[]", i ? ", " : "", hlo_type_name(OPND(cx, i)->type));
    const char *w = keep(cx, hlo_str_take(&want));
    return fail(cx, "to_apply must be (%s) -> a scalar (%s has %s)", w, f->name,
                signature_str(cx, f));
  }
  *out = array_of(r->type, x->rank, x->dims);
  return NULL;
}

/* to_apply is (T[], T[]) -> T[] and T is each operand's element type. */
static HloError *check_collective_reducer(Infer *cx) {
  HloError *e = expect_called(cx, 1, "to_apply");
  if (!e) e = check_signature(cx, "to_apply", cx->in->called[0]);
  if (e) return e;
  const HloComputation *f = cx->in->called[0];
  const HloShape *r = &f->root->shape;
  if (f->nparams != 2 || !hlo_type_is_array(r->type) || r->rank != 0 ||
      !is_scalar_of(&f->params[0]->shape, r->type) || !is_scalar_of(&f->params[1]->shape, r->type))
    return fail(cx, "to_apply must be (T[], T[]) -> T[] (%s has %s)", f->name,
                signature_str(cx, f));
  for (int i = 0; i < cx->in->noperands; i++)
    if (OPND(cx, i)->type != r->type)
      return fail(cx, "to_apply %s combines %s but operand %d is %s", f->name,
                  hlo_type_name(r->type), i, shape_str(cx, OPND(cx, i)));
  return NULL;
}

/* all-gather and reduce-scatter: dimensions={d} names a dimension of every
 * operand, and the declared result (`declared`, for the whole op) keeps
 * its size, which a second participant would multiply or divide. */
static HloError *check_gather_dim(Infer *cx, const HloShape *declared, const char *verb) {
  const HloDims *d = &cx->in->dimensions;
  if (d->n != 1) return fail(cx, "dimensions must name one dimension, has %d", d->n);
  int n = cx->in->noperands;
  for (int i = 0; i < n; i++) {
    const HloShape *x = OPND(cx, i);
    if (d->v[0] < 0 || d->v[0] >= x->rank)
      return fail(cx, "dimension %lld is out of range for operand %d %s", (long long)d->v[0], i,
                  shape_str(cx, x));
    const HloShape *r = declared_result(declared, n, i);
    if (r && r->type == x->type && r->rank == x->rank && r->dims[d->v[0]] != x->dims[d->v[0]]) {
      char buf[160];
      snprintf(buf, sizeof buf, "%s %%s into %s: more than one participant", verb,
               shape_str(cx, r));
      return multi_device(cx, buf, shape_str(cx, x));
    }
  }
  return NULL;
}

/* source_target_pairs: none, or pairs of a participant with itself, {0,0}
 * among them (participant 0 keeps its operand). */
static HloError *check_pairs(Infer *cx) {
  const HloDims *st = &cx->in->source_target_pairs;
  bool self = true, has0 = st->n == 0;
  for (int i = 0; i + 1 < st->n; i += 2) {
    self &= st->v[i] == st->v[i + 1];
    has0 |= st->v[i] == 0;
  }
  if (self && has0) return NULL;
  return multi_device(cx, "source_target_pairs=%s name participants other than 0",
                      groups_str(cx, st, NULL, 2));
}

/* The async context XLA appends to a start's tuple after element 1 (u32[]
 * or s32[] scalars), taken from the declared shape. */
static HloShape with_context(Infer *cx, const HloShape *a, const HloShape *b) {
  const HloShape *d = &cx->in->shape;
  int extra = d->type == HLO_TUPLE && d->ntuple > 2 ? d->ntuple - 2 : 0;
  HloShape *el;
  HloShape t = new_tuple(cx, 2 + extra, &el);
  el[0] = *a;
  el[1] = *b;
  for (int i = 0; i < extra; i++) el[2 + i] = no_layout(cx, &d->tuple[2 + i]);
  return t;
}

static HloError *check_context(Infer *cx) {
  const HloShape *d = &cx->in->shape;
  for (int i = 2; d->type == HLO_TUPLE && i < d->ntuple; i++)
    if (!is_scalar_of(&d->tuple[i], HLO_U32) && !is_scalar_of(&d->tuple[i], HLO_S32))
      return fail(cx, "async context element %d %s must be u32[] or s32[]", i,
                  shape_str(cx, &d->tuple[i]));
  return NULL;
}

/* A *-done's operand: the start's tuple, whose element k is the result. */
static HloError *start_element(Infer *cx, int k, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (e) return e;
  const HloShape *t = OPND(cx, 0);
  if (t->type != HLO_TUPLE || t->ntuple < 2)
    return fail(cx, "operand %s is not the tuple of a start", shape_str(cx, t));
  *out = no_layout(cx, &t->tuple[k]);
  return NULL;
}

bool hlo_start_is_tuple(const HloInstr *start) {
  return start->shape.type == HLO_TUPLE &&
         !(start->noperands > 1 && start->shape.ntuple == start->noperands);
}

static HloError *infer_single_device(Infer *cx, HloShape *out) {
  const HloInstr *in = cx->in;
  HloError *e = NULL;
  switch (in->op) {
  case HLO_OP_ALL_REDUCE:
  case HLO_OP_ALL_REDUCE_START: {
    if (!(e = expect_collective_operands(cx)) && !(e = check_replica_groups(cx)))
      e = check_collective_reducer(cx);
    HloShape x = own_operands(cx);
    if (in->op == HLO_OP_ALL_REDUCE_START && hlo_start_is_tuple(in)) {
      if (!e) e = check_context(cx);
      x = with_context(cx, &x, &x);
    }
    *out = x;
    return e;
  }
  case HLO_OP_ALL_GATHER:
  case HLO_OP_REDUCE_SCATTER:
    if (!(e = expect_collective_operands(cx)) && !(e = check_replica_groups(cx)) &&
        !(e = check_gather_dim(cx, &in->shape,
                               in->op == HLO_OP_ALL_GATHER ? "gathers" : "scatters")) &&
        in->op == HLO_OP_REDUCE_SCATTER)
      e = check_collective_reducer(cx);
    *out = own_operands(cx);
    return e;
  case HLO_OP_ALL_GATHER_START: {
    const HloShape *d = &in->shape;
    if (!(e = expect_collective_operands(cx)) && !(e = check_replica_groups(cx)))
      e = check_gather_dim(cx, d->type == HLO_TUPLE && d->ntuple == 2 ? &d->tuple[1] : d,
                           "gathers");
    HloShape x = own_operands(cx);
    *out = with_context(cx, &x, &x);
    return e;
  }
  case HLO_OP_ALL_TO_ALL:
    /* Without a split dimension XLA's result is the tuple of the operands,
     * also of one. */
    if (!in->dimensions.n && in->noperands == 1) {
      if (!(e = expect_collective_operands(cx))) e = check_replica_groups(cx);
      *out = operands_tuple(cx, 1);
      return e;
    }
    if (!(e = expect_collective_operands(cx)) && !(e = check_replica_groups(cx))) {
      const HloDims *d = &in->dimensions;
      if (d->n > 1) return fail(cx, "dimensions must name at most one dimension, has %d", d->n);
      for (int i = 0; i < in->noperands && d->n; i++)
        if (d->v[0] < 0 || d->v[0] >= OPND(cx, i)->rank)
          return fail(cx, "dimension %lld is out of range for operand %d %s",
                      (long long)d->v[0], i, shape_str(cx, OPND(cx, i)));
    }
    *out = own_operands(cx);
    return e;
  case HLO_OP_COLLECTIVE_BROADCAST:
    if (!(e = expect_collective_operands(cx))) e = check_replica_groups(cx);
    *out = own_operands(cx);
    return e;
  case HLO_OP_COLLECTIVE_PERMUTE:
  case HLO_OP_COLLECTIVE_PERMUTE_START: {
    /* The in-place form: refused, for more than one participant as a
     * program for several devices. */
    for (int i = 0; i < in->nraw; i++)
      if (!strcmp(in->raw[i].name, "slice_sizes"))
        return (e = check_pairs(cx))
                   ? e
                   : fail(cx, "slice_sizes= (XLA's in-place form, which writes slices into "
                              "an output operand) is not implemented");
    if (!(e = expect_collective_operands(cx))) e = check_pairs(cx);
    HloShape x = own_operands(cx);
    if (in->op == HLO_OP_COLLECTIVE_PERMUTE_START && hlo_start_is_tuple(in)) {
      if (!e) e = check_context(cx);
      x = with_context(cx, &x, &x);
    }
    *out = x;
    return e;
  }
  case HLO_OP_ALL_REDUCE_DONE:
  case HLO_OP_COLLECTIVE_PERMUTE_DONE: {
    if ((e = expect_operands(cx, 1))) return e;
    const HloInstr *start = in->operands[0];
    HloOpcode want = in->op == HLO_OP_ALL_REDUCE_DONE ? HLO_OP_ALL_REDUCE_START
                                                      : HLO_OP_COLLECTIVE_PERMUTE_START;
    if (start->op != want)
      return fail(cx, "operand %%%s is not a %s", start->name, hlo_opcode_name(want));
    if (hlo_start_is_tuple(start)) return start_element(cx, 1, out);
    *out = no_layout(cx, OPND(cx, 0));
    return NULL;
  }
  case HLO_OP_ALL_GATHER_DONE:
  case HLO_OP_ASYNC_DONE:
    return start_element(cx, 1, out);
  case HLO_OP_COPY_DONE:
    return start_element(cx, 0, out);
  case HLO_OP_REPLICA_ID:
  case HLO_OP_PARTITION_ID:
    if ((e = expect_operands(cx, 0))) return e;
    *out = hlo_shape_scalar(HLO_U32);
    return NULL;
  case HLO_OP_AFTER_ALL:
    /* Of tokens, or of any values it orders after (XLA's HandleAfterAll
     * checks only the result; its token_hlo_test runs after-all(f32[])). */
    memset(out, 0, sizeof *out);
    out->type = HLO_TOKEN;
    return NULL;
  case HLO_OP_ADD_DEPENDENCY:
    /* add-dependency(x, token): x, ordered after the token (XLA's
     * HandleAddDependency: the first operand's shape, any shape). */
    if ((e = expect_operands(cx, 2))) return e;
    if (OPND(cx, 1)->type != HLO_TOKEN)
      return fail(cx, "operand 1 %s is not a token", shape_str(cx, OPND(cx, 1)));
    *out = no_layout(cx, OPND(cx, 0));
    return NULL;
  case HLO_OP_OPT_BARRIER:
  case HLO_OP_DOMAIN:
  case HLO_OP_ASYNC_UPDATE:
    if ((e = expect_operands(cx, 1))) return e;
    if (in->op == HLO_OP_ASYNC_UPDATE && (OPND(cx, 0)->type != HLO_TUPLE ||
                                          OPND(cx, 0)->ntuple < 2))
      return fail(cx, "operand %s is not the tuple of a start", shape_str(cx, OPND(cx, 0)));
    *out = no_layout(cx, OPND(cx, 0));
    return NULL;
  case HLO_OP_ASYNC_START: {
    if ((e = expect_called(cx, 1, "calls"))) return e;
    if ((e = check_args(cx, "calls", in->called[0], 0, in->noperands))) return e;
    if (in->shape.type != HLO_TUPLE || in->shape.ntuple < 2)
      return fail(cx, "result %s must be (operands, result[, context])",
                  shape_str(cx, &in->shape));
    if ((e = check_context(cx))) return e;
    HloShape ops = operands_tuple(cx, in->noperands);
    HloShape r = no_layout(cx, &in->called[0]->root->shape);
    *out = with_context(cx, &ops, &r);
    return NULL;
  }
  case HLO_OP_COPY_START: {
    if ((e = expect_operands(cx, 1))) return e;
    HloShape x = no_layout(cx, OPND(cx, 0)), *el;
    *out = new_tuple(cx, 3, &el);
    el[0] = el[1] = x;
    el[2] = hlo_shape_scalar(HLO_U32);
    return NULL;
  }
  default: HLO_UNREACHABLE();
  }
}

/* custom-call(x), custom_call_target="PadToStatic" (XLA's dynamic padder):
 * the array x padded to its bounds, then one s32[] size per dim. */
static HloError *infer_pad_to_static(Infer *cx, HloShape *out) {
  HloError *e = expect_operands(cx, 1);
  if (!e) e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0), *r = &cx->in->shape;
  HloShape *el;
  HloShape want = new_tuple(cx, x->rank + 1, &el);
  el[0] = array_of(x->type, x->rank, x->dims);
  for (int d = 0; d < x->rank; d++) el[d + 1] = hlo_shape_scalar(HLO_S32);
  bool ok = r->type == HLO_TUPLE && r->ntuple == x->rank + 1 && same_shape(&r->tuple[0], &el[0]) &&
            !r->tuple[0].dynamic;
  for (int d = 0; ok && d < x->rank; d++) ok = is_scalar_of(&r->tuple[d + 1], HLO_S32);
  if (!ok)
    return fail(cx, "PadToStatic: result %s is not %s (operand 0 %s padded to its bounds, then "
                    "one s32[] size per dimension)", shape_str(cx, r), shape_str(cx, &want),
                shape_str(cx, x));
  *out = want;
  return NULL;
}

/* custom-call(x, s0, …), custom_call_target="SliceToDynamic": the static
 * array x with the result's "<=N" dims set to the s32[] sizes, one per
 * result dim (a static dim's is ignored).  A static result dim is x's; a
 * dynamic one's bound may differ from x's dim (the size is then at most
 * the smaller). */
static HloError *infer_slice_to_dynamic(Infer *cx, HloShape *out) {
  const HloInstr *in = cx->in;
  const HloShape *r = &in->shape;
  if (!hlo_type_is_array(r->type))
    return fail(cx, "SliceToDynamic: result %s is not an array", shape_str(cx, r));
  if (in->noperands != r->rank + 1)
    return fail(cx, "SliceToDynamic: takes the array and one s32[] size per result dimension "
                    "(%d operands for %s), has %d", r->rank + 1, shape_str(cx, r),
                in->noperands);
  HloError *e = expect_arrays(cx);
  if (e) return e;
  const HloShape *x = OPND(cx, 0);
  if (x->type != r->type || x->rank != r->rank)
    return fail(cx, "SliceToDynamic: operand 0 %s is not of the result's type and rank (%s)",
                shape_str(cx, x), shape_str(cx, r));
  if (x->dynamic)
    return fail(cx, "SliceToDynamic: operand 0 %s has dynamic dimensions; it takes a static "
                    "array", shape_str(cx, x));
  for (int d = 0; d < r->rank; d++) {
    if (!is_scalar_of(OPND(cx, d + 1), HLO_S32))
      return fail(cx, "SliceToDynamic: operand %d (the size of dimension %d) must be s32[], is %s",
                  d + 1, d, shape_str(cx, OPND(cx, d + 1)));
    if (!(r->dynamic >> d & 1) && r->dims[d] != x->dims[d])
      return fail(cx, "SliceToDynamic: dimension %d is static in the result %s but %lld in "
                      "operand 0", d, shape_str(cx, r), (long long)x->dims[d]);
  }
  *out = no_layout(cx, r);
  return NULL;
}

/* An elementwise result's dim is dynamic where an operand's of the same
 * rank is (XLA's inference: the bounds are equal, the size is the
 * operands'); a pred[] select predicate or a scalar clamp bound adds
 * nothing. */
static HloError *elementwise_dynamic(Infer *cx, HloShape *out, HloError *e) {
  if (e || !hlo_type_is_array(out->type)) return e;
  for (int i = 0; i < cx->in->noperands; i++) {
    const HloShape *x = OPND(cx, i);
    if (hlo_type_is_array(x->type) && x->rank == out->rank) {
      out->dynamic |= x->dynamic;
      out->unbounded |= x->unbounded;
    }
  }
  return NULL;
}

static HloError *infer(Infer *cx, HloShape *out) {
  const HloInstr *in = cx->in;
  switch (hlo_opcode_kind(in->op)) {
  case HLO_KIND_UNARY: return elementwise_dynamic(cx, out, infer_unary(cx, out));
  case HLO_KIND_BINARY: return elementwise_dynamic(cx, out, infer_binary(cx, out));
  case HLO_KIND_TERNARY: return elementwise_dynamic(cx, out, infer_ternary(cx, out));
  case HLO_KIND_REFUSED: return fail(cx, "%s", hlo_opcode_refusal(in->op));
  default: break;
  }
  switch (in->op) {
  case HLO_OP_PARAMETER:
  case HLO_OP_CONSTANT: {
    HloError *e = expect_operands(cx, 0);
    if (e) return e;
    *out = no_layout(cx, &in->shape);
    return NULL;
  }
  case HLO_OP_CUSTOM_CALL:
    if (in->custom_call_target && !strcmp(in->custom_call_target, "TopK"))
      return infer_topk_custom_call(cx, out);
    if (in->custom_call_target && !strcmp(in->custom_call_target, "PadToStatic"))
      return infer_pad_to_static(cx, out);
    if (in->custom_call_target && !strcmp(in->custom_call_target, "SliceToDynamic"))
      return infer_slice_to_dynamic(cx, out);
    if (hlo_builder_lib_call(in) != HLO_BL_NONE) {
      /* A function of XLA's builder library whose operands do not fit. */
      HloOpcode op;
      const HloComputation *comp;
      const char *why = hlo_builder_call(in, &op, &comp);
      if (why) return fail(cx, "%s: %s", in->custom_call_target, why);
    }
    if (shards(in)) return multi_device(cx, "%s", shards(in));
    *out = no_layout(cx, &in->shape);
    return NULL;
  case HLO_OP_IOTA: return infer_iota(cx, out);
  case HLO_OP_TUPLE: return infer_tuple(cx, out);
  case HLO_OP_GET_TUPLE_ELEMENT: return infer_get_tuple_element(cx, out);
  case HLO_OP_BROADCAST: return infer_broadcast(cx, out);
  case HLO_OP_RESHAPE: return infer_reshape(cx, out);
  case HLO_OP_BITCAST: return infer_bitcast(cx, out);
  case HLO_OP_DYNAMIC_RESHAPE: return infer_dynamic_reshape(cx, out);
  case HLO_OP_TRANSPOSE: return infer_transpose(cx, out);
  case HLO_OP_SLICE: return infer_slice(cx, out);
  case HLO_OP_DYNAMIC_SLICE: return infer_dynamic_slice(cx, out);
  case HLO_OP_DYNAMIC_UPDATE_SLICE: return infer_dynamic_update_slice(cx, out);
  case HLO_OP_CONCATENATE: return infer_concatenate(cx, out);
  case HLO_OP_PAD: return infer_pad(cx, out);
  case HLO_OP_REVERSE: return infer_reverse(cx, out);
  case HLO_OP_GATHER: return infer_gather(cx, out);
  case HLO_OP_SCATTER: return infer_scatter(cx, out);
  case HLO_OP_REDUCE: return infer_reduce(cx, out);
  case HLO_OP_REDUCE_WINDOW: return infer_reduce_window(cx, out);
  case HLO_OP_SORT: return infer_sort(cx, out);
  case HLO_OP_MAP: return infer_map(cx, out);
  case HLO_OP_TOPK: return infer_topk(cx, out);
  case HLO_OP_CHOLESKY: return infer_cholesky(cx, out);
  case HLO_OP_FFT: return infer_fft(cx, out);
  case HLO_OP_TRIANGULAR_SOLVE: return infer_triangular_solve(cx, out);
  case HLO_OP_RNG_BIT_GENERATOR: return infer_rng_bit_generator(cx, out);
  case HLO_OP_RNG: return infer_rng(cx, out);
  case HLO_OP_STOCHASTIC_CONVERT: return infer_stochastic_convert(cx, out);
  case HLO_OP_SELECT_AND_SCATTER: return infer_select_and_scatter(cx, out);
  case HLO_OP_DOT: return infer_dot(cx, out);
  case HLO_OP_RAGGED_DOT: return infer_ragged_dot(cx, out);
  case HLO_OP_SCALED_DOT: return infer_scaled_dot(cx, out);
  case HLO_OP_GET_DIMENSION_SIZE: return infer_get_dimension_size(cx, out);
  case HLO_OP_SET_DIMENSION_SIZE: return infer_set_dimension_size(cx, out);
  case HLO_OP_CONVOLUTION: return infer_convolution(cx, out);
  case HLO_OP_BATCH_NORM_INFERENCE: return infer_batch_norm_inference(cx, out);
  case HLO_OP_BATCH_NORM_TRAINING:
  case HLO_OP_BATCH_NORM_GRAD: return infer_batch_norm_training_grad(cx, out);
  case HLO_OP_CALL: return infer_call(cx, out, "to_apply");
  case HLO_OP_FUSION: return infer_call(cx, out, "fused computation");
  case HLO_OP_WHILE: return infer_while(cx, out);
  case HLO_OP_CONDITIONAL: return infer_conditional(cx, out);
  default: return infer_single_device(cx, out);
  }
}

/* The one size check every instruction passes, whatever built it. */
static HloError *check_size(const HloInstr *instr, const HloShape *s) {
  HloError *e = hlo_shape_check_size(s);
  if (!e) return NULL;
  char *d = hlo_instr_describe(instr);
  e = hlo_error_wrap(e, "%s: %s", d, hlo_opcode_name(instr->op));
  free(d);
  return e;
}

HloError *hlo_infer_shape(const HloInstr *instr, HloShape *out) {
  Infer cx = {.in = instr, .arena = instr->parent->module->arena};
  HloShape result;
  /* The declared shape first: the rules of reshape, broadcast, bitcast and
   * the leaves read it. */
  HloError *e = check_size(instr, &instr->shape);
  if (!e) e = infer(&cx, &result);
  if (!e) e = check_size(instr, &result);
  for (int i = 0; i < cx.nstrs; i++) free(cx.strs[i]);
  if (!e) *out = result;
  return e;
}
