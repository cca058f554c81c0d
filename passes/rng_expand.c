/*
 * rng_expand.c — rng(a, b) rewritten into a rng-bit-generator and the
 * arithmetic that turns its words into the distribution, as XLA's
 * RngExpander does, so that codegen compiles it.
 *
 * XLA leaves rng's numbers unspecified (its expander reads a state that
 * advances every run); hloc draws the ones hlo/'s evaluator describes
 * (eval_rng): Philox words under the constant state {hlo_rng_key(rng),
 * 0, 0} — so the same numbers on every run — u32 for types of 32 bits or
 * fewer, u64 above.  A float u in [0, 1) is the word's top bits made the
 * mantissa of a number in [1, 2) (bitcast-convert) minus 1, in f32 (f64
 * for f64); rng_uniform is a + (b - a) u, or for integers
 * a + bits mod (b - a) in unsigned arithmetic (a when a = b);
 * rng_normal is Box-Muller on two words per element,
 * a + b sqrt(-2 log(1 - u)) cos(2 pi v).  The rng-bit-generator is
 * expanded at once (rng_bit_generator_expand.c).  The evaluator makes the
 * same operations in the same order, so integers and uniform floats are
 * the evaluator's bit for bit; normal ones differ as codegen's log, cos
 * and sqrt differ from libm's.
 *
 * px_expand_op (expand_ops.c) hands rng here, in single_device.c's walk,
 * so this runs first in the pipeline and under --O0 alike.
 *
 * requires: a verified rng (integer or f16/bf16/f32/f64 uniform, float
 *           normal: the verifier refuses the rest); a third operand (XLA's
 *           shape operand) is not read, as in XLA's RngExpander.
 * keeps:    the result's shape (px_expand_op restores its layout).
 * breaks:   nothing.
 */
#include <string.h>

#include "internal.h"

/* The words of the rng-bit-generator under {key, 0, 0}, as W[n]; *rest:
 * the expansion's (state, words) tuple, to unlink once the words are
 * used. */
static HloInstr *words(PxAt at, uint64_t key, HloType w, int64_t n, HloInstr **rest) {
  HloComputation *c = at.c;
  int64_t three = 3;
  HloShape ss = hlo_shape_array(HLO_U64, 1, &three);
  HloLiteral *lit = hlo_literal_new_in(c->module->arena, &ss);
  uint64_t st[3] = {key, 0, 0};
  memcpy(lit->data, st, sizeof st);
  HloInstr *state = hlo_constant_new(c, lit, "rng_state");
  if (at.before) hlo_instr_move_before(state, at.before);
  HloShape parts[2] = {ss, hlo_shape_array(w, 1, &n)};
  HloShape ts = hlo_shape_tuple(c->module->arena, 2, parts);
  HloInstr *g = hlo_instr_new(c, HLO_OP_RNG_BIT_GENERATOR, &ts, &state, 1, "rng_bits");
  g->rng_algorithm = HLO_RNG_PHILOX;
  if (at.before) hlo_instr_move_before(g, at.before);
  HloInstr *t = px_expand_rng_bit_generator(g);
  px_replace(g, t);
  *rest = t;
  return t->operands[1];
}

static HloInstr *slice1(PxAt at, HloInstr *x, int64_t start, int64_t limit) {
  HloSliceDim s = {start, limit, 1};
  HloError *e = NULL;
  return px_built(hlo_build_slice(at.c, x, &s, &e), e, at.before);
}

/* u in [0, 1) of type f (f32 or f64) from words x. */
static HloInstr *unit(PxAt at, HloInstr *x, HloType f) {
  bool wide = f == HLO_F64;
  HloInstr *m = px_binary(at, HLO_OP_SHIFT_RIGHT_LOGICAL, x,
                          px_scalar(at, x->shape.type, wide ? 12 : 9, &x->shape));
  HloShape s = hlo_shape_scalar(x->shape.type);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  if (wide) *(uint64_t *)lit->data = 0x3FF0000000000000ull;
  else *(uint32_t *)lit->data = 0x3F800000u;
  HloInstr *k = hlo_constant_new(at.c, lit, "one_bits");
  if (at.before) hlo_instr_move_before(k, at.before);
  m = px_binary(at, HLO_OP_OR, m, px_broadcast_leading(at, k, &x->shape));
  HloShape fs = hlo_shape_array(f, x->shape.rank, x->shape.dims);
  HloInstr *v = hlo_instr_new(at.c, HLO_OP_BITCAST_CONVERT, &fs, &m, 1, NULL);
  if (at.before) hlo_instr_move_before(v, at.before);
  return px_binary(at, HLO_OP_SUBTRACT, v, px_scalar(at, f, 1, &fs));
}

HloInstr *px_expand_rng(HloInstr *in) {
  if (in->op != HLO_OP_RNG) return NULL;
  PxAt at = {in->parent, in};
  HloType t = in->shape.type;
  int64_t n = hlo_shape_elements(&in->shape);
  if (n == 0) return px_scalar(at, t, 0, &in->shape);
  bool wide = hlo_type_size(t) == 8, normal = in->rng_distribution == HLO_RNG_NORMAL;
  HloInstr *a = in->operands[0], *b = in->operands[1], *v, *rest;
  if (hlo_type_is_integer(t)) {
    HloType w = wide ? HLO_U64 : HLO_U32;
    HloInstr *bits = words(at, hlo_rng_key(in), w, n, &rest);
    HloInstr *lo = px_convert(at, a, w), *range = px_binary(at, HLO_OP_SUBTRACT, px_convert(at, b, w), lo);
    HloInstr *lob = px_broadcast_leading(at, lo, &bits->shape);
    HloInstr *rem = px_binary(at, HLO_OP_REMAINDER, bits, px_broadcast_leading(at, range, &bits->shape));
    HloInstr *empty = px_compare(at, HLO_CMP_EQ, px_broadcast_leading(at, range, &bits->shape),
                                 px_scalar(at, w, 0, &bits->shape));
    v = px_select(at, empty, lob, px_binary(at, HLO_OP_ADD, lob, rem));
  } else {
    HloType f = wide ? HLO_F64 : HLO_F32;
    HloInstr *bits = words(at, hlo_rng_key(in), wide ? HLO_U64 : HLO_U32, normal ? 2 * n : n,
                           &rest);
    HloInstr *af = px_convert(at, a, f), *bf = px_convert(at, b, f);
    HloInstr *u = unit(at, normal ? slice1(at, bits, 0, n) : bits, f);
    const HloShape *s = &u->shape;
    if (normal) {
      HloInstr *u2 = unit(at, slice1(at, bits, n, 2 * n), f);
      HloInstr *lg = px_unary(at, HLO_OP_LOG, px_binary(at, HLO_OP_SUBTRACT, px_scalar(at, f, 1, s), u));
      HloInstr *r = px_unary(at, HLO_OP_SQRT, px_binary(at, HLO_OP_MULTIPLY, px_scalar(at, f, -2, s), lg));
      HloInstr *two_pi = px_scalar(at, f, 6.28318530717958647693, s);
      HloInstr *z = px_binary(at, HLO_OP_MULTIPLY, r,
                              px_unary(at, HLO_OP_COS, px_binary(at, HLO_OP_MULTIPLY, two_pi, u2)));
      v = px_binary(at, HLO_OP_ADD, px_broadcast_leading(at, af, s),
                    px_binary(at, HLO_OP_MULTIPLY, px_broadcast_leading(at, bf, s), z));
    } else {
      HloInstr *width = px_broadcast_leading(at, px_binary(at, HLO_OP_SUBTRACT, bf, af), s);
      v = px_binary(at, HLO_OP_ADD, px_broadcast_leading(at, af, s),
                    px_binary(at, HLO_OP_MULTIPLY, width, u));
    }
  }
  px_remove_if_dead(rest);
  return px_convert(at, px_reshape(at, v, in->shape.rank, in->shape.dims), t);
}
