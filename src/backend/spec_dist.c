/* spec_dist.c - the dense sampling distribution of one position: what
 * glimp_sampler draws from at temperature T and top-p P (ties in logit keep
 * the lower id first), written out as probabilities so that the target's p
 * and the draft's q can be compared token by token.
 *
 * Top-p sorts only the tokens above a weight threshold, widening it until
 * they hold the mass, and collects them as the sampler does (rank_collect).
 * Failure: GLIMP_ERR_ARG for an all -inf/NaN row, GLIMP_ERR_NOMEM.
 */
#include "backend/spec.h"

#include "base/error.h"
#include "sample/rank.h"
#include "sample/topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

glimp_status spec_dist(const float *logits, size_t n, const spec_sampling *s, float *probs,
                       rank_scratch *scratch, glimp_error *err)
{
    const int32_t best = glimp_argmax(logits, n);
    const float mx = n ? sample_logit(logits, (size_t)best) : -INFINITY;
    if (mx == -INFINITY)
        return glimp_error_set(err, GLIMP_ERR_ARG, "speculation: every logit is -inf or NaN");
    memset(probs, 0, n * sizeof *probs);
    if (!(s->temperature > 0.0f)) {
        probs[best] = 1.0f;
        return GLIMP_OK;
    }
    const double inv_t = 1.0 / s->temperature;
    double z = 0.0;
    if (s->top_p >= 1.0f) {
        for (size_t i = 0; i < n; i++) z += exp(((double)sample_logit(logits, i) - mx) * inv_t);
        for (size_t i = 0; i < n; i++)
            probs[i] = (float)(exp(((double)sample_logit(logits, i) - mx) * inv_t) / z);
        return GLIMP_OK;
    }
    if (!rank_reserve(scratch, n))
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "speculation: out of memory");
    for (size_t i = 0; i < n; i++) z += exp(((double)sample_logit(logits, i) - mx) * inv_t);
    const double target = s->top_p * z;
    size_t nc = 0;
    for (double cut = 16.0;; cut *= 2.0) {
        const double thr = cut > 700.0 ? 0.0 : exp(-cut);
        double cum;
        nc = rank_collect(scratch, logits, n, mx, inv_t, thr, &cum);
        if (cum >= target || thr == 0.0) break;
    }
    const rank_cand *c = scratch->c;
    double kept = 0.0;
    size_t k = 0;
    while (k < nc && kept < target) kept += c[k++].w;
    for (size_t i = 0; i < k; i++) probs[c[i].id] = (float)(c[i].w / kept);
    return GLIMP_OK;
}
