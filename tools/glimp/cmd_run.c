/* cmd_run.c - `glimp run`: route one question's thinking between a small and
 * a large model and print the thinking, the answer and a summary.
 *
 * The thinking streams as it is written, each step opened by a tag naming
 * its writer and H_init (coloured on a terminal, plain when piped or when
 * NO_COLOR is set); then the final answer and a table of steps, tokens and
 * time per model. --quiet prints only the answer, --json only the result as
 * one JSON object; --trace FILE also writes the trace as JSON Lines.
 * Exit 0 on success, 1 when loading or running fails (message on stderr),
 * 2 on usage errors.
 */
#include "commands.h"
#include "remote_opts.h"
#include "router_opts.h"

#include "glimp.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
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
"\n"
"The SLM decodes the first token of each thinking step; when the entropy of\n"
"that distribution (H_init) is >= tau the LLM writes the step, else the SLM\n"
"does. The LLM writes the final answer. The same file may serve as both.\n"
"\n"
"models:\n"
"  --slm FILE             small model (GGUF)\n"
"  --llm FILE             large model (GGUF)\n");
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
    struct option long_opts[64];
    if (!router_opts_table(&o->ro, own_opts, long_opts, 64)) return 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ROUTER_OPT_SHORT "h", long_opts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case OPT_SLM: o->slm_path = a; break;
        case OPT_LLM: o->llm_path = a; break;
        case OPT_FILE: o->file = a; break;
        case OPT_TRACE: o->trace = a; break;
        case OPT_JSON: o->json = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case 'h': usage(stdout, o); return -1;
        default:
            if (router_opt_owns(c)) {
                if (!router_opt_set(&o->ro, c, a, "glimp run")) return 2;
            } else if (remote_opt_owns(c)) {
                if (!remote_opt_set(&o->remote, c, a, "glimp run")) return 2;
            } else {
                usage(stderr, o);
                return 2;
            }
        }
    }
    if (optind < argc) o->question = argv[optind++];
    if (!remote_check(&o->remote, "glimp run")) return 2;
    if (optind < argc || (!o->slm_path && !remote_is_set(&o->remote, GLIMP_ROLE_SLM)) ||
        (!o->llm_path && !remote_is_set(&o->remote, GLIMP_ROLE_LLM)) || (o->question && o->file)) {
        fprintf(stderr, "glimp run: need --slm (or --slm-url), --llm (or --llm-url) and one "
                        "question (argument, --file or stdin); see glimp run --help\n");
        return 2;
    }
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

/* Streaming display of the thinking and the answer. */
typedef struct view {
    bool color, show;
} view;

static const char *const role_color[2] = {"\033[32m", "\033[35m"}; /* SLM green, LLM magenta */

static bool view_step_begin(void *user, int index, glimp_role model, double h)
{
    view *v = user;
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
    return true;
}

static bool view_answer_begin(void *user, glimp_role model)
{
    view *v = user;
    if (v->show)
        printf("</think>\n\n%s=== answer (%s) ===%s\n", v->color ? role_color[model] : "",
               glimp_role_name(model), v->color ? "\033[0m" : "");
    return true;
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
    if (!b) fprintf(stderr, "glimp run: %s: %s\n", path, err.msg);
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
    char *question = NULL;
    if (!o.question) {
        FILE *f = !o.file || !strcmp(o.file, "-") ? stdin : fopen(o.file, "rb");
        question = f ? slurp(f) : NULL;
        if (f && f != stdin) fclose(f);
        if (!question) {
            fprintf(stderr, "glimp run: cannot read the question from %s\n",
                    o.file ? o.file : "stdin");
            router_opts_free(&o.ro);
            return 1;
        }
    }
    glimp_backend *slm = open_backend(GLIMP_ROLE_SLM, o.slm_path, &o);
    glimp_backend *llm = slm ? open_backend(GLIMP_ROLE_LLM, o.llm_path, &o) : NULL;
    glimp_error err = {0};
    glimp_router *router = llm ? glimp_router_create(slm, llm, &o.ro.router, &err) : NULL;
    glimp_router_result *res = NULL;
    rc = 1;
    if (llm && !router) fprintf(stderr, "glimp run: %s\n", err.msg);
    if (router) {
        view v = {.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
                  .show = !o.json && !o.quiet};
        glimp_router_callbacks cb = {.user = &v, .on_step_begin = view_step_begin,
                                     .on_piece = view_piece, .on_step_end = view_step_end,
                                     .on_answer_begin = view_answer_begin};
        if (glimp_router_run(router, question ? question : o.question, &cb, &res, &err))
            fprintf(stderr, "glimp run: %s\n", err.msg);
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
    glimp_backend_free(llm);
    glimp_backend_free(slm);
    free(question);
    router_opts_free(&o.ro);
    return rc;
}
