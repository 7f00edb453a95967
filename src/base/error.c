/* error.c - status names, error records, assert. Never fails. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *glimp_status_str(glimp_status status)
{
    switch (status) {
    case GLIMP_OK: return "ok";
    case GLIMP_ERR_IO: return "I/O error";
    case GLIMP_ERR_FORMAT: return "malformed input";
    case GLIMP_ERR_UNSUPPORTED: return "unsupported";
    case GLIMP_ERR_NOMEM: return "out of memory";
    case GLIMP_ERR_ARG: return "invalid argument";
    case GLIMP_ERR_HTTP: return "HTTP error";
    case GLIMP_ERR_JSON: return "JSON error";
    case GLIMP_ERR_RANGE: return "limit exceeded";
    case GLIMP_ERR_CANCELLED: return "cancelled";
    case GLIMP_ERR_TIMEOUT: return "timed out";
    case GLIMP_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}

const char *glimp_version(void) { return GLIMP_VERSION_STRING; }

glimp_status glimp_error_set(glimp_error *err, glimp_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void glimp_error_prefix(glimp_error *err, const char *fmt, ...)
{
    if (!err) return;
    char head[256], joined[sizeof head + sizeof err->msg + 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof joined, "%s: %s", head, err->msg);
    /* Cut the combined message to the record's size. */
    size_t n = strnlen(joined, sizeof err->msg - 1);
    memcpy(err->msg, joined, n);
    err->msg[n] = '\0';
}

void glimp_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "glimp: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
