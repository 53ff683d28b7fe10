/*
 * devstate.c: the watch of eota devices' _eota._tcp records (devstate.h):
 * PTR names an instance, SRV gives its host and port, TXT its state, the
 * host's A record its addresses (as discover/browse.c browses).
 */
#include "upload/devstate.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mdns/mdns.h"
#include "upload/job.h"
#include "upload/util.h"

#define T_A 1
#define T_PTR 12
#define T_TXT 16
#define T_SRV 33

static const char service[] = "_eota._tcp.local.";

struct up_devstate {
    eota_mdns_query *q;
    up_devinfo *dev;
    size_t n;
};

static up_devinfo *find_instance(up_devstate *w, const char *instance, int add)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcasecmp(w->dev[i].instance, instance))
            return &w->dev[i];
    if (!add || w->n == UP_DEVSTATE_MAX || strlen(instance) >= sizeof w->dev->instance)
        return NULL;
    up_devinfo *d = &w->dev[w->n++];
    memset(d, 0, sizeof *d);
    snprintf(d->instance, sizeof d->instance, "%s", instance);
    return d;
}

static void on_ptr(up_devstate *w, const eota_mdns_answer *a)
{
    if (strcasecmp(a->name, service) || !a->target || a->ttl == 0)
        return;
    up_devinfo *d = find_instance(w, a->target, 1);
    if (!d)
        return;
    d->seen_ms = up_now_ms();
    eota_mdns_query_ask(w->q, d->instance, T_SRV);
    eota_mdns_query_ask(w->q, d->instance, T_TXT);
}

static void on_srv(up_devstate *w, const eota_mdns_answer *a)
{
    up_devinfo *d = find_instance(w, a->name, 0);
    if (!d || !a->target || a->ttl == 0)
        return;
    snprintf(d->host, sizeof d->host, "%s", a->target);
    d->port = a->port;
    d->have_srv = 1;
    d->seen_ms = up_now_ms();
    eota_mdns_query_ask(w->q, d->host, T_A);
}

static void txt_field(const eota_mdns_answer *a, const char *key, char *out, size_t len)
{
    eota_mdns_txt_get(a->rdata, a->rdlen, key, out, len);
}

static void on_txt(up_devstate *w, const eota_mdns_answer *a)
{
    up_devinfo *d = find_instance(w, a->name, 0);
    if (!d || a->ttl == 0 || !a->rdata)
        return;
    up_devinfo before = *d;
    txt_field(a, "sha256", d->sha256, sizeof d->sha256);
    txt_field(a, "state", d->state, sizeof d->state);
    txt_field(a, "last_update", d->last_update, sizeof d->last_update);
    txt_field(a, "last_update_why", d->why, sizeof d->why);
    d->gen += !d->have_txt || strcmp(before.sha256, d->sha256) || strcmp(before.state, d->state) ||
              strcmp(before.last_update, d->last_update) || strcmp(before.why, d->why);
    d->have_txt = 1;
    d->seen_ms = up_now_ms();
}

static void on_a(up_devstate *w, const eota_mdns_answer *a)
{
    char ip[46];
    if (a->ttl == 0 || !inet_ntop(AF_INET, &a->a, ip, sizeof ip))
        return;
    for (size_t i = 0; i < w->n; i++) {
        up_devinfo *d = &w->dev[i];
        if (!d->have_srv || strcasecmp(d->host, a->name))
            continue;
        size_t k = 0;
        while (k < 4 && d->addr[k][0] && strcmp(d->addr[k], ip))
            k++;
        if (k < 4)
            snprintf(d->addr[k], sizeof d->addr[k], "%s", ip);
    }
}

static void on_answer(void *ctx, const eota_mdns_answer *a)
{
    up_devstate *w = ctx;
    if (!a->name)
        return;
    switch (a->type) {
    case T_PTR: on_ptr(w, a); break;
    case T_SRV: on_srv(w, a); break;
    case T_TXT: on_txt(w, a); break;
    case T_A: on_a(w, a); break;
    default: break;
    }
}

up_devstate *up_devstate_new(void)
{
    up_devstate *w = up_xcalloc(1, sizeof *w);
    w->q = eota_mdns_query_new(on_answer, w);
    if (!w->q) {
        free(w);
        return NULL;
    }
    w->dev = up_xcalloc(UP_DEVSTATE_MAX, sizeof *w->dev);
    eota_mdns_query_ask(w->q, service, T_PTR);
    return w;
}

void up_devstate_free(up_devstate *w)
{
    if (!w)
        return;
    eota_mdns_query_free(w->q);
    free(w->dev);
    free(w);
}

int up_devstate_pollfds(up_devstate *w, struct pollfd *pfd, int max)
{
    return eota_mdns_query_pollfds(w->q, pfd, max);
}

long up_devstate_timeout_ms(up_devstate *w) { return eota_mdns_query_timeout_ms(w->q); }

void up_devstate_run(up_devstate *w, const struct pollfd *pfd, int n) { eota_mdns_query_run(w->q, pfd, n); }

/* "kitchen.local" (or "kitchen.local.") names the SRV host "kitchen.local."? */
static int same_host(const char *srv_host, const char *host)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    return n && !strncasecmp(srv_host, host, n) && (!srv_host[n] || !strcmp(srv_host + n, "."));
}

static int at(const up_devinfo *d, const char *ip, uint16_t port)
{
    if (d->port != port)
        return 0;
    for (size_t k = 0; k < 4 && d->addr[k][0]; k++)
        if (!strcmp(d->addr[k], ip))
            return 1;
    return 0;
}

static int is_job(const up_devinfo *d, const up_job *j)
{
    for (size_t t = 0; t < j->ntargets; t++)
        if (same_host(d->host, j->targets[t].host) || at(d, j->targets[t].host, j->targets[t].port))
            return 1;
    const up_addr *a = up_job_addr(j);
    return a && at(d, a->ip, a->port);
}

const up_devinfo *up_devstate_find(const up_devstate *w, const up_job *j)
{
    for (size_t i = 0; w && i < w->n; i++)
        if (w->dev[i].have_srv && w->dev[i].have_txt && is_job(&w->dev[i], j))
            return &w->dev[i];
    return NULL;
}
