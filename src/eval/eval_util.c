/* eval_util.c - seeds and clocks for the evaluation module: a splitmix64
 * generator (choice shuffles, per-item seeds), FNV-1a hashing (problem ids,
 * run fingerprints) and a monotonic clock. Cannot fail. */
#include "eval/eval.h"

#include <string.h>
#include <time.h>

uint64_t eval_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t eval_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t eval_hash_str(const char *s) { return eval_hash_bytes(EVAL_HASH_INIT, s, strlen(s)); }

double eval_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
