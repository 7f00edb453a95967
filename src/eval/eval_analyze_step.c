/* eval_analyze_step.c - the signals of one SLM-written step for the signal
 * analysis. The SLM side runs on its own model and session (the step is
 * teacher-forced: its tokens are appended with every position's logits
 * kept), giving H_init, H_step and PPL_step exactly as the router's
 * glimp, hstep and pplstep policies measure a step the SLM writes. The
 * LLM side uses only the backend API (local or remote): its greedy next
 * token, the score of the step, and the specreason judge.
 */
#include "eval/eval_analyze.h"

#include "backend/backend_impl.h"
#include "router/router_judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const eval_signal_names[EVAL_N_SIGNALS] = {"h_init", "h_step", "ppl_step", "judge"};

struct eval_slm_reader {
    glimp_model *model;
    glimp_session *sess;
    glimp_tokenizer *tok;
    const glimp_template *tmpl;
    glimp_entropy_kind entropy;
    int top_k;
};

void eval_slm_reader_free(eval_slm_reader *r)
{
    if (!r) return;
    glimp_session_free(r->sess);
    glimp_model_free(r->model);
    glimp_tokenizer_free(r->tok);
    free(r);
}

eval_slm_reader *eval_slm_reader_open(const glimp_analyze_params *p, glimp_error *err)
{
    eval_slm_reader *r = calloc(1, sizeof *r);
    if (!r) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->entropy = p->entropy;
    r->top_k = p->entropy_top_k;
    r->tmpl = p->slm_template ? glimp_template_by_name(p->slm_template, err)
                              : glimp_template_from_gguf(p->slm_path, err);
    glimp_session_params sp = glimp_session_default_params();
    sp.n_ctx = p->n_ctx > 0 ? (size_t)p->n_ctx : 0;
    sp.n_threads = p->n_threads;
    if (!r->tmpl || !(r->tok = glimp_tokenizer_load(p->slm_path, err)) ||
        !(r->model = glimp_model_load(p->slm_path, NULL, err)) ||
        !(r->sess = glimp_session_create(r->model, &sp, err))) {
        glimp_error_prefix(err, "%s", p->slm_path);
        eval_slm_reader_free(r);
        return NULL;
    }
    return r;
}

/* Appends text[0..strlen) to p, as one markup span when `markup`; false
 * on out of memory (p is then still valid). */
static bool prompt_append(glimp_prompt *p, const char *text, bool markup)
{
    size_t k = strlen(text);
    if (!k) return true;
    char *t = realloc(p->text, p->len + k + 1);
    if (!t) return false;
    p->text = t;
    if (markup) {
        glimp_span *m = realloc(p->markup, (p->n_markup + 1) * sizeof *m);
        if (!m) return false;
        p->markup = m;
        p->markup[p->n_markup++] = (glimp_span){p->len, k};
    }
    memcpy(p->text + p->len, text, k + 1);
    p->len += k;
    return true;
}

/* Tokens of the THINK prompt of (question, steps[0..n)), followed by
 * steps[n] and its end when `end` is given; NULL + err. */
static int32_t *prompt_ids(eval_slm_reader *r, const char *question, const char *const *steps,
                           int n, const eval_step_end *end, int *n_ids, glimp_error *err)
{
    glimp_prompt p = {0};
    if (glimp_template_render_prompt(r->tmpl, question, steps, n, GLIMP_TEMPLATE_PHASE_THINK, &p,
                                     err) != GLIMP_OK)
        return NULL;
    if (end && (!prompt_append(&p, steps[n], false) ||
                !prompt_append(&p, end->text, end->markup))) {
        glimp_prompt_clear(&p);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int32_t *ids = glimp_tokenize_prompt(r->tok, &p, true, n_ids, err);
    glimp_prompt_clear(&p);
    return ids;
}

/* Adds the entropy and log-probability of `next` under logits to the sums. */
static void add_position(const float *logits, size_t n_vocab, int32_t next, double *sum_h,
                         double *sum_lp)
{
    *sum_h += glimp_entropy_full(logits, n_vocab);
    *sum_lp += (double)logits[next] - glimp_log_sum_exp(logits, n_vocab);
}

glimp_status eval_slm_read_step(eval_slm_reader *r, const char *question,
                                const char *const *steps, int i, const eval_step_end *end,
                                eval_step_signals *out, glimp_error *err)
{
    int n_before = 0, n = 0;
    int32_t *before = prompt_ids(r, question, steps, i, NULL, &n_before, err);
    int32_t *ids = before ? prompt_ids(r, question, steps, i, end, &n, err) : NULL;
    glimp_status st = ids ? GLIMP_OK : (err ? err->status : GLIMP_ERR_NOMEM);
    size_t start = 0; /* the first token that is the step's */
    while (ids && (int)start < n_before && (int)start < n && before[start] == ids[start]) start++;
    free(before);
    if (st == GLIMP_OK && (start == 0 || (int)start >= n))
        st = glimp_error_set(err, GLIMP_ERR_FORMAT, "step %d adds no tokens to the prompt", i);
    size_t n_vocab = glimp_session_n_vocab(r->sess), m = (size_t)n - start;
    if (st == GLIMP_OK) st = glimp_session_sync(r->sess, ids, start, NULL, err);
    double sum_h = 0, sum_lp = 0;
    if (st == GLIMP_OK) {
        const float *logits = glimp_session_logits(r->sess);
        glimp_probe probe;
        st = glimp_probe_summary(logits, n_vocab, r->top_k, &probe, err);
        out->signal[EVAL_SIG_H_INIT] =
            r->entropy == GLIMP_ENTROPY_EXACT ? probe.entropy_full : probe.entropy_topk;
        add_position(logits, n_vocab, ids[start], &sum_h, &sum_lp);
        char piece[256]; /* cut as a backend cuts its token texts, so they compare */
        int len = glimp_token_piece(r->tok, ids[start], true, piece, sizeof piece);
        len = len < 0 ? 0 : len < (int)sizeof piece ? len : (int)sizeof piece - 1;
        backend_copy_token_text(out->slm_first, piece, (size_t)len);
    }
    /* Logits after each step token but the last: the distributions of the rest. */
    if (st == GLIMP_OK && m > 1)
        st = glimp_session_append_all(r->sess, ids + start, m - 1, err);
    for (size_t k = 1; st == GLIMP_OK && k < m; k++)
        add_position(glimp_session_logits_at(r->sess, k - 1), n_vocab, ids[start + k], &sum_h,
                     &sum_lp);
    free(ids);
    if (st != GLIMP_OK) return st;
    out->n_tokens = (int)m;
    out->signal[EVAL_SIG_H_STEP] = sum_h / (double)m;
    out->signal[EVAL_SIG_PPL_STEP] = exp(-sum_lp / (double)m);
    return GLIMP_OK;
}

glimp_status eval_llm_read_step(glimp_backend *llm, const char *question,
                                const char *const *steps, int i, const eval_step_end *end,
                                eval_step_signals *out, glimp_error *err)
{
    char *prompt = NULL;
    glimp_status st = glimp_backend_render(llm, question, steps, i, GLIMP_TEMPLATE_PHASE_THINK,
                                           &prompt, err);
    eval_buf step = {0};
    eval_buf_puts(&step, steps[i]);
    if (!end->markup) eval_buf_puts(&step, end->text); /* a score's text is never markup */
    if (st == GLIMP_OK && step.oom) st = glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    glimp_token_dist dist;
    if (st == GLIMP_OK) st = glimp_backend_probe(llm, prompt, 1, &dist, NULL, err);
    if (st == GLIMP_OK) {
        memcpy(out->llm_first, dist.top_text[0], sizeof out->llm_first);
        out->disagree = strcmp(out->llm_first, out->slm_first) != 0;
        glimp_score_result sr;
        st = glimp_backend_score(llm, prompt, eval_buf_str(&step), &sr, err);
        out->llm_tokens = sr.n_tokens;
        out->llm_ll = sr.n_tokens > 0 ? sr.logprob / sr.n_tokens : NAN;
    }
    free(prompt);
    eval_buf_free(&step);
    if (st == GLIMP_OK)
        st = router_judge_score(llm, question, steps, i + 1, &out->signal[EVAL_SIG_JUDGE], NULL,
                                err);
    return st;
}
