/* test_text_vectors.c - tokenizers against llama.cpp's own expectations:
 * every vocabulary in ../shared/tokenizer with its .inp/.out test vectors
 * (add_special = false, parse_special = false; format in that folder's
 * README.md), the stories260K prompt ids (with BOS) and the reference-model
 * prompts of ../shared/ref/README.md (stories260K vocab with BOS, Qwen2
 * vocab without), and stories260K's generated ids detokenizing to llama.cpp's
 * text. Skips (77) when ../shared is absent. Prints the load time
 * of each vocabulary (never asserted). */
#include "glimp.h"
#include "test_util.h"

#include <time.h>

static const char *const vocabs[] = {
    "llama-spm", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon",
    "starcoder", "refact", "mpt", "qwen2", "deepseek-r1-qwen", "qwen3",
};

#define MAX_IDS 4096
#define SEPARATOR "\n__ggml_vocab_test__\n"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len) *len = (size_t)n;
    }
    return buf;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Parses space-separated ids; returns the count (at most max). */
static int parse_ids(const char *s, const char *end, int32_t *ids, int max)
{
    int n = 0;
    while (s < end && n < max) {
        char *e;
        long v = strtol(s, &e, 10);
        if (e == s || e > end) break;
        ids[n++] = (int32_t)v;
        s = e;
    }
    return n;
}

static void check_ids(const char *what, const int32_t *got, int n_got, const int32_t *want,
                      int n_want)
{
    int diff = -1;
    for (int i = 0; diff < 0 && i < (n_got < n_want ? n_got : n_want); i++)
        if (got[i] != want[i]) diff = i;
    if (diff < 0 && n_got != n_want) diff = n_got < n_want ? n_got : n_want;
    CHECK(diff < 0, "%s: got %d ids, want %d, first difference at index %d (got %d, want %d)",
          what, n_got, n_want, diff, diff >= 0 && diff < n_got ? got[diff] : -1,
          diff >= 0 && diff < n_want ? want[diff] : -1);
}

static void run_vocab(const char *name)
{
    char path[4096], what[256];
    snprintf(path, sizeof path, "%s", test_shared_path("tokenizer/ggml-vocab-"));
    size_t base = strlen(path);
    snprintf(path + base, sizeof path - base, "%s.gguf", name);

    glimp_error err = {0};
    double t0 = now_ms();
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    double t1 = now_ms();
    CHECK(tok != NULL, "load %s: %s", name, err.msg);
    if (!tok) return;
    printf("%-18s n_vocab %6d  load %7.1f ms\n", name, (int)glimp_tokenizer_n_vocab(tok), t1 - t0);

    size_t n_inp, n_out;
    snprintf(path + base, sizeof path - base, "%s.gguf.inp", name);
    char *inp = read_file(path, &n_inp);
    snprintf(path + base, sizeof path - base, "%s.gguf.out", name);
    char *out = read_file(path, &n_out);
    CHECK(inp && out, "%s: cannot read test vectors", name);

    static int32_t got[MAX_IDS], want[MAX_IDS];
    const char *ip = inp, *op = out;
    int cases = 0;
    while (inp && out) {
        const char *sep = strstr(ip, SEPARATOR);
        if (!sep) break;
        const char *eol = strchr(op, '\n');
        CHECK(eol != NULL, "%s: fewer .out lines than inputs", name);
        if (!eol) break;
        int n_want = parse_ids(op, eol, want, MAX_IDS);
        int n_got = glimp_tokenize(tok, ip, (size_t)(sep - ip), false, false, got, MAX_IDS, &err);
        snprintf(what, sizeof what, "%s case %d \"%.40s\"", name, cases, ip);
        CHECK(n_got >= 0, "%s: %s", what, err.msg);
        if (n_got >= 0) check_ids(what, got, n_got, want, n_want);
        cases++;
        ip = sep + strlen(SEPARATOR);
        op = eol + 1;
    }
    CHECK(cases == 46, "%s: %d cases, expected 46", name, cases);
    free(inp);
    free(out);
    glimp_tokenizer_free(tok);
}

static void check_prompt(const char *gguf_rel, const char *text, const char *ids_text)
{
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(test_shared_path(gguf_rel), &err);
    CHECK(tok != NULL, "load %s: %s", gguf_rel, err.msg);
    if (!tok) return;
    static int32_t got[MAX_IDS], want[MAX_IDS];
    int n_want = parse_ids(ids_text, ids_text + strlen(ids_text), want, MAX_IDS);
    int n_got = glimp_tokenize(tok, text, strlen(text), true, false, got, MAX_IDS, &err);
    char what[256];
    snprintf(what, sizeof what, "%s \"%.30s...\"", gguf_rel, text);
    check_ids(what, got, n_got, want, n_want);
    glimp_tokenizer_free(tok);
}

/* Unquotes a "..." value with C escapes (\n, \t, \", \\) into out. */
static void unquote(const char *q, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = q + 1; *p && *p != '"' && k + 1 < cap; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            out[k++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
}

/* stories260K.expected.txt: prompt -> prompt_ids (with BOS), and gen_ids
 * detokenize to gen_text (llama.cpp's detokenization). */
static void check_stories_expected(void)
{
    char *txt = read_file(test_shared_path("models/stories260K.expected.txt"), NULL);
    CHECK(txt != NULL, "cannot read stories260K.expected.txt");
    if (!txt) return;
    static char prompt[1024], ids[1024], gen_ids[2048], gen_text[2048];
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "prompt: ", 8)) unquote(line + 8, prompt, sizeof prompt);
        else if (!strncmp(line, "prompt_ids: ", 12)) snprintf(ids, sizeof ids, "%s", line + 12);
        else if (!strncmp(line, "gen_ids: ", 9)) snprintf(gen_ids, sizeof gen_ids, "%s", line + 9);
        else if (!strncmp(line, "gen_text: ", 10)) unquote(line + 10, gen_text, sizeof gen_text);
    }
    CHECK(prompt[0] && ids[0] && gen_ids[0] && gen_text[0], "stories260K.expected.txt: keys missing");
    check_prompt("models/stories260K.gguf", prompt, ids);

    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(test_shared_path("models/stories260K.gguf"), &err);
    CHECK(tok != NULL, "load stories260K: %s", err.msg);
    if (tok) {
        static int32_t g[MAX_IDS];
        int n = parse_ids(gen_ids, gen_ids + strlen(gen_ids), g, MAX_IDS);
        char *text = glimp_detokenize(tok, g, (size_t)n, false, NULL, &err);
        CHECK(text && !strcmp(text, gen_text), "gen_ids decode to gen_text: [%s]", text ? text : err.msg);
        free(text);
        glimp_tokenizer_free(tok);
    }
    free(txt);
}

static const char *const p1 = "Once upon a time, there was a little robot";
static const char *const p2 =
    "The little dog ran to the park with his friend Tom. They played with a red ball under the "
    "big tree. Then it started to rain, so they ran home fast. Mom gave them warm milk and a "
    "cookie. Tom said, \"Thank you, Mom! Can we play again tomorrow?\" Mom smiled and said yes.";

int main(void)
{
    test_shared_or_skip("tokenizer");
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) run_vocab(vocabs[i]);

    check_stories_expected();
    /* ../shared/ref/README.md "Prompts and tokens" (add_special = true) */
    check_prompt("models/stories260K.gguf", p1, "1 403 407 261 378 432 383 286 261 376 352 414 430 309");
    check_prompt("models/stories260K.gguf", p2,
                 "1 291 376 400 428 352 303 267 265 282 295 433 335 345 374 274 287 426 342 337 266 "
                 "335 261 352 266 268 388 318 264 285 265 370 259 276 411 426 291 416 312 349 295 413 "
                 "266 267 352 412 271 432 384 366 352 303 270 287 411 272 412 356 426 392 287 298 412 "
                 "360 265 423 273 420 423 284 290 433 269 261 280 347 433 417 411 426 274 287 336 432 "
                 "313 434 415 303 433 364 432 392 287 443 410 457 303 382 337 261 428 412 271 267 423 "
                 "304 420 327 450 436 392 287 262 423 290 266 269 336 348 406 426");
    check_prompt("ref/qv.gguf", p1, "12522 5193 264 882 11 1052 572 264 2632 12305");
    check_prompt("ref/qv.gguf", p2,
                 "785 2632 5562 10613 311 279 6118 448 806 4238 8364 13 2379 6342 448 264 2518 4935 "
                 "1212 279 2409 4916 13 5005 432 3855 311 11174 11 773 807 10613 2114 4937 13 22180 "
                 "6551 1105 8205 14074 323 264 12544 13 8364 1053 11 330 13060 498 11 22180 0 2980 "
                 "582 1486 1549 16577 7521 22180 30545 323 1053 9834 13");
    return test_finish();
}
