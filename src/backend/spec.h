/* spec.h - speculative decoding inside one generate call (internal API):
 * the sampling distribution both models are compared under (spec_dist.c),
 * the acceptance rule (spec_verify.c), the drafters (spec_drafter.h,
 * spec_ngram.c, spec_model.c) and the draft-verify loop (spec_decode.c).
 */
#ifndef GLIMP_BACKEND_SPEC_H
#define GLIMP_BACKEND_SPEC_H

#include "glimp.h"
#include "sample/rank.h"
#include "sample/rng.h"

/* How tokens are drawn: temperature <= 0 is greedy (argmax, lowest id on
 * ties); otherwise temperature then top-p, as glimp_sampler draws. */
typedef struct spec_sampling {
    float temperature;
    float top_p;
} spec_sampling;

/* probs[0..n) = the distribution glimp_sampler draws from for these
 * logits (temperature > 0): weights exp((l - max) / T), cut to the shortest
 * most-likely-first prefix whose mass reaches top_p, normalised; 0 elsewhere.
 * GLIMP_ERR_ARG when every logit is -inf/NaN, GLIMP_ERR_NOMEM when the
 * scratch (a candidate list that grows to the vocabulary) cannot grow. */
glimp_status spec_dist(const float *logits, size_t n, const spec_sampling *s, float *probs,
                       rank_scratch *scratch, glimp_error *err);

/* Draws an index from probs[0..n) (summing to ~1). */
int32_t spec_draw(const float *probs, size_t n, sample_rng *rng);

/* Rejection sampling at one position: the draft proposed `d` from q (q NULL:
 * a point mass on d). Accepts with probability min(1, p[d] / q[d]) and
 * returns true; otherwise returns false with *out drawn from the normalised
 * max(0, p - q), so the token kept is distributed as p. */
bool spec_accept(const float *p, const float *q, size_t n, int32_t d, sample_rng *rng,
                 int32_t *out);

/* ---- the draft-verify loop (spec_decode.c) ---- */

typedef struct spec_drafter spec_drafter;

/* Whether generation surely ends with `token` (an end-of-generation token,
 * or one whose text holds a stop string): a drafter guesses nothing past
 * it, since such guesses could never be kept. */
typedef struct spec_end {
    bool (*ends)(void *user, int32_t token);
    void *user;
} spec_end;

/* Hands one kept token to the caller, with the raw logits it was drawn
 * after. *done: generation ends with it; *keep: it belongs in the session
 * (false for an end-of-generation token). */
typedef glimp_status (*spec_emit_fn)(void *user, int32_t token, const float *logits, bool *done,
                                     bool *keep, glimp_error *err);

typedef struct spec_loop {
    spec_drafter *drafter;
    spec_sampling sampling;
    uint64_t seed;
    int draft_min, draft_max;
    int *draft_len;          /* adaptive draft length: in, the first; out, the last */
    size_t keep_free;        /* context positions no token may take */
    int max_new;             /* tokens that may still be kept after the pending one */
    spec_emit_fn emit;
    void *user;
    spec_end end;            /* ends == NULL: guesses run to the draft length */
    glimp_stepper *stepper;  /* optional, of the session's model: the passes run
                                through it (the caller is a member), batched
                                with other sessions' steps; NULL = alone */
} spec_loop;

typedef struct spec_stats {
    int drafted, accepted, forwards;
    bool context_full;       /* stopped because the next token had no room */
} spec_stats;

/* Generates after `pending` (already handed to emit, not yet in the
 * session `s`, which holds everything before it) until emit says done, the
 * context has no room, or max_new tokens were kept. On return the session
 * holds every kept token (but a final one emit did not keep). Counts go to
 * *stats (added to). Errors of the session, the drafter or emit pass
 * through; the session then holds a consistent prefix. */
glimp_status spec_decode(glimp_session *s, int32_t pending, const spec_loop *loop,
                         spec_stats *stats, glimp_error *err);

#endif
