/* test_gguf_write.c - writer round trip: every metadata type (nested arrays
 * included) and tensors of several types are written, read back with the
 * reader and compared; layout rules (alignment, padding, offsets), byte-exact
 * reproducibility, and the writer's error paths. */
#include "test_gguf_util.h"

#include <sys/stat.h>

static void check_round_trip(uint32_t alignment)
{
    size_t len;
    uint8_t *buf = sample_bytes(alignment, &len);
    glimp_error err = {0};
    gguf_file *f = gguf_open_memory(buf, len, &err);
    REQUIRE(f != NULL, "open written file: %s", err.msg);
    uint64_t align = alignment ? alignment : GGUF_DEFAULT_ALIGNMENT;
    CHECK(gguf_version(f) == 3, "version %u", gguf_version(f));
    CHECK(gguf_alignment(f) == align, "alignment %llu", (unsigned long long)gguf_alignment(f));
    CHECK(gguf_data_offset(f) % align == 0, "data offset aligned");
    CHECK((gguf_find(f, "general.alignment") != NULL) == (align != GGUF_DEFAULT_ALIGNMENT),
          "general.alignment written only when not the default");
    CHECK(len % align == 0, "file padded to the alignment (%zu)", len);

    /* typed setters */
    gguf_str s;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    bool b = true;
    CHECK(gguf_get_str(f, "general.architecture", &s) && gguf_str_eq(s, "llama"), "arch");
    CHECK(gguf_get_u32(f, "llama.block_count", &u32) && u32 == 1, "block_count");
    CHECK(gguf_get_i64(f, "w.i32", &i64) && i64 == -7, "i32");
    CHECK(!gguf_get_u32(f, "w.i32", &u32), "negative does not convert to u32");
    CHECK(gguf_get_u64(f, "w.u64", &u64) && u64 == 1ull << 40, "u64");
    CHECK(!gguf_get_u32(f, "w.u64", &u32), "2^40 does not fit u32");
    CHECK(gguf_get_f32(f, "w.f32", &f32) && f32 == 1.5f, "f32");
    CHECK(gguf_get_bool(f, "w.bool", &b) && !b, "bool");
    CHECK(!gguf_get_bool(f, "w.f32", &b), "f32 is not bool");
    CHECK(!gguf_get_str(f, "missing.key", &s), "absent key");
    const gguf_value *a = gguf_get_arr(f, "w.arr_f32");
    CHECK(a && a->arr.elem == GGUF_TYPE_FLOAT32 && a->arr.n == 2 && gguf_arr_f64(a, 0) == -1.0 &&
              gguf_arr_f64(a, 1) == 2.0 && gguf_arr_i64(a, 1) == 2,
          "f32 array");
    a = gguf_get_arr(f, "w.arr_str");
    CHECK(a && a->arr.elem == GGUF_TYPE_STRING && a->arr.n == 2 && a->arr.items &&
              gguf_str_eq(a->arr.items[0].str, "x") && a->arr.items[1].str.len == 3 &&
              !memcmp(a->arr.items[1].str.ptr, "y\0z", 3),
          "string array with a NUL");

    /* values copied with add_kv: deep equality, in order */
    sample_values sv;
    sample_values_init(&sv);
    uint64_t first = 8; /* after the 8 typed entries */
    CHECK(gguf_n_kv(f) == first + (uint64_t)sv.n + (align != GGUF_DEFAULT_ALIGNMENT),
          "kv count %llu", (unsigned long long)gguf_n_kv(f));
    for (int i = 0; i < sv.n; i++) {
        const gguf_kv *kv = gguf_kv_at(f, first + (uint64_t)i);
        REQUIRE(kv != NULL, "kv %d", i);
        CHECK(kv->key.len == sv.kvs[i].key.len &&
                  !memcmp(kv->key.ptr, sv.kvs[i].key.ptr, kv->key.len),
              "key %d", i);
        CHECK(value_eq(&kv->value, &sv.kvs[i].value), "value of %.*s", (int)kv->key.len,
              kv->key.ptr);
        CHECK(gguf_find(f, sv.kvs[i].key.ptr) == &kv->value, "find %s", sv.kvs[i].key.ptr);
    }
    CHECK(gguf_get_i64(f, "t.i8", &i64) && i64 == -100, "i8 sign-extended");
    CHECK(gguf_get_i64(f, "t.i64", &i64) && i64 == INT64_MIN + 7, "i64");
    CHECK(!gguf_get_i64(f, "t.u64", &i64), "u64 above INT64_MAX is not an i64");
    CHECK(gguf_get_u32(f, "t.u16", &u32) && u32 == 65000, "u16 as u32");
    a = gguf_get_arr(f, "t.arr_i32");
    CHECK(a && gguf_arr_i64(a, 0) == -1 && gguf_arr_u64(a, 2) == 123456 &&
              gguf_arr_f64(a, 2) == 123456.0,
          "i32 array getters");
    a = gguf_get_arr(f, "t.arr_nested");
    CHECK(a && a->arr.elem == GGUF_TYPE_ARRAY && a->arr.n == 3 &&
              a->arr.items[1].arr.elem == GGUF_TYPE_STRING &&
              gguf_str_eq(a->arr.items[1].arr.items[1].str, "\xe2\x96\x81the"),
          "nested array");

    /* tensors */
    CHECK(gguf_n_tensors(f) == N_SAMPLE_TENSORS, "tensor count");
    uint64_t expect_offset = 0;
    for (size_t i = 0; i < N_SAMPLE_TENSORS; i++) {
        const sample_tensor *st = &sample_tensors[i];
        const gguf_tensor *t = gguf_find_tensor(f, st->name);
        REQUIRE(t != NULL && t == gguf_tensor_at(f, i), "tensor %s", st->name);
        CHECK(t->type == st->type && t->n_dims == st->n_dims, "type/dims of %s", st->name);
        for (int d = 0; d < 4; d++) CHECK(t->ne[d] == st->ne[d], "%s ne[%d]", st->name, d);
        uint64_t row;
        qt_row_size(st->type, st->ne[0], &row);
        CHECK(t->nbytes == row * st->ne[1] * st->ne[2] * st->ne[3], "nbytes of %s", st->name);
        CHECK(t->offset == expect_offset, "offset of %s: %llu", st->name,
              (unsigned long long)t->offset);
        expect_offset += (t->nbytes + align - 1) / align * align;
        CHECK((const uint8_t *)t->data == buf + gguf_data_offset(f) + t->offset, "data view");
        bool same = true;
        for (uint64_t k = 0; k < t->nbytes; k++)
            same = same && ((const uint8_t *)t->data)[k] == sample_byte(i, k);
        CHECK(same, "data of %s", st->name);
    }
    CHECK(gguf_data_offset(f) + expect_offset == len, "file ends after the last padded tensor");
    CHECK(gguf_find_tensor(f, "nope") == NULL, "absent tensor");
    gguf_close(f);

    /* same input, same bytes */
    size_t len2;
    uint8_t *buf2 = sample_bytes(alignment, &len2);
    CHECK(len2 == len && !memcmp(buf, buf2, len), "byte-identical rewrite");
    free(buf2);
    free(buf);
}

static void check_writer_errors(void)
{
    char path[] = "/tmp/glimp_gguf_err_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    glimp_error err = {0};
    const uint64_t ne[2] = {256, 4};

    gguf_writer *w = gguf_writer_create(&err);
    CHECK(gguf_writer_add_u32(w, "a", 1) == GLIMP_OK, "first a");
    CHECK(gguf_writer_add_str(w, "a", "x") == GLIMP_ERR_ARG, "duplicate key");
    CHECK(gguf_writer_add_u32(w, "b", 2) == GLIMP_OK, "later adds still work");
    CHECK(gguf_writer_begin(w, path, &err) == GLIMP_ERR_ARG && strstr(err.msg, "duplicate key 'a'"),
          "begin reports the first failure: %s", err.msg);
    gguf_writer_free(w);

    w = gguf_writer_create(&err);
    CHECK(gguf_writer_add_tensor_info(w, "t", 16 /* IQ2_XXS */, 2, ne) == GLIMP_ERR_UNSUPPORTED,
          "unsupported type");
    CHECK(gguf_writer_begin(w, path, &err) == GLIMP_ERR_UNSUPPORTED && strstr(err.msg, "IQ2_XXS"),
          "message names the type: %s", err.msg);
    gguf_writer_free(w);

    w = gguf_writer_create(&err);
    const uint64_t odd[1] = {100};
    CHECK(gguf_writer_add_tensor_info(w, "t", QT_Q4_K, 1, odd) == GLIMP_ERR_ARG, "row length not a multiple of the block size");
    gguf_writer_free(w);

    w = gguf_writer_create(&err);
    CHECK(gguf_writer_add_tensor_info(w, "t", QT_F32, 2, ne) == GLIMP_OK, "t");
    CHECK(gguf_writer_add_tensor_info(w, "t", QT_F32, 2, ne) == GLIMP_ERR_ARG, "duplicate tensor");
    CHECK(gguf_writer_add_u64(w, "general.alignment", 64) == GLIMP_ERR_ARG,
          "alignment must be u32");
    gguf_writer_free(w);

    w = gguf_writer_create(&err);
    gguf_writer_add_tensor_info(w, "t", QT_F32, 2, ne);
    CHECK(gguf_writer_add_u32(w, "general.alignment", 64) == GLIMP_OK, "alignment key");
    glimp_status st = gguf_writer_begin(w, path, &err);
    REQUIRE(st == GLIMP_OK, "begin: %s", err.msg);
    CHECK(gguf_writer_add_u32(w, "late", 1) == GLIMP_ERR_ARG, "add after begin");
    static float zeros[256 * 4];
    CHECK(gguf_writer_write_data(w, zeros, sizeof zeros + 4, &err) == GLIMP_ERR_ARG,
          "too many bytes");
    CHECK(gguf_writer_write_data(w, zeros, 100, &err) == GLIMP_OK, "partial");
    CHECK(gguf_writer_finish(w, &err) == GLIMP_ERR_ARG, "finish with data missing");
    gguf_writer_free(w);
    struct stat sb;
    CHECK(stat(path, &sb) != 0, "an unfinished file is removed");

    w = gguf_writer_create(&err);
    gguf_writer_add_tensor_info(w, "t", QT_F32, 2, ne);
    gguf_writer_add_u32(w, "general.alignment", 64);
    st = gguf_writer_begin(w, path, &err);
    REQUIRE(st == GLIMP_OK, "begin: %s", err.msg);
    CHECK(gguf_writer_write_data(w, zeros, sizeof zeros, &err) == GLIMP_OK, "data");
    CHECK(gguf_writer_finish(w, &err) == GLIMP_OK, "finish: %s", err.msg);
    gguf_writer_free(w);
    gguf_file *f = gguf_open(path, &err);
    CHECK(f && gguf_alignment(f) == 64 && gguf_n_kv(f) == 1, "alignment from metadata: %s",
          err.msg);
    gguf_close(f);

    w = gguf_writer_create(&err);
    CHECK(gguf_writer_begin(w, "/nonexistent-dir/x.gguf", &err) == GLIMP_ERR_IO, "I/O error");
    gguf_writer_free(w);
    remove(path);
}

/* Copying every entry of a real file with add_kv reproduces its metadata. */
static void check_copy_shared(void)
{
    const char *src = test_shared_path("tokenizer/ggml-vocab-llama-spm.gguf");
    if (!src) return;
    glimp_error err = {0};
    gguf_file *in = gguf_open(src, &err);
    REQUIRE(in != NULL, "%s", err.msg);
    char path[] = "/tmp/glimp_gguf_copy_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    gguf_writer *w = gguf_writer_create(&err);
    for (uint64_t i = 0; i < gguf_n_kv(in); i++) gguf_writer_add_kv(w, gguf_kv_at(in, i));
    CHECK(gguf_writer_begin(w, path, &err) == GLIMP_OK && gguf_writer_finish(w, &err) == GLIMP_OK,
          "copy: %s", err.msg);
    gguf_writer_free(w);
    gguf_file *out = gguf_open(path, &err);
    REQUIRE(out != NULL, "reopen copy: %s", err.msg);
    CHECK(gguf_n_kv(out) == gguf_n_kv(in), "kv count");
    for (uint64_t i = 0; i < gguf_n_kv(in); i++) {
        const gguf_kv *a = gguf_kv_at(in, i), *b = gguf_kv_at(out, i);
        CHECK(a->key.len == b->key.len && !memcmp(a->key.ptr, b->key.ptr, a->key.len) &&
                  value_eq(&a->value, &b->value),
              "entry %llu", (unsigned long long)i);
    }
    gguf_close(out);
    gguf_close(in);
    remove(path);
}

int main(void)
{
    check_round_trip(0);
    check_round_trip(64);
    check_round_trip(4096);
    check_writer_errors();
    check_copy_shared();
    return test_finish();
}
