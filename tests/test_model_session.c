/* test_model_session.c - session semantics on a reference model:
 *  - append(A) then append(B) gives the logits of append(A+B), also across
 *    n_batch chunks: tolerance 1e-4 absolute (each (token, row) dot product
 *    is computed the same way whatever the batch, so we expect 0);
 *  - truncate then append equals a fresh session with the same tokens;
 *  - sync re-uses the longest common prefix and runs only the rest;
 *  - two sessions on one model, used from two threads, do not interfere;
 *  - context overflow is GLIMP_ERR_RANGE and leaves the session unchanged;
 *  - bad token ids and bad files are clean errors;
 *  - with a Q8_0 KV cache A then B also equals A+B, bit for bit; the byte
 *    counts glimp bench's roofline uses scale as the cache types do;
 *  - copy_prefix gives another session (smaller context, other history) the
 *    first k tokens with their KV rows: appending the rest then equals a
 *    fresh session, for each KV cache type; rows held already are skipped. */
#include <pthread.h>

#include "glimp.h"
#include "test_model_util.h"

#define SAME_TOL 1e-4

static glimp_model *model;
static lgt_file p1, p2;

static glimp_session *new_session(size_t n_batch, int n_threads)
{
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.n_batch = n_batch;
    sp.n_threads = n_threads;
    glimp_session *s = glimp_session_create(model, &sp, &err);
    REQUIRE(s, "session: %s", err.msg);
    return s;
}

/* All-position logits of a fresh session on tokens (caller frees). */
static float *fresh_logits(const int32_t *tokens, size_t n)
{
    glimp_error err = {0};
    glimp_session *s = new_session(512, 2);
    const glimp_status st = glimp_session_append_all(s, tokens, n, &err);
    REQUIRE(st == GLIMP_OK, "append_all: %s", err.msg);
    const size_t nv = glimp_session_n_vocab(s);
    float *out = malloc(n * nv * sizeof *out);
    REQUIRE(out, "oom");
    memcpy(out, glimp_session_logits_at(s, 0), n * nv * sizeof *out);
    glimp_session_free(s);
    return out;
}

static void test_split_append(const float *full)
{
    glimp_error err = {0};
    const size_t nv = glimp_model_n_vocab(model), n = (size_t)p2.n_tokens;
    /* (A) then (B), B kept as all logits; small n_batch forces chunking */
    const size_t splits[] = {1, 37, 120};
    for (size_t si = 0; si < 3; si++) {
        const size_t k = splits[si];
        glimp_session *s = new_session(si == 1 ? 16 : 512, 2);
        CHECK(glimp_session_append(s, p2.tokens, k, &err) == GLIMP_OK, "append A: %s", err.msg);
        CHECK(max_abs_diff(glimp_session_logits(s), full + (k - 1) * nv, nv) <= SAME_TOL,
              "split %zu: logits after A", k);
        CHECK(glimp_session_append_all(s, p2.tokens + k, n - k, &err) == GLIMP_OK, "append B");
        double d = 0;
        for (size_t i = 0; i < n - k; i++) {
            double di = max_abs_diff(glimp_session_logits_at(s, i), full + (k + i) * nv, nv);
            if (di > d) d = di;
        }
        printf("append %zu + %zu (n_batch %d) vs one append: max diff %g\n", k, n - k,
               si == 1 ? 16 : 512, d);
        CHECK(d <= SAME_TOL, "split %zu: max diff %g", k, d);
        CHECK(glimp_session_n_tokens(s) == n, "n_tokens");
        CHECK(!memcmp(glimp_session_tokens(s), p2.tokens, n * sizeof(int32_t)), "history");
        glimp_session_free(s);
    }
    /* token by token decode */
    glimp_session *s = new_session(512, 1);
    double d = 0;
    for (size_t i = 0; i < 40; i++) {
        CHECK(glimp_session_decode(s, p2.tokens[i], &err) == GLIMP_OK, "decode");
        double di = max_abs_diff(glimp_session_logits(s), full + i * nv, nv);
        if (di > d) d = di;
    }
    printf("40 single decodes (1 thread) vs one append: max diff %g\n", d);
    CHECK(d <= SAME_TOL, "decode vs append: %g", d);
    glimp_session_free(s);
}

static void test_truncate(void)
{
    glimp_error err = {0};
    const size_t nv = glimp_model_n_vocab(model), keep = 20, n1 = (size_t)p1.n_tokens;
    /* hybrid = the first 20 tokens of P2, then P1 without its BOS */
    int32_t hybrid[64];
    const size_t nh = keep + n1 - 1;
    memcpy(hybrid, p2.tokens, keep * sizeof *hybrid);
    memcpy(hybrid + keep, p1.tokens + 1, (n1 - 1) * sizeof *hybrid);
    float *fresh = fresh_logits(hybrid, nh);

    glimp_session *s = new_session(512, 2);
    CHECK(glimp_session_append(s, p2.tokens, (size_t)p2.n_tokens, &err) == GLIMP_OK, "append");
    CHECK(glimp_session_truncate(s, keep, &err) == GLIMP_OK, "truncate");
    CHECK(glimp_session_logits(s) == NULL && glimp_session_n_logits(s) == 0, "logits cleared");
    CHECK(glimp_session_n_tokens(s) == keep, "n_tokens after truncate");
    CHECK(glimp_session_truncate(s, keep + 1, &err) == GLIMP_ERR_ARG, "truncate beyond end");
    CHECK(glimp_session_append_all(s, hybrid + keep, nh - keep, &err) == GLIMP_OK, "append rest");
    double d = 0;
    for (size_t i = keep; i < nh; i++) {
        double di = max_abs_diff(glimp_session_logits_at(s, i - keep), fresh + i * nv, nv);
        if (di > d) d = di;
    }
    printf("append P2, truncate to %zu, append P1 tail vs fresh session: max diff %g\n", keep, d);
    CHECK(d <= SAME_TOL, "truncate+append vs fresh: %g", d);
    CHECK(!memcmp(glimp_session_tokens(s), hybrid, nh * sizeof *hybrid), "history after truncate");
    glimp_session_free(s);
    free(fresh);
}

/* sync(A), sync(A+B), sync(A+B), sync(prefix of A), sync(other): tokens run
 * and final logits against a fresh session. */
static void test_sync(const float *full_p2)
{
    glimp_error err = {0};
    const size_t nv = glimp_model_n_vocab(model), n2 = (size_t)p2.n_tokens, a = 30;
    glimp_session *s = new_session(512, 2);
    size_t ran = 99;
    CHECK(glimp_session_sync(s, p2.tokens, 0, &ran, &err) == GLIMP_ERR_ARG && ran == 0, "empty");
    CHECK(glimp_session_sync(s, p2.tokens, a, &ran, &err) == GLIMP_OK && ran == a, "A: ran %zu", ran);
    CHECK(glimp_session_sync(s, p2.tokens, n2, &ran, &err) == GLIMP_OK && ran == n2 - a,
          "A+B runs only B: ran %zu", ran);
    CHECK(max_abs_diff(glimp_session_logits(s), full_p2 + (n2 - 1) * nv, nv) <= SAME_TOL,
          "A+B logits");
    CHECK(glimp_session_sync(s, p2.tokens, n2, &ran, &err) == GLIMP_OK && ran == 0, "same: ran %zu",
          ran);
    CHECK(glimp_session_sync(s, p2.tokens, a, &ran, &err) == GLIMP_OK && ran == 1,
          "prefix re-runs its last token: ran %zu", ran);
    CHECK(max_abs_diff(glimp_session_logits(s), full_p2 + (a - 1) * nv, nv) <= SAME_TOL,
          "prefix logits");
    CHECK(glimp_session_sync(s, p1.tokens, (size_t)p1.n_tokens, &ran, &err) == GLIMP_OK &&
              ran == (size_t)p1.n_tokens - 1,
          "shared BOS only: ran %zu", ran);
    int32_t *big = calloc(glimp_session_n_ctx(s) + 1, sizeof *big);
    REQUIRE(big, "oom");
    CHECK(glimp_session_sync(s, big, glimp_session_n_ctx(s) + 1, &ran, &err) == GLIMP_ERR_RANGE &&
              glimp_session_n_tokens(s) == (size_t)p1.n_tokens,
          "past the context: range error, session unchanged");
    free(big);
    glimp_session_free(s);
}

typedef struct thread_arg {
    const lgt_file *p;
    float *logits; /* (n_tokens, n_vocab): all positions, by decoding one at a time */
    int ok;
} thread_arg;

static void *thread_main(void *a_)
{
    thread_arg *a = a_;
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.n_threads = 2;
    glimp_session *s = glimp_session_create(model, &sp, &err);
    const size_t nv = glimp_model_n_vocab(model);
    a->ok = s != NULL;
    for (int i = 0; a->ok && i < a->p->n_tokens; i++) {
        a->ok = glimp_session_decode(s, a->p->tokens[i], &err) == GLIMP_OK;
        if (a->ok) memcpy(a->logits + (size_t)i * nv, glimp_session_logits(s), nv * sizeof(float));
    }
    glimp_session_free(s);
    return NULL;
}

static void test_threads(const float *full_p1, const float *full_p2)
{
    const size_t nv = glimp_model_n_vocab(model);
    thread_arg a[2] = {{.p = &p1}, {.p = &p2}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        a[i].logits = malloc((size_t)a[i].p->n_tokens * nv * sizeof(float));
        REQUIRE(a[i].logits, "oom");
        const int rc = pthread_create(&th[i], NULL, thread_main, &a[i]);
        REQUIRE(rc == 0, "pthread_create");
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(a[0].ok && a[1].ok, "thread sessions ran");
    double d1 = max_abs_diff(a[0].logits, full_p1, (size_t)p1.n_tokens * nv);
    double d2 = max_abs_diff(a[1].logits, full_p2, (size_t)p2.n_tokens * nv);
    printf("two sessions in two threads vs alone: max diff %g (P1), %g (P2)\n", d1, d2);
    CHECK(d1 <= SAME_TOL && d2 <= SAME_TOL, "threads interfere: %g %g", d1, d2);
    free(a[0].logits);
    free(a[1].logits);
}

static void test_limits(void)
{
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.n_ctx = 16;
    sp.n_threads = 1;
    glimp_session *s = glimp_session_create(model, &sp, &err);
    REQUIRE(s, "session: %s", err.msg);
    CHECK(glimp_session_n_ctx(s) == 16, "n_ctx override");
    CHECK(glimp_session_append(s, p2.tokens, 10, &err) == GLIMP_OK, "append 10");
    CHECK(glimp_session_append(s, p2.tokens, 7, &err) == GLIMP_ERR_RANGE, "overflow is RANGE");
    printf("overflow message: %s\n", err.msg);
    CHECK(glimp_session_n_tokens(s) == 10 && glimp_session_logits(s), "unchanged by overflow");
    CHECK(glimp_session_append(s, p2.tokens, 6, &err) == GLIMP_OK, "fill to n_ctx");
    CHECK(glimp_session_decode(s, 1, &err) == GLIMP_ERR_RANGE, "decode past n_ctx");
    CHECK(glimp_session_truncate(s, 3, &err) == GLIMP_OK, "truncate");
    const int32_t bad[2] = {1, (int32_t)glimp_model_n_vocab(model)};
    CHECK(glimp_session_append(s, bad, 2, &err) == GLIMP_ERR_ARG, "bad token id");
    CHECK(glimp_session_decode(s, -1, &err) == GLIMP_ERR_ARG, "negative token id");
    CHECK(glimp_session_n_tokens(s) == 3, "unchanged by bad ids");
    CHECK(glimp_session_append(s, NULL, 0, &err) == GLIMP_OK, "empty append");
    glimp_session_free(s);
    glimp_session_free(NULL);

    CHECK(!glimp_model_load("/nonexistent/x.gguf", NULL, &err) && err.status == GLIMP_ERR_IO,
          "missing file: %s", err.msg);
    const char *vocab = test_shared_or_skip("tokenizer/ggml-vocab-qwen2.gguf");
    glimp_model *v = glimp_model_load(vocab, NULL, &err);
    CHECK(!v && err.status < 0, "vocab-only file rejected");
    printf("vocab-only file: %s\n", err.msg);
    glimp_model_free(NULL);
}

static glimp_session *kv_session(glimp_kv_type kv, size_t n_batch)
{
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.kv_type = kv;
    sp.n_batch = n_batch;
    sp.n_threads = 2;
    glimp_session *s = glimp_session_create(model, &sp, &err);
    REQUIRE(s, "session (kv %s): %s", glimp_kv_type_name(kv), err.msg);
    return s;
}

static void test_kv_q8_0(void)
{
    glimp_error err = {0};
    const size_t n = (size_t)p2.n_tokens, nv = glimp_model_n_vocab(model);
    glimp_session *a = kv_session(GLIMP_KV_Q8_0, 512), *b = kv_session(GLIMP_KV_Q8_0, 7);
    CHECK(glimp_session_append(a, p2.tokens, n, &err) == GLIMP_OK, "q8_0 append: %s", err.msg);
    CHECK(glimp_session_append(b, p2.tokens, 20, &err) == GLIMP_OK &&
              glimp_session_append(b, p2.tokens + 20, n - 20, &err) == GLIMP_OK,
          "q8_0 split append: %s", err.msg);
    CHECK(!memcmp(glimp_session_logits(a), glimp_session_logits(b), nv * sizeof(float)),
          "q8_0 KV: A then B (in chunks of 7) differs from A+B");
    glimp_session_free(a);
    glimp_session_free(b);

    glimp_session_params f16 = glimp_session_default_params(), f32 = f16, q8 = f16;
    f32.kv_type = GLIMP_KV_F32;
    q8.kv_type = GLIMP_KV_Q8_0;
    const uint64_t one = glimp_session_kv_bytes(model, &f16, 1);
    CHECK(one > 0 && glimp_session_kv_bytes(model, &f16, 0) == 0 &&
              glimp_session_kv_bytes(model, &f16, 100) == 100 * one,
          "kv bytes linear in the context");
    CHECK(glimp_session_kv_bytes(model, &f32, 1) == 2 * one &&
              glimp_session_kv_bytes(model, &q8, 1) * 64 == one * 34,
          "kv bytes per type: f32 2x f16, q8_0 34/64 of it");
    const uint64_t w = glimp_model_decode_bytes(model);
    CHECK(w > 0 && w <= glimp_model_size_bytes(model), "decode bytes %llu of %llu",
          (unsigned long long)w, (unsigned long long)glimp_model_size_bytes(model));
    glimp_kv_type t = GLIMP_KV_F32;
    CHECK(glimp_kv_type_parse("q8_0", &t) && t == GLIMP_KV_Q8_0 &&
              !strcmp(glimp_kv_type_name(t), "q8_0"), "kv type q8_0 by name");
    CHECK(!glimp_kv_type_parse("Q4", &t) && !glimp_kv_type_parse(NULL, &t) && t == GLIMP_KV_Q8_0,
          "unknown kv type names rejected, value kept");
}

/* For each KV type: src holds P2; dst (context 128, holding P1) takes its
 * first k tokens by copy, appends the rest of P2, and must end with the
 * logits of a fresh session on P2. */
static void test_copy_prefix(void)
{
    glimp_error err = {0};
    const size_t n = (size_t)p2.n_tokens, nv = glimp_model_n_vocab(model), k = 40;
    const glimp_kv_type kinds[] = {GLIMP_KV_F16, GLIMP_KV_F32, GLIMP_KV_Q8_0};
    for (size_t ki = 0; ki < 3; ki++) {
        glimp_session *src = kv_session(kinds[ki], 512), *ref = kv_session(kinds[ki], 512);
        glimp_session_params sp = glimp_session_default_params();
        sp.kv_type = kinds[ki];
        sp.n_ctx = 128;
        glimp_session *dst = glimp_session_create(model, &sp, &err);
        REQUIRE(dst, "dst session: %s", err.msg);
        CHECK(glimp_session_append(src, p2.tokens, n, &err) == GLIMP_OK &&
                  glimp_session_append(ref, p2.tokens, n, &err) == GLIMP_OK &&
                  glimp_session_append(dst, p1.tokens, (size_t)p1.n_tokens, &err) == GLIMP_OK,
              "appends: %s", err.msg);
        size_t same = 0, copied = 0;
        while (same < k && p1.tokens[same] == p2.tokens[same]) same++;
        CHECK(glimp_session_copy_prefix(dst, src, k, &copied, &err) == GLIMP_OK, "copy: %s",
              err.msg);
        CHECK(copied == k - same && glimp_session_n_tokens(dst) == k &&
                  !glimp_session_logits(dst) &&
                  !memcmp(glimp_session_tokens(dst), p2.tokens, k * sizeof *p2.tokens),
              "kv %s: copied %zu of %zu (shared %zu), history", glimp_kv_type_name(kinds[ki]),
              copied, k, same);
        CHECK(glimp_session_append(dst, p2.tokens + k, n - k, &err) == GLIMP_OK, "append rest");
        double d = max_abs_diff(glimp_session_logits(dst), glimp_session_logits(ref), nv);
        printf("kv %s: copy of %zu tokens + append of %zu vs fresh: max diff %g\n",
               glimp_kv_type_name(kinds[ki]), k, n - k, d);
        CHECK(d <= SAME_TOL, "kv %s: copied prefix + rest vs fresh: %g",
              glimp_kv_type_name(kinds[ki]), d);
        CHECK(glimp_session_copy_prefix(dst, src, k + 10, &copied, &err) == GLIMP_OK &&
                  copied == 0 && glimp_session_n_tokens(dst) == k + 10,
              "rows held already are not copied again (copied %zu)", copied);
        glimp_session_free(ref);
        glimp_session_free(src);
        glimp_session_free(dst);
    }
    glimp_session *a = kv_session(GLIMP_KV_F16, 512), *b = kv_session(GLIMP_KV_Q8_0, 512);
    CHECK(glimp_session_copy_prefix(a, b, 1, NULL, &err) == GLIMP_ERR_ARG, "KV types differ");
    CHECK(glimp_session_copy_prefix(a, a, 1, NULL, &err) == GLIMP_ERR_ARG, "same session");
    CHECK(glimp_session_copy_prefix(a, NULL, 1, NULL, &err) == GLIMP_ERR_ARG, "NULL source");
    CHECK(glimp_session_copy_prefix(b, b, 1, NULL, &err) == GLIMP_ERR_ARG, "same session (q8)");
    glimp_session *c = kv_session(GLIMP_KV_F16, 512);
    CHECK(glimp_session_copy_prefix(a, c, glimp_session_n_ctx(c) + 1, NULL, &err) ==
              GLIMP_ERR_RANGE, "past the context");
    glimp_session_free(a);
    glimp_session_free(b);
    glimp_session_free(c);
}

int main(void)
{
    char path[1024];
    const char *dir = test_shared_or_skip("ref");
    glimp_error err = {0};
    snprintf(path, sizeof path, "%s/lq-q8_0.p1.logits.bin", dir);
    int read_ok = lgt_read(path, &p1);
    REQUIRE(read_ok, "read %s", path);
    snprintf(path, sizeof path, "%s/lq-q8_0.p2.logits.bin", dir);
    read_ok = lgt_read(path, &p2);
    REQUIRE(read_ok, "read %s", path);
    snprintf(path, sizeof path, "%s/lq-q8_0.gguf", dir);
    model = glimp_model_load(path, NULL, &err);
    REQUIRE(model, "load: %s", err.msg);
    CHECK(glimp_model_n_ctx_train(model) == 256 && glimp_model_n_vocab(model) == 512, "hparams");

    float *full_p1 = fresh_logits(p1.tokens, (size_t)p1.n_tokens);
    float *full_p2 = fresh_logits(p2.tokens, (size_t)p2.n_tokens);
    test_split_append(full_p2);
    test_truncate();
    test_sync(full_p2);
    test_threads(full_p1, full_p2);
    test_limits();
    test_kv_q8_0();
    test_copy_prefix();
    free(full_p1);
    free(full_p2);
    glimp_model_free(model);
    lgt_free(&p1);
    lgt_free(&p2);
    return test_finish();
}
