/* cmd_serve.c - `glimp serve`: an OpenAI-compatible HTTP server for one GGUF
 * model (-m) or for a routed pair (--slm + --llm, model "glimprouter").
 *
 * Prints "glimp serve: listening on http://HOST:PORT (model NAME)" on stdout
 * once ready (with --port 0 the port is a free one), then serves until
 * SIGINT or SIGTERM, after which it stops listening and lets running
 * requests finish for --shutdown-grace seconds. The API key comes from an
 * environment variable or a file, never from the command line. Exit 0 after
 * a signal, 1 when start-up fails (message on stderr), 2 on usage errors
 * (cli_args.h).
 */
#include "cli_args.h"
#include "commands.h"
#include "router_opts.h"

#include "glimp.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

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
"  --parallel N           requests served at once, each with its own session (1);\n"
"                         one model: their steps run as one forward pass\n"
"  --batch-tokens N       tokens per such pass at most; prompts go in chunks (512)\n"
"  --queue M              requests waiting beyond those; more get 503 (8)\n"
"  --max-body BYTES       request body limit, larger gets 413 (1048576)\n"
"  --max-tokens N         largest max_tokens a request may ask (4096)\n"
"  --max-connections N    open connections at most (parallel + queue + 64); near\n"
"                         it a new connection displaces the oldest idle one\n"
"  --read-timeout S       a request's headers and body must arrive within S\n"
"                         seconds, and a connection may idle that long (10)\n"
"  --shutdown-grace S     after SIGTERM/SIGINT, running requests may finish for\n"
"                         S seconds before they end with an error (10)\n"
"  --api-key-env VAR      require \"Authorization: Bearer KEY\" on every endpoint\n"
"                         but /health, with KEY from environment variable VAR\n"
"  --api-key-file FILE    the same, KEY from the first line of FILE\n"
"  --log                  one line per request on stderr\n"
"\n"
"models (-t and --ctx per session):\n"
"  -m, --model FILE       the model of single-model mode\n"
"  --model-name NAME      the id served in /v1/models (default: file name)\n"
"  --template NAME        chat template (default: from the file; \"raw\")\n"
"  --slm FILE, --llm FILE the routed pair (local GGUF files: a routed server does\n"
"                         not take --slm URL / --slm-url)\n"
"  (one model also takes --spec ngram, --draft-max and --draft-min below:\n"
"  prompt-lookup drafts verified in one pass; greedy answers unchanged)\n");
    router_opts_usage(ro, true, out);
    fprintf(out, "\nrouting (pair; requests may override temperature, top_p, seed, max_tokens, stop):\n");
    router_opts_usage(ro, false, out);
    fprintf(out, "  -h, --help             this help\n");
}

enum {
    OPT_HOST = 256, OPT_PORT, OPT_PARALLEL, OPT_QUEUE, OPT_MAXBODY, OPT_MAXTOK, OPT_LOG,
    OPT_NAME, OPT_TEMPLATE, OPT_SLM, OPT_LLM, OPT_MAXCONN, OPT_READTO, OPT_GRACE, OPT_KEYENV,
    OPT_KEYFILE, OPT_BATCHTOK,
};

static const struct option own_opts[] = {
    {"host", required_argument, 0, OPT_HOST},
    {"port", required_argument, 0, OPT_PORT},
    {"parallel", required_argument, 0, OPT_PARALLEL},
    {"queue", required_argument, 0, OPT_QUEUE},
    {"max-body", required_argument, 0, OPT_MAXBODY},
    {"max-tokens", required_argument, 0, OPT_MAXTOK},
    {"log", no_argument, 0, OPT_LOG},
    {"max-connections", required_argument, 0, OPT_MAXCONN},
    {"batch-tokens", required_argument, 0, OPT_BATCHTOK},
    {"read-timeout", required_argument, 0, OPT_READTO},
    {"shutdown-grace", required_argument, 0, OPT_GRACE},
    {"api-key-env", required_argument, 0, OPT_KEYENV},
    {"api-key-file", required_argument, 0, OPT_KEYFILE},
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

static bool parse_seconds(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

/* Where the API key comes from (never the command line, where other users
 * of the machine can read it). */
typedef struct key_source {
    const char *env, *file;
    char buf[4096];
} key_source;

/* The key, or NULL after a message. */
static const char *read_api_key(key_source *k)
{
    if (k->env) {
        const char *v = getenv(k->env);
        if (!v || !*v) {
            fprintf(stderr, "glimp serve: --api-key-env: environment variable %s is %s\n", k->env,
                    v ? "empty" : "not set");
            return NULL;
        }
        return v;
    }
    FILE *f = fopen(k->file, "r");
    if (!f) {
        fprintf(stderr, "glimp serve: --api-key-file %s: %s\n", k->file, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
        fprintf(stderr, "glimp serve: warning: %s is readable by other users (chmod 600 it)\n",
                k->file);
    bool got = fgets(k->buf, sizeof k->buf, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(k->buf, "\r\n") : 0;
    while (n > 0 && (k->buf[n - 1] == ' ' || k->buf[n - 1] == '\t')) n--;
    k->buf[n] = '\0';
    if (!n) {
        fprintf(stderr, "glimp serve: --api-key-file %s: the first line holds no key\n", k->file);
        return NULL;
    }
    return k->buf;
}

/* Lets the process open as many sockets as the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* Returns 0 to go on, -1 after --help, else the exit code. The router
 * options go to p->router; p->router.delimiter may borrow ro's storage. */
static int parse_args(int argc, char **argv, glimp_serve_params *p, router_opts *ro,
                      double *grace, key_source *key)
{
    static const char cmd[] = "glimp serve";
    struct option long_opts[48];
    if (!router_opts_table(ro, own_opts, long_opts, 48)) return 1;
    int c;
    long v = 0;
    optind = 1;
    while ((c = cli_getopt(cmd, argc, argv, "m:" ROUTER_OPT_SHORT "h", long_opts)) != -1) {
        const char *a = optarg, *want = NULL;
        bool ok = true;
        switch (c) {
        case OPT_HOST: p->host = a; break;
        case OPT_PORT:
            ok = parse_int(a, 0, 65535, &p->port), want = "a port in [0, 65535]";
            break;
        case OPT_PARALLEL:
            ok = parse_int(a, 1, 256, &p->parallel), want = "an integer in [1, 256]";
            break;
        case OPT_QUEUE:
            ok = parse_int(a, 0, 100000, &p->queue), want = "an integer in [0, 100000]";
            break;
        case OPT_MAXBODY:
            ok = parse_long(a, 64, 1L << 30, &v), want = "a byte count in [64, 1073741824]";
            p->max_body_bytes = (size_t)v;
            break;
        case OPT_MAXTOK:
            ok = parse_int(a, 1, 1 << 24, &p->max_tokens), want = "an integer in [1, 16777216]";
            break;
        case OPT_LOG: p->log_requests = true; break;
        case OPT_MAXCONN:
            ok = parse_int(a, 2, 1000000, &p->max_connections);
            want = "an integer in [2, 1000000]";
            break;
        case OPT_BATCHTOK:
            ok = parse_int(a, 1, 65536, &p->batch_tokens), want = "an integer in [1, 65536]";
            break;
        case OPT_READTO:
            ok = parse_seconds(a, 0.001, 86400, &p->read_timeout_s);
            want = "a number of seconds in [0.001, 86400]";
            break;
        case OPT_GRACE:
            ok = parse_seconds(a, 0, 86400, grace), want = "a number of seconds in [0, 86400]";
            break;
        case OPT_KEYENV: key->env = a; break;
        case OPT_KEYFILE: key->file = a; break;
        case 'm': p->model_path = a; break;
        case OPT_NAME: p->model_name = a; break;
        case OPT_TEMPLATE: p->template_name = a; break;
        case OPT_SLM:
        case OPT_LLM:
            if (glimp_eval_is_server(a)) /* the router's backends are local here */
                return cli_bad_value(cmd, c == OPT_SLM ? "--slm" : "--llm", a,
                                     "a GGUF file (a routed server runs both models itself)");
            *(c == OPT_SLM ? &p->slm_path : &p->llm_path) = a;
            break;
        case 'h': usage(stdout, ro); return -1;
        case '?': return CLI_USAGE;
        default:
            if (!router_opt_set(ro, c, a, cmd)) return CLI_USAGE;
        }
        if (!ok) {
            const struct option *opt = long_opts;
            while (opt->name && opt->val != c) opt++;
            char name[64];
            snprintf(name, sizeof name, "--%s", opt->name ? opt->name : "?");
            return cli_bad_value(cmd, name, a, want);
        }
    }
    bool single = p->model_path != NULL, pair = p->slm_path || p->llm_path;
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (single == pair || (pair && (!p->slm_path || !p->llm_path)))
        return cli_usage_error(cmd, "give -m MODEL, or --slm and --llm");
    if (p->max_connections && p->max_connections <= p->parallel + p->queue)
        return cli_usage_error(cmd, "--max-connections %d must exceed parallel + queue (%d)",
                               p->max_connections, p->parallel + p->queue);
    if (key->env && key->file)
        return cli_usage_error(cmd, "give --api-key-env or --api-key-file, not both");
    if ((key->env || key->file) && !(p->api_key = read_api_key(key))) return 2;
    p->router = ro->router;
    p->slm_template = ro->template_name[GLIMP_ROLE_SLM];
    p->llm_template = ro->template_name[GLIMP_ROLE_LLM];
    p->n_threads = ro->n_threads;
    p->n_ctx = ro->n_ctx;
    p->kv_type = ro->kv_type;
    if (p->router.final_max_tokens > p->max_tokens) p->max_tokens = p->router.final_max_tokens;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    glimp_serve_params p = glimp_serve_default_params();
    router_opts ro;
    static const char *const serve_skip[] = {"reward-url", "reward-model", NULL};
    router_opts_init(&ro, serve_skip);
    ro.router = p.router;
    double grace = 10.0;
    key_source key = {0};
    int rc = parse_args(argc, argv, &p, &ro, &grace, &key);
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
    raise_fd_limit();
    glimp_error err = {0};
    glimp_server *srv = glimp_server_start(&p, &err);
    if (!srv) {
        fprintf(stderr, "glimp serve: %s\n", err.msg);
        router_opts_free(&ro);
        return 1;
    }
    printf("glimp serve: listening on http://%s:%d (model %s)\n", p.host, glimp_server_port(srv),
           glimp_server_model_id(srv));
    fflush(stdout);
    if (!p.api_key && !glimp_server_is_loopback(srv))
        fprintf(stderr, "glimp serve: warning: listening on %s without an API key: anyone who "
                        "can reach it may use it (see --api-key-env)\n", p.host);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "glimp serve: stopping (signal %d), running requests may finish for %g s\n",
            sig, grace);
    glimp_server_shutdown(srv, grace);
    router_opts_free(&ro);
    return 0;
}
