/* mkmodel_presets.c - hyperparameters of real models, for random-weight
 * models with the same shapes (and so the same speed) as the real ones.
 *
 * Values are those of each model's published Hugging Face config.json
 * (hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
 * head_dim, intermediate_size, vocab_size, max_position_embeddings,
 * rope_theta, rms_norm_eps, tie_word_embeddings). Rope scaling (Llama 3.2's
 * llama3 scaling, Qwen's YaRN) is not reproduced. Lookups never fail.
 */
#include "mkmodel.h"

#include <string.h>

static const mkmodel_shape presets[] = {
    /* name                 arch    layers embd heads kv  hdim  n_ff   vocab   ctx     theta   eps   tied */
    {"qwen2.5-0.5b",        "qwen2", 24,  896, 14,  2,  64,  4864, 151936,  32768, 1e6f,   1e-6f, true},
    {"r1-distill-qwen-1.5b","qwen2", 28, 1536, 12,  2, 128,  8960, 151936, 131072, 1e4f,   1e-6f, false},
    {"r1-distill-qwen-32b", "qwen2", 64, 5120, 40,  8, 128, 27648, 152064, 131072, 1e6f,   1e-5f, false},
    {"qwen3-0.6b",          "qwen3", 28, 1024, 16,  8, 128,  3072, 151936,  40960, 1e6f,   1e-6f, true},
    {"qwen3-1.7b",          "qwen3", 28, 2048, 16,  8, 128,  6144, 151936,  40960, 1e6f,   1e-6f, true},
    {"qwen3-4b",            "qwen3", 36, 2560, 32,  8, 128,  9728, 151936,  40960, 1e6f,   1e-6f, true},
    {"qwen3-8b",            "qwen3", 36, 4096, 32,  8, 128, 12288, 151936,  40960, 1e6f,   1e-6f, false},
    {"tinyllama-1.1b",      "llama", 22, 2048, 32,  4,  64,  5632,  32000,   2048, 1e4f,   1e-5f, false},
    {"llama-3.2-1b",        "llama", 16, 2048, 32,  8,  64,  8192, 128256, 131072, 5e5f,   1e-5f, true},
};

const mkmodel_shape *mkmodel_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

const mkmodel_shape *mkmodel_preset_at(int i)
{
    return i >= 0 && (size_t)i < sizeof presets / sizeof presets[0] ? &presets[i] : NULL;
}
