/* reward.c - reward models for the rsd policy (glimp.h "reward models"): the
 * public functions, and the judge: a backend's probability of " Yes" against
 * " No" after a rating question appended inside its thinking, right after
 * the step it rates. The prm kind lives in reward_prm.c.
 *
 * Failure: a judge passes its backend's errors through; GLIMP_ERR_ARG for
 * NULL arguments or no step to rate; GLIMP_ERR_NOMEM.
 */
#include "backend/reward_impl.h"

#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rating_text[] = "Is the last step correct and useful? Answer Yes or No. Answer:";

glimp_reward *glimp_reward_judge_create(glimp_backend *judge, glimp_error *err)
{
    if (!judge) {
        glimp_error_set(err, GLIMP_ERR_ARG, "reward: NULL judge backend");
        return NULL;
    }
    glimp_reward *r = calloc(1, sizeof *r);
    const char *bn = glimp_backend_name(judge);
    char *name = malloc(strlen(bn) + 8);
    if (!r || !name) {
        free(r);
        free(name);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "reward: out of memory");
        return NULL;
    }
    snprintf(name, strlen(bn) + 8, "judge:%s", bn);
    r->judge = judge;
    r->name = name;
    return r;
}

glimp_reward *glimp_reward_local_create(const glimp_local_params *params, glimp_error *err)
{
    glimp_backend *b = glimp_backend_local_create(params, err);
    glimp_reward *r = b ? glimp_reward_judge_create(b, err) : NULL;
    if (!r) {
        glimp_backend_free(b);
        return NULL;
    }
    r->owned = b;
    return r;
}

/* P(" Yes") / (P(" Yes") + P(" No")) after the rendered steps and the rating text. */
static glimp_status judge_score(glimp_reward *r, const char *question, const char *const *steps,
                                int n_steps, double *score, int *prefill, glimp_error *err)
{
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(r->judge, question, steps, n_steps,
                                           GLIMP_TEMPLATE_PHASE_THINK, &prompt, err);
    if (st != GLIMP_OK) return st;
    size_t n = strlen(prompt);
    char *full = realloc(prompt, n + sizeof rating_text);
    if (!full) {
        free(prompt);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "reward: out of memory");
    }
    memcpy(full + n, rating_text, sizeof rating_text);
    glimp_score_result yes, no;
    st = glimp_backend_score(r->judge, full, " Yes", &yes, err);
    if (st == GLIMP_OK) st = glimp_backend_score(r->judge, full, " No", &no, err);
    free(full);
    if (st != GLIMP_OK) return st;
    *prefill += yes.prefill_tokens + no.prefill_tokens;
    *score = 1.0 / (1.0 + exp(no.logprob - yes.logprob));
    return GLIMP_OK;
}

glimp_status glimp_reward_score(glimp_reward *reward, const char *question,
                                const char *const *steps, int n_steps, double *score,
                                int *prefill_tokens, glimp_error *err)
{
    int prefill = 0;
    *score = NAN;
    if (!reward || !question || !steps || n_steps < 1)
        return glimp_error_set(err, GLIMP_ERR_ARG, "reward: nothing to rate");
    glimp_status st = reward->judge
                          ? judge_score(reward, question, steps, n_steps, score, &prefill, err)
                          : reward_prm_score(reward, question, steps, n_steps, score, err);
    if (prefill_tokens) *prefill_tokens = prefill;
    return st;
}

const char *glimp_reward_name(const glimp_reward *reward) { return reward->name; }

glimp_backend *glimp_reward_judge_backend(const glimp_reward *reward) { return reward->judge; }

void glimp_reward_free(glimp_reward *reward)
{
    if (!reward) return;
    if (!reward->judge) reward_prm_destroy(reward);
    glimp_backend_free(reward->owned);
    free(reward->name);
    free(reward);
}
