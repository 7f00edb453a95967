/* eval_lcb_decode.c - LiveCodeBench's encoded private tests: base64 of
 * zlib of a Python pickle of one str (the JSON list of tests). The file is
 * untrusted, so the pickle is not interpreted: a strict reader accepts
 * exactly the opcodes `pickle.dumps(some_str)` writes with protocol 2 to 5
 * (PROTO, FRAME, SHORT_BINUNICODE / BINUNICODE / BINUNICODE8, MEMOIZE /
 * BINPUT / LONG_BINPUT, STOP) and refuses anything else, including data
 * after STOP. Inflation stops at the caller's size bound.
 */
#include "eval/eval_lcb.h"

#include "base/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 with '=' padding; NULL on a bad character or length. */
static unsigned char *b64_decode(const char *s, size_t n, size_t *out_len)
{
    if (n % 4) return NULL;
    size_t pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            bool padding = i + 4 == n && j >= 4 - (int)pad;
            v[j] = padding ? 0 : b64_value((unsigned char)s[i + j]);
            if (v[j] < 0) {
                free(out);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        out[k++] = (unsigned char)(w >> 16);
        out[k++] = (unsigned char)(w >> 8);
        out[k++] = (unsigned char)w;
    }
    *out_len = k - pad;
    return out;
}

/* zlib stream -> bytes, at most max of them; NULL + err otherwise. */
static unsigned char *inflate_all(const unsigned char *in, size_t n, size_t max, size_t *out_len,
                                  glimp_error *err)
{
    z_stream z = {0};
    if (inflateInit(&z) != Z_OK) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "zlib: cannot start");
        return NULL;
    }
    size_t cap = n * 4 + 1024, len = 0;
    if (cap > max + 1) cap = max + 1;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)in;
    z.avail_in = 0;
    size_t fed = 0;
    int rc = Z_OK;
    while (out && rc != Z_STREAM_END) {
        if (len == cap) {
            if (cap > max) {
                glimp_error_set(err, GLIMP_ERR_RANGE, "tests over %zu bytes", max);
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *t = realloc(out, ncap);
            if (!t) break;
            out = t;
            cap = ncap;
        }
        if (!z.avail_in && fed < n) {
            size_t chunk = n - fed > (1u << 30) ? (1u << 30) : n - fed;
            z.next_in = (unsigned char *)in + fed;
            z.avail_in = (uInt)chunk;
            fed += chunk;
        }
        size_t room = cap - len > (1u << 30) ? (1u << 30) : cap - len;
        z.next_out = out + len;
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        len += room - z.avail_out;
        if (rc == Z_BUF_ERROR && !z.avail_in && fed == n) {
            glimp_error_set(err, GLIMP_ERR_FORMAT, "zlib: truncated data");
            break;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            glimp_error_set(err, GLIMP_ERR_FORMAT, "zlib: %s", z.msg ? z.msg : "bad data");
            break;
        }
    }
    bool trailing = rc == Z_STREAM_END && (z.avail_in || fed < n);
    inflateEnd(&z);
    if (!out) glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    if (out && (rc != Z_STREAM_END || trailing)) {
        if (trailing) glimp_error_set(err, GLIMP_ERR_FORMAT, "zlib: data after the stream");
        free(out);
        return NULL;
    }
    if (out && len > max) {
        free(out);
        glimp_error_set(err, GLIMP_ERR_RANGE, "tests over %zu bytes", max);
        return NULL;
    }
    *out_len = len;
    return out;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), no NUL. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (!len || c > 0xf4 || i + (size_t)len > n) return false;
        uint32_t cp = c & (0x7f >> len);
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += (size_t)len;
    }
    return true;
}

/* The str of a pickle: offset and length into p; false + err otherwise. */
static bool pickled_str(const unsigned char *p, size_t n, size_t *off, size_t *len,
                        glimp_error *err)
{
    size_t i = 0;
    bool have_str = false, memo = false;
#define NEED(k)                                                                       \
    do {                                                                              \
        if (n - i < (size_t)(k)) {                                                    \
            glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: truncated at byte %zu", i); \
            return false;                                                             \
        }                                                                             \
    } while (0)
    NEED(2);
    if (p[0] != 0x80 || p[1] < 2 || p[1] > 5) {
        glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: not protocol 2-5");
        return false;
    }
    i = 2;
    for (;;) {
        NEED(1);
        unsigned char op = p[i++];
        int lenbytes = 0;
        switch (op) {
        case 0x95: /* FRAME: a length hint */
            NEED(8);
            if (le(p + i, 8) > n - i - 8) {
                glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: frame past the end");
                return false;
            }
            i += 8;
            continue;
        case 0x8c: lenbytes = 1; break; /* SHORT_BINUNICODE */
        case 'X': lenbytes = 4; break;  /* BINUNICODE */
        case 0x8d: lenbytes = 8; break; /* BINUNICODE8 */
        case 0x94:                      /* MEMOIZE */
        case 'q':                       /* BINPUT */
        case 'r':                       /* LONG_BINPUT */
            if (!have_str || memo) break;
            memo = true;
            NEED(op == 'q' ? 1 : op == 'r' ? 4 : 0);
            i += op == 'q' ? 1 : op == 'r' ? 4 : 0;
            continue;
        case '.': /* STOP */
            if (!have_str) break;
            if (i != n) {
                glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: data after STOP");
                return false;
            }
            return true;
        default: break;
        }
        if (!lenbytes || have_str) {
            glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: opcode 0x%02x at byte %zu is not "
                            "part of a pickled str", op, i - 1);
            return false;
        }
        NEED(lenbytes);
        uint64_t l = le(p + i, lenbytes);
        i += (size_t)lenbytes;
        if (l > n - i) {
            glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: string past the end");
            return false;
        }
        *off = i;
        *len = (size_t)l;
        i += (size_t)l;
        have_str = true;
    }
#undef NEED
}

char *eval_lcb_decode_tests(const char *b64, size_t b64_len, size_t max_len, size_t *len,
                            glimp_error *err)
{
    size_t zn = 0, pn = 0, off = 0, sn = 0;
    unsigned char *z = b64_decode(b64, b64_len, &zn);
    if (!z) {
        glimp_error_set(err, GLIMP_ERR_FORMAT, "not base64");
        return NULL;
    }
    /* the pickle adds at most 2 + 9 + 9 + 5 + 1 bytes around the str */
    size_t max_pickle = max_len > SIZE_MAX - 64 ? SIZE_MAX : max_len + 64;
    unsigned char *p = inflate_all(z, zn, max_pickle, &pn, err);
    free(z);
    if (!p) return NULL;
    char *s = NULL;
    if (pickled_str(p, pn, &off, &sn, err)) {
        if (sn > max_len) glimp_error_set(err, GLIMP_ERR_RANGE, "tests over %zu bytes", max_len);
        else if (!valid_utf8(p + off, sn))
            glimp_error_set(err, GLIMP_ERR_FORMAT, "pickle: the str is not UTF-8 without NUL");
        else if (!(s = malloc(sn + 1))) glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        else {
            memcpy(s, p + off, sn);
            s[sn] = '\0';
            *len = sn;
        }
    }
    free(p);
    return s;
}
