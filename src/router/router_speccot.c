/* router_speccot.c - the speccot policy: the SLM drafts `candidates` steps
 * silently (candidate c's seed mixes in c, so sampled drafts differ; greedy
 * ones coincide), the LLM scores each by its own log-likelihood of the
 * draft and the stop string that ended it, per token, and keeps the
 * likeliest; when even that one's geometric-mean token probability
 * exp(mean ln p) is below tau, the LLM writes the step itself. The step's
 * draft_score is that probability, draft_tokens the tokens of every draft
 * not kept, draft_ms the drafts' and the scoring's time. Backend errors
 * pass through.
 */
#include "router/router_impl.h"

#include "backend/backend_impl.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The LLM's mean ln p per token of the draft g (and its stop string) after `prompt`. */
static glimp_status llm_likelihood(run *x, const char *prompt, const glimp_gen_result *g,
                                   double *mean, glimp_error *err)
{
    glimp_router *r = x->r;
    const char *stops[ROUTER_STEP_STOPS], *stop = "";
    router_step_stops(r, stops);
    if (g->stop == GLIMP_STOP_STRING) stop = stops[g->stop_index];
    size_t n = strlen(g->text), m = strlen(stop);
    char *text = malloc(n + m + 1);
    if (!text) return glimp_error_set(err, GLIMP_ERR_NOMEM, "router: out of memory");
    memcpy(text, g->text, n);
    memcpy(text + n, stop, m + 1);
    glimp_score_result sr;
    double t0 = backend_now_ms();
    glimp_status st = glimp_backend_score(r->be[GLIMP_ROLE_LLM], prompt, text, &sr, err);
    double ms = backend_now_ms() - t0;
    free(text);
    x->cur->prefill_llm += sr.prefill_tokens;
    x->cur->draft_ms += ms;
    x->res->ms_by[GLIMP_ROLE_LLM] += ms;
    *mean = sr.n_tokens > 0 ? sr.logprob / sr.n_tokens : 0.0;
    return st;
}

/* Drafts and scores every candidate; *best keeps the likeliest (text owned). */
static glimp_status draft_candidates(run *x, glimp_gen_result *best, double *best_mean,
                                     glimp_error *err)
{
    glimp_router *r = x->r;
    glimp_step *s = x->cur;
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(r->be[GLIMP_ROLE_LLM], x->question, x->texts,
                                           s->index, GLIMP_TEMPLATE_PHASE_THINK, &prompt, err);
    *best_mean = -INFINITY;
    x->announce = false;
    for (int c = 0; c < r->p.candidates && st == GLIMP_OK; c++) {
        glimp_gen_result g;
        double mean = -INFINITY;
        x->candidate = c;
        st = router_write_step(x, GLIMP_ROLE_SLM, false, &g, err);
        x->candidate = 0;
        if (st != GLIMP_OK) break;
        s->draft_ms += g.total_ms;
        st = llm_likelihood(x, prompt, &g, &mean, err);
        if (st == GLIMP_OK && mean > *best_mean) {
            if (best->text) s->draft_tokens += best->n_tokens;
            glimp_gen_result_clear(best);
            *best = g;
            *best_mean = mean;
        } else {
            s->draft_tokens += g.n_tokens;
            glimp_gen_result_clear(&g);
        }
    }
    free(prompt);
    return st;
}

glimp_status router_by_speccot(run *x, glimp_error *err)
{
    glimp_step *s = x->cur;
    glimp_gen_result best = {0};
    double mean;
    glimp_status st = draft_candidates(x, &best, &mean, err);
    if (st != GLIMP_OK) {
        glimp_gen_result_clear(&best);
        return st;
    }
    s->draft_score = exp(mean);
    backend_copy_token_text(s->first_token, best.first_text, strlen(best.first_text));
    if (s->draft_score < x->r->p.tau) {
        s->draft_tokens += best.n_tokens;
        glimp_gen_result_clear(&best);
        return router_by_llm(x, err);
    }
    return router_accept_draft(x, &best, err);
}
