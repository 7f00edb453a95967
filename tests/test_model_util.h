/* test_model_util.h - helpers shared by the model tests: reading the LGT1
 * logits files of ../shared/ref (format in ref/README.md) and comparing
 * logit rows. A malformed file fails the test with a message. */
#ifndef GLIMP_TEST_MODEL_UTIL_H
#define GLIMP_TEST_MODEL_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

typedef struct lgt_file {
    int32_t n_tokens, n_vocab, n_pos;
    int32_t *tokens;    /* (n_tokens) */
    int32_t *positions; /* (n_pos) */
    float *logits;      /* (n_pos, n_vocab) */
} lgt_file;

static inline int lgt_read(const char *path, lgt_file *out)
{
    FILE *f = fopen(path, "rb");
    char magic[4];
    int32_t hdr[3];
    memset(out, 0, sizeof *out);
    if (!f) return 0;
    int ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "LGT1", 4) &&
             fread(hdr, sizeof(int32_t), 3, f) == 3 && hdr[0] > 0 && hdr[1] > 0 && hdr[2] > 0 &&
             hdr[0] < (1 << 20) && hdr[1] < (1 << 24) && hdr[2] <= hdr[0];
    if (ok) {
        out->n_tokens = hdr[0];
        out->n_vocab = hdr[1];
        out->n_pos = hdr[2];
        out->tokens = malloc((size_t)hdr[0] * sizeof(int32_t));
        out->positions = malloc((size_t)hdr[2] * sizeof(int32_t));
        out->logits = malloc((size_t)hdr[2] * (size_t)hdr[1] * sizeof(float));
        ok = out->tokens && out->positions && out->logits &&
             fread(out->tokens, sizeof(int32_t), (size_t)hdr[0], f) == (size_t)hdr[0] &&
             fread(out->positions, sizeof(int32_t), (size_t)hdr[2], f) == (size_t)hdr[2] &&
             fread(out->logits, sizeof(float), (size_t)hdr[2] * hdr[1], f) ==
                 (size_t)hdr[2] * hdr[1];
    }
    fclose(f);
    return ok;
}

static inline void lgt_free(lgt_file *l)
{
    free(l->tokens);
    free(l->positions);
    free(l->logits);
}

/* Largest |a - b| over n floats. */
static inline double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

#endif
