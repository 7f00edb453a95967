/* mkmodel_weights.c - the tensors of a generated model: their list, types,
 * and random contents, streamed to the writer a few rows at a time.
 *
 * Tensors follow llama.cpp's names and layouts (ne[0] = input features):
 * token_embd, then per layer attn_norm, attn_q/k/v (+ qwen2 biases, qwen3
 * q/k norms), attn_output, ffn_norm, ffn_gate/up/down, then output_norm and
 * output (absent when tied). Values: matrices N(0,1)/sqrt(ne[0]) (so
 * activations keep unit scale), norm weights N(1, 0.1^2), biases
 * N(0, 0.1^2). Each tensor has its own random stream, seeded from (seed,
 * tensor index), so a file depends only on its options (not on the
 * thread count). Matrices are generated in chunks of rows, converted with
 * the type's from_float and written at once: memory stays at a few MiB
 * whatever the model size. The conversion of a chunk's rows is shared by
 * all threads while the calling thread draws the next chunk's numbers (the
 * stream is sequential) and writes the previous one.
 * Rows a K-quant cannot hold (ne[0] not a multiple of 256) fall back the
 * way llama.cpp does: Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, and Q2_K/Q3_K->
 * Q4_0 (llama.cpp picks IQ4_NL, which this engine does not run); then F16
 * if even 32 does not divide the row. The Q4_K_M mix is llama.cpp's
 * (llama-quant.cpp): Q4_K everywhere except Q6_K for the output projection
 * (token_embd when tied; Q8_0 directly when its rows do not fit 256) and
 * for attn_v and ffn_down in the layers of use_more_bits(); the same
 * fallbacks then apply. Failures: write errors, out of memory.
 */
#include "mkmodel.h"

#include "base/error.h"
#include "base/threadpool.h"
#include "quant/quant.h"
#include "sample/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK_ELEMS (1u << 20)          /* floats generated per chunk */
#define PROGRESS_MIN_BYTES (256u << 20) /* smaller models are written silently */

typedef enum tensor_kind { KIND_MATRIX, KIND_NORM, KIND_BIAS } tensor_kind;

/* Matrices a quantization mix treats apart from the rest. */
typedef enum tensor_role { ROLE_OTHER, ROLE_TOKEN_EMBD, ROLE_OUTPUT, ROLE_ATTN_V, ROLE_FFN_DOWN } tensor_role;

typedef struct tensor_desc {
    char name[96];
    tensor_kind kind;
    tensor_role role;
    uint32_t layer;    /* block index (0 outside the blocks) */
    uint32_t n_dims;
    uint64_t ne[2];
} tensor_desc;

/* ---- the tensor list ----------------------------------------------------- */

static void set_desc(tensor_desc *d, tensor_kind kind, uint64_t ne0, uint64_t ne1,
                     const char *fmt, uint32_t layer)
{
    snprintf(d->name, sizeof d->name, fmt, layer);
    d->kind = kind;
    d->role = ROLE_OTHER;
    d->layer = layer;
    d->n_dims = ne1 ? 2 : 1;
    d->ne[0] = ne0;
    d->ne[1] = ne1 ? ne1 : 1;
}

/* Tensor i of the model, in file order; false past the last one. */
static bool tensor_at(const mkmodel_shape *s, uint64_t i, tensor_desc *d)
{
    bool qwen2 = !strcmp(s->arch, "qwen2"), qwen3 = !strcmp(s->arch, "qwen3");
    uint64_t q_dim = (uint64_t)s->n_head * s->head_dim, kv_dim = (uint64_t)s->n_head_kv * s->head_dim;
    uint64_t per_layer = 9 + (qwen2 ? 3 : 0) + (qwen3 ? 2 : 0);
    if (i == 0) {
        set_desc(d, KIND_MATRIX, s->n_embd, s->n_vocab, "token_embd.weight", 0);
        d->role = ROLE_TOKEN_EMBD;
        return true;
    }
    i--;
    if (i < per_layer * s->n_layer) {
        uint32_t l = (uint32_t)(i / per_layer);
        uint64_t j = i % per_layer;
        /* the optional tensors sit between attn_v and attn_output */
        const uint64_t n_extra = per_layer - 9;
        if (j >= 4 && j < 4 + n_extra) {
            uint64_t e = j - 4;
            if (qwen2) {
                static const char *const bias[3] = {"blk.%u.attn_q.bias", "blk.%u.attn_k.bias",
                                                    "blk.%u.attn_v.bias"};
                set_desc(d, KIND_BIAS, e == 0 ? q_dim : kv_dim, 0, bias[e], l);
            } else {
                set_desc(d, KIND_NORM, s->head_dim, 0,
                         e == 0 ? "blk.%u.attn_q_norm.weight" : "blk.%u.attn_k_norm.weight", l);
            }
            return true;
        }
        if (j >= 4) j -= n_extra;
        switch (j) {
        case 0: set_desc(d, KIND_NORM, s->n_embd, 0, "blk.%u.attn_norm.weight", l); break;
        case 1: set_desc(d, KIND_MATRIX, s->n_embd, q_dim, "blk.%u.attn_q.weight", l); break;
        case 2: set_desc(d, KIND_MATRIX, s->n_embd, kv_dim, "blk.%u.attn_k.weight", l); break;
        case 3:
            set_desc(d, KIND_MATRIX, s->n_embd, kv_dim, "blk.%u.attn_v.weight", l);
            d->role = ROLE_ATTN_V;
            break;
        case 4: set_desc(d, KIND_MATRIX, q_dim, s->n_embd, "blk.%u.attn_output.weight", l); break;
        case 5: set_desc(d, KIND_NORM, s->n_embd, 0, "blk.%u.ffn_norm.weight", l); break;
        case 6: set_desc(d, KIND_MATRIX, s->n_embd, s->n_ff, "blk.%u.ffn_gate.weight", l); break;
        case 7: set_desc(d, KIND_MATRIX, s->n_embd, s->n_ff, "blk.%u.ffn_up.weight", l); break;
        default:
            set_desc(d, KIND_MATRIX, s->n_ff, s->n_embd, "blk.%u.ffn_down.weight", l);
            d->role = ROLE_FFN_DOWN;
            break;
        }
        return true;
    }
    i -= per_layer * s->n_layer;
    if (i == 0) {
        set_desc(d, KIND_NORM, s->n_embd, 0, "output_norm.weight", 0);
        return true;
    }
    if (i == 1 && !s->tied) {
        set_desc(d, KIND_MATRIX, s->n_embd, s->n_vocab, "output.weight", 0);
        d->role = ROLE_OUTPUT;
        return true;
    }
    return false;
}

/* The type a row of n elements is stored in (see the file comment). */
static uint32_t storage_type(uint32_t want, uint64_t n)
{
    const qt_traits *t = qt_get(want);
    if (n % t->blck_size == 0) return want;
    uint32_t alt;
    switch (want) {
    case QT_Q4_K: alt = QT_Q5_0; break;
    case QT_Q5_K: alt = QT_Q5_1; break;
    case QT_Q6_K: alt = QT_Q8_0; break;
    case QT_Q2_K: case QT_Q3_K: alt = QT_Q4_0; break;
    default: alt = QT_F16; break;
    }
    return n % qt_get(alt)->blck_size == 0 ? alt : QT_F16;
}

/* llama.cpp's use_more_bits: the first and last eighths of the layers and
 * every third layer between them. */
static bool use_more_bits(uint32_t layer, uint32_t n_layer)
{
    return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

/* The type the mix asks for a matrix, before any fallback. */
static uint32_t wanted_type(const tensor_desc *d, const mkmodel_shape *s, const mkmodel_options *opt)
{
    if (opt->mix == MKMODEL_MIX_PURE) return opt->type;
    bool output = d->role == ROLE_OUTPUT || (d->role == ROLE_TOKEN_EMBD && s->tied);
    if (output) return d->ne[0] % qt_get(QT_Q4_K)->blck_size ? QT_Q8_0 : QT_Q6_K;
    if ((d->role == ROLE_ATTN_V || d->role == ROLE_FFN_DOWN) && use_more_bits(d->layer, s->n_layer))
        return QT_Q6_K;
    return QT_Q4_K;
}

static uint32_t desc_type(const tensor_desc *d, const mkmodel_shape *s, const mkmodel_options *opt)
{
    return d->kind == KIND_MATRIX ? storage_type(wanted_type(d, s, opt), d->ne[0]) : QT_F32;
}

glimp_status mkmodel_declare_tensors(gguf_writer *w, const mkmodel_shape *shape,
                                     const mkmodel_options *opt, glimp_error *err)
{
    tensor_desc d;
    uint64_t told[8] = {0}; /* (row length, wanted type) pairs whose fallback was reported */
    for (uint64_t i = 0; tensor_at(shape, i, &d); i++) {
        uint32_t type = desc_type(&d, shape, opt);
        uint32_t want = d.kind == KIND_MATRIX ? wanted_type(&d, shape, opt) : type;
        uint64_t key = d.ne[0] * QT_MAX_ID + want;
        int k = 0;
        while (k < 8 && told[k] && told[k] != key) k++;
        if (opt->verbose && type != want && k < 8 && !told[k]) {
            fprintf(stderr,
                    "mkmodel: rows of %llu are not a multiple of %s's block size %u: those "
                    "tensors are written as %s (llama.cpp's fallback)\n",
                    (unsigned long long)d.ne[0], qt_name(want), qt_get(want)->blck_size,
                    qt_name(type));
            told[k] = key;
        }
        glimp_status st = gguf_writer_add_tensor_info(w, d.name, type, d.n_dims, d.ne);
        if (st) return glimp_error_set(err, st, "declaring tensor %s failed", d.name);
    }
    return GLIMP_OK;
}

/* ---- random numbers ------------------------------------------------------ */

typedef struct rng {
    sample_rng base;   /* xoshiro256** */
    float spare;       /* second Box-Muller value */
    bool has_spare;
} rng;

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    sample_rng_seed(&r->base, seed ^ (stream * 0xd1342543de82ef95ull));
    r->spare = 0.0f;
    r->has_spare = false;
}

/* Standard normal (Box-Muller; uniforms in (0, 1]). */
static float rng_normal(rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    uint64_t bits = sample_rng_next(&r->base);
    float u1 = ((float)(bits >> 40) + 1.0f) * (1.0f / 16777216.0f);
    float u2 = (float)((bits >> 16) & 0xffffff) * (1.0f / 16777216.0f);
    float radius = sqrtf(-2.0f * logf(u1)), angle = 6.2831853f * u2;
    r->spare = radius * sinf(angle);
    r->has_spare = true;
    return radius * cosf(angle);
}

/* ---- streaming ----------------------------------------------------------- */

typedef struct progress {
    uint64_t total, done;
    int shown;      /* last percentage printed; -1: silent */
    double t_start; /* CLOCK_MONOTONIC seconds */
} progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress_add(progress *pg, uint64_t bytes)
{
    pg->done += bytes;
    int pct = (int)(pg->done * 100 / pg->total);
    if (pg->shown < 0 || pct < pg->shown + 5) return;
    double t = now_s() - pg->t_start;
    fprintf(stderr, "mkmodel: %3d%% (%.2f of %.2f GiB, %.0f s, about %.0f s left)\n", pct,
            pg->done / 1073741824.0, pg->total / 1073741824.0, t,
            t * (double)(pg->total - pg->done) / (double)pg->done);
    pg->shown = pct;
}

/* A chunk's rows (ne[0] floats each) and their packed form. */
typedef struct chunk {
    float *vals;
    char *packed;
    uint64_t rows;
} chunk;

/* One round of the pipeline: every thread converts rows of `convert`;
 * thread 0 first writes `write` (converted in the previous round) and draws
 * the numbers of `draw`. */
typedef struct pipe_round {
    const tensor_desc *d;
    const qt_traits *tr;
    uint64_t row_bytes;
    chunk *convert, *draw, *write;
    uint64_t draw_rows; /* set on `draw` once `write` (the same buffer) is out */
    threadpool_counter rows;
    rng *r;
    float scale, offset;
    gguf_writer *w;
    glimp_status st; /* of the write */
    glimp_error *err;
} pipe_round;

static void round_work(void *ctx, int ith, int nth)
{
    pipe_round *rd = ctx;
    (void)nth;
    const uint64_t n_cols = rd->d->ne[0];
    if (ith == 0 && rd->write)
        rd->st = gguf_writer_write_data(rd->w, rd->write->packed,
                                        (size_t)(rd->write->rows * rd->row_bytes), rd->err);
    if (ith == 0 && rd->draw) {
        rd->draw->rows = rd->draw_rows;
        for (uint64_t k = 0; k < rd->draw->rows * n_cols; k++)
            rd->draw->vals[k] = rd->offset + rd->scale * rng_normal(rd->r);
    }
    int64_t begin, end;
    while (rd->convert && threadpool_counter_next(&rd->rows, &begin, &end))
        for (int64_t k = begin; k < end; k++)
            rd->tr->from_float(rd->convert->vals + (uint64_t)k * n_cols,
                               rd->convert->packed + (uint64_t)k * rd->row_bytes, (int64_t)n_cols);
}

/* Streams one tensor through the buffers c[0], c[1] (chunk j in c[j % 2]):
 * pipe_round k draws chunk k, converts chunk k - 1 and writes chunk k - 2. */
static glimp_status write_tensor(gguf_writer *w, const tensor_desc *d, uint32_t type, rng *r,
                                 chunk c[2], threadpool *tp, progress *pg, glimp_error *err)
{
    pipe_round rd = {.d = d, .tr = qt_get(type), .r = r, .w = w, .err = err};
    qt_row_size(type, d->ne[0], &rd.row_bytes);
    rd.scale = d->kind == KIND_MATRIX ? 1.0f / sqrtf((float)d->ne[0]) : 0.1f;
    rd.offset = d->kind == KIND_NORM ? 1.0f : 0.0f;
    const uint64_t per_chunk = CHUNK_ELEMS / d->ne[0] ? CHUNK_ELEMS / d->ne[0] : 1;
    const uint64_t n_chunks = (d->ne[1] + per_chunk - 1) / per_chunk;
    for (uint64_t k = 0; k <= n_chunks + 1; k++) {
        chunk *convert = k >= 1 && k <= n_chunks ? &c[(k - 1) % 2] : NULL;
        chunk *write = k >= 2 ? &c[k % 2] : NULL;
        chunk *draw = k < n_chunks ? &c[k % 2] : NULL;
        const uint64_t first = k * per_chunk, written = write ? write->rows : 0;
        rd.draw_rows = draw ? (d->ne[1] - first < per_chunk ? d->ne[1] - first : per_chunk) : 0;
        rd.convert = convert, rd.write = write, rd.draw = draw;
        if (convert) threadpool_counter_init(&rd.rows, (int64_t)convert->rows, 1);
        if (k == 0) round_work(&rd, 0, 1); /* only a draw: nothing to share */
        else threadpool_run(tp, round_work, &rd);
        if (rd.st) return rd.st;
        if (write) progress_add(pg, written * rd.row_bytes);
    }
    return GLIMP_OK;
}

glimp_status mkmodel_write_tensors(gguf_writer *w, const mkmodel_shape *shape,
                                   const mkmodel_options *opt, glimp_error *err)
{
    tensor_desc d;
    uint64_t max_row = 1;
    progress pg = {.total = 0, .done = 0, .shown = -1, .t_start = now_s()};
    for (uint64_t i = 0; tensor_at(shape, i, &d); i++) {
        uint64_t row_bytes;
        qt_row_size(desc_type(&d, shape, opt), d.ne[0], &row_bytes);
        pg.total += row_bytes * d.ne[1];
        if (d.ne[0] > max_row) max_row = d.ne[0];
    }
    if (opt->verbose && pg.total > PROGRESS_MIN_BYTES) pg.shown = 0;
    /* a chunk holds CHUNK_ELEMS floats, or one row when rows are longer;
     * packed rows are never larger than F32 ones */
    size_t cap = max_row > CHUNK_ELEMS ? (size_t)max_row : CHUNK_ELEMS;
    chunk c[2] = {{0}};
    for (int k = 0; k < 2; k++) {
        c[k].vals = malloc(cap * sizeof(float));
        c[k].packed = malloc(cap * sizeof(float));
    }
    threadpool *tp = threadpool_create(opt->n_threads > 0 ? opt->n_threads
                                                          : threadpool_default_threads(), err);
    glimp_status st = tp ? GLIMP_OK : err->status;
    if (!st && (!c[0].vals || !c[0].packed || !c[1].vals || !c[1].packed))
        st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; !st && tensor_at(shape, i, &d); i++) {
        uint32_t type = desc_type(&d, shape, opt);
        if (!qt_get(type)->from_float) {
            st = glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "no quantizer for %s yet",
                                 qt_name(type));
            break;
        }
        rng r;
        rng_seed(&r, opt->seed, i);
        st = write_tensor(w, &d, type, &r, c, tp, &pg, err);
        if (st) glimp_error_prefix(err, "tensor %s", d.name);
    }
    threadpool_free(tp);
    for (int k = 0; k < 2; k++) {
        free(c[k].vals);
        free(c[k].packed);
    }
    return st;
}

uint32_t mkmodel_file_type(const mkmodel_options *opt)
{
    if (opt->mix == MKMODEL_MIX_Q4_K_M) return 15;
    switch (opt->type) {
    case QT_F32: return 0;
    case QT_F16: return 1;
    case QT_Q4_0: return 2;
    case QT_Q4_1: return 3;
    case QT_Q8_0: return 7;
    case QT_Q5_0: return 8;
    case QT_Q5_1: return 9;
    case QT_Q2_K: return 10;
    case QT_Q3_K: return 11; /* Q3_K_S: every matrix Q3_K */
    case QT_Q4_K: return 14; /* Q4_K_S */
    case QT_Q5_K: return 16; /* Q5_K_S */
    case QT_Q6_K: return 18;
    case QT_BF16: return 32;
    default: return 0;
    }
}
