/* quant_blocks.h - byte layouts of the quantized block formats (internal).
 *
 * These are the blocks GGUF files store, byte for byte as ggml defines them
 * (ggml-common.h): every struct is packed and its size checked at compile
 * time, so a layout mistake fails the build, not a model. Half-precision
 * fields are raw IEEE binary16 bits (qt_f16_to_f32). Q8_1 and Q8_K are
 * activation formats: rows of those types are only ever made by
 * quantizing F32 activations before a dot product.
 */
#ifndef GLIMP_QUANT_BLOCKS_H
#define GLIMP_QUANT_BLOCKS_H

#include <stdint.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256       /* super-block of the K-quants */
#define K_SCALE_SIZE 12 /* packed 6-bit scales and mins of Q4_K/Q5_K */

#define QT_PACKED __attribute__((packed))

/* x = d * (q - 8), q in 0..15; element j in low nibble of qs[j], j+16 in
 * the high nibble. */
typedef struct QT_PACKED {
    uint16_t d;              /* fp16 scale */
    uint8_t qs[QK4_0 / 2];
} block_q4_0;

/* x = d * q + m, q in 0..15, nibble order as Q4_0. */
typedef struct QT_PACKED {
    uint16_t d;              /* fp16 scale */
    uint16_t m;              /* fp16 minimum */
    uint8_t qs[QK4_1 / 2];
} block_q4_1;

/* x = d * (q - 16), q in 0..31: low 4 bits as Q4_0, bit 4 of element j is
 * bit j of the little-endian 32-bit qh. */
typedef struct QT_PACKED {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
} block_q5_0;

/* x = d * q + m, q in 0..31, bits as Q5_0. */
typedef struct QT_PACKED {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
} block_q5_1;

/* x = d * q, q in -127..127 (as weights; activations the same). */
typedef struct QT_PACKED {
    uint16_t d;
    int8_t qs[QK8_0];
} block_q8_0;

/* Activation block for Q4_1/Q5_1: s = d * sum(qs), both fp16. */
typedef struct QT_PACKED {
    uint16_t d;
    uint16_t s;
    int8_t qs[QK8_1];
} block_q8_1;

/* 16 sub-blocks of 16: x = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4),
 * q in 0..3. Element 128*h + 32*s + l (h in 0..1, s in 0..3, l in 0..31) is
 * bits 2s..2s+1 of qs[32*h + l]. */
typedef struct QT_PACKED {
    uint8_t scales[QK_K / 16];
    uint8_t qs[QK_K / 4];
    uint16_t d;
    uint16_t dmin;
} block_q2_K;

/* 16 sub-blocks of 16: x = d * (sc_j - 32) * (q - 4 * !hbit), q (2 bits) as
 * Q2_K; hbit of element 32*k + l is bit k of hmask[l]; sc_j are 6-bit values
 * packed into scales[12] (low nibbles in bytes 0..7, top 2 bits in 8..11). */
typedef struct QT_PACKED {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} block_q3_K;

/* 8 sub-blocks of 32: x = d * sc_j * q - dmin * m_j, q in 0..15; element
 * 64*p + l is the low nibble of qs[32*p + l], 64*p + 32 + l the high one;
 * 6-bit sc_j/m_j packed into scales[12] (qt_k_scale_min). */
typedef struct QT_PACKED {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qs[QK_K / 2];
} block_q4_K;

/* As Q4_K with a fifth bit: bit 4 of element 64*p + l is bit 2p of qh[l],
 * of element 64*p + 32 + l bit 2p+1. */
typedef struct QT_PACKED {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_K;

/* 16 sub-blocks of 16: x = d * scales[j] * (q - 32), q in 0..63. In each
 * half h (128 elements): element 32*s + l (s in 0..3) has its low 4 bits in
 * ql[64*h + l + 32*(s&1)] (low nibble for s<2, high for s>=2) and its top 2
 * bits at bits 2s..2s+1 of qh[32*h + l]. */
typedef struct QT_PACKED {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d;
} block_q6_K;

/* Activation block for the K-quants: x = d * q; bsums[j] = sum of the 16
 * quants of group j (lets kernels apply the K-quant minimums cheaply). */
typedef struct QT_PACKED {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 layout");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 layout");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1 layout");
_Static_assert(sizeof(block_q2_K) == 84, "q2_K layout");
_Static_assert(sizeof(block_q3_K) == 110, "q3_K layout");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K layout");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K layout");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K layout");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K layout");

/* The 6-bit scale and minimum of sub-block j (0..7) of Q4_K/Q5_K: j < 4 sit
 * in the low 6 bits of bytes j and j+4; j >= 4 take their low nibbles from
 * byte j+4 and their top 2 bits from the top of bytes j-4 and j. */
static inline void qt_k_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* The 16 signed 6-bit scales of a Q3_K block, minus 32 (-32..31). */
static inline void qt_q3_k_scales(const uint8_t *s, int8_t out[16])
{
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

/* Round to nearest, ties to even, for |v| < 2^22 (what quantizers need):
 * adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits.
 * Never undefined, even for NaN (the result is then meaningless but
 * bounded, and quantizers clamp it). */
static inline int qt_nearest_int(float v)
{
    float t = v + 12582912.0f;
    int32_t i;
    __builtin_memcpy(&i, &t, sizeof i);
    return (i & 0x007FFFFF) - 0x00400000;
}

static inline int qt_clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The value of largest magnitude among x[0..n) (first one on ties), sign
 * kept; 0 when all are 0. */
static inline float qt_signed_absmax(const float *x, int n)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        float a = __builtin_fabsf(x[j]);
        if (a > amax) {
            amax = a;
            max = x[j];
        }
    }
    return max;
}

#endif
