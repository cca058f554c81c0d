/*
 * cuda_run.c — running a program compiled for `--target nvptx64` on the
 * GPU of an hloc_cuda (cuda.c): loading its kernels, buffers on the
 * device, and the three calls its host entry makes.
 *
 * The object of such a program holds N_program, whose entry points run on
 * the host and take device addresses for every buffer (the arguments, the
 * results, the scratch arena), and N_cuda_image: the PTX, a cubin for the
 * SM it was compiled for when ptxas was installed, and the constants the
 * kernels read with their bytes.  The entry never sees an hloc_cuda: a run
 * makes the hloc_cuda current on its thread, and the entry's launches,
 * copies between buffers and reads of a while loop's condition go through
 * hloc_cuda_entry_launch and hloc_cuda_entry_copy to it.  The first
 * failure is kept with its message and stops the run: the current run's
 * cancellation flag is set, so the entry returns at its next cancellation
 * point (before a kernel, at a loop's head), every later call does
 * nothing, and a read of a condition gives zeros (false) so that no loop
 * runs on.  The run then reports that first failure.  An entry called
 * outside a run (N_run called directly, with nothing current) finds the
 * same: it does nothing and returns -1 (hloc_cuda_entry_begin).
 *
 * A run may be given a flag that stops it (read before each launch and
 * copy: the GPU cannot be interrupted inside a kernel, and the launches
 * before it run to their end) and a profile, which times each launch
 * with a pair of CUDA events and waits for it (hloc_cuda_launch_timed).
 *
 * Assumes one run at a time per hloc_cuda (the module is the hloc_cuda's,
 * the stream the default one) and what cuda.c assumes.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hloc_runtime.h"

/* A run in progress on this thread. */
typedef struct Run {
  hloc_cuda *c;
  const hloc_program *p;
  atomic_int cancel;      /* the entry's cancellation flag; set on failure */
  int failed;
  const char *last;       /* the last kernel launched, for sync's message */
  hloc_cuda_run_options *o; /* the caller's flag and profile (never NULL) */
  char err[512];          /* the first failure's message */
} Run;

static _Thread_local Run *current;

static int failed(Run *r) {
  r->failed = 1;
  atomic_store(&r->cancel, 1);
  return -1;
}

/* Whether the caller's flag stops the run before `what`: then the run
 * fails, saying where. */
static int cancelled(Run *r, const char *what, const char *instruction) {
  const int32_t *flag = r->o->cancel;
  if (!flag || !__atomic_load_n(flag, __ATOMIC_RELAXED)) return 0;
  r->o->cancelled = 1;
  if (instruction)
    snprintf(r->o->where, sizeof r->o->where, "%%%s (kernel %s)", instruction, what);
  else snprintf(r->o->where, sizeof r->o->where, "%s", what);
  snprintf(r->err, sizeof r->err, "cancelled before %s", r->o->where);
  return failed(r);
}

int32_t hloc_cuda_entry_begin(void) { return current ? 0 : -1; }

int32_t hloc_cuda_entry_launch(void *const *ctx, int32_t nargs, int32_t k, int64_t grid,
                               int64_t block) {
  Run *r = current;
  if (!r || r->failed) return -1;
  if (k < 0 || k >= r->p->num_kernels) {
    snprintf(r->err, sizeof r->err, "cuLaunchKernel: the program has no kernel %d", (int)k);
    return failed(r);
  }
  const char *kernel = r->p->kernels[k].symbol;
  uint64_t args[256];
  if (nargs < 0 || nargs > 256 || grid < 1 || grid > UINT32_MAX || block < 1 || block > 1024) {
    snprintf(r->err, sizeof r->err, "cuLaunchKernel (%s): %d parameters on %lld blocks of %lld",
             kernel, (int)nargs, (long long)grid, (long long)block);
    return failed(r);
  }
  if (cancelled(r, kernel, r->p->kernels[k].instruction ? r->p->kernels[k].instruction : "?"))
    return -1;
  for (int i = 0; i < nargs; i++) args[i] = (uint64_t)(uintptr_t)ctx[i];
  hloc_profile *prof = r->o->profile;
  uint64_t ns = 0;
  if (prof ? hloc_cuda_launch_timed(r->c, kernel, (uint32_t)grid, (uint32_t)block, args, nargs,
                                    &ns, r->err, sizeof r->err)
           : hloc_cuda_launch(r->c, kernel, (uint32_t)grid, (uint32_t)block, args, nargs, r->err,
                              sizeof r->err))
    return failed(r);
  if (prof) {
    prof->kernel_ns[k] += ns;
    prof->kernel_calls[k]++;
  }
  r->last = kernel;
  return 0;
}

int32_t hloc_cuda_entry_copy(void *const *ctx, int64_t bytes, int32_t kind) {
  Run *r = current;
  /* A read for the host that cannot happen reads false. */
  if ((!r || r->failed) && kind == HLOC_CUDA_TO_HOST) memset(ctx[0], 0, (size_t)bytes);
  if (!r || r->failed) return -1;
  if (cancelled(r, "a copy", NULL)) {
    if (kind == HLOC_CUDA_TO_HOST) memset(ctx[0], 0, (size_t)bytes);
    return -1;
  }
  uint64_t dst = (uint64_t)(uintptr_t)ctx[0], src = (uint64_t)(uintptr_t)ctx[1];
  int rc;
  switch (kind) {
  case HLOC_CUDA_ON_DEVICE:
    rc = hloc_cuda_on_device(r->c, dst, src, (size_t)bytes, r->err, sizeof r->err);
    break;
  case HLOC_CUDA_TO_DEVICE:
    rc = hloc_cuda_to_device(r->c, dst, ctx[1], (size_t)bytes, r->err, sizeof r->err);
    break;
  case HLOC_CUDA_TO_HOST:
    rc = hloc_cuda_to_host(r->c, ctx[0], src, (size_t)bytes, r->err, sizeof r->err);
    if (rc) memset(ctx[0], 0, (size_t)bytes);
    break;
  default:
    snprintf(r->err, sizeof r->err, "hloc_cuda_entry_copy: unknown kind %d", (int)kind);
    rc = -1;
  }
  return rc ? failed(r) : 0;
}

int hloc_cuda_load_image(hloc_cuda *c, const hloc_cuda_image *img, char *err, size_t errlen) {
  if (hloc_cuda_load_program(c, img->cubin, img->cubin_bytes, img->ptx, err, errlen)) return -1;
  for (int32_t i = 0; i < img->num_globals; i++)
    if (hloc_cuda_set_global(c, img->globals[i].name, img->globals[i].data,
                             (size_t)img->globals[i].bytes, err, errlen))
      return -1;
  return 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int hloc_cuda_run_device(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                         uint64_t scratch, char *err, size_t errlen) {
  hloc_cuda_run_options o = {0};
  return hloc_cuda_run_device_with(c, p, buffers, scratch, &o, err, errlen);
}

int hloc_cuda_run_device_with(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                              uint64_t scratch, hloc_cuda_run_options *o, char *err,
                              size_t errlen) {
  o->cancelled = 0;
  o->where[0] = '\0';
  if (current) {
    snprintf(err, errlen, "%s: a run on the GPU is in progress on this thread", p->name);
    return -1;
  }
  Run *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "%s: out of memory", p->name);
    return -1;
  }
  r->c = c;
  r->p = p;
  r->o = o;
  atomic_init(&r->cancel, 0);
  uint64_t start = now_ns();
  current = r;
  int status = p->run_cancellable(buffers, (void *)(uintptr_t)scratch, (const int32_t *)&r->cancel);
  current = NULL;
  int rc = 0;
  if (r->failed) {
    snprintf(err, errlen, "%s: %s", p->name, r->err);
    rc = -1;
  } else if (status) {
    snprintf(err, errlen, "%s: the run stopped with status %d", p->name, status);
    rc = -1;
  } else if (hloc_cuda_sync(c, r->last, r->err, sizeof r->err)) {
    snprintf(err, errlen, "%s: %s", p->name, r->err);
    rc = -1;
  }
  if (o->profile) {
    o->profile->runs++;
    o->profile->run_ns += now_ns() - start;
  }
  free(r);
  return rc;
}

int hloc_cuda_run_host(hloc_cuda *c, const hloc_program *p, void *const *buffers, char *err,
                       size_t errlen) {
  hloc_cuda_run_options o = {0};
  return hloc_cuda_run_host_with(c, p, buffers, &o, err, errlen);
}

int hloc_cuda_run_host_with(hloc_cuda *c, const hloc_program *p, void *const *buffers,
                            hloc_cuda_run_options *o, char *err, size_t errlen) {
  /* Not cancelled, also when the run fails before it starts. */
  o->cancelled = 0;
  o->where[0] = '\0';
  int n = p->num_args + p->num_results;
  uint64_t *dev = calloc((size_t)n + 1, sizeof *dev);
  void **dbuf = calloc((size_t)n + 1, sizeof *dbuf);
  uint64_t scratch = 0;
  int rc = dev && dbuf ? 0 : -1;
  if (rc) snprintf(err, errlen, "%s: out of memory", p->name);
  for (int i = 0; i < n && !rc; i++) {
    const hloc_buffer_info *b = i < p->num_args ? &p->args[i] : &p->results[i - p->num_args];
    rc = hloc_cuda_alloc(c, (size_t)b->bytes, &dev[i], err, errlen);
    dbuf[i] = (void *)(uintptr_t)dev[i];
    if (!rc && i < p->num_args)
      rc = hloc_cuda_to_device(c, dev[i], buffers[i], (size_t)b->bytes, err, errlen);
  }
  if (!rc) rc = hloc_cuda_alloc(c, (size_t)p->scratch_bytes, &scratch, err, errlen);
  if (!rc) rc = hloc_cuda_run_device_with(c, p, dbuf, scratch, o, err, errlen);
  for (int i = 0; i < n && !rc; i++) {
    const hloc_buffer_info *b = i < p->num_args ? &p->args[i] : &p->results[i - p->num_args];
    if (i >= p->num_args || b->updated)
      rc = hloc_cuda_to_host(c, buffers[i], dev[i], (size_t)b->bytes, err, errlen);
  }
  /* Freeing after a failure keeps the first message. */
  char ignored[64];
  for (int i = 0; dev && i < n; i++) hloc_cuda_free(c, dev[i], ignored, sizeof ignored);
  hloc_cuda_free(c, scratch, ignored, sizeof ignored);
  free(dev);
  free(dbuf);
  return rc;
}
