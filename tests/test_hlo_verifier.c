/*
 * test_hlo_verifier.c — hlo_verify on HLO text.
 *
 * Shape rules: modules that parse but break one rule of one opcode family,
 * with the exact message asserted.  Structure: a module parses well, then
 * the test breaks one invariant the text format cannot express (an operand
 * count, a use list, a parameter number, the root, a cycle, a called
 * computation) through the IR.  Positive: every module of the JAX corpus in
 * testdata/hlo, unoptimized and XLA:CPU-optimized, verifies, except those
 * check_util.c lists as refused for now, with the message listed there.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

/* text parses but does not verify, failing with exactly `want`. */
static void assert_rejects(const char *text, const char *want) {
  HloModule *m = ck_parse(text);
  HloError *e = hlo_verify(m);
  ck_assert_msg(e != NULL, "verified; expected \"%s\"", want);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
  hlo_module_free(m);
}

/* m, broken by the caller, fails with exactly `want`. */
static void assert_broken(HloModule *m, const char *want) {
  HloError *e = hlo_verify(m);
  ck_assert_msg(e != NULL, "verified; expected \"%s\"", want);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
  hlo_module_free(m);
}

static HloInstr *find(const HloComputation *c, const char *name) {
  for (HloInstr *in = c->first; in; in = in->next)
    if (!strcmp(in->name, name)) return in;
  ck_abort_msg("no instruction %s in %s", name, c->name);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Shape rules                                                              */
/* ------------------------------------------------------------------------ */

START_TEST(elementwise_mismatch) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[2] parameter(0)\n"
                 "  b = f32[3] parameter(1)\n"
                 "  ROOT add = f32[2] add(a, b)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %add = f32[2]{0} add(%a, %b): add: "
                 "operands have different shapes f32[2]{0} and f32[3]{0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[2] parameter(0)\n"
                 "  ROOT x = f32[2] xor(a, a)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %x = f32[2]{0} xor(%a, %a): xor: "
                 "operand type f32 is not pred or an integer type");
}
END_TEST

/* One limit on a buffer, whatever declared the shape: 2^38 f64 elements
 * pass the parser's element limit but not the 2^40-byte buffer limit. */
START_TEST(buffer_too_large) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f64[] parameter(0)\n"
                 "  ROOT b = f64[274877906944] broadcast(a), dimensions={}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %b = f64[274877906944]{0} "
                 "broadcast(%a): broadcast: shape f64[274877906944] is too "
                 "large: one buffer holds at most 2^40 bytes");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  ROOT a = f64[274877906944] parameter(0)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %a = f64[274877906944]{0} "
                 "parameter(): parameter: shape f64[274877906944] is too large: one buffer "
                 "holds at most 2^40 bytes");
}
END_TEST

/* Window and padding arithmetic near 2^63 is refused, not wrapped. */
START_TEST(window_arithmetic_overflows) {
  assert_rejects("HloModule m\n"
                 "add { x = f32[] parameter(0)\n y = f32[] parameter(1)\n"
                 "  ROOT s = f32[] add(x, y) }\n"
                 "ENTRY e {\n"
                 "  a = f32[4] parameter(0)\n"
                 "  z = f32[] constant(0)\n"
                 "  ROOT r = f32[1] reduce-window(a, z), "
                 "window={size=2 pad=9223372036854775807_0}, to_apply=add\n"
                 "}\n",
                 "verifier: computation 'e', instruction %r = f32[1]{0} reduce-window(%a, %z): "
                 "reduce-window: "
                 "window dimension 0 overflows: size 2, padding 9223372036854775807_0, "
                 "dilations 1 and 1 over a base of 4");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[4] parameter(0)\n"
                 "  z = f32[] constant(0)\n"
                 "  ROOT p = f32[4] pad(a, z), padding=0_0_3074457345618258602\n"
                 "}\n",
                 "verifier: computation 'e', instruction %p = f32[4]{0} pad(%a, %z): pad: padding 0_0_3074457345618258602 of "
                 "dimension 0 overflows its size");
}
END_TEST

START_TEST(result_shape_mismatch) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[2] parameter(0)\n"
                 "  ROOT n = f32[3] negate(a)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %n = f32[3]{0} negate(%a): shape "
                 "f32[3]{0} differs from the inferred shape f32[2]{0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[2] parameter(0)\n"
                 "  ROOT lt = f32[2] compare(a, a), direction=LT\n"
                 "}\n",
                 "verifier: computation 'e', instruction %lt = f32[2]{0} compare(%a, %a): "
                 "shape f32[2]{0} differs from the inferred shape pred[2]{0}");
}
END_TEST

START_TEST(broadcast_dims_out_of_range) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[3] parameter(0)\n"
                 "  ROOT b = f32[2,3] broadcast(x), dimensions={2}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %b = f32[2,3]{1,0} broadcast(%x): "
                 "broadcast: dimensions {2}: dimension 2 is out of range for rank 2");
}
END_TEST

START_TEST(reshape_element_count) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[2,3] parameter(0)\n"
                 "  ROOT r = f32[4] reshape(x)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %r = f32[4]{0} reshape(%x): reshape: "
                 "operand f32[2,3]{1,0} has 6 elements but the result f32[4]{0} has 4");
}
END_TEST

START_TEST(transpose_not_a_permutation) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[2,3] parameter(0)\n"
                 "  ROOT t = f32[3,2] transpose(x), dimensions={0,0}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %t = f32[3,2]{1,0} transpose(%x): "
                 "transpose: dimensions {0,0} is not a permutation of 2 dims");
}
END_TEST

START_TEST(slice_out_of_range) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[2,3] parameter(0)\n"
                 "  ROOT s = f32[2,3] slice(x), slice={[0:2], [1:4]}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %s = f32[2,3]{1,0} slice(%x): slice: "
                 "[1:4:1] is out of range for dimension 1 of f32[2,3]{1,0}");
}
END_TEST

START_TEST(dot_contracting_size) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[4,3] parameter(0)\n"
                 "  b = f32[4,5] parameter(1)\n"
                 "  ROOT d = f32[4,5] dot(a, b), lhs_contracting_dims={1}, "
                 "rhs_contracting_dims={0}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[4,5]{1,0} dot(%a, %b): dot: "
                 "lhs contracting dimension 1 has size 3 but rhs contracting dimension 0 has "
                 "size 4");
}
END_TEST

START_TEST(conv_feature_mismatch) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[1,5,5,3] parameter(0)\n"
                 "  k = f32[3,3,4,8] parameter(1)\n"
                 "  ROOT y = f32[1,5,5,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
                 "dim_labels=b01f_01io->b01f\n"
                 "}\n",
                 "verifier: computation 'e', instruction %y = f32[1,5,5,8]{3,2,1,0} "
                 "convolution(%x, %k): convolution: input feature dimension has size 3 but the "
                 "kernel input feature dimension has 4 (feature_group_count 1)");
}
END_TEST

START_TEST(reduce_to_apply_arity) {
  assert_rejects("HloModule m\n"
                 "add3 {\n"
                 "  x = f32[] parameter(0)\n"
                 "  y = f32[] parameter(1)\n"
                 "  z = f32[] parameter(2)\n"
                 "  s = f32[] add(x, y)\n"
                 "  ROOT t = f32[] add(s, z)\n"
                 "}\n"
                 "ENTRY e {\n"
                 "  a = f32[4,5] parameter(0)\n"
                 "  zero = f32[] constant(0)\n"
                 "  ROOT r = f32[4] reduce(a, zero), dimensions={1}, to_apply=add3\n"
                 "}\n",
                 "verifier: computation 'e', instruction %r = f32[4]{0} reduce(%a, %zero): "
                 "reduce: to_apply must take 2 parameters (add3 has (f32[], f32[], f32[]) -> "
                 "f32[])");
}
END_TEST

START_TEST(sort_comparator_result) {
  assert_rejects("HloModule m\n"
                 "cmp {\n"
                 "  x = f32[] parameter(0)\n"
                 "  y = f32[] parameter(1)\n"
                 "  ROOT d = f32[] subtract(x, y)\n"
                 "}\n"
                 "ENTRY e {\n"
                 "  a = f32[8] parameter(0)\n"
                 "  ROOT s = f32[8] sort(a), dimensions={0}, to_apply=cmp\n"
                 "}\n",
                 "verifier: computation 'e', instruction %s = f32[8]{0} sort(%a): sort: "
                 "comparator must return pred[] (cmp has (f32[], f32[]) -> f32[])");
}
END_TEST

/* A counting loop over (i, v) whose body grows v: the state changes shape. */
START_TEST(while_body_shape) {
  assert_rejects("HloModule m\n"
                 "cond {\n"
                 "  cs = (s32[], f32[2]) parameter(0)\n"
                 "  ci = s32[] get-tuple-element(cs), index=0\n"
                 "  cn = s32[] constant(10)\n"
                 "  ROOT clt = pred[] compare(ci, cn), direction=LT\n"
                 "}\n"
                 "body {\n"
                 "  bs = (s32[], f32[2]) parameter(0)\n"
                 "  bi = s32[] get-tuple-element(bs), index=0\n"
                 "  bv = f32[2] get-tuple-element(bs), index=1\n"
                 "  bone = s32[] constant(1)\n"
                 "  bj = s32[] add(bi, bone)\n"
                 "  bw = f32[4] concatenate(bv, bv), dimensions={0}\n"
                 "  ROOT bt = (s32[], f32[4]) tuple(bj, bw)\n"
                 "}\n"
                 "ENTRY e {\n"
                 "  init = (s32[], f32[2]) parameter(0)\n"
                 "  ROOT w = (s32[], f32[2]) while(init), condition=cond, body=body\n"
                 "}\n",
                 "verifier: computation 'e', instruction %w = (s32[], f32[2]{0}) while(%init): "
                 "while: body 'body' returns (s32[], f32[4]{0}) but the loop state is (s32[], "
                 "f32[2]{0})");
}
END_TEST

START_TEST(conditional_branches_disagree) {
  assert_rejects("HloModule m\n"
                 "on_true {\n"
                 "  tp = f32[2] parameter(0)\n"
                 "  ROOT tn = f32[2] negate(tp)\n"
                 "}\n"
                 "on_false {\n"
                 "  fp = f32[2] parameter(0)\n"
                 "  ROOT fc = f32[4] concatenate(fp, fp), dimensions={0}\n"
                 "}\n"
                 "ENTRY e {\n"
                 "  p = pred[] parameter(0)\n"
                 "  x = f32[2] parameter(1)\n"
                 "  ROOT c = f32[2] conditional(p, x, x), true_computation=on_true, "
                 "false_computation=on_false\n"
                 "}\n",
                 "verifier: computation 'e', instruction %c = f32[2]{0} conditional(%p, %x, %x): "
                 "conditional: branch 0 'on_true' returns f32[2]{0} but branch 1 'on_false' "
                 "returns f32[4]{0}");
}
END_TEST

START_TEST(data_movement_rules) {
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = s32[3] parameter(0)\n"
                 "  ROOT b = s64[] bitcast-convert(x)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %b = s64[] bitcast-convert(%x): "
                 "bitcast-convert: converting s32[3]{0} to s64 needs a minor dimension of size 2");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[4] parameter(0)\n"
                 "  i = s32[2] parameter(1)\n"
                 "  ROOT d = f32[2] dynamic-slice(x, i), dynamic_slice_sizes={2}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[2]{0} dynamic-slice(%x, %i): "
                 "dynamic-slice: start index vector s32[2]{0} must be integers, one per dim of "
                 "f32[4]{0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[4,3] parameter(0)\n"
                 "  i = s32[2] parameter(1)\n"
                 "  j = s32[] parameter(2)\n"
                 "  ROOT d = f32[2,3] dynamic-slice(x, i, j), dynamic_slice_sizes={2,3}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[2,3]{1,0} dynamic-slice(%x, "
                 "%i, %j): dynamic-slice: a rank-1 start index operand must be the only one, "
                 "has 2");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[4,3] parameter(0)\n"
                 "  u = f32[1,3] parameter(1)\n"
                 "  i = f32[2] parameter(2)\n"
                 "  ROOT d = f32[4,3] dynamic-update-slice(x, u, i)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[4,3]{1,0} "
                 "dynamic-update-slice(%x, %u, %i): dynamic-update-slice: start index vector "
                 "f32[2]{0} must be integers, one per dim of f32[4,3]{1,0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[3,4] parameter(0)\n"
                 "  i = s32[3,2] parameter(1)\n"
                 "  ROOT g = f32[3] gather(x, i), offset_dims={}, collapsed_slice_dims={0,1}, "
                 "start_index_map={0,1}, operand_batching_dims={0}, "
                 "start_indices_batching_dims={0}, index_vector_dim=1, slice_sizes={1,1}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %g = f32[3]{0} gather(%x, %i): "
                 "gather: operand batching dimension 0 is also collapsed");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[4] parameter(0)\n"
                 "  b = f32[4] parameter(1)\n"
                 "  p = pred[2] parameter(2)\n"
                 "  ROOT s = f32[4] select(p, a, b)\n"
                 "}\n",
                 "verifier: computation 'e', instruction %s = f32[4]{0} select(%p, %a, %b): "
                 "select: predicate pred[2]{0} and on_true f32[4]{0} have different dims");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[2,10] parameter(0)\n"
                 "  b = f32[10,2] parameter(1)\n"
                 "  s = f32[2,6] parameter(2)\n"
                 "  t = f32[6,2] parameter(3)\n"
                 "  ROOT d = f32[2,2] scaled-dot(a, b, s, t), lhs_contracting_dims={1}, "
                 "rhs_contracting_dims={0}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[2,2]{1,0} scaled-dot(%a, %b, "
                 "%s, %t): scaled-dot: dimension 1 of lhs operand f32[2,10]{1,0} is not a "
                 "multiple of the scale's f32[2,6]{1,0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = bf16[2,10] parameter(0)\n"
                 "  b = bf16[10,2] parameter(1)\n"
                 "  s = bf16[] constant(1)\n"
                 "  ROOT d = f32[2,2] scaled-dot(a, b, s, s), lhs_contracting_dims={1}, "
                 "rhs_contracting_dims={0}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[2,2]{1,0} scaled-dot(%a, %b, "
                 "%s, %s): scaled-dot: at least one of the scales must not be a scalar");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[2,10] parameter(0)\n"
                 "  b = f32[10,2] parameter(1)\n"
                 "  s = f32[] parameter(2)\n"
                 "  t = f32[5,1] parameter(3)\n"
                 "  ROOT d = f32[2,2] scaled-dot(a, b, s, t), lhs_contracting_dims={1}, "
                 "rhs_contracting_dims={0}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %d = f32[2,2]{1,0} scaled-dot(%a, %b, "
                 "%s, %t): scaled-dot: lhs scale f32[] has a different rank than the operand "
                 "f32[2,10]{1,0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  a = f32[4] parameter(0)\n"
                 "  ROOT t = f32[4] all-to-all(a), replica_groups={{0}}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %t = f32[4]{0} all-to-all(%a): "
                 "shape f32[4]{0} differs from the inferred shape (f32[4]{0})");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  ROOT i = s32[4] iota(), iota_dimension=1\n"
                 "}\n",
                 "verifier: computation 'e', instruction %i = s32[4]{0} iota(): iota: "
                 "iota_dimension 1 is out of range for s32[4]{0}");
  assert_rejects("HloModule m\n"
                 "ENTRY e {\n"
                 "  x = f32[5,4] parameter(0)\n"
                 "  i = s32[3] parameter(1)\n"
                 "  ROOT g = f32[3,4] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, "
                 "start_index_map={0}, index_vector_dim=1, slice_sizes={2,4}\n"
                 "}\n",
                 "verifier: computation 'e', instruction %g = f32[3,4]{1,0} gather(%x, %i): "
                 "gather: collapsed or batching dimension 0 has slice size 2, not 1");
}
END_TEST

START_TEST(call_arguments) {
  assert_rejects("HloModule m\n"
                 "f {\n"
                 "  x = f32[2] parameter(0)\n"
                 "  ROOT y = f32[2] negate(x)\n"
                 "}\n"
                 "ENTRY e {\n"
                 "  a = f32[3] parameter(0)\n"
                 "  ROOT c = f32[2] call(a), to_apply=f\n"
                 "}\n",
                 "verifier: computation 'e', instruction %c = f32[2]{0} call(%a): call: "
                 "to_apply 'f' parameter 0 is f32[2]{0} but operand 0 is f32[3]{0}");
}
END_TEST

/* A function of XLA's builder library whose operands do not fit is
 * refused with what it needs (the corpus's GetMatrixDiagonalViaGather
 * declares its result f32[2,2]; an Einsum equation with an ellipsis). */
START_TEST(builder_library_calls) {
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[2,2] parameter(0)\n"
                 "  ROOT r = f32[2,2] custom-call(x), "
                 "custom_call_target=\"xla_builder.matrix.GetMatrixDiagonalViaGather\"\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2,2]{1,0} custom-call(%x): "
                 "custom-call: xla_builder.matrix.GetMatrixDiagonalViaGather: "
                 "GetMatrixDiagonalViaGather of an array [..., M, N] gives its main diagonal "
                 "[..., min(M, N)] of the same type, which the call's shape is not");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[2,2] parameter(0)\n"
                 "  ROOT r = f32[2] custom-call(x, x), "
                 "custom_call_target=\"xla_builder.matrix.Einsum\", "
                 "backend_config=\"...i,...i->...i\"\n}\n",
                 "verifier: computation 'e', instruction %r = f32[2]{0} custom-call(%x, %x): "
                 "custom-call: xla_builder.matrix.Einsum: hloc's Einsum takes no ellipsis (...): "
                 "name every dimension");
}
END_TEST

/* PadToStatic and SliceToDynamic (XLA's dynamic padder's custom-calls):
 * the result and operand shapes each one's meaning needs. */
START_TEST(dynamic_padder_calls) {
  const char *pre = "verifier: computation 'e', instruction ";
  char want[512];
  snprintf(want, sizeof want, "%s%s", pre,
           "%p = (f32[4]{0}, s32[], s32[]) custom-call(%x): custom-call: PadToStatic: result "
           "(f32[4]{0}, s32[], s32[]) is not (f32[4]{0}, s32[]) (operand 0 f32[<=4]{0} padded "
           "to its bounds, then one s32[] size per dimension)");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[<=4] parameter(0)\n"
                 "  ROOT p = (f32[4], s32[], s32[]) custom-call(x), "
                 "custom_call_target=\"PadToStatic\"\n}\n", want);
  snprintf(want, sizeof want, "%s%s", pre,
           "%p = (f32[<=4]{0}, s32[]) custom-call(%x): custom-call: PadToStatic: result "
           "(f32[<=4]{0}, s32[]) is not (f32[4]{0}, s32[]) (operand 0 f32[<=4]{0} padded to its "
           "bounds, then one s32[] size per dimension)");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[<=4] parameter(0)\n"
                 "  ROOT p = (f32[<=4], s32[]) custom-call(x), "
                 "custom_call_target=\"PadToStatic\"\n}\n", want);
  snprintf(want, sizeof want, "%s%s", pre,
           "%s = f32[2,<=4]{1,0} custom-call(%x, %n): custom-call: SliceToDynamic: takes the "
           "array and one s32[] size per result dimension (3 operands for f32[2,<=4]{1,0}), "
           "has 2");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[2,4] parameter(0)\n  n = s32[] parameter(1)\n"
                 "  ROOT s = f32[2,<=4] custom-call(x, n), "
                 "custom_call_target=\"SliceToDynamic\"\n}\n", want);
  snprintf(want, sizeof want, "%s%s", pre,
           "%s = f32[<=4]{0} custom-call(%x, %n): custom-call: SliceToDynamic: operand 1 (the "
           "size of dimension 0) must be s32[], is s64[]");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  n = s64[] parameter(1)\n"
                 "  ROOT s = f32[<=4] custom-call(x, n), "
                 "custom_call_target=\"SliceToDynamic\"\n}\n", want);
  snprintf(want, sizeof want, "%s%s", pre,
           "%s = f32[<=4]{0} custom-call(%x, %n): custom-call: SliceToDynamic: operand 0 "
           "f32[1,4]{1,0} is not of the result's type and rank (f32[<=4]{0})");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[1,4] parameter(0)\n  n = s32[] parameter(1)\n"
                 "  ROOT s = f32[<=4] custom-call(x, n), "
                 "custom_call_target=\"SliceToDynamic\"\n}\n", want);
  snprintf(want, sizeof want, "%s%s", pre,
           "%s = f32[3,<=4]{1,0} custom-call(%x, %n, %n): custom-call: SliceToDynamic: dimension 0 "
           "is static in the result f32[3,<=4]{1,0} but 2 in operand 0");
  assert_rejects("HloModule m\nENTRY e {\n  x = f32[2,4] parameter(0)\n  n = s32[] parameter(1)\n"
                 "  ROOT s = f32[3,<=4] custom-call(x, n, n), "
                 "custom_call_target=\"SliceToDynamic\"\n}\n", want);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Structure                                                                */
/* ------------------------------------------------------------------------ */

static const char *ADD2 = "HloModule m\n"
                          "ENTRY e {\n"
                          "  a = f32[2] parameter(0)\n"
                          "  b = f32[2] parameter(1)\n"
                          "  ROOT add = f32[2] add(a, b)\n"
                          "}\n";

START_TEST(wrong_arity) {
  HloModule *m = ck_parse_verified(ADD2);
  HloInstr *a = find(m->entry, "a");
  hlo_set_operands(find(m->entry, "add"), &a, 1);
  assert_broken(m, "verifier: computation 'e', instruction %add = f32[2]{0} add(%a): add: "
                   "expects 2 operands, has 1");
}
END_TEST

START_TEST(parameter_gap) {
  HloModule *m = ck_parse_verified(ADD2);
  HloShape s = hlo_shape_scalar(HLO_F32);
  hlo_parameter_new(m->entry, 3, &s, "d");
  assert_broken(m, "verifier: computation 'e': parameter 2 is missing");
}
END_TEST

START_TEST(parameter_number_twice) {
  HloModule *m = ck_parse_verified(ADD2);
  HloShape s = hlo_shape_scalar(HLO_F32);
  hlo_parameter_new(m->entry, 1, &s, "b2");
  assert_broken(m, "verifier: computation 'e', instruction %b = f32[2]{0} parameter(): "
                   "parameter number 1 is also used by %b2");
}
END_TEST

START_TEST(broken_use_list) {
  HloModule *m = ck_parse_verified(ADD2);
  find(m->entry, "a")->nusers = 0; /* a forgets its user */
  assert_broken(m, "verifier: computation 'e', instruction %add = f32[2]{0} add(%a, %b): "
                   "operand 0 %a does not list it as a user");
  m = ck_parse_verified(ADD2);
  HloInstr *add = find(m->entry, "add");
  add->operands[0] = find(m->entry, "b"); /* a keeps a user that no longer uses it */
  assert_broken(m, "verifier: computation 'e', instruction %a = f32[2]{0} parameter(): user "
                   "%add does not use it");
  m = ck_parse_verified(ADD2);
  HloInstr *a = find(m->entry, "a");
  ck_assert_int_lt(a->nusers, a->users_cap);
  a->users[a->nusers++] = a->users[0];
  assert_broken(m, "verifier: computation 'e', instruction %a = f32[2]{0} parameter(): lists "
                   "user %add twice");
}
END_TEST

START_TEST(missing_root) {
  HloModule *m = ck_parse_verified(ADD2);
  m->entry->root = NULL;
  assert_broken(m, "verifier: computation 'e' has no root instruction");
  m = ck_parse_verified(ADD2);
  m->entry = NULL;
  assert_broken(m, "verifier: module 'm' has no entry computation");
}
END_TEST

START_TEST(cycle) {
  HloModule *m = ck_parse_verified("HloModule m\n"
                                   "ENTRY e {\n"
                                   "  a = f32[2] parameter(0)\n"
                                   "  n1 = f32[2] negate(a)\n"
                                   "  n2 = f32[2] negate(n1)\n"
                                   "  ROOT n3 = f32[2] negate(n2)\n"
                                   "}\n");
  hlo_set_operand(find(m->entry, "n1"), 0, find(m->entry, "n2"));
  assert_broken(m, "verifier: computation 'e', instruction %n1 = f32[2]{0} negate(%n2): is "
                   "part of a cycle (through %n2)");
}
END_TEST

static const char *SUM = "HloModule m\n"
                         "add {\n"
                         "  x = f32[] parameter(0)\n"
                         "  y = f32[] parameter(1)\n"
                         "  ROOT s = f32[] add(x, y)\n"
                         "}\n"
                         "ENTRY e {\n"
                         "  a = f32[4,5] parameter(0)\n"
                         "  zero = f32[] constant(0)\n"
                         "  ROOT r = f32[4] reduce(a, zero), dimensions={1}, to_apply=add\n"
                         "}\n";

START_TEST(foreign_operand_and_callee) {
  HloModule *m = ck_parse_verified(SUM);
  HloComputation *add = hlo_module_find_computation(m, "add");
  find(m->entry, "r")->operands[1] = add->params[0];
  find(m->entry, "zero")->nusers = 0;
  assert_broken(m, "verifier: computation 'e', instruction %r = f32[4]{0} reduce(%a, %x): "
                   "operand 1 %x is not an instruction of this computation");
  m = ck_parse_verified(SUM);
  hlo_computation_remove(hlo_module_find_computation(m, "add"));
  assert_broken(m, "verifier: computation 'e', instruction %r = f32[4]{0} reduce(%a, %zero): "
                   "calls computation 'add', which is not in the module");
}
END_TEST

START_TEST(recursion) {
  HloModule *m = ck_parse_verified("HloModule m\n"
                                   "f {\n"
                                   "  x = f32[] parameter(0)\n"
                                   "  ROOT y = f32[] negate(x)\n"
                                   "}\n"
                                   "ENTRY e {\n"
                                   "  a = f32[] parameter(0)\n"
                                   "  ROOT c = f32[] call(a), to_apply=f\n"
                                   "}\n");
  HloComputation *f = hlo_module_find_computation(m, "f");
  HloInstr *x = find(f, "x");
  HloInstr *self = hlo_instr_new(f, HLO_OP_CALL, &x->shape, &x, 1, "again");
  hlo_instr_set_called(self, &f, 1);
  hlo_set_operand(f->root, 0, self);
  assert_broken(m, "verifier: computation 'f', instruction %again = f32[] call(%x): calls 'f', "
                   "which is already on the call stack (recursion)");
}
END_TEST

START_TEST(constant_literal_shape) {
  HloModule *m = ck_parse_verified(SUM);
  int64_t two = 2;
  HloShape s = hlo_shape_array(HLO_F32, 1, &two);
  find(m->entry, "zero")->literal = hlo_literal_new_in(m->arena, &s);
  assert_broken(m, "verifier: computation 'e', instruction %zero = f32[] constant(): literal "
                   "shape f32[2]{0} differs from the instruction's shape");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Modules that verify                                                      */
/* ------------------------------------------------------------------------ */

/* Control flow, calls, fusion, and the ops an optimizer leaves behind. */
START_TEST(verifies_control_flow_and_fusion) {
  HloModule *m = ck_parse_verified(
      "HloModule m, entry_computation_layout={(f32[4,3]{1,0}, s32[])->(f32[4,3]{0,1}, "
      "f32[3,4]{1,0})}\n"
      "max {\n"
      "  mx = f32[] parameter(0)\n"
      "  my = f32[] parameter(1)\n"
      "  ROOT mm = f32[] maximum(mx, my)\n"
      "}\n"
      "fused {\n"
      "  fp0 = f32[4,3] parameter(0)\n"
      "  fp1 = f32[4,3] parameter(1)\n"
      "  ROOT fm = f32[4,3] multiply(fp0, fp1)\n"
      "}\n"
      "cond {\n"
      "  cs = (s32[], f32[4,3]) parameter(0)\n"
      "  ci = s32[] get-tuple-element(cs), index=0\n"
      "  cn = s32[] constant(3)\n"
      "  ROOT clt = pred[] compare(ci, cn), direction=LT\n"
      "}\n"
      "body {\n"
      "  bs = (s32[], f32[4,3]) parameter(0)\n"
      "  bi = s32[] get-tuple-element(bs), index=0\n"
      "  bv = f32[4,3] get-tuple-element(bs), index=1\n"
      "  bone = s32[] constant(1)\n"
      "  bj = s32[] add(bi, bone)\n"
      "  bf = f32[4,3] fusion(bv, bv), kind=kLoop, calls=fused\n"
      "  ROOT bt = (s32[], f32[4,3]) tuple(bj, bf)\n"
      "}\n"
      "b0 {\n"
      "  p0 = f32[4,3] parameter(0)\n"
      "  ROOT n0 = f32[4,3] negate(p0)\n"
      "}\n"
      "b1 {\n"
      "  p1 = f32[4,3] parameter(0)\n"
      "  ROOT a1 = f32[4,3] abs(p1)\n"
      "}\n"
      "ENTRY e {\n"
      "  x = f32[4,3] parameter(0)\n"
      "  k = s32[] parameter(1)\n"
      "  zero = s32[] constant(0)\n"
      "  init = (s32[], f32[4,3]) tuple(zero, x)\n"
      "  w = (s32[], f32[4,3]) while(init), condition=cond, body=body\n"
      "  v = f32[4,3] get-tuple-element(w), index=1\n"
      "  c = f32[4,3] conditional(k, v, x), branch_computations={b0, b1}\n"
      "  ninf = f32[] constant(-inf)\n"
      "  pool = f32[2,3] reduce-window(c, ninf), window={size=2x1 stride=2x1}, to_apply=max\n"
      "  t = f32[4,3]{0,1} copy(c)\n"
      "  bc = f32[3,4]{1,0} bitcast(t)\n"
      "  cc = f32[2,3] custom-call(pool), custom_call_target=\"my_op\"\n"
      "  bytes = u8[2,3,4] bitcast-convert(cc)\n"
      "  back = f32[2,3] bitcast-convert(bytes)\n"
      "  ROOT out = (f32[4,3]{0,1}, f32[3,4]{1,0}) tuple(t, bc)\n"
      "}\n");
  hlo_module_free(m);
}
END_TEST

/* Every module of the JAX corpus; all failures are reported at once. */
START_TEST(corpus_verifies) {
  DIR *d = opendir("testdata/hlo");
  ck_assert_msg(d != NULL, "missing testdata/hlo");
  HloStr report = {0};
  int nmodules = 0, nfail = 0;
  for (struct dirent *ent; (ent = readdir(d));) {
    size_t n = strlen(ent->d_name);
    if (n < 5 || strcmp(ent->d_name + n - 4, ".hlo")) continue;
    char path[512];
    snprintf(path, sizeof path, "testdata/hlo/%s", ent->d_name);
    HloModule *m = NULL;
    HloError *e = hlo_parse_file(path, &m);
    if (!e) e = hlo_verify(m);
    nmodules++;
    int refused = ck_corpus_refusal(ent->d_name, CK_AT_VERIFY, e, &report);
    if (refused >= 0) {
      nfail += refused;
    } else if (e) {
      nfail++;
      hlo_str_printf(&report, "\n  %s: %s", ent->d_name, hlo_error_message(e));
    }
    hlo_error_free(e);
    hlo_module_free(m);
  }
  closedir(d);
  char *msg = hlo_str_take(&report);
  ck_assert_msg(nmodules >= 40, "only %d modules in testdata/hlo", nmodules);
  ck_assert_msg(nfail == 0, "%d of %d modules fail:%s", nfail, nmodules, msg);
  free(msg);
}
END_TEST

/* One participant only: groups, pairs or shapes that need another are
 * rejected, naming the construct. */
START_TEST(collectives_single_device) {
  static const char *head = "HloModule m\n"
                            "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n"
                            "  ROOT s = f32[] add(x, y)\n}\n";
  char text[1024];
  snprintf(text, sizeof text, "%sENTRY e {\n  p = f32[4] parameter(0)\n"
           "  ROOT r = f32[4] all-reduce(p), replica_groups={{0,1}}, to_apply=add\n}\n", head);
  assert_rejects(text, "verifier: computation 'e', instruction %r = f32[4]{0} all-reduce(%p): "
                       "all-reduce: replica_groups={{0,1}} name participants other than 0: "
                       "hloc compiles single-device programs");
  /* Groups of one each, participant 0 among them: every collective has
   * one participant, and participant 0's program is what hloc compiles. */
  snprintf(text, sizeof text, "%sENTRY e {\n  p = f32[4] parameter(0)\n"
           "  a = f32[4] all-reduce(p), replica_groups=[2,1]<=[2], to_apply=add\n"
           "  ROOT r = f32[4] collective-permute(a), source_target_pairs={{1,1},{0,0}}\n}\n",
           head);
  HloModule *m = NULL;
  ck_assert_ptr_null(hlo_parse(text, strlen(text), "t.hlo", &m));
  HloError *e = hlo_verify(m);
  ck_assert_msg(e == NULL, "%s", e ? hlo_error_message(e) : "");
  hlo_module_free(m);
  snprintf(text, sizeof text, "%sENTRY e {\n  p = f32[4] parameter(0)\n"
           "  ROOT r = f32[4] all-reduce(p), replica_groups={{1},{2}}, to_apply=add\n}\n", head);
  assert_rejects(text, "verifier: computation 'e', instruction %r = f32[4]{0} all-reduce(%p): "
                       "all-reduce: replica_groups={{1},{2}} name participants other than 0: "
                       "hloc compiles single-device programs");
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
                 "  ROOT r = f32[4] collective-permute(p), source_target_pairs={{1,1}}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[4]{0} collective-permute(%p): "
                 "collective-permute: source_target_pairs={{1,1}} name participants "
                 "other than 0: hloc compiles single-device programs");
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[2,3] parameter(0)\n"
                 "  ROOT r = f32[8,3] all-gather(p), replica_groups={}, dimensions={0}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[8,3]{1,0} all-gather(%p): "
                 "all-gather: gathers f32[2,3]{1,0} into f32[8,3]{1,0}: more than one "
                 "participant: hloc compiles single-device programs");
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
                 "  ROOT r = f32[4] collective-permute(p), source_target_pairs={{0,1},{1,0}}\n}\n",
                 "verifier: computation 'e', instruction %r = f32[4]{0} collective-permute(%p): "
                 "collective-permute: source_target_pairs={{0,1},{1,0}} name participants "
                 "other than 0: hloc compiles single-device programs");
  /* SPMD's shard conversions are identities when the shapes agree (one
   * device); a shard of another shape means several. */
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[8,8] parameter(0)\n"
                 "  s = f32[1,8] custom-call(p), custom_call_target=\"SPMDFullToShardShape\"\n"
                 "  ROOT r = f32[8,8] custom-call(s), custom_call_target=\"SPMDShardToFullShape\"\n"
                 "}\n",
                 "verifier: computation 'e', instruction %s = f32[1,8]{1,0} custom-call(%p): "
                 "custom-call: SPMDFullToShardShape takes one device's shard of an array split "
                 "over several devices: hloc compiles single-device programs");
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[1,8] parameter(0)\n"
                 "  ROOT r = f32[8,8] custom-call(p), custom_call_target=\"SPMDShardToFullShape\"\n"
                 "}\n",
                 "verifier: computation 'e', instruction %r = f32[8,8]{1,0} custom-call(%p): "
                 "custom-call: SPMDShardToFullShape puts together an array split over several "
                 "devices: hloc compiles single-device programs");
  /* after-all takes any operands (XLA orders the token after arrays too);
   * its result is a token. */
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
                 "  ROOT t = f32[4] after-all(p)\n}\n",
                 "verifier: computation 'e', instruction %t = f32[4]{0} after-all(%p): "
                 "shape f32[4]{0} differs from the inferred shape token[]");
  assert_rejects("HloModule m\nENTRY e {\n  p = s32[] parameter(0)\n"
                 "  ROOT r = s32[] replica-id()\n}\n",
                 "verifier: computation 'e', instruction %r = s32[] replica-id(): "
                 "shape s32[] differs from the inferred shape u32[]");
  snprintf(text, sizeof text, "%sENTRY e {\n  p = s32[4] parameter(0)\n"
           "  ROOT r = s32[4] all-reduce(p), replica_groups={}, to_apply=add\n}\n", head);
  assert_rejects(text, "verifier: computation 'e', instruction %r = s32[4]{0} all-reduce(%p): "
                       "all-reduce: to_apply add combines f32 but operand 0 is s32[4]{0}");
  assert_rejects("HloModule m\nENTRY e {\n  p = f32[4] parameter(0)\n"
                 "  s = f32[4] all-reduce-start(p), replica_groups={}\n"
                 "  ROOT d = f32[4] all-reduce-done(s)\n}\n",
                 "verifier: computation 'e', instruction %s = f32[4]{0} all-reduce-start(%p): "
                 "all-reduce-start: expects 1 called computation (to_apply), has 0");
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_verifier");
  TCase *rules = tcase_create("shape_rules");
  tcase_add_test(rules, elementwise_mismatch);
  tcase_add_test(rules, result_shape_mismatch);
  tcase_add_test(rules, buffer_too_large);
  tcase_add_test(rules, window_arithmetic_overflows);
  tcase_add_test(rules, broadcast_dims_out_of_range);
  tcase_add_test(rules, reshape_element_count);
  tcase_add_test(rules, transpose_not_a_permutation);
  tcase_add_test(rules, slice_out_of_range);
  tcase_add_test(rules, dot_contracting_size);
  tcase_add_test(rules, conv_feature_mismatch);
  tcase_add_test(rules, reduce_to_apply_arity);
  tcase_add_test(rules, sort_comparator_result);
  tcase_add_test(rules, while_body_shape);
  tcase_add_test(rules, conditional_branches_disagree);
  tcase_add_test(rules, data_movement_rules);
  tcase_add_test(rules, call_arguments);
  tcase_add_test(rules, builder_library_calls);
  tcase_add_test(rules, dynamic_padder_calls);
  tcase_add_test(rules, collectives_single_device);
  suite_add_tcase(s, rules);
  TCase *structure = tcase_create("structure");
  tcase_add_test(structure, wrong_arity);
  tcase_add_test(structure, parameter_gap);
  tcase_add_test(structure, parameter_number_twice);
  tcase_add_test(structure, broken_use_list);
  tcase_add_test(structure, missing_root);
  tcase_add_test(structure, cycle);
  tcase_add_test(structure, foreign_operand_and_callee);
  tcase_add_test(structure, recursion);
  tcase_add_test(structure, constant_literal_shape);
  suite_add_tcase(s, structure);
  TCase *good = tcase_create("verifies");
  tcase_add_test(good, verifies_control_flow_and_fusion);
  tcase_add_test(good, corpus_verifies);
  suite_add_tcase(s, good);
  return ck_run_suite(s);
}
