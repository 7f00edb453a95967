/* test_eval_sandbox.c - the sandbox that runs LiveCodeBench answers: a
 * program that loops, sleeps, forks, allocates without bound, writes a huge
 * file, floods stdout, uses the network or signals another process fails
 * within its limits and leaves nothing behind; ordinary programs (stdin,
 * threads) work. Skips when python3 is not on PATH. */
#include "eval/eval_sandbox.h"

#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static eval_sandbox_limits small_limits(void)
{
    eval_sandbox_limits l = eval_sandbox_default_limits();
    l.cpu_s = 1;
    l.wall_s = 3;
    l.memory_bytes = (size_t)512 << 20;
    l.file_bytes = (size_t)1 << 20;
    l.output_bytes = (size_t)1 << 20;
    return l;
}

static eval_sandbox_result run(const char *prog, const char *in)
{
    eval_sandbox_limits l = small_limits();
    eval_sandbox_file f = {"main.py", prog, strlen(prog)};
    eval_sandbox_result r;
    glimp_error err = {0};
    glimp_status st = eval_sandbox_run(&l, &f, 1, in, strlen(in), &r, &err);
    REQUIRE(st == GLIMP_OK, "sandbox failed: %s", err.msg);
    return r;
}

static bool failed(const eval_sandbox_result *r)
{
    return r->exit_code != 0 || r->signal || r->wall_timeout || r->output_limit;
}

static void test_echo_and_threads(void)
{
    eval_sandbox_result r = run("import sys, threading\n"
                                "s = sys.stdin.read()\n"
                                "t = threading.Thread(target=lambda: print(s.upper(), end=''))\n"
                                "t.start(); t.join()\n",
                                "abc\ndef\n");
    CHECK(!failed(&r), "exit %d signal %d: %s", r.exit_code, r.signal, r.err);
    CHECK(r.out_len == 8 && !strcmp(r.out, "ABC\nDEF\n"), "out '%s'", r.out);
    eval_sandbox_result_free(&r);
}

static void test_cpu_loop(void)
{
    eval_sandbox_result r = run("while True: pass\n", "");
    CHECK(failed(&r) && (r.signal == SIGXCPU || r.signal == SIGKILL || r.wall_timeout),
          "loop: exit %d signal %d", r.exit_code, r.signal);
    CHECK(r.wall_s < 10, "took %.1f s", r.wall_s);
    eval_sandbox_result_free(&r);
}

static void test_sleep(void)
{
    eval_sandbox_result r = run("import time\ntime.sleep(100)\n", "");
    CHECK(r.wall_timeout && r.signal == SIGKILL, "sleep: timeout %d signal %d", r.wall_timeout,
          r.signal);
    CHECK(r.wall_s < 10, "took %.1f s", r.wall_s);
    eval_sandbox_result_free(&r);
}

static void test_fork(void)
{
    eval_sandbox_result r = run("import os\nwhile True:\n    os.fork()\n", "");
    CHECK(r.exit_code == 1 && strstr(r.err, "Error"), "fork bomb: exit %d signal %d: %s",
          r.exit_code, r.signal, r.err);
    eval_sandbox_result_free(&r);
    r = run("import subprocess\nsubprocess.run(['true'])\nprint('ran')\n", "");
    CHECK(failed(&r) && !strstr(r.out, "ran"), "subprocess ran: %s", r.out);
    eval_sandbox_result_free(&r);
}

static void test_memory(void)
{
    /* bytes(n) takes fresh zeroed pages without touching them, so the address
     * space limit stops it, not the CPU limit: on a VM whose page faults are
     * slow, zero-filling 512 MB (bytearray) can take over a CPU second */
    eval_sandbox_result r = run("x = []\nwhile True:\n    x.append(bytes(1 << 24))\n", "");
    CHECK(failed(&r) && strstr(r.err, "MemoryError"), "alloc: exit %d signal %d: %s",
          r.exit_code, r.signal, r.err);
    eval_sandbox_result_free(&r);
}

static void test_huge_file_and_cleanup(void)
{
    eval_sandbox_result r = run("import os\n"
                                "print(os.getcwd())\n"
                                "os.mkdir('d'); open('d/f', 'w').write('x'); os.chmod('d', 0)\n"
                                "f = open('big', 'wb')\n"
                                "while True:\n    f.write(b'x' * 65536)\n",
                                "");
    CHECK(failed(&r), "huge file: exit %d", r.exit_code);
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)strcspn(r.out, "\n"), r.out);
    CHECK(strstr(dir, "glimp-sandbox-") != NULL, "cwd '%s'", dir);
    struct stat st;
    CHECK(stat(dir, &st) != 0 && errno == ENOENT, "%s still exists", dir);
    eval_sandbox_result_free(&r);
}

static void test_output_flood(void)
{
    eval_sandbox_result r = run("while True:\n    print('x' * 1000)\n", "");
    CHECK(r.output_limit && r.out_len <= ((size_t)1 << 20), "flood: limit %d len %zu",
          r.output_limit, r.out_len);
    eval_sandbox_result_free(&r);
}

static void test_network(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(ls >= 0, "socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    REQUIRE(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 4) == 0 &&
                getsockname(ls, (struct sockaddr *)&a, &alen) == 0,
            "listen");
    char prog[512];
    snprintf(prog, sizeof prog,
             "import socket\n"
             "s = socket.create_connection(('127.0.0.1', %d), timeout=1)\n"
             "s.sendall(b'hello')\nprint('connected')\n",
             ntohs(a.sin_port));
    eval_sandbox_result r = run(prog, "");
    CHECK(failed(&r) && !strstr(r.out, "connected"), "network: exit %d out %s", r.exit_code,
          r.out);
    CHECK(accept(ls, NULL, NULL) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
          "the program reached the listener");
    close(ls);
    eval_sandbox_result_free(&r);
    printf("network namespace: %s\n", eval_sandbox_has_netns() ? "yes" : "no (sockets refused)");
}

static void test_signal_others(void)
{
    eval_sandbox_result r = run("import os\nos.kill(os.getppid(), 0)\nprint('signalled')\n", "");
    CHECK(failed(&r) && strstr(r.err, "PermissionError"), "kill: exit %d: %s", r.exit_code,
          r.err);
    eval_sandbox_result_free(&r);
}

int main(void)
{
    glimp_error err = {0};
    if (!eval_sandbox_python(&err)) test_skip(err.msg);
    test_echo_and_threads();
    test_cpu_loop();
    test_sleep();
    test_fork();
    test_memory();
    test_huge_file_and_cleanup();
    test_output_flood();
    test_network();
    test_signal_others();
    return test_finish();
}
