/* template.c - the built-in chat templates and their rendering.
 *
 * Each template restates its model family's official Jinja template for the
 * cases GlimpRouter needs (system / user / assistant turns, generation
 * prompt); docs/templates.md shows the exact output. Rendering fails with
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

/* Jinja's trim: the content without leading and trailing whitespace. */
static bool append_trimmed(text_buf *b, const char *s)
{
    size_t n = strlen(s);
    while (n && strchr(" \t\n\r\f\v", s[n - 1])) n--;
    while (n && strchr(" \t\n\r\f\v", *s)) s++, n--;
    return text_buf_append(b, s, n);
}

static bool role_ok(const char *role)
{
    return role && (!strcmp(role, "system") || !strcmp(role, "user") || !strcmp(role, "assistant"));
}

static bool render_chatml(const glimp_template *t, const glimp_chat_message *m, int n, bool gen,
                          text_buf *b)
{
    bool ok = true;
    if (t->default_system && (n == 0 || strcmp(m[0].role, "system")))
        ok = text_buf_append_str(b, "<|im_start|>system\n") &&
             text_buf_append_str(b, t->default_system) && text_buf_append_str(b, "<|im_end|>\n");
    for (int i = 0; ok && i < n; i++) {
        bool assistant = !strcmp(m[i].role, "assistant");
        ok = text_buf_append_str(b, "<|im_start|>") && text_buf_append_str(b, m[i].role) &&
             text_buf_append_str(b, "\n") &&
             text_buf_append_str(b, assistant ? visible_answer(t, m[i].content) : m[i].content) &&
             text_buf_append_str(b, "<|im_end|>\n");
    }
    return ok && (!gen || text_buf_append_str(b, "<|im_start|>assistant\n"));
}

static bool render_deepseek(const glimp_template *t, const glimp_chat_message *m, int n, bool gen,
                            text_buf *b)
{
    /* BOS, then every system turn (joined by blank lines), then the turns */
    bool ok = text_buf_append_str(b, DS_BOS), first_system = true;
    for (int i = 0; ok && i < n; i++) {
        if (strcmp(m[i].role, "system")) continue;
        ok = (first_system || text_buf_append_str(b, "\n\n")) && text_buf_append_str(b, m[i].content);
        first_system = false;
    }
    for (int i = 0; ok && i < n; i++) {
        if (!strcmp(m[i].role, "user"))
            ok = text_buf_append_str(b, DS_USER) && text_buf_append_str(b, m[i].content);
        else if (!strcmp(m[i].role, "assistant"))
            ok = text_buf_append_str(b, DS_ASSISTANT) &&
                 text_buf_append_str(b, visible_answer(t, m[i].content)) &&
                 text_buf_append_str(b, DS_EOS);
    }
    return ok && (!gen || text_buf_append_str(b, DS_ASSISTANT "<think>\n"));
}

static bool render_llama3(const glimp_chat_message *m, int n, bool gen, text_buf *b)
{
    bool ok = text_buf_append_str(b, "<|begin_of_text|>");
    for (int i = 0; ok && i < n; i++)
        ok = text_buf_append_str(b, "<|start_header_id|>") && text_buf_append_str(b, m[i].role) &&
             text_buf_append_str(b, "<|end_header_id|>\n\n") && append_trimmed(b, m[i].content) &&
             text_buf_append_str(b, "<|eot_id|>");
    return ok && (!gen || text_buf_append_str(b, "<|start_header_id|>assistant<|end_header_id|>\n\n"));
}

/* For models without a chat template (base models such as stories260K). */
static bool render_raw(const glimp_chat_message *m, int n, text_buf *b)
{
    bool ok = true;
    for (int i = 0; ok && i < n; i++)
        ok = text_buf_append_str(b, m[i].content) && text_buf_append_str(b, "\n\n");
    return ok;
}

static bool render_messages(const glimp_template *t, const glimp_chat_message *m, int n, bool gen,
                            text_buf *b)
{
    switch (t->style) {
    case STYLE_CHATML: return render_chatml(t, m, n, gen, b);
    case STYLE_DEEPSEEK: return render_deepseek(t, m, n, gen, b);
    case STYLE_LLAMA3: return render_llama3(m, n, gen, b);
    case STYLE_RAW: return render_raw(m, n, b);
    }
    return false;
}

/* Hands the buffer over as a NUL-terminated string, or reports OOM. */
static char *finish(text_buf *b, bool ok, glimp_error *err)
{
    if (ok && text_buf_terminate(b)) return b->data;
    text_buf_free(b);
    glimp_error_set(err, GLIMP_ERR_NOMEM, "chat template: out of memory");
    return NULL;
}

char *glimp_template_render_chat(const glimp_template *t, const glimp_chat_message *msgs,
                                 int n_msgs, bool add_generation_prompt, glimp_error *err)
{
    if (!t || n_msgs < 0 || (!msgs && n_msgs)) {
        glimp_error_set(err, GLIMP_ERR_ARG, "chat template: invalid arguments");
        return NULL;
    }
    for (int i = 0; i < n_msgs; i++) {
        if (!role_ok(msgs[i].role) || !msgs[i].content) {
            glimp_error_set(err, GLIMP_ERR_ARG, "chat message %d: %s", i,
                            msgs[i].content ? "role must be system, user or assistant"
                                            : "no content");
            return NULL;
        }
    }
    text_buf b = {0};
    return finish(&b, render_messages(t, msgs, n_msgs, add_generation_prompt, &b), err);
}

char *glimp_template_render(const glimp_template *t, const char *question,
                            const char *const *steps, int n_steps, glimp_template_phase phase,
                            glimp_error *err)
{
    bool bad = !t || !question || n_steps < 0 || (!steps && n_steps) ||
               (phase != GLIMP_TEMPLATE_PHASE_THINK && phase != GLIMP_TEMPLATE_PHASE_FINAL);
    for (int i = 0; !bad && i < n_steps; i++) bad = !steps[i];
    if (bad) {
        glimp_error_set(err, GLIMP_ERR_ARG, "chat template: invalid question, steps or phase");
        return NULL;
    }
    glimp_chat_message user = {"user", question};
    text_buf b = {0};
    bool ok = render_messages(t, &user, 1, true, &b);
    /* deepseek-r1's generation prompt already opens the thinking block */
    if (ok && t->think_tags && t->style != STYLE_DEEPSEEK) ok = text_buf_append_str(&b, "<think>\n");
    for (int i = 0; ok && i < n_steps; i++)
        ok = (i == 0 || text_buf_append_str(&b, "\n\n")) && text_buf_append_str(&b, steps[i]);
    if (ok && t->think_tags && phase == GLIMP_TEMPLATE_PHASE_FINAL)
        ok = text_buf_append_str(&b, "\n</think>\n\n");
    else if (ok && n_steps)
        ok = text_buf_append_str(&b, "\n\n");
    return finish(&b, ok, err);
}
