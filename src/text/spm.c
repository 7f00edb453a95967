/* spm.c - SentencePiece-style encoding over token scores with a binary heap
 * of candidate pairs. Failure modes: see spm.h. */
#include "text/spm.h"

#include "base/error.h"
#include "text/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPACE_MARK "\xE2\x96\x81" /* U+2581 */

/* Code point of the valid UTF-8 character t[0..len), or -1. */
static int32_t char_cp(const unsigned char *t, size_t len)
{
    if (len == 1) return t[0] < 0x80 ? t[0] : -1;
    int32_t cp = t[0] & (0x7F >> len);
    for (size_t k = 1; k < len; k++) cp = (cp << 6) | (t[k] & 0x3F);
    return cp < 0x110000 ? cp : -1;
}

static size_t char_len(const unsigned char *t, size_t left);

glimp_status spm_init(spm *m, const vocab *v, glimp_error *err)
{
    for (int c = 0; c < 256; c++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", c);
        int32_t id = vocab_find(v, hex, 6);
        if (id < 0) {
            char one = (char)c;
            id = vocab_find(v, &one, 1);
        }
        m->byte_tok[c] = id >= 0 ? id : v->unk;
    }
    m->in_multi = calloc(0x110000 / 8, 1);
    if (!m->in_multi) return glimp_error_set(err, GLIMP_ERR_NOMEM, "SPM: out of memory");
    for (int32_t id = 0; id < v->n_vocab; id++) {
        const unsigned char *t = (const unsigned char *)vocab_text(v, id);
        size_t n = v->tok[id].len;
        if (n < 2 || char_len(t, n) == n) continue; /* one character */
        for (size_t i = 0; i < n;) {
            size_t len = char_len(t + i, n - i);
            int32_t cp = char_cp(t + i, len);
            if (cp >= 0) m->in_multi[cp >> 3] |= (uint8_t)(1u << (cp & 7));
            i += len;
        }
    }
    return GLIMP_OK;
}

void spm_free(spm *m)
{
    free(m->in_multi);
    m->in_multi = NULL;
}

void spm_scratch_free(spm_scratch *s)
{
    text_buf_free(&s->esc);
    free(s->sym);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

/* Higher score first, then leftmost. */
static bool bigram_before(const spm_bigram *a, const spm_bigram *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(spm_scratch *s, spm_bigram g)
{
    if (s->heap_len == s->heap_cap &&
        !text_grow((void **)&s->heap, &s->heap_cap, s->heap_len, 1, sizeof *s->heap))
        return false;
    size_t i = s->heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_before(&g, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = g;
    return true;
}

static spm_bigram heap_pop(spm_scratch *s)
{
    spm_bigram top = s->heap[0];
    spm_bigram last = s->heap[--s->heap_len];
    size_t i = 0, n = s->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && bigram_before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!bigram_before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* Queues the pair (l, r) when their concatenation is a token. Adjacent
 * symbols are contiguous in the escaped text. */
static bool try_pair(const vocab *v, spm_scratch *s, int32_t l, int32_t r)
{
    if (l < 0 || r < 0) return true;
    uint32_t start = s->sym[l].start, size = s->sym[l].len + s->sym[r].len;
    int32_t id = vocab_find(v, s->esc.data + start, size);
    if (id < 0) return true;
    return heap_push(s, (spm_bigram){v->tok[id].score, l, r, size});
}

static bool escape_text(spm_scratch *s, const char *text, size_t n, bool space_prefix)
{
    s->esc.len = 0;
    if (space_prefix && !text_buf_append(&s->esc, SPACE_MARK, 3)) return false;
    for (size_t i = 0; i < n;) {
        const char *sp = memchr(text + i, ' ', n - i);
        size_t run = sp ? (size_t)(sp - (text + i)) : n - i;
        if (!text_buf_append(&s->esc, text + i, run)) return false;
        i += run;
        if (i < n) {
            if (!text_buf_append(&s->esc, SPACE_MARK, 3)) return false;
            i++;
        }
    }
    return true;
}

/* Bytes of the character at t: its announced length when the continuation
 * bytes are all there, else 1 (so an invalid byte never swallows the next
 * character; for valid UTF-8 this is the plain sequence length). */
static size_t char_len(const unsigned char *t, size_t left)
{
    size_t len = text_utf8_seq_len(t[0]);
    if (len > left) return 1;
    for (size_t k = 1; k < len; k++)
        if ((t[k] & 0xC0) != 0x80) return 1;
    return len;
}

/* Encodes the escaped text t[a..b) on its own, appending to out. */
static bool encode_segment(const spm *m, const vocab *v, spm_scratch *s, size_t a, size_t b,
                           text_ids *out)
{
    const char *t = s->esc.data;
    size_t n_sym = 0;
    for (size_t off = a; off < b; n_sym++) {
        size_t len = char_len((const unsigned char *)t + off, b - off);
        s->sym[n_sym] = (spm_sym){(int32_t)n_sym - 1, off + len < b ? (int32_t)n_sym + 1 : -1,
                                  (uint32_t)off, (uint32_t)len};
        off += len;
    }
    s->heap_len = 0;
    for (size_t i = 1; i < n_sym; i++)
        if (!try_pair(v, s, (int32_t)i - 1, (int32_t)i)) return false;
    while (s->heap_len) {
        spm_bigram g = heap_pop(s);
        spm_sym *l = &s->sym[g.left], *r = &s->sym[g.right];
        if (!l->len || !r->len || l->len + r->len != g.size) continue;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) s->sym[r->next].prev = g.left;
        if (!try_pair(v, s, l->prev, g.left) || !try_pair(v, s, g.left, l->next)) return false;
    }
    for (int32_t i = 0; n_sym && i >= 0; i = s->sym[i].next) {
        const spm_sym *y = &s->sym[i];
        int32_t id = vocab_find(v, t + y->start, y->len);
        if (id >= 0) {
            if (!text_ids_push(out, id)) return false;
            continue;
        }
        for (uint32_t k = y->start; k < y->start + y->len; k++) {
            int32_t bt = m->byte_tok[(unsigned char)t[k]];
            if (bt >= 0 && !text_ids_push(out, bt)) return false;
        }
    }
    return true;
}

/* Cuts the escaped text around characters that can never merge. */
static bool encode(const spm *m, const vocab *v, spm_scratch *s, text_ids *out)
{
    const unsigned char *t = (const unsigned char *)s->esc.data;
    size_t n = s->esc.len, start = 0;
    if (n > s->sym_cap && !text_grow((void **)&s->sym, &s->sym_cap, 0, n, sizeof *s->sym)) return false;
    for (size_t off = 0; off < n;) {
        size_t len = char_len(t + off, n - off);
        int32_t cp = char_cp(t + off, len);
        if (cp >= 0 && !(m->in_multi[cp >> 3] & (1u << (cp & 7)))) {
            if (!encode_segment(m, v, s, start, off, out) ||
                !encode_segment(m, v, s, off, off + len, out))
                return false;
            start = off + len;
        }
        off += len;
    }
    return encode_segment(m, v, s, start, n, out);
}

glimp_status spm_encode(const spm *m, const vocab *v, const char *text, size_t n,
                        bool space_prefix, spm_scratch *s, text_ids *out, glimp_error *err)
{
    if (!n) return GLIMP_OK;
    if (n > UINT32_MAX / 4)
        return glimp_error_set(err, GLIMP_ERR_RANGE, "text too long for one fragment (%zu bytes)", n);
    if (!escape_text(s, text, n, space_prefix) || !encode(m, v, s, out))
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "SPM: out of memory");
    return GLIMP_OK;
}
