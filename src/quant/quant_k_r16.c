/* quant_k_r16.c - the 16-row Q4_K and Q6_K layouts (quant_r16.h): packing,
 * row dequantization and the scalar reference kernels. A group takes as
 * many bytes as its 16 rows did. Nothing here fails.
 */
#include "quant/quant_r16.h"

#include <math.h>
#include <string.h>

#include "quant/quant.h"
#include "quant/quant_blocks.h"

/* Element e's quant in a Q4_K block (0..15) and in a Q6_K block (0..63). */
static int q4_k_quant(const block_q4_K *x, int e)
{
    const int p = e / 64, hi = (e % 64) / 32, l = e % 32;
    return (x->qs[32 * p + l] >> (4 * hi)) & 0xF;
}

static int q6_k_quant(const block_q6_K *x, int e)
{
    const int h = e / 128, s = (e % 128) / 32, l = e % 32;
    const int lo = (x->ql[64 * h + l + 32 * (s & 1)] >> (4 * (s >> 1))) & 0xF;
    return lo | (((x->qh[32 * h + l] >> (2 * s)) & 3) << 4);
}

/* Where column k of row r keeps its low nibble in the 8-column chunks both
 * layouts share: byte 4r + k%4 of chunk k/8, high nibble when k%8 >= 4. */
static size_t nibble_byte(int k, int r) { return (size_t)(k / 8) * 64 + 4 * (size_t)r + k % 4; }
static int nibble_shift(int k) { return (k % 8) / 4 * 4; }

static float half_at(const uint8_t *p, int i)
{
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return qt_f16_to_f32(h);
}

/* ---- Q4_K ----------------------------------------------------------------- */

void qt_r16_q4_k_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK_K; b++, out += QT_R16_Q4_K_BLOCK) {
        memset(out, 0, QT_R16_Q4_K_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q4_K *x = (const block_q4_K *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            memcpy(out + 32 + 2 * r, &x->dmin, 2);
            for (int j = 0; j < QK_K / 32; j++) {
                uint8_t sc, m;
                qt_k_scale_min(j, x->scales, &sc, &m);
                out[64 + 16 * j + r] = (uint8_t)(sc | (m >> 4) << 6);
                out[192 + 16 * (j / 2) + r] |= (uint8_t)((m & 0xF) << (4 * (j % 2)));
            }
            for (int k = 0; k < QK_K; k++)
                out[256 + nibble_byte(k, r)] |= (uint8_t)(q4_k_quant(x, k) << nibble_shift(k));
        }
    }
}

/* Sub-block j's scale and minimum of row r in a packed super-block. */
static void q4_k_scale_min(const uint8_t *in, int j, int r, int *sc, int *m)
{
    const uint8_t s = in[64 + 16 * j + r];
    *sc = s & 63;
    *m = ((in[192 + 16 * (j / 2) + r] >> (4 * (j % 2))) & 0xF) | (s >> 6) << 4;
}

static int q4_k_packed_quant(const uint8_t *in, int k, int r)
{
    return (in[256 + nibble_byte(k, r)] >> nibble_shift(k)) & 0xF;
}

void qt_r16_q4_k_row(const void *group, int64_t n, int r, float *y)
{
    const uint8_t *in = group;
    for (int64_t b = 0; b < n / QK_K; b++, in += QT_R16_Q4_K_BLOCK, y += QK_K) {
        const float d = half_at(in, r), dmin = half_at(in + 32, r);
        for (int j = 0; j < QK_K / 32; j++) {
            int sc, m;
            q4_k_scale_min(in, j, r, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            for (int l = 0; l < 32; l++) y[32 * j + l] = d1 * (float)q4_k_packed_quant(in, 32 * j + l, r) - m1;
        }
    }
}

/* One Q4_K super-block of row r against the token's block a, added to acc. */
static float q4_k_block(const uint8_t *in, const block_q8_K *a, int r, float acc)
{
    int32_t isum = 0, msum = 0;
    for (int j = 0; j < QK_K / 32; j++) {
        int sc, m, dot = 0;
        q4_k_scale_min(in, j, r, &sc, &m);
        for (int l = 0; l < 32; l++) dot += q4_k_packed_quant(in, 32 * j + l, r) * a->qs[32 * j + l];
        isum += sc * dot;
        msum += m * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
    }
    acc = fmaf(half_at(in, r) * a->d, (float)isum, acc);
    return fmaf(-(half_at(in + 32, r) * a->d), (float)msum, acc);
}

/* The references of both: every (token, row) summed super-block by
 * super-block (`block` bytes each) with add_block. */
static void k_dot_ref(int64_t n, float *s, size_t s_stride, const uint8_t *group, const void *act,
                      size_t act_stride, int nt, size_t block,
                      float (*add_block)(const uint8_t *in, const block_q8_K *a, int r, float acc))
{
    for (int t = 0; t < nt; t++) {
        const block_q8_K *a = (const block_q8_K *)((const uint8_t *)act + (size_t)t * act_stride);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            float acc = 0.0f;
            for (int64_t b = 0; b < n / QK_K; b++) acc = add_block(group + (size_t)b * block, &a[b], r, acc);
            s[t * s_stride + r] = acc;
        }
    }
}

void qt_r16_q4_k_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    k_dot_ref(n, s, s_stride, group, act, act_stride, nt, QT_R16_Q4_K_BLOCK, q4_k_block);
}

/* ---- Q6_K ----------------------------------------------------------------- */

void qt_r16_q6_k_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK_K; b++, out += QT_R16_Q6_K_BLOCK) {
        memset(out, 0, QT_R16_Q6_K_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q6_K *x = (const block_q6_K *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            for (int j = 0; j < QK_K / 16; j++) out[32 + 16 * j + r] = (uint8_t)x->scales[j];
            for (int k = 0; k < QK_K; k++) {
                const int q = q6_k_quant(x, k);
                out[288 + nibble_byte(k, r)] |= (uint8_t)((q & 0xF) << nibble_shift(k));
                out[2336 + (k / 16) * 64 + 4 * r + k % 4] |= (uint8_t)((q >> 4) << (2 * (k % 16 / 4)));
            }
        }
    }
}

static int q6_k_packed_quant(const uint8_t *in, int k, int r)
{
    const int lo = (in[288 + nibble_byte(k, r)] >> nibble_shift(k)) & 0xF;
    const int hi = (in[2336 + (k / 16) * 64 + 4 * r + k % 4] >> (2 * (k % 16 / 4))) & 3;
    return lo | hi << 4;
}

void qt_r16_q6_k_row(const void *group, int64_t n, int r, float *y)
{
    const uint8_t *in = group;
    for (int64_t b = 0; b < n / QK_K; b++, in += QT_R16_Q6_K_BLOCK, y += QK_K) {
        const float d = half_at(in, r);
        for (int k = 0; k < QK_K; k++)
            y[k] = d * (float)(int8_t)in[32 + 16 * (k / 16) + r] * (float)(q6_k_packed_quant(in, k, r) - 32);
    }
}

/* One Q6_K super-block of row r against the token's block a, added to acc. */
static float q6_k_block(const uint8_t *in, const block_q8_K *a, int r, float acc)
{
    int32_t isum = 0;
    for (int j = 0; j < QK_K / 16; j++) {
        int dot = -32 * a->bsums[j];
        for (int l = 0; l < 16; l++) dot += q6_k_packed_quant(in, 16 * j + l, r) * a->qs[16 * j + l];
        isum += (int8_t)in[32 + 16 * j + r] * dot;
    }
    return fmaf(half_at(in, r) * a->d, (float)isum, acc);
}

void qt_r16_q6_k_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    k_dot_ref(n, s, s_stride, group, act, act_stride, nt, QT_R16_Q6_K_BLOCK, q6_k_block);
}
