/* quant_k_r16_avx512.c - the AVX-512 VNNI kernels of the 16-row Q4_K and
 * Q6_K layouts (quant_r16.h); compiled with AVX-512 flags, called only at
 * that level.
 *
 * Per sub-block the quants of all 16 rows are unpacked once (nibbles, and
 * for Q6_K their top 2 bits), then for each token vpdpbusd with 4
 * broadcast activation bytes sums the sub-block into 16 int32 lanes (one
 * per row), a vpmulld applies the rows' scales and the super-block's
 * integer sum grows; Q4_K's minimums take 4 vpdpwssd of (m_2p, m_2p+1)
 * pairs against the token's sub-block quant sums, Q6_K's -32 offset starts
 * each sub-block's sum at -32 times its quant sum. Integer sums are exact
 * in any order, so one or two tokens split the products over more chains;
 * the float steps are the reference's, whatever the token count.
 */
#include <immintrin.h>
#include <string.h>

#include "quant/quant_blocks.h"
#include "quant/quant_r16.h"

#define UNROLL _Pragma("GCC unroll 16")
#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* Activation bytes 4g..4g+3 of a sub-block, broadcast to every lane. */
static ALWAYS_INLINE __m512i four_bytes(const int8_t *qs, int g)
{
    int32_t four;
    memcpy(&four, qs + 4 * g, 4);
    return _mm512_set1_epi32(four);
}

/* sum + the dot of nq column quads q[] with the activation bytes at qs, over
 * `chains` independent chains (added at the end). */
static ALWAYS_INLINE __m512i quads_dot(__m512i sum, const __m512i *q, int nq, const int8_t *qs,
                                       const int chains)
{
    __m512i c[4] = {sum, _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    UNROLL for (int g = 0; g < nq; g++)
        c[g % chains] = _mm512_dpbusd_epi32(c[g % chains], q[g], four_bytes(qs, g));
    UNROLL for (int k = 1; k < chains; k++) c[0] = _mm512_add_epi32(c[0], c[k]);
    return c[0];
}

/* The column quads of an 8-column chunk: low nibbles, then high ones. */
static ALWAYS_INLINE void nibbles(const uint8_t *chunk, __m512i *lo, __m512i *hi)
{
    const __m512i v = _mm512_loadu_si512(chunk), m4 = _mm512_set1_epi8(0x0F);
    *lo = _mm512_and_si512(v, m4);
    *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
}

static ALWAYS_INLINE __m512i bytes_u32(const uint8_t *p)
{
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

static ALWAYS_INLINE void q4_k_dot(int64_t n, float *s, size_t ss, const uint8_t *w,
                                   const uint8_t *act, size_t as, const int NT)
{
    const int chains = NT == 1 ? 4 : NT == 2 ? 2 : 1;
    __m512 acc[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / QK_K; b++, w += QT_R16_Q4_K_BLOCK) {
        __m512i isum[QT_R16_TOKENS];
        UNROLL for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
        for (int j = 0; j < QK_K / 32; j++) {
            __m512i q[8];
            UNROLL for (int c = 0; c < 4; c++) nibbles(w + 256 + 64 * (4 * j + c), &q[2 * c], &q[2 * c + 1]);
            const __m512i sc = _mm512_and_si512(bytes_u32(w + 64 + 16 * j), _mm512_set1_epi32(63));
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *a = (const block_q8_K *)(act + (size_t)t * as) + b;
                const __m512i dot = quads_dot(_mm512_setzero_si512(), q, 8, a->qs + 32 * j, chains);
                isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(sc, dot));
            }
        }
        /* minimums as int16 pairs (m_2p, m_2p+1) per row lane */
        __m512i mpair[4];
        UNROLL for (int p = 0; p < 4; p++) {
            const __m512i nib = bytes_u32(w + 192 + 16 * p);
            const __m512i top0 = _mm512_slli_epi32(_mm512_srli_epi32(bytes_u32(w + 64 + 32 * p), 6), 4);
            const __m512i top1 = _mm512_slli_epi32(_mm512_srli_epi32(bytes_u32(w + 80 + 32 * p), 6), 4);
            const __m512i m0 = _mm512_or_si512(_mm512_and_si512(nib, _mm512_set1_epi32(15)), top0);
            const __m512i m1 = _mm512_or_si512(_mm512_srli_epi32(nib, 4), top1);
            mpair[p] = _mm512_or_si512(m0, _mm512_slli_epi32(m1, 16));
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + 32)));
        UNROLL for (int t = 0; t < NT; t++) {
            const block_q8_K *a = (const block_q8_K *)(act + (size_t)t * as) + b;
            /* the 8 sub-block sums as int16, two per dword: (sub 2p, sub 2p+1) */
            const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)a->bsums),
                                                 _mm_loadu_si128((const __m128i *)(a->bsums + 8)));
            int32_t pw[4];
            _mm_storeu_si128((__m128i *)pw, pairs);
            __m512i msum = _mm512_setzero_si512();
            UNROLL for (int p = 0; p < 4; p++)
                msum = _mm512_dpwssd_epi32(msum, mpair[p], _mm512_set1_epi32(pw[p]));
            const __m512 dt = _mm512_set1_ps(a->d);
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, dt), _mm512_cvtepi32_ps(isum[t]), acc[t]);
            acc[t] = _mm512_fnmadd_ps(_mm512_mul_ps(dmin, dt), _mm512_cvtepi32_ps(msum), acc[t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, acc[t]);
}

static ALWAYS_INLINE void q6_k_dot(int64_t n, float *s, size_t ss, const uint8_t *w,
                                   const uint8_t *act, size_t as, const int NT)
{
    const int chains = NT == 1 ? 2 : 1;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    __m512 acc[QT_R16_TOKENS];
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / QK_K; b++, w += QT_R16_Q6_K_BLOCK) {
        /* -32 * each sub-block's quant sum, per token */
        int32_t corr[QT_R16_TOKENS][QK_K / 16];
        UNROLL for (int t = 0; t < NT; t++) {
            const block_q8_K *a = (const block_q8_K *)(act + (size_t)t * as) + b;
            const __m512i bs = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)a->bsums));
            _mm512_storeu_si512(corr[t], _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(bs, 5)));
        }
        __m512i isum[QT_R16_TOKENS];
        UNROLL for (int t = 0; t < NT; t++) isum[t] = _mm512_setzero_si512();
        for (int j = 0; j < QK_K / 16; j++) {
            const __m512i lo0 = _mm512_loadu_si512(w + 288 + 128 * j);
            const __m512i lo1 = _mm512_loadu_si512(w + 288 + 128 * j + 64);
            const __m512i hi = _mm512_loadu_si512(w + 2336 + 64 * j);
            __m512i q[4];
            q[0] = _mm512_or_si512(_mm512_and_si512(lo0, m4), _mm512_and_si512(_mm512_slli_epi16(hi, 4), m30));
            q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo0, 4), m4),
                                   _mm512_and_si512(_mm512_slli_epi16(hi, 2), m30));
            q[2] = _mm512_or_si512(_mm512_and_si512(lo1, m4), _mm512_and_si512(hi, m30));
            q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo1, 4), m4),
                                   _mm512_and_si512(_mm512_srli_epi16(hi, 2), m30));
            const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(w + 32 + 16 * j)));
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *a = (const block_q8_K *)(act + (size_t)t * as) + b;
                const __m512i dot = quads_dot(_mm512_set1_epi32(corr[t][j]), q, 4, a->qs + 16 * j, chains);
                isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(sc, dot));
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)w));
        UNROLL for (int t = 0; t < NT; t++) {
            const block_q8_K *a = (const block_q8_K *)(act + (size_t)t * as) + b;
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(a->d)), _mm512_cvtepi32_ps(isum[t]),
                                     acc[t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) _mm512_storeu_ps(s + t * ss, acc[t]);
}

void qt_r16_q4_k_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) q4_k_dot(n, s, s_stride, w, a, act_stride, k)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}

void qt_r16_q6_k_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt)
{
    const uint8_t *w = group, *a = act;
#define CALL(k) q6_k_dot(n, s, s_stride, w, a, act_stride, k)
    QT_R16_BY_TOKENS(nt, CALL);
#undef CALL
}
