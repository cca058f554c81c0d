/*
 * test_hlo_builder.c — the hlo_build_* constructors and the shapes
 * hlo_infer_shape gives them: elementwise ops, data movement, dot,
 * convolution (NHWC and NCHW dim_labels, strides, SAME padding, dilation,
 * depthwise), gather and scatter (with batching dims), variadic reduce,
 * reduce-window, sort, and the errors a bad build reports (the instruction
 * is unlinked again).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

static HloModule *m;
static HloComputation *c;

static void setup(void) {
  m = hlo_module_new("builder_test");
  c = hlo_computation_new(m, "main");
  hlo_module_set_entry(m, c);
}

static void teardown(void) { hlo_module_free(m); }

/* A parameter of type t with the given dims (rank dims follow). */
static HloInstr *param(HloType t, int rank, ...) {
  int64_t dims[HLO_MAX_RANK];
  va_list ap;
  va_start(ap, rank);
  for (int i = 0; i < rank; i++) dims[i] = va_arg(ap, int64_t);
  va_end(ap);
  HloShape s = hlo_shape_array(t, rank, dims);
  return hlo_parameter_new(c, c->nparams, &s, NULL);
}

#define P(t, ...) param(t, PP_NARG(__VA_ARGS__), __VA_ARGS__)
#define PP_NARG(...) PP_NARG_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1)
#define PP_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define D(x) ((int64_t)(x))

static void assert_shape(const HloInstr *in, const char *want) {
  ck_assert_ptr_nonnull(in);
  char *got = hlo_shape_to_string(&in->shape);
  ck_assert_str_eq(got, want);
  free(got);
}

static int total_users(void) {
  int n = 0;
  for (HloInstr *x = c->first; x; x = x->next) n += x->nusers;
  return n;
}

/* A failed build returns NULL with exactly `want` and leaves no trace:
 * nothing new in the list, no operand keeps a new user. */
#define ASSERT_BUILD_ERROR(want, build)                                       \
  do {                                                                        \
    HloInstr *last_ = c->last;                                                \
    int users_ = total_users();                                               \
    err = NULL;                                                               \
    HloInstr *in_ = (build);                                                  \
    ck_assert_ptr_null(in_);                                                  \
    ck_assert_ptr_nonnull(err);                                               \
    ck_assert_str_eq(hlo_error_message(err), want);                           \
    hlo_error_free(err);                                                      \
    ck_assert_ptr_eq(c->last, last_);                                         \
    ck_assert_int_eq(total_users(), users_);                                  \
  } while (0)

/* Verifies the module with `root` as the entry's root. */
static void assert_verifies(HloInstr *root) {
  hlo_set_root(c, root);
  HloError *e = hlo_verify(m);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
}

START_TEST(elementwise) {
  HloError *err = NULL;
  HloInstr *a = P(HLO_F32, D(2), D(3)), *b = P(HLO_F32, D(2), D(3));
  HloInstr *sum = hlo_build_binary(c, HLO_OP_ADD, a, b, &err);
  assert_shape(sum, "f32[2,3]{1,0}");
  ck_assert_ptr_null(err);
  HloInstr *lt = hlo_build_compare(c, HLO_CMP_LT, a, sum, &err);
  assert_shape(lt, "pred[2,3]{1,0}");
  ck_assert_int_eq(lt->direction, HLO_CMP_LT);
  assert_shape(hlo_build_ternary(c, HLO_OP_SELECT, lt, a, b, &err), "f32[2,3]{1,0}");
  assert_shape(hlo_build_convert(c, a, HLO_S32, &err), "s32[2,3]{1,0}");
  assert_shape(hlo_build_unary(c, HLO_OP_IS_FINITE, a, &err), "pred[2,3]{1,0}");
  HloInstr *lo = hlo_build_constant_scalar(c, HLO_F32, 0), *hi = hlo_build_constant_scalar(c, HLO_F32, 6);
  ck_assert_double_eq(hlo_literal_get_f64(hi->literal, 0), 6.0);
  HloInstr *relu6 = hlo_build_ternary(c, HLO_OP_CLAMP, lo, sum, hi, &err);
  assert_shape(relu6, "f32[2,3]{1,0}");
  assert_verifies(hlo_build_unary(c, HLO_OP_TANH, relu6, &err));
}
END_TEST

START_TEST(elementwise_errors) {
  HloError *err = NULL;
  HloInstr *a = P(HLO_F32, D(2)), *b = P(HLO_F32, D(3)), *i = P(HLO_S32, D(2));
  ASSERT_BUILD_ERROR("add: operands have different shapes f32[2]{0} and f32[3]{0}",
                     hlo_build_binary(c, HLO_OP_ADD, a, b, &err));
  ASSERT_BUILD_ERROR("multiply: operands have different shapes f32[2]{0} and s32[2]{0}",
                     hlo_build_binary(c, HLO_OP_MULTIPLY, a, i, &err));
  ASSERT_BUILD_ERROR("and: operand type f32 is not pred or an integer type",
                     hlo_build_binary(c, HLO_OP_AND, a, a, &err));
  ASSERT_BUILD_ERROR("shift-left: operand type f32 is not an integer type",
                     hlo_build_binary(c, HLO_OP_SHIFT_LEFT, a, a, &err));
  ASSERT_BUILD_ERROR("exponential: operand type s32 is not a floating-point type",
                     hlo_build_unary(c, HLO_OP_EXP, i, &err));
  ASSERT_BUILD_ERROR("select: predicate f32[2]{0} is not pred",
                     hlo_build_ternary(c, HLO_OP_SELECT, a, a, a, &err));
  HloInstr *p = P(HLO_PRED, D(3));
  ASSERT_BUILD_ERROR("select: predicate pred[3]{0} and on_true f32[2]{0} have different dims",
                     hlo_build_ternary(c, HLO_OP_SELECT, p, a, a, &err));
  ASSERT_BUILD_ERROR("clamp: min f32[3]{0} must be a scalar or have the shape of the operand "
                     "f32[2]{0}",
                     hlo_build_ternary(c, HLO_OP_CLAMP, b, a, a, &err));
}
END_TEST

START_TEST(data_movement) {
  HloError *err = NULL;
  HloInstr *x = P(HLO_F32, D(2), D(3));
  int64_t bdims[] = {0, 2};
  int64_t out[] = {2, 4, 3};
  HloShape bs = hlo_shape_array(HLO_F32, 3, out);
  assert_shape(hlo_build_broadcast(c, x, &bs, bdims, 2, &err), "f32[2,4,3]{2,1,0}");
  int64_t rs[] = {3, 2};
  assert_shape(hlo_build_reshape(c, x, 2, rs, &err), "f32[3,2]{1,0}");
  int64_t perm[] = {1, 0};
  assert_shape(hlo_build_transpose(c, x, perm, &err), "f32[3,2]{1,0}");
  HloSliceDim sl[] = {{0, 2, 1}, {1, 3, 0}}; /* stride 0 reads as 1 */
  HloInstr *s = hlo_build_slice(c, x, sl, &err);
  assert_shape(s, "f32[2,2]{1,0}");
  ck_assert_int_eq(s->slice[1].stride, 1);
  HloSliceDim strided[] = {{0, 2, 1}, {0, 3, 2}};
  assert_shape(hlo_build_slice(c, x, strided, &err), "f32[2,2]{1,0}");
  HloInstr *parts[] = {x, x, s};
  assert_shape(hlo_build_concatenate(c, parts, 3, 1, &err), "f32[2,8]{1,0}");
  HloPadDim pad[] = {{1, 2, 0}, {-1, 0, 1}};
  assert_shape(hlo_build_pad(c, x, hlo_build_constant_scalar(c, HLO_F32, 0), pad, &err),
               "f32[5,4]{1,0}");
  int64_t rev[] = {1};
  assert_shape(hlo_build_reverse(c, x, rev, 1, &err), "f32[2,3]{1,0}");
  int64_t idims[] = {4, 5};
  HloShape is = hlo_shape_array(HLO_S32, 2, idims);
  assert_shape(hlo_build_iota(c, &is, 1, &err), "s32[4,5]{1,0}");
  HloInstr *zero = hlo_build_constant_scalar(c, HLO_S32, 0);
  HloInstr *starts[] = {zero, zero};
  int64_t sizes[] = {1, 2};
  HloInstr *ds = hlo_build_dynamic_slice(c, x, starts, sizes, &err);
  assert_shape(ds, "f32[1,2]{1,0}");
  HloInstr *dus = hlo_build_dynamic_update_slice(c, x, ds, starts, &err);
  assert_shape(dus, "f32[2,3]{1,0}");
  HloInstr *elems[] = {x, zero};
  HloInstr *t = hlo_build_tuple(c, elems, 2, &err);
  assert_shape(t, "(f32[2,3]{1,0}, s32[])");
  assert_shape(hlo_build_get_tuple_element(c, t, 1, &err), "s32[]");
  assert_verifies(t);
}
END_TEST

START_TEST(data_movement_errors) {
  HloError *err = NULL;
  HloInstr *x = P(HLO_F32, D(2), D(3));
  int64_t bdims[] = {0, 3};
  int64_t out[] = {2, 4, 3};
  HloShape bs = hlo_shape_array(HLO_F32, 3, out);
  ASSERT_BUILD_ERROR("broadcast: dimensions {0,3}: dimension 3 is out of range for rank 3",
                     hlo_build_broadcast(c, x, &bs, bdims, 2, &err));
  int64_t rs[] = {4, 2};
  ASSERT_BUILD_ERROR("reshape: operand f32[2,3]{1,0} has 6 elements but the result "
                     "f32[4,2]{1,0} has 8",
                     hlo_build_reshape(c, x, 2, rs, &err));
  int64_t perm[] = {0, 0};
  ASSERT_BUILD_ERROR("transpose: dimensions {0,0} is not a permutation of 2 dims",
                     hlo_build_transpose(c, x, perm, &err));
  HloSliceDim sl[] = {{0, 2, 1}, {1, 4, 1}};
  ASSERT_BUILD_ERROR("slice: [1:4:1] is out of range for dimension 1 of f32[2,3]{1,0}",
                     hlo_build_slice(c, x, sl, &err));
  HloInstr *y = P(HLO_F32, D(3), D(3));
  HloInstr *parts[] = {x, y};
  ASSERT_BUILD_ERROR("concatenate: operand 1 f32[3,3]{1,0} does not match operand 0 "
                     "f32[2,3]{1,0} outside dimension 1",
                     hlo_build_concatenate(c, parts, 2, 1, &err));
  ASSERT_BUILD_ERROR("get-tuple-element: operand f32[2,3]{1,0} is not a tuple",
                     hlo_build_get_tuple_element(c, x, 0, &err));
}
END_TEST

START_TEST(dot) {
  HloError *err = NULL;
  HloInstr *a = P(HLO_F32, D(4), D(3)), *b = P(HLO_F32, D(3), D(5));
  int64_t one = 1, zero = 0;
  HloDotDims mm = {.lhs_contracting = {1, &one}, .rhs_contracting = {1, &zero}};
  assert_shape(hlo_build_dot(c, a, b, &mm, HLO_F32, &err), "f32[4,5]{1,0}");
  HloInstr *ba = P(HLO_BF16, D(8), D(4), D(3)), *bb = P(HLO_BF16, D(8), D(3), D(5));
  int64_t two = 2;
  HloDotDims bmm = {.lhs_batch = {1, &zero}, .rhs_batch = {1, &zero},
                    .lhs_contracting = {1, &two}, .rhs_contracting = {1, &one}};
  /* a preferred element type wider than the operands' */
  HloInstr *d = hlo_build_dot(c, ba, bb, &bmm, HLO_F32, &err);
  assert_shape(d, "f32[8,4,5]{2,1,0}");
  ck_assert_int_eq(d->dot.lhs_batch.v[0], 0);
  /* a vector-vector dot is a scalar */
  HloInstr *v = P(HLO_S8, D(7));
  HloDotDims vv = {.lhs_contracting = {1, &zero}, .rhs_contracting = {1, &zero}};
  assert_shape(hlo_build_dot(c, v, v, &vv, HLO_S32, &err), "s32[]");
  ASSERT_BUILD_ERROR("dot: lhs contracting dimension 1 has size 3 but rhs contracting "
                     "dimension 0 has size 4",
                     hlo_build_dot(c, a, a, &mm, HLO_F32, &err));
  HloDotDims bad_batch = {.lhs_batch = {1, &zero}, .rhs_batch = {1, &zero},
                          .lhs_contracting = {1, &two}, .rhs_contracting = {1, &one}};
  HloInstr *bc = P(HLO_BF16, D(9), D(3), D(5));
  ASSERT_BUILD_ERROR("dot: lhs batch dimension 0 has size 8 but rhs batch dimension 0 has "
                     "size 9",
                     hlo_build_dot(c, ba, bc, &bad_batch, HLO_F32, &err));
}
END_TEST

/* dim_labels b01f_01io->b01f (NHWC, HWIO) and bf01_oi01->bf01 (NCHW, OIHW) */
static const HloConvDims NHWC = {.nspatial = 2, .in_batch = 0, .in_feature = 3,
                                 .in_spatial = {1, 2}, .k_in_feature = 2, .k_out_feature = 3,
                                 .k_spatial = {0, 1}, .out_batch = 0, .out_feature = 3,
                                 .out_spatial = {1, 2}};
static const HloConvDims NCHW = {.nspatial = 2, .in_batch = 0, .in_feature = 1,
                                 .in_spatial = {2, 3}, .k_in_feature = 1, .k_out_feature = 0,
                                 .k_spatial = {2, 3}, .out_batch = 0, .out_feature = 1,
                                 .out_spatial = {2, 3}};

START_TEST(convolution) {
  HloError *err = NULL;
  /* SAME padding, stride 2: ceil(5 / 2) = 3 outputs from a padded 7 */
  HloInstr *x = P(HLO_F32, D(1), D(5), D(5), D(3)), *k = P(HLO_F32, D(3), D(3), D(3), D(8));
  HloWindowDim same2[] = {{.size = 3, .stride = 2, .pad_lo = 1, .pad_hi = 1},
                          {.size = 3, .stride = 2, .pad_lo = 1, .pad_hi = 1}};
  HloInstr *y = hlo_build_convolution(c, x, k, same2, &NHWC, 1, 1, HLO_F32, &err);
  assert_shape(y, "f32[1,3,3,8]{3,2,1,0}");
  ck_assert_int_eq(y->window[0].lhs_dilate, 1); /* 0 reads as 1 */
  /* NCHW, VALID, kernel dilation 2: the 3-tap window spans 5 */
  HloInstr *xn = P(HLO_F32, D(2), D(3), D(7), D(7)), *kn = P(HLO_F32, D(16), D(3), D(3), D(3));
  HloWindowDim dil[] = {{.size = 3, .rhs_dilate = 2}, {.size = 3, .rhs_dilate = 2}};
  assert_shape(hlo_build_convolution(c, xn, kn, dil, &NCHW, 1, 1, HLO_F32, &err),
               "f32[2,16,3,3]{3,2,1,0}");
  /* input dilation (a transposed convolution): 4 -> 7, padded by 2 -> 11 */
  HloInstr *xt = P(HLO_F32, D(2), D(3), D(4), D(4));
  HloWindowDim tr[] = {{.size = 3, .pad_lo = 2, .pad_hi = 2, .lhs_dilate = 2},
                       {.size = 3, .pad_lo = 2, .pad_hi = 2, .lhs_dilate = 2}};
  assert_shape(hlo_build_convolution(c, xt, kn, tr, &NCHW, 1, 1, HLO_F32, &err),
               "f32[2,16,9,9]{3,2,1,0}");
  /* depthwise: 4 groups of 1 input feature, 2 outputs each */
  HloInstr *xd = P(HLO_F32, D(1), D(5), D(5), D(4)), *kd = P(HLO_F32, D(3), D(3), D(1), D(8));
  HloWindowDim same1[] = {{.size = 3, .pad_lo = 1, .pad_hi = 1}, {.size = 3, .pad_lo = 1, .pad_hi = 1}};
  HloInstr *dw = hlo_build_convolution(c, xd, kd, same1, &NHWC, 4, 1, HLO_F32, &err);
  assert_shape(dw, "f32[1,5,5,8]{3,2,1,0}");
  ck_assert_int_eq(dw->feature_group_count, 4);
  /* batch_group_count splits the batch (a filter gradient) */
  HloInstr *xb = P(HLO_F32, D(4), D(5), D(5), D(3)), *kb = P(HLO_F32, D(3), D(3), D(3), D(8));
  assert_shape(hlo_build_convolution(c, xb, kb, same1, &NHWC, 1, 2, HLO_F32, &err),
               "f32[2,5,5,8]{3,2,1,0}");
  HloInstr *kbad = P(HLO_F32, D(3), D(3), D(4), D(8));
  ASSERT_BUILD_ERROR("convolution: input feature dimension has size 3 but the kernel input "
                     "feature dimension has 4 (feature_group_count 1)",
                     hlo_build_convolution(c, x, kbad, same2, &NHWC, 1, 1, HLO_F32, &err));
  HloWindowDim wrong[] = {{.size = 2}, {.size = 3}};
  ASSERT_BUILD_ERROR("convolution: window dimension 0 has size 2 but the kernel's spatial "
                     "dimension 0 has 3",
                     hlo_build_convolution(c, x, k, wrong, &NHWC, 1, 1, HLO_F32, &err));
}
END_TEST

START_TEST(gather_and_scatter) {
  HloError *err = NULL;
  /* tf.gather(params[5,4], indices[3], axis=0) */
  HloInstr *x = P(HLO_F32, D(5), D(4)), *idx = P(HLO_S32, D(3));
  int64_t one = 1, zero = 0, ss[] = {1, 4};
  HloGatherDims g = {.offset_dims = {1, &one}, .collapsed_slice_dims = {1, &zero},
                     .start_index_map = {1, &zero}, .index_vector_dim = 1,
                     .slice_sizes = {2, ss}};
  HloInstr *gx = hlo_build_gather(c, x, idx, &g, &err);
  assert_shape(gx, "f32[3,4]{1,0}");
  ck_assert_int_eq(gx->gather.slice_sizes.v[1], 4);
  /* with batching dims: params[2,5,4], indices[2,3] paired on dim 0 */
  HloInstr *bx = P(HLO_F32, D(2), D(5), D(4)), *bidx = P(HLO_S32, D(2), D(3));
  int64_t two = 2, bss[] = {1, 1, 4};
  HloGatherDims bg = {.offset_dims = {1, &two}, .collapsed_slice_dims = {1, &one},
                      .start_index_map = {1, &one}, .operand_batching_dims = {1, &zero},
                      .start_indices_batching_dims = {1, &zero}, .index_vector_dim = 2,
                      .slice_sizes = {3, bss}};
  assert_shape(hlo_build_gather(c, bx, bidx, &bg, &err), "f32[2,3,4]{2,1,0}");

  /* tf.tensor_scatter_nd_add(x[5,4], indices[3,1], updates[3,4]) */
  HloComputation *add = hlo_build_scalar_computation(m, HLO_OP_ADD, HLO_F32);
  HloInstr *sidx = P(HLO_S32, D(3), D(1)), *upd = P(HLO_F32, D(3), D(4));
  HloScatterDims sd = {.update_window_dims = {1, &one}, .inserted_window_dims = {1, &zero},
                       .scatter_dims_to_operand_dims = {1, &zero}, .index_vector_dim = 1};
  HloInstr *sc = hlo_build_scatter(c, &x, sidx, &upd, 1, &sd, add, &err);
  assert_shape(sc, "f32[5,4]{1,0}");
  ck_assert_ptr_eq(sc->called[0], add);
  /* batched scatter: x[2,5,4], indices[2,3] (scalar index per batch), updates[2,3,4] */
  HloInstr *bupd = P(HLO_F32, D(2), D(3), D(4));
  HloScatterDims bsd = {.update_window_dims = {1, &two}, .inserted_window_dims = {1, &one},
                        .scatter_dims_to_operand_dims = {1, &one},
                        .input_batching_dims = {1, &zero},
                        .scatter_indices_batching_dims = {1, &zero}, .index_vector_dim = 2};
  assert_shape(hlo_build_scatter(c, &bx, bidx, &bupd, 1, &bsd, add, &err), "f32[2,5,4]{2,1,0}");
  int64_t big[] = {1, 5};
  HloGatherDims bad = g;
  bad.slice_sizes = (HloDims){2, big};
  ASSERT_BUILD_ERROR("gather: slice size 5 is out of range for dimension 1 of f32[5,4]{1,0}",
                     hlo_build_gather(c, x, idx, &bad, &err));
  assert_verifies(sc);
}
END_TEST

/* (a: f32[], i: s32[], b: f32[], j: s32[]) -> (max, its index) */
static HloComputation *argmax_reducer(void) {
  HloComputation *r = hlo_computation_new(m, "argmax");
  HloShape f = hlo_shape_scalar(HLO_F32), s = hlo_shape_scalar(HLO_S32);
  HloInstr *a = hlo_parameter_new(r, 0, &f, "a"), *i = hlo_parameter_new(r, 1, &s, "i");
  HloInstr *b = hlo_parameter_new(r, 2, &f, "b"), *j = hlo_parameter_new(r, 3, &s, "j");
  HloError *err = NULL;
  HloInstr *ge = hlo_build_compare(r, HLO_CMP_GE, a, b, &err);
  HloInstr *v = hlo_build_ternary(r, HLO_OP_SELECT, ge, a, b, &err);
  HloInstr *k = hlo_build_ternary(r, HLO_OP_SELECT, ge, i, j, &err);
  HloInstr *pair[] = {v, k};
  hlo_set_root(r, hlo_build_tuple(r, pair, 2, &err));
  return r;
}

START_TEST(reductions) {
  HloError *err = NULL;
  HloComputation *add = hlo_build_scalar_computation(m, HLO_OP_ADD, HLO_F32);
  HloInstr *x = P(HLO_F32, D(4), D(5), D(6)), *zero = hlo_build_constant_scalar(c, HLO_F32, 0);
  int64_t dims[] = {0, 2};
  assert_shape(hlo_build_reduce(c, &x, &zero, 1, dims, 2, add, &err), "f32[5]{0}");
  /* variadic: argmax over dim 1 gives a tuple */
  HloInstr *v = P(HLO_F32, D(4), D(5)), *iota;
  int64_t vd[] = {4, 5};
  HloShape is = hlo_shape_array(HLO_S32, 2, vd);
  iota = hlo_build_iota(c, &is, 1, &err);
  HloInstr *inputs[] = {v, iota};
  HloInstr *inits[] = {hlo_build_constant_scalar(c, HLO_F32, -1e30),
                       hlo_build_constant_scalar(c, HLO_S32, 0)};
  int64_t one = 1;
  HloComputation *argmax = argmax_reducer();
  HloInstr *am = hlo_build_reduce(c, inputs, inits, 2, &one, 1, argmax, &err);
  assert_shape(am, "(f32[4]{0}, s32[4]{0})");
  /* 2x2 max pool, stride 2, over NHWC */
  HloComputation *max = hlo_build_scalar_computation(m, HLO_OP_MAXIMUM, HLO_F32);
  HloInstr *img = P(HLO_F32, D(1), D(4), D(4), D(3));
  HloWindowDim pool[] = {{.size = 1}, {.size = 2, .stride = 2}, {.size = 2, .stride = 2},
                         {.size = 1}};
  assert_shape(hlo_build_reduce_window(c, &img, &zero, 1, pool, max, &err),
               "f32[1,2,2,3]{3,2,1,0}");
  /* 3x3 SAME average-pool sums, with window dilation 2 on dim 1 */
  HloWindowDim win[] = {{.size = 1}, {.size = 3, .pad_lo = 2, .pad_hi = 2, .rhs_dilate = 2},
                        {.size = 3, .pad_lo = 1, .pad_hi = 1}, {.size = 1}};
  HloInstr *rw = hlo_build_reduce_window(c, &img, &zero, 1, win, add, &err);
  assert_shape(rw, "f32[1,4,4,3]{3,2,1,0}");
  int64_t bad[] = {3};
  ASSERT_BUILD_ERROR("reduce: dimensions {3}: dimension 3 is out of range for rank 3",
                     hlo_build_reduce(c, &x, &zero, 1, bad, 1, add, &err));
  ASSERT_BUILD_ERROR("reduce: to_apply must take 2 parameters (argmax has (f32[], s32[], "
                     "f32[], s32[]) -> (f32[], s32[]))",
                     hlo_build_reduce(c, &x, &zero, 1, dims, 2, argmax, &err));
  HloInstr *tuple_parts[] = {am, rw};
  assert_verifies(hlo_build_tuple(c, tuple_parts, 2, &err));
}
END_TEST

START_TEST(sort) {
  HloError *err = NULL;
  HloComputation *cmp = hlo_computation_new(m, "less");
  HloShape f = hlo_shape_scalar(HLO_F32), s = hlo_shape_scalar(HLO_S32);
  HloInstr *a = hlo_parameter_new(cmp, 0, &f, NULL), *b = hlo_parameter_new(cmp, 1, &f, NULL);
  hlo_parameter_new(cmp, 2, &s, NULL);
  hlo_parameter_new(cmp, 3, &s, NULL);
  hlo_set_root(cmp, hlo_build_compare(cmp, HLO_CMP_LT, a, b, &err));
  HloInstr *keys = P(HLO_F32, D(3), D(8)), *vals = P(HLO_S32, D(3), D(8));
  HloInstr *xs[] = {keys, vals};
  HloInstr *st = hlo_build_sort(c, xs, 2, 1, true, cmp, &err);
  assert_shape(st, "(f32[3,8]{1,0}, s32[3,8]{1,0})");
  ck_assert(st->is_stable);
  ASSERT_BUILD_ERROR("sort: comparator must take 2 parameters (less has (f32[], f32[], s32[], "
                     "s32[]) -> pred[])",
                     hlo_build_sort(c, xs, 1, 1, false, cmp, &err));
  assert_verifies(st);
}
END_TEST

START_TEST(scalar_computations) {
  HloComputation *add = hlo_build_scalar_computation(m, HLO_OP_ADD, HLO_F32);
  ck_assert_str_eq(add->name, "add_f32");
  ck_assert_ptr_eq(m->first, add); /* callees before callers */
  ck_assert_ptr_eq(m->last, c);
  ck_assert_int_eq(add->nparams, 2);
  ck_assert_int_eq(add->root->op, HLO_OP_ADD);
  assert_shape(add->root, "f32[]");
  ck_assert_ptr_eq(hlo_build_scalar_computation(m, HLO_OP_ADD, HLO_F32), add);
  HloComputation *maxs = hlo_build_scalar_computation(m, HLO_OP_MAXIMUM, HLO_S32);
  ck_assert_str_eq(maxs->name, "maximum_s32");
  ck_assert_ptr_ne(hlo_build_scalar_computation(m, HLO_OP_ADD, HLO_BF16), add);
  /* a computation of that name that is not the sum gets a fresh name */
  HloComputation *other = hlo_computation_new(m, "add_s32");
  HloShape s = hlo_shape_scalar(HLO_S32);
  hlo_set_root(other, hlo_parameter_new(other, 0, &s, NULL));
  HloComputation *adds = hlo_build_scalar_computation(m, HLO_OP_ADD, HLO_S32);
  ck_assert_ptr_ne(adds, other);
  ck_assert_str_ne(adds->name, "add_s32");
  assert_verifies(P(HLO_F32, D(1)));
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_builder");
  TCase *t = tcase_create("builder");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, elementwise);
  tcase_add_test(t, elementwise_errors);
  tcase_add_test(t, data_movement);
  tcase_add_test(t, data_movement_errors);
  tcase_add_test(t, dot);
  tcase_add_test(t, convolution);
  tcase_add_test(t, gather_and_scatter);
  tcase_add_test(t, reductions);
  tcase_add_test(t, sort);
  tcase_add_test(t, scalar_computations);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
