/* bench_quant.c - throughput of every vec_dot kernel, per kernel level.
 *
 * For each type with a SIMD kernel and each level this CPU supports, dots
 * one activation row (n = 4096, quantized to the type's vec_dot_type)
 * against the rows of a weight matrix, as a matmul does, and prints GB/s of
 * weight bytes read and GFLOP/s (2n per dot), twice: for a matrix that fits
 * in L2 (compute-bound) and for one of ~MB megabytes (default 512; memory-
 * bound, as decode is). Then the tile kernels as prefill runs them: a
 * chunk of 16 weight rows against 64 activation rows, 4 x 4 per call. Also prints
 * the activation quantizers' speed. Single thread. Figures only; nothing
 * is asserted.
 *   usage: bench_quant [MB]
 */
#include "base/cpu.h"
#include "quant/quant.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 4096 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


static void fill_random(float *x, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
}

/* Seconds per pass over `rows` rows (best of passes within ~0.25 s). */
static double time_rows(qt_vec_dot_fn dot, const uint8_t *w, size_t row_bytes, size_t rows,
                        const void *act, volatile float *sink)
{
    double best = 1e30, start = now_s();
    int passes = 0;
    do {
        double t0 = now_s();
        float acc = 0, s;
        for (size_t r = 0; r < rows; r++) {
            dot(N, &s, w + r * row_bytes, act);
            acc += s;
        }
        *sink = acc;
        double dt = now_s() - t0;
        if (dt < best) best = dt;
        passes++;
    } while (now_s() - start < 0.25 || passes < 2);
    return best;
}

int main(int argc, char **argv)
{
    const double big_mb = argc > 1 ? atof(argv[1]) : 512.0;
    static const uint32_t types[] = {QT_Q8_0, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q2_K, QT_Q3_K,
                                     QT_Q4_K, QT_Q5_K, QT_Q6_K, QT_F16,  QT_BF16, QT_F32};
    static float xf[N];
    static uint8_t act[N * 4];
    volatile float sink = 0;
    fill_random(xf, N, 7);

    printf("n = %d, single thread, best of passes; L2 = weight matrix of ~512 KB, "
           "DRAM = ~%.0f MB\n", N, big_mb);
    printf("%-5s %-12s %10s %10s %10s %10s\n", "type", "level", "L2 GB/s", "L2 GFLOP/s", "DRAM GB/s",
           "DRAM GFLOP/s");
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const qt_traits *t = qt_get(types[k]);
        const qt_traits *ta = qt_get(t->vec_dot_type);
        uint64_t row_bytes;
        qt_row_size(types[k], N, &row_bytes);
        const size_t small_rows = (512u << 10) / row_bytes + 1;
        const size_t big_rows = (size_t)(big_mb * 1048576.0 / (double)row_bytes) + 1;
        uint8_t *w = malloc(big_rows * row_bytes);
        float *tmp = malloc(N * sizeof *tmp);
        if (!w || !tmp) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (size_t r = 0; r < big_rows; r++) {
            fill_random(tmp, N, (uint32_t)(r % 64) + 1); /* 64 distinct rows, repeated */
            if (r < 64) t->from_float(tmp, w + r * row_bytes, N);
            else memcpy(w + r * row_bytes, w + (r % 64) * row_bytes, row_bytes);
        }
        ta->from_float(xf, act, N);
        for (int lv = CPU_LEVEL_SCALAR; lv <= CPU_LEVEL_TOP; lv++) {
            qt_vec_dot_fn dot = qt_vec_dot_at(types[k], (cpu_level)lv);
            if (!dot || !cpu_level_supported((cpu_level)lv)) continue;
            double ts = time_rows(dot, w, row_bytes, small_rows, act, &sink);
            double tb = time_rows(dot, w, row_bytes, big_rows, act, &sink);
            printf("%-5s %-12s %10.2f %10.2f %10.2f %10.2f\n", t->name, cpu_level_name((cpu_level)lv),
                   (double)(small_rows * row_bytes) / ts * 1e-9, 2.0 * N * (double)small_rows / ts * 1e-9,
                   (double)(big_rows * row_bytes) / tb * 1e-9, 2.0 * N * (double)big_rows / tb * 1e-9);
        }
        free(w);
        free(tmp);
    }

    /* Tile kernels: 16 rows x 64 activation rows per pass, GFLOP/s. */
    printf("\n%-5s %-12s %14s\n", "tile", "level", "GFLOP/s");
    enum { ROWS = 16, TOKS = 64 };
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const qt_traits *t = qt_get(types[k]), *ta = qt_get(t->vec_dot_type);
        uint64_t row_bytes, act_bytes;
        qt_row_size(types[k], N, &row_bytes);
        qt_row_size(t->vec_dot_type, N, &act_bytes);
        uint8_t *w = malloc(ROWS * row_bytes), *a = malloc(TOKS * act_bytes);
        float *tmp = malloc(N * sizeof *tmp);
        if (!w || !a || !tmp) return 1;
        for (int r = 0; r < ROWS; r++) {
            fill_random(tmp, N, (uint32_t)r + 1);
            t->from_float(tmp, w + r * row_bytes, N);
        }
        for (int r = 0; r < TOKS; r++) {
            fill_random(tmp, N, (uint32_t)r + 100);
            ta->from_float(tmp, a + r * act_bytes, N);
        }
        for (int lv = CPU_LEVEL_AVX2; lv <= CPU_LEVEL_TOP; lv++) {
            qt_tile_fn tile = qt_tile_at(types[k], (cpu_level)lv);
            if (!tile || !cpu_level_supported((cpu_level)lv)) continue;
            double best = 1e30, start = now_s();
            float s[QT_TILE * QT_TILE];
            while (now_s() - start < 0.25) {
                const double t0 = now_s();
                for (int tk = 0; tk < TOKS; tk += QT_TILE)
                    for (int r = 0; r < ROWS; r += QT_TILE) {
                        tile(N, s, QT_TILE, w + r * row_bytes, row_bytes, a + tk * act_bytes,
                             act_bytes, QT_TILE, QT_TILE);
                        sink += s[0];
                    }
                const double dt = now_s() - t0;
                if (dt < best) best = dt;
            }
            printf("%-5s %-12s %14.2f\n", t->name, cpu_level_name((cpu_level)lv),
                   2.0 * N * ROWS * TOKS / best * 1e-9);
        }
        free(w);
        free(a);
        free(tmp);
    }

    /* Activation quantizers: one row of N floats, GB/s of float input. */
    printf("\n%-5s %-12s %14s\n", "quant", "level", "F32 in GB/s");
    static const uint32_t qtypes[] = {QT_Q8_0, QT_Q8_K};
    for (size_t k = 0; k < 2; k++) {
        for (int lv = CPU_LEVEL_SCALAR; lv <= CPU_LEVEL_TOP; lv++) {
            qt_from_float_fn q = qt_quantize_at(qtypes[k], (cpu_level)lv);
            if (!q || !cpu_level_supported((cpu_level)lv)) continue;
            double best = 1e30, start = now_s();
            while (now_s() - start < 0.2) {
                double t0 = now_s();
                for (int r = 0; r < 16; r++) q(xf, act, N);
                double dt = (now_s() - t0) / 16;
                if (dt < best) best = dt;
            }
            printf("%-5s %-12s %14.2f\n", qt_get(qtypes[k])->name, cpu_level_name((cpu_level)lv),
                   (double)(N * sizeof(float)) / best * 1e-9);
        }
    }
    return sink == 12345.0f;
}
