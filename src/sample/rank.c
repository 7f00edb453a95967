/* rank.c - LSD radix sort of 64-bit keys, 8 bits per pass; a pass whose
 * digit is the same in every key is skipped (ids use only the low 2-3
 * bytes of their half). Small inputs use insertion sort. Collecting a
 * distribution's candidates: keys of those above the threshold, sorted,
 * then each weight computed again in that order (a flat distribution
 * passes the whole vocabulary, which qsort took ~45 ms per token to order
 * at 152k tokens). */
#include "sample/rank.h"

#include "sample/topk.h"

#include <math.h>
#include <stdlib.h>

#define RANK_SMALL 64

static void insertion(uint64_t *k, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const uint64_t v = k[i];
        size_t j = i;
        for (; j > 0 && k[j - 1] > v; j--) k[j] = k[j - 1];
        k[j] = v;
    }
}

void rank_sort(uint64_t *keys, uint64_t *tmp, size_t n)
{
    if (n <= RANK_SMALL) {
        insertion(keys, n);
        return;
    }
    size_t count[8][256] = {{0}};
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 8; d++) count[d][(keys[i] >> (8 * d)) & 0xFF]++;
    uint64_t *src = keys, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (c[(src[0] >> (8 * d)) & 0xFF] == n) continue; /* one digit everywhere */
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            const size_t k = c[v];
            c[v] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) dst[c[(src[i] >> (8 * d)) & 0xFF]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys) memcpy(keys, src, n * sizeof *keys);
}

bool rank_reserve(rank_scratch *r, size_t n)
{
    if (r->cap >= n) return true;
    rank_cand *c = realloc(r->c, n * sizeof *c);
    if (!c) return false;
    r->c = c;
    uint64_t *k = realloc(r->keys, 2 * n * sizeof *k);
    if (!k) return false;
    r->keys = k;
    r->cap = n;
    return true;
}

void rank_scratch_free(rank_scratch *r)
{
    free(r->c);
    free(r->keys);
    *r = (rank_scratch){0};
}

size_t rank_collect(rank_scratch *r, const float *logits, size_t n, float mx, double inv_t,
                    double thr, double *mass)
{
    size_t nc = 0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float l = sample_logit(logits, i);
        const double w = exp(((double)l - mx) * inv_t);
        if (w > 0.0 && w >= thr) {
            r->keys[nc++] = rank_key(l, (int32_t)i);
            sum += w;
        }
    }
    if (mass) *mass = sum;
    rank_sort(r->keys, r->keys + nc, nc);
    for (size_t i = 0; i < nc; i++) {
        const int32_t id = rank_id(r->keys[i]);
        r->c[i] = (rank_cand){id, exp(((double)sample_logit(logits, (size_t)id) - mx) * inv_t)};
    }
    return nc;
}
