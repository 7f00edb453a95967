/* vocab.h - the vocabulary of a tokenizer, read from GGUF metadata: token
 * texts, scores and types, the special ids, and an exact text -> id map.
 *
 * vocab_load() copies everything it keeps out of the file, so the vocab
 * outlives the gguf_file. Malformed metadata (missing or mistyped arrays,
 * arrays shorter than the token list) gives GLIMP_ERR_FORMAT naming the key;
 * a tokenizer model other than "gpt2" / "llama" gives GLIMP_ERR_UNSUPPORTED.
 *
 * Besides the n_vocab real tokens the table may hold helper symbols (ids
 * n_vocab..n_sym-1): strings that byte-level BPE merges produce or consume but
 * that are not tokens themselves. vocab_find() never returns them.
 */
#ifndef GLIMP_TEXT_VOCAB_H
#define GLIMP_TEXT_VOCAB_H

#include "gguf/gguf.h"

/* Token attributes (bit set), from tokenizer.ggml.token_type. */
enum {
    TOKEN_NORMAL = 1,       /* type 1 */
    TOKEN_UNKNOWN = 2,      /* type 2 */
    TOKEN_CONTROL = 4,      /* type 3: <|im_end|>, <s>, ... */
    TOKEN_USER_DEFINED = 8, /* type 4: always split out of input text */
    TOKEN_UNUSED = 16,      /* type 5 */
    TOKEN_BYTE = 32,        /* type 6: <0xNN> */
    TOKEN_EOG = 64,         /* ends generation (derived, see vocab.c) */
};

typedef enum vocab_kind {
    VOCAB_BPE, /* tokenizer.ggml.model "gpt2": byte-level BPE */
    VOCAB_SPM, /* tokenizer.ggml.model "llama": SentencePiece-style BPE over scores */
} vocab_kind;

typedef struct vocab_token {
    uint32_t off, len; /* text = vocab.text[off .. off+len) */
    float score;
    uint8_t attr; /* TOKEN_* bits; 0 for helper symbols */
} vocab_token;

typedef struct vocab_slot {
    uint32_t hash;
    int32_t id; /* -1: empty */
} vocab_slot;

typedef struct vocab {
    vocab_kind kind;
    char model[16];   /* tokenizer.ggml.model */
    char pre[64];     /* tokenizer.ggml.pre ("" when absent) */
    int32_t n_vocab;  /* real tokens */
    int32_t n_sym;    /* real tokens + helper symbols */
    vocab_token *tok; /* (n_sym) */
    char *text;       /* all token texts, back to back (text_len bytes) */
    size_t text_len, text_cap;
    size_t sym_cap;
    vocab_slot *slots; /* open addressing over tok[], (mask + 1) slots */
    uint32_t mask;

    int32_t bos, eos, eot, unk; /* -1 when the vocabulary has none */
    bool add_bos, add_eos, add_space_prefix;
} vocab;

/* bpe_add_bos: add BOS by default (no add_bos_token key) for a gpt2 model; its
 * pre-tokenizer decides (Llama 3 does). SPM models default to adding BOS. */
glimp_status vocab_load(vocab *v, const gguf_file *f, bool bpe_add_bos, glimp_error *err);
void vocab_free(vocab *v);

/* Id of the real token whose text is exactly s[0..n), or -1. */
int32_t vocab_find(const vocab *v, const char *s, size_t n);
/* Id of a real token or helper symbol with text s[0..n), adding a helper
 * symbol when absent; -1 on OOM. */
int32_t vocab_intern_sym(vocab *v, const char *s, size_t n);

static inline const char *vocab_text(const vocab *v, int32_t id)
{
    return v->text + v->tok[id].off;
}

#endif
