/* serve_engine.c - single-model generation for /v1/completions and
 * /v1/chat/completions on one slot's session.
 *
 * The prompt is tokenized with control tokens recognised only where the
 * client may write them: anywhere in a /v1/completions prompt (raw text, its
 * documented contract), only in the chat template's own markup for
 * /v1/chat/completions (message content is plain text, so "<|im_end|>" in
 * a message cannot end its turn). The session keeps the longest token prefix
 * it already holds, or a longer one copied from another slot
 * (the server's prefix pool), and prefills the rest (both reported as
 * usage.prompt_tokens_details.cached_tokens). Tokens are sampled as the local
 * backend does (same sampler, same raw pieces, same stop matching), so a
 * client of this server sees what an in-process run sees. Each token can
 * carry its top-K log-probabilities (legacy completions shape). With
 * several slots, prompt chunks and tokens run through the stepper, in one
 * forward pass with the other slots' steps (same results as alone). With
 * speculation (router.spec ngram), the tokens after the first come from
 * spec_decode: prompt-lookup drafts verified in one pass (through the
 * stepper too), the greedy answer unchanged, a sampled one drawn from the
 * same distribution by rejection sampling (so with other draws than
 * without speculation for the same seed).
 *
 * Failure: a prompt longer than the context is a 400
 * (context_length_exceeded); model errors are a 500, or an error event when
 * streaming; a cancelled job stops at the next token.
 */
#include "serve/serve_impl.h"

#include "backend/spec.h"
#include "backend/spec_drafter.h"
#include "backend/stop_match.h"
#include "base/error.h"
#include "text/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything one generation needs and produces. */
typedef struct gen {
    serve_server *s;
    serve_slot *slot;
    serve_job *j;
    const api_request *r;
    bool chat;
    unsigned long long id;
    stop_match match;
    int n_prompt, n_cached, n_gen;
    const char *finish;      /* "stop" / "length" */
    bool gone;               /* the client went away mid-stream */
    cJSON *lp_tokens, *lp_values, *lp_tops, *lp_offsets; /* whole answer (not streamed) */
    size_t text_pos;         /* bytes of raw pieces so far (text_offset) */
} gen;

static int piece_of(const glimp_tokenizer *tok, int32_t id, char *buf, size_t cap)
{
    int n = glimp_token_piece(tok, id, true, buf, cap);
    if (n < 0) n = 0;
    if ((size_t)n >= cap) n = (int)cap - 1;
    buf[n] = '\0';
    return n;
}

static cJSON *usage_json(const gen *g)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", g->n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", g->n_gen);
    cJSON_AddNumberToObject(u, "total_tokens", g->n_prompt + g->n_gen);
    cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", g->n_cached);
    return u;
}

/* {"tokens": [...], "token_logprobs": [...], "top_logprobs": [...], "text_offset": [...]} of
 * one token, or the four arrays of the whole answer when not streaming. */
static void add_token_logprobs(gen *g, cJSON *tokens, cJSON *values, cJSON *tops, cJSON *offs,
                               const char *piece, double lp, const glimp_probe *pr)
{
    const glimp_tokenizer *tok = g->s->tok;
    cJSON_AddItemToArray(tokens, api_string(piece, strlen(piece)));
    cJSON_AddItemToArray(values, cJSON_CreateNumber(lp));
    cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)g->text_pos));
    cJSON *map = cJSON_CreateObject();
    for (int k = 0; k < pr->k; k++) {
        char buf[256];
        int n = piece_of(tok, pr->ids[k], buf, sizeof buf);
        char *key = api_utf8_clean(buf, (size_t)n);
        /* different ids can share a text: the more likely one keeps the key */
        if (key && !cJSON_GetObjectItemCaseSensitive(map, key))
            cJSON_AddNumberToObject(map, key, pr->logprobs[k]);
        free(key);
    }
    cJSON_AddItemToArray(tops, map);
}

static cJSON *chunk_choice(gen *g, cJSON *obj, const char *text, size_t len)
{
    cJSON *choices = cJSON_AddArrayToObject(obj, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (g->chat) {
        cJSON *delta = cJSON_AddObjectToObject(c, "delta");
        if (len) cJSON_AddItemToObject(delta, "content", api_string(text, len));
    } else {
        cJSON_AddItemToObject(c, "text", api_string(text, len));
    }
    return c;
}

/* One streamed event for a sampled token: the text it released (maybe
 * empty: held back for a stop string) and its logprobs. */
static bool stream_token(gen *g, const char *text, size_t len, const char *piece, double lp,
                         const glimp_probe *pr)
{
    if (g->chat && len == 0) return true;
    cJSON *obj = api_object(g->s, g->chat ? "chat.completion.chunk" : "text_completion", g->id);
    cJSON *c = chunk_choice(g, obj, text, len);
    if (!g->chat && g->r->logprobs > 0) {
        cJSON *l = cJSON_AddObjectToObject(c, "logprobs");
        add_token_logprobs(g, cJSON_AddArrayToObject(l, "tokens"),
                           cJSON_AddArrayToObject(l, "token_logprobs"),
                           cJSON_AddArrayToObject(l, "top_logprobs"),
                           cJSON_AddArrayToObject(l, "text_offset"), piece, lp, pr);
    } else if (!g->chat) {
        cJSON_AddNullToObject(c, "logprobs");
    }
    cJSON_AddNullToObject(c, "finish_reason");
    if (g->r->continuous_usage) cJSON_AddItemToObject(obj, "usage", usage_json(g));
    bool ok = api_send_event(g->j, obj);
    cJSON_Delete(obj);
    return ok;
}

static void add_finish(gen *g, cJSON *c)
{
    cJSON_AddStringToObject(c, "finish_reason", g->finish);
    /* vLLM's field: the stop string that ended the text, null for EOS/length */
    if (g->match.hit >= 0) cJSON_AddStringToObject(c, "stop_reason", g->r->stop[g->match.hit]);
    else cJSON_AddNullToObject(c, "stop_reason");
}

static void stream_end(gen *g, const char *rest, size_t len)
{
    cJSON *obj = api_object(g->s, g->chat ? "chat.completion.chunk" : "text_completion", g->id);
    cJSON *c = chunk_choice(g, obj, rest, len);
    if (!g->chat) cJSON_AddNullToObject(c, "logprobs");
    add_finish(g, c);
    if (g->r->include_usage || g->r->continuous_usage)
        cJSON_AddItemToObject(obj, "usage", usage_json(g));
    if (api_send_event(g->j, obj)) api_send_done(g->j);
    cJSON_Delete(obj);
}

static void whole_answer(gen *g, const char *text)
{
    cJSON *obj = api_object(g->s, g->chat ? "chat.completion" : "text_completion", g->id);
    cJSON *choices = cJSON_AddArrayToObject(obj, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (g->chat) {
        cJSON *m = cJSON_AddObjectToObject(c, "message");
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddItemToObject(m, "content", api_string(text, strlen(text)));
    } else {
        cJSON_AddItemToObject(c, "text", api_string(text, strlen(text)));
        if (g->lp_tokens) {
            cJSON *l = cJSON_AddObjectToObject(c, "logprobs");
            cJSON_AddItemToObject(l, "tokens", g->lp_tokens);
            cJSON_AddItemToObject(l, "token_logprobs", g->lp_values);
            cJSON_AddItemToObject(l, "top_logprobs", g->lp_tops);
            cJSON_AddItemToObject(l, "text_offset", g->lp_offsets);
            g->lp_tokens = g->lp_values = g->lp_tops = g->lp_offsets = NULL;
        } else {
            cJSON_AddNullToObject(c, "logprobs");
        }
    }
    add_finish(g, c);
    cJSON_AddItemToObject(obj, "usage", usage_json(g));
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (s && job_write(g->j, s, strlen(s))) job_finish(g->j, 200);
    else job_finish(g->j, 500);
    free(s);
}

static void fail(gen *g, int status, const char *type, const char *code, const char *msg)
{
    api_fail(g->j, status, type, code, msg);
}

/* The prompt's tokens: a raw prompt with control tokens parsed anywhere, a
 * chat with them parsed only in the template's markup. NULL + err on failure. */
static int32_t *prompt_tokens(gen *g, int *n_ids, glimp_error *err)
{
    glimp_prompt p = {0};
    if (g->chat) {
        if (glimp_template_render_chat_prompt(g->s->tmpl, g->r->msgs, g->r->n_msgs, true, &p,
                                              err) != GLIMP_OK)
            return NULL;
        int32_t *ids = glimp_tokenize_prompt(g->s->tok, &p, true, n_ids, err);
        glimp_prompt_clear(&p);
        return ids;
    }
    return glimp_tokenize_alloc(g->s->tok, g->r->prompt, strlen(g->r->prompt), true, true, n_ids,
                                err);
}

/* Adds token t, drawn after `logits`, to the answer: its logprobs, the stop
 * strings, the streamed text. *done: the answer ends with it (end of
 * generation or a stop string: finish "stop"; max_tokens). GLIMP_OK, or
 * GLIMP_ERR_CANCELLED when the client went away (g->gone), or an error. */
static glimp_status take_token(gen *g, int32_t t, const float *logits, bool *done,
                               glimp_error *err)
{
    const glimp_tokenizer *tok = g->s->tok;
    const size_t n_vocab = glimp_session_n_vocab(g->slot->sess);
    const bool want_lp = !g->chat && g->r->logprobs > 0;
    glimp_probe pr = {0};
    glimp_status st;
    if (want_lp &&
        (st = glimp_probe_summary(logits, n_vocab, g->r->logprobs, &pr, err)) != GLIMP_OK)
        return st;
    double lp = want_lp ? logits[t] - glimp_log_sum_exp(logits, n_vocab) : 0.0;
    g->n_gen++;
    char piece[256];
    bool eog = glimp_token_is_eog(tok, t);
    int n = eog ? 0 : piece_of(tok, t, piece, sizeof piece);
    if (eog) piece[0] = '\0';
    size_t before = g->match.emitted;
    if ((st = stop_match_push(&g->match, piece, (size_t)n, err)) != GLIMP_OK) return st;
    *done = eog || g->match.hit >= 0 || g->n_gen >= g->r->max_tokens;
    size_t fin = stop_match_final_len(&g->match, *done);
    if (!*done) fin -= text_utf8_incomplete_tail(g->match.text, fin);
    if (fin < before) fin = before;
    g->match.emitted = fin;
    if (g->j->stream) {
        if (!stream_token(g, g->match.text + before, fin - before, piece, lp, &pr)) {
            g->gone = true;
            return glimp_error_set(err, GLIMP_ERR_CANCELLED, "the client went away");
        }
    } else if (want_lp) {
        add_token_logprobs(g, g->lp_tokens, g->lp_values, g->lp_tops, g->lp_offsets, piece, lp,
                           &pr);
    }
    g->text_pos += (size_t)n;
    if (eog || g->match.hit >= 0) g->finish = "stop";
    return GLIMP_OK;
}

/* What spec_decode hands each kept token to. */
static glimp_status spec_emit(void *user, int32_t t, const float *logits, bool *done, bool *keep,
                              glimp_error *err)
{
    gen *g = user;
    if (job_cancelled(g->j)) {
        g->gone = true;
        return glimp_error_set(err, GLIMP_ERR_CANCELLED, "cancelled");
    }
    *keep = !glimp_token_is_eog(g->s->tok, t);
    return take_token(g, t, logits, done, err);
}

static bool spec_token_ends(void *user, int32_t t)
{
    const gen *g = user;
    return stop_match_token_ends(&g->match, g->s->tok, t);
}

/* The tokens after `pending` (taken, not yet in the session) by speculative
 * decoding: ngram drafts, the passes through the slots' stepper if any. */
static glimp_status spec_rest(gen *g, int32_t pending, glimp_error *err)
{
    const glimp_router_params *rp = &g->s->p.router;
    spec_drafter *dr = spec_ngram_create(err);
    if (!dr) return err->status;
    int draft_len = rp->draft_max;
    spec_loop loop = {.drafter = dr,
                      .sampling = {g->r->temperature, g->r->top_p},
                      .seed = (uint64_t)g->r->seed ^ 0x5bd1e995u,
                      .draft_min = rp->draft_min,
                      .draft_max = rp->draft_max,
                      .draft_len = &draft_len,
                      .max_new = g->r->max_tokens - g->n_gen,
                      .emit = spec_emit,
                      .user = g,
                      .end = {spec_token_ends, g},
                      .stepper = g->s->stepper[0]};
    spec_stats stats = {0};
    glimp_status st = spec_decode(g->slot->sess, pending, &loop, &stats, err);
    dr->free(dr);
    metrics_spec(&g->s->metrics, stats.drafted, stats.accepted);
    return st;
}

/* The sampling loop; false when it failed (already answered) or the client
 * left. */
static bool decode_loop(gen *g, glimp_sampler *smp)
{
    glimp_session *sess = g->slot->sess;
    size_t n_vocab = glimp_session_n_vocab(sess);
    glimp_error err = {0};
    glimp_status st = GLIMP_OK;
    g->finish = "length";
    while (g->n_gen < g->r->max_tokens) {
        if (job_cancelled(g->j)) return false;
        const float *logits = glimp_session_logits(sess);
        int32_t t;
        bool done = false;
        if ((st = glimp_sampler_sample(smp, logits, n_vocab, &t, &err)) != GLIMP_OK ||
            (st = take_token(g, t, logits, &done, &err)) != GLIMP_OK)
            break;
        if (done || glimp_session_n_tokens(sess) >= glimp_session_n_ctx(sess)) return true;
        if (g->s->p.router.spec == GLIMP_SPEC_NGRAM) {
            if ((st = spec_rest(g, t, &err)) == GLIMP_OK) return true;
            break;
        }
        st = g->s->stepper[0] ? glimp_stepper_append(g->s->stepper[0], sess, &t, 1, &err)
                              : glimp_session_decode(sess, t, &err);
        if (st != GLIMP_OK) break;
    }
    if (g->gone || job_cancelled(g->j)) return false;
    if (g->n_gen >= g->r->max_tokens && st == GLIMP_OK) return true;
    fail(g, 500, "server_error", NULL, err.msg[0] ? err.msg : "generation failed");
    return false;
}

void engine_run(serve_server *s, serve_slot *slot, serve_job *j, const api_request *r)
{
    gen g = {.s = s, .slot = slot, .j = j, .r = r, .chat = j->ep == EP_CHAT};
    glimp_error err = {0};
    pthread_mutex_lock(&s->mu);
    g.id = ++s->next_id;
    pthread_mutex_unlock(&s->mu);
    stop_match_init(&g.match, r->stop, r->n_stop);
    glimp_prefix_pool_claim(s->prefixes[0], slot->sess);
    int n_ids = 0;
    int32_t *ids = prompt_tokens(&g, &n_ids, &err);
    glimp_sampler *smp = NULL;
    if (!ids) {
        fail(&g, 500, "server_error", NULL, err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    g.n_prompt = n_ids;
    size_t n_ctx = glimp_session_n_ctx(slot->sess);
    if (n_ids < 1 || (size_t)n_ids >= n_ctx) {
        char msg[160];
        snprintf(msg, sizeof msg, "the prompt has %d tokens; this model's context is %zu", n_ids,
                 n_ctx);
        fail(&g, 400, "invalid_request_error", "context_length_exceeded", msg);
        goto out;
    }
    size_t prefill = 0;
    glimp_sampler_params sp = glimp_sampler_default_params();
    sp.temperature = r->temperature;
    sp.top_p = r->top_p;
    sp.seed = r->seed;
    glimp_prefix_pool_borrow(s->prefixes[0], slot->sess, ids, (size_t)n_ids);
    glimp_status synced = s->stepper[0] ? glimp_stepper_sync(s->stepper[0], slot->sess, ids,
                                                             (size_t)n_ids, &prefill, &err)
                                        : glimp_session_sync(slot->sess, ids, (size_t)n_ids,
                                                             &prefill, &err);
    if (synced != GLIMP_OK ||
        !(smp = glimp_sampler_create(&sp, &err))) {
        fail(&g, 500, "server_error", NULL, err.msg);
        goto out;
    }
    g.n_cached = n_ids - (int)prefill;
    glimp_prefix_pool_settle(s->prefixes[0], slot->sess, (size_t)n_ids);
    if (!j->stream && !g.chat && r->logprobs > 0) {
        g.lp_tokens = cJSON_CreateArray();
        g.lp_values = cJSON_CreateArray();
        g.lp_tops = cJSON_CreateArray();
        g.lp_offsets = cJSON_CreateArray();
    }
    if (j->stream && g.chat) { /* the first chunk names the role */
        cJSON *obj = api_object(s, "chat.completion.chunk", g.id);
        cJSON *c = chunk_choice(&g, obj, "", 0);
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(c, "delta"), "role", "assistant");
        cJSON_AddNullToObject(c, "finish_reason");
        bool ok = api_send_event(j, obj);
        cJSON_Delete(obj);
        if (!ok) goto out;
    }
    bool ok = decode_loop(&g, smp);
    /* a cancelled (or failed) request's tokens were generated all the same */
    metrics_tokens(&s->metrics, GLIMP_ROLE_SLM, g.n_gen, g.n_prompt, prefill);
    if (ok) {
        if (j->stream) {
            stream_end(&g, g.match.text ? g.match.text + g.match.emitted : "",
                       g.match.len - g.match.emitted);
            job_finish(j, 200);
        } else {
            whole_answer(&g, g.match.text ? g.match.text : "");
        }
    }
out:
    glimp_prefix_pool_settle(s->prefixes[0], slot->sess, glimp_session_n_tokens(slot->sess));
    free(ids);
    glimp_sampler_free(smp);
    stop_match_free(&g.match);
    cJSON_Delete(g.lp_tokens);
    cJSON_Delete(g.lp_values);
    cJSON_Delete(g.lp_tops);
    cJSON_Delete(g.lp_offsets);
}
