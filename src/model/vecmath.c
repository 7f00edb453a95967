/* vecmath.c - scalar softmax and SwiGLU, and the dispatch to the AVX2 and
 * AVX-512 versions (see vecmath.h). */
#include "model/vecmath.h"
#include "base/cpu.h"

#include <math.h>
#include <pthread.h>

void vm_softmax_scalar(float *x, int64_t n, float scale)
{
    float mx = -INFINITY;
    for (int64_t p = 0; p < n; p++) {
        x[p] *= scale;
        if (x[p] > mx) mx = x[p];
    }
    double sum = 0.0;
    for (int64_t p = 0; p < n; p++) {
        x[p] = expf(x[p] - mx);
        sum += x[p];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t p = 0; p < n; p++) x[p] *= inv;
}

void vm_swiglu_scalar(float *g, const float *u, int64_t n)
{
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static void (*softmax_fn)(float *, int64_t, float) = vm_softmax_scalar;
static void (*swiglu_fn)(float *, const float *, int64_t) = vm_swiglu_scalar;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void pick(void)
{
    if (cpu_kernel_level() >= CPU_LEVEL_AVX512) {
        softmax_fn = vm_softmax_avx512;
        swiglu_fn = vm_swiglu_avx512;
    } else if (cpu_kernel_level() >= CPU_LEVEL_AVX2) {
        softmax_fn = vm_softmax_avx2;
        swiglu_fn = vm_swiglu_avx2;
    }
}

void vm_softmax(float *x, int64_t n, float scale)
{
    pthread_once(&once, pick);
    softmax_fn(x, n, scale);
}

void vm_swiglu(float *g, const float *u, int64_t n)
{
    pthread_once(&once, pick);
    swiglu_fn(g, u, n);
}
