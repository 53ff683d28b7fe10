/*
 * test_text.c: the lookup behind every name and sentence of the core
 * (src/core/text.c, text.h), on a table of its own. It proves that any row
 * is found by its key (the first and the last, negative keys too), that the
 * count bounds the search and a missing key gives NULL, that the first of
 * two rows with one key wins, and that a sentence falls back only when there
 * is no row. The build without sentences (names instead) is proved by
 * test_opt.c, which links the core built that way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/text.h"

#if !EOTA_WITH_DESCRIPTIONS
#error "test_text.c runs the default options (sentences built)"
#endif

static const eota_text table[] = {
    EOTA_TEXT(0, "ZERO", "nothing at all"),
    EOTA_TEXT(-3, "MINUS_THREE", "three below"),
    EOTA_TEXT(0x80, "HIGH", "a high code"),
    EOTA_TEXT(-3, "SHADOWED", "never found"),
    EOTA_TEXT(42, "LAST", "the last row"),
};

static void test_every_row_found_by_key(void **state)
{
    (void)state;
    size_t n = EOTA_TEXT_COUNT(table);
    assert_int_equal(n, 5);
    assert_ptr_equal(eota_text_find(table, n, 0), &table[0]);
    assert_ptr_equal(eota_text_find(table, n, -3), &table[1]);
    assert_ptr_equal(eota_text_find(table, n, 0x80), &table[2]);
    assert_ptr_equal(eota_text_find(table, n, 42), &table[4]);
    assert_string_equal(eota_text_find(table, n, 42)->name, "LAST");
}

static void test_missing_key_and_count_bound(void **state)
{
    (void)state;
    size_t n = EOTA_TEXT_COUNT(table);
    assert_null(eota_text_find(table, n, 1));
    assert_null(eota_text_find(table, n, -42));
    assert_null(eota_text_find(table, n - 1, 42)); /* beyond the count */
    assert_null(eota_text_find(table, 0, 0));
    assert_ptr_equal(eota_text_find(table, 1, 0), &table[0]);
}

static void test_sentence_or_fallback(void **state)
{
    (void)state;
    size_t n = EOTA_TEXT_COUNT(table);
    assert_string_equal(eota_text_sentence(eota_text_find(table, n, -3), "?"), "three below");
    assert_string_equal(eota_text_sentence(eota_text_find(table, n, 42), "?"), "the last row");
    assert_string_equal(eota_text_sentence(eota_text_find(table, n, 7), "no such row"), "no such row");
    assert_null(eota_text_sentence(NULL, NULL));
}

static void test_log_text_is_the_sentence(void **state)
{
    (void)state;
#if EOTA_WITH_LOG_TEXT
    assert_string_equal(EOTA_LOG_TEXT("a log line"), "a log line");
#else
    assert_null(EOTA_LOG_TEXT("a log line"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_found_by_key),
        cmocka_unit_test(test_missing_key_and_count_bound),
        cmocka_unit_test(test_sentence_or_fallback),
        cmocka_unit_test(test_log_text_is_the_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
