/* serve_api.c - the OpenAI request and response shapes of glimp serve:
 * validation of /v1/completions and /v1/chat/completions bodies (every
 * field's type and range, naming the bad parameter; no NUL character in
 * the text fields, which would cut the text), error objects, and the
 * common fields of completion objects and SSE events.
 *
 * Failure: a request that does not validate yields false + an api_error
 * (400 invalid_request_error with `param`, 404 model_not_found); nothing
 * here can crash on hostile JSON (types are checked before use).
 */
#include "serve/serve_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *api_error_json(const char *message, const char *type, const char *param, const char *code)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type);
    if (param) cJSON_AddStringToObject(e, "param", param);
    else cJSON_AddNullToObject(e, "param");
    if (code) cJSON_AddStringToObject(e, "code", code);
    else cJSON_AddNullToObject(e, "code");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static bool bad(api_error *e, const char *param, const char *fmt, const char *detail)
{
    e->status = 400;
    e->type = "invalid_request_error";
    e->param = param;
    snprintf(e->message, sizeof e->message, fmt, detail ? detail : "");
    return false;
}

/* Optional number in [lo, hi]; absent/null keeps *out. */
static bool opt_number(const cJSON *body, const char *name, double lo, double hi, double *out,
                       api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        bad(e, name, "%s", NULL);
        snprintf(e->message, sizeof e->message, "'%s' must be a number in [%g, %g]", name, lo,
                 hi);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

/* Optional integer in [lo, hi]. */
static bool opt_int(const cJSON *body, const char *name, double lo, double hi, double *out,
                    api_error *e)
{
    double v = *out;
    if (!opt_number(body, name, lo, hi, &v, e)) return false;
    if (v != floor(v)) {
        bad(e, name, "'%s' must be an integer", name);
        return false;
    }
    *out = v;
    return true;
}

static bool opt_bool(const cJSON *body, const char *name, bool *out, api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsBool(v)) return bad(e, name, "'%s' must be a boolean", name);
    *out = cJSON_IsTrue(v);
    return true;
}

static bool parse_stop(const cJSON *body, api_request *r, api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "stop");
    if (!v || cJSON_IsNull(v)) return true;
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0]) return bad(e, "stop", "'stop' strings must not be empty%s", NULL);
        r->stop[r->n_stop++] = v->valuestring;
        return true;
    }
    if (!cJSON_IsArray(v))
        return bad(e, "stop", "'stop' must be a string or an array of strings%s", NULL);
    int n = cJSON_GetArraySize(v);
    if (n > (int)(sizeof r->stop / sizeof *r->stop))
        return bad(e, "stop", "'stop' has too many strings (at most 16)%s", NULL);
    for (const cJSON *it = v->child; it; it = it->next) {
        if (!cJSON_IsString(it) || !it->valuestring[0])
            return bad(e, "stop", "'stop' must hold non-empty strings%s", NULL);
        r->stop[r->n_stop++] = it->valuestring;
    }
    return true;
}

static bool parse_messages(const cJSON *body, api_request *r, api_error *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1)
        return bad(e, "messages", "'messages' must be a non-empty array%s", NULL);
    int n = cJSON_GetArraySize(v);
    r->msgs = calloc((size_t)n, sizeof *r->msgs);
    if (!r->msgs) {
        e->status = 500;
        e->type = "server_error";
        e->param = NULL;
        snprintf(e->message, sizeof e->message, "out of memory");
        return false;
    }
    for (const cJSON *it = v->child; it; it = it->next) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(it, "content");
        if (!cJSON_IsObject(it) || !cJSON_IsString(role))
            return bad(e, "messages", "each message needs a string 'role'%s", NULL);
        if (strcmp(role->valuestring, "system") && strcmp(role->valuestring, "user") &&
            strcmp(role->valuestring, "assistant") && strcmp(role->valuestring, "developer"))
            return bad(e, "messages", "unknown message role '%.40s'", role->valuestring);
        if (!cJSON_IsString(content))
            return bad(e, "messages", "message 'content' must be a string%s", NULL);
        r->msgs[r->n_msgs].role = strcmp(role->valuestring, "developer") ? role->valuestring
                                                                         : "system";
        r->msgs[r->n_msgs].content = content->valuestring;
        r->n_msgs++;
    }
    return true;
}

/* The fields whose strings the server uses as text. */
static const char *const text_fields[] = {"model", "prompt", "messages", "stop"};

static const char *text_field(const char *key, size_t n)
{
    for (size_t k = 0; k < sizeof text_fields / sizeof *text_fields; k++)
        if (strlen(text_fields[k]) == n && !memcmp(text_fields[k], key, n)) return text_fields[k];
    return NULL;
}

/* The text field (top-level key of the body) one of whose strings holds a
 * NUL character, escaped (\u0000) or raw; NULL if none. The JSON text is
 * scanned because cJSON keeps the NUL inside the decoded string, where
 * every C string function would silently stop at it. json is valid JSON. */
static const char *field_with_nul(const char *json, size_t n)
{
    int depth = 0;
    const char *field = NULL; /* the text field whose value is being read */
    for (size_t i = 0; i < n; i++) {
        if (json[i] == '{' || json[i] == '[') depth++;
        if (json[i] == '}' || json[i] == ']') depth--;
        if (json[i] != '"') continue;
        size_t start = ++i;
        bool nul = false;
        for (; i < n && json[i] != '"'; i++) {
            if (json[i] == '\0') nul = true;
            if (json[i] != '\\') continue;
            if (n - i > 5 && !memcmp(json + i + 1, "u0000", 5)) nul = true;
            i++; /* the escaped character */
        }
        size_t after = i + 1;
        while (after < n && (json[after] == ' ' || json[after] == '\t' || json[after] == '\r' ||
                             json[after] == '\n'))
            after++;
        bool is_key = after < n && json[after] == ':';
        if (is_key && depth == 1) field = text_field(json + start, i - start);
        else if (!is_key && nul && field) return field;
    }
    return NULL;
}

bool api_parse_request(const serve_server *s, serve_endpoint ep, cJSON *body, const char *json,
                       size_t json_len, api_request *r, api_error *e)
{
    memset(r, 0, sizeof *r);
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(body)) return bad(e, NULL, "the request body must be a JSON object%s", NULL);
    const char *nul_field = field_with_nul(json, json_len);
    if (nul_field)
        return bad(e, nul_field, "'%s' must not contain NUL characters (\\u0000)", nul_field);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model))
        return bad(e, "model", "'model' must be a string%s", NULL);
    if (cJSON_IsString(model) && strcmp(model->valuestring, s->model_name)) {
        e->status = 404;
        e->type = "invalid_request_error";
        e->param = "model";
        snprintf(e->message, sizeof e->message, "The model '%.100s' does not exist (this server "
                 "serves '%.100s')", model->valuestring, s->model_name);
        return false;
    }
    if (s->routed && ep == EP_COMPLETIONS) {
        e->status = 404;
        e->type = "invalid_request_error";
        e->param = NULL;
        snprintf(e->message, sizeof e->message,
                 "the routed model '%s' is served on /v1/chat/completions only", s->model_name);
        return false;
    }
    double d;
    r->max_tokens = ep == EP_CHAT ? s->p.max_tokens : 16;
    if (s->routed) r->max_tokens = s->p.router.final_max_tokens;
    d = r->max_tokens;
    if (!opt_int(body, "max_tokens", 1, s->p.max_tokens, &d, e)) return false;
    if (ep == EP_CHAT && !opt_int(body, "max_completion_tokens", 1, s->p.max_tokens, &d, e))
        return false;
    r->max_tokens = (int)d;
    d = s->routed ? s->p.router.temperature : 1.0;
    if (!opt_number(body, "temperature", 0, 2, &d, e)) return false;
    r->temperature = (float)d;
    d = s->routed ? s->p.router.top_p : 1.0;
    if (!opt_number(body, "top_p", 1e-6, 1, &d, e)) return false;
    r->top_p = (float)d;
    d = s->routed ? (double)(s->p.router.seed & 0x7FFFFFFF) : 0.0;
    if (!opt_int(body, "seed", 0, 9007199254740991.0, &d, e)) return false;
    r->seed = (uint64_t)d;
    d = 1;
    if (!opt_int(body, "n", 1, 1, &d, e)) return false;
    if (!opt_bool(body, "stream", &r->stream, e)) return false;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(body, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) return bad(e, "stream_options", "'stream_options' must be an object%s", NULL);
        if (!opt_bool(so, "include_usage", &r->include_usage, e)) return false;
        if (!opt_bool(so, "continuous_usage_stats", &r->continuous_usage, e)) return false;
    }
    if (!parse_stop(body, r, e)) return false;
    if (ep == EP_COMPLETIONS) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "prompt");
        if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && cJSON_IsString(p->child)) p = p->child;
        if (!cJSON_IsString(p))
            return bad(e, "prompt", "'prompt' must be a string (token arrays and batches are "
                                    "not supported)%s", NULL);
        if (!p->valuestring[0]) return bad(e, "prompt", "'prompt' must not be empty%s", NULL);
        r->prompt = p->valuestring;
        d = 0;
        const cJSON *lp = cJSON_GetObjectItemCaseSensitive(body, "logprobs");
        if (cJSON_IsBool(lp)) return bad(e, "logprobs", "'logprobs' must be an integer on "
                                                        "/v1/completions%s", NULL);
        if (!opt_int(body, "logprobs", 0, GLIMP_PROBE_MAX_K, &d, e)) return false;
        r->logprobs = (int)d;
        bool echo = false;
        if (!opt_bool(body, "echo", &echo, e)) return false;
        if (echo) return bad(e, "echo", "'echo' is not supported%s", NULL);
        return true;
    }
    bool lp = false;
    if (!opt_bool(body, "logprobs", &lp, e)) return false;
    if (lp) return bad(e, "logprobs", "logprobs are served on /v1/completions only%s", NULL);
    return parse_messages(body, r, e);
}

void api_request_free(api_request *r)
{
    free(r->msgs);
    r->msgs = NULL;
}

cJSON *api_object(const serve_server *s, const char *object, unsigned long long id)
{
    char ids[48];
    snprintf(ids, sizeof ids, "%s-%llu", strcmp(object, "text_completion") ? "chatcmpl" : "cmpl",
             id);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", ids);
    cJSON_AddStringToObject(j, "object", object);
    cJSON_AddNumberToObject(j, "created", (double)time(NULL));
    cJSON_AddStringToObject(j, "model", s->model_name);
    return j;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp, min;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) len = 2, min = 0x80, cp = s[0] & 0x1Fu;
    else if ((s[0] & 0xF0) == 0xE0) len = 3, min = 0x800, cp = s[0] & 0x0Fu;
    else if ((s[0] & 0xF8) == 0xF0) len = 4, min = 0x10000, cp = s[0] & 0x07u;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

char *api_utf8_clean(const char *s, size_t n)
{
    char *out = malloc(3 * n + 1); /* a bad byte becomes U+FFFD (3 bytes) */
    size_t o = 0;
    if (!out) return NULL;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_valid_len((const unsigned char *)s + i, n - i);
        if (l && !(l == 1 && s[i] == '\0')) {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

cJSON *api_string(const char *s, size_t n)
{
    char *c = api_utf8_clean(s, n);
    cJSON *j = c ? cJSON_CreateString(c) : NULL;
    free(c);
    return j;
}

bool api_send_event(serve_job *j, cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (!s) {
        job_cancel(j);
        return false;
    }
    size_t n = strlen(s);
    char *ev = malloc(n + 9);
    bool ok = ev != NULL;
    if (ok) {
        memcpy(ev, "data: ", 6);
        memcpy(ev + 6, s, n);
        memcpy(ev + 6 + n, "\n\n", 3);
        ok = job_write(j, ev, n + 8);
    } else {
        job_cancel(j);
    }
    free(ev);
    free(s);
    return ok;
}

void api_fail(serve_job *j, int status, const char *type, const char *code, const char *msg)
{
    char *e = api_error_json(msg, type, NULL, code);
    if (e && j->stream) { /* the 200 and its headers are out: an error event */
        size_t n = strlen(e);
        char *ev = malloc(n + 9);
        if (ev) {
            snprintf(ev, n + 9, "data: %s\n\n", e);
            if (job_write(j, ev, n + 8)) api_send_done(j);
        }
        free(ev);
    } else if (e) {
        job_write(j, e, strlen(e));
    }
    free(e);
    job_finish(j, status);
}

bool api_send_done(serve_job *j)
{
    static const char done[] = "data: [DONE]\n\n";
    return job_write(j, done, sizeof done - 1);
}
