/* quant_r16.c - the 16-row Q8_0 layout (quant_r16.h): packing, row
 * dequantization, activation prep records and the scalar reference kernel
 * (shared with Q4_0 and Q5_0); and the table of every type's layout with
 * the CPU level its kernel needs. Nothing here fails.
 */
#include "quant/quant_r16.h"

#include <math.h>
#include <string.h>

#include "base/cpu.h"
#include "quant/quant.h"
#include "quant/quant_blocks.h"

#define GROUP_BLOCK QT_R16_Q8_0_BLOCK

/* BF16 exists for vdpbf16ps, so it needs that level; the others AVX-512 VNNI. */
static const qt_r16_layout layouts[] = {
    {QT_Q8_0, 32, CPU_LEVEL_AVX512, qt_r16_dot_avx512, qt_r16_pack, qt_r16_row, true},
    {QT_F16, 2, CPU_LEVEL_AVX512, qt_r16_f16_dot_avx512, qt_r16_f16_pack, qt_r16_f16_row, false},
    {QT_BF16, 4, CPU_LEVEL_AVX512_BF16, qt_r16_bf16_dot_avx512, qt_r16_bf16_pack, qt_r16_bf16_row,
     false},
    {QT_Q4_0, QK4_0, CPU_LEVEL_AVX512, qt_r16_q4_0_dot_avx512, qt_r16_q4_0_pack, qt_r16_q4_0_row,
     true},
    {QT_Q5_0, QK5_0, CPU_LEVEL_AVX512, qt_r16_q5_0_dot_avx512, qt_r16_q5_0_pack, qt_r16_q5_0_row,
     true},
    {QT_Q4_1, QK4_1, CPU_LEVEL_AVX512, qt_r16_q4_1_dot_avx512, qt_r16_q4_1_pack, qt_r16_q4_1_row,
     false},
    {QT_Q5_1, QK5_1, CPU_LEVEL_AVX512, qt_r16_q5_1_dot_avx512, qt_r16_q5_1_pack, qt_r16_q5_1_row,
     false},
    {QT_Q4_K, QK_K, CPU_LEVEL_AVX512, qt_r16_q4_k_dot_avx512, qt_r16_q4_k_pack, qt_r16_q4_k_row,
     false},
    {QT_Q6_K, QK_K, CPU_LEVEL_AVX512, qt_r16_q6_k_dot_avx512, qt_r16_q6_k_pack, qt_r16_q6_k_row,
     false},
};

const qt_r16_layout *qt_r16_layout_of(uint32_t type)
{
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++)
        if (layouts[i].type == type)
            return cpu_kernel_level() >= layouts[i].level ? &layouts[i] : NULL;
    return NULL;
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

void qt_r16_block32_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt, size_t block,
                            int (*quant)(const uint8_t *block, int k, int r))
{
    const size_t off = qt_r16_prep_offset(n);
    for (int t = 0; t < nt; t++) {
        const uint8_t *at = (const uint8_t *)act + (size_t)t * act_stride;
        const block_q8_0 *a = (const block_q8_0 *)at;
        const qt_r16_prep *p = (const qt_r16_prep *)(at + off);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            float acc = 0.0f;
            const uint8_t *in = group;
            for (int64_t b = 0; b < n / QK8_0; b++, in += block) {
                int32_t sum = 0;
                for (int k = 0; k < QK8_0; k++) sum += quant(in, k, r) * a[b].qs[k];
                uint16_t d16;
                memcpy(&d16, in + 2 * r, 2);
                acc = fmaf(qt_f16_to_f32(d16) * p[b].d, (float)sum, acc);
            }
            s[t * s_stride + r] = acc;
        }
    }
}

static int q8_0_quant(const uint8_t *in, int k, int r)
{
    return in[32 + (k / 4) * 4 * QT_R16_ROWS + 4 * r + k % 4] - 128;
}

void qt_r16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                    size_t act_stride, int nt)
{
    qt_r16_block32_dot_ref(n, s, s_stride, group, act, act_stride, nt, GROUP_BLOCK, q8_0_quant);
}
