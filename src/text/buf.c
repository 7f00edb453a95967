/* buf.c - growable arrays of the text module (see buf.h). Fails only on
 * allocation or size overflow, by returning false. */
#include "text/buf.h"

#include <stdlib.h>
#include <string.h>

bool text_grow(void **data, size_t *cap, size_t len, size_t extra, size_t elem)
{
    if (extra <= *cap - len) return true;
    if (extra > (SIZE_MAX / elem) - len) return false;
    size_t need = len + extra;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap = ncap > SIZE_MAX / 2 / elem ? need : ncap * 2;
    void *p = realloc(*data, ncap * elem);
    if (!p) return false;
    *data = p;
    *cap = ncap;
    return true;
}

bool text_buf_append(text_buf *b, const void *p, size_t n)
{
    if (!n) return true;
    if (!text_grow((void **)&b->data, &b->cap, b->len, n, 1)) return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

bool text_buf_append_str(text_buf *b, const char *s)
{
    return text_buf_append(b, s, strlen(s));
}

bool text_buf_terminate(text_buf *b)
{
    if (!text_grow((void **)&b->data, &b->cap, b->len, 1, 1)) return false;
    b->data[b->len] = '\0';
    return true;
}

void text_buf_free(text_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

bool text_ids_push(text_ids *v, int32_t id)
{
    if (v->len == v->cap && !text_grow((void **)&v->data, &v->cap, v->len, 1, sizeof *v->data))
        return false;
    v->data[v->len++] = id;
    return true;
}

bool text_ids_append(text_ids *v, const int32_t *ids, size_t n)
{
    if (!n) return true;
    if (!text_grow((void **)&v->data, &v->cap, v->len, n, sizeof *v->data)) return false;
    memcpy(v->data + v->len, ids, n * sizeof *ids);
    v->len += n;
    return true;
}

void text_ids_free(text_ids *v)
{
    free(v->data);
    memset(v, 0, sizeof *v);
}

bool text_spans_push(text_spans *v, size_t off, size_t len, int32_t id)
{
    if (v->len == v->cap && !text_grow((void **)&v->data, &v->cap, v->len, 1, sizeof *v->data))
        return false;
    v->data[v->len++] = (text_span){off, len, id};
    return true;
}

void text_spans_free(text_spans *v)
{
    free(v->data);
    memset(v, 0, sizeof *v);
}
