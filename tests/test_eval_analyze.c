/* test_eval_analyze.c - the signal analysis: AUROC (ties, NaN, one class)
 * and the sample bimodality coefficient against values computed by hand,
 * then the analyzer on the demo pair: for traces of the hstep, pplstep and
 * specreason policies (their thresholds set so every draft stands), each
 * step's H_step, PPL_step, judge score, H_init and token count must equal
 * what the router measured while the SLM wrote the step, and the LLM's
 * first token must be its greedy one. Skips when the demo models are absent.
 */
/* test-links: eval */
#include "eval/eval_analyze.h"
#include "test_util.h"

#include <cjson/cJSON.h>

static void test_auroc(void)
{
    /* pos {0.35, 0.8} vs neg {0.1, 0.4}: 3 of 4 pairs ordered. */
    const double v1[] = {0.1, 0.4, 0.35, 0.8};
    const bool l1[] = {0, 0, 1, 1};
    CHECK(fabs(eval_auroc(v1, l1, 4) - 0.75) < 1e-12, "%g", eval_auroc(v1, l1, 4));
    /* pos {2, 3} vs neg {1, 2}: 1 + 1/2 (tie) + 1 + 1 = 3.5 of 4. */
    const double v2[] = {1, 2, 2, 3};
    const bool l2[] = {0, 1, 0, 1};
    CHECK(fabs(eval_auroc(v2, l2, 4) - 0.875) < 1e-12, "%g", eval_auroc(v2, l2, 4));
    /* pos {1, 2} vs neg {1, 2}: 1/2 + 0 + 1 + 1/2 = 2 of 4; all tied: 1/2. */
    const double v3[] = {1, 1, 2, 2}, v4[] = {5, 5, 5, 5};
    const bool l3[] = {1, 0, 1, 0};
    CHECK(fabs(eval_auroc(v3, l3, 4) - 0.5) < 1e-12, "%g", eval_auroc(v3, l3, 4));
    CHECK(fabs(eval_auroc(v4, l3, 4) - 0.5) < 1e-12, "%g", eval_auroc(v4, l3, 4));
    /* Perfect and reversed orders; a NaN value is left out. */
    const double v5[] = {1, 2, 3, NAN, 4};
    const bool l5[] = {0, 0, 1, 0, 1}, l6[] = {1, 1, 0, 1, 0};
    CHECK(eval_auroc(v5, l5, 5) == 1.0, "%g", eval_auroc(v5, l5, 5));
    CHECK(eval_auroc(v5, l6, 5) == 0.0, "%g", eval_auroc(v5, l6, 5));
    /* One class only (the NaN's positive label does not count). */
    const bool l7[] = {0, 0, 0, 1, 0};
    CHECK(isnan(eval_auroc(v5, l7, 5)), "one class gives %g", eval_auroc(v5, l7, 5));
    CHECK(isnan(eval_auroc(v5, l7, 0)), "no values");
}

static void test_bimodality(void)
{
    /* {0,0,0,1,1}: mean 2/5, m2 = 6/25, m3 = 6/125, m4 = 42/625, so
     * g1 = 1/sqrt(6), g2 = 7/6 - 3 = -11/6; G1 = sqrt(20)/3 g1 (G1^2 = 10/27),
     * G2 = 4/6 (6 g2 + 6) = -10/3; BC = (10/27 + 1) / (-10/3 + 3*16/6) = 37/126. */
    const double a[] = {0, 0, NAN, 0, 1, 1};
    eval_moments_result m;
    CHECK(eval_moments(a, 6, &m), "moments");
    CHECK(m.n == 5, "n %zu", m.n);
    CHECK(fabs(m.mean - 0.4) < 1e-12, "mean %g", m.mean);
    CHECK(fabs(m.sd - sqrt(0.3)) < 1e-12, "sd %g", m.sd);
    CHECK(fabs(m.skew - sqrt(10.0 / 27)) < 1e-12, "skew %g", m.skew);
    CHECK(fabs(m.kurt + 10.0 / 3) < 1e-12, "kurtosis %g", m.kurt);
    CHECK(fabs(m.bimodality - 37.0 / 126) < 1e-12, "bimodality %g", m.bimodality);
    /* {0,0,1,1}: G1 = 0, g2 = -2, G2 = 3/2 (5 (-2) + 6) = -6; BC = 1 / (-6 + 27/2) = 2/15. */
    const double b[] = {0, 0, 1, 1};
    CHECK(eval_moments(b, 4, &m) && fabs(m.bimodality - 2.0 / 15) < 1e-12, "bc %g",
          m.bimodality);
    /* Under 4 values, or no spread: undefined. */
    const double c[] = {1, 2, 3}, d[] = {2, 2, 2, 2, 2};
    CHECK(eval_moments(c, 3, &m) && isnan(m.bimodality) && fabs(m.sd - 1) < 1e-12, "n=3");
    CHECK(eval_moments(d, 5, &m) && isnan(m.bimodality) && m.sd == 0, "constant");
    CHECK(!eval_moments(c, 0, &m) && m.n == 0, "empty");
}

/* Runs `policy` on the question and returns the trace (caller deletes). */
static cJSON *trace_of(glimp_backend *slm, glimp_backend *llm, const char *policy, double tau,
                       const char *question)
{
    glimp_router_params p = glimp_router_default_params();
    glimp_error err = {0};
    REQUIRE(glimp_router_parse_policy(policy, &p, &err) == GLIMP_OK, "%s", err.msg);
    p.tau = tau;
    p.seed = 11;
    p.final_by_slm = true;
    p.final_max_tokens = 1;
    glimp_router *r = glimp_router_create(slm, llm, &p, &err);
    REQUIRE(r, "%s", err.msg);
    glimp_router_result *res = NULL;
    REQUIRE(glimp_router_run(r, question, NULL, &res, &err) == GLIMP_OK, "%s", err.msg);
    char *json = glimp_router_result_json(res);
    cJSON *t = cJSON_Parse(json);
    free(json);
    glimp_router_result_free(res);
    glimp_router_free(r);
    return t;
}

/* The LLM's greedy first token after question and steps[0..i). */
static void greedy_first(glimp_backend *llm, const char *question, const char *const *steps,
                         int i, char *out)
{
    char *prompt = NULL;
    glimp_error err = {0};
    REQUIRE(glimp_backend_render(llm, question, steps, i, GLIMP_TEMPLATE_PHASE_THINK, &prompt,
                                 &err) == GLIMP_OK, "%s", err.msg);
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = 1;
    gp.temperature = 0;
    glimp_gen_result g;
    REQUIRE(glimp_backend_generate(llm, prompt, &gp, &g, &err) == GLIMP_OK, "%s", err.msg);
    snprintf(out, GLIMP_TOKEN_TEXT_MAX, "%s", g.first_text);
    glimp_gen_result_clear(&g);
    free(prompt);
}

static void test_demo_pair(void)
{
    char slm_path[4096], llm_path[4096];
    const char *src = getenv("GLIMP_SRC");
    snprintf(slm_path, sizeof slm_path, "%s/models/demo/slm.gguf", src ? src : "..");
    snprintf(llm_path, sizeof llm_path, "%s/models/demo/llm.gguf", src ? src : "..");
    struct stat sb;
    if (stat(slm_path, &sb) != 0 || stat(llm_path, &sb) != 0) test_skip("no demo models");
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = 1;
    lp.model_path = slm_path;
    glimp_backend *slm = glimp_backend_local_create(&lp, &err);
    lp.model_path = llm_path;
    glimp_backend *llm = slm ? glimp_backend_local_create(&lp, &err) : NULL;
    REQUIRE(llm, "%s", err.msg);
    glimp_analyze_params ap = glimp_analyze_default_params();
    ap.slm_path = slm_path;
    ap.n_threads = 1;
    glimp_analyzer *a = glimp_analyzer_create(&ap, llm, &err);
    REQUIRE(a, "%s", err.msg);

    static const char *const questions[] = {
        "Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. "
        "Whoever has more marbles gives 5 to the other. Owen finds 32 more marbles. How many "
        "more marbles does the one with more have?",
        "Mia has 7 boxes with 9 stickers in each. Leo has 40 stickers. Leo buys 3 packs of 6 "
        "stickers. How many stickers do they have in total?"};
    static const struct { const char *policy; double tau; int signal; } runs[] = {
        {"hstep", 1000, EVAL_SIG_H_STEP}, /* no draft is rewritten */
        {"pplstep", 1000, EVAL_SIG_PPL_STEP},
        {"specreason", 0, EVAL_SIG_JUDGE},
    };
    size_t checked = 0, disagree = 0, with_markup = 0;
    for (size_t q = 0; q < 2; q++)
        for (size_t k = 0; k < 3; k++) {
            cJSON *t = trace_of(slm, llm, runs[k].policy, runs[k].tau, questions[q]);
            REQUIRE(t, "trace");
            char *json = cJSON_PrintUnformatted(t);
            size_t before = glimp_analyzer_n_steps(a);
            CHECK(glimp_analyzer_add_trace(a, runs[k].policy, json, &err) == GLIMP_OK, "%s",
                  err.msg);
            free(json);
            const cJSON *steps = cJSON_GetObjectItem(t, "steps");
            int n = cJSON_GetArraySize(steps);
            CHECK(glimp_analyzer_n_steps(a) - before == (size_t)n, "%zu of %d steps",
                  glimp_analyzer_n_steps(a) - before, n);
            const char **texts = calloc((size_t)n + 1, sizeof *texts);
            for (int i = 0; i < n; i++)
                texts[i] = cJSON_GetObjectItem(cJSON_GetArrayItem(steps, i), "text")->valuestring;
            for (int i = 0; i < n && before + (size_t)i < glimp_analyzer_n_steps(a); i++) {
                const cJSON *s = cJSON_GetArrayItem(steps, i);
                const eval_step_signals *r = &a->v[before + (size_t)i];
                /* A sampled step can hold a control token ("<think>"): its
                 * writer scored the token, the analysis reads the step as
                 * text (as every later prompt does), so their figures differ. */
                if (strstr(texts[i], "<think>") || strstr(texts[i], "</think>") ||
                    strstr(texts[i], "<|im_")) {
                    with_markup++;
                    continue;
                }
                double want = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "draft"), "score")
                                  ->valuedouble;
                double h = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "h_init"), "topk")
                               ->valuedouble;
                CHECK(fabs(r->signal[runs[k].signal] - want) < 1e-6 * fmax(1, want),
                      "%s step %d: %g, router %g", runs[k].policy, i,
                      r->signal[runs[k].signal], want);
                CHECK(fabs(r->signal[EVAL_SIG_H_INIT] - h) < 1e-6, "step %d H_init %g vs %g",
                      i, r->signal[EVAL_SIG_H_INIT], h);
                CHECK(r->n_tokens == cJSON_GetObjectItem(s, "n_tokens")->valueint,
                      "step %d: %d tokens", i, r->n_tokens);
                char first[GLIMP_TOKEN_TEXT_MAX];
                greedy_first(llm, questions[q], texts, i, first);
                CHECK(!strcmp(first, r->llm_first), "step %d: LLM greedy '%s', analysis '%s'",
                      i, first, r->llm_first);
                CHECK(r->disagree == (strcmp(r->llm_first, r->slm_first) != 0), "label");
                CHECK(r->llm_ll <= 0 && r->llm_tokens > 0, "llm_ll %g", r->llm_ll);
                disagree += r->disagree;
                checked++;
            }
            free(texts);
            cJSON_Delete(t);
        }
    CHECK(checked >= 20 && with_markup * 4 < checked, "%zu steps checked, %zu with control-token text",
          checked, with_markup);
    printf("%zu steps match the router's scores; %zu where the LLM's first token differs\n",
           checked, disagree);
    /* Not JSON, or no steps: refused. */
    CHECK(glimp_analyzer_add_trace(a, "x", "{", &err) == GLIMP_ERR_JSON, "bad JSON");
    CHECK(glimp_analyzer_add_trace(a, "x", "{\"question\":\"q\"}", &err) == GLIMP_ERR_JSON,
          "no steps");
    glimp_analyzer_free(a);
    glimp_backend_free(llm);
    glimp_backend_free(slm);
}

int main(void)
{
    test_auroc();
    test_bimodality();
    test_demo_pair();
    return test_finish();
}
