/* eval_analyze_stats.c - the statistics of the signal analysis: a signal's
 * AUROC for a binary label (the Mann-Whitney U statistic over midranks, so a
 * tie between a positive and a negative counts one half) and the sample
 * bimodality coefficient (docs/eval.md, "Signal analysis"). NaN values are
 * left out; a statistic that is undefined for what is left is NaN.
 */
#include "eval/eval_analyze.h"

#include <math.h>
#include <stdlib.h>

typedef struct scored {
    double v;
    bool pos;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->v, y = ((const scored *)b)->v;
    return (x > y) - (x < y);
}

double eval_auroc(const double *v, const bool *label, size_t n)
{
    scored *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return NAN;
    size_t m = 0, n_pos = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            s[m++] = (scored){v[i], label[i]};
            n_pos += label[i];
        }
    size_t n_neg = m - n_pos;
    if (!n_pos || !n_neg) {
        free(s);
        return NAN;
    }
    qsort(s, m, sizeof *s, cmp_scored);
    /* Sum of the positives' ranks, a run of equal values sharing its midrank. */
    double rank_sum = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i, pos = 0;
        for (; j < m && s[j].v == s[i].v; j++) pos += s[j].pos;
        rank_sum += (double)pos * ((double)(i + 1) + (double)j) / 2.0;
        i = j;
    }
    free(s);
    double u = rank_sum - (double)n_pos * ((double)n_pos + 1) / 2.0;
    return u / ((double)n_pos * (double)n_neg);
}

bool eval_moments(const double *v, size_t n, eval_moments_result *out)
{
    size_t m = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) sum += v[i], m++;
    *out = (eval_moments_result){.n = m, .mean = NAN, .sd = NAN, .skew = NAN, .kurt = NAN,
                                 .bimodality = NAN};
    if (!m) return false;
    double mean = sum / (double)m, m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            double d = v[i] - mean;
            m2 += d * d, m3 += d * d * d, m4 += d * d * d * d;
        }
    double k = (double)m;
    m2 /= k, m3 /= k, m4 /= k;
    out->mean = mean;
    if (m < 2) return true;
    out->sd = sqrt(m2 * k / (k - 1));
    if (m < 4 || !(m2 > 0)) return true;
    /* G1 and G2: the bias-adjusted sample skewness and excess kurtosis. */
    double g1 = m3 / pow(m2, 1.5), g2 = m4 / (m2 * m2) - 3;
    out->skew = sqrt(k * (k - 1)) / (k - 2) * g1;
    out->kurt = (k - 1) / ((k - 2) * (k - 3)) * ((k + 1) * g2 + 6);
    out->bimodality = (out->skew * out->skew + 1) /
                      (out->kurt + 3 * (k - 1) * (k - 1) / ((k - 2) * (k - 3)));
    return true;
}
