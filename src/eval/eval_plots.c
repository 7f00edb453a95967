/* eval_plots.c - the report's three SVG plots:
 *   accuracy_latency.svg  one point per (policy, tau) with its 95% interval,
 *                         the Pareto front ringed and joined by a dashed line;
 *   h_init_hist.svg       H_init of every probed step, stacked by the model
 *                         that wrote the step;
 *   llm_share_tau.svg     LLM step share against tau, one line per policy
 *                         with a tau, dashed levels for the others;
 * and the stacked two-group histogram behind h_init_hist.svg, which the
 * signal analysis draws for each of its signals.
 * Empty inputs give empty axes with a note. Failure: GLIMP_ERR_IO /
 * GLIMP_ERR_NOMEM from eval_svg_save.
 */
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PLOT_W = 760, PLOT_H = 480 };

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define PALETTE_N (sizeof palette / sizeof *palette)
static const char *const color_slm = "#1f77b4", *const color_llm = "#ff7f0e";

/* The plotting area and its data ranges. */
typedef struct plot_frame {
    double x0, y0, w, h;             /* pixels: left, top, width, height */
    double xmin, xmax, ymin, ymax;   /* data */
} plot_frame;

static double px(const plot_frame *f, double x)
{
    return f->x0 + (x - f->xmin) / (f->xmax - f->xmin) * f->w;
}

static double py(const plot_frame *f, double y)
{
    return f->y0 + f->h - (y - f->ymin) / (f->ymax - f->ymin) * f->h;
}

static plot_frame frame_make(double xmin, double xmax, double ymin, double ymax)
{
    if (!(xmax > xmin)) xmax = xmin + 1;
    if (!(ymax > ymin)) ymax = ymin + 1;
    return (plot_frame){70, 50, PLOT_W - 70 - 190, PLOT_H - 50 - 60, xmin, xmax, ymin, ymax};
}

/* Grid, ticks, axis labels and title. yscale multiplies tick labels (100
 * for percentages). */
static void draw_axes(eval_buf *b, const plot_frame *f, const char *title, const char *xlabel,
                      const char *ylabel, double yscale)
{
    double t[32];
    char lab[32];
    size_t n = eval_nice_ticks(f->xmin, f->xmax, 6, t, 32);
    for (size_t i = 0; i < n; i++) {
        double x = px(f, t[i]);
        eval_svg_line(b, x, f->y0, x, f->y0 + f->h, "#e5e5e5", 1, NULL);
        snprintf(lab, sizeof lab, "%g", t[i]);
        eval_svg_text(b, x, f->y0 + f->h + 18, 12, "middle", 0, NULL, lab);
    }
    n = eval_nice_ticks(f->ymin, f->ymax, 6, t, 32);
    for (size_t i = 0; i < n; i++) {
        double y = py(f, t[i]);
        eval_svg_line(b, f->x0, y, f->x0 + f->w, y, "#e5e5e5", 1, NULL);
        snprintf(lab, sizeof lab, "%g", t[i] * yscale);
        eval_svg_text(b, f->x0 - 8, y + 4, 12, "end", 0, NULL, lab);
    }
    eval_svg_rect(b, f->x0, f->y0, f->w, f->h, NULL, "#444444");
    eval_svg_text(b, f->x0 + f->w / 2, 28, 16, "middle", 0, NULL, title);
    eval_svg_text(b, f->x0 + f->w / 2, f->y0 + f->h + 42, 13, "middle", 0, NULL, xlabel);
    eval_svg_text(b, 20, f->y0 + f->h / 2, 13, "middle", -90, NULL, ylabel);
}

static void note(eval_buf *b, const plot_frame *f, const char *text)
{
    eval_svg_text(b, f->x0 + f->w / 2, f->y0 + f->h / 2, 14, "middle", 0, "#888888", text);
}

/* Colour of a policy: by its first row's position among distinct policies. */
static const char *policy_color(const eval_summary *s, const char *policy)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_rows; i++) {
        if (i > 0 && strcmp(s->rows[i].policy, s->rows[i - 1].policy)) k++;
        if (!strcmp(s->rows[i].policy, policy)) return palette[k % PALETTE_N];
    }
    return palette[0];
}

/* Legend of the distinct policies at the right of the frame; returns the
 * y of the next free line. */
static double policy_legend(eval_buf *b, const eval_summary *s, const plot_frame *f)
{
    double x = f->x0 + f->w + 20, y = f->y0 + 10;
    for (size_t i = 0; i < s->n_rows; i++) {
        if (i > 0 && !strcmp(s->rows[i].policy, s->rows[i - 1].policy)) continue;
        eval_svg_circle(b, x + 6, y - 4, 5, policy_color(s, s->rows[i].policy), NULL, 0);
        eval_svg_text(b, x + 18, y, 12, "start", 0, NULL, s->rows[i].policy);
        y += 20;
    }
    return y;
}

static void row_label(const eval_summary_row *r, char *buf, size_t cap)
{
    if (isnan(r->tau)) snprintf(buf, cap, "%s", r->policy);
    else snprintf(buf, cap, "%s \xcf\x84=%g", r->policy, r->tau);
}

static int cmp_latency(const void *a, const void *b)
{
    const eval_summary_row *x = *(eval_summary_row *const *)a, *y = *(eval_summary_row *const *)b;
    return (x->mean_latency_s > y->mean_latency_s) - (x->mean_latency_s < y->mean_latency_s);
}

glimp_status eval_plot_accuracy_latency(const eval_summary *s, const char *path, glimp_error *err)
{
    double lat_max = 0, lo = 1, hi = 0;
    for (size_t i = 0; i < s->n_rows; i++) {
        lat_max = fmax(lat_max, s->rows[i].mean_latency_s);
        lo = fmin(lo, s->rows[i].ci_lo);
        hi = fmax(hi, s->rows[i].ci_hi);
    }
    if (!s->n_rows) lo = 0, hi = 1;
    plot_frame f = frame_make(0, lat_max > 0 ? lat_max * 1.15 : 1, fmax(0, lo - 0.05),
                              fmin(1, hi + 0.05));
    eval_buf b = {0};
    eval_svg_begin(&b, PLOT_W, PLOT_H);
    draw_axes(&b, &f, "Accuracy vs latency", "mean latency per problem (s)", "accuracy (%)", 100);
    if (!s->n_rows) note(&b, &f, "no items");

    const eval_summary_row **front = malloc((s->n_rows + 1) * sizeof *front);
    size_t nf = 0;
    for (size_t i = 0; front && i < s->n_rows; i++)
        if (s->rows[i].pareto) front[nf++] = &s->rows[i];
    if (front && nf > 1) {
        qsort(front, nf, sizeof *front, cmp_latency);
        double *xy = malloc(2 * nf * sizeof *xy);
        for (size_t i = 0; xy && i < nf; i++) {
            xy[2 * i] = px(&f, front[i]->mean_latency_s);
            xy[2 * i + 1] = py(&f, front[i]->accuracy);
        }
        if (xy) eval_svg_polyline(&b, xy, nf, "#333333", 1.5, "6 4");
        free(xy);
    }
    free(front);
    for (size_t i = 0; i < s->n_rows; i++) {
        const eval_summary_row *r = &s->rows[i];
        const char *c = policy_color(s, r->policy);
        double x = px(&f, r->mean_latency_s), y = py(&f, r->accuracy);
        eval_svg_line(&b, x, py(&f, r->ci_lo), x, py(&f, r->ci_hi), c, 1.5, NULL);
        eval_svg_line(&b, x - 4, py(&f, r->ci_lo), x + 4, py(&f, r->ci_lo), c, 1.5, NULL);
        eval_svg_line(&b, x - 4, py(&f, r->ci_hi), x + 4, py(&f, r->ci_hi), c, 1.5, NULL);
        if (r->pareto) eval_svg_circle(&b, x, y, 9, NULL, "#333333", 1.5);
        eval_svg_circle(&b, x, y, 5, c, "#ffffff", 1);
        char lab[96];
        row_label(r, lab, sizeof lab);
        eval_svg_text(&b, x + 10, y + (i % 2 ? 16 : -8), 11, "start", 0, NULL, lab); /* staggered */
    }
    double y = policy_legend(&b, s, &f);
    double lx = f.x0 + f.w + 20;
    eval_svg_line(&b, lx, y - 4, lx + 12, y - 4, "#333333", 1.5, "6 4");
    eval_svg_text(&b, lx + 18, y, 12, "start", 0, NULL, "Pareto front");
    eval_svg_text(&b, lx, y + 20, 11, "start", 0, "#666666", "bars: 95% Wilson CI");
    eval_svg_end(&b);
    glimp_status st = eval_svg_save(&b, path, err);
    eval_buf_free(&b);
    return st;
}

glimp_status eval_plot_hist(const eval_probe *p, size_t n, const eval_hist_text *t,
                            const char *path, glimp_error *err)
{
    enum { BINS = 30 };
    double hmax = 0;
    for (size_t i = 0; i < n; i++) hmax = fmax(hmax, p[i].value);
    double ticks[32];
    size_t nt = eval_nice_ticks(0, hmax > 0 ? hmax : 1, 6, ticks, 32);
    double top = nt ? ticks[nt - 1] : 1;
    if (top < hmax) top += nt > 1 ? ticks[1] - ticks[0] : 1;
    double width = top / BINS;
    size_t count[BINS][2] = {{0}};
    for (size_t i = 0; i < n; i++) {
        size_t k = p[i].value > 0 ? (size_t)(p[i].value / width) : 0;
        count[k < BINS ? k : BINS - 1][p[i].group]++;
    }
    size_t cmax = 1;
    for (size_t k = 0; k < BINS; k++)
        if (count[k][0] + count[k][1] > cmax) cmax = count[k][0] + count[k][1];
    plot_frame f = frame_make(0, top, 0, cmax * 1.1);
    eval_buf b = {0};
    char lab[96];
    eval_svg_begin(&b, PLOT_W, PLOT_H);
    draw_axes(&b, &f, t->title, t->xlabel, "steps", 1);
    snprintf(lab, sizeof lab, "no %s", t->noun);
    if (!n) note(&b, &f, lab);
    for (size_t k = 0; k < BINS; k++) {
        double x = px(&f, k * width), w = px(&f, (k + 1) * width) - x;
        double y_slm = py(&f, (double)count[k][0]);
        double y_all = py(&f, (double)(count[k][0] + count[k][1]));
        if (count[k][0])
            eval_svg_rect(&b, x + 0.5, y_slm, w - 1, py(&f, 0) - y_slm, color_slm, NULL);
        if (count[k][1]) eval_svg_rect(&b, x + 0.5, y_all, w - 1, y_slm - y_all, color_llm, NULL);
    }
    double lx = f.x0 + f.w + 20;
    eval_svg_rect(&b, lx, f.y0 + 2, 12, 12, color_slm, NULL);
    eval_svg_text(&b, lx + 18, f.y0 + 12, 12, "start", 0, NULL, t->group[0]);
    eval_svg_rect(&b, lx, f.y0 + 22, 12, 12, color_llm, NULL);
    eval_svg_text(&b, lx + 18, f.y0 + 32, 12, "start", 0, NULL, t->group[1]);
    snprintf(lab, sizeof lab, "%zu %s", n, t->noun);
    eval_svg_text(&b, lx, f.y0 + 56, 11, "start", 0, "#666666", lab);
    eval_svg_end(&b);
    glimp_status st = eval_svg_save(&b, path, err);
    eval_buf_free(&b);
    return st;
}

glimp_status eval_plot_h_init_hist(const eval_probe *p, size_t n, const char *path,
                                   glimp_error *err)
{
    const eval_hist_text t = {"H_init of probed steps", "H_init (nats)",
                              {"step by SLM", "step by LLM"}, "probed steps"};
    return eval_plot_hist(p, n, &t, path, err);
}

glimp_status eval_plot_llm_share_tau(const eval_summary *s, const char *path, glimp_error *err)
{
    double tmin = INFINITY, tmax = -INFINITY;
    for (size_t i = 0; i < s->n_rows; i++)
        if (!isnan(s->rows[i].tau) && !isnan(s->rows[i].llm_step_share)) {
            tmin = fmin(tmin, s->rows[i].tau);
            tmax = fmax(tmax, s->rows[i].tau);
        }
    bool any_tau = tmin <= tmax;
    if (!any_tau) tmin = 0, tmax = 1;
    double pad = tmax > tmin ? (tmax - tmin) * 0.08 : 0.5;
    plot_frame f = frame_make(tmin - pad, tmax + pad, 0, 1);
    eval_buf b = {0};
    eval_svg_begin(&b, PLOT_W, PLOT_H);
    draw_axes(&b, &f, "LLM step share vs tau", "tau", "LLM step share (%)", 100);
    if (!any_tau) note(&b, &f, "no policy with a tau");
    double *xy = malloc(2 * (s->n_rows + 1) * sizeof *xy);
    for (size_t i = 0; xy && i < s->n_rows;) {
        const eval_summary_row *r = &s->rows[i];
        const char *c = policy_color(s, r->policy);
        size_t j = i, n = 0;
        for (; j < s->n_rows && !strcmp(s->rows[j].policy, r->policy); j++) {
            const eval_summary_row *q = &s->rows[j];
            if (isnan(q->llm_step_share)) continue;
            if (isnan(q->tau)) { /* a level: the policy does not use tau */
                double y = py(&f, q->llm_step_share);
                eval_svg_line(&b, f.x0, y, f.x0 + f.w, y, c, 1.5, "5 4");
                continue;
            }
            xy[2 * n] = px(&f, q->tau);
            xy[2 * n + 1] = py(&f, q->llm_step_share);
            n++;
        }
        if (n > 1) eval_svg_polyline(&b, xy, n, c, 2, NULL);
        for (size_t k = 0; k < n; k++) eval_svg_circle(&b, xy[2 * k], xy[2 * k + 1], 4, c, NULL, 0);
        i = j;
    }
    free(xy);
    double y = policy_legend(&b, s, &f);
    eval_svg_text(&b, f.x0 + f.w + 20, y, 11, "start", 0, "#666666", "dashed: no tau");
    eval_svg_end(&b);
    glimp_status st = eval_svg_save(&b, path, err);
    eval_buf_free(&b);
    return st;
}
