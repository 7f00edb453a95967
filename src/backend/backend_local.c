/* backend_local.c - the in-process backend: a GGUF model, one session (KV
 * cache + token history), its tokenizer and chat template.
 *
 * Prompts arrive as text. Each call tokenizes its prompt, keeps the longest
 * prefix of the session's history that matches, truncates the rest and
 * prefills only the new tokens (reported as prefill_tokens). The backend
 * keeps the last prompt it rendered with its markup spans: a prompt that
 * begins with that text is tokenized with control tokens recognised only in
 * that markup (the question, the steps and anything after the rendered text
 * are plain text, so a question that spells "<|im_end|>" cannot end its
 * turn); any other prompt is a raw prompt, control tokens parsed anywhere. Generated
 * tokens are decoded into the session as they are written, so the next
 * prompt, which contains them as text, usually costs only its new tokens.
 * With params.spec set, the tokens after the first come from speculative
 * decoding (spec_decode.c): a prompt-lookup drafter, or the session of the
 * draft backend (another local one with the same vocabulary).
 * Several backends can share one loaded model and tokenizer (each has its
 * own session), and a stepper of it: then prefill and decoding run in
 * passes batched with the other backends' calls (the backend is a member of
 * the stepper during probe and generate), speculation's verify passes too;
 * score's rows run on the session alone (and out of the stepper). With a
 * prefix pool, a prompt first borrows the longest start another member
 * (another backend's session of the same model) has settled, and the
 * session lends its prompt once computed and its whole history between
 * calls; speculation claims the draft backend's session while it drafts.
 *
 * Failure: model/tokenizer/template loading errors pass through from those
 * modules (GLIMP_ERR_IO/FORMAT/UNSUPPORTED/NOT_FOUND); a prompt longer than
 * the context gives GLIMP_ERR_RANGE (the session keeps its old tokens); an
 * empty prompt gives GLIMP_ERR_ARG; generation that reaches the context's
 * end (less keep_free) stops with GLIMP_STOP_CONTEXT, keeping what it wrote;
 * a streaming callback asking to stop gives
 * GLIMP_ERR_CANCELLED. After any failure the session still holds a
 * consistent prefix, so the backend stays usable.
 */
#include "backend/backend_impl.h"
#include "backend/spec.h"
#include "backend/spec_check.h"
#include "backend/spec_drafter.h"
#include "backend/stop_match.h"

#include "base/error.h"
#include "text/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct local {
    glimp_model *own_model;     /* loaded here (else the caller's) */
    glimp_tokenizer *own_tok;
    const glimp_model *model;
    const glimp_tokenizer *tok;
    glimp_stepper *stepper;     /* optional: prefill and decode batched */
    glimp_prefix_pool *prefixes;/* optional: the pool sess is a member of */
    glimp_session *sess;
    const glimp_template *tmpl;
    glimp_prompt rendered;      /* the last prompt render() gave, with its markup */
    size_t n_vocab;             /* logits per position */
    const glimp_backend *checked_draft; /* the draft whose vocabulary was checked */
    glimp_error draft_verdict;  /* that check's answer */
} local;

static const backend_ops local_ops;

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
    glimp_prefix_pool_remove(l->prefixes, l->sess);
    glimp_session_free(l->sess);
    glimp_prompt_clear(&l->rendered);
    glimp_tokenizer_free(l->own_tok);
    glimp_model_free(l->own_model);
    free(l);
}

static glimp_status local_render(void *impl, const char *question, const char *const *steps,
                                 int n_steps, glimp_template_phase phase, char **prompt,
                                 glimp_error *err)
{
    local *l = impl;
    glimp_prompt_clear(&l->rendered);
    glimp_status st = glimp_template_render_prompt(l->tmpl, question, steps, n_steps, phase,
                                                   &l->rendered, err);
    if (st != GLIMP_OK) return st;
    *prompt = strdup(l->rendered.text);
    return *prompt ? GLIMP_OK
                   : glimp_error_set(err, GLIMP_ERR_NOMEM, "local backend: out of memory");
}

/* The session holds ids[0..n) and the logits after them; *prefill = tokens
 * run. With a pool, the session is claimed, borrows what another member
 * settled, and settles ids once they are in. */
static glimp_status sync_tokens(local *l, const int32_t *ids, size_t n, int *prefill,
                                glimp_error *err)
{
    size_t ran = 0;
    glimp_prefix_pool_claim(l->prefixes, l->sess);
    glimp_prefix_pool_borrow(l->prefixes, l->sess, ids, n);
    glimp_status st = l->stepper ? glimp_stepper_sync(l->stepper, l->sess, ids, n, &ran, err)
                                 : glimp_session_sync(l->sess, ids, n, &ran, err);
    if (st != GLIMP_OK) glimp_error_prefix(err, "local backend");
    else glimp_prefix_pool_settle(l->prefixes, l->sess, n);
    *prefill = (int)ran;
    return st;
}

/* Between calls the whole history stays as it is: lend it. */
static void lend_history(local *l)
{
    glimp_prefix_pool_settle(l->prefixes, l->sess, glimp_session_n_tokens(l->sess));
}

/* Tokens of `text[0..len)` (BOS by the vocabulary's rule): with the last
 * rendered prompt's markup when the text begins with that prompt, else as a
 * raw prompt (control tokens anywhere). */
static int32_t *tokenize(const local *l, const char *text, size_t len, int *n, glimp_error *err)
{
    const glimp_prompt *r = &l->rendered;
    if (r->text && len >= r->len && !memcmp(text, r->text, r->len)) {
        const glimp_prompt p = {(char *)text, len, r->markup, r->n_markup};
        return glimp_tokenize_prompt(l->tok, &p, true, n, err);
    }
    return glimp_tokenize_alloc(l->tok, text, len, true, true, n, err);
}

/* Tokenizes `prompt` and syncs the session to it. */
static glimp_status sync_prompt(local *l, const char *prompt, int *prefill, glimp_error *err)
{
    int n = 0;
    int32_t *ids = tokenize(l, prompt, strlen(prompt), &n, err);
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
    if (l->stepper) glimp_stepper_join(l->stepper);
    glimp_status st = sync_prompt(l, prompt, prefill_tokens, err);
    if (l->stepper) glimp_stepper_leave(l->stepper);
    lend_history(l);
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

/* One sampled token: statistics, text, stop check (not yet into the
 * session). *done when generation ends here (r->stop says why). */
static glimp_status take_token(local *l, gen *g, const glimp_gen_params *p, const float *logits,
                               int32_t t, glimp_gen_result *r, bool *done, glimp_error *err)
{
    if (p->token_stats) { /* one pass over the vocabulary for both */
        double lse;
        r->sum_entropy += glimp_entropy_full_lse(logits, l->n_vocab, &lse);
        r->sum_logprob += logits[t] - lse;
    }
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
    return GLIMP_OK;
}

/* A token take_token kept goes into the session, the last one too
 * (local_generate kept a position for it): the next prompt holds its text,
 * so it is needed then anyway. An end-of-generation token stays out. */
static glimp_status decode_kept(local *l, int32_t t, glimp_gen_result *r, glimp_error *err)
{
    if (glimp_token_is_eog(l->tok, t)) return GLIMP_OK;
    r->n_forwards++;
    return l->stepper ? glimp_stepper_append(l->stepper, l->sess, &t, 1, err)
                      : glimp_session_decode(l->sess, t, err);
}

/* What spec_decode hands each kept token to. */
typedef struct spec_sink {
    local *l;
    gen *g;
    const glimp_gen_params *p;
    glimp_gen_result *r;
} spec_sink;

static glimp_status spec_emit(void *user, int32_t t, const float *logits, bool *done, bool *keep,
                              glimp_error *err)
{
    spec_sink *k = user;
    *keep = !glimp_token_is_eog(k->l->tok, t);
    return take_token(k->l, k->g, k->p, logits, t, k->r, done, err);
}

static bool spec_token_ends(void *user, int32_t t)
{
    const spec_sink *k = user;
    return stop_match_token_ends(&k->g->match, k->l->tok, t);
}

static glimp_status local_spec_check(void *impl, const glimp_spec_params *spec, glimp_error *err)
{
    local *l = impl;
    if (spec->mode != GLIMP_SPEC_MODEL) return GLIMP_OK;
    const local *d = backend_impl_of(spec->draft, &local_ops);
    if (!d)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "the draft %s is not an in-process "
                               "model: speculation off", glimp_backend_name(spec->draft));
    if (d == l)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "the draft is the model itself: "
                               "speculation off");
    if (l->checked_draft != spec->draft) {
        memset(&l->draft_verdict, 0, sizeof l->draft_verdict);
        spec_vocab_check(l->tok, d->tok, &l->draft_verdict);
        l->checked_draft = spec->draft;
    }
    if (l->draft_verdict.status != GLIMP_OK && err) *err = l->draft_verdict;
    return l->draft_verdict.status;
}

/* Generates after `pending` (kept, not yet in the session) by speculation. */
static glimp_status spec_rest(local *l, gen *g, const glimp_gen_params *p, int32_t pending,
                              glimp_gen_result *r, glimp_error *err)
{
    glimp_status st = local_spec_check(l, &p->spec, err);
    if (st != GLIMP_OK) return st;
    const glimp_spec_params *sp = &p->spec;
    /* the draft's session follows this context while drafting: claimed meanwhile */
    local *d = sp->mode == GLIMP_SPEC_MODEL ? (local *)backend_impl_of(sp->draft, &local_ops)
                                            : NULL;
    if (d) glimp_prefix_pool_claim(d->prefixes, d->sess);
    spec_drafter *dr = d ? spec_model_create(d->sess, l->n_vocab, sp->draft_max, err)
                         : spec_ngram_create(err);
    if (!dr) {
        if (d) lend_history(d);
        return err ? err->status : GLIMP_ERR_NOMEM;
    }
    int draft_len = sp->draft_max; /* per call, so a seed gives the same output */
    spec_sink sink = {l, g, p, r};
    spec_loop loop = {.drafter = dr,
                      .sampling = {p->temperature, p->top_p},
                      .seed = p->seed ^ 0x5bd1e995u,
                      .draft_min = sp->draft_min,
                      .draft_max = sp->draft_max,
                      .draft_len = &draft_len,
                      .keep_free = (size_t)p->keep_free,
                      .max_new = p->max_tokens - r->n_tokens,
                      .emit = spec_emit,
                      .user = &sink,
                      .end = {spec_token_ends, &sink},
                      .stepper = l->stepper};
    spec_stats stats = {0};
    st = spec_decode(l->sess, pending, &loop, &stats, err);
    dr->free(dr);
    if (d) lend_history(d);
    r->spec_drafted += stats.drafted;
    r->spec_accepted += stats.accepted;
    r->n_forwards += stats.forwards;
    if (st == GLIMP_OK && stats.context_full) r->stop = GLIMP_STOP_CONTEXT;
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
    if (l->stepper) glimp_stepper_join(l->stepper);
    glimp_status st = sync_prompt(l, prompt, &r->prefill_tokens, err);
    if (st == GLIMP_OK && !(g.sampler = glimp_sampler_create(&sp, err)))
        st = err ? err->status : GLIMP_ERR_NOMEM;
    bool done = st != GLIMP_OK;
    while (!done) {
        /* each token sampled here is decoded, so it needs a free position */
        if (glimp_session_n_ctx(l->sess) - glimp_session_n_tokens(l->sess) <=
            (size_t)p->keep_free) {
            r->stop = GLIMP_STOP_CONTEXT;
            break;
        }
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
        if (!done && p->spec.mode != GLIMP_SPEC_OFF) {
            st = spec_rest(l, &g, p, t, r, err);
            break;
        }
        st = decode_kept(l, t, r, err);
        if (st != GLIMP_OK) break;
    }
    if (l->stepper) glimp_stepper_leave(l->stepper);
    lend_history(l);
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
    int32_t *p_ids = tokenize(l, prompt, np, &n_p, err);
    int32_t *f_ids = p_ids ? tokenize(l, full, np + nc, &n_f, err) : NULL;
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
        lend_history(l);
    }
    free(p_ids);
    free(f_ids);
    return st;
}

static size_t local_n_ctx(void *impl) { return glimp_session_n_ctx(((local *)impl)->sess); }

static const backend_ops local_ops = {
    .render = local_render,
    .probe = local_probe,
    .generate = local_generate,
    .score = local_score,
    .n_ctx = local_n_ctx,
    .spec_check = local_spec_check,
    .destroy = local_destroy,
};

static const glimp_template *pick_template(const glimp_local_params *p, glimp_error *err)
{
    if (p->template_name) return glimp_template_by_name(p->template_name, err);
    return glimp_template_from_gguf(p->model_path, err); /* its message lists the names */
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
    if ((params->model && !params->tokenizer) || (params->tokenizer && !params->model) ||
        (params->stepper && glimp_stepper_model(params->stepper) != params->model)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "local backend: a shared model needs its tokenizer, "
                        "and a stepper must be of that model");
        return NULL;
    }
    local *l = calloc(1, sizeof *l);
    if (!l) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "local backend: out of memory");
        return NULL;
    }
    bool ok = false;
    l->model = params->model ? params->model
                             : (l->own_model = glimp_model_load(params->model_path, NULL, err));
    l->tok = params->model ? params->tokenizer
                           : l->model ? (l->own_tok = glimp_tokenizer_load(params->model_path, err))
                                      : NULL;
    l->stepper = params->stepper;
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
    if (ok && params->prefixes) {
        ok = glimp_prefix_pool_add(params->prefixes, l->sess, err) == GLIMP_OK;
        if (ok) l->prefixes = params->prefixes;
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
