/* quant_legacy_r16.c - the 16-row Q4_0 and Q5_0 layouts (quant_r16.h):
 * packing, row dequantization and the scalar reference kernels. A group
 * takes as many bytes as its 16 rows did. Nothing here fails.
 */
#include "quant/quant_r16.h"

#include <string.h>

#include "quant/quant.h"
#include "quant/quant_blocks.h"

/* Element k's quant in a Q4_0 block (0..15) and in a Q5_0 block (0..31). */
static int q4_0_quant(const block_q4_0 *x, int k)
{
    return (x->qs[k % 16] >> (4 * (k / 16))) & 0xF;
}

static int q5_0_quant(const block_q5_0 *x, int k)
{
    uint32_t h;
    memcpy(&h, x->qh, 4);
    return ((x->qs[k % 16] >> (4 * (k / 16))) & 0xF) | (int)((h >> k) & 1) << 4;
}

/* Where column k of row r keeps its low nibble: byte 4r + k%4 of the
 * 8-column chunk k/8 (after the 32 bytes of scales), high nibble when
 * k%8 >= 4; Q5_0's fifth bit is bit k/4 of byte 4r + k%4 of the chunk after. */
static size_t nibble_byte(int k, int r) { return 32 + (size_t)(k / 8) * 64 + 4 * (size_t)r + k % 4; }
static int nibble_shift(int k) { return (k % 8) / 4 * 4; }
static size_t fifth_byte(int k, int r) { return 32 + 256 + 4 * (size_t)r + k % 4; }

static float scale_of(const uint8_t *in, int r)
{
    uint16_t h;
    memcpy(&h, in + 2 * r, 2);
    return qt_f16_to_f32(h);
}

static int packed_quant(const uint8_t *in, int k, int r, bool five)
{
    int q = (in[nibble_byte(k, r)] >> nibble_shift(k)) & 0xF;
    if (five) q |= ((in[fifth_byte(k, r)] >> (k / 4)) & 1) << 4;
    return q;
}

void qt_r16_q4_0_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK4_0; b++, out += QT_R16_Q4_0_BLOCK) {
        memset(out, 0, QT_R16_Q4_0_BLOCK);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q4_0 *x = (const block_q4_0 *)((const uint8_t *)rows + r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            for (int k = 0; k < QK4_0; k++)
                out[nibble_byte(k, r)] |= (uint8_t)(q4_0_quant(x, k) << nibble_shift(k));
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
            for (int k = 0; k < QK5_0; k++) {
                const int q = q5_0_quant(x, k);
                out[nibble_byte(k, r)] |= (uint8_t)((q & 0xF) << nibble_shift(k));
                out[fifth_byte(k, r)] |= (uint8_t)((q >> 4) << (k / 4));
            }
        }
    }
}

/* Row r of a group of Q4_0 (five: Q5_0) blocks of `block` bytes. */
static void row_of(const uint8_t *in, int64_t n, int r, float *y, bool five, size_t block)
{
    const int offset = five ? 16 : 8;
    for (int64_t b = 0; b < n / 32; b++, in += block, y += 32) {
        const float d = scale_of(in, r);
        for (int k = 0; k < 32; k++) y[k] = (float)(packed_quant(in, k, r, five) - offset) * d;
    }
}

void qt_r16_q4_0_row(const void *group, int64_t n, int r, float *y)
{
    row_of(group, n, r, y, false, QT_R16_Q4_0_BLOCK);
}

void qt_r16_q5_0_row(const void *group, int64_t n, int r, float *y)
{
    row_of(group, n, r, y, true, QT_R16_Q5_0_BLOCK);
}

static int q4_0_signed(const uint8_t *in, int k, int r) { return packed_quant(in, k, r, false) - 8; }
static int q5_0_signed(const uint8_t *in, int k, int r) { return packed_quant(in, k, r, true) - 16; }

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
