/*
 * supervisor.h: the child processes of the eota command, in one place.
 *
 * A child is started with fork + exec in a process group of its own (so
 * that stopping it stops what it started too), with an empty signal mask
 * (the command blocks the signals it reads through a signalfd), with
 * environment entries of the caller's, and with PR_SET_PDEATHSIG: it gets
 * SIGKILL when the command ends, however it ends. Afterwards it is reaped, killed at
 * its deadline, or stopped on purpose: SIGTERM to its group, then SIGKILL
 * when it does not end within a grace time.
 *
 * Nothing here blocks, except sup_stop (sup_stop_begin is its
 * non-blocking form). The caller learns that children
 * ended as it likes (SIGCHLD through a signalfd in `eota device`) and calls
 * sup_reap_all; it waits for deadlines with sup_next_timeout_ms and calls
 * sup_check_timeouts. What a child's end means (log it, reboot) is the
 * caller's, through the hooks given at the start.
 */
#ifndef EOTA_APP_SUPERVISOR_H
#define EOTA_APP_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_MAX_CHILDREN 32

typedef struct sup_hooks {
    /* The child ended and was reaped (status as from waitpid). Optional. */
    void (*exited)(void *ctx, pid_t pid, int status);
    /* The child ran past its deadline and its group got SIGKILL; it is
     * reaped (exited) later. Optional. */
    void (*timed_out)(void *ctx, pid_t pid);
    void *ctx;
} sup_hooks;

typedef struct sup_child {
    pid_t pid;            /* 0: a free entry */
    uint64_t deadline_ms; /* eota_posix_now_ms64 time to kill it; 0: none */
    sup_hooks hooks;
} sup_child;

/* The children of one owner (the application, the shell actions, ...). */
typedef struct sup_table {
    sup_child child[SUP_MAX_CHILDREN];
    size_t limit; /* children at most, <= SUP_MAX_CHILDREN */
} sup_table;

typedef struct sup_spec {
    const char *file;    /* what to exec (PATH searched); NULL: argv[0] */
    char *const *argv;   /* NULL-terminated */
    char *const *env;    /* "NAME=value" entries set in the child, in order */
    size_t nenv;
    uint32_t timeout_ms; /* killed after this long; 0: never */
    /* When exec fails the child exits with 127; with who set, it says
     * "WHO: cannot run FILE: REASON" on stderr first. */
    const char *who;
    sup_hooks hooks;
} sup_spec;

void sup_init(sup_table *t, size_t limit);

/* Start a child. Returns its pid; 0 when the table is full (nothing
 * started); -1 when fork failed (errno says why). */
pid_t sup_spawn(sup_table *t, const sup_spec *spec);

/* Children of t still running (not reaped yet). */
size_t sup_running(const sup_table *t);

/* Hand a reaped child to t: when it is one of t's, its entry is freed, its
 * exited hook called, and 1 returned; else 0. */
int sup_reaped(sup_table *t, pid_t pid, int status);

/* Reap every child that has ended (waitpid, WNOHANG) and hand each to the
 * table holding it; a child of none is dropped. */
void sup_reap_all(sup_table *const *tables, size_t ntables);

/* Kill (SIGKILL, whole group) the children past their deadline. */
void sup_check_timeouts(sup_table *t);

/* Milliseconds until the next deadline of t (0 when one has passed), or -1
 * when none is set. */
long sup_next_timeout_ms(const sup_table *t);

/* Stop a child of t and wait for it: SIGTERM to its group and to itself;
 * SIGKILL when it has not ended within grace_ms. Its entry is freed; its
 * exited hook is not called. Returns 0 when it ended on SIGTERM (or had
 * ended already), 1 when it had to be killed, -1 when pid is not t's. */
int sup_stop(sup_table *t, pid_t pid, uint32_t grace_ms);

/* Begin to stop a child of t without waiting: SIGTERM to its group and to
 * itself, and a deadline grace_ms from now, at which sup_check_timeouts
 * kills the group (timed_out hook). It is reaped as any child (exited
 * hook). Returns 0, or -1 when pid is not t's. */
int sup_stop_begin(sup_table *t, pid_t pid, uint32_t grace_ms);

#endif
