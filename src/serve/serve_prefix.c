/* serve_prefix.c - prompt prefixes shared across the slots of a single-model
 * server: before a request prefills its prompt, the longest start of it that
 * another slot's session holds (a common system prompt, the earlier turns of
 * a conversation, a repeated question) is copied into its own session, KV
 * rows and all, instead of being computed again. The other slot may be idle
 * or in the middle of its own request.
 *
 * Each slot publishes, under the server's mutex, how many of its session's
 * first tokens are settled: none while its request prepares its prompt, the
 * prompt once it is evaluated (a request only appends after it), the whole
 * history once the request is over. A slot is pinned while another copies
 * from it, and a request waits for its own slot's pins to drop before it
 * changes its session. The copy itself runs outside the mutex.
 *
 * Failure: a copy cannot fail for sessions of one server (same model, same
 * KV type, same context); should it, the request computes its prompt as if
 * nothing had been shared.
 */
#include "serve/serve_impl.h"

static size_t common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return i;
}

void prefix_claim(serve_server *s, serve_slot *slot)
{
    pthread_mutex_lock(&s->mu);
    slot->n_settled = 0;
    while (slot->pins > 0) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

size_t prefix_borrow(serve_server *s, serve_slot *slot, const int32_t *ids, size_t n)
{
    const size_t own = common_prefix(glimp_session_tokens(slot->sess),
                                     glimp_session_n_tokens(slot->sess), ids, n);
    serve_slot *from = NULL;
    size_t best = own;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->p.parallel; i++) {
        serve_slot *o = &s->slots[i];
        if (o == slot || !o->sess || o->n_settled <= best) continue;
        size_t c = common_prefix(glimp_session_tokens(o->sess), o->n_settled, ids, n);
        if (c > best) {
            best = c;
            from = o;
        }
    }
    if (from) from->pins++;
    pthread_mutex_unlock(&s->mu);
    if (!from) return 0;
    size_t copied = 0;
    glimp_error err = {0};
    if (glimp_session_copy_prefix(slot->sess, from->sess, best, &copied, &err) != GLIMP_OK)
        copied = 0;
    pthread_mutex_lock(&s->mu);
    from->pins--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    metrics_prefix_copied(&s->metrics, copied);
    return copied;
}

void prefix_settle(serve_server *s, serve_slot *slot, size_t n)
{
    pthread_mutex_lock(&s->mu);
    slot->n_settled = n;
    pthread_mutex_unlock(&s->mu);
}
