/* glimp.h - the one public header of GlimpRouter.
 *
 * GlimpRouter routes the thinking steps of a reasoning model between a small
 * model (SLM) and a large model (LLM) by the entropy of the SLM's first token
 * of each step. This header exposes opaque types with the glimp_ prefix.
 *
 * Conventions:
 *  - Functions that can fail on input return a glimp_status (negative on
 *    error) or NULL, and fill the caller's glimp_error (which may be NULL)
 *    with the status and a message naming the problem.
 *  - `*_default_params()` -> `*_load/create(..., &params, err)` -> `*_free()`;
 *    every `*_free()` accepts NULL.
 *  - Ownership of every returned pointer is stated next to its function.
 *  - New enum values are only ever appended.
 */
#ifndef GLIMP_H
#define GLIMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is what libglimp.so exports: the library is
 * compiled with hidden visibility, these declarations are visible. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define GLIMP_VERSION_MAJOR 0
#define GLIMP_VERSION_MINOR 1
#define GLIMP_VERSION_PATCH 0
#define GLIMP_VERSION_STRING "0.1.0"

/* ---- status and errors ------------------------------------------------- */

typedef enum glimp_status {
    GLIMP_OK = 0,
    GLIMP_ERR_IO = -1,          /* open/read/write/mmap failed */
    GLIMP_ERR_FORMAT = -2,      /* malformed or truncated input */
    GLIMP_ERR_UNSUPPORTED = -3, /* valid input we do not handle */
    GLIMP_ERR_NOMEM = -4,       /* allocation failed or would be too large */
    GLIMP_ERR_ARG = -5,         /* invalid argument from the caller */
    GLIMP_ERR_HTTP = -6,        /* network / HTTP protocol failure */
    GLIMP_ERR_JSON = -7,        /* malformed or unexpected JSON */
    GLIMP_ERR_RANGE = -8,       /* a limit was exceeded (context, size) */
    GLIMP_ERR_CANCELLED = -9,   /* the caller or a client cancelled */
    GLIMP_ERR_TIMEOUT = -10,    /* a deadline passed */
    GLIMP_ERR_NOT_FOUND = -11,  /* a named item does not exist */
} glimp_status;

/* A caller-owned error record. Functions taking `glimp_error *err` accept
 * NULL; on failure they set err->status and a NUL-terminated err->msg. */
typedef struct glimp_error {
    glimp_status status;
    char msg[512];
} glimp_error;

/* Static string naming a status ("GLIMP_ERR_FORMAT" -> "malformed input"). */
const char *glimp_status_str(glimp_status status);

/* Library version, e.g. "0.1.0" (static string). */
const char *glimp_version(void);

/* Name of the kernel set picked for this CPU at start-up, e.g. "avx512-vnni",
 * "avx2-fma" or "scalar" (static string). Set GLIMP_KERNELS=scalar|avx2|avx512
 * in the environment to force a lower set. */
const char *glimp_kernels_name(void);

/* ---- section: gguf ------------------------------------------------------ */
/* ---- section: model and session ----------------------------------------- */
/* A glimp_model is the immutable weights of one GGUF file (architectures
 * llama, qwen2, qwen3), memory-mapped; it may be shared by many sessions and
 * threads. A glimp_session is one token sequence on one model: its KV cache,
 * token history and scratch. A session is used by one thread at a time;
 * different sessions on one model may run concurrently. */
typedef struct glimp_model glimp_model;
typedef struct glimp_session glimp_session;

typedef struct glimp_model_params {
    bool prefault; /* read every page of the weights at load (no page faults
                      in the first forward pass; for benchmarks) */
} glimp_model_params;

glimp_model_params glimp_model_default_params(void);

/* Loads `path`. Returns a model owned by the caller (glimp_model_free), or
 * NULL with err set: GLIMP_ERR_IO, GLIMP_ERR_FORMAT (missing key/tensor, bad
 * shape), GLIMP_ERR_UNSUPPORTED (architecture or tensor type). `params` may
 * be NULL (defaults). */
glimp_model *glimp_model_load(const char *path, const glimp_model_params *params,
                              glimp_error *err);
/* Frees the model; every session on it must be freed first. NULL-safe. */
void glimp_model_free(glimp_model *model);

size_t glimp_model_n_vocab(const glimp_model *model);
/* Training context length from the file's metadata. */
size_t glimp_model_n_ctx_train(const glimp_model *model);
/* "llama", "qwen2", "qwen3" (static string). */
const char *glimp_model_arch(const glimp_model *model);
/* Bytes of tensor data in the file (weights only). */
uint64_t glimp_model_size_bytes(const glimp_model *model);
/* Parameter count (elements of all tensors). */
uint64_t glimp_model_n_params(const glimp_model *model);
/* Bytes of weights one decoded token reads: every matrix of every layer,
 * the output projection, one embedding row (norms and biases left out).
 * The numerator of a decode roofline. */
uint64_t glimp_model_decode_bytes(const glimp_model *model);

typedef enum glimp_kv_type {
    GLIMP_KV_F16 = 0, /* default, as llama.cpp */
    GLIMP_KV_F32 = 1,
    GLIMP_KV_Q8_0 = 2, /* K and V in Q8_0 blocks of 32 along the head dims (about half
                          the memory of F16; needs head_dim % 32 == 0) */
} glimp_kv_type;

typedef struct glimp_session_params {
    size_t n_ctx;        /* KV cache length in tokens; 0 = the model's n_ctx_train */
    int n_threads;       /* 0 = number of physical cores */
    size_t n_batch;      /* tokens per forward chunk of an append (default 512) */
    glimp_kv_type kv_type;
} glimp_session_params;

glimp_session_params glimp_session_default_params(void);

/* "f16", "f32", "q8_0" <-> glimp_kv_type (for --kv-type options); parse
 * returns false (and leaves *out) for anything else, NULL included. */
bool glimp_kv_type_parse(const char *name, glimp_kv_type *out);
const char *glimp_kv_type_name(glimp_kv_type type);

/* Bytes of KV cache (K and V, all layers) attention reads for one token
 * attending to n_past positions, for a session with these params. */
uint64_t glimp_session_kv_bytes(const glimp_model *model, const glimp_session_params *params,
                                size_t n_past);

/* Creates a session on `model` (which must outlive it). Owned by the caller
 * (glimp_session_free). NULL with err set on failure (GLIMP_ERR_NOMEM,
 * GLIMP_ERR_ARG). `params` may be NULL (defaults). */
glimp_session *glimp_session_create(const glimp_model *model, const glimp_session_params *params,
                                    glimp_error *err);
void glimp_session_free(glimp_session *s); /* NULL-safe */

/* Appends n tokens (prefill, batched) and computes the logits of the last
 * one. Fails with GLIMP_ERR_RANGE if n_tokens + n would exceed n_ctx and with
 * GLIMP_ERR_ARG for a token id outside [0, n_vocab); the session is then
 * unchanged. n == 0 is a no-op. */
glimp_status glimp_session_append(glimp_session *s, const int32_t *tokens, size_t n,
                                  glimp_error *err);
/* Same, but keeps the logits of every position of this append
 * (glimp_session_logits_at); costs n x n_vocab floats. */
glimp_status glimp_session_append_all(glimp_session *s, const int32_t *tokens, size_t n,
                                      glimp_error *err);
/* Appends one token (= glimp_session_append of 1). */
glimp_status glimp_session_decode(glimp_session *s, int32_t token, glimp_error *err);

/* n_vocab logits after the last appended token, or NULL when there are none
 * (no append yet, or truncated since). Owned by the session; valid until the
 * next append, decode, truncate or free. */
const float *glimp_session_logits(const glimp_session *s);
/* Number of logit rows kept by the last append: n for append_all, 1 for
 * append/decode, 0 after truncate. */
size_t glimp_session_n_logits(const glimp_session *s);
/* Row i (0-based within the last append) of those; NULL if i is out of range.
 * Row i = logits after the i-th token of that append. Same lifetime. */
const float *glimp_session_logits_at(const glimp_session *s, size_t i);

/* Drops tokens so that n remain (n <= n_tokens; larger n is GLIMP_ERR_ARG).
 * O(1): later appends overwrite the dropped KV entries. Clears the logits. */
glimp_status glimp_session_truncate(glimp_session *s, size_t n, glimp_error *err);

/* Makes the session hold exactly ids[0..n) with the logits after the last
 * one, re-using the longest prefix it already holds (truncate + append the
 * rest; at least the last token runs). *n_evaluated (may be NULL) receives
 * how many tokens were run. n == 0 is GLIMP_ERR_ARG, n > n_ctx
 * GLIMP_ERR_RANGE (the session is then unchanged). */
glimp_status glimp_session_sync(glimp_session *s, const int32_t *ids, size_t n,
                                size_t *n_evaluated, glimp_error *err);
/* The first half of glimp_session_sync, for callers that append the rest
 * themselves (e.g. in a batch): keeps the longest prefix of ids[0..n) the
 * session holds (at most n - 1 tokens, so the last one runs and gives
 * logits), drops the rest of its tokens and returns how many it kept; n
 * when the session already holds exactly ids with their logits. n >= 1. */
size_t glimp_session_keep_prefix(glimp_session *s, const int32_t *ids, size_t n);

/* Makes dst hold the first n tokens of src's history, with their KV cache
 * rows copied rather than recomputed (a shared system prompt, a repeated
 * question): about a thousandth of the cost of appending them. Rows dst
 * already holds (its common prefix with src) are not copied again;
 * *n_copied (may be NULL) receives how many were. dst then has no logits
 * (append at least one more token before sampling). Both sessions must be
 * of one model and KV cache type (else GLIMP_ERR_ARG), n within both
 * contexts (else GLIMP_ERR_RANGE). src is only read and must hold at least
 * n tokens, which is not checked against its length: another thread may
 * append to src meanwhile, as long as its first n tokens stay as they are
 * until this returns. dst must not be in use elsewhere. */
glimp_status glimp_session_copy_prefix(glimp_session *dst, const glimp_session *src, size_t n,
                                       size_t *n_copied, glimp_error *err);

/* A batch runs several sessions of one model through one forward pass, so
 * the weights are read once for all of them (decoding is bound by reading
 * them): many streams of a server, or items of a parallel evaluation. Each
 * session ends exactly as if it had appended its tokens alone. Owned by the
 * caller (glimp_batch_free); one call at a time. */
typedef struct glimp_batch glimp_batch;

/* max_tokens: the most tokens one glimp_batch_append may carry, all
 * sessions together; n_threads as for a session (0 = physical cores).
 * NULL with err set (GLIMP_ERR_ARG, GLIMP_ERR_NOMEM). */
glimp_batch *glimp_batch_create(const glimp_model *model, size_t max_tokens, int n_threads,
                                glimp_error *err);
void glimp_batch_free(glimp_batch *b); /* NULL-safe */

/* Appends tokens[i][0..n[i]) to sessions[i], for n_seqs distinct sessions of
 * the batch's model (n[i] >= 1, at most the session's n_batch; the sum at
 * most max_tokens), in one forward pass. Afterwards each session's logits
 * are those after its last token, as after glimp_session_append. Errors
 * leave every session as it was: GLIMP_ERR_ARG (bad ids or sizes, a session
 * twice, another model), GLIMP_ERR_RANGE (a context would overflow),
 * GLIMP_ERR_NOMEM. */
glimp_status glimp_batch_append(glimp_batch *b, glimp_session *const *sessions,
                                const int32_t *const *tokens, const size_t *n, int n_seqs,
                                glimp_error *err);

/* A stepper batches continuously: threads that each drive their own
 * sessions of one model submit steps (a decoded token, a prompt chunk) and
 * the stepper runs the pending steps of all of them as one glimp_batch
 * pass, so N streams read the weights once per pass. A pass starts when
 * every member (a thread between join and leave) has submitted a step, or
 * 2 ms after the oldest pending step; non-members are never waited for.
 * Every session ends exactly as if it had appended its tokens alone.
 * Thread-safe; a session must not be used by two threads at once. Owned by
 * the caller (glimp_stepper_free, after every thread is done with it). */
typedef struct glimp_stepper glimp_stepper;

/* max_tokens: tokens per pass at most (long prompts go in chunks);
 * n_threads as for a session. NULL with err set (GLIMP_ERR_ARG,
 * GLIMP_ERR_NOMEM). */
glimp_stepper *glimp_stepper_create(const glimp_model *model, size_t max_tokens, int n_threads,
                                    glimp_error *err);
void glimp_stepper_free(glimp_stepper *stepper); /* NULL-safe */
/* The calling thread will submit steps (join) / is done submitting for now
 * (leave): passes wait for the steps of members only. Pair them. */
void glimp_stepper_join(glimp_stepper *stepper);
void glimp_stepper_leave(glimp_stepper *stepper);
/* glimp_session_append through the next pass (n at most max_tokens, else
 * GLIMP_ERR_ARG); errors are this session's alone, as for the session. */
glimp_status glimp_stepper_append(glimp_stepper *stepper, glimp_session *s,
                                  const int32_t *tokens, size_t n, glimp_error *err);
/* The same, keeping the logits of every position (glimp_session_append_all:
 * a speculative verify pass batched with the other members' steps). */
glimp_status glimp_stepper_append_all(glimp_stepper *stepper, glimp_session *s,
                                      const int32_t *tokens, size_t n, glimp_error *err);
/* glimp_session_sync through passes, the tokens after the kept prefix in
 * chunks that leave room for one token of every other member. */
glimp_status glimp_stepper_sync(glimp_stepper *stepper, glimp_session *s, const int32_t *ids,
                                size_t n, size_t *n_evaluated, glimp_error *err);
/* The model it was created for, and the most tokens one pass carries. */
const glimp_model *glimp_stepper_model(const glimp_stepper *stepper);
size_t glimp_stepper_max_tokens(const glimp_stepper *stepper);
/* Passes run as one batch so far, and the steps they carried. */
void glimp_stepper_counts(glimp_stepper *stepper, unsigned long long *passes,
                          unsigned long long *steps);

/* A prefix pool lets sessions of one model lend each other prompt
 * prefixes: before a member prefills, the longest start of its tokens that
 * another member holds and has settled (a shared system prompt, the same
 * question under another policy) is copied (glimp_session_copy_prefix)
 * instead of computed. Members announce what stays put: claim before the
 * session changes below what it settled, settle once a length is final.
 * Thread-safe, each session used by its own thread; owned by the caller
 * (glimp_prefix_pool_free, after every member was removed). */
typedef struct glimp_prefix_pool glimp_prefix_pool;

glimp_prefix_pool *glimp_prefix_pool_create(glimp_error *err); /* NULL + GLIMP_ERR_NOMEM */
void glimp_prefix_pool_free(glimp_prefix_pool *pool);           /* NULL-safe */
/* s becomes a member with nothing settled (GLIMP_ERR_ARG when it is one
 * already, GLIMP_ERR_NOMEM) / stops being one, once no member copies from
 * it. Functions below do nothing for a NULL pool or a non-member. */
glimp_status glimp_prefix_pool_add(glimp_prefix_pool *pool, glimp_session *s, glimp_error *err);
void glimp_prefix_pool_remove(glimp_prefix_pool *pool, glimp_session *s);
/* s is about to change: nothing of it is settled any more; returns once no
 * member copies from it. */
void glimp_prefix_pool_claim(glimp_prefix_pool *pool, glimp_session *s);
/* s's first n tokens stay as they are until its next claim. */
void glimp_prefix_pool_settle(glimp_prefix_pool *pool, glimp_session *s, size_t n);
/* Copies into s (claimed) the longest start of ids[0..n) that another
 * member of s's model has settled, when longer than what s holds of it;
 * returns the rows copied (0: none; a failed copy counts as none). s then
 * needs at least its last prompt token appended (glimp_session_sync). */
size_t glimp_prefix_pool_borrow(glimp_prefix_pool *pool, glimp_session *s, const int32_t *ids,
                                size_t n);
/* Rows copied by borrow so far, all members together. */
unsigned long long glimp_prefix_pool_copied(glimp_prefix_pool *pool);

size_t glimp_session_n_tokens(const glimp_session *s);
/* The token history (n_tokens ids), owned by the session; valid until the
 * next append, decode, truncate or free. */
const int32_t *glimp_session_tokens(const glimp_session *s);
size_t glimp_session_n_ctx(const glimp_session *s);
size_t glimp_session_n_vocab(const glimp_session *s);
int glimp_session_n_threads(const glimp_session *s);
const glimp_model *glimp_session_model(const glimp_session *s);

/* ---- section: tokenizer and chat templates ------------------------------ */
/* Tokenizers read from GGUF metadata: byte-level BPE ("gpt2" models with the
 * pre-tokenizers qwen2, deepseek-r1-qwen, llama-bpe, gpt-2, mpt, starcoder,
 * refact, falcon, deepseek-llm, deepseek-coder, default) and SentencePiece-
 * style BPE ("llama" models, byte fallback). Token ids are int32_t.
 * A glimp_tokenizer is immutable once loaded: it may be shared by threads.
 * See docs/templates.md for the chat templates. */
typedef struct glimp_tokenizer glimp_tokenizer;

#define GLIMP_TOKEN_NULL (-1) /* "no such token" (e.g. a vocabulary without BOS) */

/* Loads the tokenizer of a GGUF file; vocabulary-only files work (no tensor
 * is read). Owned by the caller (glimp_tokenizer_free). NULL with err set:
 * GLIMP_ERR_IO, GLIMP_ERR_FORMAT (malformed tokenizer metadata),
 * GLIMP_ERR_UNSUPPORTED (unknown tokenizer model or pre-tokenizer; the
 * message lists the known ones), GLIMP_ERR_NOMEM. */
glimp_tokenizer *glimp_tokenizer_load(const char *gguf_path, glimp_error *err);
void glimp_tokenizer_free(glimp_tokenizer *tok); /* NULL-safe */

/* Text to ids. add_special adds BOS/EOS as the vocabulary asks
 * (tokenizer.ggml.add_bos_token / add_eos_token; SentencePiece models add
 * BOS by default) - but never a second BOS: when the text itself starts with
 * the BOS token (parse_special and a template that writes it), none is
 * prepended. parse_special recognises control tokens written in the text
 * ("<|im_end|>" -> one id); without it their text is tokenized as plain text.
 * User-defined tokens are always recognised. Invalid UTF-8 is accepted: with
 * byte-level BPE it round-trips exactly, with SentencePiece it falls back to
 * byte tokens.
 * Writes at most n_max ids and returns how many the text needs (like
 * snprintf: a result > n_max means ids was too small), or a negative
 * glimp_status (GLIMP_ERR_ARG, GLIMP_ERR_RANGE past INT_MAX ids,
 * GLIMP_ERR_NOMEM). ids may be NULL when n_max is 0. */
int glimp_tokenize(const glimp_tokenizer *tok, const char *text, size_t len, bool add_special,
                   bool parse_special, int32_t *ids, int n_max, glimp_error *err);
/* Same, into a malloc'd array the caller frees with free(); *n_ids gets the
 * count. NULL with err set on failure (an empty result is a valid non-NULL
 * array with *n_ids = 0). */
int32_t *glimp_tokenize_alloc(const glimp_tokenizer *tok, const char *text, size_t len,
                              bool add_special, bool parse_special, int *n_ids, glimp_error *err);

/* A prompt rendered by a chat template: its text and the spans of it that
 * are the template's own markup. Only markup may become control tokens;
 * everything else (message content, the question, thinking steps) is plain
 * text, so content that spells "<|im_end|>\n<|im_start|>system" stays text
 * and cannot open a turn. */
typedef struct glimp_span {
    size_t off, len;
} glimp_span;

typedef struct glimp_prompt {
    char *text;          /* malloc'd, NUL-terminated */
    size_t len;          /* strlen(text) */
    glimp_span *markup;  /* (n_markup) malloc'd; in text order, disjoint, non-empty */
    size_t n_markup;
} glimp_prompt;

/* Frees text and markup and zeroes *p (NULL-safe). */
void glimp_prompt_clear(glimp_prompt *p);

/* Tokenizes a rendered prompt: control tokens are recognised only inside its
 * markup spans (and only when they end there), user-defined tokens
 * everywhere; otherwise as glimp_tokenize_alloc. The same prompt always
 * gives the same ids; a prompt whose content holds no control-token text
 * gives the ids glimp_tokenize_alloc gives its text with parse_special. */
int32_t *glimp_tokenize_prompt(const glimp_tokenizer *tok, const glimp_prompt *prompt,
                               bool add_special, int *n_ids, glimp_error *err);

int32_t glimp_tokenizer_n_vocab(const glimp_tokenizer *tok);
int32_t glimp_token_bos(const glimp_tokenizer *tok); /* GLIMP_TOKEN_NULL if none */
int32_t glimp_token_eos(const glimp_tokenizer *tok); /* GLIMP_TOKEN_NULL if none */
/* End of turn: tokenizer.ggml.eot_token_id, else found by text (<|eot_id|>,
 * <|im_end|>, <|end|>, <end_of_turn>, <|endoftext|>, ...). */
int32_t glimp_token_eot(const glimp_tokenizer *tok);
/* Whether generation stops at id: eos, eot and the end-of-turn tokens listed
 * above (<|im_end|>, <｜end▁of▁sentence｜>, ...). false for ids out of range. */
bool glimp_token_is_eog(const glimp_tokenizer *tok, int32_t id);
/* Whether id is a control token (rendered only when asked, see below). */
bool glimp_token_is_control(const glimp_tokenizer *tok, int32_t id);
/* Whether add_special adds BOS (tokenizer.ggml.add_bos_token or default). */
bool glimp_tokenizer_adds_bos(const glimp_tokenizer *tok);
/* tokenizer.ggml.model ("gpt2", "llama") and .pre ("" if absent); owned by
 * the tokenizer. */
const char *glimp_tokenizer_model(const glimp_tokenizer *tok);
const char *glimp_tokenizer_pre(const glimp_tokenizer *tok);

/* Id of the token whose vocabulary text is exactly text[0..len), e.g.
 * "<think>", or GLIMP_TOKEN_NULL. Vocabulary text is the stored form: byte-
 * level BPE stores ordinary tokens in GPT-2's byte alphabet ("Ġthe"). */
int32_t glimp_token_lookup(const glimp_tokenizer *tok, const char *text, size_t len);
/* The stored vocabulary text of id (not NUL-terminated; length in *len),
 * owned by the tokenizer; NULL for ids out of range. */
const char *glimp_token_text(const glimp_tokenizer *tok, int32_t id, size_t *len);

/* The bytes id decodes to: byte tokens give their byte, SentencePiece U+2581
 * gives a space, byte-level BPE characters give their bytes; control and
 * unknown tokens give their text only when special is true, else nothing.
 * A piece may be part of a UTF-8 character. Writes at most size bytes (NUL-
 * terminated when there is room) and returns the piece length (snprintf
 * style), or GLIMP_ERR_ARG for an id out of range. */
int glimp_token_piece(const glimp_tokenizer *tok, int32_t id, bool special, char *buf,
                      size_t size);

/* Ids to text: the pieces concatenated, except that the first id's single
 * leading space is dropped when the vocabulary adds a space prefix
 * (SentencePiece), so decode(encode(s)) == s without BOS. No other clean-up.
 * Returns a malloc'd NUL-terminated string (free()); *len (may be NULL) gets
 * its length, which can differ from strlen when the bytes include NUL. NULL
 * with err set: GLIMP_ERR_ARG (id out of range), GLIMP_ERR_NOMEM. */
char *glimp_detokenize(const glimp_tokenizer *tok, const int32_t *ids, size_t n_ids,
                       bool special, size_t *len, glimp_error *err);

/* Streaming detokenizer: feed ids one at a time, get the bytes that are safe
 * to show. It holds back the start of a UTF-8 character until the rest
 * arrives (bytes that can never complete one are passed on), so every chunk
 * ends on a character boundary. For a whole text (continuation false) the
 * chunks concatenated, plus the flush, equal glimp_detokenize of the same
 * ids; for a continuation of text already shown (tokens generated after a
 * prompt) the first piece keeps its leading space ("today" + " Old"), so
 * they equal the pieces concatenated. Owned by the caller
 * (glimp_detok_free); tok must outlive it; one thread at a time. */
typedef struct glimp_detok glimp_detok;

glimp_detok *glimp_detok_create(const glimp_tokenizer *tok, bool special, bool continuation,
                                glimp_error *err);
void glimp_detok_free(glimp_detok *d); /* NULL-safe */
/* Feeds one id. *out points to the bytes now ready (owned by d, valid until
 * the next call on d; not NUL-terminated); returns their count, or a negative
 * glimp_status (GLIMP_ERR_ARG for an id out of range, GLIMP_ERR_NOMEM). */
int glimp_detok_push(glimp_detok *d, int32_t id, const char **out, glimp_error *err);
/* Ends the stream: returns the held-back bytes (an incomplete character) and
 * starts a new stream of the same kind, as after create. */
int glimp_detok_flush(glimp_detok *d, const char **out);

/* Chat templates: the exact prompt text each model family expects. Built in:
 * "qwen3", "deepseek-r1", "qwen2.5", "llama3". Templates are static objects:
 * never freed. docs/templates.md shows each one's output. */
typedef struct glimp_template glimp_template;

typedef enum glimp_template_phase {
    GLIMP_TEMPLATE_PHASE_THINK = 0, /* prompt ends inside the thinking block, after the steps */
    GLIMP_TEMPLATE_PHASE_FINAL = 1, /* thinking closed: the model writes the answer */
} glimp_template_phase;

typedef struct glimp_chat_message {
    const char *role;    /* "system", "user" or "assistant" */
    const char *content; /* NUL-terminated UTF-8 */
} glimp_chat_message;

/* NULL-terminated list of the template names (static). */
const char *const *glimp_template_names(void);
/* The template called name, or NULL with GLIMP_ERR_NOT_FOUND and a message
 * listing the names. */
const glimp_template *glimp_template_by_name(const char *name, glimp_error *err);
/* Picks the template for a GGUF model (or vocab-only) file: first by markers
 * in tokenizer.chat_template, then by the special tokens of its vocabulary
 * (<｜Assistant｜> -> deepseek-r1; <|im_start|> with <think> -> qwen3, without
 * -> qwen2.5; <|start_header_id|> -> llama3). NULL with err set when the file
 * cannot be read (GLIMP_ERR_IO / FORMAT) or matches no template
 * (GLIMP_ERR_NOT_FOUND, naming the model and listing the templates: pass one
 * with --template). */
const glimp_template *glimp_template_from_gguf(const char *gguf_path, glimp_error *err);
const char *glimp_template_name(const glimp_template *t); /* static string */
/* Whether the template writes <think> ... </think> around the steps. */
bool glimp_template_has_think_tags(const glimp_template *t);

/* Renders the prompt for (question, thinking steps so far, phase): the user
 * turn, the assistant header, then for templates with think tags
 * "<think>\n" + join(steps, "\n\n") + ("\n\n" in THINK phase when there are
 * steps | "\n</think>\n\n" in FINAL phase); templates without think tags write
 * the steps as plain assistant text, each followed by "\n\n", in both phases.
 * BOS: a template whose official form starts with the BOS token
 * (deepseek-r1, llama3) writes its text (add_special then adds no second
 * BOS). *out receives the prompt with its markup (glimp_tokenize_prompt;
 * the caller clears it); the question and the steps are content. Fails
 * with GLIMP_ERR_ARG (NULL question or step, n_steps < 0) or
 * GLIMP_ERR_NOMEM, *out then zeroed. */
glimp_status glimp_template_render_prompt(const glimp_template *t, const char *question,
                                          const char *const *steps, int n_steps,
                                          glimp_template_phase phase, glimp_prompt *out,
                                          glimp_error *err);
/* The text alone: a malloc'd NUL-terminated string (free()), NULL with err
 * set. For sending to a server; tokenizing it with parse_special would let
 * control-token text in the question or steps through. */
char *glimp_template_render(const glimp_template *t, const char *question,
                            const char *const *steps, int n_steps, glimp_template_phase phase,
                            glimp_error *err);
/* Renders a conversation (for /v1/chat/completions): messages in order, then
 * the assistant header when add_generation_prompt (deepseek-r1's includes
 * "<think>\n", as its official template). Assistant messages in the history
 * lose their reasoning (text up to the last "</think>") where the official
 * template drops it (qwen3, deepseek-r1). Every message's content is
 * content. Same ownership and errors as glimp_template_render_prompt;
 * GLIMP_ERR_ARG also for an unknown role. */
glimp_status glimp_template_render_chat_prompt(const glimp_template *t,
                                               const glimp_chat_message *msgs, int n_msgs,
                                               bool add_generation_prompt, glimp_prompt *out,
                                               glimp_error *err);
/* The text alone (as glimp_template_render). */
char *glimp_template_render_chat(const glimp_template *t, const glimp_chat_message *msgs,
                                 int n_msgs, bool add_generation_prompt, glimp_error *err);

/* ---- section: sampling ------------------------------------------------- */
/* Token sampling and next-token entropy. All functions take raw logits
 * (n_vocab floats); -inf logits are allowed (probability 0), NaN counts as
 * -inf. Softmax is computed stably (max subtracted, sums in double). */

/* Sampling chain, in this order: temperature -> top-k -> top-p -> min-p ->
 * draw. temperature <= 0 means greedy (argmax; lowest id wins ties), and
 * the other fields are then ignored. */
typedef struct glimp_sampler_params {
    float temperature; /* default 0.6 */
    int32_t top_k;     /* keep the k most likely tokens; 0 = off (default) */
    float top_p;       /* keep the smallest set of most likely tokens whose
                          probability reaches top_p; 1 = off (default 0.95) */
    float min_p;       /* drop tokens with p < min_p * p_max; 0 = off (default) */
    uint64_t seed;     /* RNG seed (xoshiro256**, seeded through splitmix64) */
} glimp_sampler_params;

typedef struct glimp_sampler glimp_sampler;

glimp_sampler_params glimp_sampler_default_params(void);
/* Owned by the caller (glimp_sampler_free). NULL + GLIMP_ERR_ARG for
 * parameters out of range (top_k < 0, top_p outside (0, 1], min_p outside
 * [0, 1]) or GLIMP_ERR_NOMEM. `params` may be NULL (defaults). */
glimp_sampler *glimp_sampler_create(const glimp_sampler_params *params, glimp_error *err);
void glimp_sampler_free(glimp_sampler *s); /* NULL-safe */
/* Restarts the random stream as if created with `seed`. */
void glimp_sampler_reseed(glimp_sampler *s, uint64_t seed);
/* Draws one token id from logits[0..n_vocab). Same seed and same logits give
 * the same tokens. GLIMP_ERR_ARG for n_vocab == 0 or all logits -inf/NaN,
 * GLIMP_ERR_NOMEM when scratch cannot grow. */
glimp_status glimp_sampler_sample(glimp_sampler *s, const float *logits, size_t n_vocab,
                                  int32_t *token, glimp_error *err);

/* Index of the largest logit (lowest id on ties); 0 when n_vocab == 0. */
int32_t glimp_argmax(const float *logits, size_t n_vocab);

/* ln sum_v exp(logits[v]): log p(t) = logits[t] - this, at temperature 1. */
double glimp_log_sum_exp(const float *logits, size_t n_vocab);

/* Entropy (natural log) of softmax(logits) at temperature 1, full vocabulary. */
double glimp_entropy_full(const float *logits, size_t n_vocab);
/* Both of the above in one pass over the logits (the same values): returns
 * glimp_entropy_full and stores glimp_log_sum_exp in *log_sum_exp. */
double glimp_entropy_full_lse(const float *logits, size_t n_vocab, double *log_sum_exp);
/* Entropy of the top-k probabilities of softmax(logits), renormalised to sum
 * to 1 (k is clamped to [1, min(n_vocab, GLIMP_PROBE_MAX_K)]). */
double glimp_entropy_topk(const float *logits, size_t n_vocab, int k);

#define GLIMP_PROBE_MAX_K 64

/* What the router needs from one next-token distribution. */
typedef struct glimp_probe {
    double entropy_full;  /* glimp_entropy_full */
    double entropy_topk;  /* glimp_entropy_topk with this k */
    int k;                /* entries filled below */
    int32_t ids[GLIMP_PROBE_MAX_K];    /* top-k ids, most likely first */
    float logprobs[GLIMP_PROBE_MAX_K]; /* their log p under the full softmax */
} glimp_probe;

/* Fills *out for the top k (clamped as in glimp_entropy_topk). GLIMP_ERR_ARG
 * for n_vocab == 0 or all logits -inf/NaN. */
glimp_status glimp_probe_summary(const float *logits, size_t n_vocab, int k, glimp_probe *out,
                                 glimp_error *err);

/* ---- section: backends ------------------------------------------------- */
/* A backend is one model the router talks to: in-process (`local`: GGUF
 * model + session + tokenizer + chat template) or, later, a remote server.
 * All backends offer the same four operations on prompts given as TEXT (so a
 * pair of models with different tokenizers and templates works):
 *   render   (question, thinking steps, phase) -> prompt, with the backend's
 *            own chat template (glimp_template_render: THINK prompts end
 *            inside the thinking block after the steps, FINAL prompts after
 *            "\n</think>\n\n");
 *   probe    summary of the next-token distribution after a prompt;
 *   generate sample a continuation until a stop string, end of sequence or
 *            max tokens, streaming pieces; an optional first-token hook sees
 *            the first token's distribution before it is sampled and may
 *            abort (the "streaming probe": a remote backend streams with
 *            logprobs and closes the connection; the local one simply stops);
 *   score    log-probability of a given continuation after a prompt.
 * A backend keeps its own cache between calls: the local one re-uses the
 * longest token prefix it already holds and reports how many prompt tokens
 * each call had to prefill. A backend is not thread-safe: one call at a time.
 * Control tokens: the local backend tokenizes a prompt that begins with the
 * last prompt it rendered with control tokens recognised only in that
 * render's template markup (question, steps and any text after the rendered
 * prompt stay plain text); any other prompt is raw (control tokens parsed
 * anywhere). A remote backend sends text, which its server tokenizes whole.
 */

typedef struct glimp_backend glimp_backend;

#define GLIMP_TOKEN_TEXT_MAX 48    /* bytes of a token's text kept (NUL included) */

/* Summary of one next-token distribution as a backend reports it (raw
 * softmax, temperature 1): like glimp_probe, plus token texts, and with
 * the parts a remote backend cannot know marked. */
typedef struct glimp_token_dist {
    double entropy_exact;  /* -sum p ln p over the whole vocabulary, nats;
                              NaN when the backend cannot see all logits */
    double entropy_topk;   /* entropy of the top n_top probabilities
                              renormalised to sum 1, nats */
    int n_top;             /* entries filled below, most probable first */
    int32_t top_id[GLIMP_PROBE_MAX_K];     /* token ids (-1 when unknown) */
    float top_logprob[GLIMP_PROBE_MAX_K];  /* ln p, NOT renormalised */
    char top_text[GLIMP_PROBE_MAX_K][GLIMP_TOKEN_TEXT_MAX]; /* token text,
                              NUL-terminated, cut at GLIMP_TOKEN_TEXT_MAX-1 bytes */
} glimp_token_dist;

/* Why generate() stopped. */
typedef enum glimp_stop_reason {
    GLIMP_STOP_STRING = 0,  /* a stop string was produced (result.stop_index) */
    GLIMP_STOP_MAX_TOKENS = 1,
    GLIMP_STOP_EOS = 2,     /* end of sequence / end of turn token */
    GLIMP_STOP_ABORTED = 3, /* the first-token hook declined: nothing generated */
    GLIMP_STOP_CONTEXT = 4, /* the context is full (see glimp_gen_params.keep_free) */
} glimp_stop_reason;

/* Called once per generate() with the first token's distribution, before the
 * token is sampled. Return true to continue, false to abort the call. */
typedef bool (*glimp_first_token_fn)(void *user, const glimp_token_dist *dist);
/* Called with each piece of generated text as it becomes final (text held
 * back while it could still be the start of a stop string; never contains
 * the stop string). `piece` is not NUL-terminated. Return false to cancel:
 * generate() then fails with GLIMP_ERR_CANCELLED. */
typedef bool (*glimp_piece_fn)(void *user, const char *piece, size_t len);

/* Speculative decoding of one generate call (in-process backends): a
 * drafter proposes up to `draft` tokens, the model scores them all in one
 * forward pass and keeps the longest prefix it agrees with, plus one token of
 * its own. Exact: greedy output is the model's greedy output token for token;
 * sampled output follows the model's own distribution (temperature and top-p
 * applied to both models alike, rejection sampling). The draft length adapts
 * between draft_min and draft_max (grows on full acceptance, shrinks on an
 * early rejection). Remote backends leave speculation to their server. */
typedef enum glimp_spec_mode {
    GLIMP_SPEC_OFF = 0,
    GLIMP_SPEC_MODEL = 1,   /* a draft model with the same vocabulary (spec.draft) */
    GLIMP_SPEC_NGRAM = 2,   /* prompt lookup: continue an earlier match of the last tokens */
} glimp_spec_mode;

typedef struct glimp_spec_params {
    glimp_spec_mode mode;     /* GLIMP_SPEC_OFF */
    glimp_backend *draft;     /* GLIMP_SPEC_MODEL: an in-process backend whose
                                 session drafts (borrowed; used only during the
                                 call, its cache re-synced by prefix as usual) */
    int draft_min;            /* 1..draft_max (1) */
    int draft_max;            /* draft_min..GLIMP_SPEC_DRAFT_LIMIT (6) */
} glimp_spec_params;

#define GLIMP_SPEC_DRAFT_LIMIT 32

/* "off", "model", "ngram" (static string). */
const char *glimp_spec_mode_name(glimp_spec_mode mode);
/* Parses "off", "model" or "ngram"; GLIMP_ERR_ARG otherwise. */
glimp_status glimp_spec_parse_mode(const char *text, glimp_spec_mode *mode, glimp_error *err);

/* Whether `target` can run `spec`: GLIMP_OK (also for GLIMP_SPEC_OFF);
 * GLIMP_ERR_UNSUPPORTED with the reason when it cannot: a remote target
 * (its server decides: the message says "server-side"), a draft that is the
 * target itself or not in-process, or a draft vocabulary whose token strings
 * differ from the target's over their shared id range. The vocabulary check
 * runs once per (target, draft) pair; its answer is kept. */
glimp_status glimp_backend_spec_check(glimp_backend *target, const glimp_spec_params *spec,
                                      glimp_error *err);

typedef struct glimp_gen_params {
    int max_tokens;           /* > 0 */
    const char *const *stop;  /* stop strings (not included in the text) */
    int n_stop;
    float temperature;        /* 0 = greedy (argmax) */
    float top_p;              /* 1 = off */
    uint64_t seed;            /* sampler seed for this call */
    int probe_top;            /* top-K size of the first-token probe, 1..GLIMP_PROBE_MAX_K */
    int keep_free;            /* >= 0: context positions to leave free. The local
                                 backend stops (GLIMP_STOP_CONTEXT) before a token
                                 would leave fewer free, also before the first one;
                                 with 0 it stops when the context is full instead of
                                 failing. Remote backends stop at their server's limit. */
    glimp_first_token_fn on_first; /* optional */
    glimp_piece_fn on_piece;       /* optional */
    void *user;               /* passed to both callbacks */
    glimp_spec_params spec;   /* speculative decoding (off) */
    bool token_stats;         /* fill the result's sum_logprob and sum_entropy
                                 (local backend: one pass of exp over the whole
                                 vocabulary per token, as long as a 0.5B model's
                                 share of a batched pass; off leaves them 0) */
} glimp_gen_params;

/* Defaults: 256 tokens, no stop strings, temperature 0.6, top-p 0.95,
 * seed 0, probe_top 20, keep_free 0, no callbacks, speculation off (draft
 * length 1..6), token statistics on. */
glimp_gen_params glimp_gen_default_params(void);

typedef struct glimp_gen_result {
    char *text;               /* generated text without the stop string;
                                 malloc'd, owned by the caller (free()) */
    size_t len;               /* strlen(text) */
    int n_tokens;             /* tokens sampled (the one that completed a stop
                                 string or was EOS included) */
    glimp_stop_reason stop;
    int stop_index;           /* which stop string, when stop == GLIMP_STOP_STRING */
    int prefill_tokens;       /* prompt tokens this call had to evaluate (the
                                 rest was re-used from the backend's cache) */
    glimp_token_dist first;   /* distribution of the first token */
    int32_t first_id;         /* sampled first token (-1 when aborted) */
    char first_text[GLIMP_TOKEN_TEXT_MAX]; /* its text ("" when aborted) */
    double sum_logprob;       /* sum over sampled tokens of ln p(token), raw
                                 distribution (temperature 1) */
    double sum_entropy;       /* sum over sampled positions of the raw
                                 distribution's entropy (exact when local) */
    double probe_ms;          /* from the call until the first distribution
                                 was known (prefill included) */
    double total_ms;          /* the whole call */
    int spec_drafted;         /* draft tokens proposed (0 without speculation) */
    int spec_accepted;        /* of those, kept by the model */
    int n_forwards;           /* forward passes of the model after the prompt
                                 (decodes and verify passes; in-process only) */
} glimp_gen_result;

/* Releases result->text (the struct itself is the caller's). NULL-safe. */
void glimp_gen_result_clear(glimp_gen_result *result);

typedef struct glimp_score_result {
    double logprob;           /* sum of ln p over the continuation's tokens */
    int n_tokens;             /* tokens scored */
    int prefill_tokens;       /* tokens evaluated by this call */
} glimp_score_result;

/* Parameters of the in-process backend. */
typedef struct glimp_local_params {
    const char *model_path;   /* GGUF file (required) */
    const char *template_name;/* a glimp_template_names() name, or "raw"
                                 (question + "\n\n", then each step +
                                 "\n\n", in both phases: for models without
                                 a chat template, e.g. stories260K); NULL =
                                 picked from the file (glimp_template_from_gguf) */
    int n_threads;            /* 0 = all online CPUs */
    int n_ctx;                /* 0 = the model's context length */
    /* Several backends on one loaded model (each keeps its own session):
     * model and tokenizer already loaded from model_path, both owned by
     * the caller and outliving the backend; NULL = loaded by the backend. */
    const glimp_model *model;
    const glimp_tokenizer *tokenizer; /* required with model */
    /* Optional, a stepper of `model`: the backend's prefill and decoding
     * run through it (the backend joins it during each call), batched with
     * the other backends' steps, speculation's verify passes too. Not used
     * by glimp_backend_score, which runs on the session alone. */
    glimp_stepper *stepper;
    /* Optional, a prefix pool the backend's session joins (for the
     * backend's life; the pool outlives it): each prompt first borrows the
     * longest prefix another member has settled, and lends its own once
     * computed (whole history between calls). Backends that share `model`
     * share their prompts' prefixes this way. */
    glimp_prefix_pool *prefixes;
    glimp_kv_type kv_type;    /* KV cache type (default GLIMP_KV_F16) */
} glimp_local_params;

glimp_local_params glimp_local_default_params(void);

/* Loads the model (unless given) and builds its session. Returns a backend
 * owned by the caller (glimp_backend_free), or NULL + err (GLIMP_ERR_ARG: a
 * model without its tokenizer, or a stepper of another model). */
glimp_backend *glimp_backend_local_create(const glimp_local_params *params, glimp_error *err);

void glimp_backend_free(glimp_backend *backend);

/* Short description, e.g. "local:qwen3-4b.gguf" (owned by the backend). */
const char *glimp_backend_name(const glimp_backend *backend);
/* Context length in tokens; 0 when unknown (remote backends). */
size_t glimp_backend_n_ctx(const glimp_backend *backend);

/* Renders a prompt; *prompt is malloc'd and owned by the caller (free()). */
glimp_status glimp_backend_render(glimp_backend *backend, const char *question,
                                  const char *const *steps, int n_steps,
                                  glimp_template_phase phase, char **prompt, glimp_error *err);

/* Fills *dist with the distribution of the token after `prompt`, keeping
 * the top `top` (1..GLIMP_PROBE_MAX_K) entries. Returns the number of
 * prompt tokens evaluated in *prefill_tokens (may be NULL). */
glimp_status glimp_backend_probe(glimp_backend *backend, const char *prompt, int top,
                                 glimp_token_dist *dist, int *prefill_tokens, glimp_error *err);

/* Generates after `prompt`. On success *result is filled (result->text
 * owned by the caller); on failure result->text is NULL. When the first
 * token hook declines, returns GLIMP_OK with result->stop ==
 * GLIMP_STOP_ABORTED and an empty text. */
glimp_status glimp_backend_generate(glimp_backend *backend, const char *prompt,
                                    const glimp_gen_params *params,
                                    glimp_gen_result *result, glimp_error *err);

/* Log-probability of `continuation` right after `prompt` (raw distribution):
 * the sum over the tokens of tokenize(prompt + continuation) beyond its
 * longest common prefix with tokenize(prompt), so a token merging across the
 * boundary is scored whole. */
glimp_status glimp_backend_score(glimp_backend *backend, const char *prompt,
                                 const char *continuation, glimp_score_result *result,
                                 glimp_error *err);

/* The remote backend (`openai`): an OpenAI-compatible server (vLLM, SGLang,
 * llama.cpp's server, glimp serve) over HTTP. Prompts are rendered here with
 * OUR chat template and sent as text to /v1/completions, so the server's
 * chat template never interferes. The probe reads the server's top-K
 * logprobs: entropy_exact is NaN (use the topk:K estimator). By default the
 * probe is streamed: generate() sends the step request with `stream: true`
 * and logprobs, hands the first token's distribution to the first-token
 * hook, and closes the connection when the hook declines (one round trip
 * per SLM step saved); probe_separate sends a max_tokens 1 request first,
 * as the published implementation does. Stop strings are matched here, on
 * the streamed text, and the connection is closed at a match, so servers
 * that do not say which stop string ended a completion work too.
 * The server must report raw (temperature 1) logprobs, as vLLM (default
 * logprobs mode), SGLang and llama.cpp (without post_sampling_probs) do.
 * score() needs `echo` with prompt logprobs (vLLM, SGLang); other servers
 * give GLIMP_ERR_UNSUPPORTED. */
typedef struct glimp_openai_params {
    const char *base_url;      /* "http://host:port" or ".../v1" (required) */
    const char *model;         /* model name the server knows (required) */
    const char *template_name; /* our chat template for the server's model, or
                                  "raw" as for the local backend (required) */
    const char *api_key_env;   /* environment variable holding the API key
                                  ("OPENAI_API_KEY"); unset or empty: no key */
    int connect_timeout_ms;    /* 10000 */
    int timeout_ms;            /* per request, whole answer (600000) */
    int max_retries;           /* retries on connect errors and 5xx (2) */
    int retry_backoff_ms;      /* first retry delay, doubling (250) */
    bool probe_separate;       /* false: streamed probe (see above) */
} glimp_openai_params;

glimp_openai_params glimp_openai_default_params(void);

/* Creates the backend (no request is made yet). Owned by the caller
 * (glimp_backend_free); NULL + err (GLIMP_ERR_ARG for a missing field or an
 * unknown template). Its name is "openai:MODEL@URL". */
glimp_backend *glimp_backend_openai_create(const glimp_openai_params *params, glimp_error *err);

/* ---- section: reward models --------------------------------------------- */
/* A reward model rates the last of a list of thinking steps (the rsd
 * policy's score, higher = better). Two kinds:
 *   judge  a backend (in-process or remote) reads the question and the steps
 *          in its own chat template, inside its thinking, followed by
 *          "Is the last step correct and useful? Answer Yes or No. Answer:";
 *          the score is P(" Yes") / (P(" Yes") + P(" No")) from two score
 *          calls, in [0, 1];
 *   prm    a process reward model served by vLLM's pooling API (README
 *          "Reward models" has the exact request and response): POST
 *          BASE/pooling {"model", "messages": [system, user = question,
 *          assistant = the steps, each followed by "<extra_0>"]}; the score
 *          is the last number of the last row of data[0].data (Qwen2.5-Math-
 *          PRM: [P(bad), P(good)] per step tag, so P(good) of the last step).
 * A reward model is not thread-safe: one call at a time. */
typedef struct glimp_reward glimp_reward;

/* A judge over `judge` (borrowed: it must outlive the reward model). */
glimp_reward *glimp_reward_judge_create(glimp_backend *judge, glimp_error *err);
/* A judge over its own in-process model (glimp_backend_local_create(params),
 * freed with the reward model). */
glimp_reward *glimp_reward_local_create(const glimp_local_params *params, glimp_error *err);

/* A process reward model over HTTP; of `params` it reads base_url (the
 * server, "http://host:port", a trailing "/v1" dropped), model, api_key_env,
 * the timeouts and the retries (template_name is not used). GLIMP_ERR_ARG
 * for a missing field. No request is made yet. */
glimp_reward *glimp_reward_prm_create(const glimp_openai_params *params, glimp_error *err);

/* Rates steps[n_steps - 1] (n_steps >= 1) after `question` and the steps
 * before it. *prefill_tokens (may be NULL) gets the prompt tokens a judge
 * evaluated (0 for a prm). Server errors and an answer without a finite
 * score fail with GLIMP_ERR_HTTP / GLIMP_ERR_JSON naming the URL. */
glimp_status glimp_reward_score(glimp_reward *reward, const char *question,
                                const char *const *steps, int n_steps, double *score,
                                int *prefill_tokens, glimp_error *err);

/* "judge:" + the backend's name, or "prm:MODEL@URL" (owned by the reward). */
const char *glimp_reward_name(const glimp_reward *reward);
/* The backend of a judge (NULL for a prm). */
glimp_backend *glimp_reward_judge_backend(const glimp_reward *reward);
void glimp_reward_free(glimp_reward *reward); /* NULL-safe */

/* ---- section: router ---------------------------------------------------- */
/* The router runs the GlimpRouter step loop over two backends (DESIGN.md
 * section 2): per thinking step it picks the writer by the policy, appends
 * the step as text, and stops thinking at `</think>`, at a step repeating the
 * previous one verbatim, at end of sequence, when the thinking budget is
 * spent, or when a writer's context has no more room for thinking (each
 * thinking call keeps min(final_max_tokens, a quarter of its model's
 * context) + GLIMP_ROUTER_ANSWER_SLACK positions free for the answer); then the LLM (or, with
 * final_by_slm, the SLM) writes the final answer after "\n</think>\n\n", in
 * the room its context has left. Every run is reproducible from (models,
 * params, seed): each generate call gets a seed derived from params.seed, the
 * step index and the role. The result holds a per-step trace. */

typedef struct glimp_router glimp_router;

typedef enum glimp_policy {
    GLIMP_POLICY_GLIMP = 0,      /* SLM probes the first token; H_init >= tau -> LLM */
    GLIMP_POLICY_LLM = 1,        /* every step by the LLM */
    GLIMP_POLICY_SLM = 2,        /* every step by the SLM */
    GLIMP_POLICY_RANDOM = 3,     /* LLM with probability random_p */
    GLIMP_POLICY_HSTEP = 4,      /* SLM drafts; mean token entropy >= tau -> LLM rewrites */
    GLIMP_POLICY_PPLSTEP = 5,    /* SLM drafts; perplexity >= tau -> LLM rewrites */
    GLIMP_POLICY_SPECREASON = 6, /* SLM drafts; LLM judge score 0-9 < tau -> LLM rewrites */
    GLIMP_POLICY_RSD = 7,        /* SLM drafts; reward model's score < tau -> LLM rewrites */
    GLIMP_POLICY_SPECCOT = 8,    /* SLM drafts `candidates` steps; the LLM keeps the one of
                                    highest mean token log-likelihood, or rewrites when its
                                    geometric-mean token probability < tau */
} glimp_policy;

typedef enum glimp_entropy_kind {
    GLIMP_ENTROPY_TOPK = 0,  /* entropy of the renormalised top-K (any backend) */
    GLIMP_ENTROPY_EXACT = 1, /* entropy over the whole vocabulary (local SLM only) */
} glimp_entropy_kind;

/* Which backend wrote a step. */
typedef enum glimp_role {
    GLIMP_ROLE_SLM = 0,
    GLIMP_ROLE_LLM = 1,
} glimp_role;

typedef struct glimp_router_params {
    glimp_policy policy;        /* GLIMP_POLICY_GLIMP */
    double random_p;            /* P(LLM) for GLIMP_POLICY_RANDOM (0.5) */
    double tau;                 /* threshold (1.0; judge scores 0-9 for specreason) */
    glimp_entropy_kind entropy; /* GLIMP_ENTROPY_TOPK */
    int entropy_top_k;          /* K of the top-K estimator (20) */
    const char *delimiter;      /* step delimiter ("\n\n"); borrowed */
    int max_step_tokens;        /* 512 */
    int think_budget;           /* thinking tokens in all steps (8192) */
    int final_max_tokens;       /* 2048 */
    float temperature;          /* 0.6; 0 = greedy */
    float top_p;                /* 0.95 */
    uint64_t seed;              /* 0 */
    bool final_by_slm;          /* the SLM writes the final answer (false) */
    const char *const *stop;    /* stop strings of the final answer (not part of
                                   it; none by default); copied by the router */
    int n_stop;                 /* 0..GLIMP_ROUTER_MAX_STOP */
    glimp_spec_mode spec;       /* speculative decoding of the LLM's calls (off):
                                   model = the SLM drafts (same vocabulary
                                   needed), ngram = prompt lookup */
    int draft_min, draft_max;   /* draft length range (1, 6) */
    int candidates;             /* speccot: SLM drafts per step, the N of
                                   speccot:N (3; 1..GLIMP_ROUTER_MAX_CANDIDATES) */
    glimp_reward *reward;       /* rsd: the reward model, borrowed; NULL: a
                                   judge over the LLM backend */
} glimp_router_params;

#define GLIMP_ROUTER_MAX_STOP 16
#define GLIMP_ROUTER_MAX_CANDIDATES 16
/* Positions kept free during thinking beyond the room for the answer's
 * tokens: the final prompt's closing markup and re-tokenisation of the steps. */
#define GLIMP_ROUTER_ANSWER_SLACK 16

glimp_router_params glimp_router_default_params(void);

/* Parse "glimp", "llm", "slm", "random:P", "hstep", "pplstep", "specreason",
 * "rsd", "speccot" or "speccot:N" into params->policy (and random_p,
 * candidates). GLIMP_ERR_ARG on anything else. */
glimp_status glimp_router_parse_policy(const char *text, glimp_router_params *params,
                                       glimp_error *err);
/* Parse "exact" or "topk:K" (1 <= K <= GLIMP_PROBE_MAX_K) into params. */
glimp_status glimp_router_parse_entropy(const char *text, glimp_router_params *params,
                                        glimp_error *err);
/* One option of the router as the command-line front ends spell it. */
typedef struct glimp_router_option {
    const char *name; /* without "--", e.g. "max-step-tokens" */
    const char *arg;  /* placeholder of its value in help texts, e.g. "N" */
    const char *help; /* one line: meaning and default */
    double min, max;  /* accepted range of a numeric value; 0, 0 when not a number */
} glimp_router_option;

/* The options glimp_router_set_option() takes, in help order (policy, tau,
 * entropy, final, seed, temp, top-p, delimiter, max-step-tokens,
 * think-budget, final-max-tokens, spec, draft-max, draft-min); *n gets their
 * count. Static table. */
const glimp_router_option *glimp_router_options(size_t *n);

/* Sets the field of `params` that option `name` (spelled as in
 * glimp_router_options(), without "--") stands for from its text `value`:
 * numbers must be whole and within [min, max]; "policy" and "entropy" as
 * glimp_router_parse_policy / _entropy; "final" is "slm" or "llm";
 * "delimiter" is borrowed as the delimiter itself (not empty; decoding
 * escapes is the caller's). GLIMP_ERR_NOT_FOUND when `name` is not a router
 * option, GLIMP_ERR_ARG for a bad value (params unchanged); the message
 * names the option and quotes the value. */
glimp_status glimp_router_set_option(glimp_router_params *params, const char *name,
                                     const char *value, glimp_error *err);
/* "glimp", "llm", ..., "random" (static string). */
const char *glimp_policy_name(glimp_policy policy);
/* "slm" / "llm" (static string). */
const char *glimp_role_name(glimp_role role);

/* How a step ended. */
typedef enum glimp_step_end {
    GLIMP_STEP_DELIMITER = 0,   /* the delimiter was written */
    GLIMP_STEP_MAX_TOKENS = 1,  /* max_step_tokens (or the rest of the budget) */
    GLIMP_STEP_THINK_END = 2,   /* `</think>` was written */
    GLIMP_STEP_EOS = 3,         /* the model ended its turn */
    GLIMP_STEP_CONTEXT = 4,     /* the writer's context is full (what fits is kept) */
} glimp_step_end;

/* How thinking ended. */
typedef enum glimp_think_end {
    GLIMP_THINK_CLOSED = 0,     /* a step contained `</think>` */
    GLIMP_THINK_REPEAT = 1,     /* a step repeated the previous one verbatim */
    GLIMP_THINK_BUDGET = 2,     /* think_budget tokens spent */
    GLIMP_THINK_EOS = 3,        /* a model ended its turn inside the thinking */
    GLIMP_THINK_CONTEXT = 4,    /* a model's context has no room for more thinking
                                   (room for the final answer is kept: see
                                   glimp_router_run) */
} glimp_think_end;

/* "delimiter", "max_tokens", "think_end", "eos", "context" / "closed",
 * "repeat", "budget", "eos", "context" (static strings, as in the trace JSON). */
const char *glimp_step_end_name(glimp_step_end end);
const char *glimp_think_end_name(glimp_think_end end);

/* One thinking step of the trace. Times in milliseconds. */
typedef struct glimp_step {
    int index;                  /* 0-based */
    glimp_role model;           /* who wrote `text` */
    char *text;                 /* the step, without the delimiter */
    int n_tokens;               /* tokens of `text` by its writer */
    glimp_step_end end;
    double h_init_topk;         /* H_init by the top-K estimator; NaN if not probed */
    double h_init_exact;        /* H_init over the whole vocabulary; NaN if not
                                   probed or the SLM is remote */
    char first_token[GLIMP_TOKEN_TEXT_MAX]; /* SLM's sampled first token when
                                   the SLM wrote or drafted the step, else the
                                   LLM's; "" when unknown */
    double draft_score;         /* hstep: mean entropy, pplstep: perplexity,
                                   specreason: judge score, rsd: reward,
                                   speccot: the best candidate's geometric-mean
                                   token probability under the LLM; NaN otherwise */
    int draft_tokens;           /* tokens of discarded SLM drafts (0 if none) */
    double probe_ms;            /* SLM time until H_init was known (0 if no probe) */
    double draft_ms;            /* SLM draft(s) + scoring time of a draft policy */
    double gen_ms;              /* time of the call that wrote `text` */
    int prefill_slm;            /* prompt tokens the SLM evaluated for this step */
    int prefill_llm;            /* prompt tokens the LLM evaluated for this step */
    int spec_drafted;           /* speculation: tokens drafted for the LLM's call */
    int spec_accepted;          /* of those, kept by the LLM */
    int llm_forwards;           /* LLM forward passes of the step's writing call */
} glimp_step;

/* A finished run. Produced by glimp_router_run, owned by the caller. */
typedef struct glimp_router_result {
    char *question;
    glimp_router_params params; /* params.delimiter and .stop point into this result */
    glimp_step *steps;
    int n_steps;
    glimp_think_end think_end;
    char *answer;               /* the final answer (NULL: cancelled before it) */
    glimp_role answer_model;
    int answer_tokens;
    int answer_prefill;         /* prompt tokens evaluated for the final answer */
    glimp_stop_reason answer_stop; /* why the answer ended (GLIMP_STOP_CONTEXT:
                                   the writer's context was full) */
    int answer_stop_index;      /* which params.stop string, for GLIMP_STOP_STRING */
    double answer_ms;
    int steps_by[2];            /* steps written, indexed by glimp_role */
    int tokens_by[2];           /* tokens written (thinking + answer), by role */
    double ms_by[2];            /* time spent in each backend, by role */
    double llm_step_share;      /* steps_by[LLM] / n_steps (0 when no steps) */
    double wall_ms;             /* the whole run */
    char *slm_name, *llm_name;  /* glimp_backend_name() of each */
    char *reward_name;          /* rsd: glimp_reward_name() (params.reward is
                                   NULL here); NULL otherwise */
    const char *spec;           /* speculation in effect for the LLM: "off",
                                   "model", "ngram" or "server-side" (static) */
    int spec_drafted;           /* over all LLM calls (steps and answer) */
    int spec_accepted;
    int llm_forwards;           /* LLM forward passes of its writing calls; with
                                   the LLM's tokens: tokens per forward pass */
} glimp_router_result;

/* Streaming callbacks, all optional; each returns false to cancel the run
 * (glimp_router_run then fails with GLIMP_ERR_CANCELLED). */
typedef struct glimp_router_callbacks {
    void *user;
    /* A step's writer is known (for draft policies: after the decision). */
    bool (*on_step_begin)(void *user, int index, glimp_role model, double h_init);
    /* Text of the current step or of the answer (index -1) as written. For
     * draft policies the accepted SLM draft arrives as one piece. */
    bool (*on_piece)(void *user, int index, glimp_role model, const char *piece, size_t len);
    /* A step is finished; `step` is valid only during the call. A step
     * begun when a writer's context had no room left gets no on_step_end
     * (it has no text and is not in the trace). */
    bool (*on_step_end)(void *user, const glimp_step *step);
    /* The final answer starts (its pieces follow with index -1). */
    bool (*on_answer_begin)(void *user, glimp_role model);
} glimp_router_callbacks;

/* Creates a router over two backends, which it borrows: they must outlive
 * it. The same backend may serve as both. Copies params (and the
 * delimiter and stop strings). NULL + GLIMP_ERR_ARG on invalid params. */
glimp_router *glimp_router_create(glimp_backend *slm, glimp_backend *llm,
                                  const glimp_router_params *params, glimp_error *err);
void glimp_router_free(glimp_router *router);

/* Why the speculation params asked for is not in effect (the LLM is remote:
 * "server-side"; the SLM's vocabulary differs; ...), or NULL when it is (or
 * none was asked for). Owned by the router. */
const char *glimp_router_spec_note(const glimp_router *router);

/* Runs one question. On success *result is a new result owned by the caller
 * (glimp_router_result_free). callbacks may be NULL. GLIMP_ERR_RANGE when
 * the answer writer's context has no room for the final answer (e.g. the
 * question alone fills it). When a callback cancels the run
 * (GLIMP_ERR_CANCELLED), *result is still set to the partial run: the
 * finished steps, and tokens_by counting every token generated, the
 * cancelled call's included (free it as usual); on other errors it is NULL. */
glimp_status glimp_router_run(glimp_router *router, const char *question,
                              const glimp_router_callbacks *callbacks,
                              glimp_router_result **result, glimp_error *err);

void glimp_router_result_free(glimp_router_result *result);

/* The whole result as one JSON object (see README "Running a pair"), or
 * JSON Lines: one {"type":"step",...} line per step then one
 * {"type":"summary",...} line. malloc'd strings owned by the caller; NULL
 * only when out of memory. Times are under keys ending in "_ms". */
char *glimp_router_result_json(const glimp_router_result *result);
char *glimp_router_result_jsonl(const glimp_router_result *result);

/* ---- section: server ---------------------------------------------------- */
/* `glimp serve`: an OpenAI-compatible HTTP server (libmicrohttpd, a thread
 * per connection). Single-model mode serves /v1/completions (legacy
 * logprobs shape, vLLM's stop_reason), /v1/chat/completions (the model's
 * chat template), /v1/models, /health and /metrics (Prometheus), with SSE
 * streaming; each of `parallel` slots keeps its own session and re-uses the
 * longest token prefix it already holds. Routed mode (slm_path + llm_path)
 * serves the model "glimprouter" on /v1/chat/completions: thinking steps as
 * reasoning_content, the answer as content, per-step details under "glimp".
 * Requests beyond `parallel` wait in a queue of `queue` places; more get a
 * 503. A client that disconnects cancels its request (one that only
 * half-closes its side still gets its answer). Errors are OpenAI
 * error objects {"error": {"message", "type", "param", "code"}}.
 * See README "Serving". */
typedef struct glimp_server glimp_server;

typedef struct glimp_serve_params {
    const char *host;          /* address to bind ("127.0.0.1") */
    int port;                  /* 0 = a free port (glimp_server_port) */
    const char *model_path;    /* single-model mode */
    const char *model_name;    /* served id; NULL = file name without .gguf
                                  ("glimprouter" in routed mode) */
    const char *template_name; /* chat template for /v1/chat/completions; NULL =
                                  from the file; "raw" = contents joined by "\n\n" */
    const char *slm_path, *llm_path;         /* routed mode */
    const char *slm_template, *llm_template; /* as glimp_local_params */
    glimp_router_params router;/* routed mode: policy, tau, budgets, ... */
    int parallel;              /* concurrent requests = slots (1) */
    int queue;                 /* waiting requests beyond them (8) */
    size_t max_body_bytes;     /* request body limit (1 MiB) -> 413 */
    int max_tokens;            /* upper bound of a request's max_tokens (4096) */
    int n_threads;             /* per slot session; 0 = all cores */
    int n_ctx;                 /* per slot session; 0 = the model's */
    glimp_kv_type kv_type;     /* per slot session (GLIMP_KV_F16) */
    bool log_requests;         /* one line per request on stderr */
    const char *api_key;       /* NULL = none; else every endpoint but /health
                                  wants "Authorization: Bearer KEY" (401) */
    int max_connections;       /* open connections at most; 0 = parallel +
                                  queue + 64. Near the cap a new connection
                                  displaces the oldest one still waiting for
                                  its request; beyond it connections close */
    double read_timeout_s;     /* a request's headers and body must arrive
                                  within this many seconds (10) */
    int batch_tokens;          /* parallel > 1: the slots' steps run as one
                                  forward pass of at most this many tokens
                                  (continuous batching, per model in routed
                                  mode, where the slots share each model;
                                  long prompts go in chunks); 0 = 512 */
} glimp_serve_params;

glimp_serve_params glimp_serve_default_params(void);

/* Loads the model(s), builds the slots and starts listening. Owned by the
 * caller (glimp_server_stop). NULL + err: model loading errors,
 * GLIMP_ERR_ARG (neither or both modes, bad limits, an open-file limit too
 * low for max_connections), GLIMP_ERR_IO (cannot bind). */
glimp_server *glimp_server_start(const glimp_serve_params *params, glimp_error *err);
/* The port it listens on (the chosen one when params.port was 0). */
int glimp_server_port(const glimp_server *server);
/* The model id the server answers to (/v1/models): params.model_name, the
 * model file's name without .gguf, or "glimprouter" for a routed pair. */
const char *glimp_server_model_id(const glimp_server *server);
/* Whether the server listens on a loopback address only (127.0.0.0/8, ::1). */
bool glimp_server_is_loopback(const glimp_server *server);
/* Stops listening and refuses new requests (503), lets running and queued
 * ones finish for up to grace_s seconds, then ends the rest: streams with an
 * error event and [DONE], whole answers with a 503 error object. Frees
 * everything. NULL-safe. */
void glimp_server_shutdown(glimp_server *server, double grace_s);
/* glimp_server_shutdown(server, 0). */
void glimp_server_stop(glimp_server *server);

/* ---- section: evaluation ------------------------------------------------ */
/* Benchmarks (src/eval): datasets, answer grading, evaluation runs and their
 * reports. A run writes DIR/items.jsonl (one JSON record per finished item,
 * appended as it finishes), DIR/summary.csv, DIR/summary.md and SVG plots.
 * Grading rules and record fields: docs/eval.md. */

typedef enum glimp_grade_kind {
    GLIMP_GRADE_INTEGER = 0, /* last \boxed{} (reference: "#### N" or N) as an integer */
    GLIMP_GRADE_MATH = 1,    /* LaTeX answers compared after normalisation (MATH-500) */
    GLIMP_GRADE_CHOICE = 2,  /* a letter A-D (GPQA) */
    GLIMP_GRADE_CODE = 3,    /* a Python program run on the tests in a sandbox (LiveCodeBench) */
} glimp_grade_kind;

/* Extracts the final answer of a response into out (NUL-terminated, cut at
 * cap-1 bytes). INTEGER and MATH: the content of the last balanced \boxed{}
 * (INTEGER also takes "#### N", the GSM8K reference form); CHOICE: the letter
 * in the last \boxed{} or after the last "answer is" / "Answer:"; CODE: the
 * lines between the last two lines holding ``` (LiveCodeBench's rule). Returns
 * false (out = "") when no answer is found. */
bool glimp_eval_extract_answer(glimp_grade_kind kind, const char *response, char *out,
                               size_t cap);

/* True when the extracted answer `pred` equals `reference` under kind's rules
 * (docs/eval.md lists what MATH recognises). `question` may be NULL; when it
 * asks for answers "separated by commas", MATH compares bare comma lists as
 * unordered. CODE runs the program `pred` on every test of `reference` (the
 * tests of an lcb problem) in the sandbox with the default limits: true when
 * all pass. */
bool glimp_eval_answers_match(glimp_grade_kind kind, const char *pred, const char *reference,
                              const char *question);

typedef struct glimp_dataset glimp_dataset;

typedef struct glimp_dataset_params {
    const char *profile;        /* "aime24" "aime25" "amc23" "math500" "gpqa_diamond"
                                   "gsm8k" "lcb"; NULL: the file's stem if it names one
                                   ("lcb_*" names lcb) */
    const char *question_field; /* NULL: the profile's (generic files: "question") */
    const char *answer_field;   /* NULL: the profile's (generic files: "answer") */
    const char *id_field;       /* NULL: the profile's; absent field: line number */
    glimp_grade_kind grade;     /* for files without a profile (default MATH); CODE reads
                                   LiveCodeBench rows, local or upstream (docs/eval.md) */
    uint64_t seed;              /* shuffles multiple-choice options, per problem */
} glimp_dataset_params;

/* One problem; strings owned by the dataset. */
typedef struct glimp_eval_problem {
    const char *id;        /* the id field as text, else the 0-based line number */
    const char *question;  /* CHOICE: the stem followed by "A) ..." .. "D) ..." lines */
    const char *reference; /* INTEGER: the number (GSM8K: after ####); CHOICE: the letter;
                              CODE: JSON {"fn_name", "tests": [{input, output, type}]} */
    glimp_grade_kind grade;
} glimp_eval_problem;

glimp_dataset_params glimp_dataset_default_params(void);

/* Resolves `--data` values: an existing path is used as is; a bare NAME
 * becomes $GLIMP_DATA_DIR/NAME.jsonl, else ../shared/datasets/NAME.jsonl
 * relative to the source tree (GLIMP_SOURCE_DIR at build time) or the
 * current directory. GLIMP_ERR_NOT_FOUND when none exists. */
glimp_status glimp_dataset_resolve(const char *name_or_path, char *path, size_t cap,
                                   glimp_error *err);

/* Loads a JSONL file (one object per line, blank lines skipped). Returns NULL
 * and fills err on I/O errors, bad JSON, missing fields, a line over 16 MiB
 * (GLIMP_ERR_RANGE; the rest of it is not read) or two problems with one id
 * (naming both lines). Free with glimp_dataset_free(). */
glimp_dataset *glimp_dataset_load(const char *path, const glimp_dataset_params *params,
                                  glimp_error *err);
size_t glimp_dataset_count(const glimp_dataset *ds);
/* Problem i (< count), owned by ds. */
const glimp_eval_problem *glimp_dataset_problem(const glimp_dataset *ds, size_t i);
/* The profile name, else the file name without folder and extension
 * (owned by ds). Records of a run carry it as "dataset". */
const char *glimp_dataset_name(const glimp_dataset *ds);
void glimp_dataset_free(glimp_dataset *ds);

/* Renders the prompt for a problem. tmpl NULL: the built-in prompt for its
 * kind (reason step by step, blank lines between steps, final answer in
 * \boxed{}); else every "{question}" in tmpl is replaced (GLIMP_ERR_ARG when
 * tmpl has none). *out is malloc'd, the caller frees it. */
glimp_status glimp_eval_render_prompt(const char *tmpl, const glimp_eval_problem *problem,
                                      char **out, glimp_error *err);

/* One unit of work handed to the solver. */
typedef struct glimp_eval_task {
    const glimp_eval_problem *problem;
    const char *prompt;  /* rendered prompt: the question given to the router */
    const char *policy;  /* "glimp", "llm", "slm", "random:0.3", ... */
    double tau;          /* threshold; NAN for policies that do not use one */
    int repeat;          /* 0..repeats-1 */
    uint64_t seed;       /* from (run seed, problem, repeat): equal across policies */
    int worker;          /* 0..parallel-1: lets a solver keep one router per worker */
} glimp_eval_task;

/* Runs one task and sets *trace_json to the router's JSON trace (malloc'd,
 * the harness frees it; fields read: docs/eval.md). Called from `parallel`
 * threads at once when parallel > 1, never twice at once with one worker. */
typedef glimp_status (*glimp_eval_solve_fn)(void *user, const glimp_eval_task *task,
                                            char **trace_json, glimp_error *err);

/* Progress: `done` of `total` items finished in this process (skipped ones
 * excluded), elapsed seconds since the run started. Called under a lock. */
typedef void (*glimp_eval_progress_fn)(void *user, size_t done, size_t total, double elapsed_s);

typedef struct glimp_eval_params {
    const char *out_dir;              /* created if missing */
    const char *const *policies;      /* default {"glimp"} */
    size_t n_policies;
    const double *taus;               /* default {1.0}; only policies with a tau vary it */
    size_t n_taus;
    size_t limit;                     /* first N problems; 0: all */
    int repeats;                      /* default 1 */
    uint64_t seed;                    /* default 0 */
    int parallel;                     /* concurrent items, default 1 */
    const char *prompt_template;      /* NULL: built-in (see glimp_eval_render_prompt) */
    glimp_eval_progress_fn progress;  /* may be NULL */
    void *progress_user;
    const char *config;               /* JSON object: the solver's settings that change its
                                         results (glimp_eval_router_config); a member "about"
                                         is recorded, not compared. NULL: none */
    bool force_new;                   /* out_dir holds records: move them aside, start afresh */
} glimp_eval_params;

typedef struct glimp_eval_counts {
    size_t total;   /* (policy, tau, problem, repeat) items in the plan */
    size_t skipped; /* already in out_dir/items.jsonl */
    size_t done;    /* finished and appended now */
    size_t failed;  /* solver errors: not recorded, so a rerun retries them */
    long stale_lock_pid; /* > 0: out_dir/run.lock left by this PID, which died, was taken over */
    int previous;   /* > 0: force_new moved the old records to out_dir/previous-N */
    bool code_no_netns; /* code was graded without a network namespace (not permitted
                           here): only the sandbox's filter kept it off the network */
} glimp_eval_counts;

glimp_eval_params glimp_eval_default_params(void);

/* True for policies whose decision uses tau (glimp, hstep, pplstep,
 * specreason, rsd, speccot and speccot:N). */
bool glimp_eval_policy_uses_tau(const char *policy);

/* Runs every (policy, tau, problem, repeat) not yet in out_dir/items.jsonl,
 * appending each record as it finishes, then writes the report (as
 * glimp_eval_report). A torn last line left by a killed run is cut off first.
 * One run at a time per out_dir (out_dir/run.lock holds the PID); records
 * are reused only when out_dir/run.json holds the same settings: the
 * dataset's problems, the prompt template, the seed and params->config.
 * GLIMP_ERR_ARG when out_dir is in use by another run or holds records of
 * other or unknown settings (the message names each difference; force_new
 * moves items.jsonl and run.json to out_dir/previous-N instead). Else
 * returns the first solver error (after finishing the other items) or an
 * I/O error. counts may be NULL. */
glimp_status glimp_eval_run(const glimp_dataset *ds, const glimp_eval_params *params,
                            glimp_eval_solve_fn solve, void *user, glimp_eval_counts *counts,
                            glimp_error *err);

/* Rebuilds dir/summary.csv, dir/summary.md and the SVG plots
 * (accuracy_latency.svg, h_init_hist.svg, llm_share_tau.svg) from
 * dir/items.jsonl. */
glimp_status glimp_eval_report(const char *dir, glimp_error *err);

/* Formats one progress line of a run into buf (cut at cap-1 bytes): for a
 * terminal (tty) "\r[#####.....] done/total pct rate ETA" to redraw in
 * place, else a plain line ending in "\n". */
void glimp_eval_progress_format(char *buf, size_t cap, bool tty, size_t done, size_t total,
                                double elapsed_s);

/* The router as the solver of `glimp eval` / `glimp calibrate`: one
 * backend pair per worker (a worker's pair is used by one item at a time). */
typedef struct glimp_eval_router {
    glimp_backend *const *slm;  /* n_workers backends, borrowed */
    glimp_backend *const *llm;  /* n_workers backends, borrowed (may equal slm) */
    int n_workers;
    glimp_router_params params; /* everything but policy, tau and seed, which
                                   come from each task */
    glimp_reward *const *reward; /* n_workers reward models for rsd, borrowed;
                                   NULL: params.reward (NULL: the LLM judges) */
} glimp_eval_router;

/* A glimp_eval_solve_fn whose user is a glimp_eval_router: parses
 * task->policy (glimp_router_parse_policy), takes task->tau when it is not
 * NAN and task->seed, runs the router on task->prompt with the worker's
 * backends and returns glimp_router_result_json(). */
glimp_status glimp_eval_solve_router(void *user, const glimp_eval_task *task,
                                     char **trace_json, glimp_error *err);

/* Opens the backend named on the command line of `glimp eval` /
 * `glimp calibrate`: an "http://" or "https://" URL is an OpenAI-compatible
 * server (`model` is the server's model name, `template_name` our chat
 * template for it, both required there), anything else a GGUF file run
 * in-process with `local` (its model_path and template_name replaced).
 * Owned by the caller (glimp_backend_free); NULL + err on failure. */
glimp_backend *glimp_eval_open_backend(const char *where, const char *model,
                                       const char *template_name,
                                       const glimp_local_params *local, glimp_error *err);

/* True when `where` names a server (an http:// or https:// URL). */
bool glimp_eval_is_server(const char *where);

/* The models of a routed run, by glimp_role, as glimp_eval_open_backend
 * takes them. */
typedef struct glimp_eval_models {
    const char *where[2];         /* GGUF path or server URL */
    const char *model[2];         /* a server's model name, or NULL */
    const char *template_name[2]; /* NULL: the model's own */
    int n_ctx;                    /* local models' context; 0: the model's */
    const char *reward_url;       /* rsd's process reward model server, or NULL */
    const char *reward_model;     /* its model name, or a GGUF judge; NULL: the LLM */
    glimp_kv_type kv_type;        /* local models' KV cache type */
} glimp_eval_models;

/* The settings of a routed run that change its results, as a JSON object
 * for glimp_eval_params.config: each model (a GGUF file by its size and an
 * FNV-1a hash of its first 8 MiB and last 1 MiB, not by path or mtime; a
 * server by URL and model name), templates, n_ctx, the KV cache type when
 * not F16, the reward model when one is given (as a model is) and every
 * router parameter except policy, tau and seed (set per item; speccot's N
 * is part of the policy); the paths go to "about". malloc'd; NULL + err (GLIMP_ERR_IO) when a file cannot be read. */
char *glimp_eval_router_config(const glimp_eval_models *models,
                               const glimp_router_params *params, glimp_error *err);

/* H_init statistics of SLM-only traces. */
typedef struct glimp_calibration {
    size_t n_problems; /* traces collected */
    size_t n_steps;    /* probed steps (with an H_init) */
    double target_share;
    double tau;        /* steps with H_init >= tau make up target_share of all */
    double q[7];       /* H_init quantiles at glimp_calibration_levels[] */
    double min, max, mean;
} glimp_calibration;

/* The quantile levels of glimp_calibration.q: 0.05 .. 0.99. */
extern const double glimp_calibration_levels[7];

/* Computes the calibration of n H_init values (any order; h is not kept).
 * GLIMP_ERR_ARG when n is 0 or target_share is outside (0, 1). */
glimp_status glimp_eval_calibrate_values(const double *h, size_t n, double target_share,
                                         glimp_calibration *out, glimp_error *err);

/* Runs `policy` at tau `tau` (NAN when it has none) once on each of the
 * first params->limit problems (also read: seed, parallel, prompt_template,
 * progress; nothing is written to disk), collects a score of every step of
 * every trace and calibrates them: the H_init of every probed step, or for
 * policy hstep and pplstep (run with tau = INFINITY, so that every draft
 * stands and the traces are the SLM's own) each draft's score. */
glimp_status glimp_eval_calibrate(const glimp_dataset *ds, const glimp_eval_params *params,
                                  const char *policy, double tau, double target_share,
                                  glimp_eval_solve_fn solve, void *user,
                                  glimp_calibration *out, glimp_error *err);

/* Signal analysis (`glimp analyze`; docs/eval.md, "Signal analysis"): for
 * every SLM-written step of router traces, the signals a policy could route
 * on - H_init, H_step, PPL_step and the specreason judge's score - and
 * whether the LLM would write the step differently (its greedy first token
 * differs; its log-probability per token of the step), then each signal's
 * AUROC for that label, its bimodality coefficient and its histogram. */
typedef struct glimp_analyzer glimp_analyzer;

typedef struct glimp_analyze_params {
    const char *slm_path;       /* the SLM's GGUF file (required): the analysis reads its
                                   distribution before every token of a step */
    const char *slm_template;   /* a glimp_template_names() name; NULL: the file's */
    int n_ctx;                  /* the SLM session's context; 0: the model's */
    int n_threads;              /* 0: physical cores */
    glimp_entropy_kind entropy; /* H_init's estimator, as the router's (GLIMP_ENTROPY_TOPK) */
    int entropy_top_k;          /* its K (20) */
    double ll_threshold;        /* the low_ll label: the LLM's log-probability per token of
                                   the step below this; NAN (default): the median */
} glimp_analyze_params;

glimp_analyze_params glimp_analyze_default_params(void);

/* Opens the SLM (a model and session of its own) and borrows `llm`, which
 * must outlive the analyzer. Owned by the caller (glimp_analyzer_free);
 * NULL + err when the SLM cannot be loaded or params are out of range. */
glimp_analyzer *glimp_analyzer_create(const glimp_analyze_params *params, glimp_backend *llm,
                                      glimp_error *err);
void glimp_analyzer_free(glimp_analyzer *a); /* NULL-safe */

/* Analyzes every step the SLM wrote in `trace_json` (glimp_router_result_json;
 * its "question" and steps' "model" and "text" are read), after the steps
 * before it as the trace has them. `problem` names its rows. A step whose
 * prompt no longer fits the SLM's context ends that trace's analysis (counted
 * in glimp_analyzer_n_skipped). GLIMP_ERR_JSON for a trace without those
 * fields; backend errors pass through. */
glimp_status glimp_analyzer_add_trace(glimp_analyzer *a, const char *problem,
                                      const char *trace_json, glimp_error *err);
/* The same for the trace of every record of DIR/items.jsonl (a `glimp eval`
 * folder; a torn last line is ignored); *n_traces (may be NULL) gets how many. */
glimp_status glimp_analyzer_add_eval_dir(glimp_analyzer *a, const char *dir, size_t *n_traces,
                                         glimp_error *err);
size_t glimp_analyzer_n_steps(const glimp_analyzer *a);   /* steps analyzed */
size_t glimp_analyzer_n_skipped(const glimp_analyzer *a); /* SLM steps left out */

/* Writes DIR/steps.csv (one row per step), DIR/signals.csv and
 * DIR/signals.md (per signal: AUROC for each label, bimodality coefficient,
 * moments) and DIR/hist_<signal>.svg; DIR is created if missing. */
glimp_status glimp_analyzer_write(glimp_analyzer *a, const char *dir, glimp_error *err);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* GLIMP_H */
