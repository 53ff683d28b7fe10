/*
 * devices.h: the devices of `eota upload` as the user names them. A SPEC
 * is one device, one or more of its addresses joined with commas; each is
 * HOST, HOST:PORT, [IPV6], [IPV6]:PORT or a bare IPv6 address.
 */
#ifndef EOTA_APP_UPLOAD_DEVICES_H
#define EOTA_APP_UPLOAD_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "upload/opts.h"

typedef struct up_target {
    char *host;
    uint16_t port;
} up_target;

/* Parse a SPEC; defport for addresses without a port. 0 with *targets (to
 * free with up_targets_free) and *n set, or -1 with a message in err. */
int up_spec_parse(const char *spec, uint16_t defport, up_target **targets, size_t *n, char *err, size_t errlen);

void up_targets_free(up_target *t, size_t n);

/* --devices-from: one SPEC a line, '#' starts a comment, "-" is stdin;
 * appended to list. 0, or -1 with a message in err. */
int up_devices_read(const char *path, up_list *list, char *err, size_t errlen);

#endif
