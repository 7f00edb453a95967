/* eval_cli.h - what `glimp eval`, `glimp calibrate` and `glimp report` share
 * on the command line: the data and run options (--data, --question-field,
 * --answer-field, --id-field, --grade, --prompt-template, --limit, --seed,
 * --parallel), loading the data set and the prompt template, the progress
 * line, and printing a run's summary.md. The router and model options are
 * router_opts.h's. A command adds EVAL_LONG_OPTIONS to its getopt_long
 * table and hands the codes eval_cli_owns() claims to eval_cli_set().
 */
#ifndef GLIMP_CLI_EVAL_CLI_H
#define GLIMP_CLI_EVAL_CLI_H

#include "glimp.h"

#include <getopt.h>
#include <stdio.h>

enum {
    EVAL_OPT_DATA = 0x5000, EVAL_OPT_QUESTION_FIELD, EVAL_OPT_ANSWER_FIELD, EVAL_OPT_ID_FIELD,
    EVAL_OPT_GRADE, EVAL_OPT_PROMPT, EVAL_OPT_LIMIT, EVAL_OPT_SEED, EVAL_OPT_PARALLEL,
    EVAL_OPT_END
};

#define EVAL_LONG_OPTIONS                                                     \
    {"data", required_argument, 0, EVAL_OPT_DATA},                            \
    {"question-field", required_argument, 0, EVAL_OPT_QUESTION_FIELD},        \
    {"answer-field", required_argument, 0, EVAL_OPT_ANSWER_FIELD},            \
    {"id-field", required_argument, 0, EVAL_OPT_ID_FIELD},                    \
    {"grade", required_argument, 0, EVAL_OPT_GRADE},                          \
    {"prompt-template", required_argument, 0, EVAL_OPT_PROMPT},               \
    {"limit", required_argument, 0, EVAL_OPT_LIMIT},                          \
    {"seed", required_argument, 0, EVAL_OPT_SEED},                            \
    {"parallel", required_argument, 0, EVAL_OPT_PARALLEL}

typedef struct eval_cli {
    const char *data;            /* --data FILE|NAME (required) */
    const char *prompt_file;     /* --prompt-template FILE, or NULL */
    glimp_dataset_params dataset;
    glimp_eval_params eval;      /* limit, seed, parallel and, once loaded, prompt_template */
    char *prompt;                /* the prompt template's text (owned), or NULL */
} eval_cli;

void eval_cli_init(eval_cli *e);
void eval_cli_free(eval_cli *e);
bool eval_cli_owns(int code);
/* Applies one option; false (message on stderr naming the option and the
 * value, prefixed by cmd) on a bad value: the caller exits with 2. */
bool eval_cli_set(eval_cli *e, int code, const char *arg, const char *cmd);
struct router_opts;
/* The default case of a command that takes both tables: an eval option
 * goes to eval_cli_set, any other to router_opt_set. */
bool eval_cli_set_any(eval_cli *e, struct router_opts *ro, int code, const char *arg,
                      const char *cmd);

/* Reads the prompt template and loads the data set (its choice shuffles
 * seeded by --seed). NULL + message on stderr when either cannot be used. */
glimp_dataset *eval_cli_load(eval_cli *e, const char *cmd);

/* A glimp_eval_progress_fn on stderr; user is an eval_progress (zeroed,
 * tty set): on a terminal the line is redrawn each item, elsewhere printed
 * at the first and last item and at most every 10 seconds. */
typedef struct eval_progress {
    bool tty;
    double last; /* elapsed seconds at the last line printed */
} eval_progress;
void eval_cli_progress(void *user, size_t done, size_t total, double elapsed_s);

/* Copies DIR/summary.md to stdout (nothing when it is absent). */
void eval_cli_print_summary(const char *dir);

#endif
