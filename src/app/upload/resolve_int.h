/*
 * resolve_int.h: what resolve.c and resolve_sys.c share (internal): one
 * name being resolved, and the system's resolvers (c-ares, getaddrinfo_a).
 */
#ifndef EOTA_APP_UPLOAD_RESOLVE_INT_H
#define EOTA_APP_UPLOAD_RESOLVE_INT_H

#include <ares.h>
#include <netdb.h>

#include "upload/resolve.h"

typedef struct up_lookup {
    struct up_job *job;
    size_t ti;              /* its target in the job */
    int say;                /* a failure is said on the console at once */
    const char *host;
    uint16_t port;
    int local;              /* a .local name: mDNS too */
    int done;               /* settled: got has what it gave */
    up_addr_list got;
    uint64_t deadline;
    char why[200];          /* the system resolver's failure, or "" */
    struct gaicb *gai;      /* getaddrinfo_a's request, or NULL */
    struct up_lookup *next;
} up_lookup;

typedef struct up_sysres {
    ares_channel ch;
    int ok;
} up_sysres;

int up_sys_init(up_sysres *s);
/* Ends every c-ares lookup still running (their callbacks run). */
void up_sys_free(up_sysres *s);
/* c-ares for lk->host; sets lk->done (and got or why) when it answers. */
void up_sys_ares_start(up_sysres *s, up_lookup *lk);
/* The system resolver in the background (getaddrinfo_a). */
void up_sys_gai_start(up_lookup *lk);
/* Its answer, if it came: addresses into lk->got (done), or why. */
void up_sys_gai_check(up_lookup *lk);
/* Cancel it if it still runs; freed, or kept until glibc is done with it
 * (up_sys_gai_finish). */
void up_sys_gai_release(up_lookup *lk);
/* Wait up to wait_ms for the requests glibc still works on, and free
 * those done (at the end of a run). */
void up_sys_gai_finish(long wait_ms);
int up_sys_pollfds(up_sysres *s, struct pollfd *pfd, int max);
long up_sys_timeout_ms(up_sysres *s);
void up_sys_run(up_sysres *s, const struct pollfd *pfd, int n);

#endif
