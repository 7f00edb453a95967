/* test_backend_stop.c - the stop-string matcher every backend streams
 * through: earliest stop wins, a stop split across pieces is found, text that
 * could start a stop string is held back and never streamed, and the held
 * text is released when it turns out not to be a stop.
 */
#include "backend/stop_match.h"
#include "test_util.h"

/* Feeds pieces, streaming final text into out; returns the stop index. */
static int feed(const char *const *stops, int n_stop, const char *const *pieces, int n,
                char *out, size_t cap, char *text)
{
    stop_match m;
    stop_match_init(&m, stops, n_stop);
    size_t o = 0;
    for (int i = 0; i < n && m.hit < 0; i++) {
        glimp_status st = stop_match_push(&m, pieces[i], strlen(pieces[i]), NULL);
        REQUIRE(st == GLIMP_OK, "push");
        size_t fin = stop_match_final_len(&m, false);
        CHECK(fin >= m.emitted, "final length never shrinks");
        memcpy(out + o, m.text + m.emitted, fin - m.emitted);
        o += fin - m.emitted;
        m.emitted = fin;
    }
    size_t fin = stop_match_final_len(&m, true);
    memcpy(out + o, m.text + m.emitted, fin - m.emitted);
    o += fin - m.emitted;
    REQUIRE(o < cap, "buffer");
    out[o] = '\0';
    int hit = m.hit;
    char *t = stop_match_take(&m, NULL);
    strcpy(text, t);
    free(t);
    stop_match_free(&m);
    return hit;
}

int main(void)
{
    const char *stops[] = {"\n\n", "</think>"};
    char out[256], text[256];

    const char *a[] = {"Hello", " world", ".\n", "\nNext"};
    CHECK(feed(stops, 2, a, 4, out, sizeof out, text) == 0, "delimiter split across pieces");
    CHECK(!strcmp(text, "Hello world."), "text cut at the stop: '%s'", text);
    CHECK(!strcmp(out, "Hello world."), "streamed text excludes the stop: '%s'", out);

    const char *b[] = {"So x = 2.</th", "ink>\n\nmore"};
    CHECK(feed(stops, 2, b, 2, out, sizeof out, text) == 1, "</think> found across pieces");
    CHECK(!strcmp(text, "So x = 2."), "text before </think>: '%s'", text);
    CHECK(!strcmp(out, "So x = 2."), "streamed: '%s'", out);

    const char *c[] = {"a</t", "able>\nb", "c"};
    CHECK(feed(stops, 2, c, 3, out, sizeof out, text) == -1, "no stop");
    CHECK(!strcmp(text, "a</table>\nbc"), "all text kept: '%s'", text);
    CHECK(!strcmp(out, "a</table>\nbc"), "held-back bytes released: '%s'", out);

    const char *d[] = {"x\n\n</think>"};
    CHECK(feed(stops, 2, d, 1, out, sizeof out, text) == 0, "earliest stop wins");
    CHECK(!strcmp(text, "x"), "text '%s'", text);

    const char *e[] = {"\n\nabc"};
    CHECK(feed(stops, 2, e, 1, out, sizeof out, text) == 0, "stop at the very start");
    CHECK(!strcmp(text, ""), "empty text");

    /* Held back: a lone trailing "\n" is not final until the next piece. */
    stop_match m;
    stop_match_init(&m, stops, 2);
    glimp_status st = stop_match_push(&m, "ab\n", 3, NULL);
    REQUIRE(st == GLIMP_OK, "push");
    CHECK(stop_match_final_len(&m, false) == 2, "'\\n' held back");
    st = stop_match_push(&m, "<", 1, NULL);
    REQUIRE(st == GLIMP_OK, "push");
    CHECK(stop_match_final_len(&m, false) == 3, "'<' held back, '\\n' released");
    CHECK(stop_match_final_len(&m, true) == 4, "everything final at the end");
    stop_match_free(&m);
    return test_finish();
}
