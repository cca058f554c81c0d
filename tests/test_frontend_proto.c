/*
 * test_frontend_proto.c — reading protobuf messages (frontend/wire.c and
 * frontend/pbtext.c): the text format for every scalar kind, escape, list
 * and message form and its errors (messages asserted exactly), the binary
 * format's diagnostics for malformed and truncated input, text/binary
 * equivalence on TensorFlow's own files in testdata/tf, and tfcompile
 * configs in the styles the test data uses.
 *
 * Field types TensorFlow's messages lack (sint32, sfixed64, …) are covered
 * by test.Scalars, a message whose protobuf-c descriptor is written out by
 * hand below: the text reader must work for any descriptor.
 */
#include <dirent.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "frontend.h"

/* ------------------------------------------------------------------------ */
/* test.Scalars: one field of every scalar type                              */
/* ------------------------------------------------------------------------ */

typedef struct Scalars {
  ProtobufCMessage base;
  int32_t i32;
  int32_t s32;
  int32_t sf32;
  uint32_t u32;
  uint32_t fx32;
  int64_t i64;
  int64_t s64;
  int64_t sf64;
  uint64_t u64;
  uint64_t fx64;
  float f;
  double d;
  protobuf_c_boolean b;
  size_t n_rs64;
  int64_t *rs64;
  size_t n_rf;
  float *rf;
} Scalars;

#define SCALAR(name, id, type, member)                                        \
  {name, id, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_##type, 0,                \
   offsetof(Scalars, member), NULL, NULL, 0, 0, NULL, NULL}
static const ProtobufCFieldDescriptor scalars_fields[] = {
    SCALAR("i32", 1, INT32, i32),       SCALAR("s32", 2, SINT32, s32),
    SCALAR("sf32", 3, SFIXED32, sf32),  SCALAR("u32", 4, UINT32, u32),
    SCALAR("fx32", 5, FIXED32, fx32),   SCALAR("i64", 6, INT64, i64),
    SCALAR("s64", 7, SINT64, s64),      SCALAR("sf64", 8, SFIXED64, sf64),
    SCALAR("u64", 9, UINT64, u64),      SCALAR("fx64", 10, FIXED64, fx64),
    SCALAR("f", 11, FLOAT, f),          SCALAR("d", 12, DOUBLE, d),
    SCALAR("b", 13, BOOL, b),
    {"rs64", 14, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_SINT64,
     offsetof(Scalars, n_rs64), offsetof(Scalars, rs64), NULL, NULL,
     PROTOBUF_C_FIELD_FLAG_PACKED, 0, NULL, NULL},
    {"rf", 15, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_FLOAT,
     offsetof(Scalars, n_rf), offsetof(Scalars, rf), NULL, NULL, 0, 0, NULL,
     NULL},
};
/* Indices into scalars_fields in strcmp order of the names. */
static const unsigned scalars_by_name[] = {12, 11, 10, 4, 9, 0,  5, 14,
                                           13, 1,  6,  2, 7, 3, 8};
static const ProtobufCIntRange scalars_ranges[] = {{1, 0}, {0, 15}};

static void scalars_init(ProtobufCMessage *m);
static const ProtobufCMessageDescriptor scalars_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.Scalars",
    "Scalars",
    "Scalars",
    "test",
    sizeof(Scalars),
    15,
    scalars_fields,
    scalars_by_name,
    1,
    scalars_ranges,
    scalars_init,
    NULL,
    NULL,
    NULL};
static void scalars_init(ProtobufCMessage *m) {
  memset(m, 0, sizeof(Scalars));
  m->descriptor = &scalars_desc;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static ProtobufCMessage *text_ok(const ProtobufCMessageDescriptor *d,
                                 const char *text) {
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_text(d, text, strlen(text), "t.pbtxt", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return m;
}

static void text_err(const ProtobufCMessageDescriptor *d, const char *text,
                     const char *want) {
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_text(d, text, strlen(text), "t.pbtxt", &m);
  ck_assert_msg(e != NULL, "no error for: %s", text);
  ck_assert_ptr_null(m);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
}

static void binary_err(const ProtobufCMessageDescriptor *d,
                       const uint8_t *data, size_t len, const char *want) {
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_binary(d, data, len, "t.pb", &m);
  ck_assert_msg(e != NULL, "no error");
  ck_assert_ptr_null(m);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
}

#define NODE_DESC (&tensorflow__node_def__descriptor)
#define GRAPH_DESC (&tensorflow__graph_def__descriptor)
#define TENSOR_DESC (&tensorflow__tensor_proto__descriptor)
#define CONFIG_DESC (&tensorflow__tf2xla__config__descriptor)

/* ------------------------------------------------------------------------ */
/* Text format: scalars                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(text_every_scalar_type) {
  Scalars *s = (Scalars *)text_ok(&scalars_desc,
      "i32: -2147483648 s32: -7 sf32: -9 u32: 4294967295 fx32: 0xdeadbeef\n"
      "i64: 0x7fffffffffffffff s64: -9223372036854775808 sf64: -1\n"
      "u64: 18446744073709551615 fx64: 017 f: 1.5f d: -2.5e-3 b: true\n"
      "rs64: -1 rs64: [2, -3] rf: [1, .5, 1e3]");
  ck_assert_int_eq(s->i32, INT32_MIN);
  ck_assert_int_eq(s->s32, -7);
  ck_assert_int_eq(s->sf32, -9);
  ck_assert_uint_eq(s->u32, UINT32_MAX);
  ck_assert_uint_eq(s->fx32, 0xdeadbeefu);
  ck_assert_int_eq(s->i64, INT64_MAX);
  ck_assert_int_eq(s->s64, INT64_MIN);
  ck_assert_int_eq(s->sf64, -1);
  ck_assert_uint_eq(s->u64, UINT64_MAX);
  ck_assert_uint_eq(s->fx64, 15); /* octal */
  ck_assert(s->f == 1.5f);
  ck_assert(s->d == -2.5e-3);
  ck_assert(s->b);
  ck_assert_uint_eq(s->n_rs64, 3);
  ck_assert_int_eq(s->rs64[0], -1);
  ck_assert_int_eq(s->rs64[1], 2);
  ck_assert_int_eq(s->rs64[2], -3);
  ck_assert_uint_eq(s->n_rf, 3);
  ck_assert(s->rf[0] == 1 && s->rf[1] == 0.5f && s->rf[2] == 1000);
  protobuf_c_message_free_unpacked(&s->base, NULL);
}
END_TEST

START_TEST(text_integer_ranges) {
  text_err(&scalars_desc, "i32: 2147483648",
           "t.pbtxt:1:6: value 2147483648 out of range for 32-bit field 'i32'");
  text_err(&scalars_desc, "i32: -2147483649",
           "t.pbtxt:1:6: value -2147483649 out of range for 32-bit field "
           "'i32'");
  text_err(&scalars_desc, "u32: 4294967296",
           "t.pbtxt:1:6: value 4294967296 out of range for 32-bit field 'u32'");
  text_err(&scalars_desc, "u64: -1",
           "t.pbtxt:1:6: negative value for unsigned field 'u64'");
  text_err(&scalars_desc, "i64: 9223372036854775808",
           "t.pbtxt:1:6: value 9223372036854775808 out of range for 64-bit "
           "field 'i64'");
  text_err(&scalars_desc, "u64: 18446744073709551616",
           "t.pbtxt:1:6: integer '18446744073709551616' is out of range");
  text_err(&scalars_desc, "i32: 1.0",
           "t.pbtxt:1:6: expected an integer for field 'i32', got '1.0'");
  text_err(&scalars_desc, "i32: 09",
           "t.pbtxt:1:6: invalid digit '9' in octal integer '09'");
  text_err(&scalars_desc, "i32: 12ab", "t.pbtxt:1:6: invalid number '12a'");
  text_err(&scalars_desc, "i32: 0x", "t.pbtxt:1:6: expected hex digits after "
           "'0x'");
  text_err(&scalars_desc, "i32: x",
           "t.pbtxt:1:6: expected an integer for field 'i32', got 'x'");
}
END_TEST

START_TEST(text_floats) {
  static const struct {
    const char *text;
    double want;
  } cases[] = {
      {"1e-5", 1e-5}, {"1.5f", 1.5},  {"1.5F", 1.5},      {".25", 0.25},
      {"3.", 3.0},    {"2", 2.0},     {"0x10", 16.0},     {"-0.5", -0.5},
      {"1E+2", 100},  {"7f", 7.0},    {"- 4", -4.0},
  };
  char text[64];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(text, sizeof text, "d: %s", cases[i].text);
    Scalars *s = (Scalars *)text_ok(&scalars_desc, text);
    ck_assert_msg(s->d == cases[i].want, "%s", text);
    protobuf_c_message_free_unpacked(&s->base, NULL);
  }
  Scalars *s = (Scalars *)text_ok(&scalars_desc,
                                  "rf: [inf, -inf, nan, Infinity, -NaN, INF]");
  ck_assert_uint_eq(s->n_rf, 6);
  ck_assert(isinf(s->rf[0]) && s->rf[0] > 0);
  ck_assert(isinf(s->rf[1]) && s->rf[1] < 0);
  ck_assert(isnan(s->rf[2]) && isinf(s->rf[3]) && isnan(s->rf[4]));
  ck_assert(isinf(s->rf[5]));
  protobuf_c_message_free_unpacked(&s->base, NULL);
  text_err(&scalars_desc, "f: abc",
           "t.pbtxt:1:4: expected a number for field 'f', got 'abc'");
  text_err(&scalars_desc, "f: 1e",
           "t.pbtxt:1:4: expected digits in the exponent of a number");
  text_err(&scalars_desc, "f: \"1\"",
           "t.pbtxt:1:4: expected a number for field 'f', got a string");
}
END_TEST

START_TEST(text_bools) {
  static const struct {
    const char *text;
    bool want;
  } cases[] = {{"true", 1}, {"True", 1}, {"t", 1},  {"1", 1},
               {"false", 0}, {"False", 0}, {"f", 0}, {"0", 0}};
  char text[64];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(text, sizeof text, "b: %s", cases[i].text);
    Scalars *s = (Scalars *)text_ok(&scalars_desc, text);
    ck_assert_msg(!s->b == !cases[i].want, "%s", text);
    protobuf_c_message_free_unpacked(&s->base, NULL);
  }
  text_err(&scalars_desc, "b: yes",
           "t.pbtxt:1:4: expected true or false for field 'b', got 'yes'");
  text_err(&scalars_desc, "b: 2",
           "t.pbtxt:1:4: expected true or false for field 'b', got '2'");
}
END_TEST

START_TEST(text_enums) {
  Tensorflow__AttrValue *v = (Tensorflow__AttrValue *)text_ok(
      &tensorflow__attr_value__descriptor,
      "list { type: DT_FLOAT type: 19 type: [DT_BFLOAT16, DT_HALF_REF] "
      "type: -3 }");
  ck_assert_int_eq(v->value_case, TENSORFLOW__ATTR_VALUE__VALUE_LIST);
  ck_assert_uint_eq(v->list->n_type, 5);
  ck_assert_int_eq(v->list->type[0], TENSORFLOW__DATA_TYPE__DT_FLOAT);
  ck_assert_int_eq(v->list->type[1], TENSORFLOW__DATA_TYPE__DT_HALF);
  ck_assert_int_eq(v->list->type[2], TENSORFLOW__DATA_TYPE__DT_BFLOAT16);
  ck_assert_int_eq(v->list->type[3], TENSORFLOW__DATA_TYPE__DT_HALF_REF);
  ck_assert_int_eq((int)v->list->type[4], -3);
  tensorflow__attr_value__free_unpacked(v, NULL);
  text_err(&tensorflow__attr_value__descriptor, "type: DT_FLOAT32",
           "t.pbtxt:1:7: unknown value 'DT_FLOAT32' of enum tensorflow.DataType "
           "for field 'type'");
  text_err(&tensorflow__attr_value__descriptor, "type: \"DT_FLOAT\"",
           "t.pbtxt:1:7: expected a value of enum tensorflow.DataType for "
           "field 'type', got a string");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Text format: strings                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(text_string_escapes) {
  Tensorflow__NodeDef *n = (Tensorflow__NodeDef *)text_ok(NODE_DESC,
      "name: \"a\\n\\t\\r\\\\\\\"\\'\\?\"\n"
      "op: 'single \"quoted\"'\n"
      "device: \"\\101\\x42\\x4a\\u00e9\\u0041\\u20ac\\U0001F600\\a\\b\\f\\v"
      "\\0x\"\n"
      "input: \"con\" 'cat' \"enated\"\n"
      "input: \"\"");
  ck_assert_str_eq(n->name, "a\n\t\r\\\"'?");
  ck_assert_str_eq(n->op, "single \"quoted\"");
  /* \0 ends the C string protobuf-c gives for a string field */
  ck_assert_str_eq(n->device,
                   "ABJ\xc3\xa9" "A\xe2\x82\xac\xf0\x9f\x98\x80\a\b\f\v");
  ck_assert_uint_eq(n->n_input, 2);
  ck_assert_str_eq(n->input[0], "concatenated");
  ck_assert_str_eq(n->input[1], "");
  tensorflow__node_def__free_unpacked(n, NULL);

  /* bytes keep every byte, NULs included */
  Tensorflow__TensorProto *t = (Tensorflow__TensorProto *)text_ok(
      TENSOR_DESC, "tensor_content: \"\\000\\001\\377\\x00z\"");
  ck_assert_uint_eq(t->tensor_content.len, 5);
  ck_assert(!memcmp(t->tensor_content.data, "\0\1\377\0z", 5));
  tensorflow__tensor_proto__free_unpacked(t, NULL);

  text_err(NODE_DESC, "name: \"a\\qb\"", "t.pbtxt:1:9: invalid escape '\\q'");
  text_err(NODE_DESC, "name: \"\\x\"", "t.pbtxt:1:8: expected hex digits "
           "after \\x");
  text_err(NODE_DESC, "name: \"\\u12\"", "t.pbtxt:1:8: expected 4 hex digits "
           "after \\u");
  text_err(NODE_DESC, "name: \"\\ud800\"", "t.pbtxt:1:8: \\u escape U+D800 is "
           "not a Unicode scalar value");
  text_err(NODE_DESC, "name: \"\\477\"", "t.pbtxt:1:8: octal escape \\477 is "
           "larger than a byte");
  text_err(NODE_DESC, "name: \"abc\nop: \"x\"",
           "t.pbtxt:1:7: string is not terminated on its line");
  text_err(NODE_DESC, "name: 'abc", "t.pbtxt:1:7: string is not terminated "
           "on its line");
  text_err(NODE_DESC, "name: abc",
           "t.pbtxt:1:7: expected a string for field 'name', got 'abc'");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Text format: messages, lists, maps, comments                              */
/* ------------------------------------------------------------------------ */

START_TEST(text_message_forms) {
  Tensorflow__GraphDef *g = (Tensorflow__GraphDef *)text_ok(GRAPH_DESC,
      "# a comment\n"
      "node { name: \"a\" op: \"Const\" }  # trailing comment\n"
      "node: { name: \"b\", op: \"Identity\"; input: \"a\" }\n"
      "node < name: 'c' op: 'NoOp' >\n"
      "node: [{ name: \"d\" }, < name: \"e\" >]\n"
      "node: []\n"
      "versions { producer: 27 bad_consumers: [1, 2] bad_consumers: 3 },\n"
      "library { function { signature { name: \"f\" } } };");
  ck_assert_uint_eq(g->n_node, 5);
  static const char *const names[] = {"a", "b", "c", "d", "e"};
  for (int i = 0; i < 5; i++) ck_assert_str_eq(g->node[i]->name, names[i]);
  ck_assert_str_eq(g->node[1]->input[0], "a");
  ck_assert_int_eq(g->versions->producer, 27);
  ck_assert_uint_eq(g->versions->n_bad_consumers, 3);
  ck_assert_int_eq(g->versions->bad_consumers[2], 3);
  ck_assert_str_eq(g->library->function[0]->signature->name, "f");
  tensorflow__graph_def__free_unpacked(g, NULL);

  /* empty input: an empty message */
  g = (Tensorflow__GraphDef *)text_ok(GRAPH_DESC, "  # only a comment\n");
  ck_assert_uint_eq(g->n_node, 0);
  tensorflow__graph_def__free_unpacked(g, NULL);
}
END_TEST

START_TEST(text_attr_maps) {
  Tensorflow__NodeDef *n = (Tensorflow__NodeDef *)text_ok(NODE_DESC,
      "name: \"n\" op: \"Conv2D\"\n"
      "attr { key: \"T\" value { type: DT_FLOAT } }\n"
      "attr { key: \"strides\" value { list { i: [1, 2, 2, 1] } } }\n"
      "attr { key: \"padding\" value { s: \"SAME\" } }\n"
      "attr { key: \"f\" value { func { name: \"body\" attr { key: \"x\" "
      "value { i: 3 } } } } }\n"
      "attr { value { b: true } key: \"use_cudnn_on_gpu\" }\n");
  ck_assert_uint_eq(n->n_attr, 5);
  ck_assert_str_eq(n->attr[0]->key, "T");
  ck_assert_int_eq(n->attr[0]->value->type, TENSORFLOW__DATA_TYPE__DT_FLOAT);
  ck_assert_uint_eq(n->attr[1]->value->list->n_i, 4);
  ck_assert_int_eq(n->attr[1]->value->list->i[1], 2);
  ck_assert_uint_eq(n->attr[2]->value->s.len, 4);
  ck_assert_str_eq(n->attr[3]->value->func->name, "body");
  ck_assert_int_eq(n->attr[3]->value->func->attr[0]->value->i, 3);
  ck_assert_str_eq(n->attr[4]->key, "use_cudnn_on_gpu");
  ck_assert(n->attr[4]->value->b);
  tensorflow__node_def__free_unpacked(n, NULL);
}
END_TEST

START_TEST(text_errors) {
  text_err(NODE_DESC, "name: \"x\"\n  foo: 1",
           "t.pbtxt:2:3: unknown field 'foo' in tensorflow.NodeDef");
  text_err(GRAPH_DESC, "node { attr { key: \"T\" value { tipe: DT_FLOAT } } }",
           "t.pbtxt:1:32: unknown field 'tipe' in tensorflow.AttrValue");
  text_err(NODE_DESC, "name \"x\"",
           "t.pbtxt:1:6: expected ':' after field name 'name', got a string");
  text_err(NODE_DESC, "name: [\"x\"]",
           "t.pbtxt:1:7: field 'name' is not repeated: it takes no list");
  text_err(NODE_DESC, "name: \"x\" name: \"y\"",
           "t.pbtxt:1:11: field 'name' of tensorflow.NodeDef is given more "
           "than once");
  text_err(&tensorflow__attr_value__descriptor, "i: 1 f: 2",
           "t.pbtxt:1:6: fields 'i' and 'f' of tensorflow.AttrValue are in "
           "one oneof: give one");
  text_err(GRAPH_DESC, "node {\n  name: \"x\"\n",
           "t.pbtxt:3:1: unexpected end of input: '{' at 1:6 is not closed");
  text_err(GRAPH_DESC, "node < name: \"x\" }",
           "t.pbtxt:1:18: expected a field name, got '}'");
  text_err(GRAPH_DESC, "node { name: \"x\" } }",
           "t.pbtxt:1:20: expected a field name, got '}'");
  text_err(GRAPH_DESC, "node: \"x\"",
           "t.pbtxt:1:7: expected '{' to start message field 'node', got a "
           "string");
  text_err(GRAPH_DESC, "node { name: \"x\" } @",
           "t.pbtxt:1:20: unexpected character '@'");
  text_err(GRAPH_DESC, "node { name: \"x\" }\n\x01",
           "t.pbtxt:2:1: unexpected byte 0x01");
  text_err(GRAPH_DESC, "[ext.field]: 1",
           "t.pbtxt:1:1: extension and Any fields ([…]) are not supported");
  text_err(&tensorflow__attr_value__descriptor, "list { i: [1 2] }",
           "t.pbtxt:1:14: expected ',' or ']' in a list, got '2'");
  text_err(GRAPH_DESC, "versions { producer: 1 } 12",
           "t.pbtxt:1:26: expected a field name, got '12'");
}
END_TEST

START_TEST(text_nesting_limit) {
  /* FullTypeDef nests through `args`: 100 levels below the NodeDef (its
   * experimental_type, then 99 args) are fine, 101 are not. */
  for (int depth = 100; depth <= 101; depth++) {
    HloStr s = {0};
    hlo_str_printf(&s, "experimental_type {");
    for (int i = 0; i < depth - 1; i++) hlo_str_printf(&s, " args {");
    for (int i = 0; i < depth; i++) hlo_str_printf(&s, " }");
    ProtobufCMessage *m;
    HloError *e = tf_proto_parse_text(NODE_DESC, s.buf, s.len, "t.pbtxt", &m);
    if (depth == 100) {
      ck_assert_msg(!e, "%s", hlo_error_message(e));
      protobuf_c_message_free_unpacked(m, NULL);
    } else {
      /* the '{' of level 101: 19 + 7 * 100 */
      ck_assert_str_eq(hlo_error_message(e),
                       "t.pbtxt:1:719: messages nested deeper than 100");
      hlo_error_free(e);
    }
    free(s.buf);
  }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Binary format                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(binary_diagnostics) {
  /* GraphDef{node: NodeDef{op: <32-bit>}} */
  static const uint8_t wrong_type[] = {0x0a, 0x05, 0x15, 1, 2, 3, 4};
  binary_err(GRAPH_DESC, wrong_type, sizeof wrong_type,
             "t.pb: malformed protobuf at byte 2: field 2 (op) of "
             "tensorflow.NodeDef has wire type 5 (32-bit), expected 2 "
             "(length-delimited)");
  /* NodeDef{name: length 9, 3 bytes} */
  static const uint8_t short_len[] = {0x0a, 0x09, 'a', 0x01, 'c'};
  binary_err(NODE_DESC, short_len, sizeof short_len,
             "t.pb: malformed protobuf at byte 0: truncated length-delimited "
             "field 1 (name) of tensorflow.NodeDef: length 9, 3 bytes left");
  /* the inner length overruns the outer message */
  static const uint8_t overrun[] = {0x0a, 0x03, 0x0a, 0x05, 'a', 'b', 'c'};
  binary_err(GRAPH_DESC, overrun, sizeof overrun,
             "t.pb: malformed protobuf at byte 2: truncated length-delimited "
             "field 1 (name) of tensorflow.NodeDef: length 5, 1 bytes left");
  /* VersionDef{producer: unterminated varint} */
  static const uint8_t varint[] = {0x22, 0x02, 0x08, 0x80};
  binary_err(GRAPH_DESC, varint, sizeof varint,
             "t.pb: malformed protobuf at byte 3: truncated varint in field 1 "
             "(producer) of tensorflow.VersionDef");
  static const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  binary_err(&tensorflow__version_def__descriptor, long_varint,
             sizeof long_varint,
             "t.pb: malformed protobuf at byte 1: varint longer than 10 bytes "
             "in field 1 (producer) of tensorflow.VersionDef");
  static const uint8_t long_tag[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x01};
  binary_err(GRAPH_DESC, long_tag, sizeof long_tag,
             "t.pb: malformed protobuf at byte 0: tag longer than 10 bytes in "
             "tensorflow.GraphDef");
  static const uint8_t field0[] = {0x02, 0x00};
  binary_err(GRAPH_DESC, field0, sizeof field0,
             "t.pb: malformed protobuf at byte 0: field number 0 in "
             "tensorflow.GraphDef is out of range");
  static const uint8_t group[] = {0x0b, 0x00};
  binary_err(GRAPH_DESC, group, sizeof group,
             "t.pb: malformed protobuf at byte 0: field 1 (node) of "
             "tensorflow.GraphDef uses groups (wire type 3), which are not "
             "supported");
  static const uint8_t wt7[] = {0x0a, 0x02, 0x7f, 0x00};
  binary_err(GRAPH_DESC, wt7, sizeof wt7,
             "t.pb: malformed protobuf at byte 2: unknown field 15 of "
             "tensorflow.NodeDef has invalid wire type 7");
  static const uint8_t tag_cut[] = {0x0a, 0x01, 0x80};
  binary_err(GRAPH_DESC, tag_cut, sizeof tag_cut,
             "t.pb: malformed protobuf at byte 2: truncated tag in "
             "tensorflow.NodeDef");
  /* TensorProto{float_val: packed, 7 bytes} */
  static const uint8_t packed[] = {0x2a, 0x07, 0, 0, 0x80, 0x3f, 0, 0, 0};
  binary_err(TENSOR_DESC, packed, sizeof packed,
             "t.pb: malformed protobuf at byte 2: packed field 5 (float_val) "
             "of tensorflow.TensorProto has 7 bytes, not a multiple of 4");
  /* TensorProto{int_val: packed, last varint unterminated} */
  static const uint8_t packed_varint[] = {0x3a, 0x03, 0x01, 0x02, 0x83};
  binary_err(TENSOR_DESC, packed_varint, sizeof packed_varint,
             "t.pb: malformed protobuf at byte 4: truncated varint in packed "
             "field 7 (int_val) of tensorflow.TensorProto");
  /* TensorProto{double_val: one fixed64 cut short} */
  static const uint8_t fixed_cut[] = {0x31, 0, 0, 0};
  binary_err(TENSOR_DESC, fixed_cut, sizeof fixed_cut,
             "t.pb: malformed protobuf at byte 0: truncated 8-byte field 6 "
             "(double_val) of tensorflow.TensorProto: 3 bytes left");
  /* an unknown field with a bad length is still found */
  static const uint8_t unknown[] = {0x0a, 0x04, 0xfa, 0x01, 0x05, 'x'};
  binary_err(GRAPH_DESC, unknown, sizeof unknown,
             "t.pb: malformed protobuf at byte 2: truncated length-delimited "
             "unknown field 31 of tensorflow.NodeDef: length 5, 1 bytes left");
}
END_TEST

START_TEST(binary_unknown_fields_and_packing) {
  /* NodeDef{name "n", unknown varint 30, unknown fixed32 31, unknown
   * length-delimited 29}: skipped, as protobuf does */
  static const uint8_t nd[] = {0x0a, 0x01, 'n', 0xf0, 0x01, 0x05, 0xfd, 0x01,
                               1, 2, 3, 4, 0xea, 0x01, 0x01, 'z'};
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_binary(NODE_DESC, nd, sizeof nd, "t.pb", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_str_eq(((Tensorflow__NodeDef *)m)->name, "n");
  protobuf_c_message_free_unpacked(m, NULL);
  /* int_val both packed and unpacked */
  static const uint8_t t[] = {0x3a, 0x02, 0x05, 0x06, 0x38, 0x07};
  e = tf_proto_parse_binary(TENSOR_DESC, t, sizeof t, "t.pb", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  Tensorflow__TensorProto *tp = (Tensorflow__TensorProto *)m;
  ck_assert_uint_eq(tp->n_int_val, 3);
  ck_assert_int_eq(tp->int_val[2], 7);
  protobuf_c_message_free_unpacked(m, NULL);
}
END_TEST

START_TEST(binary_nesting_limit) {
  /* NodeDef.experimental_type (7) then FullTypeDef.args (2), nested; the
   * NodeDef itself is level 0. */
  for (int depth = 100; depth <= 101; depth++) {
    /* built from the inside out: tag, varint length, body */
    HloStr s = {0};
    for (int i = 0; i < depth; i++) {
      HloStr outer = {0};
      uint8_t tag = i == depth - 1 ? 0x3a : 0x12;
      hlo_str_append(&outer, (const char *)&tag, 1);
      size_t len = s.len;
      do {
        uint8_t b = (uint8_t)((len & 0x7f) | (len >= 0x80 ? 0x80 : 0));
        hlo_str_append(&outer, (const char *)&b, 1);
        len >>= 7;
      } while (len);
      if (s.len) hlo_str_append(&outer, s.buf, s.len);
      free(s.buf);
      s = outer;
    }
    ProtobufCMessage *m;
    HloError *e = tf_proto_parse_binary(NODE_DESC, s.buf, s.len, "t.pb", &m);
    if (depth == 100) {
      ck_assert_msg(!e, "%s", hlo_error_message(e));
      protobuf_c_message_free_unpacked(m, NULL);
    } else {
      ck_assert_msg(e && strstr(hlo_error_message(e),
                                "messages nested deeper than 100 at field 2 "
                                "(args) of tensorflow.FullTypeDef"),
                    "%s", hlo_error_message(e));
      hlo_error_free(e);
    }
    free(s.buf);
  }
}
END_TEST

/* Offsets where a top-level field of buf ends: truncating there leaves a
 * valid, shorter message. */
static bool is_field_boundary(const uint8_t *buf, size_t len, size_t at) {
  size_t pos = 0;
  while (pos < len) {
    if (pos == at) return true;
    uint64_t tag = 0;
    for (int s = 0;; s += 7) {
      tag |= (uint64_t)(buf[pos] & 0x7f) << s;
      if (!(buf[pos++] & 0x80)) break;
    }
    uint64_t n = 0;
    switch (tag & 7) {
    case 0: while (buf[pos++] & 0x80) {} break;
    case 1: pos += 8; break;
    case 5: pos += 4; break;
    case 2:
      for (int s = 0;; s += 7) {
        n |= (uint64_t)(buf[pos] & 0x7f) << s;
        if (!(buf[pos++] & 0x80)) break;
      }
      pos += n;
      break;
    }
  }
  return pos == at;
}

/* Parses every prefix (every `stride`-th one) of a real GraphDef: each is an
 * error, or a valid message when cut at a top-level field boundary. */
static void truncate_everywhere(const char *path, size_t stride) {
  size_t len;
  uint8_t *buf = (uint8_t *)ck_read_file(path, &len);
  int errors = 0;
  for (size_t cut = 0; cut < len; cut += stride) {
    ProtobufCMessage *m;
    HloError *e = tf_proto_parse_binary(GRAPH_DESC, buf, cut, path, &m);
    if (e) {
      ck_assert_ptr_null(m);
      ck_assert_msg(strstr(hlo_error_message(e), "malformed protobuf at byte"),
                    "%s", hlo_error_message(e));
      hlo_error_free(e);
      errors++;
    } else {
      ck_assert_msg(is_field_boundary(buf, len, cut),
                    "%s cut at %zu parsed", path, cut);
      protobuf_c_message_free_unpacked(m, NULL);
    }
  }
  ck_assert_int_gt(errors, 0);
  free(buf);
}

START_TEST(binary_truncated_testdata) {
  truncate_everywhere("testdata/tf/ops/add.pb", 1);
  truncate_everywhere("testdata/tf/ops/while_loop.pb", 1);
  truncate_everywhere("testdata/tf/models/lstm_while.pb", 7);
  truncate_everywhere("testdata/tf/models/mnist_mlp.pb", 997);
}
END_TEST

/* Flips bytes of a real GraphDef: whatever the result, no crash, and a
 * result that parses still builds (or refuses) a graph cleanly. */
START_TEST(binary_corrupted_testdata) {
  size_t len;
  uint8_t *orig = (uint8_t *)ck_read_file("testdata/tf/ops/while_loop.pb", &len);
  uint8_t *buf = malloc(len);
  uint32_t seed = 12345;
  int parsed = 0;
  for (int trial = 0; trial < 3000; trial++) {
    memcpy(buf, orig, len);
    for (int k = 0; k < 1 + trial % 4; k++) {
      seed = seed * 1103515245u + 12345u;
      buf[(seed >> 8) % len] ^= (uint8_t)(1u << ((seed >> 4) & 7));
    }
    ProtobufCMessage *m;
    HloError *e = tf_proto_parse_binary(GRAPH_DESC, buf, len, "x.pb", &m);
    if (e) {
      hlo_error_free(e);
      continue;
    }
    parsed++;
    TfGraph *g;
    e = tf_graph_new((Tensorflow__GraphDef *)m, NULL, &g);
    if (e)
      hlo_error_free(e);
    else
      tf_graph_free(g);
  }
  ck_assert_int_gt(parsed, 0);
  free(buf);
  free(orig);
}
END_TEST

START_TEST(format_detection) {
  const char *text = "node { name: \"a\" op: \"Const\" }";
  static const uint8_t bin[] = {0x0a, 0x0a, 0x0a, 0x01, 'a', 0x12,
                                0x05, 'C',  'o',  'n',  's', 't'};
  ProtobufCMessage *m;
  /* by content when the name does not tell */
  HloError *e = tf_proto_parse(GRAPH_DESC, text, strlen(text), "model", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_str_eq(((Tensorflow__GraphDef *)m)->node[0]->op, "Const");
  protobuf_c_message_free_unpacked(m, NULL);
  e = tf_proto_parse(GRAPH_DESC, bin, sizeof bin, "model", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_str_eq(((Tensorflow__GraphDef *)m)->node[0]->op, "Const");
  protobuf_c_message_free_unpacked(m, NULL);
  /* by extension: text in a .pb is read as binary, with a hint */
  e = tf_proto_parse(GRAPH_DESC, text, strlen(text), "model.pb", &m);
  ck_assert_str_eq(hlo_error_message(e),
                   "model.pb: malformed protobuf at byte 0: unknown field 13 "
                   "of tensorflow.GraphDef has invalid wire type 6 (the file "
                   "looks like protobuf text format: name it .pbtxt)");
  hlo_error_free(e);
  e = tf_proto_parse(GRAPH_DESC, bin, sizeof bin, "model.pbtxt", &m);
  ck_assert_str_eq(hlo_error_message(e),
                   "model.pbtxt:4:1: unexpected byte 0x01");
  hlo_error_free(e);
  /* a comment to the end of the buffer (found by fuzz_graphdef: the text
   * sniffing read past the end) */
  char *hash = malloc(2);
  memcpy(hash, "#4", 2);
  e = tf_proto_parse_binary(GRAPH_DESC, hash, 2, "h.pb", &m);
  ck_assert_str_eq(hlo_error_message(e),
                   "h.pb: malformed protobuf at byte 0: field 4 (versions) of "
                   "tensorflow.GraphDef uses groups (wire type 3), which are "
                   "not supported (the file looks like protobuf text format: "
                   "name it .pbtxt)");
  hlo_error_free(e);
  free(hash);
  e = tf_proto_read_file(GRAPH_DESC, "testdata/does/not/exist.pb", &m);
  ck_assert_str_eq(hlo_error_message(e), "testdata/does/not/exist.pb: cannot "
                   "open: No such file or directory");
  hlo_error_free(e);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* TensorFlow's files                                                        */
/* ------------------------------------------------------------------------ */

static int compare_entries(const void *a, const void *b) {
  const ProtobufCMessage *x = *(ProtobufCMessage *const *)a;
  const ProtobufCMessage *y = *(ProtobufCMessage *const *)b;
  const ProtobufCFieldDescriptor *k = &x->descriptor->fields[0];
  const void *kx = (const char *)x + k->offset, *ky = (const char *)y + k->offset;
  if (k->type == PROTOBUF_C_TYPE_STRING)
    return strcmp(*(char *const *)kx, *(char *const *)ky);
  uint32_t ux = *(const uint32_t *)kx, uy = *(const uint32_t *)ky;
  return (ux > uy) - (ux < uy);
}

/* Sorts the entries of every map (a repeated message of {key, value}) by
 * key: text format prints maps sorted, binary keeps insertion order. */
static void sort_maps(ProtobufCMessage *m) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    char *base = (char *)m;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(size_t *)(base + f->quantifier_offset);
      ProtobufCMessage **v = *(ProtobufCMessage ***)(base + f->offset);
      const ProtobufCMessageDescriptor *sd = f->descriptor;
      for (size_t j = 0; j < n; j++) sort_maps(v[j]);
      size_t nl = strlen(sd->name);
      if (nl > 5 && !strcmp(sd->name + nl - 5, "Entry") && n > 1 &&
          sd->fields[0].type != PROTOBUF_C_TYPE_FIXED64)
        qsort(v, n, sizeof *v, compare_entries);
    } else {
      if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
          *(uint32_t *)(base + f->quantifier_offset) != f->id)
        continue;
      ProtobufCMessage *sub = *(ProtobufCMessage **)(base + f->offset);
      if (sub) sort_maps(sub);
    }
  }
}

static uint8_t *pack(ProtobufCMessage *m, size_t *len) {
  *len = protobuf_c_message_get_packed_size(m);
  uint8_t *b = malloc(*len + 1);
  protobuf_c_message_pack(m, b);
  return b;
}

START_TEST(text_equals_binary_on_testdata) {
  DIR *dir = opendir("testdata/tf/ops");
  ck_assert_ptr_nonnull(dir);
  struct dirent *ent;
  int pairs = 0;
  while ((ent = readdir(dir))) {
    size_t n = strlen(ent->d_name);
    if (n < 7 || strcmp(ent->d_name + n - 6, ".pbtxt") ||
        strstr(ent->d_name, ".config.pbtxt"))
      continue;
    char txt[512], bin[512];
    snprintf(txt, sizeof txt, "testdata/tf/ops/%s", ent->d_name);
    snprintf(bin, sizeof bin, "testdata/tf/ops/%.*s.pb", (int)(n - 6),
             ent->d_name);
    Tensorflow__GraphDef *a, *b;
    HloError *e = tf_graphdef_read(txt, &a);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    e = tf_graphdef_read(bin, &b);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    ck_assert_uint_gt(a->n_node, 0);
    sort_maps(&a->base);
    sort_maps(&b->base);
    size_t la, lb;
    uint8_t *pa = pack(&a->base, &la), *pb = pack(&b->base, &lb);
    ck_assert_msg(la == lb && !memcmp(pa, pb, la), "%s and %s differ", txt,
                  bin);
    free(pa);
    free(pb);
    tensorflow__graph_def__free_unpacked(a, NULL);
    tensorflow__graph_def__free_unpacked(b, NULL);
    pairs++;
  }
  closedir(dir);
  ck_assert_int_ge(pairs, 10);
}
END_TEST

START_TEST(graphdef_node_by_node_equals_whole) {
  /* tf_graphdef_read unpacks a binary GraphDef node by node, giving back
   * the pages it has parsed; the result must be what one unpack of the
   * whole file gives (models of one to hundreds of pages); a truncated
   * file is still refused with the byte at which it breaks. */
  static const char *const paths[] = {
      "testdata/tf/models/mobilenet_v2.pb", "testdata/tf/models/mnist_mlp.pb",
      "testdata/tf/models/lstm_while.pb", "testdata/tf/ops/add.pb"};
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    Tensorflow__GraphDef *a;
    ProtobufCMessage *b;
    HloError *e = tf_graphdef_read(paths[i], &a);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    e = tf_proto_read_file(&tensorflow__graph_def__descriptor, paths[i], &b);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    ck_assert_uint_gt(a->n_node, 0);
    size_t la, lb;
    uint8_t *pa = pack(&a->base, &la), *pb = pack(b, &lb);
    ck_assert_msg(la == lb && !memcmp(pa, pb, la), "%s: node by node differs", paths[i]);
    free(pa);
    free(pb);
    tensorflow__graph_def__free_unpacked(a, NULL);
    protobuf_c_message_free_unpacked(b, NULL);
  }
  char *data;
  size_t len;
  ck_assert(!tf_file_read(paths[1], SIZE_MAX, "", &data, &len));
  char tmp[] = "/tmp/hloc_truncated_XXXXXX";
  int fd = mkstemp(tmp);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "wb");
  fwrite(data, 1, len - 100, f);
  fclose(f);
  free(data);
  Tensorflow__GraphDef *t;
  HloError *e = tf_graphdef_read(tmp, &t);
  remove(tmp);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_null(t);
  ck_assert_msg(strstr(hlo_error_message(e), "malformed protobuf at byte"), "%s",
                hlo_error_message(e));
  hlo_error_free(e);
}
END_TEST

START_TEST(configs_in_every_style) {
  /* "line" style, "pretty" style (multi-line, comments), "compact" style
   * (no spaces, output_index 0 left out); TensorFlow's text_format checked
   * each when the files were written. */
  static const char *const paths[] = {
      "testdata/tf/ops/add.config.pbtxt",
      "testdata/tf/models/mnist_mlp.config.pbtxt",
  };
  for (size_t i = 0; i < 2; i++) {
    Tensorflow__Tf2xla__Config *c;
    HloError *e = tf_config_read(paths[i], &c);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    ck_assert_uint_ge(c->n_feed, 1);
    ck_assert_uint_eq(c->n_fetch, 1);
    tensorflow__tf2xla__config__free_unpacked(c, NULL);
  }
  const char *compact =
      "# tfcompile config, compact variant\n\n"
      "feed{id{node_name:\"a\"}shape{dim{size:2}dim{size:3}}name:\"a\" "
      "type:DT_FLOAT} fetch{id{node_name:\"s\" output_index:1}name:\"y\"}"
      "  # feeds then fetches\n";
  Tensorflow__Tf2xla__Config *c = (Tensorflow__Tf2xla__Config *)text_ok(
      CONFIG_DESC, compact);
  ck_assert_str_eq(c->feed[0]->id->node_name, "a");
  ck_assert_int_eq(c->feed[0]->id->output_index, 0);
  ck_assert_uint_eq(c->feed[0]->shape->n_dim, 2);
  ck_assert_int_eq(c->feed[0]->shape->dim[1]->size, 3);
  ck_assert_int_eq(c->feed[0]->type, TENSORFLOW__DATA_TYPE__DT_FLOAT);
  ck_assert_int_eq(c->fetch[0]->id->output_index, 1);
  ck_assert_str_eq(c->fetch[0]->name, "y");
  /* the binary form reads back the same */
  size_t len;
  uint8_t *b = pack(&c->base, &len);
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse(CONFIG_DESC, b, len, "c.pb", &m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_str_eq(((Tensorflow__Tf2xla__Config *)m)->fetch[0]->name, "y");
  protobuf_c_message_free_unpacked(m, NULL);
  free(b);
  tensorflow__tf2xla__config__free_unpacked(c, NULL);
}
END_TEST

START_TEST(every_testdata_file_reads) {
  static const char *const dirs[] = {"testdata/tf/ops", "testdata/tf/models"};
  int files = 0;
  for (int d = 0; d < 2; d++) {
    DIR *dir = opendir(dirs[d]);
    ck_assert_ptr_nonnull(dir);
    struct dirent *ent;
    while ((ent = readdir(dir))) {
      size_t n = strlen(ent->d_name);
      bool config = n > 13 && !strcmp(ent->d_name + n - 13, ".config.pbtxt");
      bool graph = (n > 3 && !strcmp(ent->d_name + n - 3, ".pb")) ||
                   (!config && n > 6 && !strcmp(ent->d_name + n - 6, ".pbtxt"));
      if (!config && !graph) continue;
      char path[512];
      snprintf(path, sizeof path, "%s/%s", dirs[d], ent->d_name);
      ProtobufCMessage *m;
      HloError *e = tf_proto_read_file(config ? CONFIG_DESC : GRAPH_DESC, path,
                                       &m);
      ck_assert_msg(!e, "%s", hlo_error_message(e));
      protobuf_c_message_free_unpacked(m, NULL);
      files++;
    }
    closedir(dir);
  }
  ck_assert_int_gt(files, 100);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_proto");
  TCase *t = tcase_create("text");
  tcase_add_test(t, text_every_scalar_type);
  tcase_add_test(t, text_integer_ranges);
  tcase_add_test(t, text_floats);
  tcase_add_test(t, text_bools);
  tcase_add_test(t, text_enums);
  tcase_add_test(t, text_string_escapes);
  tcase_add_test(t, text_message_forms);
  tcase_add_test(t, text_attr_maps);
  tcase_add_test(t, text_errors);
  tcase_add_test(t, text_nesting_limit);
  suite_add_tcase(s, t);
  TCase *b = tcase_create("binary");
  tcase_add_test(b, binary_diagnostics);
  tcase_add_test(b, binary_unknown_fields_and_packing);
  tcase_add_test(b, binary_nesting_limit);
  tcase_add_test(b, binary_truncated_testdata);
  tcase_add_test(b, binary_corrupted_testdata);
  tcase_add_test(b, format_detection);
  suite_add_tcase(s, b);
  TCase *f = tcase_create("testdata");
  tcase_set_timeout(f, 120);
  tcase_add_test(f, text_equals_binary_on_testdata);
  tcase_add_test(f, graphdef_node_by_node_equals_whole);
  tcase_add_test(f, configs_in_every_style);
  tcase_add_test(f, every_testdata_file_reads);
  suite_add_tcase(s, f);
  return ck_run_suite(s);
}
