/* router_draft.c - the draft-then-decide policies: the SLM writes the whole
 * step silently, a score of the draft decides whether it stands (streamed
 * then as one piece) or the LLM rewrites the step. The scores: hstep, the
 * draft's mean token entropy (>= tau: rewrite); pplstep, its perplexity
 * (>= tau: rewrite); specreason, the LLM's judge digit
 * (router_specreason.c; < tau: rewrite); rsd, the reward model's score
 * (router_rsd.c; < tau: rewrite). Backend errors pass through.
 */
#include "router/router_impl.h"

#include <math.h>
#include <string.h>

glimp_status router_accept_draft(run *x, glimp_gen_result *g, glimp_error *err)
{
    glimp_step *s = x->cur;
    router_keep_text(x, GLIMP_ROLE_SLM, g, 0.0);
    s->gen_ms = 0.0; /* the draft's time is in draft_ms */
    if (!router_begin_step(x, GLIMP_ROLE_SLM) || !router_on_piece(x, s->text, strlen(s->text)))
        return router_cancelled(err);
    return GLIMP_OK;
}

glimp_status router_by_draft(run *x, glimp_error *err)
{
    glimp_router_params *p = &x->r->p;
    glimp_step *s = x->cur;
    glimp_gen_result g;
    x->announce = false;
    glimp_status st = router_write_step(x, GLIMP_ROLE_SLM, false, &g, err);
    if (st != GLIMP_OK) return st;
    s->draft_ms = g.total_ms;
    double n = g.n_tokens > 0 ? g.n_tokens : 1;
    bool rewrite;
    switch (p->policy) {
    case GLIMP_POLICY_HSTEP:
        s->draft_score = g.sum_entropy / n;
        rewrite = s->draft_score >= p->tau;
        break;
    case GLIMP_POLICY_PPLSTEP:
        s->draft_score = exp(-g.sum_logprob / n);
        rewrite = s->draft_score >= p->tau;
        break;
    case GLIMP_POLICY_SPECREASON:
        st = router_specreason_score(x, g.text, &s->draft_score, err);
        rewrite = s->draft_score < p->tau;
        break;
    default: /* GLIMP_POLICY_RSD */
        st = router_rsd_score(x, g.text, &s->draft_score, err);
        rewrite = s->draft_score < p->tau;
        break;
    }
    if (st != GLIMP_OK || rewrite) {
        if (st == GLIMP_OK) s->draft_tokens = g.n_tokens;
        glimp_gen_result_clear(&g);
        return st != GLIMP_OK ? st : router_by_llm(x, err);
    }
    return router_accept_draft(x, &g, err);
}
