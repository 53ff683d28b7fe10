/*
 * proctree.h: what /proc says of processes, for stopping an application
 * with everything it started: a process's start time (a pid and its start
 * time name one process, even when the pid is reused later), and the
 * descendants of a process, those that left its process group with
 * setsid included.
 */
#ifndef EOTA_APP_PROCTREE_H
#define EOTA_APP_PROCTREE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct proc_id {
    pid_t pid;
    unsigned long long start; /* clock ticks after boot (/proc/PID/stat field 22) */
} proc_id;

/* The start time of pid, or 0 when it does not run (gone or a zombie, or
 * /proc cannot say). */
unsigned long long proc_start_time(pid_t pid);

/* The descendants of root (children, their children, ...), at most max of
 * them, into out. Returns how many. */
size_t proc_descendants(pid_t root, proc_id *out, size_t max);

/* The children of parent whose environment holds an entry beginning with
 * `entry` ("NAME=" or "NAME=value"), at most max of them, into out: what
 * an application left behind and a subreaper inherited. Returns how many. */
size_t proc_children_with_env(pid_t parent, const char *entry, proc_id *out, size_t max);

/* Send sig to each process of the list that is still the same process. */
void proc_signal_all(const proc_id *p, size_t n, int sig);

#endif
