/* cmd_eval.c - `glimp eval`: runs every (policy, tau, problem, repeat) of a
 * dataset through the router, resumably, into an output folder (records,
 * run.json with the settings they depend on, summary, plots; see
 * docs/eval.md). Exit 2 on usage errors, 1 when the models, the data or the
 * output cannot be used (another run holds it, or its records were made
 * with other settings), or when items failed (the others are recorded; a
 * rerun retries the failed ones).
 */
#include "commands.h"
#include "eval_cli.h"
#include "glimp.h"
#include "router_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EVAL_MAX_LIST = 32 };

/* --policy and --tau are lists here and --seed is the run seed (eval_cli.h). */
static const char *const eval_skip[] = {"policy", "tau", "seed", NULL};

static void eval_usage(FILE *out, const router_opts *ro)
{
    fprintf(out,
        "usage: glimp eval --data FILE|NAME --slm MODEL --llm MODEL [options]\n\n"
        "Runs every (policy, tau, problem, repeat) once and writes DIR/items.jsonl\n"
        "(one record per item, resumable), DIR/summary.csv, DIR/summary.md and plots.\n\n"
        "data:\n"
        "  --data FILE|NAME       JSONL file, or aime24 aime25 amc23 math500 gpqa_diamond\n"
        "                         gsm8k (from $GLIMP_DATA_DIR or ../shared/datasets)\n"
        "  --question-field F     field names for other files (question, answer, id)\n"
        "  --answer-field F\n"
        "  --id-field F\n"
        "  --grade KIND           integer | math | choice, for other files (math)\n"
        "  --prompt-template FILE prompt text with a {question} placeholder\n"
        "run:\n"
        "  --policy LIST          comma-separated: glimp llm slm random:P hstep pplstep\n"
        "                         specreason (glimp)\n"
        "  --tau LIST             comma-separated thresholds for the policies with one (1.0)\n"
        "  --limit N              first N problems (all)\n"
        "  --repeats K            runs per problem (1)\n"
        "  --seed S               run seed: item seeds and choice shuffles (0)\n"
        "  --out DIR              output folder (eval-out); a rerun resumes there when the\n"
        "                         settings match DIR/run.json, and refuses otherwise\n"
        "  --force-new            DIR holds records: move them to DIR/previous-N and start\n"
        "                         afresh\n"
        "  --parallel N           concurrent items when both models are servers (1); local\n"
        "                         models run one item at a time\n"
        "models:\n"
        "  --slm MODEL --llm MODEL GGUF files (the same file may serve as both), or the\n"
        "                         URLs of OpenAI-compatible servers (vLLM, SGLang, llama.cpp)\n"
        "  --slm-model NAME       a server's model name (with a URL), likewise --llm-model\n"
        "  --llm-model NAME\n");
    router_opts_usage(ro, true, out);
    fprintf(out, "router:\n");
    router_opts_usage(ro, false, out);
    fprintf(out, "  -h, --help             this help\n");
}

enum { OPT_SLM = 256, OPT_LLM, OPT_SLM_MODEL, OPT_LLM_MODEL, OPT_POLICY, OPT_TAU, OPT_OUT,
       OPT_REPEATS, OPT_FORCE_NEW };

static const struct option own_opts[] = {
    {"slm", required_argument, 0, OPT_SLM},
    {"llm", required_argument, 0, OPT_LLM},
    {"slm-model", required_argument, 0, OPT_SLM_MODEL},
    {"llm-model", required_argument, 0, OPT_LLM_MODEL},
    {"policy", required_argument, 0, OPT_POLICY},
    {"tau", required_argument, 0, OPT_TAU},
    {"out", required_argument, 0, OPT_OUT},
    {"repeats", required_argument, 0, OPT_REPEATS},
    {"force-new", no_argument, 0, OPT_FORCE_NEW},
    {"help", no_argument, 0, 'h'},
    EVAL_LONG_OPTIONS,
    {0, 0, 0, 0},
};

typedef struct eval_opts {
    const char *slm_path, *llm_path, *slm_model, *llm_model;
    char *policies, *taus; /* the comma lists, split in place (argv) */
    eval_cli cli;  /* data and run options */
    router_opts ro; /* router and model options */
} eval_opts;

/* Returns 0 to go on, -1 after --help, else the exit code. */
static int parse_args(int argc, char **argv, eval_opts *o)
{
    struct option long_opts[64];
    if (!router_opts_table(&o->ro, own_opts, long_opts, 64)) return 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ROUTER_OPT_SHORT "h", long_opts, NULL)) != -1) {
        const char *a = optarg;
        char *end;
        switch (c) {
        case OPT_SLM: o->slm_path = a; break;
        case OPT_LLM: o->llm_path = a; break;
        case OPT_SLM_MODEL: o->slm_model = a; break;
        case OPT_LLM_MODEL: o->llm_model = a; break;
        case OPT_POLICY: o->policies = optarg; break;
        case OPT_TAU: o->taus = optarg; break;
        case OPT_OUT: o->cli.eval.out_dir = a; break;
        case OPT_FORCE_NEW: o->cli.eval.force_new = true; break;
        case OPT_REPEATS: {
            long v = strtol(a, &end, 10);
            if (end == a || *end || v < 1 || v > 1 << 20) {
                fprintf(stderr, "glimp eval: --repeats: '%s' is not an integer in [1, %d]\n", a,
                        1 << 20);
                return 2;
            }
            o->cli.eval.repeats = (int)v;
            break;
        }
        case 'h': eval_usage(stdout, &o->ro); return -1;
        default:
            if (eval_cli_owns(c)) {
                if (!eval_cli_set(&o->cli, c, a, "glimp eval")) return 2;
            } else if (router_opt_owns(c)) {
                if (!router_opt_set(&o->ro, c, a, "glimp eval")) return 2;
            } else {
                eval_usage(stderr, &o->ro);
                return 2;
            }
        }
    }
    if (optind < argc || !o->cli.data || !o->slm_path || !o->llm_path) {
        eval_usage(stderr, &o->ro);
        return 2;
    }
    return 0;
}

/* Splits a comma list in place into v (at most EVAL_MAX_LIST). */
static int split_list(char *s, char **v)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < EVAL_MAX_LIST; tok = strtok(NULL, ","))
        if (*tok) v[n++] = tok;
    return n;
}

/* Checks every policy and tau of the lists with the router's own option
 * parser (the ranges of glimp run); the taus go to taus[]. */
static bool check_lists(char **policies, int np, char **tau_text, int nt, double *taus,
                        const glimp_router_params *rp)
{
    glimp_error err = {0};
    for (int i = 0; i < np + nt; i++) {
        glimp_router_params check = *rp;
        bool policy = i < np;
        if (glimp_router_set_option(&check, policy ? "policy" : "tau",
                                    policy ? policies[i] : tau_text[i - np], &err) != GLIMP_OK) {
            fprintf(stderr, "glimp eval: %s\n", err.msg);
            return false;
        }
        if (!policy) taus[i - np] = check.tau;
    }
    return true;
}

/* Equal strings, or both absent. */
static bool same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o = {0};
    eval_cli_init(&o.cli);
    router_opts_init(&o.ro, eval_skip);
    o.cli.eval.out_dir = "eval-out";
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        router_opts_free(&o.ro);
        return rc < 0 ? 0 : rc;
    }
    glimp_eval_params *ep = &o.cli.eval;
    char *policies[EVAL_MAX_LIST], *tau_text[EVAL_MAX_LIST];
    double taus[EVAL_MAX_LIST];
    char default_policy[] = "glimp", default_tau[] = "1.0";
    int np = split_list(o.policies ? o.policies : default_policy, policies);
    int nt = split_list(o.taus ? o.taus : default_tau, tau_text);
    if (!check_lists(policies, np, tau_text, nt, taus, &o.ro.router)) {
        router_opts_free(&o.ro);
        return 2;
    }
    ep->policies = (const char *const *)policies;
    ep->n_policies = (size_t)np;
    ep->taus = taus;
    ep->n_taus = (size_t)nt;

    glimp_dataset *ds = eval_cli_load(&o.cli, "glimp eval");
    glimp_backend **slm = NULL, **llm = NULL;
    char *config = NULL;
    int nw = ep->parallel;
    rc = 1;
    if (!ds) goto done;
    /* servers: one backend pair per worker; local models: one item at a time */
    bool servers = glimp_eval_is_server(o.slm_path) && glimp_eval_is_server(o.llm_path);
    if (nw > 1 && !servers) {
        fprintf(stderr, "glimp eval: local backends run one item at a time (--parallel %d ignored)\n",
                nw);
        ep->parallel = nw = 1;
    }
    /* one backend serves both roles when both name the same model and template */
    const char *tmpl_slm = o.ro.template_name[GLIMP_ROLE_SLM];
    const char *tmpl_llm = o.ro.template_name[GLIMP_ROLE_LLM];
    bool shared = !strcmp(o.slm_path, o.llm_path) && same(o.slm_model, o.llm_model) &&
                  same(tmpl_slm, tmpl_llm);
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = o.ro.n_threads;
    lp.n_ctx = o.ro.n_ctx;
    lp.kv_type = o.ro.kv_type;
    glimp_error err = {0};
    /* what the records depend on: DIR/run.json (docs/eval.md, "Resuming") */
    const glimp_eval_models models = {
        {o.slm_path, o.llm_path}, {o.slm_model, o.llm_model}, {tmpl_slm, tmpl_llm}, o.ro.n_ctx};
    if (!(config = glimp_eval_router_config(&models, &o.ro.router, &err))) {
        fprintf(stderr, "glimp eval: %s\n", err.msg);
        goto done;
    }
    ep->config = config;
    slm = calloc((size_t)nw, sizeof *slm);
    llm = calloc((size_t)nw, sizeof *llm);
    if (!slm || !llm) {
        fprintf(stderr, "glimp eval: out of memory\n");
        goto done;
    }
    for (int w = 0; w < nw; w++) {
        slm[w] = glimp_eval_open_backend(o.slm_path, o.slm_model, tmpl_slm, &lp, &err);
        if (slm[w])
            llm[w] = shared ? slm[w]
                            : glimp_eval_open_backend(o.llm_path, o.llm_model, tmpl_llm, &lp, &err);
        if (!slm[w] || !llm[w]) {
            fprintf(stderr, "glimp eval: %s\n", err.msg);
            goto done;
        }
    }
    glimp_eval_router er = {slm, llm, nw, o.ro.router};
    eval_progress ps = {isatty(fileno(stderr)) != 0, 0};
    ep->progress = eval_cli_progress;
    ep->progress_user = &ps;
    fprintf(stderr, "glimp eval: %s (%zu problems), %s -> %s\n", glimp_dataset_name(ds),
            glimp_dataset_count(ds), o.slm_path, o.llm_path);
    glimp_eval_counts c;
    glimp_status st = glimp_eval_run(ds, ep, glimp_eval_solve_router, &er, &c, &err);
    if (c.stale_lock_pid)
        fprintf(stderr, "glimp eval: took over %s/run.lock, left by PID %ld, which is no longer "
                        "running\n", ep->out_dir, c.stale_lock_pid);
    if (c.previous)
        fprintf(stderr, "glimp eval: --force-new: moved the previous items.jsonl and run.json to "
                        "%s/previous-%d (glimp report %s/previous-%d rebuilds their summary)\n",
                ep->out_dir, c.previous, ep->out_dir, c.previous);
    if (st != GLIMP_OK && !c.total) { /* refused before planning: nothing ran */
        fprintf(stderr, "glimp eval: %s\n", err.msg);
        goto done;
    }
    fprintf(stderr, "glimp eval: %zu items planned, %zu already in %s/items.jsonl (skipped), "
                    "%zu run now, %zu failed\n", c.total, c.skipped, ep->out_dir, c.done, c.failed);
    if (st != GLIMP_OK) {
        fprintf(stderr, "glimp eval: %s\n", err.msg);
        goto done;
    }
    eval_cli_print_summary(ep->out_dir);
    rc = 0;
done:
    for (int w = 0; w < nw && slm && llm; w++) {
        if (llm[w] != slm[w]) glimp_backend_free(llm[w]);
        glimp_backend_free(slm[w]);
    }
    free(slm);
    free(llm);
    free(config);
    glimp_dataset_free(ds);
    eval_cli_free(&o.cli);
    router_opts_free(&o.ro);
    return rc;
}
