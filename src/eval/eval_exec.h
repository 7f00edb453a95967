/* eval_exec.h - the task executor shared by eval runs and calibration
 * (eval_exec.c): solver calls on one or several threads, results graded
 * outside the lock and handed to a hook under it. */
#ifndef GLIMP_EVAL_EXEC_H
#define GLIMP_EVAL_EXEC_H

#include "eval/eval.h"

struct cJSON;

/* Optional: judges a finished task's trace outside the lock (slow grading
 * goes here); the result (may be NULL) is handed to `done` and deleted
 * after it. NULL with err->status set counts the task as failed. */
typedef struct cJSON *(*eval_grade_fn)(void *ctx, const glimp_eval_task *task,
                                       const struct cJSON *trace, glimp_error *err);

/* Receives one finished task (prompt no longer set), its parsed trace and
 * what `grade` made of it (NULL without a grade hook), under the
 * executor's lock. A non-OK status stops the run. */
typedef glimp_status (*eval_done_fn)(void *ctx, const glimp_eval_task *task,
                                     const struct cJSON *trace, const struct cJSON *graded,
                                     double wall_s, glimp_error *err);

typedef struct eval_exec_job {
    const glimp_eval_task *tasks; /* prompt unset: rendered per task */
    size_t n_tasks;
    const char *prompt_template;  /* NULL: built-in */
    int parallel;
    glimp_eval_solve_fn solve;
    void *user;
    eval_grade_fn grade;          /* may be NULL */
    eval_done_fn done;
    void *ctx;
    glimp_eval_progress_fn progress; /* may be NULL; called under the lock */
    void *progress_user;
} eval_exec_job;

/* Runs every task. Returns the fatal hook error, else the first solver
 * failure (after all tasks ran; prefixed with the failure count), else OK. */
glimp_status eval_exec_run(const eval_exec_job *job, size_t *n_ok, size_t *n_failed,
                           glimp_error *err);

#endif
