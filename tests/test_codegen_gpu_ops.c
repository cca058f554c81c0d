/*
 * test_codegen_gpu_ops.c — every TensorFlow op case of testdata/tf/ops
 * (one graph per op and attribute variant, listed in its MANIFEST)
 * compiles to PTX for sm_80 and sm_90 (`--target nvptx64`), and CUDA's
 * ptxas accepts that PTX for its SM.
 *
 * Each case is imported with its tfcompile config (the frontend), runs
 * the pass pipeline with the GPU backend's policy, and is compiled with
 * CgOptions.device_only: the device code alone, whose assembly is the
 * PTX (the host side is test_driver_gpu's).  The PTX files go to a
 * temporary directory that ptxas assembles at the end, several files at
 * once (ck_ptxas_dir).  Where CUDA is not installed (CI) the PTX is
 * built and the test says it was not assembled; where libdevice is
 * missing, the cases that call it are counted apart.
 *
 * Nothing runs a kernel: scripts/gpu-check.sh does that on a GPU.  A case
 * that does not compile fails the test, unless the table `refused` below
 * lists it with the words its error must hold; those are printed, so the
 * gap stays visible, and a listed case that compiles fails the test too.
 * The cases are split in CHUNKS runs per SM so that each stays well
 * inside Check's time-out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "codegen.h"
#include "frontend.h"
#include "passes.h"

enum { MAX_CASES = 1024, CHUNKS = 8 };

/* Cases refused on the GPU, with words of the error.  Empty today: keep
 * an entry only with the reason the backend cannot compile the case. */
static const struct {
  const char *name, *error;
} refused[] = {
    {NULL, NULL},
};

/* The MANIFEST's case names, in its order; returns their count. */
static int manifest(char names[][128]) {
  FILE *f = fopen("testdata/tf/ops/MANIFEST", "r");
  ck_assert_ptr_nonnull(f);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    ck_assert_int_lt(n, MAX_CASES);
    ck_assert_int_eq(sscanf(line, "%127s", names[n]), 1);
    n++;
  }
  fclose(f);
  return n;
}

/* Case `name` imported, through the GPU's passes, to PTX for sm. */
static HloError *case_ptx(const char *name, const char *sm, char **ptx) {
  char graph[300], config[300];
  snprintf(graph, sizeof graph, "testdata/tf/ops/%s.pb", name);
  snprintf(config, sizeof config, "testdata/tf/ops/%s.config.pbtxt", name);
  TfGraph *g = NULL;
  HloModule *m = NULL;
  HloError *e = tf_graph_load(graph, config, &g);
  if (!e) e = tf_import(g, "model", &m);
  tf_graph_free(g);
  CgOptions o = {.target = "nvptx64", .cpu = sm, .verify_kernels = true, .device_only = true};
  PassPolicy policy;
  if (!e) e = cg_pass_policy(&o, &policy);
  if (!e) e = pass_run_pipeline(m, &(PassOptions){.policy = &policy});
  CgProgram *p = NULL;
  size_t len;
  if (!e) e = cg_compile(m, &o, &p);
  if (!e) e = cg_program_emit(p, CG_FILE_ASSEMBLY, ptx, &len);
  cg_program_free(p);
  hlo_module_free(m);
  return e;
}

/* Chunk `chunk` of CHUNKS of the cases, for sm. */
static void ops_assemble(const char *sm, int chunk) {
  static char names[MAX_CASES][128];
  int n = manifest(names);
  ck_assert_int_ge(n, 400);
  int first = n * chunk / CHUNKS, last = n * (chunk + 1) / CHUNKS;
  const char *ptxas = ck_ptxas();
  int built = 0, assembled = 0, no_libdevice = 0;
  HloStr bad = {0}, gaps = {0};
  char dir[] = "/tmp/hloc-ops-ptx-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  for (int i = first; i < last; i++) {
    const char *want = NULL;
    for (size_t r = 0; r < sizeof refused / sizeof *refused; r++)
      if (refused[r].name && !strcmp(refused[r].name, names[i])) want = refused[r].error;
    char *ptx = NULL;
    HloError *e = case_ptx(names[i], sm, &ptx);
    if (e && want && strstr(hlo_error_message(e), want)) {
      hlo_str_printf(&gaps, "\n  %s: refused: %s", names[i], hlo_error_message(e));
    } else if (e && strstr(hlo_error_message(e), "libdevice was not found")) {
      no_libdevice++;
    } else if (e) {
      hlo_str_printf(&bad, "\n  %s: %s", names[i], hlo_error_message(e));
    } else if (want) {
      hlo_str_printf(&bad, "\n  %s: compiles, but is listed as refused", names[i]);
    } else {
      built++;
      char file[400];
      snprintf(file, sizeof file, "%s/%s.ptx", dir, names[i]);
      FILE *f = fopen(file, "w");
      ck_assert_ptr_nonnull(f);
      ck_assert_int_eq(fwrite(ptx, 1, strlen(ptx), f), strlen(ptx));
      fclose(f);
    }
    hlo_error_free(e);
    free(ptx);
  }
  if (ptxas) {
    char *refusals = NULL;
    assembled = ck_ptxas_dir(ptxas, dir, sm, &refusals);
    if (refusals) hlo_str_printf(&bad, "%s", refusals);
    free(refusals);
  }
  ck_assert_int_eq(ck_sh(NULL, "rm -r %s", dir), 0);
  printf("nvptx64 %s: TF op cases %d to %d of %d (%s to %s): %d compile to PTX, %d assembled by "
         "ptxas%s",
         sm, first + 1, last, n, names[first], names[last - 1], built, assembled,
         ptxas ? "" : " (no ptxas: CUDA is not installed, the PTX was built, not assembled)");
  if (no_libdevice) printf("; %d need libdevice, which is missing", no_libdevice);
  printf("%s\n", gaps.buf ? gaps.buf : "");
  ck_assert_msg(!bad.buf, "nvptx64 %s:%s", sm, bad.buf);
  free(gaps.buf);
}

/* Loop index i: chunk i % CHUNKS, for sm_80 then sm_90. */
START_TEST(ops_assemble_for_sm_80_and_sm_90) {
  ops_assemble(_i < CHUNKS ? "sm_80" : "sm_90", _i % CHUNKS);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_gpu_ops");
  TCase *t = tcase_create("ops");
  tcase_add_loop_test(t, ops_assemble_for_sm_80_and_sm_90, 0, 2 * CHUNKS);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
