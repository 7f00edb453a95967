/* rank.h - the candidate tokens of a sampling distribution, most likely
 * first, in linear time: a candidate is a 64-bit key (its logit's order in
 * the high half, its id in the low half), and an LSD radix sort orders the
 * keys. The order is the sampler's: larger logit first, ties by lower id
 * (-0 and +0 tie). glimp_sampler and speculation's spec_dist both collect
 * through rank_collect. Only rank_reserve fails (out of memory).
 */
#ifndef GLIMP_SAMPLE_RANK_H
#define GLIMP_SAMPLE_RANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A candidate: its id and weight w = exp((l - l_max) / T). */
typedef struct rank_cand {
    int32_t id;
    double w;
} rank_cand;

/* Candidate lists that grow to the vocabulary: cap candidates and 2 cap
 * keys (the keys and the sort's scratch). Zero-initialised is empty. */
typedef struct rank_scratch {
    rank_cand *c;
    uint64_t *keys;
    size_t cap;
} rank_scratch;

/* The key of logit l (not NaN) and id: ascending keys are descending
 * logits, then ascending ids. */
static inline uint64_t rank_key(float l, int32_t id)
{
    l += 0.0f; /* -0 -> +0 */
    uint32_t b;
    memcpy(&b, &l, sizeof b);
    b = (b & 0x80000000u) ? ~b : b | 0x80000000u; /* ascending with the float */
    return ((uint64_t)~b << 32) | (uint32_t)id;
}

static inline int32_t rank_id(uint64_t key) { return (int32_t)(uint32_t)key; }

/* Sorts keys[0..n) ascending; tmp is scratch of n keys. */
void rank_sort(uint64_t *keys, uint64_t *tmp, size_t n);

/* Makes r hold n candidates; false when out of memory. */
bool rank_reserve(rank_scratch *r, size_t n);
void rank_scratch_free(rank_scratch *r);

/* Into r->c (r holds n), most likely first: the tokens of logits[0..n)
 * (NaN as -inf) whose weight exp((l - mx) * inv_t) is > 0 and >= thr.
 * Returns their count; *mass (when not NULL) = their weights summed in id
 * order. */
size_t rank_collect(rank_scratch *r, const float *logits, size_t n, float mx, double inv_t,
                    double thr, double *mass);

#endif
