/* bench_batch.c - decode speed of N sessions stepping together
 * (glimp_batch_append) against the same N sessions decoding one by one.
 *   usage: bench_batch MODEL.gguf [THREADS [STEPS]]
 * For N = 1, 2, 4, 8, 16: each session holds a 16-token prompt, then STEPS
 * (default 32) tokens are decoded per session, batched and apart; prints
 * aggregate tokens/s of both and their ratio, and the process's CPU time
 * per token (less sensitive than wall time to other jobs on the machine).
 * Figures only.
 */
#include "glimp.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_batch MODEL.gguf [THREADS [STEPS]]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 2, steps = argc > 3 ? atoi(argv[3]) : 32;
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(argv[1], NULL, &err);
    glimp_batch *b = m ? glimp_batch_create(m, 64, threads, &err) : NULL;
    if (!b) {
        fprintf(stderr, "bench_batch: %s\n", err.msg);
        return 1;
    }
    enum { MAX_N = 16 };
    glimp_session *s[MAX_N];
    glimp_session_params sp = glimp_session_default_params();
    sp.n_ctx = 256;
    sp.n_threads = threads;
    for (int i = 0; i < MAX_N; i++)
        if (!(s[i] = glimp_session_create(m, &sp, &err))) {
            fprintf(stderr, "bench_batch: %s\n", err.msg);
            return 1;
        }
    int32_t prompt[16], tok[MAX_N];
    for (int i = 0; i < 16; i++) prompt[i] = 100 + 7 * i;
    printf("%s, %d threads, %d steps per session\n", argv[1], threads, steps);
    for (int n = 1; n <= MAX_N; n *= 2) {
        double t_apart = 0, t_batch = 0, c_apart = 0, c_batch = 0;
        for (int mode = 0; mode < 2; mode++) {
            for (int i = 0; i < n; i++) {
                glimp_session_truncate(s[i], 0, NULL);
                glimp_session_append(s[i], prompt, 16, NULL);
                tok[i] = 1000 + i;
            }
            glimp_session *const *ss = s;
            const int32_t *tp[MAX_N];
            size_t one[MAX_N];
            for (int i = 0; i < n; i++) {
                tp[i] = &tok[i];
                one[i] = 1;
            }
            double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            for (int k = 0; k < steps; k++) {
                if (mode == 0)
                    for (int i = 0; i < n; i++) glimp_session_decode(s[i], tok[i], NULL);
                else
                    glimp_batch_append(b, ss, tp, one, n, NULL);
            }
            *(mode == 0 ? &t_apart : &t_batch) = clock_s(CLOCK_MONOTONIC) - t0;
            *(mode == 0 ? &c_apart : &c_batch) = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        }
        double apart = n * steps / t_apart, batched = n * steps / t_batch;
        printf("N %2d  apart %7.1f t/s  batched %7.1f t/s  %5.2fx   cpu ms/token: apart %6.2f  "
               "batched %6.2f\n", n, apart, batched, batched / apart, c_apart * 1e3 / (n * steps),
               c_batch * 1e3 / (n * steps));
    }
    for (int i = 0; i < MAX_N; i++) glimp_session_free(s[i]);
    glimp_batch_free(b);
    glimp_model_free(m);
    return 0;
}
