/* test_model_vecmath.c - the vectorised softmax and SwiGLU (src/model/
 * vecmath, AVX2 and AVX-512) against their scalar versions (libm expf): the
 * vector exp within a few ulp of exp in double over the float range,
 * results within a few ulp on odd lengths (tails), exp's ends (0,
 * subnormal, overflow to infinity, the limits of silu) and NaN kept. Each
 * level is tested where the CPU runs it; skips when it runs neither. */
/* test-links: model quant base */
#include "base/cpu.h"
#include "model/vecmath.h"
#include "test_util.h"

#include <stdint.h>

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static float uniform(float lo, float hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 11) * 0x1.0p-53);
}

/* Distance in ulp between two finite floats of the same sign region. */
static double ulps(float a, float b)
{
    if (a == b) return 0;
    const double d = fabs((double)a - (double)b);
    const float m = fabsf(a) > fabsf(b) ? fabsf(a) : fabsf(b);
    return d / (double)(nextafterf(m, INFINITY) - m);
}

/* One vector implementation of both functions. */
typedef struct impl {
    const char *name;
    void (*softmax)(float *x, int64_t n, float scale);
    void (*swiglu)(float *g, const float *u, int64_t n);
} impl;

/* SwiGLU on odd lengths against the scalar version, and at exp's ends. */
static void test_swiglu(const impl *im)
{
    static const int64_t lens[] = {1, 15, 16, 17, 100, 4864};
    double worst = 0;
    int bad_special = 0;
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        const int64_t n = lens[l];
        float *g = malloc((size_t)n * 4), *g2 = malloc((size_t)n * 4), *u = malloc((size_t)n * 4);
        for (int64_t i = 0; i < n; i++) {
            g[i] = g2[i] = uniform(-20.0f, 20.0f);
            u[i] = uniform(-3.0f, 3.0f);
        }
        vm_swiglu_scalar(g, u, n);
        im->swiglu(g2, u, n);
        for (int64_t i = 0; i < n; i++) {
            const double e = ulps(g[i], g2[i]);
            if (e > worst) worst = e;
        }
        free(g);
        free(g2);
        free(u);
    }
    CHECK(worst <= 4, "%s swiglu: %g ulp from the scalar version", im->name, worst);
    /* the ends: silu(-200) = -0 or tiny, silu(200) = 200, NaN stays NaN */
    float g[5] = {-200.0f, 200.0f, NAN, -88.0f, 0.0f}, u[5] = {1, 1, 1, 1, 1};
    im->swiglu(g, u, 5);
    bad_special += !(g[0] == 0.0f && g[1] == 200.0f && isnan(g[2]) && fabsf(g[3]) < 1e-30f &&
                     g[4] == 0.0f);
    CHECK(bad_special == 0, "%s swiglu ends: %g %g %g %g %g", im->name, g[0], g[1], g[2], g[3],
          g[4]);
    printf("%s swiglu: worst %.2f ulp\n", im->name, worst);
}

/* exp over its range through softmax of two elements {x, 0} scaled by 1:
 * p0 = exp(x) / (exp(x) + 1) when x <= 0 (max 0). */
static void test_softmax(const impl *im)
{
    static const int64_t lens[] = {1, 2, 15, 16, 17, 333, 8192};
    double worst = 0;
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        const int64_t n = lens[l];
        float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
        for (int64_t i = 0; i < n; i++) a[i] = b[i] = uniform(-30.0f, 30.0f);
        vm_softmax_scalar(a, n, 0.125f);
        im->softmax(b, n, 0.125f);
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            sum += b[i];
            if (a[i] > 1e-30f) {
                const double e = ulps(a[i], b[i]);
                if (e > worst) worst = e;
            } else {
                CHECK(fabsf(b[i]) <= 1e-30f, "softmax n=%lld: tiny %g vs %g", (long long)n, a[i], b[i]);
            }
        }
        CHECK(fabs(sum - 1.0) < 1e-5, "softmax n=%lld sums to %.8f", (long long)n, sum);
        free(a);
        free(b);
    }
    CHECK(worst <= 4, "%s softmax: %g ulp from the scalar version", im->name, worst);
    /* exp of the whole useful range: x from -104 to 0 in softmax {x, 0} */
    double worst_exp = 0;
    for (float x = -87.0f; x <= 0.0f; x += 0.0137f) {
        float v[2] = {x, 0.0f};
        im->softmax(v, 2, 1.0f);
        const float want = (float)(exp((double)x) / (exp((double)x) + 1.0));
        const double e = ulps(v[0], want);
        if (e > worst_exp) worst_exp = e;
    }
    CHECK(worst_exp <= 4, "%s exp through softmax: %g ulp from double", im->name, worst_exp);
    printf("%s softmax: worst %.2f ulp (scalar), %.2f ulp (exp vs double)\n", im->name, worst,
           worst_exp);
}

int main(void)
{
    static const struct {
        cpu_level level;
        impl im;
    } levels[] = {
        {CPU_LEVEL_AVX2, {"avx2", vm_softmax_avx2, vm_swiglu_avx2}},
        {CPU_LEVEL_AVX512, {"avx512", vm_softmax_avx512, vm_swiglu_avx512}},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (!cpu_level_supported(levels[i].level)) {
            printf("%s: not on this CPU\n", levels[i].im.name);
            continue;
        }
        test_swiglu(&levels[i].im);
        test_softmax(&levels[i].im);
        ran++;
    }
    if (!ran) {
        printf("SKIP: no vector level here, the scalar versions are the only ones\n");
        return 77;
    }
    return test_finish();
}
