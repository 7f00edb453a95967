/* cmd_serve.c - `glimp serve`: an OpenAI-compatible HTTP server for one GGUF
 * model (-m) or for a routed pair (--slm + --llm, model "glimprouter").
 *
 * Prints "glimp serve: listening on http://HOST:PORT (model NAME)" on stdout
 * once ready (with --port 0 the port is a free one), then serves until
 * SIGINT or SIGTERM. Exit 0 after a signal, 1 when start-up fails (message
 * on stderr), 2 on usage errors.
 */
#include "commands.h"
#include "router_opts.h"

#include "glimp.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const router_opts *ro)
{
    fprintf(out,
"usage: glimp serve -m MODEL.gguf [options]              one model\n"
"       glimp serve --slm S.gguf --llm L.gguf [options]   routed pair (\"glimprouter\")\n"
"\n"
"One model: /v1/completions (logprobs: N in the legacy shape), /v1/chat/completions\n"
"(the model's chat template), /v1/models, /health, /metrics; stream: true gives SSE.\n"
"Routed pair: /v1/chat/completions answers with the thinking in reasoning_content,\n"
"the answer in content, and per-step details under \"glimp\".\n"
"\n"
"server:\n"
"  --host ADDR            address to bind (default 127.0.0.1)\n"
"  --port P               port (default 8080; 0 = a free one, printed)\n"
"  --parallel N           requests served at once, each with its own session (1)\n"
"  --queue M              requests waiting beyond those; more get 503 (8)\n"
"  --max-body BYTES       request body limit, larger gets 413 (1048576)\n"
"  --max-tokens N         largest max_tokens a request may ask (4096)\n"
"  --log                  one line per request on stderr\n"
"\n"
"models (-t and --ctx per session):\n"
"  -m, --model FILE       the model of single-model mode\n"
"  --model-name NAME      the id served in /v1/models (default: file name)\n"
"  --template NAME        chat template (default: from the file; \"raw\")\n"
"  --slm FILE, --llm FILE the routed pair\n");
    router_opts_usage(ro, true, out);
    fprintf(out, "\nrouting (pair; requests may override temperature, top_p, seed, max_tokens):\n");
    router_opts_usage(ro, false, out);
    fprintf(out, "  -h, --help             this help\n");
}

enum {
    OPT_HOST = 256, OPT_PORT, OPT_PARALLEL, OPT_QUEUE, OPT_MAXBODY, OPT_MAXTOK, OPT_LOG,
    OPT_NAME, OPT_TEMPLATE, OPT_SLM, OPT_LLM,
};

static const struct option own_opts[] = {
    {"host", required_argument, 0, OPT_HOST},
    {"port", required_argument, 0, OPT_PORT},
    {"parallel", required_argument, 0, OPT_PARALLEL},
    {"queue", required_argument, 0, OPT_QUEUE},
    {"max-body", required_argument, 0, OPT_MAXBODY},
    {"max-tokens", required_argument, 0, OPT_MAXTOK},
    {"log", no_argument, 0, OPT_LOG},
    {"model", required_argument, 0, 'm'},
    {"model-name", required_argument, 0, OPT_NAME},
    {"template", required_argument, 0, OPT_TEMPLATE},
    {"slm", required_argument, 0, OPT_SLM},
    {"llm", required_argument, 0, OPT_LLM},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    long v;
    if (!parse_long(s, lo, hi, &v)) return false;
    *out = (int)v;
    return true;
}

/* Returns 0 to go on, -1 after --help, else the exit code. The router
 * options go to p->router; p->router.delimiter may borrow ro's storage. */
static int parse_args(int argc, char **argv, glimp_serve_params *p, router_opts *ro)
{
    struct option long_opts[48];
    if (!router_opts_table(ro, own_opts, long_opts, 48)) return 1;
    int c, li = -1;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:" ROUTER_OPT_SHORT "h", long_opts, &li)) != -1) {
        const char *a = optarg;
        bool ok = true;
        switch (c) {
        case OPT_HOST: p->host = a; break;
        case OPT_PORT: ok = parse_int(a, 0, 65535, &p->port); break;
        case OPT_PARALLEL: ok = parse_int(a, 1, 256, &p->parallel); break;
        case OPT_QUEUE: ok = parse_int(a, 0, 100000, &p->queue); break;
        case OPT_MAXBODY:
            ok = parse_long(a, 64, 1L << 30, &v);
            p->max_body_bytes = (size_t)v;
            break;
        case OPT_MAXTOK: ok = parse_int(a, 1, 1 << 24, &p->max_tokens); break;
        case OPT_LOG: p->log_requests = true; break;
        case 'm': p->model_path = a; break;
        case OPT_NAME: p->model_name = a; break;
        case OPT_TEMPLATE: p->template_name = a; break;
        case OPT_SLM: p->slm_path = a; break;
        case OPT_LLM: p->llm_path = a; break;
        case 'h': usage(stdout, ro); return -1;
        default:
            if (!router_opt_owns(c)) {
                usage(stderr, ro);
                return 2;
            }
            if (!router_opt_set(ro, c, a, "glimp serve")) return 2;
        }
        if (!ok) {
            fprintf(stderr, "glimp serve: bad value '%s' for --%s\n", a, long_opts[li].name);
            return 2;
        }
        li = -1;
    }
    bool single = p->model_path != NULL, pair = p->slm_path || p->llm_path;
    if (optind < argc || single == pair || (pair && (!p->slm_path || !p->llm_path))) {
        fprintf(stderr, "glimp serve: give -m MODEL, or --slm and --llm (see glimp serve --help)\n");
        return 2;
    }
    p->router = ro->router;
    p->slm_template = ro->template_name[GLIMP_ROLE_SLM];
    p->llm_template = ro->template_name[GLIMP_ROLE_LLM];
    p->n_threads = ro->n_threads;
    p->n_ctx = ro->n_ctx;
    if (p->router.final_max_tokens > p->max_tokens) p->max_tokens = p->router.final_max_tokens;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    glimp_serve_params p = glimp_serve_default_params();
    router_opts ro;
    router_opts_init(&ro, NULL);
    ro.router = p.router;
    int rc = parse_args(argc, argv, &p, &ro);
    if (rc) {
        router_opts_free(&ro);
        return rc < 0 ? 0 : rc;
    }
    /* block the stop signals in every thread; this one waits for them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    glimp_error err = {0};
    glimp_server *srv = glimp_server_start(&p, &err);
    if (!srv) {
        fprintf(stderr, "glimp serve: %s\n", err.msg);
        router_opts_free(&ro);
        return 1;
    }
    printf("glimp serve: listening on http://%s:%d (model %s)\n", p.host, glimp_server_port(srv),
           p.model_name ? p.model_name : p.model_path ? p.model_path : "glimprouter");
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "glimp serve: stopping (signal %d)\n", sig);
    glimp_server_stop(srv);
    router_opts_free(&ro);
    return 0;
}
