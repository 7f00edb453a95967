/* test_model_stories.c - a real trained model: greedy generation from
 * stories260K.gguf must reproduce llama.cpp's 64 tokens
 * (../shared/models/stories260K.expected.txt) exactly, with both KV cache
 * types and with one and two threads. */
/* test-links: model sample */
#include "glimp.h"
#include "test_util.h"

#include <stdint.h>

/* Parses "key: 1 2 3" into ids; returns the count. */
static int parse_ids(const char *line, const char *key, int32_t *ids, int cap)
{
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) || line[kl] != ':') return -1;
    int n = 0;
    char *end;
    for (const char *p = line + kl + 1; n < cap; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ids[n++] = (int32_t)v;
    }
    return n;
}

int main(void)
{
    const char *exp_path = test_shared_or_skip("models/stories260K.expected.txt");
    int32_t prompt[64], gen[128];
    int n_prompt = -1, n_gen = -1;
    FILE *f = fopen(exp_path, "r");
    REQUIRE(f, "open %s", exp_path);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        int k;
        if ((k = parse_ids(line, "prompt_ids", prompt, 64)) >= 0) n_prompt = k;
        if ((k = parse_ids(line, "gen_ids", gen, 128)) >= 0) n_gen = k;
    }
    fclose(f);
    REQUIRE(n_prompt == 5 && n_gen == 64, "expected file: %d prompt, %d gen ids", n_prompt, n_gen);

    glimp_error err = {0};
    glimp_model *m = glimp_model_load(test_shared_or_skip("models/stories260K.gguf"), NULL, &err);
    REQUIRE(m, "load: %s", err.msg);
    CHECK(!strcmp(glimp_model_arch(m), "llama"), "arch %s", glimp_model_arch(m));
    for (int variant = 0; variant < 3; variant++) {
        glimp_session_params sp = glimp_session_default_params();
        sp.n_threads = variant == 1 ? 1 : 2;
        sp.kv_type = variant == 2 ? GLIMP_KV_F32 : GLIMP_KV_F16;
        glimp_session *s = glimp_session_create(m, &sp, &err);
        REQUIRE(s, "session: %s", err.msg);
        const glimp_status st = glimp_session_append(s, prompt, (size_t)n_prompt, &err);
        REQUIRE(st == GLIMP_OK, "append: %s", err.msg);
        int n_ok = 0;
        for (int i = 0; i < n_gen; i++) {
            const int32_t t = glimp_argmax(glimp_session_logits(s), glimp_session_n_vocab(s));
            if (t != gen[i]) {
                CHECK(t == gen[i], "variant %d: token %d is %d, expected %d", variant, i, t,
                      gen[i]);
                break;
            }
            n_ok++;
            const glimp_status dst = glimp_session_decode(s, t, &err);
            REQUIRE(dst == GLIMP_OK, "decode: %s", err.msg);
        }
        printf("variant %d (threads %d, kv %s): %d/%d greedy tokens match\n", variant,
               sp.n_threads, sp.kv_type == GLIMP_KV_F32 ? "f32" : "f16", n_ok, n_gen);
        CHECK(glimp_session_n_tokens(s) == (size_t)(n_prompt + n_ok), "n_tokens");
        glimp_session_free(s);
    }
    glimp_model_free(m);
    return test_finish();
}
