/* test_model_stepper.c - glimp_stepper against each session alone.
 *
 * Four threads, each driving its own session of one model through one
 * stepper (passes of at most 16 tokens, so the longer prompts go in
 * chunks): they sync prompts of different lengths and decode greedily, one
 * thread leaving early and one stepping without joining, then each runs a
 * verify step (glimp_stepper_append_all: logits at all of its 3 positions).
 * Every session's logits after every step must equal those of the same
 * session alone (bit for bit), whatever passes the steps shared. Then the refusals: a step
 * over max_tokens, a bad token id (the session unchanged), and a local
 * backend given a stepper of another model. Model: the demo LLM (in the
 * repository).
 */
/* test-links: backend */
#include "test_util.h"

#include "glimp.h"

#include <pthread.h>

#define N_THREADS 4
#define N_STEPS 10
#define PASS_TOKENS 16
#define VERIFY 3 /* tokens of the last step, whose every position keeps logits */

static const size_t prompt_len[N_THREADS] = {1, 9, 40, 70};

typedef struct worker {
    const glimp_model *m;
    glimp_stepper *st;      /* NULL: alone */
    int q;
    bool member;
    int steps;              /* decoded steps (fewer for the one leaving early) */
    float *rows;            /* (N_STEPS + 1 + VERIFY, n_vocab) logits after each step,
                               then at each position of the verify step */
    size_t n_vocab;
    glimp_status status;
    glimp_error err;
} worker;

static int argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return (int)best;
}

static void *run(void *arg)
{
    worker *w = arg;
    glimp_session_params p = glimp_session_default_params();
    p.n_ctx = 256;
    p.n_threads = 1;
    glimp_error err = {0};
    glimp_session *s = glimp_session_create(w->m, &p, &err);
    if (!s) {
        w->status = err.status;
        w->err = err;
        return NULL;
    }
    int32_t prompt[70];
    for (size_t i = 0; i < prompt_len[w->q]; i++)
        prompt[i] = (int32_t)((i * 37 + 5 + (size_t)w->q * 101) % w->n_vocab);
    if (w->member) glimp_stepper_join(w->st);
    size_t ran = 0;
    glimp_status st = w->st ? glimp_stepper_sync(w->st, s, prompt, prompt_len[w->q], &ran, &err)
                            : glimp_session_sync(s, prompt, prompt_len[w->q], &ran, &err);
    if (st == GLIMP_OK && ran != prompt_len[w->q]) {
        st = GLIMP_ERR_ARG;
        snprintf(err.msg, sizeof err.msg, "sync ran %zu tokens of %zu", ran, prompt_len[w->q]);
    }
    for (int t = 0; st == GLIMP_OK && t <= w->steps; t++) {
        const float *l = glimp_session_logits(s);
        memcpy(w->rows + (size_t)t * w->n_vocab, l, w->n_vocab * sizeof *l);
        if (t == w->steps) break;
        int32_t next = argmax(l, w->n_vocab);
        st = w->st ? glimp_stepper_append(w->st, s, &next, 1, &err)
                   : glimp_session_decode(s, next, &err);
    }
    if (st == GLIMP_OK) {
        const int32_t g = argmax(glimp_session_logits(s), w->n_vocab);
        const int32_t v[VERIFY] = {g, (int32_t)((g + 7) % w->n_vocab),
                                   (int32_t)((g * 3 + 1) % w->n_vocab)};
        st = w->st ? glimp_stepper_append_all(w->st, s, v, VERIFY, &err)
                   : glimp_session_append_all(s, v, VERIFY, &err);
        if (st == GLIMP_OK && glimp_session_n_logits(s) != VERIFY) {
            st = GLIMP_ERR_ARG;
            snprintf(err.msg, sizeof err.msg, "verify step kept %zu logit rows",
                     glimp_session_n_logits(s));
        }
        for (int i = 0; st == GLIMP_OK && i < VERIFY; i++)
            memcpy(w->rows + (size_t)(w->steps + 1 + i) * w->n_vocab,
                   glimp_session_logits_at(s, (size_t)i), w->n_vocab * sizeof(float));
    }
    if (w->member) glimp_stepper_leave(w->st);
    w->status = st;
    w->err = err;
    glimp_session_free(s);
    return NULL;
}

/* Runs the four workers (through st, or alone one after another). */
static void run_all(worker *w, const glimp_model *m, glimp_stepper *st, size_t n_vocab)
{
    pthread_t th[N_THREADS];
    for (int q = 0; q < N_THREADS; q++) {
        w[q] = (worker){.m = m, .st = st, .q = q, .member = st && q != 3,
                        .steps = q == 0 ? N_STEPS / 2 : N_STEPS, .n_vocab = n_vocab};
        w[q].rows = calloc((size_t)(N_STEPS + 1 + VERIFY) * n_vocab, sizeof *w[q].rows);
        REQUIRE(w[q].rows, "oom");
        if (!st) run(&w[q]);
        else REQUIRE(pthread_create(&th[q], NULL, run, &w[q]) == 0, "pthread_create");
    }
    for (int q = 0; st && q < N_THREADS; q++) pthread_join(th[q], NULL);
    for (int q = 0; q < N_THREADS; q++)
        REQUIRE(w[q].status == GLIMP_OK, "worker %d (%s): %s", q, st ? "stepper" : "alone",
                w[q].err.msg);
}

static void check_refusals(const glimp_model *m, glimp_stepper *st, size_t n_vocab,
                           const char *other_path)
{
    glimp_error err = {0};
    glimp_session_params p = glimp_session_default_params();
    p.n_ctx = 256;
    p.n_threads = 1;
    glimp_session *s = glimp_session_create(m, &p, &err);
    REQUIRE(s, "session: %s", err.msg);
    int32_t many[PASS_TOKENS + 1] = {0};
    CHECK(glimp_stepper_append(st, s, many, PASS_TOKENS + 1, &err) == GLIMP_ERR_ARG,
          "a step over max_tokens: %s", err.msg);
    int32_t bad = (int32_t)n_vocab;
    CHECK(glimp_stepper_append(st, s, &bad, 1, &err) == GLIMP_ERR_ARG, "bad token: %s", err.msg);
    CHECK(glimp_session_n_tokens(s) == 0, "a refused step changed the session");
    CHECK(glimp_stepper_append(st, s, many, 3, &err) == GLIMP_OK, "then a good step: %s",
          err.msg);
    CHECK(glimp_session_n_tokens(s) == 3, "3 tokens, got %zu", glimp_session_n_tokens(s));
    glimp_session_free(s);

    glimp_model *other = glimp_model_load(other_path, NULL, &err);
    glimp_tokenizer *tok = other ? glimp_tokenizer_load(other_path, &err) : NULL;
    REQUIRE(tok, "load %s: %s", other_path, err.msg);
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = other_path;
    lp.model = other;
    lp.tokenizer = tok;
    lp.stepper = st;
    lp.n_ctx = 256;
    glimp_backend *b = glimp_backend_local_create(&lp, &err);
    CHECK(!b && err.status == GLIMP_ERR_ARG, "a stepper of another model: %s", err.msg);
    glimp_backend_free(b);
    lp.stepper = NULL;
    lp.tokenizer = NULL;
    b = glimp_backend_local_create(&lp, &err);
    CHECK(!b && err.status == GLIMP_ERR_ARG, "a shared model without its tokenizer: %s", err.msg);
    glimp_backend_free(b);
    glimp_tokenizer_free(tok);
    glimp_model_free(other);
}

int main(void)
{
    char path[4096], other[4096];
    const char *src = getenv("GLIMP_SRC");
    snprintf(path, sizeof path, "%s/models/demo/llm.gguf", src ? src : "..");
    snprintf(other, sizeof other, "%s/models/demo/slm.gguf", src ? src : "..");
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(path, NULL, &err);
    REQUIRE(m, "load %s: %s", path, err.msg);
    size_t n_vocab = glimp_model_n_vocab(m);
    worker alone[N_THREADS], batched[N_THREADS];
    run_all(alone, m, NULL, n_vocab);
    glimp_stepper *st = glimp_stepper_create(m, PASS_TOKENS, 2, &err);
    REQUIRE(st, "stepper: %s", err.msg);
    CHECK(glimp_stepper_model(st) == m && glimp_stepper_max_tokens(st) == PASS_TOKENS,
          "the stepper's model and pass size");
    run_all(batched, m, st, n_vocab);
    for (int q = 0; q < N_THREADS; q++) {
        int differ = 0;
        for (int t = 0; t <= alone[q].steps + VERIFY; t++)
            if (memcmp(alone[q].rows + (size_t)t * n_vocab, batched[q].rows + (size_t)t * n_vocab,
                       n_vocab * sizeof(float)))
                differ++;
        CHECK(differ == 0, "thread %d: %d of %d logit rows differ from the session alone", q,
              differ, alone[q].steps + 1 + VERIFY);
        free(alone[q].rows);
        free(batched[q].rows);
    }
    unsigned long long passes = 0, steps = 0;
    glimp_stepper_counts(st, &passes, &steps);
    /* 1 + 1 + 3 + 5 prompt chunks, 5 + 3 x 10 tokens, 4 verify steps */
    CHECK(steps == 49, "the passes carried %llu steps, not 49", steps);
    printf("stepper: %llu steps in %llu passes\n", steps, passes);
    check_refusals(m, st, n_vocab, other);
    glimp_stepper_free(st);
    glimp_model_free(m);
    return test_finish();
}
