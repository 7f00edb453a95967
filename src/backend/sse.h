/* sse.h - incremental parser of Server-Sent Events streams, as OpenAI-
 * compatible servers send them for `stream: true` (internal API).
 *
 * Bytes arrive in chunks of any size (a line may be split anywhere). Lines
 * end in "\n", "\r\n" or "\r"; "data:" lines (one optional space after the
 * colon) accumulate, joined by "\n", and a blank line dispatches them as one
 * event. Comment lines (":...") and other fields (event:, id:, retry:) are
 * ignored. Failure: GLIMP_ERR_FORMAT when a line or event exceeds the limit
 * (a server sending garbage without newlines), GLIMP_ERR_NOMEM.
 */
#ifndef GLIMP_BACKEND_SSE_H
#define GLIMP_BACKEND_SSE_H

#include "glimp.h"

/* Called with each event's data (NUL-terminated). Return false to stop:
 * sse_feed then returns GLIMP_ERR_CANCELLED without reading further. */
typedef bool (*sse_event_fn)(void *user, const char *data, size_t len);

typedef struct sse_parser {
    sse_event_fn on_event;
    void *user;
    size_t max_bytes; /* limit of one line and of one event's data */
    char *line;       /* the line being read */
    size_t line_len, line_cap;
    char *data;       /* the event being built */
    size_t data_len, data_cap;
    bool has_data;    /* a data: line was seen since the last dispatch */
    bool after_cr;    /* the previous byte was '\r' (a following '\n' is part of it) */
} sse_parser;

void sse_init(sse_parser *p, size_t max_bytes, sse_event_fn on_event, void *user);
void sse_free(sse_parser *p);
glimp_status sse_feed(sse_parser *p, const char *bytes, size_t n, glimp_error *err);
/* Ends the stream: a final line without a newline is processed and a
 * pending event is dispatched (servers that omit the last blank line). */
glimp_status sse_finish(sse_parser *p, glimp_error *err);

#endif
