/* quant_avx512.c - AVX-512 (F, BW, DQ, VL) + VNNI kernels (compiled with
 * those flags only; called only when cpu_kernel_level() is
 * CPU_LEVEL_AVX512).
 *
 * The integer kernels come from quant_x86_int.h, where VNNI turns each
 * byte dot into one vpdpbusd and each scaled word dot into one vpdpwssd.
 * The float dots (F32, F16, BF16 rows against F32 activations) use 512-bit
 * vectors with a masked tail, so any n works; so do the K-quant dots
 * (below), which measured 1.8x (Q4_K) to 3x (Q6_K) faster than their
 * 256-bit versions in cache. Nothing here fails.
 */
#define QT_SIMD(name) name##_avx512
#define QT_ZMM_K_QUANTS /* quant_x86_int.h leaves Q4_K, Q5_K, Q6_K to this file */
#include "quant/quant_x86_int.h"

static inline __m512 load16_f32(const float *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }

static inline __m512 load16_f16(const uint16_t *p, __mmask16 m)
{
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

static inline __m512 load16_bf16(const uint16_t *p, __mmask16 m)
{
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

/* Body of the float dots: 4 accumulators of 16 lanes, then a masked tail. */
#define QT_FLOAT_DOT512(T, LOAD)                                                                    \
    const T *x = vx;                                                                                \
    const float *y = vy;                                                                            \
    const __mmask16 all = 0xFFFF;                                                                   \
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                     \
    int64_t i = 0;                                                                                  \
    for (; i + 64 <= n; i += 64) {                                                                  \
        a0 = _mm512_fmadd_ps(LOAD(x + i, all), _mm512_loadu_ps(y + i), a0);                         \
        a1 = _mm512_fmadd_ps(LOAD(x + i + 16, all), _mm512_loadu_ps(y + i + 16), a1);               \
        a2 = _mm512_fmadd_ps(LOAD(x + i + 32, all), _mm512_loadu_ps(y + i + 32), a2);               \
        a3 = _mm512_fmadd_ps(LOAD(x + i + 48, all), _mm512_loadu_ps(y + i + 48), a3);               \
    }                                                                                               \
    for (; i < n; i += 16) {                                                                        \
        const __mmask16 m = n - i >= 16 ? all : (__mmask16)((1u << (n - i)) - 1);                  \
        a0 = _mm512_fmadd_ps(LOAD(x + i, m), _mm512_maskz_loadu_ps(m, y + i), a0);                  \
    }                                                                                               \
    *s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)))

void qt_dot_f32_f32_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    QT_FLOAT_DOT512(float, load16_f32);
}

void qt_dot_f16_f32_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    QT_FLOAT_DOT512(uint16_t, load16_f16);
}

void qt_dot_bf16_f32_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    QT_FLOAT_DOT512(uint16_t, load16_bf16);
}

/* ---- K-quants with 512-bit vectors ------------------------------------------
 * A zmm holds two consecutive 32-quant sub-blocks of Q4_K (or four 16-quant
 * ones of Q6_K), matching 64 contiguous Q8_K activations: the quants are
 * split from a broadcast of their packed bytes with per-half variable
 * shifts, then vpmaddubsw + vpdpwssd apply the sub-block scales. */

/* Index vector for vpermw: int16 lane i selects scale first + i / (32 /
 * per), per = sub-blocks per zmm, i.e. the scale of each lane's quants. */
static inline __m512i scale_index(int first, int per)
{
    short idx[32];
    for (int i = 0; i < 32; i++) idx[i] = (short)(first + i / (32 / per));
    return _mm512_loadu_si512(idx);
}

/* Q4_K and Q5_K: pair p of sub-blocks (2p from the low nibbles, 2p+1 from
 * the high ones) against activations 64p..64p+63. qh: NULL for Q4_K. */
static inline void dot_k_affine_512(const block_q8_K *y, const uint8_t *scales, float d, float dmin,
                                    const uint8_t *qs, const uint8_t *qh, const __m512i idx[4],
                                    __m512 *acc, __m128 *acc_m)
{
    const __m512i m4 = _mm512_set1_epi8(0xF);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    const __m512i nib_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    const __m512i bit_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(1), 1);
    const __m256i sm = k_scales_mins(scales);
    const __m128i prod_m = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), bsums_pairs(y->bsums));
    *acc_m = _mm_fmadd_ps(_mm_set1_ps(-y->d * dmin), _mm_cvtepi32_ps(prod_m), *acc_m);
    const __m512i sc = _mm512_castsi256_si512(sm);
    /* bit 2p of qh[l] is bit 4 of sub-block 2p, bit 2p+1 that of 2p+1; h
     * moves right 2 per pair so they are bits 0 | 1 of the two halves */
    __m512i h = qh ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh)) : _mm512_setzero_si512();
    __m512i sumi = _mm512_setzero_si512();
    for (int p = 0; p < 4; p++, h = _mm512_srli_epi16(h, 2)) {
        const __m512i bits = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * p)));
        __m512i q = _mm512_and_si512(_mm512_srlv_epi16(bits, nib_shift), m4);
        if (qh) q = _mm512_or_si512(q, _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(h, bit_shift), 4), bit4));
        const __m512i q8 = _mm512_loadu_si512(y->qs + 64 * p);
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q, q8), _mm512_permutexvar_epi16(idx[p], sc));
    }
    *acc = _mm512_fmadd_ps(_mm512_set1_ps(y->d * d), _mm512_cvtepi32_ps(sumi), *acc);
}

static inline float total_512(__m512 acc, __m128 acc_m)
{
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    return _mm512_reduce_add_ps(acc) + _mm_cvtss_f32(acc_m);
}

void qt_dot_q4_K_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    __m512i idx[4];
    for (int p = 0; p < 4; p++) idx[p] = scale_index(2 * p, 2);
    __m512 acc = _mm512_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++)
        dot_k_affine_512(&y[i], x[i].scales, fp16(x[i].d), fp16(x[i].dmin), x[i].qs, NULL, idx, &acc, &acc_m);
    *s = total_512(acc, acc_m);
}

void qt_dot_q5_K_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q5_K *x = vx;
    const block_q8_K *y = vy;
    __m512i idx[4];
    for (int p = 0; p < 4; p++) idx[p] = scale_index(2 * p, 2);
    __m512 acc = _mm512_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++)
        dot_k_affine_512(&y[i], x[i].scales, fp16(x[i].d), fp16(x[i].dmin), x[i].qs, x[i].qh, idx, &acc, &acc_m);
    *s = total_512(acc, acc_m);
}

void qt_dot_q6_K_q8_K_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const __m512i m4 = _mm512_set1_epi8(0xF);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    /* top bits of s=0|1 come from qh bits 0-1|2-3 (shift left 4|2),
     * of s=2|3 from bits 4-5|6-7 (shift right 0|2) */
    const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    __m512i idx[4];
    for (int k = 0; k < 4; k++) idx[k] = scale_index(4 * k, 4);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        /* the quants are stored +32: start from -32 * sum_j scale_j * bsum_j */
        __m512i sumi = _mm512_zextsi256_si512(
            _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5)));
        const __m512i sc = _mm512_castsi256_si512(sc16);
        for (int h = 0; h < 2; h++) {
            const __m512i ql = _mm512_loadu_si512(x[i].ql + 64 * h);
            const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h)));
            const __m512i q01 = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                                _mm512_and_si512(_mm512_sllv_epi16(qh, shl), m30));
            const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                                _mm512_and_si512(_mm512_srlv_epi16(qh, shr), m30));
            const int8_t *q8 = y[i].qs + 128 * h;
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q01, _mm512_loadu_si512(q8)),
                                       _mm512_permutexvar_epi16(idx[2 * h], sc));
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q23, _mm512_loadu_si512(q8 + 64)),
                                       _mm512_permutexvar_epi16(idx[2 * h + 1], sc));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(y[i].d * fp16(x[i].d)), _mm512_cvtepi32_ps(sumi), acc);
    }
    *s = _mm512_reduce_add_ps(acc);
}
