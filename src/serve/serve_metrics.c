/* serve_metrics.c - the counters behind /metrics, rendered in the
 * Prometheus text exposition format (version 0.0.4). Token counters are
 * labelled by model: the served model id in single-model mode, "slm" and
 * "llm" for the routed pair; they count cancelled requests' tokens too.
 *
 * Failure: rendering returns NULL when out of memory (the caller answers
 * 500); recording never fails.
 */
#include "serve/serve_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statuses counted by name, the HTTP layer's own answers (401, 413, 414,
 * 431) included; every other one is "other" (the last column). */
static const int statuses[METRIC_N_STATUS - 1] = {200, 400, 401, 404, 405, 408,
                                                  413, 414, 431, 499, 500, 503};
static const char *const endpoints[EP_COUNT] = {"/v1/completions", "/v1/chat/completions",
                                                "/v1/models", "/health", "/metrics", "other"};
/* Upper bounds (seconds) of the latency buckets; the last is +Inf. */
static const double bounds[METRIC_N_BUCKETS - 1] = {0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                    2.5,  5,    10,  30,   120};

void metrics_init(serve_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void metrics_destroy(serve_metrics *m) { pthread_mutex_destroy(&m->mu); }

void metrics_request(serve_metrics *m, serve_endpoint ep, int status, double seconds)
{
    int si = METRIC_N_STATUS - 1;
    for (int i = 0; i < METRIC_N_STATUS - 1; i++)
        if (statuses[i] == status) si = i;
    pthread_mutex_lock(&m->mu);
    m->requests[ep][si]++;
    if (ep == EP_COMPLETIONS || ep == EP_CHAT) {
        for (int b = 0; b < METRIC_N_BUCKETS; b++)
            if (b == METRIC_N_BUCKETS - 1 || seconds <= bounds[b]) m->latency[b]++;
        m->latency_count++;
        m->latency_sum += seconds;
    }
    pthread_mutex_unlock(&m->mu);
}

void metrics_tokens(serve_metrics *m, glimp_role role, int generated, int prompt, int prefill)
{
    pthread_mutex_lock(&m->mu);
    m->tokens[role] += (unsigned long long)(generated > 0 ? generated : 0);
    m->prompt_tokens += (unsigned long long)(prompt > 0 ? prompt : 0);
    m->prefill_tokens += (unsigned long long)(prefill > 0 ? prefill : 0);
    pthread_mutex_unlock(&m->mu);
}

void metrics_steps(serve_metrics *m, const int steps_by[2])
{
    pthread_mutex_lock(&m->mu);
    m->steps[0] += (unsigned long long)steps_by[0];
    m->steps[1] += (unsigned long long)steps_by[1];
    pthread_mutex_unlock(&m->mu);
}

void metrics_spec(serve_metrics *m, int drafted, int accepted)
{
    pthread_mutex_lock(&m->mu);
    m->spec_drafted += (unsigned long long)drafted;
    m->spec_accepted += (unsigned long long)accepted;
    pthread_mutex_unlock(&m->mu);
}

typedef struct out {
    char *s;
    size_t len, cap;
    bool nomem;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->nomem) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (n > 0 ? (size_t)n : 0);
        char *b = realloc(o->s, cap);
        if (!b) {
            o->nomem = true;
            return;
        }
        o->s = b;
        o->cap = cap;
    }
}

/* A label value with \\, \" and newlines escaped, as the format asks. */
static void put_label(out *o, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') put(o, "\\%c", *v);
        else if (*v == '\n') put(o, "\\n");
        else put(o, "%c", *v);
    }
}

char *metrics_render(serve_metrics *m, const char *model, int active, int queued, int parallel,
                     int queue_max, unsigned long long batch_passes,
                     unsigned long long batch_steps, unsigned long long prefix_copied)
{
    out o = {.s = malloc(4096), .cap = 4096};
    if (!o.s) return NULL;
    o.s[0] = '\0';
    pthread_mutex_lock(&m->mu);
    put(&o, "# HELP glimp_requests_total HTTP requests by endpoint and status.\n"
            "# TYPE glimp_requests_total counter\n");
    for (int e = 0; e < EP_COUNT; e++)
        for (int i = 0; i < METRIC_N_STATUS; i++) {
            if (!m->requests[e][i]) continue;
            if (i == METRIC_N_STATUS - 1)
                put(&o, "glimp_requests_total{endpoint=\"%s\",status=\"other\"} %llu\n",
                    endpoints[e], m->requests[e][i]);
            else
                put(&o, "glimp_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
                    endpoints[e], statuses[i], m->requests[e][i]);
        }
    put(&o, "# HELP glimp_generated_tokens_total Tokens generated (cancelled requests "
            "included), by model.\n"
            "# TYPE glimp_generated_tokens_total counter\n");
    if (model) {
        put(&o, "glimp_generated_tokens_total{model=\"");
        put_label(&o, model);
        put(&o, "\"} %llu\n", m->tokens[GLIMP_ROLE_SLM]);
    } else {
        put(&o, "glimp_generated_tokens_total{model=\"slm\"} %llu\n"
                "glimp_generated_tokens_total{model=\"llm\"} %llu\n",
            m->tokens[GLIMP_ROLE_SLM], m->tokens[GLIMP_ROLE_LLM]);
    }
    put(&o, "# HELP glimp_prompt_tokens_total Prompt tokens of requests (routed: the prompt "
            "tokens both models evaluated).\n"
            "# TYPE glimp_prompt_tokens_total counter\n"
            "glimp_prompt_tokens_total %llu\n"
            "# HELP glimp_prefill_tokens_total Prompt tokens evaluated (not re-used from "
            "the cache).\n"
            "# TYPE glimp_prefill_tokens_total counter\n"
            "glimp_prefill_tokens_total %llu\n",
        m->prompt_tokens, m->prefill_tokens);
    put(&o, "# HELP glimp_prefix_copied_tokens_total Prompt tokens whose cache entries were "
            "copied from another slot's session instead of computed (routed: both models).\n"
            "# TYPE glimp_prefix_copied_tokens_total counter\n"
            "glimp_prefix_copied_tokens_total %llu\n",
        prefix_copied);
    if (m->spec_drafted)
        put(&o, "# HELP glimp_spec_drafted_tokens_total Tokens speculative decoding drafted.\n"
                "# TYPE glimp_spec_drafted_tokens_total counter\n"
                "glimp_spec_drafted_tokens_total %llu\n"
                "# HELP glimp_spec_accepted_tokens_total Of those, tokens the model kept.\n"
                "# TYPE glimp_spec_accepted_tokens_total counter\n"
                "glimp_spec_accepted_tokens_total %llu\n",
            m->spec_drafted, m->spec_accepted);
    if (batch_passes)
        put(&o, "# HELP glimp_batch_passes_total Forward passes run for several slots at once.\n"
                "# TYPE glimp_batch_passes_total counter\n"
                "glimp_batch_passes_total %llu\n"
                "# HELP glimp_batch_steps_total Slot steps (a token or a prompt chunk) those "
                "passes carried.\n"
                "# TYPE glimp_batch_steps_total counter\n"
                "glimp_batch_steps_total %llu\n",
            batch_passes, batch_steps);
    if (!model) { /* routed mode only */
        unsigned long long steps = m->steps[0] + m->steps[1];
        put(&o, "# HELP glimp_steps_total Thinking steps written, by model role.\n"
                "# TYPE glimp_steps_total counter\n"
                "glimp_steps_total{model=\"slm\"} %llu\n"
                "glimp_steps_total{model=\"llm\"} %llu\n"
                "# HELP glimp_llm_step_share Share of thinking steps written by the LLM.\n"
                "# TYPE glimp_llm_step_share gauge\n"
                "glimp_llm_step_share %.6f\n",
            m->steps[0], m->steps[1], steps ? (double)m->steps[1] / (double)steps : 0.0);
    }
    put(&o, "# HELP glimp_queue_depth Requests waiting for a slot.\n"
            "# TYPE glimp_queue_depth gauge\n"
            "glimp_queue_depth %d\n"
            "# HELP glimp_queue_capacity Waiting places before requests get 503.\n"
            "# TYPE glimp_queue_capacity gauge\n"
            "glimp_queue_capacity %d\n"
            "# HELP glimp_active_requests Requests running on a slot.\n"
            "# TYPE glimp_active_requests gauge\n"
            "glimp_active_requests %d\n"
            "# HELP glimp_slots Concurrent request slots.\n"
            "# TYPE glimp_slots gauge\n"
            "glimp_slots %d\n",
        queued, queue_max, active, parallel);
    put(&o, "# HELP glimp_request_duration_seconds Latency of generation requests.\n"
            "# TYPE glimp_request_duration_seconds histogram\n");
    for (int b = 0; b < METRIC_N_BUCKETS - 1; b++)
        put(&o, "glimp_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[b],
            m->latency[b]);
    put(&o, "glimp_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
            "glimp_request_duration_seconds_sum %.6f\n"
            "glimp_request_duration_seconds_count %llu\n",
        m->latency[METRIC_N_BUCKETS - 1], m->latency_sum, m->latency_count);
    pthread_mutex_unlock(&m->mu);
    if (o.nomem) {
        free(o.s);
        return NULL;
    }
    return o.s;
}
