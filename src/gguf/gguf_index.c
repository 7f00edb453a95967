/* gguf_index.c - name -> entry hash index for metadata keys and tensor names.
 *
 * Linear probing over a power-of-two table at most half full. The hash is
 * FNV-1a from a per-table seed (taken from the table's address, so it varies
 * with ASLR) followed by a 64-bit finaliser, so a hostile file cannot easily
 * line its names up in one probe chain. Used both to look names up and to
 * reject duplicates while parsing. The only failure is running out of
 * memory in gguf_index_init.
 */
#include "gguf/gguf_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t hash_name(uint64_t seed, const char *s, size_t len)
{
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return mix64(h);
}

static gguf_str name_at(const gguf_index *ix, uint64_t i)
{
    const gguf_str *name = (const gguf_str *)((const char *)ix->entries + i * ix->stride);
    return *name;
}

bool gguf_index_init(gguf_index *ix, uint64_t n, const void *entries, size_t stride)
{
    uint64_t cap = 8;
    while (cap < 2 * n) cap *= 2; /* n is bounded by the file size, so no overflow */
    ix->slots = calloc(cap, sizeof *ix->slots);
    ix->seed = mix64((uint64_t)(uintptr_t)ix->slots ^ 0xcbf29ce484222325ull);
    ix->mask = cap - 1;
    ix->entries = entries;
    ix->stride = stride;
    return ix->slots != NULL;
}

void gguf_index_free(gguf_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
}

/* Slot holding `name`, or the empty slot where it would go. */
static uint64_t probe(const gguf_index *ix, const char *name, size_t len)
{
    uint64_t s = hash_name(ix->seed, name, len) & ix->mask;
    while (ix->slots[s]) {
        gguf_str other = name_at(ix, ix->slots[s] - 1);
        if (other.len == len && memcmp(other.ptr, name, len) == 0) return s;
        s = (s + 1) & ix->mask;
    }
    return s;
}

uint64_t gguf_index_insert(gguf_index *ix, uint64_t i)
{
    gguf_str name = name_at(ix, i);
    uint64_t s = probe(ix, name.ptr, name.len);
    if (ix->slots[s]) return ix->slots[s] - 1;
    ix->slots[s] = i + 1;
    return UINT64_MAX;
}

uint64_t gguf_index_find(const gguf_index *ix, const char *name, size_t len)
{
    if (!ix->slots) return UINT64_MAX;
    uint64_t s = probe(ix, name, len);
    return ix->slots[s] ? ix->slots[s] - 1 : UINT64_MAX;
}
