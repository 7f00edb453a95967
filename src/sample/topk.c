/* topk.c - partial selection of the k largest logits by insertion into a
 * sorted array of k entries: O(n) for typical logits (most fail the first
 * comparison against the current k-th), O(n k) at worst. Cannot fail. */
#include "sample/topk.h"

void sample_topk(const float *logits, size_t n, size_t k, int32_t *ids)
{
    size_t filled = 0;
    if (k == 0) return;
    for (size_t i = 0; i < n; i++) {
        const float l = sample_logit(logits, i);
        if (filled == k && !(l > sample_logit(logits, (size_t)ids[k - 1]))) continue;
        size_t j = filled < k ? filled++ : k - 1;
        /* strict >: an equal logit already present (lower id) stays ahead */
        while (j > 0 && l > sample_logit(logits, (size_t)ids[j - 1])) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = (int32_t)i;
    }
}
