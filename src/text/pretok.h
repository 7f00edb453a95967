/* pretok.h - pre-tokenizers of byte-level BPE: the regex cascades named by
 * tokenizer.ggml.pre that cut text into words before BPE merges run.
 *
 * A cascade is a list of PCRE2 patterns (UTF mode, JIT-compiled when the
 * platform allows). The first pattern cuts the text into its matches and the
 * runs between them; each following pattern cuts every piece the same way
 * (this is how llama.cpp applies them, so piece boundaries match its test
 * vectors). Invalid UTF-8 never matches a pattern (PCRE2_MATCH_INVALID_UTF),
 * so such bytes end up in between-match pieces and survive unchanged.
 *
 * Failures: an unknown name is reported by pretok_find returning NULL (the
 * caller names the known ones); PCRE2 compile or match errors give
 * GLIMP_ERR_FORMAT / GLIMP_ERR_RANGE; allocation failures GLIMP_ERR_NOMEM.
 */
#ifndef GLIMP_TEXT_PRETOK_H
#define GLIMP_TEXT_PRETOK_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "glimp.h"
#include "text/buf.h"

typedef struct pretok_def pretok_def;
typedef struct pretok pretok;

/* The cascade for a tokenizer.ggml.pre value, or NULL when unknown. */
const pretok_def *pretok_find(const char *name);
/* Comma-separated list of the known names (static string), for messages. */
const char *pretok_known_names(void);
/* Whether words that are whole tokens skip the merges (Llama 3). */
bool pretok_def_ignore_merges(const pretok_def *d);
/* Whether this pre-tokenizer's models add BOS unless the file says otherwise. */
bool pretok_def_add_bos(const pretok_def *d);

pretok *pretok_create(const pretok_def *def, glimp_error *err);
void pretok_free(pretok *p); /* NULL-safe */

/* Per-call matching state (match data, JIT stack, piece lists). Zero it
 * before first use; one scratch per thread. */
typedef struct pretok_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *stack; /* allocated only when a match needs more stack */
    text_spans a, b;
} pretok_scratch;

void pretok_scratch_free(pretok_scratch *s);

/* Cuts text[0..n) into words and appends them to out as spans (offsets
 * relative to text, id -1). Empty input appends nothing. */
glimp_status pretok_split(const pretok *p, const char *text, size_t n, pretok_scratch *s,
                          text_spans *out, glimp_error *err);

#endif
