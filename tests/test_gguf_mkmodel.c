/* test_gguf_mkmodel.c - files written by `glimp mkmodel`, read back with the
 * project's reader: metadata keys as llama.cpp spells them, the tensor list
 * of each architecture with shapes and types (K-quant fallback included),
 * llama.cpp's Q4_K_M type mix tensor by tensor (file_type 15),
 * weight statistics (matrices ~N(0, 1/fan_in), norms ~1), byte-identical
 * output for one seed, a vocabulary copied verbatim, and a synthetic
 * vocabulary the project's tokenizer loads and round-trips. Tiny models only.
 */
/* test-links: gguf quant base text */
#include "test_gguf_util.h"

#include <sys/wait.h>

static const char *bin;
static char dir[] = "/tmp/glimp_mkmodel_XXXXXX";

/* Runs `glimp mkmodel -o DIR/name ARGS --quiet`; returns the path or NULL. */
static const char *mkmodel(const char *name, const char *args)
{
    static char path[4][512];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' mkmodel -o '%s' %s --quiet 2>/dev/null", bin, p, args);
    int rc = system(cmd);
    CHECK(rc == 0, "%s -> %d", cmd, rc);
    return rc == 0 ? p : NULL;
}

static uint32_t get_u32(const gguf_file *f, const char *key)
{
    uint32_t v = 0;
    CHECK(gguf_get_u32(f, key, &v), "key %s", key);
    return v;
}

static const gguf_tensor *tensor(const gguf_file *f, const char *name, uint32_t type,
                                 uint64_t ne0, uint64_t ne1)
{
    const gguf_tensor *t = gguf_find_tensor(f, name);
    CHECK(t != NULL, "tensor %s present", name);
    if (!t) return NULL;
    CHECK(t->type == type, "%s type %s, expected %s", name, qt_name(t->type), qt_name(type));
    CHECK(t->n_dims == (ne1 ? 2u : 1u) && t->ne[0] == ne0 && t->ne[1] == (ne1 ? ne1 : 1),
          "%s shape [%llu, %llu]", name, (unsigned long long)t->ne[0],
          (unsigned long long)t->ne[1]);
    return t;
}

/* Mean and standard deviation of a tensor's dequantized values. */
static void stats(const gguf_tensor *t, double *mean, double *sd)
{
    uint64_t n = t->ne[0] * t->ne[1];
    float *x = malloc(n * sizeof *x);
    qt_get(t->type)->to_float(t->data, x, (int64_t)n);
    double s = 0, ss = 0;
    for (uint64_t i = 0; i < n; i++) {
        s += x[i];
        ss += (double)x[i] * x[i];
    }
    *mean = s / (double)n;
    *sd = sqrt(ss / (double)n - *mean * *mean);
    free(x);
}

static void check_matrix_stats(const gguf_tensor *t)
{
    if (!t) return;
    double mean, sd, want = 1.0 / sqrt((double)t->ne[0]);
    stats(t, &mean, &sd);
    CHECK(fabs(sd / want - 1) < 0.1 && fabs(mean) < 0.1 * want, "%.*s: mean %g sd %g, want sd %g",
          (int)t->name.len, t->name.ptr, mean, sd, want);
}

static void check_qwen3(void)
{
    const char *path = mkmodel("q3.gguf", "--arch qwen3 --layers 2 --dim 256 --heads 4 --kv-heads 2 "
                                          "--head-dim 128 --ff 512 --vocab-size 600 --type Q8_0 "
                                          "--ctx 512");
    if (!path) return;
    glimp_error err = {0};
    gguf_file *f = gguf_open(path, &err);
    REQUIRE(f != NULL, "%s", err.msg);
    gguf_str s;
    CHECK(gguf_get_str(f, "general.architecture", &s) && gguf_str_eq(s, "qwen3"), "arch");
    CHECK(get_u32(f, "general.file_type") == 7, "file_type MOSTLY_Q8_0");
    CHECK(get_u32(f, "general.quantization_version") == 2, "quantization_version");
    CHECK(get_u32(f, "qwen3.block_count") == 2 && get_u32(f, "qwen3.embedding_length") == 256 &&
              get_u32(f, "qwen3.feed_forward_length") == 512 &&
              get_u32(f, "qwen3.attention.head_count") == 4 &&
              get_u32(f, "qwen3.attention.head_count_kv") == 2 &&
              get_u32(f, "qwen3.attention.key_length") == 128 &&
              get_u32(f, "qwen3.attention.value_length") == 128 &&
              get_u32(f, "qwen3.context_length") == 512,
          "hyperparameters");
    float theta = 0, eps = 0;
    CHECK(gguf_get_f32(f, "qwen3.rope.freq_base", &theta) && theta == 1e6f, "theta");
    CHECK(gguf_get_f32(f, "qwen3.attention.layer_norm_rms_epsilon", &eps) && eps == 1e-6f, "eps");
    CHECK(gguf_n_tensors(f) == 1 + 2 * 11 + 2, "tensor count %llu",
          (unsigned long long)gguf_n_tensors(f));
    check_matrix_stats(tensor(f, "token_embd.weight", QT_Q8_0, 256, 600));
    check_matrix_stats(tensor(f, "blk.1.attn_q.weight", QT_Q8_0, 256, 512));
    check_matrix_stats(tensor(f, "blk.1.attn_k.weight", QT_Q8_0, 256, 256));
    tensor(f, "blk.1.attn_v.weight", QT_Q8_0, 256, 256);
    check_matrix_stats(tensor(f, "blk.0.attn_output.weight", QT_Q8_0, 512, 256));
    tensor(f, "blk.0.ffn_gate.weight", QT_Q8_0, 256, 512);
    tensor(f, "blk.0.ffn_up.weight", QT_Q8_0, 256, 512);
    check_matrix_stats(tensor(f, "blk.0.ffn_down.weight", QT_Q8_0, 512, 256));
    tensor(f, "blk.0.attn_q_norm.weight", QT_F32, 128, 0);
    tensor(f, "blk.0.attn_k_norm.weight", QT_F32, 128, 0);
    tensor(f, "blk.1.ffn_norm.weight", QT_F32, 256, 0);
    tensor(f, "output.weight", QT_Q8_0, 256, 600);
    const gguf_tensor *norm = tensor(f, "output_norm.weight", QT_F32, 256, 0);
    if (norm) {
        double mean, sd;
        stats(norm, &mean, &sd);
        CHECK(fabs(mean - 1) < 0.05 && sd > 0.05 && sd < 0.15, "norm ~ N(1, 0.1^2): %g %g", mean,
              sd);
    }
    CHECK(gguf_find_tensor(f, "blk.0.attn_q.bias") == NULL, "no biases in qwen3");
    gguf_close(f);
}

static void check_qwen2_fallback(void)
{
    /* 96 is not a multiple of 256: Q4_K rows of 96 fall back to Q5_0 */
    const char *path = mkmodel("q2.gguf", "--arch qwen2 --layers 1 --dim 96 --heads 3 "
                                          "--kv-heads 1 --ff 256 --vocab-size 300 --type Q4_K "
                                          "--tied");
    if (!path) return;
    glimp_error err = {0};
    gguf_file *f = gguf_open(path, &err);
    REQUIRE(f != NULL, "%s", err.msg);
    CHECK(get_u32(f, "general.file_type") == 14, "file_type MOSTLY_Q4_K_S");
    CHECK(gguf_find(f, "qwen2.attention.key_length") == NULL, "no key_length when implied");
    check_matrix_stats(tensor(f, "token_embd.weight", QT_Q5_0, 96, 300));
    tensor(f, "blk.0.attn_q.weight", QT_Q5_0, 96, 96);
    tensor(f, "blk.0.attn_k.weight", QT_Q5_0, 96, 32);
    tensor(f, "blk.0.attn_q.bias", QT_F32, 96, 0);
    tensor(f, "blk.0.attn_k.bias", QT_F32, 32, 0);
    tensor(f, "blk.0.attn_v.bias", QT_F32, 32, 0);
    check_matrix_stats(tensor(f, "blk.0.ffn_down.weight", QT_Q4_K, 256, 96));
    CHECK(gguf_find_tensor(f, "output.weight") == NULL, "tied: no output.weight");
    gguf_close(f);
}

/* llama.cpp's use_more_bits() layers of an 8-layer and a 4-layer model. */
static const bool more_bits_8[8] = {1, 0, 0, 1, 0, 0, 1, 1};
static const bool more_bits_4[4] = {0, 0, 1, 1};

static void check_q4_k_m(void)
{
    /* rows of 256 fit the K-quants: tied token_embd is the output -> Q6_K;
     * attn_v and ffn_down Q6_K in the use_more_bits layers, the rest Q4_K */
    const char *path = mkmodel("m8.gguf", "--arch qwen2 --layers 8 --dim 256 --heads 4 "
                                          "--kv-heads 2 --ff 512 --vocab-size 300 --tied "
                                          "--type Q4_K_M");
    if (!path) return;
    glimp_error err = {0};
    gguf_file *f = gguf_open(path, &err);
    REQUIRE(f != NULL, "%s", err.msg);
    CHECK(get_u32(f, "general.file_type") == 15, "file_type MOSTLY_Q4_K_M");
    CHECK(get_u32(f, "general.quantization_version") == 2, "quantization_version");
    check_matrix_stats(tensor(f, "token_embd.weight", QT_Q6_K, 256, 300));
    CHECK(gguf_find_tensor(f, "output.weight") == NULL, "tied");
    char name[64];
    for (uint32_t l = 0; l < 8; l++) {
        uint32_t more = more_bits_8[l] ? QT_Q6_K : QT_Q4_K;
        snprintf(name, sizeof name, "blk.%u.attn_q.weight", l);
        tensor(f, name, QT_Q4_K, 256, 256);
        snprintf(name, sizeof name, "blk.%u.attn_k.weight", l);
        tensor(f, name, QT_Q4_K, 256, 128);
        snprintf(name, sizeof name, "blk.%u.attn_v.weight", l);
        check_matrix_stats(tensor(f, name, more, 256, 128));
        snprintf(name, sizeof name, "blk.%u.attn_output.weight", l);
        tensor(f, name, QT_Q4_K, 256, 256);
        snprintf(name, sizeof name, "blk.%u.ffn_gate.weight", l);
        tensor(f, name, QT_Q4_K, 256, 512);
        snprintf(name, sizeof name, "blk.%u.ffn_up.weight", l);
        tensor(f, name, QT_Q4_K, 256, 512);
        snprintf(name, sizeof name, "blk.%u.ffn_down.weight", l);
        check_matrix_stats(tensor(f, name, more, 512, 256));
        snprintf(name, sizeof name, "blk.%u.attn_v.bias", l);
        tensor(f, name, QT_F32, 128, 0);
    }
    gguf_close(f);

    /* rows of 96 do not: Q4_K -> Q5_0, Q6_K -> Q8_0 (as llama.cpp); an
     * untied token_embd is an ordinary matrix, output.weight Q8_0 */
    path = mkmodel("m4.gguf", "--arch llama --layers 4 --dim 96 --heads 3 --ff 256 "
                              "--vocab-size 300 --untied --type q4_k_m");
    if (!path) return;
    f = gguf_open(path, &err);
    REQUIRE(f != NULL, "%s", err.msg);
    CHECK(get_u32(f, "general.file_type") == 15, "file_type MOSTLY_Q4_K_M");
    tensor(f, "token_embd.weight", QT_Q5_0, 96, 300);
    check_matrix_stats(tensor(f, "output.weight", QT_Q8_0, 96, 300));
    for (uint32_t l = 0; l < 4; l++) {
        snprintf(name, sizeof name, "blk.%u.attn_q.weight", l);
        tensor(f, name, QT_Q5_0, 96, 96);
        snprintf(name, sizeof name, "blk.%u.attn_v.weight", l);
        tensor(f, name, more_bits_4[l] ? QT_Q8_0 : QT_Q5_0, 96, 96);
        snprintf(name, sizeof name, "blk.%u.ffn_up.weight", l);
        tensor(f, name, QT_Q5_0, 96, 256);
        snprintf(name, sizeof name, "blk.%u.ffn_down.weight", l);
        tensor(f, name, more_bits_4[l] ? QT_Q6_K : QT_Q4_K, 256, 96);
    }
    gguf_close(f);
}

static bool same_file(const char *a, const char *b)
{
    size_t la, lb;
    uint8_t *x = read_whole_file(a, &la), *y = read_whole_file(b, &lb);
    bool same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static void check_reproducible(void)
{
    const char *args = "--arch llama --layers 1 --dim 64 --heads 4 --ff 128 --vocab-size 300 "
                       "--type Q4_0 --seed 7";
    char a[512], b[512];
    const char *p = mkmodel("r1.gguf", args);
    snprintf(a, sizeof a, "%s", p ? p : "");
    p = mkmodel("r2.gguf", args);
    snprintf(b, sizeof b, "%s", p ? p : "");
    CHECK(same_file(a, b), "same seed, same bytes");
    p = mkmodel("r3.gguf", "--arch llama --layers 1 --dim 64 --heads 4 --ff 128 "
                           "--vocab-size 300 --type Q4_0 --seed 8");
    CHECK(p && !same_file(a, p), "another seed, other bytes");

    glimp_error err = {0};
    gguf_file *f = gguf_open(a, &err);
    REQUIRE(f != NULL, "%s", err.msg);
    CHECK(get_u32(f, "llama.rope.dimension_count") == 16 && get_u32(f, "llama.vocab_size") == 300 &&
              get_u32(f, "llama.attention.head_count_kv") == 4,
          "llama keys");
    tensor(f, "output.weight", QT_Q4_0, 64, 300); /* untied by default */
    gguf_close(f);
}

/* Every tokenizer.* entry is copied verbatim; the vocabulary size follows. */
static void check_copied_vocab(void)
{
    const char *src = test_shared_path("tokenizer/ggml-vocab-llama-spm.gguf");
    if (!src) return;
    char args[4200];
    snprintf(args, sizeof args, "--arch llama --layers 1 --dim 32 --heads 2 --ff 64 --vocab '%s'",
             src);
    const char *path = mkmodel("v.gguf", args);
    if (!path) return;
    glimp_error err = {0};
    gguf_file *in = gguf_open(src, &err), *out = gguf_open(path, &err);
    REQUIRE(in && out, "%s", err.msg);
    int copied = 0;
    for (uint64_t i = 0; i < gguf_n_kv(in); i++) {
        const gguf_kv *kv = gguf_kv_at(in, i);
        if (kv->key.len < 10 || memcmp(kv->key.ptr, "tokenizer.", 10)) continue;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)kv->key.len, kv->key.ptr);
        const gguf_value *v = gguf_find(out, key);
        CHECK(v && value_eq(v, &kv->value), "%s copied", key);
        copied++;
    }
    CHECK(copied >= 5, "%d tokenizer keys", copied);
    tensor(out, "token_embd.weight", QT_F16, 32, 32000);
    CHECK(get_u32(out, "llama.vocab_size") == 32000, "vocab size from the copied tokens");
    gguf_close(in);
    gguf_close(out);
}

/* The synthetic vocabulary is a valid SentencePiece vocabulary. */
static void check_synthetic_vocab(void)
{
    const char *path = mkmodel("s.gguf", "--arch llama --layers 1 --dim 32 --heads 2 --ff 64 "
                                         "--vocab-size 2000");
    if (!path) return;
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    REQUIRE(tok != NULL, "tokenizer loads: %s", err.msg);
    CHECK(glimp_tokenizer_n_vocab(tok) == 2000, "n_vocab");
    CHECK(!strcmp(glimp_tokenizer_model(tok), "llama"), "model");
    CHECK(glimp_token_bos(tok) == 1 && glimp_token_eos(tok) == 2, "bos/eos");
    int distinct = 0;
    for (int32_t id = 0; id < 2000; id++) {
        size_t len;
        const char *text = glimp_token_text(tok, id, &len);
        distinct += text && glimp_token_lookup(tok, text, len) == id;
    }
    CHECK(distinct == 2000, "every token text is distinct (%d)", distinct);
    static const char *const texts[] = {"hello world", "the cat sat on a mat", "Zebra 42!\n\tok"};
    for (int i = 0; i < 3; i++) {
        int n = 0;
        int32_t *ids = glimp_tokenize_alloc(tok, texts[i], strlen(texts[i]), false, false, &n, &err);
        CHECK(ids && n > 0, "tokenize '%s': %s", texts[i], err.msg);
        char *back = ids ? glimp_detokenize(tok, ids, (size_t)n, false, NULL, &err) : NULL;
        CHECK(back && !strcmp(back, texts[i]), "round trip '%s' -> '%s'", texts[i],
              back ? back : "(null)");
        if (i == 0) CHECK(n < 11, "pieces merge: %d tokens for '%s'", n, texts[i]);
        free(back);
        free(ids);
    }
    glimp_tokenizer_free(tok);
}

int main(void)
{
    bin = getenv("GLIMP_BIN");
    if (!bin) test_skip("GLIMP_BIN not set (run through ctest)");
    const char *made = mkdtemp(dir);
    REQUIRE(made != NULL, "mkdtemp");
    check_qwen3();
    check_qwen2_fallback();
    check_q4_k_m();
    check_reproducible();
    check_copied_vocab();
    check_synthetic_vocab();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_finish();
}
