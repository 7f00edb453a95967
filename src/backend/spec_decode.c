/* spec_decode.c - the draft-verify loop of speculative decoding.
 *
 * Each round: the drafter guesses k tokens after the history and the
 * pending token (the last one kept, not yet run); one batched forward pass
 * runs [pending, guesses] and gives the target's logits at every position;
 * guesses are checked in order (greedy: equal to the argmax; sampled: the
 * rejection rule of spec_verify.c) and kept while they pass; the first
 * failing position yields the target's own token instead, and when all pass
 * the last row yields one more (the pass runs through the loop's stepper
 * when it has one, batched with other sessions). The KV cache is cut back to the kept tokens
 * (glimp_session_truncate only moves the end), and that one new token is the
 * next round's pending token. With nothing guessed a round is a plain decode.
 *
 * The draft length adapts: one longer after a fully accepted guess, halved
 * after a guess rejected at its first token, else one past what was kept.
 * Guesses never take a position that keep_free reserves.
 *
 * Back-off: a guess rejected at its first token made a wider pass for one
 * token. After MISSES_BEFORE_PAUSE such rounds in a row, drafting pauses
 * for `pause` rounds (plain decodes), the pause doubling from PAUSE_FIRST to
 * PAUSE_MAX while the misses go on; any kept guess ends it. So a drafter
 * that guesses wrong costs a few wide passes per PAUSE_MAX tokens at most.
 */
#include "backend/spec.h"
#include "backend/spec_drafter.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct round_state {
    glimp_session *s;
    const spec_loop *loop;
    size_t n_vocab;
    bool greedy;
    float *p;                 /* (n_vocab) target distribution of one position */
    rank_scratch scratch;
    sample_rng rng;
} round_state;

#define MISSES_BEFORE_PAUSE 2
#define PAUSE_FIRST 4
#define PAUSE_MAX 64

typedef struct backoff {
    int misses; /* rounds in a row whose guess was rejected at its first token */
    int pause;  /* the next pause, in rounds */
    int skip;   /* rounds still to run without drafting */
} backoff;

/* Whether this round may draft (else it is one of a pause's rounds). */
static bool backoff_draft(backoff *b)
{
    if (b->skip == 0) return true;
    b->skip--;
    return false;
}

static void backoff_after(backoff *b, int got, int kept)
{
    if (got == 0) return;
    if (kept > 0) {
        *b = (backoff){.pause = PAUSE_FIRST};
        return;
    }
    if (++b->misses < MISSES_BEFORE_PAUSE) return;
    b->misses = 0;
    b->skip = b->pause;
    b->pause = b->pause * 2 > PAUSE_MAX ? PAUSE_MAX : b->pause * 2;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The target's choice after raw logits `row` (greedy or drawn). */
static glimp_status own_token(round_state *r, const float *row, int32_t *t, glimp_error *err)
{
    if (r->greedy) {
        *t = glimp_argmax(row, r->n_vocab);
        return GLIMP_OK;
    }
    glimp_status st = spec_dist(row, r->n_vocab, &r->loop->sampling, r->p, &r->scratch, err);
    if (st == GLIMP_OK) *t = spec_draw(r->p, r->n_vocab, &r->rng);
    return st;
}

/* Whether the target keeps guess i (d) after `row`; else *t is its own token. */
static glimp_status check_guess(round_state *r, const float *row, int i, int32_t d, bool *ok,
                                int32_t *t, glimp_error *err)
{
    if (r->greedy) {
        *t = glimp_argmax(row, r->n_vocab);
        *ok = *t == d;
        return GLIMP_OK;
    }
    glimp_status st = spec_dist(row, r->n_vocab, &r->loop->sampling, r->p, &r->scratch, err);
    if (st != GLIMP_OK) return st;
    const spec_drafter *dr = r->loop->drafter;
    *ok = spec_accept(r->p, dr->q(dr, i), r->n_vocab, d, &r->rng, t);
    return GLIMP_OK;
}

static int next_len(const spec_loop *L, int len, int got, int kept)
{
    if (got == 0) return len;
    if (kept == got) return clamp_int(len + 1, L->draft_min, L->draft_max);
    if (kept == 0) return clamp_int(len / 2, L->draft_min, L->draft_max);
    return clamp_int(kept + 1, L->draft_min, L->draft_max);
}

glimp_status spec_decode(glimp_session *s, int32_t pending, const spec_loop *L,
                         spec_stats *stats, glimp_error *err)
{
    const size_t n_ctx = glimp_session_n_ctx(s);
    round_state r = {.s = s, .loop = L, .n_vocab = glimp_session_n_vocab(s),
                     .greedy = !(L->sampling.temperature > 0.0f)};
    sample_rng_seed(&r.rng, L->seed);
    int32_t *hist = malloc((n_ctx + 1) * sizeof *hist);
    int32_t batch[GLIMP_SPEC_DRAFT_LIMIT + 1];
    if (!r.greedy) r.p = malloc(r.n_vocab * sizeof *r.p);
    glimp_status st = GLIMP_OK;
    if (!hist || (!r.greedy && !r.p))
        st = glimp_error_set(err, GLIMP_ERR_NOMEM, "speculation: out of memory");
    int len = clamp_int(*L->draft_len, L->draft_min, L->draft_max);
    int left = L->max_new;
    backoff bo = {.pause = PAUSE_FIRST};
    while (st == GLIMP_OK) {
        const size_t n = glimp_session_n_tokens(s);
        /* guess i takes position n + i: it must leave more than keep_free */
        long k = len, room = (long)n_ctx - (long)n - 1 - (long)L->keep_free;
        if (k > room) k = room;
        if (k > left - 1) k = left - 1;
        if (L->stepper && k > (long)glimp_stepper_max_tokens(L->stepper) - 1)
            k = (long)glimp_stepper_max_tokens(L->stepper) - 1;
        int got = 0;
        batch[0] = pending;
        if (k > 0 && backoff_draft(&bo)) {
            memcpy(hist, glimp_session_tokens(s), n * sizeof *hist);
            hist[n] = pending;
            got = L->drafter->propose(L->drafter, hist, n + 1, (int)k, &L->sampling, &L->end,
                                      &r.rng, batch + 1, err);
            if (got < 0) {
                st = err ? err->status : GLIMP_ERR_NOMEM;
                break;
            }
        }
        st = L->stepper ? glimp_stepper_append_all(L->stepper, s, batch, (size_t)got + 1, err)
                        : glimp_session_append_all(s, batch, (size_t)got + 1, err);
        if (st != GLIMP_OK) break;
        stats->forwards++;
        stats->drafted += got;
        int kept = 0;
        int32_t next = -1;
        const float *next_row = NULL;
        bool done = false, keep = true;
        for (int i = 0; i < got && st == GLIMP_OK && !done; i++) {
            const float *row = glimp_session_logits_at(s, (size_t)i);
            bool ok;
            st = check_guess(&r, row, i, batch[1 + i], &ok, &next, err);
            if (st != GLIMP_OK) break;
            if (!ok) {
                next_row = row;
                break;
            }
            kept++;
            next = -1;
            st = L->emit(L->user, batch[1 + i], row, &done, &keep, err);
        }
        stats->accepted += kept;
        if (st != GLIMP_OK || done) {
            glimp_session_truncate(s, n + 1 + (size_t)kept - (done && !keep ? 1 : 0), NULL);
            break;
        }
        left -= kept;
        len = next_len(L, len, got, kept);
        backoff_after(&bo, got, kept);
        if (!next_row) { /* every guess kept: the last row gives one more */
            if (n_ctx - (n + 1 + (size_t)got) <= L->keep_free) {
                stats->context_full = true;
                break;
            }
            next_row = glimp_session_logits_at(s, (size_t)got);
            st = own_token(&r, next_row, &next, err);
            if (st != GLIMP_OK) break;
        }
        st = L->emit(L->user, next, next_row, &done, &keep, err);
        glimp_session_truncate(s, n + 1 + (size_t)kept, NULL);
        left--;
        if (st == GLIMP_OK && done && keep) {
            st = L->stepper ? glimp_stepper_append(L->stepper, s, &next, 1, err)
                            : glimp_session_decode(s, next, err);
            stats->forwards++;
        }
        if (done) break;
        pending = next;
    }
    *L->draft_len = len;
    free(hist);
    free(r.p);
    rank_scratch_free(&r.scratch);
    return st;
}
