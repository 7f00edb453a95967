/* session.c - glimp_session: KV cache, token history, logits and the public
 * append / decode / truncate entry points.
 *
 * An append is checked completely (context room, token ids, logits buffer)
 * before any work, so a failing call leaves the session as it was: context
 * overflow is GLIMP_ERR_RANGE, a bad token id GLIMP_ERR_ARG, allocation
 * failure GLIMP_ERR_NOMEM. Long appends run in chunks of n_batch tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/session.h"
#include "quant/quant.h"
#include "quant/quant_r16.h"

#define DEFAULT_N_BATCH 512

glimp_session_params glimp_session_default_params(void)
{
    return (glimp_session_params){.n_ctx = 0, .n_threads = 0, .n_batch = DEFAULT_N_BATCH,
                                  .kv_type = GLIMP_KV_F16};
}

bool glimp_kv_type_parse(const char *name, glimp_kv_type *out)
{
    static const struct { const char *name; glimp_kv_type type; } names[] = {
        {"f16", GLIMP_KV_F16}, {"f32", GLIMP_KV_F32}, {"q8_0", GLIMP_KV_Q8_0}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) {
            *out = names[i].type;
            return true;
        }
    return false;
}

const char *glimp_kv_type_name(glimp_kv_type type)
{
    return type == GLIMP_KV_F32 ? "f32" : type == GLIMP_KV_Q8_0 ? "q8_0" : "f16";
}

uint64_t glimp_session_kv_bytes(const glimp_model *model, const glimp_session_params *params,
                                size_t n_past)
{
    const model_hparams *hp = &model->hp;
    const glimp_kv_type kt = params ? params->kv_type : GLIMP_KV_F16;
    const uint32_t type = kt == GLIMP_KV_F32 ? QT_F32 : kt == GLIMP_KV_Q8_0 ? QT_Q8_0 : QT_F16;
    uint64_t row = 0;
    qt_row_size(type, (uint64_t)(hp->n_head_kv * hp->head_dim), &row);
    return 2 * (uint64_t)hp->n_layer * row * n_past;
}

/* malloc(a * b * c) with overflow check; NULL on overflow or failure. */
static void *alloc3(size_t a, size_t b, size_t c)
{
    if (a == 0 || b == 0 || c == 0) return malloc(1);
    if (b > SIZE_MAX / a || c > SIZE_MAX / (a * b)) return NULL;
    return malloc(a * b * c);
}

/* Raises *best to the bytes of one input row of w in its vec_dot type. */
static void act_row_grow(size_t *best, const model_matrix *w)
{
    uint64_t bytes;
    if (w->r16 && w->r16->prep) /* Q8_0 blocks and their prep records */
        bytes = qt_r16_act_bytes(w->cols);
    else if (!qt_row_size(qt_get(w->type)->vec_dot_type, (uint64_t)w->cols, &bytes))
        return;
    if (bytes > *best) *best = (size_t)bytes;
}

/* Largest activation row, in bytes, any matmul of the model converts to. */
static size_t max_act_row_bytes(const glimp_model *m)
{
    size_t best = 0;
    act_row_grow(&best, &m->output);
    for (int64_t il = 0; il < m->hp.n_layer; il++) {
        const model_layer *L = &m->layers[il];
        const model_matrix *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up,
                                    &L->w_down};
        for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) act_row_grow(&best, ws[i]);
    }
    return best;
}

glimp_session *glimp_session_create(const glimp_model *model, const glimp_session_params *params,
                                    glimp_error *err)
{
    glimp_session_params p = params ? *params : glimp_session_default_params();
    if (!model) {
        glimp_error_set(err, GLIMP_ERR_ARG, "session: model is NULL");
        return NULL;
    }
    if (p.kv_type != GLIMP_KV_F16 && p.kv_type != GLIMP_KV_F32 && p.kv_type != GLIMP_KV_Q8_0) {
        glimp_error_set(err, GLIMP_ERR_ARG, "session: unknown kv_type %d", (int)p.kv_type);
        return NULL;
    }
    if (p.kv_type == GLIMP_KV_Q8_0 && model->hp.head_dim % 32 != 0) {
        glimp_error_set(err, GLIMP_ERR_ARG,
                        "session: a Q8_0 KV cache needs a head size divisible by 32 (model: %lld)",
                        (long long)model->hp.head_dim);
        return NULL;
    }
    if (p.n_ctx > (1u << 24) || p.n_threads < 0 || p.n_threads > 1024) {
        glimp_error_set(err, GLIMP_ERR_ARG, "session: n_ctx %zu or n_threads %d out of range",
                        p.n_ctx, p.n_threads);
        return NULL;
    }
    const model_hparams *hp = &model->hp;
    glimp_session *s = calloc(1, sizeof *s);
    if (!s) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "session: out of memory");
        return NULL;
    }
    s->model = model;
    s->n_ctx = p.n_ctx ? (int64_t)p.n_ctx : hp->n_ctx_train;
    s->n_batch = p.n_batch ? (int64_t)p.n_batch : DEFAULT_N_BATCH;
    if (s->n_batch > s->n_ctx) s->n_batch = s->n_ctx;
    s->kv_type = p.kv_type == GLIMP_KV_F32 ? QT_F32 : p.kv_type == GLIMP_KV_Q8_0 ? QT_Q8_0 : QT_F16;
    s->kv_elt = s->kv_type == QT_F32 ? 4 : 2;
    s->v_trans = s->kv_type != QT_Q8_0;
    int n_threads = p.n_threads ? p.n_threads : threadpool_default_threads();
    s->pool = threadpool_create(n_threads, err);
    if (!s->pool) {
        free(s);
        return NULL;
    }

    const size_t nb = (size_t)s->n_batch, nc = (size_t)s->n_ctx;
    const size_t kv_dim = (size_t)(hp->n_head_kv * hp->head_dim);
    const size_t q_dim = (size_t)(hp->n_head * hp->head_dim), fl = sizeof(float);
    s->act_row_bytes = max_act_row_bytes(model);
    const size_t n_rep = (size_t)(hp->n_head / hp->n_head_kv);
    uint64_t row_bytes = 0;
    qt_row_size(s->kv_type, kv_dim, &row_bytes); /* kv_dim is a multiple of head_dim */
    s->kv_row_bytes = (size_t)row_bytes;
    const size_t att_rows = (size_t)attention_block_tokens(hp) * n_rep;
    s->att_scores_len = att_rows * (nc + 32); /* rows up to n_ctx + 31 apart (attention.c) */
    s->att_conv_len = 2 * att_rows * (size_t)hp->head_dim;
    s->k_cache = alloc3((size_t)hp->n_layer * nc, s->kv_row_bytes, 1);
    s->v_cache = alloc3((size_t)hp->n_layer * nc, s->kv_row_bytes, 1);
    s->tokens = alloc3(nc, 1, sizeof *s->tokens);
    s->logits = alloc3((size_t)hp->n_vocab, 1, fl);
    s->logits_cap = 1;
    s->x = alloc3(nb, (size_t)hp->n_embd, fl);
    s->h = alloc3(nb, (size_t)hp->n_embd, fl);
    s->q = alloc3(nb, q_dim, fl);
    s->k = alloc3(nb, kv_dim, fl);
    s->v = alloc3(nb, kv_dim, fl);
    s->att = alloc3(nb, q_dim, fl);
    s->gate = alloc3(nb, (size_t)hp->n_ff, fl);
    s->up = alloc3(nb, (size_t)hp->n_ff, fl);
    s->act = alloc3(nb, s->act_row_bytes, 1);
    s->rope = alloc3(nb, (size_t)hp->n_rot, fl);
    s->att_scores = alloc3((size_t)n_threads, s->att_scores_len, fl);
    s->att_conv = alloc3((size_t)n_threads, s->att_conv_len, fl);
    if (!s->k_cache || !s->v_cache || !s->tokens || !s->logits || !s->x || !s->h || !s->q ||
        !s->k || !s->v || !s->att || !s->gate || !s->up || !s->act || !s->rope ||
        !s->att_scores || !s->att_conv) {
        glimp_session_free(s);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "session: out of memory (n_ctx %zu)", nc);
        return NULL;
    }
    return s;
}

void glimp_session_free(glimp_session *s)
{
    if (!s) return;
    threadpool_free(s->pool);
    free(s->k_cache);
    free(s->v_cache);
    free(s->tokens);
    free(s->logits);
    free(s->x);
    free(s->h);
    free(s->q);
    free(s->k);
    free(s->v);
    free(s->att);
    free(s->gate);
    free(s->up);
    free(s->act);
    free(s->rope);
    free(s->att_scores);
    free(s->att_conv);
    free(s);
}

static glimp_status session_append(glimp_session *s, const int32_t *tokens, size_t n, bool all,
                                   glimp_error *err)
{
    if (n == 0) return GLIMP_OK;
    if (!s || !tokens) return glimp_error_set(err, GLIMP_ERR_ARG, "append: NULL argument");
    const int64_t n_vocab = s->model->hp.n_vocab;
    if (n > (size_t)(s->n_ctx - s->n_tokens))
        return glimp_error_set(err, GLIMP_ERR_RANGE,
                               "context full: %lld tokens + %zu new exceed n_ctx %lld",
                               (long long)s->n_tokens, n, (long long)s->n_ctx);
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            return glimp_error_set(err, GLIMP_ERR_ARG, "token id %d at %zu outside [0, %lld)",
                                   (int)tokens[i], i, (long long)n_vocab);
    const int64_t rows = all ? (int64_t)n : 1;
    if (rows > s->logits_cap) {
        float *l = alloc3((size_t)rows, (size_t)n_vocab, sizeof(float));
        if (!l)
            return glimp_error_set(err, GLIMP_ERR_NOMEM, "logits for %zu positions: out of memory",
                                   n);
        free(s->logits);
        s->logits = l;
        s->logits_cap = rows;
    }
    for (int64_t c = 0; c < (int64_t)n; c += s->n_batch) {
        const int64_t cn = (int64_t)n - c < s->n_batch ? (int64_t)n - c : s->n_batch;
        const int64_t out_rows = all ? cn : (c + cn == (int64_t)n ? 1 : 0);
        float *dst = all ? s->logits + (size_t)c * n_vocab : s->logits;
        forward_chunk(s, tokens + c, cn, out_rows, dst);
        memcpy(s->tokens + s->n_tokens, tokens + c, (size_t)cn * sizeof *tokens);
        s->n_tokens += cn;
    }
    s->n_logits = rows;
    return GLIMP_OK;
}

glimp_status glimp_session_append(glimp_session *s, const int32_t *tokens, size_t n,
                                  glimp_error *err)
{
    return session_append(s, tokens, n, false, err);
}

glimp_status glimp_session_append_all(glimp_session *s, const int32_t *tokens, size_t n,
                                      glimp_error *err)
{
    return session_append(s, tokens, n, true, err);
}

glimp_status glimp_session_decode(glimp_session *s, int32_t token, glimp_error *err)
{
    return session_append(s, &token, 1, false, err);
}

const float *glimp_session_logits(const glimp_session *s)
{
    if (s->n_logits == 0) return NULL;
    return s->logits + (size_t)(s->n_logits - 1) * s->model->hp.n_vocab;
}

size_t glimp_session_n_logits(const glimp_session *s) { return (size_t)s->n_logits; }

const float *glimp_session_logits_at(const glimp_session *s, size_t i)
{
    if (i >= (size_t)s->n_logits) return NULL;
    return s->logits + i * (size_t)s->model->hp.n_vocab;
}

glimp_status glimp_session_truncate(glimp_session *s, size_t n, glimp_error *err)
{
    if (n > (size_t)s->n_tokens)
        return glimp_error_set(err, GLIMP_ERR_ARG, "truncate to %zu: only %lld tokens", n,
                               (long long)s->n_tokens);
    s->n_tokens = (int64_t)n;
    s->n_logits = 0;
    return GLIMP_OK;
}

glimp_status glimp_session_sync(glimp_session *s, const int32_t *ids, size_t n,
                                size_t *n_evaluated, glimp_error *err)
{
    if (n_evaluated) *n_evaluated = 0;
    if (n == 0) return glimp_error_set(err, GLIMP_ERR_ARG, "sync: empty token list");
    if (n > (size_t)s->n_ctx)
        return glimp_error_set(err, GLIMP_ERR_RANGE, "prompt of %zu tokens exceeds the context of %lld",
                               n, (long long)s->n_ctx);
    size_t keep = glimp_session_keep_prefix(s, ids, n);
    if (keep == n) return GLIMP_OK;
    glimp_status st = glimp_session_append(s, ids + keep, n - keep, err);
    if (st == GLIMP_OK && n_evaluated) *n_evaluated = n - keep;
    return st;
}

size_t glimp_session_keep_prefix(glimp_session *s, const int32_t *ids, size_t n)
{
    size_t nh = (size_t)s->n_tokens, same = 0;
    while (same < nh && same < n && s->tokens[same] == ids[same]) same++;
    if (same == n && nh == n && s->n_logits > 0) return n;
    size_t keep = same < n ? same : n - 1; /* the last token must run to give logits */
    s->n_tokens = (int64_t)keep;
    s->n_logits = 0;
    return keep;
}

glimp_status glimp_session_copy_prefix(glimp_session *dst, const glimp_session *src, size_t n,
                                       size_t *n_copied, glimp_error *err)
{
    if (n_copied) *n_copied = 0;
    if (!dst || !src || dst == src)
        return glimp_error_set(err, GLIMP_ERR_ARG, "copy prefix: NULL or identical sessions");
    if (dst->model != src->model || dst->kv_type != src->kv_type)
        return glimp_error_set(err, GLIMP_ERR_ARG,
                               "copy prefix: the sessions differ in model or KV cache type");
    if (n > (size_t)src->n_ctx || n > (size_t)dst->n_ctx)
        return glimp_error_set(err, GLIMP_ERR_RANGE,
                               "copy prefix: %zu tokens exceed a context (%lld, %lld)", n,
                               (long long)src->n_ctx, (long long)dst->n_ctx);
    /* rows dst already holds are not copied again */
    size_t same = 0, held = (size_t)dst->n_tokens;
    while (same < n && same < held && dst->tokens[same] == src->tokens[same]) same++;
    const int64_t n_layer = dst->model->hp.n_layer;
    const size_t kv_dim = (size_t)(dst->model->hp.n_head_kv * dst->model->hp.head_dim);
    const size_t row = dst->kv_row_bytes, cnt = n - same;
    for (int64_t il = 0; il < n_layer && cnt > 0; il++) {
        const size_t so = ((size_t)il * (size_t)src->n_ctx + same) * row;
        const size_t doff = ((size_t)il * (size_t)dst->n_ctx + same) * row;
        memcpy(dst->k_cache + doff, src->k_cache + so, cnt * row);
        if (!dst->v_trans) {
            memcpy(dst->v_cache + doff, src->v_cache + so, cnt * row);
            continue;
        }
        for (size_t d = 0; d < kv_dim; d++) { /* V is (dim, position) per layer */
            const size_t sv = (((size_t)il * kv_dim + d) * (size_t)src->n_ctx + same) * dst->kv_elt;
            const size_t dv = (((size_t)il * kv_dim + d) * (size_t)dst->n_ctx + same) * dst->kv_elt;
            memcpy(dst->v_cache + dv, src->v_cache + sv, cnt * dst->kv_elt);
        }
    }
    memcpy(dst->tokens + same, src->tokens + same, cnt * sizeof *dst->tokens);
    dst->n_tokens = (int64_t)n;
    dst->n_logits = 0;
    if (n_copied) *n_copied = cnt;
    return GLIMP_OK;
}

size_t glimp_session_n_tokens(const glimp_session *s) { return (size_t)s->n_tokens; }
const int32_t *glimp_session_tokens(const glimp_session *s) { return s->tokens; }
size_t glimp_session_n_ctx(const glimp_session *s) { return (size_t)s->n_ctx; }
size_t glimp_session_n_vocab(const glimp_session *s) { return (size_t)s->model->hp.n_vocab; }
int glimp_session_n_threads(const glimp_session *s) { return threadpool_n_threads(s->pool); }
const glimp_model *glimp_session_model(const glimp_session *s) { return s->model; }
