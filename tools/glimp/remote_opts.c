/* remote_opts.c - parsing and opening the remote backends of the CLI (see
 * remote_opts.h). Failure: bad values and missing names are reported on
 * stderr naming the option, one line (cli_args.h); the caller exits with 2
 * (usage) or 1.
 */
#include "remote_opts.h"

#include "cli_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void remote_opts_init(remote_opts *r)
{
    memset(r, 0, sizeof *r);
    r->common = glimp_openai_default_params();
    r->key_env[0] = r->key_env[1] = r->common.api_key_env;
}

bool remote_opt_owns(int code) { return code >= REMOTE_OPT_SLM_URL && code < REMOTE_OPT_END; }

static bool seconds_ms(const char *s, int *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0.0) || v > 86400.0) return false;
    *ms = (int)(v * 1000.0 + 0.5);
    return *ms > 0;
}

bool remote_opt_set(remote_opts *r, int code, const char *arg, const char *cmd)
{
    bool ok = true;
    char *end;
    long n;
    const char *name = "", *want = "";
    switch (code) {
    case REMOTE_OPT_SLM_URL:
    case REMOTE_OPT_LLM_URL:
        name = code == REMOTE_OPT_SLM_URL ? "--slm-url" : "--llm-url";
        want = "an http:// or https:// URL";
        ok = glimp_eval_is_server(arg);
        r->url[code == REMOTE_OPT_SLM_URL ? GLIMP_ROLE_SLM : GLIMP_ROLE_LLM] = arg;
        break;
    case REMOTE_OPT_SLM_MODEL: r->model[GLIMP_ROLE_SLM] = arg; break;
    case REMOTE_OPT_SLM_KEY: r->key_env[GLIMP_ROLE_SLM] = arg; break;
    case REMOTE_OPT_LLM_MODEL: r->model[GLIMP_ROLE_LLM] = arg; break;
    case REMOTE_OPT_LLM_KEY: r->key_env[GLIMP_ROLE_LLM] = arg; break;
    case REMOTE_OPT_PROBE:
        name = "--probe", want = "stream or separate";
        ok = !strcmp(arg, "stream") || !strcmp(arg, "separate");
        r->common.probe_separate = !strcmp(arg, "separate");
        break;
    case REMOTE_OPT_TIMEOUT:
    case REMOTE_OPT_CONNECT:
        name = code == REMOTE_OPT_TIMEOUT ? "--http-timeout" : "--connect-timeout";
        want = "a number of seconds in (0, 86400]";
        ok = seconds_ms(arg, code == REMOTE_OPT_TIMEOUT ? &r->common.timeout_ms
                                                        : &r->common.connect_timeout_ms);
        break;
    case REMOTE_OPT_RETRIES:
        name = "--retries", want = "an integer in [0, 10]";
        errno = 0;
        n = strtol(arg, &end, 10);
        ok = !errno && end != arg && !*end && n >= 0 && n <= 10;
        r->common.max_retries = (int)n;
        break;
    default: ok = false; break;
    }
    if (!ok) cli_bad_value(cmd, name, arg, want);
    return ok;
}

bool remote_is_set(const remote_opts *r, glimp_role role) { return r->url[role] != NULL; }

bool remote_check(const remote_opts *r, const char *cmd)
{
    for (int role = 0; role < 2; role++) {
        if (r->url[role] && !r->model[role]) {
            cli_usage_error(cmd, "the %s server %s needs --%s-model NAME (the server's model name)",
                            glimp_role_name((glimp_role)role), r->url[role],
                            glimp_role_name((glimp_role)role));
            return false;
        }
    }
    return true;
}

glimp_backend *remote_open(const remote_opts *r, glimp_role role, const char *tmpl,
                           const char *cmd)
{
    const char *name = glimp_role_name(role);
    if (!tmpl) {
        fprintf(stderr, "%s: the remote %s needs --template-%s NAME (the server's model family: "
                        "our template renders the prompt; \"raw\" for plain text models)\n",
                cmd, name, name);
        return NULL;
    }
    glimp_openai_params p = r->common;
    p.base_url = r->url[role];
    p.model = r->model[role];
    p.api_key_env = r->key_env[role];
    p.template_name = tmpl;
    glimp_error err = {0};
    glimp_backend *b = glimp_backend_openai_create(&p, &err);
    if (!b) fprintf(stderr, "%s: %s\n", cmd, err.msg);
    return b;
}

void remote_opts_usage(FILE *out)
{
    fprintf(out,
"remote models (OpenAI-compatible servers: vLLM, SGLang, llama.cpp, glimp serve;\n"
"local and remote may be mixed, e.g. --slm FILE --llm-url URL):\n"
"  --slm-url URL          the SLM's server (http://host:port or .../v1); --slm URL\n"
"                         says the same\n"
"  --slm-model NAME       the SLM's model name on that server\n"
"  --slm-api-key-env VAR  environment variable holding its API key\n"
"                         (default OPENAI_API_KEY; unset = no key)\n"
"  --llm-url, --llm-model, --llm-api-key-env   the same for the LLM\n"
"                         (a remote model needs --template-slm/--template-llm)\n"
"  --probe stream|separate  stream (default): the SLM's step request streams\n"
"                         and is cancelled after its first token when the step\n"
"                         goes to the LLM; separate: a max_tokens=1 probe first\n"
"  --http-timeout S       whole-request timeout in seconds (default 600)\n"
"  --connect-timeout S    connect timeout in seconds (default 10)\n"
"  --retries N            retries on connect errors and 5xx (default 2)\n");
}
