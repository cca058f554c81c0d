/*
 * lower_random.c — TensorFlow's random number ops, bit for bit as its CPU
 * kernels compute them: the stateless family (StatelessRandomUniform,
 * …Normal, …UniformInt, StatelessTruncatedNormal in their seed (V1) and
 * key/counter (V2) forms, StatelessRandomGetKeyCounter) and the stateful
 * RandomUniform, RandomStandardNormal, TruncatedNormal and RandomUniformInt
 * with fixed seeds.
 *
 * Every one of them draws from Philox-4x32-10: a block cipher mapping a
 * 128-bit counter and a 64-bit key to four 32-bit words.  Ten rounds each
 * multiply two of the words by fixed constants (the high and low halves of
 * a 32x32->64 bit product, here a u64 multiply and shifts), xor in the other
 * two and the key, and raise the key by the golden-ratio constants.  The
 * counter of output group g is the base counter plus g (a 128-bit add on an
 * iota), so every group is computed independently and the whole generator
 * is plain elementwise HLO; no random-number opcode is needed.
 *
 * TensorFlow's conventions, which the values depend on:
 *  - A group is one Philox block: four outputs of 32-bit types, two of
 *    64-bit types (each takes two words, the first the low half).
 *  - Uniform floats put the low mantissa-width bits of a word under the
 *    exponent of 1.0 and subtract 1 (doubles: 20 bits of the first word and
 *    all 32 of the second); 16-bit floats use the word's low 16 bits.
 *  - Normals are Box-Muller on word pairs (0,1) and (2,3), the first of each
 *    pair the radius (u clamped below at 1e-7, sqrt(-2 log u)) and the
 *    second the angle (2*pi*u, with pi in double precision), giving sine then
 *    cosine; half and bfloat16 compute in float and round.  Doubles use
 *    all four words for one pair.
 *  - Truncated normals give up the fixed block per group: group g reads its
 *    own stream from block g * 256 (f64: g * 128) past the base counter,
 *    keeping the normals of magnitude below 2, until it has four (two).
 *  - Integers in [lo, hi) are lo + word mod (hi - lo) in unsigned arithmetic.
 *  - A V1 seed (two int32 or int64, sign-extended) is the counter of one
 *    Philox block under the key 0x3ec8f720, 0x02461e29; its output words 0,1
 *    become the key and 2,3 the counter's upper half.  The V2 ops take that
 *    key (u64[1]) and counter (u64[2]) with the low word first.
 *  - Stateful ops with seed/seed2 start at key = seed and counter =
 *    (0, seed2), and every run of TensorFlow's kernel moves its state on.
 *    The compiled code gives the first run's values on every run.
 * Only Philox is implemented: alg 1, or 3 (auto-select, Philox on the CPU).
 */
#include "lower.h"

#include <string.h>

#define PHILOX_W_A UINT32_C(0x9E3779B9)
#define PHILOX_W_B UINT32_C(0xBB67AE85)
#define PHILOX_M_A UINT32_C(0xD2511F53)
#define PHILOX_M_B UINT32_C(0xCD9E8D57)
#define PHILOX_ROUNDS 10

/* C's M_PI, which strict C17 does not declare. */
#define PI_F64 3.14159265358979323846

/* The key stepping V1 seeds into a key and counter (stateless_random_ops). */
#define SEED_KEY_0 UINT32_C(0x3ec8f720)
#define SEED_KEY_1 UINT32_C(0x02461e29)

/* TensorFlow's Algorithm enum (rng_alg.h). */
enum { ALG_PHILOX = 1, ALG_THREEFRY = 2, ALG_AUTO_SELECT = 3 };

/* A Philox generator's state: u32 scalars, low words first. */
typedef struct Philox {
  HloInstr *key[2];
  HloInstr *ctr[4];
} Philox;

typedef enum Dist {
  DIST_UNIFORM,
  DIST_NORMAL,
  DIST_TRUNCATED_NORMAL,
  DIST_INT,
  DIST_FULL_INT
} Dist;

/* ------------------------------------------------------------------------ */
/* u32 and u64 arithmetic                                                   */
/* ------------------------------------------------------------------------ */

/* x broadcast to the dims of s (x itself when the ranks already agree). */
static HloInstr *spread(TfLower *L, HloInstr *x, const HloShape *s, HloError **e) {
  if (*e || x->shape.rank == s->rank) return x;
  HloShape t = hlo_shape_array(x->shape.type, s->rank, s->dims);
  return hlo_build_broadcast(L->c, x, &t, NULL, 0, e);
}

/* The integer constant v (as bits) in the type and shape of `like`. */
static HloInstr *bits_like(TfLower *L, HloInstr *like, uint64_t v, HloError **e) {
  if (*e) return NULL;
  HloInstr *c = tf_scalar(L, like->shape.type, 0);
  hlo_literal_set_s64(c->literal, 0, (int64_t)v);
  return spread(L, c, &like->shape, e);
}

static HloInstr *scalar_u32(TfLower *L, uint32_t v) {
  HloInstr *c = tf_scalar(L, HLO_U32, 0);
  hlo_literal_set_s64(c->literal, 0, v);
  return c;
}

static HloInstr *bitcast(TfLower *L, HloInstr *x, HloType t, HloError **e) {
  if (*e) return NULL;
  HloShape s = x->shape;
  s.type = t;
  return hlo_instr_new(L->c, HLO_OP_BITCAST_CONVERT, &s, &x, 1, NULL);
}

static HloInstr *op2(TfLower *L, HloOpcode op, HloInstr *a, HloInstr *b, HloError **e) {
  return tf_binary(L, op, a, b, e);
}

/* The low and high u32 halves of u64 x. */
static void split64(TfLower *L, HloInstr *x, HloInstr **lo, HloInstr **hi, HloError **e) {
  HloInstr *mask = bits_like(L, x, 0xffffffffu, e);
  *lo = tf_converted(L, op2(L, HLO_OP_AND, x, mask, e), HLO_U32, e);
  *hi = tf_converted(L, op2(L, HLO_OP_SHIFT_RIGHT_LOGICAL, x, bits_like(L, x, 32, e), e),
                     HLO_U32, e);
}

/* lo | hi << 32 as u64. */
static HloInstr *join64(TfLower *L, HloInstr *lo, HloInstr *hi, HloError **e) {
  HloInstr *h = tf_converted(L, hi, HLO_U64, e);
  h = op2(L, HLO_OP_SHIFT_LEFT, h, bits_like(L, h, 32, e), e);
  return op2(L, HLO_OP_OR, tf_converted(L, lo, HLO_U64, e), h, e);
}

/* ------------------------------------------------------------------------ */
/* Philox-4x32-10                                                           */
/* ------------------------------------------------------------------------ */

/* The four words of the blocks at counters ctr (u32 arrays of one shape)
 * under s's key, written over ctr. */
static void philox_blocks(TfLower *L, const Philox *s, HloInstr *ctr[4], HloError **e) {
  HloInstr *k0 = s->key[0], *k1 = s->key[1];
  for (int r = 0; r < PHILOX_ROUNDS && !*e; r++) {
    if (r) {
      k0 = op2(L, HLO_OP_ADD, k0, scalar_u32(L, PHILOX_W_A), e);
      k1 = op2(L, HLO_OP_ADD, k1, scalar_u32(L, PHILOX_W_B), e);
    }
    HloInstr *p0 = tf_converted(L, ctr[0], HLO_U64, e);
    HloInstr *p1 = tf_converted(L, ctr[2], HLO_U64, e);
    HloInstr *lo0, *hi0, *lo1, *hi1;
    split64(L, op2(L, HLO_OP_MULTIPLY, p0, bits_like(L, p0, PHILOX_M_A, e), e), &lo0, &hi0, e);
    split64(L, op2(L, HLO_OP_MULTIPLY, p1, bits_like(L, p1, PHILOX_M_B, e), e), &lo1, &hi1, e);
    if (*e) return;
    HloInstr *n0 = op2(L, HLO_OP_XOR, op2(L, HLO_OP_XOR, hi1, ctr[1], e),
                       spread(L, k0, &hi1->shape, e), e);
    HloInstr *n2 = op2(L, HLO_OP_XOR, op2(L, HLO_OP_XOR, hi0, ctr[3], e),
                       spread(L, k1, &hi0->shape, e), e);
    ctr[0] = n0;
    ctr[1] = lo1;
    ctr[2] = n2;
    ctr[3] = lo0;
  }
}

/* The words of `groups` consecutive blocks from s's counter: u32[groups]
 * each, the counter of block g being s's plus g (128 bits, with carries). */
static void philox_words(TfLower *L, const Philox *s, int64_t groups, HloInstr *w[4],
                         HloError **e) {
  HloShape gs = hlo_shape_array(HLO_U32, 1, &groups);
  HloInstr *carry = *e ? NULL : hlo_build_iota(L->c, &gs, 0, e);
  for (int i = 0; i < 4; i++) {
    w[i] = op2(L, HLO_OP_ADD, spread(L, s->ctr[i], &gs, e), carry, e);
    if (i < 3)
      carry = tf_converted(L, tf_compare(L, HLO_CMP_LT, w[i], carry, e), HLO_U32, e);
  }
  philox_blocks(L, s, w, e);
}

/* Element 0 of a rank-1 x as a scalar. */
static HloInstr *element(TfLower *L, HloInstr *x, int64_t i, HloError **e) {
  if (*e) return NULL;
  HloSliceDim sl = {i, i + 1, 1};
  HloInstr *y = hlo_build_slice(L->c, x, &sl, e);
  return *e ? NULL : hlo_build_reshape(L->c, y, 0, NULL, e);
}

/* A V1 seed (int32[2] or int64[2]) made a key and counter as TensorFlow's
 * GenerateKey does. */
static HloError *from_seed(TfLower *L, HloInstr *seed, Philox *s) {
  const HloShape *ss = &seed->shape;
  if (ss->rank != 1 || ss->dims[0] != 2 || (ss->type != HLO_S32 && ss->type != HLO_S64))
    return hlo_error("seed must be int32[2] or int64[2]");
  HloError *e = NULL;
  HloInstr *w = bitcast(L, tf_converted(L, seed, HLO_S64, &e), HLO_U64, &e);
  Philox init = {{scalar_u32(L, SEED_KEY_0), scalar_u32(L, SEED_KEY_1)}};
  split64(L, element(L, w, 0, &e), &init.ctr[0], &init.ctr[1], &e);
  split64(L, element(L, w, 1, &e), &init.ctr[2], &init.ctr[3], &e);
  HloInstr *mix[4];
  philox_words(L, &init, 1, mix, &e);
  for (int i = 0; i < 4; i++) mix[i] = element(L, mix[i], 0, &e);
  if (e) return e;
  *s = (Philox){{mix[0], mix[1]}, {scalar_u32(L, 0), scalar_u32(L, 0), mix[2], mix[3]}};
  return NULL;
}

/* V2's key (u64[1]) and counter (u64[2] or longer: Philox reads two). */
static HloError *from_key_counter(TfLower *L, HloInstr *key, HloInstr *ctr, Philox *s) {
  if (key->shape.type != HLO_U64 || key->shape.rank != 1 || key->shape.dims[0] != 1)
    return hlo_error("key must be uint64[1]");
  if (ctr->shape.type != HLO_U64 || ctr->shape.rank != 1 || ctr->shape.dims[0] < 2)
    return hlo_error("counter must be uint64[N] with N >= 2 for Philox");
  HloError *e = NULL;
  split64(L, element(L, key, 0, &e), &s->key[0], &s->key[1], &e);
  split64(L, element(L, ctr, 0, &e), &s->ctr[0], &s->ctr[1], &e);
  split64(L, element(L, ctr, 1, &e), &s->ctr[2], &s->ctr[3], &e);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Distributions                                                            */
/* ------------------------------------------------------------------------ */

/* [0, 1) from the low 23 bits of w. */
static HloInstr *unit_f32(TfLower *L, HloInstr *w, HloError **e) {
  HloInstr *b = op2(L, HLO_OP_AND, w, bits_like(L, w, 0x7fffffu, e), e);
  b = op2(L, HLO_OP_OR, b, bits_like(L, b, 0x3f800000u, e), e);
  HloInstr *f = bitcast(L, b, HLO_F32, e);
  return op2(L, HLO_OP_SUBTRACT, f, tf_full(L, f, 1.0, e), e);
}

/* [0, 1) in f16 or bf16 from the low 10 or 7 bits of w. */
static HloInstr *unit_16(TfLower *L, HloInstr *w, HloType t, HloError **e) {
  bool half = t == HLO_F16;
  HloInstr *b = op2(L, HLO_OP_AND, w, bits_like(L, w, half ? 0x3ffu : 0x7fu, e), e);
  b = op2(L, HLO_OP_OR, b, bits_like(L, b, half ? 15u << 10 : 127u << 7, e), e);
  HloInstr *f = bitcast(L, tf_converted(L, b, HLO_U16, e), t, e);
  return op2(L, HLO_OP_SUBTRACT, f, tf_full(L, f, 1.0, e), e);
}

/* [0, 1) in f64 from 20 bits of w0 (the high mantissa) and all of w1. */
static HloInstr *unit_f64(TfLower *L, HloInstr *w0, HloInstr *w1, HloError **e) {
  HloInstr *b = join64(L, w1, op2(L, HLO_OP_AND, w0, bits_like(L, w0, 0xfffffu, e), e), e);
  b = op2(L, HLO_OP_OR, b, bits_like(L, b, UINT64_C(1023) << 52, e), e);
  HloInstr *f = bitcast(L, b, HLO_F64, e);
  return op2(L, HLO_OP_SUBTRACT, f, tf_full(L, f, 1.0, e), e);
}

/* Box-Muller of radius uniform u and angle uniform v (f32 or f64): the
 * pair (sin, cos) * sqrt(-2 log max(u, 1e-7)).  The angle 2*pi*v is
 * computed in double and rounded, as float * M_PI promotes in C. */
static void box_muller(TfLower *L, HloInstr *u, HloInstr *v, HloInstr **z0, HloInstr **z1,
                       HloError **e) {
  HloInstr *eps = tf_full(L, u, 1e-7, e);
  u = tf_select(L, tf_compare(L, HLO_CMP_LT, u, eps, e), eps, u, e);
  HloInstr *v64 = tf_converted(L, v, HLO_F64, e);
  HloInstr *a = op2(L, HLO_OP_MULTIPLY, v64, tf_full(L, v64, 2 * PI_F64, e), e);
  a = tf_converted(L, a, u ? u->shape.type : HLO_F32, e);
  HloInstr *r = op2(L, HLO_OP_MULTIPLY, tf_full(L, u, -2.0, e), tf_unary(L, HLO_OP_LOG, u, e), e);
  r = tf_unary(L, HLO_OP_SQRT, r, e);
  *z0 = op2(L, HLO_OP_MULTIPLY, tf_unary(L, HLO_OP_SIN, a, e), r, e);
  *z1 = op2(L, HLO_OP_MULTIPLY, tf_unary(L, HLO_OP_COS, a, e), r, e);
}

/* lo + bits mod range in unsigned arithmetic (u32 or u64 bits; lo and
 * range scalars of that type), as type t. */
static HloInstr *in_range(TfLower *L, HloInstr *bits, HloInstr *lo, HloInstr *range, HloType t,
                          HloError **e) {
  HloInstr *m = op2(L, HLO_OP_REMAINDER, bits, spread(L, range, &bits->shape, e), e);
  HloInstr *y = op2(L, HLO_OP_ADD, m, spread(L, lo, &bits->shape, e), e);
  return bitcast(L, y, t, e);
}

/* The output of shape (rank, dims) from slots v[0..k), u[groups] each:
 * output i is slot i mod k of group i / k.  The k slots are stacked as
 * the minor dim, flattened, and the last group's unused tail dropped. */
static HloError *interleave(TfLower *L, HloInstr **v, int k, int64_t groups, int rank,
                            const int64_t *dims, HloInstr **out) {
  HloError *e = NULL;
  int64_t col[2] = {groups, 1}, flat = groups * k, n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  for (int i = 0; i < k && !e; i++) v[i] = hlo_build_reshape(L->c, v[i], 2, col, &e);
  HloInstr *y = e ? NULL : hlo_build_concatenate(L->c, v, k, 1, &e);
  if (!e) y = hlo_build_reshape(L->c, y, 1, &flat, &e);
  if (!e && n != flat) y = hlo_build_slice(L->c, y, &(HloSliceDim){0, n, 1}, &e);
  if (!e) y = hlo_build_reshape(L->c, y, rank, dims, &e);
  *out = y;
  return e;
}

/* ------------------------------------------------------------------------ */
/* Truncated normals                                                        */
/* ------------------------------------------------------------------------ */

/* A distribution that rejects samples owns this many samples per output
 * (random_op_cpu.h): output group g starts its own stream at block
 * g * k * 256 / 4 past the base counter and reads on, past its share if
 * it must, until its k values are accepted. */
#define RESERVED_SAMPLES_PER_OUTPUT 256

/* The counters ctr (u32 words, low first) plus the u64 off, 128 bits. */
static void add_to_counter(TfLower *L, HloInstr *ctr[4], HloInstr *off, HloError **e) {
  HloInstr *lo = op2(L, HLO_OP_ADD, join64(L, ctr[0], ctr[1], e), off, e);
  HloInstr *carry = tf_converted(L, tf_compare(L, HLO_CMP_LT, lo, off, e), HLO_U64, e);
  HloInstr *hi = op2(L, HLO_OP_ADD, join64(L, ctr[2], ctr[3], e), carry, e);
  split64(L, lo, &ctr[0], &ctr[1], e);
  split64(L, hi, &ctr[2], &ctr[3], e);
}

/* The loop state of truncated_normal: the group's counters, the key, how
 * many values each group holds, and the k value slots. */
enum { TN_CTR = 0, TN_KEY = 4, TN_COUNT = 6, TN_VALUES = 7 };

/* The body: one block per group, its Box-Muller values taken in order while
 * they lie strictly within 2 and the group has room. */
static HloInstr *truncated_normal_body(TfLower *L, HloInstr *state, int k, HloError **e) {
  HloInstr *v[TN_VALUES + 4];
  for (int i = 0; i < TN_VALUES + k && !*e; i++)
    v[i] = hlo_build_get_tuple_element(L->c, state, i, e);
  if (*e) return NULL;
  HloInstr *w[4] = {v[0], v[1], v[2], v[3]}, *z[4];
  Philox key = {{v[TN_KEY], v[TN_KEY + 1]}};
  philox_blocks(L, &key, w, e);
  if (k == 2) {
    box_muller(L, unit_f64(L, w[0], w[1], e), unit_f64(L, w[2], w[3], e), &z[0], &z[1], e);
  } else {
    box_muller(L, unit_f32(L, w[0], e), unit_f32(L, w[1], e), &z[0], &z[1], e);
    box_muller(L, unit_f32(L, w[2], e), unit_f32(L, w[3], e), &z[2], &z[3], e);
  }
  /* A block gives k candidates: four f32 normals, or two f64. */
  HloInstr *count = v[TN_COUNT];
  for (int i = 0; i < k && !*e; i++) {
    HloInstr *inside = tf_compare(L, HLO_CMP_LT, tf_unary(L, HLO_OP_ABS, z[i], e),
                                  tf_full(L, z[i], 2.0, e), e);
    HloInstr *room = tf_compare(L, HLO_CMP_LT, count, tf_full(L, count, k, e), e);
    HloInstr *take = op2(L, HLO_OP_AND, inside, room, e);
    for (int j = 0; j < k; j++) {
      HloInstr *here = tf_compare(L, HLO_CMP_EQ, count, tf_full(L, count, j, e), e);
      v[TN_VALUES + j] = tf_select(L, op2(L, HLO_OP_AND, take, here, e), z[i],
                                   v[TN_VALUES + j], e);
    }
    count = op2(L, HLO_OP_ADD, count, tf_converted(L, take, HLO_S32, e), e);
  }
  v[TN_COUNT] = count;
  HloInstr *ctr[4] = {v[0], v[1], v[2], v[3]};
  HloShape g64 = hlo_shape_array(HLO_U64, 1, v[0]->shape.dims);
  add_to_counter(L, ctr, spread(L, tf_scalar(L, HLO_U64, 1), &g64, e), e);
  memcpy(v, ctr, sizeof ctr);
  return *e ? NULL : hlo_build_tuple(L->c, v, TN_VALUES + k, e);
}

/* TensorFlow's TruncatedNormalDistribution: groups of k = 4 values (2 for
 * f64), each drawing Box-Muller pairs from its own stream and keeping
 * those of magnitude below 2 (f16 and bf16 test the float, then round).
 * How many blocks a group reads is data, so the groups run side by side in
 * a while loop, one block each per iteration, until every group is full:
 * values bit-exact with the CPU kernel whatever the rejections.  The
 * output is not empty (generate checks). */
static HloError *truncated_normal(TfLower *L, const Philox *s, HloType t, int rank,
                                  const int64_t *dims, HloInstr **out) {
  HloError *e = NULL;
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  int k = t == HLO_F64 ? 2 : 4;
  HloType ct = t == HLO_F64 ? HLO_F64 : HLO_F32;
  int64_t groups = (n + k - 1) / k;
  HloShape g64 = hlo_shape_array(HLO_U64, 1, &groups), gs = hlo_shape_array(HLO_U32, 1, &groups);
  HloInstr *init[TN_VALUES + 4];
  for (int i = 0; i < 4; i++) init[TN_CTR + i] = spread(L, s->ctr[i], &gs, &e);
  HloInstr *g = e ? NULL : hlo_build_iota(L->c, &g64, 0, &e);
  HloInstr *skip = op2(L, HLO_OP_MULTIPLY, g,
                       bits_like(L, g, (uint64_t)k * RESERVED_SAMPLES_PER_OUTPUT / 4, &e), &e);
  add_to_counter(L, &init[TN_CTR], skip, &e);
  init[TN_KEY] = s->key[0];
  init[TN_KEY + 1] = s->key[1];
  HloShape cs = hlo_shape_array(HLO_S32, 1, &groups), vs = hlo_shape_array(ct, 1, &groups);
  init[TN_COUNT] = e ? NULL : hlo_build_broadcast(L->c, tf_scalar(L, HLO_S32, 0), &cs, NULL, 0, &e);
  for (int j = 0; j < k && !e; j++)
    init[TN_VALUES + j] = hlo_build_broadcast(L->c, tf_scalar(L, ct, 0), &vs, NULL, 0, &e);
  if (e) return e;
  HloShape shapes[TN_VALUES + 4];
  for (int i = 0; i < TN_VALUES + k; i++) shapes[i] = init[i]->shape;
  HloShape tuple = hlo_shape_tuple(L->m->arena, TN_VALUES + k, shapes);
  HloComputation *outer = L->c;
  HloComputation *called[2] = {tf_computation_new(L, "truncated_normal_cond"),
                               tf_computation_new(L, "truncated_normal_body")};
  /* The condition: some group has fewer than k values. */
  L->c = called[0];
  HloInstr *p = hlo_parameter_new(L->c, 0, &tuple, "state");
  HloInstr *count = hlo_build_get_tuple_element(L->c, p, TN_COUNT, &e);
  HloInstr *least = NULL;
  if (!e) {
    HloInstr *big = tf_scalar(L, HLO_S32, k);
    int64_t dim0 = 0;
    least = hlo_build_reduce(L->c, &count, &big, 1, &dim0, 1,
                             hlo_build_scalar_computation(L->m, HLO_OP_MINIMUM, HLO_S32), &e);
  }
  HloInstr *more = tf_compare(L, HLO_CMP_LT, least, tf_scalar(L, HLO_S32, k), &e);
  if (!e) hlo_set_root(L->c, more);
  L->c = called[1];
  p = e ? NULL : hlo_parameter_new(L->c, 0, &tuple, "state");
  HloInstr *next = truncated_normal_body(L, p, k, &e);
  if (!e) hlo_set_root(L->c, next);
  L->c = outer;
  if (e) return e;
  HloInstr *state = hlo_build_tuple(L->c, init, TN_VALUES + k, &e);
  if (e) return e;
  HloInstr *loop = hlo_instr_new(L->c, HLO_OP_WHILE, &tuple, &state, 1, NULL);
  hlo_instr_set_called(loop, called, 2);
  HloShape inferred;
  if ((e = hlo_infer_shape(loop, &inferred))) return e;
  HloInstr *v[4];
  for (int j = 0; j < k && !e; j++) {
    v[j] = hlo_build_get_tuple_element(L->c, loop, TN_VALUES + j, &e);
    v[j] = tf_converted(L, v[j], t, &e);
  }
  if (e) return e;
  return interleave(L, v, k, groups, rank, dims, out);
}

/* The values of distribution d for `s`, of type t and shape (rank, dims),
 * in TensorFlow's order: output i is element i mod k of group i / k.  For
 * DIST_INT lo and hi are the scalar bounds (of type t). */
static HloError *generate(TfLower *L, const Philox *s, Dist d, HloType t, int rank,
                          const int64_t *dims, HloInstr *lo, HloInstr *hi, HloInstr **out) {
  HloShape os = hlo_shape_array(t, rank, dims);
  HloError *e = hlo_shape_check_size(&os);
  if (e) return hlo_error_wrap(e, "the output");
  int64_t n = hlo_shape_elements(&os);
  if (n == 0) {
    *out = hlo_build_broadcast(L->c, tf_scalar(L, t, 0), &os, NULL, 0, &e);
    return e;
  }
  if (d == DIST_TRUNCATED_NORMAL) return truncated_normal(L, s, t, rank, dims, out);
  bool wide = hlo_type_size(t) == 8;
  int k = wide ? 2 : 4;
  int64_t groups = (n + k - 1) / k;
  HloInstr *w[4], *v[4];
  philox_words(L, s, groups, w, &e);
  HloType ut = wide ? HLO_U64 : HLO_U32;
  HloInstr *ulo = NULL, *range = NULL;
  if (d == DIST_INT) {
    ulo = bitcast(L, lo, ut, &e);
    range = op2(L, HLO_OP_SUBTRACT, bitcast(L, hi, ut, &e), ulo, &e);
  }
  for (int i = 0; i < k && !e; i++) {
    HloInstr *bits = wide ? join64(L, w[2 * i], w[2 * i + 1], &e) : w[i];
    switch (d) {
    case DIST_UNIFORM:
      v[i] = t == HLO_F64   ? unit_f64(L, w[2 * i], w[2 * i + 1], &e)
             : t == HLO_F32 ? unit_f32(L, w[i], &e)
                            : unit_16(L, w[i], t, &e);
      break;
    case DIST_NORMAL:
      if (i % 2) break;
      if (t == HLO_F64) {
        box_muller(L, unit_f64(L, w[0], w[1], &e), unit_f64(L, w[2], w[3], &e), &v[0], &v[1],
                   &e);
      } else {
        box_muller(L, unit_f32(L, w[i], &e), unit_f32(L, w[i + 1], &e), &v[i], &v[i + 1], &e);
        v[i] = tf_converted(L, v[i], t, &e);
        v[i + 1] = tf_converted(L, v[i + 1], t, &e);
      }
      break;
    case DIST_INT: v[i] = in_range(L, bits, ulo, range, t, &e); break;
    case DIST_FULL_INT: v[i] = bitcast(L, bits, t, &e); break;
    case DIST_TRUNCATED_NORMAL: break; /* returned above */
    }
  }
  if (e) return e;
  return interleave(L, v, k, groups, rank, dims, out);
}

/* ------------------------------------------------------------------------ */
/* The ops                                                                  */
/* ------------------------------------------------------------------------ */

/* Whether type t can come out of distribution d (TensorFlow's kernels). */
static bool dist_has_type(Dist d, HloType t) {
  switch (d) {
  case DIST_UNIFORM:
  case DIST_NORMAL:
  case DIST_TRUNCATED_NORMAL: return t == HLO_F16 || t == HLO_BF16 || t == HLO_F32 || t == HLO_F64;
  default: return t == HLO_S32 || t == HLO_S64 || t == HLO_U32 || t == HLO_U64;
  }
}

static const char *dist_name(Dist d) {
  switch (d) {
  case DIST_UNIFORM: return "uniform";
  case DIST_NORMAL: return "normal";
  case DIST_TRUNCATED_NORMAL: return "truncated normal";
  case DIST_INT: return "uniform integer";
  default: return "full-range integer";
  }
}

/* The output type (attribute `attr`) and the shape (input 0, constant). */
static HloError *out_type_shape(TfLower *L, const TfNode *n, Dist d, const char *attr,
                                HloType *t, int64_t **dims, int *rank) {
  HloError *e = tf_attr_hlo_type(n, attr, t);
  if (!e) e = tf_input_ints(L, n, 0, dims, rank);
  if (e) return e;
  if (!dist_has_type(d, *t))
    return hlo_error("%s values of type %s are not supported", dist_name(d),
                     tf_type_name(tf_type_from_hlo(*t)));
  if (*rank > HLO_MAX_RANK) return hlo_error("shape has rank %d, above %d", *rank, HLO_MAX_RANK);
  for (int i = 0; i < *rank; i++)
    if ((*dims)[i] < 0) return hlo_error("shape has the negative size %lld", (long long)(*dims)[i]);
  return NULL;
}

/* minval and maxval (inputs i, i+1): scalars of type t. */
static HloError *int_bounds(TfLower *L, const TfNode *n, int i, HloType t, HloInstr **lo,
                            HloInstr **hi) {
  HloError *e = tf_input(L, n, i, lo);
  if (!e) e = tf_input(L, n, i + 1, hi);
  if (e) return e;
  if ((*lo)->shape.rank || (*hi)->shape.rank)
    return hlo_error("minval and maxval must be scalars");
  if ((*lo)->shape.type != t || (*hi)->shape.type != t)
    return hlo_error("minval and maxval must have the output's type");
  return NULL;
}

/* The alg input (constant): Philox, or auto-select, which is Philox on
 * the CPU. */
static HloError *philox_alg(TfLower *L, const TfNode *n, int i) {
  int64_t *v;
  int count;
  HloError *e = tf_input_ints(L, n, i, &v, &count);
  if (e) return e;
  if (count != 1) return hlo_error("alg must be a scalar");
  if (v[0] == ALG_PHILOX || v[0] == ALG_AUTO_SELECT) return NULL;
  if (v[0] == ALG_THREEFRY)
    return hlo_error("alg 2 (ThreeFry) is not supported: only Philox (1) and auto-select (3), "
                     "which is Philox on the CPU");
  return hlo_error("alg %lld is not an algorithm TensorFlow knows (1 Philox, 2 ThreeFry, 3 "
                   "auto-select)",
                   (long long)v[0]);
}

static Dist dist_of(const char *op) {
  if (strstr(op, "FullInt")) return DIST_FULL_INT;
  if (strstr(op, "Int")) return DIST_INT;
  if (strstr(op, "TruncatedNormal")) return DIST_TRUNCATED_NORMAL;
  if (strstr(op, "Normal")) return DIST_NORMAL;
  return DIST_UNIFORM;
}

/* StatelessRandom{Uniform,Normal,UniformInt}(shape, seed[, minval, maxval])
 * and StatelessTruncatedNormal(shape, seed). */
static HloError *lower_stateless_v1(TfLower *L, const TfNode *n) {
  Dist d = dist_of(n->op);
  HloType t;
  int64_t *dims;
  int rank;
  HloInstr *seed, *lo = NULL, *hi = NULL, *y;
  Philox s;
  HloError *e = tf_expect_inputs(n, d == DIST_INT ? 4 : 2, d == DIST_INT ? 4 : 2);
  if (!e) e = out_type_shape(L, n, d, "dtype", &t, &dims, &rank);
  if (!e) e = tf_input(L, n, 1, &seed);
  if (!e && d == DIST_INT) e = int_bounds(L, n, 2, t, &lo, &hi);
  if (!e) e = from_seed(L, seed, &s);
  if (!e) e = generate(L, &s, d, t, rank, dims, lo, hi, &y);
  if (!e) tf_set_output(L, n, 0, y);
  return e;
}

/* StatelessRandom{Uniform,Normal,UniformInt,UniformFullInt}V2 and
 * StatelessTruncatedNormalV2(shape, key, counter, alg[, minval, maxval]). */
static HloError *lower_stateless_v2(TfLower *L, const TfNode *n) {
  Dist d = dist_of(n->op);
  HloType t;
  int64_t *dims;
  int rank;
  HloInstr *key, *ctr, *lo = NULL, *hi = NULL, *y;
  Philox s;
  HloError *e = tf_expect_inputs(n, d == DIST_INT ? 6 : 4, d == DIST_INT ? 6 : 4);
  if (!e) e = out_type_shape(L, n, d, "dtype", &t, &dims, &rank);
  if (!e) e = philox_alg(L, n, 3);
  if (!e) e = tf_input(L, n, 1, &key);
  if (!e) e = tf_input(L, n, 2, &ctr);
  if (!e && d == DIST_INT) e = int_bounds(L, n, 4, t, &lo, &hi);
  if (!e) e = from_key_counter(L, key, ctr, &s);
  if (!e) e = generate(L, &s, d, t, rank, dims, lo, hi, &y);
  if (!e) tf_set_output(L, n, 0, y);
  return e;
}

/* StatelessRandomGetKeyCounter(seed) -> key u64[1], counter u64[2], and
 * …GetKeyCounterAlg, which adds alg (Philox). */
static HloError *lower_get_key_counter(TfLower *L, const TfNode *n) {
  HloInstr *seed;
  Philox s;
  HloError *e = tf_expect_inputs(n, 1, 1);
  if (!e) e = tf_input(L, n, 0, &seed);
  if (!e) e = from_seed(L, seed, &s);
  if (e) return e;
  int64_t one = 1;
  HloInstr *key = join64(L, s.key[0], s.key[1], &e);
  HloInstr *c[2] = {join64(L, s.ctr[0], s.ctr[1], &e), join64(L, s.ctr[2], s.ctr[3], &e)};
  for (int i = 0; i < 2 && !e; i++) c[i] = hlo_build_reshape(L->c, c[i], 1, &one, &e);
  if (!e) key = hlo_build_reshape(L->c, key, 1, &one, &e);
  HloInstr *ctr = e ? NULL : hlo_build_concatenate(L->c, c, 2, 0, &e);
  if (e) return e;
  tf_set_output(L, n, 0, key);
  tf_set_output(L, n, 1, ctr);
  if (!strcmp(n->op, "StatelessRandomGetKeyCounterAlg"))
    tf_set_output(L, n, 2, tf_scalar(L, HLO_S32, ALG_PHILOX));
  return NULL;
}

/* StatelessRandomGetAlg: the algorithm the CPU kernels pick. */
static HloError *lower_get_alg(TfLower *L, const TfNode *n) {
  HloError *e = tf_expect_inputs(n, 0, 0);
  if (!e) tf_set_output(L, n, 0, tf_scalar(L, HLO_S32, ALG_PHILOX));
  return e;
}

/* RandomUniform, RandomStandardNormal, TruncatedNormal (shape) and RandomUniformInt
 * (shape, minval, maxval) with attributes seed and seed2: the values of
 * TensorFlow's first run. */
static HloError *lower_stateful(TfLower *L, const TfNode *n) {
  Dist d = dist_of(n->op);
  int64_t seed, seed2, *dims;
  int rank;
  HloType t;
  HloInstr *lo = NULL, *hi = NULL, *y;
  HloError *e = tf_expect_inputs(n, d == DIST_INT ? 3 : 1, d == DIST_INT ? 3 : 1);
  if (!e) e = tf_attr_int_or(n, "seed", 0, &seed);
  if (!e) e = tf_attr_int_or(n, "seed2", 0, &seed2);
  if (e) return e;
  if (seed == 0 && seed2 == 0)
    return hlo_error("seed and seed2 are both 0, so TensorFlow draws a new random seed on every "
                     "run; set a seed (tf.random.set_seed or the op's seed) or use the "
                     "stateless ops");
  e = out_type_shape(L, n, d, d == DIST_INT ? "Tout" : "dtype", &t, &dims, &rank);
  if (!e && d == DIST_INT) e = int_bounds(L, n, 1, t, &lo, &hi);
  if (e) return e;
  uint64_t k = (uint64_t)seed, c = (uint64_t)seed2;
  Philox s = {{scalar_u32(L, (uint32_t)k), scalar_u32(L, (uint32_t)(k >> 32))},
              {scalar_u32(L, 0), scalar_u32(L, 0), scalar_u32(L, (uint32_t)c),
               scalar_u32(L, (uint32_t)(c >> 32))}};
  if (!(e = generate(L, &s, d, t, rank, dims, lo, hi, &y))) tf_set_output(L, n, 0, y);
  return e;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define V1_NOTE "Philox as TensorFlow's CPU kernels, bit-exact (normals: to the transcendentals)"
#define V2_NOTE                                                                                \
  "alg constant: Philox (1) or auto-select (3); ThreeFry refused; " V1_NOTE
#define STATEFUL_NOTE                                                                          \
  "seed or seed2 nonzero; every run gives the values of TensorFlow's first run (its kernel "   \
  "moves on each run); " V1_NOTE

#define TRUNCATED_NOTE "a while loop draws until every group of values is accepted; "

const TfOpLowering tf_lower_random[] = {
    {"StatelessRandomUniform", lower_stateless_v1, "dtype, T, Tseed", V1_NOTE},
    {"StatelessRandomNormal", lower_stateless_v1, "dtype, T, Tseed", V1_NOTE},
    {"StatelessRandomUniformInt", lower_stateless_v1, "dtype, T, Tseed",
     "minval < maxval is not checked; " V1_NOTE},
    {"StatelessTruncatedNormal", lower_stateless_v1, "dtype, T, Tseed", TRUNCATED_NOTE V1_NOTE},
    {"StatelessRandomUniformV2", lower_stateless_v2, "dtype, Tshape", V2_NOTE},
    {"StatelessRandomNormalV2", lower_stateless_v2, "dtype, Tshape", V2_NOTE},
    {"StatelessRandomUniformIntV2", lower_stateless_v2, "dtype, Tshape",
     "minval < maxval is not checked; " V2_NOTE},
    {"StatelessRandomUniformFullIntV2", lower_stateless_v2, "dtype, Tshape", V2_NOTE},
    {"StatelessTruncatedNormalV2", lower_stateless_v2, "dtype, Tshape",
     TRUNCATED_NOTE V2_NOTE},
    {"StatelessRandomGetKeyCounter", lower_get_key_counter, "Tseed",
     "key and counter for Philox, as on the CPU"},
    {"StatelessRandomGetKeyCounterAlg", lower_get_key_counter, "Tseed",
     "key and counter for Philox; alg is Philox (1), as on the CPU"},
    {"StatelessRandomGetAlg", lower_get_alg, "", "Philox (1), as on the CPU"},
    {"RandomUniform", lower_stateful, "dtype, T, seed, seed2", STATEFUL_NOTE},
    {"RandomStandardNormal", lower_stateful, "dtype, T, seed, seed2", STATEFUL_NOTE},
    {"TruncatedNormal", lower_stateful, "dtype, T, seed, seed2",
     TRUNCATED_NOTE STATEFUL_NOTE},
    {"RandomUniformInt", lower_stateful, "Tout, T, seed, seed2",
     "minval < maxval is not checked; " STATEFUL_NOTE},
    {NULL, NULL, NULL, NULL},
};
