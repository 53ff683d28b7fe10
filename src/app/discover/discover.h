/*
 * discover.h: `eota discover`: the ESPHome devices (_esphomelib._tcp) and
 * eota devices (_eota._tcp) on the network, found by mDNS (the querier of
 * mdns/mdns.h), printed as a table whose lines `eota upload --devices-from`
 * reads (SPEC, then a '#' comment with the TXT records) or as JSON;
 * --watch keeps listening and prints what changes.
 *
 * Files: cmd.c (options, the loop), browse.c (answers -> the devices
 * found), output.c (table and JSON).
 */
#ifndef EOTA_APP_DISCOVER_DISCOVER_H
#define EOTA_APP_DISCOVER_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "mdns/mdns.h"

#define DISC_MAX 256

typedef enum disc_kind { DISC_ESPHOME, DISC_EOTA } disc_kind;

typedef struct disc_dev {
    int used, gone;
    disc_kind kind;
    char instance[256];   /* "kitchen._eota._tcp.local." */
    char host[256];       /* the SRV target, "kitchen.local." */
    uint16_t port;
    char addr[16];        /* its first IPv4 address, "" before the A record */
    unsigned char txt[1300];
    size_t txtlen;
    int have_srv, have_txt;
    char shown[2048];     /* what --watch printed last */
} disc_dev;

typedef struct disc_state {
    eota_mdns_query *q;
    disc_dev dev[DISC_MAX];
} disc_state;

/* browse.c: ask for both service types; the answers' callback. */
void disc_browse_start(disc_state *s);
void disc_on_answer(void *ctx, const eota_mdns_answer *a);
/* A device is complete once its SRV and TXT came. */
int disc_complete(const disc_dev *d);

/* output.c: a device as a table line, its JSON object (to free with
 * free()); the table's header. */
void disc_line(const disc_dev *d, char *out, size_t len);
char *disc_json(const disc_dev *d, const char *event);
void disc_header(void);

#endif
