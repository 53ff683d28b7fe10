/*
 * test_sys.c: the random and clock seams of the POSIX port
 * (src/port/posix/sys.c): getrandom, also when it gives short reads and
 * EINTR, and CLOCK_MONOTONIC in 32 and 64 bits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "eota/posix.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}


/* This program's own getrandom, which the library's call binds to at link
 * time: in "stingy" mode it gives at most 5 bytes per call and fails every
 * other call with EINTR, as a signal-interrupted or large request would. */
static int stingy_getrandom;
static unsigned getrandom_calls;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    getrandom_calls++;
    if (stingy_getrandom) {
        if (getrandom_calls % 2 == 0) {
            errno = EINTR;
            return -1;
        }
        if (len > 5)
            len = 5;
    }
    return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
}

static void test_random_differs(void **state)
{
    eota_random r = eota_posix_random();
    uint8_t a[32], b[32], zero[32] = {0};
    size_t big_len = 1u << 20;
    uint8_t *big = calloc(1, big_len);
    size_t nonzero = 0;

    (void)state;
    assert_non_null(r.fill);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(r.fill(r.ctx, a, sizeof a), EOTA_OK);
    assert_int_equal(r.fill(r.ctx, b, sizeof b), EOTA_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(r.fill(r.ctx, a, 0), EOTA_OK);

    /* a large request (more than one getrandom call may return) is filled
     * to the end */
    assert_non_null(big);
    assert_int_equal(r.fill(r.ctx, big, big_len), EOTA_OK);
    for (size_t i = big_len - 4096; i < big_len; i++)
        nonzero += big[i] != 0;
    assert_true(nonzero > 3500);
    free(big);
}

static void test_random_short_reads(void **state)
{
    eota_random r = eota_posix_random();
    uint8_t buf[64];
    size_t zeros = 0;

    (void)state;
    memset(buf, 0, sizeof buf);
    getrandom_calls = 0;
    stingy_getrandom = 1;
    assert_int_equal(r.fill(r.ctx, buf, sizeof buf), EOTA_OK);
    stingy_getrandom = 0;
    /* 13 short reads for 64 bytes, with the EINTRs in between */
    assert_true(getrandom_calls >= 25);
    /* the tail was filled too */
    for (size_t i = 48; i < sizeof buf; i++)
        zeros += buf[i] == 0;
    assert_true(zeros < 4);
}

static void test_clock_monotonic(void **state)
{
    eota_clock c = eota_posix_clock();
    uint32_t t0, t1, prev;
    uint64_t w0, w1;

    (void)state;
    assert_non_null(c.now_ms);
    w0 = eota_posix_now_ms64();
    t0 = c.now_ms(c.ctx);
    /* the 32-bit clock is the low half of the 64-bit one */
    assert_true((uint32_t)(t0 - (uint32_t)w0) < 1000u);
    prev = t0;
    for (int i = 0; i < 1000; i++) {
        uint32_t t = c.now_ms(c.ctx);
        assert_true((uint32_t)(t - prev) < 1000u); /* never goes back */
        prev = t;
    }
    sleep_ms(50);
    t1 = c.now_ms(c.ctx);
    w1 = eota_posix_now_ms64();
    assert_true((uint32_t)(t1 - t0) >= 50u);
    assert_true((uint32_t)(t1 - t0) < 5000u);
    assert_true(w1 - w0 >= 50u);
    assert_true(w1 >= w0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_differs),
        cmocka_unit_test(test_random_short_reads),
        cmocka_unit_test(test_clock_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
