/* openai.c - the remote backend: OpenAI-compatible /v1/completions over HTTP
 * (see include/glimp.h, "The remote backend").
 *
 * render  = our chat template (text only, no tokenizer);
 * probe   = max_tokens 1 with top-K logprobs, not streamed;
 * generate= streamed completion with logprobs; the first token's
 *           distribution goes to the first-token hook (or, with
 *           probe_separate, a probe request comes first); stop strings are
 *           matched on the streamed text and end the transfer;
 * score   = echo of prompt + continuation with prompt logprobs.
 *
 * Failure: GLIMP_ERR_HTTP / GLIMP_ERR_TIMEOUT from the transport (the
 * message names the URL), GLIMP_ERR_JSON when the server answers something
 * that is not a completion (the message names the server and quotes the
 * problem), GLIMP_ERR_CANCELLED when a piece callback declines.
 */
#include "backend/backend_impl.h"
#include "backend/http_client.h"
#include "backend/openai_logprobs.h"
#include "backend/sse.h"
#include "backend/stop_match.h"

#include "base/error.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest SSE line or event we accept (one token's chunk is ~2 KiB). */
#define OAI_MAX_EVENT (1u << 20)

typedef struct oai_backend {
    char *url;       /* .../v1/completions */
    char *model;
    char *api_key;   /* NULL when none */
    const glimp_template *tmpl;
    bool probe_separate;
    http_client *http;
} oai_backend;

glimp_openai_params glimp_openai_default_params(void)
{
    glimp_openai_params p;
    memset(&p, 0, sizeof p);
    p.api_key_env = "OPENAI_API_KEY";
    p.connect_timeout_ms = 10000;
    p.timeout_ms = 600000;
    p.max_retries = 2;
    p.retry_backoff_ms = 250;
    return p;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct req_opts {
    const char *prompt;
    int max_tokens;
    float temperature, top_p;
    uint64_t seed;
    int logprobs; /* top-K per token; 0 = none */
    bool stream;
    bool echo;
} req_opts;

static char *request_json(const oai_backend *b, const req_opts *o, glimp_error *err)
{
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "model", b->model) &&
              cJSON_AddStringToObject(j, "prompt", o->prompt) &&
              cJSON_AddNumberToObject(j, "max_tokens", o->max_tokens) &&
              cJSON_AddNumberToObject(j, "temperature", o->temperature) &&
              cJSON_AddNumberToObject(j, "top_p", o->top_p) &&
              /* 31 bits: exact in JSON, and in every server's seed type
               * (llama.cpp: uint32 with 0xFFFFFFFF = random; vLLM: int64) */
              cJSON_AddNumberToObject(j, "seed", (double)(o->seed & 0x7FFFFFFFu)) &&
              cJSON_AddBoolToObject(j, "stream", o->stream);
    if (ok && o->logprobs > 0) ok = cJSON_AddNumberToObject(j, "logprobs", o->logprobs) != NULL;
    if (ok && o->echo) ok = cJSON_AddBoolToObject(j, "echo", true) != NULL;
    if (ok && o->stream) {
        cJSON *so = cJSON_AddObjectToObject(j, "stream_options");
        /* vLLM's continuous_usage_stats puts usage in every chunk: the
         * prefill count survives an early close */
        ok = so && cJSON_AddBoolToObject(so, "include_usage", true) &&
             cJSON_AddBoolToObject(so, "continuous_usage_stats", true);
    }
    char *s = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!s) glimp_error_set(err, GLIMP_ERR_NOMEM, "openai: out of memory");
    return s;
}

/* The server's own error object, when it sent one in a 200 answer or event. */
static glimp_status server_error(const oai_backend *b, const cJSON *j, glimp_error *err)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (!e) return GLIMP_OK;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const char *msg = cJSON_IsString(m) ? m->valuestring : cJSON_IsString(e) ? e->valuestring : "?";
    return glimp_error_set(err, GLIMP_ERR_HTTP, "openai: %s reported an error: %.300s", b->url, msg);
}

/* choices[0] of a completion object. */
static glimp_status first_choice(const oai_backend *b, const cJSON *j, const cJSON **choice,
                                 glimp_error *err)
{
    glimp_status st = server_error(b, j, err);
    if (st != GLIMP_OK) return st;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    *choice = cJSON_GetArrayItem(choices, 0);
    if (!cJSON_IsArray(choices) || (cJSON_GetArraySize(choices) > 0 && !cJSON_IsObject(*choice)))
        return glimp_error_set(err, GLIMP_ERR_JSON,
                               "openai: %s answered without a \"choices\" array: not a "
                               "completions endpoint?", b->url);
    return GLIMP_OK;
}

/* Prompt tokens the server evaluated: llama.cpp's timings.prompt_n, else
 * usage.prompt_tokens minus prompt_tokens_details.cached_tokens. -1 when the
 * object has neither. */
static int prefill_of(const cJSON *j)
{
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "timings"), "prompt_n");
    if (cJSON_IsNumber(pn)) return (int)pn->valuedouble;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
    if (!cJSON_IsNumber(pt)) return -1;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"), "cached_tokens");
    return (int)pt->valuedouble - (cJSON_IsNumber(ct) ? (int)ct->valuedouble : 0);
}

/* POSTs a non-streamed request and parses the answer. */
static glimp_status post_whole(oai_backend *b, const req_opts *o, cJSON **out, glimp_error *err)
{
    *out = NULL;
    char *body = request_json(b, o, err);
    if (!body) return GLIMP_ERR_NOMEM;
    http_response resp;
    glimp_status st = http_client_post_json(b->http, b->url, b->api_key, body, NULL, NULL, &resp,
                                            err);
    free(body);
    if (st != GLIMP_OK) return st;
    *out = cJSON_ParseWithLength(resp.body, resp.len);
    if (!*out) {
        char quote[64];
        snprintf(quote, sizeof quote, "%.60s", resp.body);
        for (char *q = quote; *q; q++)
            if ((unsigned char)*q < 0x20) *q = '.';
        http_response_clear(&resp);
        return glimp_error_set(err, GLIMP_ERR_JSON, "openai: %s answered non-JSON: \"%s\"",
                               b->url, quote);
    }
    http_response_clear(&resp);
    return GLIMP_OK;
}

/* ---- render / probe -------------------------------------------------------- */

static glimp_status oai_render(void *impl, const char *question, const char *const *steps,
                               int n_steps, glimp_template_phase phase, char **prompt,
                               glimp_error *err)
{
    oai_backend *b = impl;
    *prompt = glimp_template_render(b->tmpl, question, steps, n_steps, phase, err);
    return *prompt ? GLIMP_OK : (err ? err->status : GLIMP_ERR_NOMEM);
}

/* Distribution of the first generated token of a whole (non-streamed)
 * completion answer. */
static glimp_status first_dist(const oai_backend *b, const cJSON *choice, int top,
                               oai_token *tok, glimp_error *err)
{
    oai_logprob_shape shape;
    int n = 0;
    glimp_status st = oai_logprobs_shape(cJSON_GetObjectItemCaseSensitive(choice, "logprobs"),
                                         &shape, &n, err);
    if (st == GLIMP_OK && n < 1)
        st = glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                             "openai: %s returned no logprobs (the server must support "
                             "\"logprobs\" on /v1/completions)", b->url);
    if (st == GLIMP_OK)
        st = oai_logprobs_token(cJSON_GetObjectItemCaseSensitive(choice, "logprobs"), shape, 0,
                                top, tok, err);
    if (st == GLIMP_OK && tok->dist.n_top < 1)
        st = glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                             "openai: %s returned no top logprobs for the first token", b->url);
    if (st != GLIMP_OK) glimp_error_prefix(err, "openai: %s", b->model);
    return st;
}

static glimp_status probe_request(oai_backend *b, const char *prompt, const req_opts *base,
                                  int top, oai_token *tok, int *prefill, glimp_error *err)
{
    req_opts o = *base;
    o.prompt = prompt;
    o.max_tokens = 1;
    o.logprobs = top;
    o.stream = false;
    cJSON *j = NULL;
    glimp_status st = post_whole(b, &o, &j, err);
    const cJSON *choice = NULL;
    if (st == GLIMP_OK) st = first_choice(b, j, &choice, err);
    if (st == GLIMP_OK && !choice)
        st = glimp_error_set(err, GLIMP_ERR_JSON, "openai: %s answered an empty choices array",
                             b->url);
    if (st == GLIMP_OK) st = first_dist(b, choice, top, tok, err);
    if (st == GLIMP_OK && prefill) {
        int p = prefill_of(j);
        *prefill = p > 0 ? p : 0;
    }
    cJSON_Delete(j);
    return st;
}

static glimp_status oai_probe(void *impl, const char *prompt, int top, glimp_token_dist *dist,
                              int *prefill_tokens, glimp_error *err)
{
    req_opts o = {.temperature = 1.0f, .top_p = 1.0f};
    oai_token tok;
    glimp_status st = probe_request(impl, prompt, &o, top, &tok, prefill_tokens, err);
    if (st == GLIMP_OK) *dist = tok.dist;
    return st;
}

/* ---- generate ---------------------------------------------------------------- */

/* State of one streamed generation, fed by SSE events. */
typedef struct gen_stream {
    oai_backend *b;
    const glimp_gen_params *p;
    glimp_gen_result *r;
    stop_match stops;
    double t0;
    bool hook;          /* call p->on_first with the first token */
    bool saw_first;     /* the first token's distribution was handled */
    bool done;          /* [DONE], a stop string, max_tokens or EOS */
    bool aborted;       /* the hook declined */
    bool cancelled;     /* a piece callback declined */
    bool finished_eos;  /* finish_reason "stop" from the server */
    bool finished_len;  /* finish_reason "length" */
    int prefill;        /* -1 until the usage chunk */
    sse_parser sse;
    glimp_status st;    /* first error inside a callback */
    glimp_error *err;
} gen_stream;

static bool emit_final(gen_stream *g, bool at_end)
{
    size_t fin = stop_match_final_len(&g->stops, at_end);
    if (fin > g->stops.emitted && g->p->on_piece &&
        !g->p->on_piece(g->p->user, g->stops.text + g->stops.emitted, fin - g->stops.emitted)) {
        g->cancelled = true;
        return false;
    }
    g->stops.emitted = fin;
    return true;
}

/* One token of logprobs: counts, sums, and the first-token hook. */
static bool on_token(gen_stream *g, const oai_token *t)
{
    glimp_gen_result *r = g->r;
    r->n_tokens++;
    if (!isnan(t->logprob)) r->sum_logprob += t->logprob;
    if (!isnan(t->dist.entropy_topk)) r->sum_entropy += t->dist.entropy_topk;
    if (g->saw_first) return true;
    g->saw_first = true;
    r->first = t->dist;
    r->probe_ms = backend_now_ms() - g->t0;
    if (g->hook) {
        if (t->dist.n_top < 1) {
            g->st = glimp_error_set(g->err, GLIMP_ERR_UNSUPPORTED,
                                    "openai: %s streamed no top logprobs for the first token",
                                    g->b->url);
            return false;
        }
        if (!g->p->on_first(g->p->user, &t->dist)) {
            g->aborted = true;
            return false;
        }
    }
    r->first_id = t->id;
    backend_copy_token_text(r->first_text, t->text, strlen(t->text));
    return true;
}

static bool fail_event(gen_stream *g, glimp_status st)
{
    g->st = st;
    return false;
}

/* One chunk: {"choices":[{"text":..., "logprobs":..., "finish_reason":...}], "usage":...} */
static bool on_event(void *user, const char *data, size_t len)
{
    gen_stream *g = user;
    if (g->done) return true; /* after [DONE]: let the transfer end cleanly */
    if (len == 6 && !memcmp(data, "[DONE]", 6)) {
        g->done = true;
        return true;
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!j)
        return fail_event(g, glimp_error_set(g->err, GLIMP_ERR_JSON,
                                             "openai: %s streamed a non-JSON event: \"%.60s\"",
                                             g->b->url, data));
    const cJSON *choice = NULL;
    glimp_status st = first_choice(g->b, j, &choice, g->err);
    int pf = prefill_of(j);
    if (pf >= 0) g->prefill = pf;
    if (st != GLIMP_OK || !choice) { /* usage-only chunk, or an error */
        cJSON_Delete(j);
        return st == GLIMP_OK ? true : fail_event(g, st);
    }
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(choice, "logprobs");
    oai_logprob_shape shape;
    int n = 0;
    st = oai_logprobs_shape(lp, &shape, &n, g->err);
    for (int i = 0; st == GLIMP_OK && i < n && !g->aborted; i++) {
        oai_token t;
        st = oai_logprobs_token(lp, shape, i, g->p->probe_top, &t, g->err);
        if (st == GLIMP_OK && !on_token(g, &t)) break;
    }
    if (st == GLIMP_OK && n == 0 && g->hook && !g->saw_first) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(choice, "text");
        if (cJSON_IsString(text) && text->valuestring[0])
            st = glimp_error_set(g->err, GLIMP_ERR_UNSUPPORTED,
                                 "openai: %s streamed text without logprobs (the server must "
                                 "support \"logprobs\" with \"stream\")", g->b->url);
    }
    if (st != GLIMP_OK || g->st != GLIMP_OK || g->aborted) {
        cJSON_Delete(j);
        return st != GLIMP_OK ? fail_event(g, st) : false;
    }
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(choice, "text");
    if (text && !cJSON_IsString(text) && !cJSON_IsNull(text)) {
        cJSON_Delete(j);
        return fail_event(g, glimp_error_set(g->err, GLIMP_ERR_JSON,
                                             "openai: %s streamed a chunk whose \"text\" is not "
                                             "a string", g->b->url));
    }
    if (cJSON_IsString(text)) {
        st = stop_match_push(&g->stops, text->valuestring, strlen(text->valuestring), g->err);
        if (st != GLIMP_OK) {
            cJSON_Delete(j);
            return fail_event(g, st);
        }
    }
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    if (cJSON_IsString(fr)) {
        g->finished_len = !strcmp(fr->valuestring, "length");
        g->finished_eos = !g->finished_len;
    }
    cJSON_Delete(j);
    if (g->stops.hit >= 0 || g->r->n_tokens >= g->p->max_tokens) g->done = true;
    if (!emit_final(g, g->done)) return false;
    /* close the connection only when the server would go on generating */
    return !g->done || g->finished_eos || g->finished_len;
}

static bool on_bytes(void *user, const char *data, size_t len)
{
    gen_stream *g = user;
    glimp_status st = sse_feed(&g->sse, data, len, g->err);
    if (st == GLIMP_ERR_CANCELLED) return false; /* on_event stopped; reason in g */
    if (st != GLIMP_OK) {
        g->st = st;
        return false;
    }
    return true;
}

static glimp_status stream_request(oai_backend *b, const char *prompt, const glimp_gen_params *p,
                                   bool hook, glimp_gen_result *r, glimp_error *err)
{
    req_opts o = {.prompt = prompt, .max_tokens = p->max_tokens, .temperature = p->temperature,
                  .top_p = p->top_p, .seed = p->seed, .logprobs = p->probe_top, .stream = true};
    char *body = request_json(b, &o, err);
    if (!body) return GLIMP_ERR_NOMEM;
    gen_stream g = {.b = b, .p = p, .r = r, .t0 = backend_now_ms(), .hook = hook,
                    .prefill = -1, .st = GLIMP_OK, .err = err};
    stop_match_init(&g.stops, p->stop, p->n_stop);
    sse_init(&g.sse, OAI_MAX_EVENT, on_event, &g);
    http_response resp;
    glimp_status st = http_client_post_json(b->http, b->url, b->api_key, body, on_bytes, &g,
                                            &resp, err);
    free(body);
    if (st == GLIMP_OK && !resp.stopped) {
        /* the server closed the stream: flush a last event without blank line */
        glimp_status fs = sse_finish(&g.sse, err);
        if (fs != GLIMP_OK && fs != GLIMP_ERR_CANCELLED) st = fs;
    }
    if (st == GLIMP_OK) st = g.st;
    if (st == GLIMP_OK && g.cancelled)
        st = glimp_error_set(err, GLIMP_ERR_CANCELLED, "openai: cancelled by the caller");
    if (st == GLIMP_OK && !g.aborted && !g.done && !g.finished_eos && !g.finished_len)
        st = glimp_error_set(err, GLIMP_ERR_HTTP,
                             "openai: %s ended the stream before the completion finished "
                             "(%d tokens received)", b->url, r->n_tokens);
    if (st == GLIMP_OK && !g.aborted) {
        if (!emit_final(&g, true))
            st = glimp_error_set(err, GLIMP_ERR_CANCELLED, "openai: cancelled by the caller");
    }
    if (st == GLIMP_OK) {
        if (g.aborted) {
            r->stop = GLIMP_STOP_ABORTED;
            r->first_id = -1;
            r->first_text[0] = '\0';
            stop_match_free(&g.stops);
            stop_match_init(&g.stops, NULL, 0);
        } else if (g.stops.hit >= 0) {
            r->stop = GLIMP_STOP_STRING;
            r->stop_index = g.stops.hit;
        } else if (g.finished_eos) {
            r->stop = GLIMP_STOP_EOS;
        } else {
            r->stop = GLIMP_STOP_MAX_TOKENS;
        }
        r->prefill_tokens = g.prefill > 0 ? g.prefill : 0;
        r->text = stop_match_take(&g.stops, err);
        if (!r->text) st = GLIMP_ERR_NOMEM;
        else r->len = strlen(r->text);
    }
    sse_free(&g.sse);
    stop_match_free(&g.stops);
    return st;
}

static glimp_status oai_generate(void *impl, const char *prompt, const glimp_gen_params *params,
                                 glimp_gen_result *result, glimp_error *err)
{
    oai_backend *b = impl;
    if (!b->probe_separate || !params->on_first)
        return stream_request(b, prompt, params, params->on_first != NULL, result, err);
    /* published behaviour: a max_tokens 1 probe, then the step request */
    double t0 = backend_now_ms();
    req_opts o = {.temperature = params->temperature, .top_p = params->top_p,
                  .seed = params->seed};
    oai_token tok;
    int prefill = 0;
    glimp_status st = probe_request(b, prompt, &o, params->probe_top, &tok, &prefill, err);
    if (st != GLIMP_OK) return st;
    double probe_ms = backend_now_ms() - t0;
    if (!params->on_first(params->user, &tok.dist)) {
        result->first = tok.dist;
        result->probe_ms = probe_ms;
        result->prefill_tokens = prefill;
        result->stop = GLIMP_STOP_ABORTED;
        result->text = strdup("");
        if (!result->text) return glimp_error_set(err, GLIMP_ERR_NOMEM, "openai: out of memory");
        return GLIMP_OK;
    }
    st = stream_request(b, prompt, params, false, result, err);
    if (st != GLIMP_OK) return st;
    result->first = tok.dist; /* the decision's distribution (equal under a fixed seed) */
    result->probe_ms = probe_ms;
    result->prefill_tokens += prefill;
    return GLIMP_OK;
}

/* ---- score ------------------------------------------------------------------ */

static glimp_status oai_score(void *impl, const char *prompt, const char *continuation,
                              glimp_score_result *result, glimp_error *err)
{
    oai_backend *b = impl;
    size_t np = strlen(prompt), nc = strlen(continuation);
    char *full = malloc(np + nc + 1);
    if (!full) return glimp_error_set(err, GLIMP_ERR_NOMEM, "openai: out of memory");
    memcpy(full, prompt, np);
    memcpy(full + np, continuation, nc + 1);
    req_opts o = {.prompt = full, .max_tokens = 1, .temperature = 1.0f, .top_p = 1.0f,
                  .logprobs = 1, .echo = true};
    cJSON *j = NULL;
    glimp_status st = post_whole(b, &o, &j, err);
    free(full);
    const cJSON *choice = NULL;
    if (st == GLIMP_OK) st = first_choice(b, j, &choice, err);
    const cJSON *lp = choice ? cJSON_GetObjectItemCaseSensitive(choice, "logprobs") : NULL;
    oai_logprob_shape shape = OAI_LOGPROBS_NONE;
    int n = 0;
    if (st == GLIMP_OK) st = oai_logprobs_shape(lp, &shape, &n, err);
    if (st == GLIMP_OK && shape != OAI_LOGPROBS_LEGACY)
        st = glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                             "openai: %s gave no prompt logprobs with \"echo\" (score needs a "
                             "server such as vLLM or SGLang)", b->url);
    /* the echoed prompt tokens come first; the generated one is last */
    for (int i = 0; st == GLIMP_OK && i < n - 1; i++) {
        oai_token t;
        st = oai_logprobs_token(lp, shape, i, 1, &t, err);
        if (st != GLIMP_OK) break;
        if (t.text_offset < 0)
            st = glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                                 "openai: %s gave no text_offset with \"echo\"", b->url);
        else if ((size_t)t.text_offset >= np && !isnan(t.logprob)) {
            result->logprob += t.logprob;
            result->n_tokens++;
        }
    }
    if (st == GLIMP_OK) {
        int pf = prefill_of(j);
        result->prefill_tokens = pf > 0 ? pf : 0;
    }
    cJSON_Delete(j);
    return st;
}

/* ---- lifetime --------------------------------------------------------------- */

static void oai_destroy(void *impl)
{
    oai_backend *b = impl;
    if (!b) return;
    http_client_free(b->http);
    free(b->url);
    free(b->model);
    free(b->api_key);
    free(b);
}

static const backend_ops oai_ops = {
    .render = oai_render,
    .probe = oai_probe,
    .generate = oai_generate,
    .score = oai_score,
    .destroy = oai_destroy,
};

/* base URL + "/v1/completions" ("/completions" when it already ends in /v1). */
static char *completions_url(const char *base)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') n--;
    bool has_v1 = n >= 3 && !memcmp(base + n - 3, "/v1", 3);
    const char *tail = has_v1 ? "/completions" : "/v1/completions";
    char *u = malloc(n + strlen(tail) + 1);
    if (!u) return NULL;
    memcpy(u, base, n);
    strcpy(u + n, tail);
    return u;
}

glimp_backend *glimp_backend_openai_create(const glimp_openai_params *params, glimp_error *err)
{
    if (!params || !params->base_url || !params->base_url[0] || !params->model ||
        !params->model[0]) {
        glimp_error_set(err, GLIMP_ERR_ARG, "openai: base URL and model name are required");
        return NULL;
    }
    if (strncmp(params->base_url, "http://", 7) && strncmp(params->base_url, "https://", 8)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "openai: URL '%s' must start with http:// or https://",
                        params->base_url);
        return NULL;
    }
    if (!params->template_name) {
        glimp_error_set(err, GLIMP_ERR_ARG,
                        "openai: a chat template name is required for %s (the server's model "
                        "family)", params->model);
        return NULL;
    }
    const glimp_template *t = glimp_template_by_name(params->template_name, err);
    if (!t) return NULL;
    if (params->connect_timeout_ms <= 0 || params->timeout_ms < 0 || params->max_retries < 0) {
        glimp_error_set(err, GLIMP_ERR_ARG, "openai: timeouts must be > 0 and retries >= 0");
        return NULL;
    }
    oai_backend *b = calloc(1, sizeof *b);
    if (!b) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "openai: out of memory");
        return NULL;
    }
    const char *key = params->api_key_env ? getenv(params->api_key_env) : NULL;
    http_client_params hp = {.connect_timeout_ms = params->connect_timeout_ms,
                             .timeout_ms = params->timeout_ms,
                             .max_retries = params->max_retries,
                             .backoff_ms = params->retry_backoff_ms};
    b->url = completions_url(params->base_url);
    b->model = strdup(params->model);
    b->api_key = key && key[0] ? strdup(key) : NULL;
    b->tmpl = t;
    b->probe_separate = params->probe_separate;
    if (!b->url || !b->model || (key && key[0] && !b->api_key)) {
        oai_destroy(b);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "openai: out of memory");
        return NULL;
    }
    b->http = http_client_create(&hp, err);
    if (!b->http) {
        oai_destroy(b);
        return NULL;
    }
    size_t n = strlen(params->model) + strlen(params->base_url) + 16;
    char *name = malloc(n);
    if (!name) {
        oai_destroy(b);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "openai: out of memory");
        return NULL;
    }
    snprintf(name, n, "openai:%s@%s", params->model, params->base_url);
    glimp_backend *be = backend_new(&oai_ops, b, name, err);
    free(name);
    return be;
}
