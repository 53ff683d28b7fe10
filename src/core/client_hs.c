/*
 * client_hs.c: the uploader engine's handshake (PROTOCOL.md section 2), up
 * to the data phase: the hello and the version, the feature reply (one
 * byte, or 48 and the server's flags), which image the reply calls for,
 * whether Noise runs (client_noise.c), the password challenge (SHA-256 or
 * legacy MD5), then the OTA type and size, and the image's MD5. One
 * function per kind of field; each fixed-size reply is gathered whole by
 * the wire (wire.h) before it is acted on.
 */
#include "eota/client.h"

#if EOTA_WITH_CLIENT

#include <string.h>

#include "client_int.h"

static int is_hex(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
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

void eota_cl_send_size(eota_client *c)
{
    uint32_t n = c->img.size;
    if (n == 0 || !c->img.read) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_IMAGE, 0);
        return;
    }
    if (c->extended) {
        uint8_t t = c->cfg.ota_type;
        eota_cl_queue(c, &t, 1);
    }
    uint8_t sz[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    eota_cl_queue(c, sz, sizeof sz);
    c->size_sent = 1;
    eota_cl_expect(c, ST_PREPARE, 1);
}

static void authenticated(eota_client *c)
{
    c->authed = 1;
    if (c->image_set)
        eota_cl_send_size(c);
    else
        c->state = ST_WAIT_IMAGE;
}

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
        eota_cl_fail(c, EOTA_CLIENT_ERR_NOISE_UNOFFERED, 0);
        return 1;
    }
    eota_cl_noise_start(c);
    return 1;
}

static void after_feature_reply(eota_client *c)
{
    c->replied = 1;
    choose_image(c);
    if (c->has_key && noise_begin(c))
        return; /* the handshake, or the end */
    eota_cl_expect(c, ST_AUTH_CODE, 1);
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
            eota_cl_fail(c, EOTA_CLIENT_ERR_PROTOCOL, c->wire.in[i]);
            return;
        }
    }
    if (c->cfg.random.fill(c->cfg.random.ctx, r, hexlen / 2) != EOTA_OK) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    eota_hex_encode(reply, r, hexlen / 2); /* cnonce */
    if (h->ops->begin(h->ctx, alg) != EOTA_OK) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    h->ops->update(h->ctx, (const uint8_t *)c->password, strlen(c->password));
    h->ops->update(h->ctx, c->wire.in, hexlen); /* the nonce exactly as received */
    h->ops->update(h->ctx, (const uint8_t *)reply, hexlen);
    if (h->ops->finish(h->ctx, digest) != EOTA_OK) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_CRYPTO, 0);
        return;
    }
    eota_hex_encode(reply + hexlen, digest, hexlen / 2);
    eota_cl_queue(c, reply, 2 * hexlen);
    memset(digest, 0, sizeof digest);
    memset(reply, 0, sizeof reply);
    memset(r, 0, sizeof r);
    eota_cl_expect(c, ST_AUTH_RESULT, 1);
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
        eota_cl_fail(c, EOTA_CLIENT_ERR_VERSION, b);
        return;
    }
    c->version = b;
    eota_cl_queue(c, &c->features, 1);
    eota_cl_expect(c, ST_FEATURE_REPLY, 1);
}

static void on_feature_reply(eota_client *c, uint8_t b)
{
    if (b == EOTA_RESP_FEATURE_FLAGS && (c->features & EOTA_FEATURE_EXTENDED)) {
        c->feature_reply = b;
        eota_cl_expect(c, ST_FLAGS, 1);
    } else if (b == EOTA_RESP_HEADER_OK || b == EOTA_RESP_SUPPORTS_COMPRESSION) {
        c->feature_reply = b;
        c->gzip_accepted = b == EOTA_RESP_SUPPORTS_COMPRESSION && (c->features & EOTA_FEATURE_COMPRESSION);
        after_feature_reply(c);
    } else {
        eota_cl_unexpected(c, b);
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
            eota_cl_fail(c, EOTA_CLIENT_ERR_PASSWORD_REQUIRED, b);
        else
            eota_cl_expect(c, ST_NONCE, b == EOTA_RESP_REQUEST_SHA256_AUTH ? EOTA_SHA256_HEX_LEN : EOTA_MD5_HEX_LEN);
    } else {
        eota_cl_unexpected(c, b);
    }
}

/* 42: send the image's MD5. */
static void on_prepared(eota_client *c)
{
    char hex[EOTA_MD5_HEX_LEN];
    eota_hex_encode(hex, c->img.md5, EOTA_MD5_DIGEST_LEN);
    eota_cl_queue(c, hex, sizeof hex);
    eota_cl_expect(c, ST_MD5, 1);
}

/* 43: the data phase begins. */
static void on_md5_taken(eota_client *c)
{
    c->state = ST_DATA;
    c->activity_ms = eota_cl_now(c);
}

static void on_field(eota_client *c)
{
    uint8_t b = c->wire.in[0];
    switch (c->state) {
    case ST_HELLO_CODE:
        if (b == EOTA_RESP_OK)
            eota_cl_expect(c, ST_HELLO_VERSION, 1);
        else
            eota_cl_unexpected(c, b);
        break;
    case ST_HELLO_VERSION: on_hello_version(c, b); break;
    case ST_FEATURE_REPLY: on_feature_reply(c, b); break;
    case ST_FLAGS: on_flags(c, b); break;
    case ST_AUTH_CODE: on_auth_code(c, b); break;
    case ST_NONCE: on_nonce(c); break;
    case ST_AUTH_RESULT: b == EOTA_RESP_AUTH_OK ? authenticated(c) : eota_cl_unexpected(c, b); break;
    case ST_PREPARE: b == EOTA_RESP_UPDATE_PREPARE_OK ? on_prepared(c) : eota_cl_unexpected(c, b); break;
    case ST_MD5: b == EOTA_RESP_BIN_MD5_OK ? on_md5_taken(c) : eota_cl_unexpected(c, b); break;
    default: break;
    }
}

int eota_cl_read_field(eota_client *c)
{
    long n = eota_wire_read_field(&c->wire);
    if (n == EOTA_AGAIN || n == 0)
        return 0;
    if (n < 0) {
        eota_cl_read_failed(c, n);
        return 0;
    }
    if (c->wire.in_have == c->wire.in_need)
        on_field(c);
    return 1;
}

#endif /* EOTA_WITH_CLIENT */
