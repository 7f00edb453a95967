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
int cmd_analyze(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_mkmodel(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);

/* `glimp bench -m MODEL.gguf` (cmd_bench_model.c), reached through cmd_bench. */
int cli_bench_model(int argc, char **argv);

#endif
