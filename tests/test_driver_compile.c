/*
 * test_driver_compile.c — `hloc compile` and `hloc run` (JIT) end to end,
 * as users build with them.
 *
 * For every model of testdata/tf/models (MANIFEST) one compile emits all
 * five kinds, and each is checked against TensorFlow's outputs (atol 1e-4,
 * rtol 1e-3, the model tolerance of test_frontend_import.c):
 *   obj,header  a C harness generated here (it includes PREFIX.h, reads the
 *               inputs with rt_npy_read, calls the typed N_run, writes the
 *               results), built with cc against PREFIX.o and the runtime;
 *   lib         the same harness linked with -L DIR -lPREFIX alone;
 *   so          the same harness linked against libPREFIX.so alone;
 *   exe         the executable run on the model's inputs;
 * and `hloc run` compiles and runs it in process.  Both run the pass
 * pipeline, as by default (--stats shows its fusions).  A model that
 * codegen cannot compile fails its test.
 *
 * Then the command's contract: usage and target errors with their exit
 * statuses and messages, no files left by a failed compile, cross objects,
 * two models in one program, the shared library bound by name through
 * dlopen, the executable's options and errors, and the C example of
 * docs/header.md, which must build and run.
 *
 * Runs the binary named by $HLOC_BIN and links with the runtime archives
 * hloc links, in $HLOC_RUNTIME_DIR (both set by CTest); the C compiler is
 * $CC or cc.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "hloc_runtime.h"

#define MODELS "testdata/tf/models"
#define ATOL 1e-4
#define RTOL 1e-3

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-compile-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Runs a shell command, capturing stdout and stderr into *out (malloc'd,
 * may be NULL to discard); returns the exit status. */


static const char *cc(void) { return getenv("CC") && *getenv("CC") ? getenv("CC") : "cc"; }


/* Fails the test unless `got` (a .npy file) matches `want` within the
 * model tolerance; `how` names the path that produced it. */
static void expect_close(const char *how, const char *got, const char *want) {
  ck_assert_msg(access(got, R_OK) == 0, "%s: no result file %s", how, got);
  HloLiteral *g = ck_read_npy(got), *w = ck_read_npy(want);
  char msg[256];
  ck_assert_msg(ck_allclose(g, w, ATOL, RTOL, msg, sizeof msg), "%s: %s: %s", how, got, msg);
  hlo_literal_free(g);
  hlo_literal_free(w);
}

/* --- the models ----------------------------------------------------------- */

typedef struct ModelCase {
  char name[64];
  int nin, nout;
} ModelCase;

static ModelCase models[32];
static int nmodels;

static void read_manifest(void) {
  FILE *f = fopen(MODELS "/MANIFEST", "r");
  if (!f) {
    fprintf(stderr, "cannot open " MODELS "/MANIFEST\n");
    exit(EXIT_FAILURE);
  }
  char line[512];
  while (fgets(line, sizeof line, f) && nmodels < (int)(sizeof models / sizeof *models)) {
    ModelCase *m = &models[nmodels];
    char family[64];
    if (line[0] != '#' && sscanf(line, "%63s %63s %d %d", m->name, family, &m->nin, &m->nout) == 4)
      nmodels++;
  }
  fclose(f);
}

/* The C name of result r, from the generated header. */
static char *result_name(const char *header, const char *model, int r) {
  char key[128];
  snprintf(key, sizeof key, "#define %s_RESULT%d_NAME \"", model, r);
  const char *p = strstr(header, key);
  ck_assert_msg(p != NULL, "%s not in the header", key);
  p += strlen(key);
  return strndup(p, strcspn(p, "\""));
}

/* A harness for model m: reads argv[1..nin] as the arguments, calls the
 * typed entry point, writes the results to argv[nin+1..]. */
static void write_harness(const char *path, const ModelCase *m) {
  HloStr s = {0};
  const char *n = m->name;
  hlo_str_printf(&s,
                 "#include <stdio.h>\n#include <stdlib.h>\n#include \"%s.h\"\n\n"
                 "static void *load(const char *path, int dtype, size_t bytes) {\n"
                 "  RtArray a;\n  char err[512];\n"
                 "  if (rt_npy_read(path, &a, err, sizeof err)) { fprintf(stderr, \"%%s\\n\", err); exit(1); }\n"
                 "  if ((int)a.dtype != dtype || a.nbytes != bytes) { fprintf(stderr, \"%%s: wrong type\\n\", path); exit(1); }\n"
                 "  return a.data;\n}\n\n"
                 "static void save(const char *path, int dtype, int rank, const int64_t *dims, void *data, size_t bytes) {\n"
                 "  RtArray a = {.dtype = (RtDtype)dtype, .rank = rank, .data = data, .nbytes = bytes};\n"
                 "  char err[512];\n"
                 "  for (int k = 0; k < rank; k++) a.dims[k] = dims[k];\n"
                 "  if (rt_npy_write(path, &a, err, sizeof err)) { fprintf(stderr, \"%%s\\n\", err); exit(1); }\n"
                 "}\n\n"
                 "int main(int argc, char **argv) {\n"
                 "  if (argc != %d) return 2;\n",
                 n, 1 + m->nin + m->nout);
  for (int i = 0; i < m->nin; i++)
    hlo_str_printf(&s, "  %s_ARG%d_t *a%d = load(argv[%d], %s_ARG%d_DTYPE, %s_ARG%d_BYTES);\n", n,
                   i, i, 1 + i, n, i, n, i);
  for (int i = 0; i < m->nout; i++)
    hlo_str_printf(&s, "  %s_RESULT%d_t *r%d = malloc(%s_RESULT%d_BYTES + 1);\n", n, i, i, n, i);
  hlo_str_printf(&s,
                 "  size_t align = %s_SCRATCH_ALIGN;\n"
                 "  void *scratch = aligned_alloc(align, (%s_SCRATCH_BYTES + align) / align * align);\n"
                 "  if (%s_run(",
                 n, n, n);
  for (int i = 0; i < m->nin; i++) hlo_str_printf(&s, "a%d, ", i);
  for (int i = 0; i < m->nout; i++) hlo_str_printf(&s, "r%d, ", i);
  hlo_str_printf(&s, "scratch) != 0) return 1;\n");
  for (int i = 0; i < m->nout; i++)
    hlo_str_printf(&s,
                   "  { const int64_t dims[RT_MAX_RANK] = %s_RESULT%d_DIMS;\n"
                   "    save(argv[%d], %s_RESULT%d_DTYPE, %s_RESULT%d_RANK, dims, r%d, "
                   "%s_RESULT%d_BYTES); }\n",
                   n, i, 1 + m->nin + i, n, i, n, i, i, n, i);
  hlo_str_printf(&s, "  return 0;\n}\n");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(s.buf, f);
  fclose(f);
  free(s.buf);
}

/* Runs DIR/harness-KIND on the inputs into DIR/KIND/out<i>.npy and checks
 * the results. */
static void check_harness(const ModelCase *m, const char *kind) {
  char cmd[4096], *out;
  int k = snprintf(cmd, sizeof cmd, "mkdir -p %s/%s && %s/harness-%s", tmpdir, kind, tmpdir, kind);
  for (int i = 0; i < m->nin; i++)
    k += snprintf(cmd + k, sizeof cmd - (size_t)k, " " MODELS "/%s.in%d.npy", m->name, i);
  for (int i = 0; i < m->nout; i++)
    k += snprintf(cmd + k, sizeof cmd - (size_t)k, " %s/%s/out%d.npy", tmpdir, kind, i);
  int rc = ck_sh(&out, "%s", cmd);
  ck_assert_msg(rc == 0, "%s: %s: harness exit %d: %s", m->name, kind, rc, out);
  free(out);
  for (int i = 0; i < m->nout; i++) {
    char got[256], want[256], how[128];
    snprintf(got, sizeof got, "%s/%s/out%d.npy", tmpdir, kind, i);
    snprintf(want, sizeof want, MODELS "/%s.out%d.npy", m->name, i);
    snprintf(how, sizeof how, "%s via %s", m->name, kind);
    expect_close(how, got, want);
  }
}

/* Builds the harness of `kind` with the given link arguments. */
static void build_harness(const ModelCase *m, const char *kind, const char *link) {
  char *out;
  int rc = ck_sh(&out, "%s -std=c17 -Wall -Werror -I%s -Iruntime -o %s/harness-%s %s/harness.c %s",
              cc(), tmpdir, tmpdir, kind, tmpdir, link);
  ck_assert_msg(rc == 0, "%s: building the %s harness failed: %s", m->name, kind, out);
  free(out);
}

START_TEST(model_compiles_and_matches_tensorflow) {
  const ModelCase *m = &models[_i];
  const char *n = m->name;
  char *out;
  int rc = ck_sh(&out, "%s compile " MODELS "/%s.pb --config " MODELS "/%s.config.pbtxt --name %s "
              "-o %s/%s --emit obj,header,lib,so,exe --stats",
              ck_env("HLOC_BIN"), n, n, n, tmpdir, n);
  ck_assert_msg(rc == 0, "%s: hloc compile exit %d: %s", n, rc, out);
  /* the pass pipeline ran: every model has fusions */
  ck_assert_msg(strstr(out, "(fusions: ") && !strstr(out, "(fusions: 0 loop, 0 input, 0 output"),
                "%s: no fusion in:\n%s", n, out);
  free(out);

  char path[256];
  snprintf(path, sizeof path, "%s/harness.c", tmpdir);
  write_harness(path, m);
  char link[1024];
  snprintf(link, sizeof link, "%s/%s.o %s/libhloc_runtime.a -lm -pthread", tmpdir, n,
           ck_env("HLOC_RUNTIME_DIR"));
  build_harness(m, "obj", link);
  check_harness(m, "obj");
  snprintf(link, sizeof link, "-L%s -Wl,-Bstatic -l%s -Wl,-Bdynamic -lm -pthread", tmpdir, n);
  build_harness(m, "lib", link);
  check_harness(m, "lib");
  snprintf(link, sizeof link, "-L%s -l%s -Wl,-rpath,%s", tmpdir, n, tmpdir);
  build_harness(m, "so", link);
  check_harness(m, "so");

  snprintf(path, sizeof path, "%s/%s.h", tmpdir, n);
  char *header = ck_read_file(path, NULL);
  HloStr cmd = {0};
  hlo_str_printf(&cmd, "%s/%s --output-dir %s/exe", tmpdir, n, tmpdir);
  for (int i = 0; i < m->nin; i++) hlo_str_printf(&cmd, " --input " MODELS "/%s.in%d.npy", n, i);
  rc = ck_sh(&out, "%s", cmd.buf);
  ck_assert_msg(rc == 0, "%s: the executable exited %d: %s", n, rc, out);
  free(out);
  free(cmd.buf);

  cmd = (HloStr){0};
  hlo_str_printf(&cmd, "%s run " MODELS "/%s.pb --config " MODELS "/%s.config.pbtxt "
                 "--output-dir %s/jit", ck_env("HLOC_BIN"), n, n, tmpdir);
  for (int i = 0; i < m->nin; i++) hlo_str_printf(&cmd, " --input " MODELS "/%s.in%d.npy", n, i);
  rc = ck_sh(&out, "%s", cmd.buf);
  ck_assert_msg(rc == 0, "%s: hloc run exited %d: %s", n, rc, out);
  free(out);
  free(cmd.buf);

  for (int i = 0; i < m->nout; i++) {
    char *r = result_name(header, n, i), got[256], want[256], how[128];
    snprintf(want, sizeof want, MODELS "/%s.out%d.npy", n, i);
    snprintf(got, sizeof got, "%s/exe/%s.npy", tmpdir, r);
    snprintf(how, sizeof how, "%s via exe", n);
    expect_close(how, got, want);
    snprintf(got, sizeof got, "%s/jit/%s.npy", tmpdir, r);
    snprintf(how, sizeof how, "%s via hloc run", n);
    expect_close(how, got, want);
    free(r);
  }
  free(header);
}
END_TEST

/* --- the command's contract ---------------------------------------------------- */

#define MNIST MODELS "/mnist_mlp"
#define MNIST_ARGS MNIST ".pb --config " MNIST ".config.pbtxt"

/* `hloc compile -o TMPDIR/m ARGS` must fail with status want_rc and a
 * message containing want_msg, leaving no file behind. */
static void expect_compile_failure(int want_rc, const char *want_msg, const char *args) {
  char *out;
  int before = ck_count_files(tmpdir);
  int rc = ck_sh(&out, "%s compile -o %s/m %s", ck_env("HLOC_BIN"), tmpdir, args);
  ck_assert_msg(rc == want_rc, "exit %d (want %d): %s", rc, want_rc, out);
  ck_assert_msg(strstr(out, want_msg) != NULL, "message '%s' not in: %s", want_msg, out);
  ck_assert_msg(ck_count_files(tmpdir) == before, "files left behind by: hloc compile %s", args);
  free(out);
}

START_TEST(compile_errors) {
  expect_compile_failure(1, "unknown target 'riscv64'; valid targets: x86_64, aarch64, nvptx64",
                         MNIST_ARGS " --target riscv64");
  expect_compile_failure(1, "unknown CPU 'pentium9' for x86_64 (did you mean 'pentium'?); "
                            "valid CPUs: native",
                         MNIST_ARGS " --cpu pentium9");
  expect_compile_failure(1, "unknown CPU 'zen4' for x86_64; valid CPUs: native",
                         MNIST_ARGS " --cpu zen4");
  expect_compile_failure(1, "skylake-avx512", MNIST_ARGS " --cpu pentium9");
  expect_compile_failure(1, "unknown feature '+avx9000' for x86_64",
                         MNIST_ARGS " --features +avx9000");
  expect_compile_failure(2, "compile: unknown --emit kind 'dll' (kinds: obj, header, lib, so, exe, cpp)",
                         MNIST_ARGS " --emit obj,dll");
  expect_compile_failure(2, "empty --emit list", MNIST_ARGS " --emit ''");
  expect_compile_failure(2, "--name 'my-model' is not a C identifier",
                         MNIST_ARGS " --name my-model");
  expect_compile_failure(2, "compile: unknown option '--frobnicate'", MNIST_ARGS " --frobnicate");
  expect_compile_failure(2, "--emit needs a value", MNIST_ARGS " --emit");
  expect_compile_failure(1, "needs its tfcompile config (--config FILE.pbtxt)", MNIST ".pb");
  expect_compile_failure(1, "/nowhere/m: '", MNIST_ARGS " -o /nowhere/m");
  /* A cross link runs the target's C compiler ($HLOC_CROSS_CC), not $CC. */
  char *out;
  int rc = ck_sh(&out, "HLOC_CROSS_CC=/nowhere/cc CC=false %s compile -o %s/m " MNIST_ARGS
                       " --target aarch64 --emit obj,exe",
                 ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "cannot run the C compiler '/nowhere/cc'") &&
                    strstr(out, "(set HLOC_CROSS_CC to name one)"),
                "%s", out);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
  free(out);
}
END_TEST

/* --name has no length limit: every symbol carries it, and the executable
 * made with it runs.  (A fixed 300-byte buffer once aborted at 296.)  With
 * no -o the name is also the file name, which the file system may refuse:
 * then the message says so, and nothing is left. */
START_TEST(long_names_compile) {
  const int lengths[] = {296, 1000};
  for (int i = 0; i < 2; i++) {
    char *name = malloc((size_t)lengths[i] + 1), *out;
    memset(name, 'n', (size_t)lengths[i]);
    name[lengths[i]] = '\0';
    int rc = ck_sh(&out, "%s compile " MNIST_ARGS " --name %s -o %s/m --emit header,exe",
                   ck_env("HLOC_BIN"), name, tmpdir);
    ck_assert_msg(rc == 0, "--name of %d characters: exit %d: %s", lengths[i], rc, out);
    free(out);
    char path[128], want[1200];
    snprintf(path, sizeof path, "%s/m.h", tmpdir);
    char *header = ck_read_file(path, NULL);
    snprintf(want, sizeof want, "int %s_run(", name);
    ck_assert_msg(strstr(header, want), "no %s in the header", want);
    free(header);
    rc = ck_sh(&out, "%s/m --help", tmpdir);
    ck_assert_msg(rc == 0 && strstr(out, "image"), "exit %d: %s", rc, out);
    free(out);
    rc = ck_sh(&out, "%s dump " MNIST_ARGS " --stage llvm --name %s", ck_env("HLOC_BIN"), name);
    snprintf(want, sizeof want, "@%s_run_buffers(", name);
    ck_assert_msg(rc == 0 && strstr(out, want), "dump --stage llvm: exit %d", rc);
    free(out);
    rc = ck_sh(&out, "rm %s/m %s/m.h", tmpdir, tmpdir);
    ck_assert_int_eq(rc, 0);
    free(out);
    if (lengths[i] == 1000) {
      char cwd[256];
      ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
      rc = ck_sh(&out, "cd %s && %s compile %s/" MNIST ".pb --config %s/" MNIST
                       ".config.pbtxt --name %s",
                 tmpdir, ck_env("HLOC_BIN"), cwd, cwd, name);
      snprintf(want, sizeof want, "hloc: error: cannot write '%s.o': File name too long\n", name);
      ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
      ck_assert_str_eq(out, want);
      ck_assert_int_eq(ck_count_files(tmpdir), 0);
      free(out);
    }
    free(name);
  }
}
END_TEST

/* An output that cannot be written (a file-size limit stands in for a full
 * disk: `ulimit -f`, with SIGXFSZ ignored so that write(2) fails with
 * EFBIG) is named as the user gave it, with the system's reason, and
 * nothing is left. */
START_TEST(write_error_names_the_output) {
  char *out, want[256];
  int rc = ck_sh(&out, "trap '' XFSZ; ulimit -f 4; %s compile -o %s/m " MNIST_ARGS
                       " --emit header,obj",
                 ck_env("HLOC_BIN"), tmpdir);
  snprintf(want, sizeof want, "hloc: error: cannot write '%s/m.o': File too large\n", tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_str_eq(out, want);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
  free(out);
}
END_TEST

/* SIGTERM while the C compiler links removes the outputs' temporaries and
 * the private temporary directory ($TMPDIR, a fresh directory here, must be
 * empty again), and ends the compiler too, so that it cannot write its
 * output afterwards.  The compiler ($CC) is a script that records its pid
 * and sleeps: the signal always arrives mid-link. */
START_TEST(interrupted_compile_leaves_nothing) {
  char cc[128], ccpid[128], tmp[128], out[128];
  snprintf(cc, sizeof cc, "%s/cc.sh", tmpdir);
  snprintf(ccpid, sizeof ccpid, "%s/cc.pid", tmpdir);
  snprintf(tmp, sizeof tmp, "%s/tmp", tmpdir);
  snprintf(out, sizeof out, "%s/out", tmpdir);
  FILE *f = fopen(cc, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "#!/bin/sh\necho $$ > %s.new && mv %s.new %s\nexec sleep 60\n", ccpid, ccpid,
          ccpid);
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_int_eq(chmod(cc, 0755), 0);
  ck_assert_int_eq(mkdir(tmp, 0777), 0);
  ck_assert_int_eq(mkdir(out, 0777), 0);
  pid_t pid = ck_sh_start("TMPDIR=%s CC=%s exec %s compile " MNIST_ARGS
                          " --emit obj,header,so -o %s/m >/dev/null 2>&1",
                          tmp, cc, ck_env("HLOC_BIN"), out);
  ck_wait_for_file(pid, ccpid, 120);
  ck_assert_int_eq(ck_count_files(out), 2); /* m.o and m.h, under temporary names */
  ck_assert_int_eq(ck_count_files(tmp), 1); /* hloc-XXXXXX with the object */
  ck_assert_int_eq(kill(pid, SIGTERM), 0);
  ck_assert_int_eq(ck_wait_signal(pid, 60), SIGTERM);
  ck_assert_int_eq(ck_count_files(out), 0);
  ck_assert_int_eq(ck_count_files(tmp), 0);
  /* The compiler is gone (or a zombie nobody reaped yet). */
  char *text = ck_read_file(ccpid, NULL), stat_path[64], state = 0;
  snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", atoi(text));
  free(text);
  for (int i = 0; i < 500; i++) {
    FILE *s = fopen(stat_path, "r");
    state = 'X';
    if (s && fscanf(s, "%*d %*s %c", &state) != 1) state = '?';
    if (s) fclose(s);
    if (state == 'X' || state == 'Z') break;
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  ck_assert_msg(state == 'X' || state == 'Z', "the C compiler still runs (state %c)", state);
}
END_TEST

/* A model with an instruction codegen rejects leaves nothing, whatever was
 * asked for; so does a failure after some outputs were already made (a C
 * compiler that fails, after the object and header exist). */
START_TEST(failed_compile_leaves_no_files) {
  char path[128];
  snprintf(path, sizeof path, "%s/unsupported.hlo", tmpdir);
  FILE *f = fopen(path, "w");
  fputs("HloModule m\n\nENTRY e {\n  p = f32[4]{0} parameter(0)\n"
        "  ROOT c = f32[4]{0} custom-call(p), custom_call_target=\"my_op\"\n}\n",
        f);
  fclose(f);
  char args[512];
  snprintf(args, sizeof args, "%s --emit obj,header,lib,so,exe", path);
  expect_compile_failure(1, "custom-call", args);
  unlink(path);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
  char *out;
  int rc = ck_sh(&out, "CC=false %s compile " MNIST_ARGS " -o %s/m --emit obj,header,lib,exe",
              ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "the C compiler failed (exit status 1): false -o "), "%s", out);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
  free(out);
}
END_TEST

/* An AArch64 object and header from an x86-64 host. */
START_TEST(cross_compiles_aarch64_object) {
  char *out;
  int rc = ck_sh(&out, "%s compile " MNIST_ARGS " --target aarch64 --cpu neoverse-n1 -o %s/arm",
              ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  char path[128];
  snprintf(path, sizeof path, "%s/arm.o", tmpdir);
  size_t len;
  unsigned char *obj = (unsigned char *)ck_read_file(path, &len);
  ck_assert_uint_ge(len, 64);
  ck_assert_int_eq(obj[18] | obj[19] << 8, 183); /* e_machine: EM_AARCH64 */
  free(obj);
  ck_assert_int_eq(ck_count_files(tmpdir), 2);
}
END_TEST

/* Two models, each with its own --name, linked as libraries into one
 * program: every symbol carries its prefix, and the runtime objects both
 * libraries hold do not clash.  The second library's object has a name
 * longer than 15 characters (text_classifier_long.o): the archive's
 * long-name table. */
START_TEST(two_models_link_into_one_program) {
  char *out;
  const char *bin = ck_env("HLOC_BIN");
  int rc = ck_sh(&out, "%s compile " MNIST_ARGS " --name mnist -o %s/mnist --emit header,lib && "
              "%s compile " MODELS "/text_classifier.pb --config " MODELS
              "/text_classifier.config.pbtxt --name textcls -o %s/text_classifier_long "
              "--emit header,lib",
              bin, tmpdir, bin, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  char path[128];
  snprintf(path, sizeof path, "%s/both.c", tmpdir);
  FILE *f = fopen(path, "w");
  fputs("#include <stdio.h>\n#include <stdlib.h>\n#include \"mnist.h\"\n"
        "#include \"text_classifier_long.h\"\n"
        "static void *load(const char *path) {\n"
        "  RtArray a; char err[512];\n"
        "  if (rt_npy_read(path, &a, err, sizeof err)) { fprintf(stderr, \"%s\\n\", err); exit(1); }\n"
        "  return a.data;\n}\n"
        "static void save(const char *path, const hloc_buffer_info *b, void *data) {\n"
        "  RtArray a = {.dtype = (RtDtype)b->dtype, .rank = b->rank, .data = data, .nbytes = b->bytes};\n"
        "  char err[512];\n"
        "  for (int k = 0; k < b->rank; k++) a.dims[k] = b->dims[k];\n"
        "  if (rt_npy_write(path, &a, err, sizeof err)) { fprintf(stderr, \"%s\\n\", err); exit(1); }\n"
        "}\n"
        "int main(int argc, char **argv) {\n"
        "  static mnist_RESULT0_t probs[mnist_RESULT0_ELEMENTS];\n"
        "  static textcls_RESULT0_t cls[textcls_RESULT0_ELEMENTS];\n"
        "  void *mb[] = {load(argv[1]), probs}, *tb[] = {load(argv[2]), cls};\n"
        "  if (hloc_program_run(&mnist_program, mb) || hloc_program_run(&textcls_program, tb)) return 1;\n"
        "  save(argv[3], &mnist_program.results[0], probs);\n"
        "  save(argv[4], &textcls_program.results[0], cls);\n"
        "  return 0;\n}\n",
        f);
  fclose(f);
  rc = ck_sh(&out, "%s -std=c17 -Wall -Werror -I%s -Iruntime -o %s/both %s/both.c -L%s -lmnist "
          "-ltext_classifier_long -lm -pthread && %s/both " MNIST ".in0.npy " MODELS
          "/text_classifier.in0.npy %s/m.npy %s/t.npy",
          cc(), tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  char got[128];
  snprintf(got, sizeof got, "%s/m.npy", tmpdir);
  expect_close("mnist next to text_classifier", got, MNIST ".out0.npy");
  snprintf(got, sizeof got, "%s/t.npy", tmpdir);
  expect_close("text_classifier next to mnist", got, MODELS "/text_classifier.out0.npy");
}
END_TEST

/* A host binding by name: dlopen the shared library, find N_program, run it
 * with the library's own hloc_program_run. */
START_TEST(shared_library_binds_by_name) {
  char *out;
  int rc = ck_sh(&out, "%s compile " MNIST_ARGS " --name mnist -o %s/mnist --emit so",
              ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 1);
  char path[128];
  snprintf(path, sizeof path, "%s/libmnist.so", tmpdir);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(lib != NULL, "%s", dlerror());
  const hloc_program *p = dlsym(lib, "mnist_program");
  int (*run)(const hloc_program *, void *const *) =
      (int (*)(const hloc_program *, void *const *))dlsym(lib, "hloc_program_run");
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(run);
  ck_assert_ptr_nonnull(dlsym(lib, "mnist_run"));
  ck_assert_ptr_nonnull(dlsym(lib, "mnist_run_buffers"));
  ck_assert_str_eq(p->name, "mnist");
  ck_assert_int_eq(p->num_args, 1);
  ck_assert_int_eq(p->num_results, 1);
  ck_assert_str_eq(p->args[0].name, "image");
  ck_assert_str_eq(p->results[0].name, "probs");
  /* the TensorFlow tensors (the config's feed and fetch), and the CPU */
  ck_assert_str_eq(p->args[0].tf_name, "image:0");
  ck_assert_str_eq(p->results[0].tf_name, "Identity:0");
  ck_assert_ptr_nonnull(p->cpu);
  ck_assert_ptr_nonnull(p->features);
  HloLiteral *image = ck_read_npy(MNIST ".in0.npy"), *want = ck_read_npy(MNIST ".out0.npy");
  ck_assert_uint_eq(p->args[0].bytes, hlo_shape_byte_size(&image->shape));
  HloLiteral *got = hlo_literal_new(&want->shape);
  void *buffers[] = {image->data, got->data};
  ck_assert_int_eq(run(p, buffers), 0);
  char msg[256];
  ck_assert_msg(ck_allclose(got, want, ATOL, RTOL, msg, sizeof msg), "%s", msg);
  hlo_literal_free(image);
  hlo_literal_free(want);
  hlo_literal_free(got);
  dlclose(lib);
}
END_TEST

/* What the descriptor records of the CPU: for a named CPU its vector
 * extensions and the features added, less those removed; for native the
 * host's. */
START_TEST(descriptor_records_the_cpu) {
  static const struct {
    const char *options, *cpu, *features;
  } cases[] = {
      {"--cpu x86-64", "x86-64", ""},
      {"--cpu haswell", "haswell", "avx,fma"},
      {"--cpu skylake-avx512 --features -avx512f,+avxvnni", "skylake-avx512", "avx,fma,avxvnni"},
      {"--cpu x86-64 --features +avx2,-avx2,+sse4.2", "x86-64", "sse4.2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *out;
    int rc = ck_sh(&out, "%s compile " MNIST_ARGS " --name m%zu -o %s/m%zu --emit so %s",
                   ck_env("HLOC_BIN"), i, tmpdir, i, cases[i].options);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    char path[128], symbol[32];
    snprintf(path, sizeof path, "%s/libm%zu.so", tmpdir, i);
    snprintf(symbol, sizeof symbol, "m%zu_program", i);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(lib != NULL, "%s", dlerror());
    const hloc_program *p = dlsym(lib, symbol);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->cpu, cases[i].cpu);
    ck_assert_msg(!strcmp(p->features, cases[i].features), "%s: '%s', want '%s'",
                  cases[i].options, p->features, cases[i].features);
    dlclose(lib);
  }
}
END_TEST

START_TEST(executable_options_and_errors) {
  char *out;
  int rc = ck_sh(&out, "%s compile " MNIST_ARGS " --name mnist -o %s/mnist --emit exe",
              ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 1);
  rc = ck_sh(&out, "%s/mnist --input image=" MNIST ".in0.npy --output-dir %s/o --threads 3 "
          "--bench 5", tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  ck_assert_msg(strstr(out, "mnist: 5 runs: median ") && strstr(out, " ms, min "), "%s", out);
  free(out);
  char got[128];
  snprintf(got, sizeof got, "%s/o/probs.npy", tmpdir);
  expect_close("mnist exe --threads 3", got, MNIST ".out0.npy");
  /* inputs by position, as hloc run takes them */
  for (const char *const *form = (const char *const[]){"0=", "arg0=", NULL}; *form; form++) {
    rc = ck_sh(&out, "%s/mnist --input %s" MNIST ".in0.npy --output-dir %s/p", tmpdir, *form,
               tmpdir);
    ck_assert_msg(rc == 0, "--input %s: %s", *form, out);
    free(out);
    snprintf(got, sizeof got, "%s/p/probs.npy", tmpdir);
    expect_close("mnist exe --input N=", got, MNIST ".out0.npy");
  }

  /* run: hloc run binds inputs by the same rules and says the same */
  static const struct {
    int rc;
    const char *args, *msg;
    bool run;
  } errors[] = {
      {1, "--input " MODELS "/small_cnn.in0.npy",
       ": --input " MODELS "/small_cnn.in0.npy: input 0 (image) is float32[2,784], but the file "
       "holds float32[2,28,28,1]\n", true},
      {1, "--input label=" MNIST ".in0.npy",
       ": --input label=" MNIST ".in0.npy: the model has no input named 'label' (inputs: "
       "image)\n", true},
      {1, "--input 1=" MNIST ".in0.npy", "the model has no input named '1' (inputs: image)\n",
       true},
      {1, "--input arg=" MNIST ".in0.npy", "the model has no input named 'arg' (inputs: image)\n",
       true},
      {1, "--input +0=" MNIST ".in0.npy", "the model has no input named '+0' (inputs: image)\n",
       true},
      {1, "", ": no --input for input 0 (image), which is float32[2,784]\n", true},
      {1, "--input " MNIST ".in0.npy --input " MNIST ".in0.npy",
       ": --input " MNIST ".in0.npy: the model takes only 1 input(s)\n", true},
      {1, "--input image=" MNIST ".in0.npy --input 0=" MNIST ".in0.npy",
       ": --input " MNIST ".in0.npy: input 0 (image) is given twice\n", true},
      {1, "--input nope.npy", "cannot read 'nope.npy': No such file or directory", true},
      {2, "--threads 0", "--threads: '0' is not a count"},
      {2, "--bench", "--bench needs a value"},
      {2, "--frobnicate", "unknown argument '--frobnicate'"},
  };
  for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
    rc = ck_sh(&out, "%s/mnist --output-dir %s/e %s", tmpdir, tmpdir, errors[i].args);
    ck_assert_msg(rc == errors[i].rc, "'%s': exit %d: %s", errors[i].args, rc, out);
    ck_assert_msg(strstr(out, errors[i].msg), "'%s': '%s' not in: %s", errors[i].args,
                  errors[i].msg, out);
    free(out);
    if (!errors[i].run) continue;
    rc = ck_sh(&out, "%s run " MNIST_ARGS " --interpret --output-dir %s/e %s", ck_env("HLOC_BIN"),
               tmpdir, errors[i].args);
    ck_assert_msg(rc == 1, "hloc run '%s': exit %d: %s", errors[i].args, rc, out);
    ck_assert_msg(strstr(out, errors[i].msg), "hloc run '%s': '%s' not in: %s", errors[i].args,
                  errors[i].msg, out);
    free(out);
  }
  rc = ck_sh(&out, "%s/mnist --help", tmpdir);
  ck_assert_int_eq(rc, 0);
  ck_assert_msg(strstr(out, "image float32[2,784]") && strstr(out, "probs float32[2,10]"), "%s",
                out);
  free(out);
}
END_TEST

/* --- names: TensorFlow names, and the CPU a program needs ------------------- */

#define NAMES "testdata/tf/names"
#define TFN_ARGS NAMES "/tfnames.pbtxt --config " NAMES "/tfnames.config.pbtxt"

/* Checks DIR/model_out_Relu.npy and DIR/neg.npy against relu(x + b) and
 * -x, computed here from the inputs. */
static void expect_tfnames_results(const char *how, const char *dir) {
  HloLiteral *x = ck_read_npy(NAMES "/x.npy"), *b = ck_read_npy(NAMES "/b.npy");
  char path[256];
  snprintf(path, sizeof path, "%s/model_out_Relu.npy", dir);
  ck_assert_msg(access(path, R_OK) == 0, "%s: no %s", how, path);
  HloLiteral *relu = ck_read_npy(path);
  snprintf(path, sizeof path, "%s/neg.npy", dir);
  ck_assert_msg(access(path, R_OK) == 0, "%s: no %s", how, path);
  HloLiteral *neg = ck_read_npy(path);
  const float *xv = x->data, *bv = b->data, *rv = relu->data, *nv = neg->data;
  for (int i = 0; i < 6; i++) {
    float sum = xv[i] + bv[i];
    ck_assert_msg(rv[i] == (sum > 0 ? sum : 0), "%s: relu[%d] = %g", how, i, rv[i]);
    ck_assert_msg(nv[i] == -xv[i], "%s: neg[%d] = %g", how, i, nv[i]);
  }
  hlo_literal_free(x);
  hlo_literal_free(b);
  hlo_literal_free(relu);
  hlo_literal_free(neg);
}

/* Inputs bind by config name, TensorFlow name (with and without ":0") and
 * position, alike in the executable and `hloc run` (compiled and
 * interpreted), and both write the same result files; a wrong or
 * ambiguous name is the same error in both. */
START_TEST(tensorflow_names_bind_in_run_and_exe) {
  char *out;
  int rc = ck_sh(&out, "%s compile " TFN_ARGS " --name tfn -o %s/tfn --emit exe",
                 ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  static const char *const forms[] = {
      "--input model/x:0=" NAMES "/x.npy --input b=" NAMES "/b.npy",
      "--input b:0=" NAMES "/b.npy --input model/x=" NAMES "/x.npy",
      "--input x=" NAMES "/x.npy --input 1=" NAMES "/b.npy",
      "--input arg1=" NAMES "/b.npy --input " NAMES "/x.npy",
  };
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
    char dir[128];
    snprintf(dir, sizeof dir, "%s/exe%zu", tmpdir, i);
    rc = ck_sh(&out, "%s/tfn --output-dir %s %s", tmpdir, dir, forms[i]);
    ck_assert_msg(rc == 0, "exe %s: %s", forms[i], out);
    free(out);
    expect_tfnames_results(forms[i], dir);
    snprintf(dir, sizeof dir, "%s/run%zu", tmpdir, i);
    rc = ck_sh(&out, "%s run " TFN_ARGS " %s --output-dir %s %s", ck_env("HLOC_BIN"),
               i == 0 ? "" : "--interpret", dir, forms[i]);
    ck_assert_msg(rc == 0, "run %s: %s", forms[i], out);
    free(out);
    expect_tfnames_results(forms[i], dir);
    ck_assert_int_eq(ck_count_files(dir), 2);
  }
  rc = ck_sh(&out, "%s/tfn --help", tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "x float32[2,3] [model/x:0]") &&
                    strstr(out, "model_out_Relu float32[2,3] [model/out/Relu:0]"),
                "%s", out);
  free(out);

  rc = ck_sh(&out, "%s compile " NAMES "/tfnames.pbtxt --config " NAMES
             "/ambiguous.config.pbtxt --name amb -o %s/amb --emit exe",
             ck_env("HLOC_BIN"), tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  static const struct {
    const char *exe, *config, *args, *msg;
  } errors[] = {
      {"tfn", "tfnames", "--input model/y=" NAMES "/x.npy",
       ": --input model/y=" NAMES "/x.npy: the model has no input named 'model/y' (did you "
       "mean 'model/x:0'?) (inputs: x (model/x:0), b)\n"},
      {"tfn", "tfnames", "--input model/x:1=" NAMES "/x.npy",
       "no input named 'model/x:1' (did you mean 'model/x:0'?)"},
      {"tfn", "tfnames", "--input model/out/Relu=" NAMES "/x.npy",
       "no input named 'model/out/Relu'"},
      {"tfn", "tfnames", "--input x=" NAMES "/x.npy --input model/x=" NAMES "/x.npy",
       ": --input " NAMES "/x.npy: input 0 (x) is given twice\n"},
      {"amb", "ambiguous", "--input b=" NAMES "/x.npy --input bias=" NAMES "/b.npy",
       ": --input b=" NAMES "/x.npy: the name 'b' is ambiguous: it names input 0 (b) and is "
       "the TensorFlow name of input 1 (bias, b:0): write 'model/x:0' or '0' for input 0, "
       "'bias' for input 1\n"},
  };
  for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
    rc = ck_sh(&out, "%s/%s --output-dir %s/e %s", tmpdir, errors[i].exe, tmpdir,
               errors[i].args);
    ck_assert_msg(rc == 1, "'%s': exit %d: %s", errors[i].args, rc, out);
    ck_assert_msg(strstr(out, errors[i].msg), "'%s': '%s' not in: %s", errors[i].args,
                  errors[i].msg, out);
    free(out);
    rc = ck_sh(&out, "%s run " NAMES "/tfnames.pbtxt --config " NAMES "/%s.config.pbtxt "
               "--interpret --output-dir %s/e %s",
               ck_env("HLOC_BIN"), errors[i].config, tmpdir, errors[i].args);
    ck_assert_msg(rc == 1, "hloc run '%s': exit %d: %s", errors[i].args, rc, out);
    ck_assert_msg(strstr(out, errors[i].msg), "hloc run '%s': '%s' not in: %s",
                  errors[i].args, errors[i].msg, out);
    free(out);
  }
  ck_assert_int_eq(access(tmpdir, F_OK), 0);
  char e[128];
  snprintf(e, sizeof e, "%s/e", tmpdir);
  ck_assert_int_ne(access(e, F_OK), 0);
}
END_TEST

/* An instruction-set feature this CPU lacks that LLVM can compile for, or
 * NULL when it has every candidate. */
static const char *missing_feature(void) {
#if defined(__x86_64__)
  static const char *const candidates[] = {"avxvnniint8", "avxifma", "amx-complex", "fma4",
                                           "xop", "sse4a", "tbm", "avx512vp2intersect", NULL};
#else
  static const char *const candidates[] = {"sve2", "sme", "i8mm", "bf16", NULL};
#endif
  for (int i = 0; candidates[i]; i++)
    if (hloc_cpu_has(candidates[i]) == 0) return candidates[i];
  return NULL;
}

/* A program compiled for a feature this CPU lacks is refused before it
 * runs, naming the feature, by the executable (whose --help still works)
 * and by `hloc run`; nothing is written. */
START_TEST(executable_refuses_a_cpu_without_its_features) {
  const char *f = missing_feature();
  if (!f) {
    fprintf(stderr, "executable_refuses_a_cpu_without_its_features: this CPU has every "
                    "candidate feature; nothing to test\n");
    return;
  }
  ck_assert_int_eq(hloc_cpu_has("no-such-feature"), -1);
  char *out;
  int rc = ck_sh(&out, "%s compile " TFN_ARGS " --features +%s --name tfn -o %s/tfn --emit exe",
                 ck_env("HLOC_BIN"), f, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  char want[256];
  rc = ck_sh(&out, "%s/tfn --output-dir %s/o --input " NAMES "/x.npy --input " NAMES "/b.npy",
             tmpdir, tmpdir);
  snprintf(want, sizeof want, "but this CPU lacks the feature %s: ", f);
  ck_assert_msg(rc == 1 && strstr(out, want), "exit %d: %s", rc, out);
  free(out);
  char dir[128];
  snprintf(dir, sizeof dir, "%s/o", tmpdir);
  ck_assert_int_ne(access(dir, F_OK), 0);
  rc = ck_sh(&out, "%s/tfn --help", tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  rc = ck_sh(&out, "%s run " TFN_ARGS " --features +%s --output-dir %s/o --input " NAMES
             "/x.npy --input " NAMES "/b.npy",
             ck_env("HLOC_BIN"), f, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, want), "hloc run: exit %d: %s", rc, out);
  free(out);
  ck_assert_int_ne(access(dir, F_OK), 0);
  /* the features without the missing one still run */
  rc = ck_sh(&out, "%s compile " TFN_ARGS " --features +%s,-%s --name tfn -o %s/tfn --emit exe "
             "&& %s/tfn --output-dir %s/o --input " NAMES "/x.npy --input " NAMES "/b.npy",
             ck_env("HLOC_BIN"), f, f, tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  expect_tfnames_results("+f,-f", dir);
}
END_TEST

/* The runtime next to the hloc binary wins over the build tree's: a copy
 * of hloc beside a broken libhloc_runtime.a fails to make a library (and
 * leaves none).  Only the build tree's hloc takes the build tree's runtime:
 * without one of its own, the copy fails saying where it looked, and with
 * the archives in ../lib from it (the installed layout) it works. */
START_TEST(runtime_is_found_next_to_the_binary) {
  char *out;
  int rc = ck_sh(&out, "mkdir %s/bin %s/out && cp %s %s/bin/hloc && cp %s/libhloc_exe.a %s/bin && "
              "echo broken > %s/bin/libhloc_runtime.a",
              tmpdir, tmpdir, ck_env("HLOC_BIN"), tmpdir, ck_env("HLOC_RUNTIME_DIR"), tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  rc = ck_sh(&out, "%s/bin/hloc compile " MNIST_ARGS " --emit header,lib -o %s/out/m", tmpdir,
          tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "/bin/libhloc_runtime.a: not an ar archive"), "%s", out);
  free(out);
  char dir[128];
  snprintf(dir, sizeof dir, "%s/out", tmpdir);
  ck_assert_int_eq(ck_count_files(dir), 0);
  rc = ck_sh(&out, "rm %s/bin/libhloc_runtime.a && %s/bin/hloc compile " MNIST_ARGS
          " --emit header,lib -o %s/out/m", tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 1, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "cannot find the hloc runtime") && strstr(out, "/bin) or in ../lib") &&
                    !strstr(out, ck_env("HLOC_RUNTIME_DIR")),
                "%s", out);
  free(out);
  ck_assert_int_eq(ck_count_files(dir), 0);
  rc = ck_sh(&out, "mkdir %s/lib && mv %s/bin/libhloc_exe.a %s/lib && cp %s/libhloc_runtime.a %s/lib "
              "&& %s/bin/hloc compile " MNIST_ARGS " --emit header,lib -o %s/out/m",
              tmpdir, tmpdir, tmpdir, ck_env("HLOC_RUNTIME_DIR"), tmpdir, tmpdir, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  ck_assert_int_eq(ck_count_files(dir), 2);
}
END_TEST

/* The runtime is meant to be small enough for any device: under 64 KB of
 * code with the main of executables. */
START_TEST(runtime_stays_small) {
  char *out;
  const char *dir = ck_env("HLOC_RUNTIME_DIR");
  int rc = ck_sh(&out, "size -t %s/libhloc_runtime.a %s/libhloc_exe.a | tail -n 1", dir, dir);
  ck_assert_msg(rc == 0, "%s", out);
  long text = strtol(out, NULL, 10);
  ck_assert_msg(text > 0 && text < 64 * 1024, "runtime text: %ld bytes (%s)", text, out);
  free(out);
}
END_TEST

/* The complete example of docs/header.md (its first ```c block) builds
 * against the header and object `hloc compile` makes, and runs. */
START_TEST(header_doc_example_builds) {
  char *doc = ck_read_file("docs/header.md", NULL);
  const char *start = strstr(doc, "```c\n");
  ck_assert_msg(start != NULL, "docs/header.md has no ```c block");
  start += 5;
  const char *end = strstr(start, "```");
  ck_assert_ptr_nonnull(end);
  char path[128];
  snprintf(path, sizeof path, "%s/example.c", tmpdir);
  FILE *f = fopen(path, "w");
  fwrite(start, 1, (size_t)(end - start), f);
  fclose(f);
  free(doc);
  char cwd[256], *out;
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  int rc = ck_sh(&out, "cd %s && %s compile %s/" MNIST ".pb --config %s/" MNIST ".config.pbtxt "
              "--name mnist && %s -std=c17 -Wall -Wextra -Werror -I%s/runtime example.c mnist.o "
              "-L%s -lhloc_runtime -lm -pthread -o example && ./example",
              tmpdir, ck_env("HLOC_BIN"), cwd, cwd, cc(), cwd, ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  ck_assert_msg(strstr(out, "row 0: class "), "%s", out);
  free(out);
}
END_TEST

int main(void) {
  read_manifest();
  Suite *s = suite_create("driver_compile");
  TCase *t = tcase_create("models");
  tcase_add_checked_fixture(t, setup, teardown);
  /* Compiling the largest model takes about a minute, twice. */
  tcase_set_timeout(t, 900);
  tcase_add_loop_test(t, model_compiles_and_matches_tensorflow, 0, nmodels);
  suite_add_tcase(s, t);
  TCase *c = tcase_create("cli");
  tcase_add_checked_fixture(c, setup, teardown);
  tcase_set_timeout(c, 300);
  tcase_add_test(c, compile_errors);
  tcase_add_test(c, failed_compile_leaves_no_files);
  tcase_add_test(c, write_error_names_the_output);
  tcase_add_test(c, long_names_compile);
  tcase_add_test(c, interrupted_compile_leaves_nothing);
  tcase_add_test(c, cross_compiles_aarch64_object);
  tcase_add_test(c, two_models_link_into_one_program);
  tcase_add_test(c, shared_library_binds_by_name);
  tcase_add_test(c, descriptor_records_the_cpu);
  tcase_add_test(c, executable_options_and_errors);
  tcase_add_test(c, tensorflow_names_bind_in_run_and_exe);
  tcase_add_test(c, executable_refuses_a_cpu_without_its_features);
  tcase_add_test(c, runtime_is_found_next_to_the_binary);
  tcase_add_test(c, runtime_stays_small);
  tcase_add_test(c, header_doc_example_builds);
  suite_add_tcase(s, c);
  return ck_run_suite(s);
}
