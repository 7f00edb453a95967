/* test_router.c - the router's step loop end to end on real GGUF files run by
 * the real engine: scripted bigram models (tests/test_router_models.h) with
 * the Qwen3 and DeepSeek-R1 vocabularies, whose next token depends only on
 * the last one, so every step, H_init and stop is known in advance.
 *
 * Script S (after the prompt's final "\n"):
 *   "First" " step" "\n\n" | {"Then","Next","So"} (equal logits: H = ln 3)
 *   " more" ".\n\n" | "Done" "</think>"
 * gives steps "First step" (SLM: H~0), "Then more." (H = ln 3 >= tau 1: LLM),
 * "Done" (H~0: SLM; ends thinking at </think>).
 * Checked: dispatch by tau (0 -> all LLM, > ln|V| -> none, 1 -> as above)
 * with both estimators; H_init equals the entropy of a fresh session on the
 * same prompt; greedy `llm` thinking equals the LLM's own greedy
 * continuation; prefill per step is exactly what the backend did not write
 * itself; each stop condition (delimiter, delimiter inside a token, max step
 * tokens, </think>, repeat, budget, EOS); every policy; a mixed pair with
 * different tokenizers and templates; same seed -> same trace; the JSON.
 */
#include "test_router_models.h"
#include "test_util.h"

#include "glimp.h"

#include <cjson/cJSON.h>

static const char *build_dir, *vocab_qwen3;

typedef struct vocab_ids {
    int32_t nl, nn, dot_nn, first, step, then, next, so, more, done, think_end, hello, world,
        eot;
} vocab_ids;

static int32_t one_token(glimp_tokenizer *tok, const char *text)
{
    int32_t ids[4];
    int n = glimp_tokenize(tok, text, strlen(text), false, true, ids, 4, NULL);
    REQUIRE(n == 1, "'%s' is one token (got %d)", text, n);
    return ids[0];
}

static vocab_ids lookup_ids(const char *vocab)
{
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(vocab, &err);
    REQUIRE(tok, "vocab %s: %s", vocab, err.msg);
    vocab_ids v = {
        .nl = one_token(tok, "\n"), .nn = one_token(tok, "\n\n"),
        .dot_nn = one_token(tok, ".\n\n"), .first = one_token(tok, "First"),
        .step = one_token(tok, " step"), .then = one_token(tok, "Then"),
        .next = one_token(tok, "Next"), .so = one_token(tok, "So"),
        .more = one_token(tok, " more"), .done = one_token(tok, "Done"),
        .think_end = one_token(tok, "</think>"), .hello = one_token(tok, "Hello"),
        .world = one_token(tok, " world"), .eot = glimp_token_eot(tok),
    };
    REQUIRE(v.eot >= 0, "end-of-turn token");
    glimp_tokenizer_free(tok);
    return v;
}

/* Writes the script S model for `vocab` to build_dir/name; returns the path. */
static char *script_model(const char *vocab, const char *name)
{
    vocab_ids v = lookup_ids(vocab);
    bigram_rule r[] = {
        {v.nl, 1, {v.first}, {20}},
        {v.first, 1, {v.step}, {20}},
        {v.step, 1, {v.nn}, {20}},
        {v.nn, 3, {v.then, v.next, v.so}, {20, 20, 20}},
        {v.then, 1, {v.more}, {20}},
        {v.next, 1, {v.more}, {20}},
        {v.so, 1, {v.more}, {20}},
        {v.more, 1, {v.dot_nn}, {20}},
        {v.dot_nn, 1, {v.done}, {20}},
        {v.done, 1, {v.think_end}, {20}},
        {v.think_end, 1, {v.nn}, {20}},
    };
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/%s", build_dir, name);
    glimp_error err = {0};
    glimp_status st = bigram_model_write(path, vocab, r, (int)(sizeof r / sizeof r[0]), &err);
    REQUIRE(st == GLIMP_OK, "write %s: %s", path, err.msg);
    return path;
}

/* "\n" -> "Hello" -> " world" -> (eos ? <eot> : "\n\n") ; "\n\n" -> "Hello" */
static char *hello_model(const char *vocab, const char *name, bool eos)
{
    vocab_ids v = lookup_ids(vocab);
    bigram_rule r[] = {
        {v.nl, 1, {v.hello}, {20}},
        {v.hello, 1, {v.world}, {20}},
        {v.world, 1, {eos ? v.eot : v.nn}, {20}},
        {v.nn, 1, {v.hello}, {20}},
    };
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/%s", build_dir, name);
    glimp_error err = {0};
    glimp_status st = bigram_model_write(path, vocab, r, 4, &err);
    REQUIRE(st == GLIMP_OK, "write %s: %s", path, err.msg);
    return path;
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

/* What the streaming callbacks saw. */
typedef struct seen {
    char text[16][256];
    glimp_role begin_model[16];
    int n_begin, n_end, answer_begins;
    char answer[1024];
} seen;

static bool cb_begin(void *u, int index, glimp_role model, double h)
{
    seen *s = u;
    (void)h;
    if (index >= 0 && index < 16) s->begin_model[index] = model;
    s->n_begin++;
    return true;
}

static bool cb_piece(void *u, int index, glimp_role model, const char *piece, size_t len)
{
    seen *s = u;
    (void)model;
    char *dst = index < 0 ? s->answer : index < 16 ? s->text[index] : NULL;
    size_t cap = index < 0 ? sizeof s->answer : sizeof s->text[0];
    if (dst && strlen(dst) + len < cap) strncat(dst, piece, len);
    return true;
}

static bool cb_end(void *u, const glimp_step *step)
{
    (void)step;
    ((seen *)u)->n_end++;
    return true;
}

static bool cb_answer(void *u, glimp_role model)
{
    (void)model;
    ((seen *)u)->answer_begins++;
    return true;
}

static glimp_router_params greedy_params(void)
{
    glimp_router_params p = glimp_router_default_params();
    p.temperature = 0.0f;
    p.final_max_tokens = 4;
    p.think_budget = 64;
    return p;
}

static glimp_router_result *run(glimp_backend *slm, glimp_backend *llm,
                                const glimp_router_params *p, seen *s)
{
    glimp_error err = {0};
    glimp_router *r = glimp_router_create(slm, llm, p, &err);
    REQUIRE(r, "router: %s", err.msg);
    glimp_router_callbacks cb = {.user = s, .on_step_begin = cb_begin, .on_piece = cb_piece,
                                 .on_step_end = cb_end, .on_answer_begin = cb_answer};
    glimp_router_result *res = NULL;
    glimp_status st = glimp_router_run(r, "What is next?", s ? &cb : NULL, &res, &err);
    REQUIRE(st == GLIMP_OK, "run: %s", err.msg);
    glimp_router_free(r);
    return res;
}

static void check_script_steps(const glimp_router_result *res, const char *what)
{
    REQUIRE(res->n_steps == 3, "%s: 3 steps, got %d", what, res->n_steps);
    CHECK(!strcmp(res->steps[0].text, "First step"), "%s: step 0 '%s'", what,
          res->steps[0].text);
    CHECK(!strcmp(res->steps[1].text + strlen(res->steps[1].text) - 6, " more."),
          "%s: step 1 '%s'", what, res->steps[1].text);
    CHECK(!strcmp(res->steps[2].text, "Done"), "%s: step 2 '%s'", what, res->steps[2].text);
    CHECK(res->steps[0].end == GLIMP_STEP_DELIMITER && res->steps[1].end == GLIMP_STEP_DELIMITER &&
              res->steps[2].end == GLIMP_STEP_THINK_END,
          "%s: step ends", what);
    CHECK(res->think_end == GLIMP_THINK_CLOSED, "%s: thinking closed by </think>", what);
    CHECK(res->steps[0].n_tokens == 3 && res->steps[1].n_tokens == 3 && res->steps[2].n_tokens == 2,
          "%s: step tokens include the one completing the stop", what);
}

/* Entropy of the next token after tokenize(render(question, steps[0..k))),
 * from a fresh single-threaded session: the independent H_init. */
static void fresh_h(const char *path, glimp_backend *b, const glimp_router_result *res, int k,
                    double *h_exact, double *h_topk)
{
    glimp_error err = {0};
    const char *steps[16];
    for (int i = 0; i < k; i++) steps[i] = res->steps[i].text;
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(b, res->question, steps, k, GLIMP_TEMPLATE_PHASE_THINK,
                                           &prompt, &err);
    REQUIRE(st == GLIMP_OK, "render");
    glimp_model *m = glimp_model_load(path, NULL, &err);
    glimp_tokenizer *tok = glimp_tokenizer_load(path, &err);
    glimp_session_params sp = glimp_session_default_params();
    sp.n_threads = 1;
    glimp_session *s = glimp_session_create(m, &sp, &err);
    int n = 0;
    int32_t *ids = glimp_tokenize_alloc(tok, prompt, strlen(prompt), true, true, &n, &err);
    REQUIRE(s && ids, "fresh session");
    st = glimp_session_append(s, ids, (size_t)n, &err);
    REQUIRE(st == GLIMP_OK, "append");
    *h_exact = glimp_entropy_full(glimp_session_logits(s), glimp_model_n_vocab(m));
    *h_topk = glimp_entropy_topk(glimp_session_logits(s), glimp_model_n_vocab(m), 20);
    free(ids);
    free(prompt);
    glimp_session_free(s);
    glimp_tokenizer_free(tok);
    glimp_model_free(m);
}

static void test_dispatch(const char *path)
{
    glimp_backend *slm = open_local(path, "qwen3"), *llm = open_local(path, "qwen3");
    glimp_router_params p = greedy_params();

    /* tau 1: H = ln 3 only before step 1 */
    seen s = {0};
    glimp_router_result *res = run(slm, llm, &p, &s);
    check_script_steps(res, "tau 1");
    CHECK(res->steps[0].model == GLIMP_ROLE_SLM && res->steps[1].model == GLIMP_ROLE_LLM &&
              res->steps[2].model == GLIMP_ROLE_SLM,
          "routing slm, llm, slm");
    CHECK(fabs(res->steps[1].h_init_topk - log(3.0)) < 1e-4 && res->steps[0].h_init_topk < 1e-4,
          "H_init top-K: %g %g", res->steps[0].h_init_topk, res->steps[1].h_init_topk);
    vocab_ids v = lookup_ids(vocab_qwen3);
    int32_t low = v.then < v.next ? v.then : v.next;
    low = v.so < low ? v.so : low;
    const char *want = low == v.then ? "Then more." : low == v.next ? "Next more." : "So more.";
    CHECK(!strcmp(res->steps[1].text, want), "greedy LLM picks the lowest id: '%s' want '%s'",
          res->steps[1].text, want);
    for (int k = 0; k < 3; k++) {
        double he, ht;
        fresh_h(path, slm, res, k, &he, &ht);
        CHECK(fabs(res->steps[k].h_init_exact - he) < 1e-6 && fabs(res->steps[k].h_init_topk - ht) < 1e-6,
              "step %d: H_init %.9f/%.9f vs fresh session %.9f/%.9f", k, res->steps[k].h_init_exact,
              res->steps[k].h_init_topk, he, ht);
        CHECK(s.begin_model[k] == res->steps[k].model, "on_step_begin model, step %d", k);
        CHECK(!strcmp(s.text[k], res->steps[k].text), "streamed step %d '%s'", k, s.text[k]);
    }
    CHECK(s.n_begin == 3 && s.n_end == 3 && s.answer_begins == 1, "callback counts");
    CHECK(!strcmp(s.answer, res->answer), "streamed answer '%s' vs '%s'", s.answer, res->answer);
    CHECK(res->steps_by[0] == 2 && res->steps_by[1] == 1 && fabs(res->llm_step_share - 1.0 / 3) < 1e-9,
          "totals by model");
    CHECK(res->tokens_by[0] == 5 && res->tokens_by[1] == 3 + res->answer_tokens, "tokens by model");
    /* prefill: what the backend did not write itself */
    CHECK(res->steps[1].prefill_slm == 0 && res->steps[2].prefill_slm == 3,
          "SLM prefill after its own step (all in its cache) and after the LLM's: %d %d",
          res->steps[1].prefill_slm, res->steps[2].prefill_slm);
    CHECK(res->steps[1].prefill_llm > 3 && res->steps[2].prefill_llm == 0,
          "LLM: first call prefills the prompt, none later: %d %d", res->steps[1].prefill_llm,
          res->steps[2].prefill_llm);
    glimp_router_result_free(res);

    /* exact estimator, same routing (H_exact ~ ln 3 too) */
    glimp_error err = {0};
    REQUIRE(glimp_router_parse_entropy("exact", &p, &err) == GLIMP_OK, "exact");
    res = run(slm, llm, &p, NULL);
    check_script_steps(res, "exact");
    CHECK(res->steps[1].model == GLIMP_ROLE_LLM && res->steps_by[1] == 1, "exact: step 1 by LLM");

    /* tau above ln|V|: no step to the LLM */
    p.tau = log(151936.0) + 1.0;
    glimp_router_result_free(res);
    res = run(slm, llm, &p, NULL);
    check_script_steps(res, "tau > ln V");
    CHECK(res->steps_by[GLIMP_ROLE_LLM] == 0, "tau > ln|V|: no LLM step");
    CHECK(res->steps[1].prefill_slm == 0 && res->steps[2].prefill_slm == 0,
          "SLM writing every step prefills nothing: %d %d", res->steps[1].prefill_slm,
          res->steps[2].prefill_slm);
    glimp_router_result_free(res);

    /* tau 0: every step to the LLM; the SLM prefills the LLM's tokens */
    p.tau = 0.0;
    res = run(slm, llm, &p, NULL);
    check_script_steps(res, "tau 0");
    CHECK(res->steps_by[GLIMP_ROLE_SLM] == 0, "tau 0: every step by the LLM");
    for (int k = 1; k < res->n_steps; k++)
        CHECK(res->steps[k].prefill_slm == res->steps[k - 1].n_tokens && res->steps[k].prefill_llm == 0,
              "step %d prefill slm %d (want %d) llm %d", k, res->steps[k].prefill_slm,
              res->steps[k - 1].n_tokens, res->steps[k].prefill_llm);
    CHECK(res->steps[0].probe_ms >= 0.0 && res->steps[0].first_token[0], "probe time, first token");
    glimp_router_result_free(res);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
}

/* llm policy, greedy: thinking == the LLM's own greedy continuation. */
static void test_llm_equals_continuation(const char *path)
{
    glimp_error err = {0};
    glimp_backend *slm = open_local(path, "qwen3"), *llm = open_local(path, "qwen3");
    glimp_router_params p = greedy_params();
    REQUIRE(glimp_router_parse_policy("llm", &p, &err) == GLIMP_OK, "llm");
    glimp_router_result *res = run(slm, llm, &p, NULL);
    check_script_steps(res, "llm policy");
    CHECK(res->steps_by[GLIMP_ROLE_LLM] == 3 && isnan(res->steps[0].h_init_topk),
          "all by the LLM, no probe");
    char joined[1024] = "";
    for (int k = 0; k < res->n_steps; k++) {
        if (k) strcat(joined, p.delimiter);
        strcat(joined, res->steps[k].text);
    }
    glimp_backend *ref = open_local(path, "qwen3");
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(ref, res->question, NULL, 0,
                                           GLIMP_TEMPLATE_PHASE_THINK, &prompt, &err);
    REQUIRE(st == GLIMP_OK, "render");
    glimp_gen_params gp = glimp_gen_default_params();
    gp.temperature = 0.0f;
    gp.max_tokens = 8;
    glimp_gen_result g;
    st = glimp_backend_generate(ref, prompt, &gp, &g, &err);
    REQUIRE(st == GLIMP_OK, "generate");
    /* the script merges "." and "\n\n" into one token across a step
     * boundary; retokenizing the joined text gives the same token, so the
     * whole thinking matches, followed by </think> */
    CHECK(!strncmp(g.text, joined, strlen(joined)) && !strcmp(g.text + strlen(joined), "</think>"),
          "thinking '%s' vs continuation '%s'", joined, g.text);
    glimp_gen_result_clear(&g);
    free(prompt);
    glimp_backend_free(ref);
    glimp_router_result_free(res);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
}

static void test_stops(const char *vocab)
{
    char *rep = hello_model(vocab, "test_router_hello.gguf", false);
    char *eos = hello_model(vocab, "test_router_hello_eos.gguf", true);
    glimp_backend *b = open_local(rep, "qwen3"), *e = open_local(eos, "qwen3");
    glimp_router_params p = greedy_params();
    p.tau = 100.0;

    glimp_router_result *res = run(b, b, &p, NULL);
    CHECK(res->n_steps == 2 && res->think_end == GLIMP_THINK_REPEAT &&
              !strcmp(res->steps[1].text, "Hello world"),
          "repeated step ends thinking (%d steps, %s)", res->n_steps,
          glimp_think_end_name(res->think_end));
    glimp_router_result_free(res);

    p.max_step_tokens = 2;
    p.think_budget = 3;
    res = run(b, b, &p, NULL);
    CHECK(res->n_steps == 2 && res->steps[0].end == GLIMP_STEP_MAX_TOKENS &&
              res->steps[0].n_tokens == 2 && !strcmp(res->steps[0].text, "Hello world"),
          "max step tokens");
    CHECK(res->steps[1].n_tokens == 1 && res->think_end == GLIMP_THINK_BUDGET,
          "last step cut to the budget left (%d tokens), thinking ends by budget (%s)",
          res->steps[1].n_tokens, glimp_think_end_name(res->think_end));
    glimp_router_result_free(res);

    p = greedy_params();
    res = run(e, e, &p, NULL);
    CHECK(res->n_steps == 1 && res->steps[0].end == GLIMP_STEP_EOS &&
              res->think_end == GLIMP_THINK_EOS && !strcmp(res->steps[0].text, "Hello world"),
          "end of turn inside the thinking ends it");
    glimp_router_result_free(res);
    glimp_backend_free(b);
    glimp_backend_free(e);
    remove(rep);
    remove(eos);
    free(rep);
    free(eos);
}

static void test_policies(const char *path)
{
    glimp_error err = {0};
    glimp_backend *slm = open_local(path, "qwen3"), *llm = open_local(path, "qwen3");
    struct {
        const char *policy;
        double tau;
        int llm_steps;  /* expected, -1: any */
        int drafts;     /* steps with a discarded draft */
    } cases[] = {
        {"glimp", 1.0, 1, 0},       {"llm", 1.0, 3, 0},        {"slm", 1.0, 0, 0},
        {"random:0", 1.0, 0, 0},    {"random:1", 1.0, 3, 0},   {"random:0.5", 1.0, -1, 0},
        {"hstep", 1.0, 0, 0},       {"hstep", 0.3, 1, 1},      {"pplstep", 2.0, 0, 0},
        {"pplstep", 1.2, 1, 1},     {"specreason", 0.0, 0, 0}, {"specreason", 5.0, 3, 3},
        {"rsd", 0.5, 0, 0},         {"rsd", 0.6, 3, 3},        {"speccot:1", 0.5, 0, 0},
        {"speccot:1", 0.8, 1, 1},   {"speccot:3", 0.5, 0, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        glimp_router_params p = greedy_params();
        REQUIRE(glimp_router_parse_policy(cases[i].policy, &p, &err) == GLIMP_OK, "%s",
                cases[i].policy);
        p.tau = cases[i].tau;
        seen s = {0};
        glimp_router_result *res = run(slm, llm, &p, &s);
        check_script_steps(res, cases[i].policy);
        int drafts = 0;
        for (int k = 0; k < res->n_steps; k++) {
            drafts += res->steps[k].draft_tokens > 0;
            CHECK(!strcmp(s.text[k], res->steps[k].text), "%s: streamed step %d", cases[i].policy, k);
        }
        CHECK(cases[i].llm_steps < 0 || res->steps_by[GLIMP_ROLE_LLM] == cases[i].llm_steps,
              "%s tau %g: %d LLM steps, want %d", cases[i].policy, cases[i].tau,
              res->steps_by[GLIMP_ROLE_LLM], cases[i].llm_steps);
        CHECK(drafts == cases[i].drafts, "%s tau %g: %d discarded drafts, want %d",
              cases[i].policy, cases[i].tau, drafts, cases[i].drafts);
        CHECK(res->answer && res->answer_model == GLIMP_ROLE_LLM && res->answer_tokens == 4,
              "%s: answer by the LLM", cases[i].policy);
        if (!strcmp(cases[i].policy, "hstep"))
            CHECK(fabs(res->steps[1].draft_score - log(3.0) / 3) < 1e-4,
                  "hstep score = mean entropy %g", res->steps[1].draft_score);
        if (!strcmp(cases[i].policy, "rsd")) /* the judge sees equal logits for Yes and No */
            for (int k = 0; k < res->n_steps; k++)
                CHECK(fabs(res->steps[k].draft_score - 0.5) < 1e-6, "rsd score %g",
                      res->steps[k].draft_score);
        if (!strncmp(cases[i].policy, "speccot", 7)) {
            CHECK(fabs(res->steps[1].draft_score - pow(3.0, -1.0 / 3)) < 1e-3,
                  "speccot score = geometric-mean probability %g", res->steps[1].draft_score);
            if (!strcmp(cases[i].policy, "speccot:3")) /* greedy: three equal drafts, one kept */
                for (int k = 0; k < res->n_steps; k++)
                    CHECK(res->steps[k].draft_tokens == 2 * res->steps[k].n_tokens,
                          "speccot:3 step %d: %d discarded draft tokens", k,
                          res->steps[k].draft_tokens);
        }
        if (!strcmp(cases[i].policy, "pplstep"))
            CHECK(fabs(res->steps[1].draft_score - cbrt(3.0)) < 1e-3,
                  "pplstep score = perplexity %g", res->steps[1].draft_score);
        glimp_router_result_free(res);
    }
    glimp_router_params p = greedy_params();
    REQUIRE(glimp_router_parse_policy("slm", &p, &err) == GLIMP_OK, "slm");
    p.final_by_slm = true;
    glimp_router_result *res = run(slm, llm, &p, NULL);
    CHECK(res->answer_model == GLIMP_ROLE_SLM && res->steps_by[GLIMP_ROLE_LLM] == 0 &&
              res->tokens_by[GLIMP_ROLE_LLM] == 0 && res->ms_by[GLIMP_ROLE_LLM] == 0.0,
          "--final slm: the LLM is never called");
    glimp_router_result_free(res);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
}

/* SLM with Qwen3's vocabulary and template, LLM with DeepSeek-R1's. */
static void test_mixed_pair(const char *slm_path, const char *llm_path)
{
    glimp_backend *slm = open_local(slm_path, NULL), *llm = open_local(llm_path, NULL);
    glimp_router_params p = greedy_params();
    glimp_router_result *res = run(slm, llm, &p, NULL);
    check_script_steps(res, "mixed pair");
    CHECK(res->steps[1].model == GLIMP_ROLE_LLM, "mixed: step 1 by the LLM");
    CHECK(res->steps[2].prefill_slm == 3, "mixed: the SLM prefills the LLM's step as its own "
          "tokens: %d", res->steps[2].prefill_slm);
    CHECK(strstr(res->llm_name, "r1") != NULL, "LLM name %s", res->llm_name);
    glimp_router_result_free(res);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
}

/* Deletes every key ending in "_ms" (times differ between runs). */
static void strip_times(cJSON *o)
{
    cJSON *c = o ? o->child : NULL;
    while (c) {
        cJSON *next = c->next;
        size_t n = c->string ? strlen(c->string) : 0;
        if (n > 3 && !strcmp(c->string + n - 3, "_ms")) cJSON_DetachItemViaPointer(o, c), cJSON_Delete(c);
        else strip_times(c);
        c = next;
    }
}

static char *json_without_times(const glimp_router_result *res)
{
    char *js = glimp_router_result_json(res);
    cJSON *o = cJSON_Parse(js);
    REQUIRE(o, "result JSON parses");
    strip_times(o);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(js);
    return out;
}

/* A run from freshly opened backends (prefill counts depend on the cache). */
static glimp_router_result *fresh_run(const char *path, const glimp_router_params *p)
{
    glimp_backend *slm = open_local(path, "qwen3"), *llm = open_local(path, "qwen3");
    glimp_router_result *res = run(slm, llm, p, NULL);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
    return res;
}

static void test_reproducible_and_json(const char *path)
{
    glimp_router_params p = glimp_router_default_params(); /* sampled, temperature 0.6 */
    p.seed = 42;
    p.final_max_tokens = 6;
    glimp_router_result *a = fresh_run(path, &p), *b = fresh_run(path, &p);
    char *ja = json_without_times(a), *jb = json_without_times(b);
    CHECK(!strcmp(ja, jb), "same seed, same trace\n%s\n%s", ja, jb);

    cJSON *o = cJSON_Parse(ja);
    cJSON *steps = cJSON_GetObjectItem(o, "steps");
    cJSON *s1 = cJSON_GetArrayItem(steps, 1);
    CHECK(cJSON_GetArraySize(steps) == a->n_steps, "steps array");
    CHECK(cJSON_IsString(cJSON_GetObjectItem(s1, "model")) &&
              cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(s1, "h_init"), "topk")) &&
              cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(s1, "prefill_tokens"), "slm")) &&
              cJSON_IsString(cJSON_GetObjectItem(s1, "first_token")) &&
              cJSON_IsString(cJSON_GetObjectItem(s1, "end")),
          "step fields");
    cJSON *tot = cJSON_GetObjectItem(o, "totals");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(tot, "steps"), "llm")->valuedouble == a->steps_by[1],
          "totals.steps.llm");
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "params"), "entropy")->valuestring,
                  "topk:20"),
          "params.entropy");
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "answer"), "text")->valuestring,
                  a->answer),
          "answer text");
    cJSON_Delete(o);

    char *lines = glimp_router_result_jsonl(a);
    int n_lines = 0;
    for (char *l = lines, *e; (e = strchr(l, '\n')); l = e + 1, n_lines++) {
        *e = '\0';
        cJSON *x = cJSON_Parse(l);
        CHECK(x != NULL, "trace line %d parses", n_lines);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(x, "type"));
        CHECK(type && !strcmp(type, n_lines < a->n_steps ? "step" : "summary"), "line type");
        cJSON_Delete(x);
    }
    CHECK(n_lines == a->n_steps + 1, "one trace line per step + summary: %d", n_lines);
    free(lines);
    free(ja);
    free(jb);
    glimp_router_result_free(a);
    glimp_router_result_free(b);
}

static void test_params(void)
{
    glimp_error err = {0};
    glimp_router_params p = glimp_router_default_params();
    CHECK(p.policy == GLIMP_POLICY_GLIMP && p.tau == 1.0 && p.entropy == GLIMP_ENTROPY_TOPK &&
              p.entropy_top_k == 20 && !strcmp(p.delimiter, "\n\n") && p.max_step_tokens == 512 &&
              p.think_budget == 8192 && p.final_max_tokens == 2048 && p.temperature == 0.6f &&
              p.top_p == 0.95f,
          "published defaults");
    CHECK(glimp_router_parse_policy("random:0.25", &p, &err) == GLIMP_OK &&
              p.policy == GLIMP_POLICY_RANDOM && p.random_p == 0.25,
          "random:P");
    CHECK(glimp_router_parse_policy("random:1.5", &p, &err) == GLIMP_ERR_ARG, "P > 1");
    CHECK(glimp_router_parse_policy("random", &p, &err) == GLIMP_ERR_ARG, "random needs P");
    CHECK(glimp_router_parse_policy("fast", &p, &err) == GLIMP_ERR_ARG, "unknown policy");
    CHECK(glimp_router_parse_policy("specreason", &p, &err) == GLIMP_OK &&
              p.policy == GLIMP_POLICY_SPECREASON,
          "specreason");
    CHECK(glimp_router_parse_policy("rsd", &p, &err) == GLIMP_OK && p.policy == GLIMP_POLICY_RSD,
          "rsd");
    CHECK(glimp_router_parse_policy("speccot", &p, &err) == GLIMP_OK &&
              p.policy == GLIMP_POLICY_SPECCOT && p.candidates == 3,
          "speccot: 3 drafts by default");
    CHECK(glimp_router_parse_policy("speccot:5", &p, &err) == GLIMP_OK && p.candidates == 5,
          "speccot:5");
    CHECK(glimp_router_parse_policy("speccot:0", &p, &err) == GLIMP_ERR_ARG &&
              glimp_router_parse_policy("speccot:17", &p, &err) == GLIMP_ERR_ARG &&
              glimp_router_parse_policy("speccot:2x", &p, &err) == GLIMP_ERR_ARG,
          "speccot:N needs 1 <= N <= 16");
    CHECK(glimp_router_parse_entropy("topk:5", &p, &err) == GLIMP_OK && p.entropy_top_k == 5,
          "topk:5");
    CHECK(glimp_router_parse_entropy("topk:0", &p, &err) == GLIMP_ERR_ARG &&
              glimp_router_parse_entropy("topk:65", &p, &err) == GLIMP_ERR_ARG &&
              glimp_router_parse_entropy("top", &p, &err) == GLIMP_ERR_ARG,
          "bad estimators");
}

int main(void)
{
    const char *v = test_shared_or_skip("tokenizer/ggml-vocab-qwen3.gguf");
    char qwen3[4096], r1[4096];
    snprintf(qwen3, sizeof qwen3, "%s", v);
    snprintf(r1, sizeof r1, "%s", test_shared_path("tokenizer/ggml-vocab-deepseek-r1-qwen.gguf"));
    build_dir = getenv("GLIMP_BUILD") ? getenv("GLIMP_BUILD") : ".";
    vocab_qwen3 = qwen3;
    test_params();
    char *s_qwen = script_model(qwen3, "test_router_script_qwen3.gguf");
    char *s_r1 = script_model(r1, "test_router_script_r1.gguf");
    test_dispatch(s_qwen);
    test_llm_equals_continuation(s_qwen);
    test_stops(qwen3);
    test_policies(s_qwen);
    test_mixed_pair(s_qwen, s_r1);
    test_reproducible_and_json(s_qwen);
    remove(s_qwen);
    remove(s_r1);
    free(s_qwen);
    free(s_r1);
    return test_finish();
}
