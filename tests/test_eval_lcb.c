/* test_eval_lcb.c - LiveCodeBench: the strict decoder of encoded private
 * tests (pickled str only), LiveCodeBench's code extraction and stdout
 * comparison, rows of both formats, and the grader on real problems of
 * ../shared/datasets/lcb_v6.jsonl with hand-written correct and wrong
 * solutions (passed / wrong answer / runtime error / time limit / memory
 * limit per test). The grading part skips without python3 or the data. */
#include "eval/eval_lcb.h"

#include "test_util.h"

#include <cjson/cJSON.h>
#include <zlib.h>

/* ---- decoder ---- */

/* base64(zlib(pickle.dumps(json.dumps([{"input": "1\n", "output": "2\n",
 * "testtype": "stdin"}]), protocol=P))) made by Python. */
static const char *const good[] = {
    "eJxrYIqwYGBgiK5WyswrKC1RslJQMozJU9JRUMovLYEKGEEESlKLS0oqC1JBQsUlKZl5SrWxhQx6AGF6Exw=",
    "eJxrYI6wYGBgiK5WyswrKC1RslJQMozJU9JRUMovLYEKGEEESlKLS0oqC1JBQsUlKZl5SrWxhQx6AGG7Ex0=",
    "eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKHgCVCRRG",
    "eJxrYJ1qwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKHgCVTxRH",
};

/* Anything but a pickled str: a list, an int, os.system via GLOBAL/REDUCE,
 * bytes, protocol 0, two strings, data after STOP, a truncated pickle,
 * invalid UTF-8, a NUL, REDUCE after a str; then bad base64 and zlib. */
static const char *const bad[] = {
    "eJxrYJlqzwABsVN6LKKrlTLzCkpLlKwUlAxj8pR0FJTyS0ugAkYQgZLU4pKSyoJUkFBxSUpmnlJt7JREPQDoHxWb",
    "eJxrYPFm1QMAA64BAw==",
    "eJxLzi/mKq4sLknN5dIIVk9NzshXyMhU5yoJ0gMAeEMIVg==",
    "eJxrYJlqwwABzhbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKHgCD7RP9",
    "eJwLi65WyswrKC1RslJQMowpNTAwTc5T0lFQyi8tgYoaIYmWpBaXlFQWpILEi0tSMvOUamO5Cgy49AAZxxV9",
    "eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnZKD2OiHgDURhU0",
    "eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKXgUAqccUvg==",
    "eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlMw8AM1YSiA==",
    "eJxrYOlhOqwxRQ8ADFACwA==",
    "eJxrYOlhSmSYogcAClACNg==",
    "eJxrYOlhTJwSpAcAC4MChw==",
    "eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKHgCVCRR", /* length */
    "eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKHgCVCR!G",
    "AAAAAAAA",
    "",
};

static char *b64(const unsigned char *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *s = malloc((n + 2) / 3 * 4 + 1), *o = s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? p[i + 1] : 0) << 8 | (i + 2 < n ? p[i + 2] : 0);
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
        *o++ = i + 1 < n ? al[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? al[v & 63] : '=';
    }
    *o = '\0';
    return s;
}

/* base64(zlib(pickle)) of a pickle built here. */
static char *encode(const unsigned char *pickle, size_t n)
{
    uLongf zn = compressBound(n);
    unsigned char *z = malloc(zn);
    REQUIRE(compress(z, &zn, pickle, n) == Z_OK, "compress");
    char *s = b64(z, zn);
    free(z);
    return s;
}

static void test_decoder(void)
{
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        glimp_error err = {0};
        size_t len = 0;
        char *s = eval_lcb_decode_tests(good[i], strlen(good[i]), 1 << 20, &len, &err);
        CHECK(s && !strcmp(s, "[{\"input\": \"1\\n\", \"output\": \"2\\n\", \"testtype\": "
                              "\"stdin\"}]") && len == strlen(s),
              "good[%zu]: %s", i, s ? s : err.msg);
        free(s);
        s = eval_lcb_decode_tests(good[i], strlen(good[i]), 10, &len, &err);
        CHECK(!s && err.status == GLIMP_ERR_RANGE, "good[%zu] over the bound", i);
        free(s);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        glimp_error err = {0};
        size_t len = 0;
        char *s = eval_lcb_decode_tests(bad[i], strlen(bad[i]), 1 << 20, &len, &err);
        CHECK(!s && err.status == GLIMP_ERR_FORMAT, "bad[%zu] accepted (%s)", i, err.msg);
        free(s);
    }
    /* a 300 KB str as protocol 4 writes it (BINUNICODE, no frame), and as
     * BINUNICODE8 inside a FRAME */
    size_t n = 300000;
    unsigned char *p = malloc(n + 32);
    for (int form = 0; form < 2; form++) {
        size_t k = 0;
        p[k++] = 0x80;
        p[k++] = 4;
        if (form) {
            p[k++] = 0x95;
            for (int b = 0; b < 8; b++) p[k++] = (unsigned char)((n + 11) >> (8 * b));
            p[k++] = 0x8d;
            for (int b = 0; b < 8; b++) p[k++] = (unsigned char)(n >> (8 * b));
        } else {
            p[k++] = 'X';
            for (int b = 0; b < 4; b++) p[k++] = (unsigned char)(n >> (8 * b));
        }
        memset(p + k, 'x', n);
        k += n;
        p[k++] = 0x94;
        p[k++] = '.';
        char *e = encode(p, k);
        glimp_error err = {0};
        size_t len = 0;
        char *s = eval_lcb_decode_tests(e, strlen(e), n, &len, &err);
        CHECK(s && len == n && s[0] == 'x' && s[n - 1] == 'x', "big form %d: %s", form, err.msg);
        free(s);
        free(e);
    }
    free(p);
}

/* ---- extraction and comparison ---- */

static void test_extract(void)
{
    char *c = eval_lcb_extract_code("think\n```python\nprint(1)\n```\nmore\n```python\n"
                                    "a = 1\nprint(a)\n```\nDone.");
    CHECK(c && !strcmp(c, "a = 1\nprint(a)"), "last block: '%s'", c ? c : "(null)");
    free(c);
    c = eval_lcb_extract_code("```\n```");
    CHECK(c && !strcmp(c, ""), "empty block");
    free(c);
    c = eval_lcb_extract_code("no code ``` here");
    CHECK(!c, "one fence line");
    free(c);
}

static void test_stdout_rules(void)
{
    CHECK(eval_lcb_stdout_matches("2024\n", "2024\r\n"), "CRLF");
    CHECK(eval_lcb_stdout_matches("  1 2 \n3\n\n", "1 2\n3"), "strip");
    CHECK(eval_lcb_stdout_matches("1.0 1e3", "1 1000"), "decimals");
    CHECK(eval_lcb_stdout_matches("-0.0", "0"), "zero");
    CHECK(eval_lcb_stdout_matches("1_000", "1000"), "underscore");
    CHECK(!eval_lcb_stdout_matches("0.33", "0.333"), "no tolerance");
    CHECK(!eval_lcb_stdout_matches("YES", "yes"), "case");
    CHECK(!eval_lcb_stdout_matches("1\n2", "1 2"), "line count");
    CHECK(!eval_lcb_stdout_matches("1 2 3", "1 2"), "token count");
    CHECK(!eval_lcb_stdout_matches("nan", "NaN"), "NaN != NaN");
    CHECK(eval_lcb_stdout_matches("inf", "Infinity"), "infinity");
    CHECK(eval_lcb_stdout_matches("1", "1."), "1. reads as 1");
    CHECK(eval_lcb_stdout_matches("100000000000000000000001", "1.00000000000000000000001e23"),
          "exact big decimals");
    CHECK(!eval_lcb_stdout_matches("100000000000000000000001", "1e23"), "not doubles");
    CHECK(!eval_lcb_stdout_matches("a  b", "a b"), "non-numbers compare as whole lines");
}

/* ---- rows ---- */

static void test_rows(void)
{
    cJSON *row = cJSON_Parse(
        "{\"question_id\": \"q1\", \"question_content\": \"Add.\", \"starter_code\": \"\","
        "\"metadata\": \"{}\", \"public_test_cases\": \"[{\\\"input\\\": \\\"1\\\", "
        "\\\"output\\\": \\\"2\\\", \\\"testtype\\\": \\\"stdin\\\"}]\", \"private_test_cases\": "
        "\"eJxrYJlqwwABPRbR1UqZeQWlJUpWCkqGMXlKOgpK+aUlUAEjiEBJanFJSWVBKkiouCQlM0+pNnaKHgCVCRRG\"}");
    char *q, *ref, *id;
    glimp_error err = {0};
    REQUIRE(eval_lcb_row(row, &q, &ref, &id, &err) == GLIMP_OK, "upstream row: %s", err.msg);
    CHECK(!strcmp(id, "q1"), "id %s", id);
    CHECK(strstr(q, "### Question:\nAdd.") && strstr(q, "# YOUR CODE HERE") &&
              strstr(q, "### Answer: (use the provided format with backticks)"),
          "question %s", q);
    cJSON *r = cJSON_Parse(ref);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tests")) == 2, "public + private: %s", ref);
    cJSON_Delete(r);
    free(q);
    free(ref);
    free(id);
    cJSON_Delete(row);
    row = cJSON_Parse("{\"question_id\": \"q2\", \"question_content\": \"x\", \"metadata\": "
                      "\"{}\", \"public_test_cases\": \"[]\", \"private_test_cases\": "
                      "\"eJxrYPFm1QMAA64BAw==\"}");
    CHECK(eval_lcb_row(row, &q, &ref, &id, &err) == GLIMP_ERR_FORMAT &&
              strstr(err.msg, "private_test_cases"),
          "a pickled int refused: %s", err.msg);
    cJSON_Delete(row);
}

/* ---- grading real problems ---- */

typedef struct solution {
    const char *problem;
    const char *code;
    eval_lcb_verdict want; /* of the first test */
    bool all_pass;
} solution;

static const solution solutions[] = {
    {"abc387_a", "a, b = map(int, input().split())\nprint((a + b) ** 2)", LCB_PASSED, true},
    {"abc387_a", "a, b = map(int, input().split())\nprint(a * a + b * b)", LCB_WRONG_ANSWER, false},
    {"abc387_b", "x = int(input())\nprint(sum(i * j for i in range(1, 10) for j in range(1, 10) "
                 "if i * j != x))", LCB_PASSED, true},
    {"abc387_b", "x = int(input())\nprint(2025 - x)", LCB_PASSED, false}, /* right only for 1 */
    {"abc394_a", "print(''.join(c for c in input() if c == '2'))", LCB_PASSED, true},
    {"abc394_a", "print(int(input()) // 0)", LCB_RUNTIME_ERROR, false},
    {"abc394_a", "while True:\n    pass", LCB_TIME_LIMIT, false},
    /* 3 GiB at once: fine without the 2 GiB limit (untouched pages), refused with it */
    {"abc394_a", "x = bytearray(3 << 30)", LCB_MEMORY_LIMIT, false},
    {"3731", "class Solution:\n    def subarraySum(self, nums: List[int]) -> int:\n"
             "        return sum(sum(nums[max(0, i - v):i + 1]) for i, v in enumerate(nums))",
     LCB_PASSED, true},
    {"3731", "class Solution:\n    def subarraySum(self, nums):\n        print('debug')\n"
             "        return sum(nums)", LCB_WRONG_ANSWER, false},
    {"3753", "class Solution:\n    def maxDifference(self, s: str) -> int:\n"
             "        c = Counter(s).values()\n"
             "        return max(v for v in c if v % 2) - min(v for v in c if v % 2 == 0)",
     LCB_PASSED, true},
    {"3704", "def countPartitions(nums):\n    return 0 if sum(nums) % 2 else len(nums) - 1",
     LCB_PASSED, true}, /* a plain function, no class */
    {"3704", "class Solution:\n    def countPartitions(self, nums):\n        import os\n"
             "        os.fork()\n        return len(nums) - 1", LCB_RUNTIME_ERROR, false},
};

static void test_grading(void)
{
    const char *path = test_shared_path("datasets/lcb_v6.jsonl");
    struct stat st;
    glimp_error err = {0};
    if (!path || stat(path, &st) != 0) {
        printf("grading: skipped (no lcb_v6.jsonl)\n");
        return;
    }
    if (!eval_sandbox_python(&err)) {
        printf("grading: skipped (%s)\n", err.msg);
        return;
    }
    glimp_dataset *ds = glimp_dataset_load(path, NULL, &err);
    REQUIRE(ds, "load: %s", err.msg);
    CHECK(glimp_dataset_count(ds) == 175 && !strcmp(glimp_dataset_name(ds), "lcb"),
          "%zu problems, name %s", glimp_dataset_count(ds), glimp_dataset_name(ds));
    eval_sandbox_limits lim = eval_sandbox_default_limits();
    lim.cpu_s = 2;
    lim.wall_s = 4;
    lim.memory_bytes = (size_t)1 << 30;
    for (size_t s = 0; s < sizeof solutions / sizeof *solutions; s++) {
        const solution *so = &solutions[s];
        const glimp_eval_problem *pb = NULL;
        for (size_t i = 0; i < glimp_dataset_count(ds); i++)
            if (!strcmp(glimp_dataset_problem(ds, i)->id, so->problem))
                pb = glimp_dataset_problem(ds, i);
        REQUIRE(pb && pb->grade == GLIMP_GRADE_CODE, "problem %s", so->problem);
        eval_lcb_test *t = NULL;
        size_t n = 0;
        REQUIRE(eval_lcb_grade(so->code, pb->reference, &lim, &t, &n, &err) == GLIMP_OK,
                "grade: %s", err.msg);
        bool all = true;
        for (size_t i = 0; i < n; i++) all = all && t[i].verdict == LCB_PASSED;
        CHECK(n > 1 && t[0].verdict == so->want, "%s #%zu: first test %s (%s), want %s",
              so->problem, s, eval_lcb_verdict_name(t[0].verdict), t[0].detail,
              eval_lcb_verdict_name(so->want));
        CHECK(all == so->all_pass, "%s #%zu: all passed %d", so->problem, s, all);
        free(t);
    }
    /* the public API: extraction from a response, then all tests */
    const glimp_eval_problem *pb = glimp_dataset_problem(ds, 0); /* abc387_b */
    char code[4096];
    CHECK(glimp_eval_extract_answer(GLIMP_GRADE_CODE, "Reasoning.\n```python\nx = int(input())\n"
                                    "print(sum(i * j for i in range(1, 10) for j in range(1, 10)"
                                    " if i * j != x))\n```\n", code, sizeof code) &&
              glimp_eval_answers_match(GLIMP_GRADE_CODE, code, pb->reference, pb->question),
          "API on %s", pb->id);
    glimp_dataset_free(ds);
}

int main(void)
{
    test_decoder();
    test_extract();
    test_stdout_rules();
    test_rows();
    test_grading();
    return test_finish();
}
