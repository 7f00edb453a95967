/* eval_trace.c - reading the router's JSON trace (glimp_router_result_json):
 *   {"params":{"entropy":"topk:20"|"exact",...},
 *    "steps":[{"model":"slm"|"llm","h_init":{"topk":x|null,"exact":x|null},
 *              "n_tokens":n,...}...],
 *    "answer":{"model","text","n_tokens",...},
 *    "totals":{"n_steps","steps":{"slm","llm"},"tokens":{"slm","llm"},...}}
 * A trace missing "answer.text", "steps" or "totals.tokens" is
 * GLIMP_ERR_JSON; unknown fields are ignored.
 */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

static const cJSON *path2(const cJSON *o, const char *a, const char *b)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
}

static bool get_long(const cJSON *v, long *out)
{
    if (!cJSON_IsNumber(v)) return false;
    *out = (long)v->valuedouble;
    return true;
}

glimp_status eval_trace_read(const cJSON *trace, eval_trace_stats *st, glimp_error *err)
{
    const cJSON *text = path2(trace, "answer", "text");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(trace, "steps");
    const cJSON *tokens = path2(trace, "totals", "tokens");
    *st = (eval_trace_stats){0};
    if (!cJSON_IsString(text) || !cJSON_IsArray(steps) ||
        !get_long(cJSON_GetObjectItemCaseSensitive(tokens, "slm"), &st->tokens_slm) ||
        !get_long(cJSON_GetObjectItemCaseSensitive(tokens, "llm"), &st->tokens_llm))
        return glimp_error_set(err, GLIMP_ERR_JSON,
                               "router trace lacks answer.text, steps or totals.tokens");
    st->answer = text->valuestring;
    const cJSON *s;
    cJSON_ArrayForEach(s, steps)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "model");
        st->steps++;
        if (cJSON_IsString(m) && !strcmp(m->valuestring, "llm")) st->steps_llm++;
    }
    return GLIMP_OK;
}

void eval_trace_each_probe(const cJSON *trace, void (*fn)(void *user, double h, bool by_llm),
                           void *user)
{
    const cJSON *ent = path2(trace, "params", "entropy");
    const char *key = cJSON_IsString(ent) && !strcmp(ent->valuestring, "exact") ? "exact" : "topk";
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(trace, "steps"))
    {
        const cJSON *h = path2(s, "h_init", key);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "model");
        if (cJSON_IsNumber(h) && isfinite(h->valuedouble))
            fn(user, h->valuedouble, cJSON_IsString(m) && !strcmp(m->valuestring, "llm"));
    }
}

void eval_trace_each_draft_score(const cJSON *trace,
                                 void (*fn)(void *user, double score, bool by_llm), void *user)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(trace, "steps"))
    {
        const cJSON *v = path2(s, "draft", "score");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "model");
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            fn(user, v->valuedouble, cJSON_IsString(m) && !strcmp(m->valuestring, "llm"));
    }
}
