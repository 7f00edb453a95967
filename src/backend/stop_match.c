/* stop_match.c - stop-string detection over streamed text (see stop_match.h). */
#include "backend/stop_match.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

void stop_match_init(stop_match *m, const char *const *stop, int n_stop)
{
    memset(m, 0, sizeof *m);
    m->stop = stop;
    m->n_stop = n_stop;
    m->hit = -1;
}

void stop_match_free(stop_match *m)
{
    free(m->text);
    m->text = NULL;
    m->len = m->cap = 0;
}

bool stop_match_token_ends(const stop_match *m, const glimp_tokenizer *tok, int32_t t)
{
    if (glimp_token_is_eog(tok, t)) return true;
    char piece[256];
    int n = glimp_token_piece(tok, t, true, piece, sizeof piece);
    if (n < 0 || n >= (int)sizeof piece) return false;
    for (int i = 0; i < m->n_stop; i++)
        if (m->stop[i][0] && strstr(piece, m->stop[i])) return true;
    return false;
}

static glimp_status reserve(stop_match *m, size_t need, glimp_error *err)
{
    if (need <= m->cap) return GLIMP_OK;
    size_t cap = m->cap ? m->cap : 256;
    while (cap < need) cap *= 2;
    char *t = realloc(m->text, cap);
    if (!t) return glimp_error_set(err, GLIMP_ERR_NOMEM, "stop match: out of memory");
    m->text = t;
    m->cap = cap;
    return GLIMP_OK;
}

glimp_status stop_match_push(stop_match *m, const char *piece, size_t len, glimp_error *err)
{
    if (m->hit >= 0) return GLIMP_OK;
    if (reserve(m, m->len + len + 1, err)) return GLIMP_ERR_NOMEM;
    size_t old = m->len;
    memcpy(m->text + m->len, piece, len);
    m->len += len;
    m->text[m->len] = '\0';
    /* A new match must end inside the new bytes: search from where the
     * longest stop string could start. Earliest position wins. */
    size_t best = (size_t)-1;
    for (int i = 0; i < m->n_stop; i++) {
        size_t sl = strlen(m->stop[i]);
        size_t from = old >= sl ? old - sl + 1 : 0;
        for (size_t p = from; p + sl <= m->len && p < best; p++) {
            if (!memcmp(m->text + p, m->stop[i], sl)) {
                best = p;
                m->hit = i;
                break;
            }
        }
    }
    if (m->hit >= 0) {
        m->len = best;
        m->text[best] = '\0';
    }
    return GLIMP_OK;
}

size_t stop_match_final_len(const stop_match *m, bool at_end)
{
    if (at_end || m->hit >= 0) return m->len;
    size_t hold = 0;
    for (int i = 0; i < m->n_stop; i++) {
        size_t sl = strlen(m->stop[i]);
        /* longest proper prefix of stop[i] that ends the text */
        for (size_t k = sl - 1; k > hold; k--) {
            if (k <= m->len && !memcmp(m->text + m->len - k, m->stop[i], k)) {
                hold = k;
                break;
            }
        }
    }
    return m->len - hold;
}

char *stop_match_take(stop_match *m, glimp_error *err)
{
    if (reserve(m, m->len + 1, err)) return NULL;
    m->text[m->len] = '\0';
    char *t = m->text;
    m->text = NULL;
    m->len = m->cap = 0;
    return t;
}
