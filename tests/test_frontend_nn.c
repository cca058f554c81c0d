/*
 * test_frontend_nn.c — the nn ops' lowerings (lower_nn.c) beyond what
 * testdata/tf covers.  Error cases import a small GraphDef in text format
 * and assert the whole message, node prefix included.  Equivalence cases
 * fetch one result two ways — e.g. an ellipsis Einsum and the
 * BatchMatMulV2 it spells — and require equal values from the evaluator,
 * so forms TensorFlow's test data lacks are still checked against a
 * lowering that is.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend_util.h"
#include "frontend.h"

#define PLACEHOLDER(name)                                                     \
  "node { name: '" name "' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } } }\n"
#define CONST_I32(name, dims, vals)                                           \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { " dims " } " vals       \
  " } } } }\n"
#define ATTR_BOOL(key, v) "attr { key: '" key "' value { b: " v " } }"
#define ATTR_INTS(key, v) "attr { key: '" key "' value { list { " v " } } }"
#define ATTR_T "attr { key: 'T' value { type: DT_FLOAT } }"
#define STRIDES_1 ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1")

#define FEED(name, dims)                                                      \
  "feed { id { node_name: '" name "' } shape { " dims " } type: DT_FLOAT }\n"
#define DIMS4(a, b, c, d)                                                     \
  "dim { size: " #a " } dim { size: " #b " } dim { size: " #c " } dim { size: " #d " }"
#define DIMS3(a, b, c) "dim { size: " #a " } dim { size: " #b " } dim { size: " #c " }"
#define DIMS2(a, b) "dim { size: " #a " } dim { size: " #b " }"

/* Evaluates the graph on inputs filled with distinct values and requires
 * its two fetches to agree within `tol` (relative to 1). */
static void expect_same(const char *graph, const char *config, double tol) {
  char *msg = NULL;
  HloModule *m = fu_import(graph, config, &msg);
  ck_assert_msg(m != NULL, "import: %s", msg);
  const HloComputation *entry = m->entry;
  HloLiteral *args[4];
  ck_assert_int_le(entry->nparams, 4);
  for (int i = 0; i < entry->nparams; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    int64_t n = hlo_shape_elements(&args[i]->shape);
    for (int64_t k = 0; k < n; k++)
      hlo_literal_set_f64(args[i], k, (double)((k * 7 + i * 3) % 11) / 4.0 - 1.2);
  }
  HloLiteral *out = ck_evaluate(m, args, entry->nparams);
  ck_assert_int_eq(out->shape.ntuple, 2);
  char why[256];
  ck_assert_msg(ck_allclose(out->elems[0], out->elems[1], tol, tol, why, sizeof why), "%s", why);
  hlo_literal_free(out);
  for (int i = 0; i < entry->nparams; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

#define CONV_GRAPH(attrs)                                                     \
  PLACEHOLDER("x") PLACEHOLDER("w")                                           \
  NODE("c", "Conv2D", "input: 'x' input: 'w'", ATTR_T STRIDES_1 ATTR_STR("padding", "SAME") attrs)
#define CONV_CONFIG(wdims)                                                    \
  FEED("x", DIMS4(1, 4, 4, 3)) FEED("w", wdims) FETCH("c")

START_TEST(conv2d_input_depth_mismatch) {
  fu_expect_error(CONV_GRAPH(""), CONV_CONFIG(DIMS4(3, 3, 2, 4)),
               "node 'c' (Conv2D): input depth 3 is not a multiple of the filter's input "
               "depth 2");
}
END_TEST

START_TEST(conv2d_empty_input_depth) {
  /* Zero channels made zero groups, then a division by them (found by
   * fuzz_tf_lower under UBSan). */
  fu_expect_error(CONV_GRAPH(""),
               FEED("x", DIMS4(1, 4, 4, 0)) FEED("w", DIMS4(3, 3, 2, 4)) FETCH("c"),
               "node 'c' (Conv2D): input depth is 0: there are no channels to convolve");
}
END_TEST

START_TEST(resize_empty_image) {
  /* An empty height left the interpolation weights nothing to point into
   * (found by fuzz_tf_lower under ASan: a heap overflow). */
  for (int k = 0; k < 2; k++) {
    const char *op = k ? "ResizeNearestNeighbor" : "ResizeBilinear";
    char graph[1024];
    snprintf(graph, sizeof graph,
             PLACEHOLDER("x") CONST_I32("size", "dim { size: 2 }", "int_val: 3 int_val: 3")
                 NODE("r", "%s", "input: 'x' input: 'size'", ATTR_T),
             op);
    char want[256];
    snprintf(want, sizeof want,
             "node 'r' (%s): images f32[1,0,4,1]{3,2,1,0} has an empty height or width: "
             "nothing to resize",
             op);
    fu_expect_error(graph, FEED("x", DIMS4(1, 0, 4, 1)) FETCH("r"), want);
  }
}
END_TEST

START_TEST(conv2d_data_format_unsupported) {
  fu_expect_error(CONV_GRAPH(ATTR_STR("data_format", "NCHW_VECT_C")),
               CONV_CONFIG(DIMS4(3, 3, 3, 4)),
               "node 'c' (Conv2D): data_format 'NCHW_VECT_C' is not supported (NHWC or NCHW)");
}
END_TEST

START_TEST(conv2d_batch_stride) {
  fu_expect_error(PLACEHOLDER("x") PLACEHOLDER("w")
               NODE("c", "Conv2D", "input: 'x' input: 'w'",
                    ATTR_T ATTR_INTS("strides", "i: 2 i: 1 i: 1 i: 1")
                    ATTR_STR("padding", "VALID")),
               CONV_CONFIG(DIMS4(3, 3, 3, 4)),
               "node 'c' (Conv2D): strides and dilations in the batch and depth dimensions "
               "must be 1");
}
END_TEST

START_TEST(depthwise_depth_mismatch) {
  fu_expect_error(PLACEHOLDER("x") PLACEHOLDER("w")
               NODE("c", "DepthwiseConv2dNative", "input: 'x' input: 'w'",
                    ATTR_T STRIDES_1 ATTR_STR("padding", "SAME")),
               CONV_CONFIG(DIMS4(3, 3, 2, 1)),
               "node 'c' (DepthwiseConv2dNative): filter's input depth 2 differs from the input "
               "depth 3");
}
END_TEST

#define EINSUM(eq, inputs)                                                    \
  PLACEHOLDER("a") PLACEHOLDER("b")                                           \
  NODE("e", "Einsum", inputs, ATTR_T ATTR_STR("equation", eq))
#define AB_CONFIG(out) FEED("a", DIMS2(3, 3)) FEED("b", DIMS2(3, 3)) FETCH(out)

START_TEST(einsum_equation_errors) {
  fu_expect_error(EINSUM("ij,jk,kl->il", "input: 'a' input: 'b' input: 'a'"), AB_CONFIG("e"),
               "node 'e' (Einsum): einsum of 3 operands is not supported (1 or 2)");
  fu_expect_error(EINSUM("ij->ij", "input: 'a' input: 'b'"), AB_CONFIG("e"),
               "node 'e' (Einsum): equation 'ij->ij' names 1 operand(s) but the node has 2 "
               "input(s)");
  fu_expect_error(EINSUM("ij,jk->iz", "input: 'a' input: 'b'"), AB_CONFIG("e"),
               "node 'e' (Einsum): equation 'ij,jk->iz': output label 'z' appears in no operand");
  fu_expect_error(EINSUM("ijk,jk->ik", "input: 'a' input: 'b'"), AB_CONFIG("e"),
               "node 'e' (Einsum): equation 'ijk,jk->ik': operand 0 has rank 2 but its "
               "subscripts name 3 dimension(s)");
  fu_expect_error(EINSUM("i.j,jk->ik", "input: 'a' input: 'b'"), AB_CONFIG("e"),
               "node 'e' (Einsum): equation 'i.j,jk->ik': operand 0 has a stray '.' or more "
               "than one ellipsis");
}
END_TEST

START_TEST(top_k_too_large) {
  fu_expect_error(PLACEHOLDER("x") CONST_I32("k", "", "int_val: 4")
               NODE("t", "TopKV2", "input: 'x' input: 'k'", ATTR_T),
               FEED("x", DIMS2(2, 3)) FETCH("t"),
               "node 't' (TopKV2): k must be a scalar in [0, 3]");
}
END_TEST

START_TEST(fused_batch_norm_training) {
  fu_expect_error(PLACEHOLDER("x") PLACEHOLDER("s")
               NODE("bn", "FusedBatchNormV3", "input: 'x' input: 's' input: 's' input: 's' "
                    "input: 's'", ATTR_T ATTR_BOOL("is_training", "true")),
               FEED("x", DIMS4(1, 2, 2, 3)) FEED("s", "dim { size: 3 }") FETCH("bn"),
               "node 'bn' (FusedBatchNormV3): is_training=true (normalising by batch "
               "statistics) is not supported: export the graph for inference");
}
END_TEST

#define BLOCK_GRAPH(op, block, pads)                                          \
  PLACEHOLDER("x") CONST_I32("b", "dim { size: 2 }", block)                   \
  CONST_I32("p", "dim { size: 2 } dim { size: 2 }", pads)                     \
  NODE("s", op, "input: 'x' input: 'b' input: 'p'", ATTR_T)
#define ZERO_PADS "int_val: 0 int_val: 0 int_val: 0 int_val: 0"

START_TEST(space_to_batch_errors) {
  fu_expect_error(BLOCK_GRAPH("SpaceToBatchND", "int_val: 2 int_val: 2", ZERO_PADS),
                  FEED("x", DIMS4(1, 5, 4, 2)) FETCH("s"),
                  "node 's' (SpaceToBatchND): padded size 5 of dimension 1 is not a multiple of "
                  "the block size 2");
  fu_expect_error(BLOCK_GRAPH("SpaceToBatchND", "int_val: 2 int_val: 0", ZERO_PADS),
                  FEED("x", DIMS4(1, 4, 4, 2)) FETCH("s"),
                  "node 's' (SpaceToBatchND): block_shape entry 1 is 0, expected 1 to "
                  "2147483647");
  fu_expect_error(BLOCK_GRAPH("SpaceToBatchND", "int_val: 2 int_val: 2",
                              "int_val: 0 int_val: -1 int_val: 0 int_val: 0"),
                  FEED("x", DIMS4(1, 4, 4, 2)) FETCH("s"),
                  "node 's' (SpaceToBatchND): paddings of block dim 0 are (0, -1), expected 0 "
                  "to 2147483647");
  /* paddings of the wrong shape (a fuzzer found the message's format
   * reading a missing argument) */
  fu_expect_error(PLACEHOLDER("x") CONST_I32("b", "dim { size: 2 }", "int_val: 2 int_val: 2")
                  CONST_I32("p", "dim { size: 4 }", ZERO_PADS)
                  NODE("s", "SpaceToBatchND", "input: 'x' input: 'b' input: 'p'", ATTR_T),
                  FEED("x", DIMS4(1, 4, 4, 2)) FETCH("s"),
                  "node 's' (SpaceToBatchND): paddings must be an integer [2,2] matrix for the "
                  "2 block dims, is s32[4]{0}");
  /* Two block dims need an input of rank 3 at least. */
  fu_expect_error(BLOCK_GRAPH("SpaceToBatchND", "int_val: 2 int_val: 2", ZERO_PADS),
                  FEED("x", DIMS2(4, 4)) FETCH("s"),
                  "node 's' (SpaceToBatchND): block_shape has 2 entries, expected 1 to 1 for "
                  "an input of rank 2");
}
END_TEST

START_TEST(batch_to_space_errors) {
  fu_expect_error(BLOCK_GRAPH("BatchToSpaceND", "int_val: 2 int_val: 2", ZERO_PADS),
                  FEED("x", DIMS4(6, 2, 2, 1)) FETCH("s"),
                  "node 's' (BatchToSpaceND): batch 6 is not a multiple of the block's 4 "
                  "elements");
  fu_expect_error(BLOCK_GRAPH("BatchToSpaceND", "int_val: 2 int_val: 2",
                              "int_val: 3 int_val: 2 int_val: 0 int_val: 0"),
                  FEED("x", DIMS4(4, 2, 2, 1)) FETCH("s"),
                  "node 's' (BatchToSpaceND): crops (3, 2) of dimension 1 exceed its size 2 "
                  "times the block size 2");
}
END_TEST

START_TEST(lrn_errors) {
  fu_expect_error(PLACEHOLDER("x") NODE("l", "LRN", "input: 'x'",
                                        ATTR_T ATTR_INT("depth_radius", "-1")),
                  FEED("x", DIMS4(1, 2, 2, 3)) FETCH("l"),
                  "node 'l' (LRN): depth_radius -1 is out of range (0 to 1073741823)");
  fu_expect_error(PLACEHOLDER("x") NODE("l", "LRN", "input: 'x'", ATTR_T),
                  FEED("x", DIMS3(2, 2, 3)) FETCH("l"),
                  "node 'l' (LRN): input must have rank 4, has shape f32[2,2,3]{2,1,0}");
}
END_TEST

START_TEST(conv3d_errors) {
  fu_expect_error(PLACEHOLDER("x") PLACEHOLDER("w")
                  NODE("c", "Conv3D", "input: 'x' input: 'w'",
                       ATTR_T ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1 i: 1")
                       ATTR_STR("padding", "SAME") ATTR_STR("data_format", "NHWDC")),
                  FEED("x", "dim { size: 1 } " DIMS4(3, 3, 3, 2))
                  FEED("w", "dim { size: 1 } " DIMS4(1, 1, 2, 2)) FETCH("c"),
                  "node 'c' (Conv3D): data_format 'NHWDC' is not supported (NDHWC or NCDHW)");
  fu_expect_error(PLACEHOLDER("x") PLACEHOLDER("w")
                  NODE("c", "Conv3D", "input: 'x' input: 'w'",
                       ATTR_T ATTR_INTS("strides", "i: 1 i: 1 i: 1 i: 1")
                       ATTR_STR("padding", "SAME")),
                  FEED("x", "dim { size: 1 } " DIMS4(3, 3, 3, 2))
                  FEED("w", "dim { size: 1 } " DIMS4(1, 1, 2, 2)) FETCH("c"),
                  "node 'c' (Conv3D): attribute 'strides' has 4 entries, expected 5");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Equivalences                                                             */
/* ------------------------------------------------------------------------ */

/* Ellipsis with broadcast batch dims: a[2,1,3,4] b[5,4,2]. */
START_TEST(einsum_ellipsis_is_batch_matmul) {
  expect_same(EINSUM("...ij,...jk->...ik", "input: 'a' input: 'b'")
              NODE("mm", "BatchMatMulV2", "input: 'a' input: 'b'", ATTR_T),
              FEED("a", DIMS4(2, 1, 3, 4)) FEED("b", DIMS3(5, 4, 2)) FETCH("e") FETCH("mm"),
              1e-6);
}
END_TEST

/* The implicit form outputs the labels used once, sorted: "ba,cb" -> "ac". */
START_TEST(einsum_implicit_output) {
  expect_same(EINSUM("ba,cb", "input: 'a' input: 'b'")
              NODE("mm", "MatMul", "input: 'a' input: 'b'",
                   ATTR_T ATTR_BOOL("transpose_a", "true") ATTR_BOOL("transpose_b", "true")),
              FEED("a", DIMS2(4, 3)) FEED("b", DIMS2(5, 4)) FETCH("e") FETCH("mm"), 1e-6);
}
END_TEST

/* A label only one operand has and the output lacks is summed first. */
START_TEST(einsum_sums_private_labels) {
  expect_same(EINSUM("ijx,jk->ik", "input: 'a' input: 'b'")
              CONST_I32("axis", "", "int_val: 2")
              NODE("s", "Sum", "input: 'a' input: 'axis'", ATTR_T)
              NODE("mm", "MatMul", "input: 's' input: 'b'", ATTR_T),
              FEED("a", DIMS3(2, 3, 4)) FEED("b", DIMS2(3, 5)) FETCH("e") FETCH("mm"), 1e-6);
}
END_TEST

START_TEST(max_pool_v2_is_max_pool) {
  expect_same(PLACEHOLDER("x")
              CONST_I32("k", "dim { size: 4 }", "int_val: 1 int_val: 3 int_val: 2 int_val: 1")
              CONST_I32("s", "dim { size: 4 }", "int_val: 1 int_val: 2 int_val: 2 int_val: 1")
              NODE("p2", "MaxPoolV2", "input: 'x' input: 'k' input: 's'",
                   ATTR_T ATTR_STR("padding", "SAME"))
              NODE("p", "MaxPool", "input: 'x'",
                   ATTR_T ATTR_INTS("ksize", "i: 1 i: 3 i: 2 i: 1")
                   ATTR_INTS("strides", "i: 1 i: 2 i: 2 i: 1") ATTR_STR("padding", "SAME")),
              FEED("x", DIMS4(2, 5, 6, 3)) FETCH("p2") FETCH("p"), 0);
}
END_TEST

/* NCHW DepthToSpace equals the NHWC one between transposes. */
START_TEST(depth_to_space_nchw) {
  expect_same(PLACEHOLDER("x")
              CONST_I32("to_nhwc", "dim { size: 4 }", "int_val: 0 int_val: 2 int_val: 3 int_val: 1")
              CONST_I32("to_nchw", "dim { size: 4 }", "int_val: 0 int_val: 3 int_val: 1 int_val: 2")
              NODE("d", "DepthToSpace", "input: 'x'",
                   ATTR_T ATTR_INT("block_size", "2") ATTR_STR("data_format", "NCHW"))
              NODE("t", "Transpose", "input: 'x' input: 'to_nhwc'", ATTR_T)
              NODE("dn", "DepthToSpace", "input: 't'", ATTR_T ATTR_INT("block_size", "2"))
              NODE("back", "Transpose", "input: 'dn' input: 'to_nchw'", ATTR_T),
              FEED("x", DIMS4(2, 8, 2, 3)) FETCH("d") FETCH("back"), 0);
}
END_TEST

/* SpaceToDepth undoes DepthToSpace, in NCHW too. */
START_TEST(space_to_depth_inverts) {
  expect_same(PLACEHOLDER("x")
              NODE("d", "DepthToSpace", "input: 'x'",
                   ATTR_T ATTR_INT("block_size", "2") ATTR_STR("data_format", "NCHW"))
              NODE("s", "SpaceToDepth", "input: 'd'",
                   ATTR_T ATTR_INT("block_size", "2") ATTR_STR("data_format", "NCHW"))
              NODE("id", "Identity", "input: 'x'", ATTR_T),
              FEED("x", DIMS4(1, 12, 2, 3)) FETCH("s") FETCH("id"), 0);
}
END_TEST

/* A grouped Conv2D (input depth 4, filter depth 2: two groups) equals two
 * convolutions of the halves, concatenated. */
START_TEST(conv2d_grouped) {
  expect_same(PLACEHOLDER("x") PLACEHOLDER("w")
              NODE("c", "Conv2D", "input: 'x' input: 'w'",
                   ATTR_T STRIDES_1 ATTR_STR("padding", "SAME"))
              CONST_I32("three", "", "int_val: 3")
              NODE("xs", "Split", "input: 'three' input: 'x'", ATTR_T ATTR_INT("num_split", "2"))
              NODE("ws", "Split", "input: 'three' input: 'w'", ATTR_T ATTR_INT("num_split", "2"))
              NODE("c0", "Conv2D", "input: 'xs:0' input: 'ws:0'",
                   ATTR_T STRIDES_1 ATTR_STR("padding", "SAME"))
              NODE("c1", "Conv2D", "input: 'xs:1' input: 'ws:1'",
                   ATTR_T STRIDES_1 ATTR_STR("padding", "SAME"))
              NODE("cat", "ConcatV2", "input: 'c0' input: 'c1' input: 'three'",
                   ATTR_T ATTR_INT("N", "2")),
              FEED("x", DIMS4(1, 5, 5, 4)) FEED("w", DIMS4(3, 3, 2, 6)) FETCH("c") FETCH("cat"),
              1e-6);
}
END_TEST

/* SpaceToBatchND -> VALID Conv2D -> BatchToSpaceND (tf.nn.convolution's
 * dilated convolution) becomes one convolution with rhs dilation, whose
 * values are those of Conv2D with dilations and SAME padding. */
START_TEST(dilated_conv_chain_folds) {
  const char *graph =
      PLACEHOLDER("x") PLACEHOLDER("w")
      CONST_I32("b", "dim { size: 2 }", "int_val: 2 int_val: 2")
      CONST_I32("p", "dim { size: 2 } dim { size: 2 }",
                "int_val: 2 int_val: 3 int_val: 2 int_val: 2")
      CONST_I32("c", "dim { size: 2 } dim { size: 2 }",
                "int_val: 0 int_val: 1 int_val: 0 int_val: 0")
      NODE("s2b", "SpaceToBatchND", "input: 'x' input: 'b' input: 'p'", ATTR_T)
      NODE("conv", "Conv2D", "input: 's2b' input: 'w'",
           ATTR_T STRIDES_1 ATTR_STR("padding", "VALID"))
      NODE("b2s", "BatchToSpaceND", "input: 'conv' input: 'b' input: 'c'", ATTR_T)
      NODE("direct", "Conv2D", "input: 'x' input: 'w'",
           ATTR_T STRIDES_1 ATTR_STR("padding", "SAME")
           ATTR_INTS("dilations", "i: 1 i: 2 i: 2 i: 1"));
  const char *config =
      FEED("x", DIMS4(1, 9, 8, 3)) FEED("w", DIMS4(3, 3, 3, 4)) FETCH("b2s") FETCH("direct");
  char *msg = NULL;
  HloModule *m = fu_import(graph, config, &msg);
  ck_assert_msg(m != NULL, "import: %s", msg);
  const HloInstr *r = m->entry->root->operands[0];
  ck_assert_str_eq(hlo_opcode_name(r->op), "convolution");
  ck_assert_int_eq(r->window[0].rhs_dilate, 2);
  ck_assert_int_eq(r->window[1].rhs_dilate, 2);
  ck_assert_int_eq(r->operands[0]->op, HLO_OP_PARAMETER);
  hlo_module_free(m);
  expect_same(graph, config, 1e-6);
}
END_TEST

/* The generic rearrangement: BatchToSpaceND undoes SpaceToBatchND. */
START_TEST(batch_to_space_inverts) {
  expect_same(PLACEHOLDER("x")
              CONST_I32("b", "dim { size: 3 }", "int_val: 2 int_val: 1 int_val: 3")
              CONST_I32("p", "dim { size: 3 } dim { size: 2 }",
                        "int_val: 1 int_val: 0 int_val: 0 int_val: 2 int_val: 2 int_val: 1")
              NODE("s2b", "SpaceToBatchND", "input: 'x' input: 'b' input: 'p'", ATTR_T)
              NODE("b2s", "BatchToSpaceND", "input: 's2b' input: 'b' input: 'p'", ATTR_T)
              NODE("id", "Identity", "input: 'x'", ATTR_T),
              FEED("x", DIMS4(2, 3, 3, 3)) FETCH("b2s") FETCH("id"), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_nn");
  TCase *t = tcase_create("errors");
  tcase_add_test(t, conv2d_input_depth_mismatch);
  tcase_add_test(t, conv2d_empty_input_depth);
  tcase_add_test(t, resize_empty_image);
  tcase_add_test(t, conv2d_data_format_unsupported);
  tcase_add_test(t, conv2d_batch_stride);
  tcase_add_test(t, depthwise_depth_mismatch);
  tcase_add_test(t, einsum_equation_errors);
  tcase_add_test(t, top_k_too_large);
  tcase_add_test(t, fused_batch_norm_training);
  tcase_add_test(t, space_to_batch_errors);
  tcase_add_test(t, batch_to_space_errors);
  tcase_add_test(t, lrn_errors);
  tcase_add_test(t, conv3d_errors);
  suite_add_tcase(s, t);
  t = tcase_create("equivalences");
  tcase_add_test(t, einsum_ellipsis_is_batch_matmul);
  tcase_add_test(t, einsum_implicit_output);
  tcase_add_test(t, einsum_sums_private_labels);
  tcase_add_test(t, max_pool_v2_is_max_pool);
  tcase_add_test(t, depth_to_space_nchw);
  tcase_add_test(t, space_to_depth_inverts);
  tcase_add_test(t, conv2d_grouped);
  tcase_add_test(t, dilated_conv_chain_folds);
  tcase_add_test(t, batch_to_space_inverts);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
