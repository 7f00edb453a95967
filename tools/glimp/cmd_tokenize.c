/* cmd_tokenize.c - `glimp tokenize -m FILE.gguf "text"`: the token ids and
 * pieces a model's tokenizer gives for a text.
 *
 * Prints one line per token (id, then the piece quoted with C escapes;
 * bytes that are not part of a complete UTF-8 character are shown as \xNN),
 * or with --ids-only the ids on one line. --stdin reads the text from
 * standard input (any size). Exit 0 on success, 1 when the file cannot be
 * loaded or tokenized (with the library's message), 2 on usage errors
 * (cli_args.h).
 */
#include "cli_args.h"
#include "commands.h"

#include "glimp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glimp tokenize -m FILE.gguf [options] [TEXT]\n"
            "  -m, --model FILE  GGUF model or vocabulary-only file\n"
            "  --stdin           read the text from standard input instead of TEXT\n"
            "  --ids-only        print only the ids, space-separated, on one line\n"
            "  --special         parse control tokens written in the text (<|im_end|> -> one id)\n"
            "  --no-bos          do not add BOS/EOS (by default they are added as the model asks)\n");
}

/* Reads all of stdin into a malloc'd buffer; NULL on failure. */
static char *read_stdin(size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, stdin);
        if (n < cap) break;
        char *p = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!p) {
            free(buf);
            return NULL;
        }
        buf = p;
        cap *= 2;
    }
    if (buf && ferror(stdin)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Length of the complete UTF-8 character at s (2-4 bytes), or 0. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n || s[0] == 0xC0 || s[0] == 0xC1) return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return len;
}

static void print_piece(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    putchar('\'');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len;
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\\' || c == '\'') printf("\\%c", c);
        else if (c >= 0x20 && c < 0x7F) putchar(c);
        else if (c >= 0x80 && (len = utf8_char(s + i, n - i))) {
            fwrite(s + i, 1, len, stdout);
            i += len;
            continue;
        } else printf("\\x%02x", c);
        i++;
    }
    putchar('\'');
}

int cmd_tokenize(int argc, char **argv)
{
    static const char cmd[] = "glimp tokenize";
    const char *model = NULL, *text = NULL;
    bool from_stdin = false, ids_only = false, special = false, add_special = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (i + 1 == argc) return cli_usage_error(cmd, "option '%s' needs a value", a);
            model = argv[++i];
        }
        else if (!strcmp(a, "--stdin")) from_stdin = true;
        else if (!strcmp(a, "--ids-only")) ids_only = true;
        else if (!strcmp(a, "--special")) special = true;
        else if (!strcmp(a, "--no-bos")) add_special = false;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (!text) text = a;
        else return cli_usage_error(cmd, "give the text as one argument (quote it)");
    }
    if (!model) return cli_usage_error(cmd, "-m FILE.gguf is required");
    if ((!text) == !from_stdin) return cli_usage_error(cmd, "give either TEXT or --stdin");
    size_t len = text ? strlen(text) : 0;
    char *input = NULL;
    if (from_stdin && !(input = read_stdin(&len))) {
        fprintf(stderr, "glimp tokenize: cannot read standard input\n");
        return 1;
    }
    glimp_error err = {0};
    glimp_tokenizer *tok = glimp_tokenizer_load(model, &err);
    int n = 0;
    int32_t *ids = tok ? glimp_tokenize_alloc(tok, input ? input : text, len, add_special, special,
                                              &n, &err)
                       : NULL;
    if (!ids) {
        fprintf(stderr, "glimp tokenize: %s\n", err.msg);
        free(input);
        glimp_tokenizer_free(tok);
        return 1;
    }
    char small[256];
    for (int i = 0; i < n; i++) {
        if (ids_only) {
            printf(i ? " %d" : "%d", (int)ids[i]);
            continue;
        }
        int k = glimp_token_piece(tok, ids[i], true, small, sizeof small);
        char *piece = k >= (int)sizeof small ? malloc((size_t)k + 1) : small;
        if (piece != small && piece) glimp_token_piece(tok, ids[i], true, piece, (size_t)k + 1);
        printf("%7d  ", (int)ids[i]);
        print_piece(piece ? piece : "", piece && k > 0 ? (size_t)k : 0);
        putchar('\n');
        if (piece != small) free(piece);
    }
    if (ids_only) putchar('\n');
    else printf("(%d tokens)\n", n);
    free(ids);
    free(input);
    glimp_tokenizer_free(tok);
    return 0;
}
