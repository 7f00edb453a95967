/* test_sample.c - samplers (greedy, temperature, top-k, top-p, min-p, seeds)
 * and entropies, against hand-computed distributions. Statistical checks use
 * fixed seeds and tolerances of several standard deviations. */
#include <math.h>
#include <stdint.h>

#include "glimp.h"
#include "test_util.h"

#define N_DRAWS 20000

/* Draws N_DRAWS tokens and stores their frequencies in freq[0..n). */
static void draw_freq(const glimp_sampler_params *p, const float *logits, size_t n, double *freq)
{
    glimp_error err = {0};
    glimp_sampler *s = glimp_sampler_create(p, &err);
    REQUIRE(s, "create: %s", err.msg);
    for (size_t i = 0; i < n; i++) freq[i] = 0;
    int bad = 0;
    for (int d = 0; d < N_DRAWS && !bad; d++) {
        int32_t t = -1;
        bad = glimp_sampler_sample(s, logits, n, &t, &err) != GLIMP_OK || t < 0 || (size_t)t >= n;
        if (!bad) freq[t] += 1.0 / N_DRAWS;
    }
    REQUIRE(!bad, "sample failed or gave a token out of range: %s", err.msg);
    glimp_sampler_free(s);
}

/* Checks freq matches expected (0 where excluded) within 5 sigma. */
static void check_freq(const char *what, const double *freq, const double *expect, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double sd = sqrt(expect[i] * (1 - expect[i]) / N_DRAWS);
        if (expect[i] == 0)
            CHECK(freq[i] == 0, "%s: token %zu excluded but drawn (%g)", what, i, freq[i]);
        else
            CHECK(fabs(freq[i] - expect[i]) <= 5 * sd + 1e-9, "%s: token %zu freq %g expected %g",
                  what, i, freq[i], expect[i]);
    }
}

static void test_greedy_and_seed(void)
{
    const float l[6] = {0.5f, 2.0f, -1.0f, 2.0f, NAN, 1.9f};
    glimp_sampler_params p = glimp_sampler_default_params();
    glimp_error err = {0};
    int32_t t = -1;
    p.temperature = 0.0f;
    glimp_sampler *g = glimp_sampler_create(&p, &err);
    REQUIRE(g, "create: %s", err.msg);
    CHECK(glimp_sampler_sample(g, l, 6, &t, &err) == GLIMP_OK && t == 1, "greedy = argmax "
          "(lowest id on ties), got %d", t);
    CHECK(glimp_argmax(l, 6) == 1, "argmax");
    glimp_sampler_free(g);

    /* same seed -> same tokens; another seed -> a different sequence */
    float big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (float)sin(i * 0.37) * 3.0f;
    p = glimp_sampler_default_params();
    p.temperature = 1.0f;
    p.top_p = 1.0f;
    p.seed = 42;
    glimp_sampler *a = glimp_sampler_create(&p, &err), *b = glimp_sampler_create(&p, &err);
    p.seed = 43;
    glimp_sampler *c = glimp_sampler_create(&p, &err);
    REQUIRE(a && b && c, "create");
    int same = 1, diff_c = 0;
    int32_t first[200];
    for (int i = 0; i < 200; i++) {
        int32_t ta, tb, tc;
        glimp_sampler_sample(a, big, 1000, &ta, &err);
        glimp_sampler_sample(b, big, 1000, &tb, &err);
        glimp_sampler_sample(c, big, 1000, &tc, &err);
        first[i] = ta;
        same &= ta == tb;
        diff_c |= ta != tc;
    }
    CHECK(same, "same seed gives the same tokens");
    CHECK(diff_c, "another seed gives other tokens");
    glimp_sampler_reseed(a, 42);
    int again = 1;
    for (int i = 0; i < 200; i++) {
        int32_t ta;
        glimp_sampler_sample(a, big, 1000, &ta, &err);
        again &= ta == first[i];
    }
    CHECK(again, "reseed restarts the stream");
    glimp_sampler_free(a);
    glimp_sampler_free(b);
    glimp_sampler_free(c);
}

/* glimp_argmax against a plain scan (NaN as -inf, the lowest id wins ties)
 * on every length 1..40 (the vectorised lanes and the tail) with the maximum
 * placed at each position, twice (a tie), and on all-NaN / all -inf rows. */
static void test_argmax_shapes(void)
{
    float l[40];
    int bad = 0;
    for (int n = 1; n <= 40 && !bad; n++)
        for (int at = 0; at < n && !bad; at++)
            for (int tie = 0; tie < 2 && !bad; tie++) {
                for (int i = 0; i < n; i++)
                    l[i] = i % 7 == 3 ? NAN : i % 5 == 1 ? -INFINITY : (float)((i * 13) % 11);
                l[at] = 20.0f;
                if (tie) l[n - 1] = 20.0f;
                int32_t want = 0;
                for (int i = 1; i < n; i++) {
                    const float a = l[i] == l[i] ? l[i] : -INFINITY;
                    const float b = l[want] == l[want] ? l[want] : -INFINITY;
                    if (a > b) want = i;
                }
                bad = glimp_argmax(l, (size_t)n) != want;
                CHECK(!bad, "argmax n=%d max at %d tie %d: got %d want %d", n, at, tie,
                      glimp_argmax(l, (size_t)n), want);
            }
    for (int i = 0; i < 40; i++) l[i] = NAN;
    CHECK(glimp_argmax(l, 40) == 0, "argmax of all-NaN logits is 0");
    for (int i = 0; i < 40; i++) l[i] = -INFINITY;
    l[0] = NAN;
    CHECK(glimp_argmax(l, 40) == 0, "argmax of NaN and -inf logits is 0");
}

static void test_filters(void)
{
    /* p = 0.40 0.25 0.15 0.10 0.06 0.04 */
    const double p[6] = {0.40, 0.25, 0.15, 0.10, 0.06, 0.04};
    float l[6];
    double f[6], e[6];
    for (int i = 0; i < 6; i++) l[i] = (float)log(p[i]) + 3.0f;
    glimp_sampler_params sp = glimp_sampler_default_params();
    sp.temperature = 1.0f;
    sp.top_p = 1.0f;
    sp.seed = 7;

    draw_freq(&sp, l, 6, f);
    check_freq("temperature 1", f, p, 6);

    sp.temperature = 2.0f; /* p^(1/2), renormalised */
    double z = 0;
    for (int i = 0; i < 6; i++) z += sqrt(p[i]);
    for (int i = 0; i < 6; i++) e[i] = sqrt(p[i]) / z;
    draw_freq(&sp, l, 6, f);
    check_freq("temperature 2", f, e, 6);
    sp.temperature = 1.0f;

    sp.top_k = 3; /* keep 0.40 0.25 0.15 of 0.80 */
    for (int i = 0; i < 6; i++) e[i] = i < 3 ? p[i] / 0.80 : 0;
    draw_freq(&sp, l, 6, f);
    check_freq("top-k 3", f, e, 6);
    sp.top_k = 0;

    sp.top_p = 0.7f; /* cum 0.40 0.65 0.80: keep three */
    for (int i = 0; i < 6; i++) e[i] = i < 3 ? p[i] / 0.80 : 0;
    draw_freq(&sp, l, 6, f);
    check_freq("top-p 0.7", f, e, 6);

    sp.top_k = 2; /* top-k first (0.40 0.25 -> 0.615 0.385), then top-p 0.7 of that keeps 2 */
    for (int i = 0; i < 6; i++) e[i] = i < 2 ? p[i] / 0.65 : 0;
    draw_freq(&sp, l, 6, f);
    check_freq("top-k 2 + top-p 0.7", f, e, 6);
    sp.top_k = 0;
    sp.top_p = 1.0f;

    sp.min_p = 0.3f; /* keep p >= 0.12: 0.40 0.25 0.15 */
    for (int i = 0; i < 6; i++) e[i] = i < 3 ? p[i] / 0.80 : 0;
    draw_freq(&sp, l, 6, f);
    check_freq("min-p 0.3", f, e, 6);
    sp.min_p = 0.0f;

    /* top-p on a large vocabulary with a long flat tail: the nucleus needs
     * tail tokens. 5 heads of 0.1 and 20000 tail tokens sharing 0.5;
     * top_p 0.6 keeps the heads + 4000 tail tokens. */
    enum { V = 20005 };
    static float big[V];
    for (int i = 0; i < V; i++) big[i] = i < 5 ? (float)log(0.1) : (float)log(0.5 / 20000);
    glimp_error err = {0};
    sp.top_p = 0.6f;
    glimp_sampler *s = glimp_sampler_create(&sp, &err);
    REQUIRE(s, "create");
    int n_head = 0, max_tail = 0;
    for (int d = 0; d < 1000; d++) {
        int32_t t = 0;
        if (glimp_sampler_sample(s, big, V, &t, &err) != GLIMP_OK) {
            CHECK(0, "sample: %s", err.msg);
            break;
        }
        if (t < 5) n_head++;
        else if (t > max_tail) max_tail = t;
    }
    /* kept: heads 0.5 + tail tokens (lowest ids first on equal logits) up to 0.6 total */
    CHECK(max_tail < 5 + 4002, "top-p tail cut: max tail id %d", max_tail);
    CHECK(fabs(n_head / 1000.0 - 0.5 / 0.6) < 0.05, "top-p heads share %g", n_head / 1000.0);
    glimp_sampler_free(s);

    /* a nucleus that needs tokens 20 nats below the best: the sorted
     * threshold (16 nats at first) must widen; the best token still wins */
    for (int i = 0; i < 1001; i++) big[i] = i == 500 ? 0.0f : -20.0f;
    sp.top_p = 0.9999999f;
    s = glimp_sampler_create(&sp, &err);
    REQUIRE(s, "create");
    int32_t t = -1;
    CHECK(glimp_sampler_sample(s, big, 1001, &t, &err) == GLIMP_OK && t >= 0 && t < 1001,
          "widened top-p: %d", t);
    glimp_sampler_free(s);
}

static void test_entropy(void)
{
    enum { V = 1000 };
    static float l[V];
    for (int i = 0; i < V; i++) l[i] = 1.5f;
    CHECK(fabs(glimp_entropy_full(l, V) - log(V)) < 1e-9, "uniform: %g vs ln V",
          glimp_entropy_full(l, V));
    CHECK(fabs(glimp_entropy_topk(l, V, 20) - log(20)) < 1e-9, "uniform top-20: ln 20");
    for (int i = 0; i < V; i++) l[i] = -INFINITY;
    l[17] = 3.0f;
    CHECK(glimp_entropy_full(l, V) == 0.0, "one-hot: %g", glimp_entropy_full(l, V));
    CHECK(glimp_entropy_topk(l, V, 20) == 0.0, "one-hot top-20");

    /* hand computation: p = .4 .3 .2 .1; top-2 renormalised = 4/7, 3/7 */
    const float q[4] = {(float)log(0.2), (float)log(0.4), (float)log(0.1), (float)log(0.3)};
    const double h4 = -(0.4 * log(0.4) + 0.3 * log(0.3) + 0.2 * log(0.2) + 0.1 * log(0.1));
    const double h2 = -(4.0 / 7 * log(4.0 / 7) + 3.0 / 7 * log(3.0 / 7));
    CHECK(fabs(glimp_entropy_full(q, 4) - h4) < 1e-6, "full %g vs %g", glimp_entropy_full(q, 4),
          h4);
    CHECK(fabs(glimp_entropy_topk(q, 4, 2) - h2) < 1e-6, "top-2 %g vs %g",
          glimp_entropy_topk(q, 4, 2), h2);
    glimp_probe pr;
    glimp_error err = {0};
    const glimp_status st = glimp_probe_summary(q, 4, 3, &pr, &err);
    REQUIRE(st == GLIMP_OK, "probe: %s", err.msg);
    CHECK(pr.k == 3 && pr.ids[0] == 1 && pr.ids[1] == 3 && pr.ids[2] == 0, "probe ids %d %d %d",
          pr.ids[0], pr.ids[1], pr.ids[2]);
    CHECK(fabs(pr.logprobs[0] - log(0.4)) < 1e-6 && fabs(pr.logprobs[2] - log(0.2)) < 1e-6,
          "probe logprobs %g %g", pr.logprobs[0], pr.logprobs[2]);
    CHECK(fabs(pr.entropy_full - h4) < 1e-6, "probe full entropy");
    const double h3 = -(4.0 / 9 * log(4.0 / 9) + 3.0 / 9 * log(3.0 / 9) + 2.0 / 9 * log(2.0 / 9));
    CHECK(fabs(pr.entropy_topk - h3) < 1e-6, "probe top-3 entropy %g vs %g", pr.entropy_topk, h3);
    /* shifting every logit changes nothing (stable softmax) */
    const float qs[4] = {q[0] + 1000, q[1] + 1000, q[2] + 1000, q[3] + 1000};
    CHECK(fabs(glimp_entropy_full(qs, 4) - h4) < 1e-4, "shifted logits");
    /* both at once: the values of the two calls, and sum p = 1 (ln 1 = 0 here) */
    double lse = 0.0;
    const double hl = glimp_entropy_full_lse(qs, 4, &lse);
    CHECK(hl == glimp_entropy_full(qs, 4) && lse == glimp_log_sum_exp(qs, 4),
          "entropy_full_lse %g %g", hl, lse);
    CHECK(fabs(glimp_entropy_full_lse(q, 4, &lse) - h4) < 1e-6 && fabs(lse) < 1e-6,
          "entropy_full_lse of p: lse %g", lse);
}

static void test_errors(void)
{
    glimp_error err = {0};
    glimp_sampler_params p = glimp_sampler_default_params();
    p.top_p = 0.0f;
    CHECK(!glimp_sampler_create(&p, &err) && err.status == GLIMP_ERR_ARG, "top_p 0 rejected");
    p = glimp_sampler_default_params();
    p.top_k = -1;
    CHECK(!glimp_sampler_create(&p, &err) && err.status == GLIMP_ERR_ARG, "top_k -1 rejected");
    glimp_sampler *s = glimp_sampler_create(NULL, &err);
    REQUIRE(s, "default create");
    const float dead[3] = {-INFINITY, NAN, -INFINITY};
    int32_t t;
    CHECK(glimp_sampler_sample(s, dead, 3, &t, &err) == GLIMP_ERR_ARG, "all -inf rejected");
    CHECK(glimp_sampler_sample(s, dead, 0, &t, &err) == GLIMP_ERR_ARG, "empty rejected");
    glimp_probe pr;
    CHECK(glimp_probe_summary(dead, 3, 2, &pr, &err) == GLIMP_ERR_ARG, "probe all -inf");
    glimp_sampler_free(s);
    glimp_sampler_free(NULL);
}

int main(void)
{
    test_greedy_and_seed();
    test_argmax_shapes();
    test_filters();
    test_entropy();
    test_errors();
    return test_finish();
}
