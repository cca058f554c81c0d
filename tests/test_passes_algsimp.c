/*
 * test_passes_algsimp.c — algebraic simplification, one test per family of
 * rules: HLO text in, expected graph out, values unchanged (bit-exact
 * except where a rule reassociates), and a module it leaves alone.
 */
#include "passes_util.h"

/* Rules create instructions that other rules then see: run to the fixed
 * point, as the pipeline's simplify group does. */
static bool algsimp_fixpoint(HloModule *m) {
  bool any = false;
  while (pass_algsimp(m)) any = true;
  return any;
}

static HloModule *simp(const char *body) {
  char text[4096];
  snprintf(text, sizeof text, "HloModule m\nENTRY e {\n%s}\n", body);
  return pu_differential(text, algsimp_fixpoint, true, 0, 0);
}

static void expect_root(const char *body, const char *root) {
  HloModule *m = simp(body);
  ck_assert_str_eq(pu_root(m), root);
  hlo_module_free(m);
}

START_TEST(identities) {
  expect_root("  x = f32[4] parameter(0)\n  z = f32[] constant(0)\n"
              "  b = f32[4] broadcast(z), dimensions={}\n  ROOT r = f32[4] add(b, x)\n",
              "x");
  expect_root("  x = s32[4] parameter(0)\n  o = s32[4] constant({1,1,1,1})\n"
              "  ROOT r = s32[4] multiply(x, o)\n",
              "x");
  expect_root("  x = f32[4] parameter(0)\n  o = f32[] constant(1)\n"
              "  b = f32[4] broadcast(o), dimensions={}\n  ROOT r = f32[4] divide(x, b)\n",
              "x");
  expect_root("  x = f32[4] parameter(0)\n  ROOT r = f32[4] maximum(x, x)\n", "x");
  expect_root("  x = f32[4] parameter(0)\n  n = f32[4] negate(x)\n  ROOT r = f32[4] negate(n)\n",
              "x");
  expect_root("  x = f32[4] parameter(0)\n  ROOT r = f32[4] convert(x)\n", "x");
}
END_TEST

START_TEST(shape_chains) {
  expect_root("  x = f32[2,3] parameter(0)\n  a = f32[6] reshape(x)\n"
              "  ROOT r = f32[3,2] reshape(a)\n",
              "reshape(x)");
  expect_root("  x = f32[2,3,4] parameter(0)\n  a = f32[3,4,2] transpose(x), dimensions={1,2,0}\n"
              "  ROOT r = f32[2,3,4] transpose(a), dimensions={2,0,1}\n",
              "x");
  expect_root("  x = f32[3] parameter(0)\n  a = f32[2,3] broadcast(x), dimensions={1}\n"
              "  ROOT r = f32[4,2,3] broadcast(a), dimensions={1,2}\n",
              "broadcast(x)");
  /* JAX's bias: [16] → [1,16] → identity broadcast → [16] → [4,16]. */
  expect_root("  b = f32[16] parameter(0)\n  r1 = f32[1,16] reshape(b)\n"
              "  i = f32[1,16] broadcast(r1), dimensions={0,1}\n  r2 = f32[16] reshape(i)\n"
              "  ROOT r = f32[4,16] broadcast(r2), dimensions={1}\n",
              "broadcast(b)");
  expect_root("  x = f32[4,1,3] parameter(0)\n"
              "  ROOT r = f32[1,4,3] transpose(x), dimensions={1,0,2}\n",
              "reshape(x)");
  /* BatchMatMul's weights given a batch dim of 1: a reshape. */
  expect_root("  w = f32[3,4] parameter(0)\n"
              "  ROOT r = f32[1,3,4] broadcast(w), dimensions={1,2}\n",
              "reshape(w)");
}
END_TEST

/* real and imag of complex(a, b) are a and b, also through data
 * movement, rebuilt on the part; an op that mixes the parts stays. */
START_TEST(complex_parts) {
  expect_root("  a = f32[2,3] parameter(0)\n  b = f32[2,3] parameter(1)\n"
              "  c = c64[2,3] complex(a, b)\n  t = c64[3,2] transpose(c), dimensions={1,0}\n"
              "  s = c64[1,2] slice(t), slice={[1:2], [0:2]}\n"
              "  ROOT r = f32[1,2] imag(s)\n",
              "slice(transpose(b))");
  HloModule *m = simp("  a = f32[2,3] parameter(0)\n  b = f32[2,3] parameter(1)\n"
                      "  c = c64[2,3] complex(a, b)\n  t = c64[3,2] transpose(c), dimensions={1,0}\n"
                      "  ROOT r = f32[3,2] real(t)\n");
  ck_assert_str_eq(pu_root(m), "transpose(a)");
  hlo_module_free(m);
  hlo_module_free(pu_differential("HloModule m\nENTRY e {\n"
                                  "  a = f32[2] parameter(0)\n  b = f32[2] parameter(1)\n"
                                  "  c = c64[2] complex(a, b)\n  d = c64[2] multiply(c, c)\n"
                                  "  ROOT r = f32[2] real(d)\n}\n",
                                  pass_algsimp, false, 0, 0));
}
END_TEST

START_TEST(slices_pads_concats) {
  expect_root("  x = f32[4,3] parameter(0)\n  ROOT r = f32[4,3] slice(x), slice={[0:4], [0:3]}\n",
              "x");
  expect_root("  x = f32[4] parameter(0)\n  y = f32[5] parameter(1)\n"
              "  c = f32[9] concatenate(x, y), dimensions={0}\n"
              "  ROOT r = f32[2] slice(c), slice={[5:7]}\n",
              "slice(y)");
  expect_root("  x = f32[4] parameter(0)\n  z = f32[] constant(0)\n"
              "  ROOT r = f32[4] pad(x, z), padding=0_0\n",
              "x");
}
END_TEST

START_TEST(scalar_work_stays_scalar) {
  expect_root("  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
              "  ba = f32[4,5] broadcast(a), dimensions={}\n  bb = f32[4,5] broadcast(b), dimensions={}\n"
              "  ROOT r = f32[4,5] multiply(ba, bb)\n",
              "broadcast(multiply(a, b))");
  /* The same without dimensions= at all: the lists are empty, with no
   * array behind them (compared with memcmp, that was undefined: found by
   * fuzz_hlo_eval under UBSan). */
  expect_root("  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
              "  ba = f32[4,5] broadcast(a)\n  bb = f32[4,5] broadcast(b)\n"
              "  ROOT r = f32[4,5] multiply(ba, bb)\n",
              "broadcast(multiply(a, b))");
  expect_root("  a = f32[4] parameter(0)\n  ba = f32[4,5] broadcast(a), dimensions={0}\n"
              "  ROOT r = f32[4,5] exponential(ba)\n",
              "broadcast(exponential(a))");
  /* The [n] → [n,1] → [n] dance around a reduction result. */
  expect_root("  x = f32[3] parameter(0)\n  r1 = f32[3,1] reshape(x)\n  c = f32[] constant(7)\n"
              "  b = f32[3,1] broadcast(c), dimensions={}\n  d = f32[3,1] divide(r1, b)\n"
              "  s = f32[3,1] sqrt(d)\n  ROOT r = f32[3] reshape(s)\n",
              "sqrt(divide(x, broadcast(constant)))");
}
END_TEST

START_TEST(exact_reciprocals_only) {
  expect_root("  x = f32[4] parameter(0)\n  c = f32[] constant(8)\n"
              "  b = f32[4] broadcast(c), dimensions={}\n  ROOT r = f32[4] divide(x, b)\n",
              "multiply(x, broadcast(constant))");
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  c = f32[] constant(3)\n"
      "  b = f32[4] broadcast(c), dimensions={}\n  ROOT r = f32[4] divide(x, b)\n}\n",
      pass_algsimp, false, 0, 0));
}
END_TEST

START_TEST(transposes_fold_into_dot_and_convolution) {
  HloModule *m = simp("  a = f32[8,4] parameter(0)\n  b = f32[8,3] parameter(1)\n"
                      "  t = f32[4,8] transpose(a), dimensions={1,0}\n"
                      "  ROOT d = f32[4,3] dot(t, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n");
  ck_assert_str_eq(pu_root(m), "dot(a, b)");
  ck_assert_int_eq(m->entry->root->dot.lhs_contracting.v[0], 0);
  hlo_module_free(m);
  m = simp("  x = f32[1,3,5,5] parameter(0)\n  k = f32[3,3,3,2] parameter(1)\n"
           "  t = f32[1,5,5,3] transpose(x), dimensions={0,2,3,1}\n"
           "  c = f32[1,3,3,2] convolution(t, k), window={size=3x3}, dim_labels=b01f_01io->b01f\n"
           "  ROOT r = f32[1,2,3,3] transpose(c), dimensions={0,3,1,2}\n");
  ck_assert_str_eq(pu_root(m), "convolution(x, k)");
  hlo_module_free(m);
}
END_TEST

START_TEST(zero_pad_folds_into_convolution_window) {
  /* ZeroPadding2D then a strided convolution: the pad becomes window
   * padding (bit-exact: the padded taps only ever added zeros). */
  static const char *const conv =
      "  k = f32[3,3,2,1] constant({{{{1},{-2}},{{0.5},{3}},{{-1},{1}}},{{{2},{1}},{{-3},{0.25}},"
      "{{1},{1}}},{{{0},{-1}},{{2},{2}},{{-0.5},{4}}}})\n"
      "  ROOT c = f32[1,3,3,1] convolution(p, k), window={size=3x3 stride=2x2}, "
      "dim_labels=b01f_01io->b01f\n";
  char body[2048];
  snprintf(body, sizeof body,
           "  x = f32[1,6,6,2] parameter(0)\n  z = f32[] constant(0)\n"
           "  p = f32[1,7,7,2] pad(x, z), padding=0_0x0_1x0_1x0_0\n%s", conv);
  HloModule *m = simp(body);
  ck_assert_str_eq(pu_root(m), "convolution(x, constant)");
  ck_assert_int_eq(m->entry->root->window[0].pad_hi, 1);
  ck_assert_int_eq(m->entry->root->window[1].pad_lo, 0);
  hlo_module_free(m);
  /* Padding with anything but zero is data. */
  snprintf(body, sizeof body,
           "HloModule m\nENTRY e {\n  x = f32[1,6,6,2] parameter(0)\n  z = f32[] constant(1)\n"
           "  p = f32[1,7,7,2] pad(x, z), padding=0_0x0_1x0_1x0_0\n%s}\n", conv);
  hlo_module_free(pu_differential(body, pass_algsimp, false, 0, 0));
}
END_TEST

START_TEST(algsimp_nothing_to_do) {
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4,3] parameter(0)\n  y = f32[3,5] parameter(1)\n"
      "  d = f32[4,5] dot(x, y), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
      "  t = f32[5,4] transpose(d), dimensions={1,0}\n  ROOT r = f32[5,4] exponential(t)\n}\n",
      pass_algsimp, false, 0, 0));
  /* Broadcasts that repeat, reorder, or spread a scalar are not reshapes. */
  static const char *const broadcasts[] = {
      "  w = f32[3,4] parameter(0)\n  ROOT r = f32[2,3,4] broadcast(w), dimensions={1,2}\n",
      "  w = f32[4,4] parameter(0)\n  ROOT r = f32[1,4,4] broadcast(w), dimensions={2,1}\n",
      "  s = f32[] parameter(0)\n  ROOT r = f32[1,1] broadcast(s), dimensions={}\n",
  };
  for (size_t i = 0; i < sizeof broadcasts / sizeof *broadcasts; i++) {
    char text[512];
    snprintf(text, sizeof text, "HloModule m\nENTRY e {\n%s}\n", broadcasts[i]);
    hlo_module_free(pu_differential(text, pass_algsimp, false, 0, 0));
  }
  /* A bitcast-convert between widths adds or drops the last dim, so the
   * reshape or broadcast of its operand stays where it is (jax.random's
   * rbg keys: u32[4] reshaped to u32[2,2], then read as u64[2]). */
  static const char *const widths[] = {
      "  x = u32[4] parameter(0)\n  r = u32[2,2] reshape(x)\n"
      "  ROOT b = u64[2] bitcast-convert(r)\n",
      "  x = u64[1,3] parameter(0)\n  r = u64[3] reshape(x)\n"
      "  ROOT b = u32[3,2] bitcast-convert(r)\n",
      "  x = u32[2] parameter(0)\n  r = u32[3,2] broadcast(x), dimensions={1}\n"
      "  ROOT b = u64[3] bitcast-convert(r)\n",
  };
  for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
    char text[512];
    snprintf(text, sizeof text, "HloModule m\nENTRY e {\n%s}\n", widths[i]);
    hlo_module_free(pu_differential(text, pass_algsimp, false, 0, 0));
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_algsimp");
  TCase *t = tcase_create("algsimp");
  tcase_add_test(t, identities);
  tcase_add_test(t, shape_chains);
  tcase_add_test(t, complex_parts);
  tcase_add_test(t, slices_pads_concats);
  tcase_add_test(t, scalar_work_stays_scalar);
  tcase_add_test(t, exact_reciprocals_only);
  tcase_add_test(t, transposes_fold_into_dot_and_convolution);
  tcase_add_test(t, zero_pad_folds_into_convolution_window);
  tcase_add_test(t, algsimp_nothing_to_do);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
