/* router_opts.h - the router and model options of `glimp run`, `serve`,
 * `eval` and `calibrate`, parsed and explained in one place.
 *
 * The split: the router options (--policy ... --final-max-tokens) are
 * fields of glimp_router_params, so their names, ranges, help lines and
 * checks live in the library (glimp_router_options / glimp_router_set_option,
 * src/router/router_params.c), where any front end can use them. The model
 * options --template-slm/--template-llm, -t/--threads, --ctx and the reward
 * model (--reward-url, --reward-model) belong to the backends, not the router (a template serves a remote backend too), and
 * decoding the C escapes of --delimiter needs storage the parameters only
 * borrow: those are command-line matters and live here. A command builds its
 * getopt_long table with router_opts_table(), hands the codes
 * router_opt_owns() claims to router_opt_set(), and prints the help lines
 * with router_opts_usage(). A command may leave some options out (eval takes
 * --policy and --tau as lists and --seed as its run seed).
 */
#ifndef GLIMP_CLI_ROUTER_OPTS_H
#define GLIMP_CLI_ROUTER_OPTS_H

#include "glimp.h"

#include <getopt.h>
#include <stdio.h>

/* getopt codes: ROUTER_OPT_FIRST + index (router options, then model
 * options); the short option -t is --threads. */
enum { ROUTER_OPT_FIRST = 0x3000 };
#define ROUTER_OPT_SHORT "t:"

typedef struct router_opts {
    glimp_router_params router;   /* defaults, then the options given */
    const char *template_name[2]; /* --template-slm/-llm by glimp_role; NULL = the model's */
    int n_threads;                /* -t/--threads; 0 = all cores */
    int n_ctx;                    /* --ctx; 0 = the model's context length */
    const char *reward_url;       /* --reward-url, or NULL */
    const char *reward_model;     /* --reward-model, or NULL */
    glimp_kv_type kv_type;        /* --kv-type; GLIMP_KV_F16 */
    char *delimiter;              /* decoded --delimiter (owned); router.delimiter borrows it */
    const char *const *skip;      /* option names this command leaves out (NULL-ended), or NULL */
} router_opts;

/* Defaults (glimp_router_default_params()); `skip` as in router_opts. */
void router_opts_init(router_opts *o, const char *const *skip);
void router_opts_free(router_opts *o);

/* Writes `own` (ended by a zero entry) followed by the options this command
 * takes, and a zero entry, into out[cap]; false when cap is too small. */
bool router_opts_table(const router_opts *o, const struct option *own, struct option *out,
                       size_t cap);

bool router_opt_owns(int code);
/* Applies one option; false (message on stderr naming the option and the
 * value, prefixed by cmd) on a bad value: the caller exits with 2. */
bool router_opt_set(router_opts *o, int code, const char *arg, const char *cmd);

/* The reward model of --reward-url / --reward-model (*reward NULL when
 * neither was given: rsd's judge is then the LLM); the caller frees it.
 * Fails with a message in err (--reward-url without --reward-model, a
 * model that does not load). */
glimp_status router_opts_open_reward(const router_opts *o, glimp_reward **reward,
                                     glimp_error *err);

/* The help lines of the model options (models) or the router options. */
/* Prints once, on stderr, why the speculation asked for is not in effect
 * for this pair (remote LLM, different vocabularies, ...); nothing when it is. */
void router_opts_spec_note(const router_opts *o, glimp_backend *slm, glimp_backend *llm,
                           const char *cmd);

void router_opts_usage(const router_opts *o, bool models, FILE *out);

#endif
