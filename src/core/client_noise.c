/*
 * client_noise.c: the uploader engine's Noise initiator (PROTOCOL.md
 * section 10, eota/noise.h). With a key and a device that offers it, the
 * handshake runs right after the feature reply (ST_NOISE; client_hs.c
 * decides); then the engine swaps the wire's transport for the session's
 * (eota_noise_transport), so that every read sees plaintext. Our control
 * fields go out as one frame each (eota_noise_send, not the wire's queue,
 * which would merge them) and image bytes through the session's write,
 * which cuts them into frames of at most 1024 bytes. A build without
 * Noise (EOTA_WITH_NOISE 0) has the stubs of client_int.h instead.
 */
#include "eota/client.h"

#if EOTA_WITH_CLIENT && EOTA_WITH_NOISE

#include <string.h>

#include "client_int.h"

int eota_cl_noise_key_usable(const uint8_t *key) { return !eota_noise_key_is_zero(key); }

size_t eota_cl_noise_pending(const eota_client *c) { return c->nz_live ? eota_noise_tx_pending(&c->nz) : 0; }

void eota_cl_noise_queue(eota_client *c, const void *data, size_t n)
{
    /* One frame per field. The device answered the field before, so the
     * session's buffer is empty: no room only from a peer that replied
     * before it had our bytes. */
    if (eota_noise_send(&c->nz, data, n) != EOTA_OK)
        eota_cl_fail(c, EOTA_CLIENT_ERR_NOISE, 0);
}

int eota_cl_noise_flush(eota_client *c, long *err)
{
    if (!c->encrypted)
        return 0;
    int r = eota_noise_flush(&c->nz);
    if (r < 0) {
        *err = r;
        return 0;
    }
    return r;
}

int eota_cl_noise_undecryptable(const eota_client *c, long rc)
{
    return c->encrypted && rc == EOTA_EIO && eota_noise_failure(&c->nz) != EOTA_NOISE_FAIL_IO;
}

int eota_cl_noise_rx_waiting(const eota_client *c) { return c->encrypted && eota_noise_rx_buffered(&c->nz) > 0; }

void eota_cl_noise_end(eota_client *c)
{
    if (c->nz_live)
        eota_noise_wipe(&c->nz);
    c->nz_live = 0;
}

/* --- the handshake --- */

void eota_cl_noise_start(eota_client *c)
{
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    const eota_noise_config nc = {.role = EOTA_NOISE_INITIATOR, .psk = c->key, .crypto = c->cfg.noise_crypto,
                                  .random = c->cfg.random, .frame_limit = EOTA_NOISE_MAX_PLAINTEXT};
    eota_noise_prologue(pro, c->version, c->features, c->server_flags);
    if (eota_noise_init(&c->nz, &nc) != EOTA_OK) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    c->nz_live = 1;
    c->state = ST_NOISE;
    if (eota_noise_start(&c->nz, c->cfg.transport, c->wire.conn, pro) != EOTA_OK)
        eota_cl_fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
}

static void noise_failed(eota_client *c, int rc)
{
    const char *why = eota_noise_reason(&c->nz);
    size_t n = strlen(why);
    if (n >= sizeof c->reason)
        n = sizeof c->reason - 1;
    memcpy(c->reason, why, n);
    c->reason[n] = '\0';
    switch (eota_noise_failure(&c->nz)) {
    case EOTA_NOISE_FAIL_REJECTED:
        eota_cl_fail(c,
                     n == sizeof EOTA_NOISE_REASON_MAC - 1 && !memcmp(c->reason, EOTA_NOISE_REASON_MAC, n)
                         ? EOTA_CLIENT_ERR_NOISE_KEY
                         : EOTA_CLIENT_ERR_NOISE,
                     0);
        return;
    case EOTA_NOISE_FAIL_IO: eota_cl_read_failed(c, rc == EOTA_CLOSED ? EOTA_CLOSED : EOTA_EIO); return;
    case EOTA_NOISE_FAIL_CRYPTO: eota_cl_fail(c, EOTA_CLIENT_ERR_CRYPTO, 0); return;
    default: eota_cl_fail(c, EOTA_CLIENT_ERR_NOISE, 0); return;
    }
}

/* The session is up: from now on the wire reads and writes plaintext
 * through it; the device's 41 comes first (no password step). */
int eota_cl_noise_step(eota_client *c)
{
    int rc = eota_noise_handshake(&c->nz);
    if (rc == EOTA_AGAIN)
        return 0;
    if (rc != EOTA_OK) {
        noise_failed(c, rc);
        return 0;
    }
    c->encrypted = 1;
    c->wire.transport = &eota_noise_transport;
    c->wire.conn = &c->nz;
    eota_cl_expect(c, ST_AUTH_CODE, 1);
    return 1;
}

/* --- the data phase --- */

/* The session refused a frame: it failed already, reading (the connection
 * went: a network error, after a look for the device's last byte) or
 * decrypting (not the network's fault). */
static void noise_broke(eota_client *c, long st)
{
    if (eota_noise_failure(&c->nz) <= EOTA_NOISE_FAIL_NONE || eota_noise_failure(&c->nz) == EOTA_NOISE_FAIL_IO)
        eota_cl_transport_failed(c, st < 0 ? st : EOTA_EIO);
    else
        eota_cl_fail(c, EOTA_CLIENT_ERR_NOISE, 0);
}

/* Frames one data step sends at most inside Noise: as many image bytes as
 * one plaintext write (16 KiB) before the engine looks for the device's
 * bytes again, so that a 1 KiB frame does not cost a read as well. */
#define NOISE_FRAMES_PER_STEP 16

/* Frames of up to 1024 image bytes, sealed into the session's buffer while
 * it has room and sent when it is full (and by the next flush), so that a
 * larger EOTA_NOISE_TX_BUFFER sends several frames per write. */
int eota_cl_noise_data_write(eota_client *c)
{
    int moved = 0;
    for (unsigned i = 0; i < NOISE_FRAMES_PER_STEP && eota_cl_refill(c); i++) {
        size_t n = c->buf_len - c->buf_pos;
        if (n > EOTA_NOISE_MAX_PLAINTEXT)
            n = EOTA_NOISE_MAX_PLAINTEXT;
        int st = eota_noise_send(&c->nz, c->buf + c->buf_pos, n);
        if (st == EOTA_AGAIN) {
            int f = eota_noise_flush(&c->nz);
            if (f < 0)
                eota_cl_transport_failed(c, f);
            if (f <= 0)
                break;
            st = eota_noise_send(&c->nz, c->buf + c->buf_pos, n);
        }
        if (st == EOTA_AGAIN)
            break;
        if (st != EOTA_OK) {
            noise_broke(c, st);
            return 0;
        }
        eota_cl_advance(c, n);
        moved = 1;
    }
    if (moved)
        c->activity_ms = eota_cl_now(c); /* once a step, not once a frame */
    return moved;
}

#endif /* EOTA_WITH_CLIENT && EOTA_WITH_NOISE */
