/* stepper.c - continuous batching: threads that each drive sessions of one
 * model step them through shared forward passes.
 *
 * Instead of running its own forward pass, a thread submits each step of a
 * session (a decoded token, or a chunk of its prompt) and waits; one
 * waiting thread leads: it runs the pending steps of everyone as one
 * glimp_batch_append, so the weights are read once per pass for all of
 * them, then wakes them. A pass starts when every member (a thread between
 * glimp_stepper_join and _leave) is waiting, or a gather time (2 ms, or
 * 1/16 of the last pass when that is longer) after the oldest step was
 * submitted or the last pass ended, whichever is later (a member still
 * sampling, or busy elsewhere, joins the next pass). Counting from the end
 * of the last pass lets the members it carried sample and come back: counted
 * from submission, the steps that arrived during a pass started the next one
 * at once, and 8 streams settled into two groups taking turns, 4 tokens per
 * pass (bench/NOTES.md, issue 14). Members come and go, so the batch changes
 * from pass to pass. A pass carries at most max_tokens tokens: single-token
 * steps first, then prompt chunks in arrival order; glimp_stepper_sync cuts
 * prompts into chunks that fit next to every other member's token, so a
 * long prompt never stalls running streams. Results are those of each session alone
 * (glimp_batch_append's guarantee).
 *
 * Failure: a step that cannot run (context full, bad token, out of memory)
 * fails for its own session only: when a pass is refused, its steps run one
 * by one. A step larger than max_tokens is GLIMP_ERR_ARG.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/error.h"
#include "model/session.h"

#define GATHER_S 0.002   /* least wait for the other members' steps */
#define GATHER_SHARE 16  /* or 1/16 of the last pass, when longer */

typedef struct step step;
struct step {
    glimp_session *sess;
    const int32_t *tokens;
    size_t n;
    bool all;                 /* keep the logits of every position */
    double t_submit;
    bool done;
    glimp_status st;
    glimp_error err;
    step *next;
};

struct glimp_stepper {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    glimp_batch *batch;
    const glimp_model *model;
    size_t max_tokens;        /* per pass */
    step *head, *tail;        /* submitted, not yet taken */
    int n_pending;
    int members;              /* threads that will submit again */
    bool running;             /* a pass is running */
    double last_end;          /* when the last pass ended (now_s) */
    double last_len;          /* and how long it ran (s) */
    unsigned long long passes, steps;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

glimp_stepper *glimp_stepper_create(const glimp_model *model, size_t max_tokens, int n_threads,
                                    glimp_error *err)
{
    glimp_stepper *b = calloc(1, sizeof *b);
    if (!b) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "stepper: out of memory");
        return NULL;
    }
    if (!(b->batch = glimp_batch_create(model, max_tokens, n_threads, err))) {
        free(b);
        return NULL;
    }
    pthread_condattr_t ca; /* deadlines on the clock of now_s() */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->model = model;
    b->max_tokens = max_tokens;
    return b;
}

void glimp_stepper_free(glimp_stepper *b)
{
    if (!b) return;
    glimp_batch_free(b->batch);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

void glimp_stepper_join(glimp_stepper *b)
{
    pthread_mutex_lock(&b->mu);
    b->members++;
    pthread_mutex_unlock(&b->mu);
}

void glimp_stepper_leave(glimp_stepper *b)
{
    pthread_mutex_lock(&b->mu);
    b->members--;
    pthread_cond_broadcast(&b->cv); /* the others may all be waiting now */
    pthread_mutex_unlock(&b->mu);
}

const glimp_model *glimp_stepper_model(const glimp_stepper *b) { return b->model; }

size_t glimp_stepper_max_tokens(const glimp_stepper *b) { return b->max_tokens; }

void glimp_stepper_counts(glimp_stepper *b, unsigned long long *passes,
                          unsigned long long *steps)
{
    pthread_mutex_lock(&b->mu);
    *passes = b->passes;
    *steps = b->steps;
    pthread_mutex_unlock(&b->mu);
}

/* Moves up to max_tokens of pending steps into take[] (single tokens first,
 * then the rest in order); returns how many. b->mu held. */
static int take_steps(glimp_stepper *b, step **take)
{
    int k = 0;
    size_t tokens = 0;
    for (int pass = 0; pass < 2; pass++) {
        step **link = &b->head, *prev = NULL;
        while (*link) {
            step *st = *link;
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

/* Takes one step out of the queue (b->mu held). */
static void unqueue(glimp_stepper *b, step *me)
{
    step **link = &b->head, *prev = NULL;
    while (*link && *link != me) {
        prev = *link;
        link = &prev->next;
    }
    if (!*link) return;
    *link = me->next;
    if (b->tail == me) b->tail = prev;
    b->n_pending--;
}

/* Runs the taken steps as one pass (b->mu not held); whether it ran as one. */
static bool run_pass(glimp_stepper *b, step **take, int k)
{
    glimp_session **sess = malloc((size_t)k * sizeof *sess);
    const int32_t **tok = malloc((size_t)k * sizeof *tok);
    size_t *n = malloc((size_t)k * sizeof *n);
    bool *all = malloc((size_t)k * sizeof *all);
    glimp_error err = {0};
    glimp_status st = GLIMP_ERR_NOMEM;
    if (sess && tok && n && all) {
        for (int i = 0; i < k; i++) {
            sess[i] = take[i]->sess;
            tok[i] = take[i]->tokens;
            n[i] = take[i]->n;
            all[i] = take[i]->all;
        }
        st = batch_append_rows(b->batch, sess, tok, n, all, k, &err);
    }
    for (int i = 0; i < k; i++) {
        step *t = take[i];
        t->st = st;
        /* refused as a whole: each step alone, so only a bad one fails */
        if (st != GLIMP_OK)
            t->st = t->all ? glimp_session_append_all(t->sess, t->tokens, t->n, &t->err)
                           : glimp_session_append(t->sess, t->tokens, t->n, &t->err);
    }
    free(sess);
    free(tok);
    free(n);
    free(all);
    return st == GLIMP_OK;
}

static glimp_status stepper_append(glimp_stepper *b, glimp_session *sess, const int32_t *tokens,
                                   size_t n, bool all, glimp_error *err)
{
    if (!b || !sess || !tokens)
        return glimp_error_set(err, GLIMP_ERR_ARG, "stepper append: NULL argument");
    if (n == 0) return GLIMP_OK;
    if (n > b->max_tokens)
        return glimp_error_set(err, GLIMP_ERR_ARG, "stepper: a step of %zu tokens exceeds the "
                               "%zu of a pass", n, b->max_tokens);
    step me = {.sess = sess, .tokens = tokens, .n = n, .all = all, .t_submit = now_s()};
    pthread_mutex_lock(&b->mu);
    if (b->tail) b->tail->next = &me;
    else b->head = &me;
    b->tail = &me;
    b->n_pending++;
    while (!me.done) {
        double since = b->head && b->head->t_submit > b->last_end ? b->head->t_submit : b->last_end;
        double waited = b->head ? now_s() - since : 0;
        double gather = b->last_len / GATHER_SHARE > GATHER_S ? b->last_len / GATHER_SHARE : GATHER_S;
        if (!b->running && b->head && (b->n_pending >= b->members || waited >= gather)) {
            step **take = malloc((size_t)b->n_pending * sizeof *take);
            int k = take ? take_steps(b, take) : 0;
            b->running = true;
            pthread_mutex_unlock(&b->mu);
            double t0 = now_s();
            bool one = take && run_pass(b, take, k);
            pthread_mutex_lock(&b->mu);
            for (int i = 0; i < k; i++) take[i]->done = true;
            if (one) {
                b->passes++;
                b->steps += (unsigned long long)k;
            }
            if (!take) { /* out of memory: this step fails */
                unqueue(b, &me);
                me.st = glimp_error_set(&me.err, GLIMP_ERR_NOMEM, "stepper: out of memory");
                me.done = true;
            }
            free(take);
            b->running = false;
            b->last_end = now_s();
            b->last_len = b->last_end - t0;
            pthread_cond_broadcast(&b->cv);
            continue;
        }
        /* Woken by a pass's end or a member leaving; a member's submission
         * is checked by the submitter itself. Only the gather deadline needs
         * a clock, and not while a pass runs: timed polls of every waiting
         * member during passes took the pass's threads' cores (serve at 16
         * slots, bench/NOTES.md, issue 14). */
        if (b->running || !b->head) {
            pthread_cond_wait(&b->cv, &b->mu);
        } else {
            const double deadline = since + gather;
            struct timespec ts = {.tv_sec = (time_t)deadline};
            ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
            if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
            pthread_cond_timedwait(&b->cv, &b->mu, &ts);
        }
    }
    pthread_mutex_unlock(&b->mu);
    if (me.st != GLIMP_OK && err) *err = me.err;
    return me.st;
}

glimp_status glimp_stepper_append(glimp_stepper *b, glimp_session *sess, const int32_t *tokens,
                                  size_t n, glimp_error *err)
{
    return stepper_append(b, sess, tokens, n, false, err);
}

glimp_status glimp_stepper_append_all(glimp_stepper *b, glimp_session *sess,
                                      const int32_t *tokens, size_t n, glimp_error *err)
{
    return stepper_append(b, sess, tokens, n, true, err);
}

glimp_status glimp_stepper_sync(glimp_stepper *b, glimp_session *sess, const int32_t *ids,
                                size_t n, size_t *n_evaluated, glimp_error *err)
{
    size_t ran = 0;
    if (n_evaluated) *n_evaluated = 0;
    if (!b || !sess || !ids || n == 0)
        return glimp_error_set(err, GLIMP_ERR_ARG, "stepper sync: no tokens");
    if (n > glimp_session_n_ctx(sess))
        return glimp_error_set(err, GLIMP_ERR_RANGE, "context full: %zu tokens exceed n_ctx %zu",
                               n, glimp_session_n_ctx(sess));
    /* room next to one token of every other member, and a session's chunk */
    pthread_mutex_lock(&b->mu);
    size_t others = b->members > 1 ? (size_t)b->members - 1 : 0;
    pthread_mutex_unlock(&b->mu);
    size_t chunk = b->max_tokens > others ? b->max_tokens - others : 1;
    if (chunk > (size_t)sess->n_batch) chunk = (size_t)sess->n_batch;
    size_t keep = glimp_session_keep_prefix(sess, ids, n);
    for (size_t c = keep; c < n; c += chunk) {
        size_t len = n - c < chunk ? n - c : chunk;
        glimp_status st = glimp_stepper_append(b, sess, ids + c, len, err);
        if (st != GLIMP_OK) return st;
        ran += len;
        if (n_evaluated) *n_evaluated = ran;
    }
    return GLIMP_OK;
}
