/* test_eval_grade.c - answer extraction and grading against a hand-checked
 * table of (prediction, reference, verdict) cases, negatives included: each
 * verdict was decided by reading the two answers, not by running the code. */
/* test-links: eval */
#include "eval/eval.h"
#include "test_util.h"

typedef struct grade_case {
    glimp_grade_kind kind;
    const char *pred;      /* an extracted answer (the content of \boxed{}) */
    const char *ref;
    const char *question;  /* NULL for most */
    bool match;
} grade_case;

#define I GLIMP_GRADE_INTEGER
#define M GLIMP_GRADE_MATH
#define C GLIMP_GRADE_CHOICE

static const grade_case cases[] = {
    /* integers (AIME, GSM8K) */
    {I, "25", "025", NULL, true},
    {I, "025", "25", NULL, true},
    {I, "204", "204", NULL, true},
    {I, "1,000", "1000", NULL, true},
    {I, "18", "Janet sells 9 eggs.\n#### 18", NULL, true},
    {I, "1000", "#### 1,000", NULL, true},
    {I, "70.0", "70", NULL, true},
    {I, "\\$18", "18", NULL, true},
    {I, "18 dollars", "18", NULL, true},
    {I, "-3", "-3", NULL, true},
    {I, "\\textbf{(113) }", "113", NULL, true},
    {I, "(113", "113", NULL, false},
    {I, "24", "25", NULL, false},
    {I, "2.5", "25", NULL, false},
    {I, "x", "25", NULL, false},
    {I, "", "25", NULL, false},
    {I, "250", "25", NULL, false},
    {I, "-25", "25", NULL, false},
    /* multiple choice */
    {C, "B", "B", NULL, true},
    {C, "b", "B", NULL, true},
    {C, "(C)", "C", NULL, true},
    {C, "A", "B", NULL, false},
    {C, "AB", "A", NULL, false},
    /* MATH: fractions */
    {M, "\\dfrac{1}{2}", "\\frac{1}{2}", NULL, true},
    {M, "\\tfrac12", "\\frac{1}{2}", NULL, true},
    {M, "\\frac 59", "\\frac{5}{9}", NULL, true},
    {M, "\\frac9{19}", "\\frac{9}{19}", NULL, true},
    {M, "0.5", "\\frac{1}{2}", NULL, true},
    {M, "1/2", "\\frac12", NULL, true},
    {M, "\\frac{17}{50}", "\\dfrac{17}{50}", NULL, true},
    {M, "0.34", "\\dfrac{17}{50}", NULL, true},
    {M, "\\frac{2}{4}", "\\frac{1}{2}", NULL, true},
    {M, "\\frac{1}{2}", "\\frac{2}{1}", NULL, false},
    {M, "0.33", "\\frac{1}{3}", NULL, false},
    {M, "-\\frac{3}{8}", "\\frac{3}{8}", NULL, false},
    {M, "137\\frac{1}{2}", "137 \\frac{1}{2}", NULL, true},
    {M, "137.5", "137 \\frac{1}{2}", NULL, true},
    {M, "\\frac{9}{5}", "1\\frac{4}{5}", NULL, true},
    /* MATH: roots and pi */
    {M, "\\sqrt2", "\\sqrt{2}", NULL, true},
    {M, "11\\sqrt{2}", "11\\sqrt2", NULL, true},
    {M, "2\\sqrt{5}", "\\sqrt{20}", NULL, true},
    {M, "\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt{3}}{3}", NULL, true},
    {M, "\\sqrt{2}", "2", NULL, false},
    {M, "\\sqrt{3}", "\\sqrt{2}", NULL, false},
    {M, "288\\pi", "288 \\pi", NULL, true},
    {M, "2\\pi", "\\pi", NULL, false},
    {M, "\\frac{\\pi}{6}", "-\\frac{\\pi}{6}", NULL, false},
    /* MATH: decorations */
    {M, "\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", NULL, true},
    {M, "90", "90^\\circ", NULL, true},
    {M, "120^{\\circ}", "120^\\circ", NULL, true},
    {M, "30 degrees", "30^\\circ", NULL, true},
    {M, "5.4", "5.4 \\text{ cents}", NULL, true},
    {M, "15", "15\\mbox{ cm}^2", NULL, true},
    {M, "864", "864 \\mbox{ inches}^2", NULL, true},
    {M, "\\frac{270}{7}", "\\frac{270}7\\text{ degrees}", NULL, true},
    {M, "18.90", "\\$18.90", NULL, true},
    {M, "32348", "\\$32,\\!348", NULL, true},
    {M, "10080", "10,\\!080", NULL, true},
    {M, "11111111100", "11,\\! 111,\\! 111,\\! 100", NULL, true},
    {M, "$5$", "5", NULL, true},
    {M, "27.0", "27", NULL, true},
    {M, ".35625", "0.35625", NULL, true},
    {M, "50\\%", "50", NULL, true},
    {M, "50", "50\\%", NULL, true},
    {M, "x = 5", "5", NULL, true},
    {M, "5", "x=5", NULL, true},
    {M, "\\text{Evelyn}", "Evelyn", NULL, true},
    {M, "\\text{east}", "East", NULL, true},
    {M, "\\text{(B)}", "B", NULL, true},
    {M, "Evelyn", "\\text{Navin}", NULL, false},
    {M, "5", "x=6", NULL, false},
    {M, "0.5", "5", NULL, false},
    {M, "10", "100", NULL, false},
    {M, "3", "3x", NULL, false},
    /* MATH: tuples, intervals, sets, lists */
    {M, "(1,2)", "(1, 2)", NULL, true},
    {M, "(2,1)", "(1,2)", NULL, false},
    {M, "(0.5, 3)", "\\left(\\frac12, 3\\right)", NULL, true},
    {M, "[1,2)", "(1,2)", NULL, false},
    {M, "(-\\infty, 0]", "(-\\infty,0]", NULL, true},
    {M, "(-\\infty, 0)", "(-\\infty,0]", NULL, false},
    {M, "(9,36)\\cup(0,9)", "(0,9) \\cup (9,36)", NULL, true},
    {M, "\\{2,1\\}", "\\{1,2\\}", NULL, true},
    {M, "\\{1,3\\}", "\\{1,2\\}", NULL, false},
    {M, "\\{-2,1\\pm\\sqrt{5}\\}", "\\{1\\pm\\sqrt{5},-2\\}", NULL, true},
    {M, "7, 5, 3", "3, 5, 7", "Enter all the solutions, separated by commas.", true},
    {M, "7, 5, 3", "3, 5, 7", NULL, false},
    {M, "3, 5", "3, 5, 7", "Enter all the solutions, separated by commas.", false},
    {M, "x \\in [-2,7]", "[-2,7]", NULL, true},
    /* MATH: matrices, expressions, equations */
    {M, "\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}",
     "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", NULL, true},
    {M, "\\begin{pmatrix} -\\frac13 \\\\ 0.666666667 \\\\ 5/3 \\end{pmatrix}",
     "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", NULL, true},
    {M, "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}",
     NULL, false},
    {M, "x^5 - x^4 + x^3 - x^2 + x - 1", "x^5-x^4+x^3-x^2+x-1", NULL, true},
    {M, "x^3+3x-6", "x^3+3x+6", NULL, false},
    {M, "y = 2x + 3", "y=2x+3", NULL, true},
    {M, "6 - 5i", "6-5i", NULL, true},
    {M, "6 + 5i", "6-5i", NULL, false},
    {M, "4210_{5}", "4210_5", NULL, true},
    {M, "4210_{5}", "4210_6", NULL, false},
    {M, "x^2", "x^{3}", NULL, false},
    {M, "", "5", NULL, false},
};

typedef struct extract_case {
    glimp_grade_kind kind;
    const char *response;
    const char *answer; /* NULL: nothing found */
} extract_case;

static const extract_case extracts[] = {
    {M, "So the answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"},
    {M, "First \\boxed{1}, then corrected: \\boxed{ {2} + 3 }", "{2} + 3"},
    {M, "\\boxed{\\{1,2\\}}", "\\{1,2\\}"},
    {M, "unbalanced at the end \\boxed{5} and \\boxed{6", "5"},
    {M, "no box here: 42", NULL},
    {M, "\\fbox{7}", "7"},
    {M, "\\boxed 7 is it", "7"},
    {I, "Total: 18\n#### 18", "18"},
    {I, "\\boxed{025}", "025"},
    {C, "Thus, the answer is \\boxed{C}.", "C"},
    {C, "\\boxed{\\text{(B)}}", "B"},
    {C, "The answer is (D).", "D"},
    {C, "Answer: **A**", "A"},
    {C, "Answer: Both are wrong", NULL},
    {C, "the answer is B, not C. Final answer: C", "C"},
};

int main(void)
{
    size_t n = sizeof cases / sizeof *cases;
    CHECK(n >= 60, "table has %zu cases", n);
    for (size_t i = 0; i < n; i++) {
        const grade_case *c = &cases[i];
        bool got = glimp_eval_answers_match(c->kind, c->pred, c->ref, c->question);
        CHECK(got == c->match, "case %zu: '%s' vs '%s' -> %d, want %d", i, c->pred, c->ref, got,
              c->match);
        if (c->kind == M) { /* symmetric */
            bool back = glimp_eval_answers_match(c->kind, c->ref, c->pred, c->question);
            CHECK(back == c->match || !*c->pred, "case %zu reversed: '%s' vs '%s' -> %d", i,
                  c->ref, c->pred, back);
        }
    }
    for (size_t i = 0; i < sizeof extracts / sizeof *extracts; i++) {
        const extract_case *e = &extracts[i];
        char out[128];
        bool found = glimp_eval_extract_answer(e->kind, e->response, out, sizeof out);
        CHECK(found == (e->answer != NULL), "extract %zu: found=%d", i, found);
        if (e->answer) CHECK(!strcmp(out, e->answer), "extract %zu: '%s', want '%s'", i, out, e->answer);
        else CHECK(!*out, "extract %zu: '%s', want empty", i, out);
    }
    /* normalisation is idempotent */
    static const char *const forms[] = {"\\left( 3, \\frac{\\pi}{2} \\right)", "\\$32,\\!348",
                                        "\\frac{270}7\\text{ degrees}", "x \\in [-2,7]",
                                        ".35625", "\\text{(B)}"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        char *a = eval_latex_normalize(forms[i]);
        char *b = a ? eval_latex_normalize(a) : NULL;
        CHECK(a && b && !strcmp(a, b), "idempotent '%s': '%s' then '%s'", forms[i], a, b);
        free(a);
        free(b);
    }
    /* a truncated box inside a longer one cuts at cap */
    char small[4];
    CHECK(glimp_eval_extract_answer(M, "\\boxed{123456}", small, sizeof small) &&
              !strcmp(small, "123"), "cut to cap: '%s'", small);
    return test_finish();
}
