/* eval_exec.c - running a list of tasks through the solver, one at a time
 * or on `parallel` threads. Workers take the next task from a shared index;
 * each renders the prompt, calls the solver and the optional `grade` hook
 * (outside any lock), parses its JSON trace and hands both to the caller's
 * `done` hook under the lock, so
 * hooks may append to files and count without further locking. A solver
 * error or an unparsable trace counts the task as failed and the others go
 * on, and so does a grading error; a `done` error (e.g. a write failure)
 * stops every worker.
 */
#include "eval/eval_exec.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct exec_state {
    const eval_exec_job *job;
    pthread_mutex_t lock;
    size_t next;          /* next task to take (under lock) */
    size_t finished;      /* done + failed (under lock) */
    size_t n_ok, n_failed;
    bool stop;            /* a fatal error happened (under lock) */
    glimp_status first_failure, fatal;
    glimp_error failure_err, fatal_err;
    double t0;
} exec_state;

typedef struct worker_arg {
    exec_state *x;
    int index;
} worker_arg;

/* Runs one task: solve, parse; returns the parsed trace or NULL + err. */
static cJSON *solve_one(const eval_exec_job *job, glimp_eval_task *t, double *wall_s,
                        glimp_error *err)
{
    char *prompt = NULL, *json = NULL;
    glimp_status st = glimp_eval_render_prompt(job->prompt_template, t->problem, &prompt, err);
    if (st != GLIMP_OK) return NULL;
    t->prompt = prompt;
    double t0 = eval_now_s();
    st = job->solve(job->user, t, &json, err);
    *wall_s = eval_now_s() - t0;
    t->prompt = NULL;
    free(prompt);
    if (st != GLIMP_OK) {
        free(json);
        return NULL;
    }
    cJSON *trace = json ? cJSON_Parse(json) : NULL;
    free(json);
    if (!cJSON_IsObject(trace)) {
        cJSON_Delete(trace);
        glimp_error_set(err, GLIMP_ERR_JSON, "solver returned no JSON object");
        return NULL;
    }
    return trace;
}

static void *worker(void *arg)
{
    exec_state *x = ((worker_arg *)arg)->x;
    const eval_exec_job *job = x->job;
    int index = ((worker_arg *)arg)->index;
    for (;;) {
        pthread_mutex_lock(&x->lock);
        size_t i = x->next;
        bool go = !x->stop && i < job->n_tasks;
        if (go) x->next++;
        pthread_mutex_unlock(&x->lock);
        if (!go) break;

        glimp_eval_task t = job->tasks[i];
        t.worker = index;
        glimp_error e = {0};
        double wall = 0;
        cJSON *trace = solve_one(job, &t, &wall, &e), *graded = NULL;
        if (trace && job->grade && !(graded = job->grade(job->ctx, &t, trace, &e)) && e.status) {
            cJSON_Delete(trace);
            trace = NULL;
        }

        pthread_mutex_lock(&x->lock);
        if (!trace) {
            if (!x->n_failed) {
                x->first_failure = e.status;
                x->failure_err = e;
                glimp_error_prefix(&x->failure_err, "problem %s, policy %s", t.problem->id,
                                   t.policy);
            }
            x->n_failed++;
        } else {
            glimp_status st = job->done(job->ctx, &t, trace, graded, wall, &e);
            if (st == GLIMP_OK) {
                x->n_ok++;
            } else if (!x->stop) {
                x->stop = true;
                x->fatal = st;
                x->fatal_err = e;
            }
        }
        x->finished++;
        if (job->progress)
            job->progress(job->progress_user, x->finished, job->n_tasks, eval_now_s() - x->t0);
        pthread_mutex_unlock(&x->lock);
        cJSON_Delete(trace);
        cJSON_Delete(graded);
    }
    return NULL;
}

glimp_status eval_exec_run(const eval_exec_job *job, size_t *n_ok, size_t *n_failed,
                           glimp_error *err)
{
    exec_state x = {.job = job, .t0 = eval_now_s()};
    int n = job->parallel < 1 ? 1 : job->parallel;
    if ((size_t)n > job->n_tasks) n = job->n_tasks ? (int)job->n_tasks : 1;
    if (pthread_mutex_init(&x.lock, NULL) != 0)
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "cannot create a mutex");
    worker_arg *args = calloc((size_t)n, sizeof *args);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    int started = 0;
    if (args && th) {
        for (int i = 0; i < n; i++) args[i] = (worker_arg){&x, i};
        if (n == 1) {
            worker(&args[0]);
        } else {
            for (; started < n; started++)
                if (pthread_create(&th[started], NULL, worker, &args[started]) != 0) break;
            if (!started) worker(&args[0]);
            for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
        }
    }
    free(args);
    free(th);
    pthread_mutex_destroy(&x.lock);
    if (n_ok) *n_ok = x.n_ok;
    if (n_failed) *n_failed = x.n_failed;
    if (!args || !th) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    if (x.stop) {
        if (err) *err = x.fatal_err;
        return x.fatal;
    }
    if (x.n_failed) {
        if (err) *err = x.failure_err;
        glimp_error_prefix(err, "%zu of %zu items failed; first", x.n_failed, job->n_tasks);
        return x.first_failure;
    }
    return GLIMP_OK;
}
