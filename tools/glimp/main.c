/* main.c - the `glimp` command: dispatches to one subcommand per file. */
#include "cli_args.h"
#include "commands.h"
#include "glimp.h"
#include "glimp_revision.h" /* GLIMP_GIT_REVISION, written by the build */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_command commands[] = {
    /* (entries: keep one line per command, alphabetical) */
    {"analyze", cmd_analyze, "signal analysis of SLM steps: H_init, H_step, PPL, judge vs the LLM"},
    {"bench", cmd_bench, "benchmarks: tokenizer speed (--tokenizer), model speed (-m)"},
    {"calibrate", cmd_calibrate, "pick tau for a target LLM step share from SLM-only traces"},
    {"eval", cmd_eval, "evaluate policies and taus on a benchmark: accuracy, latency, LLM share"},
    {"generate", cmd_generate, "continue a prompt with one model, streaming the text"},
    {"inspect", cmd_inspect, "show a GGUF file's metadata and tensors, and whether it runs"},
    {"mkmodel", cmd_mkmodel, "write a random-weight GGUF model of a real or custom shape"},
    {"report", cmd_report, "rebuild an eval run's summary and plots from its items.jsonl"},
    {"run", cmd_run, "route one question's thinking between a small and a large model"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server for one model or a routed pair"},
    {"tokenize", cmd_tokenize, "show the token ids and pieces of a text for a model's tokenizer"},
    {NULL, NULL, NULL},
};

/* GLIMP_KERNELS lowers the CPU kernels (src/base/cpu.c); another value is
 * ignored there, so say so here. */
static void check_kernels_env(void)
{
    const char *env = getenv("GLIMP_KERNELS");
    if (env && strcmp(env, "scalar") && strcmp(env, "avx2") && strcmp(env, "avx512") &&
        strcmp(env, "avx512-bf16"))
        fprintf(stderr, "glimp: warning: GLIMP_KERNELS=%s is not scalar, avx2, avx512 or "
                        "avx512-bf16; ignored (kernels: %s)\n", env, glimp_kernels_name());
}

static void usage(FILE *out)
{
    fprintf(out,
            "glimp %s - collaborative reasoning between a small and a large model\n\n"
            "usage: glimp <command> [options]   (glimp <command> --help for details)\n\n"
            "commands:\n",
            glimp_version());
    for (const cli_command *c = commands; c->name; c++)
        fprintf(out, "  %-11s %s\n", c->name, c->summary);
    fprintf(out, "\n  --version   print the version, git revision and CPU kernels in use\n");
}

int main(int argc, char **argv)
{
    check_kernels_env();
    if (argc < 2) return cli_usage_error("glimp", "no command given");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("glimp %s\nrevision: %s\nkernels: %s\n", glimp_version(), GLIMP_GIT_REVISION,
               glimp_kernels_name());
        return 0;
    }
    for (const cli_command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->run(argc - 1, argv + 1);
    return cli_usage_error("glimp", "unknown command '%s'", argv[1]);
}
