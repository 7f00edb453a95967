/* bpe.h - byte-level BPE (tokenizer.ggml.model "gpt2"): merge ranks and the
 * encoding of one pre-tokenized word.
 *
 * A word's bytes start as GPT-2 alphabet symbols; the adjacent pair with the
 * lowest merge rank (leftmost on ties) is merged until no pair has a rank.
 * Pairs are keyed by symbol ids, with helper symbols (see vocab.h) standing
 * for merge strings that are not tokens, so the result equals merging by
 * strings. A final symbol that is not a token falls back to the tokens of its
 * single bytes. Load fails with GLIMP_ERR_FORMAT when merges are missing or
 * mistyped and GLIMP_ERR_NOMEM; encoding fails with GLIMP_ERR_NOMEM, or
 * GLIMP_ERR_RANGE for a single word over 1 GiB.
 */
#ifndef GLIMP_TEXT_BPE_H
#define GLIMP_TEXT_BPE_H

#include "text/buf.h"
#include "text/vocab.h"

typedef struct bpe_pair_slot {
    uint64_t key;   /* (left id << 32) | right id */
    int32_t rank;   /* merge index; -1: empty slot */
    int32_t merged; /* symbol id of left+right */
} bpe_pair_slot;

typedef struct bpe {
    bpe_pair_slot *slots; /* (mask + 1) */
    uint64_t mask;
    int32_t byte_sym[256]; /* symbol of each byte's GPT-2 character */
    int32_t byte_tok[256]; /* token of each byte's GPT-2 character, -1 if none */
    char enc[256][2];      /* UTF-8 of each byte's GPT-2 character */
    uint8_t enc_len[256];
    int16_t cp_byte[324];  /* byte of each GPT-2 alphabet code point, -1 if none */
    bool ignore_merges;    /* a word that is a whole token is not merged (Llama 3) */
} bpe;

glimp_status bpe_load(bpe *b, vocab *v, const gguf_file *f, bool ignore_merges, glimp_error *err);
void bpe_free(bpe *b);

typedef struct bpe_sym {
    int32_t id;       /* symbol id */
    int32_t prev, next;
    uint32_t start, len; /* bytes of the word; len 0 once merged away */
} bpe_sym;

typedef struct bpe_bigram {
    int32_t rank, left, right, left_id, right_id, merged;
} bpe_bigram;

typedef struct bpe_cache_slot {
    const char *word; /* into the caller's text; NULL: empty slot */
    uint32_t len, hash;
    uint32_t ids_off, n_ids; /* into bpe_scratch.cache_ids */
} bpe_cache_slot;

/* Per-call state: symbol and heap arrays and a word -> ids cache whose keys
 * point into the text being tokenized (so it must not outlive that text).
 * Zero it before first use; one scratch per thread. */
typedef struct bpe_scratch {
    bpe_sym *sym;
    size_t sym_cap;
    bpe_bigram *heap;
    size_t heap_len, heap_cap;
    text_buf enc;
    bpe_cache_slot *cache;
    uint32_t cache_mask, cache_count;
    text_ids cache_ids;
} bpe_scratch;

void bpe_scratch_free(bpe_scratch *s);

/* Appends the tokens of word[0..n) to out. */
glimp_status bpe_encode_word(const bpe *b, const vocab *v, const char *word, size_t n,
                             bpe_scratch *s, text_ids *out, glimp_error *err);

#endif
