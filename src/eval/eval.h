/* eval.h - internal API of the evaluation module (src/eval).
 *
 * The public side (glimp.h, section "evaluation") is datasets, grading,
 * runs and reports. This header joins the pieces behind it: a growable
 * string, the LaTeX normaliser and numeric evaluator used by grading, the
 * router-trace reader, items.jsonl records, the output folder's lock and
 * run.json, summary statistics, the SVG writer and the plots. Functions that allocate return NULL / a negative
 * status on out-of-memory; none of them abort on bad input.
 */
#ifndef GLIMP_EVAL_EVAL_H
#define GLIMP_EVAL_EVAL_H

#include "base/error.h"
#include "glimp.h"

#include <stdio.h>

/* ---- growable NUL-terminated string (eval_buf.c) ---- */

typedef struct eval_buf {
    char *s;    /* NUL-terminated when len > 0 or after any append */
    size_t len; /* bytes before the NUL */
    size_t cap;
    bool oom;   /* an append failed; s holds what fitted before it */
} eval_buf;

void eval_buf_put(eval_buf *b, const char *s, size_t n);
void eval_buf_puts(eval_buf *b, const char *s);
void eval_buf_putc(eval_buf *b, char c);
void eval_buf_printf(eval_buf *b, const char *fmt, ...) GLIMP_PRINTF(2, 3);
/* Returns the string (never NULL: "" when empty) and keeps ownership. */
const char *eval_buf_str(const eval_buf *b);
/* Hands the malloc'd string to the caller and resets b; NULL after OOM. */
char *eval_buf_take(eval_buf *b);
void eval_buf_free(eval_buf *b);

/* ---- answers (eval_extract.c, eval_latex.c, eval_numeric.c) ---- */

/* Content of the last balanced \boxed{...} / \fbox{...} (or "\boxed N"
 * up to the next space or '$'); false when there is none. */
bool eval_extract_boxed(const char *text, char *out, size_t cap);

/* The canonical form of a LaTeX answer (docs/eval.md, "MATH"): malloc'd,
 * NULL on OOM. Idempotent: normalising the result again changes nothing. */
char *eval_latex_normalize(const char *answer);

/* Value of a normalised answer made only of numbers, + - * /, \frac,
 * \sqrt, ^, \pi, \cdot, \times, parentheses and mixed numbers ("1\frac{4}{5}").
 * False when the text is anything else (a variable, a list, ...). */
bool eval_numeric_value(const char *norm, double *value);

/* Parses a normalised answer as an integer ("25", "-3"); false otherwise. */
bool eval_parse_integer(const char *norm, long long *value);

/* ---- router traces (eval_trace.c) ---- */

/* What the harness reads from one router trace (docs/eval.md, "Traces"). */
typedef struct eval_trace_stats {
    const char *answer;   /* final answer text, owned by the parsed JSON */
    long tokens_slm;      /* tokens written by each model, final answer included */
    long tokens_llm;
    long steps;           /* thinking steps */
    long steps_llm;       /* of which the LLM wrote */
} eval_trace_stats;

struct cJSON;
/* Fills st from a parsed trace; GLIMP_ERR_JSON when required fields are
 * missing or of the wrong type. */
glimp_status eval_trace_read(const struct cJSON *trace, eval_trace_stats *st, glimp_error *err);

/* Calls fn(user, h_init, by_llm) for every step of the trace with an H_init. */
void eval_trace_each_probe(const struct cJSON *trace,
                           void (*fn)(void *user, double h_init, bool by_llm), void *user);
/* Calls fn(user, score, by_llm) for every step of the trace whose draft has a
 * score (the draft-then-decide policies: hstep, pplstep, specreason, rsd). */
void eval_trace_each_draft_score(const struct cJSON *trace,
                                 void (*fn)(void *user, double score, bool by_llm), void *user);

/* ---- items.jsonl (eval_items.c) ---- */

/* The fields of one record that the report needs. */
typedef struct eval_item {
    char *dataset;
    char *policy;
    double tau;         /* NAN: the policy has no tau */
    char *problem;
    int repeat;
    bool correct;
    double wall_s;
    long tokens_slm, tokens_llm;
    long steps, steps_llm;
    long spec_drafted, spec_accepted; /* speculative decoding (trace "spec"; 0 when off) */
} eval_item;

typedef struct eval_items {
    eval_item *v;
    size_t n, cap;
} eval_items;

/* Reads path record by record. fn (may be NULL) sees every record's JSON
 * (e.g. to collect H_init values); items (may be NULL) receives the fields.
 * A last line without '\n' (a killed writer) is ignored, and when
 * cut_torn_tail is set the file is truncated before it; *torn (may be
 * NULL) says whether there was one. A missing file reads as empty. */
glimp_status eval_items_load(const char *path, bool cut_torn_tail, eval_items *items,
                             void (*fn)(void *user, const struct cJSON *record), void *user,
                             bool *torn, glimp_error *err);
void eval_items_free(eval_items *items);

/* True when a and b name the same tau (both NAN, or equal within 1e-9). */
bool eval_tau_equal(double a, double b);

/* ---- the output folder: its lock (eval_lock.c) and run.json (eval_runinfo.c) ---- */

/* mkdir -p dir (eval_run.c): GLIMP_ERR_IO naming the folder that failed. */
glimp_status eval_make_dirs(const char *dir, glimp_error *err);

typedef struct eval_lock {
    int fd;           /* -1: not held */
    char path[4096];  /* DIR/run.lock */
} eval_lock;

/* Takes DIR/run.lock for this process (writing its PID there), or fails
 * with GLIMP_ERR_ARG naming the PID of the run that holds it. *stale_pid
 * gets the PID of a run that died holding it (0: none). */
glimp_status eval_lock_take(const char *dir, eval_lock *lock, long *stale_pid, glimp_error *err);
/* Removes the lock file and lets the lock go. */
void eval_lock_release(eval_lock *lock);

/* The settings the records of a run of ds with p depend on: the dataset
 * (name and a hash of its loaded problems), the prompt template, the run
 * seed and the members of p->config; p->config's "about" member (not
 * compared) goes to *about. NULL + err when p->config is not a JSON object
 * or on OOM. */
struct cJSON *eval_runinfo_config(const glimp_dataset *ds, const glimp_eval_params *p,
                                  struct cJSON **about, glimp_error *err);

/* Settles DIR/run.json before a run with `config` (eval_runinfo_config).
 * Records made with the same settings are kept. Records of other settings,
 * or of unknown ones (records without run.json), refuse the run
 * (GLIMP_ERR_ARG naming each difference) unless force_new, which moves
 * DIR/items.jsonl and DIR/run.json to DIR/previous-N (*previous = N, else
 * 0); force_new also does that when the settings match. run.json is
 * (re)written whenever it does not hold config. */
glimp_status eval_runinfo_settle(const char *dir, const struct cJSON *config,
                                 const struct cJSON *about, bool has_records, bool force_new,
                                 int *previous, glimp_error *err);

/* ---- summary statistics (eval_stats.c) ---- */

/* Wilson score interval (z = 1.96) for k successes out of n; [0,0] if n=0. */
void eval_wilson_interval(size_t k, size_t n, double *lo, double *hi);

/* One row of the summary: a (policy, tau) configuration. */
typedef struct eval_summary_row {
    char *policy;       /* owned by the row */
    double tau;         /* NAN: no tau */
    size_t n;           /* items (problems x repeats) */
    size_t n_correct;
    double accuracy, ci_lo, ci_hi;  /* fractions in [0,1] */
    double mean_latency_s;
    double llm_step_share;  /* total LLM steps / total steps (NAN: no steps) */
    double llm_token_share; /* total LLM tokens / total tokens (NAN: no tokens) */
    double speedup;         /* mean latency of policy llm / this one (NAN: no llm row) */
    double mean_tokens;     /* generated tokens per item, both models */
    bool pareto;            /* no other row is at least as fast and as accurate */
    int pass_k;             /* k of pass_at_k: the fewest repeats of a problem in the row;
                               0 when under 2 (accuracy is pass@1) */
    double pass_at_k;       /* mean over problems of 1 - C(n-c,k)/C(n,k) (NAN: pass_k 0) */
    double spec_acceptance; /* speculative decoding: accepted / drafted tokens over the
                               row's items (NAN: nothing drafted) */
} eval_summary_row;

typedef struct eval_summary {
    eval_summary_row *rows; /* llm, slm, random:P, hstep, pplstep, specreason,
                               rsd, speccot:N, glimp, others by name; then by tau */
    size_t n_rows;
    char datasets[256];     /* the datasets seen, comma-separated */
    size_t n_problems;      /* distinct (dataset, problem) pairs */
    int max_repeats;
} eval_summary;

glimp_status eval_summary_build(const eval_items *items, eval_summary *out, glimp_error *err);
void eval_summary_free(eval_summary *s);

/* summary.csv and summary.md (eval_summary.c). */
glimp_status eval_summary_write_csv(const eval_summary *s, const char *path, glimp_error *err);
glimp_status eval_summary_write_md(const eval_summary *s, const char *path, glimp_error *err);

/* ---- SVG (eval_svg.c) and plots (eval_plots.c) ---- */

/* Minimal SVG writer into an eval_buf; text is XML-escaped. Colours and
 * dash patterns are SVG attribute values ("#1f77b4", "4 3"; NULL: none). */
void eval_svg_begin(eval_buf *b, int width, int height);
void eval_svg_end(eval_buf *b);
void eval_svg_rect(eval_buf *b, double x, double y, double w, double h, const char *fill,
                   const char *stroke);
void eval_svg_line(eval_buf *b, double x1, double y1, double x2, double y2, const char *stroke,
                   double width, const char *dash);
void eval_svg_circle(eval_buf *b, double cx, double cy, double r, const char *fill,
                     const char *stroke, double stroke_width);
void eval_svg_polyline(eval_buf *b, const double *xy, size_t n_points, const char *stroke,
                       double width, const char *dash);
/* anchor: "start", "middle", "end"; rotate in degrees about (x, y). */
void eval_svg_text(eval_buf *b, double x, double y, double size, const char *anchor,
                   double rotate, const char *fill, const char *text);
/* Writes b to path; GLIMP_ERR_NOMEM if b overflowed, GLIMP_ERR_IO on failure. */
glimp_status eval_svg_save(const eval_buf *b, const char *path, glimp_error *err);

/* Tick positions: a 1-2-5 step giving about `target` ticks over [lo, hi];
 * writes up to max ticks into t and returns how many. */
size_t eval_nice_ticks(double lo, double hi, int target, double *t, size_t max);

/* One sample of a stacked two-group histogram: the H_init of a step and
 * whether the LLM wrote it, or a signal of the analysis and its label. */
typedef struct eval_probe {
    double value;
    bool group; /* stacked on top, in the second colour */
} eval_probe;

/* The texts of a histogram: group[0] and group[1] name the two colours;
 * the count of samples is printed as "N noun". */
typedef struct eval_hist_text {
    const char *title, *xlabel, *group[2], *noun;
} eval_hist_text;

glimp_status eval_plot_accuracy_latency(const eval_summary *s, const char *path, glimp_error *err);
/* A histogram of 30 bins over [0, a rounded maximum] (values <= 0 count in
 * the first bin), each bin stacked by group. */
glimp_status eval_plot_hist(const eval_probe *p, size_t n, const eval_hist_text *t,
                            const char *path, glimp_error *err);
glimp_status eval_plot_h_init_hist(const eval_probe *p, size_t n, const char *path,
                                   glimp_error *err);
glimp_status eval_plot_llm_share_tau(const eval_summary *s, const char *path, glimp_error *err);

/* ---- small helpers ---- */

/* splitmix64 step: returns the next 64-bit value of the state. */
uint64_t eval_rand_next(uint64_t *state);
/* FNV-1a hash of a string (stable seeds from problem ids). */
uint64_t eval_hash_str(const char *s);
/* FNV-1a over n more bytes, continuing from h (start: EVAL_HASH_INIT). */
#define EVAL_HASH_INIT 0xcbf29ce484222325ull
uint64_t eval_hash_bytes(uint64_t h, const void *p, size_t n);
/* Seconds from a monotonic clock. */
double eval_now_s(void);

#endif
