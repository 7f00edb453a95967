/* gguf_access.c - looking things up in a parsed GGUF file: keys, tensors,
 * typed getters with range-checked conversions, array elements, type names.
 *
 * Getters never fail loudly: they return false (or NULL) when a key is
 * absent or its value cannot be represented in the requested type.
 */
#include "gguf/gguf_internal.h"

#include "base/error.h"

#include <math.h>
#include <string.h>

uint32_t gguf_version(const gguf_file *f) { return f->version; }
uint64_t gguf_alignment(const gguf_file *f) { return f->alignment; }
uint64_t gguf_file_size(const gguf_file *f) { return f->size; }
uint64_t gguf_data_offset(const gguf_file *f) { return f->data_offset; }
uint64_t gguf_n_kv(const gguf_file *f) { return f->n_kv; }
uint64_t gguf_n_tensors(const gguf_file *f) { return f->n_tensors; }

const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i)
{
    return i < f->n_kv ? &f->kvs[i] : NULL;
}

const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i)
{
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gguf_value *gguf_find(const gguf_file *f, const char *key)
{
    uint64_t i = gguf_index_find(&f->kv_index, key, strlen(key));
    return i == UINT64_MAX ? NULL : &f->kvs[i].value;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name)
{
    uint64_t i = gguf_index_find(&f->tensor_index, name, strlen(name));
    return i == UINT64_MAX ? NULL : &f->tensors[i];
}

static bool is_unsigned(gguf_type t)
{
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_UINT32 ||
           t == GGUF_TYPE_UINT64;
}

static bool is_signed(gguf_type t)
{
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 ||
           t == GGUF_TYPE_INT64;
}

/* Any integer value as u64; false for negative numbers and non-integers. */
static bool value_as_u64(const gguf_value *v, uint64_t *out)
{
    if (is_unsigned(v->type)) *out = v->u64;
    else if (is_signed(v->type) && v->i64 >= 0) *out = (uint64_t)v->i64;
    else return false;
    return true;
}

bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out)
{
    const gguf_value *v = gguf_find(f, key);
    return v && value_as_u64(v, out);
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out)
{
    uint64_t u;
    if (!gguf_get_u64(f, key, &u) || u > UINT32_MAX) return false;
    *out = (uint32_t)u;
    return true;
}

bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out)
{
    const gguf_value *v = gguf_find(f, key);
    if (!v) return false;
    if (is_signed(v->type)) *out = v->i64;
    else if (is_unsigned(v->type) && v->u64 <= (uint64_t)INT64_MAX) *out = (int64_t)v->u64;
    else return false;
    return true;
}

bool gguf_get_f32(const gguf_file *f, const char *key, float *out)
{
    const gguf_value *v = gguf_find(f, key);
    if (!v) return false;
    if (v->type == GGUF_TYPE_FLOAT32 || v->type == GGUF_TYPE_FLOAT64) *out = (float)v->f64;
    else if (is_signed(v->type)) *out = (float)v->i64;
    else if (is_unsigned(v->type)) *out = (float)v->u64;
    else return false;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out)
{
    const gguf_value *v = gguf_find(f, key);
    if (!v || v->type != GGUF_TYPE_BOOL) return false;
    *out = v->u64 != 0;
    return true;
}

bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out)
{
    const gguf_value *v = gguf_find(f, key);
    if (!v || v->type != GGUF_TYPE_STRING) return false;
    *out = v->str;
    return true;
}

const gguf_value *gguf_get_arr(const gguf_file *f, const char *key)
{
    const gguf_value *v = gguf_find(f, key);
    return v && v->type == GGUF_TYPE_ARRAY ? v : NULL;
}

/* Element i of a numeric array as raw little-endian bits, zero-extended. */
static uint64_t arr_bits(const gguf_value *arr, uint64_t i)
{
    GLIMP_ASSERT(arr->type == GGUF_TYPE_ARRAY && i < arr->arr.n);
    size_t size = gguf_type_size(arr->arr.elem);
    if (!size) return 0;
    const uint8_t *b = (const uint8_t *)arr->arr.raw + i * size;
    uint64_t v = 0;
    for (size_t k = 0; k < size; k++) v |= (uint64_t)b[k] << (8 * k);
    return v;
}

/* Element i converted to int64 when it is an integer or bool. */
static int64_t arr_int(const gguf_value *arr, uint64_t i)
{
    uint64_t bits = arr_bits(arr, i);
    switch (arr->arr.elem) {
    case GGUF_TYPE_INT8: return (int8_t)bits;
    case GGUF_TYPE_INT16: return (int16_t)bits;
    case GGUF_TYPE_INT32: return (int32_t)bits;
    default: return (int64_t)bits;
    }
}

double gguf_arr_f64(const gguf_value *arr, uint64_t i)
{
    uint64_t bits = arr_bits(arr, i);
    if (arr->arr.elem == GGUF_TYPE_FLOAT32) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        return f;
    }
    if (arr->arr.elem == GGUF_TYPE_FLOAT64) {
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    if (arr->arr.elem == GGUF_TYPE_UINT64) return (double)bits;
    return (double)arr_int(arr, i);
}

int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i)
{
    if (arr->arr.elem == GGUF_TYPE_FLOAT32 || arr->arr.elem == GGUF_TYPE_FLOAT64)
        return (int64_t)llround(gguf_arr_f64(arr, i));
    return arr_int(arr, i);
}

uint64_t gguf_arr_u64(const gguf_value *arr, uint64_t i)
{
    if (arr->arr.elem == GGUF_TYPE_FLOAT32 || arr->arr.elem == GGUF_TYPE_FLOAT64)
        return (uint64_t)llround(gguf_arr_f64(arr, i));
    return (uint64_t)arr_int(arr, i);
}

bool gguf_str_eq(gguf_str s, const char *cstr)
{
    size_t n = strlen(cstr);
    return s.len == n && memcmp(s.ptr, cstr, n) == 0;
}

const char *gguf_type_name(gguf_type t)
{
    static const char *const names[GGUF_TYPE_COUNT] = {
        [GGUF_TYPE_UINT8] = "u8",    [GGUF_TYPE_INT8] = "i8",     [GGUF_TYPE_UINT16] = "u16",
        [GGUF_TYPE_INT16] = "i16",   [GGUF_TYPE_UINT32] = "u32",  [GGUF_TYPE_INT32] = "i32",
        [GGUF_TYPE_FLOAT32] = "f32", [GGUF_TYPE_BOOL] = "bool",   [GGUF_TYPE_STRING] = "str",
        [GGUF_TYPE_ARRAY] = "arr",   [GGUF_TYPE_UINT64] = "u64",  [GGUF_TYPE_INT64] = "i64",
        [GGUF_TYPE_FLOAT64] = "f64",
    };
    return (unsigned)t < GGUF_TYPE_COUNT ? names[t] : "?";
}

size_t gguf_type_size(gguf_type t)
{
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}
