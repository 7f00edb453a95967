/* test_text_roundtrip.c - decode(encode(s)) == s on seeded random text for
 * every vocabulary in ../shared/tokenizer, random bytes (no crash for any
 * bytes; exact round trip for invalid UTF-8 made of the bytes that have a
 * token of their own - all 256 in most vocabularies; a few byte-level BPE
 * vocabularies lack tokens for bytes that never occur in UTF-8, or made some
 * byte tokens user-defined), and the streaming detokenizer (ids fed one at a time give the same
 * bytes as one decode, in chunks that never end inside a UTF-8 character).
 * Skips (77) when ../shared is absent. */
#include "glimp.h"
#include "test_util.h"

#include <stdint.h>

static const char *const vocabs[] = {
    "llama-spm", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon",
    "starcoder", "refact", "mpt", "qwen2", "deepseek-r1-qwen", "qwen3",
};

#define N_STRINGS 150
#define MAX_CP 48

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A random code point from a mix of scripts; never '<' (so no control
 * token text is spelled out) and never U+2581 (SentencePiece's space). */
static uint32_t random_cp(void)
{
    static const char ascii[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "  \n\t.,;:!?'\"()[]{}-+=*/\\_#$%&@^~`|>";
    switch (rng_next() % 8) {
    case 0: case 1: case 2: case 3: return (uint8_t)ascii[rng_next() % (sizeof ascii - 1)];
    case 4: return 0xA0 + rng_next() % 0x1E0;    /* Latin-1, Latin Extended */
    case 5: return 0x400 + rng_next() % 0x100;   /* Cyrillic */
    case 6: return 0x4E00 + rng_next() % 0x5000; /* CJK */
    default: return 0x1F300 + rng_next() % 0x300; /* emoji */
    }
}

static size_t random_text(char *buf)
{
    size_t n = 0, n_cp = rng_next() % MAX_CP;
    for (size_t i = 0; i < n_cp; i++) n += put_utf8(random_cp(), buf + n);
    return n;
}

/* Random bytes drawn from allowed[] (n_allowed values). */
static size_t random_bytes(char *buf, const unsigned char *allowed, int n_allowed)
{
    size_t n = rng_next() % (MAX_CP * 2);
    for (size_t i = 0; i < n; i++) buf[i] = (char)allowed[rng_next() % (uint32_t)n_allowed];
    return n;
}

/* Independent UTF-8 validity check (shortest forms, no surrogates). */
static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = u[i] < 0x80 ? 1 : (u[i] & 0xE0) == 0xC0 ? 2 : (u[i] & 0xF0) == 0xE0 ? 3
                   : (u[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if ((u[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

/* The bytes that round-trip on their own: tokenized alone, they decode to
 * themselves. Returns how many were written to own[]. */
static int own_bytes(const glimp_tokenizer *tok, unsigned char *own)
{
    int n = 0;
    for (unsigned b = 0; b < 256; b++) {
        char c = (char)b;
        int32_t ids[8];
        int k = glimp_tokenize(tok, &c, 1, false, false, ids, 8, NULL);
        if (k <= 0 || k > 8) continue;
        size_t len;
        char *d = glimp_detokenize(tok, ids, (size_t)k, false, &len, NULL);
        if (d && len == 1 && d[0] == c) own[n++] = (unsigned char)b;
        free(d);
    }
    return n;
}

/* Feeds ids one by one; checks the chunks against the one-shot decode. */
static void check_stream(const glimp_tokenizer *tok, const int32_t *ids, int n, const char *whole,
                         size_t whole_len, bool input_valid, const char *what)
{
    glimp_error err = {0};
    glimp_detok *d = glimp_detok_create(tok, false, false, &err);
    REQUIRE(d != NULL, "detok_create: %s", err.msg);
    char *acc = malloc(whole_len + 1);
    size_t got = 0;
    bool chunks_ok = true, fits = true;
    for (int i = 0; i <= n; i++) {
        const char *out;
        int k = i < n ? glimp_detok_push(d, ids[i], &out, &err) : glimp_detok_flush(d, &out);
        CHECK(k >= 0, "%s: push: %s", what, err.msg);
        if (k <= 0) continue;
        if (input_valid && !valid_utf8(out, (size_t)k)) chunks_ok = false;
        if (got + (size_t)k > whole_len) fits = false;
        else memcpy(acc + got, out, (size_t)k);
        got += (size_t)k;
    }
    CHECK(fits && got == whole_len && !memcmp(acc, whole, whole_len),
          "%s: streamed %zu bytes, one-shot decode %zu", what, got, whole_len);
    CHECK(chunks_ok, "%s: a streamed chunk ended inside a UTF-8 character", what);
    free(acc);
    glimp_detok_free(d);
}

static void run_vocab(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tokenizer/ggml-vocab-%s.gguf", name);
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(test_shared_path(rel), &err);
    CHECK(tok != NULL, "load %s: %s", name, err.msg);
    if (!tok) return;
    unsigned char own[256], all[256];
    int n_own = own_bytes(tok, own);
    for (int b = 0; b < 256; b++) all[b] = (unsigned char)b;
    char text[MAX_CP * 4 + 8], what[128];
    int32_t ids[MAX_CP * 8 + 8];
    int fails = 0;
    for (int i = 0; i < 3 * N_STRINGS; i++) {
        int kind = i / N_STRINGS; /* 0 text, 1 bytes with own tokens, 2 any bytes */
        size_t n = kind == 0 ? random_text(text) : random_bytes(text, kind == 1 ? own : all, kind == 1 ? n_own : 256);
        snprintf(what, sizeof what, "%s %s string %d", name, kind == 0 ? "text" : "byte", i);
        int n_ids = glimp_tokenize(tok, text, n, false, false, ids, (int)(sizeof ids / sizeof ids[0]), &err);
        CHECK(n_ids >= 0 && n_ids <= (int)(sizeof ids / sizeof ids[0]), "%s: tokenize: %s", what, err.msg);
        if (n_ids < 0 || n_ids > (int)(sizeof ids / sizeof ids[0])) continue;
        size_t len;
        char *back = glimp_detokenize(tok, ids, (size_t)n_ids, false, &len, &err);
        CHECK(back != NULL, "%s: detokenize: %s", what, err.msg);
        if (!back) continue;
        if (kind < 2) {
            bool same = len == n && !memcmp(back, text, n);
            if (!same && fails++ < 3) CHECK(same, "%s: round trip differs (%zu -> %zu bytes)", what, n, len);
        }
        check_stream(tok, ids, n_ids, back, len, kind == 0, what);
        free(back);
    }
    CHECK(fails == 0, "%s: %d round trips differ", name, fails);
    printf("%-18s %d of 256 bytes have a token of their own\n", name, n_own);
    glimp_tokenizer_free(tok);
}

int main(void)
{
    test_shared_or_skip("tokenizer");
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) run_vocab(vocabs[i]);
    return test_finish();
}
