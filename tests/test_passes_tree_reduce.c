/*
 * test_passes_tree_reduce.c — tree-reduce: a reduction of long rows into
 * few results becomes a reduction of each row's chunks, then of their
 * partials, where the backend asks for it (the GPU's policy).  HLO text
 * in, the expected graph out, the evaluator's results before and after
 * the same (to the bit for integers, max and logical ops; within the
 * rounding of a reassociated sum for f32 sums); and the reductions it
 * must leave alone: short rows, many rows, reduced dims that are not the
 * trailing ones, an init value that may not be applied per chunk, a
 * computation that is no single op, two inputs, a narrow float sum, and
 * a backend that does not ask.  The policy here splits rows of 64
 * elements or more into fewer than 8 results, so that the evaluator runs
 * small modules.
 */
#include "passes_util.h"

static PassPolicy tree_policy(void) {
  PassPolicy p = pu_capable;
  p.tree_reduce_min_row = 64;
  p.tree_reduce_max_rows = 8;
  return p;
}

static bool tree(HloModule *m) {
  PassPolicy p = tree_policy();
  return pass_tree_reduce(m, &p);
}

static bool tree_not_asked(HloModule *m) { return pass_tree_reduce(m, &pu_capable); }

/* reduce(x: TYPE[DIMS], init) over REDUCED by `op`, as a module. */
static char *reduce_text(const char *type, const char *dims, const char *out_dims,
                         const char *reduced, const char *op, const char *init) {
  HloStr s = {0};
  hlo_str_printf(&s,
                 "HloModule r\n\nf {\n  a = %s[] parameter(0)\n  b = %s[] parameter(1)\n"
                 "  ROOT c = %s[] %s(a, b)\n}\n\nENTRY main {\n  x = %s[%s] parameter(0)\n"
                 "  z = %s[] constant(%s)\n"
                 "  ROOT y = %s[%s] reduce(x, z), dimensions={%s}, to_apply=f\n}\n",
                 type, type, type, op, type, dims, type, init, type, out_dims, reduced);
  return hlo_str_take(&s);
}

/* The chunk reduce's and the partial reduce's shapes, checked. */
static void assert_tree(const HloModule *m, const char *partial, const char *chunks) {
  const HloInstr *y = m->entry->root;
  ck_assert_int_eq(y->op, HLO_OP_REDUCE);
  const HloInstr *p = y->operands[0];
  ck_assert_int_eq(p->op, HLO_OP_REDUCE);
  char *ps = hlo_shape_to_string(&p->shape), *cs = hlo_shape_to_string(&p->operands[0]->shape);
  ck_assert_str_eq(ps, partial);
  ck_assert_str_eq(cs, chunks);
  free(ps);
  free(cs);
  ck_assert_int_eq(y->dimensions.n, 1);
  ck_assert_int_eq(p->dimensions.n, 1);
}

/* s32[3,1000] -> s32[3]: chunks of 32 (the power of two above √1000),
 * 32 of them, the row padded from 1000 to 1024 with the init 0. */
START_TEST(long_rows_reduce_in_two_steps) {
  char *t = reduce_text("s32", "3,1000", "3", "1", "add", "0");
  HloModule *m = pu_differential(t, tree, true, 0, 0);
  assert_tree(m, "s32[3,32]{1,0}", "s32[3,32,32]{2,1,0}");
  ck_assert_str_eq(pu_root(m), "reduce(reduce(reshape(pad(reshape(x), constant)), constant), "
                               "constant)");
  ck_assert(!tree(m)); /* the partial rows are too short to split again */
  hlo_module_free(m);
  free(t);
}
END_TEST

/* To a scalar over two trailing dims (4096 elements: 64 chunks of 64, no
 * padding); max, min, or and a wrapping u8 product are exact in any order,
 * with any init value for the idempotent ops. */
START_TEST(exact_ops_and_inits) {
  char *t = reduce_text("f32", "64,64", "", "0,1", "maximum", "-1");
  HloModule *m = pu_differential(t, tree, true, 0, 0);
  assert_tree(m, "f32[64]{0}", "f32[64,64]{1,0}");
  ck_assert_str_eq(pu_root(m), "reduce(reduce(reshape(reshape(x)), constant), constant)");
  hlo_module_free(m);
  free(t);
  static const char *const cases[][4] = {
      {"f32", "minimum", "3", "f32[2,16]{1,0}"},
      {"pred", "or", "false", "pred[2,16]{1,0}"},
      {"pred", "and", "true", "pred[2,16]{1,0}"},
      {"u8", "multiply", "1", "u8[2,16]{1,0}"},
      {"s64", "add", "0", "s64[2,16]{1,0}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    t = reduce_text(cases[i][0], "2,5,50", "2", "1,2", cases[i][1], cases[i][2]);
    m = pu_differential(t, tree, true, 0, 0);
    char *shape = hlo_shape_to_string(&m->entry->root->operands[0]->shape);
    ck_assert_str_eq(shape, cases[i][3]);
    free(shape);
    hlo_module_free(m);
    free(t);
  }
}
END_TEST

/* An f32 sum is reassociated: within a few roundings of the 900
 * elements' sum (|x| < 2: each partial and the total are off by at most
 * a few ulps of 1800); 29 chunks of 32, the last padded. */
START_TEST(float_sums_are_reassociated) {
  char *t = reduce_text("f32", "900", "", "0", "add", "0");
  HloModule *m = pu_differential(t, tree, true, 1e-3, 0);
  assert_tree(m, "f32[29]{0}", "f32[29,32]{1,0}");
  hlo_module_free(m);
  free(t);
}
END_TEST

START_TEST(does_nothing_here) {
  static const char *const cases[][6] = {
      /* short rows, many rows, a leading reduced dim */
      {"s32", "3,63", "3", "1", "add", "0"},
      {"s32", "8,100", "8", "1", "add", "0"},
      {"s32", "100,3", "3", "0", "add", "0"},
      /* an init a chunk may not repeat; a sum of a narrow float */
      {"s32", "2,100", "2", "1", "add", "1"},
      {"f32", "2,100", "2", "1", "multiply", "2"},
      {"f16", "2,100", "2", "1", "add", "0"},
      {"f32", "2,100", "2", "1", "subtract", "0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *t = reduce_text(cases[i][0], cases[i][1], cases[i][2], cases[i][3], cases[i][4],
                          cases[i][5]);
    hlo_module_free(pu_differential(t, tree, false, 0, 0));
    hlo_module_free(pu_differential(t, tree_not_asked, false, 0, 0));
    free(t);
  }
  /* a computation of more than one op, and two inputs (argmax) */
  hlo_module_free(pu_differential(
      "HloModule r\n\nf {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
      "  s = s32[] add(a, b)\n  ROOT c = s32[] multiply(s, s)\n}\n\nENTRY main {\n"
      "  x = s32[200] parameter(0)\n  z = s32[] constant(0)\n"
      "  ROOT y = s32[] reduce(x, z), dimensions={0}, to_apply=f\n}\n",
      tree, false, 0, 0));
  hlo_module_free(pu_differential(
      "HloModule r\n\nf {\n  a = f32[] parameter(0)\n  i = s32[] parameter(1)\n"
      "  b = f32[] parameter(2)\n  j = s32[] parameter(3)\n  g = pred[] compare(a, b), "
      "direction=GE\n  m = f32[] select(g, a, b)\n  k = s32[] select(g, i, j)\n"
      "  ROOT t = (f32[], s32[]) tuple(m, k)\n}\n\nENTRY main {\n  x = f32[200] parameter(0)\n"
      "  n = s32[200] iota(), iota_dimension=0\n  lo = f32[] constant(-inf)\n"
      "  z = s32[] constant(0)\n  ROOT y = (f32[], s32[]) reduce(x, n, lo, z), dimensions={0}, "
      "to_apply=f\n}\n",
      tree, false, 0, 0));
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_tree_reduce");
  TCase *t = tcase_create("tree_reduce");
  tcase_add_test(t, long_rows_reduce_in_two_steps);
  tcase_add_test(t, exact_ops_and_inits);
  tcase_add_test(t, float_sums_are_reassociated);
  tcase_add_test(t, does_nothing_here);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
