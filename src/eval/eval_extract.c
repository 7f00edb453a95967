/* eval_extract.c - finding the final answer in a model's response: the last
 * balanced \boxed{...}, GSM8K's "#### N", a multiple-choice letter, or the
 * last fenced code block (eval_lcb_grade.c). Unbalanced or truncated boxes
 * are skipped; nothing found gives false and an empty answer. Allocates
 * only for code.
 */
#include "eval/eval.h"
#include "eval/eval_lcb.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void copy_out(char *out, size_t cap, const char *s, size_t n)
{
    if (!cap) return;
    if (n > cap - 1) n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static void trim_span(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* The box whose command starts at p ("\boxed" or "\fbox"): content span. */
static bool box_content(const char *p, size_t cmd_len, const char **c, size_t *n)
{
    const char *q = p + cmd_len;
    if (isalpha((unsigned char)*q)) return false; /* \boxedsomething */
    while (*q == ' ') q++;
    if (*q == '{') {
        int depth = 0;
        for (const char *r = q; *r; r++) {
            if (*r == '\\' && r[1]) { /* \{ and \} do not nest */
                r++;
                continue;
            }
            if (*r == '{') depth++;
            else if (*r == '}' && --depth == 0) {
                *c = q + 1;
                *n = (size_t)(r - q - 1);
                return true;
            }
        }
        return false;
    }
    if (q == p + cmd_len) return false; /* "\boxed" then neither ' ' nor '{' */
    size_t len = strcspn(q, " \t\n$");
    if (!len) return false;
    *c = q;
    *n = len;
    return true;
}

bool eval_extract_boxed(const char *text, char *out, size_t cap)
{
    const char *best = NULL;
    size_t best_n = 0;
    for (const char *p = text; (p = strchr(p, '\\')) != NULL; p++) {
        const char *c;
        size_t n;
        bool ok = false;
        if (!strncmp(p, "\\boxed", 6)) ok = box_content(p, 6, &c, &n);
        else if (!strncmp(p, "\\fbox", 5)) ok = box_content(p, 5, &c, &n);
        if (ok) {
            trim_span(&c, &n);
            best = c;
            best_n = n;
        }
    }
    if (!best) {
        copy_out(out, cap, "", 0);
        return false;
    }
    copy_out(out, cap, best, best_n);
    return true;
}

/* "#### 1,234" (GSM8K reference): the text after the last "####". */
static bool extract_hashes(const char *text, char *out, size_t cap)
{
    const char *last = NULL;
    for (const char *p = text; (p = strstr(p, "####")) != NULL; p += 4) last = p;
    if (!last) return false;
    const char *c = last + 4;
    size_t n = strcspn(c, "\n");
    trim_span(&c, &n);
    if (!n) return false;
    copy_out(out, cap, c, n);
    return true;
}

/* A choice letter at s: skips "(", "*", "$", "{", spaces and \text{ /
 * \textbf{ / \mathrm{ wrappers; the letter must be A-J and not begin a word. */
static char letter_at(const char *s)
{
    for (;;) {
        if (*s == '(' || *s == '*' || *s == '$' || *s == '{' || *s == ' ' || *s == '[') s++;
        else if (!strncmp(s, "\\text{", 6) || !strncmp(s, "\\mathrm{", 8) ||
                 !strncmp(s, "\\textbf{", 8) || !strncmp(s, "\\mathbf{", 8) ||
                 !strncmp(s, "\\boxed{", 7))
            s = strchr(s, '{') + 1;
        else break;
    }
    if (*s < 'A' || *s > 'J') return 0;
    if (isalnum((unsigned char)s[1])) return 0;
    return *s;
}

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n)) return hay;
    return NULL;
}

/* The letter after the last "answer is" / "answer:" in text, else 0. */
static char choice_from_phrase(const char *text)
{
    static const char *const phrases[] = {"answer is", "answer:", "answer :"};
    char found = 0;
    const char *found_at = NULL;
    for (size_t i = 0; i < sizeof phrases / sizeof *phrases; i++) {
        for (const char *p = text; (p = find_ci(p, phrases[i])) != NULL; p++) {
            const char *q = p + strlen(phrases[i]);
            while (*q == ':' || *q == ' ' || *q == '*') q++;
            char l = letter_at(q);
            if (l && (!found_at || p > found_at)) {
                found = l;
                found_at = p;
            }
        }
    }
    return found;
}

bool glimp_eval_extract_answer(glimp_grade_kind kind, const char *response, char *out,
                               size_t cap)
{
    if (!response) response = "";
    if (kind == GLIMP_GRADE_CODE) {
        char *code = eval_lcb_extract_code(response);
        copy_out(out, cap, code ? code : "", code ? strlen(code) : 0);
        free(code);
        return code != NULL;
    }
    if (kind == GLIMP_GRADE_CHOICE) {
        char box[256], l = 0;
        if (eval_extract_boxed(response, box, sizeof box)) l = letter_at(box);
        if (!l) l = choice_from_phrase(response);
        char s[2] = {l, '\0'};
        copy_out(out, cap, s, l ? 1 : 0);
        return l != 0;
    }
    if (eval_extract_boxed(response, out, cap)) return true;
    if (kind == GLIMP_GRADE_INTEGER && extract_hashes(response, out, cap)) return true;
    copy_out(out, cap, "", 0);
    return false;
}
