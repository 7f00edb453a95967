/* reward_prm.c - a process reward model served by vLLM's pooling API, the
 * prm kind of reward model (glimp.h "reward models", README "Reward
 * models").
 *
 * Request: POST BASE/pooling with
 *   {"model": M, "messages": [
 *     {"role": "system", "content": "Please reason step by step, and put
 *                                    your final answer within \boxed{}."},
 *     {"role": "user", "content": QUESTION},
 *     {"role": "assistant", "content": "STEP1<extra_0>STEP2<extra_0>...STEPn<extra_0>"}]}
 * so the server applies the PRM's own chat template and the step tag marks
 * where each step's reward is read (Qwen2.5-Math-PRM's convention).
 * Response: {"data": [{"index": 0, "object": "pooling", "data": D}], ...}
 * where D is one row per step tag ([[P(bad), P(good)], ...]) or a single
 * row of numbers; the score is the last number of the last row.
 *
 * Failure: HTTP errors from http_client (naming the URL); GLIMP_ERR_JSON
 * for an answer that is not JSON or has no finite score there; a server
 * error object is quoted.
 */
#include "backend/reward_impl.h"

#include "base/error.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char step_tag[] = "<extra_0>";
static const char system_text[] =
    "Please reason step by step, and put your final answer within \\boxed{}.";

/* BASE/pooling from "http://host:port", ".../" or ".../v1" (malloc'd). */
static char *pooling_url(const char *base)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') n--;
    if (n >= 3 && !memcmp(base + n - 3, "/v1", 3)) n -= 3;
    char *url = malloc(n + sizeof "/pooling");
    if (url) snprintf(url, n + sizeof "/pooling", "%.*s/pooling", (int)n, base);
    return url;
}

glimp_reward *glimp_reward_prm_create(const glimp_openai_params *params, glimp_error *err)
{
    if (!params || !params->base_url || !params->base_url[0] || !params->model ||
        !params->model[0]) {
        glimp_error_set(err, GLIMP_ERR_ARG, "reward: a process reward model needs a URL and a "
                        "model name");
        return NULL;
    }
    if (params->connect_timeout_ms <= 0 || params->timeout_ms < 0 || params->max_retries < 0) {
        glimp_error_set(err, GLIMP_ERR_ARG, "reward: timeouts must be > 0 and retries >= 0");
        return NULL;
    }
    glimp_reward *r = calloc(1, sizeof *r);
    if (!r) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "reward: out of memory");
        return NULL;
    }
    const char *key = params->api_key_env ? getenv(params->api_key_env) : NULL;
    r->url = pooling_url(params->base_url);
    r->model = strdup(params->model);
    r->api_key = key && key[0] ? strdup(key) : NULL;
    size_t n = strlen(params->model) + strlen(params->base_url) + 8;
    r->name = malloc(n);
    if (r->name) snprintf(r->name, n, "prm:%s@%s", params->model, params->base_url);
    if (!r->url || !r->model || !r->name || (key && key[0] && !r->api_key)) {
        glimp_reward_free(r);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "reward: out of memory");
        return NULL;
    }
    http_client_params hp = {.connect_timeout_ms = params->connect_timeout_ms,
                             .timeout_ms = params->timeout_ms,
                             .max_retries = params->max_retries,
                             .backoff_ms = params->retry_backoff_ms};
    r->http = http_client_create(&hp, err);
    if (!r->http) {
        glimp_reward_free(r);
        return NULL;
    }
    return r;
}

void reward_prm_destroy(glimp_reward *r)
{
    http_client_free(r->http);
    free(r->url);
    free(r->model);
    free(r->api_key);
}

static cJSON *message(const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    return m;
}

/* The request body (malloc'd), NULL when out of memory. */
static char *request_body(const glimp_reward *r, const char *question, const char *const *steps,
                          int n_steps)
{
    size_t len = 1;
    for (int i = 0; i < n_steps; i++) len += strlen(steps[i]) + sizeof step_tag - 1;
    char *answer = malloc(len), *o = answer;
    if (!answer) return NULL;
    for (int i = 0; i < n_steps; i++) {
        size_t n = strlen(steps[i]);
        memcpy(o, steps[i], n);
        memcpy(o + n, step_tag, sizeof step_tag - 1);
        o += n + sizeof step_tag - 1;
    }
    *o = '\0';
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", r->model);
    cJSON *msgs = cJSON_AddArrayToObject(root, "messages");
    cJSON_AddItemToArray(msgs, message("system", system_text));
    cJSON_AddItemToArray(msgs, message("user", question));
    cJSON_AddItemToArray(msgs, message("assistant", answer));
    free(answer);
    char *body = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return body;
}

/* The last number of the last row of data[0].data; false when absent. */
static bool score_of(const cJSON *root, double *score)
{
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "data"), 0);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(d, "data");
    int n = cJSON_GetArraySize(rows);
    if (!cJSON_IsArray(rows) || n == 0) return false;
    const cJSON *row = cJSON_GetArrayItem(rows, n - 1);
    if (!cJSON_IsArray(row)) row = rows;
    int k = cJSON_GetArraySize(row);
    const cJSON *v = k > 0 ? cJSON_GetArrayItem(row, k - 1) : NULL;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return false;
    *score = v->valuedouble;
    return true;
}

glimp_status reward_prm_score(glimp_reward *r, const char *question, const char *const *steps,
                              int n_steps, double *score, glimp_error *err)
{
    char *body = request_body(r, question, steps, n_steps);
    if (!body) return glimp_error_set(err, GLIMP_ERR_NOMEM, "reward: out of memory");
    http_response resp;
    glimp_status st = http_client_post_json(r->http, r->url, r->api_key, body, NULL, NULL, &resp,
                                            err);
    free(body);
    if (st != GLIMP_OK) return st;
    cJSON *root = cJSON_ParseWithLength(resp.body, resp.len);
    char quote[64];
    snprintf(quote, sizeof quote, "%.60s", resp.body ? resp.body : "");
    for (char *q = quote; *q; q++)
        if ((unsigned char)*q < 0x20) *q = '.';
    http_response_clear(&resp);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (!root)
        st = glimp_error_set(err, GLIMP_ERR_JSON, "reward: %s answered non-JSON: \"%s\"", r->url,
                             quote);
    else if (e)
        st = glimp_error_set(err, GLIMP_ERR_HTTP, "reward: %s reported an error: %.300s", r->url,
                             cJSON_IsString(msg) ? msg->valuestring
                             : cJSON_IsString(e) ? e->valuestring : "?");
    else if (!score_of(root, score))
        st = glimp_error_set(err, GLIMP_ERR_JSON, "reward: %s answered without a score (a "
                             "number at data[0].data[-1][-1]): \"%s\": not a pooling endpoint "
                             "of a reward model?", r->url, quote);
    cJSON_Delete(root);
    return st;
}
