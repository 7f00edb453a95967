/* eval_runinfo.c - DIR/run.json: what the records in DIR/items.jsonl depend
 * on, so that a resumed run never mixes records of other settings with its
 * own. Its "config" object holds the dataset (name, and a hash of every
 * loaded problem: id, question, reference, grading), the prompt template,
 * the run seed and the solver's settings (glimp_eval_params.config: for the
 * router, the models, templates and router options); "about" holds what
 * people want to know but is not compared (paths, the glimp version). A
 * rerun whose config differs is refused with each difference named, unless
 * it asks to start afresh: the old items.jsonl and run.json then move to
 * DIR/previous-N, nothing is deleted. Options that only decide which items
 * run, or how fast (policies, taus, limit, repeats, parallel), are not part
 * of it: records are keyed per item.
 * Failure: GLIMP_ERR_ARG for a refused rerun or a config that is not a JSON
 * object, GLIMP_ERR_IO when run.json cannot be written or files moved.
 */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* "N problems, fnv1a64 HEX" over every problem's id, question, reference
 * and grading kind. */
static void dataset_content(const glimp_dataset *ds, char *out, size_t cap)
{
    uint64_t h = EVAL_HASH_INIT;
    size_t n = glimp_dataset_count(ds);
    for (size_t i = 0; i < n; i++) {
        const glimp_eval_problem *p = glimp_dataset_problem(ds, i);
        const char *field[3] = {p->id, p->question, p->reference};
        for (int f = 0; f < 3; f++) h = eval_hash_bytes(h, field[f], strlen(field[f]) + 1);
        unsigned char g = (unsigned char)p->grade;
        h = eval_hash_bytes(h, &g, 1);
    }
    snprintf(out, cap, "%zu problems, fnv1a64 %016llx", n, (unsigned long long)h);
}

cJSON *eval_runinfo_config(const glimp_dataset *ds, const glimp_eval_params *p, cJSON **about,
                           glimp_error *err)
{
    *about = NULL;
    cJSON *c = p->config ? cJSON_Parse(p->config) : cJSON_CreateObject();
    if (!cJSON_IsObject(c)) {
        cJSON_Delete(c);
        glimp_error_set(err, GLIMP_ERR_ARG, "the run's config is not a JSON object");
        return NULL;
    }
    *about = cJSON_DetachItemFromObjectCaseSensitive(c, "about");
    char text[128];
    cJSON_AddStringToObject(c, "dataset", glimp_dataset_name(ds));
    dataset_content(ds, text, sizeof text);
    cJSON_AddStringToObject(c, "dataset_content", text);
    if (p->prompt_template)
        snprintf(text, sizeof text, "%zu bytes, fnv1a64 %016llx", strlen(p->prompt_template),
                 (unsigned long long)eval_hash_str(p->prompt_template));
    else
        snprintf(text, sizeof text, "built-in");
    cJSON_AddStringToObject(c, "prompt_template", text);
    snprintf(text, sizeof text, "%llu", (unsigned long long)p->seed); /* all 64 bits */
    cJSON_AddStringToObject(c, "seed", text);
    if (!cJSON_GetObjectItemCaseSensitive(c, "seed")) { /* an add failed */
        cJSON_Delete(c);
        cJSON_Delete(*about);
        *about = NULL;
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return c;
}

/* All of a small file, or NULL (absent or unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    eval_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) eval_buf_put(&b, chunk, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        eval_buf_free(&b);
        return NULL;
    }
    return eval_buf_take(&b);
}

/* A value as one line of JSON text, "(absent)" for NULL. */
static void put_value(eval_buf *b, const cJSON *v)
{
    char *t = v ? cJSON_PrintUnformatted(v) : NULL;
    eval_buf_puts(b, t ? t : "(absent)");
    free(t);
}

/* Appends "KEY: OLD there, NEW now" for every key whose values differ,
 * separated by "; "; returns how many. */
static size_t describe_differences(const cJSON *old, const cJSON *now, eval_buf *b)
{
    size_t n = 0;
    const cJSON *v;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *side = pass ? old : now;
        cJSON_ArrayForEach(v, side) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(old, v->string);
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(now, v->string);
            if (pass && w) continue; /* keys of `now` were done in pass 0 */
            if (o && w && cJSON_Compare(o, w, true)) continue;
            eval_buf_printf(b, "%s%s: ", n ? "; " : "", v->string);
            put_value(b, o);
            eval_buf_puts(b, " there, ");
            put_value(b, w);
            eval_buf_puts(b, " now");
            n++;
        }
    }
    return n;
}

/* Moves DIR/items.jsonl and DIR/run.json (when present) into the first
 * free DIR/previous-N; *previous = N. */
static glimp_status move_aside(const char *dir, int *previous, glimp_error *err)
{
    char to[4200], from[4200];
    for (int n = 1;; n++) {
        snprintf(to, sizeof to, "%s/previous-%d", dir, n);
        if (mkdir(to, 0777) == 0) {
            *previous = n;
            break;
        }
        if (errno != EEXIST || n == 100000)
            return glimp_error_set(err, GLIMP_ERR_IO, "mkdir %s: %s", to, strerror(errno));
    }
    const char *const files[] = {"items.jsonl", "run.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(from, sizeof from, "%s/%s", dir, files[i]);
        snprintf(to, sizeof to, "%s/previous-%d/%s", dir, *previous, files[i]);
        if (rename(from, to) != 0 && errno != ENOENT)
            return glimp_error_set(err, GLIMP_ERR_IO, "move %s to %s: %s", from, to,
                                   strerror(errno));
    }
    return GLIMP_OK;
}

/* Writes run.json through a temporary file, so it is whole or absent. */
static glimp_status write_runinfo(const char *path, const cJSON *config, const cJSON *about,
                                  glimp_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = about ? cJSON_Duplicate(about, true) : cJSON_CreateObject();
    char version[32], started[32];
    snprintf(version, sizeof version, "%d.%d.%d", GLIMP_VERSION_MAJOR, GLIMP_VERSION_MINOR,
             GLIMP_VERSION_PATCH);
    time_t now = time(NULL);
    struct tm tm;
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON_AddStringToObject(a, "glimp", version);
    cJSON_AddStringToObject(a, "started", started);
    cJSON_AddItemToObject(o, "config", cJSON_Duplicate(config, true));
    cJSON_AddItemToObject(o, "about", a);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = f && fclose(f) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", f ? path : tmp, strerror(errno));
        remove(tmp);
        return GLIMP_ERR_IO;
    }
    return GLIMP_OK;
}

glimp_status eval_runinfo_settle(const char *dir, const cJSON *config, const cJSON *about,
                                 bool has_records, bool force_new, int *previous,
                                 glimp_error *err)
{
    *previous = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    char *text = slurp(path);
    cJSON *saved = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(saved, "config");
    eval_buf diff = {0};
    size_t n_diff = cJSON_IsObject(old) ? describe_differences(old, config, &diff) : 1;
    glimp_status st = GLIMP_OK;
    if (has_records && force_new) {
        st = move_aside(dir, previous, err);
        n_diff = 1;
    } else if (has_records && n_diff) {
        if (!cJSON_IsObject(old))
            st = glimp_error_set(err, GLIMP_ERR_ARG, "%s/items.jsonl holds records whose settings "
                                 "are unknown (%s is %s); use another output folder, or "
                                 "--force-new to move those records aside", dir, path,
                                 saved ? "not a run record" : "missing or unreadable");
        else
            st = glimp_error_set(err, GLIMP_ERR_ARG, "%s holds records made with other "
                                 "settings: %s (recorded in %s); resume with the same settings, "
                                 "use another output folder, or --force-new to move those "
                                 "records aside", dir, eval_buf_str(&diff), path);
    }
    if (st == GLIMP_OK && n_diff) st = write_runinfo(path, config, about, err);
    eval_buf_free(&diff);
    cJSON_Delete(saved);
    return st;
}
