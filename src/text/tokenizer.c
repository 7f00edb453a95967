/* tokenizer.c - glimp_tokenizer: loading from GGUF and text -> ids.
 *
 * Encoding: special tokens are split out first (special.c; control tokens
 * only inside the markup spans: the whole text with parse_special, a chat
 * template's own markup for a rendered prompt); each raw stretch then goes
 * through SentencePiece (spm.c) or pre-tokenizer + byte-level BPE (pretok.c,
 * bpe.c); BOS/EOS are added as the vocabulary asks. Failures are
 * reported through glimp_error (see glimp.h); nothing aborts on input.
 */
#include "text/tokenizer.h"

#include "base/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static glimp_status load_bpe(glimp_tokenizer *t, const gguf_file *f, glimp_error *err)
{
    gguf_str pre;
    if (!gguf_get_str(f, "tokenizer.ggml.pre", &pre))
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                               "tokenizer.ggml.pre missing: the pre-tokenizer of this gpt2 "
                               "tokenizer is unknown (known: %s)", pretok_known_names());
    char name[64];
    size_t n = pre.len < sizeof name - 1 ? pre.len : sizeof name - 1;
    memcpy(name, pre.ptr, n);
    name[n] = '\0';
    const pretok_def *def = n == pre.len ? pretok_find(name) : NULL;
    if (!def)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "unknown pre-tokenizer '%s' (known: %s)",
                               name, pretok_known_names());
    glimp_status st = vocab_load(&t->v, f, pretok_def_add_bos(def), err);
    if (st) return st;
    t->pre = pretok_create(def, err);
    if (!t->pre) return err ? err->status : GLIMP_ERR_FORMAT;
    return bpe_load(&t->bpe, &t->v, f, pretok_def_ignore_merges(def), err);
}

glimp_tokenizer *tokenizer_from_gguf(const gguf_file *f, glimp_error *err)
{
    glimp_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "tokenizer: out of memory");
        return NULL;
    }
    gguf_str model;
    glimp_status st;
    if (gguf_get_str(f, "tokenizer.ggml.model", &model) && gguf_str_eq(model, "gpt2")) {
        st = load_bpe(t, f, err);
    } else {
        st = vocab_load(&t->v, f, false, err);
        if (!st) st = spm_init(&t->spm, &t->v, err);
    }
    if (!st) st = special_index_build(&t->special, &t->v, err);
    if (st) {
        glimp_tokenizer_free(t);
        return NULL;
    }
    return t;
}

glimp_tokenizer *glimp_tokenizer_load(const char *gguf_path, glimp_error *err)
{
    gguf_file *f = gguf_open(gguf_path, err);
    if (!f) return NULL;
    glimp_tokenizer *t = tokenizer_from_gguf(f, err);
    gguf_close(f);
    if (!t) glimp_error_prefix(err, "%s", gguf_path);
    return t;
}

void glimp_tokenizer_free(glimp_tokenizer *tok)
{
    if (!tok) return;
    special_index_free(&tok->special);
    bpe_free(&tok->bpe);
    pretok_free(tok->pre);
    spm_free(&tok->spm);
    vocab_free(&tok->v);
    free(tok);
}

/* Per-call scratch of both encoders. */
typedef struct encode_scratch {
    text_spans parts, words;
    pretok_scratch pre;
    bpe_scratch bpe;
    spm_scratch spm;
} encode_scratch;

static void encode_scratch_free(encode_scratch *s)
{
    text_spans_free(&s->parts);
    text_spans_free(&s->words);
    pretok_scratch_free(&s->pre);
    bpe_scratch_free(&s->bpe);
    spm_scratch_free(&s->spm);
}

static glimp_status encode_raw(const glimp_tokenizer *t, const char *text, size_t n,
                               bool space_prefix, encode_scratch *s, text_ids *out,
                               glimp_error *err)
{
    if (t->v.kind == VOCAB_SPM) return spm_encode(&t->spm, &t->v, text, n, space_prefix, &s->spm, out, err);
    s->words.len = 0;
    glimp_status st = pretok_split(t->pre, text, n, &s->pre, &s->words, err);
    for (size_t k = 0; !st && k < s->words.len; k++)
        st = bpe_encode_word(&t->bpe, &t->v, text + s->words.data[k].off, s->words.data[k].len,
                             &s->bpe, out, err);
    return st;
}

glimp_status tokenizer_encode(const glimp_tokenizer *t, const char *text, size_t n,
                              bool add_special, const glimp_span *markup, size_t n_markup,
                              text_ids *out, glimp_error *err)
{
    encode_scratch s;
    memset(&s, 0, sizeof s);
    glimp_status st = special_partition(&t->special, &t->v, text, n, markup, n_markup, &s.parts, err);
    if (st) goto done;
    bool starts_with_bos = s.parts.len && s.parts.data[0].id >= 0 && s.parts.data[0].id == t->v.bos;
    if (add_special && t->v.add_bos && !starts_with_bos && !text_ids_push(out, t->v.bos)) goto oom;
    /* SentencePiece: a space prefix goes before the first raw stretch and
     * before any stretch that follows a special token. */
    bool after_special = true;
    for (size_t k = 0; k < s.parts.len; k++) {
        const text_span *p = &s.parts.data[k];
        if (p->id >= 0) {
            if (!text_ids_push(out, p->id)) goto oom;
            after_special = true;
            continue;
        }
        st = encode_raw(t, text + p->off, p->len, t->v.add_space_prefix && after_special, &s, out, err);
        if (st) goto done;
        after_special = false;
    }
    if (add_special && t->v.add_eos && !text_ids_push(out, t->v.eos)) goto oom;
    goto done;
oom:
    st = glimp_error_set(err, GLIMP_ERR_NOMEM, "tokenize: out of memory");
done:
    encode_scratch_free(&s);
    return st;
}

/* Control tokens anywhere (parse_special) or nowhere. */
static glimp_status encode_text(const glimp_tokenizer *t, const char *text, size_t n,
                                bool add_special, bool parse_special, text_ids *out,
                                glimp_error *err)
{
    const glimp_span all = {0, n};
    return tokenizer_encode(t, text ? text : "", n, add_special, &all, parse_special && n ? 1 : 0,
                            out, err);
}

int glimp_tokenize(const glimp_tokenizer *tok, const char *text, size_t len, bool add_special,
                   bool parse_special, int32_t *ids, int n_max, glimp_error *err)
{
    if (!tok || (!text && len) || n_max < 0 || (!ids && n_max))
        return glimp_error_set(err, GLIMP_ERR_ARG, "glimp_tokenize: invalid arguments");
    text_ids out = {0};
    glimp_status st = encode_text(tok, text, len, add_special, parse_special, &out, err);
    if (!st && out.len > INT_MAX)
        st = glimp_error_set(err, GLIMP_ERR_RANGE, "tokenize: %zu tokens do not fit an int", out.len);
    if (st) {
        text_ids_free(&out);
        return st;
    }
    size_t copy = out.len < (size_t)n_max ? out.len : (size_t)n_max;
    if (copy) memcpy(ids, out.data, copy * sizeof *ids);
    int n = (int)out.len;
    text_ids_free(&out);
    return n;
}

/* The ids of out as a malloc'd array (never NULL when empty), or NULL. */
static int32_t *take_ids(glimp_status st, text_ids *out, int *n_ids, glimp_error *err)
{
    if (!st && out->len > INT_MAX)
        st = glimp_error_set(err, GLIMP_ERR_RANGE, "tokenize: %zu tokens do not fit an int", out->len);
    if (!st && !out->data && !(out->data = malloc(sizeof *out->data))) /* empty, but not NULL */
        st = glimp_error_set(err, GLIMP_ERR_NOMEM, "tokenize: out of memory");
    if (st) {
        text_ids_free(out);
        return NULL;
    }
    *n_ids = (int)out->len;
    return out->data;
}

int32_t *glimp_tokenize_alloc(const glimp_tokenizer *tok, const char *text, size_t len,
                              bool add_special, bool parse_special, int *n_ids, glimp_error *err)
{
    if (!tok || (!text && len) || !n_ids) {
        glimp_error_set(err, GLIMP_ERR_ARG, "glimp_tokenize_alloc: invalid arguments");
        return NULL;
    }
    text_ids out = {0};
    return take_ids(encode_text(tok, text, len, add_special, parse_special, &out, err), &out,
                    n_ids, err);
}

/* Whether the markup spans are in order, disjoint, non-empty and inside the text. */
static bool markup_ok(const glimp_prompt *p)
{
    size_t end = 0;
    for (size_t k = 0; k < p->n_markup; k++) {
        const glimp_span *m = &p->markup[k];
        if (m->off < end || !m->len || m->off > p->len || m->len > p->len - m->off) return false;
        end = m->off + m->len;
    }
    return true;
}

int32_t *glimp_tokenize_prompt(const glimp_tokenizer *tok, const glimp_prompt *prompt,
                               bool add_special, int *n_ids, glimp_error *err)
{
    if (!tok || !prompt || (!prompt->text && prompt->len) || (!prompt->markup && prompt->n_markup) ||
        !n_ids || !markup_ok(prompt)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "glimp_tokenize_prompt: invalid arguments");
        return NULL;
    }
    text_ids out = {0};
    glimp_status st = tokenizer_encode(tok, prompt->text ? prompt->text : "", prompt->len,
                                       add_special, prompt->markup, prompt->n_markup, &out, err);
    return take_ids(st, &out, n_ids, err);
}

int32_t glimp_tokenizer_n_vocab(const glimp_tokenizer *tok) { return tok->v.n_vocab; }
int32_t glimp_token_bos(const glimp_tokenizer *tok) { return tok->v.bos; }
int32_t glimp_token_eos(const glimp_tokenizer *tok) { return tok->v.eos; }
int32_t glimp_token_eot(const glimp_tokenizer *tok) { return tok->v.eot; }
bool glimp_tokenizer_adds_bos(const glimp_tokenizer *tok) { return tok->v.add_bos; }
const char *glimp_tokenizer_model(const glimp_tokenizer *tok) { return tok->v.model; }
const char *glimp_tokenizer_pre(const glimp_tokenizer *tok) { return tok->v.pre; }

bool glimp_token_is_eog(const glimp_tokenizer *tok, int32_t id)
{
    return id >= 0 && id < tok->v.n_vocab && (tok->v.tok[id].attr & TOKEN_EOG);
}

bool glimp_token_is_control(const glimp_tokenizer *tok, int32_t id)
{
    return id >= 0 && id < tok->v.n_vocab && (tok->v.tok[id].attr & TOKEN_CONTROL);
}

int32_t glimp_token_lookup(const glimp_tokenizer *tok, const char *text, size_t len)
{
    return text ? vocab_find(&tok->v, text, len) : GLIMP_TOKEN_NULL;
}

const char *glimp_token_text(const glimp_tokenizer *tok, int32_t id, size_t *len)
{
    if (id < 0 || id >= tok->v.n_vocab) return NULL;
    if (len) *len = tok->v.tok[id].len;
    return vocab_text(&tok->v, id);
}
