/*
 * test_frontend_control.c — functional control flow and TensorLists
 * (lower_control.c) beyond what testdata/tf covers: each case is a small
 * GraphDef with its function library in text format.  Errors assert the
 * whole message, node prefix included; the other cases evaluate the
 * imported module and check its values.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend_util.h"
#include "frontend.h"

#define PLACEHOLDER(name, dtype)                                              \
  "node { name: '" name "' op: 'Placeholder' attr { key: 'dtype' value { type: " dtype " } } }\n"
#define CONST(name, dtype, dims, vals)                                        \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: " dtype " } }"         \
  " attr { key: 'value' value { tensor { dtype: " dtype " tensor_shape { " dims " } " vals      \
  " } } } }\n"
#define BODY_NODE(name, op, inputs, attrs)                                    \
  "node_def { name: '" name "' op: '" op "' " inputs " " attrs " }\n"
#define BODY_CONST(name, dtype, dims, vals)                                   \
  "node_def { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: " dtype " } }"     \
  " attr { key: 'value' value { tensor { dtype: " dtype " tensor_shape { " dims " } " vals      \
  " } } } }\n"
#define ATTR_FUNC(key, f) "attr { key: '" key "' value { func { name: '" f "' } } }"
#define ATTR_F32 ATTR_TYPE("T", "DT_FLOAT")
#define ATTR_I32 ATTR_TYPE("T", "DT_INT32")
#define ATTR_ELEM ATTR_TYPE("element_dtype", "DT_FLOAT")
#define LOOP(cond, body) ATTR_FUNC("cond", cond) ATTR_FUNC("body", body)
#define BRANCHES(t, e) ATTR_FUNC("then_branch", t) ATTR_FUNC("else_branch", e)

/* function NAME(args) -> (results) { nodes; rets } */
#define FUNCTION(name, args, results, nodes, rets)                            \
  "function { signature { name: '" name "' " args " " results " }\n" nodes rets " }\n"
#define ARG(name, type) "input_arg { name: '" name "' type: " type " }"
#define RESULT(name, type) "output_arg { name: '" name "' type: " type " }"
#define RET(name, value) "ret { key: '" name "' value: '" value "' }\n"
#define LIBRARY(functions) "library { " functions " }\n"

#define FEED(name, type, dims)                                                \
  "feed { id { node_name: '" name "' } shape { " dims " } type: " type " }\n"
#define FETCH_K(name, k) "fetch { id { node_name: '" name "' output_index: " #k " } }\n"
#define CONFIG_X(out) FEED("x", "DT_FLOAT", "dim { size: 2 } dim { size: 3 }") FETCH(out)

/* Imports and evaluates the graph on args; returns the result. */
static HloLiteral *run(const char *graph, const char *config, HloLiteral *const *args,
                       int nargs) {
  char *msg = NULL;
  HloModule *m = fu_import(graph, config, &msg);
  ck_assert_msg(m != NULL, "import: %s", msg);
  HloLiteral *out = ck_evaluate(m, args, nargs);
  hlo_module_free(m);
  return out;
}

static HloLiteral *vector_f32(int n, const double *v) {
  int64_t d = n;
  HloShape s = hlo_shape_array(HLO_F32, 1, &d);
  HloLiteral *l = hlo_literal_new(&s);
  for (int i = 0; i < n; i++) hlo_literal_set_f64(l, i, v[i]);
  return l;
}

static HloLiteral *scalar(HloType t, double v) {
  HloShape s = hlo_shape_scalar(t);
  HloLiteral *l = hlo_literal_new(&s);
  hlo_literal_set_f64(l, 0, v);
  return l;
}

/* ------------------------------------------------------------------------ */
/* While                                                                    */
/* ------------------------------------------------------------------------ */

/* cond(v) = false: a loop that never runs its body. */
#define COND_FALSE(type)                                                      \
  FUNCTION("cond", ARG("v", type), RESULT("r", "DT_BOOL"),                    \
           BODY_CONST("f", "DT_BOOL", "", "bool_val: false"), RET("r", "f:output:0"))

START_TEST(while_body_changes_shape) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("w", "While", "input: 'x'", ATTR_TYPE("T", "DT_FLOAT") LOOP("cond", "body"))
               LIBRARY(COND_FALSE("DT_FLOAT")
                       FUNCTION("body", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"),
                                BODY_CONST("axis", "DT_INT32", "", "int_val: 0")
                                BODY_NODE("cat", "ConcatV2",
                                          "input: 'v' input: 'v' input: 'axis:output:0'",
                                          ATTR_F32 ATTR_INT("N", "2")),
                                RET("r", "cat:output:0"))),
               CONFIG_X("w"),
               "node 'w' (While): body 'body' changes loop variable 0 from f32[2,3]{1,0} to "
               "f32[4,3]{1,0} (shapes must stay the same in every iteration)");
}
END_TEST

START_TEST(while_cond_not_bool) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("w", "StatelessWhile", "input: 'x'",
                    ATTR_TYPE("T", "DT_FLOAT") LOOP("cond", "body"))
               LIBRARY(FUNCTION("cond", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"), "",
                                RET("r", "v"))
                       FUNCTION("body", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"), "",
                                RET("r", "v"))),
               CONFIG_X("w"),
               "node 'w' (StatelessWhile): cond 'cond' returns f32[2,3]{1,0}, expected one "
               "bool");
}
END_TEST

START_TEST(while_missing_function) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("w", "While", "input: 'x'", ATTR_TYPE("T", "DT_FLOAT") LOOP("cond", "nobody"))
               LIBRARY(COND_FALSE("DT_FLOAT")),
               CONFIG_X("w"),
               "node 'w' (While): no function 'nobody' in the graph's library");
}
END_TEST

START_TEST(while_error_inside_body) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("w", "While", "input: 'x'", ATTR_TYPE("T", "DT_FLOAT") LOOP("cond", "body"))
               LIBRARY(COND_FALSE("DT_FLOAT")
                       FUNCTION("body", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"),
                                BODY_NODE("sm", "Softmax", "input: 'v' input: 'v'", ATTR_F32),
                                RET("r", "sm:softmax:0"))),
               CONFIG_X("w"),
               "node 'w' (While): body/node 'sm' (Softmax): expects 1 input(s), has 2");
}
END_TEST

/* i counts to n; acc doubles in an inner loop that runs i times per outer
 * iteration: a loop nested in a loop body, and a body that passes an
 * argument straight through. */
START_TEST(while_nested) {
  const char *graph =
      PLACEHOLDER("n", "DT_INT32") PLACEHOLDER("x", "DT_FLOAT")
      CONST("zero", "DT_INT32", "", "int_val: 0")
      NODE("w", "StatelessWhile", "input: 'zero' input: 'n' input: 'x'",
           ATTR_TYPE("T", "DT_INT32") LOOP("outer_cond", "outer_body"))
      LIBRARY(
          FUNCTION("outer_cond", ARG("i", "DT_INT32") ARG("n", "DT_INT32") ARG("a", "DT_FLOAT"),
                   RESULT("r", "DT_BOOL"),
                   BODY_NODE("lt", "Less", "input: 'i' input: 'n'", ATTR_I32),
                   RET("r", "lt:z:0"))
          FUNCTION("outer_body", ARG("i", "DT_INT32") ARG("n", "DT_INT32") ARG("a", "DT_FLOAT"),
                   RESULT("i2", "DT_INT32") RESULT("n2", "DT_INT32") RESULT("a2", "DT_FLOAT"),
                   BODY_CONST("one", "DT_INT32", "", "int_val: 1")
                   BODY_CONST("zero", "DT_INT32", "", "int_val: 0")
                   BODY_NODE("next", "AddV2", "input: 'i' input: 'one:output:0'", ATTR_I32)
                   BODY_NODE("inner", "While", "input: 'zero:output:0' input: 'i' input: 'a'",
                             ATTR_TYPE("T", "DT_INT32") LOOP("outer_cond", "inner_body")),
                   RET("i2", "next:z:0") RET("n2", "n") RET("a2", "inner:output:2"))
          FUNCTION("inner_body", ARG("j", "DT_INT32") ARG("m", "DT_INT32") ARG("a", "DT_FLOAT"),
                   RESULT("j2", "DT_INT32") RESULT("m2", "DT_INT32") RESULT("a2", "DT_FLOAT"),
                   BODY_CONST("one", "DT_INT32", "", "int_val: 1")
                   BODY_NODE("next", "AddV2", "input: 'j' input: 'one:output:0'", ATTR_I32)
                   BODY_NODE("twice", "AddV2", "input: 'a' input: 'a'", ATTR_F32),
                   RET("j2", "next:z:0") RET("m2", "m") RET("a2", "twice:z:0")));
  const char *config = FEED("n", "DT_INT32", "") FEED("x", "DT_FLOAT", "dim { size: 2 }")
      FETCH_K("w", 0) FETCH_K("w", 2);
  /* n = 4: the inner loop runs 0 + 1 + 2 + 3 = 6 times. */
  HloLiteral *args[2] = {scalar(HLO_S32, 4), vector_f32(2, (double[]){1.5, -0.25})};
  HloLiteral *out = run(graph, config, args, 2);
  ck_assert_int_eq(hlo_literal_get_s64(out->elems[0], 0), 4);
  ck_assert_double_eq(hlo_literal_get_f64(out->elems[1], 0), 1.5 * 64);
  ck_assert_double_eq(hlo_literal_get_f64(out->elems[1], 1), -0.25 * 64);
  hlo_literal_free(out);
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* If                                                                       */
/* ------------------------------------------------------------------------ */

#define TIMES_TWO                                                             \
  FUNCTION("twice", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"),            \
           BODY_NODE("s", "AddV2", "input: 'v' input: 'v'", ATTR_F32), RET("r", "s:z:0"))
#define NEGATE                                                                \
  FUNCTION("neg", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"),              \
           BODY_NODE("n", "Neg", "input: 'v'", ATTR_F32), RET("r", "n:y:0"))

/* An int32 condition is true when non-zero, as in TensorFlow. */
START_TEST(if_int_condition) {
  const char *graph = PLACEHOLDER("p", "DT_INT32") PLACEHOLDER("x", "DT_FLOAT")
      NODE("if", "StatelessIf", "input: 'p' input: 'x'", BRANCHES("twice", "neg"))
      LIBRARY(TIMES_TWO NEGATE);
  const char *config = FEED("p", "DT_INT32", "") FEED("x", "DT_FLOAT", "dim { size: 2 }")
      FETCH("if");
  static const double want[2][2] = {{-1.5, 2}, {3, -4}};
  for (int k = 0; k < 2; k++) {
    HloLiteral *args[2] = {scalar(HLO_S32, k ? -7 : 0), vector_f32(2, (double[]){1.5, -2})};
    HloLiteral *out = run(graph, config, args, 2);
    ck_assert_double_eq(hlo_literal_get_f64(out, 0), want[k][0]);
    ck_assert_double_eq(hlo_literal_get_f64(out, 1), want[k][1]);
    hlo_literal_free(out);
    hlo_literal_free(args[0]);
    hlo_literal_free(args[1]);
  }
}
END_TEST

START_TEST(if_branches_disagree) {
  fu_expect_error(PLACEHOLDER("p", "DT_BOOL") PLACEHOLDER("x", "DT_FLOAT")
               NODE("if", "If", "input: 'p' input: 'x'", BRANCHES("twice", "first_row"))
               LIBRARY(TIMES_TWO
                       FUNCTION("first_row", ARG("v", "DT_FLOAT"), RESULT("r", "DT_FLOAT"),
                                BODY_CONST("i", "DT_INT32", "", "int_val: 0")
                                BODY_NODE("g", "GatherV2",
                                          "input: 'v' input: 'i:output:0' input: 'i:output:0'",
                                          ATTR_TYPE("Tparams", "DT_FLOAT")
                                          ATTR_TYPE("Tindices", "DT_INT32")
                                          ATTR_TYPE("Taxis", "DT_INT32")),
                                RET("r", "g:output:0"))),
               FEED("p", "DT_BOOL", "") CONFIG_X("if"),
               "node 'if' (If): branches 'twice' and 'first_row' return output 0 as "
               "f32[2,3]{1,0} and f32[3]{0}");
}
END_TEST

START_TEST(if_condition_not_scalar) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("if", "If", "input: 'x' input: 'x'", BRANCHES("twice", "neg"))
               LIBRARY(TIMES_TWO NEGATE),
               CONFIG_X("if"),
               "node 'if' (If): the condition must hold one element, has shape f32[2,3]{1,0}");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(partitioned_call_inlined) {
  const char *graph = PLACEHOLDER("x", "DT_FLOAT")
      NODE("c", "StatefulPartitionedCall", "input: 'x'", ATTR_FUNC("f", "twice"))
      NODE("d", "PartitionedCall", "input: 'c'", ATTR_FUNC("f", "neg"))
      LIBRARY(TIMES_TWO NEGATE);
  const char *config = FEED("x", "DT_FLOAT", "dim { size: 2 }") FETCH("d");
  HloLiteral *x = vector_f32(2, (double[]){1.5, -2});
  HloLiteral *out = run(graph, config, &x, 1);
  ck_assert_double_eq(hlo_literal_get_f64(out, 0), -3);
  ck_assert_double_eq(hlo_literal_get_f64(out, 1), 4);
  hlo_literal_free(out);
  hlo_literal_free(x);
}
END_TEST

/* A node whose op is a library function's name calls it (tfcompile's
 * tffunction; Defun graphs): inlined like PartitionedCall, also inside
 * another function. */
START_TEST(direct_call_inlined) {
  const char *graph = PLACEHOLDER("x", "DT_FLOAT")
      NODE("c", "twice", "input: 'x'", "")
      NODE("d", "neg", "input: 'c'", "")
      LIBRARY(TIMES_TWO NEGATE);
  const char *config = FEED("x", "DT_FLOAT", "dim { size: 2 }") FETCH("d");
  HloLiteral *x = vector_f32(2, (double[]){1.5, -2});
  HloLiteral *out = run(graph, config, &x, 1);
  ck_assert_double_eq(hlo_literal_get_f64(out, 0), -3);
  ck_assert_double_eq(hlo_literal_get_f64(out, 1), 4);
  hlo_literal_free(out);
  hlo_literal_free(x);
  /* a function that calls itself is an error, not a hang */
  const char *self = PLACEHOLDER("x", "DT_FLOAT")
      NODE("c", "loop", "input: 'x'", "")
      LIBRARY(FUNCTION("loop", ARG("a", "DT_FLOAT"), RESULT("r", "DT_FLOAT"),
                       BODY_NODE("again", "loop", "input: 'a'", ""), RET("r", "again:r:0")));
  fu_expect_error(self, FEED("x", "DT_FLOAT", "dim { size: 2 }") FETCH("c"),
                  "node 'c' (loop): loop/node 'again' (loop): function 'loop' "
                  "calls itself: loop -> loop");
}
END_TEST

/* Config variable x (f32[2]) and feed d, for calls that assign x. */
#define VAR_X                                                                 \
  "node { name: 'x' op: 'VarHandleOp' attr { key: 'dtype' value { type: DT_FLOAT } }"         \
  " attr { key: 'shape' value { shape { dim { size: 2 } } } } }\n"
#define CONFIG_VAR_X(fetches)                                                 \
  FEED("d", "DT_FLOAT", "dim { size: 2 }") fetches                            \
  "variable { node_name: 'x' shape { dim { size: 2 } } type: DT_FLOAT }\n"
#define ATTR_DTYPE ATTR_TYPE("dtype", "DT_FLOAT")

/* A call passes x on to a call that assigns it: the outer call's result
 * and a read ordered after it see the assign, and so does the value
 * written back. */
START_TEST(calls_assign_a_config_variable) {
  const char *graph = VAR_X PLACEHOLDER("d", "DT_FLOAT")
      NODE("c", "StatefulPartitionedCall", "input: 'x' input: 'd'", ATTR_FUNC("f", "outer"))
      NODE("after", "ReadVariableOp", "input: 'x' input: '^c'", ATTR_DTYPE)
      LIBRARY(FUNCTION("outer", ARG("v", "DT_RESOURCE") ARG("delta", "DT_FLOAT"),
                       RESULT("r", "DT_FLOAT"),
                       BODY_NODE("ic", "StatefulPartitionedCall", "input: 'v' input: 'delta'",
                                 ATTR_FUNC("f", "inner")),
                       RET("r", "ic:output:0"))
              FUNCTION("inner", ARG("v", "DT_RESOURCE") ARG("delta", "DT_FLOAT"),
                       RESULT("r", "DT_FLOAT"),
                       BODY_NODE("a", "AssignAddVariableOp", "input: 'v' input: 'delta'",
                                 ATTR_DTYPE)
                       BODY_NODE("rd", "ReadVariableOp", "input: 'v' input: '^a'", ATTR_DTYPE),
                       RET("r", "rd:value:0")));
  HloLiteral *args[2] = {vector_f32(2, (double[]){10, 20}), vector_f32(2, (double[]){1, 2})};
  HloLiteral *out = run(graph, CONFIG_VAR_X(FETCH("c") FETCH("after")), args, 2);
  ck_assert_int_eq(out->shape.ntuple, 3); /* c, after, x's new value */
  for (int r = 0; r < 3; r++) {
    ck_assert_double_eq(hlo_literal_get_f64(out->elems[r], 0), 11);
    ck_assert_double_eq(hlo_literal_get_f64(out->elems[r], 1), 22);
  }
  hlo_literal_free(out);
  hlo_literal_free(args[0]);
  hlo_literal_free(args[1]);
}
END_TEST

/* A While body may not assign the variable in its loop state, nor a call
 * pass a variable twice. */
START_TEST(assigns_refused_in_loops) {
  fu_expect_error(VAR_X PLACEHOLDER("d", "DT_FLOAT")
                  NODE("w", "While", "input: 'x' input: 'd'",
                       "attr { key: 'T' value { list { type: DT_RESOURCE type: DT_FLOAT } } }"
                       LOOP("cond", "body"))
                  LIBRARY(FUNCTION("cond", ARG("v", "DT_RESOURCE") ARG("e", "DT_FLOAT"),
                                   RESULT("r", "DT_BOOL"),
                                   BODY_CONST("f", "DT_BOOL", "", "bool_val: false"),
                                   RET("r", "f:output:0"))
                          FUNCTION("body", ARG("v", "DT_RESOURCE") ARG("e", "DT_FLOAT"),
                                   RESULT("r", "DT_RESOURCE") RESULT("s", "DT_FLOAT"),
                                   BODY_NODE("a", "AssignAddVariableOp", "input: 'v' input: 'e'",
                                             ATTR_DTYPE)
                                   BODY_NODE("id", "Identity", "input: 'e' input: '^a'", ATTR_F32),
                                   RET("r", "v") RET("s", "id:output:0"))),
                  CONFIG_VAR_X(FETCH_K("w", 1)),
                  "node 'w' (While): body/node 'a' (AssignAddVariableOp): assigns a variable "
                  "that is no config variable: name its VarHandleOp or VariableV2 in a "
                  "variable {} entry of the config and pass its handle to the function by a "
                  "call (While and If bodies may not assign)");
  fu_expect_error(VAR_X PLACEHOLDER("d", "DT_FLOAT")
                  NODE("c", "PartitionedCall", "input: 'x' input: 'd' input: 'x'",
                       ATTR_FUNC("f", "two"))
                  LIBRARY(FUNCTION("two", ARG("a", "DT_RESOURCE") ARG("e", "DT_FLOAT")
                                              ARG("b", "DT_RESOURCE"),
                                   RESULT("r", "DT_FLOAT"),
                                   BODY_NODE("rd", "ReadVariableOp", "input: 'a'", ATTR_DTYPE),
                                   RET("r", "rd:value:0"))),
                  CONFIG_VAR_X(FETCH("c")),
                  "node 'c' (PartitionedCall): passes variable 'x' twice (inputs 0 and 2)");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* TensorLists                                                              */
/* ------------------------------------------------------------------------ */

/* A list of 3 elements reserved with an unknown element shape, set once
 * outside any loop (its shape comes from the item), read back and
 * stacked. */
START_TEST(list_pending_set_outside_loop) {
  const char *graph = PLACEHOLDER("x", "DT_FLOAT")
      CONST("unknown", "DT_INT32", "", "int_val: -1")
      CONST("three", "DT_INT32", "", "int_val: 3")
      CONST("one", "DT_INT32", "", "int_val: 1")
      CONST("shape", "DT_INT32", "dim { size: 2 }", "int_val: 2 int_val: 3")
      NODE("l", "TensorListReserve", "input: 'unknown' input: 'three'",
           ATTR_ELEM ATTR_TYPE("shape_type", "DT_INT32"))
      NODE("set", "TensorListSetItem", "input: 'l' input: 'one' input: 'x'", ATTR_ELEM)
      NODE("stack", "TensorListStack", "input: 'set' input: 'shape'",
           ATTR_ELEM ATTR_INT("num_elements", "3"))
      NODE("get", "TensorListGetItem", "input: 'set' input: 'one' input: 'shape'", ATTR_ELEM);
  const char *config = CONFIG_X("stack") FETCH("get");
  double v[6] = {1, 2, 3, 4, 5, 6};
  int64_t d[2] = {2, 3};
  HloShape s = hlo_shape_array(HLO_F32, 2, d);
  HloLiteral *x = hlo_literal_new(&s);
  for (int i = 0; i < 6; i++) hlo_literal_set_f64(x, i, v[i]);
  HloLiteral *out = run(graph, config, &x, 1);
  const HloLiteral *stack = out->elems[0], *get = out->elems[1];
  ck_assert_int_eq(stack->shape.rank, 3);
  ck_assert_int_eq(stack->shape.dims[0], 3);
  for (int i = 0; i < 18; i++)
    ck_assert_double_eq(hlo_literal_get_f64(stack, i), i >= 6 && i < 12 ? v[i - 6] : 0);
  ck_assert_msg(hlo_literal_equal(get, x), "GetItem does not read back what SetItem stored");
  hlo_literal_free(out);
  hlo_literal_free(x);
}
END_TEST

START_TEST(list_pending_never_stored) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST("unknown", "DT_INT32", "", "int_val: -1")
               CONST("three", "DT_INT32", "", "int_val: 3")
               NODE("l", "TensorListReserve", "input: 'unknown' input: 'three'",
                    ATTR_ELEM ATTR_TYPE("shape_type", "DT_INT32"))
               NODE("w", "While", "input: 'l' input: 'x'",
                    "attr { key: 'T' value { list { type: DT_VARIANT type: DT_FLOAT } } }"
                    LOOP("cond", "body"))
               LIBRARY(FUNCTION("cond", ARG("l", "DT_VARIANT") ARG("v", "DT_FLOAT"),
                                RESULT("r", "DT_BOOL"),
                                BODY_CONST("f", "DT_BOOL", "", "bool_val: false"),
                                RET("r", "f:output:0"))
                       FUNCTION("body", ARG("l", "DT_VARIANT") ARG("v", "DT_FLOAT"),
                                RESULT("l2", "DT_VARIANT") RESULT("v2", "DT_FLOAT"), "",
                                RET("l2", "l") RET("v2", "v"))),
               FEED("x", "DT_FLOAT", "dim { size: 2 } dim { size: 3 }") FETCH_K("w", 1),
               "node 'w' (While): loop variable 0 is a TensorList whose element shape is "
               "unknown and which body 'body' never stores into");
}
END_TEST

START_TEST(list_item_shape_mismatch) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST("shape", "DT_INT32", "dim { size: 1 }", "int_val: 3")
               CONST("two", "DT_INT32", "", "int_val: 2")
               NODE("l", "TensorListReserve", "input: 'shape' input: 'two'",
                    ATTR_ELEM ATTR_TYPE("shape_type", "DT_INT32"))
               NODE("set", "TensorListSetItem", "input: 'l' input: 'two' input: 'x'", ATTR_ELEM),
               CONFIG_X("set"),
               "node 'set' (TensorListSetItem): item f32[2,3]{1,0} does not match the list's "
               "elements f32[3]{0}");
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_control");
  TCase *t = tcase_create("while");
  tcase_add_test(t, while_body_changes_shape);
  tcase_add_test(t, while_cond_not_bool);
  tcase_add_test(t, while_missing_function);
  tcase_add_test(t, while_error_inside_body);
  tcase_add_test(t, while_nested);
  suite_add_tcase(s, t);
  t = tcase_create("if");
  tcase_add_test(t, if_int_condition);
  tcase_add_test(t, if_branches_disagree);
  tcase_add_test(t, if_condition_not_scalar);
  suite_add_tcase(s, t);
  t = tcase_create("call");
  tcase_add_test(t, partitioned_call_inlined);
  tcase_add_test(t, direct_call_inlined);
  tcase_add_test(t, calls_assign_a_config_variable);
  tcase_add_test(t, assigns_refused_in_loops);
  suite_add_tcase(s, t);
  t = tcase_create("tensor_list");
  tcase_add_test(t, list_pending_set_outside_loop);
  tcase_add_test(t, list_pending_never_stored);
  tcase_add_test(t, list_item_shape_mismatch);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
