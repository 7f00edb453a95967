/* test_quant_r16.c - the 16-row Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, F16, BF16,
 * Q4_K and Q6_K layouts (quant_r16.h) on synthetic data.
 *
 * Asserts: a packed group's rows dequantize to exactly the Q8_0 rows'
 * floats (quants -128 and 127 included); prep records hold -128 * the
 * block's quant sum and its scale; the scalar reference kernel equals the
 * double-precision dot of the dequantized operands within float
 * tolerance; the AVX-512 kernel (where the CPU has it) equals the
 * reference bit for bit for every token count 1..8, odd block counts and
 * strided outputs; and a token's result does not depend on how many
 * tokens shared its call (the property batched decoding relies on); the
 * same for Q4_0 and Q5_0 from random block bits (every quant value). The
 * same for F16 (packed halves equal the rows', extremes included), and for
 * BF16 within float tolerance (vdpbf16ps rounds inside in its own way).
 * Q4_K and Q6_K: random block bits (every scale, minimum and quant value)
 * read back exactly as the row-major dequantization; the reference within
 * tolerance of double dots against Q8_K activations, the kernel bit for
 * bit against it, for any token count.
 */
/* test-links: quant base */
#include "base/cpu.h"
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_r16.h"
#include "test_util.h"

#include <float.h>
#include <stdint.h>

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint32_t rng_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static float rng_float(void) { return (float)rng_u32() / 2147483648.0f - 1.0f; }

enum { MAX_N = 4864, PAD = 40 };

/* QT_R16_ROWS random Q8_0 rows of n columns (row_bytes apart), extremes included. */
static void random_rows(uint8_t *rows, size_t row_bytes, int64_t n)
{
    for (int r = 0; r < QT_R16_ROWS; r++)
        for (int64_t b = 0; b < n / QK8_0; b++) {
            block_q8_0 *x = (block_q8_0 *)(rows + (size_t)r * row_bytes) + b;
            x->d = qt_f32_to_f16(0.001f + 0.02f * (float)(rng_u32() % 1000) / 1000.0f);
            for (int k = 0; k < QK8_0; k++) x->qs[k] = (int8_t)(rng_u32() % 256 - 128);
            if (b == 0 && r == 1) x->qs[0] = -128, x->qs[1] = 127;
        }
}

/* nt activation rows act_stride bytes apart: quantized, then prepared. */
static void random_acts(uint8_t *act, size_t act_stride, int64_t n, int nt)
{
    static float x[MAX_N];
    for (int t = 0; t < nt; t++) {
        for (int64_t i = 0; i < n; i++) x[i] = rng_float() * (t + 1);
        qt_get(QT_Q8_0)->from_float(x, act + (size_t)t * act_stride, n);
        qt_r16_prepare(act + (size_t)t * act_stride, n);
    }
}

static void test_prepare(void)
{
    const int64_t n = 96;
    uint8_t act[512];
    random_acts(act, sizeof act, n, 1);
    const qt_r16_prep *p = (const qt_r16_prep *)(act + qt_r16_prep_offset(n));
    CHECK(qt_r16_prep_offset(n) >= (size_t)(n / QK8_0) * sizeof(block_q8_0) &&
          qt_r16_prep_offset(n) % 8 == 0, "prep offset %zu", qt_r16_prep_offset(n));
    CHECK(qt_r16_act_bytes(n) == qt_r16_prep_offset(n) + 3 * sizeof(qt_r16_prep), "act bytes");
    for (int b = 0; b < 3; b++) {
        const block_q8_0 *a = (const block_q8_0 *)act + b;
        int32_t sum = 0;
        for (int k = 0; k < QK8_0; k++) sum += a->qs[k];
        CHECK(p[b].corr == -128 * sum && p[b].d == qt_f16_to_f32(a->d), "block %d prep", b);
    }
}

/* The 32-column block types against Q8_0 activations with prep records. */
typedef struct block_type {
    uint32_t type;
    qt_r16_fn ref;
    void (*pack)(const void *rows, size_t row_bytes, int64_t n, void *group);
    void (*row)(const void *group, int64_t n, int r, float *y);
} block_type;

static const block_type q8_0 = {QT_Q8_0, qt_r16_dot_ref, qt_r16_pack, qt_r16_row};
static const block_type q4_0 = {QT_Q4_0, qt_r16_q4_0_dot_ref, qt_r16_q4_0_pack, qt_r16_q4_0_row};
static const block_type q5_0 = {QT_Q5_0, qt_r16_q5_0_dot_ref, qt_r16_q5_0_pack, qt_r16_q5_0_row};

/* QT_R16_ROWS rows of type bt: Q8_0 as random_rows, the others random bits
 * (every quant value) with a small positive scale. */
static void random_block_rows(const block_type *bt, uint8_t *rows, size_t row_bytes, int64_t n)
{
    if (bt->type == QT_Q8_0) {
        random_rows(rows, row_bytes, n);
        return;
    }
    for (size_t i = 0; i < QT_R16_ROWS * row_bytes; i++) rows[i] = (uint8_t)rng_u32();
    const size_t bb = qt_get(bt->type)->type_size;
    for (size_t o = 0; o < QT_R16_ROWS * row_bytes; o += bb) {
        const uint16_t d = qt_f32_to_f16(0.001f + 0.02f * (float)(rng_u32() % 1000) / 1000.0f);
        memcpy(rows + o, &d, 2);
    }
}

/* Runs `fn` on a group of type bt against nt tokens, and checks it: rows
 * read back as the row-major rows dequantize; against double dots
 * (tolerance) when `ref`, else bit for bit against the reference. */
static void check_kernel(const block_type *bt, qt_r16_fn fn, const char *name, bool ref)
{
    const qt_traits *tr = qt_get(bt->type);
    const int64_t ns[] = {32, 96, 160, 896, 4864};
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
        const int64_t n = ns[c];
        const size_t rb = (size_t)(n / QK8_0) * tr->type_size;
        const size_t as = qt_r16_act_bytes(n) + PAD; /* rows not packed tight */
        uint8_t *rows = malloc(QT_R16_ROWS * rb), *group = malloc(QT_R16_ROWS * rb);
        uint8_t *act = malloc(QT_R16_TOKENS * as);
        float *w = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        random_block_rows(bt, rows, rb, n);
        bt->pack(rows, rb, n, group);
        random_acts(act, as, n, QT_R16_TOKENS);
        int rows_bad = 0;
        for (int r = 0; r < QT_R16_ROWS; r++) {
            tr->to_float(rows + r * rb, w, n);
            bt->row(group, n, r, y);
            rows_bad += memcmp(w, y, n * sizeof(float)) != 0;
        }
        enum { SS = QT_R16_ROWS + 3 };
        float want[QT_R16_TOKENS * SS], got[QT_R16_TOKENS * SS], alone[SS];
        bt->ref(n, want, SS, group, act, as, QT_R16_TOKENS);
        int bad = 0, moved = 0;
        for (int nt = 1; nt <= QT_R16_TOKENS; nt++) {
            fn(n, got, SS, group, act, as, nt);
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < QT_R16_ROWS; r++) {
                    const float g = got[t * SS + r];
                    if (ref) {
                        tr->to_float(rows + r * rb, w, n);
                        qt_get(QT_Q8_0)->to_float(act + t * as, y, n);
                        double d = 0, mag = 0;
                        for (int64_t i = 0; i < n; i++) d += (double)w[i] * y[i], mag += fabs((double)w[i] * y[i]);
                        bad += fabs(g - d) > 2.0 * (double)n / QK8_0 * FLT_EPSILON * mag + 1e-30;
                    } else {
                        bad += memcmp(&g, &want[t * SS + r], sizeof g) != 0;
                    }
                }
            /* the last token alone gives what it gave among nt */
            fn(n, alone, SS, group, act + (size_t)(nt - 1) * as, as, 1);
            moved += memcmp(alone, &got[(nt - 1) * SS], QT_R16_ROWS * sizeof(float)) != 0;
        }
        CHECK(rows_bad == 0, "%s n %lld: %d rows differ from the row-major rows", tr->name,
              (long long)n, rows_bad);
        CHECK(bad == 0, "%s %s n %lld: %d results wrong", tr->name, name, (long long)n, bad);
        CHECK(moved == 0, "%s %s n %lld: %d token counts change a token's result", tr->name,
              name, (long long)n, moved);
        free(rows), free(group), free(act), free(w), free(y);
    }
}

/* ---- Q4_1 and Q5_1 (Q8_1 activations) ---- */

/* The Q4_1 (five: Q5_1) layout, kernel fn: rows read back exactly as the
 * row-major rows dequantize; the reference agrees with a double sum of
 * d dy S + m s over the blocks (the vec_dot's formula, s as stored), the
 * kernel with the reference bit for bit, for every token count, alone or
 * batched. */
static void check_affine_kernel(bool five, qt_r16_fn fn, const char *name, bool ref)
{
    const uint32_t type = five ? QT_Q5_1 : QT_Q4_1;
    const qt_traits *tr = qt_get(type);
    void (*pack)(const void *, size_t, int64_t, void *) = five ? qt_r16_q5_1_pack : qt_r16_q4_1_pack;
    void (*row)(const void *, int64_t, int, float *) = five ? qt_r16_q5_1_row : qt_r16_q4_1_row;
    const qt_r16_fn ref_fn = five ? qt_r16_q5_1_dot_ref : qt_r16_q4_1_dot_ref;
    if (!fn) fn = ref_fn;
    const int64_t ns[] = {32, 96, 160, 896, 4864};
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
        const int64_t n = ns[c], nb = n / QK8_1;
        const size_t rb = (size_t)nb * tr->type_size, as = (size_t)nb * sizeof(block_q8_1) + PAD;
        uint8_t *rows = malloc(QT_R16_ROWS * rb), *group = malloc(QT_R16_ROWS * rb);
        uint8_t *act = malloc(QT_R16_TOKENS * as);
        float *w = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        for (size_t i = 0; i < QT_R16_ROWS * rb; i++) rows[i] = (uint8_t)rng_u32();
        for (size_t o = 0; o < QT_R16_ROWS * rb; o += tr->type_size) { /* small d and m */
            const uint16_t d = qt_f32_to_f16(0.001f + 0.02f * (float)(rng_u32() % 1000) / 1000.0f);
            const uint16_t m = qt_f32_to_f16(0.3f * rng_float());
            memcpy(rows + o, &d, 2);
            memcpy(rows + o + 2, &m, 2);
        }
        pack(rows, rb, n, group);
        for (int t = 0; t < QT_R16_TOKENS; t++) {
            for (int64_t i = 0; i < n; i++) y[i] = rng_float() * (t + 1);
            qt_get(QT_Q8_1)->from_float(y, act + (size_t)t * as, n);
        }
        int rows_bad = 0, bad = 0, moved = 0;
        for (int r = 0; r < QT_R16_ROWS; r++) {
            tr->to_float(rows + r * rb, w, n);
            row(group, n, r, y);
            rows_bad += memcmp(w, y, n * sizeof(float)) != 0;
        }
        enum { SS = QT_R16_ROWS + 3 };
        float want[QT_R16_TOKENS * SS], got[QT_R16_TOKENS * SS], alone[SS];
        ref_fn(n, want, SS, group, act, as, QT_R16_TOKENS);
        for (int nt = 1; nt <= QT_R16_TOKENS; nt++) {
            fn(n, got, SS, group, act, as, nt);
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < QT_R16_ROWS; r++) {
                    const float g = got[t * SS + r];
                    if (!ref) {
                        bad += memcmp(&g, &want[t * SS + r], sizeof g) != 0;
                        continue;
                    }
                    const block_q8_1 *a = (const block_q8_1 *)(act + (size_t)t * as);
                    tr->to_float(rows + r * rb, w, n);
                    double d = 0, mag = 0;
                    for (int64_t b = 0; b < nb; b++) {
                        uint16_t dh, mh;
                        memcpy(&dh, rows + r * rb + (size_t)b * tr->type_size, 2);
                        memcpy(&mh, rows + r * rb + (size_t)b * tr->type_size + 2, 2);
                        const double dx = qt_f16_to_f32(dh), m = qt_f16_to_f32(mh);
                        double S = 0;
                        for (int k = 0; k < QK8_1; k++) /* the quant: (w - m) / d, rounded */
                            S += (double)lround(((double)w[b * QK8_1 + k] - m) / dx) * a[b].qs[k];
                        const double term = dx * qt_f16_to_f32(a[b].d) * S;
                        const double mterm = m * qt_f16_to_f32(a[b].s);
                        d += term + mterm;
                        mag += fabs(term) + fabs(mterm);
                    }
                    bad += fabs(g - d) > 4.0 * (double)nb * FLT_EPSILON * mag + 1e-30;
                }
            fn(n, alone, SS, group, act + (size_t)(nt - 1) * as, as, 1);
            moved += memcmp(alone, &got[(nt - 1) * SS], QT_R16_ROWS * sizeof(float)) != 0;
        }
        CHECK(rows_bad == 0, "%s n %lld: %d rows differ from the row-major rows", tr->name,
              (long long)n, rows_bad);
        CHECK(bad == 0, "%s %s n %lld: %d results wrong", tr->name, name, (long long)n, bad);
        CHECK(moved == 0, "%s %s n %lld: %d token counts change a token's result", tr->name,
              name, (long long)n, moved);
        free(rows), free(group), free(act), free(w), free(y);
    }
}

/* ---- F16 ---- */

static void random_f16_rows(uint16_t *rows, int64_t n)
{
    for (int64_t i = 0; i < QT_R16_ROWS * n; i++) rows[i] = qt_f32_to_f16(rng_float());
    rows[n + 1] = 0x7BFF; /* the largest finite half, and the smallest subnormal */
    rows[n + 2] = 0x0001;
}

/* As check_kernel, for the F16 layout (activations: F32 rows, strided). */
static void check_f16_kernel(qt_r16_fn fn, const char *name, bool ref)
{
    const int64_t ns[] = {2, 32, 898, 4864};
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
        const int64_t n = ns[c], as = n + 5; /* floats between activation rows */
        uint16_t *rows = malloc(QT_R16_ROWS * n * 2), *group = malloc(QT_R16_ROWS * n * 2);
        float *act = malloc(QT_R16_TOKENS * as * sizeof(float)), *w = malloc(n * sizeof(float));
        random_f16_rows(rows, n);
        qt_r16_f16_pack(rows, n * 2, n, group);
        for (int64_t i = 0; i < QT_R16_TOKENS * as; i++) act[i] = rng_float();
        enum { SS = QT_R16_ROWS + 1 };
        float want[QT_R16_TOKENS * SS], got[QT_R16_TOKENS * SS], alone[SS];
        qt_r16_f16_dot_ref(n, want, SS, group, act, as * sizeof(float), QT_R16_TOKENS);
        int bad = 0, moved = 0, rows_bad = 0;
        for (int r = 0; r < QT_R16_ROWS; r++) {
            qt_r16_f16_row(group, n, r, w);
            for (int64_t k = 0; k < n; k++) rows_bad += w[k] != qt_f16_to_f32(rows[r * n + k]);
        }
        for (int nt = 1; nt <= QT_R16_TOKENS; nt++) {
            fn(n, got, SS, group, act, as * sizeof(float), nt);
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < QT_R16_ROWS; r++) {
                    const float g = got[t * SS + r];
                    if (ref) {
                        double d = 0, mag = 0;
                        for (int64_t k = 0; k < n; k++) {
                            const double p = (double)qt_f16_to_f32(rows[r * n + k]) * act[t * as + k];
                            d += p, mag += fabs(p);
                        }
                        bad += fabs(g - d) > 2.0 * (double)n * FLT_EPSILON * mag + 1e-30;
                    } else {
                        bad += memcmp(&g, &want[t * SS + r], sizeof g) != 0;
                    }
                }
            fn(n, alone, SS, group, act + (nt - 1) * as, as * sizeof(float), 1);
            moved += memcmp(alone, &got[(nt - 1) * SS], QT_R16_ROWS * sizeof(float)) != 0;
        }
        CHECK(rows_bad == 0, "f16 n %lld: %d packed elements differ", (long long)n, rows_bad);
        CHECK(bad == 0, "f16 %s n %lld: %d results wrong", name, (long long)n, bad);
        CHECK(moved == 0, "f16 %s n %lld: %d token counts change a token's result", name,
              (long long)n, moved);
        free(rows), free(group), free(act), free(w);
    }
}

/* ---- BF16 ---- */

/* The BF16 layout: packed pairs equal the rows', the kernel agrees with the
 * double dot within float tolerance (the reference too), and with itself
 * bit for bit whatever the token count. */
static void check_bf16_kernel(qt_r16_fn fn, const char *name)
{
    const int64_t ns[] = {4, 32, 900, 4864};
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
        const int64_t n = ns[c], as = n + 6; /* halves between activation rows */
        uint16_t *rows = malloc(QT_R16_ROWS * n * 2), *group = malloc(QT_R16_ROWS * n * 2);
        uint16_t *act = malloc(QT_R16_TOKENS * as * 2);
        float *w = malloc(n * sizeof(float));
        for (int64_t i = 0; i < QT_R16_ROWS * n; i++) rows[i] = qt_f32_to_bf16(rng_float());
        for (int64_t i = 0; i < QT_R16_TOKENS * as; i++) act[i] = qt_f32_to_bf16(rng_float());
        qt_r16_bf16_pack(rows, n * 2, n, group);
        enum { SS = QT_R16_ROWS + 2 };
        float got[QT_R16_TOKENS * SS], alone[SS];
        int bad = 0, moved = 0, rows_bad = 0;
        for (int r = 0; r < QT_R16_ROWS; r++) {
            qt_r16_bf16_row(group, n, r, w);
            for (int64_t k = 0; k < n; k++) rows_bad += w[k] != qt_bf16_to_f32(rows[r * n + k]);
        }
        for (int nt = 1; nt <= QT_R16_TOKENS; nt++) {
            fn(n, got, SS, group, act, as * 2, nt);
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < QT_R16_ROWS; r++) {
                    double d = 0, mag = 0;
                    for (int64_t k = 0; k < n; k++) {
                        const double p = (double)qt_bf16_to_f32(rows[r * n + k]) *
                                         qt_bf16_to_f32(act[t * as + k]);
                        d += p, mag += fabs(p);
                    }
                    bad += fabs(got[t * SS + r] - d) > 2.0 * (double)n * FLT_EPSILON * mag + 1e-30;
                }
            fn(n, alone, SS, group, act + (nt - 1) * as, as * 2, 1);
            moved += memcmp(alone, &got[(nt - 1) * SS], QT_R16_ROWS * sizeof(float)) != 0;
        }
        CHECK(rows_bad == 0, "bf16 n %lld: %d packed elements differ", (long long)n, rows_bad);
        CHECK(bad == 0, "bf16 %s n %lld: %d results outside tolerance", name, (long long)n, bad);
        CHECK(moved == 0, "bf16 %s n %lld: %d token counts change a token's result", name,
              (long long)n, moved);
        free(rows), free(group), free(act), free(w);
    }
}

/* ---- Q4_K, Q6_K ---- */

/* QT_R16_ROWS rows of random K-quant blocks (any scale, minimum and quant
 * bits; small positive d and dmin), row_bytes apart. */
static void random_k_rows(uint32_t type, uint8_t *rows, size_t row_bytes)
{
    for (size_t i = 0; i < QT_R16_ROWS * row_bytes; i++) rows[i] = (uint8_t)rng_u32();
    const size_t bb = qt_get(type)->type_size;
    for (int r = 0; r < QT_R16_ROWS; r++)
        for (size_t o = 0; o < row_bytes; o += bb) {
            uint8_t *blk = rows + r * row_bytes + o;
            const uint16_t d = qt_f32_to_f16(0.001f + 0.01f * (float)(rng_u32() % 1000) / 1000.0f);
            const uint16_t dmin = qt_f32_to_f16(0.002f * (float)(rng_u32() % 1000) / 1000.0f);
            if (type == QT_Q4_K) {
                memcpy(blk, &d, 2);
                memcpy(blk + 2, &dmin, 2);
            } else {
                memcpy(blk + bb - 2, &d, 2); /* Q6_K keeps d last */
            }
        }
}

/* The K-quant layout of `type` (kernel fn): rows read back exactly as the
 * row-major rows dequantize; against Q8_K activations the reference agrees
 * with a double dot of the dequantized operands, and the kernel with the
 * reference bit for bit, for every token count, alone or batched. */
static void check_k_kernel(uint32_t type, qt_r16_fn fn, qt_r16_fn ref_fn, const char *name,
                           bool ref)
{
    void (*pack)(const void *, size_t, int64_t, void *) =
        type == QT_Q4_K ? qt_r16_q4_k_pack : qt_r16_q6_k_pack;
    void (*row)(const void *, int64_t, int, float *) =
        type == QT_Q4_K ? qt_r16_q4_k_row : qt_r16_q6_k_row;
    const int64_t ns[] = {256, 768, 4864};
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
        const int64_t n = ns[c], nb = n / QK_K;
        const size_t rb = (size_t)nb * qt_get(type)->type_size;
        const size_t as = (size_t)nb * sizeof(block_q8_K) + PAD;
        uint8_t *rows = malloc(QT_R16_ROWS * rb), *group = malloc(QT_R16_ROWS * rb);
        uint8_t *act = malloc(QT_R16_TOKENS * as);
        float *w = malloc(n * sizeof(float)), *got_row = malloc(n * sizeof(float));
        float *y = malloc(n * sizeof(float)), *x = malloc(n * sizeof(float));
        random_k_rows(type, rows, rb);
        pack(rows, rb, n, group);
        for (int t = 0; t < QT_R16_TOKENS; t++) {
            for (int64_t i = 0; i < n; i++) x[i] = rng_float() * (t + 1);
            qt_get(QT_Q8_K)->from_float(x, act + (size_t)t * as, n);
        }
        int rows_bad = 0, bad = 0, moved = 0;
        for (int r = 0; r < QT_R16_ROWS; r++) {
            qt_get(type)->to_float(rows + r * rb, w, n);
            row(group, n, r, got_row);
            rows_bad += memcmp(w, got_row, n * sizeof(float)) != 0;
        }
        enum { SS = QT_R16_ROWS + 5 };
        float want[QT_R16_TOKENS * SS], got[QT_R16_TOKENS * SS], alone[SS];
        ref_fn(n, want, SS, group, act, as, QT_R16_TOKENS);
        for (int nt = 1; nt <= QT_R16_TOKENS; nt++) {
            fn(n, got, SS, group, act, as, nt);
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < QT_R16_ROWS; r++) {
                    const float g = got[t * SS + r];
                    if (!ref) {
                        bad += memcmp(&g, &want[t * SS + r], sizeof g) != 0;
                        continue;
                    }
                    qt_get(type)->to_float(rows + r * rb, w, n);
                    qt_get(QT_Q8_K)->to_float(act + t * as, y, n);
                    double d = 0, wmax = 0, asum = 0;
                    for (int64_t i = 0; i < n; i++) {
                        d += (double)w[i] * y[i];
                        wmax = fmax(wmax, fabs(w[i]));
                        asum += fabs(y[i]);
                    }
                    bad += fabs(g - d) > 16.0 * (double)nb * FLT_EPSILON * wmax * asum + 1e-30;
                }
            fn(n, alone, SS, group, act + (size_t)(nt - 1) * as, as, 1);
            moved += memcmp(alone, &got[(nt - 1) * SS], QT_R16_ROWS * sizeof(float)) != 0;
        }
        CHECK(rows_bad == 0, "%s n %lld: %d rows differ from the row-major rows",
              qt_get(type)->name, (long long)n, rows_bad);
        CHECK(bad == 0, "%s %s n %lld: %d results wrong", qt_get(type)->name, name,
              (long long)n, bad);
        CHECK(moved == 0, "%s %s n %lld: %d token counts change a token's result",
              qt_get(type)->name, name, (long long)n, moved);
        free(rows), free(group), free(act), free(w), free(got_row), free(y), free(x);
    }
}

int main(void)
{
    test_prepare();
    const block_type *bts[] = {&q8_0, &q4_0, &q5_0};
    const qt_r16_fn simd[] = {qt_r16_dot_avx512, qt_r16_q4_0_dot_avx512, qt_r16_q5_0_dot_avx512};
    for (int i = 0; i < 3; i++) {
        check_kernel(bts[i], bts[i]->ref, "reference", true);
        if (cpu_kernel_level() >= CPU_LEVEL_AVX512) check_kernel(bts[i], simd[i], "avx512", false);
    }
    for (int five = 0; five < 2; five++) {
        check_affine_kernel(five, NULL, "reference", true);
        if (cpu_kernel_level() >= CPU_LEVEL_AVX512)
            check_affine_kernel(five, five ? qt_r16_q5_1_dot_avx512 : qt_r16_q4_1_dot_avx512,
                                "avx512", false);
    }
    if (cpu_kernel_level() < CPU_LEVEL_AVX512)
        fprintf(stderr, "note: no AVX-512 VNNI on this CPU; only the reference was tested\n");
    check_f16_kernel(qt_r16_f16_dot_ref, "reference", true);
    if (cpu_kernel_level() >= CPU_LEVEL_AVX512) check_f16_kernel(qt_r16_f16_dot_avx512, "avx512", false);
    check_bf16_kernel(qt_r16_bf16_dot_ref, "reference");
    if (cpu_kernel_level() >= CPU_LEVEL_AVX512_BF16)
        check_bf16_kernel(qt_r16_bf16_dot_avx512, "avx512-bf16");
    CHECK((qt_r16_layout_of(QT_BF16) != NULL) == (cpu_kernel_level() >= CPU_LEVEL_AVX512_BF16),
          "dispatch");
    CHECK((qt_r16_layout_of(QT_Q8_0) != NULL) == (cpu_kernel_level() >= CPU_LEVEL_AVX512),
          "dispatch");
    CHECK((qt_r16_layout_of(QT_F16) != NULL) == (cpu_kernel_level() >= CPU_LEVEL_AVX512),
          "dispatch");
    check_k_kernel(QT_Q4_K, qt_r16_q4_k_dot_ref, qt_r16_q4_k_dot_ref, "reference", true);
    check_k_kernel(QT_Q6_K, qt_r16_q6_k_dot_ref, qt_r16_q6_k_dot_ref, "reference", true);
    if (cpu_kernel_level() >= CPU_LEVEL_AVX512) {
        check_k_kernel(QT_Q4_K, qt_r16_q4_k_dot_avx512, qt_r16_q4_k_dot_ref, "avx512", false);
        check_k_kernel(QT_Q6_K, qt_r16_q6_k_dot_avx512, qt_r16_q6_k_dot_ref, "avx512", false);
    }
    CHECK((qt_r16_layout_of(QT_Q4_K) != NULL) == (cpu_kernel_level() >= CPU_LEVEL_AVX512),
          "dispatch");
    CHECK((qt_r16_layout_of(QT_Q5_1) != NULL) == (cpu_kernel_level() >= CPU_LEVEL_AVX512),
          "dispatch");
    CHECK(!qt_r16_layout_of(QT_Q5_K) && !qt_r16_layout_of(QT_F32), "no layout for other types");
    return test_finish();
}
