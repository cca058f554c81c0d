/*
 * test_frontend_tensor.c — TensorProto decoding (frontend/tensor.c): every
 * element type through its typed field and through tensor_content,
 * TensorFlow's rule that a short value list repeats its last value (and an
 * empty one means zeros), reference types, Const nodes, and each error
 * (messages asserted exactly).  Tensors are written in text format.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "frontend.h"

static Tensorflow__TensorProto *tensor(const char *text) {
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_text(&tensorflow__tensor_proto__descriptor,
                                    text, strlen(text), "t.pbtxt", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return (Tensorflow__TensorProto *)m;
}

/* Decodes `text` and checks the literal's shape and its elements, read as
 * doubles (want has one value per element). */
static void decodes_to(const char *text, const char *shape, const double *want,
                       int n) {
  Tensorflow__TensorProto *t = tensor(text);
  HloLiteral *l;
  HloError *e = tf_tensor_to_literal(t, NULL, &l);
  ck_assert_msg(!e, "%s: %s", text, hlo_error_message(e));
  char *s = hlo_shape_to_string(&l->shape);
  ck_assert_str_eq(s, shape);
  free(s);
  ck_assert_int_eq(hlo_shape_elements(&l->shape), n);
  for (int i = 0; i < n; i++) {
    double got = hlo_literal_get_f64(l, i);
    ck_assert_msg(got == want[i] || (isnan(got) && isnan(want[i])),
                  "%s: element %d is %g, want %g", text, i, got, want[i]);
  }
  hlo_literal_free(l);
  tensorflow__tensor_proto__free_unpacked(t, NULL);
}

static void decode_err(const char *text, const char *want) {
  Tensorflow__TensorProto *t = tensor(text);
  HloLiteral *l;
  HloError *e = tf_tensor_to_literal(t, NULL, &l);
  ck_assert_msg(e != NULL, "no error for %s", text);
  ck_assert_ptr_null(l);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
  tensorflow__tensor_proto__free_unpacked(t, NULL);
}

#define SHAPE_2x3 "tensor_shape { dim { size: 2 } dim { size: 3 } } "

START_TEST(typed_fields) {
  decodes_to("dtype: DT_FLOAT " SHAPE_2x3 "float_val: [1, 2.5, -3, 4, 5, 6]",
             "f32[2,3]{1,0}", (double[]){1, 2.5, -3, 4, 5, 6}, 6);
  decodes_to("dtype: DT_DOUBLE tensor_shape { dim { size: 2 } } "
             "double_val: [1e300, -0.125]",
             "f64[2]{0}", (double[]){1e300, -0.125}, 2);
  decodes_to("dtype: DT_INT32 tensor_shape { dim { size: 3 } } "
             "int_val: [-2147483648, 0, 2147483647]",
             "s32[3]{0}", (double[]){-2147483648.0, 0, 2147483647.0}, 3);
  /* narrower integers are truncated as TensorFlow's static_cast does */
  decodes_to("dtype: DT_INT8 tensor_shape { dim { size: 3 } } "
             "int_val: [-128, 127, 200]",
             "s8[3]{0}", (double[]){-128, 127, -56}, 3);
  decodes_to("dtype: DT_INT16 tensor_shape { dim { size: 2 } } "
             "int_val: [-32768, 40000]",
             "s16[2]{0}", (double[]){-32768, 40000 - 65536}, 2);
  decodes_to("dtype: DT_UINT8 tensor_shape { dim { size: 3 } } "
             "int_val: [0, 255, 300]",
             "u8[3]{0}", (double[]){0, 255, 44}, 3);
  decodes_to("dtype: DT_UINT16 tensor_shape { dim { size: 1 } } "
             "int_val: 65535",
             "u16[1]{0}", (double[]){65535}, 1);
  decodes_to("dtype: DT_INT64 tensor_shape { dim { size: 2 } } "
             "int64_val: [-9007199254740992, 9007199254740992]",
             "s64[2]{0}", (double[]){-9007199254740992.0, 9007199254740992.0},
             2);
  decodes_to("dtype: DT_UINT32 tensor_shape { dim { size: 1 } } "
             "uint32_val: 4294967295",
             "u32[1]{0}", (double[]){4294967295.0}, 1);
  decodes_to("dtype: DT_UINT64 tensor_shape { dim { size: 1 } } "
             "uint64_val: 4294967296",
             "u64[1]{0}", (double[]){4294967296.0}, 1);
  decodes_to("dtype: DT_BOOL tensor_shape { dim { size: 3 } } "
             "bool_val: [true, false, true]",
             "pred[3]{0}", (double[]){1, 0, 1}, 3);
  /* half_val holds the 16-bit patterns: 0x3c00 = 1.0 in f16, 0x3f80 = 1.0
   * in bf16, 0xc000 = -2.0 in f16, 0x7e00 a NaN */
  decodes_to("dtype: DT_HALF tensor_shape { dim { size: 3 } } "
             "half_val: [0x3c00, 0xc000, 0x7e00]",
             "f16[3]{0}", (double[]){1.0, -2.0, NAN}, 3);
  decodes_to("dtype: DT_BFLOAT16 tensor_shape { dim { size: 2 } } "
             "half_val: [0x3f80, 0xc0a0]",
             "bf16[2]{0}", (double[]){1.0, -5.0}, 2);
  /* a reference type decodes as its base type */
  decodes_to("dtype: DT_FLOAT_REF float_val: 7", "f32[]", (double[]){7}, 1);
}
END_TEST

START_TEST(short_value_lists_repeat_the_last) {
  decodes_to("dtype: DT_FLOAT " SHAPE_2x3 "float_val: [1, 2]",
             "f32[2,3]{1,0}", (double[]){1, 2, 2, 2, 2, 2}, 6);
  decodes_to("dtype: DT_INT32 " SHAPE_2x3 "int_val: 9", "s32[2,3]{1,0}",
             (double[]){9, 9, 9, 9, 9, 9}, 6);
  decodes_to("dtype: DT_BOOL tensor_shape { dim { size: 2 } } bool_val: true",
             "pred[2]{0}", (double[]){1, 1}, 2);
  decodes_to("dtype: DT_HALF tensor_shape { dim { size: 2 } } "
             "half_val: 0x3c00",
             "f16[2]{0}", (double[]){1, 1}, 2);
  /* no values at all: zeros */
  decodes_to("dtype: DT_DOUBLE " SHAPE_2x3, "f64[2,3]{1,0}",
             (double[]){0, 0, 0, 0, 0, 0}, 6);
  /* no shape: a scalar */
  decodes_to("dtype: DT_INT64 int64_val: -5", "s64[]", (double[]){-5}, 1);
  decodes_to("dtype: DT_UINT8", "u8[]", (double[]){0}, 1);
  /* zero elements */
  decodes_to("dtype: DT_FLOAT tensor_shape { dim { size: 0 } dim { size: 3 } "
             "}", "f32[0,3]{1,0}", NULL, 0);
}
END_TEST

START_TEST(tensor_content) {
  /* raw little-endian elements */
  decodes_to("dtype: DT_FLOAT tensor_shape { dim { size: 2 } } "
             "tensor_content: \"\\000\\000\\200\\077\\000\\000\\000\\300\"",
             "f32[2]{0}", (double[]){1.0, -2.0}, 2);
  decodes_to("dtype: DT_INT16 tensor_shape { dim { size: 2 } } "
             "tensor_content: \"\\001\\000\\377\\377\"",
             "s16[2]{0}", (double[]){1, -1}, 2);
  decodes_to("dtype: DT_INT64 tensor_content: \"\\376\\377\\377\\377\\377\\377"
             "\\377\\377\"",
             "s64[]", (double[]){-2}, 1);
  decodes_to("dtype: DT_UINT16 tensor_shape { dim { size: 1 } } "
             "tensor_content: \"\\377\\377\"",
             "u16[1]{0}", (double[]){65535}, 1);
  decodes_to("dtype: DT_BFLOAT16 tensor_shape { dim { size: 1 } } "
             "tensor_content: \"\\200\\077\"",
             "bf16[1]{0}", (double[]){1}, 1);
  decodes_to("dtype: DT_DOUBLE tensor_shape { dim { size: 1 } } "
             "tensor_content: \"\\000\\000\\000\\000\\000\\000\\360\\077\"",
             "f64[1]{0}", (double[]){1}, 1);
  /* bools are bytes; anything non-zero is true */
  Tensorflow__TensorProto *t = tensor("dtype: DT_BOOL tensor_shape { dim { "
                                      "size: 3 } } tensor_content: "
                                      "\"\\000\\001\\002\"");
  HloLiteral *l;
  ck_assert_ptr_null(tf_tensor_to_literal(t, NULL, &l));
  ck_assert(!memcmp(l->data, "\0\1\1", 3));
  hlo_literal_free(l);
  /* and in an arena */
  HloArena *a = hlo_arena_new();
  ck_assert_ptr_null(tf_tensor_to_literal(t, a, &l));
  ck_assert(!memcmp(l->data, "\0\1\1", 3));
  hlo_arena_free(a);
  tensorflow__tensor_proto__free_unpacked(t, NULL);
}
END_TEST

START_TEST(errors) {
  decode_err("dtype: DT_FLOAT " SHAPE_2x3 "tensor_content: \"abcd\"",
             "tensor_content has 4 bytes, expected 24 for f32[2,3]{1,0}");
  decode_err("dtype: DT_INT32 tensor_shape { dim { size: 2 } } "
             "int_val: [1, 2, 3]",
             "int_val has 3 values, more than the 2 elements of s32[2]{0}");
  decode_err("dtype: DT_FLOAT float_val: [1, 2]",
             "float_val has 2 values, more than the 1 elements of f32[]");
  decode_err("dtype: DT_FLOAT int_val: 1",
             "int_val is set, but dtype DT_FLOAT takes its values from "
             "float_val or tensor_content");
  decode_err("dtype: DT_STRING string_val: 'abc'",
             "dtype DT_STRING: string tensors (string_val) are not supported "
             "for computation");
  decode_err("dtype: DT_COMPLEX64 scomplex_val: [1, 2]",
             "dtype: type DT_COMPLEX64 is not supported");
  decode_err("dtype: DT_RESOURCE", "dtype: type DT_RESOURCE is not supported");
  decode_err("dtype: DT_VARIANT", "dtype: type DT_VARIANT is not supported");
  decode_err("float_val: 1", "dtype: type DT_INVALID is not supported");
  decode_err("dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim { size: -1 } "
             "}", "tensor_shape: dimension 1 is unknown (-1)");
  decode_err("dtype: DT_FLOAT tensor_shape { dim { size: -3 } }",
             "tensor_shape: dimension 0 is negative (-3)");
  decode_err("dtype: DT_FLOAT tensor_shape { unknown_rank: true }",
             "tensor_shape: shape has unknown rank");
  decode_err("dtype: DT_FLOAT tensor_shape { dim { size: 4294967296 } dim { "
             "size: 4294967296 } }",
             "tensor_shape: element count overflows int64");
  decode_err("dtype: DT_FLOAT tensor_shape { dim { size: 65536 } dim { size: "
             "32769 } }",
             "tensor_shape: 2147549184 elements exceed the limit of 2^31");
  HloStr s = {0};
  hlo_str_printf(&s, "dtype: DT_FLOAT tensor_shape {");
  for (int i = 0; i < 13; i++) hlo_str_printf(&s, " dim { size: 1 }");
  hlo_str_printf(&s, " }");
  decode_err(s.buf, "tensor_shape: rank 13 exceeds the maximum of 12");
  free(s.buf);
}
END_TEST

START_TEST(shape_only) {
  Tensorflow__TensorProto *t = tensor("dtype: DT_UINT16 tensor_shape { dim { "
                                      "size: 1000000 } dim { size: 1000 } }");
  HloShape s;
  ck_assert_ptr_null(tf_tensor_shape(t, &s)); /* nothing allocated */
  ck_assert_int_eq(s.type, HLO_U16);
  ck_assert_int_eq(hlo_shape_elements(&s), 1000000000);
  tensorflow__tensor_proto__free_unpacked(t, NULL);
  ck_assert_ptr_null(tf_shape_to_hlo(NULL, HLO_S8, &s));
  ck_assert_int_eq(s.rank, 0);
}
END_TEST

static TfGraph *graph(const char *text) {
  ProtobufCMessage *gd;
  HloError *e = tf_proto_parse_text(&tensorflow__graph_def__descriptor, text,
                                    strlen(text), "g.pbtxt", &gd);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  TfGraph *g;
  e = tf_graph_new((Tensorflow__GraphDef *)gd, NULL, &g);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return g;
}

START_TEST(const_nodes) {
  TfGraph *g = graph(
      "node { name: 'c' op: 'Const' attr { key: 'dtype' value { type: "
      "DT_INT32 } } attr { key: 'value' value { tensor { dtype: DT_INT32 "
      "tensor_shape { dim { size: 2 } } int_val: [4, 5] } } } }\n"
      "node { name: 'bad' op: 'Const' attr { key: 'dtype' value { type: "
      "DT_FLOAT } } attr { key: 'value' value { tensor { dtype: DT_FLOAT "
      "tensor_shape { dim { size: 2 } } tensor_content: 'x' } } } }\n"
      "node { name: 'mismatch' op: 'Const' attr { key: 'dtype' value { type: "
      "DT_FLOAT } } attr { key: 'value' value { tensor { dtype: DT_INT32 } } "
      "} }\n"
      "node { name: 'novalue' op: 'Const' attr { key: 'dtype' value { type: "
      "DT_FLOAT } } }\n");
  HloArena *a = hlo_arena_new();
  HloLiteral *l;
  ck_assert_ptr_null(tf_node_const(tf_graph_node(g, "c"), a, &l));
  ck_assert_int_eq(hlo_literal_get_s64(l, 1), 5);
  HloError *e = tf_node_const(tf_graph_node(g, "bad"), a, &l);
  ck_assert_str_eq(hlo_error_message(e), "node 'bad' (Const): attr 'value': "
                   "tensor_content has 1 bytes, expected 8 for f32[2]{0}");
  hlo_error_free(e);
  e = tf_node_const(tf_graph_node(g, "mismatch"), a, &l);
  ck_assert_str_eq(hlo_error_message(e), "node 'mismatch' (Const): attr "
                   "'value' has dtype DT_INT32, but attr 'dtype' is DT_FLOAT");
  hlo_error_free(e);
  e = tf_node_const(tf_graph_node(g, "novalue"), a, &l);
  ck_assert_str_eq(hlo_error_message(e), "node 'novalue' (Const): attr "
                   "'value' is missing");
  hlo_error_free(e);
  hlo_arena_free(a);
  tf_graph_free(g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_tensor");
  TCase *t = tcase_create("tensor");
  tcase_add_test(t, typed_fields);
  tcase_add_test(t, short_value_lists_repeat_the_last);
  tcase_add_test(t, tensor_content);
  tcase_add_test(t, errors);
  tcase_add_test(t, shape_only);
  tcase_add_test(t, const_nodes);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
