/*
 * test_status.c: every status has its own name and a sentence; unknown
 * values are named as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "eota/status.h"

static void test_every_status_named_once(void **state)
{
    (void)state;
    const char *seen[32] = {0};
    for (int s = EOTA_OK; s >= EOTA_EDOWNGRADE; s--) {
        const char *name = eota_status_name(s);
        assert_string_not_equal(name, "UNKNOWN");
        assert_true(strlen(eota_status_describe(s)) > 3);
        for (int j = 0; j < -s; j++)
            assert_string_not_equal(seen[j], name);
        seen[-s] = name;
    }
    assert_string_equal(eota_status_name(EOTA_ETOOBIG), "ETOOBIG");
    assert_string_equal(eota_status_name(EOTA_AGAIN), "AGAIN");
}

static void test_unknown_status(void **state)
{
    (void)state;
    assert_string_equal(eota_status_name(EOTA_EDOWNGRADE - 1), "UNKNOWN");
    assert_string_equal(eota_status_name(7), "UNKNOWN");
    assert_string_equal(eota_status_describe(-1000), "an unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_named_once),
        cmocka_unit_test(test_unknown_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
