/* test_openai_faults.c - the openai backend against a tiny raw-socket HTTP
 * server run by this test on 127.0.0.1 (not a mock of our code: it speaks
 * bytes on a socket like any server): both fixture streams generate the
 * right text, stop and first-token distribution; the first-token hook
 * aborts; garbage, error statuses, a server killed mid-stream, a silent
 * server and a closed port all give clear errors (naming the URL) within
 * the configured timeouts and retries, never a hang.
 */
/* test-links: backend */
#include "test_loopback.h"
#include "test_util.h"

#include "glimp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum mode {
    FAKE_FIXTURE,    /* 200 + the fixture as an SSE body */
    FAKE_GARBAGE,    /* 200 + bytes that are neither JSON nor SSE */
    FAKE_500,        /* 500 + an error page, every time */
    FAKE_404_JSON,   /* 404 + an OpenAI error object */
    FAKE_CUT,        /* 200 + the first two events, then the socket closes */
    FAKE_SILENT,     /* reads the request, answers nothing */
} mode;

typedef struct fake {
    int fd, port;
    mode m;
    const char *body;
    int connections;
    atomic_int stop; /* set by the test thread, read by the server thread */
    pthread_t th;
} fake;

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* Reads the request head and a Content-Length body. */
static void read_request(int fd)
{
    char buf[65536];
    size_t len = 0;
    long want = -1;
    for (;;) {
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0) return;
        len += (size_t)r;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && want < 0) {
            char *cl = strcasestr(buf, "Content-Length:");
            want = (long)(end + 4 - buf) + (cl ? strtol(cl + 15, NULL, 10) : 0);
        }
        if (want >= 0 && (long)len >= want) return;
        if (len + 1 >= sizeof buf) return;
    }
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    while (!f->stop) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) continue;
        if (f->stop) {
            close(c);
            break;
        }
        f->connections++;
        read_request(c);
        const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
        switch (f->m) {
        case FAKE_FIXTURE:
            write_all(c, ok, strlen(ok));
            write_all(c, f->body, strlen(f->body));
            break;
        case FAKE_GARBAGE:
            write_all(c, ok, strlen(ok));
        {
            static const char junk[] = "<html>\x01\x02 not a completion";
            write_all(c, junk, sizeof junk - 1);
        }
            break;
        case FAKE_500: {
            const char *r = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 12\r\n"
                            "Connection: close\r\n\r\nengine crash";
            write_all(c, r, strlen(r));
            break;
        }
        case FAKE_404_JSON: {
            const char *b = "{\"error\":{\"message\":\"The model `nope` does not exist.\"}}";
            char r[512];
            snprintf(r, sizeof r, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", strlen(b), b);
            write_all(c, r, strlen(r));
            break;
        }
        case FAKE_CUT: {
            write_all(c, ok, strlen(ok));
            const char *p = f->body;
            for (int ev = 0; ev < 2 && p; ev++) {
                const char *e = strstr(p, "\n\n");
                p = e ? e + 2 : NULL;
            }
            write_all(c, f->body, p ? (size_t)(p - f->body) : strlen(f->body));
            break;
        }
        case FAKE_SILENT: {
            char b[16];
            while (!f->stop && recv(c, b, sizeof b, 0) > 0) {
            }
            break;
        }
        }
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

static void fake_start(fake *f, mode m, const char *body)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    f->body = body;
    f->fd = loopback_listen(&f->port);
    REQUIRE(f->fd >= 0, "listen on 127.0.0.1");
    REQUIRE(pthread_create(&f->th, NULL, fake_main, f) == 0, "thread");
}

static void fake_stop(fake *f)
{
    f->stop = 1;
    /* wake accept() / recv() */
    int s = loopback_connect(f->port);
    if (s >= 0) close(s);
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
}

static char *read_fixture(const char *name)
{
    const char *src = getenv("GLIMP_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", src ? src : "..", name);
    FILE *f = fopen(path, "rb");
    REQUIRE(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    REQUIRE(b && fread(b, 1, (size_t)n, f) == (size_t)n, "read");
    b[n] = '\0';
    fclose(f);
    return b;
}

static glimp_backend *open_at(int port, int timeout_ms, int retries, glimp_error *err)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    glimp_openai_params p = glimp_openai_default_params();
    p.base_url = url;
    p.model = "m";
    p.template_name = "raw";
    p.api_key_env = "GLIMP_TEST_NO_SUCH_KEY";
    p.timeout_ms = timeout_ms;
    p.connect_timeout_ms = 2000;
    p.max_retries = retries;
    p.retry_backoff_ms = 10;
    return glimp_backend_openai_create(&p, err);
}

typedef struct hook {
    bool allow;
    int calls;
    double h;
    char pieces[256];
} hook;

static bool on_first(void *user, const glimp_token_dist *d)
{
    hook *h = user;
    h->calls++;
    h->h = d->entropy_topk;
    return h->allow;
}

static bool on_piece(void *user, const char *p, size_t n)
{
    hook *h = user;
    strncat(h->pieces, p, n < sizeof h->pieces - strlen(h->pieces) - 1 ? n : 0);
    return true;
}

static glimp_status gen(glimp_backend *b, hook *h, glimp_gen_result *r, glimp_error *err)
{
    const char *stops[2] = {"\n\n", "</think>"};
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = 50;
    gp.stop = stops;
    gp.n_stop = 2;
    gp.probe_top = 3;
    gp.on_first = on_first;
    gp.on_piece = on_piece;
    gp.user = h;
    return glimp_backend_generate(b, "Q\n\n", &gp, r, err);
}

static void test_fixture_stream(const char *file)
{
    char *body = read_fixture(file);
    fake f;
    fake_start(&f, FAKE_FIXTURE, body);
    glimp_error err = {0};
    glimp_backend *b = open_at(f.port, 5000, 0, &err);
    REQUIRE(b, "%s", err.msg);
    hook h = {.allow = true};
    glimp_gen_result r;
    glimp_status st = gen(b, &h, &r, &err);
    CHECK(st == GLIMP_OK, "%s: %s", file, err.msg);
    if (st == GLIMP_OK) {
        CHECK(!strcmp(r.text, " First, add."), "%s: text '%s'", file, r.text);
        CHECK(!strcmp(h.pieces, " First, add."), "%s: streamed '%s'", file, h.pieces);
        CHECK(r.stop == GLIMP_STOP_STRING && r.stop_index == 0, "%s: stop %d", file, r.stop);
        CHECK(r.n_tokens == 4, "%s: %d tokens", file, r.n_tokens);
        CHECK(h.calls == 1 && r.first.n_top == 3 && !strcmp(r.first_text, " First"),
              "%s: first token", file);
        CHECK(isnan(r.first.entropy_exact), "%s: no exact entropy remotely", file);
        double lp[3] = {-0.2231, -1.8971, -2.4079}, z = 0, hh = 0;
        for (int i = 0; i < 3; i++) z += exp(lp[i]);
        for (int i = 0; i < 3; i++) hh -= exp(lp[i]) / z * log(exp(lp[i]) / z);
        CHECK(fabs(h.h - hh) < 1e-5, "%s: H_init %f vs %f", file, h.h, hh);
        CHECK(fabs(r.sum_logprob - (-0.2231 - 0.0513 - 0.6931 - 0.1054)) < 1e-6, "%s: logprob",
              file);
        /* vLLM streams usage in every chunk; llama.cpp only in the last one,
         * which never comes: the stream is closed at the stop string */
        int want = strstr(file, "vllm") ? 40 : 0;
        CHECK(r.prefill_tokens == want, "%s: prefill %d", file, r.prefill_tokens);
    }
    glimp_gen_result_clear(&r);
    /* the hook declines: nothing generated, GLIMP_OK, ABORTED */
    hook no = {.allow = false};
    st = gen(b, &no, &r, &err);
    CHECK(st == GLIMP_OK && r.stop == GLIMP_STOP_ABORTED && r.text && !r.text[0] &&
          r.first_id == -1 && no.calls == 1 && !no.pieces[0], "%s: abort (%s)", file, err.msg);
    glimp_gen_result_clear(&r);
    /* probe = a whole (non-streamed) answer: here the server sends SSE, which is not JSON */
    glimp_token_dist d;
    CHECK(glimp_backend_probe(b, "Q", 3, &d, NULL, &err) == GLIMP_ERR_JSON, "%s: probe of SSE",
          file);
    glimp_backend_free(b);
    fake_stop(&f);
    free(body);
}

static void expect_error(mode m, const char *body, int timeout_ms, int retries,
                         glimp_status want, const char *needle, int want_conns)
{
    fake f;
    fake_start(&f, m, body);
    glimp_error err = {0};
    glimp_backend *b = open_at(f.port, timeout_ms, retries, &err);
    REQUIRE(b, "%s", err.msg);
    hook h = {.allow = true};
    glimp_gen_result r;
    glimp_status st = gen(b, &h, &r, &err);
    char port[16];
    snprintf(port, sizeof port, ":%d", f.port);
    CHECK(st == want, "mode %d: status %d (%s)", (int)m, (int)st, err.msg);
    CHECK(strstr(err.msg, port) != NULL, "mode %d: the message names the server: %s", (int)m,
          err.msg);
    CHECK(!needle || strstr(err.msg, needle), "mode %d: '%s' in: %s", (int)m, needle, err.msg);
    CHECK(r.text == NULL, "no half result");
    glimp_backend_free(b);
    fake_stop(&f);
    if (want_conns >= 0)
        CHECK(f.connections == want_conns, "mode %d: %d connections, want %d", (int)m,
              f.connections, want_conns);
}

static void test_closed_port(void)
{
    fake f;
    fake_start(&f, FAKE_SILENT, NULL);
    int port = f.port;
    fake_stop(&f); /* the port is now closed */
    glimp_error err = {0};
    glimp_backend *b = open_at(port, 2000, 2, &err);
    REQUIRE(b, "%s", err.msg);
    glimp_token_dist d;
    glimp_status st = glimp_backend_probe(b, "Q", 3, &d, NULL, &err);
    CHECK(st == GLIMP_ERR_HTTP && strstr(err.msg, "cannot connect") &&
          strstr(err.msg, "after 3 attempts"), "closed port: %s", err.msg);
    glimp_backend_free(b);
}

int main(void)
{
    test_fixture_stream("vllm_completion_stream.sse");
    test_fixture_stream("llamacpp_completion_stream.sse");
    char *body = read_fixture("vllm_completion_stream.sse");
    expect_error(FAKE_GARBAGE, NULL, 5000, 0, GLIMP_ERR_HTTP, "ended the stream", 1);
    expect_error(FAKE_500, NULL, 5000, 2, GLIMP_ERR_HTTP, "engine crash", 3);
    expect_error(FAKE_404_JSON, NULL, 5000, 2, GLIMP_ERR_HTTP, "does not exist", 1);
    expect_error(FAKE_CUT, body, 5000, 2, GLIMP_ERR_HTTP, "before the completion finished", 1);
    expect_error(FAKE_SILENT, NULL, 300, 2, GLIMP_ERR_TIMEOUT, "did not answer in time", 1);
    test_closed_port();
    free(body);
    return test_finish();
}
