/* template_detect.c - picking the chat template of a GGUF file.
 *
 * First by markers in tokenizer.chat_template (the model's own Jinja
 * template), then by the special tokens its vocabulary defines; files that
 * match neither get GLIMP_ERR_NOT_FOUND naming the model (general.name,
 * general.architecture) and the templates, so the user can name one.
 * GLIMP_ERR_IO / GLIMP_ERR_FORMAT come from opening the file.
 */
#include "text/template.h"

#include "base/error.h"

#include <string.h>

#define DS_ASSISTANT "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>"

static bool str_contains(gguf_str s, const char *needle)
{
    size_t n = strlen(needle);
    for (uint64_t i = 0; n <= s.len && i + n <= s.len; i++)
        if (!memcmp(s.ptr + i, needle, n)) return true;
    return false;
}

/* Template name from the Jinja text, or NULL. */
static const char *by_chat_template(gguf_str jinja)
{
    if (str_contains(jinja, DS_ASSISTANT)) return "deepseek-r1";
    if (str_contains(jinja, "<|start_header_id|>")) return "llama3";
    if (str_contains(jinja, "<|im_start|>")) {
        if (str_contains(jinja, "<think>")) return "qwen3";
        if (str_contains(jinja, "You are Qwen")) return "qwen2.5";
    }
    return NULL;
}

/* Template name from the vocabulary's special tokens, or NULL. */
static const char *by_vocabulary(const gguf_file *f)
{
    const gguf_value *toks = gguf_get_arr(f, "tokenizer.ggml.tokens");
    if (!toks || toks->arr.elem != GGUF_TYPE_STRING || !toks->arr.items) return NULL;
    bool ds = false, im_start = false, think = false, header = false;
    for (uint64_t i = 0; i < toks->arr.n; i++) {
        gguf_str s = toks->arr.items[i].str;
        if (s.len < 7 || s.ptr[0] != '<') continue;
        ds |= gguf_str_eq(s, DS_ASSISTANT);
        im_start |= gguf_str_eq(s, "<|im_start|>");
        think |= gguf_str_eq(s, "<think>");
        header |= gguf_str_eq(s, "<|start_header_id|>");
    }
    if (ds) return "deepseek-r1";
    if (im_start) return think ? "qwen3" : "qwen2.5";
    if (header) return "llama3";
    return NULL;
}

const glimp_template *template_from_gguf_file(const gguf_file *f, glimp_error *err)
{
    gguf_str jinja;
    const char *name = NULL;
    if (gguf_get_str(f, "tokenizer.chat_template", &jinja)) name = by_chat_template(jinja);
    if (!name) name = by_vocabulary(f);
    if (name) return glimp_template_by_name(name, err);
    gguf_str arch = {"?", 1}, model = {"?", 1};
    gguf_get_str(f, "general.architecture", &arch);
    gguf_get_str(f, "general.name", &model);
    glimp_error_set(err, GLIMP_ERR_NOT_FOUND,
                    "no chat template matches model '%.*s' (architecture '%.*s'); name one: "
                    "qwen3, deepseek-r1, qwen2.5, llama3 or raw",
                    (int)(model.len > 80 ? 80 : model.len), model.ptr,
                    (int)(arch.len > 40 ? 40 : arch.len), arch.ptr);
    return NULL;
}

const glimp_template *glimp_template_from_gguf(const char *gguf_path, glimp_error *err)
{
    gguf_file *f = gguf_open(gguf_path, err);
    if (!f) return NULL;
    const glimp_template *t = template_from_gguf_file(f, err);
    gguf_close(f);
    return t;
}
