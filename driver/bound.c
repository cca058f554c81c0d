/*
 * bound.c — what bounds `hloc run`: --timeout SECONDS for both the
 * compiled code and the interpreter, and --max-iterations N for the
 * interpreter's while loops.
 *
 * The timeout is a watchdog thread started just before the model runs
 * (compiling is not timed): it waits on a condition variable until the
 * deadline or until the run ends, and at the deadline sets the flag the
 * run polls — hloc_program_run_cancellable's for the compiled code (checked
 * before every kernel and every while iteration), HloEvalOptions' for the
 * interpreter (before every instruction and every iteration).  Only the
 * watchdog sets the flag, so a run that stopped timed out, and the message
 * says after how long (as the user wrote it) and where.  The clock is
 * CLOCK_MONOTONIC, so changes of the wall clock do not matter.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int run_bound_option(RunBound *b, const char *name, const char *v) {
  char *end;
  errno = 0;
  if (!strcmp(name, "--timeout")) {
    double s = strtod(v, &end);
    /* A year: beyond it the deadline's arithmetic gains nothing. */
    if (errno || *end || end == v || !isfinite(s) || s <= 0 || s > 31536000)
      return usage_error("--timeout '%s': the time limit must be a positive number of seconds "
                         "(at most a year)",
                         v);
    b->timeout_arg = v;
    b->timeout = s;
    return 0;
  }
  long long n = strtoll(v, &end, 10);
  if (errno || *end || end == v || n < 1)
    return usage_error("--max-iterations '%s': the limit must be a whole number of at least 1",
                       v);
  b->max_iterations_arg = v;
  b->max_iterations = n;
  return 0;
}

static void *watch(void *arg) {
  RunBound *b = arg;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  double whole = floor(b->timeout);
  deadline.tv_sec += (time_t)whole;
  deadline.tv_nsec += (long)((b->timeout - whole) * 1e9);
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&b->lock);
  int rc = 0;
  while (!b->finished && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&b->wake, &b->lock, &deadline);
  if (!b->finished) atomic_store(&b->cancel, 1);
  pthread_mutex_unlock(&b->lock);
  return NULL;
}

HloError *run_bound_start(RunBound *b) {
  atomic_init(&b->cancel, 0);
  if (!b->timeout_arg) return NULL;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&b->wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&b->lock, NULL);
  b->finished = false;
  int rc = pthread_create(&b->thread, NULL, watch, b);
  if (rc) {
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->lock);
    return hlo_error("--timeout: cannot start the watchdog thread: %s", strerror(rc));
  }
  b->watching = true;
  return NULL;
}

void run_bound_stop(RunBound *b) {
  if (!b->watching) return;
  pthread_mutex_lock(&b->lock);
  b->finished = true;
  pthread_cond_signal(&b->wake);
  pthread_mutex_unlock(&b->lock);
  pthread_join(b->thread, NULL);
  pthread_cond_destroy(&b->wake);
  pthread_mutex_destroy(&b->lock);
  b->watching = false;
}

HloError *run_bound_timed_out(const RunBound *b, const char *where) {
  return hlo_error("timed out after %s s at %s", b->timeout_arg, where);
}
