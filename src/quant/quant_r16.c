/* quant_r16.c - the 16-row Q8_0 layout (quant_r16.h): packing, row
 * dequantization, activation prep records, the scalar reference kernel and
 * the choice of kernel. Nothing here fails.
 */
#include "quant/quant_r16.h"

#include <math.h>
#include <string.h>

#include "base/cpu.h"
#include "quant/quant.h"
#include "quant/quant_blocks.h"

enum { GROUP_BLOCK = 32 + 32 * QT_R16_ROWS }; /* bytes of one block of a group */

qt_r16_fn qt_r16_kernel(void)
{
    return cpu_kernel_level() >= CPU_LEVEL_AVX512 ? qt_r16_dot_avx512 : NULL;
}

void qt_r16_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    const uint8_t *src = rows;
    uint8_t *out = group;
    for (int64_t b = 0; b < n / QK8_0; b++, out += GROUP_BLOCK) {
        for (int r = 0; r < QT_R16_ROWS; r++) {
            const block_q8_0 *x = (const block_q8_0 *)(src + (size_t)r * row_bytes) + b;
            memcpy(out + 2 * r, &x->d, 2);
            for (int g = 0; g < QK8_0 / 4; g++) { /* 4 quants, each + 128 (xor of the sign bit) */
                uint32_t four;
                memcpy(&four, x->qs + 4 * g, 4);
                four ^= 0x80808080u;
                memcpy(out + 32 + g * 4 * QT_R16_ROWS + 4 * r, &four, 4);
            }
        }
    }
}

void qt_r16_row(const void *group, int64_t n, int r, float *y)
{
    const uint8_t *in = group;
    for (int64_t b = 0; b < n / QK8_0; b++, in += GROUP_BLOCK) {
        uint16_t d16;
        memcpy(&d16, in + 2 * r, 2);
        const float d = qt_f16_to_f32(d16);
        for (int k = 0; k < QK8_0; k++)
            y[b * QK8_0 + k] = d * (float)(in[32 + (k / 4) * 4 * QT_R16_ROWS + 4 * r + k % 4] - 128);
    }
}

size_t qt_r16_prep_offset(int64_t n)
{
    return ((size_t)(n / QK8_0) * sizeof(block_q8_0) + 7) & ~(size_t)7;
}

size_t qt_r16_act_bytes(int64_t n)
{
    return qt_r16_prep_offset(n) + (size_t)(n / QK8_0) * sizeof(qt_r16_prep);
}

void qt_r16_prepare(void *act, int64_t n)
{
    const block_q8_0 *a = act;
    qt_r16_prep *p = (qt_r16_prep *)((uint8_t *)act + qt_r16_prep_offset(n));
    for (int64_t b = 0; b < n / QK8_0; b++) {
        int32_t sum = 0;
        for (int k = 0; k < QK8_0; k++) sum += a[b].qs[k];
        p[b] = (qt_r16_prep){.corr = -128 * sum, .d = qt_f16_to_f32(a[b].d)};
    }
}

void qt_r16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                    size_t act_stride, int nt)
{
    const size_t off = qt_r16_prep_offset(n);
    for (int t = 0; t < nt; t++) {
        const uint8_t *at = (const uint8_t *)act + (size_t)t * act_stride;
        const block_q8_0 *a = (const block_q8_0 *)at;
        const qt_r16_prep *p = (const qt_r16_prep *)(at + off);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            float acc = 0.0f;
            const uint8_t *in = group;
            for (int64_t b = 0; b < n / QK8_0; b++, in += GROUP_BLOCK) {
                int32_t sum = p[b].corr;
                for (int k = 0; k < QK8_0; k++)
                    sum += (int32_t)in[32 + (k / 4) * 4 * QT_R16_ROWS + 4 * r + k % 4] * a[b].qs[k];
                uint16_t d16;
                memcpy(&d16, in + 2 * r, 2);
                const float dd = qt_f16_to_f32(d16) * p[b].d;
                acc = fmaf(dd, (float)sum, acc);
            }
            s[t * s_stride + r] = acc;
        }
    }
}
