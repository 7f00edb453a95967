/* eval_buf.c - a growable NUL-terminated string for building JSON lines,
 * normalised answers and SVG documents. An append that cannot allocate sets
 * b->oom and is dropped; callers check oom (or a NULL take) once at the end.
 */
#include "eval/eval.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(eval_buf *b, size_t extra)
{
    if (b->oom) return false;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void eval_buf_put(eval_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n)) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void eval_buf_puts(eval_buf *b, const char *s) { eval_buf_put(b, s, strlen(s)); }

void eval_buf_putc(eval_buf *b, char c) { eval_buf_put(b, &c, 1); }

void eval_buf_printf(eval_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *eval_buf_str(const eval_buf *b) { return b->s ? b->s : ""; }

char *eval_buf_take(eval_buf *b)
{
    if (b->oom) {
        eval_buf_free(b);
        return NULL;
    }
    if (!b->s && !buf_reserve(b, 0)) return NULL;
    if (!b->len) b->s[0] = '\0';
    char *s = b->s;
    *b = (eval_buf){0};
    return s;
}

void eval_buf_free(eval_buf *b)
{
    free(b->s);
    *b = (eval_buf){0};
}
