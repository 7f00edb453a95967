/* test_model_threadpool.c - the persistent thread pool the forward pass runs
 * on (src/base/threadpool): every index of a job is claimed exactly once,
 * thread 0 and at most every other thread run each job once, results
 * written by workers are visible after threadpool_run, across many
 * back-to-back jobs and after the workers have gone to sleep. The split
 * counter (threadpool_split): every index once for any number of parts and
 * threads, a thread starts at its own part's first index, and one thread
 * alone takes every part. Run it under TSan (make tsan) for the memory
 * orders. */
/* test-links: base */
#include <stdatomic.h>
#include <time.h>

#include "base/threadpool.h"
#include "test_util.h"

#define N_ITEMS 1000

typedef struct job {
    threadpool_counter ctr;
    int hits[N_ITEMS];      /* plain ints: each index written by one thread */
    unsigned work[N_ITEMS]; /* result of the per-item busy work */
    atomic_int thread_runs; /* how many threads entered the job */
    int nth_seen;
    atomic_int ith_mask;    /* bit per thread that ran */
} job;

static void job_fn(void *p, int ith, int nth)
{
    job *j = p;
    int64_t b, e;
    atomic_fetch_add_explicit(&j->thread_runs, 1, memory_order_relaxed);
    if (ith == 0) j->nth_seen = nth;
    int before = atomic_fetch_or_explicit(&j->ith_mask, 1 << ith, memory_order_relaxed);
    if (before & (1 << ith)) j->nth_seen = -1; /* ran twice */
    while (threadpool_counter_next(&j->ctr, &b, &e))
        for (int64_t i = b; i < e; i++) {
            unsigned x = (unsigned)i; /* a little work per item, so workers join */
            for (int k = 0; k < 2000; k++) x = x * 1103515245u + 12345u;
            j->hits[i] += (int)i + 1;
            j->work[i] = x;
        }
}

static void run_jobs(threadpool *tp, int n_jobs, int chunk, int sleep_between)
{
    const int nth = threadpool_n_threads(tp);
    static job j;
    long total_runs = 0;
    for (int r = 0; r < n_jobs; r++) {
        memset(j.hits, 0, sizeof j.hits);
        atomic_init(&j.thread_runs, 0);
        atomic_init(&j.ith_mask, 0);
        j.nth_seen = 0;
        threadpool_counter_init(&j.ctr, N_ITEMS, chunk);
        threadpool_run(tp, job_fn, &j);
        int bad = 0;
        for (int i = 0; i < N_ITEMS; i++) bad += j.hits[i] != i + 1;
        CHECK(bad == 0, "nth %d job %d: %d indices wrong", nth, r, bad);
        const int runs = atomic_load(&j.thread_runs);
        CHECK(runs >= 1 && runs <= nth && (atomic_load(&j.ith_mask) & 1) && j.nth_seen == nth,
              "nth %d: %d threads ran, mask %x", nth, runs, atomic_load(&j.ith_mask));
        total_runs += runs;
        if (sleep_between) nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    printf("%d threads, %d jobs (chunk %d): %.2f threads joined per job\n", nth, n_jobs, chunk,
           (double)total_runs / n_jobs);
}

typedef struct split_job {
    threadpool_split ctr;
    int hits[N_ITEMS];
    unsigned work[N_ITEMS];
    int64_t first[8];       /* first index each thread claimed (-1: none) */
} split_job;

static void split_fn(void *p, int ith, int nth)
{
    split_job *j = p;
    int64_t b, e;
    int visited = 0, claims = 0;
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e)) {
        if (claims++ == 0 && ith < 8) j->first[ith] = b;
        for (int64_t i = b; i < e; i++) {
            unsigned x = (unsigned)i;
            for (int k = 0; k < 500; k++) x = x * 1103515245u + 12345u;
            j->hits[i]++;
            j->work[i] = x;
        }
    }
}

/* Items [0, n) cut in n_parts, run by the pool's threads (pool != NULL)
 * or by thread `alone` by itself; every item must be claimed once. */
static void split_case(threadpool *tp, int alone, int64_t n, int64_t chunk, int n_parts)
{
    static split_job j;
    memset(j.hits, 0, sizeof j.hits);
    for (int t = 0; t < 8; t++) j.first[t] = -1;
    threadpool_split_init(&j.ctr, n, chunk, n_parts);
    if (tp)
        threadpool_run(tp, split_fn, &j);
    else
        split_fn(&j, alone, alone + 1);
    int bad = 0;
    for (int64_t i = 0; i < N_ITEMS; i++) bad += j.hits[i] != (i < n ? 1 : 0);
    CHECK(bad == 0, "split n %lld chunk %lld parts %d (%s): %d indices wrong", (long long)n,
          (long long)chunk, n_parts, tp ? "pool" : "alone", bad);
    const int parts = n_parts < 1 ? 1 : n_parts > THREADPOOL_MAX_PARTS ? THREADPOOL_MAX_PARTS
                                                                         : n_parts;
    if (!tp && n > 0) { /* its own part first, when that part is not empty */
        const int p = alone % parts;
        const int64_t p0 = n * p / parts, p1 = n * (p + 1) / parts;
        CHECK(j.first[alone] == (p1 > p0 ? p0 : j.first[alone]),
              "split n %lld parts %d: thread %d began at %lld, its part at %lld", (long long)n,
              parts, alone, (long long)j.first[alone], (long long)p0);
    }
}

static void split_cases(threadpool *tp)
{
    const int nth = threadpool_n_threads(tp);
    const int64_t ns[] = {0, 1, 5, 63, 1000};
    const int parts[] = {1, nth, nth + 3, THREADPOOL_MAX_PARTS + 5};
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t b = 0; b < sizeof parts / sizeof *parts; b++)
            for (int64_t chunk = 1; chunk <= 8; chunk += 7) {
                split_case(tp, 0, ns[a], chunk, parts[b]);
                for (int alone = 0; alone < nth && alone < 8; alone++)
                    split_case(NULL, alone, ns[a], chunk, parts[b]);
            }
    for (int r = 0; r < 200; r++) split_case(tp, 0, N_ITEMS, 4, nth); /* back to back */
}

int main(void)
{
    glimp_error err = {0};
    for (int nth = 1; nth <= 4; nth++) {
        threadpool *tp = threadpool_create(nth, &err);
        REQUIRE(tp, "create %d: %s", nth, err.msg);
        CHECK(threadpool_n_threads(tp) == nth, "n_threads");
        run_jobs(tp, 300, 7, 0); /* back to back: workers spinning */
        run_jobs(tp, 3, 64, 1);  /* with pauses: workers asleep */
        split_cases(tp);
        threadpool_free(tp);
    }
    threadpool_free(NULL);
    int d = threadpool_default_threads();
    printf("default threads (physical cores): %d\n", d);
    CHECK(d >= 1, "default threads %d", d);
    return test_finish();
}
