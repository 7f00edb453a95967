/* router_specreason.c - the specreason policy's score of a drafted step:
 * the judge text appended inside the LLM's thinking after the draft, and
 * the digit 0-9 the LLM finds likeliest next (ten score calls that share
 * the prompt's cache). router_judge_score is the judge alone (also used by
 * the signal analysis); router_specreason_score adds the step's counts and
 * times. Backend errors pass through.
 */
#include "router/router_impl.h"
#include "router/router_judge.h"

#include "backend/backend_impl.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char judge_text[] =
    "Let me rate the last step from 0 (wrong or useless) to 9 (correct and useful). Rating:";

glimp_status router_judge_score(glimp_backend *llm, const char *question,
                                const char *const *steps, int n_steps, double *score,
                                int *prefill, glimp_error *err)
{
    char *prompt = NULL;
    *score = 0.0;
    if (prefill) *prefill = 0;
    glimp_status st = glimp_backend_render(llm, question, steps, n_steps,
                                           GLIMP_TEMPLATE_PHASE_THINK, &prompt, err);
    if (st != GLIMP_OK) return st;
    size_t n = strlen(prompt);
    char *full = realloc(prompt, n + sizeof judge_text);
    if (!full) {
        free(prompt);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "router: out of memory");
    }
    memcpy(full + n, judge_text, sizeof judge_text);
    double best = -INFINITY;
    for (int d = 0; d <= 9 && st == GLIMP_OK; d++) {
        char digit[3] = {' ', (char)('0' + d), '\0'};
        glimp_score_result sr;
        st = glimp_backend_score(llm, full, digit, &sr, err);
        if (prefill) *prefill += sr.prefill_tokens;
        if (st == GLIMP_OK && sr.logprob > best) {
            best = sr.logprob;
            *score = d;
        }
    }
    free(full);
    return st;
}

glimp_status router_specreason_score(run *x, const char *draft, double *score, glimp_error *err)
{
    glimp_step *s = x->cur;
    x->texts[s->index] = draft;
    double t0 = backend_now_ms();
    int prefill = 0;
    glimp_status st = router_judge_score(x->r->be[GLIMP_ROLE_LLM], x->question, x->texts,
                                         s->index + 1, score, &prefill, err);
    x->texts[s->index] = NULL;
    s->prefill_llm += prefill;
    double ms = backend_now_ms() - t0;
    x->res->ms_by[GLIMP_ROLE_LLM] += ms;
    s->draft_ms += ms;
    return st;
}
