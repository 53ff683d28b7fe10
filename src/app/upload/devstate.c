/*
 * devstate.c: the watch of eota devices' _eota._tcp records (devstate.h),
 * browsed by the shared browser (mdns/browse.h: instance, host, port,
 * addresses, TXT); here each device's TXT is read into its state.
 */
#include "upload/devstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mdns/browse.h"
#include "mdns/mdns.h"
#include "upload/job.h"
#include "upload/util.h"

static const char *const service[] = {"_eota._tcp.local."};

struct up_devstate {
    eota_mdns_query *q;
    eota_mdns_browse *b;
    up_devinfo *dev; /* beside the browser's slots, one for one */
};

static void txt_field(const eota_mdns_service *s, const char *key, char *out, size_t len)
{
    eota_mdns_txt_get(s->txt, s->txtlen, key, out, len);
}

/* The TXT of a device: its state, and one more change when it changed. */
static void read_txt(up_devinfo *d, const eota_mdns_service *s)
{
    up_devinfo before = *d;
    txt_field(s, "sha256", d->sha256, sizeof d->sha256);
    txt_field(s, "state", d->state, sizeof d->state);
    txt_field(s, "last_update", d->last_update, sizeof d->last_update);
    txt_field(s, "last_update_why", d->why, sizeof d->why);
    d->gen += !d->have_txt || strcmp(before.sha256, d->sha256) || strcmp(before.state, d->state) ||
              strcmp(before.last_update, d->last_update) || strcmp(before.why, d->why);
    d->have_txt = 1;
}

/* The browser heard of slot: a new PTR, SRV or TXT is news of the device
 * (an A record is not). A PTR that went (TTL 0) changes nothing here. */
static void on_change(void *ctx, size_t slot, int rrtype)
{
    up_devstate *w = ctx;
    const eota_mdns_service *s = eota_mdns_browse_get(w->b, slot);
    up_devinfo *d = &w->dev[slot];
    if (!s || rrtype == EOTA_MDNS_RR_A || (rrtype == EOTA_MDNS_RR_PTR && s->gone))
        return;
    if (rrtype == EOTA_MDNS_RR_TXT)
        read_txt(d, s);
    d->seen_ms = up_now_ms();
}

up_devstate *up_devstate_new(void)
{
    up_devstate *w = up_xcalloc(1, sizeof *w);
    w->b = eota_mdns_browse_new(service, 1, UP_DEVSTATE_MAX, on_change, w);
    w->q = w->b ? eota_mdns_query_new(eota_mdns_browse_answer, w->b) : NULL;
    if (!w->q) {
        eota_mdns_browse_free(w->b);
        free(w);
        return NULL;
    }
    w->dev = up_xcalloc(UP_DEVSTATE_MAX, sizeof *w->dev);
    eota_mdns_browse_start(w->b, w->q);
    return w;
}

void up_devstate_free(up_devstate *w)
{
    if (!w)
        return;
    eota_mdns_query_free(w->q);
    eota_mdns_browse_free(w->b);
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

static int at(const eota_mdns_service *d, const char *ip, uint16_t port)
{
    if (d->port != port)
        return 0;
    for (size_t k = 0; k < EOTA_MDNS_BROWSE_ADDRS && d->addr[k][0]; k++)
        if (!strcmp(d->addr[k], ip))
            return 1;
    return 0;
}

static int is_job(const eota_mdns_service *d, const up_job *j)
{
    for (size_t t = 0; t < j->ntargets; t++)
        if (same_host(d->host, j->targets[t].host) || at(d, j->targets[t].host, j->targets[t].port))
            return 1;
    const up_addr *a = up_job_addr(j);
    return a && at(d, a->ip, a->port);
}

const up_devinfo *up_devstate_find(const up_devstate *w, const up_job *j)
{
    for (size_t i = 0; w && i < UP_DEVSTATE_MAX; i++) {
        const eota_mdns_service *s = eota_mdns_browse_get(w->b, i);
        if (s && eota_mdns_service_complete(s) && w->dev[i].have_txt && is_job(s, j))
            return &w->dev[i];
    }
    return NULL;
}
