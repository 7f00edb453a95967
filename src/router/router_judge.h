/* router_judge.h - the specreason judge as a function of its inputs alone
 * (router_specreason.c), so that other modules (the signal analysis of
 * src/eval) score a step exactly as the specreason policy does. Internal API. */
#ifndef GLIMP_ROUTER_JUDGE_H
#define GLIMP_ROUTER_JUDGE_H

#include "glimp.h"

/* The LLM's judge score (0-9) of steps[n_steps - 1]: the THINK prompt of
 * (question, steps[0..n_steps)) with the judge text appended, and the digit
 * the LLM finds likeliest next (ten score calls sharing the prompt's cache;
 * the lowest digit wins ties). *prefill (may be NULL) gets the prompt tokens
 * they evaluated. n_steps >= 1. Backend errors pass through. */
glimp_status router_judge_score(glimp_backend *llm, const char *question,
                                const char *const *steps, int n_steps, double *score,
                                int *prefill, glimp_error *err);

#endif
