/* eval_router.c - the one place where an eval item meets the router: a
 * solver that runs task->prompt through glimp_router_run with the task's
 * policy, tau and seed on the worker's backend pair and returns the
 * router's JSON trace; plus what `glimp eval` and `glimp calibrate` share:
 * opening a local or server backend and the router/backend options. Router
 * and backend errors pass through.
 */
#include "eval/eval.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

glimp_status glimp_eval_solve_router(void *user, const glimp_eval_task *task,
                                     char **trace_json, glimp_error *err)
{
    const glimp_eval_router *er = user;
    *trace_json = NULL;
    if (task->worker < 0 || task->worker >= er->n_workers)
        return glimp_error_set(err, GLIMP_ERR_ARG, "worker %d has no backends", task->worker);
    glimp_router_params p = er->params;
    glimp_status st = glimp_router_parse_policy(task->policy, &p, err);
    if (st != GLIMP_OK) return st;
    if (!isnan(task->tau)) p.tau = task->tau;
    p.seed = task->seed;
    glimp_router *r = glimp_router_create(er->slm[task->worker], er->llm[task->worker], &p, err);
    if (!r) return err ? err->status : GLIMP_ERR_ARG;
    glimp_router_result *res = NULL;
    st = glimp_router_run(r, task->prompt, NULL, &res, err);
    if (st == GLIMP_OK) {
        *trace_json = glimp_router_result_json(res);
        if (!*trace_json) st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    }
    glimp_router_result_free(res);
    glimp_router_free(r);
    return st;
}

bool glimp_eval_is_server(const char *where)
{
    return !strncmp(where, "http://", 7) || !strncmp(where, "https://", 8);
}

glimp_backend *glimp_eval_open_backend(const char *where, const char *model,
                                       const char *template_name,
                                       const glimp_local_params *local, glimp_error *err)
{
    if (glimp_eval_is_server(where)) {
        glimp_openai_params op = glimp_openai_default_params();
        op.base_url = where;
        op.model = model;
        op.template_name = template_name;
        return glimp_backend_openai_create(&op, err);
    }
    glimp_local_params lp = *local;
    lp.model_path = where;
    lp.template_name = template_name;
    return glimp_backend_local_create(&lp, err);
}

static glimp_status parse_int(const char *name, const char *v, int lo, int *out, glimp_error *err)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > 1 << 30)
        return glimp_error_set(err, GLIMP_ERR_ARG, "%s: '%s' is not an integer >= %d", name, v, lo);
    *out = (int)x;
    return GLIMP_OK;
}

static glimp_status parse_float(const char *name, const char *v, float lo, float hi, float *out,
                                glimp_error *err)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi))
        return glimp_error_set(err, GLIMP_ERR_ARG, "%s: '%s' is not a number in [%g, %g]", name,
                               v, lo, hi);
    *out = (float)x;
    return GLIMP_OK;
}

glimp_status glimp_eval_router_option(const char *name, const char *value,
                                      glimp_router_params *router, glimp_local_params *local,
                                      glimp_error *err)
{
    if (!strcmp(name, "--entropy")) return glimp_router_parse_entropy(value, router, err);
    if (!strcmp(name, "--max-step-tokens"))
        return parse_int(name, value, 1, &router->max_step_tokens, err);
    if (!strcmp(name, "--think-budget")) return parse_int(name, value, 1, &router->think_budget, err);
    if (!strcmp(name, "--final-max-tokens"))
        return parse_int(name, value, 1, &router->final_max_tokens, err);
    if (!strcmp(name, "--temp"))
        return parse_float(name, value, 0, 100, &router->temperature, err);
    if (!strcmp(name, "--top-p")) return parse_float(name, value, 0, 1, &router->top_p, err);
    if (!strcmp(name, "--threads")) return parse_int(name, value, 0, &local->n_threads, err);
    if (!strcmp(name, "--ctx")) return parse_int(name, value, 0, &local->n_ctx, err);
    if (!strcmp(name, "--final")) {
        if (strcmp(value, "slm") && strcmp(value, "llm"))
            return glimp_error_set(err, GLIMP_ERR_ARG, "--final: 'slm' or 'llm', not '%s'", value);
        router->final_by_slm = !strcmp(value, "slm");
        return GLIMP_OK;
    }
    return glimp_error_set(err, GLIMP_ERR_NOT_FOUND, "unknown option %s", name);
}
