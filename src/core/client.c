/*
 * client.c: the uploader engine, one non-blocking state machine for the
 * client side of PROTOCOL.md section 2, for every device generation
 * (versions 1 and 2, one-byte and extended feature replies, SHA-256 and
 * legacy MD5 challenges). This file: its setup, the steps every part of
 * it uses (queue a field, expect a reply, end the upload) and its report.
 * The other parts: client_int.h.
 *
 * Shape, as in server.c: every fixed-size reply is gathered in `in` with
 * exact reads (a reply may arrive one byte at a time, and nothing of a later
 * reply is consumed early); our handshake bytes go to `out` and leave in
 * order whenever the transport takes them. The engine never waits: when it
 * cannot go on it returns, and the integrator polls again.
 */
#include "eota/client.h"

/* A device-only build leaves the uploader engine out (eota/opt.h). */
#if EOTA_WITH_CLIENT

#include <string.h>

#include "client_int.h"

size_t eota_cl_out_pending(const eota_client *c)
{
    return eota_wire_out_pending(&c->wire) + eota_cl_noise_pending(c);
}

void eota_cl_queue(eota_client *c, const void *data, size_t n)
{
    if (c->encrypted)
        eota_cl_noise_queue(c, data, n);
    else
        (void)eota_wire_queue(&c->wire, data, n);
}

void eota_cl_expect(eota_client *c, int state, size_t need)
{
    if (c->state == ST_END)
        return; /* queue() failed the upload */
    c->state = state;
    eota_wire_expect(&c->wire, need);
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
    eota_cl_noise_end(c);
    c->wire.transport = c->cfg.transport;
    c->buf_pos = c->buf_len = 0;
}

void eota_cl_fail(eota_client *c, eota_client_error err, uint8_t code)
{
    c->error = err;
    c->error_phase = phase_of(c);
    c->error_code = code;
    c->status = EOTA_CLIENT_FAILED;
    release_conn(c);
    c->state = ST_END;
}

void eota_cl_succeed(eota_client *c)
{
    c->error = EOTA_CLIENT_OK;
    c->error_phase = EOTA_CLIENT_PH_END;
    c->status = EOTA_CLIENT_DONE;
    release_conn(c);
    c->state = ST_END;
}

/* A byte that is not what the current step expects: an error byte is the
 * device's verdict, anything else a protocol violation. */
void eota_cl_unexpected(eota_client *c, uint8_t b)
{
    if (eota_response_is_error(b))
        eota_cl_fail(c, EOTA_CLIENT_ERR_DEVICE, b);
    else
        eota_cl_fail(c, EOTA_CLIENT_ERR_PROTOCOL, b);
}

/* The transport failed or hit end of stream while we wrote. A device
 * usually sends an error byte and then closes, and our write can be the
 * first to notice the close: look for that byte before blaming the
 * network. */
void eota_cl_transport_failed(eota_client *c, long rc)
{
    uint8_t tmp[64];
    for (int i = 0; i < 8; i++) {
        long n = c->wire.transport->read(c->wire.conn, tmp, sizeof tmp);
        if (n <= 0)
            break;
        for (long k = 0; k < n; k++) {
            if (eota_response_is_error(tmp[k])) {
                eota_cl_fail(c, EOTA_CLIENT_ERR_DEVICE, tmp[k]);
                return;
            }
        }
    }
    eota_cl_fail(c, rc == EOTA_CLOSED ? EOTA_CLIENT_ERR_CLOSED : EOTA_CLIENT_ERR_IO, 0);
}

void eota_cl_read_failed(eota_client *c, long rc)
{
    /* A frame that did not decrypt is not the network's fault. */
    if (eota_cl_noise_undecryptable(c, rc)) {
        eota_cl_fail(c, EOTA_CLIENT_ERR_NOISE, 0);
        return;
    }
    eota_cl_fail(c, rc == EOTA_CLOSED ? EOTA_CLIENT_ERR_CLOSED : EOTA_CLIENT_ERR_IO, 0);
}

/* --- setup --- */

int eota_client_set_password(eota_client *cl, const char *password)
{
    return eota_wire_set_password(cl->password, sizeof cl->password, password);
}

int eota_client_set_noise_key(eota_client *cl, const uint8_t *key)
{
    if (key && !eota_cl_noise_key_usable(key))
        return EOTA_EINVAL;
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
    cl->start_ms = cl->activity_ms = eota_cl_now(cl);
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
    eota_cl_queue(cl, magic, sizeof magic);
    eota_cl_expect(cl, ST_HELLO_CODE, 1);
    return EOTA_OK;
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

/* --- the outcome --- */

int eota_client_gzip_accepted(const eota_client *cl) { return cl->replied && cl->gzip_accepted; }

int eota_client_authenticated(const eota_client *cl) { return cl->wire.conn && cl->authed && !cl->size_sent; }

void eota_client_cancel(eota_client *cl)
{
    if (!cl->wire.conn)
        return;
    eota_cl_fail(cl, EOTA_CLIENT_ERR_CANCELLED, 0);
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

#endif /* EOTA_WITH_CLIENT */
