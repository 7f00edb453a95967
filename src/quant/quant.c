/* quant.c - the traits table: one entry per supported tensor type, and the
 * names of every type id GGUF files may carry (for "unsupported" errors).
 * Function pointers are filled from the per-format files; the table itself
 * never fails. */
#include "quant/quant.h"

#include <stddef.h>

static qt_traits traits[QT_MAX_ID] = {
    [QT_F32] = {.name = "F32", .blck_size = 1, .type_size = 4, .vec_dot_type = QT_F32},
    [QT_F16] = {.name = "F16", .blck_size = 1, .type_size = 2, .vec_dot_type = QT_F16},
    [QT_BF16] = {.name = "BF16", .blck_size = 1, .type_size = 2, .vec_dot_type = QT_BF16},
    [QT_Q4_0] = {.name = "Q4_0", .blck_size = 32, .type_size = 18, .vec_dot_type = QT_Q8_0},
    [QT_Q4_1] = {.name = "Q4_1", .blck_size = 32, .type_size = 20, .vec_dot_type = QT_Q8_1},
    [QT_Q5_0] = {.name = "Q5_0", .blck_size = 32, .type_size = 22, .vec_dot_type = QT_Q8_0},
    [QT_Q5_1] = {.name = "Q5_1", .blck_size = 32, .type_size = 24, .vec_dot_type = QT_Q8_1},
    [QT_Q8_0] = {.name = "Q8_0", .blck_size = 32, .type_size = 34, .vec_dot_type = QT_Q8_0},
    [QT_Q8_1] = {.name = "Q8_1", .blck_size = 32, .type_size = 36, .vec_dot_type = QT_Q8_1},
    [QT_Q2_K] = {.name = "Q2_K", .blck_size = 256, .type_size = 84, .vec_dot_type = QT_Q8_K},
    [QT_Q3_K] = {.name = "Q3_K", .blck_size = 256, .type_size = 110, .vec_dot_type = QT_Q8_K},
    [QT_Q4_K] = {.name = "Q4_K", .blck_size = 256, .type_size = 144, .vec_dot_type = QT_Q8_K},
    [QT_Q5_K] = {.name = "Q5_K", .blck_size = 256, .type_size = 176, .vec_dot_type = QT_Q8_K},
    [QT_Q6_K] = {.name = "Q6_K", .blck_size = 256, .type_size = 210, .vec_dot_type = QT_Q8_K},
    [QT_Q8_K] = {.name = "Q8_K", .blck_size = 256, .type_size = 292, .vec_dot_type = QT_Q8_K},
};

/* Ids assigned in GGUF files we do not run (some retired, kept for messages). */
static const char *const other_names[QT_MAX_ID] = {
    [4] = "Q4_2", [5] = "Q4_3", [16] = "IQ2_XXS", [17] = "IQ2_XS", [18] = "IQ3_XXS",
    [19] = "IQ1_S", [20] = "IQ4_NL", [21] = "IQ3_S", [22] = "IQ2_S", [23] = "IQ4_XS",
    [24] = "I8", [25] = "I16", [26] = "I32", [27] = "I64", [28] = "F64", [29] = "IQ1_M",
    [31] = "Q4_0_4_4", [32] = "Q4_0_4_8", [33] = "Q4_0_8_8", [34] = "TQ1_0", [35] = "TQ2_0",
    [36] = "IQ4_NL_4_4", [37] = "IQ4_NL_4_8", [38] = "IQ4_NL_8_8", [39] = "MXFP4",
};

const qt_traits *qt_get(uint32_t type)
{
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
