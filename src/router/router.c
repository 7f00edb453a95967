/* router.c - the GlimpRouter step loop (DESIGN.md section 2) over two
 * backends, with every policy going through the same loop; the policies
 * glimp, llm, slm and random:P (the others: router_draft.c,
 * router_speccot.c), the final answer, and the router object.
 *
 * One run: while thinking continues, decide who writes step k by the policy,
 * have that backend generate it after its own rendering of (question, steps),
 * record the step in the trace; then the final answer. Backends keep their
 * caches between calls, so each step only prefills what changed. Thinking
 * calls keep room for the answer free in their model's context; a writer
 * whose context is full (or cannot hold its prompt) ends thinking
 * ("context") instead of failing the run.
 *
 * Failure: any backend error ends the run with that status (the partial
 * result is freed); a callback returning false ends it with
 * GLIMP_ERR_CANCELLED (the partial result goes to the caller, for its
 * token counts); no room for the answer is GLIMP_ERR_RANGE; `exact` H_init
 * with a backend that cannot compute it is GLIMP_ERR_UNSUPPORTED.
 */
#include "router/router_impl.h"

#include "backend/backend_impl.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t call_seed(uint64_t seed, int index, int purpose)
{
    return seed ^ ((uint64_t)(index + 2) * 0x9E3779B97F4A7C15ull) ^
           ((uint64_t)purpose * 0xD1B54A32D192ED03ull);
}

static int probe_top(const glimp_router_params *p)
{
    return p->entropy == GLIMP_ENTROPY_TOPK ? p->entropy_top_k : 20;
}

static double dispatch_entropy(const glimp_router_params *p, const glimp_step *s)
{
    return p->entropy == GLIMP_ENTROPY_EXACT ? s->h_init_exact : s->h_init_topk;
}

bool router_begin_step(run *x, glimp_role model)
{
    x->writer = model;
    if (x->cb && x->cb->on_step_begin &&
        !x->cb->on_step_begin(x->cb->user, x->cur->index, model,
                              dispatch_entropy(&x->r->p, x->cur))) {
        x->cancelled = true;
        return false;
    }
    return true;
}

/* First-token hook of every SLM call: records H_init; for the glimp policy
 * it also dispatches (false = the LLM writes this step). */
static bool on_first_token(void *user, const glimp_token_dist *dist)
{
    run *x = user;
    x->cur->h_init_topk = dist->entropy_topk;
    x->cur->h_init_exact = dist->entropy_exact;
    if (x->decide) {
        double h = dispatch_entropy(&x->r->p, x->cur);
        if (isnan(h)) {
            x->no_exact = true;
            return false;
        }
        if (h >= x->r->p.tau) return false;
    }
    return x->announce ? router_begin_step(x, GLIMP_ROLE_SLM) : true;
}

bool router_on_piece(void *user, const char *piece, size_t len)
{
    run *x = user;
    if (x->cb && x->cb->on_piece &&
        !x->cb->on_piece(x->cb->user, x->cur ? x->cur->index : -1, x->writer, piece, len)) {
        x->cancelled = true;
        return false;
    }
    return true;
}

glimp_status router_cancelled(glimp_error *err)
{
    return glimp_error_set(err, GLIMP_ERR_CANCELLED, "router: cancelled by a callback");
}

/* Speculation counts of an LLM call, into the run's totals. */
static void account_spec(run *x, glimp_role role, const glimp_gen_result *g)
{
    if (role != GLIMP_ROLE_LLM) return;
    x->res->spec_drafted += g->spec_drafted;
    x->res->spec_accepted += g->spec_accepted;
    x->res->llm_forwards += g->n_forwards;
}

static void account(run *x, glimp_role role, const glimp_gen_result *g)
{
    x->res->ms_by[role] += g->total_ms;
    account_spec(x, role, g);
    if (role == GLIMP_ROLE_SLM) {
        x->cur->prefill_slm += g->prefill_tokens;
        return;
    }
    x->cur->prefill_llm += g->prefill_tokens;
    x->cur->spec_drafted += g->spec_drafted;
    x->cur->spec_accepted += g->spec_accepted;
    x->cur->llm_forwards += g->n_forwards;
}

/* Context positions a thinking call of `role` keeps free for the answer:
 * its tokens (final_max_tokens, at most a quarter of the context) and the
 * closing markup. */
static int answer_room(const glimp_router *r, glimp_role role)
{
    size_t quarter = glimp_backend_n_ctx(r->be[role]) / 4;
    int tokens = (size_t)r->p.final_max_tokens < quarter ? r->p.final_max_tokens : (int)quarter;
    return tokens + GLIMP_ROUTER_ANSWER_SLACK;
}

void router_step_stops(const glimp_router *r, const char *stops[ROUTER_STEP_STOPS])
{
    stops[0] = r->delimiter;
    stops[1] = "\n</think>";
    stops[2] = "</think>";
}

/* One generate call for the current step by `role`, after the rendered
 * prompt of the finished steps plus `extra` (n_extra 0 or 1, the draft). The
 * SLM's first token goes through the hook; pieces stream when `stream`. */
glimp_status router_write_step(run *x, glimp_role role, bool stream, glimp_gen_result *g,
                               glimp_error *err)
{
    glimp_router *r = x->r;
    glimp_step *s = x->cur;
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(r->be[role], x->question, x->texts, s->index,
                                           GLIMP_TEMPLATE_PHASE_THINK, &prompt, err);
    if (st != GLIMP_OK) return st;
    const char *stops[ROUTER_STEP_STOPS];
    router_step_stops(r, stops);
    glimp_gen_params gp = glimp_gen_default_params();
    int left = r->p.think_budget - x->res->tokens_by[0] - x->res->tokens_by[1];
    gp.max_tokens = left < r->p.max_step_tokens ? left : r->p.max_step_tokens;
    gp.stop = stops;
    gp.n_stop = ROUTER_STEP_STOPS;
    gp.temperature = r->p.temperature;
    gp.top_p = r->p.top_p;
    gp.seed = call_seed(r->p.seed, s->index, role == GLIMP_ROLE_SLM ? SEED_SLM : SEED_LLM) ^
              ((uint64_t)x->candidate * 0xA24BAED4963EE407ull);
    gp.probe_top = probe_top(&r->p);
    gp.keep_free = answer_room(r, role);
    gp.on_first = role == GLIMP_ROLE_SLM ? on_first_token : NULL;
    gp.on_piece = stream ? router_on_piece : NULL;
    if (role == GLIMP_ROLE_LLM) gp.spec = r->spec;
    /* only the step-level baselines score a draft by its tokens' statistics */
    gp.token_stats = role == GLIMP_ROLE_SLM &&
                     (r->p.policy == GLIMP_POLICY_HSTEP || r->p.policy == GLIMP_POLICY_PPLSTEP);
    gp.user = x;
    x->writer = role;
    st = glimp_backend_generate(r->be[role], prompt, &gp, g, err);
    free(prompt);
    if (st == GLIMP_ERR_CANCELLED && x->cancelled) {
        x->res->tokens_by[role] += g->n_tokens;
        return router_cancelled(err);
    }
    if (st != GLIMP_OK) return st;
    account(x, role, g);
    if (x->cancelled || x->no_exact) {
        glimp_gen_result_clear(g);
        if (x->cancelled) return router_cancelled(err);
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                               "router: the SLM backend %s cannot give exact entropy; use "
                               "topk:K", glimp_backend_name(r->be[GLIMP_ROLE_SLM]));
    }
    if (role == GLIMP_ROLE_SLM && g->stop != GLIMP_STOP_ABORTED) {
        s->probe_ms = g->first.n_top > 0 ? g->probe_ms : 0.0;
        backend_copy_token_text(s->first_token, g->first_text, strlen(g->first_text));
    }
    return GLIMP_OK;
}

/* The step's text and counts come from the call that wrote it. */
void router_keep_text(run *x, glimp_role role, glimp_gen_result *g, double probe_part)
{
    glimp_step *s = x->cur;
    s->model = role;
    s->text = g->text;
    g->text = NULL;
    s->n_tokens = g->n_tokens;
    s->gen_ms = g->total_ms - probe_part;
    switch (g->stop) {
    case GLIMP_STOP_STRING: s->end = g->stop_index == 0 ? GLIMP_STEP_DELIMITER : GLIMP_STEP_THINK_END; break;
    case GLIMP_STOP_EOS: s->end = GLIMP_STEP_EOS; break;
    case GLIMP_STOP_CONTEXT: s->end = GLIMP_STEP_CONTEXT; break;
    default: s->end = GLIMP_STEP_MAX_TOKENS; break;
    }
    if (role == GLIMP_ROLE_LLM && !s->first_token[0])
        backend_copy_token_text(s->first_token, g->first_text, strlen(g->first_text));
}

glimp_status router_by_llm(run *x, glimp_error *err)
{
    glimp_gen_result g;
    if (!router_begin_step(x, GLIMP_ROLE_LLM)) return router_cancelled(err);
    glimp_status st = router_write_step(x, GLIMP_ROLE_LLM, true, &g, err);
    if (st != GLIMP_OK) return st;
    router_keep_text(x, GLIMP_ROLE_LLM, &g, 0.0);
    return GLIMP_OK;
}

/* glimp, slm, and the SLM side of random:P: the SLM's call, with the
 * first-token hook deciding (glimp) or only recording H_init. */
static glimp_status by_slm(run *x, bool decide, glimp_error *err)
{
    glimp_gen_result g;
    x->decide = decide;
    x->announce = true;
    glimp_status st = router_write_step(x, GLIMP_ROLE_SLM, true, &g, err);
    x->decide = false;
    if (st != GLIMP_OK) return st;
    if (g.stop == GLIMP_STOP_ABORTED) {
        x->cur->probe_ms = g.total_ms;
        glimp_gen_result_clear(&g);
        return router_by_llm(x, err);
    }
    router_keep_text(x, GLIMP_ROLE_SLM, &g, g.probe_ms);
    return GLIMP_OK;
}

static glimp_status coin_says_llm(run *x, bool *llm, glimp_error *err)
{
    double p = x->r->p.random_p;
    float logits[2] = {(float)log(1.0 - p), (float)log(p)}; /* [SLM, LLM]; log 0 = -inf */
    int32_t pick = 0;
    glimp_sampler_reseed(x->r->coin, call_seed(x->r->p.seed, x->cur->index, SEED_COIN));
    glimp_status st = glimp_sampler_sample(x->r->coin, logits, 2, &pick, err);
    *llm = pick == GLIMP_ROLE_LLM;
    return st;
}

static glimp_status one_step(run *x, glimp_error *err)
{
    bool llm = false;
    glimp_status st;
    switch (x->r->p.policy) {
    case GLIMP_POLICY_GLIMP: return by_slm(x, true, err);
    case GLIMP_POLICY_LLM: return router_by_llm(x, err);
    case GLIMP_POLICY_SLM: return by_slm(x, false, err);
    case GLIMP_POLICY_RANDOM:
        st = coin_says_llm(x, &llm, err);
        if (st != GLIMP_OK) return st;
        return llm ? router_by_llm(x, err) : by_slm(x, false, err);
    case GLIMP_POLICY_HSTEP:
    case GLIMP_POLICY_PPLSTEP:
    case GLIMP_POLICY_SPECREASON:
    case GLIMP_POLICY_RSD: return router_by_draft(x, err);
    case GLIMP_POLICY_SPECCOT: return router_by_speccot(x, err);
    }
    return glimp_error_set(err, GLIMP_ERR_ARG, "router: unknown policy %d", (int)x->r->p.policy);
}

static glimp_status grow(run *x, glimp_error *err)
{
    if (x->res->n_steps < x->cap) return GLIMP_OK;
    int cap = x->cap ? 2 * x->cap : 16;
    glimp_step *steps = realloc(x->res->steps, (size_t)cap * sizeof *steps);
    if (steps) x->res->steps = steps;
    const char **texts = realloc(x->texts, (size_t)cap * sizeof *texts);
    if (texts) x->texts = texts;
    if (!steps || !texts) return glimp_error_set(err, GLIMP_ERR_NOMEM, "router: out of memory");
    x->cap = cap;
    return GLIMP_OK;
}

/* Thinking: steps until one of the end conditions. */
static glimp_status think(run *x, glimp_error *err)
{
    glimp_router_result *res = x->res;
    for (;;) {
        if (res->tokens_by[0] + res->tokens_by[1] >= x->r->p.think_budget) {
            res->think_end = GLIMP_THINK_BUDGET;
            return GLIMP_OK;
        }
        glimp_status st = grow(x, err);
        if (st != GLIMP_OK) return st;
        glimp_step *s = &res->steps[res->n_steps];
        memset(s, 0, sizeof *s);
        s->index = res->n_steps;
        s->h_init_topk = s->h_init_exact = s->draft_score = NAN;
        x->cur = s;
        x->texts[s->index] = NULL;
        st = one_step(x, err);
        bool no_room = st == GLIMP_ERR_RANGE || (st == GLIMP_OK && s->end == GLIMP_STEP_CONTEXT &&
                                                 s->n_tokens == 0);
        if (st != GLIMP_OK || no_room) {
            if (st == GLIMP_ERR_CANCELLED) res->tokens_by[s->model] += s->n_tokens;
            free(s->text);
            if (!no_room) return st;
            /* the writer's context cannot hold the prompt, or has no room
             * left to write in: the answer comes next */
            if (err) *err = (glimp_error){0};
            res->think_end = GLIMP_THINK_CONTEXT;
            return GLIMP_OK;
        }
        res->n_steps++;
        x->texts[s->index] = s->text;
        res->steps_by[s->model]++;
        res->tokens_by[s->model] += s->n_tokens;
        if (x->cb && x->cb->on_step_end && !x->cb->on_step_end(x->cb->user, s))
            return router_cancelled(err);
        if (s->end == GLIMP_STEP_THINK_END) {
            res->think_end = GLIMP_THINK_CLOSED;
            return GLIMP_OK;
        }
        if (s->end == GLIMP_STEP_EOS) {
            res->think_end = GLIMP_THINK_EOS;
            return GLIMP_OK;
        }
        if (s->end == GLIMP_STEP_CONTEXT) {
            res->think_end = GLIMP_THINK_CONTEXT;
            return GLIMP_OK;
        }
        if (s->index > 0 && !strcmp(s->text, res->steps[s->index - 1].text)) {
            res->think_end = GLIMP_THINK_REPEAT;
            return GLIMP_OK;
        }
    }
}

static glimp_status answer(run *x, glimp_error *err)
{
    glimp_router *r = x->r;
    glimp_router_result *res = x->res;
    glimp_role role = r->p.final_by_slm ? GLIMP_ROLE_SLM : GLIMP_ROLE_LLM;
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(r->be[role], x->question, x->texts, res->n_steps,
                                           GLIMP_TEMPLATE_PHASE_FINAL, &prompt, err);
    if (st != GLIMP_OK) return st;
    if (x->cb && x->cb->on_answer_begin && !x->cb->on_answer_begin(x->cb->user, role)) {
        free(prompt);
        return router_cancelled(err);
    }
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = r->p.final_max_tokens;
    gp.temperature = r->p.temperature;
    gp.top_p = r->p.top_p;
    gp.seed = call_seed(r->p.seed, res->n_steps, SEED_ANSWER);
    gp.stop = r->p.stop;
    gp.n_stop = r->p.n_stop;
    gp.on_piece = router_on_piece;
    gp.user = x;
    gp.token_stats = false;
    if (role == GLIMP_ROLE_LLM) gp.spec = r->spec;
    x->cur = NULL;
    x->writer = role;
    glimp_gen_result g;
    st = glimp_backend_generate(r->be[role], prompt, &gp, &g, err);
    free(prompt);
    if (st == GLIMP_ERR_CANCELLED && x->cancelled) {
        res->tokens_by[role] += g.n_tokens;
        return router_cancelled(err);
    }
    if (st == GLIMP_ERR_RANGE) {
        glimp_error_prefix(err, "router: no room for the final answer in %s's context",
                           glimp_backend_name(r->be[role]));
        return st;
    }
    if (st != GLIMP_OK) return st;
    if (g.stop == GLIMP_STOP_CONTEXT && g.n_tokens == 0) {
        glimp_gen_result_clear(&g);
        return glimp_error_set(err, GLIMP_ERR_RANGE,
                               "router: no room for the final answer: the context of %s is "
                               "full after its prompt",
                               glimp_backend_name(r->be[role]));
    }
    res->answer = g.text;
    res->answer_model = role;
    res->answer_stop = g.stop;
    res->answer_stop_index = g.stop_index;
    res->answer_tokens = g.n_tokens;
    res->answer_prefill = g.prefill_tokens;
    res->answer_ms = g.total_ms;
    res->ms_by[role] += g.total_ms;
    res->tokens_by[role] += g.n_tokens;
    account_spec(x, role, &g);
    return GLIMP_OK;
}

/* A copy of n strings in one block (pointers, then the bytes): one free().
 * NULL for n == 0, and when out of memory (*ok false). */
static char **copy_strings(const char *const *v, int n, bool *ok)
{
    *ok = true;
    if (n == 0) return NULL;
    size_t bytes = (size_t)n * sizeof(char *);
    for (int i = 0; i < n; i++) bytes += strlen(v[i]) + 1;
    char **c = malloc(bytes);
    if (!c) {
        *ok = false;
        return NULL;
    }
    char *o = (char *)(c + n);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        c[i] = memcpy(o, v[i], len);
        o += len;
    }
    return c;
}

/* The speculation asked for, if the LLM can run it with this SLM; else off
 * (or server-side) with the reason kept. Bad lengths fail the creation. */
static glimp_status choose_spec(glimp_router *r, glimp_error *err)
{
    glimp_backend *llm = r->be[GLIMP_ROLE_LLM];
    r->spec = (glimp_spec_params){.mode = r->p.spec,
                                  .draft = r->p.spec == GLIMP_SPEC_MODEL ? r->be[GLIMP_ROLE_SLM]
                                                                          : NULL,
                                  .draft_min = r->p.draft_min,
                                  .draft_max = r->p.draft_max};
    r->spec_name = glimp_spec_mode_name(r->p.spec);
    if (r->p.spec == GLIMP_SPEC_OFF) return GLIMP_OK;
    glimp_error why = {0};
    glimp_status st = glimp_backend_spec_check(llm, &r->spec, &why);
    if (st == GLIMP_OK) return GLIMP_OK;
    if (st != GLIMP_ERR_UNSUPPORTED) {
        if (err) *err = why;
        return st;
    }
    r->spec.mode = GLIMP_SPEC_OFF;
    r->spec_name = backend_runs_spec(llm) ? "off" : "server-side";
    snprintf(r->spec_note, sizeof r->spec_note, "--spec %s: %s",
             glimp_spec_mode_name(r->p.spec), why.msg);
    return GLIMP_OK;
}

glimp_router *glimp_router_create(glimp_backend *slm, glimp_backend *llm,
                                  const glimp_router_params *params, glimp_error *err)
{
    if (!slm || !llm || !params) {
        glimp_error_set(err, GLIMP_ERR_ARG, "router: NULL backend or params");
        return NULL;
    }
    if (router_check_params(params, err) != GLIMP_OK) return NULL;
    glimp_router *r = calloc(1, sizeof *r);
    char *delim = strdup(params->delimiter);
    glimp_sampler_params cp = glimp_sampler_default_params();
    cp.temperature = 1.0f;
    cp.top_p = 1.0f;
    glimp_sampler *coin = glimp_sampler_create(&cp, err);
    bool stop_ok;
    char **stop = copy_strings(params->stop, params->n_stop, &stop_ok);
    if (!r || !delim || !coin || !stop_ok) {
        free(r);
        free(delim);
        free(stop);
        glimp_sampler_free(coin);
        if (coin) glimp_error_set(err, GLIMP_ERR_NOMEM, "router: out of memory");
        return NULL;
    }
    r->be[GLIMP_ROLE_SLM] = slm;
    r->be[GLIMP_ROLE_LLM] = llm;
    r->p = *params;
    r->delimiter = delim;
    r->p.delimiter = delim;
    r->stop = stop;
    r->p.stop = (const char *const *)stop;
    r->coin = coin;
    if (r->p.policy == GLIMP_POLICY_RSD && !r->p.reward &&
        !(r->p.reward = r->own_reward = glimp_reward_judge_create(llm, err))) {
        glimp_router_free(r);
        return NULL;
    }
    if (choose_spec(r, err) != GLIMP_OK) {
        glimp_router_free(r);
        return NULL;
    }
    return r;
}

const char *glimp_router_spec_note(const glimp_router *router)
{
    return router->spec_note[0] ? router->spec_note : NULL;
}

void glimp_router_free(glimp_router *router)
{
    if (!router) return;
    glimp_sampler_free(router->coin);
    glimp_reward_free(router->own_reward);
    free(router->delimiter);
    free(router->stop);
    free(router);
}

void glimp_router_result_free(glimp_router_result *result)
{
    if (!result) return;
    for (int i = 0; i < result->n_steps; i++) free(result->steps[i].text);
    free(result->steps);
    free(result->question);
    free((char *)result->params.delimiter);
    free((void *)result->params.stop);
    free(result->answer);
    free(result->slm_name);
    free(result->llm_name);
    free(result->reward_name);
    free(result);
}

static glimp_router_result *result_new(const glimp_router *r, const char *question)
{
    glimp_router_result *res = calloc(1, sizeof *res);
    if (!res) return NULL;
    res->params = r->p;
    res->params.delimiter = strdup(r->delimiter);
    bool stop_ok;
    res->params.stop = (const char *const *)copy_strings(r->p.stop, r->p.n_stop, &stop_ok);
    res->question = strdup(question);
    res->slm_name = strdup(glimp_backend_name(r->be[GLIMP_ROLE_SLM]));
    res->llm_name = strdup(glimp_backend_name(r->be[GLIMP_ROLE_LLM]));
    res->spec = r->spec_name;
    res->params.reward = NULL;
    bool rsd = r->p.policy == GLIMP_POLICY_RSD;
    if (rsd) res->reward_name = strdup(glimp_reward_name(r->p.reward));
    if (!res->params.delimiter || !stop_ok || !res->question || !res->slm_name ||
        !res->llm_name || (rsd && !res->reward_name)) {
        glimp_router_result_free(res);
        return NULL;
    }
    return res;
}

glimp_status glimp_router_run(glimp_router *router, const char *question,
                              const glimp_router_callbacks *callbacks,
                              glimp_router_result **result, glimp_error *err)
{
    *result = NULL;
    if (!question) return glimp_error_set(err, GLIMP_ERR_ARG, "router: question is NULL");
    double t0 = backend_now_ms();
    run x = {.r = router, .cb = callbacks, .question = question};
    x.res = result_new(router, question);
    if (!x.res) return glimp_error_set(err, GLIMP_ERR_NOMEM, "router: out of memory");
    glimp_status st = think(&x, err);
    if (st == GLIMP_OK) st = answer(&x, err);
    free(x.texts);
    if (st != GLIMP_OK && st != GLIMP_ERR_CANCELLED) {
        glimp_router_result_free(x.res);
        return st;
    }
    glimp_router_result *res = x.res;
    res->llm_step_share = res->n_steps ? (double)res->steps_by[GLIMP_ROLE_LLM] / res->n_steps : 0.0;
    res->wall_ms = backend_now_ms() - t0;
    *result = res;
    return st;
}
