/*
 * client.c: the uploader engine, one non-blocking state machine for the
 * client side of PROTOCOL.md section 2, for every device generation
 * (versions 1 and 2, one-byte and extended feature replies, SHA-256 and
 * legacy MD5 challenges).
 *
 * Shape, as in server.c: every fixed-size reply is gathered in `in` with
 * exact reads (a reply may arrive one byte at a time, and nothing of a later
 * reply is consumed early); our handshake bytes go to `out` and leave in
 * order whenever the transport takes them. In the data phase image bytes
 * are read from the caller (at an offset) into the caller's buffer and
 * written from there, never more than `window` 8 KiB blocks beyond the last
 * CHUNK_OK on a version-2 device, while the device's bytes (47, 44, 45, or
 * an error) are consumed as they come. The engine never waits: when it
 * cannot go on it returns, and the integrator polls again.
 *
 * Noise (PROTOCOL.md section 10, eota/noise.h): with a key and a device
 * that offers it, the handshake runs right after the feature reply
 * (ST_NOISE); then the engine swaps the wire's transport for the session's
 * (eota_noise_transport), so that every read below sees plaintext. Our
 * control fields go out as one frame each (eota_noise_send, not the wire's
 * queue, which would merge them) and image bytes through the session's
 * write, which cuts them into frames of at most 1024 bytes.
 */
#include "eota/client.h"

/* A device-only build leaves the uploader engine out (eota/opt.h). */
#if EOTA_WITH_CLIENT

#include <string.h>

#include "wire.h"

enum state {
    ST_IDLE = 0,
    ST_HELLO_CODE,    /* need 1: 00 (or an error byte) */
    ST_HELLO_VERSION, /* need 1: the version */
    ST_FEATURE_REPLY, /* need 1: 40 / 46 / 48 */
    ST_FLAGS,         /* need 1: server flags after 48 */
    ST_NOISE,         /* the Noise handshake (eota_noise_handshake) */
    ST_AUTH_CODE,     /* need 1: 41, 01 or 02 */
    ST_NONCE,         /* need 32 or 64 hex */
    ST_AUTH_RESULT,   /* need 1: 41 */
    ST_WAIT_IMAGE,    /* authenticated; the caller has not given the image */
    ST_PREPARE,       /* need 1: 42 */
    ST_MD5,           /* need 1: 43 */
    ST_DATA,          /* sending; 47s and then 44 arrive */
    ST_VERIFY,        /* need 45 */
    ST_FINAL,         /* flushing the final 00 */
    ST_END
};

/* Work done per eota_client_poll call at most: a build option (eota/opt.h). */
#define POLL_BUDGET EOTA_CLIENT_POLL_BUDGET


static uint32_t now(const eota_client *c) { return c->cfg.clock.now_ms(c->cfg.clock.ctx); }

static void fail(eota_client *c, eota_client_error err, uint8_t code);

#if EOTA_WITH_NOISE
/* Frames of the session not yet taken by the connection. */
static size_t noise_pending(const eota_client *c) { return c->nz_live ? eota_noise_tx_pending(&c->nz) : 0; }
#else
static size_t noise_pending(const eota_client *c) { return (void)c, 0; }
#endif

static size_t out_pending(const eota_client *c) { return eota_wire_out_pending(&c->wire) + noise_pending(c); }

static void queue(eota_client *c, const void *data, size_t n)
{
#if EOTA_WITH_NOISE
    if (c->encrypted) {
        /* One frame per field. The device answered the field before, so
         * the session's buffer is empty: no room only from a peer that
         * replied before it had our bytes. */
        if (eota_noise_send(&c->nz, data, n) != EOTA_OK)
            fail(c, EOTA_CLIENT_ERR_NOISE, 0);
        return;
    }
#endif
    (void)eota_wire_queue(&c->wire, data, n);
}

static void expect(eota_client *c, int state, size_t need)
{
    if (c->state == ST_END)
        return; /* queue() failed the upload */
    c->state = state;
    eota_wire_expect(&c->wire, need);
}

static int is_hex(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static eota_client_phase phase_of(const eota_client *c)
{
    switch (c->state) {
    case ST_HELLO_CODE:
    case ST_HELLO_VERSION: return EOTA_CLIENT_PH_HELLO;
    case ST_FEATURE_REPLY:
    case ST_FLAGS: return EOTA_CLIENT_PH_FEATURES;
    case ST_NOISE: return EOTA_CLIENT_PH_NOISE;
    case ST_AUTH_CODE:
    case ST_NONCE:
    case ST_AUTH_RESULT: return EOTA_CLIENT_PH_AUTH;
    case ST_WAIT_IMAGE:
    case ST_PREPARE: return EOTA_CLIENT_PH_PREPARE;
    case ST_MD5: return EOTA_CLIENT_PH_MD5;
    case ST_DATA: return c->sent < c->img.size ? EOTA_CLIENT_PH_DATA : EOTA_CLIENT_PH_RECEIVE;
    case ST_VERIFY: return EOTA_CLIENT_PH_VERIFY;
    case ST_FINAL: return EOTA_CLIENT_PH_FINAL;
    case ST_END: return EOTA_CLIENT_PH_END;
    default: return EOTA_CLIENT_PH_NONE;
    }
}

static void release_conn(eota_client *c)
{
    eota_wire_release(&c->wire); /* through the session when encrypted */
#if EOTA_WITH_NOISE
    if (c->nz_live)
        eota_noise_wipe(&c->nz);
    c->nz_live = 0;
#endif
    c->wire.transport = c->cfg.transport;
    c->buf_pos = c->buf_len = 0;
}

static void fail(eota_client *c, eota_client_error err, uint8_t code)
{
    c->error = err;
    c->error_phase = phase_of(c);
    c->error_code = code;
    c->status = EOTA_CLIENT_FAILED;
    release_conn(c);
    c->state = ST_END;
}

static void succeed(eota_client *c)
{
    c->error = EOTA_CLIENT_OK;
    c->error_phase = EOTA_CLIENT_PH_END;
    c->status = EOTA_CLIENT_DONE;
    release_conn(c);
    c->state = ST_END;
}

/* A byte that is not what the current step expects: an error byte is the
 * device's verdict, anything else a protocol violation. */
static void unexpected(eota_client *c, uint8_t b)
{
    if (eota_response_is_error(b))
        fail(c, EOTA_CLIENT_ERR_DEVICE, b);
    else
        fail(c, EOTA_CLIENT_ERR_PROTOCOL, b);
}

/* The transport failed or hit end of stream while we wrote. A device
 * usually sends an error byte and then closes, and our write can be the
 * first to notice the close: look for that byte before blaming the
 * network. */
static void transport_failed(eota_client *c, long rc)
{
    uint8_t tmp[64];
    for (int i = 0; i < 8; i++) {
        long n = c->wire.transport->read(c->wire.conn, tmp, sizeof tmp);
        if (n <= 0)
            break;
        for (long k = 0; k < n; k++) {
            if (eota_response_is_error(tmp[k])) {
                fail(c, EOTA_CLIENT_ERR_DEVICE, tmp[k]);
                return;
            }
        }
    }
    fail(c, rc == EOTA_CLOSED ? EOTA_CLIENT_ERR_CLOSED : EOTA_CLIENT_ERR_IO, 0);
}

static void read_failed(eota_client *c, long rc)
{
#if EOTA_WITH_NOISE
    /* A frame that did not decrypt is not the network's fault. */
    if (c->encrypted && rc == EOTA_EIO && eota_noise_failure(&c->nz) != EOTA_NOISE_FAIL_IO) {
        fail(c, EOTA_CLIENT_ERR_NOISE, 0);
        return;
    }
#endif
    fail(c, rc == EOTA_CLOSED ? EOTA_CLIENT_ERR_CLOSED : EOTA_CLIENT_ERR_IO, 0);
}

/* --- setup --- */

int eota_client_set_password(eota_client *cl, const char *password)
{
    return eota_wire_set_password(cl->password, sizeof cl->password, password);
}

int eota_client_set_noise_key(eota_client *cl, const uint8_t *key)
{
#if EOTA_WITH_NOISE
    if (key && eota_noise_key_is_zero(key))
        return EOTA_EINVAL;
#else
    if (key)
        return EOTA_EINVAL;
#endif
    if (key)
        memcpy(cl->key, key, sizeof cl->key);
    else
        memset(cl->key, 0, sizeof cl->key);
    cl->has_key = key != NULL;
    return EOTA_OK;
}

/* A key needs the Noise primitives. */
static int noise_seam_ok(const eota_client_config *cfg)
{
    const eota_noise_crypto_ops *o = cfg->noise_crypto.ops;
    return !cfg->noise_key || (o && o->x25519_public && o->x25519_shared && o->aead_seal && o->aead_open &&
                               o->sha256 && o->hmac_sha256);
}

int eota_client_init(eota_client *cl, const eota_client_config *cfg, uint8_t *buf, size_t buf_size)
{
    if (!cl || !cfg || !buf || buf_size < EOTA_CLIENT_MIN_BUFFER || !cfg->transport ||
        !cfg->transport->read || !cfg->transport->write || !cfg->transport->close ||
        !cfg->clock.now_ms || !cfg->random.fill || !cfg->hash.ops || !cfg->hash.ops->begin ||
        !cfg->hash.ops->update || !cfg->hash.ops->finish || cfg->window > EOTA_CLIENT_MAX_WINDOW ||
        !noise_seam_ok(cfg))
        return EOTA_EINVAL;
    memset(cl, 0, sizeof *cl);
    cl->cfg = *cfg;
    cl->cfg.password = NULL; /* kept in our own copy */
    if (cl->cfg.features == 0)
        cl->cfg.features = EOTA_FEATURES_STOCK_CLIENT;
    /* No Noise here, and never the bits upstream gives other meanings. */
    cl->cfg.features &= (uint8_t) ~(EOTA_FEATURE_NOISE | EOTA_FEATURE_RESERVED_MASK);
    if (!cl->cfg.offer_gzip)
        cl->cfg.features &= (uint8_t)~EOTA_FEATURE_COMPRESSION;
    if (cl->cfg.window == 0)
        cl->cfg.window = 1;
    if (cl->cfg.handshake_timeout_ms == 0)
        cl->cfg.handshake_timeout_ms = EOTA_CLIENT_HANDSHAKE_TIMEOUT_MS;
    if (cl->cfg.data_timeout_ms == 0)
        cl->cfg.data_timeout_ms = EOTA_CLIENT_DATA_TIMEOUT_MS;
    cl->wire.transport = cfg->transport;
    cl->buf = buf;
    cl->buf_size = buf_size;
    cl->cfg.noise_key = NULL; /* kept in our own copy too */
    if (eota_client_set_password(cl, cfg->password) != EOTA_OK ||
        eota_client_set_noise_key(cl, cfg->noise_key) != EOTA_OK)
        return EOTA_EINVAL;
    return EOTA_OK;
}

int eota_client_start(eota_client *cl, void *conn)
{
    static const uint8_t magic[EOTA_MAGIC_LEN] = {EOTA_MAGIC_0, EOTA_MAGIC_1, EOTA_MAGIC_2,
                                                  EOTA_MAGIC_3, EOTA_MAGIC_4};
    if (cl->wire.conn)
        return EOTA_EBUSY;
    if (!conn)
        return EOTA_EINVAL;
    eota_wire_open(&cl->wire, conn);
    cl->status = EOTA_CLIENT_BUSY;
    cl->start_ms = cl->activity_ms = now(cl);
    cl->features = cl->cfg.features;
    if (cl->has_key && (cl->features & EOTA_FEATURE_EXTENDED))
        cl->features |= EOTA_FEATURE_NOISE; /* only together with 0x04 */
    cl->encrypted = 0;
    cl->reason[0] = '\0';
    cl->version = cl->feature_reply = cl->server_flags = 0;
    cl->extended = cl->gzip_accepted = cl->replied = 0;
    cl->auth_kind = EOTA_AUTH_NONE;
    cl->authed = cl->image_set = cl->image_gzip = cl->received = cl->committed = 0;
    cl->size_sent = 0;
    memset(&cl->img, 0, sizeof cl->img);
    cl->sent = cl->fetched = cl->acks = 0;
    cl->buf_pos = cl->buf_len = 0;
    cl->error = EOTA_CLIENT_OK;
    cl->error_phase = EOTA_CLIENT_PH_NONE;
    cl->error_code = 0;
    cl->state = ST_IDLE; /* not ST_END: expect() would keep that */
    queue(cl, magic, sizeof magic);
    expect(cl, ST_HELLO_CODE, 1);
    return EOTA_OK;
}

/* Pick the version of the image the device's reply calls for, when the
 * caller gave it already. */
static void choose_image(eota_client *c)
{
    const eota_client_image *want = c->gzip_accepted ? &c->cfg.gzip_image : &c->cfg.image;
    if (want->read) {
        c->img = *want;
        c->image_set = 1;
        c->image_gzip = c->gzip_accepted;
    }
}

int eota_client_set_image(eota_client *cl, const eota_client_image *img, int is_gzip)
{
    if (!img || !img->read || img->size == 0)
        return EOTA_EINVAL;
    is_gzip = is_gzip != 0;
    if (cl->wire.conn && cl->replied) {
        if (cl->size_sent)
            return EOTA_EBUSY;
        if (is_gzip != cl->gzip_accepted)
            return EOTA_EINVAL;
        cl->img = *img;
        cl->image_set = 1;
        cl->image_gzip = (uint8_t)is_gzip;
    }
    /* Kept for a later start (a retry) as well. */
    if (is_gzip)
        cl->cfg.gzip_image = *img;
    else
        cl->cfg.image = *img;
    return EOTA_OK;
}

/* --- the handshake --- */

static void send_size(eota_client *c)
{
    uint32_t n = c->img.size;
    if (n == 0 || !c->img.read) {
        fail(c, EOTA_CLIENT_ERR_IMAGE, 0);
        return;
    }
    if (c->extended) {
        uint8_t t = c->cfg.ota_type;
        queue(c, &t, 1);
    }
    uint8_t sz[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    queue(c, sz, sizeof sz);
    c->size_sent = 1;
    expect(c, ST_PREPARE, 1);
}

static void authenticated(eota_client *c)
{
    c->authed = 1;
    if (c->image_set)
        send_size(c);
    else
        c->state = ST_WAIT_IMAGE;
}

static int noise_begin(eota_client *c);

static void after_feature_reply(eota_client *c)
{
    c->replied = 1;
    choose_image(c);
    if (c->has_key && noise_begin(c))
        return; /* the handshake, or the end */
    expect(c, ST_AUTH_CODE, 1);
}

static void on_nonce(eota_client *c)
{
    size_t hexlen = c->wire.in_need;
    eota_hash_alg alg = hexlen == EOTA_SHA256_HEX_LEN ? EOTA_HASH_SHA256 : EOTA_HASH_MD5;
    uint8_t r[EOTA_SHA256_HEX_LEN / 2];
    uint8_t digest[EOTA_SHA256_DIGEST_LEN];
    char reply[2 * EOTA_SHA256_HEX_LEN];
    const eota_hash *h = &c->cfg.hash;

    for (size_t i = 0; i < hexlen; i++) {
        if (!is_hex(c->wire.in[i])) {
            fail(c, EOTA_CLIENT_ERR_PROTOCOL, c->wire.in[i]);
            return;
        }
    }
    if (c->cfg.random.fill(c->cfg.random.ctx, r, hexlen / 2) != EOTA_OK) {
        fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    eota_hex_encode(reply, r, hexlen / 2); /* cnonce */
    if (h->ops->begin(h->ctx, alg) != EOTA_OK) {
        fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    h->ops->update(h->ctx, (const uint8_t *)c->password, strlen(c->password));
    h->ops->update(h->ctx, c->wire.in, hexlen); /* the nonce exactly as received */
    h->ops->update(h->ctx, (const uint8_t *)reply, hexlen);
    if (h->ops->finish(h->ctx, digest) != EOTA_OK) {
        fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    eota_hex_encode(reply + hexlen, digest, hexlen / 2);
    queue(c, reply, 2 * hexlen);
    memset(digest, 0, sizeof digest);
    memset(reply, 0, sizeof reply);
    memset(r, 0, sizeof r);
    expect(c, ST_AUTH_RESULT, 1);
}

/* The legacy MD5 challenge (01) is one only in a build with MD5 auth. */
static int is_challenge(uint8_t b)
{
    return b == EOTA_RESP_REQUEST_SHA256_AUTH || (EOTA_WITH_MD5_AUTH && b == EOTA_RESP_REQUEST_AUTH);
}

/* The replies of the handshake, one function per kind of field. */
static void on_hello_version(eota_client *c, uint8_t b)
{
    if (b != EOTA_VERSION_1 && b != EOTA_VERSION_2) {
        fail(c, EOTA_CLIENT_ERR_VERSION, b);
        return;
    }
    c->version = b;
    queue(c, &c->features, 1);
    expect(c, ST_FEATURE_REPLY, 1);
}

static void on_feature_reply(eota_client *c, uint8_t b)
{
    if (b == EOTA_RESP_FEATURE_FLAGS && (c->features & EOTA_FEATURE_EXTENDED)) {
        c->feature_reply = b;
        expect(c, ST_FLAGS, 1);
    } else if (b == EOTA_RESP_HEADER_OK || b == EOTA_RESP_SUPPORTS_COMPRESSION) {
        c->feature_reply = b;
        c->gzip_accepted = b == EOTA_RESP_SUPPORTS_COMPRESSION && (c->features & EOTA_FEATURE_COMPRESSION);
        after_feature_reply(c);
    } else {
        unexpected(c, b);
    }
}

static void on_flags(eota_client *c, uint8_t b)
{
    c->server_flags = b;
    c->extended = 1;
    c->gzip_accepted = (b & EOTA_SERVER_FLAG_COMPRESSION) && (c->features & EOTA_FEATURE_COMPRESSION);
    after_feature_reply(c);
}

static void on_auth_code(eota_client *c, uint8_t b)
{
    if (b == EOTA_RESP_AUTH_OK) {
        authenticated(c);
    } else if (is_challenge(b)) {
        c->auth_kind = b == EOTA_RESP_REQUEST_SHA256_AUTH ? EOTA_AUTH_SHA256 : EOTA_AUTH_MD5;
        if (c->password[0] == '\0')
            fail(c, EOTA_CLIENT_ERR_PASSWORD_REQUIRED, b);
        else
            expect(c, ST_NONCE, b == EOTA_RESP_REQUEST_SHA256_AUTH ? EOTA_SHA256_HEX_LEN : EOTA_MD5_HEX_LEN);
    } else {
        unexpected(c, b);
    }
}

/* 42: send the image's MD5. */
static void on_prepared(eota_client *c)
{
    char hex[EOTA_MD5_HEX_LEN];
    eota_hex_encode(hex, c->img.md5, EOTA_MD5_DIGEST_LEN);
    queue(c, hex, sizeof hex);
    expect(c, ST_MD5, 1);
}

/* 43: the data phase begins. */
static void on_md5_taken(eota_client *c)
{
    c->state = ST_DATA;
    c->activity_ms = now(c);
}

static void on_field(eota_client *c)
{
    uint8_t b = c->wire.in[0];
    switch (c->state) {
    case ST_HELLO_CODE:
        if (b == EOTA_RESP_OK)
            expect(c, ST_HELLO_VERSION, 1);
        else
            unexpected(c, b);
        break;
    case ST_HELLO_VERSION: on_hello_version(c, b); break;
    case ST_FEATURE_REPLY: on_feature_reply(c, b); break;
    case ST_FLAGS: on_flags(c, b); break;
    case ST_AUTH_CODE: on_auth_code(c, b); break;
    case ST_NONCE: on_nonce(c); break;
    case ST_AUTH_RESULT: b == EOTA_RESP_AUTH_OK ? authenticated(c) : unexpected(c, b); break;
    case ST_PREPARE: b == EOTA_RESP_UPDATE_PREPARE_OK ? on_prepared(c) : unexpected(c, b); break;
    case ST_MD5: b == EOTA_RESP_BIN_MD5_OK ? on_md5_taken(c) : unexpected(c, b); break;
    default: break;
    }
}

static int read_field(eota_client *c)
{
    long n = eota_wire_read_field(&c->wire);
    if (n == EOTA_AGAIN || n == 0)
        return 0;
    if (n < 0) {
        read_failed(c, n);
        return 0;
    }
    if (c->wire.in_have == c->wire.in_need)
        on_field(c);
    return 1;
}

/* --- Noise: the handshake, right after the feature reply --- */

static int noise_offered(const eota_client *c)
{
    return c->extended && (c->server_flags & EOTA_SERVER_FLAG_NOISE) && (c->features & EOTA_FEATURE_NOISE);
}

/* With a key: 1 when the engine took over (the handshake began, or the
 * upload ended: no Noise and no fallback), 0 to go on in plaintext. */
static int noise_begin(eota_client *c)
{
    if (!noise_offered(c)) {
        if (c->cfg.noise_fallback)
            return 0;
        fail(c, EOTA_CLIENT_ERR_NOISE_UNOFFERED, 0);
        return 1;
    }
#if EOTA_WITH_NOISE
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    const eota_noise_config nc = {.role = EOTA_NOISE_INITIATOR, .psk = c->key, .crypto = c->cfg.noise_crypto,
                                  .random = c->cfg.random, .frame_limit = EOTA_NOISE_MAX_PLAINTEXT};
    eota_noise_prologue(pro, c->version, c->features, c->server_flags);
    if (eota_noise_init(&c->nz, &nc) != EOTA_OK) {
        fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return 1;
    }
    c->nz_live = 1;
    c->state = ST_NOISE;
    if (eota_noise_start(&c->nz, c->cfg.transport, c->wire.conn, pro) != EOTA_OK)
        fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
#endif
    return 1;
}

#if EOTA_WITH_NOISE
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
        fail(c, n == sizeof EOTA_NOISE_REASON_MAC - 1 && !memcmp(c->reason, EOTA_NOISE_REASON_MAC, n)
                    ? EOTA_CLIENT_ERR_NOISE_KEY
                    : EOTA_CLIENT_ERR_NOISE,
             0);
        return;
    case EOTA_NOISE_FAIL_IO: read_failed(c, rc == EOTA_CLOSED ? EOTA_CLOSED : EOTA_EIO); return;
    case EOTA_NOISE_FAIL_CRYPTO: fail(c, EOTA_CLIENT_ERR_CRYPTO, 0); return;
    default: fail(c, EOTA_CLIENT_ERR_NOISE, 0); return;
    }
}

/* The session is up: from now on the wire reads and writes plaintext
 * through it; the device's 41 comes first (no password step). */
static int noise_step(eota_client *c)
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
    expect(c, ST_AUTH_CODE, 1);
    return 1;
}
#else
static int noise_step(eota_client *c) { return (void)c, 0; }
#endif

/* --- the data phase --- */

static uint32_t acks_expected(const eota_client *c)
{
    return (c->img.size + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE;
}

/* Image bytes the window lets us have sent by now. */
static uint32_t send_limit(const eota_client *c)
{
    if (c->version < EOTA_VERSION_2)
        return c->img.size;
    uint64_t lim = ((uint64_t)c->acks + c->cfg.window) * EOTA_BLOCK_SIZE;
    return lim < c->img.size ? (uint32_t)lim : c->img.size;
}

static int can_send(const eota_client *c)
{
    return c->state == ST_DATA && (c->buf_pos < c->buf_len || c->fetched < send_limit(c));
}

/* A 47 counts only for a block the device can have received whole: every
 * byte of it was sent (the last block may be short). */
static int ack_due(const eota_client *c)
{
    uint64_t end = ((uint64_t)c->acks + 1) * EOTA_BLOCK_SIZE;
    if (end > c->img.size)
        end = c->img.size;
    return c->acks < acks_expected(c) && c->sent >= end;
}

/* 44 only once every byte went out and, on a version-2 device, after every
 * 47 the image size calls for: a device that skipped one did not say it
 * had the image. */
static int receive_due(const eota_client *c)
{
    return c->sent == c->img.size && (c->version < EOTA_VERSION_2 || c->acks == acks_expected(c));
}

static void on_data_byte(eota_client *c, uint8_t b)
{
    if (c->state == ST_DATA) {
        if (b == EOTA_RESP_CHUNK_OK && ack_due(c)) {
            c->acks++;
        } else if (b == EOTA_RESP_RECEIVE_OK && receive_due(c)) {
            c->received = 1;
            c->state = ST_VERIFY;
        } else {
            unexpected(c, b);
        }
    } else if (c->state == ST_VERIFY) {
        if (b == EOTA_RESP_UPDATE_END_OK) {
            uint8_t ok = EOTA_RESP_OK;
            c->committed = 1;
            queue(c, &ok, 1);
            c->state = ST_FINAL;
            c->final_ms = now(c);
        } else {
            unexpected(c, b);
        }
    }
}

static int data_read(eota_client *c)
{
    uint8_t tmp[64];
    long n = c->wire.transport->read(c->wire.conn, tmp, sizeof tmp);
    if (n == EOTA_AGAIN || n == 0)
        return 0;
    if (n < 0) {
        read_failed(c, n);
        return 0;
    }
    if ((size_t)n > sizeof tmp)
        n = (long)sizeof tmp;
    c->activity_ms = now(c);
    for (long i = 0; i < n && (c->state == ST_DATA || c->state == ST_VERIFY); i++)
        on_data_byte(c, tmp[i]);
    /* Anything after 45 is ignored: nothing more is expected. */
    return 1;
}

/* Image bytes in buf to send: 1, or 0 when the window (or the image) has
 * none for now, or reading it failed (the upload has ended). */
static int refill(eota_client *c)
{
    if (c->buf_pos < c->buf_len)
        return 1;
    uint32_t lim = send_limit(c);
    if (c->fetched >= lim)
        return 0;
    size_t n = lim - c->fetched;
    if (n > c->buf_size)
        n = c->buf_size;
    if (c->img.read(c->img.ctx, c->fetched, c->buf, n) != EOTA_OK) {
        fail(c, EOTA_CLIENT_ERR_IMAGE, 0);
        return 0;
    }
    c->buf_pos = 0;
    c->buf_len = n;
    c->fetched += (uint32_t)n;
    return 1;
}

static void advance(eota_client *c, size_t n)
{
    c->buf_pos += n;
    c->sent += (uint32_t)n;
}

static void took(eota_client *c, size_t n)
{
    advance(c, n);
    c->activity_ms = now(c);
}

#if EOTA_WITH_NOISE
/* The session refused a frame: it failed already, reading (the connection
 * went: a network error, after a look for the device's last byte) or
 * decrypting (not the network's fault). */
static void noise_broke(eota_client *c, long st)
{
    if (eota_noise_failure(&c->nz) <= EOTA_NOISE_FAIL_NONE || eota_noise_failure(&c->nz) == EOTA_NOISE_FAIL_IO)
        transport_failed(c, st < 0 ? st : EOTA_EIO);
    else
        fail(c, EOTA_CLIENT_ERR_NOISE, 0);
}

/* Frames one data step sends at most inside Noise: as many image bytes as
 * one plaintext write (16 KiB) before the engine looks for the device's
 * bytes again, so that a 1 KiB frame does not cost a read as well. */
#define NOISE_FRAMES_PER_STEP 16

/* Inside Noise: frames of up to 1024 image bytes, sealed into the
 * session's buffer while it has room and sent when it is full (and by the
 * next flush), so that a larger EOTA_NOISE_TX_BUFFER sends several frames
 * per write. */
static int noise_data_write(eota_client *c)
{
    int moved = 0;
    for (unsigned i = 0; i < NOISE_FRAMES_PER_STEP && refill(c); i++) {
        size_t n = c->buf_len - c->buf_pos;
        if (n > EOTA_NOISE_MAX_PLAINTEXT)
            n = EOTA_NOISE_MAX_PLAINTEXT;
        int st = eota_noise_send(&c->nz, c->buf + c->buf_pos, n);
        if (st == EOTA_AGAIN) {
            int f = eota_noise_flush(&c->nz);
            if (f < 0)
                transport_failed(c, f);
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
        advance(c, n);
        moved = 1;
    }
    if (moved)
        c->activity_ms = now(c); /* once a step, not once a frame */
    return moved;
}
#endif

static int data_write(eota_client *c)
{
#if EOTA_WITH_NOISE
    if (c->encrypted)
        return noise_data_write(c);
#endif
    if (!refill(c))
        return 0;
    long w = c->wire.transport->write(c->wire.conn, c->buf + c->buf_pos, c->buf_len - c->buf_pos);
    if (w == EOTA_AGAIN || w == 0)
        return 0;
    if (w < 0) {
        transport_failed(c, w);
        return 0;
    }
    if ((size_t)w > c->buf_len - c->buf_pos)
        w = (long)(c->buf_len - c->buf_pos);
    took(c, (size_t)w);
    return 1;
}

/* --- driving --- */

static int flush(eota_client *c)
{
    long err;
    int moved = eota_wire_flush(&c->wire, &err);
#if EOTA_WITH_NOISE
    if (err == 0 && c->encrypted) {
        int r = eota_noise_flush(&c->nz);
        if (r < 0)
            err = r;
        else
            moved |= r;
    }
#endif
    if (err == 0)
        return moved;
    if (c->state == ST_FINAL)
        succeed(c); /* the final 00 is optional */
    else
        transport_failed(c, err);
    return moved;
}

static int check_timeouts(eota_client *c)
{
    uint32_t t = now(c);
    switch (c->state) {
    case ST_DATA:
    case ST_VERIFY:
        if (t - c->activity_ms >= c->cfg.data_timeout_ms) {
            fail(c, EOTA_CLIENT_ERR_TIMEOUT, 0);
            return 1;
        }
        return 0;
    case ST_FINAL:
        if (t - c->final_ms >= EOTA_CLIENT_FINAL_ACK_MS) {
            succeed(c);
            return 1;
        }
        return 0;
    case ST_IDLE:
    case ST_END: return 0;
    default:
        if (t - c->start_ms >= c->cfg.handshake_timeout_ms) {
            fail(c, EOTA_CLIENT_ERR_TIMEOUT, 0);
            return 1;
        }
        return 0;
    }
}

eota_client_status eota_client_poll(eota_client *cl)
{
    for (int budget = 0; cl->wire.conn && budget < POLL_BUDGET; budget++) {
        int progress = flush(cl);
        if (!cl->wire.conn)
            break;
        if (check_timeouts(cl))
            break;
        switch (cl->state) {
        case ST_HELLO_CODE:
        case ST_HELLO_VERSION:
        case ST_FEATURE_REPLY:
        case ST_FLAGS:
        case ST_AUTH_CODE:
        case ST_NONCE:
        case ST_AUTH_RESULT:
        case ST_PREPARE:
        case ST_MD5:
            progress |= read_field(cl);
            break;
        case ST_NOISE: progress |= noise_step(cl); break;
        case ST_WAIT_IMAGE:
            if (cl->image_set) {
                send_size(cl);
                progress = 1;
            }
            break;
        case ST_DATA:
            progress |= data_read(cl);
            if (cl->wire.conn && cl->state == ST_DATA)
                progress |= data_write(cl);
            break;
        case ST_VERIFY:
            progress |= data_read(cl);
            break;
        case ST_FINAL:
            if (out_pending(cl) == 0) {
                succeed(cl);
                progress = 1;
            }
            break;
        default: break;
        }
        if (!progress)
            break;
    }
    if (cl->wire.conn && cl->replied && !cl->image_set)
        return EOTA_CLIENT_NEED_IMAGE;
    return cl->status;
}

unsigned eota_client_wants(const eota_client *cl)
{
    if (!cl->wire.conn)
        return 0;
    unsigned w = 0;
    if (out_pending(cl) > 0)
        w |= EOTA_WANT_WRITE;
    switch (cl->state) {
    case ST_WAIT_IMAGE:
    case ST_FINAL: break;
    case ST_DATA:
        w |= EOTA_WANT_READ;
        if (can_send(cl))
            w |= EOTA_WANT_WRITE;
        break;
    default: w |= EOTA_WANT_READ; break;
    }
    return w;
}

long eota_client_timeout_ms(const eota_client *cl)
{
    if (!cl->wire.conn)
        return -1;
#if EOTA_WITH_NOISE
    if (cl->encrypted && eota_noise_rx_buffered(&cl->nz) > 0 && cl->state != ST_FINAL &&
        cl->state != ST_WAIT_IMAGE)
        return 0; /* decrypted bytes wait: the socket will not wake us */
#endif
    uint32_t t = now(cl);
    switch (cl->state) {
    case ST_WAIT_IMAGE:
        if (cl->image_set)
            return 0;
        return eota_wire_remaining(cl->start_ms, cl->cfg.handshake_timeout_ms, t);
    case ST_DATA:
    case ST_VERIFY: return eota_wire_remaining(cl->activity_ms, cl->cfg.data_timeout_ms, t);
    case ST_FINAL: return eota_wire_remaining(cl->final_ms, EOTA_CLIENT_FINAL_ACK_MS, t);
    default: return eota_wire_remaining(cl->start_ms, cl->cfg.handshake_timeout_ms, t);
    }
}

int eota_client_gzip_accepted(const eota_client *cl) { return cl->replied && cl->gzip_accepted; }

int eota_client_authenticated(const eota_client *cl) { return cl->wire.conn && cl->authed && !cl->size_sent; }

void eota_client_cancel(eota_client *cl)
{
    if (!cl->wire.conn)
        return;
    fail(cl, EOTA_CLIENT_ERR_CANCELLED, 0);
}

void eota_client_get_report(const eota_client *cl, eota_client_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->error = cl->error;
    rep->phase = cl->state == ST_END ? cl->error_phase : phase_of(cl);
    rep->code = cl->error_code;
    rep->version = cl->version;
    rep->features = cl->features;
    rep->feature_reply = cl->feature_reply;
    rep->server_flags = cl->server_flags;
    rep->extended = cl->extended;
    rep->gzip_accepted = cl->gzip_accepted;
    rep->gzip_sent = cl->size_sent && cl->image_gzip;
    rep->auth = (eota_auth_kind)cl->auth_kind;
    rep->size = cl->size_sent ? cl->img.size : 0;
    rep->sent = cl->sent;
    uint64_t acked = (uint64_t)cl->acks * EOTA_BLOCK_SIZE;
    rep->acked = acked < cl->img.size ? (uint32_t)acked : cl->img.size;
    rep->all_sent = cl->img.size > 0 && cl->sent == cl->img.size;
    rep->received = cl->received;
    rep->committed = cl->committed;
    rep->noise_offered = cl->extended && (cl->server_flags & EOTA_SERVER_FLAG_NOISE);
    rep->encrypted = cl->encrypted;
    rep->reason = cl->reason;
}

/* Each phase's short name and its words for messages, in enum order. */
static const struct phase_words {
    const char *name;
    const char *describe;
} phase_words[] = {
    {"none", "before the upload started"},
    {"connect", "connecting"},
    {"hello", "the handshake (waiting for the protocol version)"},
    {"features", "the handshake (waiting for the feature reply)"},
    {"noise", "the encryption handshake (Noise)"},
    {"auth", "authentication"},
    {"prepare", "preparation (waiting for the device to accept the image size)"},
    {"md5", "preparation (waiting for the device to take the image's MD5)"},
    {"data", "the data transfer"},
    {"receive", "the end of the transfer (waiting for the device to confirm it has every byte)"},
    {"verify", "verification (waiting for the device to check and install the image)"},
    {"final", "the final acknowledgement"},
    {"end", "the end of the upload"},
};

static const struct phase_words *phase_entry(eota_client_phase phase)
{
    unsigned i = (unsigned)phase;
    return i < sizeof phase_words / sizeof phase_words[0] ? &phase_words[i] : NULL;
}

const char *eota_client_phase_name(eota_client_phase phase)
{
    const struct phase_words *w = phase_entry(phase);
    return w ? w->name : "unknown";
}

const char *eota_client_phase_describe(eota_client_phase phase)
{
    const struct phase_words *w = phase_entry(phase);
    return w ? w->describe : "an unknown step";
}

const char *eota_client_error_name(eota_client_error err)
{
    switch (err) {
    case EOTA_CLIENT_OK: return "ok";
    case EOTA_CLIENT_ERR_DEVICE: return "device_error";
    case EOTA_CLIENT_ERR_CLOSED: return "closed";
    case EOTA_CLIENT_ERR_TIMEOUT: return "timeout";
    case EOTA_CLIENT_ERR_IO: return "network_error";
    case EOTA_CLIENT_ERR_PROTOCOL: return "protocol_error";
    case EOTA_CLIENT_ERR_VERSION: return "unsupported_version";
    case EOTA_CLIENT_ERR_PASSWORD_REQUIRED: return "password_required";
    case EOTA_CLIENT_ERR_IMAGE: return "image_error";
    case EOTA_CLIENT_ERR_CRYPTO: return "crypto_error";
    case EOTA_CLIENT_ERR_CANCELLED: return "cancelled";
    case EOTA_CLIENT_ERR_NOISE_KEY: return "wrong_key";
    case EOTA_CLIENT_ERR_NOISE_UNOFFERED: return "encryption_unavailable";
    case EOTA_CLIENT_ERR_NOISE: return "encryption_error";
    case EOTA_CLIENT_ERR_REFUSED: return "refused";
    case EOTA_CLIENT_ERR_UNREACHABLE: return "unreachable";
    case EOTA_CLIENT_ERR_RESOLVE: return "resolve_error";
    }
    return "unknown";
}

#endif /* EOTA_WITH_CLIENT */
