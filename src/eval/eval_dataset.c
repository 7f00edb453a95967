/* eval_dataset.c - benchmark problems from JSONL files.
 *
 * A profile maps a known file's fields (question, answer, id, choices) and
 * its grading kind; other files use "question"/"answer"/"id" or the fields
 * the caller names. Multiple-choice options are shuffled per problem with a
 * generator seeded from (seed, problem id), so a problem's order does not
 * depend on which other problems are loaded, and rendered as "A) ...".
 * LiveCodeBench rows (profile lcb, or grade CODE) go to eval_lcb_data.c;
 * "--data lcb" names lcb_v6.jsonl.
 * Failures (unreadable file, bad JSON, a missing field, a line longer than
 * EVAL_MAX_LINE (code: EVAL_MAX_LINE_CODE), two problems with one id) return NULL with the file and
 * the line number(s) in err.
 */
#include "eval/eval.h"
#include "eval/eval_lcb.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct dataset_profile {
    const char *name;
    const char *question, *answer, *id, *choices; /* field names; NULL: none */
    glimp_grade_kind grade;
} dataset_profile;

static const dataset_profile profiles[] = {
    {"aime24", "problem", "answer", "id", NULL, GLIMP_GRADE_INTEGER},
    {"aime25", "question", "answer", NULL, NULL, GLIMP_GRADE_INTEGER},
    {"amc23", "problem", "answer", "id", NULL, GLIMP_GRADE_MATH},
    {"math500", "problem", "answer", "unique_id", NULL, GLIMP_GRADE_MATH},
    {"gpqa_diamond", "question", "answer_index", "id", "choices", GLIMP_GRADE_CHOICE},
    {"gsm8k", "question", "answer", "idx", NULL, GLIMP_GRADE_INTEGER},
    {"lcb", NULL, NULL, NULL, NULL, GLIMP_GRADE_CODE}, /* rows: eval_lcb_data.c */
};

/* `--data` names that stand for a file of another name. */
static const char *const aliases[][2] = {{"lcb", "lcb_v6"}};

/* Longest line read (newline excluded): the largest real problem is a few
 * KiB; the cap keeps a corrupt or hostile file from costing gigabytes.
 * LiveCodeBench's upstream rows carry their private tests: tens of MiB. */
#define EVAL_MAX_LINE ((size_t)16 << 20)
#define EVAL_MAX_LINE_CODE ((size_t)1 << 30)

struct glimp_dataset {
    char name[64];              /* profile name, else the file's stem */
    glimp_eval_problem *problems;
    size_t *lines;              /* the line number of each problem */
    char **strings;             /* every string the problems point to */
    size_t n, cap, n_strings, cap_strings;
};

glimp_dataset_params glimp_dataset_default_params(void)
{
    return (glimp_dataset_params){.grade = GLIMP_GRADE_MATH};
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

glimp_status glimp_dataset_resolve(const char *name, char *path, size_t cap, glimp_error *err)
{
    if (!name || !*name) return glimp_error_set(err, GLIMP_ERR_ARG, "no dataset named");
    if (file_exists(name) || strchr(name, '/')) {
        if (!file_exists(name))
            return glimp_error_set(err, GLIMP_ERR_NOT_FOUND, "dataset file %s not found", name);
        snprintf(path, cap, "%s", name);
        return GLIMP_OK;
    }
    const char *dirs[3];
    size_t nd = 0;
    const char *env = getenv("GLIMP_DATA_DIR");
    if (env && *env) dirs[nd++] = env;
    dirs[nd++] = "../shared/datasets";
#ifdef GLIMP_SOURCE_DIR
    dirs[nd++] = GLIMP_SOURCE_DIR "/../shared/datasets";
#endif
    const char *file = name;
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (!strcmp(name, aliases[i][0])) file = aliases[i][1];
    for (size_t i = 0; i < nd; i++) {
        int w = snprintf(path, cap, "%s/%s.jsonl", dirs[i], file);
        if (w > 0 && (size_t)w < cap && file_exists(path)) return GLIMP_OK;
    }
    return glimp_error_set(err, GLIMP_ERR_NOT_FOUND,
                           "dataset '%s' not found (looked in $GLIMP_DATA_DIR and "
                           "../shared/datasets; give a path instead)", name);
}

static const dataset_profile *profile_named(const char *name)
{
    for (size_t i = 0; i < sizeof profiles / sizeof *profiles; i++)
        if (!strcmp(profiles[i].name, name)) return &profiles[i];
    return NULL;
}

/* The profile for a file: params->profile, else the file's stem. */
static const dataset_profile *profile_for(const char *path, const glimp_dataset_params *p,
                                          glimp_error *err, bool *bad)
{
    *bad = false;
    if (p->profile) {
        const dataset_profile *pr = profile_named(p->profile);
        if (!pr) {
            *bad = true;
            glimp_error_set(err, GLIMP_ERR_ARG, "unknown dataset profile '%s'", p->profile);
        }
        return pr;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char stem[64];
    size_t n = strcspn(base, ".");
    if (n >= sizeof stem) return NULL;
    memcpy(stem, base, n);
    stem[n] = '\0';
    return profile_named(strncmp(stem, "lcb_", 4) ? stem : "lcb");
}

/* Keeps s (malloc'd) owned by the dataset; NULL on OOM (s is freed). */
static char *ds_keep(glimp_dataset *ds, char *s)
{
    if (!s) return NULL;
    if (ds->n_strings == ds->cap_strings) {
        size_t cap = ds->cap_strings ? ds->cap_strings * 2 : 256;
        char **v = realloc(ds->strings, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        ds->strings = v;
        ds->cap_strings = cap;
    }
    return ds->strings[ds->n_strings++] = s;
}

/* A field as text: strings as is, numbers as the shortest "%.17g". */
static char *field_text(const cJSON *v)
{
    if (cJSON_IsString(v)) return strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        double d = v->valuedouble;
        if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
            snprintf(buf, sizeof buf, "%lld", (long long)d);
        else
            snprintf(buf, sizeof buf, "%.17g", d);
        return strdup(buf);
    }
    return NULL;
}

/* The GSM8K form "... #### 1,234": the part after the last ####. */
static char *integer_reference(char *ref)
{
    char *h = NULL;
    for (char *p = ref; (p = strstr(p, "####")) != NULL; p += 4) h = p;
    if (!h) return ref;
    h += 4;
    while (*h == ' ') h++;
    size_t n = strcspn(h, "\n");
    while (n && h[n - 1] == ' ') n--;
    memmove(ref, h, n);
    ref[n] = '\0';
    return ref;
}

/* Stem + shuffled options; sets *letter to the right answer's letter. */
static char *render_choices(const char *stem, const cJSON *choices, int answer, uint64_t seed,
                            const char *id, char *letter)
{
    int n = cJSON_GetArraySize(choices), order[26];
    if (n < 2 || n > 26 || answer < 0 || answer >= n) return NULL;
    for (int i = 0; i < n; i++) order[i] = i;
    uint64_t st = seed ^ eval_hash_str(id);
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)(eval_rand_next(&st) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    eval_buf b = {0};
    eval_buf_puts(&b, stem);
    eval_buf_putc(&b, '\n');
    for (int i = 0; i < n; i++) {
        const cJSON *c = cJSON_GetArrayItem(choices, order[i]);
        if (!cJSON_IsString(c)) {
            eval_buf_free(&b);
            return NULL;
        }
        eval_buf_printf(&b, "\n%c) %s", 'A' + i, c->valuestring);
        if (order[i] == answer) *letter = (char)('A' + i);
    }
    return eval_buf_take(&b);
}

static glimp_status add_problem(glimp_dataset *ds, char *idtext, char *question, char *ref,
                                glimp_grade_kind grade, size_t lineno, glimp_error *err);

/* A LiveCodeBench row (eval_lcb_data.c); o is freed. */
static glimp_status load_code_row(glimp_dataset *ds, cJSON *o, size_t lineno, glimp_error *err)
{
    char *question, *ref, *id;
    glimp_status st = eval_lcb_row(o, &question, &ref, &id, err);
    cJSON_Delete(o);
    if (st != GLIMP_OK) return glimp_error_prefix(err, "line %zu", lineno), st;
    if (!id) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", ds->n);
        id = strdup(buf);
    }
    return add_problem(ds, id, question, ref, GLIMP_GRADE_CODE, lineno, err);
}

static glimp_status load_line(glimp_dataset *ds, const dataset_profile *pr,
                              const glimp_dataset_params *p, const char *line, size_t lineno,
                              glimp_error *err)
{
    const char *qf = p->question_field ? p->question_field : pr ? pr->question : "question";
    const char *af = p->answer_field ? p->answer_field : pr ? pr->answer : "answer";
    const char *idf = p->id_field ? p->id_field : pr ? pr->id : "id";
    const char *cf = pr ? pr->choices : "choices";
    glimp_grade_kind grade = pr ? pr->grade : p->grade;

    cJSON *o = cJSON_Parse(line);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return glimp_error_set(err, GLIMP_ERR_JSON, "line %zu: not a JSON object", lineno);
    }
    if (grade == GLIMP_GRADE_CODE) return load_code_row(ds, o, lineno, err);
    glimp_status st = GLIMP_OK;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, qf);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, af);
    const cJSON *id = idf ? cJSON_GetObjectItemCaseSensitive(o, idf) : NULL;
    const cJSON *ch = cf ? cJSON_GetObjectItemCaseSensitive(o, cf) : NULL;
    char *idtext = id ? field_text(id) : NULL;
    if (!idtext) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", ds->n);
        idtext = strdup(buf);
    }
    char *question = NULL, *ref = NULL;
    if (!cJSON_IsString(q)) {
        st = glimp_error_set(err, GLIMP_ERR_FORMAT, "line %zu: no string field '%s'", lineno, qf);
    } else if (!a || !(ref = field_text(a))) {
        st = glimp_error_set(err, GLIMP_ERR_FORMAT, "line %zu: no string or number field '%s'",
                             lineno, af);
    } else if (grade == GLIMP_GRADE_CHOICE && cJSON_IsArray(ch) && cJSON_IsNumber(a)) {
        char letter = 0;
        question = render_choices(q->valuestring, ch, a->valueint, p->seed,
                                  idtext ? idtext : "", &letter);
        if (!question) {
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "line %zu: bad '%s' or '%s'", lineno,
                                 cf, af);
        } else { /* ref holds the index's digits: room for the letter */
            ref[0] = letter;
            ref[1] = '\0';
        }
    } else {
        question = strdup(q->valuestring);
        if (grade == GLIMP_GRADE_INTEGER) integer_reference(ref);
    }
    cJSON_Delete(o);
    if (st != GLIMP_OK) {
        free(idtext);
        free(question);
        free(ref);
        return st;
    }
    return add_problem(ds, idtext, question, ref, grade, lineno, err);
}

/* Appends a problem, taking the three strings (freed on failure). */
static glimp_status add_problem(glimp_dataset *ds, char *idtext, char *question, char *ref,
                                glimp_grade_kind grade, size_t lineno, glimp_error *err)
{
    if (!idtext || !question || !ref) {
        free(idtext);
        free(question);
        free(ref);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    }
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 64;
        glimp_eval_problem *v = realloc(ds->problems, cap * sizeof *v);
        if (v) ds->problems = v;
        size_t *l = v ? realloc(ds->lines, cap * sizeof *l) : NULL;
        if (!l) {
            free(idtext);
            free(question);
            free(ref);
            return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        }
        ds->lines = l;
        ds->cap = cap;
    }
    ds->lines[ds->n] = lineno;
    glimp_eval_problem *pb = &ds->problems[ds->n];
    pb->id = ds_keep(ds, idtext);
    pb->question = ds_keep(ds, question);
    pb->reference = ds_keep(ds, ref);
    pb->grade = grade;
    if (!pb->id || !pb->question || !pb->reference)
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    ds->n++;
    return GLIMP_OK;
}

/* Reads one line (without its '\n') into *line; false at the end of the
 * file. A line longer than max_line stops with *too_long set, after
 * reading at most that much of it. */
static bool read_line(FILE *f, size_t max_line, eval_buf *line, bool *too_long)
{
    line->len = 0;
    eval_buf_put(line, "", 0);
    *too_long = false;
    int c = getc(f);
    if (c == EOF) return false;
    char chunk[4096];
    size_t n = 0;
    for (; c != EOF && c != '\n'; c = getc(f)) {
        if (line->len + n == max_line) {
            *too_long = true;
            break;
        }
        chunk[n++] = (char)c;
        if (n == sizeof chunk) {
            eval_buf_put(line, chunk, n);
            n = 0;
        }
    }
    eval_buf_put(line, chunk, n);
    return true;
}

typedef struct id_line {
    const char *id;
    size_t line;
} id_line;

static int cmp_id_line(const void *a, const void *b)
{
    const id_line *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* GLIMP_ERR_FORMAT naming both lines when two problems share an id (a run
 * keys its records by id: one of them would never run). */
static glimp_status check_unique_ids(const glimp_dataset *ds, glimp_error *err)
{
    if (ds->n < 2) return GLIMP_OK;
    id_line *v = malloc(ds->n * sizeof *v);
    if (!v) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ds->n; i++) v[i] = (id_line){ds->problems[i].id, ds->lines[i]};
    qsort(v, ds->n, sizeof *v, cmp_id_line);
    glimp_status st = GLIMP_OK;
    for (size_t i = 1; i < ds->n && st == GLIMP_OK; i++)
        if (!strcmp(v[i - 1].id, v[i].id))
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "lines %zu and %zu: both have id '%s' "
                                 "(problem ids must be unique)", v[i - 1].line, v[i].line,
                                 v[i].id);
    free(v);
    return st;
}

glimp_dataset *glimp_dataset_load(const char *path, const glimp_dataset_params *params,
                                  glimp_error *err)
{
    glimp_dataset_params p = params ? *params : glimp_dataset_default_params();
    bool bad;
    const dataset_profile *pr = profile_for(path, &p, err, &bad);
    if (bad) return NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    glimp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        fclose(f);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (pr) snprintf(ds->name, sizeof ds->name, "%s", pr->name);
    else snprintf(ds->name, sizeof ds->name, "%.*s", (int)strcspn(base, "."), base);
    eval_buf line = {0};
    size_t lineno = 0;
    bool too_long = false;
    glimp_status st = GLIMP_OK;
    bool code = pr ? pr->grade == GLIMP_GRADE_CODE : p.grade == GLIMP_GRADE_CODE;
    size_t max_line = code ? EVAL_MAX_LINE_CODE : EVAL_MAX_LINE;
    while (st == GLIMP_OK && read_line(f, max_line, &line, &too_long)) {
        lineno++;
        if (too_long)
            st = glimp_error_set(err, GLIMP_ERR_RANGE, "line %zu: longer than %zu MiB", lineno,
                                 max_line >> 20);
        else if (line.oom)
            st = glimp_error_set(err, GLIMP_ERR_NOMEM, "line %zu: out of memory", lineno);
        else if (memchr(line.s, '\0', line.len))
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "line %zu: contains a NUL byte", lineno);
        else if (line.s[strspn(line.s, " \t\r")] != '\0')
            st = load_line(ds, pr, &p, line.s, lineno, err);
    }
    if (st == GLIMP_OK && ferror(f)) st = glimp_error_set(err, GLIMP_ERR_IO, "read error");
    if (st == GLIMP_OK) st = check_unique_ids(ds, err);
    eval_buf_free(&line);
    fclose(f);
    if (st != GLIMP_OK) {
        glimp_error_prefix(err, "%s", path);
        glimp_dataset_free(ds);
        return NULL;
    }
    return ds;
}

size_t glimp_dataset_count(const glimp_dataset *ds) { return ds ? ds->n : 0; }

const glimp_eval_problem *glimp_dataset_problem(const glimp_dataset *ds, size_t i)
{
    GLIMP_ASSERT(ds && i < ds->n);
    return &ds->problems[i];
}

const char *glimp_dataset_name(const glimp_dataset *ds) { return ds->name; }

void glimp_dataset_free(glimp_dataset *ds)
{
    if (!ds) return;
    for (size_t i = 0; i < ds->n_strings; i++) free(ds->strings[i]);
    free(ds->strings);
    free(ds->problems);
    free(ds->lines);
    free(ds);
}
