/* backend_local.c - the in-process backend: a GGUF model, one session (KV
 * cache + token history), its tokenizer and chat template.
 *
 * Prompts arrive as text. Each call tokenizes its prompt, keeps the longest
 * prefix of the session's history that matches, truncates the rest and
 * prefills only the new tokens (reported as prefill_tokens). Generated
 * tokens are decoded into the session as they are written, so the next
 * prompt, which contains them as text, usually costs only its new tokens.
 *
 * Failure: model/tokenizer/template loading errors pass through from those
 * modules (GLIMP_ERR_IO/FORMAT/UNSUPPORTED/NOT_FOUND); a prompt longer than
 * the context gives GLIMP_ERR_RANGE (the session keeps its old tokens); an
 * empty prompt gives GLIMP_ERR_ARG; a streaming callback asking to stop gives
 * GLIMP_ERR_CANCELLED. After any failure the session still holds a
 * consistent prefix, so the backend stays usable.
 */
#include "backend/backend_impl.h"
#include "backend/stop_match.h"

#include "base/error.h"
#include "text/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct local {
    glimp_model *model;
    glimp_session *sess;
    glimp_tokenizer *tok;
    const glimp_template *tmpl;
    size_t n_vocab;             /* logits per position */
} local;

glimp_local_params glimp_local_default_params(void)
{
    glimp_local_params p;
    memset(&p, 0, sizeof p);
    return p;
}

static void local_destroy(void *impl)
{
    local *l = impl;
    if (!l) return;
    glimp_session_free(l->sess);
    glimp_tokenizer_free(l->tok);
    glimp_model_free(l->model);
    free(l);
}

static glimp_status local_render(void *impl, const char *question, const char *const *steps,
                                 int n_steps, glimp_template_phase phase, char **prompt,
                                 glimp_error *err)
{
    local *l = impl;
    *prompt = glimp_template_render(l->tmpl, question, steps, n_steps, phase, err);
    return *prompt ? GLIMP_OK : (err ? err->status : GLIMP_ERR_NOMEM);
}

/* The session holds ids[0..n) and the logits after them; *prefill = tokens run. */
static glimp_status sync_tokens(local *l, const int32_t *ids, size_t n, int *prefill,
                                glimp_error *err)
{
    size_t ran = 0;
    glimp_status st = glimp_session_sync(l->sess, ids, n, &ran, err);
    if (st != GLIMP_OK) glimp_error_prefix(err, "local backend");
    *prefill = (int)ran;
    return st;
}

/* Tokenizes `prompt` as the template expects (specials parsed, BOS added
 * by the vocabulary's rule) and syncs the session to it. */
static glimp_status sync_prompt(local *l, const char *prompt, int *prefill, glimp_error *err)
{
    int n = 0;
    int32_t *ids = glimp_tokenize_alloc(l->tok, prompt, strlen(prompt), true, true, &n, err);
    if (!ids) return err ? err->status : GLIMP_ERR_NOMEM;
    glimp_status st = sync_tokens(l, ids, (size_t)n, prefill, err);
    free(ids);
    return st;
}

static void token_text(const local *l, int32_t id, char dst[GLIMP_TOKEN_TEXT_MAX])
{
    char buf[256];
    int n = glimp_token_piece(l->tok, id, true, buf, sizeof buf);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    backend_copy_token_text(dst, buf, (size_t)n);
}

static glimp_status fill_dist(const local *l, const float *logits, int top,
                              glimp_token_dist *dist, glimp_error *err)
{
    glimp_probe p;
    glimp_status st = glimp_probe_summary(logits, l->n_vocab, top, &p, err);
    if (st != GLIMP_OK) return st;
    dist->entropy_exact = p.entropy_full;
    dist->entropy_topk = p.entropy_topk;
    dist->n_top = p.k;
    for (int i = 0; i < p.k; i++) {
        dist->top_id[i] = p.ids[i];
        dist->top_logprob[i] = p.logprobs[i];
        token_text(l, p.ids[i], dist->top_text[i]);
    }
    return GLIMP_OK;
}

static glimp_status local_probe(void *impl, const char *prompt, int top, glimp_token_dist *dist,
                                int *prefill_tokens, glimp_error *err)
{
    local *l = impl;
    glimp_status st = sync_prompt(l, prompt, prefill_tokens, err);
    if (st != GLIMP_OK) return st;
    return fill_dist(l, glimp_session_logits(l->sess), top, dist, err);
}

/* Generation state beyond the result: sampler and stop matcher. */
typedef struct gen {
    glimp_sampler *sampler;
    stop_match match;
} gen;

/* Hands the newly final text to the caller's stream: never a stop-string
 * prefix, and (until the end) never a cut UTF-8 character. */
static glimp_status stream(gen *g, const glimp_gen_params *p, bool at_end, glimp_error *err)
{
    size_t fin = stop_match_final_len(&g->match, at_end);
    if (!at_end) fin -= text_utf8_incomplete_tail(g->match.text, fin);
    if (fin > g->match.emitted && p->on_piece &&
        !p->on_piece(p->user, g->match.text + g->match.emitted, fin - g->match.emitted))
        return glimp_error_set(err, GLIMP_ERR_CANCELLED, "local backend: cancelled by the caller");
    g->match.emitted = fin;
    return GLIMP_OK;
}

/* One sampled token: statistics, text, stop check, and into the session.
 * *done when generation ends here (r->stop says why). */
static glimp_status take_token(local *l, gen *g, const glimp_gen_params *p, const float *logits,
                               int32_t t, glimp_gen_result *r, bool *done, glimp_error *err)
{
    r->sum_logprob += logits[t] - glimp_log_sum_exp(logits, l->n_vocab);
    r->sum_entropy += glimp_entropy_full(logits, l->n_vocab);
    if (r->n_tokens++ == 0) {
        r->first_id = t;
        token_text(l, t, r->first_text);
    }
    if (glimp_token_is_eog(l->tok, t)) {
        r->stop = GLIMP_STOP_EOS;
        *done = true;
        return GLIMP_OK;
    }
    /* Raw pieces (not glimp_detok, which drops a SentencePiece first
     * token's leading space: right for whole texts, wrong for continuations). */
    char small[256], *piece = small;
    int n = glimp_token_piece(l->tok, t, true, small, sizeof small);
    if (n >= (int)sizeof small) {
        piece = malloc((size_t)n + 1);
        if (!piece) return glimp_error_set(err, GLIMP_ERR_NOMEM, "local backend: out of memory");
        glimp_token_piece(l->tok, t, true, piece, (size_t)n + 1);
    }
    glimp_status st = n < 0 ? glimp_error_set(err, GLIMP_ERR_ARG,
                                              "local backend: token %d has no text", (int)t)
                            : stop_match_push(&g->match, piece, (size_t)n, err);
    if (piece != small) free(piece);
    if (st == GLIMP_OK) st = stream(g, p, false, err);
    if (st != GLIMP_OK) return st;
    *done = g->match.hit >= 0 || r->n_tokens >= p->max_tokens;
    if (g->match.hit >= 0) {
        r->stop = GLIMP_STOP_STRING;
        r->stop_index = g->match.hit;
    } else if (*done) {
        r->stop = GLIMP_STOP_MAX_TOKENS;
    }
    /* The last token goes into the cache too when it fits: the next prompt
     * holds its text, so it is needed then anyway. */
    if (!*done || glimp_session_n_tokens(l->sess) < glimp_session_n_ctx(l->sess))
        st = glimp_session_decode(l->sess, t, err);
    return st;
}

static glimp_status local_generate(void *impl, const char *prompt, const glimp_gen_params *p,
                                   glimp_gen_result *r, glimp_error *err)
{
    local *l = impl;
    double t0 = backend_now_ms();
    gen g = {0};
    stop_match_init(&g.match, p->stop, p->n_stop);
    glimp_sampler_params sp = glimp_sampler_default_params();
    sp.temperature = p->temperature;
    sp.top_p = p->top_p;
    sp.seed = p->seed;
    glimp_status st = sync_prompt(l, prompt, &r->prefill_tokens, err);
    if (st == GLIMP_OK && !(g.sampler = glimp_sampler_create(&sp, err)))
        st = err ? err->status : GLIMP_ERR_NOMEM;
    bool done = st != GLIMP_OK;
    while (!done) {
        const float *logits = glimp_session_logits(l->sess);
        if (r->n_tokens == 0) {
            st = fill_dist(l, logits, p->probe_top, &r->first, err);
            r->probe_ms = backend_now_ms() - t0;
            if (st != GLIMP_OK) break;
            if (p->on_first && !p->on_first(p->user, &r->first)) {
                r->stop = GLIMP_STOP_ABORTED;
                break;
            }
        }
        int32_t t;
        st = glimp_sampler_sample(g.sampler, logits, l->n_vocab, &t, err);
        if (st == GLIMP_OK) st = take_token(l, &g, p, logits, t, r, &done, err);
        if (st != GLIMP_OK) break;
    }
    if (st == GLIMP_OK) st = stream(&g, p, true, err);
    if (st == GLIMP_OK) {
        r->len = g.match.len;
        r->text = stop_match_take(&g.match, err);
        if (!r->text) st = GLIMP_ERR_NOMEM;
    }
    stop_match_free(&g.match);
    glimp_sampler_free(g.sampler);
    return st;
}

/* Log-probability of the tokens `prompt + continuation` has beyond its
 * longest common token prefix with `prompt` (a token merging across the
 * boundary is scored whole). */
static glimp_status local_score(void *impl, const char *prompt, const char *continuation,
                                glimp_score_result *r, glimp_error *err)
{
    local *l = impl;
    size_t np = strlen(prompt), nc = strlen(continuation);
    char *full = malloc(np + nc + 1);
    if (!full) return glimp_error_set(err, GLIMP_ERR_NOMEM, "local backend: out of memory");
    memcpy(full, prompt, np);
    memcpy(full + np, continuation, nc + 1);
    int n_p = 0, n_f = 0;
    int32_t *p_ids = glimp_tokenize_alloc(l->tok, prompt, np, true, true, &n_p, err);
    int32_t *f_ids = p_ids ? glimp_tokenize_alloc(l->tok, full, np + nc, true, true, &n_f, err)
                           : NULL;
    free(full);
    glimp_status st = f_ids ? GLIMP_OK : (err ? err->status : GLIMP_ERR_NOMEM);
    size_t p0 = 0;
    while (f_ids && (int)p0 < n_p && (int)p0 < n_f && p_ids[p0] == f_ids[p0]) p0++;
    if (st == GLIMP_OK && p0 == 0 && n_f > 0)
        st = glimp_error_set(err, GLIMP_ERR_ARG,
                             "local backend: the continuation merges with the prompt's first token");
    if (st == GLIMP_OK && (int)p0 < n_f) {
        size_t n_cont = (size_t)n_f - p0;
        st = sync_tokens(l, f_ids, p0, &r->prefill_tokens, err);
        if (st == GLIMP_OK) {
            const float *lg = glimp_session_logits(l->sess);
            r->logprob = lg[f_ids[p0]] - glimp_log_sum_exp(lg, l->n_vocab);
        }
        /* rows of the other continuation tokens: after f_ids[p0 + i] */
        if (st == GLIMP_OK && n_cont > 1)
            st = glimp_session_append_all(l->sess, f_ids + p0, n_cont - 1, err);
        for (size_t i = 0; st == GLIMP_OK && i + 1 < n_cont; i++) {
            const float *lg = glimp_session_logits_at(l->sess, i);
            r->logprob += lg[f_ids[p0 + 1 + i]] - glimp_log_sum_exp(lg, l->n_vocab);
        }
        if (st == GLIMP_OK) {
            r->prefill_tokens += (int)(n_cont - 1);
            r->n_tokens = (int)n_cont;
        }
    }
    free(p_ids);
    free(f_ids);
    return st;
}

static const backend_ops local_ops = {
    .render = local_render,
    .probe = local_probe,
    .generate = local_generate,
    .score = local_score,
    .destroy = local_destroy,
};

static const glimp_template *pick_template(const glimp_local_params *p, glimp_error *err)
{
    if (p->template_name) return glimp_template_by_name(p->template_name, err);
    const glimp_template *t = glimp_template_from_gguf(p->model_path, err);
    if (!t && err && err->status == GLIMP_ERR_NOT_FOUND)
        glimp_error_prefix(err, "no chat template recognised (use a --template option; \"raw\" "
                                "for plain text models)");
    return t;
}

glimp_backend *glimp_backend_local_create(const glimp_local_params *params, glimp_error *err)
{
    if (!params || !params->model_path) {
        glimp_error_set(err, GLIMP_ERR_ARG, "local backend: no model path");
        return NULL;
    }
    if (params->n_threads < 0 || params->n_ctx < 0) {
        glimp_error_set(err, GLIMP_ERR_ARG, "local backend: negative threads or context");
        return NULL;
    }
    local *l = calloc(1, sizeof *l);
    if (!l) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "local backend: out of memory");
        return NULL;
    }
    bool ok = false;
    l->model = glimp_model_load(params->model_path, NULL, err);
    if (l->model) l->tok = glimp_tokenizer_load(params->model_path, err);
    if (l->tok) {
        l->tmpl = pick_template(params, err);
        ok = l->tmpl != NULL;
    }
    if (ok) {
        glimp_session_params sp = glimp_session_default_params();
        sp.n_ctx = (size_t)params->n_ctx;
        sp.n_threads = params->n_threads;
        sp.kv_type = params->kv_type;
        l->sess = glimp_session_create(l->model, &sp, err);
        l->n_vocab = glimp_model_n_vocab(l->model);
        ok = l->sess != NULL;
    }
    if (!ok) {
        local_destroy(l);
        return NULL;
    }
    const char *base = strrchr(params->model_path, '/');
    char name[256];
    snprintf(name, sizeof name, "local:%s", base ? base + 1 : params->model_path);
    return backend_new(&local_ops, l, name, err);
}
