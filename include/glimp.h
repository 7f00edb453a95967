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
/* ---- section: tokenizer and chat templates ------------------------------ */
/* ---- section: sampling ------------------------------------------------- */
/* ---- section: backends ------------------------------------------------- */
/* ---- section: router ---------------------------------------------------- */
/* ---- section: server ---------------------------------------------------- */
/* ---- section: evaluation ------------------------------------------------ */

#ifdef __cplusplus
}
#endif

#endif /* GLIMP_H */
