/* cmd_eval.c - `glimp eval`: runs every (policy, tau, problem, repeat) of a
 * dataset through the router, resumably, into an output folder (records,
 * summary, plots; see docs/eval.md). Exit 2 on usage errors, 1 when the
 * models, the data or the output cannot be used, or when items failed
 * (the others are recorded; a rerun retries the failed ones).
 */
#include "commands.h"
#include "glimp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EVAL_MAX_LIST = 32 };

static void eval_usage(FILE *out)
{
    fprintf(out,
        "usage: glimp eval --data FILE|NAME --slm MODEL --llm MODEL [options]\n\n"
        "Runs every (policy, tau, problem, repeat) once and writes DIR/items.jsonl\n"
        "(one record per item, resumable), DIR/summary.csv, DIR/summary.md and plots.\n\n"
        "data:\n"
        "  --data FILE|NAME        JSONL file, or aime24 aime25 amc23 math500 gpqa_diamond\n"
        "                          gsm8k (from $GLIMP_DATA_DIR or ../shared/datasets)\n"
        "  --question-field F      field names for other files (question, answer, id)\n"
        "  --answer-field F\n"
        "  --id-field F\n"
        "  --grade KIND            integer | math | choice, for other files (math)\n"
        "  --prompt-template FILE  prompt text with a {question} placeholder\n"
        "run:\n"
        "  --policy LIST           comma-separated: glimp llm slm random:P hstep pplstep\n"
        "                          specreason (glimp)\n"
        "  --tau LIST              comma-separated thresholds for the policies with one (1.0)\n"
        "  --limit N               first N problems (all)\n"
        "  --repeats K             runs per problem (1)\n"
        "  --seed S                run seed: item seeds and choice shuffles (0)\n"
        "  --out DIR               output folder (eval-out)\n"
        "  --parallel N            concurrent items when both models are servers (1); local\n"
        "                          models run one item at a time\n"
        "router and models:\n"
        "  --slm MODEL --llm MODEL GGUF files (the same file may serve as both), or the\n"
        "                          URLs of OpenAI-compatible servers (vLLM, SGLang, llama.cpp)\n"
        "  --slm-model NAME        a server's model name (with a URL), likewise --llm-model\n"
        "  --llm-model NAME\n"
        "  --template-slm NAME     chat template instead of the model's own (\"raw\": none;\n"
        "                          required for a server)\n"
        "  --template-llm NAME\n"
        "  --entropy topk:K|exact  --max-step-tokens N  --think-budget N  --final-max-tokens N\n"
        "  --temp T  --top-p P  --final slm|llm  --threads N  --ctx N     as in glimp run\n");
}

/* Splits a comma list in place into v (at most EVAL_MAX_LIST). */
static int split_list(char *s, char **v)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < EVAL_MAX_LIST; tok = strtok(NULL, ","))
        if (*tok) v[n++] = tok;
    return n;
}

/* Equal strings, or both absent. */
static bool same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

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
            if (!t) {
                free(s);
                s = NULL;
            } else {
                s = t;
            }
        }
    }
    fclose(f);
    if (s) s[len] = '\0';
    return s;
}

typedef struct progress_state {
    bool tty;
    double last;
} progress_state;

static void show_progress(void *user, size_t done, size_t total, double elapsed)
{
    progress_state *ps = user;
    if (!ps->tty && done != total && done != 1 && elapsed - ps->last < 10) return;
    ps->last = elapsed;
    char line[256];
    glimp_eval_progress_format(line, sizeof line, ps->tty, done, total, elapsed);
    fputs(line, stderr);
    if (ps->tty && done == total) fputc('\n', stderr);
    fflush(stderr);
}

int cmd_eval(int argc, char **argv)
{
    const char *data = NULL, *slm_path = NULL, *llm_path = NULL, *template_file = NULL;
    const char *tmpl_slm = NULL, *tmpl_llm = NULL, *slm_model = NULL, *llm_model = NULL;
    char *policy_arg = NULL, *tau_arg = NULL;
    glimp_dataset_params dp = glimp_dataset_default_params();
    glimp_eval_params ep = glimp_eval_default_params();
    glimp_router_params rp = glimp_router_default_params();
    glimp_local_params lp = glimp_local_default_params();
    glimp_error err = {0};
    ep.out_dir = "eval-out";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            eval_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || strncmp(a, "--", 2)) {
            fprintf(stderr, "glimp eval: %s needs a value (see glimp eval --help)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        char *end = NULL;
        errno = 0;
        if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--slm")) slm_path = v;
        else if (!strcmp(a, "--llm")) llm_path = v;
        else if (!strcmp(a, "--question-field")) dp.question_field = v;
        else if (!strcmp(a, "--answer-field")) dp.answer_field = v;
        else if (!strcmp(a, "--id-field")) dp.id_field = v;
        else if (!strcmp(a, "--prompt-template")) template_file = v;
        else if (!strcmp(a, "--template-slm")) tmpl_slm = v;
        else if (!strcmp(a, "--slm-model")) slm_model = v;
        else if (!strcmp(a, "--llm-model")) llm_model = v;
        else if (!strcmp(a, "--template-llm")) tmpl_llm = v;
        else if (!strcmp(a, "--policy")) policy_arg = argv[i];
        else if (!strcmp(a, "--tau")) tau_arg = argv[i];
        else if (!strcmp(a, "--out")) ep.out_dir = v;
        else if (!strcmp(a, "--grade")) {
            if (!strcmp(v, "integer")) dp.grade = GLIMP_GRADE_INTEGER;
            else if (!strcmp(v, "math")) dp.grade = GLIMP_GRADE_MATH;
            else if (!strcmp(v, "choice")) dp.grade = GLIMP_GRADE_CHOICE;
            else end = (char *)v;
        } else if (!strcmp(a, "--limit")) ep.limit = strtoul(v, &end, 10);
        else if (!strcmp(a, "--repeats")) ep.repeats = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--seed")) ep.seed = strtoull(v, &end, 10);
        else if (!strcmp(a, "--parallel")) ep.parallel = (int)strtol(v, &end, 10);
        else {
            glimp_status st = glimp_eval_router_option(a, v, &rp, &lp, &err);
            if (st == GLIMP_ERR_NOT_FOUND) {
                fprintf(stderr, "glimp eval: unknown option %s (see glimp eval --help)\n", a);
                return 2;
            }
            if (st != GLIMP_OK) {
                fprintf(stderr, "glimp eval: %s\n", err.msg);
                return 2;
            }
        }
        if (end && (*end || errno || end == v)) {
            fprintf(stderr, "glimp eval: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    if (!data || !slm_path || !llm_path) {
        eval_usage(stderr);
        return 2;
    }
    if (ep.repeats < 1 || ep.parallel < 1) {
        fprintf(stderr, "glimp eval: --repeats and --parallel must be >= 1\n");
        return 2;
    }

    char *policies[EVAL_MAX_LIST], *tau_text[EVAL_MAX_LIST];
    double taus[EVAL_MAX_LIST];
    char default_policy[] = "glimp", default_tau[] = "1.0";
    int np = split_list(policy_arg ? policy_arg : default_policy, policies);
    int nt = split_list(tau_arg ? tau_arg : default_tau, tau_text);
    for (int i = 0; i < np; i++) {
        glimp_router_params check = rp;
        if (glimp_router_parse_policy(policies[i], &check, &err) != GLIMP_OK) {
            fprintf(stderr, "glimp eval: %s\n", err.msg);
            return 2;
        }
    }
    for (int i = 0; i < nt; i++) {
        char *end;
        taus[i] = strtod(tau_text[i], &end);
        if (*end || end == tau_text[i] || !isfinite(taus[i])) {
            fprintf(stderr, "glimp eval: bad tau '%s'\n", tau_text[i]);
            return 2;
        }
    }
    ep.policies = (const char *const *)policies;
    ep.n_policies = (size_t)np;
    ep.taus = taus;
    ep.n_taus = (size_t)nt;

    char *tmpl = NULL;
    if (template_file && !(tmpl = read_text_file(template_file))) {
        fprintf(stderr, "glimp eval: cannot read %s: %s\n", template_file, strerror(errno));
        return 1;
    }
    ep.prompt_template = tmpl;
    char path[4096];
    dp.seed = ep.seed;
    glimp_dataset *ds = NULL;
    if (glimp_dataset_resolve(data, path, sizeof path, &err) == GLIMP_OK)
        ds = glimp_dataset_load(path, &dp, &err);
    if (!ds) {
        fprintf(stderr, "glimp eval: %s\n", err.msg);
        free(tmpl);
        return 1;
    }
    /* servers: one backend pair per worker; local models: one item at a time */
    bool servers = glimp_eval_is_server(slm_path) && glimp_eval_is_server(llm_path);
    if (ep.parallel > 1 && !servers) {
        fprintf(stderr, "glimp eval: local backends run one item at a time (--parallel %d ignored)\n",
                ep.parallel);
        ep.parallel = 1;
    }
    /* one backend serves both roles when both name the same model and template */
    bool shared = !strcmp(slm_path, llm_path) && same(slm_model, llm_model) &&
                  same(tmpl_slm, tmpl_llm);
    int rc = 1, nw = ep.parallel;
    glimp_backend **slm = calloc((size_t)nw, sizeof *slm), **llm = calloc((size_t)nw, sizeof *llm);
    if (!slm || !llm) {
        fprintf(stderr, "glimp eval: out of memory\n");
        goto done;
    }
    for (int w = 0; w < nw; w++) {
        slm[w] = glimp_eval_open_backend(slm_path, slm_model, tmpl_slm, &lp, &err);
        if (slm[w])
            llm[w] = shared ? slm[w]
                            : glimp_eval_open_backend(llm_path, llm_model, tmpl_llm, &lp, &err);
        if (!slm[w] || !llm[w]) {
            fprintf(stderr, "glimp eval: %s\n", err.msg);
            goto done;
        }
    }
    glimp_eval_router er = {slm, llm, nw, rp};
    progress_state ps = {isatty(fileno(stderr)) != 0, 0};
    ep.progress = show_progress;
    ep.progress_user = &ps;
    fprintf(stderr, "glimp eval: %s (%zu problems), %s -> %s\n", glimp_dataset_name(ds),
            glimp_dataset_count(ds), slm_path, llm_path);
    glimp_eval_counts c;
    glimp_status st = glimp_eval_run(ds, &ep, glimp_eval_solve_router, &er, &c, &err);
    fprintf(stderr, "glimp eval: %zu items planned, %zu already in %s/items.jsonl (skipped), "
                    "%zu run now, %zu failed\n", c.total, c.skipped, ep.out_dir, c.done, c.failed);
    if (st != GLIMP_OK) {
        fprintf(stderr, "glimp eval: %s\n", err.msg);
        goto done;
    }
    snprintf(path, sizeof path, "%s/summary.md", ep.out_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
    }
    rc = 0;
done:
    for (int w = 0; w < nw && slm && llm; w++) {
        if (llm[w] != slm[w]) glimp_backend_free(llm[w]);
        glimp_backend_free(slm[w]);
    }
    free(slm);
    free(llm);
    glimp_dataset_free(ds);
    free(tmpl);
    return rc;
}
