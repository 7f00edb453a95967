/* test_text_template.c - chat templates: every template's output for
 * (question, steps, phase) and for a multi-turn conversation, against
 * expected strings written out here by hand from the official templates;
 * detection on the shared vocabularies and on small GGUF files carrying a
 * chat_template; rendered prompts tokenize with exactly one BOS and end on
 * the <think> token. Skips (77) when ../shared is absent. */
#include "glimp.h"
#include "gguf/gguf.h"
#include "test_util.h"

#include <unistd.h>

#define BOS_DS "<\xEF\xBD\x9C" "begin\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"
#define EOS_DS "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"
#define USER_DS "<\xEF\xBD\x9CUser\xEF\xBD\x9C>"
#define ASSISTANT_DS "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>"

static const char *const q = "What is 2+3?";
static const char *const steps[] = {"First, add the numbers.", "So the sum is 5."};

static const glimp_template *by_name(const char *name)
{
    glimp_error err = {0};
    const glimp_template *t = glimp_template_by_name(name, &err);
    REQUIRE(t != NULL, "template %s: %s", name, err.msg);
    return t;
}

static void expect_render(const char *name, int n_steps, glimp_template_phase phase, const char *want)
{
    glimp_error err = {0};
    char *got = glimp_template_render(by_name(name), q, steps, n_steps, phase, &err);
    CHECK(got && !strcmp(got, want), "%s, %d steps, phase %d:\n got: [%s]\nwant: [%s]", name, n_steps,
          (int)phase, got ? got : err.msg, want);
    free(got);
}

static void check_render(void)
{
    const int THINK = GLIMP_TEMPLATE_PHASE_THINK, FINAL = GLIMP_TEMPLATE_PHASE_FINAL;
    expect_render("qwen3", 0, THINK,
                  "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n<think>\n");
    expect_render("qwen3", 2, THINK,
                  "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n<think>\n"
                  "First, add the numbers.\n\nSo the sum is 5.\n\n");
    expect_render("qwen3", 2, FINAL,
                  "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n<think>\n"
                  "First, add the numbers.\n\nSo the sum is 5.\n</think>\n\n");
    expect_render("qwen3", 0, FINAL,
                  "<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");

    expect_render("deepseek-r1", 0, THINK, BOS_DS USER_DS "What is 2+3?" ASSISTANT_DS "<think>\n");
    expect_render("deepseek-r1", 1, THINK,
                  BOS_DS USER_DS "What is 2+3?" ASSISTANT_DS "<think>\nFirst, add the numbers.\n\n");
    expect_render("deepseek-r1", 2, FINAL,
                  BOS_DS USER_DS "What is 2+3?" ASSISTANT_DS
                  "<think>\nFirst, add the numbers.\n\nSo the sum is 5.\n</think>\n\n");

    const char *qwen25_head =
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
        "assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n";
    expect_render("qwen2.5", 0, THINK, qwen25_head);
    char want[1024];
    snprintf(want, sizeof want, "%sFirst, add the numbers.\n\nSo the sum is 5.\n\n", qwen25_head);
    expect_render("qwen2.5", 2, THINK, want);
    expect_render("qwen2.5", 2, FINAL, want);

    expect_render("llama3", 0, THINK,
                  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+3?<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\n");
    expect_render("llama3", 1, FINAL,
                  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+3?<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\nFirst, add the numbers.\n\n");

    expect_render("raw", 0, THINK, "What is 2+3?\n\n");
    expect_render("raw", 2, FINAL, "What is 2+3?\n\nFirst, add the numbers.\n\nSo the sum is 5.\n\n");

    glimp_error err = {0};
    const char *bad_steps[] = {"ok", NULL};
    CHECK(!glimp_template_render(by_name("qwen3"), NULL, NULL, 0, 0, &err) && err.status == GLIMP_ERR_ARG,
          "NULL question");
    CHECK(!glimp_template_render(by_name("qwen3"), q, bad_steps, 2, 0, &err) && err.status == GLIMP_ERR_ARG,
          "NULL step");
}

static void expect_chat(const char *name, const char *want)
{
    const glimp_chat_message msgs[] = {
        {"system", "Be brief."},
        {"user", "Hi"},
        {"assistant", "<think>\nA greeting.\n</think>\n\nHello!"},
        {"user", " 2+2? "},
    };
    glimp_error err = {0};
    char *got = glimp_template_render_chat(by_name(name), msgs, 4, true, &err);
    CHECK(got && !strcmp(got, want), "%s chat:\n got: [%s]\nwant: [%s]", name, got ? got : err.msg, want);
    free(got);
}

static void check_chat(void)
{
    expect_chat("qwen3",
                "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n 2+2? <|im_end|>\n"
                "<|im_start|>assistant\n");
    expect_chat("deepseek-r1", BOS_DS "Be brief." USER_DS "Hi" ASSISTANT_DS "\n\nHello!" EOS_DS USER_DS
                               " 2+2? " ASSISTANT_DS "<think>\n");
    expect_chat("qwen2.5",
                "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                "<|im_start|>assistant\n<think>\nA greeting.\n</think>\n\nHello!<|im_end|>\n"
                "<|im_start|>user\n 2+2? <|im_end|>\n<|im_start|>assistant\n");
    expect_chat("llama3",
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\n<think>\nA greeting.\n</think>\n\n"
                "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\n");
    expect_chat("raw", "Be brief.\n\nHi\n\n<think>\nA greeting.\n</think>\n\nHello!\n\n 2+2? \n\n");

    glimp_error err = {0};
    const glimp_chat_message bad = {"tool", "x"};
    CHECK(!glimp_template_render_chat(by_name("qwen3"), &bad, 1, true, &err) && err.status == GLIMP_ERR_ARG,
          "unknown role");
    char *none = glimp_template_render_chat(by_name("qwen3"), NULL, 0, false, &err);
    CHECK(none && !strcmp(none, ""), "no messages, no generation prompt: empty");
    free(none);
}

static void expect_detect(const char *path, const char *want)
{
    glimp_error err = {0};
    const glimp_template *t = glimp_template_from_gguf(path, &err);
    if (want) {
        CHECK(t && !strcmp(glimp_template_name(t), want), "%s: got %s, want %s (%s)", path,
              t ? glimp_template_name(t) : "none", want, err.msg);
    } else {
        /* the names to choose from, and no option of one CLI command */
        CHECK(!t && err.status == GLIMP_ERR_NOT_FOUND && strstr(err.msg, "qwen3") &&
                  !strstr(err.msg, "--template"),
              "%s: expected no template, got %s (%s)", path, t ? glimp_template_name(t) : "none", err.msg);
    }
}

static const char *write_with_template(const char *jinja)
{
    static char path[64];
    snprintf(path, sizeof path, "test_text_template_%d.gguf", (int)getpid());
    glimp_error err = {0};
    gguf_writer *w = gguf_writer_create(&err);
    REQUIRE(w != NULL, "writer: %s", err.msg);
    gguf_writer_add_str(w, "general.architecture", "qwen2");
    gguf_writer_add_str(w, "tokenizer.chat_template", jinja);
    REQUIRE(gguf_writer_begin(w, path, &err) == GLIMP_OK, "begin: %s", err.msg);
    REQUIRE(gguf_writer_finish(w, &err) == GLIMP_OK, "finish: %s", err.msg);
    gguf_writer_free(w);
    return path;
}

static void check_detect(void)
{
    static const char *const cases[][2] = {
        {"qwen3", "qwen3"}, {"deepseek-r1-qwen", "deepseek-r1"}, {"qwen2", "qwen2.5"},
        {"gpt-2", NULL}, {"llama-spm", NULL}, {"phi-3", NULL}, /* phi-3 has its own chat_template */
    };
    char rel[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(rel, sizeof rel, "tokenizer/ggml-vocab-%s.gguf", cases[i][0]);
        expect_detect(test_shared_path(rel), cases[i][1]);
    }
    expect_detect(write_with_template("{{- '<|im_start|>' + message.role }}{{- '<think>\\n' }}"), "qwen3");
    expect_detect(write_with_template("{{ bos_token }}{{'" ASSISTANT_DS "<think>\\n'}}"), "deepseek-r1");
    expect_detect(write_with_template("{{'<|start_header_id|>' + message['role']}}"), "llama3");
    expect_detect(write_with_template("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud."),
                  "qwen2.5");
    expect_detect(write_with_template("{{ '<|user|>' }}"), NULL);
    remove(write_with_template(""));

    glimp_error err = {0};
    CHECK(!glimp_template_by_name("chatml", &err) && err.status == GLIMP_ERR_NOT_FOUND &&
              strstr(err.msg, "deepseek-r1"),
          "unknown name lists the templates: %s", err.msg);
    const char *const *names = glimp_template_names();
    int n = 0;
    while (names[n]) CHECK(glimp_template_by_name(names[n++], NULL) != NULL, "listed name resolves");
    CHECK(n == 5, "5 templates listed");
}

/* The rendered prompt tokenizes with one BOS at most and ends on <think>\n. */
static void check_prompt_tokens(const char *vocab, const char *tmpl, int32_t bos, int32_t think)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tokenizer/ggml-vocab-%s.gguf", vocab);
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(test_shared_path(rel), &err);
    REQUIRE(tok != NULL, "load %s: %s", vocab, err.msg);
    char *p = glimp_template_render(by_name(tmpl), q, NULL, 0, GLIMP_TEMPLATE_PHASE_THINK, &err);
    int n = 0;
    int32_t *ids = glimp_tokenize_alloc(tok, p, strlen(p), true, true, &n, &err);
    CHECK(ids && n > 3, "%s prompt tokenizes: %s", tmpl, err.msg);
    if (ids && n > 3) {
        int n_bos = 0;
        for (int i = 0; i < n; i++) n_bos += ids[i] == bos;
        CHECK(bos < 0 ? n_bos == 0 : (ids[0] == bos && n_bos == 1), "%s: %d BOS tokens", tmpl, n_bos);
        CHECK(ids[n - 2] == think, "%s: <think> is one token before the final newline", tmpl);
    }
    free(ids);
    free(p);
    glimp_tokenizer_free(tok);
}

int main(void)
{
    check_render();
    check_chat();
    test_shared_or_skip("tokenizer");
    check_detect();
    check_prompt_tokens("qwen3", "qwen3", -1, 151667);
    check_prompt_tokens("deepseek-r1-qwen", "deepseek-r1", 151646, 151648);
    return test_finish();
}
