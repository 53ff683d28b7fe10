/*
 * browse.h: DNS-SD browsing (RFC 6763) over the querier of mdns.h, shared
 * by `eota discover` (src/app/discover) and the rollout's watch of
 * _eota._tcp (src/app/upload/devstate.c). A PTR of a browsed service type
 * names an instance; the browser then asks for its SRV (host and port)
 * and TXT (kept as received), and for the SRV host's A records (its IPv4
 * addresses). A PTR that goes (TTL 0) marks the instance gone; it is kept
 * until the caller forgets it, and comes back if the PTR does.
 *
 * Instances live in numbered slots (0 .. max-1) that keep their number
 * until forgotten, so that a caller can keep what it makes of an instance
 * in an array of its own beside them. After every record that changed an
 * instance the caller's function hears of it (slot and record type).
 */
#ifndef EOTA_APP_MDNS_BROWSE_H
#define EOTA_APP_MDNS_BROWSE_H

#include <stddef.h>
#include <stdint.h>

#include "mdns/mdns.h"

#define EOTA_MDNS_RR_A 1
#define EOTA_MDNS_RR_PTR 12
#define EOTA_MDNS_RR_TXT 16
#define EOTA_MDNS_RR_SRV 33

#define EOTA_MDNS_BROWSE_ADDRS 4

typedef struct eota_mdns_service {
    int used;                /* the slot holds an instance */
    int gone;                /* its PTR went away (TTL 0) */
    size_t type;             /* which of the browsed types named it */
    char instance[256];      /* "kitchen._eota._tcp.local." */
    char host[256];          /* the SRV's target, "kitchen.local." */
    uint16_t port;           /* the SRV's port */
    char addr[EOTA_MDNS_BROWSE_ADDRS][46]; /* its A records, in the order they came */
    unsigned char txt[1300]; /* the TXT record as received */
    size_t txtlen;
    int have_srv, have_txt;
} eota_mdns_service;

/* An instance changed: slot, and the type of the record that changed it. */
typedef void (*eota_mdns_browse_fn)(void *ctx, size_t slot, int rrtype);

typedef struct eota_mdns_browse eota_mdns_browse;

/* A browser of the service types (e.g. "_eota._tcp.local.", kept by
 * pointer) for at most max instances; fn may be NULL. */
eota_mdns_browse *eota_mdns_browse_new(const char *const *types, size_t ntypes, size_t max, eota_mdns_browse_fn fn,
                                       void *ctx);
void eota_mdns_browse_free(eota_mdns_browse *b);

/* Ask q for the types; q's answers go to eota_mdns_browse_answer(b, ...):
 * create q with that function and b as its context. */
void eota_mdns_browse_start(eota_mdns_browse *b, eota_mdns_query *q);
void eota_mdns_browse_answer(void *b, const eota_mdns_answer *a);

/* The number of slots (max), the instance in a slot (NULL when empty). */
size_t eota_mdns_browse_slots(const eota_mdns_browse *b);
const eota_mdns_service *eota_mdns_browse_get(const eota_mdns_browse *b, size_t slot);
/* Empty a slot (an instance shown gone). */
void eota_mdns_browse_forget(eota_mdns_browse *b, size_t slot);

/* The SRV and TXT records came (the instance can be shown or matched). */
int eota_mdns_service_complete(const eota_mdns_service *s);

#endif
