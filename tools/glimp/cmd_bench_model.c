/* cmd_bench_model.c - `glimp bench -m MODEL.gguf`: prefill and decode speed
 * of one model, in the manner of llama-bench (pp = one batched prefill of P
 * tokens, tg = N single-token decodes, both after D tokens of context with
 * --depth D, else from an empty context), on deterministic pseudo-random
 * token ids (no tokenizer needed). Prints mean +- sd over R runs, the model
 * size and the peak RSS (getrusage). Just before the runs it measures the
 * memory read bandwidth with the session's thread count (best of 3 reads of
 * 256 MiB, in a child process to keep it out of the RSS) and prints each figure's share of that roofline: tokens/s x bytes
 * read per token (weights, over P tokens for pp, plus the KV cache rows
 * attended) / bandwidth, so runs on days of different bandwidth compare.
 * Weights are paged in before timing, and untimed warm-ups run first: one
 * decode, and one prefill of P tokens when there is a pp test (as
 * llama-bench does: the first prefill otherwise pays the page faults of the
 * scratch and cache rows it touches first, ~15% of a pp512 run). It
 * measures, it asserts nothing. Exit 0, 1 when the model cannot be loaded
 * or run, 2 on usage errors.
 */
#include "cli_args.h"
#include "commands.h"

#include "glimp.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glimp bench -m MODEL.gguf [options]\n"
            "  -m, --model FILE   GGUF model (llama, qwen2, qwen3)\n"
            "  -p N               prefill test: N prompt tokens in one batch (default 512, 0 = skip)\n"
            "  -n N               decode test: N tokens one at a time (default 128, 0 = skip)\n"
            "  -t, --threads N    threads (default: physical cores)\n"
            "  -r N               repetitions; prints mean +- sd (default 3)\n"
            "  -d, --depth N      run both tests after N tokens of context (default 0)\n"
            "  --kv-type T        KV cache type: f16 (default), f32, q8_0\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end || x < lo || x > hi) {
        if (!v) cli_usage_error("glimp bench", "option '%s' needs a value", opt);
        else cli_usage_error("glimp bench", "%s: '%s' is not an integer in [%d, %d]", opt, v, lo,
                             hi);
        return false;
    }
    *out = (int)x;
    return true;
}

static void stats(const double *x, int n, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
}

/* Runs the pp and tg tests r times after `depth` tokens of context (ids
 * [0, depth), appended once, untimed); fills pp[r], tg[r] with tokens/s. */
static glimp_status run_tests(glimp_session *s, const int32_t *ids, int depth, int n_p, int n_g,
                              int r, double *pp, double *tg, glimp_error *err)
{
    glimp_status st;
    /* warm-ups: first touches of the scratch and cache pages */
    if ((st = glimp_session_decode(s, ids[0], err))) return st;
    glimp_session_truncate(s, 0, NULL);
    if (depth > 0 && (st = glimp_session_append(s, ids, (size_t)depth, err))) return st;
    const int32_t *run_ids = ids + depth;
    if (n_p > 0 && (st = glimp_session_append(s, run_ids, (size_t)n_p, err))) return st;
    for (int k = 0; k < r; k++) {
        if (n_p > 0) {
            glimp_session_truncate(s, (size_t)depth, NULL);
            const double t0 = now_s();
            if ((st = glimp_session_append(s, run_ids, (size_t)n_p, err))) return st;
            pp[k] = n_p / (now_s() - t0);
        }
        if (n_g > 0) {
            glimp_session_truncate(s, (size_t)depth, NULL);
            const double t0 = now_s();
            for (int i = 0; i < n_g; i++)
                if ((st = glimp_session_decode(s, run_ids[i], err))) return st;
            tg[k] = n_g / (now_s() - t0);
        }
    }
    return GLIMP_OK;
}

/* ---- memory bandwidth ---- */

typedef struct bw_slice {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} bw_slice;

static void *bw_read(void *arg)
{
    bw_slice *b = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= b->n; i += 4) {
        s0 += b->p[i];
        s1 += b->p[i + 1];
        s2 += b->p[i + 2];
        s3 += b->p[i + 3];
    }
    b->sum = s0 + s1 + s2 + s3;
    return NULL;
}

/* Read bandwidth in GB/s with n_threads threads (each a contiguous slice),
 * best of 3 passes over 256 MiB; 0 when it cannot be measured. */
static double measure_bandwidth(int n_threads)
{
    enum { MAX_THREADS = 256 };
    const size_t bytes = (size_t)256 << 20, words = bytes / sizeof(uint64_t);
    if (n_threads > MAX_THREADS) n_threads = MAX_THREADS;
    uint64_t *buf = malloc(bytes);
    if (!buf) return 0;
    memset(buf, 1, bytes);
    double best = 0;
    volatile uint64_t sink = 0;
    for (int pass = 0; pass < 3; pass++) {
        bw_slice sl[MAX_THREADS];
        pthread_t th[MAX_THREADS];
        const double t0 = now_s();
        for (int t = 0; t < n_threads; t++) {
            sl[t] = (bw_slice){buf + words / (size_t)n_threads * (size_t)t, words / (size_t)n_threads, 0};
            if (t > 0 && pthread_create(&th[t], NULL, bw_read, &sl[t]) != 0)
                sl[t].n = 0; /* not started: not read, not counted */
        }
        bw_read(&sl[0]);
        size_t read_words = sl[0].n;
        for (int t = 1; t < n_threads; t++)
            if (sl[t].n) {
                pthread_join(th[t], NULL);
                read_words += sl[t].n;
            }
        const double gbs = (double)read_words * sizeof(uint64_t) / (now_s() - t0) * 1e-9;
        for (int t = 0; t < n_threads; t++) sink += sl[t].sum;
        if (gbs > best) best = gbs;
    }
    free(buf);
    return best;
}

/* measure_bandwidth in a child process, so its buffer stays out of this
 * process's peak RSS; 0 when it cannot be measured. */
static double bandwidth_in_child(int n_threads)
{
    int fd[2];
    double bw = 0;
    if (pipe(fd) != 0) return 0;
    fflush(NULL);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        bw = measure_bandwidth(n_threads);
        _exit(write(fd[1], &bw, sizeof bw) == (ssize_t)sizeof bw ? 0 : 1);
    }
    close(fd[1]);
    if (pid > 0) {
        if (read(fd[0], &bw, sizeof bw) != (ssize_t)sizeof bw) bw = 0;
        waitpid(pid, NULL, 0);
    }
    close(fd[0]);
    return bw;
}

int cli_bench_model(int argc, char **argv)
{
    const char *path = NULL;
    int n_p = 512, n_g = 128, n_threads = 0, reps = 3, depth = 0;
    glimp_kv_type kv_type = GLIMP_KV_F16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!v) return cli_usage_error("glimp bench", "option '%s' needs a value", a);
            path = v;
        } else if (!strcmp(a, "-p")) {
            if (!parse_int(a, v, 0, 1 << 20, &n_p)) return 2;
        } else if (!strcmp(a, "-n")) {
            if (!parse_int(a, v, 0, 1 << 20, &n_g)) return 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!parse_int(a, v, 1, 1024, &n_threads)) return 2;
        } else if (!strcmp(a, "-r")) {
            if (!parse_int(a, v, 1, 1000, &reps)) return 2;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--depth")) {
            if (!parse_int(a, v, 0, 1 << 24, &depth)) return 2;
        } else if (!strcmp(a, "--kv-type")) {
            if (!glimp_kv_type_parse(v, &kv_type))
                return cli_usage_error("glimp bench", "--kv-type: '%s' is not f16, f32 or q8_0",
                                       v);
        } else {
            return cli_usage_error("glimp bench", "unknown option '%s'", a);
        }
        i++;
    }
    if (!path) return cli_usage_error("glimp bench", "give -m MODEL.gguf (or --tokenizer FILE)");

    glimp_error err = {0};
    glimp_model_params mp = glimp_model_default_params();
    mp.prefault = true;
    glimp_model *m = glimp_model_load(path, &mp, &err);
    glimp_session *s = NULL;
    const int n_tok = depth + (n_p > n_g ? n_p : n_g) + 1;
    int32_t *ids = malloc((size_t)n_tok * sizeof *ids);
    double *pp = calloc((size_t)reps, sizeof *pp), *tg = calloc((size_t)reps, sizeof *tg);
    int rc = 1;
    glimp_session_params sp = glimp_session_default_params();
    if (m && ids && pp && tg) {
        sp.n_ctx = (size_t)n_tok;
        sp.n_batch = n_p > 0 ? (size_t)n_p : 512;
        sp.n_threads = n_threads;
        sp.kv_type = kv_type;
        s = glimp_session_create(m, &sp, &err);
    }
    if (s) {
        uint64_t x = 0x9E3779B97F4A7C15ull; /* fixed LCG: same ids every run */
        for (int i = 0; i < n_tok; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ids[i] = (int32_t)((x >> 33) % glimp_model_n_vocab(m));
        }
        printf("model: %s (%s, %.1f M params, %.1f MiB), %d threads, kernels %s, kv %s, depth %d\n",
               path, glimp_model_arch(m), glimp_model_n_params(m) / 1e6,
               glimp_model_size_bytes(m) / 1048576.0, glimp_session_n_threads(s),
               glimp_kernels_name(), glimp_kv_type_name(kv_type), depth);
        const double bw = bandwidth_in_child(glimp_session_n_threads(s));
        printf("memory bandwidth: %.1f GB/s (%d threads, just before the runs)\n", bw,
               glimp_session_n_threads(s));
        fflush(stdout);
        if (run_tests(s, ids, depth, n_p, n_g, reps, pp, tg, &err) == GLIMP_OK) {
            const double w = (double)glimp_model_decode_bytes(m);
            double mean, sd;
            if (n_p > 0) {
                /* per token: its share of the weights, the mean KV rows attended */
                const double b = w / n_p + (double)glimp_session_kv_bytes(m, &sp, (size_t)depth + (size_t)n_p / 2);
                stats(pp, reps, &mean, &sd);
                printf("prefill pp%d: %8.2f +- %.2f tokens/s (%d runs), %.1f%% of the roofline\n",
                       n_p, mean, sd, reps, bw > 0 ? 100.0 * mean * b / (bw * 1e9) : 0.0);
            }
            if (n_g > 0) {
                const double b = w + (double)glimp_session_kv_bytes(m, &sp, (size_t)depth + (size_t)n_g / 2);
                stats(tg, reps, &mean, &sd);
                printf("decode  tg%d: %8.2f +- %.2f tokens/s (%d runs), %.1f%% of the roofline "
                       "(%.1f MB/token: %.1f t/s)\n",
                       n_g, mean, sd, reps, bw > 0 ? 100.0 * mean * b / (bw * 1e9) : 0.0, b / 1e6,
                       bw * 1e9 / b);
            }
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            printf("peak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
            rc = 0;
        }
    }
    if (rc) fprintf(stderr, "glimp bench: %s\n", err.status ? err.msg : "out of memory");
    free(ids);
    free(pp);
    free(tg);
    glimp_session_free(s);
    glimp_model_free(m);
    return rc;
}
