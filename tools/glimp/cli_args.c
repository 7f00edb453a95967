/* cli_args.c - one-line usage errors and a quiet getopt_long for the glimp
 * subcommands (see cli_args.h). */
#include "cli_args.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see %s --help)\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int cli_bad_value(const char *cmd, const char *option, const char *value, const char *want)
{
    return cli_usage_error(cmd, "%s: '%s' is not %s", option, value, want);
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    char spec[64];
    snprintf(spec, sizeof spec, ":%s", shortopts); /* ':' reports a missing value apart */
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c != '?' && c != ':') return c;
    /* the option just read: getopt_long has moved past a long one, and past
     * a short one only when it ended its word */
    const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    bool is_long = !strncmp(word, "--", 2);
    int len = is_long ? (int)strcspn(word, "=") : 2;
    char shortname[3] = {'-', (char)optopt, '\0'};
    const char *name = is_long ? word : shortname;
    if (c == ':')
        cli_usage_error(cmd, "option '%.*s' needs a value", len, name);
    else if (is_long && optopt && strchr(word, '='))
        cli_usage_error(cmd, "option '%.*s' takes no value", len, name);
    else
        cli_usage_error(cmd, "unknown option '%.*s'", len, name);
    return '?';
}
