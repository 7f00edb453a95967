/* topk.h - the k largest logits of a vocabulary, most likely first, for
 * small k (the probe's top-K, top-k sampling). NaN logits count as -inf;
 * ties keep the lower id first. Cannot fail.
 */
#ifndef GLIMP_SAMPLE_TOPK_H
#define GLIMP_SAMPLE_TOPK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Logit with NaN mapped to -inf. */
static inline float sample_logit(const float *logits, size_t i)
{
    const float l = logits[i];
    return l == l ? l : -INFINITY;
}

/* Fills ids[0..k) with the indices of the k largest logits (k <= n),
 * in decreasing order. */
void sample_topk(const float *logits, size_t n, size_t k, int32_t *ids);

#endif
