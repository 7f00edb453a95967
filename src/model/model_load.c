/* model_load.c - glimp_model from a GGUF file: hyper-parameters, weight views
 * and shape checks for the llama, qwen2 and qwen3 architectures.
 *
 * Failure: the GGUF reader's errors pass through (GLIMP_ERR_IO/FORMAT/
 * UNSUPPORTED); a missing key or tensor, a tensor of the wrong shape or
 * impossible hyper-parameters give GLIMP_ERR_FORMAT naming it; an unknown
 * architecture or a weight type without kernels gives GLIMP_ERR_UNSUPPORTED.
 * Nothing is left allocated on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/model.h"
#include "model/model_pack.h"
#include "quant/quant.h"

static const char *const arch_names[] = {
    [MODEL_ARCH_LLAMA] = "llama",
    [MODEL_ARCH_QWEN2] = "qwen2",
    [MODEL_ARCH_QWEN3] = "qwen3",
};

glimp_model_params glimp_model_default_params(void)
{
    return (glimp_model_params){.prefault = false};
}

/* Reads "<arch>.<suffix>" as a positive integer; `dflt` < 0 means required. */
static glimp_status hp_int(const glimp_model *m, const char *suffix, int64_t dflt, int64_t *out,
                           glimp_error *err)
{
    char key[128];
    uint64_t v;
    snprintf(key, sizeof key, "%s.%s", arch_names[m->arch], suffix);
    if (!gguf_find(m->file, key)) {
        if (dflt < 0) return glimp_error_set(err, GLIMP_ERR_FORMAT, "missing key %s", key);
        *out = dflt;
        return GLIMP_OK;
    }
    if (!gguf_get_u64(m->file, key, &v) || v == 0 || v > (1u << 30))
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "key %s: expected a positive integer", key);
    *out = (int64_t)v;
    return GLIMP_OK;
}

static glimp_status hp_float(const glimp_model *m, const char *suffix, float dflt, bool required,
                             float *out, glimp_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch_names[m->arch], suffix);
    if (!gguf_find(m->file, key)) {
        if (required) return glimp_error_set(err, GLIMP_ERR_FORMAT, "missing key %s", key);
        *out = dflt;
        return GLIMP_OK;
    }
    if (!gguf_get_f32(m->file, key, out) || !(*out > 0.0f))
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "key %s: expected a positive number", key);
    return GLIMP_OK;
}

static glimp_status load_hparams(glimp_model *m, glimp_error *err)
{
    model_hparams *hp = &m->hp;
    glimp_status st;
    if ((st = hp_int(m, "context_length", -1, &hp->n_ctx_train, err)) ||
        (st = hp_int(m, "embedding_length", -1, &hp->n_embd, err)) ||
        (st = hp_int(m, "block_count", -1, &hp->n_layer, err)) ||
        (st = hp_int(m, "feed_forward_length", -1, &hp->n_ff, err)) ||
        (st = hp_int(m, "attention.head_count", -1, &hp->n_head, err)) ||
        (st = hp_int(m, "attention.head_count_kv", hp->n_head, &hp->n_head_kv, err)) ||
        (st = hp_int(m, "attention.key_length", hp->n_embd / hp->n_head, &hp->head_dim, err)))
        return st;
    int64_t v_len;
    if ((st = hp_int(m, "attention.value_length", hp->head_dim, &v_len, err)) ||
        (st = hp_int(m, "rope.dimension_count", hp->head_dim, &hp->n_rot, err)) ||
        (st = hp_float(m, "rope.freq_base", 10000.0f, false, &hp->rope_base, err)) ||
        (st = hp_float(m, "attention.layer_norm_rms_epsilon", 0, true, &hp->rms_eps, err)))
        return st;
    if (hp->head_dim == 0)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "head_count %lld exceeds embedding_length",
                               (long long)hp->n_head);
    if (v_len != hp->head_dim)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                               "value_length %lld != key_length %lld", (long long)v_len,
                               (long long)hp->head_dim);
    if (hp->n_head % hp->n_head_kv)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "head_count %lld not a multiple of "
                               "head_count_kv %lld", (long long)hp->n_head,
                               (long long)hp->n_head_kv);
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "rope.dimension_count %lld: must be even "
                               "and <= head dim %lld", (long long)hp->n_rot,
                               (long long)hp->head_dim);
    hp->rope_neox = m->arch != MODEL_ARCH_LLAMA;
    return GLIMP_OK;
}

/* Binds `name` as a (rows, cols) matrix; absent + optional leaves it zeroed. */
static glimp_status bind_matrix(glimp_model *m, const char *name, int64_t cols, int64_t rows,
                                bool optional, model_matrix *out, glimp_error *err)
{
    const gguf_tensor *t = gguf_find_tensor(m->file, name);
    memset(out, 0, sizeof *out);
    if (!t) {
        if (optional) return GLIMP_OK;
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "missing tensor %s", name);
    }
    if (t->ne[0] != (uint64_t)cols || t->ne[1] != (uint64_t)rows || t->ne[2] != 1 || t->ne[3] != 1)
        return glimp_error_set(err, GLIMP_ERR_FORMAT,
                               "tensor %s: shape [%llu, %llu, %llu, %llu], expected [%lld, %lld]",
                               name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                               (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
                               (long long)cols, (long long)rows);
    const qt_traits *tr = qt_get(t->type);
    const qt_traits *vt = tr ? qt_get(tr->vec_dot_type) : NULL;
    uint64_t row_bytes;
    if (!tr || !vt || !tr->vec_dot || (tr->vec_dot_type != QT_F32 && !vt->from_float))
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "tensor %s: no kernels for type %s",
                               name, qt_name(t->type) ? qt_name(t->type) : "?");
    if (!qt_row_size(t->type, (uint64_t)cols, &row_bytes) || cols % vt->blck_size)
        return glimp_error_set(err, GLIMP_ERR_FORMAT,
                               "tensor %s: row length %lld is not a multiple of the %s block",
                               name, (long long)cols, tr->name);
    *out = (model_matrix){.data = t->data, .type = t->type, .cols = cols, .rows = rows,
                          .row_bytes = (size_t)row_bytes};
    return GLIMP_OK;
}

/* Binds `name` as a vector of n floats: a view when F32, else a converted
 * copy owned by the model. Absent + optional gives NULL. */
static glimp_status bind_vector(glimp_model *m, const char *name, int64_t n, bool optional,
                                const float **out, glimp_error *err)
{
    const gguf_tensor *t = gguf_find_tensor(m->file, name);
    *out = NULL;
    if (!t) {
        if (optional) return GLIMP_OK;
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "missing tensor %s", name);
    }
    if (t->ne[0] != (uint64_t)n || t->ne[1] != 1 || t->ne[2] != 1 || t->ne[3] != 1)
        return glimp_error_set(err, GLIMP_ERR_FORMAT,
                               "tensor %s: shape [%llu, %llu], expected [%lld]", name,
                               (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                               (long long)n);
    if (t->type == QT_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
        *out = t->data;
        return GLIMP_OK;
    }
    const qt_traits *tr = qt_get(t->type);
    if (!tr || !tr->to_float || n % tr->blck_size)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "tensor %s: cannot convert type %s",
                               name, qt_name(t->type) ? qt_name(t->type) : "?");
    float *buf = malloc((size_t)n * sizeof *buf);
    float **list = realloc(m->owned, ((size_t)m->n_owned + 1) * sizeof *list);
    if (!buf || !list) {
        free(buf);
        if (list) m->owned = list;
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "tensor %s: out of memory", name);
    }
    m->owned = list;
    m->owned[m->n_owned++] = buf;
    tr->to_float(t->data, buf, n);
    *out = buf;
    return GLIMP_OK;
}

static glimp_status bind_layer(glimp_model *m, int il, glimp_error *err)
{
    const model_hparams *hp = &m->hp;
    model_layer *L = &m->layers[il];
    int64_t q_dim = hp->n_head * hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim;
    bool qk_norm = m->arch == MODEL_ARCH_QWEN3, bias_req = m->arch == MODEL_ARCH_QWEN2;
    char n[14][64];
    static const char *const suffix[] = {
        "attn_norm.weight", "attn_q.weight",      "attn_k.weight",      "attn_v.weight",
        "attn_q.bias",      "attn_k.bias",        "attn_v.bias",        "attn_q_norm.weight",
        "attn_k_norm.weight", "attn_output.weight", "ffn_norm.weight",  "ffn_gate.weight",
        "ffn_up.weight",    "ffn_down.weight",
    };
    for (int i = 0; i < 14; i++) snprintf(n[i], sizeof n[i], "blk.%d.%s", il, suffix[i]);
    glimp_status st;
    if ((st = bind_vector(m, n[0], hp->n_embd, false, &L->attn_norm, err)) ||
        (st = bind_matrix(m, n[1], hp->n_embd, q_dim, false, &L->wq, err)) ||
        (st = bind_matrix(m, n[2], hp->n_embd, kv_dim, false, &L->wk, err)) ||
        (st = bind_matrix(m, n[3], hp->n_embd, kv_dim, false, &L->wv, err)) ||
        (st = bind_vector(m, n[4], q_dim, !bias_req, &L->bq, err)) ||
        (st = bind_vector(m, n[5], kv_dim, !bias_req, &L->bk, err)) ||
        (st = bind_vector(m, n[6], kv_dim, !bias_req, &L->bv, err)) ||
        (st = bind_vector(m, n[7], hp->head_dim, !qk_norm, &L->q_norm, err)) ||
        (st = bind_vector(m, n[8], hp->head_dim, !qk_norm, &L->k_norm, err)) ||
        (st = bind_matrix(m, n[9], q_dim, hp->n_embd, false, &L->wo, err)) ||
        (st = bind_vector(m, n[10], hp->n_embd, false, &L->ffn_norm, err)) ||
        (st = bind_matrix(m, n[11], hp->n_embd, hp->n_ff, false, &L->w_gate, err)) ||
        (st = bind_matrix(m, n[12], hp->n_embd, hp->n_ff, false, &L->w_up, err)) ||
        (st = bind_matrix(m, n[13], hp->n_ff, hp->n_embd, false, &L->w_down, err)))
        return st;
    if ((L->q_norm == NULL) != (L->k_norm == NULL))
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "layer %d: q_norm and k_norm must come "
                               "together", il);
    return GLIMP_OK;
}

static glimp_status bind_weights(glimp_model *m, glimp_error *err)
{
    model_hparams *hp = &m->hp;
    const gguf_tensor *te = gguf_find_tensor(m->file, "token_embd.weight");
    if (!te) return glimp_error_set(err, GLIMP_ERR_FORMAT, "missing tensor token_embd.weight");
    if (te->ne[1] == 0 || te->ne[1] > INT32_MAX)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "token_embd.weight: bad vocabulary size");
    hp->n_vocab = (int64_t)te->ne[1];
    glimp_status st;
    if ((st = bind_matrix(m, "token_embd.weight", hp->n_embd, hp->n_vocab, false, &m->tok_embd,
                          err)) ||
        (st = bind_matrix(m, "output.weight", hp->n_embd, hp->n_vocab, true, &m->output, err)) ||
        (st = bind_vector(m, "output_norm.weight", hp->n_embd, false, &m->output_norm, err)) ||
        (st = bind_vector(m, "rope_freqs.weight", hp->n_rot / 2, true, &m->rope_freqs, err)))
        return st;
    if (!qt_get(m->tok_embd.type)->to_float)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "token_embd.weight: cannot convert "
                               "type %s", qt_name(m->tok_embd.type));
    if (!m->output.data) m->output = m->tok_embd; /* tied embeddings */
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = bind_layer(m, il, err))) return st;
    return GLIMP_OK;
}

static void prefault(const glimp_model *m)
{
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < gguf_n_tensors(m->file); i++) {
        const gguf_tensor *t = gguf_tensor_at(m->file, i);
        const uint8_t *p = t->data;
        for (uint64_t off = 0; off < t->nbytes; off += 4096) sink ^= p[off];
    }
    (void)sink;
}

glimp_model *glimp_model_load(const char *path, const glimp_model_params *params,
                              glimp_error *err)
{
    glimp_model_params mp = params ? *params : glimp_model_default_params();
    glimp_model *m = calloc(1, sizeof *m);
    if (!m) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    m->file = gguf_open(path, err);
    if (!m->file) {
        free(m);
        return NULL;
    }
    gguf_str arch;
    glimp_status st = GLIMP_OK;
    if (!gguf_get_str(m->file, "general.architecture", &arch)) {
        st = glimp_error_set(err, GLIMP_ERR_FORMAT, "missing key general.architecture");
    } else {
        int found = -1;
        for (int i = 0; i < (int)(sizeof arch_names / sizeof *arch_names); i++)
            if (gguf_str_eq(arch, arch_names[i])) found = i;
        if (found < 0)
            st = glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "architecture '%.*s' (supported: "
                                 "llama, qwen2, qwen3)", (int)(arch.len > 64 ? 64 : arch.len),
                                 arch.ptr);
        else
            m->arch = (model_arch)found;
    }
    if (!st) st = load_hparams(m, err);
    if (!st) st = bind_weights(m, err);
    if (st) {
        glimp_error_prefix(err, "%s", path);
        glimp_model_free(m);
        return NULL;
    }
    for (uint64_t i = 0; i < gguf_n_tensors(m->file); i++) {
        const gguf_tensor *t = gguf_tensor_at(m->file, i);
        m->size_bytes += t->nbytes;
        m->n_params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    }
    if (mp.prefault) prefault(m);
    model_pack(m); /* after prefault, which would read the dropped pages back */
    return m;
}

void glimp_model_free(glimp_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    model_unpack(m);
    gguf_close(m->file);
    free(m);
}

size_t glimp_model_n_vocab(const glimp_model *m) { return (size_t)m->hp.n_vocab; }
size_t glimp_model_n_ctx_train(const glimp_model *m) { return (size_t)m->hp.n_ctx_train; }
const char *glimp_model_arch(const glimp_model *m) { return arch_names[m->arch]; }
uint64_t glimp_model_size_bytes(const glimp_model *m) { return m->size_bytes; }
uint64_t glimp_model_n_params(const glimp_model *m) { return m->n_params; }

static uint64_t matrix_bytes(const model_matrix *w) { return (uint64_t)w->rows * w->row_bytes; }

uint64_t glimp_model_decode_bytes(const glimp_model *m)
{
    uint64_t b = matrix_bytes(&m->output) + m->tok_embd.row_bytes;
    for (int64_t il = 0; il < m->hp.n_layer; il++) {
        const model_layer *L = &m->layers[il];
        b += matrix_bytes(&L->wq) + matrix_bytes(&L->wk) + matrix_bytes(&L->wv) +
             matrix_bytes(&L->wo) + matrix_bytes(&L->w_gate) + matrix_bytes(&L->w_up) +
             matrix_bytes(&L->w_down);
    }
    return b;
}
