/* test_eval_dataset.c - dataset profiles load every file in
 * ../shared/datasets with the documented row counts; GPQA options are
 * shuffled reproducibly per seed and the reference letter always points at
 * the option the source marks right; the references agree with the boxed
 * answers of the files' own worked solutions (an independent check of the
 * grader); custom field names, errors with line numbers, and prompts;
 * duplicate problem ids and over-long lines are errors naming the lines. */
/* test-links: eval */
#include "eval/eval.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <unistd.h>

typedef struct expected_file {
    const char *name;
    size_t rows;
    glimp_grade_kind grade;
} expected_file;

static const expected_file files[] = {
    {"aime24", 30, GLIMP_GRADE_INTEGER},   {"aime25", 30, GLIMP_GRADE_INTEGER},
    {"amc23", 40, GLIMP_GRADE_MATH},       {"math500", 500, GLIMP_GRADE_MATH},
    {"gpqa_diamond", 198, GLIMP_GRADE_CHOICE}, {"gsm8k", 1319, GLIMP_GRADE_INTEGER},
};

static glimp_dataset *load_named(const char *name, uint64_t seed)
{
    char path[4096];
    glimp_error err = {0};
    if (glimp_dataset_resolve(name, path, sizeof path, &err) != GLIMP_OK) {
        CHECK(0, "resolve %s: %s", name, err.msg);
        return NULL;
    }
    glimp_dataset_params p = glimp_dataset_default_params();
    p.seed = seed;
    glimp_dataset *ds = glimp_dataset_load(path, &p, &err);
    CHECK(ds, "load %s: %s", name, err.msg);
    return ds;
}

/* The text of option `letter` in a rendered question ("\nB) text"). */
static bool option_text(const char *q, char letter, char *out, size_t cap)
{
    char tag[5] = {'\n', letter, ')', ' ', '\0'};
    const char *p = strstr(q, tag);
    if (!p) return false;
    p += 4;
    size_t n = strcspn(p, "\n");
    snprintf(out, cap, "%.*s", (int)n, p);
    return true;
}

static void check_gpqa(const char *path)
{
    glimp_dataset *a = load_named("gpqa_diamond", 7), *b = load_named("gpqa_diamond", 7),
                  *c = load_named("gpqa_diamond", 8);
    if (!a || !b || !c) goto done;
    FILE *f = fopen(path, "r");
    REQUIRE(f, "open %s", path);
    char *line = NULL;
    size_t cap = 0, i = 0, differ = 0, letters[4] = {0};
    while (getline(&line, &cap, f) > 0 && i < glimp_dataset_count(a)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *ch = cJSON_GetObjectItem(o, "choices");
        int ans = cJSON_GetObjectItem(o, "answer_index")->valueint;
        const glimp_eval_problem *pa = glimp_dataset_problem(a, i), *pb = glimp_dataset_problem(b, i),
                                 *pc = glimp_dataset_problem(c, i);
        CHECK(!strcmp(pa->question, pb->question) && !strcmp(pa->reference, pb->reference),
              "gpqa %zu: same seed, different render", i);
        differ += strcmp(pa->question, pc->question) != 0;
        char opt[2048];
        char letter = pa->reference[0];
        CHECK(letter >= 'A' && letter <= 'D' && !pa->reference[1], "gpqa %zu ref '%s'", i,
              pa->reference);
        if (letter >= 'A' && letter <= 'D') letters[letter - 'A']++;
        const char *right = cJSON_GetArrayItem(ch, ans)->valuestring;
        CHECK(option_text(pa->question, letter, opt, sizeof opt) &&
                  !strncmp(opt, right, strcspn(right, "\n")),
              "gpqa %zu: option %c is '%s', the right answer is '%s'", i, letter, opt, right);
        CHECK(option_text(pc->question, pc->reference[0], opt, sizeof opt) &&
                  !strncmp(opt, right, strcspn(right, "\n")),
              "gpqa %zu (seed 8): option %c is not the right one", i, pc->reference[0]);
        cJSON_Delete(o);
        i++;
    }
    free(line);
    fclose(f);
    CHECK(i == 198, "gpqa rows read %zu", i);
    CHECK(differ > 100, "another seed changed only %zu orders", differ);
    for (int k = 0; k < 4; k++)
        CHECK(letters[k] > 20, "letter %c is right %zu times of 198", 'A' + k, letters[k]);
done:
    glimp_dataset_free(a);
    glimp_dataset_free(b);
    glimp_dataset_free(c);
}

/* References agree with the boxed answers of the worked solutions (the
 * `want` solutions that box their answer). */
static void check_solutions(const char *path, const char *ref_field, glimp_grade_kind kind,
                            size_t want)
{
    FILE *f = fopen(path, "r");
    REQUIRE(f, "open %s", path);
    char *line = NULL, box[1024];
    size_t cap = 0, n = 0, boxed = 0, ok = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *sol = cJSON_GetObjectItem(o, "solution"), *ref = cJSON_GetObjectItem(o, ref_field),
                    *q = cJSON_GetObjectItem(o, "problem");
        n++;
        if (cJSON_IsString(sol) && cJSON_IsString(ref) &&
            eval_extract_boxed(sol->valuestring, box, sizeof box)) {
            boxed++;
            if (glimp_eval_answers_match(kind, box, ref->valuestring,
                                         cJSON_IsString(q) ? q->valuestring : NULL))
                ok++;
            else
                fprintf(stderr, "%s row %zu: box '%s' does not match\n", path, n, box);
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    CHECK(boxed == want && ok == boxed, "%s: %zu of %zu boxed solutions match their reference",
          path, ok, boxed);
}

static void check_custom(void)
{
    char path[] = "/tmp/glimp_eval_dsXXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    const char *text = "{\"q\": \"What is 2+2?\", \"a\": 4, \"key\": \"p1\"}\n\n"
                       "{\"q\": \"Half of 1?\", \"a\": \"\\\\frac12\", \"key\": 7}\n";
    ssize_t wrote = write(fd, text, strlen(text));
    REQUIRE(wrote == (ssize_t)strlen(text), "write");
    close(fd);
    glimp_error err = {0};
    glimp_dataset_params p = glimp_dataset_default_params();
    glimp_dataset *ds = glimp_dataset_load(path, &p, &err);
    CHECK(!ds && err.status == GLIMP_ERR_FORMAT && strstr(err.msg, "line 1") &&
              strstr(err.msg, "'question'"),
          "default fields on a custom file: '%s'", err.msg);
    glimp_dataset_free(ds);
    p.question_field = "q";
    p.answer_field = "a";
    p.id_field = "key";
    ds = glimp_dataset_load(path, &p, &err);
    REQUIRE(ds, "custom fields: %s", err.msg);
    CHECK(glimp_dataset_count(ds) == 2, "blank line skipped: %zu", glimp_dataset_count(ds));
    const glimp_eval_problem *a = glimp_dataset_problem(ds, 0), *b = glimp_dataset_problem(ds, 1);
    CHECK(!strcmp(a->id, "p1") && !strcmp(b->id, "7"), "ids '%s' '%s'", a->id, b->id);
    CHECK(!strcmp(a->reference, "4") && a->grade == GLIMP_GRADE_MATH, "number reference '%s'",
          a->reference);
    CHECK(!strncmp(glimp_dataset_name(ds), "glimp_eval_ds", 13), "name '%s'", glimp_dataset_name(ds));

    char *prompt = NULL;
    CHECK(glimp_eval_render_prompt(NULL, b, &prompt, &err) == GLIMP_OK && prompt &&
              !strncmp(prompt, "Half of 1?", 10) && strstr(prompt, "\\boxed{}") &&
              strstr(prompt, "step by step"),
          "default prompt '%s'", prompt ? prompt : "");
    free(prompt);
    CHECK(glimp_eval_render_prompt("Q: {question} / {question}!", a, &prompt, &err) == GLIMP_OK &&
              !strcmp(prompt, "Q: What is 2+2? / What is 2+2?!"),
          "template '%s'", prompt ? prompt : "");
    free(prompt);
    CHECK(glimp_eval_render_prompt("no placeholder", a, &prompt, &err) == GLIMP_ERR_ARG && !prompt,
          "template without {question}");
    glimp_dataset_free(ds);

    FILE *f = fopen(path, "a");
    fputs("{\"q\": \"broken\"\n", f);
    fclose(f);
    ds = glimp_dataset_load(path, &p, &err);
    CHECK(!ds && err.status == GLIMP_ERR_JSON && strstr(err.msg, "line 4"), "bad JSON: '%s'",
          err.msg);
    p.profile = "nope";
    CHECK(!glimp_dataset_load(path, &p, &err) && err.status == GLIMP_ERR_ARG, "unknown profile");
    unlink(path);
    CHECK(glimp_dataset_resolve("surely_not_a_dataset", path, sizeof path, &err) ==
              GLIMP_ERR_NOT_FOUND, "missing dataset name");
    CHECK(!glimp_dataset_load("/nonexistent/x.jsonl", NULL, &err) && err.status == GLIMP_ERR_IO,
          "missing file");
}

/* Writes text to a new temporary file; its path goes to path[]. */
static void write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    size_t n = strlen(text);
    REQUIRE(write(fd, text, n) == (ssize_t)n, "write");
    close(fd);
}

static void check_integrity(void)
{
    glimp_error err = {0};
    char path[] = "/tmp/glimp_eval_dupXXXXXX";
    /* ids "a" on lines 2 and 5 (line 3 is blank): resuming by id would lose one */
    write_temp(path, "{\"id\": \"z\", \"question\": \"Q0\", \"answer\": 1}\n"
                     "{\"id\": \"a\", \"question\": \"Q1\", \"answer\": 2}\n\n"
                     "{\"id\": \"b\", \"question\": \"Q2\", \"answer\": 3}\n"
                     "{\"id\": \"a\", \"question\": \"Q3\", \"answer\": 4}\n");
    glimp_dataset *ds = glimp_dataset_load(path, NULL, &err);
    CHECK(!ds && err.status == GLIMP_ERR_FORMAT && strstr(err.msg, "lines 2 and 5") &&
              strstr(err.msg, "'a'"),
          "duplicate ids: '%s'", ds ? "(loaded)" : err.msg);
    glimp_dataset_free(ds);
    unlink(path);

    /* an explicit id equal to the line-number id another line gets */
    char path2[] = "/tmp/glimp_eval_dupXXXXXX";
    write_temp(path2, "{\"question\": \"Q0\", \"answer\": 1}\n"
                      "{\"id\": 0, \"question\": \"Q1\", \"answer\": 2}\n");
    ds = glimp_dataset_load(path2, NULL, &err);
    CHECK(!ds && strstr(err.msg, "lines 1 and 2") && strstr(err.msg, "'0'"),
          "duplicate default id: '%s'", ds ? "(loaded)" : err.msg);
    glimp_dataset_free(ds);
    unlink(path2);

    /* a 17 MiB line (valid JSON) after a good one: refused, naming line 2 */
    char path3[] = "/tmp/glimp_eval_bigXXXXXX";
    write_temp(path3, "{\"id\": \"a\", \"question\": \"Q\", \"answer\": 1}\n");
    FILE *f = fopen(path3, "a");
    REQUIRE(f, "open %s", path3);
    fputs("{\"id\": \"b\", \"answer\": 2, \"question\": \"", f);
    for (int i = 0; i < 17 << 10; i++) fprintf(f, "%01023d", 0);
    fputs("\"}\n", f);
    fclose(f);
    ds = glimp_dataset_load(path3, NULL, &err);
    CHECK(!ds && err.status == GLIMP_ERR_RANGE && strstr(err.msg, "line 2") &&
              strstr(err.msg, "16 MiB"),
          "long line: '%s'", ds ? "(loaded)" : err.msg);
    glimp_dataset_free(ds);
    unlink(path3);
}

int main(void)
{
    check_custom();
    check_integrity();
    const char *dir = test_shared_or_skip("datasets");
    setenv("GLIMP_DATA_DIR", dir, 1);
    char path[4096 + 64];
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        snprintf(path, sizeof path, "%s/%s.jsonl", dir, files[f].name);
        if (access(path, R_OK) != 0) {
            printf("note: %s absent, skipped\n", path);
            continue;
        }
        glimp_dataset *ds = load_named(files[f].name, 0);
        if (!ds) continue;
        CHECK(glimp_dataset_count(ds) == files[f].rows, "%s: %zu rows", files[f].name,
              glimp_dataset_count(ds));
        CHECK(!strcmp(glimp_dataset_name(ds), files[f].name), "name %s", glimp_dataset_name(ds));
        for (size_t i = 0; i < glimp_dataset_count(ds); i++) {
            const glimp_eval_problem *p = glimp_dataset_problem(ds, i);
            CHECK(*p->id && *p->question && *p->reference && p->grade == files[f].grade,
                  "%s row %zu incomplete", files[f].name, i);
            long long v;
            char *norm = eval_latex_normalize(p->reference);
            if (p->grade == GLIMP_GRADE_INTEGER)
                CHECK(norm && eval_parse_integer(norm, &v), "%s row %zu: reference '%s' is not an "
                      "integer", files[f].name, i, p->reference);
            free(norm);
        }
        if (!strcmp(files[f].name, "math500"))
            check_solutions(path, "answer", GLIMP_GRADE_MATH, 500);
        if (!strcmp(files[f].name, "aime24"))
            check_solutions(path, "answer", GLIMP_GRADE_INTEGER, 29);
        if (!strcmp(files[f].name, "gpqa_diamond")) check_gpqa(path);
        glimp_dataset_free(ds);
    }
    return test_finish();
}
