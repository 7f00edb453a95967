/* test_text_continuation.c - a SentencePiece space prefix is dropped only at
 * the start of a whole text: on stories260K's vocabulary and llama.cpp's
 * llama-spm one, the tokens of " there was" streamed as a continuation
 * (glimp_detok with continuation) give " there was", as a whole text "there
 * was" (= glimp_detokenize); a byte-level BPE vocabulary (qwen3) gives the
 * same bytes both ways. Skips (77) when ../shared is absent. */
#include "glimp.h"
#include "test_util.h"

#include <unistd.h>

/* The bytes the streaming detokenizer gives for ids (flush included). */
static char *stream(const glimp_tokenizer *tok, const int32_t *ids, int n, bool continuation)
{
    glimp_error err = {0};
    glimp_detok *d = glimp_detok_create(tok, false, continuation, &err);
    REQUIRE(d, "detok_create: %s", err.msg);
    char *acc = calloc(1, 1024);
    size_t len = 0;
    const char *out;
    for (int i = 0; i <= n; i++) {
        int k = i < n ? glimp_detok_push(d, ids[i], &out, &err) : glimp_detok_flush(d, &out);
        REQUIRE(k >= 0 && len + (size_t)k < 1024, "push: %s", err.msg);
        memcpy(acc + len, out, (size_t)k);
        len += (size_t)k;
    }
    glimp_detok_free(d);
    return acc;
}

/* The ids "Once upon a time there was" has beyond those of "Once upon a time". */
static void check_vocab(const char *rel, bool space_prefix)
{
    const char *path = test_shared_path(rel);
    if (!path || access(path, R_OK)) test_skip("../shared not found (set GLIMP_SHARED)");
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    REQUIRE(tok, "load %s: %s", rel, err.msg);
    const char *prompt = "Once upon a time", *full = "Once upon a time there was";
    int n_p = 0, n_f = 0;
    int32_t *p = glimp_tokenize_alloc(tok, prompt, strlen(prompt), false, false, &n_p, &err);
    int32_t *f = glimp_tokenize_alloc(tok, full, strlen(full), false, false, &n_f, &err);
    REQUIRE(p && f && n_f > n_p && !memcmp(p, f, sizeof *p * (size_t)n_p), "%s: prefix ids", rel);
    char *cont = stream(tok, f + n_p, n_f - n_p, true);
    char *whole = stream(tok, f + n_p, n_f - n_p, false);
    char *once = glimp_detokenize(tok, f + n_p, (size_t)(n_f - n_p), false, NULL, &err);
    CHECK(!strcmp(cont, " there was"), "%s: continuation streamed as [%s]", rel, cont);
    CHECK(!strcmp(whole, space_prefix ? "there was" : " there was"), "%s: whole text [%s]", rel,
          whole);
    CHECK(once && !strcmp(whole, once), "%s: whole text equals glimp_detokenize [%s]", rel, once);
    char *all = stream(tok, f, n_f, true);
    CHECK(!strcmp(all, space_prefix ? " Once upon a time there was" : full),
          "%s: continuation from the first token keeps its space [%s]", rel, all);
    free(all);
    free(once);
    free(whole);
    free(cont);
    free(p);
    free(f);
    glimp_tokenizer_free(tok);
}

int main(void)
{
    check_vocab("models/stories260K.gguf", true);
    check_vocab("tokenizer/ggml-vocab-llama-spm.gguf", true);
    check_vocab("tokenizer/ggml-vocab-qwen3.gguf", false);
    return test_finish();
}
