/* fuzz_gguf.c - libFuzzer target: the GGUF reader on arbitrary bytes.
 *
 * Parses the input with gguf_open_memory and, when it parses, reads every
 * view the result hands out (keys, strings, array elements, first and last
 * byte of each tensor's data) and looks each key and tensor up by name, so
 * the sanitizers see any pointer that escapes the input. Crashes, leaks and
 * sanitizer reports are the findings; parse errors are expected.
 */
#include "gguf/gguf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch_value(const gguf_value *v)
{
    if (v->type == GGUF_TYPE_STRING && v->str.len) {
        sink ^= (uint8_t)(v->str.ptr[0] ^ v->str.ptr[v->str.len - 1]);
    } else if (v->type == GGUF_TYPE_ARRAY && v->arr.n) {
        if (gguf_type_size(v->arr.elem)) {
            sink ^= (uint8_t)gguf_arr_u64(v, 0) ^ (uint8_t)gguf_arr_i64(v, v->arr.n - 1);
            sink ^= (uint8_t)(gguf_arr_f64(v, v->arr.n - 1) != 0.0);
        } else {
            for (uint64_t i = 0; i < v->arr.n; i++) touch_value(&v->arr.items[i]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glimp_error err;
    gguf_file *f = gguf_open_memory(data, size, &err);
    if (!f) return 0;
    char name[256];
    for (uint64_t i = 0; i < gguf_n_kv(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        touch_value(&kv->value);
        if (kv->key.len < sizeof name && !memchr(kv->key.ptr, 0, kv->key.len)) {
            memcpy(name, kv->key.ptr, kv->key.len);
            name[kv->key.len] = 0;
            sink ^= (uint8_t)(gguf_find(f, name) == &kv->value);
        }
    }
    for (uint64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        const uint8_t *d = t->data;
        sink ^= d[0] ^ d[t->nbytes - 1];
        if (t->name.len < sizeof name && !memchr(t->name.ptr, 0, t->name.len)) {
            memcpy(name, t->name.ptr, t->name.len);
            name[t->name.len] = 0;
            sink ^= (uint8_t)(gguf_find_tensor(f, name) == t);
        }
    }
    gguf_close(f);
    return 0;
}
