/* spm.h - SentencePiece-style BPE (tokenizer.ggml.model "llama"): spaces
 * become U+2581, the text starts as single UTF-8 characters, and the adjacent
 * pair whose concatenation is the best-scoring token (leftmost on ties) is
 * merged until no pair forms a token. Characters left that are not tokens
 * fall back to byte tokens <0xNN> (or the unknown token when a vocabulary has
 * no byte tokens). A byte that does not start a complete UTF-8 character is a
 * character of its own, so invalid input round-trips through byte tokens
 * (llama.cpp would let it swallow the next bytes). A character that occurs
 * in no token of two or more characters can never merge, so the text is
 * encoded in independent segments around such characters (same result, and
 * the candidate heap stays small). Fails only with GLIMP_ERR_NOMEM.
 */
#ifndef GLIMP_TEXT_SPM_H
#define GLIMP_TEXT_SPM_H

#include "text/buf.h"
#include "text/vocab.h"

typedef struct spm {
    int32_t byte_tok[256]; /* token for each byte, -1 if none */
    uint8_t *in_multi;     /* (0x110000 / 8) bit per code point: the character
                              occurs in some token of two or more characters */
} spm;

/* Fails only with GLIMP_ERR_NOMEM. */
glimp_status spm_init(spm *m, const vocab *v, glimp_error *err);
void spm_free(spm *m);

typedef struct spm_sym {
    int32_t prev, next;
    uint32_t start, len; /* bytes of the escaped text; len 0 once merged away */
} spm_sym;

typedef struct spm_bigram {
    float score;
    int32_t left, right;
    uint32_t size;
} spm_bigram;

/* Per-call state; zero it before first use, one per thread. */
typedef struct spm_scratch {
    text_buf esc;
    spm_sym *sym;
    size_t sym_cap;
    spm_bigram *heap;
    size_t heap_len, heap_cap;
} spm_scratch;

void spm_scratch_free(spm_scratch *s);

/* Appends the tokens of text[0..n) to out; space_prefix puts one space in
 * front first (the add_space_prefix rule). Empty text gives nothing. */
glimp_status spm_encode(const spm *m, const vocab *v, const char *text, size_t n,
                        bool space_prefix, spm_scratch *s, text_ids *out, glimp_error *err);

#endif
