/* http_client.h - one blocking HTTP request at a time over libcurl, for the
 * openai backend (internal API).
 *
 * A client keeps one curl handle, so consecutive requests to one server reuse
 * the connection. Response bytes either collect into a buffer or stream to a
 * sink that may stop the transfer (the connection is then closed, which is
 * how the server learns that we lost interest). Connect failures, resets
 * before any byte reached the sink, and 5xx answers are retried a bounded
 * number of times with exponential backoff.
 *
 * Failure: GLIMP_ERR_HTTP (cannot connect, connection lost, non-2xx status:
 * the message names the URL and quotes the start of the server's answer),
 * GLIMP_ERR_TIMEOUT (connect or total deadline), GLIMP_ERR_CANCELLED is
 * never returned here (a sink that stops gives GLIMP_OK with `stopped`),
 * GLIMP_ERR_NOMEM.
 */
#ifndef GLIMP_BACKEND_HTTP_CLIENT_H
#define GLIMP_BACKEND_HTTP_CLIENT_H

#include "glimp.h"

typedef struct http_client http_client;

typedef struct http_client_params {
    long connect_timeout_ms; /* deadline for the TCP (+TLS) connection */
    long timeout_ms;         /* deadline for one whole request, 0 = none */
    int max_retries;         /* extra attempts after a retryable failure */
    long backoff_ms;         /* delay before the first retry; doubles each time */
} http_client_params;

/* Receives response body bytes of a 2xx answer as they arrive. Return false
 * to stop the transfer (the connection is closed). */
typedef bool (*http_sink_fn)(void *user, const char *data, size_t len);

typedef struct http_response {
    long status;     /* HTTP status code (0 if no answer) */
    char *body;      /* collected body when no sink was given, NUL-terminated,
                        malloc'd, owned by the caller (free()); else NULL */
    size_t len;
    bool stopped;    /* the sink stopped the transfer */
    size_t received; /* body bytes received in the final attempt */
    int attempts;    /* attempts made (1 + retries) */
} http_response;

/* NULL with err set (GLIMP_ERR_NOMEM / GLIMP_ERR_HTTP) on failure. */
http_client *http_client_create(const http_client_params *params, glimp_error *err);
void http_client_free(http_client *c); /* NULL-safe */

/* POSTs `json` (Content-Type: application/json) to url. api_key (may be
 * NULL or "") becomes "Authorization: Bearer ...". With a sink, 2xx body
 * bytes go to it and resp->body stays NULL; without one they collect into
 * resp->body. A non-2xx status is an error (after retries for 5xx) whose
 * message quotes the body. On failure resp->body is NULL. */
glimp_status http_client_post_json(http_client *c, const char *url, const char *api_key,
                                   const char *json, http_sink_fn sink, void *user,
                                   http_response *resp, glimp_error *err);

/* Releases resp->body. NULL-safe. */
void http_response_clear(http_response *resp);

#endif
