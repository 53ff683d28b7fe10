/*
 * eota/client.h: the uploader engine, the client side of PROTOCOL.md. One
 * non-blocking state machine per connection, over the same seams as the
 * device engine (transport, clock, random, hash), so that one process can
 * update many devices from a single poll loop. It allocates nothing and keeps
 * no global state; the integrator owns the eota_client struct, one transfer
 * buffer, and the image, which the engine reads at an offset through a
 * callback (mmap, a file, flash: the engine never needs it whole).
 *
 * Connecting is the integrator's job (the engine starts on a connected
 * transport); everything from the magic bytes to the final 00 is the
 * engine's.
 *
 *   eota_client cl;
 *   static uint8_t buf[8192];
 *   eota_client_init(&cl, &cfg, buf, sizeof buf);   (cfg.image filled in)
 *   eota_client_start(&cl, conn);
 *   for (;;) {
 *       eota_client_status st = eota_client_poll(&cl);
 *       if (st == EOTA_CLIENT_NEED_IMAGE) {
 *           if (eota_client_gzip_accepted(&cl)) eota_client_set_image(&cl, &gz, 1);
 *           else eota_client_set_image(&cl, &raw, 0);
 *           continue;
 *       }
 *       if (st == EOTA_CLIENT_DONE || st == EOTA_CLIENT_FAILED) break;
 *       wait for eota_client_wants() on the connection, at most
 *       eota_client_timeout_ms() milliseconds;
 *   }
 *   eota_client_get_report(&cl, &report);
 *
 * Choosing the image. The bytes on the wire are either the image as is or
 * its gzip, and only the device's feature reply says which: gzip is sent
 * only when the caller offered it (offer_gzip, which sets client feature bit
 * 0x01) and the device accepted it (46, or server flag 0x01). The caller can
 * give both versions up front in the config, or leave the one it has not made
 * yet empty (read == NULL): then eota_client_poll returns
 * EOTA_CLIENT_NEED_IMAGE as soon as the feature reply is in, and the caller
 * answers with eota_client_set_image (after compressing, say). Meanwhile the
 * engine goes on with authentication but sends nothing of the size.
 *
 * Noise (PROTOCOL.md section 10). With a key (noise_key) the engine sets
 * client feature bit 0x08, and when the device offers Noise (server flag
 * 0x04) it runs the handshake as initiator right after the feature reply
 * (src/core/noise.c, eota/noise.h) and the rest of the exchange inside the
 * session: each control field its own frame, the image in frames of at most
 * 1024 bytes, the window of blocks in flight as before. The password step
 * is skipped (the key authenticates both sides). A device that does not
 * offer Noise ends the upload before anything else is sent
 * (EOTA_CLIENT_ERR_NOISE_UNOFFERED), unless noise_fallback allows the
 * plaintext exchange. A device that rejects the key (the reject frame
 * "Handshake MAC failure") gives EOTA_CLIENT_ERR_NOISE_KEY: the caller may
 * try another key with eota_client_set_noise_key and a new start. Without a
 * key the bytes on the wire are exactly those of the plaintext engine.
 *
 * Built only with EOTA_WITH_CLIENT (eota/opt.h, on by default); without
 * EOTA_WITH_MD5_AUTH a device's legacy MD5 challenge (01) is an unexpected
 * byte (EOTA_CLIENT_ERR_PROTOCOL).
 */
#ifndef EOTA_CLIENT_H
#define EOTA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "eota/clock.h"
#include "eota/crypto.h"
#include "eota/noise.h"
#include "eota/opt.h"
#include "eota/private_access.h"
#include "eota/protocol.h"
#include "eota/random.h"
#include "eota/server.h" /* eota_auth_kind, EOTA_WANT_READ / EOTA_WANT_WRITE */
#include "eota/status.h"
#include "eota/transport.h"
#include "eota/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Smallest transfer buffer eota_client_init accepts; 8 KiB or more is
 * better (fewer transport calls). */
#define EOTA_CLIENT_MIN_BUFFER 64u

/* Longest window eota_client_init accepts, in 8 KiB blocks. */
#define EOTA_CLIENT_MAX_WINDOW 1024u

/* How long the engine tries to deliver the optional final 00 after 45. */
#define EOTA_CLIENT_FINAL_ACK_MS 1000u

/* Read `len` bytes of the image at `offset` into buf (offset + len never
 * passes the image's size). EOTA_OK when all len bytes are there, or a
 * negative status: the upload fails with EOTA_CLIENT_ERR_IMAGE. */
typedef int (*eota_client_read_fn)(void *ctx, uint32_t offset, uint8_t *buf, size_t len);

/* One version of the image, as it will travel. */
typedef struct eota_client_image {
    eota_client_read_fn read; /* NULL: not given (yet) */
    void *ctx;
    uint32_t size;            /* bytes on the wire; never 0 */
    uint8_t md5[EOTA_MD5_DIGEST_LEN]; /* MD5 of exactly these bytes: it is
                                         sent before them (step 11) */
} eota_client_image;

typedef struct eota_client_config {
    const eota_transport_ops *transport;
    eota_clock clock;
    eota_random random;       /* the cnonce */
    eota_hash hash;           /* SHA-256 / MD5 of the authentication */
    const char *password;     /* NULL or "": none (a device that asks for one
                                 gets EOTA_CLIENT_ERR_PASSWORD_REQUIRED) */
    uint8_t features;         /* client feature byte; 0 means 0x07. Bits 0x08
                                 (Noise) and 0x30 (reserved) are always cleared;
                                 bit 0x01 is cleared unless offer_gzip. */
    uint8_t offer_gzip;       /* 1: the caller can send a gzip version */
    uint8_t ota_type;         /* EOTA_OTA_TYPE_*, sent in the extended
                                 protocol only */
    uint16_t window;          /* 8 KiB blocks in flight (version 2);
                                 0 means 1: stop-and-wait as the stock uploader */
    uint32_t handshake_timeout_ms; /* start to 43, in all; 0 = 20 s */
    uint32_t data_timeout_ms;      /* longest silence from 43 to 45; 0 = 160 s */
    eota_client_image image;       /* the image as is (may be given later) */
    eota_client_image gzip_image;  /* its gzip (may be given later) */
    const uint8_t *noise_key;      /* NULL: no Noise; else the 32-byte key
                                      (copied; all zero is refused). Needs
                                      EOTA_WITH_NOISE and noise_crypto */
    uint8_t noise_fallback;        /* 1: go on in plaintext with a device
                                      that does not offer Noise */
    eota_noise_crypto noise_crypto; /* X25519, ChaCha20-Poly1305, SHA-256 */
} eota_client_config;

/* What eota_client_poll reports. */
typedef enum eota_client_status {
    EOTA_CLIENT_IDLE = 0,       /* not started */
    EOTA_CLIENT_BUSY = 1,       /* running: wait for I/O or the timeout */
    EOTA_CLIENT_NEED_IMAGE = 2, /* call eota_client_set_image, then poll */
    EOTA_CLIENT_DONE = 3,       /* the device installed the image (45);
                                   the connection is closed */
    EOTA_CLIENT_FAILED = 4      /* see eota_client_get_report; closed */
} eota_client_status;

/* The step an upload was at, for messages ("timed out during ..."). */
typedef enum eota_client_phase {
    EOTA_CLIENT_PH_NONE = 0,
    EOTA_CLIENT_PH_CONNECT,  /* the integrator's connect (never set by the engine) */
    EOTA_CLIENT_PH_HELLO,    /* magic sent, waiting for 00 + version */
    EOTA_CLIENT_PH_FEATURES, /* feature byte sent, waiting for 40/46/48 */
    EOTA_CLIENT_PH_NOISE,    /* the Noise handshake */
    EOTA_CLIENT_PH_AUTH,     /* waiting for the challenge, or for 41 */
    EOTA_CLIENT_PH_PREPARE,  /* type and size sent, waiting for 42 */
    EOTA_CLIENT_PH_MD5,      /* MD5 sent, waiting for 43 */
    EOTA_CLIENT_PH_DATA,     /* sending the image, counting 47s */
    EOTA_CLIENT_PH_RECEIVE,  /* all sent, waiting for 44 */
    EOTA_CLIENT_PH_VERIFY,   /* waiting for 45 (verify and commit) */
    EOTA_CLIENT_PH_FINAL,    /* sending the final 00 */
    EOTA_CLIENT_PH_END
} eota_client_phase;

/* Why an upload ended. */
typedef enum eota_client_error {
    EOTA_CLIENT_OK = 0,
    EOTA_CLIENT_ERR_DEVICE,            /* the device sent an error byte (code) */
    EOTA_CLIENT_ERR_CLOSED,            /* closed the connection without answering */
    EOTA_CLIENT_ERR_TIMEOUT,           /* no answer in time (phase says where) */
    EOTA_CLIENT_ERR_IO,                /* transport error (reset, unreachable) */
    EOTA_CLIENT_ERR_PROTOCOL,          /* an unexpected byte (code) */
    EOTA_CLIENT_ERR_VERSION,           /* protocol version other than 1 or 2 (code) */
    EOTA_CLIENT_ERR_PASSWORD_REQUIRED, /* the device asks for a password; none given */
    EOTA_CLIENT_ERR_IMAGE,             /* the image could not be read, or is empty */
    EOTA_CLIENT_ERR_CRYPTO,            /* the hash or random seam failed */
    EOTA_CLIENT_ERR_CANCELLED,         /* eota_client_cancel */
    EOTA_CLIENT_ERR_NOISE_KEY,         /* the device rejected the key (MAC failure) */
    EOTA_CLIENT_ERR_NOISE_UNOFFERED,   /* a key, but the device does not offer Noise */
    EOTA_CLIENT_ERR_NOISE,             /* the Noise session failed otherwise: another
                                          reject reason, a bad frame or tag */
    /* Not produced by the engine: for the integrator's connect step, so that
     * one enum (and eota_client_error_name) covers a whole attempt. */
    EOTA_CLIENT_ERR_REFUSED,           /* connection refused */
    EOTA_CLIENT_ERR_UNREACHABLE,       /* no route, host down, ... */
    EOTA_CLIENT_ERR_RESOLVE            /* the name did not resolve */
} eota_client_error;

/* The engine's state: the caller owns it, the fields are private
 * (EOTA_PRIVATE, eota/private_access.h); use the functions. */
typedef struct eota_client {
    /* The small fields first, the arrays last (see eota_server). */
    uint8_t EOTA_PRIVATE(features);         /* the byte sent */
    uint8_t EOTA_PRIVATE(version);
    uint8_t EOTA_PRIVATE(feature_reply);    /* 40, 46 or 48 */
    uint8_t EOTA_PRIVATE(server_flags);
    uint8_t EOTA_PRIVATE(extended);
    uint8_t EOTA_PRIVATE(gzip_accepted);
    uint8_t EOTA_PRIVATE(replied);          /* the feature reply is in */
    uint8_t EOTA_PRIVATE(auth_kind);        /* eota_auth_kind */
    uint8_t EOTA_PRIVATE(authed);           /* 41 received */
    uint8_t EOTA_PRIVATE(image_set);        /* `img` holds the image being sent */
    uint8_t EOTA_PRIVATE(image_gzip);
    uint8_t EOTA_PRIVATE(size_sent);        /* type and size queued */
    uint8_t EOTA_PRIVATE(received);         /* 44 received */
    uint8_t EOTA_PRIVATE(committed);        /* 45 received */
    uint8_t EOTA_PRIVATE(error_code);
    uint8_t EOTA_PRIVATE(has_key);          /* a Noise key is set */
    uint8_t EOTA_PRIVATE(encrypted);        /* the Noise session is up */
    uint8_t EOTA_PRIVATE(nz_live);          /* nz started (handshake or up) */
    int EOTA_PRIVATE(state);                /* internal step */
    eota_client_status EOTA_PRIVATE(status);
    eota_client_error EOTA_PRIVATE(error);
    eota_client_phase EOTA_PRIVATE(error_phase);
    uint32_t EOTA_PRIVATE(start_ms);        /* eota_client_start */
    uint32_t EOTA_PRIVATE(activity_ms);     /* last byte moved in the data phase */
    uint32_t EOTA_PRIVATE(final_ms);        /* 45 arrived */
    uint32_t EOTA_PRIVATE(sent);            /* image bytes taken by the transport */
    uint32_t EOTA_PRIVATE(fetched);         /* image bytes read into buf */
    size_t EOTA_PRIVATE(buf_pos), EOTA_PRIVATE(buf_len);  /* unsent part of buf */
    uint32_t EOTA_PRIVATE(acks);            /* 47s received */
    uint8_t *EOTA_PRIVATE(buf);
    size_t EOTA_PRIVATE(buf_size);
    eota_client_image EOTA_PRIVATE(img);
    eota_wire EOTA_PRIVATE(wire);           /* the connection, the reply being read, our bytes */
    eota_client_config EOTA_PRIVATE(cfg);
    char EOTA_PRIVATE(password)[EOTA_PASSWORD_MAX + 1];
    uint8_t EOTA_PRIVATE(key)[EOTA_NOISE_PSK_LEN];
    char EOTA_PRIVATE(reason)[EOTA_NOISE_REASON_MAX + 1]; /* the device's reject text */
#if EOTA_WITH_NOISE
    eota_noise EOTA_PRIVATE(nz);            /* the session, while encrypted */
#endif
} eota_client;

/* About the current or last upload. */
typedef struct eota_client_report {
    eota_client_error error;  /* EOTA_CLIENT_OK when it worked */
    eota_client_phase phase;  /* the step it ended in (or is in) */
    uint8_t code;             /* the error byte (ERR_DEVICE), the unexpected
                                 byte (ERR_PROTOCOL), the version (ERR_VERSION) */
    uint8_t version;          /* protocol version, 0 before it is known */
    uint8_t features;         /* the feature byte sent */
    uint8_t feature_reply;    /* 40, 46 or 48; 0 before it is known */
    uint8_t server_flags;     /* the byte after 48, else 0 */
    uint8_t extended;         /* the extended protocol was agreed (48) */
    uint8_t gzip_accepted;    /* the device accepted gzip, and it was offered */
    uint8_t gzip_sent;        /* the wire bytes are the gzip version */
    eota_auth_kind auth;      /* how the device asked to authenticate */
    uint32_t size;            /* wire bytes announced (0 before the size) */
    uint32_t sent;            /* image bytes handed to the transport */
    uint32_t acked;           /* wire bytes confirmed by 47s (version 2) */
    uint8_t all_sent;         /* every image byte was handed to the transport:
                                 the device may have the whole image, so an
                                 upload must not be retried after this */
    uint8_t received;         /* the device confirmed it has every byte (44) */
    uint8_t committed;        /* the device installed it (45) */
    uint8_t noise_offered;    /* server flag 0x04 */
    uint8_t encrypted;        /* the exchange ran inside a Noise session */
    const char *reason;       /* the device's Noise reject text, or "" (valid
                                 until the next start) */
} eota_client_report;

/* Set up an engine. The config is copied, the password too; buf (at least
 * EOTA_CLIENT_MIN_BUFFER bytes) stays the caller's and must outlive the
 * engine, as must whatever the image callbacks read. EOTA_OK or EOTA_EINVAL
 * (missing seam, password longer than EOTA_PASSWORD_MAX, window too big). */
int eota_client_init(eota_client *cl, const eota_client_config *cfg, uint8_t *buf, size_t buf_size);

/* Begin an upload on a connected transport: the engine sends the magic at
 * the next poll. It owns conn from now on and closes it exactly once, when
 * the upload ends (or on eota_client_cancel). An engine that ended can be
 * started again on a new connection (a retry); the images and the password
 * stay as they were. EOTA_EBUSY while an upload runs. */
int eota_client_start(eota_client *cl, void *conn);

/* Change the password for the next eota_client_start (--previous-password
 * fallback after 82). EOTA_EINVAL when too long (the old one stays). */
int eota_client_set_password(eota_client *cl, const char *password);

/* Change the Noise key for the next eota_client_start (NULL: none):
 * --previous-key after EOTA_CLIENT_ERR_NOISE_KEY. EOTA_EINVAL for an
 * all-zero key, or in a build without EOTA_WITH_NOISE (the old key stays). */
int eota_client_set_noise_key(eota_client *cl, const uint8_t *key);

/* Give the image to send, is_gzip saying which version it is: is_gzip must
 * match eota_client_gzip_accepted once the feature reply is in. EOTA_OK,
 * EOTA_EINVAL (no read callback, size 0, or gzip not agreed), or EOTA_EBUSY
 * when the size has already been sent. */
int eota_client_set_image(eota_client *cl, const eota_client_image *img, int is_gzip);

/* Do all the work that can be done now without blocking. Call it whenever
 * the connection is readable or writable, or eota_client_timeout_ms has
 * passed (calling it more often does no harm). */
eota_client_status eota_client_poll(eota_client *cl);

/* EOTA_WANT_READ / EOTA_WANT_WRITE for the connection, or 0. */
unsigned eota_client_wants(const eota_client *cl);

/* Milliseconds until the engine has something to do without I/O (a timeout,
 * the final ack's grace period); 0 when it should be polled at once; -1 when
 * not running. */
long eota_client_timeout_ms(const eota_client *cl);

/* True once the device's feature reply is in and it accepted gzip (offered). */
int eota_client_gzip_accepted(const eota_client *cl);

/* 1 once the device has accepted the client (41, after the password when
 * it asked for one) and the engine waits for the image: cancelling then is
 * the protocol's probe (PROTOCOL.md section 5: a client that closes after
 * the handshake, before the type or size, raises no error on the device). */
int eota_client_authenticated(const eota_client *cl);

/* Stop the upload: the connection is closed (the device aborts it), the
 * result is EOTA_CLIENT_ERR_CANCELLED. No effect when not running. */
void eota_client_cancel(eota_client *cl);

void eota_client_get_report(const eota_client *cl, eota_client_report *rep);

/* "handshake (waiting for the protocol version)", ... never NULL. */
const char *eota_client_phase_describe(eota_client_phase phase);
/* Short, stable, lowercase: "hello", "features", "auth", "data", ... */
const char *eota_client_phase_name(eota_client_phase phase);
/* Short, stable, lowercase: "device_error", "closed", "timeout", ... */
const char *eota_client_error_name(eota_client_error err);

#ifdef __cplusplus
}
#endif

#endif
