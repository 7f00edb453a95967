/* eval_sandbox.c - runs one untrusted Python program (see eval_sandbox.h).
 *
 * The child, forked from the grader, before it executes python:
 * - leads its own process group (killed as a whole at the wall limit);
 * - enters a new, empty network namespace when unshare(CLONE_NEWNET) is
 *   permitted (probed once: eval_sandbox_has_netns);
 * - when run as root, drops to the unprivileged uid/gid 65534 if python is
 *   usable by it (probed once), so that RLIMIT_NPROC applies and the
 *   program cannot touch what root owns;
 * - works in a fresh folder made with mkdtemp (removed afterwards however
 *   the program ended), stdin from a file unlinked before the start, stdout
 *   and stderr to pipes, no other descriptors;
 * - gets RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NPROC, RLIMIT_NOFILE
 *   and RLIMIT_CORE = 0;
 * - installs a seccomp filter (with no_new_privs) that refuses new
 *   processes (fork, vfork, clone without CLONE_THREAD; clone3 reads as
 *   missing so that threads fall back to clone), IP and raw sockets
 *   (only AF_UNIX), signals to any other process, ptrace and the system
 *   administration calls (mount, namespaces, modules, reboot, ...). So
 *   forks fail inside the program whatever its uid, and nothing it does
 *   outlives it.
 * The parent reads both pipes with poll(), keeps stdout up to the cap
 * (more: the group is killed), and kills the group at the wall limit.
 */
#include "eval/eval_sandbox.h"

#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "eval_sandbox.c: no seccomp filter for this architecture"
#endif

enum { SANDBOX_UID = 65534 };

eval_sandbox_limits eval_sandbox_default_limits(void)
{
    return (eval_sandbox_limits){
        .cpu_s = 6,
        .wall_s = 7,
        .memory_bytes = (size_t)2 << 30,
        .file_bytes = (size_t)64 << 20,
        .output_bytes = (size_t)64 << 20,
        .processes = 512,
    };
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the seccomp filter, built in the child (no allocation) ---- */

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARG0 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* Calls refused outright with EPERM. */
static const int denied_calls[] = {
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev, __NR_mount, __NR_umount2,
    __NR_pivot_root, __NR_chroot, __NR_unshare, __NR_setns, __NR_reboot, __NR_swapon,
    __NR_swapoff, __NR_init_module, __NR_finit_module, __NR_delete_module, __NR_kexec_load,
    __NR_bpf, __NR_perf_event_open, __NR_tkill, __NR_pidfd_open, __NR_pidfd_send_signal,
    __NR_settimeofday, __NR_clock_settime, __NR_sethostname, __NR_setdomainname,
    __NR_acct, __NR_quotactl, __NR_vhangup, __NR_keyctl, __NR_add_key, __NR_request_key,
#ifdef __NR_fork
    __NR_fork, __NR_vfork,
#endif
};
enum { N_DENIED = sizeof denied_calls / sizeof *denied_calls };

/* Installs the filter; `self` is the child's pid (the only kill target). */
static int install_filter(pid_t self)
{
    struct sock_filter f[32 + 2 * N_DENIED];
    unsigned n = 0;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_AUDIT_ARCH, 1, 0);
    f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
    f[n++] = (struct sock_filter)LD_NR;
#ifdef __x86_64__
    /* x32 calls (bit 30) would bypass the numbers below */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    f[n++] = (struct sock_filter)RET(ERRNO(EPERM));
#endif
    for (unsigned i = 0; i < N_DENIED; i++) {
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied_calls[i],
                                              0, 1);
        f[n++] = (struct sock_filter)RET(ERRNO(EPERM));
    }
    /* clone3 passes its flags in memory the filter cannot read: "missing"
     * makes libc fall back to clone, whose flags it can */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
    f[n++] = (struct sock_filter)RET(ERRNO(ENOSYS));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4);
    f[n++] = (struct sock_filter)LD_ARG0; /* flags (low 32 bits) */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
    f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)RET(ERRNO(EAGAIN));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 4);
    f[n++] = (struct sock_filter)LD_ARG0; /* domain */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1);
    f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)RET(ERRNO(EACCES));
    /* kill and tgkill: only to itself */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_kill, 1, 0);
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 0, 4);
    f[n++] = (struct sock_filter)LD_ARG0;
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)self, 0, 1);
    f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)RET(ERRNO(EPERM));
    f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* ---- the child ---- */

typedef struct child_setup {
    const char *dir;
    int in_fd, out_fd, err_fd;
    bool netns, drop_uid, seccomp;
    const eval_sandbox_limits *lim;
    const char *python;
    char *const *argv;
    char *const *envp;
} child_setup;

static void child_fail(const char *what)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "sandbox: %s: %s\n", what, strerror(errno));
    if (n > 0) (void)!write(2, msg, (size_t)n);
    _exit(127);
}

static void set_limit(int res, rlim_t v, const char *what)
{
    struct rlimit r = {v, v};
    if (setrlimit(res, &r) != 0) child_fail(what);
}

/* After fork: only async-signal-safe calls until execve. */
static _Noreturn void child_run(const child_setup *c)
{
    setpgid(0, 0);
    if (dup2(c->in_fd, 0) < 0 || dup2(c->out_fd, 1) < 0 || dup2(c->err_fd, 2) < 0) _exit(127);
    if (c->netns && unshare(CLONE_NEWNET) != 0) child_fail("unshare(CLONE_NEWNET)");
    if (chdir(c->dir) != 0) child_fail("chdir");
    if (c->drop_uid) {
        gid_t g = SANDBOX_UID;
        if (setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 ||
            setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) != 0)
            child_fail("dropping privileges");
    }
    const eval_sandbox_limits *l = c->lim;
    rlim_t cpu = (rlim_t)ceil(l->cpu_s);
    struct rlimit r = {cpu, cpu + 1};
    if (setrlimit(RLIMIT_CPU, &r) != 0) child_fail("RLIMIT_CPU");
    set_limit(RLIMIT_AS, (rlim_t)l->memory_bytes, "RLIMIT_AS");
    set_limit(RLIMIT_FSIZE, (rlim_t)l->file_bytes, "RLIMIT_FSIZE");
    set_limit(RLIMIT_NPROC, (rlim_t)l->processes, "RLIMIT_NPROC");
    set_limit(RLIMIT_NOFILE, 256, "RLIMIT_NOFILE");
    set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
    if (c->seccomp && install_filter(getpid()) != 0) child_fail("seccomp");
    execve(c->python, c->argv, c->envp);
    child_fail("execve python");
    _exit(127); /* not reached */
}

/* ---- process-wide probes ---- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bool probe_netns, probe_drop;
static char python_path[PATH_MAX];
static char python_error[PATH_MAX + 64];

/* Runs fn in a forked child and returns whether it exited with 0. */
static bool child_succeeds(void (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void try_netns(void *arg)
{
    (void)arg;
    if (unshare(CLONE_NEWNET) != 0) _exit(1);
}

static void try_python_as_nobody(void *arg)
{
    gid_t g = SANDBOX_UID;
    if (setgroups(1, &g) != 0 || setresgid(g, g, g) != 0 ||
        setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) != 0)
        _exit(1);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
    }
    char *argv[] = {(char *)arg, "-I", "-c", "import json", NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    execve((const char *)arg, argv, envp);
    _exit(1);
}

/* python3 on PATH, then what it says sys.executable is (a launcher script,
 * such as a version manager's shim, must not run inside the filter). */
static void find_python(void)
{
    const char *path = getenv("PATH");
    char cand[PATH_MAX] = "";
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n && n + sizeof "/python3" < sizeof cand) {
            memcpy(cand, p, n);
            memcpy(cand + n, "/python3", sizeof "/python3");
            if (access(cand, X_OK) == 0) break;
        }
        cand[0] = '\0';
        p += n + (p[n] == ':');
    }
    if (!cand[0]) {
        snprintf(python_error, sizeof python_error,
                 "python3 not found on PATH (LiveCodeBench grading runs the answers with it)");
        return;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(python_error, sizeof python_error, "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        char *argv[] = {cand, "-c", "import sys; sys.stdout.write(sys.executable)", NULL};
        execv(cand, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t k;
    while (pid > 0 && len + 1 < sizeof python_path &&
           (k = read(fds[0], python_path + len, sizeof python_path - 1 - len)) != 0) {
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) break;
        len += (size_t)k;
    }
    python_path[len] = '\0';
    close(fds[0]);
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || python_path[0] != '/' ||
        access(python_path, X_OK) != 0) {
        python_path[0] = '\0';
        snprintf(python_error, sizeof python_error, "%s does not run (or reports no "
                 "sys.executable)", cand);
    }
}

static void probe(void)
{
    find_python();
    probe_netns = child_succeeds(try_netns, NULL);
    probe_drop = python_path[0] && geteuid() == 0 &&
                 child_succeeds(try_python_as_nobody, python_path);
}

const char *eval_sandbox_python(glimp_error *err)
{
    pthread_once(&probe_once, probe);
    if (!python_path[0]) {
        glimp_error_set(err, GLIMP_ERR_NOT_FOUND, "%s", python_error);
        return NULL;
    }
    return python_path;
}

bool eval_sandbox_has_netns(void)
{
    pthread_once(&probe_once, probe);
    return probe_netns;
}

/* ---- the temporary folder ---- */

/* Removes everything under the folder open as fd (closed here). */
static void empty_dir(int fd)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (unlinkat(fd, e->d_name, 0) == 0) continue;
        fchmodat(fd, e->d_name, 0700, AT_SYMLINK_NOFOLLOW);
        int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) empty_dir(sub);
        unlinkat(fd, e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

static void remove_tree(const char *dir)
{
    chmod(dir, 0700);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) empty_dir(fd);
    rmdir(dir);
}

static bool write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    for (size_t off = 0; off < len;) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            close(fd);
            return false;
        }
        off += (size_t)k;
    }
    return close(fd) == 0;
}

/* ---- running ---- */

void eval_sandbox_result_free(eval_sandbox_result *r)
{
    free(r->out);
    r->out = NULL;
    r->out_len = 0;
}

typedef struct pipes_state {
    int out, err;          /* -1 when closed */
    size_t err_len;
} pipes_state;

/* Reads what is ready; returns false when stdout went over the cap. */
static bool drain(pipes_state *p, eval_sandbox_result *r, size_t cap, int timeout_ms)
{
    struct pollfd pf[2];
    int n = 0;
    if (p->out >= 0) pf[n++] = (struct pollfd){.fd = p->out, .events = POLLIN};
    if (p->err >= 0) pf[n++] = (struct pollfd){.fd = p->err, .events = POLLIN};
    if (!n) return true;
    if (poll(pf, (nfds_t)n, timeout_ms) <= 0) return true;
    char buf[65536];
    for (int i = 0; i < n; i++) {
        if (!pf[i].revents) continue;
        ssize_t k = read(pf[i].fd, buf, sizeof buf);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k <= 0) {
            close(pf[i].fd);
            if (pf[i].fd == p->out) p->out = -1;
            else p->err = -1;
            continue;
        }
        if (pf[i].fd == p->out) {
            if (r->out_len + (size_t)k > cap) return false;
            memcpy(r->out + r->out_len, buf, (size_t)k);
            r->out_len += (size_t)k;
        } else {
            size_t room = sizeof r->err - 1 - p->err_len;
            size_t m = (size_t)k < room ? (size_t)k : room;
            memcpy(r->err + p->err_len, buf, m);
            p->err_len += m;
        }
    }
    return true;
}

/* Waits for the child, reading its output, killing its group at the wall
 * limit or past the output cap; reaps it. */
static void supervise(pid_t pid, pipes_state *p, const eval_sandbox_limits *lim,
                      eval_sandbox_result *r, double t0)
{
    bool killed = false;
    int status = 0;
    for (;;) {
        siginfo_t si = {0};
        bool exited = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                      si.si_pid == pid;
        if (!killed && (exited || now_s() - t0 >= lim->wall_s)) {
            r->wall_timeout = !exited;
            /* the leader is not reaped yet, so its group id is not reused */
            kill(-pid, SIGKILL);
            killed = true;
        }
        if (exited && ((p->out < 0 && p->err < 0) || now_s() - t0 > lim->wall_s + 5)) break;
        if (!drain(p, r, lim->output_bytes, 20) && !r->output_limit) {
            r->output_limit = true;
            kill(-pid, SIGKILL);
            killed = true;
        }
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (p->out >= 0) close(p->out);
    if (p->err >= 0) close(p->err);
    r->wall_s = now_s() - t0;
    if (WIFSIGNALED(status)) {
        r->exit_code = -1;
        r->signal = WTERMSIG(status);
    } else {
        r->exit_code = WEXITSTATUS(status);
    }
    r->err[p->err_len] = '\0';
    r->out[r->out_len] = '\0';
}

glimp_status eval_sandbox_run(const eval_sandbox_limits *lim, const eval_sandbox_file *files,
                              size_t n_files, const char *stdin_data, size_t stdin_len,
                              eval_sandbox_result *r, glimp_error *err)
{
    memset(r, 0, sizeof *r);
    const char *python = eval_sandbox_python(err);
    if (!python) return err ? err->status : GLIMP_ERR_NOT_FOUND;
    if (!n_files) return glimp_error_set(err, GLIMP_ERR_ARG, "sandbox: no program");
    for (size_t i = 0; i < n_files; i++)
        if (!files[i].name[0] || strchr(files[i].name, '/') || files[i].name[0] == '.')
            return glimp_error_set(err, GLIMP_ERR_ARG, "sandbox: bad file name '%s'",
                                   files[i].name);
    r->out = malloc(lim->output_bytes + 1);
    if (!r->out) return glimp_error_set(err, GLIMP_ERR_NOMEM, "out of memory");

    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/glimp-sandbox-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        eval_sandbox_result_free(r);
        return glimp_error_set(err, GLIMP_ERR_IO, "sandbox: mkdtemp in %s: %s",
                               tmp && *tmp ? tmp : "/tmp", strerror(errno));
    }
    glimp_status st = GLIMP_OK;
    for (size_t i = 0; i < n_files && st == GLIMP_OK; i++)
        if (!write_file(dir, files[i].name, files[i].data, files[i].len))
            st = glimp_error_set(err, GLIMP_ERR_IO, "sandbox: writing %s/%s: %s", dir,
                                 files[i].name, strerror(errno));
    int in_fd = -1, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    char in_path[PATH_MAX + 16];
    snprintf(in_path, sizeof in_path, "%s/.stdin", dir);
    if (st == GLIMP_OK && !write_file(dir, ".stdin", stdin_data, stdin_len))
        st = glimp_error_set(err, GLIMP_ERR_IO, "sandbox: writing %s: %s", in_path,
                             strerror(errno));
    if (st == GLIMP_OK) {
        in_fd = open(in_path, O_RDONLY | O_CLOEXEC);
        unlink(in_path);
        if (in_fd < 0 || pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0)
            st = glimp_error_set(err, GLIMP_ERR_IO, "sandbox: %s", strerror(errno));
    }
    if (st == GLIMP_OK && probe_drop && chown(dir, SANDBOX_UID, SANDBOX_UID) != 0)
        st = glimp_error_set(err, GLIMP_ERR_IO, "sandbox: chown %s: %s", dir, strerror(errno));

    char *argv[] = {(char *)python, "-I", (char *)files[0].name, NULL};
    char home[PATH_MAX + 8];
    snprintf(home, sizeof home, "HOME=%s", dir);
    char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", home, "LANG=C.UTF-8", NULL};
    child_setup c = {
        .dir = dir, .in_fd = in_fd, .out_fd = out_p[1], .err_fd = err_p[1],
        .netns = probe_netns, .drop_uid = probe_drop, .seccomp = true, .lim = lim,
        .python = python, .argv = argv, .envp = envp,
    };
    pid_t pid = -1;
    if (st == GLIMP_OK) {
        double t0 = now_s();
        pid = fork();
        if (pid == 0) child_run(&c);
        if (pid < 0) {
            st = glimp_error_set(err, GLIMP_ERR_IO, "sandbox: fork: %s", strerror(errno));
        } else {
            setpgid(pid, pid); /* also done by the child: whichever runs first */
            close(out_p[1]);
            close(err_p[1]);
            out_p[1] = err_p[1] = -1;
            pipes_state ps = {.out = out_p[0], .err = err_p[0]};
            out_p[0] = err_p[0] = -1;
            supervise(pid, &ps, lim, r, t0);
        }
    }
    int fds[] = {in_fd, out_p[0], out_p[1], err_p[0], err_p[1]};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0) close(fds[i]);
    remove_tree(dir);
    if (st != GLIMP_OK) eval_sandbox_result_free(r);
    return st;
}
