/* quant_k_quantize.c - F32 -> Q2_K/Q3_K/Q4_K/Q5_K/Q6_K weight quantizers.
 *
 * Two levels, as ggml does it (without an importance matrix): each
 * sub-block gets the scale (and minimum) that minimises a weighted squared
 * or absolute error over a small grid of candidate scales; the sub-block
 * scales are then themselves quantized against one fp16 super-scale, and the
 * quants are recomputed with the scales as they will be decoded. The search
 * rules follow ggml's reference quantizers, so the error matches
 * llama-quantize's (tests/test_quant_ref.c measures it). Never fails: all
 * zero input gives all zero blocks; n is a multiple of 256.
 */
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_kernels.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define TINY 1e-15f /* a group whose absolute maximum is below this is zero */


/* Affine fit x ~ scale * L + min with L in 0..nmax and min <= 0, for Q2_K,
 * Q4_K and Q5_K sub-blocks: tries nstep + 1 scales (nmax + rmin + rdelta*k
 * steps across the range), solving weighted least squares for scale and min
 * at each, and keeps the lowest weighted error (absolute if use_mad).
 * Returns the scale; *neg_min = -min >= 0. */
static float fit_affine(int n, int nmax, const float *x, const float *w, uint8_t *L,
                        float *neg_min, float rmin, float rdelta, int nstep, bool use_mad)
{
    float mn = x[0], mx = x[0], sum_w = w[0], sum_x = w[0] * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (mn > 0) mn = 0;
    if (mx == mn) {
        memset(L, 0, (size_t)n);
        *neg_min = -mn;
        return 0.0f;
    }
    float iscale = nmax / (mx - mn);
    float scale = 1 / iscale;
    float best = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)qt_clampi(qt_nearest_int(iscale * (x[i] - mn)), 0, nmax);
        float diff = scale * L[i] + mn - x[i];
        best += w[i] * (use_mad ? fabsf(diff) : diff * diff);
    }
    uint8_t cand[32];
    for (int step = 0; step <= nstep; step++) {
        iscale = (rmin + rdelta * step + nmax) / (mx - mn);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = qt_clampi(qt_nearest_int(iscale * (x[i] - mn)), 0, nmax);
            cand[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float det = sum_w * sum_l2 - sum_l * sum_l;
        if (det <= 0) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = this_scale * cand[i] + this_min - x[i];
            err += w[i] * (use_mad ? fabsf(diff) : diff * diff);
        }
        if (err < best) {
            memcpy(L, cand, (size_t)n);
            best = err;
            scale = this_scale;
            mn = this_min;
        }
    }
    *neg_min = -mn;
    return scale;
}

/* Symmetric fit x ~ scale * (L - nmax), L in 0..2*nmax-1, weights x^2, for
 * Q6_K sub-blocks: starts from the scale that maps the signed maximum to
 * -nmax, refines it by least squares and tries 18 nearby scales. */
static float fit_symmetric(int n, int nmax, const float *x, int8_t *L)
{
    float max = qt_signed_absmax(x, n);
    if (fabsf(max) < TINY) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = qt_clampi(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int k = -9; k <= 9; k++) {
        if (k == 0) continue;
        iscale = -(nmax + 0.1f * k) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = qt_clampi(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + qt_clampi(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric fit for Q3_K sub-blocks (L in -nmax..nmax-1, weights x^2):
 * least squares from the absmax scale, then up to 5 passes moving single
 * quants to whatever value lowers the error. Returns the scale; L is left
 * offset by +nmax. */
static float fit_q3(int n, int nmax, const float *x, int8_t *L)
{
    float max = qt_signed_absmax(x, n);
    if (fabsf(max) < TINY) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = qt_clampi(qt_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx <= 0) continue;
            float sl2 = suml2 - w * L[i] * L[i];
            int nl = qt_clampi(qt_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i]) continue;
            slx += w * x[i] * nl;
            sl2 += w * nl * nl;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (int8_t)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Packs 256 2-bit quants in the Q2_K/Q3_K order. */
static void pack_2bit(const uint8_t *L, uint8_t qs[QK_K / 4])
{
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++)
            qs[32 * h + l] = (uint8_t)(L[128 * h + l] | (L[128 * h + l + 32] << 2) |
                                       (L[128 * h + l + 64] << 4) | (L[128 * h + l + 96] << 6));
}

/* ---- Q2_K ----------------------------------------------------------------- */

void qt_quant_q2_K(const float *x, void *vy, int64_t n)
{
    block_q2_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        uint8_t L[QK_K];
        float scales[16], mins[16], w[16], max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            scales[j] = fit_affine(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        memset(y[i].scales, 0, sizeof y[i].scales);
        y[i].d = qt_f32_to_f16(max_scale > 0 ? max_scale / 15.0f : 0.0f);
        y[i].dmin = qt_f32_to_f16(max_min > 0 ? max_min / 15.0f : 0.0f);
        for (int j = 0; j < 16; j++) {
            int ls = max_scale > 0 ? qt_nearest_int(15.0f / max_scale * scales[j]) : 0;
            int lm = max_min > 0 ? qt_nearest_int(15.0f / max_min * mins[j]) : 0;
            y[i].scales[j] = (uint8_t)(qt_clampi(ls, 0, 15) | (qt_clampi(lm, 0, 15) << 4));
        }
        for (int j = 0; j < 16; j++) {
            const float d = qt_f16_to_f32(y[i].d) * (y[i].scales[j] & 0xF);
            if (d == 0.0f) continue;
            const float dm = qt_f16_to_f32(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)qt_clampi(qt_nearest_int((x[16 * j + l] + dm) / d), 0, 3);
        }
        pack_2bit(L, y[i].qs);
    }
}

/* ---- Q3_K ----------------------------------------------------------------- */

void qt_quant_q3_K(const float *x, void *vy, int64_t n)
{
    block_q3_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        int8_t L[QK_K];
        float scales[16];
        for (int j = 0; j < 16; j++) scales[j] = fit_q3(16, 4, x + 16 * j, L + 16 * j);
        const float max_scale = qt_signed_absmax(scales, 16);
        memset(y[i].scales, 0, sizeof y[i].scales);
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = qt_clampi(qt_nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0xF);
                else y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                y[i].scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[i].d = qt_f32_to_f16(1 / iscale);
        } else {
            y[i].d = qt_f32_to_f16(0.0f);
        }
        int8_t sc[16];
        qt_q3_k_scales(y[i].scales, sc);
        for (int j = 0; j < 16; j++) {
            const float d = qt_f16_to_f32(y[i].d) * sc[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(qt_clampi(qt_nearest_int(x[16 * j + l] / d), -4, 3) + 4);
        }
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        uint8_t low[QK_K];
        for (int e = 0; e < QK_K; e++) {
            if (L[e] > 3) y[i].hmask[e % 32] |= (uint8_t)(1 << (e / 32));
            low[e] = (uint8_t)(L[e] & 3);
        }
        pack_2bit(low, y[i].qs);
    }
}

/* ---- Q4_K and Q5_K -------------------------------------------------------- */

/* Sub-block fits and packed 6-bit scales for a Q4_K/Q5_K super-block:
 * fills the scales, the fp16 super-scales d_dmin = {d, dmin}, and the
 * quants L (0..nmax) recomputed with the scales as decoded. */
static void quant_k_affine(const float *x, int nmax, float rmin, int nstep, uint8_t *scales_out,
                           uint16_t d_dmin[2], uint8_t L[QK_K])
{
    float scales[8], mins[8], w[32], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xs[l]);
        scales[j] = fit_affine(32, nmax, xs, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    memset(scales_out, 0, K_SCALE_SIZE);
    for (int j = 0; j < 8; j++) {
        int ls = qt_clampi(qt_nearest_int(inv_scale * scales[j]), 0, 63);
        int lm = qt_clampi(qt_nearest_int(inv_min * mins[j]), 0, 63);
        if (j < 4) {
            scales_out[j] = (uint8_t)ls;
            scales_out[j + 4] = (uint8_t)lm;
        } else {
            scales_out[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            scales_out[j - 4] |= (uint8_t)((ls >> 4) << 6);
            scales_out[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    d_dmin[0] = qt_f32_to_f16(max_scale / 63.0f);
    d_dmin[1] = qt_f32_to_f16(max_min / 63.0f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        qt_k_scale_min(j, scales_out, &sc, &m);
        const float d = qt_f16_to_f32(d_dmin[0]) * sc;
        if (d == 0.0f) continue;
        const float dm = qt_f16_to_f32(d_dmin[1]) * m;
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)qt_clampi(qt_nearest_int((x[32 * j + l] + dm) / d), 0, nmax);
    }
}

void qt_quant_q4_K(const float *x, void *vy, int64_t n)
{
    block_q4_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        uint8_t L[QK_K];
        uint16_t dd[2];
        quant_k_affine(x, 15, -1.0f, 20, y[i].scales, dd, L);
        y[i].d = dd[0];
        y[i].dmin = dd[1];
        for (int p = 0; p < 4; p++)
            for (int l = 0; l < 32; l++)
                y[i].qs[32 * p + l] = (uint8_t)(L[64 * p + l] | (L[64 * p + 32 + l] << 4));
    }
}

void qt_quant_q5_K(const float *x, void *vy, int64_t n)
{
    block_q5_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        uint8_t L[QK_K];
        uint16_t dd[2];
        quant_k_affine(x, 31, -0.5f, 15, y[i].scales, dd, L);
        y[i].d = dd[0];
        y[i].dmin = dd[1];
        memset(y[i].qh, 0, sizeof y[i].qh);
        for (int p = 0; p < 4; p++) {
            for (int l = 0; l < 32; l++) {
                int lo = L[64 * p + l], hi = L[64 * p + 32 + l];
                y[i].qs[32 * p + l] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
                y[i].qh[l] |= (uint8_t)(((lo >> 4) << (2 * p)) | ((hi >> 4) << (2 * p + 1)));
            }
        }
    }
}

/* ---- Q6_K ----------------------------------------------------------------- */

void qt_quant_q6_K(const float *x, void *vy, int64_t n)
{
    block_q6_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        int8_t L[QK_K];
        float scales[16];
        for (int j = 0; j < 16; j++) scales[j] = fit_symmetric(16, 32, x + 16 * j, L + 16 * j);
        const float max_scale = qt_signed_absmax(scales, 16);
        memset(&y[i], 0, sizeof y[i]);
        if (fabsf(max_scale) < TINY) continue;
        const float iscale = -128.0f / max_scale;
        y[i].d = qt_f32_to_f16(1 / iscale);
        for (int j = 0; j < 16; j++)
            y[i].scales[j] = (int8_t)qt_clampi(qt_nearest_int(iscale * scales[j]), -128, 127);
        for (int j = 0; j < 16; j++) {
            const float d = qt_f16_to_f32(y[i].d) * y[i].scales[j];
            if (d == 0.0f) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(qt_clampi(qt_nearest_int(x[16 * j + l] / d), -32, 31) + 32);
        }
        for (int h = 0; h < 2; h++) {
            const int8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                y[i].ql[64 * h + l] = (uint8_t)((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
                y[i].ql[64 * h + l + 32] = (uint8_t)((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
                y[i].qh[32 * h + l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}
