/* cmd_run.c - `glimp run`: route one question's thinking between a small and
 * a large model and print the thinking, the answer and a summary.
 *
 * The thinking streams as it is written, each step opened by a tag naming
 * its writer and H_init (coloured on a terminal, plain when piped or when
 * NO_COLOR is set); then the final answer and a table of steps, tokens and
 * time per model. --quiet prints only the answer, --json only the result as
 * one JSON object; --trace FILE also writes the trace as JSON Lines.
 * Ctrl-C (SIGINT) stops the run at its next token: what was done so far
 * (the steps, a partial summary) is printed and the exit code is 130.
 * Exit 0 on success, 1 when loading or running fails (message on stderr),
 * 2 on usage errors (cli_args.h).
 */
#include "cli_args.h"
#include "commands.h"
#include "remote_opts.h"
#include "router_opts.h"

#include "glimp.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct run_opts {
    const char *slm_path, *llm_path, *file, *trace, *question;
    bool json, quiet;
    router_opts ro;     /* routing and model options (router_opts.h) */
    remote_opts remote; /* --slm-url ... (remote_opts.h) */
} run_opts;

static void usage(FILE *out, const run_opts *o)
{
    fprintf(out,
"usage: glimp run --slm SLM.gguf --llm LLM.gguf [options] \"question\"\n"
"       glimp run ... --file QUESTION.txt      (or the question on stdin)\n"
"       glimp run --slm URL --slm-model NAME --template-slm T ...   (a server)\n"
"\n"
"The SLM decodes the first token of each thinking step; when the entropy of\n"
"that distribution (H_init) is >= tau the LLM writes the step, else the SLM\n"
"does. The LLM writes the final answer. The same file may serve as both.\n"
"\n"
"models:\n"
"  --slm FILE|URL         small model: GGUF file, or an OpenAI-compatible\n"
"                         server's URL (the same as --slm-url URL)\n"
"  --llm FILE|URL         large model, likewise\n");
    router_opts_usage(&o->ro, true, out);
    fprintf(out, "\nrouting and generation:\n");
    router_opts_usage(&o->ro, false, out);
    fprintf(out,
"\n"
"output:\n"
"  --file F               read the question from F (\"-\" = stdin)\n"
"  --trace FILE           write the trace as JSON Lines (a line per step,\n"
"                         then a summary line)\n"
"  --json                 print only the whole result as one JSON object\n"
"  --quiet                print only the final answer\n"
"  -h, --help             this help\n\n");
    remote_opts_usage(out);
}

enum { OPT_SLM = 256, OPT_LLM, OPT_FILE, OPT_TRACE, OPT_JSON, OPT_QUIET };

static const struct option own_opts[] = {
    {"slm", required_argument, 0, OPT_SLM},
    {"llm", required_argument, 0, OPT_LLM},
    {"file", required_argument, 0, OPT_FILE},
    {"trace", required_argument, 0, OPT_TRACE},
    {"json", no_argument, 0, OPT_JSON},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, 'h'},
    REMOTE_LONG_OPTIONS,
    {0, 0, 0, 0},
};

/* Returns 0 to go on, else the exit code (2 usage, -1 after --help). */
static int parse_args(int argc, char **argv, run_opts *o)
{
    static const char cmd[] = "glimp run";
    struct option long_opts[64];
    if (!router_opts_table(&o->ro, own_opts, long_opts, 64)) return 1;
    int c;
    optind = 1;
    while ((c = cli_getopt(cmd, argc, argv, ROUTER_OPT_SHORT "h", long_opts)) != -1) {
        const char *a = optarg;
        switch (c) {
        case OPT_SLM: /* a URL is a server: --slm URL is --slm-url URL */
        case OPT_LLM: {
            glimp_role role = c == OPT_SLM ? GLIMP_ROLE_SLM : GLIMP_ROLE_LLM;
            if (glimp_eval_is_server(a)) o->remote.url[role] = a;
            else *(role == GLIMP_ROLE_SLM ? &o->slm_path : &o->llm_path) = a;
            break;
        }
        case OPT_FILE: o->file = a; break;
        case OPT_TRACE: o->trace = a; break;
        case OPT_JSON: o->json = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case 'h': usage(stdout, o); return -1;
        case '?': return CLI_USAGE;
        default:
            if (router_opt_owns(c)) {
                if (!router_opt_set(&o->ro, c, a, cmd)) return CLI_USAGE;
            } else if (!remote_opt_set(&o->remote, c, a, cmd)) {
                return CLI_USAGE;
            }
        }
    }
    if (optind < argc) o->question = argv[optind++];
    if (!remote_check(&o->remote, cmd)) return CLI_USAGE;
    if (!o->slm_path && !remote_is_set(&o->remote, GLIMP_ROLE_SLM))
        return cli_usage_error(cmd, "no small model: give --slm FILE or --slm URL");
    if (!o->llm_path && !remote_is_set(&o->remote, GLIMP_ROLE_LLM))
        return cli_usage_error(cmd, "no large model: give --llm FILE or --llm URL");
    if (optind < argc)
        return cli_usage_error(cmd, "'%s': give the question as one argument (quote it)",
                               argv[optind]);
    if (o->question && o->file)
        return cli_usage_error(cmd, "give the question as an argument or with --file, not both");
    if (o->question && !o->question[strspn(o->question, " \t\r\n")])
        return cli_usage_error(cmd, "the question is empty");
    return 0;
}

/* Reads all of `f` (malloc'd, NUL-terminated), NULL on error. */
static char *slurp(FILE *f)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (ferror(f)) break;
        if (feof(f)) {
            buf[len] = '\0';
            return buf;
        }
        if (len + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) break;
            buf = b;
        }
    }
    free(buf);
    return NULL;
}

/* Set by SIGINT; the callbacks then cancel the run. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

/* Streaming display of the thinking and the answer. */
typedef struct view {
    bool color, show;
} view;

static const char *const role_color[2] = {"\033[32m", "\033[35m"}; /* SLM green, LLM magenta */

static bool view_step_begin(void *user, int index, glimp_role model, double h)
{
    view *v = user;
    if (interrupted) return false;
    if (!v->show) return true;
    if (index == 0) printf("<think>\n");
    char hbuf[32];
    if (isnan(h)) snprintf(hbuf, sizeof hbuf, "-");
    else snprintf(hbuf, sizeof hbuf, "%.2f", h);
    printf("%s[%d %s H=%s]%s ", v->color ? role_color[model] : "", index,
           glimp_role_name(model), hbuf, v->color ? "\033[0m" : "");
    fflush(stdout);
    return true;
}

static bool view_piece(void *user, int index, glimp_role model, const char *piece, size_t len)
{
    view *v = user;
    (void)index;
    (void)model;
    if (interrupted) return false;
    if (!v->show) return true;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return true;
}

static bool view_step_end(void *user, const glimp_step *step)
{
    view *v = user;
    (void)step;
    if (v->show) printf("\n\n");
    return !interrupted;
}

static bool view_answer_begin(void *user, glimp_role model)
{
    view *v = user;
    if (v->show)
        printf("</think>\n\n%s=== answer (%s) ===%s\n", v->color ? role_color[model] : "",
               glimp_role_name(model), v->color ? "\033[0m" : "");
    return !interrupted;
}

static void print_summary(const glimp_router_result *r)
{
    const glimp_router_params *p = &r->params;
    char policy[32], entropy[32];
    if (p->policy == GLIMP_POLICY_RANDOM) snprintf(policy, sizeof policy, "random:%g", p->random_p);
    else snprintf(policy, sizeof policy, "%s", glimp_policy_name(p->policy));
    if (p->entropy == GLIMP_ENTROPY_EXACT) snprintf(entropy, sizeof entropy, "exact");
    else snprintf(entropy, sizeof entropy, "topk:%d", p->entropy_top_k);
    printf("\n--- summary: policy %s, tau %g, entropy %s, seed %llu, thinking ended: %s ---\n",
           policy, p->tau, entropy, (unsigned long long)p->seed, glimp_think_end_name(r->think_end));
    printf("%-5s %7s %8s %10s  %s\n", "model", "steps", "tokens", "time (s)", "file");
    const char *names[2] = {r->slm_name, r->llm_name};
    for (int m = 0; m < 2; m++)
        printf("%-5s %7d %8d %10.2f  %s\n", glimp_role_name((glimp_role)m), r->steps_by[m],
               r->tokens_by[m], r->ms_by[m] / 1e3, names[m]);
    printf("LLM step share %.1f%%, %d steps, answer %d tokens by the %s, wall %.2f s\n",
           100.0 * r->llm_step_share, r->n_steps, r->answer_tokens,
           glimp_role_name(r->answer_model), r->wall_ms / 1e3);
    if (strcmp(r->spec, "off"))
        printf("speculation %s: %d of %d drafted tokens accepted, %.2f LLM tokens per forward "
               "pass\n", r->spec, r->spec_accepted, r->spec_drafted,
               r->llm_forwards ? (double)r->tokens_by[GLIMP_ROLE_LLM] / r->llm_forwards : 0.0);
}

static glimp_backend *open_backend(glimp_role role, const char *path, const run_opts *o)
{
    const char *tmpl = o->ro.template_name[role];
    if (remote_is_set(&o->remote, role)) return remote_open(&o->remote, role, tmpl, "glimp run");
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.template_name = tmpl;
    lp.n_threads = o->ro.n_threads;
    lp.n_ctx = o->ro.n_ctx;
    lp.kv_type = o->ro.kv_type;
    glimp_backend *b = glimp_backend_local_create(&lp, &err);
    if (!b && err.status == GLIMP_ERR_NOT_FOUND && !tmpl) /* the file names no template */
        fprintf(stderr, "glimp run: %s: %s (--template-%s NAME)\n", path, err.msg,
                glimp_role_name(role));
    else if (!b)
        fprintf(stderr, "glimp run: %s\n", err.msg); /* the message names the file */
    return b;
}

static int write_trace(const char *path, const glimp_router_result *r)
{
    char *lines = glimp_router_result_jsonl(r);
    FILE *f = lines ? fopen(path, "w") : NULL;
    bool ok = f && fputs(lines, f) >= 0;
    if (f && fclose(f) != 0) ok = false;
    free(lines);
    if (!ok) fprintf(stderr, "glimp run: cannot write trace %s: %s\n", path, strerror(errno));
    return ok ? 0 : 1;
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    router_opts_init(&o.ro, NULL);
    remote_opts_init(&o.remote);
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        router_opts_free(&o.ro);
        return rc < 0 ? 0 : rc;
    }
    /* from here Ctrl-C is remembered: the run stops at its first token */
    struct sigaction sa = {.sa_handler = on_interrupt, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    char *question = NULL;
    if (!o.question) {
        FILE *f = !o.file || !strcmp(o.file, "-") ? stdin : fopen(o.file, "rb");
        if (f == stdin && isatty(STDIN_FILENO))
            fprintf(stderr, "glimp run: reading the question from the terminal; end it with "
                            "Ctrl-D (or give it as an argument)\n");
        question = f ? slurp(f) : NULL;
        if (f && f != stdin) fclose(f);
        if (!question || !question[strspn(question, " \t\r\n")]) {
            if (question) fprintf(stderr, "glimp run: the question in %s is empty\n",
                                  o.file && strcmp(o.file, "-") ? o.file : "stdin");
            else fprintf(stderr, "glimp run: cannot read the question from %s: %s\n",
                         o.file ? o.file : "stdin", strerror(errno));
            free(question);
            router_opts_free(&o.ro);
            return question ? CLI_USAGE : 1;
        }
    }
    glimp_backend *slm = open_backend(GLIMP_ROLE_SLM, o.slm_path, &o);
    glimp_backend *llm = slm ? open_backend(GLIMP_ROLE_LLM, o.llm_path, &o) : NULL;
    glimp_error err = {0};
    glimp_reward *reward = NULL;
    bool rsd = o.ro.router.policy == GLIMP_POLICY_RSD;
    if (!rsd && (o.ro.reward_url || o.ro.reward_model))
        fprintf(stderr, "glimp run: --reward-url/--reward-model ignored (only rsd uses them)\n");
    bool ready = llm && (!rsd || router_opts_open_reward(&o.ro, &reward, &err) == GLIMP_OK);
    o.ro.router.reward = reward;
    glimp_router *router = ready ? glimp_router_create(slm, llm, &o.ro.router, &err) : NULL;
    glimp_router_result *res = NULL;
    rc = 1;
    if (llm && !router) fprintf(stderr, "glimp run: %s\n", err.msg);
    if (router && glimp_router_spec_note(router))
        fprintf(stderr, "glimp run: %s\n", glimp_router_spec_note(router));
    if (router) {
        view v = {.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
                  .show = !o.json && !o.quiet};
        glimp_router_callbacks cb = {.user = &v, .on_step_begin = view_step_begin,
                                     .on_piece = view_piece, .on_step_end = view_step_end,
                                     .on_answer_begin = view_answer_begin};
        glimp_status st = glimp_router_run(router, question ? question : o.question, &cb, &res,
                                           &err);
        if (st == GLIMP_ERR_CANCELLED && interrupted && res) { /* Ctrl-C: what was done */
            fprintf(stderr, "\nglimp run: interrupted after %d steps; partial summary:\n",
                    res->n_steps);
            fflush(stdout);
            print_summary(res);
            if (o.trace) write_trace(o.trace, res);
            rc = 130;
            glimp_router_result_free(res);
            res = NULL;
        } else if (st) {
            fprintf(stderr, "glimp run: %s\n", err.msg);
        }
    }
    if (res) {
        rc = 0;
        if (o.json) {
            char *js = glimp_router_result_json(res);
            if (js) printf("%s\n", js);
            else rc = 1;
            free(js);
        } else if (o.quiet) {
            printf("%s\n", res->answer);
        } else {
            printf("\n");
            print_summary(res);
        }
        if (o.trace && write_trace(o.trace, res)) rc = 1;
    }
    glimp_router_result_free(res);
    glimp_router_free(router);
    glimp_reward_free(reward);
    glimp_backend_free(llm);
    glimp_backend_free(slm);
    free(question);
    router_opts_free(&o.ro);
    return rc;
}
