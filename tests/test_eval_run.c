/* test_eval_run.c - eval runs with a scripted solver (traces in the
 * router's JSON shape): the plan, resuming (partial and torn items.jsonl:
 * skipped and added counts), failures retried on rerun, parallel runs
 * giving the same records, summary statistics against hand-computed
 * values (Wilson intervals from the textbook formula), the report files,
 * calibration and the progress line; the output folder's guards: reruns
 * with other settings refused (each difference named) or moved aside with
 * force_new, records without run.json refused, a second run at once
 * refused while the first finishes alone, a dead run's lock taken over;
 * model identities that follow content, not paths. */
/* test-links: eval */
#include "eval/eval.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/glimp_eval_runXXXXXX";

typedef struct fake {
    const char *fail_problem; /* the solver fails on this problem id */
    int calls;
} fake;

/* A trace like glimp_router_result_json's: 4 steps whose H_init comes
 * from the seed; the writer follows the policy; the answer is right when
 * (problem number + repeat) is even, or always for policy llm. */
static glimp_status fake_solve(void *user, const glimp_eval_task *t, char **json,
                               glimp_error *err)
{
    fake *f = user;
    __atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED);
    if (f->fail_problem && !strcmp(t->problem->id, f->fail_problem))
        return glimp_error_set(err, GLIMP_ERR_HTTP, "scripted failure");
    if (!strstr(t->prompt, t->problem->question)) return glimp_error_set(err, GLIMP_ERR_ARG, "prompt");
    cJSON *o = cJSON_CreateObject(), *steps = cJSON_AddArrayToObject(o, "steps");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "params"), "entropy", "topk:20");
    int by[2] = {0, 0}, tok[2] = {0, 0};
    for (int i = 0; i < 4; i++) {
        double h = (double)((t->seed >> (8 * i)) & 0xff) / 255.0 * 3.0;
        bool llm = !strcmp(t->policy, "llm") ||
                   (!strcmp(t->policy, "glimp") && h >= t->tau) ||
                   (!strncmp(t->policy, "random", 6) && ((t->seed >> (40 + i)) & 1));
        cJSON *s = cJSON_CreateObject(), *hi = cJSON_AddObjectToObject(s, "h_init");
        cJSON_AddStringToObject(s, "model", llm ? "llm" : "slm");
        if (strcmp(t->policy, "llm")) cJSON_AddNumberToObject(hi, "topk", h);
        else cJSON_AddNullToObject(hi, "topk");
        cJSON_AddNullToObject(hi, "exact");
        cJSON_AddNumberToObject(s, "n_tokens", 10 + i);
        cJSON_AddItemToArray(steps, s);
        by[llm]++;
        tok[llm] += 10 + i;
    }
    int num = atoi(t->problem->id + 1);
    bool right = !strcmp(t->policy, "llm") || (num + t->repeat) % 2 == 0;
    char text[128];
    snprintf(text, sizeof text, "Final: \\boxed{%s%s}", t->problem->reference, right ? "" : "9");
    cJSON *a = cJSON_AddObjectToObject(o, "answer");
    cJSON_AddStringToObject(a, "model", "llm");
    cJSON_AddStringToObject(a, "text", text);
    cJSON_AddNumberToObject(a, "n_tokens", 5);
    tok[1] += 5;
    cJSON *tot = cJSON_AddObjectToObject(o, "totals"), *ts = cJSON_AddObjectToObject(tot, "tokens");
    cJSON_AddNumberToObject(ts, "slm", tok[0]);
    cJSON_AddNumberToObject(ts, "llm", tok[1]);
    cJSON_AddNumberToObject(tot, "n_steps", 4);
    *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return GLIMP_OK;
}

static glimp_dataset *make_dataset(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/mini.jsonl", tmpdir);
    FILE *f = fopen(path, "w");
    REQUIRE(f, "create %s", path);
    for (int i = 1; i <= 5; i++)
        fprintf(f, "{\"id\": \"p%d\", \"question\": \"What is %d times 7?\", \"answer\": \"%d\"}\n",
                i, i, 7 * i);
    fclose(f);
    glimp_dataset_params p = glimp_dataset_default_params();
    p.grade = GLIMP_GRADE_INTEGER;
    glimp_error err = {0};
    glimp_dataset *ds = glimp_dataset_load(path, &p, &err);
    REQUIRE(ds, "load: %s", err.msg);
    return ds;
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static const char *const policies[] = {"glimp", "llm", "random:0.3"};
static const double taus[] = {0.5, 1.0};

static glimp_eval_params run_params(const char *dir)
{
    glimp_eval_params p = glimp_eval_default_params();
    p.out_dir = dir;
    p.policies = policies;
    p.n_policies = 3;
    p.taus = taus;
    p.n_taus = 2;
    p.repeats = 2;
    p.seed = 11;
    return p;
}

static void test_resume(glimp_dataset *ds)
{
    char dir[256], items[300];
    snprintf(dir, sizeof dir, "%s/run/a", tmpdir); /* nested: created */
    snprintf(items, sizeof items, "%s/items.jsonl", dir);
    glimp_eval_params p = run_params(dir);
    glimp_eval_counts c;
    glimp_error err = {0};
    fake f = {0};
    p.limit = 3;
    glimp_status st = glimp_eval_run(ds, &p, fake_solve, &f, &c, &err);
    REQUIRE(st == GLIMP_OK, "run: %s", err.msg);
    /* per problem and repeat: glimp x 2 taus + llm + random = 4 items */
    CHECK(c.total == 24 && c.skipped == 0 && c.done == 24 && c.failed == 0,
          "first run %zu/%zu/%zu/%zu", c.total, c.skipped, c.done, c.failed);
    CHECK(count_lines(items) == 24, "lines %zu", count_lines(items));

    p.limit = 0;
    f.calls = 0;
    st = glimp_eval_run(ds, &p, fake_solve, &f, &c, &err);
    REQUIRE(st == GLIMP_OK, "rerun: %s", err.msg);
    CHECK(c.total == 40 && c.skipped == 24 && c.done == 16 && f.calls == 16,
          "resume %zu/%zu/%zu calls %d", c.total, c.skipped, c.done, f.calls);
    CHECK(count_lines(items) == 40, "lines %zu", count_lines(items));

    /* keep 10 records and half of the 11th (a killed writer) */
    char *all = read_all(items);
    REQUIRE(all, "read items");
    char *cut = all;
    for (int i = 0; i < 10; i++) cut = strchr(cut, '\n') + 1;
    size_t keep = (size_t)(cut - all) + strcspn(cut, "\n") / 2;
    FILE *w = fopen(items, "w");
    fwrite(all, 1, keep, w);
    fclose(w);
    free(all);
    f.calls = 0;
    st = glimp_eval_run(ds, &p, fake_solve, &f, &c, &err);
    REQUIRE(st == GLIMP_OK, "torn: %s", err.msg);
    CHECK(c.skipped == 10 && c.done == 30 && f.calls == 30, "after torn %zu/%zu", c.skipped, c.done);
    CHECK(count_lines(items) == 40, "lines %zu", count_lines(items));
    eval_items it = {0};
    bool torn = true;
    st = eval_items_load(items, false, &it, NULL, NULL, &torn, &err);
    REQUIRE(st == GLIMP_OK, "%s", err.msg);
    CHECK(it.n == 40 && !torn, "records %zu torn %d", it.n, torn);
    /* every planned key exactly once */
    int seen[3][2][5][2] = {{{{0}}}};
    for (size_t i = 0; i < it.n; i++) {
        const eval_item *x = &it.v[i];
        int pol = !strcmp(x->policy, "glimp") ? 0 : !strcmp(x->policy, "llm") ? 1 : 2;
        int ti = pol == 0 ? (x->tau > 0.75) : 0;
        CHECK(pol == 0 ? !isnan(x->tau) : isnan(x->tau), "tau of %s", x->policy);
        seen[pol][ti][atoi(x->problem + 1) - 1][x->repeat]++;
        CHECK(!strcmp(x->dataset, "mini"), "dataset '%s'", x->dataset);
        bool want = pol == 1 || (atoi(x->problem + 1) + x->repeat) % 2 == 0;
        CHECK(x->correct == want, "graded %s %s r%d", x->policy, x->problem, x->repeat);
        CHECK(x->steps == 4 && x->tokens_slm + x->tokens_llm == 51, "counts");
    }
    int dup = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < (a == 0 ? 2 : 1); b++)
            for (int q = 0; q < 5; q++)
                for (int r = 0; r < 2; r++) dup += seen[a][b][q][r] != 1;
    CHECK(!dup, "%d keys not seen exactly once", dup);
    eval_items_free(&it);

    /* a failing problem: recorded nothing, retried next time */
    snprintf(dir, sizeof dir, "%s/run/b", tmpdir);
    snprintf(items, sizeof items, "%s/items.jsonl", dir);
    p = run_params(dir);
    f = (fake){.fail_problem = "p2"};
    st = glimp_eval_run(ds, &p, fake_solve, &f, &c, &err);
    CHECK(st == GLIMP_ERR_HTTP && strstr(err.msg, "8 of 40 items failed") &&
              strstr(err.msg, "scripted failure") && strstr(err.msg, "p2"),
          "failure status %d '%s'", st, err.msg);
    CHECK(c.done == 32 && c.failed == 8 && count_lines(items) == 32, "after failures %zu %zu",
          c.done, c.failed);
    f = (fake){0};
    CHECK(glimp_eval_run(ds, &p, fake_solve, &f, &c, &err) == GLIMP_OK && c.skipped == 32 &&
              c.done == 8, "retry %zu %zu", c.skipped, c.done);

    /* parallel: same records as sequential (modulo order and wall time) */
    char pdir[256], pitems[300];
    snprintf(pdir, sizeof pdir, "%s/run/c", tmpdir);
    snprintf(pitems, sizeof pitems, "%s/items.jsonl", pdir);
    p = run_params(pdir);
    p.parallel = 4;
    f = (fake){0};
    st = glimp_eval_run(ds, &p, fake_solve, &f, &c, &err);
    REQUIRE(st == GLIMP_OK, "parallel: %s", err.msg);
    CHECK(c.done == 40 && f.calls == 40, "parallel done %zu", c.done);
    eval_summary s1, s2;
    eval_items i1 = {0}, i2 = {0};
    eval_items_load(items, false, &i1, NULL, NULL, NULL, &err);
    eval_items_load(pitems, false, &i2, NULL, NULL, NULL, &err);
    st = eval_summary_build(&i1, &s1, &err);
    REQUIRE(st == GLIMP_OK, "summary: %s", err.msg);
    st = eval_summary_build(&i2, &s2, &err);
    REQUIRE(st == GLIMP_OK, "summary: %s", err.msg);
    CHECK(s1.n_rows == 4 && s2.n_rows == 4, "rows %zu %zu", s1.n_rows, s2.n_rows);
    for (size_t r = 0; r < s1.n_rows && r < s2.n_rows; r++)
        CHECK(!strcmp(s1.rows[r].policy, s2.rows[r].policy) && s1.rows[r].n_correct == s2.rows[r].n_correct &&
                  s1.rows[r].llm_step_share == s2.rows[r].llm_step_share,
              "row %zu differs", r);
    eval_summary_free(&s1);
    eval_summary_free(&s2);
    eval_items_free(&i1);
    eval_items_free(&i2);
    snprintf(items, sizeof items, "%s/summary.md", pdir);
    CHECK(access(items, R_OK) == 0, "report written by the run");
}

/* A run of ds with p and the scripted solver. */
static glimp_status guarded_run(const glimp_dataset *ds, glimp_eval_params *p,
                                glimp_eval_counts *c, glimp_error *err)
{
    fake f = {0};
    return glimp_eval_run(ds, p, fake_solve, &f, c, err);
}

static void test_settings(glimp_dataset *ds)
{
    char dir[256], items[300], path[300];
    snprintf(dir, sizeof dir, "%s/guard", tmpdir);
    snprintf(items, sizeof items, "%s/items.jsonl", dir);
    glimp_eval_params p = run_params(dir);
    p.config = "{\"model\": \"a.gguf 1234\", \"temperature\": 0.6, \"about\": {\"path\": \"/x\"}}";
    p.limit = 2;
    glimp_eval_counts c;
    glimp_error err = {0};
    REQUIRE(guarded_run(ds, &p, &c, &err) == GLIMP_OK, "first: %s", err.msg);
    CHECK(count_lines(items) == 16, "lines %zu", count_lines(items));
    snprintf(path, sizeof path, "%s/run.json", dir);
    char *info = read_all(path);
    CHECK(info && strstr(info, "\"seed\":\t\"11\"") && strstr(info, "a.gguf 1234") &&
              strstr(info, "\"dataset_content\":\t\"5 problems, fnv1a64 ") &&
              strstr(info, "\"path\":\t\"/x\""),
          "run.json: %s", info ? info : "(none)");
    free(info);

    /* what only selects items or speed: resumes */
    static const char *const more[] = {"glimp", "llm", "random:0.3", "slm"};
    p.policies = more;
    p.n_policies = 4;
    p.limit = 3;
    p.parallel = 2;
    p.config = "{\"temperature\": 0.6, \"model\": \"a.gguf 1234\", \"about\": {\"path\": \"/y\"}}";
    CHECK(guarded_run(ds, &p, &c, &err) == GLIMP_OK && c.skipped == 16 && c.done == 14,
          "resume with more items: %s %zu %zu", err.msg, c.skipped, c.done);

    /* what changes results: refused, nothing run or written */
    size_t before = count_lines(items);
    glimp_eval_params q = p;
    q.seed = 12;
    CHECK(guarded_run(ds, &q, &c, &err) == GLIMP_ERR_ARG &&
              strstr(err.msg, "seed: \"11\" there, \"12\" now") && strstr(err.msg, "run.json") &&
              c.done == 0,
          "other seed: '%s'", err.msg);
    q = p;
    q.config = "{\"temperature\": 0.3, \"model\": \"a.gguf 1234\"}";
    CHECK(guarded_run(ds, &q, &c, &err) == GLIMP_ERR_ARG &&
              strstr(err.msg, "temperature: 0.6 there, 0.3 now") && !strstr(err.msg, "model"),
          "other temperature: '%s'", err.msg);
    q = p;
    q.config = "{\"temperature\": 0.6}";
    CHECK(guarded_run(ds, &q, &c, &err) == GLIMP_ERR_ARG &&
              strstr(err.msg, "model: \"a.gguf 1234\" there, (absent) now"),
          "a setting gone: '%s'", err.msg);
    q = p;
    q.prompt_template = "Q: {question}";
    CHECK(guarded_run(ds, &q, &c, &err) == GLIMP_ERR_ARG &&
              strstr(err.msg, "prompt_template: \"built-in\" there"),
          "other prompt: '%s'", err.msg);
    char dpath[300]; /* mini.jsonl again, one question changed */
    snprintf(dpath, sizeof dpath, "%s/edited", tmpdir);
    mkdir(dpath, 0777);
    snprintf(dpath, sizeof dpath, "%s/edited/mini.jsonl", tmpdir);
    FILE *f = fopen(dpath, "w");
    REQUIRE(f, "create %s", dpath);
    for (int i = 1; i <= 5; i++)
        fprintf(f, "{\"id\": \"p%d\", \"question\": \"What is %d times %d?\", \"answer\": \"%d\"}\n",
                i, i, i == 3 ? 8 : 7, i * (i == 3 ? 8 : 7));
    fclose(f);
    glimp_dataset_params dp = glimp_dataset_default_params();
    dp.grade = GLIMP_GRADE_INTEGER;
    glimp_dataset *edited = glimp_dataset_load(dpath, &dp, &err);
    REQUIRE(edited, "%s", err.msg);
    CHECK(guarded_run(edited, &p, &c, &err) == GLIMP_ERR_ARG &&
              strstr(err.msg, "dataset_content: \"5 problems, fnv1a64 "),
          "other data: '%s'", err.msg);
    CHECK(count_lines(items) == before, "refused runs wrote %zu lines", count_lines(items) - before);

    /* force_new: the old records move to previous-1, the new run starts at 0 */
    q = p;
    q.seed = 12;
    q.force_new = true;
    CHECK(guarded_run(edited, &q, &c, &err) == GLIMP_OK && c.previous == 1 &&
              c.skipped == 0 && c.done == c.total,
          "force_new: %s previous %d skipped %zu", err.msg, c.previous, c.skipped);
    snprintf(path, sizeof path, "%s/previous-1/items.jsonl", dir);
    CHECK(count_lines(path) == before, "moved %zu of %zu lines", count_lines(path), before);
    snprintf(path, sizeof path, "%s/previous-1/run.json", dir);
    info = read_all(path);
    CHECK(info && strstr(info, "\"11\""), "old run.json kept: %s", info ? info : "(none)");
    free(info);
    CHECK(count_lines(items) == c.total, "new records %zu", count_lines(items));
    q.force_new = false; /* and the new settings now resume */
    CHECK(guarded_run(edited, &q, &c, &err) == GLIMP_OK && c.skipped == c.total,
          "resume after force_new: %s", err.msg);
    glimp_dataset_free(edited);

    /* records without run.json (an older glimp): settings unknown, refused */
    snprintf(path, sizeof path, "%s/run.json", dir);
    unlink(path);
    CHECK(guarded_run(ds, &p, &c, &err) == GLIMP_ERR_ARG && strstr(err.msg, "unknown"),
          "no run.json: '%s'", err.msg);
    /* no records yet: other settings simply replace run.json */
    snprintf(dir, sizeof dir, "%s/guard-empty", tmpdir);
    p = run_params(dir);
    fake fail = {.fail_problem = "p1"};
    p.limit = 1;
    CHECK(glimp_eval_run(ds, &p, fake_solve, &fail, &c, &err) == GLIMP_ERR_HTTP, "all fail");
    p.seed = 99;
    CHECK(guarded_run(ds, &p, &c, &err) == GLIMP_OK && c.done == c.total,
          "empty folder, new settings: %s", err.msg);
}

/* The solver of the run that holds the folder: on its first item it says
 * so on `started` and waits until `go` is readable. */
static int started[2], go[2];

static glimp_status blocking_solve(void *user, const glimp_eval_task *t, char **json,
                                   glimp_error *err)
{
    static bool first = true;
    if (first) {
        first = false;
        char b = 'x';
        if (write(started[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
            return glimp_error_set(err, GLIMP_ERR_IO, "pipe");
    }
    return fake_solve(user, t, json, err);
}

static void test_lock(glimp_dataset *ds)
{
    char dir[256], items[300], lock[300];
    snprintf(dir, sizeof dir, "%s/locked", tmpdir);
    snprintf(items, sizeof items, "%s/items.jsonl", dir);
    snprintf(lock, sizeof lock, "%s/run.lock", dir);
    glimp_eval_params p = run_params(dir);
    REQUIRE(pipe(started) == 0 && pipe(go) == 0, "pipe");
    fflush(NULL);
    pid_t child = fork();
    REQUIRE(child >= 0, "fork");
    if (child == 0) {
        fake f = {0};
        _exit(glimp_eval_run(ds, &p, blocking_solve, &f, NULL, NULL) == GLIMP_OK ? 0 : 1);
    }
    char b;
    REQUIRE(read(started[0], &b, 1) == 1, "the first run did not start");
    /* the first run is inside its first item: a second one must refuse */
    glimp_eval_counts c;
    glimp_error err = {0};
    char pid[32];
    snprintf(pid, sizeof pid, "PID %ld", (long)child);
    CHECK(guarded_run(ds, &p, &c, &err) == GLIMP_ERR_ARG && strstr(err.msg, "in use") &&
              strstr(err.msg, pid) && c.done == 0,
          "second run: '%s'", err.msg);
    CHECK(write(go[1], "x", 1) == 1, "release");
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "first run status %d", status);
    CHECK(count_lines(items) == 40, "%zu records, want 40 (no duplicates)", count_lines(items));
    CHECK(access(lock, F_OK) != 0, "the lock file is removed at the end");

    /* a lock file left by a run that died (no flock held): taken over */
    FILE *f = fopen(lock, "w");
    REQUIRE(f, "create %s", lock);
    fputs("4194305\n", f);
    fclose(f);
    CHECK(guarded_run(ds, &p, &c, &err) == GLIMP_OK && c.stale_lock_pid == 4194305 &&
              c.skipped == 40,
          "stale lock: %s pid %ld", err.msg, c.stale_lock_pid);
    for (int i = 0; i < 2; i++) {
        close(started[i]);
        close(go[i]);
    }
}

/* The "slm" member of glimp_eval_router_config for a model at path. */
static char *slm_identity(const char *path, const char *tmpl)
{
    glimp_eval_models m = {{path, "http://127.0.0.1:9/v1"}, {NULL, "big"}, {tmpl, "qwen3"}, 0,
                           NULL, NULL, GLIMP_KV_F16};
    glimp_router_params rp = glimp_router_default_params();
    glimp_error err = {0};
    char *json = glimp_eval_router_config(&m, &rp, &err);
    CHECK(json, "config: %s", err.msg);
    cJSON *o = cJSON_Parse(json);
    free(json);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "slm");
    char *id = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
    if (tmpl) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "slm_template");
        CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, tmpl), "template");
    }
    const cJSON *llm = cJSON_GetObjectItemCaseSensitive(o, "llm");
    CHECK(cJSON_IsString(llm) && !strcmp(llm->valuestring, "server http://127.0.0.1:9/v1, model big"),
          "server identity");
    cJSON_Delete(o);
    return id;
}

static void test_fingerprint(void)
{
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/model-a.gguf", tmpdir);
    snprintf(b, sizeof b, "%s/model-b.gguf", tmpdir);
    enum { SIZE = 12 << 20 };
    char *bytes = malloc(SIZE);
    REQUIRE(bytes, "malloc");
    for (size_t i = 0; i < SIZE; i++) bytes[i] = (char)(i * 31 + (i >> 12));
    const char *paths[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(paths[k], "wb");
        REQUIRE(f && fwrite(bytes, 1, SIZE, f) == SIZE && fclose(f) == 0, "write %s", paths[k]);
    }
    char *ida = slm_identity(a, NULL), *idb = slm_identity(b, "raw");
    CHECK(ida && idb && !strcmp(ida, idb) && strstr(ida, "12582912 bytes, fnv1a64 "),
          "same content, another path: '%s' '%s'", ida, idb);
    /* one byte changed near the end (the last weights) */
    FILE *f = fopen(b, "r+b");
    REQUIRE(f, "open %s", b);
    fseek(f, SIZE - 100, SEEK_SET);
    fputc(bytes[SIZE - 100] ^ 1, f);
    fclose(f);
    char *idc = slm_identity(b, NULL);
    CHECK(idc && strcmp(ida, idc), "changed tail not seen: '%s'", idc);
    free(ida);
    free(idb);
    free(idc);
    free(bytes);
    glimp_eval_models m = {{"/nonexistent/x.gguf", "/nonexistent/y.gguf"}, {0}, {0}, 0, NULL, NULL,
                           GLIMP_KV_F16};
    glimp_router_params rp = glimp_router_default_params();
    glimp_error err = {0};
    CHECK(!glimp_eval_router_config(&m, &rp, &err) && err.status == GLIMP_ERR_IO &&
              strstr(err.msg, "/nonexistent/x.gguf"),
          "missing model: '%s'", err.msg);
    /* rsd's reward model: absent by default, else known as a model is */
    const char *want[3] = {NULL, "server http://127.0.0.1:9, model prm", NULL};
    glimp_eval_models rm[3] = {{{a, a}, {0}, {0}, 0, NULL, NULL, GLIMP_KV_F16},
                               {{a, a}, {0}, {0}, 0, "http://127.0.0.1:9", "prm", GLIMP_KV_F16},
                               {{a, a}, {0}, {0}, 0, NULL, a, GLIMP_KV_Q8_0}};
    for (int k = 0; k < 3; k++) {
        char *json = glimp_eval_router_config(&rm[k], &rp, &err);
        cJSON *o = cJSON_Parse(json);
        const char *reward = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "reward"));
        const char *slm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "slm"));
        if (k == 2) want[2] = slm; /* the same file as the SLM: the same identity */
        CHECK(json && (want[k] ? reward && !strcmp(reward, want[k]) : !reward),
              "reward %d: '%s'", k, reward ? reward : "(absent)");
        /* the KV cache type: absent for F16 (run.json as before the option) */
        const char *kv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kv"));
        CHECK(k == 2 ? kv && !strcmp(kv, "q8_0") : !kv, "kv %d: '%s'", k, kv ? kv : "(absent)");
        cJSON_Delete(o);
        free(json);
    }
    /* speculative decoding: absent when off, its mode and range when on */
    for (int on = 0; on < 2; on++) {
        glimp_router_params sp = glimp_router_default_params();
        if (on) sp.spec = GLIMP_SPEC_NGRAM;
        char *json = glimp_eval_router_config(&rm[0], &sp, &err);
        cJSON *o = cJSON_Parse(json);
        const char *spec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "spec"));
        CHECK(json && (on ? spec && !strcmp(spec, "ngram, draft 1..6") : !spec), "spec %d: '%s'",
              on, spec ? spec : "(absent)");
        cJSON_Delete(o);
        free(json);
    }
    rm[2].reward_model = "/nonexistent/judge.gguf";
    CHECK(!glimp_eval_router_config(&rm[2], &rp, &err) && err.status == GLIMP_ERR_IO &&
              strstr(err.msg, "/nonexistent/judge.gguf"),
          "missing reward model: '%s'", err.msg);
    unlink(a);
    unlink(b);
}

/* One record line for the hand-computed summary. */
static void put_item(FILE *f, const char *policy, double tau, int problem, int repeat, bool ok,
                     double wall, int steps_llm, int tok_slm, int tok_llm)
{
    char t[32], spec[64] = "";
    if (isnan(tau)) snprintf(t, sizeof t, "null");
    else snprintf(t, sizeof t, "%g", tau);
    /* llm items were decoded speculatively: 10 drafted, 2 x problem accepted */
    if (!strcmp(policy, "llm"))
        snprintf(spec, sizeof spec, ",\"spec\":{\"drafted\":10,\"accepted\":%d}", 2 * problem);
    fprintf(f,
            "{\"dataset\":\"hand\",\"policy\":\"%s\",\"tau\":%s,\"problem\":\"%d\",\"repeat\":%d,"
            "\"correct\":%s,\"wall_s\":%g,\"tokens\":{\"slm\":%d,\"llm\":%d},"
            "\"steps\":{\"total\":10,\"llm\":%d},\"trace\":{\"steps\":["
            "{\"model\":\"slm\",\"h_init\":{\"topk\":0.25,\"exact\":null}},"
            "{\"model\":\"llm\",\"h_init\":{\"topk\":2.5,\"exact\":null}},"
            "{\"model\":\"llm\",\"h_init\":{\"topk\":null,\"exact\":null}}]%s}}\n",
            policy, t, problem, repeat, ok ? "true" : "false", wall, tok_slm, tok_llm, steps_llm,
            spec);
}

static void test_summary(void)
{
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/hand", tmpdir);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/items.jsonl", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f, "create");
    /* llm: 3/4 right, walls 10 20 30 20 (mean 20), all LLM */
    put_item(f, "llm", NAN, 1, 0, true, 10, 10, 0, 100);
    put_item(f, "llm", NAN, 2, 0, true, 20, 10, 0, 100);
    put_item(f, "llm", NAN, 1, 1, false, 30, 10, 0, 100);
    put_item(f, "llm", NAN, 2, 1, true, 20, 10, 0, 100);
    /* glimp 1.0: 3/4, mean 7.5 s, LLM steps 2+3+0+5 of 40, tokens 20 of 100 each */
    put_item(f, "glimp", 1.0, 1, 0, true, 5, 2, 80, 20);
    put_item(f, "glimp", 1.0, 2, 0, false, 5, 3, 80, 20);
    put_item(f, "glimp", 1.0, 1, 1, true, 10, 0, 80, 20);
    put_item(f, "glimp", 1.0, 2, 1, true, 10, 5, 80, 20);
    /* glimp 0.5: 1/4, 8 s, half of everything by the LLM */
    for (int i = 0; i < 4; i++) put_item(f, "glimp", 0.5, 1 + i % 2, i / 2, i == 0, 8, 5, 50, 50);
    /* slm: 0/4, 2 s, no LLM steps, 10 of 110 tokens (the final answer) */
    for (int i = 0; i < 4; i++) put_item(f, "slm", NAN, 1 + i % 2, i / 2, false, 2, 0, 100, 10);
    fclose(f);

    eval_items it = {0};
    eval_summary s;
    glimp_error err = {0};
    glimp_status st = eval_items_load(path, false, &it, NULL, NULL, NULL, &err);
    REQUIRE(st == GLIMP_OK, "%s", err.msg);
    st = eval_summary_build(&it, &s, &err);
    REQUIRE(st == GLIMP_OK && s.n_rows == 4, "rows %zu", s.n_rows);
    const eval_summary_row *llm = &s.rows[0], *slm = &s.rows[1], *g05 = &s.rows[2], *g10 = &s.rows[3];
    CHECK(!strcmp(llm->policy, "llm") && !strcmp(g05->policy, "glimp") && g05->tau == 0.5 &&
              g10->tau == 1.0 && !strcmp(slm->policy, "slm"), "row order");
    const double e = 1e-9;
    CHECK(llm->n == 4 && llm->n_correct == 3 && fabs(llm->accuracy - 0.75) < e, "llm acc");
    /* Wilson 95%, 3 of 4: centre (p + z^2/2n)/(1 + z^2/n), textbook values */
    CHECK(fabs(llm->ci_lo - 0.30064184258) < 1e-9 && fabs(llm->ci_hi - 0.95441273919) < 1e-9,
          "llm CI [%.11f, %.11f]", llm->ci_lo, llm->ci_hi);
    CHECK(fabs(g05->ci_lo - 0.04558726081) < 1e-9 && fabs(g05->ci_hi - 0.69935815742) < 1e-9,
          "1/4 CI [%.11f, %.11f]", g05->ci_lo, g05->ci_hi);
    CHECK(slm->ci_lo == 0 && fabs(slm->ci_hi - 0.48989083645) < 1e-9, "0/4 CI");
    double lo, hi;
    eval_wilson_interval(7, 10, &lo, &hi);
    CHECK(fabs(lo - 0.39677814746) < 1e-9 && fabs(hi - 0.89220873259) < 1e-9, "7/10 CI");
    eval_wilson_interval(4, 4, &lo, &hi);
    CHECK(fabs(lo - 0.51010916355) < 1e-9 && hi == 1.0, "4/4 CI");
    CHECK(fabs(llm->mean_latency_s - 20) < e && fabs(g10->mean_latency_s - 7.5) < e &&
              fabs(g05->mean_latency_s - 8) < e && fabs(slm->mean_latency_s - 2) < e, "latency");
    CHECK(fabs(llm->llm_step_share - 1) < e && fabs(g10->llm_step_share - 0.25) < e &&
              fabs(g05->llm_step_share - 0.5) < e && slm->llm_step_share == 0, "step shares");
    CHECK(fabs(g10->llm_token_share - 0.2) < e && fabs(slm->llm_token_share - 10.0 / 110) < e,
          "token shares");
    CHECK(fabs(llm->speedup - 1) < e && fabs(g10->speedup - 20 / 7.5) < e &&
              fabs(g05->speedup - 2.5) < e && fabs(slm->speedup - 10) < e, "speedups");
    CHECK(!llm->pareto && !g05->pareto && g10->pareto && slm->pareto, "pareto %d %d %d %d",
          llm->pareto, g05->pareto, g10->pareto, slm->pareto);
    CHECK(s.n_problems == 2 && s.max_repeats == 2 && !strcmp(s.datasets, "hand"), "counts");
    eval_summary_free(&s);
    eval_items_free(&it);

    st = glimp_eval_report(dir, &err);
    REQUIRE(st == GLIMP_OK, "report: %s", err.msg);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    char *csv = read_all(path);
    CHECK(csv && strstr(csv, "\nglimp,1,4,3,0.750000,0.300642,0.954413,7.500000,2.666667,"
                             "0.250000,0.200000,100.0,1,2,1.000000,\n"), "csv:\n%s", csv ? csv : "");
    CHECK(csv && strstr(csv, "\nllm,,4,3,"), "csv llm row");
    CHECK(csv && strstr(csv, ",0.300000\nslm,"), "spec acceptance 12 of 40 on the llm row:\n%s",
          csv ? csv : "");
    /* pass@2 of glimp 0.5: problem 1 has a right sample of two, problem 2 none */
    CHECK(csv && strstr(csv, "\nglimp,0.5,4,1,") && strstr(csv, ",2,0.500000,\n"), "pass@2");
    free(csv);
    snprintf(path, sizeof path, "%s/summary.md", dir);
    char *md = read_all(path);
    CHECK(md && strstr(md, "| glimp * | 1 | 4 | 75.0% | [30.1, 95.4] | 7.50 | 2.67x | 25.0% | 20.0% |"),
          "md:\n%s", md ? md : "");
    CHECK(md && strstr(md, "Wilson"), "md states the interval method");
    free(md);
    snprintf(path, sizeof path, "%s/h_init_hist.svg", dir);
    char *svg = read_all(path);
    CHECK(svg && strstr(svg, "32 probed steps") && strstr(svg, "</svg>"), "histogram counts the "
          "probed steps (2 of 3 per item)");
    free(svg);
}

static glimp_status fake_calib(void *user, const glimp_eval_task *t, char **json, glimp_error *err)
{
    (void)user;
    (void)err;
    int num = atoi(t->problem->id + 1); /* H_init k/10 for k in 10(num-1) .. 10 num - 1 */
    eval_buf b = {0};
    eval_buf_puts(&b, "{\"params\":{\"entropy\":\"topk:20\"},\"steps\":[");
    for (int k = 0; k < 10; k++)
        eval_buf_printf(&b, "%s{\"model\":\"slm\",\"h_init\":{\"topk\":%g,\"exact\":null}}",
                        k ? "," : "", (10 * (num - 1) + k) / 10.0);
    eval_buf_puts(&b, "]}");
    *json = eval_buf_take(&b);
    return GLIMP_OK;
}

static void test_calibrate(glimp_dataset *ds)
{
    double h[100];
    for (int i = 0; i < 100; i++) h[i] = 99 - i; /* any order */
    glimp_calibration c;
    glimp_error err = {0};
    glimp_status st = glimp_eval_calibrate_values(h, 100, 0.25, &c, &err);
    REQUIRE(st == GLIMP_OK, "%s", err.msg);
    /* 0.75 quantile of 0..99 by interpolation: 74.25; 25 values are >= it */
    CHECK(fabs(c.tau - 74.25) < 1e-9 && c.min == 0 && c.max == 99 && fabs(c.mean - 49.5) < 1e-9,
          "tau %g", c.tau);
    CHECK(fabs(c.q[3] - 49.5) < 1e-9 && fabs(c.q[0] - 4.95) < 1e-9, "quantiles %g %g", c.q[3], c.q[0]);
    CHECK(glimp_eval_calibrate_values(h, 0, 0.25, &c, &err) == GLIMP_ERR_ARG, "no data");
    CHECK(glimp_eval_calibrate_values(h, 100, 1.0, &c, &err) == GLIMP_ERR_ARG, "share 1");

    glimp_eval_params p = glimp_eval_default_params();
    p.limit = 4;
    p.parallel = 2;
    st = glimp_eval_calibrate(ds, &p, "slm", NAN, 0.5, fake_calib, NULL, &c, &err);
    REQUIRE(st == GLIMP_OK,
            "calibrate: %s", err.msg);
    /* H_init 0.0 .. 3.9 in steps of 0.1: the median is 1.95 */
    CHECK(c.n_problems == 4 && c.n_steps == 40 && fabs(c.tau - 1.95) < 1e-9, "calibrated %zu %zu %g",
          c.n_problems, c.n_steps, c.tau);
}

static void test_progress(void)
{
    char buf[256];
    glimp_eval_progress_format(buf, sizeof buf, false, 5, 20, 100.0);
    CHECK(!strcmp(buf, "eval: 5/20 items (25%), 1m40s elapsed, 3.0/min, ETA 5m00s\n"), "plain '%s'", buf);
    glimp_eval_progress_format(buf, sizeof buf, true, 10, 20, 10.0);
    CHECK(buf[0] == '\r' && strstr(buf, "[###############...............] 10/20") &&
              strstr(buf, "ETA 10s"), "tty '%s'", buf);
    glimp_eval_progress_format(buf, sizeof buf, false, 0, 3, 0.0);
    CHECK(strstr(buf, "ETA ?"), "no ETA yet '%s'", buf);
}

int main(void)
{
    char *made = mkdtemp(tmpdir);
    REQUIRE(made, "mkdtemp");
    glimp_dataset *ds = make_dataset();
    test_resume(ds);
    test_settings(ds);
    test_lock(ds);
    test_fingerprint();
    test_summary();
    test_calibrate(ds);
    test_progress();
    glimp_dataset_free(ds);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (!test_failures_ && system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmpdir);
    return test_finish();
}
