/* openai_logprobs.c - both log-probability shapes of OpenAI-compatible
 * servers into oai_token records (see openai_logprobs.h).
 */
#include "backend/openai_logprobs.h"

#include "backend/backend_impl.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Top entries considered before sorting (servers send K or K+1). */
#define OAI_TOP_SCAN 256

typedef struct top_entry {
    const char *text;
    double logprob;
    int32_t id;
} top_entry;

static int by_logprob_desc(const void *a, const void *b)
{
    double x = ((const top_entry *)a)->logprob, y = ((const top_entry *)b)->logprob;
    return (x < y) - (x > y);
}

glimp_status oai_logprobs_shape(const cJSON *logprobs, oai_logprob_shape *shape, int *n_tokens,
                                glimp_error *err)
{
    *shape = OAI_LOGPROBS_NONE;
    *n_tokens = 0;
    if (!logprobs || cJSON_IsNull(logprobs)) return GLIMP_OK;
    if (!cJSON_IsObject(logprobs))
        return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs: not an object");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(logprobs, "content");
    if (content && !cJSON_IsNull(content)) {
        if (!cJSON_IsArray(content))
            return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs.content: not an array");
        *shape = OAI_LOGPROBS_CONTENT;
        *n_tokens = cJSON_GetArraySize(content);
        return GLIMP_OK;
    }
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(logprobs, "tokens");
    const cJSON *lps = cJSON_GetObjectItemCaseSensitive(logprobs, "token_logprobs");
    if (!cJSON_IsArray(tokens) || !cJSON_IsArray(lps))
        return glimp_error_set(err, GLIMP_ERR_JSON,
                               "logprobs: neither {content: [...]} nor {tokens, token_logprobs}");
    int n = cJSON_GetArraySize(tokens);
    if (cJSON_GetArraySize(lps) != n)
        return glimp_error_set(err, GLIMP_ERR_JSON,
                               "logprobs: %d tokens but %d token_logprobs", n,
                               cJSON_GetArraySize(lps));
    *shape = OAI_LOGPROBS_LEGACY;
    *n_tokens = n;
    return GLIMP_OK;
}

/* Sorts the gathered entries and fills dist with the best `top`. */
static void fill_dist(top_entry *e, int n, int top, glimp_token_dist *dist)
{
    qsort(e, (size_t)n, sizeof *e, by_logprob_desc);
    if (n > top) n = top;
    dist->n_top = n;
    for (int k = 0; k < n; k++) {
        dist->top_id[k] = e[k].id;
        dist->top_logprob[k] = (float)e[k].logprob;
        backend_copy_token_text(dist->top_text[k], e[k].text, strlen(e[k].text));
    }
    dist->entropy_topk = n > 0 ? backend_entropy_of_top(dist->top_logprob, n) : NAN;
    dist->entropy_exact = NAN;
}

static glimp_status legacy_token(const cJSON *lp, int i, int top, oai_token *out,
                                 glimp_error *err)
{
    const cJSON *tok = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(lp, "tokens"), i);
    const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(lp, "token_logprobs"), i);
    if (!cJSON_IsString(tok))
        return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs.tokens[%d]: not a string", i);
    if (!cJSON_IsNumber(l) && !cJSON_IsNull(l))
        return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs.token_logprobs[%d]: not a number",
                               i);
    backend_copy_token_text(out->text, tok->valuestring, strlen(tok->valuestring));
    out->logprob = cJSON_IsNumber(l) ? l->valuedouble : NAN;
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(lp, "text_offset");
    const cJSON *off = cJSON_IsArray(offs) ? cJSON_GetArrayItem(offs, i) : NULL;
    if (cJSON_IsNumber(off)) out->text_offset = (long)off->valuedouble;

    const cJSON *tops = cJSON_GetObjectItemCaseSensitive(lp, "top_logprobs");
    const cJSON *map = cJSON_IsArray(tops) ? cJSON_GetArrayItem(tops, i) : NULL;
    if (!map || cJSON_IsNull(map)) return GLIMP_OK;
    if (!cJSON_IsObject(map))
        return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs.top_logprobs[%d]: not an object",
                               i);
    top_entry e[OAI_TOP_SCAN];
    int n = 0;
    for (const cJSON *it = map->child; it && n < OAI_TOP_SCAN; it = it->next) {
        if (!cJSON_IsNumber(it))
            return glimp_error_set(err, GLIMP_ERR_JSON,
                                   "logprobs.top_logprobs[%d][\"%.40s\"]: not a number", i,
                                   it->string);
        e[n++] = (top_entry){it->string, it->valuedouble, -1};
    }
    fill_dist(e, n, top, &out->dist);
    return GLIMP_OK;
}

/* {"token": t, "logprob": lp, "id": n?} */
static glimp_status content_entry(const cJSON *o, const char *where, int i, top_entry *e,
                                  glimp_error *err)
{
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(o, "token");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "logprob");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (!cJSON_IsObject(o) || !cJSON_IsString(tok) || !cJSON_IsNumber(l))
        return glimp_error_set(err, GLIMP_ERR_JSON,
                               "%s[%d]: expected {\"token\": string, \"logprob\": number}", where,
                               i);
    e->text = tok->valuestring;
    e->logprob = l->valuedouble;
    e->id = cJSON_IsNumber(id) ? (int32_t)id->valuedouble : -1;
    return GLIMP_OK;
}

static glimp_status content_token(const cJSON *lp, int i, int top, oai_token *out,
                                  glimp_error *err)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(lp, "content"), i);
    top_entry self;
    glimp_status st = content_entry(c, "logprobs.content", i, &self, err);
    if (st != GLIMP_OK) return st;
    backend_copy_token_text(out->text, self.text, strlen(self.text));
    out->logprob = self.logprob;
    out->id = self.id;
    const cJSON *tops = cJSON_GetObjectItemCaseSensitive(c, "top_logprobs");
    if (!tops || cJSON_IsNull(tops)) return GLIMP_OK;
    if (!cJSON_IsArray(tops))
        return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs.content[%d].top_logprobs: not an "
                               "array", i);
    top_entry e[OAI_TOP_SCAN];
    int n = 0;
    for (const cJSON *it = tops->child; it && n < OAI_TOP_SCAN; it = it->next) {
        st = content_entry(it, "top_logprobs", n, &e[n], err);
        if (st != GLIMP_OK) return st;
        n++;
    }
    fill_dist(e, n, top, &out->dist);
    return GLIMP_OK;
}

glimp_status oai_logprobs_token(const cJSON *logprobs, oai_logprob_shape shape, int i, int top,
                                oai_token *out, glimp_error *err)
{
    memset(out, 0, sizeof *out);
    out->logprob = NAN;
    out->id = -1;
    out->text_offset = -1;
    out->dist.entropy_exact = NAN;
    out->dist.entropy_topk = NAN;
    if (top < 1) top = 1;
    if (top > GLIMP_PROBE_MAX_K) top = GLIMP_PROBE_MAX_K;
    switch (shape) {
    case OAI_LOGPROBS_LEGACY: return legacy_token(logprobs, i, top, out, err);
    case OAI_LOGPROBS_CONTENT: return content_token(logprobs, i, top, out, err);
    case OAI_LOGPROBS_NONE: break;
    }
    return glimp_error_set(err, GLIMP_ERR_JSON, "logprobs: none in the response");
}
