/*
 * test_codegen_sort.c — the compiled sort (codegen/sort.c) against the
 * evaluator, bit for bit: row lengths around every power of two (the merge
 * passes' parity and the last, partial runs), rank 1 to 3 with the sort
 * dimension first, in the middle and last, one to three operands of mixed
 * types moved together, comparators that read several operands, stability
 * with many equal keys, NaNs under XLA's total orders and under a plain LT
 * (no strict weak order: the kernel makes the evaluator's very
 * comparisons, so even then the results agree), a descending order, rows
 * sorted by parallel tasks (bit-identical with 2 threads), and a million
 * elements that must merely run (checked in C, not against the evaluator,
 * which would take seconds).
 *
 * Keys are drawn either as cgt_fill draws anything (extremes, NaN, ±0,
 * subnormals) or from a few values, so that most keys have equals and the
 * payloads show the order equal keys end up in.
 */
#include "hloc_runtime.h"
#include "test_codegen_util.h"

/* Comparators, "a before b" on f32 keys (parameters 0 and 1) and any
 * number of payloads after them (the template's %s). */
#define CMP_HEAD(name) name " {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n%s"
static const char *const total_lt =
    CMP_HEAD("total") "  ROOT c = pred[] compare(a, b), direction=LT, type=TOTALORDER\n}\n\n";
/* jax.lax.sort's form: the bits of a float made an integer in total order. */
static const char *const bits_lt =
    CMP_HEAD("total")
    "  ia = s32[] bitcast-convert(a)\n  ib = s32[] bitcast-convert(b)\n"
    "  z = s32[] constant(0)\n  m = s32[] constant(2147483647)\n"
    "  na = pred[] compare(ia, z), direction=LT\n  nb = pred[] compare(ib, z), direction=LT\n"
    "  xa = s32[] xor(ia, m)\n  xb = s32[] xor(ib, m)\n"
    "  ka = s32[] select(na, xa, ia)\n  kb = s32[] select(nb, xb, ib)\n"
    "  ROOT c = pred[] compare(ka, kb), direction=LT\n}\n\n";
static const char *const plain_lt =
    CMP_HEAD("total") "  ROOT c = pred[] compare(a, b), direction=LT\n}\n\n";
static const char *const plain_gt =
    CMP_HEAD("total") "  ROOT c = pred[] compare(a, b), direction=GT\n}\n\n";

/* The payload parameters of a comparator over f32 keys and values of the
 * given types ("" for none). */
static char *payload_params(int n, const char *const *types) {
  char *s = strdup("");
  for (int k = 0; k < n; k++) {
    char *t = cgt_fmt("%s  p%da = %s[] parameter(%d)\n  p%db = %s[] parameter(%d)\n", s, k,
                      types[k], 2 + 2 * k, k, types[k], 3 + 2 * k);
    free(s);
    s = t;
  }
  return s;
}

/* Fills a key array with few distinct values: for floats both zeros, both
 * infinities, NaNs of both signs and a few numbers; for integers 0..3. */
static void fill_few(HloLiteral *l, uint64_t *s) {
  static const uint32_t f32[] = {0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                                 0xffc00000, 0x3f800000, 0xbf800000, 0x40000000};
  static const uint16_t f16[] = {0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x3c00};
  int64_t n = hlo_shape_elements(&l->shape);
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = cgt_rand(s);
    switch (l->shape.type) {
    case HLO_F32: ((uint32_t *)l->data)[i] = f32[r % 9]; break;
    case HLO_F16: ((uint16_t *)l->data)[i] = f16[r % 7]; break;
    case HLO_PRED: ((uint8_t *)l->data)[i] = r & 1; break;
    default: hlo_literal_set_s64(l, i, (int64_t)(r % 4)); break;
    }
  }
}

/* Runs j on args into fresh, poisoned outputs. */
static void run(CgJit *j, HloLiteral *const *args, int nargs, HloLiteral **leaves, int n,
                HloLiteral **got) {
  const hloc_program *p = cg_jit_program(j);
  ck_assert_int_eq(p->num_args, nargs);
  ck_assert_int_eq(p->num_results, n);
  void *bufs[128];
  for (int i = 0; i < nargs; i++) bufs[i] = args[i]->data;
  for (int r = 0; r < n; r++) {
    got[r] = hlo_literal_new(&leaves[r]->shape);
    memset(got[r]->data, 0xA5, hlo_shape_byte_size(&got[r]->shape));
    bufs[nargs + r] = got[r]->data;
  }
  ck_assert_int_eq(hloc_program_run(p, bufs), 0);
}

enum {
  FEW = 1,       /* parameter 0 (keys) from few values (fill_few) */
  ALL_FEW = 2,   /* every parameter so */
  THREADS = 4,   /* a parallel kernel: also run on 2 threads */
  SLOTS = 8,     /* also compiled with one slot per value (no buffer
                  * assignment: plan.c gives the working memory a slot) */
};

/* Evaluates text on random arguments, compiles it, runs it and compares
 * every result byte for byte. */
static void check_sort(const char *text, uint64_t seed, int flags) {
  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  int nargs = entry->nparams;
  HloLiteral *args[64];
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 7;
  for (int i = 0; i < nargs; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    if ((flags & ALL_FEW) || ((flags & FEW) && i == 0)) fill_few(args[i], &s);
    else cgt_fill(args[i], &s);
  }
  HloLiteral *want = ck_evaluate(m, args, nargs);
  HloLiteral *leaves[64], *got[64];
  int n = cgt_leaves(want, leaves);
  for (int mode = 0; mode < ((flags & SLOTS) ? 2 : 1); mode++) {
    CgJit *j = cgt_jit_with(m, &(CgOptions){.name = "t", .one_slot_per_value = mode == 1});
    for (int threads = 0; threads <= ((flags & THREADS) ? 2 : 0); threads += 2) {
      RtThreadPool *pool = threads ? rt_threadpool_create(threads) : NULL;
      hloc_set_thread_pool(pool);
      run(j, args, nargs, leaves, n, got);
      hloc_set_thread_pool(NULL);
      if (pool) rt_threadpool_free(pool);
      for (int r = 0; r < n; r++) {
        size_t bytes = hlo_shape_byte_size(&leaves[r]->shape);
        int64_t at = -1;
        for (size_t b = 0; b < bytes && at < 0; b++)
          if (((uint8_t *)got[r]->data)[b] != ((uint8_t *)leaves[r]->data)[b])
            at = (int64_t)(b / hlo_type_size(leaves[r]->shape.type));
        ck_assert_msg(at < 0, "result %d differs at element %lld (%d threads, %s plan)", r,
                      (long long)at, threads, mode ? "slots" : "assigned");
        hlo_literal_free(got[r]);
      }
    }
    cg_jit_free(j);
  }
  hlo_literal_free(want);
  for (int i = 0; i < nargs; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
}

/* Whether the MLIR of text holds needle. */
static bool mlir_has(const char *text, const char *needle) {
  HloModule *m = ck_parse_verified(text);
  char *mlir = NULL;
  HloError *e = cg_emit_mlir(m, &(CgOptions){.name = "t"}, &mlir);
  ck_assert_msg(!e, "emit: %s", hlo_error_message(e));
  bool has = strstr(mlir, needle) != NULL;
  free(mlir);
  hlo_module_free(m);
  return has;
}

/* One f32 sort per length, each of its own parameter, in one module. */
static char *lengths_module(const char *cmp, const int64_t *lens, int n) {
  char *pp = payload_params(0, NULL);
  char *body = cgt_fmt(cmp, pp), *root = strdup("");
  free(pp);
  char *t = cgt_fmt("HloModule lengths\n\n%sENTRY main {\n", body);
  free(body);
  for (int i = 0; i < n; i++) {
    char *u = cgt_fmt("%s  x%d = f32[%lld] parameter(%d)\n  s%d = f32[%lld] sort(x%d), "
                      "dimensions={0}, to_apply=total\n",
                      t, i, (long long)lens[i], i, i, (long long)lens[i], i);
    char *r = cgt_fmt("%s%sf32[%lld]", root, i ? ", " : "", (long long)lens[i]);
    free(t);
    free(root);
    t = u;
    root = r;
  }
  char *names = strdup("");
  for (int i = 0; i < n; i++) {
    char *u = cgt_fmt("%s%ss%d", names, i ? ", " : "", i);
    free(names);
    names = u;
  }
  char *out = cgt_fmt("%s  ROOT t = (%s) tuple(%s)\n}\n", t, root, names);
  free(t);
  free(root);
  free(names);
  return out;
}

/* Lengths 0 to 1025: powers of two and their neighbours (the pass count's
 * parity, a last run cut short or missing), primes. */
START_TEST(lengths) {
  static const int64_t lens[] = {0,  1,  2,   3,   4,   5,   7,   8,    9,    13,   16,  17,
                                 31, 63, 64,  65,  127, 128, 129, 257,  1021, 1024, 1025};
  char *text = lengths_module(total_lt, lens, sizeof lens / sizeof *lens);
  check_sort(text, 1, 0);
  check_sort(text, 2, FEW | SLOTS);
  free(text);
}
END_TEST

/* 100,000 elements against the evaluator, and a key with a payload. */
START_TEST(hundred_thousand) {
  int64_t len = 100000;
  char *text = lengths_module(total_lt, &len, 1);
  check_sort(text, 3, 0);
  free(text);
  check_sort("HloModule kv\n\nlt {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
             "  c = f32[] parameter(2)\n  d = f32[] parameter(3)\n"
             "  ROOT r = pred[] compare(a, b), direction=LT\n}\n\n"
             "ENTRY main {\n  k = s32[100003] parameter(0)\n  v = f32[100003] parameter(1)\n"
             "  ROOT s = (s32[100003], f32[100003]) sort(k, v), dimensions={0}, "
             "is_stable=true, to_apply=lt\n}\n",
             4, FEW);
}
END_TEST

/* Rank 2 and 3, the sort dimension first, in the middle and last; a key
 * with an s32 payload, many equal keys (every other index is a row of its
 * own: strided rows must not mix). */
START_TEST(ranks_and_dimensions) {
  static const char *const shapes[] = {"[5,8,9]", "[17,2]", "[3,1,33]", "[2,65]"};
  static const int ranks[] = {3, 2, 3, 2};
  for (int i = 0; i < 4; i++)
    for (int d = 0; d < ranks[i]; d++) {
      const char *sh = shapes[i];
      char *text = cgt_fmt("HloModule rd\n\nlt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
                           "  c = s32[] parameter(2)\n  d = s32[] parameter(3)\n"
                           "  ROOT r = pred[] compare(a, b), direction=LT, type=TOTALORDER\n}\n\n"
                           "ENTRY main {\n  k = f32%s parameter(0)\n  v = s32%s parameter(1)\n"
                           "  ROOT s = (f32%s, s32%s) sort(k, v), dimensions={%d}, is_stable=true, "
                           "to_apply=lt\n}\n",
                           sh, sh, sh, sh, d);
      check_sort(text, (uint64_t)(10 * i + d), FEW);
      free(text);
    }
}
END_TEST

/* One, two and three operands of mixed types (f32, s32, pred, f16) moved
 * together; comparators that read a payload too (ties broken by it). */
START_TEST(operands) {
  static const char *const one[] = {"s32"};
  static const char *const two[] = {"pred", "f16"};
  const char *const *types[] = {NULL, one, two};
  for (int n = 0; n < 3; n++)
    for (int len = 100; len <= 257; len += 157) {
      char *pp = payload_params(n, types[n]), *cmp = cgt_fmt(total_lt, pp);
      char *ops = strdup(""), *shapes = cgt_fmt("f32[%d]", len), *names = strdup("k");
      for (int k = 0; k < n; k++) {
        char *o = cgt_fmt("%s  v%d = %s[%d] parameter(%d)\n", ops, k, types[n][k], len, k + 1);
        char *s = cgt_fmt("%s, %s[%d]", shapes, types[n][k], len);
        char *m = cgt_fmt("%s, v%d", names, k);
        free(ops);
        free(shapes);
        free(names);
        ops = o;
        shapes = s;
        names = m;
      }
      char *text = cgt_fmt("HloModule ops\n\n%sENTRY main {\n  k = f32[%d] parameter(0)\n%s"
                           "  ROOT s = %s%s%s sort(%s), dimensions={0}, is_stable=true, "
                           "to_apply=total\n}\n",
                           cmp, len, ops, n ? "(" : "", shapes, n ? ")" : "", names);
      check_sort(text, (uint64_t)(n * 7 + len), FEW);
      free(text);
      free(pp);
      free(cmp);
      free(ops);
      free(shapes);
      free(names);
    }
  /* Lexicographic on (s32, f16): the comparator reads both operands. */
  check_sort("HloModule lex\n\nlex {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
             "  c = f16[] parameter(2)\n  d = f16[] parameter(3)\n"
             "  lt = pred[] compare(a, b), direction=LT\n"
             "  eq = pred[] compare(a, b), direction=EQ\n"
             "  lt2 = pred[] compare(c, d), direction=LT, type=TOTALORDER\n"
             "  both = pred[] and(eq, lt2)\n  ROOT r = pred[] or(lt, both)\n}\n\n"
             "ENTRY main {\n  k = s32[7,300] parameter(0)\n  v = f16[7,300] parameter(1)\n"
             "  ROOT s = (s32[7,300], f16[7,300]) sort(k, v), dimensions={1}, to_apply=lex\n}\n",
             5, ALL_FEW);
}
END_TEST

/* Stability: is_stable=true keeps equal keys in their order; pred keys
 * (two values) and s32 keys (four) with distinct payloads. */
START_TEST(stable_with_equal_keys) {
  check_sort("HloModule st\n\nlt {\n  a = pred[] parameter(0)\n  b = pred[] parameter(1)\n"
             "  c = s32[] parameter(2)\n  d = s32[] parameter(3)\n"
             "  ROOT r = pred[] compare(a, b), direction=LT\n}\n\n"
             "ENTRY main {\n  k = pred[1000] parameter(0)\n  v = s32[1000] parameter(1)\n"
             "  ROOT s = (pred[1000], s32[1000]) sort(k, v), dimensions={0}, is_stable=true, "
             "to_apply=lt\n}\n",
             6, FEW);
  check_sort("HloModule st\n\ngt {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
             "  c = f32[] parameter(2)\n  d = f32[] parameter(3)\n"
             "  ROOT r = pred[] compare(a, b), direction=GT\n}\n\n"
             "ENTRY main {\n  k = s32[4099] parameter(0)\n  v = f32[4099] parameter(1)\n"
             "  ROOT s = (s32[4099], f32[4099]) sort(k, v), dimensions={0}, is_stable=true, "
             "to_apply=gt\n}\n",
             7, FEW);
}
END_TEST

/* NaNs (both signs), infinities and both zeros under XLA's total order
 * (compare's TOTALORDER, jax's bit trick), a plain LT (NaN is unordered:
 * no strict weak order, yet the same comparisons give the same result)
 * and a descending GT; f16 keys under a plain LT too. */
START_TEST(nans_and_orders) {
  const char *const cmps[] = {total_lt, bits_lt, plain_lt, plain_gt};
  static const int64_t lens[] = {2, 3, 100, 1000, 1025};
  for (int c = 0; c < 4; c++) {
    char *text = lengths_module(cmps[c], lens, 5);
    check_sort(text, (uint64_t)(20 + c), FEW);
    check_sort(text, (uint64_t)(30 + c), 0);
    free(text);
  }
  check_sort("HloModule h\n\nlt {\n  a = f16[] parameter(0)\n  b = f16[] parameter(1)\n"
             "  ROOT r = pred[] compare(a, b), direction=LT\n}\n\n"
             "ENTRY main {\n  k = f16[3,333] parameter(0)\n"
             "  ROOT s = f16[3,333] sort(k), dimensions={1}, to_apply=lt\n}\n",
             8, FEW);
}
END_TEST

/* Rows as parallel tasks: contiguous rows (split along dim 0) and strided
 * ones (the sort dim first, split along dim 1), bit-identical on 2
 * threads; a small sort stays one loop nest. */
START_TEST(rows_in_parallel) {
  static const char *const texts[] = {
      "HloModule pr\n\nlt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  c = s32[] parameter(2)\n  d = s32[] parameter(3)\n"
      "  ROOT r = pred[] compare(a, b), direction=LT, type=TOTALORDER\n}\n\n"
      "ENTRY main {\n  k = f32[64,1000] parameter(0)\n  v = s32[64,1000] parameter(1)\n"
      "  ROOT s = (f32[64,1000], s32[64,1000]) sort(k, v), dimensions={1}, is_stable=true, "
      "to_apply=lt\n}\n",
      "HloModule pc\n\nlt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
      "  ROOT r = pred[] compare(a, b), direction=GT\n}\n\n"
      "ENTRY main {\n  k = f32[3000,12] parameter(0)\n"
      "  ROOT s = f32[3000,12] sort(k), dimensions={0}, to_apply=lt\n}\n",
  };
  for (int i = 0; i < 2; i++) {
    ck_assert(mlir_has(texts[i], "rt_parallel_for"));
    check_sort(texts[i], (uint64_t)(40 + i), FEW | THREADS);
  }
  ck_assert(!mlir_has("HloModule sm\n\nlt {\n  a = f32[] parameter(0)\n"
                      "  b = f32[] parameter(1)\n"
                      "  ROOT r = pred[] compare(a, b), direction=LT\n}\n\n"
                      "ENTRY main {\n  k = f32[4,100] parameter(0)\n"
                      "  ROOT s = f32[4,100] sort(k), dimensions={1}, to_apply=lt\n}\n",
                      "rt_parallel_for"));
}
END_TEST

/* A million (s32 key, s32 index) pairs sorted by key compile and run (a
 * quadratic sort never finished); checked here, not by the evaluator:
 * the keys ascend, equal keys keep their indices ascending (stable), and
 * every index appears once with its key. */
START_TEST(a_million_by_key) {
  enum { N = 1 << 20 };
  HloModule *m = ck_parse_verified(
      "HloModule mkv\n\nlt {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n"
      "  c = s32[] parameter(2)\n  d = s32[] parameter(3)\n"
      "  ROOT r = pred[] compare(a, b), direction=LT\n}\n\n"
      "ENTRY main {\n  k = s32[1048576] parameter(0)\n  v = s32[1048576] parameter(1)\n"
      "  ROOT s = (s32[1048576], s32[1048576]) sort(k, v), dimensions={0}, is_stable=true, "
      "to_apply=lt\n}\n");
  int32_t *k = malloc(N * sizeof *k), *v = malloc(N * sizeof *v);
  int32_t *ko = malloc(N * sizeof *ko), *vo = malloc(N * sizeof *vo);
  uint8_t *seen = calloc(N, 1);
  uint64_t s = 99;
  for (int i = 0; i < N; i++) {
    k[i] = (int32_t)(cgt_rand(&s) % 100000) - 50000;
    v[i] = i;
  }
  CgJit *j = cgt_jit(m, "t");
  void *bufs[4] = {k, v, ko, vo};
  ck_assert_int_eq(hloc_program_run(cg_jit_program(j), bufs), 0);
  for (int i = 0; i < N; i++) {
    ck_assert(vo[i] >= 0 && vo[i] < N && !seen[vo[i]] && k[vo[i]] == ko[i]);
    seen[vo[i]] = 1;
    if (i) ck_assert(ko[i - 1] < ko[i] || (ko[i - 1] == ko[i] && vo[i - 1] < vo[i]));
  }
  cg_jit_free(j);
  hlo_module_free(m);
  free(k);
  free(v);
  free(ko);
  free(vo);
  free(seen);
}
END_TEST

/* topk, compiled after the pipeline rewrote it into XLA's decomposition
 * (a stable sort of values and indices in total order, then slices),
 * against the evaluator's own topk: f32 rows with NaN, ±0 and extremes,
 * and integer rows with many equal keys (the indices show the order ties
 * end up in), k from 0 to the whole row, both directions. */
START_TEST(topk_decomposed) {
  for (int small = 0; small < 2; small++) {
    cgt_check_with("HloModule m\nENTRY e {\n  x = f32[3,4,37] parameter(0)\n"
                   "  a = (f32[3,4,5], s32[3,4,5]) topk(x), k=5\n"
                   "  b = (f32[3,4,37], s32[3,4,37]) topk(x), k=37, largest=false\n"
                   "  y = s32[64] parameter(1)\n"
                   "  c = (s32[1], s32[1]) topk(y), k=1\n"
                   "  d = (s32[0], s32[0]) topk(y), k=0, largest=false\n"
                   "  ROOT t = ((f32[3,4,5], s32[3,4,5]), (f32[3,4,37], s32[3,4,37]), "
                   "(s32[1], s32[1]), (s32[0], s32[0])) tuple(a, b, c, d)\n}\n",
                   17 + (uint64_t)small, small, true, 0, 0);
  }
}
END_TEST

/* XLA's TopK custom-call, compiled as the topk it is read as, against the
 * evaluator's topk: without a comparator, with a GT one on bf16 rows (as
 * XLA's Mixtral modules have it), with a least-first one on integers. */
START_TEST(topk_custom_call) {
  for (int small = 0; small < 2; small++) {
    cgt_check_with("HloModule m\n"
                   "gt {\n  a = bf16[] parameter(0)\n  b = bf16[] parameter(1)\n"
                   "  i = s32[] parameter(2)\n  j = s32[] parameter(3)\n"
                   "  ROOT c = pred[] compare(a, b), direction=GT, type=TOTALORDER\n}\n"
                   "lt {\n  a.1 = s32[] parameter(0)\n  b.1 = s32[] parameter(1)\n"
                   "  i.1 = s32[] parameter(2)\n  j.1 = s32[] parameter(3)\n"
                   "  ROOT c.1 = pred[] compare(a.1, b.1), direction=LT\n}\n"
                   "ENTRY e {\n  x = f32[6,33] parameter(0)\n  y = bf16[16,64] parameter(1)\n"
                   "  z = s32[40] parameter(2)\n"
                   "  t = (f32[6,4], s32[6,4]) custom-call(x), custom_call_target=\"TopK\"\n"
                   "  u = (bf16[16,2], s32[16,2]) custom-call(y), custom_call_target=\"TopK\", "
                   "called_computations={gt}\n"
                   "  v = (s32[7], s32[7]) custom-call(z), custom_call_target=\"TopK\", "
                   "called_computations={lt}\n"
                   "  ROOT r = ((f32[6,4], s32[6,4]), (bf16[16,2], s32[16,2]), (s32[7], s32[7])) "
                   "tuple(t, u, v)\n}\n",
                   23 + (uint64_t)small, small, true, 0, 0);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_sort");
  TCase *t = tcase_create("sort");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, lengths);
  tcase_add_test(t, hundred_thousand);
  tcase_add_test(t, ranks_and_dimensions);
  tcase_add_test(t, operands);
  tcase_add_test(t, stable_with_equal_keys);
  tcase_add_test(t, topk_decomposed);
  tcase_add_test(t, topk_custom_call);
  tcase_add_test(t, nans_and_orders);
  tcase_add_test(t, rows_in_parallel);
  tcase_add_test(t, a_million_by_key);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
