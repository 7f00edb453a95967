/* serve_conns.c - the open connections of glimp serve, and which to drop so
 * that idle or half-sent connections cannot lock clients out.
 *
 * A connection is "waiting" from the moment it is accepted (and again after
 * each answer, while it is kept alive) until its request has fully arrived.
 * Waiting connections are listed oldest first. At every new connection:
 *  - waiting connections older than the read timeout are dropped;
 *  - when more than `cap` connections are live, the oldest waiting one that
 *    has no unread bytes is dropped (bytes not yet read mean its request is
 *    about to be served, e.g. a client that connected during a flood): a
 *    newcomer displaces an idle connection, and is itself closed at once
 *    when every other connection is busy with a request.
 * MHD's own inactivity timeout (the same read timeout) covers connections
 * that go quiet while nobody new arrives.
 *
 * Dropping is shutdown(2) of the socket, under the lock: the thread serving
 * it sees end of file and closes it. A tracked socket is never closed behind
 * our back, because MHD reports the close (conns_closed) before it closes
 * the descriptor.
 */
#include "serve/serve_impl.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* How many of the oldest waiting connections are looked at for one without
 * unread bytes before the oldest is taken regardless. */
#define DROP_SCAN 64

struct serve_conn {
    serve_conn *prev, *next; /* in the waiting list */
    int fd;
    double since;            /* start of the current wait */
    bool waiting, dropped;
};

void conns_init(serve_conns *cs, int cap, double read_timeout_s)
{
    pthread_mutex_init(&cs->mu, NULL);
    cs->head = cs->tail = NULL;
    cs->live = cs->n_waiting = 0;
    cs->cap = cap;
    cs->read_timeout_s = read_timeout_s;
}

void conns_destroy(serve_conns *cs) { pthread_mutex_destroy(&cs->mu); }

static void unlink_waiting(serve_conns *cs, serve_conn *c)
{
    if (!c->waiting) return;
    if (c->prev) c->prev->next = c->next;
    else cs->head = c->next;
    if (c->next) c->next->prev = c->prev;
    else cs->tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
    cs->n_waiting--;
}

static void link_waiting(serve_conns *cs, serve_conn *c)
{
    c->since = serve_now();
    c->waiting = true;
    cs->n_waiting++;
    c->next = NULL;
    c->prev = cs->tail;
    if (cs->tail) cs->tail->next = c;
    else cs->head = c;
    cs->tail = c;
}

static void drop(serve_conns *cs, serve_conn *c)
{
    unlink_waiting(cs, c);
    c->dropped = true;
    cs->live--;
    shutdown(c->fd, SHUT_RDWR);
}

static bool has_unread_bytes(const serve_conn *c)
{
    int n = 0;
    return ioctl(c->fd, FIONREAD, &n) == 0 && n > 0;
}

/* The connection to drop when over the cap (see the header). */
static serve_conn *drop_candidate(serve_conns *cs)
{
    serve_conn *c = cs->head;
    for (int i = 0; c && i < DROP_SCAN; i++, c = c->next)
        if (!has_unread_bytes(c)) return c;
    return cs->head;
}

serve_conn *conns_opened(serve_conns *cs, int fd)
{
    serve_conn *c = calloc(1, sizeof *c);
    if (!c) {
        shutdown(fd, SHUT_RDWR);
        return NULL;
    }
    c->fd = fd;
    pthread_mutex_lock(&cs->mu);
    double now = serve_now();
    while (cs->head && now - cs->head->since > cs->read_timeout_s) drop(cs, cs->head);
    link_waiting(cs, c);
    cs->live++;
    if (cs->live > cs->cap) drop(cs, drop_candidate(cs));
    pthread_mutex_unlock(&cs->mu);
    return c;
}

void conns_closed(serve_conns *cs, serve_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&cs->mu);
    unlink_waiting(cs, c);
    if (!c->dropped) cs->live--;
    pthread_mutex_unlock(&cs->mu);
    free(c);
}

void conns_request_arrived(serve_conns *cs, serve_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&cs->mu);
    unlink_waiting(cs, c);
    pthread_mutex_unlock(&cs->mu);
}

void conns_answered(serve_conns *cs, serve_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&cs->mu);
    if (!c->dropped && !c->waiting) link_waiting(cs, c);
    pthread_mutex_unlock(&cs->mu);
}

int conns_busy(serve_conns *cs)
{
    pthread_mutex_lock(&cs->mu);
    int busy = cs->live - cs->n_waiting;
    pthread_mutex_unlock(&cs->mu);
    return busy;
}
