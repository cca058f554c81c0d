/*
 * test_runtime_threadpool.c — the runtime's thread pool, parallel-for and
 * thread-pool hook: every iteration runs exactly once whatever the split,
 * loops run inline without a pool (or with a busy one: nested and
 * concurrent loops), the hooks are what a NULL pool means — the calling
 * thread's pool first, then the process's — each thread's pool is its
 * own, freeing a pool uninstalls it, and a pool counts the loops it took.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "check_util.h"
#include "hloc_runtime.h"

/* Counts visits per iteration and the pieces the loop was cut into. */
typedef struct Visits {
  int64_t n;
  atomic_int *count;
  atomic_int pieces;
  pthread_t caller;
  atomic_bool off_caller; /* some piece ran on another thread */
} Visits;

/* Out-of-range pieces show up as a count of 0 or 2 (or a crash). */
static void visit(void *ctx, int64_t begin, int64_t end) {
  Visits *v = ctx;
  for (int64_t i = begin < 0 ? 0 : begin; i < end && i < v->n; i++)
    atomic_fetch_add(&v->count[i], 1);
  if (begin >= end || begin < 0 || end > v->n) atomic_fetch_add(&v->count[0], 2);
  atomic_fetch_add(&v->pieces, 1);
  if (!pthread_equal(pthread_self(), v->caller)) atomic_store(&v->off_caller, true);
}

static void visit_nothing(void *ctx, int64_t begin, int64_t end) {
  (void)ctx;
  (void)begin;
  (void)end;
}

static void visits_init(Visits *v, int64_t n) {
  v->n = n;
  v->count = calloc((size_t)n + 1, sizeof *v->count);
  atomic_init(&v->pieces, 0);
  atomic_init(&v->off_caller, false);
  v->caller = pthread_self();
}

/* One assertion per loop, not per iteration: each Check assertion costs a
 * write to the parent process. */
static void expect_each_once(Visits *v) {
  int64_t bad = -1;
  for (int64_t i = 0; i < v->n && bad < 0; i++)
    if (atomic_load(&v->count[i]) != 1) bad = i;
  ck_assert_msg(bad < 0, "iteration %lld ran %d times", (long long)bad,
                bad < 0 ? 1 : atomic_load(&v->count[bad]));
  free(v->count);
}

START_TEST(each_iteration_runs_once) {
  static const int64_t sizes[] = {1, 2, 3, 7, 16, 17, 1000, 100003};
  RtThreadPool *pool = rt_threadpool_create(4);
  ck_assert_ptr_nonnull(pool);
  ck_assert_int_eq(rt_threadpool_threads(pool), 4);
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    for (int repeat = 0; repeat < 20; repeat++) {
      Visits v;
      visits_init(&v, sizes[s]);
      rt_parallel_for(pool, sizes[s], visit, &v);
      ck_assert_int_le(atomic_load(&v.pieces), 16); /* 4 chunks per thread at most */
      expect_each_once(&v);
    }
  }
  rt_parallel_for(pool, 0, visit, NULL); /* nothing to do: fn is never called */
  rt_threadpool_free(pool);
}
END_TEST

START_TEST(no_pool_runs_inline) {
  ck_assert_ptr_null(hloc_thread_pool());
  Visits v;
  visits_init(&v, 1000);
  rt_parallel_for(NULL, 1000, visit, &v);
  ck_assert_int_eq(atomic_load(&v.pieces), 1);
  ck_assert(!atomic_load(&v.off_caller));
  expect_each_once(&v);
  RtThreadPool *one = rt_threadpool_create(1);
  ck_assert_int_eq(rt_threadpool_threads(one), 1);
  visits_init(&v, 1000);
  rt_parallel_for(one, 1000, visit, &v);
  ck_assert_int_eq(atomic_load(&v.pieces), 1);
  expect_each_once(&v);
  rt_threadpool_free(one);
  ck_assert_int_eq(rt_threadpool_threads(NULL), 1);
}
END_TEST

/* On the caller, a piece that waits (up to 5 s) for a worker to run one:
 * the caller cannot take every chunk before the workers wake up, so the
 * test shows that they take part even on a loaded machine. */
static void waiting_visit(void *ctx, int64_t begin, int64_t end) {
  Visits *v = ctx;
  visit(ctx, begin, end);
  struct timespec ms = {0, 1000000};
  for (int i = 0; i < 5000 && pthread_equal(pthread_self(), v->caller) &&
                  !atomic_load(&v->off_caller);
       i++)
    nanosleep(&ms, NULL);
}

START_TEST(hook_installs_and_free_uninstalls) {
  RtThreadPool *pool = rt_threadpool_create(3);
  hloc_set_thread_pool(pool);
  ck_assert_ptr_eq(hloc_thread_pool(), pool);
  Visits v;
  visits_init(&v, 64);
  rt_parallel_for(NULL, 64, waiting_visit, &v);
  ck_assert_int_gt(atomic_load(&v.pieces), 1);
  ck_assert(atomic_load(&v.off_caller));
  expect_each_once(&v);
  rt_threadpool_free(pool);
  ck_assert_ptr_null(hloc_thread_pool());
  /* Freeing a pool that is not installed leaves the hook alone. */
  RtThreadPool *a = rt_threadpool_create(2), *b = rt_threadpool_create(2);
  hloc_set_thread_pool(a);
  rt_threadpool_free(b);
  ck_assert_ptr_eq(hloc_thread_pool(), a);
  hloc_set_thread_pool(NULL);
  rt_threadpool_free(a);
  rt_threadpool_free(NULL);
}
END_TEST

/* A loop inside a piece of a loop on the same pool runs inline (waiting
 * for the busy pool would deadlock). */
typedef struct Nested {
  RtThreadPool *pool;
  Visits inner[8];
} Nested;

static void outer_piece(void *ctx, int64_t begin, int64_t end) {
  Nested *n = ctx;
  for (int64_t i = begin; i < end; i++) {
    rt_parallel_for(n->pool, n->inner[i].n, visit, &n->inner[i]);
    ck_assert_int_eq(atomic_load(&n->inner[i].pieces), 1);
  }
}

START_TEST(nested_loops_run_inline) {
  Nested n = {.pool = rt_threadpool_create(4)};
  for (int i = 0; i < 8; i++) visits_init(&n.inner[i], 100 + i);
  rt_parallel_for(n.pool, 8, outer_piece, &n);
  for (int i = 0; i < 8; i++) expect_each_once(&n.inner[i]);
  rt_threadpool_free(n.pool);
}
END_TEST

/* Two threads looping on one pool at once: both loops complete, each
 * iteration once. */
typedef struct Racer {
  RtThreadPool *pool;
  Visits v[50];
} Racer;

static void *race(void *arg) {
  Racer *r = arg;
  for (int k = 0; k < 50; k++) {
    r->v[k].caller = pthread_self();
    rt_parallel_for(r->pool, r->v[k].n, visit, &r->v[k]);
  }
  return NULL;
}

START_TEST(concurrent_loops_share_a_pool) {
  RtThreadPool *pool = rt_threadpool_create(4);
  Racer *r = calloc(2, sizeof *r);
  for (int t = 0; t < 2; t++) {
    r[t].pool = pool;
    for (int k = 0; k < 50; k++) visits_init(&r[t].v[k], 5000);
  }
  pthread_t threads[2];
  for (int t = 0; t < 2; t++) ck_assert_int_eq(pthread_create(&threads[t], NULL, race, &r[t]), 0);
  for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 50; k++) expect_each_once(&r[t].v[k]);
  free(r);
  rt_threadpool_free(pool);
}
END_TEST

/* The calling thread's pool wins over the process's; NULL falls back to
 * the process's; hloc_use_thread_pool returns the previous pool; a
 * one-thread pool runs inline whatever the process's pool; freeing the
 * thread's pool uninstalls it. */
START_TEST(thread_pool_before_process_pool) {
  RtThreadPool *mine = rt_threadpool_create(3), *process = rt_threadpool_create(2),
               *one = rt_threadpool_create(1);
  ck_assert_ptr_null(hloc_used_thread_pool());
  hloc_set_thread_pool(process);
  ck_assert_ptr_null(hloc_use_thread_pool(mine));
  ck_assert_ptr_eq(hloc_used_thread_pool(), mine);
  Visits v;
  visits_init(&v, 64);
  rt_parallel_for(NULL, 64, waiting_visit, &v);
  ck_assert(atomic_load(&v.off_caller));
  expect_each_once(&v);
  ck_assert_int_eq(rt_threadpool_parallel_loops(mine), 1);
  ck_assert_int_eq(rt_threadpool_parallel_loops(process), 0);

  ck_assert_ptr_eq(hloc_use_thread_pool(NULL), mine); /* back to the process's */
  visits_init(&v, 64);
  rt_parallel_for(NULL, 64, visit, &v);
  expect_each_once(&v);
  ck_assert_int_eq(rt_threadpool_parallel_loops(mine), 1);
  ck_assert_int_eq(rt_threadpool_parallel_loops(process), 1);

  hloc_use_thread_pool(one); /* inline, though the process has a pool */
  visits_init(&v, 64);
  rt_parallel_for(NULL, 64, visit, &v);
  ck_assert_int_eq(atomic_load(&v.pieces), 1);
  ck_assert(!atomic_load(&v.off_caller));
  expect_each_once(&v);
  ck_assert_int_eq(rt_threadpool_parallel_loops(process), 1);
  ck_assert_int_eq(rt_threadpool_parallel_loops(one), 0);

  hloc_use_thread_pool(mine);
  rt_threadpool_free(mine);
  ck_assert_ptr_null(hloc_used_thread_pool());
  ck_assert_ptr_eq(hloc_thread_pool(), process); /* freeing one pool leaves the other */
  hloc_set_thread_pool(NULL);
  rt_threadpool_free(process);
  rt_threadpool_free(one);
  ck_assert_int_eq(rt_threadpool_parallel_loops(NULL), 0);
}
END_TEST

/* Loops run inline are not counted: one iteration, a nested loop on the
 * busy pool. */
static void nested_piece(void *ctx, int64_t begin, int64_t end) {
  RtThreadPool *pool = ctx;
  (void)begin;
  (void)end;
  rt_parallel_for(NULL, 100, visit_nothing, NULL); /* the worker's pool: this busy one */
  rt_parallel_for(pool, 100, visit_nothing, NULL);
}

START_TEST(parallel_loops_counts_loops_taken) {
  RtThreadPool *pool = rt_threadpool_create(4);
  ck_assert_int_eq(rt_threadpool_parallel_loops(pool), 0);
  for (int i = 0; i < 5; i++) rt_parallel_for(pool, 1000, visit_nothing, NULL);
  ck_assert_int_eq(rt_threadpool_parallel_loops(pool), 5);
  rt_parallel_for(pool, 1, visit_nothing, NULL);
  rt_parallel_for(pool, 0, visit_nothing, NULL);
  ck_assert_int_eq(rt_threadpool_parallel_loops(pool), 5);
  hloc_use_thread_pool(pool);
  rt_parallel_for(NULL, 64, nested_piece, pool);
  hloc_use_thread_pool(NULL);
  ck_assert_int_eq(rt_threadpool_parallel_loops(pool), 6);
  rt_threadpool_free(pool);
}
END_TEST

/* Two threads, each with a pool of its own, loop at once: every loop runs
 * on its own thread's pool, never on the other's. */
typedef struct Own {
  RtThreadPool *pool;
  RtThreadPool *seen; /* hloc_used_thread_pool on the thread */
  int loops;
} Own;

static void *use_own(void *arg) {
  Own *o = arg;
  hloc_use_thread_pool(o->pool);
  o->seen = hloc_used_thread_pool();
  for (int k = 0; k < o->loops; k++) {
    Visits v;
    visits_init(&v, 5000);
    v.caller = pthread_self();
    rt_parallel_for(NULL, 5000, visit, &v);
    for (int64_t i = 0; i < v.n; i++)
      if (atomic_load(&v.count[i]) != 1) o->seen = NULL;
    free(v.count);
  }
  hloc_use_thread_pool(NULL);
  return NULL;
}

START_TEST(each_thread_its_own_pool) {
  Own own[2] = {{rt_threadpool_create(2), NULL, 30}, {rt_threadpool_create(3), NULL, 50}};
  pthread_t threads[2];
  for (int t = 0; t < 2; t++)
    ck_assert_int_eq(pthread_create(&threads[t], NULL, use_own, &own[t]), 0);
  for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
  for (int t = 0; t < 2; t++) {
    ck_assert_msg(own[t].seen == own[t].pool, "thread %d: wrong pool or iterations lost", t);
    ck_assert_int_eq(rt_threadpool_parallel_loops(own[t].pool), own[t].loops);
    rt_threadpool_free(own[t].pool);
  }
  ck_assert_ptr_null(hloc_used_thread_pool()); /* this thread's is untouched */
}
END_TEST

int main(void) {
  Suite *s = suite_create("runtime_threadpool");
  TCase *t = tcase_create("threadpool");
  tcase_add_test(t, each_iteration_runs_once);
  tcase_add_test(t, no_pool_runs_inline);
  tcase_add_test(t, hook_installs_and_free_uninstalls);
  tcase_add_test(t, nested_loops_run_inline);
  tcase_add_test(t, concurrent_loops_share_a_pool);
  tcase_add_test(t, thread_pool_before_process_pool);
  tcase_add_test(t, parallel_loops_counts_loops_taken);
  tcase_add_test(t, each_thread_its_own_pool);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
