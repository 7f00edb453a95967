/* serve_routed.c - /v1/chat/completions of the routed pair (model
 * "glimprouter"): the router's thinking steps come back as
 * reasoning_content (the DeepSeek / vLLM reasoning-parser convention), the
 * final answer as content, and what standard clients do not know under
 * "glimp": per-step writer, H_init and tokens while streaming, the whole
 * trace (glimp_router_result_json) in a non-streamed answer.
 *
 * The question is the last user message, preceded by any system messages;
 * earlier turns are not part of a routed run. Per-request temperature,
 * top_p, seed and max_tokens (the final answer's budget) override the
 * server's router parameters.
 *
 * Failure: a router error is a 500 (an error event when streaming); a
 * client that goes away cancels the run through the router's callbacks.
 */
#include "serve/serve_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct routed {
    serve_server *s;
    serve_job *j;
    unsigned long long id;
    const char *delimiter;
} routed;

static cJSON *chunk(routed *x, cJSON **delta)
{
    cJSON *obj = api_object(x->s, "chat.completion.chunk", x->id);
    cJSON *choices = cJSON_AddArrayToObject(obj, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    *delta = cJSON_AddObjectToObject(c, "delta");
    cJSON_AddNullToObject(c, "finish_reason");
    return obj;
}

static bool send_delta(routed *x, const char *field, const char *text, size_t len)
{
    if (!x->j->stream) return !job_cancelled(x->j);
    cJSON *delta;
    cJSON *obj = chunk(x, &delta);
    cJSON_AddItemToObject(delta, field, api_string(text, len));
    bool ok = api_send_event(x->j, obj);
    cJSON_Delete(obj);
    return ok;
}

static bool on_step_begin(void *user, int index, glimp_role model, double h_init)
{
    routed *x = user;
    (void)model;
    (void)h_init;
    /* steps are separated by the delimiter in the reasoning text */
    if (index > 0) return send_delta(x, "reasoning_content", x->delimiter, strlen(x->delimiter));
    return !job_cancelled(x->j);
}

static bool on_piece(void *user, int index, glimp_role model, const char *piece, size_t len)
{
    routed *x = user;
    (void)model;
    return send_delta(x, index >= 0 ? "reasoning_content" : "content", piece, len);
}

static cJSON *number_or_null(double v) { return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v); }

static bool on_step_end(void *user, const glimp_step *step)
{
    routed *x = user;
    if (!x->j->stream) return !job_cancelled(x->j);
    cJSON *delta;
    cJSON *obj = chunk(x, &delta);
    cJSON *g = cJSON_AddObjectToObject(obj, "glimp");
    cJSON_AddNumberToObject(g, "step", step->index);
    cJSON_AddStringToObject(g, "model", glimp_role_name(step->model));
    cJSON_AddItemToObject(g, "h_init", number_or_null(step->h_init_topk));
    cJSON_AddNumberToObject(g, "tokens", step->n_tokens);
    bool ok = api_send_event(x->j, obj);
    cJSON_Delete(obj);
    return ok;
}

static bool on_answer_begin(void *user, glimp_role model)
{
    routed *x = user;
    (void)model;
    return !job_cancelled(x->j);
}

/* system messages + last user message -> the question (malloc'd). */
static char *question_of(const api_request *r)
{
    size_t len = 1;
    int last_user = -1;
    for (int i = 0; i < r->n_msgs; i++) {
        if (!strcmp(r->msgs[i].role, "user")) last_user = i;
        len += strlen(r->msgs[i].content) + 2;
    }
    if (last_user < 0) return NULL;
    char *q = malloc(len), *o = q;
    if (!q) return NULL;
    for (int i = 0; i < r->n_msgs; i++)
        if (!strcmp(r->msgs[i].role, "system")) o += sprintf(o, "%s\n\n", r->msgs[i].content);
    strcpy(o, r->msgs[last_user].content);
    return q;
}

static cJSON *usage_json(const glimp_router_result *res)
{
    cJSON *u = cJSON_CreateObject();
    int gen = res->tokens_by[0] + res->tokens_by[1];
    cJSON_AddNumberToObject(u, "prompt_tokens", 0);
    cJSON_AddNumberToObject(u, "completion_tokens", gen);
    cJSON_AddNumberToObject(u, "total_tokens", gen);
    return u;
}

static cJSON *summary_json(const glimp_router_result *res)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddNumberToObject(g, "steps_slm", res->steps_by[GLIMP_ROLE_SLM]);
    cJSON_AddNumberToObject(g, "steps_llm", res->steps_by[GLIMP_ROLE_LLM]);
    cJSON_AddNumberToObject(g, "tokens_slm", res->tokens_by[GLIMP_ROLE_SLM]);
    cJSON_AddNumberToObject(g, "tokens_llm", res->tokens_by[GLIMP_ROLE_LLM]);
    cJSON_AddNumberToObject(g, "llm_step_share", res->llm_step_share);
    cJSON_AddStringToObject(g, "think_end", glimp_think_end_name(res->think_end));
    return g;
}

static const char *finish_of(const glimp_router_result *res)
{
    return res->answer_tokens >= res->params.final_max_tokens ? "length" : "stop";
}

static void answer_whole(routed *x, const glimp_router_result *res)
{
    size_t len = 1;
    for (int i = 0; i < res->n_steps; i++) len += strlen(res->steps[i].text) + strlen(x->delimiter);
    char *thinking = malloc(len), *o = thinking;
    cJSON *obj = api_object(x->s, "chat.completion", x->id);
    if (thinking) {
        *o = '\0';
        for (int i = 0; i < res->n_steps; i++)
            o += sprintf(o, "%s%s", i ? x->delimiter : "", res->steps[i].text);
    }
    cJSON *choices = cJSON_AddArrayToObject(obj, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON *m = cJSON_AddObjectToObject(c, "message");
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddItemToObject(m, "reasoning_content", api_string(thinking ? thinking : "",
                                                             thinking ? strlen(thinking) : 0));
    cJSON_AddItemToObject(m, "content", api_string(res->answer ? res->answer : "",
                                                   res->answer ? strlen(res->answer) : 0));
    cJSON_AddStringToObject(c, "finish_reason", finish_of(res));
    cJSON_AddItemToObject(obj, "usage", usage_json(res));
    char *trace = glimp_router_result_json(res);
    cJSON *t = trace ? cJSON_Parse(trace) : NULL;
    free(trace);
    cJSON *g = summary_json(res);
    if (t) cJSON_AddItemToObject(g, "trace", t);
    cJSON_AddItemToObject(obj, "glimp", g);
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    free(thinking);
    if (s && job_write(x->j, s, strlen(s))) job_finish(x->j, 200);
    else job_finish(x->j, 500);
    free(s);
}

static void answer_end(routed *x, const glimp_router_result *res)
{
    cJSON *delta;
    cJSON *obj = chunk(x, &delta);
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(obj, "choices"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "finish_reason", cJSON_CreateString(finish_of(res)));
    cJSON_AddItemToObject(obj, "usage", usage_json(res));
    cJSON_AddItemToObject(obj, "glimp", summary_json(res));
    if (api_send_event(x->j, obj)) api_send_done(x->j);
    cJSON_Delete(obj);
    job_finish(x->j, 200);
}

static void fail(routed *x, int status, const char *msg)
{
    api_fail(x->j, status, status == 400 ? "invalid_request_error" : "server_error", NULL, msg);
}

void routed_run(serve_server *s, serve_slot *slot, serve_job *j, const api_request *r)
{
    routed x = {.s = s, .j = j, .delimiter = s->p.router.delimiter};
    pthread_mutex_lock(&s->mu);
    x.id = ++s->next_id;
    pthread_mutex_unlock(&s->mu);
    char *question = question_of(r);
    if (!question) {
        fail(&x, 400, "the conversation has no user message");
        return;
    }
    glimp_router_params rp = s->p.router;
    rp.temperature = r->temperature;
    rp.top_p = r->top_p;
    rp.seed = r->seed;
    rp.final_max_tokens = r->max_tokens;
    glimp_error err = {0};
    glimp_router *router = glimp_router_create(slot->slm, slot->llm, &rp, &err);
    glimp_router_callbacks cb = {.user = &x, .on_step_begin = on_step_begin,
                                 .on_piece = on_piece, .on_step_end = on_step_end,
                                 .on_answer_begin = on_answer_begin};
    glimp_router_result *res = NULL;
    bool ok = router != NULL;
    if (ok && j->stream) {
        cJSON *delta;
        cJSON *obj = chunk(&x, &delta);
        cJSON_AddStringToObject(delta, "role", "assistant");
        ok = api_send_event(j, obj);
        cJSON_Delete(obj);
    }
    glimp_status st = ok ? glimp_router_run(router, question, &cb, &res, &err)
                         : GLIMP_ERR_CANCELLED;
    if (!router) fail(&x, 500, err.msg);
    else if (st == GLIMP_OK) {
        metrics_tokens(&s->metrics, GLIMP_ROLE_SLM, res->tokens_by[GLIMP_ROLE_SLM], 0, 0);
        metrics_tokens(&s->metrics, GLIMP_ROLE_LLM, res->tokens_by[GLIMP_ROLE_LLM], 0, 0);
        metrics_steps(&s->metrics, res->steps_by);
        if (j->stream) answer_end(&x, res);
        else answer_whole(&x, res);
    } else if (!job_cancelled(j)) {
        fail(&x, 500, err.msg);
    }
    glimp_router_result_free(res);
    glimp_router_free(router);
    free(question);
}
