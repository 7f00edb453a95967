/* quant_f16_r16.c - the 16-row F16 layout (quant_r16.h): packing, row
 * dequantization and the scalar reference kernel.
 * Nothing here fails.
 */
#include <math.h>
#include <string.h>

#include "quant/quant.h"
#include "quant/quant_r16.h"

void qt_r16_f16_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    const uint8_t *src = rows;
    uint16_t *out = group;
    for (int r = 0; r < QT_R16_ROWS; r++) {
        const uint16_t *x = (const uint16_t *)(src + (size_t)r * row_bytes);
        for (int64_t k = 0; k < n; k++) out[k * QT_R16_ROWS + r] = x[k];
    }
}

void qt_r16_f16_row(const void *group, int64_t n, int r, float *y)
{
    const uint16_t *in = group;
    for (int64_t k = 0; k < n; k++) y[k] = qt_f16_to_f32(in[k * QT_R16_ROWS + r]);
}

void qt_r16_f16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                        size_t act_stride, int nt)
{
    const uint16_t *w = group;
    for (int t = 0; t < nt; t++) {
        const float *a = (const float *)((const uint8_t *)act + (size_t)t * act_stride);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            float even = 0.0f, odd = 0.0f;
            for (int64_t k = 0; k < n; k += 2) {
                even = fmaf(qt_f16_to_f32(w[k * QT_R16_ROWS + r]), a[k], even);
                odd = fmaf(qt_f16_to_f32(w[(k + 1) * QT_R16_ROWS + r]), a[k + 1], odd);
            }
            s[t * s_stride + r] = even + odd;
        }
    }
}
