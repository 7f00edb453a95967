/* quant_avx512.c - AVX-512 (F, BW, DQ, VL) + VNNI kernels (compiled with
 * those flags only; called only when cpu_kernel_level() is
 * CPU_LEVEL_AVX512).
 *
 * The integer kernels come from quant_x86_int.h (Q4_0's is below), where VNNI turns each
 * byte dot into one vpdpbusd and each scaled word dot into one vpdpwssd.
 * The float types' kernels are in quant_float_avx512.c. Q8_0, Q5_0, Q4_K, Q5_K and
 * Q6_K have tile kernels (below): up to 4 weight rows x 4 activation rows
 * per call, each weight block unpacked once and dotted with every
 * activation row; their vec_dot is the 1 x 1 tile, so a dot gives the same
 * bits whichever tile computed it. Nothing here fails.
 */
#define QT_SIMD(name) name##_avx512
#define QT_ZMM_K_QUANTS /* quant_x86_int.h leaves Q4_K, Q5_K, Q6_K to this file */
#include "quant/quant_x86_int.h"
#include "quant/quant_sum_avx512.h"

/* Q4_0 rows dot Q8_0 (no tile at this level). */
void qt_dot_q4_0_q8_0_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    const int64_t nb = n / QK4_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = dot_s8s8(q4_0_bytes(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        __m256i p1 = dot_s8s8(q4_0_bytes(x[i + 1].qs), _mm256_loadu_si256((const __m256i *)y[i + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i + 1].d) * fp16(y[i + 1].d)),
                               _mm256_cvtepi32_ps(p1), acc1);
    }
    if (i < nb) {
        __m256i p0 = dot_s8s8(q4_0_bytes(x[i].qs), _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    }
    *s = hsum_ps256(_mm256_add_ps(acc0, acc1));
}

/* ---- tile kernels -----------------------------------------------------------
 * Each kernel below is written once for an NR x NT tile (NR weight rows, NT
 * activation rows, compile-time constants after inlining) and instantiated
 * for every shape up to its maximum. Every output has its own accumulator
 * and sees exactly the same vector operations in the same order whatever
 * the shape, so tiles and vec_dot agree bit for bit. The maxima keep the
 * accumulators (and, for the K-quants, the per-block integer sums) within
 * the 32 vector registers. */

#define UNROLL _Pragma("GCC unroll 4")
#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* Index vector for vpermw: int16 lane i selects scale first + i / (32 /
 * per), per = sub-blocks per zmm, i.e. the scale of each lane's quants. */
static inline __m512i scale_index(int first, int per)
{
    short idx[32];
    for (int i = 0; i < 32; i++) idx[i] = (short)(first + i / (32 / per));
    return _mm512_loadu_si512(idx);
}

/* Two 32-byte halves in one zmm. */
static inline __m512i join256(const void *lo, const void *hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)lo)),
                              _mm256_loadu_si256((const __m256i *)hi), 1);
}

/* Lanes 0..7 = fp16 a, lanes 8..15 = fp16 b. */
static inline __m512 join_scales(uint16_t a, uint16_t b)
{
    return _mm512_insertf32x8(_mm512_set1_ps(fp16(a)), _mm256_set1_ps(fp16(b)), 1);
}

/* ---- Q8_0 and Q5_0 against Q8_0: two blocks per zmm --------------------------
 * The weights enter vpdpbusd as unsigned bytes u = x + bias (Q8_0: x + 128,
 * Q5_0: the stored 0..31 = x + 16); each 4-byte lane sum starts from
 * -bias * (sum of its 4 activations), so every int32 lane is exactly the sum
 * of its 4 products x * y. A lane's float term is (dx * dy) * lane, added
 * into a per-lane accumulator; an odd last block is paired with a zero
 * block (which adds +0 to every lane). */

static const block_q8_0 zero_q8_0;
static const block_q5_0 zero_q5_0;

/* 64 unsigned quants x + 128 of Q8_0 blocks a, b. */
static inline __m512i q8_0_pair(const block_q8_0 *a, const block_q8_0 *b)
{
    return _mm512_xor_si512(join256(a->qs, b->qs), _mm512_set1_epi8((char)0x80));
}

/* 64 stored quants 0..31 of Q5_0 blocks a, b, in element order. */
static inline __m512i q5_0_pair(const block_q5_0 *a, const block_q5_0 *b)
{
    /* 128-bit lanes qs(a), qs(a), qs(b), qs(b); odd lanes take the high nibbles */
    const __m512i v = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)a->qs))),
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b->qs)), 1);
    const long long four = 0x0004000400040004LL; /* 4 in every int16 */
    const __m512i shift = _mm512_set_epi64(four, four, 0, 0, four, four, 0, 0);
    const __m512i lo = _mm512_and_si512(_mm512_srlv_epi16(v, shift), _mm512_set1_epi8(0xF));
    uint32_t ha, hb;
    memcpy(&ha, a->qh, sizeof ha);
    memcpy(&hb, b->qh, sizeof hb);
    const __mmask64 high = (__mmask64)ha | ((__mmask64)hb << 32);
    return _mm512_or_si512(lo, _mm512_maskz_mov_epi8(high, _mm512_set1_epi8(0x10)));
}

/* The body shared by Q8_0 and Q5_0 (BT: the weight block type, PAIR: its
 * unpacker, ZERO: its zero block, BIAS: u - x). */
#define LEGACY_TILE_BODY(BT, PAIR, ZERO, BIAS)                                                       \
    const int64_t nb = n / QK8_0;                                                                 \
    const __m512i bias = _mm512_set1_epi8(BIAS);                                                  \
    __m512 acc[QT_TILE][QT_TILE];                                                                           \
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] =           \
        _mm512_setzero_ps();                                                                      \
    for (int64_t i = 0; i < nb; i += 2) {                                                         \
        const bool odd = i + 1 == nb;                                                             \
        __m512i u[QT_TILE];                                                                            \
        __m512 dx[QT_TILE];                                                                            \
        UNROLL for (int r = 0; r < NR; r++) {                                                     \
            const BT *b = (const BT *)(x + r * bx) + i;                                           \
            const BT *b1 = odd ? &ZERO : b + 1;                                                   \
            if (NR > 1) qt_prefetch_ahead(b, 2 * sizeof(BT));                                     \
            u[r] = PAIR(b, b1);                                                                   \
            dx[r] = join_scales(b->d, b1->d);                                                     \
        }                                                                                         \
        UNROLL for (int t = 0; t < NT; t++) {                                                     \
            const block_q8_0 *c = (const block_q8_0 *)(y + t * by) + i;                           \
            const block_q8_0 *c1 = odd ? &zero_q8_0 : c + 1;                                      \
            const __m512i q8 = join256(c->qs, c1->qs);                                            \
            const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(),                        \
                                                   _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, q8)); \
            const __m512 dy = join_scales(c->d, c1->d);                                           \
            UNROLL for (int r = 0; r < NR; r++) {                                                 \
                const __m512i p = _mm512_dpbusd_epi32(start, u[r], q8);                           \
                acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(dx[r], dy), _mm512_cvtepi32_ps(p), acc[r][t]); \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    qt_sum_tile(acc, s, ss, NR, NT)

static ALWAYS_INLINE void q8_0_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    LEGACY_TILE_BODY(block_q8_0, q8_0_pair, zero_q8_0, (char)0x80);
}

static ALWAYS_INLINE void q5_0_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    LEGACY_TILE_BODY(block_q5_0, q5_0_pair, zero_q5_0, 16);
}

/* ---- K-quants against Q8_K ---------------------------------------------------
 * A zmm holds two consecutive 32-quant sub-blocks of Q4_K/Q5_K (or four
 * 16-quant ones of Q6_K), matching 64 contiguous Q8_K activations: the
 * quants are split from a broadcast of their packed bytes with per-half
 * variable shifts, then vpmaddubsw + vpdpwssd apply the sub-block scales
 * into one int32 sum per (row, activation) and super-block, which is added
 * in float once per super-block. */

/* Q4_K and Q5_K (qh: Q5_K). Per super-block and output: the minimums'
 * term into lanes 0..3 of the accumulator, then the scaled quants' sum. */
static ALWAYS_INLINE void k_affine_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                        const uint8_t *y, size_t by, const int NR, const int NT,
                                        const bool q5)
{
    const size_t bsz = q5 ? sizeof(block_q5_K) : sizeof(block_q4_K);
    const __m512i m4 = _mm512_set1_epi8(0xF);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    const __m512i nib_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    const __m512i bit_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(1), 1);
    __m512 acc[QT_TILE][QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m512i sc[QT_TILE];
        float d[QT_TILE];
        UNROLL for (int r = 0; r < NR; r++) {
            /* Q4_K and Q5_K share d, dmin, scales at the same offsets */
            const block_q4_K *b = (const block_q4_K *)(x + r * bx + i * bsz);
            if (NR > 1) qt_prefetch_ahead(b, bsz);
            const __m256i sm = k_scales_mins(b->scales);
            sc[r] = _mm512_castsi256_si512(sm);
            d[r] = fp16(b->d);
            const float dmin = fp16(b->dmin);
            const __m128i mins = _mm256_extracti128_si256(sm, 1);
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                const __m128i prod_m = _mm_madd_epi16(mins, bsums_pairs(c->bsums));
                acc[r][t] = _mm512_mask3_fmadd_ps(_mm512_set1_ps(-c->d * dmin),
                                                  _mm512_zextps128_ps512(_mm_cvtepi32_ps(prod_m)),
                                                  acc[r][t], 0x000F);
            }
        }
        __m512i sumi[QT_TILE][QT_TILE];
        UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) sumi[r][t] =
            _mm512_setzero_si512();
        UNROLL for (int p = 0; p < 4; p++) {
            const __m512i idx = scale_index(2 * p, 2);
            UNROLL for (int r = 0; r < NR; r++) {
                const uint8_t *qs = q5 ? ((const block_q5_K *)(x + r * bx) + i)->qs
                                       : ((const block_q4_K *)(x + r * bx) + i)->qs;
                const __m512i bits = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * p)));
                __m512i q = _mm512_and_si512(_mm512_srlv_epi16(bits, nib_shift), m4);
                if (q5) {
                    /* bit 2p of qh[l] is bit 4 of sub-block 2p, bit 2p+1 that of 2p+1 */
                    const uint8_t *qh = ((const block_q5_K *)(x + r * bx) + i)->qh;
                    const __m512i h = _mm512_srli_epi16(
                        _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh)), 2 * p);
                    q = _mm512_or_si512(q, _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(h, bit_shift), 4), bit4));
                }
                const __m512i scp = _mm512_permutexvar_epi16(idx, sc[r]);
                UNROLL for (int t = 0; t < NT; t++) {
                    const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                    const __m512i q8 = _mm512_loadu_si512(c->qs + 64 * p);
                    sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_maddubs_epi16(q, q8), scp);
                }
            }
        }
        UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) {
            const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
            acc[r][t] = _mm512_fmadd_ps(_mm512_set1_ps(c->d * d[r]), _mm512_cvtepi32_ps(sumi[r][t]), acc[r][t]);
        }
    }
    qt_sum_tile(acc, s, ss, NR, NT);
}

static ALWAYS_INLINE void q4_K_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    k_affine_tile(n, s, ss, x, bx, y, by, NR, NT, false);
}

static ALWAYS_INLINE void q5_K_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    k_affine_tile(n, s, ss, x, bx, y, by, NR, NT, true);
}

/* Q6_K: quants stored +32, so each sum starts from -32 * sum_j scale_j *
 * bsum_j; quarter g of the super-block (64 quants) has its low 4 bits in
 * ql[64 * (g / 2)..] (low nibbles for even g, high for odd) and its top 2
 * bits in qh[32 * (g / 2)..] (bits 0-1 | 2-3 for even g, 4-5 | 6-7 for odd). */
static ALWAYS_INLINE void q6_K_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    const __m512i m4 = _mm512_set1_epi8(0xF);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    __m512 acc[QT_TILE][QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sc16[QT_TILE];
        __m512i sumi[QT_TILE][QT_TILE];
        UNROLL for (int r = 0; r < NR; r++) {
            const block_q6_K *b = (const block_q6_K *)(x + r * bx) + i;
            if (NR > 1) qt_prefetch_ahead(b, sizeof *b);
            sc16[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
            UNROLL for (int t = 0; t < NT; t++) {
                const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                const __m256i bs = _mm256_loadu_si256((const __m256i *)c->bsums);
                sumi[r][t] = _mm512_zextsi256_si512(
                    _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16[r], bs), 5)));
            }
        }
        UNROLL for (int g = 0; g < 4; g++) {
            const __m512i idx = scale_index(4 * g, 4);
            UNROLL for (int r = 0; r < NR; r++) {
                const block_q6_K *b = (const block_q6_K *)(x + r * bx) + i;
                const __m512i ql = _mm512_loadu_si512(b->ql + 64 * (g / 2));
                const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b->qh + 32 * (g / 2))));
                const __m512i q = g % 2 == 0
                    ? _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl), m30))
                    : _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                      _mm512_and_si512(_mm512_srlv_epi16(qh, shr), m30));
                const __m512i scp = _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(sc16[r]));
                UNROLL for (int t = 0; t < NT; t++) {
                    const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
                    const __m512i q8 = _mm512_loadu_si512(c->qs + 64 * g);
                    sumi[r][t] = _mm512_dpwssd_epi32(sumi[r][t], _mm512_maddubs_epi16(q, q8), scp);
                }
            }
        }
        UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) {
            const block_q6_K *b = (const block_q6_K *)(x + r * bx) + i;
            const block_q8_K *c = (const block_q8_K *)(y + t * by) + i;
            acc[r][t] = _mm512_fmadd_ps(_mm512_set1_ps(c->d * fp16(b->d)), _mm512_cvtepi32_ps(sumi[r][t]), acc[r][t]);
        }
    }
    qt_sum_tile(acc, s, ss, NR, NT);
}

/* ---- entry points --------------------------------------------------------- */

/* The tile entry of KERN: covers nr x nt (each 1..QT_TILE) with sub-tiles of
 * at most QT_TILE x MT, every shape a compile-time instance. */
#define TILE_SHAPE(KERN, R, T) KERN(n, s + t0 * ss, ss, (const uint8_t *)x, bx, \
                                    (const uint8_t *)y + t0 * by, by, R, T)
#define TILE_ROWS(KERN, T)                              \
    switch (nr) {                                       \
    case 1: TILE_SHAPE(KERN, 1, T); break;              \
    case 2: TILE_SHAPE(KERN, 2, T); break;              \
    case 3: TILE_SHAPE(KERN, 3, T); break;              \
    default: TILE_SHAPE(KERN, 4, T); break;             \
    }
#define DEFINE_TILE(TYPES, KERN, MT)                                                                \
    void qt_tile_##TYPES##_avx512(int64_t n, float *s, size_t ss, const void *x, size_t bx, const void *y, size_t by,  \
              int nr, int nt)                                                                       \
    {                                                                                               \
        for (int t0 = 0; t0 < nt; t0 += MT) {                                                       \
            const int m = nt - t0 < MT ? nt - t0 : MT;                                              \
            if (m == 1) TILE_ROWS(KERN, 1)                                                          \
            else if (m == 2 || MT == 2) TILE_ROWS(KERN, 2)                                          \
            else if (m == 3) TILE_ROWS(KERN, 3)                                                     \
            else TILE_ROWS(KERN, 4)                                                                 \
        }                                                                                           \
    }                                                                                               \
    void qt_dot_##TYPES##_avx512(int64_t n, float *s, const void *x, const void *y)                 \
    {                                                                                               \
        const int t0 = 0;                                                                           \
        const size_t ss = 0, bx = 0, by = 0;                                                        \
        TILE_SHAPE(KERN, 1, 1);                                                                     \
    }

DEFINE_TILE(q8_0_q8_0, q8_0_tile, 4)
DEFINE_TILE(q5_0_q8_0, q5_0_tile, 4)
DEFINE_TILE(q4_K_q8_K, q4_K_tile, 2)
DEFINE_TILE(q5_K_q8_K, q5_K_tile, 2)
DEFINE_TILE(q6_K_q8_K, q6_K_tile, 2)

/* Q8_0 multiply-add (qt_mad_fn): for each pair of blocks (64 values) and
 * each group of up to 4 rows of y, 16 accumulators stay in registers over
 * all nx rows of x; each block is widened (quants x scale, as
 * qt_dequant_q8_0 rounds them) once per group. */
static inline __m512 q8_0_half(const block_q8_0 *b, int half, __m512 d)
{
    const __m128i q = _mm_loadu_si128((const __m128i *)(b->qs + 16 * half));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), d);
}

/* NH rows of y (h0..) x NV zmm of values (blocks i, i + 1) over all nx rows
 * of x; NH and NV are constants after inlining, so acc stays in registers. */
static ALWAYS_INLINE void mad_group(float *y, size_t y_stride, const float *a, size_t a_stride,
                                    const uint8_t *x, size_t x_stride, int64_t nx, int64_t i,
                                    const int NH, const int NV)
{
    __m512 acc[4][4];
    UNROLL for (int h = 0; h < NH; h++) UNROLL for (int v = 0; v < NV; v++) acc[h][v] =
        _mm512_loadu_ps(y + h * y_stride + i * QK8_0 + 16 * v);
    for (int64_t p = 0; p < nx; p++) {
        const block_q8_0 *b = (const block_q8_0 *)(x + p * x_stride) + i;
        __m512 val[4];
        UNROLL for (int v = 0; v < NV; v++) val[v] =
            q8_0_half(b + v / 2, v % 2, _mm512_set1_ps(fp16(b[v / 2].d)));
        UNROLL for (int h = 0; h < NH; h++) {
            const __m512 ah = _mm512_set1_ps(a[h * a_stride + p]);
            UNROLL for (int v = 0; v < NV; v++) acc[h][v] = _mm512_fmadd_ps(ah, val[v], acc[h][v]);
        }
    }
    UNROLL for (int h = 0; h < NH; h++) UNROLL for (int v = 0; v < NV; v++)
        _mm512_storeu_ps(y + h * y_stride + i * QK8_0 + 16 * v, acc[h][v]);
}

void qt_mad_q8_0_avx512(int64_t n, float *y, size_t y_stride, int ny, const float *a,
                        size_t a_stride, const void *vx, size_t x_stride, int64_t nx)
{
    const uint8_t *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i += 2) {
        const bool pair = n / QK8_0 - i >= 2;
        for (int h0 = 0; h0 < ny; h0 += 4) {
            float *yh = y + h0 * y_stride;
            const float *ah = a + h0 * a_stride;
#define MAD(NH) pair ? mad_group(yh, y_stride, ah, a_stride, x, x_stride, nx, i, NH, 4) \
                     : mad_group(yh, y_stride, ah, a_stride, x, x_stride, nx, i, NH, 2)
            switch (ny - h0 < 4 ? ny - h0 : 4) {
            case 1: MAD(1); break;
            case 2: MAD(2); break;
            case 3: MAD(3); break;
            default: MAD(4); break;
            }
#undef MAD
        }
    }
}
