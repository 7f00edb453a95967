/* test_text_special.c - special tokens and tokenizer edges on the shared
 * vocabularies: "<|im_end|>" is one control id only with parse_special,
 * lookups of <think> / </think>, end-of-generation ids, no doubled BOS when
 * the text starts with it, control-token rendering, the snprintf-style
 * result of glimp_tokenize, bad ids, and load errors for an unknown
 * pre-tokenizer or a file without tokenizer (small GGUF files written here).
 * Skips (77) when ../shared is absent. */
#include "glimp.h"
#include "gguf/gguf.h"
#include "test_util.h"

#include <unistd.h>

#define DS_BOS "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"

static glimp_tokenizer *load(const char *vocab)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tokenizer/ggml-vocab-%s.gguf", vocab);
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(test_shared_path(rel), &err);
    REQUIRE(tok != NULL, "load %s: %s", vocab, err.msg);
    return tok;
}

static void check_qwen3(void)
{
    glimp_tokenizer *tok = load("qwen3");
    const char *im_end = "<|im_end|>";
    int32_t ids[32];
    glimp_error err = {0};
    int n = glimp_tokenize(tok, im_end, strlen(im_end), false, true, ids, 32, &err);
    CHECK(n == 1 && ids[0] == 151645, "<|im_end|> with parse_special: %d ids, first %d", n, ids[0]);
    n = glimp_tokenize(tok, im_end, strlen(im_end), false, false, ids, 32, &err);
    CHECK(n > 1, "<|im_end|> as plain text: %d ids", n);
    for (int i = 0; i < n; i++) CHECK(ids[i] != 151645, "plain <|im_end|> produced the control id");
    size_t len;
    char *back = glimp_detokenize(tok, ids, (size_t)n, false, &len, &err);
    CHECK(back && len == strlen(im_end) && !memcmp(back, im_end, len), "plain <|im_end|> decodes back");
    free(back);

    CHECK(glimp_token_lookup(tok, "<think>", 7) == 151667, "lookup <think>");
    CHECK(glimp_token_lookup(tok, "</think>", 8) == 151668, "lookup </think>");
    CHECK(glimp_token_lookup(tok, "<thinking>", 10) == GLIMP_TOKEN_NULL, "lookup of a non-token");
    CHECK(glimp_token_eos(tok) == 151645 && glimp_token_eot(tok) == 151645, "eos/eot = <|im_end|>");
    CHECK(glimp_token_is_eog(tok, 151645) && glimp_token_is_eog(tok, 151643), "eog: im_end, endoftext");
    CHECK(!glimp_token_is_eog(tok, 151644) && !glimp_token_is_eog(tok, 64), "not eog: im_start, 'a'");
    CHECK(!glimp_token_is_eog(tok, -1) && !glimp_token_is_eog(tok, 1 << 30), "eog out of range");
    CHECK(!glimp_tokenizer_adds_bos(tok), "qwen3 adds no BOS");

    char piece[32];
    CHECK(glimp_token_piece(tok, 151645, false, piece, sizeof piece) == 0, "control piece hidden");
    CHECK(glimp_token_piece(tok, 151645, true, piece, sizeof piece) == 10 && !strcmp(piece, im_end),
          "control piece shown with special");
    CHECK(glimp_token_piece(tok, 151667, false, piece, sizeof piece) == 7 && !strcmp(piece, "<think>"),
          "user-defined <think> is always rendered");
    CHECK(glimp_token_piece(tok, -1, false, piece, sizeof piece) == GLIMP_ERR_ARG, "piece of id -1");
    int32_t bad = 151936;
    CHECK(glimp_detokenize(tok, &bad, 1, false, NULL, &err) == NULL && err.status == GLIMP_ERR_ARG,
          "detokenize of an id past the vocabulary");

    /* snprintf semantics: the full count even when ids is too small */
    const char *text = "Hello world, hello tokens";
    int full = glimp_tokenize(tok, text, strlen(text), false, false, NULL, 0, &err);
    ids[1] = -7;
    n = glimp_tokenize(tok, text, strlen(text), false, false, ids, 1, &err);
    CHECK(full > 1 && n == full && ids[1] == -7, "short buffer: %d of %d, nothing past n_max", n, full);
    int n_alloc = -1;
    int32_t *all = glimp_tokenize_alloc(tok, "", 0, true, true, &n_alloc, &err);
    CHECK(all != NULL && n_alloc == 0, "empty text: empty non-NULL array");
    free(all);
    glimp_tokenizer_free(tok);
}

static void check_deepseek_r1(void)
{
    glimp_tokenizer *tok = load("deepseek-r1-qwen");
    glimp_error err = {0};
    CHECK(glimp_token_bos(tok) == 151646 && glimp_tokenizer_adds_bos(tok), "r1: BOS 151646, added");
    CHECK(glimp_token_lookup(tok, "<think>", 7) == 151648, "r1: <think> id");
    CHECK(glimp_token_is_eog(tok, 151643), "r1: <｜end▁of▁sentence｜> ends generation");
    int32_t ids[64];
    const char *text = DS_BOS "hi";
    int n = glimp_tokenize(tok, text, strlen(text), true, true, ids, 64, &err);
    CHECK(n >= 2 && ids[0] == 151646 && ids[1] != 151646, "BOS written in the text is not doubled");
    n = glimp_tokenize(tok, "hi", 2, true, true, ids, 64, &err);
    CHECK(n >= 2 && ids[0] == 151646, "BOS added when the text lacks it");
    n = glimp_tokenize(tok, text, strlen(text), true, false, ids, 64, &err);
    CHECK(n > 2 && ids[0] == 151646 && ids[1] != 151646, "BOS text without parse_special is plain text");
    glimp_tokenizer_free(tok);
}

static void check_spm_decode(void)
{
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(test_shared_path("models/stories260K.gguf"), &err);
    REQUIRE(tok != NULL, "load stories260K: %s", err.msg);
    const int32_t with_bos[] = {1, 403, 407, 261, 378};
    char *s = glimp_detokenize(tok, with_bos + 1, 4, false, NULL, &err);
    CHECK(s && !strcmp(s, "Once upon a time"), "no BOS: leading space of the first token dropped: '%s'", s);
    free(s);
    /* as llama.cpp: the BOS is the first token, so the space stays */
    s = glimp_detokenize(tok, with_bos, 5, false, NULL, &err);
    CHECK(s && !strcmp(s, " Once upon a time"), "with BOS: '%s'", s);
    free(s);
    s = glimp_detokenize(tok, with_bos, 5, true, NULL, &err);
    CHECK(s && !strcmp(s, "<s> Once upon a time"), "with BOS rendered: '%s'", s);
    free(s);
    glimp_tokenizer_free(tok);
}

/* Writes a vocabulary-only GGUF with the given model/pre; returns its path. */
static const char *write_vocab(const char *model, const char *pre)
{
    static char path[64];
    snprintf(path, sizeof path, "test_text_special_%d.gguf", (int)getpid());
    glimp_error err = {0};
    gguf_writer *w = gguf_writer_create(&err);
    REQUIRE(w != NULL, "writer: %s", err.msg);
    gguf_str toks[3] = {{"a", 1}, {"b", 1}, {"ab", 2}};
    gguf_str merges[1] = {{"a b", 3}};
    if (model) gguf_writer_add_str(w, "tokenizer.ggml.model", model);
    if (pre) gguf_writer_add_str(w, "tokenizer.ggml.pre", pre);
    gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", toks, 3);
    gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, 1);
    REQUIRE(gguf_writer_begin(w, path, &err) == GLIMP_OK, "begin: %s", err.msg);
    REQUIRE(gguf_writer_finish(w, &err) == GLIMP_OK, "finish: %s", err.msg);
    gguf_writer_free(w);
    return path;
}

static void check_load_errors(void)
{
    glimp_error err = {0};
    const char *p = write_vocab("gpt2", "bogus-pre");
    CHECK(!glimp_tokenizer_load(p, &err) && err.status == GLIMP_ERR_UNSUPPORTED &&
              strstr(err.msg, "bogus-pre") && strstr(err.msg, "qwen2"),
          "unknown pre-tokenizer: %s", err.msg);
    p = write_vocab("gpt2", NULL);
    CHECK(!glimp_tokenizer_load(p, &err) && err.status == GLIMP_ERR_UNSUPPORTED, "missing pre: %s", err.msg);
    p = write_vocab("wordpiece", NULL);
    CHECK(!glimp_tokenizer_load(p, &err) && err.status == GLIMP_ERR_UNSUPPORTED, "unknown model: %s", err.msg);
    p = write_vocab(NULL, NULL);
    CHECK(!glimp_tokenizer_load(p, &err) && err.status == GLIMP_ERR_FORMAT, "no tokenizer: %s", err.msg);
    p = write_vocab("gpt2", "qwen2");
    glimp_tokenizer *tok = glimp_tokenizer_load(p, &err);
    CHECK(tok != NULL, "tiny qwen2 vocab: %s", err.msg);
    if (tok) {
        int32_t ids[4];
        int n = glimp_tokenize(tok, "ab", 2, true, false, ids, 4, &err);
        CHECK(n == 1 && ids[0] == 2, "tiny vocab merges a+b");
        glimp_tokenizer_free(tok);
    }
    CHECK(!glimp_tokenizer_load("/nonexistent/x.gguf", &err) && err.status == GLIMP_ERR_IO, "missing file");
    remove(p);
}

int main(void)
{
    test_shared_or_skip("tokenizer");
    check_qwen3();
    check_deepseek_r1();
    check_spm_decode();
    check_load_errors();
    return test_finish();
}
