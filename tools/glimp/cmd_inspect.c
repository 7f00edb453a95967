/* cmd_inspect.c - `glimp inspect FILE.gguf`: what is in a GGUF file and
 * whether this engine can run it.
 *
 * Prints the header, every metadata entry (long strings cut, arrays shown as
 * element type, count and first items), the tensor table, totals per type and
 * a verdict: runnable, tokenizer only, or not runnable with what is missing
 * or unsupported. Exit 0 when the file could be read (whatever the verdict),
 * 1 with the reader's message when it could not, 2 on usage errors.
 */
#include "cli_args.h"
#include "commands.h"

#include "gguf/gguf.h"
#include "quant/quant.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SHOW_ITEMS 4        /* array items shown */
#define SHOW_STR_BYTES 72   /* string bytes shown */
#define MAX_PROBLEMS 8      /* verdict problems listed */

/* A line being built; silently cut at its capacity. */
typedef struct line {
    char buf[1024];
    size_t len;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(line *l, const char *fmt, ...)
{
    if (l->len >= sizeof l->buf - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
    va_end(ap);
    if (n > 0) l->len += (size_t)n < sizeof l->buf - l->len ? (size_t)n : sizeof l->buf - 1 - l->len;
}

static void put_str(line *l, gguf_str s)
{
    put(l, "\"");
    uint64_t n = s.len < SHOW_STR_BYTES ? s.len : SHOW_STR_BYTES;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') put(l, "\\%c", c);
        else if (c == '\n') put(l, "\\n");
        else if (c == '\t') put(l, "\\t");
        else if (c < 0x20 || c == 0x7f) put(l, "\\x%02x", c);
        else put(l, "%c", c);
    }
    put(l, s.len > n ? "\"... (%" PRIu64 " bytes)" : "\"", s.len);
}

static void put_value(line *l, const gguf_value *v, int depth);

static void put_array(line *l, const gguf_value *v, int depth)
{
    put(l, "arr[%s] %" PRIu64 " items", gguf_type_name(v->arr.elem), v->arr.n);
    if (!v->arr.n) return;
    uint64_t shown = v->arr.n < SHOW_ITEMS ? v->arr.n : SHOW_ITEMS;
    put(l, depth ? " [" : ": ");
    for (uint64_t i = 0; i < shown; i++) {
        if (i) put(l, ", ");
        if (v->arr.items) {
            put_value(l, &v->arr.items[i], depth + 1);
        } else if (v->arr.elem == GGUF_TYPE_FLOAT32 || v->arr.elem == GGUF_TYPE_FLOAT64) {
            put(l, "%g", gguf_arr_f64(v, i));
        } else if (v->arr.elem == GGUF_TYPE_UINT64) {
            put(l, "%" PRIu64, gguf_arr_u64(v, i));
        } else if (v->arr.elem == GGUF_TYPE_BOOL) {
            put(l, "%s", gguf_arr_u64(v, i) ? "true" : "false");
        } else {
            put(l, "%" PRId64, gguf_arr_i64(v, i));
        }
    }
    if (shown < v->arr.n) put(l, ", ...");
    if (depth) put(l, "]");
}

static void put_value(line *l, const gguf_value *v, int depth)
{
    switch (v->type) {
    case GGUF_TYPE_STRING: put_str(l, v->str); break;
    case GGUF_TYPE_ARRAY: put_array(l, v, depth); break;
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64: put(l, "%.9g", v->f64); break;
    case GGUF_TYPE_BOOL: put(l, "%s", v->u64 ? "true" : "false"); break;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        put(l, "%" PRId64, v->i64);
        break;
    default: put(l, "%" PRIu64, v->u64); break;
    }
}

static void print_metadata(const gguf_file *f)
{
    printf("\nmetadata (%" PRIu64 " keys):\n", gguf_n_kv(f));
    for (uint64_t i = 0; i < gguf_n_kv(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        line l = {.len = 0};
        put(&l, "  %-44.*s %-5s ", (int)(kv->key.len > 200 ? 200 : kv->key.len), kv->key.ptr,
            gguf_type_name(kv->value.type));
        put_value(&l, &kv->value, 0);
        puts(l.buf);
    }
}

/* "[64, 512]" */
static void put_shape(line *l, const gguf_tensor *t)
{
    put(l, "[");
    for (uint32_t d = 0; d < t->n_dims; d++) put(l, d ? ", %" PRIu64 : "%" PRIu64, t->ne[d]);
    put(l, "]");
}

static uint64_t n_elements(const gguf_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

/* 1234567 -> "1.23 M". */
static const char *human_count(uint64_t n, char *buf, size_t cap)
{
    if (n >= 1000000000) snprintf(buf, cap, "%.2f B", n / 1e9);
    else if (n >= 1000000) snprintf(buf, cap, "%.2f M", n / 1e6);
    else if (n >= 1000) snprintf(buf, cap, "%.2f K", n / 1e3);
    else snprintf(buf, cap, "%" PRIu64, n);
    return buf;
}

static void print_tensors(const gguf_file *f)
{
    uint64_t n = gguf_n_tensors(f);
    if (!n) {
        printf("\ntensors: none\n");
        return;
    }
    printf("\ntensors (%" PRIu64 "):\n  %-40s %-6s %-22s %14s\n", n, "name", "type", "shape",
           "bytes");
    uint64_t params = 0, bytes = 0;
    char count_buf[32];
    uint64_t type_count[QT_MAX_ID] = {0}, type_bytes[QT_MAX_ID] = {0};
    for (uint64_t i = 0; i < n; i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        line shape = {.len = 0};
        put_shape(&shape, t);
        printf("  %-40.*s %-6s %-22s %14" PRIu64 "\n", (int)(t->name.len > 200 ? 200 : t->name.len),
               t->name.ptr, qt_name(t->type), shape.buf, t->nbytes);
        params += n_elements(t);
        bytes += t->nbytes;
        type_count[t->type]++; /* the reader only accepts ids < QT_MAX_ID */
        type_bytes[t->type] += t->nbytes;
    }
    printf("\ntotals: %" PRIu64 " tensors, %" PRIu64 " parameters (%s), %" PRIu64
           " bytes (%.2f MiB)\n",
           n, params, human_count(params, count_buf, sizeof count_buf), bytes,
           bytes / 1048576.0);
    for (uint32_t t = 0; t < QT_MAX_ID; t++)
        if (type_count[t])
            printf("  %-6s %6" PRIu64 " tensors %16" PRIu64 " bytes\n", qt_name(t), type_count[t],
                   type_bytes[t]);
}

/* ---- verdict ----------------------------------------------------------- */

typedef struct verdict {
    int n_problems;
    char problems[MAX_PROBLEMS][160];
} verdict;

static void problem(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(verdict *v, const char *fmt, ...)
{
    if (v->n_problems < MAX_PROBLEMS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->problems[v->n_problems], sizeof v->problems[0], fmt, ap);
        va_end(ap);
    }
    v->n_problems++;
}

/* Reads <arch>.<suffix> as u32; records a problem when absent and required. */
static uint32_t arch_u32(const gguf_file *f, const char *arch, const char *suffix, uint32_t dflt,
                         verdict *v)
{
    char key[128];
    uint32_t x;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (gguf_get_u32(f, key, &x)) return x;
    if (!dflt) problem(v, "missing key %s", key);
    return dflt;
}

/* Checks that tensor `name` exists with the given shape (ne1 0: 1-D). */
static void want_tensor(const gguf_file *f, verdict *v, const char *name, uint64_t ne0,
                        uint64_t ne1)
{
    const gguf_tensor *t = gguf_find_tensor(f, name);
    if (!t) {
        problem(v, "missing tensor %s", name);
        return;
    }
    uint32_t dims = ne1 ? 2 : 1;
    if (t->n_dims != dims || t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1)) {
        line shape = {.len = 0};
        put_shape(&shape, t);
        if (ne1) problem(v, "tensor %s has shape %s, expected [%" PRIu64 ", %" PRIu64 "]", name,
                         shape.buf, ne0, ne1);
        else problem(v, "tensor %s has shape %s, expected [%" PRIu64 "]", name, shape.buf, ne0);
    }
}

static void check_model(const gguf_file *f, const char *arch, uint64_t n_vocab, verdict *v)
{
    bool qwen2 = !strcmp(arch, "qwen2"), qwen3 = !strcmp(arch, "qwen3");
    uint32_t n_layer = arch_u32(f, arch, "block_count", 0, v);
    uint32_t n_embd = arch_u32(f, arch, "embedding_length", 0, v);
    uint32_t n_ff = arch_u32(f, arch, "feed_forward_length", 0, v);
    uint32_t n_head = arch_u32(f, arch, "attention.head_count", 0, v);
    uint32_t n_head_kv = arch_u32(f, arch, "attention.head_count_kv", n_head ? n_head : 1, v);
    arch_u32(f, arch, "context_length", 0, v);
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    float eps;
    if (!gguf_get_f32(f, key, &eps)) problem(v, "missing key %s", key);
    if (!n_layer || !n_embd || !n_ff || !n_head) return;
    uint32_t head_dim = arch_u32(f, arch, "attention.key_length", n_embd / n_head, v);
    uint32_t head_dim_v = arch_u32(f, arch, "attention.value_length", head_dim, v);
    uint64_t q_dim = (uint64_t)n_head * head_dim, kv_dim = (uint64_t)n_head_kv * head_dim;
    uint64_t v_dim = (uint64_t)n_head_kv * head_dim_v, o_dim = (uint64_t)n_head * head_dim_v;

    if (n_vocab) want_tensor(f, v, "token_embd.weight", n_embd, n_vocab);
    want_tensor(f, v, "output_norm.weight", n_embd, 0);
    if (n_vocab && gguf_find_tensor(f, "output.weight"))
        want_tensor(f, v, "output.weight", n_embd, n_vocab);
    for (uint32_t i = 0; i < n_layer && v->n_problems < MAX_PROBLEMS; i++) {
        char name[96];
#define BLK(suffix, ne0, ne1)                                                  \
    (snprintf(name, sizeof name, "blk.%u." suffix, i), want_tensor(f, v, name, ne0, ne1))
        BLK("attn_norm.weight", n_embd, 0);
        BLK("attn_q.weight", n_embd, q_dim);
        BLK("attn_k.weight", n_embd, kv_dim);
        BLK("attn_v.weight", n_embd, v_dim);
        BLK("attn_output.weight", o_dim, n_embd);
        BLK("ffn_norm.weight", n_embd, 0);
        BLK("ffn_gate.weight", n_embd, n_ff);
        BLK("ffn_up.weight", n_embd, n_ff);
        BLK("ffn_down.weight", n_ff, n_embd);
        if (qwen2) {
            BLK("attn_q.bias", q_dim, 0);
            BLK("attn_k.bias", kv_dim, 0);
            BLK("attn_v.bias", v_dim, 0);
        }
        if (qwen3) {
            BLK("attn_q_norm.weight", head_dim, 0);
            BLK("attn_k_norm.weight", head_dim, 0);
        }
#undef BLK
    }
}

static void print_verdict(const gguf_file *f)
{
    verdict v = {.n_problems = 0};
    gguf_str arch_s = {"", 0}, model_s = {"", 0};
    const gguf_value *tokens = gguf_get_arr(f, "tokenizer.ggml.tokens");
    uint64_t n_vocab = tokens ? tokens->arr.n : 0;
    gguf_get_str(f, "tokenizer.ggml.model", &model_s);
    if (gguf_n_tensors(f) == 0) {
        if (tokens)
            printf("\nverdict: tokenizer only (%.*s vocabulary, %" PRIu64 " tokens): no weights\n",
                   (int)model_s.len, model_s.ptr, n_vocab);
        else
            printf("\nverdict: not runnable: no tensors and no tokenizer\n");
        return;
    }
    char arch[64] = "";
    if (!gguf_get_str(f, "general.architecture", &arch_s)) problem(&v, "missing key general.architecture");
    else snprintf(arch, sizeof arch, "%.*s", (int)(arch_s.len > 60 ? 60 : arch_s.len), arch_s.ptr);
    bool known = !strcmp(arch, "llama") || !strcmp(arch, "qwen2") || !strcmp(arch, "qwen3");
    if (arch[0] && !known)
        problem(&v, "architecture '%s' is not supported (llama, qwen2, qwen3)", arch);
    if (!tokens) problem(&v, "missing key tokenizer.ggml.tokens (no vocabulary)");
    uint64_t type_count[QT_MAX_ID] = {0};
    for (uint64_t i = 0; i < gguf_n_tensors(f); i++) type_count[gguf_tensor_at(f, i)->type]++;
    for (uint32_t t = 0; t < QT_MAX_ID; t++) {
        const qt_traits *tr = qt_get(t);
        if (type_count[t] && (!tr->to_float || !tr->vec_dot))
            problem(&v, "tensor type %s has no kernels in this engine (%" PRIu64 " tensors)",
                    tr->name, type_count[t]);
    }
    if (known) check_model(f, arch, n_vocab, &v);
    if (!v.n_problems) {
        uint32_t n_layer = 0;
        char key[96];
        snprintf(key, sizeof key, "%s.block_count", arch);
        gguf_get_u32(f, key, &n_layer);
        printf("\nverdict: runnable (%s, %u layer%s, %" PRIu64 "-token %.*s vocabulary)\n", arch,
               n_layer, n_layer == 1 ? "" : "s", n_vocab, (int)model_s.len, model_s.ptr);
        return;
    }
    printf("\nverdict: not runnable (%d problem%s):\n", v.n_problems, v.n_problems == 1 ? "" : "s");
    for (int i = 0; i < v.n_problems && i < MAX_PROBLEMS; i++) printf("  - %s\n", v.problems[i]);
    if (v.n_problems > MAX_PROBLEMS) printf("  - ... and %d more\n", v.n_problems - MAX_PROBLEMS);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glimp inspect FILE.gguf\n\n"
            "Prints a GGUF file's header, metadata (long strings and arrays summarised),\n"
            "tensor table (name, type, shape, bytes), totals per type, and whether this\n"
            "engine can run it (architecture llama/qwen2/qwen3, supported tensor types,\n"
            "required tensors with the right shapes) or what is missing.\n"
            "Exit status: 0 file read, 1 unreadable (the reason is printed), 2 usage.\n");
}

int cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("glimp inspect", "unknown option '%s'", argv[i]);
        if (path) return cli_usage_error("glimp inspect", "give one file ('%s' is a second)",
                                         argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error("glimp inspect", "give a GGUF file");
    glimp_error err = {0};
    gguf_file *f = gguf_open(path, &err);
    if (!f) {
        fprintf(stderr, "glimp inspect: %s\n", err.msg);
        return 1;
    }
    printf("%s: GGUF v%u, %" PRIu64 " bytes, alignment %" PRIu64 ", data section at byte %" PRIu64
           "\n",
           path, gguf_version(f), gguf_file_size(f), gguf_alignment(f), gguf_data_offset(f));
    print_metadata(f);
    print_tensors(f);
    print_verdict(f);
    gguf_close(f);
    return 0;
}
