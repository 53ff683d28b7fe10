/*
 * test_crc32.c: the core's hand-written CRC-32 (src/core/crc32.c). It
 * proves the standard check value (CRC-32 of "123456789" is 0xCBF43926),
 * that feeding the data in any pieces gives the CRC of the whole, and that
 * it agrees with zlib's crc32 on every single byte value (so on every entry
 * of both tables) and on random buffers of random lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <zlib.h>

#include "eota/crc32.h"

#define BUF_MAX 4096u

/* A small deterministic generator, so that a failure can be replayed. */
static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void fill_random(uint8_t *buf, size_t n, uint32_t *seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)next_rand(seed);
}

static uint32_t zlib_crc(uint32_t crc, const uint8_t *buf, size_t n)
{
    return (uint32_t)crc32((uLong)crc, buf, (uInt)n);
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(eota_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(eota_crc32(0, "a", 1), 0xE8B7BE43u);
}

static void test_empty_input_keeps_crc(void **state)
{
    (void)state;
    assert_int_equal(eota_crc32(0, NULL, 0), 0);
    assert_int_equal(eota_crc32(0xCBF43926u, NULL, 0), 0xCBF43926u);
    assert_int_equal(eota_crc32(0x12345678u, "", 0), 0x12345678u);
}

static void test_every_byte_value_agrees_with_zlib(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t b = (uint8_t)v;
        assert_int_equal(eota_crc32(0, &b, 1), zlib_crc(0, &b, 1));
        assert_int_equal(eota_crc32(0xDEADBEEFu, &b, 1), zlib_crc(0xDEADBEEFu, &b, 1));
    }
}

static void test_random_buffers_agree_with_zlib(void **state)
{
    (void)state;
    static uint8_t buf[BUF_MAX];
    uint32_t seed = 0x5eed;
    for (int round = 0; round < 200; round++) {
        size_t n = next_rand(&seed) % (BUF_MAX + 1);
        fill_random(buf, n, &seed);
        assert_int_equal(eota_crc32(0, buf, n), zlib_crc(0, buf, n));
    }
}

static void test_incremental_equals_one_shot(void **state)
{
    (void)state;
    static uint8_t buf[BUF_MAX];
    uint32_t seed = 0xC0FFEE;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + next_rand(&seed) % BUF_MAX;
        fill_random(buf, n, &seed);
        uint32_t whole = eota_crc32(0, buf, n);
        uint32_t crc = 0;
        size_t at = 0;
        while (at < n) {
            size_t piece = next_rand(&seed) % (n - at + 1); /* 0 too */
            crc = eota_crc32(crc, buf + at, piece);
            at += piece;
        }
        assert_int_equal(crc, whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_empty_input_keeps_crc),
        cmocka_unit_test(test_every_byte_value_agrees_with_zlib),
        cmocka_unit_test(test_random_buffers_agree_with_zlib),
        cmocka_unit_test(test_incremental_equals_one_shot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
