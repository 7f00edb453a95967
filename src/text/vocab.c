/* vocab.c - loads token texts, scores, types and special ids from GGUF
 * metadata and indexes the texts in an open-addressing hash table.
 *
 * Failure modes: GLIMP_ERR_FORMAT for missing or mistyped tokenizer arrays,
 * arrays shorter than the token list, or add_bos/add_eos set without the id;
 * GLIMP_ERR_UNSUPPORTED for an unknown tokenizer.ggml.model; GLIMP_ERR_NOMEM.
 * Ids stored as 0xFFFFFFFF (or past the vocabulary) mean "none" and are ignored.
 * Duplicate token texts keep their first id; empty texts are not indexed.
 */
#include "text/vocab.h"

#include "base/error.h"
#include "text/buf.h"

#include <stdlib.h>
#include <string.h>

/* End-of-generation tokens recognised by their text (besides eos and eot),
 * in the order used to pick eot when the file names none. */
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<|eom_id|>", "<EOT>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>", /* <｜end▁of▁sentence｜> */
};

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int32_t slot_find(const vocab *v, const char *s, size_t n, uint32_t h)
{
    for (uint32_t i = h & v->mask;; i = (i + 1) & v->mask) {
        const vocab_slot *sl = &v->slots[i];
        if (sl->id < 0) return -1;
        const vocab_token *t = &v->tok[sl->id];
        if (sl->hash == h && t->len == n && !memcmp(v->text + t->off, s, n)) return sl->id;
    }
}

static void slot_insert(vocab *v, uint32_t h, int32_t id)
{
    uint32_t i = h & v->mask;
    while (v->slots[i].id >= 0) i = (i + 1) & v->mask;
    v->slots[i] = (vocab_slot){h, id};
}

/* Sizes the table for n entries at load <= 1/2 and re-inserts tok[0..n_sym). */
static bool slots_rebuild(vocab *v, size_t n)
{
    size_t size = 64;
    while (size < 2 * n) size *= 2;
    vocab_slot *slots = malloc(size * sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < size; i++) slots[i].id = -1;
    free(v->slots);
    v->slots = slots;
    v->mask = (uint32_t)(size - 1);
    for (int32_t id = 0; id < v->n_sym; id++) {
        const vocab_token *t = &v->tok[id];
        if (!t->len) continue;
        const char *s = v->text + t->off;
        uint32_t h = hash_bytes(s, t->len);
        if (slot_find(v, s, t->len, h) < 0) slot_insert(v, h, id);
    }
    return true;
}

int32_t vocab_find(const vocab *v, const char *s, size_t n)
{
    int32_t id = slot_find(v, s, n, hash_bytes(s, n));
    return id < v->n_vocab ? id : -1;
}

int32_t vocab_intern_sym(vocab *v, const char *s, size_t n)
{
    uint32_t h = hash_bytes(s, n);
    int32_t id = slot_find(v, s, n, h);
    if (id >= 0) return id;
    if (v->n_sym == INT32_MAX || v->text_len + n > UINT32_MAX) return -1;
    if (!text_grow((void **)&v->tok, &v->sym_cap, (size_t)v->n_sym, 1, sizeof *v->tok) ||
        !text_grow((void **)&v->text, &v->text_cap, v->text_len, n, 1))
        return -1;
    memcpy(v->text + v->text_len, s, n);
    id = v->n_sym++;
    v->tok[id] = (vocab_token){(uint32_t)v->text_len, (uint32_t)n, 0.0f, 0};
    v->text_len += n;
    if ((size_t)v->n_sym * 2 > (size_t)v->mask + 1) {
        if (!slots_rebuild(v, (size_t)v->n_sym)) return -1;
    } else {
        slot_insert(v, h, id);
    }
    return id;
}

static uint8_t attr_of_type(int64_t type)
{
    switch (type) {
    case 1: return TOKEN_NORMAL;
    case 2: return TOKEN_UNKNOWN;
    case 3: return TOKEN_CONTROL;
    case 4: return TOKEN_USER_DEFINED;
    case 5: return TOKEN_UNUSED;
    case 6: return TOKEN_BYTE;
    default: return 0; /* undefined: rendered as nothing, never matched */
    }
}

static bool is_int_type(gguf_type t)
{
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_INT16 ||
           t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT32 ||
           t == GGUF_TYPE_INT64 || t == GGUF_TYPE_UINT64;
}

/* Reads an optional numeric array of at least n elements; NULL when absent. */
static glimp_status get_num_array(const gguf_file *f, const char *key, uint64_t n, bool ints_only,
                                  const gguf_value **out, glimp_error *err)
{
    *out = NULL;
    if (!gguf_find(f, key)) return GLIMP_OK;
    const gguf_value *a = gguf_get_arr(f, key);
    bool ok = a && (is_int_type(a->arr.elem) ||
                    (!ints_only && (a->arr.elem == GGUF_TYPE_FLOAT32 ||
                                    a->arr.elem == GGUF_TYPE_FLOAT64)));
    if (!ok) return glimp_error_set(err, GLIMP_ERR_FORMAT, "%s: not a numeric array", key);
    if (a->arr.n < n)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "%s: %llu entries for %llu tokens", key,
                               (unsigned long long)a->arr.n, (unsigned long long)n);
    *out = a;
    return GLIMP_OK;
}

static void read_id(const gguf_file *f, const char *key, int32_t n_vocab, int32_t *id)
{
    uint32_t v;
    if (gguf_get_u32(f, key, &v) && v < (uint32_t)n_vocab) *id = (int32_t)v;
}

static glimp_status read_names(vocab *v, const gguf_file *f, glimp_error *err)
{
    gguf_str s;
    if (!gguf_get_str(f, "tokenizer.ggml.model", &s))
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer.ggml.model missing: no tokenizer");
    if (gguf_str_eq(s, "gpt2")) v->kind = VOCAB_BPE;
    else if (gguf_str_eq(s, "llama")) v->kind = VOCAB_SPM;
    else
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                               "tokenizer model '%.*s' is not supported (gpt2, llama)",
                               (int)(s.len > 64 ? 64 : s.len), s.ptr);
    memcpy(v->model, s.ptr, s.len);
    if (gguf_get_str(f, "tokenizer.ggml.pre", &s)) {
        if (s.len >= sizeof v->pre)
            return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                                   "unknown pre-tokenizer '%.*s'", 64, s.ptr);
        memcpy(v->pre, s.ptr, s.len);
    }
    return GLIMP_OK;
}

static glimp_status read_tokens(vocab *v, const gguf_file *f, glimp_error *err)
{
    const gguf_value *toks = gguf_get_arr(f, "tokenizer.ggml.tokens");
    if (!toks || toks->arr.elem != GGUF_TYPE_STRING || !toks->arr.items)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer.ggml.tokens: missing or not strings");
    uint64_t n = toks->arr.n;
    if (n == 0 || n > INT32_MAX / 4)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer.ggml.tokens: %llu tokens",
                               (unsigned long long)n);
    const gguf_value *scores, *types;
    glimp_status st = get_num_array(f, "tokenizer.ggml.scores", n, false, &scores, err);
    if (st) return st;
    st = get_num_array(f, "tokenizer.ggml.token_type", n, true, &types, err);
    if (st) return st;

    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        total += toks->arr.items[i].str.len;
        if (total > UINT32_MAX / 2)
            return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer.ggml.tokens: texts too large");
    }
    v->sym_cap = n + n / 8 + 64;
    v->text_cap = total + total / 8 + 64;
    v->tok = malloc(v->sym_cap * sizeof *v->tok);
    v->text = malloc(v->text_cap);
    if (!v->tok || !v->text) return glimp_error_set(err, GLIMP_ERR_NOMEM, "vocabulary: out of memory");
    for (uint64_t i = 0; i < n; i++) {
        gguf_str s = toks->arr.items[i].str;
        memcpy(v->text + v->text_len, s.ptr, s.len);
        vocab_token *t = &v->tok[i];
        t->off = (uint32_t)v->text_len;
        t->len = (uint32_t)s.len;
        t->score = scores ? (float)gguf_arr_f64(scores, i) : 0.0f;
        t->attr = types ? attr_of_type(gguf_arr_i64(types, i)) : TOKEN_NORMAL;
        v->text_len += s.len;
    }
    v->n_vocab = v->n_sym = (int32_t)n;
    if (!slots_rebuild(v, n)) return glimp_error_set(err, GLIMP_ERR_NOMEM, "vocabulary: out of memory");
    return GLIMP_OK;
}

/* eot from the text list when the file names none; eos, eot and the listed
 * texts end generation and are treated as control tokens (as llama.cpp). */
static void mark_eog(vocab *v)
{
    size_t n_texts = sizeof eog_texts / sizeof eog_texts[0];
    for (size_t i = 0; i < n_texts; i++) {
        int32_t id = vocab_find(v, eog_texts[i], strlen(eog_texts[i]));
        if (id < 0) continue;
        if (v->eot < 0) v->eot = id;
        v->tok[id].attr |= TOKEN_EOG | TOKEN_CONTROL;
    }
    if (v->eos >= 0) v->tok[v->eos].attr |= TOKEN_EOG;
    if (v->eot >= 0) v->tok[v->eot].attr |= TOKEN_EOG | TOKEN_CONTROL;
}

glimp_status vocab_load(vocab *v, const gguf_file *f, bool bpe_add_bos, glimp_error *err)
{
    memset(v, 0, sizeof *v);
    v->bos = v->eos = v->eot = v->unk = -1;
    glimp_status st = read_names(v, f, err);
    if (!st) st = read_tokens(v, f, err);
    if (st) {
        vocab_free(v);
        return st;
    }
    if (v->kind == VOCAB_SPM) {
        if (v->n_vocab > 2) v->unk = 0, v->bos = 1, v->eos = 2;
        v->add_bos = true;
        v->add_space_prefix = true;
    } else {
        v->add_bos = bpe_add_bos;
    }
    read_id(f, "tokenizer.ggml.bos_token_id", v->n_vocab, &v->bos);
    read_id(f, "tokenizer.ggml.eos_token_id", v->n_vocab, &v->eos);
    read_id(f, "tokenizer.ggml.eot_token_id", v->n_vocab, &v->eot);
    read_id(f, "tokenizer.ggml.unknown_token_id", v->n_vocab, &v->unk);
    gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &v->add_bos);
    gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &v->add_eos);
    gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix);
    bool bos_missing = v->add_bos && v->bos < 0;
    if (bos_missing || (v->add_eos && v->eos < 0)) {
        vocab_free(v);
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer asks to add %s but names no %s id",
                               bos_missing ? "BOS" : "EOS", bos_missing ? "bos_token" : "eos_token");
    }
    mark_eog(v);
    return GLIMP_OK;
}

void vocab_free(vocab *v)
{
    free(v->tok);
    free(v->text);
    free(v->slots);
    memset(v, 0, sizeof *v);
    v->bos = v->eos = v->eot = v->unk = -1;
}
