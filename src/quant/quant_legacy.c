/* quant_legacy.c - the 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0 and the activation format Q8_1. Scalar reference dequantize,
 * quantize and vec_dot.
 *
 * Dequantization reproduces ggml's to_float bit for bit (same products, same
 * order). Quantizers follow ggml's reference rules (Q4_0/Q5_0: the signed
 * absolute maximum maps to -8/-16; Q4_1/Q5_1: min..max over 15/31 steps),
 * rounding to nearest even. Q8_0 uses ggml's x86 activation rule, d =
 * amax/127 with multiplier 127/amax, which its SIMD versions reproduce
 * exactly. Nothing here fails; n is a multiple of 32.
 */
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_kernels.h"

#include <math.h>
#include <string.h>

static void min_max(const float *x, int n, float *mn, float *mx)
{
    *mn = x[0];
    *mx = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- Q4_0 ---------------------------------------------------------------- */

void qt_dequant_q4_0(const void *vx, float *y, int64_t n)
{
    const block_q4_0 *x = vx;
    for (int64_t i = 0; i < n / QK4_0; i++, y += QK4_0) {
        const float d = qt_f16_to_f32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            y[j] = ((x[i].qs[j] & 0xF) - 8) * d;
            y[j + QK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void qt_quant_q4_0(const float *x, void *vy, int64_t n)
{
    block_q4_0 *y = vy;
    for (int64_t i = 0; i < n / QK4_0; i++, x += QK4_0) {
        const float d = qt_signed_absmax(x, QK4_0) / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = qt_f32_to_f16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            int q0 = qt_clampi(qt_nearest_int(x[j] * id) + 8, 0, 15);
            int q1 = qt_clampi(qt_nearest_int(x[j + QK4_0 / 2] * id) + 8, 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void qt_dot_q4_0_q8_0(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
        }
        sum += (float)sumi * (qt_f16_to_f32(x[i].d) * qt_f16_to_f32(y[i].d));
    }
    *s = sum;
}

/* ---- Q4_1 ---------------------------------------------------------------- */

void qt_dequant_q4_1(const void *vx, float *y, int64_t n)
{
    const block_q4_1 *x = vx;
    for (int64_t i = 0; i < n / QK4_1; i++, y += QK4_1) {
        const float d = qt_f16_to_f32(x[i].d);
        const float m = qt_f16_to_f32(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            y[j] = (x[i].qs[j] & 0xF) * d + m;
            y[j + QK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
        }
    }
}

void qt_quant_q4_1(const float *x, void *vy, int64_t n)
{
    block_q4_1 *y = vy;
    for (int64_t i = 0; i < n / QK4_1; i++, x += QK4_1) {
        float mn, mx;
        min_max(x, QK4_1, &mn, &mx);
        const float d = (mx - mn) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = qt_f32_to_f16(d);
        y[i].m = qt_f32_to_f16(mn);
        for (int j = 0; j < QK4_1 / 2; j++) {
            int q0 = qt_clampi(qt_nearest_int((x[j] - mn) * id), 0, 15);
            int q1 = qt_clampi(qt_nearest_int((x[j + QK4_1 / 2] - mn) * id), 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void qt_dot_q4_1_q8_1(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_1 *x = vx;
    const block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            sumi += (x[i].qs[j] & 0xF) * y[i].qs[j];
            sumi += (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
        }
        sum += (float)sumi * (qt_f16_to_f32(x[i].d) * qt_f16_to_f32(y[i].d)) +
               qt_f16_to_f32(x[i].m) * qt_f16_to_f32(y[i].s);
    }
    *s = sum;
}

/* ---- Q5_0 ---------------------------------------------------------------- */

/* The 5-bit quants of a Q5_0/Q5_1 block, 0..31, in element order. */
static void unpack_q5(const uint8_t qs[16], const uint8_t qh[4], int q[32])
{
    const uint32_t h = load_u32(qh);
    for (int j = 0; j < 16; j++) {
        q[j] = (qs[j] & 0xF) | (int)(((h >> j) & 1) << 4);
        q[j + 16] = (qs[j] >> 4) | (int)(((h >> (j + 16)) & 1) << 4);
    }
}

/* Packs 5-bit quants 0..31 into qs/qh. */
static void pack_q5(const int q[32], uint8_t qs[16], uint8_t qh[4])
{
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
        h |= (uint32_t)(q[j] >> 4) << j;
        h |= (uint32_t)(q[j + 16] >> 4) << (j + 16);
    }
    memcpy(qh, &h, sizeof h);
}

void qt_dequant_q5_0(const void *vx, float *y, int64_t n)
{
    const block_q5_0 *x = vx;
    for (int64_t i = 0; i < n / QK5_0; i++, y += QK5_0) {
        const float d = qt_f16_to_f32(x[i].d);
        int q[32];
        unpack_q5(x[i].qs, x[i].qh, q);
        for (int j = 0; j < QK5_0; j++) y[j] = (q[j] - 16) * d;
    }
}

void qt_quant_q5_0(const float *x, void *vy, int64_t n)
{
    block_q5_0 *y = vy;
    for (int64_t i = 0; i < n / QK5_0; i++, x += QK5_0) {
        const float d = qt_signed_absmax(x, QK5_0) / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = qt_f32_to_f16(d);
        int q[32];
        for (int j = 0; j < QK5_0; j++) q[j] = qt_clampi(qt_nearest_int(x[j] * id) + 16, 0, 31);
        pack_q5(q, y[i].qs, y[i].qh);
    }
}

void qt_dot_q5_0_q8_0(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q5_0 *x = vx;
    const block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        int q[32], sumi = 0;
        unpack_q5(x[i].qs, x[i].qh, q);
        for (int j = 0; j < QK5_0; j++) sumi += (q[j] - 16) * y[i].qs[j];
        sum += (float)sumi * (qt_f16_to_f32(x[i].d) * qt_f16_to_f32(y[i].d));
    }
    *s = sum;
}

/* ---- Q5_1 ---------------------------------------------------------------- */

void qt_dequant_q5_1(const void *vx, float *y, int64_t n)
{
    const block_q5_1 *x = vx;
    for (int64_t i = 0; i < n / QK5_1; i++, y += QK5_1) {
        const float d = qt_f16_to_f32(x[i].d);
        const float m = qt_f16_to_f32(x[i].m);
        int q[32];
        unpack_q5(x[i].qs, x[i].qh, q);
        for (int j = 0; j < QK5_1; j++) y[j] = q[j] * d + m;
    }
}

void qt_quant_q5_1(const float *x, void *vy, int64_t n)
{
    block_q5_1 *y = vy;
    for (int64_t i = 0; i < n / QK5_1; i++, x += QK5_1) {
        float mn, mx;
        min_max(x, QK5_1, &mn, &mx);
        const float d = (mx - mn) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = qt_f32_to_f16(d);
        y[i].m = qt_f32_to_f16(mn);
        int q[32];
        for (int j = 0; j < QK5_1; j++) q[j] = qt_clampi(qt_nearest_int((x[j] - mn) * id), 0, 31);
        pack_q5(q, y[i].qs, y[i].qh);
    }
}

void qt_dot_q5_1_q8_1(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q5_1 *x = vx;
    const block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        int q[32], sumi = 0;
        unpack_q5(x[i].qs, x[i].qh, q);
        for (int j = 0; j < QK5_1; j++) sumi += q[j] * y[i].qs[j];
        sum += (float)sumi * (qt_f16_to_f32(x[i].d) * qt_f16_to_f32(y[i].d)) +
               qt_f16_to_f32(x[i].m) * qt_f16_to_f32(y[i].s);
    }
    *s = sum;
}

/* ---- Q8_0 and Q8_1 ------------------------------------------------------- */

/* Scale of a Q8 block and the multiplier that maps amax to 127. */
static float q8_scale(const float *x, float *id)
{
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    *id = amax != 0.0f ? 127.0f / amax : 0.0f;
    return amax / 127.0f;
}

void qt_dequant_q8_0(const void *vx, float *y, int64_t n)
{
    const block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
        const float d = qt_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_0; j++) y[j] = x[i].qs[j] * d;
    }
}

void qt_quant_q8_0(const float *x, void *vy, int64_t n)
{
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        float id;
        y[i].d = qt_f32_to_f16(q8_scale(x, &id));
        for (int j = 0; j < QK8_0; j++)
            y[i].qs[j] = (int8_t)qt_clampi(qt_nearest_int(x[j] * id), -127, 127);
    }
}

void qt_mad_q8_0(int64_t n, float *y, size_t y_stride, int ny, const float *a, size_t a_stride,
                 const void *vx, size_t x_stride, int64_t nx)
{
    for (int64_t p = 0; p < nx; p++) {
        const block_q8_0 *x = (const block_q8_0 *)((const uint8_t *)vx + p * x_stride);
        for (int64_t i = 0; i < n / QK8_0; i++) {
            const float d = qt_f16_to_f32(x[i].d);
            for (int j = 0; j < QK8_0; j++) {
                const float v = x[i].qs[j] * d;
                for (int h = 0; h < ny; h++)
                    y[h * y_stride + i * QK8_0 + j] += a[h * a_stride + p] * v;
            }
        }
    }
}

void qt_dot_q8_0_q8_0(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q8_0 *x = vx;
    const block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += x[i].qs[j] * y[i].qs[j];
        sum += (float)sumi * (qt_f16_to_f32(x[i].d) * qt_f16_to_f32(y[i].d));
    }
    *s = sum;
}

void qt_dequant_q8_1(const void *vx, float *y, int64_t n)
{
    const block_q8_1 *x = vx;
    for (int64_t i = 0; i < n / QK8_1; i++, y += QK8_1) {
        const float d = qt_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_1; j++) y[j] = x[i].qs[j] * d;
    }
}

void qt_quant_q8_1(const float *x, void *vy, int64_t n)
{
    block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / QK8_1; i++, x += QK8_1) {
        float id;
        const float d = q8_scale(x, &id);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            y[i].qs[j] = (int8_t)qt_clampi(qt_nearest_int(x[j] * id), -127, 127);
            sum += y[i].qs[j];
        }
        y[i].d = qt_f32_to_f16(d);
        y[i].s = qt_f32_to_f16((float)sum * d);
    }
}
