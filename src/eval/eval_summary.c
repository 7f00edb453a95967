/* eval_summary.c - writing a run's summary as summary.csv (one row per
 * (policy, tau), machine-readable, empty cells for undefined values) and
 * summary.md (the table a paper would print, with the methods stated under
 * it). Failure: GLIMP_ERR_IO when the file cannot be written.
 */
#include "eval/eval.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static glimp_status write_file(const char *path, const eval_buf *b, glimp_error *err)
{
    if (b->oom) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    FILE *f = fopen(path, "w");
    if (!f) return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", path, strerror(errno));
    size_t n = fwrite(eval_buf_str(b), 1, b->len, f);
    if (fclose(f) != 0 || n != b->len)
        return glimp_error_set(err, GLIMP_ERR_IO, "%s: write failed", path);
    return GLIMP_OK;
}

/* A number with printf format fmt, or an empty/dash cell when undefined. */
static void put_num(eval_buf *b, const char *fmt, double v, const char *undefined)
{
    if (isnan(v)) eval_buf_puts(b, undefined);
    else eval_buf_printf(b, fmt, v);
}

glimp_status eval_summary_write_csv(const eval_summary *s, const char *path, glimp_error *err)
{
    eval_buf b = {0};
    eval_buf_puts(&b, "policy,tau,n,correct,accuracy,ci_low,ci_high,mean_latency_s,"
                      "speedup_vs_llm,llm_step_share,llm_token_share,mean_tokens,pareto,pass_k,"
                      "pass_at_k,spec_acceptance\n");
    for (size_t i = 0; i < s->n_rows; i++) {
        const eval_summary_row *r = &s->rows[i];
        eval_buf_printf(&b, "%s,", r->policy);
        put_num(&b, "%g", r->tau, "");
        eval_buf_printf(&b, ",%zu,%zu,%.6f,%.6f,%.6f,%.6f,", r->n, r->n_correct, r->accuracy,
                        r->ci_lo, r->ci_hi, r->mean_latency_s);
        put_num(&b, "%.6f", r->speedup, "");
        eval_buf_putc(&b, ',');
        put_num(&b, "%.6f", r->llm_step_share, "");
        eval_buf_putc(&b, ',');
        put_num(&b, "%.6f", r->llm_token_share, "");
        eval_buf_printf(&b, ",%.1f,%d,", r->mean_tokens, r->pareto ? 1 : 0);
        if (r->pass_k) eval_buf_printf(&b, "%d,%.6f,", r->pass_k, r->pass_at_k);
        else eval_buf_puts(&b, ",,");
        put_num(&b, "%.6f", r->spec_acceptance, "");
        eval_buf_putc(&b, '\n');
    }
    glimp_status st = write_file(path, &b, err);
    eval_buf_free(&b);
    return st;
}

glimp_status eval_summary_write_md(const eval_summary *s, const char *path, glimp_error *err)
{
    eval_buf b = {0};
    eval_buf_printf(&b,
                    "# Evaluation summary\n\n"
                    "Datasets: %s; %zu problems, up to %d repeats.\n\n"
                    "| policy | tau | n | accuracy | 95%% CI | latency (s) | speedup | "
                    "LLM steps | LLM tokens | pass@k | spec accepted |\n"
                    "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n",
                    s->datasets[0] ? s->datasets : "-", s->n_problems, s->max_repeats);
    for (size_t i = 0; i < s->n_rows; i++) {
        const eval_summary_row *r = &s->rows[i];
        eval_buf_printf(&b, "| %s%s | ", r->policy, r->pareto ? " *" : "");
        put_num(&b, "%g", r->tau, "-");
        eval_buf_printf(&b, " | %zu | %.1f%% | [%.1f, %.1f] | %.2f | ", r->n, 100 * r->accuracy,
                        100 * r->ci_lo, 100 * r->ci_hi, r->mean_latency_s);
        put_num(&b, "%.2fx", r->speedup, "-");
        eval_buf_puts(&b, " | ");
        put_num(&b, "%.1f%%", 100 * r->llm_step_share, "-");
        eval_buf_puts(&b, " | ");
        put_num(&b, "%.1f%%", 100 * r->llm_token_share, "-");
        if (r->pass_k) eval_buf_printf(&b, " | %.1f%% (k=%d) | ", 100 * r->pass_at_k, r->pass_k);
        else eval_buf_puts(&b, " | - | ");
        put_num(&b, "%.1f%%", 100 * r->spec_acceptance, "-");
        eval_buf_puts(&b, " |\n");
    }
    eval_buf_puts(&b,
                  "\n* on the Pareto front of (latency, accuracy): no other row is at least as "
                  "fast and as accurate, and better in one.\n\n"
                  "Accuracy: share of correct items over problems x repeats, with the Wilson "
                  "score interval (95%, z = 1.96) treating items as independent trials. "
                  "Latency: mean wall time per item. Speedup: mean latency of policy `llm` "
                  "divided by this row's. LLM steps: LLM-written thinking steps / all thinking "
                  "steps; LLM tokens: LLM-generated tokens / all generated tokens (final answer "
                  "included); both are ratios of totals over the row's items. pass@k (with "
                  "repeats; accuracy is pass@1): over problems, the mean chance that k of its n "
                  "samples, c correct, hold a correct one, 1 - C(n-c,k)/C(n,k), with k the "
                  "fewest samples of a problem in the row. Spec accepted: with speculative "
                  "decoding, the LLM's accepted draft tokens / drafted tokens over the row.\n");
    glimp_status st = write_file(path, &b, err);
    eval_buf_free(&b);
    return st;
}
