/* test_model_batch.c - glimp_batch_append against each session alone.
 *
 * Three sessions of one model: prompts of different lengths prefilled in
 * one batch, then greedy decoding in batches where one session joins late
 * and another leaves early. Every session's logits after every step must
 * equal those of the same session appending alone (bit for bit: each row's
 * matmul and its attention do not depend on the other rows), and so must the
 * tokens chosen. Models: the demo pair (F16, in the repository) and, when
 * ../shared is present, stories260K (F32), ref/lq-q8_0 (Q8_0) and
 * ref/lq-bf16 (BF16). Bad batches are refused without changing any session.
 */
/* test-links: model */
#include "test_util.h"

#include "glimp.h"

#define N_SEQ 3
#define N_STEPS 12

static int argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return (int)best;
}

static glimp_session *new_session(const glimp_model *m)
{
    glimp_session_params p = glimp_session_default_params();
    p.n_ctx = 256;
    p.n_threads = 2;
    glimp_error err = {0};
    glimp_session *s = glimp_session_create(m, &p, &err);
    REQUIRE(s, "session: %s", err.msg);
    return s;
}

/* logits[seq][step] of each sequence decoding alone */
static float *alone_logits(const glimp_model *m, const int32_t *const *prompts, const size_t *np,
                           size_t n_vocab)
{
    float *out = calloc((size_t)N_SEQ * (N_STEPS + 1) * n_vocab, sizeof *out);
    REQUIRE(out, "oom");
    for (int q = 0; q < N_SEQ; q++) {
        glimp_session *s = new_session(m);
        glimp_error err = {0};
        REQUIRE(glimp_session_append(s, prompts[q], np[q], &err) == GLIMP_OK, "%s", err.msg);
        for (int t = 0; t <= N_STEPS; t++) {
            const float *l = glimp_session_logits(s);
            memcpy(out + ((size_t)q * (N_STEPS + 1) + t) * n_vocab, l, n_vocab * sizeof *l);
            if (t < N_STEPS)
                REQUIRE(glimp_session_decode(s, argmax(l, n_vocab), &err) == GLIMP_OK, "%s",
                        err.msg);
        }
        glimp_session_free(s);
    }
    return out;
}

static void check_model(const char *path)
{
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(path, NULL, &err);
    REQUIRE(m, "load %s: %s", path, err.msg);
    glimp_session *probe = new_session(m);
    const size_t n_vocab = glimp_session_n_vocab(probe);
    glimp_session_free(probe);
    int32_t p0[7], p1[13], p2[1];
    for (int i = 0; i < 13; i++) {
        if (i < 7) p0[i] = (int32_t)((i * 37 + 5) % n_vocab);
        p1[i] = (int32_t)((i * 53 + 11) % n_vocab);
    }
    p2[0] = (int32_t)(n_vocab / 2);
    const int32_t *prompts[N_SEQ] = {p0, p1, p2};
    const size_t np[N_SEQ] = {7, 13, 1};
    float *ref = alone_logits(m, prompts, np, n_vocab);

    glimp_batch *b = glimp_batch_create(m, 64, 2, &err);
    REQUIRE(b, "batch: %s", err.msg);
    glimp_session *s[N_SEQ];
    for (int q = 0; q < N_SEQ; q++) s[q] = new_session(m);
    /* step 0: sequences 0 and 1 prefill together; 2 joins one step later */
    int step[N_SEQ] = {0, 0, 0}, mismatches = 0;
    glimp_session *bs[N_SEQ];
    const int32_t *bt[N_SEQ];
    size_t bn[N_SEQ];
    int32_t next[N_SEQ];
    bool started[N_SEQ] = {false, false, false};
    for (int round = 0; round < N_STEPS + 2; round++) {
        int k = 0;
        for (int q = 0; q < N_SEQ; q++) {
            if (q == 2 && round == 0) continue; /* joins late */
            if (q == 0 && step[q] >= N_STEPS / 2) continue; /* leaves early */
            if (step[q] >= N_STEPS) continue;
            bs[k] = s[q];
            bt[k] = started[q] ? &next[q] : prompts[q];
            bn[k] = started[q] ? 1 : np[q];
            k++;
        }
        if (!k) break;
        REQUIRE(glimp_batch_append(b, bs, bt, bn, k, &err) == GLIMP_OK, "batch: %s", err.msg);
        for (int j = 0; j < k; j++) {
            int q = bs[j] == s[0] ? 0 : bs[j] == s[1] ? 1 : 2;
            if (started[q]) step[q]++;
            started[q] = true;
            const float *l = glimp_session_logits(s[q]);
            const float *r = ref + ((size_t)q * (N_STEPS + 1) + step[q]) * n_vocab;
            if (memcmp(l, r, n_vocab * sizeof *l) != 0) mismatches++;
            next[q] = argmax(l, n_vocab);
        }
    }
    CHECK(mismatches == 0, "%s: %d batched logit rows differ from the sessions alone", path,
          mismatches);
    CHECK(glimp_session_n_tokens(s[1]) == 13 + N_STEPS &&
              glimp_session_n_tokens(s[0]) == 7 + N_STEPS / 2,
          "token counts %zu %zu", glimp_session_n_tokens(s[1]), glimp_session_n_tokens(s[0]));

    /* refused batches change nothing */
    size_t before = glimp_session_n_tokens(s[0]);
    glimp_session *twice[2] = {s[0], s[0]};
    const int32_t *tt[2] = {p2, p2};
    size_t tn[2] = {1, 1};
    CHECK(glimp_batch_append(b, twice, tt, tn, 2, &err) == GLIMP_ERR_ARG, "a session twice");
    int32_t bad = (int32_t)n_vocab;
    const int32_t *tb[1] = {&bad};
    CHECK(glimp_batch_append(b, s, tb, tn, 1, &err) == GLIMP_ERR_ARG, "token id out of range");
    size_t big[1] = {65};
    int32_t many[65] = {0};
    const int32_t *tm[1] = {many};
    CHECK(glimp_batch_append(b, s, tm, big, 1, &err) == GLIMP_ERR_ARG, "over max_tokens: %s",
          err.msg);
    CHECK(glimp_session_n_tokens(s[0]) == before, "a refused batch changed a session");

    for (int q = 0; q < N_SEQ; q++) glimp_session_free(s[q]);
    glimp_batch_free(b);
    free(ref);
    glimp_model_free(m);
}

int main(void)
{
    char path[4096];
    const char *src = getenv("GLIMP_SRC");
    snprintf(path, sizeof path, "%s/models/demo/llm.gguf", src ? src : "..");
    check_model(path);
    snprintf(path, sizeof path, "%s/models/demo/slm.gguf", src ? src : "..");
    check_model(path);
    const char *stories = test_shared_path("models/stories260K.gguf");
    if (stories) check_model(stories);
    else printf("note: ../shared absent, stories260K (F32) not checked\n");
    /* Q8_0 and BF16 with every row count a multiple of 16: repacked where
     * the CPU has the kernels (quant_r16.h), one kernel for batches and
     * decodes (the demo pair above is F16, repacked likewise) */
    const char *q8 = test_shared_path("ref/lq-q8_0.gguf");
    if (q8) check_model(q8);
    else printf("note: ../shared absent, lq-q8_0 (Q8_0) not checked\n");
    const char *bf16 = test_shared_path("ref/lq-bf16.gguf"); /* repacked with AVX-512 BF16 */
    if (bf16) check_model(bf16);
    else printf("note: ../shared absent, lq-bf16 (BF16) not checked\n");
    return test_finish();
}
