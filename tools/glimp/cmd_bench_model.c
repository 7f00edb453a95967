/* cmd_bench_model.c - `glimp bench -m MODEL.gguf`: prefill and decode speed
 * of a model. Placeholder until the engine's benchmark lands here: it says
 * so and exits 2, it measures nothing. */
#include "commands.h"

#include <stdio.h>

int cli_bench_model(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "glimp bench -m: not built yet\n");
    return 2;
}
