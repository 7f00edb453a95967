/* test_serve_http.c - glimp serve's HTTP layer under abuse, over real
 * sockets on 127.0.0.1, with the demo SLM served in-process:
 *  - a flood of 1,100 idle or half-sent connections is held to the
 *    connection cap, and a normal request still gets its answer;
 *  - a connection whose request does not arrive within the read timeout is
 *    dropped;
 *  - a declared body over the limit is answered 413 before it is sent;
 *  - with an API key, every endpoint but /health answers 401 (with an error
 *    object) unless "Authorization: Bearer KEY" is right;
 *  - a client that half-closes after its request still gets the answer,
 *    whole or streamed;
 *  - headers too large for the HTTP layer (431) are counted in /metrics.
 * Prints the figures it measures (connections held, time to first byte).
 */
#include "test_loopback.h"
#include "test_util.h"

#include "glimp.h"
#include "serve/serve_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOD 1100

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        s += k;
        n -= (size_t)k;
    }
    return true;
}

/* Reads until the peer closes or timeout_s passes; returns the bytes read
 * (NUL-terminated in buf). *first_byte_s gets the delay to the first byte. */
static size_t read_all(int fd, char *buf, size_t cap, double timeout_s, double *first_byte_s)
{
    size_t n = 0;
    double t0 = now_s();
    while (n + 1 < cap) {
        int left = (int)((t0 + timeout_s - now_s()) * 1000);
        if (left <= 0) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0) break;
        ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k <= 0) break;
        if (n == 0 && first_byte_s) *first_byte_s = now_s() - t0;
        n += (size_t)k;
    }
    buf[n] = '\0';
    return n;
}

static int status_of(const char *resp)
{
    int code = 0;
    return sscanf(resp, "HTTP/1.%*d %d", &code) == 1 ? code : 0;
}

/* One request on a new connection ("Connection: close"); the status code,
 * the answer in buf. */
static int request(int port, const char *method, const char *path, const char *headers,
                   const char *body, char *buf, size_t cap)
{
    int fd = loopback_connect(port);
    if (fd < 0) return -1;
    char head[1024];
    snprintf(head, sizeof head,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: "
             "%zu\r\n\r\n",
             method, path, headers ? headers : "", body ? strlen(body) : 0);
    bool ok = send_all(fd, head, strlen(head)) && (!body || send_all(fd, body, strlen(body)));
    size_t n = ok ? read_all(fd, buf, cap, 30.0, NULL) : 0;
    close(fd);
    return n ? status_of(buf) : -1;
}

/* Whether the server has closed this connection (end of file or reset). */
static bool closed_by_server(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return false;
    char c;
    ssize_t k = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* How many of these client sockets the server still keeps open. */
static int count_held(const int *fds, int n)
{
    int held = 0;
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0 && !closed_by_server(fds[i])) held++;
    return held;
}

static glimp_server *start(const char *model, glimp_serve_params *p)
{
    p->host = "127.0.0.1";
    p->port = 0;
    p->model_path = model;
    p->n_threads = 1;
    glimp_error err = {0};
    glimp_server *s = glimp_server_start(p, &err);
    REQUIRE(s, "server start: %s", err.msg);
    return s;
}

static const char *completion =
    "{\"prompt\":\"Owen has 6 bags\",\"max_tokens\":8,\"temperature\":0}";

static void test_flood(const char *model)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    rlim_t want = FLOOD + 512;
    if (r.rlim_cur < want && (r.rlim_max == RLIM_INFINITY || r.rlim_max >= want)) {
        r.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur < want) {
        printf("flood: skipped (file descriptor limit %llu)\n", (unsigned long long)r.rlim_cur);
        return;
    }
    glimp_serve_params p = glimp_serve_default_params();
    glimp_server *s = start(model, &p);
    int port = glimp_server_port(s), cap = p.parallel + p.queue + 64;
    static int fds[FLOOD];
    int opened = 0;
    for (int i = 0; i < FLOOD; i++) {
        fds[i] = loopback_connect(port);
        if (fds[i] < 0) continue;
        opened++;
        if (i % 2) { /* half-sent headers */
            static const char part[] = "POST /v1/completions HTTP/1.1\r\nHost: x\r\n";
            send(fds[i], part, sizeof part - 1, MSG_NOSIGNAL);
        }
    }
    /* The burst is over; the attacker now only holds its connections. Give
     * the server time to displace the excess (a loaded machine runs the
     * connection threads late), then a normal client must get through. */
    int held = count_held(fds, FLOOD);
    for (double t = now_s(); held > cap && now_s() - t < 20.0; held = count_held(fds, FLOOD)) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK(held <= cap, "%d idle connections held after the burst, the cap is %d", held, cap);
    static char buf[65536];
    double t0 = now_s(), ttfb = -1;
    int fd = loopback_connect(port);
    REQUIRE(fd >= 0, "a normal client cannot connect during the flood");
    char req[512];
    snprintf(req, sizeof req,
             "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
             "%zu\r\n\r\n%s",
             strlen(completion), completion);
    CHECK(send_all(fd, req, strlen(req)), "send during the flood");
    read_all(fd, buf, sizeof buf, 30.0, &ttfb);
    close(fd);
    CHECK(status_of(buf) == 200, "a normal request during the flood: %.200s", buf);
    CHECK(strstr(buf, "\"choices\""), "answer during the flood: %.200s", buf);
    held = count_held(fds, FLOOD);
    CHECK(held <= cap, "%d idle connections held, the cap is %d", held, cap);
    printf("flood: %d idle/half-sent connections opened, %d still held (cap %d); a normal "
           "request answered 200, first byte after %.1f ms (%.1f ms with connect)\n",
           opened, held, cap, ttfb * 1000, (now_s() - t0) * 1000);
    for (int i = 0; i < FLOOD; i++)
        if (fds[i] >= 0) close(fds[i]);
    glimp_server_stop(s);
}

static void test_read_timeout(const char *model)
{
    glimp_serve_params p = glimp_serve_default_params();
    p.read_timeout_s = 1.0;
    glimp_server *s = start(model, &p);
    int port = glimp_server_port(s);
    int idle = loopback_connect(port), slow = loopback_connect(port);
    REQUIRE(idle >= 0 && slow >= 0, "connect");
    /* a byte every 0.2 s keeps MHD's inactivity timer happy, not the deadline */
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    double t0 = now_s();
    for (size_t i = 0; i < sizeof req - 1 && now_s() - t0 < 2.5; i++) {
        send(slow, req + i, 1, MSG_NOSIGNAL);
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char buf[4096];
    CHECK(request(port, "GET", "/health", NULL, NULL, buf, sizeof buf) == 200, "health: %s", buf);
    double t1 = now_s();
    while (now_s() - t1 < 2.0 && !(closed_by_server(idle) && closed_by_server(slow))) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK(closed_by_server(idle), "an idle connection outlived the read timeout");
    CHECK(closed_by_server(slow), "a trickled request outlived the read timeout");
    close(idle);
    close(slow);
    glimp_server_stop(s);
}

static void test_early_413(const char *model)
{
    glimp_serve_params p = glimp_serve_default_params();
    glimp_server *s = start(model, &p);
    int fd = loopback_connect(glimp_server_port(s));
    REQUIRE(fd >= 0, "connect");
    static const char head[] = "POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 1000000000\r\n\r\n{\"prompt\":";
    send_all(fd, head, sizeof head - 1);
    char buf[4096];
    double ttfb = -1;
    read_all(fd, buf, sizeof buf, 5.0, &ttfb);
    CHECK(status_of(buf) == 413, "a 1 GB Content-Length must be answered 413 at once: %.200s",
          buf);
    CHECK(strstr(buf, "\"request_too_large\""), "413 error object: %.300s", buf);
    printf("413 for a declared 1 GB body after %.1f ms, without reading it\n", ttfb * 1000);
    close(fd);
    glimp_server_stop(s);
}

static void test_api_key(const char *model)
{
    CHECK(auth_bearer_ok("Bearer sekret-key", "sekret-key"), "right key");
    CHECK(auth_bearer_ok("bearer sekret-key", "sekret-key"), "the scheme is case-insensitive");
    CHECK(!auth_bearer_ok("Bearer sekret-ke", "sekret-key"), "a prefix of the key");
    CHECK(!auth_bearer_ok("Bearer sekret-keyX", "sekret-key"), "the key and more");
    CHECK(!auth_bearer_ok("Basic sekret-key", "sekret-key"), "another scheme");
    CHECK(!auth_bearer_ok(NULL, "sekret-key"), "no header");
    glimp_serve_params p = glimp_serve_default_params();
    p.api_key = "sekret-key";
    glimp_server *s = start(model, &p);
    int port = glimp_server_port(s);
    static char buf[65536];
    const char *paths[] = {"/v1/models", "/metrics", "/nope"};
    for (int i = 0; i < 3; i++) {
        CHECK(request(port, "GET", paths[i], NULL, NULL, buf, sizeof buf) == 401,
              "%s without a key: %.200s", paths[i], buf);
        CHECK(strstr(buf, "\"code\":\"invalid_api_key\"") && strstr(buf, "WWW-Authenticate"),
              "401 answer: %.400s", buf);
    }
    CHECK(request(port, "POST", "/v1/completions", "Authorization: Bearer wrong\r\n", completion,
                  buf, sizeof buf) == 401,
          "wrong key: %.200s", buf);
    CHECK(request(port, "POST", "/v1/chat/completions", NULL,
                  "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", buf,
                  sizeof buf) == 401,
          "chat without a key: %.200s", buf);
    CHECK(request(port, "GET", "/health", NULL, NULL, buf, sizeof buf) == 200,
          "/health needs no key: %.200s", buf);
    CHECK(request(port, "POST", "/v1/completions", "Authorization: Bearer sekret-key\r\n",
                  completion, buf, sizeof buf) == 200,
          "right key: %.200s", buf);
    CHECK(request(port, "GET", "/metrics", "Authorization: Bearer sekret-key\r\n", NULL, buf,
                  sizeof buf) == 200 &&
              strstr(buf, "endpoint=\"/v1/completions\",status=\"401\"} 1") &&
              strstr(buf, "endpoint=\"/v1/models\",status=\"401\"} 1"),
          "401s counted: %.2000s", buf);
    glimp_server_stop(s);
}

/* Sends a request, shuts down the sending side, reads the answer. */
static size_t half_closed_request(int port, const char *body, char *buf, size_t cap)
{
    int fd = loopback_connect(port);
    if (fd < 0) return 0;
    char head[512];
    snprintf(head, sizeof head,
             "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    size_t n = 0;
    if (send_all(fd, head, strlen(head)) && send_all(fd, body, strlen(body)) &&
        shutdown(fd, SHUT_WR) == 0)
        n = read_all(fd, buf, cap, 30.0, NULL);
    close(fd);
    return n;
}

static void test_half_close(const char *model)
{
    glimp_serve_params p = glimp_serve_default_params();
    glimp_server *s = start(model, &p);
    int port = glimp_server_port(s);
    static char buf[65536];
    half_closed_request(port, completion, buf, sizeof buf);
    CHECK(status_of(buf) == 200 && strstr(buf, "\"choices\""),
          "a half-closed client gets its whole answer: %.300s", buf);
    half_closed_request(port,
                        "{\"prompt\":\"Owen has 6 bags\",\"max_tokens\":8,\"temperature\":0,"
                        "\"stream\":true}",
                        buf, sizeof buf);
    CHECK(status_of(buf) == 200 && strstr(buf, "data: [DONE]"),
          "a half-closed client gets its whole stream: %.600s", buf);
    CHECK(request(port, "GET", "/metrics", NULL, NULL, buf, sizeof buf) == 200 &&
              !strstr(buf, "status=\"499\"} 1"),
          "no 499 for half-closed clients: %.2000s", buf);
    glimp_server_stop(s);
}

static void test_431_counted(const char *model)
{
    glimp_serve_params p = glimp_serve_default_params();
    glimp_server *s = start(model, &p);
    int port = glimp_server_port(s);
    static char big[70000], buf[65536];
    int n = snprintf(big, sizeof big, "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'a', 66000);
    memcpy(big + n + 66000, "\r\n\r\n", 5);
    int fd = loopback_connect(port);
    REQUIRE(fd >= 0, "connect");
    send_all(fd, big, strlen(big));
    read_all(fd, buf, sizeof buf, 10.0, NULL);
    close(fd);
    CHECK(status_of(buf) == 431, "66 kB of headers: %.200s", buf);
    CHECK(request(port, "GET", "/metrics", NULL, NULL, buf, sizeof buf) == 200 &&
              strstr(buf, "endpoint=\"/v1/models\",status=\"431\"} 1"),
          "the HTTP layer's 431 is counted: %.3000s", buf);
    glimp_server_stop(s);
}

int main(void)
{
    char model[4096];
    const char *src = getenv("GLIMP_SRC");
    snprintf(model, sizeof model, "%s/models/demo/slm.gguf", src ? src : "..");
    struct stat st;
    if (stat(model, &st) != 0) test_skip("models/demo/slm.gguf not found (set GLIMP_SRC)");
    test_early_413(model);
    test_api_key(model);
    test_half_close(model);
    test_431_counted(model);
    test_read_timeout(model);
    test_flood(model);
    return test_finish();
}
