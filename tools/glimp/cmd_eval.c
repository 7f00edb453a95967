/* cmd_eval.c - `glimp eval`: runs every (policy, tau, problem, repeat) of a
 * dataset through the router, resumably, into an output folder (records,
 * run.json with the settings they depend on, summary, plots; see
 * docs/eval.md). Exit 2 on usage errors, 1 when the models, the data or the
 * output cannot be used (another run holds it, or its records were made
 * with other settings), or when items failed (the others are recorded; a
 * rerun retries the failed ones).
 */
#include "cli_args.h"
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
        "                         gsm8k lcb (from $GLIMP_DATA_DIR or ../shared/datasets)\n"
        "  --question-field F     field names for other files (question, answer, id)\n"
        "  --answer-field F\n"
        "  --id-field F\n"
        "  --grade KIND           integer | math | choice | code, for other files (math;\n"
        "                         code: LiveCodeBench rows, e.g. upstream test6.jsonl)\n"
        "  --prompt-template FILE prompt text with a {question} placeholder\n"
        "run:\n"
        "  --policy LIST          comma-separated: glimp llm slm random:P hstep pplstep\n"
        "                         specreason rsd speccot:N (glimp)\n"
        "  --tau LIST             comma-separated thresholds for the policies with one (1.0)\n"
        "  --limit N              first N problems (all)\n"
        "  --repeats K            runs per problem (1)\n"
        "  --seed S               run seed: item seeds and choice shuffles (0)\n"
        "  --out DIR              output folder (eval-out); a rerun resumes there when the\n"
        "                         settings match DIR/run.json, and refuses otherwise\n"
        "  --force-new            DIR holds records: move them to DIR/previous-N and start\n"
        "                         afresh\n"
        "  --parallel N           concurrent items (1); local models are loaded once and\n"
        "                         the items' steps share forward passes\n"
        "models:\n"
        "  --slm MODEL --llm MODEL GGUF files (the same file may serve as both), or the\n"
        "                         URLs of OpenAI-compatible servers (vLLM, SGLang, llama.cpp)\n"
        "  --slm-url URL          the same as --slm URL, likewise --llm-url\n"
        "  --llm-url URL\n"
        "  --slm-model NAME       a server's model name (with a URL), likewise --llm-model\n"
        "  --llm-model NAME       (a server also needs --template-slm/--template-llm)\n");
    router_opts_usage(ro, true, out);
    fprintf(out, "router:\n");
    router_opts_usage(ro, false, out);
    fprintf(out, "  -h, --help             this help\n");
}

enum { OPT_SLM = 256, OPT_LLM, OPT_SLM_URL, OPT_LLM_URL, OPT_SLM_MODEL, OPT_LLM_MODEL,
       OPT_POLICY, OPT_TAU, OPT_OUT, OPT_REPEATS, OPT_FORCE_NEW };

static const struct option own_opts[] = {
    {"slm", required_argument, 0, OPT_SLM},
    {"llm", required_argument, 0, OPT_LLM},
    {"slm-url", required_argument, 0, OPT_SLM_URL},
    {"llm-url", required_argument, 0, OPT_LLM_URL},
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
    static const char cmd[] = "glimp eval";
    struct option long_opts[64];
    if (!router_opts_table(&o->ro, own_opts, long_opts, 64)) return 1;
    int c;
    optind = 1;
    while ((c = cli_getopt(cmd, argc, argv, ROUTER_OPT_SHORT "h", long_opts)) != -1) {
        const char *a = optarg;
        char *end;
        switch (c) {
        case OPT_SLM: o->slm_path = a; break;
        case OPT_LLM: o->llm_path = a; break;
        case OPT_SLM_URL:
        case OPT_LLM_URL:
            if (!glimp_eval_is_server(a))
                return cli_bad_value(cmd, c == OPT_SLM_URL ? "--slm-url" : "--llm-url", a,
                                     "an http:// or https:// URL");
            *(c == OPT_SLM_URL ? &o->slm_path : &o->llm_path) = a;
            break;
        case OPT_SLM_MODEL: o->slm_model = a; break;
        case OPT_LLM_MODEL: o->llm_model = a; break;
        case OPT_POLICY: o->policies = optarg; break;
        case OPT_TAU: o->taus = optarg; break;
        case OPT_OUT: o->cli.eval.out_dir = a; break;
        case OPT_FORCE_NEW: o->cli.eval.force_new = true; break;
        case OPT_REPEATS: {
            long v = strtol(a, &end, 10);
            if (end == a || *end || v < 1 || v > 1 << 20)
                return cli_bad_value(cmd, "--repeats", a, "an integer in [1, 1048576]");
            o->cli.eval.repeats = (int)v;
            break;
        }
        case 'h': eval_usage(stdout, &o->ro); return -1;
        case '?': return CLI_USAGE;
        default:
            if (!eval_cli_set_any(&o->cli, &o->ro, c, a, cmd)) return CLI_USAGE;
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o->cli.data || !o->slm_path || !o->llm_path)
        return cli_usage_error(cmd, "need --data, --slm and --llm");
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
            cli_usage_error("glimp eval", "%s", err.msg);
            return false;
        }
        if (!policy) taus[i - np] = check.tau;
    }
    return true;
}

/* One reward model per worker from --reward-url / --reward-model (all NULL
 * without them, or when no policy is rsd: the LLM judges); NULL after
 * printing the error. */
static glimp_reward **open_rewards(const router_opts *ro, char **policies, int np, int nw)
{
    glimp_reward **rewards = calloc((size_t)nw, sizeof *rewards);
    if (!rewards) {
        fprintf(stderr, "glimp eval: out of memory\n");
        return NULL;
    }
    bool rsd = false;
    for (int i = 0; i < np; i++) rsd = rsd || !strcmp(policies[i], "rsd");
    glimp_error err = {0};
    for (int w = 0; rsd && w < nw; w++) {
        if (router_opts_open_reward(ro, &rewards[w], &err) != GLIMP_OK) {
            fprintf(stderr, "glimp eval: %s\n", err.msg);
            for (int k = 0; k < w; k++) glimp_reward_free(rewards[k]);
            free(rewards);
            return NULL;
        }
    }
    return rewards;
}

/* A local model loaded once for every worker, with a stepper and a prefix
 * pool when several workers run it at once (their steps then share forward
 * passes, and a prompt start one worker computed, such as the question
 * another policy is on, is copied by the others). */
typedef struct shared_model {
    glimp_model *model;
    glimp_tokenizer *tok;
    glimp_stepper *stepper;
    glimp_prefix_pool *prefixes;
} shared_model;

/* Loads `path` into sm and points lp at it; a server URL is left alone. */
static bool share_model(const char *path, int workers, shared_model *sm, glimp_local_params *lp,
                        glimp_error *err)
{
    if (glimp_eval_is_server(path)) return true;
    if (!(sm->model = glimp_model_load(path, NULL, err)) ||
        !(sm->tok = glimp_tokenizer_load(path, err)))
        return false;
    if (workers > 1 && (!(sm->stepper = glimp_stepper_create(sm->model, 512, lp->n_threads, err)) ||
                        !(sm->prefixes = glimp_prefix_pool_create(err))))
        return false;
    lp->model = sm->model;
    lp->tokenizer = sm->tok;
    lp->stepper = sm->stepper;
    lp->prefixes = sm->prefixes;
    return true;
}

static void shared_model_free(shared_model *sm)
{
    glimp_prefix_pool_free(sm->prefixes);
    glimp_stepper_free(sm->stepper);
    glimp_tokenizer_free(sm->tok);
    glimp_model_free(sm->model);
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
    glimp_reward **rewards = NULL;
    char *config = NULL;
    int nw = ep->parallel;
    shared_model sm[2] = {{0}};
    rc = 1;
    if (!ds) goto done;
    /* one backend serves both roles when both name the same model and template */
    const char *tmpl_slm = o.ro.template_name[GLIMP_ROLE_SLM];
    const char *tmpl_llm = o.ro.template_name[GLIMP_ROLE_LLM];
    bool shared = !strcmp(o.slm_path, o.llm_path) && same(o.slm_model, o.llm_model) &&
                  same(tmpl_slm, tmpl_llm);
    /* one backend pair per worker; a local model is loaded once for all */
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = o.ro.n_threads;
    lp.n_ctx = o.ro.n_ctx;
    lp.kv_type = o.ro.kv_type;
    glimp_local_params lp_llm = lp;
    glimp_error err = {0};
    /* what the records depend on: DIR/run.json (docs/eval.md, "Resuming") */
    const glimp_eval_models models = {{o.slm_path, o.llm_path}, {o.slm_model, o.llm_model},
                                      {tmpl_slm, tmpl_llm}, o.ro.n_ctx, o.ro.reward_url,
                                      o.ro.reward_model, o.ro.kv_type};
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
    bool same_file = !strcmp(o.slm_path, o.llm_path);
    if (!share_model(o.slm_path, nw, &sm[0], &lp, &err) ||
        (!same_file && !share_model(o.llm_path, nw, &sm[1], &lp_llm, &err))) {
        fprintf(stderr, "glimp eval: %s\n", err.msg);
        goto done;
    }
    if (same_file) { /* other templates or server names: the model all the same */
        lp_llm.model = lp.model;
        lp_llm.tokenizer = lp.tokenizer;
        lp_llm.stepper = lp.stepper;
        lp_llm.prefixes = lp.prefixes;
    }
    for (int w = 0; w < nw; w++) {
        slm[w] = glimp_eval_open_backend(o.slm_path, o.slm_model, tmpl_slm, &lp, &err);
        if (slm[w])
            llm[w] = shared ? slm[w]
                            : glimp_eval_open_backend(o.llm_path, o.llm_model, tmpl_llm, &lp_llm,
                                                      &err);
        if (!slm[w] || !llm[w]) {
            fprintf(stderr, "glimp eval: %s%s\n", err.msg, err.status == GLIMP_ERR_NOT_FOUND
                    ? " (--template-slm / --template-llm NAME)" : "");
            goto done;
        }
    }
    if (!(rewards = open_rewards(&o.ro, policies, np, nw))) goto done;
    router_opts_spec_note(&o.ro, slm[0], llm[0], "glimp eval");
    glimp_eval_router er = {slm, llm, nw, o.ro.router, rewards};
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
    if (c.code_no_netns)
        fprintf(stderr, "glimp eval: note: no network namespace here (unshare not permitted): "
                        "graded programs were kept off the network by the sandbox's socket "
                        "filter only\n");
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
    for (int r = 0; r < 2; r++) {
        unsigned long long passes = 0, steps = 0;
        if (!sm[r].stepper) continue;
        glimp_stepper_counts(sm[r].stepper, &passes, &steps);
        fprintf(stderr, "glimp eval: %s: %d workers on one copy, %llu steps in %llu forward "
                "passes, %llu prompt tokens copied between workers\n",
                r == GLIMP_ROLE_SLM ? o.slm_path : o.llm_path, nw, steps, passes,
                glimp_prefix_pool_copied(sm[r].prefixes));
    }
    eval_cli_print_summary(ep->out_dir);
    rc = 0;
done:
    for (int w = 0; w < nw && slm && llm; w++) {
        if (llm[w] != slm[w]) glimp_backend_free(llm[w]);
        glimp_backend_free(slm[w]);
    }
    for (int w = 0; w < nw && rewards; w++) glimp_reward_free(rewards[w]);
    free(rewards);
    free(slm);
    free(llm);
    shared_model_free(&sm[0]);
    shared_model_free(&sm[1]);
    free(config);
    glimp_dataset_free(ds);
    eval_cli_free(&o.cli);
    router_opts_free(&o.ro);
    return rc;
}
