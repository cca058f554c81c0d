/*
 * threadpool.c — the runtime's thread pool and parallel-for, and the
 * hooks through which compiled code finds a pool: the calling thread's
 * (thread-local), else the process's.
 *
 * A pool of N threads starts N - 1 workers: the thread calling
 * rt_parallel_for is the N-th and works on the loop too, so a pool of one
 * thread runs everything inline and costs nothing.  One loop runs on a
 * pool at a time.  Its range [0, n) is cut into a few contiguous chunks
 * per thread (several, so that uneven chunks balance), which the threads
 * claim from an atomic counter.  A second loop started while one is
 * running (from another thread, or nested inside a chunk) does not wait
 * for the pool — waiting could deadlock a nested call — but runs inline on
 * its own thread: always correct, and the pool is already busy anyway.
 *
 * The caller never waits for a worker to wake up: a loop is published for
 * the workers (pool->job) until the caller has claimed the last chunk
 * itself, and the caller then waits only for the workers that joined and
 * are finishing chunks they claimed (job->joined).  On a loaded machine
 * where workers are slow to be scheduled, the caller simply does the work.
 * A loop lives on the caller's stack; a worker joins it, under the lock,
 * only while it is published, and a generation counter makes sure it joins
 * each loop at most once.
 *
 * A worker that finishes a loop watches the generation counter for a short
 * while (SPIN_NS) before it sleeps on the condition variable: a model's
 * parallel kernels follow each other within microseconds, and waking a
 * sleeping thread takes longer than many of their chunks.  The caller
 * signals the condition variable only when some worker sleeps, so a loop
 * whose workers all spin costs no system call.  The spin is bounded, so
 * an idle pool costs nothing after it.
 *
 * rt_parallel_for(NULL, …) looks for a pool first in a thread-local
 * variable (hloc_use_thread_pool: libhloc installs an executable's pool
 * there for the duration of a call, so executables with different thread
 * counts run side by side), then in the process-wide atomic
 * (hloc_set_thread_pool).  Workers set their thread-local pool to their
 * own pool, so that a loop nested in a chunk finds it busy and runs
 * inline rather than spilling onto another pool.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "hloc_runtime.h"

/* Chunks per thread: enough to even out chunks of unequal cost, few enough
 * that claiming them stays cheap next to the work. */
enum { CHUNKS_PER_THREAD = 4 };

/* How long a worker watches for the next loop before it sleeps: longer
 * than the gap between a model's parallel kernels (the small serial ones
 * between them), short enough that an idle pool soon stops costing CPU. */
enum { SPIN_NS = 200 * 1000 };

/* One loop: fn(ctx, begin, end) over [0, n) in chunks of `chunk`. */
typedef struct Job {
  rt_range_fn fn;
  void *ctx;
  int64_t n, chunk;
  atomic_int_fast64_t next; /* start of the next unclaimed chunk */
  int joined;               /* workers in the loop (under the pool's lock) */
} Job;

struct RtThreadPool {
  int nthreads;         /* the caller and the workers */
  pthread_t *workers;   /* nthreads - 1 of them */
  pthread_mutex_t busy; /* held by the thread running a loop */
  pthread_mutex_t lock; /* guards the fields below */
  pthread_cond_t wake;  /* a loop was published, or stop */
  pthread_cond_t done;  /* the last worker left a loop */
  Job *job;             /* the loop workers may join; NULL: none */
  int sleepers;         /* workers waiting on `wake` */
  atomic_uint_fast64_t generation; /* incremented (under lock) for every loop */
  atomic_bool stop;     /* rt_threadpool_free: workers exit (set under lock) */
  atomic_int_fast64_t loops; /* loops handed to the workers */
};

static _Atomic(RtThreadPool *) installed_pool;
static _Thread_local RtThreadPool *thread_pool;

/* Claims and runs chunks until the range is exhausted. */
static void run_chunks(Job *job) {
  for (;;) {
    int64_t begin = atomic_fetch_add(&job->next, job->chunk);
    if (begin >= job->n) return;
    int64_t end = job->n - begin < job->chunk ? job->n : begin + job->chunk;
    job->fn(job->ctx, begin, end);
  }
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Watches, without the lock, for a loop after generation `seen` or for
 * stop, for at most SPIN_NS; says whether one came. */
static bool spin_for_loop(RtThreadPool *pool, uint64_t seen) {
  int64_t deadline = now_ns() + SPIN_NS;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (atomic_load_explicit(&pool->generation, memory_order_relaxed) != seen ||
          atomic_load_explicit(&pool->stop, memory_order_relaxed))
        return true;
      cpu_relax();
    }
    if (now_ns() > deadline) return false;
  }
}

static void *worker_main(void *arg) {
  RtThreadPool *pool = arg;
  uint64_t seen = 0;
  thread_pool = pool;
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    if ((!pool->job || pool->generation == seen) && !pool->stop) {
      pthread_mutex_unlock(&pool->lock);
      spin_for_loop(pool, seen);
      pthread_mutex_lock(&pool->lock);
    }
    while ((!pool->job || pool->generation == seen) && !pool->stop) {
      pool->sleepers++;
      pthread_cond_wait(&pool->wake, &pool->lock);
      pool->sleepers--;
    }
    if (pool->stop) break;
    Job *job = pool->job;
    seen = pool->generation;
    job->joined++;
    pthread_mutex_unlock(&pool->lock);
    run_chunks(job);
    pthread_mutex_lock(&pool->lock);
    if (--job->joined == 0) pthread_cond_signal(&pool->done);
  }
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

/* Stops and joins the first `started` workers and frees the pool. */
static void destroy(RtThreadPool *pool, int started) {
  pthread_mutex_lock(&pool->lock);
  pool->stop = true;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  for (int i = 0; i < started; i++) pthread_join(pool->workers[i], NULL);
  pthread_cond_destroy(&pool->done);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->lock);
  pthread_mutex_destroy(&pool->busy);
  free(pool->workers);
  free(pool);
}

RtThreadPool *rt_threadpool_create(int nthreads) {
  RtThreadPool *pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  pool->nthreads = nthreads > 1 ? nthreads : 1;
  pool->workers = calloc((size_t)pool->nthreads, sizeof *pool->workers);
  pthread_mutex_init(&pool->busy, NULL);
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  atomic_init(&pool->loops, 0);
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->stop, false);
  if (!pool->workers) {
    destroy(pool, 0);
    return NULL;
  }
  for (int i = 0; i < pool->nthreads - 1; i++) {
    if (pthread_create(&pool->workers[i], NULL, worker_main, pool)) {
      destroy(pool, i);
      return NULL;
    }
  }
  return pool;
}

void rt_threadpool_free(RtThreadPool *pool) {
  if (!pool) return;
  /* Uninstall it so the hooks never point at freed memory. */
  RtThreadPool *expected = pool;
  atomic_compare_exchange_strong(&installed_pool, &expected, NULL);
  if (thread_pool == pool) thread_pool = NULL;
  destroy(pool, pool->nthreads - 1);
}

int rt_threadpool_threads(const RtThreadPool *pool) { return pool ? pool->nthreads : 1; }

int64_t rt_threadpool_parallel_loops(const RtThreadPool *pool) {
  return pool ? (int64_t)atomic_load(&((RtThreadPool *)pool)->loops) : 0;
}

void rt_parallel_for(RtThreadPool *pool, int64_t n, rt_range_fn fn, void *ctx) {
  if (n <= 0) return;
  if (!pool) pool = thread_pool;
  if (!pool) pool = atomic_load(&installed_pool);
  if (!pool || pool->nthreads == 1 || n == 1 || pthread_mutex_trylock(&pool->busy)) {
    fn(ctx, 0, n);
    return;
  }
  int64_t pieces = (int64_t)pool->nthreads * CHUNKS_PER_THREAD;
  Job job = {.fn = fn, .ctx = ctx, .n = n, .chunk = n < pieces ? 1 : (n + pieces - 1) / pieces};
  atomic_init(&job.next, 0);
  atomic_fetch_add(&pool->loops, 1);
  pthread_mutex_lock(&pool->lock);
  pool->job = &job;
  atomic_fetch_add(&pool->generation, 1);
  if (pool->sleepers) pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  run_chunks(&job);
  pthread_mutex_lock(&pool->lock);
  pool->job = NULL;
  while (job.joined > 0) pthread_cond_wait(&pool->done, &pool->lock);
  pthread_mutex_unlock(&pool->lock);
  pthread_mutex_unlock(&pool->busy);
}

RtThreadPool *hloc_use_thread_pool(RtThreadPool *pool) {
  RtThreadPool *previous = thread_pool;
  thread_pool = pool;
  return previous;
}

RtThreadPool *hloc_used_thread_pool(void) { return thread_pool; }

void hloc_set_thread_pool(RtThreadPool *pool) { atomic_store(&installed_pool, pool); }

RtThreadPool *hloc_thread_pool(void) { return atomic_load(&installed_pool); }
