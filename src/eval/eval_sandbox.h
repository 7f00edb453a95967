/* eval_sandbox.h - running an untrusted Python program in a sandbox
 * (eval_sandbox.c): a child process in a fresh temporary folder with CPU,
 * wall-time, memory, file-size, open-file and process limits, no network
 * and no way to start other processes; stdin from a buffer, stdout captured
 * up to a cap. Used to grade LiveCodeBench answers (eval_lcb_grade.c). */
#ifndef GLIMP_EVAL_SANDBOX_H
#define GLIMP_EVAL_SANDBOX_H

#include "glimp.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct eval_sandbox_limits {
    double cpu_s;        /* CPU seconds (RLIMIT_CPU, rounded up) */
    double wall_s;       /* wall seconds from the start, then the process group is killed */
    size_t memory_bytes; /* address space (RLIMIT_AS) */
    size_t file_bytes;   /* largest file it may write (RLIMIT_FSIZE) */
    size_t output_bytes; /* stdout kept; more kills the program */
    int processes;       /* RLIMIT_NPROC (counts per user; root is exempt: see .c) */
} eval_sandbox_limits;

/* The defaults: 6 s CPU, 7 s wall, 2 GiB, 64 MiB files, 64 MiB output, 512 processes. */
eval_sandbox_limits eval_sandbox_default_limits(void);

/* A file written into the program's folder before it starts. */
typedef struct eval_sandbox_file {
    const char *name; /* plain name, no '/' */
    const char *data;
    size_t len;
} eval_sandbox_file;

typedef struct eval_sandbox_result {
    int exit_code;      /* when it exited; -1 when killed by a signal */
    int signal;         /* the signal that ended it, else 0 */
    bool wall_timeout;  /* killed at the wall-time limit */
    bool output_limit;  /* killed for writing more than output_bytes */
    double wall_s;      /* from start to end */
    char *out;          /* stdout (malloc'd, NUL-terminated, at most output_bytes) */
    size_t out_len;
    char err[2048];     /* the first bytes of stderr, NUL-terminated */
} eval_sandbox_result;

/* The python3 interpreter found on PATH, resolved to the real executable
 * (what it reports as sys.executable; static storage), or NULL + err
 * (GLIMP_ERR_NOT_FOUND) when there is none. Resolved once per process. */
const char *eval_sandbox_python(glimp_error *err);

/* Whether programs get their own network namespace (false: unshare is not
 * permitted here; IP sockets are still refused). Probed once per process. */
bool eval_sandbox_has_netns(void);

/* Runs `python -I files[0].name` in a new temporary folder holding the
 * files, with stdin from the `stdin_len` bytes at stdin_data, and removes
 * the folder afterwards. GLIMP_OK whenever the program ran, however it
 * ended (see *r); an error only when the sandbox itself could not be set
 * up (no python, no temporary folder, fork failure). Free r->out with
 * eval_sandbox_result_free. Thread-safe. */
glimp_status eval_sandbox_run(const eval_sandbox_limits *lim, const eval_sandbox_file *files,
                              size_t n_files, const char *stdin_data, size_t stdin_len,
                              eval_sandbox_result *r, glimp_error *err);

void eval_sandbox_result_free(eval_sandbox_result *r);

#endif
