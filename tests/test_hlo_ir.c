/*
 * test_hlo_ir.c — the IR core (ir.c): element types and f16/bf16
 * conversion, shapes and their text, literals, name uniquing, and the edge
 * functions that must keep use lists exact.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

static void assert_shape_text(const HloShape *s, const char *want) {
  char *got = hlo_shape_to_string(s);
  ck_assert_str_eq(got, want);
  free(got);
}

START_TEST(types_by_name) {
  HloType t;
  ck_assert(hlo_type_from_name("bf16", 4, &t) && t == HLO_BF16);
  ck_assert(hlo_type_from_name("pred", 4, &t) && t == HLO_PRED);
  ck_assert(!hlo_type_from_name("f8", 2, &t));
  ck_assert_uint_eq(hlo_type_size(HLO_S64), 8);
  ck_assert(hlo_type_is_float(HLO_F16) && !hlo_type_is_integer(HLO_PRED));
}
END_TEST

START_TEST(half_conversions) {
  /* Exactly representable values, rounding to nearest even, overflow,
   * subnormals and NaN. */
  ck_assert_uint_eq(hlo_f32_to_f16(1.0f), 0x3c00);
  ck_assert_uint_eq(hlo_f32_to_f16(-2.0f), 0xc000);
  ck_assert_uint_eq(hlo_f32_to_f16(65504.0f), 0x7bff);
  ck_assert_uint_eq(hlo_f32_to_f16(65520.0f), 0x7c00);
  ck_assert_uint_eq(hlo_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);      /* tie -> even */
  ck_assert_uint_eq(hlo_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);      /* tie -> even */
  ck_assert_uint_eq(hlo_f32_to_f16(ldexpf(1.0f, -24)), 0x0001);       /* min subnormal */
  ck_assert_uint_eq(hlo_f32_to_f16(ldexpf(1.0f, -26)), 0x0000);       /* underflow */
  ck_assert(isnan(hlo_f16_to_f32(hlo_f32_to_f16(NAN))));
  ck_assert(hlo_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
  ck_assert(hlo_f16_to_f32(0x7c00) == INFINITY);
  for (uint32_t h = 0; h < 0x7c00; h++) /* every finite half round-trips */
    ck_assert_uint_eq(hlo_f32_to_f16(hlo_f16_to_f32((uint16_t)h)), h);
  ck_assert_uint_eq(hlo_f32_to_bf16(1.0f), 0x3f80);
  ck_assert_uint_eq(hlo_f32_to_bf16(1.00390625f), 0x3f80); /* tie -> even */
  ck_assert_uint_eq(hlo_f32_to_bf16(1.01171875f), 0x3f82); /* tie -> even */
  ck_assert(isnan(hlo_bf16_to_f32(hlo_f32_to_bf16(NAN))));
}
END_TEST

START_TEST(shape_text) {
  int64_t d[] = {2, 3};
  HloShape s = hlo_shape_array(HLO_F32, 2, d);
  assert_shape_text(&s, "f32[2,3]{1,0}");
  s.has_layout = true;
  s.minor_to_major[0] = 0;
  s.minor_to_major[1] = 1;
  assert_shape_text(&s, "f32[2,3]{0,1}");
  ck_assert(!hlo_shape_has_default_layout(&s));
  HloShape scalar = hlo_shape_scalar(HLO_PRED);
  assert_shape_text(&scalar, "pred[]");
  HloArena *a = hlo_arena_new();
  HloShape elems[] = {scalar, s};
  HloShape t = hlo_shape_tuple(a, 2, elems);
  assert_shape_text(&t, "(pred[], f32[2,3]{0,1})");
  ck_assert(hlo_shape_equal(&t, &t, true));
  HloShape row = hlo_shape_array(HLO_F32, 2, d);
  ck_assert(hlo_shape_equal(&row, &s, false) && !hlo_shape_equal(&row, &s, true));
  ck_assert_uint_eq(hlo_shape_byte_size(&row), 24);
  hlo_arena_free(a);
}
END_TEST

START_TEST(arena_alignment_and_big_blocks) {
  HloArena *a = hlo_arena_new();
  for (int i = 1; i < 2000; i += 37) {
    unsigned char *p = hlo_arena_alloc(a, (size_t)i);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    for (int k = 0; k < i; k++) ck_assert_uint_eq(p[k], 0);
    memset(p, 0xab, (size_t)i);
  }
  unsigned char *big = hlo_arena_alloc(a, 10u << 20);
  ck_assert_uint_eq(big[(10u << 20) - 1], 0);
  ck_assert_str_eq(hlo_arena_strndup(a, "abcdef", 3), "abc");
  hlo_arena_free(a);
}
END_TEST

START_TEST(arena_blocks_release) {
  HloArena *a = hlo_arena_new();
  size_t sizes[] = {100, 64 << 10, 1u << 20}; /* malloc'd, and mapped */
  unsigned char *b[3];
  for (int i = 0; i < 3; i++) {
    b[i] = hlo_arena_alloc_block(a, sizes[i]);
    ck_assert_uint_eq((uintptr_t)b[i] % 64, 0);
    ck_assert_uint_eq(b[i][0] | b[i][sizes[i] - 1], 0);
    memset(b[i], 0x5a, sizes[i]);
  }
  hlo_arena_release(a, b[1]);
  hlo_arena_release(a, b[2]);
  ck_assert_uint_eq(b[0][99], 0x5a);
  hlo_arena_free(a); /* frees b[0] */
}
END_TEST

/* The payload of an unlinked constant goes; those of constants in any
 * computation, a tuple's elements included, stay. */
START_TEST(release_dead_literals) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  hlo_module_set_entry(m, c);
  int64_t n = 8192;
  HloShape s = hlo_shape_array(HLO_F32, 1, &n);
  HloLiteral *dead = hlo_literal_new_in(m->arena, &s), *live = hlo_literal_new_in(m->arena, &s);
  for (int64_t i = 0; i < n; i++) ((float *)live->data)[i] = (float)i;
  HloShape pair[] = {s, s};
  HloShape ts = hlo_shape_tuple(m->arena, 2, pair);
  HloLiteral *tuple = hlo_literal_new_in(m->arena, &ts);
  HloInstr *k = hlo_constant_new(c, dead, NULL);
  HloInstr *ops[] = {hlo_constant_new(c, live, NULL), hlo_constant_new(c, tuple, NULL)};
  HloShape rs[] = {s, ts};
  HloShape root = hlo_shape_tuple(m->arena, 2, rs);
  hlo_set_root(c, hlo_instr_new(c, HLO_OP_TUPLE, &root, ops, 2, NULL));
  hlo_instr_remove(k);
  ck_assert_uint_eq(hlo_module_release_dead_literals(m), n * sizeof(float));
  ck_assert_uint_eq(hlo_module_release_dead_literals(m), 0);
  ck_assert(((float *)live->data)[n - 1] == (float)(n - 1));
  ck_assert(((float *)tuple->elems[1]->data)[n - 1] == 0);
  hlo_module_free(m);
}
END_TEST

START_TEST(literal_access) {
  int64_t d[] = {3};
  HloShape s = hlo_shape_array(HLO_BF16, 1, d);
  HloLiteral *l = hlo_literal_new(&s);
  hlo_literal_set_f64(l, 1, 2.5);
  ck_assert(hlo_literal_get_f64(l, 1) == 2.5 && hlo_literal_get_f64(l, 0) == 0);
  HloLiteral *c = hlo_literal_clone(l);
  ck_assert(hlo_literal_equal(l, c));
  hlo_literal_set_f64(c, 2, 1);
  ck_assert(!hlo_literal_equal(l, c));
  HloShape u = hlo_shape_array(HLO_U64, 1, d);
  HloLiteral *w = hlo_literal_new(&u);
  hlo_literal_set_s64(w, 0, -1);
  ck_assert_uint_eq(((uint64_t *)w->data)[0], UINT64_MAX);
  HloLiteral *elems[] = {l, w};
  HloLiteral *t = hlo_literal_tuple(elems, 2);
  HloLiteral *t2 = hlo_literal_clone(t);
  ck_assert(hlo_literal_equal(t, t2));
  /* Nested tuples: the clone must not share element shapes with t. */
  HloLiteral *inner[] = {hlo_literal_clone(c)};
  HloLiteral *outer_elems[] = {hlo_literal_tuple(inner, 1), t2};
  HloLiteral *outer = hlo_literal_tuple(outer_elems, 2);
  HloLiteral *outer2 = hlo_literal_clone(outer);
  hlo_literal_free(outer);
  ck_assert_int_eq(outer2->shape.tuple[0].ntuple, 1);
  ck_assert_int_eq(outer2->shape.tuple[0].tuple[0].type, HLO_BF16);
  ck_assert_int_eq(outer2->shape.tuple[1].tuple[1].type, HLO_U64);
  hlo_literal_free(outer2);
  hlo_literal_free(t);
  hlo_literal_free(c);
}
END_TEST

/* p0 -> neg -> add(neg, neg) -> root */
START_TEST(use_lists) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  hlo_module_set_entry(m, c);
  int64_t d[] = {4};
  HloShape s = hlo_shape_array(HLO_F32, 1, d);
  HloInstr *p = hlo_parameter_new(c, 0, &s, "p");
  HloInstr *neg = hlo_instr_new(c, HLO_OP_NEGATE, &s, &p, 1, NULL);
  HloInstr *ops[] = {neg, neg};
  HloInstr *add = hlo_instr_new(c, HLO_OP_ADD, &s, ops, 2, NULL);
  hlo_set_root(c, add);
  ck_assert_int_eq(neg->nusers, 1); /* one entry per distinct user */
  ck_assert_str_eq(neg->name, "negate");

  /* Insert abs(neg) and route neg's other users through it. */
  HloInstr *abs = hlo_instr_new(c, HLO_OP_ABS, &s, &neg, 1, NULL);
  hlo_replace_all_uses(neg, abs);
  ck_assert_ptr_eq(add->operands[0], abs);
  ck_assert_ptr_eq(add->operands[1], abs);
  ck_assert_int_eq(neg->nusers, 1);
  ck_assert_ptr_eq(neg->users[0], abs);
  ck_assert_int_eq(abs->nusers, 1);

  /* Replacing one operand keeps the other use. */
  hlo_set_operand(add, 0, p);
  ck_assert_int_eq(abs->nusers, 1);
  ck_assert_int_eq(p->nusers, 2);
  hlo_set_operand(add, 1, p);
  ck_assert_int_eq(abs->nusers, 0);

  /* Dead code can now be unlinked, operand edges dropped. */
  hlo_instr_remove(abs);
  hlo_instr_remove(neg);
  ck_assert_int_eq(p->nusers, 1);
  ck_assert_ptr_eq(c->first, p);
  ck_assert_ptr_eq(p->next, add);

  /* Root replacement. */
  HloInstr *mul = hlo_instr_new(c, HLO_OP_MULTIPLY, &s, (HloInstr *[]){add, add}, 2, NULL);
  hlo_replace_all_uses(add, mul);
  ck_assert_ptr_eq(c->root, mul);
  hlo_module_free(m);
}
END_TEST

START_TEST(unique_names) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  HloShape s = hlo_shape_scalar(HLO_F32);
  HloInstr *a = hlo_parameter_new(c, 0, &s, "x");
  HloInstr *b = hlo_instr_new(c, HLO_OP_NEGATE, &s, &a, 1, "x");
  HloInstr *d = hlo_instr_new(c, HLO_OP_NEGATE, &s, &b, 1, "x.1");
  ck_assert_str_eq(a->name, "x");
  ck_assert_str_ne(b->name, "x");
  ck_assert_str_ne(d->name, b->name);
  ck_assert_str_ne(d->name, "x");
  HloComputation *c2 = hlo_computation_new(m, "main");
  ck_assert_str_ne(c2->name, "main");
  hlo_module_free(m);
}
END_TEST

/* The list order is deliberately not def-before-use. */
START_TEST(post_order) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  HloShape s = hlo_shape_scalar(HLO_F32);
  HloInstr *p = hlo_parameter_new(c, 0, &s, "p");
  HloInstr *dead = hlo_instr_new(c, HLO_OP_ABS, &s, &p, 1, "dead");
  HloInstr *n1 = hlo_instr_new(c, HLO_OP_NEGATE, &s, &p, 1, "n1");
  HloInstr *n2 = hlo_instr_new(c, HLO_OP_EXP, &s, &n1, 1, "n2");
  hlo_instr_move_before(n2, p);
  hlo_set_root(c, n2);
  int n;
  HloInstr **order = hlo_post_order(c, &n);
  ck_assert_int_eq(n, 4);
  ck_assert_ptr_eq(order[0], dead == order[0] ? dead : p);
  int pos[4] = {0};
  for (int i = 0; i < n; i++) {
    if (order[i] == p) pos[0] = i;
    if (order[i] == n1) pos[1] = i;
    if (order[i] == n2) pos[2] = i;
    if (order[i] == dead) pos[3] = i;
  }
  ck_assert(pos[0] < pos[1] && pos[1] < pos[2] && pos[3] > pos[0]);
  ck_assert_ptr_eq(order[n - 1], n2);
  free(order);
  hlo_module_free(m);
}
END_TEST

/* The exact order: a dead instruction's walk comes first and takes the
 * live operands it reaches with it; the rest of the root's cone follows.
 * A chain longer than the order's initial buffers, listed backwards, checks
 * that growing them keeps every edge. */
START_TEST(post_order_exact) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  HloShape s = hlo_shape_scalar(HLO_F32);
  HloInstr *p = hlo_parameter_new(c, 0, &s, "p");
  HloInstr *dead = hlo_instr_new(c, HLO_OP_ABS, &s, &p, 1, "dead");
  enum { CHAIN = 300 };
  HloInstr *chain[CHAIN];
  HloInstr *prev = p;
  for (int i = 0; i < CHAIN; i++) {
    HloInstr *ops[2] = {prev, p};
    chain[i] = hlo_instr_new(c, HLO_OP_ADD, &s, ops, 2, "a");
    hlo_instr_move_before(chain[i], c->first);
    prev = chain[i];
  }
  hlo_set_root(c, prev);
  int n;
  HloInstr **order = hlo_post_order(c, &n);
  ck_assert_int_eq(n, CHAIN + 2);
  ck_assert_ptr_eq(order[0], p);
  ck_assert_ptr_eq(order[1], dead);
  for (int i = 0; i < CHAIN; i++) ck_assert_ptr_eq(order[2 + i], chain[i]);
  free(order);
  hlo_module_free(m);
}
END_TEST

/* Every listed instruction is found at its position, whatever the table's
 * collisions; one not listed is not. */
START_TEST(instr_index_finds_positions) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  HloShape s = hlo_shape_scalar(HLO_F32);
  enum { N = 100 };
  HloInstr *list[N + 1];
  list[0] = hlo_parameter_new(c, 0, &s, "p");
  for (int i = 1; i <= N; i++) list[i] = hlo_instr_new(c, HLO_OP_NEGATE, &s, &list[i - 1], 1, "n");
  HloInstrIndex *t = hlo_instr_index_new(list + 1, N);
  for (int i = 1; i <= N; i++) ck_assert_int_eq(hlo_instr_index_find(t, list[i]), i - 1);
  ck_assert_int_eq(hlo_instr_index_find(t, list[0]), -1);
  hlo_instr_index_free(t);
  hlo_module_free(m);
}
END_TEST

START_TEST(describe_names_tf_node) {
  HloModule *m = hlo_module_new("m");
  HloComputation *c = hlo_computation_new(m, "main");
  HloShape s = hlo_shape_scalar(HLO_F32);
  HloInstr *p = hlo_parameter_new(c, 0, &s, "p");
  HloInstr *n = hlo_instr_new(c, HLO_OP_NEGATE, &s, &p, 1, "neg");
  n->metadata.op_type = "Neg";
  n->metadata.op_name = "model/neg";
  /* Metadata of HLO text is XLA's, not a TF node's. */
  char *d = hlo_instr_describe(n);
  ck_assert_str_eq(d, "%neg = f32[] negate(%p) (op_name \"model/neg\", op_type \"Neg\")");
  free(d);
  m->from_tf = true;
  d = hlo_instr_describe(n);
  ck_assert_str_eq(d, "%neg = f32[] negate(%p) (from TF node 'model/neg' of op Neg)");
  free(d);
  hlo_module_free(m);
}
END_TEST

START_TEST(errors_wrap) {
  HloError *e = hlo_error("bad %d", 3);
  e = hlo_error_wrap(e, "file.hlo");
  ck_assert_str_eq(hlo_error_message(e), "file.hlo: bad 3");
  hlo_error_free(e);
  ck_assert_ptr_null(hlo_error_wrap(NULL, "x"));
}
END_TEST

/* The one edit distance behind every "did you mean". */
START_TEST(edit_distance) {
  ck_assert_int_eq(hlo_edit_distance("", 0, "", 0), 0);
  ck_assert_int_eq(hlo_edit_distance("--thread", 8, "--threads", 9), 1);
  ck_assert_int_eq(hlo_edit_distance("skylake", 7, "skylkae", 7), 2);
  ck_assert_int_eq(hlo_edit_distance("kitten", 6, "sitting", 7), 3);
  ck_assert_int_eq(hlo_edit_distance("abc", 3, "abcdef", 3), 0); /* lengths, not NULs */
  ck_assert_int_eq(hlo_edit_distance("a", 1, "bcdefghijklmn", 13), HLO_EDIT_FAR);
  char longer[80];
  memset(longer, 'x', sizeof longer);
  ck_assert_int_eq(hlo_edit_distance(longer, 65, longer, 65), HLO_EDIT_FAR);
  ck_assert_int_eq(hlo_edit_distance(longer, 64, longer, 63), 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("hlo_ir");
  TCase *t = tcase_create("ir");
  tcase_add_test(t, types_by_name);
  tcase_add_test(t, half_conversions);
  tcase_add_test(t, shape_text);
  tcase_add_test(t, arena_alignment_and_big_blocks);
  tcase_add_test(t, arena_blocks_release);
  tcase_add_test(t, release_dead_literals);
  tcase_add_test(t, literal_access);
  tcase_add_test(t, use_lists);
  tcase_add_test(t, unique_names);
  tcase_add_test(t, post_order);
  tcase_add_test(t, post_order_exact);
  tcase_add_test(t, instr_index_finds_positions);
  tcase_add_test(t, describe_names_tf_node);
  tcase_add_test(t, errors_wrap);
  tcase_add_test(t, edit_distance);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
