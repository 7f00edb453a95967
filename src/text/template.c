/* template.c - the built-in chat templates and their rendering.
 *
 * Each template restates its model family's official Jinja template for the
 * cases GlimpRouter needs (system / user / assistant turns, generation
 * prompt); docs/templates.md shows the exact output. A rendered prompt
 * records which of its bytes are the template's own markup (the only text
 * that may become control tokens) and which are content (messages, the
 * question, thinking steps: always plain text). Rendering fails with
 * GLIMP_ERR_ARG for NULL text or an unknown role and GLIMP_ERR_NOMEM.
 */
#include "text/template.h"

#include "base/error.h"
#include "text/buf.h"

#include <stdlib.h>
#include <string.h>

#define DS_BOS "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"
#define DS_EOS "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"
#define DS_USER "<\xEF\xBD\x9CUser\xEF\xBD\x9C>"
#define DS_ASSISTANT "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>"
#define QWEN25_SYSTEM "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

typedef enum template_style {
    STYLE_CHATML,   /* <|im_start|>role\n...<|im_end|>\n */
    STYLE_DEEPSEEK, /* BOS system <｜User｜>... <｜Assistant｜>...<｜end▁of▁sentence｜> */
    STYLE_LLAMA3,   /* <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
    STYLE_RAW,      /* plain text: every turn's content followed by a blank line */
} template_style;

struct glimp_template {
    const char *name;
    template_style style;
    const char *default_system; /* added when the conversation has no system turn */
    bool think_tags;            /* steps go inside <think> ... </think> */
    bool drop_reasoning;        /* history assistant turns keep only text after </think> */
};

static const glimp_template templates[] = {
    {"qwen3", STYLE_CHATML, NULL, true, true},
    {"deepseek-r1", STYLE_DEEPSEEK, NULL, true, true},
    {"qwen2.5", STYLE_CHATML, QWEN25_SYSTEM, false, false},
    {"llama3", STYLE_LLAMA3, NULL, false, false},
    {"raw", STYLE_RAW, NULL, false, false},
};

#define N_TEMPLATES (sizeof templates / sizeof templates[0])

static const char *const names[N_TEMPLATES + 1] = {"qwen3", "deepseek-r1", "qwen2.5", "llama3",
                                                      "raw", NULL};

const char *const *glimp_template_names(void) { return names; }
const char *glimp_template_name(const glimp_template *t) { return t->name; }
bool glimp_template_has_think_tags(const glimp_template *t) { return t->think_tags; }

const glimp_template *glimp_template_by_name(const char *name, glimp_error *err)
{
    for (size_t i = 0; name && i < N_TEMPLATES; i++)
        if (!strcmp(templates[i].name, name)) return &templates[i];
    glimp_error_set(err, GLIMP_ERR_NOT_FOUND,
                    "unknown chat template '%s' (known: qwen3, deepseek-r1, qwen2.5, llama3, raw)",
                    name ? name : "(null)");
    return NULL;
}

/* Assistant history text as the official template keeps it: what follows the
 * last "</think>" (ChatML also drops the newlines that start it). */
static const char *visible_answer(const glimp_template *t, const char *content)
{
    if (!t->drop_reasoning) return content;
    const char *p = content, *last = NULL;
    while ((p = strstr(p, "</think>"))) last = p, p += 8;
    if (!last) return content;
    last += 8;
    if (t->style == STYLE_CHATML)
        while (*last == '\n') last++;
    return last;
}

/* A prompt being rendered: its text and the spans that are markup. */
typedef struct prompt_builder {
    text_buf text;
    glimp_span *markup;
    size_t n_markup, cap_markup;
} prompt_builder;

/* The template's own text: the only place control tokens may come from. */
static bool markup(prompt_builder *b, const char *s)
{
    size_t off = b->text.len, n = strlen(s);
    if (!n) return true;
    if (!text_buf_append(&b->text, s, n)) return false;
    glimp_span *last = b->n_markup ? &b->markup[b->n_markup - 1] : NULL;
    if (last && last->off + last->len == off) {
        last->len += n;
        return true;
    }
    if (b->n_markup == b->cap_markup &&
        !text_grow((void **)&b->markup, &b->cap_markup, b->n_markup, 1, sizeof *b->markup))
        return false;
    b->markup[b->n_markup++] = (glimp_span){off, n};
    return true;
}

/* Text that came from a message, the question or a step: always plain. */
static bool content(prompt_builder *b, const char *s, size_t n)
{
    return text_buf_append(&b->text, s, n);
}

static bool content_str(prompt_builder *b, const char *s) { return content(b, s, strlen(s)); }

/* Jinja's trim: the content without leading and trailing whitespace. */
static bool content_trimmed(prompt_builder *b, const char *s)
{
    size_t n = strlen(s);
    while (n && strchr(" \t\n\r\f\v", s[n - 1])) n--;
    while (n && strchr(" \t\n\r\f\v", *s)) s++, n--;
    return content(b, s, n);
}

static bool role_ok(const char *role)
{
    return role && (!strcmp(role, "system") || !strcmp(role, "user") || !strcmp(role, "assistant"));
}

static bool render_chatml(const glimp_template *t, const glimp_chat_message *m, int n, bool gen,
                          prompt_builder *b)
{
    bool ok = true;
    if (t->default_system && (n == 0 || strcmp(m[0].role, "system")))
        ok = markup(b, "<|im_start|>system\n") && markup(b, t->default_system) &&
             markup(b, "<|im_end|>\n");
    for (int i = 0; ok && i < n; i++) {
        bool assistant = !strcmp(m[i].role, "assistant");
        ok = markup(b, "<|im_start|>") && markup(b, m[i].role) && markup(b, "\n") &&
             content_str(b, assistant ? visible_answer(t, m[i].content) : m[i].content) &&
             markup(b, "<|im_end|>\n");
    }
    return ok && (!gen || markup(b, "<|im_start|>assistant\n"));
}

static bool render_deepseek(const glimp_template *t, const glimp_chat_message *m, int n, bool gen,
                            prompt_builder *b)
{
    /* BOS, then every system turn (joined by blank lines), then the turns */
    bool ok = markup(b, DS_BOS), first_system = true;
    for (int i = 0; ok && i < n; i++) {
        if (strcmp(m[i].role, "system")) continue;
        ok = (first_system || markup(b, "\n\n")) && content_str(b, m[i].content);
        first_system = false;
    }
    for (int i = 0; ok && i < n; i++) {
        if (!strcmp(m[i].role, "user"))
            ok = markup(b, DS_USER) && content_str(b, m[i].content);
        else if (!strcmp(m[i].role, "assistant"))
            ok = markup(b, DS_ASSISTANT) && content_str(b, visible_answer(t, m[i].content)) &&
                 markup(b, DS_EOS);
    }
    return ok && (!gen || markup(b, DS_ASSISTANT "<think>\n"));
}

static bool render_llama3(const glimp_chat_message *m, int n, bool gen, prompt_builder *b)
{
    bool ok = markup(b, "<|begin_of_text|>");
    for (int i = 0; ok && i < n; i++)
        ok = markup(b, "<|start_header_id|>") && markup(b, m[i].role) &&
             markup(b, "<|end_header_id|>\n\n") && content_trimmed(b, m[i].content) &&
             markup(b, "<|eot_id|>");
    return ok && (!gen || markup(b, "<|start_header_id|>assistant<|end_header_id|>\n\n"));
}

/* For models without a chat template (base models such as stories260K). */
static bool render_raw(const glimp_chat_message *m, int n, prompt_builder *b)
{
    bool ok = true;
    for (int i = 0; ok && i < n; i++) ok = content_str(b, m[i].content) && markup(b, "\n\n");
    return ok;
}

static bool render_messages(const glimp_template *t, const glimp_chat_message *m, int n, bool gen,
                            prompt_builder *b)
{
    switch (t->style) {
    case STYLE_CHATML: return render_chatml(t, m, n, gen, b);
    case STYLE_DEEPSEEK: return render_deepseek(t, m, n, gen, b);
    case STYLE_LLAMA3: return render_llama3(m, n, gen, b);
    case STYLE_RAW: return render_raw(m, n, b);
    }
    return false;
}

void glimp_prompt_clear(glimp_prompt *p)
{
    if (!p) return;
    free(p->text);
    free(p->markup);
    memset(p, 0, sizeof *p);
}

/* Hands the builder over as *out, or reports OOM (out zeroed). */
static glimp_status finish(prompt_builder *b, bool ok, glimp_prompt *out, glimp_error *err)
{
    if (ok && text_buf_terminate(&b->text)) {
        *out = (glimp_prompt){b->text.data, b->text.len, b->markup, b->n_markup};
        return GLIMP_OK;
    }
    text_buf_free(&b->text);
    free(b->markup);
    return glimp_error_set(err, GLIMP_ERR_NOMEM, "chat template: out of memory");
}

glimp_status glimp_template_render_chat_prompt(const glimp_template *t,
                                               const glimp_chat_message *msgs, int n_msgs,
                                               bool add_generation_prompt, glimp_prompt *out,
                                               glimp_error *err)
{
    if (!out) return glimp_error_set(err, GLIMP_ERR_ARG, "chat template: invalid arguments");
    memset(out, 0, sizeof *out);
    if (!t || n_msgs < 0 || (!msgs && n_msgs))
        return glimp_error_set(err, GLIMP_ERR_ARG, "chat template: invalid arguments");
    for (int i = 0; i < n_msgs; i++) {
        if (!role_ok(msgs[i].role) || !msgs[i].content)
            return glimp_error_set(err, GLIMP_ERR_ARG, "chat message %d: %s", i,
                                   msgs[i].content ? "role must be system, user or assistant"
                                                   : "no content");
    }
    prompt_builder b = {0};
    return finish(&b, render_messages(t, msgs, n_msgs, add_generation_prompt, &b), out, err);
}

glimp_status glimp_template_render_prompt(const glimp_template *t, const char *question,
                                          const char *const *steps, int n_steps,
                                          glimp_template_phase phase, glimp_prompt *out,
                                          glimp_error *err)
{
    if (!out) return glimp_error_set(err, GLIMP_ERR_ARG, "chat template: invalid arguments");
    memset(out, 0, sizeof *out);
    bool bad = !t || !question || n_steps < 0 || (!steps && n_steps) ||
               (phase != GLIMP_TEMPLATE_PHASE_THINK && phase != GLIMP_TEMPLATE_PHASE_FINAL);
    for (int i = 0; !bad && i < n_steps; i++) bad = !steps[i];
    if (bad)
        return glimp_error_set(err, GLIMP_ERR_ARG, "chat template: invalid question, steps or phase");
    glimp_chat_message user = {"user", question};
    prompt_builder b = {0};
    bool ok = render_messages(t, &user, 1, true, &b);
    /* deepseek-r1's generation prompt already opens the thinking block */
    if (ok && t->think_tags && t->style != STYLE_DEEPSEEK) ok = markup(&b, "<think>\n");
    for (int i = 0; ok && i < n_steps; i++)
        ok = (i == 0 || markup(&b, "\n\n")) && content_str(&b, steps[i]);
    if (ok && t->think_tags && phase == GLIMP_TEMPLATE_PHASE_FINAL)
        ok = markup(&b, "\n</think>\n\n");
    else if (ok && n_steps)
        ok = markup(&b, "\n\n");
    return finish(&b, ok, out, err);
}

/* The text of a rendered prompt, its markup dropped; NULL on failure. */
static char *text_only(glimp_status st, glimp_prompt *p)
{
    if (st != GLIMP_OK) return NULL;
    free(p->markup);
    return p->text;
}

char *glimp_template_render_chat(const glimp_template *t, const glimp_chat_message *msgs,
                                 int n_msgs, bool add_generation_prompt, glimp_error *err)
{
    glimp_prompt p;
    return text_only(glimp_template_render_chat_prompt(t, msgs, n_msgs, add_generation_prompt,
                                                       &p, err),
                     &p);
}

char *glimp_template_render(const glimp_template *t, const char *question,
                            const char *const *steps, int n_steps, glimp_template_phase phase,
                            glimp_error *err)
{
    glimp_prompt p;
    return text_only(glimp_template_render_prompt(t, question, steps, n_steps, phase, &p, err), &p);
}
