/*
 * browse.c: DNS-SD browsing (discover.h): a PTR for a service type names
 * an instance; its SRV gives host and port, its TXT the records; the
 * host's A record its address. A record that goes (TTL 0) marks the
 * device gone.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "discover.h"

#define T_A 1
#define T_PTR 12
#define T_TXT 16
#define T_SRV 33

static const char *const types[] = {"_esphomelib._tcp.local.", "_eota._tcp.local."};

void disc_browse_start(disc_state *s)
{
    for (size_t i = 0; i < 2; i++)
        eota_mdns_query_ask(s->q, types[i], T_PTR);
}

int disc_complete(const disc_dev *d) { return d->used && d->have_srv && d->have_txt; }

static disc_dev *find(disc_state *s, const char *instance, int add)
{
    disc_dev *free_slot = NULL;
    for (size_t i = 0; i < DISC_MAX; i++) {
        if (s->dev[i].used && !strcasecmp(s->dev[i].instance, instance))
            return &s->dev[i];
        if (!s->dev[i].used && !free_slot)
            free_slot = &s->dev[i];
    }
    if (!add || !free_slot)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = 1;
    snprintf(free_slot->instance, sizeof free_slot->instance, "%s", instance);
    return free_slot;
}

static void on_ptr(disc_state *s, const eota_mdns_answer *a)
{
    int kind = !strcasecmp(a->name, types[0]) ? DISC_ESPHOME : !strcasecmp(a->name, types[1]) ? DISC_EOTA : -1;
    if (kind < 0 || !a->target)
        return;
    disc_dev *d = find(s, a->target, a->ttl != 0);
    if (!d)
        return;
    d->kind = (disc_kind)kind;
    d->gone = a->ttl == 0;
    if (!d->gone) {
        eota_mdns_query_ask(s->q, d->instance, T_SRV);
        eota_mdns_query_ask(s->q, d->instance, T_TXT);
    }
}

static void on_srv(disc_state *s, const eota_mdns_answer *a)
{
    disc_dev *d = find(s, a->name, 0);
    if (!d || !a->target || a->ttl == 0)
        return;
    snprintf(d->host, sizeof d->host, "%s", a->target);
    d->port = a->port;
    d->have_srv = 1;
    eota_mdns_query_ask(s->q, d->host, T_A);
}

static void on_txt(disc_state *s, const eota_mdns_answer *a)
{
    disc_dev *d = find(s, a->name, 0);
    if (!d || a->ttl == 0 || !a->rdata || a->rdlen > sizeof d->txt)
        return;
    memcpy(d->txt, a->rdata, a->rdlen);
    d->txtlen = a->rdlen;
    d->have_txt = 1;
}

static void on_a(disc_state *s, const eota_mdns_answer *a)
{
    for (size_t i = 0; i < DISC_MAX; i++) {
        disc_dev *d = &s->dev[i];
        if (d->used && d->have_srv && !strcasecmp(d->host, a->name) && a->ttl != 0)
            inet_ntop(AF_INET, &a->a, d->addr, sizeof d->addr);
    }
}

void disc_on_answer(void *ctx, const eota_mdns_answer *a)
{
    disc_state *s = ctx;
    if (!a->name)
        return;
    switch (a->type) {
    case T_PTR: on_ptr(s, a); break;
    case T_SRV: on_srv(s, a); break;
    case T_TXT: on_txt(s, a); break;
    case T_A: on_a(s, a); break;
    default: break;
    }
}
