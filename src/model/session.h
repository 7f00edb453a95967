/* session.h - internal layout of glimp_session and the forward-pass entry
 * points shared by session.c, forward.c, matmul.c and attention.c.
 *
 * All buffers are allocated at session creation (the logits of an
 * append_all grow on demand), so a forward pass itself cannot fail.
 */
#ifndef GLIMP_MODEL_SESSION_H
#define GLIMP_MODEL_SESSION_H

#include "base/threadpool.h"
#include "model/model.h"

struct glimp_session {
    const glimp_model *model;
    threadpool *pool;
    int64_t n_ctx;
    int64_t n_batch;         /* max tokens per forward chunk */
    uint32_t kv_type;        /* QT_F16, QT_F32 or QT_Q8_0 */
    size_t kv_elt;           /* bytes per KV element (float types) */
    size_t kv_row_bytes;     /* bytes of one position's K (or V) row of kv_dim */
    bool v_trans;            /* V transposed (float types) or by position (Q8_0) */
    uint8_t *k_cache;        /* (n_layer, n_ctx, kv_row_bytes) */
    uint8_t *v_cache;        /* v_trans: (n_layer, kv_dim, n_ctx) elements, else as k_cache */
    int32_t *tokens;         /* (n_ctx) history; first n_tokens valid */
    int64_t n_tokens;
    float *logits;           /* (logits_cap, n_vocab); first n_logits rows valid */
    int64_t n_logits;
    int64_t logits_cap;
    /* scratch for one chunk of up to n_batch tokens */
    float *x;                /* (n_batch, n_embd) residual stream */
    float *h;                /* (n_batch, n_embd) normed input of a block */
    float *q;                /* (n_batch, n_head * head_dim) */
    float *k, *v;            /* (n_batch, kv_dim) */
    float *att;              /* (n_batch, n_head * head_dim) attention output */
    float *gate, *up;        /* (n_batch, n_ff) */
    uint8_t *act;            /* (n_batch, act_row_bytes) activations in a vec_dot type */
    size_t act_row_bytes;
    float *rope;             /* (n_batch, n_rot) cos/sin pairs per position */
    float *att_scores;       /* (n_threads, att_scores_len): per thread, the scores
                                (block tokens x n_rep heads, <= n_ctx + 32) of one
                                attention task */
    size_t att_scores_len;
    float *att_conv;         /* (n_threads, att_conv_len) per thread, one task's
                                (block tokens x n_rep heads, head_dim) q rows, then
                                its output rows, and its q rows quantized for a
                                Q8_0 cache (as many floats again hold them) */
    size_t att_conv_len;
};

/* Runs tokens[0..n) (n <= n_batch) at positions n_tokens.. through the model,
 * writes their K/V into the cache and, when out_rows > 0, the logits of the
 * last out_rows tokens of the chunk to `logits` (out_rows, n_vocab).
 * Does not update n_tokens. */
void forward_chunk(glimp_session *s, const int32_t *tokens, int64_t n, int64_t out_rows,
                   float *logits);

/* One session's part of a batched forward pass: tokens[0..n) at positions
 * s->n_tokens.. (n <= s->n_batch), and how many of its last rows want
 * logits. */
typedef struct forward_seg {
    glimp_session *s;
    const int32_t *tokens;
    int64_t n, out_rows;
} forward_seg;

/* The forward pass of several sessions' segments (distinct sessions of one
 * model) stacked in the scratch of carrier c (sum of n <= c->n_batch; c may
 * be the only segment's session): each matmul reads the weights once for
 * all rows. Logits of the wanted rows go to `logits`, segment by segment.
 * Does not update n_tokens. */
void forward_segments(glimp_session *c, const forward_seg *segs, int n_segs, float *logits);

/* glimp_batch_append, where sequence i keeps the logits of every one of its
 * positions when all[i] (glimp_session_logits_at, as after
 * glimp_session_append_all), else of its last; all may be NULL (none). */
glimp_status batch_append_rows(glimp_batch *b, glimp_session *const *sessions,
                               const int32_t *const *tokens, const size_t *n, const bool *all,
                               int n_seqs, glimp_error *err);

/* One output of a matmul: y (n, w->rows, row stride y_stride) = x W^T (+ b),
 * or y += x W^T when accumulate. */
typedef struct matmul_out {
    const model_matrix *w;
    const float *bias;   /* (w->rows) or NULL */
    float *y;
    int64_t y_stride;
    bool accumulate;
} matmul_out;

/* Computes every output in `outs` from the same input x (n rows of cols =
 * outs[i].w->cols floats, stride x_stride). The input is converted once per
 * distinct vec_dot type; rows of all outputs are handed out to the pool's
 * threads together, and each weight row is read once for all n tokens. */
void matmul_run(glimp_session *s, const float *x, int64_t x_stride, int64_t n,
                const matmul_out *outs, int n_outs);

/* Causal attention of the chunk's n queries (s->q, already roped) at
 * positions pos0.. over the cache of layer il; result in s->att. Runs on
 * `pool`: s->pool, or in a batch the carrier's (at most as many threads as
 * s->pool, whose per-thread scratch it uses), so one pool serves the pass. */
void attention_run(glimp_session *s, threadpool *pool, int il, int64_t pos0, int64_t n);
/* Query tokens that one attention task computes together (sizes the
 * per-thread attention scratch). */
int64_t attention_block_tokens(const model_hparams *hp);

#endif
