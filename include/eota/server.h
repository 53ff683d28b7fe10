/*
 * eota/server.h: the device-side OTA engine (the OTA server a firmware
 * embeds). One state machine, driven from the integrator's main loop: it
 * never blocks, allocates nothing and keeps no global state. The integrator
 * owns the eota_server struct and one transfer buffer.
 *
 *   eota_server srv;
 *   static uint8_t buf[4096];
 *   eota_server_init(&srv, &cfg, buf, sizeof buf);
 *   for (;;) {
 *       if (a client is waiting) eota_server_accept(&srv, conn);
 *       if (eota_server_poll(&srv) == EOTA_SERVER_REBOOT) reboot();
 *       ... the rest of the main loop ...
 *   }
 */
#ifndef EOTA_SERVER_H
#define EOTA_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "eota/backend.h"
#include "eota/clock.h"
#include "eota/crypto.h"
#include "eota/events.h"
#include "eota/ingest.h"
#include "eota/noise.h"
#include "eota/opt.h"
#include "eota/private_access.h"
#include "eota/protocol.h"
#include "eota/random.h"
#include "eota/status.h"
#include "eota/transport.h"
#include "eota/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Smallest transfer buffer eota_server_init accepts. */
#define EOTA_SERVER_MIN_BUFFER 64u

typedef struct eota_server_config {
    const eota_transport_ops *transport;
    eota_clock clock;
    eota_random random;
    eota_hash hash;
    eota_backend backend;
    eota_events events;        /* optional callbacks */
    const char *password;      /* NULL or "" = no authentication. Not
                                  copied: the engine refers to the caller's
                                  string, the device's one copy of it, which
                                  must stay valid while the engine uses it
                                  (see eota_server_set_password) */
    uint8_t version;           /* 1 or 2; 0 means 2 */
    uint8_t allow_md5_auth;    /* 1: answer clients without SHA-256 with
                                  the legacy MD5 challenge (opt-in; a build
                                  without EOTA_WITH_MD5_AUTH refuses it) */
    uint8_t ack_after_write;   /* 1: send each CHUNK_OK once the backend has
                                  taken the block, as stock devices do (they
                                  write, then acknowledge); 0: as soon as the
                                  bytes arrive, which keeps a stop-and-wait
                                  uploader busy while the flash writes */
    uint32_t handshake_timeout_ms;  /* 0 = EOTA_DEVICE_HANDSHAKE_TIMEOUT_MS */
    uint32_t data_timeout_ms;       /* 0 = EOTA_DEVICE_DATA_TIMEOUT_MS */
    uint32_t final_ack_timeout_ms;  /* 0 = EOTA_DEVICE_FINAL_ACK_TIMEOUT_MS;
                                       also bounds the flush of an error
                                       byte before the close */
    uint32_t progress_floor_bytes;  /* 0 = EOTA_DEVICE_PROGRESS_FLOOR_BYTES: */
    uint32_t progress_window_ms;    /* fewer bytes than the floor in the
                                       window (0 = EOTA_DEVICE_PROGRESS_WINDOW_MS)
                                       end the data phase with 0xFF */
    uint8_t too_big_code;      /* the response byte when the backend says
                                  EOTA_ETOOBIG (the chip's own "not enough
                                  space"); 0 = 0x89
                                  EOTA_RESP_ERROR_ESP32_NOT_ENOUGH_SPACE */
    /* Noise (PROTOCOL.md section 10; a build with EOTA_WITH_NOISE). */
    const uint8_t *noise_key;  /* NULL: no Noise; else the 32-byte key
                                  (not copied, as the password; all zero is
                                  refused). With a key the device offers
                                  Noise (server flag 04) */
    uint8_t noise_required;    /* 1: it requires Noise: a client that does
                                  not set 0x0C gets 94 after its feature
                                  byte. With Noise the password step is
                                  skipped (the key authenticates both) */
    eota_noise_crypto noise_crypto; /* the primitives; needed with a key */
} eota_server_config;

/* What eota_server_poll reports. */
typedef enum eota_server_result {
    EOTA_SERVER_IDLE = 0,   /* no connection */
    EOTA_SERVER_ACTIVE = 1, /* a connection is being served */
    EOTA_SERVER_REBOOT = 2  /* an image was committed: reboot into it
                               (reported once per successful upload) */
} eota_server_result;

/* Which way the engine waits (eota_server_wants), for poll(2) users. */
#define EOTA_WANT_READ 0x01u
#define EOTA_WANT_WRITE 0x02u

/* How the authentication of the current or last session went. */
typedef enum eota_auth_kind {
    EOTA_AUTH_NONE = 0,
    EOTA_AUTH_SHA256 = 1,
    EOTA_AUTH_MD5 = 2
} eota_auth_kind;

/* The engine's state: the caller owns it, the fields are private
 * (EOTA_PRIVATE, eota/private_access.h); use the functions. */
typedef struct eota_server {
    /* The small fields first: a Thumb-1 load reaches a byte 31 bytes and a
     * word 124 bytes past the struct in one instruction (this order saves
     * some 400 bytes of code on a Cortex-M0+); the arrays last. */
    uint8_t EOTA_PRIVATE(phase);
    uint8_t EOTA_PRIVATE(client_features);
    uint8_t EOTA_PRIVATE(server_flags);
    uint8_t EOTA_PRIVATE(auth_kind);
    uint8_t EOTA_PRIVATE(ota_type);
    uint8_t EOTA_PRIVATE(started);        /* the size arrived: an upload, not a probe */
    uint8_t EOTA_PRIVATE(error_code);     /* code of the last failed session, or 0 */
    uint8_t EOTA_PRIVATE(reboot_pending);
    uint8_t EOTA_PRIVATE(peer_gone);      /* the client closed or failed; nothing more to send */
    uint8_t EOTA_PRIVATE(gzip_agreed);
    uint8_t EOTA_PRIVATE(noise_mode);     /* 0 no key, 1 Noise offered, 2 required */
    uint8_t EOTA_PRIVATE(encrypted);      /* this session runs inside Noise */
    uint8_t EOTA_PRIVATE(claimed);        /* the session holds the upload slot
                                             (authenticated, or sent its size) */
    uint32_t EOTA_PRIVATE(phase_start_ms);
    uint32_t EOTA_PRIVATE(last_activity_ms);
    uint32_t EOTA_PRIVATE(size);
    uint32_t EOTA_PRIVATE(received);      /* wire bytes received in the data phase */
    uint32_t EOTA_PRIVATE(acked);         /* bytes covered by CHUNK_OKs already queued */
    uint32_t EOTA_PRIVATE(secrets_gen);   /* counts the changes of password and key */
    uint32_t EOTA_PRIVATE(session_gen);   /* secrets_gen when the session was accepted */
    /* Set by an eota_lobby (eota/lobby.h) that owns this engine: asked
     * whether the session may take the upload slot; NULL: always. */
    int (*EOTA_PRIVATE(claim))(void *ctx, struct eota_server *srv);
    void *EOTA_PRIVATE(claim_ctx);
    eota_server_config EOTA_PRIVATE(cfg);
    eota_wire EOTA_PRIVATE(wire);         /* the connection, the field being read, replies */
    eota_ingest EOTA_PRIVATE(ingest);     /* the data phase: backend, MD5, progress, events */
    uint8_t *EOTA_PRIVATE(buf);
    size_t EOTA_PRIVATE(buf_size);
    char EOTA_PRIVATE(nonce)[EOTA_SHA256_HEX_LEN + 1];
#if EOTA_WITH_NOISE
    eota_noise EOTA_PRIVATE(noise);       /* the session's Noise state */
#endif
} eota_server;

/* Set up an engine. The config is copied, but not the secrets it names
 * (cfg.password, cfg.noise_key): the engine refers to them. buf (at least
 * EOTA_SERVER_MIN_BUFFER bytes; 4 KiB or more is better) stays the caller's
 * and must live as long as the engine. Returns EOTA_OK or EOTA_EINVAL. */
int eota_server_init(eota_server *srv, const eota_server_config *cfg, uint8_t *buf, size_t buf_size);

/* One copy of each secret. The engine keeps no copy of the password or
 * the Noise key: it refers to the caller's (an eota_lobby's places all refer
 * to the same one), reads them when a handshake needs them, and wipes what
 * it computed from them (the expected response) at once. The caller keeps
 * the memory valid and unchanged until it names other memory here, and
 * wipes it when it is done with it. To change a secret in place, write the
 * new one and call the setter (with the same pointer) before the next
 * eota_server_poll.
 *
 * A change reaches the handshakes in progress: a session accepted before
 * a call of eota_server_set_password or eota_server_set_noise_key (even one
 * that sets the same value) cannot pass authentication. It ends as a wrong
 * password or key would, with 0x82 (EOTA_RESP_ERROR_AUTH_INVALID): after
 * its response to the challenge, or right after its feature byte when the
 * device asks for no password, or inside its Noise session once the
 * handshake is done (a Noise handshake with a key the session does not
 * hold gets the reject frame first, as any wrong key). The uploader tries
 * again under the new setting. A session already authenticated carries on
 * (tests/unit/test_server.c, test_server_noise.c, test_lobby.c). */

/* Change the password (the seed's set_auth_password); NULL or "" turns
 * authentication off. EOTA_EINVAL when the password is longer than
 * EOTA_PASSWORD_MAX (the old one stays). */
int eota_server_set_password(eota_server *srv, const char *password);

/* Change the Noise key (32 bytes) and mode (a reload); key NULL turns Noise
 * off. EOTA_EINVAL for an all-zero key, a key without cfg.noise_crypto, or
 * any key in a build without EOTA_WITH_NOISE (the old setting stays). */
int eota_server_set_noise_key(eota_server *srv, const uint8_t *key, int required);

/* Hand a newly accepted connection to the engine. When an upload is already
 * being served the new one is closed at once (EOTA_EBUSY) and the running one
 * is not disturbed. */
int eota_server_accept(eota_server *srv, void *conn);

/* Do all the work that can be done now without blocking: read, write, feed
 * the backend, check timeouts. Call it from the main loop, or whenever the
 * connection is readable or writable or eota_server_timeout_ms has passed. */
eota_server_result eota_server_poll(eota_server *srv);

/* EOTA_WANT_READ / EOTA_WANT_WRITE for the current connection, or 0. */
unsigned eota_server_wants(const eota_server *srv);

/* Milliseconds until the engine has something to do without any I/O (a
 * timeout, a busy backend to retry); -1 when it only waits for I/O. */
long eota_server_timeout_ms(const eota_server *srv);

/* Cut the current session (device shutting down): the backend is aborted,
 * the connection closed, nothing committed. */
void eota_server_cancel(eota_server *srv);

/* True while a connection is being served. */
int eota_server_busy(const eota_server *srv);

/* True when the session's upload is over and only its goodbye remains (the
 * short wait for the client's final 00, or a failed session's error byte
 * leaving): the engine will be free within final_ack_timeout_ms. An
 * integrator may leave a new client waiting in its listen backlog then,
 * rather than turn it away: it is often the same uploader coming back. */
int eota_server_finishing(const eota_server *srv);

/* True while the session holds the upload slot: authenticated (by the
 * password or the Noise key) or, on a device without either, past its size,
 * and not failed since (a failed session only lets its error byte leave).
 * Such a session never gives way (eota_server_yield). */
int eota_server_authenticated(const eota_server *srv);

/* A session that does not hold the upload slot gives way (an eota_lobby
 * makes room for a newcomer): its connection is closed, with no event and a
 * debug log line. EOTA_OK, or EOTA_EBUSY (nothing done) when no session
 * runs or it holds the upload slot. */
int eota_server_yield(eota_server *srv);

/* About the current or last session. */
typedef struct eota_server_info {
    uint8_t client_features;
    uint8_t server_flags;
    eota_auth_kind auth;
    uint8_t version;
    uint8_t ota_type;
    uint32_t size;
    uint32_t received;
    uint8_t error_code;   /* response code sent for the last failure, or 0 */
    uint8_t encrypted;    /* the session ran (or runs) inside Noise */
    uint8_t noise_failure; /* eota_noise_failure_kind of a failed Noise session, or 0 */
} eota_server_info;

void eota_server_get_info(const eota_server *srv, eota_server_info *info);

#ifdef __cplusplus
}
#endif

#endif
