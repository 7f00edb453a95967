/* test_quant.c - block formats, conversions and kernels on synthetic data.
 *
 * Asserts: block sizes and row sizes; F16/BF16 conversions (exhaustive
 * F16 round trip, every F16 rounding midpoint, subnormals, inf, NaN, ties);
 * quantize -> dequantize error bounds per type; each scalar vec_dot equals
 * the double-precision dot of the dequantized operands; and every SIMD
 * kernel at every level this CPU supports against its scalar reference
 * (quantizers byte-identical, dots within the float tolerance below),
 * called directly per level, independent of GLIMP_KERNELS; every tile
 * kernel bit-identical to its level's vec_dot for every tile shape, at
 * every position in a matrix; the Q8_0 multiply-add against its reference;
 * the float dots of the KV cache types (F32, F16) and the Q8_0 multiply-add
 * give the same bits when zeros are appended to the activation side (over
 * any weights): attention computes a block of query tokens over the span of
 * its last one and relies on it.
 */
/* test-links: quant base */
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "test_util.h"

#include <float.h>
#include <stdint.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rng_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Roughly normal(0, 1): sum of 4 uniforms, centred and scaled. */
static float rng_normal(void)
{
    float s = 0;
    for (int k = 0; k < 4; k++) s += (float)rng_u32() / 4294967296.0f;
    return (s - 2.0f) * 1.7320508f;
}

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static const uint32_t all_types[] = {QT_F32, QT_F16, QT_BF16, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1,
                                     QT_Q8_0, QT_Q2_K, QT_Q3_K, QT_Q4_K, QT_Q5_K, QT_Q6_K};
#define N_TYPES (sizeof all_types / sizeof all_types[0])

static void test_sizes(void)
{
    static const struct { uint32_t t, blck, bytes; } want[] = {
        {QT_F32, 1, 4}, {QT_F16, 1, 2}, {QT_BF16, 1, 2}, {QT_Q4_0, 32, 18}, {QT_Q4_1, 32, 20},
        {QT_Q5_0, 32, 22}, {QT_Q5_1, 32, 24}, {QT_Q8_0, 32, 34}, {QT_Q8_1, 32, 36},
        {QT_Q2_K, 256, 84}, {QT_Q3_K, 256, 110}, {QT_Q4_K, 256, 144}, {QT_Q5_K, 256, 176},
        {QT_Q6_K, 256, 210}, {QT_Q8_K, 256, 292},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const qt_traits *t = qt_get(want[k].t);
        REQUIRE(t != NULL, "type %u", want[k].t);
        CHECK(t->blck_size == want[k].blck && t->type_size == want[k].bytes, "%s sizes", t->name);
        CHECK(t->to_float && t->from_float && t->quantize, "%s functions", t->name);
        uint64_t bytes = 0;
        CHECK(qt_row_size(want[k].t, 4096, &bytes) && bytes == 4096 / want[k].blck * want[k].bytes,
              "%s row size", t->name);
    }
    uint64_t b;
    CHECK(!qt_row_size(QT_Q4_K, 100, &b), "row not a multiple of the block");
    CHECK(qt_get(16) == NULL && !strcmp(qt_name(16), "IQ2_XXS"), "unsupported id");
    CHECK(qt_get(1000) == NULL && qt_name(1000) == NULL, "invalid id");
}

static void test_f16(void)
{
    /* Exhaustive: every half widens and narrows back to itself (NaN to a NaN). */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = qt_f16_to_f32((uint16_t)h);
        uint16_t back = qt_f32_to_f16(f);
        int is_nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
        if (is_nan ? !(isnan(f) && (back & 0x7C00) == 0x7C00 && (back & 0x3FF) && (back & 0x8000) == (h & 0x8000))
                   : back != h)
            bad++;
    }
    CHECK(bad == 0, "%d halves do not round-trip", bad);
    /* Every midpoint between adjacent finite positive halves rounds to the
     * even one; one float ulp either side rounds to the nearer one. */
    bad = 0;
    for (uint32_t h = 0; h < 0x7BFF; h++) {
        float a = qt_f16_to_f32((uint16_t)h), b = qt_f16_to_f32((uint16_t)(h + 1));
        float mid = a + (b - a) * 0.5f; /* exact: halves have 11-bit significands */
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        if (qt_f32_to_f16(mid) != even) bad++;
        if (qt_f32_to_f16(bitsf(fbits(mid) - 1)) != h) bad++;
        if (qt_f32_to_f16(bitsf(fbits(mid) + 1)) != h + 1) bad++;
        if (qt_f32_to_f16(-mid) != (even | 0x8000)) bad++;
    }
    CHECK(bad == 0, "%d rounding errors at half midpoints", bad);
    CHECK(qt_f32_to_f16(65504.0f) == 0x7BFF, "max half");
    CHECK(qt_f32_to_f16(65519.996f) == 0x7BFF, "just below overflow midpoint");
    CHECK(qt_f32_to_f16(65520.0f) == 0x7C00, "overflow midpoint rounds to inf");
    CHECK(qt_f32_to_f16(1e10f) == 0x7C00 && qt_f32_to_f16(-1e10f) == 0xFC00, "overflow");
    CHECK(qt_f32_to_f16(INFINITY) == 0x7C00 && qt_f32_to_f16(-INFINITY) == 0xFC00, "inf");
    CHECK(qt_f16_to_f32(0x0001) == 0x1p-24f && qt_f16_to_f32(0x03FF) == 1023 * 0x1p-24f, "subnormals");
    CHECK(qt_f32_to_f16(0x1p-25f) == 0, "2^-25 ties to zero");
    CHECK(qt_f32_to_f16(bitsf(fbits(0x1p-25f) + 1)) == 1, "above 2^-25 rounds up");
    CHECK(qt_f32_to_f16(1e-30f) == 0 && qt_f32_to_f16(-1e-30f) == 0x8000, "underflow keeps sign");
    CHECK(qt_f32_to_f16(FLT_TRUE_MIN) == 0, "float subnormal");
    CHECK(qt_f32_to_f16(-0.0f) == 0x8000 && qt_f16_to_f32(0x8000) == 0.0f &&
          signbit(qt_f16_to_f32(0x8000)), "negative zero");
    CHECK(isnan(qt_f16_to_f32(qt_f32_to_f16(NAN))), "NaN");
    CHECK(isinf(qt_f16_to_f32(0x7C00)) && qt_f16_to_f32(0xFC00) < 0, "inf widening");
    CHECK(qt_f32_to_f16(1.0f + 0x1p-11f) == 0x3C00, "tie to even (down)");
    CHECK(qt_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3C02, "tie to even (up)");
}

static void test_bf16(void)
{
    CHECK(qt_f32_to_bf16(1.0f) == 0x3F80 && qt_bf16_to_f32(0x3F80) == 1.0f, "one");
    CHECK(qt_f32_to_bf16(bitsf(0x3F808000)) == 0x3F80, "tie to even (down)");
    CHECK(qt_f32_to_bf16(bitsf(0x3F818000)) == 0x3F82, "tie to even (up)");
    CHECK(qt_f32_to_bf16(bitsf(0x3F808001)) == 0x3F81, "above tie");
    CHECK(qt_f32_to_bf16(bitsf(0x3F807FFF)) == 0x3F80, "below tie");
    CHECK(qt_f32_to_bf16(bitsf(0xBF808001)) == 0xBF81, "negative");
    CHECK(qt_f32_to_bf16(bitsf(0x7F7FFFFF)) == 0x7F80, "max float rounds to inf");
    CHECK(qt_f32_to_bf16(INFINITY) == 0x7F80 && qt_f32_to_bf16(-INFINITY) == 0xFF80, "inf");
    uint16_t n = qt_f32_to_bf16(bitsf(0x7F800001)); /* signalling NaN, payload in low bits */
    CHECK((n & 0x7F80) == 0x7F80 && (n & 0x7F), "NaN stays NaN: %04x", n);
    CHECK(qt_f32_to_bf16(bitsf(0x00010000)) == 0x0001, "subnormal");
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = qt_bf16_to_f32((uint16_t)h);
        if (!isnan(f) && qt_f32_to_bf16(f) != h) bad++;
    }
    CHECK(bad == 0, "%d bf16 do not round-trip", bad);
}

/* Quantize -> dequantize on normal data: RMS error / RMS of data below
 * bounds a bit above each format's theoretical error (a layout or scale
 * bug lands far above). */
static void test_round_trip(void)
{
    static const struct { uint32_t t; double max_rel; } bound[] = {
        {QT_F32, 0}, {QT_F16, 5e-4}, {QT_BF16, 4e-3}, {QT_Q8_0, 0.01}, {QT_Q8_1, 0.01},
        {QT_Q8_K, 0.015}, {QT_Q6_K, 0.03}, {QT_Q5_0, 0.07}, {QT_Q5_1, 0.06}, {QT_Q5_K, 0.06},
        {QT_Q4_0, 0.13}, {QT_Q4_1, 0.12}, {QT_Q4_K, 0.11}, {QT_Q3_K, 0.24}, {QT_Q2_K, 0.45},
    };
    enum { N = 4096 };
    static float x[N], y[N];
    static uint8_t q[N * 4];
    for (int i = 0; i < N; i++) x[i] = rng_normal() * 0.02f;
    x[5] = 0.3f; /* an outlier */
    for (size_t k = 0; k < sizeof bound / sizeof bound[0]; k++) {
        const qt_traits *t = qt_get(bound[k].t);
        t->from_float(x, q, N);
        t->to_float(q, y, N);
        double e2 = 0, x2 = 0;
        for (int i = 0; i < N; i++) {
            e2 += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            x2 += (double)x[i] * x[i];
        }
        double rel = sqrt(e2 / x2);
        CHECK(rel <= bound[k].max_rel, "%s round trip rel rms %.4g > %.4g", t->name, rel, bound[k].max_rel);
    }
    /* All-zero input gives exact zeros, never NaN. */
    memset(x, 0, sizeof x);
    for (size_t k = 0; k < N_TYPES; k++) {
        const qt_traits *t = qt_get(all_types[k]);
        t->from_float(x, q, 256);
        t->to_float(q, y, 256);
        int nz = 0;
        for (int i = 0; i < 256; i++) nz += y[i] != 0.0f;
        CHECK(nz == 0, "%s zeros", t->name);
    }
}

/* Quantized operands for a dot: weights of `type`, activations of its
 * vec_dot_type made from random data (one big element per row to exercise
 * the scales). */
typedef struct {
    uint8_t *x, *y;
    double exact;  /* double dot of the dequantized operands */
    double absdot; /* sum |x_i * y_i| of the same */
    double q8_1;   /* bound of the fp16 rounding of Q8_1's s = d * sum(q) */
} dot_case;

static dot_case make_case(const qt_traits *t, int64_t n)
{
    const qt_traits *ty = qt_get(t->vec_dot_type);
    float *fx = malloc((size_t)n * sizeof *fx), *fy = malloc((size_t)n * sizeof *fy);
    dot_case c = {malloc((size_t)(n / t->blck_size * t->type_size)),
                  malloc((size_t)(n / ty->blck_size * ty->type_size)), 0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        fx[i] = rng_normal();
        fy[i] = rng_normal() * 3.0f;
    }
    fx[rng_u32() % n] = 9.0f;
    t->from_float(fx, c.x, n);
    ty->from_float(fy, c.y, n);
    if (t->vec_dot_type == QT_Q8_1) {
        /* Q4_1/Q5_1 dots use m * s: s carries a rounding of 2^-11 relative. */
        for (int64_t b = 0; b < n / 32; b++) {
            const block_q8_1 *yb = (const block_q8_1 *)c.y + b;
            uint16_t m;
            memcpy(&m, c.x + b * t->type_size + 2, 2); /* d, m lead both layouts */
            c.q8_1 += fabs(qt_f16_to_f32(m) * qt_f16_to_f32(yb->s)) * 0x1p-11;
        }
    }
    t->to_float(c.x, fx, n);
    ty->to_float(c.y, fy, n);
    for (int64_t i = 0; i < n; i++) {
        c.exact += (double)fx[i] * fy[i];
        c.absdot += fabs((double)fx[i] * fy[i]);
    }
    free(fx);
    free(fy);
    return c;
}

/* Float tolerance of a dot of n elements: each kernel (reference or SIMD)
 * rounds once per element or block and sums in float, so both lie within
 * n * eps * sum|x_i y_i| of the exact value (a standard bound); a factor 2
 * covers the K-quant split into scale and minimum terms. */
static double dot_tol(int64_t n, double absdot) { return 2.0 * (double)n * FLT_EPSILON * absdot + 1e-30; }

static void test_ref_dots(void)
{
    static const int64_t lens[] = {256, 512, 1024, 2816};
    for (size_t k = 0; k < N_TYPES; k++) {
        const qt_traits *t = qt_get(all_types[k]);
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            dot_case c = make_case(t, lens[l]);
            float s = 0;
            t->vec_dot_ref(lens[l], &s, c.x, c.y);
            double tol = dot_tol(lens[l], c.absdot) + c.q8_1;
            CHECK(fabs(s - c.exact) <= tol, "%s ref dot n=%lld: %.9g vs %.9g (tol %.3g)", t->name,
                  (long long)lens[l], s, c.exact, tol);
            free(c.x);
            free(c.y);
        }
    }
}


static void test_simd(void)
{
    static const int64_t block_counts[] = {1, 2, 3, 7, 16, 33};
    static const int64_t float_lens[] = {1, 7, 15, 16, 33, 100, 1000, 4096};
    int levels_run = 0, kernels_run = 0;
    for (int lv = CPU_LEVEL_AVX2; lv <= CPU_LEVEL_TOP; lv++) {
        if (!cpu_level_supported((cpu_level)lv)) {
            printf("level %s not supported here: skipped\n", cpu_level_name((cpu_level)lv));
            continue;
        }
        levels_run++;
        for (size_t k = 0; k < N_TYPES; k++) {
            const qt_traits *t = qt_get(all_types[k]);
            qt_vec_dot_fn fn = qt_vec_dot_at(all_types[k], (cpu_level)lv);
            if (!fn) continue;
            kernels_run++;
            int is_float = t->blck_size == 1;
            size_t nl = is_float ? sizeof float_lens / sizeof float_lens[0]
                                 : sizeof block_counts / sizeof block_counts[0];
            for (size_t l = 0; l < nl; l++) {
                int64_t n = is_float ? float_lens[l] : block_counts[l] * t->blck_size;
                dot_case c = make_case(t, n);
                float ref = 0, got = 0;
                t->vec_dot_ref(n, &ref, c.x, c.y);
                fn(n, &got, c.x, c.y);
                double tol = 2 * dot_tol(n, c.absdot);
                CHECK(fabs((double)got - ref) <= tol, "%s %s n=%lld: %.9g vs ref %.9g (tol %.3g)",
                      t->name, cpu_level_name((cpu_level)lv), (long long)n, got, ref, tol);
                free(c.x);
                free(c.y);
            }
        }
        /* Quantizers: byte-identical to the scalar reference (Q8_0 and Q8_K
         * at every SIMD level, BF16 and F16 where they have one; these also
         * on an odd length, with NaN, infinities, subnormals, overflow and
         * rounding ties). */
        static const uint32_t qtypes[] = {QT_Q8_0, QT_Q8_K, QT_BF16, QT_F16};
        for (size_t k = 0; k < 4; k++) {
            const qt_traits *t = qt_get(qtypes[k]);
            qt_from_float_fn fn = qt_quantize_at(qtypes[k], (cpu_level)lv);
            /* Q8_0 and Q8_K have one at AVX2 and AVX-512, BF16 and F16 at AVX-512 */
            const bool expected = lv == CPU_LEVEL_AVX512 || (lv == CPU_LEVEL_AVX2 && t->blck_size > 1);
            CHECK((fn != NULL) == expected, "%s quantizer at %s", t->name, cpu_level_name((cpu_level)lv));
            if (!fn) continue;
            enum { N = 256 * 9 };
            static float x[N];
            static uint8_t a[N * 2], b[N * 2];
            for (int i = 0; i < N; i++) x[i] = rng_normal() * (float)(1 + i % 5);
            memset(x + 256, 0, 256 * sizeof *x);          /* an all-zero block */
            x[600] = 50.0f;                               /* outliers of both signs */
            x[601] = -50.0f;
            for (int i = 1024; i < 1280; i++) x[i] = (float)(i % 7) - 3.0f; /* exact ties */
            const int64_t n = t->blck_size == 1 ? N - 5 : N;
            if (t->blck_size == 1) {
                static const uint32_t special[] = {
                    0x7FC00001u, 0xFF800001u, 0x7FBFFFFFu, 0x7F800000u, 0xFF800000u,
                    0x00000001u, 0x807FFFFFu, 0x3F808000u, 0x3F818000u, 0x7F7FFFFFu,
                    0x477FF000u, 0x477FEFFFu, 0x33000000u, 0x33000001u, 0xB3800000u,
                    0x387FC000u, 0x38800000u, 0x3F801000u, 0x3F803000u};
                const int ns = (int)(sizeof special / sizeof special[0]);
                for (int i = 0; i < ns; i++) x[2000 + i] = bitsf(special[i]);
                for (int i = 0; i < 64; i++) x[2100 + i] = rng_normal() * 0x1p-18f; /* F16 subnormals */
            }
            memset(a, 0xAA, sizeof a);
            memset(b, 0xAA, sizeof b);
            t->from_float(x, a, n);
            fn(x, b, n);
            CHECK(!memcmp(a, b, sizeof a), "%s quantizer at %s differs from reference", t->name,
                  cpu_level_name((cpu_level)lv));
        }
    }
    printf("SIMD: %d levels, %d vec_dot kernels checked against the scalar references\n", levels_run,
           kernels_run);
}

/* Tile kernels: every output of every tile shape (1..QT_TILE rows x
 * 1..QT_TILE activation rows), placed anywhere in a 9 x 7 product, has the
 * bits of the vec_dot of the same level. */
static void test_tiles(void)
{
    enum { ROWS = 9, TOKS = 7 };
    static const int64_t block_counts[] = {1, 2, 3, 5, 28};
    /* steps of 8 and tails; past 512: the F16/BF16 AVX2 chains' block rounds, whole and partial */
    static const int64_t float_lens[] = {1, 5, 16, 33, 47, 64, 100, 520, 1000, 2059};
    int tiles_run = 0;
    for (int lv = CPU_LEVEL_AVX2; lv <= CPU_LEVEL_TOP; lv++) {
        if (!cpu_level_supported((cpu_level)lv)) continue;
        for (size_t k = 0; k < N_TYPES; k++) {
            qt_tile_fn tile = qt_tile_at(all_types[k], (cpu_level)lv);
            if (!tile) continue;
            qt_vec_dot_fn dot = qt_vec_dot_at(all_types[k], (cpu_level)lv);
            REQUIRE(dot != NULL, "tile without vec_dot");
            tiles_run++;
            const qt_traits *t = qt_get(all_types[k]), *ty = qt_get(t->vec_dot_type);
            const bool is_float = t->blck_size == 1;
            const size_t nl = is_float ? sizeof float_lens / sizeof float_lens[0]
                                       : sizeof block_counts / sizeof block_counts[0];
            for (size_t l = 0; l < nl; l++) {
                const int64_t n = is_float ? float_lens[l] : block_counts[l] * t->blck_size;
                const size_t bx = (size_t)(n / t->blck_size * t->type_size);
                const size_t by = (size_t)(n / ty->blck_size * ty->type_size);
                uint8_t *x = malloc(bx * ROWS), *y = malloc(by * TOKS);
                float *f = malloc((size_t)n * sizeof *f);
                for (int r = 0; r < ROWS + TOKS; r++) {
                    for (int64_t i = 0; i < n; i++) f[i] = rng_normal() * (r < ROWS ? 1.0f : 3.0f);
                    f[rng_u32() % n] = 9.0f;
                    if (r < ROWS) t->from_float(f, x + r * bx, n);
                    else ty->from_float(f, y + (r - ROWS) * by, n);
                }
                float want[TOKS][ROWS], got[TOKS][ROWS];
                for (int tk = 0; tk < TOKS; tk++)
                    for (int r = 0; r < ROWS; r++) dot(n, &want[tk][r], x + r * bx, y + tk * by);
                int bad = 0;
                for (int nr = 1; nr <= QT_TILE; nr++)
                    for (int nt = 1; nt <= QT_TILE; nt++)
                        for (int r0 = 0; r0 + nr <= ROWS; r0 += 2)
                            for (int t0 = 0; t0 + nt <= TOKS; t0 += 3) {
                                memset(got, 0xFF, sizeof got);
                                tile(n, &got[t0][r0], ROWS, x + r0 * bx, bx, y + t0 * by, by, nr, nt);
                                for (int tk = 0; tk < TOKS; tk++)
                                    for (int r = 0; r < ROWS; r++) {
                                        bool inside = tk >= t0 && tk < t0 + nt && r >= r0 && r < r0 + nr;
                                        uint32_t g = fbits(got[tk][r]);
                                        bad += inside ? g != fbits(want[tk][r]) : g != 0xFFFFFFFFu;
                                    }
                            }
                CHECK(bad == 0, "%s tile at %s n=%lld: %d outputs differ from vec_dot or lie outside",
                      t->name, cpu_level_name((cpu_level)lv), (long long)n, bad);
                free(x);
                free(y);
                free(f);
            }
        }
    }
    printf("tiles: %d tile kernels checked against their vec_dot\n", tiles_run);
}

/* Multiply-add (Q8_0 V rows of the KV cache): each SIMD level against the
 * scalar reference, 1..7 rows of y, 1..5 blocks, 1..9 rows of x. */
static void test_mad(void)
{
    int run = 0;
    for (int lv = CPU_LEVEL_AVX2; lv <= CPU_LEVEL_TOP; lv++) {
        qt_mad_fn mad = qt_mad_at(QT_Q8_0, (cpu_level)lv);
        if (!mad || !cpu_level_supported((cpu_level)lv)) continue;
        run++;
        for (int nb = 1; nb <= 5; nb++)
            for (int ny = 1; ny <= 7; ny++)
                for (int nx = 1; nx <= 9; nx += 4) {
                    enum { MAXN = 5 * 32, STRIDE = MAXN + 3, ASTRIDE = 11 };
                    float f[MAXN], a[7 * ASTRIDE], want[7 * STRIDE], got[7 * STRIDE];
                    block_q8_0 x[9][5];
                    const int64_t n = nb * 32;
                    for (int r = 0; r < nx; r++) {
                        for (int64_t i = 0; i < n; i++) f[i] = rng_normal();
                        qt_get(QT_Q8_0)->from_float(f, x[r], n);
                    }
                    for (int h = 0; h < 7 * ASTRIDE; h++) a[h] = rng_normal();
                    for (int i = 0; i < 7 * STRIDE; i++) want[i] = got[i] = rng_normal();
                    qt_get(QT_Q8_0)->mad_ref(n, want, STRIDE, ny, a, ASTRIDE, x, sizeof x[0], nx);
                    mad(n, got, STRIDE, ny, a, ASTRIDE, x, sizeof x[0], nx);
                    int bad = 0;
                    for (int i = 0; i < 7 * STRIDE; i++) {
                        const bool inside = i / STRIDE < ny && i % STRIDE < n;
                        bad += inside ? fabsf(got[i] - want[i]) > 1e-5f * (nx + fabsf(want[i]))
                                      : fbits(got[i]) != fbits(want[i]);
                    }
                    CHECK(bad == 0, "Q8_0 mad at %s n=%lld ny=%d nx=%d: %d values off",
                          cpu_level_name((cpu_level)lv), (long long)n, ny, nx, bad);
                }
    }
    printf("mad: %d SIMD levels checked\n", run);
}

/* dot(n) of x and y equals dot(n + pad) with y's extra elements zero and
 * x's anything finite, bit for bit, for F32 and F16 rows against F32 at
 * every level (the scalar reference too); and the Q8_0 multiply-add over
 * nx rows equals it over nx + pad rows whose weights a are zero. */
static void test_zero_padding(void)
{
    enum { MAXN = 2100, PAD = 37 };
    static const int64_t lens[] = {1, 5, 8, 16, 33, 47, 64, 100, 127, 520, 1000, 2059};
    static const uint32_t types[] = {QT_F32, QT_F16};
    float *f = malloc((MAXN + PAD) * sizeof *f), *y = malloc((MAXN + PAD) * sizeof *y);
    uint8_t *x = malloc((MAXN + PAD) * sizeof(float));
    REQUIRE(f && y && x, "oom");
    int run = 0;
    for (int lv = CPU_LEVEL_SCALAR; lv <= CPU_LEVEL_TOP; lv++) {
        if (!cpu_level_supported((cpu_level)lv)) continue;
        for (size_t k = 0; k < 2; k++) {
            const qt_traits *t = qt_get(types[k]);
            qt_vec_dot_fn dot = lv == CPU_LEVEL_SCALAR ? t->vec_dot_ref
                                                       : qt_vec_dot_at(types[k], (cpu_level)lv);
            if (!dot) continue;
            run++;
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
                const int64_t n = lens[l];
                for (int64_t i = 0; i < n + PAD; i++) {
                    f[i] = rng_normal();
                    y[i] = i < n ? rng_normal() : 0.0f;
                }
                t->from_float(f, x, n + PAD);
                int bad = 0;
                float want, got;
                dot(n, &want, x, y);
                for (int64_t pad = 1; pad <= PAD; pad++) {
                    dot(n + pad, &got, x, y);
                    bad += fbits(got) != fbits(want);
                }
                CHECK(bad == 0, "%s dot at %s n=%lld: %d of %d zero paddings change the bits",
                      t->name, cpu_level_name((cpu_level)lv), (long long)n, bad, PAD);
            }
        }
        qt_mad_fn mad = lv == CPU_LEVEL_SCALAR ? qt_get(QT_Q8_0)->mad_ref
                                               : qt_mad_at(QT_Q8_0, (cpu_level)lv);
        if (!mad) continue;
        run++;
        enum { N = 64, NX = 9, NY = 5 };
        block_q8_0 v[NX + PAD][N / 32];
        float a[NY * (NX + PAD)], want[NY * N], got[NY * N];
        for (int r = 0; r < NX + PAD; r++) {
            for (int i = 0; i < N; i++) f[i] = rng_normal();
            qt_get(QT_Q8_0)->from_float(f, v[r], N);
        }
        for (int h = 0; h < NY; h++)
            for (int r = 0; r < NX + PAD; r++) a[h * (NX + PAD) + r] = r < NX ? rng_normal() : 0.0f;
        memset(want, 0, sizeof want);
        memset(got, 0, sizeof got);
        mad(N, want, N, NY, a, NX + PAD, v, sizeof v[0], NX);
        mad(N, got, N, NY, a, NX + PAD, v, sizeof v[0], NX + PAD);
        CHECK(!memcmp(want, got, sizeof want), "Q8_0 mad at %s: zero weights change the bits",
              cpu_level_name((cpu_level)lv));
    }
    printf("zero padding: %d kernels checked\n", run);
    free(f);
    free(y);
    free(x);
}

/* The dispatched pointers are the best kernel at or below the level in effect. */
static void test_dispatch(void)
{
    cpu_level top = cpu_kernel_level();
    for (size_t k = 0; k < N_TYPES; k++) {
        const qt_traits *t = qt_get(all_types[k]);
        qt_vec_dot_fn want = t->vec_dot_ref;
        for (int lv = (int)top; lv > CPU_LEVEL_SCALAR; lv--) {
            qt_vec_dot_fn f = qt_vec_dot_at(all_types[k], (cpu_level)lv);
            if (f) {
                want = f;
                break;
            }
        }
        CHECK(t->vec_dot == want, "%s dispatch at %s", t->name, cpu_level_name(top));
        /* a tile only with the vec_dot of its own level */
        qt_tile_fn tile = NULL;
        for (int lv = (int)top; lv > CPU_LEVEL_SCALAR; lv--)
            if (qt_vec_dot_at(all_types[k], (cpu_level)lv) == want) {
                tile = qt_tile_at(all_types[k], (cpu_level)lv);
                break;
            }
        CHECK(t->tile == tile, "%s tile dispatch at %s", t->name, cpu_level_name(top));
    }
    printf("kernel level in effect: %s\n", cpu_level_name(top));
}

int main(void)
{
    test_sizes();
    test_f16();
    test_bf16();
    test_round_trip();
    test_ref_dots();
    test_simd();
    test_tiles();
    test_mad();
    test_zero_padding();
    test_dispatch();
    return test_finish();
}
