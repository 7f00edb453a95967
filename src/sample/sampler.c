/* sampler.c - token sampling: temperature -> top-k -> top-p -> min-p -> draw.
 *
 * Weights are w_i = exp((l_i - l_max) / T) (so the best token has w = 1);
 * top-k keeps the k largest, top-p the shortest most-likely-first prefix
 * whose mass reaches top_p of what is left, min-p the tokens with
 * w_i >= min_p. Top-p without top-k sorts only the tokens above a weight
 * threshold, lowering it until the prefix is found, so a 150k vocabulary is
 * rarely sorted per token, and a radix sort when it is (a flat
 * distribution). Failure: GLIMP_ERR_ARG for bad parameters or an
 * empty / all -inf distribution, GLIMP_ERR_NOMEM when scratch cannot grow.
 */
#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "glimp.h"
#include "sample/rank.h"
#include "sample/rng.h"
#include "sample/topk.h"

/* top_k up to this uses the insertion selection; larger ones sort. */
#define TOPK_SELECT_MAX 256

struct glimp_sampler {
    glimp_sampler_params p;
    sample_rng rng;
    rank_scratch r;  /* candidates */
    int32_t *ids;    /* (TOPK_SELECT_MAX) top-k selection */
};

glimp_sampler_params glimp_sampler_default_params(void)
{
    return (glimp_sampler_params){.temperature = 0.6f, .top_k = 0, .top_p = 0.95f, .min_p = 0.0f,
                                  .seed = 0};
}

glimp_sampler *glimp_sampler_create(const glimp_sampler_params *params, glimp_error *err)
{
    glimp_sampler_params p = params ? *params : glimp_sampler_default_params();
    if (p.top_k < 0 || !(p.top_p > 0.0f && p.top_p <= 1.0f) ||
        !(p.min_p >= 0.0f && p.min_p <= 1.0f) || p.temperature != p.temperature) {
        glimp_error_set(err, GLIMP_ERR_ARG, "sampler: top_k %d, top_p %g, min_p %g or "
                        "temperature %g out of range", (int)p.top_k, (double)p.top_p,
                        (double)p.min_p, (double)p.temperature);
        return NULL;
    }
    glimp_sampler *s = calloc(1, sizeof *s);
    if (s) s->ids = malloc(TOPK_SELECT_MAX * sizeof *s->ids);
    if (!s || !s->ids) {
        free(s);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "sampler: out of memory");
        return NULL;
    }
    s->p = p;
    sample_rng_seed(&s->rng, p.seed);
    return s;
}

void glimp_sampler_free(glimp_sampler *s)
{
    if (!s) return;
    rank_scratch_free(&s->r);
    free(s->ids);
    free(s);
}

void glimp_sampler_reseed(glimp_sampler *s, uint64_t seed) { sample_rng_seed(&s->rng, seed); }

/* Shortest prefix of the sorted candidates whose weight reaches `target`. */
static size_t top_p_prefix(const rank_cand *c, size_t nc, double target)
{
    double cum = 0.0;
    for (size_t i = 0; i < nc; i++) {
        cum += c[i].w;
        if (cum >= target) return i + 1;
    }
    return nc;
}

glimp_status glimp_sampler_sample(glimp_sampler *s, const float *logits, size_t n_vocab,
                                  int32_t *token, glimp_error *err)
{
    if (!logits || n_vocab == 0 || n_vocab > INT32_MAX)
        return glimp_error_set(err, GLIMP_ERR_ARG, "sampler: empty vocabulary");
    const int32_t best = glimp_argmax(logits, n_vocab);
    const float mx = sample_logit(logits, (size_t)best);
    if (mx == -INFINITY)
        return glimp_error_set(err, GLIMP_ERR_ARG, "sampler: every logit is -inf or NaN");
    if (!(s->p.temperature > 0.0f)) {
        *token = best;
        return GLIMP_OK;
    }
    if (!rank_reserve(&s->r, n_vocab))
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "sampler: out of memory");
    rank_cand *c = s->r.c;
    const double inv_t = 1.0 / s->p.temperature;
    size_t nc;
    if (s->p.top_k > 0 && (size_t)s->p.top_k < n_vocab) {
        const size_t k = (size_t)s->p.top_k;
        if (k <= TOPK_SELECT_MAX) {
            sample_topk(logits, n_vocab, k, s->ids);
            nc = 0;
            for (size_t i = 0; i < k; i++) {
                const float l = sample_logit(logits, (size_t)s->ids[i]);
                const double w = exp(((double)l - mx) * inv_t);
                if (w > 0.0) c[nc++] = (rank_cand){s->ids[i], w};
            }
        } else {
            nc = rank_collect(&s->r, logits, n_vocab, mx, inv_t, 0.0, NULL);
            if (nc > k) nc = k;
        }
        if (s->p.top_p < 1.0f) {
            double z = 0.0;
            for (size_t i = 0; i < nc; i++) z += c[i].w;
            nc = top_p_prefix(c, nc, s->p.top_p * z);
        }
    } else if (s->p.top_p < 1.0f) {
        double z = 0.0;
        for (size_t i = 0; i < n_vocab; i++)
            z += exp(((double)sample_logit(logits, i) - mx) * inv_t);
        const double target = s->p.top_p * z;
        /* widen the weight threshold until the sorted prefix holds the mass */
        for (double cut = 16.0;; cut *= 2.0) {
            const double thr = cut > 700.0 ? 0.0 : exp(-cut);
            nc = rank_collect(&s->r, logits, n_vocab, mx, inv_t, thr, NULL);
            double cum = 0.0;
            for (size_t i = 0; i < nc; i++) cum += c[i].w;
            if (cum >= target || thr == 0.0) break;
        }
        nc = top_p_prefix(c, nc, target);
    } else {
        /* plain temperature: every token, in id order */
        nc = 0;
        for (size_t i = 0; i < n_vocab; i++) {
            const float l = sample_logit(logits, i);
            const double w = exp(((double)l - mx) * inv_t);
            if (w > 0.0) c[nc++] = (rank_cand){(int32_t)i, w};
        }
    }
    /* min-p: relative to the best token, whose weight is 1 */
    double z = 0.0;
    size_t kept = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].w < (double)s->p.min_p) continue;
        c[kept++] = c[i];
        z += c[i].w;
    }
    const double r = sample_rng_uniform(&s->rng) * z;
    double cum = 0.0;
    for (size_t i = 0; i < kept; i++) {
        cum += c[i].w;
        if (r < cum) {
            *token = c[i].id;
            return GLIMP_OK;
        }
    }
    *token = c[kept - 1].id; /* rounding: r landed on the total */
    return GLIMP_OK;
}
