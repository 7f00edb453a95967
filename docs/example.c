/* example.c - a program using libglimp: routes one question's thinking
 * between a small and a large GGUF model and prints the answer and who wrote
 * the steps. The README's "Library" section shows it; tests/cli_install.sh
 * builds it against an installed libglimp.
 *   cc example.c $(pkg-config --cflags --libs glimp) -o example
 *   ./example models/demo/slm.gguf models/demo/llm.gguf "What is 7 * 6?" */
#include <glimp.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SLM.gguf LLM.gguf QUESTION\n", argv[0]);
        return 2;
    }
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params(); /* template picked from the file */
    lp.model_path = argv[1];
    glimp_backend *slm = glimp_backend_local_create(&lp, &err);
    lp.model_path = argv[2];
    glimp_backend *llm = slm ? glimp_backend_local_create(&lp, &err) : NULL;
    glimp_router_params p = glimp_router_default_params(); /* glimp, tau 1.0, topk:20 */
    glimp_router *router = llm ? glimp_router_create(slm, llm, &p, &err) : NULL;
    glimp_router_result *res = NULL;
    int status = 1;
    if (router && glimp_router_run(router, argv[3], NULL, &res, &err) == GLIMP_OK) {
        printf("%s\n", res->answer);
        printf("(glimp %s: %d steps, %d by the LLM)\n", glimp_version(), res->n_steps,
               res->steps_by[GLIMP_ROLE_LLM]);
        status = 0;
    } else {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
    }
    glimp_router_result_free(res);
    glimp_router_free(router);
    glimp_backend_free(llm);
    glimp_backend_free(slm);
    return status;
}
