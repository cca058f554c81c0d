/*
 * test_codegen_legalize.c — the HLO forms codegen/legalize.c rewrites
 * before emission, compiled and run through the JIT against the evaluator
 * (test_codegen_util.h), both as written and after the pass pipeline
 * (which fuses the rewritten bitcasts and contractions with their
 * neighbours, and plans their buffers, in-place reuse included):
 *
 *   bitcasts that are not reshapes: layouts that permute the physical
 *   order (also with the dims unchanged, a transpose in disguise), and
 *   changes of element type at equal and at different widths;
 *   tuple-shaped entry parameters (flattened into one argument per leaf,
 *   named NAME_i) and tuple-shaped constants;
 *   fusions whose computation holds a sort, a scatter, a while or a
 *   nested fusion (inlined);
 *   dots and convolutions producing pred (OR of ANDs, counted in s32).
 *
 * Tolerance: zero.  The rewrites move values or count booleans; the few
 * float sums are of products of small integers (check_hlo_exact).
 */
#include "test_codegen_util.h"

#define SUM "sum { a = f32[] parameter(0)\n b = f32[] parameter(1)\n ROOT s = f32[] add(a, b) }\n"
#define LESS                                                                        \
  "less { a = f32[] parameter(0)\n b = f32[] parameter(1)\n"                        \
  " ROOT c = pred[] compare(a, b), direction=LT }\n"

/* The differential check, as written and through the pass pipeline. */
static void check_both(const char *text, bool small_ints) {
  cgt_check_with(text, 7, small_ints, false, 0, 0);
  cgt_check_with(text, 8, small_ints, true, 0, 0);
}

START_TEST(bitcast_layouts) {
  check_both("HloModule b\n\nENTRY main {\n"
             "  x = f32[7,13]{0,1} parameter(0)\n"
             "  y = f32[3,5,4] parameter(1)\n"
             "  a = f32[91]{0} bitcast(x)\n"
             /* same dims, transposed memory order: a transpose */
             "  b = f32[3,5,4]{0,2,1} bitcast(y)\n"
             "  c = f32[5,12]{0,1} bitcast(y)\n"
             "  d = f32[13,7]{1,0} bitcast(x)\n"
             /* consumed by arithmetic, so the pipeline fuses it */
             "  e = f32[3,5,4] add(b, y)\n"
             "  ROOT t = (f32[91], f32[3,5,4], f32[5,12], f32[13,7], f32[3,5,4]) "
             "tuple(a, b, c, d, e)\n}\n",
             true);
}
END_TEST

START_TEST(bitcast_element_types) {
  check_both("HloModule b\n\nENTRY main {\n"
             "  x = f32[6] parameter(0)\n"
             "  y = u8[4,6] parameter(1)\n"
             "  z = s64[3]{0} parameter(2)\n"
             "  w = u16[2,4]{0,1} parameter(3)\n"
             "  a = s32[2,3] bitcast(x)\n"
             "  b = u8[24] bitcast(x)\n"
             "  c = f32[3,2]{0,1} bitcast(y)\n"
             "  d = s32[6] bitcast(z)\n"
             "  e = f32[4] bitcast(w)\n"
             "  f = s16[3,2,2]{1,0,2} bitcast(a)\n"
             "  ROOT t = (s32[2,3], u8[24], f32[3,2], s32[6], f32[4], s16[3,2,2]) "
             "tuple(a, b, c, d, e, f)\n}\n",
             false);
}
END_TEST

START_TEST(tuple_parameters_and_constants) {
  check_both("HloModule t\n\nENTRY main {\n"
             "  p = (f32[3], (s32[2], f32[])) parameter(0)\n"
             "  q = f32[3] parameter(1)\n"
             "  k = (f32[3], (s32[2], pred[])) constant(({1, 2, 3}, ({-4, 5}, true)))\n"
             "  p0 = f32[3] get-tuple-element(p), index=0\n"
             "  p1 = (s32[2], f32[]) get-tuple-element(p), index=1\n"
             "  p11 = f32[] get-tuple-element(p1), index=1\n"
             "  k0 = f32[3] get-tuple-element(k), index=0\n"
             "  b = f32[3] broadcast(p11), dimensions={}\n"
             "  s = f32[3] add(p0, k0)\n"
             "  s2 = f32[3] multiply(s, b)\n"
             "  s3 = f32[3] add(s2, q)\n"
             "  ROOT t = (f32[3], (s32[2], f32[]), (f32[3], (s32[2], pred[]))) "
             "tuple(s3, p1, k)\n}\n",
             true);
}
END_TEST

/* The flat arguments and their names. */
START_TEST(tuple_parameter_signature) {
  HloModule *m = ck_parse_verified("HloModule t\n\nENTRY main {\n"
                                   "  a = f32[2] parameter(0)\n"
                                   "  p = (f32[3], (s32[2], f32[])) parameter(1)\n"
                                   "  ROOT r = f32[2] negate(a)\n}\n");
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &(CgOptions){.name = "n"}, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  const CgSignature *s = cg_program_signature(p);
  ck_assert_int_eq(s->nargs, 4);
  ck_assert_str_eq(s->args[0].name, "a");
  ck_assert_str_eq(s->args[1].name, "p_0");
  ck_assert_str_eq(s->args[2].name, "p_1_0");
  ck_assert_str_eq(s->args[3].name, "p_1_1");
  ck_assert_int_eq(s->args[2].type, HLO_S32);
  ck_assert_int_eq(s->args[3].rank, 0);
  cg_program_free(p);
  /* Names given by the caller are per parameter, and flattened with it. */
  const char *names[] = {"first", "second"};
  e = cg_compile(m, &(CgOptions){.name = "n", .arg_names = names, .narg_names = 2}, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  s = cg_program_signature(p);
  ck_assert_str_eq(s->args[0].name, "first");
  ck_assert_str_eq(s->args[3].name, "second_1_1");
  cg_program_free(p);
  /* A count that matches neither is an error. */
  e = cg_compile(m, &(CgOptions){.name = "n", .arg_names = names, .narg_names = 1}, &p);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(strstr(hlo_error_message(e), "1 argument names given for 2"));
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

START_TEST(fusions_that_are_not_one_kernel) {
  check_both("HloModule f\n" SUM LESS
             "sorted { a = f32[4,9] parameter(0)\n n = f32[4,9] negate(a)\n"
             " s = f32[4,9] sort(n), dimensions={1}, to_apply=less\n"
             " ROOT e = f32[4,9] multiply(s, a) }\n"
             "scattered { a = f32[9] parameter(0)\n i = s32[5,1] parameter(1)\n"
             " u = f32[5] parameter(2)\n"
             " s = f32[9] scatter(a, i, u), update_window_dims={}, inserted_window_dims={0},"
             " scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=sum\n"
             " ROOT m = f32[9] multiply(s, a) }\n"
             "cond { p = (s32[], f32[9]) parameter(0)\n i = s32[] get-tuple-element(p), index=0\n"
             " n = s32[] constant(3)\n ROOT c = pred[] compare(i, n), direction=LT }\n"
             "body { p = (s32[], f32[9]) parameter(0)\n i = s32[] get-tuple-element(p), index=0\n"
             " v = f32[9] get-tuple-element(p), index=1\n one = s32[] constant(1)\n"
             " j = s32[] add(i, one)\n w = f32[9] add(v, v)\n"
             " ROOT t = (s32[], f32[9]) tuple(j, w) }\n"
             "looped { a = f32[9] parameter(0)\n z = s32[] constant(0)\n"
             " t = (s32[], f32[9]) tuple(z, a)\n"
             " w = (s32[], f32[9]) while(t), condition=cond, body=body\n"
             " ROOT r = f32[9] get-tuple-element(w), index=1 }\n"
             "inner { a = f32[9] parameter(0)\n ROOT n = f32[9] negate(a) }\n"
             "outer { a = f32[9] parameter(0)\n f = f32[9] fusion(a), kind=kLoop, calls=inner\n"
             " s = f32[9] sort(f), dimensions={0}, to_apply=less\n"
             " ROOT r = f32[9] add(s, a) }\n"
             "ENTRY main {\n  x = f32[4,9] parameter(0)\n  y = f32[9] parameter(1)\n"
             "  i = s32[5,1] parameter(2)\n  u = f32[5] parameter(3)\n"
             "  a = f32[4,9] fusion(x), kind=kLoop, calls=sorted\n"
             "  b = f32[9] fusion(y, i, u), kind=kLoop, calls=scattered\n"
             "  c = f32[9] fusion(y), kind=kLoop, calls=looped\n"
             "  d = f32[9] fusion(y), kind=kLoop, calls=outer\n"
             "  ROOT t = (f32[4,9], f32[9], f32[9], f32[9]) tuple(a, b, c, d)\n}\n",
             true);
}
END_TEST

START_TEST(pred_contractions) {
  check_both("HloModule p\n\nENTRY main {\n"
             "  a = pred[5,7] parameter(0)\n  b = pred[7,3] parameter(1)\n"
             "  c = s32[5,7] parameter(2)\n"
             "  x = pred[1,6,6,2] parameter(3)\n  k = pred[3,3,2,4] parameter(4)\n"
             "  d = pred[5,3] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
             /* s32 operands with a pred result: converted to pred first */
             "  e = pred[5,5] dot(c, c), lhs_contracting_dims={1}, rhs_contracting_dims={1}\n"
             "  f = pred[1,4,4,4] convolution(x, k), window={size=3x3}, dim_labels=b01f_01io->b01f\n"
             /* 1·1 + (-1)·1 = 0, yet both products are true */
             "  u = s32[2] constant({1, -1})\n  v = s32[2] constant({1, 1})\n"
             "  g = pred[] dot(u, v), lhs_contracting_dims={0}, rhs_contracting_dims={0}\n"
             "  ROOT t = (pred[5,3], pred[5,5], pred[1,4,4,4], pred[]) tuple(d, e, f, g)\n}\n",
             false);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_legalize");
  TCase *t = tcase_create("legalize");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, bitcast_layouts);
  tcase_add_test(t, bitcast_element_types);
  tcase_add_test(t, tuple_parameters_and_constants);
  tcase_add_test(t, tuple_parameter_signature);
  tcase_add_test(t, fusions_that_are_not_one_kernel);
  tcase_add_test(t, pred_contractions);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
