/* quant_r16.h - Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, F16, BF16, Q4_K and Q6_K weights repacked
 * 16 rows at a time, and their kernels (the others: see below; the rest of
 * this comment is Q8_0's).
 *
 * A batch of a few tokens (8 decoding sessions, a speculative verify pass)
 * is bound by the arithmetic of the Q8_0 dot products, not by reading the
 * weights: in the row-major layout each 32-weight block costs a vpdpbusd
 * plus a scale, a convert and an FMA per (row, token). Repacked, a 16-row
 * group stores for each block its 16 scales, then the quants as 8 columns
 * of (16 rows x 4 bytes); one vpdpbusd then multiplies 4 quants of all 16
 * rows by a broadcast 4 bytes of one token, and one convert + FMA scales
 * the 16 rows' block sums: a third of the instructions per product.
 *
 * Group layout (QT_R16_ROWS rows of n columns, exactly as many bytes as
 * those rows of Q8_0): for each block b, 32 bytes of fp16 scales d[16],
 * then 512 bytes q[g][r][j] = quant (4g + j) of row r, plus 128 (unsigned).
 *
 * Activations are Q8_0 rows followed (at qt_r16_prep_offset) by one
 * qt_r16_prep per block: -128 * (sum of the block's quants), which turns
 * the unsigned products back into signed ones exactly, and the block's
 * scale as a float. A kernel's result for (row r, token t) is
 *   acc = 0; for each block: acc = fma(d_r * d_t, (float)S, acc)
 * with S the exact integer dot product, whatever the number of tokens per
 * call: batched and single decodes give the same bits.
 */
#ifndef GLIMP_QUANT_R16_H
#define GLIMP_QUANT_R16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu.h"

#define QT_R16_ROWS 16   /* rows per group */
#define QT_R16_Q8_0_BLOCK (32 + 32 * QT_R16_ROWS) /* bytes of one Q8_0 block of a group */
#define QT_R16_TOKENS 8  /* most activation rows per kernel call */

/* For the SIMD kernels: CALL(k) with k = nt as a compile-time constant. */
#define QT_R16_BY_TOKENS(nt, CALL)                              \
    switch (nt) {                                               \
    case 1: CALL(1); break;                                     \
    case 2: CALL(2); break;                                     \
    case 3: CALL(3); break;                                     \
    case 4: CALL(4); break;                                     \
    case 5: CALL(5); break;                                     \
    case 6: CALL(6); break;                                     \
    case 7: CALL(7); break;                                     \
    default: CALL(8); break;                                    \
    }

typedef struct qt_r16_prep {
    int32_t corr; /* -128 * sum of the block's quants */
    float d;      /* the block's scale */
} qt_r16_prep;

/* s[t * s_stride + r] = dot(row r of the group, activation row t) for r <
 * QT_R16_ROWS, t < nt (1..QT_R16_TOKENS); act rows act_stride bytes apart,
 * prepared by qt_r16_prepare; n columns (a multiple of 32). */
typedef void (*qt_r16_fn)(int64_t n, float *s, size_t s_stride, const void *group,
                          const void *act, size_t act_stride, int nt);

/* One type's grouped layout: what packing, reading and multiplying need. */
typedef struct qt_r16_layout {
    uint32_t type;        /* ggml type id of the rows */
    int col_multiple;     /* a row's columns must be a multiple of this */
    cpu_level level;      /* the CPU level the kernel needs */
    qt_r16_fn dot;        /* the kernel */
    void (*pack)(const void *rows, size_t row_bytes, int64_t n, void *group);
    void (*row)(const void *group, int64_t n, int r, float *y);
    bool prep;            /* activation rows carry qt_r16_prepare's records */
} qt_r16_layout;

/* The layout of rows of `type` when this CPU has its kernel, else NULL
 * (the weights then stay row-major). */
const qt_r16_layout *qt_r16_layout_of(uint32_t type);

/* Q8_0. Scalar reference, bit for bit the same results. */
void qt_r16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                    size_t act_stride, int nt);
void qt_r16_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                       size_t act_stride, int nt);

/* Repacks QT_R16_ROWS Q8_0 rows (row_bytes apart, n columns) into a group. */
void qt_r16_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
/* Row r of a group, dequantized (the same floats as the Q8_0 row's). */
void qt_r16_row(const void *group, int64_t n, int r, float *y);

/* F16 rows in the same grouping: for each column k, the 16 rows' halves
 * (32 bytes). Activations are F32 rows as they are (no prep); a result is
 *   even = fma over even k of w * a, odd = the same over odd k; even + odd
 * for every token count (n even). */
void qt_r16_f16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group, const void *act,
                        size_t act_stride, int nt);
void qt_r16_f16_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                           const void *act, size_t act_stride, int nt);
void qt_r16_f16_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_f16_row(const void *group, int64_t n, int r, float *y);

/* BF16 rows, for vdpbf16ps (AVX-512 BF16 only): for each column pair, the
 * 16 rows' pairs (64 bytes). Activations are BF16 rows; a result is the sum
 * of two chains (even and odd column pairs) for every token count; n is a
 * multiple of 4. The instruction's internal rounding is the CPU's: the
 * reference agrees within float tolerance, the kernel with itself exactly. */
void qt_r16_bf16_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_bf16_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_bf16_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_bf16_row(const void *group, int64_t n, int r, float *y);

/* Q4_K and Q6_K rows (quant_k_r16.c), against Q8_K activation rows as they
 * are (no prep: the block's bsums serve). Per 256-column super-block a
 * group holds, Q4_K (QT_R16_Q4_K_BLOCK bytes): d[16] and dmin[16] as fp16;
 * sc[8][16] bytes, scale j of row r in the low 6 bits and the minimum's top
 * 2 bits above; m[4][16] bytes, the low 4 bits of minimums 2p and 2p + 1;
 * then 32 chunks of 64 bytes, chunk c holding columns 8c..8c+7: byte 4r + i
 * is column 8c + i of row r in its low nibble and column 8c + 4 + i in its
 * high one. Q6_K (QT_R16_Q6_K_BLOCK): d[16] fp16; scales[16][16] int8; the
 * low 4 bits of the quants in 32 chunks as Q4_K's; then their top 2 bits in
 * 16 chunks of 64 bytes, chunk h holding columns 16h..16h+15: bits 2s, 2s+1
 * of byte 4r + i for column 16h + 4s + i. Results, exactly:
 *   Q4_K: acc = fma(d_r * d_t, (float)Isum, acc); acc = fma(-(dmin_r * d_t),
 *         (float)Msum, acc), Isum = sum_j sc_j * (integer dot of sub-block j),
 *         Msum = sum_j m_j * (the token's quant sum over sub-block j);
 *   Q6_K: acc = fma(d_r * d_t, (float)Isum, acc), Isum = sum_j scale_j *
 *         sum over sub-block j of (q - 32) * a;
 * per super-block, whatever the number of tokens per call. */
#define QT_R16_Q4_K_BLOCK (16 * 144)
#define QT_R16_Q6_K_BLOCK (16 * 210)
void qt_r16_q4_k_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_q4_k_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_q4_k_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_q4_k_row(const void *group, int64_t n, int r, float *y);
void qt_r16_q6_k_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_q6_k_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_q6_k_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_q6_k_row(const void *group, int64_t n, int r, float *y);

/* Q4_0 and Q5_0 rows (quant_legacy_r16.c), against the Q8_0 activations and
 * prep records of Q8_0's layout. Per 32-column block a group holds d[16]
 * as fp16, then 4 chunks of 64 bytes as Q4_K's (chunk c: columns 8c..8c+7,
 * byte 4r + i with column 8c + i in its low nibble, 8c + 4 + i in its high
 * one); Q5_0 then 64 bytes of fifth bits, bit g of byte 4r + i for column
 * 4g + i. A result is Q8_0's formula with S the exact integer dot of
 * (q - 8), or (q - 16), with the token's quants. */
#define QT_R16_Q4_0_BLOCK (16 * 18)
#define QT_R16_Q5_0_BLOCK (16 * 22)
void qt_r16_q4_0_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_q4_0_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_q4_0_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_q4_0_row(const void *group, int64_t n, int r, float *y);
void qt_r16_q5_0_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_q5_0_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_q5_0_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_q5_0_row(const void *group, int64_t n, int r, float *y);

/* Q4_1 and Q5_1 rows (quant_legacy_r16.c), against Q8_1 activation rows as
 * they are (no prep records). Per 32-column block a group holds d[16], then
 * m[16] (fp16), then the quants as Q4_0's and Q5_0's (0..15, 0..31). A
 * result is acc = 0; for each block: acc = fma(d_r * d_t, (float)S, acc),
 * acc = fma(m_r, s_t, acc), S the exact integer dot of the quants with the
 * token's and s_t its block's stored d_t * sum. */
#define QT_R16_Q4_1_BLOCK (16 * 20)
#define QT_R16_Q5_1_BLOCK (16 * 24)
void qt_r16_q4_1_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_q4_1_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_q4_1_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_q4_1_row(const void *group, int64_t n, int r, float *y);
void qt_r16_q5_1_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                         const void *act, size_t act_stride, int nt);
void qt_r16_q5_1_dot_avx512(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt);
void qt_r16_q5_1_pack(const void *rows, size_t row_bytes, int64_t n, void *group);
void qt_r16_q5_1_row(const void *group, int64_t n, int r, float *y);

/* The reference of the 32-column block types (Q8_0, Q4_0, Q5_0): each
 * block's exact integer dot of quant(block, k, r) (the signed quant of
 * column k, row r) with the token's quants, then Q8_0's float steps. */
void qt_r16_block32_dot_ref(int64_t n, float *s, size_t s_stride, const void *group,
                            const void *act, size_t act_stride, int nt, size_t block,
                            int (*quant)(const uint8_t *block, int k, int r));

/* Offset of the prep records in an activation row of n columns, and the
 * row's bytes with them. */
size_t qt_r16_prep_offset(int64_t n);
size_t qt_r16_act_bytes(int64_t n);
/* Fills the prep records of a Q8_0 activation row of n columns. */
void qt_r16_prepare(void *act, int64_t n);

#endif
