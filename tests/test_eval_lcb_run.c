/* test_eval_lcb_run.c - a LiveCodeBench run through glimp_eval_run with a
 * scripted solver: the answer's program is graded in the sandbox, each
 * record keeps its per-test verdicts (and a null reference), and the
 * summary gives pass@1 (accuracy) and pass@k over the repeats. Skips when
 * python3 is not on PATH. */
#include "eval/eval_lcb.h"

#include "test_util.h"

#include <cjson/cJSON.h>

static char tmpdir[] = "/tmp/glimp_eval_lcbXXXXXX";

/* Problem "add" (stdin): right at repeat 0, wrong at repeat 1, both runs.
 * Problem "twice" (functional): right twice. Problem "none": no code. */
static glimp_status solve(void *user, const glimp_eval_task *t, char **json, glimp_error *err)
{
    (void)user;
    (void)err;
    const char *id = t->problem->id, *text = "I cannot write code.";
    if (!strcmp(id, "add"))
        text = t->repeat == 0 ? "Sum.\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
                              : "Sum.\n```python\nprint(0)\n```";
    else if (!strcmp(id, "twice"))
        text = "```python\nclass Solution:\n    def twice(self, xs: List[int]) -> Tuple[int]:\n"
               "        return tuple(2 * x for x in xs)\n```";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddArrayToObject(o, "steps");
    cJSON *a = cJSON_AddObjectToObject(o, "answer");
    cJSON_AddStringToObject(a, "model", "slm");
    cJSON_AddStringToObject(a, "text", text);
    cJSON_AddNumberToObject(a, "n_tokens", 7);
    cJSON *tot = cJSON_AddObjectToObject(o, "totals"), *ts = cJSON_AddObjectToObject(tot, "tokens");
    cJSON_AddNumberToObject(ts, "slm", 7);
    cJSON_AddNumberToObject(ts, "llm", 0);
    cJSON_AddNumberToObject(tot, "n_steps", 0);
    *json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return GLIMP_OK;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

int main(void)
{
    glimp_error err = {0};
    if (!eval_sandbox_python(&err)) test_skip(err.msg);
    REQUIRE(mkdtemp(tmpdir), "mkdtemp");
    char data[256], out[256], path[300];
    snprintf(data, sizeof data, "%s/lcb_mini.jsonl", tmpdir);
    snprintf(out, sizeof out, "%s/run", tmpdir);
    FILE *f = fopen(data, "w");
    REQUIRE(f, "write %s", data);
    fputs("{\"id\": \"add\", \"question\": \"Add A and B.\", \"starter_code\": \"\", "
          "\"fn_name\": null, \"tests\": [{\"input\": \"1 2\\n\", \"output\": \"3\\n\", "
          "\"type\": \"stdin\"}, {\"input\": \"5 5\", \"output\": \"10\", \"type\": \"stdin\"}]}\n"
          "{\"id\": \"twice\", \"question\": \"Double.\", \"starter_code\": \"class Solution:\\n"
          "    def twice(self, xs):\\n        \", \"fn_name\": \"twice\", \"tests\": [{\"input\": "
          "\"[1, 2]\", \"output\": \"[2, 4]\", \"type\": \"functional\"}]}\n"
          "{\"id\": \"none\", \"question\": \"?\", \"starter_code\": \"\", \"fn_name\": null, "
          "\"tests\": [{\"input\": \"\", \"output\": \"1\", \"type\": \"stdin\"}]}\n",
          f);
    fclose(f);
    glimp_dataset *ds = glimp_dataset_load(data, NULL, &err);
    REQUIRE(ds, "load: %s", err.msg);
    CHECK(!strcmp(glimp_dataset_name(ds), "lcb"), "profile by name: %s", glimp_dataset_name(ds));
    char *prompt = NULL;
    REQUIRE(glimp_eval_render_prompt(NULL, glimp_dataset_problem(ds, 1), &prompt, &err) == GLIMP_OK,
            "prompt");
    CHECK(strstr(prompt, "You are an expert Python programmer.") &&
              strstr(prompt, "### Format: You will use the following starter code") &&
              strstr(prompt, "def twice(self, xs):"),
          "prompt: %s", prompt);
    free(prompt);

    glimp_eval_params p = glimp_eval_default_params();
    static const char *const policy[] = {"slm"};
    p.policies = policy;
    p.n_policies = 1;
    p.out_dir = out;
    p.repeats = 2;
    p.parallel = 2;
    glimp_eval_counts c;
    REQUIRE(glimp_eval_run(ds, &p, solve, NULL, &c, &err) == GLIMP_OK, "run: %s", err.msg);
    CHECK(c.done == 6 && c.failed == 0, "done %zu failed %zu", c.done, c.failed);

    snprintf(path, sizeof path, "%s/items.jsonl", out);
    char *items = read_all(path);
    REQUIRE(items, "items.jsonl");
    int seen = 0;
    for (char *line = strtok(items, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *r = cJSON_Parse(line);
        const char *id = cJSON_GetObjectItem(r, "problem")->valuestring;
        int repeat = cJSON_GetObjectItem(r, "repeat")->valueint;
        bool correct = cJSON_IsTrue(cJSON_GetObjectItem(r, "correct"));
        cJSON *tests = cJSON_GetObjectItem(r, "tests");
        cJSON *t0 = cJSON_GetArrayItem(tests, 0);
        const char *v0 = t0 ? cJSON_GetObjectItem(t0, "verdict")->valuestring : "";
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(r, "reference")), "%s: reference kept", id);
        CHECK(!strcmp(cJSON_GetObjectItem(r, "dataset")->valuestring, "lcb"), "dataset");
        if (!strcmp(id, "add") && repeat == 0)
            CHECK(correct && cJSON_GetArraySize(tests) == 2 && !strcmp(v0, "passed"),
                  "add/0: %s", line);
        else if (!strcmp(id, "add"))
            CHECK(!correct && !strcmp(v0, "wrong_answer") &&
                      strstr(cJSON_GetObjectItem(t0, "detail")->valuestring, "got 0"),
                  "add/1: %s", line);
        else if (!strcmp(id, "twice"))
            CHECK(correct && !strcmp(v0, "passed") &&
                      strstr(cJSON_GetObjectItem(r, "prediction")->valuestring, "class Solution"),
                  "twice: %s", line);
        else
            CHECK(!correct && cJSON_IsNull(cJSON_GetObjectItem(r, "prediction")) &&
                      cJSON_GetArraySize(tests) == 0,
                  "none: %s", line);
        seen++;
        cJSON_Delete(r);
    }
    CHECK(seen == 6, "%d records", seen);
    /* pass@1 = 3/6; pass@2 = mean(1, 1, 0) */
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = read_all(path);
    CHECK(csv && strstr(csv, ",pass_k,pass_at_k,spec_acceptance\n") &&
              strstr(csv, "\nslm,,6,3,0.500000,") && strstr(csv, ",2,0.666667,\n"),
          "summary.csv: %s", csv ? csv : "(missing)");
    glimp_dataset_free(ds);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (!test_failures_ && system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmpdir);
    return test_finish();
}
