/*
 * server.c: the device-side OTA engine, one non-blocking state machine for
 * the whole exchange of PROTOCOL.md section 2 (versions 1 and 2).
 *
 * Shape: every fixed-size field of the handshake is gathered in the wire's
 * `in` (exact reads, so any fragmentation gives the same result and nothing
 * of a later field is consumed early); replies go to its `out` and leave in
 * order whenever the transport takes them (wire.c). Image bytes are read
 * into the caller's buffer and handed to the ingest (ingest.c: the backend,
 * which may take them slowly, the MD5, the progress and the events); this
 * file keeps the wire: acknowledgements, 44 and 45, timeouts, the goodbye.
 * The engine never waits: when it cannot go on it returns, and the
 * integrator calls eota_server_poll again.
 */
#include "eota/server.h"

#include <string.h>

#include "text.h"
#include "wire.h"

enum phase {
    PH_IDLE = 0,
    PH_MAGIC,      /* need 5 bytes */
    PH_FEATURES,   /* need 1 */
    PH_NOISE,      /* the Noise handshake (PROTOCOL.md section 10) */
    PH_AUTH,       /* need cnonce + response */
    PH_TYPE,       /* need 1 (extended protocol only) */
    PH_SIZE,       /* need 4 */
    PH_MD5,        /* need 32 */
    PH_DATA,       /* image bytes */
    PH_FINISH,     /* all received: drain to the backend, verify, commit */
    PH_FINAL_ACK,  /* 45 sent: short wait for the client's 00 */
    PH_CLOSING     /* flushing a last byte, then close */
};

/* What the device does about Noise (eota_server.noise_mode). */
enum { NOISE_NONE = 0, NOISE_OFFERED = 1, NOISE_REQUIRED = 2 };

/* The phases that read the fixed-size fields of the handshake. */
static int in_handshake(int phase) { return phase >= PH_MAGIC && phase <= PH_MD5; }

/* Work done per eota_server_poll call at most, and how often to retry a
 * backend that took nothing, in ms: build options (eota/opt.h). */
#define POLL_BUDGET EOTA_SERVER_POLL_BUDGET
#define BACKEND_RETRY_MS EOTA_SERVER_BACKEND_RETRY_MS


static uint32_t now(const eota_server *s)
{
    return s->cfg.clock.now_ms(s->cfg.clock.ctx);
}

/* msg is EOTA_LOG_TEXT's (text.h): NULL in a build without log text, which
 * on_log gets as "". */
static void logmsg(eota_server *s, eota_log_level lvl, const char *msg, uint32_t arg)
{
    if (s->cfg.events.on_log)
        s->cfg.events.on_log(s->cfg.events.ctx, lvl, EOTA_WITH_LOG_TEXT ? msg : "", arg);
}

/* Replies not yet taken by the connection: in the wire's queue, and (in a
 * Noise session) frames in the session's buffer. */
static size_t out_pending(const eota_server *s)
{
    size_t n = eota_wire_out_pending(&s->wire);
#if EOTA_WITH_NOISE
    if (s->encrypted)
        n += eota_noise_tx_pending(&s->noise);
#endif
    return n;
}
static size_t out_free(const eota_server *s) { return eota_wire_out_free(&s->wire); }

static void queue(eota_server *s, const void *data, size_t n) { (void)eota_wire_queue(&s->wire, data, n); }

static void queue_byte(eota_server *s, uint8_t b) { queue(s, &b, 1); }

static void expect(eota_server *s, int phase, size_t need)
{
    s->phase = phase;
    eota_wire_expect(&s->wire, need);
}

/* Constant-time comparison of received hex (either case) with our own
 * lowercase hex. */
static int hex_equal_ct(const uint8_t *got, const char *want, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(eota_wire_hex_lower(got[i]) ^ (uint8_t)want[i]);
    return diff == 0;
}

static void release_conn(eota_server *s)
{
    eota_wire_release(&s->wire); /* a Noise session closes the connection under it */
    s->wire.transport = s->cfg.transport;
    s->phase = PH_IDLE;
}

/* An error path: send the code (best effort), fail the upload (the backend
 * aborted, ERROR for the automations) when the session had become one,
 * then close once the byte has left (or the linger time is over). A
 * refused password is reported too, though no upload began. */
static void send_error(eota_server *s, uint8_t code)
{
    if (!s->peer_gone) {
        /* Nothing queued after an error byte: drop what the peer has not
         * taken only if the error would not fit (it always fits by design). */
        if (out_free(s) < 1)
            s->wire.out_len = s->wire.out_pos = 0;
        queue_byte(s, code);
    }
    s->error_code = code;
    if (!s->started && code == EOTA_RESP_ERROR_AUTH_INVALID)
        eota_ingest_emit(&s->ingest, EOTA_STATE_ERROR, code, NULL);
    else
        eota_ingest_fail(&s->ingest, code, NULL);
    s->phase = PH_CLOSING;
    s->phase_start_ms = now(s);
}

/* An error path of the engine's own: said in the log, then send_error. */
static void fail(eota_server *s, uint8_t code, const char *why)
{
    logmsg(s, EOTA_LOG_ERROR, why, code);
    send_error(s, code);
}

/* The ingest failed (and said so): its byte goes to the client. */
static void ingest_failed(eota_server *s) { send_error(s, eota_ingest_error_code(&s->ingest)); }

static void complete(eota_server *s);

/* The peer went away or the transport failed. Before the size it is a probe
 * (no event); after it, an upload that failed. */
static void lost(eota_server *s, const char *why)
{
    s->peer_gone = 1;
    s->wire.out_len = s->wire.out_pos = 0;
    if (s->phase == PH_FINISH) {
        /* Everything arrived: carry on with the commit, as a stock device
         * does; the client will see nothing more. */
        logmsg(s, EOTA_LOG_WARN, EOTA_LOG_TEXT("client gone after the whole image arrived; finishing"), 0);
        return;
    }
    if (s->phase == PH_FINAL_ACK) {
        complete(s); /* committed already; the goodbye is optional */
        return;
    }
    if (s->started) {
        fail(s, EOTA_RESP_ERROR_UNKNOWN, why);
    } else {
        logmsg(s, EOTA_LOG_DEBUG, why, 0);
        release_conn(s);
    }
}

static void complete(eota_server *s)
{
    release_conn(s);
    s->reboot_pending = 1;
    s->error_code = 0;
    logmsg(s, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("update committed, reboot requested"), s->size);
    eota_ingest_completed(&s->ingest);
}

int eota_server_init(eota_server *srv, const eota_server_config *cfg, uint8_t *buf, size_t buf_size)
{
    if (!srv || !cfg || !buf || buf_size < EOTA_SERVER_MIN_BUFFER || !cfg->transport ||
        !cfg->transport->read || !cfg->transport->write || !cfg->transport->close ||
        !cfg->clock.now_ms || !cfg->random.fill || !cfg->hash.ops)
        return EOTA_EINVAL;
    if (cfg->version > EOTA_VERSION_2 || (cfg->allow_md5_auth && !EOTA_WITH_MD5_AUTH))
        return EOTA_EINVAL;
    memset(srv, 0, sizeof *srv);
    srv->cfg = *cfg;
    if (srv->cfg.version == 0)
        srv->cfg.version = EOTA_VERSION_2;
    if (srv->cfg.handshake_timeout_ms == 0)
        srv->cfg.handshake_timeout_ms = EOTA_DEVICE_HANDSHAKE_TIMEOUT_MS;
    if (srv->cfg.data_timeout_ms == 0)
        srv->cfg.data_timeout_ms = EOTA_DEVICE_DATA_TIMEOUT_MS;
    if (srv->cfg.final_ack_timeout_ms == 0)
        srv->cfg.final_ack_timeout_ms = EOTA_DEVICE_FINAL_ACK_TIMEOUT_MS;
    srv->wire.transport = cfg->transport;
    eota_ingest_config ic = {cfg->backend, cfg->clock, cfg->events, cfg->hash, cfg->too_big_code};
    if (eota_ingest_init(&srv->ingest, &ic) != EOTA_OK)
        return EOTA_EINVAL;
    srv->buf = buf;
    srv->buf_size = buf_size;
    if (eota_server_set_password(srv, cfg->password) != EOTA_OK)
        return EOTA_EINVAL;
    if ((cfg->noise_required && !cfg->noise_key) ||
        eota_server_set_noise_key(srv, cfg->noise_key, cfg->noise_required) != EOTA_OK)
        return EOTA_EINVAL;
    return EOTA_OK;
}

/* The secrets are the caller's, referred to, never copied (server.h): a
 * change only moves the pointers and counts itself, so that a handshake
 * that began before it cannot pass authentication (after_auth). */
int eota_server_set_password(eota_server *srv, const char *password)
{
    if (!eota_wire_password_fits(password, EOTA_PASSWORD_MAX))
        return EOTA_EINVAL;
    srv->cfg.password = password ? password : ""; /* never NULL from here */
    srv->secrets_gen++;
    return EOTA_OK;
}

int eota_server_set_noise_key(eota_server *srv, const uint8_t *key, int required)
{
    uint8_t mode = NOISE_NONE;
    if (key) {
#if EOTA_WITH_NOISE
        if (!srv->cfg.noise_crypto.ops || eota_noise_key_is_zero(key))
            return EOTA_EINVAL;
        mode = required ? NOISE_REQUIRED : NOISE_OFFERED;
#else
        (void)required;
        return EOTA_EINVAL;
#endif
    }
    srv->cfg.noise_key = key;
    srv->noise_mode = mode;
    srv->secrets_gen++;
    return EOTA_OK;
}

int eota_server_accept(eota_server *srv, void *conn)
{
    /* A failed session that only lingers to let its error byte leave gives
     * way once that byte is out: no upload runs, so none is disturbed. */
    if (srv->wire.conn && srv->phase == PH_CLOSING && (out_pending(srv) == 0 || srv->peer_gone))
        release_conn(srv);
    if (srv->wire.conn || srv->reboot_pending) {
        logmsg(srv, EOTA_LOG_WARN, EOTA_LOG_TEXT("another client while an upload runs: turned away"), 0);
        srv->cfg.transport->close(conn);
        return EOTA_EBUSY;
    }
    eota_wire_open(&srv->wire, conn);
    srv->session_gen = srv->secrets_gen;
    srv->phase_start_ms = srv->last_activity_ms = now(srv);
    srv->client_features = srv->server_flags = 0;
    srv->auth_kind = EOTA_AUTH_NONE;
    srv->ota_type = EOTA_OTA_TYPE_APP;
    srv->started = srv->peer_gone = srv->gzip_agreed = srv->encrypted = srv->claimed = 0;
    srv->error_code = 0; /* info describes the current session from here */
    srv->size = srv->received = srv->acked = 0;
    eota_ingest_reset(&srv->ingest);
    expect(srv, PH_MAGIC, EOTA_MAGIC_LEN);
    logmsg(srv, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("client connected"), 0);
    return EOTA_OK;
}

/* --- the handshake fields, each handled once it is complete --- */

static void on_magic(eota_server *s)
{
    static const uint8_t magic[EOTA_MAGIC_LEN] = {EOTA_MAGIC_0, EOTA_MAGIC_1, EOTA_MAGIC_2,
                                                  EOTA_MAGIC_3, EOTA_MAGIC_4};
    if (memcmp(s->wire.in, magic, EOTA_MAGIC_LEN) != 0) {
        fail(s, EOTA_RESP_ERROR_MAGIC, EOTA_LOG_TEXT("invalid magic bytes"));
        return;
    }
    uint8_t reply[2] = {EOTA_RESP_OK, s->cfg.version};
    queue(s, reply, 2);
    expect(s, PH_FEATURES, 1);
}

static int random_hex(eota_server *s, size_t nbytes)
{
    uint8_t r[EOTA_SHA256_HEX_LEN / 2];
    if (s->cfg.random.fill(s->cfg.random.ctx, r, nbytes) != EOTA_OK)
        return 0;
    eota_hex_encode(s->nonce, r, nbytes);
    s->nonce[2 * nbytes] = '\0';
    memset(r, 0, sizeof r);
    return 1;
}

/* The session takes the upload slot: always for an engine of its own; an
 * eota_lobby's refuses it while another session holds the slot, and the
 * connection is closed as a busy device closes a newcomer. 1: taken. */
static int take_slot(eota_server *s)
{
    if (s->claim && !s->claim(s->claim_ctx, s)) {
        logmsg(s, EOTA_LOG_WARN, EOTA_LOG_TEXT("another client while an upload runs: turned away"), 0);
        release_conn(s);
        return 0;
    }
    s->claimed = 1;
    return 1;
}

static void after_auth(eota_server *s)
{
    if (s->session_gen != s->secrets_gen) {
        fail(s, EOTA_RESP_ERROR_AUTH_INVALID,
             EOTA_LOG_TEXT("authentication refused: the password or key changed during the handshake"));
        return;
    }
    /* Authenticated by the password or the key: the upload slot is its. */
    if ((s->auth_kind != EOTA_AUTH_NONE || s->encrypted) && !take_slot(s))
        return;
    queue_byte(s, EOTA_RESP_AUTH_OK);
    if (s->client_features & EOTA_FEATURE_EXTENDED)
        expect(s, PH_TYPE, 1);
    else
        expect(s, PH_SIZE, 4);
}

/* --- Noise (PROTOCOL.md section 10) --- */

/* The client asked for Noise (0x08 with 0x04) and the device holds a key. */
static int noise_wanted(const eota_server *s, uint8_t f)
{
    const uint8_t both = EOTA_FEATURE_NOISE | EOTA_FEATURE_EXTENDED;
    return EOTA_WITH_NOISE && s->noise_mode != NOISE_NONE && (f & both) == both;
}

#if EOTA_WITH_NOISE
/* The plaintext preamble has left: the rest of the exchange is read and
 * written through the Noise session, the responder over the connection. */
static int noise_begin(eota_server *s)
{
    eota_noise_config nc = {EOTA_NOISE_RESPONDER, s->cfg.noise_key, s->cfg.noise_crypto, s->cfg.random, 1};
    uint8_t pro[EOTA_NOISE_PROLOGUE_LEN];
    eota_noise_prologue(pro, s->cfg.version, s->client_features, s->server_flags);
    if (eota_noise_init(&s->noise, &nc) != EOTA_OK)
        return 0;
    int st = eota_noise_start(&s->noise, s->wire.transport, s->wire.conn, pro);
    s->wire.transport = &eota_noise_transport;
    s->wire.conn = &s->noise;
    s->encrypted = 1;
    return st == EOTA_OK;
}

/* The handshake failed: a reject frame waits in the session (a wrong key
 * gets `Handshake MAC failure`); it leaves, then the connection closes. */
static void noise_failed(eota_server *s)
{
    eota_noise_failure_kind kind = eota_noise_failure(&s->noise);
    if (kind == EOTA_NOISE_FAIL_IO) {
        lost(s, EOTA_LOG_TEXT("client closed during the handshake"));
        return;
    }
    logmsg(s, EOTA_LOG_WARN,
           kind == EOTA_NOISE_FAIL_MAC ? EOTA_LOG_TEXT("encryption handshake failed: the client uses another key")
                                       : EOTA_LOG_TEXT("encryption handshake failed: malformed handshake"),
           (uint32_t)kind);
    s->phase = PH_CLOSING;
    s->phase_start_ms = now(s);
}

static int noise_step(eota_server *s)
{
    if (eota_wire_out_pending(&s->wire) > 0)
        return 0; /* 48 and the flags leave in plaintext first */
    if (!s->encrypted && !noise_begin(s)) {
        fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("encryption setup failed"));
        return 1;
    }
    int st = eota_noise_handshake(&s->noise);
    if (st == EOTA_AGAIN)
        return 0;
    if (st != EOTA_OK) {
        noise_failed(s);
        return 1;
    }
    logmsg(s, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("encrypted session established"), 0);
    after_auth(s);
    return 1;
}
#else
static int noise_step(eota_server *s)
{
    (void)s;
    return 0;
}
#endif

/* The reply to the feature byte f: 48 and the server flags to an
 * extended client, else 46 or 40. */
static void feature_reply(eota_server *s, uint8_t f)
{
    uint8_t caps = s->cfg.backend.caps;
    s->gzip_agreed = (f & EOTA_FEATURE_COMPRESSION) && (caps & EOTA_BACKEND_CAP_GZIP);
    if (!(f & EOTA_FEATURE_EXTENDED)) {
        queue_byte(s, s->gzip_agreed ? EOTA_RESP_SUPPORTS_COMPRESSION : EOTA_RESP_HEADER_OK);
        return;
    }
    uint8_t flags = s->noise_mode != NOISE_NONE ? EOTA_SERVER_FLAG_NOISE : 0;
    if (s->gzip_agreed)
        flags |= EOTA_SERVER_FLAG_COMPRESSION;
    if (caps & (EOTA_BACKEND_CAP_PARTITION_TABLE | EOTA_BACKEND_CAP_BOOTLOADER))
        flags |= EOTA_SERVER_FLAG_PARTITIONS;
    s->server_flags = flags;
    uint8_t reply[2] = {EOTA_RESP_FEATURE_FLAGS, flags};
    queue(s, reply, 2);
}

static void on_features(eota_server *s)
{
    uint8_t f = s->wire.in[0];
    s->client_features = f;
    logmsg(s, EOTA_LOG_VERBOSE, EOTA_LOG_TEXT("client features"), f);
    if (s->noise_mode == NOISE_REQUIRED && !noise_wanted(s, f)) {
        fail(s, EOTA_RESP_ERROR_ENCRYPTION_REQUIRED,
             EOTA_LOG_TEXT("client does not encrypt; this device requires encryption"));
        return;
    }
    feature_reply(s, f);
    if (noise_wanted(s, f)) {
        s->phase = PH_NOISE; /* the key authenticates both sides: no password step */
        return;
    }
    if (s->cfg.password[0] == '\0') {
        after_auth(s);
        return;
    }
    size_t hexlen;
    uint8_t req;
    if (f & EOTA_FEATURE_SHA256_AUTH) {
        s->auth_kind = EOTA_AUTH_SHA256;
        hexlen = EOTA_SHA256_HEX_LEN;
        req = EOTA_RESP_REQUEST_SHA256_AUTH;
    } else if (EOTA_WITH_MD5_AUTH && s->cfg.allow_md5_auth) {
        s->auth_kind = EOTA_AUTH_MD5;
        hexlen = EOTA_MD5_HEX_LEN;
        req = EOTA_RESP_REQUEST_AUTH;
        logmsg(s, EOTA_LOG_WARN,
               EOTA_LOG_TEXT("client uses legacy MD5 authentication (allowed by configuration)"), 0);
    } else {
        fail(s, EOTA_RESP_ERROR_AUTH_INVALID,
             EOTA_LOG_TEXT("client cannot do SHA-256 authentication; refused"));
        return;
    }
    if (!random_hex(s, hexlen / 2)) {
        fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("random source failed"));
        return;
    }
    queue_byte(s, req);
    queue(s, s->nonce, hexlen);
    expect(s, PH_AUTH, 2 * hexlen);
}

/* The password is the one in force now: it may have changed since the
 * challenge (after_auth refuses the session then anyway). */
static void on_auth(eota_server *s)
{
    eota_hash_alg alg = s->auth_kind == EOTA_AUTH_SHA256 ? EOTA_HASH_SHA256 : EOTA_HASH_MD5;
    size_t hexlen = s->wire.in_need / 2;
    uint8_t digest[EOTA_SHA256_DIGEST_LEN];
    char want[EOTA_SHA256_HEX_LEN];
    const eota_hash *h = &s->cfg.hash;

    if (h->ops->begin(h->ctx, alg) != EOTA_OK) {
        fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("hash seam failed"));
        return;
    }
    h->ops->update(h->ctx, (const uint8_t *)s->cfg.password, strlen(s->cfg.password));
    h->ops->update(h->ctx, (const uint8_t *)s->nonce, hexlen);
    h->ops->update(h->ctx, s->wire.in, hexlen); /* cnonce, exactly as received */
    if (h->ops->finish(h->ctx, digest) != EOTA_OK) {
        fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("hash seam failed"));
        return;
    }
    eota_hex_encode(want, digest, hexlen / 2);
    int ok = hex_equal_ct(s->wire.in + hexlen, want, hexlen);
    eota_wire_wipe(digest, sizeof digest); /* derived from the password */
    eota_wire_wipe(want, sizeof want);
    if (!ok) {
        fail(s, EOTA_RESP_ERROR_AUTH_INVALID, EOTA_LOG_TEXT("authentication failed: wrong password"));
        return;
    }
    logmsg(s, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("authenticated"), s->auth_kind);
    after_auth(s);
}

static void on_type(eota_server *s)
{
    s->ota_type = s->wire.in[0];
    expect(s, PH_SIZE, 4);
}

static void on_size(eota_server *s)
{
    if (!s->claimed && !take_slot(s)) /* no password: the size claims it */
        return;
    const uint8_t *in = s->wire.in;
    s->size = ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | (uint32_t)in[3];
    /* Past auth and size: this is an upload, not a scan. */
    s->started = 1;
    logmsg(s, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("size received, bytes"), s->size);
    eota_begin_info info;
    info.size = s->size;
    info.ota_type = s->ota_type;
    info.gzip_agreed = s->gzip_agreed;
    if (eota_ingest_begin(&s->ingest, &info, s->size) != EOTA_OK) {
        ingest_failed(s);
        return;
    }
    queue_byte(s, EOTA_RESP_UPDATE_PREPARE_OK);
    expect(s, PH_MD5, EOTA_MD5_HEX_LEN);
}

static void on_md5(eota_server *s)
{
    if (eota_ingest_expect_md5(&s->ingest, (const char *)s->wire.in) != EOTA_OK) {
        ingest_failed(s);
        return;
    }
    queue_byte(s, EOTA_RESP_BIN_MD5_OK);
    s->phase = PH_DATA;
    s->last_activity_ms = now(s);
}

static void on_field(eota_server *s)
{
    switch (s->phase) {
    case PH_MAGIC: on_magic(s); break;
    case PH_FEATURES: on_features(s); break;
    case PH_AUTH: on_auth(s); break;
    case PH_TYPE: on_type(s); break;
    case PH_SIZE: on_size(s); break;
    case PH_MD5: on_md5(s); break;
    case PH_FINAL_ACK:
        if (s->wire.in[0] != EOTA_RESP_OK)
            logmsg(s, EOTA_LOG_WARN, EOTA_LOG_TEXT("unexpected final acknowledgement"), s->wire.in[0]);
        complete(s);
        break;
    default: break;
    }
}

/* --- the data phase --- */

static void all_received(eota_server *s);

/* Queue the CHUNK_OKs (version 2) for the bytes up to `upto`: one per 8192
 * bytes and one for a final partial block, ceil(size / 8192) in all. */
static void data_acks(eota_server *s, uint32_t upto)
{
    if (s->cfg.version < EOTA_VERSION_2)
        return;
    /* upto - acked, not acked + 8192: that sum wraps for sizes from
     * 0xFFFFE000 up and the loop would never end. */
    while (upto - s->acked >= EOTA_BLOCK_SIZE || (upto == s->size && s->acked < s->size)) {
        queue_byte(s, EOTA_RESP_CHUNK_OK);
        s->acked = (s->size - s->acked < EOTA_BLOCK_SIZE) ? s->size : s->acked + EOTA_BLOCK_SIZE;
    }
}

/* RECEIVE_OK once every byte arrived; when acknowledging after writes, only
 * once every byte was also written, so that 44 follows the last 47. */
static void data_check_end(eota_server *s)
{
    if (s->phase == PH_DATA && s->received == s->size &&
        (!s->cfg.ack_after_write || eota_ingest_written(&s->ingest) == s->size))
        all_received(s);
}

/* Give buffered image bytes to the backend. Returns 1 when it took some. */
static int feed_backend(eota_server *s)
{
    size_t taken = 0;
    if (eota_ingest_push(&s->ingest, &taken) != EOTA_OK) {
        ingest_failed(s);
        return 0;
    }
    if (taken) {
        s->last_activity_ms = now(s);
        if (s->cfg.ack_after_write && s->phase == PH_DATA)
            data_acks(s, eota_ingest_written(&s->ingest));
    }
    return taken > 0;
}

/* Every byte arrived: 44, then the MD5 verdict. */
static void all_received(eota_server *s)
{
    queue_byte(s, EOTA_RESP_RECEIVE_OK);
    if (eota_ingest_check_md5(&s->ingest) != EOTA_OK) {
        ingest_failed(s);
        return;
    }
    s->phase = PH_FINISH;
}

static int data_read(eota_server *s)
{
    /* Room for the acks this read may produce, plus 44 and an error byte. */
    size_t room = out_free(s);
    if (room < 4)
        return 0;
    size_t max = (room - 3) * EOTA_BLOCK_SIZE;
    size_t want = s->size - s->received;
    if (want > s->buf_size)
        want = s->buf_size;
    if (want > max)
        want = max;
    long n = s->wire.transport->read(s->wire.conn, s->buf, want);
    if (n == EOTA_AGAIN)
        return 0;
    if (n <= 0) {
        lost(s, n == EOTA_CLOSED ? EOTA_LOG_TEXT("client closed during the data phase")
                                 : EOTA_LOG_TEXT("read error during the data phase"));
        return 0;
    }
    (void)eota_ingest_feed(&s->ingest, s->buf, (size_t)n); /* nothing is pending here */
    s->received += (uint32_t)n;
    s->last_activity_ms = now(s);
    if (!s->cfg.ack_after_write)
        data_acks(s, s->received);
    data_check_end(s);
    return 1;
}

static int finish_step(eota_server *s)
{
    if (eota_ingest_pending(&s->ingest))
        return feed_backend(s);
    int st = eota_ingest_finish(&s->ingest);
    if (st == EOTA_AGAIN)
        return 0;
    if (st != EOTA_OK) {
        ingest_failed(s);
        return 0;
    }
    if (s->peer_gone) {
        complete(s);
        return 1;
    }
    queue_byte(s, EOTA_RESP_UPDATE_END_OK);
    expect(s, PH_FINAL_ACK, 1);
    s->phase_start_ms = now(s);
    return 1;
}

/* --- driving --- */

static int flush(eota_server *s)
{
    if (s->peer_gone)
        return 0;
    long err;
    int moved = eota_wire_flush(&s->wire, &err);
#if EOTA_WITH_NOISE
    if (err == 0 && s->encrypted) {
        int r = eota_noise_flush(&s->noise);
        moved |= r > 0;
        err = r < 0 ? r : 0;
    }
#endif
    if (err == 0)
        return moved;
    if (s->phase == PH_CLOSING) {
        s->peer_gone = 1;
        s->wire.out_len = s->wire.out_pos = 0;
    } else {
        lost(s, EOTA_LOG_TEXT("write to client failed"));
    }
    return moved;
}

static int read_field(eota_server *s)
{
    /* A reply leaves before the next field is read: otherwise a client that
     * sends ahead (its final 00, or a close) ends the session while replies
     * such as 45 still wait in `out`, and they are lost. */
    if (out_pending(s) > 0 && !s->peer_gone)
        return 0;
    long n = eota_wire_read_field(&s->wire);
    if (n == EOTA_AGAIN)
        return 0;
    if (n <= 0) {
        if (s->phase == PH_FINAL_ACK) {
            complete(s); /* the final 00 may be missing */
            return 1;
        }
        lost(s, n == EOTA_CLOSED ? EOTA_LOG_TEXT("client closed during the handshake")
                                 : EOTA_LOG_TEXT("read error during the handshake"));
        return 0;
    }
    if (s->wire.in_have == s->wire.in_need)
        on_field(s);
    return 1;
}

/* After an error byte: let it leave, take (and drop) what the peer still
 * sends so the close does not become a reset that could swallow the byte,
 * and close when the peer closes or the linger time is over. */
static int closing_step(eota_server *s)
{
    if (out_pending(s) > 0 && !s->peer_gone)
        return 0;
    if (!s->peer_gone) {
        uint8_t sink[64];
        long n = s->wire.transport->read(s->wire.conn, sink, sizeof sink);
        if (n > 0)
            return 1;
        if (n == EOTA_AGAIN)
            return 0;
    }
    release_conn(s);
    return 1;
}

static int check_timeouts(eota_server *s)
{
    uint32_t t = now(s);
    if (in_handshake(s->phase)) {
        if (t - s->phase_start_ms < s->cfg.handshake_timeout_ms)
            return 0;
        if (s->started) {
            fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("handshake timed out"));
        } else {
            logmsg(s, EOTA_LOG_WARN, EOTA_LOG_TEXT("handshake timed out"), s->cfg.handshake_timeout_ms);
            release_conn(s);
        }
        return 1;
    }
    switch (s->phase) {
    case PH_DATA:
    case PH_FINISH:
        if (t - s->last_activity_ms >= s->cfg.data_timeout_ms) {
            fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("no data from the client: timed out"));
            return 1;
        }
        if (s->phase == PH_DATA &&
            eota_ingest_too_slow(&s->ingest, s->cfg.progress_floor_bytes, s->cfg.progress_window_ms)) {
            fail(s, EOTA_RESP_ERROR_UNKNOWN, EOTA_LOG_TEXT("data arriving below the progress floor: ended"));
            return 1;
        }
        break;
    case PH_FINAL_ACK:
        if (t - s->phase_start_ms >= s->cfg.final_ack_timeout_ms) {
            logmsg(s, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("no final acknowledgement; going on"), 0);
            complete(s);
            return 1;
        }
        break;
    case PH_CLOSING:
        if (t - s->phase_start_ms >= s->cfg.final_ack_timeout_ms) {
            release_conn(s);
            return 1;
        }
        break;
    default: break;
    }
    return 0;
}

/* One step of the current phase's work. 1 when something moved. */
static int phase_step(eota_server *s)
{
    if (s->phase == PH_NOISE)
        return noise_step(s);
    if (in_handshake(s->phase) || s->phase == PH_FINAL_ACK)
        return read_field(s);
    switch (s->phase) {
    case PH_DATA:
        if (!eota_ingest_pending(&s->ingest))
            return data_read(s);
        int fed = feed_backend(s);
        data_check_end(s);
        return fed;
    case PH_FINISH: return finish_step(s);
    case PH_CLOSING: return closing_step(s);
    default: return 0;
    }
}

eota_server_result eota_server_poll(eota_server *srv)
{
    for (int budget = 0; srv->wire.conn && budget < POLL_BUDGET; budget++) {
        int phase_before = srv->phase;
        int progress = flush(srv);
        if (!srv->wire.conn)
            break;
        if (check_timeouts(srv))
            continue;
        progress |= phase_step(srv);
        /* A phase change (an error path, a lost peer) is progress too: the
         * new phase may have work to do at once, with no I/O to wake us. */
        if (!progress && srv->phase == phase_before)
            break;
    }
    if (srv->reboot_pending) {
        srv->reboot_pending = 0;
        return EOTA_SERVER_REBOOT;
    }
    return srv->wire.conn ? EOTA_SERVER_ACTIVE : EOTA_SERVER_IDLE;
}

unsigned eota_server_wants(const eota_server *srv)
{
    if (!srv->wire.conn)
        return 0;
    unsigned w = 0;
    if (out_pending(srv) > 0 && !srv->peer_gone)
        w |= EOTA_WANT_WRITE;
    switch (srv->phase) {
    case PH_DATA:
        if (eota_ingest_pending(&srv->ingest) == 0 && out_free(srv) >= 4)
            w |= EOTA_WANT_READ;
        break;
    case PH_FINISH: break;
    case PH_CLOSING:
        if (!(w & EOTA_WANT_WRITE) && !srv->peer_gone)
            w |= EOTA_WANT_READ;
        break;
    default:
        if (!(w & EOTA_WANT_WRITE))
            w |= EOTA_WANT_READ; /* read_field waits for the flush */
        break;
    }
    return w;
}

long eota_server_timeout_ms(const eota_server *srv)
{
    if (!srv->wire.conn)
        return srv->reboot_pending ? 0 : -1;
    uint32_t t = now(srv);
#if EOTA_WITH_NOISE
    /* Plaintext already decrypted: the connection will not wake us for it. */
    if (srv->encrypted && eota_noise_rx_buffered(&srv->noise) > 0 && (eota_server_wants(srv) & EOTA_WANT_READ))
        return 0;
#endif
    switch (srv->phase) {
    case PH_DATA:
        if (eota_ingest_pending(&srv->ingest))
            return BACKEND_RETRY_MS;
        return eota_wire_remaining(srv->last_activity_ms, srv->cfg.data_timeout_ms, t);
    case PH_FINISH:
        return eota_ingest_busy(&srv->ingest) ? BACKEND_RETRY_MS : 0;
    case PH_FINAL_ACK:
    case PH_CLOSING:
        return eota_wire_remaining(srv->phase_start_ms, srv->cfg.final_ack_timeout_ms, t);
    default:
        return eota_wire_remaining(srv->phase_start_ms, srv->cfg.handshake_timeout_ms, t);
    }
}

void eota_server_cancel(eota_server *srv)
{
    if (!srv->wire.conn)
        return;
    logmsg(srv, EOTA_LOG_WARN, EOTA_LOG_TEXT("upload cancelled"), srv->received);
    eota_ingest_abort(&srv->ingest); /* ABORT unless it failed or committed */
    if (srv->phase == PH_FINAL_ACK) {
        /* The image is committed; only the goodbye is cut short. */
        complete(srv);
        return;
    }
    release_conn(srv);
}

int eota_server_busy(const eota_server *srv) { return srv->wire.conn != NULL; }

int eota_server_authenticated(const eota_server *srv)
{
    /* a failed session (its error byte leaving) holds nothing any more */
    return srv->wire.conn != NULL && srv->claimed && srv->phase != PH_CLOSING;
}

int eota_server_yield(eota_server *srv)
{
    if (!srv->wire.conn || eota_server_authenticated(srv))
        return EOTA_EBUSY;
    logmsg(srv, EOTA_LOG_DEBUG, EOTA_LOG_TEXT("handshake closed: it gives way to another client"), 0);
    release_conn(srv);
    return EOTA_OK;
}

int eota_server_finishing(const eota_server *srv)
{
    return srv->wire.conn != NULL && (srv->phase == PH_FINAL_ACK || srv->phase == PH_CLOSING);
}

void eota_server_get_info(const eota_server *srv, eota_server_info *info)
{
    info->client_features = srv->client_features;
    info->server_flags = srv->server_flags;
    info->auth = (eota_auth_kind)srv->auth_kind;
    info->version = srv->cfg.version;
    info->ota_type = srv->ota_type;
    info->size = srv->size;
    info->received = srv->received;
    info->error_code = srv->error_code;
    info->encrypted = srv->encrypted;
#if EOTA_WITH_NOISE
    info->noise_failure = srv->encrypted ? (uint8_t)eota_noise_failure(&srv->noise) : 0;
#else
    info->noise_failure = 0;
#endif
}
