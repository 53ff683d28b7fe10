/*
 * fuzz_server.c: libFuzzer target for the device engine (eota/server.h).
 * The input plays the client (bytes, fragment sizes, pauses, stalls and
 * closes; format in fuzz_harness.h) against an engine wired to an in-memory
 * transport, a fake clock, a fixed random source, the POSIX hash and the
 * mem backend, with the configuration taken from the first bytes.
 *
 * Beyond the sanitizers, it aborts when the engine breaks a rule a correct
 * one keeps whatever the client does:
 *  - backend calls in order (write/end only after a successful begin and
 *    before end succeeded or abort; abort only then and once; end only when
 *    every announced byte was written; never more bytes than announced);
 *  - a committed image's MD5 is one the client sent, its length the size
 *    announced, and without a password set there was no authentication;
 *  - nothing written after an error byte; 45 written only after a commit;
 *    the first reply is 00 VV with the configured version; reserved server
 *    flags never set;
 *  - every connection closed exactly once, none touched after its close,
 *    a second client turned away at once while one is served;
 *  - one COMPLETED event and one REBOOT result per commit;
 *  - the engine ends idle once the client is silent and time runs on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eota/posix.h"
#include "eota/server.h"
#include "fuzz_harness.h"
#include "mem_backend.h"

#define CIN_MAX (128u * 1024u)
#define STORE_CAP 40000u

#define CHECK(cond, msg)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz_server: invariant broken: %s (%s:%d)\n", msg, \
                    __FILE__, __LINE__);                                        \
            abort();                                                            \
        }                                                                       \
    } while (0)

typedef struct fconn {
    int accepted;     /* handed to the engine */
    int close_count;
    uint8_t in[CIN_MAX];
    size_t in_len, in_pos;
    int eof, read_error, write_closed;
    uint8_t out[FZ_OUT_MAX];
    size_t out_len;   /* captured (first FZ_OUT_MAX bytes) */
    size_t out_total;
    int error_seen;   /* an error byte was written */
    int end_ok_seen;  /* 45 written */
    uint32_t acks;    /* 47s written */
} fconn;

typedef struct fz_state {
    /* knobs */
    size_t max_read, max_write;
    unsigned again_left;
    uint32_t now;
    uint32_t rand_ctr;
    int pw_state;
    int session_pw; /* a password was set when the session was accepted */
    int session_pw_state;
    int allow_md5;

    fconn conns[FZ_MAX_CONNS];
    int nconns;
    int cur; /* the connection the engine serves (or last served) */

    /* backend wrapper */
    eota_mem_backend mb;
    eota_backend inner;
    uint8_t store[STORE_CAP];
    int begun;
    uint32_t announced;
    size_t written;
    int committed;
    int session_committed;

    /* events and results */
    int completed_events;
    int reboots;
    uint8_t version;

    eota_server srv;
    uint8_t xfer[8197];
} fz_state;

static fz_state fz;
static eota_posix_hash hash_ctx;
static int hash_ready;

/* ---------- transport ---------- */

static fconn *conn_of(void *p)
{
    fconn *c = p;
    CHECK(c >= fz.conns && c < fz.conns + FZ_MAX_CONNS, "unknown connection pointer");
    return c;
}

static long fz_read(void *p, uint8_t *buf, size_t len)
{
    fconn *c = conn_of(p);
    size_t n;

    CHECK(c->close_count == 0, "read after close");
    CHECK(c->accepted, "read on a connection never accepted");
    CHECK(len > 0, "read of 0 bytes");
    if (c->read_error)
        return EOTA_EIO;
    n = c->in_len - c->in_pos;
    if (n == 0)
        return c->eof ? EOTA_CLOSED : EOTA_AGAIN;
    if (n > len)
        n = len;
    if (fz.max_read && n > fz.max_read)
        n = fz.max_read;
    memcpy(buf, c->in + c->in_pos, n);
    c->in_pos += n;
    return (long)n;
}

static int is_error_byte(uint8_t b) { return b >= 0x80; }

static long fz_write(void *p, const uint8_t *buf, size_t len)
{
    fconn *c = conn_of(p);
    size_t n = len;

    CHECK(c->close_count == 0, "write after close");
    CHECK(c->accepted, "write on a connection never accepted");
    CHECK(len > 0, "write of 0 bytes");
    if (c->write_closed)
        return EOTA_CLOSED;
    if (fz.again_left > 0) {
        fz.again_left--;
        return EOTA_AGAIN;
    }
    if (fz.max_write && n > fz.max_write)
        n = fz.max_write;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        size_t pos = c->out_total + i;
        CHECK(!c->error_seen, "bytes written after an error byte");
        if (pos == 0)
            CHECK(b == 0x00 || b == EOTA_RESP_ERROR_MAGIC, "first reply neither 00 nor 80");
        if (pos == 1 && c->out[0] == 0x00)
            CHECK(b == fz.version, "version byte is not the configured version");
        if (pos == 3 && c->out[2] == EOTA_RESP_FEATURE_FLAGS)
            CHECK((b & EOTA_SERVER_FLAG_RESERVED_MASK) == 0, "reserved server flag set");
        if (pos >= 2 && is_error_byte(b))
            c->error_seen = 1;
        if (pos == 0 && b == EOTA_RESP_ERROR_MAGIC)
            c->error_seen = 1;
        if (b == EOTA_RESP_UPDATE_END_OK && pos >= 2 && !(pos == 3 && c->out[2] == EOTA_RESP_FEATURE_FLAGS)) {
            /* 45 is never a nonce character (lowercase hex) nor a flags
             * byte, so here it is UPDATE_END_OK */
            CHECK(fz.session_committed, "45 written without a commit");
            c->end_ok_seen = 1;
        }
        /* 47 and 44 are no nonce character and no flags byte either */
        if (b == EOTA_RESP_CHUNK_OK && pos >= 2) {
            eota_server_info info;
            eota_server_get_info(&fz.srv, &info);
            c->acks++;
            CHECK(fz.version == 2, "CHUNK_OK sent by a version 1 device");
            CHECK(c->acks <= (info.size + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE, "more CHUNK_OKs than blocks");
        }
        if (b == EOTA_RESP_RECEIVE_OK && pos >= 2) {
            eota_server_info info;
            eota_server_get_info(&fz.srv, &info);
            CHECK(info.received == info.size, "RECEIVE_OK before all bytes arrived");
            if (fz.version == 2)
                CHECK(c->acks == (info.size + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE,
                      "RECEIVE_OK without one CHUNK_OK per block");
        }
        if (pos < FZ_OUT_MAX) {
            c->out[pos] = b;
            c->out_len = pos + 1;
        }
    }
    c->out_total += n;
    return (long)n;
}

static void fz_close(void *p)
{
    fconn *c = conn_of(p);
    c->close_count++;
    CHECK(c->close_count == 1, "connection closed twice");
}

static const eota_transport_ops fz_transport = {fz_read, fz_write, fz_close};

/* ---------- clock, random, events ---------- */

static uint32_t fz_now(void *ctx)
{
    (void)ctx;
    return fz.now;
}

static int fz_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(fz.rand_ctr++ * 167u + 13u);
    return EOTA_OK;
}

static void fz_event(void *ctx, const eota_event *ev)
{
    (void)ctx;
    CHECK(ev->total == 0 || ev->received <= ev->total, "event: received beyond total");
    if (ev->state == EOTA_STATE_COMPLETED)
        fz.completed_events++;
    if (ev->state == EOTA_STATE_ERROR)
        CHECK(is_error_byte(ev->code), "ERROR event without an error code");
}

static void fz_log(void *ctx, eota_log_level level, const char *msg, uint32_t arg)
{
    (void)ctx;
    (void)arg;
    CHECK(msg != NULL, "log message NULL");
    CHECK(level >= EOTA_LOG_ERROR && level <= EOTA_LOG_VERBOSE, "log level out of range");
}

/* ---------- backend wrapper ---------- */

static int hexval(uint8_t h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

/* A commit on a session with a password: the client's reply (which starts
 * at offset 6 of its stream, after the magic and the features byte) must
 * be the right hash of password, the nonce the engine sent, and the cnonce.
 * Checked when the challenge was written out whole. */
static void check_auth(const fconn *c)
{
    static const char *const pw[3] = {FZ_PASSWORD, "other", ""};
    size_t p = 2, len;
    uint8_t d[32], buf[EOTA_PASSWORD_MAX + 128];
    size_t plen = strlen(pw[fz.session_pw_state]);

    if (c->out_len < 4)
        return;
    p += c->out[2] == EOTA_RESP_FEATURE_FLAGS ? 2 : 1;
    if (c->out_len <= p)
        return;
    CHECK(c->out[p] == EOTA_RESP_REQUEST_SHA256_AUTH || c->out[p] == EOTA_RESP_REQUEST_AUTH,
          "committed without a challenge sent");
    len = c->out[p] == EOTA_RESP_REQUEST_SHA256_AUTH ? 64 : 32;
    if (c->out_len < p + 1 + len)
        return;
    CHECK(c->in_pos >= 6 + 2 * len, "committed before the client could reply to the challenge");
    memcpy(buf, pw[fz.session_pw_state], plen);
    memcpy(buf + plen, c->out + p + 1, len);
    memcpy(buf + plen + len, c->in + 6, len);
    CHECK(eota_posix_digest(len == 64 ? EOTA_HASH_SHA256 : EOTA_HASH_MD5, buf, plen + 2 * len, d) == EOTA_OK,
          "digest");
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(c->in[6 + len + 2 * i]), lo = hexval(c->in[6 + len + 2 * i + 1]);
        CHECK(hi >= 0 && lo >= 0 && (uint8_t)(hi << 4 | lo) == d[i], "committed after a wrong auth reply");
    }
}

static int contains_hex_ci(const uint8_t *hay, size_t n, const char *hex)
{
    size_t m = strlen(hex);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m) {
            uint8_t h = hay[i + j];
            if (h >= 'A' && h <= 'F')
                h = (uint8_t)(h | 0x20);
            if (h != (uint8_t)hex[j])
                break;
            j++;
        }
        if (j == m)
            return 1;
    }
    return 0;
}

static int w_begin(void *ctx, const eota_begin_info *info)
{
    (void)ctx;
    CHECK(!fz.begun, "begin while an upload is begun");
    CHECK(info != NULL && info->size > 0, "begin with size 0");
    CHECK(info->ota_type <= EOTA_OTA_TYPE_BOOTLOADER, "begin with an unknown OTA type");
    CHECK(!info->gzip_agreed || (fz.inner.caps & EOTA_BACKEND_CAP_GZIP), "gzip agreed without the capability");
    int st = fz.inner.ops->begin(fz.inner.ctx, info);
    if (st == EOTA_OK) {
        fz.begun = 1;
        fz.announced = info->size;
        fz.written = 0;
    }
    return st;
}

static int w_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    (void)ctx;
    CHECK(fz.begun, "write without begin");
    CHECK(len > 0, "write of 0 bytes");
    int st = fz.inner.ops->write(fz.inner.ctx, data, len, taken);
    if (st == EOTA_OK) {
        CHECK(*taken <= len, "mem backend took more than offered");
        fz.written += *taken;
        CHECK(fz.written <= fz.announced, "more bytes written than announced");
    }
    return st;
}

static int w_end(void *ctx)
{
    (void)ctx;
    CHECK(fz.begun, "end without begin");
    CHECK(fz.written == fz.announced, "end before every byte was written");
    int st = fz.inner.ops->end(fz.inner.ctx);
    if (st == EOTA_OK) {
        char hex[2 * EOTA_MD5_DIGEST_LEN + 1];
        uint8_t d[EOTA_MD5_DIGEST_LEN];
        fconn *c = &fz.conns[fz.cur];
        eota_server_info info;

        fz.begun = 0;
        fz.committed++;
        fz.session_committed = 1;
        CHECK(fz.mb.committed_len == fz.announced, "committed length differs from the size");
        CHECK(eota_posix_digest(EOTA_HASH_MD5, fz.store, fz.mb.committed_len, d) == EOTA_OK, "md5");
        for (size_t i = 0; i < sizeof d; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        CHECK(contains_hex_ci(c->in, c->in_pos, hex), "committed an image whose MD5 the client never sent");
        eota_server_get_info(&fz.srv, &info);
        CHECK(info.size == fz.announced, "info.size differs");
        CHECK(info.received == fz.announced, "info.received differs");
        if (fz.session_pw)
            CHECK(info.auth == EOTA_AUTH_SHA256 || info.auth == EOTA_AUTH_MD5, "committed without authentication");
        else
            CHECK(info.auth == EOTA_AUTH_NONE, "authentication without a password");
        CHECK(info.auth != EOTA_AUTH_MD5 || fz.allow_md5, "MD5 authentication not allowed");
        if (fz.session_pw)
            check_auth(c);
    }
    return st;
}

static void w_abort(void *ctx)
{
    (void)ctx;
    CHECK(fz.begun, "abort without a begun upload");
    fz.begun = 0;
    fz.inner.ops->abort(fz.inner.ctx);
}

static void w_detail(void *ctx, eota_backend_detail *out)
{
    (void)ctx;
    fz.inner.ops->detail(fz.inner.ctx, out);
}

static const eota_backend_ops wrap_ops = {w_begin, w_write, w_end, w_abort, w_detail};

/* ---------- driving ---------- */

static void check_engine(void)
{
    unsigned w = eota_server_wants(&fz.srv);
    long t = eota_server_timeout_ms(&fz.srv);

    CHECK((w & ~(EOTA_WANT_READ | EOTA_WANT_WRITE)) == 0, "wants: unknown bits");
    CHECK(t >= -1, "timeout below -1");
    if (!eota_server_busy(&fz.srv)) {
        CHECK(w == 0, "wants I/O while idle");
        CHECK(!fz.begun, "idle with the backend still begun");
        for (int i = 0; i < fz.nconns; i++)
            CHECK(fz.conns[i].close_count == 1, "idle but a connection is still open");
    }
}

static void poll_once(void)
{
    eota_server_result r = eota_server_poll(&fz.srv);
    CHECK(r == EOTA_SERVER_IDLE || r == EOTA_SERVER_ACTIVE || r == EOTA_SERVER_REBOOT, "poll result");
    if (r == EOTA_SERVER_REBOOT)
        fz.reboots++;
    check_engine();
}

static void connect_new(void)
{
    if (fz.nconns >= FZ_MAX_CONNS)
        return;
    fconn *c = &fz.conns[fz.nconns++];
    int busy = eota_server_busy(&fz.srv);
    int prev = fz.cur;
    eota_server_info before;
    eota_server_get_info(&fz.srv, &before);
    c->accepted = 1;
    int rc = eota_server_accept(&fz.srv, c);
    if (busy && rc != EOTA_EBUSY) {
        /* Only a failed session that lingers for its error byte gives way:
         * it must have failed, be closed now, and hold no backend. */
        CHECK(before.error_code != 0, "second client accepted while an upload is served");
        CHECK(prev >= 0 && fz.conns[prev].close_count == 1, "replaced session not closed");
        CHECK(!fz.begun, "replaced session left the backend begun");
    }
    if (rc == EOTA_EBUSY) {
        CHECK(c->close_count == 1, "turned-away client not closed at once");
        return;
    }
    CHECK(rc == EOTA_OK, "accept failed");
    fz.cur = (int)(c - fz.conns);
    fz.session_committed = 0;
    fz.session_pw = fz.pw_state != 2;
    fz.session_pw_state = fz.pw_state;
}

static void client_send(const uint8_t *p, size_t n)
{
    fconn *c = &fz.conns[fz.cur];
    if (n > CIN_MAX - c->in_len)
        n = CIN_MAX - c->in_len;
    memcpy(c->in + c->in_len, p, n);
    c->in_len += n;
}

static void client_run(uint8_t b, size_t n)
{
    fconn *c = &fz.conns[fz.cur];
    if (n > CIN_MAX - c->in_len)
        n = CIN_MAX - c->in_len;
    memset(c->in + c->in_len, b, n);
    c->in_len += n;
}

static void setup(const uint8_t *hdr)
{
    static const size_t bufsizes[4] = {64, 100, 4096, 8197};
    uint8_t cfgb = hdr[0], inj = hdr[1], be = hdr[2], bs = hdr[3];
    eota_server_config cfg;

    if (!hash_ready) {
        CHECK(eota_posix_hash_init(&hash_ctx) == EOTA_OK, "hash init");
        hash_ready = 1;
    }
    memset(&fz, 0, sizeof fz);
    fz.now = (cfgb & FZ_CFG_CLOCK_WRAP) ? 0xFFFFD8F0u : 1000u;
    fz.version = (cfgb & FZ_CFG_V1) ? 1 : 2;
    fz.pw_state = (cfgb & FZ_CFG_PASSWORD) ? 0 : 2;

    eota_mem_backend_init(&fz.mb, fz.store, sizeof fz.store);
    if (cfgb & FZ_CFG_GZIP)
        fz.mb.caps |= EOTA_BACKEND_CAP_GZIP;
    if (cfgb & FZ_CFG_PARTS)
        fz.mb.caps |= EOTA_BACKEND_CAP_PARTITION_TABLE | EOTA_BACKEND_CAP_BOOTLOADER;
    switch (inj & 3u) {
    case FZ_INJ_BEGIN: fz.mb.fail_begin = EOTA_ENOSLOT; break; /* 8A */
    case FZ_INJ_WRITE:
        fz.mb.fail_write = EOTA_EWRITE; /* 83 */
        fz.mb.fail_write_after = (size_t)(inj >> 2) * 97u;
        break;
    case FZ_INJ_END: fz.mb.fail_end = EOTA_EVERIFY; break; /* 84 */
    default: break;
    }
    fz.mb.max_take = (size_t)(be & 0x1Fu) * 3u;
    fz.mb.end_pending_rounds = be >> 5;
    fz.inner = eota_mem_backend_seam(&fz.mb);

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &fz_transport;
    cfg.clock.now_ms = fz_now;
    cfg.random.fill = fz_fill;
    cfg.hash = eota_posix_hash_seam(&hash_ctx);
    cfg.backend.ops = &wrap_ops;
    cfg.backend.ctx = NULL;
    cfg.backend.caps = fz.mb.caps;
    cfg.events.on_event = fz_event;
    cfg.events.on_log = fz_log;
    cfg.password = (cfgb & FZ_CFG_PASSWORD) ? FZ_PASSWORD : NULL;
    cfg.version = fz.version;
    cfg.allow_md5_auth = (cfgb & FZ_CFG_MD5) ? 1 : 0;
    fz.allow_md5 = cfg.allow_md5_auth;
    if (cfgb & FZ_CFG_SHORT_TIMEOUTS) {
        cfg.handshake_timeout_ms = 3000;
        cfg.data_timeout_ms = 5000;
        cfg.final_ack_timeout_ms = 200;
    }
    CHECK(eota_server_init(&fz.srv, &cfg, fz.xfer, bufsizes[bs & 3u]) == EOTA_OK, "init");
    check_engine();
    connect_new();
}

void fuzz_run(const uint8_t *data, size_t size, fuzz_result *res)
{
    size_t i = FZ_HDR_LEN;
    eota_server_info info;

    if (size < FZ_HDR_LEN)
        return;
    setup(data);
    poll_once();
    while (i < size) {
        uint8_t t = data[i++];
        fconn *c = &fz.conns[fz.cur];
        if (t < FZ_OP_RUN) {
            size_t n = (size_t)t + 1;
            if (n > size - i)
                n = size - i;
            client_send(data + i, n);
            i += n;
        } else if (t < FZ_OP_MAX_READ) {
            size_t n = ((size_t)(t & 0x1Fu) + 1) * 256u;
            uint8_t b = i < size ? data[i++] : 0;
            client_run(b, n);
        } else if (t < FZ_OP_WRITE_AGAIN) {
            fz.max_read = t & 0x0Fu;
        } else if (t < FZ_OP_MAX_WRITE) {
            fz.again_left = t & 0x0Fu;
        } else if (t < FZ_OP_CLOCK) {
            fz.max_write = t & 0x0Fu;
        } else if (t < FZ_OP_POLLS) {
            uint32_t k = t & 0x1Fu;
            fz.now += k * k * 250u;
        } else if (t < FZ_OP_EOF) {
            for (unsigned k = 0; k < (t & 7u); k++)
                poll_once();
        } else if (t == FZ_OP_EOF) {
            c->eof = 1;
        } else if (t == FZ_OP_READ_ERROR) {
            c->read_error = 1;
        } else if (t == FZ_OP_WRITE_CLOSED) {
            c->write_closed = 1;
        } else if (t == FZ_OP_CONNECT) {
            connect_new();
        } else if (t == FZ_OP_CANCEL) {
            eota_server_cancel(&fz.srv);
            CHECK(!eota_server_busy(&fz.srv), "busy after cancel");
            CHECK(!fz.begun, "backend still begun after cancel");
        } else if (t == FZ_OP_PASSWORD) {
            static const char *const pw[3] = {FZ_PASSWORD, "other", NULL};
            fz.pw_state = (fz.pw_state + 1) % 3;
            CHECK(eota_server_set_password(&fz.srv, pw[fz.pw_state]) == EOTA_OK, "set_password");
        }
        poll_once();
    }

    /* The client goes silent: every session must end by itself. */
    for (int k = 0; k < 4000 && eota_server_busy(&fz.srv); k++) {
        fz.now += 250;
        poll_once();
    }
    poll_once();
    CHECK(!eota_server_busy(&fz.srv), "engine still busy long after the client went silent");
    CHECK(!fz.begun, "backend left begun");
    CHECK(fz.committed == fz.mb.committed, "commit count differs from the mem backend's");
    CHECK(fz.completed_events == fz.committed, "COMPLETED events differ from commits");
    CHECK(fz.reboots == fz.committed, "REBOOT results differ from commits");
    for (int k = 0; k < fz.nconns; k++)
        CHECK(fz.conns[k].close_count == 1, "a connection was not closed exactly once");

    eota_server_get_info(&fz.srv, &info);
    if (res != NULL) {
        memset(res, 0, sizeof *res);
        res->committed = fz.committed;
        res->reboots = fz.reboots;
        res->connections = fz.nconns;
        memcpy(res->out, fz.conns[0].out, fz.conns[0].out_len);
        res->out_len = fz.conns[0].out_len;
        res->last_error = info.error_code;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_run(data, size, NULL);
    return 0;
}
