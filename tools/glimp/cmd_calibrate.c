/* cmd_calibrate.c - `glimp calibrate`: runs SLM-only traces over sample
 * problems, collects H_init of every step and prints the tau that routes a
 * target share of steps to the LLM, with the H_init quantiles. Only the SLM
 * is used (it also writes the one-token final answer nobody reads): a GGUF
 * file, or a server (then --parallel N runs N problems at once).
 * Exit 2 on usage errors, 1 when the model or data cannot be used.
 */
#include "commands.h"
#include "glimp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void calibrate_usage(FILE *out)
{
    fprintf(out,
        "usage: glimp calibrate --slm MODEL --data FILE|NAME [options]\n\n"
        "Runs the SLM alone (policy slm) on sample problems, collects H_init of every\n"
        "thinking step and prints the tau at which the target share of steps has\n"
        "H_init >= tau (those the LLM would write), and the H_init quantiles.\n\n"
        "  --target-share S        LLM share of steps wanted, 0 < S < 1 (0.25)\n"
        "  --limit N               problems to sample (20)\n"
        "  --seed S                seed (0)\n"
        "  --slm URL --slm-model NAME  an OpenAI-compatible server instead of a GGUF file\n"
        "  --parallel N            concurrent problems with a server (1)\n"
        "  --data, --question-field, --answer-field, --id-field, --grade,\n"
        "  --prompt-template       as in glimp eval\n"
        "  --template-slm NAME     chat template instead of the model's own (\"raw\": none;\n"
        "                          required for a server)\n"
        "  --entropy topk:K|exact  --max-step-tokens N  --think-budget N  --temp T\n"
        "  --top-p P  --threads N  --ctx N                    as in glimp run\n");
}

static void show_progress(void *user, size_t done, size_t total, double elapsed)
{
    char line[256];
    bool tty = *(bool *)user;
    glimp_eval_progress_format(line, sizeof line, tty, done, total, elapsed);
    fputs(line, stderr);
    if (tty && done == total) fputc('\n', stderr);
}

int cmd_calibrate(int argc, char **argv)
{
    const char *data = NULL, *slm_path = NULL, *slm_model = NULL, *tmpl_slm = NULL;
    double share = 0.25;
    glimp_dataset_params dp = glimp_dataset_default_params();
    glimp_eval_params ep = glimp_eval_default_params();
    glimp_router_params rp = glimp_router_default_params();
    glimp_local_params lp = glimp_local_default_params();
    glimp_error err = {0};
    ep.limit = 20;
    rp.final_by_slm = true;
    rp.final_max_tokens = 1;
    const char *template_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            calibrate_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || strncmp(a, "--", 2)) {
            fprintf(stderr, "glimp calibrate: %s needs a value (see --help)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        char *end = NULL;
        errno = 0;
        if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--slm")) slm_path = v;
        else if (!strcmp(a, "--question-field")) dp.question_field = v;
        else if (!strcmp(a, "--answer-field")) dp.answer_field = v;
        else if (!strcmp(a, "--id-field")) dp.id_field = v;
        else if (!strcmp(a, "--prompt-template")) template_file = v;
        else if (!strcmp(a, "--template-slm")) tmpl_slm = v;
        else if (!strcmp(a, "--slm-model")) slm_model = v;
        else if (!strcmp(a, "--parallel")) ep.parallel = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--grade")) {
            if (!strcmp(v, "integer")) dp.grade = GLIMP_GRADE_INTEGER;
            else if (!strcmp(v, "math")) dp.grade = GLIMP_GRADE_MATH;
            else if (!strcmp(v, "choice")) dp.grade = GLIMP_GRADE_CHOICE;
            else end = (char *)v;
        } else if (!strcmp(a, "--target-share")) share = strtod(v, &end);
        else if (!strcmp(a, "--limit")) ep.limit = strtoul(v, &end, 10);
        else if (!strcmp(a, "--seed")) ep.seed = strtoull(v, &end, 10);
        else {
            glimp_status st = glimp_eval_router_option(a, v, &rp, &lp, &err);
            if (st != GLIMP_OK) {
                fprintf(stderr, "glimp calibrate: %s\n", err.msg);
                return 2;
            }
        }
        if (end && (*end || errno || end == v)) {
            fprintf(stderr, "glimp calibrate: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    if (!data || !slm_path) {
        calibrate_usage(stderr);
        return 2;
    }
    if (ep.parallel < 1) {
        fprintf(stderr, "glimp calibrate: --parallel must be >= 1\n");
        return 2;
    }
    if (!(share > 0 && share < 1)) {
        fprintf(stderr, "glimp calibrate: --target-share must be in (0, 1)\n");
        return 2;
    }
    char *tmpl = NULL;
    if (template_file) {
        FILE *f = fopen(template_file, "rb");
        long n = -1;
        if (f && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
        if (n >= 0 && (tmpl = calloc((size_t)n + 1, 1)) != NULL) {
            rewind(f);
            if (fread(tmpl, 1, (size_t)n, f) != (size_t)n) n = -1;
        }
        if (f) fclose(f);
        if (n < 0 || !tmpl) {
            fprintf(stderr, "glimp calibrate: cannot read %s\n", template_file);
            free(tmpl);
            return 1;
        }
        ep.prompt_template = tmpl;
    }
    char path[4096];
    dp.seed = ep.seed;
    glimp_dataset *ds = NULL;
    if (glimp_dataset_resolve(data, path, sizeof path, &err) == GLIMP_OK)
        ds = glimp_dataset_load(path, &dp, &err);
    if (!glimp_eval_is_server(slm_path)) ep.parallel = 1; /* one local model, one item at a time */
    int rc = 1, nw = ep.parallel;
    glimp_backend **slm = ds ? calloc((size_t)nw, sizeof *slm) : NULL;
    if (ds && !slm) snprintf(err.msg, sizeof err.msg, "out of memory");
    for (int w = 0; slm && w < nw; w++)
        if (!(slm[w] = glimp_eval_open_backend(slm_path, slm_model, tmpl_slm, &lp, &err))) break;
    if (!slm || !slm[nw - 1]) {
        fprintf(stderr, "glimp calibrate: %s\n", err.msg);
        goto done;
    }
    glimp_eval_router er = {slm, slm, nw, rp};
    bool tty = isatty(fileno(stderr)) != 0;
    ep.progress = show_progress;
    ep.progress_user = &tty;
    glimp_calibration c;
    if (glimp_eval_calibrate(ds, &ep, "slm", NAN, share, glimp_eval_solve_router, &er, &c, &err) !=
        GLIMP_OK) {
        fprintf(stderr, "glimp calibrate: %s\n", err.msg);
        goto done;
    }
    printf("H_init (%s) of %zu steps from %zu problems of %s:\n",
           rp.entropy == GLIMP_ENTROPY_EXACT ? "exact" : "top-K", c.n_steps, c.n_problems,
           glimp_dataset_name(ds));
    printf("  min %.4f  mean %.4f  max %.4f\n", c.min, c.mean, c.max);
    for (int i = 0; i < 7; i++)
        printf("  q%-4g %.4f\n", 100 * glimp_calibration_levels[i], c.q[i]);
    printf("tau for an LLM step share of %.2f: %.4f\n", share, c.tau);
    printf("(use: glimp eval --policy glimp --tau %.4f ...)\n", c.tau);
    rc = 0;
done:
    for (int w = 0; slm && w < nw; w++) glimp_backend_free(slm[w]);
    free(slm);
    glimp_dataset_free(ds);
    free(tmpl);
    return rc;
}
