/* server.c - the HTTP side of glimp serve (libmicrohttpd, a thread per
 * connection): routes, the API key, request bodies, admission into slots and
 * a bounded queue, a worker thread per generation request, SSE streaming
 * through the job's channel, noticing clients that go away, and shutdown.
 *
 * As soon as a request's headers arrive, a missing or wrong API key is
 * answered 401 and a Content-Length over the body limit 413, before any body
 * is read. A generation request is then validated (400/404 answered at
 * once), admitted (503 when all slots are busy and the queue is full, or
 * while shutting down), and run by a detached worker on a free slot. A
 * streamed answer is read from the job by MHD's content-reader callback
 * (an SSE comment line keeps a silent stream alive); a whole answer is
 * awaited by the connection thread. Both poll the client's socket while
 * waiting: a reset or hang-up cancels the job, which stops at its next
 * token; a client that only shut down its sending side still gets its answer.
 * Idle and half-sent connections are bounded by serve_conns.c.
 *
 * Failure: start-up errors (model loading, bind, file descriptor limit) are
 * returned; per-request failures become HTTP errors with OpenAI error
 * objects.
 */
#include "serve/serve_impl.h"

#include "base/error.h"

#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_SLICE_MS 50
/* Connections MHD may hold beyond the cap while dropped ones close: a burst
 * of connections displaces them faster than their threads exit, and MHD
 * refuses newcomers at this limit. */
#define CONN_SLACK 256
/* After the workers end at shutdown, how long answers may take to go out. */
#define DELIVERY_WAIT_S 5.0

glimp_serve_params glimp_serve_default_params(void)
{
    glimp_serve_params p;
    memset(&p, 0, sizeof p);
    p.host = "127.0.0.1";
    p.port = 8080;
    p.router = glimp_router_default_params();
    p.parallel = 1;
    p.queue = 8;
    p.max_body_bytes = 1u << 20;
    p.max_tokens = 4096;
    p.read_timeout_s = 10.0;
    return p;
}

const char *glimp_server_model_id(const glimp_server *server) { return server->model_name; }

int glimp_server_port(const glimp_server *server) { return server->port; }

/* ---- admission ------------------------------------------------------------ */

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += (long)ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

bool server_admit(serve_server *s)
{
    pthread_mutex_lock(&s->mu);
    bool ok = !s->draining &&
              s->active - s->answered + s->waiting < s->p.parallel + s->p.queue;
    if (ok) s->waiting++;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

int server_take_slot(serve_server *s, serve_job *j)
{
    int slot = -1;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && !job_cancelled(j)) {
        for (int i = 0; i < s->p.parallel && slot < 0; i++)
            if (!s->slot_busy[i]) slot = i;
        if (slot >= 0) break;
        struct timespec ts;
        deadline_in(&ts, WAIT_SLICE_MS);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    s->waiting--;
    if (slot >= 0) {
        s->slot_busy[slot] = true;
        s->active++;
        j->slot = slot;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return slot;
}

void server_job_answered(serve_server *s, serve_job *j)
{
    pthread_mutex_lock(&s->mu);
    if (j->slot >= 0 && !j->answered) {
        j->answered = true;
        s->answered++;
    }
    pthread_mutex_unlock(&s->mu);
}

void server_release_slot(serve_server *s, serve_job *j)
{
    pthread_mutex_lock(&s->mu);
    s->slot_busy[j->slot] = false;
    s->active--;
    if (j->answered) s->answered--;
    j->slot = -1;
    j->answered = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- workers ---------------------------------------------------------------- */

typedef struct work {
    serve_job *j;
    api_request r;
} work;

static void *worker_main(void *arg)
{
    work *w = arg;
    serve_job *j = w->j;
    serve_server *s = j->srv;
    int slot = server_take_slot(s, j);
    if (slot >= 0) {
        if (s->routed) {
            routed_run(s, &s->slots[slot], j, &w->r);
        } else {
            if (s->stepper[0]) glimp_stepper_join(s->stepper[0]);
            engine_run(s, &s->slots[slot], j, &w->r);
            if (s->stepper[0]) glimp_stepper_leave(s->stepper[0]);
        }
        server_release_slot(s, j);
    }
    pthread_mutex_lock(&j->mu);
    bool unanswered = !j->done, client_left = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    if (unanswered && !client_left && atomic_load(&s->stopping))
        api_fail(j, 503, "server_error", "server_shutting_down",
                 "the server is shutting down; retry later");
    pthread_mutex_lock(&j->mu);
    if (!j->done) {
        j->done = true;
        j->status = 499; /* nginx's "client closed request": nobody got an answer */
        pthread_cond_broadcast(&j->cv);
    }
    int status = j->status;
    pthread_mutex_unlock(&j->mu);
    metrics_request(&s->metrics, j->ep, status, serve_now() - j->t0);
    if (s->p.log_requests)
        fprintf(stderr, "glimp serve: %s %d %.3fs\n", j->ep == EP_CHAT ? "chat" : "completions",
                status, serve_now() - j->t0);
    api_request_free(&w->r);
    free(w);
    job_unref(j);
    pthread_mutex_lock(&s->mu);
    s->workers--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- responses ----------------------------------------------------------------- */

static enum MHD_Result respond(struct MHD_Connection *c, int status, const char *type,
                               const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_error(serve_server *s, struct MHD_Connection *c, serve_endpoint ep,
                                     double t0, int status, const char *type, const char *param,
                                     const char *code, const char *msg)
{
    char *e = api_error_json(msg, type, param, code);
    metrics_request(&s->metrics, ep, status, serve_now() - t0);
    enum MHD_Result r = e ? respond(c, status, "application/json", e) : MHD_NO;
    free(e);
    return r;
}

/* Seconds of silence after which a stream gets an SSE comment line: it keeps
 * the connection inside MHD's inactivity timeout, and writing is how a
 * client that closed its socket is noticed. */
static double keepalive_s(const serve_server *s)
{
    return s->p.read_timeout_s / 2 < 2.0 ? s->p.read_timeout_s / 2 : 2.0;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char keepalive[] = ": keep-alive\n\n";
    serve_job *j = cls;
    (void)pos;
    ssize_t ret;
    double quiet_since = serve_now();
    pthread_mutex_lock(&j->mu);
    for (;;) {
        if (j->out_pos < j->out_len) {
            size_t n = j->out_len - j->out_pos;
            if (n > max) n = max;
            memcpy(buf, j->out + j->out_pos, n);
            j->out_pos += n;
            if (j->out_pos == j->out_len) j->out_pos = j->out_len = 0;
            ret = (ssize_t)n;
            break;
        }
        if (j->done) {
            ret = MHD_CONTENT_READER_END_OF_STREAM;
            break;
        }
        if (j->cancelled) {
            ret = MHD_CONTENT_READER_END_WITH_ERROR;
            break;
        }
        struct timespec ts;
        deadline_in(&ts, WAIT_SLICE_MS);
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (j->out_pos == j->out_len && !j->done && job_peer_gone(j->conn_fd)) {
            j->cancelled = true;
            ret = MHD_CONTENT_READER_END_WITH_ERROR;
            break;
        }
        if (j->out_pos == j->out_len && !j->done &&
            serve_now() - quiet_since >= keepalive_s(j->srv) && max >= sizeof keepalive - 1) {
            memcpy(buf, keepalive, sizeof keepalive - 1);
            ret = (ssize_t)(sizeof keepalive - 1);
            break;
        }
    }
    pthread_mutex_unlock(&j->mu);
    return ret;
}

static void stream_free(void *cls)
{
    serve_job *j = cls;
    job_cancel(j); /* no-op for a finished job; stops one whose client left */
    job_unref(j);
}

/* Waits for a whole answer, polling the client; false when it left. */
static bool await_whole(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        struct timespec ts;
        deadline_in(&ts, WAIT_SLICE_MS);
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (!j->done && job_peer_gone(j->conn_fd)) {
            j->cancelled = true;
            pthread_cond_broadcast(&j->cv);
            break;
        }
    }
    bool done = j->done;
    pthread_mutex_unlock(&j->mu);
    return done;
}

/* ---- routes ------------------------------------------------------------------------ */

/* One request on a connection (MHD's per-request context). */
typedef struct conn {
    char *body;
    size_t len, cap;
    bool too_large;
    bool headers_seen;   /* the access handler saw the headers */
    bool answered;       /* we queued the answer (else MHD did, or nobody) */
    serve_endpoint ep;
    double t0;
} conn;

static serve_endpoint endpoint_of(const char *url)
{
    static const char *const paths[] = {"/v1/completions", "/v1/chat/completions",
                                        "/v1/models", "/health", "/metrics"};
    static const serve_endpoint eps[] = {EP_COMPLETIONS, EP_CHAT, EP_MODELS, EP_HEALTH,
                                         EP_METRICS};
    size_t n = strcspn(url, "?");
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (strlen(paths[i]) == n && !strncmp(url, paths[i], n)) return eps[i];
    return EP_OTHER;
}

static serve_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Answers that do not need the body: a missing or wrong API key (401; every
 * endpoint but /health) and a declared body over the limit (413). MHD_YES
 * when neither applies. */
static enum MHD_Result early_answer(serve_server *s, struct MHD_Connection *c, conn *cn,
                                    bool *answered)
{
    *answered = true;
    if (s->p.api_key && cn->ep != EP_HEALTH &&
        !auth_bearer_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_AUTHORIZATION),
                        s->p.api_key)) {
        char *e = api_error_json("missing or wrong API key (send \"Authorization: Bearer KEY\")",
                                 "invalid_request_error", NULL, "invalid_api_key");
        struct MHD_Response *r =
            e ? MHD_create_response_from_buffer(strlen(e), e, MHD_RESPMEM_MUST_FREE) : NULL;
        if (!r) {
            free(e);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        metrics_request(&s->metrics, cn->ep, 401, serve_now() - cn->t0);
        enum MHD_Result ret = MHD_queue_response(c, 401, r);
        MHD_destroy_response(r);
        return ret;
    }
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > s->p.max_body_bytes) {
            char msg[128];
            snprintf(msg, sizeof msg, "the request body exceeds %zu bytes", s->p.max_body_bytes);
            return respond_error(s, c, cn->ep, cn->t0, 413, "invalid_request_error", NULL,
                                 "request_too_large", msg);
        }
    }
    *answered = false;
    return MHD_YES;
}

static enum MHD_Result get_route(serve_server *s, struct MHD_Connection *c, serve_endpoint ep,
                                 double t0)
{
    char *body = NULL;
    const char *type = "application/json";
    if (ep == EP_HEALTH) {
        body = strdup("{\"status\":\"ok\"}");
    } else if (ep == EP_MODELS) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "object", "list");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "data"), m);
        cJSON_AddStringToObject(m, "id", s->model_name);
        cJSON_AddStringToObject(m, "object", "model");
        cJSON_AddNumberToObject(m, "created", 0);
        cJSON_AddStringToObject(m, "owned_by", "glimp");
        body = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
    } else {
        pthread_mutex_lock(&s->mu);
        int active = s->active, waiting = s->waiting;
        pthread_mutex_unlock(&s->mu);
        metrics_request(&s->metrics, ep, 200, serve_now() - t0); /* counts this scrape */
        unsigned long long passes = 0, steps = 0, copied = 0;
        for (int r = 0; r < 2; r++) {
            unsigned long long p = 0, n = 0;
            if (s->stepper[r]) glimp_stepper_counts(s->stepper[r], &p, &n);
            passes += p;
            steps += n;
            copied += glimp_prefix_pool_copied(s->prefixes[r]);
        }
        body = metrics_render(&s->metrics, s->routed ? NULL : s->model_name, active, waiting,
                              s->p.parallel, s->p.queue, passes, steps, copied);
        type = "text/plain; version=0.0.4";
        if (!body) return MHD_NO;
        enum MHD_Result r = respond(c, 200, type, body);
        free(body);
        return r;
    }
    if (!body) return MHD_NO;
    metrics_request(&s->metrics, ep, 200, serve_now() - t0);
    enum MHD_Result r = respond(c, 200, type, body);
    free(body);
    return r;
}

static enum MHD_Result generate_route(serve_server *s, struct MHD_Connection *c,
                                      serve_endpoint ep, conn *cn)
{
    if (cn->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body exceeds %zu bytes", s->p.max_body_bytes);
        return respond_error(s, c, ep, cn->t0, 413, "invalid_request_error", NULL,
                             "request_too_large", msg);
    }
    cJSON *body = cJSON_ParseWithLength(cn->body ? cn->body : "", cn->len);
    if (!body)
        return respond_error(s, c, ep, cn->t0, 400, "invalid_request_error", NULL, "invalid_json",
                             "the request body is not valid JSON");
    work *w = calloc(1, sizeof *w);
    api_error e;
    if (!w || !api_parse_request(s, ep, body, cn->body, cn->len, &w->r, &e)) {
        if (w) api_request_free(&w->r);
        free(w);
        cJSON_Delete(body);
        if (!w) return MHD_NO;
        return respond_error(s, c, ep, cn->t0, e.status, e.type, e.param,
                             e.status == 404 && e.param ? "model_not_found" : NULL, e.message);
    }
    if (!server_admit(s)) {
        api_request_free(&w->r);
        free(w);
        cJSON_Delete(body);
        return respond_error(s, c, ep, cn->t0, 503, "server_error", NULL, "server_busy",
                             "all slots are busy and the queue is full; retry later");
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    serve_job *j = job_new(s, ep, body, w->r.stream, ci ? ci->connect_fd : -1);
    pthread_t th;
    pthread_attr_t attr;
    bool started = false;
    if (j) {
        j->t0 = cn->t0;
        w->j = j;
        j->refs = 2; /* this thread + the worker */
        pthread_mutex_lock(&s->mu);
        s->workers++;
        pthread_mutex_unlock(&s->mu);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&th, &attr, worker_main, w) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        pthread_mutex_lock(&s->mu);
        s->waiting--;
        if (j) s->workers--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        api_request_free(&w->r);
        free(w);
        if (j) {
            j->refs = 1;
            job_unref(j); /* frees body */
        } else {
            cJSON_Delete(body);
        }
        return respond_error(s, c, ep, cn->t0, 500, "server_error", NULL, NULL,
                             "cannot start a worker thread");
    }
    if (j->stream) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, j,
                                              stream_free);
        if (!r) {
            job_cancel(j);
            job_unref(j);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r); /* the response keeps our reference until stream_free */
        return ret;
    }
    enum MHD_Result ret = MHD_NO;
    if (await_whole(j)) {
        pthread_mutex_lock(&j->mu);
        int status = j->status;
        char *out = strndup(j->out ? j->out : "", j->out_len);
        pthread_mutex_unlock(&j->mu);
        if (out) ret = respond(c, status, "application/json", out);
        free(out);
    }
    job_unref(j);
    return ret;
}

/* MHD's URI log callback: the start of every request (its request line). */
static void *on_request_start(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    conn *cn = calloc(1, sizeof *cn);
    if (cn) {
        cn->t0 = serve_now();
        cn->ep = endpoint_of(uri);
    }
    return cn;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    serve_server *s = cls;
    conn *cn = *con_cls;
    (void)version;
    if (!cn) return MHD_NO; /* out of memory at the request's start */
    if (!cn->headers_seen) {
        cn->headers_seen = true;
        cn->ep = endpoint_of(url);
        bool answered;
        enum MHD_Result r = early_answer(s, c, cn, &answered);
        if (answered) {
            cn->answered = true;
            conns_request_arrived(&s->conns, conn_of(c));
        }
        return r;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (cn->too_large || cn->len + n > s->p.max_body_bytes) {
            cn->too_large = true;
            return MHD_YES;
        }
        if (cn->len + n + 1 > cn->cap) {
            size_t cap = cn->cap ? cn->cap * 2 : 4096;
            while (cap < cn->len + n + 1) cap *= 2;
            char *b = realloc(cn->body, cap);
            if (!b) return MHD_NO;
            cn->body = b;
            cn->cap = cap;
        }
        memcpy(cn->body + cn->len, upload, n);
        cn->len += n;
        return MHD_YES;
    }
    serve_endpoint ep = cn->ep;
    bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
    cn->answered = true;
    conns_request_arrived(&s->conns, conn_of(c));
    switch (ep) {
    case EP_COMPLETIONS:
    case EP_CHAT:
        if (post) return generate_route(s, c, ep, cn);
        break;
    case EP_MODELS:
    case EP_HEALTH:
    case EP_METRICS:
        if (get) return get_route(s, c, ep, cn->t0);
        break;
    default:
        return respond_error(s, c, ep, cn->t0, 404, "invalid_request_error", NULL, "not_found",
                             "no such endpoint (see /v1/models, /v1/completions, "
                             "/v1/chat/completions, /health, /metrics)");
    }
    return respond_error(s, c, ep, cn->t0, 405, "invalid_request_error", NULL,
                         "method_not_allowed", "method not allowed on this endpoint");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    serve_server *s = cls;
    conn *cn = *con_cls;
    (void)toe;
    if (cn && !cn->answered) { /* MHD answered it itself (431, 414, 400 ...), or nobody did */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (ci) metrics_request(&s->metrics, cn->ep, (int)ci->http_status, serve_now() - cn->t0);
    }
    conns_answered(&s->conns, conn_of(c));
    if (!cn) return;
    free(cn->body);
    free(cn);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    serve_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = conns_opened(&s->conns, ci ? ci->connect_fd : -1);
    } else {
        conns_closed(&s->conns, *socket_context);
        *socket_context = NULL;
    }
}

/* ---- life cycle ------------------------------------------------------------------- */

static char *stem_of(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".gguf")) n -= 5;
    return strndup(b, n);
}

/* Routed pair: each model and tokenizer loaded once for every slot, and
 * with several slots a stepper and a prefix pool per model, so the steps of
 * different requests on the same model share forward passes and their
 * prompts' common starts are computed once. */
static bool load_pair(serve_server *s, glimp_error *err)
{
    const char *paths[2] = {s->p.slm_path, s->p.llm_path};
    for (int r = 0; r < 2; r++) {
        if (!(s->pair[r] = glimp_model_load(paths[r], NULL, err))) return false;
        if (!(s->pair_tok[r] = glimp_tokenizer_load(paths[r], err))) return false;
    }
    return true;
}

static bool make_slots(serve_server *s, glimp_error *err)
{
    s->slots = calloc((size_t)s->p.parallel, sizeof *s->slots);
    s->slot_busy = calloc((size_t)s->p.parallel, sizeof *s->slot_busy);
    if (!s->slots || !s->slot_busy) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return false;
    }
    size_t pass = s->p.batch_tokens ? (size_t)s->p.batch_tokens : 512;
    glimp_session_params sp = glimp_session_default_params();
    sp.n_ctx = (size_t)s->p.n_ctx;
    sp.n_threads = s->p.n_threads;
    if (s->p.parallel > 1) {
        sp.n_batch = pass;
        for (int r = 0; r < (s->routed ? 2 : 1); r++)
            if (!(s->stepper[r] = glimp_stepper_create(s->routed ? s->pair[r] : s->model, pass,
                                                       s->p.n_threads, err)) ||
                !(s->prefixes[r] = glimp_prefix_pool_create(err)))
                return false;
    }
    sp.kv_type = s->p.kv_type;
    for (int i = 0; i < s->p.parallel; i++) {
        serve_slot *sl = &s->slots[i];
        if (!s->routed) {
            if (!(sl->sess = glimp_session_create(s->model, &sp, err))) return false;
            if (s->prefixes[0] && glimp_prefix_pool_add(s->prefixes[0], sl->sess, err) != GLIMP_OK)
                return false;
            continue;
        }
        glimp_local_params lp = glimp_local_default_params();
        lp.n_threads = s->p.n_threads;
        lp.kv_type = s->p.kv_type;
        lp.n_ctx = s->p.n_ctx;
        lp.model_path = s->p.slm_path;
        lp.template_name = s->p.slm_template;
        lp.model = s->pair[GLIMP_ROLE_SLM];
        lp.tokenizer = s->pair_tok[GLIMP_ROLE_SLM];
        lp.stepper = s->stepper[GLIMP_ROLE_SLM];
        lp.prefixes = s->prefixes[GLIMP_ROLE_SLM];
        if (!(sl->slm = glimp_backend_local_create(&lp, err))) return false;
        lp.model_path = s->p.llm_path;
        lp.template_name = s->p.llm_template;
        lp.model = s->pair[GLIMP_ROLE_LLM];
        lp.tokenizer = s->pair_tok[GLIMP_ROLE_LLM];
        lp.stepper = s->stepper[GLIMP_ROLE_LLM];
        lp.prefixes = s->prefixes[GLIMP_ROLE_LLM];
        if (!(sl->llm = glimp_backend_local_create(&lp, err))) return false;
    }
    return true;
}

static void free_server(serve_server *s)
{
    for (int i = 0; s->slots && i < s->p.parallel; i++) {
        glimp_prefix_pool_remove(s->prefixes[0], s->slots[i].sess);
        glimp_session_free(s->slots[i].sess);
        glimp_backend_free(s->slots[i].slm);
        glimp_backend_free(s->slots[i].llm);
    }
    free(s->slots);
    free(s->slot_busy);
    for (int r = 0; r < 2; r++) {
        glimp_prefix_pool_free(s->prefixes[r]);
        glimp_stepper_free(s->stepper[r]);
        glimp_tokenizer_free(s->pair_tok[r]);
        glimp_model_free(s->pair[r]);
    }
    glimp_tokenizer_free(s->tok);
    glimp_model_free(s->model);
    free(s->model_name);
    free(s->delimiter);
    metrics_destroy(&s->metrics);
    conns_destroy(&s->conns);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static bool load_single(serve_server *s, glimp_error *err)
{
    const glimp_serve_params *p = &s->p;
    if (!(s->model = glimp_model_load(p->model_path, NULL, err))) return false;
    if (!(s->tok = glimp_tokenizer_load(p->model_path, err))) return false;
    s->tmpl = p->template_name ? glimp_template_by_name(p->template_name, err)
                               : glimp_template_from_gguf(p->model_path, NULL);
    /* no chat template in the file: chat turns are joined as plain text */
    if (!s->tmpl && !p->template_name) s->tmpl = glimp_template_by_name("raw", err);
    return s->tmpl != NULL;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) ||
           (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

static bool bind_addr(const glimp_serve_params *p, struct sockaddr_storage *ss, bool *v6,
                      glimp_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", p->port);
    int rc = getaddrinfo(p->host, port, &hints, &res);
    if (rc != 0 || !res) {
        glimp_error_set(err, GLIMP_ERR_ARG, "cannot resolve host '%s': %s", p->host,
                        gai_strerror(rc));
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return true;
}

glimp_server *glimp_server_start(const glimp_serve_params *params, glimp_error *err)
{
    bool single = params->model_path != NULL, pair = params->slm_path || params->llm_path;
    if (single == pair || (pair && (!params->slm_path || !params->llm_path))) {
        glimp_error_set(err, GLIMP_ERR_ARG,
                        "give either one model, or both an SLM and an LLM");
        return NULL;
    }
    if (params->parallel < 1 || params->parallel > 256 || params->queue < 0 ||
        params->queue > 100000 || params->max_tokens < 1 || params->max_body_bytes < 64 ||
        params->port < 0 || params->port > 65535 || !params->host || params->batch_tokens < 0 ||
        params->batch_tokens > 65536 ||
        !(params->read_timeout_s > 0 && params->read_timeout_s <= 86400)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "parallel (1..256), queue (0..100000), max "
                                            "tokens, body limit, read timeout or port out of range");
        return NULL;
    }
    int busy = params->parallel + params->queue;
    int cap = params->max_connections ? params->max_connections : busy + 64;
    if (cap <= busy || cap > 1000000) {
        glimp_error_set(err, GLIMP_ERR_ARG,
                        "max connections %d must exceed parallel + queue (%d)", cap, busy);
        return NULL;
    }
    if (single && params->router.spec == GLIMP_SPEC_MODEL) {
        glimp_error_set(err, GLIMP_ERR_ARG, "speculation by a draft model needs a routed pair "
                        "(the SLM drafts); one model speculates with ngram");
        return NULL;
    }
    if (params->api_key && !params->api_key[0]) {
        glimp_error_set(err, GLIMP_ERR_ARG, "the API key is empty");
        return NULL;
    }
    struct rlimit nofile;
    rlim_t need = (rlim_t)cap + CONN_SLACK + 64; /* + model files, pipes, logs */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
        nofile.rlim_cur < need) {
        glimp_error_set(err, GLIMP_ERR_ARG,
                        "%d connections need about %llu file descriptors; the limit is "
                        "%llu (ulimit -n)", cap, (unsigned long long)need,
                        (unsigned long long)nofile.rlim_cur);
        return NULL;
    }
    serve_server *s = calloc(1, sizeof *s);
    if (!s) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->p = *params;
    s->routed = pair;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    metrics_init(&s->metrics);
    conns_init(&s->conns, cap, params->read_timeout_s);
    s->delimiter = strdup(params->router.delimiter ? params->router.delimiter : "\n\n");
    s->p.router.delimiter = s->delimiter;
    s->model_name = params->model_name ? strdup(params->model_name)
                    : pair             ? strdup("glimprouter")
                                       : stem_of(params->model_path);
    bool ok = s->delimiter && s->model_name;
    if (!ok) glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    if (ok) ok = pair ? load_pair(s, err) : load_single(s, err);
    if (ok) ok = make_slots(s, err);
    struct sockaddr_storage ss;
    bool v6 = false;
    if (ok) ok = bind_addr(params, &ss, &v6, err);
    if (ok) {
        s->loopback = is_loopback(&ss);
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
                         MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
        s->daemon = MHD_start_daemon(
            flags, (uint16_t)params->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_request_start, s,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cap + CONN_SLACK),
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ceil(params->read_timeout_s),
            /* a restart may bind at once, while old connections linger in TIME_WAIT */
            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
        if (!s->daemon) {
            glimp_error_set(err, GLIMP_ERR_IO, "cannot listen on %s:%d (in use?)",
                            params->host, params->port);
            ok = false;
        }
    }
    if (!ok) {
        free_server(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : params->port;
    return s;
}

bool glimp_server_is_loopback(const glimp_server *server) { return server->loopback; }

/* Waits on s->cv (s->mu held) until done(s) or the deadline (monotonic s). */
static void wait_until(serve_server *s, bool (*done)(serve_server *), double deadline)
{
    while (!done(s) && serve_now() < deadline) {
        struct timespec ts;
        deadline_in(&ts, WAIT_SLICE_MS);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
}

static bool no_jobs(serve_server *s) { return s->active + s->waiting == 0; }
static bool no_workers(serve_server *s) { return s->workers == 0; }

static bool answers_delivered(serve_server *s) { return conns_busy(&s->conns) == 0; }

void glimp_server_shutdown(glimp_server *server, double grace_s)
{
    if (!server) return;
    MHD_socket listener = MHD_quiesce_daemon(server->daemon); /* new connections: refused */
    if (listener != MHD_INVALID_SOCKET) close(listener);
    pthread_mutex_lock(&server->mu);
    server->draining = true; /* new requests on open connections: 503 */
    wait_until(server, no_jobs, serve_now() + grace_s);
    server->stopping = true; /* queued jobs leave; running ones see job_cancelled */
    pthread_cond_broadcast(&server->cv);
    wait_until(server, no_workers, INFINITY);
    /* the workers wrote their last words (503s, error events): let them out */
    wait_until(server, answers_delivered, serve_now() + DELIVERY_WAIT_S);
    pthread_mutex_unlock(&server->mu);
    MHD_stop_daemon(server->daemon);
    pthread_mutex_lock(&server->mu);
    while (server->workers > 0) pthread_cond_wait(&server->cv, &server->mu);
    pthread_mutex_unlock(&server->mu);
    free_server(server);
}

void glimp_server_stop(glimp_server *server) { glimp_server_shutdown(server, 0); }
