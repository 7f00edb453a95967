/* quant_bf16_r16_avx512.c - the vdpbf16ps kernel of the 16-row BF16 layout
 * (quant_r16.h); compiled with AVX-512 flags, called only at the BF16
 * level.
 *
 * One 64-byte load holds a column pair of all 16 rows; one vdpbf16ps per
 * token multiplies it by that token's pair, broadcast, into 16 row sums.
 * Even and odd pairs go to two chains per (row, token), added at the end,
 * for every token count: batched and alone give the same bits. (The
 * instruction rounds inside in its own way, so the scalar reference agrees
 * within float tolerance, not bit for bit.)
 */
#include <immintrin.h>
#include <string.h>

#include "quant/quant_r16.h"

#define UNROLL _Pragma("GCC unroll 8")
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#define PREFETCH_AHEAD 4096 /* bytes, batches only (as quant_r16_avx512.c) */

static ALWAYS_INLINE void bf16_r16_dot(int64_t n, float *s, size_t ss, const uint8_t *w,
                                       const uint8_t *act, size_t as, const int NT)
{
    __m512 even[QT_R16_TOKENS], odd[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) even[t] = odd[t] = _mm512_setzero_ps();
    for (int64_t k = 0; k < n; k += 4, w += 4 * 2 * QT_R16_ROWS) {
        if (NT > 1) {
            _mm_prefetch((const char *)w + PREFETCH_AHEAD, _MM_HINT_T0);
            _mm_prefetch((const char *)w + PREFETCH_AHEAD + 64, _MM_HINT_T0);
        }
        const __m512bh w0 = (__m512bh)_mm512_loadu_si512(w);
        const __m512bh w1 = (__m512bh)_mm512_loadu_si512(w + 64);
        UNROLL for (int t = 0; t < NT; t++) {
            const uint8_t *a = act + (size_t)t * as + (size_t)k * 2;
            uint32_t p0, p1;
            memcpy(&p0, a, 4);
            memcpy(&p1, a + 4, 4);
            even[t] = _mm512_dpbf16_ps(even[t], w0, (__m512bh)_mm512_set1_epi32((int)p0));
            odd[t] = _mm512_dpbf16_ps(odd[t], w1, (__m512bh)_mm512_set1_epi32((int)p1));
        }
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, _mm512_add_ps(even[t], odd[t]));
}

void qt_r16_bf16_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) bf16_r16_dot(n, s, s_stride, w, a, act_stride, k)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}
