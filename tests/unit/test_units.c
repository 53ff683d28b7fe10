/*
 * test_units.c: the unit parsers (src/app/config/units.c): ESPHome's time
 * periods, exactly to the millisecond; sizes and speeds in bytes; integers
 * in decimal and hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "config/units.h"

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t ms;
    } ok[] = {
        {"5min", 300000},     {"30s", 30000},     {"100ms", 100},        {"1h", 3600000},
        {"1.5s", 1500},       {"2d", 172800000},  {"0s", 0},             {"5 min", 300000},
        {"10seconds", 10000}, {"3000us", 3},      {"2000000ns", 2},      {"01:30", 5400000},
        {"00:01:05", 65000},  {"+2s", 2000},      {"0.25minutes", 15000}, {"1sec", 1000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint32_t ms = 12345;
        const char *why = NULL;
        int rc = eota_config_parse_duration(ok[i].text, &ms, &why);
        if (rc)
            print_error("%s: %s\n", ok[i].text, why);
        assert_int_equal(rc, 0);
        assert_int_equal(ms, ok[i].ms);
    }
    static const char *const bad[] = {"", "5", "s", "-1s", "1.5us", "50d", "1x", "1:2:3:4",
                                      "abc", "1..5s", "1:xx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t ms = 7;
        const char *why = NULL;
        assert_int_equal(eota_config_parse_duration(bad[i], &ms, &why), -1);
        assert_non_null(why);
        assert_int_equal(ms, 7);
    }
    const char *why = NULL;
    uint32_t ms;
    assert_int_equal(eota_config_parse_duration("50d", &ms, &why), -1);
    assert_string_equal(why, "the time period is too long (at most 49 days)");
    assert_int_equal(eota_config_parse_duration("7", &ms, NULL), -1);
}

/* The command line's form: a bare number in a given unit, the rest of the
 * grammar unchanged. */
static void test_durations_bare_unit(void **state)
{
    (void)state;
    uint32_t ms = 0;
    const char *why = NULL;
    assert_int_equal(eota_units_duration("20", "s", &ms, &why), 0);
    assert_int_equal(ms, 20000);
    assert_int_equal(eota_units_duration("2.5", "s", &ms, &why), 0);
    assert_int_equal(ms, 2500);
    assert_int_equal(eota_units_duration("500ms", "s", &ms, &why), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(eota_units_duration("1min", "s", &ms, &why), 0);
    assert_int_equal(ms, 60000);
    assert_int_equal(eota_units_duration("7", "ms", &ms, &why), 0);
    assert_int_equal(ms, 7);
    assert_int_equal(eota_units_duration("0.0001", "s", &ms, &why), -1);
    assert_string_equal(why, "the time period is finer than a millisecond");
    assert_int_equal(eota_units_duration("-1", "s", &ms, &why), -1);
    assert_string_equal(why, "a time period cannot be negative");
    assert_int_equal(eota_units_duration("5", NULL, &ms, &why), -1);
    assert_string_equal(why, "a bare number has no time unit");
    assert_int_equal(eota_units_duration("1x", "s", &ms, &why), -1);
    assert_string_equal(why, "unknown time unit (use us, ms, s, min, h or d)");
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int per_second;
        uint64_t bytes;
    } ok[] = {
        {"1234", 0, 1234},         {"0x100000", 0, 1048576},   {"0XfF", 0, 255},
        {"1MiB", 0, 1048576},      {"2 kB", 0, 2000},          {"1.5MB", 0, 1500000},
        {"1.0005K", 0, 1000},      {"3G", 0, 3000000000ull},   {"1GiB", 0, 1073741824ull},
        {"300KB/s", 1, 300000},    {"1MiB/s", 1, 1048576},     {"500B/s", 1, 500},
        {"0", 1, 0},               {"0xFFFFFFFFFFFFFFFF", 0, UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        if (eota_units_size(ok[i].text, ok[i].per_second, &v) != 0)
            print_error("%s refused\n", ok[i].text);
        assert_int_equal(eota_units_size(ok[i].text, ok[i].per_second, &v), 0);
        assert_int_equal(v, ok[i].bytes);
    }
    static const struct {
        const char *text;
        int per_second;
    } bad[] = {
        {"", 0},        {"0x", 0},      {"0x1G", 0},     {"1MiB/s", 0},  {"1MiB/h", 1},
        {"fast", 1},    {"1 TB", 0},    {"-1", 0},       {"1..2", 0},    {"1MiB/s2", 1},
        {"0x10000000000000000", 0},     {"99999999999999999G", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 7;
        if (eota_units_size(bad[i].text, bad[i].per_second, &v) != -1)
            print_error("%s accepted\n", bad[i].text);
        assert_int_equal(eota_units_size(bad[i].text, bad[i].per_second, &v), -1);
        assert_int_equal(v, 7);
    }
}

static void test_integers(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long long v;
    } ok[] = {{"0", 0},         {"42", 42},     {"-42", -42},  {"+7", 7},
              {"0x8B", 0x8B},   {"0Xff", 255},  {"-0x10", -16},
              {"9223372036854775807", 9223372036854775807LL}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        long long v = 1;
        assert_int_equal(eota_units_integer(ok[i].text, &v), 0);
        assert_true(v == ok[i].v);
    }
    static const char *const bad[] = {"",   "-",  "0x", "1a",  "12 ", "1.5",
                                      "abc", "0xg", "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long v = 7;
        assert_int_equal(eota_units_integer(bad[i], &v), -1);
        assert_true(v == 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_durations_bare_unit),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
