/*
 * test_passes_buffers.c — scheduling and buffer assignment (the analyses
 * codegen consumes), statistics, and the pipeline's options: disabling a
 * pass, dumps, timing, and errors that name what failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passes_util.h"

static HloInstr *find(const HloModule *m, const char *name) {
  for (HloInstr *in = m->entry->first; in; in = in->next)
    if (!strcmp(in->name, name)) return in;
  ck_abort_msg("no instruction %s", name);
  return NULL;
}

START_TEST(elementwise_chain_reuses_one_buffer) {
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[256] parameter(0)\n  a = f32[256] exponential(x)\n"
      "  b = f32[256] negate(a)\n  c = f32[256] tanh(b)\n  d = f32[256] sqrt(c)\n"
      "  ROOT r = f32[256] add(d, x)\n}\n");
  PassBufferPlan p;
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  ck_assert_int_eq(p.naive_bytes, 4 * 1024);
  ck_assert_int_eq(p.arena_bytes, 1024); /* a, b, c, d overwrite each other */
  ck_assert_int_eq(p.inplace_reuses, 3);
  ck_assert_int_eq(pass_buffer_of(&p, find(m, "x"), 0)->kind, PASS_BUF_ARG);
  ck_assert_int_eq(pass_buffer_of(&p, find(m, "r"), 0)->kind, PASS_BUF_RESULT);
  ck_assert_int_eq(pass_buffer_of(&p, find(m, "c"), 0)->kind, PASS_BUF_SCRATCH);
  pass_buffer_plan_free(&p);
  /* A backend that does not let kernels write over operands: none. */
  ck_assert(!pass_assign_buffers(m, NULL, &p));
  ck_assert_int_eq(p.inplace_reuses, 0);
  ck_assert_int_gt(p.arena_bytes, 1024);
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
}
END_TEST

/* Do a and b (scratch) share their first byte? */
static bool same_place(const PassBufferPlan *p, const HloModule *m, const char *a, const char *b) {
  const PassBuf *x = pass_buffer_of(p, find(m, a), 0), *y = pass_buffer_of(p, find(m, b), 0);
  ck_assert_int_eq(x->kind, PASS_BUF_SCRATCH);
  ck_assert_int_eq(y->kind, PASS_BUF_SCRATCH);
  return x->offset == y->offset;
}

START_TEST(in_place_needs_same_dims_and_element_size) {
  /* Same dims, same element size: in place, whatever the types. */
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  a = f32[4] exponential(x)\n"
      "  c = s32[4] bitcast-convert(a)\n  d = s32[4] negate(c)\n  ROOT r = s32[4] negate(d)\n}\n");
  PassBufferPlan p;
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  ck_assert(same_place(&p, m, "a", "c"));
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
  /* f32[4] → u8[4,4] has the same bytes, but output element (i, 1) would
   * overwrite input element i before (i, 2) reads it. */
  m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  a = f32[4] exponential(x)\n"
      "  b = u8[4,4] bitcast-convert(a)\n  c = u8[4,4] negate(b)\n  ROOT r = u8[4,4] negate(c)\n}\n");
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  ck_assert(!same_place(&p, m, "a", "b"));
  ck_assert(same_place(&p, m, "b", "c"));
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
}
END_TEST

START_TEST(fusions_overwrite_only_operands_read_at_their_own_index) {
  /* The fusion reads p0 transposed and p1 at its own index: it may write
   * over p1's buffer (b), never over p0's (a). */
  HloModule *m = ck_parse_verified(
      "HloModule m\nfused {\n  p0 = f32[4,4] parameter(0)\n  p1 = f32[4,4] parameter(1)\n"
      "  t = f32[4,4] transpose(p0), dimensions={1,0}\n  ROOT s = f32[4,4] add(t, p1)\n}\n"
      "ENTRY e {\n  x = f32[4,4] parameter(0)\n  a = f32[4,4] exponential(x)\n"
      "  b = f32[4,4] negate(x)\n  f = f32[4,4] fusion(a, b), kind=kLoop, calls=fused\n"
      "  ROOT r = f32[4,4] negate(f)\n}\n");
  PassBufferPlan p;
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  ck_assert(!same_place(&p, m, "f", "a"));
  ck_assert(same_place(&p, m, "f", "b"));
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
  /* A row kernel (input fusion) reduces its row before sweeping it: never
   * in place. */
  m = ck_parse_verified(
      "HloModule m\nsum {\n  u = f32[] parameter(0)\n  v = f32[] parameter(1)\n"
      "  ROOT s = f32[] add(u, v)\n}\n"
      "fused {\n  p0 = f32[4,4] parameter(0)\n  z = f32[] constant(0)\n"
      "  r = f32[4] reduce(p0, z), dimensions={1}, to_apply=sum\n"
      "  rb = f32[4,4] broadcast(r), dimensions={0}\n  ROOT d = f32[4,4] divide(p0, rb)\n}\n"
      "ENTRY e {\n  x = f32[4,4] parameter(0)\n  a = f32[4,4] exponential(x)\n"
      "  f = f32[4,4] fusion(a), kind=kInput, calls=fused\n  ROOT r = f32[4,4] negate(f)\n}\n");
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  ck_assert(!same_place(&p, m, "f", "a"));
  ck_assert_int_eq(p.inplace_reuses, 0);
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
}
END_TEST

START_TEST(values_live_together_get_disjoint_ranges) {
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[64] parameter(0)\n  a = f32[64] exponential(x)\n"
      "  b = f32[128] concatenate(a, x), dimensions={0}\n  c = f32[64] slice(b), slice={[0:64]}\n"
      "  d = f32[64] add(c, a)\n  t = (f32[64], f32[128]) tuple(d, b)\n"
      "  g = f32[64] get-tuple-element(t), index=0\n  ROOT r = f32[64] negate(g)\n}\n");
  PassBufferPlan p;
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++) {
      const PassBuf *u = pass_buffer_of(&p, find(m, names[i]), 0);
      const PassBuf *v = pass_buffer_of(&p, find(m, names[j]), 0);
      ck_assert_msg(u->offset + u->size <= v->offset || v->offset + v->size <= u->offset,
                    "%s and %s overlap", names[i], names[j]);
    }
  /* get-tuple-element owns nothing: it is d's buffer. */
  ck_assert_int_eq(pass_buffer_of(&p, find(m, "g"), 0)->offset,
                   pass_buffer_of(&p, find(m, "d"), 0)->offset);
  ck_assert_int_ge(p.arena_bytes, p.peak_live_bytes);
  ck_assert_int_le(p.arena_bytes, p.naive_bytes);
  const PassSchedule *s = pass_plan_schedule(&p, m->entry);
  ck_assert_ptr_nonnull(s);
  ck_assert_ptr_eq(s->order[s->n - 1], m->entry->root);
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
}
END_TEST

/* A backend's kernels that ask for working memory (here: 1000 bytes for
 * every sort): it gets arena bytes of its own, apart from everything live
 * while the kernel runs (its operand, its outputs), and shared with what
 * is not; no other instruction gets any, and without the policy's callback
 * none does. */
static int64_t sort_temp(const HloInstr *x) { return x->op == HLO_OP_SORT ? 1000 : 0; }

START_TEST(kernels_get_working_memory_live_at_their_step) {
  HloModule *m = ck_parse_verified(
      "HloModule m\nlt {\n  u = f32[] parameter(0)\n  v = f32[] parameter(1)\n"
      "  ROOT w = pred[] compare(u, v), direction=LT\n}\n"
      "ENTRY e {\n  x = f32[256] parameter(0)\n  a = f32[256] exponential(x)\n"
      "  s = f32[256] sort(a), dimensions={0}, to_apply=lt\n  b = f32[256] negate(s)\n"
      "  c = f32[256] tanh(b)\n  ROOT r = f32[256] add(c, x)\n}\n");
  PassPolicy policy = pu_capable;
  policy.kernel_temp_bytes = sort_temp;
  PassBufferPlan p;
  ck_assert(!pass_assign_buffers(m, &policy, &p));
  int64_t at = pass_temp_offset(&p, find(m, "s"));
  ck_assert_int_ge(at, 0);
  ck_assert_int_le(at + 1000, p.arena_bytes);
  const char *live[] = {"a", "s"};
  for (int i = 0; i < 2; i++) {
    const PassBuf *u = pass_buffer_of(&p, find(m, live[i]), 0);
    ck_assert_int_eq(u->kind, PASS_BUF_SCRATCH);
    ck_assert_msg(u->offset + u->size <= at || at + 1000 <= u->offset,
                  "%s overlaps the sort's working memory", live[i]);
  }
  ck_assert_int_eq(pass_temp_offset(&p, find(m, "a")), -1);
  ck_assert_int_eq(pass_temp_offset(&p, find(m, "b")), -1);
  /* A slot of its own without liveness: counted like a value. */
  ck_assert_int_eq(p.naive_bytes, 4 * 1024 + 1024);
  pass_buffer_plan_free(&p);
  ck_assert(!pass_assign_buffers(m, &pu_capable, &p));
  ck_assert_int_eq(pass_temp_offset(&p, find(m, "s")), -1);
  pass_buffer_plan_free(&p);
  hlo_module_free(m);
}
END_TEST

START_TEST(best_schedule_is_no_worse_than_post_order) {
  /* Two branches: finishing the big one first keeps the peak low. */
  HloModule *m = ck_parse_verified(
      "HloModule m\nENTRY e {\n  x = f32[1000] parameter(0)\n  y = f32[10] parameter(1)\n"
      "  s1 = f32[10] negate(y)\n  s2 = f32[10] exponential(s1)\n"
      "  b1 = f32[1000] negate(x)\n  b2 = f32[1000] exponential(b1)\n"
      "  b3 = f32[10] slice(b2), slice={[0:10]}\n  ROOT r = f32[10] add(s2, b3)\n}\n");
  PassSchedule post, best;
  pass_schedule(m->entry, PASS_SCHED_POST_ORDER, &post);
  pass_schedule(m->entry, PASS_SCHED_BEST, &best);
  ck_assert_int_eq(best.n, post.n);
  ck_assert_int_le(best.peak_bytes, post.peak_bytes);
  pass_schedule_free(&post);
  pass_schedule_free(&best);
  hlo_module_free(m);
}
END_TEST

static const char *const mlp =
    "HloModule m\nENTRY e {\n  x = f32[4,8] parameter(0)\n  w = f32[8,16] parameter(1)\n"
    "  d = f32[4,16] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
    "  c = f32[] constant(0)\n  z = f32[4,16] broadcast(c), dimensions={}\n"
    "  ROOT r = f32[4,16] maximum(d, z)\n}\n";

START_TEST(stats_count_kernels_flops_and_bytes) {
  HloModule *m = ck_parse_verified(mlp);
  PassStats s;
  ck_assert(!pass_stats(m, &pu_capable, &s));
  ck_assert_int_eq(s.kernels, 3); /* dot, broadcast, maximum */
  ck_assert_int_eq(s.flops, 2 * 4 * 16 * 8);
  ck_assert(!pass_run_pipeline(m, &(PassOptions){.policy = &pu_capable}));
  ck_assert(!pass_stats(m, &pu_capable, &s));
  ck_assert_int_eq(s.kernels, 1);
  ck_assert_int_eq(s.fusions[HLO_FUSION_OUTPUT], 1);
  ck_assert_int_eq(s.flops, 2 * 4 * 16 * 8);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  pass_stats_print(f, &s);
  fclose(f);
  ck_assert_ptr_nonnull(strstr(text, "kernels           1 (fusions: 0 loop, 0 input, 1 output"));
  free(text);
  hlo_module_free(m);
}
END_TEST

START_TEST(pipeline_options_disable_dump_and_time) {
  char dir[] = "/tmp/hloc_passes_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  HloModule *m = ck_parse_verified(mlp);
  const char *off[] = {"fusion"};
  char *timing = NULL;
  size_t len = 0;
  FILE *tf = open_memstream(&timing, &len);
  PassOptions o = {.dump_after = "all", .dump_dir = dir, .disabled = off, .ndisabled = 1,
                   .timing = tf, .policy = &pu_capable};
  ck_assert(!pass_run_pipeline(m, &o));
  fclose(tf);
  ck_assert_int_eq(pu_count(m, HLO_OP_FUSION), 0);
  ck_assert_ptr_nonnull(strstr(timing, "algsimp"));
  ck_assert_ptr_null(strstr(timing, "\nfusion "));
  free(timing);
  char path[256];
  snprintf(path, sizeof path, "%s/000-input.hlo", dir);
  ck_assert_int_eq(access(path, R_OK), 0);
  snprintf(path, sizeof path, "%s/001-inline.hlo", dir);
  ck_assert_int_eq(access(path, R_OK), 0);
  hlo_module_free(m);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(pipeline_errors_name_what_failed) {
  HloModule *m = ck_parse_verified(mlp);
  const char *off[] = {"no-such-pass"};
  PassOptions o = {.disabled = off, .ndisabled = 1};
  HloError *e = pass_run_pipeline(m, &o);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(strstr(hlo_error_message(e), "unknown pass 'no-such-pass'"));
  hlo_error_free(e);
  ck_assert(pass_name_is_known("algsimp"));
  ck_assert(!pass_name_is_known("no-such-pass"));
  int n = 0;
  for (const char *const *p = pass_names(); *p; p++) n++;
  ck_assert_int_eq(n, 15);
  /* A broken input is blamed on the input, not on a pass. */
  m->entry->root->shape.dims[0] = 5;
  e = pass_run_pipeline(m, NULL);
  ck_assert_ptr_nonnull(e);
  ck_assert_msg(!strncmp(hlo_error_message(e), "pipeline input: verifier:", 25), "%s",
                hlo_error_message(e));
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("passes_buffers");
  TCase *t = tcase_create("buffers");
  tcase_add_test(t, elementwise_chain_reuses_one_buffer);
  tcase_add_test(t, in_place_needs_same_dims_and_element_size);
  tcase_add_test(t, fusions_overwrite_only_operands_read_at_their_own_index);
  tcase_add_test(t, values_live_together_get_disjoint_ranges);
  tcase_add_test(t, kernels_get_working_memory_live_at_their_step);
  tcase_add_test(t, best_schedule_is_no_worse_than_post_order);
  tcase_add_test(t, stats_count_kernels_flops_and_bytes);
  tcase_add_test(t, pipeline_options_disable_dump_and_time);
  tcase_add_test(t, pipeline_errors_name_what_failed);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
