/* backend_impl.h - what a backend implementation provides (internal API).
 *
 * A backend is a table of operations over an implementation pointer. The
 * public functions in backend.c check arguments, time the calls and clear
 * the results, then call these; an implementation (backend_local.c, later
 * an HTTP one) only does the work. Each operation returns a glimp_status and
 * fills err on failure; none may leave a half-filled result the caller must
 * free (backend.c clears result->text on failure).
 */
#ifndef GLIMP_BACKEND_IMPL_H
#define GLIMP_BACKEND_IMPL_H

#include "glimp.h"

typedef struct backend_ops {
    glimp_status (*render)(void *impl, const char *question, const char *const *steps,
                           int n_steps, glimp_template_phase phase, char **prompt,
                           glimp_error *err);
    glimp_status (*probe)(void *impl, const char *prompt, int top, glimp_token_dist *dist,
                          int *prefill_tokens, glimp_error *err);
    /* result arrives zeroed except first_id = -1 and NaN entropies; params
     * are already checked (max_tokens > 0, probe_top in range). */
    glimp_status (*generate)(void *impl, const char *prompt, const glimp_gen_params *params,
                             glimp_gen_result *result, glimp_error *err);
    glimp_status (*score)(void *impl, const char *prompt, const char *continuation,
                          glimp_score_result *result, glimp_error *err);
    /* optional: context length in tokens (glimp_backend_n_ctx) */
    size_t (*n_ctx)(void *impl);
    /* optional: whether this backend runs `spec` itself (mode not off,
     * lengths checked); absent: speculation is the server's business */
    glimp_status (*spec_check)(void *impl, const glimp_spec_params *spec, glimp_error *err);
    void (*destroy)(void *impl);
} backend_ops;

/* Wraps an implementation. On failure destroys impl and returns NULL. */
glimp_backend *backend_new(const backend_ops *ops, void *impl, const char *name,
                           glimp_error *err);

/* The implementation of `backend` when its operations are `ops`, else NULL
 * (how an in-process backend finds the draft backend's session). */
void *backend_impl_of(const glimp_backend *backend, const backend_ops *ops);

/* Whether the backend runs speculation itself (in-process). */
bool backend_runs_spec(const glimp_backend *backend);

/* Calls the backend's spec_check, or says that speculation is server-side. */
glimp_status backend_spec_check(glimp_backend *backend, const glimp_spec_params *spec,
                                glimp_error *err);

/* Monotonic clock in milliseconds (for the times every result carries). */
double backend_now_ms(void);

/* Copies a token's text into a GLIMP_TOKEN_TEXT_MAX buffer, cutting it at a
 * UTF-8 character boundary when it does not fit. */
void backend_copy_token_text(char dst[GLIMP_TOKEN_TEXT_MAX], const char *src, size_t len);

/* Entropy (nats) of the top n log-probabilities renormalised to sum 1 (what
 * a remote backend can compute from the top logprobs it is sent). */
double backend_entropy_of_top(const float *logprob, int n);

#endif
