/*
 * test_config_ota.c: the ota: block (src/app/config/ota.c): every key of a
 * `platform: esphome` entry, the web_server entry, entries merged on one
 * port, and the messages when they do not agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config_fixture.h"

static void test_ota_entry_keys(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "ota:\n"
                 "  - platform: esphome\n"
                 "    id: my_ota\n"
                 "    password: \"p@ss: word\"\n"
                 "    port: 3300\n"
                 "    version: 1\n"
                 "    allow_md5_auth: true\n"
                 "    on_begin:\n"
                 "      logger.log: \"OTA begins\"\n"
                 "    on_progress:\n"
                 "      - logger.log:\n"
                 "          format: \"progress %.1f%%\"\n"
                 "          args: [x]\n"
                 "          level: INFO\n"
                 "          tag: ota\n"
                 "    on_end:\n"
                 "      - shell: \"systemctl restart foo\"\n"
                 "    on_abort:\n"
                 "      - shell:\n"
                 "          command: \"echo aborted >> /tmp/log\"\n"
                 "          timeout: 2s\n"
                 "    on_error:\n"
                 "      then:\n"
                 "        - logger.log: {format: \"error %d\", args: [x], level: ERROR}\n"
                 "    on_state_change:\n"
                 "      - logger.log: {format: \"state %d\", args: [state]}\n"
                 "      - shell: notify-send ota\n",
            &cfg);
    eota_ota_config *o = &cfg.ota;
    assert_true(o->present);
    assert_int_equal(o->line, 5);
    assert_int_equal(o->column, 5);
    assert_string_equal(o->id, "my_ota");
    assert_true(o->has_password);
    assert_string_equal(o->password, "p@ss: word");
    assert_int_equal(o->port, 3300);
    assert_int_equal(o->version, 1);
    assert_true(o->allow_md5_auth);

    assert_int_equal(o->on_begin.count, 1);
    eota_action *a = &o->on_begin.actions[0];
    assert_int_equal(a->type, EOTA_ACTION_LOGGER_LOG);
    assert_string_equal(a->format, "OTA begins");
    assert_int_equal(a->nargs, 0);
    assert_int_equal(a->level, EOTA_CONFIG_LEVEL_DEBUG);
    assert_string_equal(a->tag, "main");

    assert_int_equal(o->on_progress.count, 1);
    a = &o->on_progress.actions[0];
    assert_string_equal(a->format, "progress %.1f%%");
    assert_int_equal(a->nargs, 1);
    assert_string_equal(a->args[0], "x");
    assert_int_equal(a->level, EOTA_CONFIG_LEVEL_INFO);
    assert_string_equal(a->tag, "ota");

    assert_int_equal(o->on_end.count, 1);
    a = &o->on_end.actions[0];
    assert_int_equal(a->type, EOTA_ACTION_SHELL);
    assert_string_equal(a->command, "systemctl restart foo");
    assert_int_equal(a->timeout_ms, 60000);

    assert_int_equal(o->on_abort.count, 1);
    a = &o->on_abort.actions[0];
    assert_string_equal(a->command, "echo aborted >> /tmp/log");
    assert_int_equal(a->timeout_ms, 2000);

    assert_int_equal(o->on_error.count, 1);
    a = &o->on_error.actions[0];
    assert_string_equal(a->format, "error %d");
    assert_int_equal(a->level, EOTA_CONFIG_LEVEL_ERROR);

    assert_int_equal(o->on_state_change.count, 2);
    assert_string_equal(o->on_state_change.actions[0].args[0], "state");
    assert_string_equal(o->on_state_change.actions[1].command, "notify-send ota");
    assert_int_equal(o->on_state_change.actions[1].line, 30);
    eota_config_free(&cfg);
}


static void test_ota_web_server_and_empty_password(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "ota:\n"
                 "  - platform: web_server\n"
                 "  - platform: esphome\n"
                 "    password: \"\"\n",
            &cfg);
    assert_true(cfg.ota_web_server);
    assert_int_equal(cfg.ota_web_server_line, 5);
    assert_true(cfg.ota.present);
    assert_true(cfg.ota.has_password);
    assert_string_equal(cfg.ota.password, "");
    eota_config_free(&cfg);

    load_ok(BASE "ota: []\n", &cfg);
    assert_false(cfg.ota.present);
    assert_false(cfg.ota_web_server);
    eota_config_free(&cfg);
}


static void test_ota_merge(void **state)
{
    (void)state;
    eota_config cfg;
    load_ok(BASE "ota:\n"
                 "  - platform: esphome\n"
                 "    on_begin:\n"
                 "      - logger.log: first\n"
                 "  - platform: web_server\n"
                 "  - platform: esphome\n"
                 "    port: 8082\n"
                 "    id: main_ota\n"
                 "    password: secret1\n"
                 "    on_begin:\n"
                 "      - logger.log: second\n"
                 "      - shell: third\n"
                 "    on_end:\n"
                 "      - logger.log: done\n"
                 "  - platform: esphome\n"
                 "    password: secret1\n"
                 "    on_begin:\n"
                 "      logger.log: fourth\n",
            &cfg);
    eota_ota_config *o = &cfg.ota;
    assert_true(o->present);
    assert_int_equal(o->line, 5);
    assert_int_equal(o->port, 8082);
    assert_string_equal(o->id, "main_ota");
    assert_string_equal(o->password, "secret1");
    assert_int_equal(o->on_begin.count, 4);
    assert_string_equal(o->on_begin.actions[0].format, "first");
    assert_string_equal(o->on_begin.actions[1].format, "second");
    assert_string_equal(o->on_begin.actions[2].command, "third");
    assert_string_equal(o->on_begin.actions[3].format, "fourth");
    assert_int_equal(o->on_end.count, 1);
    assert_true(cfg.ota_web_server);
    eota_config_free(&cfg);
}


static void test_ota_merge_errors(void **state)
{
    (void)state;
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "  - platform: esphome\n"
                      "    port: 3232\n",
                 ":7:11: key 'ota[1].port': port 3232 differs from port 8082 of ota[0] at "
                 "line 5: every 'platform: esphome' entry must use the same port");
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "    port: 1000\n"
                      "  - platform: esphome\n",
                 ":7:5: key 'ota[1].port': port 8082 differs from port 1000 of ota[0] at "
                 "line 5: every 'platform: esphome' entry must use the same port");
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "    password: hunter2\n"
                      "  - platform: esphome\n"
                      "    password: hunter3\n",
                 ":8:15: key 'ota[1].password': differs from the password of ota[0] at line "
                 "6: merged entries must agree");
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "  - platform: esphome\n"
                      "    version: 1\n",
                 ":7:14: key 'ota[1].version': version 1 differs from version 2 of ota[0] at "
                 "line 5: merged entries must agree");
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "    id: a\n"
                      "  - platform: esphome\n"
                      "    id: b\n",
                 ":8:9: key 'ota[1].id': ota[0] on the same port already has the id 'a': "
                 "merged entries may have one id");
    expect_error(BASE "ota:\n"
                      "  - platform: esphome\n"
                      "  - platform: esphome\n"
                      "    allow_md5_auth: true\n",
                 ":7:21: key 'ota[1].allow_md5_auth': differs from ota[0] at line 5: merged "
                 "entries must agree");
}


/* Keys that moved to safe_mode: are named so, in both kinds of entry. */
static void test_ota_moved_keys(void **state)
{
    (void)state;
    expect_error(BASE "ota:\n  - platform: esphome\n    num_attempts: 3\n",
                 ":6:5: key 'ota[0].num_attempts': unknown key (moved to the 'safe_mode:' "
                 "block in ESPHome 2024.6); accepted keys: platform, password, port, id, "
                 "version, allow_md5_auth, encryption, on_begin, on_progress, on_end, on_abort, on_error, "
                 "on_state_change, signature, progress_floor, progress_window");
    expect_error(BASE "ota:\n  - platform: web_server\n    safe_mode: true\n",
                 ":6:5: key 'ota[0].safe_mode': unknown key (moved to the 'safe_mode:' block "
                 "in ESPHome 2024.6); accepted keys: platform");
    /* only at the entry's own level */
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      then: []\n"
                      "      reboot_timeout: 1s\n",
                 ":8:7: key 'ota[0].on_end.reboot_timeout': unknown key; accepted keys: then, "
                 "trigger_id, automation_id");
}

/* A password shared by a YAML alias is never quoted in an error, wherever
 * the alias puts it; the progress floor's keys are read and checked. */
static void test_ota_alias_secret_and_progress(void **state)
{
    (void)state;
    expect_error(BASE "ota:\n  - platform: esphome\n    password: &pw S3cret\n    port: *pw\n",
                 ":6:15: key 'ota[0].port': expected an integer from 1 to 65535, got <hidden>");
    expect_error(BASE "web_server:\n  auth:\n    username: a\n    password: &wp W3bPass\n"
                      "ota:\n  - platform: esphome\n    version: *wp\n",
                 ":7:15: key 'ota[0].version': expected an integer from 1 to 2, got <hidden>");
    /* an unshared value is still quoted */
    expect_error(BASE "ota:\n  - platform: esphome\n    port: abc\n",
                 ":6:11: key 'ota[0].port': expected an integer from 1 to 65535, got 'abc'");
    expect_error(BASE "ota:\n  - platform: esphome\n    progress_window: fast\n",
                 ":6:22: key 'ota[0].progress_window': expected a time period such as '30s', "
                 "'5min' or '100ms', got 'fast' (not a time period)");
    eota_config cfg;
    load_ok(BASE "ota:\n  - platform: esphome\n    progress_floor: 2KB\n    progress_window: 90s\n", &cfg);
    assert_int_equal(cfg.ota.progress_floor_bytes, 2000);
    assert_int_equal(cfg.ota.progress_window_ms, 90000);
    eota_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ota_entry_keys, cfg_test_setup),
        cmocka_unit_test_setup(test_ota_web_server_and_empty_password, cfg_test_setup),
        cmocka_unit_test_setup(test_ota_merge, cfg_test_setup),
        cmocka_unit_test_setup(test_ota_merge_errors, cfg_test_setup),
        cmocka_unit_test_setup(test_ota_moved_keys, cfg_test_setup),
        cmocka_unit_test_setup(test_ota_alias_secret_and_progress, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
