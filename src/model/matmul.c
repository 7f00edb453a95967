/* matmul.c - y = x W^T for a batch of activation rows, on the thread pool.
 *
 * As ggml does, the activations are first converted to the weight type's
 * vec_dot_type (Q8_0, Q8_1, Q8_K, F16, BF16; F32 weights use them as they
 * are), once per distinct type, then the dispatched kernels compute each
 * (token, weight row) dot product: the type's tile kernel where it has one
 * (up to QT_TILE rows x QT_TILE tokens per call, each weight block unpacked
 * once per tile), else vec_dot per pair. F16 weights (where the traits have
 * `widen`) are widened to F32 once per chunk of rows into the thread's
 * scratch and run through F32's tile kernel. A tile's results are bit-identical
 * to vec_dot's, so an output never depends on the batch it was computed in
 * (prefill of A+B equals A then B, token for token). Threads claim chunks of
 * weight rows from an atomic counter and run every token of the batch
 * against a chunk while it is hot in cache, so prefill reads each weight
 * once per batch.
 * Cannot fail: shapes were checked at load, buffers sized at session start.
 */
#include <string.h>

#include "base/error.h"
#include "model/session.h"
#include "quant/quant.h"

#define MAX_OUTS 4
#define ROWS_PER_CHUNK MATMUL_ROWS_PER_CHUNK
/* Decode (one token) claims whole runs of chunks of at least this many
 * weight bytes per counter fetch, so each thread streams long contiguous
 * stretches. Claiming one 16-row chunk (~15 KB of Q8_0 at 896 cols) at a
 * time interleaved the two threads' reads every few KB and bounced the
 * counter's cache line per chunk: 2-thread decode ran at ~35 t/s against 47
 * for one thread; 256 KiB claims give ~70 (bench/NOTES.md, Engine). The
 * rows each thread computes change, the bits do not (one vec_dot per row). */
#define DECODE_CLAIM_BYTES (256 * 1024)

typedef struct quantize_job {
    qt_from_float_fn quantize; /* to the target type (dispatched) */
    const float *x;
    int64_t x_stride;    /* floats */
    uint8_t *act;
    size_t act_stride;   /* bytes */
    int64_t cols;
    threadpool_counter ctr; /* over tokens */
} quantize_job;

static void quantize_worker(void *p, int ith, int nth)
{
    quantize_job *j = p;
    int64_t b, e;
    (void)ith, (void)nth;
    while (threadpool_counter_next(&j->ctr, &b, &e))
        for (int64_t t = b; t < e; t++)
            j->quantize(j->x + t * j->x_stride, j->act + (size_t)t * j->act_stride, j->cols);
}

typedef struct matmul_job {
    glimp_session *s;
    const uint8_t *act;  /* (n, act_stride bytes) input in the vec_dot type */
    size_t act_stride;
    int64_t n;
    const matmul_out *outs[MAX_OUTS];
    int n_outs;
    int64_t chunk0[MAX_OUTS + 1]; /* first global chunk index of each output */
    threadpool_counter ctr;       /* over global chunk indices */
} matmul_job;

/* Stores dot product d of token t with weight row r, plus bias, into the output. */
static inline void matmul_store(const matmul_out *o, int64_t t, int64_t r, float d)
{
    float *yt = o->y + t * o->y_stride;
    if (o->bias) d += o->bias[r];
    yt[r] = o->accumulate ? yt[r] + d : d;
}

/* Rows [r0, r1) of one output against every token, tile by tile; the rows
 * are `rows` (row r0 first), row_bytes apart. */
static void matmul_rows_tiled(const matmul_job *j, const matmul_out *o, qt_tile_fn tile,
                              const uint8_t *rows, size_t row_bytes, int64_t r0, int64_t r1)
{
    const model_matrix *w = o->w;
    float s[QT_TILE * QT_TILE]; /* (token, row) of one tile */
    for (int64_t t = 0; t < j->n; t += QT_TILE) {
        const int nt = j->n - t < QT_TILE ? (int)(j->n - t) : QT_TILE;
        for (int64_t r = r0; r < r1; r += QT_TILE) {
            const int nr = r1 - r < QT_TILE ? (int)(r1 - r) : QT_TILE;
            tile(w->cols, s, QT_TILE, rows + (size_t)(r - r0) * row_bytes, row_bytes,
                 j->act + (size_t)t * j->act_stride, j->act_stride, nr, nt);
            for (int a = 0; a < nt; a++)
                for (int b = 0; b < nr; b++) matmul_store(o, t + a, r + b, s[a * QT_TILE + b]);
        }
    }
}

static void matmul_rows(const matmul_job *j, const matmul_out *o, int64_t r0, int64_t r1, int ith)
{
    const model_matrix *w = o->w;
    const qt_traits *tr = qt_get(w->type);
    /* One token (decode) streams the weights once from memory: row after
     * row reads faster there than the 4 interleaved rows of a tile (measured
     * 30 vs 12 GB/s), and the results are the same bits either way. F16 is
     * widened once per chunk here rather than per tile by its own tile. */
    if (tr->widen && j->n > 1) {
        float *f = j->s->widened + (size_t)ith * ROWS_PER_CHUNK * j->s->widened_cols;
        for (int64_t r = r0; r < r1; r++)
            tr->widen(w->data + (size_t)r * w->row_bytes, f + (r - r0) * w->cols, w->cols);
        matmul_rows_tiled(j, o, qt_get(QT_F32)->tile, (const uint8_t *)f,
                          (size_t)w->cols * sizeof(float), r0, r1);
        return;
    }
    if (tr->tile && j->n > 1) {
        matmul_rows_tiled(j, o, tr->tile, w->data + (size_t)r0 * w->row_bytes, w->row_bytes, r0, r1);
        return;
    }
    for (int64_t t = 0; t < j->n; t++) {
        const uint8_t *xt = j->act + (size_t)t * j->act_stride;
        for (int64_t r = r0; r < r1; r++) {
            float d;
            tr->vec_dot(w->cols, &d, w->data + (size_t)r * w->row_bytes, xt);
            matmul_store(o, t, r, d);
        }
    }
}

static void matmul_worker(void *p, int ith, int nth)
{
    matmul_job *j = p;
    int64_t b, e;
    (void)nth;
    while (threadpool_counter_next(&j->ctr, &b, &e)) {
        for (int64_t c = b; c < e; c++) {
            int i = 0;
            while (c >= j->chunk0[i + 1]) i++;
            const matmul_out *o = j->outs[i];
            int64_t r0 = (c - j->chunk0[i]) * ROWS_PER_CHUNK;
            int64_t r1 = r0 + ROWS_PER_CHUNK < o->w->rows ? r0 + ROWS_PER_CHUNK : o->w->rows;
            matmul_rows(j, o, r0, r1, ith);
        }
    }
}

/* Runs the outputs whose weights share vec_dot type `vdt`. */
static void matmul_group(glimp_session *s, const float *x, int64_t x_stride, int64_t n,
                         const matmul_out *outs, int n_outs, uint32_t vdt)
{
    matmul_job j = {.s = s, .n = n};
    int64_t cols = 0;
    for (int i = 0; i < n_outs; i++) {
        if (qt_get(outs[i].w->type)->vec_dot_type != vdt) continue;
        GLIMP_ASSERT(j.n_outs < MAX_OUTS);
        cols = outs[i].w->cols;
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
                          .act_stride = s->act_row_bytes, .cols = cols};
        threadpool_counter_init(&q.ctr, n, 1);
        if (n == 1)
            quantize_worker(&q, 0, 1);
        else
            threadpool_run(s->pool, quantize_worker, &q);
        j.act = s->act;
        j.act_stride = s->act_row_bytes;
    }
    int64_t per_claim = 1;
    if (n == 1) {
        const int64_t chunk_bytes = ROWS_PER_CHUNK * (int64_t)j.outs[0]->w->row_bytes;
        per_claim = (DECODE_CLAIM_BYTES + chunk_bytes - 1) / chunk_bytes;
    }
    threadpool_counter_init(&j.ctr, j.chunk0[j.n_outs], per_claim);
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
