/* quant_f16_r16_avx512.c - the AVX-512 kernel of the 16-row F16 layout
 * (quant_r16.h); compiled with AVX-512 flags, called only at that level.
 *
 * Per column k: the 16 rows' weights widened once (vcvtph2ps), then one
 * FMA per token with its activation broadcast from memory: up to 8 FMAs
 * per conversion, none of the row-major tile's horizontal sums. Each
 * (row, token) has two chains, even and odd columns, added at the end, as
 * in the reference, whatever the number of tokens per call.
 */
#include <immintrin.h>

#include "quant/quant_r16.h"

#define UNROLL _Pragma("GCC unroll 8")
#define ALWAYS_INLINE __attribute__((always_inline)) inline
/* Bytes ahead the weights are prefetched (batches only, as quant_r16_avx512.c). */
#define PREFETCH_AHEAD 4096

static ALWAYS_INLINE void f16_r16_dot(int64_t n, float *s, size_t ss, const uint16_t *w,
                                      const uint8_t *act, size_t as, const int NT)
{
    __m512 even[QT_R16_TOKENS], odd[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) even[t] = odd[t] = _mm512_setzero_ps();
    for (int64_t k = 0; k < n; k += 2, w += 2 * QT_R16_ROWS) {
        if (NT > 1) _mm_prefetch((const char *)w + PREFETCH_AHEAD, _MM_HINT_T0);
        const __m512 w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        const __m512 w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + QT_R16_ROWS)));
        UNROLL for (int t = 0; t < NT; t++) {
            const float *a = (const float *)(act + (size_t)t * as) + k;
            even[t] = _mm512_fmadd_ps(w0, _mm512_set1_ps(a[0]), even[t]);
            odd[t] = _mm512_fmadd_ps(w1, _mm512_set1_ps(a[1]), odd[t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, _mm512_add_ps(even[t], odd[t]));
}

void qt_r16_f16_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                           const void *act, size_t act_stride, int nt)
{
    const uint16_t *w = group;
    const uint8_t *a = act;
#define CALL(k) f16_r16_dot(n, s, s_stride, w, a, act_stride, k)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}
