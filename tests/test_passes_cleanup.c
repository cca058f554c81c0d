/*
 * test_passes_cleanup.c — DCE, CSE, constant folding, tuple simplification
 * and call inlining: HLO text in, the expected graph out, a "nothing to do"
 * case each, and the differential check (evaluator before == after).
 */
#include "passes_util.h"

START_TEST(dce_removes_dead_instructions_and_computations) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "unused { p = f32[] parameter(0)\n ROOT n = f32[] negate(p) }\n"
      "ENTRY e {\n  x = f32[4] parameter(0)\n  dead = f32[4] exponential(x)\n"
      "  dead2 = f32[4] add(dead, x)\n  ROOT r = f32[4] negate(x)\n}\n",
      pass_dce, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "negate(x)");
  ck_assert_int_eq(pu_count(m, HLO_OP_EXP) + pu_count(m, HLO_OP_ADD), 0);
  ck_assert_ptr_null(hlo_module_find_computation(m, "unused"));
  hlo_module_free(m);
}
END_TEST

/* Computations called through a chain of calls stay; the module's others
 * go, whichever side of the callers they are listed on. */
START_TEST(dce_keeps_computations_called_through_calls) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "unused1 { p = f32[] parameter(0)\n ROOT n = f32[] negate(p) }\n"
      "g { p = f32[] parameter(0)\n ROOT n = f32[] negate(p) }\n"
      "f { p = f32[] parameter(0)\n ROOT c = f32[] call(p), to_apply=g }\n"
      "unused2 { p = f32[] parameter(0)\n ROOT c = f32[] call(p), to_apply=unused1 }\n"
      "ENTRY e {\n  x = f32[] parameter(0)\n  ROOT r = f32[] call(x), to_apply=f\n}\n",
      pass_dce, true, 0, 0);
  ck_assert_ptr_nonnull(hlo_module_find_computation(m, "f"));
  ck_assert_ptr_nonnull(hlo_module_find_computation(m, "g"));
  ck_assert_ptr_null(hlo_module_find_computation(m, "unused1"));
  ck_assert_ptr_null(hlo_module_find_computation(m, "unused2"));
  hlo_module_free(m);
}
END_TEST

START_TEST(dce_nothing_to_do) {
  hlo_module_free(pu_differential("HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n"
                                  "  ROOT r = f32[4] negate(x)\n}\n",
                                  pass_dce, false, 0, 0));
}
END_TEST

START_TEST(cse_merges_equal_instructions) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  y = f32[4] parameter(1)\n"
      "  a = f32[4] add(x, y)\n  b = f32[4] add(x, y)\n  c = f32[4] add(y, x)\n"
      "  m1 = f32[4] multiply(a, b)\n  ROOT r = f32[4] multiply(m1, c)\n}\n",
      pass_cse, true, 0, 0);
  /* a and b merge; c has its operands swapped and stays. */
  ck_assert_int_eq(pu_count(m, HLO_OP_ADD), 2);
  ck_assert_str_eq(pu_root(m), "multiply(multiply(add(x, y), add(x, y)), add(y, x))");
  hlo_module_free(m);
}
END_TEST

START_TEST(cse_keeps_parameters_and_different_attributes) {
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[2,3] parameter(0)\n  y = f32[2,3] parameter(1)\n"
      "  a = f32[2,3] add(x, y)\n  t = f32[3,2] transpose(a), dimensions={1,0}\n"
      "  s = f32[1,3] slice(a), slice={[0:1], [0:3]}\n  s2 = f32[1,3] slice(a), slice={[1:2], [0:3]}\n"
      "  ROOT r = (f32[3,2], f32[1,3], f32[1,3]) tuple(t, s, s2)\n}\n",
      pass_cse, false, 0, 0));
}
END_TEST

START_TEST(constant_fold_folds_and_respects_the_cap) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[3] parameter(0)\n"
      "  c1 = f32[3] constant({1, 2, 3})\n  c2 = f32[3] constant({4, 5, 6})\n"
      "  s = f32[3] add(c1, c2)\n  n = f32[3] negate(s)\n"
      "  big = f32[100000] iota(), iota_dimension=0\n  bn = f32[100000] negate(big)\n"
      "  sl = f32[3] slice(bn), slice={[0:3]}\n  a = f32[3] add(x, n)\n"
      "  ROOT r = f32[3] add(a, sl)\n}\n",
      pass_constant_fold, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "add(add(x, constant), slice(negate(iota)))");
  const HloInstr *k = m->entry->root->operands[0]->operands[1];
  ck_assert_double_eq(hlo_literal_get_f64(k->literal, 2), -9.0);
  hlo_module_free(m);
}
END_TEST

START_TEST(constant_fold_reshape_shares_bytes) {
  /* A reshaped constant is the same bytes: the folded constant shares
   * them (a weight is not copied), and the values are the evaluator's. */
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[3,2] parameter(0)\n"
      "  w = f32[2,3] constant({{1, 2, 3}, {4, 5, 6}})\n"
      "  r = f32[3,2] reshape(w)\n  ROOT a = f32[3,2] add(x, r)\n}\n");
  const void *bytes = m->entry->root->operands[1]->operands[0]->literal->data;
  pu_differential_on(m, pass_constant_fold, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "add(x, constant)");
  ck_assert_ptr_eq(m->entry->root->operands[1]->literal->data, bytes);
  hlo_module_free(m);
}
END_TEST

START_TEST(constant_fold_nothing_to_do) {
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[3] parameter(0)\n  c = f32[] constant(2)\n"
      "  b = f32[3] broadcast(c), dimensions={}\n  ROOT r = f32[3] multiply(x, b)\n}\n",
      pass_constant_fold, false, 0, 0));
  /* A small slice of a broadcast too large to build (XLA's
   * hlo_constant_folding_test slices 10^9 elements). */
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[3] parameter(0)\n  c = f32[] constant(2)\n"
      "  b = f32[100000] broadcast(c), dimensions={}\n  s = f32[3] slice(b), slice={[0:3]}\n"
      "  ROOT r = f32[3] multiply(x, s)\n}\n",
      pass_constant_fold, false, 0, 0));
}
END_TEST

START_TEST(tuple_simplify_forwards_elements) {
  HloModule *m = pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[3] parameter(0)\n  y = s32[2] parameter(1)\n"
      "  t = (f32[3], s32[2]) tuple(x, y)\n  g = f32[3] get-tuple-element(t), index=0\n"
      "  ROOT r = f32[3] negate(g)\n}\n",
      pass_tuple_simplify, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "negate(x)");
  ck_assert_int_eq(pu_count(m, HLO_OP_TUPLE), 0);
  hlo_module_free(m);
  m = pu_differential(
      "HloModule m\nENTRY e {\n  p = (f32[3], s32[2]) parameter(0)\n"
      "  a = f32[3] get-tuple-element(p), index=0\n  b = s32[2] get-tuple-element(p), index=1\n"
      "  ROOT t = (f32[3], s32[2]) tuple(a, b)\n}\n",
      pass_tuple_simplify, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "p");
  hlo_module_free(m);
}
END_TEST

START_TEST(tuple_simplify_nothing_to_do) {
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  p = (f32[3], s32[2]) parameter(0)\n"
      "  b = s32[2] get-tuple-element(p), index=1\n  a = f32[3] get-tuple-element(p), index=0\n"
      "  ROOT t = (s32[2], f32[3]) tuple(b, a)\n}\n",
      pass_tuple_simplify, false, 0, 0));
}
END_TEST

START_TEST(inline_replaces_calls_with_bodies) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "inner { a = f32[4] parameter(0)\n ROOT e = f32[4] exponential(a) }\n"
      "outer { p = f32[4] parameter(0)\n q = f32[4] parameter(1)\n"
      "  c = f32[4] call(p), to_apply=inner\n ROOT s = f32[4] add(c, q) }\n"
      "ENTRY e {\n  x = f32[4] parameter(0)\n  y = f32[4] parameter(1)\n"
      "  ROOT r = f32[4] call(x, y), to_apply=outer\n}\n",
      pass_inline_calls, true, 0, 0);
  ck_assert_str_eq(pu_root(m), "add(exponential(x), y)");
  ck_assert(pu_run(m, pass_dce));
  ck_assert_ptr_null(hlo_module_find_computation(m, "inner"));
  ck_assert_ptr_null(hlo_module_find_computation(m, "outer"));
  hlo_module_free(m);
}
END_TEST

START_TEST(inline_nothing_to_do) {
  hlo_module_free(pu_differential("HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n"
                                  "  ROOT r = f32[4] negate(x)\n}\n",
                                  pass_inline_calls, false, 0, 0));
}
END_TEST

/* JAX's LAPACK custom-calls become cholesky and triangular-solve (with
 * LAPACK's info and untouched triangle as HLO), which the same pass then
 * expands into loops (cholesky_expand.c, triangular_solve_expand.c):
 * those sum in f64 in another order than the evaluator, so the results
 * agree to an f32's last place (rtol 2^-23) and an f64's far below atol
 * 1e-12 (test_codegen_linalg's bounds), not bit for bit: random matrices (mostly not positive
 * definite: info from the first failing column), x xT + 8I (positive
 * definite), a batch, both triangles, and trsm's sides, transposes and
 * diagonals. */
START_TEST(single_device_lowers_lapack_calls) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "ENTRY e {\n  a = f32[3,4,4] parameter(0)\n  b = f32[3,4,2] parameter(1)\n"
      "  x = f64[5,5] parameter(2)\n  y = f64[3,5] parameter(3)\n"
      "  xx = f64[5,5] dot(x, x), lhs_contracting_dims={1}, rhs_contracting_dims={1}\n"
      "  k = f64[] constant(8)\n  kb = f64[5,5] broadcast(k), dimensions={}\n"
      "  i0 = s32[5,5] iota(), iota_dimension=0\n  i1 = s32[5,5] iota(), iota_dimension=1\n"
      "  d = pred[5,5] compare(i0, i1), direction=EQ\n  z = f64[5,5] broadcast(f64[] constant(0)), dimensions={}\n"
      "  kd = f64[5,5] select(d, kb, z)\n  pd = f64[5,5] add(xx, kd)\n"
      "  c1 = (f32[3,4,4]{1,2,0}, s32[3]) custom-call(a), custom_call_target=\"lapack_spotrf_ffi\", "
      "backend_config={uplo = 76 : ui8}\n"
      "  c2 = (f32[3,4,4], s32[3]) custom-call(a), custom_call_target=\"lapack_spotrf_ffi\", "
      "backend_config={uplo = 85 : ui8}\n"
      "  c3 = (f64[5,5]{0,1}, s32[]) custom-call(pd), custom_call_target=\"lapack_dpotrf_ffi\", "
      "backend_config={uplo = 85 : ui8}\n"
      "  c4 = (f64[5,5], s32[]) custom-call(pd), custom_call_target=\"lapack_dpotrf_ffi\", "
      "backend_config={uplo = 76 : ui8}\n"
      "  l3 = f64[5,5] get-tuple-element(c3), index=0\n  l4 = f64[5,5] get-tuple-element(c4), index=0\n"
      "  t1 = f32[3,4,2]{1,2,0} custom-call(a, b), custom_call_target=\"lapack_strsm_ffi\", "
      "backend_config={diag = 78 : ui8, side = 76 : ui8, trans_x = 78 : ui8, uplo = 76 : ui8}\n"
      "  t2 = f32[3,4,2] custom-call(a, b), custom_call_target=\"lapack_strsm_ffi\", "
      "backend_config={diag = 85 : ui8, side = 76 : ui8, trans_x = 84 : ui8, uplo = 85 : ui8}\n"
      "  t3 = f64[3,5] custom-call(l3, y), custom_call_target=\"lapack_dtrsm_ffi\", "
      "backend_config={diag = 78 : ui8, side = 82 : ui8, trans_x = 67 : ui8, uplo = 85 : ui8}\n"
      "  t4 = f64[3,5] custom-call(l4, y), custom_call_target=\"lapack_dtrsm_ffi\", "
      "backend_config={diag = 78 : ui8, side = 82 : ui8, trans_x = 78 : ui8, uplo = 76 : ui8}\n"
      "  ROOT r = ((f32[3,4,4], s32[3]), (f32[3,4,4], s32[3]), (f64[5,5], s32[]), (f64[5,5], s32[]),"
      " f32[3,4,2], f32[3,4,2], f64[3,5], f64[3,5]) tuple(c1, c2, c3, c4, t1, t2, t3, t4)\n}\n",
      pass_single_device, true, 1e-12, 0x1p-23);
  ck_assert_int_eq(pu_count(m, HLO_OP_CUSTOM_CALL), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_CHOLESKY), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_TRIANGULAR_SOLVE), 0);
  ck_assert_int_gt(pu_count(m, HLO_OP_WHILE), 0);
  hlo_module_free(m);
}
END_TEST

START_TEST(single_device_lowers_collectives) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
      "neg {\n  a = f32[4] parameter(0)\n  ROOT n = f32[4] negate(a)\n}\n"
      "ENTRY e {\n  p = f32[4] parameter(0)\n  q = f32[2,3] parameter(1)\n"
      "  ar = f32[4] all-reduce(p), replica_groups={{0}}, to_apply=add\n"
      "  ag = f32[4] all-gather(ar), replica_groups={}, dimensions={0}\n"
      "  cz = f32[2,3] collective-permute(q), source_target_pairs={}\n"
      "  rid = u32[] replica-id()\n  tok = token[] after-all()\n"
      "  b = (f32[4], token[]) tuple(ag, tok)\n  o = (f32[4], token[]) opt-barrier(b)\n"
      "  o0 = f32[4] get-tuple-element(o), index=0\n"
      "  s = (f32[4], f32[4], u32[], u32[]) collective-permute-start(o0), "
      "source_target_pairs={{0,0}}\n"
      "  d = f32[4] collective-permute-done(s)\n"
      "  as = ((f32[4]), f32[4], s32[]) async-start(d), calls=neg\n"
      "  ad = f32[4] async-done(as)\n"
      "  cs = (f32[4], f32[4], u32[]) copy-start(ad)\n  c0 = f32[4] copy-done(cs)\n"
      "  cd = f32[4] add-dependency(c0, tok)\n"
      "  sh = f32[2,3] custom-call(cz), custom_call_target=\"Sharding\", sharding={replicated}\n"
      "  fs = f32[2,3] custom-call(sh), custom_call_target=\"SPMDFullToShardShape\"\n"
      "  sf = f32[2,3] custom-call(fs), custom_call_target=\"SPMDShardToFullShape\"\n"
      "  mh = f32[2,3] custom-call(sf), custom_call_target=\"MoveToHost\"\n"
      "  md = f32[2,3] custom-call(mh), custom_call_target=\"MoveToDevice\"\n"
      "  pl = f32[2,3] custom-call(md), custom_call_target=\"annotate_device_placement\", "
      "frontend_attributes={_xla_buffer_placement=\"pinned_host\"}\n"
      "  bf = f32[2,3] custom-call(pl), custom_call_target=\"ShardBarrierFrom\", "
      "custom_call_has_side_effect=true\n"
      "  bt = f32[2,3] custom-call(bf), custom_call_target=\"ShardBarrierTo\", "
      "custom_call_has_side_effect=true\n"
      "  ROOT r = (f32[4], f32[2,3], u32[]) tuple(cd, bt, rid)\n}\n",
      pass_single_device, true, 0, 0);
  /* The user's tuple and get-tuple-element stay for tuple-simplify. */
  ck_assert_str_eq(pu_root(m),
                   "tuple(negate(get-tuple-element(tuple(p, after-all))), constant, constant)");
  for (HloOpcode op = HLO_OP_ALL_REDUCE; op < HLO_NUM_OPCODES; op++)
    ck_assert_msg(pu_count(m, op) == (op == HLO_OP_AFTER_ALL), "%s is left",
                  hlo_opcode_name(op));
  ck_assert_int_eq(pu_count(m, HLO_OP_CUSTOM_CALL), 0);
  hlo_module_free(m);
}
END_TEST

/* Buffers (b(T)) are their arrays on one device (ck_buffers_hlo): no
 * custom-call or buffer shape is left. */
START_TEST(single_device_drops_buffers) {
  HloModule *m = pu_differential(ck_buffers_hlo, pass_single_device, true, 1e-6, 1e-6);
  ck_assert_int_eq(pu_count(m, HLO_OP_CUSTOM_CALL), 0);
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *x = c->first; x; x = x->next)
      ck_assert_msg(!hlo_shape_has_buffer(&x->shape), "%%%s is a buffer", x->name);
  hlo_module_free(m);
}
END_TEST

/* The trigonometric functions XLA adds, map and reduce-precision become
 * plain elementwise HLO in the same walk; reduce-precision's bits are
 * compared exactly. */
START_TEST(single_device_expands_ops) {
  HloModule *m = pu_differential(ck_expanded_ops_hlo, pass_single_device, true, 1e-6, 1e-5);
  for (HloOpcode op = HLO_OP_ACOS; op <= HLO_OP_SINH; op++)
    ck_assert_msg(pu_count(m, op) == 0, "%s is left", hlo_opcode_name(op));
  ck_assert_int_eq(pu_count(m, HLO_OP_MAP), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_REDUCE_PRECISION), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_REAL) + pu_count(m, HLO_OP_IMAG), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_CONDITIONAL), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_CALL), 0);
  hlo_module_free(m);
}
END_TEST

START_TEST(single_device_nothing_to_do) {
  hlo_module_free(pu_differential("HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n"
                                  "  ROOT r = f32[4] negate(x)\n}\n",
                                  pass_single_device, false, 0, 0));
}
END_TEST

/* XLA's other forms of select, dynamic-slice, dynamic-update-slice,
 * all-to-all and the xla_builder.* calls become the standard ones, with
 * the evaluator's results on the original (which reads every form). */
START_TEST(canonical_forms) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "plus {\n  a = f32[2,3] parameter(0)\n  b = f32[2,3] parameter(1)\n"
      "  ROOT s = f32[2,3] add(a, b)\n}\n"
      "ENTRY e {\n  x = f32[4,6] parameter(0)\n  y = f32[4,6] parameter(1)\n"
      "  k = pred[] parameter(2)\n  v = s32[2] parameter(3)\n  u = f32[2,3]{0,1} parameter(4)\n"
      "  sel = f32[4,6] select(k, x, y)\n"
      "  ds = f32[2,3] dynamic-slice(sel, v), dynamic_slice_sizes={2,3}\n"
      "  dus = f32[4,6] dynamic-update-slice(x, u, v)\n"
      "  a2a = (f32[2,3]) all-to-all(u), replica_groups={{0}}\n"
      "  a = f32[2,3] get-tuple-element(a2a), index=0\n"
      "  as = f32[2,3] custom-call(a), custom_call_target=\"xla_builder.math.Asinh\"\n"
      "  bc = f32[2,3] custom-call(ds, as), custom_call_target=\"xla_builder.test.Plus\", "
      "called_computations={plus}\n"
      "  ROOT r = (f32[4,6], f32[2,3], f32[4,6]) tuple(sel, bc, dus)\n}\n",
      pass_canonical_forms, true, 0, 0);
  ck_assert_str_eq(pu_root(m),
                   "tuple(select(broadcast(k), x, y), add(dynamic-slice(select(broadcast(k), x, "
                   "y), reshape(slice(v)), reshape(slice(v))), "
                   "asinh(get-tuple-element(tuple(u)))), "
                   "dynamic-update-slice(x, u, reshape(slice(v)), reshape(slice(v))))");
  ck_assert_int_eq(pu_count(m, HLO_OP_CUSTOM_CALL), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_ALL_TO_ALL), 0);
  hlo_module_free(m);
}
END_TEST

START_TEST(canonical_forms_nothing_to_do) {
  hlo_module_free(pu_differential(
      "HloModule m\nENTRY e {\n  x = f32[4,6] parameter(0)\n  p = pred[4,6] parameter(1)\n"
      "  i = s32[] parameter(2)\n  s = f32[4,6] select(p, x, x)\n"
      "  ROOT d = f32[2,6] dynamic-slice(s, i, i), dynamic_slice_sizes={2,6}\n}\n",
      pass_canonical_forms, false, 0, 0));
}
END_TEST

/* A map whose computation builds an array has no elementwise form: it
 * becomes a loop over its elements (map_loop.c). */
START_TEST(map_becomes_loop) {
  HloModule *m = pu_differential(
      "HloModule m\n"
      "add {\n  x = s32[] parameter(0)\n  y = s32[] parameter(1)\n  ROOT s = s32[] add(x, y)\n}\n"
      "f {\n  a = s32[] parameter(0)\n  b = s32[3] broadcast(a), dimensions={}\n"
      "  i = s32[3] iota(), iota_dimension=0\n  m = s32[3] multiply(b, i)\n"
      "  z = s32[] constant(0)\n  ROOT r = s32[] reduce(m, z), dimensions={0}, to_apply=add\n}\n"
      "ENTRY e {\n  p = s32[2,3] parameter(0)\n"
      "  ROOT r = s32[2,3] map(p), dimensions={0,1}, to_apply=f\n}\n",
      pass_single_device, true, 0, 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_MAP), 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_WHILE), 1);
  hlo_module_free(m);
  /* Of no elements: the empty array, no loop (there is nothing to slice). */
  m = pu_differential("HloModule m\n"
                      "f {\n  a = s32[] parameter(0)\n  b = s32[3] broadcast(a), dimensions={}\n"
                      "  ROOT r = s32[] reduce(b, a), dimensions={0}, to_apply=add\n}\n"
                      "add {\n  x = s32[] parameter(0)\n  y = s32[] parameter(1)\n"
                      "  ROOT s = s32[] add(x, y)\n}\n"
                      "ENTRY e {\n  p = s32[0,3] parameter(0)\n"
                      "  ROOT r = s32[0,3] map(p), dimensions={0,1}, to_apply=f\n}\n",
                      pass_single_device, true, 0, 0);
  ck_assert_int_eq(pu_count(m, HLO_OP_MAP) + pu_count(m, HLO_OP_WHILE), 0);
  hlo_module_free(m);
}
END_TEST

/* The pipeline lowers them whatever passes are disabled. */
START_TEST(pipeline_lowers_collectives) {
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n"
      "  ROOT r = f32[4] all-to-all(x), replica_groups={{0}}, dimensions={0}\n}\n");
  const char *off[] = {"inline", "tuple-simplify", "dce"};
  HloError *e = pass_run_pipeline(m, &(PassOptions){.disabled = off, .ndisabled = 3});
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_str_eq(pu_root(m), "x");
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_cleanup");
  TCase *t = tcase_create("cleanup");
  tcase_add_test(t, dce_removes_dead_instructions_and_computations);
  tcase_add_test(t, dce_nothing_to_do);
  tcase_add_test(t, dce_keeps_computations_called_through_calls);
  tcase_add_test(t, single_device_lowers_collectives);
  tcase_add_test(t, single_device_lowers_lapack_calls);
  tcase_add_test(t, single_device_drops_buffers);
  tcase_add_test(t, single_device_expands_ops);
  tcase_add_test(t, single_device_nothing_to_do);
  tcase_add_test(t, canonical_forms);
  tcase_add_test(t, canonical_forms_nothing_to_do);
  tcase_add_test(t, map_becomes_loop);
  tcase_add_test(t, pipeline_lowers_collectives);
  tcase_add_test(t, cse_merges_equal_instructions);
  tcase_add_test(t, cse_keeps_parameters_and_different_attributes);
  tcase_add_test(t, constant_fold_folds_and_respects_the_cap);
  tcase_add_test(t, constant_fold_nothing_to_do);
  tcase_add_test(t, constant_fold_reshape_shares_bytes);
  tcase_add_test(t, tuple_simplify_forwards_elements);
  tcase_add_test(t, tuple_simplify_nothing_to_do);
  tcase_add_test(t, inline_replaces_calls_with_bodies);
  tcase_add_test(t, inline_nothing_to_do);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
