/* test_gguf_hostile.c - the reader against broken and hostile input.
 *
 * A small valid file truncated at every byte offset must be rejected with
 * GLIMP_ERR_FORMAT (or parse, once all tensor data is present); seeded random
 * byte flips must never crash (every view of a parsed result is touched, so
 * ASan sees any stray pointer); hand-built hostile headers (huge counts,
 * lengths, dimensions, deep nesting, bad alignment, duplicates, unsupported
 * types) must fail with the right status and a message naming the problem.
 * Allocations are capped at 64 MiB (RLIMIT_AS, or the ASan allocator limit
 * in ASan builds), so a count that slips through to malloc shows up as
 * GLIMP_ERR_NOMEM and fails the test.
 */
#include "test_gguf_util.h"

#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define GLIMP_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLIMP_TEST_ASAN 1
#endif
#endif

#ifdef GLIMP_TEST_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "max_allocation_size_mb=64:allocator_may_return_null=1";
}
#endif

#if defined(__SANITIZE_THREAD__)
/* Under TSan the RLIMIT_AS cap applies; a failed allocation must return NULL. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

static void cap_allocations(void)
{
#ifndef GLIMP_TEST_ASAN
    /* Address space in use now + 64 MiB. */
    long pages = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp && fscanf(fp, "%ld", &pages) == 1) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (64u << 20);
        setrlimit(RLIMIT_AS, &rl);
    }
    if (fp) fclose(fp);
#endif
    volatile size_t big = 256u << 20;
    void *p = malloc(big);
    CHECK(p == NULL, "a 256 MiB allocation fails under the cap");
    free(p);
}

/* Copy of buf[0..len) in an allocation of exactly len bytes, so reading past
 * the end is caught by ASan. */
static uint8_t *exact_copy(const uint8_t *buf, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    REQUIRE(c != NULL, "malloc");
    memcpy(c, buf, len);
    return c;
}

static volatile uint8_t sink;

static void touch_value(const gguf_value *v)
{
    if (v->type == GGUF_TYPE_STRING) {
        if (v->str.len) sink ^= (uint8_t)(v->str.ptr[0] ^ v->str.ptr[v->str.len - 1]);
    } else if (v->type == GGUF_TYPE_ARRAY) {
        size_t es = gguf_type_size(v->arr.elem);
        if (es && v->arr.n) {
            const uint8_t *raw = v->arr.raw;
            sink ^= raw[0] ^ raw[v->arr.n * es - 1];
            sink ^= (uint8_t)gguf_arr_u64(v, v->arr.n - 1);
        }
        if (!es)
            for (uint64_t i = 0; i < v->arr.n; i++) touch_value(&v->arr.items[i]);
    }
}

/* Reads every view the parsed file hands out. */
static void touch_all(const gguf_file *f)
{
    for (uint64_t i = 0; i < gguf_n_kv(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        if (kv->key.len) sink ^= (uint8_t)kv->key.ptr[kv->key.len - 1];
        touch_value(&kv->value);
    }
    for (uint64_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        const uint8_t *d = t->data;
        sink ^= d[0] ^ d[t->nbytes - 1];
        if (t->name.len) sink ^= (uint8_t)t->name.ptr[0];
    }
}

static void check_truncations(void)
{
    size_t len;
    uint8_t *buf = sample_bytes(0, &len);
    glimp_error err = {0};
    gguf_file *f = gguf_open_memory(buf, len, &err);
    REQUIRE(f != NULL, "sample parses: %s", err.msg);
    const gguf_tensor *last = gguf_tensor_at(f, gguf_n_tensors(f) - 1);
    size_t data_end = (size_t)(gguf_data_offset(f) + last->offset + last->nbytes);
    gguf_close(f);
    int bad = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *c = exact_copy(buf, n);
        glimp_error e = {0};
        f = gguf_open_memory(c, n, &e);
        if (n < data_end) {
            if ((f || e.status != GLIMP_ERR_FORMAT || !e.msg[0]) && bad++ == 0)
                fprintf(stderr, "first bad truncation at %zu: status %d '%s'\n", n, e.status,
                        e.msg);
        } else {
            CHECK(f != NULL, "truncated only in the final padding (%zu): %s", n, e.msg);
            if (f) touch_all(f);
        }
        gguf_close(f);
        free(c);
    }
    CHECK(bad == 0, "%d truncations not rejected with GLIMP_ERR_FORMAT", bad);
    printf("truncation: %zu prefixes checked, data ends at %zu of %zu\n", len, data_end, len);
    free(buf);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check_byte_flips(void)
{
    size_t len;
    uint8_t *buf = sample_bytes(0, &len);
    glimp_error err = {0};
    gguf_file *f = gguf_open_memory(buf, len, &err);
    REQUIRE(f != NULL, "sample parses: %s", err.msg);
    size_t head = (size_t)gguf_data_offset(f); /* flips mostly hit metadata and infos */
    gguf_close(f);
    enum { ITERATIONS = 100000 };
    int parsed = 0, failed = 0, bad_status = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        uint8_t *c = exact_copy(buf, len);
        int flips = 1 + (int)(rng_next() % 4);
        for (int k = 0; k < flips; k++) {
            size_t range = rng_next() % 8 ? head : len;
            size_t pos = (size_t)(rng_next() % range);
            uint64_t r = rng_next();
            if (r % 3 == 0) c[pos] ^= (uint8_t)(1u << (r >> 8) % 8);   /* one bit */
            else if (r % 3 == 1) c[pos] = (uint8_t)(r >> 16);           /* any byte */
            else c[pos] = (r >> 16) & 1 ? 0xff : 0x00;                  /* extremes */
        }
        glimp_error e = {0};
        f = gguf_open_memory(c, len, &e);
        if (f) {
            parsed++;
            touch_all(f);
            gguf_close(f);
        } else {
            failed++;
            if ((e.status != GLIMP_ERR_FORMAT && e.status != GLIMP_ERR_UNSUPPORTED) || !e.msg[0])
                bad_status++;
        }
        free(c);
    }
    CHECK(bad_status == 0, "%d failures with an unexpected status or no message", bad_status);
    CHECK(parsed > 0 && failed > 0, "both outcomes occur (%d parsed, %d failed)", parsed, failed);
    printf("byte flips: %d iterations, %d parsed, %d rejected\n", ITERATIONS, parsed, failed);
    free(buf);
}

/* ---- hand-built files ---------------------------------------------------- */

typedef struct bytes {
    uint8_t b[8192];
    size_t n;
} bytes;

static void put_uint(bytes *o, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) o->b[o->n++] = (uint8_t)(v >> (8 * i));
}
static void put_u32(bytes *o, uint32_t v) { put_uint(o, v, 4); }
static void put_u64(bytes *o, uint64_t v) { put_uint(o, v, 8); }
static void put_str(bytes *o, const char *s)
{
    put_u64(o, strlen(s));
    memcpy(o->b + o->n, s, strlen(s));
    o->n += strlen(s);
}
static void header(bytes *o, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    o->n = 0;
    memcpy(o->b, "GGUF", 4);
    o->n = 4;
    put_u32(o, version);
    put_u64(o, n_tensors);
    put_u64(o, n_kv);
}
/* One tensor info; ne has n_dims entries. */
static void tensor_info(bytes *o, const char *name, uint32_t n_dims, const uint64_t *ne,
                        uint32_t type, uint64_t offset)
{
    put_str(o, name);
    put_u32(o, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) put_u64(o, ne[d]);
    put_u32(o, type);
    put_u64(o, offset);
}
static void pad(bytes *o, size_t align, size_t extra)
{
    while (o->n % align) o->b[o->n++] = 0;
    memset(o->b + o->n, 0, extra);
    o->n += extra;
}

/* Opens o and checks the status and that the message contains `needle`. */
static void expect(const bytes *o, glimp_status want, const char *needle, const char *what)
{
    uint8_t *c = exact_copy(o->b, o->n);
    glimp_error e = {0};
    gguf_file *f = gguf_open_memory(c, o->n, &e);
    CHECK(!f && e.status == want && strstr(e.msg, needle), "%s: status %d, message '%s'", what,
          e.status, e.msg);
    gguf_close(f);
    free(c);
}

static void check_hostile_headers(void)
{
    bytes o;
    header(&o, 3, 0, 0);
    memcpy(o.b, "GGML", 4);
    expect(&o, GLIMP_ERR_FORMAT, "magic", "bad magic");
    header(&o, 1, 0, 0);
    expect(&o, GLIMP_ERR_UNSUPPORTED, "version 1", "v1");
    header(&o, 4, 0, 0);
    expect(&o, GLIMP_ERR_UNSUPPORTED, "version 4", "v4");
    header(&o, 0x03000000, 0, 0);
    expect(&o, GLIMP_ERR_UNSUPPORTED, "big-endian", "big-endian");
    o.n = 10;
    expect(&o, GLIMP_ERR_FORMAT, "too small", "short header");

    header(&o, 3, 0, UINT64_MAX);
    expect(&o, GLIMP_ERR_FORMAT, "metadata entries", "huge n_kv");
    header(&o, 3, 1ull << 62, 1);
    put_str(&o, "a");
    put_u32(&o, GGUF_TYPE_UINT8);
    o.b[o.n++] = 1;
    expect(&o, GLIMP_ERR_FORMAT, "tensors cannot fit", "huge n_tensors");

    header(&o, 3, 0, 1);
    put_u64(&o, UINT64_MAX);
    put_u32(&o, GGUF_TYPE_UINT8);
    o.b[o.n++] = 0;
    expect(&o, GLIMP_ERR_FORMAT, "exceeds", "huge key length");
    header(&o, 3, 0, 1);
    put_str(&o, "k");
    put_u32(&o, GGUF_TYPE_STRING);
    put_u64(&o, (1ull << 40));
    put_u64(&o, 0);
    expect(&o, GLIMP_ERR_FORMAT, "exceeds", "huge string length");
    header(&o, 3, 0, 1);
    put_str(&o, "k");
    put_u32(&o, 13);
    put_u32(&o, 0);
    expect(&o, GLIMP_ERR_FORMAT, "unknown value type 13", "bad value type");
    header(&o, 3, 0, 1);
    put_str(&o, "k");
    put_u32(&o, GGUF_TYPE_BOOL);
    o.b[o.n++] = 2;
    expect(&o, GLIMP_ERR_FORMAT, "not 0 or 1", "bool 2");

    /* huge array counts, for every element type */
    for (uint32_t elem = 0; elem < GGUF_TYPE_COUNT; elem++) {
        header(&o, 3, 0, 1);
        put_str(&o, "tokenizer.ggml.tokens");
        put_u32(&o, GGUF_TYPE_ARRAY);
        put_u32(&o, elem);
        put_u64(&o, UINT64_MAX / (elem + 1));
        put_u64(&o, 0);
        char what[64];
        snprintf(what, sizeof what, "huge array of %s", gguf_type_name((gguf_type)elem));
        expect(&o, GLIMP_ERR_FORMAT, "tokenizer.ggml.tokens", what);
    }
    header(&o, 3, 0, 1);
    put_str(&o, "k");
    put_u32(&o, GGUF_TYPE_ARRAY);
    put_u32(&o, 77);
    put_u64(&o, 0);
    expect(&o, GLIMP_ERR_FORMAT, "unknown array element type 77", "bad element type");

    /* arrays nested 500 deep, one element each */
    header(&o, 3, 0, 1);
    put_str(&o, "deep");
    put_u32(&o, GGUF_TYPE_ARRAY);
    for (int i = 0; i < 500; i++) {
        put_u32(&o, GGUF_TYPE_ARRAY);
        put_u64(&o, 1);
    }
    expect(&o, GLIMP_ERR_FORMAT, "nested deeper", "deep nesting");

    header(&o, 3, 0, 2);
    for (int i = 0; i < 2; i++) {
        put_str(&o, "general.name");
        put_u32(&o, GGUF_TYPE_UINT32);
        put_u32(&o, 1);
    }
    expect(&o, GLIMP_ERR_FORMAT, "duplicate key", "duplicate key");

    static const uint32_t bad_align[] = {0, 3, 48};
    for (int i = 0; i < 3; i++) {
        header(&o, 3, 0, 1);
        put_str(&o, "general.alignment");
        put_u32(&o, GGUF_TYPE_UINT32);
        put_u32(&o, bad_align[i]);
        expect(&o, GLIMP_ERR_FORMAT, "general.alignment", "bad alignment");
    }
    header(&o, 3, 0, 1);
    put_str(&o, "general.alignment");
    put_u32(&o, GGUF_TYPE_STRING);
    put_str(&o, "32");
    expect(&o, GLIMP_ERR_FORMAT, "general.alignment", "alignment of the wrong type");

    /* tensor infos */
    const uint64_t ok_ne[2] = {32, 2};
    struct {
        uint32_t n_dims;
        uint64_t ne[5];
        uint32_t type;
        uint64_t offset;
        glimp_status want;
        const char *needle;
    } cases[] = {
        {0, {0}, QT_F32, 0, GLIMP_ERR_FORMAT, "n_dims is 0"},
        {5, {1, 1, 1, 1, 1}, QT_F32, 0, GLIMP_ERR_FORMAT, "n_dims is 5"},
        {2, {32, 0}, QT_F32, 0, GLIMP_ERR_FORMAT, "dimension 1 is 0"},
        {2, {UINT64_MAX, 1}, QT_F32, 0, GLIMP_ERR_FORMAT, "dimension 0"},
        {3, {1ull << 32, 1ull << 32, 1ull << 32}, QT_F32, 0, GLIMP_ERR_FORMAT, "overflows"},
        {2, {1ull << 61, 2}, QT_F32, 0, GLIMP_ERR_FORMAT, "data size overflows"},
        {2, {32, 2}, 16, 0, GLIMP_ERR_UNSUPPORTED,
         "unsupported tensor type IQ2_XXS (16) in tensor blk.0.attn_q.weight"},
        {2, {32, 2}, 99, 0, GLIMP_ERR_UNSUPPORTED, "unsupported tensor type unknown (99)"},
        {2, {100, 2}, QT_Q4_K, 0, GLIMP_ERR_FORMAT, "not a multiple of the block size 256"},
        {2, {32, 2}, QT_F32, 1, GLIMP_ERR_FORMAT, "not a multiple of the alignment"},
        {2, {32, 2}, QT_F32, 1ull << 40, GLIMP_ERR_FORMAT, "past the end"},
        {2, {32, 2}, QT_F32, UINT64_MAX - 31, GLIMP_ERR_FORMAT, "past the end"},
        {2, {1ull << 40, 2}, QT_F32, 0, GLIMP_ERR_FORMAT, "past the end"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        header(&o, 3, 1, 0);
        tensor_info(&o, "blk.0.attn_q.weight", cases[i].n_dims, cases[i].ne, cases[i].type,
                    cases[i].offset);
        pad(&o, 32, 256);
        char what[64];
        snprintf(what, sizeof what, "tensor case %zu", i);
        expect(&o, cases[i].want, cases[i].needle, what);
    }
    header(&o, 3, 2, 0);
    tensor_info(&o, "same", 2, ok_ne, QT_F32, 0);
    tensor_info(&o, "same", 2, ok_ne, QT_F32, 256);
    pad(&o, 32, 512);
    expect(&o, GLIMP_ERR_FORMAT, "duplicate tensor name", "duplicate tensor");

    /* the same shapes are fine when well formed: a control case */
    header(&o, 2, 1, 0);
    tensor_info(&o, "t", 2, ok_ne, QT_F32, 0);
    pad(&o, 32, 256);
    uint8_t *c = exact_copy(o.b, o.n);
    glimp_error e = {0};
    gguf_file *f = gguf_open_memory(c, o.n, &e);
    CHECK(f && gguf_version(f) == 2 && gguf_find_tensor(f, "t"), "control v2 file: %s", e.msg);
    gguf_close(f);
    free(c);
}

int main(void)
{
    cap_allocations();
    check_hostile_headers();
    check_truncations();
    check_byte_flips();
    return test_finish();
}
