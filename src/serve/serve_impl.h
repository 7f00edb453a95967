/* serve_impl.h - the pieces of `glimp serve` and how they meet (internal).
 *
 *   server.c      libmicrohttpd daemon: routes, request bodies, admission
 *                 (slots + bounded queue), one worker thread per request,
 *                 streaming through a job's byte channel, disconnects;
 *   serve_job.c   the job: refcount, byte channel, cancellation, slot wait;
 *   serve_api.c   OpenAI request validation and response/chunk JSON;
 *   serve_engine.c single-model generation on a slot's session (prefix
 *                 reuse, prefixes shared across slots, per-token top logprobs);
 *   serve_routed.c routed pair (model "glimprouter") over glimp_router;
 *   serve_metrics.c Prometheus counters;
 *   serve_conns.c  open connections: read deadline, displacing idle ones;
 *   serve_auth.c   API key check.
 *
 * Failure: request problems become OpenAI-style error objects with a 4xx
 * status; model failures a 500 (or an error event mid-stream).
 */
#ifndef GLIMP_SERVE_IMPL_H
#define GLIMP_SERVE_IMPL_H

#include "glimp.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- metrics (serve_metrics.c) ------------------------------------------ */

typedef enum serve_endpoint {
    EP_COMPLETIONS = 0, EP_CHAT, EP_MODELS, EP_HEALTH, EP_METRICS, EP_OTHER, EP_COUNT
} serve_endpoint;

#define METRIC_N_STATUS 13 /* 12 named statuses (serve_metrics.c) + "other" */
#define METRIC_N_BUCKETS 12

typedef struct serve_metrics {
    pthread_mutex_t mu;
    unsigned long long requests[EP_COUNT][METRIC_N_STATUS]; /* by serve_metric_statuses[] */
    unsigned long long tokens[2];     /* generated, by glimp_role (single model: SLM slot) */
    unsigned long long prompt_tokens, prefill_tokens;
    unsigned long long spec_drafted, spec_accepted; /* speculation's draft tokens */
    unsigned long long steps[2];      /* routed: steps by glimp_role */
    unsigned long long latency[METRIC_N_BUCKETS]; /* cumulative counts per bucket */
    unsigned long long latency_count;
    double latency_sum;
} serve_metrics;

void metrics_init(serve_metrics *m);
void metrics_destroy(serve_metrics *m);
void metrics_request(serve_metrics *m, serve_endpoint ep, int status, double seconds);
void metrics_tokens(serve_metrics *m, glimp_role role, int generated, int prompt, int prefill);
void metrics_steps(serve_metrics *m, const int steps_by[2]);
void metrics_spec(serve_metrics *m, int drafted, int accepted);
/* Prometheus text exposition (malloc'd). `model`: the served model id that
 * labels the token counters in single-model mode; NULL for the routed pair
 * (labels "slm" and "llm"). batch_passes / batch_steps: the steppers' counts
 * (glimp_stepper_counts), shown when there were passes; prefix_copied: the
 * prefix pools' (glimp_prefix_pool_copied). */
char *metrics_render(serve_metrics *m, const char *model, int active, int queued, int parallel,
                     int queue_max, unsigned long long batch_passes,
                     unsigned long long batch_steps, unsigned long long prefix_copied);

/* ---- the job (serve_job.c) ------------------------------------------------ */

typedef struct glimp_server serve_server;

typedef struct serve_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    serve_server *srv;
    serve_endpoint ep;
    cJSON *req;          /* the validated request (owned) */
    bool stream;
    int conn_fd;         /* the client's socket, polled for hang-ups */
    /* output: streamed bytes, or the whole body at the end */
    char *out;
    size_t out_len, out_cap, out_pos;
    int status;          /* HTTP status of a non-streamed answer */
    bool done;
    bool cancelled;      /* the client went away (or the server stops) */
    int slot;            /* slot index while on one, -1 otherwise (under srv->mu) */
    bool answered;       /* counted in srv->answered (under srv->mu) */
    double t0;           /* arrival (seconds, monotonic) */
} serve_job;

serve_job *job_new(serve_server *srv, serve_endpoint ep, cJSON *req, bool stream, int fd);
void job_unref(serve_job *j);
/* Appends bytes to the channel (streaming) or the body; wakes the reader.
 * False when the job is cancelled (the producer should stop). */
bool job_write(serve_job *j, const char *data, size_t len);
bool job_cancelled(serve_job *j);
void job_cancel(serve_job *j);
void job_finish(serve_job *j, int status);
/* Whether the peer of fd is gone: reset or hung up (non-blocking check). */
bool job_peer_gone(int fd);
double serve_now(void);

/* ---- connections (serve_conns.c) ------------------------------------------- */

typedef struct serve_conn serve_conn;

typedef struct serve_conns {
    pthread_mutex_t mu;
    serve_conn *head, *tail;  /* waiting for a request, oldest first */
    int live;                 /* open and not dropped */
    int n_waiting;            /* of them, waiting for a request */
    int cap;
    double read_timeout_s;
} serve_conns;

void conns_init(serve_conns *cs, int cap, double read_timeout_s);
void conns_destroy(serve_conns *cs);
/* A new connection (MHD's start notification): drops expired waiting ones,
 * and the oldest waiting one when over the cap (possibly this one). NULL
 * (and the socket shut down) when out of memory. */
serve_conn *conns_opened(serve_conns *cs, int fd);
/* MHD's close notification, before the socket is closed. NULL-safe. */
void conns_closed(serve_conns *cs, serve_conn *c);
/* The request has fully arrived (or is answered early): no longer waiting. */
void conns_request_arrived(serve_conns *cs, serve_conn *c);
/* The answer is out; a kept-alive connection waits for its next request. */
void conns_answered(serve_conns *cs, serve_conn *c);
/* Live connections with a request in progress or an answer going out. */
int conns_busy(serve_conns *cs);

/* ---- API key (serve_auth.c) ------------------------------------------------- */

/* Whether an Authorization header value is "Bearer KEY" for the key, in
 * time that does not depend on where they differ. */
bool auth_bearer_ok(const char *header, const char *key);

/* ---- the server ------------------------------------------------------------- */

/* One unit of concurrency: a session (single model) or two local backends
 * on the shared models (routed pair). Used by one request at a time. */
typedef struct serve_slot {
    glimp_session *sess;
    glimp_backend *slm, *llm;
    glimp_router *router;
} serve_slot;

struct glimp_server {
    glimp_serve_params p;
    char *model_name;         /* served model id */
    bool routed;
    /* single model: shared weights + tokenizer, a session per slot */
    glimp_model *model;
    glimp_tokenizer *tok;
    const glimp_template *tmpl; /* "raw" when the file has none */
    serve_slot *slots;        /* (parallel) */
    glimp_stepper *stepper[2];/* parallel > 1: the slots step together; single
                                 model: [0]; routed: by glimp_role */
    glimp_prefix_pool *prefixes[2]; /* parallel > 1: the slots' sessions share
                                 prompt prefixes; indexed as stepper */
    glimp_model *pair[2];     /* routed: each model, loaded once (by role) */
    glimp_tokenizer *pair_tok[2];
    bool *slot_busy;          /* (parallel) */
    char *delimiter;          /* p.router.delimiter points here */
    pthread_mutex_t mu;       /* admission state below */
    pthread_cond_t cv;
    int active, waiting;      /* jobs on a slot / in the queue */
    int answered;             /* of the active jobs, those whose answer is complete:
                                 they only tidy up, and admission does not count them,
                                 so a client's next request is never refused for them */
    int workers;              /* worker threads alive (stop waits for 0) */
    atomic_bool stopping;     /* read without mu by job_cancelled */
    unsigned long long next_id;
    serve_metrics metrics;
    serve_conns conns;
    bool draining;            /* shutting down: no new requests (under mu) */
    bool loopback;            /* bound to a loopback address */
    struct MHD_Daemon *daemon;
    int port;
};

/* Admission: true and a queue place taken, or false (queue full). */
bool server_admit(serve_server *s);
/* Waits for a free slot (index) or -1 when the job was cancelled meanwhile. */
int server_take_slot(serve_server *s, serve_job *j);
/* The job's answer is complete (job_finish): while it tidies up on its slot,
 * admission no longer counts it. */
void server_job_answered(serve_server *s, serve_job *j);
void server_release_slot(serve_server *s, serve_job *j);


/* ---- request validation and answers (serve_api.c) ---------------------------- */

/* An OpenAI error body {"error": {message, type, param, code}} (malloc'd). */
char *api_error_json(const char *message, const char *type, const char *param, const char *code);

typedef struct api_error {
    int status;          /* 400 / 404 / 413 ... */
    char message[512];
    const char *param;   /* static */
    const char *type;    /* "invalid_request_error" ... */
} api_error;

/* Validated generation request (strings borrowed from the cJSON tree). */
typedef struct api_request {
    const char *prompt;            /* completions */
    glimp_chat_message *msgs;      /* chat (malloc'd array) */
    int n_msgs;
    int max_tokens;
    float temperature, top_p;
    uint64_t seed;
    const char *stop[16];
    int n_stop;
    int logprobs;                  /* top-K per token, 0 = none */
    bool stream, include_usage, continuous_usage;
} api_request;

/* Parses and checks a request body for endpoint ep (body: json[0..json_len)
 * parsed). false + *e on errors. */
bool api_parse_request(const serve_server *s, serve_endpoint ep, cJSON *body, const char *json,
                       size_t json_len, api_request *r, api_error *e);
void api_request_free(api_request *r);

/* "cmpl-<n>" / "chatcmpl-<n>" ids and the shared object fields. */
cJSON *api_object(const serve_server *s, const char *object, unsigned long long id);
/* Text as valid UTF-8 for JSON: every byte that is not part of a valid
 * sequence (and NUL) becomes U+FFFD, as other servers do. malloc'd / a new
 * cJSON string; NULL when out of memory. */
char *api_utf8_clean(const char *s, size_t n);
cJSON *api_string(const char *s, size_t n);
/* "data: " + JSON + "\n\n" into the job; false when cancelled. */
bool api_send_event(serve_job *j, cJSON *obj);
bool api_send_done(serve_job *j);
/* Ends a job with an error: the error object as the body, or as a last
 * event and [DONE] when streaming (the 200 is already out). */
void api_fail(serve_job *j, int status, const char *type, const char *code, const char *msg);

/* ---- generation ------------------------------------------------------------------- */

/* Runs a validated request on a slot, writing the answer into the job
 * (events when streaming, else the body and status). */
void engine_run(serve_server *s, serve_slot *slot, serve_job *j, const api_request *r);
void routed_run(serve_server *s, serve_slot *slot, serve_job *j, const api_request *r);

#endif
