/* cmd_bench.c - `glimp bench`: benchmarks. `--tokenizer FILE.gguf` is the
 * tokenizer benchmark here; everything else (`-m MODEL.gguf`) goes to the
 * model benchmark, cli_bench_model (cmd_bench_model.c).
 *
 * The tokenizer benchmark loads the tokenizer (timed), builds a mixed text
 * deterministically (English prose, C code, CJK, digits) and reports encode
 * and decode speed on one core, best of several runs. It prints figures and
 * asserts nothing. Exit 0, 1 when the file cannot be loaded or tokenized, 2
 * on usage errors.
 */
#include "cli_args.h"
#include "commands.h"

#include "glimp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- deterministic mixed text ---- */

typedef struct gen {
    char *buf;
    size_t len, cap;
    uint64_t rng;
} gen;

static uint32_t gen_rand(gen *g, uint32_t n)
{
    g->rng = g->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g->rng >> 33) % n;
}

static void gen_put(gen *g, const char *s, size_t n)
{
    if (g->len + n > g->cap) n = g->cap - g->len;
    memcpy(g->buf + g->len, s, n);
    g->len += n;
}

static void gen_str(gen *g, const char *s) { gen_put(g, s, strlen(s)); }

static const char *const words[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "model", "reasoning",
    "step", "answer", "entropy", "router", "thinking", "problem", "however", "therefore",
    "Let's", "consider", "carefully", "wouldn't", "integer", "probability", "distribution",
};

static void gen_english(gen *g)
{
    int n_words = 8 + (int)gen_rand(g, 14);
    for (int i = 0; i < n_words; i++) {
        const char *w = words[gen_rand(g, sizeof words / sizeof words[0])];
        if (i == 0) {
            char first[32];
            snprintf(first, sizeof first, "%s", w);
            if (first[0] >= 'a' && first[0] <= 'z') first[0] = (char)(first[0] - 32);
            gen_str(g, first);
        } else {
            gen_str(g, " ");
            gen_str(g, w);
        }
        if (i + 1 < n_words && gen_rand(g, 10) == 0) gen_str(g, ",");
    }
    gen_str(g, gen_rand(g, 6) ? ". " : "?\n\n");
}

static void gen_code(gen *g)
{
    static const char *const names[] = {"count", "buf", "len", "i", "tok", "ids", "scores", "n_vocab"};
    char line[160];
    const char *a = names[gen_rand(g, 8)], *b = names[gen_rand(g, 8)];
    switch (gen_rand(g, 4)) {
    case 0: snprintf(line, sizeof line, "    for (int %s = 0; %s < %u; %s++) {\n", a, a, gen_rand(g, 4096), a); break;
    case 1: snprintf(line, sizeof line, "        %s[%s] += %s * 0x%x;\n", a, b, b, gen_rand(g, 65536)); break;
    case 2: snprintf(line, sizeof line, "    if (!%s) return glimp_error_set(err, GLIMP_ERR_ARG, \"%s\");\n", a, b); break;
    default: snprintf(line, sizeof line, "    }\n    // %s: %s\n", a, b); break;
    }
    gen_str(g, line);
}

static void gen_cjk(gen *g)
{
    int n = 6 + (int)gen_rand(g, 20);
    for (int i = 0; i < n; i++) {
        uint32_t cp = 0x4E00 + gen_rand(g, 0x1400); /* common CJK ideographs */
        char u[3] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)), (char)(0x80 | (cp & 0x3F))};
        gen_put(g, u, 3);
    }
    gen_str(g, gen_rand(g, 3) ? "\xE3\x80\x82" : "\xEF\xBC\x8C"); /* 。 or ， */
}

static void gen_digits(gen *g)
{
    char s[64];
    switch (gen_rand(g, 3)) {
    case 0: snprintf(s, sizeof s, "%u ", gen_rand(g, 100000000)); break;
    case 1: snprintf(s, sizeof s, "%u.%03u ", gen_rand(g, 1000), gen_rand(g, 1000)); break;
    default: snprintf(s, sizeof s, "20%02u-%02u-%02u ", gen_rand(g, 30), 1 + gen_rand(g, 12), 1 + gen_rand(g, 28)); break;
    }
    gen_str(g, s);
}

/* n bytes of mixed text; pieces by share: English 50%, code 25%, CJK 15%,
 * digits 10% (in draws, not bytes). Cut at a character boundary. */
static char *make_text(size_t n, size_t *len)
{
    gen g = {malloc(n), 0, n, 42};
    if (!g.buf) return NULL;
    while (g.len < n) {
        uint32_t r = gen_rand(&g, 100);
        if (r < 50) gen_english(&g);
        else if (r < 75) gen_code(&g);
        else if (r < 90) gen_cjk(&g);
        else gen_digits(&g);
    }
    while (g.len && ((unsigned char)g.buf[g.len - 1] & 0xC0) == 0x80) g.len--;
    if (g.len && ((unsigned char)g.buf[g.len - 1] & 0xC0) == 0xC0) g.len--;
    *len = g.len;
    return g.buf;
}

/* ---- the benchmark ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glimp bench --tokenizer FILE.gguf [--mb N] [--runs N]\n"
            "         tokenizer speed on N MB (default 1) of mixed text, one core\n"
            "       glimp bench -m MODEL.gguf ...   model prefill/decode speed\n");
}

static int bench_tokenizer(int argc, char **argv)
{
    const char *path = NULL;
    double mb = 1.0;
    int runs = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        bool known = !strcmp(a, "--tokenizer") || !strcmp(a, "--mb") || !strcmp(a, "--runs");
        if (!known) return cli_usage_error("glimp bench", "unknown option '%s'", a);
        if (!v) return cli_usage_error("glimp bench", "option '%s' needs a value", a);
        i++;
        if (!strcmp(a, "--tokenizer")) {
            path = v;
        } else if (!strcmp(a, "--mb")) {
            mb = strtod(v, &end);
            if (end == v || *end || !(mb > 0 && mb <= 1024))
                return cli_bad_value("glimp bench", a, v, "a size in MB in (0, 1024]");
        } else {
            long r = strtol(v, &end, 10);
            if (end == v || *end || r < 1 || r > 1000)
                return cli_bad_value("glimp bench", a, v, "an integer in [1, 1000]");
            runs = (int)r;
        }
    }
    glimp_error err = {0};
    double t0 = now_s();
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    double t_load = now_s() - t0;
    if (!tok) {
        fprintf(stderr, "glimp bench: %s\n", err.msg);
        return 1;
    }
    size_t len;
    char *text = make_text((size_t)(mb * 1024 * 1024), &len);
    int32_t *ids = NULL;
    int n_ids = 0;
    double best_enc = 1e30, best_dec = 1e30;
    for (int r = 0; r < runs && text; r++) {
        free(ids);
        t0 = now_s();
        ids = glimp_tokenize_alloc(tok, text, len, false, false, &n_ids, &err);
        double t = now_s() - t0;
        if (!ids) break;
        if (t < best_enc) best_enc = t;
        t0 = now_s();
        char *back = glimp_detokenize(tok, ids, (size_t)n_ids, false, NULL, &err);
        t = now_s() - t0;
        if (!back) break;
        free(back);
        if (t < best_dec) best_dec = t;
    }
    int status = 0;
    if (!text || !ids) {
        fprintf(stderr, "glimp bench: %s\n", text ? err.msg : "out of memory");
        status = 1;
    } else {
        double mbytes = (double)len / (1024.0 * 1024.0);
        printf("tokenizer  %s (%s/%s, %d tokens)\n", path, glimp_tokenizer_model(tok),
               glimp_tokenizer_pre(tok)[0] ? glimp_tokenizer_pre(tok) : "-",
               (int)glimp_tokenizer_n_vocab(tok));
        printf("load       %.1f ms\n", t_load * 1e3);
        printf("text       %zu bytes: English, C code, CJK, digits (seed 42)\n", len);
        printf("encode     %.1f MB/s  (%d tokens, %.2f bytes/token, best of %d)\n",
               mbytes / best_enc, n_ids, (double)len / n_ids, runs);
        printf("decode     %.1f MB/s\n", mbytes / best_dec);
    }
    free(ids);
    free(text);
    glimp_tokenizer_free(tok);
    return status;
}

int cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--tokenizer")) return bench_tokenizer(argc, argv);
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    return cli_bench_model(argc, argv);
}
