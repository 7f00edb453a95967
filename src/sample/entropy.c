/* entropy.c - next-token entropy (natural log) of the raw softmax at
 * temperature 1: over the full vocabulary, over the renormalised top-K, and
 * the probe summary the router uses. Sums are in double after subtracting
 * the maximum logit. Fails (GLIMP_ERR_ARG) only for an empty vocabulary or
 * one whose logits are all -inf/NaN; the plain entropy functions then
 * return NaN.
 */
#include <math.h>

#include "base/error.h"
#include "glimp.h"
#include "sample/topk.h"

/* The first index of the largest logit. The maximum is found first in
 * ARGMAX_LANES independent lanes (the compiler vectorises that loop: a
 * serving pass of 16 sequences spent 4.5% of its time here, scalar), then
 * the first logit equal to it. */
#define ARGMAX_LANES 8
int32_t glimp_argmax(const float *logits, size_t n_vocab)
{
    float lane[ARGMAX_LANES];
    for (int k = 0; k < ARGMAX_LANES; k++) lane[k] = -INFINITY;
    size_t i = 0;
    for (; i + ARGMAX_LANES <= n_vocab; i += ARGMAX_LANES)
        for (int k = 0; k < ARGMAX_LANES; k++) {
            const float l = sample_logit(logits, i + k);
            lane[k] = l > lane[k] ? l : lane[k];
        }
    float max = -INFINITY;
    for (int k = 0; k < ARGMAX_LANES; k++) max = lane[k] > max ? lane[k] : max;
    for (; i < n_vocab; i++) max = sample_logit(logits, i) > max ? sample_logit(logits, i) : max;
    for (i = 0; i < n_vocab; i++)
        if (sample_logit(logits, i) == max) return (int32_t)i;
    return 0;
}

/* Entropy of softmax over logits[ids[0..n)] (all of 0..n-1 when ids is
 * NULL); *log_z receives log sum exp(l - max), *max the max. */
static double softmax_entropy(const float *logits, const int32_t *ids, size_t n, double *max,
                              double *log_z)
{
    double m = -INFINITY, z = 0.0, zl = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double l = sample_logit(logits, ids ? (size_t)ids[i] : i);
        if (l > m) m = l;
    }
    *max = m;
    if (m == -INFINITY) {
        *log_z = NAN;
        return NAN;
    }
    for (size_t i = 0; i < n; i++) {
        const double d = sample_logit(logits, ids ? (size_t)ids[i] : i) - m;
        if (d == -INFINITY) continue; /* p = 0 contributes nothing (and 0 * inf is NaN) */
        const double e = exp(d);
        z += e;
        zl += e * d;
    }
    *log_z = log(z);
    /* H = -sum p log p with p = e/z, log p = d - log z  =>  H = log z - sum(e d)/z */
    return *log_z - zl / z;
}

static size_t clamp_k(int k, size_t n_vocab)
{
    size_t kk = k < 1 ? 1 : (size_t)k;
    if (kk > GLIMP_PROBE_MAX_K) kk = GLIMP_PROBE_MAX_K;
    return kk < n_vocab ? kk : n_vocab;
}

double glimp_log_sum_exp(const float *logits, size_t n_vocab)
{
    double m, lz;
    softmax_entropy(logits, NULL, n_vocab, &m, &lz);
    return m + lz;
}

double glimp_entropy_full(const float *logits, size_t n_vocab)
{
    double m, lz;
    return softmax_entropy(logits, NULL, n_vocab, &m, &lz);
}

double glimp_entropy_full_lse(const float *logits, size_t n_vocab, double *log_sum_exp)
{
    double m, lz;
    const double h = softmax_entropy(logits, NULL, n_vocab, &m, &lz);
    *log_sum_exp = m + lz;
    return h;
}

double glimp_entropy_topk(const float *logits, size_t n_vocab, int k)
{
    int32_t ids[GLIMP_PROBE_MAX_K];
    double m, lz;
    if (n_vocab == 0) return NAN;
    const size_t kk = clamp_k(k, n_vocab);
    sample_topk(logits, n_vocab, kk, ids);
    /* the top-K probabilities renormalised = the softmax of the top-K logits */
    return softmax_entropy(logits, ids, kk, &m, &lz);
}

glimp_status glimp_probe_summary(const float *logits, size_t n_vocab, int k, glimp_probe *out,
                                 glimp_error *err)
{
    double m, lz, mk, lzk;
    if (!logits || !out || n_vocab == 0)
        return glimp_error_set(err, GLIMP_ERR_ARG, "probe: empty distribution");
    out->entropy_full = softmax_entropy(logits, NULL, n_vocab, &m, &lz);
    if (m == -INFINITY)
        return glimp_error_set(err, GLIMP_ERR_ARG, "probe: every logit is -inf or NaN");
    const size_t kk = clamp_k(k, n_vocab);
    sample_topk(logits, n_vocab, kk, out->ids);
    out->entropy_topk = softmax_entropy(logits, out->ids, kk, &mk, &lzk);
    out->k = (int)kk;
    for (size_t i = 0; i < kk; i++)
        out->logprobs[i] = (float)(sample_logit(logits, (size_t)out->ids[i]) - m - lz);
    return GLIMP_OK;
}
