/*
 * test_config.c: the config reader's entry points (src/app/config/
 * config.c) and its blocks other than ota: and the automations
 * (test_config_ota.c, test_config_actions.c): every documented key lands in
 * the struct, defaults hold, and every error message names
 * FILE:LINE:COLUMN and the key, exactly. Also the SIGHUP reload and the
 * full example of docs/config.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_fixture.h"
#include "eota/status.h"

/* ------------------------------------------------------------------ */
/* Values and defaults                                                 */
/* ------------------------------------------------------------------ */

static void test_minimal_defaults(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE, &cfg);
    assert_string_equal(cfg.path, cfg_path);
    assert_string_equal(cfg.name, "dev");
    assert_null(cfg.friendly_name);
    assert_null(cfg.comment);
    assert_int_equal(cfg.on_boot.count, 0);
    assert_non_null(cfg.profile);
    assert_string_equal(cfg.profile->platform, "host");
    assert_int_equal(cfg.platform_line, 3);
    assert_int_equal(cfg.slot_size, 256u * 1024u * 1024u);
    assert_false(cfg.ota.present);
    assert_int_equal(cfg.ota.port, 8082);
    assert_int_equal(cfg.ota.version, 2);
    assert_false(cfg.ota.has_password);
    assert_null(cfg.ota.password);
    assert_null(cfg.ota.id);
    assert_false(cfg.ota.allow_md5_auth);
    assert_false(cfg.ota_web_server);
    assert_false(cfg.safe_mode.present);
    assert_int_equal(cfg.safe_mode.num_attempts, 10);
    assert_int_equal(cfg.safe_mode.reboot_timeout_ms, 300000);
    assert_int_equal(cfg.safe_mode.boot_is_good_after_ms, 60000);
    assert_false(cfg.safe_mode.disabled);
    assert_false(cfg.app.present);
    assert_int_equal(cfg.app.stop_timeout_ms, 5000);
    assert_false(cfg.simulate.present);
    assert_int_equal(cfg.simulate.fail_at, EOTA_SIM_FAIL_NONE);
    assert_int_equal(cfg.simulate.flash_write_speed, 0);
    assert_int_equal(cfg.log_level, EOTA_CONFIG_LEVEL_DEBUG);
    assert_false(cfg.web_server.present);
    assert_int_equal(cfg.web_server.port, 8080); /* host: 8080; chips: 80 */
    eota_config_free(&cfg);
    assert_null(cfg.name);
    eota_config_free(&cfg); /* twice is harmless */
}

static void test_esphome_block(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok("esphome:\n"
            "  name: kitchen-light_2\n"
            "  friendly_name: Kitchen Light\n"
            "  comment: over the sink\n"
            "  area: Kitchen\n"
            "  min_version: 2024.6.0\n"
            "  name_add_mac_suffix: false\n"
            "  project:\n"
            "    name: acme.light\n"
            "    version: \"1.0\"\n"
            "  build_path: build/kitchen\n"
            "  platformio_options:\n"
            "    upload_speed: 115200\n"
            "host:\n",
            &cfg);
    assert_string_equal(cfg.name, "kitchen-light_2");
    assert_string_equal(cfg.friendly_name, "Kitchen Light");
    assert_string_equal(cfg.comment, "over the sink");
    eota_config_free(&cfg);
}

static void test_esp32_block(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok("esphome:\n  name: dev\n"
            "esp32:\n"
            "  board: esp32-c3-devkitm-1\n"
            "  variant: esp32c3\n"
            "  flash_size: 8MB\n"
            "  cpu_frequency: 160MHZ\n"
            "  partitions: partitions.csv\n"
            "  framework:\n"
            "    type: esp-idf\n"
            "    version: 5.1.2\n"
            "    source: https://example.invalid/idf.zip\n"
            "    platform_version: 6.5.0\n"
            "    release: v5.1\n"
            "    log_level: INFO\n"
            "    sdkconfig_options:\n"
            "      CONFIG_FOO: y\n"
            "    advanced:\n"
            "      ignore_efuse_mac_crc: true\n"
            "    components: []\n",
            &cfg);
    assert_string_equal(cfg.profile->platform, "esp32");
    assert_string_equal(cfg.board, "esp32-c3-devkitm-1");
    assert_string_equal(cfg.variant, "esp32c3");
    assert_string_equal(cfg.flash_size, "8MB");
    assert_string_equal(cfg.framework_type, "esp-idf");
    assert_string_equal(cfg.framework_version, "5.1.2");
    assert_int_equal(cfg.ota.port, 3232);
    eota_config_free(&cfg);
}

static void test_other_platform_blocks(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok("esphome:\n  name: dev\n"
            "esp8266:\n"
            "  board: d1_mini\n"
            "  framework:\n"
            "    version: recommended\n"
            "    source: ~/arduino\n"
            "    platform_version: 4.2.1\n"
            "  restore_from_flash: true\n"
            "  early_pin_init: false\n"
            "  board_flash_mode: dout\n"
            "  enable_serial: yes\n"
            "  enable_serial1: off\n",
            &cfg);
    assert_string_equal(cfg.profile->platform, "esp8266");
    assert_string_equal(cfg.board, "d1_mini");
    assert_string_equal(cfg.framework_version, "recommended");
    assert_null(cfg.framework_type);
    eota_config_free(&cfg);

    load_ok("esphome:\n  name: dev\n"
            "rp2040:\n"
            "  board: rpipicow\n"
            "  flash_size: 2MB\n"
            "  framework:\n"
            "    version: 3.9.4\n"
            "  watchdog_timeout: 8s\n",
            &cfg);
    assert_string_equal(cfg.board, "rpipicow");
    assert_string_equal(cfg.flash_size, "2MB");
    assert_string_equal(cfg.framework_version, "3.9.4");
    eota_config_free(&cfg);

    static const char *const lt[] = {"bk72xx", "rtl87xx", "ln882x"};
    for (size_t i = 0; i < 3; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml,
                 "esphome:\n  name: dev\n"
                 "%s:\n"
                 "  board: generic-board\n"
                 "  family: FAM\n"
                 "  framework:\n"
                 "    version: latest\n"
                 "    source: here\n"
                 "    loglevel: warn\n"
                 "    debug: [wifi, ota]\n"
                 "    sdk_silent: all\n"
                 "    uart_port: 2\n"
                 "    gpio_recover: false\n"
                 "    auto_download_reboot: true\n"
                 "    options:\n"
                 "      LT_X: 1\n",
                 lt[i]);
        load_ok(yaml, &cfg);
        assert_string_equal(cfg.profile->platform, lt[i]);
        assert_string_equal(cfg.board, "generic-board");
        assert_string_equal(cfg.framework_version, "latest");
        eota_config_free(&cfg);
    }

    load_ok("esphome:\n  name: dev\nhost:\n  mac_address: \"06:35:69:ab:f6:79\"\n", &cfg);
    assert_string_equal(cfg.profile->platform, "host");
    eota_config_free(&cfg);
}

static void test_safe_mode(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "safe_mode:\n"
                 "  id: sm\n"
                 "  num_attempts: 3\n"
                 "  reboot_timeout: 1.5min\n"
                 "  boot_is_good_after: 30s\n"
                 "  disabled: true\n"
                 "  on_safe_mode:\n"
                 "    - logger.log: \"entering safe mode\"\n"
                 "    - shell: {command: \"wall safe mode\"}\n",
            &cfg);
    eota_config_safe_mode *s = &cfg.safe_mode;
    assert_true(s->present);
    assert_string_equal(s->id, "sm");
    assert_int_equal(s->num_attempts, 3);
    assert_int_equal(s->reboot_timeout_ms, 90000);
    assert_int_equal(s->boot_is_good_after_ms, 30000);
    assert_true(s->disabled);
    assert_int_equal(s->on_safe_mode.count, 2);
    assert_string_equal(s->on_safe_mode.actions[1].command, "wall safe mode");
    eota_config_free(&cfg);

    load_ok(BASE "safe_mode:\n", &cfg);
    assert_true(cfg.safe_mode.present);
    assert_int_equal(cfg.safe_mode.num_attempts, 10);
    assert_int_equal(cfg.safe_mode.reboot_timeout_ms, 300000);
    assert_int_equal(cfg.safe_mode.boot_is_good_after_ms, 60000);
    eota_config_free(&cfg);

    expect_error(BASE "safe_mode:\n  num_attempts: 0\n",
                 ":5:17: key 'safe_mode.num_attempts': expected an integer from 1 to 255, got "
                 "'0'");
    expect_error(BASE "safe_mode:\n  reboot_timeout: 5\n",
                 ":5:19: key 'safe_mode.reboot_timeout': expected a time period such as "
                 "'30s', '5min' or '100ms', got '5' (a bare number has no unit; did you mean "
                 "'5s'?)");
    expect_error(BASE "safe_mode:\n  boot_is_good_after: 1 fortnight\n",
                 ":5:23: key 'safe_mode.boot_is_good_after': expected a time period such as "
                 "'30s', '5min' or '100ms', got '1 fortnight' (unknown time unit (use us, ms, "
                 "s, min, h or d))");
    expect_error(BASE "safe_mode:\n  boot_is_good_after: 1.5ms\n",
                 ":5:23: key 'safe_mode.boot_is_good_after': expected a time period such as "
                 "'30s', '5min' or '100ms', got '1.5ms' (the time period is finer than a "
                 "millisecond)");
    expect_error(BASE "safe_mode:\n  disabled: maybe\n",
                 ":5:13: key 'safe_mode.disabled': expected a boolean (true or false), got "
                 "'maybe'");
}

static void test_mdns(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE, &cfg);
    assert_false(cfg.mdns.present);
    assert_false(cfg.mdns.disabled);
    eota_config_free(&cfg);
    load_ok(BASE "mdns:\n  disabled: true\n  services:\n    - service: _x\n      protocol: _tcp\n      port: 1\n", &cfg);
    assert_true(cfg.mdns.present);
    assert_true(cfg.mdns.disabled);
    eota_config_free(&cfg);
    expect_error(BASE "mdns:\n  disabled: maybe\n",
                 ":5:13: key 'mdns.disabled': expected a boolean (true or false), got 'maybe'");
    expect_error(BASE "mdns:\n  backend: avahi\n",
                 ":5:3: key 'mdns.backend': unknown key; accepted keys: disabled, services");
}

static void test_app(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "app:\n"
                 "  command: [\"/usr/bin/env\", \"{image}\", \"--flag\", \"\"]\n"
                 "  stop_timeout: 10s\n"
                 "  env:\n"
                 "    MODE: production\n"
                 "    LEVEL: 3\n"
                 "    _EMPTY: \"\"\n",
            &cfg);
    eota_app_config *a = &cfg.app;
    assert_true(a->present);
    assert_int_equal(a->argc, 4);
    assert_string_equal(a->argv[0], "/usr/bin/env");
    assert_string_equal(a->argv[1], "{image}");
    assert_string_equal(a->argv[2], "--flag");
    assert_string_equal(a->argv[3], "");
    assert_null(a->argv[4]);
    assert_int_equal(a->stop_timeout_ms, 10000);
    assert_int_equal(a->nenv, 3);
    assert_string_equal(a->env[0], "MODE=production");
    assert_string_equal(a->env[1], "LEVEL=3");
    assert_string_equal(a->env[2], "_EMPTY=");
    assert_null(a->env[3]);
    eota_config_free(&cfg);

    load_ok(BASE "app:\n  command:\n    - ./myapp\n", &cfg);
    assert_int_equal(cfg.app.argc, 1);
    assert_int_equal(cfg.app.stop_timeout_ms, 5000);
    assert_null(cfg.app.env);
    eota_config_free(&cfg);

    expect_error(BASE "app:\n  command: \"/usr/bin/myapp --serve\"\n",
                 ":5:12: key 'app.command': expected a non-empty list of strings such as "
                 "[\"/usr/bin/myapp\", \"{image}\"] (one string is not split: give each "
                 "argument as a list item), got '/usr/bin/myapp --serve'");
    expect_error(BASE "app:\n  command: []\n",
                 ":5:12: key 'app.command': expected a non-empty list of strings such as "
                 "[\"/usr/bin/myapp\", \"{image}\"] (one string is not split: give each "
                 "argument as a list item), got an empty list");
    expect_error(BASE "app:\n  stop_timeout: 1s\n",
                 ":5:3: key 'app.command': required key missing");
    expect_error(BASE "app:\n  command: [a, [b]]\n",
                 ":5:16: key 'app.command[1]': expected a string, got a list");
    expect_error(BASE "app:\n  command: [\"\"]\n",
                 ":5:13: key 'app.command[0]': expected a non-empty string, got ''");
    expect_error(BASE "app:\n  command: [a]\n  env:\n    BAD-NAME: 1\n",
                 ":7:5: key 'app.env': expected an environment variable name (letters, "
                 "digits, '_'), got 'BAD-NAME'");
    expect_error(BASE "app:\n  command: [a]\n  env:\n    A: 1\n    A: 2\n",
                 ":8:5: key 'app.env.A': duplicate key (first given at line 7)");
    expect_error(BASE "app:\n  command: [a]\n  env: [A=1]\n",
                 ":6:8: key 'app.env': expected a mapping of NAME: value, got a list");
}

static void test_simulate(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "simulate:\n"
                 "  flash_write_speed: 300KB/s\n"
                 "  fail_at: write\n"
                 "  fail_code: 0x8B\n"
                 "  fail_after_bytes: 65536\n"
                 "  slot_size: 2MiB\n",
            &cfg);
    eota_simulate_config *s = &cfg.simulate;
    assert_true(s->present);
    assert_int_equal(s->flash_write_speed, 300000);
    assert_int_equal(s->fail_at, EOTA_SIM_FAIL_WRITE);
    assert_int_equal(s->fail_code, 0x8B);
    assert_true(s->has_fail_after_bytes);
    assert_int_equal(s->fail_after_bytes, 65536);
    assert_int_equal(s->slot_size, 2097152);
    assert_int_equal(cfg.slot_size, 2097152);
    eota_config_free(&cfg);

    static const struct {
        const char *speed;
        uint64_t bps;
    } speeds[] = {{"1234", 1234},       {"1MiB/s", 1048576}, {"1.5MB/s", 1500000},
                  {"64KiB/s", 65536},   {"500B/s", 500},     {"0x1000", 4096},
                  {"2 kB/s", 2000},     {"0", 0},            {"1G/s", 1000000000}};
    for (size_t i = 0; i < sizeof speeds / sizeof speeds[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, BASE "simulate:\n  flash_write_speed: %s\n", speeds[i].speed);
        load_ok(yaml, &cfg);
        assert_int_equal(cfg.simulate.flash_write_speed, speeds[i].bps);
        eota_config_free(&cfg);
    }

    /* the default code of each stage */
    static const struct {
        const char *stage;
        eota_sim_fail_at at;
        uint8_t code;
    } stages[] = {{"prepare", EOTA_SIM_FAIL_PREPARE, 0x81},
                  {"write", EOTA_SIM_FAIL_WRITE, 0x83},
                  {"end", EOTA_SIM_FAIL_END, 0x84}};
    for (size_t i = 0; i < 3; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, BASE "simulate:\n  fail_at: %s\n", stages[i].stage);
        load_ok(yaml, &cfg);
        assert_int_equal(cfg.simulate.fail_at, stages[i].at);
        assert_int_equal(cfg.simulate.fail_code, stages[i].code);
        assert_false(cfg.simulate.has_fail_after_bytes);
        eota_config_free(&cfg);
    }

    expect_error(BASE "simulate:\n  fail_code: 0x83\n",
                 ":5:14: key 'simulate.fail_code': needs 'fail_at:' (prepare, write or end) "
                 "in the same block");
    expect_error(BASE "simulate:\n  fail_at: end\n  fail_code: 0x20\n",
                 ":6:14: key 'simulate.fail_code': expected an integer from 128 to 255, got "
                 "'0x20'");
    expect_error(BASE "simulate:\n  fail_at: flash\n",
                 ":5:12: key 'simulate.fail_at': expected one of prepare, write, end, got "
                 "'flash'");
    expect_error(BASE "simulate:\n  fail_at: prepare\n  fail_after_bytes: 10\n",
                 ":6:21: key 'simulate.fail_after_bytes': needs 'fail_at: write'");
    expect_error(BASE "simulate:\n  flash_write_speed: fast\n",
                 ":5:22: key 'simulate.flash_write_speed': expected a speed in bytes per "
                 "second such as 300000, '300KB/s' or '1MiB/s', got 'fast'");
    expect_error(BASE "simulate:\n  slot_size: 1MiB/s\n",
                 ":5:14: key 'simulate.slot_size': expected a size in bytes such as 1048576, "
                 "'0x100000' or '1MiB', got '1MiB/s'");
    expect_error(BASE "simulate:\n  slot_size: 8GiB\n",
                 ":5:14: key 'simulate.slot_size': expected a value from 1 to 4294967295 "
                 "bytes, got '8GiB'");
}

static void test_logger(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        eota_config_level level;
    } levels[] = {{"NONE", EOTA_CONFIG_LEVEL_NONE},       {"ERROR", EOTA_CONFIG_LEVEL_ERROR},
                  {"WARN", EOTA_CONFIG_LEVEL_WARN},       {"INFO", EOTA_CONFIG_LEVEL_INFO},
                  {"CONFIG", EOTA_CONFIG_LEVEL_INFO},     {"DEBUG", EOTA_CONFIG_LEVEL_DEBUG},
                  {"verbose", EOTA_CONFIG_LEVEL_VERBOSE},
                  {"VERY_VERBOSE", EOTA_CONFIG_LEVEL_VERY_VERBOSE}};
    eota_config cfg;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, BASE "logger:\n  level: %s\n  baud_rate: 0\n",
                 levels[i].name);
        load_ok(yaml, &cfg);
        assert_int_equal(cfg.log_level, levels[i].level);
        eota_config_free(&cfg);
    }
    load_ok(BASE "logger:\n  logs:\n    ota: WARN\n    main: DEBUG\n  hardware_uart: UART0\n",
            &cfg);
    assert_int_equal(cfg.log_level, EOTA_CONFIG_LEVEL_DEBUG);
    eota_config_free(&cfg);
    assert_string_equal(eota_config_level_name(EOTA_CONFIG_LEVEL_VERY_VERBOSE), "VERY_VERBOSE");
    assert_string_equal(eota_config_level_name(EOTA_CONFIG_LEVEL_WARN), "WARN");

    expect_error(BASE "logger:\n  level: LOUD\n",
                 ":5:10: key 'logger.level': expected a log level (NONE, ERROR, WARN, INFO, "
                 "CONFIG, DEBUG, VERBOSE or VERY_VERBOSE), got 'LOUD'");
    expect_error(BASE "logger:\n  logs:\n    ota: LOUD\n",
                 ":6:10: key 'logger.logs.ota': expected a log level (NONE, ERROR, WARN, "
                 "INFO, CONFIG, DEBUG, VERBOSE or VERY_VERBOSE), got 'LOUD'");
}

static void test_web_server(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "web_server:\n"
                 "  port: 8080\n"
                 "  version: 3\n"
                 "  local: true\n"
                 "  log: false\n"
                 "  include_internal: false\n"
                 "  auth:\n"
                 "    username: admin\n"
                 "    password: pw\n"
                 "    type: digest\n",
            &cfg);
    assert_true(cfg.web_server.present);
    assert_int_equal(cfg.web_server.port, 8080);
    assert_true(cfg.web_server.has_auth);
    assert_string_equal(cfg.web_server.username, "admin");
    assert_string_equal(cfg.web_server.password, "pw");
    assert_int_equal(cfg.web_server.auth_type, EOTA_WEB_AUTH_DIGEST);
    eota_config_free(&cfg);

    load_ok(BASE "web_server:\n  auth:\n    username: a\n    password: b\n", &cfg);
    assert_int_equal(cfg.web_server.port, 8080);
    assert_false(cfg.web_server.has_port);
    assert_int_equal(cfg.web_server.auth_type, EOTA_WEB_AUTH_BASIC);
    eota_config_free(&cfg);
    load_ok("esphome:\n  name: dev\nesp32:\n  board: esp32dev\nweb_server:\n", &cfg);
    assert_int_equal(cfg.web_server.port, 80);
    eota_config_free(&cfg);
    load_ok("esphome:\n  name: dev\nesp8266:\n  board: d1_mini\nweb_server:\n  port: 80\n", &cfg);
    assert_int_equal(cfg.web_server.port, 80);
    assert_true(cfg.web_server.has_port);
    eota_config_free(&cfg);

    expect_error(BASE "web_server:\n  auth:\n    password: b\n",
                 ":6:5: key 'web_server.auth.username': required key missing");
    expect_error(BASE "web_server:\n  port: 70000\n",
                 ":5:9: key 'web_server.port': expected an integer from 1 to 65535, got "
                 "'70000'");
    expect_error(BASE "web_server:\n  auth:\n    username: a\n    password: b\n    type: md5\n",
                 ":8:11: key 'web_server.auth.type': expected one of basic, digest, got 'md5'");
}

static void test_ignored_blocks(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "wifi:\n"
                 "  ssid: home\n"
                 "  password: !secret anything_not_read\n"
                 "api:\n"
                 "  encryption:\n"
                 "    key: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"
                 "captive_portal:\n"
                 "network:\n"
                 "  enable_ipv6: true\n",
            &cfg);
    assert_string_equal(cfg.name, "dev");
    eota_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static void test_structure_errors(void **state)
{
    (void)state;
    expect_error(BASE "sensor:\n  - platform: template\n",
                 ":4:1: key 'sensor': unknown key; accepted keys: esphome, host, esp32, "
                 "esp8266, rp2040, bk72xx, rtl87xx, ln882x, ota, safe_mode, app, simulate, "
                 "logger, web_server, wifi, api, captive_portal, network, mdns, http_request, update");
    expect_error("esphome:\n  name: dev\n",
                 ":1:1: no platform block: add one of host:, esp32:, esp8266:, rp2040:, "
                 "bk72xx:, rtl87xx:, ln882x:");
    expect_error(BASE "esp32:\n  board: x\n",
                 ":4:1: key 'esp32': only one platform block is allowed; 'host' is already "
                 "given at line 3");
    expect_error("host:\nota: []\n",
                 ":1:1: the 'esphome:' block (with 'name:') is missing");
    expect_error("esphome:\n  friendly_name: X\nhost:\n",
                 ":2:3: key 'esphome.name': required key missing");
    expect_error("esphome:\nhost:\n",
                 ":1:9: key 'esphome': expected a mapping with 'name:', got nothing");
    expect_error("esphome: dev\nhost:\n",
                 ":1:10: key 'esphome': expected a mapping, got 'dev'");
    expect_error("esphome:\n  name: My Device\nhost:\n",
                 ":2:9: key 'esphome.name': expected a name of at most 63 lowercase letters, "
                 "digits, '-' and '_', got 'My Device'");
    expect_error("esphome:\n  name: dev\n  name: dev2\nhost:\n",
                 ":3:3: key 'esphome.name': duplicate key (first given at line 2)");
    expect_error("esphome:\n  name: dev\n  on_shutdown: []\nhost:\n",
                 ":3:3: key 'esphome.on_shutdown': unknown key; accepted keys: name, "
                 "friendly_name, comment, area, min_version, name_add_mac_suffix, project, "
                 "build_path, platformio_options, on_boot");
    expect_error("esphome:\n  name: dev\n  project:\n    name: a\n    url: b\nhost:\n",
                 ":5:5: key 'esphome.project.url': unknown key; accepted keys: name, version");
    expect_error("esphome:\n  name: [a, b]\nhost:\n",
                 ":2:9: key 'esphome.name': expected a non-empty string, got a list");
    expect_error("esphome:\n  name: dev\n  name_add_mac_suffix: 2\nhost:\n",
                 ":3:24: key 'esphome.name_add_mac_suffix': expected a boolean (true or false), "
                 "got '2'");
    expect_error(BASE "ota:\n  - platform: esphome\n    port: abc\n",
                 ":6:11: key 'ota[0].port': expected an integer from 1 to 65535, got 'abc'");
    expect_error(BASE "ota:\n  - platform: esphome\n    port: [8266]\n",
                 ":6:11: key 'ota[0].port': expected an integer from 1 to 65535, got a list");
    expect_error(BASE "ota:\n  - platform: esphome\n    port: 0\n",
                 ":6:11: key 'ota[0].port': expected an integer from 1 to 65535, got '0'");
    expect_error(BASE "ota:\n  - platform: esphome\n    port:\n",
                 ":6:10: key 'ota[0].port': expected an integer from 1 to 65535, got nothing");
    expect_error(BASE "ota:\n  - platform: esphome\n    version: 3\n",
                 ":6:14: key 'ota[0].version': expected an integer from 1 to 2, got '3'");
    expect_error(BASE "ota:\n  - platform: esphome\n    password: [a]\n",
                 ":6:15: key 'ota[0].password': expected a string, got a list");
    expect_error(BASE "ota:\n  - platform: esphome\n    prot: 1\n",
                 ":6:5: key 'ota[0].prot': unknown key; accepted keys: platform, password, "
                 "port, id, version, allow_md5_auth, encryption, on_begin, on_progress, on_end, on_abort, "
                 "on_error, on_state_change, signature, progress_floor, progress_window");
    expect_error(BASE "ota:\n  - platform: esphome\n    reboot_timeout: 5min\n",
                 ":6:5: key 'ota[0].reboot_timeout': unknown key (moved to the 'safe_mode:' "
                 "block in ESPHome 2024.6); accepted keys: platform, password, port, id, "
                 "version, allow_md5_auth, encryption, on_begin, on_progress, on_end, on_abort, on_error, "
                 "on_state_change, signature, progress_floor, progress_window");
    expect_error(BASE "ota:\n  password: x\n",
                 ":5:3: key 'ota': expected a list of entries such as '- platform: esphome' "
                 "(the form without a list was removed in ESPHome 2024.6)");
    expect_error(BASE "ota:\n",
                 ":4:5: key 'ota': expected a list of entries such as '- platform: esphome', "
                 "got nothing");
    expect_error(BASE "ota:\n  - port: 1\n",
                 ":5:5: key 'ota[0].platform': required key missing");
    expect_error(BASE "ota:\n  - platform: sftp\n",
                 ":5:15: key 'ota[0].platform': expected one of esphome, web_server, http_request, got "
                 "'sftp'");
    expect_error(BASE "ota:\n  - esphome\n",
                 ":5:5: key 'ota[0]': expected a mapping with 'platform:', got 'esphome'");
    expect_error(BASE "ota:\n  - platform: web_server\n    port: 80\n",
                 ":6:5: key 'ota[0].port': unknown key; accepted keys: platform");
    expect_error(BASE "ota:\n  - platform: esphome\n    allow_md5_auth: sometimes\n",
                 ":6:21: key 'ota[0].allow_md5_auth': expected a boolean (true or false), got "
                 "'sometimes'");
    expect_error("esphome:\n  name: dev\nesp32:\n  board: x\n  flash: 4MB\n",
                 ":5:3: key 'esp32.flash': unknown key; accepted keys: board, variant, "
                 "flash_size, cpu_frequency, partitions, framework");
    expect_error("esphome:\n  name: dev\nesp32:\n  framework:\n    type: zephyr\n",
                 ":5:11: key 'esp32.framework.type': expected one of arduino, esp-idf, "
                 "esp_idf, got 'zephyr'");
    expect_error("esphome:\n  name: dev\nesp32:\n  framework: arduino\n",
                 ":4:14: key 'esp32.framework': expected a mapping, got 'arduino'");
    expect_error("esphome:\n  name: dev\nesp8266:\n  board_flash_mode: fast\n",
                 ":4:21: key 'esp8266.board_flash_mode': expected one of qio, qout, dio, dout, "
                 "got 'fast'");
    expect_error("esphome:\n  name: dev\nesp8266:\n  restore_from_flash: [true]\n",
                 ":4:23: key 'esp8266.restore_from_flash': expected a boolean (true or false), "
                 "got a list");
    expect_error("esphome:\n  name: dev\nrp2040:\n  watchdog_timeout: 8\n",
                 ":4:21: key 'rp2040.watchdog_timeout': expected a time period such as '30s', "
                 "'5min' or '100ms', got '8' (a bare number has no unit; did you mean '8s'?)");
    expect_error("esphome:\n  name: dev\nbk72xx:\n  framework:\n    uart_port: x\n",
                 ":5:16: key 'bk72xx.framework.uart_port': expected an integer from 0 to "
                 "2147483647, got 'x'");
    expect_error("esphome:\n  name: dev\nhost:\n  board: x\n",
                 ":4:3: key 'host.board': unknown key; accepted keys: mac_address, gzip");
    expect_error("esphome:\n  name: dev\nesp32:\n  framework:\n    advanced: 1\n",
                 ":5:15: key 'esp32.framework.advanced': expected a mapping, got '1'");
    expect_error("esphome:\n  name: dev\nesp32:\n  framework:\n    components: {}\n",
                 ":5:17: key 'esp32.framework.components': expected a list, got a mapping");
    expect_error(BASE "safe_mode: [1]\n",
                 ":4:12: key 'safe_mode': expected a mapping, got a list");
    expect_error(BASE "\"a\\e[31m\": 1\n",
                 ":4:1: key 'a?[31m': unknown key; accepted keys: esphome, host, esp32, "
                 "esp8266, rp2040, bk72xx, rtl87xx, ln882x, ota, safe_mode, app, simulate, "
                 "logger, web_server, wifi, api, captive_portal, network, mdns, http_request, update");
    expect_error(BASE "{a: 1}: x\n",
                 ":4:1: a key must be a plain name, got a mapping");
}

/* The full example of docs/config.md loads, with its secrets.yaml. */
static char *doc_block(const char *doc, const char *after, int nth)
{
    const char *p = strstr(doc, after);
    assert_non_null(p);
    for (int i = 0; i <= nth; i++) {
        p = strstr(p, "```yaml\n");
        assert_non_null(p);
        p += 8;
    }
    const char *end = strstr(p, "```\n");
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

static void test_docs_example(void **state)
{
    (void)state;
    FILE *f = fopen(EOTA_SOURCE_DIR "/docs/config.md", "rb");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *yaml = doc_block(doc, "## A full example", 0);
    char *secrets = doc_block(doc, "## A full example", 1);
    write_secrets(secrets);
    eota_config cfg;
    load_ok(yaml, &cfg);
    free(yaml);
    free(secrets);
    assert_string_equal(cfg.name, "garage-door");
    assert_string_equal(cfg.profile->platform, "esp32");
    assert_string_equal(cfg.ota.password, "correct horse battery staple");
    assert_int_equal(cfg.ota.port, 3232);
    assert_true(cfg.ota_web_server);
    assert_int_equal(cfg.on_boot.count, 2);
    assert_string_equal(cfg.on_boot.actions[0].password, "correct horse battery staple");
    assert_int_equal(cfg.safe_mode.num_attempts, 5);
    assert_int_equal(cfg.safe_mode.reboot_timeout_ms, 600000);
    assert_int_equal(cfg.app.argc, 3);
    assert_int_equal(cfg.simulate.flash_write_speed, 300000);
    assert_string_equal(cfg.web_server.password, "another one");
    eota_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_minimal_defaults, cfg_test_setup),
        cmocka_unit_test_setup(test_esphome_block, cfg_test_setup),
        cmocka_unit_test_setup(test_esp32_block, cfg_test_setup),
        cmocka_unit_test_setup(test_other_platform_blocks, cfg_test_setup),
        cmocka_unit_test_setup(test_safe_mode, cfg_test_setup),
        cmocka_unit_test_setup(test_app, cfg_test_setup),
        cmocka_unit_test_setup(test_simulate, cfg_test_setup),
        cmocka_unit_test_setup(test_logger, cfg_test_setup),
        cmocka_unit_test_setup(test_web_server, cfg_test_setup),
        cmocka_unit_test_setup(test_mdns, cfg_test_setup),
        cmocka_unit_test_setup(test_ignored_blocks, cfg_test_setup),
        cmocka_unit_test_setup(test_structure_errors, cfg_test_setup),
        cmocka_unit_test_setup(test_docs_example, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
