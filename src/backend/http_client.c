/* http_client.c - blocking HTTP POST over one reusable curl handle, with
 * streaming sinks, deadlines and bounded retries (see http_client.h).
 *
 * Failure: every error message names the URL; server answers that are not
 * 2xx are quoted (first 200 bytes) so a wrong URL or model name is obvious.
 */
#include "backend/http_client.h"

#include "base/error.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bodies collected without a sink (whole responses, error pages) are capped
 * so a misbehaving server cannot exhaust memory. */
#define HTTP_MAX_COLLECT (64u << 20)

struct http_client {
    CURL *h;
    http_client_params p;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

http_client *http_client_create(const http_client_params *params, glimp_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        glimp_error_set(err, GLIMP_ERR_HTTP, "http: curl_global_init failed: %s",
                        curl_easy_strerror(global_rc));
        return NULL;
    }
    http_client *c = calloc(1, sizeof *c);
    if (!c) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "http: out of memory");
        return NULL;
    }
    c->h = curl_easy_init();
    if (!c->h) {
        free(c);
        glimp_error_set(err, GLIMP_ERR_HTTP, "http: curl_easy_init failed");
        return NULL;
    }
    c->p = *params;
    return c;
}

void http_client_free(http_client *c)
{
    if (!c) return;
    curl_easy_cleanup(c->h);
    free(c);
}

void http_response_clear(http_response *resp)
{
    if (!resp) return;
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

/* State of one attempt, seen by the write callback. */
typedef struct xfer {
    CURL *h;
    http_sink_fn sink;
    void *user;
    char *buf; /* collected bytes (no sink, or a non-2xx answer) */
    size_t len, cap;
    size_t received;
    bool delivered; /* some bytes reached the sink: no transparent retry */
    bool stopped;
    bool nomem;
} xfer;

static bool collect(xfer *x, const char *data, size_t n)
{
    if (x->len + n + 1 > x->cap) {
        if (x->len + n + 1 > HTTP_MAX_COLLECT) return false;
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1) cap *= 2;
        char *b = realloc(x->buf, cap);
        if (!b) return false;
        x->buf = b;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return true;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    xfer *x = userp;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    x->received += n;
    if (x->sink && status >= 200 && status < 300) {
        x->delivered = true;
        if (!x->sink(x->user, data, n)) {
            x->stopped = true;
            return 0; /* aborts the transfer and closes the connection */
        }
        return n;
    }
    if (!collect(x, data, n)) {
        x->nomem = true;
        return 0;
    }
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Quotes the start of a body for an error message (control bytes -> '.'). */
static void excerpt(const char *body, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    if (n > 200) n = 200;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];
        out[i] = ch < 0x20 ? '.' : (char)ch;
    }
    out[n] = '\0';
}

typedef enum attempt_kind { ATTEMPT_DONE, ATTEMPT_RETRY, ATTEMPT_FAIL } attempt_kind;

static attempt_kind one_attempt(http_client *c, const char *url, struct curl_slist *headers,
                                const char *json, xfer *x, http_response *resp,
                                glimp_status *st, glimp_error *err)
{
    CURL *h = c->h;
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->p.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->p.timeout_ms);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    resp->received = x->received;
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    if (x->nomem) {
        *st = glimp_error_set(err, GLIMP_ERR_NOMEM, "http: %s: response too large or out of memory",
                              url);
        return ATTEMPT_FAIL;
    }
    if (x->stopped) {
        resp->stopped = true;
        *st = GLIMP_OK;
        return ATTEMPT_DONE;
    }
    switch (rc) {
    case CURLE_OK: break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        *st = glimp_error_set(err, GLIMP_ERR_HTTP, "http: cannot connect to %s: %s", url, why);
        return ATTEMPT_RETRY;
    case CURLE_OPERATION_TIMEDOUT:
        *st = glimp_error_set(err, GLIMP_ERR_TIMEOUT, "http: %s did not answer in time (%s)", url,
                              why);
        return ATTEMPT_FAIL;
    default:
        *st = glimp_error_set(err, GLIMP_ERR_HTTP,
                              "http: connection to %s failed after %zu response bytes: %s", url,
                              x->received, why);
        return x->delivered ? ATTEMPT_FAIL : ATTEMPT_RETRY;
    }
    if (status >= 200 && status < 300) {
        *st = GLIMP_OK;
        return ATTEMPT_DONE;
    }
    char quote[256];
    excerpt(x->buf ? x->buf : "", x->len, quote, sizeof quote);
    *st = glimp_error_set(err, GLIMP_ERR_HTTP, "http: %s answered HTTP %ld: %s", url, status,
                          quote[0] ? quote : "(empty body)");
    return status >= 500 ? ATTEMPT_RETRY : ATTEMPT_FAIL;
}

glimp_status http_client_post_json(http_client *c, const char *url, const char *api_key,
                                   const char *json, http_sink_fn sink, void *user,
                                   http_response *resp, glimp_error *err)
{
    memset(resp, 0, sizeof *resp);
    struct curl_slist *headers = NULL, *t;
    char auth[1024];
    bool ok = (t = curl_slist_append(headers, "Content-Type: application/json")) != NULL;
    if (ok) headers = t;
    if (ok && (t = curl_slist_append(headers, "Expect:")) != NULL) headers = t;
    else ok = false;
    if (ok && api_key && api_key[0]) {
        if ((size_t)snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key) >= sizeof auth) {
            curl_slist_free_all(headers);
            return glimp_error_set(err, GLIMP_ERR_ARG, "http: API key too long");
        }
        if ((t = curl_slist_append(headers, auth)) != NULL) headers = t;
        else ok = false;
    }
    if (!ok) {
        curl_slist_free_all(headers);
        return glimp_error_set(err, GLIMP_ERR_NOMEM, "http: out of memory");
    }
    glimp_status st = GLIMP_ERR_HTTP;
    long backoff = c->p.backoff_ms > 0 ? c->p.backoff_ms : 1;
    for (int attempt = 0;; attempt++) {
        xfer x = {.h = c->h, .sink = sink, .user = user};
        resp->attempts = attempt + 1;
        attempt_kind k = one_attempt(c, url, headers, json, &x, resp, &st, err);
        if (k == ATTEMPT_DONE && !sink) {
            if (!x.buf && !collect(&x, "", 0)) {
                st = glimp_error_set(err, GLIMP_ERR_NOMEM, "http: out of memory");
                k = ATTEMPT_FAIL;
            } else {
                resp->body = x.buf;
                resp->len = x.len;
                x.buf = NULL;
            }
        }
        free(x.buf);
        if (k != ATTEMPT_RETRY || attempt >= c->p.max_retries) break;
        sleep_ms(backoff);
        backoff *= 2;
    }
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (st != GLIMP_OK && resp->attempts > 1 && err)
        glimp_error_prefix(err, "after %d attempts", resp->attempts);
    return st;
}
