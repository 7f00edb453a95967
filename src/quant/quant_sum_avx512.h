/* quant_sum_avx512.h - horizontal sums of 16-lane float accumulators for the
 * AVX-512 kernels (internal; include only from files compiled with the
 * AVX-512 flags).
 *
 * Every sum adds a vector's lanes in one fixed tree: lane i + lane i+8,
 * then i + i+4, i + i+2 and i + i+1 (the tree of GCC's
 * _mm512_reduce_add_ps, written out so the bits do not depend on the
 * compiler). qt_sum16 sums one accumulator. qt_sum_tile sums the up to
 * 4 x 4 accumulators of a tile kernel together: at every level of the same
 * tree one add serves two accumulators (15 merges of 3 instructions for 16
 * sums, against 8 instructions each), so a tile's sums have the bits of its
 * 1 x 1 tile, the vec_dot. With head sizes of 64 the sums were most of a
 * q.k tile's instructions (4 FMAs per output, 8 to sum them).
 */
#ifndef GLIMP_QUANT_SUM_AVX512_H
#define GLIMP_QUANT_SUM_AVX512_H

#include <immintrin.h>
#include <stddef.h>

#include "quant/quant.h"

/* Fully unrolled, so that the accumulators stay in registers. */
#define QT_SUM_UNROLL _Pragma("GCC unroll 16")

_Static_assert(QT_TILE == 4, "qt_sum_tile merges 4 x 4 accumulators");

static inline float qt_sum16(__m512 v)
{
    const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v),
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));   /* b0 + b2, b1 + b3 */
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

/* One level of the tree for two vectors: (a, b) -> the pairs of each summed
 * side by side, a's in the lower half of every group. */
static inline __m512 qt_sum_merge8(__m512 a, __m512 b)  /* i + i+8 */
{
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
}
static inline __m512 qt_sum_merge4(__m512 a, __m512 b)  /* i + i+4 within 8 lanes */
{
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
}
static inline __m512 qt_sum_merge2(__m512 a, __m512 b)  /* i + i+2 within 4 lanes */
{
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x44), _mm512_shuffle_ps(a, b, 0xEE));
}
static inline __m512 qt_sum_merge1(__m512 a, __m512 b)  /* i + i+1 within 4 lanes */
{
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

/* s[t * ss + r] = the sum of acc[r][t] for r < nr, t < nt (accumulators
 * beyond those are not read). Lane 4t + r of the merged vector is the sum
 * of acc[r][t], so each t stores 4 consecutive floats. */
static inline __attribute__((always_inline)) void
qt_sum_tile(__m512 acc[QT_TILE][QT_TILE], float *s, size_t ss, const int nr, const int nt)
{
    if (nr * nt < 8) { /* few sums: one at a time costs less than the merges */
        QT_SUM_UNROLL for (int r = 0; r < nr; r++)
            QT_SUM_UNROLL for (int t = 0; t < nt; t++) s[t * ss + r] = qt_sum16(acc[r][t]);
        return;
    }
    __m512 a[16], l1[8], l2[4], l3[2];
    QT_SUM_UNROLL for (int r = 0; r < QT_TILE; r++)
        QT_SUM_UNROLL for (int t = 0; t < QT_TILE; t++)
            a[4 * r + t] = r < nr && t < nt ? acc[r][t] : _mm512_setzero_ps();
    QT_SUM_UNROLL for (int k = 0; k < 8; k++) l1[k] = qt_sum_merge8(a[2 * k], a[2 * k + 1]);
    QT_SUM_UNROLL for (int k = 0; k < 4; k++) l2[k] = qt_sum_merge4(l1[2 * k], l1[2 * k + 1]);
    QT_SUM_UNROLL for (int k = 0; k < 2; k++) l3[k] = qt_sum_merge2(l2[2 * k], l2[2 * k + 1]);
    const __m512 sums = qt_sum_merge1(l3[0], l3[1]);
    const __mmask8 rows = (__mmask8)((1u << nr) - 1);
    QT_SUM_UNROLL for (int t = 0; t < nt; t++) {
        const __m128 v = t == 0   ? _mm512_castps512_ps128(sums)
                         : t == 1 ? _mm512_extractf32x4_ps(sums, 1)
                         : t == 2 ? _mm512_extractf32x4_ps(sums, 2)
                                  : _mm512_extractf32x4_ps(sums, 3);
        _mm_mask_storeu_ps(s + t * ss, rows, v);
    }
}

#endif
