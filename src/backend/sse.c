/* sse.c - Server-Sent Events parsing (see sse.h). */
#include "backend/sse.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

void sse_init(sse_parser *p, size_t max_bytes, sse_event_fn on_event, void *user)
{
    memset(p, 0, sizeof *p);
    p->on_event = on_event;
    p->user = user;
    p->max_bytes = max_bytes;
}

void sse_free(sse_parser *p)
{
    free(p->line);
    free(p->data);
    p->line = p->data = NULL;
    p->line_len = p->line_cap = p->data_len = p->data_cap = 0;
}

static glimp_status append(char **buf, size_t *len, size_t *cap, const char *src, size_t n,
                           size_t max, glimp_error *err)
{
    if (*len + n > max)
        return glimp_error_set(err, GLIMP_ERR_FORMAT,
                               "sse: line or event longer than %zu bytes (not an event stream?)",
                               max);
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return glimp_error_set(err, GLIMP_ERR_NOMEM, "sse: out of memory");
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return GLIMP_OK;
}

static glimp_status dispatch(sse_parser *p, glimp_error *err)
{
    if (!p->has_data) return GLIMP_OK;
    p->has_data = false;
    if (!p->data) {
        glimp_status st = append(&p->data, &p->data_len, &p->data_cap, "", 0, p->max_bytes, err);
        if (st != GLIMP_OK) return st;
    }
    size_t len = p->data_len;
    p->data_len = 0;
    if (!p->on_event(p->user, p->data, len))
        return glimp_error_set(err, GLIMP_ERR_CANCELLED, "sse: stopped by the consumer");
    return GLIMP_OK;
}

static glimp_status end_line(sse_parser *p, glimp_error *err)
{
    const char *l = p->line ? p->line : "";
    size_t n = p->line_len;
    p->line_len = 0;
    if (n == 0) return dispatch(p, err);
    if (n >= 5 && !memcmp(l, "data:", 5)) {
        size_t skip = (n > 5 && l[5] == ' ') ? 6 : 5;
        if (p->has_data) {
            glimp_status st = append(&p->data, &p->data_len, &p->data_cap, "\n", 1,
                                     p->max_bytes, err);
            if (st != GLIMP_OK) return st;
        }
        p->has_data = true;
        return append(&p->data, &p->data_len, &p->data_cap, l + skip, n - skip, p->max_bytes,
                      err);
    }
    return GLIMP_OK; /* comments and other fields */
}

glimp_status sse_feed(sse_parser *p, const char *bytes, size_t n, glimp_error *err)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = bytes[i];
        if (ch != '\n' && ch != '\r') {
            p->after_cr = false;
            continue;
        }
        bool lf_after_cr = ch == '\n' && p->after_cr && i == start;
        p->after_cr = ch == '\r';
        glimp_status st = append(&p->line, &p->line_len, &p->line_cap, bytes + start, i - start,
                                 p->max_bytes, err);
        start = i + 1;
        if (st != GLIMP_OK) return st;
        if (lf_after_cr) continue; /* the "\n" of a "\r\n" already ended the line */
        st = end_line(p, err);
        if (st != GLIMP_OK) return st;
    }
    return append(&p->line, &p->line_len, &p->line_cap, bytes + start, n - start, p->max_bytes,
                  err);
}

glimp_status sse_finish(sse_parser *p, glimp_error *err)
{
    if (p->line_len) {
        glimp_status st = end_line(p, err);
        if (st != GLIMP_OK) return st;
    }
    return dispatch(p, err);
}
