/* test_backend_local.c - the local backend against independent references.
 *
 * - generate (greedy, no stop) after "Once upon a time" reproduces
 *   llama.cpp's greedy continuation of stories260K (expected.txt gen_text);
 *   streamed pieces concatenate to the returned text;
 * - probe equals glimp_probe_summary of a fresh session's logits on the
 *   same tokens, and the first-token hook of generate sees the same
 *   distribution (and aborting there generates nothing);
 * - prefix reuse: a prompt extending the previous one prefills only the new
 *   tokens; a generate followed by a prompt holding its text prefills ~0;
 * - stop strings end the text before the stop; max_tokens; EOS (bigram
 *   model with an end-of-turn rule);
 * - score equals log-softmax sums from a fresh session (append_all);
 * - same seed, same text; with token_stats off the same text, sums left 0;
 * - two backends on one loaded model with a prefix pool: the second takes
 *   the prompt the first computed (prefills only its last token) and still
 *   writes llama.cpp's continuation; its probe after the first's text
 *   equals a fresh session's.
 */
#include "test_router_models.h"
#include "test_util.h"

#include "glimp.h"

static char *read_expected_gen_text(const char *path)
{
    FILE *f = fopen(path, "r");
    static char line[8192];
    char *out = NULL;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "gen_text: \"", 11)) continue;
        out = malloc(strlen(line));
        char *o = out;
        for (const char *p = line + 11; *p && *p != '"'; p++) {
            if (*p == '\\') {
                p++;
                *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            } else {
                *o++ = *p;
            }
        }
        *o = '\0';
    }
    if (f) fclose(f);
    return out;
}

typedef struct sink {
    char buf[4096];
    size_t len;
    int calls;
    glimp_token_dist first;
    bool abort_first;
} sink;

static bool sink_piece(void *user, const char *piece, size_t len)
{
    sink *s = user;
    if (s->len + len < sizeof s->buf) {
        memcpy(s->buf + s->len, piece, len);
        s->len += len;
        s->buf[s->len] = '\0';
    }
    s->calls++;
    return true;
}

static bool sink_first(void *user, const glimp_token_dist *d)
{
    sink *s = user;
    s->first = *d;
    return !s->abort_first;
}

/* A single-threaded session on m (the reference computations are small). */
static glimp_session *fresh_session(const glimp_model *m)
{
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.n_threads = 1;
    glimp_session *s = glimp_session_create(m, &sp, &err);
    REQUIRE(s, "session: %s", err.msg);
    return s;
}

/* A fresh model + session on tokenize(prompt): its last logits' summary. */
static void fresh_probe(const char *path, const char *prompt, int k, glimp_probe *out)
{
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(path, NULL, &err);
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    REQUIRE(m && tok, "load: %s", err.msg);
    glimp_session *s = fresh_session(m);
    int n = 0;
    int32_t *ids = glimp_tokenize_alloc(tok, prompt, strlen(prompt), true, true, &n, &err);
    REQUIRE(s && ids, "session/tokenize: %s", err.msg);
    glimp_status st = glimp_session_append(s, ids, (size_t)n, &err);
    REQUIRE(st == GLIMP_OK, "append: %s", err.msg);
    st = glimp_probe_summary(glimp_session_logits(s), glimp_model_n_vocab(m), k, out, &err);
    REQUIRE(st == GLIMP_OK, "summary");
    free(ids);
    glimp_session_free(s);
    glimp_tokenizer_free(tok);
    glimp_model_free(m);
}

/* Sum of log p of tokenize(prompt + cont)[n_prompt..] from a fresh session
 * fed one token at a time; *n_cont gets the number of tokens scored. */
static double fresh_score(const char *path, const char *prompt, const char *cont, int *n_cont)
{
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(path, NULL, &err);
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    REQUIRE(m && tok, "load: %s", err.msg);
    glimp_session *s = fresh_session(m);
    char full[512];
    snprintf(full, sizeof full, "%s%s", prompt, cont);
    int np = 0, nf = 0;
    int32_t *p = glimp_tokenize_alloc(tok, prompt, strlen(prompt), true, true, &np, &err);
    int32_t *f = glimp_tokenize_alloc(tok, full, strlen(full), true, true, &nf, &err);
    REQUIRE(p && f && nf > np, "tokenize");
    for (int i = 0; i < np; i++) REQUIRE(p[i] == f[i], "prompt tokens are a prefix");
    size_t V = glimp_model_n_vocab(m);
    double lp = 0.0;
    for (int i = 0; i < nf; i++) {
        if (i >= np) {
            const float *lg = glimp_session_logits(s);
            double mx = -INFINITY, sum = 0.0;
            for (size_t v = 0; v < V; v++) mx = lg[v] > mx ? lg[v] : mx;
            for (size_t v = 0; v < V; v++) sum += exp(lg[v] - mx);
            lp += lg[f[i]] - (mx + log(sum));
        }
        glimp_status st = glimp_session_decode(s, f[i], &err);
        REQUIRE(st == GLIMP_OK, "decode: %s", err.msg);
    }
    *n_cont = nf - np;
    free(p);
    free(f);
    glimp_session_free(s);
    glimp_tokenizer_free(tok);
    glimp_model_free(m);
    return lp;
}

static glimp_backend *open_local(const char *path, const char *tmpl)
{
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.template_name = tmpl;
    lp.n_threads = 1;
    glimp_backend *b = glimp_backend_local_create(&lp, &err);
    REQUIRE(b, "open %s: %s", path, err.msg);
    return b;
}

static void test_stories(const char *path, const char *expected)
{
    glimp_error err = {0};
    glimp_backend *b = open_local(path, "raw");
    const char *prompt = "Once upon a time";

    /* greedy continuation == llama.cpp's */
    sink s = {0};
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = 64;
    gp.temperature = 0.0f;
    gp.on_piece = sink_piece;
    gp.on_first = sink_first;
    gp.user = &s;
    glimp_gen_result r;
    glimp_status st = glimp_backend_generate(b, prompt, &gp, &r, &err);
    REQUIRE(st == GLIMP_OK, "generate: %s", err.msg);
    CHECK(!strcmp(r.text, expected), "greedy text\n got: '%s'\nwant: '%s'", r.text, expected);
    CHECK(!strcmp(s.buf, r.text), "streamed pieces == text (%d pieces)", s.calls);
    CHECK(r.n_tokens == 64 && r.stop == GLIMP_STOP_MAX_TOKENS, "64 tokens, max_tokens stop");
    CHECK(r.prefill_tokens == 5, "prompt prefill 5 tokens (BOS + 4), got %d", r.prefill_tokens);
    CHECK(!strcmp(r.first_text, ","), "first token ',' got '%s'", r.first_text);

    /* the hook's distribution == a fresh session's */
    glimp_probe ref;
    fresh_probe(path, prompt, 20, &ref);
    CHECK(fabs(s.first.entropy_exact - ref.entropy_full) < 1e-6, "hook exact H %g vs %g",
          s.first.entropy_exact, ref.entropy_full);
    CHECK(fabs(s.first.entropy_topk - ref.entropy_topk) < 1e-6, "hook top-K H");
    CHECK(s.first.n_top == 20 && s.first.top_id[0] == ref.ids[0], "hook top ids");

    /* probe after the generation: prompt + text is in the cache already */
    char *cont = malloc(strlen(prompt) + strlen(r.text) + 1);
    sprintf(cont, "%s%s", prompt, r.text);
    glimp_token_dist d;
    int prefill = -1;
    st = glimp_backend_probe(b, cont, 20, &d, &prefill, &err);
    CHECK(st == GLIMP_OK, "probe: %s", err.msg);
    CHECK(prefill <= 1, "prefix reuse after generate: prefill %d", prefill);
    glimp_probe ref2;
    fresh_probe(path, cont, 20, &ref2);
    CHECK(fabs(d.entropy_exact - ref2.entropy_full) < 1e-6, "probe exact H %.9f vs fresh %.9f",
          d.entropy_exact, ref2.entropy_full);
    CHECK(fabs(d.entropy_topk - ref2.entropy_topk) < 1e-6, "probe top-K H");
    for (int i = 0; i < 20; i++)
        CHECK(d.top_id[i] == ref2.ids[i] && fabsf(d.top_logprob[i] - ref2.logprobs[i]) < 1e-4f,
              "probe top %d", i);
    free(cont);

    /* back to the short prompt: only the last token is re-run */
    st = glimp_backend_probe(b, prompt, 20, &d, &prefill, &err);
    CHECK(st == GLIMP_OK && prefill == 1, "shorter prompt re-runs 1 token, got %d", prefill);
    st = glimp_backend_probe(b, prompt, 20, &d, &prefill, &err);
    CHECK(st == GLIMP_OK && prefill == 0, "same prompt again: prefill 0, got %d", prefill);
    CHECK(fabs(d.entropy_exact - ref.entropy_full) < 1e-6, "same distribution after rollback");
    glimp_gen_result_clear(&r);

    /* abort at the first token: nothing generated */
    sink a = {.abort_first = true};
    gp.user = &a;
    st = glimp_backend_generate(b, prompt, &gp, &r, &err);
    CHECK(st == GLIMP_OK && r.stop == GLIMP_STOP_ABORTED && r.n_tokens == 0 && !r.text[0] &&
              a.calls == 0, "aborted generate writes nothing");
    CHECK(r.prefill_tokens == 0 && fabs(r.first.entropy_exact - ref.entropy_full) < 1e-6,
          "aborted generate still reports the distribution");
    glimp_gen_result_clear(&r);

    /* stop string: the text ends before the first "." of the reference */
    const char *stops[] = {"."};
    sink s2 = {0};
    gp.user = &s2;
    gp.stop = stops;
    gp.n_stop = 1;
    st = glimp_backend_generate(b, prompt, &gp, &r, &err);
    const char *dot = strchr(expected, '.');
    CHECK(st == GLIMP_OK && r.stop == GLIMP_STOP_STRING && r.stop_index == 0, "stopped at '.'");
    CHECK(r.len == (size_t)(dot - expected) && !strncmp(r.text, expected, r.len),
          "text before the stop: '%s'", r.text);
    CHECK(!strcmp(s2.buf, r.text), "streamed text has no stop string");
    glimp_gen_result_clear(&r);

    /* same seed, same sampled text; the sampler's seed is the call's */
    char first[4096];
    gp = glimp_gen_default_params();
    gp.max_tokens = 24;
    gp.seed = 7;
    gp.temperature = 1.0f;
    st = glimp_backend_generate(b, prompt, &gp, &r, &err);
    REQUIRE(st == GLIMP_OK, "generate");
    snprintf(first, sizeof first, "%s", r.text);
    glimp_gen_result_clear(&r);
    st = glimp_backend_generate(b, prompt, &gp, &r, &err);
    CHECK(st == GLIMP_OK && !strcmp(first, r.text), "same seed, same text");
    CHECK(r.sum_logprob < 0 && r.sum_entropy > 0, "token statistics %g %g", r.sum_logprob,
          r.sum_entropy);
    glimp_gen_result_clear(&r);
    /* without the token statistics: the same text, the sums left 0 */
    gp.token_stats = false;
    st = glimp_backend_generate(b, prompt, &gp, &r, &err);
    CHECK(st == GLIMP_OK && !strcmp(first, r.text) && r.sum_logprob == 0 && r.sum_entropy == 0,
          "token_stats off: %g %g", r.sum_logprob, r.sum_entropy);
    glimp_gen_result_clear(&r);

    /* score == a fresh session's log-softmax sum */
    glimp_score_result sc;
    st = glimp_backend_score(b, prompt, ", there was a little girl", &sc, &err);
    int want_n = 0;
    double want = fresh_score(path, prompt, ", there was a little girl", &want_n);
    CHECK(st == GLIMP_OK && fabs(sc.logprob - want) < 1e-3, "score %.6f vs %.6f", sc.logprob,
          want);
    CHECK(sc.n_tokens == want_n, "scored %d tokens, want %d", sc.n_tokens, want_n);
    glimp_backend_free(b);
}

static void test_shared_prefixes(const char *path, const char *expected)
{
    glimp_error err = {0};
    glimp_model *m = glimp_model_load(path, NULL, &err);
    glimp_tokenizer *tok = m ? glimp_tokenizer_load(path, &err) : NULL;
    glimp_prefix_pool *pool = tok ? glimp_prefix_pool_create(&err) : NULL;
    REQUIRE(pool, "model, tokenizer, pool: %s", err.msg);
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.template_name = "raw";
    lp.n_threads = 1;
    lp.model = m;
    lp.tokenizer = tok;
    lp.prefixes = pool;
    glimp_backend *a = glimp_backend_local_create(&lp, &err);
    glimp_backend *b = a ? glimp_backend_local_create(&lp, &err) : NULL;
    REQUIRE(b, "backends: %s", err.msg);
    const char *prompt = "Once upon a time";
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = 64;
    gp.temperature = 0.0f;
    glimp_gen_result r;
    REQUIRE(glimp_backend_generate(a, prompt, &gp, &r, &err) == GLIMP_OK, "a: %s", err.msg);
    CHECK(r.prefill_tokens == 5 && !strcmp(r.text, expected), "a computes its prompt (%d)",
          r.prefill_tokens);
    glimp_gen_result_clear(&r);
    REQUIRE(glimp_backend_generate(b, prompt, &gp, &r, &err) == GLIMP_OK, "b: %s", err.msg);
    CHECK(r.prefill_tokens == 1, "b takes a's prompt, runs its last token only (ran %d)",
          r.prefill_tokens);
    CHECK(!strcmp(r.text, expected), "b's greedy text\n got: '%s'\nwant: '%s'", r.text,
          expected);
    CHECK(glimp_prefix_pool_copied(pool) == 5, "copied %llu", glimp_prefix_pool_copied(pool));
    char *cont = malloc(strlen(prompt) + strlen(r.text) + 1);
    REQUIRE(cont, "oom");
    sprintf(cont, "%s%s", prompt, r.text);
    glimp_gen_result_clear(&r);
    glimp_token_dist d;
    int prefill = -1;
    glimp_backend_free(b); /* a's session lends alone now */
    b = glimp_backend_local_create(&lp, &err);
    REQUIRE(b, "backend: %s", err.msg);
    CHECK(glimp_backend_probe(b, cont, 20, &d, &prefill, &err) == GLIMP_OK, "probe: %s",
          err.msg);
    glimp_probe ref;
    fresh_probe(path, cont, 20, &ref);
    CHECK(prefill <= 1, "a fresh backend takes a's history (ran %d)", prefill);
    CHECK(fabs(d.entropy_exact - ref.entropy_full) < 1e-6 && d.top_id[0] == ref.ids[0],
          "probe on a borrowed history = fresh session (H %.9f vs %.9f)", d.entropy_exact,
          ref.entropy_full);
    free(cont);
    glimp_backend_free(a);
    glimp_backend_free(b);
    glimp_prefix_pool_free(pool);
    glimp_tokenizer_free(tok);
    glimp_model_free(m);
}

/* Bigram model with the qwen3 vocabulary: "\n" -> " Hello" -> " world" ->
 * <|im_end|>: EOS stops generation and is not in the text. */
static void test_eos(const char *vocab, const char *dir)
{
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(vocab, &err);
    REQUIRE(tok, "vocab: %s", err.msg);
    int32_t nl = 198, hello = -1, world = -1, n;
    int32_t ids[4];
    n = glimp_tokenize(tok, " Hello", 6, false, false, ids, 4, &err);
    REQUIRE(n == 1, "' Hello' is one token");
    hello = ids[0];
    n = glimp_tokenize(tok, " world", 6, false, false, ids, 4, &err);
    REQUIRE(n == 1, "' world' is one token");
    world = ids[0];
    int32_t im_end = glimp_token_eot(tok);
    REQUIRE(im_end >= 0 && glimp_token_is_eog(tok, im_end), "end of turn token");
    bigram_rule rules[] = {
        {nl, 1, {hello}, {20.0f}},
        {hello, 1, {world}, {20.0f}},
        {world, 1, {im_end}, {20.0f}},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/test_backend_eos.gguf", dir);
    glimp_status st = bigram_model_write(path, vocab, rules, 3, &err);
    REQUIRE(st == GLIMP_OK, "write model: %s", err.msg);
    glimp_backend *b = open_local(path, "qwen3");
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = 10;
    glimp_gen_result r;
    st = glimp_backend_generate(b, "Say hi\n", &gp, &r, &err);
    CHECK(st == GLIMP_OK && r.stop == GLIMP_STOP_EOS, "EOS stop (%d)", (int)r.stop);
    CHECK(!strcmp(r.text, " Hello world") && r.n_tokens == 3, "text '%s', %d tokens", r.text,
          r.n_tokens);
    CHECK(fabs(r.first.entropy_exact) < 1e-6, "a 20-logit lead gives H ~ 0: %g",
          r.first.entropy_exact);
    glimp_gen_result_clear(&r);
    gp.max_tokens = 2;
    st = glimp_backend_generate(b, "Say hi\n", &gp, &r, &err);
    CHECK(st == GLIMP_OK && r.stop == GLIMP_STOP_MAX_TOKENS && r.n_tokens == 2, "max tokens");
    CHECK(r.prefill_tokens <= 1, "same prompt again re-uses the cache: prefill %d",
          r.prefill_tokens);
    glimp_gen_result_clear(&r);
    glimp_backend_free(b);
    glimp_tokenizer_free(tok);
    remove(path);
}

int main(void)
{
    const char *stories = test_shared_or_skip("models/stories260K.gguf");
    char spath[4096], vpath[4096], epath[4096];
    snprintf(spath, sizeof spath, "%s", stories);
    snprintf(vpath, sizeof vpath, "%s", test_shared_path("tokenizer/ggml-vocab-qwen3.gguf"));
    snprintf(epath, sizeof epath, "%s", test_shared_path("models/stories260K.expected.txt"));
    char *expected = read_expected_gen_text(epath);
    REQUIRE(expected, "gen_text in %s", epath);
    test_stories(spath, expected);
    test_shared_prefixes(spath, expected);
    const char *dir = getenv("GLIMP_BUILD");
    test_eos(vpath, dir ? dir : ".");
    free(expected);
    return test_finish();
}
