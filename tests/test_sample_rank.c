/* test_sample_rank.c - the radix sort that orders the sampler's candidates:
 * the same order as a comparison sort (qsort with larger logit first, lower
 * id on ties, -0 == +0) on inputs full of ties, signed zeros, infinities and
 * subnormals, at sizes around the small-input cut; and top-p sampling over
 * a flat 151,936-token distribution (where every token is a candidate)
 * drawing exactly the tokens a qsort-based reference of the same rule
 * draws from the same random numbers. */
#include <math.h>
#include <stdint.h>

#include "glimp.h"
#include "sample/rank.h"
#include "sample/rng.h"
#include "test_util.h"

typedef struct ref_cand {
    float l;
    int32_t id;
} ref_cand;

static int ref_cmp(const void *a, const void *b)
{
    const ref_cand *x = a, *y = b;
    if (x->l != y->l) return x->l > y->l ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* Logits with many ties and the awkward values. */
static float awkward(uint64_t *s)
{
    switch (lcg(s) % 10) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return INFINITY;
    case 3: return -INFINITY;
    case 4: return 1e-40f; /* subnormal */
    case 5: return -1e-40f;
    case 6: return (float)(lcg(s) % 7) - 3.0f; /* ties */
    default: return ((float)(lcg(s) % 2000000) - 1e6f) * 1e-3f;
    }
}

static void test_order(size_t n, uint64_t seed)
{
    ref_cand *ref = malloc((n + 1) * sizeof *ref);
    uint64_t *keys = malloc((2 * n + 1) * sizeof *keys);
    REQUIRE(ref && keys, "out of memory");
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        /* ids not in order, as after a threshold filter */
        const int32_t id = (int32_t)(i * 7 + (lcg(&s) % 7));
        ref[i] = (ref_cand){awkward(&s), id};
        keys[i] = rank_key(ref[i].l, id);
    }
    qsort(ref, n, sizeof *ref, ref_cmp);
    rank_sort(keys, keys + n, n);
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (rank_id(keys[i]) != ref[i].id) bad = i;
    CHECK(bad == n, "n %zu: position %zu holds id %d, the reference %d", n, bad,
          bad < n ? rank_id(keys[bad]) : -1, bad < n ? ref[bad].id : -1);
    free(ref);
    free(keys);
}

/* The sampler's rule for top-p without top-k, computed with qsort: the
 * shortest most-likely-first prefix whose weight reaches top_p of the
 * total, a draw r = u * (its weight) walked in that order. */
static int32_t ref_top_p(const float *logits, size_t n, double inv_t, double top_p,
                         sample_rng *rng, ref_cand *c)
{
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    double z = 0.0;
    for (size_t i = 0; i < n; i++) z += exp(((double)logits[i] - mx) * inv_t);
    for (size_t i = 0; i < n; i++) c[i] = (ref_cand){logits[i], (int32_t)i};
    qsort(c, n, sizeof *c, ref_cmp);
    size_t k = 0;
    double cum = 0.0;
    while (k < n && cum < top_p * z) cum += exp(((double)c[k++].l - mx) * inv_t);
    double kept = 0.0;
    for (size_t i = 0; i < k; i++) kept += exp(((double)c[i].l - mx) * inv_t);
    const double r = sample_rng_uniform(rng) * kept;
    cum = 0.0;
    for (size_t i = 0; i < k; i++) {
        cum += exp(((double)c[i].l - mx) * inv_t);
        if (r < cum) return c[i].id;
    }
    return c[k - 1].id;
}

static void test_flat_top_p(void)
{
    enum { N = 151936, DRAWS = 12 };
    float *logits = malloc(N * sizeof *logits);
    ref_cand *c = malloc(N * sizeof *c);
    REQUIRE(logits && c, "out of memory");
    uint64_t s = 42;
    /* a random-weight model's logits: nearly flat, with ties */
    for (size_t i = 0; i < N; i++) logits[i] = (float)(lcg(&s) % 4001) * 1e-3f - 2.0f;
    glimp_sampler_params p = glimp_sampler_default_params();
    p.temperature = 0.6f;
    p.top_p = 0.95f;
    p.seed = 7;
    glimp_error err = {0};
    glimp_sampler *smp = glimp_sampler_create(&p, &err);
    REQUIRE(smp, "create: %s", err.msg);
    sample_rng rng;
    sample_rng_seed(&rng, p.seed);
    int same = 0;
    for (int d = 0; d < DRAWS; d++) {
        int32_t t = -1;
        CHECK(glimp_sampler_sample(smp, logits, N, &t, &err) == GLIMP_OK, "sample: %s", err.msg);
        const int32_t want = ref_top_p(logits, N, 1.0 / p.temperature, p.top_p, &rng, c);
        same += t == want;
        CHECK(t == want, "draw %d: token %d, the reference %d", d, t, want);
    }
    printf("flat top-p over %d tokens: %d of %d draws equal to the qsort reference\n", N, same,
           DRAWS);
    glimp_sampler_free(smp);
    free(logits);
    free(c);
}

int main(void)
{
    const size_t sizes[] = {0, 1, 2, 5, 63, 64, 65, 200, 4096, 100003};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) test_order(sizes[i], 1 + i);
    test_flat_top_p();
    return test_finish();
}
