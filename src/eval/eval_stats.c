/* eval_stats.c - the summary of a run: items grouped by (policy, tau) into
 * rows with accuracy and its Wilson 95% interval over problems x repeats,
 * mean latency, LLM step and token shares (ratios of totals), speedup over
 * the `llm` policy (ratio of mean latencies), the Pareto front of
 * (latency, accuracy) and, with repeats, pass@k (the unbiased estimator of
 * the code-generation literature). Only allocation can fail
 * (GLIMP_ERR_NOMEM).
 */
#include "eval/eval.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void eval_wilson_interval(size_t k, size_t n, double *lo, double *hi)
{
    if (!n) {
        *lo = *hi = 0.0;
        return;
    }
    const double z = 1.959963984540054; /* two-sided 95% */
    double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
    double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}

/* Accumulators of one row while grouping. */
typedef struct row_acc {
    double wall;
    long steps, steps_llm, tok_slm, tok_llm, drafted, accepted;
} row_acc;

static int cmp_str_ptr(const void *a, const void *b)
{
    const eval_item *x = *(eval_item *const *)a, *y = *(eval_item *const *)b;
    int c = strcmp(x->dataset, y->dataset);
    return c ? c : strcmp(x->problem, y->problem);
}

/* Distinct (dataset, problem) pairs and the dataset list. */
static glimp_status count_problems(const eval_items *items, eval_summary *out, glimp_error *err)
{
    if (!items->n) return GLIMP_OK;
    const eval_item **v = malloc(items->n * sizeof *v);
    if (!v) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < items->n; i++) v[i] = &items->v[i];
    qsort(v, items->n, sizeof *v, cmp_str_ptr);
    size_t used = 0;
    for (size_t i = 0; i < items->n; i++) {
        if (i == 0 || cmp_str_ptr(&v[i], &v[i - 1])) out->n_problems++;
        if (i == 0 || strcmp(v[i]->dataset, v[i - 1]->dataset)) {
            int w = snprintf(out->datasets + used, sizeof out->datasets - used, "%s%s",
                             used ? ", " : "", *v[i]->dataset ? v[i]->dataset : "?");
            if (w > 0 && used + (size_t)w < sizeof out->datasets) used += (size_t)w;
        }
        if (v[i]->repeat + 1 > out->max_repeats) out->max_repeats = v[i]->repeat + 1;
    }
    free(v);
    return GLIMP_OK;
}

/* Table order: baselines first, then the routers, GlimpRouter last. */
static int policy_rank(const char *p)
{
    static const char *const order[] = {"llm",        "slm", "random",  "hstep", "pplstep",
                                        "specreason", "rsd", "speccot", "glimp"};
    for (int i = 0; i < 9; i++)
        if (!strncmp(p, order[i], strlen(order[i])) &&
            (p[strlen(order[i])] == '\0' || p[strlen(order[i])] == ':'))
            return i;
    return 9;
}

static int row_order(const eval_summary_row *a, const eval_summary_row *b)
{
    int ra = policy_rank(a->policy), rb = policy_rank(b->policy);
    if (ra != rb) return ra < rb ? -1 : 1;
    int c = strcmp(a->policy, b->policy);
    if (c) return c;
    bool na = isnan(a->tau), nb = isnan(b->tau);
    if (na || nb) return na == nb ? 0 : na ? -1 : 1;
    return a->tau < b->tau ? -1 : a->tau > b->tau;
}

/* Insertion sort of rows (with their accumulators) by row_order. */
static void sort_rows(eval_summary_row *rows, row_acc *acc, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && row_order(&rows[j], &rows[j - 1]) < 0; j--) {
            eval_summary_row t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
            row_acc u = acc[j];
            acc[j] = acc[j - 1];
            acc[j - 1] = u;
        }
}

/* The first row of policy `llm` (its mean latency is the speedup base). */
static const eval_summary_row *llm_row(const eval_summary *s)
{
    for (size_t i = 0; i < s->n_rows; i++)
        if (!strcmp(s->rows[i].policy, "llm")) return &s->rows[i];
    return NULL;
}

static void mark_pareto(eval_summary *s)
{
    for (size_t i = 0; i < s->n_rows; i++) {
        eval_summary_row *r = &s->rows[i];
        r->pareto = true;
        for (size_t j = 0; j < s->n_rows && r->pareto; j++) {
            const eval_summary_row *o = &s->rows[j];
            if (j != i && o->mean_latency_s <= r->mean_latency_s && o->accuracy >= r->accuracy &&
                (o->mean_latency_s < r->mean_latency_s || o->accuracy > r->accuracy))
                r->pareto = false;
        }
    }
}

/* 1 - C(n-c, k) / C(n, k): the chance that k of a problem's n samples, c
 * of them correct, drawn without replacement, hold a correct one. */
static double pass_at_k(size_t n, size_t c, size_t k)
{
    if (n - c < k) return 1.0;
    double miss = 1.0;
    for (size_t i = 0; i < k; i++) miss *= (double)(n - c - i) / (double)(n - i);
    return 1.0 - miss;
}

/* pass@k of each row, k = the fewest samples any of its problems has. */
static glimp_status fill_pass_at_k(const eval_items *items, eval_summary *out, glimp_error *err)
{
    const eval_item **v = malloc((items->n ? items->n : 1) * sizeof *v);
    if (!v) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < out->n_rows; r++) {
        eval_summary_row *row = &out->rows[r];
        size_t m = 0;
        for (size_t i = 0; i < items->n; i++)
            if (!strcmp(items->v[i].policy, row->policy) && eval_tau_equal(items->v[i].tau, row->tau))
                v[m++] = &items->v[i];
        qsort(v, m, sizeof *v, cmp_str_ptr);
        size_t k = SIZE_MAX, groups = 0;
        for (size_t i = 0, j; i < m; i = j, groups++) {
            for (j = i + 1; j < m && !cmp_str_ptr(&v[i], &v[j]); j++) {}
            if (j - i < k) k = j - i;
        }
        row->pass_k = groups && k >= 2 ? (int)k : 0;
        row->pass_at_k = NAN;
        if (!row->pass_k) continue;
        double sum = 0;
        for (size_t i = 0, j; i < m; i = j) {
            size_t c = 0;
            for (j = i; j < m && !cmp_str_ptr(&v[i], &v[j]); j++) c += v[j]->correct;
            sum += pass_at_k(j - i, c, k);
        }
        row->pass_at_k = sum / (double)groups;
    }
    free(v);
    return GLIMP_OK;
}

glimp_status eval_summary_build(const eval_items *items, eval_summary *out, glimp_error *err)
{
    *out = (eval_summary){0};
    row_acc *acc = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < items->n; i++) {
        const eval_item *it = &items->v[i];
        size_t r = 0;
        while (r < out->n_rows &&
               !(strcmp(out->rows[r].policy, it->policy) == 0 &&
                 eval_tau_equal(out->rows[r].tau, it->tau)))
            r++;
        if (r == out->n_rows) {
            if (r == cap) {
                cap = cap ? cap * 2 : 16;
                eval_summary_row *rows = realloc(out->rows, cap * sizeof *rows);
                if (rows) out->rows = rows;
                row_acc *a = realloc(acc, cap * sizeof *a);
                if (a) acc = a;
                if (!rows || !a) goto oom;
            }
            out->rows[r] = (eval_summary_row){.policy = strdup(it->policy), .tau = it->tau};
            acc[r] = (row_acc){0};
            out->n_rows++;
            if (!out->rows[r].policy) goto oom;
        }
        eval_summary_row *row = &out->rows[r];
        row->n++;
        row->n_correct += it->correct;
        acc[r].wall += it->wall_s;
        acc[r].steps += it->steps;
        acc[r].steps_llm += it->steps_llm;
        acc[r].tok_slm += it->tokens_slm;
        acc[r].tok_llm += it->tokens_llm;
        acc[r].drafted += it->spec_drafted;
        acc[r].accepted += it->spec_accepted;
    }
    sort_rows(out->rows, acc, out->n_rows);
    for (size_t r = 0; r < out->n_rows; r++) {
        eval_summary_row *row = &out->rows[r];
        const row_acc *a = &acc[r];
        long tok = a->tok_slm + a->tok_llm;
        row->accuracy = (double)row->n_correct / (double)row->n;
        eval_wilson_interval(row->n_correct, row->n, &row->ci_lo, &row->ci_hi);
        row->mean_latency_s = a->wall / (double)row->n;
        row->llm_step_share = a->steps ? (double)a->steps_llm / (double)a->steps : NAN;
        row->llm_token_share = tok ? (double)a->tok_llm / (double)tok : NAN;
        row->mean_tokens = (double)tok / (double)row->n;
        row->spec_acceptance = a->drafted ? (double)a->accepted / (double)a->drafted : NAN;
    }
    free(acc);
    const eval_summary_row *base = llm_row(out);
    for (size_t r = 0; r < out->n_rows; r++)
        out->rows[r].speedup = base && out->rows[r].mean_latency_s > 0
                                   ? base->mean_latency_s / out->rows[r].mean_latency_s
                                   : NAN;
    mark_pareto(out);
    glimp_status st = fill_pass_at_k(items, out, err);
    if (st == GLIMP_OK) st = count_problems(items, out, err);
    if (st != GLIMP_OK) eval_summary_free(out);
    return st;
oom:
    free(acc);
    eval_summary_free(out);
    return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
}

void eval_summary_free(eval_summary *s)
{
    for (size_t i = 0; i < s->n_rows; i++) free(s->rows[i].policy);
    free(s->rows);
    *s = (eval_summary){0};
}
