/* stop_match.h - collects generated text, finds stop strings, and says how
 * much of the text is final (internal API, shared by every backend).
 *
 * Text arrives in pieces of any size. The first (earliest) occurrence of any
 * stop string ends the text there; until then the tail that could still be
 * the start of a stop string is held back, so streamed pieces never contain
 * stop-string bytes. Failure: GLIMP_ERR_NOMEM when the buffer cannot grow.
 */
#ifndef GLIMP_BACKEND_STOP_MATCH_H
#define GLIMP_BACKEND_STOP_MATCH_H

#include "glimp.h"

typedef struct stop_match {
    const char *const *stop; /* borrowed */
    int n_stop;
    char *text;     /* collected text, NUL-terminated, cut at a hit */
    size_t len, cap;
    size_t emitted; /* bytes already handed to the caller's stream */
    int hit;        /* index of the stop string found, -1 while none */
} stop_match;

void stop_match_init(stop_match *m, const char *const *stop, int n_stop);
/* Releases the buffer (the text too, unless taken). */
void stop_match_free(stop_match *m);
/* Adds a piece; sets m->hit (and cuts m->text) when a stop string completes.
 * Pieces after a hit are ignored. */
glimp_status stop_match_push(stop_match *m, const char *piece, size_t len, glimp_error *err);
/* Whether generation surely ends with token t under m's stop strings: an
 * end-of-generation token, or one whose own text holds a stop string (a
 * stop string spread over several tokens is not seen here). Speculation
 * guesses nothing past such a token. */
bool stop_match_token_ends(const stop_match *m, const glimp_tokenizer *tok, int32_t t);
/* Bytes of m->text that are final: all of it after a hit or when `at_end`,
 * else all but the longest tail that is a proper prefix of a stop string. */
size_t stop_match_final_len(const stop_match *m, bool at_end);
/* Hands over the text (malloc'd, NUL-terminated, never NULL on success). */
char *stop_match_take(stop_match *m, glimp_error *err);

#endif
