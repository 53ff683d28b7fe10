/*
 * test_profile.c: the platform profiles (src/app/config/profile.c): every
 * row's values, the lookup, and that a config with a platform block picks
 * its row and the defaults that come from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

static void test_profiles(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint16_t port;
        uint32_t slot;
        bool gzip;
        uint8_t too_big;
    } want[] = {
        {"host", 8082, 268435456u, false, 0x81},    {"esp32", 3232, 0x1C0000u, false, 0x89},
        {"esp8266", 8266, 1044464u, true, 0x88},   {"rp2040", 2040, 1048576u, false, 0x8C},
        {"bk72xx", 8892, 0x119000u, false, 0x81},  {"rtl87xx", 8892, 0x75000u, false, 0x81},
        {"ln882x", 8820, 0x12C000u, false, 0x81},
    };
    size_t n = 0;
    const eota_profile *t = eota_profile_table(&n);
    assert_non_null(t);
    assert_int_equal(n, 7);
    for (size_t i = 0; i < 7; i++) {
        const eota_profile *p = eota_profile_find(want[i].name);
        assert_non_null(p);
        assert_ptr_equal(p, &t[i]);
        assert_string_equal(p->platform, want[i].name);
        assert_int_equal(p->port, want[i].port);
        assert_int_equal(p->slot_size, want[i].slot);
        assert_int_equal(p->gzip, want[i].gzip);
        assert_int_equal(p->too_big_code, want[i].too_big);

        /* and a config with that block (empty) picks it */
        char yaml[256];
        eota_config cfg;
        snprintf(yaml, sizeof yaml, "esphome:\n  name: dev\n%s:\nota:\n  - platform: esphome\n",
                 want[i].name);
        load_ok(yaml, &cfg);
        assert_ptr_equal(cfg.profile, p);
        assert_true(cfg.ota.present);
        assert_int_equal(cfg.ota.port, want[i].port);
        assert_int_equal(cfg.slot_size, want[i].slot);
        assert_int_equal(cfg.gzip, want[i].gzip);
        eota_config_free(&cfg);
    }
    assert_null(eota_profile_find("esp31"));
    assert_null(eota_profile_find(NULL));
}

/* What code used to test with strcmp(platform, "host"): the Linux device
 * acknowledges on arrival and serves the web on 8080; chips acknowledge
 * once written and serve on 80. */
static void test_profile_host_differences(void **state)
{
    (void)state;
    size_t n = 0;
    const eota_profile *t = eota_profile_table(&n);
    for (size_t i = 0; i < n; i++) {
        bool host = strcmp(t[i].platform, "host") == 0;
        assert_int_equal(t[i].ack_after_write, !host);
        assert_int_equal(t[i].default_web_port, host ? 8080 : 80);

        char yaml[256];
        eota_config cfg;
        snprintf(yaml, sizeof yaml, "esphome:\n  name: dev\n%s:\nweb_server:\n", t[i].platform);
        load_ok(yaml, &cfg);
        assert_int_equal(cfg.web_server.port, t[i].default_web_port);
        eota_config_free(&cfg);
    }
}

/* host: gzip: turns the offer on (it is off by default: stock uploaders
 * compress every image when offered); a chip's is the chip's. */
static void test_host_gzip_key(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok("esphome:\n  name: dev\nhost:\n  gzip: true\nota:\n  - platform: esphome\n", &cfg);
    assert_true(cfg.gzip);
    eota_config_free(&cfg);
    load_ok("esphome:\n  name: dev\nesp8266:\n  board: d1_mini\n", &cfg);
    assert_true(cfg.gzip);
    eota_config_free(&cfg);
    expect_error("esphome:\n  name: dev\nhost:\n  gzip: maybe\n",
                 ":4:9: key 'host.gzip': expected a boolean (true or false), got 'maybe'");
    expect_error("esphome:\n  name: dev\nesp32:\n  board: esp32dev\n  gzip: true\n",
                 ":5:3: key 'esp32.gzip': unknown key; accepted keys: board, variant, flash_size, "
                 "cpu_frequency, partitions, framework");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_profiles, cfg_test_setup),
        cmocka_unit_test_setup(test_profile_host_differences, cfg_test_setup),
        cmocka_unit_test_setup(test_host_gzip_key, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
