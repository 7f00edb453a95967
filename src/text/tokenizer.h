/* tokenizer.h - the tokenizer object behind glimp_tokenizer (internal API).
 *
 * A tokenizer is built from an open GGUF file's metadata and keeps no
 * reference to the file. After construction it is immutable, so one
 * tokenizer may serve several threads; every call keeps its scratch state
 * on its own.
 */
#ifndef GLIMP_TEXT_TOKENIZER_H
#define GLIMP_TEXT_TOKENIZER_H

#include "glimp.h"
#include "gguf/gguf.h"
#include "text/bpe.h"
#include "text/buf.h"
#include "text/pretok.h"
#include "text/special.h"
#include "text/spm.h"
#include "text/vocab.h"

struct glimp_tokenizer {
    vocab v;
    special_index special;
    bpe bpe;         /* VOCAB_BPE only */
    pretok *pre;     /* VOCAB_BPE only */
    spm spm;         /* VOCAB_SPM only */
};

/* Builds a tokenizer from an open file (e.g. one a model loader holds). The
 * file may be closed afterwards. NULL with err set on failure:
 * GLIMP_ERR_UNSUPPORTED (tokenizer model or pre-tokenizer we do not know),
 * GLIMP_ERR_FORMAT (malformed tokenizer metadata), GLIMP_ERR_NOMEM. */
glimp_tokenizer *tokenizer_from_gguf(const gguf_file *f, glimp_error *err);

/* Appends the tokens of text[0..n) to out (see glimp_tokenize_prompt):
 * control tokens are recognised only inside markup[0..n_markup). */
glimp_status tokenizer_encode(const glimp_tokenizer *t, const char *text, size_t n,
                              bool add_special, const glimp_span *markup, size_t n_markup,
                              text_ids *out, glimp_error *err);

/* Appends the bytes token id decodes to (see glimp_token_piece); lstrip
 * drops one leading space (the first token of a decode when the vocabulary
 * adds a space prefix). false on OOM. id must be in [0, n_vocab). */
bool tokenizer_append_piece(const glimp_tokenizer *t, int32_t id, bool special, bool lstrip,
                            text_buf *out);

#endif
