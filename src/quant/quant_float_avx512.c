/* quant_float_avx512.c - AVX-512 kernels of the float weight types: F32 and
 * F16 rows against F32 activations, BF16 rows against BF16 activations
 * (compiled with the AVX-512 flags, AVX512_BF16 included; called only when
 * cpu_kernel_level() allows: the vdpbf16ps kernels need
 * CPU_LEVEL_AVX512_BF16, the rest CPU_LEVEL_AVX512).
 *
 * F32 and F16: one tile kernel, up to 4 weight rows x 4 activation rows per
 * call, one 16-lane accumulator per output, a masked last step, so any n
 * works. F16 weights are widened exactly (vcvtph2ps) as they are loaded,
 * once per 4 activation rows: measured faster than widening a chunk of
 * rows to F32 once per matmul for the F32 tile (bench_quant: 115 against
 * 100 GFLOP/s, as the F32 rows double the bytes loaded; the same prefill
 * speed end to end), so F16 has its own tile. The vec_dots are the 1 x 1
 * tiles, so a pair gives the same bits whichever kernel computed it.
 *
 * BF16 at CPU_LEVEL_AVX512_BF16: weights and activations (rounded to BF16
 * by the activation quantizer) enter vdpbf16ps, 32 pairs per instruction;
 * the products of two BF16 values are exact in float, the instruction
 * rounds the sums (and treats subnormal inputs as zero). Tile and vec_dot
 * as for F32. At CPU_LEVEL_AVX512 BF16 rows are widened and dotted with
 * FMAs instead, like the AVX2 kernel.
 *
 * qt_quant_bf16_avx512 rounds floats to BF16 with integer arithmetic, byte
 * for byte the scalar qt_f32_to_bf16 (nearest even, NaN kept quiet);
 * qt_quant_f16_avx512 rounds to F16 as qt_f32_to_f16 (the F16 KV cache).
 * Nothing here fails.
 */
#include "quant/quant.h"
#include "quant/quant_kernels.h"
#include "quant/quant_sum_avx512.h"

#include <immintrin.h>
#include <stdbool.h>

#define UNROLL _Pragma("GCC unroll 4")
#define ALWAYS_INLINE __attribute__((always_inline)) inline

static inline __mmask16 tail16(int64_t left) { return left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1); }
static inline __mmask32 tail32(int64_t left)
{
    return left >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
}

/* 16 weights from F32 or F16 (widened exactly), masked. */
static ALWAYS_INLINE __m512 load_w(const uint8_t *row, int64_t i, __mmask16 m, const bool f16)
{
    if (f16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)row + i));
    return _mm512_maskz_loadu_ps(m, (const float *)row + i);
}

/* One step of 16 elements at i for every output of the tile (m: the
 * elements present; a full step passes a constant all-ones mask, which the
 * compiler turns into plain loads). */
static ALWAYS_INLINE void float_step(__m512 acc[QT_TILE][QT_TILE], const uint8_t *x, size_t bx,
                                     const uint8_t *y, size_t by, int64_t i, __mmask16 m,
                                     const int NR, const int NT, const bool f16)
{
    __m512 w[QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) {
        w[r] = load_w(x + r * bx, i, m, f16);
        if (NR > 1) qt_prefetch_ahead(x + r * bx + i * (f16 ? 2 : 4), 1);
    }
    UNROLL for (int t = 0; t < NT; t++) {
        const __m512 a = _mm512_maskz_loadu_ps(m, (const float *)(y + t * by) + i);
        UNROLL for (int r = 0; r < NR; r++) acc[r][t] = _mm512_fmadd_ps(w[r], a, acc[r][t]);
    }
}

/* s[t * ss + r] = dot(row r of x, row t of y), r < NR, t < NT; x rows of F32
 * (or F16 when f16) bx bytes apart, y rows of F32 by bytes apart. */
static ALWAYS_INLINE void float_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                     const uint8_t *y, size_t by, const int NR, const int NT,
                                     const bool f16)
{
    __m512 acc[QT_TILE][QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] =
        _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) float_step(acc, x, bx, y, by, i, 0xFFFF, NR, NT, f16);
    if (i < n) float_step(acc, x, bx, y, by, i, tail16(n - i), NR, NT, f16);
    qt_sum_tile(acc, s, ss, NR, NT);
}

/* The same for BF16 rows x BF16 activation rows with vdpbf16ps, 32 pairs
 * a step. */
static ALWAYS_INLINE void bf16_step(__m512 acc[QT_TILE][QT_TILE], const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, int64_t i, __mmask32 m,
                                    const int NR, const int NT)
{
    __m512bh w[QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) {
        w[r] = (__m512bh)_mm512_maskz_loadu_epi16(m, (const uint16_t *)(x + r * bx) + i);
        if (NR > 1) qt_prefetch_ahead(x + r * bx + i * 2, 1);
    }
    UNROLL for (int t = 0; t < NT; t++) {
        const __m512bh a = (__m512bh)_mm512_maskz_loadu_epi16(m, (const uint16_t *)(y + t * by) + i);
        UNROLL for (int r = 0; r < NR; r++) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], w[r], a);
    }
}

static ALWAYS_INLINE void bf16_tile(int64_t n, float *s, size_t ss, const uint8_t *x, size_t bx,
                                    const uint8_t *y, size_t by, const int NR, const int NT)
{
    __m512 acc[QT_TILE][QT_TILE];
    UNROLL for (int r = 0; r < NR; r++) UNROLL for (int t = 0; t < NT; t++) acc[r][t] =
        _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) bf16_step(acc, x, bx, y, by, i, 0xFFFFFFFFu, NR, NT);
    if (i < n) bf16_step(acc, x, bx, y, by, i, tail32(n - i), NR, NT);
    qt_sum_tile(acc, s, ss, NR, NT);
}

/* One instantiation per tile shape, picked at run time. */
#define TILE_DISPATCH(CALL)                                                       \
    switch ((nr - 1) * QT_TILE + (nt - 1)) {                                      \
    case 0: CALL(1, 1); break;  case 1: CALL(1, 2); break;                        \
    case 2: CALL(1, 3); break;  case 3: CALL(1, 4); break;                        \
    case 4: CALL(2, 1); break;  case 5: CALL(2, 2); break;                        \
    case 6: CALL(2, 3); break;  case 7: CALL(2, 4); break;                        \
    case 8: CALL(3, 1); break;  case 9: CALL(3, 2); break;                        \
    case 10: CALL(3, 3); break; case 11: CALL(3, 4); break;                       \
    case 12: CALL(4, 1); break; case 13: CALL(4, 2); break;                       \
    case 14: CALL(4, 3); break; default: CALL(4, 4); break;                       \
    }

void qt_tile_f32_f32_avx512(int64_t n, float *s, size_t s_stride, const void *x, size_t x_stride,
                            const void *y, size_t y_stride, int nr, int nt)
{
#define F32_CALL(R, T) float_tile(n, s, s_stride, x, x_stride, y, y_stride, R, T, false)
    TILE_DISPATCH(F32_CALL)
#undef F32_CALL
}

void qt_tile_f16_f32_avx512(int64_t n, float *s, size_t s_stride, const void *x, size_t x_stride,
                            const void *y, size_t y_stride, int nr, int nt)
{
#define F16_CALL(R, T) float_tile(n, s, s_stride, x, x_stride, y, y_stride, R, T, true)
    TILE_DISPATCH(F16_CALL)
#undef F16_CALL
}

void qt_tile_bf16_bf16_avx512bf16(int64_t n, float *s, size_t s_stride, const void *x,
                                  size_t x_stride, const void *y, size_t y_stride, int nr, int nt)
{
#define BF16_CALL(R, T) bf16_tile(n, s, s_stride, x, x_stride, y, y_stride, R, T)
    TILE_DISPATCH(BF16_CALL)
#undef BF16_CALL
}

void qt_dot_f32_f32_avx512(int64_t n, float *s, const void *x, const void *y)
{
    float_tile(n, s, 1, x, 0, y, 0, 1, 1, false);
}

void qt_dot_f16_f32_avx512(int64_t n, float *s, const void *x, const void *y)
{
    float_tile(n, s, 1, x, 0, y, 0, 1, 1, true);
}

void qt_dot_bf16_bf16_avx512bf16(int64_t n, float *s, const void *x, const void *y)
{
    bf16_tile(n, s, 1, x, 0, y, 0, 1, 1);
}

/* Floats to F16 as qt_f32_to_f16: vcvtps2ph rounds to nearest even, keeps
 * subnormals, overflows to infinity and quiets a NaN keeping its top
 * payload bits, as the scalar code does. */
void qt_quant_f16_avx512(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(y + i, m, h);
    }
}

/* BF16 x BF16 without vdpbf16ps: both widened, 4 accumulators of 16 lanes. */
static inline __m512 widen_bf16(const uint16_t *p, __mmask16 m)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

void qt_dot_bf16_bf16_avx512(int64_t n, float *s, const void *vx, const void *vy)
{
    const uint16_t *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(widen_bf16(x + i, 0xFFFF), widen_bf16(y + i, 0xFFFF), a0);
        a1 = _mm512_fmadd_ps(widen_bf16(x + i + 16, 0xFFFF), widen_bf16(y + i + 16, 0xFFFF), a1);
        a2 = _mm512_fmadd_ps(widen_bf16(x + i + 32, 0xFFFF), widen_bf16(y + i + 32, 0xFFFF), a2);
        a3 = _mm512_fmadd_ps(widen_bf16(x + i + 48, 0xFFFF), widen_bf16(y + i + 48, 0xFFFF), a3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        a0 = _mm512_fmadd_ps(widen_bf16(x + i, m), widen_bf16(y + i, m), a0);
    }
    *s = qt_sum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* 16 floats to BF16 as qt_f32_to_bf16: (x + 0x7FFF + lsb) >> 16, NaN -> quiet. */
static inline __m256i round16_bf16(__m512 v)
{
    const __m512i x = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7FFF)), lsb), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7FFFFFFF)),
                                                  _mm512_set1_epi32(0x7F800000));
    const __m512i q = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, q));
}

void qt_quant_bf16_avx512(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        _mm256_mask_storeu_epi16(y + i, m, round16_bf16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
