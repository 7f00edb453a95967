/* cmd_report.c - `glimp report DIR`: rebuilds summary.csv, summary.md and
 * the SVG plots of an eval run from DIR/items.jsonl and prints the table.
 * Exit 1 when DIR has no items.jsonl, when the records cannot be read or a
 * file cannot be written; 2 on usage errors. */
#include "cli_args.h"
#include "commands.h"
#include "eval_cli.h"
#include "glimp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void report_usage(FILE *out)
{
    fprintf(out, "usage: glimp report DIR\n\n"
                 "Rebuilds DIR/summary.csv, DIR/summary.md, DIR/accuracy_latency.svg,\n"
                 "DIR/h_init_hist.svg and DIR/llm_share_tau.svg from DIR/items.jsonl\n"
                 "(written by glimp eval) and prints the summary table.\n");
}

int cmd_report(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        report_usage(stdout);
        return 0;
    }
    if (argc > 1 && argv[1][0] == '-' && argv[1][1])
        return cli_usage_error("glimp report", "unknown option '%s'", argv[1]);
    if (argc != 2) return cli_usage_error("glimp report", "give one folder, written by glimp eval");
    char items[4096];
    snprintf(items, sizeof items, "%s/items.jsonl", argv[1]);
    if (access(items, R_OK) != 0) {
        fprintf(stderr, "glimp report: %s: %s (is %s a glimp eval output folder?)\n", items,
                strerror(errno), argv[1]);
        return 1;
    }
    glimp_error err = {0};
    if (glimp_eval_report(argv[1], &err) != GLIMP_OK) {
        fprintf(stderr, "glimp report: %s\n", err.msg);
        return 1;
    }
    eval_cli_print_summary(argv[1]);
    printf("\nwrote %s/{summary.csv,summary.md,accuracy_latency.svg,h_init_hist.svg,"
           "llm_share_tau.svg}\n", argv[1]);
    return 0;
}
