/* make_corpus.c - writes the fuzzer's seed corpus: a few tiny valid GGUF
 * files made with the project's writer (every metadata type and nested
 * arrays; tensors of several types; a non-default alignment; a vocabulary
 * without tensors). Usage: fuzz_gguf_corpus DIR. Exit 1 on any error.
 */
#include "gguf/gguf.h"
#include "quant/quant.h"

#include <stdio.h>
#include <string.h>

static int finish(gguf_writer *w, const char *dir, const char *name, const void *data,
                  const size_t *sizes, int n_tensors)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    glimp_error err = {0};
    glimp_status st = gguf_writer_begin(w, path, &err);
    const unsigned char *p = data;
    for (int i = 0; i < n_tensors && !st; i++) {
        st = gguf_writer_write_data(w, p, sizes[i], &err);
        p += sizes[i];
    }
    if (!st) st = gguf_writer_finish(w, &err);
    gguf_writer_free(w);
    if (st) fprintf(stderr, "%s: %s\n", path, err.msg);
    return st ? 1 : 0;
}

static int write_metadata(const char *dir)
{
    gguf_writer *w = gguf_writer_create(NULL);
    gguf_writer_add_str(w, "general.architecture", "llama");
    gguf_writer_add_u32(w, "k.u32", 7);
    gguf_writer_add_i32(w, "k.i32", -7);
    gguf_writer_add_u64(w, "k.u64", 1ull << 40);
    gguf_writer_add_f32(w, "k.f32", 0.5f);
    gguf_writer_add_bool(w, "k.bool", true);
    const int16_t i16[3] = {-1, 2, -3};
    gguf_writer_add_arr(w, "k.arr_i16", GGUF_TYPE_INT16, i16, 3);
    const double f64[2] = {1.5, -2.25};
    gguf_writer_add_arr(w, "k.arr_f64", GGUF_TYPE_FLOAT64, f64, 2);
    const gguf_str strs[2] = {{"ab", 2}, {"", 0}};
    gguf_writer_add_arr_str(w, "k.arr_str", strs, 2);
    /* scalars without a typed setter, and an array of arrays, via add_kv */
    gguf_kv kv;
    memset(&kv, 0, sizeof kv);
    kv.key.ptr = "k.i8";
    kv.key.len = 4;
    kv.value.type = GGUF_TYPE_INT8;
    kv.value.i64 = -5;
    gguf_writer_add_kv(w, &kv);
    gguf_value inner[2];
    memset(inner, 0, sizeof inner);
    inner[0].type = inner[1].type = GGUF_TYPE_ARRAY;
    inner[0].arr.elem = GGUF_TYPE_INT16;
    inner[0].arr.n = 3;
    inner[0].arr.raw = i16;
    inner[1].arr.elem = GGUF_TYPE_STRING;
    inner[1].arr.n = 0;
    memset(&kv, 0, sizeof kv);
    kv.key.ptr = "k.nested";
    kv.key.len = 8;
    kv.value.type = GGUF_TYPE_ARRAY;
    kv.value.arr.elem = GGUF_TYPE_ARRAY;
    kv.value.arr.n = 2;
    kv.value.arr.items = inner;
    gguf_writer_add_kv(w, &kv);
    return finish(w, dir, "metadata.gguf", NULL, NULL, 0);
}

static int write_tensors(const char *dir, uint32_t alignment, const char *name)
{
    static unsigned char data[4096];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
    gguf_writer *w = gguf_writer_create(NULL);
    if (alignment) gguf_writer_set_alignment(w, alignment);
    gguf_writer_add_str(w, "general.architecture", "qwen2");
    const uint64_t a[2] = {4, 2}, b[1] = {8}, c[2] = {32, 2}, d[1] = {256};
    gguf_writer_add_tensor_info(w, "a.weight", QT_F32, 2, a);
    gguf_writer_add_tensor_info(w, "b.bias", QT_F16, 1, b);
    gguf_writer_add_tensor_info(w, "c.weight", QT_Q8_0, 2, c);
    gguf_writer_add_tensor_info(w, "d.weight", QT_Q4_K, 1, d);
    const size_t sizes[4] = {32, 16, 68, 144};
    return finish(w, dir, name, data, sizes, 4);
}

static int write_vocab(const char *dir)
{
    gguf_writer *w = gguf_writer_create(NULL);
    gguf_writer_add_str(w, "general.architecture", "llama");
    gguf_writer_add_str(w, "tokenizer.ggml.model", "llama");
    const gguf_str toks[6] = {{"<unk>", 5}, {"<s>", 3}, {"</s>", 4},
                              {"<0x0A>", 6}, {"\xe2\x96\x81", 3}, {"\xe2\x96\x81" "a", 4}};
    const float scores[6] = {0, 0, 0, 0, -1, -2};
    const int32_t types[6] = {2, 3, 3, 6, 1, 1};
    gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", toks, 6);
    gguf_writer_add_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, 6);
    gguf_writer_add_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 6);
    gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
    return finish(w, dir, "vocab.gguf", NULL, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_gguf_corpus DIR\n");
        return 2;
    }
    int bad = write_metadata(argv[1]) + write_tensors(argv[1], 0, "tensors.gguf") +
              write_tensors(argv[1], 64, "tensors_align64.gguf") + write_vocab(argv[1]);
    return bad ? 1 : 0;
}
