/* eval_lock.c - one run at a time per output folder. DIR/run.lock holds the
 * PID of the run that owns DIR, under an flock(2) lock, which the kernel
 * drops when that process ends, however it ends: a second run finds the
 * lock held and refuses, naming the PID; a lock file whose lock is free was
 * left by a run that died, and is taken over (its PID is reported). The PID
 * is for people; the flock decides, so a reused PID cannot keep DIR locked.
 * Failure: GLIMP_ERR_ARG when another run holds DIR, GLIMP_ERR_IO when the
 * lock file cannot be created or locked.
 */
#include "eval/eval.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PID written in the lock file, 0 when there is none. */
static long lock_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

glimp_status eval_lock_take(const char *dir, eval_lock *lock, long *stale_pid, glimp_error *err)
{
    *stale_pid = 0;
    lock->fd = -1;
    if (snprintf(lock->path, sizeof lock->path, "%s/run.lock", dir) >= (int)sizeof lock->path)
        return glimp_error_set(err, GLIMP_ERR_ARG, "output path too long");
    for (;;) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", lock->path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = lock_pid(fd);
            close(fd);
            if (e != EWOULDBLOCK)
                return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", lock->path, strerror(e));
            if (pid)
                return glimp_error_set(err, GLIMP_ERR_ARG, "%s is in use by another run "
                                       "(PID %ld, %s)", dir, pid, lock->path);
            return glimp_error_set(err, GLIMP_ERR_ARG, "%s is in use by another run (%s)", dir,
                                   lock->path);
        }
        /* The holder we waited on may have removed the file before we
         * locked it: then the lock is on a file nobody else will see. */
        struct stat a, b;
        if (fstat(fd, &a) != 0 || stat(lock->path, &b) != 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
            close(fd);
            continue;
        }
        *stale_pid = lock_pid(fd);
        char text[32];
        int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
            int e = errno;
            close(fd);
            return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", lock->path, strerror(e));
        }
        lock->fd = fd;
        return GLIMP_OK;
    }
}

void eval_lock_release(eval_lock *lock)
{
    if (lock->fd < 0) return;
    unlink(lock->path); /* still locked: no other run can take it meanwhile */
    close(lock->fd);
    lock->fd = -1;
}
