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

#include "glimp.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
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
"  --llm FILE             large model (GGUF)\n"
"  --template-slm NAME    chat template of the SLM instead of the model's own\n"
"  --template-llm NAME    same for the LLM (\"raw\": question, then <think>)\n"
"  -t, --threads N        threads per model (default: all cores)\n"
"  --ctx N                context length in tokens (default: the model's)\n"
"\n"
"routing:\n"
"  --policy P             glimp (default) | llm | slm | random:P | hstep |\n"
"                         pplstep | specreason (see README)\n"
"  --tau T                threshold (default 1.0): H_init for glimp, mean\n"
"                         token entropy for hstep, perplexity for pplstep,\n"
"                         judge score 0-9 for specreason\n"
"  --entropy E            H_init estimator: topk:K (default topk:20, entropy of\n"
"                         the renormalised top K) or exact (whole vocabulary)\n"
"  --final slm|llm        who writes the final answer (default llm)\n"
"\n"
"generation:\n"
"  --seed N               sampling seed (default 0); same seed, same output\n"
"  --temp T               temperature (default 0.6; 0 = greedy)\n"
"  --top-p P              nucleus sampling (default 0.95)\n"
"  --delimiter S          step delimiter, C escapes allowed (default \"\\n\\n\")\n"
"  --max-step-tokens N    tokens per step (default 512)\n"
"  --think-budget N       thinking tokens in all (default 8192)\n"
"  --final-max-tokens N   tokens of the final answer (default 2048)\n"
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

typedef struct run_opts {
    const char *slm_path, *llm_path, *tmpl_slm, *tmpl_llm, *file, *trace, *question;
    int threads, ctx;
    bool json, quiet;
    char *delimiter; /* unescaped --delimiter, or NULL */
    glimp_router_params rp;
    remote_opts remote; /* --slm-url ... (remote_opts.h) */
} run_opts;

/* Parses a whole decimal int in [lo, hi]. */
static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* Interprets \n \t \r \\ in s (malloc'd result, NULL on a bad escape). */
static char *unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out) return NULL;
    for (; *s; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        switch (*++s) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case '\\': *o++ = '\\'; break;
        default: free(out); return NULL;
        }
    }
    *o = '\0';
    return out;
}

enum {
    OPT_SLM = 256, OPT_LLM, OPT_TSLM, OPT_TLLM, OPT_CTX, OPT_POLICY, OPT_TAU, OPT_ENTROPY,
    OPT_FINAL, OPT_SEED, OPT_TEMP, OPT_TOPP, OPT_DELIM, OPT_MAXSTEP, OPT_BUDGET, OPT_FINALMAX,
    OPT_FILE, OPT_TRACE, OPT_JSON, OPT_QUIET,
};

static const struct option long_opts[] = {
    {"slm", required_argument, 0, OPT_SLM},
    {"llm", required_argument, 0, OPT_LLM},
    {"template-slm", required_argument, 0, OPT_TSLM},
    {"template-llm", required_argument, 0, OPT_TLLM},
    {"threads", required_argument, 0, 't'},
    {"ctx", required_argument, 0, OPT_CTX},
    {"policy", required_argument, 0, OPT_POLICY},
    {"tau", required_argument, 0, OPT_TAU},
    {"entropy", required_argument, 0, OPT_ENTROPY},
    {"final", required_argument, 0, OPT_FINAL},
    {"seed", required_argument, 0, OPT_SEED},
    {"temp", required_argument, 0, OPT_TEMP},
    {"top-p", required_argument, 0, OPT_TOPP},
    {"delimiter", required_argument, 0, OPT_DELIM},
    {"max-step-tokens", required_argument, 0, OPT_MAXSTEP},
    {"think-budget", required_argument, 0, OPT_BUDGET},
    {"final-max-tokens", required_argument, 0, OPT_FINALMAX},
    {"file", required_argument, 0, OPT_FILE},
    {"trace", required_argument, 0, OPT_TRACE},
    {"json", no_argument, 0, OPT_JSON},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, 'h'},
    REMOTE_LONG_OPTIONS,
    {0, 0, 0, 0},
};

/* Returns 0 to go on, else the exit code (2 usage, 0 after --help). */
static int parse_args(int argc, char **argv, run_opts *o)
{
    glimp_error err = {0};
    double d;
    int c, li = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:h", long_opts, &li)) != -1) {
        const char *a = optarg;
        bool ok = true;
        switch (c) {
        case OPT_SLM: o->slm_path = a; break;
        case OPT_LLM: o->llm_path = a; break;
        case OPT_TSLM: o->tmpl_slm = a; break;
        case OPT_TLLM: o->tmpl_llm = a; break;
        case 't': ok = parse_int(a, 1, 1024, &o->threads); break;
        case OPT_CTX: ok = parse_int(a, 1, 1 << 24, &o->ctx); break;
        case OPT_POLICY: ok = glimp_router_parse_policy(a, &o->rp, &err) == GLIMP_OK; break;
        case OPT_TAU: ok = parse_double(a, &o->rp.tau); break;
        case OPT_ENTROPY: ok = glimp_router_parse_entropy(a, &o->rp, &err) == GLIMP_OK; break;
        case OPT_FINAL:
            ok = !strcmp(a, "slm") || !strcmp(a, "llm");
            o->rp.final_by_slm = !strcmp(a, "slm");
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            o->rp.seed = strtoull(a, &end, 10);
            ok = !errno && end != a && !*end && a[0] != '-';
            break;
        }
        case OPT_TEMP:
            ok = parse_double(a, &d) && d >= 0.0;
            o->rp.temperature = (float)d;
            break;
        case OPT_TOPP:
            ok = parse_double(a, &d) && d > 0.0 && d <= 1.0;
            o->rp.top_p = (float)d;
            break;
        case OPT_DELIM:
            free(o->delimiter);
            o->delimiter = unescape(a);
            ok = o->delimiter && o->delimiter[0];
            o->rp.delimiter = o->delimiter;
            break;
        case OPT_MAXSTEP: ok = parse_int(a, 1, 1 << 24, &o->rp.max_step_tokens); break;
        case OPT_BUDGET: ok = parse_int(a, 1, 1 << 30, &o->rp.think_budget); break;
        case OPT_FINALMAX: ok = parse_int(a, 1, 1 << 24, &o->rp.final_max_tokens); break;
        case OPT_FILE: o->file = a; break;
        case OPT_TRACE: o->trace = a; break;
        case OPT_JSON: o->json = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case 'h': usage(stdout); return -1;
        default:
            if (remote_opt_owns(c)) {
                if (!remote_opt_set(&o->remote, c, a, "glimp run")) return 2;
                break;
            }
            usage(stderr);
            return 2;
        }
        if (!ok) {
            if (err.status) fprintf(stderr, "glimp run: %s\n", err.msg);
            else fprintf(stderr, "glimp run: bad value '%s' for --%s\n", a,
                         li < 0 ? "threads" : long_opts[li].name);
            return 2;
        }
        li = -1;
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

static glimp_backend *open_backend(glimp_role role, const char *path, const char *tmpl,
                                   const run_opts *o)
{
    if (remote_is_set(&o->remote, role)) return remote_open(&o->remote, role, tmpl, "glimp run");
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.template_name = tmpl;
    lp.n_threads = o->threads;
    lp.n_ctx = o->ctx;
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
    run_opts o = {.rp = glimp_router_default_params()};
    remote_opts_init(&o.remote);
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free(o.delimiter);
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
            free(o.delimiter);
            return 1;
        }
    }
    glimp_backend *slm = open_backend(GLIMP_ROLE_SLM, o.slm_path, o.tmpl_slm, &o);
    glimp_backend *llm = slm ? open_backend(GLIMP_ROLE_LLM, o.llm_path, o.tmpl_llm, &o) : NULL;
    glimp_error err = {0};
    glimp_router *router = llm ? glimp_router_create(slm, llm, &o.rp, &err) : NULL;
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
    free(o.delimiter);
    return rc;
}
