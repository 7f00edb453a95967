/* gguf_write.c - streaming two-phase GGUF v3 writer.
 *
 * Phase 1 collects metadata (serialised at once into a byte buffer) and
 * tensor infos; gguf_writer_begin writes header, metadata and tensor infos
 * and pads to the alignment; phase 2 streams each tensor's data in
 * declaration order, padding after each tensor, so a model never has to be
 * held in memory. Tensor data offsets are the running sum of padded sizes,
 * as ggml lays them out. Errors: an add_* call that fails (duplicate key or
 * tensor, bad shape, unsupported type) returns its status and is remembered,
 * so gguf_writer_begin reports it with its message; I/O errors are
 * GLIMP_ERR_IO. A writer freed before gguf_writer_finish succeeded removes
 * its partial file.
 */
#include "gguf/gguf.h"

#include "base/error.h"
#include "quant/quant.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GGUF_VERSION_WRITTEN 3
#define WRITE_BUFFER_BYTES (1u << 20)

typedef struct wr_tensor {
    char *name;
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS];
    uint64_t nbytes;
    uint64_t offset; /* in the data section, set by begin */
} wr_tensor;

struct gguf_writer {
    uint32_t alignment;
    bool alignment_key;      /* general.alignment was given as metadata */
    uint8_t *meta;           /* (meta_len) serialised key/value pairs */
    size_t meta_len, meta_cap;
    char **keys;             /* (n_kv) for duplicate checks */
    uint64_t n_kv, keys_cap;
    wr_tensor *tensors;      /* (n_tensors) */
    uint64_t n_tensors, tensors_cap;
    glimp_error failure;     /* first failed add_*, reported by begin */
    FILE *fp;                /* open between begin and finish */
    char *path;
    char *iobuf;             /* (WRITE_BUFFER_BYTES) stdio buffer */
    bool begun;
    uint64_t cur;            /* tensor being written */
    uint64_t cur_done;       /* bytes of it written */
};

gguf_writer *gguf_writer_create(glimp_error *err)
{
    gguf_writer *w = calloc(1, sizeof *w);
    if (!w) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    w->alignment = GGUF_DEFAULT_ALIGNMENT;
    return w;
}

void gguf_writer_free(gguf_writer *w)
{
    if (!w) return;
    if (w->fp) { /* unfinished: do not leave a truncated model behind */
        fclose(w->fp);
        remove(w->path);
    }
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    for (uint64_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->keys);
    free(w->tensors);
    free(w->meta);
    free(w->path);
    free(w->iobuf);
    free(w);
}

void gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment)
{
    GLIMP_ASSERT(alignment && !(alignment & (alignment - 1)));
    GLIMP_ASSERT(!w->begun);
    w->alignment = alignment;
}

/* Records the first failure (for begin) and returns its status. */
static glimp_status fail(gguf_writer *w, glimp_status st, const char *fmt, ...) GLIMP_PRINTF(3, 4);
static glimp_status fail(gguf_writer *w, glimp_status st, const char *fmt, ...)
{
    if (w->failure.status == GLIMP_OK) {
        va_list ap;
        va_start(ap, fmt);
        w->failure.status = st;
        vsnprintf(w->failure.msg, sizeof w->failure.msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- metadata serialisation -------------------------------------------- */

static bool meta_put(gguf_writer *w, const void *data, size_t n)
{
    if (n > SIZE_MAX - w->meta_len) return false;
    if (w->meta_len + n > w->meta_cap) {
        size_t cap = w->meta_cap ? w->meta_cap : 4096;
        while (cap < w->meta_len + n) {
            if (cap > SIZE_MAX / 2) return false;
            cap *= 2;
        }
        uint8_t *m = realloc(w->meta, cap);
        if (!m) return false;
        w->meta = m;
        w->meta_cap = cap;
    }
    if (n) memcpy(w->meta + w->meta_len, data, n);
    w->meta_len += n;
    return true;
}

static bool meta_uint(gguf_writer *w, uint64_t v, unsigned nbytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < nbytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    return meta_put(w, b, nbytes);
}

static bool meta_str(gguf_writer *w, const char *s, uint64_t len)
{
    return meta_uint(w, len, 8) && meta_put(w, s, len);
}

/* Starts an entry: checks the key is new and writes key + value type. The
 * key general.alignment is not serialised here (begin writes it). */
static glimp_status meta_begin(gguf_writer *w, const char *key, gguf_type type)
{
    if (w->begun) return fail(w, GLIMP_ERR_ARG, "metadata '%s' added after begin", key);
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->keys[i], key)) return fail(w, GLIMP_ERR_ARG, "duplicate key '%s'", key);
    if (!strcmp(key, "general.alignment")) /* only add_u32 and add_kv take it */
        return fail(w, GLIMP_ERR_ARG, "general.alignment must be a u32 power of two");
    if (w->n_kv == w->keys_cap) {
        uint64_t cap = w->keys_cap ? 2 * w->keys_cap : 64;
        char **k = realloc(w->keys, cap * sizeof *k);
        if (!k) return fail(w, GLIMP_ERR_NOMEM, "out of memory");
        w->keys = k;
        w->keys_cap = cap;
    }
    char *copy = strdup(key);
    if (!copy || !meta_str(w, key, strlen(key)) || !meta_uint(w, type, 4)) {
        free(copy);
        return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    }
    w->keys[w->n_kv++] = copy;
    return GLIMP_OK;
}

static glimp_status add_scalar(gguf_writer *w, const char *key, gguf_type type, uint64_t bits)
{
    glimp_status st = meta_begin(w, key, type);
    if (st) return st;
    if (!meta_uint(w, bits, (unsigned)gguf_type_size(type)))
        return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    return GLIMP_OK;
}

/* general.alignment given as metadata sets the writer's alignment. */
static glimp_status add_alignment_key(gguf_writer *w, gguf_type type, uint64_t v)
{
    if (w->begun) return fail(w, GLIMP_ERR_ARG, "metadata 'general.alignment' added after begin");
    if (w->alignment_key) return fail(w, GLIMP_ERR_ARG, "duplicate key 'general.alignment'");
    if (type != GGUF_TYPE_UINT32 || v == 0 || (v & (v - 1)))
        return fail(w, GLIMP_ERR_ARG, "general.alignment must be a u32 power of two");
    w->alignment = (uint32_t)v;
    w->alignment_key = true;
    return GLIMP_OK;
}

glimp_status gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t v)
{
    if (!strcmp(key, "general.alignment")) return add_alignment_key(w, GGUF_TYPE_UINT32, v);
    return add_scalar(w, key, GGUF_TYPE_UINT32, v);
}

glimp_status gguf_writer_add_i32(gguf_writer *w, const char *key, int32_t v)
{
    return add_scalar(w, key, GGUF_TYPE_INT32, (uint32_t)v);
}

glimp_status gguf_writer_add_u64(gguf_writer *w, const char *key, uint64_t v)
{
    return add_scalar(w, key, GGUF_TYPE_UINT64, v);
}

glimp_status gguf_writer_add_f32(gguf_writer *w, const char *key, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return add_scalar(w, key, GGUF_TYPE_FLOAT32, bits);
}

glimp_status gguf_writer_add_bool(gguf_writer *w, const char *key, bool v)
{
    return add_scalar(w, key, GGUF_TYPE_BOOL, v ? 1 : 0);
}

glimp_status gguf_writer_add_str(gguf_writer *w, const char *key, const char *v)
{
    glimp_status st = meta_begin(w, key, GGUF_TYPE_STRING);
    if (st) return st;
    if (!meta_str(w, v, strlen(v))) return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    return GLIMP_OK;
}

glimp_status gguf_writer_add_arr(gguf_writer *w, const char *key, gguf_type elem,
                                 const void *data, uint64_t n)
{
    size_t esize = gguf_type_size(elem);
    if (!esize)
        return fail(w, GLIMP_ERR_ARG, "key '%s': gguf_writer_add_arr takes scalar elements", key);
    if (n > SIZE_MAX / esize) return fail(w, GLIMP_ERR_NOMEM, "key '%s': array too large", key);
    glimp_status st = meta_begin(w, key, GGUF_TYPE_ARRAY);
    if (st) return st;
    if (!meta_uint(w, elem, 4) || !meta_uint(w, n, 8) || !meta_put(w, data, n * esize))
        return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    return GLIMP_OK;
}

glimp_status gguf_writer_add_arr_str(gguf_writer *w, const char *key, const gguf_str *strs,
                                     uint64_t n)
{
    glimp_status st = meta_begin(w, key, GGUF_TYPE_ARRAY);
    if (st) return st;
    bool ok = meta_uint(w, GGUF_TYPE_STRING, 4) && meta_uint(w, n, 8);
    for (uint64_t i = 0; ok && i < n; i++) ok = meta_str(w, strs[i].ptr, strs[i].len);
    if (!ok) return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    return GLIMP_OK;
}

/* Serialises a parsed value (not its type tag); recursive for arrays. */
static bool meta_value(gguf_writer *w, const gguf_value *v)
{
    switch (v->type) {
    case GGUF_TYPE_STRING: return meta_str(w, v->str.ptr, v->str.len);
    case GGUF_TYPE_ARRAY: {
        if (!meta_uint(w, v->arr.elem, 4) || !meta_uint(w, v->arr.n, 8)) return false;
        size_t esize = gguf_type_size(v->arr.elem);
        if (esize) return meta_put(w, v->arr.raw, v->arr.n * esize);
        for (uint64_t i = 0; i < v->arr.n; i++)
            if (!meta_value(w, &v->arr.items[i])) return false;
        return true;
    }
    case GGUF_TYPE_FLOAT32: {
        float f = (float)v->f64;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        return meta_uint(w, bits, 4);
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &v->f64, sizeof bits);
        return meta_uint(w, bits, 8);
    }
    default: /* integers and bool: the union's u64 holds the bits (i64 two's complement) */
        return meta_uint(w, v->u64, (unsigned)gguf_type_size(v->type));
    }
}

glimp_status gguf_writer_add_kv(gguf_writer *w, const gguf_kv *kv)
{
    if (memchr(kv->key.ptr, 0, kv->key.len))
        return fail(w, GLIMP_ERR_ARG, "key with a NUL byte cannot be copied");
    char *key = strndup(kv->key.ptr, kv->key.len);
    if (!key) return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    glimp_status st;
    if (!strcmp(key, "general.alignment")) {
        st = add_alignment_key(w, kv->value.type, kv->value.u64);
    } else if (!(st = meta_begin(w, key, kv->value.type)) && !meta_value(w, &kv->value)) {
        st = fail(w, GLIMP_ERR_NOMEM, "out of memory");
    }
    free(key);
    return st;
}

/* ---- tensors ------------------------------------------------------------- */

glimp_status gguf_writer_add_tensor_info(gguf_writer *w, const char *name, uint32_t type,
                                         uint32_t n_dims, const uint64_t *ne)
{
    if (w->begun) return fail(w, GLIMP_ERR_ARG, "tensor '%s' added after begin", name);
    for (uint64_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name))
            return fail(w, GLIMP_ERR_ARG, "duplicate tensor '%s'", name);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return fail(w, GLIMP_ERR_ARG, "tensor '%s': n_dims %u is not 1..%d", name, n_dims,
                    GGUF_MAX_DIMS);
    const qt_traits *tr = qt_get(type);
    if (!tr) {
        const char *tn = qt_name(type);
        return fail(w, GLIMP_ERR_UNSUPPORTED, "tensor '%s': unsupported type %s (%u)", name,
                    tn ? tn : "unknown", type);
    }
    wr_tensor t = {.type = type, .n_dims = n_dims, .ne = {1, 1, 1, 1}};
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] == 0 || n_elem > (uint64_t)INT64_MAX / ne[d])
            return fail(w, GLIMP_ERR_ARG, "tensor '%s': bad dimension %u = %llu", name, d,
                        (unsigned long long)ne[d]);
        t.ne[d] = ne[d];
        n_elem *= ne[d];
    }
    if (ne[0] % tr->blck_size)
        return fail(w, GLIMP_ERR_ARG,
                    "tensor '%s': row length %llu is not a multiple of %s's block size %u", name,
                    (unsigned long long)ne[0], tr->name, tr->blck_size);
    t.nbytes = n_elem / tr->blck_size * tr->type_size;
    if (w->n_tensors == w->tensors_cap) {
        uint64_t cap = w->tensors_cap ? 2 * w->tensors_cap : 64;
        wr_tensor *ts = realloc(w->tensors, cap * sizeof *ts);
        if (!ts) return fail(w, GLIMP_ERR_NOMEM, "out of memory");
        w->tensors = ts;
        w->tensors_cap = cap;
    }
    if (!(t.name = strdup(name))) return fail(w, GLIMP_ERR_NOMEM, "out of memory");
    w->tensors[w->n_tensors++] = t;
    return GLIMP_OK;
}

/* ---- file output --------------------------------------------------------- */

static uint64_t pad_to(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }

static bool out_uint(FILE *fp, uint64_t v, unsigned nbytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < nbytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    return fwrite(b, 1, nbytes, fp) == nbytes;
}

static bool out_zeros(FILE *fp, uint64_t n)
{
    static const uint8_t zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (fwrite(zeros, 1, k, fp) != k) return false;
        n -= k;
    }
    return true;
}

static glimp_status io_error(gguf_writer *w, glimp_error *err)
{
    return glimp_error_set(err, GLIMP_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
}

static bool write_head(gguf_writer *w)
{
    FILE *fp = w->fp;
    bool align_kv = w->alignment_key || w->alignment != GGUF_DEFAULT_ALIGNMENT;
    uint64_t pos = 24 + w->meta_len;
    bool ok = fwrite("GGUF", 1, 4, fp) == 4 && out_uint(fp, GGUF_VERSION_WRITTEN, 4) &&
              out_uint(fp, w->n_tensors, 8) && out_uint(fp, w->n_kv + align_kv, 8) &&
              (!w->meta_len || fwrite(w->meta, 1, w->meta_len, fp) == w->meta_len);
    if (ok && align_kv) {
        static const char key[] = "general.alignment";
        ok = out_uint(fp, sizeof key - 1, 8) && fwrite(key, 1, sizeof key - 1, fp) == sizeof key - 1 &&
             out_uint(fp, GGUF_TYPE_UINT32, 4) && out_uint(fp, w->alignment, 4);
        pos += 8 + sizeof key - 1 + 4 + 4;
    }
    uint64_t offset = 0;
    for (uint64_t i = 0; ok && i < w->n_tensors; i++) {
        wr_tensor *t = &w->tensors[i];
        size_t len = strlen(t->name);
        t->offset = offset;
        offset += pad_to(t->nbytes, w->alignment);
        ok = out_uint(fp, len, 8) && fwrite(t->name, 1, len, fp) == len &&
             out_uint(fp, t->n_dims, 4);
        for (uint32_t d = 0; ok && d < t->n_dims; d++) ok = out_uint(fp, t->ne[d], 8);
        ok = ok && out_uint(fp, t->type, 4) && out_uint(fp, t->offset, 8);
        pos += 8 + len + 4 + 8ull * t->n_dims + 4 + 8;
    }
    return ok && out_zeros(fp, pad_to(pos, w->alignment) - pos);
}

glimp_status gguf_writer_begin(gguf_writer *w, const char *path, glimp_error *err)
{
    if (w->failure.status != GLIMP_OK)
        return glimp_error_set(err, w->failure.status, "%s", w->failure.msg);
    if (w->begun) return glimp_error_set(err, GLIMP_ERR_ARG, "gguf writer: begin called twice");
    w->path = strdup(path);
    w->iobuf = malloc(WRITE_BUFFER_BYTES);
    if (!w->path || !w->iobuf) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    w->fp = fopen(path, "wb");
    if (!w->fp)
        return glimp_error_set(err, GLIMP_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    setvbuf(w->fp, w->iobuf, _IOFBF, WRITE_BUFFER_BYTES);
    w->begun = true;
    if (!write_head(w)) return io_error(w, err);
    return GLIMP_OK;
}

glimp_status gguf_writer_write_data(gguf_writer *w, const void *data, size_t nbytes,
                                    glimp_error *err)
{
    if (!w->fp) return glimp_error_set(err, GLIMP_ERR_ARG, "gguf writer: write before begin");
    if (w->cur >= w->n_tensors)
        return glimp_error_set(err, GLIMP_ERR_ARG, "gguf writer: every tensor is already written");
    const wr_tensor *t = &w->tensors[w->cur];
    if (nbytes > t->nbytes - w->cur_done)
        return glimp_error_set(err, GLIMP_ERR_ARG,
                               "tensor '%s': %zu bytes written where %llu remain", t->name, nbytes,
                               (unsigned long long)(t->nbytes - w->cur_done));
    if (nbytes && fwrite(data, 1, nbytes, w->fp) != nbytes) return io_error(w, err);
    w->cur_done += nbytes;
    if (w->cur_done == t->nbytes) {
        if (!out_zeros(w->fp, pad_to(t->nbytes, w->alignment) - t->nbytes)) return io_error(w, err);
        w->cur++;
        w->cur_done = 0;
    }
    return GLIMP_OK;
}

glimp_status gguf_writer_finish(gguf_writer *w, glimp_error *err)
{
    if (!w->fp) return glimp_error_set(err, GLIMP_ERR_ARG, "gguf writer: finish before begin");
    if (w->cur < w->n_tensors)
        return glimp_error_set(err, GLIMP_ERR_ARG, "tensor '%s': data not written (%llu of %llu)",
                               w->tensors[w->cur].name, (unsigned long long)w->cur,
                               (unsigned long long)w->n_tensors);
    FILE *fp = w->fp;
    w->fp = NULL;
    bool ok = fflush(fp) == 0;
    int saved = errno;
    if (fclose(fp) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        remove(w->path);
        return glimp_error_set(err, GLIMP_ERR_IO, "%s: write failed: %s", w->path,
                               strerror(saved));
    }
    return GLIMP_OK;
}
