/* quant.c - the traits table: one entry per supported tensor type, the
 * names of every type id GGUF files may carry (for "unsupported" errors),
 * and the run-time choice of kernels.
 *
 * The table holds the scalar references statically; on the first qt_get()
 * (pthread_once) each type's vec_dot and quantize are set to the best
 * kernel at or below cpu_kernel_level(). The table itself never fails.
 */
#include "quant/quant.h"
#include "quant/quant_kernels.h"

#include <pthread.h>
#include <stddef.h>

#define REF(t, dot) .to_float = qt_dequant_##t, .from_float = qt_quant_##t, \
                    .vec_dot_ref = dot, .vec_dot = dot, .quantize = qt_quant_##t

/* F32 and F16 rows dot F32 activations, BF16 rows BF16 activations (see
 * quant_kernels.h). Q8_1 and Q8_K are activation formats only: no vec_dot
 * of their own. */
static qt_traits traits[QT_MAX_ID] = {
    [QT_F32] = {.name = "F32", .blck_size = 1, .type_size = 4, .vec_dot_type = QT_F32,
                REF(f32, qt_dot_f32_f32)},
    [QT_F16] = {.name = "F16", .blck_size = 1, .type_size = 2, .vec_dot_type = QT_F32,
                REF(f16, qt_dot_f16_f32)},
    [QT_BF16] = {.name = "BF16", .blck_size = 1, .type_size = 2, .vec_dot_type = QT_BF16,
                 REF(bf16, qt_dot_bf16_bf16)},
    [QT_Q4_0] = {.name = "Q4_0", .blck_size = 32, .type_size = 18, .vec_dot_type = QT_Q8_0,
                 REF(q4_0, qt_dot_q4_0_q8_0)},
    [QT_Q4_1] = {.name = "Q4_1", .blck_size = 32, .type_size = 20, .vec_dot_type = QT_Q8_1,
                 REF(q4_1, qt_dot_q4_1_q8_1)},
    [QT_Q5_0] = {.name = "Q5_0", .blck_size = 32, .type_size = 22, .vec_dot_type = QT_Q8_0,
                 REF(q5_0, qt_dot_q5_0_q8_0)},
    [QT_Q5_1] = {.name = "Q5_1", .blck_size = 32, .type_size = 24, .vec_dot_type = QT_Q8_1,
                 REF(q5_1, qt_dot_q5_1_q8_1)},
    [QT_Q8_0] = {.name = "Q8_0", .blck_size = 32, .type_size = 34, .vec_dot_type = QT_Q8_0,
                 REF(q8_0, qt_dot_q8_0_q8_0), .mad = qt_mad_q8_0, .mad_ref = qt_mad_q8_0},
    [QT_Q8_1] = {.name = "Q8_1", .blck_size = 32, .type_size = 36, .vec_dot_type = QT_Q8_1,
                 REF(q8_1, NULL)},
    [QT_Q2_K] = {.name = "Q2_K", .blck_size = 256, .type_size = 84, .vec_dot_type = QT_Q8_K,
                 REF(q2_K, qt_dot_q2_K_q8_K)},
    [QT_Q3_K] = {.name = "Q3_K", .blck_size = 256, .type_size = 110, .vec_dot_type = QT_Q8_K,
                 REF(q3_K, qt_dot_q3_K_q8_K)},
    [QT_Q4_K] = {.name = "Q4_K", .blck_size = 256, .type_size = 144, .vec_dot_type = QT_Q8_K,
                 REF(q4_K, qt_dot_q4_K_q8_K)},
    [QT_Q5_K] = {.name = "Q5_K", .blck_size = 256, .type_size = 176, .vec_dot_type = QT_Q8_K,
                 REF(q5_K, qt_dot_q5_K_q8_K)},
    [QT_Q6_K] = {.name = "Q6_K", .blck_size = 256, .type_size = 210, .vec_dot_type = QT_Q8_K,
                 REF(q6_K, qt_dot_q6_K_q8_K)},
    [QT_Q8_K] = {.name = "Q8_K", .blck_size = 256, .type_size = 292, .vec_dot_type = QT_Q8_K,
                 REF(q8_K, NULL)},
};

/* SIMD kernels by type and level (the scalar level is the table above;
 * NULL: none at that level, the next lower one serves). */
typedef struct { uint32_t type; qt_vec_dot_fn fn[CPU_LEVEL_TOP + 1]; } simd_dot;
typedef struct { uint32_t type; qt_from_float_fn fn[CPU_LEVEL_TOP + 1]; } simd_quant;

#define SIMD_DOT(T, name) {T, {NULL, name##_avx2, name##_avx512, NULL}}
static const simd_dot simd_dots[] = {
    SIMD_DOT(QT_F32, qt_dot_f32_f32),     SIMD_DOT(QT_F16, qt_dot_f16_f32),
    {QT_BF16, {NULL, qt_dot_bf16_bf16_avx2, qt_dot_bf16_bf16_avx512, qt_dot_bf16_bf16_avx512bf16}},
    SIMD_DOT(QT_Q4_0, qt_dot_q4_0_q8_0),
    SIMD_DOT(QT_Q4_1, qt_dot_q4_1_q8_1),  SIMD_DOT(QT_Q5_0, qt_dot_q5_0_q8_0),
    SIMD_DOT(QT_Q5_1, qt_dot_q5_1_q8_1),  SIMD_DOT(QT_Q8_0, qt_dot_q8_0_q8_0),
    SIMD_DOT(QT_Q2_K, qt_dot_q2_K_q8_K),  SIMD_DOT(QT_Q3_K, qt_dot_q3_K_q8_K),
    SIMD_DOT(QT_Q4_K, qt_dot_q4_K_q8_K),  SIMD_DOT(QT_Q5_K, qt_dot_q5_K_q8_K),
    SIMD_DOT(QT_Q6_K, qt_dot_q6_K_q8_K),
};
/* Tile kernels: AVX-512 (its register file holds a 4 x 4 tile) and AVX2
 * (instances of up to 4 x 4 or 2 x 4, by type). */
static const struct { uint32_t type; cpu_level level; qt_tile_fn fn; } tiles[] = {
    {QT_Q8_0, CPU_LEVEL_AVX2, qt_tile_q8_0_q8_0_avx2},
    {QT_Q5_0, CPU_LEVEL_AVX2, qt_tile_q5_0_q8_0_avx2},
    {QT_Q4_0, CPU_LEVEL_AVX2, qt_tile_q4_0_q8_0_avx2},
    {QT_F16, CPU_LEVEL_AVX2, qt_tile_f16_f32_avx2},
    {QT_BF16, CPU_LEVEL_AVX2, qt_tile_bf16_bf16_avx2},
    {QT_Q4_K, CPU_LEVEL_AVX2, qt_tile_q4_K_q8_K_avx2},
    {QT_Q6_K, CPU_LEVEL_AVX2, qt_tile_q6_K_q8_K_avx2},
    {QT_Q8_0, CPU_LEVEL_AVX512, qt_tile_q8_0_q8_0_avx512},
    {QT_Q5_0, CPU_LEVEL_AVX512, qt_tile_q5_0_q8_0_avx512},
    {QT_Q4_K, CPU_LEVEL_AVX512, qt_tile_q4_K_q8_K_avx512},
    {QT_Q5_K, CPU_LEVEL_AVX512, qt_tile_q5_K_q8_K_avx512},
    {QT_Q6_K, CPU_LEVEL_AVX512, qt_tile_q6_K_q8_K_avx512},
    {QT_F32, CPU_LEVEL_AVX512, qt_tile_f32_f32_avx512},
    {QT_F16, CPU_LEVEL_AVX512, qt_tile_f16_f32_avx512},
    {QT_BF16, CPU_LEVEL_AVX512_BF16, qt_tile_bf16_bf16_avx512bf16},
};
static const simd_quant simd_quants[] = {
    {QT_Q8_0, {NULL, qt_quant_q8_0_avx2, qt_quant_q8_0_avx512, NULL}},
    {QT_Q8_K, {NULL, qt_quant_q8_K_avx2, qt_quant_q8_K_avx512, NULL}},
    {QT_BF16, {NULL, NULL, qt_quant_bf16_avx512, NULL}},
    {QT_F16, {NULL, NULL, qt_quant_f16_avx512, NULL}},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Ids assigned in GGUF files we do not run (some retired, kept for messages). */
static const char *const other_names[QT_MAX_ID] = {
    [4] = "Q4_2", [5] = "Q4_3", [16] = "IQ2_XXS", [17] = "IQ2_XS", [18] = "IQ3_XXS",
    [19] = "IQ1_S", [20] = "IQ4_NL", [21] = "IQ3_S", [22] = "IQ2_S", [23] = "IQ4_XS",
    [24] = "I8", [25] = "I16", [26] = "I32", [27] = "I64", [28] = "F64", [29] = "IQ1_M",
    [31] = "Q4_0_4_4", [32] = "Q4_0_4_8", [33] = "Q4_0_8_8", [34] = "TQ1_0", [35] = "TQ2_0",
    [36] = "IQ4_NL_4_4", [37] = "IQ4_NL_4_8", [38] = "IQ4_NL_8_8", [39] = "MXFP4",
};

qt_vec_dot_fn qt_vec_dot_at(uint32_t type, cpu_level level)
{
    if (type >= QT_MAX_ID || !traits[type].name) return NULL;
    if (level == CPU_LEVEL_SCALAR) return traits[type].vec_dot_ref;
    for (size_t k = 0; k < COUNT(simd_dots); k++)
        if (simd_dots[k].type == type) return simd_dots[k].fn[level];
    return NULL;
}

qt_tile_fn qt_tile_at(uint32_t type, cpu_level level)
{
    if (type >= QT_MAX_ID || !traits[type].name) return NULL;
    for (size_t k = 0; k < COUNT(tiles); k++)
        if (tiles[k].type == type && tiles[k].level == level) return tiles[k].fn;
    return NULL;
}

qt_mad_fn qt_mad_at(uint32_t type, cpu_level level)
{
    if (type != QT_Q8_0) return NULL;
    return level == CPU_LEVEL_SCALAR ? qt_mad_q8_0 : level == CPU_LEVEL_AVX512 ? qt_mad_q8_0_avx512 : NULL;
}

qt_from_float_fn qt_quantize_at(uint32_t type, cpu_level level)
{
    if (type >= QT_MAX_ID || !traits[type].name) return NULL;
    if (level == CPU_LEVEL_SCALAR) return traits[type].from_float;
    for (size_t k = 0; k < COUNT(simd_quants); k++)
        if (simd_quants[k].type == type) return simd_quants[k].fn[level];
    return NULL;
}

static pthread_once_t dispatch_once = PTHREAD_ONCE_INIT;

/* Runs once, before any thread can read the pointers it sets (every reader
 * goes through qt_get, which waits on the same pthread_once). */
static void dispatch_init(void)
{
    const cpu_level top = cpu_kernel_level();
    for (uint32_t t = 0; t < QT_MAX_ID; t++) {
        if (!traits[t].name) continue;
        for (int lv = (int)top; lv > CPU_LEVEL_SCALAR; lv--) {
            qt_vec_dot_fn d = qt_vec_dot_at(t, (cpu_level)lv);
            if (d) {
                traits[t].vec_dot = d;
                traits[t].tile = qt_tile_at(t, (cpu_level)lv); /* same level as vec_dot */
                break;
            }
        }
        for (int lv = (int)top; lv > CPU_LEVEL_SCALAR; lv--) {
            qt_mad_fn m = qt_mad_at(t, (cpu_level)lv);
            if (m) {
                traits[t].mad = m;
                break;
            }
        }
        for (int lv = (int)top; lv > CPU_LEVEL_SCALAR; lv--) {
            qt_from_float_fn q = qt_quantize_at(t, (cpu_level)lv);
            if (q) {
                traits[t].quantize = q;
                break;
            }
        }
    }
}

const qt_traits *qt_get(uint32_t type)
{
    pthread_once(&dispatch_once, dispatch_init);
    if (type >= QT_MAX_ID || !traits[type].name) return NULL;
    return &traits[type];
}

const char *qt_name(uint32_t type)
{
    if (type >= QT_MAX_ID) return NULL;
    return traits[type].name ? traits[type].name : other_names[type];
}

bool qt_row_size(uint32_t type, uint64_t n, uint64_t *bytes)
{
    const qt_traits *t = qt_get(type);
    if (!t || n % t->blck_size) return false;
    *bytes = n / t->blck_size * t->type_size;
    return true;
}
