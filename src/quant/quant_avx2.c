/* quant_avx2.c - AVX2 + FMA + F16C kernels (compiled with those flags only;
 * called only when cpu_kernel_level() >= CPU_LEVEL_AVX2).
 *
 * Here: the float dots (F32 and F16 rows against F32 activations, BF16
 * against BF16, both widened; F32 with four accumulators to keep the FMA
 * units busy; zeros appended to the activations y leave the bits of all
 * three as they were) and the tile kernels of Q8_0, Q5_0, Q4_0, Q4_K, Q6_K, F16
 * and BF16 (below), with the vec_dots of Q8_0, Q5_0 and Q4_0 (the tiles'
 * float steps, 4 blocks at a time) and of F16 and BF16 (the tiles' chains
 * side by side).
 * The other integer kernels come from quant_x86_int.h.
 * Nothing here fails.
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

/* Lanes of the first left elements (none when left <= 0). */
static inline __m256i first8(int64_t left)
{
    const int k = left <= 0 ? 0 : left >= 8 ? 8 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Step k of 8 elements goes to accumulator k % 4 and the last round of up
 * to 4 steps is loaded masked, so zeros appended to y leave the bits as
 * they were (attention's blocks of query tokens rely on it). */
void qt_dot_f32_f32_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    const float *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    if (i < n) {
        const __m256i m0 = first8(n - i), m1 = first8(n - i - 8), m2 = first8(n - i - 16),
                      m3 = first8(n - i - 24);
        a0 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, m0), _mm256_maskload_ps(y + i, m0), a0);
        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i + 8, m1), _mm256_maskload_ps(y + i + 8, m1), a1);
        a2 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i + 16, m2), _mm256_maskload_ps(y + i + 16, m2), a2);
        a3 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i + 24, m3), _mm256_maskload_ps(y + i + 24, m3), a3);
    }
    *s = hsum_ps256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* ---- tile kernels -----------------------------------------------------------
 * Each kernel is written once for an NR x NT tile (NR weight rows, NT
 * activation rows, compile-time constants after inlining) and instantiated
 * for every shape up to its maximum (4 x 4, 2 x 4 or 2 x 2: the 16 ymm
 * registers hold the accumulators); each weight block is loaded and
 * unpacked once per instance, each activation block once per instance.
 * Every output has its own accumulators and sees the same operations in the
 * same order whatever the shape, and the vec_dot of the type is either the
 * 1 x 1 instance or (Q8_0, Q5_0, Q4_0 below; Q4_K, Q6_K in quant_x86_int.h) does
 * the same integer work and float steps, so a tile and vec_dot agree bit
 * for bit. */

#define ALWAYS_INLINE __attribute__((always_inline)) inline
#define UNROLL _Pragma("GCC unroll 4")

/* Q8_0, Q5_0 and Q4_0 against Q8_0: per output one float accumulator, to which
 * each block's exact integer dot times (dx * dy) is added in block order by
 * one fused multiply-add. The integer dots of 4 blocks (a tile's 4 rows, or
 * vec_dot's next 4 blocks) are summed across their lanes together, 4 x 8
 * lanes into 4 by unpacks and adds, before anything is rounded: a tile then
 * converts and scales its 4 rows in one vector, where widening and scaling
 * each row's 8 lanes apart cost a third of the kernel (bench/NOTES.md). */

/* dot_s8s8(qx, qy) with |qx| (ax) given, for a tile that reuses it over tokens. */
static ALWAYS_INLINE __m256i block_dot(__m256i ax, __m256i qx, __m256i qy)
{
    return dot_u8s8(_mm256_setzero_si256(), ax, _mm256_sign_epi8(qy, qx));
}

/* Lane k = the sum of the 8 lanes of p[k]. */
static ALWAYS_INLINE __m128i sum4_lanes(const __m256i p[4])
{
    const __m256i a01 = _mm256_add_epi32(_mm256_unpacklo_epi32(p[0], p[1]),
                                         _mm256_unpackhi_epi32(p[0], p[1]));
    const __m256i a23 = _mm256_add_epi32(_mm256_unpacklo_epi32(p[2], p[3]),
                                         _mm256_unpackhi_epi32(p[2], p[3]));
    const __m256i h = _mm256_add_epi32(_mm256_unpacklo_epi64(a01, a23),
                                       _mm256_unpackhi_epi64(a01, a23));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

enum legacy_kind { LEGACY_Q8_0, LEGACY_Q5_0, LEGACY_Q4_0 };

static ALWAYS_INLINE size_t legacy_block_bytes(const enum legacy_kind kind)
{
    return kind == LEGACY_Q5_0 ? sizeof(block_q5_0)
           : kind == LEGACY_Q4_0 ? sizeof(block_q4_0) : sizeof(block_q8_0);
}

/* The quants of block i of a Q8_0, Q5_0 (0..31 - 16) or Q4_0 (0..15 - 8)
 * row as signed bytes, and its scale. */
static ALWAYS_INLINE __m256i legacy_quants(const uint8_t *row, int64_t i,
                                           const enum legacy_kind kind, uint16_t *d)
{
    if (kind == LEGACY_Q5_0) {
        const block_q5_0 *b = (const block_q5_0 *)row + i;
        *d = b->d;
        return _mm256_sub_epi8(q5_quants(b->qs, b->qh), _mm256_set1_epi8(16));
    }
    if (kind == LEGACY_Q4_0) {
        const block_q4_0 *b = (const block_q4_0 *)row + i;
        *d = b->d;
        return q4_0_bytes(b->qs);
    }
    const block_q8_0 *b = (const block_q8_0 *)row + i;
    *d = b->d;
    return _mm256_loadu_si256((const __m256i *)b->qs);
}

static ALWAYS_INLINE void legacy_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                      const uint8_t *y, size_t by, const int NR, const int NT,
                                      const enum legacy_kind kind)
{
    __m128 acc[QT_TILE]; /* per token, lane r = row r */
    UNROLL for (int t = 0; t < NT; t++) acc[t] = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK8_0; i++) {
        __m256i qx[4], ax[4];
        uint16_t dh[4] = {0, 0, 0, 0};
        UNROLL for (int r = 0; r < NR; r++) {
            qx[r] = legacy_quants(x + r * bx, i, kind, &dh[r]);
            if (NR > 1) qt_prefetch_ahead(x + r * bx + i * legacy_block_bytes(kind), 1);
            ax[r] = _mm256_sign_epi8(qx[r], qx[r]);
        }
        const __m128 dx = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)dh));
        UNROLL for (int t = 0; t < NT; t++) {
            const block_q8_0 *c = (const block_q8_0 *)(y + t * by) + i;
            const __m256i qy = _mm256_loadu_si256((const __m256i *)c->qs);
            __m256i p[4];
            UNROLL for (int r = 0; r < 4; r++) p[r] = r < NR ? block_dot(ax[r], qx[r], qy)
                                                             : _mm256_setzero_si256();
            acc[t] = _mm_fmadd_ps(_mm_mul_ps(dx, _mm_set1_ps(fp16(c->d))),
                                  _mm_cvtepi32_ps(sum4_lanes(p)), acc[t]);
        }
    }
    UNROLL for (int t = 0; t < NT; t++) {
        float lanes[4];
        _mm_storeu_ps(lanes, acc[t]);
        UNROLL for (int r = 0; r < NR; r++) s[t * ss + r] = lanes[r];
    }
}

/* vec_dot: 4 blocks' integer dots summed together, then added one by one
 * (each as a tile adds it: fma(dx * dy, dot, acc), rounded once). */
static ALWAYS_INLINE void legacy_dot(int64_t n, float *s, const uint8_t *x, const uint8_t *y,
                                     const enum legacy_kind kind)
{
    const block_q8_0 *c = (const block_q8_0 *)y;
    const int64_t nb = n / QK8_0;
    __m128 acc = _mm_setzero_ps();
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
        __m256i p[4];
        uint16_t dh[4], dyh[4];
        UNROLL for (int k = 0; k < 4; k++) {
            p[k] = dot_s8s8(legacy_quants(x, i + k, kind, &dh[k]),
                            _mm256_loadu_si256((const __m256i *)c[i + k].qs));
            dyh[k] = c[i + k].d;
        }
        const __m128 d = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)dh)),
                                    _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)dyh)));
        const __m128 f = _mm_cvtepi32_ps(sum4_lanes(p));
        acc = _mm_fmadd_ss(d, f, acc);
        acc = _mm_fmadd_ss(_mm_shuffle_ps(d, d, 0x55), _mm_shuffle_ps(f, f, 0x55), acc);
        acc = _mm_fmadd_ss(_mm_shuffle_ps(d, d, 0xAA), _mm_shuffle_ps(f, f, 0xAA), acc);
        acc = _mm_fmadd_ss(_mm_shuffle_ps(d, d, 0xFF), _mm_shuffle_ps(f, f, 0xFF), acc);
    }
    for (; i < nb; i++) {
        uint16_t dh;
        const __m256i p[4] = {dot_s8s8(legacy_quants(x, i, kind, &dh),
                                       _mm256_loadu_si256((const __m256i *)c[i].qs)),
                              _mm256_setzero_si256(), _mm256_setzero_si256(),
                              _mm256_setzero_si256()};
        acc = _mm_fmadd_ss(_mm_set_ss(fp16(dh) * fp16(c[i].d)), _mm_cvtepi32_ps(sum4_lanes(p)), acc);
    }
    *s = _mm_cvtss_f32(acc);
}

static ALWAYS_INLINE void q8_0_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    legacy_tile(n, s, ss, x, bx, y, by, NR, NT, LEGACY_Q8_0);
}

static ALWAYS_INLINE void q5_0_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    legacy_tile(n, s, ss, x, bx, y, by, NR, NT, LEGACY_Q5_0);
}

static ALWAYS_INLINE void q4_0_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    legacy_tile(n, s, ss, x, bx, y, by, NR, NT, LEGACY_Q4_0);
}

/* Q4_K against Q8_K, as qt_dot_q4_K_q8_K: per super-block the minimums'
 * term into acc_m, the sub-blocks' scaled sums into one int32 vector (exact,
 * so their order does not matter) and that into acc; each sub-block's
 * quants and scales are unpacked once per instance. */
static ALWAYS_INLINE void q4_K_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[QT_TILE][QT_TILE];
    __m128 acc_m[QT_TILE][QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) {
        acc[r][t] = _mm256_setzero_ps();
        acc_m[r][t] = _mm_setzero_ps();
    }
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sc[QT_TILE], sumi[QT_TILE][QT_TILE];
        UNROLL for (int r = 0; r < NR; r++) {
            const block_q4_K *b = (const block_q4_K *)(x + r * bx) + i;
            if (NR > 1) qt_prefetch_ahead(b, sizeof *b);
            const __m256i sm = k_scales_mins(b->scales);
            const float dmin = fp16(b->dmin);
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                const __m128i prod_m = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1),
                                                      bsums_pairs(c->bsums));
                acc_m[r][t] = _mm_fmadd_ps(_mm_set1_ps(-c->d * dmin), _mm_cvtepi32_ps(prod_m),
                                           acc_m[r][t]);
                sumi[r][t] = _mm256_setzero_si256();
            }
            sc[r] = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
        }
        for (int j = 0; j < 8; j++) {
            UNROLL for (int r = 0; r < NR; r++) {
                const block_q4_K *b = (const block_q4_K *)(x + r * bx) + i;
                const __m256i bits = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * (j / 2)));
                const __m256i q = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(bits, 4) : bits, m4);
                const __m256i scj = _mm256_shuffle_epi8(sc[r], bcast16_mask(j));
                UNROLL for (int t = 0; t < NT; t++) {
                    const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                    const __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)(c->qs + 32 * j)));
                    sumi[r][t] = dot_i16(sumi[r][t], p, scj);
                }
            }
        }
        UNROLL for (int r = 0; r < NR; r++) {
            const float d = fp16(((const block_q4_K *)(x + r * bx) + i)->d);
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(c->d * d), _mm256_cvtepi32_ps(sumi[r][t]),
                                            acc[r][t]);
            }
        }
    }
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) s[t * ss + r] =
        k_affine_total(acc[r][t], acc_m[r][t]);
}

/* Q6_K against Q8_K, as qt_dot_q6_K_q8_K (quants stored +32, so each sum
 * starts from -32 * sum_j scale_j * bsum_j). */
static ALWAYS_INLINE void q6_K_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    __m256 acc[QT_TILE][QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] =
        _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sumi[QT_TILE][QT_TILE];
        UNROLL for (int r = 0; r < NR; r++) {
            const block_q6_K *b = (const block_q6_K *)(x + r * bx) + i;
            if (NR > 1) qt_prefetch_ahead(b, sizeof *b);
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                const __m256i bs = _mm256_loadu_si256((const __m256i *)c->bsums);
                sumi[r][t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                              _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5));
            }
        }
        for (int h = 0; h < 2; h++) {
            for (int g = 0; g < 4; g++) {
                UNROLL for (int r = 0; r < NR; r++) {
                    const block_q6_K *b = (const block_q6_K *)(x + r * bx) + i;
                    const __m256i ql = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32 * (g % 2)));
                    const __m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
                    const __m256i lo = g < 2 ? _mm256_and_si256(ql, m4)
                                             : _mm256_and_si256(_mm256_srli_epi16(ql, 4), m4);
                    const __m256i hi = g == 0 ? _mm256_slli_epi16(qh, 4)
                                       : g == 1 ? _mm256_slli_epi16(qh, 2)
                                       : g == 2 ? qh : _mm256_srli_epi16(qh, 2);
                    const __m256i q = _mm256_or_si256(lo, _mm256_and_si256(hi, m30));
                    const __m128i sc8 = _mm_loadu_si128((const __m128i *)b->scales);
                    const __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, scale_pair_mask(8 * h + 2 * g)));
                    UNROLL for (int t = 0; t < NT; t++) {
                        const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                        const __m256i q8 = _mm256_loadu_si256((const __m256i *)(c->qs + 128 * h + 32 * g));
                        sumi[r][t] = dot_i16(sumi[r][t], _mm256_maddubs_epi16(q, q8), sc);
                    }
                }
            }
        }
        UNROLL for (int r = 0; r < NR; r++) {
            const float d = fp16(((const block_q6_K *)(x + r * bx) + i)->d);
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(c->d * d), _mm256_cvtepi32_ps(sumi[r][t]),
                                            acc[r][t]);
            }
        }
    }
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) s[t * ss + r] =
        hsum_ps256(acc[r][t]);
}

/* F16 rows against F32 activations and BF16 against BF16, both widened
 * exactly. An output's n / 8 steps of 8 elements go to HALF_CHAINS
 * accumulator chains in blocks of HALF_BLOCK steps, round robin (step s to
 * chain s / HALF_BLOCK % HALF_CHAINS), each chain summing its steps in
 * order (a partial last step zero-padded, in its place); the chains are
 * added pairwise ((c0 + c1) + (c2 + c3)) and across lanes. vec_dot runs the
 * chains side by side (independent FMA chains: one would wait on the FMA
 * latency); a tile runs block after block over up to 4 rows x HALF_MT
 * tokens at once (a weight step widened once per row and used for every
 * token), each block into its chain's accumulators, kept in memory between
 * blocks. Both read the rows front to back (contiguous quarters instead of
 * blocks: decode streamed 21% slower), and give the same bits. 4 x 2
 * outputs: 8 accumulators, 2 token steps and a weight step in registers
 * (4 x 3 spilled, and a 4-token tile left a 4 x 1 rest). */
#define HALF_CHAINS 4
#define HALF_BLOCK 16
#define HALF_MT 2

static ALWAYS_INLINE __m256 half_x(const uint8_t *x, int64_t i, const bool bf16)
{
    return bf16 ? load8_bf16((const uint16_t *)x + i) : load8_f16((const uint16_t *)x + i);
}

static ALWAYS_INLINE __m256 half_y(const uint8_t *y, int64_t i, const bool bf16)
{
    return bf16 ? load8_bf16((const uint16_t *)y + i) : _mm256_loadu_ps((const float *)y + i);
}

/* The partial last step (n % 8 elements from n / 8 * 8) of a row pair,
 * zero-padded, into its chain: zeros appended to y then add exact zeros,
 * so the bits do not depend on the padding (attention's blocks of query
 * tokens rely on it). */
static ALWAYS_INLINE __m256 half_tail(__m256 c, const uint8_t *x, const uint8_t *y, int64_t n,
                                      const bool bf16)
{
    const int64_t i = n / 8 * 8, k = n - i;
    uint16_t xt[8] = {0};
    union { float f[8]; uint16_t h[8]; } yt = {{0}};
    memcpy(xt, (const uint16_t *)x + i, (size_t)k * sizeof *xt);
    if (bf16) memcpy(yt.h, (const uint16_t *)y + i, (size_t)k * sizeof *yt.h);
    else memcpy(yt.f, (const float *)y + i, (size_t)k * sizeof *yt.f);
    return _mm256_fmadd_ps(half_x((const uint8_t *)xt, 0, bf16),
                           half_y(bf16 ? (const uint8_t *)yt.h : (const uint8_t *)yt.f, 0, bf16), c);
}

/* The chain of step st. */
static inline int half_chain(int64_t st) { return (int)(st / HALF_BLOCK % HALF_CHAINS); }

/* One output: its partial step into its chain, then the chains' sum. */
static ALWAYS_INLINE float half_finish(__m256 c[HALF_CHAINS], const uint8_t *x,
                                       const uint8_t *y, int64_t n, const bool bf16)
{
    if (n % 8) c[half_chain(n / 8)] = half_tail(c[half_chain(n / 8)], x, y, n, bf16);
    return hsum_ps256(_mm256_add_ps(_mm256_add_ps(c[0], c[1]), _mm256_add_ps(c[2], c[3])));
}

/* Steps [b, e) of an NR x NT instance into acc. */
static ALWAYS_INLINE void half_block(__m256 acc[4][HALF_MT], const uint8_t *x, size_t bx,
                                     const uint8_t *y, size_t by, int64_t b, int64_t e,
                                     const int NR, const int NT, const bool bf16)
{
    for (int64_t st = b; st < e; st++) {
        __m256 wy[HALF_MT];
        UNROLL for (int t = 0; t < NT; t++) wy[t] = half_y(y + t * by, st * 8, bf16);
        UNROLL for (int r = 0; r < NR; r++) {
            const __m256 wx = half_x(x + r * bx, st * 8, bf16);
            if (NR > 1 && st % 4 == 0) qt_prefetch_ahead(x + r * bx + st * 16, 1);
            UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm256_fmadd_ps(wx, wy[t], acc[r][t]);
        }
    }
}

/* Block by block front to back, each into its chain's accumulators (kept
 * in memory between blocks). */
static ALWAYS_INLINE void half_instance(int64_t n, float *s, size_t ss, const uint8_t *x,
                                        size_t bx, const uint8_t *y, size_t by, const int NR,
                                        const int NT, const bool bf16)
{
    const int64_t n_steps = n / 8;
    __m256 c[4][HALF_MT][HALF_CHAINS];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++)
        for (int k = 0; k < HALF_CHAINS; k++) c[r][t][k] = _mm256_setzero_ps();
    for (int64_t b = 0, k = 0; b < n_steps; b += HALF_BLOCK, k = (k + 1) % HALF_CHAINS) {
        __m256 acc[4][HALF_MT];
        UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++)
            acc[r][t] = c[r][t][k];
        half_block(acc, x, bx, y, by, b, b + HALF_BLOCK < n_steps ? b + HALF_BLOCK : n_steps,
                   NR, NT, bf16);
        UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++)
            c[r][t][k] = acc[r][t];
    }
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++)
        s[t * ss + r] = half_finish(c[r][t], x + r * bx, y + t * by, n, bf16);
}

/* nr x nt (each 1..QT_TILE): instances of up to 4 rows x HALF_MT tokens,
 * every shape a compile-time instance. */
#define HALF_ROWS(R, bf16)                                                                        \
    if (T == 1) half_instance(n, st, ss, xr, bx, yt, by, R, 1, bf16);                             \
    else half_instance(n, st, ss, xr, bx, yt, by, R, 2, bf16);
static ALWAYS_INLINE void half_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, int nr, int nt, const bool bf16)
{
    for (int t0 = 0; t0 < nt; t0 += HALF_MT) {
        const int T = nt - t0 < HALF_MT ? nt - t0 : HALF_MT;
        for (int r0 = 0; r0 < nr; r0 += 4) {
            const int R = nr - r0 < 4 ? nr - r0 : 4;
            float *st = s + t0 * ss + r0;
            const uint8_t *xr = x + r0 * bx, *yt = y + t0 * by;
            if (R == 1) { HALF_ROWS(1, bf16) }
            else if (R == 2) { HALF_ROWS(2, bf16) }
            else if (R == 3) { HALF_ROWS(3, bf16) }
            else { HALF_ROWS(4, bf16) }
        }
    }
}

/* The chains side by side, block round after block round (in the last,
 * partial round the chains whose block ended drop out). */
static ALWAYS_INLINE float half_dot(int64_t n, const uint8_t *x, const uint8_t *y,
                                    const bool bf16)
{
    const int64_t n_steps = n / 8;
    __m256 c[HALF_CHAINS];
    for (int k = 0; k < HALF_CHAINS; k++) c[k] = _mm256_setzero_ps();
    for (int64_t st = 0; st < n_steps; st += HALF_CHAINS * HALF_BLOCK) {
        int64_t len[HALF_CHAINS];
        for (int k = 0; k < HALF_CHAINS; k++) {
            const int64_t left = n_steps - st - k * HALF_BLOCK;
            len[k] = left < 0 ? 0 : left < HALF_BLOCK ? left : HALF_BLOCK;
        }
        for (int64_t j = 0; j < len[0]; j++)
            UNROLL for (int k = 0; k < HALF_CHAINS; k++) {
                if (j >= len[k]) break;
                const int64_t i = (st + k * HALF_BLOCK + j) * 8;
                c[k] = _mm256_fmadd_ps(half_x(x, i, bf16), half_y(y, i, bf16), c[k]);
            }
    }
    return half_finish(c, x, y, n, bf16);
}

void qt_tile_f16_f32_avx2(int64_t n, float *s, size_t ss, const void *vx, size_t bx,
                          const void *vy, size_t by, int nr, int nt)
{
    half_tile(n, s, ss, vx, bx, vy, by, nr, nt, false);
}

void qt_dot_f16_f32_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    *s = half_dot(n, vx, vy, false);
}

void qt_tile_bf16_bf16_avx2(int64_t n, float *s, size_t ss, const void *vx, size_t bx,
                            const void *vy, size_t by, int nr, int nt)
{
    half_tile(n, s, ss, vx, bx, vy, by, nr, nt, true);
}

void qt_dot_bf16_bf16_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    *s = half_dot(n, vx, vy, true);
}

/* The tile entry of KERN: nr x nt (each 1..QT_TILE) in instances of up to
 * MR x MT (MR, MT: 2 or 4), every shape a compile-time instance; the
 * branches for shapes beyond MR x MT fold away. */
#define TILE_INSTANCE(KERN, R, T) KERN(n, s + t0 * ss + r0, ss, (const uint8_t *)vx + r0 * bx, bx, \
                                       (const uint8_t *)vy + t0 * by, by, R, T)
#define TILE_TOKENS(KERN, R, MT)                                                                  \
    if (T == 1) TILE_INSTANCE(KERN, R, 1);                                                        \
    else if (T == 2 || MT == 2) TILE_INSTANCE(KERN, R, 2);                                        \
    else if (T == 3) TILE_INSTANCE(KERN, R, 3);                                                   \
    else TILE_INSTANCE(KERN, R, 4);
#define DEFINE_TILE(TYPES, KERN, MR, MT)                                                          \
    void qt_tile_##TYPES##_avx2(int64_t n, float *s, size_t ss, const void *vx, size_t bx,        \
                                const void *vy, size_t by, int nr, int nt)                        \
    {                                                                                             \
        for (int t0 = 0; t0 < nt; t0 += MT)                                                       \
            for (int r0 = 0; r0 < nr; r0 += MR) {                                                 \
                const int R = nr - r0 < MR ? nr - r0 : MR, T = nt - t0 < MT ? nt - t0 : MT;       \
                if (R == 1) { TILE_TOKENS(KERN, 1, MT) }                                          \
                else if (R == 2 || MR == 2) { TILE_TOKENS(KERN, 2, MT) }                          \
                else if (R == 3) { TILE_TOKENS(KERN, 3, MT) }                                     \
                else { TILE_TOKENS(KERN, 4, MT) }                                                 \
            }                                                                                     \
    }
void qt_dot_q8_0_q8_0_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    legacy_dot(n, s, vx, vy, LEGACY_Q8_0);
}

void qt_dot_q5_0_q8_0_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    legacy_dot(n, s, vx, vy, LEGACY_Q5_0);
}

void qt_dot_q4_0_q8_0_avx2(int64_t n, float *s, const void *vx, const void *vy)
{
    legacy_dot(n, s, vx, vy, LEGACY_Q4_0);
}

DEFINE_TILE(q8_0_q8_0, q8_0_tile, 4, 4)
DEFINE_TILE(q5_0_q8_0, q5_0_tile, 4, 4)
DEFINE_TILE(q4_0_q8_0, q4_0_tile, 4, 4)
DEFINE_TILE(q4_K_q8_K, q4_K_tile, 2, 4)
DEFINE_TILE(q6_K_q8_K, q6_K_tile, 2, 4)
