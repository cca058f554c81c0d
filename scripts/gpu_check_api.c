/*
 * gpu_check_api.c — scripts/gpu-check.sh's checks of libhloc's GPU
 * executables, for one model of testdata/tf/models: compiled with
 * device "cuda" (group api) or loaded from a model library made by
 * `hloc compile --target nvptx64 --emit so` (group so):
 *
 *   gpu_check_api GROUP NAME DIR NIN NOUT [LIBRARY]
 *
 * compiles DIR/NAME.pb (or loads LIBRARY) and prints one line per check,
 * "PASS|FAIL GROUP NAME.CHECK [message]":
 *   run      the outputs match DIR/NAME.outK.npy (atol 1e-4, rtol 1e-3 for
 *            floats, as the script's models group; other types exactly);
 *   profile  two profiled calls count 2 calls of every kernel (of one in a
 *            while loop, twice its iterations), with time, the summary 2
 *            runs; profiling off adds nothing;
 *   cancel   hloc_executable_cancel with no call running stops nothing;
 *            cancelling calls running on another thread stops one (up to
 *            2 s of tries) with "hloc_execute: cancelled at %INSTR (kernel
 *            SYMBOL)" or "… at a copy" and no output written; the next
 *            call matches again;
 *   save     (api only) the executable saves as a model library, which
 *            loads and matches.
 * With GPU_CHECK_FAKE set (the fake driver, tests/fake_cuda.c, runs no
 * kernel) the outputs are not compared with the stored ones, and says so.
 * Exits 0 when every check passed, 1 when one failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hloc.h"

static const char *group, *name;
static int failures;
static bool fake;

static void report(const char *check, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(const char *check, const char *fmt, ...) {
  char msg[1024] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
  }
  printf("%s %s %s.%s%s%s\n", fmt ? "FAIL" : "PASS", group, name, check, fmt ? " " : "", msg);
  fflush(stdout);
  failures += fmt != NULL;
}

/* The data of the .npy file at path (its header skipped) in *out,
 * malloc'd, of *len bytes; NULL when it cannot be read. */
static unsigned char *npy_data(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = n > 12 ? malloc(n) : NULL;
  if (b && fread(b, 1, n, f) != (size_t)n) n = 0;
  fclose(f);
  if (!b || n <= 12 || memcmp(b, "\x93NUMPY", 6)) return free(b), NULL;
  size_t head = b[6] == 1 ? 10 + (size_t)(b[8] | b[9] << 8)
                          : 12 + (b[8] | b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24);
  if (head > (size_t)n) return free(b), NULL;
  *len = n - head;
  memmove(b, b + head, *len);
  return b;
}

typedef struct {
  hloc_executable *exe;
  int nin, nout;
  void **in, **want, **out;
} Model;

/* Where output i differs from the stored one ("" when it matches). */
static void compare(const Model *m, int i, char *why, size_t len) {
  size_t bytes = hloc_executable_output_bytes(m->exe, i);
  why[0] = '\0';
  if (fake) return;
  if (hloc_executable_output_dtype(m->exe, i) != HLOC_DTYPE_FLOAT32) {
    if (memcmp(m->out[i], m->want[i], bytes)) snprintf(why, len, "output %d differs", i);
    return;
  }
  const float *g = m->out[i], *w = m->want[i];
  for (size_t k = 0; k < bytes / 4; k++)
    if (!(fabs((double)g[k] - w[k]) <= 1e-4 + 1e-3 * fabs((double)w[k])) &&
        !(isnan(g[k]) && isnan(w[k]))) {
      snprintf(why, len, "output %d [%zu]: %g, not %g", i, k, g[k], w[k]);
      return;
    }
}

/* One call on fresh (0xA5) outputs: its status, its message in msg and
 * whether it wrote any output byte in *wrote. */
static int call(Model *m, char *msg, size_t len, bool *wrote) {
  for (int i = 0; i < m->nout; i++)
    memset(m->out[i], 0xA5, hloc_executable_output_bytes(m->exe, i));
  hloc_error *err = NULL;
  int rc = hloc_execute(m->exe, (const void *const *)m->in, m->out, &err);
  snprintf(msg, len, "%s", err ? hloc_error_message(err) : "");
  hloc_error_free(err);
  *wrote = false;
  for (int i = 0; i < m->nout; i++) {
    const unsigned char *o = m->out[i];
    for (size_t k = 0; k < hloc_executable_output_bytes(m->exe, i); k++) *wrote |= o[k] != 0xA5;
  }
  return rc;
}

/* A call whose outputs must match: "" or why not. */
static void call_matches(Model *m, char *why, size_t len) {
  bool wrote;
  if (call(m, why, len, &wrote)) return;
  for (int i = 0; i < m->nout && !why[0]; i++) compare(m, i, why, len);
}

static void check_run(Model *m) {
  char why[1024];
  call_matches(m, why, sizeof why);
  if (why[0]) report("run", "%s", why);
  else report("run", NULL);
}

static void check_profile(Model *m) {
  hloc_error *err = NULL;
  char why[1024];
  hloc_executable_clear_profile(m->exe);
  if (hloc_executable_set_profiling(m->exe, 1, &err))
    return report("profile", "set_profiling: %s", hloc_error_message(err));
  for (int r = 0; r < 2; r++) {
    call_matches(m, why, sizeof why);
    if (why[0]) return report("profile", "profiled call %d: %s", r, why);
  }
  int n = hloc_executable_num_kernels(m->exe);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    hloc_kernel_profile k;
    if (hloc_executable_kernel_profile(m->exe, i, &k, &err))
      return report("profile", "kernel %d: %s", i, hloc_error_message(err));
    /* A kernel in a while loop runs as often as the loop iterates. */
    if ((k.loop ? k.calls % 2 : k.calls != 2) || !(k.seconds > 0 || (k.loop && !k.calls)) ||
        k.seconds > 60)
      return report("profile", "kernel %d (%%%s): %llu calls, %g s", i, k.instruction,
                    (unsigned long long)k.calls, k.seconds);
    sum += k.seconds;
  }
  hloc_profile_summary s;
  if (hloc_executable_profile_summary(m->exe, &s, &err))
    return report("profile", "summary: %s", hloc_error_message(err));
  if (n < 1 || s.runs != 2 || s.kernel_seconds < sum * 0.999999 || s.seconds < s.kernel_seconds)
    return report("profile", "%d kernels, %llu runs, %g s, %g s in kernels (%g summed)", n,
                  (unsigned long long)s.runs, s.seconds, s.kernel_seconds, sum);
  hloc_executable_set_profiling(m->exe, 0, &err);
  hloc_executable_clear_profile(m->exe);
  call_matches(m, why, sizeof why);
  hloc_executable_profile_summary(m->exe, &s, &err);
  if (why[0] || s.runs) return report("profile", "unprofiled: %s, %llu runs", why,
                                      (unsigned long long)s.runs);
  report("profile", NULL);
}

typedef struct {
  Model *m;
  atomic_int stop, cancelled;
  char msg[1024];
  bool wrote;
} Calls;

/* Calls until one is cancelled or stop is set. */
static void *calls_thread(void *arg) {
  Calls *c = arg;
  while (!atomic_load(&c->stop)) {
    char msg[1024];
    bool wrote;
    if (call(c->m, msg, sizeof msg, &wrote)) {
      snprintf(c->msg, sizeof c->msg, "%s", msg);
      c->wrote = wrote;
      atomic_store(&c->cancelled, 1);
      return NULL;
    }
  }
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void check_cancel(Model *m) {
  if (hloc_executable_cancel(m->exe) != 0) return report("cancel", "stopped a call when none ran");
  Calls c = {.m = m};
  pthread_t t;
  if (pthread_create(&t, NULL, calls_thread, &c)) return report("cancel", "no thread");
  for (double end = now() + 2; !atomic_load(&c.cancelled) && now() < end;)
    hloc_executable_cancel(m->exe);
  atomic_store(&c.stop, 1);
  pthread_join(t, NULL);
  if (!atomic_load(&c.cancelled)) return report("cancel", "no call was cancelled in 2 s of tries");
  static const char want[] = "hloc_execute: cancelled at ";
  if (strncmp(c.msg, want, strlen(want)) ||
      (strncmp(c.msg + strlen(want), "a copy", 6) && !strstr(c.msg, " (kernel ")))
    return report("cancel", "the cancelled call said: %s", c.msg);
  if (c.wrote) return report("cancel", "the cancelled call wrote its outputs (%s)", c.msg);
  char why[1024];
  call_matches(m, why, sizeof why);
  if (why[0]) return report("cancel", "the call after the cancel: %s", why);
  report("cancel", NULL);
}

static void check_save(Model *m, const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/lib%s.so", dir, name);
  hloc_error *err = NULL;
  hloc_executable *loaded = NULL;
  if (hloc_executable_save(m->exe, path, &err) || hloc_executable_load(path, &loaded, &err))
    return report("save", "%s", hloc_error_message(err));
  Model l = *m;
  l.exe = loaded;
  char why[1024];
  call_matches(&l, why, sizeof why);
  hloc_executable_free(loaded);
  if (why[0]) return report("save", "the loaded library: %s", why);
  report("save", NULL);
}

int main(int argc, char **argv) {
  if (argc < 6 || argc > 7 || (strcmp(argv[1], "api") && strcmp(argv[1], "so")) ||
      (!strcmp(argv[1], "so") && argc != 7)) {
    fprintf(stderr, "usage: %s api|so NAME DIR NIN NOUT [LIBRARY (so)]\n", argv[0]);
    return 2;
  }
  group = argv[1], name = argv[2];
  const char *dir = argv[3];
  fake = getenv("GPU_CHECK_FAKE") != NULL;
  Model m = {.nin = atoi(argv[4]), .nout = atoi(argv[5])};
  hloc_error *err = NULL;
  char path[1024], cfg[1024];
  if (argc == 7) {
    if (hloc_executable_load(argv[6], &m.exe, &err)) {
      report("load", "%s", hloc_error_message(err));
      return 1;
    }
  } else {
    hloc_compiler_options o = {.device = "cuda"};
    hloc_compiler *c = NULL;
    snprintf(path, sizeof path, "%s/%s.pb", dir, name);
    snprintf(cfg, sizeof cfg, "%s/%s.config.pbtxt", dir, name);
    if (hloc_compiler_create(&o, &c, &err) ||
        hloc_compile_graphdef_file(c, path, cfg, &m.exe, &err)) {
      report("compile", "%s", hloc_error_message(err));
      return 1;
    }
    hloc_compiler_free(c);
  }
  if (hloc_executable_num_inputs(m.exe) != m.nin || hloc_executable_num_outputs(m.exe) != m.nout) {
    report("load", "%d inputs and %d outputs, not %d and %d", hloc_executable_num_inputs(m.exe),
           hloc_executable_num_outputs(m.exe), m.nin, m.nout);
    return 1;
  }
  m.in = calloc(m.nin + 1, sizeof *m.in);
  m.want = calloc(m.nout + 1, sizeof *m.want);
  m.out = calloc(m.nout + 1, sizeof *m.out);
  for (int i = 0; i < m.nin + m.nout; i++) {
    bool in = i < m.nin;
    int k = in ? i : i - m.nin;
    size_t len = 0, want = in ? hloc_executable_input_bytes(m.exe, k)
                               : hloc_executable_output_bytes(m.exe, k);
    snprintf(path, sizeof path, "%s/%s.%s%d.npy", dir, name, in ? "in" : "out", k);
    void *d = npy_data(path, &len);
    if (!d || len != want) {
      report("load", "%s: %s (%zu bytes, not %zu)", path, d ? "another size" : "unreadable", len,
             want);
      return 1;
    }
    (in ? m.in : m.want)[k] = d;
    if (!in) m.out[k] = malloc(want ? want : 1);
  }
  if (fake) printf("# %s %s: the fake driver runs no kernel: outputs not compared\n", group, name);
  check_run(&m);
  check_profile(&m);
  check_cancel(&m);
  if (argc == 6) check_save(&m, getenv("GPU_CHECK_WORK") ? getenv("GPU_CHECK_WORK") : "/tmp");
  hloc_executable_free(m.exe);
  return failures != 0;
}
