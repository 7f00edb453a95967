/* router_rsd.c - the rsd policy's score of a drafted step (reward-guided
 * speculative decoding): the reward model rates the draft after the
 * question and the finished steps (glimp.h "reward models"); the router's
 * params.reward, or a judge over the LLM when none was given. Time goes to
 * the step's draft_ms; a judge running on one of the pair's backends also
 * counts its prefill and time to that model. Reward errors pass through.
 */
#include "router/router_impl.h"

#include "backend/backend_impl.h"

glimp_status router_rsd_score(run *x, const char *draft, double *score, glimp_error *err)
{
    glimp_router *r = x->r;
    glimp_step *s = x->cur;
    glimp_reward *reward = r->p.reward;
    int prefill = 0;
    double t0 = backend_now_ms();
    x->texts[s->index] = draft;
    glimp_status st = glimp_reward_score(reward, x->question, x->texts, s->index + 1, score,
                                         &prefill, err);
    x->texts[s->index] = NULL;
    double ms = backend_now_ms() - t0;
    s->draft_ms += ms;
    glimp_backend *judge = glimp_reward_judge_backend(reward);
    if (judge == r->be[GLIMP_ROLE_LLM]) {
        s->prefill_llm += prefill;
        x->res->ms_by[GLIMP_ROLE_LLM] += ms;
    } else if (judge == r->be[GLIMP_ROLE_SLM]) {
        s->prefill_slm += prefill;
        x->res->ms_by[GLIMP_ROLE_SLM] += ms;
    }
    return st;
}
