/*
 * device.h: the parts of `eota device` and the state they share.
 *
 * `eota device` is a real device for Linux boards and a faithful simulator
 * of ESPHome devices. It serves the native OTA protocol with the engine over
 * non-blocking sockets (IPv4 and IPv6, one poll loop), writes uploads into
 * the inactive A/B slot, and runs the application from the active slot as a
 * child process, restarting it on the new image after an update ("reboot").
 *
 * Who does what (one file each):
 *   main.c     the entry point: options, --show-state, setup, teardown
 *   options.c  the command line and --help (options.h)
 *   engine.c   the storage backend, the OTA engine and the web server
 *   listen.c   the OTA listeners and accepting clients
 *   lobby.c    accepted clients waiting for the engine's handshake places
 *   guard.c    the engine's events through the wrong-password backoff
 *   loop.c     the poll loop: what to wait for, and the work after a wait
 *   signals.c  signals through a signalfd: stop, reload, safe mode, children
 *   reload.c   the password and Noise key in force (their one copy), and SIGHUP's
 *              reload of the config
 *   boot.c     boot and reboot over the boot state, safe mode
 *   events.c   engine events -> log lines, automations, the web page
 *   app.c      the application, as a supervised child (app.h)
 *   automation.c  the automations' actions (automation.h)
 *   mdns.c     NAME.local and _eota._tcp with the device's state (mdns/mdns.h)
 */
#ifndef EOTA_APP_DEVICE_DEVICE_H
#define EOTA_APP_DEVICE_DEVICE_H

#include <stdint.h>

#include "app.h"
#include "automation.h"
#include "config/config.h"
#include "eota/noise_posix.h"
#include "eota/posix.h"
#include "eota/lobby.h"
#include "eota/safemode.h"
#include "eota/server.h"
#include "image_sha.h"
#include "lobby.h"
#include "mdns/mdns.h"
#include "options.h"
#include "pull/pull.h"
#include "slots.h"
#include "storage.h"
#include "web.h"

#define DEV_TAG "ota"
#define DEV_XFER_SIZE 65536
/* A connection slot for each handshake place, and one for a newcomer that
 * takes over a place whose failed session lingers for its error byte. */
#define DEV_CONNS (EOTA_LOBBY_PLACES + 1)

/* The OTA password and the Noise key the engine refers to: their one copy
 * in the process (the engine keeps none, eota/server.h). Taken from the
 * config, whose own copy is then wiped (d->cfg keeps whether they exist,
 * not their value), and wiped when no longer in force (reload.c). */
typedef struct dev_secrets {
    char password[EOTA_PASSWORD_MAX + 1];
    uint8_t key[EOTA_NOISE_PSK_LEN];
} dev_secrets;

typedef struct dev_device {
    dev_opts opt;
    eota_config cfg;
    char state_dir[4096];
    eota_slots slots;
    eota_storage storage;   /* the storage stack (storage.h) */
    eota_lobby ota;         /* the OTA engine: handshake places, one upload (eota/lobby.h) */
    /* Two, so that a reload fills one while the engine still refers to the
     * other; the one not in force is all zero. */
    dev_secrets secrets[2];
    int secrets_now;        /* the one in force */
    eota_posix_hash hash;
    eota_posix_noise_crypto noise; /* the Noise primitives (OpenSSL) */
    uint8_t *xfer;
    /* The connections the engine holds (DEV_CONNS). A slot is free when
     * its fd is -1 (the engine's close sets that). */
    eota_posix_conn conns[DEV_CONNS];
    dev_lobby lobby;           /* accepted, waiting for the engine (lobby.h) */
    int listen_fd[DEV_MAX_LISTEN];
    int nlisten;
    int sig_fd;
    int stop;                  /* SIGTERM/SIGINT came */
    dev_app app;
    dev_automations autos;
    uint64_t upload_started_ms;
    eota_web *web;             /* web_server: (web.c); NULL without one */
    eota_safe_mode_config smcfg;
    eota_boot_decision dec;    /* this boot's decision */
    eota_safe_mode sm;         /* this boot's confirmation and safe-mode timers */
    int reboot_wanted;         /* reboot once no upload runs */
    eota_mdns *mdns;           /* NULL when off (mdns.c) */
    int mdns_pfd;              /* its first descriptor in the loop's pollfds */
    char mdns_last[16];        /* the last update: "installed", "failed", "" */
    char mdns_last_why[48];
    dev_image_sha mdns_sha[2]; /* each slot's image's short SHA-256 */
    eota_pull *pull;           /* update: http_request (pull/pull.h); NULL without */
} dev_device;

/* engine.c: set up the storage backend, the OTA engine (with password pw),
 * the listeners on port, and the web server. 0, or -1 after saying why. */
int dev_setup_engine(dev_device *d, uint16_t port, const char *pw);

/* listen.c */
int dev_listen(dev_device *d, uint16_t port);
/* Accept what waits on a listener; returns how many the engine took. */
int dev_accept(dev_device *d, int lfd);

/* loop.c: run until a signal stops the device; the exit code. */
int dev_loop_run(dev_device *d);

/* signals.c */
int dev_signals_open(dev_device *d);
void dev_signals_handle(dev_device *d);

/* reload.c */
const char *dev_effective_password(const eota_config *c);
/* The slot of d->secrets not in force, filled with pw and key (NULL: none);
 * NULL when pw is longer than the engine takes (nothing written). */
dev_secrets *dev_secrets_fill(dev_device *d, const char *pw, const uint8_t *key);
/* s is in force (the engine refers to it): the other slot is wiped. */
void dev_secrets_commit(dev_device *d, dev_secrets *s);
/* Wipe the config's copies of the OTA password and the Noise keys, once
 * taken (c keeps whether they exist). */
void dev_secrets_wipe_config(eota_config *c);
/* At exit: both slots wiped. */
void dev_secrets_forget(dev_device *d);
/* reload.c: what the device does about Noise, for the log ("required ..."). */
const char *dev_noise_mode(const eota_config *c);
void dev_reload(dev_device *d);
/* The automations' ota.set_auth_password hook: ctx is the device. */
int dev_set_password(void *ctx, const char *password);

/* boot.c */
void dev_boot_init(dev_device *d);
void dev_boot(dev_device *d);
void dev_reboot(dev_device *d);
/* SIGUSR1: reboot into safe mode (unless the config disables it). */
void dev_request_safe_mode(dev_device *d);
/* The safe-mode timers, and a reboot that waited for an upload to end. */
void dev_boot_poll(dev_device *d);
uint32_t dev_now32(void);

/* mdns.c */
void dev_mdns_start(dev_device *d, uint16_t port);
void dev_mdns_refresh(dev_device *d);
void dev_mdns_note_event(dev_device *d, const eota_event *ev);
/* 0 while the running image's hash is under way and no upload runs (the
 * loop goes on at once), else -1. */
long dev_mdns_timeout_ms(const dev_device *d);
void dev_mdns_stop(dev_device *d);

/* events.c: the engine's event and log seams, and web.c's busy check */
void dev_on_event(void *ctx, const eota_event *ev);
void dev_on_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg);
int dev_native_busy(void *ctx);
/* pull updates wait while a native or web upload runs */
int dev_push_busy(void *ctx);

/* guard.c: the engine's event and log seams, through the backoff */
void dev_native_event(void *ctx, const eota_event *ev);
void dev_native_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg);

#endif
