/*
 * test_passes_while.c — while-invariant: constants a loop only carries are
 * sunk into its body and condition, and invariant elements nothing reads
 * leave the loop state; while-input-dot: a loop's products of the rows of
 * a sequence it only carries by a constant become one product before it.  HLO text in, the expected loops out, the
 * differential check (evaluator before == after) on every case, and the
 * loops it must leave alone: swapped elements, shared computations,
 * states that all change.
 */
#include "passes_util.h"

/* The differential check of the pass on m (passes_util.h). */
static void run_checked(HloModule *m, bool expect_change) {
  pu_differential_on(m, pass_while_invariant, expect_change, 1e-6, 1e-6);
}

static HloComputation *comp(const HloModule *m, const char *name) {
  HloComputation *c = hlo_module_find_computation(m, name);
  ck_assert_msg(c != NULL, "no computation %s", name);
  return c;
}

/* The first instruction of c with opcode op. */
static HloInstr *first_of(const HloComputation *c, HloOpcode op) {
  for (HloInstr *in = c->first; in; in = in->next)
    if (in->op == op) return in;
  ck_abort_msg("computation %s has no %s", c->name, hlo_opcode_name(op));
  return NULL;
}

static int count_in(const HloComputation *c, HloOpcode op) {
  int n = 0;
  for (const HloInstr *in = c->first; in; in = in->next) n += in->op == op;
  return n;
}

/* Constants of the module whose payload is lit (by pointer). */
static int holders_of(const HloModule *m, const HloLiteral *lit) {
  int n = 0;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *in = c->first; in; in = in->next)
      n += in->op == HLO_OP_CONSTANT && in->literal == lit;
  return n;
}

/* get-tuple-elements anywhere in m with an index >= n. */
static int gtes_from(const HloModule *m, int n) {
  int k = 0;
  for (const HloComputation *c = m->first; c; c = c->next)
    for (const HloInstr *in = c->first; in; in = in->next)
      k += in->op == HLO_OP_GET_TUPLE_ELEMENT && in->tuple_index >= n;
  return k;
}

/* "{{…}, …}": a rows×cols literal of small distinct values. */
static void matrix_text(char *buf, size_t len, int rows, int cols) {
  size_t at = 0;
  at += (size_t)snprintf(buf + at, len - at, "{");
  for (int r = 0; r < rows; r++) {
    at += (size_t)snprintf(buf + at, len - at, "%s{", r ? ", " : "");
    for (int c = 0; c < cols; c++)
      at += (size_t)snprintf(buf + at, len - at, "%s%g", c ? ", " : "",
                             0.05 * ((r * cols + c) % 11) - 0.25);
    at += (size_t)snprintf(buf + at, len - at, "}");
  }
  snprintf(buf + at, len - at, "}");
}

/* A frozen-LSTM-like loop: a counter, h and c, and the weights, the bias
 * and the trip count, which the loop only carries (constants). */
START_TEST(lstm_weights_are_sunk_and_the_state_shrinks) {
  char w[4096], text[16384];
  matrix_text(w, sizeof w, 4, 16);
#define S "(s32[], f32[2,4], f32[2,4], f32[4,16], f32[16], s32[])"
  snprintf(text, sizeof text,
           "HloModule lstm\n"
           "cond {\n  s = " S " parameter(0)\n"
           "  i = s32[] get-tuple-element(s), index=0\n"
           "  n = s32[] get-tuple-element(s), index=5\n"
           "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
           "body {\n  s = " S " parameter(0)\n"
           "  i = s32[] get-tuple-element(s), index=0\n"
           "  h = f32[2,4] get-tuple-element(s), index=1\n"
           "  c = f32[2,4] get-tuple-element(s), index=2\n"
           "  w = f32[4,16] get-tuple-element(s), index=3\n"
           "  b = f32[16] get-tuple-element(s), index=4\n"
           "  n = s32[] get-tuple-element(s), index=5\n"
           "  one = s32[] constant(1)\n  i1 = s32[] add(i, one)\n"
           "  z = f32[2,16] dot(h, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
           "  bb = f32[2,16] broadcast(b), dimensions={1}\n  g = f32[2,16] add(z, bb)\n"
           "  gi = f32[2,4] slice(g), slice={[0:2], [0:4]}\n"
           "  gf = f32[2,4] slice(g), slice={[0:2], [4:8]}\n"
           "  gc = f32[2,4] slice(g), slice={[0:2], [8:12]}\n"
           "  go = f32[2,4] slice(g), slice={[0:2], [12:16]}\n"
           "  si = f32[2,4] logistic(gi)\n  sf = f32[2,4] logistic(gf)\n"
           "  tc = f32[2,4] tanh(gc)\n  so = f32[2,4] logistic(go)\n"
           "  fc = f32[2,4] multiply(sf, c)\n  it = f32[2,4] multiply(si, tc)\n"
           "  c1 = f32[2,4] add(fc, it)\n  t1 = f32[2,4] tanh(c1)\n"
           "  h1 = f32[2,4] multiply(so, t1)\n"
           "  ROOT r = " S " tuple(i1, h1, c1, w, b, n)\n}\n"
           "ENTRY e {\n  x = f32[2,4] parameter(0)\n  c0 = f32[2,4] parameter(1)\n"
           "  zero = s32[] constant(0)\n  w = f32[4,16] constant(%s)\n"
           "  b = f32[16] constant({0, 0.1, 0.2, 0.3, 1, 1, 1, 1, 0, 0, 0, 0, -1, 0, 1, 2})\n"
           "  n = s32[] constant(3)\n"
           "  t = " S " tuple(zero, x, c0, w, b, n)\n"
           "  wl = " S " while(t), condition=cond, body=body\n"
           "  h = f32[2,4] get-tuple-element(wl), index=1\n"
           "  c = f32[2,4] get-tuple-element(wl), index=2\n"
           "  bias = f32[16] get-tuple-element(wl), index=4\n"
           "  ROOT o = (f32[2,4], f32[2,4], f32[16]) tuple(h, c, bias)\n}\n",
           w);
#undef S
  HloModule *m = ck_parse_verified(text);
  HloComputation *body = comp(m, "body"), *cond = comp(m, "cond");
  const HloLiteral *weights = NULL;
  for (HloInstr *in = m->entry->first; in; in = in->next)
    if (in->op == HLO_OP_CONSTANT && in->shape.rank == 2) weights = in->literal;
  ck_assert_ptr_nonnull(weights);
  run_checked(m, true);

  /* The state is the counter, h and c. */
  HloInstr *wl = first_of(m->entry, HLO_OP_WHILE);
  ck_assert_int_eq(wl->shape.ntuple, 3);
  ck_assert_int_eq(body->params[0]->shape.ntuple, 3);
  ck_assert_int_eq(cond->params[0]->shape.ntuple, 3);
  ck_assert_int_eq(body->root->noperands, 3);
  ck_assert_int_eq(first_of(m->entry, HLO_OP_TUPLE)->noperands, 3);
  ck_assert_int_eq(gtes_from(m, 3), 0);
  /* The dot reads the weights as a constant, which shares its payload
   * with the original; the original is gone. */
  HloInstr *dot = first_of(body, HLO_OP_DOT);
  ck_assert_int_eq(dot->operands[1]->op, HLO_OP_CONSTANT);
  ck_assert_ptr_eq(dot->operands[1]->literal, weights);
  ck_assert_int_eq(holders_of(m, weights), 1);
  /* The trip count is a constant of the condition; the bias read after
   * the loop is the bias constant. */
  ck_assert_str_eq(hlo_opcode_name(cond->root->operands[1]->op), "constant");
  ck_assert_str_eq(pu_root(m), "tuple(get-tuple-element(while(tuple(constant, x, c0))), "
                               "get-tuple-element(while(tuple(constant, x, c0))), constant)");
  /* A second run has nothing left to do. */
  ck_assert(!pu_run(m, pass_while_invariant));
  hlo_module_free(m);
}
END_TEST

/* State (i, z, acc, y, k): y is invariant and read (kept), z invariant and
 * never read (removed), k a broadcast constant (sunk, removed). */
#define INV_S "(s32[], f32[3], f32[3], f32[3], f32[3])"
#define INV_HEAD                                                              \
  "HloModule inv\n"                                                           \
  "cond {\n  s = " INV_S " parameter(0)\n"                                    \
  "  i = s32[] get-tuple-element(s), index=0\n"                               \
  "  n = s32[] constant(4)\n"                                                 \
  "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"                       \
  "body {\n  s = " INV_S " parameter(0)\n"                                    \
  "  i = s32[] get-tuple-element(s), index=0\n"                               \
  "  z = f32[3] get-tuple-element(s), index=1\n"                              \
  "  acc = f32[3] get-tuple-element(s), index=2\n"                            \
  "  y = f32[3] get-tuple-element(s), index=3\n"                              \
  "  k = f32[3] get-tuple-element(s), index=4\n"                              \
  "  one = s32[] constant(1)\n  i1 = s32[] add(i, one)\n"                     \
  "  yk = f32[3] multiply(y, k)\n  a1 = f32[3] add(acc, yk)\n"                \
  "  ROOT r = " INV_S " tuple(i1, z, a1, y, k)\n}\n"                          \
  "ENTRY e {\n  x = f32[3] parameter(0)\n  y = f32[3] parameter(1)\n"         \
  "  z = f32[3] parameter(2)\n  zero = s32[] constant(0)\n"                   \
  "  two = f32[] constant(2)\n  k = f32[3] broadcast(two), dimensions={}\n"  \
  "  t = " INV_S " tuple(zero, z, x, y, k)\n"
#define INV_LOOP INV_HEAD "  wl = " INV_S " while(t), condition=cond, body=body\n"

START_TEST(invariant_elements_read_are_kept_unread_are_removed) {
  HloModule *m = ck_parse_verified(INV_LOOP
                                   "  a = f32[3] get-tuple-element(wl), index=2\n"
                                   "  yy = f32[3] get-tuple-element(wl), index=3\n"
                                   "  zz = f32[3] get-tuple-element(wl), index=1\n"
                                   "  ROOT o = (f32[3], f32[3], f32[3]) tuple(a, yy, zz)\n}\n");
  run_checked(m, true);
  HloComputation *body = comp(m, "body");
  HloInstr *wl = first_of(m->entry, HLO_OP_WHILE);
  ck_assert_int_eq(wl->shape.ntuple, 3);
  /* acc and y moved from 2 and 3 to 1 and 2; z after the loop is z. */
  HloInstr *root = m->entry->root;
  ck_assert_int_eq(root->operands[0]->op, HLO_OP_GET_TUPLE_ELEMENT);
  ck_assert_int_eq(root->operands[0]->tuple_index, 1);
  ck_assert_int_eq(root->operands[1]->tuple_index, 2);
  ck_assert_ptr_eq(root->operands[2], m->entry->params[2]);
  /* y is still read from the state, k is a broadcast constant now. */
  HloInstr *mul = first_of(body, HLO_OP_MULTIPLY);
  ck_assert_int_eq(mul->operands[0]->op, HLO_OP_GET_TUPLE_ELEMENT);
  ck_assert_int_eq(mul->operands[0]->tuple_index, 2);
  ck_assert_int_eq(mul->operands[1]->op, HLO_OP_BROADCAST);
  ck_assert_int_eq(mul->operands[1]->operands[0]->op, HLO_OP_CONSTANT);
  ck_assert_ptr_eq(body->root->operands[2], mul->operands[0]);
  ck_assert_int_eq(gtes_from(m, 3), 0);
  hlo_module_free(m);
}
END_TEST

START_TEST(whole_result_users_get_a_rebuilt_tuple) {
  HloModule *m = ck_parse_verified(INV_LOOP
                                   "  a = f32[3] get-tuple-element(wl), index=2\n"
                                   "  n = f32[3] negate(a)\n"
                                   "  ROOT o = (" INV_S ", f32[3]) tuple(wl, n)\n}\n");
  run_checked(m, true);
  HloInstr *wl = first_of(m->entry, HLO_OP_WHILE);
  ck_assert_int_eq(wl->shape.ntuple, 3);
  const HloInstr *whole = m->entry->root->operands[0];
  ck_assert_int_eq(whole->op, HLO_OP_TUPLE);
  ck_assert_int_eq(whole->noperands, 5);
  ck_assert_ptr_eq(whole->operands[1], m->entry->params[2]);
  ck_assert_int_eq(whole->operands[4]->op, HLO_OP_BROADCAST);
  ck_assert_int_eq(whole->operands[3]->op, HLO_OP_GET_TUPLE_ELEMENT);
  ck_assert_ptr_eq(whole->operands[3]->operands[0], wl);
  ck_assert_int_eq(whole->operands[3]->tuple_index, 2);
  hlo_module_free(m);

  /* The while as the entry's root. */
  m = ck_parse_verified(INV_HEAD "  ROOT wl = " INV_S " while(t), condition=cond, body=body\n}\n");
  run_checked(m, true);
  ck_assert_int_eq(first_of(m->entry, HLO_OP_WHILE)->shape.ntuple, 3);
  ck_assert_int_eq(m->entry->root->op, HLO_OP_TUPLE);
  ck_assert_int_eq(m->entry->root->noperands, 5);
  ck_assert_ptr_eq(m->entry->root->operands[1], m->entry->params[2]);
  hlo_module_free(m);
}
END_TEST

/* An inner loop inside an outer loop's body, both carrying the weights:
 * one run sinks them into the outer body, then into the inner one. */
START_TEST(nested_loops) {
  char w[1024], text[8192];
  matrix_text(w, sizeof w, 4, 4);
#define S "(s32[], f32[2,4], f32[4,4])"
  snprintf(text, sizeof text,
           "HloModule nest\n"
           "icond {\n  s = " S " parameter(0)\n  j = s32[] get-tuple-element(s), index=0\n"
           "  k = s32[] constant(2)\n  ROOT lt = pred[] compare(j, k), direction=LT\n}\n"
           "ibody {\n  s = " S " parameter(0)\n  j = s32[] get-tuple-element(s), index=0\n"
           "  h = f32[2,4] get-tuple-element(s), index=1\n"
           "  w = f32[4,4] get-tuple-element(s), index=2\n"
           "  one = s32[] constant(1)\n  j1 = s32[] add(j, one)\n"
           "  d = f32[2,4] dot(h, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
           "  t = f32[2,4] tanh(d)\n  ROOT r = " S " tuple(j1, t, w)\n}\n"
           "ocond {\n  s = " S " parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
           "  n = s32[] constant(3)\n  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
           "obody {\n  s = " S " parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
           "  h = f32[2,4] get-tuple-element(s), index=1\n"
           "  w = f32[4,4] get-tuple-element(s), index=2\n"
           "  zero = s32[] constant(0)\n  it = " S " tuple(zero, h, w)\n"
           "  iw = " S " while(it), condition=icond, body=ibody\n"
           "  h1 = f32[2,4] get-tuple-element(iw), index=1\n"
           "  one = s32[] constant(1)\n  i1 = s32[] add(i, one)\n"
           "  ROOT r = " S " tuple(i1, h1, w)\n}\n"
           "ENTRY e {\n  x = f32[2,4] parameter(0)\n  zero = s32[] constant(0)\n"
           "  w = f32[4,4] constant(%s)\n  t = " S " tuple(zero, x, w)\n"
           "  wl = " S " while(t), condition=ocond, body=obody\n"
           "  ROOT h = f32[2,4] get-tuple-element(wl), index=1\n}\n",
           w);
#undef S
  HloModule *m = ck_parse_verified(text);
  run_checked(m, true);
  ck_assert_int_eq(first_of(m->entry, HLO_OP_WHILE)->shape.ntuple, 2);
  HloComputation *obody = comp(m, "obody"), *ibody = comp(m, "ibody");
  ck_assert_int_eq(first_of(obody, HLO_OP_WHILE)->shape.ntuple, 2);
  ck_assert_int_eq(first_of(ibody, HLO_OP_DOT)->operands[1]->op, HLO_OP_CONSTANT);
  ck_assert_int_eq(count_in(obody, HLO_OP_CONSTANT), 2); /* zero, one */
  ck_assert_int_eq(count_in(m->entry, HLO_OP_CONSTANT), 1);
  ck_assert_int_eq(gtes_from(m, 2), 0);
  ck_assert(!pu_run(m, pass_while_invariant));
  hlo_module_free(m);
}
END_TEST

/* Root operands 1 and 2 are get-tuple-elements of the state's 2 and 1:
 * they swap every iteration (an odd trip count shows it), so neither is
 * invariant, constants or not. */
START_TEST(swapped_elements_are_kept) {
  HloModule *m = ck_parse_verified(
      "HloModule swap\n"
      "cond {\n  s = (s32[], f32[3], f32[3], f32[3]) parameter(0)\n"
      "  i = s32[] get-tuple-element(s), index=0\n  n = s32[] constant(3)\n"
      "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
      "body {\n  s = (s32[], f32[3], f32[3], f32[3]) parameter(0)\n"
      "  i = s32[] get-tuple-element(s), index=0\n"
      "  a = f32[3] get-tuple-element(s), index=1\n"
      "  b = f32[3] get-tuple-element(s), index=2\n"
      "  acc = f32[3] get-tuple-element(s), index=3\n"
      "  one = s32[] constant(1)\n  i1 = s32[] add(i, one)\n"
      "  acc1 = f32[3] add(acc, a)\n"
      "  ROOT r = (s32[], f32[3], f32[3], f32[3]) tuple(i1, b, a, acc1)\n}\n"
      "ENTRY e {\n  x = f32[3] parameter(0)\n  zero = s32[] constant(0)\n"
      "  ka = f32[3] constant({1, 2, 3})\n  kb = f32[3] constant({-5, 7, 0.5})\n"
      "  t = (s32[], f32[3], f32[3], f32[3]) tuple(zero, ka, kb, x)\n"
      "  wl = (s32[], f32[3], f32[3], f32[3]) while(t), condition=cond, body=body\n"
      "  a = f32[3] get-tuple-element(wl), index=1\n"
      "  acc = f32[3] get-tuple-element(wl), index=3\n"
      "  ROOT o = (f32[3], f32[3]) tuple(a, acc)\n}\n");
  run_checked(m, false);
  ck_assert_int_eq(first_of(m->entry, HLO_OP_WHILE)->shape.ntuple, 4);
  ck_assert_int_eq(count_in(comp(m, "body"), HLO_OP_CONSTANT), 1);
  hlo_module_free(m);
}
END_TEST

START_TEST(nothing_to_do) {
  /* Every element changes. */
  HloModule *m = ck_parse_verified(
      "HloModule none\n"
      "cond {\n  s = (s32[], f32[3]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
      "  n = s32[] constant(3)\n  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
      "body {\n  s = (s32[], f32[3]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
      "  a = f32[3] get-tuple-element(s), index=1\n  one = s32[] constant(1)\n"
      "  i1 = s32[] add(i, one)\n  a1 = f32[3] exponential(a)\n"
      "  ROOT r = (s32[], f32[3]) tuple(i1, a1)\n}\n"
      "ENTRY e {\n  x = f32[3] parameter(0)\n  zero = s32[] constant(0)\n"
      "  t = (s32[], f32[3]) tuple(zero, x)\n"
      "  wl = (s32[], f32[3]) while(t), condition=cond, body=body\n"
      "  ROOT a = f32[3] get-tuple-element(wl), index=1\n}\n");
  run_checked(m, false);
  hlo_module_free(m);

  /* Two loops share their computations (with different constants, which
   * one body cannot both hold), and a loop whose init is no tuple. */
  m = ck_parse_verified(
      "HloModule shared\n"
      "cond {\n  s = (s32[], f32[3], f32[3]) parameter(0)\n"
      "  i = s32[] get-tuple-element(s), index=0\n"
      "  n = s32[] constant(3)\n  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
      "body {\n  s = (s32[], f32[3], f32[3]) parameter(0)\n"
      "  i = s32[] get-tuple-element(s), index=0\n"
      "  a = f32[3] get-tuple-element(s), index=1\n"
      "  k = f32[3] get-tuple-element(s), index=2\n  one = s32[] constant(1)\n"
      "  i1 = s32[] add(i, one)\n  a1 = f32[3] multiply(a, k)\n"
      "  ROOT r = (s32[], f32[3], f32[3]) tuple(i1, a1, k)\n}\n"
      "ENTRY e {\n  x = f32[3] parameter(0)\n  p = (s32[], f32[3], f32[3]) parameter(1)\n"
      "  zero = s32[] constant(0)\n"
      "  k1 = f32[3] constant({1, 2, 3})\n  k2 = f32[3] constant({0.5, -1, 2})\n"
      "  t1 = (s32[], f32[3], f32[3]) tuple(zero, x, k1)\n"
      "  t2 = (s32[], f32[3], f32[3]) tuple(zero, x, k2)\n"
      "  w1 = (s32[], f32[3], f32[3]) while(t1), condition=cond, body=body\n"
      "  w2 = (s32[], f32[3], f32[3]) while(t2), condition=cond, body=body\n"
      "  w3 = (s32[], f32[3], f32[3]) while(p), condition=cond, body=body\n"
      "  a1 = f32[3] get-tuple-element(w1), index=1\n"
      "  a2 = f32[3] get-tuple-element(w2), index=1\n"
      "  a3 = f32[3] get-tuple-element(w3), index=1\n"
      "  ROOT o = (f32[3], f32[3], f32[3]) tuple(a1, a2, a3)\n}\n");
  run_checked(m, false);
  hlo_module_free(m);
}
END_TEST

START_TEST(the_pipeline_runs_it) {
  ck_assert(pass_name_is_known("while-invariant"));
  HloModule *m = ck_parse_verified(INV_LOOP
                                   "  a = f32[3] get-tuple-element(wl), index=2\n"
                                   "  ROOT n = f32[3] negate(a)\n}\n");
  ck_assert(!pass_run_pipeline(m, NULL));
  /* Only the counter and acc stay (y is read); z and k are gone. */
  ck_assert_int_eq(first_of(m->entry, HLO_OP_WHILE)->shape.ntuple, 3);
  hlo_module_free(m);
}
END_TEST

/* --stats' trip counts (passes/stats.c): a loop that also counts its
 * iterations in element 1, run by the evaluator, is the oracle for the
 * static count; its body's dot makes the per-run FLOPs trips × 128. */
static HloModule *counted_loop(const char *next_i, const char *compare, const char *entry_i,
                               const char *limit) {
  char text[2048];
  snprintf(text, sizeof text,
           "HloModule m\n"
           "cond {\n  p = (s32[], s32[], s32[], f32[4,4]) parameter(0)\n"
           "  i = s32[] get-tuple-element(p), index=0\n"
           "  b = s32[] get-tuple-element(p), index=2\n"
           "  k = s32[] constant(7)\n"
           "  ROOT c = pred[] compare(%s\n}\n"
           "body {\n  p = (s32[], s32[], s32[], f32[4,4]) parameter(0)\n"
           "  i = s32[] get-tuple-element(p), index=0\n"
           "  n = s32[] get-tuple-element(p), index=1\n"
           "  b = s32[] get-tuple-element(p), index=2\n"
           "  x = f32[4,4] get-tuple-element(p), index=3\n"
           "  s = s32[] constant(3)\n  one = s32[] constant(1)\n"
           "  i2 = s32[] %s\n  n2 = s32[] add(n, one)\n"
           "  d = f32[4,4] dot(x, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
           "  ROOT t = (s32[], s32[], s32[], f32[4,4]) tuple(i2, n2, b, d)\n}\n"
           "ENTRY e {\n  q = s32[] parameter(0)\n  i0 = s32[] %s\n"
           "  z = s32[] constant(0)\n  b0 = s32[] %s\n"
           "  h = f32[] constant(0.5)\n  x0 = f32[4,4] broadcast(h), dimensions={}\n"
           "  init = (s32[], s32[], s32[], f32[4,4]) tuple(i0, z, b0, x0)\n"
           "  w = (s32[], s32[], s32[], f32[4,4]) while(init), condition=cond, body=body\n"
           "  ROOT r = s32[] get-tuple-element(w), index=1\n}\n",
           compare, next_i, entry_i, limit);
  return ck_parse_verified(text);
}

START_TEST(static_trip_counts) {
  static const struct {
    const char *next_i, *compare, *entry_i, *limit;
    bool known;
  } cases[] = {
      {"add(i, s)", "i, b), direction=LT", "constant(0)", "constant(10)", true},   /* 4 */
      {"add(s, i)", "i, b), direction=LE", "constant(-2)", "constant(10)", true},  /* 5 */
      {"add(i, s)", "b, i), direction=GT", "constant(1)", "constant(9)", true},    /* b > i */
      {"add(i, s)", "i, k), direction=LT", "constant(0)", "constant(0)", true},    /* constant */
      {"subtract(i, s)", "i, b), direction=GT", "constant(20)", "constant(2)", true},
      {"subtract(i, s)", "i, b), direction=GE", "constant(20)", "constant(2)", true},
      {"add(i, s)", "i, b), direction=NE", "constant(1)", "constant(13)", true},
      {"add(i, s)", "i, b), direction=LT", "constant(12)", "constant(10)", true},  /* 0 */
      {"add(i, s)", "i, b), direction=LT", "parameter(0)", "constant(10)", false},
      {"add(i, s)", "i, b), direction=LT", "constant(0)", "parameter(0)", false},
      {"multiply(i, s)", "i, b), direction=LT", "constant(1)", "constant(10)", false},
      {"subtract(s, i)", "i, b), direction=LT", "constant(0)", "constant(10)", false},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    /* "parameter(0)" is the entry's q: written as a use of it. */
    const char *entry_i = strcmp(cases[c].entry_i, "parameter(0)") ? cases[c].entry_i
                                                                   : "add(q, q)";
    const char *limit = strcmp(cases[c].limit, "parameter(0)") ? cases[c].limit : "add(q, q)";
    HloModule *m = counted_loop(cases[c].next_i, cases[c].compare, entry_i, limit);
    PassStats st;
    ck_assert(!pass_stats(m, NULL, &st));
    ck_assert_int_eq(st.nwhile, 1);
    ck_assert_str_eq(st.while_name[0], "w");
    ck_assert_int_eq(st.flops, 128);
    if (!cases[c].known) {
      ck_assert_msg(st.while_trips[0] == -1, "case %zu: %lld", c, (long long)st.while_trips[0]);
      ck_assert_int_eq(st.while_unknown, 1);
      ck_assert_int_eq(st.run_flops, 128); /* counted once */
      hlo_module_free(m);
      continue;
    }
    HloShape sq = hlo_shape_array(HLO_S32, 0, NULL);
    HloLiteral *q = hlo_literal_new(&sq), *out = NULL;
    HloError *e = hlo_evaluate(m, &q, 1, &out);
    ck_assert_msg(!e, "%s", e ? hlo_error_message(e) : "");
    int64_t iterations = hlo_literal_get_s64(out, 0);
    ck_assert_msg(st.while_trips[0] == iterations, "case %zu: trip count %lld, the loop ran %lld",
                  c, (long long)st.while_trips[0], (long long)iterations);
    ck_assert_int_eq(st.while_unknown, 0);
    ck_assert_int_eq(st.run_flops, 128 * iterations);
    ck_assert(st.run_kernels > st.kernels || iterations <= 1);
    hlo_literal_free(q);
    hlo_literal_free(out);
    hlo_module_free(m);
  }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* while-input-dot                                                          */
/* ------------------------------------------------------------------------ */

/* A recurrent loop over the rows of a sequence x f32[5,1,4] it only
 * carries: h' = tanh(dot(row i of x, W) + dot(h, U)); the dot of the row
 * reads the slice of sizes `slice_sizes` ("1,1,4": one whole row)
 * reshaped to [1, K], and W, the instruction `w_text`; the body's root
 * carries `next_x` on ("x": the sequence is invariant, "xn": negated each
 * time); the loop runs `trips` times.  The whole state is also returned, so the while has a user
 * other than its get-tuple-elements. */
static HloModule *input_loop(const char *slice_sizes, const char *w_text, const char *next_x,
                             int trips) {
  char u[2048], text[16384];
  matrix_text(u, sizeof u, 8, 8);
#define S "(s32[], f32[1,8], f32[5,1,4])"
  snprintf(text, sizeof text,
           "HloModule rnn\n"
           "cond {\n  s = " S " parameter(0)\n"
           "  i = s32[] get-tuple-element(s), index=0\n  n = s32[] constant(%d)\n"
           "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
           "body {\n  s = " S " parameter(0)\n"
           "  i = s32[] get-tuple-element(s), index=0\n"
           "  h = f32[1,8] get-tuple-element(s), index=1\n"
           "  x = f32[5,1,4] get-tuple-element(s), index=2\n"
           "  zero = s32[] constant(0)\n"
           "  row = f32[%s] dynamic-slice(x, i, zero, zero), dynamic_slice_sizes={%s}\n"
           "  r2 = f32[1,%c] reshape(row)\n"
           "  w = %s\n"
           "  u = f32[8,8] constant(%s)\n"
           "  xw = f32[1,8] dot(r2, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
           "  hu = f32[1,8] dot(h, u), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
           "  a = f32[1,8] add(xw, hu)\n  h1 = f32[1,8] tanh(a)\n"
           "  one = s32[] constant(1)\n  i1 = s32[] add(i, one)\n"
           "  xn = f32[5,1,4] negate(x)\n"
           "  ROOT r = " S " tuple(i1, h1, %s)\n}\n"
           "ENTRY e {\n  xs = f32[5,1,4] parameter(0)\n  h0 = f32[1,8] parameter(1)\n"
           "  zero = s32[] constant(0)\n"
           "  t = " S " tuple(zero, h0, xs)\n"
           "  wl = " S " while(t), condition=cond, body=body\n"
           "  h = f32[1,8] get-tuple-element(wl), index=1\n"
           "  ROOT o = (f32[1,8], " S ") tuple(h, wl)\n}\n",
           trips, slice_sizes, slice_sizes, slice_sizes[4], w_text, u, next_x);
#undef S
  return ck_parse_verified(text);
}

static char w48[2048];
static const char *w_constant(void) {
  char m[1900];
  matrix_text(m, sizeof m, 4, 8);
  snprintf(w48, sizeof w48, "f32[4,8] constant(%s)", m);
  return w48;
}

START_TEST(input_dots_leave_the_loop) {
  HloModule *m = input_loop("1,1,4", w_constant(), "x", 5);
  HloComputation *body = comp(m, "body"), *cond = comp(m, "cond");
  pu_differential_on(m, pass_while_input_dot, true, 1e-6, 1e-6);
  /* The rows' products are one dot before the loop, carried as element 3;
   * the body slices its row i; the dot of h stays. */
  HloInstr *wl = first_of(m->entry, HLO_OP_WHILE);
  ck_assert_int_eq(wl->shape.ntuple, 4);
  ck_assert_int_eq(body->params[0]->shape.ntuple, 4);
  ck_assert_int_eq(cond->params[0]->shape.ntuple, 4);
  HloInstr *p = wl->operands[0]->operands[3];
  ck_assert_int_eq(p->op, HLO_OP_DOT);
  ck_assert_int_eq(p->shape.dims[0], 5);
  ck_assert_int_eq(p->shape.dims[1], 8);
  ck_assert_int_eq(count_in(body, HLO_OP_DOT), 1);
  ck_assert_str_eq(hlo_opcode_name(first_of(body, HLO_OP_DOT)->operands[0]->op),
                   "get-tuple-element");
  int slices = 0;
  for (HloInstr *in = body->first; in; in = in->next)
    if (in->op == HLO_OP_DYNAMIC_SLICE && in->operands[0]->op == HLO_OP_GET_TUPLE_ELEMENT &&
        in->operands[0]->tuple_index == 3)
      slices++;
  ck_assert_int_eq(slices, 1);
  /* The root still returns the old state (a tuple of its first three
   * elements), and a second run finds nothing. */
  ck_assert_int_eq(m->entry->root->operands[1]->shape.ntuple, 3);
  ck_assert(!pu_run(m, pass_while_input_dot));
  hlo_module_free(m);
}
END_TEST

START_TEST(input_dots_it_must_leave_alone) {
  char w28[2048], m28[1900];
  matrix_text(m28, sizeof m28, 2, 8);
  snprintf(w28, sizeof w28, "f32[2,8] constant(%s)", m28);
  HloModule *ms[] = {
      input_loop("1,1,4", w_constant(), "xn", 5), /* the sequence changes */
      input_loop("1,1,2", w28, "x", 5),           /* half a row */
      input_loop("1,1,4", "f32[4,8] iota(), iota_dimension=0", "x", 5), /* W not a constant */
      input_loop("1,1,4", w_constant(), "x", 2),  /* 2 trips: 3 of 5 rows wasted */
  };
  for (size_t k = 0; k < sizeof ms / sizeof *ms; k++) {
    ck_assert_msg(!pu_run(ms[k], pass_while_input_dot), "case %zu changed", k);
    ck_assert_int_eq(count_in(comp(ms[k], "body"), HLO_OP_DOT), 2);
    hlo_module_free(ms[k]);
  }
}
END_TEST

START_TEST(the_pipeline_hoists_input_dots) {
  ck_assert(pass_name_is_known("while-input-dot"));
  HloModule *m = input_loop("1,1,4", w_constant(), "x", 5);
  ck_assert(!pass_run_pipeline(m, NULL));
  /* The loop keeps its counter, h and the rows' products: the sequence,
   * which only the sliced rows read, has left its state. */
  HloInstr *wl = NULL;
  for (HloInstr *in = m->entry->first; in; in = in->next)
    if (in->op == HLO_OP_WHILE) wl = in;
  ck_assert_ptr_nonnull(wl);
  ck_assert_int_eq(wl->shape.ntuple, 3);
  ck_assert_int_eq(wl->shape.tuple[2].dims[0], 5);
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_while");
  TCase *t = tcase_create("while_invariant");
  tcase_add_test(t, lstm_weights_are_sunk_and_the_state_shrinks);
  tcase_add_test(t, invariant_elements_read_are_kept_unread_are_removed);
  tcase_add_test(t, whole_result_users_get_a_rebuilt_tuple);
  tcase_add_test(t, nested_loops);
  tcase_add_test(t, swapped_elements_are_kept);
  tcase_add_test(t, nothing_to_do);
  tcase_add_test(t, the_pipeline_runs_it);
  tcase_add_test(t, static_trip_counts);
  suite_add_tcase(s, t);
  TCase *d = tcase_create("while_input_dot");
  tcase_add_test(d, input_dots_leave_the_loop);
  tcase_add_test(d, input_dots_it_must_leave_alone);
  tcase_add_test(d, the_pipeline_hoists_input_dots);
  suite_add_tcase(s, d);
  return ck_run_suite(s);
}
