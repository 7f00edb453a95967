/* attention.c - causal multi-head attention (GQA) over the session's KV cache.
 *
 * One task per (query token, head), handed out by an atomic counter. As in
 * llama.cpp without flash attention, q is rounded to the cache type before
 * q.k, the softmax runs in float with a double sum, and the probabilities
 * are rounded to the cache type before p.V; both products use the
 * dispatched vec_dot of the cache type (cache row x F32 operand). V is stored transposed,
 * (kv_dim, n_ctx), so p.V is one contiguous dot product per output
 * dimension. Cannot fail.
 */
#include <math.h>
#include <string.h>

#include "model/session.h"
#include "quant/quant.h"

typedef struct attention_job {
    glimp_session *s;
    int il;
    int64_t pos0, n;
    threadpool_counter ctr; /* over n * n_head tasks */
} attention_job;

/* The operand of a dot product with the cache: src itself for an F32
 * cache; for F16, src rounded through F16 into dst (llama.cpp converts it to
 * the cache type before the product). */
static const float *round_to_kv(const glimp_session *s, const float *src, int64_t n, float *dst)
{
    if (s->kv_type == QT_F32) return src;
    for (int64_t i = 0; i < n; i++) dst[i] = qt_f16_to_f32(qt_f32_to_f16(src[i]));
    return dst;
}

static void attention_task(const attention_job *j, int64_t task, float *scores, float *conv)
{
    const glimp_session *s = j->s;
    const model_hparams *hp = &s->model->hp;
    const int64_t hd = hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim;
    const int64_t q_dim = hp->n_head * hd;
    const int64_t i = task / hp->n_head, h = task % hp->n_head;
    const int64_t g = h / (hp->n_head / hp->n_head_kv); /* kv head */
    const int64_t n_kv = j->pos0 + i + 1;               /* causal: positions 0..pos */
    const size_t elt = s->kv_elt;
    qt_vec_dot_fn dot = qt_get(s->kv_type)->vec_dot;
    const uint8_t *K = s->k_cache + ((size_t)j->il * s->n_ctx * kv_dim + g * hd) * elt;
    const uint8_t *V = s->v_cache + ((size_t)j->il * kv_dim + g * hd) * s->n_ctx * elt;
    const float scale = 1.0f / sqrtf((float)hd);

    const float *qv = round_to_kv(s, s->q + i * q_dim + h * hd, hd, conv);
    float mx = -INFINITY;
    for (int64_t p = 0; p < n_kv; p++) {
        dot(hd, &scores[p], K + (size_t)p * kv_dim * elt, qv);
        scores[p] *= scale;
        if (scores[p] > mx) mx = scores[p];
    }
    double sum = 0.0;
    for (int64_t p = 0; p < n_kv; p++) {
        scores[p] = expf(scores[p] - mx);
        sum += scores[p];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t p = 0; p < n_kv; p++) scores[p] *= inv;

    const float *pv = round_to_kv(s, scores, n_kv, conv);
    float *out = s->att + i * q_dim + h * hd;
    for (int64_t d = 0; d < hd; d++) dot(n_kv, &out[d], V + (size_t)d * s->n_ctx * elt, pv);
}

static void attention_worker(void *p, int ith, int nth)
{
    attention_job *j = p;
    glimp_session *s = j->s;
    float *scores = s->att_scores + (size_t)ith * s->n_ctx;
    float *conv = s->att_conv + (size_t)ith * s->att_conv_len;
    int64_t b, e;
    (void)nth;
    while (threadpool_counter_next(&j->ctr, &b, &e))
        for (int64_t t = b; t < e; t++) attention_task(j, t, scores, conv);
}

void attention_run(glimp_session *s, threadpool *pool, int il, int64_t pos0, int64_t n)
{
    attention_job j = {.s = s, .il = il, .pos0 = pos0, .n = n};
    threadpool_counter_init(&j.ctr, n * s->model->hp.n_head, 1);
    threadpool_run(pool, attention_worker, &j);
}
