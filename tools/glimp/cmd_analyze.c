/* cmd_analyze.c - `glimp analyze`: the signal analysis of SLM-written steps
 * (glimp_analyzer). The traces come from running the SLM alone (policy
 * slm) on --data problems, or from an existing `glimp eval` folder
 * (--from DIR: the SLM-written steps of every record). Prints signals.md.
 * Exit 2 on usage errors, 1 when a model, the data or the output fails.
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
#include <time.h>
#include <unistd.h>

static const char cmd[] = "glimp analyze";

/* The policy is slm; --seed is the run seed; the final answer is skipped. */
static const char *const analyze_skip[] = {"policy", "tau", "seed", "final", "final-max-tokens",
                                            "spec", "draft-max", "draft-min", "reward-url",
                                            "reward-model", NULL};

static void analyze_usage(FILE *out, const router_opts *ro)
{
    fprintf(out,
        "usage: glimp analyze --slm SLM.gguf --llm MODEL --data FILE|NAME --out DIR [options]\n"
        "       glimp analyze --slm SLM.gguf --llm MODEL --from EVAL_DIR --out DIR [options]\n\n"
        "Signal analysis: for every thinking step the SLM wrote, the signals a router\n"
        "could decide on and whether the LLM would have written that step differently.\n"
        "Traces come from running the SLM alone (policy slm) on the first --limit\n"
        "problems of --data, or from the records of a `glimp eval` folder (--from).\n"
        "Per step:\n"
        "  h_init    the SLM's entropy of the step's first token (--entropy's estimator)\n"
        "  h_step    the SLM's mean token entropy over the step (whole vocabulary)\n"
        "  ppl_step  the SLM's perplexity of the step\n"
        "  judge     the LLM judge's score 0-9 (the specreason policy's judge)\n"
        "and two labels: disagree (the LLM's greedy first token after the same context\n"
        "differs from the step's) and low_ll (the LLM's log-probability per token of\n"
        "the step is below --ll-threshold, default the median). The step's tokens are\n"
        "teacher-forced through the SLM; its text includes the \"\\n\\n\" after it.\n\n"
        "Writes DIR/steps.csv (one row per step), DIR/signals.csv and DIR/signals.md\n"
        "(per signal: AUROC for each label, ties counting 1/2, the judge's negated;\n"
        "the sample bimodality coefficient (G1^2 + 1) / (G2 + 3(n-1)^2/((n-2)(n-3)))\n"
        "with G1, G2 the sample skewness and excess kurtosis, > 5/9 suggesting two\n"
        "modes; mean, sd, G1, G2) and DIR/hist_<signal>.svg, stacked by disagree.\n\n"
        "  --slm FILE             the SLM: a GGUF file (its every token's distribution\n"
        "                         is read, which a server does not give)\n"
        "  --llm MODEL            the LLM: a GGUF file, or the URL of an OpenAI-compatible\n"
        "                         server (with --llm-model and --template-llm)\n"
        "  --llm-model NAME       the server's model name\n"
        "  --from DIR             analyze DIR/items.jsonl instead of running the SLM\n"
        "  --out DIR              where the report goes (created, parents included)\n"
        "  --ll-threshold X       low_ll: log-probability per token below X (the median)\n"
        "  --limit N              problems to run with --data (20)\n"
        "  --seed S               run seed (0); problem i runs with seed S + i\n"
        "  --data, --question-field, --answer-field, --id-field, --grade,\n"
        "  --prompt-template      as in glimp eval\n"
        "model:\n");
    router_opts_usage(ro, true, out);
    fprintf(out, "router (the SLM's run; no final answer is written):\n");
    router_opts_usage(ro, false, out);
    fprintf(out,
        "  -h, --help             this help\n\n"
        "example:\n"
        "  glimp analyze --slm models/demo/slm.gguf --llm models/demo/llm.gguf \\\n"
        "      --data models/demo/bench.jsonl --limit 100 --out analyze-demo\n");
}

enum { OPT_SLM = 256, OPT_LLM, OPT_LLM_MODEL, OPT_FROM, OPT_OUT, OPT_LL };

static const struct option own_opts[] = {
    {"slm", required_argument, 0, OPT_SLM},
    {"llm", required_argument, 0, OPT_LLM},
    {"llm-model", required_argument, 0, OPT_LLM_MODEL},
    {"from", required_argument, 0, OPT_FROM},
    {"out", required_argument, 0, OPT_OUT},
    {"ll-threshold", required_argument, 0, OPT_LL},
    {"help", no_argument, 0, 'h'},
    EVAL_LONG_OPTIONS,
    {0, 0, 0, 0},
};

typedef struct analyze_opts {
    const char *slm, *llm, *llm_model, *from, *out;
    double ll_threshold;
    eval_cli cli;
    router_opts ro;
} analyze_opts;

/* Returns 0 to go on, -1 after --help, else the exit code. */
static int parse_args(int argc, char **argv, analyze_opts *o)
{
    struct option long_opts[48];
    if (!router_opts_table(&o->ro, own_opts, long_opts, 48)) return 1;
    int c;
    optind = 1;
    while ((c = cli_getopt(cmd, argc, argv, ROUTER_OPT_SHORT "h", long_opts)) != -1) {
        const char *a = optarg;
        char *end;
        switch (c) {
        case OPT_SLM: o->slm = a; break;
        case OPT_LLM: o->llm = a; break;
        case OPT_LLM_MODEL: o->llm_model = a; break;
        case OPT_FROM: o->from = a; break;
        case OPT_OUT: o->out = a; break;
        case OPT_LL:
            o->ll_threshold = strtod(a, &end);
            if (end == a || *end || !isfinite(o->ll_threshold))
                return cli_bad_value(cmd, "--ll-threshold", a, "a number");
            break;
        case 'h': analyze_usage(stdout, &o->ro); return -1;
        case '?': return CLI_USAGE;
        default:
            if (!eval_cli_set_any(&o->cli, &o->ro, c, a, cmd)) return CLI_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o->slm || !o->llm || !o->out) return cli_usage_error(cmd, "need --slm, --llm and --out");
    if (!o->cli.data == !o->from) return cli_usage_error(cmd, "need one of --data and --from");
    if (glimp_eval_is_server(o->slm))
        return cli_bad_value(cmd, "--slm", o->slm, "a GGUF file (not a server)");
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs the SLM alone on the first --limit problems, analyzing each trace;
 * false after a message on stderr. */
static bool run_data(analyze_opts *o, glimp_analyzer *an, glimp_backend *llm)
{
    glimp_dataset *ds = eval_cli_load(&o->cli, cmd);
    if (!ds) return false;
    glimp_error e = {0}, *err = &e;
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = o->ro.n_threads;
    lp.n_ctx = o->ro.n_ctx;
    glimp_backend *slm = glimp_eval_open_backend(o->slm, NULL, o->ro.template_name[GLIMP_ROLE_SLM],
                                                 &lp, err);
    size_t n = glimp_dataset_count(ds), limit = o->cli.eval.limit;
    if (limit && limit < n) n = limit;
    glimp_eval_router er = {&slm, &llm, 1, o->ro.router, NULL};
    glimp_status st = slm ? GLIMP_OK : GLIMP_ERR_IO;
    const char *failed = NULL; /* the problem that failed */
    bool tty = isatty(fileno(stderr)) != 0;
    double t0 = now_s();
    for (size_t i = 0; st == GLIMP_OK && i < n; i++) {
        const glimp_eval_problem *pb = glimp_dataset_problem(ds, i);
        char *prompt = NULL, *trace = NULL;
        st = glimp_eval_render_prompt(o->cli.eval.prompt_template, pb, &prompt, err);
        glimp_eval_task task = {.problem = pb, .prompt = prompt, .policy = "slm", .tau = NAN,
                                .seed = o->cli.eval.seed + i};
        if (st == GLIMP_OK) st = glimp_eval_solve_router(&er, &task, &trace, err);
        if (st == GLIMP_OK) st = glimp_analyzer_add_trace(an, pb->id, trace, err);
        if (st != GLIMP_OK) failed = pb->id;
        free(prompt);
        free(trace);
        if (tty || (i + 1) % 25 == 0 || i + 1 == n)
            fprintf(stderr, "%s%s: %zu/%zu problems, %zu steps, %.0f s%s", tty ? "\r" : "", cmd,
                    i + 1, n, glimp_analyzer_n_steps(an), now_s() - t0,
                    tty && i + 1 < n ? "" : "\n");
    }
    if (st != GLIMP_OK && failed) fprintf(stderr, "%s: problem %s: %s\n", cmd, failed, e.msg);
    else if (st != GLIMP_OK) fprintf(stderr, "%s: %s: %s\n", cmd, o->slm, e.msg);
    glimp_backend_free(slm);
    glimp_dataset_free(ds);
    return st == GLIMP_OK;
}

int cmd_analyze(int argc, char **argv)
{
    analyze_opts o = {.ll_threshold = NAN};
    eval_cli_init(&o.cli);
    router_opts_init(&o.ro, analyze_skip);
    o.cli.eval.limit = 20;
    o.ro.router.final_by_slm = true; /* nobody reads the answer: one SLM token */
    o.ro.router.final_max_tokens = 1;
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        router_opts_free(&o.ro);
        eval_cli_free(&o.cli);
        return rc < 0 ? 0 : rc;
    }
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = o.ro.n_threads;
    lp.n_ctx = o.ro.n_ctx;
    glimp_backend *llm = glimp_eval_open_backend(o.llm, o.llm_model,
                                                 o.ro.template_name[GLIMP_ROLE_LLM], &lp, &err);
    glimp_analyze_params ap = glimp_analyze_default_params();
    ap.slm_path = o.slm;
    ap.slm_template = o.ro.template_name[GLIMP_ROLE_SLM];
    ap.n_ctx = o.ro.n_ctx;
    ap.n_threads = o.ro.n_threads;
    ap.entropy = o.ro.router.entropy;
    ap.entropy_top_k = o.ro.router.entropy_top_k;
    ap.ll_threshold = o.ll_threshold;
    glimp_analyzer *an = llm ? glimp_analyzer_create(&ap, llm, &err) : NULL;
    glimp_status st = an ? GLIMP_OK : GLIMP_ERR_IO;
    bool said = false; /* the error is on stderr already */
    size_t traces = 0;
    if (st == GLIMP_OK && o.from) st = glimp_analyzer_add_eval_dir(an, o.from, &traces, &err);
    else if (st == GLIMP_OK && !run_data(&o, an, llm)) st = GLIMP_ERR_IO, said = true;
    if (st == GLIMP_OK && o.from)
        fprintf(stderr, "%s: %zu traces of %s, %zu SLM steps\n", cmd, traces, o.from,
                glimp_analyzer_n_steps(an));
    if (st == GLIMP_OK) st = glimp_analyzer_write(an, o.out, &err);
    if (st == GLIMP_OK) {
        char path[4096];
        snprintf(path, sizeof path, "%s/signals.md", o.out);
        FILE *f = fopen(path, "r");
        char buf[4096];
        size_t got;
        while (f && (got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, stdout);
        if (f) fclose(f);
        printf("\nwritten: %s/{steps.csv,signals.csv,signals.md,hist_*.svg}\n", o.out);
    } else if (!said) {
        fprintf(stderr, "%s: %s\n", cmd, err.msg);
    }
    glimp_analyzer_free(an);
    glimp_backend_free(llm);
    eval_cli_free(&o.cli);
    router_opts_free(&o.ro);
    return st == GLIMP_OK ? 0 : 1;
}
