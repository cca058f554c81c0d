/*
 * test_frontend_limits.c — graphs that ask, in a few bytes, for more than a
 * machine holds or for arithmetic that overflows: huge Fill, Tile, OneHot,
 * Pad and ResizeBilinear sizes, window attributes near 2^62, and library
 * functions that call themselves.  Each must be refused at import with a
 * message naming the node, before anything of that size is allocated.  And
 * what is valid must stay small: a Const given by one repeated value
 * imports as a broadcast, not as gigabytes of data.  Attributes that
 * disagree with the node (an N that is not the input count) are refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend_util.h"
#include "frontend.h"

#define PLACEHOLDER(name, dtype)                                              \
  "node { name: '" name "' op: 'Placeholder' attr { key: 'dtype' value { type: " dtype " } } }\n"
#define CONST_I64(name, dims, vals)                                           \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_INT64 } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_INT64 tensor_shape { " dims " } " vals       \
  " } } } }\n"
#define CONST_F32(name, v)                                                    \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: " v       \
  " } } } }\n"
#define FEED(name, type, dims)                                                \
  "feed { id { node_name: '" name "' } shape { " dims " } type: " type " }\n"
#define DIMS2(a, b) "dim { size: " #a " } dim { size: " #b " }"
#define ATTR_INTS(key, list) "attr { key: '" key "' value { list { " list " } } }"
#define T_FLOAT ATTR_TYPE("T", "DT_FLOAT")

/* x: f32[2,3] */
#define X_2x3 FEED("x", "DT_FLOAT", DIMS2(2, 3))
/* x: f32[1,4,4,2] */
#define X_NHWC FEED("x", "DT_FLOAT", "dim { size: 1 } dim { size: 4 } dim { size: 4 } dim { size: 2 }")

START_TEST(fill_too_large) {
  fu_expect_error(CONST_I64("dims", "dim { size: 2 }", "int64_val: 2147483648 int64_val: 2147483648")
                  CONST_F32("v", "1")
                  NODE("f", "Fill", "input: 'dims' input: 'v'",
                       T_FLOAT ATTR_TYPE("index_type", "DT_INT64")),
                  FETCH("f"),
                  "node 'f' (Fill): broadcast: shape f32[2147483648,2147483648] is too large: "
                  "one buffer holds at most 2^40 bytes");
}
END_TEST

/* The product of the dims overflows int64 (2^62 * 2 * 4 * 3). */
START_TEST(tile_overflows) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  CONST_I64("m", "dim { size: 2 }", "int64_val: 4611686018427387904 int64_val: 4")
                  NODE("t", "Tile", "input: 'x' input: 'm'",
                       T_FLOAT ATTR_TYPE("Tmultiples", "DT_INT64")),
                  X_2x3 FETCH("t"),
                  "node 't' (Tile): broadcast: shape f32[4611686018427387904,2,4,3] is too "
                  "large: one buffer holds at most 2^40 bytes");
}
END_TEST

START_TEST(one_hot_too_large) {
  fu_expect_error(PLACEHOLDER("x", "DT_INT32")
                  "node { name: 'd' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { }"
                  " int_val: 2147483647 } } } }\n"
                  CONST_F32("on", "1") CONST_F32("off", "0")
                  NODE("t", "OneHot", "input: 'x' input: 'd' input: 'on' input: 'off'",
                       T_FLOAT ATTR_TYPE("TI", "DT_INT32") ATTR_INT("axis", "-1")),
                  FEED("x", "DT_INT32", DIMS2(2000, 3000)) FETCH("t"),
                  "node 't' (OneHot): iota: shape s32[2000,3000,2147483647] is too large: "
                  "one buffer holds at most 2^40 bytes");
}
END_TEST

START_TEST(pad_overflows) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  CONST_I64("p", DIMS2(2, 2),
                            "int64_val: 4611686018427387904 int64_val: 4611686018427387904"
                            " int64_val: 0 int64_val: 0")
                  NODE("t", "Pad", "input: 'x' input: 'p'",
                       T_FLOAT ATTR_TYPE("Tpaddings", "DT_INT64")),
                  X_2x3 FETCH("t"),
                  "node 't' (Pad): pad: padding 4611686018427387904_4611686018427387904_0 of "
                  "dimension 0 overflows its size");
}
END_TEST

START_TEST(conv_padding_too_large) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  "node { name: 'w' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
                  " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape {"
                  " dim { size: 1 } dim { size: 1 } dim { size: 2 } dim { size: 2 } }"
                  " float_val: 1 } } } }\n"
                  NODE("t", "Conv2D", "input: 'x' input: 'w'",
                       T_FLOAT ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1")
                       ATTR_STR("padding", "EXPLICIT")
                       ATTR_INTS("explicit_paddings", "i: 0 i: 0 i: 4611686018427387904 "
                                 "i: 4611686018427387904 i: 0 i: 0 i: 0 i: 0")),
                  X_NHWC FETCH("t"),
                  "node 't' (Conv2D): attribute 'explicit_paddings' has entry "
                  "4611686018427387904, expected <= 2147483647");
}
END_TEST

START_TEST(pool_window_too_large) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  NODE("t", "AvgPool", "input: 'x'",
                       T_FLOAT ATTR_INTS("ksize", "i: 1 i: 1099511627776 i: 1 i: 1")
                       ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1") ATTR_STR("padding", "SAME")),
                  X_NHWC FETCH("t"),
                  "node 't' (AvgPool): attribute 'ksize' has entry 1099511627776, expected <= "
                  "2147483647");
}
END_TEST

/* A huge dilated window within the attributes' limits computes its SAME
 * padding without overflow: the extent is (2^30 - 1) * (2^31 - 1) + 1. */
START_TEST(conv_dilated_window_at_the_limit) {
  char *msg = NULL;
  HloModule *m = fu_import(
      PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("w", "DT_FLOAT")
      NODE("t", "Conv2D", "input: 'x' input: 'w'",
           T_FLOAT ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1")
           ATTR_INTS("dilations", "i: 1 i: 2147483647 i: 1 i: 1") ATTR_STR("padding", "SAME")),
      X_NHWC FEED("w", "DT_FLOAT", "dim { size: 1073741824 } dim { size: 1 } "
                                   "dim { size: 2 } dim { size: 2 }") FETCH("t"),
      &msg);
  ck_assert_msg(m != NULL, "unexpected error: %s", msg);
  const HloInstr *conv = NULL;
  for (const HloInstr *in = m->entry->first; in; in = in->next)
    if (in->op == HLO_OP_CONVOLUTION) conv = in;
  ck_assert_ptr_nonnull(conv);
  int64_t total = ((int64_t)1073741823 * 2147483647 + 1) - 1; /* out 4, stride 1, in 4 */
  ck_assert_int_eq(conv->window[0].pad_lo, total / 2);
  ck_assert_int_eq(conv->window[0].pad_hi, total - total / 2);
  ck_assert_int_eq(conv->shape.dims[1], 4);
  hlo_module_free(m);
}
END_TEST

START_TEST(resize_too_large) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  "node { name: 's' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {"
                  " dim { size: 2 } } int_val: 2147483647 int_val: 2147483647 } } } }\n"
                  NODE("t", "ResizeBilinear", "input: 'x' input: 's'", T_FLOAT),
                  X_NHWC FETCH("t"),
                  "node 't' (ResizeBilinear): resizing the images to 2147483647x2147483647: "
                  "shape f32[1,2147483647,2147483647,2] is too large: one buffer holds at most "
                  "2^40 bytes");
}
END_TEST

/* The result fits in a buffer, but the [2^31 - 1, 1024] interpolation
 * matrix the lowering would build at compile time is refused before it is
 * allocated; so are the indices of a huge nearest-neighbour resize. */
START_TEST(resize_matrix_too_large) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  "node { name: 's' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {"
                  " dim { size: 2 } } int_val: 1 int_val: 2147483647 } } } }\n"
                  NODE("t", "ResizeBilinear", "input: 'x' input: 's'", T_FLOAT),
                  FEED("x", "DT_FLOAT", "dim { size: 1 } dim { size: 4 } dim { size: 1024 } "
                                        "dim { size: 1 }") FETCH("t"),
                  "node 't' (ResizeBilinear): the interpolation matrix would be a constant of "
                  "[2147483647,1024] elements built at compile time (at most 8388608 are)");
}
END_TEST

/* A Const of 2^30 floats given by one value imports as a broadcast of
 * that value: nothing of its size is allocated. */
START_TEST(splat_const_is_a_broadcast) {
  char *msg = NULL;
  HloModule *m = fu_import(
      "node { name: 't' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
      " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape {"
      " dim { size: 1073741824 } } float_val: 1 } } } }\n",
      FETCH("t"), &msg);
  ck_assert_msg(m != NULL, "unexpected error: %s", msg);
  for (const HloInstr *in = m->entry->first; in; in = in->next)
    if (in->op == HLO_OP_CONSTANT) ck_assert_int_eq(hlo_shape_elements(&in->shape), 1);
  ck_assert_int_eq(m->entry->root->op, HLO_OP_RESHAPE);
  hlo_module_free(m);
}
END_TEST

/* Several values given, the last repeated: the same elements as decoding
 * the whole tensor, for integers and with no value (zeros) too. */
START_TEST(repeated_const_values) {
  static const struct {
    const char *values;
    double first[3], rest;
  } cases[] = {{"int_val: 7 int_val: 8 int_val: 9", {7, 8, 9}, 9},
               {"int_val: 5", {5, 5, 5}, 5},
               {"", {0, 0, 0}, 0}};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    char graph[512];
    snprintf(graph, sizeof graph,
             "node { name: 't' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
             " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {"
             " dim { size: 2 } dim { size: 4000 } } %s } } } }\n", cases[k].values);
    char *msg = NULL;
    HloModule *m = fu_import(graph, FETCH("t"), &msg);
    ck_assert_msg(m != NULL, "unexpected error: %s", msg);
    HloLiteral *out = NULL;
    HloError *e = hlo_evaluate(m, NULL, 0, &out);
    ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
    ck_assert_int_eq(out->shape.rank, 2);
    ck_assert_int_eq(out->shape.dims[1], 4000);
    for (int64_t i = 0; i < 8000; i++)
      ck_assert_double_eq(hlo_literal_get_f64(out, i), i < 3 ? cases[k].first[i] : cases[k].rest);
    hlo_literal_free(out);
    hlo_module_free(m);
  }
}
END_TEST

/* An N attribute that disagrees with the inputs is refused, not ignored. */
START_TEST(n_attribute_disagrees) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  "node { name: 'a' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { }"
                  " int_val: 0 } } } }\n"
                  NODE("t", "ConcatV2", "input: 'x' input: 'x' input: 'a'",
                       T_FLOAT ATTR_INT("N", "1000000") ATTR_TYPE("Tidx", "DT_INT32")),
                  X_2x3 FETCH("t"),
                  "node 't' (ConcatV2): attribute N is 1000000, but the node has 2 such "
                  "input(s)");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  NODE("t", "AddN", "input: 'x' input: 'x'", T_FLOAT ATTR_INT("N", "3")),
                  X_2x3 FETCH("t"),
                  "node 't' (AddN): attribute N is 3, but the node has 2 such input(s)");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  NODE("t", "Pack", "input: 'x'", T_FLOAT ATTR_INT("N", "2")),
                  X_2x3 FETCH("t"),
                  "node 't' (Pack): attribute N is 2, but the node has 1 such input(s)");
}
END_TEST

START_TEST(resize_nearest_indices_too_large) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  "node { name: 's' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"
                  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape {"
                  " dim { size: 2 } } int_val: 1 int_val: 2147483647 } } } }\n"
                  NODE("t", "ResizeNearestNeighbor", "input: 'x' input: 's'", T_FLOAT),
                  FEED("x", "DT_FLOAT", "dim { size: 1 } dim { size: 1 } dim { size: 1 } "
                                        "dim { size: 1 }") FETCH("t"),
                  "node 't' (ResizeNearestNeighbor): the source rows would be a constant of "
                  "[2147483647] elements built at compile time (at most 8388608 are)");
}
END_TEST

/* Found by fuzz_tf_lower: Softmax of integers built its -inf start value
 * in an integer literal (undefined behaviour); it is refused, and a double
 * out of an integer's range saturates wherever a literal is set. */
START_TEST(softmax_of_integers) {
  fu_expect_error(PLACEHOLDER("x", "DT_INT64")
                  NODE("t", "Softmax", "input: 'x'", ATTR_TYPE("T", "DT_INT64")),
                  FEED("x", "DT_INT64", DIMS2(2, 3)) FETCH("t"),
                  "node 't' (Softmax): logits must have a floating-point type, have shape "
                  "s64[2,3]{1,0}");
  HloShape s = hlo_shape_array(HLO_S64, 1, (int64_t[]){4});
  HloLiteral *l = hlo_literal_new(&s);
  hlo_literal_set_f64(l, 0, -INFINITY);
  hlo_literal_set_f64(l, 1, 1e300);
  hlo_literal_set_f64(l, 2, NAN);
  hlo_literal_set_f64(l, 3, -5);
  ck_assert_int_eq(hlo_literal_get_s64(l, 0), INT64_MIN);
  ck_assert_int_eq(hlo_literal_get_s64(l, 1), 9223372036854774784);
  ck_assert_int_eq(hlo_literal_get_s64(l, 2), 0);
  ck_assert_int_eq(hlo_literal_get_s64(l, 3), -5);
  hlo_literal_free(l);
}
END_TEST

/* Found by fuzz_tf_lower: a Range of 2^29 floats made a 2 GiB constant
 * in the lowering. */
START_TEST(range_too_large) {
  fu_expect_error(
      "node { name: 'a' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
      " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 0 } } } }\n"
      "node { name: 'b' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
      " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { }"
      " float_val: 536870912 } } } }\n"
      "node { name: 'd' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
      " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 1 } } } }\n"
      NODE("t", "Range", "input: 'a' input: 'b' input: 'd'", ATTR_TYPE("Tidx", "DT_FLOAT")),
      FETCH("t"),
      "node 't' (Range): a range of 536870912 f32 elements would be a constant of more than "
      "64 MiB built at compile time");
}
END_TEST

/* Found by fuzz_tf_lower in CI: an empty string attribute (no data)
 * was copied with memcpy from NULL. */
START_TEST(empty_string_attribute) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  NODE("t", "Einsum", "input: 'x' input: 'x'",
                       T_FLOAT ATTR_INT("N", "2") ATTR_STR("equation", "")),
                  X_2x3 FETCH("t"),
                  "node 't' (Einsum): equation '' names 1 operand(s) but the node has 2 "
                  "input(s)");
}
END_TEST

#define CALL(name, input, fn)                                                 \
  "node_def { name: '" name "' op: 'PartitionedCall' input: '" input "'"                  \
  " attr { key: 'Tin' value { list { type: DT_FLOAT } } }"                                \
  " attr { key: 'Tout' value { list { type: DT_FLOAT } } }"                               \
  " attr { key: 'f' value { func { name: '" fn "' } } } }"
#define FUNCTION(name, body, ret)                                             \
  "function { signature { name: '" name "' input_arg { name: 'a' type: DT_FLOAT }"        \
  " output_arg { name: 'r' type: DT_FLOAT } } " body " ret { key: 'r' value: '" ret "' } }\n"

START_TEST(function_calls_itself) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                  "node { name: 't' op: 'PartitionedCall' input: 'x'"
                  " attr { key: 'Tin' value { list { type: DT_FLOAT } } }"
                  " attr { key: 'Tout' value { list { type: DT_FLOAT } } }"
                  " attr { key: 'f' value { func { name: 'f' } } } }\n"
                  "library {\n"
                  FUNCTION("f", CALL("c", "a", "g"), "c:output:0")
                  FUNCTION("g", CALL("c", "a", "f"), "c:output:0")
                  "}\n",
                  X_2x3 FETCH("t"),
                  "node 't' (PartitionedCall): f/node 'c' (PartitionedCall): f/g/node 'c' "
                  "(PartitionedCall): function 'f' calls itself: f -> g -> f");
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_limits");
  TCase *t = tcase_create("limits");
  tcase_add_test(t, fill_too_large);
  tcase_add_test(t, tile_overflows);
  tcase_add_test(t, one_hot_too_large);
  tcase_add_test(t, pad_overflows);
  tcase_add_test(t, conv_padding_too_large);
  tcase_add_test(t, pool_window_too_large);
  tcase_add_test(t, conv_dilated_window_at_the_limit);
  tcase_add_test(t, resize_too_large);
  tcase_add_test(t, resize_matrix_too_large);
  tcase_add_test(t, resize_nearest_indices_too_large);
  tcase_add_test(t, splat_const_is_a_broadcast);
  tcase_add_test(t, repeated_const_values);
  tcase_add_test(t, function_calls_itself);
  tcase_add_test(t, n_attribute_disagrees);
  tcase_add_test(t, softmax_of_integers);
  tcase_add_test(t, range_too_large);
  tcase_add_test(t, empty_string_attribute);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
