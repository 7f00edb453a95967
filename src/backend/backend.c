/* backend.c - the public backend functions: argument checks, timing and
 * result hygiene around an implementation's operations (backend_impl.h).
 *
 * Failure: GLIMP_ERR_ARG for invalid arguments, GLIMP_ERR_NOMEM when the
 * wrapper cannot be allocated; otherwise the implementation's status. On any
 * failure a result's text is NULL, so callers never free half-results.
 */
#include "backend/backend_impl.h"

#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct glimp_backend {
    const backend_ops *ops;
    void *impl;
    char *name;
};

glimp_backend *backend_new(const backend_ops *ops, void *impl, const char *name,
                           glimp_error *err)
{
    glimp_backend *b = calloc(1, sizeof *b);
    char *copy = strdup(name);
    if (!b || !copy) {
        free(b);
        free(copy);
        ops->destroy(impl);
        glimp_error_set(err, GLIMP_ERR_NOMEM, "backend: out of memory");
        return NULL;
    }
    b->ops = ops;
    b->impl = impl;
    b->name = copy;
    return b;
}

void glimp_backend_free(glimp_backend *backend)
{
    if (!backend) return;
    backend->ops->destroy(backend->impl);
    free(backend->name);
    free(backend);
}

const char *glimp_backend_name(const glimp_backend *backend) { return backend->name; }

size_t glimp_backend_n_ctx(const glimp_backend *backend)
{
    return backend->ops->n_ctx ? backend->ops->n_ctx(backend->impl) : 0;
}

void *backend_impl_of(const glimp_backend *backend, const backend_ops *ops)
{
    return backend && backend->ops == ops ? backend->impl : NULL;
}

bool backend_runs_spec(const glimp_backend *backend) { return backend->ops->spec_check != NULL; }

glimp_status backend_spec_check(glimp_backend *backend, const glimp_spec_params *spec,
                                glimp_error *err)
{
    if (backend->ops->spec_check) return backend->ops->spec_check(backend->impl, spec, err);
    return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                           "speculation is server-side for %s (start the server with its "
                           "draft options)", backend->name);
}

double backend_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void backend_copy_token_text(char dst[GLIMP_TOKEN_TEXT_MAX], const char *src, size_t len)
{
    if (len > GLIMP_TOKEN_TEXT_MAX - 1) {
        len = GLIMP_TOKEN_TEXT_MAX - 1;
        /* back up over UTF-8 continuation bytes so no character is cut */
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80) len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

double backend_entropy_of_top(const float *logprob, int n)
{
    if (n <= 0) return NAN;
    double max = logprob[0], sum = 0.0, h = 0.0;
    for (int i = 1; i < n; i++)
        if (logprob[i] > max) max = logprob[i];
    for (int i = 0; i < n; i++) sum += exp((double)logprob[i] - max);
    for (int i = 0; i < n; i++) {
        double q = exp((double)logprob[i] - max) / sum;
        if (q > 0.0) h -= q * log(q);
    }
    return h;
}

glimp_gen_params glimp_gen_default_params(void)
{
    glimp_gen_params p;
    memset(&p, 0, sizeof p);
    p.max_tokens = 256;
    p.temperature = 0.6f;
    p.top_p = 0.95f;
    p.probe_top = 20;
    p.spec.draft_min = 1;
    p.spec.draft_max = 6;
    p.token_stats = true;
    return p;
}

void glimp_gen_result_clear(glimp_gen_result *result)
{
    if (!result) return;
    free(result->text);
    result->text = NULL;
    result->len = 0;
}

static glimp_status check_text(const void *p, const char *what, glimp_error *err)
{
    if (p) return GLIMP_OK;
    return glimp_error_set(err, GLIMP_ERR_ARG, "backend: %s is NULL", what);
}

glimp_status glimp_backend_render(glimp_backend *backend, const char *question,
                                  const char *const *steps, int n_steps,
                                  glimp_template_phase phase, char **prompt, glimp_error *err)
{
    *prompt = NULL;
    if (check_text(question, "question", err)) return GLIMP_ERR_ARG;
    if (n_steps < 0 || (n_steps > 0 && !steps))
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: bad step list");
    if (phase != GLIMP_TEMPLATE_PHASE_THINK && phase != GLIMP_TEMPLATE_PHASE_FINAL)
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: unknown render phase %d", (int)phase);
    glimp_status st = backend->ops->render(backend->impl, question, steps, n_steps, phase,
                                           prompt, err);
    if (st != GLIMP_OK) {
        free(*prompt);
        *prompt = NULL;
    }
    return st;
}

static void dist_clear(glimp_token_dist *dist)
{
    memset(dist, 0, sizeof *dist);
    dist->entropy_exact = NAN;
    dist->entropy_topk = NAN;
}

glimp_status glimp_backend_probe(glimp_backend *backend, const char *prompt, int top,
                                 glimp_token_dist *dist, int *prefill_tokens, glimp_error *err)
{
    int prefill = 0;
    dist_clear(dist);
    if (prefill_tokens) *prefill_tokens = 0;
    if (check_text(prompt, "prompt", err)) return GLIMP_ERR_ARG;
    if (top < 1 || top > GLIMP_PROBE_MAX_K)
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: probe top-K %d outside 1..%d", top,
                               GLIMP_PROBE_MAX_K);
    glimp_status st = backend->ops->probe(backend->impl, prompt, top, dist, &prefill, err);
    if (prefill_tokens) *prefill_tokens = prefill;
    return st;
}

glimp_status glimp_backend_generate(glimp_backend *backend, const char *prompt,
                                    const glimp_gen_params *params,
                                    glimp_gen_result *result, glimp_error *err)
{
    memset(result, 0, sizeof *result);
    dist_clear(&result->first);
    result->first_id = -1;
    if (check_text(prompt, "prompt", err)) return GLIMP_ERR_ARG;
    if (params->max_tokens <= 0)
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: max_tokens %d must be > 0",
                               params->max_tokens);
    if (params->probe_top < 1 || params->probe_top > GLIMP_PROBE_MAX_K)
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: probe top-K %d outside 1..%d",
                               params->probe_top, GLIMP_PROBE_MAX_K);
    if (params->keep_free < 0)
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: keep_free %d must be >= 0",
                               params->keep_free);
    if (params->n_stop < 0 || (params->n_stop > 0 && !params->stop))
        return glimp_error_set(err, GLIMP_ERR_ARG, "backend: bad stop string list");
    for (int i = 0; i < params->n_stop; i++)
        if (!params->stop[i] || !params->stop[i][0])
            return glimp_error_set(err, GLIMP_ERR_ARG, "backend: stop string %d is empty", i);
    if (params->spec.mode != GLIMP_SPEC_OFF) {
        glimp_status sc = glimp_backend_spec_check(backend, &params->spec, err);
        if (sc == GLIMP_ERR_ARG) return sc;
    }
    double t0 = backend_now_ms();
    glimp_status st = backend->ops->generate(backend->impl, prompt, params, result, err);
    result->total_ms = backend_now_ms() - t0;
    if (st != GLIMP_OK) glimp_gen_result_clear(result);
    return st;
}

glimp_status glimp_backend_score(glimp_backend *backend, const char *prompt,
                                 const char *continuation, glimp_score_result *result,
                                 glimp_error *err)
{
    memset(result, 0, sizeof *result);
    if (check_text(prompt, "prompt", err)) return GLIMP_ERR_ARG;
    if (check_text(continuation, "continuation", err)) return GLIMP_ERR_ARG;
    return backend->ops->score(backend->impl, prompt, continuation, result, err);
}
