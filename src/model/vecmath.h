/* vecmath.h - the element-wise steps of the forward pass that call exp:
 * softmax of attention scores and SwiGLU, dispatched once per process on
 * cpu_kernel_level() (AVX-512 in vecmath_avx512.c, AVX2 in vecmath_avx2.c,
 * else the scalar code in vecmath.c with libm's expf). The vector exp is a
 * degree-6 polynomial on a range-reduced argument (within 2 ulp of expf over
 * the whole float range, tests/test_model_vecmath.c). Nothing here fails.
 */
#ifndef GLIMP_MODEL_VECMATH_H
#define GLIMP_MODEL_VECMATH_H

#include <stdint.h>

/* x[0..n) = softmax(scale * x): max subtracted, exponentials summed in
 * double, then scaled by 1 / sum. n >= 1. */
void vm_softmax(float *x, int64_t n, float scale);

/* g[0..n) = silu(g) * u = g / (1 + exp(-g)) * u. */
void vm_swiglu(float *g, const float *u, int64_t n);

/* The implementations, for tests: scalar, AVX2 and AVX-512 (call the vector
 * ones only when cpu_level_supported() says their level runs here). */
void vm_softmax_scalar(float *x, int64_t n, float scale);
void vm_swiglu_scalar(float *g, const float *u, int64_t n);
void vm_softmax_avx2(float *x, int64_t n, float scale);
void vm_swiglu_avx2(float *g, const float *u, int64_t n);
void vm_softmax_avx512(float *x, int64_t n, float scale);
void vm_swiglu_avx512(float *g, const float *u, int64_t n);

#endif
