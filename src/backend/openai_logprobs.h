/* openai_logprobs.h - reads the per-token log-probabilities of an OpenAI-
 * compatible completion choice, in both shapes servers use (internal API).
 *
 * Legacy completions shape (vLLM, SGLang, OpenAI /v1/completions):
 *   "logprobs": {"tokens": [t...], "token_logprobs": [lp...],
 *                "top_logprobs": [{"tok": lp, ...}, ...], "text_offset": [n...]}
 * Content shape (llama.cpp server /v1/completions and every /v1/chat/completions):
 *   "logprobs": {"content": [{"token": t, "logprob": lp, "id": n, "bytes": [...],
 *                             "top_logprobs": [{"token": t, "logprob": lp}, ...]}]}
 * The top entries are sorted by log-probability here (a legacy dict has no
 * order) and cut to the K asked for; the top-K entropy is computed from
 * them; exact entropy is unknown (NaN).
 *
 * Failure: GLIMP_ERR_JSON naming the field that has the wrong type or is
 * missing.
 */
#ifndef GLIMP_BACKEND_OPENAI_LOGPROBS_H
#define GLIMP_BACKEND_OPENAI_LOGPROBS_H

#include "glimp.h"

#include <cjson/cJSON.h>

typedef enum oai_logprob_shape {
    OAI_LOGPROBS_NONE = 0,    /* absent or null */
    OAI_LOGPROBS_LEGACY = 1,  /* tokens / token_logprobs / top_logprobs */
    OAI_LOGPROBS_CONTENT = 2, /* content: [...] */
} oai_logprob_shape;

/* One generated (or echoed) token as the server reports it. */
typedef struct oai_token {
    char text[GLIMP_TOKEN_TEXT_MAX]; /* cut like glimp_token_dist texts */
    double logprob;                  /* ln p of the token; NaN when null (echoed first token) */
    int32_t id;                      /* -1 unless the server sends ids (llama.cpp) */
    long text_offset;                /* legacy shape only, else -1 */
    glimp_token_dist dist;           /* the top entries of this position */
} oai_token;

/* Shape of a choice's "logprobs" value (may be NULL) and its token count. */
glimp_status oai_logprobs_shape(const cJSON *logprobs, oai_logprob_shape *shape, int *n_tokens,
                                glimp_error *err);

/* Token i (< n_tokens) with at most `top` (1..GLIMP_PROBE_MAX_K) entries. */
glimp_status oai_logprobs_token(const cJSON *logprobs, oai_logprob_shape shape, int i, int top,
                                oai_token *out, glimp_error *err);

#endif
