/*
 * builder_math.c — the functions of XLA's math library that its builder
 * tests call by name (custom_call_target="xla_builder.math.NAME") and
 * that are no HLO opcode, written as the HLO XLA's builder emits for them
 * (hlo_builder_call decides which; canonical_forms.c calls this).
 *
 * - NextAfter(from, to): on the bit patterns u, v (bitcast-convert to the
 *   unsigned type of the float's width): NaN if either operand is NaN; v
 *   if u == v; from ±0: v if `to` is ±0, else (v & sign) | 1, the smallest
 *   subnormal with to's sign; else u - 1 where |from| > |to| or the signs
 *   differ, u + 1 otherwise; for a type without -0 (the fnuz types) the
 *   step from the pattern sign|1 toward a non-negative `to` gives +0, not
 *   the NaN pattern.  The interpreter computes the same (evaluator.c).
 * - Acos, Acosh, Cosh of a c64/c128 array, XLA's complex formulas in
 *   complex HLO (codegen/complex.c lowers it), 1 and i complex constants:
 *     acos(z)  = -(i · log(z + i · sqrt((1 + z)(1 - z))))
 *     acosh(z) = log(z + sqrt((z + 1)(z - 1)))
 *     cosh(z)  = exp(z + log(1/2)) + exp(-z + log(1/2))
 *
 * Assumes a call hlo_builder_call accepted (NextAfter: operands of the
 * call's shape and a float type with a sign bit, 8, 16, 32 or 64 bits
 * wide; the others: one complex operand of the call's shape).
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* The unsigned constant v of type t, broadcast to like's dims (exact, which
 * a double is not past 2^53). */
static HloInstr *ufull(PxAt at, HloType t, uint64_t v, const HloInstr *like) {
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  memcpy(lit->data, &v, hlo_type_size(t));
  HloInstr *k = hlo_constant_new(at.c, lit, "constant");
  if (at.before) hlo_instr_move_before(k, at.before);
  return like->shape.rank ? px_broadcast_leading(at, k, &like->shape) : k;
}

static HloInstr *bitcast(PxAt at, HloInstr *x, HloType t) {
  HloShape s = hlo_shape_array(t, x->shape.rank, x->shape.dims);
  HloInstr *b = hlo_instr_new(at.c, HLO_OP_BITCAST_CONVERT, &s, &x, 1, NULL);
  if (at.before) hlo_instr_move_before(b, at.before);
  return b;
}

static HloInstr *next_after(PxAt at, HloInstr *from, HloInstr *to) {
  HloType t = from->shape.type;
  int w = (int)hlo_type_size(t);
  HloType ut = w == 1 ? HLO_U8 : w == 2 ? HLO_U16 : w == 4 ? HLO_U32 : HLO_U64;
  uint64_t sign = (uint64_t)1 << (8 * w - 1);
  uint64_t all = w == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * w)) - 1;
  HloInstr *nan_in = px_binary(at, HLO_OP_OR, px_compare(at, HLO_CMP_NE, from, from),
                               px_compare(at, HLO_CMP_NE, to, to));
  HloInstr *nan = bitcast(at, px_scalar(at, t, NAN, &from->shape), ut);
  HloInstr *u = bitcast(at, from, ut), *v = bitcast(at, to, ut);
  HloInstr *zero = ufull(at, ut, 0, u);
  HloInstr *ua = px_binary(at, HLO_OP_AND, u, ufull(at, ut, sign - 1, u));
  HloInstr *va = px_binary(at, HLO_OP_AND, v, ufull(at, ut, sign - 1, u));
  HloInstr *us = px_binary(at, HLO_OP_AND, u, ufull(at, ut, sign, u));
  HloInstr *vs = px_binary(at, HLO_OP_AND, v, ufull(at, ut, sign, u));
  HloInstr *from_zero_result =
      px_select(at, px_compare(at, HLO_CMP_EQ, va, zero), v,
                px_binary(at, HLO_OP_OR, vs, ufull(at, ut, 1, u)));
  HloInstr *toward_zero = px_binary(at, HLO_OP_OR, px_compare(at, HLO_CMP_GT, ua, va),
                                    px_compare(at, HLO_CMP_NE, us, vs));
  HloInstr *step = px_select(at, toward_zero, ufull(at, ut, all, u), ufull(at, ut, 1, u));
  HloInstr *r = px_binary(at, HLO_OP_ADD, u, step);
  const HloSmallFloat *sf = hlo_small_float(t);
  if (sf && sf->kind == HLO_SF_FNUZ) {
    HloInstr *to_plus_zero =
        px_binary(at, HLO_OP_AND, px_compare(at, HLO_CMP_EQ, u, ufull(at, ut, sign | 1, u)),
                  px_compare(at, HLO_CMP_EQ, vs, zero));
    r = px_select(at, to_plus_zero, zero, r);
  }
  r = px_select(at, px_compare(at, HLO_CMP_EQ, ua, zero), from_zero_result, r);
  r = px_select(at, px_compare(at, HLO_CMP_EQ, u, v), v, r);
  r = px_select(at, nan_in, nan, r);
  return bitcast(at, r, t);
}

/* The complex constant (re, im) in like's type, broadcast to its dims. */
static HloInstr *cfull(PxAt at, double re, double im, const HloInstr *like) {
  HloType t = like->shape.type;
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *lit = hlo_literal_new_in(at.c->module->arena, &s);
  if (t == HLO_C64) {
    float v[2] = {(float)re, (float)im};
    memcpy(lit->data, v, sizeof v);
  } else {
    double v[2] = {re, im};
    memcpy(lit->data, v, sizeof v);
  }
  HloInstr *k = hlo_constant_new(at.c, lit, "constant");
  if (at.before) hlo_instr_move_before(k, at.before);
  return like->shape.rank ? px_broadcast_leading(at, k, &like->shape) : k;
}

static HloInstr *complex_fn(PxAt at, const char *f, HloInstr *z) {
  HloInstr *one = cfull(at, 1, 0, z);
  if (!strcmp(f, "Acos")) {
    HloInstr *i1 = cfull(at, 0, 1, z);
    HloInstr *s = px_unary(at, HLO_OP_SQRT,
                           px_binary(at, HLO_OP_MULTIPLY, px_binary(at, HLO_OP_ADD, one, z),
                                     px_binary(at, HLO_OP_SUBTRACT, one, z)));
    HloInstr *l = px_unary(at, HLO_OP_LOG,
                           px_binary(at, HLO_OP_ADD, z, px_binary(at, HLO_OP_MULTIPLY, i1, s)));
    return px_unary(at, HLO_OP_NEGATE, px_binary(at, HLO_OP_MULTIPLY, i1, l));
  }
  if (!strcmp(f, "Acosh")) {
    HloInstr *s = px_unary(at, HLO_OP_SQRT,
                           px_binary(at, HLO_OP_MULTIPLY, px_binary(at, HLO_OP_ADD, z, one),
                                     px_binary(at, HLO_OP_SUBTRACT, z, one)));
    return px_unary(at, HLO_OP_LOG, px_binary(at, HLO_OP_ADD, z, s));
  }
  HloInstr *half = px_unary(at, HLO_OP_LOG, cfull(at, 0.5, 0, z));
  HloInstr *a = px_unary(at, HLO_OP_EXP, px_binary(at, HLO_OP_ADD, z, half));
  HloInstr *b = px_unary(at, HLO_OP_EXP,
                         px_binary(at, HLO_OP_ADD, px_unary(at, HLO_OP_NEGATE, z), half));
  return px_binary(at, HLO_OP_ADD, a, b);
}

HloInstr *px_expand_builder_math(HloInstr *in) {
  PxAt at = {in->parent, in};
  const char *t = in->custom_call_target;
  if (t && !strcmp(t, "xla_builder.math.NextAfter"))
    return px_with_layout(next_after(at, in->operands[0], in->operands[1]), &in->shape, in);
  if (t && hlo_type_is_complex(in->shape.type) && !strncmp(t, "xla_builder.math.", 17))
    return px_with_layout(complex_fn(at, t + 17, in->operands[0]), &in->shape, in);
  return NULL;
}
