/*
 * proctree.c: start times and descendants from /proc (proctree.h).
 */
#include "proctree.h"

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields of /proc/PID/stat we need: the parent and the start time. 0
 * when it cannot be read (the process is gone) or is a zombie (it has
 * ended; only its parent's wait is missing). */
static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after the command name in parentheses (which may hold anything):
     * state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice threads itrealvalue starttime */
    const char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    char *end;
    long parent = 0;
    p += 2; /* ") " */
    if (*p == 'Z')
        return 0;
    for (int field = 3; field <= 22 && *p; field++) {
        if (field == 4)
            parent = strtol(p, NULL, 10);
        if (field == 22) {
            *start = strtoull(p, &end, 10);
            *ppid = (pid_t)parent;
            return end != p;
        }
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
    pid_t ppid;
    unsigned long long start = 0;
    return pid > 0 && read_stat(pid, &ppid, &start) ? start : 0;
}

typedef struct proc_entry {
    proc_id id;
    pid_t ppid;
} proc_entry;

/* Every process of /proc with its parent; *n of them, malloc'd. */
static proc_entry *snapshot(size_t *n)
{
    DIR *d = opendir("/proc");
    size_t cap = 256, len = 0;
    proc_entry *all = malloc(cap * sizeof *all);
    struct dirent *e;
    while (d && all && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if (len == cap) {
            proc_entry *more = realloc(all, 2 * cap * sizeof *all);
            if (!more)
                break;
            all = more;
            cap *= 2;
        }
        proc_entry *pe = &all[len];
        pe->id.pid = (pid_t)atoi(e->d_name);
        if (read_stat(pe->id.pid, &pe->ppid, &pe->id.start))
            len++;
    }
    if (d)
        closedir(d);
    *n = len;
    return all;
}

size_t proc_descendants(pid_t root, proc_id *out, size_t max)
{
    size_t n = 0, found = 0;
    proc_entry *all = snapshot(&n);
    if (!all)
        return 0;
    /* breadth first: out[] holds the ones found, each scanned in turn */
    for (size_t next = 0; next <= found && found < max; next++) {
        pid_t parent = next == 0 ? root : out[next - 1].pid;
        for (size_t i = 0; i < n && found < max; i++)
            if (all[i].ppid == parent && all[i].id.pid != root)
                out[found++] = all[i].id;
    }
    free(all);
    return found;
}

/* 1 when the environment of pid has an entry beginning with `entry`. */
static int has_env(pid_t pid, const char *entry)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t cap = 65536, len = strlen(entry);
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap, f) : 0;
    fclose(f);
    int found = 0;
    for (size_t i = 0; buf && i < n && !found; i += strnlen(buf + i, n - i) + 1)
        found = n - i >= len && !memcmp(buf + i, entry, len);
    free(buf);
    return found;
}

size_t proc_children_with_env(pid_t parent, const char *entry, proc_id *out, size_t max)
{
    size_t n = 0, found = 0;
    proc_entry *all = snapshot(&n);
    for (size_t i = 0; all && i < n && found < max; i++)
        if (all[i].ppid == parent && has_env(all[i].id.pid, entry))
            out[found++] = all[i].id;
    free(all);
    return found;
}

void proc_signal_all(const proc_id *p, size_t n, int sig)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].start && proc_start_time(p[i].pid) == p[i].start)
            kill(p[i].pid, sig);
}
