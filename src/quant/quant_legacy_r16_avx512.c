/* quant_legacy_r16_avx512.c - the AVX-512 VNNI kernels of the 16-row Q4_0,
 * Q5_0, Q4_1 and Q5_1 layouts (quant_r16.h); compiled with AVX-512 flags,
 * called only at that level.
 *
 * Per block the 16 rows' nibbles (and the fifth bits) are unpacked once
 * into 8 vectors of 4 unsigned quants per row. Q4_0 and Q5_0 then do as the
 * Q8_0 kernel (quant_r16_avx512.c), against the same Q8_0 activations and
 * prep records: each token's part is Q8_0's (r16_block32_tokens) with the
 * prep's correction scaled to the type's offset (-8 or -16 times the quant
 * sum: the -128 one shifted right by 4 or 3, exactly). Q4_1 and Q5_1, whose
 * quants need no offset, take Q8_1 activations: per token 8 vpdpbusd from
 * zero, then the scale's FMA and the minimum's (m_r times the token's s).
 */
#include <immintrin.h>

#include "quant/quant_blocks.h"
#include "quant/quant_r16.h"
#include "quant/quant_r16_block32_avx512.h"

#define UNROLL _Pragma("GCC unroll 8")
#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* The block's 16 rows' quants at w + head (nibbles, then the fifth bits
 * when `five`), as 8 vectors of 4 unsigned quants per row. */
static ALWAYS_INLINE void unpack_quants(const uint8_t *w, size_t head, bool five, __m512i q[8])
{
    const __m512i m4 = _mm512_set1_epi8(0x0F), m10 = _mm512_set1_epi8(0x10);
    UNROLL for (int c = 0; c < 4; c++) {
        const __m512i v = _mm512_loadu_si512(w + head + 64 * c);
        q[2 * c] = _mm512_and_si512(v, m4);
        q[2 * c + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    if (five) { /* bit g of each byte is bit 4 of quad g */
        const __m512i h = _mm512_loadu_si512(w + head + 256);
        q[0] = _mm512_or_si512(q[0], _mm512_and_si512(_mm512_slli_epi16(h, 4), m10));
        q[1] = _mm512_or_si512(q[1], _mm512_and_si512(_mm512_slli_epi16(h, 3), m10));
        q[2] = _mm512_or_si512(q[2], _mm512_and_si512(_mm512_slli_epi16(h, 2), m10));
        q[3] = _mm512_or_si512(q[3], _mm512_and_si512(_mm512_slli_epi16(h, 1), m10));
        q[4] = _mm512_or_si512(q[4], _mm512_and_si512(h, m10));
        q[5] = _mm512_or_si512(q[5], _mm512_and_si512(_mm512_srli_epi16(h, 1), m10));
        q[6] = _mm512_or_si512(q[6], _mm512_and_si512(_mm512_srli_epi16(h, 2), m10));
        q[7] = _mm512_or_si512(q[7], _mm512_and_si512(_mm512_srli_epi16(h, 3), m10));
    }
}

static ALWAYS_INLINE void legacy_dot(int64_t n, float *s, size_t ss, const uint8_t *w,
                                     const uint8_t *act, size_t as, const int NT, const bool five)
{
    const size_t block = five ? QT_R16_Q5_0_BLOCK : QT_R16_Q4_0_BLOCK;
    const int shift = five ? 3 : 4; /* -128 * sum to -16 * sum or -8 * sum */
    const size_t off = qt_r16_prep_offset(n);
    __m512 acc[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / QK8_0; b++, w += block) {
        const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        __m512i q[8];
        unpack_quants(w, 32, five, q);
        r16_block32_tokens(acc, q, dx, act, as, off, b, shift, NT);
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, acc[t]);
}

/* Q4_1 / Q5_1 against Q8_1 rows (quant_r16.h's formula). One or two tokens
 * split the products over 4 or 2 chains, as r16_block32_tokens does. */
static ALWAYS_INLINE void affine_dot(int64_t n, float *s, size_t ss, const uint8_t *w,
                                     const uint8_t *act, size_t as, const int NT, const bool five)
{
    const size_t block = five ? QT_R16_Q5_1_BLOCK : QT_R16_Q4_1_BLOCK;
    const int chains = NT == 1 ? 4 : NT == 2 ? 2 : 1;
    __m512 acc[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / QK8_1; b++, w += block) {
        const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        const __m512 mx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + 32)));
        __m512i q[8];
        unpack_quants(w, 64, five, q);
        UNROLL for (int t = 0; t < NT; t++) {
            const block_q8_1 *a = (const block_q8_1 *)(act + (size_t)t * as) + b;
            const __m512i sum = r16_block32_sum(q, a->qs, _mm512_setzero_si512(), chains);
            const __m512 dy = _mm512_set1_ps(_cvtsh_ss(a->d));
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dx, dy), _mm512_cvtepi32_ps(sum), acc[t]);
            acc[t] = _mm512_fmadd_ps(mx, _mm512_set1_ps(_cvtsh_ss(a->s)), acc[t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, acc[t]);
}

void qt_r16_q4_0_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) legacy_dot(n, s, s_stride, w, a, act_stride, k, false)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}

void qt_r16_q5_0_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) legacy_dot(n, s, s_stride, w, a, act_stride, k, true)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}

void qt_r16_q4_1_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) affine_dot(n, s, s_stride, w, a, act_stride, k, false)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}

void qt_r16_q5_1_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) affine_dot(n, s, s_stride, w, a, act_stride, k, true)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}
