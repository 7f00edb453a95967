/* eval_analyze.c - the signal analyzer: walks router traces (given one by
 * one, or every record of an eval folder) and keeps the signals and labels
 * of each SLM-written step (eval_analyze_step.c). The report is
 * eval_analyze_report.c's.
 */
#include "eval/eval_analyze.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

glimp_analyze_params glimp_analyze_default_params(void)
{
    return (glimp_analyze_params){.entropy = GLIMP_ENTROPY_TOPK, .entropy_top_k = 20,
                                  .ll_threshold = NAN};
}

glimp_analyzer *glimp_analyzer_create(const glimp_analyze_params *params, glimp_backend *llm,
                                      glimp_error *err)
{
    if (!params || !params->slm_path || !llm) {
        glimp_error_set(err, GLIMP_ERR_ARG, "analyze: need the SLM's GGUF file and an LLM");
        return NULL;
    }
    if (params->entropy_top_k < 1 || params->entropy_top_k > GLIMP_PROBE_MAX_K) {
        glimp_error_set(err, GLIMP_ERR_ARG, "analyze: entropy K must be in 1..%d",
                        GLIMP_PROBE_MAX_K);
        return NULL;
    }
    glimp_analyzer *a = calloc(1, sizeof *a);
    if (!a) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->p = *params;
    a->llm = llm;
    if (!(a->slm = eval_slm_reader_open(params, err))) {
        free(a);
        return NULL;
    }
    return a;
}

void glimp_analyzer_free(glimp_analyzer *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->v[i].problem);
    free(a->v);
    eval_slm_reader_free(a->slm);
    free(a);
}

size_t glimp_analyzer_n_steps(const glimp_analyzer *a) { return a->n; }
size_t glimp_analyzer_n_skipped(const glimp_analyzer *a) { return a->skipped; }

static glimp_status push(glimp_analyzer *a, const eval_step_signals *s, glimp_error *err)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        eval_step_signals *v = realloc(a->v, cap * sizeof *v);
        if (!v) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n] = *s;
    if (!(a->v[a->n].problem = strdup(s->problem)))
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    a->n++;
    return GLIMP_OK;
}

/* What followed a step's text when its writer wrote it (the trace's
 * "end": glimp_step_end_name) given the run's delimiter. */
static eval_step_end step_end(const char *end, const char *delimiter)
{
    if (!strcmp(end, "delimiter")) return (eval_step_end){delimiter, false};
    if (!strcmp(end, "think_end")) return (eval_step_end){"\n</think>", true};
    return (eval_step_end){"", false};
}

/* The analysis of one parsed trace. */
static glimp_status add_parsed(glimp_analyzer *a, const char *problem, const cJSON *trace,
                               glimp_error *err)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(trace, "question");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(trace, "steps");
    if (!cJSON_IsString(q) || !cJSON_IsArray(steps))
        return glimp_error_set(err, GLIMP_ERR_JSON, "trace of %s lacks question or steps",
                               problem);
    const cJSON *delim =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(trace, "params"),
                                         "delimiter");
    int n = cJSON_GetArraySize(steps);
    const char **texts = calloc((size_t)n + 1, sizeof *texts);
    bool *by_slm = calloc((size_t)n + 1, sizeof *by_slm);
    eval_step_end *ends = calloc((size_t)n + 1, sizeof *ends);
    glimp_status st = texts && by_slm && ends
                          ? GLIMP_OK
                          : glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, steps)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(s, "text");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(s, "model");
        const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
        if (st == GLIMP_OK && (!cJSON_IsString(text) || !cJSON_IsString(model)))
            st = glimp_error_set(err, GLIMP_ERR_JSON, "trace of %s: step %d lacks text or model",
                                 problem, i);
        if (st != GLIMP_OK) break;
        texts[i] = text->valuestring;
        ends[i] = step_end(cJSON_IsString(end) ? end->valuestring : "delimiter",
                           cJSON_IsString(delim) ? delim->valuestring : "\n\n");
        by_slm[i++] = !strcmp(model->valuestring, "slm");
    }
    for (i = 0; st == GLIMP_OK && i < n; i++) {
        if (!by_slm[i]) continue;
        eval_step_signals sig = {.problem = (char *)problem, .index = i};
        st = eval_slm_read_step(a->slm, q->valuestring, texts, i, &ends[i], &sig, err);
        if (st == GLIMP_ERR_RANGE) { /* the SLM's context is full from here on */
            for (; i < n; i++) a->skipped += by_slm[i];
            st = GLIMP_OK;
            break;
        }
        if (st == GLIMP_OK)
            st = eval_llm_read_step(a->llm, q->valuestring, texts, i, &ends[i], &sig, err);
        if (st == GLIMP_OK) st = push(a, &sig, err);
    }
    free(texts);
    free(by_slm);
    free(ends);
    return st;
}

glimp_status glimp_analyzer_add_trace(glimp_analyzer *a, const char *problem,
                                      const char *trace_json, glimp_error *err)
{
    cJSON *trace = cJSON_Parse(trace_json);
    glimp_status st = trace ? add_parsed(a, problem ? problem : "", trace, err)
                            : glimp_error_set(err, GLIMP_ERR_JSON, "trace of %s is not JSON",
                                              problem ? problem : "");
    cJSON_Delete(trace);
    return st;
}

typedef struct dir_ctx {
    glimp_analyzer *a;
    glimp_error *err;
    glimp_status st;
    size_t traces;
} dir_ctx;

static void add_record(void *user, const cJSON *record)
{
    dir_ctx *c = user;
    if (c->st != GLIMP_OK) return;
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(record, "problem");
    const cJSON *trace = cJSON_GetObjectItemCaseSensitive(record, "trace");
    const char *problem = cJSON_IsString(pb) ? pb->valuestring : "";
    if (!cJSON_IsObject(trace)) {
        c->st = glimp_error_set(c->err, GLIMP_ERR_JSON, "record of %s has no trace", problem);
        return;
    }
    c->st = add_parsed(c->a, problem, trace, c->err);
    c->traces++;
}

glimp_status glimp_analyzer_add_eval_dir(glimp_analyzer *a, const char *dir, size_t *n_traces,
                                         glimp_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/items.jsonl", dir) >= sizeof path)
        return glimp_error_set(err, GLIMP_ERR_ARG, "%s: path too long", dir);
    FILE *f = fopen(path, "r"); /* eval_items_load reads a missing file as empty */
    if (!f) return glimp_error_set(err, GLIMP_ERR_IO, "%s: cannot open (not an eval folder?)", path);
    fclose(f);
    dir_ctx c = {a, err, GLIMP_OK, 0};
    glimp_status st = eval_items_load(path, false, NULL, add_record, &c, NULL, err);
    if (st == GLIMP_OK) st = c.st;
    if (n_traces) *n_traces = c.traces;
    return st;
}
