/* test_gguf.c - the reader on the reference GGUF files in ../shared.
 *
 * Every .gguf under shared/ref, shared/tokenizer and shared/models must
 * parse with all tensor data inside the file; known facts from the folders'
 * READMEs are spot-checked (hyperparameters, tensor shapes and types, file
 * sizes, vocabulary sizes), and tensor data views are checked against the
 * dequantized reference tensors in shared/ref/dequant.
 */
#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test_util.h"

#include <dirent.h>

static gguf_file *open_shared(const char *rel)
{
    const char *path = test_shared_or_skip(rel);
    glimp_error err = {0};
    gguf_file *f = gguf_open(path, &err);
    CHECK(f != NULL, "%s: %s", rel, err.msg);
    return f;
}

static bool shape_is(const gguf_tensor *t, uint32_t n_dims, uint64_t ne0, uint64_t ne1)
{
    return t && t->n_dims == n_dims && t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 &&
           t->ne[3] == 1;
}

static uint32_t get_u32(const gguf_file *f, const char *key)
{
    uint32_t v = 0;
    CHECK(gguf_get_u32(f, key, &v), "key %s", key);
    return v;
}

/* Every .gguf in one folder parses; tensors lie inside the file. */
static int check_folder(const char *rel)
{
    const char *dir_path = test_shared_or_skip(rel);
    char dir_copy[4096];
    snprintf(dir_copy, sizeof dir_copy, "%s", dir_path);
    DIR *dir = opendir(dir_copy);
    CHECK(dir != NULL, "open %s", dir_copy);
    if (!dir) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".gguf")) continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir_copy, e->d_name);
        glimp_error err = {0};
        gguf_file *f = gguf_open(path, &err);
        CHECK(f != NULL, "%s: %s", path, err.msg);
        if (!f) continue;
        n++;
        CHECK(gguf_version(f) == 3 || gguf_version(f) == 2, "%s version", e->d_name);
        gguf_str arch;
        CHECK(gguf_get_str(f, "general.architecture", &arch), "%s has an architecture",
              e->d_name);
        uint64_t end = gguf_data_offset(f);
        for (uint64_t i = 0; i < gguf_n_tensors(f); i++) {
            const gguf_tensor *t = gguf_tensor_at(f, i);
            uint64_t row;
            CHECK(qt_row_size(t->type, t->ne[0], &row) &&
                      t->nbytes == row * t->ne[1] * t->ne[2] * t->ne[3],
                  "%s: %.*s size", e->d_name, (int)t->name.len, t->name.ptr);
            CHECK(t->offset % gguf_alignment(f) == 0, "aligned");
            uint64_t t_end = gguf_data_offset(f) + t->offset + t->nbytes;
            if (t_end > end) end = t_end;
        }
        CHECK(end <= gguf_file_size(f), "%s: data inside the file", e->d_name);
        gguf_close(f);
    }
    closedir(dir);
    return n;
}

static void check_stories(void)
{
    gguf_file *f = open_shared("models/stories260K.gguf");
    if (!f) return;
    gguf_str s;
    CHECK(gguf_file_size(f) == 1185376, "size");
    CHECK(gguf_get_str(f, "general.architecture", &s) && gguf_str_eq(s, "llama"), "arch");
    CHECK(get_u32(f, "llama.block_count") == 5, "5 layers");
    CHECK(get_u32(f, "llama.embedding_length") == 64, "n_embd");
    CHECK(get_u32(f, "llama.attention.head_count") == 8, "heads");
    CHECK(get_u32(f, "llama.attention.head_count_kv") == 4, "kv heads");
    CHECK(get_u32(f, "llama.feed_forward_length") == 172, "n_ff");
    CHECK(get_u32(f, "llama.context_length") == 128, "ctx");
    CHECK(get_u32(f, "llama.rope.dimension_count") == 8, "rope dims");
    CHECK(get_u32(f, "tokenizer.ggml.seperator_token_id") == 0xFFFFFFFFu, "separator id");
    float eps = 0;
    CHECK(gguf_get_f32(f, "llama.attention.layer_norm_rms_epsilon", &eps) && fabsf(eps - 1e-5f) < 1e-9f,
          "rms eps %g", eps);
    CHECK(gguf_find(f, "llama.rope.freq_base") == NULL, "no freq_base key");
    const gguf_value *tok = gguf_get_arr(f, "tokenizer.ggml.tokens");
    REQUIRE(tok && tok->arr.elem == GGUF_TYPE_STRING && tok->arr.n == 512, "512 tokens");
    CHECK(gguf_str_eq(tok->arr.items[0].str, "<unk>") && gguf_str_eq(tok->arr.items[1].str, "<s>") &&
              gguf_str_eq(tok->arr.items[2].str, "</s>") &&
              gguf_str_eq(tok->arr.items[3].str, "<0x00>") &&
              gguf_str_eq(tok->arr.items[258].str, "<0xFF>"),
          "special and byte tokens");
    const gguf_value *types = gguf_get_arr(f, "tokenizer.ggml.token_type");
    CHECK(types && types->arr.n == 512 && gguf_arr_i64(types, 0) == 2 &&
              gguf_arr_i64(types, 1) == 3 && gguf_arr_i64(types, 3) == 6,
          "token types");
    CHECK(gguf_n_tensors(f) == 48, "48 tensors");
    const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");
    CHECK(shape_is(t, 2, 64, 512) && t->type == QT_F32 && t->nbytes == 64 * 512 * 4,
          "token_embd [64, 512] F32");
    CHECK(shape_is(gguf_find_tensor(f, "blk.4.ffn_down.weight"), 2, 172, 64), "ffn_down");
    CHECK(shape_is(gguf_find_tensor(f, "blk.0.attn_k.weight"), 2, 64, 32), "attn_k");
    CHECK(shape_is(gguf_find_tensor(f, "output_norm.weight"), 1, 64, 1), "output_norm");
    CHECK(gguf_find_tensor(f, "blk.5.attn_q.weight") == NULL, "no 6th layer");
    gguf_close(f);
}

/* shared/ref: sizes and types from its README. */
static void check_ref(void)
{
    static const struct {
        const char *file;
        uint64_t size;
        uint32_t type; /* type of the 2-D weights (blk.0.attn_q.weight) */
    } lq[] = {
        {"ref/lq-f32.gguf", 5784928, QT_F32},    {"ref/lq-f16.gguf", 2901408, QT_F16},
        {"ref/lq-bf16.gguf", 2901408, QT_BF16},  {"ref/lq-q8_0.gguf", 1549728, QT_Q8_0},
        {"ref/lq-q4_0.gguf", 828832, QT_Q4_0},   {"ref/lq-q4_1.gguf", 918944, QT_Q4_1},
        {"ref/lq-q5_0.gguf", 1009056, QT_Q5_0},  {"ref/lq-q5_1.gguf", 1099168, QT_Q5_1},
        {"ref/lq-q2_k.gguf", 490912, QT_Q2_K},   {"ref/lq-q3_k.gguf", 637344, QT_Q3_K},
        {"ref/lq-q4_k.gguf", 828832, QT_Q4_K},   {"ref/lq-q5_k.gguf", 1009056, QT_Q5_K},
        {"ref/lq-q6_k.gguf", 1200544, QT_Q6_K},  {"ref/lq-q4_k_m.gguf", 904864, QT_Q4_K},
    };
    for (size_t i = 0; i < sizeof lq / sizeof lq[0]; i++) {
        gguf_file *f = open_shared(lq[i].file);
        if (!f) continue;
        CHECK(gguf_file_size(f) == lq[i].size, "%s size", lq[i].file);
        const gguf_tensor *q = gguf_find_tensor(f, "blk.0.attn_q.weight");
        CHECK(shape_is(q, 2, 256, 256) && q->type == lq[i].type, "%s attn_q", lq[i].file);
        CHECK(shape_is(gguf_find_tensor(f, "output.weight"), 2, 256, 512), "%s output", lq[i].file);
        const gguf_tensor *norm = gguf_find_tensor(f, "blk.1.ffn_norm.weight");
        CHECK(shape_is(norm, 1, 256, 1) && norm->type == QT_F32, "%s norms F32", lq[i].file);
        CHECK(get_u32(f, "llama.context_length") == 256, "ctx");
        gguf_close(f);
    }
    gguf_file *f = open_shared("ref/lq-q4_k_m.gguf");
    if (f) {
        CHECK(gguf_find_tensor(f, "output.weight")->type == QT_Q6_K &&
                  gguf_find_tensor(f, "blk.1.attn_v.weight")->type == QT_Q6_K &&
                  gguf_find_tensor(f, "blk.1.ffn_down.weight")->type == QT_Q6_K &&
                  gguf_find_tensor(f, "blk.0.ffn_down.weight")->type == QT_Q4_K,
              "Q4_K_M mix");
        gguf_close(f);
    }
    f = open_shared("ref/qv.gguf");
    if (f) {
        const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");
        CHECK(shape_is(t, 2, 64, 151936) && t->type == QT_F16, "qv token_embd F16");
        CHECK(gguf_find_tensor(f, "output.weight") == NULL, "tied");
        CHECK(shape_is(gguf_find_tensor(f, "blk.0.attn_k.bias"), 1, 32, 1), "k bias");
        CHECK(gguf_file_size(f) == 25674912, "qv size");
        bool add_bos = true;
        CHECK(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &add_bos) && !add_bos, "no BOS");
        gguf_close(f);
    }
    f = open_shared("ref/q3-f32.gguf");
    if (f) {
        CHECK(get_u32(f, "qwen3.attention.key_length") == 32, "key_length");
        CHECK(shape_is(gguf_find_tensor(f, "blk.0.attn_q.weight"), 2, 64, 128), "q3 attn_q");
        CHECK(shape_is(gguf_find_tensor(f, "blk.1.attn_output.weight"), 2, 128, 64), "q3 attn_out");
        CHECK(shape_is(gguf_find_tensor(f, "blk.0.attn_k_norm.weight"), 1, 32, 1), "q3 k_norm");
        float theta = 0;
        CHECK(gguf_get_f32(f, "qwen3.rope.freq_base", &theta) && theta == 1e6f, "theta");
        gguf_close(f);
    }
}

/* Tensor data views against independently dequantized references. */
static void check_data_views(void)
{
    const char *path = test_shared_or_skip("ref/dequant/lq-f16.blk.0.attn_q.weight.f32");
    FILE *fp = fopen(path, "rb");
    REQUIRE(fp != NULL, "open %s", path);
    static float want[256 * 256];
    size_t got = fread(want, sizeof(float), 256 * 256, fp);
    REQUIRE(got == 256 * 256, "read dequant");
    fclose(fp);
    gguf_file *f16 = open_shared("ref/lq-f16.gguf");
    gguf_file *f32 = open_shared("ref/lq-f32.gguf");
    if (!f16 || !f32) return;
    const gguf_tensor *a = gguf_find_tensor(f16, "blk.0.attn_q.weight");
    const gguf_tensor *b = gguf_find_tensor(f32, "blk.0.attn_q.weight");
    int exact = 0, close = 0;
    for (int i = 0; i < 256 * 256; i++) {
        uint16_t h;
        float x;
        memcpy(&h, (const uint8_t *)a->data + 2 * i, 2);
        memcpy(&x, (const uint8_t *)b->data + 4 * i, 4);
        exact += qt_f16_to_f32(h) == want[i];
        close += fabsf(x - want[i]) <= 1e-3f * fabsf(want[i]) + 1e-7f;
    }
    CHECK(exact == 256 * 256, "F16 view equals the reference dequantization (%d)", exact);
    CHECK(close == 256 * 256, "F32 view matches it to F16 precision (%d)", close);
    gguf_close(f16);
    gguf_close(f32);
}

/* shared/tokenizer: vocabulary sizes and models from its README. */
static void check_tokenizers(void)
{
    static const struct {
        const char *name;
        const char *model;
        uint64_t n_vocab, n_merges;
    } voc[] = {
        {"llama-spm", "llama", 32000, 0},          {"phi-3", "llama", 32064, 0},
        {"gpt-2", "gpt2", 50257, 50000},           {"deepseek-llm", "gpt2", 102400, 99757},
        {"deepseek-coder", "gpt2", 32256, 31757},  {"falcon", "gpt2", 65024, 64784},
        {"starcoder", "gpt2", 49152, 48872},       {"refact", "gpt2", 49216, 48891},
        {"mpt", "gpt2", 50432, 50009},             {"qwen2", "gpt2", 151936, 151387},
        {"deepseek-r1-qwen", "gpt2", 151936, 151387}, {"qwen3", "gpt2", 151936, 151387},
    };
    for (size_t i = 0; i < sizeof voc / sizeof voc[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tokenizer/ggml-vocab-%s.gguf", voc[i].name);
        gguf_file *f = open_shared(rel);
        if (!f) continue;
        gguf_str model;
        CHECK(gguf_get_str(f, "tokenizer.ggml.model", &model) && gguf_str_eq(model, voc[i].model),
              "%s model", voc[i].name);
        const gguf_value *tok = gguf_get_arr(f, "tokenizer.ggml.tokens");
        CHECK(tok && tok->arr.elem == GGUF_TYPE_STRING && tok->arr.n == voc[i].n_vocab,
              "%s: %llu tokens", voc[i].name, tok ? (unsigned long long)tok->arr.n : 0ull);
        const gguf_value *merges = gguf_get_arr(f, "tokenizer.ggml.merges");
        CHECK((merges ? merges->arr.n : 0) == voc[i].n_merges, "%s merges", voc[i].name);
        CHECK(gguf_n_tensors(f) == 0, "%s: vocabulary only", voc[i].name);
        gguf_close(f);
    }
    gguf_file *f = open_shared("tokenizer/ggml-vocab-qwen3.gguf");
    if (f) {
        const gguf_value *tok = gguf_get_arr(f, "tokenizer.ggml.tokens");
        CHECK(tok && gguf_str_eq(tok->arr.items[151667].str, "<think>") &&
                  gguf_str_eq(tok->arr.items[151668].str, "</think>"),
              "qwen3 think tokens");
        CHECK(get_u32(f, "tokenizer.ggml.eos_token_id") == 151645, "qwen3 eos");
        gguf_close(f);
    }
}

int main(void)
{
    test_shared_or_skip("models");
    int n = check_folder("models") + check_folder("ref") + check_folder("tokenizer");
    CHECK(n >= 1 + 19 + 12, "parsed %d reference files", n);
    printf("parsed %d reference GGUF files\n", n);
    check_stories();
    check_ref();
    check_data_views();
    check_tokenizers();
    glimp_error err = {0};
    CHECK(gguf_open("/nonexistent.gguf", &err) == NULL && err.status == GLIMP_ERR_IO &&
              strstr(err.msg, "/nonexistent.gguf"),
          "missing file: %s", err.msg);
    CHECK(gguf_open(test_shared_path("models"), &err) == NULL && err.status == GLIMP_ERR_IO,
          "directory: %s", err.msg);
    CHECK(gguf_open(test_shared_path("models/README.md"), &err) == NULL &&
              err.status == GLIMP_ERR_FORMAT && strstr(err.msg, "README.md"),
          "text file: %s", err.msg);
    return test_finish();
}
