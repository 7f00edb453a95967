/* eval_calibrate.c - choosing tau for a target LLM share: H_init of every
 * probed step of SLM-only traces (or the draft score of every step, for
 * hstep and pplstep), its quantiles, and the tau at which the wanted share
 * of steps has a score >= tau (the (1 - share) quantile, by linear
 * interpolation between order statistics). Failure: GLIMP_ERR_ARG
 * for no data or a share outside (0, 1); solver errors as in eval runs.
 */
#include "eval/eval_exec.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const double glimp_calibration_levels[7] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.99};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n), linear between order statistics. */
static double quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n) return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

glimp_status glimp_eval_calibrate_values(const double *h, size_t n, double target_share,
                                         glimp_calibration *out, glimp_error *err)
{
    if (!n) return glimp_error_set(err, GLIMP_ERR_ARG, "no probed steps to calibrate on");
    if (!(target_share > 0 && target_share < 1))
        return glimp_error_set(err, GLIMP_ERR_ARG, "target share must be in (0, 1)");
    double *v = malloc(n * sizeof *v);
    if (!v) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    memcpy(v, h, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += v[i];
    *out = (glimp_calibration){
        .n_steps = n, .target_share = target_share, .tau = quantile(v, n, 1 - target_share),
        .min = v[0], .max = v[n - 1], .mean = sum / (double)n,
    };
    for (size_t i = 0; i < 7; i++) out->q[i] = quantile(v, n, glimp_calibration_levels[i]);
    free(v);
    return GLIMP_OK;
}

typedef struct calib_ctx {
    double *h;
    size_t n, cap;
    size_t traces;
    bool drafts; /* collect draft scores, not H_init */
    bool oom;
} calib_ctx;

static void add_h(void *user, double h, bool by_llm)
{
    calib_ctx *c = user;
    (void)by_llm;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *v = realloc(c->h, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return;
        }
        c->h = v;
        c->cap = cap;
    }
    c->h[c->n++] = h;
}

static glimp_status collect(void *ctx, const glimp_eval_task *t, const cJSON *trace,
                            const cJSON *graded, double wall_s, glimp_error *err)
{
    calib_ctx *c = ctx;
    (void)t;
    (void)graded;
    (void)wall_s;
    if (c->drafts)
        eval_trace_each_draft_score(trace, add_h, c);
    else
        eval_trace_each_probe(trace, add_h, c);
    c->traces++;
    return c->oom ? glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory") : GLIMP_OK;
}

glimp_status glimp_eval_calibrate(const glimp_dataset *ds, const glimp_eval_params *params,
                                  const char *policy, double tau, double target_share,
                                  glimp_eval_solve_fn solve, void *user,
                                  glimp_calibration *out, glimp_error *err)
{
    if (!(target_share > 0 && target_share < 1))
        return glimp_error_set(err, GLIMP_ERR_ARG, "target share must be in (0, 1)");
    size_t n = glimp_dataset_count(ds);
    if (params->limit && params->limit < n) n = params->limit;
    if (!n) return glimp_error_set(err, GLIMP_ERR_ARG, "empty dataset");
    glimp_eval_task *tasks = calloc(n, sizeof *tasks);
    if (!tasks) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const glimp_eval_problem *pb = glimp_dataset_problem(ds, i);
        uint64_t s = params->seed ^ eval_hash_str(pb->id);
        tasks[i] = (glimp_eval_task){.problem = pb, .policy = policy, .tau = tau,
                                     .seed = eval_rand_next(&s) >> 11};
    }
    calib_ctx c = {.drafts = !strcmp(policy, "hstep") || !strcmp(policy, "pplstep")};
    eval_exec_job job = {
        .tasks = tasks, .n_tasks = n, .prompt_template = params->prompt_template,
        .parallel = params->parallel, .solve = solve, .user = user, .done = collect, .ctx = &c,
        .progress = params->progress, .progress_user = params->progress_user,
    };
    glimp_status st = eval_exec_run(&job, NULL, NULL, err);
    free(tasks);
    if (st == GLIMP_OK) st = glimp_eval_calibrate_values(c.h, c.n, target_share, out, err);
    if (st == GLIMP_OK) out->n_problems = c.traces;
    free(c.h);
    return st;
}
