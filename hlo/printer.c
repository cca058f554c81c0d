/*
 * printer.c — HLO text out.
 *
 * Prints a module in the style of XLA's HloModule::ToString(): a header line
 * with the module's attributes, then each computation in the module's list
 * order (callees before callers, as the parser keeps them) as
 *
 *   %name (p: f32[2]) -> f32[2] {
 *     %p = f32[2]{0} parameter(0)
 *     ROOT %n = f32[2]{0} negate(%p), metadata={op_name="neg"}
 *   }
 *
 * with a blank line after each.  Instruction attributes come in XLA's order:
 * the opcode's own attributes, called computations, then uninterpreted
 * attributes as they were read, metadata, and backend_config last.
 *
 * The contract with parser.c is a fixed point: parse(print(m)) is m, so
 * printing twice through a parse gives the same bytes.  That is why floats
 * are printed with enough digits to read back the same bits (XLA's rule:
 * the type's digits10 when that round-trips, else max_digits10), NaNs keep
 * their sign and payload, strings are C-escaped, and every attribute that
 * is not at its default is printed.  The signature line repeats the
 * parameters' and root's shapes (without layouts) for readers; the parser
 * takes shapes from the body.
 */
#include "hlo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Scalars                                                                  */
/* ------------------------------------------------------------------------ */

/* XLA's digits for a finite value v of type t with bit pattern `bits`: f16
 * 5 and bf16 4 significant digits (always enough to read back the same
 * bits); f32 6 when that reads back exactly, else 9; f64 15, else 17. */
static void print_finite(HloStr *out, HloType t, double v, uint64_t bits) {
  char buf[64];
  switch (t) {
  case HLO_F16: snprintf(buf, sizeof buf, "%.5g", v); break;
  case HLO_BF16: snprintf(buf, sizeof buf, "%.4g", v); break;
  case HLO_F32: {
    snprintf(buf, sizeof buf, "%.6g", v);
    float f = strtof(buf, NULL);
    uint32_t u;
    memcpy(&u, &f, 4);
    if (u != (uint32_t)bits) snprintf(buf, sizeof buf, "%.9g", v);
    break;
  }
  default: {
    snprintf(buf, sizeof buf, "%.15g", v);
    double d = strtod(buf, NULL);
    uint64_t u;
    memcpy(&u, &d, 8);
    if (u != bits) snprintf(buf, sizeof buf, "%.17g", v);
    break;
  }
  }
  hlo_str_append(out, buf, strlen(buf));
}

/* A float of type t given as its bit pattern. */
static void print_float_bits(HloStr *out, HloType t, uint64_t bits) {
  int mant = t == HLO_F16 ? 10 : t == HLO_BF16 ? 7 : t == HLO_F32 ? 23 : 52;
  int expb = t == HLO_F16 ? 5 : t == HLO_BF16 ? 8 : t == HLO_F32 ? 8 : 11;
  uint64_t mant_mask = ((uint64_t)1 << mant) - 1;
  uint64_t exp = (bits >> mant) & (((uint64_t)1 << expb) - 1);
  bool neg = (bits >> (mant + expb)) & 1;
  if (exp == ((uint64_t)1 << expb) - 1) {
    uint64_t payload = bits & mant_mask;
    if (payload == 0) hlo_str_printf(out, neg ? "-inf" : "inf");
    else if (payload == (uint64_t)1 << (mant - 1)) hlo_str_printf(out, neg ? "-nan" : "nan");
    else hlo_str_printf(out, "%snan(0x%llx)", neg ? "-" : "", (unsigned long long)payload);
    return;
  }
  double v;
  if (t == HLO_F64) {
    memcpy(&v, &bits, 8);
  } else if (t == HLO_F32) {
    uint32_t u = (uint32_t)bits;
    float f;
    memcpy(&f, &u, 4);
    v = f;
  } else {
    v = t == HLO_F16 ? hlo_f16_to_f32((uint16_t)bits) : hlo_bf16_to_f32((uint16_t)bits);
  }
  print_finite(out, t, v, bits);
}

/* An f8/f4 value: nan by name (fnuz's one NaN as "nan"), else as the f32
 * it widens to exactly, so 448 prints as 448, not as the shortest
 * "4.5e+02" that would round back to it. */
static void print_small_float(HloStr *out, HloType t, uint8_t bits) {
  float f = hlo_small_to_f32(t, bits);
  if (f != f) {
    hlo_str_printf(out, signbit(f) && hlo_small_float(t)->kind != HLO_SF_FNUZ ? "-nan" : "nan");
    return;
  }
  uint32_t u;
  memcpy(&u, &f, 4);
  print_float_bits(out, HLO_F32, u);
}

/* Element i of an array literal.  XLA prints pred as true/false in a
 * scalar and as 1/0 inside arrays (denser).  Formatted into a local buffer:
 * large constants make this the printer's hot loop. */
static void print_element(HloStr *out, const HloLiteral *l, int64_t i) {
  const void *p = l->data;
  HloType t = l->shape.type;
  char buf[32];
  switch (t) {
  case HLO_PRED: {
    bool v = ((const uint8_t *)p)[i] != 0;
    const char *text = l->shape.rank == 0 ? (v ? "true" : "false") : (v ? "1" : "0");
    hlo_str_append(out, text, strlen(text));
    return;
  }
  case HLO_U64:
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)((const uint64_t *)p)[i]);
    hlo_str_append(out, buf, strlen(buf));
    return;
  case HLO_F16: case HLO_BF16:
    print_float_bits(out, t, ((const uint16_t *)p)[i]);
    return;
  case HLO_F32:
    print_float_bits(out, t, ((const uint32_t *)p)[i]);
    return;
  case HLO_F64:
    print_float_bits(out, t, ((const uint64_t *)p)[i]);
    return;
  /* XLA writes a complex number as (real, imaginary). */
  case HLO_C64:
    hlo_str_append(out, "(", 1);
    print_float_bits(out, HLO_F32, ((const uint32_t *)p)[2 * i]);
    hlo_str_append(out, ", ", 2);
    print_float_bits(out, HLO_F32, ((const uint32_t *)p)[2 * i + 1]);
    hlo_str_append(out, ")", 1);
    return;
  case HLO_C128:
    hlo_str_append(out, "(", 1);
    print_float_bits(out, HLO_F64, ((const uint64_t *)p)[2 * i]);
    hlo_str_append(out, ", ", 2);
    print_float_bits(out, HLO_F64, ((const uint64_t *)p)[2 * i + 1]);
    hlo_str_append(out, ")", 1);
    return;
  default:
    if (hlo_small_float(t)) {
      print_small_float(out, t, ((const uint8_t *)p)[i]);
      return;
    }
    snprintf(buf, sizeof buf, "%lld", (long long)hlo_literal_get_s64(l, i));
    hlo_str_append(out, buf, strlen(buf));
    return;
  }
}

/* Dimension `level` of an array literal, in the layout XLA's
 * Literal::ToStringOneline gives: "{1, 2}" for rank 1; for higher ranks
 * "{ { 1, 2 }, { 3, 4 } }", single-element rows as "{5}", empty rows as
 * "{}" (empty outer levels as "{  }"), and index comments on inner braces
 * of rank > 3 literals. */
static void print_array_level(HloStr *out, const HloLiteral *l, int level, int64_t *index,
                              int64_t parent_index) {
  const HloShape *s = &l->shape;
  int64_t n = s->dims[level];
  if (level == s->rank - 1) {
    bool pad = s->rank > 1 && n > 1;
    hlo_str_append(out, pad ? "{ " : "{", pad ? 2 : 1);
    for (int64_t i = 0; i < n; i++) {
      if (i) hlo_str_append(out, ", ", 2);
      print_element(out, l, (*index)++);
    }
    hlo_str_append(out, pad ? " }" : "}", pad ? 2 : 1);
    return;
  }
  hlo_str_append(out, "{", 1);
  if (s->rank > 3 && level > 0)
    hlo_str_printf(out, " /*i%d=%lld*/", level - 1, (long long)parent_index);
  hlo_str_append(out, " ", 1);
  for (int64_t i = 0; i < n; i++) {
    if (i) hlo_str_append(out, ", ", 2);
    print_array_level(out, l, level + 1, index, i);
  }
  hlo_str_append(out, " }", 2);
}

static void print_literal(HloStr *out, const HloLiteral *l) {
  if (l->shape.type == HLO_TUPLE) {
    hlo_str_append(out, "(", 1);
    for (int i = 0; i < l->shape.ntuple; i++) {
      hlo_str_append(out, i ? ", " : " ", i ? 2 : 1);
      print_literal(out, l->elems[i]);
    }
    hlo_str_append(out, " )", 2);
    return;
  }
  if (l->shape.rank == 0) {
    print_element(out, l, 0);
    return;
  }
  int64_t index = 0;
  print_array_level(out, l, 0, &index, 0);
}

/* A string literal, escaped as absl::CEscape does (bytes >= 0x80 are kept:
 * UTF-8 stays readable). */
static void print_string(HloStr *out, const char *s) {
  hlo_str_append(out, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '\n': hlo_str_append(out, "\\n", 2); break;
    case '\t': hlo_str_append(out, "\\t", 2); break;
    case '\r': hlo_str_append(out, "\\r", 2); break;
    case '"': hlo_str_append(out, "\\\"", 2); break;
    case '\\': hlo_str_append(out, "\\\\", 2); break;
    default:
      if (c < 0x20 || c == 0x7f) hlo_str_printf(out, "\\%03o", c);
      else hlo_str_append(out, (const char *)&c, 1);
    }
  }
  hlo_str_append(out, "\"", 1);
}

/* ------------------------------------------------------------------------ */
/* Attributes                                                               */
/* ------------------------------------------------------------------------ */

static void print_int_list(HloStr *out, const int64_t *v, int n) {
  hlo_str_append(out, "{", 1);
  for (int i = 0; i < n; i++) hlo_str_printf(out, i ? ",%lld" : "%lld", (long long)v[i]);
  hlo_str_append(out, "}", 1);
}

static void print_dims_attr(HloStr *out, const char *name, const HloDims *d) {
  hlo_str_printf(out, ", %s=", name);
  print_int_list(out, d->v, d->n);
}

static void print_dims_if_any(HloStr *out, const char *name, const HloDims *d) {
  if (d->n) print_dims_attr(out, name, d);
}

static void print_comp(HloStr *out, const HloComputation *c) {
  hlo_str_printf(out, "%%%s", c ? c->name : "");
}

/* window={size=3x3 stride=2x2 pad=0_1x0_1 …}: fields at their defaults are
 * left out, as in XLA's window_util::ToString. */
static void print_window(HloStr *out, const HloInstr *in) {
  const HloWindowDim *w = in->window;
  int n = in->window_rank;
  bool stride = false, pad = false, lhs = false, rhs = false, rev = false;
  for (int i = 0; i < n; i++) {
    stride |= w[i].stride != 1;
    pad |= w[i].pad_lo != 0 || w[i].pad_hi != 0;
    lhs |= w[i].lhs_dilate != 1;
    rhs |= w[i].rhs_dilate != 1;
    rev |= w[i].reversal;
  }
  hlo_str_append(out, ", window={size=", 15);
  for (int i = 0; i < n; i++) hlo_str_printf(out, i ? "x%lld" : "%lld", (long long)w[i].size);
  if (stride) {
    hlo_str_append(out, " stride=", 8);
    for (int i = 0; i < n; i++)
      hlo_str_printf(out, i ? "x%lld" : "%lld", (long long)w[i].stride);
  }
  if (pad) {
    hlo_str_append(out, " pad=", 5);
    for (int i = 0; i < n; i++)
      hlo_str_printf(out, i ? "x%lld_%lld" : "%lld_%lld", (long long)w[i].pad_lo,
                     (long long)w[i].pad_hi);
  }
  if (lhs) {
    hlo_str_append(out, " lhs_dilate=", 12);
    for (int i = 0; i < n; i++)
      hlo_str_printf(out, i ? "x%lld" : "%lld", (long long)w[i].lhs_dilate);
  }
  if (rhs) {
    hlo_str_append(out, " rhs_dilate=", 12);
    for (int i = 0; i < n; i++)
      hlo_str_printf(out, i ? "x%lld" : "%lld", (long long)w[i].rhs_dilate);
  }
  if (rev) {
    hlo_str_append(out, " rhs_reversal=", 14);
    for (int i = 0; i < n; i++) hlo_str_printf(out, i ? "x%d" : "%d", w[i].reversal ? 1 : 0);
  }
  hlo_str_append(out, "}", 1);
}

/* One side of dim_labels: a, b at their positions, spatial dims as digits. */
static void print_dim_labels_side(HloStr *out, int nspatial, char a, int64_t pa, char b,
                                  int64_t pb, const int64_t *sp) {
  char s[HLO_MAX_RANK + 3];
  int n = nspatial + 2;
  memset(s, '?', (size_t)n);
  s[n] = '\0';
  if (pa >= 0 && pa < n) s[pa] = a;
  if (pb >= 0 && pb < n) s[pb] = b;
  for (int i = 0; i < nspatial; i++)
    if (sp[i] >= 0 && sp[i] < n) s[sp[i]] = (char)('0' + i);
  hlo_str_printf(out, "%s", s);
}

static void print_dim_labels(HloStr *out, const HloConvDims *d) {
  int ns = d->nspatial < 0 ? 0 : d->nspatial > 10 ? 10 : d->nspatial;
  hlo_str_append(out, ", dim_labels=", 13);
  print_dim_labels_side(out, ns, 'b', d->in_batch, 'f', d->in_feature, d->in_spatial);
  hlo_str_append(out, "_", 1);
  print_dim_labels_side(out, ns, 'i', d->k_in_feature, 'o', d->k_out_feature, d->k_spatial);
  hlo_str_append(out, "->", 2);
  print_dim_labels_side(out, ns, 'b', d->out_batch, 'f', d->out_feature, d->out_spatial);
}

/* {{0,1},{2}}: the lists of flat, sizes[i] entries each (or n entries
 * each when sizes is NULL). */
static void print_id_lists(HloStr *out, const char *name, const HloDims *flat,
                           const HloDims *sizes, int n) {
  hlo_str_printf(out, ", %s={", name);
  int64_t at = 0;
  int count = sizes ? sizes->n : n ? flat->n / n : 0;
  for (int g = 0; g < count; g++) {
    int64_t len = sizes ? sizes->v[g] : n;
    if (g) hlo_str_append(out, ",", 1);
    print_int_list(out, flat->v + at, (int)len);
    at += len;
  }
  hlo_str_append(out, "}", 1);
}

/* Attributes interpreted by the IR, in XLA's order for each opcode. */
static void print_opcode_attrs(HloStr *out, const HloInstr *in) {
  static const char *const directions[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
  static const char *const compare_types[] = {"", "FLOAT", "TOTALORDER", "SIGNED", "UNSIGNED"};
  static const char *const fusion_kinds[] = {"kLoop", "kInput", "kOutput", "kCustom"};
  switch (in->op) {
  case HLO_OP_IOTA:
    hlo_str_printf(out, ", iota_dimension=%lld", (long long)in->iota_dimension);
    break;
  case HLO_OP_GET_TUPLE_ELEMENT:
    hlo_str_printf(out, ", index=%lld", (long long)in->tuple_index);
    break;
  case HLO_OP_COMPARE:
    hlo_str_printf(out, ", direction=%s", directions[in->direction]);
    if (in->compare_type != HLO_CMPT_DEFAULT)
      hlo_str_printf(out, ", type=%s", compare_types[in->compare_type]);
    break;
  case HLO_OP_BROADCAST: case HLO_OP_TRANSPOSE: case HLO_OP_REDUCE: case HLO_OP_REVERSE:
  case HLO_OP_CONCATENATE: case HLO_OP_GET_DIMENSION_SIZE: case HLO_OP_SET_DIMENSION_SIZE:
    print_dims_attr(out, "dimensions", &in->dimensions);
    break;
  case HLO_OP_SORT:
    print_dims_attr(out, "dimensions", &in->dimensions);
    if (in->is_stable) hlo_str_printf(out, ", is_stable=true");
    break;
  case HLO_OP_FFT: {
    static const char *const types[] = {"FFT", "IFFT", "RFFT", "IRFFT"};
    hlo_str_printf(out, ", fft_type=%s", types[in->fft_type]);
    print_dims_attr(out, "fft_length", &in->fft_length);
    break;
  }
  case HLO_OP_CHOLESKY:
    if (in->lower) hlo_str_printf(out, ", lower=true");
    break;
  case HLO_OP_TRIANGULAR_SOLVE: {
    static const char *const transposes[] = {"", "NO_TRANSPOSE", "TRANSPOSE", "ADJOINT"};
    if (in->left_side) hlo_str_printf(out, ", left_side=true");
    if (in->lower) hlo_str_printf(out, ", lower=true");
    if (in->unit_diagonal) hlo_str_printf(out, ", unit_diagonal=true");
    if (in->transpose_a) hlo_str_printf(out, ", transpose_a=%s", transposes[in->transpose_a]);
    break;
  }
  case HLO_OP_RNG_BIT_GENERATOR: {
    static const char *const algs[] = {"rng_default", "rng_three_fry", "rng_philox"};
    hlo_str_printf(out, ", algorithm=%s", algs[in->rng_algorithm]);
    break;
  }
  case HLO_OP_RNG: {
    static const char *const dists[] = {"", "rng_uniform", "rng_normal"};
    hlo_str_printf(out, ", distribution=%s", dists[in->rng_distribution]);
    break;
  }
  case HLO_OP_TOPK:
    hlo_str_printf(out, ", k=%lld, largest=%s", (long long)in->topk_k,
                   in->topk_largest ? "true" : "false");
    break;
  case HLO_OP_SLICE: {
    /* Strides are printed for every dimension or, when all are 1, for none. */
    bool strides = false;
    for (int i = 0; in->slice && i < in->shape.rank; i++) strides |= in->slice[i].stride != 1;
    hlo_str_printf(out, ", slice={");
    for (int i = 0; in->slice && i < in->shape.rank; i++) {
      const HloSliceDim *d = &in->slice[i];
      hlo_str_printf(out, "%s[%lld:%lld", i ? ", " : "", (long long)d->start,
                     (long long)d->limit);
      if (strides) hlo_str_printf(out, ":%lld", (long long)d->stride);
      hlo_str_append(out, "]", 1);
    }
    hlo_str_append(out, "}", 1);
    break;
  }
  case HLO_OP_DYNAMIC_SLICE:
    print_dims_attr(out, "dynamic_slice_sizes", &in->dynamic_slice_sizes);
    break;
  case HLO_OP_PAD: {
    bool interior = false;
    for (int i = 0; in->padding && i < in->shape.rank; i++)
      interior |= in->padding[i].interior != 0;
    hlo_str_printf(out, ", padding=");
    for (int i = 0; in->padding && i < in->shape.rank; i++) {
      const HloPadDim *d = &in->padding[i];
      hlo_str_printf(out, "%s%lld_%lld", i ? "x" : "", (long long)d->lo, (long long)d->hi);
      if (interior) hlo_str_printf(out, "_%lld", (long long)d->interior);
    }
    break;
  }
  case HLO_OP_REDUCE_WINDOW:
  case HLO_OP_SELECT_AND_SCATTER:
    if (in->window_rank) print_window(out, in);
    break;
  case HLO_OP_CONVOLUTION:
    if (in->window_rank) print_window(out, in);
    print_dim_labels(out, &in->conv);
    if (in->feature_group_count != 1)
      hlo_str_printf(out, ", feature_group_count=%lld", (long long)in->feature_group_count);
    if (in->batch_group_count != 1)
      hlo_str_printf(out, ", batch_group_count=%lld", (long long)in->batch_group_count);
    break;
  case HLO_OP_DOT:
  case HLO_OP_RAGGED_DOT:
  case HLO_OP_SCALED_DOT:
    print_dims_if_any(out, "lhs_batch_dims", &in->dot.lhs_batch);
    print_dims_attr(out, "lhs_contracting_dims", &in->dot.lhs_contracting);
    print_dims_if_any(out, "rhs_batch_dims", &in->dot.rhs_batch);
    print_dims_attr(out, "rhs_contracting_dims", &in->dot.rhs_contracting);
    if (in->op == HLO_OP_RAGGED_DOT) {
      print_dims_attr(out, "lhs_ragged_dims", &in->dot.lhs_ragged);
      print_dims_if_any(out, "rhs_group_dims", &in->dot.rhs_group);
    }
    break;
  case HLO_OP_GATHER: {
    const HloGatherDims *g = &in->gather;
    print_dims_attr(out, "offset_dims", &g->offset_dims);
    print_dims_attr(out, "collapsed_slice_dims", &g->collapsed_slice_dims);
    print_dims_attr(out, "start_index_map", &g->start_index_map);
    print_dims_if_any(out, "operand_batching_dims", &g->operand_batching_dims);
    print_dims_if_any(out, "start_indices_batching_dims", &g->start_indices_batching_dims);
    hlo_str_printf(out, ", index_vector_dim=%lld", (long long)g->index_vector_dim);
    print_dims_attr(out, "slice_sizes", &g->slice_sizes);
    if (g->indices_are_sorted) hlo_str_printf(out, ", indices_are_sorted=true");
    break;
  }
  case HLO_OP_SCATTER: {
    const HloScatterDims *s = &in->scatter;
    print_dims_attr(out, "update_window_dims", &s->update_window_dims);
    print_dims_attr(out, "inserted_window_dims", &s->inserted_window_dims);
    print_dims_attr(out, "scatter_dims_to_operand_dims", &s->scatter_dims_to_operand_dims);
    print_dims_if_any(out, "input_batching_dims", &s->input_batching_dims);
    print_dims_if_any(out, "scatter_indices_batching_dims", &s->scatter_indices_batching_dims);
    hlo_str_printf(out, ", index_vector_dim=%lld", (long long)s->index_vector_dim);
    if (s->indices_are_sorted) hlo_str_printf(out, ", indices_are_sorted=true");
    if (s->unique_indices) hlo_str_printf(out, ", unique_indices=true");
    break;
  }
  case HLO_OP_FUSION:
    hlo_str_printf(out, ", kind=%s", fusion_kinds[in->fusion_kind]);
    break;
  case HLO_OP_BATCH_NORM_INFERENCE:
  case HLO_OP_BATCH_NORM_TRAINING:
  case HLO_OP_BATCH_NORM_GRAD: {
    uint32_t bits;
    memcpy(&bits, &in->epsilon, 4);
    hlo_str_printf(out, ", epsilon=");
    print_float_bits(out, HLO_F32, bits);
    hlo_str_printf(out, ", feature_index=%lld", (long long)in->feature_index);
    break;
  }
  case HLO_OP_REDUCE_PRECISION:
    hlo_str_printf(out, ", exponent_bits=%lld, mantissa_bits=%lld", (long long)in->exponent_bits,
                   (long long)in->mantissa_bits);
    break;
  case HLO_OP_MAP: {
    /* Always every dimension in order, which is all XLA maps over: its
     * parser ignores the list and its printer writes this one. */
    hlo_str_printf(out, ", dimensions={");
    for (int d = 0; d < in->shape.rank; d++) hlo_str_printf(out, "%s%d", d ? "," : "", d);
    hlo_str_append(out, "}", 1);
    break;
  }
  case HLO_OP_ALL_REDUCE: case HLO_OP_ALL_REDUCE_START: case HLO_OP_COLLECTIVE_BROADCAST:
    print_id_lists(out, "replica_groups", &in->replica_groups, &in->replica_group_sizes, 0);
    break;
  case HLO_OP_ALL_GATHER: case HLO_OP_ALL_GATHER_START: case HLO_OP_REDUCE_SCATTER:
  case HLO_OP_ALL_TO_ALL:
    print_id_lists(out, "replica_groups", &in->replica_groups, &in->replica_group_sizes, 0);
    print_dims_if_any(out, "dimensions", &in->dimensions);
    break;
  case HLO_OP_COLLECTIVE_PERMUTE: case HLO_OP_COLLECTIVE_PERMUTE_START:
    print_id_lists(out, "source_target_pairs", &in->source_target_pairs, NULL, 2);
    break;
  case HLO_OP_CUSTOM_CALL:
    if (in->custom_call_target) {
      hlo_str_printf(out, ", custom_call_target=");
      print_string(out, in->custom_call_target);
    }
    break;
  default:
    break;
  }
}

/* to_apply=, condition=/body=, branches, calls= (XLA prints these after the
 * opcode's own attributes). */
static void print_called(HloStr *out, const HloInstr *in) {
  if (!in->ncalled) return;
  switch (in->op) {
  case HLO_OP_WHILE:
    hlo_str_printf(out, ", condition=");
    print_comp(out, in->called[0]);
    if (in->ncalled > 1) {
      hlo_str_printf(out, ", body=");
      print_comp(out, in->called[1]);
    }
    return;
  case HLO_OP_CONDITIONAL:
    if (in->ncalled == 2 && in->noperands > 0 && in->operands[0]->shape.type == HLO_PRED) {
      hlo_str_printf(out, ", true_computation=");
      print_comp(out, in->called[0]);
      hlo_str_printf(out, ", false_computation=");
      print_comp(out, in->called[1]);
      return;
    }
    hlo_str_printf(out, ", branch_computations={");
    break;
  case HLO_OP_CUSTOM_CALL:
    hlo_str_printf(out, ", called_computations={");
    break;
  case HLO_OP_FUSION: case HLO_OP_ASYNC_START: case HLO_OP_ASYNC_UPDATE: case HLO_OP_ASYNC_DONE:
    hlo_str_printf(out, ", calls=");
    print_comp(out, in->called[0]);
    return;
  case HLO_OP_SELECT_AND_SCATTER:
    hlo_str_printf(out, ", select=");
    print_comp(out, in->called[0]);
    if (in->ncalled > 1) {
      hlo_str_printf(out, ", scatter=");
      print_comp(out, in->called[1]);
    }
    return;
  default:
    hlo_str_printf(out, ", to_apply=");
    print_comp(out, in->called[0]);
    return;
  }
  for (int i = 0; i < in->ncalled; i++) {
    if (i) hlo_str_append(out, ", ", 2);
    print_comp(out, in->called[i]);
  }
  hlo_str_append(out, "}", 1);
}

static void print_metadata(HloStr *out, const HloMetadata *md) {
  if (!md->op_type && !md->op_name && !md->source_file && !md->source_line) return;
  hlo_str_printf(out, ", metadata={");
  const char *sep = "";
  if (md->op_type) {
    hlo_str_printf(out, "op_type=");
    print_string(out, md->op_type);
    sep = " ";
  }
  if (md->op_name) {
    hlo_str_printf(out, "%sop_name=", sep);
    print_string(out, md->op_name);
    sep = " ";
  }
  if (md->source_file) {
    hlo_str_printf(out, "%ssource_file=", sep);
    print_string(out, md->source_file);
    sep = " ";
  }
  if (md->source_line) hlo_str_printf(out, "%ssource_line=%lld", sep, (long long)md->source_line);
  hlo_str_append(out, "}", 1);
}

/* Uninterpreted attributes in the order read; XLA prints backend_config
 * after metadata and everything else before it. */
static void print_raw(HloStr *out, const HloInstr *in, bool backend_config) {
  for (int i = 0; i < in->nraw; i++) {
    bool is_backend_config = strcmp(in->raw[i].name, "backend_config") == 0;
    if (is_backend_config == backend_config)
      hlo_str_printf(out, ", %s=%s", in->raw[i].name, in->raw[i].value);
  }
}

/* ------------------------------------------------------------------------ */
/* Instructions, computations, modules                                      */
/* ------------------------------------------------------------------------ */

/* A shape as XLA prints it: arrays through hlo_shape_print (with layouts)
 * or without layouts (computation signatures); tokens as "token[]"; tuples
 * with an index comment on every fifth element. */
static void print_shape_as(HloStr *out, const HloShape *s, bool layout) {
  if (s->type == HLO_TUPLE) {
    hlo_str_append(out, "(", 1);
    for (int i = 0; i < s->ntuple; i++) {
      if (i) hlo_str_append(out, ", ", 2);
      if (i && i % 5 == 0) hlo_str_printf(out, "/*index=%d*/", i);
      print_shape_as(out, &s->tuple[i], layout);
    }
    hlo_str_append(out, ")", 1);
  } else if (s->type == HLO_TOKEN) {
    hlo_str_append(out, "token[]", 7);
  } else {
    hlo_shape_print_as(out, s, layout);
  }
}

void hlo_print_instr(HloStr *out, const HloInstr *in) {
  hlo_str_printf(out, "%%%s = ", in->name);
  print_shape_as(out, &in->shape, true);
  hlo_str_printf(out, " %s(", hlo_opcode_name(in->op));
  if (in->op == HLO_OP_PARAMETER) {
    hlo_str_printf(out, "%lld", (long long)in->parameter_number);
  } else if (in->op == HLO_OP_CONSTANT) {
    if (in->literal) print_literal(out, in->literal);
    if (in->literal_elided) hlo_str_append(out, "{...}", 5);
  } else {
    for (int i = 0; i < in->noperands; i++) {
      if (i) hlo_str_append(out, ", ", 2);
      /* XLA marks every fifth operand of long lists with its index. */
      if (i && i % 5 == 0) hlo_str_printf(out, "/*index=%d*/", i);
      hlo_str_printf(out, "%%%s", in->operands[i]->name);
    }
  }
  hlo_str_append(out, ")", 1);
  print_opcode_attrs(out, in);
  print_called(out, in);
  print_raw(out, in, false);
  print_metadata(out, &in->metadata);
  print_raw(out, in, true);
}

static void print_computation(HloStr *out, const HloComputation *c) {
  hlo_str_printf(out, "%s%%%s (", c->is_entry ? "ENTRY " : "", c->name);
  const char *sep = "";
  for (int i = 0; i < c->nparams; i++) {
    if (!c->params[i]) continue;
    hlo_str_printf(out, "%s%s: ", sep, c->params[i]->name);
    print_shape_as(out, &c->params[i]->shape, false);
    sep = ", ";
  }
  hlo_str_append(out, ") -> ", 5);
  if (c->root) print_shape_as(out, &c->root->shape, false);
  else hlo_str_append(out, "()", 2);
  hlo_str_append(out, " {\n", 3);
  for (const HloInstr *in = c->first; in; in = in->next) {
    hlo_str_append(out, in == c->root ? "  ROOT " : "  ", in == c->root ? 7 : 2);
    hlo_print_instr(out, in);
    hlo_str_append(out, "\n", 1);
  }
  hlo_str_append(out, "}\n\n", 3);
}

void hlo_print_module(HloStr *out, const HloModule *m) {
  hlo_str_printf(out, "HloModule %s", m->name);
  for (int i = 0; i < m->nraw; i++) hlo_str_printf(out, ", %s=%s", m->raw[i].name, m->raw[i].value);
  /* XLA's spelling: leaf k of a tuple root (of arrays) is {k}, an array root {}. */
  bool tuple = m->entry && m->entry->root && hlo_shape_is_tuple(&m->entry->root->shape);
  for (int i = 0; i < m->nalias; i++) {
    hlo_str_printf(out, "%s", i ? ", " : ", input_output_alias={ ");
    if (tuple) hlo_str_printf(out, "{%d}", m->alias[i].result);
    else hlo_str_append(out, "{}", 2);
    hlo_str_printf(out, ": (%d, {}, must-alias)", m->alias[i].param);
  }
  if (m->nalias) hlo_str_append(out, " }", 2);
  hlo_str_append(out, "\n\n", 2);
  for (const HloComputation *c = m->first; c; c = c->next) print_computation(out, c);
}

char *hlo_module_to_string(const HloModule *m) {
  HloStr s = {0};
  hlo_print_module(&s, m);
  return hlo_str_take(&s);
}
