/* vecmath_avx2.c - AVX2 + FMA softmax and SwiGLU (compiled with those flags;
 * called only at CPU_LEVEL_AVX2, see vecmath.h).
 *
 * The same exp as vecmath_avx512.c, 8 lanes at a time: exp(x) = 2^k * e^r
 * with k = round(x / ln 2), r = x - k ln 2 (ln 2 in two parts), e^r by the
 * degree-6 polynomial of Cephes' expf. AVX2 has no vscalefps: 2^k is
 * applied as two exact powers of two, 2^(k >> 1) and 2^(k - (k >> 1)),
 * each a normal float for |k| <= 151, so the product rounds once, as a
 * scaling would (0, subnormals and infinity at the ends). NaN stays NaN.
 * Tails go through masked loads and stores, so any n works and a tail
 * lane sees the same steps as any other.
 */
#include "model/vecmath.h"

#include <immintrin.h>
#include <math.h>

/* Lane mask of the first min(left, 8) lanes. */
static inline __m256i tail8(int64_t left)
{
    const int k = left >= 8 ? 8 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 pow2i(__m256i k) /* 2^k for -126 <= k <= 127 */
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}

static inline __m256 exp8(__m256 x)
{
    /* beyond +-104 the result is 0 or inf anyway; the clamp keeps k small
     * (x second: min/max return their second operand for NaN) */
    x = _mm256_min_ps(_mm256_set1_ps(104.0f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 e = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    const __m256i ki = _mm256_cvtps_epi32(k);
    const __m256i k1 = _mm256_srai_epi32(ki, 1);
    /* NaN in: e is NaN, whatever the powers (k's integer is then garbage) */
    return _mm256_mul_ps(_mm256_mul_ps(e, pow2i(k1)), pow2i(_mm256_sub_epi32(ki, k1)));
}

void vm_softmax_avx2(float *x, int64_t n, float scale)
{
    const __m256 s = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
    __m256 mx = ninf;
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 v = _mm256_mul_ps(_mm256_maskload_ps(x + i, m), s);
        _mm256_maskstore_ps(x + i, m, v);
        mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(m)));
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const __m256 vmax = _mm256_set1_ps(_mm_cvtss_f32(m4));
    __m256d sum0 = _mm256_setzero_pd(), sum1 = sum0;
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vmax)),
                                       _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(x + i, m, e);
        sum0 = _mm256_add_pd(sum0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        sum1 = _mm256_add_pd(sum1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    const __m256d sum = _mm256_add_pd(sum0, sum1);
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(sum), _mm256_extractf128_pd(sum, 1));
    s2 = _mm_add_sd(s2, _mm_unpackhi_pd(s2, s2));
    const __m256 inv = _mm256_set1_ps((float)(1.0 / _mm_cvtsd_f64(s2)));
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inv));
    }
}

void vm_swiglu_avx2(float *g, const float *u, int64_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = tail8(n - i);
        const __m256 x = _mm256_maskload_ps(g + i, m);
        const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
        const __m256 y = _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_maskload_ps(u + i, m));
        _mm256_maskstore_ps(g + i, m, y);
    }
}
