/* spec_drafter.h - what a drafter of speculative decoding provides: up to k
 * tokens it guesses follow a token history, and, when it drew them from a
 * distribution, that distribution per drafted position (for the rejection
 * rule). Implementations: spec_ngram.c (prompt lookup), spec_model.c (a
 * draft model's session).
 */
#ifndef GLIMP_BACKEND_SPEC_DRAFTER_H
#define GLIMP_BACKEND_SPEC_DRAFTER_H

#include "backend/spec.h"

typedef struct spec_drafter spec_drafter;

struct spec_drafter {
    /* Writes up to k (>= 1) tokens guessed to follow hist[0..n) to out and
     * returns how many (0: no guess), or -1 with err set; a guess that
     * `end` says ends generation is the last one (end NULL: no such check). */
    int (*propose)(spec_drafter *d, const int32_t *hist, size_t n, int k,
                   const spec_sampling *s, const spec_end *end, sample_rng *rng,
                   int32_t *out, glimp_error *err);
    /* Distribution (target-vocabulary sized) the i-th token of the last
     * proposal was drawn from; NULL when it was chosen outright (greedy, or
     * a drafter without a distribution: a point mass). */
    const float *(*q)(const spec_drafter *d, int i);
    void (*free)(spec_drafter *d);
};

/* Whether `end` says generation ends with t. */
static inline bool spec_ends(const spec_end *end, int32_t t)
{
    return end && end->ends && end->ends(end->user, t);
}

/* Prompt lookup over the history itself. NULL + GLIMP_ERR_NOMEM. */
spec_drafter *spec_ngram_create(glimp_error *err);

/* Drafts with `draft` (borrowed: its cache is synced to each history by
 * prefix), for a target of n_vocab tokens whose ids mean the same text over
 * their shared range; at most k_max tokens per proposal. NULL + err. */
spec_drafter *spec_model_create(glimp_session *draft, size_t n_vocab, int k_max,
                                glimp_error *err);

#endif
