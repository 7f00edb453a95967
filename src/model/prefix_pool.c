/* prefix_pool.c - prompt prefixes shared among the sessions of one model:
 * before a member prefills, the longest start of its tokens that another
 * member holds and has declared settled (a common system prompt, the
 * earlier turns of a conversation, a repeated question) is copied into it,
 * KV rows and all, instead of being computed again. The donor may be idle
 * or in the middle of its own work.
 *
 * Each member publishes, under the pool's mutex, how many of its first
 * tokens are settled: none from a claim (its owner is about to change them)
 * until the owner settles a length again. A member is pinned while another
 * copies from it, and a claim waits for its pins to drop. The copy itself
 * runs outside the mutex, reading only settled rows, while the donor's
 * owner may append after them.
 *
 * Failure: create and add return GLIMP_ERR_NOMEM; a copy that fails (the
 * sessions differ in KV cache type, say) counts as nothing copied, and the
 * member computes its prompt as if nothing had been shared.
 */
#include "glimp.h"

#include "base/error.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct member {
    glimp_session *sess;
    size_t n_settled; /* first tokens that stay as they are until the next claim */
    int pins;         /* other members copying from it now */
} member;

struct glimp_prefix_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    member *m;
    int n, cap;
    unsigned long long copied; /* tokens copied by borrow, all members together */
};

glimp_prefix_pool *glimp_prefix_pool_create(glimp_error *err)
{
    glimp_prefix_pool *p = calloc(1, sizeof *p);
    if (!p) {
        glimp_error_set(err, GLIMP_ERR_NOMEM, "prefix pool: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

void glimp_prefix_pool_free(glimp_prefix_pool *p)
{
    if (!p) return;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->m);
    free(p);
}

/* The member entry of s, or NULL. Under mu. */
static member *find(glimp_prefix_pool *p, const glimp_session *s)
{
    for (int i = 0; i < p->n; i++)
        if (p->m[i].sess == s) return &p->m[i];
    return NULL;
}

glimp_status glimp_prefix_pool_add(glimp_prefix_pool *p, glimp_session *s, glimp_error *err)
{
    if (!p || !s) return glimp_error_set(err, GLIMP_ERR_ARG, "prefix pool: NULL pool or session");
    pthread_mutex_lock(&p->mu);
    glimp_status st = GLIMP_OK;
    if (find(p, s)) {
        st = glimp_error_set(err, GLIMP_ERR_ARG, "prefix pool: the session is a member already");
    } else if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        member *m = realloc(p->m, (size_t)cap * sizeof *m);
        if (m) {
            p->m = m;
            p->cap = cap;
        } else {
            st = glimp_error_set(err, GLIMP_ERR_NOMEM, "prefix pool: out of memory");
        }
    }
    if (st == GLIMP_OK) p->m[p->n++] = (member){s, 0, 0};
    pthread_mutex_unlock(&p->mu);
    return st;
}

void glimp_prefix_pool_remove(glimp_prefix_pool *p, glimp_session *s)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    member *m = find(p, s);
    if (m) {
        m->n_settled = 0;
        while (m->pins > 0) {
            pthread_cond_wait(&p->cv, &p->mu);
            m = find(p, s); /* the array may have moved meanwhile */
        }
        *m = p->m[--p->n];
    }
    pthread_mutex_unlock(&p->mu);
}

void glimp_prefix_pool_claim(glimp_prefix_pool *p, glimp_session *s)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    member *m = find(p, s);
    if (m) m->n_settled = 0;
    while (m && m->pins > 0) {
        pthread_cond_wait(&p->cv, &p->mu);
        m = find(p, s);
    }
    pthread_mutex_unlock(&p->mu);
}

void glimp_prefix_pool_settle(glimp_prefix_pool *p, glimp_session *s, size_t n)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    member *m = find(p, s);
    if (m) m->n_settled = n;
    pthread_mutex_unlock(&p->mu);
}

static size_t common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return i;
}

size_t glimp_prefix_pool_borrow(glimp_prefix_pool *p, glimp_session *s, const int32_t *ids,
                                size_t n)
{
    if (!p || !s || !ids) return 0;
    size_t best = common_prefix(glimp_session_tokens(s), glimp_session_n_tokens(s), ids, n);
    glimp_session *from = NULL;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; find(p, s) && i < p->n; i++) {
        const member *o = &p->m[i];
        if (o->sess == s || o->n_settled <= best ||
            glimp_session_model(o->sess) != glimp_session_model(s))
            continue;
        size_t c = common_prefix(glimp_session_tokens(o->sess), o->n_settled, ids, n);
        if (c > best) {
            best = c;
            from = o->sess;
        }
    }
    if (from) find(p, from)->pins++;
    pthread_mutex_unlock(&p->mu);
    if (!from) return 0;
    size_t copied = 0;
    if (glimp_session_copy_prefix(s, from, best, &copied, NULL) != GLIMP_OK) copied = 0;
    pthread_mutex_lock(&p->mu);
    find(p, from)->pins--;
    p->copied += copied;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return copied;
}

unsigned long long glimp_prefix_pool_copied(glimp_prefix_pool *p)
{
    if (!p) return 0;
    pthread_mutex_lock(&p->mu);
    unsigned long long c = p->copied;
    pthread_mutex_unlock(&p->mu);
    return c;
}
