/*
 * lower_nn.c — TensorFlow's neural-network ops: matrix products (MatMul,
 * BatchMatMul*, Einsum), convolutions, pooling, batch normalisation,
 * softmax, local response normalisation, top-k, image resizing and
 * depth/space/batch rearrangement.
 *
 * Each op becomes the HLO tf2xla would build for it.  Products are one
 * dot whose result (batch dims, then the lhs free dims, then the rhs free
 * dims) is transposed into TensorFlow's order when that differs.
 * Convolutions are one convolution whose dimension numbers name the
 * data_format directly, so NCHW needs no transposes; padding follows
 * TensorFlow's SAME rule (output ceil(in / stride), the odd element of
 * padding at the end).  The 3-D convolution and pools share the 2-D code.
 * Pooling is a reduce-window.  Resizing multiplies
 * by interpolation matrices (bilinear) or gathers rows (nearest) computed
 * here, at compile time, with TensorFlow's own float coordinate arithmetic
 * so the sample positions agree with TensorFlow's bit for bit.
 *
 * SpaceToBatchND and BatchToSpaceND are pad/reshape/transpose/reshape
 * and reshape/transpose/reshape/slice, exact for any block rank.  The
 * chain SpaceToBatchND -> VALID Conv2D/DepthwiseConv2dNative ->
 * BatchToSpaceND that tf.nn.convolution and Keras write for a dilated
 * convolution is also matched when BatchToSpaceND is lowered and becomes
 * one convolution with rhs dilation (the block) over the unshuffled
 * input; the chain's own nodes then feed nothing and dead-code
 * elimination removes them.
 *
 * Assumes static shapes, and inputs that steer shapes (TopKV2's k, the
 * resize size, Conv2DBackpropInput's input_sizes, block shapes, paddings
 * and crops) foldable to constants.
 * Shape disagreements are reported in TensorFlow's terms before HLO shape
 * inference could report them in its own.
 */
#include "lower.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Builders with a sticky error                                             */
/* ------------------------------------------------------------------------ */

/* More of lower.h's sticky-error builders (tf_unary, tf_binary, …), for
 * the shapes of neural-network ops. */

static HloInstr *reshape(TfLower *L, HloInstr *x, int rank, const int64_t *dims, HloError **e) {
  return *e ? NULL : hlo_build_reshape(L->c, x, rank, dims, e);
}

static HloInstr *transpose(TfLower *L, HloInstr *x, const int64_t *perm, HloError **e) {
  return *e ? NULL : hlo_build_transpose(L->c, x, perm, e);
}


/* x broadcast into `shape`, its dim i becoming dim map[i]. */
static HloInstr *broadcast_in_dim(TfLower *L, HloInstr *x, const HloShape *shape,
                                  const int64_t *map, HloError **e) {
  return *e ? NULL : hlo_build_broadcast(L->c, x, shape, map, x->shape.rank, e);
}

/* A rank-1 x laid along dim `dim` of `like`'s shape. */
static HloInstr *broadcast_along(TfLower *L, HloInstr *x, const HloInstr *like, int64_t dim,
                                 HloError **e) {
  if (*e) return NULL;
  HloShape s = hlo_shape_array(x->shape.type, like->shape.rank, like->shape.dims);
  return broadcast_in_dim(L, x, &s, &dim, e);
}

/* Reduces dims[0..n) of x with `op` from the scalar init. */
static HloInstr *reduce(TfLower *L, HloInstr *x, const int64_t *dims, int n, HloOpcode op,
                        double init, HloError **e) {
  if (*e) return NULL;
  HloType t = x->shape.type;
  HloInstr *z = tf_scalar(L, t, init);
  return hlo_build_reduce(L->c, &x, &z, 1, dims, n, hlo_build_scalar_computation(L->m, op, t), e);
}

static HloInstr *dot(TfLower *L, HloInstr *a, HloInstr *b, const int64_t *batch_a,
                     const int64_t *batch_b, int nbatch, const int64_t *contract_a,
                     const int64_t *contract_b, int ncontract, HloType t, HloError **e) {
  if (*e) return NULL;
  HloDotDims d = {
      .lhs_batch = {nbatch, (int64_t *)batch_a},
      .rhs_batch = {nbatch, (int64_t *)batch_b},
      .lhs_contracting = {ncontract, (int64_t *)contract_a},
      .rhs_contracting = {ncontract, (int64_t *)contract_b},
  };
  return hlo_build_dot(L->c, a, b, &d, t, e);
}

/* A constant of `shape` holding v[0..elements). */
static HloInstr *constant(TfLower *L, const HloShape *shape, const double *v) {
  HloLiteral *lit = hlo_literal_new_in(L->m->arena, shape);
  int64_t n = hlo_shape_elements(shape);
  for (int64_t i = 0; i < n; i++) hlo_literal_set_f64(lit, i, v[i]);
  return hlo_constant_new(L->c, lit, NULL);
}

/* Built constants are counted in doubles, as they are built. */
static HloError *check_built_constant(const char *what, int rank, const int64_t *dims) {
  int64_t n;
  if (hlo_dims_product(dims, rank, &n) && n <= TF_MAX_BUILT_CONSTANT_BYTES / 8) return NULL;
  HloShape s = hlo_shape_array(HLO_F64, rank, dims);
  HloStr str = {0};
  hlo_shape_print_as(&str, &s, false);
  HloError *e = hlo_error("%s would be a constant of %s elements built at compile time (at most "
                          "%lld are)",
                          what, str.buf + 3, (long long)(TF_MAX_BUILT_CONSTANT_BYTES / 8));
  free(str.buf);
  return e;
}

/* The lowest value of t: what max-pooling starts from. */
static double lowest(HloType t) {
  switch (t) {
  case HLO_S8: return INT8_MIN;
  case HLO_S16: return INT16_MIN;
  case HLO_S32: return INT32_MIN;
  case HLO_S64: return (double)INT64_MIN;
  case HLO_PRED: case HLO_U8: case HLO_U16: case HLO_U32: case HLO_U64: return 0;
  default: return -INFINITY;
  }
}

/* An error whose format has exactly one %s, which receives s. */
static HloError *shape_error(const char *fmt, const HloShape *s) {
  char *str = hlo_shape_to_string(s);
  HloError *e = hlo_error(fmt, str);
  free(str);
  return e;
}

static HloError *expect_rank(const char *what, const HloInstr *x, int rank) {
  if (x->shape.rank == rank) return NULL;
  char *s = hlo_shape_to_string(&x->shape);
  HloError *e = hlo_error("%s must have rank %d, has shape %s", what, rank, s);
  free(s);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Attributes shared by the windowed ops                                    */
/* ------------------------------------------------------------------------ */

/* Where batch, feature and spatial dims sit for a data_format. */
typedef struct Layout {
  int batch, feature;
  int nspatial;
  int64_t spatial[HLO_MAX_RANK];
} Layout;

/* data_format (default NHWC) for a rank-`rank` tensor; BiasAdd and the
 * batch norms apply NHWC/NCHW to any rank as "channels last/second". */
static HloError *layout_attr(const TfNode *n, int rank, Layout *lay) {
  const char *f = "NHWC";
  if (tf_attr_find(n, "data_format")) {
    HloError *e = tf_attr_string(n, "data_format", &f);
    if (e) return e;
  }
  /* The 3-D ops spell the same two layouts NDHWC and NCDHW. */
  bool last = !strcmp(f, "NHWC") || !strcmp(f, "NDHWC");
  if (!last && strcmp(f, "NCHW") && strcmp(f, "NCDHW"))
    return hlo_error("data_format '%s' is not supported (%s)", f,
                     rank == 5 ? "NDHWC or NCDHW" : "NHWC or NCHW");
  lay->batch = 0;
  lay->feature = last ? rank - 1 : 1;
  lay->nspatial = rank - 2;
  for (int i = 0; i < lay->nspatial; i++) lay->spatial[i] = last ? 1 + i : 2 + i;
  return NULL;
}

/* An int-list attribute of exactly `count` entries, each >= min, or all
 * `dflt` when the node does not have it. */
/* Window sizes, strides, dilations and paddings above this are refused
 * (TensorFlow's kernels keep them in int), so two of them multiply and a
 * few add without overflow. */
#define WINDOW_ATTR_MAX INT64_C(2147483647)

static HloError *ints_attr(const TfNode *n, const char *name, int count, int64_t dflt,
                           int64_t min, int64_t *out) {
  if (!tf_attr_find(n, name)) {
    for (int i = 0; i < count; i++) out[i] = dflt;
    return NULL;
  }
  const int64_t *v;
  int k;
  HloError *e = tf_attr_int_list(n, name, &v, &k);
  if (e) return e;
  if (k != count) return hlo_error("attribute '%s' has %d entries, expected %d", name, k, count);
  for (int i = 0; i < count; i++) {
    if (v[i] < min)
      return hlo_error("attribute '%s' has entry %lld, expected >= %lld", name, (long long)v[i],
                       (long long)min);
    if (v[i] > WINDOW_ATTR_MAX)
      return hlo_error("attribute '%s' has entry %lld, expected <= %lld", name, (long long)v[i],
                       (long long)WINDOW_ATTR_MAX);
    out[i] = v[i];
  }
  return NULL;
}

typedef enum Padding { PAD_VALID, PAD_SAME, PAD_EXPLICIT } Padding;

static HloError *padding_attr(const TfNode *n, bool explicit_ok, Padding *out) {
  const char *p;
  HloError *e = tf_attr_string(n, "padding", &p);
  if (e) return e;
  if (!strcmp(p, "VALID")) *out = PAD_VALID;
  else if (!strcmp(p, "SAME")) *out = PAD_SAME;
  else if (!strcmp(p, "EXPLICIT") && explicit_ok) *out = PAD_EXPLICIT;
  else return hlo_error("padding '%s' is not supported (SAME or VALID%s)", p,
                        explicit_ok ? " or EXPLICIT" : "");
  return NULL;
}

/* TensorFlow's SAME padding of one dim: the output has ceil(in / stride)
 * elements and the window (of effective size `window`) is centred, the odd
 * element of padding going at the end. */
static bool same_padding(int64_t in, int64_t window, int64_t stride, int64_t *lo, int64_t *hi) {
  int64_t out = in / stride + (in % stride != 0), total;
  if (!hlo_mul_ok(out > 0 ? out - 1 : 0, stride, &total) || !hlo_add_ok(total, window, &total))
    return false;
  total -= in;
  if (total < 0) total = 0;
  *lo = total / 2;
  *hi = total - *lo;
  return true;
}

/* (size - 1) * dilation + 1: the extent of a dilated window. */
static bool window_extent(int64_t size, int64_t dilation, int64_t *extent) {
  return hlo_mul_ok(size - 1, dilation, extent) && hlo_add_ok(*extent, 1, extent);
}

/* The spatial window of Conv2D and its kin: kernel sizes ksize[i] per
 * spatial dim of `lay`, strides and dilations from the attributes (given
 * per dim of the data_format, 1 in the batch and depth dims), padding
 * SAME, VALID or EXPLICIT, all applied to input x. */
static HloError *conv_window(const TfNode *n, const HloShape *x, const Layout *lay,
                             const int64_t *ksize, HloWindowDim *w, Padding *padding) {
  int rank = x->rank;
  int64_t strides[HLO_MAX_RANK], dil[HLO_MAX_RANK], pads[2 * HLO_MAX_RANK];
  HloError *e = ints_attr(n, "strides", rank, 1, 1, strides);
  if (!e) e = ints_attr(n, "dilations", rank, 1, 1, dil);
  if (!e) e = padding_attr(n, true, padding);
  if (!e && *padding == PAD_EXPLICIT) e = ints_attr(n, "explicit_paddings", 2 * rank, 0, 0, pads);
  if (e) return e;
  if (strides[lay->batch] != 1 || strides[lay->feature] != 1 || dil[lay->batch] != 1 ||
      dil[lay->feature] != 1)
    return hlo_error("strides and dilations in the batch and depth dimensions must be 1");
  for (int i = 0; i < lay->nspatial; i++) {
    int64_t d = lay->spatial[i];
    HloWindowDim *wi = &w[i];
    *wi = (HloWindowDim){.size = ksize[i], .stride = strides[d], .rhs_dilate = dil[d],
                         .lhs_dilate = 1};
    if (*padding == PAD_EXPLICIT) {
      wi->pad_lo = pads[2 * d];
      wi->pad_hi = pads[2 * d + 1];
    } else if (*padding == PAD_SAME) {
      int64_t extent;
      if (!window_extent(ksize[i], dil[d], &extent) ||
          !same_padding(x->dims[d], extent, strides[d], &wi->pad_lo, &wi->pad_hi))
        return hlo_error("the window of size %lld, dilation %lld and stride %lld over %lld "
                         "elements overflows", (long long)ksize[i], (long long)dil[d],
                         (long long)strides[d], (long long)x->dims[d]);
    }
  }
  return NULL;
}

/* Dimension numbers for an input and output laid out as `lay` and an HWIO
 * kernel (spatial dims first, then in, out). */
static HloConvDims conv_dims(const Layout *lay, int64_t k_in, int64_t k_out) {
  HloConvDims d = {.nspatial = lay->nspatial,
                   .in_batch = lay->batch, .in_feature = lay->feature,
                   .k_in_feature = k_in, .k_out_feature = k_out,
                   .out_batch = lay->batch, .out_feature = lay->feature};
  for (int i = 0; i < lay->nspatial; i++) {
    d.in_spatial[i] = d.out_spatial[i] = lay->spatial[i];
    d.k_spatial[i] = i;
  }
  return d;
}

/* ------------------------------------------------------------------------ */
/* Matrix products                                                          */
/* ------------------------------------------------------------------------ */

/* x[..., r, c] times y[..., r, c] over their last two dims, each
 * transposed first when adj_*; the batch dims broadcast (numpy rules) when
 * `broadcast`, else must agree. */
static HloError *batch_dot(TfLower *L, HloInstr *x, HloInstr *y, bool adj_x, bool adj_y,
                           bool broadcast, HloType t, HloInstr **out) {
  const HloShape *sx = &x->shape, *sy = &y->shape;
  if (sx->rank < 2 || sy->rank < 2) {
    char *a = hlo_shape_to_string(sx), *b = hlo_shape_to_string(sy);
    HloError *e = hlo_error("operands must have rank >= 2, have shapes %s and %s", a, b);
    free(a);
    free(b);
    return e;
  }
  int nb = (sx->rank > sy->rank ? sx->rank : sy->rank) - 2;
  if (!broadcast && sx->rank != sy->rank)
    return hlo_error("operands must have equal ranks, have %d and %d", sx->rank, sy->rank);
  int64_t batch[HLO_MAX_RANK];
  for (int i = 0; i < nb; i++) {
    int ix = i - (nb - (sx->rank - 2)), iy = i - (nb - (sy->rank - 2));
    int64_t dx = ix >= 0 ? sx->dims[ix] : 1, dy = iy >= 0 ? sy->dims[iy] : 1;
    if (dx != dy && (!broadcast || (dx != 1 && dy != 1))) {
      char *a = hlo_shape_to_string(sx), *b = hlo_shape_to_string(sy);
      HloError *e = hlo_error("batch dimensions of %s and %s do not %s", a, b,
                              broadcast ? "broadcast" : "agree");
      free(a);
      free(b);
      return e;
    }
    batch[i] = dx == 1 ? dy : dx;
  }
  HloError *e = NULL;
  int64_t dims[HLO_MAX_RANK];
  memcpy(dims, batch, sizeof(int64_t) * (size_t)nb);
  dims[nb] = sx->dims[sx->rank - 2];
  dims[nb + 1] = sx->dims[sx->rank - 1];
  if ((e = tf_broadcast_to(L, x, nb + 2, dims, &x))) return e;
  dims[nb] = sy->dims[sy->rank - 2];
  dims[nb + 1] = sy->dims[sy->rank - 1];
  if ((e = tf_broadcast_to(L, y, nb + 2, dims, &y))) return e;
  x = tf_converted(L, x, t, &e);
  y = tf_converted(L, y, t, &e);
  int64_t bdims[HLO_MAX_RANK];
  for (int i = 0; i < nb; i++) bdims[i] = i;
  int64_t cx = adj_x ? nb : nb + 1, cy = adj_y ? nb + 1 : nb;
  *out = dot(L, x, y, bdims, bdims, nb, &cx, &cy, 1, t, &e);
  return e;
}

static HloError *lower_matmul(TfLower *L, const TfNode *n) {
  HloInstr *a, *b, *r;
  bool ta, tb;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &a);
  if (!e) e = tf_input(L, n, 1, &b);
  if (!e) e = tf_attr_bool_or(n, "transpose_a", false, &ta);
  if (!e) e = tf_attr_bool_or(n, "transpose_b", false, &tb);
  if (!e) e = expect_rank("input 'a'", a, 2);
  if (!e) e = expect_rank("input 'b'", b, 2);
  if (!e) e = batch_dot(L, a, b, ta, tb, false, a->shape.type, &r);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* BatchMatMul (equal batch dims), V2 (broadcast), V3 (broadcast, result
 * type Tout). */
static HloError *lower_batch_matmul(TfLower *L, const TfNode *n) {
  HloInstr *x, *y, *r;
  bool adj_x, adj_y;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &y);
  if (!e) e = tf_attr_bool_or(n, "adj_x", false, &adj_x);
  if (!e) e = tf_attr_bool_or(n, "adj_y", false, &adj_y);
  if (e) return e;
  HloType t;
  if ((e = tf_attr_hlo_type_or(n, "Tout", x->shape.type, &t))) return e;
  e = batch_dot(L, x, y, adj_x, adj_y, strcmp(n->op, "BatchMatMul") != 0, t, &r);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* --- Einsum ----------------------------------------------------------------- */

/* Labels are letters (their character codes) and, for the dims an
 * ellipsis covers, ELLIPSIS + k where k counts the broadcast dims from the
 * left of the widest ellipsis; operands with fewer such dims take the
 * rightmost ones, as numpy aligns them. */
enum { ELLIPSIS = 256 };

typedef struct Subscripts {
  int n;                    /* labels */
  int label[HLO_MAX_RANK];
  bool has_ellipsis;
  int ellipsis_at;          /* position of "..." among the letters */
} Subscripts;

static HloError *parse_subscripts(const char *eq, const char *s, size_t len, const char *what,
                                  Subscripts *out) {
  *out = (Subscripts){0};
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (out->has_ellipsis || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
        return hlo_error("equation '%s': %s has a stray '.' or more than one ellipsis", eq,
                         what);
      out->has_ellipsis = true;
      out->ellipsis_at = out->n;
      i += 2;
    } else if (('a' <= s[i] && s[i] <= 'z') || ('A' <= s[i] && s[i] <= 'Z')) {
      if (out->n == HLO_MAX_RANK)
        return hlo_error("equation '%s': %s has too many labels", eq, what);
      out->label[out->n++] = (unsigned char)s[i];
    } else if (s[i] != ' ') {
      return hlo_error("equation '%s': %s has invalid character '%c'", eq, what, s[i]);
    }
  }
  return NULL;
}

/* Replaces the ellipsis of `sub` by `nell` labels for an operand whose
 * ellipsis spans the last `nell` of `width` broadcast dims. */
static HloError *expand_ellipsis(const char *eq, Subscripts *sub, int nell, int width) {
  if (!sub->has_ellipsis) return NULL;
  if (sub->n + nell > HLO_MAX_RANK) return hlo_error("equation '%s': too many dimensions", eq);
  int at = sub->ellipsis_at;
  memmove(&sub->label[at + nell], &sub->label[at], sizeof(int) * (size_t)(sub->n - at));
  for (int k = 0; k < nell; k++) sub->label[at + k] = ELLIPSIS + width - nell + k;
  sub->n += nell;
  return NULL;
}

static int find_label(const Subscripts *s, int label) {
  for (int i = 0; i < s->n; i++)
    if (s->label[i] == label) return i;
  return -1;
}

static void label_name(int label, char *buf) {
  if (label >= ELLIPSIS) snprintf(buf, 16, "...[%d]", label - ELLIPSIS);
  else snprintf(buf, 16, "%c", label);
}

/* Parses "in0[,in1][->out]" against the operands' ranks; the implicit form
 * (no "->") outputs the ellipsis dims then the labels used once, sorted. */
static HloError *parse_equation(const char *eq, int nops, const int *ranks, Subscripts *in,
                                Subscripts *out) {
  const char *arrow = strstr(eq, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
  int nin = 1;
  for (size_t i = 0; i < lhs_len; i++) nin += eq[i] == ',';
  if (nin != nops)
    return hlo_error("equation '%s' names %d operand(s) but the node has %d input(s)", eq, nin,
                     nops);
  const char *p = eq;
  int width = 0;
  for (int k = 0; k < nops; k++) {
    const char *end = memchr(p, ',', lhs_len - (size_t)(p - eq));
    if (!end) end = eq + lhs_len;
    char what[32];
    snprintf(what, sizeof what, "operand %d", k);
    HloError *e = parse_subscripts(eq, p, (size_t)(end - p), what, &in[k]);
    if (e) return e;
    int nell = ranks[k] - in[k].n;
    if (nell < 0 || (nell > 0 && !in[k].has_ellipsis))
      return hlo_error("equation '%s': operand %d has rank %d but its subscripts name %d "
                       "dimension(s)",
                       eq, k, ranks[k], in[k].n);
    if (nell > width) width = nell;
    p = end + 1;
  }
  for (int k = 0; k < nops; k++) {
    HloError *e = expand_ellipsis(eq, &in[k], ranks[k] - in[k].n, width);
    if (e) return e;
  }
  if (arrow) {
    HloError *e = parse_subscripts(eq, arrow + 2, strlen(arrow + 2), "the output", out);
    if (!e) e = expand_ellipsis(eq, out, width, width);
    if (e) return e;
  } else {
    *out = (Subscripts){0};
    for (int k = 0; k < width; k++) out->label[out->n++] = ELLIPSIS + k;
    /* Occurrences, not operands: "ii" is a trace, as numpy reads it. */
    for (int c = 'A'; c <= 'z'; c++) {
      int uses = 0;
      for (int k = 0; k < nops; k++)
        for (int i = 0; i < in[k].n; i++) uses += in[k].label[i] == c;
      if (uses == 1) out->label[out->n++] = c;
    }
  }
  for (int i = 0; i < out->n; i++) {
    char b[16];
    label_name(out->label[i], b);
    bool found = false;
    for (int k = 0; k < nops; k++) found |= find_label(&in[k], out->label[i]) >= 0;
    if (!found)
      return hlo_error("equation '%s': output label '%s' appears in no operand", eq, b);
    for (int j = 0; j < i; j++)
      if (out->label[j] == out->label[i])
        return hlo_error("equation '%s': output label '%s' repeats", eq, b);
  }
  return NULL;
}

/* Takes the diagonal of every label that repeats in operand k's
 * subscripts `s` (numpy's "ii->i"), leaving each label once in s.  The
 * two dims of a repeated label are moved last and merged, and a slice of
 * stride size + 1 picks the diagonal: exact, with no arithmetic that could
 * turn -0 into +0 or let an off-diagonal NaN in. */
static HloInstr *take_diagonals(TfLower *L, HloInstr *x, Subscripts *s, const char *eq, int k,
                                HloError **e) {
  for (;;) {
    if (*e) return NULL;
    int i = -1, j = -1;
    for (int b = 0; b < s->n && i < 0; b++)
      for (int a = 0; a < b; a++)
        if (s->label[a] == s->label[b]) {
          i = a;
          j = b;
          break;
        }
    if (i < 0) return x;
    const int64_t *d = x->shape.dims;
    if (d[i] != d[j]) {
      char l[16];
      label_name(s->label[i], l);
      *e = hlo_error("equation '%s': label '%s' repeats in operand %d with sizes %lld and %lld",
                     eq, l, k, (long long)d[i], (long long)d[j]);
      return NULL;
    }
    /* Merging the two dims must not overflow (only an empty operand
     * could have such dims). */
    if (d[i] > INT64_C(1) << 31) {
      *e = hlo_error("equation '%s': operand %d's diagonal of size %lld is too large", eq, k,
                     (long long)d[i]);
      return NULL;
    }
    int64_t size = d[i], perm[HLO_MAX_RANK], dims[HLO_MAX_RANK];
    int label[HLO_MAX_RANK], r = 0;
    for (int a = 0; a < s->n; a++)
      if (a != i && a != j) {
        perm[r] = a;
        dims[r] = d[a];
        label[r++] = s->label[a];
      }
    perm[r] = i;
    perm[r + 1] = j;
    label[r] = s->label[i];
    dims[r] = size * size;
    x = transpose(L, x, perm, e);
    x = reshape(L, x, r + 1, dims, e);
    if (*e) return NULL;
    HloSliceDim sl[HLO_MAX_RANK];
    for (int a = 0; a <= r; a++) sl[a] = (HloSliceDim){0, dims[a], 1};
    sl[r].stride = size + 1;
    x = hlo_build_slice(L->c, x, sl, e);
    memcpy(s->label, label, sizeof(int) * (size_t)(r + 1));
    s->n = r + 1;
  }
}

/* Sums x over the labels of `s` that `keep` (and `keep2`, when given)
 * lack, removing them from s. */
static HloInstr *sum_unused(TfLower *L, HloInstr *x, Subscripts *s, const Subscripts *keep,
                            const Subscripts *keep2, HloError **e) {
  int64_t dims[HLO_MAX_RANK];
  int nd = 0, w = 0;
  for (int i = 0; i < s->n; i++) {
    int l = s->label[i];
    if (find_label(keep, l) < 0 && (!keep2 || find_label(keep2, l) < 0)) dims[nd++] = i;
    else s->label[w++] = l;
  }
  s->n = w;
  return nd ? reduce(L, x, dims, nd, HLO_OP_ADD, 0, e) : x;
}

/* x, whose dims carry the labels `have`, transposed into `want`'s order. */
static HloInstr *to_order(TfLower *L, HloInstr *x, const int *have, const Subscripts *want,
                          HloError **e) {
  int64_t perm[HLO_MAX_RANK];
  bool identity = true;
  for (int i = 0; i < want->n; i++) {
    for (int j = 0; j < want->n; j++)
      if (have[j] == want->label[i]) perm[i] = j;
    identity &= perm[i] == i;
  }
  return identity ? x : transpose(L, x, perm, e);
}

static HloError *lower_einsum(TfLower *L, const TfNode *n) {
  const char *eq;
  HloError *e = tf_attr_string(n, "equation", &eq);
  if (e) return e;
  if (n->ninputs < 1 || n->ninputs > 2)
    return hlo_error("einsum of %d operands is not supported (1 or 2)", n->ninputs);
  HloInstr *x[2];
  int ranks[2];
  for (int k = 0; k < n->ninputs; k++) {
    if ((e = tf_input(L, n, k, &x[k]))) return e;
    ranks[k] = x[k]->shape.rank;
  }
  Subscripts in[2], out;
  if ((e = parse_equation(eq, n->ninputs, ranks, in, &out))) return e;
  for (int k = 0; k < n->ninputs; k++) x[k] = take_diagonals(L, x[k], &in[k], eq, k, &e);
  if (e) return e;
  HloType t = x[0]->shape.type;
  HloInstr *r;
  if (n->ninputs == 1) {
    r = sum_unused(L, x[0], &in[0], &out, NULL, &e);
    r = to_order(L, r, in[0].label, &out, &e);
    if (!e) tf_set_output(L, n, 0, r);
    return e;
  }
  /* A label the other operand and the output lack is summed out first. */
  Subscripts *a = &in[0], *b = &in[1];
  HloInstr *xa = sum_unused(L, x[0], a, b, &out, &e);
  HloInstr *xb = sum_unused(L, x[1], b, a, &out, &e);
  if (e) return e;
  /* Shared labels of size 1 on one side broadcast to the other's size. */
  int64_t da[HLO_MAX_RANK], db[HLO_MAX_RANK];
  memcpy(da, xa->shape.dims, sizeof(int64_t) * (size_t)a->n);
  memcpy(db, xb->shape.dims, sizeof(int64_t) * (size_t)b->n);
  for (int i = 0; i < a->n; i++) {
    int j = find_label(b, a->label[i]);
    if (j < 0 || da[i] == db[j]) continue;
    if (da[i] != 1 && db[j] != 1) {
      char l[16];
      label_name(a->label[i], l);
      return hlo_error("equation '%s': label '%s' has size %lld in operand 0 and %lld in "
                       "operand 1",
                       eq, l, (long long)da[i], (long long)db[j]);
    }
    da[i] = db[j] = da[i] == 1 ? db[j] : da[i];
  }
  if ((e = tf_broadcast_to(L, xa, a->n, da, &xa))) return e;
  if ((e = tf_broadcast_to(L, xb, b->n, db, &xb))) return e;
  /* dot: batch = shared and kept, contracting = shared and dropped. */
  int64_t ba[HLO_MAX_RANK], bb[HLO_MAX_RANK], ca[HLO_MAX_RANK], cb[HLO_MAX_RANK];
  int nbatch = 0, ncontract = 0, result[HLO_MAX_RANK], nres = 0;
  for (int i = 0; i < a->n; i++) {
    int j = find_label(b, a->label[i]);
    if (j < 0) continue;
    if (find_label(&out, a->label[i]) >= 0) {
      ba[nbatch] = i;
      bb[nbatch++] = j;
      result[nres++] = a->label[i];
    } else {
      ca[ncontract] = i;
      cb[ncontract++] = j;
    }
  }
  for (int i = 0; i < a->n; i++)
    if (find_label(b, a->label[i]) < 0) result[nres++] = a->label[i];
  for (int j = 0; j < b->n; j++)
    if (find_label(a, b->label[j]) < 0) result[nres++] = b->label[j];
  r = dot(L, xa, xb, ba, bb, nbatch, ca, cb, ncontract, t, &e);
  r = to_order(L, r, result, &out, &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Bias, convolutions                                                       */
/* ------------------------------------------------------------------------ */

static HloError *lower_bias_add(TfLower *L, const TfNode *n) {
  HloInstr *x, *b;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &b);
  if (e) return e;
  if (x->shape.rank < 2) return shape_error("value must have rank >= 2, has shape %s", &x->shape);
  Layout lay = {.feature = x->shape.rank - 1};
  if (strcmp(n->op, "BiasAddV1") && (e = layout_attr(n, x->shape.rank, &lay))) return e;
  if (b->shape.rank != 1 || b->shape.dims[0] != x->shape.dims[lay.feature]) {
    char *xs = hlo_shape_to_string(&x->shape), *bs = hlo_shape_to_string(&b->shape);
    e = hlo_error("bias %s does not match dimension %d of value %s", bs, lay.feature, xs);
    free(xs);
    free(bs);
    return e;
  }
  HloInstr *r = tf_binary(L, HLO_OP_ADD, x, broadcast_along(L, b, x, lay.feature, &e), &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* The filter of Conv2D, Conv3D or DepthwiseConv2dNative applied to input
 * x (depth along lay->feature), as an HLO kernel whose spatial dims come
 * first, then in, out, and the feature group count.  Conv2D and Conv3D
 * are grouped when the input depth is a multiple of the filter's;
 * DepthwiseConv2dNative has one group per input channel, the [H, W, C, M]
 * filter read as [H, W, 1, C*M]: output channel c*M + m belongs to group
 * c, TensorFlow's order. */
static HloError *conv_filter(TfLower *L, const TfNode *n, const HloInstr *x, const Layout *lay,
                             HloInstr **w, int64_t *groups) {
  const int64_t *wd = (*w)->shape.dims;
  int ns = lay->nspatial;
  int64_t depth = x->shape.dims[lay->feature], in = wd[ns], out = wd[ns + 1];
  HloError *e = NULL;
  if (!strcmp(n->op, "DepthwiseConv2dNative")) {
    if (in != depth)
      return hlo_error("filter's input depth %lld differs from the input depth %lld",
                       (long long)in, (long long)depth);
    int64_t dims[4] = {wd[0], wd[1], 1, in * out};
    *w = reshape(L, *w, 4, dims, &e);
    *groups = depth;
    return e;
  }
  if (in == 0 || depth % in)
    return hlo_error("input depth %lld is not a multiple of the filter's input depth %lld",
                     (long long)depth, (long long)in);
  /* 0 groups: nothing to convolve, and the group count divides below. */
  if (depth == 0) return hlo_error("input depth is 0: there are no channels to convolve");
  *groups = depth / in;
  if (out % *groups)
    return hlo_error("filter's output depth %lld is not a multiple of the group count %lld",
                     (long long)out, (long long)*groups);
  return NULL;
}

/* Conv2D, Conv3D and DepthwiseConv2dNative: one convolution. */
static HloError *lower_conv(TfLower *L, const TfNode *n) {
  int rank = !strcmp(n->op, "Conv3D") ? 5 : 4;
  HloInstr *x, *w;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &w);
  if (!e) e = expect_rank("input", x, rank);
  if (!e) e = expect_rank("filter", w, rank);
  Layout lay;
  if (!e) e = layout_attr(n, rank, &lay);
  if (e) return e;
  int64_t ksize[HLO_MAX_RANK], groups;
  memcpy(ksize, w->shape.dims, sizeof(int64_t) * (size_t)lay.nspatial);
  if ((e = conv_filter(L, n, x, &lay, &w, &groups))) return e;
  HloWindowDim win[3];
  Padding pad;
  if ((e = conv_window(n, &x->shape, &lay, ksize, win, &pad))) return e;
  HloConvDims d = conv_dims(&lay, lay.nspatial, lay.nspatial + 1);
  HloInstr *r = hlo_build_convolution(L->c, x, w, win, &d, groups, 1, x->shape.type, &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* The gradient of Conv2D with respect to its input: a convolution of
 * out_backprop, dilated by the stride, with the spatially reversed filter
 * whose in/out roles swap, padded so every input position sees exactly the
 * outputs its forward window touched (tf2xla's ConvBackpropInput). */
static HloError *lower_conv2d_backprop_input(TfLower *L, const TfNode *n) {
  HloInstr *w, *dy;
  int64_t *sizes;
  int nsizes;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input_ints(L, n, 0, &sizes, &nsizes);
  if (!e) e = tf_input(L, n, 1, &w);
  if (!e) e = tf_input(L, n, 2, &dy);
  if (!e) e = expect_rank("filter", w, 4);
  if (!e) e = expect_rank("out_backprop", dy, 4);
  Layout lay;
  if (!e) e = layout_attr(n, 4, &lay);
  if (e) return e;
  const int64_t *wd = w->shape.dims;
  int64_t in[4];
  if (nsizes == 4) {
    memcpy(in, sizes, sizeof in);
  } else if (nsizes == 2) {
    in[lay.batch] = dy->shape.dims[lay.batch];
    in[lay.feature] = wd[2];
    in[lay.spatial[0]] = sizes[0];
    in[lay.spatial[1]] = sizes[1];
  } else {
    return hlo_error("input_sizes has %d entries, expected 4 (or 2 spatial sizes)", nsizes);
  }
  for (int d = 0; d < 4; d++)
    if (in[d] < 0) return hlo_error("input_sizes holds the negative size %lld", (long long)in[d]);
  if (in[lay.feature] != wd[2])
    return hlo_error("input depth %lld differs from the filter's input depth %lld (grouped "
                     "convolutions are not supported here)",
                     (long long)in[lay.feature], (long long)wd[2]);
  HloShape in_shape = hlo_shape_array(dy->shape.type, 4, in);
  HloWindowDim win[2];
  Padding pad;
  if ((e = conv_window(n, &in_shape, &lay, wd, win, &pad))) return e;
  for (int i = 0; i < 2; i++) {
    HloWindowDim *wi = &win[i];
    int64_t eff, expanded, dy_size = dy->shape.dims[lay.spatial[i]];
    /* Every term is below 2^62 once these hold (sizes are at most 2^40). */
    if (!window_extent(wi->size, wi->rhs_dilate, &eff) ||
        !window_extent(dy_size > 0 ? dy_size : 1, wi->stride, &expanded) ||
        eff > INT64_C(1) << 61 || expanded > INT64_C(1) << 61)
      return hlo_error("the window of size %lld, dilation %lld and stride %lld over %lld "
                       "elements overflows", (long long)wi->size, (long long)wi->rhs_dilate,
                       (long long)wi->stride, (long long)dy_size);
    if (dy_size == 0) expanded = 1 - wi->stride;
    int64_t lo = eff - 1 - wi->pad_lo;
    wi->pad_hi = in[lay.spatial[i]] + eff - 1 - expanded - lo;
    wi->pad_lo = lo;
    wi->lhs_dilate = wi->stride;
    wi->stride = 1;
  }
  int64_t spatial[2] = {0, 1};
  HloInstr *rev = hlo_build_reverse(L->c, w, spatial, 2, &e);
  if (!rev) return e;
  HloConvDims d = conv_dims(&lay, 3, 2);
  HloInstr *r = hlo_build_convolution(L->c, dy, rev, win, &d, 1, 1, dy->shape.type, &e);
  if (!r) return e;
  if (!hlo_shape_same_dims(&r->shape, &in_shape)) {
    char *got = hlo_shape_to_string(&r->shape), *want = hlo_shape_to_string(&in_shape);
    e = hlo_error("out_backprop's shape does not fit input_sizes: the gradient would be %s, "
                  "input_sizes say %s",
                  got, want);
    free(got);
    free(want);
    return e;
  }
  tf_set_output(L, n, 0, r);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Pooling                                                                  */
/* ------------------------------------------------------------------------ */

/* MaxPool, MaxPoolV2 (ksize and strides as inputs 1 and 2), AvgPool and
 * their 3-D forms MaxPool3D, AvgPool3D: a reduce-window over every dim
 * with TensorFlow's padding.  Max pads with
 * the lowest value; AvgPool divides each window's sum by the number of
 * input elements it covers, so SAME windows at the border average only
 * what lies inside the image, as TensorFlow does. */
static HloError *lower_pool(TfLower *L, const TfNode *n) {
  bool is_max = strncmp(n->op, "MaxPool", 7) == 0, v2 = !strcmp(n->op, "MaxPoolV2");
  int rank = strstr(n->op, "3D") ? 5 : 4;
  HloInstr *x;
  HloError *e = tf_expect_inputs(n, v2 ? 3 : 1, v2 ? 3 : 1);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = expect_rank("input", x, rank);
  Layout lay;
  if (!e) e = layout_attr(n, rank, &lay);
  int64_t ksize[5], strides[5];
  if (!e && v2) {
    int64_t *kv, *sv;
    int nk, ns;
    e = tf_input_ints(L, n, 1, &kv, &nk);
    if (!e) e = tf_input_ints(L, n, 2, &sv, &ns);
    if (!e && (nk != 4 || ns != 4)) e = hlo_error("ksize and strides must have 4 entries");
    for (int d = 0; d < 4 && !e; d++) {
      if (kv[d] < 1 || sv[d] < 1) e = hlo_error("ksize and strides must be positive");
      else if (kv[d] > WINDOW_ATTR_MAX || sv[d] > WINDOW_ATTR_MAX)
        e = hlo_error("ksize and strides must be at most %lld", (long long)WINDOW_ATTR_MAX);
      ksize[d] = kv[d];
      strides[d] = sv[d];
    }
  } else if (!e) {
    e = ints_attr(n, "ksize", rank, 1, 1, ksize);
    if (!e) e = ints_attr(n, "strides", rank, 1, 1, strides);
  }
  Padding pad = PAD_VALID;
  if (!e) e = padding_attr(n, false, &pad);
  if (e) return e;
  const HloShape *s = &x->shape;
  HloType t = s->type;
  HloWindowDim win[5];
  for (int d = 0; d < rank; d++) {
    win[d] = (HloWindowDim){.size = ksize[d], .stride = strides[d]};
    /* Cannot overflow: each factor is below 2^41. */
    if (pad == PAD_SAME) {
      bool ok = same_padding(s->dims[d], ksize[d], strides[d], &win[d].pad_lo, &win[d].pad_hi);
      HLO_CHECK(ok);
    }
  }
  HloOpcode op = is_max ? HLO_OP_MAXIMUM : HLO_OP_ADD;
  HloInstr *init = tf_scalar(L, t, is_max ? lowest(t) : 0);
  HloInstr *r = hlo_build_reduce_window(L->c, &x, &init, 1, win,
                                        hlo_build_scalar_computation(L->m, op, t), &e);
  if (!e && !is_max) {
    /* The number of input elements under each window: ksize in unpadded
     * dims, the window's overlap with [0, in) in padded ones.  A constant
     * over the padded dims, broadcast along the others. */
    int64_t pd[5], cdims[5];
    int np = 0;
    double fixed = 1;
    for (int d = 0; d < rank; d++) {
      if (win[d].pad_lo || win[d].pad_hi) {
        pd[np] = d;
        cdims[np++] = r->shape.dims[d];
      } else {
        fixed *= (double)ksize[d];
      }
    }
    if ((e = check_built_constant("the window sizes to divide by", np, cdims))) return e;
    HloShape cs = hlo_shape_array(t, np, cdims);
    int64_t total = hlo_shape_elements(&cs);
    double *v = hlo_xmalloc(sizeof(double) * (size_t)total);
    for (int64_t i = 0; i < total; i++) {
      int64_t rest = i;
      v[i] = fixed;
      for (int k = np - 1; k >= 0; k--) {
        int64_t d = pd[k], o = rest % cdims[k];
        rest /= cdims[k];
        int64_t lo = o * strides[d] - win[d].pad_lo, hi = lo + ksize[d];
        v[i] *= (double)((hi < s->dims[d] ? hi : s->dims[d]) - (lo > 0 ? lo : 0));
      }
    }
    HloInstr *count = constant(L, &cs, v);
    free(v);
    count = broadcast_in_dim(L, count, &r->shape, pd, &e);
    r = tf_binary(L, HLO_OP_DIVIDE, r, count, &e);
  }
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Normalisation, softmax                                                   */
/* ------------------------------------------------------------------------ */

/* Inference batch norm, in the order TensorFlow's CPU kernel computes it:
 * factor = rsqrt(variance + epsilon) * scale, y = (x - mean) * factor +
 * offset, in the type of scale (f32 for f16 inputs). */
static HloError *lower_fused_batch_norm(TfLower *L, const TfNode *n) {
  HloInstr *x, *p[4];
  HloError *e = tf_expect_inputs(n, 5, 5);
  if (!e) e = tf_input(L, n, 0, &x);
  for (int i = 0; i < 4 && !e; i++) e = tf_input(L, n, 1 + i, &p[i]);
  if (e) return e;
  bool training;
  float eps = 1e-4f; /* TensorFlow's default, as is_training's */
  if ((e = tf_attr_bool_or(n, "is_training", true, &training))) return e;
  if (training)
    return hlo_error("is_training=true (normalising by batch statistics) is not supported: "
                     "export the graph for inference");
  if (tf_attr_find(n, "epsilon") && (e = tf_attr_float(n, "epsilon", &eps))) return e;
  if (x->shape.rank < 2) return shape_error("x must have rank >= 2, has shape %s", &x->shape);
  Layout lay;
  if ((e = layout_attr(n, x->shape.rank, &lay))) return e;
  int64_t depth = x->shape.dims[lay.feature];
  static const char *names[4] = {"scale", "offset", "mean", "variance"};
  for (int i = 0; i < 4; i++)
    if (p[i]->shape.rank != 1 || p[i]->shape.dims[0] != depth) {
      char *ps = hlo_shape_to_string(&p[i]->shape), *xs = hlo_shape_to_string(&x->shape);
      e = hlo_error("%s %s does not match the depth of x %s", names[i], ps, xs);
      free(ps);
      free(xs);
      return e;
    }
  HloType u = p[0]->shape.type, t = x->shape.type;
  HloInstr *eps_v = broadcast_in_dim(L, tf_scalar(L, u, eps), &p[3]->shape, NULL, &e);
  HloInstr *factor = tf_binary(L, HLO_OP_ADD, p[3], eps_v, &e);
  factor = tf_binary(L, HLO_OP_MULTIPLY, tf_unary(L, HLO_OP_RSQRT, factor, &e), p[0], &e);
  HloInstr *y = tf_converted(L, x, u, &e);
  y = tf_binary(L, HLO_OP_SUBTRACT, y, broadcast_along(L, p[2], y, lay.feature, &e), &e);
  y = tf_binary(L, HLO_OP_MULTIPLY, y, broadcast_along(L, factor, y, lay.feature, &e), &e);
  y = tf_binary(L, HLO_OP_ADD, y, broadcast_along(L, p[1], y, lay.feature, &e), &e);
  y = tf_converted(L, y, t, &e);
  if (e) return e;
  tf_set_output(L, n, 0, y);
  tf_set_output(L, n, 1, p[2]);
  tf_set_output(L, n, 2, p[3]);
  tf_set_output(L, n, 3, p[2]);
  tf_set_output(L, n, 4, p[3]);
  if (!strcmp(n->op, "FusedBatchNormV3")) {
    /* tf2xla's empty Tensor(): f32[0]. */
    HloShape empty = hlo_shape_array(HLO_F32, 1, (int64_t[]){0});
    tf_set_output(L, n, 5, constant(L, &empty, NULL));
  }
  return NULL;
}

/* Softmax and LogSoftmax over the last dim, shifted by the row maximum so
 * exp cannot overflow. */
static HloError *lower_softmax(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_expect_inputs(n, 1, 1);
  if (!e) e = tf_input(L, n, 0, &x);
  if (e) return e;
  int rank = x->shape.rank;
  if (rank < 1) return shape_error("logits must have rank >= 1, has shape %s", &x->shape);
  if (!hlo_type_is_float(x->shape.type))
    return shape_error("logits must have a floating-point type, have shape %s", &x->shape);
  int64_t last = rank - 1, keep[HLO_MAX_RANK];
  for (int i = 0; i < rank - 1; i++) keep[i] = i;
  HloShape s = x->shape;
  HloInstr *max = reduce(L, x, &last, 1, HLO_OP_MAXIMUM, -INFINITY, &e);
  HloInstr *shifted = tf_binary(L, HLO_OP_SUBTRACT, x, broadcast_in_dim(L, max, &s, keep, &e), &e);
  HloInstr *ex = tf_unary(L, HLO_OP_EXP, shifted, &e);
  HloInstr *sum = reduce(L, ex, &last, 1, HLO_OP_ADD, 0, &e);
  HloInstr *r;
  if (!strcmp(n->op, "LogSoftmax"))
    r = tf_binary(L, HLO_OP_SUBTRACT, shifted,
               broadcast_in_dim(L, tf_unary(L, HLO_OP_LOG, sum, &e), &s, keep, &e), &e);
  else
    r = tf_binary(L, HLO_OP_DIVIDE, ex, broadcast_in_dim(L, sum, &s, keep, &e), &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* LRN: x / (bias + alpha * sum of x^2 over the 2r+1 channels around each
 * one)^beta, the sum a reduce-window along the depth; 16-bit floats are
 * computed in f32.  The power is what TensorFlow's CPU kernel uses: a
 * division for beta 1, rsqrt for 0.5, else exp(-beta * log). */
static HloError *lower_lrn(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t radius;
  float bias = 1, alpha = 1, beta = 0.5f;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (!e) e = expect_rank("input", x, 4);
  if (!e) e = tf_attr_int_or(n, "depth_radius", 5, &radius);
  if (!e && tf_attr_find(n, "bias")) e = tf_attr_float(n, "bias", &bias);
  if (!e && tf_attr_find(n, "alpha")) e = tf_attr_float(n, "alpha", &alpha);
  if (!e && tf_attr_find(n, "beta")) e = tf_attr_float(n, "beta", &beta);
  if (e) return e;
  if (radius < 0 || radius > WINDOW_ATTR_MAX / 2)
    return hlo_error("depth_radius %lld is out of range (0 to %lld)", (long long)radius,
                     (long long)(WINDOW_ATTR_MAX / 2));
  if (!hlo_type_is_float(x->shape.type))
    return shape_error("input must have a floating-point type, has shape %s", &x->shape);
  HloType t = x->shape.type, ct = t == HLO_F16 || t == HLO_BF16 ? HLO_F32 : t;
  HloInstr *xc = tf_converted(L, x, ct, &e);
  HloInstr *sq = tf_binary(L, HLO_OP_MULTIPLY, xc, xc, &e);
  HloWindowDim win[4];
  for (int d = 0; d < 4; d++) win[d] = (HloWindowDim){.size = 1, .stride = 1};
  win[3] = (HloWindowDim){.size = 2 * radius + 1, .stride = 1, .pad_lo = radius,
                          .pad_hi = radius};
  HloInstr *zero = tf_scalar(L, ct, 0), *sum = NULL;
  if (!e)
    sum = hlo_build_reduce_window(L->c, &sq, &zero, 1, win,
                                  hlo_build_scalar_computation(L->m, HLO_OP_ADD, ct), &e);
  HloInstr *scale = tf_binary(L, HLO_OP_MULTIPLY, sum, tf_full(L, xc, alpha, &e), &e);
  scale = tf_binary(L, HLO_OP_ADD, scale, tf_full(L, xc, bias, &e), &e);
  HloInstr *y;
  if (beta == 1) {
    y = tf_binary(L, HLO_OP_DIVIDE, xc, scale, &e);
  } else if (beta == 0.5f) {
    y = tf_binary(L, HLO_OP_MULTIPLY, xc, tf_unary(L, HLO_OP_RSQRT, scale, &e), &e);
  } else {
    HloInstr *p = tf_binary(L, HLO_OP_MULTIPLY, tf_unary(L, HLO_OP_LOG, scale, &e),
                            tf_full(L, xc, -beta, &e), &e);
    y = tf_binary(L, HLO_OP_MULTIPLY, xc, tf_unary(L, HLO_OP_EXP, p, &e), &e);
  }
  return tf_finish(L, n, tf_converted(L, y, t, &e), &e);
}

/* ------------------------------------------------------------------------ */
/* TopKV2                                                                   */
/* ------------------------------------------------------------------------ */

/* (value_lhs, value_rhs, index_lhs, index_rhs) -> value_lhs > value_rhs:
 * with a stable sort, equal values keep the lower index first, as
 * TensorFlow's top_k does. */
static HloComputation *greater_comparator(TfLower *L, HloType t) {
  HloComputation *c = tf_computation_new(L, "top_k_greater");
  HloShape sv = hlo_shape_scalar(t), si = hlo_shape_scalar(HLO_S32);
  HloInstr *a = hlo_parameter_new(c, 0, &sv, "lhs");
  HloInstr *b = hlo_parameter_new(c, 1, &sv, "rhs");
  hlo_parameter_new(c, 2, &si, "lhs_index");
  hlo_parameter_new(c, 3, &si, "rhs_index");
  HloError *e = NULL;
  HloInstr *r = hlo_build_compare(c, HLO_CMP_GT, a, b, &e);
  HLO_CHECK(r != NULL); /* scalars of one array type always compare */
  hlo_set_root(c, r);
  return c;
}

static HloError *lower_top_k(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *kv;
  int nk;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &kv, &nk);
  if (e) return e;
  HloType it;
  if ((e = tf_attr_hlo_type_or(n, "index_type", HLO_S32, &it))) return e;
  const HloShape *s = &x->shape;
  if (s->rank < 1) return shape_error("input must have rank >= 1, has shape %s", s);
  int64_t last = s->rank - 1, len = s->dims[last];
  if (nk != 1 || kv[0] < 0 || kv[0] > len)
    return hlo_error("k must be a scalar in [0, %lld]", (long long)len);
  HloShape is = hlo_shape_array(HLO_S32, s->rank, s->dims);
  HloInstr *ops[2] = {x, hlo_build_iota(L->c, &is, last, &e)};
  if (e) return e;
  HloInstr *sorted = hlo_build_sort(L->c, ops, 2, last, true, greater_comparator(L, s->type), &e);
  HloSliceDim slice[HLO_MAX_RANK];
  for (int d = 0; d < s->rank; d++) slice[d] = (HloSliceDim){0, d == last ? kv[0] : s->dims[d], 1};
  for (int k = 0; k < 2 && !e; k++) {
    HloInstr *v = hlo_build_get_tuple_element(L->c, sorted, k, &e);
    if (!e) v = hlo_build_slice(L->c, v, slice, &e);
    if (k == 1) v = tf_converted(L, v, it, &e);
    if (!e) tf_set_output(L, n, k, v);
  }
  return e;
}

/* ------------------------------------------------------------------------ */
/* Resizing                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ResizeAttrs {
  int64_t out[2];
  bool align_corners, half_pixel;
} ResizeAttrs;

static HloError *resize_attrs(TfLower *L, const TfNode *n, HloInstr **x, ResizeAttrs *ra) {
  int64_t *size;
  int ns;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, x);
  if (!e) e = tf_input_ints(L, n, 1, &size, &ns);
  if (!e) e = expect_rank("images", *x, 4);
  if (!e) e = tf_attr_bool_or(n, "align_corners", false, &ra->align_corners);
  if (!e) e = tf_attr_bool_or(n, "half_pixel_centers", false, &ra->half_pixel);
  if (e) return e;
  if (ns != 2 || size[0] < 1 || size[1] < 1)
    return hlo_error("size must hold 2 positive sizes");
  /* As TensorFlow: there is nothing to interpolate from. */
  if ((*x)->shape.dims[1] == 0 || (*x)->shape.dims[2] == 0) {
    char *xs = hlo_shape_to_string(&(*x)->shape);
    e = hlo_error("images %s has an empty height or width: nothing to resize", xs);
    free(xs);
    return e;
  }
  if (ra->align_corners && ra->half_pixel)
    return hlo_error("align_corners and half_pixel_centers cannot both be true");
  ra->out[0] = size[0];
  ra->out[1] = size[1];
  const int64_t *d = (*x)->shape.dims;
  HloShape r = hlo_shape_array(HLO_F32, 4, (int64_t[]){d[0], size[0], size[1], d[3]});
  if ((e = hlo_shape_check_size(&r)))
    return hlo_error_wrap(e, "resizing the images to %lldx%lld", (long long)size[0],
                          (long long)size[1]);
  return NULL;
}

/* TensorFlow's CalculateResizeScale, in float as there. */
static float resize_scale(int64_t in, int64_t out, bool align_corners) {
  return align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
}

/* The [out, in] matrix of one dim of ResizeBilinear: row o holds 1 - lerp
 * at floor(src) and lerp at ceil(src), both clamped into [0, in), with src
 * computed as TensorFlow's compute_interpolation_weights does. */
static HloInstr *bilinear_weights(TfLower *L, int64_t in, int64_t out, const ResizeAttrs *ra) {
  float scale = resize_scale(in, out, ra->align_corners);
  double *w = hlo_xcalloc((size_t)(in * out), sizeof *w);
  for (int64_t o = 0; o < out; o++) {
    float src = ra->half_pixel ? ((float)o + 0.5f) * scale - 0.5f : (float)o * scale;
    float fl = floorf(src);
    int64_t lo = (int64_t)fl < 0 ? 0 : (int64_t)fl;
    int64_t hi = (int64_t)ceilf(src) < in - 1 ? (int64_t)ceilf(src) : in - 1;
    float lerp = src - fl;
    w[o * in + lo] += 1.0f - lerp;
    w[o * in + hi] += lerp;
  }
  HloShape s = hlo_shape_array(HLO_F32, 2, (int64_t[]){out, in});
  HloInstr *r = constant(L, &s, w);
  free(w);
  return r;
}

/* ResizeBilinear (f32 result): the image times the height weights, then
 * times the width weights, then transposed back to NHWC. */
static HloError *lower_resize_bilinear(TfLower *L, const TfNode *n) {
  HloInstr *x;
  ResizeAttrs ra;
  HloError *e = resize_attrs(L, n, &x, &ra);
  if (e) return e;
  const int64_t *d = x->shape.dims;
  for (int k = 0; k < 2 && !e; k++)
    e = check_built_constant("the interpolation matrix", 2, (int64_t[]){ra.out[k], d[1 + k]});
  if (e) return e;
  HloInstr *wy = bilinear_weights(L, d[1], ra.out[0], &ra);
  HloInstr *wx = bilinear_weights(L, d[2], ra.out[1], &ra);
  int64_t one = 1;
  x = tf_converted(L, x, HLO_F32, &e);
  HloInstr *r = dot(L, x, wy, NULL, NULL, 0, &one, &one, 1, HLO_F32, &e); /* [N, W, C, OH] */
  r = dot(L, r, wx, NULL, NULL, 0, &one, &one, 1, HLO_F32, &e);           /* [N, C, OH, OW] */
  r = transpose(L, r, (int64_t[]){0, 2, 3, 1}, &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* Rows `idx` (s32 constant) of x along dim `axis`. */
static HloInstr *gather_rows(TfLower *L, HloInstr *x, int axis, const int64_t *idx, int64_t n,
                             HloError **e) {
  if (*e) return NULL;
  HloShape is = hlo_shape_array(HLO_S32, 1, &n);
  double *v = hlo_xmalloc(sizeof(double) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = (double)idx[i];
  HloInstr *indices = constant(L, &is, v);
  free(v);
  int rank = x->shape.rank;
  int64_t offset[HLO_MAX_RANK], sizes[HLO_MAX_RANK], ax = axis;
  int no = 0;
  for (int d = 0; d < rank; d++) {
    if (d != axis) offset[no++] = d;
    sizes[d] = d == axis ? 1 : x->shape.dims[d];
  }
  HloGatherDims g = {.offset_dims = {no, offset}, .collapsed_slice_dims = {1, &ax},
                     .start_index_map = {1, &ax}, .index_vector_dim = 1,
                     .slice_sizes = {rank, sizes}};
  return hlo_build_gather(L->c, x, indices, &g, e);
}

/* ResizeNearestNeighbor: source index per output index with TensorFlow's
 * rounding — round half away from zero with align_corners, else floor, of
 * o * scale, or (o + 0.5) * scale with half_pixel_centers — clamped into
 * [0, in). */
static HloError *lower_resize_nearest(TfLower *L, const TfNode *n) {
  HloInstr *x;
  ResizeAttrs ra;
  HloError *e = resize_attrs(L, n, &x, &ra);
  if (e) return e;
  for (int k = 0; k < 2 && !e; k++) e = check_built_constant("the source rows", 1, &ra.out[k]);
  if (e) return e;
  for (int k = 0; k < 2; k++) {
    int64_t in = x->shape.dims[1 + k], out = ra.out[k];
    int64_t *idx = hlo_xmalloc(sizeof(int64_t) * (size_t)out);
    float scale = resize_scale(in, out, ra.align_corners);
    for (int64_t o = 0; o < out; o++) {
      float src = ra.half_pixel ? ((float)o + 0.5f) * scale : (float)o * scale;
      int64_t i = (int64_t)(ra.align_corners ? roundf(src) : floorf(src));
      idx[o] = i < 0 ? 0 : i > in - 1 ? in - 1 : i;
    }
    x = gather_rows(L, x, 1 + k, idx, out, &e);
    free(idx);
  }
  if (!e) tf_set_output(L, n, 0, x);
  return e;
}

/* ------------------------------------------------------------------------ */
/* DepthToSpace, SpaceToDepth                                               */
/* ------------------------------------------------------------------------ */

/* Both are reshape, transpose, reshape.  In NHWC, depth index (bh * b +
 * bw) * C' + c holds pixel (h * b + bh, w * b + bw) channel c; in NCHW the
 * same with channels first. */
static HloError *lower_depth_space(TfLower *L, const TfNode *n) {
  bool to_space = !strcmp(n->op, "DepthToSpace");
  HloInstr *x;
  int64_t b;
  HloError *e = tf_expect_inputs(n, 1, 1);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = expect_rank("input", x, 4);
  if (!e) e = tf_attr_int(n, "block_size", &b);
  Layout lay;
  if (!e) e = layout_attr(n, 4, &lay);
  if (e) return e;
  if (b < 2) return hlo_error("block_size %lld must be at least 2", (long long)b);
  bool nhwc = lay.feature == 3;
  const int64_t *d = x->shape.dims;
  int64_t N = d[0], C = d[lay.feature], H = d[lay.spatial[0]], W = d[lay.spatial[1]];
  int64_t split[6], perm[6], out[4];
  if (to_space) {
    if (C % (b * b))
      return hlo_error("depth %lld is not a multiple of block_size^2 = %lld", (long long)C,
                       (long long)(b * b));
    int64_t c = C / (b * b);
    if (nhwc) {
      memcpy(split, (int64_t[]){N, H, W, b, b, c}, sizeof split);
      memcpy(perm, (int64_t[]){0, 1, 3, 2, 4, 5}, sizeof perm);
      memcpy(out, (int64_t[]){N, H * b, W * b, c}, sizeof out);
    } else {
      memcpy(split, (int64_t[]){N, b, b, c, H, W}, sizeof split);
      memcpy(perm, (int64_t[]){0, 3, 4, 1, 5, 2}, sizeof perm);
      memcpy(out, (int64_t[]){N, c, H * b, W * b}, sizeof out);
    }
  } else {
    if (H % b || W % b)
      return hlo_error("height %lld and width %lld must be multiples of block_size %lld",
                       (long long)H, (long long)W, (long long)b);
    if (nhwc) {
      memcpy(split, (int64_t[]){N, H / b, b, W / b, b, C}, sizeof split);
      memcpy(perm, (int64_t[]){0, 1, 3, 2, 4, 5}, sizeof perm);
      memcpy(out, (int64_t[]){N, H / b, W / b, b * b * C}, sizeof out);
    } else {
      memcpy(split, (int64_t[]){N, C, H / b, b, W / b, b}, sizeof split);
      memcpy(perm, (int64_t[]){0, 3, 5, 1, 2, 4}, sizeof perm);
      memcpy(out, (int64_t[]){N, b * b * C, H / b, W / b}, sizeof out);
    }
  }
  HloInstr *r = reshape(L, x, 6, split, &e);
  r = transpose(L, r, perm, &e);
  r = reshape(L, r, 4, out, &e);
  if (!e) tf_set_output(L, n, 0, r);
  return e;
}

/* ------------------------------------------------------------------------ */
/* SpaceToBatchND, BatchToSpaceND                                           */
/* ------------------------------------------------------------------------ */

/* The block_shape input (M >= 1 positive sizes for dims 1..M of an input
 * of rank `rank`) and the [M, 2] paddings or crops input, non-negative. */
static HloError *block_inputs(TfLower *L, const TfNode *n, int rank, const char *what,
                              int64_t *block, int *m, int64_t *lo, int64_t *hi) {
  int64_t *b;
  HloLiteral *p;
  HloError *e = tf_input_ints(L, n, 1, &b, m);
  if (!e) e = tf_input_literal(L, n, 2, &p);
  if (e) return e;
  if (*m < 1 || *m > rank - 1)
    return hlo_error("block_shape has %d entries, expected 1 to %d for an input of rank %d", *m,
                     rank - 1, rank);
  for (int i = 0; i < *m; i++) {
    if (b[i] < 1 || b[i] > WINDOW_ATTR_MAX)
      return hlo_error("block_shape entry %d is %lld, expected 1 to %lld", i, (long long)b[i],
                       (long long)WINDOW_ATTR_MAX);
    block[i] = b[i];
  }
  const HloShape *ps = &p->shape;
  if (!hlo_type_is_integer(ps->type) || ps->rank != 2 || ps->dims[0] != *m || ps->dims[1] != 2) {
    char *str = hlo_shape_to_string(ps);
    e = hlo_error("%s must be an integer [%d,2] matrix for the %d block dims, is %s", what, *m,
                  *m, str);
    free(str);
    return e;
  }
  for (int i = 0; i < *m; i++) {
    lo[i] = hlo_literal_get_s64(p, 2 * i);
    hi[i] = hlo_literal_get_s64(p, 2 * i + 1);
    if (lo[i] < 0 || hi[i] < 0 || lo[i] > WINDOW_ATTR_MAX || hi[i] > WINDOW_ATTR_MAX)
      return hlo_error("%s of block dim %d are (%lld, %lld), expected 0 to %lld", what, i,
                       (long long)lo[i], (long long)hi[i], (long long)WINDOW_ATTR_MAX);
  }
  return NULL;
}

/* The batch dim splits into the block (outermost, row-major) times the
 * original batch; each spatial dim into (size / block, block). */
static HloError *lower_space_to_batch(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (e) return e;
  const HloShape *s = &x->shape;
  int rank = s->rank, m;
  int64_t block[HLO_MAX_RANK], lo[HLO_MAX_RANK], hi[HLO_MAX_RANK];
  if ((e = block_inputs(L, n, rank, "paddings", block, &m, lo, hi))) return e;
  int wide = rank + m;
  if (wide > HLO_MAX_RANK)
    return hlo_error("the rearrangement needs rank %d, above hloc's limit of %d", wide,
                     HLO_MAX_RANK);
  HloPadDim pad[HLO_MAX_RANK] = {{0}};
  int64_t split[HLO_MAX_RANK], perm[HLO_MAX_RANK], out[HLO_MAX_RANK];
  int64_t batch = s->dims[0];
  for (int i = 0; i < m; i++) {
    int64_t size = s->dims[1 + i] + lo[i] + hi[i];
    if (size % block[i])
      return hlo_error("padded size %lld of dimension %d is not a multiple of the block size "
                       "%lld",
                       (long long)size, 1 + i, (long long)block[i]);
    pad[1 + i] = (HloPadDim){lo[i], hi[i], 0};
    split[1 + 2 * i] = size / block[i];
    split[2 + 2 * i] = block[i];
    perm[i] = 2 + 2 * i;             /* the block dims first */
    perm[m + 1 + i] = 1 + 2 * i;     /* then batch, the reduced spatial dims */
    out[1 + i] = size / block[i];
    if (!hlo_mul_ok(batch, block[i], &batch))
      return hlo_error("the output batch overflows");
  }
  split[0] = s->dims[0];
  perm[m] = 0;
  out[0] = batch;
  for (int d = 1 + m; d < rank; d++) {
    split[d + m] = out[d] = s->dims[d];
    perm[d + m] = d + m;
  }
  HloInstr *y = x;
  bool padded = false;
  for (int i = 0; i < m; i++) padded |= lo[i] || hi[i];
  if (padded) y = hlo_build_pad(L->c, x, tf_scalar(L, s->type, 0), pad, &e);
  y = reshape(L, y, wide, split, &e);
  y = transpose(L, y, perm, &e);
  y = reshape(L, y, rank, out, &e);
  if (!e) tf_set_output(L, n, 0, y);
  return e;
}

/* x sliced to [lo[i], size - hi[i]) along dims 1..m (lo, hi already
 * checked to fit). */
static HloInstr *crop(TfLower *L, HloInstr *x, int m, const int64_t *lo, const int64_t *hi,
                      HloError **e) {
  if (*e) return NULL;
  bool any = false;
  HloSliceDim sl[HLO_MAX_RANK];
  for (int d = 0; d < x->shape.rank; d++) sl[d] = (HloSliceDim){0, x->shape.dims[d], 1};
  for (int i = 0; i < m; i++) {
    sl[1 + i] = (HloSliceDim){lo[i], x->shape.dims[1 + i] - hi[i], 1};
    any |= lo[i] || hi[i];
  }
  return any ? hlo_build_slice(L->c, x, sl, e) : x;
}

/* The dilated-convolution chain ending in BatchToSpaceND node n (block
 * `block`, rank 2, crops lo/hi): when n reads a VALID, stride-1,
 * undilated NHWC Conv2D or DepthwiseConv2dNative that reads a
 * SpaceToBatchND of the same block, the convolution of that
 * SpaceToBatchND's input with the filter dilated by the block, padded by
 * its paddings, then cropped.  *out stays NULL when the chain is not
 * there; errors are those of the convolution. */
static HloError *fold_dilated_conv(TfLower *L, const TfNode *n, const int64_t *block,
                                   const int64_t *crop_lo, const int64_t *crop_hi,
                                   HloInstr **out) {
  *out = NULL;
  const TfInput *in = &n->inputs[0];
  const TfNode *conv = in->node;
  if (in->feed >= 0 || !conv || in->index != 0 || conv->ninputs != 2 ||
      (strcmp(conv->op, "Conv2D") && strcmp(conv->op, "DepthwiseConv2dNative")))
    return NULL;
  const TfInput *cin = &conv->inputs[0];
  const TfNode *stb = cin->node;
  if (cin->feed >= 0 || !stb || cin->index != 0 || strcmp(stb->op, "SpaceToBatchND") ||
      stb->ninputs != 3)
    return NULL;
  /* The conv's attributes as the plain lowering reads them: VALID,
   * NHWC, every stride and dilation 1. */
  const char *fmt = "NHWC", *padding = "";
  int64_t strides[4], dil[4];
  HloError *e = NULL;
  if (tf_attr_find(conv, "data_format")) e = tf_attr_string(conv, "data_format", &fmt);
  if (!e) e = tf_attr_string(conv, "padding", &padding);
  if (!e) e = ints_attr(conv, "strides", 4, 1, 1, strides);
  if (!e) e = ints_attr(conv, "dilations", 4, 1, 1, dil);
  /* Bad attributes are the plain lowering's to report. */
  if (e) {
    hlo_error_free(e);
    return NULL;
  }
  if (strcmp(fmt, "NHWC") || strcmp(padding, "VALID")) return NULL;
  for (int d = 0; d < 4; d++)
    if (strides[d] != 1 || dil[d] != 1) return NULL;
  HloInstr *x, *w;
  int64_t sblock[HLO_MAX_RANK], lo[HLO_MAX_RANK], hi[HLO_MAX_RANK];
  int m;
  if ((e = tf_input(L, stb, 0, &x)) || (e = tf_input(L, conv, 1, &w))) return e;
  if (x->shape.rank != 4 || w->shape.rank != 4) return NULL;
  /* SpaceToBatchND was lowered already: its inputs are good. */
  if ((e = block_inputs(L, stb, 4, "paddings", sblock, &m, lo, hi))) return e;
  if (m != 2 || sblock[0] != block[0] || sblock[1] != block[1]) return NULL;
  Layout lay;
  if ((e = layout_attr(conv, 4, &lay))) return e;
  int64_t groups, ksize[2] = {w->shape.dims[0], w->shape.dims[1]};
  if ((e = conv_filter(L, conv, x, &lay, &w, &groups))) return e;
  /* Cropping what was padded is padding less (SAME's usual case); what
   * the crops take beyond that is sliced off.  The spatial sizes before
   * the crops are the chain's, already checked against them. */
  HloWindowDim win[2];
  int64_t clo[2], chi[2];
  for (int i = 0; i < 2; i++) {
    int64_t cut_lo = crop_lo[i] < lo[i] ? crop_lo[i] : lo[i];
    int64_t cut_hi = crop_hi[i] < hi[i] ? crop_hi[i] : hi[i];
    win[i] = (HloWindowDim){.size = ksize[i], .stride = 1, .pad_lo = lo[i] - cut_lo,
                            .pad_hi = hi[i] - cut_hi, .lhs_dilate = 1, .rhs_dilate = block[i]};
    clo[i] = crop_lo[i] - cut_lo;
    chi[i] = crop_hi[i] - cut_hi;
  }
  HloConvDims d = conv_dims(&lay, 2, 3);
  HloInstr *r = hlo_build_convolution(L->c, x, w, win, &d, groups, 1, x->shape.type, &e);
  *out = crop(L, r, 2, clo, chi, &e);
  return e;
}

/* The inverse: the batch splits into the block and the output batch, each
 * block dim moves behind its spatial dim, the pairs merge, and the crops
 * are sliced off. */
static HloError *lower_batch_to_space(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (e) return e;
  const HloShape *s = &x->shape;
  int rank = s->rank, m;
  int64_t block[HLO_MAX_RANK], lo[HLO_MAX_RANK], hi[HLO_MAX_RANK];
  if ((e = block_inputs(L, n, rank, "crops", block, &m, lo, hi))) return e;
  int wide = rank + m;
  if (wide > HLO_MAX_RANK)
    return hlo_error("the rearrangement needs rank %d, above hloc's limit of %d", wide,
                     HLO_MAX_RANK);
  int64_t prod = 1;
  for (int i = 0; i < m; i++)
    if (!hlo_mul_ok(prod, block[i], &prod)) prod = -1;
  if (prod < 0 || s->dims[0] % prod)
    return hlo_error("batch %lld is not a multiple of the block's %lld elements",
                     (long long)s->dims[0], (long long)prod);
  int64_t split[HLO_MAX_RANK], perm[HLO_MAX_RANK], out[HLO_MAX_RANK];
  for (int i = 0; i < m; i++) {
    int64_t size;
    if (!hlo_mul_ok(s->dims[1 + i], block[i], &size) || lo[i] + hi[i] > size)
      return hlo_error("crops (%lld, %lld) of dimension %d exceed its size %lld times the "
                       "block size %lld",
                       (long long)lo[i], (long long)hi[i], 1 + i, (long long)s->dims[1 + i],
                       (long long)block[i]);
    split[i] = block[i];
    split[m + 1 + i] = s->dims[1 + i];
    perm[1 + 2 * i] = m + 1 + i; /* spatial dim, then its block dim */
    perm[2 + 2 * i] = i;
    out[1 + i] = size;
  }
  split[m] = out[0] = s->dims[0] / prod;
  perm[0] = m;
  for (int d = 1 + m; d < rank; d++) {
    split[d + m] = out[d] = s->dims[d];
    perm[d + m] = d + m;
  }
  HloInstr *y = NULL;
  if (m == 2 && (e = fold_dilated_conv(L, n, block, lo, hi, &y))) return e;
  if (!y) {
    y = reshape(L, x, wide, split, &e);
    y = transpose(L, y, perm, &e);
    y = reshape(L, y, rank, out, &e);
    y = crop(L, y, m, lo, hi, &e);
  }
  if (!e) tf_set_output(L, n, 0, y);
  return e;
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

const TfOpLowering tf_lower_nn[] = {
    {"MatMul", lower_matmul, "T, transpose_a, transpose_b", "one dot"},
    {"BatchMatMul", lower_batch_matmul, "T, adj_x, adj_y", "batch dims must agree"},
    {"BatchMatMulV2", lower_batch_matmul, "T, adj_x, adj_y", "batch dims broadcast"},
    {"BatchMatMulV3", lower_batch_matmul, "Ta, Tb, Tout, adj_x, adj_y",
     "batch dims broadcast; operands converted to Tout"},
    {"Einsum", lower_einsum, "equation, N, T",
     "1 or 2 operands; explicit or implicit output, ellipsis, upper-case labels; a label "
     "repeated within an operand takes the diagonal (\"ii->i\", traces \"ii->\")"},
    {"BiasAdd", lower_bias_add, "T, data_format", "NHWC or NCHW, any rank"},
    {"BiasAddV1", lower_bias_add, "T", "bias along the last dim"},
    {"Conv2D", lower_conv, "T, strides, padding, explicit_paddings, dilations, data_format",
     "NHWC or NCHW; SAME, VALID, EXPLICIT; grouped when the input depth is a multiple of the "
     "filter's"},
    {"DepthwiseConv2dNative", lower_conv,
     "T, strides, padding, explicit_paddings, dilations, data_format",
     "feature_group_count = input depth"},
    {"Conv2DBackpropInput", lower_conv2d_backprop_input,
     "T, strides, padding, explicit_paddings, dilations, data_format",
     "input_sizes must be constant (4 sizes, or the 2 spatial ones); not grouped"},
    {"Conv3D", lower_conv, "T, strides, padding, dilations, data_format",
     "NDHWC or NCDHW; SAME or VALID; grouped when the input depth is a multiple of the "
     "filter's"},
    {"MaxPool", lower_pool, "T, ksize, strides, padding, data_format", "SAME or VALID"},
    {"MaxPool3D", lower_pool, "T, ksize, strides, padding, data_format",
     "NDHWC or NCDHW; SAME or VALID"},
    {"AvgPool3D", lower_pool, "T, ksize, strides, padding, data_format",
     "NDHWC or NCDHW; SAME divides by the number of elements inside the input"},
    {"MaxPoolV2", lower_pool, "T, padding, data_format",
     "ksize and strides inputs must be constant"},
    {"AvgPool", lower_pool, "T, ksize, strides, padding, data_format",
     "SAME divides by the number of elements inside the input"},
    {"FusedBatchNorm", lower_fused_batch_norm, "T, epsilon, data_format, is_training",
     "is_training=false only; outputs 1-4 pass mean and variance through"},
    {"FusedBatchNormV2", lower_fused_batch_norm, "T, U, epsilon, data_format, is_training",
     "is_training=false only; outputs 1-4 pass mean and variance through"},
    {"FusedBatchNormV3", lower_fused_batch_norm, "T, U, epsilon, data_format, is_training",
     "is_training=false only; outputs 1-4 pass mean and variance through, output 5 is empty"},
    {"Softmax", lower_softmax, "T", "last dim, max-shifted"},
    {"LogSoftmax", lower_softmax, "T", "last dim, max-shifted"},
    {"TopKV2", lower_top_k, "T, sorted, index_type",
     "k must be constant; always sorted, ties in index order"},
    {"ResizeBilinear", lower_resize_bilinear, "T, align_corners, half_pixel_centers",
     "NHWC; size must be constant; f32 result"},
    {"ResizeNearestNeighbor", lower_resize_nearest, "T, align_corners, half_pixel_centers",
     "NHWC; size must be constant"},
    {"DepthToSpace", lower_depth_space, "T, block_size, data_format", "NHWC or NCHW"},
    {"SpaceToDepth", lower_depth_space, "T, block_size, data_format", "NHWC or NCHW"},
    {"SpaceToBatchND", lower_space_to_batch, "T, Tblock_shape, Tpaddings",
     "block_shape and paddings constant; any block rank"},
    {"BatchToSpaceND", lower_batch_to_space, "T, Tblock_shape, Tcrops",
     "block_shape and crops constant; any block rank; SpaceToBatchND -> VALID Conv2D or "
     "DepthwiseConv2dNative (NHWC, stride 1) -> BatchToSpaceND becomes one dilated "
     "convolution"},
    {"LRN", lower_lrn, "T, depth_radius, bias, alpha, beta",
     "NHWC; f16/bf16 computed in f32"},
    {NULL, NULL, NULL, NULL},
};
