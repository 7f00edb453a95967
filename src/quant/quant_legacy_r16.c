/* quant_legacy_r16.c - the 16-row Q4_0, Q5_0, Q4_1 and Q5_1 layouts
 * (quant_r16.h): packing, row dequantization and the scalar reference
 * kernels. A group takes as many bytes as its 16 rows did. Nothing here
 * fails.
 */
#include "quant/quant_r16.h"

#include <math.h>
#include <string.h>

#include "quant/quant.h"
#include "quant/quant_blocks.h"

/* Element k's quant in a block's 16 bytes of nibbles (Q4_0, Q4_1: 0..15),
 * and with the fifth bits qh (Q5_0, Q5_1: 0..31). */
static int nibble_quant(const uint8_t *qs, int k)
{
    return (qs[k % 16] >> (4 * (k / 16))) & 0xF;
}

static int five_quant(const uint8_t *qs, const uint8_t *qh, int k)
{
    uint32_t h;
    memcpy(&h, qh, 4);
    return nibble_quant(qs, k) | (int)((h >> k) & 1) << 4;
}

/* Where column k of row r keeps its low nibble: byte 4r + k%4 of the
 * 8-column chunk k/8 (after the `head` bytes of scales: 32, or 64 with the
 * minima), high nibble when k%8 >= 4; the fifth bit is bit k/4 of byte
 * 4r + k%4 of the chunk after. */
static size_t nibble_byte(size_t head, int k, int r)
{
    return head + (size_t)(k / 8) * 64 + 4 * (size_t)r + k % 4;
}
static int nibble_shift(int k) { return (k % 8) / 4 * 4; }
static size_t fifth_byte(size_t head, int k, int r) { return head + 256 + 4 * (size_t)r + k % 4; }

/* The fp16 at index r of a group block's 16 (at byte `at`), as a float. */
static float half_at(const uint8_t *in, size_t at, int r)
{
    uint16_t h;
    memcpy(&h, in + at + 2 * r, 2);
    return qt_f16_to_f32(h);
}

static int packed_quant(const uint8_t *in, size_t head, int k, int r, bool five)
{
    int q = (in[nibble_byte(head, k, r)] >> nibble_shift(k)) & 0xF;
    if (five) q |= ((in[fifth_byte(head, k, r)] >> (k / 4)) & 1) << 4;
    return q;
}

/* Stores quant q of column k, row r of a block with `head` bytes of scales. */
static void put_quant(uint8_t *out, size_t head, int k, int r, int q, bool five)
{
    out[nibble_byte(head, k, r)] |= (uint8_t)((q & 0xF) << nibble_shift(k));
    if (five) out[fifth_byte(head, k, r)] |= (uint8_t)((q >> 4) << (k / 4));
}

void qt_r16_q4_0_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK4_0; b++, out += QT_R16_Q4_0_BLOCK) {
        memset(out, 0, QT_R16_Q4_0_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q4_0 *x = (const block_q4_0 *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            for (int k = 0; k < QK4_0; k++) put_quant(out, 32, k, r, nibble_quant(x->qs, k), false);
        }
    }
}

void qt_r16_q5_0_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK5_0; b++, out += QT_R16_Q5_0_BLOCK) {
        memset(out, 0, QT_R16_Q5_0_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q5_0 *x = (const block_q5_0 *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            for (int k = 0; k < QK5_0; k++)
                put_quant(out, 32, k, r, five_quant(x->qs, x->qh, k), true);
        }
    }
}

void qt_r16_q4_1_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK4_1; b++, out += QT_R16_Q4_1_BLOCK) {
        memset(out, 0, QT_R16_Q4_1_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q4_1 *x = (const block_q4_1 *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            memcpy(out + 32 + 2 * r, &x->m, 2);
            for (int k = 0; k < QK4_1; k++) put_quant(out, 64, k, r, nibble_quant(x->qs, k), false);
        }
    }
}

void qt_r16_q5_1_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK5_1; b++, out += QT_R16_Q5_1_BLOCK) {
        memset(out, 0, QT_R16_Q5_1_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q5_1 *x = (const block_q5_1 *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            memcpy(out + 32 + 2 * r, &x->m, 2);
            for (int k = 0; k < QK5_1; k++)
                put_quant(out, 64, k, r, five_quant(x->qs, x->qh, k), true);
        }
    }
}

/* Row r of a group of Q4_0 (five: Q5_0) blocks of `block` bytes. */
static void row_of(const uint8_t *in, int64_t n, int r, float *y, bool five, size_t block)
{
    const int offset = five ? 16 : 8;
    for (int64_t b = 0; b < n / 32; b++, in += block, y += 32) {
        const float d = half_at(in, 0, r);
        for (int k = 0; k < 32; k++) y[k] = (float)(packed_quant(in, 32, k, r, five) - offset) * d;
    }
}

/* Row r of a group of Q4_1 (five: Q5_1) blocks: d q + m, as their to_float. */
static void affine_row_of(const uint8_t *in, int64_t n, int r, float *y, bool five, size_t block)
{
    for (int64_t b = 0; b < n / 32; b++, in += block, y += 32) {
        const float d = half_at(in, 0, r), m = half_at(in, 32, r);
        for (int k = 0; k < 32; k++) y[k] = (float)packed_quant(in, 64, k, r, five) * d + m;
    }
}

void qt_r16_q4_1_row(const void *group, int64_t n, int r, float *y)
{
    affine_row_of(group, n, r, y, false, QT_R16_Q4_1_BLOCK);
}

void qt_r16_q5_1_row(const void *group, int64_t n, int r, float *y)
{
    affine_row_of(group, n, r, y, true, QT_R16_Q5_1_BLOCK);
}

void qt_r16_q4_0_row(const void *group, int64_t n, int r, float *y)
{
    row_of(group, n, r, y, false, QT_R16_Q4_0_BLOCK);
}

void qt_r16_q5_0_row(const void *group, int64_t n, int r, float *y)
{
    row_of(group, n, r, y, true, QT_R16_Q5_0_BLOCK);
}

static int q4_0_signed(const uint8_t *in, int k, int r) { return packed_quant(in, 32, k, r, false) - 8; }
static int q5_0_signed(const uint8_t *in, int k, int r) { return packed_quant(in, 32, k, r, true) - 16; }

void qt_r16_q4_0_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    qt_r16_block32_dot_ref(n, s, s_stride, group, act, act_stride, nt, QT_R16_Q4_0_BLOCK,
                           q4_0_signed);
}

void qt_r16_q5_0_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    qt_r16_block32_dot_ref(n, s, s_stride, group, act, act_stride, nt, QT_R16_Q5_0_BLOCK,
                           q5_0_signed);
}

/* Q4_1 / Q5_1 against Q8_1: per block S = the exact integer dot of the
 * unsigned quants with the token's, then acc = fma(d_r * d_t, S, acc) and
 * acc = fma(m_r, s_t, acc). */
static void affine_dot_ref(int64_t n, float *s, size_t s_stride, const uint8_t *group,
                           const uint8_t *act, size_t act_stride, int nt, bool five, size_t block)
{
    for (int t = 0; t < nt; t++) {
        const block_q8_1 *a = (const block_q8_1 *)(act + (size_t)t * act_stride);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            float acc = 0.0f;
            const uint8_t *in = group;
            for (int64_t b = 0; b < n / QK8_1; b++, in += block) {
                int32_t sum = 0;
                for (int k = 0; k < QK8_1; k++) sum += packed_quant(in, 64, k, r, five) * a[b].qs[k];
                acc = fmaf(half_at(in, 0, r) * qt_f16_to_f32(a[b].d), (float)sum, acc);
                acc = fmaf(half_at(in, 32, r), qt_f16_to_f32(a[b].s), acc);
            }
            s[t * s_stride + r] = acc;
        }
    }
}

void qt_r16_q4_1_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    affine_dot_ref(n, s, s_stride, group, act, act_stride, nt, false, QT_R16_Q4_1_BLOCK);
}

void qt_r16_q5_1_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    affine_dot_ref(n, s, s_stride, group, act, act_stride, nt, true, QT_R16_Q5_1_BLOCK);
}
