/*
 * test_protocol.c: every response code of PROTOCOL.md section 4 has a name
 * and a sentence; unknown bytes get a generic sentence and no name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eota/protocol.h"

static const struct {
    uint8_t code;
    const char *name;
} table[] = {
    {0x00, "OK"}, {0x01, "REQUEST_AUTH"}, {0x02, "REQUEST_SHA256_AUTH"}, {0x40, "HEADER_OK"},
    {0x41, "AUTH_OK"}, {0x42, "UPDATE_PREPARE_OK"}, {0x43, "BIN_MD5_OK"}, {0x44, "RECEIVE_OK"},
    {0x45, "UPDATE_END_OK"}, {0x46, "SUPPORTS_COMPRESSION"}, {0x47, "CHUNK_OK"},
    {0x48, "FEATURE_FLAGS"}, {0x80, "ERROR_MAGIC"}, {0x81, "ERROR_UPDATE_PREPARE"},
    {0x82, "ERROR_AUTH_INVALID"}, {0x83, "ERROR_WRITING_FLASH"}, {0x84, "ERROR_UPDATE_END"},
    {0x85, "ERROR_INVALID_BOOTSTRAPPING"}, {0x86, "ERROR_WRONG_CURRENT_FLASH_CONFIG"},
    {0x87, "ERROR_WRONG_NEW_FLASH_CONFIG"}, {0x88, "ERROR_ESP8266_NOT_ENOUGH_SPACE"},
    {0x89, "ERROR_ESP32_NOT_ENOUGH_SPACE"}, {0x8A, "ERROR_NO_UPDATE_PARTITION"},
    {0x8B, "ERROR_MD5_MISMATCH"}, {0x8C, "ERROR_RP2040_NOT_ENOUGH_SPACE"},
    {0x8D, "ERROR_SIGNATURE_INVALID"}, {0x8E, "ERROR_UNSUPPORTED_OTA_TYPE"},
    {0x8F, "ERROR_PARTITION_TABLE_VERIFY"}, {0x90, "ERROR_PARTITION_TABLE_UPDATE"},
    {0x91, "ERROR_BOOTLOADER_VERIFY"}, {0x92, "ERROR_BOOTLOADER_UPDATE"},
    {0x93, "ERROR_VERSION_DOWNGRADE"}, {0x94, "ERROR_ENCRYPTION_REQUIRED"}, {0xFF, "ERROR_UNKNOWN"},
};

static void test_every_code_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *n = eota_response_name(table[i].code);
        assert_non_null(n);
        assert_string_equal(n, table[i].name);
        const char *d = eota_response_describe(table[i].code);
        assert_non_null(d);
        assert_true(strlen(d) > 10);
        assert_int_equal(eota_response_is_error(table[i].code), table[i].code >= 0x80);
    }
}

static void test_rp2040_code_in_words(void **state)
{
    (void)state;
    /* stock uploaders forget this one */
    assert_non_null(strstr(eota_response_describe(0x8C), "RP2040"));
    assert_non_null(strstr(eota_response_describe(0x8B), "MD5"));
}

static void test_unknown_codes(void **state)
{
    (void)state;
    int known = 0;
    for (unsigned c = 0; c < 256; c++) {
        const char *n = eota_response_name((uint8_t)c);
        const char *d = eota_response_describe((uint8_t)c);
        assert_non_null(d);
        if (n)
            known++;
        else
            assert_non_null(strstr(d, "does not know"));
    }
    assert_int_equal(known, (int)(sizeof table / sizeof table[0]));
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(eota_state_name(EOTA_STATE_COMPLETED), "COMPLETED");
    assert_string_equal(eota_state_name(EOTA_STATE_STARTED), "STARTED");
    assert_string_equal(eota_state_name(EOTA_STATE_IN_PROGRESS), "IN_PROGRESS");
    assert_string_equal(eota_state_name(EOTA_STATE_ABORT), "ABORT");
    assert_string_equal(eota_state_name(EOTA_STATE_ERROR), "ERROR");
    assert_int_equal(EOTA_STATE_COMPLETED, 0);
    assert_int_equal(EOTA_STATE_ERROR, 4);
    assert_string_equal(eota_state_name((eota_state)9), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_named),
        cmocka_unit_test(test_rp2040_code_in_words),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
