/* cmd_mkmodel.c - `glimp mkmodel`: writes a random-weight GGUF model of a
 * real model's shape (--preset) or a free one, for benchmarks and tests.
 *
 * Metadata keys are spelled as llama.cpp writes them; the vocabulary is
 * copied from a GGUF file (--vocab) or synthetic; weights are quantized to
 * --type one tensor at a time while streaming, on all cores (see
 * mkmodel_weights.c), with a progress line for large files and the time
 * taken at the end. The same options and seed give a byte-identical file,
 * whatever the thread count. Exit 0 on success, 1 on
 * failure (the partial file is removed), 2 on usage errors.
 */
#include "cli_args.h"
#include "commands.h"
#include "mkmodel.h"

#include "base/threadpool.h"
#include "quant/quant.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glimp mkmodel -o FILE.gguf (--preset NAME | --arch A --layers N --dim N\n"
            "                     --heads N --ff N) [options]\n\n"
            "Writes a GGUF model with random weights (matrices N(0,1)/sqrt(fan_in), norm\n"
            "weights ~1): same shapes, size and speed as the real model, useless output.\n\n"
            "  -o, --output FILE   file to write (required)\n"
            "  --preset NAME       a real model's shape (--list-presets); the options\n"
            "                      below override single values\n"
            "  --arch A            llama | qwen2 | qwen3\n"
            "  --layers N --dim N --heads N --kv-heads N --head-dim N --ff N\n"
            "  --vocab-size N      synthetic vocabulary size (default 32000, min %u)\n"
            "  --ctx N             context length (default 4096)\n"
            "  --rope-theta X --rms-eps X   (defaults: llama 1e4 / 1e-5, qwen 1e6 / 1e-6)\n"
            "  --tied | --untied   share token_embd as the output projection or not\n"
            "  --vocab FILE.gguf   copy every tokenizer.* key of FILE (vocabulary size\n"
            "                      follows it); default: a synthetic SentencePiece vocabulary\n"
            "  --type T            type of the weight matrices (default F16): F32 F16 BF16\n"
            "                      Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K, or\n"
            "                      Q4_K_M (llama.cpp's mix: Q4_K, Q6_K for the output and\n"
            "                      half the attn_v/ffn_down); norms and biases stay F32\n"
            "  --seed N            random seed (default 1); same options -> same bytes\n"
            "  -t, --threads N     threads converting the weights (default: all cores;\n"
            "                      the file does not depend on it)\n"
            "  --name NAME         general.name (default: the preset's)\n"
            "  --quiet             print nothing but errors\n"
            "  --list-presets      print the presets and exit\n",
            MKMODEL_MIN_SYNTH_VOCAB);
}

static void list_presets(void)
{
    printf("%-22s %-6s %6s %6s %5s %4s %5s %6s %7s %7s %5s\n", "preset", "arch", "layers",
           "n_embd", "heads", "kv", "hdim", "n_ff", "vocab", "ctx", "tied");
    const mkmodel_shape *p;
    for (int i = 0; (p = mkmodel_preset_at(i)); i++)
        printf("%-22s %-6s %6u %6u %5u %4u %5u %6u %7u %7u %5s\n", p->name, p->arch, p->n_layer,
               p->n_embd, p->n_head, p->n_head_kv, p->head_dim, p->n_ff, p->n_vocab, p->n_ctx,
               p->tied ? "yes" : "no");
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-') return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_type(const char *s, mkmodel_options *opt)
{
    opt->mix = MKMODEL_MIX_PURE;
    if (!strcasecmp(s, "Q4_K_M")) {
        opt->type = QT_Q4_K;
        opt->mix = MKMODEL_MIX_Q4_K_M;
        return true;
    }
    for (uint32_t t = 0; t < QT_MAX_ID; t++) {
        /* activation-only types are not weight formats */
        if (t == QT_Q8_1 || t == QT_Q8_K || !qt_get(t)) continue;
        if (!strcasecmp(s, qt_name(t))) {
            opt->type = t;
            return true;
        }
    }
    return false;
}

typedef struct cli {
    const char *output, *vocab, *name;
    mkmodel_shape shape;
    mkmodel_options opt;
    bool have_arch;
    bool set_rope, set_eps, set_head_dim, set_kv;
} cli;

/* The options that take a value (set_option). */
static const char *const value_options[] = {
    "--layers", "--dim", "--heads", "--kv-heads", "--head-dim", "--ff", "--vocab-size", "--ctx",
    "--rope-theta", "--rms-eps", "--preset", "--arch", "--type", "--seed", "-o", "--output",
    "--vocab", "--name", "-t", "--threads", NULL};

static bool takes_value(const char *opt)
{
    for (const char *const *o = value_options; *o; o++)
        if (!strcmp(*o, opt)) return true;
    return false;
}

/* Applies one option with a value; false when the value is bad. */
static bool set_option(cli *c, const char *opt, const char *val)
{
    mkmodel_shape *s = &c->shape;
    struct { const char *name; uint32_t *field; } u32s[] = {
        {"--layers", &s->n_layer}, {"--dim", &s->n_embd},       {"--heads", &s->n_head},
        {"--kv-heads", &s->n_head_kv}, {"--head-dim", &s->head_dim}, {"--ff", &s->n_ff},
        {"--vocab-size", &s->n_vocab}, {"--ctx", &s->n_ctx},
    };
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        if (strcmp(opt, u32s[i].name)) continue;
        if (!strcmp(opt, "--head-dim")) c->set_head_dim = true;
        if (!strcmp(opt, "--kv-heads")) c->set_kv = true;
        return parse_u32(val, u32s[i].field) && *u32s[i].field > 0;
    }
    char *end;
    if (!strcmp(opt, "--rope-theta") || !strcmp(opt, "--rms-eps")) {
        float x = strtof(val, &end);
        if (end == val || *end || !(x > 0)) return false;
        if (!strcmp(opt, "--rope-theta")) {
            s->rope_theta = x;
            c->set_rope = true;
        } else {
            s->rms_eps = x;
            c->set_eps = true;
        }
        return true;
    }
    if (!strcmp(opt, "--preset")) {
        const mkmodel_shape *p = mkmodel_preset(val);
        if (!p) return false;
        *s = *p;
        c->have_arch = c->set_rope = c->set_eps = c->set_kv = true;
        /* only qwen3 configs give head_dim; elsewhere it follows --dim/--heads */
        c->set_head_dim = !strcmp(p->arch, "qwen3");
        return true;
    }
    if (!strcmp(opt, "--arch")) {
        if (strcmp(val, "llama") && strcmp(val, "qwen2") && strcmp(val, "qwen3")) return false;
        s->arch = !strcmp(val, "llama") ? "llama" : !strcmp(val, "qwen2") ? "qwen2" : "qwen3";
        c->have_arch = true;
        return true;
    }
    if (!strcmp(opt, "--type")) return parse_type(val, &c->opt);
    if (!strcmp(opt, "--seed")) {
        errno = 0;
        c->opt.seed = strtoull(val, &end, 0);
        return !errno && end != val && !*end;
    }
    if (!strcmp(opt, "-t") || !strcmp(opt, "--threads")) {
        long n = strtol(val, &end, 10);
        c->opt.n_threads = (int)n;
        return end != val && !*end && n >= 1 && n <= 1024;
    }
    if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) c->output = val;
    else if (!strcmp(opt, "--vocab")) c->vocab = val;
    else if (!strcmp(opt, "--name")) c->name = val;
    else return false;
    return true;
}

/* Fills defaults and checks the shape; prints the problem and returns false. */
static bool finish_shape(cli *c)
{
    mkmodel_shape *s = &c->shape;
    if (!c->output || !c->have_arch || !s->n_layer || !s->n_embd || !s->n_head || !s->n_ff) {
        cli_usage_error("glimp mkmodel", "need -o and --preset, or --arch --layers --dim "
                                         "--heads --ff");
        return false;
    }
    bool llama = !strcmp(s->arch, "llama");
    if (!c->set_kv) s->n_head_kv = s->n_head;
    if (!c->set_head_dim) s->head_dim = s->n_embd / s->n_head;
    if (!c->set_rope) s->rope_theta = llama ? 1e4f : 1e6f;
    if (!c->set_eps) s->rms_eps = llama ? 1e-5f : 1e-6f;
    if (!s->n_vocab) s->n_vocab = 32000;
    if (!s->n_ctx) s->n_ctx = 4096;
    if (!c->set_head_dim && s->n_embd % s->n_head) {
        cli_usage_error("glimp mkmodel", "--dim %u is not a multiple of --heads %u (give "
                        "--head-dim)", s->n_embd, s->n_head);
        return false;
    }
    if (s->n_head_kv > s->n_head || s->n_head % s->n_head_kv) {
        cli_usage_error("glimp mkmodel", "--heads %u is not a multiple of --kv-heads %u",
                        s->n_head, s->n_head_kv);
        return false;
    }
    if (s->head_dim % 2) {
        cli_usage_error("glimp mkmodel", "head dimension %u is odd (RoPE rotates pairs)",
                        s->head_dim);
        return false;
    }
    return true;
}

static void add_general(gguf_writer *w, const cli *c)
{
    const mkmodel_shape *s = &c->shape;
    char name[128];
    snprintf(name, sizeof name, "random %s", s->arch);
    gguf_writer_add_str(w, "general.architecture", s->arch);
    gguf_writer_add_str(w, "general.name", c->name ? c->name : s->name ? s->name : name);
    gguf_writer_add_u32(w, "general.file_type", mkmodel_file_type(&c->opt));
    if (c->opt.type != QT_F32 && c->opt.type != QT_F16 && c->opt.type != QT_BF16)
        gguf_writer_add_u32(w, "general.quantization_version", 2);
}

static void add_hparams(gguf_writer *w, const mkmodel_shape *s)
{
    char key[96];
#define ARCH_KEY(suffix) (snprintf(key, sizeof key, "%s." suffix, s->arch), key)
    gguf_writer_add_u32(w, ARCH_KEY("context_length"), s->n_ctx);
    gguf_writer_add_u32(w, ARCH_KEY("embedding_length"), s->n_embd);
    gguf_writer_add_u32(w, ARCH_KEY("block_count"), s->n_layer);
    gguf_writer_add_u32(w, ARCH_KEY("feed_forward_length"), s->n_ff);
    gguf_writer_add_u32(w, ARCH_KEY("attention.head_count"), s->n_head);
    gguf_writer_add_u32(w, ARCH_KEY("attention.head_count_kv"), s->n_head_kv);
    gguf_writer_add_f32(w, ARCH_KEY("rope.freq_base"), s->rope_theta);
    gguf_writer_add_f32(w, ARCH_KEY("attention.layer_norm_rms_epsilon"), s->rms_eps);
    if (!strcmp(s->arch, "qwen3") || s->head_dim * s->n_head != s->n_embd) {
        gguf_writer_add_u32(w, ARCH_KEY("attention.key_length"), s->head_dim);
        gguf_writer_add_u32(w, ARCH_KEY("attention.value_length"), s->head_dim);
    }
    if (!strcmp(s->arch, "llama")) {
        gguf_writer_add_u32(w, ARCH_KEY("rope.dimension_count"), s->head_dim);
        gguf_writer_add_u32(w, ARCH_KEY("vocab_size"), s->n_vocab);
    }
#undef ARCH_KEY
}

static int make_model(cli *c)
{
    glimp_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gguf_writer *w = gguf_writer_create(&err);
    if (!w) goto fail;
    add_general(w, c);
    /* a copied vocabulary decides n_vocab, which hyperparameters and shapes use */
    glimp_status st = mkmodel_add_vocab(w, c->vocab, &c->shape.n_vocab, &err);
    if (st) goto fail;
    add_hparams(w, &c->shape);
    if ((st = mkmodel_declare_tensors(w, &c->shape, &c->opt, &err))) goto fail;
    if ((st = gguf_writer_begin(w, c->output, &err))) goto fail;
    if ((st = mkmodel_write_tensors(w, &c->shape, &c->opt, &err))) goto fail;
    if ((st = gguf_writer_finish(w, &err))) goto fail;
    gguf_writer_free(w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c->opt.verbose)
        fprintf(stderr, "mkmodel: wrote %s (%s, %u layers, n_embd %u, vocab %u, %s) in %.1f s "
                        "(%d threads)\n",
                c->output, c->shape.arch, c->shape.n_layer, c->shape.n_embd, c->shape.n_vocab,
                c->opt.mix == MKMODEL_MIX_Q4_K_M ? "Q4_K_M" : qt_name(c->opt.type),
                (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, c->opt.n_threads);
    return 0;
fail:
    gguf_writer_free(w); /* removes a partial file */
    fprintf(stderr, "glimp mkmodel: %s\n", err.msg);
    return 1;
}

int cmd_mkmodel(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.opt.type = QT_F16;
    c.opt.seed = 1;
    c.opt.verbose = true;
    /* the preset first, whatever its position, so other options override it */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--preset") && !set_option(&c, argv[i], argv[i + 1]))
            return cli_bad_value("glimp mkmodel", "--preset", argv[i + 1],
                                 "a preset (--list-presets)");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--list-presets")) {
            list_presets();
            return 0;
        }
        if (!strcmp(a, "--quiet")) c.opt.verbose = false;
        else if (!strcmp(a, "--preset") && i + 1 < argc) i++; /* applied above */
        else if (!strcmp(a, "--tied") || !strcmp(a, "--untied")) c.shape.tied = a[2] == 't';
        else if (!takes_value(a))
            return cli_usage_error("glimp mkmodel", "unknown option '%s'", a);
        else if (i + 1 >= argc)
            return cli_usage_error("glimp mkmodel", "option '%s' needs a value", a);
        else if (!set_option(&c, a, argv[i + 1]))
            return cli_usage_error("glimp mkmodel", "%s: '%s' is not a valid value", a,
                                   argv[i + 1]);
        else
            i++;
    }
    if (!finish_shape(&c)) return CLI_USAGE;
    if (!c.opt.n_threads) c.opt.n_threads = threadpool_default_threads();
    return make_model(&c);
}
