/*
 * test_config_signature.c: the `signature:` key of an ota entry
 * (src/app/config/signature.c): keys inline and from a file next to the
 * config, the defaults, and every refusal with its place in the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

#define KEY_A "rUF6n0/5Qod0XClW7bLwON0lKVskGGsM7n+h505rOZc="
#define KEY_B "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define OTA "ota:\n  - platform: esphome\n    signature:\n"

static void test_signature_keys(void **state)
{
    (void)state;
    char path[256];
    eota_config cfg;
    snprintf(path, sizeof path, "%s/release.pub", cfg_tmpdir);
    write_text(path, KEY_B "\n");
    load_ok(BASE OTA "      keys: [" KEY_A ", release.pub]\n", &cfg);
    assert_true(cfg.signature.present);
    assert_true(cfg.signature.required);
    assert_false(cfg.signature.allow_downgrade);
    assert_int_equal(cfg.signature.nkeys, 2);
    assert_int_equal(cfg.signature.keys[0][0], 0xad);
    assert_int_equal(cfg.signature.keys[1][0], 0xd7); /* RFC 8032 TEST 1's key */
    eota_config_free(&cfg);
    load_ok(BASE OTA "      keys: [" KEY_A "]\n      required: false\n      allow_downgrade: true\n", &cfg);
    assert_false(cfg.signature.required);
    assert_true(cfg.signature.allow_downgrade);
    eota_config_free(&cfg);
    load_ok(BASE "ota:\n  - platform: esphome\n", &cfg);
    assert_false(cfg.signature.present);
    eota_config_free(&cfg);
}

static void test_signature_errors(void **state)
{
    (void)state;
    expect_error(BASE OTA "      required: true\n", ":7:7: key 'ota[0].signature.keys': required key missing");
    expect_error(BASE OTA "      keys: []\n", ":7:13: key 'ota[0].signature.keys': expected 1 to 8 public keys, got 0");
    char want[512]; /* a relative name is taken from the config's directory */
    snprintf(want, sizeof want,
             ":7:14: key 'ota[0].signature.keys[0]': '%s/abc' is neither a public key (44 base64 "
             "characters) nor a readable file",
             cfg_tmpdir);
    expect_error(BASE OTA "      keys: [abc]\n", want);
    expect_error(BASE OTA "      keys: [AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=]\n",
                 ":7:14: key 'ota[0].signature.keys[0]': the all-zero key or a key of small order: never trusted");
    expect_error(BASE OTA "      keys: [" KEY_A "]\n      strict: 1\n",
                 ":8:7: key 'ota[0].signature.strict': unknown key; accepted keys: keys, required, "
                 "allow_downgrade");
    expect_error(BASE OTA "      keys: [" KEY_A "]\n  - platform: esphome\n    signature:\n      keys: [" KEY_A
                      "]\n",
                 ":10:7: key 'ota[1].signature': a second 'signature:' (line 7 has one): one ota entry may have it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_signature_keys, cfg_test_setup),
        cmocka_unit_test_setup(test_signature_errors, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
