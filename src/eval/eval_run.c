/* eval_run.c - `glimp eval` as a library call: plan every (policy, tau,
 * problem, repeat) item, skip those already in DIR/items.jsonl, run the rest
 * through the solver, grade each answer (outside the executor's lock: code
 * runs its tests in the sandbox) and append its record (flushed as
 * it finishes, so a killed run loses at most the items in flight), then
 * write the report. Items are planned repeat by repeat, problem by problem,
 * so an interrupted run leaves every policy with the same problems. The
 * output folder is locked for the run (eval_lock.c), and records are reused
 * only under the settings DIR/run.json holds (eval_runinfo.c).
 * Failure: GLIMP_ERR_ARG for bad params, a folder in use or records of
 * other settings, GLIMP_ERR_IO for the output folder, else the executor's
 * status (eval_exec.c).
 */
#include "eval/eval_exec.h"
#include "eval/eval_lcb.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const double default_tau = 1.0;
static const char *const default_policy = "glimp";

glimp_eval_params glimp_eval_default_params(void)
{
    return (glimp_eval_params){
        .policies = &default_policy,
        .n_policies = 1,
        .taus = &default_tau,
        .n_taus = 1,
        .repeats = 1,
        .parallel = 1,
    };
}

bool glimp_eval_policy_uses_tau(const char *policy)
{
    return !strcmp(policy, "glimp") || !strcmp(policy, "hstep") || !strcmp(policy, "pplstep") ||
           !strcmp(policy, "specreason") || !strcmp(policy, "rsd") ||
           !strcmp(policy, "speccot") || !strncmp(policy, "speccot:", 8);
}

glimp_status eval_make_dirs(const char *dir, glimp_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return glimp_error_set(err, GLIMP_ERR_ARG, "output path too long");
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return glimp_error_set(err, GLIMP_ERR_IO, "mkdir %s: %s", path, strerror(errno));
        *p = c;
        if (!c) break;
    }
    return GLIMP_OK;
}

/* The key that identifies an item across runs. */
static char *item_key(const char *dataset, const char *policy, double tau, const char *problem,
                      int repeat)
{
    eval_buf b = {0};
    if (isnan(tau)) eval_buf_printf(&b, "%s\x1f%s\x1f-\x1f%s\x1f%d", dataset, policy, problem, repeat);
    else eval_buf_printf(&b, "%s\x1f%s\x1f%.9g\x1f%s\x1f%d", dataset, policy, tau, problem, repeat);
    return eval_buf_take(&b);
}

typedef struct key_set {
    char **v;
    size_t n, cap;
    bool oom;
} key_set;

static void keys_add(void *user, const cJSON *record)
{
    key_set *k = user;
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(record, "dataset");
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(record, "policy");
    const cJSON *tau = cJSON_GetObjectItemCaseSensitive(record, "tau");
    const cJSON *problem = cJSON_GetObjectItemCaseSensitive(record, "problem");
    const cJSON *repeat = cJSON_GetObjectItemCaseSensitive(record, "repeat");
    if (!cJSON_IsString(policy) || !cJSON_IsString(problem) || !cJSON_IsNumber(repeat)) return;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        char **v = realloc(k->v, cap * sizeof *v);
        if (!v) {
            k->oom = true;
            return;
        }
        k->v = v;
        k->cap = cap;
    }
    char *key = item_key(cJSON_IsString(ds) ? ds->valuestring : "", policy->valuestring,
                         cJSON_IsNumber(tau) ? tau->valuedouble : NAN, problem->valuestring,
                         repeat->valueint);
    if (!key) k->oom = true;
    else k->v[k->n++] = key;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keys_free(key_set *k)
{
    for (size_t i = 0; i < k->n; i++) free(k->v[i]);
    free(k->v);
}

/* Context of the `done` hook: where records go. */
typedef struct run_ctx {
    FILE *out;
    const char *dataset;
    const char *path;
} run_ctx;

/* 53 bits, so that the seed survives JSON numbers (doubles) exactly. */
static uint64_t item_seed(uint64_t seed, const char *problem, int repeat)
{
    uint64_t s = seed ^ eval_hash_str(problem) ^ ((uint64_t)repeat * 0x9e3779b97f4a7c15ull);
    return eval_rand_next(&s) >> 11;
}

/* The verdict of one answer: {"prediction": S|null, "correct": B} and,
 * for code, "tests": [{"verdict", "wall_s", "detail"?}...]. Runs outside
 * the executor's lock: code grading takes seconds. */
static cJSON *grade_item(void *ctx, const glimp_eval_task *t, const cJSON *trace,
                         glimp_error *err)
{
    (void)ctx;
    eval_trace_stats st;
    if (eval_trace_read(trace, &st, err) != GLIMP_OK) return NULL;
    const glimp_eval_problem *pb = t->problem;
    cJSON *o = cJSON_CreateObject();
    if (!o) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory"), NULL;
    if (pb->grade != GLIMP_GRADE_CODE) {
        char pred[512];
        bool found = glimp_eval_extract_answer(pb->grade, st.answer, pred, sizeof pred);
        if (found) cJSON_AddStringToObject(o, "prediction", pred);
        else cJSON_AddNullToObject(o, "prediction");
        cJSON_AddBoolToObject(o, "correct", found && glimp_eval_answers_match(
                                                         pb->grade, pred, pb->reference,
                                                         pb->question));
        return o;
    }
    char *code = eval_lcb_extract_code(st.answer);
    eval_lcb_test *tests = NULL;
    size_t n = 0;
    glimp_status s = GLIMP_OK;
    if (code) {
        eval_sandbox_limits lim = eval_sandbox_default_limits();
        s = eval_lcb_grade(code, pb->reference, &lim, &tests, &n, err);
        cJSON_AddStringToObject(o, "prediction", code);
    } else {
        cJSON_AddNullToObject(o, "prediction");
    }
    free(code);
    bool all = code && n > 0;
    cJSON *arr = cJSON_AddArrayToObject(o, "tests");
    for (size_t i = 0; i < n; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, v);
        cJSON_AddStringToObject(v, "verdict", eval_lcb_verdict_name(tests[i].verdict));
        if (tests[i].verdict != LCB_SKIPPED) cJSON_AddNumberToObject(v, "wall_s", tests[i].wall_s);
        if (tests[i].detail[0]) cJSON_AddStringToObject(v, "detail", tests[i].detail);
        all = all && tests[i].verdict == LCB_PASSED;
    }
    free(tests);
    cJSON_AddBoolToObject(o, "correct", all);
    if (s != GLIMP_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *record_json(const run_ctx *c, const glimp_eval_task *t, const cJSON *trace,
                          const cJSON *graded, const eval_trace_stats *st, double wall_s)
{
    long tokens = st->tokens_slm + st->tokens_llm;
    cJSON *o = cJSON_CreateObject(), *tok, *steps;
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "dataset", c->dataset);
    cJSON_AddStringToObject(o, "policy", t->policy);
    if (isnan(t->tau)) cJSON_AddNullToObject(o, "tau");
    else cJSON_AddNumberToObject(o, "tau", t->tau);
    cJSON_AddStringToObject(o, "problem", t->problem->id);
    cJSON_AddNumberToObject(o, "repeat", t->repeat);
    cJSON_AddNumberToObject(o, "seed", (double)t->seed);
    cJSON_AddItemToObject(o, "prediction", cJSON_Duplicate(
                                               cJSON_GetObjectItemCaseSensitive(graded, "prediction"), true));
    if (t->problem->grade == GLIMP_GRADE_CODE) /* the tests: in the data set */
        cJSON_AddNullToObject(o, "reference");
    else
        cJSON_AddStringToObject(o, "reference", t->problem->reference);
    cJSON_AddBoolToObject(o, "correct", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(graded, "correct")));
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(graded, "tests");
    if (tests) cJSON_AddItemToObject(o, "tests", cJSON_Duplicate(tests, true));
    cJSON_AddNumberToObject(o, "wall_s", wall_s);
    tok = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddNumberToObject(tok, "slm", (double)st->tokens_slm);
    cJSON_AddNumberToObject(tok, "llm", (double)st->tokens_llm);
    steps = cJSON_AddObjectToObject(o, "steps");
    cJSON_AddNumberToObject(steps, "total", (double)st->steps);
    cJSON_AddNumberToObject(steps, "llm", (double)st->steps_llm);
    if (st->steps) cJSON_AddNumberToObject(o, "llm_step_share", (double)st->steps_llm / st->steps);
    else cJSON_AddNullToObject(o, "llm_step_share");
    if (tokens) cJSON_AddNumberToObject(o, "llm_token_share", (double)st->tokens_llm / tokens);
    else cJSON_AddNullToObject(o, "llm_token_share");
    cJSON_AddItemToObject(o, "trace", cJSON_Duplicate(trace, true));
    return o;
}

static glimp_status append_record(void *ctx, const glimp_eval_task *t, const cJSON *trace,
                                  const cJSON *graded, double wall_s, glimp_error *err)
{
    run_ctx *c = ctx;
    eval_trace_stats st;
    glimp_status s = eval_trace_read(trace, &st, err);
    if (s != GLIMP_OK) return s;
    cJSON *o = record_json(c, t, trace, graded, &st, wall_s);
    char *line = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!line) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    bool ok = fputs(line, c->out) >= 0 && fputc('\n', c->out) != EOF && fflush(c->out) == 0;
    free(line);
    return ok ? GLIMP_OK : glimp_error_set(err, GLIMP_ERR_IO, "%s: write failed", c->path);
}

static glimp_status check_params(const glimp_dataset *ds, const glimp_eval_params *p,
                                 glimp_error *err)
{
    if (!p->out_dir || !*p->out_dir) return glimp_error_set(err, GLIMP_ERR_ARG, "no output folder");
    if (!p->n_policies) return glimp_error_set(err, GLIMP_ERR_ARG, "no policy");
    if (p->repeats < 1) return glimp_error_set(err, GLIMP_ERR_ARG, "repeats must be >= 1");
    if (p->parallel < 1) return glimp_error_set(err, GLIMP_ERR_ARG, "parallel must be >= 1");
    for (size_t i = 0; i < p->n_policies; i++)
        if (glimp_eval_policy_uses_tau(p->policies[i]) && !p->n_taus)
            return glimp_error_set(err, GLIMP_ERR_ARG, "policy %s needs a tau", p->policies[i]);
    if (!glimp_dataset_count(ds)) return glimp_error_set(err, GLIMP_ERR_ARG, "empty dataset");
    if (glimp_dataset_problem(ds, 0)->grade == GLIMP_GRADE_CODE && !eval_sandbox_python(err))
        return err->status;
    char *probe = NULL;
    glimp_status st = glimp_eval_render_prompt(p->prompt_template, glimp_dataset_problem(ds, 0),
                                               &probe, err);
    free(probe);
    return st;
}

/* All items of the plan that are not in `done`; *n_total counts all. */
static glimp_eval_task *plan_tasks(const glimp_dataset *ds, const glimp_eval_params *p,
                                   const key_set *done, size_t *n_tasks, size_t *n_total)
{
    size_t np = glimp_dataset_count(ds);
    if (p->limit && p->limit < np) np = p->limit;
    size_t per = 0;
    for (size_t i = 0; i < p->n_policies; i++)
        per += glimp_eval_policy_uses_tau(p->policies[i]) ? p->n_taus : 1;
    *n_total = per * np * (size_t)p->repeats;
    *n_tasks = 0;
    glimp_eval_task *tasks = malloc((*n_total ? *n_total : 1) * sizeof *tasks);
    if (!tasks) return NULL;
    const char *dsname = glimp_dataset_name(ds);
    for (int r = 0; r < p->repeats; r++)
        for (size_t i = 0; i < np; i++) {
            const glimp_eval_problem *pb = glimp_dataset_problem(ds, i);
            for (size_t k = 0; k < p->n_policies; k++) {
                bool uses = glimp_eval_policy_uses_tau(p->policies[k]);
                for (size_t j = 0; j < (uses ? p->n_taus : 1); j++) {
                    double tau = uses ? p->taus[j] : NAN;
                    char *key = item_key(dsname, p->policies[k], tau, pb->id, r);
                    if (!key) {
                        free(tasks);
                        return NULL;
                    }
                    bool seen = done->n && bsearch(&key, done->v, done->n, sizeof *done->v, cmp_key);
                    free(key);
                    if (seen) continue;
                    tasks[(*n_tasks)++] = (glimp_eval_task){
                        .problem = pb,
                        .policy = p->policies[k],
                        .tau = tau,
                        .repeat = r,
                        .seed = item_seed(p->seed, pb->id, r),
                    };
                }
            }
        }
    return tasks;
}

/* Reads the records' keys, settles run.json (which may move the records
 * aside) and plans what is left to run. */
static glimp_status prepare(const glimp_dataset *ds, const glimp_eval_params *params,
                            const char *items_path, glimp_eval_counts *cnt,
                            glimp_eval_task **tasks, size_t *n_tasks, glimp_error *err)
{
    key_set done = {0};
    cJSON *about = NULL, *config = eval_runinfo_config(ds, params, &about, err);
    glimp_status st = config ? GLIMP_OK : err->status;
    if (st == GLIMP_OK) st = eval_items_load(items_path, true, NULL, keys_add, &done, NULL, err);
    if (st == GLIMP_OK && done.oom) st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    if (st == GLIMP_OK)
        st = eval_runinfo_settle(params->out_dir, config, about, done.n > 0, params->force_new,
                                 &cnt->previous, err);
    cJSON_Delete(config);
    cJSON_Delete(about);
    if (st == GLIMP_OK && cnt->previous) { /* the records moved away */
        keys_free(&done);
        done = (key_set){0};
    }
    if (st == GLIMP_OK) {
        if (done.n) qsort(done.v, done.n, sizeof *done.v, cmp_key);
        *tasks = plan_tasks(ds, params, &done, n_tasks, &cnt->total);
        if (!*tasks) st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        else cnt->skipped = cnt->total - *n_tasks;
    }
    keys_free(&done);
    return st;
}

glimp_status glimp_eval_run(const glimp_dataset *ds, const glimp_eval_params *params,
                            glimp_eval_solve_fn solve, void *user, glimp_eval_counts *counts,
                            glimp_error *err)
{
    glimp_eval_counts cnt = {0};
    if (counts) *counts = cnt;
    glimp_error own = {0};
    if (!err) err = &own;
    glimp_status st = check_params(ds, params, err);
    if (st == GLIMP_OK) st = eval_make_dirs(params->out_dir, err);
    if (st != GLIMP_OK) return st;
    eval_lock lock;
    st = eval_lock_take(params->out_dir, &lock, &cnt.stale_lock_pid, err);
    if (st != GLIMP_OK) return st;

    char path[4200];
    snprintf(path, sizeof path, "%s/items.jsonl", params->out_dir);
    glimp_eval_task *tasks = NULL;
    size_t n_tasks = 0;
    FILE *out = NULL;
    st = prepare(ds, params, path, &cnt, &tasks, &n_tasks, err);
    if (st == GLIMP_OK && !(out = fopen(path, "a")))
        st = glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", path, strerror(errno));
    if (st != GLIMP_OK) {
        free(tasks);
        eval_lock_release(&lock);
        if (counts) *counts = cnt;
        return st;
    }
    run_ctx ctx = {out, glimp_dataset_name(ds), path};
    eval_exec_job job = {
        .tasks = tasks, .n_tasks = n_tasks, .prompt_template = params->prompt_template,
        .parallel = params->parallel, .solve = solve, .user = user, .grade = grade_item,
        .done = append_record,
        .ctx = &ctx, .progress = params->progress, .progress_user = params->progress_user,
    };
    st = eval_exec_run(&job, &cnt.done, &cnt.failed, err);
    cnt.code_no_netns = glimp_dataset_problem(ds, 0)->grade == GLIMP_GRADE_CODE &&
                        !eval_sandbox_has_netns();
    free(tasks);
    if (fclose(out) != 0 && st == GLIMP_OK)
        st = glimp_error_set(err, GLIMP_ERR_IO, "%s: close failed", path);
    if (counts) *counts = cnt;
    glimp_error rerr = {0};
    glimp_status rst = glimp_eval_report(params->out_dir, &rerr);
    eval_lock_release(&lock);
    if (st == GLIMP_OK && rst != GLIMP_OK) {
        *err = rerr;
        st = rst;
    }
    return st;
}
