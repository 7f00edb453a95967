/* attention.c - causal multi-head attention (GQA) over the session's KV cache.
 *
 * One task per (query token, KV head): the n_rep query heads that share a
 * KV head are computed together, so each cache row is read from memory
 * once per token for all of them (then from L1 for the others). q is
 * converted to the operand type of the cache's vec_dot before q.k (float
 * caches: F32 as it is; Q8_0: quantized to Q8_0, as llama.cpp does), and
 * the softmax (vecmath.h) runs in float with a double sum. Scores and
 * p.V use the cache type's tile kernel (up to 4 positions or dims x 4
 * heads per call) where it has one, else its vec_dot per pair; tiles give
 * the vec_dot's bits, so the result does not depend on which was used.
 *
 * V layout: float caches store V transposed, (kv_dim, n_ctx), and p.V is a
 * dot product per output dimension with the float probabilities (llama.cpp
 * without flash attention rounds q and them to F16 first; not rounding is
 * closer to the exact result and skips a pass). A Q8_0 cache stores V
 * by position like K (blocks of 32 along the head dims) and adds p * V row
 * by row into float accumulators (qt_mad), the probabilities unrounded.
 * Cannot fail.
 */
#include <math.h>
#include <string.h>

#include "model/session.h"
#include "model/vecmath.h"
#include "quant/quant.h"

typedef struct attention_job {
    glimp_session *s;
    int il;
    int64_t pos0, n;
    threadpool_counter ctr; /* over n * n_head_kv tasks */
} attention_job;

/* Rows (len floats each, x_stride apart) of x as the operand of the cache
 * type's vec_dot: x itself for float caches, else quantized into dst;
 * returns the operand and its row stride in bytes. */
static const uint8_t *kv_operand(uint32_t kv_type, const float *x, int64_t rows, int64_t len,
                                 int64_t x_stride, void *dst, size_t *stride)
{
    const qt_traits *vt = qt_get(qt_get(kv_type)->vec_dot_type);
    if (vt->blck_size == 1) { /* F32 */
        *stride = (size_t)x_stride * sizeof(float);
        return (const uint8_t *)x;
    }
    *stride = (size_t)(len / vt->blck_size * vt->type_size);
    for (int64_t r = 0; r < rows; r++)
        vt->quantize(x + r * x_stride, (uint8_t *)dst + r * *stride, len);
    return dst;
}

/* out[t * out_stride + r] = dot(row r of x, row t of y) for r < nx, t < ny
 * (x: cache rows of type tr, y: operand rows), by tiles where tr has one. */
static void dots(const qt_traits *tr, int64_t len, float *out, size_t out_stride, const uint8_t *x,
                 size_t x_stride, int64_t nx, const uint8_t *y, size_t y_stride, int64_t ny)
{
    for (int64_t r = 0; r < nx; r += QT_TILE) {
        const int nr = nx - r < QT_TILE ? (int)(nx - r) : QT_TILE;
        for (int64_t t = 0; t < ny; t += QT_TILE) {
            const int nt = ny - t < QT_TILE ? (int)(ny - t) : QT_TILE;
            if (tr->tile) {
                tr->tile(len, out + t * out_stride + r, out_stride, x + r * x_stride, x_stride,
                         y + t * y_stride, y_stride, nr, nt);
                continue;
            }
            for (int a = 0; a < nt; a++)
                for (int b = 0; b < nr; b++)
                    tr->vec_dot(len, out + (t + a) * out_stride + r + b, x + (r + b) * x_stride,
                                y + (t + a) * y_stride);
        }
    }
}

static void attention_task(const attention_job *j, int64_t task, float *scores, uint8_t *conv)
{
    const glimp_session *s = j->s;
    const model_hparams *hp = &s->model->hp;
    const int64_t hd = hp->head_dim, n_rep = hp->n_head / hp->n_head_kv;
    const int64_t q_dim = hp->n_head * hd, nc = s->n_ctx;
    const int64_t i = task / hp->n_head_kv, g = task % hp->n_head_kv;
    const int64_t n_kv = j->pos0 + i + 1; /* causal: positions 0..pos */
    const qt_traits *tr = qt_get(s->kv_type);
    const size_t head_bytes = s->kv_row_bytes / (size_t)hp->n_head_kv;
    const uint8_t *K = s->k_cache + ((size_t)j->il * nc) * s->kv_row_bytes + g * head_bytes;
    const float scale = 1.0f / sqrtf((float)hd);
    float *out = s->att + i * q_dim + g * n_rep * hd; /* the group's heads, hd apart */

    size_t q_stride;
    const uint8_t *q = kv_operand(s->kv_type, s->q + i * q_dim + g * n_rep * hd, n_rep, hd, hd,
                                  conv, &q_stride);
    dots(tr, hd, scores, (size_t)nc, K, s->kv_row_bytes, n_kv, q, q_stride, n_rep);
    for (int64_t h = 0; h < n_rep; h++) vm_softmax(scores + h * nc, n_kv, scale);

    if (s->v_trans) {
        const size_t vrow = (size_t)nc * s->kv_elt;
        const uint8_t *V = s->v_cache + ((size_t)j->il * hp->n_head_kv + g) * hd * vrow;
        size_t p_stride;
        const uint8_t *pr = kv_operand(s->kv_type, scores, n_rep, n_kv, nc, conv, &p_stride);
        dots(tr, n_kv, out, (size_t)hd, V, vrow, hd, pr, p_stride, n_rep);
        return;
    }
    const uint8_t *V = s->v_cache + ((size_t)j->il * nc) * s->kv_row_bytes + g * head_bytes;
    memset(out, 0, (size_t)(n_rep * hd) * sizeof *out);
    tr->mad(hd, out, (size_t)hd, (int)n_rep, scores, (size_t)nc, V, s->kv_row_bytes, n_kv);
}

static void attention_worker(void *p, int ith, int nth)
{
    attention_job *j = p;
    glimp_session *s = j->s;
    float *scores = s->att_scores + (size_t)ith * s->att_scores_len;
    uint8_t *conv = (uint8_t *)(s->att_conv + (size_t)ith * s->att_conv_len);
    int64_t b, e;
    (void)nth;
    while (threadpool_counter_next(&j->ctr, &b, &e))
        for (int64_t t = b; t < e; t++) attention_task(j, t, scores, conv);
}

void attention_run(glimp_session *s, threadpool *pool, int il, int64_t pos0, int64_t n)
{
    attention_job j = {.s = s, .il = il, .pos0 = pos0, .n = n};
    threadpool_counter_init(&j.ctr, n * s->model->hp.n_head_kv, 1);
    threadpool_run(pool, attention_worker, &j);
}
