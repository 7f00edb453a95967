/* special.c - special-token index (first-byte buckets) and partition.
 *
 * The partition finds every occurrence of every candidate token in one pass
 * over the text, then accepts them in priority order (longest token first,
 * then left to right), skipping occurrences that overlap text already
 * claimed or the previous accepted occurrence of the same token. This gives
 * the same result as splitting the text token by token, without one pass per
 * token (DeepSeek vocabularies have thousands of user-defined tokens).
 * Fails only with GLIMP_ERR_NOMEM.
 */
#include "text/special.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct by_len {
    uint32_t len;
    int32_t id;
} by_len;

static int by_priority(const void *a, const void *b)
{
    const by_len *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static bool is_special(const vocab_token *t)
{
    return t->len && (t->attr & (TOKEN_CONTROL | TOKEN_USER_DEFINED | TOKEN_UNKNOWN));
}

/* Mode 1 (outside markup) keeps the user-defined tokens that are not also
 * control tokens (end-of-generation tokens are made control at load). */
static bool in_mode(const vocab_token *t, int m)
{
    return m == 0 || ((t->attr & TOKEN_USER_DEFINED) && !(t->attr & (TOKEN_CONTROL | TOKEN_UNKNOWN)));
}

glimp_status special_index_build(special_index *si, const vocab *v, glimp_error *err)
{
    memset(si, 0, sizeof *si);
    for (int32_t id = 0; id < v->n_vocab; id++) si->n += is_special(&v->tok[id]);
    si->order = malloc(((size_t)si->n + 1) * sizeof *si->order);
    for (int m = 0; m < 2; m++) {
        si->first[m] = calloc(257, sizeof *si->first[m]);
        si->items[m] = malloc(((size_t)si->n + 1) * sizeof *si->items[m]);
    }
    if (!si->order || !si->first[0] || !si->first[1] || !si->items[0] || !si->items[1]) {
        special_index_free(si);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "special tokens: out of memory");
    }
    by_len *tmp = malloc(((size_t)si->n + 1) * sizeof *tmp);
    if (!tmp) {
        special_index_free(si);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "special tokens: out of memory");
    }
    int32_t k = 0;
    for (int32_t id = 0; id < v->n_vocab; id++)
        if (is_special(&v->tok[id])) tmp[k++] = (by_len){v->tok[id].len, id};
    qsort(tmp, (size_t)si->n, sizeof *tmp, by_priority);
    for (k = 0; k < si->n; k++) si->order[k] = tmp[k].id;
    free(tmp);
    for (int m = 0; m < 2; m++) {
        /* counting sort by first byte, stable in priority order */
        uint32_t count[256] = {0};
        for (int32_t p = 0; p < si->n; p++) {
            const vocab_token *t = &v->tok[si->order[p]];
            if (in_mode(t, m)) count[(unsigned char)v->text[t->off]]++;
        }
        for (int c = 0; c < 256; c++) si->first[m][c + 1] = si->first[m][c] + count[c];
        uint32_t fill[256];
        memcpy(fill, si->first[m], sizeof fill);
        for (int32_t p = 0; p < si->n; p++) {
            const vocab_token *t = &v->tok[si->order[p]];
            if (in_mode(t, m)) si->items[m][fill[(unsigned char)v->text[t->off]]++] = p;
        }
    }
    return GLIMP_OK;
}

void special_index_free(special_index *si)
{
    free(si->order);
    for (int m = 0; m < 2; m++) {
        free(si->first[m]);
        free(si->items[m]);
    }
    memset(si, 0, sizeof *si);
}

typedef struct occurrence {
    int32_t prio; /* index into order */
    size_t pos;
} occurrence;

static int by_prio_pos(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    if (x->prio != y->prio) return x->prio < y->prio ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_pos(const void *a, const void *b)
{
    const text_span *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* Every occurrence of every candidate token, found by first byte. Inside a
 * markup span every special token is a candidate (a control token only when
 * it ends inside that span); elsewhere only the mode-1 tokens are. */
static bool find_all(const special_index *si, const vocab *v, const glimp_span *markup,
                     size_t n_markup, const char *text, size_t n, occurrence **occ,
                     size_t *n_occ, size_t *cap)
{
    size_t k = 0; /* first markup span that does not end before i */
    for (size_t i = 0; i < n; i++) {
        while (k < n_markup && markup[k].off + markup[k].len <= i) k++;
        bool in_markup = k < n_markup && markup[k].off <= i;
        size_t markup_end = in_markup ? markup[k].off + markup[k].len : 0;
        int m = in_markup ? 0 : 1;
        unsigned char c = (unsigned char)text[i];
        for (uint32_t j = si->first[m][c]; j < si->first[m][c + 1]; j++) {
            int32_t p = si->items[m][j];
            const vocab_token *t = &v->tok[si->order[p]];
            if (t->len > n - i || memcmp(text + i, v->text + t->off, t->len)) continue;
            if (m == 0 && i + t->len > markup_end && !in_mode(t, 1)) continue;
            if (*n_occ == *cap && !text_grow((void **)occ, cap, *n_occ, 1, sizeof **occ)) return false;
            (*occ)[(*n_occ)++] = (occurrence){p, i};
        }
    }
    return true;
}

/* Accepts occurrences in priority order; appends accepted tokens to out. */
static bool accept(const special_index *si, const vocab *v, occurrence *occ, size_t n_occ,
                   size_t n, text_spans *out)
{
    unsigned char *claimed = calloc(n, 1);
    if (!claimed) return false;
    qsort(occ, n_occ, sizeof *occ, by_prio_pos);
    int32_t cur = -1;
    size_t last_end = 0;
    bool ok = true;
    for (size_t k = 0; k < n_occ && ok; k++) {
        int32_t id = si->order[occ[k].prio];
        size_t pos = occ[k].pos, len = v->tok[id].len;
        if (occ[k].prio != cur) cur = occ[k].prio, last_end = 0;
        if (pos < last_end || memchr(claimed + pos, 1, len)) continue;
        memset(claimed + pos, 1, len);
        last_end = pos + len;
        ok = text_spans_push(out, pos, len, id);
    }
    free(claimed);
    return ok;
}

glimp_status special_partition(const special_index *si, const vocab *v, const char *text,
                               size_t n, const glimp_span *markup, size_t n_markup,
                               text_spans *out, glimp_error *err)
{
    occurrence *occ = NULL;
    size_t n_occ = 0, cap = 0, first_out = out->len;
    bool ok = si->first[n_markup ? 0 : 1][256] == 0 || find_all(si, v, markup, n_markup, text, n, &occ, &n_occ, &cap);
    if (ok && n_occ) ok = accept(si, v, occ, n_occ, n, out);
    free(occ);
    if (!ok) return glimp_error_set(err, GLIMP_ERR_NOMEM, "special tokens: out of memory");
    /* tokens are in priority order: sort by position and add the raw gaps */
    size_t n_tok = out->len - first_out;
    if (n_tok > 1) qsort(out->data + first_out, n_tok, sizeof *out->data, by_pos);
    size_t pos = 0;
    for (size_t k = 0; k < n_tok; k++) {
        text_span t = out->data[first_out + k];
        if (t.off > pos && !text_spans_push(out, pos, t.off - pos, -1)) goto oom;
        pos = t.off + t.len;
    }
    if (pos < n && !text_spans_push(out, pos, n - pos, -1)) goto oom;
    if (n_tok) qsort(out->data + first_out, out->len - first_out, sizeof *out->data, by_pos);
    return GLIMP_OK;
oom:
    return glimp_error_set(err, GLIMP_ERR_NOMEM, "special tokens: out of memory");
}
