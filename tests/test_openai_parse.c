/* test_openai_parse.c - the openai backend's parsers on real-shaped server
 * answers (tests/fixtures): both logprob shapes give the same tokens, the
 * same sorted top-K lists and the same top-K entropy (the two fixtures hold
 * the same distributions), K+1 lists are cut to K; the SSE parser yields the
 * same events whatever the chunking and line endings, and rejects garbage.
 */
/* test-links: backend */
#include "backend/backend_impl.h"
#include "backend/openai_logprobs.h"
#include "backend/sse.h"
#include "test_util.h"

#include <cjson/cJSON.h>

static char *read_fixture(const char *name, size_t *len)
{
    const char *src = getenv("GLIMP_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", src ? src : "..", name);
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    REQUIRE(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "read %s", path);
    buf[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return buf;
}

static const cJSON *choice_logprobs(const cJSON *j)
{
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0), "logprobs");
}

/* Entropy of the renormalised top entries, computed here independently. */
static double entropy_ref(const double *lp, int n)
{
    double z = 0.0, h = 0.0;
    for (int i = 0; i < n; i++) z += exp(lp[i]);
    for (int i = 0; i < n; i++) {
        double q = exp(lp[i]) / z;
        h -= q * log(q);
    }
    return h;
}

static void check_shape(const char *file, oai_logprob_shape want, bool has_ids, double h[3])
{
    char *text = read_fixture(file, NULL);
    cJSON *j = cJSON_Parse(text);
    REQUIRE(j, "%s parses", file);
    const cJSON *lp = choice_logprobs(j);
    oai_logprob_shape shape;
    int n = 0;
    glimp_error err = {0};
    REQUIRE(oai_logprobs_shape(lp, &shape, &n, &err) == GLIMP_OK, "%s", err.msg);
    CHECK(shape == want, "%s: shape %d", file, (int)shape);
    CHECK(n == 3, "%s: %d tokens", file, n);
    const char *texts[3] = {" Paris", ",", " the"};
    const double lps[3] = {-0.0121, -1.3902, -0.8817};
    for (int i = 0; i < n; i++) {
        oai_token t;
        REQUIRE(oai_logprobs_token(lp, shape, i, 3, &t, &err) == GLIMP_OK, "%s", err.msg);
        CHECK(!strcmp(t.text, texts[i]), "%s token %d '%s'", file, i, t.text);
        CHECK(fabs(t.logprob - lps[i]) < 1e-9, "%s logprob %d", file, i);
        CHECK(t.dist.n_top == 3, "%s: token %d has %d top entries (cut to K=3)", file, i,
              t.dist.n_top);
        for (int k = 1; k < t.dist.n_top; k++)
            CHECK(t.dist.top_logprob[k - 1] >= t.dist.top_logprob[k], "%s: sorted", file);
        CHECK(isnan(t.dist.entropy_exact), "exact entropy is unknown remotely");
        double top[3];
        for (int k = 0; k < 3; k++) top[k] = t.dist.top_logprob[k];
        CHECK(fabs(t.dist.entropy_topk - entropy_ref(top, 3)) < 1e-6, "%s: entropy %d", file, i);
        h[i] = t.dist.entropy_topk;
        CHECK(has_ids ? t.id > 0 : t.id == -1, "%s: id %d", file, (int)t.id);
        if (i == 1) CHECK(!strcmp(t.dist.top_text[0], "."), "%s: '.' leads position 1", file);
        if (want == OAI_LOGPROBS_LEGACY)
            CHECK(t.text_offset == (i == 0 ? 31 : i == 1 ? 37 : 38), "text_offset");
    }
    /* K = 1 keeps only the best entry; its entropy is 0 */
    oai_token t;
    REQUIRE(oai_logprobs_token(lp, shape, 2, 1, &t, &err) == GLIMP_OK, "%s", err.msg);
    CHECK(t.dist.n_top == 1 && !strcmp(t.dist.top_text[0], " the") && t.dist.entropy_topk == 0.0,
          "%s: top-1", file);
    cJSON_Delete(j);
    free(text);
}

static void test_bad_logprobs(void)
{
    const char *bad[] = {
        "{\"logprobs\": 3}",
        "{\"logprobs\": {\"content\": 5}}",
        "{\"logprobs\": {\"tokens\": [\"a\"], \"token_logprobs\": []}}",
        "{\"logprobs\": {\"something\": []}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *j = cJSON_Parse(bad[i]);
        oai_logprob_shape shape;
        int n;
        glimp_error err = {0};
        CHECK(oai_logprobs_shape(cJSON_GetObjectItemCaseSensitive(j, "logprobs"), &shape, &n,
                                 &err) == GLIMP_ERR_JSON, "rejects %s", bad[i]);
        cJSON_Delete(j);
    }
    const char *bad_tok[] = {
        "{\"logprobs\": {\"content\": [{\"token\": 1, \"logprob\": -1}]}}",
        "{\"logprobs\": {\"content\": [{\"token\": \"a\", \"logprob\": -1, \"top_logprobs\": "
        "[{\"token\": \"a\"}]}]}}",
        "{\"logprobs\": {\"tokens\": [\"a\"], \"token_logprobs\": [\"x\"]}}",
        "{\"logprobs\": {\"tokens\": [\"a\"], \"token_logprobs\": [-1], \"top_logprobs\": "
        "[{\"a\": \"high\"}]}}",
    };
    for (size_t i = 0; i < sizeof bad_tok / sizeof *bad_tok; i++) {
        cJSON *j = cJSON_Parse(bad_tok[i]);
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(j, "logprobs");
        oai_logprob_shape shape;
        int n;
        oai_token t;
        glimp_error err = {0};
        REQUIRE(oai_logprobs_shape(lp, &shape, &n, &err) == GLIMP_OK && n == 1, "shape");
        CHECK(oai_logprobs_token(lp, shape, 0, 5, &t, &err) == GLIMP_ERR_JSON, "rejects %s",
              bad_tok[i]);
        cJSON_Delete(j);
    }
    oai_logprob_shape shape;
    int n = 7;
    CHECK(oai_logprobs_shape(NULL, &shape, &n, NULL) == GLIMP_OK && shape == OAI_LOGPROBS_NONE &&
          n == 0, "absent logprobs");
}

/* ---- SSE ------------------------------------------------------------------ */

typedef struct events {
    char buf[16384];
    size_t len;
    int n;
} events;

static bool collect_event(void *user, const char *data, size_t len)
{
    events *e = user;
    CHECK(strlen(data) == len, "NUL-terminated");
    if (e->len + len + 2 < sizeof e->buf) {
        memcpy(e->buf + e->len, data, len);
        e->len += len;
        e->buf[e->len++] = '|';
        e->buf[e->len] = '\0';
    }
    e->n++;
    return true;
}

static void sse_in_chunks(const char *text, size_t len, size_t chunk, events *e)
{
    sse_parser p;
    memset(e, 0, sizeof *e);
    sse_init(&p, 1 << 16, collect_event, e);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        REQUIRE(sse_feed(&p, text + off, n, NULL) == GLIMP_OK, "feed");
    }
    REQUIRE(sse_finish(&p, NULL) == GLIMP_OK, "finish");
    sse_free(&p);
}

static void test_sse(void)
{
    size_t len;
    char *text = read_fixture("vllm_completion_stream.sse", &len);
    events whole, part;
    sse_in_chunks(text, len, len, &whole);
    CHECK(whole.n == 7, "7 events (6 chunks + [DONE]), got %d", whole.n);
    CHECK(strstr(whole.buf, "|[DONE]|") != NULL, "[DONE] is an event");
    for (size_t c = 1; c <= 7; c++) {
        sse_in_chunks(text, len, c, &part);
        CHECK(part.n == whole.n && !strcmp(part.buf, whole.buf), "chunks of %zu bytes", c);
    }
    /* the same stream with CRLF line ends, fed one byte at a time */
    char *crlf = malloc(2 * len + 1);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') crlf[m++] = '\r';
        crlf[m++] = text[i];
    }
    sse_in_chunks(crlf, m, 1, &part);
    CHECK(part.n == whole.n && !strcmp(part.buf, whole.buf), "CRLF stream");
    free(crlf);
    free(text);

    const char *misc = ": keep-alive comment\nevent: message\ndata: a\ndata:b\nid: 7\n\n"
                       "data: last-without-blank-line";
    sse_in_chunks(misc, strlen(misc), 3, &part);
    CHECK(part.n == 2 && !strcmp(part.buf, "a\nb|last-without-blank-line|"), "fields: '%s'",
          part.buf);

    /* garbage without newlines hits the line limit */
    sse_parser p;
    events e = {0};
    sse_init(&p, 64, collect_event, &e);
    char junk[100];
    memset(junk, 'x', sizeof junk);
    glimp_error err = {0};
    CHECK(sse_feed(&p, junk, sizeof junk, &err) == GLIMP_ERR_FORMAT, "line limit");
    sse_free(&p);
}

int main(void)
{
    double h_legacy[3], h_content[3];
    check_shape("vllm_completion.json", OAI_LOGPROBS_LEGACY, false, h_legacy);
    check_shape("llamacpp_completion.json", OAI_LOGPROBS_CONTENT, true, h_content);
    for (int i = 0; i < 3; i++)
        CHECK(fabs(h_legacy[i] - h_content[i]) < 1e-6, "same distribution, same H (%d)", i);
    test_bad_logprobs();
    test_sse();
    return test_finish();
}
