/* threadpool.c - persistent worker threads: open/close job hand-off with
 * spin-then-sleep waiting.
 *
 * One atomic word describes the current job: its generation (high 32 bits),
 * a CLOSED flag and the number of workers inside fn (low bits).
 *   1. thread 0 stores fn/ctx, publishes a new generation (open, 0 inside)
 *      and wakes sleeping workers;
 *   2. a worker that sees the new generation joins with a CAS (count + 1)
 *      while the job is open, runs fn, and leaves (count - 1); if it finds
 *      the job already closed it skips it;
 *   3. thread 0 runs fn itself until the work counter is exhausted, closes
 *      the job (no more joins) and waits for the count to drop to 0.
 * Thread 0 thus never waits for a worker that the OS has descheduled (the
 * machines we run on are shared). Sleeping and waking re-check the state
 * under the mutex, and the sleeper counts make the lock-free fast path
 * safe (see the seq_cst pairs below). Failure: creation only
 * (GLIMP_ERR_NOMEM).
 */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"

/* Polls of an atomic before a thread sleeps: long enough to bridge the gap
 * between consecutive ops of one forward pass (microseconds), short enough
 * that an idle pool goes to sleep almost at once. */
#define SPIN_ITERS 20000
/* Every YIELD_EVERY polls a spinning thread calls sched_yield(). On an idle
 * core that returns at once (a fraction of a microsecond); when the CPUs are
 * oversubscribed (other processes: nice does not help across autogroups) it
 * hands the core to a runnable thread instead of burning the time slice -
 * without it a spinning worker took CPU from thread 0, the critical path,
 * and 2-thread decode ran at about half the speed of 1 thread. */
#define YIELD_EVERY 16

#define JOB_CLOSED (1ull << 31)
#define JOB_COUNT 0x7FFFFFFFull
#define JOB_GEN(s) ((uint32_t)((s) >> 32))

struct threadpool {
    int n;               /* threads in total, the caller included */
    pthread_t *workers;  /* (n - 1) */
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers wait here for a new generation */
    pthread_cond_t idle; /* thread 0 waits here for the count to reach 0 */
    _Atomic uint64_t state;   /* gen << 32 | CLOSED | workers inside fn */
    atomic_int n_sleeping;    /* workers in (or entering) the wake wait */
    atomic_bool stop;         /* set once, by threadpool_free */
    uint32_t gen;             /* last generation published (thread 0 only) */
    threadpool_fn fn;         /* current job: written by thread 0 while no */
    void *ctx;                /* worker is inside (closed and count 0) */
};

typedef struct worker_arg {
    threadpool *tp;
    int ith;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* One poll-loop pause; i counts the polls so far. */
static inline void spin_pause(int i)
{
    if (i % YIELD_EVERY == YIELD_EVERY - 1)
        sched_yield();
    else
        cpu_relax();
}

/* Waits until the state's generation differs from `seen`; returns it. */
static uint64_t wait_new_job(threadpool *tp, uint32_t seen)
{
    uint64_t s;
    /* acquire: pairs with thread 0's publishing store (fn, ctx, stop). */
    for (int i = 0; i < SPIN_ITERS; i++) {
        s = atomic_load_explicit(&tp->state, memory_order_acquire);
        if (JOB_GEN(s) != seen) return s;
        spin_pause(i);
    }
    pthread_mutex_lock(&tp->mu);
    /* seq_cst pair (1): we announce sleeping, then read the state; thread 0
     * stores the state, then reads n_sleeping. One of us sees the other. */
    atomic_fetch_add_explicit(&tp->n_sleeping, 1, memory_order_seq_cst);
    while (JOB_GEN(s = atomic_load_explicit(&tp->state, memory_order_seq_cst)) == seen)
        pthread_cond_wait(&tp->wake, &tp->mu);
    atomic_fetch_sub_explicit(&tp->n_sleeping, 1, memory_order_relaxed);
    pthread_mutex_unlock(&tp->mu);
    return s;
}

static void *worker_main(void *p)
{
    worker_arg a = *(worker_arg *)p;
    free(p);
    threadpool *tp = a.tp;
    uint32_t seen = 0; /* generation 0 is the initial state, not a job */
    for (;;) {
        uint64_t s = wait_new_job(tp, seen);
        /* relaxed: stop is written before the publishing store of the final
         * generation, which the acquire load above synchronised with. */
        if (atomic_load_explicit(&tp->stop, memory_order_relaxed)) return NULL;
        if (s & JOB_CLOSED) {
            seen = JOB_GEN(s); /* finished without us */
            continue;
        }
        /* acquire: joining synchronises with the publishing store (the CAS
         * reads it or a later join in its release sequence), so fn/ctx and
         * the job's inputs are visible. On failure just look again. */
        if (!atomic_compare_exchange_weak_explicit(&tp->state, &s, s + 1, memory_order_acquire,
                                                   memory_order_relaxed))
            continue;
        seen = JOB_GEN(s);
        tp->fn(tp->ctx, a.ith, tp->n);
        /* release: publishes our results to thread 0, which acquires the
         * count reaching 0 (and orders our reads of fn/ctx before reuse). */
        uint64_t old = atomic_fetch_sub_explicit(&tp->state, 1, memory_order_release);
        if ((old & JOB_CLOSED) && (old & JOB_COUNT) == 1) {
            pthread_mutex_lock(&tp->mu);
            pthread_cond_signal(&tp->idle);
            pthread_mutex_unlock(&tp->mu);
        }
    }
}

/* Publishes the next generation (open, nobody inside) and wakes sleepers. */
static void publish(threadpool *tp)
{
    tp->gen++;
    /* seq_cst: pair (1) with wait_new_job; also a release of fn/ctx/stop. */
    atomic_store_explicit(&tp->state, (uint64_t)tp->gen << 32, memory_order_seq_cst);
    if (atomic_load_explicit(&tp->n_sleeping, memory_order_seq_cst) > 0) {
        pthread_mutex_lock(&tp->mu);
        pthread_cond_broadcast(&tp->wake);
        pthread_mutex_unlock(&tp->mu);
    }
}

threadpool *threadpool_create(int n_threads, glimp_error *err)
{
    if (n_threads < 1) n_threads = 1;
    threadpool *tp = calloc(1, sizeof *tp);
    if (!tp) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "thread pool: out of memory");
        return NULL;
    }
    tp->n = n_threads;
    atomic_init(&tp->state, 0);
    atomic_init(&tp->n_sleeping, 0);
    atomic_init(&tp->stop, false);
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->wake, NULL);
    pthread_cond_init(&tp->idle, NULL);
    if (n_threads == 1) return tp;
    tp->workers = calloc((size_t)n_threads - 1, sizeof *tp->workers);
    if (!tp->workers) {
        threadpool_free(tp);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "thread pool: out of memory");
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) *a = (worker_arg){tp, i};
        int rc = a ? pthread_create(&tp->workers[i - 1], NULL, worker_main, a) : -1;
        if (rc != 0) {
            free(a);
            tp->n = i; /* join only the workers that started */
            threadpool_free(tp);
            glimp_error_set(err, GLIMP_ERR_NOMEM, "thread pool: cannot start thread %d of %d",
                            i, n_threads);
            return NULL;
        }
    }
    return tp;
}

void threadpool_free(threadpool *tp)
{
    if (!tp) return;
    if (tp->workers) {
        atomic_store_explicit(&tp->stop, true, memory_order_relaxed);
        publish(tp);
        for (int i = 1; i < tp->n; i++) pthread_join(tp->workers[i - 1], NULL);
        free(tp->workers);
    }
    pthread_mutex_destroy(&tp->mu);
    pthread_cond_destroy(&tp->wake);
    pthread_cond_destroy(&tp->idle);
    free(tp);
}

int threadpool_n_threads(const threadpool *tp) { return tp->n; }

void threadpool_run(threadpool *tp, threadpool_fn fn, void *ctx)
{
    if (tp->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->ctx = ctx;
    publish(tp);
    fn(ctx, 0, tp->n);
    /* acq_rel: acquire pairs with the release of workers that already left;
     * the returned count says who is still inside. */
    uint64_t old = atomic_fetch_or_explicit(&tp->state, JOB_CLOSED, memory_order_acq_rel);
    if ((old & JOB_COUNT) == 0) return;
    /* acquire: pairs with the leaving workers' release decrement. */
    for (int i = 0; i < SPIN_ITERS; i++) {
        if ((atomic_load_explicit(&tp->state, memory_order_acquire) & JOB_COUNT) == 0) return;
        spin_pause(i);
    }
    pthread_mutex_lock(&tp->mu);
    while (atomic_load_explicit(&tp->state, memory_order_acquire) & JOB_COUNT)
        pthread_cond_wait(&tp->idle, &tp->mu);
    pthread_mutex_unlock(&tp->mu);
}

void threadpool_counter_init(threadpool_counter *c, int64_t n, int64_t chunk)
{
    atomic_init(&c->next, 0);
    c->n = n;
    c->chunk = chunk > 0 ? chunk : 1;
}

int threadpool_counter_next(threadpool_counter *c, int64_t *begin, int64_t *end)
{
    /* relaxed: the counter only hands out disjoint index ranges; the data
     * those indices refer to is ordered by the job open/close protocol. */
    int64_t b = atomic_fetch_add_explicit(&c->next, c->chunk, memory_order_relaxed);
    if (b >= c->n) return 0;
    *begin = b;
    *end = b + c->chunk < c->n ? b + c->chunk : c->n;
    return 1;
}

void threadpool_split_init(threadpool_split *c, int64_t n, int64_t chunk, int n_parts)
{
    if (n_parts < 1) n_parts = 1;
    if (n_parts > THREADPOOL_MAX_PARTS) n_parts = THREADPOOL_MAX_PARTS;
    c->n_parts = n_parts;
    c->chunk = chunk > 0 ? chunk : 1;
    for (int p = 0; p < n_parts; p++) {
        atomic_init(&c->part[p].next, n * p / n_parts);
        c->part[p].end = n * (p + 1) / n_parts;
    }
}

int threadpool_split_next(threadpool_split *c, int ith, int *visited, int64_t *begin,
                          int64_t *end)
{
    while (*visited < c->n_parts) {
        struct threadpool_part *p = &c->part[(ith + *visited) % c->n_parts];
        /* relaxed: as threadpool_counter_next */
        const int64_t b = atomic_fetch_add_explicit(&p->next, c->chunk, memory_order_relaxed);
        if (b < p->end) {
            *begin = b;
            *end = b + c->chunk < p->end ? b + c->chunk : p->end;
            return 1;
        }
        (*visited)++;
    }
    return 0;
}

/* Reads "N" from a small sysfs file; -1 when unreadable. */
static long read_sys_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f) return -1;
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

int threadpool_default_threads(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return (int)online;
    /* distinct (package, core) pairs among the CPUs we may run on */
    enum { MAX_CORES = 1024 };
    long seen[MAX_CORES][2];
    int n_seen = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n_seen < MAX_CORES; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        long core = read_sys_long(path);
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        long pkg = read_sys_long(path);
        if (core < 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : (int)online;
        int dup = 0;
        for (int i = 0; i < n_seen && !dup; i++) dup = seen[i][0] == pkg && seen[i][1] == core;
        if (!dup) {
            seen[n_seen][0] = pkg;
            seen[n_seen][1] = core;
            n_seen++;
        }
    }
    return n_seen > 0 ? n_seen : (int)online;
}
