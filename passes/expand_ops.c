/*
 * expand_ops.c — opcodes XLA prints that codegen has no kernel for,
 * rewritten into the elementwise HLO it has: the inverse and hyperbolic
 * trigonometric functions, map, reduce-precision and topk.
 *
 * The functions become atan2, log1p, expm1, exp and sqrt in forms that
 * keep f32's accuracy where the textbook ones lose it (1 - x^2 as
 * (1 - x)(1 + x), acosh around 1 through log1p, sinh near 0 through
 * expm1, asinh and acosh past sqrt(max) as log(2a), cosh and sinh as two
 * halves so exp(x)/2 stays finite where exp(x) does not); f16 and bf16
 * are computed in f32 and rounded once, as XLA does.  map inlines its
 * scalar computation over the operands' dims: parameters become the
 * operands, constants are broadcast, every elementwise op takes the
 * result's dims.  reduce-precision is XLA's bit recipe in an unsigned
 * integer as wide as the float: round the mantissa to nearest even by
 * adding a bias and truncating, flush exponents beyond the narrow range
 * to signed infinity or zero, and give NaN back unless no mantissa bit is
 * left.  topk is XLA's TopkDecomposer: a stable sort of the values and
 * their indices along the last dimension, in total order, then a slice.
 * real and imag of a real operand (XLA allows them) are the operand and
 * zeros; of complex(a, b), also through data movement, a and b
 * (px_complex_part), so that no complex value is left between them.
 * cholesky and triangular-solve (loops), rng-bit-generator, rng,
 * stochastic-convert, fft, ragged-dot, batch-norm-training/-grad and
 * select-and-scatter have files of their own (cholesky_expand.c,
 * triangular_solve_expand.c, rng_bit_generator_expand.c, rng_expand.c,
 * stochastic_convert_expand.c, fft_expand.c, ragged_dot_expand.c,
 * batchnorm_train_expand.c, select_and_scatter_expand.c), which
 * px_expand_op calls.
 *
 * single_device.c's walk offers every instruction here, so this runs
 * first in the pipeline and under --O0 alike.  Applied computations are
 * walked before their callers, so a map's computation is already plain
 * when it is inlined.  A map whose computation holds something other than
 * parameters, constants, elementwise ops and scalar renamings stays.
 *
 * requires: a verified module.
 * keeps:    every other instruction; each replaced one's shape.
 * breaks:   nothing; a map's computation may be left uncalled (DCE).
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* Builders for the instruction `at` being replaced: each new instruction
 * goes right before it. */
static HloInstr *un(HloInstr *at, HloOpcode op, HloInstr *x) {
  HloError *e = NULL;
  return px_built(hlo_build_unary(at->parent, op, x, &e), e, at);
}

static HloInstr *bin(HloInstr *at, HloOpcode op, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return px_built(hlo_build_binary(at->parent, op, a, b, &e), e, at);
}

static HloInstr *cmp(HloInstr *at, HloCompareDir dir, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return px_built(hlo_build_compare(at->parent, dir, a, b, &e), e, at);
}

static HloInstr *sel(HloInstr *at, HloInstr *p, HloInstr *a, HloInstr *b) {
  HloError *e = NULL;
  return px_built(hlo_build_ternary(at->parent, HLO_OP_SELECT, p, a, b, &e), e, at);
}

static HloInstr *convert(HloInstr *at, HloInstr *x, HloType t) {
  HloError *e = NULL;
  return px_built(hlo_build_convert(at->parent, x, t, &e), e, at);
}

/* v in x's shape. */
static HloInstr *full(HloInstr *at, HloInstr *x, double v) {
  return px_broadcast_scalar(at->parent, &x->shape, v, at);
}

/* log 2, which C17 does not name. */
#define LN2 0.69314718055994530942

/* (1 - x)(1 + x): 1 - x^2 without the cancellation near |x| = 1. */
static HloInstr *one_minus_square(HloInstr *at, HloInstr *x) {
  HloInstr *one = full(at, x, 1);
  return bin(at, HLO_OP_MULTIPLY, bin(at, HLO_OP_SUBTRACT, one, x), bin(at, HLO_OP_ADD, one, x));
}

/* exp(x) / 2, finite up to log(max) + log 2: where exp(x) overflows,
 * exp(x - log 2). */
static HloInstr *half_exp(HloInstr *at, HloInstr *x) {
  HloInstr *ex = un(at, HLO_OP_EXP, x);
  HloInstr *half = bin(at, HLO_OP_MULTIPLY, ex, full(at, x, 0.5));
  HloInstr *shifted = un(at, HLO_OP_EXP, bin(at, HLO_OP_ADD, x, full(at, x, -LN2)));
  return sel(at, cmp(at, HLO_CMP_EQ, ex, full(at, x, INFINITY)), shifted, half);
}

/* log(2a), for a whose square would overflow. */
static HloInstr *log_twice(HloInstr *at, HloInstr *a) {
  return bin(at, HLO_OP_ADD, un(at, HLO_OP_LOG, a), full(at, a, LN2));
}

/* Past this, a^2 overflows (f32's range; f64's). */
static double sqrt_max(HloType t) { return t == HLO_F64 ? 0x1p500 : 0x1p63; }

/* Below this, asinh(x) rounds to x. */
static double asinh_tiny(HloType t) { return t == HLO_F64 ? 0x1p-27 : 0x1p-13; }

/* One function on x of type f32 or f64. */
static HloInstr *trig(HloInstr *at, HloOpcode op, HloInstr *x) {
  HloType t = x->shape.type;
  switch (op) {
  case HLO_OP_ATAN: return bin(at, HLO_OP_ATAN2, x, full(at, x, 1));
  case HLO_OP_ASIN:
    return bin(at, HLO_OP_ATAN2, x, un(at, HLO_OP_SQRT, one_minus_square(at, x)));
  case HLO_OP_ACOS:
    return bin(at, HLO_OP_ATAN2, un(at, HLO_OP_SQRT, one_minus_square(at, x)), x);
  case HLO_OP_COSH: {
    HloInstr *nx = un(at, HLO_OP_NEGATE, x);
    return bin(at, HLO_OP_ADD, half_exp(at, x), half_exp(at, nx));
  }
  case HLO_OP_SINH: {
    /* Near 0 the difference of exponentials cancels; expm1 does not. */
    HloInstr *nx = un(at, HLO_OP_NEGATE, x);
    HloInstr *small = bin(at, HLO_OP_SUBTRACT, un(at, HLO_OP_EXPM1, x), un(at, HLO_OP_EXPM1, nx));
    small = bin(at, HLO_OP_MULTIPLY, small, full(at, x, 0.5));
    HloInstr *large = bin(at, HLO_OP_SUBTRACT, half_exp(at, x), half_exp(at, nx));
    HloInstr *is_small = cmp(at, HLO_CMP_LT, un(at, HLO_OP_ABS, x), full(at, x, 1));
    return sel(at, is_small, small, large);
  }
  case HLO_OP_ASINH: {
    /* sign(x) log1p(a + a^2 / (1 + sqrt(1 + a^2))), a = |x|. */
    HloInstr *a = un(at, HLO_OP_ABS, x), *one = full(at, x, 1);
    HloInstr *a2 = bin(at, HLO_OP_MULTIPLY, a, a);
    HloInstr *den = bin(at, HLO_OP_ADD, one, un(at, HLO_OP_SQRT, bin(at, HLO_OP_ADD, one, a2)));
    HloInstr *y = un(at, HLO_OP_LOG1P, bin(at, HLO_OP_ADD, a, bin(at, HLO_OP_DIVIDE, a2, den)));
    y = sel(at, cmp(at, HLO_CMP_GT, a, full(at, x, sqrt_max(t))), log_twice(at, a), y);
    y = sel(at, cmp(at, HLO_CMP_LT, x, full(at, x, 0)), un(at, HLO_OP_NEGATE, y), y);
    /* x itself where it is the answer: keeps -0 and denormals. */
    return sel(at, cmp(at, HLO_CMP_LT, a, full(at, x, asinh_tiny(t))), x, y);
  }
  case HLO_OP_ACOSH: {
    /* log1p(t + sqrt(t (x + 1))), t = x - 1; x < 1 gives sqrt's NaN. */
    HloInstr *one = full(at, x, 1);
    HloInstr *tm = bin(at, HLO_OP_SUBTRACT, x, one);
    HloInstr *r = un(at, HLO_OP_SQRT, bin(at, HLO_OP_MULTIPLY, tm, bin(at, HLO_OP_ADD, x, one)));
    HloInstr *y = un(at, HLO_OP_LOG1P, bin(at, HLO_OP_ADD, tm, r));
    return sel(at, cmp(at, HLO_CMP_GT, x, full(at, x, sqrt_max(t))), log_twice(at, x), y);
  }
  case HLO_OP_ATANH: {
    /* (log1p(x) - log1p(-x)) / 2: +-inf at +-1, NaN beyond. */
    HloInstr *d = bin(at, HLO_OP_SUBTRACT, un(at, HLO_OP_LOG1P, x),
                      un(at, HLO_OP_LOG1P, un(at, HLO_OP_NEGATE, x)));
    return bin(at, HLO_OP_MULTIPLY, d, full(at, x, 0.5));
  }
  default: return NULL;
  }
}

static HloInstr *expand_trig(HloInstr *in) {
  HloInstr *x = in->operands[0];
  HloType t = x->shape.type;
  if (t == HLO_F16 || t == HLO_BF16) return convert(in, trig(in, in->op, convert(in, x, HLO_F32)), t);
  return trig(in, in->op, x);
}

/* ------------------------------------------------------------------------ */
/* reduce-precision                                                          */
/* ------------------------------------------------------------------------ */

/* The unsigned v in x's shape (exact, which a double is not past 2^53). */
static HloInstr *ufull(HloInstr *at, HloInstr *x, uint64_t v) {
  HloComputation *c = at->parent;
  HloShape s = hlo_shape_scalar(x->shape.type);
  HloLiteral *lit = hlo_literal_new_in(c->module->arena, &s);
  hlo_literal_set_s64(lit, 0, (int64_t)v);
  HloInstr *k = hlo_constant_new(c, lit, "constant");
  hlo_instr_move_before(k, at);
  if (x->shape.rank == 0) return k;
  HloError *e = NULL;
  return px_built(hlo_build_broadcast(c, k, &x->shape, NULL, 0, &e), e, at);
}

static HloInstr *bitcast_to(HloInstr *at, HloInstr *x, HloType t) {
  HloShape s = hlo_shape_array(t, x->shape.rank, x->shape.dims);
  HloInstr *b = hlo_instr_new(at->parent, HLO_OP_BITCAST_CONVERT, &s, &x, 1, NULL);
  hlo_instr_move_before(b, at);
  return b;
}

static HloInstr *expand_reduce_precision(HloInstr *in) {
  HloInstr *x = in->operands[0];
  HloType t = x->shape.type;
  int E = t == HLO_F64 ? 11 : t == HLO_F16 ? 5 : 8;
  int M = t == HLO_F64 ? 52 : t == HLO_F32 ? 23 : t == HLO_F16 ? 10 : 7;
  int bits = (int)hlo_type_size(t) * 8;
  HloType u = bits == 64 ? HLO_U64 : bits == 32 ? HLO_U32 : HLO_U16;
  int64_t e = in->exponent_bits, m = in->mantissa_bits;
  if (e >= E && m >= M) return x;
  HloInstr *xi = bitcast_to(in, x, u);
  if (m < M) {
    /* Add 2^(k-1) - 1 plus the last kept bit, then drop k bits: ties go
     * to the even neighbour. */
    int k = M - (int)m;
    HloInstr *kk = ufull(in, xi, (uint64_t)k);
    HloInstr *last = bin(in, HLO_OP_AND, bin(in, HLO_OP_SHIFT_RIGHT_LOGICAL, xi, kk), ufull(in, xi, 1));
    HloInstr *bias = bin(in, HLO_OP_ADD, last, ufull(in, xi, ((uint64_t)1 << (k - 1)) - 1));
    HloInstr *sum = bin(in, HLO_OP_ADD, xi, bias);
    xi = bin(in, HLO_OP_SHIFT_LEFT, bin(in, HLO_OP_SHIFT_RIGHT_LOGICAL, sum, kk), kk);
  }
  if (e < E) {
    uint64_t exp_mask = (((uint64_t)1 << E) - 1) << M;
    uint64_t ebias = ((uint64_t)1 << (E - 1)) - 1, rbias = ((uint64_t)1 << (e - 1)) - 1;
    HloInstr *mask = ufull(in, xi, exp_mask);
    HloInstr *xe = bin(in, HLO_OP_AND, xi, mask);
    HloInstr *over = cmp(in, HLO_CMP_GT, xe, ufull(in, xi, (ebias + rbias) << M));
    HloInstr *under = cmp(in, HLO_CMP_LE, xe, ufull(in, xi, (ebias - rbias) << M));
    HloInstr *top = ufull(in, xi, (uint64_t)bits - 1);
    HloInstr *sign = bin(in, HLO_OP_SHIFT_LEFT, bin(in, HLO_OP_SHIFT_RIGHT_LOGICAL, xi, top), top);
    xi = sel(in, over, bin(in, HLO_OP_OR, sign, mask), xi);
    xi = sel(in, under, sign, xi);
  }
  HloInstr *y = bitcast_to(in, xi, t);
  if (m > 0) y = sel(in, cmp(in, HLO_CMP_NE, x, x), x, y);
  return y;
}

/* ------------------------------------------------------------------------ */
/* map                                                                       */
/* ------------------------------------------------------------------------ */

/* A scalar-to-scalar op that only renames its operand. */
static bool is_scalar_renaming(const HloInstr *x) {
  switch (x->op) {
  case HLO_OP_BROADCAST: case HLO_OP_RESHAPE: case HLO_OP_BITCAST: case HLO_OP_COPY:
  case HLO_OP_TRANSPOSE:
    return x->shape.rank == 0 && x->operands[0]->shape.rank == 0 &&
           x->shape.type == x->operands[0]->shape.type;
  default: return false;
  }
}

/* Whether every value f computes is a scalar or a tuple of them, out of
 * parameters, constants, elementwise ops, renamings, tuples, and calls,
 * fusions and conditionals of computations like f (XLA's tests map such
 * bodies; a conditional becomes a select of its branches, all computed). */
static bool inlinable(const HloComputation *f, int depth) {
  if (depth > 16) return false;
  int n;
  HloInstr **order = hlo_post_order(f, &n);
  bool ok = true;
  for (int i = 0; ok && i < n; i++) {
    const HloInstr *x = order[i];
    bool scalar = x->shape.type == HLO_TUPLE || x->shape.rank == 0;
    switch (x->op) {
    case HLO_OP_PARAMETER: case HLO_OP_CONSTANT: case HLO_OP_TUPLE:
    case HLO_OP_GET_TUPLE_ELEMENT:
      ok = scalar;
      break;
    case HLO_OP_CALL: case HLO_OP_FUSION: case HLO_OP_CONDITIONAL:
      ok = scalar;
      for (int k = 0; ok && k < x->ncalled; k++) ok = inlinable(x->called[k], depth + 1);
      break;
    default:
      ok = is_scalar_renaming(x) ||
           (hlo_opcode_is_elementwise(x->op) && x->shape.type != HLO_TUPLE && scalar);
      break;
    }
    if (ok && x->shape.type == HLO_TUPLE)
      for (int k = 0; ok && k < x->shape.ntuple; k++)
        ok = x->shape.tuple[k].type != HLO_TUPLE && x->shape.tuple[k].rank == 0;
  }
  free(order);
  return ok;
}

/* s with the map's dims: arrays take them, tuples of scalars become
 * tuples of arrays. */
static HloShape widened(HloInstr *at, const HloShape *s, const HloShape *dims) {
  if (s->type != HLO_TUPLE) return hlo_shape_array(s->type, dims->rank, dims->dims);
  HloShape *el = hlo_arena_alloc(at->parent->module->arena,
                                 sizeof(HloShape) * (size_t)(s->ntuple ? s->ntuple : 1));
  for (int k = 0; k < s->ntuple; k++) el[k] = widened(at, &s->tuple[k], dims);
  HloShape t = *s;
  t.tuple = el;
  return t;
}

/* The copy of f's root computed elementwise over dims, its parameters
 * being args (inlinable(f) holds). */
static HloInstr *inline_scalar(HloInstr *at, const HloComputation *f, HloInstr *const *args,
                               const HloShape *dims) {
  int n;
  HloInstr **order = hlo_post_order(f, &n);
  int64_t maxid = 0;
  for (int i = 0; i < n; i++)
    if (order[i]->id > maxid) maxid = order[i]->id;
  HloInstr **copy = hlo_xcalloc((size_t)maxid + 1, sizeof(HloInstr *));
  for (int i = 0; i < n; i++) {
    HloInstr *x = order[i], *r;
    HloInstr **ops = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(x->noperands + 1));
    for (int k = 0; k < x->noperands; k++) ops[k] = copy[x->operands[k]->id];
    HloError *e = NULL;
    if (x->op == HLO_OP_PARAMETER) {
      r = args[x->parameter_number];
    } else if (is_scalar_renaming(x)) {
      r = ops[0];
    } else if (x->op == HLO_OP_CONSTANT) {
      r = hlo_instr_clone(at->parent, x, NULL, 0);
      hlo_instr_move_before(r, at);
      HloShape xs = widened(at, &x->shape, dims);
      if (dims->rank) r = px_built(hlo_build_broadcast(at->parent, r, &xs, NULL, 0, &e), e, at);
    } else if (x->op == HLO_OP_TUPLE) {
      r = px_built(hlo_build_tuple(at->parent, ops, x->noperands, &e), e, at);
    } else if (x->op == HLO_OP_GET_TUPLE_ELEMENT) {
      r = ops[0]->op == HLO_OP_TUPLE
              ? ops[0]->operands[x->tuple_index]
              : px_built(hlo_build_get_tuple_element(at->parent, ops[0], x->tuple_index, &e), e,
                         at);
    } else if (x->op == HLO_OP_CALL || x->op == HLO_OP_FUSION) {
      r = inline_scalar(at, x->called[0], ops, dims);
    } else if (x->op == HLO_OP_CONDITIONAL) {
      /* Every branch on its operand, then the one the selector names:
       * pred picks branch 0 when true; an index out of range picks the
       * last. */
      HloInstr *p = ops[0];
      r = inline_scalar(at, x->called[x->ncalled - 1], &ops[x->ncalled], dims);
      for (int b = x->ncalled - 2; b >= 0; b--) {
        HloInstr *v = inline_scalar(at, x->called[b], &ops[b + 1], dims);
        HloInstr *pb = p->shape.type == HLO_PRED ? p : NULL;
        if (!pb) {
          HloShape ps = hlo_shape_scalar(p->shape.type);
          HloInstr *k = px_constant_splat(at->parent, &ps, b, at);
          HloInstr *kb = k;
          if (dims->rank) {
            HloShape bs = hlo_shape_array(p->shape.type, dims->rank, dims->dims);
            kb = px_built(hlo_build_broadcast(at->parent, k, &bs, NULL, 0, &e), e, at);
          }
          pb = cmp(at, HLO_CMP_EQ, p, kb);
        }
        r = sel(at, pb, v, r);
      }
    } else {
      r = hlo_instr_clone(at->parent, x, ops, x->noperands);
      r->shape = widened(at, &x->shape, dims);
      hlo_instr_move_before(r, at);
    }
    free(ops);
    copy[x->id] = r;
  }
  HloInstr *root = copy[f->root->id];
  free(copy);
  free(order);
  return root;
}

/* topk as XLA's TopkDecomposer writes it: a stable sort of (x, iota of
 * indices) along the last dimension in total order, greatest first when
 * largest, and the first k of each. */
static HloInstr *expand_topk(HloInstr *in, int64_t k, bool largest) {
  HloComputation *c = in->parent;
  HloInstr *x = in->operands[0];
  int rank = x->shape.rank;
  HloError *e = NULL;
  HloShape is = hlo_shape_array(HLO_S32, rank, x->shape.dims);
  HloInstr *iota = px_built(hlo_build_iota(c, &is, rank - 1, &e), e, in);
  HloType types[2] = {x->shape.type, HLO_S32};
  HloComputation *cmp =
      hlo_build_sort_comparator(c->module, largest ? HLO_CMP_GT : HLO_CMP_LT, types, 2);
  HloInstr *xs[2] = {x, iota};
  HloInstr *sorted = px_built(hlo_build_sort(c, xs, 2, rank - 1, true, cmp, &e), e, in);
  HloSliceDim sl[HLO_MAX_RANK];
  for (int d = 0; d < rank; d++)
    sl[d] = (HloSliceDim){0, d == rank - 1 ? k : x->shape.dims[d], 1};
  HloInstr *parts[2];
  for (int i = 0; i < 2; i++) {
    HloInstr *g = px_built(hlo_build_get_tuple_element(c, sorted, i, &e), e, in);
    parts[i] = px_built(hlo_build_slice(c, g, sl, &e), e, in);
  }
  return px_built(hlo_build_tuple(c, parts, 2, &e), e, in);
}

static HloInstr *inline_map(HloInstr *in) {
  if (!inlinable(in->called[0], 0)) return NULL;
  return inline_scalar(in, in->called[0], in->operands, &in->shape);
}

HloInstr *px_expand_op(HloInstr *in) {
  HloInstr *r;
  switch (in->op) {
  case HLO_OP_ACOS: case HLO_OP_ASIN: case HLO_OP_ATAN: case HLO_OP_ACOSH: case HLO_OP_ASINH:
  case HLO_OP_ATANH: case HLO_OP_COSH: case HLO_OP_SINH:
    r = expand_trig(in);
    break;
  case HLO_OP_REDUCE_PRECISION: r = expand_reduce_precision(in); break;
  case HLO_OP_MAP: r = inline_map(in); break;
  case HLO_OP_TOPK: r = expand_topk(in, in->topk_k, in->topk_largest); break;
  case HLO_OP_CUSTOM_CALL: {
    int64_t k;
    bool largest;
    r = hlo_topk_custom_call(in, &k, &largest) ? expand_topk(in, k, largest) : NULL;
    break;
  }
  case HLO_OP_REAL:
  case HLO_OP_IMAG:
    if (px_moves_complex(in->operands[0])) {
      r = px_complex_part((PxAt){in->parent, in}, in->operands[0], in->op == HLO_OP_IMAG);
      break;
    }
    if (!hlo_type_is_float(in->operands[0]->shape.type)) return NULL;
    r = in->op == HLO_OP_REAL ? in->operands[0] : full(in, in->operands[0], 0);
    break;
  case HLO_OP_CHOLESKY: r = px_expand_cholesky(in); break;
  case HLO_OP_TRIANGULAR_SOLVE: r = px_expand_triangular_solve(in); break;
  case HLO_OP_RNG_BIT_GENERATOR: r = px_expand_rng_bit_generator(in); break;
  case HLO_OP_RNG: r = px_expand_rng(in); break;
  case HLO_OP_STOCHASTIC_CONVERT: r = px_expand_stochastic_convert(in); break;
  case HLO_OP_FFT: r = px_expand_fft(in); break;
  case HLO_OP_RAGGED_DOT: r = px_expand_ragged_dot(in); break;
  case HLO_OP_SELECT_AND_SCATTER: r = px_expand_select_and_scatter(in); break;
  case HLO_OP_GET_DIMENSION_SIZE: {
    /* The size of a static dim is its bound; a dynamic one stays, for
     * codegen to refuse. */
    const HloShape *x = &in->operands[0]->shape;
    int64_t d = in->dimensions.v[0];
    if (x->dynamic >> d & 1) return NULL;
    r = px_scalar((PxAt){in->parent, in}, HLO_S32, (double)x->dims[d], NULL);
    break;
  }
  case HLO_OP_BATCH_NORM_TRAINING:
  case HLO_OP_BATCH_NORM_GRAD: r = px_expand_batch_norm(in); break;
  default: return NULL;
  }
  return r ? px_with_layout(r, &in->shape, in) : NULL;
}
