/* eval_fingerprint.c - what a routed eval run's results depend on besides
 * the data, as the JSON object glimp_eval_params.config takes (compared by
 * eval_runinfo.c on resume).
 *
 * A GGUF file is known by its size and an FNV-1a hash of its first 8 MiB
 * (header, metadata with the tokenizer and chat template, tensor table) and
 * its last 1 MiB (the end of the weights): a different quantisation, a
 * fine-tune or an edited template changes them, while reading 9 MiB costs
 * milliseconds where hashing a 20 GB file would cost minutes. Path and
 * mtime are left out on purpose: moving or copying a model changes neither
 * its results nor, here, its identity. A server is known by URL and model
 * name only (its weights cannot be seen from here). rsd's reward model is
 * known the same way, under "reward", present only when one is given (the
 * default judge is the LLM, already known).
 * Failure: GLIMP_ERR_IO when a model file cannot be read.
 */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { HEAD_BYTES = 8 << 20, TAIL_BYTES = 1 << 20 };

/* Hashes n bytes of f from offset `at`. */
static bool hash_range(FILE *f, off_t at, off_t n, uint64_t *h)
{
    if (fseeko(f, at, SEEK_SET) != 0) return false;
    char buf[65536];
    while (n > 0) {
        size_t want = n < (off_t)sizeof buf ? (size_t)n : sizeof buf;
        size_t got = fread(buf, 1, want, f);
        if (got != want) return false;
        *h = eval_hash_bytes(*h, buf, got);
        n -= (off_t)got;
    }
    return true;
}

/* "N bytes, fnv1a64 HEX" of a file's head and tail. */
static glimp_status file_identity(const char *path, char *out, size_t cap, glimp_error *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        int e = errno;
        if (f) fclose(f);
        return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", path, strerror(e));
    }
    off_t size = st.st_size;
    off_t head = size < HEAD_BYTES ? size : HEAD_BYTES;
    off_t tail = size - head < TAIL_BYTES ? size - head : TAIL_BYTES;
    uint64_t h = EVAL_HASH_INIT;
    bool ok = hash_range(f, 0, head, &h) && hash_range(f, size - tail, tail, &h);
    fclose(f);
    if (!ok) return glimp_error_set(err, GLIMP_ERR_IO, "%s: read failed", path);
    snprintf(out, cap, "%lld bytes, fnv1a64 %016llx", (long long)size, (unsigned long long)h);
    return GLIMP_OK;
}

/* The delimiter readable in JSON: bytes outside printable ASCII (but \n
 * and \t, which JSON escapes itself) as \xHH. */
static void readable_bytes(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t') out[n++] = (char)c;
        else n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
    }
    out[n] = '\0';
}

static void add_float(cJSON *o, const char *name, float v)
{
    char text[32];
    snprintf(text, sizeof text, "%.7g", v); /* 0.6f as 0.6, not 0.60000002384185791 */
    cJSON_AddNumberToObject(o, name, strtod(text, NULL));
}

char *glimp_eval_router_config(const glimp_eval_models *m, const glimp_router_params *p,
                               glimp_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *about = cJSON_AddObjectToObject(o, "about");
    char text[512], key[32];
    glimp_status st = GLIMP_OK;
    for (int r = 0; r < 2 && st == GLIMP_OK; r++) {
        const char *role = glimp_role_name((glimp_role)r);
        const char *where = m->where[r] ? m->where[r] : "";
        if (glimp_eval_is_server(where))
            snprintf(text, sizeof text, "server %s, model %s", where,
                     m->model[r] ? m->model[r] : "(none)");
        else
            st = file_identity(where, text, sizeof text, err);
        cJSON_AddStringToObject(o, role, text);
        snprintf(key, sizeof key, "%s_template", role);
        cJSON_AddStringToObject(o, key, m->template_name[r] ? m->template_name[r] : "(model's)");
        cJSON_AddStringToObject(about, role, where);
    }
    if (st == GLIMP_OK && m->reward_url)
        snprintf(text, sizeof text, "server %s, model %s", m->reward_url,
                 m->reward_model ? m->reward_model : "(none)");
    else if (st == GLIMP_OK && m->reward_model)
        st = file_identity(m->reward_model, text, sizeof text, err);
    if (st == GLIMP_OK && (m->reward_url || m->reward_model)) {
        cJSON_AddStringToObject(o, "reward", text);
        cJSON_AddStringToObject(about, "reward", m->reward_url ? m->reward_url : m->reward_model);
    }
    cJSON_AddNumberToObject(o, "ctx", m->n_ctx);
    if (m->kv_type != GLIMP_KV_F16) /* absent for F16, as before the option existed */
        cJSON_AddStringToObject(o, "kv", glimp_kv_type_name(m->kv_type));
    if (p->entropy == GLIMP_ENTROPY_EXACT) snprintf(text, sizeof text, "exact");
    else snprintf(text, sizeof text, "topk:%d", p->entropy_top_k);
    cJSON_AddStringToObject(o, "entropy", text);
    readable_bytes(p->delimiter ? p->delimiter : "", text, sizeof text);
    cJSON_AddStringToObject(o, "delimiter", text);
    add_float(o, "temperature", p->temperature);
    add_float(o, "top_p", p->top_p);
    cJSON_AddNumberToObject(o, "max_step_tokens", p->max_step_tokens);
    cJSON_AddNumberToObject(o, "think_budget", p->think_budget);
    cJSON_AddNumberToObject(o, "final_max_tokens", p->final_max_tokens);
    cJSON_AddStringToObject(o, "final", p->final_by_slm ? "slm" : "llm");
    if (p->spec != GLIMP_SPEC_OFF) { /* sampled tokens differ with it (greedy ones do not) */
        snprintf(text, sizeof text, "%s, draft %d..%d", glimp_spec_mode_name(p->spec),
                 p->draft_min, p->draft_max);
        cJSON_AddStringToObject(o, "spec", text);
    }
    char *json = st == GLIMP_OK ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (st == GLIMP_OK && !json) glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");
    return json;
}
