/* quant_bf16_r16.c - the 16-row BF16 layout (quant_r16.h): packing, row
 * conversion and the scalar reference (its kernel needs AVX-512 BF16: the
 * layout exists for vdpbf16ps). Nothing here fails.
 */
#include <string.h>

#include "quant/quant.h"
#include "quant/quant_r16.h"

/* Element k of row r in a group: pairs of columns, 16 rows per pair. */
static size_t at(int64_t k, int r) { return (size_t)(k / 2) * 2 * QT_R16_ROWS + 2 * r + k % 2; }

void qt_r16_bf16_pack(const void *rows, size_t row_bytes, int64_t n, void *group)
{
    const uint8_t *src = rows;
    uint16_t *out = group;
    for (int r = 0; r < QT_R16_ROWS; r++) {
        const uint16_t *x = (const uint16_t *)(src + (size_t)r * row_bytes);
        for (int64_t k = 0; k < n; k++) out[at(k, r)] = x[k];
    }
}

void qt_r16_bf16_row(const void *group, int64_t n, int r, float *y)
{
    const uint16_t *in = group;
    for (int64_t k = 0; k < n; k++) y[k] = qt_bf16_to_f32(in[at(k, r)]);
}

void qt_r16_bf16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt)
{
    const uint16_t *w = group;
    for (int t = 0; t < nt; t++) {
        const uint16_t *a = (const uint16_t *)((const uint8_t *)act + (size_t)t * act_stride);
        for (int r = 0; r < QT_R16_ROWS; r++) {
            float even = 0.0f, odd = 0.0f; /* column pairs 0, 2, 4.. and 1, 3, 5.. */
            for (int64_t k = 0; k < n; k++) {
                const float p = qt_bf16_to_f32(w[at(k, r)]) * qt_bf16_to_f32(a[k]);
                if (k / 2 % 2 == 0) even += p;
                else odd += p;
            }
            s[t * s_stride + r] = even + odd;
        }
    }
}
