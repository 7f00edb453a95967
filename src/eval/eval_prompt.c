/* eval_prompt.c - the prompt given to the router for one problem: the
 * built-in instruction for its grading kind (step-by-step reasoning with
 * blank lines between steps, the final answer in \boxed{}; for code,
 * LiveCodeBench's system message before its question), or a user
 * template whose "{question}" placeholders are replaced. A template without
 * the placeholder is GLIMP_ERR_ARG; allocation failure GLIMP_ERR_NOMEM.
 */
#include "eval/eval.h"

#include <string.h>

static const char *const prompt_math =
    "{question}\n\n"
    "Please reason step by step, separating the steps with blank lines, and put your final "
    "answer within \\boxed{}.";

static const char *const prompt_choice =
    "{question}\n\n"
    "Please reason step by step, separating the steps with blank lines, and put the letter "
    "of your final answer (A, B, C or D) within \\boxed{}.";

/* LiveCodeBench's system message; the question already holds its format
 * instructions (eval_lcb_data.c). */
static const char *const prompt_code =
    "You are an expert Python programmer. You will be given a question (problem "
    "specification) and will generate a correct Python program that matches the "
    "specification and passes all tests.\n\n"
    "{question}";

glimp_status glimp_eval_render_prompt(const char *tmpl, const glimp_eval_problem *problem,
                                      char **out, glimp_error *err)
{
    static const char placeholder[] = "{question}";
    const size_t plen = sizeof placeholder - 1;
    *out = NULL;
    if (!tmpl)
        tmpl = problem->grade == GLIMP_GRADE_CHOICE ? prompt_choice
               : problem->grade == GLIMP_GRADE_CODE ? prompt_code
                                                    : prompt_math;
    if (!strstr(tmpl, placeholder))
        return glimp_error_set(err, GLIMP_ERR_ARG, "prompt template has no {question}");
    eval_buf b = {0};
    for (const char *p = tmpl, *q; *p; p = q + plen) {
        q = strstr(p, placeholder);
        if (!q) {
            eval_buf_puts(&b, p);
            break;
        }
        eval_buf_put(&b, p, (size_t)(q - p));
        eval_buf_puts(&b, problem->question);
    }
    *out = eval_buf_take(&b);
    return *out ? GLIMP_OK : glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
}
