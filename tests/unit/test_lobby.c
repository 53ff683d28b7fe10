/*
 * test_lobby.c: several handshakes at once (src/core/lobby.c, eota/lobby.h)
 * over scripted peers (tests/support/fake.h): handshakes interleaved, the
 * oldest unauthenticated one giving way to a newcomer, the authenticated
 * one taking the upload slot (the others closed, and never itself giving
 * way), a newcomer turned away as a busy stock device does while an upload
 * runs, and an upload through the lobby byte for byte as through a single
 * engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/lobby.h"
#include "fake.h"
#include "golden.h"

#define N EOTA_LOBBY_PLACES
#define PW "s3cret"
#define IMG 20000u

typedef struct fixture {
    eota_harness h; /* the seams, the mem backend, a config; h.srv for comparisons */
    eota_lobby lobby;
    fake_conn c[N + 2];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    eota_harness_init(&f->h);
    f->h.cfg.backend = eota_mem_backend_seam(&f->h.mem);
    for (int i = 0; i < N + 2; i++)
        fake_conn_init(&f->c[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < N + 2; i++)
        fake_conn_free(&f->c[i]);
    eota_harness_free(&f->h);
    free(f);
    return 0;
}

static void start(fixture *f, const char *pw)
{
    f->h.cfg.password = pw;
    assert_int_equal(eota_lobby_init(&f->lobby, &f->h.cfg, f->h.xfer, sizeof f->h.xfer), EOTA_OK);
}

/* Poll until nothing moves for a while; the clock moves 1 ms a round. */
static int drive(fixture *f, int rounds)
{
    int reboots = 0;
    for (int i = 0; i < rounds; i++) {
        reboots += eota_lobby_poll(&f->lobby) == EOTA_SERVER_REBOOT;
        f->h.clock.now++;
    }
    return reboots;
}

static void c_magic(fake_conn *c) { fake_conn_push_hex(c, "6c 26 f7 5c 45"); }
static void c_byte(fake_conn *c, uint8_t b) { fake_conn_push(c, &b, 1); }

/* The client's answer to the nonce at the end of what the device sent. */
static void c_auth(fake_conn *c, const char *pw)
{
    static const char cn[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char nonce[65], resp[65];
    assert_true(c->out_len >= 64);
    memcpy(nonce, c->out + c->out_len - 64, 64);
    nonce[64] = 0;
    auth_response(resp, EOTA_HASH_SHA256, pw, nonce, cn);
    fake_conn_push(c, cn, 64);
    fake_conn_push(c, resp, 64);
}

/* Size, MD5, the image and the final 00. */
static void c_rest(fake_conn *c, uint32_t size)
{
    uint8_t b[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
    char m[33];
    fake_conn_push(c, b, 4);
    pattern_md5_hex(m, size);
    fake_conn_push(c, m, 32);
    uint8_t *p = malloc(size);
    assert_non_null(p);
    pattern_fill(p, size, 0);
    fake_conn_push(c, p, size);
    free(p);
    c_byte(c, 0);
}

static void assert_out(const fake_conn *c, const char *hex)
{
    gbuf b = {0};
    hex_spaced(&b, c->out, c->out_len);
    char *got = gbuf_take(&b);
    assert_string_equal(got, hex);
    free(got);
}

static int accept_conn(fixture *f, int i)
{
    f->h.clock.now += 10; /* each newer than the last */
    return eota_lobby_accept(&f->lobby, &f->c[i]);
}

/* Handshakes advance side by side: each gets its replies as its bytes come,
 * whichever order they come in. */
static void test_interleaved(void **state)
{
    fixture *f = *state;
    start(f, PW);
    for (int i = 0; i < 3; i++)
        assert_int_equal(accept_conn(f, i), i);
    c_magic(&f->c[2]);
    drive(f, 3);
    c_magic(&f->c[0]);
    c_byte(&f->c[2], EOTA_FEATURES_STOCK_CLIENT);
    drive(f, 3);
    assert_out(&f->c[0], "00 02");
    assert_int_equal(f->c[2].out_len, 2 + 2 + 1 + 64); /* 00 02, 48 flags, 4B and the nonce */
    assert_int_equal(f->c[1].out_len, 0);
    assert_int_equal(eota_lobby_free(&f->lobby), N - 3);
    assert_false(eota_lobby_uploading(&f->lobby));
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->c[i].closed, 0);
}

/* Every place taken: the oldest handshake gives way to the newcomer. */
static void test_oldest_gives_way(void **state)
{
    fixture *f = *state;
    start(f, PW);
    for (int i = 0; i < N; i++)
        assert_int_equal(accept_conn(f, i), i);
    c_magic(&f->c[0]); /* busy, but not authenticated: it may still give way */
    drive(f, 3);
    assert_int_equal(eota_lobby_free(&f->lobby), 0);
    assert_int_equal(eota_lobby_victim(&f->lobby), 0);
    assert_int_equal(accept_conn(f, N), 0); /* the newcomer takes place 0 */
    assert_int_equal(f->c[0].closed, 1);
    assert_int_equal(eota_lobby_victim(&f->lobby), 1);
    assert_int_equal(accept_conn(f, N + 1), 1);
    assert_int_equal(f->c[1].closed, 1);
    for (int i = 2; i < N + 2; i++)
        assert_int_equal(f->c[i].closed, 0);
    assert_out(&f->c[0], "00 02"); /* nothing more than it had: a close, no byte */
}

/* The owner authenticates among strangers: it takes the upload slot, the
 * strangers' handshakes are closed, a newcomer is turned away at once with
 * nothing sent (as a busy stock device), the upload completes. */
static void test_authenticated_takes_slot(void **state)
{
    fixture *f = *state;
    start(f, PW);
    for (int i = 0; i < N; i++)
        assert_int_equal(accept_conn(f, i), i);
    int owner = N - 1; /* the newest */
    c_magic(&f->c[0]);
    c_magic(&f->c[owner]);
    c_byte(&f->c[owner], EOTA_FEATURES_STOCK_CLIENT);
    drive(f, 3);
    assert_false(eota_lobby_uploading(&f->lobby));
    c_auth(&f->c[owner], PW);
    drive(f, 3);
    assert_true(eota_lobby_uploading(&f->lobby));
    assert_true(eota_server_authenticated(eota_lobby_place(&f->lobby, owner)));
    for (int i = 0; i < owner; i++)
        assert_int_equal(f->c[i].closed, 1);
    assert_int_equal(eota_lobby_victim(&f->lobby), -1); /* it never gives way */
    assert_int_equal(accept_conn(f, N), EOTA_EBUSY);
    assert_int_equal(f->c[N].closed, 1);
    assert_int_equal(f->c[N].out_len, 0);
    assert_int_equal(eota_server_yield(eota_lobby_place(&f->lobby, owner)), EOTA_EBUSY);
    c_byte(&f->c[owner], 0); /* type */
    c_rest(&f->c[owner], IMG);
    assert_int_equal(drive(f, 200), 1);
    assert_int_equal(f->h.mem.committed, 1);
    assert_false(eota_lobby_busy(&f->lobby));
    assert_int_equal(accept_conn(f, N + 1), 0); /* free again */
}

/* Without a password the size claims the slot: of two sessions that both
 * sent their size, the second is refused (closed, as a busy device). */
static void test_second_refused(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    assert_int_equal(accept_conn(f, 0), 0);
    assert_int_equal(accept_conn(f, 1), 1);
    for (int i = 0; i < 2; i++) {
        c_magic(&f->c[i]);
        c_byte(&f->c[i], 0x00);
    }
    drive(f, 3);
    assert_out(&f->c[1], "00 02 40 41");
    c_rest(&f->c[0], IMG);
    c_rest(&f->c[1], IMG);
    f->c[0].in_avail = f->c[0].in_len - IMG - 1 - 32; /* the size alone, for now */
    drive(f, 3);
    assert_true(eota_lobby_uploading(&f->lobby));
    assert_int_equal(f->c[1].closed, 1);      /* closed when the first took the slot */
    assert_out(&f->c[1], "00 02 40 41"); /* no byte more */
    f->c[0].in_avail = f->c[0].in_len;
    assert_int_equal(drive(f, 200), 1);
    assert_int_equal(f->h.mem.committed, 1);
}

/* A failed upload that lingers for its error byte holds the slot no more:
 * another session takes it and its upload completes. */
static void test_failed_session_frees_slot(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    assert_int_equal(accept_conn(f, 0), 0);
    c_magic(&f->c[0]);
    c_byte(&f->c[0], 0x00);
    fake_conn_push_hex(&f->c[0], "7f ff ff ff"); /* far more than the backend holds */
    drive(f, 3);
    assert_int_equal(f->c[0].out_len, 5); /* 00 02 40 41 and the error byte */
    assert_int_equal(f->c[0].closed, 0);  /* it lingers */
    assert_false(eota_lobby_uploading(&f->lobby));
    assert_int_equal(accept_conn(f, 1), 1); /* a place of its own */
    c_magic(&f->c[1]);
    c_byte(&f->c[1], 0x00);
    c_rest(&f->c[1], IMG);
    assert_int_equal(drive(f, 200), 1);
    assert_int_equal(f->h.mem.committed, 1);
    assert_int_equal(f->c[0].closed, 0); /* the linger is not over */
    drive(f, EOTA_DEVICE_FINAL_ACK_TIMEOUT_MS);
    assert_int_equal(f->c[0].closed, 1);
}

/* Strangers (bad magic, a wrong password, idle, a half-sent nonce answer)
 * and the owner, their bytes arriving in random pieces across the
 * connections, for many seeds: the owner's upload always completes, the
 * backend is begun once, never for a stranger. */
static void stranger_bytes(fixture *f, fake_conn *c, int kind)
{
    if (kind == 0) {
        fake_conn_push_hex(c, "6c 26 f7 5c 46 07");
        return;
    }
    if (kind == 3)
        return; /* idle */
    c_magic(c);
    c_byte(c, EOTA_FEATURES_STOCK_CLIENT);
    drive(f, 2); /* its nonce */
    c_auth(c, kind == 1 ? "guess" : PW);
    if (kind == 2)
        c->in_len = c->in_avail = c->in_len - 70; /* the right answer, half of it never sent */
}

static void release_random(fake_conn *c, unsigned *seed)
{
    size_t left = c->in_len - c->in_avail;
    if (left)
        c->in_avail += 1 + (size_t)rand_r(seed) % (left < 300 ? left : 300);
}

static void test_random_interleaving(void **state)
{
    fixture *f = *state;
    start(f, PW);
    for (unsigned seed = 1; seed <= 40; seed++) {
        unsigned rs = seed;
        for (int i = 0; i < N; i++) {
            fake_conn_free(&f->c[i]);
            fake_conn_init(&f->c[i]);
            assert_true(accept_conn(f, i) >= 0);
        }
        for (int i = 0; i < N - 1; i++)
            stranger_bytes(f, &f->c[i], (int)((seed + (unsigned)i) % 4));
        fake_conn *o = &f->c[N - 1]; /* the newest: it never gives way */
        stranger_bytes(f, o, 4);
        c_byte(o, 0);
        c_rest(o, IMG);
        for (int i = 0; i < N; i++)
            f->c[i].in_avail = f->c[i].in_pos; /* nothing more arrived yet */
        unsigned begins = f->h.mem.begin_calls;
        int reboots = 0;
        for (int round = 0; round < 4000 && !reboots; round++) {
            release_random(&f->c[rand_r(&rs) % N], &rs);
            reboots += drive(f, 1);
        }
        assert_int_equal(reboots, 1);
        assert_int_equal(f->h.mem.begin_calls, begins + 1);
        eota_lobby_cancel(&f->lobby);
    }
    assert_int_equal(f->h.mem.committed, 40);
}

/* An upload through the lobby sends exactly what a single engine sends. */
static void test_stock_exchange(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    f->h.cfg.password = NULL;
    eota_harness_start(&f->h, 0);
    fake_conn *a = &f->c[0], *b = &f->h.conn;
    for (fake_conn *c = a; c; c = c == a ? b : NULL) {
        c_magic(c);
        c_byte(c, EOTA_FEATURES_STOCK_CLIENT);
        c_byte(c, 0);
        c_rest(c, IMG);
    }
    assert_int_equal(accept_conn(f, 0), 0);
    assert_int_equal(drive(f, 200), 1);
    assert_int_equal(eota_server_accept(&f->h.srv, b), EOTA_OK);
    assert_int_equal(srvt_drive_idle(&f->h, 1, 200), 1);
    assert_int_equal(a->out_len, b->out_len);
    assert_memory_equal(a->out, b->out, a->out_len);
}

/* A session that failed only lingers for its error byte: the claim leaves
 * it alone, and a password change reaches every place. */
static void test_password_everywhere(void **state)
{
    fixture *f = *state;
    start(f, NULL);
    assert_int_equal(eota_lobby_set_password(&f->lobby, PW), EOTA_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(accept_conn(f, i), i);
        c_magic(&f->c[i]);
        c_byte(&f->c[i], EOTA_FEATURES_STOCK_CLIENT);
    }
    drive(f, 3);
    for (int i = 0; i < N; i++)
        assert_int_equal(f->c[i].out_len, 2 + 2 + 1 + 64);
    char long_pw[EOTA_PASSWORD_MAX + 2];
    memset(long_pw, 'x', sizeof long_pw - 1);
    long_pw[sizeof long_pw - 1] = 0;
    assert_int_equal(eota_lobby_set_password(&f->lobby, long_pw), EOTA_EINVAL);
    eota_lobby_cancel(&f->lobby);
    assert_false(eota_lobby_busy(&f->lobby));
    assert_int_equal(eota_lobby_timeout_ms(&f->lobby), -1);
}

/* The places share the caller's one copy of the password (lobby.h): a
 * change reaches every place, also the handshakes in progress, which it
 * ends with 82 (a wrong password's reply) whatever they answer; then each
 * place authenticates against the new password, read where the caller
 * keeps it. */
static void test_password_change_reaches_every_place(void **state)
{
    fixture *f = *state;
    char pw[16] = "before";
    start(f, pw);
    for (int i = 0; i < N; i++) {
        assert_int_equal(accept_conn(f, i), i);
        c_magic(&f->c[i]);
        c_byte(&f->c[i], EOTA_FEATURES_STOCK_CLIENT);
    }
    drive(f, 3);
    memcpy(pw, "after", 6); /* changed in place, then named again */
    assert_int_equal(eota_lobby_set_password(&f->lobby, pw), EOTA_OK);
    for (int i = 0; i < N; i++) {
        c_auth(&f->c[i], i % 2 ? "after" : "before");
        f->c[i].eof = 1; /* it closes once it has read the verdict */
    }
    drive(f, 50);
    for (int i = 0; i < N; i++) {
        assert_int_equal(f->c[i].out[f->c[i].out_len - 1], EOTA_RESP_ERROR_AUTH_INVALID);
        assert_int_equal(f->c[i].closed, 1);
    }
    assert_false(eota_lobby_busy(&f->lobby));
    for (int i = 0; i < N; i++) { /* each place, the new password */
        fake_conn_free(&f->c[i]);
        fake_conn_init(&f->c[i]);
        assert_int_equal(eota_server_accept(eota_lobby_place(&f->lobby, i), &f->c[i]), EOTA_OK);
        c_magic(&f->c[i]);
        c_byte(&f->c[i], EOTA_FEATURES_STOCK_CLIENT);
        drive(f, 3);
        c_auth(&f->c[i], "after");
        drive(f, 3);
        assert_true(eota_lobby_uploading(&f->lobby));
        assert_int_equal(f->c[i].out[f->c[i].out_len - 1], EOTA_RESP_AUTH_OK);
        eota_lobby_cancel(&f->lobby);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_gives_way, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authenticated_takes_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_session_frees_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_interleaving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_reaches_every_place, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
