/*
 * lower_array.c — TensorFlow's shape and data-movement ops (reshapes,
 * slices, concatenation, padding, gathers, band masks …), the constants that static
 * shapes make of Shape/Size/Rank/Range and of Unique of a constant, and the
 * reductions (Sum … Any, ArgMax/ArgMin, Cumsum/Cumprod).
 *
 * Shapes are static, so every input that steers a shape (Reshape's shape,
 * axes, paddings, slice bounds …) must be known at compile time:
 * tf_input_ints/tf_input_literal fold it or report it.  Index arithmetic
 * follows TensorFlow's kernels (StridedSlice's sparse-to-dense mask
 * expansion and clamping in particular) and is checked here, so that a bad
 * graph gets TensorFlow's complaint rather than an HLO shape error.  Values
 * known only at run time are not checked: GatherV2's indices are clamped
 * into range (XLA's gather) where TensorFlow's CPU kernel fails.
 *
 * Reductions follow tf2xla: f16/bf16 sums and products accumulate in f32,
 * Mean divides the sum by the element count (truncating for integers),
 * ArgMax/ArgMin reduce (value, index) pairs with a comparator that keeps
 * the first index among ties and lets NaN win, cumulative ops are a
 * reduce-window whose padding makes every window end at its element.
 */
#include "lower.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* For messages: the shape as text, in the module's arena. */
static const char *shape_str(TfLower *L, const HloShape *s) {
  char *t = hlo_shape_to_string(s);
  const char *r = hlo_arena_strdup(L->m->arena, t);
  free(t);
  return r;
}

/* For messages: "[4,-1]". */
static const char *ints_str(TfLower *L, const int64_t *v, int n) {
  HloStr s = {0};
  hlo_str_printf(&s, "[");
  for (int i = 0; i < n; i++) hlo_str_printf(&s, "%s%lld", i ? "," : "", (long long)v[i]);
  hlo_str_printf(&s, "]");
  const char *r = hlo_arena_strdup(L->m->arena, s.buf);
  free(s.buf);
  return r;
}

/* Input i as exactly one integer (an axis, a depth …). */
static HloError *input_int(TfLower *L, const TfNode *n, int i, const char *what, int64_t *out) {
  int64_t *v;
  int count;
  HloError *e = tf_input_ints(L, n, i, &v, &count);
  if (e) return e;
  if (count != 1) return hlo_error("%s (input %d) must hold one integer, has %d", what, i, count);
  *out = v[0];
  return NULL;
}

/* A constant of shape `s` whose elements are set by the caller. */
static HloLiteral *new_literal(TfLower *L, HloType t, int rank, const int64_t *dims) {
  HloShape s = hlo_shape_array(t, rank, dims);
  return hlo_literal_new_in(L->m->arena, &s);
}

/* v broadcast to `like`'s dims, in type t. */
static HloInstr *splat(TfLower *L, HloType t, double v, const HloShape *like, HloError **e) {
  HloInstr *s = tf_scalar(L, t, v);
  HloShape target = hlo_shape_array(t, like->rank, like->dims);
  return like->rank ? hlo_build_broadcast(L->c, s, &target, NULL, 0, e) : s;
}

/* The largest (or lowest) value of t: the identity of min (max). */
static HloInstr *extreme(TfLower *L, HloType t, bool largest) {
  if (hlo_type_is_float(t)) return tf_scalar(L, t, largest ? INFINITY : -INFINITY);
  HloInstr *c = tf_scalar(L, t, 0);
  int bits = (int)hlo_type_size(t) * 8;
  int64_t v;
  if (t == HLO_PRED) v = largest;
  else if (hlo_type_is_unsigned(t)) v = largest ? -1 : 0; /* all ones */
  else if (largest) v = (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
  else v = -(int64_t)((UINT64_C(1) << (bits - 1)) - 1) - 1;
  hlo_literal_set_s64(c->literal, 0, v);
  return c;
}

/* x sliced along one dimension to [start, limit). */
static HloInstr *slice_dim(TfLower *L, HloInstr *x, int dim, int64_t start, int64_t limit,
                           HloError **e) {
  HloSliceDim s[HLO_MAX_RANK];
  for (int i = 0; i < x->shape.rank; i++) s[i] = (HloSliceDim){0, x->shape.dims[i], 1};
  s[dim] = (HloSliceDim){start, limit, 1};
  return hlo_build_slice(L->c, x, s, e);
}

/* x with a size-1 dimension inserted at position `at`. */
static HloInstr *insert_dim(TfLower *L, HloInstr *x, int at, HloError **e) {
  int64_t dims[HLO_MAX_RANK];
  int r = x->shape.rank;
  if (r + 1 > HLO_MAX_RANK) {
    *e = hlo_error("rank %d exceeds hloc's limit of %d", r + 1, HLO_MAX_RANK);
    return NULL;
  }
  for (int i = 0, k = 0; i <= r; i++) dims[i] = i == at ? 1 : x->shape.dims[k++];
  return hlo_build_reshape(L->c, x, r + 1, dims, e);
}

/* Normalises `count` axes against rank into ascending order; duplicates are
 * an error.  named[d] tells whether dimension d was named. */
static HloError *axis_set(const int64_t *axes, int count, int rank, const char *what,
                          int64_t *sorted, int *nsorted, bool *named) {
  for (int d = 0; d < rank; d++) named[d] = false;
  for (int i = 0; i < count; i++) {
    int64_t a;
    HloError *e = tf_axis(axes[i], rank, what, &a);
    if (e) return e;
    if (named[a]) return hlo_error("%s %lld is given twice", what, (long long)axes[i]);
    named[a] = true;
  }
  *nsorted = 0;
  for (int d = 0; d < rank; d++)
    if (named[d]) sorted[(*nsorted)++] = d;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

static HloError *lower_reshape(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *want;
  int rank;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &want, &rank);
  if (e) return e;
  int64_t total = hlo_shape_elements(&x->shape), known = 1, dims[HLO_MAX_RANK];
  int infer = -1;
  bool ok = rank <= HLO_MAX_RANK;
  for (int i = 0; ok && i < rank; i++) {
    dims[i] = want[i];
    if (want[i] == -1 && infer < 0) infer = i;
    else if (want[i] < 0 || __builtin_mul_overflow(known, want[i], &known)) ok = false;
  }
  if (ok && infer >= 0) {
    /* Zero known elements leave the missing size undetermined. */
    ok = known != 0 && total % known == 0;
    if (ok) dims[infer] = total / known;
  } else if (ok) {
    ok = known == total;
  }
  if (!ok)
    return hlo_error("cannot reshape %s (%lld elements) to %s", shape_str(L, &x->shape),
                     (long long)total, ints_str(L, want, rank));
  HloInstr *y = hlo_build_reshape(L->c, x, rank, dims, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

static HloError *lower_squeeze(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  const int64_t *axes = NULL;
  int count = 0;
  if (tf_attr_find(n, "squeeze_dims") && (e = tf_attr_int_list(n, "squeeze_dims", &axes, &count)))
    return e;
  const HloShape *s = &x->shape;
  int64_t sorted[HLO_MAX_RANK], dims[HLO_MAX_RANK];
  bool named[HLO_MAX_RANK];
  int nsorted, r = 0;
  if ((e = axis_set(axes, count, s->rank, "squeeze dim", sorted, &nsorted, named))) return e;
  for (int d = 0; d < s->rank; d++) {
    if (named[d] && s->dims[d] != 1)
      return hlo_error("cannot squeeze dimension %d of %s: its size is %lld, not 1", d,
                       shape_str(L, s), (long long)s->dims[d]);
    /* No dims named: every size-1 dimension goes. */
    bool drop = count ? named[d] : s->dims[d] == 1;
    if (!drop) dims[r++] = s->dims[d];
  }
  HloInstr *y = hlo_build_reshape(L->c, x, r, dims, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

static HloError *lower_expand_dims(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t dim;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = input_int(L, n, 1, "dim", &dim);
  if (!e) e = tf_axis(dim, x->shape.rank + 1, "dim", &dim);
  if (e) return e;
  HloInstr *y = insert_dim(L, x, (int)dim, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

static HloError *lower_transpose(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *perm;
  int count;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &perm, &count);
  if (e) return e;
  int rank = x->shape.rank;
  if (count != rank)
    return hlo_error("perm %s has %d entries but the input %s has rank %d",
                     ints_str(L, perm, count), count, shape_str(L, &x->shape), rank);
  bool seen[HLO_MAX_RANK] = {false};
  for (int i = 0; i < rank; i++) {
    if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]])
      return hlo_error("perm %s is not a permutation of 0..%d", ints_str(L, perm, count),
                       rank - 1);
    seen[perm[i]] = true;
  }
  HloInstr *y = hlo_build_transpose(L->c, x, perm, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* Shape, ShapeN, Size and Rank: constants of the static shapes. */
static HloError *lower_shape(TfLower *L, const TfNode *n) {
  HloType t;
  HloError *e = tf_expect_inputs(n, 1, -1);
  if (!e) e = tf_attr_hlo_type_or(n, "out_type", HLO_S32, &t);
  if (e) return e;
  if (t != HLO_S32 && t != HLO_S64)
    return hlo_error("out_type must be int32 or int64, is %s", hlo_type_name(t));
  for (int i = 0; i < n->ninputs; i++) {
    HloInstr *x;
    if ((e = tf_input(L, n, i, &x))) return e;
    int64_t rank = x->shape.rank;
    HloLiteral *lit = new_literal(L, t, 1, &rank);
    for (int d = 0; d < x->shape.rank; d++) hlo_literal_set_s64(lit, d, x->shape.dims[d]);
    tf_set_output(L, n, i, hlo_constant_new(L->c, lit, NULL));
  }
  return NULL;
}

static HloError *lower_size(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloType t;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (!e) e = tf_attr_hlo_type_or(n, "out_type", HLO_S32, &t);
  if (e) return e;
  if (t != HLO_S32 && t != HLO_S64)
    return hlo_error("out_type must be int32 or int64, is %s", hlo_type_name(t));
  HloInstr *c = tf_scalar(L, t, 0);
  hlo_literal_set_s64(c->literal, 0, hlo_shape_elements(&x->shape));
  tf_set_output(L, n, 0, c);
  return NULL;
}

static HloError *lower_rank(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (!e) tf_set_output(L, n, 0, tf_scalar(L, HLO_S32, x->shape.rank));
  return e;
}

/* ------------------------------------------------------------------------ */
/* Joining and splitting                                                    */
/* ------------------------------------------------------------------------ */

/* Concatenates inputs [first, first + count) along the axis held by input
 * `axis_input`. */
static HloError *concat(TfLower *L, const TfNode *n, int first, int count, int axis_input) {
  int64_t axis;
  HloError *e = input_int(L, n, axis_input, "axis", &axis);
  if (e) return e;
  HloInstr **xs = hlo_arena_alloc(L->m->arena, sizeof *xs * (size_t)count);
  for (int i = 0; i < count; i++)
    if ((e = tf_input(L, n, first + i, &xs[i]))) return e;
  if ((e = tf_axis(axis, xs[0]->shape.rank, "axis", &axis))) return e;
  HloInstr *y = count == 1 ? xs[0] : hlo_build_concatenate(L->c, xs, count, axis, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* ConcatV2: values..., axis. */
static HloError *lower_concat_v2(TfLower *L, const TfNode *n) {
  HloError *e = tf_expect_inputs(n, 2, -1);
  if (!e) e = tf_expect_n(n, n->ninputs - 1);
  return e ? e : concat(L, n, 0, n->ninputs - 1, n->ninputs - 1);
}

/* Concat (TensorFlow 1): axis, values.... */
static HloError *lower_concat(TfLower *L, const TfNode *n) {
  HloError *e = tf_expect_inputs(n, 2, -1);
  if (!e) e = tf_expect_n(n, n->ninputs - 1);
  return e ? e : concat(L, n, 1, n->ninputs - 1, 0);
}

static HloError *lower_pack(TfLower *L, const TfNode *n) {
  int64_t axis;
  HloError *e = tf_expect_inputs(n, 1, -1);
  if (!e) e = tf_expect_n(n, n->ninputs);
  if (!e) e = tf_attr_int_or(n, "axis", 0, &axis);
  if (e) return e;
  HloInstr **xs = hlo_arena_alloc(L->m->arena, sizeof *xs * (size_t)n->ninputs);
  for (int i = 0; i < n->ninputs; i++) {
    if ((e = tf_input(L, n, i, &xs[i]))) return e;
    if (!hlo_shape_same_dims(&xs[i]->shape, &xs[0]->shape))
      return hlo_error("input %d has shape %s but input 0 has %s", i,
                       shape_str(L, &xs[i]->shape), shape_str(L, &xs[0]->shape));
  }
  if ((e = tf_axis(axis, xs[0]->shape.rank + 1, "axis", &axis))) return e;
  for (int i = 0; i < n->ninputs; i++)
    if (!(xs[i] = insert_dim(L, xs[i], (int)axis, &e))) return e;
  HloInstr *y = n->ninputs == 1 ? xs[0] : hlo_build_concatenate(L->c, xs, n->ninputs, axis, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* Output k: x[start_k : start_k + sizes[k]] along `axis`, with the axis
 * itself dropped when `drop` (Unpack). */
static HloError *split_outputs(TfLower *L, const TfNode *n, HloInstr *x, int axis,
                               const int64_t *sizes, int count, bool drop) {
  HloError *e = NULL;
  int64_t start = 0, dims[HLO_MAX_RANK];
  int r = 0;
  for (int d = 0; d < x->shape.rank; d++)
    if (d != axis) dims[r++] = x->shape.dims[d];
  for (int k = 0; k < count; k++) {
    HloInstr *y = slice_dim(L, x, axis, start, start + sizes[k], &e);
    if (y && drop) y = hlo_build_reshape(L->c, y, r, dims, &e);
    if (!y) return e;
    tf_set_output(L, n, k, y);
    start += sizes[k];
  }
  return NULL;
}

static HloError *lower_unpack(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t axis, num;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (!e) e = tf_attr_int_or(n, "axis", 0, &axis);
  if (!e) e = tf_axis(axis, x->shape.rank, "axis", &axis);
  if (e) return e;
  int64_t size = x->shape.dims[axis];
  if ((e = tf_attr_int_or(n, "num", size, &num))) return e;
  if (num != size)
    return hlo_error("attr 'num' is %lld but dimension %lld of %s has size %lld", (long long)num,
                     (long long)axis, shape_str(L, &x->shape), (long long)size);
  int64_t *ones = hlo_arena_alloc(L->m->arena, sizeof *ones * (size_t)(num ? num : 1));
  for (int64_t k = 0; k < num; k++) ones[k] = 1;
  return split_outputs(L, n, x, (int)axis, ones, (int)num, true);
}

/* Split: split_dim, value; num_split equal parts. */
static HloError *lower_split(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t axis, num;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = input_int(L, n, 0, "split_dim", &axis);
  if (!e) e = tf_input(L, n, 1, &x);
  if (!e) e = tf_axis(axis, x->shape.rank, "split_dim", &axis);
  if (!e) e = tf_attr_int(n, "num_split", &num);
  if (e) return e;
  int64_t size = x->shape.dims[axis];
  if (num < 1 || size % num)
    return hlo_error("num_split %lld does not divide dimension %lld of %s (size %lld)",
                     (long long)num, (long long)axis, shape_str(L, &x->shape), (long long)size);
  int64_t *sizes = hlo_arena_alloc(L->m->arena, sizeof *sizes * (size_t)num);
  for (int64_t k = 0; k < num; k++) sizes[k] = size / num;
  return split_outputs(L, n, x, (int)axis, sizes, (int)num, false);
}

/* SplitV: value, size_splits (one may be -1), split_dim. */
static HloError *lower_split_v(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t axis, *sizes;
  int count;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &sizes, &count);
  if (!e) e = input_int(L, n, 2, "split_dim", &axis);
  if (!e) e = tf_axis(axis, x->shape.rank, "split_dim", &axis);
  if (e) return e;
  int64_t size = x->shape.dims[axis], known = 0;
  int infer = -1;
  bool ok = count >= 1;
  for (int k = 0; ok && k < count; k++) {
    if (sizes[k] == -1 && infer < 0) infer = k;
    else if (sizes[k] < 0) ok = false;
    else known += sizes[k];
  }
  if (ok && infer >= 0) {
    ok = known <= size;
    sizes[infer] = size - known;
  } else if (ok) {
    ok = known == size;
  }
  if (!ok)
    return hlo_error("size_splits %s do not split dimension %lld of %s (size %lld)",
                     ints_str(L, sizes, count), (long long)axis, shape_str(L, &x->shape),
                     (long long)size);
  return split_outputs(L, n, x, (int)axis, sizes, count, false);
}

/* ------------------------------------------------------------------------ */
/* Slices                                                                   */
/* ------------------------------------------------------------------------ */

static HloError *lower_slice(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *begin, *size;
  int nb, ns;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &begin, &nb);
  if (!e) e = tf_input_ints(L, n, 2, &size, &ns);
  if (e) return e;
  const HloShape *s = &x->shape;
  if (nb != s->rank || ns != s->rank)
    return hlo_error("begin %s and size %s must have one entry per dimension of %s",
                     ints_str(L, begin, nb), ints_str(L, size, ns), shape_str(L, s));
  HloSliceDim sl[HLO_MAX_RANK];
  for (int d = 0; d < s->rank; d++) {
    int64_t b = begin[d], z = size[d] == -1 ? s->dims[d] - b : size[d];
    if (b < 0 || b > s->dims[d] || z < 0 || z > s->dims[d] - b)
      return hlo_error("begin %s and size %s are out of bounds for %s in dimension %d",
                       ints_str(L, begin, nb), ints_str(L, size, ns), shape_str(L, s), d);
    sl[d] = (HloSliceDim){b, b + z, 1};
  }
  HloInstr *y = hlo_build_slice(L->c, x, sl, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* StridedSlice, as TensorFlow's ValidateStridedSliceOp computes it.  The
 * sparse spec (one entry per element of begin/end/strides) is expanded to
 * a dense one (one per input dimension): the ellipsis stands for the
 * dimensions no entry names (one is implied at the end), new-axis entries
 * name no input dimension.  Each dense dimension is then canonicalised
 * (negative indices from the end, masked bounds to the extremes, clamping)
 * and sliced; negative strides slice the reversed dimension.  A final
 * reshape drops the shrunk dimensions and inserts the new axes. */
enum { NEW_AXIS = -1, SHRINK_AXIS = -2 };

static HloError *lower_strided_slice(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *begin, *end, *strides;
  int nb, ne, ns;
  HloError *e = tf_expect_inputs(n, 4, 4);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &begin, &nb);
  if (!e) e = tf_input_ints(L, n, 2, &end, &ne);
  if (!e) e = tf_input_ints(L, n, 3, &strides, &ns);
  if (e) return e;
  int64_t mask[5];
  static const char *const mask_names[5] = {"begin_mask", "end_mask", "ellipsis_mask",
                                            "new_axis_mask", "shrink_axis_mask"};
  for (int i = 0; i < 5; i++)
    if ((e = tf_attr_int_or(n, mask_names[i], 0, &mask[i]))) return e;
  int64_t begin_mask = mask[0], end_mask = mask[1], ellipsis_mask = mask[2],
          new_axis_mask = mask[3], shrink_mask = mask[4];
  if (nb != ne || nb != ns)
    return hlo_error("begin %s, end %s and strides %s must have the same length",
                     ints_str(L, begin, nb), ints_str(L, end, ne), ints_str(L, strides, ns));
  if (nb > 32) return hlo_error("%d slice entries, at most 32 are supported", nb);
  if (ellipsis_mask & (ellipsis_mask - 1))
    return hlo_error("multiple ellipses in slice spec (ellipsis_mask %lld)",
                     (long long)ellipsis_mask);

  /* Sparse to dense. */
  int nsparse = nb, num_add_after_ellipsis = 0;
  bool ellipsis_seen = false;
  for (int i = 0; i < nb; i++) {
    if (ellipsis_seen && (new_axis_mask >> i & 1)) num_add_after_ellipsis++;
    if (ellipsis_mask >> i & 1) ellipsis_seen = true;
  }
  if (!ellipsis_seen) ellipsis_mask |= (int64_t)1 << nsparse++;
  const HloShape *s = &x->shape;
  int rank = s->rank;
  int64_t db[HLO_MAX_RANK], de[HLO_MAX_RANK], ds[HLO_MAX_RANK];
  bool dbm[HLO_MAX_RANK], dem[HLO_MAX_RANK], dshrink[HLO_MAX_RANK];
  /* Per output dimension: its dense dimension, NEW_AXIS or SHRINK_AXIS; at
   * most one per sparse entry plus the dimensions an ellipsis stands for. */
  int gather[32 + HLO_MAX_RANK], ngather = 0, full = 0;
  for (int i = 0; i < nsparse; i++) {
    if (ellipsis_mask >> i & 1) {
      int next = rank - (nsparse - i) + 1 + num_add_after_ellipsis;
      if (next > rank) next = rank;
      for (; full < next; full++) {
        db[full] = de[full] = 0;
        ds[full] = 1;
        dbm[full] = dem[full] = true;
        dshrink[full] = false;
        gather[ngather++] = full;
      }
    } else if (new_axis_mask >> i & 1) {
      gather[ngather++] = NEW_AXIS;
    } else {
      if (full == rank)
        return hlo_error("slice entry %d indexes dimension %d but %s has only %d", i, full,
                         shape_str(L, s), rank);
      db[full] = begin[i];
      de[full] = end[i];
      ds[full] = strides[i];
      dbm[full] = begin_mask >> i & 1;
      dem[full] = end_mask >> i & 1;
      dshrink[full] = shrink_mask >> i & 1;
      gather[ngather++] = dshrink[full] ? SHRINK_AXIS : full;
      full++;
    }
  }

  /* Canonical bounds per dense dimension; slices of the (partly
   * reversed) input. */
  HloSliceDim sl[HLO_MAX_RANK];
  int64_t sizes[HLO_MAX_RANK], reversed[HLO_MAX_RANK];
  int nrev = 0;
  for (int d = 0; d < rank; d++) {
    int64_t dim = s->dims[d], stride = ds[d], b, en;
    if (stride == 0) return hlo_error("stride of dimension %d is 0", d);
    if (dshrink[d]) {
      if (stride < 0)
        return hlo_error("dimension %d is indexed (shrunk) with a negative stride", d);
      b = db[d] < 0 ? dim + db[d] : db[d];
      if (b < 0 || b >= dim)
        return hlo_error("index %lld of dimension %d is out of bounds for %s", (long long)db[d],
                         d, shape_str(L, s));
      en = b + 1;
    } else {
      /* Valid bounds: [0, dim] going forward, [-1, dim-1] backward. */
      int64_t lo = stride > 0 ? 0 : -1, hi = stride > 0 ? dim : dim - 1;
      int64_t fb = db[d] < 0 ? dim + db[d] : db[d], fe = de[d] < 0 ? dim + de[d] : de[d];
      b = dbm[d] ? (stride > 0 ? lo : hi) : fb < lo ? lo : fb > hi ? hi : fb;
      en = dem[d] ? (stride > 0 ? hi : lo) : fe < lo ? lo : fe > hi ? hi : fe;
    }
    int64_t len = en - b;
    if (len == 0 || (len < 0) != (stride < 0)) sizes[d] = 0;
    else sizes[d] = len / stride + (len % stride != 0);
    if (stride > 0) {
      sl[d] = (HloSliceDim){b, en > b ? en : b, stride};
    } else {
      int64_t rb = dim - 1 - b, re = dim - 1 - en;
      sl[d] = (HloSliceDim){rb, re > rb ? re : rb, -stride};
      reversed[nrev++] = d;
    }
  }
  HloInstr *y = x;
  if (nrev) y = hlo_build_reverse(L->c, y, reversed, nrev, &e);
  if (y) y = hlo_build_slice(L->c, y, sl, &e);
  if (!y) return e;
  int64_t dims[HLO_MAX_RANK];
  int r = 0;
  for (int i = 0; i < ngather; i++) {
    if (gather[i] == SHRINK_AXIS) continue;
    if (r == HLO_MAX_RANK) return hlo_error("the result's rank exceeds %d", HLO_MAX_RANK);
    dims[r++] = gather[i] == NEW_AXIS ? 1 : sizes[gather[i]];
  }
  y = hlo_build_reshape(L->c, y, r, dims, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Padding, tiling, reversing, broadcasting                                 */
/* ------------------------------------------------------------------------ */

/* The paddings input (an integer [rank, 2] matrix of non-negative
 * amounts) as lo[d], hi[d]. */
static HloError *read_paddings(TfLower *L, const TfNode *n, int i, const HloShape *s,
                               int64_t *lo, int64_t *hi) {
  HloLiteral *p;
  HloError *e = tf_input_literal(L, n, i, &p);
  if (e) return e;
  const HloShape *ps = &p->shape;
  if (!hlo_type_is_integer(ps->type) || ps->rank != 2 || ps->dims[0] != s->rank ||
      ps->dims[1] != 2)
    return hlo_error("paddings %s must be an integer [%d,2] matrix for input %s",
                     shape_str(L, ps), s->rank, shape_str(L, s));
  for (int d = 0; d < s->rank; d++) {
    lo[d] = hlo_literal_get_s64(p, 2 * d);
    hi[d] = hlo_literal_get_s64(p, 2 * d + 1);
    if (lo[d] < 0 || hi[d] < 0)
      return hlo_error("paddings of dimension %d are negative (%lld, %lld)", d,
                       (long long)lo[d], (long long)hi[d]);
  }
  return NULL;
}

/* Pad (zeros) and PadV2 (a scalar constant_values). */
static HloError *lower_pad(TfLower *L, const TfNode *n) {
  HloInstr *x, *value;
  bool v2 = !strcmp(n->op, "PadV2");
  HloError *e = tf_expect_inputs(n, v2 ? 3 : 2, v2 ? 3 : 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (e) return e;
  int64_t lo[HLO_MAX_RANK], hi[HLO_MAX_RANK];
  if ((e = read_paddings(L, n, 1, &x->shape, lo, hi))) return e;
  if (!v2) {
    value = tf_scalar(L, x->shape.type, 0);
  } else {
    if ((e = tf_input(L, n, 2, &value))) return e;
    if (value->shape.rank)
      return hlo_error("constant_values must be a scalar, is %s", shape_str(L, &value->shape));
  }
  HloPadDim pad[HLO_MAX_RANK];
  for (int d = 0; d < x->shape.rank; d++) pad[d] = (HloPadDim){lo[d], hi[d], 0};
  HloInstr *y = hlo_build_pad(L->c, x, value, pad, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* MirrorPad: per dimension, the reversed edge slices concatenated around
 * the input; REFLECT leaves the edge element out, SYMMETRIC repeats it. */
static HloError *lower_mirror_pad(TfLower *L, const TfNode *n) {
  HloInstr *x;
  const char *mode;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_attr_string(n, "mode", &mode);
  if (e) return e;
  int64_t off;
  if (!strcmp(mode, "REFLECT")) off = 1;
  else if (!strcmp(mode, "SYMMETRIC")) off = 0;
  else return hlo_error("mode '%s' is not REFLECT or SYMMETRIC", mode);
  int64_t lo[HLO_MAX_RANK], hi[HLO_MAX_RANK];
  if ((e = read_paddings(L, n, 1, &x->shape, lo, hi))) return e;
  for (int d = 0; d < x->shape.rank; d++) {
    int64_t dim = x->shape.dims[d];
    if (lo[d] > dim - off || hi[d] > dim - off)
      return hlo_error("%s paddings (%lld, %lld) of dimension %d exceed %lld", mode,
                       (long long)lo[d], (long long)hi[d], d, (long long)(dim - off));
    if (!lo[d] && !hi[d]) continue;
    HloInstr *parts[3];
    int np = 0;
    if (lo[d]) {
      HloInstr *p = slice_dim(L, x, d, off, off + lo[d], &e);
      int64_t dd = d;
      if (p) p = hlo_build_reverse(L->c, p, &dd, 1, &e);
      if (!p) return e;
      parts[np++] = p;
    }
    parts[np++] = x;
    if (hi[d]) {
      HloInstr *p = slice_dim(L, x, d, dim - off - hi[d], dim - off, &e);
      int64_t dd = d;
      if (p) p = hlo_build_reverse(L->c, p, &dd, 1, &e);
      if (!p) return e;
      parts[np++] = p;
    }
    if (!(x = hlo_build_concatenate(L->c, parts, np, d, &e))) return e;
  }
  tf_set_output(L, n, 0, x);
  return NULL;
}

/* Tile: a broadcast that puts a new dimension of size m before each tiled
 * dimension d, then a reshape merging the pairs into m*d. */
static HloError *lower_tile(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *mult;
  int count;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &mult, &count);
  if (e) return e;
  const HloShape *s = &x->shape;
  if (count != s->rank)
    return hlo_error("multiples %s must have one entry per dimension of %s",
                     ints_str(L, mult, count), shape_str(L, s));
  int64_t wide[HLO_MAX_RANK], map[HLO_MAX_RANK], out[HLO_MAX_RANK];
  int w = 0;
  for (int d = 0; d < s->rank; d++) {
    if (mult[d] < 0) return hlo_error("multiples %s are negative", ints_str(L, mult, count));
    if (mult[d] != 1) {
      if (w == HLO_MAX_RANK) return hlo_error("tiling needs more than %d dimensions", HLO_MAX_RANK);
      wide[w++] = mult[d];
    }
    if (w == HLO_MAX_RANK) return hlo_error("tiling needs more than %d dimensions", HLO_MAX_RANK);
    map[d] = w;
    wide[w++] = s->dims[d];
    /* An overflow makes the broadcast below too large: it reports that. */
    if (!hlo_mul_ok(mult[d], s->dims[d], &out[d])) out[d] = -1;
  }
  HloInstr *y = x;
  if (w != s->rank) {
    HloShape ws = hlo_shape_array(s->type, w, wide);
    y = hlo_build_broadcast(L->c, x, &ws, map, s->rank, &e);
    if (y) y = hlo_build_reshape(L->c, y, s->rank, out, &e);
  }
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

static HloError *lower_reverse_v2(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *axes;
  int count;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &axes, &count);
  if (e) return e;
  int64_t sorted[HLO_MAX_RANK];
  bool named[HLO_MAX_RANK];
  int ns;
  if ((e = axis_set(axes, count, x->shape.rank, "axis", sorted, &ns, named))) return e;
  HloInstr *y = ns ? hlo_build_reverse(L->c, x, sorted, ns, &e) : x;
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

static HloError *lower_broadcast_to(TfLower *L, const TfNode *n) {
  HloInstr *x, *y;
  int64_t *dims;
  int rank;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &dims, &rank);
  if (e) return e;
  if (rank > HLO_MAX_RANK)
    return hlo_error("rank %d exceeds hloc's limit of %d", rank, HLO_MAX_RANK);
  if ((e = tf_broadcast_to(L, x, rank, dims, &y))) return e;
  tf_set_output(L, n, 0, y);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Constants and fills                                                      */
/* ------------------------------------------------------------------------ */

static HloError *lower_fill(TfLower *L, const TfNode *n) {
  HloInstr *v;
  int64_t *dims;
  int rank;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input_ints(L, n, 0, &dims, &rank);
  if (!e) e = tf_input(L, n, 1, &v);
  if (e) return e;
  if (v->shape.rank) return hlo_error("value must be a scalar, is %s", shape_str(L, &v->shape));
  if (rank > HLO_MAX_RANK)
    return hlo_error("rank %d exceeds hloc's limit of %d", rank, HLO_MAX_RANK);
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0) return hlo_error("dims %s are negative", ints_str(L, dims, rank));
  HloShape s = hlo_shape_array(v->shape.type, rank, dims);
  HloInstr *y = rank ? hlo_build_broadcast(L->c, v, &s, NULL, 0, &e) : v;
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* ZerosLike and OnesLike. */
static HloError *lower_const_like(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  double v = !strcmp(n->op, "OnesLike");
  HloInstr *y = splat(L, x->shape.type, v, &x->shape, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* A Range is a constant built at compile time, bounded like the others. */
static HloError *check_range_size(int64_t size, HloType t) {
  if (size <= TF_MAX_BUILT_CONSTANT_BYTES / (int64_t)hlo_type_size(t)) return NULL;
  return hlo_error("a range of %lld %s elements would be a constant of more than %lld MiB "
                   "built at compile time", (long long)size, hlo_type_name(t),
                   (long long)(TF_MAX_BUILT_CONSTANT_BYTES >> 20));
}

/* Range: start, limit and delta must be constants.  Element i is
 * start + i * delta with each operation rounded to the element type, as
 * TensorFlow's kernel computes it. */
static HloError *lower_range(TfLower *L, const TfNode *n) {
  HloLiteral *v[3];
  HloError *e = tf_expect_inputs(n, 3, 3);
  for (int i = 0; i < 3 && !e; i++) {
    e = tf_input_literal(L, n, i, &v[i]);
    if (!e && v[i]->shape.rank)
      e = hlo_error("input %d must be a scalar, is %s", i, shape_str(L, &v[i]->shape));
  }
  if (e) return e;
  HloType t = v[0]->shape.type;
  if (!hlo_type_is_integer(t) && !hlo_type_is_float(t))
    return hlo_error("unsupported type %s", hlo_type_name(t));
  int64_t size;
  HloLiteral *lit;
  if (hlo_type_is_integer(t)) {
    int64_t start = hlo_literal_get_s64(v[0], 0), limit = hlo_literal_get_s64(v[1], 0),
            delta = hlo_literal_get_s64(v[2], 0);
    if (delta == 0 || (delta > 0 && start > limit) || (delta < 0 && start < limit))
      return hlo_error("range(%lld, %lld, %lld) is not a valid range", (long long)start,
                       (long long)limit, (long long)delta);
    uint64_t span = limit > start ? (uint64_t)limit - (uint64_t)start
                                  : (uint64_t)start - (uint64_t)limit;
    uint64_t step = delta > 0 ? (uint64_t)delta : -(uint64_t)delta;
    if (span / step >= (UINT64_C(1) << 31))
      return hlo_error("range of more than 2^31 elements");
    size = (int64_t)((span + step - 1) / step);
    if ((e = check_range_size(size, t))) return e;
    lit = new_literal(L, t, 1, &size);
    /* Unsigned: every value lies between start and limit, but i * delta
     * alone may not fit. */
    for (int64_t i = 0; i < size; i++)
      hlo_literal_set_s64(lit, i, (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)delta));
  } else {
    double start = hlo_literal_get_f64(v[0], 0), limit = hlo_literal_get_f64(v[1], 0),
           delta = hlo_literal_get_f64(v[2], 0);
    if (delta == 0 || isnan(delta) || (delta > 0 && start > limit) ||
        (delta < 0 && start < limit) || !isfinite(start) || !isfinite(limit))
      return hlo_error("range(%g, %g, %g) is not a valid range", start, limit, delta);
    double count = ceil(fabs((limit - start) / delta));
    if (count > (double)(INT64_C(1) << 31)) return hlo_error("range of more than 2^31 elements");
    size = (int64_t)count;
    if ((e = check_range_size(size, t))) return e;
    lit = new_literal(L, t, 1, &size);
    for (int64_t i = 0; i < size; i++) {
      hlo_literal_set_f64(lit, i, (double)i * delta); /* rounded to t */
      hlo_literal_set_f64(lit, i, start + hlo_literal_get_f64(lit, i));
    }
  }
  tf_set_output(L, n, 0, hlo_constant_new(L->c, lit, NULL));
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Gathers                                                                  */
/* ------------------------------------------------------------------------ */

/* params gathered along `axis` at `indices`; the first `batch` dimensions of
 * both are matched pairwise (XLA's batching dimensions).  The result's
 * shape is params[:axis] + indices[batch:] + params[axis+1:]. */
HloError *tf_gather(TfLower *L, HloInstr *p, HloInstr *idx, int64_t axis, int64_t batch,
                    HloInstr **out) {
  const HloShape *ps = &p->shape, *is = &idx->shape;
  HloError *e;
  if (is->type != HLO_S32 && is->type != HLO_S64)
    return hlo_error("indices must be int32 or int64, are %s", hlo_type_name(is->type));
  if (batch < 0) batch += is->rank;
  if (batch < 0 || batch > is->rank)
    return hlo_error("batch_dims is out of range for indices of rank %d", is->rank);
  if ((e = tf_axis(axis, ps->rank, "axis", &axis))) return e;
  if (batch > axis)
    return hlo_error("batch_dims %lld exceeds axis %lld", (long long)batch, (long long)axis);
  for (int d = 0; d < batch; d++)
    if (ps->dims[d] != is->dims[d])
      return hlo_error("batch dimension %d of params %s and indices %s differ", d,
                       shape_str(L, ps), shape_str(L, is));
  int out_rank = ps->rank - 1 + is->rank - (int)batch;
  if (out_rank > HLO_MAX_RANK)
    return hlo_error("the result's rank %d exceeds %d", out_rank, HLO_MAX_RANK);
  int64_t offset[HLO_MAX_RANK], batching[HLO_MAX_RANK], sizes[HLO_MAX_RANK];
  int noff = 0;
  for (int d = (int)batch; d < axis; d++) offset[noff++] = d;
  for (int d = (int)axis + is->rank - (int)batch; d < out_rank; d++) offset[noff++] = d;
  for (int d = 0; d < batch; d++) batching[d] = d;
  for (int d = 0; d < ps->rank; d++) sizes[d] = d == axis || d < batch ? 1 : ps->dims[d];
  HloGatherDims g = {
      .offset_dims = {noff, offset},
      .collapsed_slice_dims = {1, &axis},
      .start_index_map = {1, &axis},
      .operand_batching_dims = {(int)batch, batching},
      .start_indices_batching_dims = {(int)batch, batching},
      .index_vector_dim = is->rank,
      .slice_sizes = {ps->rank, sizes},
  };
  *out = hlo_build_gather(L->c, p, idx, &g, &e);
  return e;
}

/* GatherV2: params, indices, axis, with batch_dims (tf_gather). */
static HloError *lower_gather_v2(TfLower *L, const TfNode *n) {
  HloInstr *p, *idx, *y = NULL;
  int64_t axis = 0, batch = 0;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &p);
  if (!e) e = tf_input(L, n, 1, &idx);
  if (!e) e = input_int(L, n, 2, "axis", &axis);
  if (!e) e = tf_attr_int_or(n, "batch_dims", 0, &batch);
  if (!e) e = tf_gather(L, p, idx, axis, batch, &y);
  if (!e) tf_set_output(L, n, 0, y);
  return e;
}

/* OneHot: indices, depth, on_value, off_value.  A new dimension of size
 * depth at `axis`; where its iota equals the index, on_value. */
static HloError *lower_one_hot(TfLower *L, const TfNode *n) {
  HloInstr *idx, *on, *off;
  int64_t depth = 0, axis = -1;
  HloError *e = tf_expect_inputs(n, 4, 4);
  if (!e) e = tf_input(L, n, 0, &idx);
  if (!e) e = input_int(L, n, 1, "depth", &depth);
  if (!e) e = tf_input(L, n, 2, &on);
  if (!e) e = tf_input(L, n, 3, &off);
  if (!e) e = tf_attr_int_or(n, "axis", -1, &axis);
  if (e) return e;
  const HloShape *is = &idx->shape;
  if (!hlo_type_is_integer(is->type))
    return hlo_error("indices must be integers, are %s", hlo_type_name(is->type));
  if (depth < 0) return hlo_error("depth %lld is negative", (long long)depth);
  if (on->shape.rank || off->shape.rank)
    return hlo_error("on_value %s and off_value %s must be scalars", shape_str(L, &on->shape),
                     shape_str(L, &off->shape));
  if (axis == -1) axis = is->rank;
  if (axis < 0 || axis > is->rank)
    return hlo_error("axis %lld is out of range for rank %d", (long long)axis, is->rank + 1);
  if (is->rank + 1 > HLO_MAX_RANK)
    return hlo_error("rank %d exceeds hloc's limit of %d", is->rank + 1, HLO_MAX_RANK);
  int64_t dims[HLO_MAX_RANK], map[HLO_MAX_RANK];
  for (int d = 0, k = 0; d <= is->rank; d++) {
    if (d == axis) {
      dims[d] = depth;
    } else {
      map[k] = d;
      dims[d] = is->dims[k++];
    }
  }
  HloShape s = hlo_shape_array(is->type, is->rank + 1, dims);
  HloShape vs = hlo_shape_array(on->shape.type, is->rank + 1, dims);
  HloInstr *iota = hlo_build_iota(L->c, &s, axis, &e), *wide = NULL, *hit = NULL, *y = NULL;
  HloInstr *ons = NULL, *offs = NULL;
  if (iota) wide = hlo_build_broadcast(L->c, idx, &s, map, is->rank, &e);
  if (wide) hit = hlo_build_compare(L->c, HLO_CMP_EQ, wide, iota, &e);
  if (hit) ons = hlo_build_broadcast(L->c, on, &vs, NULL, 0, &e);
  if (ons) offs = hlo_build_broadcast(L->c, off, &vs, NULL, 0, &e);
  if (offs) y = hlo_build_ternary(L->c, HLO_OP_SELECT, hit, ons, offs, &e);
  if (y) tf_set_output(L, n, 0, y);
  return e;
}

/* ------------------------------------------------------------------------ */
/* MatrixBandPart                                                           */
/* ------------------------------------------------------------------------ */

/* MatrixBandPart: input, num_lower, num_upper.  Keeps element (i, j) of
 * each innermost matrix where (num_lower < 0 || i - j <= num_lower) and
 * (num_upper < 0 || j - i <= num_upper), else 0.  The bounds may be
 * values known only at run time: the mask is computed from iotas. */
static HloError *lower_matrix_band_part(TfLower *L, const TfNode *n) {
  HloInstr *x, *lower, *upper;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &lower);
  if (!e) e = tf_input(L, n, 2, &upper);
  if (e) return e;
  const HloShape *s = &x->shape;
  if (s->rank < 2) return hlo_error("input must have rank >= 2, is %s", shape_str(L, s));
  if (lower->shape.rank || upper->shape.rank || !hlo_type_is_integer(lower->shape.type) ||
      lower->shape.type != upper->shape.type || lower->shape.type == HLO_PRED)
    return hlo_error("num_lower %s and num_upper %s must be integer scalars of one type",
                     shape_str(L, &lower->shape), shape_str(L, &upper->shape));
  HloType it = lower->shape.type;
  int64_t mdims[2] = {s->dims[s->rank - 2], s->dims[s->rank - 1]};
  /* TensorFlow's range check, where the bounds are Consts. */
  for (int k = 0; k < 2; k++) {
    const TfInput *in = &n->inputs[1 + k];
    int64_t *v;
    int count;
    if (in->feed >= 0 || strcmp(in->node->op, "Const")) continue;
    if ((e = tf_input_ints(L, n, 1 + k, &v, &count))) return e;
    if (v[0] > mdims[k])
      return hlo_error("%s must be negative or at most the number of %s (%lld), is %lld",
                       k ? "num_upper" : "num_lower", k ? "columns" : "rows",
                       (long long)mdims[k], (long long)v[0]);
  }
  HloShape ms = hlo_shape_array(it, 2, mdims);
  HloInstr *row = hlo_build_iota(L->c, &ms, 0, &e), *col = NULL;
  if (row) col = hlo_build_iota(L->c, &ms, 1, &e);
  HloInstr *below = tf_binary(L, HLO_OP_SUBTRACT, row, col, &e);  /* i - j */
  HloInstr *above = tf_unary(L, HLO_OP_NEGATE, below, &e);        /* j - i */
  HloInstr *lo = splat(L, it, 0, &ms, &e), *hi = lo;
  if (!e) lo = hlo_build_broadcast(L->c, lower, &ms, NULL, 0, &e);
  if (!e) hi = hlo_build_broadcast(L->c, upper, &ms, NULL, 0, &e);
  HloInstr *zero = splat(L, it, 0, &ms, &e);
  HloInstr *keep_lo = tf_binary(L, HLO_OP_OR, tf_compare(L, HLO_CMP_LT, lo, zero, &e),
                                tf_compare(L, HLO_CMP_LE, below, lo, &e), &e);
  HloInstr *keep_hi = tf_binary(L, HLO_OP_OR, tf_compare(L, HLO_CMP_LT, hi, zero, &e),
                                tf_compare(L, HLO_CMP_LE, above, hi, &e), &e);
  HloInstr *keep = tf_binary(L, HLO_OP_AND, keep_lo, keep_hi, &e);
  if (!e && s->rank > 2) {
    HloShape ps = hlo_shape_array(HLO_PRED, s->rank, s->dims);
    int64_t map[2] = {s->rank - 2, s->rank - 1};
    keep = hlo_build_broadcast(L->c, keep, &ps, map, 2, &e);
  }
  return tf_finish(L, n, tf_select(L, keep, x, tf_full(L, x, 0, &e), &e), &e);
}

/* ------------------------------------------------------------------------ */
/* Diagonals                                                                */
/* ------------------------------------------------------------------------ */

/* i == j over the last two dimensions of `like` (pred, like's dims). */
static HloInstr *diagonal_mask(TfLower *L, const HloShape *like, HloError **e) {
  int r = like->rank;
  int64_t mn[2] = {like->dims[r - 2], like->dims[r - 1]};
  HloShape ms = hlo_shape_array(HLO_S64, 2, mn);
  HloInstr *row = *e ? NULL : hlo_build_iota(L->c, &ms, 0, e);
  HloInstr *col = *e ? NULL : hlo_build_iota(L->c, &ms, 1, e);
  HloInstr *eq = tf_compare(L, HLO_CMP_EQ, row, col, e);
  if (*e || r == 2) return eq;
  HloShape ps = hlo_shape_array(HLO_PRED, r, like->dims);
  int64_t map[2] = {r - 2, r - 1};
  return hlo_build_broadcast(L->c, eq, &ps, map, 2, e);
}

/* The [..., m, n] matrices with diagonal d [..., k] (k = min(m, n)) and
 * `pad` (a scalar) elsewhere: d is broadcast along whichever of the two
 * dimensions it does not run along, then masked. */
static HloInstr *diagonal_matrix(TfLower *L, HloInstr *d, int64_t m, int64_t nc, HloInstr *pad,
                                 HloError **e) {
  const HloShape *ds = &d->shape;
  int r = ds->rank + 1;
  if (r > HLO_MAX_RANK) {
    *e = hlo_error("rank %d exceeds hloc's limit of %d", r, HLO_MAX_RANK);
    return NULL;
  }
  int64_t dims[HLO_MAX_RANK], map[HLO_MAX_RANK];
  for (int i = 0; i < ds->rank - 1; i++) dims[i] = ds->dims[i], map[i] = i;
  dims[r - 2] = m;
  dims[r - 1] = nc;
  map[ds->rank - 1] = m == ds->dims[ds->rank - 1] ? r - 2 : r - 1;
  HloShape s = hlo_shape_array(ds->type, r, dims);
  HloInstr *full = hlo_build_broadcast(L->c, d, &s, map, ds->rank, e);
  HloInstr *padded = *e ? NULL : hlo_build_broadcast(L->c, pad, &s, NULL, 0, e);
  return tf_select(L, diagonal_mask(L, &s, e), full, padded, e);
}

/* The main diagonals [..., min(m, n)] of x [..., m, n]: x flattened to
 * [..., m*n] and gathered at i*(n+1), so the values move bit for bit. */
static HloInstr *diagonal_part(TfLower *L, HloInstr *x, HloError **e) {
  const HloShape *s = &x->shape;
  int r = s->rank;
  int64_t m = s->dims[r - 2], nc = s->dims[r - 1], k = m < nc ? m : nc;
  int64_t dims[HLO_MAX_RANK];
  for (int i = 0; i < r - 2; i++) dims[i] = s->dims[i];
  dims[r - 2] = m * nc;
  HloInstr *flat = *e ? NULL : hlo_build_reshape(L->c, x, r - 1, dims, e);
  HloLiteral *lit = new_literal(L, HLO_S64, 1, &k);
  for (int64_t i = 0; i < k; i++) hlo_literal_set_s64(lit, i, i * (nc + 1));
  HloInstr *y = NULL;
  if (!*e) *e = tf_gather(L, flat, hlo_constant_new(L->c, lit, NULL), r - 2, 0, &y);
  return y;
}

/* Fails unless x has rank >= 2. */
static HloError *expect_matrices(TfLower *L, const char *what, const HloShape *s) {
  if (s->rank >= 2) return NULL;
  return hlo_error("%s must have rank >= 2, is %s", what, shape_str(L, s));
}

/* The V2/V3 ops' diagonal offsets k (input i), which must be 0 here: a
 * scalar 0 or a pair (0, 0). */
static HloError *expect_main_diagonal(TfLower *L, const TfNode *n, int i) {
  int64_t *k;
  int count;
  HloError *e = tf_input_ints(L, n, i, &k, &count);
  if (e) return e;
  if (count < 1 || count > 2 || k[0] || k[count - 1])
    return hlo_error("k %s must be 0: only the main diagonal is supported",
                     ints_str(L, k, count));
  return NULL;
}

/* MatrixDiag (diagonal) and MatrixDiagV2/V3 (diagonal, k, num_rows,
 * num_cols, padding_value; V3's align does not matter for k = 0).  With
 * k = 0, TensorFlow's defaults make a missing (-1) size the diagonal's
 * length, and one of the two sizes must be that length. */
static HloError *lower_matrix_diag(TfLower *L, const TfNode *n) {
  bool v1 = !strcmp(n->op, "MatrixDiag");
  HloInstr *d, *pad;
  HloError *e = tf_expect_inputs(n, v1 ? 1 : 5, v1 ? 1 : 5);
  if (!e) e = tf_input(L, n, 0, &d);
  if (e) return e;
  if (d->shape.rank < 1) return hlo_error("diagonal must have rank >= 1, is a scalar");
  int64_t k = d->shape.dims[d->shape.rank - 1], m = -1, nc = -1;
  if (v1) {
    pad = tf_scalar(L, d->shape.type, 0);
  } else {
    if ((e = expect_main_diagonal(L, n, 1)) || (e = input_int(L, n, 2, "num_rows", &m)) ||
        (e = input_int(L, n, 3, "num_cols", &nc)) || (e = tf_input(L, n, 4, &pad)))
      return e;
    if (pad->shape.rank || pad->shape.type != d->shape.type)
      return hlo_error("padding_value %s must be a scalar of the diagonal's type %s",
                       shape_str(L, &pad->shape), hlo_type_name(d->shape.type));
  }
  if (m == -1) m = k;
  if (nc == -1) nc = k;
  if (m < k || nc < k || (m != k && nc != k))
    return hlo_error("num_rows %lld and num_cols %lld do not fit a main diagonal of length %lld: "
                     "one must equal it and neither be smaller",
                     (long long)m, (long long)nc, (long long)k);
  return tf_finish(L, n, diagonal_matrix(L, d, m, nc, pad, &e), &e);
}

/* MatrixDiagPart (input) and MatrixDiagPartV2/V3 (input, k,
 * padding_value; with k = 0 every element of the diagonal exists, so the
 * padding is never used). */
static HloError *lower_matrix_diag_part(TfLower *L, const TfNode *n) {
  bool v1 = !strcmp(n->op, "MatrixDiagPart");
  HloInstr *x;
  HloError *e = tf_expect_inputs(n, v1 ? 1 : 3, v1 ? 1 : 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = expect_matrices(L, "input", &x->shape);
  if (!e && !v1) e = expect_main_diagonal(L, n, 1);
  if (e) return e;
  return tf_finish(L, n, diagonal_part(L, x, &e), &e);
}

/* MatrixSetDiag (input, diagonal) and MatrixSetDiagV2/V3 (input,
 * diagonal, k): the diagonal has input's batch dimensions and
 * min(m, n) elements. */
static HloError *lower_matrix_set_diag(TfLower *L, const TfNode *n) {
  bool v1 = !strcmp(n->op, "MatrixSetDiag");
  HloInstr *x, *d;
  HloError *e = tf_expect_inputs(n, v1 ? 2 : 3, v1 ? 2 : 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &d);
  if (!e) e = expect_matrices(L, "input", &x->shape);
  if (!e && !v1) e = expect_main_diagonal(L, n, 2);
  if (e) return e;
  const HloShape *s = &x->shape;
  int64_t m = s->dims[s->rank - 2], nc = s->dims[s->rank - 1];
  int64_t want[HLO_MAX_RANK];
  for (int i = 0; i < s->rank - 2; i++) want[i] = s->dims[i];
  want[s->rank - 2] = m < nc ? m : nc;
  HloShape ws = hlo_shape_array(s->type, s->rank - 1, want);
  if (d->shape.type != s->type || !hlo_shape_same_dims(&d->shape, &ws))
    return hlo_error("diagonal %s must be %s for input %s", shape_str(L, &d->shape),
                     shape_str(L, &ws), shape_str(L, s));
  HloInstr *full = diagonal_matrix(L, d, m, nc, tf_scalar(L, s->type, 0), &e);
  return tf_finish(L, n, tf_select(L, diagonal_mask(L, s, &e), full, x, &e), &e);
}

/* Diag: x of dims D becomes the rank-2r tensor of dims D + D holding x
 * on its diagonal: the diagonal matrix of x flattened, reshaped. */
static HloError *lower_diag(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  const HloShape *s = &x->shape;
  if (s->rank < 1) return hlo_error("diagonal must have rank >= 1, is a scalar");
  if (2 * s->rank > HLO_MAX_RANK)
    return hlo_error("rank %d exceeds hloc's limit of %d", 2 * s->rank, HLO_MAX_RANK);
  int64_t p = hlo_shape_elements(s), dims[HLO_MAX_RANK];
  for (int i = 0; i < s->rank; i++) dims[i] = dims[s->rank + i] = s->dims[i];
  HloInstr *flat = hlo_build_reshape(L->c, x, 1, &p, &e);
  HloInstr *y = diagonal_matrix(L, flat, p, p, tf_scalar(L, s->type, 0), &e);
  if (!e) y = hlo_build_reshape(L->c, y, 2 * s->rank, dims, &e);
  return tf_finish(L, n, y, &e);
}

/* DiagPart: Diag's inverse, for inputs of dims D + D. */
static HloError *lower_diag_part(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  const HloShape *s = &x->shape;
  int r = s->rank / 2;
  bool ok = s->rank >= 2 && s->rank % 2 == 0;
  for (int i = 0; ok && i < r; i++) ok = s->dims[i] == s->dims[r + i];
  if (!ok)
    return hlo_error("input %s must have an even rank and dims D + D", shape_str(L, s));
  int64_t p = 1;
  for (int i = 0; i < r; i++) p *= s->dims[i];
  HloInstr *y = hlo_build_reshape(L->c, x, 2, (int64_t[]){p, p}, &e);
  y = diagonal_part(L, y, &e);
  if (!e) y = hlo_build_reshape(L->c, y, r, s->dims, &e);
  return tf_finish(L, n, y, &e);
}

/* ------------------------------------------------------------------------ */
/* Reductions                                                               */
/* ------------------------------------------------------------------------ */

/* The type sums and products accumulate in: f32 for the 16-bit floats. */
static HloType accumulation_type(HloType t) {
  return t == HLO_F16 || t == HLO_BF16 ? HLO_F32 : t;
}

static const struct {
  const char *op;
  HloOpcode hlo;
} reductions[] = {
    {"Sum", HLO_OP_ADD},     {"Mean", HLO_OP_ADD}, {"Prod", HLO_OP_MULTIPLY},
    {"Max", HLO_OP_MAXIMUM}, {"Min", HLO_OP_MINIMUM}, {"All", HLO_OP_AND},
    {"Any", HLO_OP_OR},
};

/* Sum, Mean, Prod, Max, Min, All, Any: input, reduction_indices; keep_dims
 * keeps the reduced dimensions with size 1. */
/* The table names every op lower_reduction is registered for. */
static HloOpcode reduction_opcode(const char *op) {
  for (size_t k = 0; k < sizeof reductions / sizeof reductions[0]; k++)
    if (!strcmp(reductions[k].op, op)) return reductions[k].hlo;
  HLO_UNREACHABLE();
}

static HloError *lower_reduction(TfLower *L, const TfNode *n) {
  HloOpcode op = reduction_opcode(n->op);
  HloInstr *x;
  int64_t *axes;
  int count;
  bool keep;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &axes, &count);
  if (!e) e = tf_attr_bool_or(n, "keep_dims", false, &keep);
  if (e) return e;
  const HloShape *s = &x->shape;
  HloType t = s->type;
  if ((op == HLO_OP_AND || op == HLO_OP_OR) != (t == HLO_PRED))
    return hlo_error("%s of %s is not defined", n->op, hlo_type_name(t));
  int64_t dims[HLO_MAX_RANK], kept[HLO_MAX_RANK];
  bool named[HLO_MAX_RANK];
  int nd, r = 0;
  if ((e = axis_set(axes, count, s->rank, "axis", dims, &nd, named))) return e;
  if (nd == 0) {
    tf_set_output(L, n, 0, x);
    return NULL;
  }
  int64_t reduced = 1;
  for (int d = 0; d < s->rank; d++) {
    if (named[d]) reduced *= s->dims[d];
    if (!named[d] || keep) kept[r++] = named[d] ? 1 : s->dims[d];
  }
  HloType acc = op == HLO_OP_ADD || op == HLO_OP_MULTIPLY ? accumulation_type(t) : t;
  HloInstr *init;
  switch (op) {
  case HLO_OP_ADD: case HLO_OP_OR: init = tf_scalar(L, acc, 0); break;
  case HLO_OP_MULTIPLY: case HLO_OP_AND: init = tf_scalar(L, acc, 1); break;
  default: init = extreme(L, acc, op == HLO_OP_MINIMUM); break;
  }
  HloInstr *y;
  if ((e = tf_convert(L, x, acc, &y))) return e;
  HloComputation *f = hlo_build_scalar_computation(L->m, op, acc);
  y = hlo_build_reduce(L->c, &y, &init, 1, dims, nd, f, &e);
  if (y && !strcmp(n->op, "Mean")) {
    HloInstr *c = splat(L, acc, (double)reduced, &y->shape, &e);
    if (c) y = hlo_build_binary(L->c, HLO_OP_DIVIDE, y, c, &e);
  }
  if (y) e = tf_convert(L, y, t, &y);
  if (!e && keep) y = hlo_build_reshape(L->c, y, r, kept, &e);
  if (e) return e;
  tf_set_output(L, n, 0, y);
  return NULL;
}

/* The comparator of ArgMax/ArgMin, (value, index) x (value, index) ->
 * (value, index): the extreme value wins; NaN beats any number; equal
 * values (NaN included) keep the lower index, so the first occurrence
 * wins whatever order the reduction combines in. */
static HloComputation *arg_comparator(TfLower *L, HloType vt, HloType it, bool is_min) {
  HloComputation *f = tf_computation_new(L, is_min ? "argmin" : "argmax");
  HloShape vs = hlo_shape_scalar(vt), is = hlo_shape_scalar(it);
  HloInstr *av = hlo_parameter_new(f, 0, &vs, "a_value");
  HloInstr *ai = hlo_parameter_new(f, 1, &is, "a_index");
  HloInstr *bv = hlo_parameter_new(f, 2, &vs, "b_value");
  HloInstr *bi = hlo_parameter_new(f, 3, &is, "b_index");
  /* Scalars of matching types: these builders cannot fail. */
  HloInstr *pick = hlo_build_compare(f, is_min ? HLO_CMP_LE : HLO_CMP_GE, av, bv, NULL);
  HloInstr *tie = hlo_build_compare(f, HLO_CMP_EQ, av, bv, NULL);
  if (hlo_type_is_float(vt)) {
    HloInstr *a_nan = hlo_build_compare(f, HLO_CMP_NE, av, av, NULL);
    HloInstr *b_nan = hlo_build_compare(f, HLO_CMP_NE, bv, bv, NULL);
    pick = hlo_build_binary(f, HLO_OP_OR, pick, a_nan, NULL);
    HloInstr *both = hlo_build_binary(f, HLO_OP_AND, a_nan, b_nan, NULL);
    tie = hlo_build_binary(f, HLO_OP_OR, tie, both, NULL);
  }
  HloInstr *v = hlo_build_ternary(f, HLO_OP_SELECT, pick, av, bv, NULL);
  HloInstr *i = hlo_build_ternary(f, HLO_OP_SELECT, pick, ai, bi, NULL);
  HloInstr *low = hlo_build_binary(f, HLO_OP_MINIMUM, ai, bi, NULL);
  i = hlo_build_ternary(f, HLO_OP_SELECT, tie, low, i, NULL);
  HloInstr *pair[2] = {v, i};
  HloInstr *root = hlo_build_tuple(f, pair, 2, NULL);
  HLO_CHECK(root != NULL);
  hlo_set_root(f, root);
  return f;
}

/* ArgMax and ArgMin: input, dimension; output_type int32 or int64. */
static HloError *lower_arg_reduce(TfLower *L, const TfNode *n) {
  bool is_min = !strcmp(n->op, "ArgMin");
  HloInstr *x;
  int64_t axis;
  HloType it;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = input_int(L, n, 1, "dimension", &axis);
  if (!e) e = tf_attr_hlo_type_or(n, "output_type", HLO_S64, &it);
  if (e) return e;
  const HloShape *s = &x->shape;
  if (!hlo_type_is_integer(it))
    return hlo_error("output_type must be an integer type, is %s", hlo_type_name(it));
  if (s->rank == 0) return hlo_error("the input is a scalar");
  if ((e = tf_axis(axis, s->rank, "dimension", &axis))) return e;
  if (s->dims[axis] == 0)
    return hlo_error("dimension %lld of %s is empty", (long long)axis, shape_str(L, s));
  HloShape is = hlo_shape_array(it, s->rank, s->dims);
  HloInstr *iota = hlo_build_iota(L->c, &is, axis, &e);
  if (!iota) return e;
  HloInstr *in[2] = {x, iota}, *init[2];
  init[0] = extreme(L, s->type, is_min);
  init[1] = tf_scalar(L, it, 0);
  HloComputation *f = arg_comparator(L, s->type, it, is_min);
  HloInstr *r = hlo_build_reduce(L->c, in, init, 2, &axis, 1, f, &e);
  if (r) r = hlo_build_get_tuple_element(L->c, r, 1, &e);
  if (r) tf_set_output(L, n, 0, r);
  return e;
}

/* Cumsum and Cumprod: x, axis; exclusive, reverse.  A reduce-window whose
 * window spans the whole axis, padded with the identity so that window i
 * ends at element i (exclusive: just before it; reverse: mirrored). */
static HloError *lower_cumulative(TfLower *L, const TfNode *n) {
  HloOpcode op = !strcmp(n->op, "Cumprod") ? HLO_OP_MULTIPLY : HLO_OP_ADD;
  HloInstr *x;
  int64_t axis;
  bool exclusive, reverse;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = input_int(L, n, 1, "axis", &axis);
  if (!e) e = tf_attr_bool_or(n, "exclusive", false, &exclusive);
  if (!e) e = tf_attr_bool_or(n, "reverse", false, &reverse);
  if (e) return e;
  const HloShape *s = &x->shape;
  if ((e = tf_axis(axis, s->rank, "axis", &axis))) return e;
  int64_t len = s->dims[axis];
  if (len == 0 || hlo_shape_elements(s) == 0) {
    tf_set_output(L, n, 0, x);
    return NULL;
  }
  HloWindowDim w[HLO_MAX_RANK];
  for (int d = 0; d < s->rank; d++) w[d] = (HloWindowDim){.size = 1, .stride = 1};
  int64_t before = len - 1, after = 0;
  if (exclusive) before++, after--;
  w[axis].size = len;
  w[axis].pad_lo = reverse ? after : before;
  w[axis].pad_hi = reverse ? before : after;
  HloType t = s->type, acc = accumulation_type(t);
  HloInstr *y, *init = tf_scalar(L, acc, op == HLO_OP_ADD ? 0 : 1);
  if ((e = tf_convert(L, x, acc, &y))) return e;
  HloComputation *f = hlo_build_scalar_computation(L->m, op, acc);
  y = hlo_build_reduce_window(L->c, &y, &init, 1, w, f, &e);
  if (y) e = tf_convert(L, y, t, &y);
  if (e) return e;
  tf_set_output(L, n, 0, y);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Permutations, rolls, sequences                                           */
/* ------------------------------------------------------------------------ */

/* y[j] = the i with x[i] == j, as the sum over i of (x[i] == j ? i : 0):
 * n^2 comparisons, but it needs no constant x and no scatter, and
 * permutations are short.  Where x is not a permutation TensorFlow fails
 * at run time; here a missing j gives 0 (duplicates add up). */
static HloError *lower_invert_permutation(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  const HloShape *s = &x->shape;
  if (s->rank != 1 || (s->type != HLO_S32 && s->type != HLO_S64))
    return hlo_error("x %s must be an s32 or s64 vector", shape_str(L, s));
  int64_t sq[2] = {s->dims[0], s->dims[0]}, dim0 = 0;
  HloShape ss = hlo_shape_array(s->type, 2, sq);
  HloInstr *xi = hlo_build_broadcast(L->c, x, &ss, &dim0, 1, &e); /* x[i] at [i, j] */
  HloInstr *i = e ? NULL : hlo_build_iota(L->c, &ss, 0, &e);
  HloInstr *j = e ? NULL : hlo_build_iota(L->c, &ss, 1, &e);
  HloInstr *hit = tf_select(L, tf_compare(L, HLO_CMP_EQ, xi, j, &e), i, tf_full(L, i, 0, &e), &e);
  HloInstr *zero = tf_scalar(L, s->type, 0), *y = NULL;
  if (!e)
    y = hlo_build_reduce(L->c, &hit, &zero, 1, &dim0, 1,
                         hlo_build_scalar_computation(L->m, HLO_OP_ADD, s->type), &e);
  return tf_finish(L, n, y, &e);
}

/* Roll with constant shift and axis (scalars, or vectors of one length;
 * shifts of a repeated axis add up): per axis, the last s elements move
 * to the front, one concatenation of two slices. */
static HloError *lower_roll(TfLower *L, const TfNode *n) {
  HloInstr *x;
  int64_t *shift, *axis;
  int ns, na;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input_ints(L, n, 1, &shift, &ns);
  if (!e) e = tf_input_ints(L, n, 2, &axis, &na);
  if (e) return e;
  if (ns != na)
    return hlo_error("shift %s and axis %s must have the same length", ints_str(L, shift, ns),
                     ints_str(L, axis, na));
  const HloShape *s = &x->shape;
  int64_t total[HLO_MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int64_t a;
    if ((e = tf_axis(axis[i], s->rank, "axis", &a))) return e;
    total[a] += shift[i] % (s->dims[a] ? s->dims[a] : 1);
  }
  HloInstr *y = x;
  for (int d = 0; d < s->rank && !e; d++) {
    int64_t size = s->dims[d], k = size ? ((total[d] % size) + size) % size : 0;
    if (!k) continue;
    HloInstr *parts[2] = {slice_dim(L, y, d, size - k, size, &e), NULL};
    if (!e) parts[1] = slice_dim(L, y, d, 0, size - k, &e);
    if (!e) y = hlo_build_concatenate(L->c, parts, 2, d, &e);
  }
  return tf_finish(L, n, y, &e);
}

/* ReverseSequence: along seq_dim, the first seq_lengths[b] elements of
 * each batch entry b (along batch_dim) reversed, the rest kept.  x is
 * transposed to [batch, seq, rest…] and gathered along seq, batch by
 * batch, at index (i < len ? len - 1 - i : i), then transposed back.
 * seq_lengths may be run-time values; TensorFlow fails on lengths beyond
 * the sequence, where the gather clamps. */
static HloError *lower_reverse_sequence(TfLower *L, const TfNode *n) {
  HloInstr *x, *len;
  int64_t seq, batch;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) e = tf_input(L, n, 1, &len);
  if (!e) e = tf_attr_int(n, "seq_dim", &seq);
  if (!e) e = tf_attr_int_or(n, "batch_dim", 0, &batch);
  if (e) return e;
  const HloShape *s = &x->shape;
  int r = s->rank;
  if (seq < 0 || seq >= r || batch < 0 || batch >= r || seq == batch)
    return hlo_error("seq_dim %lld and batch_dim %lld must be distinct dimensions of %s",
                     (long long)seq, (long long)batch, shape_str(L, s));
  const HloShape *ls = &len->shape;
  if (ls->rank != 1 || ls->dims[0] != s->dims[batch] || !hlo_type_is_integer(ls->type))
    return hlo_error("seq_lengths %s must be an integer vector of %lld elements (dim %lld of %s)",
                     shape_str(L, ls), (long long)s->dims[batch], (long long)batch,
                     shape_str(L, s));
  int64_t perm[HLO_MAX_RANK], inv[HLO_MAX_RANK];
  perm[0] = batch;
  perm[1] = seq;
  for (int d = 0, k = 2; d < r; d++)
    if (d != batch && d != seq) perm[k++] = d;
  for (int d = 0; d < r; d++) inv[perm[d]] = d;
  HloInstr *xt = hlo_build_transpose(L->c, x, perm, &e);
  int64_t bs[2] = {s->dims[batch], s->dims[seq]}, dim0 = 0;
  HloShape is = hlo_shape_array(HLO_S64, 2, bs);
  HloInstr *l = tf_converted(L, len, HLO_S64, &e);
  if (!e) l = hlo_build_broadcast(L->c, l, &is, &dim0, 1, &e);
  HloInstr *i = e ? NULL : hlo_build_iota(L->c, &is, 1, &e);
  HloInstr *rev = tf_binary(L, HLO_OP_SUBTRACT,
                            tf_binary(L, HLO_OP_SUBTRACT, l, tf_full(L, l, 1, &e), &e), i, &e);
  HloInstr *idx = tf_select(L, tf_compare(L, HLO_CMP_LT, i, l, &e), rev, i, &e), *y = NULL;
  if (!e) e = tf_gather(L, xt, idx, 1, 1, &y);
  if (!e) y = hlo_build_transpose(L->c, y, inv, &e);
  return tf_finish(L, n, y, &e);
}

/* ------------------------------------------------------------------------ */
/* Small formulas                                                           */
/* ------------------------------------------------------------------------ */

/* LinSpace: num constant (it is the shape), start and stop scalars that
 * may be run-time values.  As TensorFlow's kernel: step = (stop - start)
 * / (num - 1) in the element type, element i = start + step * i, and the
 * last element exactly stop. */
static HloError *lower_lin_space(TfLower *L, const TfNode *n) {
  HloInstr *start, *stop;
  int64_t num;
  HloError *e = tf_expect_inputs(n, 3, 3);
  if (!e) e = tf_input(L, n, 0, &start);
  if (!e) e = tf_input(L, n, 1, &stop);
  if (!e) e = input_int(L, n, 2, "num", &num);
  if (e) return e;
  HloType t = start->shape.type;
  if (start->shape.rank || stop->shape.rank || stop->shape.type != t || !hlo_type_is_float(t))
    return hlo_error("start %s and stop %s must be float scalars of one type",
                     shape_str(L, &start->shape), shape_str(L, &stop->shape));
  if (num <= 0) return hlo_error("num must be positive, is %lld", (long long)num);
  if (num == 1) return tf_finish(L, n, hlo_build_reshape(L->c, start, 1, &num, &e), &e);
  HloShape s = hlo_shape_array(t, 1, &num);
  HloInstr *i = hlo_build_iota(L->c, &s, 0, &e);
  HloInstr *step = tf_binary(L, HLO_OP_DIVIDE, tf_binary(L, HLO_OP_SUBTRACT, stop, start, &e),
                             tf_scalar(L, t, (double)(num - 1)), &e);
  HloInstr *b_start = e ? NULL : hlo_build_broadcast(L->c, start, &s, NULL, 0, &e);
  HloInstr *b_stop = e ? NULL : hlo_build_broadcast(L->c, stop, &s, NULL, 0, &e);
  HloInstr *b_step = e ? NULL : hlo_build_broadcast(L->c, step, &s, NULL, 0, &e);
  HloInstr *y = tf_binary(L, HLO_OP_ADD, b_start, tf_binary(L, HLO_OP_MULTIPLY, b_step, i, &e), &e);
  HloInstr *last = tf_compare(L, HLO_CMP_EQ, i, tf_full(L, i, (double)(num - 1), &e), &e);
  return tf_finish(L, n, tf_select(L, last, b_stop, y, &e), &e);
}

/* Cross: a x b over the last dimension, which must be 3. */
static HloError *lower_cross(TfLower *L, const TfNode *n) {
  HloInstr *v[2];
  HloError *e = tf_inputs(L, n, 2, v);
  if (e) return e;
  const HloShape *s = &v[0]->shape;
  if (s->rank < 1 || s->dims[s->rank - 1] != 3 || v[1]->shape.type != s->type ||
      !hlo_shape_same_dims(s, &v[1]->shape))
    return hlo_error("a %s and b %s must have one shape whose last dimension is 3",
                     shape_str(L, s), shape_str(L, &v[1]->shape));
  int last = s->rank - 1;
  HloInstr *c[2][3];
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 3; i++) c[k][i] = e ? NULL : slice_dim(L, v[k], last, i, i + 1, &e);
  HloInstr *out[3];
  for (int i = 0; i < 3; i++) {
    int p = (i + 1) % 3, q = (i + 2) % 3;
    out[i] = tf_binary(L, HLO_OP_SUBTRACT, tf_binary(L, HLO_OP_MULTIPLY, c[0][p], c[1][q], &e),
                       tf_binary(L, HLO_OP_MULTIPLY, c[0][q], c[1][p], &e), &e);
  }
  HloInstr *y = e ? NULL : hlo_build_concatenate(L->c, out, 3, last, &e);
  return tf_finish(L, n, y, &e);
}

/* BroadcastArgs: the numpy-broadcast shape of two constant shapes, as a
 * constant of their type. */
static HloError *lower_broadcast_args(TfLower *L, const TfNode *n) {
  HloInstr *t;
  int64_t *a, *b;
  int na, nb;
  HloError *e = tf_expect_inputs(n, 2, 2);
  if (!e) e = tf_input(L, n, 0, &t);
  if (!e) e = tf_input_ints(L, n, 0, &a, &na);
  if (!e) e = tf_input_ints(L, n, 1, &b, &nb);
  if (e) return e;
  int64_t r = na > nb ? na : nb;
  HloLiteral *lit = new_literal(L, t->shape.type, 1, &r);
  for (int64_t i = 0; i < r; i++) {
    int64_t ia = i - (r - na), ib = i - (r - nb);
    int64_t x = ia >= 0 ? a[ia] : 1, y = ib >= 0 ? b[ib] : 1;
    if (x != y && x != 1 && y != 1)
      return hlo_error("shapes %s and %s are incompatible", ints_str(L, a, na), ints_str(L, b, nb));
    hlo_literal_set_s64(lit, i, x == 1 ? y : x);
  }
  return tf_finish(L, n, hlo_constant_new(L->c, lit, NULL), &e);
}

/* ------------------------------------------------------------------------ */
/* Unique                                                                   */
/* ------------------------------------------------------------------------ */

/* The slices of x along one axis, for Unique: slice k holds the elements
 * (o, k, i) for o < outer, i < inner. */
typedef struct Slices {
  const HloLiteral *x;
  int64_t outer, size, inner;
} Slices;

static int64_t slice_elem(const Slices *s, int64_t k, int64_t o, int64_t i) {
  return (o * s->size + k) * s->inner + i;
}

/* Slices a and b are equal when every pair of elements compares equal with
 * C's ==, as TensorFlow's kernel compares them: 0.0 equals -0.0, a NaN
 * equals nothing, so a slice holding one is always new. */
static bool slices_equal(const Slices *s, int64_t a, int64_t b) {
  HloType t = s->x->shape.type;
  size_t w = hlo_type_size(t);
  for (int64_t o = 0; o < s->outer; o++)
    for (int64_t i = 0; i < s->inner; i++) {
      int64_t ea = slice_elem(s, a, o, i), eb = slice_elem(s, b, o, i);
      if (hlo_type_is_float(t)) {
        if (hlo_literal_get_f64(s->x, ea) != hlo_literal_get_f64(s->x, eb)) return false;
      } else if (memcmp((const char *)s->x->data + (size_t)ea * w,
                        (const char *)s->x->data + (size_t)eb * w, w)) {
        return false;
      }
    }
  return true;
}

/* A hash that agrees with slices_equal: floats hash by value with -0.0
 * made +0.0. */
static uint64_t slice_hash(const Slices *s, int64_t k) {
  HloType t = s->x->shape.type;
  size_t w = hlo_type_size(t);
  uint64_t h = UINT64_C(14695981039346656037);
  for (int64_t o = 0; o < s->outer; o++)
    for (int64_t i = 0; i < s->inner; i++) {
      int64_t e = slice_elem(s, k, o, i);
      unsigned char b[8];
      size_t nb = w;
      if (hlo_type_is_float(t)) {
        double v = hlo_literal_get_f64(s->x, e);
        if (v == 0) v = 0;
        memcpy(b, &v, sizeof v);
        nb = sizeof v;
      } else {
        memcpy(b, (const char *)s->x->data + (size_t)e * w, w);
      }
      for (size_t j = 0; j < nb; j++) h = (h ^ b[j]) * UINT64_C(1099511628211);
    }
  return h;
}

/* Unique, UniqueV2, UniqueWithCounts, UniqueWithCountsV2: the number of
 * unique values is data, so x must fold to a constant, and the results
 * are constants: y in the order of first occurrence (TensorFlow's), idx
 * mapping each slice of x to its row of y, and the counts.  The V2 forms
 * take axis as a vector of zero or one element; none means x is a vector. */
static HloError *lower_unique(TfLower *L, const TfNode *n) {
  bool v2 = strstr(n->op, "V2") != NULL, counts = strstr(n->op, "Counts") != NULL;
  HloLiteral *x;
  HloType it;
  int64_t *axes = NULL, axis = 0;
  int naxes = 0;
  HloError *e = tf_expect_inputs(n, v2 ? 2 : 1, v2 ? 2 : 1);
  if (!e) e = tf_attr_hlo_type_or(n, "out_idx", HLO_S32, &it);
  if (!e && (e = tf_input_literal(L, n, 0, &x)))
    e = hlo_error_wrap(e, "the number of unique values depends on the data");
  if (!e && v2) e = tf_input_ints(L, n, 1, &axes, &naxes);
  if (e) return e;
  const HloShape *xs = &x->shape;
  if (naxes > 1) return hlo_error("axis has %d elements, at most 1 is supported", naxes);
  if (naxes == 1) {
    if ((e = tf_axis(axes[0], xs->rank, "axis", &axis))) return e;
  } else if (xs->rank != 1) {
    return hlo_error("x must be a vector, is %s", shape_str(L, xs));
  }
  if (it != HLO_S32 && it != HLO_S64)
    return hlo_error("out_idx must be int32 or int64, is %s", hlo_type_name(it));
  if (!hlo_type_is_float(xs->type) && !hlo_type_is_integer(xs->type) && xs->type != HLO_PRED)
    return hlo_error("unsupported type %s", hlo_type_name(xs->type));
  Slices s = {x, 1, xs->dims[axis], 1};
  for (int d = 0; d < xs->rank; d++) {
    if (d < axis) s.outer *= xs->dims[d];
    if (d > axis) s.inner *= xs->dims[d];
  }
  /* Open addressing over the first occurrences; the table has a free slot
   * for every slice. */
  int64_t cap = 2;
  while (cap < 2 * s.size) cap *= 2;
  int64_t *table = hlo_xmalloc(sizeof(int64_t) * (size_t)cap);
  int64_t *first = hlo_xmalloc(sizeof(int64_t) * (size_t)(s.size ? s.size : 1));
  int64_t *count = hlo_xcalloc((size_t)(s.size ? s.size : 1), sizeof(int64_t));
  int64_t dims[1] = {s.size}, m = 0;
  HloLiteral *idx = new_literal(L, it, 1, dims);
  for (int64_t k = 0; k < cap; k++) table[k] = -1;
  for (int64_t k = 0; k < s.size; k++) {
    int64_t h = (int64_t)(slice_hash(&s, k) & (uint64_t)(cap - 1));
    while (table[h] >= 0 && !slices_equal(&s, first[table[h]], k)) h = (h + 1) & (cap - 1);
    if (table[h] < 0) {
      table[h] = m;
      first[m++] = k;
    }
    count[table[h]]++;
    hlo_literal_set_s64(idx, k, table[h]);
  }
  int64_t yd[HLO_MAX_RANK];
  memcpy(yd, xs->dims, sizeof(int64_t) * (size_t)xs->rank);
  yd[axis] = m;
  HloLiteral *y = new_literal(L, xs->type, xs->rank, yd), *c = new_literal(L, it, 1, &m);
  size_t w = hlo_type_size(xs->type), row = (size_t)s.inner * w;
  for (int64_t j = 0; j < m; j++) {
    hlo_literal_set_s64(c, j, count[j]);
    for (int64_t o = 0; o < s.outer && row; o++)
      memcpy((char *)y->data + (size_t)((o * m + j) * s.inner) * w,
             (const char *)x->data + (size_t)slice_elem(&s, first[j], o, 0) * w, row);
  }
  free(table);
  free(first);
  free(count);
  tf_set_output(L, n, 0, hlo_constant_new(L->c, y, NULL));
  tf_set_output(L, n, 1, hlo_constant_new(L->c, idx, NULL));
  if (counts) tf_set_output(L, n, 2, hlo_constant_new(L->c, c, NULL));
  return NULL;
}

/* L2Loss: sum(t^2) / 2, a scalar, accumulated in f32 for 16-bit floats
 * as the reductions are. */
static HloError *lower_l2_loss(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_inputs(L, n, 1, &x);
  if (e) return e;
  HloType t = x->shape.type, acc = accumulation_type(t);
  if (!hlo_type_is_float(t))
    return hlo_error("t has type %s; L2Loss is defined for floating-point types",
                     hlo_type_name(t));
  HloInstr *w = tf_converted(L, x, acc, &e);
  HloInstr *sq = tf_binary(L, HLO_OP_MULTIPLY, w, w, &e);
  int64_t dims[HLO_MAX_RANK];
  for (int d = 0; d < x->shape.rank; d++) dims[d] = d;
  HloInstr *zero = tf_scalar(L, acc, 0), *y = sq;
  if (!e && x->shape.rank)
    y = hlo_build_reduce(L->c, &sq, &zero, 1, dims, x->shape.rank,
                         hlo_build_scalar_computation(L->m, HLO_OP_ADD, acc), &e);
  y = tf_binary(L, HLO_OP_MULTIPLY, y, tf_scalar(L, acc, 0.5), &e);
  return tf_finish(L, n, tf_converted(L, y, t, &e), &e);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define REDUCTION(op, notes) {op, lower_reduction, "T, Tidx, keep_dims", notes}

const TfOpLowering tf_lower_array[] = {
    {"Reshape", lower_reshape, "T, Tshape", "shape constant; one -1 inferred"},
    {"Squeeze", lower_squeeze, "T, squeeze_dims",
     "negative dims; no dims: every size-1 dimension"},
    {"ExpandDims", lower_expand_dims, "T, Tdim", "dim constant, in [-rank-1, rank]"},
    {"Transpose", lower_transpose, "T, Tperm", "perm constant"},
    {"Shape", lower_shape, "T, out_type", "a constant of the static shape"},
    {"ShapeN", lower_shape, "N, T, out_type", "constants of the static shapes"},
    {"Size", lower_size, "T, out_type", "a constant"},
    {"Rank", lower_rank, "T", "a constant"},
    {"ConcatV2", lower_concat_v2, "N, T, Tidx", "axis constant, may be negative"},
    {"Concat", lower_concat, "N, T", "axis constant, may be negative"},
    {"Pack", lower_pack, "N, T, axis", "negative axis"},
    {"Unpack", lower_unpack, "num, T, axis", "negative axis"},
    {"Split", lower_split, "num_split, T", "split_dim constant; equal parts"},
    {"SplitV", lower_split_v, "num_split, T, Tlen",
     "size_splits and split_dim constant; one size may be -1"},
    {"Slice", lower_slice, "T, Index", "begin and size constant; size -1: to the end"},
    {"StridedSlice", lower_strided_slice,
     "T, Index, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask",
     "begin, end, strides constant; negative strides reverse then slice"},
    {"Pad", lower_pad, "T, Tpaddings", "paddings constant, non-negative"},
    {"PadV2", lower_pad, "T, Tpaddings", "paddings constant; constant_values a scalar"},
    {"MirrorPad", lower_mirror_pad, "T, Tpaddings, mode",
     "REFLECT and SYMMETRIC; paddings constant"},
    {"Tile", lower_tile, "T, Tmultiples", "multiples constant"},
    {"ReverseV2", lower_reverse_v2, "T, Tidx", "axis constant, may be negative"},
    {"BroadcastTo", lower_broadcast_to, "T, Tidx", "shape constant; numpy rules"},
    {"Fill", lower_fill, "T, index_type", "dims constant"},
    {"ZerosLike", lower_const_like, "T", ""},
    {"OnesLike", lower_const_like, "T", ""},
    {"Range", lower_range, "Tidx",
     "start, limit, delta constant: the result is a constant"},
    {"GatherV2", lower_gather_v2, "Tparams, Tindices, Taxis, batch_dims",
     "axis constant; out-of-range indices are clamped (TensorFlow's CPU kernel fails)"},
    {"MatrixBandPart", lower_matrix_band_part, "T, Tindex",
     "num_lower and num_upper may be run-time values; negative keeps the whole triangle"},
    {"MatrixDiag", lower_matrix_diag, "T", "square matrices of the diagonal"},
    {"MatrixDiagV2", lower_matrix_diag, "T", "k constant 0; num_rows, num_cols constant"},
    {"MatrixDiagV3", lower_matrix_diag, "T, align",
     "k constant 0; num_rows, num_cols constant (one equal to the diagonal's length)"},
    {"MatrixDiagPart", lower_matrix_diag_part, "T", "the main diagonal"},
    {"MatrixDiagPartV2", lower_matrix_diag_part, "T", "k constant 0"},
    {"MatrixDiagPartV3", lower_matrix_diag_part, "T, align", "k constant 0"},
    {"MatrixSetDiag", lower_matrix_set_diag, "T", "the main diagonal"},
    {"MatrixSetDiagV2", lower_matrix_set_diag, "T", "k constant 0"},
    {"MatrixSetDiagV3", lower_matrix_set_diag, "T, align", "k constant 0"},
    {"Diag", lower_diag, "T", "result of dims D + D"},
    {"DiagPart", lower_diag_part, "T", "input of dims D + D"},
    {"InvertPermutation", lower_invert_permutation, "T",
     "x may be a run-time value; n^2 comparisons; a non-permutation is not detected"},
    {"Roll", lower_roll, "T, Tshift, Taxis",
     "shift and axis constant; shifts of a repeated axis add up"},
    {"ReverseSequence", lower_reverse_sequence, "T, Tlen, seq_dim, batch_dim",
     "seq_lengths may be run-time values; lengths beyond the dimension are not detected"},
    {"LinSpace", lower_lin_space, "T, Tidx",
     "num constant; start, stop may be run-time values; last element exactly stop"},
    {"Cross", lower_cross, "T", "last dimension 3"},
    {"BroadcastArgs", lower_broadcast_args, "T", "s0, s1 constant: the result is a constant"},
    {"Unique", lower_unique, "T, out_idx",
     "x constant (the size of y depends on its values): the results are constants"},
    {"UniqueV2", lower_unique, "T, Taxis, out_idx",
     "x and axis constant: the results are constants"},
    {"UniqueWithCounts", lower_unique, "T, out_idx",
     "x constant (the size of y depends on its values): the results are constants"},
    {"UniqueWithCountsV2", lower_unique, "T, Taxis, out_idx",
     "x and axis constant: the results are constants"},
    {"L2Loss", lower_l2_loss, "T", "sum(t^2) / 2; f16/bf16 accumulate in f32"},
    {"OneHot", lower_one_hot, "T, TI, axis", "depth constant; out-of-range indices give off_value"},
    REDUCTION("Sum", "f16/bf16 accumulate in f32"),
    REDUCTION("Mean", "f16/bf16 accumulate in f32; integers truncate"),
    REDUCTION("Prod", "f16/bf16 accumulate in f32"),
    REDUCTION("Max", ""),
    REDUCTION("Min", ""),
    REDUCTION("All", ""),
    REDUCTION("Any", ""),
    {"ArgMax", lower_arg_reduce, "T, Tidx, output_type",
     "dimension constant; first index among ties; NaN is the maximum"},
    {"ArgMin", lower_arg_reduce, "T, Tidx, output_type",
     "dimension constant; first index among ties; NaN is the minimum"},
    {"Cumsum", lower_cumulative, "T, Tidx, exclusive, reverse",
     "axis constant; f16/bf16 accumulate in f32"},
    {"Cumprod", lower_cumulative, "T, Tidx, exclusive, reverse",
     "axis constant; f16/bf16 accumulate in f32"},
    {NULL, NULL, NULL, NULL},
};
