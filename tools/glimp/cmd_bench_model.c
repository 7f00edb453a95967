/* cmd_bench_model.c - `glimp bench -m MODEL.gguf`: prefill and decode speed
 * of one model, in the manner of llama-bench (pp = one batched prefill of P
 * tokens into an empty context, tg = N single-token decodes from an empty
 * context), on deterministic pseudo-random token ids (no tokenizer needed).
 * Prints mean +- sd over R runs, the model size and the peak RSS
 * (getrusage). Weights are paged in before timing, and one untimed warm-up
 * decode runs first. It measures, it asserts nothing. Exit 0, 1 when the
 * model cannot be loaded or run, 2 on usage errors.
 */
#include "cli_args.h"
#include "commands.h"

#include "glimp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glimp bench -m MODEL.gguf [options]\n"
            "  -m, --model FILE   GGUF model (llama, qwen2, qwen3)\n"
            "  -p N               prefill test: N prompt tokens in one batch (default 512, 0 = skip)\n"
            "  -n N               decode test: N tokens one at a time (default 128, 0 = skip)\n"
            "  -t, --threads N    threads (default: physical cores)\n"
            "  -r N               repetitions; prints mean +- sd (default 3)\n");
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

/* Runs the pp and tg tests r times; fills pp[r], tg[r] with tokens/s. */
static glimp_status run_tests(glimp_session *s, const int32_t *ids, int n_p, int n_g, int r,
                              double *pp, double *tg, glimp_error *err)
{
    glimp_status st;
    /* warm-up: one decode (first-touch of scratch and cache pages) */
    if ((st = glimp_session_decode(s, ids[0], err))) return st;
    for (int k = 0; k < r; k++) {
        if (n_p > 0) {
            glimp_session_truncate(s, 0, NULL);
            const double t0 = now_s();
            if ((st = glimp_session_append(s, ids, (size_t)n_p, err))) return st;
            pp[k] = n_p / (now_s() - t0);
        }
        if (n_g > 0) {
            glimp_session_truncate(s, 0, NULL);
            const double t0 = now_s();
            for (int i = 0; i < n_g; i++)
                if ((st = glimp_session_decode(s, ids[i], err))) return st;
            tg[k] = n_g / (now_s() - t0);
        }
    }
    return GLIMP_OK;
}

int cli_bench_model(int argc, char **argv)
{
    const char *path = NULL;
    int n_p = 512, n_g = 128, n_threads = 0, reps = 3;
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
    const int n_tok = (n_p > n_g ? n_p : n_g) + 1;
    int32_t *ids = malloc((size_t)n_tok * sizeof *ids);
    double *pp = calloc((size_t)reps, sizeof *pp), *tg = calloc((size_t)reps, sizeof *tg);
    int rc = 1;
    if (m && ids && pp && tg) {
        glimp_session_params sp = glimp_session_default_params();
        sp.n_ctx = (size_t)n_tok;
        sp.n_batch = n_p > 0 ? (size_t)n_p : 1;
        sp.n_threads = n_threads;
        s = glimp_session_create(m, &sp, &err);
    }
    if (s) {
        uint64_t x = 0x9E3779B97F4A7C15ull; /* fixed LCG: same ids every run */
        for (int i = 0; i < n_tok; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ids[i] = (int32_t)((x >> 33) % glimp_model_n_vocab(m));
        }
        printf("model: %s (%s, %.1f M params, %.1f MiB), %d threads, kernels %s\n", path,
               glimp_model_arch(m), glimp_model_n_params(m) / 1e6,
               glimp_model_size_bytes(m) / 1048576.0, glimp_session_n_threads(s),
               glimp_kernels_name());
        fflush(stdout);
        if (run_tests(s, ids, n_p, n_g, reps, pp, tg, &err) == GLIMP_OK) {
            double mean, sd;
            if (n_p > 0) {
                stats(pp, reps, &mean, &sd);
                printf("prefill pp%d: %8.2f +- %.2f tokens/s (%d runs)\n", n_p, mean, sd, reps);
            }
            if (n_g > 0) {
                stats(tg, reps, &mean, &sd);
                printf("decode  tg%d: %8.2f +- %.2f tokens/s (%d runs)\n", n_g, mean, sd, reps);
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
