/* test_spec_verify.c - the exactness of speculative sampling's acceptance
 * rule on a small vocabulary: tokens drafted from q and passed through
 * spec_accept must be distributed as the target's p (temperature and top-p
 * applied to both alike), by a chi-square test over many draws with a fixed
 * seed; the same for a point-mass draft (prompt lookup). The test has
 * power: q itself fails it. Also the sampling distribution itself (spec_dist
 * against glimp_sampler's draws) and the prompt-lookup drafter's guesses.
 */
#include "backend/spec.h"
#include "backend/spec_drafter.h"
#include "test_util.h"

#define V 8
#define DRAWS 200000

/* 0.999 quantiles of chi-square for df = 1..7 */
static const double chi2_crit[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32};

/* Chi-square statistic of counts against probs; *df gets the degrees of freedom. */
static double chi2(const long *counts, const float *probs, long n, int *df, long *outside)
{
    double x = 0.0;
    int cells = 0;
    *outside = 0;
    for (int i = 0; i < V; i++) {
        if (probs[i] <= 0.0f) {
            *outside += counts[i];
            continue;
        }
        const double e = (double)probs[i] * (double)n;
        x += (counts[i] - e) * (counts[i] - e) / e;
        cells++;
    }
    *df = cells - 1;
    return x;
}

static const float p_logits[V] = {2.0f, 1.5f, 0.2f, -0.5f, 1.0f, -3.0f, 0.7f, -1.0f};
static const float q_logits[V] = {0.1f, 2.2f, 1.4f, 0.3f, -1.0f, 0.5f, 1.9f, -0.2f};

static void test_rejection(float temp, float top_p)
{
    spec_sampling s = {temp, top_p};
    rank_scratch scr = {0};
    float p[V], q[V];
    glimp_error err = {0};
    REQUIRE(spec_dist(p_logits, V, &s, p, &scr, &err) == GLIMP_OK, "%s", err.msg);
    REQUIRE(spec_dist(q_logits, V, &s, q, &scr, &err) == GLIMP_OK, "%s", err.msg);
    sample_rng rng;
    sample_rng_seed(&rng, 1234);
    long counts[V] = {0}, drafts[V] = {0}, accepted = 0;
    for (long i = 0; i < DRAWS; i++) {
        int32_t d = spec_draw(q, V, &rng), t;
        drafts[d]++;
        if (spec_accept(p, q, V, d, &rng, &t)) accepted++;
        counts[t]++;
    }
    int df;
    long outside;
    double x = chi2(counts, p, DRAWS, &df, &outside);
    CHECK(outside == 0, "T %g top-p %g: %ld tokens outside p's support", temp, top_p, outside);
    CHECK(df >= 1 && x < chi2_crit[df], "T %g top-p %g: chi2 %.2f (df %d) >= %.2f", temp, top_p,
          x, df, chi2_crit[df]);
    /* power: the draft distribution differs from p and the test sees it */
    double xq = chi2(drafts, p, DRAWS, &df, &outside);
    CHECK(outside > 0 || xq > chi2_crit[df], "T %g top-p %g: q passes as p (chi2 %.2f)", temp,
          top_p, xq);
    CHECK(accepted > 0 && accepted < DRAWS, "acceptance %ld of %d", accepted, DRAWS);

    /* a point-mass draft (prompt lookup) on each token in turn */
    long pm[V] = {0};
    for (long i = 0; i < DRAWS; i++) {
        int32_t t;
        spec_accept(p, NULL, V, (int32_t)(i % V), &rng, &t);
        pm[t]++;
    }
    x = chi2(pm, p, DRAWS, &df, &outside);
    CHECK(outside == 0 && x < chi2_crit[df], "point mass, T %g top-p %g: chi2 %.2f (df %d)",
          temp, top_p, x, df);
    rank_scratch_free(&scr);
}

/* spec_dist is what glimp_sampler draws from. */
static void test_dist_matches_sampler(float temp, float top_p)
{
    spec_sampling s = {temp, top_p};
    rank_scratch scr = {0};
    float p[V];
    REQUIRE(spec_dist(p_logits, V, &s, p, &scr, NULL) == GLIMP_OK, "spec_dist");
    glimp_sampler_params sp = glimp_sampler_default_params();
    sp.temperature = temp;
    sp.top_p = top_p;
    sp.seed = 99;
    glimp_sampler *smp = glimp_sampler_create(&sp, NULL);
    REQUIRE(smp, "sampler");
    long counts[V] = {0};
    for (long i = 0; i < DRAWS; i++) {
        int32_t t;
        glimp_sampler_sample(smp, p_logits, V, &t, NULL);
        counts[t]++;
    }
    int df;
    long outside;
    double x = chi2(counts, p, DRAWS, &df, &outside);
    CHECK(outside == 0 && x < chi2_crit[df], "sampler vs spec_dist T %g top-p %g: chi2 %.2f",
          temp, top_p, x);
    glimp_sampler_free(smp);
    rank_scratch_free(&scr);
}

static void test_greedy_dist(void)
{
    spec_sampling s = {0.0f, 0.9f};
    rank_scratch scr = {0};
    float p[V];
    REQUIRE(spec_dist(p_logits, V, &s, p, &scr, NULL) == GLIMP_OK, "spec_dist greedy");
    CHECK(p[0] == 1.0f && p[1] == 0.0f, "greedy is a point mass on the argmax");
    const float dead[V] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY,
                           -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    glimp_error err = {0};
    CHECK(spec_dist(dead, V, &s, p, &scr, &err) == GLIMP_ERR_ARG, "all -inf is an error");
    rank_scratch_free(&scr);
}

static bool ends_at_nine(void *user, int32_t t)
{
    (void)user;
    return t == 9;
}

static void test_ngram(void)
{
    spec_drafter *d = spec_ngram_create(NULL);
    REQUIRE(d, "ngram drafter");
    spec_sampling s = {0.0f, 1.0f};
    int32_t out[8];
    const int32_t h1[] = {5, 6, 7, 8, 9, 1, 5, 6, 7};
    int n = d->propose(d, h1, 9, 4, &s, NULL, NULL, out, NULL);
    CHECK(n == 4 && out[0] == 8 && out[1] == 9 && out[2] == 1 && out[3] == 5,
          "continues the earlier '5 6 7': got %d [%d %d %d %d]", n, out[0], out[1], out[2], out[3]);
    CHECK(d->q(d, 0) == NULL, "prompt lookup drafts are point masses");
    n = d->propose(d, h1, 9, 2, &s, NULL, NULL, out, NULL);
    CHECK(n == 2, "at most k guesses, got %d", n);
    const int32_t h2[] = {1, 2, 3, 4, 5, 6};
    CHECK(d->propose(d, h2, 6, 4, &s, NULL, NULL, out, NULL) == 0, "no repeat: no guess");
    const int32_t h3[] = {3, 4, 0, 3, 4, 1, 2, 3, 4};
    n = d->propose(d, h3, 9, 4, &s, NULL, NULL, out, NULL);
    CHECK(n == 4 && out[0] == 1, "the latest match wins: got %d first %d", n, out[0]);
    const spec_end nine = {ends_at_nine, NULL};
    n = d->propose(d, h1, 9, 4, &s, &nine, NULL, out, NULL);
    CHECK(n == 2 && out[0] == 8 && out[1] == 9, "nothing guessed past an ending token: got %d", n);
    d->free(d);
}

int main(void)
{
    test_rejection(1.0f, 1.0f);
    test_rejection(0.7f, 0.9f);
    test_rejection(1.3f, 0.6f);
    test_dist_matches_sampler(0.7f, 0.9f);
    test_dist_matches_sampler(1.0f, 1.0f);
    test_greedy_dist();
    test_ngram();
    return test_finish();
}
