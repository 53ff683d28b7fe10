/*
 * test_config_noise.c: the Noise keys of the config
 * (src/app/config/encryption.c, ota.c): `api: encryption: key:`, an ota:
 * entry's `encryption:` with its own key or bare (reusing the API key),
 * which key a device uses and whether it requires Noise
 * (eota_config_noise_key), and the errors: malformed or all-zero keys,
 * a bare block without an API key, password with encryption, merged
 * entries with different keys. The key's text never appears in a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

#define KEY1 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=" /* bytes 01..20 */
#define KEY2 "AgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICE=" /* bytes 02..21 */
#define ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define API1 "api:\n  encryption:\n    key: \"" KEY1 "\"\n"

static void key_is(const uint8_t *k, uint8_t first)
{
    assert_non_null(k);
    for (int i = 0; i < 32; i++)
        assert_int_equal(k[i], (uint8_t)(first + i));
}

static void test_api_key_offers(void **state)
{
    (void)state;
    eota_config cfg;
    bool required = true;
    load_ok(BASE API1 "  reboot_timeout: 0s\nota:\n  - platform: esphome\n", &cfg);
    assert_true(cfg.api_key.present);
    assert_int_equal(cfg.api_key.line, 6);
    assert_false(cfg.ota.encryption);
    key_is(eota_config_noise_key(&cfg, &required), 1);
    assert_false(required);
    eota_config_free(&cfg);
}

static void test_no_key(void **state)
{
    (void)state;
    eota_config cfg;
    bool required = true;
    load_ok(BASE "api:\nota:\n  - platform: esphome\n", &cfg);
    assert_null(eota_config_noise_key(&cfg, &required));
    assert_false(required);
    eota_config_free(&cfg);
}

static void test_ota_key_requires(void **state)
{
    (void)state;
    eota_config cfg;
    bool required = false;
    load_ok(BASE API1 "ota:\n  - platform: esphome\n    encryption:\n      key: " KEY2 "\n", &cfg);
    assert_true(cfg.ota.encryption);
    key_is(eota_config_noise_key(&cfg, &required), 2);
    assert_true(required);
    eota_config_free(&cfg);
}

static void test_bare_block_reuses_api_key(void **state)
{
    (void)state;
    eota_config cfg;
    bool required = false;
    load_ok(BASE API1 "ota:\n  - platform: esphome\n    encryption:\n", &cfg);
    key_is(eota_config_noise_key(&cfg, &required), 1);
    assert_true(required);
    eota_config_free(&cfg);
    load_ok(BASE API1 "ota:\n  - platform: esphome\n    encryption: {}\n", &cfg);
    key_is(eota_config_noise_key(&cfg, &required), 1);
    assert_true(required);
    eota_config_free(&cfg);
}

static void test_merged_entries(void **state)
{
    (void)state;
    eota_config cfg;
    bool required = false;
    load_ok(BASE "ota:\n  - platform: esphome\n  - platform: esphome\n    encryption:\n      key: " KEY2 "\n",
            &cfg);
    key_is(eota_config_noise_key(&cfg, &required), 2);
    assert_true(required);
    eota_config_free(&cfg);
    expect_error(BASE "ota:\n  - platform: esphome\n    encryption:\n      key: " KEY1 "\n"
                      "  - platform: esphome\n    encryption:\n      key: " KEY2 "\n",
                 ":10:7: key 'ota[1].encryption': its key differs from the key of ota[0]: merged entries must agree");
}

static void test_key_errors(void **state)
{
    (void)state;
    expect_error(BASE "ota:\n  - platform: esphome\n    encryption:\n      key: " ZERO "\n",
                 ":7:12: key 'ota[0].encryption.key': the key is all zero, which is not a valid encryption key: "
                 "make a new one (e.g. 'openssl rand -base64 32')");
    expect_error(BASE "api:\n  encryption:\n    key: c2VjcmV0\n",
                 ":6:10: key 'api.encryption.key': expected the base64 text of a 32-byte key (44 characters "
                 "ending in '=', as 'esphome' writes API keys); the value is not shown");
    assert_null(strstr(cfg_err, "c2VjcmV0"));
    expect_error(BASE "api:\n  encryption:\n    key: \"" KEY1 "x\"\n",
                 ":6:10: key 'api.encryption.key': expected the base64 text of a 32-byte key (44 characters "
                 "ending in '=', as 'esphome' writes API keys); the value is not shown");
    expect_error(BASE "ota:\n  - platform: esphome\n    encryption: " KEY1 "\n",
                 ":6:17: key 'ota[0].encryption': expected a mapping with 'key:', got a value (not shown): write "
                 "the key as 'key: ...' on its own line under 'encryption:'");
    assert_null(strstr(cfg_err, KEY1));
    expect_error(BASE "ota:\n  - platform: esphome\n    encryption:\n",
                 ":6:16: key 'ota[0].encryption': has no 'key:', and there is no 'api: encryption: key:' to "
                 "reuse: give one of them (base64 of 32 bytes)");
    expect_error(BASE "api:\n  encryption:\n",
                 ":5:14: key 'api.encryption': has no 'key:' (base64 of 32 bytes)");
    expect_error(BASE "ota:\n  - platform: esphome\n    encryption:\n      key: " KEY1 "\n      kee: 1\n",
                 ":8:7: key 'ota[0].encryption.kee': unknown key; accepted keys: key");
}

static void test_password_with_encryption(void **state)
{
    (void)state;
    expect_error(BASE API1 "ota:\n  - platform: esphome\n    password: x\n    encryption:\n",
                 ":10:16: key 'ota[0].encryption': 'password:' and 'encryption:' cannot be combined: with "
                 "encryption the key authenticates the uploader, so remove 'password:'");
    expect_error(BASE API1 "ota:\n  - platform: esphome\n    encryption:\n  - platform: esphome\n    password: x\n",
                 ":11:15: key 'ota[1].password': 'password:' and 'encryption:' cannot be combined: with "
                 "encryption the key authenticates the uploader, so remove 'password:'");
    /* A password beside an API key alone is fine: plaintext uploaders use it. */
    eota_config cfg;
    load_ok(BASE API1 "ota:\n  - platform: esphome\n    password: x\n", &cfg);
    eota_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_api_key_offers, cfg_test_setup),
        cmocka_unit_test_setup(test_no_key, cfg_test_setup),
        cmocka_unit_test_setup(test_ota_key_requires, cfg_test_setup),
        cmocka_unit_test_setup(test_bare_block_reuses_api_key, cfg_test_setup),
        cmocka_unit_test_setup(test_merged_entries, cfg_test_setup),
        cmocka_unit_test_setup(test_key_errors, cfg_test_setup),
        cmocka_unit_test_setup(test_password_with_encryption, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
