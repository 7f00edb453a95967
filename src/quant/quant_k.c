/* quant_k.c - the K-quant super-block formats (Q2_K, Q3_K, Q4_K, Q5_K,
 * Q6_K) and the activation format Q8_K: reading blocks, the scalar reference
 * dequantize and vec_dot, and the Q8_K quantizer. The weight quantizers
 * (scale searches) are in quant_k_quantize.c.
 *
 * Each format has an unpack function giving the 256 small integer quants in
 * element order; dequantization then applies exactly ggml's float products
 * in ggml's order, so to_float is bit-identical to ggml's. The dots sum
 * integer products per sub-block and apply the scales in float once per
 * super-block. Nothing here fails; n is a multiple of 256.
 */
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_kernels.h"

#include <math.h>
#include <string.h>

/* ---- unpacking: 256 quants in element order ------------------------------- */

static void unpack_q2_k(const block_q2_K *b, int8_t q[QK_K]) /* 0..3 */
{
    for (int e = 0; e < QK_K; e++) {
        int h = e / 128, s = (e % 128) / 32, l = e % 32;
        q[e] = (int8_t)((b->qs[32 * h + l] >> (2 * s)) & 3);
    }
}

static void unpack_q3_k(const block_q3_K *b, int8_t q[QK_K]) /* -4..3 */
{
    for (int e = 0; e < QK_K; e++) {
        int h = e / 128, s = (e % 128) / 32, l = e % 32;
        int lo = (b->qs[32 * h + l] >> (2 * s)) & 3;
        int hi = (b->hmask[l] >> (e / 32)) & 1;
        q[e] = (int8_t)(lo - (hi ? 0 : 4));
    }
}

static void unpack_q4_k(const block_q4_K *b, int8_t q[QK_K]) /* 0..15 */
{
    for (int e = 0; e < QK_K; e++) {
        int p = e / 64, hi = (e % 64) / 32, l = e % 32;
        q[e] = (int8_t)((b->qs[32 * p + l] >> (4 * hi)) & 0xF);
    }
}

static void unpack_q5_k(const block_q5_K *b, int8_t q[QK_K]) /* 0..31 */
{
    for (int e = 0; e < QK_K; e++) {
        int p = e / 64, hi = (e % 64) / 32, l = e % 32;
        int lo = (b->qs[32 * p + l] >> (4 * hi)) & 0xF;
        int top = (b->qh[l] >> (2 * p + hi)) & 1;
        q[e] = (int8_t)(lo | (top << 4));
    }
}

static void unpack_q6_k(const block_q6_K *b, int8_t q[QK_K]) /* -32..31 */
{
    for (int e = 0; e < QK_K; e++) {
        int h = e / 128, s = (e % 128) / 32, l = e % 32;
        int lo = (b->ql[64 * h + l + 32 * (s & 1)] >> (4 * (s >> 1))) & 0xF;
        int top = (b->qh[32 * h + l] >> (2 * s)) & 3;
        q[e] = (int8_t)((lo | (top << 4)) - 32);
    }
}

/* Sum of q[e] * y[e] over elements [from, from + len). */
static int isum_range(const int8_t *q, const int8_t *y, int from, int len)
{
    int s = 0;
    for (int e = from; e < from + len; e++) s += q[e] * y[e];
    return s;
}

/* ---- Q2_K ----------------------------------------------------------------- */

void qt_dequant_q2_K(const void *vx, float *y, int64_t n)
{
    const block_q2_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = qt_f16_to_f32(x[i].d), dmin = qt_f16_to_f32(x[i].dmin);
        int8_t q[QK_K];
        unpack_q2_k(&x[i], q);
        for (int j = 0; j < QK_K / 16; j++) {
            const float dl = d * (x[i].scales[j] & 0xF), ml = dmin * (x[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++) y[16 * j + l] = dl * q[16 * j + l] - ml;
        }
    }
}

void qt_dot_q2_K_q8_K(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q2_K *x = vx;
    const block_q8_K *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_q2_k(&x[i], q);
        int isum = 0, summs = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            isum += (x[i].scales[j] & 0xF) * isum_range(q, y[i].qs, 16 * j, 16);
            summs += (x[i].scales[j] >> 4) * y[i].bsums[j];
        }
        sum += (y[i].d * qt_f16_to_f32(x[i].d)) * (float)isum -
               (y[i].d * qt_f16_to_f32(x[i].dmin)) * (float)summs;
    }
    *s = sum;
}

/* ---- Q3_K ----------------------------------------------------------------- */

void qt_dequant_q3_K(const void *vx, float *y, int64_t n)
{
    const block_q3_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = qt_f16_to_f32(x[i].d);
        int8_t q[QK_K], sc[16];
        unpack_q3_k(&x[i], q);
        qt_q3_k_scales(x[i].scales, sc);
        for (int j = 0; j < QK_K / 16; j++) {
            const float dl = d * sc[j];
            for (int l = 0; l < 16; l++) y[16 * j + l] = dl * q[16 * j + l];
        }
    }
}

void qt_dot_q3_K_q8_K(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q3_K *x = vx;
    const block_q8_K *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K], sc[16];
        unpack_q3_k(&x[i], q);
        qt_q3_k_scales(x[i].scales, sc);
        int isum = 0;
        for (int j = 0; j < QK_K / 16; j++) isum += sc[j] * isum_range(q, y[i].qs, 16 * j, 16);
        sum += (y[i].d * qt_f16_to_f32(x[i].d)) * (float)isum;
    }
    *s = sum;
}

/* ---- Q4_K and Q5_K (8 sub-blocks of 32, 6-bit scales and mins) ------------ */

void qt_dequant_q4_K(const void *vx, float *y, int64_t n)
{
    const block_q4_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = qt_f16_to_f32(x[i].d), dmin = qt_f16_to_f32(x[i].dmin);
        int8_t q[QK_K];
        unpack_q4_k(&x[i], q);
        for (int j = 0; j < QK_K / 32; j++) {
            uint8_t sc, m;
            qt_k_scale_min(j, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            for (int l = 0; l < 32; l++) y[32 * j + l] = d1 * q[32 * j + l] - m1;
        }
    }
}

void qt_dequant_q5_K(const void *vx, float *y, int64_t n)
{
    const block_q5_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = qt_f16_to_f32(x[i].d), dmin = qt_f16_to_f32(x[i].dmin);
        int8_t q[QK_K];
        unpack_q5_k(&x[i], q);
        for (int j = 0; j < QK_K / 32; j++) {
            uint8_t sc, m;
            qt_k_scale_min(j, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            for (int l = 0; l < 32; l++) y[32 * j + l] = d1 * q[32 * j + l] - m1;
        }
    }
}

/* Dot of one Q4_K/Q5_K super-block (unpacked quants q, packed scales) with
 * a Q8_K block; d and dmin are the block's super-scales. */
static float dot_k_affine(const int8_t *q, const uint8_t *scales, float d, float dmin,
                          const block_q8_K *y)
{
    int isum = 0, summs = 0;
    for (int j = 0; j < QK_K / 32; j++) {
        uint8_t sc, m;
        qt_k_scale_min(j, scales, &sc, &m);
        isum += sc * isum_range(q, y->qs, 32 * j, 32);
        summs += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    }
    return (y->d * d) * (float)isum - (y->d * dmin) * (float)summs;
}

void qt_dot_q4_K_q8_K(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_q4_k(&x[i], q);
        sum += dot_k_affine(q, x[i].scales, qt_f16_to_f32(x[i].d), qt_f16_to_f32(x[i].dmin), &y[i]);
    }
    *s = sum;
}

void qt_dot_q5_K_q8_K(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q5_K *x = vx;
    const block_q8_K *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_q5_k(&x[i], q);
        sum += dot_k_affine(q, x[i].scales, qt_f16_to_f32(x[i].d), qt_f16_to_f32(x[i].dmin), &y[i]);
    }
    *s = sum;
}

/* ---- Q6_K ----------------------------------------------------------------- */

void qt_dequant_q6_K(const void *vx, float *y, int64_t n)
{
    const block_q6_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const float d = qt_f16_to_f32(x[i].d);
        int8_t q[QK_K];
        unpack_q6_k(&x[i], q);
        for (int e = 0; e < QK_K; e++) y[e] = d * x[i].scales[e / 16] * q[e];
    }
}

void qt_dot_q6_K_q8_K(int64_t n, float *s, const void *vx, const void *vy)
{
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t q[QK_K];
        unpack_q6_k(&x[i], q);
        int isum = 0;
        for (int j = 0; j < QK_K / 16; j++)
            isum += x[i].scales[j] * isum_range(q, y[i].qs, 16 * j, 16);
        sum += (y[i].d * qt_f16_to_f32(x[i].d)) * (float)isum;
    }
    *s = sum;
}

/* ---- Q8_K ----------------------------------------------------------------- */

void qt_dequant_q8_K(const void *vx, float *y, int64_t n)
{
    const block_q8_K *x = vx;
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K)
        for (int e = 0; e < QK_K; e++) y[e] = x[i].d * x[i].qs[e];
}

/* d = amax/127 as 1/(127/amax), quants rounded to nearest even: ggml's
 * rule up to the sign convention (ggml maps the signed maximum to -127,
 * negating both d and every quant, which leaves every product unchanged). */
void qt_quant_q8_K(const float *x, void *vy, int64_t n)
{
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float amax = 0.0f;
        for (int e = 0; e < QK_K; e++) amax = fmaxf(amax, fabsf(x[e]));
        memset(&y[i], 0, sizeof y[i]);
        if (amax == 0.0f) continue;
        const float iscale = 127.0f / amax;
        for (int e = 0; e < QK_K; e++) {
            int v = qt_nearest_int(iscale * x[e]);
            y[i].qs[e] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
            y[i].bsums[e / 16] = (int16_t)(y[i].bsums[e / 16] + y[i].qs[e]);
        }
        y[i].d = 1.0f / iscale;
    }
}
