/*
 * exe.c — the generic main of executables made by `hloc compile --emit exe`.
 *
 * hloc links each such executable from the model's object, the runtime,
 * this file and a two-line generated main() that passes the model's
 * descriptor (N_program) here, so every model's executable behaves the
 * same and nothing but the descriptor is generated:
 *
 *   ./PREFIX --input [NAME=]FILE.npy ... [--output-dir DIR] [--threads N]
 *            [--bench N] [--timeout SECONDS] [--profile]
 *
 * Inputs bind to the model's arguments by name (the config's feed names,
 * the TensorFlow names, positions: hloc_program_find's rules) or, without
 * NAME=, in order; each array's dtype and shape must equal the argument's.
 * Before anything else, the CPU is checked for the features the code was
 * compiled for (hloc_program_check_cpu): a missing one is an error naming
 * it, not a SIGILL.  Results are written as DIR/NAME.npy once the run
 * succeeded: all under temporary names, then renamed together, so a
 * failed write leaves none of them.  --bench N times N
 * further runs and prints their median and minimum, and their median CPU
 * time.  --profile prints the
 * time of each kernel (profile.c's table): of the run, or with --bench of
 * the N timed runs together (the first run, with its cold caches and
 * first touches of memory, is then left out).  --timeout stops the
 * (first) run after that many seconds: a watchdog thread sets the flag the
 * compiled code polls between kernels and loop iterations.  Buffers and the
 * scratch arena are allocated once, so timed runs measure the model only.
 * A model compiled with separate weights has them loaded first, from the
 * weights file next to the executable (hloc_exe_load_weights, called by
 * the generated main).
 *
 * A model with bounded dynamic dims (hloc_exe_main_dynamic, with the table
 * of them the generated main passes) takes each dynamic array at any size
 * within its bounds, passes it padded to them with its sizes (dynamic.c),
 * and writes each dynamic result trimmed to the size the run returned: the
 * sizes are neither inputs nor result files, as with `hloc run`.
 *
 * A model compiled for the GPU (hloc_exe_main_cuda) runs there through
 * the runtime's hloc_cuda_run_host_with, once its flags and inputs are
 * read (so a bad flag is a usage error on any machine): --profile times
 * each kernel with CUDA events, --timeout's flag is read before each
 * launch and copy (a kernel running is not interrupted), --threads > 1 is
 * a usage error, and the watchdog starts once the kernels are loaded.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hloc_runtime.h"

enum { EXIT_REJECTED = 1, EXIT_USAGE = 2 };


static const char *prog_name = "model";

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog_name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (status == EXIT_USAGE) fprintf(stderr, "run '%s --help' for usage\n", prog_name);
  return status;
}

/* The model's dynamic dims (hloc_exe_main_dynamic; NULL: none). */
static const hloc_dynamic_dims *dynamic;

/* The arguments and results a user sees: without the sizes of dynamic dims. */
static int num_inputs(const hloc_program *p) { return dynamic ? dynamic->num_args : p->num_args; }
static int num_outputs(const hloc_program *p) {
  return dynamic ? dynamic->num_results : p->num_results;
}

/* The mask of b's dynamic dims: input or output i. */
static uint32_t dims_mask(const hloc_program *p, const hloc_buffer_info *b) {
  if (!dynamic) return 0;
  if (b >= p->args && b < p->args + dynamic->num_args) return dynamic->args[b - p->args];
  if (b >= p->results && b < p->results + dynamic->num_results)
    return dynamic->results[b - p->results];
  return 0;
}

/* "float32[2,784]", "int32[<=5,3]" into buf. */
static const char *type_text(char *buf, size_t len, const hloc_program *p,
                             const hloc_buffer_info *b) {
  return rt_type_text(buf, len, (RtDtype)b->dtype, b->rank, b->dims, dims_mask(p, b));
}

/* A GPU program's (hloc_exe_main_cuda): its device code, and the GPU
 * it runs on once opened. */
static const hloc_cuda_image *cuda_image;
static hloc_cuda *gpu;

static void usage(const hloc_program *p) {
  char t[256];
  printf("usage: %s --input [NAME=]FILE.npy ... [--output-dir DIR] [--threads N] [--bench N]\n"
         "          [--timeout SECONDS] [--profile]\n\n"
         "Runs the compiled model '%s' on .npy inputs and writes one NAME.npy per result\n"
         "into DIR (default: the current directory).  Inputs bind by NAME, by their\n"
         "TensorFlow name (NODE:INDEX, shown in brackets), by position (N= or argN=)\n"
         "or in order.\n%s"
         "  --threads N  run on N threads (default 1%s)\n"
         "  --bench N    time N more runs; print the median and minimum latency\n"
         "               and the median CPU time of a run\n"
         "  --timeout S  stop the run after S seconds (an error naming where)\n"
         "  --profile    print the time of each kernel, with its HLO instruction and\n"
         "               TensorFlow op (with --bench: over the timed runs)\n\n"
         "inputs:\n",
         prog_name, p->name,
         cuda_image ? "The model runs on the GPU: --profile times each kernel there with CUDA\n"
                      "events, and --timeout stops the run before a kernel launch or copy.\n"
                    : "",
         cuda_image ? "; CPU models only" : "");
  for (int i = 0; i < num_inputs(p); i++)
    printf("  %s %s%s%s%s\n", p->args[i].name, type_text(t, sizeof t, p, &p->args[i]),
           p->args[i].tf_name ? " [" : "", p->args[i].tf_name ? p->args[i].tf_name : "",
           p->args[i].tf_name ? "]" : "");
  printf("results:\n");
  for (int i = 0; i < num_outputs(p); i++)
    printf("  %s %s%s%s%s\n", p->results[i].name, type_text(t, sizeof t, p, &p->results[i]),
           p->results[i].tf_name ? " [" : "", p->results[i].tf_name ? p->results[i].tf_name : "",
           p->results[i].tf_name ? "]" : "");
}

/* --timeout: a thread that sets the run's cancellation flag once the time
 * has passed, unless the run finished first. */
typedef struct Watchdog {
  double seconds;
  int32_t flag;
  bool done, started;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
} Watchdog;

static void *watch(void *arg) {
  Watchdog *w = arg;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  double whole = floor(w->seconds);
  until.tv_sec += (time_t)whole;
  until.tv_nsec += (long)((w->seconds - whole) * 1e9);
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->lock);
  while (!w->done)
    if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT) {
      __atomic_store_n(&w->flag, 1, __ATOMIC_RELAXED);
      break;
    }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

static bool watchdog_start(Watchdog *w) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&w->wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&w->lock, NULL);
  w->started = !pthread_create(&w->thread, NULL, watch, w);
  return w->started;
}

static void watchdog_stop(Watchdog *w) {
  if (!w->started) return;
  pthread_mutex_lock(&w->lock);
  w->done = true;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->wake);
  pthread_mutex_destroy(&w->lock);
}

/* --timeout's value: a positive, finite number of seconds, at most a year. */
static bool parse_seconds(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || end == s || !(v > 0) || v > 366.0 * 86400) return false;
  *out = v;
  return true;
}

/* A positive count, for --threads and --bench. */
static bool parse_count(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 1 || v > 1000000) return false;
  *out = v;
  return true;
}

/* Reads FILE into slot `index` after checking it against the argument (a
 * dynamic dim: against its bound). */
static int load_input(const hloc_program *p, int index, const char *path, RtArray *slot) {
  char err[512], want[256], got[256], why[256] = "";
  const hloc_buffer_info *a = &p->args[index];
  if (rt_npy_read(path, slot, err, sizeof err)) return fail(EXIT_REJECTED, "%s", err);
  /* A '|V1' file holds whichever narrow type the argument is. */
  if (slot->dtype == RT_V1 && rt_dtype_is_narrow((RtDtype)a->dtype) &&
      rt_array_retype(slot, (RtDtype)a->dtype, path, err, sizeof err))
    return fail(EXIT_REJECTED, "%s", err);
  if (slot->dtype == (RtDtype)a->dtype &&
      rt_dims_fit(a->rank, a->dims, dims_mask(p, a), slot->rank, slot->dims, why, sizeof why))
    return 0;
  type_text(want, sizeof want, p, a);
  if (*why)
    return fail(EXIT_REJECTED, "--input %s: input %d (%s) is %s: %s", path, index, a->name, want,
                why);
  return fail(EXIT_REJECTED, "--input %s: input %d (%s) is %s, but the file holds %s", path, index,
              a->name, want, rt_type_text(got, sizeof got, slot->dtype, slot->rank, slot->dims, 0));
}

/* Binds the `--input` values to the arguments. */
static int bind_inputs(const hloc_program *p, const char *const *specs, int nspecs, RtArray *args,
                       bool *bound) {
  int next = 0;
  for (int i = 0; i < nspecs; i++) {
    const char *spec = specs[i], *eq = strchr(spec, '=');
    int index = -1;
    if (eq) {
      char name[1024], why[2048];
      size_t n = (size_t)(eq - spec);
      if (n >= sizeof name) return fail(EXIT_REJECTED, "--input %s: the name is too long", spec);
      memcpy(name, spec, n);
      name[n] = '\0';
      index = hloc_buffers_find(p->args, num_inputs(p), "input", name, why, sizeof why);
      if (index < 0) return fail(EXIT_REJECTED, "--input %s: %s", spec, why);
      spec = eq + 1;
    } else {
      while (next < num_inputs(p) && bound[next]) next++;
      if (next == num_inputs(p))
        return fail(EXIT_REJECTED, "--input %s: the model takes only %d input(s)", spec,
                    num_inputs(p));
      index = next;
    }
    if (bound[index])
      return fail(EXIT_REJECTED, "--input %s: input %d (%s) is given twice", spec, index,
                  p->args[index].name);
    int rc = load_input(p, index, spec, &args[index]);
    if (rc) return rc;
    bound[index] = true;
  }
  for (int a = 0; a < num_inputs(p); a++) {
    char t[256];
    if (!bound[a])
      return fail(EXIT_REJECTED, "no --input for input %d (%s), which is %s", a, p->args[a].name,
                  type_text(t, sizeof t, p, &p->args[a]));
  }
  return 0;
}

/* Memory for a result or the scratch arena: aligned for vector access,
 * rounded up as aligned_alloc requires, never NULL for 0 bytes. */
static void *alloc_aligned(uint64_t bytes, uint64_t align) {
  if (align < 64) align = 64;
  size_t size = (size_t)((bytes + align - 1) / align * align);
  return aligned_alloc((size_t)align, size ? size : (size_t)align);
}

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

/* run_once's status for a GPU run that failed (its message printed) and
 * for one that the flag stopped (where: gpu_stopped_at); on the CPU, a
 * stopped run's status is its cancellation point, above 0. */
enum { RUN_FAILED = -1, RUN_STOPPED_ON_GPU = -2 };
static char gpu_stopped_at[256];

/* One run of p, profiled into prof (or not: NULL), stopping when *cancel
 * (cancel NULL: never) becomes non-zero: on the CPU, or on the GPU, whose
 * runtime reads the flag before each launch and copy and times each
 * kernel with CUDA events; a GPU's failure is printed here, as fail()
 * does. */
static int run_once(const hloc_program *p, void *const *buffers, void *scratch,
                    hloc_profile *prof, const int32_t *cancel) {
  if (gpu) {
    char err[1024];
    hloc_cuda_run_options o = {.cancel = cancel, .profile = prof};
    if (!hloc_cuda_run_host_with(gpu, p, buffers, &o, err, sizeof err)) return 0;
    if (o.cancelled) {
      snprintf(gpu_stopped_at, sizeof gpu_stopped_at, "%s", o.where);
      return RUN_STOPPED_ON_GPU;
    }
    fprintf(stderr, "%s: %s\n", prog_name, err);
    return RUN_FAILED;
  }
  if (prof) return hloc_profile_run(prof, buffers, scratch, cancel);
  return cancel ? p->run_cancellable(buffers, scratch, cancel) : p->run(buffers, scratch);
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median_of(double *v, long n) {
  qsort(v, (size_t)n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs p `runs` more times and prints the median and minimum latency, and
 * the median of the process's CPU time per run (all its threads: on a
 * shared machine, the time the run took less the time it waited for a
 * CPU, when it runs on one thread); with prof, the runs are profiled into
 * it. */
static int bench(const hloc_program *p, void *const *buffers, void *scratch, long runs,
                 hloc_profile *prof) {
  double *ms = malloc(2 * (size_t)runs * sizeof *ms), *cpu = ms + runs;
  if (!ms) return fail(EXIT_REJECTED, "out of memory");
  for (long i = 0; i < runs; i++) {
    double t0 = now_ms(), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    int status = run_once(p, buffers, scratch, prof, NULL);
    ms[i] = now_ms() - t0;
    cpu[i] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (status) {
      free(ms);
      return status == RUN_FAILED ? EXIT_REJECTED
                                  : fail(EXIT_REJECTED, "the model failed (status %d)", status);
    }
  }
  double median = median_of(ms, runs), cpu_median = median_of(cpu, runs);
  printf("%s: %ld runs: median %.3f ms, min %.3f ms; CPU time median %.3f ms\n", p->name, runs,
         median, ms[0], cpu_median);
  free(ms);
  return 0;
}

static int print_profile(const hloc_profile *prof) {
  char *text = hloc_profile_report(prof);
  if (!text) return fail(EXIT_REJECTED, "out of memory");
  fputs(text, stdout);
  free(text);
  return 0;
}

/* The padding arguments and the sizes of the dynamic dims (above, exe.c's
 * comment): a dynamic input padded to its bounds, zeroed past its sizes. */
typedef struct Padded {
  void **pads;    /* per input: its padded copy, or NULL */
  int32_t *sizes; /* the size arguments' values, after the inputs */
} Padded;

/* Points buffers at the arguments: each input as read, or padded to its
 * bounds, then the sizes of its dynamic dims after all the inputs. */
static int pad_inputs(const hloc_program *p, const RtArray *args, void **buffers, Padded *pad) {
  int n = num_inputs(p), k = n;
  pad->pads = calloc((size_t)n + 1, sizeof *pad->pads);
  pad->sizes = calloc((size_t)(p->num_args - n) + 1, sizeof *pad->sizes);
  if (!pad->pads || !pad->sizes) return fail(EXIT_REJECTED, "out of memory");
  for (int i = 0; i < n; i++) {
    const hloc_buffer_info *b = &p->args[i];
    uint32_t mask = dims_mask(p, b);
    buffers[i] = args[i].data;
    if (!mask) continue;
    if (!(pad->pads[i] = alloc_aligned(b->bytes, 64))) return fail(EXIT_REJECTED, "out of memory");
    memset(pad->pads[i], 0, (size_t)b->bytes);
    rt_copy_corner(rt_dtype_size((RtDtype)b->dtype), b->rank, args[i].dims, args[i].data, b->dims,
                   pad->pads[i], 1);
    buffers[i] = pad->pads[i];
    for (int d = 0; d < b->rank; d++) {
      if (!(mask >> d & 1)) continue;
      if (k >= p->num_args) break;
      pad->sizes[k - n] = (int32_t)args[i].dims[d];
      buffers[k] = &pad->sizes[k - n];
      k++;
    }
  }
  if (k != p->num_args)
    return fail(EXIT_REJECTED, "the model's dynamic dims do not match its %d arguments",
                p->num_args);
  return 0;
}

static void padded_free(const hloc_program *p, Padded *pad) {
  for (int i = 0; pad->pads && i < num_inputs(p); i++) free(pad->pads[i]);
  free(pad->pads);
  free(pad->sizes);
}

/* Result r as written: its buffer, or a dynamic one's trimmed copy (in
 * *owned) to the sizes the run returned after the results. */
static int result_array(const hloc_program *p, void *const *buffers, int r, RtArray *a,
                        void **owned) {
  const hloc_buffer_info *b = &p->results[r];
  *a = (RtArray){.dtype = (RtDtype)b->dtype, .rank = b->rank,
                 .data = buffers[p->num_args + r], .nbytes = (size_t)b->bytes};
  for (int k = 0; k < b->rank; k++) a->dims[k] = b->dims[k];
  uint32_t mask = dims_mask(p, b);
  if (!mask) return 0;
  int k = num_outputs(p);
  for (int i = 0; i < r; i++) k += __builtin_popcount(dynamic->results[i]);
  for (int d = 0; d < b->rank; d++) {
    if (!(mask >> d & 1)) continue;
    int32_t size = k < p->num_results ? *(const int32_t *)buffers[p->num_args + k] : -1;
    k++;
    if (size < 0 || size > b->dims[d])
      return fail(EXIT_REJECTED, "result %d (%s): dimension %d has size %d, outside [0, %lld]", r,
                  b->name, d, (int)size, (long long)b->dims[d]);
    a->dims[d] = size;
  }
  a->nbytes = (size_t)rt_array_elements(a) * rt_dtype_size(a->dtype);
  if (!(*owned = malloc(a->nbytes ? a->nbytes : 1))) return fail(EXIT_REJECTED, "out of memory");
  rt_copy_corner(rt_dtype_size(a->dtype), a->rank, a->dims, *owned, b->dims, a->data, 0);
  a->data = *owned;
  return 0;
}

/* Writes every result (each dynamic one trimmed to its sizes, which are
 * not written), then the value each read-write variable ends with (as
 * hloc run does), under temporary names, then renames them all: a failure
 * on one leaves none (the temporaries are removed).  buffers holds the
 * arguments, then the results. */
static int write_results(const hloc_program *p, void *const *buffers, const char *dir) {
  int n = num_outputs(p), written = 0, status = 0;
  for (int a = 0; a < p->num_args; a++) n += p->args[a].updated != 0;
  const hloc_buffer_info **infos = calloc((size_t)n + 1, sizeof *infos);
  RtArray *arrays = calloc((size_t)n + 1, sizeof *arrays);
  void **owned = calloc((size_t)n + 1, sizeof *owned);
  char (*paths)[2][4096] = calloc((size_t)n + 1, sizeof *paths);
  if (!paths || !infos || !arrays || !owned) {
    free(paths);
    free(infos);
    free(arrays);
    free(owned);
    return fail(EXIT_REJECTED, "out of memory");
  }
  int m = 0;
  for (int r = 0; r < num_outputs(p) && !status; r++, m++) {
    infos[m] = &p->results[r];
    status = result_array(p, buffers, r, &arrays[m], &owned[m]);
  }
  for (int a = 0; a < p->num_args && !status; a++)
    if (p->args[a].updated) {
      const hloc_buffer_info *b = infos[m] = &p->args[a];
      arrays[m] = (RtArray){.dtype = (RtDtype)b->dtype, .rank = b->rank, .data = buffers[a],
                            .nbytes = (size_t)b->bytes};
      for (int k = 0; k < b->rank; k++) arrays[m].dims[k] = b->dims[k];
      m++;
    }
  /* the directory once the results are known good */
  if (!status && mkdir(dir, 0777) && errno != EEXIST)
    status = fail(EXIT_REJECTED, "--output-dir %s: %s", dir, strerror(errno));
  for (; written < n && !status; written++) { /* written: temporaries that may exist */
    const hloc_buffer_info *b = infos[written];
    const RtArray a = arrays[written];
    char err[8192 + 64];
    snprintf(paths[written][0], sizeof paths[written][0], "%s/%s.npy", dir, b->name);
    snprintf(paths[written][1], sizeof paths[written][1], "%s.tmp.%ld", paths[written][0],
             (long)getpid());
    if (rt_npy_write(paths[written][1], &a, err, sizeof err))
      status = fail(EXIT_REJECTED, "cannot write '%s': %s", paths[written][0],
                    strrchr(err, ':') ? strrchr(err, ':') + 2 : err);
  }
  int renamed = 0;
  while (!status && renamed < n) {
    if (rename(paths[renamed][1], paths[renamed][0]))
      status = fail(EXIT_REJECTED, "cannot write '%s': %s", paths[renamed][0], strerror(errno));
    else
      renamed++;
  }
  if (status) {
    for (int i = 0; i < renamed; i++) unlink(paths[i][0]);
    for (int i = renamed; i < written; i++) unlink(paths[i][1]);
  }
  for (int i = 0; i < n; i++) free(owned[i]);
  free(owned);
  free(arrays);
  free(paths);
  free(infos);
  return status;
}

int hloc_exe_load_weights(const char *file, void *dst, uint64_t bytes, uint64_t fingerprint) {
  char self[4096], err[4096 + 256];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) {
    fprintf(stderr, "%s: error: cannot find the executable's directory: %s\n", prog_name,
            strerror(errno));
    return EXIT_REJECTED;
  }
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  size_t dir = slash ? (size_t)(slash - self) + 1 : 0;
  static char name[4096];
  memcpy(name, self + dir, strlen(self + dir) + 1);
  prog_name = name;
  if (dir + strlen(file) >= sizeof self) {
    fprintf(stderr, "%s: error: the weights file's path is too long\n", prog_name);
    return EXIT_REJECTED;
  }
  memcpy(self + dir, file, strlen(file) + 1);
  if (hloc_load_weights(self, dst, bytes, fingerprint, err, sizeof err)) {
    fprintf(stderr, "%s: error: %s\n", prog_name, err);
    return EXIT_REJECTED;
  }
  return 0;
}

int hloc_exe_main(const hloc_program *p, int argc, char **argv) {
  return hloc_exe_main_dynamic(p, cuda_image, NULL, argc, argv);
}

int hloc_exe_main_dynamic(const hloc_program *p, const hloc_cuda_image *img,
                          const hloc_dynamic_dims *dyn, int argc, char **argv) {
  cuda_image = img;
  dynamic = dyn;
  const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
  prog_name = slash ? slash + 1 : argc > 0 ? argv[0] : p->name;
  const char *outdir = ".";
  long threads = 1, runs = 0;
  bool profile = false;
  Watchdog dog = {0};
  const char **specs = calloc((size_t)argc + 1, sizeof *specs);
  int nspecs = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(p);
      free(specs);
      return 0;
    }
    if (!strcmp(a, "--profile")) {
      profile = true;
      continue;
    }
    bool takes_value = !strcmp(a, "--input") || !strcmp(a, "--output-dir") ||
                       !strcmp(a, "--threads") || !strcmp(a, "--bench") ||
                       !strcmp(a, "--timeout");
    if (!takes_value) {
      free(specs);
      return fail(EXIT_USAGE, "unknown argument '%s'", a);
    }
    if (i + 1 >= argc) {
      free(specs);
      return fail(EXIT_USAGE, "%s needs a value", a);
    }
    const char *v = argv[++i];
    if (!strcmp(a, "--input")) {
      specs[nspecs++] = v;
    } else if (!strcmp(a, "--output-dir")) {
      outdir = v;
    } else if (!strcmp(a, "--timeout")) {
      if (!parse_seconds(v, &dog.seconds)) {
        free(specs);
        return fail(EXIT_USAGE, "--timeout: '%s' is not a number of seconds above 0", v);
      }
    } else if (!parse_count(v, !strcmp(a, "--threads") ? &threads : &runs)) {
      free(specs);
      return fail(EXIT_USAGE, "%s: '%s' is not a count from 1 to 1000000", a, v);
    }
  }
  char why[1024];
  if (hloc_program_check_cpu(p, why, sizeof why)) {
    free(specs);
    return fail(EXIT_REJECTED, "%s", why);
  }
  if (cuda_image && threads > 1) {
    free(specs);
    return fail(EXIT_USAGE, "--threads does not apply to a model that runs on the GPU");
  }
  RtArray *args = calloc((size_t)p->num_args + 1, sizeof *args);
  bool *bound = calloc((size_t)p->num_args + 1, sizeof *bound);
  void **buffers = calloc((size_t)(p->num_args + p->num_results) + 1, sizeof *buffers);
  void *scratch = NULL;
  RtThreadPool *pool = NULL;
  hloc_profile prof = {0};
  Padded pad = {0};
  int rc = bind_inputs(p, specs, nspecs, args, bound);
  if (!rc) rc = pad_inputs(p, args, buffers, &pad);
  if (!rc && profile && hloc_profile_init(&prof, p)) rc = fail(EXIT_REJECTED, "out of memory");
  for (int r = 0; r < p->num_results && !rc; r++) {
    buffers[p->num_args + r] = alloc_aligned(p->results[r].bytes, 64);
    if (!buffers[p->num_args + r]) rc = fail(EXIT_REJECTED, "out of memory");
  }
  char err[1024];
  if (!rc && cuda_image && (hloc_cuda_open(&gpu, err, sizeof err) ||
                            hloc_cuda_load_image(gpu, cuda_image, err, sizeof err)))
    rc = fail(EXIT_REJECTED, "%s", err);
  if (!rc && !gpu && p->scratch_bytes &&
      !(scratch = alloc_aligned(p->scratch_bytes, p->scratch_align)))
    rc = fail(EXIT_REJECTED, "cannot allocate the %llu-byte scratch arena",
              (unsigned long long)p->scratch_bytes);
  if (!rc && threads > 1) {
    if (!(pool = rt_threadpool_create((int)threads)))
      rc = fail(EXIT_REJECTED, "cannot start %ld threads", threads);
    hloc_set_thread_pool(pool);
  }
  if (!rc && dog.seconds > 0 && !watchdog_start(&dog))
    rc = fail(EXIT_REJECTED, "cannot start the --timeout watchdog");
  if (!rc) {
    int status = run_once(p, buffers, scratch, profile && !runs ? &prof : NULL, &dog.flag);
    watchdog_stop(&dog);
    const char *where = status == RUN_STOPPED_ON_GPU ? gpu_stopped_at
                                                     : hloc_program_cancel_point(p, status);
    if (status == RUN_FAILED) rc = EXIT_REJECTED;
    else if (status && where && __atomic_load_n(&dog.flag, __ATOMIC_RELAXED))
      rc = fail(EXIT_REJECTED, "timed out after %g s at %s", dog.seconds, where);
    else if (status)
      rc = fail(EXIT_REJECTED, "the model failed (status %d)", status);
  }
  if (!rc) rc = write_results(p, buffers, outdir);
  if (!rc && runs) rc = bench(p, buffers, scratch, runs, profile ? &prof : NULL);
  if (!rc && profile) rc = print_profile(&prof);
  hloc_profile_release(&prof);
  hloc_set_thread_pool(NULL);
  rt_threadpool_free(pool);
  hloc_cuda_close(gpu);
  gpu = NULL;
  padded_free(p, &pad);
  for (int a = 0; a < p->num_args; a++) rt_array_free(&args[a]);
  for (int r = 0; r < p->num_results; r++) free(buffers[p->num_args + r]);
  free(scratch);
  free(buffers);
  free(bound);
  free(args);
  free(specs);
  return rc;
}

int hloc_exe_main_cuda(const hloc_program *p, const hloc_cuda_image *img, int argc,
                       char **argv) {
  return hloc_exe_main_dynamic(p, img, NULL, argc, argv);
}
