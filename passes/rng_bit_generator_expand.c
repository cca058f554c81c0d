/*
 * rng_bit_generator_expand.c — rng-bit-generator rewritten into the
 * integer HLO of its generator (adds, multiplies, shifts, xors on u32 and
 * u64 arrays of counters), as XLA's RngBitGeneratorExpander does, so that
 * codegen compiles it with no kernel of its own and draws the evaluator's
 * bits, which are XLA's (docs/hlo.md, "Random bits").
 *
 * state[0] is the key, the rest the counter.  The bits are computed as a
 * vector of counters made by an iota, then arranged into the result:
 *
 * - rng_three_fry: ThreeFry2x32, 20 rounds, of counter + i.  64-bit bits
 *   are x0 | x1 << 32, one counter per element.  32-bit bits see the
 *   result as [outer, d, inner], d its first even dimension (else its
 *   largest): counter (o·half + a)·inner + r gives elements (o, 2a, r)
 *   and (o, 2a + 1, r), half = ceil(d / 2); the counter advances by the
 *   counters used.
 * - rng_philox and rng_default: Philox4x32-10 of the 128-bit counter + i
 *   (low half state[1], high half state[2], or the key for a u64[2] state,
 *   of which only the low half is written back), word j of counter i
 *   being word 4i + j of the bits (64-bit bits: words 2k, 2k + 1, low
 *   first); the counter advances by ceil(words / 4).
 *
 * Philox's 32×32→64 products are u64 multiplies of zero-extended words.
 *
 * px_expand_op (expand_ops.c) hands rng-bit-generator here, in
 * single_device.c's walk, so this runs first in the pipeline and under
 * --O0 alike.
 *
 * A longer state (XLA takes any u64[n], n >= 2) keeps the words past
 * those its algorithm reads (2 for ThreeFry, 3 for Philox) as they were.
 *
 * requires: a verified rng-bit-generator (u64[n] state, n >= 2, 8-,
 *           16-, 32- or 64-bit integer bits: the verifier refuses the
 *           rest; narrower bits are the 32-bit words converted, which
 *           keeps their low bits, as XLA's *RngBitNarrow).
 * keeps:    the result's shapes.
 * breaks:   nothing.
 */
#include "internal.h"

/* Element k of a rank-1 array, as a scalar. */
static HloInstr *element(PxAt at, HloInstr *x, int64_t k) {
  HloSliceDim s = {k, k + 1, 1};
  HloError *e = NULL;
  HloInstr *one = px_built(hlo_build_slice(at.c, x, &s, &e), e, at.before);
  return px_reshape(at, one, 0, NULL);
}

static HloInstr *shift(PxAt at, HloOpcode op, HloInstr *x, int bits) {
  return px_binary(at, op, x, px_scalar(at, x->shape.type, bits, &x->shape));
}

/* The low and high 32-bit words of u64 x. */
static HloInstr *low32(PxAt at, HloInstr *x) { return px_convert(at, x, HLO_U32); }
static HloInstr *high32(PxAt at, HloInstr *x) {
  return px_convert(at, shift(at, HLO_OP_SHIFT_RIGHT_LOGICAL, x, 32), HLO_U32);
}

/* lo | hi << 32, both u32. */
static HloInstr *join64(PxAt at, HloInstr *lo, HloInstr *hi) {
  return px_binary(at, HLO_OP_OR, px_convert(at, lo, HLO_U64),
                   shift(at, HLO_OP_SHIFT_LEFT, px_convert(at, hi, HLO_U64), 32));
}

/* x + k, k a u32 scalar broadcast to x's shape. */
static HloInstr *add_scalar(PxAt at, HloInstr *x, HloInstr *k) {
  return px_binary(at, HLO_OP_ADD, x, px_broadcast_leading(at, k, &x->shape));
}

/* The n counters c + i, i in [0, n), as u64[n]. */
static HloInstr *counters(PxAt at, HloInstr *c, int64_t n) {
  HloShape s = hlo_shape_array(HLO_U64, 1, &n);
  HloError *e = NULL;
  HloInstr *i = px_built(hlo_build_iota(at.c, &s, 0, &e), e, at.before);
  return add_scalar(at, i, c);
}

/* ThreeFry2x32 (20 rounds) of (x0, x1) under key (k0, k1), all u32. */
static void threefry(PxAt at, HloInstr *k0, HloInstr *k1, HloInstr **x0, HloInstr **x1) {
  static const int rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
  HloInstr *parity = px_scalar(at, HLO_U32, 0x1BD11BDA, NULL);
  HloInstr *ks[3] = {k0, k1, px_binary(at, HLO_OP_XOR, parity, px_binary(at, HLO_OP_XOR, k0, k1))};
  HloInstr *a = add_scalar(at, *x0, ks[0]), *b = add_scalar(at, *x1, ks[1]);
  for (int g = 0; g < 5; g++) {
    for (int i = 0; i < 4; i++) {
      int r = rot[(g & 1) * 4 + i];
      a = px_binary(at, HLO_OP_ADD, a, b);
      b = px_binary(at, HLO_OP_OR, shift(at, HLO_OP_SHIFT_LEFT, b, r),
                    shift(at, HLO_OP_SHIFT_RIGHT_LOGICAL, b, 32 - r));
      b = px_binary(at, HLO_OP_XOR, b, a);
    }
    a = add_scalar(at, a, ks[(g + 1) % 3]);
    HloInstr *kg = px_binary(at, HLO_OP_ADD, ks[(g + 2) % 3],
                             px_scalar(at, HLO_U32, g + 1, NULL));
    b = add_scalar(at, b, kg);
  }
  *x0 = a;
  *x1 = b;
}

/* Philox4x32-10 of x[0..3] under key (k0, k1), all u32. */
static void philox(PxAt at, HloInstr *k0, HloInstr *k1, HloInstr *x[4]) {
  const HloShape *s = &x[0]->shape;
  HloInstr *m0 = px_scalar(at, HLO_U64, 0xD2511F53u, s), *m1 = px_scalar(at, HLO_U64, 0xCD9E8D57u, s);
  for (int round = 0; round < 10; round++) {
    uint32_t inc0 = (uint32_t)round * 0x9E3779B9u, inc1 = (uint32_t)round * 0xBB67AE85u;
    HloInstr *r0 = px_binary(at, HLO_OP_ADD, k0, px_scalar(at, HLO_U32, inc0, NULL));
    HloInstr *r1 = px_binary(at, HLO_OP_ADD, k1, px_scalar(at, HLO_U32, inc1, NULL));
    HloInstr *p0 = px_binary(at, HLO_OP_MULTIPLY, px_convert(at, x[0], HLO_U64), m0);
    HloInstr *p1 = px_binary(at, HLO_OP_MULTIPLY, px_convert(at, x[2], HLO_U64), m1);
    HloInstr *y0 = px_binary(at, HLO_OP_XOR, px_binary(at, HLO_OP_XOR, high32(at, p1), x[1]),
                             px_broadcast_leading(at, r0, s));
    HloInstr *y2 = px_binary(at, HLO_OP_XOR, px_binary(at, HLO_OP_XOR, high32(at, p0), x[3]),
                             px_broadcast_leading(at, r1, s));
    x[0] = y0, x[1] = low32(at, p1), x[2] = y2, x[3] = low32(at, p0);
  }
}

/* xs[0..n) (same shape [..]) interleaved along a new dim after `dim`:
 * [.., n, ..] with xs[k] at index k. */
static HloInstr *interleave(PxAt at, HloInstr *const *xs, int n, int dim) {
  const HloShape *s = &xs[0]->shape;
  int64_t dims[HLO_MAX_RANK];
  for (int d = 0, k = 0; d < s->rank; d++) {
    dims[k++] = s->dims[d];
    if (d == dim) dims[k++] = 1;
  }
  HloInstr *parts[4];
  for (int k = 0; k < n; k++) parts[k] = px_reshape(at, xs[k], s->rank + 1, dims);
  HloError *e = NULL;
  return px_built(hlo_build_concatenate(at.c, parts, n, dim + 1, &e), e, at.before);
}

/* The first n elements of rank-1 x. */
static HloInstr *prefix(PxAt at, HloInstr *x, int64_t n) {
  HloSliceDim s = {0, n, 1};
  HloError *e = NULL;
  return px_built(hlo_build_slice(at.c, x, &s, &e), e, at.before);
}

static HloInstr *flatten(PxAt at, HloInstr *x) {
  int64_t n = hlo_shape_elements(&x->shape);
  return px_reshape(at, x, 1, &n);
}

/* ThreeFry's bits in the shape bs (as u32 or u64); *used: counters. */
static HloInstr *three_fry_bits(PxAt at, HloInstr *k0, HloInstr *k1, HloInstr *c,
                                const HloShape *bs, bool wide, int64_t *used) {
  int64_t n = hlo_shape_elements(bs);
  if (wide) {
    HloInstr *v = counters(at, c, n);
    HloInstr *x0 = low32(at, v), *x1 = high32(at, v);
    threefry(at, k0, k1, &x0, &x1);
    *used = n;
    return join64(at, x0, x1);
  }
  int64_t d, inner;
  hlo_three_fry_split(bs, &d, &inner);
  int64_t half = (d + 1) / 2, outer = n / (d * inner);
  *used = outer * half * inner;
  HloInstr *v = counters(at, c, *used);
  HloInstr *x[2] = {low32(at, v), high32(at, v)};
  threefry(at, k0, k1, &x[0], &x[1]);
  int64_t ohi[3] = {outer, half, inner};
  for (int h = 0; h < 2; h++) x[h] = px_reshape(at, x[h], 3, ohi);
  /* [outer, half, 2, inner] → [outer, 2·half, inner], then d of those. */
  HloInstr *both = interleave(at, x, 2, 1);
  int64_t o2i[3] = {outer, 2 * half, inner};
  both = px_reshape(at, both, 3, o2i);
  HloSliceDim s[3] = {{0, outer, 1}, {0, d, 1}, {0, inner, 1}};
  HloError *e = NULL;
  return px_built(hlo_build_slice(at.c, both, s, &e), e, at.before);
}

/* Philox's bits, flat (as u32 or u64); *nvec: counters. */
static HloInstr *philox_bits(PxAt at, HloInstr *k0, HloInstr *k1, HloInstr *lo, HloInstr *hi,
                             int64_t n, bool wide, int64_t *nvec) {
  int64_t words = wide ? 2 * n : n;
  *nvec = (words + 3) / 4;
  HloInstr *l = counters(at, lo, *nvec);
  HloInstr *carry = px_compare(at, HLO_CMP_LT, l, px_broadcast_leading(at, lo, &l->shape));
  HloInstr *h = px_select(at, carry, add_scalar(at, px_broadcast_leading(at, hi, &l->shape),
                                                px_scalar(at, HLO_U64, 1, NULL)),
                          px_broadcast_leading(at, hi, &l->shape));
  HloInstr *x[4] = {low32(at, l), high32(at, l), low32(at, h), high32(at, h)};
  philox(at, k0, k1, x);
  HloInstr *w = prefix(at, flatten(at, interleave(at, x, 4, 0)), words);
  if (!wide) return w;
  int64_t pairs[2] = {n, 2};
  w = px_reshape(at, w, 2, pairs);
  HloInstr *half[2];
  for (int k = 0; k < 2; k++) {
    HloSliceDim s[2] = {{0, n, 1}, {k, k + 1, 1}};
    HloError *e = NULL;
    half[k] = px_reshape(at, px_built(hlo_build_slice(at.c, w, s, &e), e, at.before), 1, &n);
  }
  return join64(at, half[0], half[1]);
}

HloInstr *px_expand_rng_bit_generator(HloInstr *in) {
  if (in->op != HLO_OP_RNG_BIT_GENERATOR) return NULL;
  PxAt at = {in->parent, in};
  HloInstr *state = in->operands[0];
  const HloShape *bs = &in->shape.tuple[1];
  int64_t n = hlo_shape_elements(bs), nstate = state->shape.dims[0];
  bool wide = hlo_type_size(bs->type) == 8;
  HloInstr *key = element(at, state, 0), *c = element(at, state, 1);
  HloInstr *k0 = low32(at, key), *k1 = high32(at, key);
  HloInstr *bits, *next[4] = {key, NULL, NULL, NULL};
  HloError *e = NULL;
  if (n == 0) {
    bits = px_scalar(at, bs->type, 0, bs);
    next[1] = c;
  } else if (in->rng_algorithm == HLO_RNG_THREE_FRY) {
    int64_t used;
    bits = three_fry_bits(at, k0, k1, c, bs, wide, &used);
    next[1] = px_binary(at, HLO_OP_ADD, c, px_scalar(at, HLO_U64, (double)used, NULL));
  } else {
    HloInstr *hi = nstate > 2 ? element(at, state, 2) : key;
    int64_t nvec;
    bits = philox_bits(at, k0, k1, c, hi, n, wide, &nvec);
    HloInstr *l = px_binary(at, HLO_OP_ADD, c, px_scalar(at, HLO_U64, (double)nvec, NULL));
    next[1] = l;
    if (nstate > 2)
      next[2] = px_select(at, px_compare(at, HLO_CMP_LT, l, c),
                          px_binary(at, HLO_OP_ADD, hi, px_scalar(at, HLO_U64, 1, NULL)), hi);
  }
  if (n) bits = px_convert(at, px_reshape(at, bits, bs->rank, bs->dims), bs->type);
  /* The words the algorithm reads, updated, then the ones it does not,
   * as they were. */
  int used = next[2] ? 3 : 2;
  int64_t one = 1;
  for (int k = 0; k < used; k++) next[k] = px_reshape(at, next[k], 1, &one);
  if (nstate > used) {
    HloSliceDim rest = {used, nstate, 1};
    next[used++] = px_built(hlo_build_slice(at.c, state, &rest, &e), e, at.before);
  }
  HloInstr *ns = px_built(hlo_build_concatenate(at.c, next, used, 0, &e), e, at.before);
  HloInstr *both[2] = {px_with_layout(ns, &in->shape.tuple[0], in),
                       px_with_layout(bits, bs, in)};
  return px_built(hlo_build_tuple(at.c, both, 2, &e), e, at.before);
}
