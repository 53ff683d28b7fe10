/*
 * lobby.h: the waiting room of the OTA port. The engine serves one session
 * at a time; every accepted connection waits here until the engine can take
 * it, so that no stranger holds the owner out:
 *
 *  - a connection whose 5 magic bytes have arrived is "ready"; when the
 *    engine holds a session that has not reached the upload (no size yet:
 *    unauthenticated, or idle, or trickling) for DEV_LOBBY_PREEMPT_MS, that
 *    session gives way to a ready waiter (another address first);
 *  - when the engine is free, the oldest ready waiter goes first (then the
 *    oldest idle one, so slow but honest clients are served as before);
 *  - while an upload runs, waiters are turned away at once, as before;
 *    a web upload whose body stopped gives way to a ready waiter
 *    (eota_web_yield);
 *  - an address whose password was wrong, or whose handshake had to give
 *    way, waits its backoff delay (backoff.h) before the engine takes it
 *    again: its guesses slow down, other addresses are not slowed;
 *  - the room is small; when full, the address with the most waiters loses
 *    its oldest; a waiter gives up after the handshake timeout.
 *
 * What stays for the core (issue 17, next session): several handshakes at
 * once inside the engine, so that a ready newcomer need not wait for the
 * preemption delay.
 */
#ifndef EOTA_APP_DEVICE_LOBBY_H
#define EOTA_APP_DEVICE_LOBBY_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backoff.h"

#define DEV_LOBBY_MAX 16
#define DEV_LOBBY_PREEMPT_MS 1000u  /* a session without a size gives way after this */
#define DEV_LOBBY_WAIT_MS 20000u    /* a waiter gives up after this */

typedef struct dev_waiter {
    int fd;
    int ready;                    /* its magic has arrived */
    uint64_t since_ms;
    char key[BACKOFF_KEY_LEN];    /* its address */
    char peer[80];                /* address and port, for the log */
} dev_waiter;

typedef struct dev_lobby {
    dev_waiter w[DEV_LOBBY_MAX];
    int n;
    backoff guesses;              /* wrong passwords, handshakes cut */
    /* the session the engine holds (or held last) */
    char cur_key[BACKOFF_KEY_LEN];
    char cur_peer[80];
    uint64_t cur_since_ms;
    int cutting;                  /* the lobby cancels a session right now */
} dev_lobby;

struct dev_device;

void dev_lobby_init(dev_lobby *l);
/* A connection accepted on a listener. */
void dev_lobby_add(struct dev_device *d, int fd, const struct sockaddr *sa);
/* Hand waiters to the engine, cut an idle handshake, turn away, expire.
 * Returns how many the engine took. */
int dev_lobby_run(struct dev_device *d);
/* The waiters whose magic is still to come, for poll. */
int dev_lobby_pollfds(const struct dev_device *d, struct pollfd *pfd, int room);
/* When dev_lobby_run has work without I/O, in ms; -1 never. */
long dev_lobby_timeout_ms(struct dev_device *d);
/* Close every waiter (the device stops). */
void dev_lobby_close(dev_lobby *l);

#endif
