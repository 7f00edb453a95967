/* commands.h - the glimp CLI's subcommands, one file each (cmd_<name>.c).
 * Each returns the process exit code: 0 success, 1 runtime failure,
 * 2 usage error. */
#ifndef GLIMP_CLI_COMMANDS_H
#define GLIMP_CLI_COMMANDS_H

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
} cli_command;

/* (declarations: keep one line per command, alphabetical) */

#endif
