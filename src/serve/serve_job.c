/* serve_job.c - one request's life between the HTTP thread and its worker:
 * a refcount, a byte channel (streamed events or the final body), the
 * finished flag and cancellation (see serve_impl.h).
 *
 * Failure: out of memory while writing cancels the job (the client gets a
 * cut stream or a 500), it never crashes the server.
 */
#include "serve/serve_impl.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double serve_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

serve_job *job_new(serve_server *srv, serve_endpoint ep, cJSON *req, bool stream, int fd)
{
    serve_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->refs = 1;
    j->srv = srv;
    j->ep = ep;
    j->req = req;
    j->stream = stream;
    j->conn_fd = fd;
    j->slot = -1;
    j->status = 500;
    j->t0 = serve_now();
    return j;
}

void job_unref(serve_job *j)
{
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left > 0) return;
    cJSON_Delete(j->req);
    free(j->out);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

bool job_write(serve_job *j, const char *data, size_t len)
{
    pthread_mutex_lock(&j->mu);
    bool ok = !j->cancelled;
    if (ok && j->out_len + len + 1 > j->out_cap) {
        size_t cap = j->out_cap ? j->out_cap : 4096;
        while (cap < j->out_len + len + 1) cap *= 2;
        char *b = realloc(j->out, cap);
        if (b) {
            j->out = b;
            j->out_cap = cap;
        } else {
            ok = false;
            j->cancelled = true;
        }
    }
    if (ok) {
        memcpy(j->out + j->out_len, data, len);
        j->out_len += len;
        j->out[j->out_len] = '\0';
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    return ok;
}

bool job_cancelled(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    bool c = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    /* seq_cst load pairs with the store in glimp_server_stop */
    return c || atomic_load(&j->srv->stopping);
}

void job_cancel(serve_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->cancelled = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void job_finish(serve_job *j, int status)
{
    /* counted out of admission before the client can see the answer */
    server_job_answered(j->srv, j);
    pthread_mutex_lock(&j->mu);
    j->status = status;
    j->done = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* End of file alone is not a hang-up: a client may shut down its sending
 * side after the request and still read the answer (TCP cannot tell that
 * from a closed socket until we write and it resets). A reset or error is. */
bool job_peer_gone(int fd)
{
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}
