/*
 * web.h: the web server of `eota device` (the config's `web_server:` block):
 * a status page at GET / and, with `ota: - platform: web_server`, the web
 * upload POST /update (PROTOCOL.md section 9; docs/web.md).
 *
 * It runs on libmicrohttpd in external-polling mode with epoll: no thread.
 * The device's poll loop waits on the descriptors of eota_web_pollfds for
 * at most eota_web_timeout_ms, then calls eota_web_run. An upload is
 * streamed through a 64 KiB buffer and the core's ingest (eota/ingest.h)
 * into the same storage backend as a native upload (the device's storage
 * stack, storage.h), with the same events (the device's on_event). The
 * implementation is in src/app/web/ (internal.h lists its files).
 *
 * Every function accepts w == NULL (no web server configured) and then does
 * nothing.
 */
#ifndef EOTA_APP_WEB_H
#define EOTA_APP_WEB_H

#include <poll.h>
#include <stdint.h>

#include "config/config.h"
#include "eota/events.h"
#include "slots.h"
#include "storage.h"

/* Most descriptors eota_web_pollfds fills in. */
#define EOTA_WEB_MAX_FDS 24

typedef struct eota_web eota_web;

typedef struct eota_web_opts {
    const eota_config *cfg;
    eota_slots *slots;          /* the device's slots (read for the page) */
    eota_storage *storage;      /* the backend shared with the native engine */
    char *const *listen;        /* the device's --listen addresses; none:
                                   0.0.0.0 and :: like the native listener */
    int nlisten;
    uint16_t port_override;     /* --web-port; 0: the config's or the default */
    /* The device's event handler (logs and automations), called for web
     * uploads exactly as the engine calls it for native ones. */
    void (*on_event)(void *ctx, const eota_event *ev);
    /* True while a native upload holds the backend: web uploads get 409. */
    int (*native_busy)(void *ctx);
    void *ctx;
} eota_web_opts;

/* Start the web server when the config asks for one (web_server: or
 * ota: - platform: web_server). *out is NULL when it does not. Returns 0,
 * or -1 after logging why (a port in use, ...). */
int eota_web_start(eota_web **out, const eota_web_opts *o);

/* Fill pfd (room entries) with what to poll; returns the count. */
int eota_web_pollfds(const eota_web *w, struct pollfd *pfd, int room);

/* Milliseconds until eota_web_run must be called even without I/O, or -1. */
long eota_web_timeout_ms(const eota_web *w);

/* Do the web server's work. Returns 1 when the device must reboot now
 * (100 ms after a successful web upload was answered), else 0. */
int eota_web_run(eota_web *w);

/* True while a web upload holds the backend (or its reboot is pending):
 * native connections are then turned away. */
int eota_web_busy(const eota_web *w);

/* Another client wants to upload: a web upload that holds the backend but
 * has had no body byte for EOTA_WEB_STALL_MS (a body that stopped, a broken
 * chunk) is failed and gives way; its connection is closed a second later.
 * 1 when the backend is free now. */
#define EOTA_WEB_STALL_MS 1500u
int eota_web_yield(eota_web *w);

/* Let the page know how the last upload (native or web) went. */
void eota_web_note_event(eota_web *w, const eota_event *ev);

/* Stop: an upload in progress is aborted (nothing committed), connections
 * are closed, everything is freed. */
void eota_web_stop(eota_web *w);

#endif
