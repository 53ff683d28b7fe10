/*
 * test_server_frag.c: the device engine must not care how the bytes are cut.
 * A table of whole uploads (successes, auth, errors) is first run with every
 * client byte available at once and writes that always succeed; its device
 * bytes are checked against the hand-written expectation from PROTOCOL.md.
 * Then the same uploads run with reads of one byte, reads of random sizes,
 * writes of one byte, writes that say "would block" every 2nd or 3rd call,
 * the smallest transfer buffer and a slow backend, and must give the same
 * bytes out, the same events, the same result and the same committed image.
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

#define NONCE64_0 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define NONCE32_0 "000102030405060708090a0b0c0d0e0f"

typedef struct scen {
    const char *name;
    /* device */
    uint8_t version;
    const char *password;
    uint8_t allow_md5, caps;
    size_t capacity;
    uint8_t too_big;
    int fail_write, fail_end; /* injected statuses */
    size_t fail_write_after, max_take;
    unsigned end_pending;
    /* client */
    int bad_magic;
    int probe;          /* stop after the features byte */
    uint8_t features, type;
    uint32_t size;
    const char *client_pw;
    int md5_auth, upper, bad_md5;
    int no_final, eof;
    /* the device bytes (tokens), from PROTOCOL.md */
    const char *expect;
    int committed;
    int received_varies; /* the ERROR event's byte count depends on the cut */
} scen;

static const scen SCENARIOS[] = {
    {.name = "v2 worked example", .features = 0x07, .size = 20000,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "v1", .version = 1, .features = 0x07, .size = 20000,
     .expect = "00 01 48 00 41 42 43 44 45", .committed = 1},
    {.name = "v2 1 byte", .features = 0x07, .size = 1, .expect = "00 02 48 00 41 42 43 47 44 45", .committed = 1},
    {.name = "v2 8191", .features = 0x07, .size = 8191, .expect = "00 02 48 00 41 42 43 47 44 45", .committed = 1},
    {.name = "v2 8192", .features = 0x07, .size = 8192, .expect = "00 02 48 00 41 42 43 47 44 45", .committed = 1},
    {.name = "v2 8193", .features = 0x07, .size = 8193, .expect = "00 02 48 00 41 42 43 47 47 44 45",
     .committed = 1},
    {.name = "v2 3*8192", .features = 0x07, .size = 3 * 8192,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "old client, no password", .features = 0x00, .size = 9000, .expect = "00 02 40 41 42 43 47 47 44 45",
     .committed = 1},
    {.name = "sha256 auth", .password = "hunter2", .client_pw = "hunter2", .features = 0x07, .size = 20000,
     .expect = "00 02 48 00 02 \"" NONCE64_0 "\" 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "sha256 auth, uppercase response, one-byte features", .password = "hunter2", .client_pw = "hunter2",
     .upper = 1, .features = 0x03, .size = 9000,
     .expect = "00 02 40 02 \"" NONCE64_0 "\" 41 42 43 47 47 44 45", .committed = 1},
    {.name = "wrong password", .password = "right", .client_pw = "wrong", .features = 0x07, .size = 20000,
     .eof = 1, .expect = "00 02 48 00 02 \"" NONCE64_0 "\" 82"},
    {.name = "wrong password, client keeps the connection", .password = "right", .client_pw = "wrong",
     .features = 0x07, .size = 100, .expect = "00 02 48 00 02 \"" NONCE64_0 "\" 82"},
    {.name = "password, client without sha256", .password = "pw", .features = 0x05, .size = 100, .eof = 1,
     .expect = "00 02 48 00 82"},
    {.name = "md5 opt-in", .password = "legacy", .allow_md5 = 1, .client_pw = "legacy", .md5_auth = 1,
     .features = 0x01, .size = 9000, .expect = "00 02 40 01 \"" NONCE32_0 "\" 41 42 43 47 47 44 45",
     .committed = 1},
    {.name = "md5 opt-in, wrong password", .password = "legacy", .allow_md5 = 1, .client_pw = "other",
     .md5_auth = 1, .features = 0x00, .size = 9000, .eof = 1, .expect = "00 02 40 01 \"" NONCE32_0 "\" 82"},
    {.name = "gzip one-byte", .caps = EOTA_BACKEND_CAP_GZIP, .features = 0x03, .size = 20000,
     .expect = "00 02 46 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "gzip extended + auth", .caps = EOTA_BACKEND_CAP_GZIP, .password = "x", .client_pw = "x",
     .features = 0x07, .size = 20000, .expect = "00 02 48 01 02 \"" NONCE64_0 "\" 41 42 43 47 47 47 44 45",
     .committed = 1},
    {.name = "type 01 refused", .features = 0x07, .type = 1, .size = 20000, .eof = 1,
     .expect = "00 02 48 00 41 8E"},
    {.name = "type 01 accepted", .caps = EOTA_BACKEND_CAP_PARTITION_TABLE, .features = 0x07, .type = 1,
     .size = 3000, .expect = "00 02 48 02 41 42 43 47 44 45", .committed = 1},
    {.name = "size 0", .features = 0x07, .size = 0, .eof = 1, .expect = "00 02 48 00 41 81"},
    {.name = "too big 89", .capacity = 10000, .features = 0x07, .size = 20000, .eof = 1,
     .expect = "00 02 48 00 41 89"},
    {.name = "too big 8C, auth", .capacity = 10000, .too_big = 0x8C, .password = "p", .client_pw = "p",
     .features = 0x07, .size = 20000, .eof = 1, .expect = "00 02 48 00 02 \"" NONCE64_0 "\" 41 8C"},
    {.name = "md5 mismatch", .features = 0x07, .size = 20000, .bad_md5 = 1, .eof = 1,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 8B"},
    {.name = "first write fails", .fail_write = EOTA_EWRITE, .features = 0x07, .size = 20000, .eof = 1,
     .expect = "00 02 48 00 41 42 43 83", .received_varies = 1},
    {.name = "write fails after 10000", .fail_write = EOTA_EWRITE, .fail_write_after = 10000, .features = 0x07,
     .size = 20000, .eof = 1, .expect = "00 02 48 00 41 42 43 47 83", .received_varies = 1},
    {.name = "end fails", .fail_end = EOTA_EVERIFY, .features = 0x07, .size = 20000, .eof = 1,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 84"},
    {.name = "end pending", .end_pending = 3, .features = 0x07, .size = 20000,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "slow backend", .max_take = 5, .features = 0x07, .size = 20000,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "final 00 missing, client closes", .features = 0x07, .size = 20000, .no_final = 1, .eof = 1,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "final 00 never comes", .features = 0x07, .size = 20000, .no_final = 1,
     .expect = "00 02 48 00 41 42 43 47 47 47 44 45", .committed = 1},
    {.name = "bad magic", .bad_magic = 1, .features = 0x07, .size = 100, .eof = 1, .expect = "80"},
    {.name = "probe", .probe = 1, .features = 0x07, .eof = 1, .expect = "00 02 48 00 41"},
    {.name = "probe with password", .probe = 1, .password = "p", .features = 0x07, .eof = 1,
     .expect = "00 02 48 00 02 \"" NONCE64_0 "\""},
};

typedef struct mode {
    const char *name;
    size_t max_read;
    unsigned seed;
    size_t max_write;
    int again_every;
    size_t xfer;
    size_t max_take;
} mode;

static const mode MODES[] = {
    {"1-byte reads", 1, 0, 0, 0, 0, 0},
    {"1-byte reads, 1-byte writes, every 2nd write blocks", 1, 0, 1, 2, 0, 0},
    {"1-byte reads, 1-byte writes, every 3rd write blocks", 1, 0, 1, 3, 0, 0},
    {"every 2nd write blocks", 0, 0, 0, 2, 0, 0},
    {"1-byte writes, every 3rd write blocks", 0, 0, 1, 3, 0, 0},
    {"random reads seed 1", 0, 1, 0, 0, 0, 0},
    {"random reads seed 2, 1-byte writes, every 2nd blocks", 0, 2, 1, 2, 0, 0},
    {"random reads seed 3, 1-byte writes, every 3rd blocks", 0, 3, 1, 3, 0, 0},
    {"random reads seed 42, every 2nd write blocks", 0, 42, 0, 2, 0, 0},
    {"random reads seed 4242, 64-byte transfer buffer", 0, 4242, 0, 0, 64, 0},
    {"random reads seed 7, 100-byte buffer, 1-byte writes, every 3rd blocks", 0, 7, 1, 3, 100, 0},
    {"1-byte reads, 64-byte buffer, backend takes 3", 1, 0, 0, 0, 64, 3},
    {"random reads seed 99, backend takes 1, every 2nd write blocks", 0, 99, 1, 2, 0, 1},
};

typedef struct outcome {
    char *out;          /* device bytes, spaced hex */
    char *events;       /* "STARTED 0/20000, ..." */
    char *events_norecv;
    int reboots, committed, aborted, closed, busy;
    size_t committed_len;
    unsigned begin_calls;
    uint8_t error_code;
    int image_ok;
} outcome;

static void push_client(eota_harness *h, const scen *s)
{
    fake_conn *c = &h->conn;
    if (s->bad_magic)
        fake_conn_push_hex(c, "6c 26 f7 5c 44");
    else
        fake_conn_push_hex(c, "6c 26 f7 5c 45");
    uint8_t f = s->features;
    fake_conn_push(c, &f, 1);
    if (s->probe) {
        c->eof = s->eof;
        return;
    }
    if (s->client_pw) {
        int md5 = s->md5_auth;
        char nonce[65], resp[65];
        const char *cn = md5 ? "fedcba9876543210fedcba9876543210"
                             : "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        fake_nonce_hex(nonce, 0, md5 ? 16 : 32);
        auth_response(resp, md5 ? EOTA_HASH_MD5 : EOTA_HASH_SHA256, s->client_pw, nonce, cn);
        if (s->upper)
            for (char *p = resp; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                    *p = (char)(*p - 32);
        fake_conn_push(c, cn, strlen(cn));
        fake_conn_push(c, resp, strlen(resp));
    }
    if (s->features & EOTA_FEATURE_EXTENDED)
        fake_conn_push(c, &s->type, 1);
    uint8_t sz[4] = {(uint8_t)(s->size >> 24), (uint8_t)(s->size >> 16), (uint8_t)(s->size >> 8),
                     (uint8_t)s->size};
    fake_conn_push(c, sz, 4);
    char m[33];
    pattern_md5_hex(m, s->size);
    if (s->bad_md5)
        m[0] = m[0] == '0' ? '1' : '0';
    fake_conn_push(c, m, 32);
    uint8_t *img = malloc(s->size ? s->size : 1);
    assert_non_null(img);
    pattern_fill(img, s->size, 0);
    fake_conn_push(c, img, s->size);
    free(img);
    if (!s->no_final) {
        uint8_t z = 0;
        fake_conn_push(c, &z, 1);
    }
    c->eof = s->eof;
}

static void run(const scen *s, const mode *m, outcome *o)
{
    eota_harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    eota_harness_init(h);
    h->cfg.version = s->version ? s->version : 2;
    h->cfg.password = s->password;
    h->cfg.allow_md5_auth = s->allow_md5;
    if (s->capacity)
        eota_mem_backend_init(&h->mem, h->store, s->capacity);
    h->mem.caps = s->caps;
    h->cfg.too_big_code = s->too_big;
    h->mem.fail_write = s->fail_write;
    h->mem.fail_write_after = s->fail_write_after;
    h->mem.fail_end = s->fail_end;
    h->mem.end_pending_rounds = s->end_pending;
    h->mem.max_take = m && m->max_take ? m->max_take : s->max_take;
    eota_harness_start(h, m && m->xfer ? m->xfer : 0);
    assert_int_equal(eota_harness_connect(h), EOTA_OK);
    push_client(h, s);
    if (m) {
        h->conn.max_read = m->max_read;
        h->conn.seed = m->seed;
        h->conn.max_write = m->max_write;
        h->conn.write_again_every = m->again_every;
    }
    /* The clock moves only when the engine waits for time (1 ms a stall). */
    o->reboots = srvt_drive_idle(h, 1, 100000);

    gbuf b = {0};
    hex_spaced(&b, h->conn.out, h->conn.out_len);
    o->out = gbuf_take(&b);
    gbuf e = {0}, en = {0};
    for (size_t i = 0; i < h->events.n; i++) {
        const eota_event *ev = &h->events.ev[i];
        gbuf_printf(&e, "%s%s code=%02X %u/%u", i ? ", " : "", eota_state_name(ev->state), ev->code, ev->received,
                    ev->total);
        gbuf_printf(&en, "%s%s code=%02X total=%u", i ? ", " : "", eota_state_name(ev->state), ev->code,
                    ev->total);
    }
    o->events = gbuf_take(&e);
    o->events_norecv = gbuf_take(&en);
    o->committed = h->mem.committed;
    o->committed_len = h->mem.committed_len;
    o->aborted = h->mem.aborted;
    o->closed = h->conn.closed;
    o->busy = eota_server_busy(&h->srv);
    o->begin_calls = h->mem.begin_calls;
    eota_server_info info;
    eota_server_get_info(&h->srv, &info);
    o->error_code = info.error_code;
    o->image_ok = h->mem.committed ? pattern_check(h->store, h->mem.committed_len) : 0;
    eota_harness_free(h);
    free(h);
}

static void outcome_free(outcome *o)
{
    free(o->out);
    free(o->events);
    free(o->events_norecv);
}

static char *expected_hex(const char *tokens)
{
    gbuf bytes = {0}, b = {0};
    assert_int_equal(golden_parse_tokens(tokens, &bytes), 0);
    hex_spaced(&b, bytes.p, bytes.len);
    gbuf_free(&bytes);
    return gbuf_take(&b);
}

static int fails;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

/* The unfragmented run gives the bytes PROTOCOL.md says. */
static void test_baseline_matches_spec(void **state)
{
    (void)state;
    fails = 0;
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++) {
        const scen *s = &SCENARIOS[i];
        outcome o = {0};
        run(s, NULL, &o);
        char *want = expected_hex(s->expect);
        CHECK(strcmp(o.out, want) == 0, "[%s] device sent %s\n  expected %s", s->name, o.out, want);
        CHECK(o.committed == s->committed, "[%s] committed %d, expected %d", s->name, o.committed, s->committed);
        if (s->committed) {
            CHECK(o.committed_len == s->size && o.image_ok, "[%s] committed image wrong", s->name);
            CHECK(o.reboots == 1, "[%s] %d reboots", s->name, o.reboots);
            CHECK(o.aborted == 0, "[%s] aborted", s->name);
        } else {
            CHECK(o.reboots == 0, "[%s] %d reboots", s->name, o.reboots);
            CHECK(o.aborted == (o.begin_calls && !s->too_big && !s->capacity ? 1 : 0),
                  "[%s] aborted %d times (begin %u)", s->name, o.aborted, o.begin_calls);
        }
        CHECK(!o.busy && o.closed == 1, "[%s] busy %d, closed %d", s->name, o.busy, o.closed);
        free(want);
        outcome_free(&o);
    }
    assert_int_equal(fails, 0);
}

static void test_fragmentation_gives_same_result(void **state)
{
    (void)state;
    fails = 0;
    unsigned runs = 0;
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof SCENARIOS[0]; i++) {
        const scen *s = &SCENARIOS[i];
        outcome base = {0};
        run(s, NULL, &base);
        for (size_t k = 0; k < sizeof MODES / sizeof MODES[0]; k++) {
            const mode *m = &MODES[k];
            outcome o = {0};
            run(s, m, &o);
            runs++;
            CHECK(strcmp(o.out, base.out) == 0, "[%s / %s] device sent %s\n  unfragmented %s", s->name, m->name,
                  o.out, base.out);
            if (s->received_varies)
                CHECK(strcmp(o.events_norecv, base.events_norecv) == 0, "[%s / %s] events %s\n  unfragmented %s",
                      s->name, m->name, o.events_norecv, base.events_norecv);
            else
                CHECK(strcmp(o.events, base.events) == 0, "[%s / %s] events %s\n  unfragmented %s", s->name,
                      m->name, o.events, base.events);
            CHECK(o.reboots == base.reboots && o.committed == base.committed &&
                      o.committed_len == base.committed_len && o.image_ok == base.image_ok &&
                      o.aborted == base.aborted && o.begin_calls == base.begin_calls &&
                      o.error_code == base.error_code && o.busy == base.busy && o.closed == base.closed,
                  "[%s / %s] result differs: reboots %d/%d committed %d/%d len %zu/%zu image %d/%d aborted %d/%d "
                  "begin %u/%u error %02X/%02X busy %d/%d closed %d/%d",
                  s->name, m->name, o.reboots, base.reboots, o.committed, base.committed, o.committed_len,
                  base.committed_len, o.image_ok, base.image_ok, o.aborted, base.aborted, o.begin_calls,
                  base.begin_calls, o.error_code, base.error_code, o.busy, base.busy, o.closed, base.closed);
            outcome_free(&o);
        }
        outcome_free(&base);
    }
    fprintf(stderr, "  %u fragmented runs compared\n", runs);
    assert_int_equal(fails, 0);
}

/* The comparison is not blind: a different upload gives different bytes. */
static void test_comparison_detects_a_difference(void **state)
{
    (void)state;
    scen a = SCENARIOS[0], b = SCENARIOS[0];
    b.bad_md5 = 1;
    outcome oa = {0}, ob = {0};
    run(&a, &MODES[0], &oa);
    run(&b, &MODES[0], &ob);
    assert_string_not_equal(oa.out, ob.out);
    assert_string_not_equal(oa.events, ob.events);
    outcome_free(&oa);
    outcome_free(&ob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_matches_spec),
        cmocka_unit_test(test_fragmentation_gives_same_result),
        cmocka_unit_test(test_comparison_detects_a_difference),
    };
    return cmocka_run_group_tests_name("server_frag", tests, NULL, NULL);
}
