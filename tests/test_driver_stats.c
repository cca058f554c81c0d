/*
 * test_driver_stats.c — what the pass pipeline achieves on the models,
 * held to recorded numbers so that a change losing fusion or buffer reuse
 * fails here.
 *
 * For every model of testdata/tf/models (MANIFEST) and five model-like
 * cases of the JAX corpus, `hloc compile --stats` (the pipeline as users
 * run it) must give
 *   - at most the recorded number of kernels after fusion;
 *   - at most the recorded scratch arena with reuse, and at most 1.2 × its
 *     lower bound (the peak of the bytes live at once under the schedule);
 *   - lower bound ≤ arena with reuse ≤ arena without reuse (one slot per
 *     value), and a compiled arena no larger than one slot per value.
 * The numbers are docs/passes.md's (scripts/passes_report.sh).  When a
 * change improves them, lower the limits here and regenerate the doc.
 *
 * Runs the binary named by $HLOC_BIN (set by CTest).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

#define MODELS "testdata/tf/models/"
#define CORPUS "testdata/hlo/"

typedef struct Limit {
  const char *name;
  bool graphdef;         /* MODELS NAME.pb with its config, else CORPUS NAME.hlo */
  int64_t max_kernels;   /* after the whole pipeline */
  int64_t max_arena;     /* the buffer plan's arena with reuse, bytes */
} Limit;

/* A padded convolution reads a pad of its input (conv-pad): one more
 * kernel where the pad joins no producer's kernel, and its copy in the
 * arena (small_cnn, mobilenet_v2's stem, resnet_blocks, unet_small). */
static const Limit limits[] = {
    {"mnist_mlp", true, 3, 1152},
    {"small_cnn", true, 7, 66560},
    {"mobilenet_v2", true, 56, 552960},
    {"resnet_blocks", true, 17, 205056},
    {"transformer_block", true, 21, 20480},
    {"text_classifier", true, 3, 192},
    {"lstm_unrolled", true, 39, 896},
    {"lstm_while", true, 13, 5568},
    {"unet_small", true, 17, 209280},
    {"mlp_softmax", false, 3, 320},
    {"layer_norm", false, 1, 0},
    {"attention_tiny", false, 4, 512},
    {"small_convnet", false, 4, 2560},
    {"gelu_erf", false, 1, 0},
};

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-stats-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Runs `hloc ARGS` with stderr discarded; *out receives stdout (malloc'd).
 * Returns the exit status. */
static int hloc_stdout(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hloc_stdout(char **out, const char *fmt, ...) {
  const char *bin = getenv("HLOC_BIN");
  ck_assert_msg(bin != NULL, "HLOC_BIN is not set (run through ctest)");
  char args[4096], cmd[4400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", bin, args);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  HloStr s = {0};
  char buf[1024];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) hlo_str_append(&s, buf, n);
  int status = pclose(p);
  *out = hlo_str_take(&s);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The number after `label` at the start of a line of text. */
static int64_t stat_of(const char *text, const char *label, const char *model) {
  size_t n = strlen(label);
  for (const char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (!strncmp(line, label, n) && line[n] == ' ') return strtoll(line + n, NULL, 10);
  ck_abort_msg("%s: no '%s' in the --stats output:\n%s", model, label, text);
  return -1;
}

START_TEST(model_meets_its_limits) {
  const Limit *l = &limits[_i];
  char *out;
  int rc = l->graphdef ? hloc_stdout(&out, "compile " MODELS "%s.pb --config " MODELS
                                           "%s.config.pbtxt --stats --emit header -o %s/m",
                                     l->name, l->name, tmpdir)
                       : hloc_stdout(&out, "compile " CORPUS "%s.hlo --stats --emit header -o %s/m",
                                     l->name, tmpdir);
  ck_assert_msg(rc == 0, "%s: hloc compile exit %d: %s", l->name, rc, out);
  int64_t kernels = stat_of(out, "kernels", l->name);
  int64_t arena = 0, naive = 0, peak = 0;
  const char *a = strstr(out, "\narena bytes ");
  ck_assert_msg(a && sscanf(a, "\narena bytes %" SCNd64 " (one slot per value: %" SCNd64
                               ", peak live: %" SCNd64 ")",
                            &arena, &naive, &peak) == 3,
                "%s: no arena line in:\n%s", l->name, out);
  int64_t compiled = stat_of(out, "compiled arena", l->name);

  ck_assert_msg(kernels <= l->max_kernels, "%s: %" PRId64 " kernels after fusion, limit %" PRId64,
                l->name, kernels, l->max_kernels);
  ck_assert_msg(arena <= l->max_arena, "%s: arena %" PRId64 " bytes, limit %" PRId64, l->name,
                arena, l->max_arena);
  ck_assert_msg(5 * arena <= 6 * peak, "%s: arena %" PRId64 " bytes > 1.2 x lower bound %" PRId64,
                l->name, arena, peak);
  ck_assert_msg(peak <= arena && arena <= naive,
                "%s: lower bound %" PRId64 ", arena %" PRId64 ", one slot per value %" PRId64,
                l->name, peak, arena, naive);
  ck_assert_msg(compiled <= naive,
                "%s: the compiled code asks for %" PRId64 " bytes, more than one slot per value "
                "(%" PRId64 ")",
                l->name, compiled, naive);
  free(out);
}
END_TEST

/* A Keras LSTM's while loop (a step counter and the iteration limit, the
 * condition fused by the passes) runs once per time step: --stats counts
 * its body 8 times per run, the sequence's length. */
START_TEST(while_bodies_count_by_trip_count) {
  char *out;
  int rc = hloc_stdout(&out, "compile " MODELS "lstm_while.pb --config " MODELS
                             "lstm_while.config.pbtxt --stats --emit header -o %s/m", tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  const char *w = strstr(out, "\nwhile loops       1 (trip counts: %while.");
  ck_assert_msg(w && strstr(w, " 8)\n"), "no trip count 8 in:\n%s", out);
  int64_t flops = stat_of(out, "flops", "lstm_while");
  const char *r = strstr(out, "\nper run           kernels ");
  int64_t run_kernels = 0, run_flops = 0;
  ck_assert_msg(r && sscanf(r, "\nper run           kernels %" SCNd64 ", flops %" SCNd64,
                            &run_kernels, &run_flops) == 2,
                "no per-run line in:\n%s", out);
  /* The dense layer after the loop runs once, the loop's matmuls 8 times. */
  ck_assert_msg(run_flops > flops && run_flops < 8 * flops, "flops %" PRId64 ", per run %" PRId64,
                flops, run_flops);
  ck_assert_int_gt(run_kernels, stat_of(out, "kernels", "lstm_while"));
  free(out);
  /* Without loops the per-run lines are left out: they would repeat. */
  rc = hloc_stdout(&out, "compile " MODELS "mnist_mlp.pb --config " MODELS
                         "mnist_mlp.config.pbtxt --stats --emit header -o %s/m", tmpdir);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_null(strstr(out, "while loops"));
  ck_assert_ptr_null(strstr(out, "per run"));
  free(out);
}
END_TEST

/* The limits cover every model the MANIFEST lists: a new model needs its
 * numbers recorded. */
START_TEST(every_model_has_limits) {
  FILE *f = fopen(MODELS "MANIFEST", "r");
  ck_assert_ptr_nonnull(f);
  char line[512], name[128];
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || sscanf(line, "%127s", name) != 1) continue;
    bool found = false;
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
      found |= limits[i].graphdef && !strcmp(limits[i].name, name);
    ck_assert_msg(found, "%s: no limits recorded in test_driver_stats.c", name);
  }
  fclose(f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_stats");
  TCase *t = tcase_create("models");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(t, model_meets_its_limits, 0, sizeof limits / sizeof *limits);
  tcase_add_test(t, every_model_has_limits);
  tcase_add_test(t, while_bodies_count_by_trip_count);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
