/* eval_numeric.c - the value of a normalised answer that is plain
 * arithmetic, so that 0.5, \frac{1}{2} and 1/2 (or 2\sqrt{3} and \sqrt{12})
 * compare equal. A recursive-descent parser over the canonical text of
 * eval_latex_normalize():
 *   expr    := ['+'|'-'] term (('+'|'-') term)*
 *   term    := unary (('*' | '/' | \cdot | \times | \div | implicit) unary)*
 *   unary   := '-' unary | power
 *   power   := primary ['^' (digit | {expr})]
 *   primary := number [\frac{int}{int} mixed number] | (expr) | {expr}
 *            | \frac{expr}{expr} | \sqrt[n]{expr} | \sqrt{expr} | \pi
 * Anything else (a variable, a comma, \infty, ...) makes it fail, as does a
 * non-finite result. Never allocates; recursion depth is bounded.
 */
#include "eval/eval.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct num_parser {
    const char *s;
    int depth;
    bool bad;
} num_parser;

enum { NUM_MAX_DEPTH = 64 };

static double parse_expr(num_parser *p);

static bool eat_cmd(num_parser *p, const char *name)
{
    size_t n = strlen(name);
    if (p->s[0] == '\\' && !strncmp(p->s + 1, name, n) && !isalpha((unsigned char)p->s[n + 1])) {
        p->s += n + 1;
        return true;
    }
    return false;
}

static double fail(num_parser *p)
{
    p->bad = true;
    return NAN;
}

/* {expr} */
static double parse_group(num_parser *p)
{
    if (*p->s != '{') return fail(p);
    p->s++;
    double v = parse_expr(p);
    if (*p->s != '}') return fail(p);
    p->s++;
    return v;
}

/* A decimal literal; *integer says whether it had no '.'. */
static double parse_number(num_parser *p, bool *integer)
{
    char *end;
    const char *st = p->s;
    if (!isdigit((unsigned char)*st) && *st != '.') return fail(p);
    double v = strtod(st, &end);
    if (end == st) return fail(p);
    for (const char *c = st; c < end; c++)
        if (!isdigit((unsigned char)*c) && *c != '.') return fail(p); /* no 1e5, inf, 0x */
    *integer = memchr(st, '.', (size_t)(end - st)) == NULL;
    p->s = end;
    return v;
}

/* "\frac{a}{b}" with integer literals a, b at p->s (for mixed numbers). */
static bool integer_frac_at(const char *s)
{
    if (strncmp(s, "\\frac{", 6)) return false;
    s += 6;
    if (!isdigit((unsigned char)*s)) return false;
    while (isdigit((unsigned char)*s)) s++;
    if (strncmp(s, "}{", 2)) return false;
    s += 2;
    if (!isdigit((unsigned char)*s)) return false;
    while (isdigit((unsigned char)*s)) s++;
    return *s == '}';
}

static double parse_primary(num_parser *p)
{
    if (++p->depth > NUM_MAX_DEPTH) return fail(p);
    double v;
    if (isdigit((unsigned char)*p->s) || *p->s == '.') {
        bool integer = false;
        v = parse_number(p, &integer);
        if (!p->bad && integer && integer_frac_at(p->s)) { /* 1\frac{4}{5} = 1 + 4/5 */
            p->s += 5;
            double a = parse_group(p), b = parse_group(p);
            v += a / b;
        }
    } else if (*p->s == '(') {
        p->s++;
        v = parse_expr(p);
        if (*p->s != ')') v = fail(p);
        else p->s++;
    } else if (*p->s == '{') {
        v = parse_group(p);
    } else if (eat_cmd(p, "frac")) {
        double a = parse_group(p), b = parse_group(p);
        v = a / b;
    } else if (eat_cmd(p, "sqrt")) {
        double root = 2;
        if (*p->s == '[') {
            p->s++;
            root = parse_expr(p);
            if (*p->s != ']') return fail(p);
            p->s++;
        }
        double x = parse_group(p);
        v = root == 2 ? sqrt(x) : (x < 0 ? NAN : pow(x, 1.0 / root));
    } else if (eat_cmd(p, "pi")) {
        v = M_PI;
    } else {
        v = fail(p);
    }
    p->depth--;
    return v;
}

static double parse_power(num_parser *p)
{
    double base = parse_primary(p);
    if (*p->s != '^') return base;
    p->s++;
    double e;
    if (*p->s == '{') e = parse_group(p);
    else if (isdigit((unsigned char)*p->s)) e = *p->s++ - '0';
    else return fail(p);
    return pow(base, e);
}

static double parse_unary(num_parser *p)
{
    if (*p->s == '-') {
        if (++p->depth > NUM_MAX_DEPTH) return fail(p);
        p->s++;
        double v = -parse_unary(p);
        p->depth--;
        return v;
    }
    return parse_power(p);
}

/* True when the text at s starts a factor that multiplies implicitly. */
static bool implicit_factor(const char *s)
{
    return *s == '(' || *s == '{' || !strncmp(s, "\\frac", 5) || !strncmp(s, "\\sqrt", 5) ||
           !strncmp(s, "\\pi", 3);
}

static double parse_term(num_parser *p)
{
    double v = parse_unary(p);
    while (!p->bad) {
        if (*p->s == '*' || eat_cmd(p, "cdot") || eat_cmd(p, "times")) {
            if (*p->s == '*') p->s++;
            v *= parse_unary(p);
        } else if (*p->s == '/' || eat_cmd(p, "div")) {
            if (*p->s == '/') p->s++;
            v /= parse_unary(p);
        } else if (implicit_factor(p->s)) {
            v *= parse_power(p);
        } else {
            break;
        }
    }
    return v;
}

static double parse_expr(num_parser *p)
{
    if (++p->depth > NUM_MAX_DEPTH) return fail(p);
    double v;
    if (*p->s == '+') p->s++;
    v = parse_term(p);
    while (!p->bad && (*p->s == '+' || *p->s == '-')) {
        char op = *p->s++;
        double t = parse_term(p);
        v = op == '+' ? v + t : v - t;
    }
    p->depth--;
    return v;
}

bool eval_numeric_value(const char *norm, double *value)
{
    num_parser p = {norm, 0, false};
    if (!*norm) return false;
    double v = parse_expr(&p);
    if (p.bad || *p.s || !isfinite(v)) return false;
    *value = v;
    return true;
}

bool eval_parse_integer(const char *norm, long long *value)
{
    const char *s = norm;
    if (*s == '-' || *s == '+') s++;
    if (!isdigit((unsigned char)*s)) return false;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c)) return false;
    if (strlen(s) > 18) return false;
    *value = strtoll(norm, NULL, 10);
    return true;
}
