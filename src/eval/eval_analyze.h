/* eval_analyze.h - internals of the signal analysis (`glimp analyze`):
 * its statistics (eval_analyze_stats.c), the per-step signals of one SLM
 * step (eval_analyze_step.c) and the report (eval_analyze_report.c); the
 * public side is glimp.h's glimp_analyzer. */
#ifndef GLIMP_EVAL_ANALYZE_H
#define GLIMP_EVAL_ANALYZE_H

#include "eval/eval.h"

/* ---- statistics (eval_analyze_stats.c) ---- */

/* AUROC of v for predicting label (true = positive): the probability that
 * a random positive has a higher value than a random negative, a tie
 * counting 1/2 (Mann-Whitney U / (positives x negatives), midranks). NaN
 * values are skipped; NaN when no positive or no negative is left (or on
 * out of memory). */
double eval_auroc(const double *v, const bool *label, size_t n);

typedef struct eval_moments_result {
    size_t n;          /* values that are not NaN */
    double mean, sd;   /* sd: sample standard deviation (n - 1); NaN under 2 values */
    double skew;       /* G1, bias-adjusted sample skewness; NaN under 4 values or sd 0 */
    double kurt;       /* G2, bias-adjusted sample excess kurtosis; same */
    double bimodality; /* (G1^2 + 1) / (G2 + 3 (n-1)^2 / ((n-2)(n-3))); same */
} eval_moments_result;

/* Moments and the bimodality coefficient of v (NaN values skipped); false
 * when no value is left. */
bool eval_moments(const double *v, size_t n, eval_moments_result *out);

#endif

/* ---- the signals of one SLM step (eval_analyze_step.c) ---- */

enum { EVAL_SIG_H_INIT, EVAL_SIG_H_STEP, EVAL_SIG_PPL_STEP, EVAL_SIG_JUDGE, EVAL_N_SIGNALS };

/* Column names of the signals ("h_init", "h_step", "ppl_step", "judge"). */
extern const char *const eval_signal_names[EVAL_N_SIGNALS];

typedef struct eval_step_signals {
    char *problem;        /* malloc'd */
    int index;            /* the step's index in its trace */
    int n_tokens;         /* the step's tokens by the SLM's tokenizer, delimiter included */
    double signal[EVAL_N_SIGNALS];
    char slm_first[GLIMP_TOKEN_TEXT_MAX]; /* the step's first token (SLM tokenizer) */
    char llm_first[GLIMP_TOKEN_TEXT_MAX]; /* the LLM's greedy next token in the same place */
    bool disagree;        /* they differ */
    double llm_ll;        /* the LLM's mean log-probability per token of the step */
    int llm_tokens;       /* its tokens by the LLM's tokenizer, delimiter included */
} eval_step_signals;

/* What ended a step, as its writer produced it after the step's text: the
 * delimiter (content), "\n</think>" (markup: a control token where the
 * vocabulary has one), or nothing (end of sequence, token limit, context). */
typedef struct eval_step_end {
    const char *text;
    bool markup;
} eval_step_end;

/* The SLM as the analysis reads it: its own model and session, so that the
 * distribution before every token of a step is seen (a backend shows only
 * the first). */
typedef struct eval_slm_reader eval_slm_reader;

eval_slm_reader *eval_slm_reader_open(const glimp_analyze_params *p, glimp_error *err);
void eval_slm_reader_free(eval_slm_reader *r);

/* Fills the SLM's signals of steps[i] after (question, steps[0..i)):
 * H_init (p->entropy's estimator), H_step (mean entropy over the whole
 * vocabulary before each of the step's tokens), PPL_step (exp of minus
 * their mean log-probability), n_tokens and slm_first. The step's tokens
 * are those that the THINK prompt followed by the step and its end adds to
 * the prompt alone: as many as the router counts when the SLM writes it.
 * GLIMP_ERR_RANGE when that does not fit the context. */
glimp_status eval_slm_read_step(eval_slm_reader *r, const char *question,
                                const char *const *steps, int i, const eval_step_end *end,
                                eval_step_signals *out, glimp_error *err);

/* Fills the LLM's part for steps[i]: llm_first (its greedy token after the
 * same prompt), disagree, llm_ll and llm_tokens (the step scored with its
 * end when that is content), and the specreason judge's score
 * (router_judge_score). */
glimp_status eval_llm_read_step(glimp_backend *llm, const char *question,
                                const char *const *steps, int i, const eval_step_end *end,
                                eval_step_signals *out, glimp_error *err);

/* ---- the analyzer (eval_analyze.c) and its report (eval_analyze_report.c) ---- */

struct glimp_analyzer {
    glimp_analyze_params p;
    eval_slm_reader *slm;
    glimp_backend *llm;     /* borrowed */
    eval_step_signals *v;   /* the steps analyzed */
    size_t n, cap;
    size_t skipped;
};
