/* cmd_generate.c - `glimp generate -m MODEL.gguf -p PROMPT`: plain text
 * continuation with one model, streamed to stdout as it is decoded.
 *
 * The prompt is tokenized with the model's own tokenizer (BOS as the
 * vocabulary asks, control tokens written in the prompt recognised), run as
 * one batched prefill, then tokens are sampled (temperature / top-k / top-p /
 * min-p, seeded) until N tokens, an end-of-generation token or the context
 * end. With --draft (a draft model of the same vocabulary, or ngram for
 * prompt lookup) the tokens come from speculative decoding through the
 * in-process backend: the same greedy output, the same distribution when
 * sampled (temperature and top-p only). A one-line summary goes to stderr.
 * Exit 0 on success, 1 when the model cannot be loaded or run (with the
 * library's message), 2 on usage errors (cli_args.h).
 */
#include "cli_args.h"
#include "commands.h"

#include "glimp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CTX_CAP 4096

static void usage(FILE *out)
{
    glimp_sampler_params sp = glimp_sampler_default_params();
    fprintf(out,
            "usage: glimp generate -m MODEL.gguf -p PROMPT [options]\n"
            "  -m, --model FILE   GGUF model (llama, qwen2, qwen3)\n"
            "  -p, --prompt TEXT  prompt text (tokenized with the model's tokenizer)\n"
            "  -n N               tokens to generate (default 128)\n"
            "  --temp T           temperature, 0 = greedy (default %.2g)\n"
            "  --top-k K          keep the K most likely tokens, 0 = off (default %d)\n"
            "  --top-p P          nucleus sampling, 1 = off (default %.2g)\n"
            "  --min-p M          drop tokens below M x the best probability (default %.2g)\n"
            "  --seed S           random seed (default %llu)\n"
            "  -t, --threads N    threads (default: physical cores)\n"
            "  --ctx N            context length (default: the model's, at most %d)\n"
            "  --draft FILE|ngram speculative decoding: FILE drafts (same vocabulary), or\n"
            "                     ngram (prompt lookup); temperature and top-p only\n"
            "  --draft-max N      most draft tokens per forward pass (default 6)\n"
            "  --draft-min N      fewest the adaptive draft length shrinks to (default 1)\n"
            "  --kv-type T        KV cache type: f16 (default), f32, q8_0\n"
            "Text goes to stdout; a summary (tokens, prefill and decode tokens/s) to stderr;\n"
            "decode counts the tokens after the first, sampling included, with or without\n"
            "--draft.\n",
            (double)sp.temperature, (int)sp.top_k, (double)sp.top_p, (double)sp.min_p,
            (unsigned long long)sp.seed, DEFAULT_CTX_CAP);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parses a number option value; false (with a message) when malformed. */
static bool parse_num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || !(d >= lo && d <= hi)) {
        if (!v) cli_usage_error("glimp generate", "option '%s' needs a value", opt);
        else cli_usage_error("glimp generate", "%s: '%s' is not a number in [%g, %g]", opt, v, lo,
                             hi);
        return false;
    }
    *out = d;
    return true;
}

typedef struct gen_opts {
    const char *model, *prompt;
    int n_gen, n_threads;
    size_t n_ctx;
    glimp_kv_type kv_type;
    glimp_sampler_params sp;
    const char *draft;      /* --draft: a GGUF file or "ngram" */
    int draft_min, draft_max;
} gen_opts;

/* Returns 0 when the options are complete, 1 for --help, 2 on errors. */
static int parse_args(int argc, char **argv, gen_opts *o)
{
    o->n_gen = 128;
    o->sp = glimp_sampler_default_params();
    o->draft_min = glimp_gen_default_params().spec.draft_min;
    o->draft_max = glimp_gen_default_params().spec.draft_max;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
        if ((!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "-p") ||
             !strcmp(a, "--prompt")) && !v)
            return cli_usage_error("glimp generate", "option '%s' needs a value", a);
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) o->prompt = v;
        else if (!strcmp(a, "-n") && parse_num(a, v, 0, 1 << 24, &d)) o->n_gen = (int)d;
        else if (!strcmp(a, "--temp") && parse_num(a, v, 0, 100, &d)) o->sp.temperature = (float)d;
        else if (!strcmp(a, "--top-k") && parse_num(a, v, 0, 1 << 30, &d)) o->sp.top_k = (int)d;
        else if (!strcmp(a, "--top-p") && parse_num(a, v, 1e-6, 1, &d)) o->sp.top_p = (float)d;
        else if (!strcmp(a, "--min-p") && parse_num(a, v, 0, 1, &d)) o->sp.min_p = (float)d;
        else if (!strcmp(a, "--seed") && parse_num(a, v, 0, 1.8e19, &d))
            o->sp.seed = (uint64_t)d;
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && parse_num(a, v, 1, 1024, &d))
            o->n_threads = (int)d;
        else if (!strcmp(a, "--ctx") && parse_num(a, v, 1, 1 << 24, &d)) o->n_ctx = (size_t)d;
        else if (!strcmp(a, "--draft") && v) o->draft = v;
        else if (!strcmp(a, "--draft-max") && parse_num(a, v, 1, GLIMP_SPEC_DRAFT_LIMIT, &d))
            o->draft_max = (int)d;
        else if (!strcmp(a, "--draft-min") && parse_num(a, v, 1, GLIMP_SPEC_DRAFT_LIMIT, &d))
            o->draft_min = (int)d;
        else if (!strcmp(a, "--kv-type") && v && glimp_kv_type_parse(v, &o->kv_type))
            ;
        else {
            const char *known[] = {"-n", "--temp", "--top-k", "--top-p", "--min-p", "--seed",
                                   "-t", "--threads", "--ctx", "--draft", "--draft-max",
                                   "--draft-min"};
            bool bad_value = false;
            for (size_t k = 0; k < sizeof known / sizeof *known; k++)
                bad_value |= !strcmp(a, known[k]);
            if (!strcmp(a, "--kv-type"))
                cli_usage_error("glimp generate", "--kv-type: '%s' is not f16, f32 or q8_0",
                                v ? v : "");
            else if (!bad_value) cli_usage_error("glimp generate", "unknown option '%s'", a);
            return CLI_USAGE;
        }
        i++; /* every option takes a value */
    }
    if (!o->model || !o->prompt)
        return cli_usage_error("glimp generate", "-m MODEL and -p PROMPT are required");
    if (o->draft && o->draft_min > o->draft_max)
        return cli_usage_error("glimp generate", "--draft-min %d exceeds --draft-max %d",
                               o->draft_min, o->draft_max);
    if (o->draft && o->sp.temperature > 0 && (o->sp.top_k > 0 || o->sp.min_p > 0))
        return cli_usage_error("glimp generate", "--draft samples with temperature and top-p "
                                                 "only (drop --top-k / --min-p)");
    return 0;
}

static bool print_piece(void *user, const char *piece, size_t len)
{
    (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return true;
}

static glimp_backend *open_local(const char *path, const gen_opts *o, size_t n_ctx,
                                 glimp_error *err)
{
    glimp_local_params lp = glimp_local_default_params();
    lp.model_path = path;
    lp.template_name = "raw"; /* prompts go in as given: no template is rendered */
    lp.n_threads = o->n_threads;
    lp.n_ctx = (int)n_ctx;
    return glimp_backend_local_create(&lp, err);
}

/* --draft: the whole generation by speculative decoding; exit status. */
static int generate_spec(const gen_opts *o, size_t n_ctx)
{
    glimp_error err = {0};
    const bool ngram = !strcmp(o->draft, "ngram");
    glimp_backend *target = open_local(o->model, o, n_ctx, &err);
    glimp_backend *draft = target && !ngram ? open_local(o->draft, o, n_ctx, &err) : NULL;
    glimp_gen_params gp = glimp_gen_default_params();
    gp.max_tokens = o->n_gen > 0 ? o->n_gen : 1;
    gp.temperature = o->sp.temperature;
    gp.top_p = o->sp.top_p;
    gp.seed = o->sp.seed;
    gp.on_piece = print_piece;
    gp.spec = (glimp_spec_params){ngram ? GLIMP_SPEC_NGRAM : GLIMP_SPEC_MODEL, draft,
                                  o->draft_min, o->draft_max};
    glimp_status st = target && (ngram || draft) ? GLIMP_OK : err.status;
    if (st == GLIMP_OK && glimp_backend_spec_check(target, &gp.spec, &err) != GLIMP_OK) {
        fprintf(stderr, "glimp generate: %s\n", err.msg);
        gp.spec.mode = GLIMP_SPEC_OFF;
    }
    glimp_gen_result r = {0};
    if (st == GLIMP_OK && o->n_gen > 0) st = glimp_backend_generate(target, o->prompt, &gp, &r, &err);
    if (st == GLIMP_OK && r.n_tokens > 0) putchar('\n');
    if (st != GLIMP_OK) {
        fprintf(stderr, "glimp generate: %s\n", err.msg);
    } else {
        const double decode_ms = r.total_ms - r.probe_ms;
        /* as without --draft: an end-of-generation token is not one of the generated */
        const int n_text = r.n_tokens - (r.stop == GLIMP_STOP_EOS);
        fprintf(stderr,
                "glimp generate: prompt %d tokens, generated %d tokens; decode %.2f tokens/s; "
                "speculation %s: %d of %d drafted tokens accepted, %d forward passes (%.2f "
                "tokens each)\n",
                r.prefill_tokens, n_text, decode_ms > 0 ? (r.n_tokens - 1) / decode_ms * 1e3 : 0.0,
                glimp_spec_mode_name(gp.spec.mode), r.spec_accepted, r.spec_drafted, r.n_forwards,
                r.n_forwards ? (double)r.n_tokens / r.n_forwards : 0.0);
    }
    glimp_gen_result_clear(&r);
    glimp_backend_free(draft);
    glimp_backend_free(target);
    return st == GLIMP_OK ? 0 : 1;
}

/* Samples and streams up to o->n_gen tokens after the prompt; returns the
 * number generated, or -1 on error. *n_decoded gets the tokens after the
 * first and *t_decode the time they took, sampling and streaming included
 * (as --draft's figure counts them: the rates compare). */
static int generate(const gen_opts *o, glimp_session *s, const glimp_tokenizer *tok,
                    double *t_decode, int *n_decoded, glimp_error *err)
{
    glimp_sampler *smp = glimp_sampler_create(&o->sp, err);
    glimp_detok *dt = smp ? glimp_detok_create(tok, false, true, err) : NULL;
    int n = 0;
    bool ok = dt != NULL;
    const char *piece;
    *t_decode = 0;
    *n_decoded = 0;
    double t_first = 0;
    while (ok && n < o->n_gen) {
        int32_t t;
        ok = glimp_sampler_sample(smp, glimp_session_logits(s), glimp_session_n_vocab(s), &t,
                                  err) == GLIMP_OK;
        if (n == 0) t_first = now_s();
        if (!ok || glimp_token_is_eog(tok, t)) break;
        n++;
        const int len = glimp_detok_push(dt, t, &piece, err);
        ok = len >= 0;
        if (!ok) break;
        fwrite(piece, 1, (size_t)len, stdout);
        fflush(stdout);
        if (n == o->n_gen || glimp_session_n_tokens(s) == glimp_session_n_ctx(s)) break;
        ok = glimp_session_decode(s, t, err) == GLIMP_OK;
    }
    if (n > 1) {
        *t_decode = now_s() - t_first;
        *n_decoded = n - 1;
    }
    if (dt) { /* nothing written (e.g. the first sample failed): no empty line */
        const int len = glimp_detok_flush(dt, &piece);
        if (len > 0) fwrite(piece, 1, (size_t)len, stdout);
        if (n > 0 || len > 0) putchar('\n');
    }
    glimp_detok_free(dt);
    glimp_sampler_free(smp);
    return ok ? n : -1;
}

int cmd_generate(int argc, char **argv)
{
    gen_opts o = {0};
    const int pr = parse_args(argc, argv, &o);
    if (pr == 1) {
        usage(stdout);
        return 0;
    }
    if (pr) return 2;
    if (o.draft) {
        glimp_error e = {0};
        glimp_model *m = glimp_model_load(o.model, NULL, &e);
        if (!m) {
            fprintf(stderr, "glimp generate: %s\n", e.msg);
            return 1;
        }
        const size_t train = glimp_model_n_ctx_train(m);
        glimp_model_free(m);
        return generate_spec(&o, o.n_ctx ? o.n_ctx : (train < DEFAULT_CTX_CAP ? train : DEFAULT_CTX_CAP));
    }

    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(o.model, &err);
    glimp_model *m = tok ? glimp_model_load(o.model, NULL, &err) : NULL;
    glimp_session *s = NULL;
    int32_t *ids = NULL;
    int n_ids = 0, n_gen = -1, n_decoded = 0;
    double t_prefill = 0, t_decode = 0;
    if (m) {
        glimp_session_params sp = glimp_session_default_params();
        const size_t train = glimp_model_n_ctx_train(m);
        sp.n_ctx = o.n_ctx ? o.n_ctx : (train < DEFAULT_CTX_CAP ? train : DEFAULT_CTX_CAP);
        sp.n_threads = o.n_threads;
        sp.kv_type = o.kv_type;
        s = glimp_session_create(m, &sp, &err);
    }
    if (s) ids = glimp_tokenize_alloc(tok, o.prompt, strlen(o.prompt), true, true, &n_ids, &err);
    if (ids && n_ids == 0) fprintf(stderr, "glimp generate: the prompt gives no tokens\n");
    if (ids && n_ids > 0) {
        const double t0 = now_s();
        if (glimp_session_append(s, ids, (size_t)n_ids, &err) == GLIMP_OK) {
            t_prefill = now_s() - t0;
            n_gen = generate(&o, s, tok, &t_decode, &n_decoded, &err);
        }
    }
    int rc = 0;
    if (n_gen < 0) {
        if (err.status) fprintf(stderr, "glimp generate: %s\n", err.msg);
        rc = 1;
    } else {
        fprintf(stderr,
                "glimp generate: prompt %d tokens, generated %d tokens; prefill %.2f tokens/s, "
                "decode %.2f tokens/s (%d threads)\n",
                n_ids, n_gen, t_prefill > 0 ? n_ids / t_prefill : 0.0,
                t_decode > 0 ? n_decoded / t_decode : 0.0, glimp_session_n_threads(s));
    }
    free(ids);
    glimp_session_free(s);
    glimp_model_free(m);
    glimp_tokenizer_free(tok);
    return rc;
}
