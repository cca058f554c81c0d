/*
 * test_frontend_errors.c — what a user sees when the lowering rejects a
 * graph: each case is a small GraphDef and tfcompile config in text format,
 * imported with tf_import, and the whole message is asserted, node prefix
 * included.  Covers the math and array ops' checks (shapes, constant
 * inputs, axes, attributes, input counts) and the list of unsupported ops
 * reported at once.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend_util.h"
#include "frontend.h"

/* Node text builders.  A placeholder x of the given dtype and dims, fed
 * by the configs below, and int32 constants. */
#define PLACEHOLDER(name, dtype)                                              \
  "node { name: '" name "' op: 'Placeholder' attr { key: 'dtype' value { type: " dtype " } } }\n"
#define CONST_I32(name, dims, vals)                                           \
  "node { name: '" name "' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } }"          \
  " attr { key: 'value' value { tensor { dtype: DT_INT32 tensor_shape { " dims " } " vals       \
  " } } } }\n"

#define FEED(name, type, dims)                                                \
  "feed { id { node_name: '" name "' } shape { " dims " } type: " type " }\n"

/* x: f32[2,3], fetched through node `out`. */
#define CONFIG_X(out) FEED("x", "DT_FLOAT", "dim { size: 2 } dim { size: 3 }") FETCH(out)

static void expect_ok(const char *graph, const char *config) {
  char *got = NULL;
  HloModule *m = fu_import(graph, config, &got);
  ck_assert_msg(m != NULL, "unexpected error: %s", got);
  hlo_module_free(m);
}

/* ------------------------------------------------------------------------ */
/* Array ops                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(reshape_incompatible) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("shape", "dim { size: 2 }", "int_val: 4 int_val: -1")
               NODE("r", "Reshape", "input: 'x' input: 'shape'", ""),
               CONFIG_X("r"),
               "node 'r' (Reshape): cannot reshape f32[2,3]{1,0} (6 elements) to [4,-1]");
}
END_TEST

START_TEST(reshape_two_unknown_dims) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("shape", "dim { size: 2 }", "int_val: -1 int_val: -1")
               NODE("r", "Reshape", "input: 'x' input: 'shape'", ""),
               CONFIG_X("r"),
               "node 'r' (Reshape): cannot reshape f32[2,3]{1,0} (6 elements) to [-1,-1]");
}
END_TEST

START_TEST(reshape_shape_not_constant) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("s", "DT_INT32")
               NODE("r", "Reshape", "input: 'x' input: 's'", ""),
               CONFIG_X("r") FEED("s", "DT_INT32", "dim { size: 2 }"),
               "node 'r' (Reshape): input 1 must be a constant known at compile time (it "
               "determines a shape or an attribute), but it cannot be folded: it depends on "
               "parameter 's'");
}
END_TEST

/* A shape computed from the static shape folds (Shape -> Reshape). */
START_TEST(reshape_shape_folded) {
  expect_ok(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("y", "DT_FLOAT")
            NODE("s", "Shape", "input: 'y'", "")
            NODE("r", "Reshape", "input: 'x' input: 's'", ""),
            CONFIG_X("r") FEED("y", "DT_FLOAT", "dim { size: 3 } dim { size: 2 }"));
}
END_TEST

START_TEST(concat_axis_out_of_range) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("axis", "", "int_val: 2")
               NODE("c", "ConcatV2", "input: 'x' input: 'x' input: 'axis'", ATTR_INT("N", "2")),
               CONFIG_X("c"), "node 'c' (ConcatV2): axis 2 is out of range for rank 2");
}
END_TEST

START_TEST(concat_shapes_differ) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("y", "DT_FLOAT")
               CONST_I32("axis", "", "int_val: -1")
               NODE("c", "ConcatV2", "input: 'x' input: 'y' input: 'axis'", ATTR_INT("N", "2")),
               CONFIG_X("c") FEED("y", "DT_FLOAT", "dim { size: 3 } dim { size: 3 }"),
               "node 'c' (ConcatV2): concatenate: operand 1 f32[3,3]{1,0} does not match "
               "operand 0 f32[2,3]{1,0} outside dimension 1");
}
END_TEST

START_TEST(transpose_perm_length) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("perm", "dim { size: 3 }", "int_val: 1 int_val: 0 int_val: 2")
               NODE("t", "Transpose", "input: 'x' input: 'perm'", ""),
               CONFIG_X("t"),
               "node 't' (Transpose): perm [1,0,2] has 3 entries but the input f32[2,3]{1,0} "
               "has rank 2");
}
END_TEST

START_TEST(transpose_not_a_permutation) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("perm", "dim { size: 2 }", "int_val: 1 int_val: 1")
               NODE("t", "Transpose", "input: 'x' input: 'perm'", ""),
               CONFIG_X("t"), "node 't' (Transpose): perm [1,1] is not a permutation of 0..1");
}
END_TEST

START_TEST(squeeze_not_one) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("s", "Squeeze", "input: 'x'",
                    "attr { key: 'squeeze_dims' value { list { i: -1 } } }"),
               CONFIG_X("s"),
               "node 's' (Squeeze): cannot squeeze dimension 1 of f32[2,3]{1,0}: its size is 3, "
               "not 1");
}
END_TEST

START_TEST(split_missing_attr) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("dim", "", "int_val: 1")
               NODE("s", "Split", "input: 'dim' input: 'x'", ""),
               CONFIG_X("s"), "node 's' (Split): attr 'num_split' is missing");
}
END_TEST

START_TEST(split_uneven) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("dim", "", "int_val: 1")
               NODE("s", "Split", "input: 'dim' input: 'x'", ATTR_INT("num_split", "2")),
               CONFIG_X("s"),
               "node 's' (Split): num_split 2 does not divide dimension 1 of f32[2,3]{1,0} "
               "(size 3)");
}
END_TEST

START_TEST(split_v_sizes) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("dim", "", "int_val: 1")
               CONST_I32("sizes", "dim { size: 2 }", "int_val: 2 int_val: 2")
               NODE("s", "SplitV", "input: 'x' input: 'sizes' input: 'dim'",
                    ATTR_INT("num_split", "2")),
               CONFIG_X("s"),
               "node 's' (SplitV): size_splits [2,2] do not split dimension 1 of "
               "f32[2,3]{1,0} (size 3)");
}
END_TEST

START_TEST(slice_out_of_bounds) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("begin", "dim { size: 2 }", "int_val: 1 int_val: 1")
               CONST_I32("size", "dim { size: 2 }", "int_val: 2 int_val: -1")
               NODE("s", "Slice", "input: 'x' input: 'begin' input: 'size'", ""),
               CONFIG_X("s"),
               "node 's' (Slice): begin [1,1] and size [2,-1] are out of bounds for "
               "f32[2,3]{1,0} in dimension 0");
}
END_TEST

#define STRIDED(begin, end, masks)                                            \
  PLACEHOLDER("x", "DT_FLOAT")                                                \
  CONST_I32("b", "dim { size: 2 }", begin)                                    \
  CONST_I32("e", "dim { size: 2 }", end)                                      \
  CONST_I32("st", "dim { size: 2 }", "int_val: 1 int_val: 1")                 \
  NODE("ss", "StridedSlice", "input: 'x' input: 'b' input: 'e' input: 'st'", masks)

START_TEST(strided_slice_errors) {
  fu_expect_error(STRIDED("int_val: 0 int_val: 0", "int_val: 1 int_val: 1",
                       ATTR_INT("ellipsis_mask", "3")),
               CONFIG_X("ss"),
               "node 'ss' (StridedSlice): multiple ellipses in slice spec (ellipsis_mask 3)");
  fu_expect_error(STRIDED("int_val: 0 int_val: -4", "int_val: 1 int_val: 0",
                       ATTR_INT("shrink_axis_mask", "2")),
               CONFIG_X("ss"),
               "node 'ss' (StridedSlice): index -4 of dimension 1 is out of bounds for "
               "f32[2,3]{1,0}");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("b", "dim { size: 3 }", "int_val: 0 int_val: 0 int_val: 0")
               CONST_I32("e", "dim { size: 3 }", "int_val: 1 int_val: 1 int_val: 1")
               CONST_I32("st", "dim { size: 3 }", "int_val: 1 int_val: 1 int_val: 1")
               NODE("ss", "StridedSlice", "input: 'x' input: 'b' input: 'e' input: 'st'", ""),
               CONFIG_X("ss"),
               "node 'ss' (StridedSlice): slice entry 2 indexes dimension 2 but f32[2,3]{1,0} "
               "has only 2");
}
END_TEST

START_TEST(pad_errors) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("p", "dim { size: 2 }", "int_val: 1 int_val: 1")
               NODE("p2", "Pad", "input: 'x' input: 'p'", ""),
               CONFIG_X("p2"),
               "node 'p2' (Pad): paddings s32[2]{0} must be an integer [2,2] matrix for input "
               "f32[2,3]{1,0}");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("p", "dim { size: 2 } dim { size: 2 }",
                         "int_val: 0 int_val: 0 int_val: 3 int_val: 1")
               NODE("m", "MirrorPad", "input: 'x' input: 'p'", ATTR_STR("mode", "REFLECT")),
               CONFIG_X("m"),
               "node 'm' (MirrorPad): REFLECT paddings (3, 1) of dimension 1 exceed 2");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("p", "dim { size: 2 } dim { size: 2 }", "int_val: 0")
               NODE("m", "MirrorPad", "input: 'x' input: 'p'", ATTR_STR("mode", "EDGE")),
               CONFIG_X("m"), "node 'm' (MirrorPad): mode 'EDGE' is not REFLECT or SYMMETRIC");
}
END_TEST

START_TEST(reduction_duplicate_axis) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("axes", "dim { size: 2 }", "int_val: 1 int_val: -1")
               NODE("s", "Sum", "input: 'x' input: 'axes'", ""),
               CONFIG_X("s"), "node 's' (Sum): axis -1 is given twice");
}
END_TEST

START_TEST(gather_batch_dims) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("i", "DT_INT32")
               CONST_I32("axis", "", "int_val: 0")
               NODE("g", "GatherV2", "input: 'x' input: 'i' input: 'axis'",
                    ATTR_INT("batch_dims", "1")),
               CONFIG_X("g") FEED("i", "DT_INT32", "dim { size: 2 } dim { size: 1 }"),
               "node 'g' (GatherV2): batch_dims 1 exceeds axis 0");
}
END_TEST

START_TEST(gather_nd_errors) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("i", "dim { size: 1 } dim { size: 3 }", "int_val: 0")
               NODE("g", "GatherNd", "input: 'x' input: 'i'", ""),
               CONFIG_X("g"),
               "node 'g' (GatherNd): the index vectors of indices s32[1,3]{1,0} have 3 entries, "
               "more than the rank 2 of params f32[2,3]{1,0}");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") NODE("g", "GatherNd", "input: 'x' input: 'x'", ""),
               CONFIG_X("g"), "node 'g' (GatherNd): indices must be integers, are f32[2,3]{1,0}");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("i", "", "int_val: 0")
               NODE("g", "GatherNd", "input: 'x' input: 'i'", ""),
               CONFIG_X("g"),
               "node 'g' (GatherNd): indices must have rank >= 1 (the index vector is the last "
               "dim), are s32[]");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("i", "dim { size: 1 } dim { size: 1 }", "int_val: 0")
               NODE("g", "GatherNd", "input: 'x' input: 'i'",
                    ATTR_STR("bad_indices_policy", "CLAMP")),
               CONFIG_X("g"),
               "node 'g' (GatherNd): bad_indices_policy 'CLAMP' is not DEFAULT, ERROR or "
               "IGNORE");
}
END_TEST

START_TEST(scatter_errors) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("i", "dim { size: 2 } dim { size: 1 }", "int_val: 0 int_val: 1")
               CONST_I32("shape", "dim { size: 2 }", "int_val: 4 int_val: 2")
               NODE("s", "ScatterNd", "input: 'i' input: 'x' input: 'shape'", ""),
               CONFIG_X("s"),
               "node 's' (ScatterNd): updates f32[2,3]{1,0} do not have the shape "
               "indices.shape[:-1] + shape[1:] for indices s32[2,1]{1,0} and a tensor "
               "f32[4,2]{1,0}");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("i", "dim { size: 2 } dim { size: 1 }", "int_val: 0 int_val: 1")
               CONST_I32("shape", "dim { size: 2 }", "int_val: -4 int_val: 3")
               NODE("s", "ScatterNd", "input: 'i' input: 'x' input: 'shape'", ""),
               CONFIG_X("s"), "node 's' (ScatterNd): shape has the negative size -4");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("i", "dim { size: 3 } dim { size: 1 }", "int_val: 0")
               NODE("s", "TensorScatterUpdate", "input: 'x' input: 'i' input: 'x'", ""),
               CONFIG_X("s"),
               "node 's' (TensorScatterUpdate): updates f32[2,3]{1,0} do not have the shape "
               "indices.shape[:-1] + shape[1:] for indices s32[3,1]{1,0} and a tensor "
               "f32[2,3]{1,0}");
}
END_TEST

START_TEST(random_errors) {
  const char *key_counter =
      PLACEHOLDER("k", "DT_UINT64") PLACEHOLDER("c", "DT_UINT64")
      CONST_I32("shape", "dim { size: 1 }", "int_val: 4");
  const char *kc_config = FEED("k", "DT_UINT64", "dim { size: 1 }")
      FEED("c", "DT_UINT64", "dim { size: 2 }") FETCH("r");
  char graph[2048];
  snprintf(graph, sizeof graph, "%s%s%s", key_counter, CONST_I32("alg", "", "int_val: 2"),
           NODE("r", "StatelessRandomUniformV2",
                "input: 'shape' input: 'k' input: 'c' input: 'alg'",
                ATTR_TYPE("dtype", "DT_FLOAT")));
  fu_expect_error(graph, kc_config,
                  "node 'r' (StatelessRandomUniformV2): alg 2 (ThreeFry) is not supported: only "
                  "Philox (1) and auto-select (3), which is Philox on the CPU");
  snprintf(graph, sizeof graph, "%s%s%s", key_counter, CONST_I32("alg", "", "int_val: 1"),
           NODE("r", "StatelessRandomNormalV2",
                "input: 'shape' input: 'k' input: 'c' input: 'alg'",
                ATTR_TYPE("dtype", "DT_INT32")));
  fu_expect_error(graph, kc_config,
                  "node 'r' (StatelessRandomNormalV2): normal values of type DT_INT32 are not "
                  "supported");
  snprintf(graph, sizeof graph, "%s%s%s", key_counter, CONST_I32("alg", "", "int_val: 1"),
           NODE("r", "StatelessTruncatedNormalV2",
                "input: 'shape' input: 'k' input: 'c' input: 'alg'",
                ATTR_TYPE("dtype", "DT_INT64")));
  fu_expect_error(graph, kc_config,
                  "node 'r' (StatelessTruncatedNormalV2): truncated normal values of type "
                  "DT_INT64 are not supported");
  fu_expect_error(CONST_I32("shape", "dim { size: 1 }", "int_val: 4")
               CONST_I32("seed", "dim { size: 3 }", "int_val: 1 int_val: 2 int_val: 3")
               NODE("r", "StatelessRandomUniform", "input: 'shape' input: 'seed'",
                    ATTR_TYPE("dtype", "DT_FLOAT")),
               FETCH("r"),
               "node 'r' (StatelessRandomUniform): seed must be int32[2] or int64[2]");
  fu_expect_error(CONST_I32("shape", "dim { size: 1 }", "int_val: 4")
               NODE("r", "RandomUniform", "input: 'shape'",
                    ATTR_TYPE("dtype", "DT_FLOAT") ATTR_INT("seed", "0") ATTR_INT("seed2", "0")),
               FETCH("r"),
               "node 'r' (RandomUniform): seed and seed2 are both 0, so TensorFlow draws a new "
               "random seed on every run; set a seed (tf.random.set_seed or the op's seed) or "
               "use the stateless ops");
}
END_TEST

START_TEST(quantize_errors) {
  const char *ranges = "node { name: 'lo' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
                       " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { }"
                       " float_val: -1 } } } }\n"
                       "node { name: 'hi' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } }"
                       " attr { key: 'value' value { tensor { dtype: DT_FLOAT tensor_shape { }"
                       " float_val: 1 } } } }\n";
  char graph[2048];
  snprintf(graph, sizeof graph, "%s%s%s", PLACEHOLDER("x", "DT_FLOAT"), ranges,
           NODE("q", "QuantizeV2", "input: 'x' input: 'lo' input: 'hi'",
                ATTR_TYPE("T", "DT_QINT8") ATTR_STR("mode", "MIN_COMBINED")
                    ATTR_STR("round_mode", "HALF_TO_EVEN")));
  fu_expect_error(graph, CONFIG_X("q"),
                  "node 'q' (QuantizeV2): round_mode HALF_TO_EVEN needs mode SCALED");
  snprintf(graph, sizeof graph, "%s%s%s", PLACEHOLDER("x", "DT_FLOAT"), ranges,
           NODE("q", "QuantizeV2", "input: 'x' input: 'lo' input: 'hi'",
                ATTR_TYPE("T", "DT_QINT8") ATTR_STR("mode", "MIN_FIRST") ATTR_INT("axis", "1")));
  fu_expect_error(graph, CONFIG_X("q"),
                  "node 'q' (QuantizeV2): mode MIN_FIRST does not take an axis");
  snprintf(graph, sizeof graph, "%s%s%s", PLACEHOLDER("x", "DT_FLOAT"), ranges,
           NODE("q", "QuantizeV2", "input: 'x' input: 'lo' input: 'hi'",
                ATTR_TYPE("T", "DT_QINT8") ATTR_STR("mode", "SCALED") ATTR_INT("axis", "1")));
  fu_expect_error(graph, CONFIG_X("q"),
                  "node 'q' (QuantizeV2): the min and max ranges must be vectors of 3 values, "
                  "one per slice along axis 1");
  snprintf(graph, sizeof graph, "%s%s%s", PLACEHOLDER("x", "DT_FLOAT"), ranges,
           NODE("q", "QuantizeV2", "input: 'x' input: 'lo' input: 'hi'",
                ATTR_TYPE("T", "DT_INT8")));
  fu_expect_error(graph, CONFIG_X("q"),
                  "node 'q' (QuantizeV2): T is DT_INT8, not qint8, quint8, qint16, quint16 or "
                  "qint32");
}
END_TEST

START_TEST(matrix_band_part_errors) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("lo", "", "int_val: 3")
               CONST_I32("hi", "", "int_val: -1")
               NODE("b", "MatrixBandPart", "input: 'x' input: 'lo' input: 'hi'", ""),
               CONFIG_X("b"),
               "node 'b' (MatrixBandPart): num_lower must be negative or at most the number of "
               "rows (2), is 3");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") CONST_I32("lo", "dim { size: 1 }", "int_val: 0")
               NODE("b", "MatrixBandPart", "input: 'x' input: 'lo' input: 'lo'", ""),
               CONFIG_X("b"),
               "node 'b' (MatrixBandPart): num_lower s32[1]{0} and num_upper s32[1]{0} must be "
               "integer scalars of one type");
}
END_TEST

START_TEST(broadcast_to_incompatible) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               CONST_I32("shape", "dim { size: 2 }", "int_val: 2 int_val: 4")
               NODE("b", "BroadcastTo", "input: 'x' input: 'shape'", ""),
               CONFIG_X("b"),
               "node 'b' (BroadcastTo): cannot broadcast f32[2,3]{1,0}: dimension 1 has size 3, "
               "target 4");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Math ops                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(binary_not_broadcastable) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("y", "DT_FLOAT")
               NODE("a", "AddV2", "input: 'x' input: 'y'", ""),
               CONFIG_X("a") FEED("y", "DT_FLOAT", "dim { size: 4 }"),
               "node 'a' (AddV2): operands f32[2,3]{1,0} and f32[4]{0} are not "
               "broadcast-compatible");
}
END_TEST

START_TEST(input_count) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") NODE("n", "Neg", "input: 'x' input: 'x'", ""),
               CONFIG_X("n"), "node 'n' (Neg): expects 1 input(s), has 2");
}
END_TEST

START_TEST(cast_src_type) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("c", "Cast", "input: 'x'",
                    ATTR_TYPE("SrcT", "DT_INT32") ATTR_TYPE("DstT", "DT_FLOAT")),
               CONFIG_X("c"),
               "node 'c' (Cast): attr 'SrcT' is s32 but the input has type f32");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("c", "Cast", "input: 'x'", ATTR_INT("DstT", "3")),
               CONFIG_X("c"), "node 'c' (Cast): attr 'DstT' holds an int, expected a type");
}
END_TEST

START_TEST(select_condition_shape) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("c", "DT_BOOL")
               NODE("s", "Select", "input: 'c' input: 'x' input: 'x'", ""),
               CONFIG_X("s") FEED("c", "DT_BOOL", "dim { size: 3 }"),
               "node 's' (Select): condition pred[3]{0} must be a scalar, a vector of the first "
               "dimension of t, or have the shape of t, f32[2,3]{1,0}");
}
END_TEST

START_TEST(bucketize_unsorted) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("b", "Bucketize", "input: 'x'",
                    "attr { key: 'boundaries' value { list { f: 0 f: 2 f: 1 } } }"),
               CONFIG_X("b"),
               "node 'b' (Bucketize): boundaries must be sorted, but entry 2 (1) follows 2");
}
END_TEST

START_TEST(fake_quant_errors) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("q", "FakeQuantWithMinMaxArgs", "input: 'x'", ATTR_INT("num_bits", "1")),
               CONFIG_X("q"),
               "node 'q' (FakeQuantWithMinMaxArgs): attribute 'num_bits' is 1, expected 2 to 16");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("q", "FakeQuantWithMinMaxArgs", "input: 'x'",
                    "attr { key: 'min' value { f: 2 } } attr { key: 'max' value { f: 2 } }"),
               CONFIG_X("q"),
               "node 'q' (FakeQuantWithMinMaxArgs): attribute 'min' (2) must be smaller than "
               "attribute 'max' (2)");
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") PLACEHOLDER("m", "DT_FLOAT")
               NODE("q", "FakeQuantWithMinMaxVarsPerChannel", "input: 'x' input: 'm' input: 'm'",
                    ""),
               CONFIG_X("q") FEED("m", "DT_FLOAT", "dim { size: 2 }"),
               "node 'q' (FakeQuantWithMinMaxVarsPerChannel): min f32[2]{0} must be f32[3], one "
               "value per channel");
}
END_TEST

START_TEST(erfinv_f64) {
  fu_expect_error(PLACEHOLDER("x", "DT_DOUBLE") NODE("e", "Erfinv", "input: 'x'", ""),
               FEED("x", "DT_DOUBLE", "dim { size: 3 }") FETCH("e"),
               "node 'e' (Erfinv): x has type f64; the approximation is for f32, f16 and bf16");
}
END_TEST

START_TEST(float_only_functions_reject_integers) {
  fu_expect_error(PLACEHOLDER("x", "DT_INT32") NODE("a", "Asinh", "input: 'x'", ""),
               FEED("x", "DT_INT32", "dim { size: 3 }") FETCH("a"),
               "node 'a' (Asinh): x has type s32; Asinh is defined for floating-point types");
  fu_expect_error(PLACEHOLDER("x", "DT_INT32") NODE("a", "Xlogy", "input: 'x' input: 'x'", ""),
               FEED("x", "DT_INT32", "dim { size: 3 }") FETCH("a"),
               "node 'a' (Xlogy): x has type s32; Xlogy is defined for floating-point types");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Unsupported ops                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(ensure_shape_attr_not_a_shape) {
  /* A 'shape' that is not a shape was ignored, and its error leaked
   * (found by fuzz_tf_lower under LeakSanitizer). */
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
                      NODE("s", "EnsureShape", "input: 'x'", "attr { key: 'shape' value { i: 3 } }"),
                  CONFIG_X("s"),
                  "node 's' (EnsureShape): attr 'shape' holds an int, expected a shape");
  expect_ok(PLACEHOLDER("x", "DT_FLOAT") NODE("s", "EnsureShape", "input: 'x'", ""),
            CONFIG_X("s"));
}
END_TEST

/* Unique folds a constant x; a fed one leaves the result's size open. */
START_TEST(unique_errors) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT") NODE("u", "Unique", "input: 'x'", ""),
               CONFIG_X("u"),
               "node 'u' (Unique): the number of unique values depends on the data: input 0 "
               "must be a constant known at compile time (it determines a shape or an "
               "attribute), but it cannot be folded: it depends on parameter 'x'");
  fu_expect_error(CONST_I32("c", "dim { size: 2 } dim { size: 2 }", "int_val: 1")
               NODE("u", "Unique", "input: 'c'", ""),
               FETCH("u"), "node 'u' (Unique): x must be a vector, is s32[2,2]{1,0}");
  fu_expect_error(CONST_I32("c", "dim { size: 2 } dim { size: 2 }", "int_val: 1")
               CONST_I32("a", "dim { size: 1 }", "int_val: 2")
               NODE("u", "UniqueV2", "input: 'c' input: 'a'", ""),
               FETCH("u"), "node 'u' (UniqueV2): axis 2 is out of range for rank 2");
}
END_TEST

/* A diagonal needs the repeated label's dims to agree. */
START_TEST(einsum_diagonal_sizes) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("d", "Einsum", "input: 'x'", ATTR_STR("equation", "ii->i")),
               CONFIG_X("d"),
               "node 'd' (Einsum): equation 'ii->i': label 'i' repeats in operand 0 with sizes "
               "2 and 3");
}
END_TEST

START_TEST(unsupported_ops_listed_at_once) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("a", "FancyOp", "input: 'x'", "")
               NODE("b", "OtherOp", "input: 'a'", "")
               NODE("c", "FancyOp", "input: 'b'", "")
               NODE("d", "Neg", "input: 'c'", ""),
               CONFIG_X("d"),
               "3 nodes use TensorFlow ops hloc does not support (2 op types; 'hloc ops' lists "
               "the supported ones):\n"
               "  FancyOp: 2 nodes ('a', 'c')\n"
               "  OtherOp: 1 node ('b')");
}
END_TEST

/* A name one or two edits from a supported op gets it as a suggestion:
 * a case slip, a wrong digit (Relu6 rather than Relu, of the same length),
 * two edits in a long name; short unrelated names get none. */
START_TEST(unsupported_ops_suggest_the_nearest) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("a", "Relu7", "input: 'x'", "")
               NODE("b", "Sigmod", "input: 'a'", "")
               NODE("c", "MatrixBandPrt", "input: 'b'", "")
               NODE("d", "Foo", "input: 'c'", "")
               NODE("e", "Nge", "input: 'd'", ""),
               CONFIG_X("e"),
               "5 nodes use TensorFlow ops hloc does not support (5 op types; 'hloc ops' lists "
               "the supported ones):\n"
               "  Relu7: 1 node ('a'), did you mean 'Relu6'?\n"
               "  Sigmod: 1 node ('b'), did you mean 'Sigmoid'?\n"
               "  MatrixBandPrt: 1 node ('c'), did you mean 'MatrixBandPart'?\n"
               "  Foo: 1 node ('d')\n"
               "  Nge: 1 node ('e')");
}
END_TEST

/* Conv2d for Conv2D: a case slip is one edit. */
START_TEST(unsupported_op_case_slip) {
  fu_expect_error(PLACEHOLDER("x", "DT_FLOAT")
               NODE("c", "Conv2d", "input: 'x' input: 'x'", ""),
               CONFIG_X("c"),
               "1 node uses TensorFlow ops hloc does not support (1 op type; 'hloc ops' lists "
               "the supported ones):\n"
               "  Conv2d: 1 node ('c'), did you mean 'Conv2D'?");
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_errors");
  TCase *t = tcase_create("errors");
  tcase_add_test(t, reshape_incompatible);
  tcase_add_test(t, reshape_two_unknown_dims);
  tcase_add_test(t, reshape_shape_not_constant);
  tcase_add_test(t, reshape_shape_folded);
  tcase_add_test(t, concat_axis_out_of_range);
  tcase_add_test(t, concat_shapes_differ);
  tcase_add_test(t, transpose_perm_length);
  tcase_add_test(t, transpose_not_a_permutation);
  tcase_add_test(t, squeeze_not_one);
  tcase_add_test(t, split_missing_attr);
  tcase_add_test(t, split_uneven);
  tcase_add_test(t, split_v_sizes);
  tcase_add_test(t, slice_out_of_bounds);
  tcase_add_test(t, strided_slice_errors);
  tcase_add_test(t, pad_errors);
  tcase_add_test(t, reduction_duplicate_axis);
  tcase_add_test(t, gather_batch_dims);
  tcase_add_test(t, gather_nd_errors);
  tcase_add_test(t, scatter_errors);
  tcase_add_test(t, random_errors);
  tcase_add_test(t, quantize_errors);
  tcase_add_test(t, broadcast_to_incompatible);
  tcase_add_test(t, binary_not_broadcastable);
  tcase_add_test(t, input_count);
  tcase_add_test(t, cast_src_type);
  tcase_add_test(t, select_condition_shape);
  tcase_add_test(t, matrix_band_part_errors);
  tcase_add_test(t, bucketize_unsorted);
  tcase_add_test(t, erfinv_f64);
  tcase_add_test(t, float_only_functions_reject_integers);
  tcase_add_test(t, fake_quant_errors);
  tcase_add_test(t, ensure_shape_attr_not_a_shape);
  tcase_add_test(t, unique_errors);
  tcase_add_test(t, einsum_diagonal_sizes);
  tcase_add_test(t, unsupported_ops_listed_at_once);
  tcase_add_test(t, unsupported_ops_suggest_the_nearest);
  tcase_add_test(t, unsupported_op_case_slip);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
