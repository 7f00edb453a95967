/* eval_items.c - reading DIR/items.jsonl, the record of a run: one JSON
 * object per finished item (fields in docs/eval.md). A run killed while
 * writing leaves a last line without '\n'; it is ignored, or cut off when a
 * run resumes. A complete line that is not a valid record is
 * GLIMP_ERR_JSON naming the line; unreadable files GLIMP_ERR_IO.
 */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool eval_tau_equal(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-9;
}

static double num_or(const cJSON *v, double dflt)
{
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Fills it from a record; false when a required field is missing. */
static bool item_from_json(const cJSON *o, eval_item *it)
{
    const cJSON *policy = get(o, "policy"), *problem = get(o, "problem"),
                *tau = get(o, "tau"), *correct = get(o, "correct"), *ds = get(o, "dataset");
    if (!cJSON_IsString(policy) || !cJSON_IsString(problem) || !cJSON_IsBool(correct) ||
        !(cJSON_IsNumber(tau) || cJSON_IsNull(tau) || !tau) ||
        !cJSON_IsNumber(get(o, "repeat")) || !cJSON_IsNumber(get(o, "wall_s")))
        return false;
    const cJSON *tok = get(o, "tokens"), *steps = get(o, "steps");
    const cJSON *spec = get(get(o, "trace"), "spec");
    *it = (eval_item){
        .dataset = strdup(cJSON_IsString(ds) ? ds->valuestring : ""),
        .policy = strdup(policy->valuestring),
        .tau = cJSON_IsNumber(tau) ? tau->valuedouble : NAN,
        .problem = strdup(problem->valuestring),
        .repeat = get(o, "repeat")->valueint,
        .correct = cJSON_IsTrue(correct),
        .wall_s = get(o, "wall_s")->valuedouble,
        .tokens_slm = (long)num_or(get(tok, "slm"), 0),
        .tokens_llm = (long)num_or(get(tok, "llm"), 0),
        .steps = (long)num_or(get(steps, "total"), 0),
        .steps_llm = (long)num_or(get(steps, "llm"), 0),
        .spec_drafted = (long)num_or(get(spec, "drafted"), 0),
        .spec_accepted = (long)num_or(get(spec, "accepted"), 0),
    };
    return true;
}

static void item_free(eval_item *it)
{
    free(it->dataset);
    free(it->policy);
    free(it->problem);
}

static glimp_status items_push(eval_items *items, const cJSON *o, size_t lineno,
                               glimp_error *err)
{
    if (items->n == items->cap) {
        size_t cap = items->cap ? items->cap * 2 : 64;
        eval_item *v = realloc(items->v, cap * sizeof *v);
        if (!v) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        items->v = v;
        items->cap = cap;
    }
    eval_item *it = &items->v[items->n];
    if (!item_from_json(o, it))
        return glimp_error_set(err, GLIMP_ERR_JSON,
                               "line %zu: not an item record (policy, tau, problem, repeat, "
                               "correct, wall_s)", lineno);
    if (!it->dataset || !it->policy || !it->problem) {
        item_free(it);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    }
    items->n++;
    return GLIMP_OK;
}

glimp_status eval_items_load(const char *path, bool cut_torn_tail, eval_items *items,
                             void (*fn)(void *user, const cJSON *record), void *user,
                             bool *torn, glimp_error *err)
{
    if (torn) *torn = false;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return GLIMP_OK;
        return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    long good_end = 0; /* offset just past the last complete line */
    ssize_t len;
    glimp_status st = GLIMP_OK;
    bool cut = false;
    while (st == GLIMP_OK && (len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] != '\n') {
            cut = true;
            break;
        }
        good_end += len;
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        cJSON *o = cJSON_Parse(line);
        if (!cJSON_IsObject(o)) st = glimp_error_set(err, GLIMP_ERR_JSON, "line %zu: bad JSON", lineno);
        else if (items) st = items_push(items, o, lineno, err);
        if (st == GLIMP_OK && fn) fn(user, o);
        cJSON_Delete(o);
    }
    if (st == GLIMP_OK && ferror(f)) st = glimp_error_set(err, GLIMP_ERR_IO, "read error");
    free(line);
    fclose(f);
    if (st == GLIMP_OK && cut) {
        if (torn) *torn = true;
        if (cut_torn_tail && truncate(path, good_end) != 0)
            st = glimp_error_set(err, GLIMP_ERR_IO, "cannot cut the torn last line: %s",
                                 strerror(errno));
    }
    if (st != GLIMP_OK) glimp_error_prefix(err, "%s", path);
    return st;
}

void eval_items_free(eval_items *items)
{
    for (size_t i = 0; i < items->n; i++) item_free(&items->v[i]);
    free(items->v);
    *items = (eval_items){0};
}
