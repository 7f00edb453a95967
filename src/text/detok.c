/* detok.c - ids -> bytes: token pieces, one-shot detokenization and the
 * streaming detokenizer that never cuts a UTF-8 character. A space-prefix
 * (SentencePiece) vocabulary's leading space is dropped only at the start of
 * a whole text, never at the start of a continuation.
 *
 * Failures: GLIMP_ERR_ARG for ids outside the vocabulary, GLIMP_ERR_NOMEM.
 */
#include "text/tokenizer.h"

#include "base/error.h"
#include "text/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Byte of a "<0xNN>" token text, or -1. */
static int byte_token_value(const char *s, size_t n)
{
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* GPT-2 alphabet text -> bytes; characters outside the alphabet are copied. */
static bool append_gpt2_decoded(const bpe *b, const char *s, size_t n, text_buf *out)
{
    for (size_t i = 0; i < n;) {
        size_t len = text_utf8_seq_len((unsigned char)s[i]);
        if (len > n - i) len = n - i;
        const unsigned char *u = (const unsigned char *)s + i;
        uint32_t cp = len == 1 ? u[0] : len == 2 ? ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F)
                                                 : UINT32_MAX;
        int byte = cp < 324 ? b->cp_byte[cp] : -1;
        if (byte >= 0) {
            char c = (char)byte;
            if (!text_buf_append(out, &c, 1)) return false;
        } else if (!text_buf_append(out, s + i, len)) {
            return false;
        }
        i += len;
    }
    return true;
}

/* SentencePiece text: U+2581 -> space. */
static bool append_unescaped(const char *s, size_t n, text_buf *out)
{
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i + 3 <= n;) {
        if (memcmp(s + i, "\xE2\x96\x81", 3)) {
            i++;
            continue;
        }
        if (!text_buf_append(out, s + run, i - run) || !text_buf_append(out, " ", 1)) return false;
        i += 3;
        run = i;
    }
    return text_buf_append(out, s + run, n - run);
}

bool tokenizer_append_piece(const glimp_tokenizer *t, int32_t id, bool special, bool lstrip,
                            text_buf *out)
{
    const vocab_token *tk = &t->v.tok[id];
    const char *s = vocab_text(&t->v, id);
    size_t start = out->len;
    bool ok = true;
    if (tk->attr & (TOKEN_CONTROL | TOKEN_UNKNOWN)) {
        if (special) ok = text_buf_append(out, s, tk->len);
    } else if (tk->attr & TOKEN_USER_DEFINED) {
        ok = text_buf_append(out, s, tk->len);
    } else if (tk->attr & TOKEN_NORMAL) {
        ok = t->v.kind == VOCAB_BPE ? append_gpt2_decoded(&t->bpe, s, tk->len, out)
                                    : append_unescaped(s, tk->len, out);
    } else if (tk->attr & TOKEN_BYTE) {
        int b = byte_token_value(s, tk->len);
        char c = (char)b;
        if (b >= 0) ok = text_buf_append(out, &c, 1);
    }
    if (ok && lstrip && out->len > start && out->data[start] == ' ') {
        memmove(out->data + start, out->data + start + 1, out->len - start - 1);
        out->len--;
    }
    return ok;
}

int glimp_token_piece(const glimp_tokenizer *tok, int32_t id, bool special, char *buf, size_t size)
{
    if (!tok || id < 0 || id >= tok->v.n_vocab || (!buf && size)) return GLIMP_ERR_ARG;
    text_buf b = {0};
    if (!tokenizer_append_piece(tok, id, special, false, &b)) return GLIMP_ERR_NOMEM;
    if (size) {
        size_t copy = b.len < size - 1 ? b.len : size - 1;
        if (copy) memcpy(buf, b.data, copy);
        buf[copy] = '\0';
    }
    int n = (int)b.len;
    text_buf_free(&b);
    return n;
}

char *glimp_detokenize(const glimp_tokenizer *tok, const int32_t *ids, size_t n_ids, bool special,
                       size_t *len, glimp_error *err)
{
    if (!tok || (!ids && n_ids)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "glimp_detokenize: invalid arguments");
        return NULL;
    }
    text_buf b = {0};
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || ids[i] >= tok->v.n_vocab) {
            text_buf_free(&b);
            glimp_error_set(err, GLIMP_ERR_ARG, "detokenize: id %d at %zu is outside the vocabulary",
                            (int)ids[i], i);
            return NULL;
        }
        if (!tokenizer_append_piece(tok, ids[i], special, i == 0 && tok->v.add_space_prefix, &b))
            goto oom;
    }
    if (!text_buf_terminate(&b)) goto oom;
    if (len) *len = b.len;
    return b.data;
oom:
    text_buf_free(&b);
    glimp_error_set(err, GLIMP_ERR_NOMEM, "detokenize: out of memory");
    return NULL;
}

struct glimp_detok {
    const glimp_tokenizer *tok;
    bool special;
    bool continuation; /* the stream continues a text: no space is stripped */
    bool first;     /* no id pushed yet in this stream */
    text_buf buf;   /* [0, ready) returned last time, then held-back bytes */
    size_t ready;
};

glimp_detok *glimp_detok_create(const glimp_tokenizer *tok, bool special, bool continuation,
                                glimp_error *err)
{
    if (!tok) {
        glimp_error_set(err, GLIMP_ERR_ARG, "glimp_detok_create: no tokenizer");
        return NULL;
    }
    glimp_detok *d = calloc(1, sizeof *d);
    if (!d) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "detokenizer: out of memory");
        return NULL;
    }
    d->tok = tok;
    d->special = special;
    d->continuation = continuation;
    d->first = true;
    return d;
}

void glimp_detok_free(glimp_detok *d)
{
    if (!d) return;
    text_buf_free(&d->buf);
    free(d);
}

/* Drops the bytes returned by the previous call, keeping the held-back tail. */
static void detok_consume(glimp_detok *d)
{
    if (!d->ready) return;
    memmove(d->buf.data, d->buf.data + d->ready, d->buf.len - d->ready);
    d->buf.len -= d->ready;
    d->ready = 0;
}

int glimp_detok_push(glimp_detok *d, int32_t id, const char **out, glimp_error *err)
{
    if (id < 0 || id >= d->tok->v.n_vocab)
        return glimp_error_set(err, GLIMP_ERR_ARG, "detokenizer: id %d is outside the vocabulary", (int)id);
    detok_consume(d);
    bool lstrip = d->first && !d->continuation && d->tok->v.add_space_prefix;
    if (!tokenizer_append_piece(d->tok, id, d->special, lstrip, &d->buf))
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "detokenizer: out of memory");
    d->first = false;
    d->ready = d->buf.len - text_utf8_incomplete_tail(d->buf.data, d->buf.len);
    *out = d->buf.data;
    return (int)d->ready;
}

int glimp_detok_flush(glimp_detok *d, const char **out)
{
    detok_consume(d);
    d->ready = d->buf.len;
    d->first = true;
    *out = d->buf.data;
    return (int)d->ready;
}
