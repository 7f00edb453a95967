/* test_spec_demo.c - speculative decoding through the in-process backend on
 * the demo pair (models/demo/{slm,llm}.gguf, one tokenizer): greedy output
 * with the SLM drafting, and with prompt lookup, is the LLM's greedy output
 * token for token (text, token count, stop reason), also when a stop string
 * or the context's end (keep_free) ends it; the SLM drafts are mostly kept
 * and the LLM runs fewer forward passes than tokens; a sampled run is
 * reproducible from its seed; a draft that is the model itself, or remote,
 * is refused with the reason. Through the router (policies llm and glimp,
 * greedy): the same steps and answer with --spec model as without, the
 * trace's speculation counts, and "server-side" for a remote LLM.
 */
#include "glimp.h"
#include "test_util.h"

static const char *question =
    "Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. Whoever "
    "has more marbles gives 5 to the other. Owen finds 32 more marbles. How many more marbles "
    "does the one with more have?";

static glimp_backend *open_local(const char *src, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/demo/%s", src, name);
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.n_threads = 2;
    glimp_error err = {0};
    glimp_backend *b = glimp_backend_local_create(&lp, &err);
    REQUIRE(b, "%s: %s", path, err.msg);
    return b;
}

static glimp_gen_result run(glimp_backend *llm, const char *prompt, glimp_gen_params gp)
{
    glimp_gen_result r;
    glimp_error err = {0};
    glimp_status st = glimp_backend_generate(llm, prompt, &gp, &r, &err);
    REQUIRE(st == GLIMP_OK, "generate (spec %s): %s", glimp_spec_mode_name(gp.spec.mode), err.msg);
    return r;
}

static void same(const glimp_gen_result *a, const glimp_gen_result *b, const char *what)
{
    CHECK(a->n_tokens == b->n_tokens && a->stop == b->stop && a->stop_index == b->stop_index &&
              !strcmp(a->text, b->text) && a->first_id == b->first_id,
          "%s: %d tokens stop %d vs %d tokens stop %d\n--- plain:\n%s\n--- spec:\n%s", what,
          a->n_tokens, (int)a->stop, b->n_tokens, (int)b->stop, a->text, b->text);
}

/* A step (ending at a stop string) drafted 8 tokens at a time by a second
 * copy of the LLM, which guesses every token right: the guess holding the
 * stop string is the last one drafted, so every guess is kept (before, the
 * guesses past the step's end were drafted and thrown away). */
static void step_draft_stops(glimp_backend *twin, glimp_backend *llm, const char *prompt,
                             glimp_gen_params gp)
{
    gp.temperature = 0.0f;
    gp.spec = (glimp_spec_params){.mode = GLIMP_SPEC_MODEL, .draft = twin, .draft_min = 8,
                                  .draft_max = 8};
    glimp_gen_result r = run(llm, prompt, gp);
    CHECK(r.stop == GLIMP_STOP_STRING && r.spec_drafted > 8 &&
              r.spec_accepted == r.spec_drafted,
          "nothing drafted past the step's end: stop %d, %d of %d guesses kept", (int)r.stop,
          r.spec_accepted, r.spec_drafted);
    glimp_gen_result_clear(&r);
}

static void greedy_identity(glimp_backend *slm, glimp_backend *llm, const char *prompt,
                            glimp_gen_params gp, const char *what)
{
    gp.temperature = 0.0f;
    glimp_gen_result plain = run(llm, prompt, gp);
    CHECK(plain.spec_drafted == 0 && plain.n_forwards >= plain.n_tokens - 1,
          "%s: plain decoding drafts nothing (%d) and runs a pass per token (%d for %d)", what,
          plain.spec_drafted, plain.n_forwards, plain.n_tokens);
    gp.spec.mode = GLIMP_SPEC_MODEL;
    gp.spec.draft = slm;
    glimp_gen_result model = run(llm, prompt, gp);
    same(&plain, &model, what);
    CHECK(model.spec_drafted > 0 && model.spec_accepted <= model.spec_drafted,
          "%s: drafted %d accepted %d", what, model.spec_drafted, model.spec_accepted);
    gp.spec.mode = GLIMP_SPEC_NGRAM;
    gp.spec.draft = NULL;
    glimp_gen_result ngram = run(llm, prompt, gp);
    same(&plain, &ngram, what);
    /* the plain run again, after the speculative ones moved the caches */
    gp.spec.mode = GLIMP_SPEC_OFF;
    glimp_gen_result again = run(llm, prompt, gp);
    same(&plain, &again, what);
    if (plain.n_tokens >= 100)
        CHECK(model.n_forwards * 10 < plain.n_forwards * 8 &&
                  model.spec_accepted * 2 > model.spec_drafted,
              "%s: the demo SLM's drafts are mostly kept (%d of %d) and save passes (%d vs %d)",
              what, model.spec_accepted, model.spec_drafted, model.n_forwards, plain.n_forwards);
    glimp_gen_result_clear(&plain);
    glimp_gen_result_clear(&model);
    glimp_gen_result_clear(&ngram);
    glimp_gen_result_clear(&again);
}

static glimp_router_result *route(glimp_backend *slm, glimp_backend *llm, const char *policy,
                                  glimp_spec_mode spec, const char **note)
{
    glimp_router_params rp = glimp_router_default_params();
    glimp_error err = {0};
    REQUIRE(glimp_router_parse_policy(policy, &rp, &err) == GLIMP_OK, "%s", err.msg);
    rp.temperature = 0.0f;
    rp.spec = spec;
    glimp_router *r = glimp_router_create(slm, llm, &rp, &err);
    REQUIRE(r, "router: %s", err.msg);
    static char kept[600];
    kept[0] = '\0';
    if (glimp_router_spec_note(r)) snprintf(kept, sizeof kept, "%s", glimp_router_spec_note(r));
    if (note) *note = kept;
    glimp_router_result *res = NULL;
    glimp_status st = glimp_router_run(r, question, NULL, &res, &err);
    glimp_router_free(r);
    if (st != GLIMP_OK) return NULL; /* a remote LLM that is not there */
    return res;
}

static void routed_identity(glimp_backend *slm, glimp_backend *llm, const char *policy)
{
    glimp_router_result *plain = route(slm, llm, policy, GLIMP_SPEC_OFF, NULL);
    glimp_router_result *spec = route(slm, llm, policy, GLIMP_SPEC_MODEL, NULL);
    REQUIRE(plain && spec, "routed runs");
    CHECK(plain->n_steps == spec->n_steps && !strcmp(plain->answer, spec->answer),
          "%s: same steps (%d, %d) and answer", policy, plain->n_steps, spec->n_steps);
    for (int i = 0; i < plain->n_steps && i < spec->n_steps; i++)
        CHECK(plain->steps[i].model == spec->steps[i].model &&
                  !strcmp(plain->steps[i].text, spec->steps[i].text),
              "%s: step %d differs", policy, i);
    CHECK(!strcmp(plain->spec, "off") && !strcmp(spec->spec, "model"), "modes %s %s",
          plain->spec, spec->spec);
    int drafted = 0, accepted = 0, forwards = 0;
    for (int i = 0; i < spec->n_steps; i++) {
        drafted += spec->steps[i].spec_drafted;
        accepted += spec->steps[i].spec_accepted;
        forwards += spec->steps[i].llm_forwards;
    }
    CHECK(spec->spec_drafted >= drafted && spec->spec_accepted >= accepted &&
              spec->llm_forwards >= forwards && spec->llm_forwards > 0,
          "%s: totals cover the steps", policy);
    if (spec->steps_by[GLIMP_ROLE_LLM] > 0)
        CHECK(drafted > 0 && accepted > 0, "%s: LLM steps were drafted", policy);
    CHECK(spec->llm_forwards < plain->llm_forwards, "%s: fewer LLM passes (%d vs %d)", policy,
          spec->llm_forwards, plain->llm_forwards);
    char *js = glimp_router_result_json(spec);
    CHECK(js && strstr(js, "\"tokens_per_llm_forward\"") && strstr(js, "\"mode\":\"model\""),
          "JSON trace has the speculation summary");
    free(js);
    glimp_router_result_free(plain);
    glimp_router_result_free(spec);
}

int main(void)
{
    const char *src = getenv("GLIMP_SRC");
    if (!src) src = "..";
    glimp_backend *slm = open_local(src, "slm.gguf"), *llm = open_local(src, "llm.gguf");
    glimp_error err = {0};
    char *prompt = NULL;
    REQUIRE(glimp_backend_render(llm, question, NULL, 0, GLIMP_TEMPLATE_PHASE_THINK, &prompt,
                                 &err) == GLIMP_OK, "%s", err.msg);

    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = 300;
    greedy_identity(slm, llm, prompt, gp, "whole answer");

    const char *stops[] = {"\n\n", "</think>"};
    gp.stop = stops;
    gp.n_stop = 2;
    greedy_identity(slm, llm, prompt, gp, "one step");
    glimp_backend *twin = open_local(src, "llm.gguf");
    step_draft_stops(twin, llm, prompt, gp);
    glimp_backend_free(twin);
    gp.n_stop = 0;

    for (int len = 1; len <= 8; len += 7) { /* fixed draft lengths */
        gp.spec.draft_min = gp.spec.draft_max = len;
        greedy_identity(slm, llm, prompt, gp, len == 1 ? "draft length 1" : "draft length 8");
    }
    gp.spec = glimp_gen_default_params().spec;

    /* the context ends inside a draft's reach */
    const size_t n_ctx = glimp_backend_n_ctx(llm);
    gp.max_tokens = 1000;
    for (int tail = 37; tail <= 41; tail++) {
        gp.keep_free = (int)n_ctx - 60 - tail;
        greedy_identity(slm, llm, prompt, gp, "context end");
    }
    gp.keep_free = 0;
    gp.max_tokens = 200;

    /* sampled: reproducible from the seed */
    gp.temperature = 0.8f;
    gp.top_p = 0.9f;
    gp.seed = 7;
    gp.spec.mode = GLIMP_SPEC_MODEL;
    gp.spec.draft = slm;
    glimp_gen_result a = run(llm, prompt, gp), b = run(llm, prompt, gp);
    CHECK(a.n_tokens == b.n_tokens && !strcmp(a.text, b.text), "sampled: same seed, same text");
    CHECK(a.spec_drafted > 0, "sampled: the SLM drafted");
    glimp_gen_result_clear(&a);
    glimp_gen_result_clear(&b);

    /* refusals */
    glimp_spec_params self = {GLIMP_SPEC_MODEL, llm, 1, 4};
    CHECK(glimp_backend_spec_check(llm, &self, &err) == GLIMP_ERR_UNSUPPORTED &&
              strstr(err.msg, "itself"), "the model itself as its draft: %s", err.msg);
    glimp_spec_params pair = {GLIMP_SPEC_MODEL, slm, 1, 4};
    CHECK(glimp_backend_spec_check(llm, &pair, &err) == GLIMP_OK, "the demo pair shares a vocabulary");
    glimp_spec_params bad = {GLIMP_SPEC_NGRAM, NULL, 3, 2};
    CHECK(glimp_backend_spec_check(llm, &bad, &err) == GLIMP_ERR_ARG, "draft min > max");
    glimp_openai_params op = glimp_openai_default_params();
    op.base_url = "http://127.0.0.1:9";
    op.model = "m";
    op.template_name = "qwen3";
    glimp_backend *remote = glimp_backend_openai_create(&op, &err);
    REQUIRE(remote, "%s", err.msg);
    glimp_spec_params ng = {GLIMP_SPEC_NGRAM, NULL, 1, 4};
    CHECK(glimp_backend_spec_check(remote, &ng, &err) == GLIMP_ERR_UNSUPPORTED &&
              strstr(err.msg, "server-side"), "remote: %s", err.msg);
    const char *note = NULL;
    glimp_router_result *rr = route(slm, remote, "llm", GLIMP_SPEC_NGRAM, &note);
    CHECK(strstr(note, "server-side") != NULL, "router note for a remote LLM: '%s'", note);
    glimp_router_result_free(rr);
    glimp_backend_free(remote);

    routed_identity(slm, llm, "llm");
    routed_identity(slm, llm, "glimp");

    free(prompt);
    glimp_backend_free(slm);
    glimp_backend_free(llm);
    return test_finish();
}
