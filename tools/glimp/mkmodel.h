/* mkmodel.h - pieces of `glimp mkmodel` (random-weight GGUF models).
 *
 * mkmodel_presets.c: real model shapes by name. mkmodel_vocab.c: the
 * tokenizer metadata (copied from a GGUF file, or a synthetic
 * SentencePiece-style vocabulary). mkmodel_weights.c: the tensor list,
 * per-tensor types, and the streaming generate -> quantize -> write loop.
 * Functions report failures as a glimp_status plus a message in err.
 */
#ifndef GLIMP_CLI_MKMODEL_H
#define GLIMP_CLI_MKMODEL_H

#include "gguf/gguf.h"

/* Hyperparameters of one model. */
typedef struct mkmodel_shape {
    const char *name;  /* preset name (general.name) */
    const char *arch;  /* "llama", "qwen2", "qwen3" */
    uint32_t n_layer;
    uint32_t n_embd;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim; /* n_embd / n_head except where the model says (qwen3) */
    uint32_t n_ff;
    uint32_t n_vocab;
    uint32_t n_ctx;    /* training context length */
    float rope_theta;
    float rms_eps;
    bool tied;         /* output projection shares token_embd */
} mkmodel_shape;

/* The preset named `name`, or NULL. */
const mkmodel_shape *mkmodel_preset(const char *name);
/* Preset i (NULL past the end), for listings. */
const mkmodel_shape *mkmodel_preset_at(int i);

/* Synthetic vocabularies have the 3 specials and 256 byte tokens at least. */
#define MKMODEL_MIN_SYNTH_VOCAB 259u

/* Adds the tokenizer.* keys: copied verbatim from the GGUF at vocab_path
 * (and *n_vocab set from its token count), or, when vocab_path is NULL, a
 * synthetic SentencePiece-style `llama` vocabulary of *n_vocab tokens. */
glimp_status mkmodel_add_vocab(gguf_writer *w, const char *vocab_path, uint32_t *n_vocab,
                               glimp_error *err);

/* How the 2-D weights get their types: all --type (falling back where rows
 * do not fit), or llama.cpp's Q4_K_M mix (see mkmodel_weights.c). */
typedef enum mkmodel_mix { MKMODEL_MIX_PURE, MKMODEL_MIX_Q4_K_M } mkmodel_mix;

typedef struct mkmodel_options {
    uint32_t type;     /* ggml type of the 2-D weights (Q4_K for the Q4_K_M mix) */
    mkmodel_mix mix;
    uint64_t seed;
    int n_threads;     /* threads converting rows; 0 = the physical cores */
    bool verbose;      /* progress and fallback notes on stderr */
} mkmodel_options;

/* Declares every tensor of `shape` in w (with the per-tensor type, falling
 * back as llama.cpp does for rows the type cannot hold) and returns the
 * number declared; after gguf_writer_begin, mkmodel_write_tensors streams
 * their data in the same order. */
glimp_status mkmodel_declare_tensors(gguf_writer *w, const mkmodel_shape *shape,
                                     const mkmodel_options *opt, glimp_error *err);
glimp_status mkmodel_write_tensors(gguf_writer *w, const mkmodel_shape *shape,
                                   const mkmodel_options *opt, glimp_error *err);

/* llama.cpp's general.file_type (llama_ftype) for the options' type and mix. */
uint32_t mkmodel_file_type(const mkmodel_options *opt);

#endif
