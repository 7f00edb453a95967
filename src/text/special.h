/* special.h - splitting special tokens out of input text before the
 * tokenizer proper runs.
 *
 * Control and unknown-type tokens are recognised only inside the markup
 * spans the caller gives (a chat template's own markup; the whole text for a
 * raw prompt with specials parsed; none for plain text), and only when they
 * end inside the span; user-defined tokens are recognised everywhere (as
 * llama.cpp and Hugging Face tokenizers do: neox-style vocabularies rely on
 * it). Longer tokens take precedence: tokens are applied longest first, each
 * one splitting every stretch of text not yet claimed at its leftmost
 * non-overlapping occurrences. Fails only with GLIMP_ERR_NOMEM.
 */
#ifndef GLIMP_TEXT_SPECIAL_H
#define GLIMP_TEXT_SPECIAL_H

#include "glimp.h"
#include "text/buf.h"
#include "text/vocab.h"

typedef struct special_index {
    int32_t *order;          /* special token ids, longest text first (ties: lower id) */
    int32_t n;
    uint32_t *first[2];      /* [mode] (257) offsets into items by first byte */
    int32_t *items[2];       /* [mode] indices into order, in order */
} special_index;             /* mode 0: all specials (markup); mode 1: user-defined only */

glimp_status special_index_build(special_index *si, const vocab *v, glimp_error *err);
void special_index_free(special_index *si);

/* Cuts text[0..n) into spans: special tokens (id >= 0) and the raw text
 * between them (id -1), in text order, appended to out. markup[0..n_markup)
 * are sorted, disjoint spans inside the text. */
glimp_status special_partition(const special_index *si, const vocab *v, const char *text,
                               size_t n, const glimp_span *markup, size_t n_markup,
                               text_spans *out, glimp_error *err);

#endif
