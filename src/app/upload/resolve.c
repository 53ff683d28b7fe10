/*
 * resolve.c: name resolution for `eota upload` (resolve.h).
 */
#include "upload/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "upload/util.h"

typedef struct addr_list {
    up_addr *v;
    size_t n, cap;
} addr_list;

static int known(const addr_list *l, const struct addrinfo *ai)
{
    for (size_t k = 0; k < l->n; k++)
        if (l->v[k].len == ai->ai_addrlen && !memcmp(&l->v[k].sa, ai->ai_addr, ai->ai_addrlen))
            return 1;
    return 0;
}

static void add(addr_list *l, const struct addrinfo *ai, uint16_t port)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = up_xrealloc(l->v, l->cap, sizeof *l->v);
    }
    up_addr *a = &l->v[l->n++];
    memset(a, 0, sizeof *a);
    memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
    a->len = (socklen_t)ai->ai_addrlen;
    a->port = port;
    if (ai->ai_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, a->ip, sizeof a->ip);
        snprintf(a->show, sizeof a->show, "[%s]:%u", a->ip, a->port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, a->ip, sizeof a->ip);
        snprintf(a->show, sizeof a->show, "%s:%u", a->ip, a->port);
    }
}

/* One target's addresses into l; 0, or the getaddrinfo error. */
static int resolve_one(const up_target *t, addr_list *l)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port[8];
    snprintf(port, sizeof port, "%u", t->port);
    int rc = getaddrinfo(t->host, port, &hints, &res);
    if (rc != 0)
        return rc;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (ai->ai_addrlen > sizeof(struct sockaddr_storage) || known(l, ai))
            continue;
        add(l, ai, t->port);
    }
    freeaddrinfo(res);
    return 0;
}

size_t up_resolve(const up_target *t, size_t nt, up_addr **addrs, size_t *n, char *msg, size_t msglen,
                  up_console *con, const char *spec)
{
    addr_list l = {*addrs, *n, *n};
    for (size_t i = 0; i < nt; i++) {
        int rc = resolve_one(&t[i], &l);
        if (rc == 0)
            continue;
        snprintf(msg, msglen, "cannot resolve '%s': %s", t[i].host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        if (con)
            up_say(con, "%s: %s", spec, msg);
    }
    *addrs = l.v;
    *n = l.n;
    return l.n;
}
