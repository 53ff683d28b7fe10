/*
 * browse.c: DNS-SD browsing over the querier (browse.h): PTR -> instance,
 * its SRV -> host and port, its TXT as received, the host's A records ->
 * its addresses; a PTR with TTL 0 -> gone.
 */
#include "mdns/browse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct eota_mdns_browse {
    const char *const *types;
    size_t ntypes, max;
    eota_mdns_browse_fn fn;
    void *ctx;
    eota_mdns_query *q;
    eota_mdns_service *s;
};

eota_mdns_browse *eota_mdns_browse_new(const char *const *types, size_t ntypes, size_t max, eota_mdns_browse_fn fn,
                                       void *ctx)
{
    eota_mdns_browse *b = calloc(1, sizeof *b);
    if (!b || !(b->s = calloc(max, sizeof *b->s))) {
        free(b);
        return NULL;
    }
    *b = (eota_mdns_browse){types, ntypes, max, fn, ctx, NULL, b->s};
    return b;
}

void eota_mdns_browse_free(eota_mdns_browse *b)
{
    if (!b)
        return;
    free(b->s);
    free(b);
}

void eota_mdns_browse_start(eota_mdns_browse *b, eota_mdns_query *q)
{
    b->q = q;
    for (size_t i = 0; i < b->ntypes; i++)
        eota_mdns_query_ask(q, b->types[i], EOTA_MDNS_RR_PTR);
}

size_t eota_mdns_browse_slots(const eota_mdns_browse *b) { return b->max; }

const eota_mdns_service *eota_mdns_browse_get(const eota_mdns_browse *b, size_t slot)
{
    return slot < b->max && b->s[slot].used ? &b->s[slot] : NULL;
}

void eota_mdns_browse_forget(eota_mdns_browse *b, size_t slot)
{
    if (slot < b->max)
        memset(&b->s[slot], 0, sizeof b->s[slot]);
}

int eota_mdns_service_complete(const eota_mdns_service *s) { return s->used && s->have_srv && s->have_txt; }

/* The slot of instance (a new one when add and there is room), or NULL. */
static eota_mdns_service *find(eota_mdns_browse *b, const char *instance, int add)
{
    eota_mdns_service *free_slot = NULL;
    for (size_t i = 0; i < b->max; i++) {
        if (b->s[i].used && !strcasecmp(b->s[i].instance, instance))
            return &b->s[i];
        if (!b->s[i].used && !free_slot)
            free_slot = &b->s[i];
    }
    if (!add || !free_slot || strlen(instance) >= sizeof free_slot->instance)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = 1;
    snprintf(free_slot->instance, sizeof free_slot->instance, "%s", instance);
    return free_slot;
}

static void changed(eota_mdns_browse *b, const eota_mdns_service *s, int rrtype)
{
    if (b->fn)
        b->fn(b->ctx, (size_t)(s - b->s), rrtype);
}

static void on_ptr(eota_mdns_browse *b, const eota_mdns_answer *a)
{
    size_t type = 0;
    while (type < b->ntypes && strcasecmp(a->name, b->types[type]))
        type++;
    if (type == b->ntypes || !a->target)
        return;
    eota_mdns_service *s = find(b, a->target, a->ttl != 0);
    if (!s)
        return;
    s->type = type;
    s->gone = a->ttl == 0;
    if (!s->gone) {
        eota_mdns_query_ask(b->q, s->instance, EOTA_MDNS_RR_SRV);
        eota_mdns_query_ask(b->q, s->instance, EOTA_MDNS_RR_TXT);
    }
    changed(b, s, EOTA_MDNS_RR_PTR);
}

static void on_srv(eota_mdns_browse *b, const eota_mdns_answer *a)
{
    eota_mdns_service *s = find(b, a->name, 0);
    if (!s || !a->target || a->ttl == 0 || strlen(a->target) >= sizeof s->host)
        return;
    snprintf(s->host, sizeof s->host, "%s", a->target);
    s->port = a->port;
    s->have_srv = 1;
    eota_mdns_query_ask(b->q, s->host, EOTA_MDNS_RR_A);
    changed(b, s, EOTA_MDNS_RR_SRV);
}

static void on_txt(eota_mdns_browse *b, const eota_mdns_answer *a)
{
    eota_mdns_service *s = find(b, a->name, 0);
    if (!s || a->ttl == 0 || !a->rdata || a->rdlen > sizeof s->txt)
        return;
    memcpy(s->txt, a->rdata, a->rdlen);
    s->txtlen = a->rdlen;
    s->have_txt = 1;
    changed(b, s, EOTA_MDNS_RR_TXT);
}

/* ip first in the list (the latest A record first), once. */
static void add_addr(eota_mdns_service *s, const char *ip)
{
    size_t k = 0;
    while (k < EOTA_MDNS_BROWSE_ADDRS - 1 && s->addr[k][0] && strcmp(s->addr[k], ip))
        k++;
    memmove(s->addr[1], s->addr[0], k * sizeof s->addr[0]);
    snprintf(s->addr[0], sizeof s->addr[0], "%s", ip);
}

static void on_a(eota_mdns_browse *b, const eota_mdns_answer *a)
{
    char ip[INET_ADDRSTRLEN];
    if (a->ttl == 0 || !inet_ntop(AF_INET, &a->a, ip, sizeof ip))
        return;
    for (size_t i = 0; i < b->max; i++) {
        eota_mdns_service *s = &b->s[i];
        if (s->used && s->have_srv && !strcasecmp(s->host, a->name)) {
            add_addr(s, ip);
            changed(b, s, EOTA_MDNS_RR_A);
        }
    }
}

void eota_mdns_browse_answer(void *ctx, const eota_mdns_answer *a)
{
    eota_mdns_browse *b = ctx;
    if (!a->name || !b->q)
        return;
    switch (a->type) {
    case EOTA_MDNS_RR_PTR: on_ptr(b, a); break;
    case EOTA_MDNS_RR_SRV: on_srv(b, a); break;
    case EOTA_MDNS_RR_TXT: on_txt(b, a); break;
    case EOTA_MDNS_RR_A: on_a(b, a); break;
    default: break;
    }
}
