/*
 * eota/lobby.h: several handshakes at once in front of the one upload, so
 * that a stranger's idle or slow connection never holds the device.
 *
 * An eota_lobby holds EOTA_LOBBY_PLACES engines (eota/server.h), the
 * handshake places, all over the same config, the one transfer buffer and
 * the caller's one copy of the password and the Noise key.
 * Each place runs one connection's handshake with its own wire and Noise
 * state. Only an authenticated session (the password or the Noise key;
 * without either, one that has sent its size) takes the single upload slot;
 * the other handshakes are closed then, and while the upload runs a new
 * client is turned away at once, as a busy stock device does. When every
 * place holds a handshake, the oldest that is not authenticated gives way
 * to the newcomer. A stock uploader sees exactly the stock exchange.
 *
 * With EOTA_LOBBY_PLACES 1 it behaves as a single eota_server: a second
 * client is turned away while the first one's handshake runs.
 *
 *   static eota_lobby ota;             (the caller's memory; no malloc)
 *   static uint8_t buf[4096];
 *   eota_lobby_init(&ota, &cfg, buf, sizeof buf);
 *   for (;;) {
 *       if (a client is waiting) eota_lobby_accept(&ota, conn);
 *       if (eota_lobby_poll(&ota) == EOTA_SERVER_REBOOT) reboot();
 *   }
 */
#ifndef EOTA_LOBBY_H
#define EOTA_LOBBY_H

#include <stddef.h>
#include <stdint.h>

#include "eota/opt.h"
#include "eota/private_access.h"
#include "eota/server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eota_lobby {
    eota_server EOTA_PRIVATE(place)[EOTA_LOBBY_PLACES];
    void *EOTA_PRIVATE(conn)[EOTA_LOBBY_PLACES];     /* as given to accept */
    uint32_t EOTA_PRIVATE(since)[EOTA_LOBBY_PLACES]; /* when it was accepted */
    int EOTA_PRIVATE(current);                       /* the place at work, for the seams */
} eota_lobby;

/* Set up every place with cfg (copied) over buf (shared: only the upload
 * uses it). EOTA_OK or EOTA_EINVAL, as eota_server_init. */
int eota_lobby_init(eota_lobby *l, const eota_server_config *cfg, uint8_t *buf, size_t buf_size);

/* eota_server_set_password / _set_noise_key for every place. The places
 * hold no copy of the password or the key: all refer to the caller's one
 * copy (server.h, "One copy of each secret"), and a change ends every
 * handshake in progress that has not passed authentication yet. */
int eota_lobby_set_password(eota_lobby *l, const char *password);
int eota_lobby_set_noise_key(eota_lobby *l, const uint8_t *key, int required);

/* Hand a newly accepted connection to a place. Returns the place's index
 * (>= 0), or EOTA_EBUSY when it was turned away (and closed): an upload
 * runs, or (EOTA_LOBBY_PLACES 1) the one place is taken. When every place
 * is taken, eota_lobby_victim's handshake gives way first. */
int eota_lobby_accept(eota_lobby *l, void *conn);

/* The place whose handshake gives way to the next accept, or -1: a place
 * is free, or the accept will be turned away. */
int eota_lobby_victim(const eota_lobby *l);

/* Places without a connection. */
int eota_lobby_free(const eota_lobby *l);

/* Poll every place (eota_server_poll); EOTA_SERVER_REBOOT once an upload
 * was committed, ACTIVE while any place holds a connection, else IDLE. */
eota_server_result eota_lobby_poll(eota_lobby *l);

/* The nearest of the places' eota_server_timeout_ms; -1 none. */
long eota_lobby_timeout_ms(const eota_lobby *l);

/* Cut every session (device shutting down). */
void eota_lobby_cancel(eota_lobby *l);

/* Any place holds a connection. */
int eota_lobby_busy(const eota_lobby *l);
/* A session holds the upload slot (its goodbye included). */
int eota_lobby_uploading(const eota_lobby *l);
/* The upload's session only says goodbye (eota_server_finishing). */
int eota_lobby_finishing(const eota_lobby *l);

/* Place i (0 .. EOTA_LOBBY_PLACES - 1), for eota_server_wants and
 * eota_server_get_info, and the connection it was given (NULL when free). */
eota_server *eota_lobby_place(eota_lobby *l, int i);
void *eota_lobby_conn(const eota_lobby *l, int i);

/* The place whose work runs now: inside an event or log callback, the
 * session that fired it. */
int eota_lobby_current(const eota_lobby *l);

#ifdef __cplusplus
}
#endif

#endif
