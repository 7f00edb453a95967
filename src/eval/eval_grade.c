/* eval_grade.c - deciding whether a predicted answer matches the reference.
 *
 * INTEGER: both normalised and read as integers ("025" == 25, "1,000" ==
 * 1000, a predicted "(113)" == 113); CHOICE: the same letter; MATH: equal canonical text, else equal
 * values (relative tolerance 1e-6), else the same structure with matching
 * parts: tuples and intervals in order with the same brackets, \{sets\}
 * and unions in any order, matrices cell by cell, equations side by side,
 * bare comma lists in order (in any order when the question asks for
 * answers "separated by commas"); CODE: every test passes in the sandbox
 * (eval_lcb_grade.c). Out of memory reads as "no match".
 */
#include "eval/eval.h"
#include "eval/eval_lcb.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { GRADE_MAX_PARTS = 64, GRADE_MAX_DEPTH = 8 };

/* A slice of a normalised answer. */
typedef struct span {
    const char *s;
    size_t n;
} span;

static bool match_span(span a, span b, bool unordered_lists, int depth);

static bool is_open(char c) { return c == '(' || c == '[' || c == '{'; }
static bool is_close(char c) { return c == ')' || c == ']' || c == '}'; }

/* Splits x at top-level occurrences of sep (outside any bracket); false
 * when there are more than max parts or brackets are unbalanced. */
static bool split_top(span x, const char *sep, span *parts, size_t max, size_t *n)
{
    size_t seplen = strlen(sep), st = 0, k = 0;
    int depth = 0;
    for (size_t i = 0; i < x.n; i++) {
        char c = x.s[i];
        if (is_open(c)) depth++;
        else if (is_close(c)) depth--;
        if (depth < 0) return false;
        if (depth == 0 && i + seplen <= x.n && !strncmp(x.s + i, sep, seplen)) {
            if (k == max) return false;
            parts[k++] = (span){x.s + st, i - st};
            i += seplen - 1;
            st = i + 1;
        }
    }
    if (depth != 0 || k == max) return false;
    parts[k++] = (span){x.s + st, x.n - st};
    *n = k;
    return true;
}

/* True when x is one bracket group: opens at x.s[0], closes at the end. */
static bool is_group(span x)
{
    if (x.n < 2 || !is_open(x.s[0]) || !is_close(x.s[x.n - 1])) return false;
    int depth = 0;
    for (size_t i = 0; i < x.n; i++) {
        if (is_open(x.s[i])) depth++;
        else if (is_close(x.s[i]) && --depth == 0 && i != x.n - 1) return false;
    }
    return depth == 0;
}

static bool is_set(span x)
{
    return x.n >= 4 && !strncmp(x.s, "\\{", 2) && !strncmp(x.s + x.n - 2, "\\}", 2) &&
           is_group((span){x.s + 1, x.n - 1});
}

static bool match_lists(const span *a, size_t na, const span *b, size_t nb, bool unordered,
                        bool unordered_lists, int depth)
{
    if (na != nb) return false;
    if (!unordered) {
        for (size_t i = 0; i < na; i++)
            if (!match_span(a[i], b[i], unordered_lists, depth)) return false;
        return true;
    }
    bool used[GRADE_MAX_PARTS] = {0};
    for (size_t i = 0; i < na; i++) {
        size_t j = 0;
        while (j < nb && (used[j] || !match_span(a[i], b[j], unordered_lists, depth))) j++;
        if (j == nb) return false;
        used[j] = true;
    }
    return true;
}

/* Both split at sep into the same number (> 1) of parts that match. */
static bool match_split(span a, span b, const char *sep, bool unordered, bool unordered_lists,
                        int depth, bool *applies)
{
    span pa[GRADE_MAX_PARTS], pb[GRADE_MAX_PARTS];
    size_t na, nb;
    *applies = false;
    if (!split_top(a, sep, pa, GRADE_MAX_PARTS, &na) ||
        !split_top(b, sep, pb, GRADE_MAX_PARTS, &nb) || na < 2 || nb < 2)
        return false;
    *applies = true;
    return match_lists(pa, na, pb, nb, unordered, unordered_lists, depth);
}

/* The cells of \begin{?matrix}...\end{?matrix}, rows separated by \\ and
 * cells by &: counted into rows/cols; false when not a matrix. */
static bool matrix_cells(span x, span *cells, size_t max, size_t *n, size_t *cols)
{
    static const char *const envs[] = {"pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix"};
    for (size_t e = 0; e < sizeof envs / sizeof *envs; e++) {
        char head[32], tail[32];
        snprintf(head, sizeof head, "\\begin{%s}", envs[e]);
        snprintf(tail, sizeof tail, "\\end{%s}", envs[e]);
        size_t hl = strlen(head), tl = strlen(tail);
        if (x.n < hl + tl || strncmp(x.s, head, hl) || strncmp(x.s + x.n - tl, tail, tl))
            continue;
        span body = {x.s + hl, x.n - hl - tl}, rows[GRADE_MAX_PARTS];
        size_t nr;
        if (!split_top(body, "\\\\", rows, GRADE_MAX_PARTS, &nr)) return false;
        if (nr > 1 && rows[nr - 1].n == 0) nr--; /* trailing \\ */
        *n = 0;
        for (size_t r = 0; r < nr; r++) {
            size_t nc;
            if (!split_top(rows[r], "&", cells + *n, max - *n, &nc)) return false;
            if (r == 0) *cols = nc;
            else if (nc != *cols) return false;
            *n += nc;
        }
        return true;
    }
    return false;
}

static bool match_span(span a, span b, bool unordered_lists, int depth)
{
    if (a.n == b.n && !memcmp(a.s, b.s, a.n)) return true;
    if (depth >= GRADE_MAX_DEPTH || !a.n || !b.n) return false;
    char *sa = strndup(a.s, a.n), *sb = strndup(b.s, b.n);
    double va, vb;
    bool numeric = sa && sb && eval_numeric_value(sa, &va) && eval_numeric_value(sb, &vb);
    free(sa);
    free(sb);
    if (numeric) return fabs(va - vb) <= 1e-6 * fmax(fabs(va), fabs(vb)) + 1e-12;
    depth++;

    span ca[GRADE_MAX_PARTS * 4], cb[GRADE_MAX_PARTS * 4];
    size_t nca, ncb, cola, colb;
    bool ma = matrix_cells(a, ca, GRADE_MAX_PARTS * 4, &nca, &cola);
    bool mb = matrix_cells(b, cb, GRADE_MAX_PARTS * 4, &ncb, &colb);
    if (ma || mb)
        return ma && mb && cola == colb && match_lists(ca, nca, cb, ncb, false, false, depth);

    if (is_set(a) || is_set(b)) {
        if (!is_set(a) || !is_set(b)) return false;
        span ia = {a.s + 2, a.n - 4}, ib = {b.s + 2, b.n - 4}, pa[GRADE_MAX_PARTS],
             pb[GRADE_MAX_PARTS];
        size_t na, nb;
        return split_top(ia, ",", pa, GRADE_MAX_PARTS, &na) &&
               split_top(ib, ",", pb, GRADE_MAX_PARTS, &nb) &&
               match_lists(pa, na, pb, nb, true, unordered_lists, depth);
    }
    bool applies;
    bool m = match_split(a, b, "\\cup", true, unordered_lists, depth, &applies);
    if (applies) return m;
    if (is_group(a) && is_group(b)) { /* tuples, points, intervals */
        if (a.s[0] != b.s[0] || a.s[a.n - 1] != b.s[b.n - 1]) return false;
        span ia = {a.s + 1, a.n - 2}, ib = {b.s + 1, b.n - 2}, pa[GRADE_MAX_PARTS],
             pb[GRADE_MAX_PARTS];
        size_t na, nb;
        if (!split_top(ia, ",", pa, GRADE_MAX_PARTS, &na) ||
            !split_top(ib, ",", pb, GRADE_MAX_PARTS, &nb) || (na < 2 && nb < 2))
            return false;
        return match_lists(pa, na, pb, nb, false, unordered_lists, depth);
    }
    m = match_split(a, b, ",", unordered_lists, unordered_lists, depth, &applies);
    if (applies) return m;
    m = match_split(a, b, "=", false, unordered_lists, depth, &applies);
    return applies && m;
}

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n)) return hay;
    return NULL;
}

/* Whether the question asks for several answers in any order. */
static bool question_lists_unordered(const char *q)
{
    return q && (find_ci(q, "separated by commas") || find_ci(q, "all the solutions") ||
                 find_ci(q, "all solutions") || find_ci(q, "all possible values") ||
                 find_ci(q, "all real values") || find_ci(q, "all values"));
}

/* "(113)": an integer in one pair of parentheses (AoPS-style answers). */
static bool parse_parenthesised(char *norm, long long *value)
{
    size_t n = strlen(norm);
    if (n < 3 || norm[0] != '(' || norm[n - 1] != ')') return false;
    norm[n - 1] = '\0';
    bool ok = eval_parse_integer(norm + 1, value);
    norm[n - 1] = ')';
    return ok;
}

static bool match_integer(const char *pred, const char *ref)
{
    const char *h = strstr(ref, "####");
    if (h) ref = h + 4;
    char *np = eval_latex_normalize(pred), *nr = eval_latex_normalize(ref);
    long long a, b;
    bool ok = np && nr && (eval_parse_integer(np, &a) || parse_parenthesised(np, &a)) &&
              eval_parse_integer(nr, &b) && a == b;
    free(np);
    free(nr);
    return ok;
}

static bool match_choice(const char *pred, const char *ref)
{
    while (isspace((unsigned char)*pred) || *pred == '(') pred++;
    while (isspace((unsigned char)*ref) || *ref == '(') ref++;
    return isalpha((unsigned char)*pred) && toupper((unsigned char)*pred) ==
                                                toupper((unsigned char)*ref) &&
           !isalpha((unsigned char)pred[1]) && !isalpha((unsigned char)ref[1]);
}

/* All tests pass in the sandbox (grading failures read as "no match"). */
static bool match_code(const char *code, const char *reference)
{
    eval_sandbox_limits lim = eval_sandbox_default_limits();
    eval_lcb_test *tests = NULL;
    size_t n = 0;
    glimp_error err = {0};
    bool ok = eval_lcb_grade(code, reference, &lim, &tests, &n, &err) == GLIMP_OK;
    for (size_t i = 0; ok && i < n; i++) ok = tests[i].verdict == LCB_PASSED;
    free(tests);
    return ok;
}

bool glimp_eval_answers_match(glimp_grade_kind kind, const char *pred, const char *reference,
                              const char *question)
{
    if (!pred || !reference || !*pred) return false;
    if (kind == GLIMP_GRADE_INTEGER) return match_integer(pred, reference);
    if (kind == GLIMP_GRADE_CHOICE) return match_choice(pred, reference);
    if (kind == GLIMP_GRADE_CODE) return match_code(pred, reference);
    char *np = eval_latex_normalize(pred), *nr = eval_latex_normalize(reference);
    bool ok = np && nr && *np &&
              match_span((span){np, strlen(np)}, (span){nr, strlen(nr)},
                         question_lists_unordered(question), 0);
    free(np);
    free(nr);
    return ok;
}
