/* threadpool.h - one persistent pool of worker threads for data-parallel ops.
 *
 * The pool is created once (per session) with n threads in total: the caller
 * of threadpool_run() is thread 0 and n-1 workers are started at creation.
 * Between jobs the workers spin briefly, then sleep on a condition variable,
 * so an idle pool costs no CPU. A job is one function called as
 * fn(ctx, ith, nth) by thread 0 and by every worker that arrives while the
 * job is open: the job closes when thread 0 returns from fn, and a worker
 * that was descheduled meanwhile skips it instead of delaying it. So an op
 * must hand out its work through an atomic counter (threadpool_counter, or
 * threadpool_split where items have a preferred thread), never by a fixed
 * ith/nth split; ith (< nth) only names per-thread scratch and the part of
 * a threadpool_split a thread claims from first.
 * threadpool_run() returns when every thread that joined has finished, and
 * all memory written by them during the job is visible to the caller.
 *
 * Failure: only creation can fail (thread or memory exhaustion), reported as
 * GLIMP_ERR_NOMEM. One pool runs one job at a time: it is not meant to be
 * shared by threads calling threadpool_run() concurrently (each session owns
 * its pool).
 */
#ifndef GLIMP_BASE_THREADPOOL_H
#define GLIMP_BASE_THREADPOOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "glimp.h"

typedef struct threadpool threadpool;

typedef void (*threadpool_fn)(void *ctx, int ith, int nth);

/* Starts n_threads - 1 workers (n_threads >= 1). NULL + err on failure. */
threadpool *threadpool_create(int n_threads, glimp_error *err);

/* Stops and joins the workers. NULL-safe. */
void threadpool_free(threadpool *tp);

/* Total number of threads, the caller included. */
int threadpool_n_threads(const threadpool *tp);

/* Runs fn(ctx, ith, nth) on the caller (ith 0) and on the workers that join
 * before it returns, then waits for those. */
void threadpool_run(threadpool *tp, threadpool_fn fn, void *ctx);

/* Number of physical cores available to this process (>= 1): distinct
 * (package, core) pairs among the CPUs in our affinity mask, read from
 * /sys; falls back to the online CPU count. */
int threadpool_default_threads(void);

/* A work counter shared by the threads of one job: each thread repeatedly
 * claims the next chunk [*begin, *end) of [0, n) until none is left.
 * Reset it (threadpool_counter_init) before threadpool_run(). */
typedef struct threadpool_counter {
    atomic_int_fast64_t next;
    int64_t n;
    int64_t chunk;
} threadpool_counter;

void threadpool_counter_init(threadpool_counter *c, int64_t n, int64_t chunk);

/* Claims the next chunk; false when the work is exhausted. */
int threadpool_counter_next(threadpool_counter *c, int64_t *begin, int64_t *end);

/* A work counter over [0, n) cut into n_parts even parts, part p being
 * [n * p / n_parts, n * (p + 1) / n_parts): thread ith claims chunks of its
 * own part (ith % n_parts) first, then helps with the others in turn. When
 * consecutive jobs cut the same n the same way, each item stays with the
 * same thread from job to job and its data in that core's cache, unless a
 * thread falls behind and the others take over the rest of its part. Each
 * part's counter has its own cache line. */
#define THREADPOOL_MAX_PARTS 64

typedef struct threadpool_split {
    struct threadpool_part {
        _Alignas(64) atomic_int_fast64_t next;
        int64_t end;
    } part[THREADPOOL_MAX_PARTS];
    int n_parts;
    int64_t chunk;
} threadpool_split;

/* n_parts is clamped to [1, THREADPOOL_MAX_PARTS]. */
void threadpool_split_init(threadpool_split *c, int64_t n, int64_t chunk, int n_parts);

/* Claims thread ith's next chunk; false when every part is exhausted.
 * *visited (0 at the start of the job, then left to this function) counts
 * the parts the thread found exhausted. */
int threadpool_split_next(threadpool_split *c, int ith, int *visited, int64_t *begin,
                          int64_t *end);

#endif
