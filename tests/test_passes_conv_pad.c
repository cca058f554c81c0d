/*
 * test_passes_conv_pad.c — conv-pad: a convolution's zero padding becomes
 * a pad of its input where the backend asks for it and that is exact
 * (finite constant weights).  HLO text in, the expected graph out, the
 * evaluator's results before and after equal to the bit; and the
 * convolutions it must leave alone: weights not constant or not finite,
 * input dilation, negative padding, groups, no padding, a backend that
 * does not ask or whose kernel keeps the padding (conv_keeps_padding).
 */
#include "passes_util.h"

static bool conv_pad(HloModule *m) { return pass_conv_pad(m, &pu_capable); }

static bool conv_pad_not_asked(HloModule *m) {
  PassPolicy p = pu_capable;
  p.explicit_conv_padding = false;
  return pass_conv_pad(m, &p);
}

/* A backend whose kernel takes the padding of convolutions with 4 output
 * features itself (it reads its own facts: a byte it left in target). */
static bool keeps_four(const PassPolicy *p, const HloInstr *x) {
  return p->target[0] == 7 && x->shape.dims[x->conv.out_feature] == 4;
}

static bool conv_pad_kept(HloModule *m) {
  PassPolicy p = pu_capable;
  p.conv_keeps_padding = keeps_four;
  p.target[0] = 7;
  return pass_conv_pad(m, &p);
}

/* A 3x3 convolution of x [1,5,6,3] by a constant kernel [3,3,3,4] holding
 * `w` (then small integers), with `window`, `extra` attributes. */
static char *conv_text(const char *w, const char *window, const char *extra, int out_h,
                       int out_w) {
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule c\n\nENTRY main {\n  x = f32[1,5,6,3] parameter(0)\n"
                     "  k = f32[3,3,3,4] constant({");
  for (int a = 0; a < 3; a++) {
    hlo_str_printf(&s, "%s{", a ? ", " : "");
    for (int b = 0; b < 3; b++) {
      hlo_str_printf(&s, "%s{", b ? ", " : "");
      for (int c = 0; c < 3; c++) {
        hlo_str_printf(&s, "%s{", c ? ", " : "");
        for (int d = 0; d < 4; d++)
          hlo_str_printf(&s, "%s%s", d ? ", " : "",
                         a + b + c + d == 0 ? w : (a * 3 + b + c + d) % 2 ? "1.5" : "-0.25");
        hlo_str_printf(&s, "}");
      }
      hlo_str_printf(&s, "}");
    }
    hlo_str_printf(&s, "}");
  }
  hlo_str_printf(&s, "})\n  ROOT y = f32[1,%d,%d,4] convolution(x, k), window={%s}, "
                     "dim_labels=b01f_01io->b01f%s\n}\n",
                 out_h, out_w, window, extra);
  return hlo_str_take(&s);
}

START_TEST(padding_becomes_a_pad) {
  char *t = conv_text("2", "size=3x3 pad=1_1x2_0", "", 5, 6);
  HloModule *m = pu_differential(t, conv_pad, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "convolution(pad(x, constant), constant)");
  const HloInstr *y = m->entry->root, *p = y->operands[0];
  for (int s = 0; s < 2; s++) ck_assert(!y->window[s].pad_lo && !y->window[s].pad_hi);
  ck_assert_int_eq(p->padding[1].lo, 1);
  ck_assert_int_eq(p->padding[1].hi, 1);
  ck_assert_int_eq(p->padding[2].lo, 2);
  ck_assert_int_eq(p->padding[2].hi, 0);
  ck_assert_int_eq(p->padding[0].lo + p->padding[3].hi, 0);
  ck_assert(!conv_pad(m)); /* nothing left to do */
  hlo_module_free(m);
  free(t);
}
END_TEST

START_TEST(strided_and_dilated_windows_too) {
  char *t = conv_text("2", "size=3x3 stride=2x2 pad=1_1x1_1 rhs_dilate=1x2", "", 3, 2);
  HloModule *m = pu_differential(t, conv_pad, true, 0, 0);
  hlo_module_free(m);
  free(t);
}
END_TEST

START_TEST(left_alone) {
  static const struct {
    const char *w, *window, *extra;
    int h, w_out;
  } cases[] = {
      {"inf", "size=3x3 pad=1_1x1_1", "", 5, 6},    /* 0 × inf is NaN, a skip is not */
      {"nan", "size=3x3 pad=1_1x1_1", "", 5, 6},
      {"2", "size=3x3", "", 3, 4},                   /* no padding */
      {"2", "size=3x3 pad=-1_1x1_1", "", 3, 6},      /* a crop */
      {"2", "size=3x3 pad=2_2x2_2 lhs_dilate=2x2", "", 11, 13}, /* transposed */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *t = conv_text(cases[i].w, cases[i].window, cases[i].extra, cases[i].h, cases[i].w_out);
    hlo_module_free(pu_differential(t, conv_pad, false, 0, 0));
    free(t);
  }
  /* A kernel that is not a constant, and groups. */
  hlo_module_free(pu_differential(
      "HloModule p\n\nENTRY main {\n  x = f32[1,5,6,3] parameter(0)\n"
      "  k = f32[3,3,3,4] parameter(1)\n"
      "  ROOT y = f32[1,5,6,4] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
      "dim_labels=b01f_01io->b01f\n}\n",
      conv_pad, false, 0, 0));
  hlo_module_free(pu_differential(
      "HloModule g\n\nENTRY main {\n  x = f32[1,5,6,3] parameter(0)\n"
      "  k = f32[3,3,1,3] constant({{{{1,2,3}},{{1,2,3}},{{1,2,3}}},{{{1,2,3}},{{1,2,3}},"
      "{{1,2,3}}},{{{1,2,3}},{{1,2,3}},{{1,2,3}}}})\n"
      "  ROOT y = f32[1,5,6,3] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
      "dim_labels=b01f_01io->b01f, feature_group_count=3\n}\n",
      conv_pad, false, 0, 0));
  /* A backend that does not ask, and one whose kernel keeps it. */
  char *t = conv_text("2", "size=3x3 pad=1_1x1_1", "", 5, 6);
  hlo_module_free(pu_differential(t, conv_pad_not_asked, false, 0, 0));
  hlo_module_free(pu_differential(t, conv_pad_kept, false, 0, 0));
  free(t);
}
END_TEST

START_TEST(too_large_once_padded) {
  /* A fuzzed config found this: an input of 0.75 TB, within a buffer's
   * 2^40 bytes, whose padded copy is not; the window's stride keeps the
   * result small.  The pass used to abort ("pass built an ill-shaped
   * instruction"); now the convolution keeps its padding. */
  const char *t = "HloModule big\n\nENTRY main {\n"
                  "  x = f32[1,23333333338,1,8] parameter(0)\n"
                  "  k = f32[3,1,8,2] constant(1)\n"
                  "  ROOT y = f32[1,2,1,2] convolution(x, k), "
                  "window={size=3x1 stride=23333333338x1 pad=9000000000_9000000000x0_0}, "
                  "dim_labels=b01f_01io->b01f\n}\n";
  HloModule *m = NULL;
  HloError *e = hlo_parse(t, strlen(t), "big.hlo", &m);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  e = hlo_verify(m);
  ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
  ck_assert(!conv_pad(m));
  ck_assert_str_eq(pu_root(m), "convolution(x, constant)");
  ck_assert_int_eq(m->entry->root->window[0].pad_lo, 9000000000);
  ck_assert_int_eq(pu_count(m, HLO_OP_CONSTANT), 1); /* the zero it built for the pad is gone */
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_conv_pad");
  TCase *t = tcase_create("conv_pad");
  tcase_add_test(t, padding_becomes_a_pad);
  tcase_add_test(t, strided_and_dilated_windows_too);
  tcase_add_test(t, left_alone);
  tcase_add_test(t, too_large_once_padded);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
