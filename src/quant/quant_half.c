/* quant_half.c - the float types: F32, F16 (IEEE binary16) and BF16.
 *
 * Conversions are exact bit manipulations: widening is exact, narrowing
 * rounds to nearest even, overflows to infinity, keeps subnormals, and keeps
 * NaN a NaN (quieted, sign and top payload bits kept). Row functions and the
 * scalar reference dots (F32 and F16 weights against F32 activations, BF16
 * against BF16) never fail.
 */
#include "quant/quant.h"
#include "quant/quant_kernels.h"

#include <string.h>

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float qt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in float */
        float v = (float)mant * 0x1p-24f;
        return bits_f32(f32_bits(v) | sign);
    }
    if (exp == 31) return bits_f32(sign | 0x7F800000u | (mant << 13)); /* inf, NaN */
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t qt_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7FFFFFFF;
    if (ax > 0x7F800000) /* NaN: quiet bit set, top payload bits kept */
        return (uint16_t)(sign | 0x7E00 | ((ax >> 13) & 0x3FF));
    if (ax >= 0x477FF000) /* >= 65520 rounds past 65504: infinity */
        return (uint16_t)(sign | 0x7C00);
    if (ax >= 0x38800000) { /* normal half (>= 2^-14): rebias, round 13 bits */
        uint32_t m = ax - 0x38000000;
        m += 0xFFF + ((m >> 13) & 1);
        return (uint16_t)(sign | (m >> 13));
    }
    uint32_t e = ax >> 23; /* subnormal half: round(|f| * 2^24) */
    if (e < 102) return sign; /* below 2^-25: rounds to zero */
    uint32_t mant = (ax & 0x7FFFFF) | 0x800000;
    uint32_t shift = 126 - e; /* 14..24 */
    uint32_t r = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

float qt_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t qt_f32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    return (uint16_t)((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

void qt_dequant_f32(const void *x, float *y, int64_t n) { memcpy(y, x, (size_t)n * sizeof *y); }
void qt_quant_f32(const float *x, void *y, int64_t n) { memcpy(y, x, (size_t)n * sizeof *x); }

void qt_dequant_f16(const void *vx, float *y, int64_t n)
{
    const uint16_t *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = qt_f16_to_f32(x[i]);
}

void qt_quant_f16(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = qt_f32_to_f16(x[i]);
}

void qt_dequant_bf16(const void *vx, float *y, int64_t n)
{
    const uint16_t *x = vx;
    for (int64_t i = 0; i < n; i++) y[i] = qt_bf16_to_f32(x[i]);
}

void qt_quant_bf16(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    for (int64_t i = 0; i < n; i++) y[i] = qt_f32_to_bf16(x[i]);
}

void qt_dot_f32_f32(int64_t n, float *s, const void *vx, const void *vy)
{
    const float *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

void qt_dot_f16_f32(int64_t n, float *s, const void *vx, const void *vy)
{
    const uint16_t *x = vx;
    const float *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += qt_f16_to_f32(x[i]) * y[i];
    *s = sum;
}

void qt_dot_bf16_bf16(int64_t n, float *s, const void *vx, const void *vy)
{
    const uint16_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += qt_bf16_to_f32(x[i]) * qt_bf16_to_f32(y[i]);
    *s = sum;
}
