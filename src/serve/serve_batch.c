/* serve_batch.c - continuous batching of the single-model server's slots.
 *
 * Every running generation is a member. Instead of running its own forward
 * passes, a member submits each step (a decoded token, or a chunk of its
 * prompt) and waits; one waiting member leads: it runs the pending steps of
 * all members as one glimp_batch_append, so the weights are read once per
 * step for everyone, then wakes them. A pass starts when every member is
 * waiting, or 2 ms after the oldest step was submitted (a member still
 * sampling or writing joins the next pass). Requests join at their first
 * step and leave when they end, so the batch changes from step to step.
 * A pass carries at most max_tokens tokens: single-token steps first, then
 * prompt chunks in arrival order; prompts are cut into chunks that fit next
 * to every member's token, so a long prompt never stalls running streams.
 *
 * Failure: a step that cannot run (context full, out of memory) fails for
 * its own member only: when a pass is refused, its steps run one by one.
 */
#include "serve/serve_impl.h"

#include "base/error.h"

#include <stdlib.h>

#define GATHER_S 0.002

struct batch_step {
    glimp_session *sess;
    const int32_t *tokens;
    size_t n;
    double t_submit;
    bool done;
    glimp_status st;
    glimp_error err;
    batch_step *next;
};

bool batcher_init(serve_batcher *b, const glimp_model *model, size_t max_tokens, int parallel,
                  int n_threads, serve_metrics *metrics, glimp_error *err)
{
    b->metrics = metrics;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->head = b->tail = NULL;
    b->n_pending = b->members = 0;
    b->running = false;
    b->max_tokens = max_tokens;
    b->chunk = max_tokens > (size_t)parallel ? max_tokens - (size_t)parallel : 1;
    b->batch = glimp_batch_create(model, max_tokens, n_threads, err);
    return b->batch != NULL;
}

void batcher_destroy(serve_batcher *b)
{
    glimp_batch_free(b->batch);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

void batcher_join(serve_batcher *b)
{
    pthread_mutex_lock(&b->mu);
    b->members++;
    pthread_mutex_unlock(&b->mu);
}

void batcher_leave(serve_batcher *b)
{
    pthread_mutex_lock(&b->mu);
    b->members--;
    pthread_cond_broadcast(&b->cv); /* the others may all be waiting now */
    pthread_mutex_unlock(&b->mu);
}

/* Moves up to max_tokens of pending steps into take[] (single tokens first,
 * then the rest in order); returns how many. b->mu held. */
static int take_steps(serve_batcher *b, batch_step **take)
{
    int k = 0;
    size_t tokens = 0;
    for (int pass = 0; pass < 2; pass++) {
        batch_step **link = &b->head, *prev = NULL;
        while (*link) {
            batch_step *st = *link;
            bool wanted = pass == 0 ? st->n == 1 : st->n > 1;
            if (wanted && tokens + st->n <= b->max_tokens) {
                take[k++] = st;
                tokens += st->n;
                *link = st->next;
                if (b->tail == st) b->tail = prev;
                b->n_pending--;
            } else {
                prev = st;
                link = &st->next;
            }
        }
    }
    return k;
}

/* Runs the taken steps as one pass (b->mu not held). */
static void run_pass(serve_batcher *b, batch_step **take, int k)
{
    glimp_session **sess = malloc((size_t)k * sizeof *sess);
    const int32_t **tok = malloc((size_t)k * sizeof *tok);
    size_t *n = malloc((size_t)k * sizeof *n);
    glimp_error err = {0};
    glimp_status st = GLIMP_ERR_NOMEM;
    if (sess && tok && n) {
        for (int i = 0; i < k; i++) {
            sess[i] = take[i]->sess;
            tok[i] = take[i]->tokens;
            n[i] = take[i]->n;
        }
        st = glimp_batch_append(b->batch, sess, tok, n, k, &err);
        if (st == GLIMP_OK) metrics_batch_pass(b->metrics, k);
    }
    for (int i = 0; i < k; i++) {
        take[i]->st = st;
        /* refused as a whole: each step alone, so only a bad one fails */
        if (st != GLIMP_OK)
            take[i]->st = glimp_session_append(take[i]->sess, take[i]->tokens, take[i]->n,
                                               &take[i]->err);
    }
    free(sess);
    free(tok);
    free(n);
}

glimp_status batcher_append(serve_batcher *b, glimp_session *sess, const int32_t *tokens,
                            size_t n, glimp_error *err)
{
    batch_step me = {.sess = sess, .tokens = tokens, .n = n, .t_submit = serve_now()};
    pthread_mutex_lock(&b->mu);
    if (b->tail) b->tail->next = &me;
    else b->head = &me;
    b->tail = &me;
    b->n_pending++;
    while (!me.done) {
        double waited = b->head ? serve_now() - b->head->t_submit : 0;
        if (!b->running && b->head && (b->n_pending >= b->members || waited >= GATHER_S)) {
            batch_step **take = malloc((size_t)b->n_pending * sizeof *take);
            int k = take ? take_steps(b, take) : 0;
            b->running = true;
            pthread_mutex_unlock(&b->mu);
            if (take) run_pass(b, take, k);
            pthread_mutex_lock(&b->mu);
            for (int i = 0; i < k; i++) take[i]->done = true;
            if (!take) { /* out of memory: this step alone */
                me.st = GLIMP_ERR_NOMEM;
                glimp_error_set(&me.err, GLIMP_ERR_NOMEM, "batch: out of memory");
                me.done = true;
            }
            free(take);
            b->running = false;
            pthread_cond_broadcast(&b->cv);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500000; /* re-check the gather deadline every 0.5 ms */
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    if (me.st != GLIMP_OK && err) *err = me.err;
    return me.st;
}

glimp_status batcher_sync(serve_batcher *b, glimp_session *sess, const int32_t *ids, size_t n,
                          size_t *n_evaluated, glimp_error *err)
{
    *n_evaluated = 0;
    size_t keep = glimp_session_keep_prefix(sess, ids, n);
    for (size_t c = keep; c < n; c += b->chunk) {
        size_t len = n - c < b->chunk ? n - c : b->chunk;
        glimp_status st = batcher_append(b, sess, ids + c, len, err);
        if (st != GLIMP_OK) return st;
        *n_evaluated += len;
    }
    return GLIMP_OK;
}
