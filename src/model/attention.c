/* attention.c - causal multi-head attention (GQA) over the session's KV cache.
 *
 * One task per (block of query tokens, KV head): the n_rep query heads that
 * share a KV head, for up to attention_block_tokens() consecutive tokens of
 * the chunk, are computed together, so each cache row is read from memory
 * once per block for all of them (then from L1 for the others). A chunk
 * prefilled onto a long context is bound by these reads when each token
 * reads the whole cache on its own: on qwen3-0.6b (n_rep 2) a 64-token
 * chunk at depth 4096 read 29 GB. The block's scores span its last token's
 * positions; each token's softmax runs over its own causal span and its
 * probabilities past it are zero, so p.V over the block's span adds exact
 * zeros: the F32/F16 dots and the Q8_0 multiply-add give the same bits
 * with zeros appended (test_quant checks it at every kernel level), so a
 * token's result does not depend on the block it shares, and a chunk split
 * anywhere gives the logits of one chunk bit for bit (test_model_session).
 * The tasks are cut by tokens into one part per thread (threadpool_split),
 * as the matmuls and the per-token jobs of forward.c are, so a token's q
 * rows and outputs stay in the cache of one core; the later tokens' part
 * costs more (longer spans), and a thread done with its own part helps
 * with the others'.
 *
 * q is converted to the operand type of the cache's vec_dot before q.k
 * (float caches: F32 as it is; Q8_0: quantized to Q8_0, as llama.cpp does),
 * and the softmax (vecmath.h) runs in float with a double sum. Scores and
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

/* Query rows (tokens x n_rep heads) a task aims for: 16 take one cache
 * read per 8 tokens of a 2-head group, 2 tokens of a 7-head one. */
#define ATT_ROWS 16

typedef struct attention_job {
    glimp_session *s;
    int il;
    int64_t pos0, n, block;
    threadpool_split ctr; /* over n_blocks * n_head_kv tasks, cut by tokens */
} attention_job;

int64_t attention_block_tokens(const model_hparams *hp)
{
    const int64_t b = ATT_ROWS / (hp->n_head / hp->n_head_kv);
    return b < 1 ? 1 : b;
}

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

static void attention_task(const attention_job *j, int64_t task, float *scores, float *conv)
{
    const glimp_session *s = j->s;
    const model_hparams *hp = &s->model->hp;
    const int64_t hd = hp->head_dim, n_rep = hp->n_head / hp->n_head_kv;
    const int64_t q_dim = hp->n_head * hd, nc = s->n_ctx;
    const int64_t i0 = task / hp->n_head_kv * j->block, g = task % hp->n_head_kv;
    const int64_t nb = j->n - i0 < j->block ? j->n - i0 : j->block, rows = nb * n_rep;
    const int64_t n_kv = j->pos0 + i0 + nb; /* the block's last token sees positions 0..pos */
    /* score rows n_kv long, rounded up to 16 floats plus 16: with n_ctx
     * apart (a power of two in most setups) all 16 rows of a block fell in
     * the same L1 sets */
    const size_t ss = (size_t)((n_kv + 15) / 16 * 16 + 16);
    const qt_traits *tr = qt_get(s->kv_type);
    const size_t head_bytes = s->kv_row_bytes / (size_t)hp->n_head_kv;
    const uint8_t *K = s->k_cache + ((size_t)j->il * nc) * s->kv_row_bytes + g * head_bytes;
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t head_row = (size_t)n_rep * (size_t)hd * sizeof(float);
    float *rows_f = conv; /* (rows, hd): the block's q rows, then its output rows */

    for (int64_t b = 0; b < nb; b++)
        memcpy(rows_f + b * n_rep * hd, s->q + (i0 + b) * q_dim + g * n_rep * hd, head_row);
    size_t q_stride;
    const uint8_t *q =
        kv_operand(s->kv_type, rows_f, rows, hd, hd, conv + rows * hd, &q_stride);
    dots(tr, hd, scores, ss, K, s->kv_row_bytes, n_kv, q, q_stride, rows);
    for (int64_t b = 0; b < nb; b++) {
        const int64_t own = n_kv - (nb - 1 - b); /* causal span of token i0 + b */
        for (int64_t h = 0; h < n_rep; h++) {
            float *row = scores + (size_t)(b * n_rep + h) * ss;
            vm_softmax(row, own, scale);
            memset(row + own, 0, (size_t)(n_kv - own) * sizeof *row);
        }
    }

    if (s->v_trans) {
        const size_t vrow = (size_t)nc * s->kv_elt;
        const uint8_t *V = s->v_cache + ((size_t)j->il * hp->n_head_kv + g) * hd * vrow;
        /* float caches dot with F32 operands: the probabilities as they are */
        dots(tr, n_kv, rows_f, (size_t)hd, V, vrow, hd, (const uint8_t *)scores,
             ss * sizeof *scores, rows);
    } else {
        const uint8_t *V = s->v_cache + ((size_t)j->il * nc) * s->kv_row_bytes + g * head_bytes;
        memset(rows_f, 0, (size_t)(rows * hd) * sizeof *rows_f);
        tr->mad(hd, rows_f, (size_t)hd, (int)rows, scores, ss, V, s->kv_row_bytes, n_kv);
    }
    for (int64_t b = 0; b < nb; b++)
        memcpy(s->att + (i0 + b) * q_dim + g * n_rep * hd, rows_f + b * n_rep * hd, head_row);
}

static void attention_worker(void *p, int ith, int nth)
{
    attention_job *j = p;
    glimp_session *s = j->s;
    float *scores = s->att_scores + (size_t)ith * s->att_scores_len;
    float *conv = s->att_conv + (size_t)ith * s->att_conv_len;
    int64_t b, e;
    int visited = 0;
    (void)nth;
    while (threadpool_split_next(&j->ctr, ith, &visited, &b, &e))
        for (int64_t t = b; t < e; t++) attention_task(j, t, scores, conv);
}

void attention_run(glimp_session *s, threadpool *pool, int il, int64_t pos0, int64_t n)
{
    const int64_t block = attention_block_tokens(&s->model->hp);
    attention_job j = {.s = s, .il = il, .pos0 = pos0, .n = n, .block = block};
    threadpool_split_init(&j.ctr, (n + block - 1) / block * s->model->hp.n_head_kv, 1,
                          threadpool_n_threads(pool));
    threadpool_run(pool, attention_worker, &j);
}
