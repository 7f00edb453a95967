/* test_router_rsd.c - the rsd policy with a process reward model served
 * over HTTP, and speccot's choice among sampled drafts.
 *
 * The reward server is a raw-socket HTTP server run by this test on
 * 127.0.0.1 (it speaks bytes on a socket like vLLM would): it records each
 * request and answers vLLM's pooling shape, one [P(bad), P(good)] row per
 * step tag, rating a last step ending in "more." 0.1 and any other 0.9.
 * Checked: the request (POST /pooling, model, system/user/assistant
 * messages, steps joined by <extra_0>), the score (last number of the last
 * row, also of a flat row), rsd rewriting exactly the badly rated step,
 * the reward's name in the trace, and clear errors (naming the URL) for a
 * 500, a server error object, non-JSON, an answer without a score and a
 * closed port, also through the router. speccot: with an SLM that writes
 * "Then", "Next" or "So" alike and an LLM that prefers "Next", sixteen
 * sampled drafts keep "Next more." (the LLM's likeliest).
 */
#include "test_router_models.h"
#include "test_loopback.h"
#include "test_util.h"

#include "glimp.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

typedef enum mode { PRM_OK, PRM_FLAT, PRM_500, PRM_ERROR_OBJECT, PRM_GARBAGE, PRM_NO_SCORE } mode;

typedef struct fake {
    int fd, port;
    mode m;
    atomic_int stop;
    pthread_mutex_t lock; /* guards the fields below */
    char first_line[256];
    char body[8192];      /* the last request's body */
    int requests;
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

/* Reads one request; returns its body (in buf) or NULL. */
static char *read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    long want = -1;
    char *end = NULL;
    for (;;) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r <= 0) return NULL;
        len += (size_t)r;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            char *cl = strcasestr(buf, "Content-Length:");
            want = (long)(end + 4 - buf) + (cl ? strtol(cl + 15, NULL, 10) : 0);
        }
        if (want >= 0 && (long)len >= want) return end + 4;
        if (len + 1 >= cap) return NULL;
    }
}

static void respond(int c, const char *status, const char *body)
{
    char head[256];
    snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
    write_all(c, head, strlen(head));
    write_all(c, body, strlen(body));
}

/* vLLM's pooling answer: one [bad, good] row per step tag in the request. */
static void pooling_answer(const fake *f, const char *req, char *out, size_t cap)
{
    int tags = 0;
    for (const char *p = strstr(req, "<extra_0>"); p; p = strstr(p + 1, "<extra_0>")) tags++;
    double good = strstr(req, "more.<extra_0>\"}") ? 0.1 : 0.9;
    size_t n = (size_t)snprintf(out, cap, "{\"id\":\"pool-1\",\"object\":\"list\",\"created\":1,"
                                "\"model\":\"prm-test\",\"data\":[{\"index\":0,\"object\":"
                                "\"pooling\",\"data\":");
    if (f->m == PRM_FLAT) {
        n += (size_t)snprintf(out + n, cap - n, "[0.25]");
    } else {
        n += (size_t)snprintf(out + n, cap - n, "[");
        for (int i = 0; i < tags; i++)
            n += (size_t)snprintf(out + n, cap - n, "%s[%g,%g]", i ? "," : "",
                                  i + 1 < tags ? 0.5 : 1 - good, i + 1 < tags ? 0.5 : good);
        n += (size_t)snprintf(out + n, cap - n, "]");
    }
    snprintf(out + n, cap - n, "}],\"usage\":{\"prompt_tokens\":9,\"total_tokens\":9}}");
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    static char buf[65536];
    char answer[4096];
    while (!f->stop) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) continue;
        char *body = f->stop ? NULL : read_request(c, buf, sizeof buf);
        if (body) {
            pthread_mutex_lock(&f->lock);
            snprintf(f->first_line, sizeof f->first_line, "%.*s", (int)strcspn(buf, "\r"), buf);
            snprintf(f->body, sizeof f->body, "%s", body);
            f->requests++;
            pthread_mutex_unlock(&f->lock);
            switch (f->m) {
            case PRM_OK:
            case PRM_FLAT:
                pooling_answer(f, body, answer, sizeof answer);
                respond(c, "200 OK", answer);
                break;
            case PRM_500: respond(c, "500 Internal Server Error", "engine crash"); break;
            case PRM_ERROR_OBJECT:
                respond(c, "200 OK", "{\"error\":{\"message\":\"The model does not support "
                        "pooling\"}}");
                break;
            case PRM_GARBAGE: respond(c, "200 OK", "<html>not json"); break;
            case PRM_NO_SCORE: respond(c, "200 OK", "{\"data\":[{\"index\":0,\"data\":[]}]}"); break;
            }
        }
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

static void fake_start(fake *f, mode m)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    pthread_mutex_init(&f->lock, NULL);
    f->fd = loopback_listen(&f->port);
    REQUIRE(f->fd >= 0, "listen on 127.0.0.1");
    REQUIRE(pthread_create(&f->th, NULL, fake_main, f) == 0, "thread");
}

static void fake_stop(fake *f)
{
    f->stop = 1;
    int s = loopback_connect(f->port);
    if (s >= 0) close(s);
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
    pthread_mutex_destroy(&f->lock);
}

static glimp_reward *prm_at(int port, const char *suffix)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, suffix);
    glimp_openai_params p = glimp_openai_default_params();
    p.base_url = url;
    p.model = "prm-test";
    p.api_key_env = "GLIMP_TEST_NO_SUCH_KEY";
    p.timeout_ms = 5000;
    p.connect_timeout_ms = 2000;
    p.max_retries = 1;
    p.retry_backoff_ms = 10;
    glimp_error err = {0};
    glimp_reward *r = glimp_reward_prm_create(&p, &err);
    REQUIRE(r, "prm: %s", err.msg);
    return r;
}

static void test_prm_requests(void)
{
    fake f;
    fake_start(&f, PRM_OK);
    glimp_reward *r = prm_at(f.port, "/v1/");
    const char *steps[] = {"First step", "Then more."};
    double score = 0;
    int prefill = -1;
    glimp_error err = {0};
    glimp_status st = glimp_reward_score(r, "Q?", steps, 1, &score, &prefill, &err);
    CHECK(st == GLIMP_OK && fabs(score - 0.9) < 1e-12 && prefill == 0, "score %g (%s)", score,
          err.msg);
    pthread_mutex_lock(&f.lock);
    CHECK(!strcmp(f.first_line, "POST /pooling HTTP/1.1"), "request line '%s'", f.first_line);
    cJSON *j = cJSON_Parse(f.body);
    pthread_mutex_unlock(&f.lock);
    cJSON *msgs = cJSON_GetObjectItem(j, "messages");
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(j, "model"));
    const char *roles[3], *content[3];
    for (int i = 0; i < 3; i++) {
        cJSON *m = cJSON_GetArrayItem(msgs, i);
        roles[i] = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
        content[i] = cJSON_GetStringValue(cJSON_GetObjectItem(m, "content"));
    }
    CHECK(model && !strcmp(model, "prm-test") && cJSON_GetArraySize(msgs) == 3, "model, 3 messages");
    CHECK(roles[0] && !strcmp(roles[0], "system") && roles[1] && !strcmp(roles[1], "user") &&
              roles[2] && !strcmp(roles[2], "assistant"),
          "roles");
    CHECK(content[1] && !strcmp(content[1], "Q?") && content[2] &&
              !strcmp(content[2], "First step<extra_0>"),
          "question and tagged step: '%s'", content[2] ? content[2] : "(none)");
    cJSON_Delete(j);
    st = glimp_reward_score(r, "Q?", steps, 2, &score, NULL, &err);
    CHECK(st == GLIMP_OK && fabs(score - 0.1) < 1e-12, "last row's last number: %g", score);
    pthread_mutex_lock(&f.lock);
    CHECK(strstr(f.body, "First step<extra_0>Then more.<extra_0>\"") != NULL, "steps joined by tags");
    pthread_mutex_unlock(&f.lock);
    CHECK(strstr(glimp_reward_name(r), "prm:prm-test@http://127.0.0.1:") == glimp_reward_name(r),
          "name %s", glimp_reward_name(r));
    CHECK(glimp_reward_score(r, "Q?", steps, 0, &score, NULL, &err) == GLIMP_ERR_ARG,
          "no step to rate");
    glimp_reward_free(r);
    fake_stop(&f);

    fake_start(&f, PRM_FLAT);
    r = prm_at(f.port, "");
    st = glimp_reward_score(r, "Q?", steps, 1, &score, NULL, &err);
    CHECK(st == GLIMP_OK && score == 0.25, "a flat row: its last number %g", score);
    glimp_reward_free(r);
    fake_stop(&f);
}

static void test_prm_errors(void)
{
    struct {
        mode m;
        glimp_status want;
        const char *says;
    } cases[] = {
        {PRM_500, GLIMP_ERR_HTTP, "engine crash"},
        {PRM_ERROR_OBJECT, GLIMP_ERR_HTTP, "does not support pooling"},
        {PRM_GARBAGE, GLIMP_ERR_JSON, "non-JSON"},
        {PRM_NO_SCORE, GLIMP_ERR_JSON, "without a score"},
    };
    const char *steps[] = {"First step"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake f;
        fake_start(&f, cases[i].m);
        glimp_reward *r = prm_at(f.port, "");
        glimp_error err = {0};
        double score = 0;
        glimp_status st = glimp_reward_score(r, "Q?", steps, 1, &score, NULL, &err);
        CHECK(st == cases[i].want && strstr(err.msg, cases[i].says) &&
                  strstr(err.msg, "127.0.0.1"),
              "case %zu: %s", i, err.msg);
        glimp_reward_free(r);
        fake_stop(&f);
    }
    fake f;
    fake_start(&f, PRM_OK);
    int port = f.port;
    fake_stop(&f); /* the port is closed now */
    glimp_reward *r = prm_at(port, "");
    glimp_error err = {0};
    double score = 0;
    CHECK(glimp_reward_score(r, "Q?", steps, 1, &score, NULL, &err) == GLIMP_ERR_HTTP &&
              strstr(err.msg, "127.0.0.1"),
          "closed port: %s", err.msg);
    glimp_reward_free(r);
    glimp_openai_params p = glimp_openai_default_params();
    p.base_url = "http://127.0.0.1:1";
    CHECK(!glimp_reward_prm_create(&p, &err) && err.status == GLIMP_ERR_ARG, "no model name");
}

static int32_t one_token(glimp_tokenizer *tok, const char *text)
{
    int32_t ids[4];
    int n = glimp_tokenize(tok, text, strlen(text), false, true, ids, 4, NULL);
    REQUIRE(n == 1, "'%s' is one token (got %d)", text, n);
    return ids[0];
}

/* The router tests' script S ("First step" | {Then, Next, So} " more." |
 * "Done</think>"), with logit `next` for "Next" (20 for the others). */
static char *script_model(const char *vocab, const char *path, float next)
{
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(vocab, &err);
    REQUIRE(tok, "vocab: %s", err.msg);
    int32_t nl = one_token(tok, "\n"), nn = one_token(tok, "\n\n"),
            dot_nn = one_token(tok, ".\n\n"), first = one_token(tok, "First"),
            step = one_token(tok, " step"), then = one_token(tok, "Then"),
            nxt = one_token(tok, "Next"), so = one_token(tok, "So"), more = one_token(tok, " more"),
            done = one_token(tok, "Done"), end = one_token(tok, "</think>");
    glimp_tokenizer_free(tok);
    bigram_rule r[] = {
        {nl, 1, {first}, {20}},           {first, 1, {step}, {20}},
        {step, 1, {nn}, {20}},            {nn, 3, {then, nxt, so}, {20, next, 20}},
        {then, 1, {more}, {20}},          {nxt, 1, {more}, {20}},
        {so, 1, {more}, {20}},            {more, 1, {dot_nn}, {20}},
        {dot_nn, 1, {done}, {20}},        {done, 1, {end}, {20}},
        {end, 1, {nn}, {20}},
    };
    REQUIRE(bigram_model_write(path, vocab, r, (int)(sizeof r / sizeof r[0]), &err) == GLIMP_OK,
            "write %s: %s", path, err.msg);
    return strdup(path);
}

static glimp_backend *open_local(const char *path)
{
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.template_name = "qwen3";
    lp.n_threads = 1;
    glimp_backend *b = glimp_backend_local_create(&lp, &err);
    REQUIRE(b, "open %s: %s", path, err.msg);
    return b;
}

static glimp_router_params small_params(void)
{
    glimp_router_params p = glimp_router_default_params();
    p.temperature = 0.0f;
    p.final_max_tokens = 4;
    p.think_budget = 64;
    return p;
}

static void test_rsd_with_prm(glimp_backend *slm, glimp_backend *llm)
{
    fake f;
    fake_start(&f, PRM_OK);
    glimp_reward *prm = prm_at(f.port, "");
    glimp_router_params p = small_params();
    glimp_error err = {0};
    REQUIRE(glimp_router_parse_policy("rsd", &p, &err) == GLIMP_OK, "rsd");
    p.tau = 0.5;
    p.reward = prm;
    glimp_router *r = glimp_router_create(slm, llm, &p, &err);
    REQUIRE(r, "router: %s", err.msg);
    glimp_router_result *res = NULL;
    glimp_status st = glimp_router_run(r, "What is next?", NULL, &res, &err);
    REQUIRE(st == GLIMP_OK, "run: %s", err.msg);
    CHECK(res->n_steps == 3 && res->steps[0].model == GLIMP_ROLE_SLM &&
              res->steps[1].model == GLIMP_ROLE_LLM && res->steps[2].model == GLIMP_ROLE_SLM,
          "the step rated 0.1 < tau is the LLM's, the others the SLM's");
    CHECK(res->n_steps == 3 && fabs(res->steps[0].draft_score - 0.9) < 1e-12 &&
              fabs(res->steps[1].draft_score - 0.1) < 1e-12 && res->steps[1].draft_tokens == 3 &&
              res->steps[0].prefill_llm == 0,
          "scores and the discarded draft; a separate reward model costs the LLM nothing");
    pthread_mutex_lock(&f.lock);
    CHECK(f.requests == 3, "one reward request per step: %d", f.requests);
    pthread_mutex_unlock(&f.lock);
    char *json = glimp_router_result_json(res);
    cJSON *j = cJSON_Parse(json);
    const char *name = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "reward"));
    CHECK(name && !strncmp(name, "prm:prm-test@", 13), "trace names the reward model");
    cJSON_Delete(j);
    free(json);
    glimp_router_result_free(res);
    glimp_router_free(r);
    glimp_reward_free(prm);
    fake_stop(&f);

    fake_start(&f, PRM_500);
    prm = prm_at(f.port, "");
    p.reward = prm;
    r = glimp_router_create(slm, llm, &p, &err);
    REQUIRE(r, "router: %s", err.msg);
    st = glimp_router_run(r, "What is next?", NULL, &res, &err);
    CHECK(st == GLIMP_ERR_HTTP && !res && strstr(err.msg, "/pooling"),
          "a failing reward server fails the run: %s", err.msg);
    glimp_router_free(r);
    glimp_reward_free(prm);
    fake_stop(&f);
}

static void test_speccot_picks_llm_favourite(glimp_backend *slm, glimp_backend *llm)
{
    glimp_router_params p = small_params();
    glimp_error err = {0};
    REQUIRE(glimp_router_parse_policy("speccot:16", &p, &err) == GLIMP_OK, "speccot:16");
    p.temperature = 1.0f;
    p.top_p = 1.0f;
    p.tau = 0.5;
    p.seed = 7;
    glimp_router *r = glimp_router_create(slm, llm, &p, &err);
    REQUIRE(r, "router: %s", err.msg);
    glimp_router_result *res = NULL;
    REQUIRE(glimp_router_run(r, "What is next?", NULL, &res, &err) == GLIMP_OK, "run: %s",
            err.msg);
    REQUIRE(res->n_steps == 3, "3 steps, got %d", res->n_steps);
    CHECK(!strcmp(res->steps[1].text, "Next more.") && res->steps[1].model == GLIMP_ROLE_SLM,
          "the LLM's likeliest draft is kept: '%s'", res->steps[1].text);
    CHECK(fabs(res->steps[1].draft_score - cbrt(exp(4.0) / (exp(4.0) + 2))) < 1e-3 && res->steps[1].draft_tokens == 15 * 3,
          "score %g, 15 drafts discarded (%d tokens)", res->steps[1].draft_score,
          res->steps[1].draft_tokens);
    CHECK(res->steps_by[GLIMP_ROLE_LLM] == 0, "no LLM step");
    glimp_router_result_free(res);
    glimp_router_free(r);
}

int main(void)
{
    test_prm_requests();
    test_prm_errors();
    const char *vocab = test_shared_or_skip("tokenizer/ggml-vocab-qwen3.gguf");
    const char *dir = getenv("GLIMP_BUILD") ? getenv("GLIMP_BUILD") : ".";
    char slm_path[4096], llm_path[4096];
    snprintf(slm_path, sizeof slm_path, "%s/test_router_rsd_slm.gguf", dir);
    snprintf(llm_path, sizeof llm_path, "%s/test_router_rsd_llm.gguf", dir);
    char *s = script_model(vocab, slm_path, 20), *l = script_model(vocab, llm_path, 24);
    glimp_backend *slm = open_local(s), *llm = open_local(l);
    test_rsd_with_prm(slm, llm);
    test_speccot_picks_llm_favourite(slm, llm);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
    remove(s);
    remove(l);
    free(s);
    free(l);
    return test_finish();
}
