/*
 * test_codegen_linalg.c — cholesky and triangular-solve compiled as the
 * loops the pipeline's first step expands them into
 * (passes/cholesky_expand.c, passes/triangular_solve_expand.c), against
 * the evaluator's own cholesky and substitution; ragged-dot compiled as
 * the masked dot passes/ragged_dot_expand.c writes, against the
 * evaluator's group-by-group dots (integer values: exact).
 *
 * The matrices are built inside each module from arguments drawn from the
 * integers in [-8, 8], so that they are what the ops are for: x x^T + I
 * (positive definite, eigenvalues at least 1), x x^T - 30 I (not positive
 * definite: NaN from the failing pivot on), and x + 20 I (triangles with
 * pivots in [12, 28]).  The triangle an op must not read holds NaN (and
 * so does the diagonal under unit_diagonal), so reading it shows.
 *
 * Both sides compute in f64 and round once, so they differ only by the
 * order of the f64 sums: relative 1e-15 or so on these well-conditioned
 * matrices, which moves a rounded f32 (f16) result by at most one unit in
 * its last place, rtol 2^-23 (2^-10), and an f64 result by far less than
 * 1e-12 of the largest term.  Where the exact result is 0 through
 * cancellation, one side may get 0 and the other a residue of about 1e-16
 * times the terms (below 400 here): atol 1e-12.
 */
#include "test_codegen_util.h"

/* Compiled through the pipeline against the evaluator, small-integer
 * arguments. */
static void check(char *text, uint64_t seed, double atol, double rtol) {
  cgt_check_with(text, seed, true, true, atol, rtol);
  free(text);
}

#define ULP_F32 0x1p-23
#define ULP_F16 0x1p-10

/* cholesky of x x^T + shift I, both triangles, with NaN in the one not
 * read; T is the type, B the batch dims ("" or "2,3,"), N the size. */
static char *cholesky_module(const char *t, const char *b, int n, int shift) {
  int nb = 0;
  for (const char *p = b; *p; p++) nb += *p == ',';
  char bd[32] = "";
  for (int d = 0; d < nb; d++) snprintf(bd + strlen(bd), sizeof bd - strlen(bd), "%s%d", d ? "," : "", d);
  return cgt_fmt("HloModule m\nENTRY e {\n"
                 "  x = %1$s[%2$s%3$d,%3$d] parameter(0)\n"
                 "  g = %1$s[%2$s%3$d,%3$d] dot(x, x), lhs_batch_dims={%4$s}, "
                 "lhs_contracting_dims={%6$d}, rhs_batch_dims={%4$s}, rhs_contracting_dims={%6$d}\n"
                 "  r = s32[%2$s%3$d,%3$d] iota(), iota_dimension=%5$d\n"
                 "  c = s32[%2$s%3$d,%3$d] iota(), iota_dimension=%6$d\n"
                 "  diag = pred[%2$s%3$d,%3$d] compare(r, c), direction=EQ\n"
                 "  above = pred[%2$s%3$d,%3$d] compare(c, r), direction=GT\n"
                 "  below = pred[%2$s%3$d,%3$d] compare(c, r), direction=LT\n"
                 "  k = %1$s[] constant(%7$d)\n"
                 "  kb = %1$s[%2$s%3$d,%3$d] broadcast(k), dimensions={}\n"
                 "  gk = %1$s[%2$s%3$d,%3$d] add(g, kb)\n"
                 "  a = %1$s[%2$s%3$d,%3$d] select(diag, gk, g)\n"
                 "  nan = %1$s[] constant(nan)\n"
                 "  nanb = %1$s[%2$s%3$d,%3$d] broadcast(nan), dimensions={}\n"
                 "  al = %1$s[%2$s%3$d,%3$d] select(above, nanb, a)\n"
                 "  au = %1$s[%2$s%3$d,%3$d] select(below, nanb, a)\n"
                 "  l = %1$s[%2$s%3$d,%3$d] cholesky(al), lower=true\n"
                 "  u = %1$s[%2$s%3$d,%3$d] cholesky(au)\n"
                 "  ROOT t = (%1$s[%2$s%3$d,%3$d], %1$s[%2$s%3$d,%3$d]) tuple(l, u)\n}\n",
                 t, b, n, bd, nb, nb + 1, shift);
}

/* Positive definite: unbatched, batched, one by one, f32, f64 and f16. */
START_TEST(cholesky_positive_definite) {
  check(cholesky_module("f32", "", 6, 1), 1, 1e-12, ULP_F32);
  check(cholesky_module("f32", "2,3,", 5, 1), 2, 1e-12, ULP_F32);
  check(cholesky_module("f32", "4,", 1, 1), 3, 1e-12, ULP_F32);
  check(cholesky_module("f64", "3,", 7, 1), 4, 1e-12, 1e-12);
  check(cholesky_module("f16", "2,", 4, 1), 5, 1e-12, ULP_F16);
}
END_TEST

/* Not positive definite: NaN where the evaluator has it. */
START_TEST(cholesky_not_positive_definite) {
  for (uint64_t seed = 10; seed < 14; seed++)
    check(cholesky_module("f32", "3,", 5, -30), seed, 1e-12, ULP_F32);
}
END_TEST

/* Nothing to compute: no matrices, or 0 by 0 ones. */
START_TEST(cholesky_empty) {
  check(cgt_fmt("HloModule m\nENTRY e {\n  a = f32[0,3,3] parameter(0)\n"
                "  ROOT l = f32[0,3,3] cholesky(a), lower=true\n}\n"), 1, 0, 0);
  check(cgt_fmt("HloModule m\nENTRY e {\n  a = f32[2,0,0] parameter(0)\n"
                "  ROOT l = f32[2,0,0] cholesky(a)\n}\n"), 1, 0, 0);
}
END_TEST

/* Every transpose_a, with and without unit_diagonal, for one side and
 * triangle: a is x + 20 I with NaN in the other triangle, u the same with
 * NaN on the diagonal too.  A (a's shape) is "B,M,M", R (b's) the
 * right-hand sides' "B,M,K" (left) or "B,K,M" (right). */
static char *solve_module(const char *t, int nb, const char *am, const char *bm, bool left,
                          bool lower) {
  static const char *const trans[3] = {"NO_TRANSPOSE", "TRANSPOSE", "ADJOINT"};
  char solves[2048] = "", names[64] = "", shapes[256] = "";
  for (int k = 0; k < 6; k++) {
    snprintf(solves + strlen(solves), sizeof solves - strlen(solves),
             "  s%d = %s[%s] triangular-solve(%s, b), left_side=%s, lower=%s%s, "
             "transpose_a=%s\n",
             k, t, bm, k < 3 ? "a" : "u", left ? "true" : "false", lower ? "true" : "false",
             k < 3 ? "" : ", unit_diagonal=true", trans[k % 3]);
    snprintf(names + strlen(names), sizeof names - strlen(names), "%ss%d", k ? ", " : "", k);
    snprintf(shapes + strlen(shapes), sizeof shapes - strlen(shapes), "%s%s[%s]",
             k ? ", " : "", t, bm);
  }
  return cgt_fmt("HloModule m\nENTRY e {\n"
                 "  x = %1$s[%2$s] parameter(0)\n"
                 "  b = %1$s[%3$s] parameter(1)\n"
                 "  r = s32[%2$s] iota(), iota_dimension=%4$d\n"
                 "  c = s32[%2$s] iota(), iota_dimension=%5$d\n"
                 "  diag = pred[%2$s] compare(r, c), direction=EQ\n"
                 "  other = pred[%2$s] compare(c, r), direction=%6$s\n"
                 "  k = %1$s[] constant(20)\n"
                 "  kb = %1$s[%2$s] broadcast(k), dimensions={}\n"
                 "  xk = %1$s[%2$s] add(x, kb)\n"
                 "  a1 = %1$s[%2$s] select(diag, xk, x)\n"
                 "  nan = %1$s[] constant(nan)\n"
                 "  nanb = %1$s[%2$s] broadcast(nan), dimensions={}\n"
                 "  a = %1$s[%2$s] select(other, nanb, a1)\n"
                 "  u = %1$s[%2$s] select(diag, nanb, a)\n"
                 "%7$s"
                 "  ROOT t = (%8$s) tuple(%9$s)\n}\n",
                 t, am, bm, nb, nb + 1, lower ? "GT" : "LT", solves, shapes, names);
}

START_TEST(triangular_solve_variants) {
  for (int v = 0; v < 4; v++) {
    bool left = v & 1, lower = v & 2;
    check(solve_module("f32", 1, "2,5,5", left ? "2,5,3" : "2,3,5", left, lower),
          20 + (uint64_t)v, 1e-12, ULP_F32);
  }
}
END_TEST

/* Unbatched and two batch dims, f64 and f16, one right-hand side, a 1 by 1
 * matrix. */
START_TEST(triangular_solve_shapes) {
  check(solve_module("f64", 0, "6,6", "6,4", true, true), 30, 1e-12, 1e-12);
  check(solve_module("f64", 0, "6,6", "1,6", false, false), 31, 1e-12, 1e-12);
  check(solve_module("f32", 2, "2,2,4,4", "2,2,4,1", true, false), 32, 1e-12, ULP_F32);
  check(solve_module("f16", 1, "3,4,4", "3,2,4", false, true), 33, 1e-12, ULP_F16);
  check(solve_module("f32", 1, "3,1,1", "3,1,5", true, true), 34, 1e-12, ULP_F32);
  check(solve_module("f32", 1, "2,3,3", "2,0,3", false, true), 35, 0, 0);
}
END_TEST

/* ragged-dot(a, b, sizes) with sizes either written (w: the text of a
 * constant) or drawn: an s32 argument taken remainder 5, so groups are
 * empty, negative (none) or cover fewer rows than there are. */
static char *ragged_module(const char *t, const char *a, const char *b, const char *gt,
                           const char *g, const char *w, const char *r, const char *dims) {
  char sizes[256];
  if (w)
    snprintf(sizes, sizeof sizes, "  g = %s[%s] constant(%s)\n", gt, g, w);
  else
    snprintf(sizes, sizeof sizes,
             "  d = s32[%1$s] parameter(2)\n  five = s32[] constant(5)\n"
             "  fb = s32[%1$s] broadcast(five), dimensions={}\n"
             "  m = s32[%1$s] remainder(d, fb)\n  g = %2$s[%1$s] convert(m)\n", g, gt);
  return cgt_fmt("HloModule m\nENTRY e {\n  a = %1$s[%2$s] parameter(0)\n"
             "  b = %1$s[%3$s] parameter(1)\n%4$s"
             "  ROOT r = %1$s[%5$s] ragged-dot(a, b, g), %6$s\n}\n",
             t, a, b, sizes, r, dims);
}

/* Every mode, group_sizes [g] and with leading dims (batch and the free
 * or contracting dims before the ragged one), bf16 (sums below 2^8: still
 * exact). */
START_TEST(ragged_dot_modes) {
  const char *nc = "lhs_contracting_dims={1}, rhs_contracting_dims={1}, lhs_ragged_dims={0}, "
                   "rhs_group_dims={0}";
  check(ragged_module("f32", "7,3", "3,3,4", "s32", "3", "{2, 0, 3}", "7,4", nc), 1, 0, 0);
  for (uint64_t seed = 2; seed < 5; seed++) {
    check(ragged_module("f32", "7,3", "3,3,4", "s32", "3", NULL, "7,4", nc), seed, 0, 0);
    check(ragged_module("f32", "2,6,3", "3,2,3,5", "s32", "2,3", NULL, "2,6,5",
                        "lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={1}, "
                        "rhs_contracting_dims={2}, lhs_ragged_dims={1}, rhs_group_dims={0}"),
          seed, 0, 0);
    check(ragged_module("f32", "3,5,2", "2,4,3", "s64", "3,4", NULL, "3,5,3",
                        "lhs_contracting_dims={2}, rhs_contracting_dims={0}, "
                        "lhs_ragged_dims={1}, rhs_group_dims={1}"),
          seed, 0, 0);
    check(ragged_module("f32", "2,3,5", "2,5,4", "s32", "2,2", NULL, "2,2,3,4",
                        "lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, "
                        "rhs_contracting_dims={1}, lhs_ragged_dims={2}"),
          seed, 0, 0);
    check(ragged_module("bf16", "8,4", "2,4,3", "s64", "2", NULL, "8,3", nc), seed, 0, 0);
  }
  check(ragged_module("f32", "4,6", "6,3", "s32", "3", "{1, 3, 0}", "3,4,3",
                      "lhs_contracting_dims={1}, rhs_contracting_dims={0}, lhs_ragged_dims={1}"),
        5, 0, 0);
  check(ragged_module("f32", "3,2,4", "3,4,2", "s32", "2", "{1, 1}", "3,2,2",
                      "lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, "
                      "rhs_contracting_dims={1}, lhs_ragged_dims={0}"),
        6, 0, 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_linalg");
  TCase *t = tcase_create("linalg");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, cholesky_positive_definite);
  tcase_add_test(t, cholesky_not_positive_definite);
  tcase_add_test(t, cholesky_empty);
  tcase_add_test(t, triangular_solve_variants);
  tcase_add_test(t, triangular_solve_shapes);
  tcase_add_test(t, ragged_dot_modes);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
