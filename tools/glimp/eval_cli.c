/* eval_cli.c - the command-line pieces shared by `glimp eval`, `calibrate`
 * and `report` (see eval_cli.h). Failure: bad values, unreadable prompt
 * templates and data sets are reported on stderr naming the option or the
 * file; the caller exits with 2 (usage) or 1.
 */
#include "eval_cli.h"

#include "cli_args.h"
#include "router_opts.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void eval_cli_init(eval_cli *e)
{
    memset(e, 0, sizeof *e);
    e->dataset = glimp_dataset_default_params();
    e->eval = glimp_eval_default_params();
}

void eval_cli_free(eval_cli *e)
{
    free(e->prompt);
    e->prompt = NULL;
}

bool eval_cli_owns(int code) { return code >= EVAL_OPT_DATA && code < EVAL_OPT_END; }

/* A whole unsigned decimal number <= max. */
static bool parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[strspn(s, " \t")] == '-' || v > max) return false;
    *out = v;
    return true;
}

bool eval_cli_set_any(eval_cli *e, struct router_opts *ro, int code, const char *arg,
                      const char *cmd)
{
    return eval_cli_owns(code) ? eval_cli_set(e, code, arg, cmd)
                               : router_opt_set(ro, code, arg, cmd);
}

bool eval_cli_set(eval_cli *e, int code, const char *arg, const char *cmd)
{
    unsigned long long v = 0;
    bool ok = true;
    const char *name = "", *want = "";
    switch (code) {
    case EVAL_OPT_DATA: e->data = arg; break;
    case EVAL_OPT_QUESTION_FIELD: e->dataset.question_field = arg; break;
    case EVAL_OPT_ANSWER_FIELD: e->dataset.answer_field = arg; break;
    case EVAL_OPT_ID_FIELD: e->dataset.id_field = arg; break;
    case EVAL_OPT_PROMPT: e->prompt_file = arg; break;
    case EVAL_OPT_GRADE:
        name = "grade", want = "integer, math, choice or code";
        if (!strcmp(arg, "integer")) e->dataset.grade = GLIMP_GRADE_INTEGER;
        else if (!strcmp(arg, "math")) e->dataset.grade = GLIMP_GRADE_MATH;
        else if (!strcmp(arg, "choice")) e->dataset.grade = GLIMP_GRADE_CHOICE;
        else if (!strcmp(arg, "code")) e->dataset.grade = GLIMP_GRADE_CODE;
        else ok = false;
        break;
    case EVAL_OPT_LIMIT:
        name = "limit", want = "a count of problems (0: all)";
        ok = parse_count(arg, SIZE_MAX, &v);
        e->eval.limit = (size_t)v;
        break;
    case EVAL_OPT_SEED:
        name = "seed", want = "an unsigned 64-bit integer";
        ok = parse_count(arg, UINT64_MAX, &v);
        e->eval.seed = v;
        break;
    case EVAL_OPT_PARALLEL:
        name = "parallel", want = "an integer in [1, 1024]";
        ok = parse_count(arg, 1024, &v) && v >= 1;
        e->eval.parallel = (int)v;
        break;
    default: ok = false; break;
    }
    if (!ok) cli_usage_error(cmd, "--%s: '%s' is not %s", name, arg, want);
    return ok;
}

/* All of a file (malloc'd, NUL-terminated); NULL with errno on failure. */
static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0, n;
    char *s = malloc(cap);
    while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *t = realloc(s, cap *= 2);
            if (!t) free(s);
            s = t;
        }
    }
    if (s && ferror(f)) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) s[len] = '\0';
    return s;
}

glimp_dataset *eval_cli_load(eval_cli *e, const char *cmd)
{
    if (e->prompt_file) {
        free(e->prompt);
        if (!(e->prompt = read_text_file(e->prompt_file))) {
            fprintf(stderr, "%s: cannot read %s: %s\n", cmd, e->prompt_file, strerror(errno));
            return NULL;
        }
        e->eval.prompt_template = e->prompt;
    }
    glimp_error err = {0};
    char path[4096];
    glimp_dataset *ds = NULL;
    e->dataset.seed = e->eval.seed;
    if (glimp_dataset_resolve(e->data, path, sizeof path, &err) == GLIMP_OK)
        ds = glimp_dataset_load(path, &e->dataset, &err);
    if (!ds) fprintf(stderr, "%s: %s\n", cmd, err.msg);
    return ds;
}

void eval_cli_progress(void *user, size_t done, size_t total, double elapsed_s)
{
    eval_progress *ps = user;
    if (!ps->tty && done != total && done != 1 && elapsed_s - ps->last < 10) return;
    ps->last = elapsed_s;
    char line[256];
    glimp_eval_progress_format(line, sizeof line, ps->tty, done, total, elapsed_s);
    fputs(line, stderr);
    if (ps->tty && done == total) fputc('\n', stderr);
    fflush(stderr);
}

void eval_cli_print_summary(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.md", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
}
