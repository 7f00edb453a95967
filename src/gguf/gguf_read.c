/* gguf_read.c - parsing and validating a GGUF file (v2/v3) from bytes.
 *
 * Every read goes through a bounds-checked cursor over the whole file. Counts
 * are checked against the bytes left BEFORE anything is allocated (each
 * metadata entry, array element or tensor info needs a known minimum number
 * of bytes), so a hostile count fails cleanly instead of allocating; array
 * nesting is bounded; sizes are computed with overflow checks. Failures:
 * GLIMP_ERR_FORMAT naming the key, tensor or byte offset at fault,
 * GLIMP_ERR_UNSUPPORTED (version 1, big-endian files, tensor types without
 * kernels), GLIMP_ERR_NOMEM, GLIMP_ERR_IO (gguf_open only).
 */
#include "gguf/gguf_internal.h"

#include "base/error.h"
#include "quant/quant.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC "GGUF"
#define GGUF_HEADER_BYTES 24u  /* magic, version, n_tensors, n_kv */
#define GGUF_MAX_NESTING 16    /* arrays of arrays of ... */
#define GGUF_MAX_KEY_LEN 65535 /* the spec's limit */
/* Fewest bytes each item can occupy, used to bound counts before allocating. */
#define MIN_KV_BYTES 13u     /* key length (8) + value type (4) + a 1-byte value */
#define MIN_STRING_BYTES 8u  /* length only */
#define MIN_ARRAY_BYTES 12u  /* element type (4) + count (8) */
#define MIN_TENSOR_BYTES 32u /* name length, n_dims, one ne, type, offset */

typedef struct parser {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    glimp_error *err;
    gguf_str key; /* the metadata key being parsed, for messages */
} parser;

static uint64_t left(const parser *p) { return p->size - p->pos; }

static uint64_t read_le(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Reads an n-byte little-endian unsigned integer; `what` names it in errors. */
static glimp_status take_uint(parser *p, unsigned n, uint64_t *out, const char *what)
{
    *out = 0;
    if (left(p) < n)
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "truncated at byte %llu: %s needs %u bytes, %llu left",
                               (unsigned long long)p->pos, what, n,
                               (unsigned long long)left(p));
    *out = read_le(p->base + p->pos, n);
    p->pos += n;
    return GLIMP_OK;
}

static glimp_status take_string(parser *p, gguf_str *out, const char *what)
{
    uint64_t at = p->pos, len;
    glimp_status st = take_uint(p, 8, &len, what);
    if (st) return st;
    if (len > left(p))
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "%s at byte %llu: length %llu exceeds the %llu bytes left", what,
                               (unsigned long long)at, (unsigned long long)len,
                               (unsigned long long)left(p));
    out->ptr = (const char *)p->base + p->pos;
    out->len = len;
    p->pos += len;
    return GLIMP_OK;
}

/* Names longer than this are cut in messages. */
#define MSG_NAME_MAX 200

static int msg_len(gguf_str s) { return s.len > MSG_NAME_MAX ? MSG_NAME_MAX : (int)s.len; }

/* GLIMP_ERR_FORMAT naming the current key: "key 'k' at byte N: <detail>". */
static glimp_status key_error(parser *p, uint64_t at, const char *fmt, ...) GLIMP_PRINTF(3, 4);
static glimp_status key_error(parser *p, uint64_t at, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return glimp_error_set(p->err, GLIMP_ERR_FORMAT, "key '%.*s' at byte %llu: %s",
                           msg_len(p->key), p->key.ptr, (unsigned long long)at, detail);
}

static void free_value(gguf_value *v)
{
    if (v->type != GGUF_TYPE_ARRAY || !v->arr.items) return;
    gguf_value *items = (gguf_value *)v->arr.items;
    if (v->arr.elem == GGUF_TYPE_ARRAY)
        for (uint64_t i = 0; i < v->arr.n; i++) free_value(&items[i]);
    free(items);
    v->arr.items = NULL;
}

static glimp_status parse_value(parser *p, gguf_type type, gguf_value *out, int depth);

static glimp_status parse_array(parser *p, gguf_value *out, int depth)
{
    uint64_t at = p->pos, elem, n;
    glimp_status st = take_uint(p, 4, &elem, "array element type");
    if (!st) st = take_uint(p, 8, &n, "array count");
    if (st) return st;
    if (elem >= GGUF_TYPE_COUNT)
        return key_error(p, at, "unknown array element type %llu", (unsigned long long)elem);
    if (elem == GGUF_TYPE_ARRAY && depth + 1 >= GGUF_MAX_NESTING)
        return key_error(p, at, "arrays nested deeper than %d levels", GGUF_MAX_NESTING);
    out->arr.elem = (gguf_type)elem;
    out->arr.n = n;
    size_t esize = gguf_type_size((gguf_type)elem);
    if (esize) { /* packed scalars: a view into the file */
        if (n > left(p) / esize)
            return key_error(p, at, "array of %llu elements needs more than the %llu bytes left",
                             (unsigned long long)n, (unsigned long long)left(p));
        out->arr.raw = p->base + p->pos;
        if (elem == GGUF_TYPE_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (p->base[p->pos + i] > 1)
                    return key_error(p, p->pos + i, "bool element %llu is %u, not 0 or 1",
                                     (unsigned long long)i, p->base[p->pos + i]);
        p->pos += n * esize;
        return GLIMP_OK;
    }
    uint64_t min = elem == GGUF_TYPE_STRING ? MIN_STRING_BYTES : MIN_ARRAY_BYTES;
    if (n > left(p) / min)
        return key_error(p, at, "array of %llu elements needs more than the %llu bytes left",
                         (unsigned long long)n, (unsigned long long)left(p));
    gguf_value *items = calloc(n ? n : 1, sizeof *items);
    if (!items) return glimp_error_set(p->err, GLIMP_ERR_NOMEM, "out of memory for %llu array items",
                                       (unsigned long long)n);
    out->arr.items = items; /* owned from here on, also when parsing fails below */
    for (uint64_t i = 0; i < n; i++) {
        if ((st = parse_value(p, (gguf_type)elem, &items[i], depth + 1))) return st;
    }
    return GLIMP_OK;
}

static glimp_status parse_value(parser *p, gguf_type type, gguf_value *out, int depth)
{
    uint64_t at = p->pos, raw;
    glimp_status st;
    memset(out, 0, sizeof *out);
    out->type = type;
    switch (type) {
    case GGUF_TYPE_STRING: return take_string(p, &out->str, "string value");
    case GGUF_TYPE_ARRAY: return parse_array(p, out, depth);
    default: break;
    }
    unsigned size = (unsigned)gguf_type_size(type);
    if ((st = take_uint(p, size, &raw, "value"))) return st;
    switch (type) {
    case GGUF_TYPE_INT8: out->i64 = (int8_t)raw; break;
    case GGUF_TYPE_INT16: out->i64 = (int16_t)raw; break;
    case GGUF_TYPE_INT32: out->i64 = (int32_t)raw; break;
    case GGUF_TYPE_INT64: out->i64 = (int64_t)raw; break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, sizeof f);
        out->f64 = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: memcpy(&out->f64, &raw, sizeof raw); break;
    case GGUF_TYPE_BOOL:
        if (raw > 1) return key_error(p, at, "bool value is %llu, not 0 or 1", (unsigned long long)raw);
        out->u64 = raw;
        break;
    default: out->u64 = raw; break; /* unsigned integers */
    }
    return GLIMP_OK;
}

static glimp_status parse_kvs(parser *p, gguf_file *f)
{
    glimp_status st;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_kv *kv = &f->kvs[i];
        uint64_t at = p->pos, type;
        char what[64];
        snprintf(what, sizeof what, "key of metadata entry %llu", (unsigned long long)i);
        if ((st = take_string(p, &kv->key, what))) return st;
        p->key = kv->key;
        if (kv->key.len > GGUF_MAX_KEY_LEN)
            return key_error(p, at, "key length %llu exceeds %d", (unsigned long long)kv->key.len,
                             GGUF_MAX_KEY_LEN);
        uint64_t type_at = p->pos;
        if ((st = take_uint(p, 4, &type, "value type"))) return st;
        if (type >= GGUF_TYPE_COUNT)
            return key_error(p, type_at, "unknown value type %llu", (unsigned long long)type);
        if ((st = parse_value(p, (gguf_type)type, &kv->value, 0))) return st;
        uint64_t dup = gguf_index_insert(&f->kv_index, i);
        if (dup != UINT64_MAX)
            return key_error(p, at, "duplicate key (also metadata entry %llu)", (unsigned long long)dup);
    }
    return GLIMP_OK;
}

/* GLIMP_ERR_FORMAT naming a tensor: "tensor 'name' (info at byte N): <detail>". */
static glimp_status tensor_error(parser *p, const gguf_tensor *t, uint64_t at, const char *fmt,
                                 ...) GLIMP_PRINTF(4, 5);
static glimp_status tensor_error(parser *p, const gguf_tensor *t, uint64_t at, const char *fmt,
                                 ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return glimp_error_set(p->err, GLIMP_ERR_FORMAT, "tensor '%.*s' (info at byte %llu): %s",
                           msg_len(t->name), t->name.ptr, (unsigned long long)at, detail);
}

static glimp_status parse_tensor_info(parser *p, gguf_tensor *t, uint64_t *info_at)
{
    uint64_t at = p->pos, v;
    glimp_status st;
    *info_at = at;
    if ((st = take_string(p, &t->name, "tensor name"))) return st;
    if ((st = take_uint(p, 4, &v, "tensor n_dims"))) return st;
    if (v < 1 || v > GGUF_MAX_DIMS)
        return tensor_error(p, t, at, "n_dims is %llu, not 1..%d", (unsigned long long)v,
                            GGUF_MAX_DIMS);
    t->n_dims = (uint32_t)v;
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= t->n_dims) continue;
        if ((st = take_uint(p, 8, &t->ne[d], "tensor dimension"))) return st;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX)
            return tensor_error(p, t, at, "dimension %u is %llu", d,
                                (unsigned long long)t->ne[d]);
        if (n_elem > (uint64_t)INT64_MAX / t->ne[d])
            return tensor_error(p, t, at, "element count overflows (dimension %u = %llu)", d,
                                (unsigned long long)t->ne[d]);
        n_elem *= t->ne[d];
    }
    if ((st = take_uint(p, 4, &v, "tensor type"))) return st;
    t->type = (uint32_t)v;
    if ((st = take_uint(p, 8, &t->offset, "tensor offset"))) return st;
    const qt_traits *tr = qt_get(t->type);
    if (!tr) {
        const char *name = qt_name(t->type);
        return glimp_error_set(p->err, GLIMP_ERR_UNSUPPORTED,
                               "unsupported tensor type %s (%u) in tensor %.*s",
                               name ? name : "unknown", t->type, msg_len(t->name), t->name.ptr);
    }
    if (t->ne[0] % tr->blck_size)
        return tensor_error(p, t, at, "row length %llu is not a multiple of the block size %u of %s",
                            (unsigned long long)t->ne[0], tr->blck_size, tr->name);
    /* n_elem / blck_size blocks of type_size bytes: overflow-checked. */
    uint64_t blocks = n_elem / tr->blck_size;
    if (blocks > UINT64_MAX / tr->type_size)
        return tensor_error(p, t, at, "data size overflows (%llu blocks)",
                            (unsigned long long)blocks);
    t->nbytes = blocks * tr->type_size;
    return GLIMP_OK;
}

static glimp_status parse_alignment(parser *p, gguf_file *f)
{
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_value *v = gguf_find(f, "general.alignment");
    if (!v) return GLIMP_OK;
    uint32_t a;
    if (!gguf_get_u32(f, "general.alignment", &a))
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "key 'general.alignment': not an unsigned 32-bit integer (%s)",
                               gguf_type_name(v->type));
    if (a == 0 || (a & (a - 1)))
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "key 'general.alignment': %u is not a nonzero power of two", a);
    f->alignment = a;
    return GLIMP_OK;
}

static glimp_status check_tensor_data(parser *p, gguf_file *f, const uint64_t *info_at)
{
    uint64_t data_bytes = f->size - f->data_offset;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (t->offset % f->alignment)
            return tensor_error(p, t, info_at[i],
                                "data offset %llu is not a multiple of the alignment %llu",
                                (unsigned long long)t->offset, (unsigned long long)f->alignment);
        if (t->offset > data_bytes || t->nbytes > data_bytes - t->offset)
            return tensor_error(p, t, info_at[i],
                                "data (%llu bytes at data offset %llu) extends past the end of "
                                "the file",
                                (unsigned long long)t->nbytes, (unsigned long long)t->offset);
        t->data = f->base + f->data_offset + t->offset;
    }
    return GLIMP_OK;
}

static glimp_status parse_header(parser *p, gguf_file *f)
{
    uint64_t version;
    if (p->size < GGUF_HEADER_BYTES)
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "file too small for a GGUF header (%llu bytes)",
                               (unsigned long long)p->size);
    if (memcmp(p->base, GGUF_MAGIC, 4) != 0)
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT, "not a GGUF file (bad magic)");
    p->pos = 4;
    take_uint(p, 4, &version, "version");
    if ((version & 0xffff) == 0 && version)
        return glimp_error_set(p->err, GLIMP_ERR_UNSUPPORTED,
                               "big-endian GGUF files are not supported");
    if (version == 1)
        return glimp_error_set(p->err, GLIMP_ERR_UNSUPPORTED,
                               "GGUF version 1 is not supported (only versions 2 and 3)");
    if (version != 2 && version != 3)
        return glimp_error_set(p->err, GLIMP_ERR_UNSUPPORTED,
                               "unknown GGUF version %llu (supported: 2 and 3)",
                               (unsigned long long)version);
    f->version = (uint32_t)version;
    take_uint(p, 8, &f->n_tensors, "tensor count");
    take_uint(p, 8, &f->n_kv, "metadata count");
    if (f->n_kv > left(p) / MIN_KV_BYTES)
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "header: %llu metadata entries cannot fit in the %llu bytes left",
                               (unsigned long long)f->n_kv, (unsigned long long)left(p));
    if (f->n_tensors > (left(p) - f->n_kv * MIN_KV_BYTES) / MIN_TENSOR_BYTES)
        return glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                               "header: %llu tensors cannot fit in the %llu bytes left",
                               (unsigned long long)f->n_tensors, (unsigned long long)left(p));
    return GLIMP_OK;
}

static glimp_status parse_file(parser *p, gguf_file *f)
{
    glimp_status st;
    if ((st = parse_header(p, f))) return st;
    f->kvs = calloc(f->n_kv ? f->n_kv : 1, sizeof *f->kvs);
    f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof *f->tensors);
    if (!f->kvs || !f->tensors || !gguf_index_init(&f->kv_index, f->n_kv, f->kvs, sizeof *f->kvs) ||
        !gguf_index_init(&f->tensor_index, f->n_tensors, f->tensors, sizeof *f->tensors))
        return glimp_error_set(p->err, GLIMP_ERR_NOMEM, "out of memory for the file's tables");
    if ((st = parse_kvs(p, f))) return st;
    if ((st = parse_alignment(p, f))) return st;

    uint64_t *info_at = malloc((f->n_tensors ? f->n_tensors : 1) * sizeof *info_at);
    if (!info_at) return glimp_error_set(p->err, GLIMP_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < f->n_tensors && !st; i++) {
        if ((st = parse_tensor_info(p, &f->tensors[i], &info_at[i]))) break;
        uint64_t dup = gguf_index_insert(&f->tensor_index, i);
        if (dup != UINT64_MAX)
            st = tensor_error(p, &f->tensors[i], info_at[i],
                              "duplicate tensor name (also tensor %llu)", (unsigned long long)dup);
    }
    if (!st) {
        /* The data section starts at the next multiple of the alignment
         * (alignment <= 2^31 and pos <= size, so this cannot overflow). */
        uint64_t start = (p->pos + f->alignment - 1) / f->alignment * f->alignment;
        if (start > f->size && f->n_tensors == 0) start = f->size; /* vocab-only, unpadded */
        if (start > f->size)
            st = glimp_error_set(p->err, GLIMP_ERR_FORMAT,
                                 "data section would start at byte %llu, past the end of the "
                                 "file (%llu bytes)",
                                 (unsigned long long)start, (unsigned long long)f->size);
        f->data_offset = start;
    }
    if (!st) st = check_tensor_data(p, f, info_at);
    free(info_at);
    return st;
}

void gguf_free_tables(gguf_file *f)
{
    if (f->kvs)
        for (uint64_t i = 0; i < f->n_kv; i++) free_value(&f->kvs[i].value);
    free(f->kvs);
    free(f->tensors);
    gguf_index_free(&f->kv_index);
    gguf_index_free(&f->tensor_index);
}

gguf_file *gguf_open_memory(const void *buf, size_t len, glimp_error *err)
{
    gguf_file *f = calloc(1, sizeof *f);
    if (!f) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->base = buf;
    f->size = len;
    parser p = {.base = buf, .size = len, .err = err};
    if (parse_file(&p, f)) {
        gguf_close(f);
        return NULL;
    }
    return f;
}

gguf_file *gguf_open(const char *path, glimp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        glimp_error_set(err, GLIMP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        glimp_error_set(err, GLIMP_ERR_IO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size < (off_t)GGUF_HEADER_BYTES) {
        glimp_error_set(err, GLIMP_ERR_FORMAT, "%s: file too small for a GGUF header (%lld bytes)",
                        path, (long long)st.st_size);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        glimp_error_set(err, GLIMP_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
        return NULL;
    }
    gguf_file *f = gguf_open_memory(map, size, err);
    if (!f) {
        munmap(map, size);
        glimp_error_prefix(err, "%s", path);
        return NULL;
    }
    f->mapped = true;
    return f;
}

void gguf_close(gguf_file *f)
{
    if (!f) return;
    gguf_free_tables(f);
    if (f->mapped) munmap((void *)f->base, f->size);
    free(f);
}
