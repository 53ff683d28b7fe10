/*
 * test_config_actions.c: automations and actions (src/app/config/
 * automations.c and actions.c): a trigger's value in each of ESPHome's
 * forms, each action short and long, and every message for a wrong one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config_fixture.h"

static void test_on_boot_forms(void **state)
{
    (void)state;
    eota_config cfg;
    /* {priority, then} */
    load_ok("esphome:\n"
            "  name: dev\n"
            "  on_boot:\n"
            "    priority: 600.5\n"
            "    then:\n"
            "      - ota.set_auth_password:\n"
            "          id: my_ota\n"
            "          password: newpass\n"
            "      - logger.log: booted\n"
            "host:\n"
            "ota:\n"
            "  - platform: esphome\n"
            "    id: my_ota\n",
            &cfg);
    assert_true(cfg.on_boot.has_priority);
    assert_true(cfg.on_boot.priority > 600.4 && cfg.on_boot.priority < 600.6);
    assert_int_equal(cfg.on_boot.count, 2);
    eota_action *a = &cfg.on_boot.actions[0];
    assert_int_equal(a->type, EOTA_ACTION_SET_AUTH_PASSWORD);
    assert_string_equal(a->id, "my_ota");
    assert_string_equal(a->password, "newpass");
    assert_int_equal(a->line, 6);
    assert_int_equal(a->column, 9);
    assert_int_equal(cfg.on_boot.actions[1].type, EOTA_ACTION_LOGGER_LOG);
    assert_string_equal(cfg.on_boot.actions[1].format, "booted");
    eota_config_free(&cfg);

    /* a single action; the flow form; an empty password */
    load_ok("esphome:\n"
            "  name: dev\n"
            "  on_boot:\n"
            "    ota.set_auth_password: {id: o, password: \"\"}\n"
            "host:\n"
            "ota:\n"
            "  - platform: esphome\n"
            "    id: o\n",
            &cfg);
    assert_false(cfg.on_boot.has_priority);
    assert_int_equal(cfg.on_boot.count, 1);
    assert_string_equal(cfg.on_boot.actions[0].password, "");
    eota_config_free(&cfg);

    /* a list of automations, each with then: */
    load_ok("esphome:\n"
            "  name: dev\n"
            "  on_boot:\n"
            "    - priority: -100\n"
            "      then:\n"
            "        - logger.log: one\n"
            "    - then:\n"
            "        logger.log: two\n"
            "host:\n",
            &cfg);
    assert_true(cfg.on_boot.has_priority);
    assert_true(cfg.on_boot.priority < -99.9 && cfg.on_boot.priority > -100.1);
    assert_int_equal(cfg.on_boot.count, 2);
    assert_string_equal(cfg.on_boot.actions[0].format, "one");
    assert_string_equal(cfg.on_boot.actions[1].format, "two");
    eota_config_free(&cfg);
}


static void test_action_errors(void **state)
{
    (void)state;
    expect_error("esphome:\n  name: dev\n  on_boot:\n    - lambda: |-\n        id(o).set_auth_"
                 "password(\"x\");\nhost:\n",
                 ":4:7: key 'esphome.on_boot[0].lambda': lambdas are not supported (eota runs "
                 "no C++ code); to change the OTA password use the action "
                 "'ota.set_auth_password: {id: ..., password: ...}' instead");
    expect_error("esphome:\n  name: dev\n  on_boot:\n    then:\n      lambda: x\nhost:\n",
                 ":5:7: key 'esphome.on_boot.then.lambda': lambdas are not supported (eota "
                 "runs no C++ code); to change the OTA password use the action "
                 "'ota.set_auth_password: {id: ..., password: ...}' instead");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - lambda: x\n",
                 ":7:9: key 'ota[0].on_end[0].lambda': lambdas are not supported (eota runs no "
                 "C++ code); to change the OTA password use the action "
                 "'ota.set_auth_password: {id: ..., password: ...}' instead");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - delay: 1s\n",
                 ":7:9: key 'ota[0].on_end[0].delay': unknown action; supported actions: "
                 "logger.log, shell, ota.set_auth_password, ota.http_request.flash");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      logger.log: a\n"
                      "      shell: b\n",
                 ":8:7: key 'ota[0].on_end.shell': an action is a mapping with one key "
                 "('logger.log' is already the action here); start each action with '-'");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end: reboot\n",
                 ":6:13: key 'ota[0].on_end': expected an action or a list of actions, got "
                 "'reboot'");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - reboot\n",
                 ":7:9: key 'ota[0].on_end[0]': expected an action (such as 'logger.log: "
                 "\"text\"'), got 'reboot'");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - {}\n",
                 ":7:9: key 'ota[0].on_end[0]': expected an action, got an empty mapping");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - logger.log: [a]\n",
                 ":7:21: key 'ota[0].on_end[0].logger.log': expected a text or a mapping with "
                 "'format:', got a list");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - logger.log:\n"
                      "          args: [x]\n",
                 ":8:11: key 'ota[0].on_end[0].logger.log.format': required key missing");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - logger.log:\n"
                      "          format: a\n          args: x\n",
                 ":9:17: key 'ota[0].on_end[0].logger.log.args': expected a list of "
                 "expressions such as [x], got 'x'");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - logger.log:\n"
                      "          format: a\n          level: LOUD\n",
                 ":9:18: key 'ota[0].on_end[0].logger.log.level': expected a log level (NONE, "
                 "ERROR, WARN, INFO, CONFIG, DEBUG, VERBOSE or VERY_VERBOSE), got 'LOUD'");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - logger.log:\n"
                      "          format: a\n          color: red\n",
                 ":9:11: key 'ota[0].on_end[0].logger.log.color': unknown key; accepted keys: "
                 "format, args, level, tag");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - shell: {timeout: 1s}\n",
                 ":7:16: key 'ota[0].on_end[0].shell.command': required key missing");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - shell:\n"
                      "          command: x\n          timeout: 0s\n",
                 ":9:20: key 'ota[0].on_end[0].shell.timeout': expected a time period longer "
                 "than 0, got '0s'");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      - shell: \"\"\n",
                 ":7:16: key 'ota[0].on_end[0].shell': expected a non-empty string, got ''");
    expect_error(BASE "ota:\n  - platform: esphome\n    on_end:\n      then: [a]\n      "
                      "priority: 1\n",
                 ":8:7: key 'ota[0].on_end.priority': unknown key; accepted keys: then, "
                 "trigger_id, automation_id");
    expect_error("esphome:\n  name: dev\n  on_boot:\n    priority: high\n    then: []\nhost:\n",
                 ":4:15: key 'esphome.on_boot.priority': expected a number, got 'high'");
    expect_error("esphome:\n  name: dev\n  on_boot:\n    - ota.set_auth_password:\n"
                 "        id: nowhere\n        password: x\nhost:\nota:\n"
                 "  - platform: esphome\n    id: my_ota\n",
                 ":5:13: key 'esphome.on_boot[0].ota.set_auth_password.id': no 'ota:' entry "
                 "with 'platform: esphome' has the id 'nowhere'");
    expect_error("esphome:\n  name: dev\n  on_boot:\n    - ota.set_auth_password:\n"
                 "        id: o\nhost:\nota:\n  - platform: esphome\n    id: o\n",
                 ":5:9: key 'esphome.on_boot[0].ota.set_auth_password.password': required key "
                 "missing");
    expect_error("esphome:\n  name: dev\n  on_boot:\n    - ota.set_auth_password: o\nhost:\n",
                 ":4:30: key 'esphome.on_boot[0].ota.set_auth_password': expected a mapping "
                 "with 'id:' and 'password:', got 'o'");
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_on_boot_forms, cfg_test_setup),
        cmocka_unit_test_setup(test_action_errors, cfg_test_setup),
    };
    return cmocka_run_group_tests(tests, cfg_group_setup, cfg_group_teardown);
}
