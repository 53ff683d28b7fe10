/*
 * eota/noise.h: the Noise layer of the native OTA exchange (PROTOCOL.md
 * section 10): Noise_NNpsk0_25519_ChaChaPoly_SHA256 with the 22-byte
 * prologue, the frames (`01` + 16-bit big-endian length + payload), the
 * reject frame and the transport ciphers. Used by both engines: the device
 * (eota_server) as responder, the uploader (eota_client) as initiator.
 *
 * Like the engines it never blocks and allocates nothing: the caller owns
 * the eota_noise struct (its fields are private, EOTA_PRIVATE), which holds
 * the handshake state, the two cipher states and two frame buffers. All
 * primitives come through the seam of eota/noise_crypto.h; the ephemeral
 * key comes from the eota_random seam (a test that gives fixed random bytes
 * gets fixed ephemeral keys, hence fixed transcripts).
 *
 * How an engine uses it, after the plaintext preamble (magic, `00 VV`, the
 * client's feature byte, `48 SS`) with Noise agreed (client bits 0x0C,
 * server flag 0x04):
 *
 *   uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
 *   eota_noise_prologue(pro, version, client_features, server_flags);
 *   eota_noise_init(&nz, &cfg);            cfg: role, psk, crypto, random
 *   eota_noise_start(&nz, transport, conn, pro);
 *   then call eota_noise_handshake(&nz) whenever the connection is ready
 *   (it reads and writes the connection itself) until it returns EOTA_OK:
 *     EOTA_AGAIN     not finished: call again later (eota_noise_wants says
 *                    which way it waits)
 *     EOTA_OK        the session is up: from now on read and write the
 *                    PLAINTEXT of the exchange through eota_noise_transport
 *                    with &nz as the connection (the engines simply swap
 *                    their transport and connection pointer)
 *     negative       failed: eota_noise_failure() says why. A responder has
 *                    queued the reject frame (e.g. `Handshake MAC failure`
 *                    for a wrong key): flush it (eota_noise_flush) and close.
 *                    An initiator that got a reject frame reads its text
 *                    with eota_noise_reason().
 *
 * Framing of what is written (PROTOCOL.md: each control field is exactly
 * one frame; image data in frames of 1..1024 plaintext bytes; each device
 * reply is its own frame):
 *   - eota_noise_transport.write(nz, buf, len) puts the first
 *     min(len, frame_limit) bytes into ONE frame (frame_limit from the
 *     config: 1 for a device, whose replies are single bytes; up to 1024
 *     for an uploader) and returns that count, or EOTA_AGAIN when the frame
 *     buffer has no room yet;
 *   - eota_noise_send(nz, data, len) makes exactly one frame of len bytes
 *     (1..1024), for a control field that must not be cut or merged.
 * Frames wait in the session's tx buffer until the connection takes them:
 * eota_noise_flush pushes them (the handshake calls it too, write only
 * when tx is full: an engine flushes after its writes, so that several
 * frames leave in one system call), and eota_noise_tx_pending says whether
 * some remain (an engine must not close before they left, nor count its
 * reply as sent).
 *
 * Reading: eota_noise_transport.read(nz, buf, len) returns decrypted
 * plaintext, any number of bytes up to len across frame boundaries (a
 * read with room for a few frames uses all of buf as scratch space: the
 * connection's bytes are read and decrypted there in place),
 * EOTA_AGAIN, EOTA_CLOSED, or EOTA_EIO after a bad frame (wrong tag, bad
 * length or type: eota_noise_failure says which), which ends the session.
 *
 * eota_noise_transport.close(nz) closes the underlying connection (after a
 * last best-effort flush) and wipes the keys.
 */
#ifndef EOTA_NOISE_H
#define EOTA_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "eota/noise_crypto.h"
#include "eota/opt.h"
#include "eota/private_access.h"
#include "eota/random.h"
#include "eota/status.h"
#include "eota/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EOTA_NOISE_PSK_LEN 32u
#define EOTA_NOISE_PROLOGUE_LEN 22u
#define EOTA_NOISE_FRAME_HEADER_LEN 3u     /* 01 + 16-bit big-endian length */
#define EOTA_NOISE_FRAME_TYPE 0x01u
#define EOTA_NOISE_MAX_PLAINTEXT 1024u     /* per transport frame */
#define EOTA_NOISE_MAX_PAYLOAD (EOTA_NOISE_MAX_PLAINTEXT + EOTA_AEAD_TAG_LEN)
#define EOTA_NOISE_FRAME_MAX (EOTA_NOISE_FRAME_HEADER_LEN + EOTA_NOISE_MAX_PAYLOAD) /* 1043 */
#define EOTA_NOISE_HANDSHAKE_MSG_LEN 48u   /* ephemeral key + tag of an empty payload */
#define EOTA_NOISE_HANDSHAKE_PAYLOAD_MAX 129u /* what a responder accepts: 00 + message */
#define EOTA_NOISE_HS_OK 0x00u             /* first payload byte of a handshake frame */
#define EOTA_NOISE_HS_REJECT 0x01u         /* ... of a reject frame (then ASCII reason) */
#define EOTA_NOISE_REASON_MAX 64u
/* The reject text a wrong key gets (PROTOCOL.md section 10), exactly. */
#define EOTA_NOISE_REASON_MAC "Handshake MAC failure"

typedef enum eota_noise_role {
    EOTA_NOISE_INITIATOR = 0, /* the uploader */
    EOTA_NOISE_RESPONDER = 1  /* the device */
} eota_noise_role;

/* Why a session failed (eota_noise_failure). */
typedef enum eota_noise_failure_kind {
    EOTA_NOISE_FAIL_NONE = 0,
    EOTA_NOISE_FAIL_MAC = 1,      /* a handshake tag did not verify: the keys differ */
    EOTA_NOISE_FAIL_REJECTED = 2, /* the peer sent a reject frame (eota_noise_reason) */
    EOTA_NOISE_FAIL_FRAME = 3,    /* a malformed frame: type, length, first byte */
    EOTA_NOISE_FAIL_TAG = 4,      /* a transport frame's tag did not verify */
    EOTA_NOISE_FAIL_CRYPTO = 5,   /* the crypto or random seam failed */
    EOTA_NOISE_FAIL_IO = 6        /* the connection closed or failed */
} eota_noise_failure_kind;

typedef struct eota_noise_config {
    eota_noise_role role;
    const uint8_t *psk;           /* 32 bytes, copied; all-zero is refused; the copy
                                     is wiped once eota_noise_start has mixed it in */
    eota_noise_crypto crypto;
    eota_random random;           /* the ephemeral private key */
    uint16_t frame_limit;         /* most plaintext bytes write() puts in a
                                     frame: 1..1024; 0 = 1024 */
} eota_noise_config;

/* One direction's cipher state: key and 64-bit counter nonce. */
typedef struct eota_noise_cipher {
    uint64_t EOTA_PRIVATE(n);
    uint8_t EOTA_PRIVATE(k)[EOTA_AEAD_KEY_LEN];
} eota_noise_cipher;

typedef struct eota_noise {
    uint8_t EOTA_PRIVATE(role);
    uint8_t EOTA_PRIVATE(state);
    uint8_t EOTA_PRIVATE(failure);
    uint8_t EOTA_PRIVATE(has_key);      /* the handshake cipher has a key */
    int8_t EOTA_PRIVATE(err);           /* the status a failed session returns */
    uint16_t EOTA_PRIVATE(frame_limit);
    uint16_t EOTA_PRIVATE(rx_start), EOTA_PRIVATE(rx_end);   /* unparsed bytes of rx */
    uint16_t EOTA_PRIVATE(plain_pos), EOTA_PRIVATE(plain_end); /* decrypted, unread */
    uint16_t EOTA_PRIVATE(tx_pos), EOTA_PRIVATE(tx_len);     /* frames not yet sent */
    eota_noise_crypto EOTA_PRIVATE(crypto);
    eota_random EOTA_PRIVATE(random);
    const eota_transport_ops *EOTA_PRIVATE(transport);
    void *EOTA_PRIVATE(conn);
    uint64_t EOTA_PRIVATE(n);           /* handshake cipher nonce */
    uint8_t EOTA_PRIVATE(psk)[EOTA_NOISE_PSK_LEN];
    uint8_t EOTA_PRIVATE(ck)[EOTA_SHA256_LEN];
    uint8_t EOTA_PRIVATE(h)[EOTA_SHA256_LEN];
    uint8_t EOTA_PRIVATE(k)[EOTA_AEAD_KEY_LEN];
    uint8_t EOTA_PRIVATE(e_priv)[EOTA_X25519_LEN];
    uint8_t EOTA_PRIVATE(re)[EOTA_X25519_LEN];
    eota_noise_cipher EOTA_PRIVATE(tx_cs), EOTA_PRIVATE(rx_cs);
    char EOTA_PRIVATE(reason)[EOTA_NOISE_REASON_MAX + 1];
    uint8_t EOTA_PRIVATE(rx)[EOTA_NOISE_FRAME_MAX];
    uint8_t EOTA_PRIVATE(tx)[EOTA_NOISE_TX_BUFFER];
} eota_noise;

/* The 22-byte prologue: "NoiseOTAInit", the magic, 00, the version byte,
 * the client's feature byte and 48 + the server flags, each exactly as sent. */
void eota_noise_prologue(uint8_t out[EOTA_NOISE_PROLOGUE_LEN], uint8_t version, uint8_t client_features,
                         uint8_t server_flags);

/* 1 when the 32-byte key is all zero (invalid as a Noise OTA key). */
int eota_noise_key_is_zero(const uint8_t key[EOTA_NOISE_PSK_LEN]);

/* Set up a session (no connection yet). EOTA_OK, or EOTA_EINVAL for a
 * missing op, an all-zero key or a bad frame_limit. */
int eota_noise_init(eota_noise *nz, const eota_noise_config *cfg);

/* Begin the handshake over conn (of `transport`), with the prologue. The
 * initiator makes its ephemeral key and queues message 1 here. EOTA_OK, or
 * EOTA_ECRYPTO (the seam failed). */
int eota_noise_start(eota_noise *nz, const eota_transport_ops *transport, void *conn,
                     const uint8_t prologue[EOTA_NOISE_PROLOGUE_LEN]);

/* Advance the handshake (see the top of this file): EOTA_OK once the
 * transport ciphers are ready, EOTA_AGAIN, or a negative status. */
int eota_noise_handshake(eota_noise *nz);

/* 1 once the handshake is done and the transport may be used. */
int eota_noise_ready(const eota_noise *nz);

/* The plaintext connection: conn is the eota_noise *. */
extern const eota_transport_ops eota_noise_transport;

/* Queue exactly one transport frame of len (1..1024) plaintext bytes.
 * EOTA_OK, EOTA_AGAIN (no room: flush first), EOTA_EINVAL, EOTA_ECRYPTO. */
int eota_noise_send(eota_noise *nz, const uint8_t *data, size_t len);

/* Queue a reject frame (01 + reason, at most EOTA_NOISE_REASON_MAX bytes)
 * and end the session. EOTA_OK or EOTA_ENOSPC. */
int eota_noise_reject(eota_noise *nz, const char *reason);

/* Push queued frames to the connection: 1 when some bytes left, 0 when
 * none could, or the connection's negative status. */
int eota_noise_flush(eota_noise *nz);

/* Bytes of frames queued and not yet taken by the connection. */
size_t eota_noise_tx_pending(const eota_noise *nz);

/* Decrypted bytes that a read would return without touching the
 * connection (so that a poll(2) loop knows not to wait). */
size_t eota_noise_rx_buffered(const eota_noise *nz);

/* Why the session failed, and the reject text received (initiator) or
 * sent (responder); "" when none. */
eota_noise_failure_kind eota_noise_failure(const eota_noise *nz);
const char *eota_noise_reason(const eota_noise *nz);

/* Wipe keys and state (the connection is not touched). */
void eota_noise_wipe(eota_noise *nz);

#ifdef __cplusplus
}
#endif

#endif
