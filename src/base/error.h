/* error.h - filling glimp_error records and the programmer-error assert.
 *
 * Input-driven failures are reported with glimp_error_set(), which formats a
 * message into the caller's record (NULL-safe) and returns the status, so a
 * failing path reads `return glimp_error_set(err, GLIMP_ERR_FORMAT, ...)`.
 * GLIMP_ASSERT is only for programmer errors: it prints file:line and aborts.
 */
#ifndef GLIMP_BASE_ERROR_H
#define GLIMP_BASE_ERROR_H

#include "glimp.h"

#if defined(__GNUC__)
#define GLIMP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GLIMP_PRINTF(a, b)
#endif

/* Sets err->status and err->msg (if err is not NULL); returns status. */
glimp_status glimp_error_set(glimp_error *err, glimp_status status, const char *fmt, ...)
    GLIMP_PRINTF(3, 4);

/* Prefixes an existing message with more context: "ctx: old message". */
void glimp_error_prefix(glimp_error *err, const char *fmt, ...) GLIMP_PRINTF(2, 3);

void glimp_assert_fail(const char *expr, const char *file, int line);

#define GLIMP_ASSERT(x) \
    do { if (!(x)) glimp_assert_fail(#x, __FILE__, __LINE__); } while (0)

#endif
