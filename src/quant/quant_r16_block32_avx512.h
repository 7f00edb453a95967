/* quant_r16_block32_avx512.h - the per-token half of the 16-row kernels of
 * the 32-column block types (Q8_0, Q4_0, Q5_0), shared by their AVX-512
 * files (r16_block32_sum also serves Q4_1/Q5_1): with a block's quants
 * unpacked into 8 vectors (4 unsigned quants of each of the 16 rows), each
 * token's 8 vpdpbusd against 4 broadcast activation bytes, started from
 * its prep record's correction shifted right by `shift` (-128, -8 or -16
 * times the quant sum: exact), then one convert and one FMA by d_row *
 * d_token into the token's accumulator. One or two tokens split the
 * products over 4 or 2 chains (integer sums are exact in any order).
 * Include only from files compiled with AVX-512 flags.
 */
#ifndef GLIMP_QUANT_R16_BLOCK32_AVX512_H
#define GLIMP_QUANT_R16_BLOCK32_AVX512_H

#include <immintrin.h>
#include <string.h>

#include "quant/quant_blocks.h"
#include "quant/quant_r16.h"

/* start + the exact integer dot of a block's unpacked quants q (8 vectors
 * of 4 unsigned quants of each of the 16 rows) with one token's 32 quants,
 * the products split over `chains` accumulators (1, 2 or 4). */
__attribute__((always_inline)) static inline __m512i
r16_block32_sum(const __m512i q[8], const int8_t *qs, __m512i start, const int chains)
{
    __m512i sum[4];
    sum[0] = start;
    _Pragma("GCC unroll 4") for (int c = 1; c < chains; c++) sum[c] = _mm512_setzero_si512();
    _Pragma("GCC unroll 8") for (int g = 0; g < 8; g++) {
        int32_t four;
        memcpy(&four, qs + 4 * g, 4);
        sum[g % chains] = _mm512_dpbusd_epi32(sum[g % chains], q[g], _mm512_set1_epi32(four));
    }
    _Pragma("GCC unroll 4") for (int c = 1; c < chains; c++) sum[0] = _mm512_add_epi32(sum[0], sum[c]);
    return sum[0];
}

__attribute__((always_inline)) static inline void
r16_block32_tokens(__m512 *acc, const __m512i q[8], __m512 dx, const uint8_t *act, size_t as,
                   size_t prep_off, int64_t b, int shift, const int NT)
{
    const int chains = NT == 1 ? 4 : NT == 2 ? 2 : 1;
    _Pragma("GCC unroll 8") for (int t = 0; t < NT; t++) {
        const uint8_t *at = act + (size_t)t * as;
        const block_q8_0 *a = (const block_q8_0 *)at + b;
        const qt_r16_prep *p = (const qt_r16_prep *)(at + prep_off) + b;
        const __m512i sum = r16_block32_sum(q, a->qs, _mm512_set1_epi32(p->corr >> shift), chains);
        acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(p->d)), _mm512_cvtepi32_ps(sum),
                                 acc[t]);
    }
}

#endif
