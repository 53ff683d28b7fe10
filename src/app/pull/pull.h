/*
 * pull.h: pull updates of `eota device` (docs/pull-updates.md): with
 * `update: - platform: http_request` the device polls a manifest.json
 * (ESPHome's format, as `eota publish` writes it) and, when it names a
 * newer version for the device's chip family, downloads the image into the
 * inactive slot through the same ingest as native and web uploads (same
 * events and automations, same checks), then reboots into it on trial.
 *
 * Everything runs in the device's poll loop over libcurl's multi
 * interface: pollfds/timeout before the wait, run after it.
 */
#ifndef EOTA_APP_PULL_H
#define EOTA_APP_PULL_H

#include <poll.h>
#include <stdint.h>

#include "config/config.h"
#include "eota/events.h"
#include "mdns/mdns.h"
#include "slots.h"
#include "storage.h"

#define EOTA_PULL_MAX_FDS 4

typedef struct eota_pull eota_pull;

typedef struct eota_pull_opts {
    const eota_config *cfg;
    eota_slots *slots;
    eota_storage *storage;     /* the stack the uploads write through */
    void (*on_event)(void *ctx, const eota_event *ev);
    int (*upload_busy)(void *ctx); /* a native or web upload holds the backend */
    void *ctx;
    /* Optional: a newer version is seen (once a version): the update
     * entry's on_update_available. */
    void (*update_available)(void *ctx, const char *version);
} eota_pull_opts;

/* What the device tells about its pull updates (for the log, the TXT). */
typedef struct eota_pull_status {
    int64_t last_check;        /* wall clock, seconds; 0: never */
    char available[64];        /* the manifest's version, "" when unknown */
    char installed[64];        /* the running image's version, "" when unknown */
    char last_error[256];      /* "" after a good check */
} eota_pull_status;

/* Start when the config has ota: - platform: http_request (else *out is
 * NULL), polling when it has update: - platform: http_request. 0, or -1
 * after saying why. */
int eota_pull_start(eota_pull **out, const eota_pull_opts *o);
void eota_pull_stop(eota_pull *p);   /* NULL is fine */
int eota_pull_pollfds(eota_pull *p, struct pollfd *pfd, int max);
long eota_pull_timeout_ms(eota_pull *p); /* -1: none */
/* The work after a wait; 1 when an image was installed: reboot now. */
int eota_pull_run(eota_pull *p);
/* A download holds the backend. */
int eota_pull_busy(const eota_pull *p);
const eota_pull_status *eota_pull_get_status(const eota_pull *p); /* NULL without pull */
/* ESPHome's ota.http_request.flash action a (ctx: the eota_pull, NULL
 * when off): its image through the pull download (flash.c); the device
 * reboots into it once installed (eota_pull_run). 0 when started, -1
 * after a log line. */
int eota_pull_flash_action(void *ctx, const eota_action *a);
/* s as TXT items (status.c): pull_checked (Unix seconds, or "never"),
 * pull_available (the manifest's version, or "unknown"), pull_error
 * ("none", or the last error, at most 80 characters). Nothing when s is
 * NULL (no pull updates). */
void eota_pull_status_txt(const eota_pull_status *s, eota_mdns_txt *t);

#endif
