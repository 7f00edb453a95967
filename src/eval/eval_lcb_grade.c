/* eval_lcb_grade.c - grading a LiveCodeBench answer as LiveCodeBench does:
 * the code between the last two ``` lines, run after LiveCodeBench's import
 * prelude on every test in the sandbox (eval_sandbox.c).
 * - stdin tests: the program reads the input; its stdout is compared with
 *   the expected output line by line (eval_lcb_stdout_matches).
 * - functional tests: a driver reads the test from stdin, executes the code,
 *   calls Solution().fn (or fn), turns a tuple into a list and compares it
 *   with the expected JSON value using Python's ==; it reports on its own
 *   copy of stdout, the program's prints going to /dev/null.
 * Verdicts: time limit (CPU or wall limit), memory limit (MemoryError),
 * runtime error (an uncaught exception, a signal, too much output), wrong
 * answer, passed. Tests run on up to one thread per online CPU (a
 * process-wide count of running sandboxes keeps concurrent gradings within
 * that); once a test fails, tests not yet started are skipped.
 */
#include "eval/eval_lcb.h"

#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* LiveCodeBench's import prelude (lcb_runner/evaluation/testing_util.py). */
static const char prelude[] =
    "from string import *\nfrom re import *\nfrom datetime import *\n"
    "from collections import *\nfrom heapq import *\nfrom bisect import *\n"
    "from copy import *\nfrom math import *\nfrom random import *\n"
    "from statistics import *\nfrom itertools import *\nfrom functools import *\n"
    "from operator import *\nfrom io import *\nfrom sys import *\nfrom json import *\n"
    "from builtins import *\nfrom typing import *\nimport string\nimport re\n"
    "import datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\n"
    "import math\nimport random\nimport statistics\nimport itertools\nimport functools\n"
    "import operator\nimport io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n";

/* Functional tests: stdin holds {"fn", "input", "output"}; the verdict goes
 * to a copy of fd 1 as "PASS" or "FAIL <repr of the result>". */
static const char driver[] =
    "import json, os, sys\n"
    "_t = json.loads(sys.stdin.read())\n"
    "_src = open('solution.py', encoding='utf-8').read()\n"
    "_report = os.fdopen(os.dup(1), 'w')\n"
    "_null = os.open(os.devnull, os.O_RDWR)\n"
    "os.dup2(_null, 0); os.dup2(_null, 1)\n"
    "_ns = {'__name__': 'solution'}\n"
    "exec(compile(open('prelude.py').read(), 'prelude.py', 'exec'), _ns)\n"
    "exec(compile(_src, 'solution.py', 'exec'), _ns)\n"
    "_fn = getattr(_ns['Solution'](), _t['fn']) if 'Solution' in _ns else _ns[_t['fn']]\n"
    "_args = [json.loads(line) for line in _t['input'].split('\\n')]\n"
    "_want = json.loads(_t['output'])\n"
    "_got = _fn(*_args)\n"
    "if isinstance(_got, tuple): _got = list(_got)\n"
    "_report.write('PASS' if _got == _want else 'FAIL ' + repr(_got)[:150])\n"
    "_report.flush()\n"
    "os._exit(0)\n";

const char *eval_lcb_verdict_name(eval_lcb_verdict v)
{
    static const char *const names[] = {"passed", "wrong_answer", "runtime_error",
                                        "time_limit", "memory_limit", "skipped"};
    return (unsigned)v < sizeof names / sizeof *names ? names[v] : "?";
}

char *eval_lcb_extract_code(const char *response)
{
    const char *last = NULL, *before = NULL; /* starts of the last two ``` lines */
    for (const char *line = response; line; ) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *f = memmem(line, n, "```", 3);
        if (f) {
            before = last;
            last = line;
        }
        line = end ? end + 1 : NULL;
    }
    if (!before) return NULL;
    const char *from = strchr(before, '\n') + 1; /* before < last: it has a '\n' */
    size_t n = (size_t)(last - from);
    if (n) n--; /* the '\n' ending the last code line */
    char *code = malloc(n + 1);
    if (!code) return NULL;
    memcpy(code, from, n);
    code[n] = '\0';
    return code;
}

/* ---- stdin/stdout comparison ---- */

/* Python's str.strip()/split() whitespace, ASCII part. */
static bool py_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

typedef struct span {
    const char *s;
    size_t n;
} span;

static span strip(span x)
{
    while (x.n && py_space((unsigned char)*x.s)) x.s++, x.n--;
    while (x.n && py_space((unsigned char)x.s[x.n - 1])) x.n--;
    return x;
}

/* The next "\n"-separated line of *rest (NULL-s when none left). */
static bool next_line(span *rest, bool *done, span *line)
{
    if (*done) return false;
    const char *nl = memchr(rest->s, '\n', rest->n);
    if (!nl) {
        *line = *rest;
        *done = true;
        return true;
    }
    *line = (span){rest->s, (size_t)(nl - rest->s)};
    rest->n -= (size_t)(nl - rest->s) + 1;
    rest->s = nl + 1;
    return true;
}

/* An exact decimal as Python's Decimal reads it: sign, significant digits
 * without leading or trailing zeros, exponent; or infinity / NaN. */
typedef struct decimal {
    int kind; /* 0 finite, 1 infinity, 2 NaN */
    bool neg;
    char digits[512];
    size_t nd;
    long long exp;
    bool too_long;
} decimal;

static bool word_is(span t, const char *w)
{
    return t.n == strlen(w) && !strncasecmp(t.s, w, t.n);
}

static bool parse_decimal(span t, decimal *d)
{
    memset(d, 0, sizeof *d);
    size_t i = 0;
    if (i < t.n && (t.s[i] == '+' || t.s[i] == '-')) d->neg = t.s[i++] == '-';
    span rest = {t.s + i, t.n - i};
    if (word_is(rest, "inf") || word_is(rest, "infinity")) {
        d->kind = 1;
        return true;
    }
    if (word_is(rest, "nan") || word_is(rest, "snan")) {
        d->kind = 2;
        return true;
    }
    bool any = false, dot = false, prev_digit = false;
    long long frac = 0;
    for (; i < t.n; i++) {
        char c = t.s[i];
        if (isdigit((unsigned char)c)) {
            any = prev_digit = true;
            if (dot) frac++;
            if (d->nd || c != '0') {
                if (d->nd == sizeof d->digits) d->too_long = true;
                else d->digits[d->nd++] = c;
            }
        } else if (c == '_' && prev_digit && i + 1 < t.n && isdigit((unsigned char)t.s[i + 1])) {
            prev_digit = false;
        } else if (c == '.' && !dot) {
            dot = true;
            prev_digit = false;
        } else {
            break;
        }
    }
    if (!any) return false;
    long long e = 0;
    if (i < t.n && (t.s[i] == 'e' || t.s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < t.n && (t.s[i] == '+' || t.s[i] == '-')) eneg = t.s[i++] == '-';
        size_t start = i;
        for (; i < t.n && isdigit((unsigned char)t.s[i]); i++)
            if (e < 1000000000000LL) e = e * 10 + (t.s[i] - '0');
        if (i == start) return false;
        if (eneg) e = -e;
    }
    if (i != t.n) return false;
    d->exp = e - frac;
    while (d->nd && d->digits[d->nd - 1] == '0') d->nd--, d->exp++;
    return true;
}

static bool decimals_equal(const decimal *a, const decimal *b)
{
    if (a->kind == 2 || b->kind == 2) return false; /* NaN != NaN */
    if (a->kind != b->kind) return false;
    if (a->kind == 1) return a->neg == b->neg;
    if (!a->nd || !b->nd) return !a->nd && !b->nd; /* zeros, whatever the sign */
    if (a->too_long || b->too_long) return false;
    return a->neg == b->neg && a->nd == b->nd && a->exp == b->exp &&
           !memcmp(a->digits, b->digits, a->nd);
}

static bool next_token(span *rest, span *tok)
{
    while (rest->n && py_space((unsigned char)*rest->s)) rest->s++, rest->n--;
    if (!rest->n) return false;
    size_t k = 0;
    while (k < rest->n && !py_space((unsigned char)rest->s[k])) k++;
    *tok = (span){rest->s, k};
    rest->s += k;
    rest->n -= k;
    return true;
}

/* Both lines as lists of decimals, equal element by element. */
static bool lines_equal_as_decimals(span a, span b)
{
    span ta, tb;
    decimal da, db;
    for (;;) {
        bool ha = next_token(&a, &ta), hb = next_token(&b, &tb);
        if (!ha || !hb) return ha == hb;
        if (!parse_decimal(ta, &da) || !parse_decimal(tb, &db) || !decimals_equal(&da, &db))
            return false;
    }
}

bool eval_lcb_stdout_matches(const char *got, const char *expected)
{
    span a = strip((span){got, strlen(got)}), b = strip((span){expected, strlen(expected)});
    bool da = false, db = false;
    span la, lb;
    for (;;) {
        bool ha = next_line(&a, &da, &la), hb = next_line(&b, &db, &lb);
        if (!ha || !hb) return ha == hb; /* line counts differ */
        la = strip(la);
        lb = strip(lb);
        if (la.n == lb.n && !memcmp(la.s, lb.s, la.n)) continue;
        if (!lines_equal_as_decimals(la, lb)) return false;
    }
}

/* ---- running the tests ---- */

/* Running sandboxes in this process, at most one per online CPU. */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_free = PTHREAD_COND_INITIALIZER;
static int slots_used;

static int n_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static void slot_take(void)
{
    pthread_mutex_lock(&slots_lock);
    while (slots_used >= n_cpus()) pthread_cond_wait(&slots_free, &slots_lock);
    slots_used++;
    pthread_mutex_unlock(&slots_lock);
}

static void slot_give(void)
{
    pthread_mutex_lock(&slots_lock);
    slots_used--;
    pthread_cond_signal(&slots_free);
    pthread_mutex_unlock(&slots_lock);
}

typedef struct grade_job {
    const cJSON *tests;
    const char *fn;
    const char *program;    /* stdin tests: prelude + code */
    const char *code;
    const eval_sandbox_limits *lim;
    eval_lcb_test *out;
    size_t n;
    atomic_size_t next;
    atomic_bool failed;
    pthread_mutex_t lock;   /* guards st / err */
    glimp_status st;
    glimp_error err;
} grade_job;

/* The first line of s that says what went wrong (the last non-empty one). */
static void last_line(const char *s, char *out, size_t cap)
{
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == '\n' || end[-1] == ' ')) end--;
    const char *start = end;
    while (start > s && start[-1] != '\n') start--;
    snprintf(out, cap, "%.*s", (int)(end - start), start);
}

static void classify(const eval_sandbox_result *r, const eval_sandbox_limits *lim, bool functional,
                     const char *expected, eval_lcb_test *t)
{
    t->wall_s = r->wall_s;
    if (r->wall_timeout || r->signal == SIGXCPU ||
        (r->signal == SIGKILL && !r->output_limit)) {
        t->verdict = LCB_TIME_LIMIT;
        snprintf(t->detail, sizeof t->detail, "over %.3g s CPU or %.3g s wall", lim->cpu_s,
                 lim->wall_s);
    } else if (strstr(r->err, "MemoryError")) {
        t->verdict = LCB_MEMORY_LIMIT;
        snprintf(t->detail, sizeof t->detail, "MemoryError (limit %zu MiB)",
                 lim->memory_bytes >> 20);
    } else if (r->output_limit) {
        t->verdict = LCB_RUNTIME_ERROR;
        snprintf(t->detail, sizeof t->detail, "more than %zu bytes of output", lim->output_bytes);
    } else if (r->signal) {
        t->verdict = LCB_RUNTIME_ERROR;
        snprintf(t->detail, sizeof t->detail, "killed by signal %d", r->signal);
    } else if (functional) {
        bool pass = !strcmp(r->out, "PASS");
        t->verdict = pass ? LCB_PASSED : !strncmp(r->out, "FAIL ", 5) ? LCB_WRONG_ANSWER
                                                                      : LCB_RUNTIME_ERROR;
        if (t->verdict == LCB_WRONG_ANSWER) snprintf(t->detail, sizeof t->detail, "got %s", r->out + 5);
        else if (!pass) last_line(r->err, t->detail, sizeof t->detail);
    } else if (r->exit_code != 0 && strstr(r->err, "Traceback (most recent call last)")) {
        t->verdict = LCB_RUNTIME_ERROR;
        last_line(r->err, t->detail, sizeof t->detail);
    } else {
        t->verdict = eval_lcb_stdout_matches(r->out, expected) ? LCB_PASSED : LCB_WRONG_ANSWER;
        if (t->verdict == LCB_WRONG_ANSWER)
            snprintf(t->detail, sizeof t->detail, "got %.150s", r->out);
    }
    for (char *c = t->detail; *c; c++) /* records stay valid UTF-8 */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
}

static glimp_status run_one(grade_job *g, size_t i, glimp_error *err)
{
    const cJSON *t = cJSON_GetArrayItem(g->tests, (int)i);
    const char *in = cJSON_GetObjectItemCaseSensitive(t, "input")->valuestring;
    const char *want = cJSON_GetObjectItemCaseSensitive(t, "output")->valuestring;
    bool functional = !strcmp(cJSON_GetObjectItemCaseSensitive(t, "type")->valuestring,
                              "functional");
    eval_sandbox_result r;
    glimp_status st;
    if (functional) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "fn", g->fn ? g->fn : "");
        cJSON_AddStringToObject(o, "input", in);
        cJSON_AddStringToObject(o, "output", want);
        char *stdin_text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!stdin_text) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        eval_sandbox_file files[] = {{"driver.py", driver, sizeof driver - 1},
                                     {"solution.py", g->code, strlen(g->code)},
                                     {"prelude.py", prelude, sizeof prelude - 1}};
        st = eval_sandbox_run(g->lim, files, 3, stdin_text, strlen(stdin_text), &r, err);
        free(stdin_text);
    } else {
        eval_sandbox_file file = {"main.py", g->program, strlen(g->program)};
        st = eval_sandbox_run(g->lim, &file, 1, in, strlen(in), &r, err);
    }
    if (st != GLIMP_OK) return st;
    classify(&r, g->lim, functional, want, &g->out[i]);
    eval_sandbox_result_free(&r);
    return GLIMP_OK;
}

static void *grade_worker(void *arg)
{
    grade_job *g = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&g->next, 1);
        if (i >= g->n) break;
        if (atomic_load(&g->failed)) {
            g->out[i].verdict = LCB_SKIPPED;
            continue;
        }
        glimp_error e = {0};
        slot_take();
        glimp_status st = run_one(g, i, &e);
        slot_give();
        if (st != GLIMP_OK) {
            pthread_mutex_lock(&g->lock);
            if (g->st == GLIMP_OK) {
                g->st = st;
                g->err = e;
            }
            pthread_mutex_unlock(&g->lock);
            g->out[i].verdict = LCB_SKIPPED;
        }
        if (st != GLIMP_OK || g->out[i].verdict != LCB_PASSED) atomic_store(&g->failed, true);
    }
    return NULL;
}

glimp_status eval_lcb_grade(const char *code, const char *reference,
                            const eval_sandbox_limits *lim, eval_lcb_test **tests,
                            size_t *n_tests, glimp_error *err)
{
    *tests = NULL;
    *n_tests = 0;
    if (!eval_sandbox_python(err)) return err->status;
    cJSON *ref = cJSON_Parse(reference);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(ref, "tests");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(ref, "fn_name");
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || !n) {
        cJSON_Delete(ref);
        return glimp_error_set(err, GLIMP_ERR_FORMAT, "LiveCodeBench reference without tests");
    }
    eval_buf program = {0};
    eval_buf_puts(&program, prelude);
    eval_buf_puts(&program, code);
    eval_buf_putc(&program, '\n');
    grade_job g = {
        .tests = list, .fn = cJSON_IsString(fn) ? fn->valuestring : NULL,
        .program = eval_buf_str(&program), .code = code, .lim = lim,
        .out = calloc(n, sizeof *g.out), .n = n,
    };
    atomic_init(&g.next, 0);
    atomic_init(&g.failed, false);
    pthread_mutex_init(&g.lock, NULL);
    glimp_status st = g.out && !program.oom ? GLIMP_OK
                                           : glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    if (st == GLIMP_OK) {
        int nt = n_cpus() < (int)(n < 64 ? n : 64) ? n_cpus() : (int)(n < 64 ? n : 64);
        pthread_t th[64];
        int started = 0;
        for (; started < nt - 1; started++)
            if (pthread_create(&th[started], NULL, grade_worker, &g) != 0) break;
        grade_worker(&g);
        for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
        if (g.st != GLIMP_OK) {
            st = g.st;
            if (err) *err = g.err;
        }
    }
    pthread_mutex_destroy(&g.lock);
    eval_buf_free(&program);
    cJSON_Delete(ref);
    if (st != GLIMP_OK) {
        free(g.out);
        return st;
    }
    *tests = g.out;
    *n_tests = n;
    return GLIMP_OK;
}
