/* spec_verify.c - the acceptance rule of speculative sampling (Leviathan et
 * al. 2023; Chen et al. 2023): keep a drafted token d with probability
 * min(1, p(d) / q(d)), else draw from the normalised max(0, p - q). The
 * token kept is then distributed exactly as p, whatever q is. Cannot fail.
 */
#include "backend/spec.h"

int32_t spec_draw(const float *probs, size_t n, sample_rng *rng)
{
    double z = 0.0;
    int32_t last = 0;
    for (size_t i = 0; i < n; i++)
        if (probs[i] > 0.0f) {
            z += probs[i];
            last = (int32_t)i;
        }
    const double r = sample_rng_uniform(rng) * z;
    double cum = 0.0;
    for (size_t i = 0; i < n; i++) {
        cum += probs[i];
        if (probs[i] > 0.0f && r < cum) return (int32_t)i;
    }
    return last; /* rounding: r landed on the total */
}

/* The residual's mass at i. */
static double residual(const float *p, const float *q, int32_t d, size_t i)
{
    const double qi = q ? q[i] : (i == (size_t)d ? 1.0 : 0.0);
    const double r = (double)p[i] - qi;
    return r > 0.0 ? r : 0.0;
}

bool spec_accept(const float *p, const float *q, size_t n, int32_t d, sample_rng *rng,
                 int32_t *out)
{
    const double pd = p[d], qd = q ? q[d] : 1.0;
    const double u = sample_rng_uniform(rng);
    if (qd > 0.0 && u * qd < pd) {
        *out = d;
        return true;
    }
    double z = 0.0;
    for (size_t i = 0; i < n; i++) z += residual(p, q, d, i);
    if (!(z > 0.0)) { /* p == q up to rounding: p itself is the residual */
        *out = spec_draw(p, n, rng);
        return false;
    }
    const double r = sample_rng_uniform(rng) * z;
    double cum = 0.0;
    int32_t last = 0;
    for (size_t i = 0; i < n; i++) {
        const double m = residual(p, q, d, i);
        if (m <= 0.0) continue;
        last = (int32_t)i;
        cum += m;
        if (r < cum) {
            *out = (int32_t)i;
            return false;
        }
    }
    *out = last;
    return false;
}
