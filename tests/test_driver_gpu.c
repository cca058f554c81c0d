/*
 * test_driver_gpu.c — programs compiled for an NVIDIA GPU (`hloc compile
 * --target nvptx64`), used as a C program uses them.
 *
 * Every model of testdata/tf/models and a few HLO modules whose entries
 * keep control flow on the host (while loops reading their condition back,
 * constants copied into a loop's state) are compiled for sm_80 and sm_90
 * to an object and a header, and a C harness is built against them and
 * the runtime.  The harness checks what needs no GPU: the object's PTX
 * has an entry for every kernel the program lists (the launches name
 * them), and, where CUDA's ptxas is installed, the object carries ptxas's
 * cubin for the SM and the PTX it carries passes ptxas again.  Then it
 * runs the model: with HLOC_CUDA_DRIVER naming a missing file it must
 * fail cleanly with "no CUDA driver found"; with the default driver it
 * either fails the same way or with "no GPU" (CI, machines without a
 * GPU: the test says that the GPU part is skipped) or runs on the GPU,
 * and its results must match TensorFlow's (or XLA's) stored outputs
 * within the CPU tests' tolerances.
 *
 * A GPU program's model library (`--emit so`, hloc_executable_save of a
 * device "cuda" executable) is loaded by libhloc, linked into this suite,
 * and run through the library's own CUDA glue.
 *
 * A CPU program written by hand checks how an executable reports a
 * status no compiled model returns (run_once shares it with the GPU).
 *
 * Needs the hloc binary ($HLOC_BIN), the runtime archive
 * ($HLOC_RUNTIME_DIR), a C compiler ($CC or cc) and a C++ one
 * ($HLOC_CXX, for the class of --emit cpp).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "hlo.h"
#include "hloc.h"
#include "hloc_runtime.h"

#define MODELS "testdata/tf/models"
#define CORPUS "testdata/hlo"
#define ATOL 1e-4
#define RTOL 1e-3

static char tmpdir[64];
static const char *sms[] = {"sm_80", "sm_90"};

static const char *cc(void) { return getenv("CC") && *getenv("CC") ? getenv("CC") : "cc"; }
static bool have_ptxas(void) { return !access("/usr/local/cuda/bin/ptxas", X_OK); }

/* The harness: `harness check PTX` writes the object's PTX to PTX and
 * checks its kernels; `harness run IN… OUT…` runs the model; exit 3 is
 * "no driver or no GPU". */
static const char harness[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"m.h\"\n"
    "int main(int argc, char **argv) {\n"
    "  char err[1024];\n"
    "  if (argc == 3 && !strcmp(argv[1], \"check\")) {\n"
    "    FILE *f = fopen(argv[2], \"w\");\n"
    "    if (!f || fputs(m_cuda_image.ptx, f) == EOF || fclose(f)) return 1;\n"
    "    for (int k = 0; k < m_program.num_kernels; k++) {\n"
    "      char want[256];\n"
    "      snprintf(want, sizeof want, \".entry %s(\", m_program.kernels[k].symbol);\n"
    "      if (!strstr(m_cuda_image.ptx, want)) { printf(\"no %s\\n\", want); return 1; }\n"
    "      printf(\"kernel %s\\n\", m_program.kernels[k].symbol);\n"
    "    }\n"
    "    printf(\"sm %s kernels %d cubin %llu\\n\", m_cuda_image.sm, (int)m_program.num_kernels,\n"
    "           (unsigned long long)m_cuda_image.cubin_bytes);\n"
    "    return strcmp(m_cuda_image.sm, m_GPU_SM) != 0;\n"
    "  }\n"
    "  int n = m_program.num_args + m_program.num_results;\n"
    "  if (argc == 2 && !strcmp(argv[1], \"direct\")) {\n"
    "    void **b = calloc((size_t)n + 1, sizeof *b);\n"
    "    for (int i = 0; i < n; i++) {\n"
    "      uint64_t bytes = i < m_program.num_args ? m_program.args[i].bytes\n"
    "                       : m_program.results[i - m_program.num_args].bytes;\n"
    "      b[i] = malloc(bytes + 1);\n"
    "      memset(b[i], 0xA5, bytes + 1);\n"
    "    }\n"
    "    void *scratch = malloc(m_SCRATCH_BYTES + 1);\n"
    "    int direct = m_run_buffers(b, scratch), generic = hloc_program_run(&m_program, b);\n"
    "    int touched = 0;\n"
    "    for (int i = m_program.num_args; i < n; i++)\n"
    "      for (uint64_t j = 0; j < m_program.results[i - m_program.num_args].bytes; j++)\n"
    "        touched += ((unsigned char *)b[i])[j] != 0xA5;\n"
    "    printf(\"direct %d generic %d touched %d\\n\", direct, generic, touched);\n"
    "    return 0;\n"
    "  }\n"
    "  if (argc != 2 + n) return 2;\n"
    "  void **bufs = calloc((size_t)n, sizeof *bufs);\n"
    "  RtArray *arrays = calloc((size_t)n, sizeof *arrays);\n"
    "  for (int i = 0; i < n; i++) {\n"
    "    const hloc_buffer_info *b = i < m_program.num_args ? &m_program.args[i]\n"
    "                                : &m_program.results[i - m_program.num_args];\n"
    "    RtArray *a = &arrays[i];\n"
    "    if (i < m_program.num_args) {\n"
    "      if (rt_npy_read(argv[2 + i], a, err, sizeof err) ||\n"
    "          rt_array_retype(a, (RtDtype)b->dtype, b->name, err, sizeof err)) {\n"
    "        printf(\"%s\\n\", err); return 1; }\n"
    "      if (a->nbytes != b->bytes) { printf(\"%s: %zu bytes\\n\", b->name, a->nbytes); return 1; }\n"
    "    } else {\n"
    "      a->dtype = (RtDtype)b->dtype; a->rank = b->rank; a->nbytes = b->bytes;\n"
    "      for (int d = 0; d < b->rank; d++) a->dims[d] = b->dims[d];\n"
    "      a->data = malloc(b->bytes ? b->bytes : 1);\n"
    "    }\n"
    "    bufs[i] = a->data;\n"
    "  }\n"
    "  hloc_cuda *gpu;\n"
    "  if (hloc_cuda_open(&gpu, err, sizeof err)) { printf(\"%s\\n\", err); return 3; }\n"
    "  if (m_cuda_load(gpu, err, sizeof err) || hloc_cuda_run_host(gpu, &m_program, bufs, err, "
    "sizeof err)) {\n"
    "    printf(\"%s\\n\", err); hloc_cuda_close(gpu); return 1; }\n"
    "  hloc_cuda_close(gpu);\n"
    "  for (int i = m_program.num_args; i < n; i++)\n"
    "    if (rt_npy_write(argv[2 + i], &arrays[i], err, sizeof err)) { printf(\"%s\\n\", err); "
    "return 1; }\n"
    "  for (int i = 0; i < n; i++) rt_array_free(&arrays[i]);\n"
    "  free(arrays); free(bufs);\n"
    "  return 0;\n"
    "}\n";

typedef struct Case {
  char name[128];
  bool hlo;           /* testdata/hlo/NAME.hlo, else a TensorFlow model */
  int nin, nout;
  double atol, rtol;
} Case;

static Case cases[64];
static int ncases;

static void add_models(void) {
  FILE *f = fopen(MODELS "/MANIFEST", "r");
  if (!f) {
    fprintf(stderr, "cannot open " MODELS "/MANIFEST\n");
    exit(EXIT_FAILURE);
  }
  char line[512];
  while (fgets(line, sizeof line, f) && ncases < 48) {
    Case *c = &cases[ncases];
    char family[64];
    if (line[0] != '#' && sscanf(line, "%127s %63s %d %d", c->name, family, &c->nin, &c->nout) == 4) {
      c->atol = ATOL;
      c->rtol = RTOL;
      ncases++;
    }
  }
  fclose(f);
}

/* Modules whose entries read device memory on the host or copy constants
 * onto the device. */
static void add_corpus(void) {
  static const char *const names[] = {"while_fori", "while_dynamic", "threefry_uniform",
                                      "empty_and_degenerate", "cond_pred", "sort_argsort", "scatter_add"};
  FILE *f = fopen(CORPUS "/MANIFEST", "r");
  if (!f) {
    fprintf(stderr, "cannot open " CORPUS "/MANIFEST\n");
    exit(EXIT_FAILURE);
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    Case c = {.hlo = true};
    if (line[0] == '#' ||
        sscanf(line, "%127s %d %d %lf %lf", c.name, &c.nin, &c.nout, &c.atol, &c.rtol) != 5)
      continue;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      if (!strcmp(c.name, names[i]) && ncases < 64) cases[ncases++] = c;
  }
  fclose(f);
}

static int run(const Case *c, const char *sm, const char *env, char **out);

/* The fake driver (tests/fake_cuda.c), built once per process. */
static char fake[128];

static const char *fake_driver(void) {
  if (*fake) return fake;
  char dir[] = "/tmp/hloc-fake-cuda-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(fake, sizeof fake, "%s/libcuda.so.1", dir);
  char *out;
  int rc = ck_sh(&out, "%s -std=c17 -Wall -Werror -shared -fPIC -o %s tests/fake_cuda.c", cc(), fake);
  ck_assert_msg(rc == 0, "building the fake driver: %s", out);
  free(out);
  return fake;
}

/* The run of the host side on the fake driver: the PTX is loaded after
 * the cubin is refused, every launch names a kernel of the PTX with its
 * parameters, and without host control flow (models other than
 * lstm_while) the launches are the program's kernels, in order. */
static void check_fake_run(const Case *c, const char *sm) {
  char *out, log[256];
  snprintf(log, sizeof log, "%s/%s/fake.log", tmpdir, sm);
  HloStr env = {0};
  hlo_str_printf(&env, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_LOG=%s", fake_driver(), log);
  int rc = run(c, sm, env.buf, &out);
  free(env.buf);
  ck_assert_msg(rc == 0, "%s %s: on the fake driver: exit %d: %s", c->name, sm, rc, out);
  free(out);
  char *got = ck_read_file(log, NULL);
  const char *launches = strstr(got, "ptx\n");
  ck_assert_msg(launches, "%s %s: no PTX loaded: %s", c->name, sm, got);
  if (have_ptxas()) ck_assert_msg(!strncmp(got, "cubin refused\nptx\n", 18), "%s", got);
  launches += 4;
  rc = ck_sh(&out, "%s/%s/harness check /dev/null", tmpdir, sm);
  ck_assert_int_eq(rc, 0);
  HloStr want = {0};
  for (const char *k = strstr(out, "kernel "); k; k = strstr(k + 1, "\nkernel ")) {
    if (*k == '\n') k++;
    hlo_str_printf(&want, "launch %.*s ", (int)strcspn(k + 7, "\n"), k + 7);
  }
  HloStr seen = {0};
  for (const char *l = launches; *l; l += strcspn(l, "\n") + 1) {
    ck_assert_msg(!strncmp(l, "launch ", 7), "%s %s: %s", c->name, sm, got);
    const char *sp = strchr(l + 7, ' ');
    hlo_str_printf(&seen, "%.*s", (int)(sp - l + 1), l);
    if (!l[strcspn(l, "\n")]) break;
  }
  if (!c->hlo && strcmp(c->name, "lstm_while"))
    ck_assert_msg(want.buf && seen.buf && !strcmp(want.buf, seen.buf),
                  "%s %s: the launches:\n%s\nthe kernels: %s", c->name, sm, got, want.buf);
  /* A launch that fails stops the run (in a loop too) with the driver's
   * error and the kernel's name. */
  const char *last = NULL;
  for (const char *l = seen.buf; l && (l = strstr(l, "launch ")); l += 7) last = l;
  if (last) {
    char kernel[256];
    snprintf(kernel, sizeof kernel, "%.*s", (int)strcspn(last + 7, " "), last + 7);
    env = (HloStr){0};
    hlo_str_printf(&env, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_FAIL=%s", fake_driver(), kernel);
    char *failed;
    rc = run(c, sm, env.buf, &failed);
    free(env.buf);
    HloStr msg = {0};
    hlo_str_printf(&msg, "m: cuLaunchKernel (%s): CUDA_ERROR_INVALID_VALUE (1)", kernel);
    ck_assert_msg(rc == 1 && strstr(failed, msg.buf), "%s %s: a failed launch of %s: exit %d: %s",
                  c->name, sm, kernel, rc, failed);
    free(msg.buf);
    free(failed);
  }
  free(want.buf);
  free(seen.buf);
  free(got);
  free(out);
}

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-gpu-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char *dir_of(const Case *c) { return c->hlo ? CORPUS : MODELS; }

/* hloc compile's model arguments for c. */
static void model_args(HloStr *s, const Case *c) {
  if (c->hlo) hlo_str_printf(s, CORPUS "/%s.hlo", c->name);
  else hlo_str_printf(s, MODELS "/%s.pb --config " MODELS "/%s.config.pbtxt", c->name, c->name);
}

static void compile_and_check(const Case *c, const char *sm, const char *env) {
  HloStr cmd = {0};
  hlo_str_printf(&cmd, "rm -rf %s/%s && mkdir -p %s/%s && %s %s compile ", tmpdir, sm, tmpdir, sm,
                 env, ck_env("HLOC_BIN"));
  model_args(&cmd, c);
  hlo_str_printf(&cmd, " --target nvptx64 --cpu %s --name m -o %s/%s/m --emit obj,header", sm,
                 tmpdir, sm);
  char *out;
  int rc = ck_sh(&out, "%s", cmd.buf);
  ck_assert_msg(rc == 0, "%s %s: hloc compile exit %d: %s", c->name, sm, rc, out);
  free(out);
  free(cmd.buf);
  char path[256];
  snprintf(path, sizeof path, "%s/%s/harness.c", tmpdir, sm);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(harness, f);
  fclose(f);
  rc = ck_sh(&out,
             "%s -std=c17 -Wall -Werror -I%s/%s -Iruntime -o %s/%s/harness %s %s/%s/m.o "
             "%s/libhloc_runtime.a -lm -pthread -ldl",
             cc(), tmpdir, sm, tmpdir, sm, path, tmpdir, sm, ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "%s %s: building the harness failed: %s", c->name, sm, out);
  free(out);
  rc = ck_sh(&out, "%s/%s/harness check %s/%s/m.ptx", tmpdir, sm, tmpdir, sm);
  ck_assert_msg(rc == 0, "%s %s: the object's kernels: %s", c->name, sm, out);
  unsigned long long cubin = 0;
  ck_assert_msg(strstr(out, "cubin ") && sscanf(strstr(out, "cubin "), "cubin %llu", &cubin) == 1,
                "%s", out);
  bool ptxas = have_ptxas() && !*env;
  ck_assert_msg(ptxas == (cubin > 0), "%s %s: cubin of %llu bytes with%s ptxas", c->name, sm, cubin,
                ptxas ? "" : "out");
  free(out);
  if (have_ptxas()) {
    rc = ck_sh(&out, "/usr/local/cuda/bin/ptxas -arch=%s -o /dev/null %s/%s/m.ptx", sm, tmpdir, sm);
    ck_assert_msg(rc == 0, "%s %s: ptxas refused the object's PTX: %s", c->name, sm, out);
    free(out);
  }
}

/* Runs the harness on c's inputs (env before it); its output in *out. */
static int run(const Case *c, const char *sm, const char *env, char **out) {
  HloStr cmd = {0};
  hlo_str_printf(&cmd, "%s %s/%s/harness run", env, tmpdir, sm);
  for (int i = 0; i < c->nin; i++) hlo_str_printf(&cmd, " %s/%s.in%d.npy", dir_of(c), c->name, i);
  for (int i = 0; i < c->nout; i++) hlo_str_printf(&cmd, " %s/%s/out%d.npy", tmpdir, sm, i);
  int rc = ck_sh(out, "%s", cmd.buf);
  free(cmd.buf);
  return rc;
}

START_TEST(compiles_and_runs_or_says_no_gpu) {
  const Case *c = &cases[_i / 2];
  const char *sm = sms[_i % 2];
  compile_and_check(c, sm, "");
  char *out;
  int rc = run(c, sm, "HLOC_CUDA_DRIVER=/nonexistent/libcuda.so.1", &out);
  ck_assert_msg(rc == 3 && strstr(out, "no CUDA driver found (/nonexistent/libcuda.so.1"),
                "%s %s: without a driver: exit %d: %s", c->name, sm, rc, out);
  free(out);
  check_fake_run(c, sm);
  rc = run(c, sm, "", &out);
  if (rc == 3) {
    ck_assert_msg(strstr(out, "no CUDA driver found") || strstr(out, "no GPU"), "%s", out);
    printf("%s %s: %s: the GPU run is skipped\n", c->name, sm, strtok(out, "\n"));
    free(out);
    return;
  }
  ck_assert_msg(rc == 0, "%s %s: the run on the GPU: exit %d: %s", c->name, sm, rc, out);
  free(out);
  for (int i = 0; i < c->nout; i++) {
    char got[256], want[256], msg[256];
    snprintf(got, sizeof got, "%s/%s/out%d.npy", tmpdir, sm, i);
    snprintf(want, sizeof want, "%s/%s.out%d.npy", dir_of(c), c->name, i);
    HloLiteral *g = ck_read_npy(got), *w = ck_read_npy(want);
    ck_assert_msg(ck_allclose(g, w, c->atol, c->rtol, msg, sizeof msg), "%s %s: result %d: %s",
                  c->name, sm, i, msg);
    hlo_literal_free(g);
    hlo_literal_free(w);
  }
}
END_TEST

/* Without ptxas (HLOC_PTXAS empty) the object carries the PTX alone. */
START_TEST(without_ptxas_the_object_has_ptx_only) {
  Case c = {.name = "mnist_mlp", .nin = 1, .nout = 1};
  compile_and_check(&c, "sm_80", "HLOC_PTXAS=");
}
END_TEST

/* N_run of a GPU program called directly, outside the runtime's run
 * (which would launch its kernels): it does nothing, writes no result,
 * and says so by returning -1, through the generic descriptor too. */
START_TEST(entry_called_directly_fails) {
  Case c = {.name = "lstm_while", .nin = 0, .nout = 0};
  compile_and_check(&c, "sm_80", "");
  char *out;
  int rc = ck_sh(&out, "%s/sm_80/harness direct", tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "direct -1 generic -1 touched 0"), "exit %d: %s", rc, out);
  free(out);
}
END_TEST

/* `hloc run --device cuda --profile` on the fake driver, whose kernels
 * take 20 ms each: every kernel of the program is listed, once, with its
 * time; `--timeout` shorter than the first kernel stops the run before
 * the second, naming it, and writes nothing. */
START_TEST(hloc_run_profiles_and_times_out_on_the_gpu) {
  const char *m = MODELS "/mnist_mlp";
  char *out;
  int rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_KERNEL_MS=20 %s run %s.pb --config "
                 "%s.config.pbtxt --input %s.in0.npy --device cuda --profile --output-dir %s/out",
                 fake_driver(), ck_env("HLOC_BIN"), m, m, m, tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "profile of model: 1 run, "), "exit %d: %s", rc, out);
  int kernels = 0;
  ck_assert_msg(sscanf(strstr(out, " per run, "), " per run, %d kernels", &kernels) == 1 &&
                    kernels >= 2, "%s", out);
  /* Each kernel's row: rank, total ms (at least its 20 ms), us/call, %,
   * cum %, 1 call. */
  const char *row = strchr(strstr(out, "rank "), '\n') + 1;
  for (int k = 1; k <= kernels; k++, row = strchr(row, '\n') + 1) {
    int rank;
    double ms;
    unsigned calls;
    ck_assert_msg(sscanf(row, "%d %lf %*f %*f%% %*f%% %u", &rank, &ms, &calls) == 3 && rank == k &&
                      ms >= 20 && ms < 20000 && calls == 1,
                  "row %d: %s", k, out);
  }
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_KERNEL_MS=400 %s run %s.pb --config "
             "%s.config.pbtxt --input %s.in0.npy --device cuda --timeout 0.1 --output-dir %s/t",
             fake_driver(), ck_env("HLOC_BIN"), m, m, m, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "timed out after 0.1 s at %dot.5 (kernel model_k1_dot_5)"),
                "exit %d: %s", rc, out);
  free(out);
  char path[256];
  snprintf(path, sizeof path, "%s/t", tmpdir);
  ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* `--emit cpp` for the GPU: the class runs the model there through the
 * runtime, opening the GPU at its first Run; without a driver Run fails
 * with the runtime's message, on the fake driver it runs, profiles each
 * kernel once per run, and a set cancellation flag stops it before its
 * first kernel, naming it. */
static const char cpp_program[] =
    "#include <cstdio>\n"
    "#include <cstring>\n"
    "#include \"m.hpp\"\n"
    "int main() {\n"
    "  M comp;\n"
    "  std::memset(comp.arg_data(0), 0, M::ArgSize(0));\n"
    "  bool ok = comp.Run();\n"
    "  std::printf(\"run %d %s\\n\", ok, comp.error_msg().c_str());\n"
    "  if (!ok) return 0;\n"
    "  comp.set_profiling(true);\n"
    "  ok = comp.Run();\n"
    "  unsigned long long calls = 0;\n"
    "  for (int k = 0; k < m_program.num_kernels; k++) calls += comp.kernel_calls(k);\n"
    "  std::printf(\"profiled %d runs %llu calls %llu of %d\\n\", ok,\n"
    "              (unsigned long long)comp.profiled_runs(), calls, (int)m_program.num_kernels);\n"
    "  const int32_t stop = 1;\n"
    "  comp.set_cancel_flag(&stop);\n"
    "  ok = comp.Run();\n"
    "  std::printf(\"stopped %d %s\\n\", ok, comp.error_msg().c_str());\n"
    "  return 0;\n"
    "}\n";

START_TEST(cpp_class_runs_on_the_gpu) {
  const char *m = MODELS "/mnist_mlp";
  char *out;
  int rc = ck_sh(&out, "%s compile %s.pb --config %s.config.pbtxt --target nvptx64 --name m "
                 "--emit obj,cpp -o %s/m", ck_env("HLOC_BIN"), m, m, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  char path[256];
  snprintf(path, sizeof path, "%s/prog.cc", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(cpp_program, f);
  ck_assert_int_eq(fclose(f), 0);
  rc = ck_sh(&out, "'%s' -std=c++17 -Wall -Wextra -Werror -pedantic -I runtime -I %s -o %s/prog "
             "%s %s/m.o '%s/libhloc_runtime.a' -lm -pthread -ldl",
             ck_env("HLOC_CXX"), tmpdir, tmpdir, path, tmpdir, ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "the C++ program does not build:\n%s", out);
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=/nonexistent/libcuda.so.1 %s/prog", tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "run 0 no CUDA driver found (/nonexistent/libcuda.so.1"),
                "exit %d: %s", rc, out);
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s %s/prog", fake_driver(), tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "run 1 \nprofiled 1 runs 1 calls 3 of 3\n"
                                       "stopped 0 cancelled at %fusion.33 (kernel m_k0_fusion_33)"),
                "exit %d: %s", rc, out);
  free(out);
}
END_TEST

/* `hloc run --device cuda`: compiled for the GPU and run there; without
 * one, a clear error, exit 1 and no result written; the option's misuses
 * are usage errors. */
START_TEST(hloc_run_on_the_gpu) {
  char *out;
  const char *m = MODELS "/mnist_mlp";
  int rc = ck_sh(&out,
                 "HLOC_CUDA_DRIVER=/nonexistent/libcuda.so.1 %s run %s.pb --config %s.config.pbtxt "
                 "--input %s.in0.npy --device cuda --output-dir %s/out",
                 ck_env("HLOC_BIN"), m, m, m, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "--device cuda: no CUDA driver found "
                                       "(/nonexistent/libcuda.so.1"),
                "exit %d: %s", rc, out);
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
  rc = ck_sh(&out, "%s run %s.pb --config %s.config.pbtxt --input %s.in0.npy --device cuda "
             "--expect %s.out0.npy --atol 1e-4 --rtol 1e-3 --output-dir %s/out",
             ck_env("HLOC_BIN"), m, m, m, m, tmpdir);
  if (rc == 1 && (strstr(out, "no CUDA driver found") || strstr(out, "no GPU")))
    printf("hloc run --device cuda: %s: the GPU run is skipped\n", strtok(out, "\n"));
  else
    ck_assert_msg(rc == 0 && strstr(out, "probs: matches the expected output"), "exit %d: %s", rc,
                  out);
  free(out);
  static const char *const bad[][2] = {
      {"--device tpu", "--device 'tpu': the devices are cpu and cuda"},
      {"--device cuda --threads 2", "--device cuda runs compiled code on the GPU, without --threads"},
      {"--device cuda --cpu sm_70", "valid CPUs (SMs): sm_80, sm_86, sm_89, sm_90"},
      {"--gpu-tf32", "--gpu-tf32 runs f32 dots on a GPU's tensor cores; it needs --device cuda"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    rc = ck_sh(&out, "%s run %s.pb --config %s.config.pbtxt --input %s.in0.npy %s",
               ck_env("HLOC_BIN"), m, m, m, bad[i][0]);
    ck_assert_msg(rc != 0 && strstr(out, bad[i][1]), "%s: exit %d: %s", bad[i][0], rc, out);
    free(out);
  }
}
END_TEST

/* --gpu-tf32: the f32 dots of the model reach tensor cores in TF32 (the
 * PTX's mma), which without it they never do; another target refuses it
 * and writes nothing. */
START_TEST(gpu_tf32_runs_dots_on_tensor_cores) {
  char *out;
  const char *m = MODELS "/mnist_mlp";
  for (int tf32 = 0; tf32 < 2; tf32++) {
    int rc = ck_sh(&out, "%s dump %s.pb --config %s.config.pbtxt --stage ptx%s",
                   ck_env("HLOC_BIN"), m, m, tf32 ? " --gpu-tf32" : "");
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    bool mma = strstr(out, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32");
    ck_assert_msg(mma == (tf32 == 1) && (tf32 || !strstr(out, "mma.sync")),
                  "--gpu-tf32 %s: the PTX %s tf32 mma", tf32 ? "given" : "not given",
                  mma ? "has" : "has no");
    free(out);
  }
  int rc = ck_sh(&out, "%s compile %s.pb --config %s.config.pbtxt --gpu-tf32 -o %s/m",
                 ck_env("HLOC_BIN"), m, m, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "codegen: --gpu-tf32 needs --target nvptx64"),
                "exit %d: %s", rc, out);
  free(out);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
}
END_TEST

/* Checks the profile table of `out` for the model `name`: `runs` runs,
 * at least two kernels, each listed once with ms_each milliseconds or
 * more per call and `runs` calls. */
static void check_profile(const char *out, const char *name, int runs, double ms_each) {
  char head[128];
  snprintf(head, sizeof head, "profile of %s: %d run%s, ", name, runs, runs == 1 ? "" : "s");
  ck_assert_msg(strstr(out, head), "no '%s' in: %s", head, out);
  int kernels = 0;
  const char *per = strstr(out, " per run, ");
  ck_assert_msg(per && sscanf(per, " per run, %d kernels", &kernels) == 1 && kernels >= 2, "%s",
                out);
  /* Each kernel's row: rank, total ms, us/call, %, cum %, calls. */
  const char *row = strchr(strstr(out, "rank "), '\n') + 1;
  for (int k = 1; k <= kernels; k++, row = strchr(row, '\n') + 1) {
    int rank;
    double ms;
    unsigned calls;
    ck_assert_msg(sscanf(row, "%d %lf %*f %*f%% %*f%% %u", &rank, &ms, &calls) == 3 &&
                      rank == k && ms >= ms_each * runs && ms < 20000 && calls == (unsigned)runs,
                  "row %d: %s", k, out);
  }
}

/* `--emit exe` for the GPU: the executable runs the model there; without
 * a driver it fails cleanly writing nothing (after checking its flags: a
 * bad value is a usage error on any machine), on the fake driver it runs,
 * --profile lists each kernel's time on the GPU (of the run, or of the
 * --bench runs), --timeout stops the run before a kernel, naming it, and
 * writes nothing, and --threads is a usage error. */
START_TEST(executable_runs_on_the_gpu) {
  char *out;
  const char *m = MODELS "/mnist_mlp";
  int rc = ck_sh(&out, "%s compile %s.pb --config %s.config.pbtxt --target nvptx64 --emit exe "
                 "-o %s/m", ck_env("HLOC_BIN"), m, m, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=/nonexistent/libcuda.so.1 %s/m --input %s.in0.npy "
             "--output-dir %s/none", tmpdir, m, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "no CUDA driver found (/nonexistent/libcuda.so.1"),
                "exit %d: %s", rc, out);
  free(out);
  char path[256];
  snprintf(path, sizeof path, "%s/none/probs.npy", tmpdir);
  ck_assert_int_ne(access(path, F_OK), 0);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s %s/m --input %s.in0.npy --output-dir %s/fake --bench 2",
             fake_driver(), tmpdir, m, tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "2 runs: median"), "exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/fake/probs.npy", tmpdir);
  ck_assert_int_eq(access(path, R_OK), 0);
  rc = ck_sh(&out, "%s/m --input %s.in0.npy --threads 2", tmpdir, m);
  ck_assert_msg(rc == 2 && strstr(out, "m: --threads does not apply to a model that runs on the "
                                       "GPU"),
                "exit %d: %s", rc, out);
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=/nonexistent/libcuda.so.1 %s/m --input %s.in0.npy "
             "--output-dir %s/none --profile --timeout 5", tmpdir, m, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "no CUDA driver found (/nonexistent/libcuda.so.1"),
                "exit %d: %s", rc, out);
  free(out);
  static const char *const bad[][2] = {
      {"--timeout 0", "m: --timeout: '0' is not a number of seconds above 0"},
      {"--timeout soon", "m: --timeout: 'soon' is not a number of seconds above 0"},
      {"--bench 0", "m: --bench: '0' is not a count from 1 to 1000000"},
      {"--profile --timeout", "m: --timeout needs a value"},
      {"--profiled", "m: unknown argument '--profiled'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    rc = ck_sh(&out, "HLOC_CUDA_DRIVER=/nonexistent/libcuda.so.1 %s/m --input %s.in0.npy %s",
               tmpdir, m, bad[i][0]);
    ck_assert_msg(rc == 2 && strstr(out, bad[i][1]), "%s: exit %d: %s", bad[i][0], rc, out);
    free(out);
  }
  snprintf(path, sizeof path, "%s/none", tmpdir);
  ck_assert_int_ne(access(path, F_OK), 0);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_KERNEL_MS=20 %s/m --input %s.in0.npy "
             "--output-dir %s/prof --profile", fake_driver(), tmpdir, m, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  check_profile(out, "model", 1, 20);
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_KERNEL_MS=10 %s/m --input %s.in0.npy "
             "--output-dir %s/prof --profile --bench 2", fake_driver(), tmpdir, m, tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "2 runs: median"), "exit %d: %s", rc, out);
  check_profile(out, "model", 2, 10);
  free(out);
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s FAKE_CUDA_KERNEL_MS=400 %s/m --input %s.in0.npy "
             "--output-dir %s/t --timeout 0.1", fake_driver(), tmpdir, m, tmpdir);
  ck_assert_msg(rc == 1 && strstr(out, "m: timed out after 0.1 s at %dot.5 (kernel "
                                       "model_k1_dot_5)"),
                "exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/t", tmpdir);
  ck_assert_int_ne(access(path, F_OK), 0);
  /* Long enough: the run ends, and writes its result. */
  rc = ck_sh(&out, "HLOC_CUDA_DRIVER=%s %s/m --input %s.in0.npy --output-dir %s/t --timeout 60",
             fake_driver(), tmpdir, m, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/t/probs.npy", tmpdir);
  ck_assert_int_eq(access(path, R_OK), 0);
}
END_TEST

/* hloc_execute of `exe` (mnist_mlp's: one input, one output) on zeros,
 * its output pre-filled with 0xA5 bytes, with the CUDA driver `driver`;
 * returns hloc_execute's status, the message of a failure in msg, and
 * in *touched the output bytes the run changed. */
static int execute_with(hloc_executable *exe, const char *driver, char *msg, size_t len,
                        size_t *touched) {
  setenv("HLOC_CUDA_DRIVER", driver, 1);
  size_t in = hloc_executable_input_bytes(exe, 0), bytes = hloc_executable_output_bytes(exe, 0);
  unsigned char *x = calloc(1, in), *y = malloc(bytes);
  memset(y, 0xA5, bytes);
  hloc_error *err = NULL;
  const void *inputs[] = {x};
  void *outputs[] = {y};
  int rc = hloc_execute(exe, inputs, outputs, &err);
  snprintf(msg, len, "%s", err ? hloc_error_message(err) : "");
  hloc_error_free(err);
  *touched = 0;
  for (size_t i = 0; i < bytes; i++) *touched += y[i] != 0xA5;
  free(x);
  free(y);
  unsetenv("HLOC_CUDA_DRIVER");
  return rc;
}

/* Loads the model library `path` with libhloc and runs it: without a
 * driver it fails with the runtime's message and writes nothing; on the
 * fake driver (whose kernels do nothing, on zeroed device memory) it
 * loads the PTX, launches each of the program's kernels once and copies
 * the output back (zeros over the 0xA5 bytes). */
static void check_library_runs(const char *path) {
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_msg(hloc_executable_load(path, &exe, &err) == 0, "%s: %s", path,
                err ? hloc_error_message(err) : "");
  ck_assert_int_eq(hloc_executable_num_inputs(exe), 1);
  ck_assert_int_eq(hloc_executable_num_outputs(exe), 1);
  char msg[2048];
  size_t touched;
  int rc = execute_with(exe, "/nonexistent/libcuda.so.1", msg, sizeof msg, &touched);
  ck_assert_msg(rc != 0 && strstr(msg, "hloc_execute: no CUDA driver found "
                                       "(/nonexistent/libcuda.so.1") && touched == 0,
                "%s: exit %d: %s (%zu bytes written)", path, rc, msg, touched);
  hloc_executable_free(exe);
  /* The first run opens the GPU: a fresh executable for the fake one. */
  ck_assert_int_eq(hloc_executable_load(path, &exe, &err), 0);
  char log[256];
  snprintf(log, sizeof log, "%s/fake.log", tmpdir);
  unlink(log);
  setenv("FAKE_CUDA_LOG", log, 1);
  rc = execute_with(exe, fake_driver(), msg, sizeof msg, &touched);
  unsetenv("FAKE_CUDA_LOG");
  ck_assert_msg(rc == 0 && touched == hloc_executable_output_bytes(exe, 0),
                "%s: on the fake driver: exit %d: %s (%zu bytes written)", path, rc, msg,
                touched);
  char *got = ck_read_file(log, NULL);
  int launches = 0;
  for (const char *l = strstr(got, "\nlaunch "); l; l = strstr(l + 1, "\nlaunch ")) launches++;
  ck_assert_msg(strstr(got, "ptx\n") && launches == hloc_executable_num_kernels(exe) &&
                    launches >= 2,
                "%s: %d kernels: %s", path, hloc_executable_num_kernels(exe), got);
  free(got);
  hloc_executable_free(exe);
}

/* execute_with on another thread, for a cancel from this one. */
typedef struct {
  hloc_executable *exe;
  const char *driver;
  char msg[2048];
  size_t touched;
  int rc;
} Call;

static void *call_thread(void *arg) {
  Call *c = arg;
  c->rc = execute_with(c->exe, c->driver, c->msg, sizeof c->msg, &c->touched);
  return NULL;
}

/* The number of kernel launches in the fake driver's log `path`. */
static int launches_in(const char *path) {
  if (access(path, R_OK)) return 0;
  char *got = ck_read_file(path, NULL);
  int n = 0;
  for (const char *l = got ? strstr(got, "launch ") : NULL; l; l = strstr(l + 1, "\nlaunch ")) n++;
  free(got);
  return n;
}

/* Cancellation and profiling of a fresh device "cuda" executable `exe`
 * (mnist_mlp's, compiled or loaded) on the fake driver: without a driver
 * a profiled call still fails cleanly, counting no run; profiled calls
 * count each kernel's calls and its time on the (fake) GPU, which sleeps
 * FAKE_CUDA_KERNEL_MS in each launch; a cancel from this thread while the
 * first kernel runs stops the call before the second, naming its
 * instruction and kernel, with no output written; a later call runs. */
static void check_cancel_and_profile(hloc_executable *exe, const char *what) {
  hloc_error *err = NULL;
  char msg[2048];
  size_t touched;
  size_t bytes = hloc_executable_output_bytes(exe, 0);
  int kernels = hloc_executable_num_kernels(exe);
  ck_assert_int_ge(kernels, 2);
  ck_assert_int_eq(hloc_executable_set_profiling(exe, 1, &err), 0);
  int rc = execute_with(exe, "/nonexistent/libcuda.so.1", msg, sizeof msg, &touched);
  ck_assert_msg(rc != 0 && strstr(msg, "hloc_execute: no CUDA driver found "
                                       "(/nonexistent/libcuda.so.1") && touched == 0,
                "%s: exit %d: %s (%zu bytes written)", what, rc, msg, touched);
  hloc_profile_summary sum;
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &sum, &err), 0);
  ck_assert_msg(sum.runs == 0, "%s: %llu runs", what, (unsigned long long)sum.runs);

  setenv("FAKE_CUDA_KERNEL_MS", "20", 1);
  for (int run = 0; run < 2; run++) {
    rc = execute_with(exe, fake_driver(), msg, sizeof msg, &touched);
    ck_assert_msg(rc == 0 && touched == bytes, "%s: run %d: %s", what, run, msg);
  }
  unsetenv("FAKE_CUDA_KERNEL_MS");
  double in_kernels = 0;
  for (int i = 0; i < kernels; i++) {
    hloc_kernel_profile k;
    ck_assert_int_eq(hloc_executable_kernel_profile(exe, i, &k, &err), 0);
    ck_assert_msg(k.calls == 2 && k.seconds >= 2 * 0.020 && k.seconds < 20,
                  "%s: kernel %d (%s): %llu calls, %g s", what, i, k.symbol,
                  (unsigned long long)k.calls, k.seconds);
    in_kernels += k.seconds;
  }
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &sum, &err), 0);
  ck_assert_msg(sum.runs == 2 && sum.kernel_seconds >= in_kernels * 0.999999 &&
                    sum.seconds >= sum.kernel_seconds,
                "%s: %llu runs, %g s, %g s in kernels", what, (unsigned long long)sum.runs,
                sum.seconds, sum.kernel_seconds);
  char report[8192];
  hloc_kernel_profile k1;
  ck_assert_int_eq(hloc_executable_kernel_profile(exe, 1, &k1, &err), 0);
  char row[256];
  snprintf(row, sizeof row, "       2  k1     %%%s = ", k1.instruction);
  ck_assert_msg(hloc_executable_profile_report(exe, report, sizeof report) > 0 &&
                    strstr(report, row),
                "%s: no '%s' in %s", what, row, report);
  /* Off: the calls add nothing. */
  ck_assert_int_eq(hloc_executable_set_profiling(exe, 0, &err), 0);
  hloc_executable_clear_profile(exe);
  rc = execute_with(exe, fake_driver(), msg, sizeof msg, &touched);
  ck_assert_msg(rc == 0, "%s: %s", what, msg);
  ck_assert_int_eq(hloc_executable_profile_summary(exe, &sum, &err), 0);
  ck_assert_int_eq(sum.runs, 0);

  ck_assert_int_eq(hloc_executable_cancel(exe), 0); /* nothing running */
  char log[256];
  snprintf(log, sizeof log, "%s/cancel.log", tmpdir);
  unlink(log);
  setenv("FAKE_CUDA_LOG", log, 1);
  setenv("FAKE_CUDA_KERNEL_MS", "300", 1);
  Call call = {.exe = exe, .driver = fake_driver()};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, call_thread, &call), 0);
  /* The first kernel is launched (logged before its sleep): cancel. */
  for (int i = 0; i < 1000 && launches_in(log) < 1; i++)
    nanosleep(&(struct timespec){0, 2000000}, NULL);
  ck_assert_int_eq(hloc_executable_cancel(exe), 1);
  pthread_join(t, NULL);
  unsetenv("FAKE_CUDA_KERNEL_MS");
  unsetenv("FAKE_CUDA_LOG");
  HloStr want = {0};
  hlo_str_printf(&want, "hloc_execute: cancelled at %%%s (kernel %s)", k1.instruction, k1.symbol);
  ck_assert_msg(call.rc != 0 && !strcmp(call.msg, want.buf) && call.touched == 0,
                "%s: exit %d: '%s', not '%s' (%zu bytes written)", what, call.rc, call.msg,
                want.buf, call.touched);
  free(want.buf);
  ck_assert_int_eq(launches_in(log), 1);
  /* The cancel stopped that call only. */
  rc = execute_with(exe, fake_driver(), msg, sizeof msg, &touched);
  ck_assert_msg(rc == 0 && touched == bytes, "%s: after the cancel: %s", what, msg);
}

/* A device "cuda" executable, compiled by libhloc and loaded from its
 * saved library, honours hloc_executable_cancel and _set_profiling. */
START_TEST(gpu_executable_cancels_and_profiles) {
  hloc_compiler_options opts = {.device = "cuda"};
  hloc_compiler *c = NULL;
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(&opts, &c, &err), 0);
  ck_assert_msg(hloc_compile_graphdef_file(c, MODELS "/mnist_mlp.pb",
                                           MODELS "/mnist_mlp.config.pbtxt", &exe, &err) == 0,
                "%s", err ? hloc_error_message(err) : "");
  char path[256];
  snprintf(path, sizeof path, "%s/libsaved.so", tmpdir);
  ck_assert_msg(hloc_executable_save(exe, path, &err) == 0, "%s",
                err ? hloc_error_message(err) : "");
  check_cancel_and_profile(exe, "compiled");
  hloc_executable_free(exe);
  hloc_compiler_free(c);
  ck_assert_msg(hloc_executable_load(path, &exe, &err) == 0, "%s",
                err ? hloc_error_message(err) : "");
  check_cancel_and_profile(exe, path);
  hloc_executable_free(exe);
}
END_TEST

/* `--emit so` for the GPU: a model library that exports the GPU program
 * (its descriptor, its device code, the entry points and the runtime's
 * CUDA glue) and that libhloc loads and runs on the GPU; N_run called
 * directly, outside a GPU run, returns -1 as the object's does. */
START_TEST(model_library_runs_on_the_gpu) {
  const char *m = MODELS "/mnist_mlp";
  char *out;
  int rc = ck_sh(&out, "%s compile %s.pb --config %s.config.pbtxt --target nvptx64 --name m "
                 "--emit so -o %s/m", ck_env("HLOC_BIN"), m, m, tmpdir);
  ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
  free(out);
  char path[256];
  snprintf(path, sizeof path, "%s/libm.so", tmpdir);
  rc = ck_sh(&out, "nm -D --defined-only %s", path);
  ck_assert_int_eq(rc, 0);
  static const char *const symbols[] = {
      " hloc_library_abi\n", " hloc_library_program\n", " hloc_library_cuda_image\n",
      " m_program\n",        " m_cuda_image\n",         " m_run\n",
      " m_run_buffers\n",    " hloc_cuda_open\n",       " hloc_cuda_run_host_with\n",
      " hloc_program_run\n",
  };
  for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++)
    ck_assert_msg(strstr(out, symbols[i]), "libm.so does not export%s", symbols[i]);
  free(out);
  check_library_runs(path);

  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(lib, "%s", dlerror());
  const hloc_program *const *p = dlsym(lib, "hloc_library_program");
  int (*m_run)(const float *, float *, void *);
  *(void **)&m_run = dlsym(lib, "m_run");
  ck_assert_msg(p && *p && m_run, "no hloc_library_program or m_run");
  size_t in = (*p)->args[0].bytes, bytes = (*p)->results[0].bytes;
  float *x = calloc(1, in), *y = malloc(bytes);
  void *scratch = malloc((*p)->scratch_bytes + 1);
  memset(y, 0xA5, bytes);
  ck_assert_int_eq(m_run(x, y, scratch), -1);
  ck_assert_int_eq(hloc_program_run(*p, (void *[]){x, y}), -1);
  for (size_t i = 0; i < bytes; i++) ck_assert_int_eq(((unsigned char *)y)[i], 0xA5);
  free(x);
  free(y);
  free(scratch);
  dlclose(lib);
}
END_TEST

/* A device "cuda" executable of libhloc saves as a GPU program's model
 * library, which loads and runs as `--emit so`'s does. */
START_TEST(gpu_executable_saves_as_a_model_library) {
  const char *m = MODELS "/mnist_mlp";
  hloc_compiler_options opts = {.device = "cuda"};
  hloc_compiler *c = NULL;
  hloc_executable *exe = NULL;
  hloc_error *err = NULL;
  ck_assert_int_eq(hloc_compiler_create(&opts, &c, &err), 0);
  ck_assert_msg(hloc_compile_graphdef_file(c, MODELS "/mnist_mlp.pb",
                                           MODELS "/mnist_mlp.config.pbtxt", &exe, &err) == 0,
                "%s: %s", m, err ? hloc_error_message(err) : "");
  char path[256];
  snprintf(path, sizeof path, "%s/libsaved.so", tmpdir);
  ck_assert_msg(hloc_executable_save(exe, path, &err) == 0, "%s",
                err ? hloc_error_message(err) : "");
  hloc_executable_free(exe);
  hloc_compiler_free(c);
  check_library_runs(path);
}
END_TEST

/* A CPU program by hand whose runs return $STATUS from the $FROM-th on
 * (0 before), for the statuses no compiled model returns. */
static const char status_harness[] =
    "#include <stdlib.h>\n"
    "#include \"hloc_runtime.h\"\n"
    "static const int64_t in_dims[] = {2, 784}, out_dims[] = {2};\n"
    "static const hloc_buffer_info x = {\"x\", RT_F32, 2, in_dims, 2 * 784 * 4, 0, 0};\n"
    "static const hloc_buffer_info y = {\"y\", RT_F32, 1, out_dims, 2 * 4, 0, 0};\n"
    "static int calls;\n"
    "static int status(void) {\n"
    "  return ++calls >= atoi(getenv(\"FROM\")) ? atoi(getenv(\"STATUS\")) : 0;\n"
    "}\n"
    "static int run(void *const *b, void *s) { (void)b; (void)s; return status(); }\n"
    "static int run_c(void *const *b, void *s, const int32_t *c) { (void)c; return run(b, s); }\n"
    "static int run_p(void *const *b, void *s, const int32_t *c, hloc_profiler *p) {\n"
    "  (void)p;\n"
    "  return run_c(b, s, c);\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  hloc_program p = {.name = \"m\", .num_args = 1, .num_results = 1, .args = &x,\n"
    "                    .results = &y, .scratch_align = 16, .run = run,\n"
    "                    .run_cancellable = run_c, .run_profiled = run_p};\n"
    "  return hloc_exe_main(&p, argc, argv);\n"
    "}\n";

/* The status of a CPU run that no cancellation explains: since the GPU's
 * failures (-1, printed by the runtime) and stops (-2) share run_once's
 * status with the CPU's, an executable says "the model failed (status N)"
 * for any other, in the run and in --bench's runs: exit 1, and a failed
 * first run writes nothing. */
START_TEST(cpu_executable_reports_a_failed_status) {
  char path[256], *out;
  snprintf(path, sizeof path, "%s/status.c", tmpdir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(status_harness, f);
  fclose(f);
  int rc = ck_sh(&out, "%s -std=c17 -Wall -Werror -Iruntime -o %s/m %s %s/libhloc_exe.a "
                 "%s/libhloc_runtime.a -lm -pthread -ldl",
                 cc(), tmpdir, path, ck_env("HLOC_RUNTIME_DIR"), ck_env("HLOC_RUNTIME_DIR"));
  ck_assert_msg(rc == 0, "building the harness: %s", out);
  free(out);
  static const struct {
    const char *env, *flags, *says;
  } statuses[] = {
      {"FROM=1 STATUS=-2", "", "m: the model failed (status -2)"},
      {"FROM=1 STATUS=-7", "--timeout 60", "m: the model failed (status -7)"},
      {"FROM=2 STATUS=-2", "--bench 3", "m: the model failed (status -2)"},
      {"FROM=3 STATUS=-9", "--bench 3 --profile", "m: the model failed (status -9)"},
      {"FROM=1 STATUS=5", "", "m: the model failed (status 5)"},
  };
  for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
    rc = ck_sh(&out, "%s %s/m --input %s/mnist_mlp.in0.npy --output-dir %s/out%zu %s", statuses[i].env,
               tmpdir, MODELS, tmpdir, i, statuses[i].flags);
    ck_assert_msg(rc == 1 && strstr(out, statuses[i].says), "%s %s: exit %d: %s", statuses[i].env,
                  statuses[i].flags, rc, out);
    free(out);
    if (strncmp(statuses[i].env, "FROM=1 ", 7)) continue;
    snprintf(path, sizeof path, "%s/out%zu/y.npy", tmpdir, i);
    ck_assert_int_ne(access(path, F_OK), 0);
  }
  rc = ck_sh(&out, "FROM=9 STATUS=-2 %s/m --input %s/mnist_mlp.in0.npy --output-dir %s/ok "
             "--bench 2", tmpdir, MODELS, tmpdir);
  ck_assert_msg(rc == 0 && strstr(out, "m: 2 runs: median"), "exit %d: %s", rc, out);
  free(out);
  snprintf(path, sizeof path, "%s/ok/y.npy", tmpdir);
  ck_assert_int_eq(access(path, R_OK), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("driver_gpu");
  add_models();
  add_corpus();
  TCase *tc = tcase_create("gpu");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, compiles_and_runs_or_says_no_gpu, 0, 2 * ncases);
  tcase_add_test(tc, without_ptxas_the_object_has_ptx_only);
  tcase_add_test(tc, hloc_run_on_the_gpu);
  tcase_add_test(tc, executable_runs_on_the_gpu);
  tcase_add_test(tc, gpu_tf32_runs_dots_on_tensor_cores);
  suite_add_tcase(s, tc);
  TCase *direct = tcase_create("runtime");
  tcase_add_checked_fixture(direct, setup, teardown);
  tcase_set_timeout(direct, 600);
  tcase_add_test(direct, entry_called_directly_fails);
  tcase_add_test(direct, hloc_run_profiles_and_times_out_on_the_gpu);
  tcase_add_test(direct, cpp_class_runs_on_the_gpu);
  tcase_add_test(direct, model_library_runs_on_the_gpu);
  tcase_add_test(direct, gpu_executable_saves_as_a_model_library);
  tcase_add_test(direct, gpu_executable_cancels_and_profiles);
  tcase_add_test(direct, cpu_executable_reports_a_failed_status);
  suite_add_tcase(s, direct);
  return ck_run_suite(s);
}
