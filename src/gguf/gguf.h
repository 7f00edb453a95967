/* gguf.h - GGUF reader (mmap, bounds-checked) and writer. Internal API.
 *
 * The reader maps the file read-only and never copies tensor data: tensor
 * and string views point into the mapping, which lives until gguf_close().
 * Every count, length, dimension and offset is checked against the file size
 * with overflow-safe arithmetic; a malformed file gives GLIMP_ERR_FORMAT with
 * a message naming the key, tensor or byte offset at fault.
 * Supported: GGUF versions 2 and 3, every metadata type, nested arrays.
 */
#ifndef GLIMP_GGUF_H
#define GLIMP_GGUF_H

#include "glimp.h"

#define GGUF_MAX_DIMS 4
#define GGUF_DEFAULT_ALIGNMENT 32

typedef enum gguf_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_type;

/* A string view into the mapping: NOT NUL-terminated. */
typedef struct gguf_str {
    const char *ptr;
    uint64_t len;
} gguf_str;

typedef struct gguf_value gguf_value;
struct gguf_value {
    gguf_type type;
    union {
        uint64_t u64;  /* UINT8/16/32/64 (zero-extended) and BOOL (0/1) */
        int64_t i64;   /* INT8/16/32/64 (sign-extended) */
        double f64;    /* FLOAT32 (widened) and FLOAT64 */
        gguf_str str;  /* STRING */
        struct {
            gguf_type elem;     /* element type */
            uint64_t n;         /* element count */
            const void *raw;    /* numeric/bool elements: packed little-endian
                                   in the mapping (possibly unaligned) */
            const gguf_value *items; /* STRING/ARRAY elements: n parsed values
                                        (owned by the gguf_file); NULL otherwise */
        } arr;                  /* ARRAY */
    };
};

typedef struct gguf_kv {
    gguf_str key;
    gguf_value value;
} gguf_kv;

typedef struct gguf_tensor {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] = row length; unused dims are 1 */
    uint32_t type;              /* ggml type id (see quant/quant.h) */
    uint64_t offset;            /* relative to the start of the data section */
    uint64_t nbytes;            /* size of the data, from the type's block size */
    const void *data;           /* into the mapping */
} gguf_tensor;

typedef struct gguf_file gguf_file;

/* Opens and validates `path` (mmap). Returns NULL and fills err on failure.
 * Tensor types unknown to the quant table are rejected with
 * GLIMP_ERR_UNSUPPORTED "unsupported tensor type X in tensor Y". */
gguf_file *gguf_open(const char *path, glimp_error *err);

/* Same over a caller buffer that must outlive the result (tests, fuzzing). */
gguf_file *gguf_open_memory(const void *buf, size_t len, glimp_error *err);

void gguf_close(gguf_file *f); /* NULL-safe */

uint32_t gguf_version(const gguf_file *f);
uint64_t gguf_alignment(const gguf_file *f);
uint64_t gguf_file_size(const gguf_file *f);
uint64_t gguf_data_offset(const gguf_file *f); /* absolute offset of data section
                                                  (the file size for an unpadded
                                                  file without tensors) */

uint64_t gguf_n_kv(const gguf_file *f);
const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i);
/* Exact key lookup; NULL when absent. */
const gguf_value *gguf_find(const gguf_file *f, const char *key);

uint64_t gguf_n_tensors(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters: return false when the key is absent or not convertible
 * (integer getters accept any integer type whose value fits). */
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out);
bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out);
bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);
/* Array getter: the value if it is an ARRAY (any element type), else NULL. */
const gguf_value *gguf_get_arr(const gguf_file *f, const char *key);

/* Element access for numeric arrays (memcpy from the raw little-endian data,
 * converting to the requested type; caller checks i < n). Floats convert to
 * integers by rounding; STRING/ARRAY elements read as 0. */
uint64_t gguf_arr_u64(const gguf_value *arr, uint64_t i);
int64_t gguf_arr_i64(const gguf_value *arr, uint64_t i);
double gguf_arr_f64(const gguf_value *arr, uint64_t i);

/* Helpers. */
bool gguf_str_eq(gguf_str s, const char *cstr);
const char *gguf_type_name(gguf_type t);
/* Size in bytes of one element of a scalar type, 0 for STRING/ARRAY. */
size_t gguf_type_size(gguf_type t);

/* ---- writer -------------------------------------------------------------
 * Two-phase streaming writer: declare all metadata and tensor infos, then
 * write each tensor's data in declaration order (so a large model can be
 * produced one tensor at a time without holding it in memory). Writes GGUF
 * v3 with the given alignment (general.alignment is written when it is not
 * the default 32; adding general.alignment as a u32 sets it). Tensor data
 * offsets are the running sum of sizes padded to the alignment, as ggml
 * lays them out. A failed add_* returns its status and is remembered:
 * gguf_writer_begin then fails with that status and message. Freeing a
 * writer that began but did not finish removes the partial file. */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_create(glimp_error *err);
void gguf_writer_free(gguf_writer *w); /* NULL-safe */

void gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment);
/* Metadata setters copy their arguments; keys must be unique. */
glimp_status gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t v);
glimp_status gguf_writer_add_i32(gguf_writer *w, const char *key, int32_t v);
glimp_status gguf_writer_add_u64(gguf_writer *w, const char *key, uint64_t v);
glimp_status gguf_writer_add_f32(gguf_writer *w, const char *key, float v);
glimp_status gguf_writer_add_bool(gguf_writer *w, const char *key, bool v);
glimp_status gguf_writer_add_str(gguf_writer *w, const char *key, const char *v);
/* Array of scalars of type elem: n elements packed little-endian in data. */
glimp_status gguf_writer_add_arr(gguf_writer *w, const char *key, gguf_type elem,
                                 const void *data, uint64_t n);
/* Array of strings (each with explicit length, may contain NULs). */
glimp_status gguf_writer_add_arr_str(gguf_writer *w, const char *key, const gguf_str *strs,
                                     uint64_t n);
/* Copies a metadata entry (any type, nested arrays included) from a reader. */
glimp_status gguf_writer_add_kv(gguf_writer *w, const gguf_kv *kv);
/* Declares a tensor; its data size follows from type and shape. */
glimp_status gguf_writer_add_tensor_info(gguf_writer *w, const char *name, uint32_t type,
                                         uint32_t n_dims, const uint64_t *ne);

/* Opens `path` and writes the header, metadata and tensor infos. */
glimp_status gguf_writer_begin(gguf_writer *w, const char *path, glimp_error *err);
/* Writes the data of the next declared tensor (nbytes must match). May be
 * called in pieces: the writer pads to alignment once a tensor is complete. */
glimp_status gguf_writer_write_data(gguf_writer *w, const void *data, size_t nbytes,
                                    glimp_error *err);
/* Checks every tensor was written, flushes and closes. */
glimp_status gguf_writer_finish(gguf_writer *w, glimp_error *err);

#endif
