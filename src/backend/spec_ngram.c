/* spec_ngram.c - the prompt-lookup drafter: find the latest earlier
 * occurrence of the history's last NGRAM_MAX tokens (then shorter suffixes,
 * down to NGRAM_MIN) and propose the tokens that followed it. Reasoning text
 * repeats names, numbers and phrasing, so the guess is often right; when
 * nothing matches it proposes nothing and decoding goes on unchanged.
 * Needs no model, so it works for any pair and for one model alone.
 */
#include "backend/spec_drafter.h"

#include "base/error.h"

#include <stdlib.h>

#define NGRAM_MAX 4
#define NGRAM_MIN 2

/* Start of the latest earlier occurrence of hist[n-m..n), or -1. */
static long find_suffix(const int32_t *hist, size_t n, size_t m)
{
    const int32_t *suf = hist + n - m;
    for (long i = (long)(n - m) - 1; i >= 0; i--) {
        size_t j = 0;
        while (j < m && hist[(size_t)i + j] == suf[j]) j++;
        if (j == m) return i;
    }
    return -1;
}

static int ngram_propose(spec_drafter *d, const int32_t *hist, size_t n, int k,
                         const spec_sampling *s, const spec_end *end, sample_rng *rng,
                         int32_t *out, glimp_error *err)
{
    (void)d, (void)s, (void)rng, (void)err;
    for (size_t m = NGRAM_MAX; m >= NGRAM_MIN; m--) {
        if (n <= m) continue;
        long at = find_suffix(hist, n, m);
        if (at < 0) continue;
        size_t from = (size_t)at + m;
        int got = 0;
        while (got < k && from + (size_t)got < n) {
            out[got] = hist[from + (size_t)got];
            if (spec_ends(end, out[got++])) break;
        }
        return got;
    }
    return 0;
}

static const float *ngram_q(const spec_drafter *d, int i)
{
    (void)d, (void)i;
    return NULL;
}

static void ngram_free(spec_drafter *d) { free(d); }

spec_drafter *spec_ngram_create(glimp_error *err)
{
    spec_drafter *d = malloc(sizeof *d);
    if (!d) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "speculation: out of memory");
        return NULL;
    }
    *d = (spec_drafter){.propose = ngram_propose, .q = ngram_q, .free = ngram_free};
    return d;
}
