/* buf.h - growable arrays used across the text module: bytes, token ids and
 * (offset, length) spans.
 *
 * Every append returns false when memory cannot grow (the caller reports
 * GLIMP_ERR_NOMEM); the array is then unchanged. A zeroed struct is an empty
 * array; *_free releases the storage and leaves an empty array.
 */
#ifndef GLIMP_TEXT_BUF_H
#define GLIMP_TEXT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct text_buf {
    char *data; /* (cap) bytes, the first len in use; not NUL-terminated */
    size_t len, cap;
} text_buf;

typedef struct text_ids {
    int32_t *data; /* (cap) ids, the first len in use */
    size_t len, cap;
} text_ids;

typedef struct text_span {
    size_t off, len;
    int32_t id; /* a token id, or -1 for a span of raw text */
} text_span;

typedef struct text_spans {
    text_span *data; /* (cap) spans, the first len in use */
    size_t len, cap;
} text_spans;

/* Makes room for `extra` more elements of `elem` bytes (doubling growth). */
bool text_grow(void **data, size_t *cap, size_t len, size_t extra, size_t elem);

bool text_buf_append(text_buf *b, const void *p, size_t n);
bool text_buf_append_str(text_buf *b, const char *s);
/* Appends a NUL after the data without counting it in len. */
bool text_buf_terminate(text_buf *b);
void text_buf_free(text_buf *b);

bool text_ids_push(text_ids *v, int32_t id);
bool text_ids_append(text_ids *v, const int32_t *ids, size_t n);
void text_ids_free(text_ids *v);

bool text_spans_push(text_spans *v, size_t off, size_t len, int32_t id);
void text_spans_free(text_spans *v);

#endif
