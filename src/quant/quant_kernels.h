/* quant_kernels.h - every kernel of the quant module, by name (internal).
 *
 * Naming: qt_dequant_<t> (to_float), qt_quant_<t> (from_float, scalar
 * reference), qt_dot_<t>_<vec_dot_t> (scalar reference vec_dot), and the
 * same names with _avx2 / _avx512 for the SIMD versions, which live in
 * files of those suffixes (the only files compiled with ISA flags) and must
 * only be called when cpu_kernel_level() allows. n is always a multiple of
 * the type's block size; kernels do not fail.
 *
 * F32 and F16 rows dot F32 activations (vec_dot_type F32): the weights are
 * widened exactly, so the only rounding is the float accumulation, and the
 * caller needs no activation conversion. BF16 rows dot BF16 activations
 * (the activations rounded to BF16, as ggml does), so that CPUs with
 * AVX512_BF16 multiply them with vdpbf16ps.
 */
#ifndef GLIMP_QUANT_KERNELS_H
#define GLIMP_QUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* A tile kernel reads its weight rows side by side, streams about a row
 * apart, which the hardware prefetchers follow worse than one row after
 * another: in a tile of several rows each row hints its own data
 * QT_PREFETCH bytes ahead (the rows of the next tile follow on), a 64-byte
 * line at a time. Hints beyond a matrix's end read nothing. Batches of 8
 * decodes (glimp serve at 8 clients, Q8_0 from memory, 2 threads): 1.09x. */
#define QT_PREFETCH 768
static inline void qt_prefetch_ahead(const void *p, size_t bytes)
{
    const uintptr_t a = (uintptr_t)p + QT_PREFETCH;
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch((const void *)(a + o));
}

#define QT_DECLARE_TYPE(t)                                              \
    void qt_dequant_##t(const void *x, float *y, int64_t n);            \
    void qt_quant_##t(const float *x, void *y, int64_t n)

QT_DECLARE_TYPE(f32);
QT_DECLARE_TYPE(f16);
QT_DECLARE_TYPE(bf16);
QT_DECLARE_TYPE(q4_0);
QT_DECLARE_TYPE(q4_1);
QT_DECLARE_TYPE(q5_0);
QT_DECLARE_TYPE(q5_1);
QT_DECLARE_TYPE(q8_0);
QT_DECLARE_TYPE(q8_1);
QT_DECLARE_TYPE(q2_K);
QT_DECLARE_TYPE(q3_K);
QT_DECLARE_TYPE(q4_K);
QT_DECLARE_TYPE(q5_K);
QT_DECLARE_TYPE(q6_K);
QT_DECLARE_TYPE(q8_K);

#define QT_DECLARE_DOT(name) void name(int64_t n, float *s, const void *x, const void *y)

/* Scalar references. */
QT_DECLARE_DOT(qt_dot_f32_f32);
QT_DECLARE_DOT(qt_dot_f16_f32);
QT_DECLARE_DOT(qt_dot_bf16_bf16);
QT_DECLARE_DOT(qt_dot_q4_0_q8_0);
QT_DECLARE_DOT(qt_dot_q4_1_q8_1);
QT_DECLARE_DOT(qt_dot_q5_0_q8_0);
QT_DECLARE_DOT(qt_dot_q5_1_q8_1);
QT_DECLARE_DOT(qt_dot_q8_0_q8_0);
QT_DECLARE_DOT(qt_dot_q2_K_q8_K);
QT_DECLARE_DOT(qt_dot_q3_K_q8_K);
QT_DECLARE_DOT(qt_dot_q4_K_q8_K);
QT_DECLARE_DOT(qt_dot_q5_K_q8_K);
QT_DECLARE_DOT(qt_dot_q6_K_q8_K);

/* SIMD versions, one set per level (same signatures as the references). */
#define QT_DECLARE_SIMD(sfx)                                            \
    QT_DECLARE_DOT(qt_dot_f32_f32_##sfx);                               \
    QT_DECLARE_DOT(qt_dot_f16_f32_##sfx);                               \
    QT_DECLARE_DOT(qt_dot_bf16_bf16_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q4_0_q8_0_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q5_0_q8_0_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q4_1_q8_1_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q5_1_q8_1_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q8_0_q8_0_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q2_K_q8_K_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q3_K_q8_K_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q4_K_q8_K_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q5_K_q8_K_##sfx);                             \
    QT_DECLARE_DOT(qt_dot_q6_K_q8_K_##sfx);                             \
    void qt_quant_q8_0_##sfx(const float *x, void *y, int64_t n);       \
    void qt_quant_q8_K_##sfx(const float *x, void *y, int64_t n)

QT_DECLARE_SIMD(avx2);
QT_DECLARE_SIMD(avx512);

/* Tile kernels (qt_tile_fn); each agrees bit for bit with the vec_dot of
 * the same name at that level. */
#define QT_DECLARE_TILE(name)                                                          \
    void name(int64_t n, float *s, size_t s_stride, const void *x, size_t x_stride, \
              const void *y, size_t y_stride, int nr, int nt)
QT_DECLARE_TILE(qt_tile_q8_0_q8_0_avx2);
QT_DECLARE_TILE(qt_tile_q5_0_q8_0_avx2);
QT_DECLARE_TILE(qt_tile_q4_0_q8_0_avx2);
QT_DECLARE_TILE(qt_tile_f16_f32_avx2);
QT_DECLARE_TILE(qt_tile_bf16_bf16_avx2);
QT_DECLARE_TILE(qt_tile_q4_K_q8_K_avx2);
QT_DECLARE_TILE(qt_tile_q6_K_q8_K_avx2);
QT_DECLARE_TILE(qt_tile_q8_0_q8_0_avx512);
QT_DECLARE_TILE(qt_tile_q5_0_q8_0_avx512);
QT_DECLARE_TILE(qt_tile_q4_K_q8_K_avx512);
QT_DECLARE_TILE(qt_tile_q5_K_q8_K_avx512);
QT_DECLARE_TILE(qt_tile_q6_K_q8_K_avx512);
QT_DECLARE_TILE(qt_tile_f32_f32_avx512);
QT_DECLARE_TILE(qt_tile_f16_f32_avx512);

/* Multiply-add into several float rows (qt_mad_fn), Q8_0 only: the scalar
 * reference and the AVX-512 version. */
void qt_mad_q8_0(int64_t n, float *y, size_t y_stride, int ny, const float *a, size_t a_stride,
                 const void *x, size_t x_stride, int64_t nx);
void qt_mad_q8_0_avx512(int64_t n, float *y, size_t y_stride, int ny, const float *a,
                        size_t a_stride, const void *x, size_t x_stride, int64_t nx);

/* AVX-512 extras (quant_float_avx512.c): F32 -> BF16 and F32 -> F16
 * rounding (byte-identical to qt_quant_bf16, qt_quant_f16), and the
 * vdpbf16ps kernels of CPU_LEVEL_AVX512_BF16. */
void qt_quant_f16_avx512(const float *x, void *y, int64_t n);
void qt_quant_bf16_avx512(const float *x, void *y, int64_t n);
QT_DECLARE_DOT(qt_dot_bf16_bf16_avx512bf16);
QT_DECLARE_TILE(qt_tile_bf16_bf16_avx512bf16);

#endif
