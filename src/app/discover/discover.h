/*
 * discover.h: `eota discover`: the ESPHome devices (_esphomelib._tcp) and
 * eota devices (_eota._tcp) on the network, found by mDNS (the querier of
 * mdns/mdns.h), printed as a table whose lines `eota upload --devices-from`
 * reads (SPEC, then a '#' comment with the TXT records) or as JSON;
 * --watch keeps listening and prints what changes.
 *
 * Files: cmd.c (options, the loop), output.c (table and JSON); the
 * browsing itself is the shared browser's (mdns/browse.h).
 */
#ifndef EOTA_APP_DISCOVER_DISCOVER_H
#define EOTA_APP_DISCOVER_DISCOVER_H

#include <stddef.h>

#include "mdns/browse.h"

#define DISC_MAX 256

/* The browsed types, in this order: a device's kind is the index of the
 * type that named it. */
typedef enum disc_kind { DISC_ESPHOME, DISC_EOTA } disc_kind;

/* A device found: the browser's instance. */
typedef eota_mdns_service disc_dev;

/* output.c: a device as a table line, its JSON object (to free with
 * free()); the table's header. */
void disc_line(const disc_dev *d, char *out, size_t len);
char *disc_json(const disc_dev *d, const char *event);
void disc_header(void);

#endif
