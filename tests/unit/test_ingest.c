/*
 * test_ingest.c: the data phase every upload path goes through
 * (src/core/ingest.c): partial takes by a busy backend, an end that is
 * pending, the backend aborted on every failing path and never twice, the
 * events (STARTED, throttled IN_PROGRESS, ERROR with the mapped byte and the
 * backend's words, ABORT, COMPLETED), the optional MD5 check, and the one
 * mapping from a backend status to the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eota/ingest.h"
#include "eota/posix.h"
#include "fake.h"

#define CAP 4096u

typedef struct fx {
    eota_ingest in;
    eota_ingest_config cfg;
    eota_mem_backend mem;
    uint8_t store[CAP];
    uint8_t img[CAP];
    fake_clock clock;
    fake_events events;
    eota_posix_hash hash;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (!x || eota_posix_hash_init(&x->hash) != EOTA_OK)
        return -1;
    eota_mem_backend_init(&x->mem, x->store, CAP);
    for (size_t i = 0; i < CAP; i++)
        x->img[i] = (uint8_t)(i * 13 + 5);
    x->clock.now = 5000;
    x->cfg.backend = eota_mem_backend_seam(&x->mem);
    x->cfg.clock = fake_clock_seam(&x->clock);
    x->cfg.events = fake_events_seam(&x->events);
    x->cfg.hash = eota_posix_hash_seam(&x->hash);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    eota_posix_hash_free(&x->hash);
    free(x);
    return 0;
}

/* (Re)initialise after the test changed the backend or the config. */
static void init(fx *x)
{
    x->cfg.backend = eota_mem_backend_seam(&x->mem);
    assert_int_equal(eota_ingest_init(&x->in, &x->cfg), EOTA_OK);
}

static int begin(fx *x, uint32_t size)
{
    eota_begin_info bi = {size, EOTA_OTA_TYPE_APP, 0};
    return eota_ingest_begin(&x->in, &bi, size);
}

/* Feed img[off..off+n) and push until the backend took it all (it may take
 * part at a time); returns the first failure, or EOTA_OK. */
static int feed_all(fx *x, size_t off, size_t n)
{
    int st = eota_ingest_feed(&x->in, x->img + off, n);
    for (int rounds = 0; st == EOTA_OK && eota_ingest_pending(&x->in) > 0; rounds++) {
        size_t taken;
        assert_true(rounds < 100000);
        st = eota_ingest_push(&x->in, &taken);
    }
    return st;
}

static int finish(fx *x)
{
    int st;
    int rounds = 0;
    while ((st = eota_ingest_finish(&x->in)) == EOTA_AGAIN)
        assert_true(++rounds < 1000);
    return st;
}

static void assert_event(const fx *x, size_t i, eota_state st, uint8_t code, uint32_t received, uint32_t total)
{
    assert_true(i < x->events.n);
    const eota_event *ev = &x->events.ev[i];
    assert_int_equal(ev->state, st);
    assert_int_equal(ev->code, code);
    assert_int_equal(ev->received, received);
    assert_int_equal(ev->total, total);
}

/* ---------- the whole path ---------- */

static void test_partial_takes_commit(void **state)
{
    fx *x = *state;
    x->mem.max_take = 7; /* a slow flash */
    init(x);
    assert_int_equal(begin(x, 3000), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 1000), EOTA_OK);
    assert_int_equal(feed_all(x, 1000, 2000), EOTA_OK);
    assert_int_equal(eota_ingest_written(&x->in), 3000);
    assert_int_equal(x->mem.write_calls, (1000 + 6) / 7 + (2000 + 6) / 7);
    assert_int_equal(finish(x), EOTA_OK);
    assert_int_equal(x->mem.committed, 1);
    assert_memory_equal(x->store, x->img, 3000);
    assert_int_equal(x->events.n, 1); /* COMPLETED is the caller's to say */
    eota_ingest_completed(&x->in);
    assert_int_equal(x->events.n, 2);
    assert_event(x, 0, EOTA_STATE_STARTED, 0, 0, 3000);
    assert_event(x, 1, EOTA_STATE_COMPLETED, 0, 3000, 3000);
    assert_int_equal(x->mem.aborted, 0);
    /* once only, and nothing to abort after the commit */
    eota_ingest_completed(&x->in);
    eota_ingest_abort(&x->in);
    assert_int_equal(x->events.n, 2);
    assert_int_equal(x->mem.aborted, 0);
}

static void test_busy_backend_takes_nothing(void **state)
{
    fx *x = *state;
    init(x);
    assert_int_equal(begin(x, 100), EOTA_OK);
    assert_int_equal(eota_ingest_feed(&x->in, x->img, 100), EOTA_OK);
    assert_true(eota_ingest_busy(&x->in));
    /* nothing more may be fed while bytes wait */
    assert_int_equal(eota_ingest_feed(&x->in, x->img, 1), EOTA_EINVAL);
    x->mem.max_take = 40;
    size_t taken = 0;
    assert_int_equal(eota_ingest_push(&x->in, &taken), EOTA_OK);
    assert_int_equal(taken, 40);
    assert_int_equal(eota_ingest_pending(&x->in), 60);
    /* finish pushes what waits before it ends */
    assert_int_equal(eota_ingest_finish(&x->in), EOTA_AGAIN);
    assert_int_equal(eota_ingest_finish(&x->in), EOTA_AGAIN);
    assert_int_equal(eota_ingest_pending(&x->in), 0);
    assert_int_equal(x->mem.end_calls, 0);
    assert_int_equal(eota_ingest_finish(&x->in), EOTA_OK);
    assert_int_equal(x->mem.committed_len, 100);
    assert_memory_equal(x->store, x->img, 100);
}

static void test_end_pending(void **state)
{
    fx *x = *state;
    x->mem.end_pending_rounds = 3;
    init(x);
    assert_int_equal(begin(x, 10), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 10), EOTA_OK);
    assert_false(eota_ingest_busy(&x->in));
    for (unsigned i = 1; i <= 3; i++) {
        assert_int_equal(eota_ingest_finish(&x->in), EOTA_AGAIN);
        assert_true(eota_ingest_busy(&x->in)); /* retry after a short wait */
        assert_int_equal(x->mem.end_calls, i);
    }
    assert_int_equal(eota_ingest_finish(&x->in), EOTA_OK);
    assert_false(eota_ingest_busy(&x->in));
    assert_int_equal(x->mem.committed, 1);
    /* a cancel while the end is pending aborts, as any running upload */
    x->mem.end_pending_rounds = 5;
    assert_int_equal(begin(x, 10), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 10), EOTA_OK);
    assert_int_equal(eota_ingest_finish(&x->in), EOTA_AGAIN);
    eota_ingest_abort(&x->in);
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(x->events.ev[x->events.n - 1].state, EOTA_STATE_ABORT);
}

/* ---------- failures: the backend aborted once, ERROR once ---------- */

static void test_begin_refused(void **state)
{
    fx *x = *state;
    x->mem.capacity = 100;
    x->cfg.too_big_code = EOTA_RESP_ERROR_RP2040_NOT_ENOUGH_SPACE;
    init(x);
    assert_int_equal(begin(x, 101), EOTA_ETOOBIG);
    assert_int_equal(eota_ingest_error_code(&x->in), 0x8C);
    assert_string_equal(eota_ingest_why(&x->in), "image larger than the buffer");
    assert_int_equal(x->mem.aborted, 0); /* begin failed: nothing to abort */
    assert_int_equal(x->events.n, 2);
    assert_event(x, 0, EOTA_STATE_STARTED, 0, 0, 101);
    assert_event(x, 1, EOTA_STATE_ERROR, 0x8C, 0, 101);
    assert_string_equal(x->events.ev[1].detail, "image larger than the buffer");
    /* nothing runs any more */
    assert_int_equal(eota_ingest_feed(&x->in, x->img, 1), EOTA_EINVAL);
    eota_ingest_fail(&x->in, 0x80, NULL);
    eota_ingest_abort(&x->in);
    assert_int_equal(x->events.n, 2);
    assert_int_equal(x->mem.aborted, 0);
}

static void test_checks_before_the_backend(void **state)
{
    fx *x = *state;
    init(x);
    eota_begin_info bi = {100, EOTA_OTA_TYPE_BOOTLOADER, 0};
    assert_int_equal(eota_ingest_begin(&x->in, &bi, 100), EOTA_EUNSUPPORTED);
    assert_int_equal(eota_ingest_error_code(&x->in), 0x8E);
    bi.size = 0;
    bi.ota_type = EOTA_OTA_TYPE_APP;
    assert_int_equal(eota_ingest_begin(&x->in, &bi, 0), EOTA_EINVAL);
    assert_int_equal(eota_ingest_error_code(&x->in), 0x81);
    assert_int_equal(x->mem.begin_calls, 0);
    assert_int_equal(x->events.n, 4);
    assert_event(x, 1, EOTA_STATE_ERROR, 0x8E, 0, 100);
    assert_event(x, 3, EOTA_STATE_ERROR, 0x81, 0, 0);
    assert_null(x->events.ev[3].detail);
    /* with the capability, the type is the backend's to take */
    x->mem.caps = EOTA_BACKEND_CAP_BOOTLOADER;
    init(x);
    bi.size = 10;
    bi.ota_type = EOTA_OTA_TYPE_BOOTLOADER;
    assert_int_equal(eota_ingest_begin(&x->in, &bi, 10), EOTA_OK);
    assert_int_equal(x->mem.info.ota_type, EOTA_OTA_TYPE_BOOTLOADER);
    /* and a second begin while one runs is refused, the first untouched */
    assert_int_equal(eota_ingest_begin(&x->in, &bi, 10), EOTA_EBUSY);
    assert_int_equal(x->mem.begin_calls, 1);
}

static void test_write_failure(void **state)
{
    fx *x = *state;
    x->mem.fail_write = EOTA_EWRITE;
    x->mem.fail_write_after = 500;
    x->mem.max_take = 300;
    init(x);
    assert_int_equal(begin(x, 2000), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 1000), EOTA_EWRITE);
    assert_int_equal(eota_ingest_written(&x->in), 500);
    assert_int_equal(eota_ingest_pending(&x->in), 0); /* the rest dropped */
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(x->events.n, 2);
    assert_event(x, 1, EOTA_STATE_ERROR, 0x83, 1000, 2000);
    assert_string_equal(x->events.ev[1].detail, "injected failure");
    /* later calls fail without touching the backend again */
    size_t taken;
    assert_int_equal(eota_ingest_push(&x->in, &taken), EOTA_EINVAL);
    assert_int_equal(eota_ingest_finish(&x->in), EOTA_EINVAL);
    eota_ingest_fail(&x->in, 0xFF, "late");
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(x->events.n, 2);
}

static void test_end_failure_with_a_chip_byte(void **state)
{
    fx *x = *state;
    x->mem.fail_end = EOTA_EVERIFY;
    x->mem.fail_code = EOTA_RESP_ERROR_SIGNATURE_INVALID; /* a layer's exact byte */
    init(x);
    assert_int_equal(begin(x, 50), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 50), EOTA_OK);
    assert_int_equal(finish(x), EOTA_EVERIFY);
    assert_int_equal(eota_ingest_error_code(&x->in), 0x8D);
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(x->mem.committed, 0);
    assert_event(x, 1, EOTA_STATE_ERROR, 0x8D, 50, 50);
}

static void test_caller_failure(void **state)
{
    fx *x = *state;
    init(x);
    assert_int_equal(begin(x, 100), EOTA_OK);
    assert_int_equal(eota_ingest_feed(&x->in, x->img, 60), EOTA_OK);
    /* a timeout, say: bytes still pending are dropped with the upload */
    eota_ingest_fail(&x->in, EOTA_RESP_ERROR_UNKNOWN, "no data: timed out");
    assert_int_equal(eota_ingest_pending(&x->in), 0);
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(eota_ingest_error_code(&x->in), 0xFF);
    assert_event(x, 1, EOTA_STATE_ERROR, 0xFF, 60, 100);
    assert_string_equal(x->events.ev[1].detail, "no data: timed out");
    /* before any upload began, a failure is nobody's business */
    eota_ingest_reset(&x->in);
    eota_ingest_fail(&x->in, 0x80, NULL);
    assert_int_equal(x->events.n, 2);
    /* but a refused password is reported when the caller says so */
    eota_ingest_emit(&x->in, EOTA_STATE_ERROR, EOTA_RESP_ERROR_AUTH_INVALID, NULL);
    assert_event(x, 2, EOTA_STATE_ERROR, 0x82, 0, 0);
}

static void test_abort_and_reset(void **state)
{
    fx *x = *state;
    init(x);
    /* abort before begin: nothing */
    eota_ingest_abort(&x->in);
    assert_int_equal(x->events.n, 0);
    assert_int_equal(begin(x, 100), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 30), EOTA_OK);
    eota_ingest_abort(&x->in);
    assert_int_equal(x->mem.aborted, 1);
    assert_event(x, 1, EOTA_STATE_ABORT, 0, 30, 100);
    eota_ingest_abort(&x->in); /* once */
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(x->events.n, 2);
    /* reset drops a running upload without an event, figures back to 0 */
    assert_int_equal(begin(x, 100), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 30), EOTA_OK);
    eota_ingest_reset(&x->in);
    assert_int_equal(x->mem.aborted, 2);
    assert_int_equal(x->events.n, 3);
    assert_int_equal(eota_ingest_written(&x->in), 0);
    assert_int_equal(eota_ingest_error_code(&x->in), 0);
}

/* ---------- progress ---------- */

static void test_progress_throttled(void **state)
{
    fx *x = *state;
    init(x);
    assert_int_equal(begin(x, CAP), EOTA_OK);
    /* 64 bytes every 300 ms: IN_PROGRESS at most once a second */
    for (size_t off = 0; off < 640; off += 64) {
        x->clock.now += 300;
        assert_int_equal(feed_all(x, off, 64), EOTA_OK);
    }
    size_t n = fake_events_count(&x->events, EOTA_STATE_IN_PROGRESS);
    assert_int_equal(n, 2); /* at 1200 ms and 2400 ms; 3000 ms is 600 after */
    assert_event(x, 1, EOTA_STATE_IN_PROGRESS, 0, 4 * 64, CAP);
    assert_event(x, 2, EOTA_STATE_IN_PROGRESS, 0, 8 * 64, CAP);
    /* a long gap gives one event, not a burst */
    x->clock.now += 10000;
    assert_int_equal(feed_all(x, 640, 64), EOTA_OK);
    assert_int_equal(fake_events_count(&x->events, EOTA_STATE_IN_PROGRESS), 3);
    /* the clock may wrap */
    x->clock.now = 0xFFFFFF00u;
    assert_int_equal(feed_all(x, 704, 64), EOTA_OK);
    x->clock.now = 0x300u; /* 1024 ms later */
    assert_int_equal(feed_all(x, 768, 64), EOTA_OK);
    assert_int_equal(fake_events_count(&x->events, EOTA_STATE_IN_PROGRESS), 5);
}

/* ---------- MD5 ---------- */

static void test_md5_match_either_case(void **state)
{
    fx *x = *state;
    char m[33];
    init(x);
    md5_hex(m, x->img, 1000);
    for (char *p = m; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(begin(x, 1000), EOTA_OK);
    assert_int_equal(eota_ingest_expect_md5(&x->in, m), EOTA_OK);
    x->mem.max_take = 33; /* the hash sees what arrived, whatever the takes */
    assert_int_equal(feed_all(x, 0, 999), EOTA_OK);
    assert_int_equal(feed_all(x, 999, 1), EOTA_OK);
    assert_int_equal(eota_ingest_check_md5(&x->in), EOTA_OK);
    assert_int_equal(finish(x), EOTA_OK);
    assert_int_equal(x->mem.committed, 1);
}

static void test_md5_mismatch(void **state)
{
    fx *x = *state;
    char m[33];
    init(x);
    md5_hex(m, x->img, 1000);
    assert_int_equal(begin(x, 1000), EOTA_OK);
    assert_int_equal(eota_ingest_expect_md5(&x->in, m), EOTA_OK);
    x->img[500] ^= 1;
    assert_int_equal(feed_all(x, 0, 1000), EOTA_OK);
    assert_int_equal(eota_ingest_check_md5(&x->in), EOTA_EVERIFY);
    assert_int_equal(eota_ingest_error_code(&x->in), EOTA_RESP_ERROR_MD5_MISMATCH);
    assert_int_equal(x->mem.aborted, 1);
    assert_int_equal(x->mem.end_calls, 0);
    assert_event(x, 1, EOTA_STATE_ERROR, 0x8B, 1000, 1000);
}

static void test_md5_optional(void **state)
{
    fx *x = *state;
    x->cfg.hash.ops = NULL; /* no hash seam: nothing to check */
    init(x);
    assert_int_equal(begin(x, 10), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 10), EOTA_OK);
    assert_int_equal(eota_ingest_check_md5(&x->in), EOTA_OK);
    assert_int_equal(finish(x), EOTA_OK);
    /* asking for a check without a hash seam fails the upload */
    assert_int_equal(begin(x, 10), EOTA_OK);
    assert_int_equal(eota_ingest_expect_md5(&x->in, "00000000000000000000000000000000"), EOTA_ECRYPTO);
    assert_int_equal(eota_ingest_error_code(&x->in), EOTA_RESP_ERROR_UNKNOWN);
    assert_int_equal(x->mem.aborted, 1);
}

/* ---------- the one mapping to the wire, and the set-up ---------- */

static void test_wire_codes(void **state)
{
    (void)state;
    const struct {
        int status;
        uint8_t detail, too_big;
        eota_ingest_step step;
        uint8_t want;
    } t[] = {
        {EOTA_ETOOBIG, 0, 0, EOTA_INGEST_BEGIN, 0x89},
        {EOTA_ETOOBIG, 0, 0x81, EOTA_INGEST_WRITE, 0x81},
        {EOTA_ENOSLOT, 0, 0, EOTA_INGEST_BEGIN, 0x8A},
        {EOTA_EUNSUPPORTED, 0, 0, EOTA_INGEST_BEGIN, 0x8E},
        {EOTA_EPREPARE, 0, 0, EOTA_INGEST_WRITE, 0x81},
        {EOTA_EWRITE, 0, 0, EOTA_INGEST_END, 0x83},
        {EOTA_EFORMAT, 0, 0, EOTA_INGEST_WRITE, 0x83},
        {EOTA_EVERIFY, 0, 0, EOTA_INGEST_END, 0x84},
        {EOTA_ECOMMIT, 0, 0, EOTA_INGEST_END, 0x84},
        {EOTA_EIO, 0, 0, EOTA_INGEST_BEGIN, 0x81},
        {EOTA_EIO, 0, 0, EOTA_INGEST_WRITE, 0x83},
        {EOTA_EINVAL, 0, 0, EOTA_INGEST_END, 0x84},
        {EOTA_EIO, 0x85, 0, EOTA_INGEST_BEGIN, 0x85},
        {EOTA_ETOOBIG, 0x90, 0x8C, EOTA_INGEST_WRITE, 0x90},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(eota_ingest_wire_code(t[i].status, t[i].detail, t[i].step, t[i].too_big), t[i].want);
}

static void test_init_checks(void **state)
{
    fx *x = *state;
    eota_backend_ops ops = *x->cfg.backend.ops;
    eota_ingest_config c = x->cfg;
    c.backend.ops = &ops;
    ops.abort = NULL;
    assert_int_equal(eota_ingest_init(&x->in, &c), EOTA_EINVAL);
    ops = *x->cfg.backend.ops;
    ops.detail = NULL; /* optional */
    assert_int_equal(eota_ingest_init(&x->in, &c), EOTA_OK);
    c.clock.now_ms = NULL;
    assert_int_equal(eota_ingest_init(&x->in, &c), EOTA_EINVAL);
    assert_int_equal(eota_ingest_init(&x->in, NULL), EOTA_EINVAL);
    /* without detail(), a failure has no words and the status's byte */
    c = x->cfg;
    c.backend.ops = &ops;
    assert_int_equal(eota_ingest_init(&x->in, &c), EOTA_OK);
    x->mem.fail_begin = EOTA_ENOSLOT;
    x->mem.fail_code = 0x85;
    assert_int_equal(begin(x, 10), EOTA_ENOSLOT);
    assert_int_equal(eota_ingest_error_code(&x->in), 0x8A);
    assert_null(eota_ingest_why(&x->in));
}

/* The progress floor: fewer than the floor's bytes in a window is too
 * slow, enough is not; each ended window starts the next; 0 means the
 * defaults of eota/opt.h. */
static void test_progress_floor(void **state)
{
    fx *x = *state;
    init(x);
    assert_int_equal(begin(x, 4000), EOTA_OK);
    assert_int_equal(feed_all(x, 0, 100), EOTA_OK);
    x->clock.now += 999;
    assert_int_equal(eota_ingest_too_slow(&x->in, 100, 1000), 0); /* the window runs */
    x->clock.now += 1;
    assert_int_equal(eota_ingest_too_slow(&x->in, 100, 1000), 0); /* 100 bytes: enough */
    assert_int_equal(feed_all(x, 100, 99), EOTA_OK);
    x->clock.now += 1000;
    assert_int_equal(eota_ingest_too_slow(&x->in, 100, 1000), 1); /* 99: too slow */
    x->clock.now += EOTA_DEVICE_PROGRESS_WINDOW_MS - 1;
    assert_int_equal(eota_ingest_too_slow(&x->in, 0, 0), 0);
    x->clock.now += 1;
    assert_int_equal(eota_ingest_too_slow(&x->in, 0, 0), 1); /* nothing in the default window */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_partial_takes_commit),
        T(test_busy_backend_takes_nothing),
        T(test_end_pending),
        T(test_begin_refused),
        T(test_checks_before_the_backend),
        T(test_write_failure),
        T(test_end_failure_with_a_chip_byte),
        T(test_caller_failure),
        T(test_abort_and_reset),
        T(test_progress_throttled),
        T(test_md5_match_either_case),
        T(test_md5_mismatch),
        T(test_md5_optional),
        T(test_wire_codes),
        T(test_init_checks),
        T(test_progress_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
