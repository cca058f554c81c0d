/*
 * profile.c — the runtime's profiler: per-kernel time of compiled programs,
 * reported as a table in the manner of XLA's HLO profile.
 *
 * The compiled entry function calls the profiler's two hooks around each
 * kernel call (codegen/kernel.c, "Profiling"); the hooks here read
 * CLOCK_MONOTONIC (a vDSO call, some 20 ns: small next to a kernel, and
 * unlike rdtsc it needs no calibration and means the same on every
 * machine) and add the difference to the kernel's counters.  Kernels are
 * call sites, so a kernel in a while body sums the time of every iteration
 * and counts its calls.  hloc_profile_run also times the whole run, so the
 * report can say how much of it went outside the kernels: copies into and
 * out of loop state and call parameters, loop control, the entry's own
 * work.
 *
 * Shares are of the runs' wall time, so the kernels' shares plus the
 * outside share make 100%.  Times are summed over runs; the per-call
 * column divides a kernel's time by its calls.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hloc_runtime.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void enter(hloc_profiler *self, int32_t kernel) {
  (void)kernel;
  ((hloc_profile *)self)->started_ns = now_ns();
}

static void leave(hloc_profiler *self, int32_t kernel) {
  hloc_profile *prof = (hloc_profile *)self;
  uint64_t t = now_ns();
  if (kernel < 0 || kernel >= prof->program->num_kernels) return;
  prof->kernel_ns[kernel] += t - prof->started_ns;
  prof->kernel_calls[kernel]++;
}

int hloc_profile_init(hloc_profile *prof, const hloc_program *p) {
  memset(prof, 0, sizeof *prof);
  prof->hooks.enter = enter;
  prof->hooks.leave = leave;
  prof->program = p;
  size_t n = (size_t)(p->num_kernels > 0 ? p->num_kernels : 1);
  prof->kernel_ns = calloc(n, sizeof *prof->kernel_ns);
  prof->kernel_calls = calloc(n, sizeof *prof->kernel_calls);
  if (prof->kernel_ns && prof->kernel_calls) return 0;
  hloc_profile_release(prof);
  return -1;
}

void hloc_profile_release(hloc_profile *prof) {
  free(prof->kernel_ns);
  free(prof->kernel_calls);
  prof->kernel_ns = prof->kernel_calls = NULL;
}

void hloc_profile_clear(hloc_profile *prof) {
  size_t n = (size_t)prof->program->num_kernels;
  prof->runs = prof->run_ns = 0;
  memset(prof->kernel_ns, 0, n * sizeof *prof->kernel_ns);
  memset(prof->kernel_calls, 0, n * sizeof *prof->kernel_calls);
}

void hloc_profile_add(hloc_profile *into, const hloc_profile *from) {
  into->runs += from->runs;
  into->run_ns += from->run_ns;
  for (int32_t k = 0; k < into->program->num_kernels; k++) {
    into->kernel_ns[k] += from->kernel_ns[k];
    into->kernel_calls[k] += from->kernel_calls[k];
  }
}

int hloc_profile_run(hloc_profile *prof, void *const *buffers, void *scratch,
                     const int32_t *cancel) {
  static const int32_t never = 0;
  const hloc_program *p = prof->program;
  void *own = NULL;
  if (!scratch && p->scratch_bytes > 0) {
    size_t align = p->scratch_align > sizeof(void *) ? p->scratch_align : sizeof(void *);
    scratch = own = aligned_alloc(align, (p->scratch_bytes + align - 1) / align * align);
    if (!own) return -1;
  }
  uint64_t t0 = now_ns();
  int status = p->run_profiled(buffers, scratch, cancel ? cancel : &never, &prof->hooks);
  prof->run_ns += now_ns() - t0;
  prof->runs++;
  free(own);
  return status;
}

/* ------------------------------------------------------------------------ */
/* The report                                                               */
/* ------------------------------------------------------------------------ */

typedef struct Text {
  char *buf;
  size_t len, cap;
  int failed; /* out of memory: the rest is dropped */
} Text;

static void put(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Text *t, const char *fmt, ...) {
  if (t->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->failed = 1;
      return;
    }
    if (t->buf && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap * 2 + (size_t)n + 256;
    char *b = realloc(t->buf, cap);
    if (!b) {
      t->failed = 1;
      return;
    }
    t->buf = b;
    t->cap = cap;
  }
}

/* A kernel's place in the table. */
typedef struct Row {
  uint64_t ns;
  int32_t kernel;
} Row;

/* By time, most first; ties (kernels that never ran) in program order. */
static int by_time(const void *a, const void *b) {
  const Row *x = a, *y = b;
  if (x->ns != y->ns) return x->ns < y->ns ? 1 : -1;
  return (x->kernel > y->kernel) - (x->kernel < y->kernel);
}

/* "%fusion.3 = fusion(convolution) f32[1,10] in %while.2" into buf. */
static void describe(char *buf, size_t len, const hloc_kernel_info *k) {
  snprintf(buf, len, "%%%s = %s %s%s%s", k->instruction ? k->instruction : "?",
           k->kind ? k->kind : "?", k->shape ? k->shape : "", k->loop ? " in %" : "",
           k->loop ? k->loop : "");
}

char *hloc_profile_report(const hloc_profile *prof) {
  const hloc_program *p = prof->program;
  int32_t n = p->num_kernels;
  Row *order = malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
  if (!order) return NULL;
  for (int32_t k = 0; k < n; k++) order[k] = (Row){prof->kernel_ns[k], k};
  qsort(order, (size_t)n, sizeof *order, by_time);
  uint64_t in_kernels = 0;
  for (int32_t k = 0; k < n; k++) in_kernels += prof->kernel_ns[k];
  /* A profile that only counted kernels (a host's own runs) has no run
   * time: the kernels' sum stands for it. */
  double total = (double)(prof->run_ns > in_kernels ? prof->run_ns : in_kernels);
  double runs = prof->runs ? (double)prof->runs : 1;
  int width = (int)strlen("HLO instruction");
  char what[1024];
  for (int32_t k = 0; k < n; k++) {
    describe(what, sizeof what, &p->kernels[k]);
    if ((int)strlen(what) > width) width = (int)strlen(what);
  }
  if (width > 100) width = 100;
  Text t = {0};
  put(&t, "profile of %s: %llu run%s, %.3f ms per run, %d kernel%s\n", p->name,
      (unsigned long long)prof->runs, prof->runs == 1 ? "" : "s", total / runs / 1e6, (int)n,
      n == 1 ? "" : "s");
  put(&t, "%4s %10s %9s %6s %6s %7s  %-6s %-*s  %s\n", "rank", "total ms", "us/call", "%",
      "cum %", "calls", "kernel", width, "HLO instruction", "TF op");
  double cum = 0;
  for (int32_t r = 0; r < n; r++) {
    int32_t k = order[r].kernel;
    double ns = (double)prof->kernel_ns[k], share = total > 0 ? 100 * ns / total : 0;
    cum += share;
    char id[16];
    snprintf(id, sizeof id, "k%d", (int)k);
    describe(what, sizeof what, &p->kernels[k]);
    uint64_t calls = prof->kernel_calls[k];
    put(&t, "%4d %10.3f %9.1f %5.1f%% %5.1f%% %7llu  %-6s %-*s  %s\n", (int)r + 1, ns / 1e6,
        calls ? ns / (double)calls / 1e3 : 0.0, share, cum, (unsigned long long)calls, id, width,
        what, p->kernels[k].tf_op ? p->kernels[k].tf_op : "-");
  }
  double outside = total - (double)in_kernels;
  put(&t, "%4s %10.3f %9s %5.1f%% %6s %7s  %-6s %s\n", "", outside / 1e6, "",
      total > 0 ? 100 * outside / total : 0, "", "", "", "(outside kernels: copies, loop control)");
  put(&t, "%4s %10.3f %9s %5.1f%% %6s %7s  %-6s %s\n", "", total / 1e6, "", total > 0 ? 100.0 : 0,
      "", "", "", "total");
  free(order);
  if (t.failed) {
    free(t.buf);
    return NULL;
  }
  return t.buf;
}
