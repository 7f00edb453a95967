/* bpe.c - merge table loading and per-word byte-level BPE with a binary heap
 * of candidate pairs (O(n log n) per word) and a per-call word cache.
 * Failure modes: see bpe.h. */
#include "text/bpe.h"

#include "base/error.h"
#include "text/utf8.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_MAX_SLOTS (1u << 16)
#define CACHE_MAX_WORD 64

static uint64_t pair_key(int32_t l, int32_t r) { return ((uint64_t)(uint32_t)l << 32) | (uint32_t)r; }

static uint64_t pair_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static const bpe_pair_slot *pair_find(const bpe *b, int32_t l, int32_t r)
{
    uint64_t k = pair_key(l, r);
    for (uint64_t i = pair_hash(k) & b->mask;; i = (i + 1) & b->mask) {
        const bpe_pair_slot *s = &b->slots[i];
        if (s->rank < 0) return NULL;
        if (s->key == k) return s;
    }
}

/* Inserts unless the pair is already there (the first rank wins). */
static void pair_insert(bpe *b, int32_t l, int32_t r, int32_t rank, int32_t merged)
{
    uint64_t k = pair_key(l, r);
    uint64_t i = pair_hash(k) & b->mask;
    while (b->slots[i].rank >= 0) {
        if (b->slots[i].key == k) return;
        i = (i + 1) & b->mask;
    }
    b->slots[i] = (bpe_pair_slot){k, rank, merged};
}

static glimp_status load_bytes(bpe *b, vocab *v, glimp_error *err)
{
    for (uint32_t cp = 0; cp < 324; cp++) b->cp_byte[cp] = (int16_t)text_gpt2_cp_to_byte(cp);
    for (int c = 0; c < 256; c++) {
        char u[4];
        size_t n = text_utf8_encode(text_gpt2_byte_to_cp((unsigned char)c), u);
        memcpy(b->enc[c], u, n);
        b->enc_len[c] = (uint8_t)n;
        b->byte_tok[c] = vocab_find(v, u, n);
        b->byte_sym[c] = vocab_intern_sym(v, u, n);
        if (b->byte_sym[c] < 0) return glimp_error_set(err, GLIMP_ERR_NOMEM, "BPE: out of memory");
    }
    return GLIMP_OK;
}

glimp_status bpe_load(bpe *b, vocab *v, const gguf_file *f, bool ignore_merges, glimp_error *err)
{
    memset(b, 0, sizeof *b);
    b->ignore_merges = ignore_merges;
    const gguf_value *m = gguf_get_arr(f, "tokenizer.ggml.merges");
    if (!m || m->arr.elem != GGUF_TYPE_STRING || !m->arr.items)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer.ggml.merges: missing or not strings");
    if (m->arr.n > INT32_MAX / 4)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "tokenizer.ggml.merges: too many merges");
    uint64_t size = 64;
    while (size < 2 * m->arr.n) size *= 2;
    b->slots = malloc(size * sizeof *b->slots);
    if (!b->slots) return glimp_error_set(err, GLIMP_ERR_NOMEM, "BPE: out of memory");
    b->mask = size - 1;
    for (uint64_t i = 0; i < size; i++) b->slots[i].rank = -1;

    glimp_status st = load_bytes(b, v, err);
    text_buf both = {0};
    for (uint64_t i = 0; !st && i < m->arr.n; i++) {
        gguf_str s = m->arr.items[i].str;
        /* "left right": split at the first space after the first byte */
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
        if (!sp) continue;
        size_t nl = (size_t)(sp - s.ptr), nr = s.len - nl - 1;
        both.len = 0;
        if (!text_buf_append(&both, s.ptr, nl) || !text_buf_append(&both, sp + 1, nr)) {
            st = glimp_error_set(err, GLIMP_ERR_NOMEM, "BPE: out of memory");
            break;
        }
        int32_t l = vocab_intern_sym(v, s.ptr, nl);
        int32_t r = vocab_intern_sym(v, sp + 1, nr);
        int32_t lr = vocab_intern_sym(v, both.data, both.len);
        if (l < 0 || r < 0 || lr < 0) st = glimp_error_set(err, GLIMP_ERR_NOMEM, "BPE: out of memory");
        else pair_insert(b, l, r, (int32_t)i, lr);
    }
    text_buf_free(&both);
    if (st) bpe_free(b);
    return st;
}

void bpe_free(bpe *b)
{
    free(b->slots);
    memset(b, 0, sizeof *b);
}

void bpe_scratch_free(bpe_scratch *s)
{
    free(s->sym);
    free(s->heap);
    text_buf_free(&s->enc);
    free(s->cache);
    text_ids_free(&s->cache_ids);
    memset(s, 0, sizeof *s);
}

/* ---- candidate-pair heap: lowest rank first, then leftmost ---- */

static bool bigram_less(const bpe_bigram *a, const bpe_bigram *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static bool heap_push(bpe_scratch *s, bpe_bigram g)
{
    if (s->heap_len == s->heap_cap &&
        !text_grow((void **)&s->heap, &s->heap_cap, s->heap_len, 1, sizeof *s->heap))
        return false;
    size_t i = s->heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_less(&g, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = g;
    return true;
}

static bpe_bigram heap_pop(bpe_scratch *s)
{
    bpe_bigram top = s->heap[0];
    bpe_bigram last = s->heap[--s->heap_len];
    size_t i = 0, n = s->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && bigram_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!bigram_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static bool try_pair(const bpe *b, bpe_scratch *s, int32_t l, int32_t r)
{
    if (l < 0 || r < 0) return true;
    const bpe_pair_slot *p = pair_find(b, s->sym[l].id, s->sym[r].id);
    if (!p) return true;
    return heap_push(s, (bpe_bigram){p->rank, l, r, s->sym[l].id, s->sym[r].id, p->merged});
}

/* ---- word cache (keys point into the text being tokenized) ---- */

static uint32_t word_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

static bpe_cache_slot *cache_slot(const bpe_scratch *s, const char *w, size_t n, uint32_t h)
{
    for (uint32_t i = h & s->cache_mask;; i = (i + 1) & s->cache_mask) {
        bpe_cache_slot *c = &s->cache[i];
        if (!c->word || (c->hash == h && c->len == n && !memcmp(c->word, w, n))) return c;
    }
}

/* Grows the table when 3/4 full; false when it cannot (then nothing is cached). */
static bool cache_make_room(bpe_scratch *s)
{
    uint32_t size = s->cache ? s->cache_mask + 1 : 0;
    if (s->cache && (s->cache_count + 1) * 4 <= size * 3) return true;
    if (size >= CACHE_MAX_SLOTS) return false;
    uint32_t nsize = size ? size * 2 : 1024;
    bpe_cache_slot *old = s->cache;
    s->cache = calloc(nsize, sizeof *s->cache);
    if (!s->cache) {
        s->cache = old;
        return false;
    }
    s->cache_mask = nsize - 1;
    for (uint32_t i = 0; i < size; i++)
        if (old[i].word) *cache_slot(s, old[i].word, old[i].len, old[i].hash) = old[i];
    free(old);
    return true;
}

static bool cache_put(bpe_scratch *s, const char *w, size_t n, uint32_t h, const int32_t *ids,
                      size_t n_ids)
{
    if (!cache_make_room(s)) return true;
    bpe_cache_slot *c = cache_slot(s, w, n, h);
    size_t off = s->cache_ids.len;
    if (!text_ids_append(&s->cache_ids, ids, n_ids)) return false;
    *c = (bpe_cache_slot){w, (uint32_t)n, h, (uint32_t)off, (uint32_t)n_ids};
    s->cache_count++;
    return true;
}

/* ---- encoding ---- */

static bool merge_word(const bpe *b, const vocab *v, const char *w, size_t n, bpe_scratch *s,
                       text_ids *out)
{
    if (b->ignore_merges) {
        s->enc.len = 0;
        for (size_t i = 0; i < n; i++)
            if (!text_buf_append(&s->enc, b->enc[(unsigned char)w[i]], b->enc_len[(unsigned char)w[i]]))
                return false;
        int32_t id = vocab_find(v, s->enc.data, s->enc.len);
        if (id >= 0) return text_ids_push(out, id);
    }
    if (n > s->sym_cap && !text_grow((void **)&s->sym, &s->sym_cap, 0, n, sizeof *s->sym)) return false;
    for (size_t i = 0; i < n; i++)
        s->sym[i] = (bpe_sym){b->byte_sym[(unsigned char)w[i]], (int32_t)i - 1,
                              i + 1 < n ? (int32_t)i + 1 : -1, (uint32_t)i, 1};
    s->heap_len = 0;
    for (size_t i = 1; i < n; i++)
        if (!try_pair(b, s, (int32_t)i - 1, (int32_t)i)) return false;
    while (s->heap_len) {
        bpe_bigram g = heap_pop(s);
        bpe_sym *l = &s->sym[g.left], *r = &s->sym[g.right];
        if (!l->len || !r->len || l->id != g.left_id || r->id != g.right_id) continue;
        l->id = g.merged;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) s->sym[r->next].prev = g.left;
        if (!try_pair(b, s, l->prev, g.left) || !try_pair(b, s, g.left, l->next)) return false;
    }
    for (int32_t i = 0; i >= 0; i = s->sym[i].next) {
        const bpe_sym *y = &s->sym[i];
        if (y->id < v->n_vocab) {
            if (!text_ids_push(out, y->id)) return false;
            continue;
        }
        for (uint32_t k = y->start; k < y->start + y->len; k++) {
            int32_t t = b->byte_tok[(unsigned char)w[k]];
            if (t >= 0 && !text_ids_push(out, t)) return false;
        }
    }
    return true;
}

glimp_status bpe_encode_word(const bpe *b, const vocab *v, const char *word, size_t n,
                             bpe_scratch *s, text_ids *out, glimp_error *err)
{
    if (!n) return GLIMP_OK;
    if (n > INT32_MAX / 2)
        return glimp_error_set(err, GLIMP_ERR_RANGE, "BPE: word of %zu bytes is too long", n);
    bool cacheable = n <= CACHE_MAX_WORD;
    uint32_t h = 0;
    if (cacheable) {
        h = word_hash(word, n);
        if (s->cache) {
            const bpe_cache_slot *c = cache_slot(s, word, n, h);
            if (c->word) {
                if (!text_ids_append(out, s->cache_ids.data + c->ids_off, c->n_ids)) goto oom;
                return GLIMP_OK;
            }
        }
    }
    size_t first = out->len;
    if (!merge_word(b, v, word, n, s, out)) goto oom;
    if (cacheable && !cache_put(s, word, n, h, out->data + first, out->len - first)) goto oom;
    return GLIMP_OK;
oom:
    return glimp_error_set(err, GLIMP_ERR_NOMEM, "BPE: out of memory");
}
