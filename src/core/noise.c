/*
 * noise.c: the Noise session of PROTOCOL.md section 10 (eota/noise.h): the
 * frames (`01` + 16-bit big-endian length + payload) in and out of the
 * session's two buffers, the handshake frames and the reject frame, and
 * the plaintext transport (eota_noise_transport) over the two ciphers.
 * The handshake's symmetric state is in noise_hs.c.
 *
 * rx holds bytes read from the connection: rx_start..rx_end not parsed
 * yet; a transport frame is decrypted in place, and its plaintext
 * (plain_pos..plain_end, before rx_start) is handed out by read. A large
 * read goes the bulk way (rx_bulk): many frames read and decrypted in the
 * caller's buffer, rx keeping only the unfinished frame at the end. tx
 * holds whole frames (tx_pos..tx_len not yet taken by the connection).
 */
#include "eota/noise.h"

#include <string.h>

#include "eota/protocol.h"
#include "noise_hs.h"
#include "wire.h"

#if EOTA_WITH_NOISE

_Static_assert(EOTA_NOISE_TX_BUFFER >= 96 && EOTA_NOISE_TX_BUFFER <= 65535,
               "EOTA_NOISE_TX_BUFFER must hold a handshake and a reject frame (96 at least)");

enum nz_state { NZ_IDLE = 0, NZ_HANDSHAKE, NZ_READY, NZ_FAILED };

static const uint8_t prologue_head[] = {'N', 'o', 'i', 's', 'e', 'O', 'T', 'A', 'I', 'n', 'i', 't',
                                        EOTA_MAGIC_0, EOTA_MAGIC_1, EOTA_MAGIC_2, EOTA_MAGIC_3, EOTA_MAGIC_4};

void eota_noise_prologue(uint8_t out[EOTA_NOISE_PROLOGUE_LEN], uint8_t version, uint8_t client_features,
                         uint8_t server_flags)
{
    memcpy(out, prologue_head, sizeof prologue_head);
    out[17] = 0x00;
    out[18] = version;
    out[19] = client_features;
    out[20] = EOTA_RESP_FEATURE_FLAGS;
    out[21] = server_flags;
}

int eota_noise_key_is_zero(const uint8_t key[EOTA_NOISE_PSK_LEN])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < EOTA_NOISE_PSK_LEN; i++)
        acc |= key[i];
    return acc == 0;
}

static int fail(eota_noise *nz, eota_noise_failure_kind kind, int status)
{
    nz->state = NZ_FAILED;
    if (nz->failure == EOTA_NOISE_FAIL_NONE)
        nz->failure = (uint8_t)kind;
    nz->err = (int8_t)status;
    return status;
}

int eota_noise_init(eota_noise *nz, const eota_noise_config *cfg)
{
    const eota_noise_crypto_ops *o = cfg ? cfg->crypto.ops : NULL;
    if (!nz || !o || !o->x25519_public || !o->x25519_shared || !o->aead_seal || !o->aead_open || !o->sha256 ||
        !o->hmac_sha256 || !cfg->random.fill || !cfg->psk || eota_noise_key_is_zero(cfg->psk))
        return EOTA_EINVAL;
    uint16_t limit = cfg->frame_limit ? cfg->frame_limit : EOTA_NOISE_MAX_PLAINTEXT;
    if (limit > EOTA_NOISE_MAX_PLAINTEXT ||
        limit + EOTA_NOISE_FRAME_HEADER_LEN + EOTA_AEAD_TAG_LEN > EOTA_NOISE_TX_BUFFER)
        return EOTA_EINVAL;
    memset(nz, 0, sizeof *nz);
    nz->role = (uint8_t)cfg->role;
    nz->frame_limit = limit;
    nz->crypto = cfg->crypto;
    nz->random = cfg->random;
    memcpy(nz->psk, cfg->psk, sizeof nz->psk);
    return EOTA_OK;
}

/* Room for a frame of `payload` bytes at the end of tx (compacting it). */
static uint8_t *tx_room(eota_noise *nz, size_t payload)
{
    size_t need = EOTA_NOISE_FRAME_HEADER_LEN + payload;
    if (nz->tx_len + need > sizeof nz->tx && nz->tx_pos > 0) {
        memmove(nz->tx, nz->tx + nz->tx_pos, (size_t)(nz->tx_len - nz->tx_pos));
        nz->tx_len = (uint16_t)(nz->tx_len - nz->tx_pos);
        nz->tx_pos = 0;
    }
    if (nz->tx_len + need > sizeof nz->tx)
        return NULL;
    uint8_t *p = nz->tx + nz->tx_len;
    p[0] = EOTA_NOISE_FRAME_TYPE;
    p[1] = (uint8_t)(payload >> 8);
    p[2] = (uint8_t)payload;
    return p + EOTA_NOISE_FRAME_HEADER_LEN;
}

static void tx_commit(eota_noise *nz, size_t payload)
{
    nz->tx_len = (uint16_t)(nz->tx_len + EOTA_NOISE_FRAME_HEADER_LEN + payload);
}

/* Queue this side's handshake frame: 00 + the 48-byte message. */
static int queue_handshake(eota_noise *nz)
{
    size_t payload = 1 + EOTA_NOISE_HANDSHAKE_MSG_LEN;
    uint8_t *p = tx_room(nz, payload);
    if (!p)
        return EOTA_ENOSPC;
    p[0] = EOTA_NOISE_HS_OK;
    int st = eota_noise_hs_write(nz, p + 1);
    if (st == EOTA_OK)
        tx_commit(nz, payload);
    return st;
}

int eota_noise_start(eota_noise *nz, const eota_transport_ops *transport, void *conn,
                     const uint8_t prologue[EOTA_NOISE_PROLOGUE_LEN])
{
    nz->transport = transport;
    nz->conn = conn;
    nz->state = NZ_HANDSHAKE;
    int st = eota_noise_hs_init(nz, prologue);
    eota_wire_wipe(nz->psk, sizeof nz->psk); /* mixed into the chaining key: the session needs it no more */
    if (st == EOTA_OK && nz->role == EOTA_NOISE_INITIATOR)
        st = queue_handshake(nz);
    return st == EOTA_OK ? EOTA_OK : fail(nz, EOTA_NOISE_FAIL_CRYPTO, EOTA_ECRYPTO);
}

int eota_noise_flush(eota_noise *nz)
{
    int moved = 0;
    while (nz->conn && nz->tx_pos < nz->tx_len) {
        size_t left = (size_t)(nz->tx_len - nz->tx_pos);
        long n = nz->transport->write(nz->conn, nz->tx + nz->tx_pos, left);
        if (n == EOTA_AGAIN || n == 0)
            break;
        if (n < 0)
            return (int)n;
        nz->tx_pos = (uint16_t)(nz->tx_pos + ((size_t)n > left ? left : (size_t)n));
        moved = 1;
    }
    if (nz->tx_pos == nz->tx_len)
        nz->tx_pos = nz->tx_len = 0;
    return moved;
}

size_t eota_noise_tx_pending(const eota_noise *nz) { return (size_t)(nz->tx_len - nz->tx_pos); }

/* --- frames in --- */

/* The size of the whole frame (header and payload) at p when the avail
 * bytes there hold it, 0 when more are needed, EOTA_EFORMAT for a bad type
 * or a payload length out of min..max. */
static long frame_at(const uint8_t *p, size_t avail, size_t min, size_t max)
{
    if (avail < EOTA_NOISE_FRAME_HEADER_LEN)
        return 0;
    size_t n = ((size_t)p[1] << 8) | p[2];
    if (p[0] != EOTA_NOISE_FRAME_TYPE || n < min || n > max)
        return EOTA_EFORMAT;
    return avail < EOTA_NOISE_FRAME_HEADER_LEN + n ? 0 : (long)(EOTA_NOISE_FRAME_HEADER_LEN + n);
}

/* The length of the frame at rx_start once its header is in, else 0. */
static size_t rx_frame_len(const eota_noise *nz)
{
    if (nz->rx_end - nz->rx_start < (int)EOTA_NOISE_FRAME_HEADER_LEN)
        return 0;
    const uint8_t *p = nz->rx + nz->rx_start;
    return ((size_t)p[1] << 8) | p[2];
}

/* 1 when the whole frame at rx_start is in rx (payload and len set, and
 * the frame consumed), 0 when more bytes are needed, EOTA_EFORMAT for a bad
 * type or a length out of min..max. */
static int rx_parse(eota_noise *nz, uint8_t **payload, size_t *len, size_t min, size_t max)
{
    uint8_t *p = nz->rx + nz->rx_start;
    long f = frame_at(p, (size_t)(nz->rx_end - nz->rx_start), min, max);
    if (f <= 0)
        return (int)f;
    *payload = p + EOTA_NOISE_FRAME_HEADER_LEN;
    *len = (size_t)f - EOTA_NOISE_FRAME_HEADER_LEN;
    nz->rx_start = (uint16_t)(nz->rx_start + (size_t)f);
    return 1;
}

/* Read what the connection has into rx, after moving the unparsed bytes to
 * the front when the frame in progress would not fit behind them. Called
 * only when every plaintext byte was handed out. */
static long rx_fill(eota_noise *nz)
{
    size_t want = rx_frame_len(nz) + EOTA_NOISE_FRAME_HEADER_LEN;
    if (nz->rx_start == nz->rx_end) {
        nz->rx_start = nz->rx_end = 0;
    } else if (nz->rx_start + want > sizeof nz->rx) {
        memmove(nz->rx, nz->rx + nz->rx_start, (size_t)(nz->rx_end - nz->rx_start));
        nz->rx_end = (uint16_t)(nz->rx_end - nz->rx_start);
        nz->rx_start = 0;
    }
    nz->plain_pos = nz->plain_end = 0;
    long n = nz->transport->read(nz->conn, nz->rx + nz->rx_end, sizeof nz->rx - nz->rx_end);
    if (n > 0)
        nz->rx_end = (uint16_t)(nz->rx_end + ((size_t)n > sizeof nz->rx - nz->rx_end ? sizeof nz->rx - nz->rx_end : (size_t)n));
    return n;
}

/* What a read of the connection that brought nothing means: 0 (would
 * block) or the failed session's status. */
static int rx_none(eota_noise *nz, long n)
{
    if (n == EOTA_AGAIN)
        return 0;
    return fail(nz, EOTA_NOISE_FAIL_IO, n == 0 ? EOTA_CLOSED : (int)n);
}

/* The next whole frame (1), or 0 (would block), or a negative status
 * (the session has failed). */
static int rx_frame(eota_noise *nz, uint8_t **payload, size_t *len, size_t min, size_t max)
{
    for (;;) {
        int r = rx_parse(nz, payload, len, min, max);
        if (r != 0)
            return r < 0 ? fail(nz, EOTA_NOISE_FAIL_FRAME, EOTA_EIO) : 1;
        long n = rx_fill(nz);
        if (n <= 0)
            return rx_none(nz, n);
    }
}

/* --- the handshake --- */

int eota_noise_reject(eota_noise *nz, const char *reason)
{
    size_t n = strlen(reason);
    if (n > EOTA_NOISE_REASON_MAX)
        n = EOTA_NOISE_REASON_MAX;
    uint8_t *p = tx_room(nz, 1 + n);
    if (!p)
        return EOTA_ENOSPC;
    p[0] = EOTA_NOISE_HS_REJECT;
    memcpy(p + 1, reason, n);
    tx_commit(nz, 1 + n);
    memcpy(nz->reason, reason, n);
    nz->reason[n] = '\0';
    nz->state = NZ_FAILED;
    return EOTA_OK;
}

/* A responder's failure: the reject frame, then the session is over. */
static int refuse(eota_noise *nz, eota_noise_failure_kind kind, const char *reason, int status)
{
    (void)eota_noise_reject(nz, reason);
    return fail(nz, kind, status);
}

static int transport_ready(eota_noise *nz)
{
    if (eota_noise_hs_split(nz) != EOTA_OK)
        return fail(nz, EOTA_NOISE_FAIL_CRYPTO, EOTA_ECRYPTO);
    nz->state = NZ_READY;
    return EOTA_OK;
}

/* The responder got message 1: check it, answer with message 2. */
static int respond(eota_noise *nz, uint8_t *p, size_t len)
{
    int mac = 0;
    if (len == 0)
        return refuse(nz, EOTA_NOISE_FAIL_FRAME, "Empty handshake message", EOTA_EFORMAT);
    if (p[0] != EOTA_NOISE_HS_OK)
        return refuse(nz, EOTA_NOISE_FAIL_FRAME, "Bad handshake error byte", EOTA_EFORMAT);
    int st = eota_noise_hs_read(nz, p + 1, len - 1, &mac);
    if (mac)
        return refuse(nz, EOTA_NOISE_FAIL_MAC, EOTA_NOISE_REASON_MAC, EOTA_ECRYPTO);
    if (st == EOTA_EFORMAT)
        return refuse(nz, EOTA_NOISE_FAIL_FRAME, "Handshake error", EOTA_EFORMAT);
    if (st == EOTA_OK)
        st = queue_handshake(nz);
    if (st != EOTA_OK)
        return refuse(nz, EOTA_NOISE_FAIL_CRYPTO, "Handshake error", EOTA_ECRYPTO);
    return transport_ready(nz);
}

/* The initiator got message 2, or a reject frame. */
static int conclude(eota_noise *nz, uint8_t *p, size_t len)
{
    int mac = 0;
    if (len >= 1 && p[0] == EOTA_NOISE_HS_REJECT) {
        size_t n = len - 1 > EOTA_NOISE_REASON_MAX ? EOTA_NOISE_REASON_MAX : len - 1;
        for (size_t i = 0; i < n; i++) /* printable ASCII only: it reaches a log */
            nz->reason[i] = (p[1 + i] >= 0x20 && p[1 + i] < 0x7F) ? (char)p[1 + i] : '?';
        nz->reason[n] = '\0';
        return fail(nz, EOTA_NOISE_FAIL_REJECTED, EOTA_ECRYPTO);
    }
    if (len == 0 || p[0] != EOTA_NOISE_HS_OK)
        return fail(nz, EOTA_NOISE_FAIL_FRAME, EOTA_EFORMAT);
    int st = eota_noise_hs_read(nz, p + 1, len - 1, &mac);
    if (st != EOTA_OK)
        return fail(nz, mac ? EOTA_NOISE_FAIL_MAC : st == EOTA_EFORMAT ? EOTA_NOISE_FAIL_FRAME : EOTA_NOISE_FAIL_CRYPTO,
                    st);
    return transport_ready(nz);
}

int eota_noise_handshake(eota_noise *nz)
{
    if (nz->state == NZ_READY)
        return EOTA_OK;
    if (nz->state != NZ_HANDSHAKE)
        return nz->err ? nz->err : EOTA_EINVAL;
    int f = eota_noise_flush(nz);
    if (f < 0)
        return fail(nz, EOTA_NOISE_FAIL_IO, f);
    uint8_t *p = NULL;
    size_t len = 0;
    int responder = nz->role == EOTA_NOISE_RESPONDER;
    int r = rx_frame(nz, &p, &len, 0, responder ? EOTA_NOISE_HANDSHAKE_PAYLOAD_MAX : EOTA_NOISE_MAX_PAYLOAD);
    if (r == 0)
        return EOTA_AGAIN;
    if (r < 0) {
        if (responder && nz->failure == EOTA_NOISE_FAIL_FRAME)
            (void)eota_noise_reject(nz, "Handshake error");
        return nz->failure == EOTA_NOISE_FAIL_FRAME ? EOTA_EFORMAT : r;
    }
    r = responder ? respond(nz, p, len) : conclude(nz, p, len);
    if (r == EOTA_OK)
        (void)eota_noise_flush(nz); /* errors show at the next write */
    return r;
}

int eota_noise_ready(const eota_noise *nz) { return nz->state == NZ_READY; }

/* --- the transport --- */

int eota_noise_send(eota_noise *nz, const uint8_t *data, size_t len)
{
    if (nz->state != NZ_READY)
        return nz->err ? nz->err : EOTA_EINVAL;
    if (len == 0 || len > EOTA_NOISE_MAX_PLAINTEXT)
        return EOTA_EINVAL;
    uint8_t *p = tx_room(nz, len + EOTA_AEAD_TAG_LEN);
    if (!p)
        return len + EOTA_AEAD_TAG_LEN + EOTA_NOISE_FRAME_HEADER_LEN > sizeof nz->tx ? EOTA_EINVAL : EOTA_AGAIN;
    if (nz->crypto.ops->aead_seal(nz->crypto.ctx, nz->tx_cs.k, nz->tx_cs.n, NULL, 0, data, len, p) != EOTA_OK)
        return fail(nz, EOTA_NOISE_FAIL_CRYPTO, EOTA_ECRYPTO);
    nz->tx_cs.n++;
    tx_commit(nz, len + EOTA_AEAD_TAG_LEN);
    return EOTA_OK;
}

/* Reads of at least BULK_MIN bytes (room for a largest frame beside the
 * part of one that rx may hold, and the alignment) go the bulk way. */
#define BULK_ALIGN 64u
#define BULK_MIN (2u * EOTA_NOISE_FRAME_MAX + BULK_ALIGN)

/* Decrypt a transport frame's payload (len bytes: ciphertext, then the
 * tag) in place: EOTA_OK, or the failed session's status. */
static int open_payload(eota_noise *nz, uint8_t *p, size_t len)
{
    size_t plain = len - EOTA_AEAD_TAG_LEN;
    if (nz->crypto.ops->aead_open(nz->crypto.ctx, nz->rx_cs.k, nz->rx_cs.n, NULL, 0, p, plain, p) != EOTA_OK)
        return fail(nz, EOTA_NOISE_FAIL_TAG, EOTA_EIO);
    nz->rx_cs.n++;
    return EOTA_OK;
}

/* Decrypt the next frame in place in rx: 1, 0 (would block) or negative. */
static int rx_next(eota_noise *nz)
{
    uint8_t *p = NULL;
    size_t len = 0;
    int r = rx_frame(nz, &p, &len, EOTA_AEAD_TAG_LEN + 1, EOTA_NOISE_MAX_PAYLOAD);
    if (r <= 0)
        return r;
    if (open_payload(nz, p, len) != EOTA_OK)
        return nz->err;
    nz->plain_pos = (uint16_t)(p - nz->rx);
    nz->plain_end = (uint16_t)(nz->plain_pos + len - EOTA_AEAD_TAG_LEN);
    return 1;
}

/* The whole frames of buf[at..have): decrypted in place, their plaintexts
 * moved together to the front of buf. Their size, or the failed session's
 * status; *used says where the frames taken end. */
static long open_frames(eota_noise *nz, uint8_t *buf, size_t at, size_t have, size_t *used)
{
    size_t out = 0;
    for (;;) {
        long f = frame_at(buf + at, have - at, EOTA_AEAD_TAG_LEN + 1, EOTA_NOISE_MAX_PAYLOAD);
        if (f < 0)
            return fail(nz, EOTA_NOISE_FAIL_FRAME, EOTA_EIO);
        if (f == 0)
            break;
        uint8_t *payload = buf + at + EOTA_NOISE_FRAME_HEADER_LEN;
        size_t len = (size_t)f - EOTA_NOISE_FRAME_HEADER_LEN;
        if (open_payload(nz, payload, len) != EOTA_OK)
            return nz->err;
        memmove(buf + out, payload, len - EOTA_AEAD_TAG_LEN);
        out += len - EOTA_AEAD_TAG_LEN;
        at += (size_t)f;
    }
    *used = at;
    return (long)out;
}

/* Where the connection's bytes go in a bulk read: at a 64-byte boundary
 * (the kernel's copy is faster there), with room for part bytes before. */
static size_t bulk_skip(const uint8_t *buf, size_t part)
{
    return (size_t)(0u - ((uintptr_t)(buf + part))) & (BULK_ALIGN - 1);
}

/* The bulk way in, for a read with room for a largest frame and nothing
 * whole in rx: the part of a frame that rx holds and what the connection
 * has go to the caller's buffer, whose frames are decrypted there, and
 * the unfinished frame at the end goes back to rx (it fits: less than a
 * frame). One system call for many frames, and no copy of the plaintext.
 * Plaintext bytes at buf (0 when no frame was finished), EOTA_AGAIN, or
 * the failed session's status. */
static long rx_bulk(eota_noise *nz, uint8_t *buf, size_t len)
{
    size_t part = (size_t)(nz->rx_end - nz->rx_start), used = 0;
    size_t skip = bulk_skip(buf, part), start = skip + part;
    long n = nz->transport->read(nz->conn, buf + start, len - start);
    if (n <= 0)
        return rx_none(nz, n) == 0 ? EOTA_AGAIN : nz->err;
    memcpy(buf + skip, nz->rx + nz->rx_start, part);
    size_t have = start + ((size_t)n < len - start ? (size_t)n : len - start);
    long out = open_frames(nz, buf, skip, have, &used);
    if (out < 0)
        return out;
    memcpy(nz->rx, buf + used, have - used);
    nz->rx_start = 0;
    nz->rx_end = (uint16_t)(have - used);
    nz->plain_pos = nz->plain_end = 0;
    return out;
}

/* 1 when rx holds a whole transport frame, or a bad header: what rx_next
 * takes without reading the connection. Else rx holds less than a frame. */
static int rx_whole(const eota_noise *nz)
{
    return frame_at(nz->rx + nz->rx_start, (size_t)(nz->rx_end - nz->rx_start), EOTA_AEAD_TAG_LEN + 1,
                    EOTA_NOISE_MAX_PAYLOAD) != 0;
}

static long nz_read(void *conn, uint8_t *buf, size_t len)
{
    eota_noise *nz = conn;
    size_t got = 0;
    if (nz->state != NZ_READY)
        return nz->err ? nz->err : EOTA_EIO;
    while (got < len) {
        size_t have = (size_t)(nz->plain_end - nz->plain_pos);
        if (have > 0) {
            size_t n = have < len - got ? have : len - got;
            memcpy(buf + got, nz->rx + nz->plain_pos, n);
            nz->plain_pos = (uint16_t)(nz->plain_pos + n);
            got += n;
            continue;
        }
        if (len - got >= BULK_MIN && !rx_whole(nz)) {
            long b = rx_bulk(nz, buf + got, len - got);
            if (b > 0)
                return (long)(got + (size_t)b); /* the connection had no more, most likely */
            if (b == 0)
                continue;
            return got > 0 ? (long)got : b; /* a failure shows at the next read */
        }
        int r = rx_next(nz);
        if (r <= 0) {
            if (got > 0)
                break;
            return r == 0 ? EOTA_AGAIN : r;
        }
    }
    return (long)got;
}

static long nz_write(void *conn, const uint8_t *buf, size_t len)
{
    eota_noise *nz = conn;
    size_t n = len < nz->frame_limit ? len : nz->frame_limit;
    int st = eota_noise_send(nz, buf, n);
    if (st == EOTA_AGAIN) {
        int f = eota_noise_flush(nz);
        if (f < 0)
            return fail(nz, EOTA_NOISE_FAIL_IO, f);
        st = eota_noise_send(nz, buf, n);
    }
    if (st != EOTA_OK)
        return st == EOTA_AGAIN ? EOTA_AGAIN : EOTA_EIO;
    return (long)n; /* the frame leaves with the next flush: several in one system call */
}

void eota_noise_wipe(eota_noise *nz)
{
    memset(nz->psk, 0, sizeof nz->psk);
    memset(nz->ck, 0, sizeof nz->ck);
    memset(nz->h, 0, sizeof nz->h);
    memset(nz->k, 0, sizeof nz->k);
    memset(nz->e_priv, 0, sizeof nz->e_priv);
    memset(&nz->tx_cs, 0, sizeof nz->tx_cs);
    memset(&nz->rx_cs, 0, sizeof nz->rx_cs);
    memset(nz->rx, 0, sizeof nz->rx);
}

static void nz_close(void *conn)
{
    eota_noise *nz = conn;
    if (nz->conn) {
        (void)eota_noise_flush(nz);
        void *c = nz->conn;
        nz->conn = NULL;
        nz->transport->close(c);
    }
    nz->tx_pos = nz->tx_len = 0;
    if (nz->state != NZ_FAILED)
        nz->state = NZ_IDLE;
    eota_noise_wipe(nz);
}

const eota_transport_ops eota_noise_transport = {
    .read = nz_read,
    .write = nz_write,
    .close = nz_close,
};

size_t eota_noise_rx_buffered(const eota_noise *nz)
{
    size_t plain = (size_t)(nz->plain_end - nz->plain_pos);
    if (plain == 0 && rx_whole(nz))
        return 1; /* a whole frame waits to be decrypted (or a bad one, to fail) */
    return plain;
}

eota_noise_failure_kind eota_noise_failure(const eota_noise *nz) { return (eota_noise_failure_kind)nz->failure; }

const char *eota_noise_reason(const eota_noise *nz) { return nz->reason; }

#endif
