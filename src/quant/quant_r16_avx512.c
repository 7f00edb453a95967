/* quant_r16_avx512.c - the AVX-512 VNNI kernel of the 16-row Q8_0 layout
 * (quant_r16.h); compiled with AVX-512 flags, called only at that level.
 *
 * Per block: the 16 rows' scales in one zmm and their quants in 8 (each 4
 * quants of all 16 rows, stored + 128); per token, 8 vpdpbusd with 4
 * broadcast activation bytes each sum the block into 16 int32 lanes (one
 * per row), started from the prep record's correction, so every lane is the
 * exact signed dot product; then one convert and one FMA by d_row * d_token
 * add it to the token's accumulator (r16_block32_tokens, shared with Q4_0
 * and Q5_0). The float steps are the same for every token count, as the
 * reference's.
 */
#include <immintrin.h>

#include "quant/quant_blocks.h"
#include "quant/quant_r16.h"
#include "quant/quant_r16_block32_avx512.h"

#define UNROLL _Pragma("GCC unroll 8")
#define ALWAYS_INLINE __attribute__((always_inline)) inline

#define GROUP_BLOCK QT_R16_Q8_0_BLOCK
/* Bytes ahead the weights are prefetched, every line of each block (8
 * blocks: ~4 KB, enough to cover memory latency at a batch's pace). A lone
 * token is faster left to the hardware prefetcher. */
#define PREFETCH_AHEAD (8 * GROUP_BLOCK)

static ALWAYS_INLINE void r16_dot(int64_t n, float *s, size_t ss, const uint8_t *w,
                                  const uint8_t *act, size_t as, const int NT)
{
    const size_t off = qt_r16_prep_offset(n);
    __m512 acc[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / QK8_0; b++, w += GROUP_BLOCK) {
        if (NT > 1)
            UNROLL for (int l = 0; l < GROUP_BLOCK; l += 64)
                _mm_prefetch((const char *)w + PREFETCH_AHEAD + l, _MM_HINT_T0);
        const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        __m512i q[8];
        UNROLL for (int g = 0; g < 8; g++) q[g] = _mm512_loadu_si512(w + 32 + 64 * g);
        r16_block32_tokens(acc, q, dx, act, as, off, b, 0, NT);
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, acc[t]);
}

void qt_r16_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                       size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) r16_dot(n, s, s_stride, w, a, act_stride, k)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}
