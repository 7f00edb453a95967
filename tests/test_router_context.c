/* test_router_context.c - the router when a model's context runs out, and
 * the final answer's stop strings, on the demo pair (models/demo/{slm,llm}
 * .gguf, in the repository) with small n_ctx:
 *  - thinking that fills the context ends with think_end "context" and the
 *    answer follows in the room kept for it (every policy family: probe,
 *    single writer, draft);
 *  - a question leaving less room than the answer's budget: no thinking,
 *    the answer cut by the context (answer_stop GLIMP_STOP_CONTEXT);
 *  - a question the context cannot hold with its answer: GLIMP_ERR_RANGE
 *    saying so, no result;
 *  - the answer ends at a stop string (not part of it), named in the JSON;
 *  - thinking the model closed itself ("...\n</think>"): the last step
 *    keeps no newline of that markup, so the answer's prompt is the
 *    model's own text plus "\n\n" (one token prefilled), not
 *    "...\n\n</think>", a format the model never saw;
 *  - a run cancelled by a callback hands back the partial result with the
 *    tokens generated so far.
 */
#include "test_util.h"

#include "glimp.h"

static const char question[] =
    "Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. Whoever "
    "has more marbles gives 5 to the other. Owen finds 32 more marbles. How many more marbles "
    "does the one with more have?";

typedef struct pair {
    glimp_backend *slm, *llm;
} pair;

static pair load_pair(const char *src, int n_ctx)
{
    char path[4096];
    glimp_error err = {0};
    glimp_local_params lp = glimp_local_default_params();
    lp.n_threads = 1;
    lp.n_ctx = n_ctx;
    lp.model_path = path;
    pair p;
    snprintf(path, sizeof path, "%s/models/demo/slm.gguf", src);
    p.slm = glimp_backend_local_create(&lp, &err);
    REQUIRE(p.slm, "slm: %s", err.msg);
    snprintf(path, sizeof path, "%s/models/demo/llm.gguf", src);
    p.llm = glimp_backend_local_create(&lp, &err);
    REQUIRE(p.llm, "llm: %s", err.msg);
    return p;
}

static void free_pair(pair p)
{
    glimp_backend_free(p.slm);
    glimp_backend_free(p.llm);
}

static glimp_status run(pair p, const glimp_router_params *rp,
                        const glimp_router_callbacks *cb, glimp_router_result **res,
                        glimp_error *err)
{
    glimp_router *r = glimp_router_create(p.slm, p.llm, rp, err);
    REQUIRE(r, "router: %s", err->msg);
    glimp_status st = glimp_router_run(r, question, cb, res, err);
    glimp_router_free(r);
    return st;
}

static glimp_router_params greedy(glimp_policy policy, int final_max)
{
    glimp_router_params rp = glimp_router_default_params();
    rp.policy = policy;
    rp.temperature = 0.0f;
    rp.final_max_tokens = final_max;
    return rp;
}

/* n_ctx 128 holds the question (~64 tokens) and about one step besides the
 * 24 + slack kept for the answer; unbounded, the pair thinks ~170 tokens. */
static void test_thinking_fills_context(const char *src)
{
    pair p = load_pair(src, 128);
    const glimp_policy policies[] = {GLIMP_POLICY_GLIMP, GLIMP_POLICY_LLM, GLIMP_POLICY_HSTEP};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        glimp_router_params rp = greedy(policies[i], 24);
        glimp_router_result *res = NULL;
        glimp_error err = {0};
        glimp_status st = run(p, &rp, NULL, &res, &err);
        const char *name = glimp_policy_name(policies[i]);
        CHECK(st == GLIMP_OK, "%s: a full context ends thinking, not the run: %s", name, err.msg);
        if (st != GLIMP_OK) continue;
        CHECK(res->think_end == GLIMP_THINK_CONTEXT, "%s: think_end %s", name,
              glimp_think_end_name(res->think_end));
        CHECK(res->n_steps >= 1, "%s: %d steps", name, res->n_steps);
        for (int k = 0; k < res->n_steps; k++)
            CHECK(res->steps[k].n_tokens > 0, "%s: step %d is empty", name, k);
        CHECK(res->answer && res->answer[0] && res->answer_tokens > 0, "%s: an answer", name);
        CHECK(res->answer_stop != GLIMP_STOP_CONTEXT, "%s: the answer had its room", name);
        char *json = glimp_router_result_json(res);
        CHECK(json && strstr(json, "\"think_end\":\"context\""), "%s: JSON %s", name,
              json ? json : "(null)");
        free(json);
        glimp_router_result_free(res);
    }
    free_pair(p);
}

static void test_question_leaves_little_room(const char *src)
{
    pair p = load_pair(src, 76); /* 10 positions after the question */
    glimp_router_params rp = greedy(GLIMP_POLICY_GLIMP, 2048);
    glimp_router_result *res = NULL;
    glimp_error err = {0};
    glimp_status st = run(p, &rp, NULL, &res, &err);
    CHECK(st == GLIMP_OK, "%s", err.msg);
    if (st == GLIMP_OK) {
        CHECK(res->n_steps == 0 && res->think_end == GLIMP_THINK_CONTEXT, "%d steps, %s",
              res->n_steps, glimp_think_end_name(res->think_end));
        CHECK(res->answer_stop == GLIMP_STOP_CONTEXT && res->answer_tokens > 0,
              "answer cut by the context: stop %d, %d tokens", (int)res->answer_stop,
              res->answer_tokens);
        char *json = glimp_router_result_json(res);
        CHECK(json && strstr(json, "\"end\":\"context\""), "answer end in JSON");
        free(json);
    }
    glimp_router_result_free(res);
    free_pair(p);
}

static void test_no_room_for_answer(const char *src)
{
    const int ctxs[] = {60, 66}; /* the final prompt (66 tokens) does not fit / just fits */
    for (size_t i = 0; i < 2; i++) {
        pair p = load_pair(src, ctxs[i]);
        glimp_router_params rp = greedy(GLIMP_POLICY_GLIMP, 64);
        glimp_router_result *res = (glimp_router_result *)&rp; /* must become NULL */
        glimp_error err = {0};
        glimp_status st = run(p, &rp, NULL, &res, &err);
        CHECK(st == GLIMP_ERR_RANGE, "n_ctx %d: status %d (%s)", ctxs[i], (int)st, err.msg);
        CHECK(strstr(err.msg, "no room for the final answer"), "n_ctx %d: message %s", ctxs[i],
              err.msg);
        CHECK(res == NULL, "n_ctx %d: no result", ctxs[i]);
        free_pair(p);
    }
}

static void test_answer_stop(const char *src)
{
    pair p = load_pair(src, 0);
    const char *stops[] = {"zzz", "\\boxed"};
    glimp_router_params rp = greedy(GLIMP_POLICY_GLIMP, 64);
    rp.stop = stops;
    rp.n_stop = 2;
    glimp_router_result *res = NULL;
    glimp_error err = {0};
    glimp_status st = run(p, &rp, NULL, &res, &err);
    REQUIRE(st == GLIMP_OK, "%s", err.msg);
    CHECK(res->answer_stop == GLIMP_STOP_STRING && res->answer_stop_index == 1,
          "answer stop %d index %d: %s", (int)res->answer_stop, res->answer_stop_index,
          res->answer);
    CHECK(!strstr(res->answer, "boxed") && strstr(res->answer, "answer is"), "answer '%s'",
          res->answer);
    char *json = glimp_router_result_json(res);
    CHECK(json && strstr(json, "\"stop\":[\"zzz\",\"\\\\boxed\"]") &&
              strstr(json, "\"end\":\"stop\""), "JSON: %s", json ? json : "(null)");
    free(json);
    glimp_router_result_free(res);
    const char *empty[] = {""};
    rp.stop = empty;
    rp.n_stop = 1;
    glimp_router *r = glimp_router_create(p.slm, p.llm, &rp, &err);
    CHECK(!r && err.status == GLIMP_ERR_ARG, "an empty stop string is refused");
    free_pair(p);
}

static void test_closed_thinking(const char *src)
{
    pair p = load_pair(src, 0);
    glimp_router_params rp = greedy(GLIMP_POLICY_LLM, 64);
    glimp_router_result *res = NULL;
    glimp_error err = {0};
    glimp_status st = run(p, &rp, NULL, &res, &err);
    REQUIRE(st == GLIMP_OK, "%s", err.msg);
    REQUIRE(res->think_end == GLIMP_THINK_CLOSED && res->n_steps > 0, "think_end %d",
            (int)res->think_end);
    const char *last = res->steps[res->n_steps - 1].text;
    size_t n = strlen(last);
    CHECK(n > 0 && last[n - 1] != '\n', "last step ends with a newline: '%s'", last);
    CHECK(res->answer_prefill == 1, "answer prefilled %d tokens (\"\\n\\n\" after </think>)",
          res->answer_prefill);
    glimp_router_result_free(res);
    free_pair(p);
}

static int pieces_left;
/* Cancels at the n-th piece of a step, or at the answer's first piece (-1). */
static bool cancel_at_piece(void *user, int index, glimp_role model, const char *piece,
                            size_t len)
{
    (void)user, (void)model, (void)piece, (void)len;
    if (pieces_left < 0) return index >= 0;
    return --pieces_left > 0;
}

static void test_cancel_keeps_counts(const char *src)
{
    pair p = load_pair(src, 0);
    glimp_router_params rp = greedy(GLIMP_POLICY_GLIMP, 64);
    glimp_router_callbacks cb = {.on_piece = cancel_at_piece};
    const int limits[] = {5, -1}; /* inside the first step / at the answer */
    for (int i = 0; i < 2; i++) {
        pieces_left = limits[i];
        glimp_router_result *res = NULL;
        glimp_error err = {0};
        glimp_status st = run(p, &rp, &cb, &res, &err);
        CHECK(st == GLIMP_ERR_CANCELLED, "cancelled: %d", (int)st);
        REQUIRE(res, "a partial result");
        int tokens = res->tokens_by[0] + res->tokens_by[1], steps = 0;
        for (int k = 0; k < res->n_steps; k++) steps += res->steps[k].n_tokens;
        if (i == 0) {
            CHECK(res->n_steps == 0 && tokens >= 5, "cut in step 0: %d steps, %d tokens",
                  res->n_steps, tokens);
        } else {
            CHECK(res->n_steps > 0 && !res->answer, "cut at the answer: %d steps", res->n_steps);
            CHECK(tokens == steps + 1, "the steps' %d tokens and the answer's first: %d", steps,
                  tokens);
        }
        glimp_router_result_free(res);
    }
    free_pair(p);
}

int main(void)
{
    const char *src = getenv("GLIMP_SRC") ? getenv("GLIMP_SRC") : "..";
    char path[4096];
    snprintf(path, sizeof path, "%s/models/demo/llm.gguf", src);
    struct stat sb;
    if (stat(path, &sb) != 0) test_skip("models/demo not found (set GLIMP_SRC)");
    test_thinking_fills_context(src);
    test_question_leaves_little_room(src);
    test_no_room_for_answer(src);
    test_answer_stop(src);
    test_closed_thinking(src);
    test_cancel_keeps_counts(src);
    return test_finish();
}
