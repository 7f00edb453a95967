/* model.h - internal layout of glimp_model: hyper-parameters and weight views.
 *
 * A model is read-only after glimp_model_load(): matrices point into the
 * GGUF mapping, or (the types of quant_r16.h, on AVX-512) into the model's
 * repacked copy; small vectors (norms, biases, rope factors) are F32 views
 * into the mapping or, for other element types, converted copies owned by
 * the model. Shapes below use ggml order: (ne0 = row length, ne1 = rows).
 * Nothing here fails; loading (model_load.c) does the checking.
 */
#ifndef GLIMP_MODEL_MODEL_H
#define GLIMP_MODEL_MODEL_H

#include <stdint.h>

#include "glimp.h"
#include "gguf/gguf.h"
#include "quant/quant_r16.h"

typedef enum model_arch {
    MODEL_ARCH_LLAMA,
    MODEL_ARCH_QWEN2,
    MODEL_ARCH_QWEN3,
} model_arch;

/* A 2-D weight matrix y = W x: `rows` output features of `cols` inputs. */
typedef struct model_matrix {
    const uint8_t *data; /* (rows, row_bytes) in the mapping */
    uint32_t type;       /* ggml type id */
    int64_t cols;        /* ne0: input features */
    int64_t rows;        /* ne1: output features */
    size_t row_bytes;
    const qt_r16_layout *r16; /* when repacked in groups of 16 rows (Q8_0, F16, BF16;
                            model_pack.c), their layout: group g at
                            data + g * 16 * row_bytes; else NULL */
} model_matrix;

typedef struct model_layer {
    const float *attn_norm;        /* (n_embd) */
    model_matrix wq;               /* (n_embd -> n_head * head_dim) */
    model_matrix wk;               /* (n_embd -> n_head_kv * head_dim) */
    model_matrix wv;               /* (n_embd -> n_head_kv * head_dim) */
    const float *bq, *bk, *bv;     /* (n_head*head_dim), (kv_dim), (kv_dim); NULL if absent */
    const float *q_norm, *k_norm;  /* (head_dim) per-head RMSNorm (qwen3); NULL otherwise */
    model_matrix wo;               /* (n_head * head_dim -> n_embd) */
    const float *ffn_norm;         /* (n_embd) */
    model_matrix w_gate, w_up;     /* (n_embd -> n_ff) */
    model_matrix w_down;           /* (n_ff -> n_embd) */
} model_layer;

typedef struct model_hparams {
    int64_t n_vocab;
    int64_t n_ctx_train;
    int64_t n_embd;
    int64_t n_layer;
    int64_t n_ff;
    int64_t n_head;
    int64_t n_head_kv;
    int64_t head_dim;  /* key_length (may differ from n_embd / n_head) */
    int64_t n_rot;     /* rotated dims per head (<= head_dim, even) */
    float rope_base;   /* theta */
    float rms_eps;
    bool rope_neox;    /* pairs (i, i + n_rot/2) instead of (2i, 2i+1) */
} model_hparams;

struct glimp_model {
    gguf_file *file;
    model_arch arch;
    model_hparams hp;
    model_matrix tok_embd;   /* (n_embd -> n_vocab): row t = embedding of token t */
    model_matrix output;     /* (n_embd -> n_vocab); = tok_embd when tied */
    const float *output_norm;/* (n_embd) */
    const float *rope_freqs; /* (n_rot / 2) divisors of the frequencies; NULL if absent */
    model_layer *layers;     /* (n_layer) */
    float **owned;           /* converted small vectors, freed with the model */
    void *packed;            /* anonymous mapping of the repacked matrices, or NULL */
    size_t packed_bytes;
    int n_owned;
    uint64_t size_bytes;
    uint64_t n_params;
};

#endif
