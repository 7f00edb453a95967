/* test_router_options.c - the router's command-line options
 * (glimp_router_options / glimp_router_set_option): every option with valid
 * values (the field set, the bounds of its range included) and invalid ones
 * (rejected with GLIMP_ERR_ARG, a message naming the option and the value,
 * the parameters unchanged), unknown names (GLIMP_ERR_NOT_FOUND), and a
 * table whose every entry the setter accepts.
 */
#include "glimp.h"
#include "test_util.h"

#include <string.h>

static glimp_error err;

/* Sets name=value on defaults; *out gets the result. */
static glimp_status set(const char *name, const char *value, glimp_router_params *out)
{
    *out = glimp_router_default_params();
    memset(&err, 0, sizeof err);
    return glimp_router_set_option(out, name, value, &err);
}

/* Field by field (memcmp would compare padding). */
static bool same_params(const glimp_router_params *a, const glimp_router_params *b)
{
    return a->policy == b->policy && a->random_p == b->random_p && a->tau == b->tau &&
           a->entropy == b->entropy && a->entropy_top_k == b->entropy_top_k &&
           a->delimiter == b->delimiter && a->max_step_tokens == b->max_step_tokens &&
           a->think_budget == b->think_budget && a->final_max_tokens == b->final_max_tokens &&
           a->temperature == b->temperature && a->top_p == b->top_p && a->seed == b->seed &&
           a->final_by_slm == b->final_by_slm;
}

/* A bad value: GLIMP_ERR_ARG, params unchanged, message names both. */
static void check_bad(const char *name, const char *value)
{
    glimp_router_params p, d = glimp_router_default_params();
    glimp_status st = set(name, value, &p);
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", name);
    CHECK(st == GLIMP_ERR_ARG, "%s=%s: status %d", name, value, st);
    CHECK(same_params(&p, &d), "%s=%s changed the params", name, value);
    CHECK(strstr(err.msg, opt) != NULL, "%s=%s: message '%s' lacks the option", name, value,
          err.msg);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "'%s'", value);
    CHECK(strstr(err.msg, quoted) != NULL, "%s=%s: message '%s' lacks the value", name, value,
          err.msg);
}

static void test_table(void)
{
    size_t n = 0;
    const glimp_router_option *t = glimp_router_options(&n);
    const char *want[] = {"policy", "tau", "entropy", "final", "seed", "temp", "top-p",
                          "delimiter", "max-step-tokens", "think-budget", "final-max-tokens",
                          "spec", "draft-max", "draft-min"};
    REQUIRE(n == sizeof want / sizeof want[0], "%zu options", n);
    for (size_t i = 0; i < n; i++) {
        CHECK(!strcmp(t[i].name, want[i]), "option %zu is %s", i, t[i].name);
        CHECK(t[i].arg && t[i].arg[0] && t[i].help && t[i].help[0] && !strchr(t[i].help, '\n'),
              "%s: placeholder and one-line help", t[i].name);
        CHECK(t[i].min <= t[i].max, "%s: range", t[i].name);
        glimp_router_params p;
        CHECK(set(t[i].name, "%bad%", &p) == GLIMP_ERR_ARG ||
                  !strcmp(t[i].name, "delimiter"), "%s: known to the setter", t[i].name);
    }
}

static void test_valid(void)
{
    glimp_router_params p;
    CHECK(set("policy", "llm", &p) == GLIMP_OK && p.policy == GLIMP_POLICY_LLM, "policy llm");
    CHECK(set("policy", "random:0.25", &p) == GLIMP_OK && p.policy == GLIMP_POLICY_RANDOM &&
              p.random_p == 0.25, "policy random:0.25");
    CHECK(set("policy", "specreason", &p) == GLIMP_OK && p.policy == GLIMP_POLICY_SPECREASON,
          "policy specreason");
    CHECK(set("tau", "0.3", &p) == GLIMP_OK && p.tau == 0.3, "tau keeps double precision");
    CHECK(set("tau", "0", &p) == GLIMP_OK && p.tau == 0, "tau lower bound");
    check_bad("tau", "-0.5"); /* every measure tau is compared with is >= 0 */
    CHECK(set("tau", "1e9", &p) == GLIMP_OK && p.tau == 1e9, "tau upper bound");
    CHECK(set("entropy", "exact", &p) == GLIMP_OK && p.entropy == GLIMP_ENTROPY_EXACT, "exact");
    CHECK(set("entropy", "topk:5", &p) == GLIMP_OK && p.entropy == GLIMP_ENTROPY_TOPK &&
              p.entropy_top_k == 5, "topk:5");
    CHECK(set("final", "slm", &p) == GLIMP_OK && p.final_by_slm, "final slm");
    CHECK(set("final", "llm", &p) == GLIMP_OK && !p.final_by_slm, "final llm");
    CHECK(set("seed", "0", &p) == GLIMP_OK && p.seed == 0, "seed 0");
    CHECK(set("seed", "2147483647", &p) == GLIMP_OK && p.seed == 2147483647u, "seed max");
    CHECK(set("temp", "0", &p) == GLIMP_OK && p.temperature == 0.0f, "temp 0 (greedy)");
    CHECK(set("temp", "2", &p) == GLIMP_OK && p.temperature == 2.0f, "temp 2");
    CHECK(set("top-p", "1", &p) == GLIMP_OK && p.top_p == 1.0f, "top-p 1");
    CHECK(set("top-p", "0.5", &p) == GLIMP_OK && p.top_p == 0.5f, "top-p 0.5");
    const char *delim = "\n";
    CHECK(set("delimiter", delim, &p) == GLIMP_OK && p.delimiter == delim, "delimiter borrowed");
    CHECK(set("max-step-tokens", "1", &p) == GLIMP_OK && p.max_step_tokens == 1, "step 1");
    CHECK(set("max-step-tokens", "16777216", &p) == GLIMP_OK && p.max_step_tokens == 1 << 24,
          "step max");
    CHECK(set("think-budget", "1073741824", &p) == GLIMP_OK && p.think_budget == 1 << 30,
          "budget max");
    CHECK(set("final-max-tokens", "7", &p) == GLIMP_OK && p.final_max_tokens == 7, "final 7");
    CHECK(set("spec", "model", &p) == GLIMP_OK && p.spec == GLIMP_SPEC_MODEL, "spec model");
    CHECK(set("spec", "ngram", &p) == GLIMP_OK && p.spec == GLIMP_SPEC_NGRAM, "spec ngram");
    CHECK(set("spec", "off", &p) == GLIMP_OK && p.spec == GLIMP_SPEC_OFF, "spec off");
    CHECK(set("draft-max", "32", &p) == GLIMP_OK && p.draft_max == 32, "draft max 32");
    CHECK(set("draft-min", "3", &p) == GLIMP_OK && p.draft_min == 3, "draft min 3");
}

static void test_invalid(void)
{
    check_bad("policy", "fast");
    check_bad("policy", "random:1.5");
    check_bad("policy", "random");
    check_bad("tau", "x");
    check_bad("tau", "");
    check_bad("tau", "1.0x");
    check_bad("tau", "nan");
    check_bad("tau", "inf");
    check_bad("tau", "2e9");
    check_bad("entropy", "topk:0");
    check_bad("entropy", "topk:65");
    check_bad("entropy", "top");
    check_bad("final", "both");
    check_bad("final", "");
    check_bad("seed", "-1");
    check_bad("seed", "2147483648");
    check_bad("seed", "1.5");
    check_bad("seed", "");
    check_bad("temp", "-0.1");
    check_bad("temp", "2.5");
    check_bad("temp", "warm");
    check_bad("top-p", "0");
    check_bad("top-p", "1.01");
    check_bad("top-p", "-0.5");
    check_bad("delimiter", "");
    check_bad("max-step-tokens", "0");
    check_bad("max-step-tokens", "16777217");
    check_bad("max-step-tokens", "12abc");
    check_bad("think-budget", "0");
    check_bad("think-budget", "1073741825");
    check_bad("final-max-tokens", "-3");
    check_bad("final-max-tokens", "99999999999999999999");
    check_bad("spec", "eagle");
    check_bad("spec", "");
    check_bad("draft-max", "0");
    check_bad("draft-max", "33");
    check_bad("draft-min", "1.5");
}

static void test_unknown(void)
{
    glimp_router_params p, d = glimp_router_default_params();
    const char *names[] = {"threads", "ctx", "template-slm", "--tau", "Tau", "", "policyx"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(set(names[i], "1", &p) == GLIMP_ERR_NOT_FOUND, "'%s' is not a router option",
              names[i]);
        CHECK(same_params(&p, &d), "'%s' changed the params", names[i]);
    }
}

int main(void)
{
    test_table();
    test_valid();
    test_invalid();
    test_unknown();
    return test_finish();
}
