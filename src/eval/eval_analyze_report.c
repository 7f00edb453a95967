/* eval_analyze_report.c - the signal analysis' report: steps.csv (one row
 * per analyzed step), signals.csv and signals.md (per signal: its AUROC for
 * the two labels, its bimodality coefficient and moments) and one
 * histogram per signal, stacked by the first-token label. The judge's
 * AUROC is that of its negation (a low score predicts a rewrite); the
 * low_ll label's threshold is params.ll_threshold or the median.
 * Failure: GLIMP_ERR_IO naming the file, GLIMP_ERR_NOMEM.
 */
#include "eval/eval_analyze.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const signal_titles[EVAL_N_SIGNALS] = {
    "H_init: SLM entropy of the step's first token", "H_step: SLM mean token entropy of the step",
    "PPL_step: SLM perplexity of the step", "LLM judge score (specreason)"};
static const char *const signal_units[EVAL_N_SIGNALS] = {"H_init (nats)", "H_step (nats)",
                                                          "PPL_step", "judge score (0-9)"};

/* A CSV field in quotes, quotes doubled. */
static void put_quoted(eval_buf *b, const char *s)
{
    eval_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') eval_buf_putc(b, '"');
        eval_buf_putc(b, *s);
    }
    eval_buf_putc(b, '"');
}

static void put_num(eval_buf *b, double v, const char *nan_text)
{
    if (isnan(v)) eval_buf_puts(b, nan_text);
    else eval_buf_printf(b, "%.6g", v);
}

static glimp_status save(const eval_buf *b, const char *dir, const char *name, glimp_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return glimp_error_set(err, GLIMP_ERR_ARG, "%s: path too long", dir);
    return eval_svg_save(b, path, err); /* writes any text */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the values of v that are not NaN (NaN when none). */
static double median(const eval_step_signals *v, size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof *x);
    size_t m = 0;
    for (size_t i = 0; x && i < n; i++)
        if (!isnan(v[i].llm_ll)) x[m++] = v[i].llm_ll;
    double med = NAN;
    if (m) {
        qsort(x, m, sizeof *x, cmp_double);
        med = m % 2 ? x[m / 2] : (x[m / 2 - 1] + x[m / 2]) / 2;
    }
    free(x);
    return med;
}

typedef struct signal_stats {
    double auroc_disagree, auroc_low_ll;
    eval_moments_result mom;
} signal_stats;

static void write_steps(eval_buf *b, const glimp_analyzer *a, const bool *low_ll)
{
    eval_buf_puts(b, "problem,step,n_tokens");
    for (int s = 0; s < EVAL_N_SIGNALS; s++) eval_buf_printf(b, ",%s", eval_signal_names[s]);
    eval_buf_puts(b, ",slm_first,llm_first,disagree,llm_tokens,llm_ll,low_ll\n");
    for (size_t i = 0; i < a->n; i++) {
        const eval_step_signals *r = &a->v[i];
        put_quoted(b, r->problem);
        eval_buf_printf(b, ",%d,%d", r->index, r->n_tokens);
        for (int s = 0; s < EVAL_N_SIGNALS; s++) {
            eval_buf_putc(b, ',');
            put_num(b, r->signal[s], "");
        }
        eval_buf_putc(b, ',');
        put_quoted(b, r->slm_first);
        eval_buf_putc(b, ',');
        put_quoted(b, r->llm_first);
        eval_buf_printf(b, ",%d,%d,", r->disagree, r->llm_tokens);
        put_num(b, r->llm_ll, "");
        eval_buf_printf(b, ",%d\n", low_ll[i]);
    }
}

static void write_signals_csv(eval_buf *b, const signal_stats *st)
{
    eval_buf_puts(b, "signal,n,auroc_disagree,auroc_low_ll,bimodality,mean,sd,skew,kurtosis\n");
    for (int s = 0; s < EVAL_N_SIGNALS; s++) {
        const signal_stats *x = &st[s];
        eval_buf_printf(b, "%s,%zu", eval_signal_names[s], x->mom.n);
        double v[] = {x->auroc_disagree, x->auroc_low_ll, x->mom.bimodality, x->mom.mean,
                      x->mom.sd, x->mom.skew, x->mom.kurt};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
            eval_buf_putc(b, ',');
            put_num(b, v[k], "");
        }
        eval_buf_putc(b, '\n');
    }
}

static void write_signals_md(eval_buf *b, const glimp_analyzer *a, const signal_stats *st,
                             size_t n_disagree, size_t n_low, double threshold)
{
    eval_buf_printf(b, "%zu SLM steps analyzed (%zu left out: the SLM's context was full).\n"
                       "Labels: `disagree`, the LLM's greedy first token differs from the "
                       "step's (%zu of %zu steps); `low_ll`, the LLM's log-probability per "
                       "token of the step is below %.4f (%s; %zu steps).\n\n",
                    a->n, a->skipped, n_disagree, a->n, threshold,
                    isnan(a->p.ll_threshold) ? "the median" : "--ll-threshold", n_low);
    eval_buf_puts(b, "| signal | n | AUROC disagree | AUROC low_ll | bimodality | mean | sd |"
                     " skew | kurtosis |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int s = 0; s < EVAL_N_SIGNALS; s++) {
        const signal_stats *x = &st[s];
        eval_buf_printf(b, "| %s | %zu", eval_signal_names[s], x->mom.n);
        double v[] = {x->auroc_disagree, x->auroc_low_ll, x->mom.bimodality, x->mom.mean,
                      x->mom.sd, x->mom.skew, x->mom.kurt};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
            if (isnan(v[k])) eval_buf_puts(b, " | n/a");
            else eval_buf_printf(b, " | %.3f", v[k]);
        }
        eval_buf_puts(b, " |\n");
    }
    eval_buf_puts(b, "\nAUROC: the chance that a positive step scores higher than a negative one "
                     "(ties count 1/2; 0.5 = no signal); the judge's is of its negation (a low "
                     "score predicts a rewrite). Bimodality coefficient: (G1^2 + 1) / (G2 + "
                     "3(n-1)^2/((n-2)(n-3))) with G1, G2 the sample skewness and excess kurtosis; "
                     "above 5/9 = 0.556 suggests two modes.\n");
}

glimp_status glimp_analyzer_write(glimp_analyzer *a, const char *dir, glimp_error *err)
{
    glimp_status made = eval_make_dirs(dir, err);
    if (made != GLIMP_OK) return made;
    size_t n = a->n, n1 = n ? n : 1;
    double threshold = isnan(a->p.ll_threshold) ? median(a->v, n) : a->p.ll_threshold;
    bool *low = calloc(n1, sizeof *low), *dis = calloc(n1, sizeof *dis);
    double *v = calloc(n1, sizeof *v);
    eval_probe *hist = calloc(n1, sizeof *hist);
    if (!low || !dis || !v || !hist) {
        free(low), free(dis), free(v), free(hist);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    }
    size_t n_dis = 0, n_low = 0;
    for (size_t i = 0; i < n; i++) {
        dis[i] = a->v[i].disagree;
        low[i] = a->v[i].llm_ll < threshold;
        n_dis += dis[i], n_low += low[i];
    }
    signal_stats st[EVAL_N_SIGNALS];
    glimp_status rc = GLIMP_OK;
    for (int s = 0; s < EVAL_N_SIGNALS && rc == GLIMP_OK; s++) {
        double sign = s == EVAL_SIG_JUDGE ? -1 : 1;
        for (size_t i = 0; i < n; i++) v[i] = sign * a->v[i].signal[s];
        st[s].auroc_disagree = eval_auroc(v, dis, n);
        st[s].auroc_low_ll = eval_auroc(v, low, n);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            v[i] = a->v[i].signal[s];
            if (!isnan(v[i])) hist[m++] = (eval_probe){v[i], dis[i]};
        }
        eval_moments(v, n, &st[s].mom);
        const eval_hist_text t = {signal_titles[s], signal_units[s],
                                  {"LLM's first token agrees", "LLM's first token differs"},
                                  "SLM steps"};
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/hist_%s.svg", dir, eval_signal_names[s]) >=
            sizeof path)
            rc = glimp_error_set(err, GLIMP_ERR_ARG, "%s: path too long", dir);
        else
            rc = eval_plot_hist(hist, m, &t, path, err);
    }
    eval_buf b = {0};
    if (rc == GLIMP_OK) {
        write_steps(&b, a, low);
        rc = save(&b, dir, "steps.csv", err);
        eval_buf_free(&b);
    }
    if (rc == GLIMP_OK) {
        write_signals_csv(&b, st);
        rc = save(&b, dir, "signals.csv", err);
        eval_buf_free(&b);
    }
    if (rc == GLIMP_OK) {
        write_signals_md(&b, a, st, n_dis, n_low, threshold);
        rc = save(&b, dir, "signals.md", err);
        eval_buf_free(&b);
    }
    free(low), free(dis), free(v), free(hist);
    return rc;
}
