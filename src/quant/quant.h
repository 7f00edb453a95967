/* quant.h - tensor element types, block layouts and the kernel traits table.
 *
 * Type ids and block byte layouts are those of GGUF files as llama.cpp
 * writes them. Each supported type has one traits entry: block size, bytes
 * per block, scalar reference to_float/from_float, and vec_dot against the
 * activation type vec_dot_type (e.g. Q4_K rows dot Q8_K activations). The
 * vec_dot pointers are chosen once per process from cpu_kernel_level();
 * the *_ref functions are the scalar references every SIMD kernel is tested
 * against. Unknown ids get no traits: callers report them as unsupported.
 */
#ifndef GLIMP_QUANT_H
#define GLIMP_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/cpu.h"

typedef enum ggml_type_id {
    QT_F32 = 0,
    QT_F16 = 1,
    QT_Q4_0 = 2,
    QT_Q4_1 = 3,
    QT_Q5_0 = 6,
    QT_Q5_1 = 7,
    QT_Q8_0 = 8,
    QT_Q8_1 = 9,
    QT_Q2_K = 10,
    QT_Q3_K = 11,
    QT_Q4_K = 12,
    QT_Q5_K = 13,
    QT_Q6_K = 14,
    QT_Q8_K = 15,
    QT_BF16 = 30,
    QT_MAX_ID = 64 /* ids >= this are never valid */
} ggml_type_id;

/* y[0..n) = dequantized x; n is a multiple of the block size. */
typedef void (*qt_to_float_fn)(const void *x, float *y, int64_t n);
/* y = quantized x; n is a multiple of the block size. */
typedef void (*qt_from_float_fn)(const float *x, void *y, int64_t n);
/* *s = dot(x, y) over n elements; x of this type, y of vec_dot_type. */
typedef void (*qt_vec_dot_fn)(int64_t n, float *s, const void *x, const void *y);

/* Tile of dot products: s[t * s_stride + r] = dot(row r of x, row t of y)
 * for r < nr, t < nt (each 1..QT_TILE); x rows (this type) x_stride bytes
 * apart, y rows (vec_dot_type) y_stride bytes apart, n elements each. Every
 * result is bit-identical to the vec_dot in effect for the same pair, so a
 * matmul gives the same bits however it groups rows and tokens. */
#define QT_TILE 4
/* Multiply-add of nx rows of this type (x_stride bytes apart) into ny
 * float rows: y[h * y_stride + i] += sum over p < nx of a[h * a_stride + p]
 * * x_p[i], for h < ny, i < n, the terms added in order of p. */
typedef void (*qt_mad_fn)(int64_t n, float *y, size_t y_stride, int ny, const float *a,
                          size_t a_stride, const void *x, size_t x_stride, int64_t nx);

typedef void (*qt_tile_fn)(int64_t n, float *s, size_t s_stride, const void *x, size_t x_stride,
                           const void *y, size_t y_stride, int nr, int nt);

typedef struct qt_traits {
    const char *name;          /* "Q4_K" */
    uint32_t blck_size;        /* elements per block */
    uint32_t type_size;        /* bytes per block */
    qt_to_float_fn to_float;   /* scalar reference */
    qt_from_float_fn from_float; /* scalar reference quantizer */
    qt_vec_dot_fn vec_dot;     /* dispatched (SIMD where available) */
    qt_vec_dot_fn vec_dot_ref; /* scalar reference */
    uint32_t vec_dot_type;     /* type the other operand must be in */
    /* Dispatched quantizer: SIMD where available (Q8_0, Q8_K: the activation
     * quantizers run before every matmul), else from_float. Its output is
     * byte-identical to from_float's. */
    qt_from_float_fn quantize;
    /* Dispatched tile kernel of the same level as vec_dot, or NULL (then
     * call vec_dot per pair). */
    qt_tile_fn tile;
    /* Q8_0 only (the rows of a Q8_0 KV cache's V), else NULL: dispatched
     * multiply-add and its scalar reference. */
    qt_mad_fn mad;
    qt_mad_fn mad_ref;
} qt_traits;

/* Traits of a supported type, or NULL (unsupported or unknown id). The
 * first call picks the kernels for cpu_kernel_level() (pthread_once, so any
 * thread may call it first). */
const qt_traits *qt_get(uint32_t type);

/* The vec_dot kernel written for exactly `level` (NULL when that level has
 * none for this type; the dispatcher then uses the next lower one). The
 * caller must make sure the CPU supports the level. For tests and benches. */
qt_vec_dot_fn qt_vec_dot_at(uint32_t type, cpu_level level);
/* The tile kernel written for exactly `level` (NULL when none); it agrees
 * bit for bit with qt_vec_dot_at(type, level). For tests and benches. */
qt_tile_fn qt_tile_at(uint32_t type, cpu_level level);
/* Same for the quantizer (Q8_0, Q8_K, BF16 and F16 have SIMD versions). */
qt_from_float_fn qt_quantize_at(uint32_t type, cpu_level level);
/* The multiply-add written for exactly `level` (NULL when none). */
qt_mad_fn qt_mad_at(uint32_t type, cpu_level level);

/* Name of any ggml type id known to exist ("IQ2_XXS", "Q4_0_4_4", ...) or
 * NULL when the id was never assigned. Used for "unsupported type" errors. */
const char *qt_name(uint32_t type);

/* Bytes of one row of n elements; false if n is not a multiple of the block
 * size or the type is unsupported. */
bool qt_row_size(uint32_t type, uint64_t n, uint64_t *bytes);

/* Half-precision conversions (IEEE binary16 and bfloat16, round to nearest
 * even, NaN preserved). */
float qt_f16_to_f32(uint16_t h);
uint16_t qt_f32_to_f16(float f);
float qt_bf16_to_f32(uint16_t h);
uint16_t qt_f32_to_bf16(float f);

#endif
