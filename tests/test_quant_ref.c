/* test_quant_ref.c - quant formats against llama.cpp's own files.
 *
 * ../shared/ref/lq-<type>.gguf were written by llama-quantize from the
 * random weights of lq-f32.gguf; ref/dequant/ holds gguf-py's dequantized
 * blk.0.attn_q.weight and blk.0.ffn_down.weight of each (bit-identical to
 * ggml's to_float). Asserts:
 *  - our to_float of those tensors equals the reference bit for bit;
 *  - quantizing the F32 originals with our from_float gives an RMS error
 *    at most 1.10x llama-quantize's (its dequantized file vs the F32
 *    originals); both are printed.
 * Skips (77) when ../shared is absent.
 */
/* test-links: gguf quant base */
#include "gguf/gguf.h"
#include "quant/quant.h"
#include "test_util.h"

#include <stdint.h>

#define RMSE_RATIO_MAX 1.10

static const char *const tensors[] = {"blk.0.attn_q.weight", "blk.0.ffn_down.weight"};
static const char *const files[] = {"bf16", "f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
                                    "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_k_m"};

static float *read_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    float *v = malloc(n * sizeof *v);
    size_t got = fread(v, sizeof *v, n, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != n || extra != EOF) {
        free(v);
        return NULL;
    }
    return v;
}

static gguf_file *open_ref(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "ref/lq-%s.gguf", name);
    glimp_error err = {0};
    gguf_file *g = gguf_open(test_shared_or_skip(rel), &err);
    CHECK(g != NULL, "open %s: %s", rel, err.msg);
    return g;
}

static size_t n_elems(const gguf_tensor *t) { return (size_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]); }

static double rmse(const float *a, const float *b, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(e / (double)n);
}

int main(void)
{
    gguf_file *orig = open_ref("f32");
    REQUIRE(orig != NULL, "lq-f32.gguf");
    printf("%-7s %-22s %-8s %12s %12s %7s %s\n", "type", "tensor", "dequant", "rmse ours",
           "rmse llama", "ratio", "blocks byte-identical to llama-quantize's");
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        gguf_file *g = open_ref(files[fi]);
        if (!g) continue;
        for (size_t ti = 0; ti < 2; ti++) {
            const gguf_tensor *t = gguf_find_tensor(g, tensors[ti]);
            const gguf_tensor *o = gguf_find_tensor(orig, tensors[ti]);
            REQUIRE(t && o && o->type == QT_F32, "%s in lq-%s", tensors[ti], files[fi]);
            const qt_traits *tr = qt_get(t->type);
            REQUIRE(tr != NULL, "type %u", t->type);
            const size_t n = n_elems(t);
            REQUIRE(n == n_elems(o), "shapes");

            char rel[256];
            snprintf(rel, sizeof rel, "ref/dequant/lq-%s.%s.f32", files[fi], tensors[ti]);
            float *want = read_f32(test_shared_or_skip(rel), n);
            REQUIRE(want != NULL, "read %s", rel);

            /* 1. dequantization: bit for bit */
            float *got = malloc(n * sizeof *got);
            tr->to_float(t->data, got, (int64_t)n);
            size_t diff = 0;
            for (size_t i = 0; i < n; i++) diff += memcmp(&got[i], &want[i], sizeof *got) != 0;
            CHECK(diff == 0, "lq-%s %s: %zu of %zu values differ from gguf-py", files[fi], tensors[ti],
                  diff, n);

            /* 2. our quantizer's error vs llama-quantize's, same originals */
            const float *x = o->data;
            uint8_t *q = malloc(n / tr->blck_size * tr->type_size);
            tr->from_float(x, q, (int64_t)n);
            tr->to_float(q, got, (int64_t)n);
            size_t nb = n / tr->blck_size, same = 0;
            for (size_t b = 0; b < nb; b++)
                same += !memcmp(q + b * tr->type_size, (const uint8_t *)t->data + b * tr->type_size,
                                tr->type_size);
            const double ours = rmse(got, x, n), theirs = rmse(want, x, n);
            const double ratio = theirs > 0 ? ours / theirs : (ours > 0 ? INFINITY : 1.0);
            printf("%-7s %-22s %-8s %12.6g %12.6g %7.4f %zu/%zu\n", tr->name, tensors[ti],
                   diff ? "DIFFERS" : "exact", ours, theirs, ratio, same, nb);
            CHECK(ratio <= RMSE_RATIO_MAX, "lq-%s %s: quantization rmse %.6g vs llama.cpp %.6g",
                  files[fi], tensors[ti], ours, theirs);
            free(q);
            free(got);
            free(want);
        }
        gguf_close(g);
    }
    gguf_close(orig);
    return test_finish();
}
