/*
 * test_codegen_corpus.c — the whole compiler on the JAX corpus
 * (testdata/hlo/NAME.hlo, unoptimized, with JAX's inputs and outputs):
 * pass_run_pipeline, cg_compile for the host, the JIT, and the compiled
 * results against JAX's stored outputs within MANIFEST's tolerances.
 *
 * This is where fusion and buffer assignment meet real code: fused kernels
 * (row reductions, output fusions, multi-output fusions) run in the
 * schedule buffer assignment chose, with intermediates packed into one
 * arena and elementwise kernels writing over dying operands.  The scratch
 * size the program declares must be exactly the plan's arena.  The same
 * modules compiled without the pipeline (as hloc --O0: only lowered to
 * one device), with one slot per value (the plan for unoptimized
 * modules), must give the same answers, and so must the modules compiled
 * in as many parts as they have kernel groups.  Each test reports every
 * failing case at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_codegen_util.h"

#define CORPUS "testdata/hlo/"

typedef CkCorpusCase Case;

static HloLiteral *read_case_npy(const Case *c, const char *kind, int k) {
  char p[300];
  snprintf(p, sizeof p, CORPUS "%.127s.%s%d.npy", c->name, kind, k);
  return ck_read_npy(p);
}

/* Compiles m, runs it on the case's inputs and compares with its outputs
 * (and the scratch size with want_scratch unless that is negative);
 * appends what went wrong to report and returns the number of failures. */
static int run_case(const Case *c, const HloModule *m, const CgOptions *o, CkStep step,
                    int64_t want_scratch, HloStr *report) {
  CgProgram *prog = NULL;
  HloError *e = cg_compile(m, o, &prog);
  CgJit *jit = NULL;
  if (!e) e = cg_jit(prog, &jit);
  cg_program_free(prog);
  char file[140];
  snprintf(file, sizeof file, "%s.hlo", c->name);
  int refused = ck_corpus_refusal(file, step, e, report);
  if (refused >= 0) {
    hlo_error_free(e);
    cg_jit_free(jit);
    return refused;
  }
  if (e) {
    hlo_str_printf(report, "\n  %s: %s", c->name, hlo_error_message(e));
    hlo_error_free(e);
    return 1;
  }
  const hloc_program *p = cg_jit_program(jit);
  int nfail = 0;
  if (want_scratch >= 0 && p->scratch_bytes != (uint64_t)want_scratch) {
    hlo_str_printf(report, "\n  %s: scratch %llu bytes, the plan's arena %lld", c->name,
                   (unsigned long long)p->scratch_bytes, (long long)want_scratch);
    nfail++;
  }
  if (p->num_args != c->nin || p->num_results != c->nout) {
    hlo_str_printf(report, "\n  %s: %d arguments, %d results (MANIFEST: %d, %d)", c->name,
                   p->num_args, p->num_results, c->nin, c->nout);
    cg_jit_free(jit);
    return 1;
  }
  void *bufs[128];
  HloLiteral *args[64], *want[64], *got[64];
  for (int k = 0; k < c->nin; k++) {
    args[k] = read_case_npy(c, "in", k);
    bufs[k] = args[k]->data;
  }
  for (int k = 0; k < c->nout; k++) {
    want[k] = read_case_npy(c, "out", k);
    got[k] = hlo_literal_new(&want[k]->shape);
    /* Poison, so that an element no kernel writes is caught. */
    memset(got[k]->data, 0xA5, hlo_shape_byte_size(&got[k]->shape));
    bufs[c->nin + k] = got[k]->data;
  }
  ck_assert_int_eq(hloc_program_run(p, bufs), 0);
  for (int k = 0; k < c->nout; k++) {
    char msg[256];
    if (!ck_allclose(got[k], want[k], c->atol, c->rtol, msg, sizeof msg)) {
      hlo_str_printf(report, "\n  %s result %d: %s", c->name, k, msg);
      nfail++;
    }
    hlo_literal_free(got[k]);
    hlo_literal_free(want[k]);
  }
  for (int k = 0; k < c->nin; k++) hlo_literal_free(args[k]);
  cg_jit_free(jit);
  return nfail;
}

static HloModule *parse_case(const Case *c) {
  char path[300];
  snprintf(path, sizeof path, CORPUS "%.127s.hlo", c->name);
  HloModule *m = NULL;
  HloError *e = hlo_parse_file(path, &m);
  ck_assert_msg(!e, "%s: %s", path, hlo_error_message(e));
  return m;
}

/* Every runnable case of the corpus, optimized by the pipeline or not,
 * compiled with o (a plan's arena expected as scratch when check_scratch)
 * and run against JAX's outputs; reports every failure at once. */
static void run_corpus(bool optimize, const CgOptions *o, bool check_scratch) {
  const Case *cases;
  int ncases = ck_hlo_corpus(&cases), nrun = 0, nfail = 0;
  HloStr report = {0};
  for (int i = 0; i < ncases; i++) {
    const Case *c = &cases[i];
    if (c->nin < 0) continue;
    HloModule *m = parse_case(c);
    /* Without the pipeline, as hloc --O0: only the lowering of what
     * codegen has no kernel for (topk, map, collectives). */
    HloError *e = optimize ? cgt_optimize(m) : hlo_verify(m);
    if (!e && !optimize) pass_single_device(m);
    CkStep step = optimize ? CK_AT_COMPILE : CK_AT_COMPILE_O0;
    char file[140];
    snprintf(file, sizeof file, "%s.hlo", c->name);
    if (e) {
      int refused = ck_corpus_refusal(file, step, e, &report);
      if (refused < 0) hlo_str_printf(&report, "\n  %s: %s", c->name, hlo_error_message(e));
      nfail += refused != 0;
      hlo_error_free(e);
      hlo_module_free(m);
      continue;
    }
    int64_t scratch = -1;
    if (check_scratch) {
      PassBufferPlan plan;
      PassPolicy policy = cgt_policy();
      ck_assert(!pass_assign_buffers(m, &policy, &plan));
      scratch = plan.arena_bytes;
      pass_buffer_plan_free(&plan);
    }
    nfail += run_case(c, m, o, step, scratch, &report);
    nrun++;
    hlo_module_free(m);
  }
  ck_assert_int_ge(nrun, 40);
  ck_assert_msg(nfail == 0, "%d failures over %d cases:%s", nfail, nrun,
                report.buf ? report.buf : "");
  free(report.buf);
}

START_TEST(corpus_after_pipeline_runs_like_jax) {
  run_corpus(true, &(CgOptions){.name = "corpus"}, true);
}
END_TEST

START_TEST(corpus_split_into_parts_runs_like_jax) {
  /* Every group of kernels its own part (codegen/split.c): lowered and
   * optimized apart, on threads, and merged into one object (object.c)
   * that the JIT loads: the same answers as whole. */
  run_corpus(true, &(CgOptions){.name = "corpus", .parts = 64}, false);
}
END_TEST

START_TEST(corpus_unoptimized_with_one_slot_per_value_runs_like_jax) {
  run_corpus(false, &(CgOptions){.name = "corpus", .one_slot_per_value = true}, false);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_corpus");
  TCase *t = tcase_create("corpus");
  tcase_set_timeout(t, 900);
  tcase_add_test(t, corpus_after_pipeline_runs_like_jax);
  tcase_add_test(t, corpus_unoptimized_with_one_slot_per_value_runs_like_jax);
  tcase_add_test(t, corpus_split_into_parts_runs_like_jax);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
