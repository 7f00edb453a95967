/* router_params.c - router defaults, policy/estimator parsing, names, and
 * the router's options as the front ends spell them: one table of names,
 * value placeholders, help lines and ranges, and one setter, so that
 * `glimp run`, `serve`, `eval` and `calibrate` check every value alike.
 *
 * Failure: GLIMP_ERR_ARG with a message naming the option and quoting the
 * text that did not parse; GLIMP_ERR_NOT_FOUND for an unknown option name.
 */
#include "router/router_impl.h"

#include "base/error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

glimp_router_params glimp_router_default_params(void)
{
    glimp_router_params p;
    memset(&p, 0, sizeof p);
    p.policy = GLIMP_POLICY_GLIMP;
    p.random_p = 0.5;
    p.tau = 1.0;
    p.entropy = GLIMP_ENTROPY_TOPK;
    p.entropy_top_k = 20;
    p.delimiter = "\n\n";
    p.max_step_tokens = 512;
    p.think_budget = 8192;
    p.final_max_tokens = 2048;
    p.temperature = 0.6f;
    p.top_p = 0.95f;
    p.seed = 0;
    p.final_by_slm = false;
    p.spec = GLIMP_SPEC_OFF;
    p.draft_min = 1;
    p.draft_max = 6;
    p.candidates = 3;
    p.reward = NULL;
    return p;
}

static const char *const policy_names[] = {
    [GLIMP_POLICY_GLIMP] = "glimp",     [GLIMP_POLICY_LLM] = "llm",
    [GLIMP_POLICY_SLM] = "slm",         [GLIMP_POLICY_RANDOM] = "random",
    [GLIMP_POLICY_HSTEP] = "hstep",     [GLIMP_POLICY_PPLSTEP] = "pplstep",
    [GLIMP_POLICY_SPECREASON] = "specreason", [GLIMP_POLICY_RSD] = "rsd",
    [GLIMP_POLICY_SPECCOT] = "speccot",
};

const char *glimp_policy_name(glimp_policy policy)
{
    if ((unsigned)policy < sizeof policy_names / sizeof policy_names[0]) return policy_names[policy];
    return "unknown";
}

const char *glimp_role_name(glimp_role role) { return role == GLIMP_ROLE_LLM ? "llm" : "slm"; }

glimp_status glimp_router_parse_policy(const char *text, glimp_router_params *params,
                                       glimp_error *err)
{
    if (!strncmp(text, "random:", 7)) {
        char *end;
        errno = 0;
        double p = strtod(text + 7, &end);
        if (errno || end == text + 7 || *end || !(p >= 0.0 && p <= 1.0))
            return glimp_error_set(err, GLIMP_ERR_ARG,
                                   "policy '%s': random:P needs 0 <= P <= 1", text);
        params->policy = GLIMP_POLICY_RANDOM;
        params->random_p = p;
        return GLIMP_OK;
    }
    if (!strncmp(text, "speccot:", 8)) {
        char *end;
        errno = 0;
        long n = strtol(text + 8, &end, 10);
        if (errno || end == text + 8 || *end || n < 1 || n > GLIMP_ROUTER_MAX_CANDIDATES)
            return glimp_error_set(err, GLIMP_ERR_ARG,
                                   "policy '%s': speccot:N needs 1 <= N <= %d", text,
                                   GLIMP_ROUTER_MAX_CANDIDATES);
        params->policy = GLIMP_POLICY_SPECCOT;
        params->candidates = (int)n;
        return GLIMP_OK;
    }
    for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++) {
        if (i != GLIMP_POLICY_RANDOM && !strcmp(text, policy_names[i])) {
            params->policy = (glimp_policy)i;
            return GLIMP_OK;
        }
    }
    return glimp_error_set(err, GLIMP_ERR_ARG,
                           "unknown policy '%s' (glimp, llm, slm, random:P, hstep, pplstep, "
                           "specreason, rsd, speccot:N)", text);
}

glimp_status glimp_router_parse_entropy(const char *text, glimp_router_params *params,
                                        glimp_error *err)
{
    if (!strcmp(text, "exact")) {
        params->entropy = GLIMP_ENTROPY_EXACT;
        return GLIMP_OK;
    }
    if (!strncmp(text, "topk:", 5)) {
        char *end;
        errno = 0;
        long k = strtol(text + 5, &end, 10);
        if (!errno && end != text + 5 && !*end && k >= 1 && k <= GLIMP_PROBE_MAX_K) {
            params->entropy = GLIMP_ENTROPY_TOPK;
            params->entropy_top_k = (int)k;
            return GLIMP_OK;
        }
    }
    return glimp_error_set(err, GLIMP_ERR_ARG,
                           "entropy estimator '%s': use exact or topk:K with 1 <= K <= %d", text,
                           GLIMP_PROBE_MAX_K);
}

/* The router options, in help order; indexes of router_options[]. */
enum {
    OPTION_POLICY, OPTION_TAU, OPTION_ENTROPY, OPTION_FINAL, OPTION_SEED, OPTION_TEMP,
    OPTION_TOP_P, OPTION_DELIMITER, OPTION_MAX_STEP, OPTION_BUDGET, OPTION_FINAL_MAX,
    OPTION_SPEC, OPTION_DRAFT_MAX, OPTION_DRAFT_MIN, OPTION_COUNT
};

static const glimp_router_option router_options[OPTION_COUNT] = {
    [OPTION_POLICY] = {"policy", "P", "glimp (default) | llm | slm | random:P | hstep | "
                       "pplstep | specreason | rsd | speccot:N (see README)", 0, 0},
    [OPTION_TAU] = {"tau", "T", "threshold (default 1.0): H_init for glimp, mean token entropy "
                    "for hstep, perplexity for pplstep, judge score 0-9 for specreason, "
                    "reward for rsd, the LLM's geometric-mean token probability of the best "
                    "draft for speccot", 0, 1e9},
    [OPTION_ENTROPY] = {"entropy", "E", "H_init estimator: topk:K (default topk:20, entropy of "
                        "the renormalised top K) or exact (whole vocabulary)", 0, 0},
    [OPTION_FINAL] = {"final", "slm|llm", "who writes the final answer (default llm)", 0, 0},
    [OPTION_SEED] = {"seed", "N", "sampling seed (default 0); same seed, same output", 0,
                     2147483647.0},
    [OPTION_TEMP] = {"temp", "T", "temperature (default 0.6; 0 = greedy)", 0, 2},
    [OPTION_TOP_P] = {"top-p", "P", "nucleus sampling (default 0.95)", 1e-6, 1},
    [OPTION_DELIMITER] = {"delimiter", "S", "step delimiter, C escapes \\n \\t \\r \\\\ "
                          "allowed (default \"\\n\\n\")", 0, 0},
    [OPTION_MAX_STEP] = {"max-step-tokens", "N", "tokens per step (default 512)", 1, 1 << 24},
    [OPTION_BUDGET] = {"think-budget", "N", "thinking tokens in all (default 8192)", 1, 1 << 30},
    [OPTION_FINAL_MAX] = {"final-max-tokens", "N", "tokens of the final answer (default 2048)",
                          1, 1 << 24},
    [OPTION_SPEC] = {"spec", "M", "speculative decoding of the LLM's tokens: model (the SLM "
                     "drafts; same vocabulary), ngram (prompt lookup) or off (default); "
                     "exact: the LLM's output distribution is unchanged", 0, 0},
    [OPTION_DRAFT_MAX] = {"draft-max", "N", "most draft tokens per LLM pass (default 6)", 1,
                          GLIMP_SPEC_DRAFT_LIMIT},
    [OPTION_DRAFT_MIN] = {"draft-min", "N", "fewest draft tokens the adaptive length shrinks "
                          "to (default 1)", 1, GLIMP_SPEC_DRAFT_LIMIT},
};

const glimp_router_option *glimp_router_options(size_t *n)
{
    *n = OPTION_COUNT;
    return router_options;
}

/* The whole of `text` as a number within the option's range. */
static glimp_status option_number(const glimp_router_option *o, const char *text, double *out,
                                  glimp_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= o->min && v <= o->max))
        return glimp_error_set(err, GLIMP_ERR_ARG, "--%s: '%s' is not a number in [%.10g, %.10g]",
                               o->name, text, o->min, o->max);
    *out = v;
    return GLIMP_OK;
}

/* The whole of `text` as a decimal integer within the option's range. */
static glimp_status option_integer(const glimp_router_option *o, const char *text, long *out,
                                   glimp_error *err)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < (long)o->min || v > (long)o->max)
        return glimp_error_set(err, GLIMP_ERR_ARG, "--%s: '%s' is not an integer in [%ld, %ld]",
                               o->name, text, (long)o->min, (long)o->max);
    *out = v;
    return GLIMP_OK;
}

/* Runs one of the text parsers and puts the option's name before its message. */
static glimp_status option_text(const glimp_router_option *o, glimp_status st,
                                const glimp_error *inner, glimp_error *err)
{
    if (st == GLIMP_OK) return GLIMP_OK;
    return glimp_error_set(err, st, "--%s: %s", o->name, inner->msg);
}

glimp_status glimp_router_set_option(glimp_router_params *params, const char *name,
                                     const char *value, glimp_error *err)
{
    size_t i = 0;
    while (i < OPTION_COUNT && strcmp(name, router_options[i].name)) i++;
    if (i == OPTION_COUNT)
        return glimp_error_set(err, GLIMP_ERR_NOT_FOUND, "unknown router option --%s", name);
    const glimp_router_option *o = &router_options[i];
    glimp_error inner = {0};
    glimp_status st = GLIMP_OK;
    double d = 0; /* set by option_number on success; gcc -O3 cannot tell */
    long n = 0;
    switch (i) {
    case OPTION_POLICY:
        return option_text(o, glimp_router_parse_policy(value, params, &inner), &inner, err);
    case OPTION_ENTROPY:
        return option_text(o, glimp_router_parse_entropy(value, params, &inner), &inner, err);
    case OPTION_FINAL:
        if (strcmp(value, "slm") && strcmp(value, "llm"))
            return glimp_error_set(err, GLIMP_ERR_ARG, "--final: '%s' is neither slm nor llm",
                                   value);
        params->final_by_slm = !strcmp(value, "slm");
        return GLIMP_OK;
    case OPTION_DELIMITER:
        if (!value[0])
            return glimp_error_set(err, GLIMP_ERR_ARG, "--delimiter: '' (the delimiter cannot "
                                   "be empty)");
        params->delimiter = value;
        return GLIMP_OK;
    case OPTION_TAU:
        if ((st = option_number(o, value, &d, err)) == GLIMP_OK) params->tau = d;
        return st;
    case OPTION_TEMP:
        if ((st = option_number(o, value, &d, err)) == GLIMP_OK) params->temperature = (float)d;
        return st;
    case OPTION_TOP_P:
        if ((st = option_number(o, value, &d, err)) == GLIMP_OK) params->top_p = (float)d;
        return st;
    case OPTION_SEED:
        if ((st = option_integer(o, value, &n, err)) == GLIMP_OK) params->seed = (uint64_t)n;
        return st;
    case OPTION_MAX_STEP:
        if ((st = option_integer(o, value, &n, err)) == GLIMP_OK) params->max_step_tokens = (int)n;
        return st;
    case OPTION_BUDGET:
        if ((st = option_integer(o, value, &n, err)) == GLIMP_OK) params->think_budget = (int)n;
        return st;
    case OPTION_SPEC:
        return option_text(o, glimp_spec_parse_mode(value, &params->spec, &inner), &inner, err);
    case OPTION_DRAFT_MAX:
        if ((st = option_integer(o, value, &n, err)) == GLIMP_OK) params->draft_max = (int)n;
        return st;
    case OPTION_DRAFT_MIN:
        if ((st = option_integer(o, value, &n, err)) == GLIMP_OK) params->draft_min = (int)n;
        return st;
    default: /* OPTION_FINAL_MAX */
        if ((st = option_integer(o, value, &n, err)) == GLIMP_OK) params->final_max_tokens = (int)n;
        return st;
    }
}

glimp_status router_check_params(const glimp_router_params *p, glimp_error *err)
{
    const char *bad = NULL;
    if ((unsigned)p->policy > GLIMP_POLICY_SPECCOT) bad = "policy";
    else if (!(p->random_p >= 0.0 && p->random_p <= 1.0)) bad = "random_p (0..1)";
    else if (isnan(p->tau)) bad = "tau";
    else if (p->entropy != GLIMP_ENTROPY_TOPK && p->entropy != GLIMP_ENTROPY_EXACT)
        bad = "entropy";
    else if (p->entropy_top_k < 1 || p->entropy_top_k > GLIMP_PROBE_MAX_K) bad = "entropy_top_k";
    else if (!p->delimiter || !p->delimiter[0]) bad = "delimiter (empty)";
    else if (p->max_step_tokens <= 0) bad = "max_step_tokens";
    else if (p->think_budget <= 0) bad = "think_budget";
    else if (p->final_max_tokens <= 0) bad = "final_max_tokens";
    else if (!(p->temperature >= 0.0f)) bad = "temperature";
    else if (!(p->top_p > 0.0f && p->top_p <= 1.0f)) bad = "top_p (0 < top_p <= 1)";
    else if ((unsigned)p->spec > GLIMP_SPEC_NGRAM) bad = "spec";
    else if (p->draft_min < 1 || p->draft_max < p->draft_min ||
             p->draft_max > GLIMP_SPEC_DRAFT_LIMIT)
        bad = "draft_min / draft_max (1 <= min <= max <= 32)";
    else if (p->candidates < 1 || p->candidates > GLIMP_ROUTER_MAX_CANDIDATES)
        bad = "candidates (1..16)";
    else if (p->n_stop < 0 || p->n_stop > GLIMP_ROUTER_MAX_STOP || (p->n_stop && !p->stop))
        bad = "stop (0..16 strings)";
    for (int i = 0; !bad && i < p->n_stop; i++)
        if (!p->stop[i] || !p->stop[i][0]) bad = "stop (an empty string)";
    if (bad) return glimp_error_set(err, GLIMP_ERR_ARG, "router: invalid parameter %s", bad);
    return GLIMP_OK;
}

const char *glimp_step_end_name(glimp_step_end end)
{
    switch (end) {
    case GLIMP_STEP_DELIMITER: return "delimiter";
    case GLIMP_STEP_MAX_TOKENS: return "max_tokens";
    case GLIMP_STEP_THINK_END: return "think_end";
    case GLIMP_STEP_EOS: return "eos";
    case GLIMP_STEP_CONTEXT: return "context";
    }
    return "unknown";
}

const char *glimp_think_end_name(glimp_think_end end)
{
    switch (end) {
    case GLIMP_THINK_CLOSED: return "closed";
    case GLIMP_THINK_REPEAT: return "repeat";
    case GLIMP_THINK_BUDGET: return "budget";
    case GLIMP_THINK_EOS: return "eos";
    case GLIMP_THINK_CONTEXT: return "context";
    }
    return "unknown";
}
