/* test_text_demo.c - the demo pair's tokenizer (models/demo/slm.gguf: byte-level
 * BPE with the qwen2 pre-tokenizer and control tokens) gives exactly the ids
 * that the demo trainer's own Python BPE gave for the texts in
 * models/demo/tokenizer_cases.jsonl (an independent implementation), with
 * special tokens parsed; decoding them gives the text back. */
/* test-links: text backend gguf base */
#include "glimp.h"
#include "test_util.h"

#include <cjson/cJSON.h>

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static void check_case(const glimp_tokenizer *tok, const cJSON *c, int line)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c, "ids");
    REQUIRE(cJSON_IsString(text) && cJSON_IsArray(ids), "line %d: text and ids", line);
    glimp_error err = {0};
    int n = 0;
    const char *t = text->valuestring;
    int32_t *got = glimp_tokenize_alloc(tok, t, strlen(t), false, true, &n, &err);
    REQUIRE(got, "line %d: tokenize: %s", line, err.msg);
    int want_n = cJSON_GetArraySize(ids), first_diff = -1;
    for (int i = 0; i < want_n && i < n && first_diff < 0; i++)
        if (got[i] != (int32_t)cJSON_GetArrayItem(ids, i)->valuedouble) first_diff = i;
    CHECK(n == want_n && first_diff < 0, "line %d: %d ids, want %d; first difference at %d", line,
          n, want_n, first_diff);
    char *back = glimp_detokenize(tok, got, (size_t)n, true, NULL, &err);
    CHECK(back && !strcmp(back, t), "line %d: decode gives the text back", line);
    free(back);
    free(got);
}

int main(void)
{
    const char *src = getenv("GLIMP_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/models/demo/tokenizer_cases.jsonl", src ? src : "..");
    char *cases = read_all(path);
    REQUIRE(cases, "read %s", path);
    snprintf(path, sizeof path, "%s/models/demo/slm.gguf", src ? src : "..");
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    REQUIRE(tok, "load %s: %s", path, err.msg);
    int line = 0;
    for (char *p = cases; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        line++;
        cJSON *c = cJSON_Parse(p);
        REQUIRE(c, "line %d: JSON", line);
        check_case(tok, c, line);
        cJSON_Delete(c);
        p = nl ? nl + 1 : NULL;
    }
    CHECK(line == 20, "20 cases, got %d", line);
    glimp_tokenizer_free(tok);
    free(cases);
    return test_finish();
}
