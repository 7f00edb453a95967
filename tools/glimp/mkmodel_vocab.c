/* mkmodel_vocab.c - tokenizer metadata for generated models.
 *
 * Either every tokenizer.* entry of an existing GGUF file, copied verbatim
 * (the vocabulary size then follows its token list), or a synthetic
 * SentencePiece-style `llama` vocabulary: <unk>, <s>, </s>, the 256 byte
 * tokens <0x00>..<0xFF>, then distinct pieces "▁", then "▁a", "a", "▁b",
 * "b", ... "▁zz", "zz", ... (every piece's prefixes come first, so every
 * piece can be reached by merges), scored -1, -2, ... in that order. Fails
 * on unreadable files, files without tokenizer.ggml.tokens, or out of memory.
 */
#include "mkmodel.h"

#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPM_SPACE "\xe2\x96\x81" /* U+2581, SentencePiece's word boundary */
#define PIECE_MAX 32             /* bytes of the longest synthetic piece + NUL */

/* llama.cpp token types */
enum { TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_BYTE = 6 };

static glimp_status copy_vocab(gguf_writer *w, const char *path, uint32_t *n_vocab,
                               glimp_error *err)
{
    gguf_file *f = gguf_open(path, err);
    if (!f) return err->status;
    glimp_status st = GLIMP_OK;
    const gguf_value *tokens = gguf_get_arr(f, "tokenizer.ggml.tokens");
    if (!tokens || tokens->arr.elem != GGUF_TYPE_STRING || !tokens->arr.n ||
        tokens->arr.n > UINT32_MAX) {
        st = glimp_error_set(err, GLIMP_ERR_FORMAT, "%s: no tokenizer.ggml.tokens string array",
                             path);
    }
    for (uint64_t i = 0; i < gguf_n_kv(f) && !st; i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        if (kv->key.len > 10 && !memcmp(kv->key.ptr, "tokenizer.", 10))
            st = gguf_writer_add_kv(w, kv);
    }
    if (st == GLIMP_OK) *n_vocab = (uint32_t)tokens->arr.n;
    else if (st != GLIMP_ERR_FORMAT) glimp_error_set(err, st, "%s: copying the vocabulary failed", path);
    gguf_close(f);
    return st;
}

/* Synthetic piece k (0-based): "▁", then for lengths 1, 2, ...: for each
 * lowercase string s of that length in order, "▁" s and s. */
static void synth_piece(uint64_t k, char *out)
{
    if (k == 0) {
        strcpy(out, SPM_SPACE);
        return;
    }
    k--;
    uint64_t per_len = 26 * 2; /* strings of length len, with and without ▁ */
    int len = 1;
    while (k >= per_len) {
        k -= per_len;
        per_len *= 26;
        len++;
    }
    char *p = out;
    if (k % 2 == 0) {
        memcpy(p, SPM_SPACE, 3);
        p += 3;
    }
    uint64_t idx = k / 2;
    for (int i = len - 1; i >= 0; i--) {
        p[i] = (char)('a' + idx % 26);
        idx /= 26;
    }
    p[len] = 0;
}

static glimp_status synth_vocab(gguf_writer *w, uint32_t n_vocab, glimp_error *err)
{
    if (n_vocab < MKMODEL_MIN_SYNTH_VOCAB)
        return glimp_error_set(err, GLIMP_ERR_ARG,
                               "a synthetic vocabulary needs at least %u tokens (got %u)",
                               MKMODEL_MIN_SYNTH_VOCAB, n_vocab);
    char *text = malloc((size_t)n_vocab * PIECE_MAX);
    gguf_str *tokens = malloc((size_t)n_vocab * sizeof *tokens);
    float *scores = malloc((size_t)n_vocab * sizeof *scores);
    int32_t *types = malloc((size_t)n_vocab * sizeof *types);
    glimp_status st = GLIMP_OK;
    if (!text || !tokens || !scores || !types) {
        st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory for %u tokens", n_vocab);
        goto done;
    }
    static const char *const specials[3] = {"<unk>", "<s>", "</s>"};
    for (uint32_t i = 0; i < n_vocab; i++) {
        char *t = text + (size_t)i * PIECE_MAX;
        if (i < 3) {
            strcpy(t, specials[i]);
            types[i] = i == 0 ? TOKEN_UNKNOWN : TOKEN_CONTROL;
            scores[i] = 0.0f;
        } else if (i < MKMODEL_MIN_SYNTH_VOCAB) {
            snprintf(t, PIECE_MAX, "<0x%02X>", i - 3);
            types[i] = TOKEN_BYTE;
            scores[i] = 0.0f;
        } else {
            uint32_t k = i - MKMODEL_MIN_SYNTH_VOCAB;
            synth_piece(k, t);
            types[i] = TOKEN_NORMAL;
            scores[i] = -(float)(k + 1);
        }
        tokens[i].ptr = t;
        tokens[i].len = strlen(t);
    }
    gguf_writer_add_str(w, "tokenizer.ggml.model", "llama");
    gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tokens, n_vocab);
    gguf_writer_add_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, n_vocab);
    gguf_writer_add_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, n_vocab);
    gguf_writer_add_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
    gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", true);
    st = gguf_writer_add_bool(w, "tokenizer.ggml.add_eos_token", false);
    if (st) glimp_error_set(err, st, "writing the vocabulary failed");
done:
    free(text);
    free(tokens);
    free(scores);
    free(types);
    return st;
}

glimp_status mkmodel_add_vocab(gguf_writer *w, const char *vocab_path, uint32_t *n_vocab,
                               glimp_error *err)
{
    return vocab_path ? copy_vocab(w, vocab_path, n_vocab, err) : synth_vocab(w, *n_vocab, err);
}
