/* rank.h - sorting candidate tokens most likely first in linear time: a
 * candidate is a 64-bit key (its logit's order in the high half, its id in
 * the low half), and an LSD radix sort orders the keys. The order is the
 * sampler's: larger logit first, ties by lower id (-0 and +0 tie). Cannot
 * fail.
 */
#ifndef GLIMP_SAMPLE_RANK_H
#define GLIMP_SAMPLE_RANK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

#endif
