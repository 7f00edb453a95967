/* forward.c - the transformer forward pass of one chunk of tokens, or of
 * several sessions' chunks stacked into one pass (a batch).
 *
 * llama / qwen2 / qwen3 blocks, pre-norm:
 *   h = rmsnorm(x) * attn_norm
 *   q, k, v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv)
 *   qwen3: per-head rmsnorm(q) * q_norm, rmsnorm(k) * k_norm
 *   rope(q, k) (adjacent pairs for llama, NeoX halves for qwen), k/v -> cache
 *   x += attention(q, cache) Wo^T
 *   h = rmsnorm(x) * ffn_norm
 *   x += (silu(h Wgate^T) * (h Wup^T)) Wdown^T
 * logits = (rmsnorm(x) * output_norm) Wout^T for the requested rows.
 * In a batch the rows of every segment are stacked in the carrier's scratch,
 * so each matmul reads the weights once for all of them; the per-position
 * parts (q/k norms and rope at the segment's positions, the KV store and
 * attention over the segment's own cache) run per segment on its session.
 * Every row's result is the same as when its session runs alone.
 * Cannot fail: session.c / batch.c validated the tokens and sized every
 * buffer.
 */
#include <math.h>
#include <string.h>

#include "model/session.h"
#include "model/vecmath.h"
#include "quant/quant.h"

/* y = x / sqrt(mean(x^2) + eps) * w over n elements (sum in double). */
static void rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

/* cos/sin of every rotated pair for the chunk's positions: rope[i][2k..2k+1]
 * = cos, sin of pos * base^(-2k/n_rot) / freq_factor[k]. */
static void rope_table(glimp_session *s, int64_t pos0, int64_t n)
{
    const glimp_model *m = s->model;
    const int64_t n_rot = m->hp.n_rot;
    for (int64_t i = 0; i < n; i++) {
        float *cs = s->rope + i * n_rot;
        for (int64_t k = 0; k < n_rot / 2; k++) {
            double inv_freq = pow((double)m->hp.rope_base, -2.0 * (double)k / (double)n_rot);
            if (m->rope_freqs) inv_freq /= m->rope_freqs[k];
            const double theta = (double)(pos0 + i) * inv_freq;
            cs[2 * k] = (float)cos(theta);
            cs[2 * k + 1] = (float)sin(theta);
        }
    }
}

/* Rotates the first n_rot dims of each of n_heads heads of one token. */
static void rope_apply(const model_hparams *hp, float *v, int64_t n_heads, const float *cs)
{
    const int64_t half = hp->n_rot / 2;
    for (int64_t h = 0; h < n_heads; h++) {
        float *x = v + h * hp->head_dim;
        for (int64_t k = 0; k < half; k++) {
            const int64_t a = hp->rope_neox ? k : 2 * k, b = hp->rope_neox ? k + half : 2 * k + 1;
            const float c = cs[2 * k], sn = cs[2 * k + 1], x0 = x[a], x1 = x[b];
            x[a] = x0 * c - x1 * sn;
            x[b] = x0 * sn + x1 * c;
        }
    }
}

/* Writes rows [i0, i1) of the session's k and v scratch into layer il's
 * cache at positions pos0 + i: float types with V transposed, Q8_0 rows for
 * both. */
static void kv_store(glimp_session *s, int il, int64_t pos0, int64_t i0, int64_t i1)
{
    const int64_t kv_dim = s->model->hp.n_head_kv * s->model->hp.head_dim;
    const qt_traits *tr = qt_get(s->kv_type);
    for (int64_t i = i0; i < i1; i++) {
        const size_t pos = (size_t)(pos0 + i);
        const float *k = s->k + i * kv_dim, *v = s->v + i * kv_dim;
        const size_t row = ((size_t)il * s->n_ctx + pos) * s->kv_row_bytes;
        const size_t vcol = (size_t)il * kv_dim * s->n_ctx + pos;
        tr->quantize(k, s->k_cache + row, kv_dim);
        if (!s->v_trans) {
            tr->quantize(v, s->v_cache + row, kv_dim);
        } else if (s->kv_type == QT_F32) {
            float *V = (float *)s->v_cache;
            for (int64_t d = 0; d < kv_dim; d++) V[vcol + d * s->n_ctx] = v[d];
        } else {
            uint16_t *V = (uint16_t *)s->v_cache, h[256];
            for (int64_t d0 = 0; d0 < kv_dim; d0 += 256) {
                const int64_t len = kv_dim - d0 < 256 ? kv_dim - d0 : 256;
                tr->quantize(v + d0, h, len);
                for (int64_t d = 0; d < len; d++) V[vcol + (d0 + d) * s->n_ctx] = h[d];
            }
        }
    }
}

/* Tokens per counter claim of the per-token jobs below (norms, SwiGLU, q/k
 * norms + rope + KV store): one token's work is about what a claim costs
 * when the two threads take turns at the counter's cache line. Like the
 * matmuls (matmul.c), these jobs cut the tokens into one part per thread
 * (threadpool_split), so a token's rows stay in the cache of the core that
 * computed them. */
#define TOKENS_PER_CLAIM 8

typedef struct norm_job {
    float *y;           /* (n, n_embd) out */
    const float *x;     /* (n, n_embd) in */
    const float *w;
    int64_t n_embd;
    float eps;
    threadpool_split ctr; /* over tokens */
} norm_job;

static void norm_worker(void *p, int ith, int nth)
{
    norm_job *j = p;
    int64_t b, e;
    int visited = 0;
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e))
        for (int64_t i = b; i < e; i++)
            rmsnorm(j->y + i * j->n_embd, j->x + i * j->n_embd, j->w, j->n_embd, j->eps);
}

/* h = rmsnorm(x) * w for n tokens, on the pool when there are several. */
static void norm_rows(glimp_session *s, float *y, const float *x, const float *w, int64_t n)
{
    const model_hparams *hp = &s->model->hp;
    norm_job j = {.y = y, .x = x, .w = w, .n_embd = hp->n_embd, .eps = hp->rms_eps};
    threadpool_split_init(&j.ctr, n, TOKENS_PER_CLAIM, threadpool_n_threads(s->pool));
    if (n == 1)
        norm_worker(&j, 0, 1);
    else
        threadpool_run(s->pool, norm_worker, &j);
}

typedef struct swiglu_job {
    float *gate;        /* (n, n_ff): in gate, out silu(gate) * up */
    const float *up;    /* (n, n_ff) */
    int64_t n_ff;
    threadpool_split ctr; /* over rows */
} swiglu_job;

static void swiglu_worker(void *p, int ith, int nth)
{
    swiglu_job *j = p;
    int64_t b, e;
    int visited = 0;
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e))
        vm_swiglu(j->gate + b * j->n_ff, j->up + b * j->n_ff, (e - b) * j->n_ff);
}

typedef struct qk_job {
    glimp_session *s;     /* rows in its q, k, v scratch; its rope table and cache */
    const model_layer *L;
    int il;
    threadpool_split ctr; /* over the segment's tokens */
} qk_job;

/* q/k norms and rope of the claimed tokens, then their k and v rows into
 * the cache. */
static void qk_worker(void *p, int ith, int nth)
{
    qk_job *j = p;
    glimp_session *s = j->s;
    const model_hparams *hp = &s->model->hp;
    const int64_t hd = hp->head_dim, q_dim = hp->n_head * hd, kv_dim = hp->n_head_kv * hd;
    int64_t b, e;
    int visited = 0;
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e)) {
        for (int64_t i = b; i < e; i++) {
            float *q = s->q + i * q_dim, *k = s->k + i * kv_dim;
            if (j->L->q_norm) {
                for (int64_t h = 0; h < hp->n_head; h++)
                    rmsnorm(q + h * hd, q + h * hd, j->L->q_norm, hd, hp->rms_eps);
                for (int64_t h = 0; h < hp->n_head_kv; h++)
                    rmsnorm(k + h * hd, k + h * hd, j->L->k_norm, hd, hp->rms_eps);
            }
            rope_apply(hp, q, hp->n_head, s->rope + i * hp->n_rot);
            rope_apply(hp, k, hp->n_head_kv, s->rope + i * hp->n_rot);
        }
        kv_store(s, j->il, s->n_tokens, b, e);
    }
}

/* q/k norms, rope, KV store and attention of one segment, whose rows start
 * at row `off` of the carrier's q, k, v and att. Both run on the pool cut
 * by tokens, as the matmuls are. */
static void segment_attention(glimp_session *c, const forward_seg *g, int64_t off, int il)
{
    glimp_session *s = g->s;
    const model_hparams *hp = &s->model->hp;
    const int64_t hd = hp->head_dim, q_dim = hp->n_head * hd, kv_dim = hp->n_head_kv * hd;
    if (s != c) { /* the session's own scratch feeds its cache and attention */
        memcpy(s->q, c->q + off * q_dim, (size_t)(g->n * q_dim) * sizeof(float));
        memcpy(s->k, c->k + off * kv_dim, (size_t)(g->n * kv_dim) * sizeof(float));
        memcpy(s->v, c->v + off * kv_dim, (size_t)(g->n * kv_dim) * sizeof(float));
    }
    /* the carrier's pool when its threads fit the session's scratch: no
     * hand-over between two pools' sleeping workers at every layer */
    threadpool *pool =
        threadpool_n_threads(c->pool) <= threadpool_n_threads(s->pool) ? c->pool : s->pool;
    qk_job qj = {.s = s, .L = &s->model->layers[il], .il = il};
    threadpool_split_init(&qj.ctr, g->n, TOKENS_PER_CLAIM, threadpool_n_threads(pool));
    if (g->n == 1)
        qk_worker(&qj, 0, 1);
    else
        threadpool_run(pool, qk_worker, &qj);
    attention_run(s, pool, il, s->n_tokens, g->n);
    if (s != c) memcpy(c->att + off * q_dim, s->att, (size_t)(g->n * q_dim) * sizeof(float));
}

static void layer_forward(glimp_session *s, const forward_seg *segs, int n_segs, int il,
                          int64_t n)
{
    const glimp_model *m = s->model;
    const model_hparams *hp = &m->hp;
    const model_layer *L = &m->layers[il];
    const int64_t n_embd = hp->n_embd, hd = hp->head_dim;
    const int64_t q_dim = hp->n_head * hd, kv_dim = hp->n_head_kv * hd;

    norm_rows(s, s->h, s->x, L->attn_norm, n);
    const matmul_out qkv[3] = {
        {.w = &L->wq, .bias = L->bq, .y = s->q, .y_stride = q_dim},
        {.w = &L->wk, .bias = L->bk, .y = s->k, .y_stride = kv_dim},
        {.w = &L->wv, .bias = L->bv, .y = s->v, .y_stride = kv_dim},
    };
    matmul_run(s, s->h, n_embd, n, qkv, 3);

    for (int g = 0, off = 0; g < n_segs; off += (int)segs[g].n, g++)
        segment_attention(s, &segs[g], off, il);
    const matmul_out wo = {.w = &L->wo, .y = s->x, .y_stride = n_embd, .accumulate = true};
    matmul_run(s, s->att, q_dim, n, &wo, 1);

    norm_rows(s, s->h, s->x, L->ffn_norm, n);
    const matmul_out gate_up[2] = {
        {.w = &L->w_gate, .y = s->gate, .y_stride = hp->n_ff},
        {.w = &L->w_up, .y = s->up, .y_stride = hp->n_ff},
    };
    matmul_run(s, s->h, n_embd, n, gate_up, 2);
    swiglu_job sj = {.gate = s->gate, .up = s->up, .n_ff = hp->n_ff};
    threadpool_split_init(&sj.ctr, n, TOKENS_PER_CLAIM, threadpool_n_threads(s->pool));
    if (n == 1)
        swiglu_worker(&sj, 0, 1);
    else
        threadpool_run(s->pool, swiglu_worker, &sj);
    const matmul_out down = {.w = &L->w_down, .y = s->x, .y_stride = n_embd, .accumulate = true};
    matmul_run(s, s->gate, hp->n_ff, n, &down, 1);
}

void forward_segments(glimp_session *c, const forward_seg *segs, int n_segs, float *logits)
{
    const glimp_model *m = c->model;
    const int64_t n_embd = m->hp.n_embd;
    const qt_traits *et = qt_get(m->tok_embd.type);
    int64_t n = 0, n_out = 0;
    for (int g = 0; g < n_segs; g++) {
        for (int64_t i = 0; i < segs[g].n; i++) {
            const size_t tok = (size_t)segs[g].tokens[i];
            float *x = c->x + (n + i) * n_embd;
            const model_matrix *e = &m->tok_embd;
            if (e->r16) /* row tok % 16 of its group */
                e->r16->row(e->data + tok / QT_R16_ROWS * QT_R16_ROWS * e->row_bytes, n_embd,
                            (int)(tok % QT_R16_ROWS), x);
            else
                et->to_float(e->data + tok * e->row_bytes, x, n_embd);
        }
        rope_table(segs[g].s, segs[g].s->n_tokens, segs[g].n);
        n += segs[g].n;
    }
    for (int il = 0; il < m->hp.n_layer; il++) layer_forward(c, segs, n_segs, il, n);
    /* the rows whose logits are wanted: the last out_rows of each segment */
    for (int g = 0, off = 0; g < n_segs; off += (int)segs[g].n, g++)
        for (int64_t i = segs[g].n - segs[g].out_rows; i < segs[g].n; i++, n_out++)
            rmsnorm(c->h + n_out * n_embd, c->x + (off + i) * n_embd, m->output_norm, n_embd,
                    m->hp.rms_eps);
    if (n_out == 0) return;
    const matmul_out out = {.w = &m->output, .y = logits, .y_stride = m->hp.n_vocab};
    matmul_run(c, c->h, n_embd, n_out, &out, 1);
}

void forward_chunk(glimp_session *s, const int32_t *tokens, int64_t n, int64_t out_rows,
                   float *logits)
{
    const forward_seg seg = {.s = s, .tokens = tokens, .n = n, .out_rows = out_rows};
    forward_segments(s, &seg, 1, logits);
}
