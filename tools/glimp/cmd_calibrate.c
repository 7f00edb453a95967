/* cmd_calibrate.c - `glimp calibrate`: runs SLM-only traces over sample
 * problems, collects the score a policy routes on for every step (H_init for
 * glimp; the draft's mean token entropy for hstep, its perplexity for
 * pplstep) and prints the tau that routes a target share of steps to the
 * LLM, with the score's quantiles. Only the SLM
 * is used (it also writes the one-token final answer nobody reads): a GGUF
 * file, or a server (then --parallel N runs N problems at once).
 * Exit 2 on usage errors, 1 when the model or data cannot be used.
 */
#include "cli_args.h"
#include "commands.h"
#include "eval_cli.h"
#include "glimp.h"
#include "router_opts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --policy is ours, tau what we compute; --seed is the run seed; one model. */
static const char *const calibrate_skip[] = {"policy", "tau", "seed", "template-llm", "final",
                                              "final-max-tokens", "spec", "draft-max",
                                              "draft-min", "reward-url", "reward-model",
                                              NULL};

static void calibrate_usage(FILE *out, const router_opts *ro)
{
    fprintf(out,
        "usage: glimp calibrate --slm MODEL --data FILE|NAME [options]\n\n"
        "Runs the SLM alone on sample problems, collects the score the policy routes\n"
        "on for every thinking step and prints the tau at which the target share of\n"
        "steps has a score >= tau (those the LLM would write), and the score's\n"
        "quantiles.\n\n"
        "  --policy P             glimp (H_init of the step's first token; default),\n"
        "                         hstep (the SLM's whole step: mean token entropy) or\n"
        "                         pplstep (its perplexity)\n"
        "  --target-share S       LLM share of steps wanted, 0 < S < 1 (0.25)\n"
        "  --limit N              problems to sample (20)\n"
        "  --seed S               seed (0)\n"
        "  --slm MODEL            GGUF file, or the URL of an OpenAI-compatible server\n"
        "  --slm-url URL          the same as --slm URL\n"
        "  --slm-model NAME       the server's model name (with a URL; a server also\n"
        "                         needs --template-slm)\n"
        "  --parallel N           concurrent problems with a server (1)\n"
        "  --data, --question-field, --answer-field, --id-field, --grade,\n"
        "  --prompt-template      as in glimp eval\n"
        "model:\n");
    router_opts_usage(ro, true, out);
    fprintf(out, "router (the final answer is skipped: the SLM writes 1 token nobody reads):\n");
    router_opts_usage(ro, false, out);
    fprintf(out, "  -h, --help             this help\n");
}

enum { OPT_SLM = 256, OPT_SLM_URL, OPT_SLM_MODEL, OPT_SHARE, OPT_POLICY };

static const struct option own_opts[] = {
    {"slm", required_argument, 0, OPT_SLM},
    {"slm-url", required_argument, 0, OPT_SLM_URL},
    {"slm-model", required_argument, 0, OPT_SLM_MODEL},
    {"target-share", required_argument, 0, OPT_SHARE},
    {"policy", required_argument, 0, OPT_POLICY},
    {"help", no_argument, 0, 'h'},
    EVAL_LONG_OPTIONS,
    {0, 0, 0, 0},
};

typedef struct calibrate_opts {
    const char *slm_path, *slm_model;
    double share;   /* --target-share */
    const char *policy; /* --policy: glimp, hstep or pplstep */
    eval_cli cli;   /* data and run options */
    router_opts ro; /* router and model options */
} calibrate_opts;

/* Returns 0 to go on, -1 after --help, else the exit code. */
static int parse_args(int argc, char **argv, calibrate_opts *o)
{
    static const char cmd[] = "glimp calibrate";
    struct option long_opts[48];
    if (!router_opts_table(&o->ro, own_opts, long_opts, 48)) return 1;
    int c;
    optind = 1;
    while ((c = cli_getopt(cmd, argc, argv, ROUTER_OPT_SHORT "h", long_opts)) != -1) {
        const char *a = optarg;
        char *end;
        switch (c) {
        case OPT_SLM: o->slm_path = a; break;
        case OPT_SLM_URL:
            if (!glimp_eval_is_server(a))
                return cli_bad_value(cmd, "--slm-url", a, "an http:// or https:// URL");
            o->slm_path = a;
            break;
        case OPT_SLM_MODEL: o->slm_model = a; break;
        case OPT_SHARE:
            o->share = strtod(a, &end);
            if (end == a || *end || !(o->share > 0 && o->share < 1))
                return cli_bad_value(cmd, "--target-share", a, "a number in (0, 1)");
            break;
        case OPT_POLICY:
            if (strcmp(a, "glimp") && strcmp(a, "hstep") && strcmp(a, "pplstep"))
                return cli_bad_value(cmd, "--policy", a, "glimp, hstep or pplstep");
            o->policy = a;
            break;
        case 'h': calibrate_usage(stdout, &o->ro); return -1;
        case '?': return CLI_USAGE;
        default:
            if (!eval_cli_set_any(&o->cli, &o->ro, c, a, cmd)) return CLI_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o->cli.data || !o->slm_path) return cli_usage_error(cmd, "need --slm and --data");
    return 0;
}

int cmd_calibrate(int argc, char **argv)
{
    calibrate_opts o = {.share = 0.25, .policy = "glimp"};
    eval_cli_init(&o.cli);
    router_opts_init(&o.ro, calibrate_skip);
    o.cli.eval.limit = 20;
    o.ro.router.final_by_slm = true;
    o.ro.router.final_max_tokens = 1;
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        router_opts_free(&o.ro);
        return rc < 0 ? 0 : rc;
    }
    glimp_eval_params *ep = &o.cli.eval;
    glimp_dataset *ds = eval_cli_load(&o.cli, "glimp calibrate");
    if (!glimp_eval_is_server(o.slm_path)) ep->parallel = 1; /* one local model, one item at a time */
    int nw = ep->parallel;
    rc = 1;
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = o.ro.n_threads;
    lp.n_ctx = o.ro.n_ctx;
    lp.kv_type = o.ro.kv_type;
    glimp_error err = {0};
    glimp_backend **slm = ds ? calloc((size_t)nw, sizeof *slm) : NULL;
    if (ds && !slm) snprintf(err.msg, sizeof err.msg, "out of memory");
    for (int w = 0; slm && w < nw; w++)
        if (!(slm[w] = glimp_eval_open_backend(o.slm_path, o.slm_model,
                                               o.ro.template_name[GLIMP_ROLE_SLM], &lp, &err)))
            break;
    if (!slm || !slm[nw - 1]) {
        if (ds) fprintf(stderr, "glimp calibrate: %s%s\n", err.msg,
                        err.status == GLIMP_ERR_NOT_FOUND ? " (--template-slm NAME)" : "");
        goto done;
    }
    glimp_eval_router er = {slm, slm, nw, o.ro.router, NULL};
    eval_progress ps = {isatty(fileno(stderr)) != 0, 0};
    ep->progress = eval_cli_progress;
    ep->progress_user = &ps;
    glimp_calibration c;
    /* glimp: the SLM's own traces with every step probed; hstep and pplstep
     * at an infinite tau: every draft stands, scored. */
    bool glimp = !strcmp(o.policy, "glimp");
    if (glimp_eval_calibrate(ds, ep, glimp ? "slm" : o.policy, glimp ? NAN : INFINITY, o.share,
                             glimp_eval_solve_router, &er, &c, &err) != GLIMP_OK) {
        fprintf(stderr, "glimp calibrate: %s\n", err.msg);
        goto done;
    }
    const char *score = !glimp ? (!strcmp(o.policy, "hstep") ? "H_step (mean token entropy)"
                                                              : "PPL_step (perplexity)")
                        : o.ro.router.entropy == GLIMP_ENTROPY_EXACT ? "H_init (exact)"
                                                                     : "H_init (top-K)";
    printf("%s of %zu steps from %zu problems of %s:\n", score, c.n_steps, c.n_problems,
           glimp_dataset_name(ds));
    printf("  min %.4f  mean %.4f  max %.4f\n", c.min, c.mean, c.max);
    for (int i = 0; i < 7; i++)
        printf("  q%-4g %.4f\n", 100 * glimp_calibration_levels[i], c.q[i]);
    printf("tau for an LLM step share of %.2f: %.4f\n", o.share, c.tau);
    printf("(use: glimp eval --policy %s --tau %.4f ...)\n", o.policy, c.tau);
    rc = 0;
done:
    for (int w = 0; slm && w < nw; w++) glimp_backend_free(slm[w]);
    free(slm);
    glimp_dataset_free(ds);
    eval_cli_free(&o.cli);
    router_opts_free(&o.ro);
    return rc;
}
