/*
 * lobby.h: the waiting room of the OTA port. The engine (eota/lobby.h)
 * runs EOTA_LOBBY_PLACES handshakes at once and one upload; every accepted
 * connection waits here until the engine can take it, so that no stranger
 * holds the owner out:
 *
 *  - a connection whose 5 magic bytes have arrived is "ready"; when every
 *    handshake place is taken, a ready waiter gets one at once: the oldest
 *    handshake not yet authenticated gives way to it (the engine's choice),
 *    unless the waiter's address holds a place already (one address cannot
 *    push the others out); a waiter of another address goes first;
 *  - when a place is free, the oldest ready waiter goes first (then the
 *    oldest idle one, so slow but honest clients are served as before);
 *  - while an upload runs, waiters are turned away at once, as before;
 *    a web upload whose body stopped gives way to a ready waiter
 *    (eota_web_yield);
 *  - an address whose password was wrong, or whose handshake had to give
 *    way after DEV_LOBBY_SLOW_MS without getting anywhere, waits its
 *    backoff delay (backoff.h) before the engine takes it again: its
 *    guesses slow down, other addresses are not slowed;
 *  - the room is small; when full, the address with the most waiters loses
 *    its oldest; a waiter gives up after the handshake timeout.
 */
#ifndef EOTA_APP_DEVICE_LOBBY_H
#define EOTA_APP_DEVICE_LOBBY_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backoff.h"
#include "eota/lobby.h"

#define DEV_LOBBY_MAX 16
#define DEV_LOBBY_SLOW_MS 1000u     /* a handshake cut after this counts against its address */
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
    /* the session each handshake place holds (or held last) */
    char place_key[EOTA_LOBBY_PLACES][BACKOFF_KEY_LEN];
    char place_peer[EOTA_LOBBY_PLACES][80];
    uint64_t place_since_ms[EOTA_LOBBY_PLACES];
    int cutting;                  /* a handshake gives way right now */
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
/* The address and the "address:port" of the session whose event or log
 * line the engine reports now (eota_lobby_current). */
const char *dev_lobby_key(const struct dev_device *d);
const char *dev_lobby_peer(const struct dev_device *d);
/* Close every waiter (the device stops). */
void dev_lobby_close(dev_lobby *l);

#endif
