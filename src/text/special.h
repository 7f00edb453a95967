/* special.h - splitting special tokens out of input text before the
 * tokenizer proper runs.
 *
 * Control and unknown-type tokens are recognised only when the caller asks
 * (parse_special); user-defined tokens always are (as llama.cpp and Hugging
 * Face tokenizers do: neox-style vocabularies rely on it). Longer tokens take
 * precedence: tokens are applied longest first, each one splitting every
 * stretch of text not yet claimed at its leftmost non-overlapping
 * occurrences. Fails only with GLIMP_ERR_NOMEM.
 */
#ifndef GLIMP_TEXT_SPECIAL_H
#define GLIMP_TEXT_SPECIAL_H

#include "text/buf.h"
#include "text/vocab.h"

typedef struct special_index {
    int32_t *order;          /* special token ids, longest text first (ties: lower id) */
    int32_t n;
    uint32_t *first[2];      /* [mode] (257) offsets into items by first byte */
    int32_t *items[2];       /* [mode] indices into order, in order */
} special_index;             /* mode 0: all specials; mode 1: user-defined only */

glimp_status special_index_build(special_index *si, const vocab *v, glimp_error *err);
void special_index_free(special_index *si);

/* Cuts text[0..n) into spans: special tokens (id >= 0) and the raw text
 * between them (id -1), in text order, appended to out. */
glimp_status special_partition(const special_index *si, const vocab *v, const char *text,
                               size_t n, bool parse_special, text_spans *out, glimp_error *err);

#endif
