/*
 * test_server.c: the device engine (src/core/server.c) driven through its
 * public API by a scripted peer (tests/support/fake.h): every state
 * transition and every response code it can send, the events, the timeouts,
 * the runtime password, one upload at a time, wants/timeout_ms.
 *
 * Expected device bytes are written out by hand from PROTOCOL.md section 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/server.h"
#include "fake.h"
#include "golden.h"

/* ---------- harness ---------- */

static int setup(void **state)
{
    eota_harness *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    eota_harness_init(h);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    eota_harness *h = *state;
    eota_harness_free(h);
    free(h);
    return 0;
}

static void start(eota_harness *h)
{
    eota_harness_start(h, 0);
    assert_int_equal(eota_harness_connect(h), EOTA_OK);
}

/* Reset the connection and the counters for a new session on the same
 * engine. */
static void reconnect(eota_harness *h)
{
    assert_false(eota_server_busy(&h->srv));
    fake_conn_free(&h->conn);
    fake_conn_init(&h->conn);
    h->events.n = 0;
    assert_int_equal(eota_harness_connect(h), EOTA_OK);
}

/* Run to idle; stalls move the clock 1 ms (so lingering closes end). */
static int finish(eota_harness *h) { return srvt_drive_idle(h, 1, 200000); }

/* ---------- client bytes ---------- */

static const char CNONCE64[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char CNONCE32[] = "fedcba9876543210fedcba9876543210";

static void c_magic(fake_conn *c) { fake_conn_push_hex(c, "6c 26 f7 5c 45"); }
static void c_byte(fake_conn *c, uint8_t b) { fake_conn_push(c, &b, 1); }
static void c_size(fake_conn *c, uint32_t n)
{
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    fake_conn_push(c, b, 4);
}
static void c_md5(fake_conn *c, size_t n)
{
    char m[33];
    pattern_md5_hex(m, n);
    fake_conn_push(c, m, 32);
}
static void c_data(fake_conn *c, size_t n, size_t from)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    pattern_fill(p, n, from);
    fake_conn_push(c, p, n);
    free(p);
}
static void upcase(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 32);
}
/* cnonce + response for the nonce the fake random will give next. */
static void c_auth(eota_harness *h, eota_hash_alg alg, const char *pw, int upper)
{
    size_t nb = alg == EOTA_HASH_SHA256 ? 32 : 16;
    const char *cn = alg == EOTA_HASH_SHA256 ? CNONCE64 : CNONCE32;
    char nonce[65], resp[65];
    fake_nonce_hex(nonce, h->random.next, nb);
    auth_response(resp, alg, pw, nonce, cn);
    if (upper)
        upcase(resp);
    fake_conn_push(&h->conn, cn, strlen(cn));
    fake_conn_push(&h->conn, resp, strlen(resp));
}

typedef struct upl {
    uint8_t features;
    uint8_t type;      /* sent when features has 0x04 */
    uint32_t size;
    const char *pw;    /* NULL: no auth step */
    int md5_auth;      /* the auth step is the legacy MD5 one */
    int upper;         /* response in uppercase hex */
    int bad_md5;       /* announce a wrong image MD5 */
    int no_final;      /* no final 00 */
    int eof;           /* close after everything */
} upl;

static void push_upload(eota_harness *h, const upl *u)
{
    fake_conn *c = &h->conn;
    c_magic(c);
    c_byte(c, u->features);
    if (u->pw)
        c_auth(h, u->md5_auth ? EOTA_HASH_MD5 : EOTA_HASH_SHA256, u->pw, u->upper);
    if (u->features & EOTA_FEATURE_EXTENDED)
        c_byte(c, u->type);
    c_size(c, u->size);
    if (u->bad_md5)
        fake_conn_push(c, "00000000000000000000000000000000", 32);
    else
        c_md5(c, u->size);
    c_data(c, u->size, 0);
    if (!u->no_final)
        c_byte(c, 0);
    c->eof = u->eof;
}

/* ---------- assertions on bytes ---------- */

static char *out_str(const eota_harness *h)
{
    gbuf b = {0};
    hex_spaced(&b, h->conn.out, h->conn.out_len);
    return gbuf_take(&b);
}

static char *tok_str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tok_str(const char *fmt, ...)
{
    char tokens[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tokens, sizeof tokens, fmt, ap);
    va_end(ap);
    gbuf bytes = {0}, b = {0};
    if (golden_parse_tokens(tokens, &bytes) != 0) {
        fprintf(stderr, "bad tokens: %s\n", tokens);
        abort();
    }
    hex_spaced(&b, bytes.p, bytes.len);
    gbuf_free(&bytes);
    return gbuf_take(&b);
}

/* The device output must be exactly these tokens (hex bytes, "ascii"). */
#define ASSERT_OUT(h, ...)                                                                         \
    do {                                                                                           \
        char *got_ = out_str(h), *want_ = tok_str(__VA_ARGS__);                                    \
        if (strcmp(got_, want_) != 0)                                                              \
            fprintf(stderr, "device sent: %s\nexpected:    %s\n", got_, want_);                   \
        assert_string_equal(got_, want_);                                                          \
        free(got_);                                                                                \
        free(want_);                                                                               \
    } while (0)

/* n times " 47" (with a leading space when n > 0). */
static const char *acks(char *buf, size_t n)
{
    buf[0] = 0;
    for (size_t i = 0; i < n; i++)
        strcat(buf, " 47");
    return buf;
}

static void assert_event(const eota_harness *h, size_t i, eota_state st, uint8_t code, uint32_t received,
                         uint32_t total)
{
    assert_true(i < h->events.n);
    assert_int_equal(h->events.ev[i].state, st);
    assert_int_equal(h->events.ev[i].code, code);
    assert_int_equal(h->events.ev[i].received, received);
    assert_int_equal(h->events.ev[i].total, total);
}

static void assert_committed_pattern(const eota_harness *h, size_t size)
{
    assert_int_equal(h->mem.committed, 1);
    assert_int_equal(h->mem.committed_len, size);
    assert_true(pattern_check(h->store, size));
    assert_int_equal(h->mem.aborted, 0);
}

static void assert_nothing_committed(const eota_harness *h)
{
    assert_int_equal(h->mem.committed, 0);
    assert_int_equal(h->mem.committed_len, 0);
}

/* ---------- init and arguments ---------- */

static void test_init_rejects_bad_arguments(void **state)
{
    eota_harness *h = *state;
    eota_server srv;
    h->cfg.backend = eota_mem_backend_seam(&h->mem);
    assert_int_equal(eota_server_init(&srv, &h->cfg, h->xfer, EOTA_SERVER_MIN_BUFFER), EOTA_OK);
    assert_int_equal(eota_server_init(&srv, &h->cfg, h->xfer, EOTA_SERVER_MIN_BUFFER - 1), EOTA_EINVAL);
    assert_int_equal(eota_server_init(&srv, &h->cfg, NULL, 4096), EOTA_EINVAL);
    assert_int_equal(eota_server_init(NULL, &h->cfg, h->xfer, 4096), EOTA_EINVAL);
    assert_int_equal(eota_server_init(&srv, NULL, h->xfer, 4096), EOTA_EINVAL);

    eota_server_config bad = h->cfg;
    bad.version = 3;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);
    bad = h->cfg;
    bad.transport = NULL;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);
    bad = h->cfg;
    bad.clock.now_ms = NULL;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);
    bad = h->cfg;
    bad.random.fill = NULL;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);
    bad = h->cfg;
    bad.hash.ops = NULL;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);
    bad = h->cfg;
    bad.backend.ops = NULL;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);

    char longpw[EOTA_PASSWORD_MAX + 2];
    memset(longpw, 'p', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = 0;
    bad = h->cfg;
    bad.password = longpw;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_EINVAL);
    longpw[EOTA_PASSWORD_MAX] = 0; /* exactly the maximum */
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_OK);

    /* version 0 means 2 */
    bad = h->cfg;
    bad.version = 0;
    assert_int_equal(eota_server_init(&srv, &bad, h->xfer, 4096), EOTA_OK);
    eota_server_info info;
    eota_server_get_info(&srv, &info);
    assert_int_equal(info.version, 2);
    /* idle engine */
    assert_int_equal(eota_server_busy(&srv), 0);
    assert_int_equal(eota_server_wants(&srv), 0);
    assert_int_equal(eota_server_timeout_ms(&srv), -1);
    assert_int_equal(eota_server_poll(&srv), EOTA_SERVER_IDLE);
}

/* ---------- magic ---------- */

static void test_bad_magic(void **state)
{
    eota_harness *h = *state;
    static const char *bad[] = {"6d 26 f7 5c 45", "6c 27 f7 5c 45", "6c 26 f6 5c 45", "6c 26 f7 5d 45",
                                "6c 26 f7 5c 44", "47 45 54 20 2f"};
    start(h);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (i)
            reconnect(h);
        fake_conn_push_hex(&h->conn, bad[i]);
        /* a confused peer keeps talking: drained, not answered */
        fake_conn_push_hex(&h->conn, "07 00 00 00 10 00");
        h->conn.eof = 1;
        assert_int_equal(finish(h), 0);
        ASSERT_OUT(h, "80");
        assert_int_equal(h->conn.closed, 1);
        assert_int_equal(h->conn.in_pos, h->conn.in_len);
        assert_int_equal(h->events.n, 0); /* a scanner triggers nothing */
        assert_int_equal(h->mem.begin_calls, 0);
        eota_server_info info;
        eota_server_get_info(&h->srv, &info);
        assert_int_equal(info.error_code, 0x80);
    }
}

static void test_bad_magic_linger_then_close(void **state)
{
    eota_harness *h = *state;
    start(h);
    fake_conn_push_hex(&h->conn, "00 00 00 00 00");
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "80");
    /* the peer neither closes nor sends: the engine closes after the linger */
    assert_true(eota_server_busy(&h->srv));
    h->clock.now += EOTA_DEVICE_FINAL_ACK_TIMEOUT_MS - 1;
    srvt_run_until_stall(h);
    assert_true(eota_server_busy(&h->srv));
    h->clock.now += 1;
    srvt_run_until_stall(h);
    assert_false(eota_server_busy(&h->srv));
    assert_int_equal(h->conn.closed, 1);
}

/* ---------- version 1 and 2, chunk acknowledgements ---------- */

static const uint32_t SIZES[] = {1, 8191, 8192, 8193, 20000, 3 * 8192};

static void test_version1_sends_no_chunk_acks(void **state)
{
    eota_harness *h = *state;
    h->cfg.version = 1;
    start(h);
    for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++) {
        if (i)
            reconnect(h);
        upl u = {.features = 0x07, .size = SIZES[i]};
        push_upload(h, &u);
        assert_int_equal(finish(h), 1);
        ASSERT_OUT(h, "00 01 48 00 41 42 43 44 45");
        assert_int_equal(h->mem.committed, (int)i + 1);
        assert_int_equal(h->mem.committed_len, SIZES[i]);
        assert_true(pattern_check(h->store, SIZES[i]));
    }
    /* and with an old one-byte client */
    reconnect(h);
    upl u = {.features = 0x00, .size = 20000};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 01 40 41 42 43 44 45");
}

static void test_version2_chunk_acks(void **state)
{
    eota_harness *h = *state;
    /* hand-computed ceil(size / 8192) */
    static const size_t want_acks[] = {1, 1, 1, 2, 3, 3};
    char a[64];
    start(h);
    for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++) {
        if (i)
            reconnect(h);
        upl u = {.features = 0x07, .size = SIZES[i]};
        push_upload(h, &u);
        assert_int_equal(finish(h), 1);
        ASSERT_OUT(h, "00 02 48 00 41 42 43%s 44 45", acks(a, want_acks[i]));
        assert_committed_pattern(h, SIZES[i]);
        h->mem.committed = 0;
    }
}

/* A 47 leaves as soon as 8192 more wire bytes arrived, however they are cut,
 * and the last partial block gets one too. */
static void test_chunk_acks_count_wire_bytes(void **state)
{
    eota_harness *h = *state;
    start(h);
    const uint32_t size = 20000;
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, size);
    c_md5(&h->conn, size);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 41 42 43");
    /* (cumulative bytes sent, 47s expected so far) */
    static const struct {
        size_t upto;
        size_t acks;
    } steps[] = {{1, 0}, {5000, 0}, {8191, 0}, {8192, 1}, {8193, 1}, {16383, 1}, {16384, 2}, {19999, 2}};
    size_t sent = 0;
    char a[64];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        c_data(&h->conn, steps[i].upto - sent, sent);
        sent = steps[i].upto;
        srvt_run_until_stall(h);
        ASSERT_OUT(h, "00 02 48 00 41 42 43%s", acks(a, steps[i].acks));
    }
    c_data(&h->conn, size - sent, sent);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 45");
    c_byte(&h->conn, 0);
    assert_int_equal(finish(h), 1);
    assert_committed_pattern(h, size);
}

/* ---------- features ---------- */

static void test_features_one_byte_reply(void **state)
{
    eota_harness *h = *state;
    static const struct {
        uint8_t client, caps, reply, gzip;
    } t[] = {
        {0x00, 0, 0x40, 0},
        {0x01, 0, 0x40, 0},
        {0x00, EOTA_BACKEND_CAP_GZIP, 0x40, 0},
        {0x02, EOTA_BACKEND_CAP_GZIP, 0x40, 0},
        {0x01, EOTA_BACKEND_CAP_GZIP, 0x46, 1},
        {0x03, EOTA_BACKEND_CAP_GZIP, 0x46, 1},
        {0x01 | 0x10 | 0x20 | 0x80, EOTA_BACKEND_CAP_GZIP, 0x46, 1}, /* unknown bits ignored */
        {0x10 | 0x20 | 0x80, EOTA_BACKEND_CAP_GZIP | EOTA_BACKEND_CAP_PARTITION_TABLE, 0x40, 0},
        {0x09, EOTA_BACKEND_CAP_GZIP, 0x46, 1}, /* 0x08 without 0x04: still one byte */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->mem.caps = t[i].caps;
        start(h);
        upl u = {.features = t[i].client, .size = 100};
        push_upload(h, &u);
        assert_int_equal(finish(h), 1);
        ASSERT_OUT(h, "00 02 %02X 41 42 43 47 44 45", t[i].reply);
        assert_int_equal(h->mem.info.gzip_agreed, t[i].gzip);
        assert_int_equal(h->mem.info.ota_type, 0);
        eota_server_info info;
        eota_server_get_info(&h->srv, &info);
        assert_int_equal(info.client_features, t[i].client);
        assert_int_equal(info.server_flags, 0);
    }
}

static void test_features_extended_reply(void **state)
{
    eota_harness *h = *state;
    const uint8_t G = EOTA_BACKEND_CAP_GZIP, P = EOTA_BACKEND_CAP_PARTITION_TABLE, B = EOTA_BACKEND_CAP_BOOTLOADER;
    const struct {
        uint8_t client, caps, flags, gzip;
    } t[] = {
        {0x04, 0, 0x00, 0},
        {0x07, 0, 0x00, 0},
        {0x04, G, 0x00, 0},       /* gzip only when the client can send it */
        {0x05, G, 0x01, 1},
        {0x07, G, 0x01, 1},
        {0x04, P, 0x02, 0},
        {0x04, B, 0x02, 0},
        {0x07, (uint8_t)(G | P | B), 0x03, 1},
        {0x0F, (uint8_t)(G | P | B), 0x03, 1}, /* noise asked: not offered */
        /* reserved and unknown client bits change nothing; reserved server
         * bits 0x08/0x10 and noise 0x04 are never set */
        {0x04 | 0x10 | 0x20 | 0x80, (uint8_t)(G | P | B), 0x02, 0},
        {0xFF, (uint8_t)(G | P | B), 0x03, 1},
        {0x37, 0xFF, 0x03, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->mem.caps = t[i].caps;
        start(h);
        /* 0x02 set with no password configured: no auth step */
        upl u = {.features = t[i].client, .size = 100};
        push_upload(h, &u);
        assert_int_equal(finish(h), 1);
        ASSERT_OUT(h, "00 02 48 %02X 41 42 43 47 44 45", t[i].flags);
        assert_int_equal(t[i].flags & EOTA_SERVER_FLAG_RESERVED_MASK, 0);
        assert_int_equal(h->mem.info.gzip_agreed, t[i].gzip);
        eota_server_info info;
        eota_server_get_info(&h->srv, &info);
        assert_int_equal(info.server_flags, t[i].flags);
        assert_int_equal(info.auth, EOTA_AUTH_NONE);
    }
}

/* ---------- authentication ---------- */

static void test_no_password_goes_straight_to_auth_ok(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "";
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x02);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 40 41");
    assert_int_equal(h->random.next, 0); /* no nonce drawn */
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    assert_int_equal(info.auth, EOTA_AUTH_NONE);
}

static void test_sha256_auth_ok(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "hunter2";
    start(h);
    upl u = {.features = 0x07, .size = 20000, .pw = "hunter2"};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    /* the fake random counts from 0: 32 bytes 00..1f as 64 lowercase hex */
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 41 42 43 47 47 47 44 45",
               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_int_equal(h->random.next, 32); /* at least 16 random bytes */
    assert_committed_pattern(h, 20000);
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    assert_int_equal(info.auth, EOTA_AUTH_SHA256);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 0, EOTA_STATE_STARTED, 0, 0, 20000);
    assert_event(h, 1, EOTA_STATE_COMPLETED, 0, 20000, 20000);

    /* a second session gets a fresh nonce */
    reconnect(h);
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 41 42 43 47 47 47 44 45",
               "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
}

static void test_sha256_auth_uppercase_response(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "hunter2";
    start(h);
    upl u = {.features = 0x03, .size = 10, .pw = "hunter2", .upper = 1};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 40 02 \"%s\" 41 42 43 47 44 45",
               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_committed_pattern(h, 10);
}

/* The cnonce is hashed exactly as received (here in uppercase). */
static void test_sha256_cnonce_hashed_as_sent(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "pw";
    start(h);
    const char *cn = "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789";
    char nonce[65], resp[65], lowered_resp[65];
    fake_nonce_hex(nonce, 0, 32);
    auth_response(resp, EOTA_HASH_SHA256, "pw", nonce, cn);
    /* the response over a lowercased cnonce must not pass */
    auth_response(lowered_resp, EOTA_HASH_SHA256, "pw", nonce,
                  "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_string_not_equal(resp, lowered_resp);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x02);
    fake_conn_push(&h->conn, cn, 64);
    fake_conn_push(&h->conn, resp, 64);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 40 02 \"%s\" 41", nonce);
    eota_server_cancel(&h->srv);

    reconnect(h);
    fake_nonce_hex(nonce, h->random.next, 32);
    auth_response(lowered_resp, EOTA_HASH_SHA256, "pw", nonce,
                  "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    c_magic(&h->conn);
    c_byte(&h->conn, 0x02);
    fake_conn_push(&h->conn, cn, 64);
    fake_conn_push(&h->conn, lowered_resp, 64);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 40 02 \"%s\" 82", nonce);
}

static void test_sha256_wrong_response(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "right";
    start(h);
    upl u = {.features = 0x07, .size = 100, .pw = "wrong", .eof = 1};
    push_upload(h, &u);
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 82",
               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_int_equal(h->conn.closed, 1);
    assert_int_equal(h->mem.begin_calls, 0);
    assert_int_equal(h->mem.aborted, 0);
    assert_nothing_committed(h);
    assert_int_equal(h->events.n, 1);
    assert_event(h, 0, EOTA_STATE_ERROR, 0x82, 0, 0);
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    assert_int_equal(info.error_code, 0x82);

    /* a response that is right except one hex digit */
    reconnect(h);
    char nonce[65], resp[65];
    fake_nonce_hex(nonce, h->random.next, 32);
    auth_response(resp, EOTA_HASH_SHA256, "right", nonce, CNONCE64);
    resp[63] = resp[63] == '0' ? '1' : '0';
    c_magic(&h->conn);
    c_byte(&h->conn, 0x02);
    fake_conn_push(&h->conn, CNONCE64, 64);
    fake_conn_push(&h->conn, resp, 64);
    h->conn.eof = 1;
    finish(h);
    ASSERT_OUT(h, "00 02 40 02 \"%s\" 82", nonce);
    /* non-hex bytes that differ from the digits only in case bit 0x20 */
    reconnect(h);
    fake_nonce_hex(nonce, h->random.next, 32);
    auth_response(resp, EOTA_HASH_SHA256, "right", nonce, CNONCE64);
    for (int i = 0; i < 64; i++)
        if (resp[i] >= '0' && resp[i] <= '9')
            resp[i] = (char)(resp[i] & ~0x20); /* '0'..'9' -> 0x10..0x19 */
    c_magic(&h->conn);
    c_byte(&h->conn, 0x02);
    fake_conn_push(&h->conn, CNONCE64, 64);
    fake_conn_push(&h->conn, resp, 64);
    h->conn.eof = 1;
    finish(h);
    ASSERT_OUT(h, "00 02 40 02 \"%s\" 82", nonce);
}

static void test_password_but_client_without_sha256(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "pw";
    start(h);
    static const uint8_t clients[] = {0x00, 0x01, 0x04, 0x05};
    for (size_t i = 0; i < sizeof clients; i++) {
        if (i)
            reconnect(h);
        c_magic(&h->conn);
        c_byte(&h->conn, clients[i]);
        h->conn.eof = 1;
        assert_int_equal(finish(h), 0);
        if (clients[i] & 0x04)
            ASSERT_OUT(h, "00 02 48 00 82");
        else
            ASSERT_OUT(h, "00 02 40 82");
        assert_int_equal(h->conn.closed, 1);
        assert_int_equal(h->events.n, 1);
        assert_event(h, 0, EOTA_STATE_ERROR, 0x82, 0, 0);
    }
    assert_int_equal(h->random.next, 0);
}

static void test_md5_auth_opt_in(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "legacy";
    h->cfg.allow_md5_auth = 1;
    start(h);
    upl u = {.features = 0x01, .size = 9000, .pw = "legacy", .md5_auth = 1};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    /* 16 random bytes 00..0f as 32 lowercase hex */
    ASSERT_OUT(h, "00 02 40 01 \"%s\" 41 42 43 47 47 44 45", "000102030405060708090a0b0c0d0e0f");
    assert_committed_pattern(h, 9000);
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    assert_int_equal(info.auth, EOTA_AUTH_MD5);

    /* uppercase response */
    reconnect(h);
    u.upper = 1;
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 40 01 \"%s\" 41 42 43 47 47 44 45", "101112131415161718191a1b1c1d1e1f");

    /* wrong password */
    reconnect(h);
    u.upper = 0;
    u.pw = "nope";
    u.eof = 1;
    push_upload(h, &u);
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 40 01 \"%s\" 82", "202122232425262728292a2b2c2d2e2f");
    assert_int_equal(h->events.n, 1);
    assert_event(h, 0, EOTA_STATE_ERROR, 0x82, 0, 0);

    /* a client that can do SHA-256 still gets SHA-256 */
    reconnect(h);
    upl s = {.features = 0x07, .size = 10, .pw = "legacy"};
    push_upload(h, &s);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 41 42 43 47 44 45",
               "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f");
    eota_server_get_info(&h->srv, &info);
    assert_int_equal(info.auth, EOTA_AUTH_SHA256);
}

/* ---------- OTA type ---------- */

static void test_ota_type(void **state)
{
    eota_harness *h = *state;
    const uint8_t P = EOTA_BACKEND_CAP_PARTITION_TABLE, B = EOTA_BACKEND_CAP_BOOTLOADER,
                  G = EOTA_BACKEND_CAP_GZIP;
    const struct {
        uint8_t caps, type, flags;
        int ok;
    } t[] = {
        {0, 0x00, 0x00, 1},
        {0, 0x01, 0x00, 0},
        {0, 0x02, 0x00, 0},
        {G, 0x01, 0x00, 0},
        {P, 0x01, 0x02, 1},
        {B, 0x02, 0x02, 1},
        {P, 0x02, 0x02, 0}, /* bootloader needs its own capability */
        {B, 0x01, 0x02, 0},
        {(uint8_t)(P | B), 0x01, 0x02, 1},
        {(uint8_t)(P | B), 0x02, 0x02, 1},
        {(uint8_t)(P | B), 0x03, 0x02, 0},
        {0xFF, 0x03, 0x02, 0},
        {0xFF, 0xFF, 0x02, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->mem.caps = t[i].caps;
        start(h);
        upl u = {.features = 0x06, .type = t[i].type, .size = 8192, .eof = 1};
        push_upload(h, &u);
        int reboots = finish(h);
        if (t[i].ok) {
            assert_int_equal(reboots, 1);
            ASSERT_OUT(h, "00 02 48 %02X 41 42 43 47 44 45", t[i].flags);
            assert_int_equal(h->mem.info.ota_type, t[i].type);
            assert_committed_pattern(h, 8192);
        } else {
            assert_int_equal(reboots, 0);
            /* refused after the size */
            ASSERT_OUT(h, "00 02 48 %02X 41 8E", t[i].flags);
            assert_int_equal(h->mem.begin_calls, 0);
            assert_int_equal(h->mem.aborted, 0);
            assert_int_equal(h->events.n, 2);
            assert_event(h, 0, EOTA_STATE_STARTED, 0, 0, 8192);
            assert_event(h, 1, EOTA_STATE_ERROR, 0x8E, 0, 8192);
        }
        eota_server_info info;
        eota_server_get_info(&h->srv, &info);
        assert_int_equal(info.ota_type, t[i].type);
        assert_int_equal(info.error_code, t[i].ok ? 0 : 0x8E);
    }
}

/* ---------- size and prepare ---------- */

static void test_size_zero(void **state)
{
    eota_harness *h = *state;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 0);
    h->conn.eof = 1;
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 41 81");
    assert_int_equal(h->mem.begin_calls, 0);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 0, EOTA_STATE_STARTED, 0, 0, 0);
    assert_event(h, 1, EOTA_STATE_ERROR, 0x81, 0, 0);
}

static void test_backend_begin_errors(void **state)
{
    eota_harness *h = *state;
    /* the engine maps the backend's status; a detail code is sent as is */
    const struct {
        uint8_t too_big;
        int fail_begin;
        uint8_t fail_code, want;
        size_t capacity;
        uint32_t size;
    } t[] = {
        {0, EOTA_OK, 0, 0x89, 1000, 1001},           /* ETOOBIG, default: ESP32 not enough space */
        {0x89, EOTA_OK, 0, 0x89, 1000, 20000},
        {0x88, EOTA_OK, 0, 0x88, 1000, 20000},
        {0x8C, EOTA_OK, 0, 0x8C, 1000, 20000},
        {0x8C, EOTA_ETOOBIG, 0, 0x8C, 1000, 10},     /* however the backend says it */
        {0, EOTA_ENOSLOT, 0, 0x8A, 1000, 10},        /* no update partition */
        {0, EOTA_EPREPARE, 0, 0x81, 1000, 10},
        {0, EOTA_EUNSUPPORTED, 0, 0x8E, 1000, 10},
        {0, EOTA_EIO, 0, 0x81, 1000, 10},            /* other statuses: by the step */
        {0, EOTA_EIO, 0x85, 0x85, 1000, 10},         /* ESP8266 just serial-flashed */
        {0, EOTA_EPREPARE, 0x87, 0x87, 1000, 10},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        eota_mem_backend_init(&h->mem, h->store, t[i].capacity);
        h->cfg.too_big_code = t[i].too_big;
        h->mem.fail_begin = t[i].fail_begin;
        h->mem.fail_code = t[i].fail_code;
        start(h);
        upl u = {.features = 0x07, .size = t[i].size, .eof = 1};
        push_upload(h, &u);
        assert_int_equal(finish(h), 0);
        ASSERT_OUT(h, "00 02 48 00 41 %02X", t[i].want);
        assert_int_equal(h->mem.begin_calls, 1);
        assert_int_equal(h->mem.info.size, t[i].size);
        assert_int_equal(h->mem.aborted, 0); /* begin failed: nothing to abort */
        assert_nothing_committed(h);
        assert_int_equal(h->events.n, 2);
        assert_event(h, 0, EOTA_STATE_STARTED, 0, 0, t[i].size);
        assert_event(h, 1, EOTA_STATE_ERROR, t[i].want, 0, t[i].size);
        assert_int_equal(h->conn.closed, 1);
    }
    /* the exact capacity fits */
    eota_harness_free(h);
    eota_harness_init(h);
    eota_mem_backend_init(&h->mem, h->store, 1000);
    start(h);
    upl u = {.features = 0x07, .size = 1000};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    assert_committed_pattern(h, 1000);
}

/* ---------- image MD5 ---------- */

static void test_md5_mismatch(void **state)
{
    eota_harness *h = *state;
    start(h);
    upl u = {.features = 0x07, .size = 20000, .bad_md5 = 1, .eof = 1};
    push_upload(h, &u);
    assert_int_equal(finish(h), 0);
    /* 44 as soon as everything arrived, then 8B in place of 45 */
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 8B");
    assert_int_equal(h->mem.aborted, 1);
    assert_int_equal(h->mem.end_calls, 0);
    assert_nothing_committed(h);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 0, EOTA_STATE_STARTED, 0, 0, 20000);
    assert_event(h, 1, EOTA_STATE_ERROR, 0x8B, 20000, 20000);

    /* one corrupted byte on the wire */
    reconnect(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 100);
    c_md5(&h->conn, 100);
    uint8_t img[100];
    pattern_fill(img, 100, 0);
    img[57] ^= 0x01;
    fake_conn_push(&h->conn, img, 100);
    h->conn.eof = 1;
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44 8B");
    assert_int_equal(h->mem.aborted, 2);
    assert_nothing_committed(h);
}

static void test_md5_uppercase_accepted(void **state)
{
    eota_harness *h = *state;
    start(h);
    char m[33];
    pattern_md5_hex(m, 5000);
    upcase(m);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 5000);
    fake_conn_push(&h->conn, m, 32);
    c_data(&h->conn, 5000, 0);
    c_byte(&h->conn, 0);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44 45");
    assert_committed_pattern(h, 5000);
}

/* ---------- backend write / end ---------- */

static void test_write_failure(void **state)
{
    eota_harness *h = *state;
    const struct {
        int status;
        uint8_t fail_code, code;
        size_t after;
        const char *tail;
    } t[] = {
        {EOTA_EWRITE, 0, 0x83, 0, "43 83"},        /* the first write fails */
        {EOTA_EWRITE, 0, 0x83, 10000, "43 47 83"}, /* after the first block was acked */
        {EOTA_EFORMAT, 0, 0x83, 10000, "43 47 83"},
        {EOTA_ETOOBIG, 0, 0x89, 10000, "43 47 89"}, /* inflated data overflows */
        {EOTA_EIO, 0, 0x83, 10000, "43 47 83"},    /* by the step */
        {EOTA_EIO, 0x90, 0x90, 10000, "43 47 90"}, /* a layer's exact byte */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->mem.fail_write = t[i].status;
        h->mem.fail_code = t[i].fail_code;
        h->mem.fail_write_after = t[i].after;
        start(h);
        upl u = {.features = 0x07, .size = 20000, .eof = 1};
        push_upload(h, &u);
        assert_int_equal(finish(h), 0);
        ASSERT_OUT(h, "00 02 48 00 41 42 %s", t[i].tail);
        assert_int_equal(h->mem.aborted, 1);
        assert_int_equal(h->mem.end_calls, 0);
        assert_int_equal(h->mem.len, t[i].after);
        assert_nothing_committed(h);
        assert_int_equal(h->events.n, 2);
        assert_int_equal(h->events.ev[1].state, EOTA_STATE_ERROR);
        assert_int_equal(h->events.ev[1].code, t[i].code);
        eota_server_info info;
        eota_server_get_info(&h->srv, &info);
        assert_int_equal(info.error_code, t[i].code);
    }
}

static void test_end_failure(void **state)
{
    eota_harness *h = *state;
    const struct {
        int status;
        uint8_t fail_code;
    } t[] = {{EOTA_EVERIFY, 0}, {EOTA_ECOMMIT, 0}, {EOTA_EWRITE, 0}, {EOTA_EIO, 0},
             {EOTA_EVERIFY, 0x8D}, {EOTA_EIO, 0x93}, {EOTA_EIO, 0xFF}};
    static const uint8_t codes[] = {0x84, 0x84, 0x83, 0x84, 0x8D, 0x93, 0xFF};
    for (size_t i = 0; i < sizeof codes; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->mem.fail_end = t[i].status;
        h->mem.fail_code = t[i].fail_code;
        start(h);
        upl u = {.features = 0x07, .size = 20000, .eof = 1};
        push_upload(h, &u);
        assert_int_equal(finish(h), 0);
        ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 %02X", codes[i]);
        assert_int_equal(h->mem.end_calls, 1);
        assert_int_equal(h->mem.aborted, 1);
        assert_nothing_committed(h);
        assert_int_equal(h->events.n, 2);
        assert_event(h, 1, EOTA_STATE_ERROR, codes[i], 20000, 20000);
    }
}

static void test_end_pending_then_success(void **state)
{
    eota_harness *h = *state;
    h->mem.end_pending_rounds = 5;
    start(h);
    upl u = {.features = 0x07, .size = 20000};
    push_upload(h, &u);
    /* one end() call per poll while pending: the main loop keeps running */
    int polls = 0;
    while (h->mem.end_calls == 0 && polls < 100000) {
        eota_server_poll(&h->srv);
        polls++;
    }
    assert_int_equal(h->mem.end_calls, 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44");
    for (unsigned i = 2; i <= 5; i++) {
        assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_ACTIVE);
        assert_int_equal(h->mem.end_calls, i);
        assert_int_equal(h->mem.committed, 0);
        assert_int_equal(eota_server_timeout_ms(&h->srv), 2);
    }
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44");
    assert_int_equal(finish(h), 1);
    assert_int_equal(h->mem.end_calls, 6);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 45");
    assert_committed_pattern(h, 20000);
}

/* ---------- final acknowledgement ---------- */

static void test_final_ack_present(void **state)
{
    eota_harness *h = *state;
    start(h);
    upl u = {.features = 0x07, .size = 100};
    push_upload(h, &u);
    assert_int_equal(srvt_run_until_stall(h), 1);
    assert_false(eota_server_busy(&h->srv));
    assert_int_equal(h->conn.in_pos, h->conn.in_len); /* the 00 was read */
    assert_int_equal(h->conn.closed, 1);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 1, EOTA_STATE_COMPLETED, 0, 100, 100);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_IDLE); /* reported once */

    /* any byte counts as the goodbye */
    reconnect(h);
    u.no_final = 1;
    push_upload(h, &u);
    c_byte(&h->conn, 0x5A);
    assert_int_equal(srvt_run_until_stall(h), 1);
    assert_false(eota_server_busy(&h->srv));
}

static void test_final_ack_missing_client_closes(void **state)
{
    eota_harness *h = *state;
    start(h);
    upl u = {.features = 0x07, .size = 100, .no_final = 1, .eof = 1};
    push_upload(h, &u);
    assert_int_equal(srvt_run_until_stall(h), 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44 45");
    assert_false(eota_server_busy(&h->srv));
    assert_committed_pattern(h, 100);
    assert_event(h, 1, EOTA_STATE_COMPLETED, 0, 100, 100);

    /* a read error in its place is as good */
    reconnect(h);
    u.eof = 0;
    push_upload(h, &u);
    srvt_run_until_stall(h);
    assert_true(eota_server_busy(&h->srv));
    h->conn.read_error = 1;
    assert_int_equal(srvt_run_until_stall(h), 1);
    assert_false(eota_server_busy(&h->srv));
}

static void test_final_ack_never_comes(void **state)
{
    eota_harness *h = *state;
    const uint32_t limits[] = {0, 300};
    for (size_t i = 0; i < 2; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->cfg.final_ack_timeout_ms = limits[i];
        uint32_t limit = limits[i] ? limits[i] : EOTA_DEVICE_FINAL_ACK_TIMEOUT_MS;
        assert_true(limit <= 1000);
        start(h);
        upl u = {.features = 0x07, .size = 100, .no_final = 1};
        push_upload(h, &u);
        assert_int_equal(srvt_run_until_stall(h), 0);
        ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44 45");
        assert_int_equal(h->mem.committed, 1); /* committed before 45 */
        assert_true(eota_server_busy(&h->srv));
        assert_int_equal(eota_server_timeout_ms(&h->srv), (long)limit);
        h->clock.now += limit - 1;
        assert_int_equal(srvt_run_until_stall(h), 0);
        assert_true(eota_server_busy(&h->srv));
        assert_int_equal(eota_server_timeout_ms(&h->srv), 1);
        assert_int_equal(fake_events_count(&h->events, EOTA_STATE_COMPLETED), 0);
        h->clock.now += 1;
        assert_int_equal(srvt_run_until_stall(h), 1); /* reboot anyway */
        assert_false(eota_server_busy(&h->srv));
        assert_int_equal(h->conn.closed, 1);
        assert_int_equal(fake_events_count(&h->events, EOTA_STATE_COMPLETED), 1);
        assert_int_equal(h->mem.aborted, 0);
    }
}

/* A client that sends ahead (its final 00 or its close already there while
 * the device's replies wait for the transport) must still get every reply:
 * the goodbye is read only after 45 has left. */
static void test_replies_not_lost_when_client_sends_ahead(void **state)
{
    eota_harness *h = *state;
    start(h);
    h->conn.write_again_every = 1; /* nothing can be written for now */
    upl u = {.features = 0x07, .size = 20000};
    push_upload(h, &u);
    srvt_run_until_stall(h);
    assert_int_equal(h->conn.out_len, 0);
    /* the handshake waits for its replies to leave */
    assert_int_equal(h->conn.in_pos, 5);
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_WRITE);
    h->conn.write_again_every = 2;
    h->conn.max_write = 1;
    assert_int_equal(srvt_run_until_stall(h), 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 45");
    assert_committed_pattern(h, 20000);

    /* a probe that sends and closes at once still gets its replies */
    reconnect(h);
    h->conn.max_write = 1;
    h->conn.write_again_every = 2;
    fake_conn_push_hex(&h->conn, "6c 26 f7 5c 45 07");
    h->conn.eof = 1;
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 41");
    assert_int_equal(h->events.n, 0);

    /* the final 00 already sent and the client gone: 45 still leaves first */
    reconnect(h);
    h->conn.write_again_every = 2;
    push_upload(h, &u);
    h->conn.eof = 1;
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 45");
}

/* ---------- events ---------- */

static void test_started_only_after_auth_and_size(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "pw";
    start(h);
    c_magic(&h->conn);
    srvt_run_until_stall(h);
    assert_int_equal(h->events.n, 0);
    c_byte(&h->conn, 0x07);
    c_auth(h, EOTA_HASH_SHA256, "pw", 0); /* computed before the nonce is drawn */
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 41",
               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_int_equal(h->events.n, 0);
    c_byte(&h->conn, 0x00);
    srvt_run_until_stall(h);
    assert_int_equal(h->events.n, 0);
    c_size(&h->conn, 50);
    srvt_run_until_stall(h);
    assert_int_equal(h->events.n, 1);
    assert_event(h, 0, EOTA_STATE_STARTED, 0, 0, 50);
    assert_int_equal(h->mem.begin_calls, 1);
}

static void test_in_progress_at_most_once_per_second(void **state)
{
    eota_harness *h = *state;
    start(h);
    const uint32_t size = 100000;
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, size);
    c_md5(&h->conn, size);
    srvt_run_until_stall(h);
    assert_int_equal(h->events.n, 1);
    /* 10 pieces, 300 ms apart: progress at +1200 ms and +2400 ms only */
    static const size_t want_progress_after[] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
    size_t sent = 0;
    for (size_t k = 0; k < 10; k++) {
        h->clock.now += 300;
        c_data(&h->conn, 5000, sent);
        sent += 5000;
        srvt_run_until_stall(h);
        assert_int_equal(fake_events_count(&h->events, EOTA_STATE_IN_PROGRESS), want_progress_after[k]);
    }
    /* emitted at the first read (4096-byte buffer) once the second is over */
    assert_event(h, 1, EOTA_STATE_IN_PROGRESS, 0, 15000 + 4096, size);
    assert_event(h, 2, EOTA_STATE_IN_PROGRESS, 0, 35000 + 4096, size);
    /* a flood within one instant: nothing more */
    c_data(&h->conn, 30000, sent);
    sent += 30000;
    srvt_run_until_stall(h);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_IN_PROGRESS), 2);
    h->clock.now += 1000;
    c_data(&h->conn, size - sent, sent);
    c_byte(&h->conn, 0);
    assert_int_equal(finish(h), 1);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_IN_PROGRESS), 3);
    assert_int_equal(h->events.n, 5);
    /* the first read a second later: one 4096-byte transfer buffer */
    assert_event(h, 3, EOTA_STATE_IN_PROGRESS, 0, 80000 + 4096, size);
    assert_event(h, 4, EOTA_STATE_COMPLETED, 0, size, size);
    assert_true(eota_event_percent(&h->events.ev[1]) > 19.09f && eota_event_percent(&h->events.ev[1]) < 19.1f);
    assert_true(eota_event_percent(&h->events.ev[4]) == 100.0f);
}

/* ---------- probes ---------- */

static void test_probe_closes_early(void **state)
{
    eota_harness *h = *state;
    const struct {
        const char *pw;
        const char *client;
        const char *reply;
        int read_error;
    } t[] = {
        {NULL, "", "", 0},
        {NULL, "6c 26", "", 0},
        {NULL, "6c 26 f7 5c 45", "00 02", 0},
        {NULL, "6c 26 f7 5c 45 07", "00 02 48 00 41", 0},           /* before the type */
        {NULL, "6c 26 f7 5c 45 01", "00 02 40 41", 0},              /* before the size */
        {NULL, "6c 26 f7 5c 45 07 00", "00 02 48 00 41", 0},        /* after the type */
        {NULL, "6c 26 f7 5c 45 07 00 00 00", "00 02 48 00 41", 0},  /* half a size */
        {NULL, "6c 26 f7 5c 45 07", "00 02 48 00 41", 1},           /* read error */
        {"pw", "6c 26 f7 5c 45 07",
         "00 02 48 00 02 \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"", 0},
        {"pw", "6c 26 f7 5c 45 07 30 31",
         "00 02 48 00 02 \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->cfg.password = t[i].pw;
        start(h);
        fake_conn_push_hex(&h->conn, t[i].client);
        if (t[i].read_error) {
            srvt_run_until_stall(h);
            h->conn.read_error = 1;
        } else {
            h->conn.eof = 1;
        }
        assert_int_equal(srvt_run_until_stall(h), 0);
        ASSERT_OUT(h, "%s", t[i].reply);
        assert_false(eota_server_busy(&h->srv));
        assert_int_equal(h->conn.closed, 1);
        assert_int_equal(h->events.n, 0);
        assert_int_equal(h->mem.begin_calls, 0);
        assert_int_equal(h->mem.aborted, 0);
        eota_server_info info;
        eota_server_get_info(&h->srv, &info);
        assert_int_equal(info.error_code, 0);
    }
}

/* ---------- timeouts ---------- */

static void test_handshake_timeout(void **state)
{
    eota_harness *h = *state;
    const uint32_t cfgs[] = {0, 5000};
    for (size_t i = 0; i < 2; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->cfg.handshake_timeout_ms = cfgs[i];
        uint32_t limit = cfgs[i] ? cfgs[i] : 20000;
        start(h);
        /* a slow client: magic now, features later, never more */
        c_magic(&h->conn);
        srvt_run_until_stall(h);
        assert_int_equal(eota_server_timeout_ms(&h->srv), (long)limit);
        h->clock.now += limit / 2;
        c_byte(&h->conn, 0x07);
        srvt_run_until_stall(h);
        /* the limit runs from the accept, not from the last byte */
        assert_int_equal(eota_server_timeout_ms(&h->srv), (long)(limit - limit / 2));
        h->clock.now += limit - limit / 2 - 1;
        srvt_run_until_stall(h);
        assert_true(eota_server_busy(&h->srv));
        h->clock.now += 1;
        assert_int_equal(srvt_run_until_stall(h), 0);
        assert_false(eota_server_busy(&h->srv));
        assert_int_equal(h->conn.closed, 1);
        ASSERT_OUT(h, "00 02 48 00 41");
        assert_int_equal(h->events.n, 0); /* not yet an upload */
    }
}

static void test_handshake_timeout_after_size(void **state)
{
    eota_harness *h = *state;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 1000);
    fake_conn_push(&h->conn, "0123", 4); /* part of the MD5, then silence */
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 41 42");
    h->clock.now += 20000;
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 41 42 FF");
    assert_int_equal(h->mem.aborted, 1);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 1, EOTA_STATE_ERROR, 0xFF, 0, 1000);
    finish(h);
    assert_false(eota_server_busy(&h->srv));
}

static void test_data_timeout(void **state)
{
    eota_harness *h = *state;
    const uint32_t cfgs[] = {0, 3000};
    for (size_t i = 0; i < 2; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->cfg.data_timeout_ms = cfgs[i];
        uint32_t limit = cfgs[i] ? cfgs[i] : 105000;
        start(h);
        c_magic(&h->conn);
        c_byte(&h->conn, 0x07);
        c_byte(&h->conn, 0x00);
        c_size(&h->conn, 20000);
        c_md5(&h->conn, 20000);
        c_data(&h->conn, 9000, 0);
        srvt_run_until_stall(h);
        ASSERT_OUT(h, "00 02 48 00 41 42 43 47");
        /* the handshake limit no longer applies */
        h->clock.now += limit - 1;
        srvt_run_until_stall(h);
        assert_true(eota_server_busy(&h->srv));
        assert_int_equal(eota_server_timeout_ms(&h->srv), 1);
        /* a byte resets the silence */
        c_data(&h->conn, 1, 9000);
        srvt_run_until_stall(h);
        assert_int_equal(eota_server_timeout_ms(&h->srv), (long)limit);
        h->clock.now += limit - 1;
        srvt_run_until_stall(h);
        assert_true(eota_server_busy(&h->srv));
        h->clock.now += 1;
        srvt_run_until_stall(h);
        ASSERT_OUT(h, "00 02 48 00 41 42 43 47 FF");
        assert_int_equal(h->mem.aborted, 1);
        assert_nothing_committed(h);
        assert_int_equal(h->events.n, 3);
        /* the byte after the long pause made a progress event */
        assert_event(h, 1, EOTA_STATE_IN_PROGRESS, 0, 9001, 20000);
        assert_event(h, 2, EOTA_STATE_ERROR, 0xFF, 9001, 20000);
        h->conn.eof = 1;
        assert_int_equal(finish(h), 0);
        assert_int_equal(h->conn.closed, 1);
    }
}

/* ---------- one upload at a time ---------- */

static void test_second_connection_turned_away(void **state)
{
    eota_harness *h = *state;
    start(h);
    const uint32_t size = 20000;
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, size);
    c_md5(&h->conn, size);
    c_data(&h->conn, 10000, 0);
    srvt_run_until_stall(h);

    fake_conn second;
    fake_conn_init(&second);
    c_magic(&second);
    c_byte(&second, 0x07);
    assert_int_equal(eota_server_accept(&h->srv, &second), EOTA_EBUSY);
    assert_int_equal(second.closed, 1);
    assert_int_equal(second.in_pos, 0);
    assert_int_equal(second.write_calls, 0);
    assert_int_equal(h->conn.closed, 0);

    c_data(&h->conn, size - 10000, 10000);
    c_byte(&h->conn, 0);
    srvt_run_until_stall(h);
    /* the second one is not touched again */
    assert_int_equal(second.closed, 1);
    assert_int_equal(second.write_calls, 0);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 45");
    assert_committed_pattern(h, size);
    assert_int_equal(h->events.n, 2);

    /* once idle, a new client is served */
    fake_conn_free(&second);
    fake_conn_init(&second);
    assert_int_equal(eota_server_accept(&h->srv, &second), EOTA_OK);
    c_magic(&second);
    srvt_run_until_stall(h);
    assert_int_equal(second.out_len, 2);
    eota_server_cancel(&h->srv);
    assert_int_equal(second.closed, 1);
    fake_conn_free(&second);

    /* also during the handshake */
    reconnect(h);
    c_magic(&h->conn);
    srvt_run_until_stall(h);
    fake_conn third;
    fake_conn_init(&third);
    assert_int_equal(eota_server_accept(&h->srv, &third), EOTA_EBUSY);
    assert_int_equal(third.closed, 1);
    fake_conn_free(&third);
    assert_true(eota_server_busy(&h->srv));
}

/* ---------- runtime password ---------- */

/* The engine refers to the caller's password (server.h: one copy of each
 * secret): a change reaches the handshakes in progress, and a session
 * accepted before it cannot pass authentication: 82, as a wrong password,
 * whatever it answers; the next session authenticates against the new one. */
static void test_set_password_mid_handshake(void **state)
{
    eota_harness *h = *state;
    static const char *const n0 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    static const char *const n1 = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    h->cfg.password = "old";
    start(h);
    c_magic(&h->conn);
    srvt_run_until_stall(h);
    assert_int_equal(eota_server_set_password(&h->srv, "new"), EOTA_OK);
    c_byte(&h->conn, 0x07);
    c_auth(h, EOTA_HASH_SHA256, "old", 0);
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 82", n0);
    assert_event(h, 0, EOTA_STATE_ERROR, EOTA_RESP_ERROR_AUTH_INVALID, 0, 0);
    assert_int_equal(h->mem.begun, 0);

    /* the right answer for the new password does not help a session that
     * began before the change; the next session's does */
    reconnect(h);
    c_magic(&h->conn);
    srvt_run_until_stall(h);
    assert_int_equal(eota_server_set_password(&h->srv, "new"), EOTA_OK); /* the same value: a change */
    upl u = {.features = 0x07, .size = 10, .pw = "new"};
    c_byte(&h->conn, u.features);
    c_auth(h, EOTA_HASH_SHA256, "new", 0);
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 02 \"%s\" 82", n1);
    reconnect(h);
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    reconnect(h);
    u.pw = "old";
    push_upload(h, &u);
    h->conn.eof = 1;
    assert_int_equal(finish(h), 0);
    assert_int_equal(h->conn.out[h->conn.out_len - 1], EOTA_RESP_ERROR_AUTH_INVALID);

    /* turned off between the challenge and the response: refused */
    reconnect(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    srvt_run_until_stall(h);
    assert_int_equal(eota_server_set_password(&h->srv, NULL), EOTA_OK);
    c_auth(h, EOTA_HASH_SHA256, "new", 0);
    assert_int_equal(finish(h), 0);
    assert_int_equal(h->conn.out[h->conn.out_len - 1], EOTA_RESP_ERROR_AUTH_INVALID);
    /* without a password, a change before the feature byte: 82 at once */
    reconnect(h);
    c_magic(&h->conn);
    srvt_run_until_stall(h);
    assert_int_equal(eota_server_set_password(&h->srv, ""), EOTA_OK);
    c_byte(&h->conn, 0x07);
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 82");
    reconnect(h);
    u.pw = NULL;
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44 45");
}

/* A session already authenticated carries on across a change; the password
 * is read where the caller keeps it (changed in place, then named again). */
static void test_set_password_after_auth_and_in_place(void **state)
{
    eota_harness *h = *state;
    char pw[16] = "first";
    h->cfg.password = pw;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_auth(h, EOTA_HASH_SHA256, "first", 0);
    srvt_run_until_stall(h);
    assert_true(eota_server_authenticated(&h->srv));
    memcpy(pw, "second", 7);
    assert_int_equal(eota_server_set_password(&h->srv, pw), EOTA_OK);
    c_byte(&h->conn, 0);
    c_size(&h->conn, 10);
    c_md5(&h->conn, 10);
    c_data(&h->conn, 10, 0);
    c_byte(&h->conn, 0);
    assert_int_equal(finish(h), 1);
    assert_committed_pattern(h, 10);
    reconnect(h);
    upl u = {.features = 0x07, .size = 10, .pw = "second"};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
}

static void test_set_password_too_long(void **state)
{
    eota_harness *h = *state;
    h->cfg.password = "keep";
    start(h);
    char pw[EOTA_PASSWORD_MAX + 2];
    memset(pw, 'x', sizeof pw - 1);
    pw[sizeof pw - 1] = 0;
    assert_int_equal(eota_server_set_password(&h->srv, pw), EOTA_EINVAL);
    /* the old one stays */
    upl u = {.features = 0x07, .size = 10, .pw = "keep"};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);

    /* exactly EOTA_PASSWORD_MAX works, all of it counts */
    pw[EOTA_PASSWORD_MAX] = 0;
    assert_int_equal(eota_server_set_password(&h->srv, pw), EOTA_OK);
    reconnect(h);
    u.pw = pw;
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    char shorter[EOTA_PASSWORD_MAX];
    memcpy(shorter, pw, EOTA_PASSWORD_MAX - 1);
    shorter[EOTA_PASSWORD_MAX - 1] = 0;
    reconnect(h);
    u.pw = shorter;
    u.eof = 1;
    push_upload(h, &u);
    assert_int_equal(finish(h), 0);
    assert_int_equal(h->conn.out[h->conn.out_len - 1], 0x82);
}

/* ---------- cancel ---------- */

static void test_cancel(void **state)
{
    eota_harness *h = *state;
    eota_harness_start(h, 0);
    /* idle engine: nothing happens */
    eota_server_cancel(&h->srv);
    assert_int_equal(h->conn.closed, 0);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_IDLE);
    assert_int_equal(eota_harness_connect(h), EOTA_OK);

    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 20000);
    c_md5(&h->conn, 20000);
    c_data(&h->conn, 10000, 0);
    srvt_run_until_stall(h);
    eota_server_cancel(&h->srv);
    assert_false(eota_server_busy(&h->srv));
    assert_int_equal(h->conn.closed, 1);
    assert_int_equal(h->mem.aborted, 1);
    assert_nothing_committed(h);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 1, EOTA_STATE_ABORT, 0, 10000, 20000);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_IDLE);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_ERROR), 0);

    /* before the size: no event, nothing to abort */
    reconnect(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    srvt_run_until_stall(h);
    eota_server_cancel(&h->srv);
    assert_int_equal(h->conn.closed, 1);
    assert_int_equal(h->events.n, 0);
    assert_int_equal(h->mem.aborted, 1);

    /* while end() is pending */
    reconnect(h);
    h->mem.end_pending_rounds = 100;
    upl u = {.features = 0x07, .size = 100};
    push_upload(h, &u);
    for (int i = 0; i < 100000 && h->mem.end_calls == 0; i++)
        eota_server_poll(&h->srv);
    assert_int_equal(h->mem.end_calls, 1);
    eota_server_cancel(&h->srv);
    assert_int_equal(h->mem.aborted, 2);
    assert_nothing_committed(h);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_ABORT), 1);
    h->mem.end_pending_rounds = 0;

    /* after 45: the image is in; only the goodbye is cut */
    reconnect(h);
    u.no_final = 1;
    push_upload(h, &u);
    srvt_run_until_stall(h);
    assert_int_equal(h->mem.committed, 1);
    eota_server_cancel(&h->srv);
    assert_int_equal(h->mem.aborted, 2);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_ABORT), 0);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_COMPLETED), 1);
    /* the reboot is still owed: reported by the next poll, nobody let in */
    assert_int_equal(eota_server_timeout_ms(&h->srv), 0);
    fake_conn other;
    fake_conn_init(&other);
    assert_int_equal(eota_server_accept(&h->srv, &other), EOTA_EBUSY);
    assert_int_equal(other.closed, 1);
    fake_conn_free(&other);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_REBOOT);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_IDLE);
}

/* ---------- slow backend ---------- */

static void test_slow_backend(void **state)
{
    eota_harness *h = *state;
    static const size_t takes[] = {1, 7, 1000};
    for (size_t i = 0; i < 3; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        h->mem.max_take = takes[i];
        start(h);
        upl u = {.features = 0x07, .size = 20000};
        push_upload(h, &u);
        assert_int_equal(finish(h), 1);
        ASSERT_OUT(h, "00 02 48 00 41 42 43 47 47 47 44 45");
        assert_committed_pattern(h, 20000);
        assert_true(h->mem.write_calls >= 20000 / takes[i]);
    }
}

/* ---------- wants / timeout_ms ---------- */

static void test_wants_and_timeout_by_phase(void **state)
{
    eota_harness *h = *state;
    eota_harness_start(h, 0);
    assert_int_equal(eota_server_wants(&h->srv), 0);
    assert_int_equal(eota_server_timeout_ms(&h->srv), -1);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_IDLE);

    assert_int_equal(eota_harness_connect(h), EOTA_OK);
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_READ);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 20000);
    h->clock.now += 5000;
    assert_int_equal(eota_server_timeout_ms(&h->srv), 15000);

    /* a reply the transport cannot take yet */
    h->conn.write_again_every = 1;
    c_magic(&h->conn);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_ACTIVE);
    assert_int_equal(h->conn.out_len, 0);
    /* the next field is read only once the reply has left */
    c_byte(&h->conn, 0x07);
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_WRITE);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_ACTIVE);
    assert_int_equal(h->conn.in_pos, 5);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 15000);
    h->conn.write_again_every = 0;
    eota_server_poll(&h->srv);
    ASSERT_OUT(h, "00 02 48 00 41");
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_READ);

    /* data phase: the silence limit, from the last activity */
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 4196);
    c_md5(&h->conn, 4196);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 41 42 43");
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_READ);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 105000);
    h->clock.now += 5000;
    assert_int_equal(eota_server_timeout_ms(&h->srv), 100000);

    /* a busy backend: no reading while bytes wait for it, retry soon */
    h->mem.max_take = 10;
    c_data(&h->conn, 4096, 0);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_ACTIVE);
    assert_true(h->mem.len > 0 && h->mem.len < 4096);
    assert_int_equal(eota_server_wants(&h->srv) & EOTA_WANT_READ, 0);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 2);
    h->mem.max_take = 0;
    srvt_run_until_stall(h);
    assert_int_equal(h->mem.len, 4096);
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_READ);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 105000);

    /* finishing: end() pending, nothing to read or write, retry soon */
    h->mem.end_pending_rounds = 2;
    c_data(&h->conn, 100, 4096);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_ACTIVE);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44");
    assert_int_equal(h->mem.end_calls, 1);
    assert_int_equal(eota_server_wants(&h->srv), 0);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 2);
    eota_server_poll(&h->srv);
    eota_server_poll(&h->srv);
    assert_int_equal(h->mem.committed, 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47 44 45");

    /* waiting for the final 00 */
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_READ);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 1000);
    h->clock.now += 400;
    assert_int_equal(eota_server_timeout_ms(&h->srv), 600);
    c_byte(&h->conn, 0);
    assert_int_equal(eota_server_poll(&h->srv), EOTA_SERVER_REBOOT);
    assert_int_equal(eota_server_wants(&h->srv), 0);
    assert_int_equal(eota_server_timeout_ms(&h->srv), -1);

    /* closing after an error: drain the peer until the linger ends */
    reconnect(h);
    fake_conn_push_hex(&h->conn, "01 02 03 04 05");
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "80");
    assert_int_equal(eota_server_wants(&h->srv), EOTA_WANT_READ);
    assert_int_equal(eota_server_timeout_ms(&h->srv), 1000);
    h->clock.now += 250;
    assert_int_equal(eota_server_timeout_ms(&h->srv), 750);
    h->clock.now += 750;
    assert_int_equal(eota_server_timeout_ms(&h->srv), 0);
    srvt_run_until_stall(h);
    assert_false(eota_server_busy(&h->srv));
    assert_int_equal(eota_server_wants(&h->srv), 0);
    assert_int_equal(eota_server_timeout_ms(&h->srv), -1);
}

/* ---------- transport failures mid-data ---------- */

static void test_read_error_mid_data(void **state)
{
    eota_harness *h = *state;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 20000);
    c_md5(&h->conn, 20000);
    c_data(&h->conn, 9000, 0);
    srvt_run_until_stall(h);
    h->conn.read_error = 1;
    assert_int_equal(finish(h), 0);
    /* the peer is gone: nothing more is written */
    ASSERT_OUT(h, "00 02 48 00 41 42 43 47");
    assert_false(eota_server_busy(&h->srv));
    assert_int_equal(h->conn.closed, 1);
    assert_int_equal(h->mem.aborted, 1);
    assert_nothing_committed(h);
    assert_int_equal(h->events.n, 2);
    assert_event(h, 1, EOTA_STATE_ERROR, 0xFF, 9000, 20000);

    /* an orderly close mid-data is a failed upload too */
    reconnect(h);
    upl u = {.features = 0x07, .size = 20000};
    c_magic(&h->conn);
    c_byte(&h->conn, u.features);
    c_byte(&h->conn, 0);
    c_size(&h->conn, 20000);
    c_md5(&h->conn, 20000);
    c_data(&h->conn, 100, 0);
    h->conn.eof = 1;
    assert_int_equal(finish(h), 0);
    assert_int_equal(h->mem.aborted, 2);
    assert_event(h, 1, EOTA_STATE_ERROR, 0xFF, 100, 20000);
}

static void test_write_error_mid_data(void **state)
{
    eota_harness *h = *state;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 20000);
    c_md5(&h->conn, 20000);
    c_data(&h->conn, 100, 0);
    srvt_run_until_stall(h);
    ASSERT_OUT(h, "00 02 48 00 41 42 43");
    h->conn.write_closed = 1;
    c_data(&h->conn, 9000, 100); /* crosses 8192: a 47 that cannot leave */
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 41 42 43");
    assert_false(eota_server_busy(&h->srv));
    assert_int_equal(h->mem.aborted, 1);
    assert_nothing_committed(h);
    assert_int_equal(h->events.n, 2);
    assert_int_equal(h->events.ev[1].state, EOTA_STATE_ERROR);
    assert_int_equal(h->events.ev[1].code, 0xFF);
}

/* The client vanishes after the whole image arrived (its writes fail before
 * 44 leaves): the device verifies and commits anyway, like a stock one. */
static void test_client_gone_after_whole_image(void **state)
{
    eota_harness *h = *state;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    c_byte(&h->conn, 0x00);
    c_size(&h->conn, 1000);
    c_md5(&h->conn, 1000);
    srvt_run_until_stall(h);
    h->conn.write_closed = 1;
    c_data(&h->conn, 1000, 0);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 02 48 00 41 42 43");
    assert_committed_pattern(h, 1000);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_COMPLETED), 1);
    assert_int_equal(fake_events_count(&h->events, EOTA_STATE_ERROR), 0);
}

/* ---------- seam failures ---------- */

typedef struct failhash {
    eota_hash inner;
    unsigned begins, finishes;
    unsigned fail_begin_at, fail_finish_at; /* 1-based call number, 0 never */
} failhash;

static int fh_begin(void *ctx, eota_hash_alg alg)
{
    failhash *f = ctx;
    if (++f->begins == f->fail_begin_at)
        return EOTA_ECRYPTO;
    return f->inner.ops->begin(f->inner.ctx, alg);
}
static void fh_update(void *ctx, const uint8_t *d, size_t n)
{
    failhash *f = ctx;
    f->inner.ops->update(f->inner.ctx, d, n);
}
static int fh_finish(void *ctx, uint8_t *digest)
{
    failhash *f = ctx;
    int rc = f->inner.ops->finish(f->inner.ctx, digest);
    if (++f->finishes == f->fail_finish_at)
        return EOTA_ECRYPTO;
    return rc;
}
static const eota_hash_ops fh_ops = {fh_begin, fh_update, fh_finish};

static void test_seam_failures_send_ff(void **state)
{
    eota_harness *h = *state;
    /* random source */
    h->cfg.password = "pw";
    h->random.fail = 1;
    start(h);
    c_magic(&h->conn);
    c_byte(&h->conn, 0x07);
    h->conn.eof = 1;
    assert_int_equal(finish(h), 0);
    ASSERT_OUT(h, "00 02 48 00 FF");
    assert_int_equal(h->events.n, 0);

    const struct {
        const char *pw;
        unsigned fail_begin_at, fail_finish_at;
        const char *want;
        int started;
    } t[] = {
        {"pw", 1, 0, "00 02 48 00 02 \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\" FF", 0},
        {"pw", 0, 1, "00 02 48 00 02 \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\" FF", 0},
        {NULL, 1, 0, "00 02 48 00 41 42 FF", 1},
        {NULL, 0, 1, "00 02 48 00 41 42 43 47 44 FF", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        eota_harness_free(h);
        eota_harness_init(h);
        failhash fh = {.inner = h->cfg.hash, .fail_begin_at = t[i].fail_begin_at,
                       .fail_finish_at = t[i].fail_finish_at};
        h->cfg.hash.ops = &fh_ops;
        h->cfg.hash.ctx = &fh;
        h->cfg.password = t[i].pw;
        start(h);
        upl u = {.features = 0x07, .size = 100, .pw = t[i].pw, .eof = 1};
        push_upload(h, &u);
        assert_int_equal(finish(h), 0);
        ASSERT_OUT(h, "%s", t[i].want);
        assert_nothing_committed(h);
        assert_int_equal(h->mem.aborted, t[i].started);
        assert_int_equal(fake_events_count(&h->events, EOTA_STATE_ERROR), (size_t)t[i].started);
        if (t[i].started)
            assert_int_equal(h->events.ev[h->events.n - 1].code, 0xFF);
    }
}

/* ---------- info ---------- */

static void test_get_info(void **state)
{
    eota_harness *h = *state;
    h->cfg.version = 1;
    h->cfg.password = "pw";
    h->mem.caps = EOTA_BACKEND_CAP_GZIP | EOTA_BACKEND_CAP_BOOTLOADER;
    start(h);
    upl u = {.features = 0x27, .type = 2, .size = 777, .pw = "pw"};
    push_upload(h, &u);
    assert_int_equal(finish(h), 1);
    ASSERT_OUT(h, "00 01 48 03 02 \"%s\" 41 42 43 44 45",
               "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    assert_int_equal(info.client_features, 0x27);
    assert_int_equal(info.server_flags, 0x03);
    assert_int_equal(info.auth, EOTA_AUTH_SHA256);
    assert_int_equal(info.version, 1);
    assert_int_equal(info.ota_type, 2);
    assert_int_equal(info.size, 777);
    assert_int_equal(info.received, 777);
    assert_int_equal(info.error_code, 0);
    assert_int_equal(h->mem.info.gzip_agreed, 1);
}

/* ---------- sizes near 4 GiB ---------- */

/* A transport that hands out `left` bytes without copying anything and
 * counts what the engine writes, and a backend and hash that only count:
 * the data phase of a 4 GiB upload in a few seconds. */
typedef struct bigconn {
    uint64_t left;
    const uint8_t *script;
    size_t script_len, script_pos;
    uint64_t acks, written;
    uint8_t last[4];
    int closed;
} bigconn;

static long big_read(void *conn, uint8_t *buf, size_t len)
{
    bigconn *c = conn;
    if (c->script_pos < c->script_len) {
        size_t n = c->script_len - c->script_pos;
        if (n > len)
            n = len;
        memcpy(buf, c->script + c->script_pos, n);
        c->script_pos += n;
        return (long)n;
    }
    if (c->left == 0)
        return EOTA_AGAIN;
    size_t n = len;
    if (n > c->left)
        n = (size_t)c->left;
    c->left -= n;
    return (long)n;
}
static long big_write(void *conn, const uint8_t *buf, size_t len)
{
    bigconn *c = conn;
    for (size_t i = 0; i < len; i++) {
        c->acks += buf[i] == 0x47;
        memmove(c->last, c->last + 1, 3);
        c->last[3] = buf[i];
    }
    c->written += len;
    return (long)len;
}
static void big_close(void *conn) { ((bigconn *)conn)->closed++; }
static const eota_transport_ops big_transport = {big_read, big_write, big_close};

static int nb_begin(void *ctx, const eota_begin_info *i)
{
    (void)i;
    *(uint64_t *)ctx = 0;
    return EOTA_OK;
}
static int nb_write(void *ctx, const uint8_t *d, size_t n, size_t *taken)
{
    (void)d;
    *(uint64_t *)ctx += n;
    *taken = n;
    return EOTA_OK;
}
static int nb_end(void *ctx)
{
    (void)ctx;
    return EOTA_OK;
}
static void nb_abort(void *ctx) { (void)ctx; }
static const eota_backend_ops nb_ops = {nb_begin, nb_write, nb_end, nb_abort, NULL};

static int zh_begin(void *ctx, eota_hash_alg alg)
{
    (void)ctx;
    (void)alg;
    return EOTA_OK;
}
static void zh_update(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    (void)n;
}
static int zh_finish(void *ctx, uint8_t *digest)
{
    (void)ctx;
    memset(digest, 0, 16);
    return EOTA_OK;
}
static const eota_hash_ops zh_ops = {zh_begin, zh_update, zh_finish};

static void test_sizes_near_4gib(void **state)
{
    eota_harness *h = *state;
    static const struct {
        uint32_t size;
        uint64_t acks;
    } t[] = {
        {0xFFFFDFFFu, 524287}, {0xFFFFE000u, 524287}, {0xFFFFE001u, 524288}, {0xFFFFFFFFu, 524288}};
    static uint8_t buf[65536];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint64_t taken = 0;
        eota_server_config cfg = h->cfg;
        cfg.transport = &big_transport;
        cfg.backend.ops = &nb_ops;
        cfg.backend.ctx = &taken;
        cfg.backend.caps = 0;
        cfg.hash.ops = &zh_ops;
        cfg.hash.ctx = NULL;
        eota_server srv;
        assert_int_equal(eota_server_init(&srv, &cfg, buf, sizeof buf), EOTA_OK);
        uint8_t script[5 + 1 + 1 + 4 + 32];
        memcpy(script, "\x6c\x26\xf7\x5c\x45\x07\x00", 7);
        script[7] = (uint8_t)(t[i].size >> 24);
        script[8] = (uint8_t)(t[i].size >> 16);
        script[9] = (uint8_t)(t[i].size >> 8);
        script[10] = (uint8_t)t[i].size;
        memset(script + 11, '0', 32); /* the zero hash's digest */
        bigconn c = {.left = t[i].size, .script = script, .script_len = sizeof script};
        assert_int_equal(eota_server_accept(&srv, &c), EOTA_OK);
        long polls = 0;
        while (c.left > 0 && polls < 10000000L) {
            eota_server_poll(&srv);
            polls++;
        }
        for (int k = 0; k < 100; k++)
            eota_server_poll(&srv);
        assert_int_equal(taken, t[i].size);
        assert_int_equal(c.acks, t[i].acks);
        assert_memory_equal(c.last + 1, "\x47\x44\x45", 3); /* last ack, 44, 45 */
        assert_true(eota_server_busy(&srv)); /* waiting for the final 00 */
        eota_server_cancel(&srv);
        assert_int_equal(eota_server_poll(&srv), EOTA_SERVER_REBOOT);
        assert_int_equal(c.closed, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_init_rejects_bad_arguments),
        T(test_bad_magic),
        T(test_bad_magic_linger_then_close),
        T(test_version1_sends_no_chunk_acks),
        T(test_version2_chunk_acks),
        T(test_chunk_acks_count_wire_bytes),
        T(test_features_one_byte_reply),
        T(test_features_extended_reply),
        T(test_no_password_goes_straight_to_auth_ok),
        T(test_sha256_auth_ok),
        T(test_sha256_auth_uppercase_response),
        T(test_sha256_cnonce_hashed_as_sent),
        T(test_sha256_wrong_response),
        T(test_password_but_client_without_sha256),
        T(test_md5_auth_opt_in),
        T(test_ota_type),
        T(test_size_zero),
        T(test_backend_begin_errors),
        T(test_md5_mismatch),
        T(test_md5_uppercase_accepted),
        T(test_write_failure),
        T(test_end_failure),
        T(test_end_pending_then_success),
        T(test_final_ack_present),
        T(test_final_ack_missing_client_closes),
        T(test_final_ack_never_comes),
        T(test_replies_not_lost_when_client_sends_ahead),
        T(test_started_only_after_auth_and_size),
        T(test_in_progress_at_most_once_per_second),
        T(test_probe_closes_early),
        T(test_handshake_timeout),
        T(test_handshake_timeout_after_size),
        T(test_data_timeout),
        T(test_second_connection_turned_away),
        T(test_set_password_mid_handshake),
        T(test_set_password_after_auth_and_in_place),
        T(test_set_password_too_long),
        T(test_cancel),
        T(test_slow_backend),
        T(test_wants_and_timeout_by_phase),
        T(test_read_error_mid_data),
        T(test_write_error_mid_data),
        T(test_client_gone_after_whole_image),
        T(test_seam_failures_send_ff),
        T(test_get_info),
        T(test_sizes_near_4gib),
#undef T
    };
    return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}
