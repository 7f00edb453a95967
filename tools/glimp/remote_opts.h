/* remote_opts.h - the command-line options of the remote (openai) backends,
 * shared by `glimp run` and `glimp serve`: --slm-url/--slm-model,
 * --llm-url/--llm-model, API keys by environment variable, timeouts,
 * retries and the probe mode. A command adds REMOTE_LONG_OPTIONS to its
 * getopt_long table, hands the codes remote_opt_owns() claims to
 * remote_opt_set(), and opens a role's backend with remote_open().
 */
#ifndef GLIMP_CLI_REMOTE_OPTS_H
#define GLIMP_CLI_REMOTE_OPTS_H

#include "glimp.h"

#include <getopt.h>
#include <stdio.h>

enum {
    REMOTE_OPT_SLM_URL = 0x4000, REMOTE_OPT_SLM_MODEL, REMOTE_OPT_SLM_KEY,
    REMOTE_OPT_LLM_URL, REMOTE_OPT_LLM_MODEL, REMOTE_OPT_LLM_KEY,
    REMOTE_OPT_PROBE, REMOTE_OPT_TIMEOUT, REMOTE_OPT_CONNECT, REMOTE_OPT_RETRIES,
    REMOTE_OPT_END
};

#define REMOTE_LONG_OPTIONS                                                   \
    {"slm-url", required_argument, 0, REMOTE_OPT_SLM_URL},                    \
    {"slm-model", required_argument, 0, REMOTE_OPT_SLM_MODEL},                \
    {"slm-api-key-env", required_argument, 0, REMOTE_OPT_SLM_KEY},            \
    {"llm-url", required_argument, 0, REMOTE_OPT_LLM_URL},                    \
    {"llm-model", required_argument, 0, REMOTE_OPT_LLM_MODEL},                \
    {"llm-api-key-env", required_argument, 0, REMOTE_OPT_LLM_KEY},            \
    {"probe", required_argument, 0, REMOTE_OPT_PROBE},                        \
    {"http-timeout", required_argument, 0, REMOTE_OPT_TIMEOUT},               \
    {"connect-timeout", required_argument, 0, REMOTE_OPT_CONNECT},            \
    {"retries", required_argument, 0, REMOTE_OPT_RETRIES}

/* Per role (indexed by glimp_role): URL, model name, key variable. */
typedef struct remote_opts {
    const char *url[2], *model[2], *key_env[2];
    glimp_openai_params common; /* timeouts, retries, probe mode */
} remote_opts;

void remote_opts_init(remote_opts *r);
bool remote_opt_owns(int code);
/* Applies one option; false (message on stderr, prefixed by cmd) on a bad value. */
bool remote_opt_set(remote_opts *r, int code, const char *arg, const char *cmd);
/* Whether the role is remote (its --*-url was given). */
bool remote_is_set(const remote_opts *r, glimp_role role);
/* Checks that a remote role has its model name; false + message. */
bool remote_check(const remote_opts *r, const char *cmd);
/* Opens the role's openai backend with our chat template `tmpl` (required:
 * the server's model family, or "raw"); NULL + message on stderr. */
glimp_backend *remote_open(const remote_opts *r, glimp_role role, const char *tmpl,
                           const char *cmd);
/* The help lines of these options. */
void remote_opts_usage(FILE *out);

#endif
