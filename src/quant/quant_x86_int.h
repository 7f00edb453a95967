/* quant_x86_int.h - the integer SIMD kernels, written once for 256-bit
 * vectors and compiled twice: by quant_avx2.c (AVX2 + FMA + F16C) and by
 * quant_avx512.c (adds AVX-512 VL + VNNI, where the byte and word dot
 * products become single vpdpbusd / vpdpwssd instructions). Each includer
 * defines QT_SIMD(name) to give the functions its level suffix.
 *
 * Kernels: the unpacking of Q4_0 and Q5_0 quants (Q8_0, Q4_0 and Q5_0 rows
 * dot Q8_0 live with each level's tile kernels); Q4_1 and Q5_1 rows dot
 * Q8_1; Q2_K, Q3_K, Q4_K, Q5_K and Q6_K rows dot Q8_K (an includer
 * defining QT_ZMM_K_QUANTS supplies its own Q4_K, Q5_K and Q6_K);
 * F32 -> Q8_0 and F32 -> Q8_K quantizers. Integer partial sums are exact
 * (no int16 saturation is reachable with valid blocks), so results differ
 * from the scalar references only by float summation order; the quantizers
 * are byte-identical to theirs. Nothing here fails.
 */
#ifndef QT_SIMD
#error "define QT_SIMD(name) before including quant_x86_int.h"
#endif

#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_kernels.h"

#include <immintrin.h>
#include <string.h>

/* acc + sums of 4 adjacent u8 * s8 products, per int32 lane. */
static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    const __m256i p16 = _mm256_maddubs_epi16(u, s); /* |pair| <= 2*255*128: see callers */
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
#endif
}

/* acc + sums of 2 adjacent i16 * i16 products, per int32 lane. */
static inline __m256i dot_i16(__m256i acc, __m256i a, __m256i b)
{
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

/* Per int32 lane: sum of 4 adjacent products of signed bytes a * b. The
 * sign is moved onto b so the unsigned * signed instruction applies
 * (|a| <= 128, |b| <= 127 keeps byte pairs within int16). */
static inline __m256i dot_s8s8(__m256i a, __m256i b)
{
    return dot_u8s8(_mm256_setzero_si256(), _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

static inline float hsum_ps256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax_ps256(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

/* 32 floats * mul rounded to nearest even (the MXCSR default, as
 * qt_nearest_int) and packed to 32 int8 in element order. */
static inline __m256i round_pack_32(const float *x, __m256 mul)
{
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), mul));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), mul));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), mul));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), mul));
    /* packs work per 128-bit lane: the dwords come out as 0 2 4 6 1 3 5 7 */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline float absmax_ps(const float *x, int n)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    return hmax_ps256(m);
}

/* ---- quantizers ----------------------------------------------------------- */

void QT_SIMD(qt_quant_q8_0)(const float *x, void *vy, int64_t n)
{
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const float amax = absmax_ps(x, QK8_0);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = qt_f32_to_f16(amax / 127.0f);
        _mm256_storeu_si256((__m256i *)y[i].qs, round_pack_32(x, _mm256_set1_ps(id)));
    }
}

void QT_SIMD(qt_quant_q8_K)(const float *x, void *vy, int64_t n)
{
    block_q8_K *y = vy;
    const __m256i ones8 = _mm256_set1_epi8(1);
    const __m256i ones16 = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        const float amax = absmax_ps(x, QK_K);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = 127.0f / amax;
        const __m256 mul = _mm256_set1_ps(iscale);
        __m256i s[8]; /* s[g]: 4 int32 summing to group 2g, then 4 for 2g+1 */
        for (int g = 0; g < 8; g++) {
            const __m256i q = round_pack_32(x + 32 * g, mul);
            _mm256_storeu_si256((__m256i *)(y[i].qs + 32 * g), q);
            s[g] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
        }
        /* Reduce: u0 lanes hold groups 0 2 4 6 | 1 3 5 7, u1 8..14 | 9..15. */
        __m256i u0 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
        __m256i u1 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
        __m256i w = _mm256_packs_epi32(u0, u1); /* even groups | odd groups */
        __m128i ev = _mm256_castsi256_si128(w), od = _mm256_extracti128_si256(w, 1);
        _mm_storeu_si128((__m128i *)y[i].bsums, _mm_unpacklo_epi16(ev, od));
        _mm_storeu_si128((__m128i *)(y[i].bsums + 8), _mm_unpackhi_epi16(ev, od));
        y[i].d = 1.0f / iscale;
    }
}

/* ---- Q4_0 and Q5_0 quants ---------------------------------------------------- */

/* 32 bytes, byte j = 0x10 where bit j of the 32-bit little-endian qh is
 * set, else 0 (bit 4 of the quants of Q5_0 / Q5_1). */
static inline __m256i q5_high_bits(const uint8_t *qh)
{
    uint32_t h;
    memcpy(&h, qh, sizeof h);
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    return _mm256_maskz_mov_epi8((__mmask32)h, _mm256_set1_epi8(0x10));
#else
    /* byte j takes byte j/8 of h, keeps bit j%8, and becomes 0x10 if set */
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)h), _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL,
                                                      0x0303030303030303LL));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
#endif
}

/* The 32 quants of a Q4_0/Q4_1 block as unsigned bytes 0..15, in element order. */
static inline __m256i q4_nibbles(const uint8_t *qs)
{
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0xF));
}

/* The 32 quants of a Q5_0/Q5_1 block as unsigned bytes 0..31, in element order. */
static inline __m256i q5_quants(const uint8_t *qs, const uint8_t *qh)
{
    return _mm256_or_si256(q4_nibbles(qs), q5_high_bits(qh));
}


/* The 32 quants of a Q4_0 block as signed bytes -8..7, in element order. */
static inline __m256i q4_0_bytes(const uint8_t *qs)
{
    return _mm256_sub_epi8(q4_nibbles(qs), _mm256_set1_epi8(8));
}

/* ---- Q4_1 and Q5_1 rows dot Q8_1 ----------------------------------------- */

/* Shared by both: q holds the block's unsigned quants (< 32, so byte pairs
 * stay within int16); the minimum's term m * s goes to acc_m. */
static inline void affine_block(__m256i q, float d, float m, const block_q8_1 *y, __m256 *acc, float *acc_m)
{
    const __m256i p = dot_u8s8(_mm256_setzero_si256(), q, _mm256_loadu_si256((const __m256i *)y->qs));
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(d * fp16(y->d)), _mm256_cvtepi32_ps(p), *acc);
    *acc_m += m * fp16(y->s);
}

void QT_SIMD(qt_dot_q4_1_q8_1)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_1 *x = vx;
    const block_q8_1 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0.0f;
    for (int64_t i = 0; i < n / QK4_1; i++)
        affine_block(q4_nibbles(x[i].qs), fp16(x[i].d), fp16(x[i].m), &y[i], &acc, &acc_m);
    *s = hsum_ps256(acc) + acc_m;
}

void QT_SIMD(qt_dot_q5_1_q8_1)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q5_1 *x = vx;
    const block_q8_1 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0.0f;
    for (int64_t i = 0; i < n / QK5_1; i++)
        affine_block(q5_quants(x[i].qs, x[i].qh), fp16(x[i].d), fp16(x[i].m), &y[i], &acc, &acc_m);
    *s = hsum_ps256(acc) + acc_m;
}

/* ---- K-quants rows dot Q8_K ----------------------------------------------- */

/* Shuffle mask for 16-element sub-block scales: bytes j (x8) then j+1 (x8). */
static inline __m128i scale_pair_mask(int j)
{
    return _mm_set_epi64x(0x0101010101010101LL * (j + 1), 0x0101010101010101LL * j);
}

/* Shared by Q2_K and Q3_K: sumi + the dots of the 256 unsigned quants q
 * (< 8; q[k] = elements 32k..32k+31, sub-blocks 2k and 2k+1 of 16) with the
 * Q8_K quants, each 16 weighted by its int8 scale from sc8. */
static inline __m256i k16_sum(__m256i sumi, const __m256i q[8], __m128i sc8, const int8_t *q8)
{
    for (int k = 0; k < 8; k++) {
        const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
        sumi = dot_i16(sumi, p, _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, scale_pair_mask(2 * k))));
    }
    return sumi;
}

void QT_SIMD(qt_dot_q2_K_q8_K)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q2_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m128i packed = _mm_loadu_si128((const __m128i *)x[i].scales);
        const __m128i sc8 = _mm_and_si128(packed, m4);                    /* scales, 0..15 */
        const __m128i mn8 = _mm_and_si128(_mm_srli_epi16(packed, 4), m4); /* minimums, 0..15 */
        const __m256i summs = _mm256_madd_epi16(_mm256_cvtepu8_epi16(mn8),
                                                _mm256_loadu_si256((const __m256i *)y[i].bsums));
        acc_m = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * fp16(x[i].dmin)), _mm256_cvtepi32_ps(summs), acc_m);
        __m256i q[8];
        for (int h = 0; h < 2; h++) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * h));
            for (int k = 0; k < 4; k++) q[4 * h + k] = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * k), m3);
        }
        const __m256i sumi = k16_sum(_mm256_setzero_si256(), q, sc8, y[i].qs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * fp16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = hsum_ps256(acc) - hsum_ps256(acc_m);
}

/* The 16 signed 6-bit scales of a Q3_K block as int8 -32..31 (as
 * qt_q3_k_scales, four at a time). */
static inline __m128i q3_k_scales(const uint8_t *packed)
{
    uint32_t a[3];
    memcpy(a, packed, sizeof a);
    const uint32_t lo = 0x0F0F0F0F, hi = 0x03030303;
    const __m128i sc = _mm_set_epi32((int)(((a[1] >> 4) & lo) | (((a[2] >> 6) & hi) << 4)),
                                     (int)(((a[0] >> 4) & lo) | (((a[2] >> 4) & hi) << 4)),
                                     (int)((a[1] & lo) | (((a[2] >> 2) & hi) << 4)),
                                     (int)((a[0] & lo) | ((a[2] & hi) << 4)));
    return _mm_sub_epi8(sc, _mm_set1_epi8(32));
}

void QT_SIMD(qt_dot_q3_K_q8_K)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q3_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i bit2 = _mm256_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m128i sc8 = q3_k_scales(x[i].scales);
        /* the quants are taken as lo + 4 * hbit (0..7), i.e. +4: start from
         * -4 * sum_j scale_j * bsum_j */
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), bs), 2);
        sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
        /* hbit of element 32k + l is bit k of hmask[l]: h moves right 1 per k */
        __m256i h = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        __m256i q[8];
        for (int k = 0; k < 8; k++, h = _mm256_srli_epi16(h, 1)) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * (k / 4)));
            q[k] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 2 * (k % 4)), m3),
                                   _mm256_and_si256(_mm256_slli_epi16(h, 2), bit2));
        }
        sumi = k16_sum(sumi, q, sc8, y[i].qs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * fp16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = hsum_ps256(acc);
}

/* Decodes the packed 6-bit scales/mins of Q4_K/Q5_K: int16 lanes 0..7 =
 * scales of sub-blocks 0..7, lanes 8..15 = their mins. */
static inline __m256i k_scales_mins(const uint8_t *packed)
{
    uint32_t w[3];
    memcpy(w, packed, sizeof w);
    const uint32_t sc03 = w[0] & 0x3F3F3F3F;
    const uint32_t m03 = w[1] & 0x3F3F3F3F;
    const uint32_t sc47 = (w[2] & 0x0F0F0F0F) | (((w[0] >> 6) & 0x03030303) << 4);
    const uint32_t m47 = ((w[2] >> 4) & 0x0F0F0F0F) | (((w[1] >> 6) & 0x03030303) << 4);
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)m47, (int)m03, (int)sc47, (int)sc03));
}

/* bsums of a Q8_K block added in pairs: 8 int16, one per 32-element sub-block. */
static inline __m128i bsums_pairs(const void *bsums)
{
    const __m256i b = _mm256_loadu_si256((const __m256i *)bsums);
    return _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}

#ifndef QT_ZMM_K_QUANTS /* the 256-bit K-quant dots */

/* Shuffle mask broadcasting int16 lane j of each 128-bit half. */
static inline __m256i bcast16_mask(int j) { return _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))); }

/* Shared by Q4_K and Q5_K: accumulates the dot of one super-block with
 * its Q8_K block. q[j] holds the 32 unsigned quants (< 32) of sub-block j;
 * d, dmin are the block's super-scales; the min term goes to acc_m. */
static inline void k_affine_block(const uint8_t *packed, float d, float dmin, const block_q8_K *y,
                                  const __m256i q[8], __m256 *acc, __m128 *acc_m)
{
    const __m256i sm = k_scales_mins(packed);
    const __m128i prod_m = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), bsums_pairs(y->bsums));
    *acc_m = _mm_fmadd_ps(_mm_set1_ps(-y->d * dmin), _mm_cvtepi32_ps(prod_m), *acc_m);
    const __m256i sc = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++) {
        const __m256i p = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *)(y->qs + 32 * j)));
        sumi = dot_i16(sumi, p, _mm256_shuffle_epi8(sc, bcast16_mask(j)));
    }
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(sumi), *acc);
}

static inline float k_affine_total(__m256 acc, __m128 acc_m)
{
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    return hsum_ps256(acc) + _mm_cvtss_f32(acc_m);
}

void QT_SIMD(qt_dot_q4_K_q8_K)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i q[8];
        for (int p = 0; p < 4; p++) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * p));
            q[2 * p] = _mm256_and_si256(bits, m4);
            q[2 * p + 1] = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
        }
        k_affine_block(x[i].scales, fp16(x[i].d), fp16(x[i].dmin), &y[i], q, &acc, &acc_m);
    }
    *s = k_affine_total(acc, acc_m);
}

void QT_SIMD(qt_dot_q5_K_q8_K)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q5_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i q[8];
        /* bit 2p of qh[l] is bit 4 of sub-block 2p, bit 2p+1 that of 2p+1;
         * h is shifted right 2 per pair so those are always bits 0 and 1 */
        __m256i h = _mm256_loadu_si256((const __m256i *)x[i].qh);
        for (int p = 0; p < 4; p++, h = _mm256_srli_epi16(h, 2)) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * p));
            q[2 * p] = _mm256_or_si256(_mm256_and_si256(bits, m4),
                                       _mm256_and_si256(_mm256_slli_epi16(h, 4), bit4));
            q[2 * p + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                           _mm256_and_si256(_mm256_slli_epi16(h, 3), bit4));
        }
        k_affine_block(x[i].scales, fp16(x[i].d), fp16(x[i].dmin), &y[i], q, &acc, &acc_m);
    }
    *s = k_affine_total(acc, acc_m);
}

void QT_SIMD(qt_dot_q6_K_q8_K)(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)x[i].scales);
        /* the quants are stored +32: subtract 32 * sum_j scale_j * bsum_j */
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), bs), 5);
        sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
            for (int g = 0; g < 4; g++) {
                const __m256i q8 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 128 * h + 32 * g));
                const __m256i p = _mm256_maddubs_epi16(q[g], q8); /* |pair| <= 2*63*127 */
                const __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, scale_pair_mask(8 * h + 2 * g)));
                sumi = dot_i16(sumi, p, sc);
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * fp16(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = hsum_ps256(acc);
}
#endif
