/*
 * test_client.c: the uploader engine (src/core/client.c).
 *
 * Two kinds of peer, both in one process over the in-memory pipe of
 * tests/support/pipe.h, with one fake clock for both ends:
 * - the real device engine (eota_server with the mem backend): versions 1
 *   and 2, no password, SHA-256, the MD5 opt-in, wrong password, gzip,
 *   extended flags, OTA types, windows 1, 2 and 8, backend failures,
 *   fragmentation and small buffers;
 * - a scripted device that follows the protocol until a chosen stage and
 *   there answers an error code, stalls, closes, or says something odd, so
 *   that every code at every stage, every timeout and every "closed without
 *   answering" is checked with its phase.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "eota/client.h"
#include "eota/posix.h"
#include "eota/server.h"
#include "fake.h"
#include "pipe.h"

/* ---------- images ---------- */

typedef struct mem_image {
    const uint8_t *data;
    size_t len;
    long fail_at; /* >= 0: a read reaching this offset fails */
    unsigned reads;
} mem_image;

static int mem_image_read(void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
    mem_image *m = ctx;
    m->reads++;
    if (offset + len > m->len)
        return EOTA_EINVAL;
    if (m->fail_at >= 0 && (long)(offset + len) > m->fail_at)
        return EOTA_EIO;
    memcpy(buf, m->data + offset, len);
    return EOTA_OK;
}

static eota_client_image image_of(mem_image *m)
{
    eota_client_image img;
    memset(&img, 0, sizeof img);
    img.read = mem_image_read;
    img.ctx = m;
    img.size = (uint32_t)m->len;
    assert_int_equal(eota_posix_digest(EOTA_HASH_MD5, m->data, m->len, img.md5), EOTA_OK);
    return img;
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
    return p;
}

/* Compressible: text-like runs. */
static uint8_t *text_pattern(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    static const char words[] = "esphome over the air update firmware block ";
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)words[(i * 7 / 5) % (sizeof words - 1)];
    return p;
}

static uint8_t *gzip_of(const uint8_t *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* ---------- the client side ---------- */

typedef struct tclient {
    eota_client cl;
    eota_client_config cfg;
    uint8_t buf[8192];
    size_t buf_size;
    eota_posix_hash hash;
    fake_random rnd;
    mem_image raw, gz;
    uint8_t *raw_data, *gz_data;
    /* NEED_IMAGE handling */
    int lazy;             /* give the images only when asked */
    unsigned need_image;  /* NEED_IMAGE results seen */
    eota_client_status st;
} tclient;

/* ---------- a scripted device ---------- */

enum sstage {
    SS_NONE = 0,
    SS_HELLO,    /* instead of 00 VV */
    SS_FEATURES, /* instead of the feature reply */
    SS_AUTH,     /* instead of the challenge (or 41 without password) */
    SS_AUTH2,    /* instead of 41 after the response */
    SS_PREPARE,  /* instead of 42 */
    SS_MD5,      /* instead of 43 */
    SS_DATA,     /* instead of the first 47 (version 2), or after the first
                    8 KiB (version 1) */
    SS_RECEIVE,  /* instead of 44 */
    SS_VERIFY,   /* instead of 45 */
    SS_COUNT
};

enum sact { SA_CODE = 1, SA_CLOSE, SA_STALL, SA_BYTES };

enum sstate { SQ_MAGIC, SQ_FEAT, SQ_AUTH, SQ_TYPE, SQ_SIZE, SQ_MD5, SQ_DATA, SQ_FINAL, SQ_DONE, SQ_STALL };

typedef struct sdev {
    mem_pipe_end *conn;
    /* behaviour */
    uint8_t version;       /* sent as is */
    int plain_reply;       /* 1: answer 40/46 even to an extended client */
    uint8_t flags;         /* server flags after 48 */
    int gzip;              /* offer gzip */
    int auth;              /* 0 none, 1 MD5, 2 SHA-256 */
    const char *password;
    int no_acks;           /* a version 2 device that forgets 47 */
    uint32_t withhold;     /* the last `withhold` 47s are not sent ... */
    int late_acks;         /* ... or sent after 44 (reordered) */
    int skip_receive;      /* 45 without 44 */
    int eager_acks;        /* 47 as soon as a block starts, not when whole */
    enum sstage at;
    enum sact act;
    uint8_t code;
    uint8_t bytes[80];     /* SA_BYTES: sent at the stage, then go on normally */
    size_t nbytes;
    /* state */
    enum sstate st;
    uint8_t in[160];
    size_t need, have;
    uint8_t features;
    char nonce[65];
    size_t hexlen;
    uint32_t size, got, acked;
    uint8_t type;
    int closed_by_us, final_seen;
    eota_posix_hash hash;
    char md5_expected[33];
} sdev;

static void sdev_send(sdev *d, const void *b, size_t n)
{
    long w = mem_pipe_transport.write(d->conn, b, n);
    assert_true(w == (long)n || w == EOTA_CLOSED);
}

static void sdev_expect(sdev *d, enum sstate st, size_t need)
{
    d->st = st;
    d->need = need;
    d->have = 0;
}

/* Act at stage s if told to. Returns 1 when the normal answer must not be
 * given. */
static int sdev_act(sdev *d, enum sstage s)
{
    if (d->at != s)
        return 0;
    switch (d->act) {
    case SA_CODE:
        sdev_send(d, &d->code, 1);
        mem_pipe_transport.close(d->conn);
        d->closed_by_us = 1;
        d->st = SQ_DONE;
        return 1;
    case SA_CLOSE:
        mem_pipe_transport.close(d->conn);
        d->closed_by_us = 1;
        d->st = SQ_DONE;
        return 1;
    case SA_STALL: d->st = SQ_STALL; return 1;
    case SA_BYTES:
        sdev_send(d, d->bytes, d->nbytes);
        d->at = SS_NONE;
        return 1;
    }
    return 0;
}

static void sdev_after_auth(sdev *d)
{
    static const uint8_t ok = 0x41;
    if (!sdev_act(d, d->auth ? SS_AUTH2 : SS_AUTH))
        sdev_send(d, &ok, 1);
    if (d->st == SQ_DONE || d->st == SQ_STALL)
        return;
    if (d->features & EOTA_FEATURE_EXTENDED && !d->plain_reply)
        sdev_expect(d, SQ_TYPE, 1);
    else
        sdev_expect(d, SQ_SIZE, 4);
}

static void sdev_field(sdev *d)
{
    static const uint8_t magic[5] = {0x6C, 0x26, 0xF7, 0x5C, 0x45};
    switch (d->st) {
    case SQ_MAGIC: {
        assert_memory_equal(d->in, magic, 5);
        if (sdev_act(d, SS_HELLO) && d->st != SQ_MAGIC)
            return;
        uint8_t r[2] = {0x00, d->version};
        sdev_send(d, r, 2);
        sdev_expect(d, SQ_FEAT, 1);
        break;
    }
    case SQ_FEAT: {
        d->features = d->in[0];
        if (sdev_act(d, SS_FEATURES) && d->st != SQ_FEAT)
            return;
        int gz = d->gzip && (d->features & 1);
        if ((d->features & EOTA_FEATURE_EXTENDED) && !d->plain_reply) {
            uint8_t r[2] = {0x48, (uint8_t)(d->flags | (gz ? 1 : 0))};
            sdev_send(d, r, 2);
        } else {
            uint8_t r = gz ? 0x46 : 0x40;
            sdev_send(d, &r, 1);
        }
        if (d->auth == 0) {
            sdev_after_auth(d);
            return;
        }
        if (sdev_act(d, SS_AUTH))
            return;
        d->hexlen = d->auth == 2 ? 64 : 32;
        for (size_t i = 0; i < d->hexlen; i++)
            d->nonce[i] = "0123456789abcdef"[(i * 5 + 3) % 16];
        d->nonce[d->hexlen] = '\0';
        uint8_t req = d->auth == 2 ? 0x02 : 0x01;
        sdev_send(d, &req, 1);
        sdev_send(d, d->nonce, d->hexlen);
        sdev_expect(d, SQ_AUTH, 2 * d->hexlen);
        break;
    }
    case SQ_AUTH: {
        char cn[65], want[65];
        memcpy(cn, d->in, d->hexlen);
        cn[d->hexlen] = '\0';
        auth_response(want, d->auth == 2 ? EOTA_HASH_SHA256 : EOTA_HASH_MD5, d->password, d->nonce, cn);
        if (memcmp(want, d->in + d->hexlen, d->hexlen) != 0) {
            uint8_t e = 0x82;
            sdev_send(d, &e, 1);
            mem_pipe_transport.close(d->conn);
            d->closed_by_us = 1;
            d->st = SQ_DONE;
            return;
        }
        sdev_after_auth(d);
        break;
    }
    case SQ_TYPE:
        d->type = d->in[0];
        sdev_expect(d, SQ_SIZE, 4);
        break;
    case SQ_SIZE:
        d->size = ((uint32_t)d->in[0] << 24) | ((uint32_t)d->in[1] << 16) | ((uint32_t)d->in[2] << 8) | d->in[3];
        if (sdev_act(d, SS_PREPARE) && d->st != SQ_SIZE)
            return;
        sdev_send(d, "\x42", 1);
        sdev_expect(d, SQ_MD5, 32);
        break;
    case SQ_MD5:
        memcpy(d->md5_expected, d->in, 32);
        d->md5_expected[32] = '\0';
        if (sdev_act(d, SS_MD5) && d->st != SQ_MD5)
            return;
        sdev_send(d, "\x43", 1);
        eota_hash h = eota_posix_hash_seam(&d->hash);
        assert_int_equal(h.ops->begin(h.ctx, EOTA_HASH_MD5), EOTA_OK);
        d->st = SQ_DATA;
        break;
    case SQ_FINAL:
        d->final_seen = 1;
        mem_pipe_transport.close(d->conn);
        d->st = SQ_DONE;
        break;
    default: break;
    }
}

/* The 47s due for what arrived (one per 8 KiB, one for a short last block),
 * less the ones withheld; eager: one as soon as a block has begun. */
static void sdev_acks(sdev *d)
{
    uint32_t total = (d->size + EOTA_BLOCK_SIZE - 1) / EOTA_BLOCK_SIZE;
    for (;;) {
        uint32_t end = d->eager_acks ? d->acked + 1 : d->acked + EOTA_BLOCK_SIZE;
        if (end > d->size)
            end = d->size;
        if (d->acked >= d->size || d->got < end)
            return;
        uint32_t index = d->acked / EOTA_BLOCK_SIZE + 1;
        if (index + d->withhold <= total)
            sdev_send(d, "\x47", 1);
        d->acked = d->size - d->acked < EOTA_BLOCK_SIZE ? d->size : d->acked + EOTA_BLOCK_SIZE;
    }
}

static void sdev_data(sdev *d)
{
    uint8_t tmp[4096];
    size_t want = d->size - d->got;
    if (want > sizeof tmp)
        want = sizeof tmp;
    long n = mem_pipe_transport.read(d->conn, tmp, want);
    if (n <= 0)
        return;
    eota_hash h = eota_posix_hash_seam(&d->hash);
    h.ops->update(h.ctx, tmp, (size_t)n);
    uint32_t before = d->got;
    d->got += (uint32_t)n;
    if (d->at == SS_DATA && before < EOTA_BLOCK_SIZE && (d->got >= EOTA_BLOCK_SIZE || d->got == d->size)) {
        if (sdev_act(d, SS_DATA))
            return;
    }
    if (d->version >= 2 && !d->no_acks)
        sdev_acks(d);
    if (d->got == d->size) {
        uint8_t dg[16];
        char hex[33];
        assert_int_equal(h.ops->finish(h.ctx, dg), EOTA_OK);
        hex_of(hex, dg, 16);
        assert_string_equal(hex, d->md5_expected);
        if (sdev_act(d, SS_RECEIVE))
            return;
        if (!d->skip_receive)
            sdev_send(d, "\x44", 1);
        for (; d->late_acks && d->withhold; d->withhold--)
            sdev_send(d, "\x47", 1);
        if (sdev_act(d, SS_VERIFY))
            return;
        sdev_send(d, "\x45", 1);
        sdev_expect(d, SQ_FINAL, 1);
    }
}

static void sdev_poll(sdev *d)
{
    for (int i = 0; i < 64; i++) {
        if (d->st == SQ_DONE)
            return;
        if (d->st == SQ_STALL) {
            uint8_t sink[4096];
            (void)mem_pipe_transport.read(d->conn, sink, sizeof sink);
            return;
        }
        if (d->st == SQ_DATA) {
            uint32_t before = d->got;
            sdev_data(d);
            if (d->got == before)
                return;
            continue;
        }
        long n = mem_pipe_transport.read(d->conn, d->in + d->have, d->need - d->have);
        if (n == EOTA_CLOSED || n == EOTA_EIO) {
            d->st = SQ_DONE;
            return;
        }
        if (n <= 0)
            return;
        d->have += (size_t)n;
        if (d->have == d->need)
            sdev_field(d);
    }
}

static void sdev_init(sdev *d, mem_pipe_end *conn)
{
    memset(d, 0, sizeof *d);
    d->conn = conn;
    d->version = 2;
    d->password = "";
    assert_int_equal(eota_posix_hash_init(&d->hash), EOTA_OK);
    sdev_expect(d, SQ_MAGIC, 5);
}

/* ---------- the fixture: client + (device engine or scripted device) ---------- */

typedef struct fixture {
    mem_pipe pipe;
    eota_harness h;     /* the device engine, its mem backend, and the clock */
    int use_script;
    sdev dev;
    tclient c;
    uint32_t step_ms;
    int server_reboots;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    mem_pipe_init(&f->pipe, 0);
    eota_harness_init(&f->h);
    f->h.cfg.transport = &mem_pipe_transport;
    f->step_ms = 1;

    tclient *c = &f->c;
    assert_int_equal(eota_posix_hash_init(&c->hash), EOTA_OK);
    c->cfg.transport = &mem_pipe_transport;
    c->cfg.clock = fake_clock_seam(&f->h.clock);
    c->cfg.random = fake_random_seam(&c->rnd);
    c->cfg.hash = eota_posix_hash_seam(&c->hash);
    c->cfg.window = 8;
    c->buf_size = sizeof c->buf;
    c->raw.fail_at = c->gz.fail_at = -1;
    sdev_init(&f->dev, &f->pipe.end[1]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    eota_harness_free(&f->h);
    eota_posix_hash_free(&f->c.hash);
    eota_posix_hash_free(&f->dev.hash);
    free(f->c.raw_data);
    free(f->c.gz_data);
    mem_pipe_free(&f->pipe);
    free(f);
    return 0;
}

/* The image: n bytes of noise (or text when compressible), plus its gzip. */
static void set_image(fixture *f, size_t n, int compressible)
{
    tclient *c = &f->c;
    free(c->raw_data);
    free(c->gz_data);
    c->raw_data = compressible ? text_pattern(n) : pattern(n, (unsigned)n);
    c->raw.data = c->raw_data;
    c->raw.len = n;
    size_t gl = 0;
    c->gz_data = gzip_of(c->raw_data, n, &gl);
    c->gz.data = c->gz_data;
    c->gz.len = gl;
}

/* Start both ends. */
static void start(fixture *f)
{
    tclient *c = &f->c;
    if (!c->lazy) {
        c->cfg.image = image_of(&c->raw);
        if (c->cfg.offer_gzip)
            c->cfg.gzip_image = image_of(&c->gz);
    }
    assert_int_equal(eota_client_init(&c->cl, &c->cfg, c->buf, c->buf_size), EOTA_OK);
    if (!f->use_script) {
        eota_harness_start(&f->h, 0);
        assert_int_equal(eota_server_accept(&f->h.srv, &f->pipe.end[1]), EOTA_OK);
    }
    assert_int_equal(eota_client_start(&c->cl, &f->pipe.end[0]), EOTA_OK);
}

static int device_busy(fixture *f)
{
    if (f->use_script)
        return f->dev.st != SQ_DONE && f->dev.st != SQ_STALL;
    return eota_server_busy(&f->h.srv);
}

/* Drive both ends until the client has ended and the device is idle (or
 * rounds run out). Returns the client's last status. */
static eota_client_status run(fixture *f, long rounds)
{
    tclient *c = &f->c;
    eota_client_status st = EOTA_CLIENT_BUSY;
    for (long i = 0; i < rounds; i++) {
        st = eota_client_poll(&c->cl);
        if (st == EOTA_CLIENT_NEED_IMAGE) {
            c->need_image++;
            int gz = eota_client_gzip_accepted(&c->cl);
            eota_client_image img = image_of(gz ? &c->gz : &c->raw);
            /* the wrong version is refused */
            assert_int_equal(eota_client_set_image(&c->cl, &img, !gz), EOTA_EINVAL);
            assert_int_equal(eota_client_set_image(&c->cl, &img, gz), EOTA_OK);
            continue;
        }
        /* the engine's own view of what it waits for must be consistent */
        if (st == EOTA_CLIENT_BUSY) {
            assert_true(eota_client_wants(&c->cl) != 0 || eota_client_timeout_ms(&c->cl) >= 0);
        }
        if (f->use_script)
            sdev_poll(&f->dev);
        else if (eota_server_poll(&f->h.srv) == EOTA_SERVER_REBOOT)
            f->server_reboots++;
        if ((st == EOTA_CLIENT_DONE || st == EOTA_CLIENT_FAILED) && !device_busy(f))
            break;
        f->h.clock.now += f->step_ms;
    }
    c->st = st;
    return st;
}

static void report(fixture *f, eota_client_report *r) { eota_client_get_report(&f->c.cl, r); }

/* The device engine committed exactly the bytes expected. */
static void assert_committed(fixture *f, const uint8_t *data, size_t len)
{
    assert_int_equal(f->h.mem.committed, 1);
    assert_int_equal(f->h.mem.committed_len, len);
    assert_memory_equal(f->h.store, data, len);
    assert_int_equal(f->server_reboots, 1);
}

static void assert_ok_upload(fixture *f, const uint8_t *wire, size_t wire_len)
{
    eota_client_report r;
    assert_int_equal(run(f, 200000), EOTA_CLIENT_DONE);
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_OK);
    assert_int_equal(r.size, wire_len);
    assert_int_equal(r.sent, wire_len);
    assert_true(r.all_sent && r.received && r.committed);
    assert_committed(f, wire, wire_len);
    assert_int_equal(f->pipe.end[0].closed, 1);
}

/* ---------- against the device engine ---------- */

static void upload_v2(void **state, size_t size, uint16_t window)
{
    fixture *f = *state;
    set_image(f, size, 0);
    f->c.cfg.window = window;
    start(f);
    assert_ok_upload(f, f->c.raw_data, size);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.features, 0x06); /* 07 without gzip offered */
    assert_int_equal(r.feature_reply, 0x48);
    assert_true(r.extended);
    assert_int_equal(r.auth, EOTA_AUTH_NONE);
    assert_int_equal(r.acked, size);
    assert_false(r.gzip_sent);
    eota_server_info si;
    eota_server_get_info(&f->h.srv, &si);
    assert_int_equal(si.client_features, 0x06);
    assert_int_equal(si.ota_type, 0);
}

static void test_v2_window1_worked_example(void **state) { upload_v2(state, 20000, 1); }
static void test_v2_window2(void **state) { upload_v2(state, 100000, 2); }
static void test_v2_window8(void **state) { upload_v2(state, 300000, 8); }
static void test_v2_exact_blocks(void **state) { upload_v2(state, 3 * 8192, 8); }
static void test_v2_one_byte(void **state) { upload_v2(state, 1, 8); }
static void test_v2_window_default_is_stop_and_wait(void **state) { upload_v2(state, 50000, 0); }

static void test_v1_no_acks(void **state)
{
    fixture *f = *state;
    f->h.cfg.version = 1;
    set_image(f, 70000, 0);
    f->c.cfg.window = 1; /* irrelevant for version 1: everything goes */
    start(f);
    assert_ok_upload(f, f->c.raw_data, 70000);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.version, 1);
    assert_int_equal(r.acked, 0);
}

static void test_sha256_password(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "s3cret";
    f->c.cfg.password = "s3cret";
    set_image(f, 40000, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 40000);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.auth, EOTA_AUTH_SHA256);
}

static void test_md5_opt_in_device(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "old-school";
    f->h.cfg.allow_md5_auth = 1;
    f->c.cfg.password = "old-school";
    f->c.cfg.features = 0x05; /* an uploader without SHA-256 */
    set_image(f, 12345, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 12345);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.auth, EOTA_AUTH_MD5);
}

static void test_sha256_required_by_device(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "pw";
    f->c.cfg.password = "pw";
    f->c.cfg.features = 0x05;
    set_image(f, 1000, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_DEVICE);
    assert_int_equal(r.code, 0x82);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_AUTH);
    assert_int_equal(f->h.mem.begin_calls, 0);
}

static void test_wrong_password(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "right";
    f->c.cfg.password = "wrong";
    set_image(f, 1000, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_DEVICE);
    assert_int_equal(r.code, 0x82);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_AUTH);
    assert_int_equal(r.auth, EOTA_AUTH_SHA256);
    assert_int_equal(r.sent, 0);
    assert_false(r.all_sent);
    assert_int_equal(f->h.mem.committed, 0);
}

static void test_password_required(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "needed";
    set_image(f, 1000, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_PASSWORD_REQUIRED);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_AUTH);
    /* the device saw a probe, not a failed upload */
    assert_int_equal(fake_events_count(&f->h.events, EOTA_STATE_ERROR), 0);
}

static void test_password_to_open_device(void **state)
{
    fixture *f = *state;
    f->c.cfg.password = "unused";
    set_image(f, 5000, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 5000);
}

static void test_password_change_between_starts(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "new";
    f->c.cfg.password = "old";
    set_image(f, 9000, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.code, 0x82);
    /* a retry with the next password, on a new connection */
    mem_pipe_free(&f->pipe);
    mem_pipe_init(&f->pipe, 0);
    assert_int_equal(eota_client_set_password(&f->c.cl, "new"), EOTA_OK);
    assert_int_equal(eota_server_accept(&f->h.srv, &f->pipe.end[1]), EOTA_OK);
    assert_int_equal(eota_client_start(&f->c.cl, &f->pipe.end[0]), EOTA_OK);
    assert_ok_upload(f, f->c.raw_data, 9000);
}

static void test_gzip_extended(void **state)
{
    fixture *f = *state;
    f->h.mem.caps = EOTA_BACKEND_CAP_GZIP;
    f->c.cfg.offer_gzip = 1;
    set_image(f, 200000, 1);
    start(f);
    assert_ok_upload(f, f->c.gz_data, f->c.gz.len);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.features, 0x07);
    assert_true(r.gzip_accepted);
    assert_true(r.gzip_sent);
    assert_int_equal(r.server_flags & 0x01, 0x01);
    assert_true(f->h.mem.info.gzip_agreed);
    assert_int_equal(f->c.need_image, 0);
}

static void test_gzip_one_byte_reply(void **state)
{
    fixture *f = *state;
    f->h.mem.caps = EOTA_BACKEND_CAP_GZIP;
    f->c.cfg.offer_gzip = 1;
    f->c.cfg.features = 0x03; /* no extended protocol: 46 */
    set_image(f, 100000, 1);
    start(f);
    assert_ok_upload(f, f->c.gz_data, f->c.gz.len);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.feature_reply, 0x46);
    assert_false(r.extended);
    assert_true(r.gzip_sent);
}

static void test_gzip_lazy_image(void **state)
{
    fixture *f = *state;
    f->h.mem.caps = EOTA_BACKEND_CAP_GZIP;
    f->h.cfg.password = "pw";
    f->c.cfg.password = "pw";
    f->c.cfg.offer_gzip = 1;
    f->c.lazy = 1;
    set_image(f, 100000, 1);
    start(f);
    assert_ok_upload(f, f->c.gz_data, f->c.gz.len);
    assert_int_equal(f->c.need_image, 1);
}

static void test_gzip_offered_device_without(void **state)
{
    fixture *f = *state;
    f->c.cfg.offer_gzip = 1;
    f->c.lazy = 1;
    set_image(f, 30000, 1);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 30000);
    eota_client_report r;
    report(f, &r);
    assert_false(r.gzip_accepted);
    assert_false(r.gzip_sent);
    assert_int_equal(f->c.need_image, 1);
}

static void test_gzip_device_not_offered(void **state)
{
    fixture *f = *state;
    f->h.mem.caps = EOTA_BACKEND_CAP_GZIP;
    f->c.cfg.offer_gzip = 0;
    set_image(f, 30000, 1);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 30000);
    assert_false(f->h.mem.info.gzip_agreed);
}

static void test_extended_flags_and_type(void **state)
{
    fixture *f = *state;
    f->h.mem.caps = EOTA_BACKEND_CAP_PARTITION_TABLE | EOTA_BACKEND_CAP_BOOTLOADER;
    f->c.cfg.ota_type = EOTA_OTA_TYPE_BOOTLOADER;
    set_image(f, 10000, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 10000);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.server_flags, EOTA_SERVER_FLAG_PARTITIONS);
    assert_int_equal(f->h.mem.info.ota_type, EOTA_OTA_TYPE_BOOTLOADER);
}

static void test_unsupported_type(void **state)
{
    fixture *f = *state;
    f->c.cfg.ota_type = EOTA_OTA_TYPE_PARTITION_TABLE;
    set_image(f, 10000, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_DEVICE);
    assert_int_equal(r.code, 0x8E);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_PREPARE);
}

static void test_features_never_reserved(void **state)
{
    fixture *f = *state;
    f->c.cfg.features = 0xFF;
    f->c.cfg.offer_gzip = 1;
    set_image(f, 100, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 100);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.features, 0xC7); /* 0x08, 0x10, 0x20 cleared */
}

static void backend_failure(void **state, int which, uint8_t code, eota_client_phase phase)
{
    fixture *f = *state;
    set_image(f, 100000, 0);
    f->h.mem.fail_code = code; /* the device sends exactly this byte */
    if (which == 0)
        f->h.mem.fail_begin = EOTA_EPREPARE;
    else if (which == 1) {
        f->h.mem.fail_write = EOTA_EWRITE;
        f->h.mem.fail_write_after = 20000;
    } else
        f->h.mem.fail_end = EOTA_EVERIFY;
    start(f);
    assert_int_equal(run(f, 100000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_DEVICE);
    assert_int_equal(r.code, code);
    assert_int_equal(r.phase, phase);
    assert_int_equal(f->h.mem.committed, 0);
    if (which == 2)
        assert_true(r.all_sent && r.received && !r.committed);
    else
        assert_false(r.all_sent);
}

static void test_backend_prepare_fails(void **state) { backend_failure(state, 0, 0x8A, EOTA_CLIENT_PH_PREPARE); }
static void test_backend_esp8266_bootstrap(void **state) { backend_failure(state, 0, 0x85, EOTA_CLIENT_PH_PREPARE); }
static void test_backend_write_fails(void **state) { backend_failure(state, 1, 0x83, EOTA_CLIENT_PH_DATA); }
static void test_backend_end_fails(void **state) { backend_failure(state, 2, 0x84, EOTA_CLIENT_PH_VERIFY); }

static void test_image_too_big(void **state)
{
    fixture *f = *state;
    f->h.mem.capacity = 50000;
    f->h.cfg.too_big_code = 0x8C;
    set_image(f, 60000, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.code, 0x8C);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_PREPARE);
    assert_int_equal(r.size, 60000);
}

static void test_fragmented_one_byte(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "frag";
    f->c.cfg.password = "frag";
    f->pipe.end[0].max_io = 1;
    f->pipe.end[1].max_io = 1;
    set_image(f, 9000, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 9000);
}

static void test_small_pipe_and_buffer(void **state)
{
    fixture *f = *state;
    mem_pipe_free(&f->pipe);
    mem_pipe_init(&f->pipe, 100); /* a tiny socket buffer: writes block often */
    f->c.buf_size = EOTA_CLIENT_MIN_BUFFER;
    f->h.mem.max_take = 700; /* a slow flash */
    f->h.cfg.password = "x";
    f->c.cfg.password = "x";
    set_image(f, 50000, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 50000);
}

static void test_slow_backend_end_pending(void **state)
{
    fixture *f = *state;
    f->h.mem.end_pending_rounds = 50;
    set_image(f, 20000, 0);
    start(f);
    assert_ok_upload(f, f->c.raw_data, 20000);
}

static void test_image_read_fails(void **state)
{
    fixture *f = *state;
    set_image(f, 50000, 0);
    f->c.raw.fail_at = 30000;
    start(f);
    assert_int_equal(run(f, 100000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_IMAGE);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_DATA);
    assert_int_equal(f->h.mem.committed, 0);
}

static void test_random_fails(void **state)
{
    fixture *f = *state;
    f->h.cfg.password = "p";
    f->c.cfg.password = "p";
    f->c.rnd.fail = 1;
    set_image(f, 500, 0);
    start(f);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_CRYPTO);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_AUTH);
}

static void test_cancel(void **state)
{
    fixture *f = *state;
    set_image(f, 500000, 0);
    start(f);
    eota_client_report r0;
    for (int i = 0; i < 100; i++) {
        eota_client_poll(&f->c.cl);
        eota_server_poll(&f->h.srv);
        report(f, &r0);
        if (r0.sent > 0)
            break;
    }
    assert_int_equal(r0.phase, EOTA_CLIENT_PH_DATA);
    eota_client_cancel(&f->c.cl);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_CANCELLED);
    assert_int_equal(f->pipe.end[0].closed, 1);
    assert_int_equal(eota_client_poll(&f->c.cl), EOTA_CLIENT_FAILED);
    assert_int_equal(eota_client_wants(&f->c.cl), 0);
    assert_int_equal(eota_client_timeout_ms(&f->c.cl), -1);
    f->use_script = 0;
    for (int i = 0; i < 100; i++)
        eota_server_poll(&f->h.srv);
    assert_int_equal(f->h.mem.committed, 0);
    assert_false(eota_server_busy(&f->h.srv));
}

static void test_init_rejects(void **state)
{
    fixture *f = *state;
    tclient *c = &f->c;
    eota_client_config cfg = c->cfg;
    assert_int_equal(eota_client_init(&c->cl, &cfg, c->buf, EOTA_CLIENT_MIN_BUFFER - 1), EOTA_EINVAL);
    cfg.window = EOTA_CLIENT_MAX_WINDOW + 1;
    assert_int_equal(eota_client_init(&c->cl, &cfg, c->buf, sizeof c->buf), EOTA_EINVAL);
    cfg = c->cfg;
    cfg.transport = NULL;
    assert_int_equal(eota_client_init(&c->cl, &cfg, c->buf, sizeof c->buf), EOTA_EINVAL);
    cfg = c->cfg;
    char longpw[EOTA_PASSWORD_MAX + 2];
    memset(longpw, 'a', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    cfg.password = longpw;
    assert_int_equal(eota_client_init(&c->cl, &cfg, c->buf, sizeof c->buf), EOTA_EINVAL);
    cfg = c->cfg;
    assert_int_equal(eota_client_init(&c->cl, &cfg, c->buf, sizeof c->buf), EOTA_OK);
    assert_int_equal(eota_client_poll(&c->cl), EOTA_CLIENT_IDLE);
    eota_client_image bad;
    memset(&bad, 0, sizeof bad);
    assert_int_equal(eota_client_set_image(&c->cl, &bad, 0), EOTA_EINVAL);
    assert_int_equal(eota_client_start(&c->cl, NULL), EOTA_EINVAL);
}

static void test_no_image_at_all(void **state)
{
    fixture *f = *state;
    f->use_script = 1;
    tclient *c = &f->c;
    assert_int_equal(eota_client_init(&c->cl, &c->cfg, c->buf, sizeof c->buf), EOTA_OK);
    assert_int_equal(eota_client_start(&c->cl, &f->pipe.end[0]), EOTA_OK);
    /* the caller never answers NEED_IMAGE: the handshake times out */
    eota_client_status st = EOTA_CLIENT_BUSY;
    for (int i = 0; i < 30000 && st != EOTA_CLIENT_FAILED; i++) {
        st = eota_client_poll(&c->cl);
        sdev_poll(&f->dev);
        f->h.clock.now += 1;
    }
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_TIMEOUT);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_PREPARE);
}

static void test_names(void **state)
{
    (void)state;
    for (int p = EOTA_CLIENT_PH_NONE; p <= EOTA_CLIENT_PH_END; p++) {
        assert_string_not_equal(eota_client_phase_name((eota_client_phase)p), "unknown");
        assert_true(strlen(eota_client_phase_describe((eota_client_phase)p)) > 5);
    }
    for (int e = EOTA_CLIENT_OK; e <= EOTA_CLIENT_ERR_RESOLVE; e++)
        assert_string_not_equal(eota_client_error_name((eota_client_error)e), "unknown");
}

/* ---------- against the scripted device ---------- */

static void script_start(fixture *f, size_t size)
{
    f->use_script = 1;
    set_image(f, size, 0);
    start(f);
}

static const eota_client_phase phase_at[SS_COUNT] = {
    [SS_HELLO] = EOTA_CLIENT_PH_HELLO,     [SS_FEATURES] = EOTA_CLIENT_PH_FEATURES,
    [SS_AUTH] = EOTA_CLIENT_PH_AUTH,       [SS_AUTH2] = EOTA_CLIENT_PH_AUTH,
    [SS_PREPARE] = EOTA_CLIENT_PH_PREPARE, [SS_MD5] = EOTA_CLIENT_PH_MD5,
    [SS_DATA] = EOTA_CLIENT_PH_DATA,       [SS_RECEIVE] = EOTA_CLIENT_PH_RECEIVE,
    [SS_VERIFY] = EOTA_CLIENT_PH_VERIFY,
};

/* One scripted case from scratch (the fixture is rebuilt each time). */
static void script_case(enum sstage at, enum sact act, uint8_t code, int version, int auth,
                        eota_client_report *r)
{
    void *st = NULL;
    setup(&st);
    fixture *f = st;
    f->dev.at = at;
    f->dev.act = act;
    f->dev.code = code;
    f->dev.version = (uint8_t)version;
    f->dev.auth = auth;
    f->dev.password = "pw";
    f->c.cfg.password = "pw";
    f->c.cfg.handshake_timeout_ms = 3000;
    f->c.cfg.data_timeout_ms = 5000;
    f->step_ms = 2;
    /* a 16 KiB pipe and a window of 2 keep the client in the data phase
     * when the device acts after the first block, for both versions */
    mem_pipe_free(&f->pipe);
    mem_pipe_init(&f->pipe, 16384);
    f->dev.conn = &f->pipe.end[1];
    f->c.cfg.window = 2;
    script_start(f, 30000);
    run(f, 20000);
    report(f, r);
    assert_int_equal(f->c.st, act == 0 ? EOTA_CLIENT_DONE : EOTA_CLIENT_FAILED);
    assert_int_equal(f->pipe.end[0].closed, 1);
    teardown(&st);
}

static void test_script_happy_paths(void **state)
{
    (void)state;
    eota_client_report r;
    for (int v = 1; v <= 2; v++) {
        for (int auth = 0; auth <= 2; auth++) {
            script_case(SS_NONE, 0, 0, v, auth, &r);
            assert_int_equal(r.error, EOTA_CLIENT_OK);
            assert_int_equal(r.version, v);
            assert_int_equal(r.auth, auth == 0 ? EOTA_AUTH_NONE : auth == 1 ? EOTA_AUTH_MD5 : EOTA_AUTH_SHA256);
            assert_true(r.committed);
        }
    }
}

static void test_script_every_code_every_stage(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                                    0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0xFF,
                                    0xA5 /* unknown */};
    for (int v = 1; v <= 2; v++) {
        for (int s = SS_HELLO; s < SS_COUNT; s++) {
            for (size_t k = 0; k < sizeof codes; k++) {
                eota_client_report r;
                script_case((enum sstage)s, SA_CODE, codes[k], v, 2, &r);
                if (r.error != EOTA_CLIENT_ERR_DEVICE || r.code != codes[k] || r.phase != phase_at[s])
                    fail_msg("v%d stage %d code %02x: error %s code %02x phase %s", v, s, codes[k],
                             eota_client_error_name(r.error), r.code, eota_client_phase_name(r.phase));
                /* the whole image counts as sent only from RECEIVE on */
                assert_int_equal(r.all_sent, s >= SS_RECEIVE);
                assert_int_equal(r.received, s == SS_VERIFY);
            }
        }
    }
}

static void test_script_closes_at_every_stage(void **state)
{
    (void)state;
    for (int v = 1; v <= 2; v++) {
        for (int s = SS_HELLO; s < SS_COUNT; s++) {
            eota_client_report r;
            script_case((enum sstage)s, SA_CLOSE, 0, v, 2, &r);
            if (r.error != EOTA_CLIENT_ERR_CLOSED || r.phase != phase_at[s])
                fail_msg("v%d stage %d: error %s phase %s", v, s, eota_client_error_name(r.error),
                         eota_client_phase_name(r.phase));
        }
    }
}

static void test_script_stalls_at_every_stage(void **state)
{
    (void)state;
    for (int v = 1; v <= 2; v++) {
        for (int s = SS_HELLO; s < SS_COUNT; s++) {
            eota_client_report r;
            script_case((enum sstage)s, SA_STALL, 0, v, 2, &r);
            eota_client_phase want = phase_at[s];
            /* a version 1 device never acknowledges blocks: a stall "instead
             * of the first 47" is a stall at the end of the transfer */
            if (v == 1 && s == SS_DATA)
                want = EOTA_CLIENT_PH_RECEIVE;
            if (r.error != EOTA_CLIENT_ERR_TIMEOUT || r.phase != want)
                fail_msg("v%d stage %d: error %s phase %s", v, s, eota_client_error_name(r.error),
                         eota_client_phase_name(r.phase));
        }
    }
}

/* Timeouts: the handshake counts from the start, in all; the data phase
 * counts silence. Stock values by default. */
static void test_default_timeouts(void **state)
{
    fixture *f = *state;
    f->dev.at = SS_AUTH;
    f->dev.act = SA_STALL;
    f->step_ms = 10;
    script_start(f, 1000);
    uint32_t t0 = f->h.clock.now;
    run(f, 100000);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_TIMEOUT);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_AUTH);
    assert_in_range(f->h.clock.now - t0, 20000, 20020);
}

static void test_default_data_timeout(void **state)
{
    fixture *f = *state;
    f->dev.at = SS_VERIFY;
    f->dev.act = SA_STALL;
    f->step_ms = 10;
    script_start(f, 1000);
    uint32_t t0 = f->h.clock.now;
    run(f, 100000);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_TIMEOUT);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_VERIFY);
    assert_in_range(f->h.clock.now - t0, 160000, 160100);
    assert_true(r.all_sent && r.received && !r.committed);
}

/* The window: a device that never acknowledges sees exactly `window`
 * blocks, then silence until the data timeout. */
static void test_window_limits_in_flight(void **state)
{
    static const uint16_t windows[] = {1, 2, 8};
    (void)state;
    for (size_t k = 0; k < sizeof windows / sizeof windows[0]; k++) {
        void *st = NULL;
        setup(&st);
        fixture *f = st;
        f->dev.no_acks = 1;
        f->c.cfg.window = windows[k];
        f->c.cfg.data_timeout_ms = 3000;
        script_start(f, 200000);
        run(f, 1000);
        eota_client_report r;
        report(f, &r);
        assert_int_equal(r.sent, windows[k] * 8192u);
        assert_int_equal(f->dev.got, windows[k] * 8192u);
        run(f, 10000);
        report(f, &r);
        assert_int_equal(r.error, EOTA_CLIENT_ERR_TIMEOUT);
        assert_int_equal(r.phase, EOTA_CLIENT_PH_DATA);
        teardown(&st);
    }
}

/* Stop-and-wait as the stock uploader: with window 1, never more than one
 * block beyond the acknowledgements at any moment. */
static void test_window1_lockstep(void **state)
{
    fixture *f = *state;
    f->c.cfg.window = 1;
    set_image(f, 100000, 0);
    start(f);
    for (int i = 0; i < 100000; i++) {
        eota_client_status st = eota_client_poll(&f->c.cl);
        eota_client_report r;
        report(f, &r);
        assert_true(r.sent <= r.acked + 8192u);
        eota_server_poll(&f->h.srv);
        if (st == EOTA_CLIENT_DONE && !eota_server_busy(&f->h.srv))
            break;
    }
    assert_int_equal(f->h.mem.committed, 1);
}

static void test_version_3_rejected(void **state)
{
    fixture *f = *state;
    f->dev.version = 3;
    script_start(f, 1000);
    assert_int_equal(run(f, 1000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_VERSION);
    assert_int_equal(r.code, 3);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_HELLO);
    /* nothing beyond the magic was sent */
    assert_int_equal(f->pipe.end[0].bytes_written, 5);
}

static void test_version_0_rejected(void **state)
{
    fixture *f = *state;
    f->dev.version = 0;
    script_start(f, 1000);
    assert_int_equal(run(f, 1000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_VERSION);
}

static void odd_bytes(void **state, enum sstage at, const char *bytes, size_t n, eota_client_error want_err,
                      uint8_t want_code, eota_client_phase want_phase)
{
    fixture *f = *state;
    f->dev.at = at;
    f->dev.act = SA_BYTES;
    memcpy(f->dev.bytes, bytes, n);
    f->dev.nbytes = n;
    f->dev.auth = 2;
    f->dev.password = "pw";
    f->c.cfg.password = "pw";
    f->c.cfg.handshake_timeout_ms = 2000;
    script_start(f, 20000);
    assert_int_equal(run(f, 5000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, want_err);
    assert_int_equal(r.code, want_code);
    assert_int_equal(r.phase, want_phase);
}

static void test_odd_hello(void **state)
{
    odd_bytes(state, SS_HELLO, "\x01\x02", 2, EOTA_CLIENT_ERR_PROTOCOL, 0x01, EOTA_CLIENT_PH_HELLO);
}
static void test_odd_feature_reply(void **state)
{
    odd_bytes(state, SS_FEATURES, "\x41", 1, EOTA_CLIENT_ERR_PROTOCOL, 0x41, EOTA_CLIENT_PH_FEATURES);
}
static void test_odd_challenge(void **state)
{
    odd_bytes(state, SS_AUTH, "\x03", 1, EOTA_CLIENT_ERR_PROTOCOL, 0x03, EOTA_CLIENT_PH_AUTH);
}
static void test_odd_nonce_not_hex(void **state)
{
    char b[65];
    b[0] = 0x02;
    memset(b + 1, 'z', 64);
    odd_bytes(state, SS_AUTH, b, 65, EOTA_CLIENT_ERR_PROTOCOL, 'z', EOTA_CLIENT_PH_AUTH);
}
static void test_odd_early_receive_ok(void **state)
{
    /* 44 before the image was sent */
    odd_bytes(state, SS_MD5, "\x43\x44", 2, EOTA_CLIENT_ERR_PROTOCOL, 0x44, EOTA_CLIENT_PH_DATA);
}
static void test_odd_too_many_acks(void **state)
{
    /* a 47 for bytes not sent yet */
    odd_bytes(state, SS_MD5, "\x43\x47\x47\x47\x47", 5, EOTA_CLIENT_ERR_PROTOCOL, 0x47, EOTA_CLIENT_PH_DATA);
}

/* ---------- devices that skip or reorder acknowledgements (issue 18) ---------- */

/* A version-2 device that deviates from the acknowledgements: the upload
 * fails as a protocol error naming the byte, and nothing counts as
 * received or installed. */
static void acks_case(void **state, size_t size, eota_client_error want_err, uint8_t want_code)
{
    fixture *f = *state;
    f->c.cfg.data_timeout_ms = 3000;
    script_start(f, size);
    assert_int_equal(run(f, 20000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, want_err);
    assert_int_equal(r.code, want_code);
    assert_false(r.received);
    assert_false(r.committed);
}

/* Each way of skipping or reordering: never a 47 then 44 45 once the bytes
 * are in (a device that reads nothing does the same: the bug report's "OK,
 * installed"), on one block and on several; the last 47 missing; 44 before
 * the last 47 (which comes after it); 45 without 44. */
static const struct acks_way {
    int no_acks, late_acks, skip_receive;
    uint32_t withhold;
    size_t size;
    uint8_t code;
} acks_ways[] = {
    {1, 0, 0, 0, 1000, 0x44}, {1, 0, 0, 0, 3 * 8192 + 100, 0x44}, {0, 0, 0, 1, 20000, 0x44},
    {0, 1, 0, 1, 20000, 0x44}, {0, 0, 1, 0, 20000, 0x45},
};

static void test_acks_skipped_or_reordered(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof acks_ways / sizeof acks_ways[0]; k++) {
        const struct acks_way *w = &acks_ways[k];
        void *st = NULL;
        setup(&st);
        fixture *f = st;
        f->dev.no_acks = w->no_acks;
        f->dev.late_acks = w->late_acks;
        f->dev.skip_receive = w->skip_receive;
        f->dev.withhold = w->withhold;
        acks_case(&st, w->size, EOTA_CLIENT_ERR_PROTOCOL, w->code);
        teardown(&st);
    }
}

/* A 47 for a block of which only part was sent (a 4 KiB pipe). */
static void test_acks_before_the_block(void **state)
{
    fixture *f = *state;
    mem_pipe_free(&f->pipe);
    mem_pipe_init(&f->pipe, 4096);
    f->dev.conn = &f->pipe.end[1];
    f->dev.eager_acks = 1;
    acks_case(state, 20000, EOTA_CLIENT_ERR_PROTOCOL, 0x47);
}

/* 44 45 straight after 43, before a byte of the image was sent. */
static void test_acks_44_45_after_43(void **state)
{
    odd_bytes(state, SS_MD5, "\x43\x44\x45", 3, EOTA_CLIENT_ERR_PROTOCOL, 0x44, EOTA_CLIENT_PH_DATA);
}

/* A version-1 device sends no 47: its 44 counts once every byte went out. */
static void test_acks_version_1_needs_none(void **state)
{
    fixture *f = *state;
    f->dev.version = 1;
    script_start(f, 20000);
    assert_int_equal(run(f, 20000), EOTA_CLIENT_DONE);
}

/* 48 to a client that did not ask for the extended protocol. */
static void test_odd_48_to_plain_client(void **state)
{
    fixture *f = *state;
    f->c.cfg.features = 0x03;
    f->dev.at = SS_FEATURES;
    f->dev.act = SA_BYTES;
    f->dev.bytes[0] = 0x48;
    f->dev.bytes[1] = 0x00;
    f->dev.nbytes = 2;
    script_start(f, 100);
    assert_int_equal(run(f, 2000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_PROTOCOL);
    assert_int_equal(r.code, 0x48);
}

/* An older device that answers 40 to an extended client: no type byte. */
static void test_plain_reply_to_extended_client(void **state)
{
    fixture *f = *state;
    f->dev.plain_reply = 1;
    script_start(f, 20000);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_DONE);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.feature_reply, 0x40);
    assert_false(r.extended);
    assert_int_equal(f->dev.size, 20000);
}

/* Server flag bits the engine does not know (Noise, reserved) are ignored. */
static void test_unknown_server_flags_ignored(void **state)
{
    fixture *f = *state;
    f->dev.flags = 0x1E;
    script_start(f, 20000);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_DONE);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.server_flags, 0x1E);
    assert_false(r.gzip_accepted);
}

/* The device sends an error byte and closes while we are still writing:
 * the error byte wins over the write failure. */
static void test_error_byte_beats_write_failure(void **state)
{
    fixture *f = *state;
    f->dev.at = SS_DATA;
    f->dev.act = SA_CODE;
    f->dev.code = 0x83;
    f->c.cfg.window = 64;
    f->c.buf_size = 1024;
    script_start(f, 400000);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_DEVICE);
    assert_int_equal(r.code, 0x83);
}

static void test_transport_error(void **state)
{
    fixture *f = *state;
    f->dev.at = SS_DATA;
    f->dev.act = SA_STALL;
    script_start(f, 100000);
    run(f, 100);
    f->pipe.end[0].fail_write = 1;
    f->pipe.end[0].fail_read = 1;
    assert_int_equal(run(f, 100), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_ERR_IO);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_DATA);
}

/* The final 00 reaches the device; the device closing first is fine too. */
static void test_final_ack(void **state)
{
    fixture *f = *state;
    script_start(f, 5000);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_DONE);
    assert_true(f->dev.final_seen);
}

static void test_restart_after_failure(void **state)
{
    fixture *f = *state;
    f->dev.at = SS_HELLO;
    f->dev.act = SA_CLOSE;
    script_start(f, 20000);
    assert_int_equal(run(f, 1000), EOTA_CLIENT_FAILED);
    /* a fresh connection and a good device */
    mem_pipe_free(&f->pipe);
    mem_pipe_init(&f->pipe, 0);
    eota_posix_hash_free(&f->dev.hash);
    sdev_init(&f->dev, &f->pipe.end[1]);
    assert_int_equal(eota_client_start(&f->c.cl, &f->pipe.end[0]), EOTA_OK);
    assert_int_equal(eota_client_start(&f->c.cl, &f->pipe.end[0]), EOTA_EBUSY);
    assert_int_equal(run(f, 10000), EOTA_CLIENT_DONE);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, EOTA_CLIENT_OK);
    assert_int_equal(r.sent, 20000);
}

/* Our write is the first to notice the close: the error byte that came
 * before it is still reported, not a network error. */
static void salvage(void **state, int with_code)
{
    fixture *f = *state;
    f->dev.at = SS_DATA;
    f->dev.act = with_code ? SA_CODE : SA_CLOSE;
    f->dev.code = 0x83;
    f->c.cfg.window = 64;
    f->c.buf_size = 1024;
    script_start(f, 400000);
    for (int i = 0; i < 1000 && !f->dev.closed_by_us; i++) {
        eota_client_poll(&f->c.cl);
        sdev_poll(&f->dev);
    }
    assert_true(f->dev.closed_by_us);
    f->pipe.end[0].again_reads = 1;
    assert_int_equal(eota_client_poll(&f->c.cl), EOTA_CLIENT_FAILED);
    eota_client_report r;
    report(f, &r);
    assert_int_equal(r.error, with_code ? EOTA_CLIENT_ERR_DEVICE : EOTA_CLIENT_ERR_CLOSED);
    assert_int_equal(r.code, with_code ? 0x83 : 0);
    assert_int_equal(r.phase, EOTA_CLIENT_PH_DATA);
}

static void test_error_byte_found_after_write_failure(void **state) { salvage(state, 1); }
static void test_close_found_by_write(void **state) { salvage(state, 0); }

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_v2_window1_worked_example),
        T(test_v2_window2),
        T(test_v2_window8),
        T(test_v2_exact_blocks),
        T(test_v2_one_byte),
        T(test_v2_window_default_is_stop_and_wait),
        T(test_v1_no_acks),
        T(test_sha256_password),
        T(test_md5_opt_in_device),
        T(test_sha256_required_by_device),
        T(test_wrong_password),
        T(test_password_required),
        T(test_password_to_open_device),
        T(test_password_change_between_starts),
        T(test_gzip_extended),
        T(test_gzip_one_byte_reply),
        T(test_gzip_lazy_image),
        T(test_gzip_offered_device_without),
        T(test_gzip_device_not_offered),
        T(test_extended_flags_and_type),
        T(test_unsupported_type),
        T(test_features_never_reserved),
        T(test_backend_prepare_fails),
        T(test_backend_esp8266_bootstrap),
        T(test_backend_write_fails),
        T(test_backend_end_fails),
        T(test_image_too_big),
        T(test_fragmented_one_byte),
        T(test_small_pipe_and_buffer),
        T(test_slow_backend_end_pending),
        T(test_image_read_fails),
        T(test_random_fails),
        T(test_cancel),
        T(test_init_rejects),
        T(test_no_image_at_all),
        T(test_names),
        cmocka_unit_test(test_script_happy_paths),
        cmocka_unit_test(test_script_every_code_every_stage),
        cmocka_unit_test(test_script_closes_at_every_stage),
        cmocka_unit_test(test_script_stalls_at_every_stage),
        T(test_default_timeouts),
        T(test_default_data_timeout),
        cmocka_unit_test(test_window_limits_in_flight),
        T(test_window1_lockstep),
        T(test_version_3_rejected),
        T(test_version_0_rejected),
        T(test_odd_hello),
        T(test_odd_feature_reply),
        T(test_odd_challenge),
        T(test_odd_nonce_not_hex),
        T(test_odd_early_receive_ok),
        T(test_odd_too_many_acks),
        T(test_odd_48_to_plain_client),
        T(test_plain_reply_to_extended_client),
        T(test_unknown_server_flags_ignored),
        T(test_error_byte_beats_write_failure),
        T(test_transport_error),
        T(test_final_ack),
        T(test_restart_after_failure),
        T(test_error_byte_found_after_write_failure),
        T(test_close_found_by_write),
        cmocka_unit_test(test_acks_skipped_or_reordered),
        T(test_acks_before_the_block),
        T(test_acks_44_45_after_43),
        T(test_acks_version_1_needs_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
