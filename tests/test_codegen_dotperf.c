/*
 * test_codegen_dotperf.c — the row path of float dot and convolution
 * (codegen/dot.c, codegen/conv.c): a whole output row computed at once into
 * a stack buffer with the contiguous dim innermost and math.fma, so LLVM
 * vectorizes it.  The cases are where that path is taken or must not be:
 * output fusions (bias, activation, several outputs), fusions that read the
 * contraction out of row order (transpose, reshape: the naive loop stays),
 * batched and multi-contracting dots, grouped/depthwise/padded/dilated
 * convolutions, half precision, and a row buffer reused across rows.
 *
 * Arguments are integers in [-8, 8], so every product and partial sum is
 * exact in f32 and the results must equal the evaluator's exactly whatever
 * the order or fusing of the additions (the rounding bound of the general
 * case is test_codegen_contract.c's, which also runs through this path).
 */
#include "test_codegen_util.h"

/* Evaluates text on small-integer arguments, optionally runs the pass
 * pipeline, compiles and compares exactly. */
static void check_exact(const char *text, bool pipeline, uint64_t seed) {
  cgt_check_with(text, seed, true, pipeline, 0, 0);
}

/* Whether the MLIR of text holds needle. */
static bool mlir_has(const char *text, const char *needle) {
  HloModule *m = ck_parse_verified(text);
  CgOptions o = {.name = "t"};
  char *mlir = NULL;
  HloError *e = cg_emit_mlir(m, &o, &mlir);
  ck_assert_msg(!e, "emit: %s", hlo_error_message(e));
  bool has = strstr(mlir, needle) != NULL;
  free(mlir);
  hlo_module_free(m);
  return has;
}

#define DOT_BIAS_RELU                                                          \
  "HloModule m\n\nENTRY e {\n  x = f32[3,37] parameter(0)\n"                  \
  "  w = f32[37,21] parameter(1)\n  b = f32[21] parameter(2)\n"               \
  "  d = f32[3,21] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n" \
  "  bb = f32[3,21] broadcast(b), dimensions={1}\n  a = f32[3,21] add(d, bb)\n" \
  "  z = f32[] constant(0)\n  zb = f32[3,21] broadcast(z), dimensions={}\n"   \
  "  ROOT r = f32[3,21] maximum(a, zb)\n}\n"

START_TEST(dot_rows) {
  for (uint64_t seed = 0; seed < 2; seed++) {
    /* a dense layer: dot, bias, relu, fused by the pipeline */
    check_exact(DOT_BIAS_RELU, true, seed);
    check_exact(DOT_BIAS_RELU, false, seed);
    /* reductions chained by 2 (18) and by 4 (20, a row of 70) */
    check_exact("HloModule m\n\nENTRY e {\n  a = f32[3,18] parameter(0)\n"
                "  b = f32[18,8] parameter(1)\n"
                "  ROOT d = f32[3,8] dot(a, b), lhs_contracting_dims={1}, "
                "rhs_contracting_dims={0}\n}\n",
                false, seed);
    check_exact("HloModule m\n\nENTRY e {\n  a = f32[2,20] parameter(0)\n"
                "  b = f32[20,70] parameter(1)\n"
                "  ROOT d = f32[2,70] dot(a, b), lhs_contracting_dims={1}, "
                "rhs_contracting_dims={0}\n}\n",
                false, seed);
    /* batched, and two contracting dims */
    check_exact("HloModule m\n\nENTRY e {\n  a = f32[2,5,9] parameter(0)\n"
                "  b = f32[2,9,11] parameter(1)\n"
                "  ROOT d = f32[2,5,11] dot(a, b), lhs_batch_dims={0}, rhs_batch_dims={0}, "
                "lhs_contracting_dims={2}, rhs_contracting_dims={1}\n}\n",
                false, seed);
    check_exact("HloModule m\n\nENTRY e {\n  a = f32[2,3,4] parameter(0)\n"
                "  b = f32[3,4,6] parameter(1)\n"
                "  ROOT d = f32[2,6] dot(a, b), lhs_contracting_dims={1,2}, "
                "rhs_contracting_dims={0,1}\n}\n",
                false, seed);
    /* rhs free dims around the contracting one: [K] x [M,K,N] */
    check_exact("HloModule m\n\nENTRY e {\n  a = f32[4,7] parameter(0)\n"
                "  b = f32[3,7,5] parameter(1)\n"
                "  ROOT d = f32[4,3,5] dot(a, b), lhs_contracting_dims={1}, "
                "rhs_contracting_dims={1}\n}\n",
                false, seed);
    /* bf16 operands, f16 result */
    check_exact("HloModule m\n\nENTRY e {\n  a = bf16[3,6] parameter(0)\n"
                "  b = bf16[6,8] parameter(1)\n"
                "  ROOT d = f32[3,8] dot(a, b), lhs_contracting_dims={1}, "
                "rhs_contracting_dims={0}\n}\n",
                false, seed);
    check_exact("HloModule m\n\nENTRY e {\n  a = f16[3,6] parameter(0)\n"
                "  b = f16[6,8] parameter(1)\n"
                "  ROOT d = f16[3,8] dot(a, b), lhs_contracting_dims={1}, "
                "rhs_contracting_dims={0}\n}\n",
                false, seed);
  }
}
END_TEST

/* A fusion that reads its dot out of row order (a transpose of it, or two
 * outputs of other dims) keeps the naive loop; a tuple of the dot and its
 * activation shares the row. */
START_TEST(dot_fusions) {
  const char *transposed =
      "HloModule m\n\nfc {\n  p0 = f32[4,9] parameter(0)\n  p1 = f32[9,6] parameter(1)\n"
      "  d = f32[4,6] dot(p0, p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  ROOT t = f32[6,4] transpose(d), dimensions={1,0}\n}\n\n"
      "ENTRY e {\n  x = f32[4,9] parameter(0)\n  y = f32[9,6] parameter(1)\n"
      "  ROOT f = f32[6,4] fusion(x, y), kind=kOutput, calls=fc\n}\n";
  const char *two =
      "HloModule m\n\nfc {\n  p0 = f32[4,9] parameter(0)\n  p1 = f32[9,6] parameter(1)\n"
      "  d = f32[4,6] dot(p0, p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  n = f32[4,6] negate(d)\n  ROOT t = (f32[4,6], f32[4,6]) tuple(d, n)\n}\n\n"
      "ENTRY e {\n  x = f32[4,9] parameter(0)\n  y = f32[9,6] parameter(1)\n"
      "  ROOT f = (f32[4,6], f32[4,6]) fusion(x, y), kind=kOutput, calls=fc\n}\n";
  for (uint64_t seed = 0; seed < 2; seed++) {
    check_exact(transposed, false, seed);
    check_exact(two, false, seed);
  }
  ck_assert(!mlir_has(transposed, "math.fma"));
  ck_assert(mlir_has(two, "math.fma"));
  ck_assert(mlir_has(DOT_BIAS_RELU, "math.fma"));
}
END_TEST

#define NHWC "dim_labels=b01f_01io->b01f"

START_TEST(conv_rows) {
  static const struct {
    const char *x, *k, *root;
  } cases[] = {
      {"f32[2,6,7,3]", "f32[3,3,3,8]",
       "f32[2,6,7,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC},
      {"f32[1,9,9,5]", "f32[3,2,5,4]",
       "f32[1,4,3,4] convolution(x, k), window={size=3x2 stride=2x3 pad=0_1x2_0 "
       "rhs_dilate=1x2}, " NHWC},
      {"f32[1,4,4,3]", "f32[3,3,3,5]",
       "f32[1,9,9,5] convolution(x, k), window={size=3x3 pad=2_2x2_2 lhs_dilate=2x2 "
       "rhs_reversal=1x1}, " NHWC},
      /* blocks of 4 and 3 positions along W (conv.c conv_block), with taps
       * in padding for some positions of a block, negative padding,
       * stride and window dilation along W */
      {"f32[2,9,16,3]", "f32[3,3,3,8]",
       "f32[2,5,8,8] convolution(x, k), window={size=3x3 stride=2x2 pad=1_1x1_0}, " NHWC},
      {"f32[1,6,12,4]", "f32[2,3,4,8]",
       "f32[1,5,8,8] convolution(x, k), window={size=2x3 pad=0_0x1_-1 rhs_dilate=1x2}, " NHWC},
      {"f32[3,2,6,5]", "f32[1,5,5,4]",
       "f32[3,2,6,4] convolution(x, k), window={size=1x5 pad=0_0x2_2}, " NHWC},
      {"f32[1,3,3,12]", "f32[1,1,12,40]",
       "f32[1,3,3,40] convolution(x, k), window={size=1x1}, " NHWC},
      {"f32[1,8,8,4]", "f32[3,3,1,8]",
       "f32[1,8,8,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
       ", feature_group_count=4"},
      /* depthwise, channel multiplier 2 and 1 */
      {"f32[1,6,6,4]", "f32[3,3,1,8]",
       "f32[1,6,6,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
       ", feature_group_count=4"},
      {"f32[2,5,5,8]", "f32[3,3,1,8]",
       "f32[2,3,3,8] convolution(x, k), window={size=3x3 stride=2x2 pad=1_1x1_1}, " NHWC
       ", feature_group_count=8"},
      /* grouped */
      {"f32[1,5,5,6]", "f32[3,3,2,9]",
       "f32[1,5,5,9] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
       ", feature_group_count=3"},
      /* batch groups stay naive */
      {"f32[4,5,5,3]", "f32[3,3,3,6]",
       "f32[2,3,3,6] convolution(x, k), window={size=3x3}, " NHWC
       ", batch_group_count=2"},
      /* 1x1, 1-D, half precision, features not last (naive) */
      {"f32[1,3,4,16]", "f32[1,1,16,24]",
       "f32[1,3,4,24] convolution(x, k), window={size=1x1}, " NHWC},
      {"f32[2,13,3]", "f32[4,3,5]",
       "f32[2,5,5] convolution(x, k), window={size=4 stride=3 pad=1_2}, "
       "dim_labels=b0f_0io->b0f"},
      {"f16[1,7,7,2]", "f16[3,3,2,6]",
       "f16[1,7,7,6] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC},
      {"f32[2,3,7,9]", "f32[4,3,3,3]",
       "f32[2,4,5,7] convolution(x, k), window={size=3x3}, dim_labels=bf01_oi01->bf01"},
  };
  char text[1024];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    snprintf(text, sizeof text,
             "HloModule c\n\nENTRY main {\n  x = %s parameter(0)\n  k = %s parameter(1)\n"
             "  ROOT r = %s\n}\n",
             cases[i].x, cases[i].k, cases[i].root);
    check_exact(text, false, i);
  }
  /* conv + bias + relu6 through the pipeline */
  const char *block =
      "HloModule m\n\nENTRY e {\n  x = f32[1,8,8,3] parameter(0)\n  k = f32[3,3,3,16] parameter(1)\n"
      "  b = f32[16] parameter(2)\n"
      "  c = f32[1,8,8,16] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC "\n"
      "  bb = f32[1,8,8,16] broadcast(b), dimensions={3}\n  a = f32[1,8,8,16] add(c, bb)\n"
      "  z = f32[] constant(0)\n  zb = f32[1,8,8,16] broadcast(z), dimensions={}\n"
      "  s = f32[] constant(6)\n  sb = f32[1,8,8,16] broadcast(s), dimensions={}\n"
      "  ROOT r = f32[1,8,8,16] clamp(zb, a, sb)\n}\n";
  check_exact(block, true, 1);
  check_exact(block, false, 2);
  ck_assert(mlir_has(block, "math.fma"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_dotperf");
  TCase *t = tcase_create("dotperf");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, dot_rows);
  tcase_add_test(t, dot_fusions);
  tcase_add_test(t, conv_rows);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
