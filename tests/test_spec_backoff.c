/* test_spec_backoff.c - speculative decoding's back-off: a drafter whose
 * guesses are always rejected at their first token must cost only a few
 * wide passes, not one per token, and change nothing in the output. On the
 * demo LLM (in the repository), 200 greedy tokens after a fixed prompt: the
 * tokens equal plain decoding's, and with a drafter that always guesses the
 * padding token (never the model's choice) at most 24 guesses are made
 * (16 now; without the back-off one per token, 202); a drafter that always
 * guesses right is never paused.
 */
/* test-links: backend sample */
#include "backend/spec.h"
#include "backend/spec_drafter.h"
#include "test_util.h"

#include "glimp.h"

#define N_NEW 200

typedef struct fixed_drafter {
    spec_drafter base;
    const int32_t *right; /* guess these (the plain decode), or NULL */
    size_t prompt_len;
    int32_t wrong;        /* else always this token */
} fixed_drafter;

static int fixed_propose(spec_drafter *d, const int32_t *hist, size_t n, int k,
                         const spec_sampling *s, const spec_end *end, sample_rng *rng,
                         int32_t *out, glimp_error *err)
{
    (void)hist, (void)s, (void)end, (void)rng, (void)err;
    fixed_drafter *f = (fixed_drafter *)d;
    int got = 0;
    for (; got < k; got++) {
        size_t at = n - f->prompt_len + (size_t)got; /* index of the guessed token */
        if (!f->right) out[got] = f->wrong;
        else if (at < N_NEW) out[got] = f->right[at];
        else break;
    }
    return got;
}

static const float *fixed_q(const spec_drafter *d, int i)
{
    (void)d, (void)i;
    return NULL;
}

typedef struct sink {
    int32_t tokens[N_NEW];
    int n;
} sink;

static glimp_status collect(void *user, int32_t token, const float *logits, bool *done,
                            bool *keep, glimp_error *err)
{
    (void)logits, (void)err;
    sink *k = user;
    k->tokens[k->n++] = token;
    *done = k->n == N_NEW;
    *keep = true;
    return GLIMP_OK;
}

static glimp_session *prompted(glimp_model *m, const int32_t *prompt, size_t n)
{
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.n_threads = 2;
    glimp_session *s = glimp_session_create(m, &sp, &err);
    REQUIRE(s, "session: %s", err.msg);
    REQUIRE(glimp_session_append(s, prompt, n, &err) == GLIMP_OK, "prompt: %s", err.msg);
    return s;
}

/* spec_decode with drafter d after the prompt; returns its stats. */
static spec_stats speculate(glimp_model *m, const int32_t *prompt, size_t n, spec_drafter *d,
                            sink *out)
{
    glimp_session *s = prompted(m, prompt, n);
    int32_t first = glimp_argmax(glimp_session_logits(s), glimp_session_n_vocab(s));
    out->n = 0;
    bool done, keep;
    collect(out, first, NULL, &done, &keep, NULL);
    int len = 4;
    spec_loop loop = {.drafter = d, .draft_min = 1, .draft_max = 8, .draft_len = &len,
                      .max_new = N_NEW - 1, .emit = collect, .user = out};
    spec_stats st = {0};
    glimp_error err = {0};
    REQUIRE(spec_decode(s, first, &loop, &st, &err) == GLIMP_OK, "spec_decode: %s", err.msg);
    glimp_session_free(s);
    return st;
}

int main(void)
{
    char path[4096];
    const char *src = getenv("GLIMP_SRC");
    snprintf(path, sizeof path, "%s/models/demo/llm.gguf", src ? src : "..");
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(path, NULL, &err);
    REQUIRE(m, "load %s: %s", path, err.msg);
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    REQUIRE(tok, "tokenizer: %s", err.msg);
    int32_t prompt[256];
    const char *text = "Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles "
                       "in each. Owen finds 32 more marbles. Zoe finds 7 more marbles. Owen "
                       "loses 3 marbles. How many marbles do Owen and Zoe have together?";
    int n_prompt = glimp_tokenize(tok, text, strlen(text), false, false, prompt, 256, &err);
    REQUIRE(n_prompt > 0, "tokenize: %s", err.msg);
    size_t n = (size_t)n_prompt;

    /* plain greedy decoding, the reference (no end of sequence: 200 tokens) */
    glimp_session *s = prompted(m, prompt, n);
    sink plain = {0};
    for (int i = 0; i < N_NEW; i++) {
        plain.tokens[plain.n++] = glimp_argmax(glimp_session_logits(s), glimp_session_n_vocab(s));
        if (i + 1 < N_NEW)
            REQUIRE(glimp_session_decode(s, plain.tokens[i], &err) == GLIMP_OK, "decode: %s",
                    err.msg);
    }
    glimp_session_free(s);
    int32_t pad = glimp_token_bos(tok);
    REQUIRE(pad != GLIMP_TOKEN_NULL, "the demo model has a padding/bos token");
    for (int i = 0; i < N_NEW; i++)
        REQUIRE(plain.tokens[i] != pad, "the padding token is never the model's choice");

    fixed_drafter wrong = {{fixed_propose, fixed_q, NULL}, NULL, n, pad};
    sink got;
    spec_stats miss = speculate(m, prompt, n, &wrong.base, &got);
    CHECK(got.n == N_NEW && !memcmp(got.tokens, plain.tokens, sizeof plain.tokens),
          "wrong guesses: output differs from plain decoding");
    CHECK(miss.accepted == 0, "wrong guesses: %d kept", miss.accepted);
    CHECK(miss.drafted <= 24, "wrong guesses: %d guesses over %d tokens (backed off: <= 24)",
          miss.drafted, N_NEW);

    fixed_drafter right = {{fixed_propose, fixed_q, NULL}, plain.tokens, n, 0};
    spec_stats st = speculate(m, prompt, n, &right.base, &got);
    CHECK(got.n == N_NEW && !memcmp(got.tokens, plain.tokens, sizeof plain.tokens),
          "right guesses: output differs from plain decoding");
    CHECK(st.accepted == st.drafted && st.forwards < N_NEW / 4,
          "right guesses: %d of %d kept in %d passes", st.accepted, st.drafted, st.forwards);
    printf("spec back-off: %d wrong guesses in %d tokens; right guesses: %d tokens in %d "
           "passes\n", miss.drafted, N_NEW, N_NEW, st.forwards);
    glimp_tokenizer_free(tok);
    glimp_model_free(m);
    return test_finish();
}
