/* router_json.c - a router result as one JSON object or as JSON Lines.
 *
 * Shapes (times in milliseconds, entropies in nats, null where a value does
 * not exist, e.g. H_init of a step no SLM probed):
 *   step:    {"index","model","h_init":{"topk","exact"},"first_token",
 *             "n_tokens","end","text","probe_ms","draft_ms","gen_ms",
 *             "prefill_tokens":{"slm","llm"},"draft":{"score","tokens"},
 *             LLM steps: "spec":{"drafted","accepted","llm_forwards"}}
 *   object:  {"question","slm","llm","params":{...} (rsd: with "reward", the
 *             reward model's name),"think_end",
 *             "answer":{"model","text","n_tokens","end","prefill_tokens","gen_ms"},
 *             "totals":{"n_steps","steps","tokens","time_ms" (each {"slm","llm"}),
 *             "draft_tokens","llm_step_share","wall_ms"},
 *             "spec":{"mode","drafted","accepted","acceptance",
 *             "llm_forwards","tokens_per_llm_forward"},"steps":[step...]}
 *   lines:   {"type":"step",...step} per step, then {"type":"summary",...}
 *            holding everything of the object except "steps".
 * Text is emitted as valid UTF-8: bytes that are not (a token cut inside a
 * character) become U+FFFD. Failure: NULL when the root object or the
 * printed text cannot be allocated (cJSON silently skips a field whose own
 * node could not be allocated).
 */
#include "router/router_impl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) len = 2, min = 0x80, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0) len = 3, min = 0x800, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0) len = 4, min = 0x10000, cp = s[0] & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* cJSON string of `text` with invalid UTF-8 replaced. */
static cJSON *utf8_string(const char *text)
{
    size_t n = strlen(text);
    char *clean = malloc(3 * n + 1); /* each bad byte becomes 3 bytes */
    if (!clean) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len((const unsigned char *)text + i, n - i);
        if (l) {
            memcpy(clean + o, text + i, l);
            o += l;
            i += l;
        } else {
            memcpy(clean + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    clean[o] = '\0';
    cJSON *s = cJSON_CreateString(clean);
    free(clean);
    return s;
}

static cJSON *number_or_null(double v) { return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v); }

static cJSON *by_role(double slm, double llm)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "slm", slm);
    cJSON_AddNumberToObject(o, "llm", llm);
    return o;
}

static void add_step_fields(cJSON *o, const glimp_step *s)
{
    cJSON_AddNumberToObject(o, "index", s->index);
    cJSON_AddStringToObject(o, "model", glimp_role_name(s->model));
    cJSON *h = cJSON_AddObjectToObject(o, "h_init");
    cJSON_AddItemToObject(h, "topk", number_or_null(s->h_init_topk));
    cJSON_AddItemToObject(h, "exact", number_or_null(s->h_init_exact));
    cJSON_AddItemToObject(o, "first_token", utf8_string(s->first_token));
    cJSON_AddNumberToObject(o, "n_tokens", s->n_tokens);
    cJSON_AddStringToObject(o, "end", glimp_step_end_name(s->end));
    cJSON_AddItemToObject(o, "text", utf8_string(s->text));
    cJSON_AddNumberToObject(o, "probe_ms", s->probe_ms);
    cJSON_AddNumberToObject(o, "draft_ms", s->draft_ms);
    cJSON_AddNumberToObject(o, "gen_ms", s->gen_ms);
    cJSON_AddItemToObject(o, "prefill_tokens", by_role(s->prefill_slm, s->prefill_llm));
    cJSON *d = cJSON_AddObjectToObject(o, "draft");
    cJSON_AddItemToObject(d, "score", number_or_null(s->draft_score));
    cJSON_AddNumberToObject(d, "tokens", s->draft_tokens);
    if (s->model == GLIMP_ROLE_LLM) {
        cJSON *sp = cJSON_AddObjectToObject(o, "spec");
        cJSON_AddNumberToObject(sp, "drafted", s->spec_drafted);
        cJSON_AddNumberToObject(sp, "accepted", s->spec_accepted);
        cJSON_AddNumberToObject(sp, "llm_forwards", s->llm_forwards);
    }
}

static cJSON *params_json(const glimp_router_params *p)
{
    cJSON *o = cJSON_CreateObject();
    char buf[32];
    if (p->policy == GLIMP_POLICY_RANDOM) {
        snprintf(buf, sizeof buf, "random:%g", p->random_p);
        cJSON_AddStringToObject(o, "policy", buf);
    } else if (p->policy == GLIMP_POLICY_SPECCOT) {
        snprintf(buf, sizeof buf, "speccot:%d", p->candidates);
        cJSON_AddStringToObject(o, "policy", buf);
    } else {
        cJSON_AddStringToObject(o, "policy", glimp_policy_name(p->policy));
    }
    cJSON_AddNumberToObject(o, "tau", p->tau);
    if (p->entropy == GLIMP_ENTROPY_EXACT) snprintf(buf, sizeof buf, "exact");
    else snprintf(buf, sizeof buf, "topk:%d", p->entropy_top_k);
    cJSON_AddStringToObject(o, "entropy", buf);
    cJSON_AddItemToObject(o, "delimiter", utf8_string(p->delimiter));
    cJSON_AddNumberToObject(o, "max_step_tokens", p->max_step_tokens);
    cJSON_AddNumberToObject(o, "think_budget", p->think_budget);
    cJSON_AddNumberToObject(o, "final_max_tokens", p->final_max_tokens);
    cJSON_AddNumberToObject(o, "temperature", p->temperature);
    cJSON_AddNumberToObject(o, "top_p", p->top_p);
    cJSON_AddNumberToObject(o, "seed", (double)p->seed);
    cJSON_AddStringToObject(o, "final", p->final_by_slm ? "slm" : "llm");
    cJSON_AddStringToObject(o, "spec", glimp_spec_mode_name(p->spec));
    cJSON_AddNumberToObject(o, "draft_min", p->draft_min);
    cJSON_AddNumberToObject(o, "draft_max", p->draft_max);
    if (p->n_stop > 0) {
        cJSON *stop = cJSON_AddArrayToObject(o, "stop");
        for (int i = 0; i < p->n_stop; i++) cJSON_AddItemToArray(stop, utf8_string(p->stop[i]));
    }
    return o;
}

/* Why the answer ended, as in the step "end" values where they mean the same. */
static const char *answer_end_name(glimp_stop_reason stop)
{
    switch (stop) {
    case GLIMP_STOP_STRING: return "stop";
    case GLIMP_STOP_EOS: return "eos";
    case GLIMP_STOP_CONTEXT: return "context";
    default: return "max_tokens";
    }
}

/* Everything but the steps. */
static void add_summary_fields(cJSON *o, const glimp_router_result *r)
{
    cJSON_AddItemToObject(o, "question", utf8_string(r->question));
    cJSON_AddItemToObject(o, "slm", utf8_string(r->slm_name));
    cJSON_AddItemToObject(o, "llm", utf8_string(r->llm_name));
    cJSON *params = params_json(&r->params);
    if (r->reward_name) cJSON_AddItemToObject(params, "reward", utf8_string(r->reward_name));
    cJSON_AddItemToObject(o, "params", params);
    cJSON_AddStringToObject(o, "think_end", glimp_think_end_name(r->think_end));
    cJSON *a = cJSON_AddObjectToObject(o, "answer");
    cJSON_AddStringToObject(a, "model", glimp_role_name(r->answer_model));
    cJSON_AddItemToObject(a, "text", utf8_string(r->answer ? r->answer : ""));
    cJSON_AddNumberToObject(a, "n_tokens", r->answer_tokens);
    cJSON_AddStringToObject(a, "end", answer_end_name(r->answer_stop));
    cJSON_AddNumberToObject(a, "prefill_tokens", r->answer_prefill);
    cJSON_AddNumberToObject(a, "gen_ms", r->answer_ms);
    int draft_tokens = 0;
    for (int i = 0; i < r->n_steps; i++) draft_tokens += r->steps[i].draft_tokens;
    cJSON *t = cJSON_AddObjectToObject(o, "totals");
    cJSON_AddNumberToObject(t, "n_steps", r->n_steps);
    cJSON_AddItemToObject(t, "steps", by_role(r->steps_by[0], r->steps_by[1]));
    cJSON_AddItemToObject(t, "tokens", by_role(r->tokens_by[0], r->tokens_by[1]));
    cJSON_AddNumberToObject(t, "draft_tokens", draft_tokens);
    cJSON_AddItemToObject(t, "time_ms", by_role(r->ms_by[0], r->ms_by[1]));
    cJSON_AddNumberToObject(t, "llm_step_share", r->llm_step_share);
    cJSON_AddNumberToObject(t, "wall_ms", r->wall_ms);
    cJSON *sp = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddStringToObject(sp, "mode", r->spec ? r->spec : "off");
    cJSON_AddNumberToObject(sp, "drafted", r->spec_drafted);
    cJSON_AddNumberToObject(sp, "accepted", r->spec_accepted);
    cJSON_AddItemToObject(sp, "acceptance",
                          number_or_null(r->spec_drafted
                                             ? (double)r->spec_accepted / r->spec_drafted
                                             : NAN));
    cJSON_AddNumberToObject(sp, "llm_forwards", r->llm_forwards);
    cJSON_AddItemToObject(sp, "tokens_per_llm_forward",
                          number_or_null(r->llm_forwards
                                             ? (double)r->tokens_by[GLIMP_ROLE_LLM] /
                                                   r->llm_forwards
                                             : NAN));
}

/* Prints and frees; NULL when o is NULL or printing runs out of memory. */
static char *print_and_free(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

char *glimp_router_result_json(const glimp_router_result *result)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_summary_fields(o, result);
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (int i = 0; i < result->n_steps; i++) {
        cJSON *s = cJSON_CreateObject();
        add_step_fields(s, &result->steps[i]);
        cJSON_AddItemToArray(steps, s);
    }
    return print_and_free(o);
}

/* Appends `line` and "\n" to *buf (growing); frees line. */
static bool append_line(char **buf, size_t *len, size_t *cap, char *line)
{
    if (!line) return false;
    size_t n = strlen(line);
    if (*len + n + 2 > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *len + n + 2) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) {
            free(line);
            return false;
        }
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, line, n);
    (*buf)[*len + n] = '\n';
    (*buf)[*len + n + 1] = '\0';
    *len += n + 1;
    free(line);
    return true;
}

char *glimp_router_result_jsonl(const glimp_router_result *result)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (int i = 0; ok && i < result->n_steps; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", "step");
        add_step_fields(s, &result->steps[i]);
        ok = append_line(&buf, &len, &cap, print_and_free(s));
    }
    if (ok) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", "summary");
        add_summary_fields(s, result);
        ok = append_line(&buf, &len, &cap, print_and_free(s));
    }
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}
