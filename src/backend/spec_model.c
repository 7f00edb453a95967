/* spec_model.c - the model drafter: a draft model's session (the SLM's, in
 * a routed pair, which already holds most of the context) is synced to the
 * target's history by prefix and decodes its guesses one by one, greedy or
 * drawn from its own distribution under the same temperature and top-p. A
 * guess outside the target's vocabulary ends the proposal there.
 *
 * Failure: the draft session's errors pass through, except a history too
 * long for its context, which only means no guess.
 */
#include "backend/spec_drafter.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct model_drafter {
    spec_drafter base;       /* first: the drafter is its base */
    glimp_session *draft;    /* borrowed */
    size_t n_vocab;          /* the target's */
    size_t n_vocab_draft;
    int k_max;
    float *q;                /* (k_max, n_vocab) distributions of the last proposal */
    float *dq;               /* (n_vocab_draft) one distribution over the draft vocabulary */
    bool sampled;            /* the last proposal was drawn (q rows valid) */
    rank_scratch scratch;
} model_drafter;

static int model_propose(spec_drafter *base, const int32_t *hist, size_t n, int k,
                         const spec_sampling *s, const spec_end *end, sample_rng *rng,
                         int32_t *out, glimp_error *err)
{
    model_drafter *m = (model_drafter *)base;
    glimp_session *ds = m->draft;
    if (k > m->k_max) k = m->k_max;
    const size_t n_ctx = glimp_session_n_ctx(ds);
    if (n + 1 >= n_ctx) return 0;
    if ((size_t)k > n_ctx - n - 1) k = (int)(n_ctx - n - 1);
    for (size_t i = 0; i < n; i++)
        if ((size_t)hist[i] >= m->n_vocab_draft) return 0; /* text the draft cannot read */
    if (glimp_session_sync(ds, hist, n, NULL, err) != GLIMP_OK) return -1;
    m->sampled = s->temperature > 0.0f;
    int got = 0;
    while (got < k) {
        const float *logits = glimp_session_logits(ds);
        int32_t t;
        if (m->sampled) {
            if (spec_dist(logits, m->n_vocab_draft, s, m->dq, &m->scratch, err) != GLIMP_OK)
                return -1;
            t = spec_draw(m->dq, m->n_vocab_draft, rng);
            size_t shared = m->n_vocab < m->n_vocab_draft ? m->n_vocab : m->n_vocab_draft;
            float *row = m->q + (size_t)got * m->n_vocab;
            memset(row, 0, m->n_vocab * sizeof *row);
            memcpy(row, m->dq, shared * sizeof *row);
        } else {
            t = glimp_argmax(logits, m->n_vocab_draft);
        }
        if ((size_t)t >= m->n_vocab) break;
        out[got++] = t;
        if (spec_ends(end, t)) break;
        if (got < k && glimp_session_decode(ds, t, err) != GLIMP_OK) return -1;
    }
    return got;
}

static const float *model_q(const spec_drafter *base, int i)
{
    const model_drafter *m = (const model_drafter *)base;
    return m->sampled ? m->q + (size_t)i * m->n_vocab : NULL;
}

static void model_free(spec_drafter *base)
{
    model_drafter *m = (model_drafter *)base;
    if (!m) return;
    free(m->q);
    free(m->dq);
    rank_scratch_free(&m->scratch);
    free(m);
}

spec_drafter *spec_model_create(glimp_session *draft, size_t n_vocab, int k_max,
                                glimp_error *err)
{
    model_drafter *m = calloc(1, sizeof *m);
    if (m) {
        m->base = (spec_drafter){.propose = model_propose, .q = model_q, .free = model_free};
        m->draft = draft;
        m->n_vocab = n_vocab;
        m->n_vocab_draft = glimp_session_n_vocab(draft);
        m->k_max = k_max;
        m->q = malloc((size_t)k_max * n_vocab * sizeof *m->q);
        m->dq = malloc(m->n_vocab_draft * sizeof *m->dq);
    }
    if (!m || !m->q || !m->dq) {
        if (m) model_free(&m->base);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "speculation: out of memory for the draft");
        return NULL;
    }
    return &m->base;
}
