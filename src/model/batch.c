/* batch.c - several sessions of one model through one forward pass.
 *
 * Decoding reads every weight once per token, so N sessions decoding apart
 * read the weights N times; batched, once. A batch owns a carrier session
 * whose scratch holds the stacked rows of every session's segment (see
 * forward_segments); each session keeps its own cache, positions and
 * logits, which end exactly as if it had appended its tokens alone.
 *
 * Failure: bad arguments (GLIMP_ERR_ARG) or a full context (GLIMP_ERR_RANGE)
 * are found before anything runs, so no session changes; only creation and
 * the logits buffer can run out of memory (GLIMP_ERR_NOMEM).
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/session.h"

struct glimp_batch {
    glimp_session *carrier; /* scratch for max_tokens stacked rows, and the pool */
    size_t max_tokens;
    forward_seg *segs;      /* (segs_cap) */
    int segs_cap;
    float *logits;          /* (logits_cap, n_vocab) */
    size_t logits_cap;
};

glimp_batch *glimp_batch_create(const glimp_model *model, size_t max_tokens, int n_threads,
                                glimp_error *err)
{
    if (!model || max_tokens < 1 || max_tokens > (1u << 20)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "batch: no model, or max_tokens %zu out of 1..%u",
                        max_tokens, 1u << 20);
        return NULL;
    }
    glimp_batch *b = calloc(1, sizeof *b);
    if (!b) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "batch: out of memory");
        return NULL;
    }
    glimp_session_params p = glimp_session_default_params();
    p.n_ctx = max_tokens;
    p.n_batch = max_tokens;
    p.n_threads = n_threads;
    b->max_tokens = max_tokens;
    if (!(b->carrier = glimp_session_create(model, &p, err))) {
        free(b);
        return NULL;
    }
    return b;
}

void glimp_batch_free(glimp_batch *b)
{
    if (!b) return;
    glimp_session_free(b->carrier);
    free(b->segs);
    free(b->logits);
    free(b);
}

static glimp_status check(const glimp_batch *b, glimp_session *const *sessions,
                          const int32_t *const *tokens, const size_t *n, int n_seqs,
                          glimp_error *err)
{
    const glimp_model *m = b->carrier->model;
    size_t total = 0;
    for (int i = 0; i < n_seqs; i++) {
        const glimp_session *s = sessions[i];
        if (!s || !tokens[i] || n[i] < 1)
            return glimp_error_set(err, GLIMP_ERR_ARG, "batch: sequence %d is empty", i);
        if (s->model != m)
            return glimp_error_set(err, GLIMP_ERR_ARG,
                                   "batch: sequence %d's session is of another model", i);
        for (int j = 0; j < i; j++)
            if (sessions[j] == s)
                return glimp_error_set(err, GLIMP_ERR_ARG,
                                       "batch: sequences %d and %d share a session", j, i);
        if (n[i] > (size_t)s->n_batch)
            return glimp_error_set(err, GLIMP_ERR_ARG,
                                   "batch: sequence %d has %zu tokens, its session's chunk is "
                                   "%lld", i, n[i], (long long)s->n_batch);
        if (n[i] > (size_t)(s->n_ctx - s->n_tokens))
            return glimp_error_set(err, GLIMP_ERR_RANGE,
                                   "context full: %lld tokens + %zu new exceed n_ctx %lld",
                                   (long long)s->n_tokens, n[i], (long long)s->n_ctx);
        for (size_t k = 0; k < n[i]; k++)
            if (tokens[i][k] < 0 || tokens[i][k] >= m->hp.n_vocab)
                return glimp_error_set(err, GLIMP_ERR_ARG,
                                       "token id %d of sequence %d outside [0, %lld)",
                                       (int)tokens[i][k], i, (long long)m->hp.n_vocab);
        total += n[i];
    }
    if (total > b->max_tokens)
        return glimp_error_set(err, GLIMP_ERR_ARG, "batch: %zu tokens exceed its %zu", total,
                               b->max_tokens);
    return GLIMP_OK;
}

/* Makes room for n_seqs segments and `rows` logit rows in the batch, and
 * for the logit rows each session keeps (all[i]: n[i], else 1), so nothing
 * fails once the pass runs. */
static glimp_status reserve(glimp_batch *b, glimp_session *const *sessions, const size_t *n,
                            const bool *all, int n_seqs, size_t rows, glimp_error *err)
{
    const size_t n_vocab = (size_t)b->carrier->model->hp.n_vocab;
    if (n_seqs > b->segs_cap) {
        forward_seg *segs = realloc(b->segs, (size_t)n_seqs * sizeof *segs);
        if (!segs)
            return glimp_error_set(err, GLIMP_ERR_NOMEM, "batch of %d: out of memory", n_seqs);
        b->segs = segs;
        b->segs_cap = n_seqs;
    }
    if (rows > b->logits_cap) {
        float *logits = realloc(b->logits, rows * n_vocab * sizeof *logits);
        if (!logits)
            return glimp_error_set(err, GLIMP_ERR_NOMEM, "batch of %d: out of memory", n_seqs);
        b->logits = logits;
        b->logits_cap = rows;
    }
    for (int i = 0; i < n_seqs && all; i++) {
        glimp_session *s = sessions[i];
        if (!all[i] || (int64_t)n[i] <= s->logits_cap) continue;
        float *l = malloc(n[i] * n_vocab * sizeof *l);
        if (!l)
            return glimp_error_set(err, GLIMP_ERR_NOMEM, "logits for %zu positions: out of "
                                   "memory", n[i]);
        /* the rows it holds stay, should a later session's room fail */
        memcpy(l, s->logits, (size_t)s->n_logits * n_vocab * sizeof *l);
        free(s->logits);
        s->logits = l;
        s->logits_cap = (int64_t)n[i];
    }
    return GLIMP_OK;
}

glimp_status batch_append_rows(glimp_batch *b, glimp_session *const *sessions,
                               const int32_t *const *tokens, const size_t *n, const bool *all,
                               int n_seqs, glimp_error *err)
{
    if (!b || !sessions || !tokens || !n || n_seqs < 0)
        return glimp_error_set(err, GLIMP_ERR_ARG, "batch append: NULL argument");
    if (n_seqs == 0) return GLIMP_OK;
    glimp_status st = check(b, sessions, tokens, n, n_seqs, err);
    if (st != GLIMP_OK) return st;
    const size_t n_vocab = (size_t)b->carrier->model->hp.n_vocab;
    size_t rows = 0;
    for (int i = 0; i < n_seqs; i++) rows += all && all[i] ? n[i] : 1;
    if ((st = reserve(b, sessions, n, all, n_seqs, rows, err)) != GLIMP_OK) return st;
    for (int i = 0; i < n_seqs; i++)
        b->segs[i] = (forward_seg){.s = sessions[i], .tokens = tokens[i], .n = (int64_t)n[i],
                                   .out_rows = all && all[i] ? (int64_t)n[i] : 1};
    forward_segments(b->carrier, b->segs, n_seqs, b->logits);
    const float *row = b->logits;
    for (int i = 0; i < n_seqs; i++) {
        glimp_session *s = sessions[i];
        const int64_t out = b->segs[i].out_rows;
        memcpy(s->logits, row, (size_t)out * n_vocab * sizeof *row);
        row += (size_t)out * n_vocab;
        s->n_logits = out;
        memcpy(s->tokens + s->n_tokens, tokens[i], n[i] * sizeof *tokens[i]);
        s->n_tokens += (int64_t)n[i];
    }
    return GLIMP_OK;
}

glimp_status glimp_batch_append(glimp_batch *b, glimp_session *const *sessions,
                                const int32_t *const *tokens, const size_t *n, int n_seqs,
                                glimp_error *err)
{
    return batch_append_rows(b, sessions, tokens, n, NULL, n_seqs, err);
}
