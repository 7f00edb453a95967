/* eval_latex.c - the canonical form of a LaTeX answer, for MATH grading.
 *
 * A fixed sequence of passes, each a pure string -> string function:
 *   1. units: \text{ cm}^2-style unit groups, degree marks and trailing unit
 *      words after a number are dropped;
 *   2. commands: $ and spacing commands go, \left/\right/\big go,
 *      \dfrac/\tfrac -> \frac, \text{X}/\mbox{X}/\mathrm{X} -> X, \% -> %;
 *   3. all whitespace goes;
 *   4. \frac12 -> \frac{1}{2}, \sqrt2 -> \sqrt{2}, x^2 -> x^{2}, a_5 -> a_{5}
 *      (unbraced arguments);
 *   5. a leading "x=" / "x\in" (one variable) goes, trailing dots go,
 *      1,000 -> 1000 (whole answer only), % goes, outer braces go;
 *   6. numbers: 025 -> 25, 2.50 -> 2.5, 3.0 -> 3, .5 -> 0.5;
 *   7. "(B)" -> "B"; a plain word is lower-cased.
 * What this does and does not recognise is listed in docs/eval.md. Returns
 * NULL only when out of memory.
 */
#include "eval/eval.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words accepted as units (also as plurals with -s / -es). */
static const char *const unit_words[] = {
    "cm", "mm", "km", "m", "in", "inch", "ft", "foot", "feet", "yd", "yard", "mile", "meter",
    "metre", "centimeter", "centimetre", "kilometer", "millimeter", "unit", "degree", "cent",
    "dollar", "percent", "hour", "hr", "minute", "min", "second", "sec", "day", "week", "month",
    "year", "pound", "lb", "ounce", "oz", "kg", "g", "gram", "kilogram", "liter", "litre", "ml",
    "gallon", "mph", "square", "sq", "cubic", "per",
};

static bool is_unit_word_exact(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof unit_words / sizeof *unit_words; i++)
        if (strlen(unit_words[i]) == n && !strncasecmp(w, unit_words[i], n)) return true;
    return false;
}

static bool is_unit_word(const char *w, size_t n)
{
    if (is_unit_word_exact(w, n)) return true;
    if (n > 1 && (w[n - 1] == 's' || w[n - 1] == 'S') && is_unit_word_exact(w, n - 1))
        return true;
    return n > 2 && !strncasecmp(w + n - 2, "es", 2) && is_unit_word_exact(w, n - 2);
}

/* True when s[0..n) is one or more unit words separated by spaces. */
static bool is_unit_phrase(const char *s, size_t n)
{
    size_t i = 0, words = 0;
    while (i < n) {
        while (i < n && s[i] == ' ') i++;
        size_t st = i;
        while (i < n && isalpha((unsigned char)s[i])) i++;
        if (i == st) {
            if (i < n) return false; /* a non-letter inside */
            break;
        }
        if (!is_unit_word(s + st, i - st)) return false;
        words++;
    }
    return words > 0;
}

/* Index just past the balanced group starting at s[i] == '{', or 0. */
static size_t group_end(const char *s, size_t i)
{
    int depth = 0;
    for (size_t j = i; s[j]; j++) {
        if (s[j] == '\\' && s[j + 1]) {
            j++;
            continue;
        }
        if (s[j] == '{') depth++;
        else if (s[j] == '}' && --depth == 0) return j + 1;
    }
    return 0;
}

/* Length of "^2", "^{2}", "^3", "^{3}" at s, else 0. */
static size_t power_suffix(const char *s)
{
    if (s[0] != '^') return 0;
    if (s[1] == '2' || s[1] == '3') return 2;
    if (s[1] == '{' && (s[2] == '2' || s[2] == '3') && s[3] == '}') return 4;
    return 0;
}

static bool starts_cmd(const char *s, const char *name)
{
    size_t n = strlen(name);
    return s[0] == '\\' && !strncmp(s + 1, name, n) && !isalpha((unsigned char)s[n + 1]);
}

static const char *const text_cmds[] = {"text", "textbf", "textit", "textrm", "textnormal",
                                        "mbox", "mathrm", "mathbf", "mathit", "operatorname"};

/* Length of the text-command name at s (after the backslash), or 0. */
static size_t text_cmd_len(const char *s)
{
    for (size_t i = 0; i < sizeof text_cmds / sizeof *text_cmds; i++)
        if (starts_cmd(s, text_cmds[i])) return strlen(text_cmds[i]) + 1;
    return 0;
}

/* Pass 1: unit groups, degree marks, trailing unit words. */
static char *pass_units(const char *in)
{
    eval_buf b = {0};
    for (size_t i = 0; in[i];) {
        size_t cl = in[i] == '\\' ? text_cmd_len(in + i) : 0;
        if (cl && in[i + cl] == '{' && b.len > 0) {
            size_t end = group_end(in, i + cl);
            if (end && is_unit_phrase(in + i + cl + 1, end - i - cl - 2)) {
                i = end + power_suffix(in + end);
                continue;
            }
        }
        if (!strncmp(in + i, "^\\circ", 6)) { i += 6; continue; }
        if (!strncmp(in + i, "^{\\circ}", 8)) { i += 8; continue; }
        if (starts_cmd(in + i, "circ")) { i += 5; continue; }
        if (starts_cmd(in + i, "degree")) { i += 7; continue; }
        if ((unsigned char)in[i] == 0xC2 && (unsigned char)in[i + 1] == 0xB0) { i += 2; continue; }
        eval_buf_putc(&b, in[i++]);
    }
    /* trailing plain unit words after a number: "12 inches", "5 cm^2" */
    char *s = eval_buf_take(&b);
    if (!s) return NULL;
    for (;;) {
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ') n--;
        if (n >= 2 && power_suffix(s + n - 2) == 2) n -= 2;
        size_t st = n;
        while (st && isalpha((unsigned char)s[st - 1])) st--;
        size_t wn = n - st; /* the word s[st..n): two letters at least, not "in" */
        if (wn < 2 || st == 0 || s[st - 1] != ' ' || (wn == 2 && !strncasecmp(s + st, "in", 2)) ||
            !is_unit_word(s + st, wn))
            break;
        size_t k = st;
        while (k && s[k - 1] == ' ') k--;
        if (!k || !(isdigit((unsigned char)s[k - 1]) || s[k - 1] == '}' || s[k - 1] == ')'))
            break;
        s[k] = '\0';
    }
    return s;
}

/* Pass 2: delimiters, spacing, \left/\right, \dfrac, text wrappers, \%. */
static void commands_into(eval_buf *b, const char *in, size_t n)
{
    static const char *const dropped[] = {"left", "right", "big", "Big", "bigl", "bigr",
                                          "Bigl", "Bigr", "displaystyle", "textstyle",
                                          "quad", "qquad", "limits"};
    for (size_t i = 0; i < n;) {
        char c = in[i];
        if (c == '$' || c == '~') { i++; continue; }
        if (c != '\\') { eval_buf_putc(b, c); i++; continue; }
        char d = i + 1 < n ? in[i + 1] : '\0';
        if (!isalpha((unsigned char)d)) {
            if (d == '%') eval_buf_putc(b, '%');
            else if (d == '{' || d == '}' || d == '\\') eval_buf_put(b, in + i, 2);
            else if (!strchr("!,;: ()[]$", d)) eval_buf_put(b, in + i, d ? 2 : 1);
            i += d ? 2 : 1;
            continue;
        }
        size_t j = i + 1;
        while (j < n && isalpha((unsigned char)in[j])) j++;
        const char *name = in + i + 1;
        size_t len = j - i - 1;
        bool drop = false;
        for (size_t k = 0; k < sizeof dropped / sizeof *dropped; k++)
            if (strlen(dropped[k]) == len && !strncmp(name, dropped[k], len)) drop = true;
        if (drop) {
            i = j;
            if ((len == 4 || len == 5) && i < n && in[i] == '.') i++; /* \left. \right. */
            continue;
        }
        if ((len == 5 && (!strncmp(name, "dfrac", 5) || !strncmp(name, "tfrac", 5) ||
                          !strncmp(name, "cfrac", 5)))) {
            eval_buf_puts(b, "\\frac");
        } else if (len == 6 && (!strncmp(name, "dbinom", 6) || !strncmp(name, "tbinom", 6))) {
            eval_buf_puts(b, "\\binom");
        } else if (text_cmd_len(in + i) == len + 1) {
            size_t k = j;
            while (k < n && in[k] == ' ') k++;
            size_t end = k < n && in[k] == '{' ? group_end(in, k) : 0;
            if (end && end <= n) {
                commands_into(b, in + k + 1, end - k - 2);
                i = end;
                continue;
            }
        } else {
            eval_buf_put(b, in + i, j - i);
        }
        i = j;
    }
}

static char *pass_commands(const char *in)
{
    eval_buf b = {0};
    commands_into(&b, in, strlen(in));
    return eval_buf_take(&b);
}

static char *pass_spaces(const char *in)
{
    eval_buf b = {0};
    for (; *in; in++)
        if (!isspace((unsigned char)*in)) eval_buf_putc(&b, *in);
    return eval_buf_take(&b);
}

/* One argument at s for \frac/\sqrt: a {group}, a \command or one char;
 * returns its length (0 at the end of the string). */
static size_t arg_len(const char *s)
{
    if (!*s) return 0;
    if (*s == '{') return group_end(s, 0);
    if (*s == '\\') {
        size_t j = 1;
        while (isalpha((unsigned char)s[j])) j++;
        return j > 1 ? j : (s[1] ? 2 : 1);
    }
    return 1;
}

static void braces_into(eval_buf *b, const char *in, size_t n);

static void put_braced_arg(eval_buf *b, const char *a, size_t n)
{
    if (n >= 2 && a[0] == '{') {
        eval_buf_putc(b, '{');
        braces_into(b, a + 1, n - 2);
        eval_buf_putc(b, '}');
    } else {
        eval_buf_putc(b, '{');
        braces_into(b, a, n);
        eval_buf_putc(b, '}');
    }
}

/* Pass 4: unbraced \frac, \sqrt, ^ and _ arguments get braces. */
static void braces_into(eval_buf *b, const char *in, size_t n)
{
    for (size_t i = 0; i < n;) {
        bool frac = starts_cmd(in + i, "frac"), sqrt = starts_cmd(in + i, "sqrt");
        if ((in[i] == '_' || in[i] == '^') && i + 1 < n && isalnum((unsigned char)in[i + 1])) {
            eval_buf_putc(b, in[i]); /* x^2 -> x^{2}, a_5 -> a_{5} */
            put_braced_arg(b, in + i + 1, 1);
            i += 2;
            continue;
        }
        if (!frac && !sqrt) {
            eval_buf_putc(b, in[i++]);
            continue;
        }
        i += 5;
        eval_buf_puts(b, frac ? "\\frac" : "\\sqrt");
        if (sqrt && i < n && in[i] == '[') {
            const char *close = memchr(in + i, ']', n - i);
            size_t m = close ? (size_t)(close - (in + i)) + 1 : n - i;
            eval_buf_put(b, in + i, m);
            i += m;
        }
        for (int a = 0; a < (frac ? 2 : 1) && i < n; a++) {
            size_t m = arg_len(in + i);
            if (!m || m > n - i) m = n - i;
            put_braced_arg(b, in + i, m);
            i += m;
        }
    }
}

static char *pass_braces(const char *in)
{
    eval_buf b = {0};
    braces_into(&b, in, strlen(in));
    return eval_buf_take(&b);
}

/* Length of a variable name at s: a letter or \greek, with an optional
 * subscript _x or _{...}; 0 when none. */
static size_t variable_len(const char *s)
{
    size_t i;
    if (isalpha((unsigned char)s[0])) i = 1;
    else if (s[0] == '\\' && isalpha((unsigned char)s[1])) {
        i = 1;
        while (isalpha((unsigned char)s[i])) i++;
        if (starts_cmd(s, "frac") || starts_cmd(s, "sqrt") || starts_cmd(s, "pi")) return 0;
    } else return 0;
    if (s[i] == '_') {
        if (s[i + 1] == '{') {
            size_t e = group_end(s, i + 1);
            return e ? e : 0;
        }
        return s[i + 1] ? i + 2 : 0;
    }
    return i;
}

static bool is_thousands_number(const char *s)
{
    size_t i = 0;
    if (s[i] == '-') i++;
    size_t lead = 0;
    while (isdigit((unsigned char)s[i])) i++, lead++;
    if (lead < 1 || lead > 3 || s[i] != ',') return false;
    while (s[i] == ',') {
        for (int k = 1; k <= 3; k++)
            if (!isdigit((unsigned char)s[i + k])) return false;
        i += 4;
    }
    if (s[i] == '.') {
        i++;
        if (!isdigit((unsigned char)s[i])) return false;
        while (isdigit((unsigned char)s[i])) i++;
    }
    return s[i] == '\0';
}

/* True when s[0] opens a group that closes exactly at s[n-1]. */
static bool wrapped_by(const char *s, size_t n, char open, char close)
{
    if (n < 2 || s[0] != open || s[n - 1] != close) return false;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == open) depth++;
        else if (s[i] == close && --depth == 0 && i != n - 1) return false;
    }
    return depth == 0;
}

/* Pass 5 (in place; only shortens): prefix, trailing dots, thousands, %,
 * outer braces. */
static void pass_shape(char *s)
{
    size_t v = variable_len(s);
    if (v && (s[v] == '=' || starts_cmd(s + v, "in"))) {
        size_t skip = v + (s[v] == '=' ? 1 : 3);
        if (s[skip] && !strchr(s + skip, '=')) memmove(s, s + skip, strlen(s + skip) + 1);
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == '.' || (n >= 2 && s[n - 2] == '\\' && s[n - 1] == '\\'))) {
        n -= s[n - 1] == '.' ? 1 : 2;
        s[n] = '\0';
    }
    if (is_thousands_number(s)) {
        size_t w = 0;
        for (size_t r = 0; s[r]; r++)
            if (s[r] != ',') s[w++] = s[r];
        s[w] = '\0';
    }
    size_t w = 0;
    for (size_t r = 0; s[r]; r++)
        if (s[r] != '%') s[w++] = s[r];
    s[w] = '\0';
    n = w;
    while (wrapped_by(s, n, '{', '}')) {
        memmove(s, s + 1, n - 2);
        n -= 2;
        s[n] = '\0';
    }
}

/* Pass 6: canonical decimal numbers. */
static char *pass_numbers(const char *in)
{
    eval_buf b = {0};
    for (size_t i = 0; in[i];) {
        bool starts = isdigit((unsigned char)in[i]) ||
                      (in[i] == '.' && isdigit((unsigned char)in[i + 1]));
        bool in_word = i > 0 && (isalpha((unsigned char)in[i - 1]) || in[i - 1] == '.');
        if (!starts || in_word) {
            eval_buf_putc(&b, in[i++]);
            continue;
        }
        size_t st = i, dot = 0, dots = 0;
        while (isdigit((unsigned char)in[i]) || in[i] == '.') {
            if (in[i] == '.') dot = i, dots++;
            i++;
        }
        if (dots > 1 || (dots == 1 && dot == i - 1)) { /* 1.2.3 or "3." */
            eval_buf_put(&b, in + st, i - st);
            continue;
        }
        size_t int_end = dots ? dot : i, k = st;
        while (k + 1 < int_end && in[k] == '0') k++; /* leading zeros */
        if (k == int_end) eval_buf_putc(&b, '0');  /* ".5" */
        else eval_buf_put(&b, in + k, int_end - k);
        if (dots) {
            size_t fe = i;
            while (fe > dot + 1 && in[fe - 1] == '0') fe--;
            if (fe > dot + 1) eval_buf_put(&b, in + dot, fe - dot);
        }
    }
    return eval_buf_take(&b);
}

/* Pass 7 (in place): "(B)" -> "B"; a plain word lower-cased. */
static void pass_words(char *s)
{
    size_t n = strlen(s);
    if (n == 3 && s[0] == '(' && isupper((unsigned char)s[1]) && s[2] == ')') {
        s[0] = s[1];
        s[1] = '\0';
        return;
    }
    if (n < 2) return;
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)s[i])) return;
    for (size_t i = 0; i < n; i++) s[i] = (char)tolower((unsigned char)s[i]);
}

static char *trimmed_copy(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

char *eval_latex_normalize(const char *answer)
{
    char *(*const passes[])(const char *) = {pass_units, pass_commands, pass_spaces,
                                             pass_braces};
    char *s = trimmed_copy(answer ? answer : "");
    for (size_t i = 0; s && i < sizeof passes / sizeof *passes; i++) {
        char *t = passes[i](s);
        free(s);
        s = t;
    }
    if (!s) return NULL;
    pass_shape(s);
    char *t = pass_numbers(s);
    free(s);
    if (t) pass_words(t);
    return t;
}
