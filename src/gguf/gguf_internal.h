/* gguf_internal.h - the reader's state and its name index (gguf module only).
 *
 * A gguf_file owns its metadata and tensor tables and the nested array items
 * they point to; every string and data view points into `base` (the mapping
 * or the caller's buffer). Keys and tensor names are found through an
 * open-addressing hash index built while parsing, which is also how
 * duplicates are detected. Nothing here fails except gguf_index_init (NOMEM).
 */
#ifndef GLIMP_GGUF_INTERNAL_H
#define GLIMP_GGUF_INTERNAL_H

#include "gguf/gguf.h"

/* Open-addressing table of entry indices keyed by name. The entries are an
 * array of structs whose FIRST member is their gguf_str name (gguf_kv.key,
 * gguf_tensor.name), so the index reads names through (entries, stride). */
typedef struct gguf_index {
    uint64_t *slots; /* (mask + 1): entry index + 1, 0 = empty */
    uint64_t mask;
    uint64_t seed;   /* hash seed, different per table */
    const void *entries;
    size_t stride;
} gguf_index;

/* Sizes the table for n entries (load factor <= 1/2). false when out of memory. */
bool gguf_index_init(gguf_index *ix, uint64_t n, const void *entries, size_t stride);
void gguf_index_free(gguf_index *ix);
/* Inserts entry i; returns UINT64_MAX, or the index of an earlier entry with
 * the same name (then nothing is inserted). */
uint64_t gguf_index_insert(gguf_index *ix, uint64_t i);
/* Index of the entry named name[0..len), or UINT64_MAX. */
uint64_t gguf_index_find(const gguf_index *ix, const char *name, size_t len);

struct gguf_file {
    const uint8_t *base; /* (size) bytes: the whole file */
    uint64_t size;
    bool mapped;         /* base is our mmap (unmapped by gguf_close) */
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset; /* absolute; == size when there are no tensors past EOF */
    uint64_t n_kv;
    gguf_kv *kvs;         /* (n_kv) */
    uint64_t n_tensors;
    gguf_tensor *tensors; /* (n_tensors) */
    gguf_index kv_index;
    gguf_index tensor_index;
};

/* Releases the tables of f (not the mapping, not f itself). */
void gguf_free_tables(gguf_file *f);

#endif
