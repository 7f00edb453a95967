/* cli_args.h - the one command-line convention of the glimp subcommands.
 *
 * --help prints to stdout and exits 0. A usage error (unknown option, an
 * option without its value, a bad value, a missing or extra argument) is
 * one line on stderr, "glimp CMD: WHAT (see glimp CMD --help)", and exit
 * code 2 (CLI_USAGE): never a help text on stderr. cli_getopt() is
 * getopt_long() with that convention; parsers that walk argv themselves
 * report through cli_usage_error() and cli_bad_value(). `cmd` is the
 * command as the user typed it, e.g. "glimp run".
 */
#ifndef GLIMP_CLI_ARGS_H
#define GLIMP_CLI_ARGS_H

#include <getopt.h>

enum { CLI_USAGE = 2 };

/* Prints "CMD: MESSAGE (see CMD --help)" on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "CMD: OPTION: 'VALUE' is not WANT (see CMD --help)"; returns CLI_USAGE. */
int cli_bad_value(const char *cmd, const char *option, const char *value, const char *want);

/* getopt_long() without its own messages: returns the next option's code,
 * -1 at the end, or '?' after printing the one-line message for an unknown
 * option, an option missing its value, or a value given to a flag. Set
 * optind = 1 before the first call. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

#endif
