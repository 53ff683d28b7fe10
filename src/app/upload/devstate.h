/*
 * devstate.h: what eota devices say of themselves on mDNS, watched by a
 * rollout (rollout.h). Every `eota device` publishes _eota._tcp with TXT
 * records (docs/internals/mdns.md): the SHA-256 prefix of the image it
 * runs, whether that image is on trial or confirmed, and how its last
 * update went (installed, failed, rolled_back, with a reason). The watch
 * browses _eota._tcp with the shared browser of src/app/mdns (browse.h) on
 * the upload's own poll loop (nothing here blocks) and keeps the latest of
 * each device.
 *
 * A job is matched to a device by name (a target NAME.local against the
 * SRV's host) or by address and port (a target or the job's address
 * against the A record and the SRV's port). A device with no _eota._tcp
 * (stock ESPHome) is simply never found.
 */
#ifndef EOTA_APP_UPLOAD_DEVSTATE_H
#define EOTA_APP_UPLOAD_DEVSTATE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct up_job;

#define UP_DEVSTATE_MAX 1024

typedef struct up_devinfo {
    int have_txt;
    char sha256[16];        /* TXT sha256: 12 hex digits of the running image */
    char state[16];         /* TXT state: trial, confirmed, none */
    char last_update[16];   /* TXT last_update */
    char why[128];          /* TXT last_update_why */
    unsigned gen;           /* counts the changes of its TXT */
    uint64_t seen_ms;       /* when a record of it last came new */
} up_devinfo;

typedef struct up_devstate up_devstate;

/* Browse _eota._tcp: NULL (after the querier's log line) without mDNS. */
up_devstate *up_devstate_new(void);
void up_devstate_free(up_devstate *w);

/* The poll loop's part, as the resolver's (resolve.h). */
int up_devstate_pollfds(up_devstate *w, struct pollfd *pfd, int max);
long up_devstate_timeout_ms(up_devstate *w);
void up_devstate_run(up_devstate *w, const struct pollfd *pfd, int n);

/* The device j is, with its TXT records known, or NULL. */
const up_devinfo *up_devstate_find(const up_devstate *w, const struct up_job *j);

#endif
