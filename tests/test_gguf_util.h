/* test_gguf_util.h - a small GGUF file with every metadata type, nested
 * arrays and tensors of several types, made with the project's writer; and
 * helpers to read a file into memory and compare parsed values. Shared by
 * the gguf tests (round trip, truncation, byte flips).
 */
#ifndef GLIMP_TEST_GGUF_UTIL_H
#define GLIMP_TEST_GGUF_UTIL_H

#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test_util.h"

#include <stdint.h>
#include <unistd.h>

/* Deterministic filler bytes for tensor i. */
static inline uint8_t sample_byte(uint64_t tensor, uint64_t i)
{
    return (uint8_t)((i * 2654435761u + tensor * 97u) >> 7);
}

typedef struct sample_tensor {
    const char *name;
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[4];
} sample_tensor;

static const sample_tensor sample_tensors[] = {
    {"token_embd.weight", QT_F32, 2, {8, 3, 1, 1}},
    {"blk.0.attn_norm.weight", QT_F16, 1, {16, 1, 1, 1}},
    {"blk.0.attn_q.weight", QT_Q8_0, 2, {64, 2, 1, 1}},
    {"blk.0.ffn_up.weight", QT_Q4_K, 2, {256, 2, 1, 1}},
    {"four_d", QT_BF16, 4, {4, 2, 3, 1}}, /* 48 bytes: the file ends in padding */
};
#define N_SAMPLE_TENSORS (sizeof sample_tensors / sizeof sample_tensors[0])

/* Metadata values built in memory, added with gguf_writer_add_kv. */
typedef struct sample_values {
    gguf_kv kvs[32];
    int n;
    gguf_value inner[3];      /* items of the nested array */
    gguf_value strs[3];       /* items of the string array */
    gguf_value nested_strs[2];
    int32_t i32s[3];
    double f64s[2];
    uint8_t bools[3];
} sample_values;

static inline gguf_str sample_str(const char *s)
{
    gguf_str r = {s, strlen(s)};
    return r;
}

static inline void sample_add(sample_values *sv, const char *key, gguf_value v)
{
    sv->kvs[sv->n].key = sample_str(key);
    sv->kvs[sv->n].value = v;
    sv->n++;
}

/* Every scalar type, a string with a NUL inside, arrays of scalars, strings,
 * empty arrays and arrays of arrays (two levels). */
static inline void sample_values_init(sample_values *sv)
{
    static const char nul_str[] = "a\0b";
    memset(sv, 0, sizeof *sv);
    gguf_value v;
    memset(&v, 0, sizeof v);
    v.type = GGUF_TYPE_UINT8; v.u64 = 200; sample_add(sv, "t.u8", v);
    v.type = GGUF_TYPE_INT8; v.i64 = -100; sample_add(sv, "t.i8", v);
    v.type = GGUF_TYPE_UINT16; v.u64 = 65000; sample_add(sv, "t.u16", v);
    v.type = GGUF_TYPE_INT16; v.i64 = -32000; sample_add(sv, "t.i16", v);
    v.type = GGUF_TYPE_UINT32; v.u64 = 4000000000u; sample_add(sv, "t.u32", v);
    v.type = GGUF_TYPE_INT32; v.i64 = -2000000000; sample_add(sv, "t.i32", v);
    v.type = GGUF_TYPE_FLOAT32; v.f64 = 0.25; sample_add(sv, "t.f32", v);
    v.type = GGUF_TYPE_BOOL; v.u64 = 1; sample_add(sv, "t.bool", v);
    v.type = GGUF_TYPE_UINT64; v.u64 = UINT64_MAX - 5; sample_add(sv, "t.u64", v);
    v.type = GGUF_TYPE_INT64; v.i64 = INT64_MIN + 7; sample_add(sv, "t.i64", v);
    v.type = GGUF_TYPE_FLOAT64; v.f64 = -1.0 / 3.0; sample_add(sv, "t.f64", v);
    v.type = GGUF_TYPE_STRING; v.str.ptr = nul_str; v.str.len = 3; sample_add(sv, "t.str_nul", v);
    v.type = GGUF_TYPE_STRING; v.str = sample_str(""); sample_add(sv, "t.str_empty", v);

    sv->i32s[0] = -1; sv->i32s[1] = 0; sv->i32s[2] = 123456;
    memset(&v, 0, sizeof v);
    v.type = GGUF_TYPE_ARRAY; v.arr.elem = GGUF_TYPE_INT32; v.arr.n = 3; v.arr.raw = sv->i32s;
    sample_add(sv, "t.arr_i32", v);
    sv->f64s[0] = 1e300; sv->f64s[1] = -2.5;
    v.arr.elem = GGUF_TYPE_FLOAT64; v.arr.n = 2; v.arr.raw = sv->f64s;
    sample_add(sv, "t.arr_f64", v);
    sv->bools[0] = 1; sv->bools[2] = 1;
    v.arr.elem = GGUF_TYPE_BOOL; v.arr.n = 3; v.arr.raw = sv->bools;
    sample_add(sv, "t.arr_bool", v);
    v.arr.elem = GGUF_TYPE_UINT8; v.arr.n = 0; v.arr.raw = sv->bools;
    sample_add(sv, "t.arr_empty", v);

    static const char *const words[3] = {"<unk>", "\xe2\x96\x81the", ""};
    for (int i = 0; i < 3; i++) {
        sv->strs[i].type = GGUF_TYPE_STRING;
        sv->strs[i].str = sample_str(words[i]);
    }
    memset(&v, 0, sizeof v);
    v.type = GGUF_TYPE_ARRAY; v.arr.elem = GGUF_TYPE_STRING; v.arr.n = 3; v.arr.items = sv->strs;
    sample_add(sv, "t.arr_str", v);

    /* [[-1, 0, 123456], ["<unk>", "▁the"], []] is not one type: arrays of
     * arrays hold arrays of any element type, so this is legal GGUF. */
    sv->inner[0].type = GGUF_TYPE_ARRAY;
    sv->inner[0].arr.elem = GGUF_TYPE_INT32; sv->inner[0].arr.n = 3; sv->inner[0].arr.raw = sv->i32s;
    for (int i = 0; i < 2; i++) sv->nested_strs[i] = sv->strs[i];
    sv->inner[1].type = GGUF_TYPE_ARRAY;
    sv->inner[1].arr.elem = GGUF_TYPE_STRING; sv->inner[1].arr.n = 2;
    sv->inner[1].arr.items = sv->nested_strs;
    sv->inner[2].type = GGUF_TYPE_ARRAY;
    sv->inner[2].arr.elem = GGUF_TYPE_FLOAT32; sv->inner[2].arr.n = 0; sv->inner[2].arr.raw = sv->f64s;
    v.arr.elem = GGUF_TYPE_ARRAY; v.arr.n = 3; v.arr.items = sv->inner;
    sample_add(sv, "t.arr_nested", v);
}

/* Writes the sample file; returns its status. */
static inline glimp_status sample_write(const char *path, uint32_t alignment, glimp_error *err)
{
    sample_values sv;
    sample_values_init(&sv);
    gguf_writer *w = gguf_writer_create(err);
    if (!w) return err->status;
    if (alignment) gguf_writer_set_alignment(w, alignment);
    gguf_writer_add_str(w, "general.architecture", "llama");
    gguf_writer_add_u32(w, "llama.block_count", 1);
    gguf_writer_add_i32(w, "w.i32", -7);
    gguf_writer_add_u64(w, "w.u64", 1ull << 40);
    gguf_writer_add_f32(w, "w.f32", 1.5f);
    gguf_writer_add_bool(w, "w.bool", false);
    const float scores[2] = {-1.0f, 2.0f};
    gguf_writer_add_arr(w, "w.arr_f32", GGUF_TYPE_FLOAT32, scores, 2);
    const gguf_str toks[2] = {{"x", 1}, {"y\0z", 3}};
    gguf_writer_add_arr_str(w, "w.arr_str", toks, 2);
    for (int i = 0; i < sv.n; i++) gguf_writer_add_kv(w, &sv.kvs[i]);
    for (size_t i = 0; i < N_SAMPLE_TENSORS; i++) {
        const sample_tensor *t = &sample_tensors[i];
        gguf_writer_add_tensor_info(w, t->name, t->type, t->n_dims, t->ne);
    }
    glimp_status st = gguf_writer_begin(w, path, err);
    for (size_t i = 0; i < N_SAMPLE_TENSORS && !st; i++) {
        const sample_tensor *t = &sample_tensors[i];
        uint64_t row;
        qt_row_size(t->type, t->ne[0], &row);
        uint64_t n = row * t->ne[1] * t->ne[2] * t->ne[3];
        uint8_t *data = malloc(n);
        for (uint64_t k = 0; k < n; k++) data[k] = sample_byte(i, k);
        /* in two pieces, to exercise partial writes */
        st = gguf_writer_write_data(w, data, n / 2, err);
        if (!st) st = gguf_writer_write_data(w, data + n / 2, n - n / 2, err);
        free(data);
    }
    if (!st) st = gguf_writer_finish(w, err);
    gguf_writer_free(w);
    return st;
}

/* Reads a whole file into a malloc'd buffer (NULL on failure). */
static inline uint8_t *read_whole_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Writes the sample file to a temporary path and reads it back into memory. */
static inline uint8_t *sample_bytes(uint32_t alignment, size_t *len)
{
    char path[] = "/tmp/glimp_gguf_sample_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    glimp_error err = {0};
    glimp_status st = sample_write(path, alignment, &err);
    REQUIRE(st == GLIMP_OK, "sample_write: %s", err.msg);
    uint8_t *buf = read_whole_file(path, len);
    remove(path);
    REQUIRE(buf != NULL, "read sample");
    return buf;
}

/* Deep equality of two parsed values. */
static inline bool value_eq(const gguf_value *a, const gguf_value *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case GGUF_TYPE_STRING:
        return a->str.len == b->str.len && !memcmp(a->str.ptr, b->str.ptr, a->str.len);
    case GGUF_TYPE_ARRAY: {
        if (a->arr.elem != b->arr.elem || a->arr.n != b->arr.n) return false;
        size_t es = gguf_type_size(a->arr.elem);
        if (es) return a->arr.n == 0 || !memcmp(a->arr.raw, b->arr.raw, a->arr.n * es);
        for (uint64_t i = 0; i < a->arr.n; i++)
            if (!value_eq(&a->arr.items[i], &b->arr.items[i])) return false;
        return true;
    }
    case GGUF_TYPE_FLOAT32: return (float)a->f64 == (float)b->f64;
    case GGUF_TYPE_FLOAT64: return a->f64 == b->f64;
    default: return a->u64 == b->u64; /* integers, bool: same bits */
    }
}

#endif
