/*
 * test_pull.c: the parts of pull updates that need no network
 * (src/app/pull, src/app/config/http_request.c, update.c): semantic
 * version order, manifests read by ESPHome's rules with each way they can
 * be wrong, eota's ota.signature and the decisions it drives (trust.c),
 * the TXT items of the status, the installed-version record, and the
 * config keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"
#include "pull/internal.h"

static void test_semver_order(void **state)
{
    (void)state;
    static const char *const ascending[] = {"0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                            "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
                                            "1.0.0", "v1.0.1", "1.2", "1.10.0", "2024.6.1", "2024.12.0"};
    size_t n = sizeof ascending / sizeof ascending[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            assert_int_equal(pull_semver_cmp(ascending[i], ascending[j]), i < j ? -1 : i > j);
    assert_int_equal(pull_semver_cmp("1.0.0+build.5", "1.0.0"), 0);
    assert_int_equal(pull_semver_cmp("1.0.0", "1.0"), 0);
    assert_int_equal(pull_semver_cmp("banana", "1.0.0"), -2);
    assert_int_equal(pull_semver_cmp("1.0.0", "1.0.0-"), -2);
    assert_int_equal(pull_semver_cmp("1.0.0 x", "1.0.0"), -2);
}

#define BASEURL "http://h.example:8080/fw/manifest.json"
#define MD5 "0123456789abcdef0123456789abcdef"

static int parse(const char *json, pull_release *rel, char *err)
{
    return pull_manifest_parse(json, strlen(json), BASEURL, "HOST", rel, err, 600);
}

static void test_manifest_paths(void **state)
{
    (void)state;
    pull_release rel;
    char err[600];
    static const char *const paths[][2] = {
        {"fw.bin", "http://h.example:8080/fw/fw.bin"},
        {"/other/fw.bin", "http://h.example:8080/other/fw.bin"},
        {"https://cdn.example/a.bin", "https://cdn.example/a.bin"}};
    for (size_t i = 0; i < 3; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"name\":\"n\",\"version\":\"1.2.3\",\"builds\":[{\"chipFamily\":\"ESP32\",\"ota\":{}},"
                 "{\"chipFamily\":\"HOST\",\"ota\":{\"path\":\"%s\",\"md5\":\"" MD5 "\",\"size\":42}}]}",
                 paths[i][0]);
        assert_int_equal(parse(json, &rel, err), 0);
        assert_string_equal(rel.url, paths[i][1]);
    }
    assert_string_equal(rel.version, "1.2.3");
    assert_string_equal(rel.md5, MD5);
    assert_int_equal(rel.size, 42);
    assert_string_equal(rel.sha256, "");
}

static void test_manifest_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"<html>", "the manifest is not JSON (at byte 0 of 6)"},
        {"[1]", "the manifest lacks an object at its top"},
        {"{\"builds\":[]}", "the manifest lacks 'version' (a string)"},
        {"{\"version\":\"1\"}", "the manifest lacks 'builds' (a list)"},
        {"{\"version\":\"1 2\",\"builds\":[]}",
         "the manifest's version is empty, too long or has spaces or control characters"},
        {"{\"version\":\"1\",\"builds\":[{\"chipFamily\":\"ESP32\"}]}",
         "no build for chip family HOST in the manifest (it has: ESP32)"},
        {"{\"version\":\"1\",\"builds\":[{\"chipFamily\":\"HOST\"}]}",
         "the build for HOST lacks 'ota' (an object with path and md5)"},
        {"{\"version\":\"1\",\"builds\":[{\"chipFamily\":\"HOST\",\"ota\":{\"md5\":\"" MD5 "\"}}]}",
         "the build's 'ota' lacks 'path' (a string)"},
        {"{\"version\":\"1\",\"builds\":[{\"chipFamily\":\"HOST\",\"ota\":{\"path\":\"a\",\"md5\":\"xyz\"}}]}",
         "the build's ota.md5 is not 32 hex digits"},
        {"{\"version\":\"1\",\"builds\":[{\"chipFamily\":\"HOST\",\"ota\":{\"path\":\"a\",\"md5\":\"" MD5
         "\",\"sha256\":\"12\"}}]}",
         "the build's ota.sha256 is not 64 hex digits"},
        {"{\"version\":\"1\",\"builds\":[{\"chipFamily\":\"HOST\",\"ota\":{\"path\":\"a\",\"md5\":\"" MD5
         "\",\"size\":\"big\"}}]}",
         "the build's ota.size is not a number of bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pull_release rel;
        char err[600] = "";
        assert_int_equal(parse(cases[i][0], &rel, err), -1);
        assert_string_equal(err, cases[i][1]);
    }
}

#define SIGNED(sig)                                                                                     \
    "{\"version\":\"2.0.0\",\"builds\":[{\"chipFamily\":\"HOST\",\"ota\":{\"path\":\"a\",\"md5\":\"" MD5 \
    "\",\"signature\":" sig "}}]}"
#define ID_A "0123456789abcdef"
#define ID_B "fedcba9876543210"

static void test_manifest_signature(void **state)
{
    (void)state;
    pull_release rel;
    char err[600] = "";
    assert_int_equal(parse(SIGNED("{\"key_ids\":[\"" ID_A "\",\"" ID_B "\"],\"version\":\"2.0.0\","
                                  "\"security_counter\":5,\"payload_size\":1234}"),
                           &rel, err),
                     0);
    assert_true(rel.sig.present);
    assert_int_equal(rel.sig.nkeys, 2);
    assert_string_equal(rel.sig.key_ids[1], ID_B);
    assert_string_equal(rel.sig.version, "2.0.0");
    assert_int_equal(rel.sig.counter, 5);
    assert_int_equal(rel.sig.payload_size, 1234);
    static const char *const bad[][2] = {
        {SIGNED("[]"), "is not an object"},
        {SIGNED("{\"key_ids\":[],\"version\":\"1\",\"security_counter\":0,\"payload_size\":1}"), "lacks key_ids"},
        {SIGNED("{\"key_ids\":[\"xyz\"],\"version\":\"1\",\"security_counter\":0,\"payload_size\":1}"),
         "has a key id that is not 16 hex digits"},
        {SIGNED("{\"key_ids\":[\"" ID_A "\"],\"security_counter\":0,\"payload_size\":1}"), "lacks version"},
        {SIGNED("{\"key_ids\":[\"" ID_A "\"],\"version\":\"1\",\"security_counter\":-1,\"payload_size\":1}"),
         "lacks security_counter"},
        {SIGNED("{\"key_ids\":[\"" ID_A "\"],\"version\":\"1\",\"security_counter\":0}"), "lacks payload_size"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i][0], &rel, err), -1);
        assert_non_null(strstr(err, "the build's ota.signature "));
        assert_non_null(strstr(err, bad[i][1]));
    }
}

/* The refusal of rel (NULL: downloaded) for a device with these settings. */
static const char *refusal(pull_release *rel, int present, int required, int allow_downgrade,
                           const eota_sig_running *run, char *buf)
{
    eota_config cfg;
    char ids[2][PULL_KEY_ID_LEN + 1] = {ID_A, "1111111111111111"};
    memset(&cfg, 0, sizeof cfg);
    cfg.signature.present = present;
    cfg.signature.required = required;
    cfg.signature.allow_downgrade = allow_downgrade;
    return pull_trust_refusal(&cfg, rel, ids, 2, run, buf, 400);
}

static void test_trust_decisions(void **state)
{
    (void)state;
    char buf[400];
    pull_release rel;
    eota_sig_running none = {0}, run = {1, 5, 3, "1.5.0"};
    memset(&rel, 0, sizeof rel);
    assert_null(refusal(&rel, 0, 1, 0, &none, buf));  /* no signature: configured: not judged */
    assert_null(refusal(&rel, 1, 0, 0, &none, buf));  /* unsigned, not required */
    assert_non_null(strstr(refusal(&rel, 1, 1, 0, &none, buf), "has no signature data"));
    rel.sig = (pull_signature){1, 1, {ID_B}, "2.0.0", 3, 100};
    assert_string_equal(refusal(&rel, 1, 1, 0, &none, buf), "signed by key " ID_B ", none of them trusted here");
    rel.sig = (pull_signature){1, 2, {ID_B, ID_A}, "2.0.0", 3, 100};
    assert_null(refusal(&rel, 1, 1, 0, &run, buf)); /* counter equal, version higher */
    rel.sig.counter = 2;
    assert_string_equal(refusal(&rel, 1, 1, 1, &run, buf),
                        "its security counter 2 is lower than the running image's 3 (a downgrade)");
    rel.sig.counter = 4;
    snprintf(rel.sig.version, sizeof rel.sig.version, "1.4.9");
    assert_non_null(strstr(refusal(&rel, 1, 1, 0, &run, buf), "signed version 1.4.9 is lower"));
    assert_null(refusal(&rel, 1, 1, 1, &run, buf)); /* allow_downgrade: true takes a lower version */
}

static void test_status_txt(void **state)
{
    (void)state;
    eota_mdns_txt t;
    eota_pull_status s;
    memset(&t, 0, sizeof t);
    eota_pull_status_txt(NULL, &t);
    assert_int_equal(t.n, 0);
    memset(&s, 0, sizeof s);
    eota_pull_status_txt(&s, &t);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.item[0], "pull_checked=never");
    assert_string_equal(t.item[1], "pull_available=unknown");
    assert_string_equal(t.item[2], "pull_error=none");
    s.last_check = 1765000000;
    snprintf(s.available, sizeof s.available, "2.1.0");
    snprintf(s.last_error, sizeof s.last_error,
             "http://h.example/m.json: the server is unreachable (curl: Could not connect to server; "
             "timeout 4500 ms, at most 3 redirects)");
    memset(&t, 0, sizeof t);
    eota_pull_status_txt(&s, &t);
    assert_string_equal(t.item[0], "pull_checked=1765000000");
    assert_string_equal(t.item[1], "pull_available=2.1.0");
    assert_string_equal(t.item[2], "pull_error=the server is unreachable (curl: Could not connect to server; "
                                   "timeout 4500 ms...");
    assert_true(strlen(t.item[2]) == strlen("pull_error=") + 80);
}

static void test_record_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/eota-pull-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pull_record r = {'b', "1.2.3", 1000, 0xdeadbeef}, back;
    pull_record_read(dir, 'b', &back);
    assert_int_equal(back.slot, 0);
    assert_int_equal(pull_record_write(dir, &r), 0);
    pull_record_read(dir, 'a', &back);
    assert_int_equal(back.slot, 0);
    pull_record_read(dir, 'b', &back);
    assert_int_equal(back.slot, 'b');
    assert_string_equal(back.version, "1.2.3");
    assert_int_equal(back.size, 1000);
    assert_int_equal(back.crc, 0xdeadbeef);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

#define PULL_OK                                                                      \
    BASE "ota:\n  - platform: esphome\n  - platform: http_request\n"                 \
         "http_request:\n  timeout: 10s\n  verify_ssl: false\n  useragent: ua/1\n"   \
         "  follow_redirects: false\n  redirect_limit: 7\n"

static void test_config_keys(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(PULL_OK "update:\n  - platform: http_request\n    source: https://x.example/m.json\n"
                    "    update_interval: 1h\n    compare: string\n    chip_family: ESP32-C3\n",
            &cfg);
    assert_true(cfg.ota_http_request);
    assert_int_equal(cfg.http_request.timeout_ms, 10000);
    assert_false(cfg.http_request.verify_ssl);
    assert_string_equal(cfg.http_request.useragent, "ua/1");
    assert_false(cfg.http_request.follow_redirects);
    assert_int_equal(cfg.http_request.redirect_limit, 7);
    assert_true(cfg.update.present);
    assert_string_equal(cfg.update.source, "https://x.example/m.json");
    assert_int_equal(cfg.update.update_interval_ms, 3600000);
    assert_int_equal(cfg.update.compare, EOTA_UPDATE_STRING);
    assert_string_equal(cfg.update.chip_family, "ESP32-C3");
    eota_config_free(&cfg);
    load_ok(BASE "ota:\n  - platform: http_request\nupdate:\n  - platform: http_request\n"
                 "    source: http://x/m.json\n",
            &cfg);
    assert_true(cfg.http_request.verify_ssl);
    assert_int_equal(cfg.update.update_interval_ms, 6 * 3600000);
    assert_int_equal(cfg.update.compare, EOTA_UPDATE_SEMVER);
    eota_config_free(&cfg);
}

#define FLASH_BOOT(keys) "esphome:\n  name: dev\n  on_boot:\n    - ota.http_request.flash:\n" keys "host:\n"

static void test_config_flash_and_trigger(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(FLASH_BOOT("        url: https://h/fw.bin\n        md5_url: https://h/fw.md5\n"
                       "        sha256: " MD5 MD5 "\n")
                "ota:\n  - platform: http_request\nupdate:\n  - platform: http_request\n    source: http://x/m.json\n"
                "    on_update_available:\n      - logger.log: seen\n",
            &cfg);
    assert_int_equal(cfg.on_boot.count, 1);
    const eota_action *a = &cfg.on_boot.actions[0];
    assert_int_equal(a->type, EOTA_ACTION_HTTP_FLASH);
    assert_string_equal(a->url, "https://h/fw.bin");
    assert_string_equal(a->md5_url, "https://h/fw.md5");
    assert_null(a->md5);
    assert_string_equal(a->sha256, MD5 MD5);
    assert_int_equal(cfg.update.on_update_available.count, 1);
    assert_string_equal(cfg.update.on_update_available.actions[0].format, "seen");
    eota_config_free(&cfg);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_error(BASE "update:\n  - platform: http_request\n    source: http://x/m.json\n",
                 ":5:5: key 'update[0]': 'update: - platform: http_request' needs 'ota: - platform: "
                 "http_request' (as in ESPHome)");
    expect_error(BASE "ota:\n  - platform: http_request\nupdate:\n  - platform: http_request\n"
                      "    source: ftp://x/m.json\n",
                 ":8:13: key 'update[0].source': expected an http:// or https:// URL of a manifest.json");
    expect_error(BASE "ota:\n  - platform: http_request\nupdate:\n  - platform: http_request\n",
                 ":7:5: key 'update[0].source': required key missing");
    expect_error(FLASH_BOOT("        url: https://h/fw.bin\n        md5: " MD5 "\n"),
                 ":4:7: key 'esphome.on_boot[0].ota.http_request.flash': ota.http_request.flash needs 'ota: - "
                 "platform: http_request' (as in ESPHome)");
    expect_error(FLASH_BOOT("        url: https://h/fw.bin\n") "ota:\n  - platform: http_request\n",
                 ":5:9: key 'esphome.on_boot[0].ota.http_request.flash': give one of 'md5:' and 'md5_url:' "
                 "(as in ESPHome)");
    expect_error(FLASH_BOOT("        url: ftp://h/fw.bin\n        md5: " MD5 "\n") "ota:\n  - platform: http_request\n",
                 ":5:14: key 'esphome.on_boot[0].ota.http_request.flash.url': expected an http:// or https:// URL");
    expect_error(FLASH_BOOT("        url: https://h/fw.bin\n        md5: abc\n") "ota:\n  - platform: http_request\n",
                 ":6:14: key 'esphome.on_boot[0].ota.http_request.flash.md5': expected 32 hex digits");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semver_order),      cmocka_unit_test(test_manifest_paths),
        cmocka_unit_test(test_manifest_errors),   cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_manifest_signature), cmocka_unit_test(test_trust_decisions),
        cmocka_unit_test(test_status_txt),
        cmocka_unit_test_setup(test_config_keys, cfg_test_setup),
        cmocka_unit_test_setup(test_config_errors, cfg_test_setup),
        cmocka_unit_test_setup(test_config_flash_and_trigger, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
