/* eval_lcb_data.c - one LiveCodeBench row into a problem: the question as
 * LiveCodeBench's prompt shows it (complete the starter code, or read stdin
 * and write stdout, code in a ```python block) and the tests as the
 * reference that grading reads. Reads the local format (lcb_v6.jsonl:
 * question, starter_code, fn_name, tests) and the upstream one
 * (code_generation_lite's test*.jsonl: question_content, metadata,
 * public_test_cases, private_test_cases, the latter as JSON or encoded,
 * see eval_lcb_decode.c).
 */
#include "eval/eval_lcb.h"

#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Largest decoded private-test list of one problem. */
#define LCB_MAX_TESTS_BYTES ((size_t)1 << 30)

static const char *const format_starter =
    "You will use the following starter code to write the solution to the problem and "
    "enclose your code within delimiters.";
static const char *const format_stdin =
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not "
    "directly test on the sample inputs). Enclose your code within delimiters as follows. "
    "Ensure that when the python program runs, it reads the inputs, runs the algorithm and "
    "writes output to STDOUT.";

static char *question_text(const char *content, const char *starter)
{
    eval_buf b = {0};
    eval_buf_printf(&b, "### Question:\n%s\n\n", content);
    if (starter && *starter)
        eval_buf_printf(&b, "### Format: %s\n```python\n%s\n```\n\n", format_starter, starter);
    else
        eval_buf_printf(&b, "### Format: %s\n```python\n# YOUR CODE HERE\n```\n\n", format_stdin);
    eval_buf_puts(&b, "### Answer: (use the provided format with backticks)\n\n");
    return eval_buf_take(&b);
}

static const char *string_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Appends the tests of list (objects with input, output and `type_field`)
 * to out; false when one is malformed. */
static bool add_tests(cJSON *out, const cJSON *list, const char *type_field)
{
    if (!cJSON_IsArray(list)) return false;
    const cJSON *t;
    cJSON_ArrayForEach(t, list) {
        const char *in = string_field(t, "input"), *want = string_field(t, "output");
        const char *type = string_field(t, type_field);
        if (!in || !want || !type || (strcmp(type, "stdin") && strcmp(type, "functional")))
            return false;
        cJSON *o = cJSON_CreateObject();
        if (!o) return false;
        cJSON_AddItemToArray(out, o);
        if (!cJSON_AddStringToObject(o, "input", in) || !cJSON_AddStringToObject(o, "output", want) ||
            !cJSON_AddStringToObject(o, "type", type))
            return false;
    }
    return true;
}

/* A JSON list given as a JSON string (upstream public_test_cases). */
static cJSON *parse_list_text(const char *text) { return text ? cJSON_Parse(text) : NULL; }

/* Upstream private_test_cases: a JSON list as text, else encoded. */
static glimp_status private_tests(const char *text, cJSON **list, glimp_error *err)
{
    *list = cJSON_Parse(text);
    if (cJSON_IsArray(*list)) return GLIMP_OK;
    cJSON_Delete(*list);
    *list = NULL;
    size_t len = 0;
    char *json = eval_lcb_decode_tests(text, strlen(text), LCB_MAX_TESTS_BYTES, &len, err);
    if (!json) return glimp_error_prefix(err, "private_test_cases"), err->status;
    *list = cJSON_Parse(json);
    free(json);
    if (!cJSON_IsArray(*list)) {
        cJSON_Delete(*list);
        *list = NULL;
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "private_test_cases: not a JSON list");
    }
    return GLIMP_OK;
}

glimp_status eval_lcb_row(const cJSON *row, char **question, char **reference, char **id,
                          glimp_error *err)
{
    *question = *reference = *id = NULL;
    bool upstream = cJSON_GetObjectItemCaseSensitive(row, "question_content") != NULL;
    const char *content = string_field(row, upstream ? "question_content" : "question");
    const char *starter = string_field(row, "starter_code");
    const char *idtext = string_field(row, upstream ? "question_id" : "id");
    if (!content)
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "no string field '%s'",
                               upstream ? "question_content" : "question");
    cJSON *ref = cJSON_CreateObject(), *tests = cJSON_CreateArray(), *meta = NULL, *pub = NULL,
          *priv = NULL;
    glimp_status st = ref && tests ? GLIMP_OK : glimp_error_set(err, GLIMP_ERR_NOMEM,
                                                                 "out of memory");
    const char *fn = NULL;
    if (st == GLIMP_OK && upstream) {
        const char *m = string_field(row, "metadata");
        meta = m ? cJSON_Parse(m) : NULL;
        if (m && !cJSON_IsObject(meta))
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "metadata: not a JSON object");
        fn = string_field(meta, "func_name");
        pub = parse_list_text(string_field(row, "public_test_cases"));
        if (st == GLIMP_OK && !add_tests(tests, pub, "testtype"))
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "public_test_cases: not a JSON list of "
                                 "{input, output, testtype}");
        const char *p = string_field(row, "private_test_cases");
        if (st == GLIMP_OK && p && *p && (st = private_tests(p, &priv, err)) == GLIMP_OK &&
            !add_tests(tests, priv, "testtype"))
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "private_test_cases: not a list of "
                                 "{input, output, testtype}");
    } else if (st == GLIMP_OK) {
        fn = string_field(row, "fn_name");
        if (!add_tests(tests, cJSON_GetObjectItemCaseSensitive(row, "tests"), "type"))
            st = glimp_error_set(err, GLIMP_ERR_FORMAT, "tests: not a list of "
                                 "{input, output, type}");
    }
    if (st == GLIMP_OK && !cJSON_GetArraySize(tests))
        st = glimp_error_set(err, GLIMP_ERR_FORMAT, "no tests");
    if (st == GLIMP_OK) {
        const cJSON *t;
        cJSON_ArrayForEach(t, tests)
            if (!strcmp(string_field(t, "type"), "functional") && !fn)
                st = glimp_error_set(err, GLIMP_ERR_FORMAT, "functional tests without a "
                                     "function name (%s)", upstream ? "metadata.func_name"
                                                                    : "fn_name");
    }
    if (st == GLIMP_OK) {
        if (fn) cJSON_AddStringToObject(ref, "fn_name", fn);
        else cJSON_AddNullToObject(ref, "fn_name");
        cJSON_AddItemToObject(ref, "tests", tests);
        tests = NULL;
        *reference = cJSON_PrintUnformatted(ref);
        *question = question_text(content, starter);
        *id = idtext ? strdup(idtext) : NULL;
        if (!*reference || !*question || (idtext && !*id)) {
            st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
            free(*reference);
            free(*question);
            free(*id);
            *question = *reference = *id = NULL;
        }
    }
    cJSON_Delete(ref);
    cJSON_Delete(tests);
    cJSON_Delete(meta);
    cJSON_Delete(pub);
    cJSON_Delete(priv);
    return st;
}
