/* eval_lcb.h - LiveCodeBench inside the evaluation module: rows of the
 * local and the upstream format into problems (eval_lcb_data.c), the
 * upstream encoding of private tests (eval_lcb_decode.c), and grading a
 * response by running its program on every test in the sandbox
 * (eval_lcb_grade.c). Rules: docs/eval.md, "LiveCodeBench". */
#ifndef GLIMP_EVAL_LCB_H
#define GLIMP_EVAL_LCB_H

#include "eval/eval_sandbox.h"

struct cJSON;

/* ---- private tests (eval_lcb_decode.c) ---- */

/* Decodes base64 of zlib of a Python pickle holding one str, the only shape
 * accepted (protocol 2 to 5: PROTO, FRAME hints, one BINUNICODE /
 * SHORT_BINUNICODE / BINUNICODE8, an optional memo put, STOP, nothing
 * after); the str must be UTF-8 without NUL bytes and at most max_len
 * bytes. Returns it malloc'd and NUL-terminated (*len = its length), or
 * NULL + err (GLIMP_ERR_FORMAT naming what is wrong, GLIMP_ERR_RANGE when
 * over max_len, GLIMP_ERR_NOMEM). */
char *eval_lcb_decode_tests(const char *b64, size_t b64_len, size_t max_len, size_t *len,
                            glimp_error *err);

/* ---- problems (eval_lcb_data.c) ---- */

/* From one parsed row, local (question, starter_code, fn_name, tests) or
 * upstream (question_content, starter_code, metadata.func_name,
 * public_test_cases, private_test_cases): *question gets LiveCodeBench's
 * prompt body for it, *reference the JSON object {"fn_name": S|null,
 * "tests": [{"input", "output", "type"}...]} that grading reads, *id the
 * "id" or "question_id" (NULL when neither: the caller numbers it). All
 * malloc'd; GLIMP_ERR_FORMAT naming the field when one is missing or bad. */
glimp_status eval_lcb_row(const struct cJSON *row, char **question, char **reference, char **id,
                          glimp_error *err);

/* ---- grading (eval_lcb_grade.c) ---- */

typedef enum eval_lcb_verdict {
    LCB_PASSED = 0,
    LCB_WRONG_ANSWER,
    LCB_RUNTIME_ERROR,
    LCB_TIME_LIMIT,
    LCB_MEMORY_LIMIT,
    LCB_SKIPPED, /* not run: an earlier test failed */
} eval_lcb_verdict;

/* "passed", "wrong_answer", "runtime_error", "time_limit", "memory_limit", "skipped". */
const char *eval_lcb_verdict_name(eval_lcb_verdict v);

typedef struct eval_lcb_test {
    eval_lcb_verdict verdict;
    double wall_s;
    char detail[200]; /* why it failed (first line of the error, the output seen) */
} eval_lcb_test;

/* LiveCodeBench's extraction: the lines between the last two lines that
 * contain ``` (malloc'd; NULL when there are fewer than two, or on OOM). */
char *eval_lcb_extract_code(const char *response);

/* LiveCodeBench's stdin/stdout comparison (docs/eval.md). */
bool eval_lcb_stdout_matches(const char *got, const char *expected);

/* Runs `code` on every test of `reference` (eval_lcb_row's JSON) in the
 * sandbox with lim, tests in parallel up to the number of online CPUs
 * (shared by all gradings of the process); after the first failure the
 * tests not yet started are skipped. *tests (malloc'd, *n_tests entries)
 * receives each verdict in test order. Errors only when grading itself
 * fails (bad reference, no python, the sandbox cannot start). */
glimp_status eval_lcb_grade(const char *code, const char *reference,
                            const eval_sandbox_limits *lim, eval_lcb_test **tests,
                            size_t *n_tests, glimp_error *err);

#endif
