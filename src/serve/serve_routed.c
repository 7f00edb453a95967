/* serve_routed.c - /v1/chat/completions of the routed pair (model
 * "glimprouter"): the router's thinking steps come back as
 * reasoning_content (the DeepSeek / vLLM reasoning-parser convention), the
 * final answer as content, and what standard clients do not know under
 * "glimp": per-step writer, H_init and tokens while streaming, the whole
 * trace (glimp_router_result_json) in a non-streamed answer.
 *
 * The question is the last user message, preceded by any system messages;
 * earlier turns are not part of a routed run. Per-request temperature,
 * top_p, seed, max_tokens (the final answer's budget) and stop (strings that
 * end the final answer, not the thinking) override the server's router
 * parameters. finish_reason is "stop" for a stop string (named in
 * stop_reason, as vLLM does) or the end of the turn, "length" when the
 * answer ran out of max_tokens or of context. usage.prompt_tokens counts
 * the prompt tokens both models evaluated (the question, and each model
 * reading the steps the other wrote; what a slot's cache already held is
 * not counted); completion_tokens every thinking and answer token;
 * total_tokens their sum.
 *
 * Failure: a question the models' context cannot hold with its answer is a
 * 400 (context_length_exceeded), other router errors a 500; when streaming,
 * an error event (the role chunk is sent with the first output, so a run
 * that fails before any is an error event alone, as single-model streams
 * are). A client that goes away cancels the run through the router's
 * callbacks; the tokens generated until then still count in /metrics.
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
    const api_request *r;
    bool started;        /* the role chunk is out (streaming) */
    bool delimiter_due;  /* a step after the first began: its delimiter comes with its output */
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

/* The first chunk names the role; it goes out with the first output. */
static bool start(routed *x)
{
    if (x->started) return true;
    x->started = true;
    cJSON *delta;
    cJSON *obj = chunk(x, &delta);
    cJSON_AddStringToObject(delta, "role", "assistant");
    bool ok = api_send_event(x->j, obj);
    cJSON_Delete(obj);
    return ok;
}

static bool send_delta(routed *x, const char *field, const char *text, size_t len)
{
    if (!x->j->stream) return !job_cancelled(x->j);
    if (!start(x)) return false;
    cJSON *delta;
    cJSON *obj = chunk(x, &delta);
    cJSON_AddItemToObject(delta, field, api_string(text, len));
    bool ok = api_send_event(x->j, obj);
    cJSON_Delete(obj);
    return ok;
}

/* Steps are separated by the delimiter in the reasoning text. It is sent
 * with the step's first output, so a step the router drops (no room left in
 * a context) leaves no trace in the stream. */
static bool flush_delimiter(routed *x)
{
    if (!x->delimiter_due) return true;
    x->delimiter_due = false;
    return send_delta(x, "reasoning_content", x->delimiter, strlen(x->delimiter));
}

static bool on_step_begin(void *user, int index, glimp_role model, double h_init)
{
    routed *x = user;
    (void)model;
    (void)h_init;
    x->delimiter_due = index > 0;
    return !job_cancelled(x->j);
}

static bool on_piece(void *user, int index, glimp_role model, const char *piece, size_t len)
{
    routed *x = user;
    (void)model;
    if (index >= 0 && !flush_delimiter(x)) return false;
    return send_delta(x, index >= 0 ? "reasoning_content" : "content", piece, len);
}

static cJSON *number_or_null(double v) { return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v); }

static bool on_step_end(void *user, const glimp_step *step)
{
    routed *x = user;
    if (!x->j->stream) return !job_cancelled(x->j);
    if (!flush_delimiter(x) || !start(x)) return false;
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

/* Prompt tokens `role` evaluated in the run (steps, judge and answer). */
static int prefill_by(const glimp_router_result *res, glimp_role role)
{
    int n = 0;
    for (int i = 0; i < res->n_steps; i++)
        n += role == GLIMP_ROLE_SLM ? res->steps[i].prefill_slm : res->steps[i].prefill_llm;
    if (res->answer && res->answer_model == role) n += res->answer_prefill;
    return n;
}

static cJSON *usage_json(const glimp_router_result *res)
{
    cJSON *u = cJSON_CreateObject();
    int prompt = prefill_by(res, GLIMP_ROLE_SLM) + prefill_by(res, GLIMP_ROLE_LLM);
    int gen = res->tokens_by[0] + res->tokens_by[1];
    cJSON_AddNumberToObject(u, "prompt_tokens", prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", gen);
    cJSON_AddNumberToObject(u, "total_tokens", prompt + gen);
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

static void add_finish(routed *x, cJSON *choice, const glimp_router_result *res)
{
    bool stopped = res->answer_stop == GLIMP_STOP_STRING || res->answer_stop == GLIMP_STOP_EOS;
    cJSON_ReplaceItemInObjectCaseSensitive(choice, "finish_reason",
                                           cJSON_CreateString(stopped ? "stop" : "length"));
    if (res->answer_stop == GLIMP_STOP_STRING)
        cJSON_AddStringToObject(choice, "stop_reason", x->r->stop[res->answer_stop_index]);
    else
        cJSON_AddNullToObject(choice, "stop_reason");
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
    cJSON_AddNullToObject(c, "finish_reason");
    add_finish(x, c, res);
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
    add_finish(x, c, res);
    cJSON_AddItemToObject(obj, "usage", usage_json(res));
    cJSON_AddItemToObject(obj, "glimp", summary_json(res));
    if (start(x) && api_send_event(x->j, obj)) api_send_done(x->j);
    cJSON_Delete(obj);
    job_finish(x->j, 200);
}

static void fail(routed *x, int status, const char *code, const char *msg)
{
    api_fail(x->j, status, status == 400 ? "invalid_request_error" : "server_error", code, msg);
}

/* Tokens of a finished or cancelled run into /metrics. */
static void count_tokens(serve_server *s, const glimp_router_result *res)
{
    for (int role = GLIMP_ROLE_SLM; role <= GLIMP_ROLE_LLM; role++) {
        int prefill = prefill_by(res, (glimp_role)role);
        metrics_tokens(&s->metrics, (glimp_role)role, res->tokens_by[role], prefill, prefill);
    }
    metrics_steps(&s->metrics, res->steps_by);
    metrics_spec(&s->metrics, res->spec_drafted, res->spec_accepted);
}

void routed_run(serve_server *s, serve_slot *slot, serve_job *j, const api_request *r)
{
    routed x = {.s = s, .j = j, .delimiter = s->p.router.delimiter, .r = r};
    pthread_mutex_lock(&s->mu);
    x.id = ++s->next_id;
    pthread_mutex_unlock(&s->mu);
    char *question = question_of(r);
    if (!question) {
        fail(&x, 400, NULL, "the conversation has no user message");
        return;
    }
    glimp_router_params rp = s->p.router;
    rp.temperature = r->temperature;
    rp.top_p = r->top_p;
    rp.seed = r->seed;
    rp.final_max_tokens = r->max_tokens;
    rp.stop = r->stop;
    rp.n_stop = r->n_stop;
    glimp_error err = {0};
    glimp_router *router = glimp_router_create(slot->slm, slot->llm, &rp, &err);
    glimp_router_callbacks cb = {.user = &x, .on_step_begin = on_step_begin,
                                 .on_piece = on_piece, .on_step_end = on_step_end,
                                 .on_answer_begin = on_answer_begin};
    glimp_router_result *res = NULL;
    glimp_status st = router ? glimp_router_run(router, question, &cb, &res, &err) : err.status;
    if (res) count_tokens(s, res);
    if (st == GLIMP_OK) {
        if (j->stream) answer_end(&x, res);
        else answer_whole(&x, res);
    } else if (st == GLIMP_ERR_RANGE) {
        fail(&x, 400, "context_length_exceeded", err.msg);
    } else if (!job_cancelled(j)) {
        fail(&x, 500, NULL, err.msg);
    }
    glimp_router_result_free(res);
    glimp_router_free(router);
    free(question);
}
