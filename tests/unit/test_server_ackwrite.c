/*
 * test_server_ackwrite.c: when CHUNK_OK leaves. With ack_after_write (the
 * simulated chips, like stock firmware) a 47 never runs ahead of what the
 * backend has taken; without it (the Linux device) acks follow arrival and
 * may run ahead of a slow backend. The bytes on the wire are the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

static size_t count_acks(const fake_conn *c)
{
    /* After the 7-byte handshake reply (00 02 48 00 41 42 43) only 47s,
     * then 44 and 45. */
    size_t n = 0;
    for (size_t i = 7; i < c->out_len; i++)
        n += c->out[i] == EOTA_RESP_CHUNK_OK;
    return n;
}

/* A slow flash: the mem backend behind a budget of 1000 bytes per poll,
 * so that 4 KiB reads arrive faster than they are written. */
static size_t budget;
static eota_backend inner;

static int slow_begin(void *ctx, const eota_begin_info *info) { return inner.ops->begin(ctx, info); }
static int slow_end(void *ctx) { return inner.ops->end(ctx); }
static void slow_abort(void *ctx) { inner.ops->abort(ctx); }
static int slow_write(void *ctx, const uint8_t *data, size_t len, size_t *taken)
{
    if (len > budget)
        len = budget;
    *taken = 0;
    if (len == 0)
        return EOTA_OK;
    int st = inner.ops->write(ctx, data, len, taken);
    budget -= *taken;
    return st;
}
static const eota_backend_ops slow_ops = {slow_begin, slow_write, slow_end, slow_abort, NULL};

/* Runs a 20000-byte upload; returns the largest lead of sent acks over
 * written blocks seen after any poll. */
static long run(int ack_after_write)
{
    eota_harness h;
    eota_harness_init(&h);
    h.cfg.ack_after_write = (uint8_t)ack_after_write;
    eota_harness_start(&h, 4096);
    inner = h.cfg.backend;
    h.cfg.backend.ops = &slow_ops;
    assert_int_equal(eota_server_init(&h.srv, &h.cfg, h.xfer, 4096), EOTA_OK);
    size_t n = 20000;
    uint8_t *img = malloc(n);
    assert_non_null(img);
    for (size_t i = 0; i < n; i++)
        img[i] = (uint8_t)(i * 7);
    char md5[33];
    md5_hex(md5, img, n);
    fake_conn_push_hex(&h.conn, "6c26f75c45 07 00 00004e20");
    fake_conn_push(&h.conn, md5, 32);
    fake_conn_push(&h.conn, img, n);
    fake_conn_push_hex(&h.conn, "00");
    assert_int_equal(eota_harness_connect(&h), EOTA_OK);
    long lead = -100;
    int reboots = 0;
    for (int i = 0; i < 10000 && eota_server_busy(&h.srv); i++) {
        budget = 1000;
        if (eota_server_poll(&h.srv) == EOTA_SERVER_REBOOT)
            reboots++;
        size_t written = h.mem.len;
        size_t blocks = written / 8192 + (written == n ? (n % 8192 != 0) : 0);
        long l = (long)count_acks(&h.conn) - (long)blocks;
        if (l > lead)
            lead = l;
        h.clock.now += 1;
    }
    static const uint8_t want[] = {0x00, 0x02, 0x48, 0x00, 0x41, 0x42, 0x43, 0x47, 0x47, 0x47, 0x44, 0x45};
    assert_int_equal(reboots, 1);
    assert_int_equal(h.conn.out_len, sizeof want);
    assert_memory_equal(h.conn.out, want, sizeof want);
    assert_int_equal(h.mem.committed, 1);
    assert_memory_equal(h.store, img, n);
    free(img);
    eota_harness_free(&h);
    return lead;
}

static void test_acks_wait_for_the_backend(void **state)
{
    (void)state;
    assert_true(run(1) <= 0);
}

static void test_acks_follow_arrival_by_default(void **state)
{
    (void)state;
    /* 4 KiB reads arrive faster than 1000 bytes a poll are written */
    assert_true(run(0) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acks_wait_for_the_backend),
        cmocka_unit_test(test_acks_follow_arrival_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
