/* router_opts.c - the router and model options of the routing commands (see
 * router_opts.h): getopt entries and help lines from the library's table of
 * router options plus the model options kept here, values checked by
 * glimp_router_set_option() or by the ranges of the model table.
 * Failure: a bad value is reported on stderr naming the option and the
 * value; the caller exits with 2.
 */
#include "router_opts.h"

#include "cli_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The model options, in help order; after the router options in getopt codes. */
enum {
    MODEL_TEMPLATE_SLM, MODEL_TEMPLATE_LLM, MODEL_THREADS, MODEL_CTX, MODEL_REWARD_URL,
    MODEL_REWARD_MODEL, MODEL_KV_TYPE, MODEL_COUNT
};

static const glimp_router_option model_options[MODEL_COUNT] = {
    [MODEL_TEMPLATE_SLM] = {"template-slm", "NAME", "chat template of the SLM instead of the "
                            "model's own: qwen3, deepseek-r1, qwen2.5, llama3 or raw (plain "
                            "text, for models without one)", 0, 0},
    [MODEL_TEMPLATE_LLM] = {"template-llm", "NAME", "the same for the LLM", 0, 0},
    [MODEL_THREADS] = {"threads", "N", "threads per model (default: all cores)", 1, 1024},
    [MODEL_CTX] = {"ctx", "N", "context length in tokens (default: the model's)", 1, 1 << 24},
    [MODEL_REWARD_URL] = {"reward-url", "URL", "rsd: a process reward model served by vLLM's "
                          "pooling API at URL (with --reward-model NAME; see README)", 0, 0},
    [MODEL_REWARD_MODEL] = {"reward-model", "M", "rsd: the server's model name with "
                            "--reward-url, else a GGUF file that judges the steps in-process "
                            "(default: the LLM judges them)", 0, 0},
    [MODEL_KV_TYPE] = {"kv-type", "T", "KV cache type: f16 (default), f32 or q8_0", 0, 0},
};

/* The option of getopt code `code` (NULL when not ours); *is_router tells the table. */
static const glimp_router_option *option_of(int code, bool *is_router, size_t *index)
{
    size_t n_router;
    const glimp_router_option *router = glimp_router_options(&n_router);
    if (code == 't') code = ROUTER_OPT_FIRST + (int)(n_router + MODEL_THREADS);
    if (code < ROUTER_OPT_FIRST) return NULL;
    size_t i = (size_t)(code - ROUTER_OPT_FIRST);
    *is_router = i < n_router;
    *index = *is_router ? i : i - n_router;
    if (*is_router) return &router[i];
    return *index < MODEL_COUNT ? &model_options[*index] : NULL;
}

static bool skipped(const router_opts *o, const char *name)
{
    for (const char *const *s = o->skip; s && *s; s++)
        if (!strcmp(*s, name)) return true;
    return false;
}

void router_opts_init(router_opts *o, const char *const *skip)
{
    memset(o, 0, sizeof *o);
    o->router = glimp_router_default_params();
    o->skip = skip;
}

void router_opts_free(router_opts *o)
{
    free(o->delimiter);
    o->delimiter = NULL;
}

bool router_opts_table(const router_opts *o, const struct option *own, struct option *out,
                       size_t cap)
{
    size_t n = 0, n_router;
    for (; own[n].name; n++) {
        if (n + 1 >= cap) return false;
        out[n] = own[n];
    }
    glimp_router_options(&n_router);
    for (size_t i = 0; i < n_router + MODEL_COUNT; i++) {
        bool is_router;
        size_t k;
        const glimp_router_option *opt = option_of(ROUTER_OPT_FIRST + (int)i, &is_router, &k);
        if (skipped(o, opt->name)) continue;
        if (n + 1 >= cap) return false;
        out[n++] = (struct option){opt->name, required_argument, NULL, ROUTER_OPT_FIRST + (int)i};
    }
    out[n] = (struct option){0, 0, 0, 0};
    return true;
}

bool router_opt_owns(int code)
{
    bool is_router;
    size_t k;
    return option_of(code, &is_router, &k) != NULL;
}

/* Decodes \n \t \r \\ in s (malloc'd result, NULL on another escape or OOM). */
static char *unescape(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out) return NULL;
    for (; *s; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        switch (*++s) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case '\\': *o++ = '\\'; break;
        default: free(out); return NULL;
        }
    }
    *o = '\0';
    return out;
}

/* A model option's whole decimal value within its range. */
static bool model_count(const glimp_router_option *opt, const char *arg, int *out,
                        const char *cmd)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < (long)opt->min || v > (long)opt->max) {
        cli_usage_error(cmd, "--%s: '%s' is not an integer in [%ld, %ld]", opt->name, arg,
                        (long)opt->min, (long)opt->max);
        return false;
    }
    *out = (int)v;
    return true;
}

bool router_opt_set(router_opts *o, int code, const char *arg, const char *cmd)
{
    bool is_router;
    size_t k;
    const glimp_router_option *opt = option_of(code, &is_router, &k);
    if (!opt) return false;
    if (!is_router) {
        switch (k) {
        case MODEL_TEMPLATE_SLM: o->template_name[GLIMP_ROLE_SLM] = arg; return true;
        case MODEL_TEMPLATE_LLM: o->template_name[GLIMP_ROLE_LLM] = arg; return true;
        case MODEL_THREADS: return model_count(opt, arg, &o->n_threads, cmd);
        case MODEL_REWARD_URL: o->reward_url = arg; return true;
        case MODEL_REWARD_MODEL: o->reward_model = arg; return true;
        case MODEL_KV_TYPE:
            if (glimp_kv_type_parse(arg, &o->kv_type)) return true;
            cli_usage_error(cmd, "--kv-type: '%s' is not f16, f32 or q8_0", arg);
            return false;
        default: return model_count(opt, arg, &o->n_ctx, cmd); /* MODEL_CTX */
        }
    }
    const char *value = arg;
    if (!strcmp(opt->name, "delimiter")) {
        char *decoded = unescape(arg);
        if (!decoded) {
            cli_usage_error(cmd, "--delimiter: '%s' has an escape other than \\n \\t \\r \\\\",
                            arg);
            return false;
        }
        free(o->delimiter);
        o->delimiter = decoded;
        value = decoded;
    }
    glimp_error err = {0};
    if (glimp_router_set_option(&o->router, opt->name, value, &err) != GLIMP_OK) {
        cli_usage_error(cmd, "%s", err.msg);
        return false;
    }
    return true;
}

glimp_status router_opts_open_reward(const router_opts *o, glimp_reward **reward,
                                     glimp_error *err)
{
    *reward = NULL;
    if (o->reward_url) {
        if (!o->reward_model) {
            err->status = GLIMP_ERR_ARG;
            snprintf(err->msg, sizeof err->msg,
                     "--reward-url needs --reward-model NAME (the server's model name)");
            return err->status;
        }
        glimp_openai_params op = glimp_openai_default_params();
        op.base_url = o->reward_url;
        op.model = o->reward_model;
        *reward = glimp_reward_prm_create(&op, err);
    } else if (o->reward_model) {
        glimp_local_params lp = glimp_local_default_params();
        lp.model_path = o->reward_model;
        lp.n_threads = o->n_threads;
        lp.n_ctx = o->n_ctx;
        *reward = glimp_reward_local_create(&lp, err);
    } else {
        return GLIMP_OK;
    }
    return *reward ? GLIMP_OK : err->status;
}

void router_opts_spec_note(const router_opts *o, glimp_backend *slm, glimp_backend *llm,
                           const char *cmd)
{
    if (o->router.spec == GLIMP_SPEC_OFF) return;
    glimp_router *r = glimp_router_create(slm, llm, &o->router, NULL);
    if (r && glimp_router_spec_note(r)) fprintf(stderr, "%s: %s\n", cmd, glimp_router_spec_note(r));
    glimp_router_free(r);
}

/* Prints `text` from column `col`, wrapped before column 80 at spaces,
 * continuation lines indented to column 25. */
static void print_wrapped(FILE *out, size_t col, const char *text)
{
    while (*text) {
        size_t room = col < 79 ? 79 - col : 0, n = strlen(text);
        if (n > room) {
            size_t cut = room;
            while (cut > 0 && text[cut] != ' ') cut--;
            n = cut ? cut : strcspn(text, " ");
        }
        fprintf(out, "%.*s\n", (int)n, text);
        text += n;
        while (*text == ' ') text++;
        if (*text) fprintf(out, "%25s", "");
        col = 25;
    }
}

static void print_option(FILE *out, const glimp_router_option *opt)
{
    char head[64], help[512];
    snprintf(head, sizeof head, "  %s--%s %s", strcmp(opt->name, "threads") ? "" : "-t, ",
             opt->name, opt->arg);
    if (opt->min < opt->max)
        snprintf(help, sizeof help, "%s [%.10g..%.10g]", opt->help, opt->min, opt->max);
    else
        snprintf(help, sizeof help, "%s", opt->help);
    if (strlen(head) < 25) fprintf(out, "%-25s", head);
    else fprintf(out, "%s\n%25s", head, "");
    print_wrapped(out, 25, help);
}

void router_opts_usage(const router_opts *o, bool models, FILE *out)
{
    size_t n;
    const glimp_router_option *table = models ? model_options : glimp_router_options(&n);
    if (models) n = MODEL_COUNT;
    for (size_t i = 0; i < n; i++)
        if (!skipped(o, table[i].name)) print_option(out, &table[i]);
}
