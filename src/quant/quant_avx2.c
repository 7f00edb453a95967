/* quant_avx2.c - AVX2 + FMA + F16C kernels (compiled with those flags only;
 * called only when cpu_kernel_level() >= CPU_LEVEL_AVX2).
 *
 * The float dots (F32 and F16 rows against F32 activations, BF16 against
 * BF16, both widened) are here;
 * the integer kernels come from quant_x86_int.h. Four independent
 * accumulators per float dot keep the FMA units busy. Nothing here fails.
 */
#define QT_SIMD(name) name##_avx2
#include "quant/quant_x86_int.h"

/* Widened weights: 8 lanes from 8 F16 / BF16 values (exact). */
static inline __m256 load8_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

static inline __m256 load8_bf16(const uint16_t *p)
{
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

static inline __m256 load8_f32(const float *p) { return _mm256_loadu_ps(p); }

/* Body of the float dots: x loaded with LOAD, scalar tail with WIDEN. */
#define QT_FLOAT_DOT(T, LOAD, WIDEN)                                                          \
    const T *x = vx;                                                                          \
    const float *y = vy;                                                                      \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                               \
    int64_t i = 0;                                                                            \
    for (; i + 32 <= n; i += 32) {                                                            \
        a0 = _mm256_fmadd_ps(LOAD(x + i), _mm256_loadu_ps(y + i), a0);                        \
        a1 = _mm256_fmadd_ps(LOAD(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);                \
        a2 = _mm256_fmadd_ps(LOAD(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);              \
        a3 = _mm256_fmadd_ps(LOAD(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);              \
    }                                                                                         \
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(LOAD(x + i), _mm256_loadu_ps(y + i), a0); \
    float sum = hsum_ps256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));      \
    for (; i < n; i++) sum += WIDEN(x[i]) * y[i];                                             \
    *s = sum

static inline float same(float v) { return v; }

void qt_dot_f32_f32_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    QT_FLOAT_DOT(float, load8_f32, same);
}

void qt_dot_f16_f32_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    QT_FLOAT_DOT(uint16_t, load8_f16, fp16);
}

void qt_dot_bf16_bf16_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    const uint16_t *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(load8_bf16(x + i), load8_bf16(y + i), a0);
        a1 = _mm256_fmadd_ps(load8_bf16(x + i + 8), load8_bf16(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(load8_bf16(x + i + 16), load8_bf16(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(load8_bf16(x + i + 24), load8_bf16(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load8_bf16(x + i), load8_bf16(y + i), a0);
    float sum = hsum_ps256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += qt_bf16_to_f32(x[i]) * qt_bf16_to_f32(y[i]);
    *s = sum;
}
