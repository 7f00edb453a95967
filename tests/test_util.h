/* test_util.h - tiny assertion kit shared by the test executables.
 *
 * CHECK(cond, fmt, ...) records a failure with file:line and keeps going;
 * a test's main() ends with `return test_finish();` which prints a summary
 * and returns 1 if anything failed. test_skip() exits with 77 (CTest's skip
 * code) and a reason, e.g. when ../shared is absent in a user's clone.
 */
#ifndef GLIMP_TEST_UTIL_H
#define GLIMP_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>

static int test_failures_;
static int test_checks_;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        test_checks_++;                                                         \
        if (!(cond)) {                                                          \
            test_failures_++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* CHECK that stops the test (for preconditions later checks depend on). */
#define REQUIRE(cond, ...)                                                      \
    do {                                                                        \
        int require_ok_ = !!(cond);                                             \
        CHECK(require_ok_, __VA_ARGS__);                                        \
        if (!require_ok_) exit(test_finish());                                  \
    } while (0)

static inline int test_finish(void)
{
    if (test_failures_) {
        fprintf(stderr, "%d of %d checks FAILED\n", test_failures_, test_checks_);
        return 1;
    }
    printf("all %d checks passed\n", test_checks_);
    return 0;
}

static inline void test_skip(const char *why)
{
    printf("SKIP: %s\n", why);
    exit(77);
}

/* Path of a file under the shared reference folder ($GLIMP_SHARED, else
 * ../shared); NULL when that folder does not exist. Static buffer. */
static inline const char *test_shared_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("GLIMP_SHARED");
    struct stat st;
    if (!dir) dir = "../shared";
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

/* Like test_shared_path, but skips the test when the folder is absent. */
static inline const char *test_shared_or_skip(const char *rel)
{
    const char *p = test_shared_path(rel);
    if (!p) test_skip("reference folder ../shared not found (set GLIMP_SHARED)");
    return p;
}

#endif
