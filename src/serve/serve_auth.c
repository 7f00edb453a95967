/* serve_auth.c - the API key check of glimp serve: "Authorization: Bearer
 * KEY", compared in constant time (the time depends on the lengths only, not
 * on the position of the first difference), so a client cannot guess the key
 * byte by byte from answer times.
 */
#include "serve/serve_impl.h"

#include <string.h>
#include <strings.h>

bool auth_bearer_ok(const char *header, const char *key)
{
    if (!header || !key || strncasecmp(header, "Bearer ", 7) != 0) return false;
    const char *given = header + 7;
    while (*given == ' ') given++;
    size_t n_given = strlen(given), n_key = strlen(key);
    /* compare over the key's length; a length mismatch fails as well */
    unsigned diff = n_given != n_key;
    for (size_t i = 0; i < n_key; i++) {
        unsigned char g = i < n_given ? (unsigned char)given[i] : 0;
        diff |= g ^ (unsigned char)key[i];
    }
    return diff == 0;
}
