/*
 * test_frontend_graph.c — the TfGraph view (frontend/graph.c, attr.c):
 * input edges, feeds cutting the graph, pruning to what the fetches need,
 * producer-first order, every validation error (messages asserted
 * exactly), attribute accessors, element type mapping, function bodies, and
 * every graph of testdata/tf imported with its config.
 *
 * Graphs are small text GraphDefs written inline with the macros below.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "frontend.h"

#define GRAPH_DESC (&tensorflow__graph_def__descriptor)
#define CONFIG_DESC (&tensorflow__tf2xla__config__descriptor)

/* A float Placeholder of shape [2] (dims: text of a shape message). */
#define PH_SHAPED(name, dims)                                                 \
  "node { name: '" name "' op: 'Placeholder'"                                 \
  " attr { key: 'dtype' value { type: DT_FLOAT } }"                           \
  " attr { key: 'shape' value { shape { " dims " } } } }\n"
#define PH(name) PH_SHAPED(name, "dim { size: 2 }")
/* A node of op `op` with inputs given as text ("input: 'a' input: 'b'"). */
#define NODE(name, op, inputs)                                                \
  "node { name: '" name "' op: '" op "' " inputs                              \
  " attr { key: 'T' value { type: DT_FLOAT } } }\n"
#define IN(x) "input: '" x "' "
#define CONST(name)                                                           \
  "node { name: '" name "' op: 'Const'"                                       \
  " attr { key: 'dtype' value { type: DT_FLOAT } }"                           \
  " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { dim"  \
  " { size: 2 } } float_val: 1 } } } }\n"
#define FEED(name) "feed { id { node_name: '" name "' } shape { dim { size: 2 } } }\n"
#define FETCH(name) "fetch { id { node_name: '" name "' } }\n"
#define FETCH_AT(name, k)                                                     \
  "fetch { id { node_name: '" name "' output_index: " #k " } }\n"

static HloError *load(const char *graph, const char *config, TfGraph **out) {
  ProtobufCMessage *gd, *cfg = NULL;
  HloError *e =
      tf_proto_parse_text(GRAPH_DESC, graph, strlen(graph), "g.pbtxt", &gd);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  if (config) {
    e = tf_proto_parse_text(CONFIG_DESC, config, strlen(config), "c.pbtxt",
                            &cfg);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
  }
  return tf_graph_new((Tensorflow__GraphDef *)gd,
                      (Tensorflow__Tf2xla__Config *)cfg, out);
}

static TfGraph *graph_ok(const char *graph, const char *config) {
  TfGraph *g;
  HloError *e = load(graph, config, &g);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return g;
}

static void graph_err(const char *graph, const char *config,
                      const char *want) {
  TfGraph *g;
  HloError *e = load(graph, config, &g);
  ck_assert_msg(e != NULL, "no error, expected: %s", want);
  ck_assert_ptr_null(g);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
}

/* The live nodes' names in order, space-separated. */
static void assert_order(const TfGraph *g, const char *want) {
  HloStr s = {0};
  for (int i = 0; i < g->norder; i++)
    hlo_str_printf(&s, "%s%s", i ? " " : "", g->order[i]->name);
  ck_assert_str_eq(s.buf ? s.buf : "", want);
  free(s.buf);
}

static void assert_err(HloError *e, const char *want) {
  ck_assert_msg(e != NULL, "no error, expected: %s", want);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
}

/* ------------------------------------------------------------------------ */
/* Edges, feeds, fetches, order                                              */
/* ------------------------------------------------------------------------ */

START_TEST(basic_view) {
  TfGraph *g = graph_ok(PH("x") PH("y") CONST("c")
                        NODE("mul", "Mul", IN("x") IN("c"))
                        NODE("add", "AddV2", IN("mul:0") IN("y"))
                        NODE("out", "Identity", IN("add")),
                        FEED("x") FEED("y")
                        "fetch { id { node_name: 'out' } name: 'result' }");
  ck_assert_int_eq(g->nnodes, 6);
  assert_order(g, "c mul add out");
  TfNode *add = tf_graph_node(g, "add");
  ck_assert_ptr_nonnull(add);
  ck_assert_ptr_null(tf_graph_node(g, "nope"));
  ck_assert_str_eq(add->op, "AddV2");
  ck_assert_int_eq(add->ninputs, 2);
  ck_assert_ptr_eq(add->inputs[0].node, tf_graph_node(g, "mul"));
  ck_assert_int_eq(add->inputs[0].index, 0);
  ck_assert_int_eq(add->inputs[0].feed, -1);
  ck_assert_ptr_eq(add->inputs[1].node, tf_graph_node(g, "y"));
  ck_assert_int_eq(add->inputs[1].feed, 1);
  ck_assert(add->live && !tf_graph_node(g, "x")->live);
  ck_assert_int_eq(g->nfeeds, 2);
  ck_assert_str_eq(g->feeds[0].name, "x");
  ck_assert_int_eq(g->feeds[0].dtype, TENSORFLOW__DATA_TYPE__DT_FLOAT);
  ck_assert(g->feeds[0].has_shape);
  char *s = hlo_shape_to_string(&g->feeds[0].shape);
  ck_assert_str_eq(s, "f32[2]{0}");
  free(s);
  ck_assert_int_eq(g->nfetches, 1);
  ck_assert_str_eq(g->fetches[0].name, "result");
  ck_assert_ptr_eq(g->fetches[0].value.node, tf_graph_node(g, "out"));
  ck_assert_int_eq(tf_graph_node(g, "c")->noutputs, 1);
  ck_assert_int_eq(add->noutputs, -1);
  tf_graph_free(g);
}
END_TEST

START_TEST(control_edges_do_not_make_nodes_live) {
  TfGraph *g = graph_ok(PH("x") NODE("side", "NoOp", "")
                        NODE("dead", "Neg", IN("x"))
                        NODE("out", "Neg", IN("x") IN("^side") IN("^dead")),
                        FEED("x") FETCH("out"));
  assert_order(g, "out");
  TfNode *out = tf_graph_node(g, "out");
  ck_assert_int_eq(out->ninputs, 1);
  ck_assert_int_eq(out->ncontrol, 2);
  ck_assert_ptr_eq(out->control[0], tf_graph_node(g, "side"));
  ck_assert(!tf_graph_node(g, "side")->live);
  ck_assert_int_eq(tf_graph_node(g, "side")->noutputs, 0);
  tf_graph_free(g);
}
END_TEST

START_TEST(feeds_cut_their_producers) {
  /* Feeding mul:0 replaces it: x, c and mul are not needed. */
  TfGraph *g = graph_ok(PH("x") CONST("c")
                        NODE("mul", "Mul", IN("x") IN("c"))
                        NODE("out", "Neg", IN("mul")),
                        FEED("mul") FETCH("out"));
  assert_order(g, "out");
  ck_assert_int_eq(tf_graph_node(g, "out")->inputs[0].feed, 0);
  ck_assert_ptr_eq(g->feeds[0].node, tf_graph_node(g, "mul"));
  ck_assert_int_eq(g->feeds[0].dtype, TENSORFLOW__DATA_TYPE__DT_FLOAT);
  tf_graph_free(g);
  /* A fetch of a fed tensor reads the feed. */
  g = graph_ok(PH("x"), FEED("x") FETCH("x"));
  ck_assert_int_eq(g->norder, 0);
  ck_assert_int_eq(g->fetches[0].value.feed, 0);
  tf_graph_free(g);
  /* One output of a node fed, another computed: the node stays. */
  g = graph_ok(PH("x")
               "node { name: 's' op: 'Split' input: 'd' input: 'x' "
               "attr { key: 'num_split' value { i: 2 } } }\n"
               "node { name: 'd' op: 'Const' }\n"
               NODE("out", "AddV2", IN("s:0") IN("s:1")),
               FEED("x") "feed { id { node_name: 's' output_index: 1 } "
               "shape { dim { size: 1 } } type: DT_FLOAT }" FETCH("out"));
  assert_order(g, "d s out");
  TfNode *out = tf_graph_node(g, "out");
  ck_assert_int_eq(out->inputs[0].feed, -1);
  ck_assert_int_eq(out->inputs[1].feed, 1);
  ck_assert_int_eq(out->inputs[1].index, 1);
  tf_graph_free(g);
}
END_TEST

START_TEST(order_is_producers_first) {
  /* A diamond and a chain fetched twice: every node after its inputs,
   * each once. */
  TfGraph *g = graph_ok(PH("x")
                        NODE("d", "AddV2", IN("b") IN("c"))
                        NODE("b", "Neg", IN("a"))
                        NODE("c", "Exp", IN("a"))
                        NODE("a", "Abs", IN("x"))
                        NODE("e", "Neg", IN("d")),
                        FEED("x") FETCH("e") FETCH("d") FETCH("a"));
  assert_order(g, "a b c d e");
  tf_graph_free(g);
}
END_TEST

START_TEST(default_names_and_types) {
  /* Names default to the node's; a feed of a non-Placeholder takes its
   * type from the config, else from its "T" attr. */
  TfGraph *g = graph_ok(PH("x") NODE("n", "Neg", IN("x")) NODE("m", "Neg",
                        IN("n")),
                        "feed { id { node_name: 'n' } shape { } }"
                        "fetch { id { node_name: 'm' } }");
  ck_assert_str_eq(g->feeds[0].name, "n");
  ck_assert_str_eq(g->fetches[0].name, "m");
  ck_assert_int_eq(g->feeds[0].shape.rank, 0);
  ck_assert_int_eq(g->feeds[0].shape.type, HLO_F32);
  tf_graph_free(g);
  g = graph_ok(PH_SHAPED("x", "dim { size: -1 } dim { size: 3 }")
               NODE("m", "Neg", IN("x")),
               "feed { id { node_name: 'x' } shape { dim { size: 5 } "
               "dim { size: 3 } } type: DT_FLOAT name: 'input' }" FETCH("m"));
  ck_assert_str_eq(g->feeds[0].name, "input");
  ck_assert_int_eq(g->feeds[0].shape.dims[0], 5);
  tf_graph_free(g);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Validation errors                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(errors_in_config) {
  const char *gr = PH("x") PH("z") NODE("out", "Neg", IN("x"));
  graph_err(gr, FEED("x") FETCH("nope"),
            "fetch 'nope': no node 'nope' in the graph");
  graph_err(gr, FEED("nope") FETCH("out"),
            "feed 'nope': no node 'nope' in the graph");
  graph_err(gr, FEED("x") FEED("z") FETCH("out"),
            "feed 'z' is not used by any fetch");
  graph_err(gr, FEED("x") FETCH_AT("x", 1),
            "fetch 'x:1': node 'x' (Placeholder) has 1 output");
  graph_err(gr, FEED("x") FETCH_AT("out", -1),
            "fetch 'out:-1': output index -1 is out of range");
  graph_err(gr, "feed { id { node_name: 'x' output_index: 3 } }" FETCH("out"),
            "feed 'x:3': node 'x' (Placeholder) has 1 output");
  graph_err(gr, FEED("x") FEED("x") FETCH("out"), "feed 'x' is given twice");
  /* Names are the function's argument and result names: one given twice
   * is an error, never renamed. */
  graph_err(gr,
            "feed { id { node_name: 'x' } shape { dim { size: 2 } } name: 'in' }\n"
            "feed { id { node_name: 'z' } shape { dim { size: 2 } } name: 'in' }\n"
            FETCH("out"),
            "feed name 'in' is given twice (feeds 'x' and 'z')");
  graph_err(gr,
            FEED("x") "fetch { id { node_name: 'out' } name: 'y' }\n"
            "fetch { id { node_name: 'x' output_index: 0 } name: 'y' }\n",
            "fetch name 'y' is given twice (fetches 'out' and 'x')");
  graph_err(gr, FEED("x"), "the config has no fetch");
  graph_err(gr, "feed { shape { } }" FETCH("out"),
            "feed #0 has no id.node_name");
  graph_err(gr, FEED("x") FETCH("out") "variable { node_name: 'v' }",
            "config variable 'v': no node 'v' in the graph");
  graph_err(gr, FEED("x") FETCH("out") "variable { node_name: 'x' }",
            "config variable 'x': node 'x' is a Placeholder, not a variable "
            "(VarHandleOp or VariableV2)");
}
END_TEST

START_TEST(errors_in_feed_shapes_and_types) {
  const char *gr = PH_SHAPED("x", "dim { size: -1 } dim { size: 3 }")
                   NODE("out", "Neg", IN("x"));
  graph_err(gr, "feed { id { node_name: 'x' } shape { dim { size: 2 } "
            "dim { size: -1 } } }" FETCH("out"),
            "feed 'x': feeds need static shapes: dimension 1 is unknown (-1)");
  graph_err(gr, "feed { id { node_name: 'x' } shape { unknown_rank: true } }"
            FETCH("out"),
            "feed 'x': feeds need static shapes: shape has unknown rank");
  graph_err(gr, "feed { id { node_name: 'x' } shape { dim { size: 2 } "
            "dim { size: 4 } } }" FETCH("out"),
            "feed 'x': shape [2,4] does not match the Placeholder's shape "
            "[?,3]");
  graph_err(gr, "feed { id { node_name: 'x' } shape { dim { size: 3 } } }"
            FETCH("out"),
            "feed 'x': shape [3] does not match the Placeholder's shape "
            "[?,3]");
  graph_err(gr, "feed { id { node_name: 'x' } shape { dim { size: 2 } "
            "dim { size: 3 } } type: DT_INT32 }" FETCH("out"),
            "feed 'x': type DT_INT32 differs from the Placeholder's dtype "
            "DT_FLOAT");
  graph_err(gr, "feed { id { node_name: 'x' } shape { dim { size: 2 } "
            "dim { size: 3 } } type: DT_STRING }" FETCH("out"),
            "feed 'x': type DT_STRING is not supported");
  graph_err("node { name: 'x' op: 'Foo' }" NODE("out", "Neg", IN("x")),
            FEED("x") FETCH("out"),
            "feed 'x': the config gives no type and node 'x' (Foo) has no "
            "dtype attr: set the feed's type");
}
END_TEST

START_TEST(errors_in_nodes) {
  const char *cfg = FEED("x") FETCH("out");
  graph_err(PH("x") NODE("out", "AddV2", IN("x") IN("q")), cfg,
            "node 'out' (AddV2): input 1 'q' names no node 'q'");
  graph_err(PH("x") NODE("out", "Neg", IN("x:1")), cfg,
            "node 'out' (Neg): input 0 'x:1' reads output 1, but node 'x' "
            "(Placeholder) has 1 output");
  graph_err(PH("x") NODE("out", "Neg", IN("x:abc")), cfg,
            "node 'out' (Neg): input 0 'x:abc' is malformed: expected 'node' "
            "or 'node:K'");
  graph_err(PH("x") NODE("out", "Neg", IN("x:")), cfg,
            "node 'out' (Neg): input 0 'x:' is malformed: expected 'node' or "
            "'node:K'");
  graph_err(PH("x") NODE("out", "Neg", IN("x") IN("^q")), cfg,
            "node 'out' (Neg): control input '^q' names no node");
  graph_err(PH("x") PH("x") NODE("out", "Neg", IN("x")), cfg,
            "node name 'x' is used twice (nodes #0 and #1)");
  graph_err(PH("x") "node { op: 'Neg' }", cfg, "node #1 has no name");
  graph_err(PH("x") "node { name: 'out' }", cfg, "node 'out' has no op");
  graph_err(PH("x") PH("p") NODE("out", "AddV2", IN("x") IN("p")), cfg,
            "node 'p' (Placeholder): the fetches need this Placeholder, but "
            "no feed gives it");
  /* list-sized outputs */
  graph_err(PH("x") "node { name: 's' op: 'Split' input: 'x' input: 'x' "
            "attr { key: 'num_split' value { i: 2 } } }"
            NODE("out", "Neg", IN("s:2")), cfg,
            "node 'out' (Neg): input 0 's:2' reads output 2, but node 's' "
            "(Split) has 2 outputs");
  graph_err(PH("x") "node { name: 's' op: 'IdentityN' input: 'x' "
            "attr { key: 'T' value { list { type: DT_FLOAT } } } }"
            NODE("out", "Neg", IN("s:1")), cfg,
            "node 'out' (Neg): input 0 's:1' reads output 1, but node 's' "
            "(IdentityN) has 1 output");
}
END_TEST

START_TEST(cycles) {
  graph_err(PH("x") NODE("a", "AddV2", IN("x") IN("c"))
            NODE("b", "Neg", IN("a")) NODE("c", "Neg", IN("b"))
            NODE("out", "Neg", IN("c")),
            FEED("x") FETCH("out"),
            "the graph has a cycle: 'c' -> 'a' -> 'b' -> 'c'");
  graph_err(NODE("out", "Neg", IN("out")), FETCH("out"),
            "the graph has a cycle: 'out' -> 'out'");
  graph_err(PH("x") NODE("m", "Merge", IN("x") IN("n"))
            NODE("n", "NextIteration", IN("m")) NODE("out", "Neg", IN("m")),
            FEED("x") FETCH("out"),
            "the graph has a cycle: 'm' -> 'n' -> 'm' (TensorFlow 1 control "
            "flow is not supported: export with functional While/If)");
  /* Long cycles are shortened in the message. */
  HloStr chain = {0};
  for (int i = 0; i < 14; i++)
    hlo_str_printf(&chain, "node { name: 'n%d' op: 'Neg' input: 'n%d' }\n", i,
                   (i + 1) % 14);
  graph_err(chain.buf, FETCH("n0"),
            "the graph has a cycle: 'n0' -> 'n13' -> 'n12' -> 'n11' -> 'n10' "
            "-> 'n9' -> 'n8' -> 'n7' -> 'n6' -> 'n5' -> 'n4' -> … -> 'n0'");
  free(chain.buf);
  /* A cycle the fetches do not need is not walked. */
  TfGraph *g = graph_ok(PH("x") NODE("a", "Neg", IN("b"))
                        NODE("b", "Neg", IN("a")) NODE("out", "Neg", IN("x")),
                        FEED("x") FETCH("out"));
  assert_order(g, "out");
  tf_graph_free(g);
  /* Feeding a tensor on the cycle cuts it. */
  g = graph_ok(NODE("a", "Neg", IN("b")) NODE("b", "Neg", IN("a")),
               "feed { id { node_name: 'a' } shape { } type: DT_FLOAT }"
               FETCH("a"));
  ck_assert_int_eq(g->norder, 0);
  tf_graph_free(g);
}
END_TEST

START_TEST(graph_without_config) {
  TfGraph *g = graph_ok(PH("x") NODE("out", "Neg", IN("x")), NULL);
  ck_assert_int_eq(g->nnodes, 2);
  ck_assert_int_eq(g->norder + g->nfeeds + g->nfetches, 0);
  tf_graph_free(g);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Attributes and types                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(attribute_accessors) {
  TfGraph *g = graph_ok(
      "node { name: 'n' op: 'Foo'\n"
      " attr { key: 't' value { type: DT_HALF } }\n"
      " attr { key: 'i' value { i: -7 } }\n"
      " attr { key: 'f' value { f: 0.5 } }\n"
      " attr { key: 'b' value { b: true } }\n"
      " attr { key: 's' value { s: 'SAME' } }\n"
      " attr { key: 'bin' value { s: 'a\\000b' } }\n"
      " attr { key: 'il' value { list { i: [1, 2, 3] } } }\n"
      " attr { key: 'fl' value { list { f: [1.5] } } }\n"
      " attr { key: 'tl' value { list { type: [DT_INT32, DT_BOOL] } } }\n"
      " attr { key: 'empty' value { list { } } }\n"
      " attr { key: 'shape' value { shape { dim { size: 4 } } } }\n"
      " attr { key: 'tensor' value { tensor { dtype: DT_INT32 } } }\n"
      " attr { key: 'fn' value { func { name: 'body' } } }\n"
      " attr { key: 'i' value { i: 9 } }\n"
      "}",
      NULL);
  TfNode *n = tf_graph_node(g, "n");
  Tensorflow__DataType t;
  int64_t i;
  float f;
  bool b;
  const char *s;
  const int64_t *il;
  const float *fl;
  const Tensorflow__DataType *tl;
  int count;
  const Tensorflow__TensorShapeProto *shape;
  const Tensorflow__TensorProto *tensor;
  const Tensorflow__NameAttrList *fn;
  ck_assert_ptr_null(tf_attr_type(n, "t", &t));
  ck_assert_int_eq(t, TENSORFLOW__DATA_TYPE__DT_HALF);
  ck_assert_ptr_null(tf_attr_int(n, "i", &i));
  ck_assert_int_eq(i, 9); /* the last of a repeated key wins */
  ck_assert_ptr_null(tf_attr_float(n, "f", &f));
  ck_assert(f == 0.5f);
  ck_assert_ptr_null(tf_attr_bool(n, "b", &b));
  ck_assert(b);
  ck_assert_ptr_null(tf_attr_string(n, "s", &s));
  ck_assert_str_eq(s, "SAME");
  ck_assert_ptr_null(tf_attr_int_list(n, "il", &il, &count));
  ck_assert_int_eq(count, 3);
  ck_assert_int_eq(il[2], 3);
  ck_assert_ptr_null(tf_attr_float_list(n, "fl", &fl, &count));
  ck_assert(count == 1 && fl[0] == 1.5f);
  ck_assert_ptr_null(tf_attr_type_list(n, "tl", &tl, &count));
  ck_assert(count == 2 && tl[1] == TENSORFLOW__DATA_TYPE__DT_BOOL);
  ck_assert_ptr_null(tf_attr_int_list(n, "empty", &il, &count));
  ck_assert_int_eq(count, 0);
  ck_assert_ptr_null(tf_attr_type_list(n, "empty", &tl, &count));
  ck_assert_int_eq(count, 0);
  ck_assert_ptr_null(tf_attr_shape(n, "shape", &shape));
  ck_assert_int_eq(shape->dim[0]->size, 4);
  ck_assert_ptr_null(tf_attr_tensor(n, "tensor", &tensor));
  ck_assert_int_eq(tensor->dtype, TENSORFLOW__DATA_TYPE__DT_INT32);
  ck_assert_ptr_null(tf_attr_func(n, "fn", &fn));
  ck_assert_str_eq(fn->name, "body");
  ck_assert_ptr_nonnull(tf_attr_find(n, "b"));
  ck_assert_ptr_null(tf_attr_find(n, "nope"));

  assert_err(tf_attr_int(n, "nope", &i), "node 'n' (Foo): attr 'nope' is "
             "missing");
  assert_err(tf_attr_int(n, "f", &i), "node 'n' (Foo): attr 'f' holds a "
             "float, expected an int");
  assert_err(tf_attr_type(n, "tl", &t), "node 'n' (Foo): attr 'tl' holds a "
             "list, expected a type");
  assert_err(tf_attr_bool(n, "s", &b), "node 'n' (Foo): attr 's' holds a "
             "string, expected a bool");
  assert_err(tf_attr_float(n, "b", &f), "node 'n' (Foo): attr 'b' holds a "
             "bool, expected a float");
  assert_err(tf_attr_string(n, "bin", &s), "node 'n' (Foo): attr 'bin' holds "
             "binary data, expected text");
  assert_err(tf_attr_int_list(n, "tl", &il, &count), "node 'n' (Foo): attr "
             "'tl' holds a list of types, expected a list of ints");
  assert_err(tf_attr_float_list(n, "il", &fl, &count), "node 'n' (Foo): attr "
             "'il' holds a list of ints, expected a list of floats");
  assert_err(tf_attr_type_list(n, "i", &tl, &count), "node 'n' (Foo): attr "
             "'i' holds an int, expected a list");
  assert_err(tf_attr_shape(n, "tensor", &shape), "node 'n' (Foo): attr "
             "'tensor' holds a tensor, expected a shape");
  assert_err(tf_attr_tensor(n, "shape", &tensor), "node 'n' (Foo): attr "
             "'shape' holds a shape, expected a tensor");
  assert_err(tf_attr_func(n, "s", &fn), "node 'n' (Foo): attr 's' holds a "
             "string, expected a function");
  assert_err(tf_node_error(n, "custom %d", 3), "node 'n' (Foo): custom 3");
  tf_graph_free(g);
}
END_TEST

START_TEST(type_mapping) {
  static const struct {
    Tensorflow__DataType dt;
    HloType t;
  } map[] = {
      {TENSORFLOW__DATA_TYPE__DT_FLOAT, HLO_F32},
      {TENSORFLOW__DATA_TYPE__DT_DOUBLE, HLO_F64},
      {TENSORFLOW__DATA_TYPE__DT_HALF, HLO_F16},
      {TENSORFLOW__DATA_TYPE__DT_BFLOAT16, HLO_BF16},
      {TENSORFLOW__DATA_TYPE__DT_INT8, HLO_S8},
      {TENSORFLOW__DATA_TYPE__DT_INT16, HLO_S16},
      {TENSORFLOW__DATA_TYPE__DT_INT32, HLO_S32},
      {TENSORFLOW__DATA_TYPE__DT_INT64, HLO_S64},
      {TENSORFLOW__DATA_TYPE__DT_UINT8, HLO_U8},
      {TENSORFLOW__DATA_TYPE__DT_UINT16, HLO_U16},
      {TENSORFLOW__DATA_TYPE__DT_UINT32, HLO_U32},
      {TENSORFLOW__DATA_TYPE__DT_UINT64, HLO_U64},
      {TENSORFLOW__DATA_TYPE__DT_BOOL, HLO_PRED},
  };
  for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
    HloType t;
    ck_assert_ptr_null(tf_type_to_hlo(map[i].dt, &t));
    ck_assert_int_eq(t, map[i].t);
    ck_assert_ptr_null(tf_type_to_hlo(map[i].dt + 100, &t)); /* _REF */
    ck_assert_int_eq(t, map[i].t);
    ck_assert_int_eq(tf_type_from_hlo(map[i].t), map[i].dt);
  }
  ck_assert_int_eq(tf_type_from_hlo(HLO_TUPLE), TENSORFLOW__DATA_TYPE__DT_INVALID);
  ck_assert_str_eq(tf_type_name(TENSORFLOW__DATA_TYPE__DT_BFLOAT16_REF),
                   "DT_BFLOAT16_REF");
  ck_assert_str_eq(tf_type_name((Tensorflow__DataType)77), "DT_77");
  HloType t;
  assert_err(tf_type_to_hlo(TENSORFLOW__DATA_TYPE__DT_STRING, &t),
             "type DT_STRING is not supported");
  assert_err(tf_type_to_hlo(TENSORFLOW__DATA_TYPE__DT_COMPLEX64, &t),
             "type DT_COMPLEX64 is not supported");
  assert_err(tf_type_to_hlo(TENSORFLOW__DATA_TYPE__DT_RESOURCE_REF, &t),
             "type DT_RESOURCE_REF is not supported");
  assert_err(tf_type_to_hlo(TENSORFLOW__DATA_TYPE__DT_VARIANT, &t),
             "type DT_VARIANT is not supported");
  assert_err(tf_type_to_hlo(TENSORFLOW__DATA_TYPE__DT_RESOURCE, &t),
             "type DT_RESOURCE is not supported");
  assert_err(tf_type_to_hlo(TENSORFLOW__DATA_TYPE__DT_INVALID, &t),
             "type DT_INVALID is not supported");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Function bodies                                                           */
/* ------------------------------------------------------------------------ */

/* A library with a body that uses an argument, a multi-output op, a call
 * of another function by output arg name, and an unused argument. */
#define LIBRARY                                                               \
  "library {\n"                                                               \
  " function { signature { name: 'pair'\n"                                    \
  "   input_arg { name: 'p' type: DT_FLOAT }\n"                               \
  "   output_arg { name: 'lo' type: DT_FLOAT }\n"                             \
  "   output_arg { name: 'hi' type: DT_FLOAT } }\n"                           \
  "  ret { key: 'lo' value: 'p' } ret { key: 'hi' value: 'p' } }\n"          \
  " function { signature { name: 'body'\n"                                    \
  "   input_arg { name: 'a' type: DT_FLOAT }\n"                               \
  "   input_arg { name: 'k' type: DT_INT32 }\n"                               \
  "   input_arg { name: 'unused' type: DT_VARIANT }\n"                        \
  "   output_arg { name: 'out' type: DT_FLOAT }\n"                            \
  "   output_arg { name: 'idx' type: DT_INT32 }\n"                            \
  "   output_arg { name: 'same' type: DT_INT32 } }\n"                         \
  "  node_def { name: 'top' op: 'TopKV2' input: 'a' input: 'k' }\n"          \
  "  node_def { name: 'call' op: 'pair' input: 'top:values:0' }\n"            \
  "  node_def { name: 'sum' op: 'AddV2' input: 'call:hi:0' "                  \
  "input: 'call:lo:0' input: '^top' }\n"                                      \
  "  node_def { name: 'dead' op: 'Neg' input: 'a' }\n"                        \
  "  ret { key: 'out' value: 'sum:z:0' }\n"                                   \
  "  ret { key: 'idx' value: 'top:indices:0' }\n"                             \
  "  ret { key: 'same' value: 'k' }\n"                                        \
  "  arg_attr { key: 0 value { attr { key: '_output_shapes' value { list {"   \
  " shape { dim { size: 8 } } } } } } }\n"                                    \
  " }\n"                                                                      \
  "}\n"

START_TEST(function_bodies) {
  TfGraph *g = graph_ok(PH("x") NODE("out", "Neg", IN("x")) LIBRARY,
                        FEED("x") FETCH("out"));
  ck_assert_ptr_nonnull(tf_graph_find_function(g, "body"));
  ck_assert_ptr_null(tf_graph_find_function(g, "nope"));
  TfGraph *b;
  HloError *e = tf_graph_function(g, "body", &b);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_ptr_eq(b->def, g->def);
  ck_assert_str_eq(b->function->signature->name, "body");
  assert_order(b, "top call sum");
  ck_assert_int_eq(b->nfeeds, 3);
  ck_assert_str_eq(b->feeds[1].name, "k");
  ck_assert_int_eq(b->feeds[1].index, 1);
  ck_assert_ptr_null(b->feeds[0].node);
  ck_assert(b->feeds[0].has_shape && !b->feeds[1].has_shape &&
            !b->feeds[2].has_shape);
  ck_assert_int_eq(b->feeds[0].shape.dims[0], 8);
  TfNode *top = tf_graph_node(b, "top");
  ck_assert_int_eq(top->noutputs, 2);
  ck_assert_ptr_null(top->inputs[0].node);
  ck_assert_int_eq(top->inputs[0].feed, 0);
  ck_assert_int_eq(top->inputs[1].feed, 1);
  TfNode *call = tf_graph_node(b, "call");
  ck_assert_int_eq(call->noutputs, 2);
  ck_assert_ptr_eq(call->inputs[0].node, top);
  ck_assert_int_eq(call->inputs[0].index, 0);
  TfNode *sum = tf_graph_node(b, "sum");
  ck_assert_int_eq(sum->inputs[0].index, 1); /* call:hi:0 */
  ck_assert_int_eq(sum->inputs[1].index, 0); /* call:lo:0 */
  ck_assert_int_eq(sum->ncontrol, 1);
  ck_assert_int_eq(b->nfetches, 3);
  ck_assert_str_eq(b->fetches[1].name, "idx");
  ck_assert_ptr_eq(b->fetches[1].value.node, top);
  ck_assert_int_eq(b->fetches[1].value.index, 1); /* top:indices:0 */
  ck_assert_int_eq(b->fetches[2].value.feed, 1);  /* an argument */
  assert_err(tf_node_error(sum, "bad"),
             "function 'body': node 'sum' (AddV2): bad");
  TfGraph *p;
  e = tf_graph_function(b, "pair", &p); /* nested: from a body view */
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_int_eq(p->norder, 0);
  ck_assert_int_eq(p->fetches[1].value.feed, 0);
  tf_graph_free(p);
  tf_graph_free(b);
  assert_err(tf_graph_function(g, "nope", &b),
             "no function 'nope' in the graph's library");
  ck_assert_ptr_null(b);
  tf_graph_free(g);
}
END_TEST

/* Opens function `f` of a library text; returns the error. */
static HloError *open_function(const char *library) {
  TfGraph *g = graph_ok(library, NULL), *b;
  HloError *e = tf_graph_function(g, "f", &b);
  ck_assert(!e == !!b);
  tf_graph_free(b);
  tf_graph_free(g);
  return e;
}

#define FN(body)                                                              \
  "library { function { signature { name: 'f' "                               \
  "input_arg { name: 'a' type: DT_FLOAT } "                                   \
  "output_arg { name: 'r' type: DT_FLOAT } } " body " } }"

START_TEST(function_errors) {
  assert_err(open_function(FN("")),
             "function 'f': result 'r' has no entry in ret");
  assert_err(open_function(FN("ret { key: 'r' value: 'a:1' }")),
             "function 'f': result 'r' from 'a:1': argument 'a' is a single "
             "tensor");
  assert_err(open_function(FN("node_def { name: 't' op: 'TopKV2' input: 'a' "
                              "input: 'a' } ret { key: 'r' value: 't:vals:0' }")),
             "function 'f': result 'r' from 't:vals:0': op TopKV2 has no output "
             "argument 'vals'");
  assert_err(open_function(
                 FN("node_def { name: 'c' op: 'f' input: 'a' } "
                    "ret { key: 'r' value: 'c:nope:0' }")),
             "function 'f': result 'r' from 'c:nope:0': function 'f' has no "
             "output argument 'nope'");
  assert_err(open_function(FN("node_def { name: 't' op: 'Neg' input: 'a' } "
                              "ret { key: 'r' value: 't:y:x' }")),
             "function 'f': result 'r' from 't:y:x' is malformed: expected "
             "'node:out_arg:K'");
  assert_err(open_function(FN("node_def { name: 't' op: 'Neg' input: 'q' } "
                              "ret { key: 'r' value: 't:y:0' }")),
             "function 'f': node 't' (Neg): input 0 'q' names no node 'q'");
  assert_err(open_function(FN("node_def { name: 'a' op: 'Neg' } "
                              "ret { key: 'r' value: 'a' }")),
             "function 'f': node 'a' has the name of a function argument");
  assert_err(open_function(FN("node_def { name: 't' op: 'Neg' input: "
                              "'t:y:0' } ret { key: 'r' value: 't:y:0' }")),
             "function 'f': the graph has a cycle: 't' -> 't'");
  assert_err(open_function(
                 "library { function { signature { name: 'f' input_arg { "
                 "name: 'a' number_attr: 'N' type: DT_FLOAT } } } }"),
             "function 'f': argument 'a' is a list of tensors, which is not "
             "supported");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* TensorFlow's graphs                                                       */
/* ------------------------------------------------------------------------ */

/* Opens every function that a live node calls (func attrs), recursively. */
static int open_called_functions(const TfGraph *g) {
  int opened = 0;
  for (int i = 0; i < g->norder; i++) {
    const Tensorflow__NodeDef *d = g->order[i]->def;
    for (size_t j = 0; j < d->n_attr; j++) {
      const Tensorflow__AttrValue *v = d->attr[j]->value;
      if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_FUNC) continue;
      TfGraph *b;
      HloError *e = tf_graph_function(g, v->func->name, &b);
      ck_assert_msg(!e, "%s", hlo_error_message(e));
      opened += 1 + open_called_functions(b);
      tf_graph_free(b);
    }
  }
  return opened;
}

START_TEST(every_testdata_graph_imports) {
  static const char *const dirs[] = {"testdata/tf/ops", "testdata/tf/models"};
  int graphs = 0, functions = 0, consts = 0;
  for (int d = 0; d < 2; d++) {
    DIR *dir = opendir(dirs[d]);
    ck_assert_ptr_nonnull(dir);
    struct dirent *ent;
    while ((ent = readdir(dir))) {
      size_t n = strlen(ent->d_name);
      const char *ext = NULL;
      if (n > 3 && !strcmp(ent->d_name + n - 3, ".pb")) ext = ".pb";
      else if (n > 6 && !strcmp(ent->d_name + n - 6, ".pbtxt") &&
               !strstr(ent->d_name, ".config."))
        ext = ".pbtxt";
      if (!ext) continue;
      char path[512], cfg[512];
      snprintf(path, sizeof path, "%s/%s", dirs[d], ent->d_name);
      snprintf(cfg, sizeof cfg, "%s/%.*s.config.pbtxt", dirs[d],
               (int)(n - strlen(ext)), ent->d_name);
      TfGraph *g;
      HloError *e = tf_graph_load(path, cfg, &g);
      ck_assert_msg(!e, "%s", hlo_error_message(e));
      ck_assert_int_gt(g->nfetches, 0);
      for (int i = 0; i < g->norder; i++) {
        TfNode *node = g->order[i];
        for (int j = 0; j < node->ninputs; j++)
          ck_assert(node->inputs[j].feed >= 0 || node->inputs[j].node->live);
        if (strcmp(node->op, "Const")) continue;
        HloLiteral *l;
        e = tf_node_const(node, NULL, &l);
        ck_assert_msg(!e, "%s: %s", path, hlo_error_message(e));
        hlo_literal_free(l);
        consts++;
      }
      functions += open_called_functions(g);
      tf_graph_free(g);
      graphs++;
    }
    closedir(dir);
  }
  ck_assert_int_gt(graphs, 100);
  ck_assert_int_gt(functions, 0);
  ck_assert_int_gt(consts, 100);
}
END_TEST

START_TEST(consuming_import_equals_import) {
  /* tf_import_consuming frees each Const tensor's bytes once lowered: the
   * module must be tf_import's, and the weights' bytes gone from the
   * graph. */
  static const char *const models[] = {"mnist_mlp", "mobilenet_v2", "lstm_while", "small_cnn"};
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    char path[256], cfg[256];
    snprintf(path, sizeof path, "testdata/tf/models/%s.pb", models[i]);
    snprintf(cfg, sizeof cfg, "testdata/tf/models/%s.config.pbtxt", models[i]);
    TfGraph *g;
    HloModule *a, *b;
    ck_assert(!tf_graph_load(path, cfg, &g));
    HloError *e = tf_import(g, "model", &a);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    tf_graph_free(g);
    ck_assert(!tf_graph_load(path, cfg, &g));
    e = tf_import_consuming(g, "model", &b);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    int left = 0, consts = 0;
    for (int j = 0; j < g->norder; j++) {
      const Tensorflow__TensorProto *t;
      if (strcmp(g->order[j]->op, "Const") || tf_node_tensor(g->order[j], &t)) continue;
      consts++;
      left += t->tensor_content.len > 0;
    }
    ck_assert_int_gt(consts, 0);
    ck_assert_int_eq(left, 0);
    tf_graph_free(g);
    char *ta = hlo_module_to_string(a), *tb = hlo_module_to_string(b);
    ck_assert_str_eq(ta, tb);
    free(ta);
    free(tb);
    hlo_module_free(a);
    hlo_module_free(b);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_graph");
  TCase *t = tcase_create("view");
  tcase_add_test(t, basic_view);
  tcase_add_test(t, control_edges_do_not_make_nodes_live);
  tcase_add_test(t, feeds_cut_their_producers);
  tcase_add_test(t, order_is_producers_first);
  tcase_add_test(t, default_names_and_types);
  tcase_add_test(t, graph_without_config);
  suite_add_tcase(s, t);
  TCase *v = tcase_create("validation");
  tcase_add_test(v, errors_in_config);
  tcase_add_test(v, errors_in_feed_shapes_and_types);
  tcase_add_test(v, errors_in_nodes);
  tcase_add_test(v, cycles);
  suite_add_tcase(s, v);
  TCase *a = tcase_create("attrs");
  tcase_add_test(a, attribute_accessors);
  tcase_add_test(a, type_mapping);
  suite_add_tcase(s, a);
  TCase *f = tcase_create("functions");
  tcase_add_test(f, function_bodies);
  tcase_add_test(f, function_errors);
  suite_add_tcase(s, f);
  TCase *d = tcase_create("testdata");
  tcase_set_timeout(d, 120);
  tcase_add_test(d, every_testdata_graph_imports);
  tcase_add_test(d, consuming_import_equals_import);
  suite_add_tcase(s, d);
  return ck_run_suite(s);
}
