/* router_params.c - router defaults, policy/estimator parsing and names.
 *
 * Failure: GLIMP_ERR_ARG with a message quoting the text that did not parse.
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
    return p;
}

static const char *const policy_names[] = {
    [GLIMP_POLICY_GLIMP] = "glimp",     [GLIMP_POLICY_LLM] = "llm",
    [GLIMP_POLICY_SLM] = "slm",         [GLIMP_POLICY_RANDOM] = "random",
    [GLIMP_POLICY_HSTEP] = "hstep",     [GLIMP_POLICY_PPLSTEP] = "pplstep",
    [GLIMP_POLICY_SPECREASON] = "specreason",
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
    for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++) {
        if (i != GLIMP_POLICY_RANDOM && !strcmp(text, policy_names[i])) {
            params->policy = (glimp_policy)i;
            return GLIMP_OK;
        }
    }
    return glimp_error_set(err, GLIMP_ERR_ARG,
                           "unknown policy '%s' (glimp, llm, slm, random:P, hstep, pplstep, "
                           "specreason)", text);
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

glimp_status router_check_params(const glimp_router_params *p, glimp_error *err)
{
    const char *bad = NULL;
    if ((unsigned)p->policy > GLIMP_POLICY_SPECREASON) bad = "policy";
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
    }
    return "unknown";
}
