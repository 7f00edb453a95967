/* eval_report.c - rebuilding a run's report from DIR/items.jsonl:
 * summary.csv, summary.md and the three SVG plots. Fails with the first
 * error reading the records or writing a file (nothing is rolled back).
 */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

typedef struct probe_list {
    eval_probe *v;
    size_t n, cap;
    bool oom;
} probe_list;

static void add_probe(void *user, double h, bool by_llm)
{
    probe_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        eval_probe *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (eval_probe){h, by_llm};
}

static void collect_probes(void *user, const cJSON *record)
{
    eval_trace_each_probe(cJSON_GetObjectItemCaseSensitive(record, "trace"), add_probe, user);
}

glimp_status glimp_eval_report(const char *dir, glimp_error *err)
{
    char path[4096];
    eval_items items = {0};
    probe_list probes = {0};
    eval_summary sum = {0};
    snprintf(path, sizeof path, "%s/items.jsonl", dir);
    glimp_status st = eval_items_load(path, false, &items, collect_probes, &probes, NULL, err);
    if (st == GLIMP_OK && probes.oom) st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    if (st == GLIMP_OK) st = eval_summary_build(&items, &sum, err);
    if (st == GLIMP_OK) {
        snprintf(path, sizeof path, "%s/summary.csv", dir);
        st = eval_summary_write_csv(&sum, path, err);
    }
    if (st == GLIMP_OK) {
        snprintf(path, sizeof path, "%s/summary.md", dir);
        st = eval_summary_write_md(&sum, path, err);
    }
    if (st == GLIMP_OK) {
        snprintf(path, sizeof path, "%s/accuracy_latency.svg", dir);
        st = eval_plot_accuracy_latency(&sum, path, err);
    }
    if (st == GLIMP_OK) {
        snprintf(path, sizeof path, "%s/h_init_hist.svg", dir);
        st = eval_plot_h_init_hist(probes.v, probes.n, path, err);
    }
    if (st == GLIMP_OK) {
        snprintf(path, sizeof path, "%s/llm_share_tau.svg", dir);
        st = eval_plot_llm_share_tau(&sum, path, err);
    }
    eval_summary_free(&sum);
    eval_items_free(&items);
    free(probes.v);
    return st;
}
