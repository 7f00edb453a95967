/* matmul.c - y = x W^T for a batch of activation rows, on the thread pool.
 *
 * As ggml does, the activations are first converted to the weight type's
 * vec_dot_type (Q8_0, Q8_1, Q8_K, F16, BF16; F32 weights use them as they
 * are), once per distinct type, then the dispatched kernels compute each
 * (token, weight row) dot product: the type's tile kernel where it has one
 * (up to QT_TILE rows x QT_TILE tokens per call, each weight block unpacked
 * once per tile), else vec_dot per pair. A tile's results are bit-identical
 * to vec_dot's, so an output never depends on the batch it was computed in
 * (prefill of A+B equals A then B, token for token). A batch of enough
 * tokens is cut into one part per thread (SPLIT_MIN_TOKENS), a smaller one
 * is one part; a part is cut into blocks of tokens whose activations fit in
 * a core's L2 (TOKEN_BLOCK_BYTES). Threads claim (part, token block, chunk
 * of weight rows) units from a threadpool_split, their own part first,
 * block after block, and run the block's tokens against a chunk while it is
 * hot in cache: prefill reads each weight once per token block, and each
 * thread's activations stay in its L2.
 * Cannot fail: shapes were checked at load, buffers sized at session start.
 */
#include <string.h>

#include "base/error.h"
#include "model/session.h"
#include "quant/quant.h"
#include "quant/quant_r16.h"

#define MAX_OUTS 4
#define ROWS_PER_CHUNK 16
_Static_assert(ROWS_PER_CHUNK % QT_R16_ROWS == 0, "a chunk holds whole repacked groups");
/* Decode (one token) claims whole runs of chunks of at least this many
 * weight bytes per counter fetch, so each thread streams long contiguous
 * stretches. Claiming one 16-row chunk (~15 KB of Q8_0 at 896 cols) at a
 * time interleaved the two threads' reads every few KB and bounced the
 * counter's cache line per chunk: 2-thread decode ran at ~35 t/s against 47
 * for one thread; 256 KiB claims give ~70 (bench/NOTES.md, Engine). The
 * rows each thread computes change, the bits do not (one vec_dot per row). */
#define DECODE_CLAIM_BYTES (256 * 1024)
/* Batches of fewer tokens than this (sessions decoding together) are still
 * bound by reading the weights, and claim as decode does (16 sessions on
 * repacked Q8_0, 0.5B, 2 threads: 360 t/s claiming chunk by chunk, 536 in
 * long stretches). */
#define SMALL_BATCH 32
/* Batches of fewer tokens than this take the row path (matmul_rows). */
#define TILE_MIN_TOKENS 4
/* Activation bytes of one token block (at least TOKEN_BLOCK_MIN tokens).
 * With all 512 tokens of a prefill at once, qwen3-1.7b's activations
 * (1.2-3.6 MB) spill from L2 and both threads stream them from L3 for
 * every chunk; its 2-thread prefill then ran 1.43-1.49x one thread in some
 * runs (bench/NOTES.md, Engine, issue 12). */
#define TOKEN_BLOCK_BYTES (512 * 1024)
#define TOKEN_BLOCK_MIN 32
/* Batches of at least this many tokens per thread are cut by tokens, one
 * part per thread (threadpool_split), each thread running its own tokens
 * against every weight row: a token's activations and outputs then stay in
 * the cache of the core that the norms, SwiGLU and the quantizer (which cut
 * the tokens the same way) run it on. Cut by weight rows instead, every
 * output row was written in 64-byte pieces by both cores in turn and read
 * back by both: on a 2-core VM the 2-thread pp512 of qwen3-0.6b Q8_0 ran
 * 1.4x one thread, 1.7x cut by tokens (bench/NOTES.md, eleventh stop).
 * Below it the weights, read once per part, cost more than the sharing
 * saves: pp32 (16 tokens a thread) +20% cut by tokens, pp16 -5%. */
#define SPLIT_MIN_TOKENS 16
/* Tokens per claim of the activation quantizer. */
#define QUANTIZE_CLAIM 4

typedef struct quantize_job {
    qt_from_float_fn quantize; /* to the target type (dispatched) */
    bool r16_prep;       /* also write the prep records of quant_r16.h */
    const float *x;
    int64_t x_stride;    /* floats */
    uint8_t *act;
    size_t act_stride;   /* bytes */
    int64_t cols;
    threadpool_split ctr; /* over tokens, one part per thread */
} quantize_job;

static void quantize_worker(void *p, int ith, int nth)
{
    quantize_job *j = p;
    int64_t b, e;
    int visited = 0;
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e))
        for (int64_t t = b; t < e; t++) {
            j->quantize(j->x + t * j->x_stride, j->act + (size_t)t * j->act_stride, j->cols);
            if (j->r16_prep) qt_r16_prepare(j->act + (size_t)t * j->act_stride, j->cols);
        }
}

typedef struct matmul_job {
    const uint8_t *act;  /* (n, act_stride bytes) input in the vec_dot type */
    size_t act_stride;
    int64_t n;
    int n_parts;                  /* token parts: 1, or one per thread */
    int64_t part_blocks;          /* token blocks per part */
    const matmul_out *outs[MAX_OUTS];
    int n_outs;
    int64_t chunk0[MAX_OUTS + 1]; /* first global chunk index of each output */
    threadpool_split ctr;         /* over (part, token block, global chunk) units */
} matmul_job;

/* Stores dot product d of token t with weight row r, plus bias, into the output. */
static inline void matmul_store(const matmul_out *o, int64_t t, int64_t r, float d)
{
    float *yt = o->y + t * o->y_stride;
    if (o->bias) d += o->bias[r];
    yt[r] = o->accumulate ? yt[r] + d : d;
}

/* Stores n consecutive results d of token t, rows r.. (a vectorisable
 * loop: the per-element store above cost 12% of a batched decode, most of
 * it on the output matrix's 151,936 rows per token). */
static inline void matmul_store_run(const matmul_out *o, int64_t t, int64_t r, const float *d, int n)
{
    float *yt = o->y + t * o->y_stride + r;
    const float *bias = o->bias ? o->bias + r : NULL;
    if (o->accumulate && bias)
        for (int i = 0; i < n; i++) yt[i] += d[i] + bias[i];
    else if (o->accumulate)
        for (int i = 0; i < n; i++) yt[i] += d[i];
    else if (bias)
        for (int i = 0; i < n; i++) yt[i] = d[i] + bias[i];
    else
        memcpy(yt, d, (size_t)n * sizeof *d);
}

/* Rows [r0, r1) of one output against tokens [t0, t1), tile by tile; the
 * rows are `rows` (row r0 first), row_bytes apart. */
static void matmul_rows_tiled(const matmul_job *j, const matmul_out *o, qt_tile_fn tile,
                              const uint8_t *rows, size_t row_bytes, int64_t r0, int64_t r1,
                              int64_t t0, int64_t t1)
{
    const model_matrix *w = o->w;
    float s[QT_TILE * QT_TILE]; /* (token, row) of one tile */
    for (int64_t t = t0; t < t1; t += QT_TILE) {
        const int nt = t1 - t < QT_TILE ? (int)(t1 - t) : QT_TILE;
        for (int64_t r = r0; r < r1; r += QT_TILE) {
            const int nr = r1 - r < QT_TILE ? (int)(r1 - r) : QT_TILE;
            tile(w->cols, s, QT_TILE, rows + (size_t)(r - r0) * row_bytes, row_bytes,
                 j->act + (size_t)t * j->act_stride, j->act_stride, nr, nt);
            for (int a = 0; a < nt; a++)
                for (int b = 0; b < nr; b++) matmul_store(o, t + a, r + b, s[a * QT_TILE + b]);
        }
    }
}

/* Rows [r0, r1) (whole groups) of a repacked output (quant_r16.h) against
 * tokens [t0, t1), up to QT_R16_TOKENS tokens per call. One kernel for every
 * batch size, decode included: a result never depends on the batch. */
static void matmul_rows_r16(const matmul_job *j, const matmul_out *o, int64_t r0, int64_t r1,
                            int64_t t0, int64_t t1)
{
    const model_matrix *w = o->w;
    const qt_r16_fn dot = w->r16->dot;
    float s[QT_R16_TOKENS * QT_R16_ROWS];
    for (int64_t r = r0; r < r1; r += QT_R16_ROWS) {
        const uint8_t *group = w->data + (size_t)r * w->row_bytes;
        for (int64_t t = t0; t < t1; t += QT_R16_TOKENS) {
            const int nt = t1 - t < QT_R16_TOKENS ? (int)(t1 - t) : QT_R16_TOKENS;
            const uint8_t *act = j->act + (size_t)t * j->act_stride;
            if (!o->bias && !o->accumulate) { /* straight into the output */
                dot(w->cols, o->y + t * o->y_stride + r, (size_t)o->y_stride, group, act,
                    j->act_stride, nt);
                continue;
            }
            dot(w->cols, s, QT_R16_ROWS, group, act, j->act_stride, nt);
            for (int a = 0; a < nt; a++) matmul_store_run(o, t + a, r, s + a * QT_R16_ROWS, QT_R16_ROWS);
        }
    }
}

/* Rows [r0, r1) of one output against tokens [t0, t1). */
static void matmul_rows(const matmul_job *j, const matmul_out *o, int64_t r0, int64_t r1,
                        int64_t t0, int64_t t1)
{
    const model_matrix *w = o->w;
    if (w->r16) {
        matmul_rows_r16(j, o, r0, r1, t0, t1);
        return;
    }
    const qt_traits *tr = qt_get(w->type);
    /* Decode, and a batch of 2-3 sessions' decodes, stream the weights
     * once from memory: row after row reads faster there than the 4
     * interleaved rows of a tile (measured 30 vs 12 GB/s), each row is dotted
     * with every token while it is in L1, and the results are the same bits
     * either way (0.5B Q8_0, 2 sessions batched: 1.03x -> 1.35x apart). */
    if (tr->tile && j->n >= TILE_MIN_TOKENS) {
        matmul_rows_tiled(j, o, tr->tile, w->data + (size_t)r0 * w->row_bytes, w->row_bytes, r0,
                          r1, t0, t1);
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = w->data + (size_t)r * w->row_bytes;
        for (int64_t t = t0; t < t1; t++) {
            float d;
            tr->vec_dot(w->cols, &d, wr, j->act + (size_t)t * j->act_stride);
            matmul_store(o, t, r, d);
        }
    }
}

/* Tokens [*t0, *t1) of global token block gb (part gb / part_blocks): the
 * part's even cut into part_blocks blocks, rounded down to whole kernel
 * calls (QT_R16_TOKENS) but for the part's end. */
static void block_tokens(const matmul_job *j, int64_t gb, int64_t *t0, int64_t *t1)
{
    const int64_t part = gb / j->part_blocks, k = gb % j->part_blocks, nb = j->part_blocks;
    const int64_t p0 = j->n * part / j->n_parts, len = j->n * (part + 1) / j->n_parts - p0;
    *t0 = p0 + len * k / nb / QT_R16_TOKENS * QT_R16_TOKENS;
    *t1 = k + 1 == nb ? p0 + len : p0 + len * (k + 1) / nb / QT_R16_TOKENS * QT_R16_TOKENS;
}

static void matmul_worker(void *p, int ith, int nth)
{
    matmul_job *j = p;
    int64_t b, e, block = -1, t0 = 0, t1 = 0;
    int visited = 0;
    const int64_t n_chunks = j->chunk0[j->n_outs];
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e)) {
        for (int64_t u = b; u < e; u++) {
            const int64_t gb = u / n_chunks, c = u - gb * n_chunks;
            if (gb != block) block_tokens(j, block = gb, &t0, &t1);
            int i = 0;
            while (c >= j->chunk0[i + 1]) i++;
            const matmul_out *o = j->outs[i];
            int64_t r0 = (c - j->chunk0[i]) * ROWS_PER_CHUNK;
            int64_t r1 = r0 + ROWS_PER_CHUNK < o->w->rows ? r0 + ROWS_PER_CHUNK : o->w->rows;
            matmul_rows(j, o, r0, r1, t0, t1);
        }
    }
}

/* Runs the outputs whose weights share vec_dot type `vdt`. */
static void matmul_group(glimp_session *s, const float *x, int64_t x_stride, int64_t n,
                         const matmul_out *outs, int n_outs, uint32_t vdt)
{
    matmul_job j = {.n = n};
    int64_t cols = 0;
    bool r16 = false;
    for (int i = 0; i < n_outs; i++) {
        if (qt_get(outs[i].w->type)->vec_dot_type != vdt) continue;
        GLIMP_ASSERT(j.n_outs < MAX_OUTS);
        cols = outs[i].w->cols;
        r16 |= outs[i].w->r16 && outs[i].w->r16->prep;
        j.outs[j.n_outs] = &outs[i];
        j.chunk0[j.n_outs + 1] =
            j.chunk0[j.n_outs] + (outs[i].w->rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        j.n_outs++;
    }
    if (vdt == QT_F32) {
        j.act = (const uint8_t *)x;
        j.act_stride = (size_t)x_stride * sizeof(float);
    } else {
        const qt_traits *vt = qt_get(vdt);
        quantize_job q = {.quantize = vt->quantize ? vt->quantize : vt->from_float,
                          .x = x, .x_stride = x_stride, .act = s->act,
                          .act_stride = s->act_row_bytes, .cols = cols, .r16_prep = r16};
        threadpool_split_init(&q.ctr, n, QUANTIZE_CLAIM, threadpool_n_threads(s->pool));
        if (n == 1)
            quantize_worker(&q, 0, 1);
        else
            threadpool_run(s->pool, quantize_worker, &q);
        j.act = s->act;
        j.act_stride = s->act_row_bytes;
    }
    int64_t per_claim = 1;
    if (n < SMALL_BATCH) {
        const int64_t chunk_bytes = ROWS_PER_CHUNK * (int64_t)j.outs[0]->w->row_bytes;
        per_claim = (DECODE_CLAIM_BYTES + chunk_bytes - 1) / chunk_bytes;
    }
    const int nth = threadpool_n_threads(s->pool);
    j.n_parts = n >= (int64_t)nth * SPLIT_MIN_TOKENS ? nth : 1;
    if (j.n_parts > THREADPOOL_MAX_PARTS) j.n_parts = THREADPOOL_MAX_PARTS;
    int64_t t_block = (int64_t)(TOKEN_BLOCK_BYTES / (j.act_stride ? j.act_stride : 1));
    if (t_block < TOKEN_BLOCK_MIN) t_block = TOKEN_BLOCK_MIN;
    const int64_t part_len = (n + j.n_parts - 1) / j.n_parts; /* the longest part */
    j.part_blocks = (part_len + t_block - 1) / t_block;
    threadpool_split_init(&j.ctr, j.n_parts * j.part_blocks * j.chunk0[j.n_outs], per_claim,
                          j.n_parts);
    threadpool_run(s->pool, matmul_worker, &j);
}

void matmul_run(glimp_session *s, const float *x, int64_t x_stride, int64_t n,
                const matmul_out *outs, int n_outs)
{
    uint32_t done[MAX_OUTS];
    int n_done = 0;
    GLIMP_ASSERT(n_outs >= 1 && n_outs <= MAX_OUTS);
    for (int i = 0; i < n_outs; i++) {
        GLIMP_ASSERT(outs[i].w->cols == outs[0].w->cols);
        uint32_t vdt = qt_get(outs[i].w->type)->vec_dot_type;
        bool seen = false;
        for (int k = 0; k < n_done; k++) seen |= done[k] == vdt;
        if (seen) continue;
        done[n_done++] = vdt;
        matmul_group(s, x, x_stride, n, outs, n_outs, vdt);
    }
}
