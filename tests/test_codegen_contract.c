/*
 * test_codegen_contract.c — dot, convolution and batch-norm-inference,
 * compiled and run through the JIT, against the evaluator.
 *
 * Tolerance of float dot and convolution: the evaluator accumulates in
 * double, the compiled code in f32 (dot.c), in the same order.  Each f32
 * product and each of the K additions rounds with relative error at most
 * u = 2^-24, so |compiled − exact| ≤ K·u·Σ|a·b| to first order, and the
 * evaluator's double sum is exact to far below that.  The test evaluates
 * S = Σ|a·b| per output element by running the evaluator on |arguments|,
 * and allows K·2^-23·S (twice the bound).  An f16/bf16 result is then
 * rounded once more on each side, from f32 here and from double via f32
 * there: one unit in the last place of the result type is added (2^-10
 * and 2^-7 relative).  Integer contractions wrap identically: exact.
 *
 * batch-norm-inference is computed in double like the evaluator, with the
 * same formula: exact.
 */
#include "test_codegen_util.h"

static void abs_literal(HloLiteral *l) {
  if (!hlo_type_is_float(l->shape.type)) return;
  for (int64_t i = 0; i < hlo_shape_elements(&l->shape); i++)
    hlo_literal_set_f64(l, i, fabs(hlo_literal_get_f64(l, i)));
}

/* The differential check of a module whose root is one contraction over
 * k products per output element, with the bound above. */
static void check_contraction(const char *text, uint64_t seed, int64_t k) {
  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  int n = entry->nparams;
  HloLiteral *args[8], *absargs[8];
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (int i = 0; i < n; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    cgt_fill(args[i], &s);
    absargs[i] = hlo_literal_clone(args[i]);
    abs_literal(absargs[i]);
  }
  HloLiteral *want = ck_evaluate(m, args, n);
  HloLiteral *bound = ck_evaluate(m, absargs, n);
  CgJit *j = cgt_jit(m, "t");
  const hloc_program *p = cg_jit_program(j);
  HloLiteral *got = hlo_literal_new(&want->shape);
  void *bufs[9];
  for (int i = 0; i < n; i++) bufs[i] = args[i]->data;
  bufs[n] = got->data;
  ck_assert_int_eq(hloc_program_run(p, bufs), 0);
  HloType t = want->shape.type;
  if (!hlo_type_is_float(t)) {
    char msg[256];
    ck_assert_msg(ck_allclose(got, want, 0, 0, msg, sizeof msg), "%s", msg);
  } else {
    double last = t == HLO_F16 ? 0x1p-10 : t == HLO_BF16 ? 0x1p-7 : 0;
    for (int64_t i = 0; i < hlo_shape_elements(&want->shape); i++) {
      double g = hlo_literal_get_f64(got, i), w = hlo_literal_get_f64(want, i);
      double tol = (double)k * 0x1p-23 * hlo_literal_get_f64(bound, i) +
                   last * fabs(w);
      bool ok = isnan(w) ? isnan(g) : isinf(w) ? g == w : fabs(g - w) <= tol;
      ck_assert_msg(ok, "element %lld: got %.9g, expected %.9g (tolerance %g)",
                    (long long)i, g, w, tol);
    }
  }
  hlo_literal_free(got);
  cg_jit_free(j);
  hlo_literal_free(want);
  hlo_literal_free(bound);
  for (int i = 0; i < n; i++) {
    hlo_literal_free(args[i]);
    hlo_literal_free(absargs[i]);
  }
  hlo_module_free(m);
}

/* A one-instruction module: ENTRY with the given parameters and root. */
static void check_one(uint64_t seed, int64_t k, const char *params,
                      const char *root) {
  char text[2048];
  snprintf(text, sizeof text, "HloModule c\n\nENTRY main {\n%s  ROOT r = %s\n}\n",
           params, root);
  for (uint64_t i = 0; i < 2; i++) check_contraction(text, seed * 2 + i, k);
}

START_TEST(dot) {
  check_one(1, 13, "  a = f32[7,13] parameter(0)\n  b = f32[13,5] parameter(1)\n",
            "f32[7,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}");
  check_one(2, 13, "  a = f32[3,7,13] parameter(0)\n  b = f32[3,13,1] parameter(1)\n",
            "f32[3,7,1] dot(a, b), lhs_batch_dims={0}, rhs_batch_dims={0}, "
            "lhs_contracting_dims={2}, rhs_contracting_dims={1}");
  check_one(3, 13, "  a = f32[13,7] parameter(0)\n  b = f32[5,13] parameter(1)\n",
            "f32[7,5] dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={1}");
  check_one(4, 13, "  a = f32[13] parameter(0)\n  b = f32[13] parameter(1)\n",
            "f32[] dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={0}");
  check_one(5, 12, "  a = f32[2,3,4] parameter(0)\n  b = f32[3,4,5] parameter(1)\n",
            "f32[2,5] dot(a, b), lhs_contracting_dims={1,2}, "
            "rhs_contracting_dims={0,1}");
  check_one(6, 1, "  a = f32[7] parameter(0)\n  b = f32[5] parameter(1)\n",
            "f32[7,5] dot(a, b), lhs_contracting_dims={}, rhs_contracting_dims={}");
  check_one(7, 13, "  a = s32[7,13] parameter(0)\n  b = s32[13,5] parameter(1)\n",
            "s32[7,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}");
  check_one(8, 13, "  a = s8[7,13] parameter(0)\n  b = s8[13,5] parameter(1)\n",
            "s32[7,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}");
  check_one(9, 13, "  a = f16[7,13] parameter(0)\n  b = f16[13,5] parameter(1)\n",
            "f16[7,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}");
  check_one(10, 13, "  a = bf16[7,13] parameter(0)\n  b = bf16[13,5] parameter(1)\n",
            "f32[7,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}");
  check_one(11, 13, "  a = f64[7,13] parameter(0)\n  b = f64[13,5] parameter(1)\n",
            "f64[7,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}");
}
END_TEST

#define NHWC "dim_labels=b01f_01io->b01f"

START_TEST(convolution) {
  const char *x = "  x = f32[2,7,13,3] parameter(0)\n";
  char params[256];
  snprintf(params, sizeof params, "%s  k = f32[3,3,3,4] parameter(1)\n", x);
  /* same padding */
  check_one(1, 27, params, "f32[2,7,13,4] convolution(x, k), "
                           "window={size=3x3 pad=1_1x1_1}, " NHWC);
  /* window reversal */
  check_one(2, 27, params, "f32[2,7,13,4] convolution(x, k), "
                           "window={size=3x3 pad=1_1x1_1 rhs_reversal=1x0}, " NHWC);
  /* window (rhs) dilation */
  check_one(3, 27, params, "f32[2,3,11,4] convolution(x, k), "
                           "window={size=3x3 rhs_dilate=2x1}, " NHWC);
  /* base (lhs) dilation: a transposed convolution */
  check_one(4, 27, params, "f32[2,15,27,4] convolution(x, k), "
                           "window={size=3x3 pad=2_2x2_2 lhs_dilate=2x2}, " NHWC);
  /* strides and asymmetric padding */
  snprintf(params, sizeof params, "%s  k = f32[3,2,3,4] parameter(1)\n", x);
  check_one(5, 18, params, "f32[2,3,5,4] convolution(x, k), "
                           "window={size=3x2 stride=2x3 pad=0_1x2_0}, " NHWC);
  /* depthwise: feature_group_count = input features */
  check_one(6, 9, "  x = f32[2,7,7,4] parameter(0)\n  k = f32[3,3,1,8] parameter(1)\n",
            "f32[2,7,7,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
            ", feature_group_count=4");
  /* grouped: 3 groups of 2 input features */
  check_one(7, 18, "  x = f32[1,5,5,6] parameter(0)\n  k = f32[3,3,2,6] parameter(1)\n",
            "f32[1,5,5,6] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC
            ", feature_group_count=3");
  /* batch groups: the input batch splits over the output features */
  check_one(8, 27, "  x = f32[4,5,5,3] parameter(0)\n  k = f32[3,3,3,6] parameter(1)\n",
            "f32[2,3,3,6] convolution(x, k), window={size=3x3}, " NHWC
            ", batch_group_count=2");
  /* 1-D, strided */
  check_one(9, 12, "  x = f32[2,13,3] parameter(0)\n  k = f32[4,3,5] parameter(1)\n",
            "f32[2,5,5] convolution(x, k), window={size=4 stride=3 pad=1_2}, "
            "dim_labels=b0f_0io->b0f");
  /* NCHW / OIHW */
  check_one(10, 27, "  x = f32[2,3,7,13] parameter(0)\n  k = f32[4,3,3,3] parameter(1)\n",
            "f32[2,4,5,11] convolution(x, k), window={size=3x3}, "
            "dim_labels=bf01_oi01->bf01");
  /* 3-D */
  check_one(11, 16, "  x = f32[1,5,4,3,2] parameter(0)\n  k = f32[2,2,2,2,3] parameter(1)\n",
            "f32[1,4,3,2,3] convolution(x, k), window={size=2x2x2}, "
            "dim_labels=b012f_012io->b012f");
  /* integer and half precision */
  check_one(12, 18, "  x = s32[1,7,7,2] parameter(0)\n  k = s32[3,3,2,3] parameter(1)\n",
            "s32[1,7,7,3] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC);
  check_one(13, 18, "  x = f16[1,7,7,2] parameter(0)\n  k = f16[3,3,2,3] parameter(1)\n",
            "f16[1,7,7,3] convolution(x, k), window={size=3x3 pad=1_1x1_1}, " NHWC);
}
END_TEST

START_TEST(batch_norm_inference) {
  for (uint64_t seed = 0; seed < 3; seed++) {
    check_hlo("HloModule bn\n\nENTRY main {\n  x = f32[2,7,13,3] parameter(0)\n"
              "  s = f32[3] parameter(1)\n  o = f32[3] parameter(2)\n"
              "  m = f32[3] parameter(3)\n  v = f32[3] parameter(4)\n"
              "  ROOT y = f32[2,7,13,3] batch-norm-inference(x, s, o, m, v), "
              "epsilon=0.001, feature_index=3\n}\n",
              seed, 0, 0);
    check_hlo("HloModule bn\n\nENTRY main {\n  x = f16[7,5] parameter(0)\n"
              "  s = f16[7] parameter(1)\n  o = f16[7] parameter(2)\n"
              "  m = f16[7] parameter(3)\n  v = f16[7] parameter(4)\n"
              "  ROOT y = f16[7,5] batch-norm-inference(x, s, o, m, v), "
              "epsilon=0.5, feature_index=0\n}\n",
              seed + 10, 0, 0);
  }
}
END_TEST

/* Training and grad expand into f32 reductions (batchnorm_train_expand.c,
 * in the pipeline's first step) while the evaluator sums in f64.  The
 * arguments are integers in [-8, 8] and epsilon is 1/2, so
 * r = rsqrt(v + 1/2) <= 1.5 and no sum overflows: sums of 91 terms below
 * 2^8 differ by f32 rounding, about 91 * 2^-24 * 2^8 < 2e-3 absolute in a
 * sum, which the divisions by N = 91 bring to the order of 1e-5 in the
 * results: atol and rtol 1e-4. */
START_TEST(batch_norm_training_grad) {
  for (uint64_t seed = 0; seed < 3; seed++)
    cgt_check_with("HloModule bn\n\nENTRY main {\n  x = f32[7,13,3] parameter(0)\n"
                   "  s = f32[3] parameter(1)\n  o = f32[3] parameter(2)\n"
                   "  t = (f32[7,13,3], f32[3], f32[3]) batch-norm-training(x, s, o), "
                   "epsilon=0.5, feature_index=2\n"
                   "  y = f32[7,13,3] get-tuple-element(t), index=0\n"
                   "  m = f32[3] get-tuple-element(t), index=1\n"
                   "  v = f32[3] get-tuple-element(t), index=2\n"
                   "  g = (f32[7,13,3], f32[3], f32[3]) batch-norm-grad(x, s, m, v, y), "
                   "epsilon=0.5, feature_index=2\n"
                   "  ROOT r = ((f32[7,13,3], f32[3], f32[3]), (f32[7,13,3], f32[3], f32[3])) "
                   "tuple(t, g)\n}\n",
                   seed, true, true, 1e-4, 1e-4);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_contract");
  TCase *t = tcase_create("contract");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, dot);
  tcase_add_test(t, convolution);
  tcase_add_test(t, batch_norm_inference);
  tcase_add_test(t, batch_norm_training_grad);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
