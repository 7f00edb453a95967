/* test_router_models.h - scripted "bigram" GGUF models for the router and
 * backend tests, written with the project's GGUF writer.
 *
 * A bigram model is a real llama-architecture file run by the real engine:
 * one block whose attention and feed-forward outputs are zero, so the
 * residual stream is the token embedding and the next-token logits depend
 * only on the last token. Each rule says: after token `from`, tokens to[i]
 * get logit logit[i]; every other token gets BIGRAM_FLOOR (far below, so
 * the tail mass is ~1e-12 even over 152k tokens). Rules with from = -1 apply
 * after every token no rule names. The tokenizer metadata (tokenizer.*) is
 * copied from a vocabulary GGUF, so prompts tokenize as with the real model.
 *
 * How: embedding(t) = e_slot(t) + e_C (slot 0 for unnamed tokens, C the last
 * dimension); RMS norm scales that to s = sqrt(n_embd / 2) per component;
 * output row r = (w_slot - 40 e_C) / s with w from the rules, so
 * logit(r | t) = rule logit, else -40.
 */
#ifndef GLIMP_TEST_ROUTER_MODELS_H
#define GLIMP_TEST_ROUTER_MODELS_H

#include "gguf/gguf.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BIGRAM_EMBD 16      /* room for 14 rule slots */
#define BIGRAM_FLOOR (-40.0f)
#define BIGRAM_MAX_TO 4

typedef struct bigram_rule {
    int32_t from;                 /* token id, or -1 for every other token */
    int n;                        /* successors */
    int32_t to[BIGRAM_MAX_TO];
    float logit[BIGRAM_MAX_TO];
} bigram_rule;

static glimp_status bigram_model_write(const char *path, const char *vocab_path,
                                       const bigram_rule *rules, int n_rules, glimp_error *err)
{
    const int E = BIGRAM_EMBD, C = BIGRAM_EMBD - 1;
    if (n_rules > E - 2) return GLIMP_ERR_ARG;
    gguf_file *vf = gguf_open(vocab_path, err);
    if (!vf) return err ? err->status : GLIMP_ERR_IO;
    const gguf_value *toks = gguf_get_arr(vf, "tokenizer.ggml.tokens");
    uint64_t V = toks ? toks->arr.n : 0;
    gguf_writer *w = gguf_writer_create(err);
    float *embd = calloc(V * E, sizeof *embd), *out = calloc(V * E, sizeof *out);
    float *ones = malloc(E * sizeof *ones), *zeros = calloc((size_t)E * E, sizeof *zeros);
    glimp_status st = (!w || !V || !embd || !out || !ones || !zeros) ? GLIMP_ERR_NOMEM : GLIMP_OK;
    if (st == GLIMP_OK) {
        for (int i = 0; i < E; i++) ones[i] = 1.0f;
        /* slot of each token: 1 + index of the rule naming it, else 0 */
        const float s = sqrtf((float)E / 2.0f);
        for (uint64_t t = 0; t < V; t++) {
            int slot = 0;
            for (int r = 0; r < n_rules; r++)
                if (rules[r].from == (int32_t)t) slot = 1 + r;
            embd[t * E + slot] = 1.0f;
            embd[t * E + C] = 1.0f;
            out[t * E + C] = BIGRAM_FLOOR / s;
        }
        for (int r = 0; r < n_rules; r++) {
            int slot = rules[r].from < 0 ? 0 : 1 + r;
            for (int i = 0; i < rules[r].n; i++)
                out[(uint64_t)rules[r].to[i] * E + slot] = (rules[r].logit[i] - BIGRAM_FLOOR) / s;
        }
        gguf_writer_add_str(w, "general.architecture", "llama");
        gguf_writer_add_str(w, "general.name", "bigram-test");
        gguf_writer_add_u32(w, "llama.context_length", 1024);
        gguf_writer_add_u32(w, "llama.embedding_length", (uint32_t)E);
        gguf_writer_add_u32(w, "llama.block_count", 1);
        gguf_writer_add_u32(w, "llama.feed_forward_length", (uint32_t)E);
        gguf_writer_add_u32(w, "llama.attention.head_count", 2);
        gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-6f);
        for (uint64_t i = 0; i < gguf_n_kv(vf); i++) {
            const gguf_kv *kv = gguf_kv_at(vf, i);
            if (kv->key.len > 10 && !memcmp(kv->key.ptr, "tokenizer.", 10))
                gguf_writer_add_kv(w, kv);
        }
        static const char *const sq[] = {"blk.0.attn_q.weight", "blk.0.attn_k.weight",
                                         "blk.0.attn_v.weight", "blk.0.attn_output.weight",
                                         "blk.0.ffn_gate.weight", "blk.0.ffn_up.weight",
                                         "blk.0.ffn_down.weight"};
        uint64_t ne_big[2] = {(uint64_t)E, V}, ne_sq[2] = {(uint64_t)E, (uint64_t)E};
        uint64_t ne_vec[1] = {(uint64_t)E};
        gguf_writer_add_tensor_info(w, "token_embd.weight", QT_F32, 2, ne_big);
        gguf_writer_add_tensor_info(w, "output_norm.weight", QT_F32, 1, ne_vec);
        gguf_writer_add_tensor_info(w, "output.weight", QT_F32, 2, ne_big);
        gguf_writer_add_tensor_info(w, "blk.0.attn_norm.weight", QT_F32, 1, ne_vec);
        gguf_writer_add_tensor_info(w, "blk.0.ffn_norm.weight", QT_F32, 1, ne_vec);
        for (int i = 0; i < 7; i++) gguf_writer_add_tensor_info(w, sq[i], QT_F32, 2, ne_sq);
        st = gguf_writer_begin(w, path, err);
        size_t big = V * E * sizeof(float), vec = E * sizeof(float), sqb = (size_t)E * E * 4;
        if (!st) st = gguf_writer_write_data(w, embd, big, err);
        if (!st) st = gguf_writer_write_data(w, ones, vec, err);
        if (!st) st = gguf_writer_write_data(w, out, big, err);
        if (!st) st = gguf_writer_write_data(w, ones, vec, err);
        if (!st) st = gguf_writer_write_data(w, ones, vec, err);
        for (int i = 0; i < 7 && !st; i++) st = gguf_writer_write_data(w, zeros, sqb, err);
        if (!st) st = gguf_writer_finish(w, err);
    }
    gguf_writer_free(w);
    gguf_close(vf);
    free(embd);
    free(out);
    free(ones);
    free(zeros);
    return st;
}

#endif
