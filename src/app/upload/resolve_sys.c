/*
 * resolve_sys.c: the system's resolvers for resolve.c (resolve_int.h):
 * c-ares on the poll loop for DNS names, getaddrinfo_a (glibc's threads,
 * checked at each turn) for what only nss knows (NAME.local where
 * libnss-mdns is installed).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upload/resolve_int.h"

int up_sys_init(up_sysres *s)
{
    struct ares_options o = {.timeout = 2000, .tries = 2};
    memset(s, 0, sizeof *s);
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
        return -1;
    s->ok = ares_init_options(&s->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) == ARES_SUCCESS;
    return s->ok ? 0 : -1;
}

void up_sys_free(up_sysres *s)
{
    if (s->ok)
        ares_destroy(s->ch);
    if (s->ok)
        ares_library_cleanup();
    s->ok = 0;
}

static void on_ares(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    up_lookup *lk = arg;
    (void)timeouts;
    lk->done = 1;
    if (status != ARES_SUCCESS)
        snprintf(lk->why, sizeof lk->why, "%s", ares_strerror(status));
    for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n; n = n->ai_next)
        up_addr_add(&lk->got, n->ai_addr, (socklen_t)n->ai_addrlen, lk->port);
    if (res)
        ares_freeaddrinfo(res);
}

void up_sys_ares_start(up_sysres *s, up_lookup *lk)
{
    struct ares_addrinfo_hints h = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (!s->ok) {
        lk->done = 1;
        snprintf(lk->why, sizeof lk->why, "c-ares did not start");
        return;
    }
    ares_getaddrinfo(s->ch, lk->host, NULL, &h, on_ares, lk);
}

/* A request with everything glibc reads (it may outlive the lookup). */
typedef struct gai_req {
    struct gaicb cb; /* first: the block is freed through &cb */
    struct addrinfo hints;
    char service[8];
    char name[256];
} gai_req;

void up_sys_gai_start(up_lookup *lk)
{
    gai_req *q = calloc(1, sizeof *q);
    if (!q)
        return;
    q->hints = (struct addrinfo){.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
    snprintf(q->service, sizeof q->service, "%u", lk->port);
    snprintf(q->name, sizeof q->name, "%s", lk->host);
    q->cb = (struct gaicb){.ar_name = q->name, .ar_service = q->service, .ar_request = &q->hints};
    struct gaicb *list[1] = {&q->cb};
    struct sigevent sev = {.sigev_notify = SIGEV_NONE};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, &sev) != 0)
        free(q);
    else
        lk->gai = &q->cb;
}

void up_sys_gai_check(up_lookup *lk)
{
    if (!lk->gai)
        return;
    int rc = gai_error(lk->gai);
    if (rc == EAI_INPROGRESS)
        return;
    if (rc != 0)
        snprintf(lk->why, sizeof lk->why, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (struct addrinfo *ai = rc == 0 ? lk->gai->ar_result : NULL; ai; ai = ai->ai_next)
        up_addr_add(&lk->got, ai->ai_addr, ai->ai_addrlen, lk->port);
    if (lk->got.n)
        lk->done = 1;
    if (lk->gai->ar_result)
        freeaddrinfo(lk->gai->ar_result);
    free(lk->gai);
    lk->gai = NULL;
}

/* Requests glibc still works on when their lookup ended: kept (and
 * reachable) here, since glibc writes into them when it is done. */
static struct gaicb *orphans[64];

void up_sys_gai_release(up_lookup *lk)
{
    if (!lk->gai)
        return;
    gai_cancel(lk->gai);
    if (gai_error(lk->gai) != EAI_INPROGRESS) {
        up_sys_gai_check(lk);
        return;
    }
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++)
        if (!orphans[i]) {
            orphans[i] = lk->gai;
            break;
        }
    lk->gai = NULL;
}

void up_sys_gai_finish(long wait_ms)
{
    struct gaicb *list[sizeof orphans / sizeof orphans[0]];
    int n = 0;
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++)
        if (orphans[i])
            list[n++] = orphans[i];
    struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
    while (n > 0 && gai_suspend((const struct gaicb *const *)list, n, &ts) == 0) {
        int k = 0; /* keep the ones still running */
        for (int i = 0; i < n; i++)
            if (gai_error(list[i]) == EAI_INPROGRESS)
                list[k++] = list[i];
        n = k;
    }
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++)
        if (orphans[i] && gai_error(orphans[i]) != EAI_INPROGRESS) {
            if (orphans[i]->ar_result)
                freeaddrinfo(orphans[i]->ar_result);
            free(orphans[i]);
            orphans[i] = NULL;
        }
}

int up_sys_pollfds(up_sysres *s, struct pollfd *pfd, int max)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int n = 0;
    if (!s->ok)
        return 0;
    /* c-ares's own test macros shift into the sign bit */
    unsigned bits = (unsigned)ares_getsock(s->ch, socks, ARES_GETSOCK_MAXNUM);
    for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
        short ev = (short)((((bits >> i) & 1u) ? POLLIN : 0) | (((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u) ? POLLOUT : 0));
        if (ev)
            pfd[n++] = (struct pollfd){socks[i], ev, 0};
    }
    return n;
}

long up_sys_timeout_ms(up_sysres *s)
{
    struct timeval tv, *t;
    if (!s->ok || !(t = ares_timeout(s->ch, NULL, &tv)))
        return -1;
    return (long)t->tv_sec * 1000 + (long)t->tv_usec / 1000;
}

void up_sys_run(up_sysres *s, const struct pollfd *pfd, int n)
{
    if (!s->ok)
        return;
    for (int i = 0; i < n; i++) {
        ares_socket_t r = pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : ARES_SOCKET_BAD;
        ares_socket_t w = pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD;
        if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
            ares_process_fd(s->ch, r, w);
    }
    ares_process_fd(s->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
}
