/*
 * supervisor.c: start, reap, time out and stop the eota command's child
 * processes (supervisor.h).
 */
#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eota/posix.h"

void sup_init(sup_table *t, size_t limit)
{
    memset(t, 0, sizeof *t);
    t->limit = limit < SUP_MAX_CHILDREN ? limit : SUP_MAX_CHILDREN;
}

static sup_child *find(sup_table *t, pid_t pid)
{
    for (size_t i = 0; i < t->limit; i++)
        if (t->child[i].pid == pid)
            return &t->child[i];
    return NULL;
}

/* In the child, between fork and exec: only what is safe there. The child
 * dies with the command (SIGKILL when its parent ends, even by SIGKILL; and
 * at once when the parent ended before the request took hold). */
static void exec_child(const sup_spec *spec, pid_t parent)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    for (size_t i = 0; i < spec->nenv; i++)
        putenv(spec->env[i]);
    const char *file = spec->file ? spec->file : spec->argv[0];
    execvp(file, spec->argv);
    if (spec->who)
        fprintf(stderr, "%s: cannot run %s: %s\n", spec->who, file, strerror(errno));
    _exit(127);
}

pid_t sup_spawn(sup_table *t, const sup_spec *spec)
{
    sup_child *slot = find(t, 0);
    if (!slot)
        return 0;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        exec_child(spec, parent);
    slot->pid = pid;
    slot->deadline_ms = spec->timeout_ms ? eota_posix_now_ms64() + spec->timeout_ms : 0;
    slot->hooks = spec->hooks;
    return pid;
}

size_t sup_running(const sup_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->limit; i++)
        n += t->child[i].pid > 0;
    return n;
}

int sup_reaped(sup_table *t, pid_t pid, int status)
{
    sup_child *c = pid > 0 ? find(t, pid) : NULL;
    if (!c)
        return 0;
    sup_hooks h = c->hooks;
    memset(c, 0, sizeof *c);
    if (h.exited)
        h.exited(h.ctx, pid, status);
    return 1;
}

void sup_reap_all(sup_table *const *tables, size_t ntables)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < ntables; i++)
            if (sup_reaped(tables[i], pid, status))
                break;
    }
}

void sup_check_timeouts(sup_table *t)
{
    uint64_t now = eota_posix_now_ms64();
    for (size_t i = 0; i < t->limit; i++) {
        sup_child *c = &t->child[i];
        if (c->pid > 0 && c->deadline_ms && now >= c->deadline_ms) {
            if (c->hooks.timed_out)
                c->hooks.timed_out(c->hooks.ctx, c->pid);
            kill(-c->pid, SIGKILL);
            c->deadline_ms = 0;
        }
    }
}

long sup_next_timeout_ms(const sup_table *t)
{
    uint64_t now = eota_posix_now_ms64();
    long best = -1;
    for (size_t i = 0; i < t->limit; i++) {
        const sup_child *c = &t->child[i];
        if (c->pid > 0 && c->deadline_ms) {
            long d = c->deadline_ms > now ? (long)(c->deadline_ms - now) : 0;
            if (best < 0 || d < best)
                best = d;
        }
    }
    return best;
}

static void signal_group(pid_t pid, int sig)
{
    kill(-pid, sig);
    kill(pid, sig);
}

int sup_stop_begin(sup_table *t, pid_t pid, uint32_t grace_ms)
{
    sup_child *c = pid > 0 ? find(t, pid) : NULL;
    if (!c)
        return -1;
    signal_group(pid, SIGTERM);
    c->deadline_ms = eota_posix_now_ms64() + (grace_ms ? grace_ms : 1);
    return 0;
}

/* 1 once pid has ended and is reaped (or was reaped by someone else). */
static int ended(pid_t pid)
{
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    return r == pid || (r < 0 && errno == ECHILD);
}

int sup_stop(sup_table *t, pid_t pid, uint32_t grace_ms)
{
    sup_child *c = pid > 0 ? find(t, pid) : NULL;
    if (!c)
        return -1;
    memset(c, 0, sizeof *c);
    signal_group(pid, SIGTERM);
    uint64_t deadline = eota_posix_now_ms64() + grace_ms;
    while (!ended(pid)) {
        if (eota_posix_now_ms64() >= deadline) {
            signal_group(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}
