/*
 * resolve.c: the names of a run's devices, resolved on the fleet's loop
 * (resolve.h): one lookup per target; a job's addresses are assembled in
 * target order once all its lookups are settled.
 */
#include "upload/resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mdns/mdns.h"
#include "upload/job.h"
#include "upload/resolve_int.h"
#include "upload/util.h"

struct up_resolver {
    up_console *con;
    up_resolved_fn done_fn;
    up_sysres sys;
    eota_mdns_query *mq;    /* made at the first .local name */
    int mq_failed;
    up_lookup *lookups;     /* every lookup of the run, newest first */
    up_addr_cache *cache;   /* loaded when first needed */
    int nmq;                /* the querier's descriptors in the last pollfds */
};

void up_addr_add(up_addr_list *l, const struct sockaddr *sa, socklen_t len, uint16_t port)
{
    struct sockaddr_storage ss;
    if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || len > sizeof ss)
        return;
    memcpy(&ss, sa, len);
    ((struct sockaddr_in *)&ss)->sin_port = htons(port); /* same place in sockaddr_in6 */
    for (size_t k = 0; k < l->n; k++)
        if (l->v[k].len == len && !memcmp(&l->v[k].sa, &ss, len))
            return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = up_xrealloc(l->v, l->cap, sizeof *l->v);
    }
    up_addr *a = &l->v[l->n++];
    memset(a, 0, sizeof *a);
    memcpy(&a->sa, &ss, len);
    a->len = len;
    a->port = port;
    int v6 = sa->sa_family == AF_INET6;
    inet_ntop(sa->sa_family, v6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr,
              a->ip, sizeof a->ip);
    snprintf(a->show, sizeof a->show, v6 ? "[%s]:%u" : "%s:%u", a->ip, a->port);
}

/* An address as written ("10.0.0.5", "fd00::20"): 1 when it was one. */
static int add_numeric(up_addr_list *l, const char *ip, uint16_t port)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1)
        up_addr_add(l, (struct sockaddr *)&s4, sizeof s4, port);
    else if (inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1)
        up_addr_add(l, (struct sockaddr *)&s6, sizeof s6, port);
    else
        return 0;
    return 1;
}

static int is_local(const char *host)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    return n > 6 && !strncasecmp(host + n - 6, ".local", 6);
}

/* libmdnsd's name ("kitchen.local.") is host ("kitchen.local")? */
static int same_name(const char *mdns_name, const char *host)
{
    size_t n = strlen(host);
    return !strncasecmp(mdns_name, host, n) && (!mdns_name[n] || !strcmp(mdns_name + n, "."));
}

static void on_mdns(void *ctx, const eota_mdns_answer *a)
{
    up_resolver *rs = ctx;
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_addr = a->a};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = a->aaaa};
    if (a->ttl == 0 || (a->type != 1 && a->type != 28) || !a->name)
        return;
    if (a->type == 28 && IN6_IS_ADDR_LINKLOCAL(&a->aaaa))
        return; /* no interface to reach it by */
    for (up_lookup *lk = rs->lookups; lk; lk = lk->next)
        if (!lk->done && lk->local && same_name(a->name, lk->host)) {
            if (a->type == 1)
                up_addr_add(&lk->got, (struct sockaddr *)&s4, sizeof s4, lk->port);
            else
                up_addr_add(&lk->got, (struct sockaddr *)&s6, sizeof s6, lk->port);
            lk->done = 1;
        }
}

up_resolver *up_resolver_new(up_console *con, up_resolved_fn done)
{
    up_resolver *rs = up_xcalloc(1, sizeof *rs);
    rs->con = con;
    rs->done_fn = done;
    up_sys_init(&rs->sys);
    return rs;
}

static void ask_mdns(up_resolver *rs, up_lookup *lk)
{
    if (!rs->mq && !rs->mq_failed && !(rs->mq = eota_mdns_query_new(on_mdns, rs)))
        rs->mq_failed = 1;
    if (rs->mq) {
        eota_mdns_query_ask(rs->mq, lk->host, 1);
        eota_mdns_query_ask(rs->mq, lk->host, 28);
    }
}

static void start_lookup(up_resolver *rs, up_lookup *lk)
{
    if (add_numeric(&lk->got, lk->host, lk->port)) {
        lk->done = 1;
        return;
    }
    lk->local = is_local(lk->host);
    lk->deadline = up_now_ms() + (lk->local ? UP_MDNS_WAIT_MS : UP_DNS_WAIT_MS);
    if (lk->local) {
        ask_mdns(rs, lk);
        up_sys_gai_start(lk);
    } else
        up_sys_ares_start(&rs->sys, lk);
}

/* A name that gave nothing: its last good address, or the reason. */
static void fall_back(up_resolver *rs, up_lookup *lk, up_job *j)
{
    char ip[INET6_ADDRSTRLEN], why[300];
    if (lk->local)
        snprintf(why, sizeof why, "no answer to mDNS within %.1f s; system resolver: %s", UP_MDNS_WAIT_MS / 1000.0,
                 lk->why[0] ? lk->why : "no answer");
    else
        snprintf(why, sizeof why, "%s", lk->why[0] ? lk->why : "no answer");
    if (!rs->cache)
        rs->cache = up_addr_cache_load();
    if (up_addr_cache_get(rs->cache, lk->host, ip) && add_numeric(&lk->got, ip, lk->port)) {
        up_say(rs->con, "%s: '%s' did not resolve (%s); trying its last good address %s (from %s)", j->spec,
               lk->host, why, ip, up_addr_cache_path(rs->cache));
        return;
    }
    snprintf(j->resolve_msg, sizeof j->resolve_msg, "cannot resolve '%s': %s", lk->host, why);
    if (lk->say)
        up_say(rs->con, "%s: %s", j->spec, j->resolve_msg);
}

/* Every lookup of j settled: its addresses in target order, then done. */
static void settle(up_resolver *rs, struct up_run *r, up_job *j)
{
    up_addr_list l = {j->addrs, j->naddrs, j->naddrs};
    for (size_t ti = 0; ti < j->ntargets; ti++)
        for (up_lookup *lk = rs->lookups; lk; lk = lk->next)
            if (lk->job == j && lk->ti == ti) {
                up_sys_gai_release(lk);
                if (!lk->got.n)
                    fall_back(rs, lk, j);
                for (size_t k = 0; k < lk->got.n; k++)
                    up_addr_add(&l, (struct sockaddr *)&lk->got.v[k].sa, lk->got.v[k].len, lk->got.v[k].port);
                lk->job = NULL; /* settled: no longer the job's */
            }
    j->addrs = l.v;
    j->naddrs = l.n;
    rs->done_fn(r, j);
}

/* Lookups whose time is up, or whose system resolver answered. */
static void check_lookups(up_resolver *rs)
{
    uint64_t now = up_now_ms();
    for (up_lookup *lk = rs->lookups; lk; lk = lk->next)
        if (lk->job && !lk->done) {
            up_sys_gai_check(lk);
            lk->done |= now >= lk->deadline;
        }
}

/* Settle every job whose lookups are all done. */
static void settle_ready(up_resolver *rs, struct up_run *r)
{
    for (up_lookup *lk = rs->lookups; lk; lk = lk->next) {
        if (!lk->job)
            continue;
        int all = 1;
        for (up_lookup *o = rs->lookups; o && all; o = o->next)
            all = o->job != lk->job || o->done;
        if (all)
            settle(rs, r, lk->job);
    }
}

void up_resolver_begin(up_resolver *rs, struct up_run *r, up_job *j)
{
    for (size_t ti = 0; ti < j->ntargets; ti++) {
        up_lookup *lk = up_xcalloc(1, sizeof *lk);
        *lk = (up_lookup){.job = j, .ti = ti, .say = j->say_resolve, .host = j->targets[ti].host,
                          .port = j->targets[ti].port, .next = rs->lookups};
        rs->lookups = lk;
        start_lookup(rs, lk);
    }
    settle_ready(rs, r);
}

int up_resolver_pollfds(up_resolver *rs, struct pollfd *pfd, int max)
{
    rs->nmq = rs->mq ? eota_mdns_query_pollfds(rs->mq, pfd, max) : 0;
    return rs->nmq + up_sys_pollfds(&rs->sys, pfd + rs->nmq, max - rs->nmq);
}

long up_resolver_timeout_ms(up_resolver *rs)
{
    long t = up_sys_timeout_ms(&rs->sys);
    uint64_t now = up_now_ms();
    for (up_lookup *lk = rs->lookups; lk; lk = lk->next) {
        if (!lk->job || lk->done)
            continue;
        long left = lk->deadline > now ? (long)(lk->deadline - now) : 0;
        left = lk->gai && left > 50 ? 50 : left; /* getaddrinfo_a is checked, not waited on */
        t = t < 0 || left < t ? left : t;
    }
    if (rs->mq) {
        long m = eota_mdns_query_timeout_ms(rs->mq);
        t = m >= 0 && (t < 0 || m < t) ? m : t;
    }
    return t;
}

void up_resolver_run(up_resolver *rs, struct up_run *r, const struct pollfd *pfd, int n)
{
    int nmq = rs->nmq < n ? rs->nmq : n;
    if (rs->mq)
        eota_mdns_query_run(rs->mq, pfd, nmq);
    up_sys_run(&rs->sys, pfd + nmq, n - nmq);
    check_lookups(rs);
    settle_ready(rs, r);
}

void up_resolver_good(up_resolver *rs, const char *host, const up_addr *addr)
{
    up_addr_list dummy = {0};
    if (add_numeric(&dummy, host, 0)) { /* an address is not a name */
        free(dummy.v);
        return;
    }
    if (!rs->cache)
        rs->cache = up_addr_cache_load();
    up_addr_cache_put(rs->cache, host, addr->ip);
}

void up_resolver_free(up_resolver *rs)
{
    if (!rs)
        return;
    up_sys_free(&rs->sys); /* c-ares calls back the lookups still running */
    eota_mdns_query_free(rs->mq);
    while (rs->lookups) {
        up_lookup *lk = rs->lookups;
        rs->lookups = lk->next;
        up_sys_gai_release(lk);
        free(lk->got.v);
        free(lk);
    }
    if (rs->cache)
        up_addr_cache_save(rs->cache);
    up_addr_cache_free(rs->cache);
    free(rs);
    up_sys_gai_finish(1000); /* a system lookup that lost the race */
}
