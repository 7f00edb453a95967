/* rank.c - LSD radix sort of 64-bit keys, 8 bits per pass; a pass whose
 * digit is the same in every key is skipped (ids use only the low 2-3
 * bytes of their half). Small inputs use insertion sort. */
#include "sample/rank.h"

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
