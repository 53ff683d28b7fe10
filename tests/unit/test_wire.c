/*
 * test_wire.c: the I/O helpers both engines share (src/core/wire.c) over a
 * scripted connection (tests/support/fake.h). It proves that the queue
 * keeps its bytes in order, fills exactly to EOTA_WIRE_OUT_MAX and refuses
 * what does not fit without losing anything; that a field is gathered the
 * same whether it comes whole or a byte at a time, never reading past it;
 * that a flush goes on through partial writes, stops at EOTA_AGAIN and
 * leaves the queue as it was on an error; that release closes the
 * connection exactly once; and the limits of set_password, remaining and
 * hex_lower.
 */
#define EOTA_ALLOW_PRIVATE_ACCESS

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/wire.h"
#include "fake.h"

typedef struct fx {
    fake_conn conn;
    eota_wire w;
} fx;

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof f);
    fake_conn_init(&f.conn);
    f.w.transport = &fake_transport;
    eota_wire_open(&f.w, &f.conn);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    fake_conn_free(&f->conn);
    return 0;
}

/* Queue n bytes counting up from first. */
static int queue_run(eota_wire *w, uint8_t first, size_t n)
{
    uint8_t b[EOTA_WIRE_OUT_MAX + 1];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(first + i);
    return eota_wire_queue(w, b, n);
}

/* The connection's output is first, first+1, ... for n bytes. */
static void assert_run_out(const fake_conn *c, uint8_t first, size_t n)
{
    assert_int_equal(c->out_len, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(c->out[i], (uint8_t)(first + i));
}

/* Flush: it moved bytes or not, no error, pending bytes left. */
static void flush_expect(fx *f, int moved, size_t pending)
{
    long err = 1;
    assert_int_equal(eota_wire_flush(&f->w, &err), moved);
    assert_int_equal(err, 0);
    assert_int_equal(eota_wire_out_pending(&f->w), pending);
    if (pending == 0 && f->w.conn) /* all sent: the queue starts again at 0 */
        assert_int_equal(f->w.out_len, 0);
}

/* --- queue --- */

static void test_queue_fills_exactly_and_refuses_more(void **state)
{
    fx *f = *state;
    assert_int_equal(eota_wire_out_free(&f->w), EOTA_WIRE_OUT_MAX);
    assert_int_equal(queue_run(&f->w, 0, 100), 1);
    assert_int_equal(eota_wire_out_pending(&f->w), 100);
    assert_int_equal(queue_run(&f->w, 100, EOTA_WIRE_OUT_MAX - 100), 1);
    assert_int_equal(eota_wire_out_free(&f->w), 0);
    assert_int_equal(queue_run(&f->w, 7, 1), 0);
    assert_int_equal(eota_wire_out_pending(&f->w), EOTA_WIRE_OUT_MAX);
    flush_expect(f, 1, 0);
    assert_run_out(&f->conn, 0, EOTA_WIRE_OUT_MAX);
}

static void test_queue_reuses_room_of_sent_bytes_in_order(void **state)
{
    fx *f = *state;
    f->conn.max_write = 60;
    f->conn.write_again_every = 2; /* the flush takes 60 bytes, then AGAIN */
    assert_int_equal(queue_run(&f->w, 0, 150), 1);
    flush_expect(f, 1, 90);
    /* 150 + 70 is past the end of the buffer, 90 + 70 fits once moved. */
    assert_int_equal(queue_run(&f->w, 150, EOTA_WIRE_OUT_MAX - 90), 1);
    assert_int_equal(eota_wire_out_free(&f->w), 0);
    assert_int_equal(queue_run(&f->w, 0, 1), 0);
    f->conn.write_again_every = 0;
    flush_expect(f, 1, 0);
    assert_run_out(&f->conn, 0, 150 + EOTA_WIRE_OUT_MAX - 90);
}

static void test_queue_refusal_keeps_pending_bytes(void **state)
{
    fx *f = *state;
    f->conn.max_write = 10;
    f->conn.write_again_every = 2;
    assert_int_equal(queue_run(&f->w, 0, 100), 1);
    flush_expect(f, 1, 90);
    assert_int_equal(queue_run(&f->w, 200, EOTA_WIRE_OUT_MAX - 89), 0);
    assert_int_equal(eota_wire_out_pending(&f->w), 90);
    f->conn.write_again_every = 0;
    f->conn.max_write = 0;
    flush_expect(f, 1, 0);
    assert_run_out(&f->conn, 0, 100);
}

/* --- fields --- */

static void test_field_gathered_one_byte_at_a_time(void **state)
{
    fx *f = *state;
    const char *data = "0123456789abcdefXYZ";
    fake_conn_push(&f->conn, data, strlen(data));
    f->conn.max_read = 1;
    eota_wire_expect(&f->w, 16);
    for (int i = 1; i <= 16; i++) {
        assert_int_equal(eota_wire_read_field(&f->w), 1);
        assert_int_equal(f->w.in_have, (size_t)i);
    }
    assert_int_equal(f->w.in_need, 16);
    assert_memory_equal(f->w.in, data, 16);
    assert_int_equal(f->conn.in_pos, 16); /* XYZ is left for the next field */
    eota_wire_expect(&f->w, 3);
    assert_int_equal(f->w.in_have, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(eota_wire_read_field(&f->w), 1);
    assert_memory_equal(f->w.in, "XYZ", 3);
}

static void test_field_whole_reads_no_further_than_it(void **state)
{
    fx *f = *state;
    uint8_t data[EOTA_WIRE_IN_MAX + 5];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    fake_conn_push(&f->conn, data, sizeof data);
    eota_wire_expect(&f->w, EOTA_WIRE_IN_MAX);
    assert_int_equal(eota_wire_read_field(&f->w), EOTA_WIRE_IN_MAX);
    assert_int_equal(f->w.in_have, EOTA_WIRE_IN_MAX);
    assert_memory_equal(f->w.in, data, EOTA_WIRE_IN_MAX);
    assert_int_equal(f->conn.in_pos, EOTA_WIRE_IN_MAX);
}

static void test_field_reports_what_the_transport_said(void **state)
{
    fx *f = *state;
    eota_wire_expect(&f->w, 4);
    fake_conn_push(&f->conn, "ab", 2);
    assert_int_equal(eota_wire_read_field(&f->w), 2);
    assert_int_equal(eota_wire_read_field(&f->w), EOTA_AGAIN);
    assert_int_equal(f->w.in_have, 2);
    f->conn.eof = 1;
    assert_int_equal(eota_wire_read_field(&f->w), EOTA_CLOSED);
    f->conn.read_error = 1;
    assert_int_equal(eota_wire_read_field(&f->w), EOTA_EIO);
    assert_int_equal(f->w.in_have, 2);
    assert_memory_equal(f->w.in, "ab", 2);
}

/* A transport that claims more than it was asked for. */
static long greedy_read(void *conn, uint8_t *buf, size_t len)
{
    (void)conn;
    memset(buf, 'g', len);
    return (long)len + 50;
}

static long greedy_write(void *conn, const uint8_t *buf, size_t len)
{
    (void)conn;
    (void)buf;
    return (long)len + 50;
}

static void greedy_close(void *conn) { ++*(int *)conn; }

static const eota_transport_ops greedy = {greedy_read, greedy_write, greedy_close};

static void test_misbehaving_transport_cannot_overflow(void **state)
{
    (void)state;
    int closed = 0;
    eota_wire w;
    memset(&w, 0, sizeof w);
    w.transport = &greedy;
    eota_wire_open(&w, &closed);
    eota_wire_expect(&w, 10);
    assert_int_equal(eota_wire_read_field(&w), 10);
    assert_int_equal(w.in_have, 10);
    assert_int_equal(queue_run(&w, 0, 5), 1);
    long err;
    assert_int_equal(eota_wire_flush(&w, &err), 1);
    assert_int_equal(err, 0);
    assert_int_equal(eota_wire_out_pending(&w), 0);
    assert_int_equal(eota_wire_out_free(&w), EOTA_WIRE_OUT_MAX);
    eota_wire_release(&w);
    assert_int_equal(closed, 1);
}

/* --- flush --- */

static void test_flush_goes_through_partial_writes(void **state)
{
    fx *f = *state;
    f->conn.max_write = 3;
    assert_int_equal(queue_run(&f->w, 10, 44), 1);
    flush_expect(f, 1, 0);
    assert_int_equal(f->conn.write_calls, 15);
    assert_run_out(&f->conn, 10, 44);
    flush_expect(f, 0, 0); /* nothing left */
    assert_int_equal(f->conn.write_calls, 15);
}

static void test_flush_stops_at_again_and_resumes(void **state)
{
    fx *f = *state;
    f->conn.max_write = 4;
    f->conn.write_again_every = 3; /* 4 + 4 bytes, then AGAIN */
    assert_int_equal(queue_run(&f->w, 0, 20), 1);
    flush_expect(f, 1, 12);
    flush_expect(f, 1, 4);
    f->conn.write_again_every = 1;
    flush_expect(f, 0, 4); /* AGAIN at once */
    f->conn.write_again_every = 0;
    flush_expect(f, 1, 0);
    assert_run_out(&f->conn, 0, 20);
}

static void test_flush_error_leaves_queue(void **state)
{
    fx *f = *state;
    long err = 0;
    f->conn.write_closed = 1;
    assert_int_equal(queue_run(&f->w, 0, 9), 1);
    assert_int_equal(eota_wire_flush(&f->w, &err), 0);
    assert_int_equal(err, EOTA_CLOSED);
    assert_int_equal(eota_wire_out_pending(&f->w), 9);
    assert_int_equal(f->conn.out_len, 0);
    assert_int_equal(f->conn.closed, 0); /* closing is release's job */
}

/* --- release --- */

static void test_release_closes_once_and_drops_queue(void **state)
{
    fx *f = *state;
    assert_int_equal(queue_run(&f->w, 0, 30), 1);
    eota_wire_release(&f->w);
    assert_int_equal(f->conn.closed, 1);
    assert_null(f->w.conn);
    assert_int_equal(eota_wire_out_pending(&f->w), 0);
    eota_wire_release(&f->w);
    assert_int_equal(f->conn.closed, 1);
    assert_int_equal(queue_run(&f->w, 0, 3), 1);
    flush_expect(f, 0, 3); /* no connection */
    assert_int_equal(f->conn.write_calls, 0);
}

static void test_release_without_connection_closes_nothing(void **state)
{
    fx *f = *state;
    eota_wire_open(&f->w, NULL);
    eota_wire_release(&f->w);
    assert_int_equal(f->conn.closed, 0);
    eota_wire_open(&f->w, &f->conn);
    eota_wire_release(&f->w);
    assert_int_equal(f->conn.closed, 1);
}

static void test_open_forgets_previous_state(void **state)
{
    fx *f = *state;
    assert_int_equal(queue_run(&f->w, 0, 30), 1);
    eota_wire_expect(&f->w, 8);
    fake_conn_push(&f->conn, "abc", 3);
    assert_int_equal(eota_wire_read_field(&f->w), 3);
    eota_wire_open(&f->w, &f->conn);
    assert_int_equal(eota_wire_out_pending(&f->w), 0);
    assert_int_equal(f->w.in_need, 0);
    assert_int_equal(f->w.in_have, 0);
}

/* --- small helpers --- */

static void test_set_password_limits(void **state)
{
    (void)state;
    char dst[8];
    memset(dst, 'x', sizeof dst);
    assert_int_equal(eota_wire_set_password(dst, sizeof dst, "1234567"), EOTA_OK);
    assert_memory_equal(dst, "1234567", 8);
    assert_int_equal(eota_wire_set_password(dst, sizeof dst, "12345678"), EOTA_EINVAL);
    assert_memory_equal(dst, "1234567", 8); /* unchanged */
    assert_int_equal(eota_wire_set_password(dst, sizeof dst, "ab"), EOTA_OK);
    assert_memory_equal(dst, "ab\0\0\0\0\0\0", 8); /* the rest cleared */
    assert_int_equal(eota_wire_set_password(dst, sizeof dst, NULL), EOTA_OK);
    assert_memory_equal(dst, "\0\0\0\0\0\0\0\0", 8);
    memset(dst, 'x', sizeof dst);
    assert_int_equal(eota_wire_set_password(dst, sizeof dst, ""), EOTA_OK);
    assert_memory_equal(dst, "\0\0\0\0\0\0\0\0", 8);
    assert_int_equal(eota_wire_set_password(dst, 1, "a"), EOTA_EINVAL);
}

static void test_remaining_counts_down_across_wrap(void **state)
{
    (void)state;
    assert_int_equal(eota_wire_remaining(1000, 500, 1000), 500);
    assert_int_equal(eota_wire_remaining(1000, 500, 1499), 1);
    assert_int_equal(eota_wire_remaining(1000, 500, 1500), 0);
    assert_int_equal(eota_wire_remaining(1000, 500, 90000), 0);
    assert_int_equal(eota_wire_remaining(0xFFFFFF00u, 0x200, 0x10), 0xF0);
    assert_int_equal(eota_wire_remaining(0xFFFFFF00u, 0x100, 0x10), 0);
}

static void test_hex_lower_only_a_to_f(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        uint8_t want = (c >= 'A' && c <= 'F') ? (uint8_t)(c - 'A' + 'a') : (uint8_t)c;
        assert_int_equal(eota_wire_hex_lower((uint8_t)c), want);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_queue_fills_exactly_and_refuses_more),
        T(test_queue_reuses_room_of_sent_bytes_in_order),
        T(test_queue_refusal_keeps_pending_bytes),
        T(test_field_gathered_one_byte_at_a_time),
        T(test_field_whole_reads_no_further_than_it),
        T(test_field_reports_what_the_transport_said),
        cmocka_unit_test(test_misbehaving_transport_cannot_overflow),
        T(test_flush_goes_through_partial_writes),
        T(test_flush_stops_at_again_and_resumes),
        T(test_flush_error_leaves_queue),
        T(test_release_closes_once_and_drops_queue),
        T(test_release_without_connection_closes_nothing),
        T(test_open_forgets_previous_state),
        cmocka_unit_test(test_set_password_limits),
        cmocka_unit_test(test_remaining_counts_down_across_wrap),
        cmocka_unit_test(test_hex_lower_only_a_to_f),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
