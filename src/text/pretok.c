/* pretok.c - the pre-tokenizer regex cascades and the PCRE2 matching loop.
 *
 * The patterns restate llama.cpp's pre-tokenizers (llama-vocab.cpp) in PCRE2
 * syntax. Whitespace is spelled out as the Unicode White_Space set (what
 * llama.cpp's \s matches, U+0085 included) instead of relying on PCRE2's \s;
 * "\s+$" becomes "\s+\z" because PCRE2's $ also matches before a final
 * newline. Fails with GLIMP_ERR_FORMAT on a pattern PCRE2 rejects (a bug
 * here, reported rather than hidden) and GLIMP_ERR_RANGE when a match
 * exhausts the JIT stack.
 */
#include "text/pretok.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

#define WS "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
#define P_GPT2                                                                                 \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+|[" WS "]+(?![^" WS \
    "])|[" WS "]+"

/* Llama 3 / Qwen2 family; DIGITS is \p{N} (Qwen2) or \p{N}{1,3} (Llama 3). */
#define P_LLAMA3(DIGITS)                                                                 \
    "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" \
    DIGITS "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS       \
    "])|[" WS "]+"

/* CJK ideographs, U+0800..U+4E00 and Hangul, as the DeepSeek tokenizers list them. */
#define P_DEEPSEEK_CJK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"

/* The cased letters (Lu, Ll, Lt) DeepSeek LLM's tokenizer lists explicitly. */
#define P_DEEPSEEK_LETTERS                                                                     \
    "\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"       \
    "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"     \
    "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}"              \
    "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"  \
    "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"             \
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"             \
    "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}"    \
    "\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}"     \
    "\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}"             \
    "\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"              \
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}"               \
    "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}"    \
    "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}"     \
    "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"              \
    "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"             \
    "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"           \
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"     \
    "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}"

#define MAX_PATTERNS 6

struct pretok_def {
    const char *names; /* space-separated tokenizer.ggml.pre values */
    bool ignore_merges;
    bool add_bos;
    const char *patterns[MAX_PATTERNS]; /* NULL-terminated */
};

static const pretok_def defs[] = {
    {"qwen2 deepseek-r1-qwen", false, false, {P_LLAMA3("\\p{N}")}},
    {"llama-bpe llama3 llama-v3", true, true, {P_LLAMA3("\\p{N}{1,3}")}},
    {"gpt-2 mpt", false, false, {P_GPT2}},
    {"starcoder refact", false, false, {"\\p{N}", P_GPT2}},
    {"falcon", false, false, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", P_GPT2, "[0-9][0-9][0-9]"}},
    {"deepseek-llm", false, false,
     {"[\\r\\n]", "[" WS "]?[" P_DEEPSEEK_LETTERS "]+",
      "[" WS "]?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}"
      "\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
      "[" WS "]+\\z", P_DEEPSEEK_CJK, "\\p{N}+"}},
    {"deepseek-coder", false, false,
     {"[\\r\\n]", "[" WS "]?\\p{L}+", "[" WS "]?\\p{P}+", P_DEEPSEEK_CJK, "\\p{N}"}},
    {"default", false, false,
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", P_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
};

struct pretok {
    const pretok_def *def;
    int n;
    pcre2_code *code[MAX_PATTERNS];
    bool jit[MAX_PATTERNS];
};

static bool name_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && !memcmp(p, name, n)) return true;
        p += w + (p[w] == ' ');
    }
    return false;
}

const pretok_def *pretok_find(const char *name)
{
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if (name_in_list(defs[i].names, name)) return &defs[i];
    return NULL;
}

const char *pretok_known_names(void)
{
    return "qwen2, deepseek-r1-qwen, llama-bpe, llama3, llama-v3, gpt-2, mpt, starcoder, "
           "refact, falcon, deepseek-llm, deepseek-coder, default";
}

bool pretok_def_ignore_merges(const pretok_def *d) { return d->ignore_merges; }
bool pretok_def_add_bos(const pretok_def *d) { return d->add_bos; }

pretok *pretok_create(const pretok_def *def, glimp_error *err)
{
    pretok *p = calloc(1, sizeof *p);
    if (!p) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "pre-tokenizer: out of memory");
        return NULL;
    }
    p->def = def;
    for (; p->n < MAX_PATTERNS && def->patterns[p->n]; p->n++) {
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)def->patterns[p->n], PCRE2_ZERO_TERMINATED,
                                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
        if (!c) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            glimp_error_set(err, GLIMP_ERR_FORMAT, "pre-tokenizer pattern %d: %s at offset %zu",
                            p->n, (const char *)msg, (size_t)eo);
            pretok_free(p);
            return NULL;
        }
        p->code[p->n] = c;
        p->jit[p->n] = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;
    }
    return p;
}

void pretok_free(pretok *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) pcre2_code_free(p->code[i]);
    free(p);
}

void pretok_scratch_free(pretok_scratch *s)
{
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mc);
    pcre2_jit_stack_free(s->stack);
    text_spans_free(&s->a);
    text_spans_free(&s->b);
    memset(s, 0, sizeof *s);
}

/* One match of pattern i in subj[0..n) at or after start; 1 found, 0 none. */
static int match_one(const pretok *p, int i, const char *subj, size_t n, size_t start,
                     pretok_scratch *s, size_t *ms, size_t *me, glimp_error *err)
{
    for (;;) {
        int rc = p->jit[i] ? pcre2_jit_match(p->code[i], (PCRE2_SPTR)subj, n, start, PCRE2_NOTEMPTY,
                                             s->md, s->mc)
                           : pcre2_match(p->code[i], (PCRE2_SPTR)subj, n, start, PCRE2_NOTEMPTY,
                                         s->md, s->mc);
        if (rc > 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
            *ms = ov[0];
            *me = ov[1];
            return 1;
        }
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !s->stack) {
            s->stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, NULL);
            if (!s->stack) return glimp_error_set(err, GLIMP_ERR_NOMEM, "pre-tokenizer: out of memory");
            pcre2_jit_stack_assign(s->mc, NULL, s->stack);
            continue;
        }
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return glimp_error_set(err, rc == PCRE2_ERROR_JIT_STACKLIMIT ? GLIMP_ERR_RANGE : GLIMP_ERR_FORMAT,
                               "pre-tokenizer match failed: %s", (const char *)msg);
    }
}

/* Cuts the piece text[off..off+len) by pattern i, appending to dst. */
static glimp_status cut_piece(const pretok *p, int i, const char *text, size_t off, size_t len,
                              pretok_scratch *s, text_spans *dst, glimp_error *err)
{
    const char *subj = text + off;
    size_t pos = 0, ms, me;
    for (;;) {
        int found = match_one(p, i, subj, len, pos, s, &ms, &me, err);
        if (found < 0) return (glimp_status)found;
        if (!found) break;
        if (ms > pos && !text_spans_push(dst, off + pos, ms - pos, -1)) goto oom;
        if (!text_spans_push(dst, off + ms, me - ms, -1)) goto oom;
        pos = me;
    }
    if (pos < len && !text_spans_push(dst, off + pos, len - pos, -1)) goto oom;
    return GLIMP_OK;
oom:
    return glimp_error_set(err, GLIMP_ERR_NOMEM, "pre-tokenizer: out of memory");
}

glimp_status pretok_split(const pretok *p, const char *text, size_t n, pretok_scratch *s,
                          text_spans *out, glimp_error *err)
{
    if (!n) return GLIMP_OK;
    if (!s->md) {
        s->md = pcre2_match_data_create(1, NULL);
        s->mc = pcre2_match_context_create(NULL);
        if (!s->md || !s->mc) return glimp_error_set(err, GLIMP_ERR_NOMEM, "pre-tokenizer: out of memory");
    }
    s->a.len = 0;
    if (!text_spans_push(&s->a, 0, n, -1))
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "pre-tokenizer: out of memory");
    text_spans *cur = &s->a, *next = &s->b;
    for (int i = 0; i < p->n; i++) {
        text_spans *dst = i == p->n - 1 ? out : next;
        if (dst != out) dst->len = 0;
        for (size_t k = 0; k < cur->len; k++) {
            glimp_status st = cut_piece(p, i, text, cur->data[k].off, cur->data[k].len, s, dst, err);
            if (st) return st;
        }
        text_spans *t = cur;
        cur = next;
        next = t;
    }
    return GLIMP_OK;
}
