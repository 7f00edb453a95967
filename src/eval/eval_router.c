/* eval_router.c - the one place where an eval item meets the router: a
 * solver that runs task->prompt through glimp_router_run with the task's
 * policy, tau and seed on the worker's backend pair and returns the
 * router's JSON trace; plus what `glimp eval` and `glimp calibrate` share:
 * opening a local or server backend. Router and backend errors pass through.
 */
#include "eval/eval.h"

#include <math.h>
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
    if (er->reward) p.reward = er->reward[task->worker];
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
