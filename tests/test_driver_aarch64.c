/*
 * test_driver_aarch64.c — models cross-compiled for AArch64, run under
 * emulation and compared with TensorFlow's and JAX's outputs.
 *
 * Every model of testdata/tf/models (MANIFEST) and a chosen set of JAX
 * corpus cases (testdata/hlo/MANIFEST, with its tolerances) is compiled by
 * `hloc compile --target aarch64 --cpu neoverse-n1 --emit obj,header`; the
 * object must be an AArch64 ELF relocatable.  A C harness generated here
 * (it includes PREFIX.h, reads the inputs with rt_npy_read, calls the typed
 * N_run, calls N_program through hloc_program_run, requires both to agree
 * bit for bit and the descriptor to agree with the header, and writes the
 * results) is linked by Debian's aarch64-linux-gnu-gcc with the runtime
 * built for AArch64 (runtime/CMakeLists.txt, $HLOC_RUNTIME_DIR/aarch64) and
 * run by qemu-aarch64 on the stored inputs.  Model outputs must match
 * TensorFlow's within atol 1e-4, rtol 1e-3 (as in test_driver_compile.c).
 * One model is also compiled with --emit lib,so,exe (hloc links them with
 * the AArch64 runtime and the cross compiler), and each is run.
 *
 * The cross compiler, its libc and qemu-user come from
 * scripts/install-deps.sh (which `make test` runs).  Without them every
 * test fails saying so: a silent skip would let CI stop testing AArch64.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_util.h"

#define MODELS "testdata/tf/models"
#define CORPUS "testdata/hlo"
#define MODEL_ATOL 1e-4
#define MODEL_RTOL 1e-3
#define TARGET "--target aarch64 --cpu neoverse-n1"
#define CROSS_CC "aarch64-linux-gnu-gcc"
#define SYSROOT "/usr/aarch64-linux-gnu"
#define QEMU "qemu-aarch64 -L " SYSROOT
#define NAME "m" /* the --name of every compiled case */
#define INSTALL_HINT "run scripts/install-deps.sh (gcc-aarch64-linux-gnu, " \
                     "libc6-dev-arm64-cross, qemu-user)"

/* The JAX corpus cases run here: those whose results hang on how the
 * target's instructions treat edge cases, on its libm, or on its ABI, and
 * control flow and the kernels that vectorize at NEON's width.  (The whole
 * corpus passes too, but would double the time of this test.) */
static const char *const corpus_names[] = {
    "int_div_edge",             /* sdiv does not trap on x/0 or INT_MIN/-1 */
    "convert_saturate",         /* fcvtzs saturates where cvttss2si does not */
    "minmax_nan_f32",           /* fmin/fmax propagate NaN, minss/maxss do not */
    "bitwise_shift",            /* shift counts at and beyond the width */
    "popcnt_clz",               /* clz of zero */
    "f16_arith",                /* neoverse-n1 has f16 arithmetic; XLA's is f32 */
    "bf16_arith",
    "convert_f16_bf16",
    "unary_transcendental_f32", /* AArch64 glibc's erff differs by an ulp */
    "while_dynamic",
    "cond_pred",
    "switch_3",
    "dot_matmul",
    "conv_nhwc",
    "reduce_basic",
    "sort_argsort",
    "tuple_mixed_dtypes",       /* 12 pointer arguments: 4 on the stack */
};

/* One model to compile and run. */
typedef struct Case {
  char name[128];
  bool graph; /* a GraphDef with its config in MODELS, else name.hlo in CORPUS */
  int nin, nout;
  double atol, rtol;
} Case;

static Case models[32];
static int nmodels;
static char tmpdir[64];

/* Every test needs the cross toolchain and the AArch64 runtime; without
 * them it fails with what to do. */
static void setup(void) {
  ck_assert_msg(ck_sh(NULL, "command -v " CROSS_CC) == 0, CROSS_CC " not found: " INSTALL_HINT);
  ck_assert_msg(ck_sh(NULL, "command -v qemu-aarch64") == 0, "qemu-aarch64 not found: " INSTALL_HINT);
  ck_assert_msg(access(SYSROOT "/lib/libc.so.6", R_OK) == 0,
                "no AArch64 libc in " SYSROOT ": " INSTALL_HINT);
  char path[512];
  snprintf(path, sizeof path, "%s/aarch64/libhloc_runtime.a", ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(access(path, R_OK) == 0,
                "%s is missing: the build was configured without " CROSS_CC "; " INSTALL_HINT
                ", then run cmake again",
                path);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-aarch64-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* The TensorFlow models, read before any test runs (outside a test Check
 * cannot report a failed assertion). */
static void read_models(void) {
  FILE *f = fopen(MODELS "/MANIFEST", "r");
  if (!f) {
    fprintf(stderr, "cannot open " MODELS "/MANIFEST\n");
    exit(EXIT_FAILURE);
  }
  char line[512];
  while (fgets(line, sizeof line, f) && nmodels < (int)(sizeof models / sizeof *models)) {
    Case c = {.graph = true, .atol = MODEL_ATOL, .rtol = MODEL_RTOL};
    char family[64];
    if (line[0] != '#' &&
        sscanf(line, "%127s %63s %d %d", c.name, family, &c.nin, &c.nout) == 4)
      models[nmodels++] = c;
  }
  fclose(f);
}

/* The corpus case called `name`, with its MANIFEST tolerances. */
static Case corpus_case(const char *name) {
  const CkCorpusCase *corpus;
  int n = ck_hlo_corpus(&corpus);
  int i = 0;
  while (i < n && strcmp(corpus[i].name, name)) i++;
  ck_assert_msg(i < n && corpus[i].nin >= 0, "%s is not a runnable case of " CORPUS "/MANIFEST",
                name);
  Case c = {.nin = corpus[i].nin, .nout = corpus[i].nout, .atol = corpus[i].atol,
            .rtol = corpus[i].rtol};
  snprintf(c.name, sizeof c.name, "%s", name);
  return c;
}

/* The input or expected output file `k` of case c. */
static void data_path(char *buf, size_t len, const Case *c, const char *kind, int k) {
  snprintf(buf, len, "%s/%s.%s%d.npy", c->graph ? MODELS : CORPUS, c->name, kind, k);
}

/* PATH must be a 64-bit little-endian AArch64 ELF relocatable object. */
static void expect_aarch64_object(const char *path) {
  size_t len;
  char *obj = ck_read_file(path, &len);
  ck_assert_msg(len >= sizeof(Elf64_Ehdr), "%s: %zu bytes, too short for ELF", path, len);
  Elf64_Ehdr h;
  memcpy(&h, obj, sizeof h);
  ck_assert_msg(!memcmp(h.e_ident, ELFMAG, SELFMAG), "%s: not ELF", path);
  ck_assert_int_eq(h.e_ident[EI_CLASS], ELFCLASS64);
  ck_assert_int_eq(h.e_ident[EI_DATA], ELFDATA2LSB);
  ck_assert_int_eq(h.e_type, ET_REL);
  ck_assert_msg(h.e_machine == EM_AARCH64, "%s: e_machine %d, not EM_AARCH64 (%d)", path,
                h.e_machine, EM_AARCH64);
  free(obj);
}

/* A harness for case c compiled as NAME: argv[1..nin] are the inputs,
 * argv[nin+1..] the result files.  The typed N_run and the descriptor's
 * N_run_buffers (through hloc_program_run) must give the same bytes, and
 * the descriptor, which codegen lays out for the target, must agree with
 * the header; results are saved with the descriptor's shapes. */
static void write_harness(const char *path, const Case *c, const char *header) {
  const char *n = NAME;
  HloStr s = {0};
  hlo_str_printf(&s,
                 "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                 "#include \"%s\"\n\n"
                 "static void *load(const char *path, const hloc_buffer_info *b) {\n"
                 "  RtArray a;\n  char err[512];\n"
                 "  if (rt_npy_read(path, &a, err, sizeof err)) { fprintf(stderr, \"%%s\\n\", err); exit(1); }\n"
                 "  if ((int)a.dtype != b->dtype || a.nbytes != b->bytes) {\n"
                 "    fprintf(stderr, \"%%s: not the type of %%s\\n\", path, b->name);\n"
                 "    exit(1);\n  }\n"
                 "  return a.data;\n}\n\n"
                 "static void save(const char *path, const hloc_buffer_info *b, void *data) {\n"
                 "  RtArray a = {.dtype = (RtDtype)b->dtype, .rank = b->rank, .data = data, .nbytes = b->bytes};\n"
                 "  char err[512];\n"
                 "  for (int k = 0; k < b->rank; k++) a.dims[k] = b->dims[k];\n"
                 "  if (rt_npy_write(path, &a, err, sizeof err)) { fprintf(stderr, \"%%s\\n\", err); exit(1); }\n"
                 "}\n\n"
                 "static void expect(int ok, const char *what) {\n"
                 "  if (!ok) { fprintf(stderr, \"%%s\\n\", what); exit(1); }\n}\n\n"
                 "int main(int argc, char **argv) {\n"
                 "  const hloc_program *p = &%s_program;\n"
                 "  void *buffers[%d];\n"
                 "  if (argc != %d) return 2;\n"
                 "  expect(p->num_args == %s_NUM_ARGS && p->num_results == %s_NUM_RESULTS &&\n"
                 "         p->scratch_bytes == %s_SCRATCH_BYTES && p->scratch_align == %s_SCRATCH_ALIGN &&\n"
                 "         !strcmp(p->name, \"%s\"), \"the descriptor's counts and scratch differ from the header\");\n",
                 header, n, c->nin + c->nout, 1 + c->nin + c->nout, n, n, n, n, n);
  for (int i = 0; i < c->nin; i++)
    hlo_str_printf(&s,
                   "  expect(p->args[%d].dtype == %s_ARG%d_DTYPE && p->args[%d].rank == %s_ARG%d_RANK &&\n"
                   "         p->args[%d].bytes == %s_ARG%d_BYTES, \"argument %d: the descriptor differs from the header\");\n"
                   "  %s_ARG%d_t *a%d = buffers[%d] = load(argv[%d], &p->args[%d]);\n",
                   i, n, i, i, n, i, i, n, i, i, n, i, i, i, 1 + i, i);
  for (int i = 0; i < c->nout; i++)
    hlo_str_printf(&s,
                   "  expect(p->results[%d].dtype == %s_RESULT%d_DTYPE && p->results[%d].rank == %s_RESULT%d_RANK &&\n"
                   "         p->results[%d].bytes == %s_RESULT%d_BYTES, \"result %d: the descriptor differs from the header\");\n"
                   "  %s_RESULT%d_t *r%d = malloc(%s_RESULT%d_BYTES + 1);\n"
                   "  buffers[%d] = malloc(%s_RESULT%d_BYTES + 1);\n",
                   i, n, i, i, n, i, i, n, i, i, n, i, i, n, i, c->nin + i, n, i);
  hlo_str_printf(&s,
                 "  size_t align = %s_SCRATCH_ALIGN;\n"
                 "  void *scratch = aligned_alloc(align, (%s_SCRATCH_BYTES + align) / align * align);\n"
                 "  if (%s_run(",
                 n, n, n);
  for (int i = 0; i < c->nin; i++) hlo_str_printf(&s, "a%d, ", i);
  for (int i = 0; i < c->nout; i++) hlo_str_printf(&s, "r%d, ", i);
  hlo_str_printf(&s, "scratch) != 0) return 1;\n"
                     "  if (hloc_program_run(p, buffers) != 0) return 1;\n");
  for (int i = 0; i < c->nout; i++)
    hlo_str_printf(&s,
                   "  expect(!memcmp(r%d, buffers[%d], %s_RESULT%d_BYTES), \"result %d: %s_run and "
                   "%s_program differ\");\n"
                   "  save(argv[%d], &p->results[%d], r%d);\n",
                   i, c->nin + i, n, i, i, n, n, 1 + c->nin + i, i, i);
  hlo_str_printf(&s, "  return 0;\n}\n");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(s.buf, f);
  fclose(f);
  free(s.buf);
}

/* The result file `got` must match output k of case c within the case's
 * tolerance. */
static void expect_close(const Case *c, const char *got, int k) {
  char want[256], msg[256];
  data_path(want, sizeof want, c, "out", k);
  ck_assert_msg(access(got, R_OK) == 0, "%s: no result file %s", c->name, got);
  HloLiteral *g = ck_read_npy(got), *w = ck_read_npy(want);
  ck_assert_msg(ck_allclose(g, w, c->atol, c->rtol, msg, sizeof msg),
                "%s on AArch64: result %d: %s", c->name, k, msg);
  hlo_literal_free(g);
  hlo_literal_free(w);
}

/* Compiles case c for AArch64 as TMPDIR/NAME.o and .h. */
static void compile_case(const Case *c) {
  char *out;
  int rc = c->graph
               ? ck_sh(&out, "%s compile " MODELS "/%s.pb --config " MODELS "/%s.config.pbtxt "
                    TARGET " --name " NAME " -o %s/" NAME " --emit obj,header",
                    ck_env("HLOC_BIN"), c->name, c->name, tmpdir)
               : ck_sh(&out, "%s compile " CORPUS "/%s.hlo " TARGET " --name " NAME " -o %s/" NAME
                    " --emit obj,header",
                    ck_env("HLOC_BIN"), c->name, tmpdir);
  ck_assert_msg(rc == 0, "%s: hloc compile exit %d: %s", c->name, rc, out);
  free(out);
  char path[128];
  snprintf(path, sizeof path, "%s/" NAME ".o", tmpdir);
  expect_aarch64_object(path);
}

/* Runs the AArch64 program TMPDIR/PROG (a harness: inputs, then result
 * files) under qemu on case c's inputs and compares its results. */
static void run_harness(const Case *c, const char *prog) {
  char path[256], *out;
  HloStr cmd = {0};
  hlo_str_printf(&cmd, QEMU " %s/%s", tmpdir, prog);
  for (int i = 0; i < c->nin; i++) {
    data_path(path, sizeof path, c, "in", i);
    hlo_str_printf(&cmd, " %s", path);
  }
  for (int i = 0; i < c->nout; i++) hlo_str_printf(&cmd, " %s/out%d.npy", tmpdir, i);
  int rc = ck_sh(&out, "%s", cmd.buf);
  ck_assert_msg(rc == 0, "%s: %s exited %d under qemu-aarch64: %s", c->name, prog, rc, out);
  free(out);
  free(cmd.buf);
  for (int i = 0; i < c->nout; i++) {
    snprintf(path, sizeof path, "%s/out%d.npy", tmpdir, i);
    expect_close(c, path, i);
  }
}

/* Compiles case c for AArch64, links the harness, runs it under qemu and
 * compares its results. */
static void run_case(const Case *c) {
  compile_case(c);
  char path[256], *out;
  snprintf(path, sizeof path, "%s/harness.c", tmpdir);
  write_harness(path, c, NAME ".h");
  int rc = ck_sh(&out, CROSS_CC " -std=c17 -Wall -Werror -I%s -Iruntime -o %s/harness "
              "%s/harness.c %s/" NAME ".o %s/aarch64/libhloc_runtime.a -lm -pthread",
              tmpdir, tmpdir, tmpdir, tmpdir, ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "%s: linking the AArch64 harness failed: %s", c->name, out);
  free(out);
  run_harness(c, "harness");
}

START_TEST(model_runs_on_aarch64) { run_case(&models[_i]); }
END_TEST

START_TEST(corpus_case_runs_on_aarch64) {
  Case c = corpus_case(corpus_names[_i]);
  run_case(&c);
}
END_TEST

/* `hloc compile --target aarch64 --emit lib,so,exe`: the AArch64 runtime
 * archives and Debian's cross compiler make all three (driver/compile.c).
 * The harness links with the static library alone (it holds the runtime)
 * and with the shared one; the executable runs with a thread pool, so the
 * runtime's threads start and join under qemu. */
START_TEST(lib_so_exe_for_aarch64) {
  const Case *mnist = &models[0];
  ck_assert_str_eq(mnist->name, "mnist_mlp");
  char path[256], *out;
  int rc = ck_sh(&out, "%s compile " MODELS "/mnist_mlp.pb --config " MODELS
                       "/mnist_mlp.config.pbtxt " TARGET " --name " NAME
                       " -o %s/net --emit header,lib,so,exe",
                 ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "hloc compile exit %d: %s", rc, out);
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 4);

  snprintf(path, sizeof path, "%s/harness.c", tmpdir);
  write_harness(path, mnist, "net.h");
  rc = ck_sh(&out, CROSS_CC " -std=c17 -Wall -Werror -I%s -Iruntime -o %s/static %s/harness.c "
                   "%s/libnet.a -lm -pthread",
             tmpdir, tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "linking with libnet.a failed: %s", out);
  free(out);
  run_harness(mnist, "static");
  rc = ck_sh(&out, CROSS_CC " -std=c17 -Wall -Werror -I%s -Iruntime -o %s/shared %s/harness.c "
                   "-L%s -lnet -Wl,-rpath,%s -lm",
             tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "linking with libnet.so failed: %s", out);
  free(out);
  run_harness(mnist, "shared");

  rc = ck_sh(&out, QEMU " %s/net --input image=" MODELS "/mnist_mlp.in0.npy --output-dir %s/o "
                   "--threads 3 --bench 3",
             tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "the AArch64 executable exited %d: %s", rc, out);
  ck_assert_msg(strstr(out, NAME ": 3 runs: median "), "%s", out);
  free(out);
  snprintf(path, sizeof path, "%s/o/probs.npy", tmpdir);
  expect_close(mnist, path, 0);
}
END_TEST

int main(void) {
  read_models();
  Suite *s = suite_create("driver_aarch64");
  TCase *t = tcase_create("aarch64");
  tcase_add_checked_fixture(t, setup, teardown);
  /* A case takes about a second; qemu on a loaded machine gets room. */
  tcase_set_timeout(t, 120);
  tcase_add_loop_test(t, model_runs_on_aarch64, 0, nmodels);
  tcase_add_loop_test(t, corpus_case_runs_on_aarch64, 0,
                      (int)(sizeof corpus_names / sizeof *corpus_names));
  tcase_add_test(t, lib_so_exe_for_aarch64);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
